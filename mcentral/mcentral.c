// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Central free lists (Go's mcentral.c, at 3c3be622).
//
// See malloc.h for the overview.
//
// The MCentral does not hold the free objects; the MSpans do. An MCentral
// is two span lists: nonempty (spans with free objects) and empty (spans
// with none, or handed whole to an MCache). Handing out a span makes it
// "empty" however many objects the cache has not used yet; they come back
// one by one through MCentral_FreeList.
//
// Lazy sweeping. After a collection, spans still to be swept have
// sweepgen == mheap.sweepgen−2. AllocList sweeps spans of its own class
// (claiming each by CAS to sg−1) before it grows the heap, so that memory
// freed by the last collection is reused first. Swept spans are kept at
// the back of empty: the scan of empty can stop at the first swept span.
//
// Lock order (enum LockRank): c->lock ranks below settype_lock and a
// span's specialLock and above the heap's lock, but is dropped around
// MHeap_Alloc/MHeap_Free and around MSpan_Sweep all the same, so that
// the heap lock and sweeping never wait on a size class.

#include "malloc.h"

static bool MCentral_Grow(MCentral *c, bool fresh);
static void MCentral_Free(MCentral *c, void *v);

void
MCentral_Init(MCentral *c, int32 spc)
{
	runtime_lockinit(&c->lock, LockRankMCentral);
	c->sizeclass = spc>>1;
	c->noscan = spc&1;
	MSpanList_Init(&c->nonempty);
	MSpanList_Init(&c->empty);
}

// Allocate a list of objects from the central free list: all the free
// objects of one span, linked through their first words. Returns their
// number and sets *pfirst, or returns 0 if the heap is exhausted. With
// pfresh, a new span is not carved: *pfirst is nil and *pfresh its first
// block, all of its blocks handed out (ref = cap) and zero; the caller
// takes them in order and returns the rest as a list (MCache_Refill).
int32
MCentral_AllocList(MCentral *c, MLink **pfirst, byte **pfresh)
{
	MSpan *s;
	int32 cap, n;
	uint32 sg;

	runtime_lock(&c->lock);
	sg = runtime_atomicload(&runtime_mheap.sweepgen);
retry:
	for(s = c->nonempty.next; s != &c->nonempty; s = s->next) {
		if(s->sweepgen == sg-2 && runtime_cas(&s->sweepgen, sg-2, sg-1)) {
			runtime_unlock(&c->lock);
			MSpan_Sweep(s);
			runtime_lock(&c->lock);
			// The span may have gone back to the heap: start over.
			goto retry;
		}
		if(s->sweepgen == sg-1) {
			// The background sweeper has it: skip.
			continue;
		}
		// A swept span with free objects.
		goto havespan;
	}

	for(s = c->empty.next; s != &c->empty; s = s->next) {
		if(s->sweepgen == sg-2 && runtime_cas(&s->sweepgen, sg-2, sg-1)) {
			// An unswept empty span: sweeping may free some of it.
			MSpanList_Remove(s);
			MSpanList_InsertBack(&c->empty, s);	// swept spans at the back
			runtime_unlock(&c->lock);
			MSpan_Sweep(s);
			runtime_lock(&c->lock);
			// It may now be on nonempty, or back in the heap.
			goto retry;
		}
		if(s->sweepgen == sg-1)
			continue;
		// A swept empty span: all the rest are swept or being swept.
		break;
	}

	// Nothing to reuse: a new span.
	if(pfresh != nil)
		*pfresh = nil;
	if(!MCentral_Grow(c, pfresh != nil)) {
		runtime_unlock(&c->lock);
		*pfirst = nil;
		return 0;
	}
	s = c->nonempty.next;
	if(pfresh != nil) {
		*pfresh = (byte*)(s->start << PageShift);
		*pfirst = nil;
		n = (s->npages << PageShift) / s->elemsize;
		s->ref = n;
		c->nfree -= n;
		MSpanList_Remove(s);
		MSpanList_InsertBack(&c->empty, s);
		runtime_unlock(&c->lock);
		return n;
	}

havespan:
	if(pfresh != nil)
		*pfresh = nil;
	cap = (s->npages << PageShift) / s->elemsize;
	n = cap - s->ref;
	*pfirst = s->freelist;
	s->freelist = nil;
	s->ref += n;
	c->nfree -= n;
	MSpanList_Remove(s);
	MSpanList_InsertBack(&c->empty, s);
	runtime_unlock(&c->lock);
	return n;
}

// Free a list of objects back into the central free list.
void
MCentral_FreeList(MCentral *c, MLink *start)
{
	MLink *next;

	runtime_lock(&c->lock);
	for(; start != nil; start = next) {
		next = start->next;
		MCentral_Free(c, start);
	}
	runtime_unlock(&c->lock);
}

