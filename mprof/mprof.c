// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Memory profiler (Go's mprof.goc).
//
// STATUS. The profiler lands with the mprof/ issue. Until then
// runtime_MemProfileRate is 0, so no allocation reaches MProf_Malloc, and
// every public entry point fails loudly. GODEBUG=allocfreetrace=1 works
// already, without the stack trace Go prints after each line (that needs
// the profiler's stack capture).

#include "gort.h"
#include "malloc.h"

void
runtime_MProf_Malloc(void *p, uintptr size, uintptr typ)
{
	USED(p);
	USED(size);
	USED(typ);
	runtime_notimplemented("runtime_MProf_Malloc (GODEBUG=allocfreetrace, MemProfileRate)");
}

void
runtime_MProf_Free(Bucket *b, void *p, uintptr size, bool freed)
{
	USED(b);
	USED(p);
	USED(size);
	USED(freed);
	runtime_notimplemented("runtime_MProf_Free");
}

GORT_API int
gort_set_mem_profile_rate(int rate)
{
	USED(rate);
	runtime_notimplemented("gort_set_mem_profile_rate");
}

GORT_API int
gort_mem_profile(GortMemProfileRecord *r, int n, bool inuse_zero)
{
	USED(r);
	USED(n);
	USED(inuse_zero);
	runtime_notimplemented("gort_mem_profile");
}

GORT_API int
gort_write_heap_profile(FILE *f)
{
	USED(f);
	runtime_notimplemented("gort_write_heap_profile");
}

// GODEBUG=allocfreetrace=1: one line per allocation, free and collection,
// in Go's format.
void
runtime_tracealloc(void *p, uintptr size, uintptr typ)
{
	const GortType *t;

	t = (const GortType*)(typ & ~(uintptr)(PtrSize-1));
	if(t != nil && t->name != nil)
		runtime_printf("tracealloc(%p, %#llx, %s)\n", p, (unsigned long long)size, t->name);
	else
		runtime_printf("tracealloc(%p, %#llx)\n", p, (unsigned long long)size);
}

void
runtime_tracefree(void *p, uintptr size)
{
	runtime_printf("tracefree(%p, %#llx)\n", p, (unsigned long long)size);
}

void
runtime_tracegc(void)
{
	runtime_printf("tracegc()\n");
}
