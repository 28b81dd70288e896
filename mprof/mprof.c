// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Memory profiler (Go's mprof.goc).
//
// STATUS. The profiler lands with the mprof/ issue. Until then
// runtime_MemProfileRate is 0, so no allocation reaches MProf_Malloc, and
// every public entry point fails loudly.

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
