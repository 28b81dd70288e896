// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Per-P cache of small objects (Go's mcache.c), used by the M that holds the P.
// See malloc.h for the overview. Only the owning M touches its cache, or,
// with the world stopped, the collector and its GC helpers
// (runtime_helpgc lends idle helpers a P's cache; flushallmcaches,
// cachestats).

#include "malloc.h"

void
MCache_Refill(MCache *c, int32 spc)
{
	MCacheList *l;
	byte *fresh;
	int32 n;

	// Take a span's worth of objects from the central list.
	l = &c->list[spc];
	if(l->list != nil || l->fresh != l->freshend)
		runtime_throw("MCache_Refill: the list is not empty");
	n = MCentral_AllocList(&runtime_mheap.central[spc].mcentral, &l->list, &fresh);
	if(n == 0)
		runtime_throw("out of memory");
	if(fresh != nil) {
		// A new span, whole: taken in order by mallocgc.
		l->fresh = fresh;
		l->freshend = fresh + (uintptr)n*runtime_class_to_size[spc>>1];
	} else
		l->nlist = n;
}

// Give the blocks left in l's fresh region back to their span, as a list.
static void
ReleaseFresh(MCacheList *l, int32 spc)
{
	MLink *first, **tailp;
	uintptr size;
	byte *p;

	// Linked from the top down: MCentral_FreeList pushes each block on
	// its span's list, which so ends in address order.
	size = runtime_class_to_size[spc>>1];
	first = nil;
	tailp = &first;
	for(p = l->freshend; p > l->fresh; ) {
		p -= size;
		*tailp = (MLink*)p;
		tailp = &((MLink*)p)->next;
	}
	*tailp = nil;
	l->fresh = l->freshend = nil;
	if(first != nil)
		MCentral_FreeList(&runtime_mheap.central[spc].mcentral, first);
}

// Take n elements off l and return them to the central free list.
static void
ReleaseN(MCacheList *l, int32 n, int32 spc)
{
	MLink *first, **lp;
	int32 i;

	first = l->list;
	lp = &l->list;
	for(i = 0; i < n; i++)
		lp = &(*lp)->next;
	l->list = *lp;
	*lp = nil;
	l->nlist -= n;

	MCentral_FreeList(&runtime_mheap.central[spc].mcentral, first);
}

void
MCache_Free(MCache *c, void *v, int32 spc, uintptr size)
{
	MCacheList *l;
	MLink *p;

	l = &c->list[spc];
	p = v;
	p->next = l->list;
	l->list = p;
	l->nlist++;
	c->local_cachealloc -= size;

	// Refills bring a span's worth; holding two spans' worth is too
	// much, so give half back.
	if(l->nlist >= 2*(runtime_class_to_allocnpages[spc>>1]<<PageShift)/size)
		ReleaseN(l, l->nlist/2, spc);
}

void
MCache_ReleaseAll(MCache *c)
{
	int32 i;
	MCacheList *l;

	for(i = 0; i < NumSpanClasses; i++) {
		l = &c->list[i];
		if(l->list != nil) {
			MCentral_FreeList(&runtime_mheap.central[i].mcentral, l->list);
			l->list = nil;
			l->nlist = 0;
		}
		if(l->fresh != l->freshend)
			ReleaseFresh(l, i);
	}
	// The tiny block stays allocated (it may hold live objects); only
	// forget it, as a fresh cache would.
	c->tiny = nil;
	c->tinysize = 0;
}
