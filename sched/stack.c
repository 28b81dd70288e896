// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// Goroutine stacks (Go's stack.c, for C code).
//
// C code has no stack checks to grow a segmented or copied stack, so a
// goroutine gets one mmap'd stack for life, with a PROT_NONE guard page
// below it: running off the end faults instead of corrupting a
// neighbour. StackSys counts the committed-on-demand bytes mapped for
// stacks, StackInuse those in use. (The per-M stack cache of Go lands
// with the scheduler.)

#include <sys/mman.h>

#include "malloc.h"

enum
{
	StackGuardPage = 4096,
};

// A stack of n usable bytes (n a multiple of the OS page); returns its
// lowest usable address.
void*
runtime_stackalloc(uintptr n)
{
	byte *p;

	if(n == 0 || (n & (StackGuardPage-1)) != 0)
		runtime_throw("stackalloc: bad size");
	p = mmap(nil, n + StackGuardPage, PROT_READ|PROT_WRITE,
		MAP_ANON|MAP_PRIVATE|MAP_NORESERVE|MAP_STACK, -1, 0);
	if(p == MAP_FAILED)
		runtime_throw("runtime: cannot allocate goroutine stack");
	if(mprotect(p, StackGuardPage, PROT_NONE) != 0)
		runtime_throw("runtime: cannot protect stack guard page");
	runtime_xadd64(&mstats.stacks_sys, n);
	runtime_xadd64(&mstats.stacks_inuse, n);
	return p + StackGuardPage;
}

void
runtime_stackfree(void *v, uintptr n)
{
	runtime_xadd64(&mstats.stacks_inuse, -(int64)n);
	runtime_xadd64(&mstats.stacks_sys, -(int64)n);
	munmap((byte*)v - StackGuardPage, n + StackGuardPage);
}
