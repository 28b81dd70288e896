// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Fixed-size object allocator (Go's mfixalloc.c). Returned memory is not
// zeroed. See malloc.h for the overview and the locking rule (the caller
// locks).

#include "malloc.h"

void
FixAlloc_Init(FixAlloc *f, uintptr size, void (*first)(void*, byte*), void *arg, uint64 *stat)
{
	f->size = size;
	f->first = first;
	f->arg = arg;
	f->list = nil;
	f->chunk = nil;
	f->nchunk = 0;
	f->inuse = 0;
	f->stat = stat;
}

void*
FixAlloc_Alloc(FixAlloc *f)
{
	void *v;

	if(f->size == 0) {
		runtime_printf("runtime: use of FixAlloc_Alloc before FixAlloc_Init\n");
		runtime_throw("runtime: internal error");
	}

	if(f->list != nil) {
		v = f->list;
		f->list = f->list->next;
		f->inuse += f->size;
		return v;
	}
	if(f->nchunk < f->size) {
		// The tail of the old chunk (less than one record) is lost.
		f->chunk = runtime_persistentalloc(FixAllocChunk, 0, f->stat);
		f->nchunk = FixAllocChunk;
	}
	v = f->chunk;
	if(f->first != nil)
		f->first(f->arg, v);
	f->chunk += f->size;
	f->nchunk -= f->size;
	f->inuse += f->size;
	return v;
}

void
FixAlloc_Free(FixAlloc *f, void *p)
{
	MLink *l;

	f->inuse -= f->size;
	l = p;
	l->next = f->list;
	f->list = l;
}