// Free one object. c locked.
static void
MCentral_Free(MCentral *c, void *v)
{
	MSpan *s;
	MLink *p;
	int32 size;

	s = MHeap_Lookup(&runtime_mheap, v);
	if(s == nil || s->ref == 0)
		runtime_throw("invalid free");

	// A span that gets a free object moves to nonempty.
	if(s->freelist == nil) {
		MSpanList_Remove(s);
		MSpanList_Insert(&c->nonempty, s);
	}

	p = v;
	p->next = s->freelist;
	s->freelist = p;
	c->nfree++;

	// A span with no objects left goes back to the heap.
	if(--s->ref == 0) {
		size = runtime_class_to_size[c->sizeclass];
		MSpanList_Remove(s);
		runtime_unmarkspan((byte*)(s->start<<PageShift), s->npages<<PageShift);
		*(uintptr*)(s->start<<PageShift) = 1;	// needs zeroing
		s->freelist = nil;
		c->nfree -= (s->npages << PageShift) / size;
		runtime_unlock(&c->lock);
		MHeap_Free(&runtime_mheap, s, 0);
		runtime_lock(&c->lock);
	}
}

// Free n objects [start..end] of span s into c. Called by the sweeper,
// which owns s (sweepgen). Returns true if s went back to the heap.
// start == nil: the sweeper found every object of s dead and built no
// list (sweepdead); n is then s->ref, and s goes back to the heap.
bool
MCentral_FreeSpan(MCentral *c, MSpan *s, int32 n, MLink *start, MLink *end)
{
	int32 size;

	runtime_lock(&c->lock);

	if(start == nil) {
		// s is still unswept (sweepgen sg-1), so no P allocates
		// from it meanwhile: its blocks handed out are the n dead ones.
		if(n != s->ref)
			runtime_throw("MCentral_FreeSpan: span not dead");
	} else {
		if(s->freelist == nil) {
			MSpanList_Remove(s);
			MSpanList_Insert(&c->nonempty, s);
		}
		end->next = s->freelist;
		s->freelist = start;
	}
	s->ref -= n;
	c->nfree += n;

	if(s->ref != 0) {
		runtime_unlock(&c->lock);
		return false;
	}

	// Every object is free: the span goes back to the heap.
	if(start == nil)
		runtime_atomicstore(&s->sweepgen, runtime_mheap.sweepgen);	// swept, off the lists
	size = runtime_class_to_size[c->sizeclass];
	MSpanList_Remove(s);
	*(uintptr*)(s->start<<PageShift) = 1;	// needs zeroing
	s->freelist = nil;
	c->nfree -= (s->npages << PageShift) / size;
	runtime_unlock(&c->lock);
	runtime_unmarkspan((byte*)(s->start<<PageShift), s->npages<<PageShift);
	MHeap_Free(&runtime_mheap, s, 0);
	return true;
}

void
MGetSizeClassInfo(int32 sizeclass, uintptr *sizep, int32 *npagesp, int32 *nobj)
{
	int32 size, npages;

	npages = runtime_class_to_allocnpages[sizeclass];
	size = runtime_class_to_size[sizeclass];
	*npagesp = npages;
	*sizep = size;
	*nobj = (npages << PageShift) / size;
}

// Fetch a new span from the heap and carve it into objects (unless
// fresh: the caller takes it whole, zeroed, with no list). c locked on
// entry and exit, unlocked in between.
static bool
MCentral_Grow(MCentral *c, bool fresh)
{
	int32 i, n, npages;
	uintptr size;
	MLink **tailp, *v;
	byte *p;
	MSpan *s;

	runtime_unlock(&c->lock);
	MGetSizeClassInfo(c->sizeclass, &size, &npages, &n);
	s = MHeap_Alloc(&runtime_mheap, npages, c->sizeclass, 0, 1);
	if(s == nil) {
		runtime_lock(&c->lock);
		return false;
	}
	s->noscan = c->noscan;

	// Carve the span into a list of blocks, in address order.
	tailp = &s->freelist;
	p = (byte*)(s->start << PageShift);
	s->limit = p + size*n;
	for(i = 0; i < n && !fresh; i++) {
		v = (MLink*)p;
		*tailp = v;
		tailp = &v->next;
		p += size;
	}
	*tailp = nil;
	runtime_markspan((byte*)(s->start<<PageShift), size, n, size*n < (s->npages<<PageShift), s->noscan);

	runtime_lock(&c->lock);
	c->nfree += n;
	MSpanList_Insert(&c->nonempty, s);
	return true;
}
