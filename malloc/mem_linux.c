// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2010 The Go Authors.

// The OS memory interface on Linux (Go's mem_linux.c): mmap, madvise and
// munmap. See malloc.h for what each call promises.
//
// One deliberate difference from Go. On 64-bit, Go's SysReserve only
// probes 64 KB at the wanted address and assumes the rest is free, so
// that users with `ulimit -v` can run. gort lives in a C process whose
// other allocators map memory too, so it truly reserves the whole range
// (PROT_NONE, MAP_NORESERVE: no commit charge) and SysMap commits inside
// that reservation. Nothing else can then land in the arena. The
// reservation still counts against `ulimit -v`; GORT_ARENA_MAX makes it
// (and the heap) smaller (malloc.c, arenamax). When the arena is full,
// MHeap_Grow reports Go's "out of memory"; when the OS refuses to commit
// pages (ENOMEM), SysMap throws "runtime: out of memory", as Go 1.3 does.

#include <errno.h>
#include <sys/mman.h>

#include "malloc.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void
mmapfailed(const char *what, int err)
{
	if(err == EACCES) {
		runtime_printf("runtime: mmap: access denied\n");
		runtime_printf("if you're running SELinux, enable execmem for this process.\n");
		runtime_throw("runtime: cannot map memory");
	}
	if(err == EAGAIN) {
		runtime_printf("runtime: mmap: too much locked memory (check 'ulimit -l').\n");
		runtime_throw("runtime: cannot map memory");
	}
	USED(what);
}

void*
runtime_SysAlloc(uintptr n, uint64 *stat)
{
	void *p;

	p = mmap(nil, n, PROT_READ|PROT_WRITE, MAP_ANON|MAP_PRIVATE, -1, 0);
	if(p == MAP_FAILED) {
		mmapfailed("SysAlloc", errno);
		return nil;
	}
	runtime_xadd64(stat, n);
	return p;
}

void
runtime_SysUnused(void *v, uintptr n)
{
	madvise(v, n, MADV_DONTNEED);
}

void
runtime_SysUsed(void *v, uintptr n)
{
	// Linux refaults released pages as zeros on touch: nothing to do.
	USED(v);
	USED(n);
}

void
runtime_SysFree(void *v, uintptr n, uint64 *stat)
{
	runtime_xadd64(stat, -(int64)n);
	munmap(v, n);
}

void
runtime_SysFault(void *v, uintptr n, uint64 *stat)
{
	void *p;

	// Replace the pages with an inaccessible, uncommitted mapping: the
	// memory goes back to the OS, the address range stays ours, and any
	// later touch faults.
	runtime_xadd64(stat, -(int64)n);
	p = mmap(v, n, PROT_NONE, MAP_ANON|MAP_PRIVATE|MAP_FIXED|MAP_NORESERVE, -1, 0);
	if(p != v)
		runtime_throw("runtime: cannot fault pages in arena address space");
}

void*
runtime_SysReserve(void *v, uintptr n)
{
	void *p;
	int flags;

	flags = MAP_ANON|MAP_PRIVATE|MAP_NORESERVE;
	if(v != nil)
		flags |= MAP_FIXED_NOREPLACE;
	p = mmap(v, n, PROT_NONE, flags, -1, 0);
	if(p == MAP_FAILED)
		return nil;
	if(v != nil && p != v) {
		// A kernel older than 4.17 treats NOREPLACE as a hint.
		munmap(p, n);
		return nil;
	}
	return p;
}

void
runtime_SysMap(void *v, uintptr n, uint64 *stat)
{
	void *p;

	runtime_xadd64(stat, n);
	p = mmap(v, n, PROT_READ|PROT_WRITE, MAP_ANON|MAP_FIXED|MAP_PRIVATE, -1, 0);
	if(p == MAP_FAILED && errno == ENOMEM)
		runtime_throw("runtime: out of memory");
	if(p != v)
		runtime_throw("runtime: cannot map pages in arena address space");
}
