// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// Goroutine stacks (Go's stack.c, for C code).
//
// C has no stack checks to grow a segmented or copied stack, so a
// goroutine gets one fixed stack for life (64 KB by default,
// GORT_STACKSIZE to change; the main goroutine gets 1 MB), kept with its
// G when the goroutine exits and reused by the next one (Go's gfree list
// is gort's stack cache). StackSys counts the bytes mapped for stacks,
// StackInuse those handed out.
//
// Guard pages. A stack normally has a PROT_NONE page below it, so that
// running off its end faults (signal.c reports "stack overflow") instead
// of corrupting a neighbour. Each guarded stack costs the process two
// memory mappings, and Linux caps them (vm.max_map_count, 65530 by
// default): past half of that, guarded stacks would make every mmap in
// the process fail. So gort guards stacks while the budget lasts and then
// carves further stacks, unguarded, from 4 MB chunks (one mapping each),
// saying so once on stderr. Raise vm.max_map_count to keep every stack
// guarded.

#include <stdio.h>
#include <sys/mman.h>

#include "malloc.h"

enum
{
	StackChunk = 4<<20,
	MapsReserved = 8192,	// mappings left for everything else in the process
};

static Lock stacklock = LOCK_INIT(LockRankStack);
static int64 guardbudget = -1;	// guarded stacks we may still create; stacklock
static byte *chunk;		// unguarded stacks: current chunk; stacklock
static uintptr nchunk;		// stacklock
static bool warned;		// stacklock

static int64
readmaxmaps(void)
{
	FILE *f;
	long long n;

	n = 65530;
	f = fopen("/proc/sys/vm/max_map_count", "r");
	if(f != nil) {
		if(fscanf(f, "%lld", &n) != 1)
			n = 65530;
		fclose(f);
	}
	return n;
}

// A stack of n usable bytes (n a multiple of the OS page); returns its
// lowest usable address.
void*
runtime_stackalloc(uintptr n)
{
	byte *p;
	bool guard;

	if(n == 0 || (n & (StackGuardPage-1)) != 0)
		runtime_throw("stackalloc: bad size");
	runtime_lock(&stacklock);
	if(guardbudget < 0) {
		guardbudget = (readmaxmaps() - MapsReserved) / 2;
		if(guardbudget < 0)
			guardbudget = 0;
	}
	guard = guardbudget > 0;
	if(guard)
		guardbudget--;
	if(!guard && !warned) {
		warned = true;
		runtime_printf("runtime: vm.max_map_count allows guard pages on no more goroutine stacks; "
			"further stacks have none (raise vm.max_map_count)\n");
	}
	if(!guard && n <= StackChunk/4) {
		if(nchunk < n) {
			chunk = mmap(nil, StackChunk, PROT_READ|PROT_WRITE,
				MAP_ANON|MAP_PRIVATE|MAP_NORESERVE|MAP_STACK, -1, 0);
			if(chunk == MAP_FAILED)
				runtime_throw("runtime: cannot allocate goroutine stack");
			nchunk = StackChunk;
			runtime_xadd64(&mstats.stacks_sys, StackChunk);
		}
		p = chunk;
		chunk += n;
		nchunk -= n;
		runtime_unlock(&stacklock);
		runtime_xadd64(&mstats.stacks_inuse, n);
		return p;
	}
	runtime_unlock(&stacklock);

	p = mmap(nil, n + StackGuardPage, PROT_READ|PROT_WRITE,
		MAP_ANON|MAP_PRIVATE|MAP_NORESERVE|MAP_STACK, -1, 0);
	if(p == MAP_FAILED)
		runtime_throw("runtime: cannot allocate goroutine stack");
	if(guard && mprotect(p, StackGuardPage, PROT_NONE) != 0)
		runtime_throw("runtime: cannot protect stack guard page");
	runtime_xadd64(&mstats.stacks_sys, n);
	runtime_xadd64(&mstats.stacks_inuse, n);
	return p + StackGuardPage;
}

