// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Page heap (Go's mheap.c, at 3c3be622).
//
// See malloc.h for the overview.
//
// When an MSpan is in the heap free lists, state == MSpanFree and
// spans[first page] == spans[last page] == span; the entries in between
// may be stale. When an MSpan is allocated, state == MSpanInUse and
// spans[p] == span for every page p of it (the collector maps interior
// pointers through them).
//
// Free spans are kept on free[npages] (npages < 128) or freelarge, newest
// first; allocation takes the first span of the smallest list that fits,
// else the best fit (fewest pages, then lowest address) from freelarge.
// Freeing coalesces with both neighbours when they are free. Large-object
// spans in use sit on busy[npages]/busylarge (swept ones at the back) so
// that, after a collection, MHeap_Reclaim can sweep large objects first.
//
// Idle spans carry the time they became free; the scavenger madvises
// away those idle for more than five minutes (HeapReleased).
//
// Locking. The free and busy lists, the spans map's entries, allspans and
// the heap statistics change only under h->lock: MHeap_Alloc, MHeap_Free,
// the scavenger and runtime_freeOSMemoryRelease take it, and MSpan_Init
// runs under it. MHeap_Reclaim drops it around each sweep, and
// MHeap_Alloc zeroes a span after dropping it. Not under it:
// MHeap_Lookup and MHeap_LookupMaybe read the spans map without a lock
// (an in-use span's entries are fixed until it is freed); the MSpanList
// helpers run under the lock of the list they change (an MCentral's lists
// are its own lock's); MHeap_Init runs at boot; and the specials have
// their own locks (span->specialLock, h->speciallock).

#include "malloc.h"

static MSpan*	MHeap_AllocLocked(MHeap*, uintptr, int32);
static bool	MHeap_Grow(MHeap*, uintptr);
static void	MHeap_FreeLocked(MHeap*, MSpan*);
static MSpan*	MHeap_AllocLarge(MHeap*, uintptr);
static MSpan*	BestFit(MSpan*, uintptr, MSpan*);

// FixAlloc's first-use hook for MSpan records: remember every span ever
// made in allspans, which the collector walks.
static void
RecordSpan(void *vh, byte *p)
{
	MHeap *h;
	MSpan *s;
	MSpan **all;
	uint32 cap;

	h = vh;
	s = (MSpan*)p;
	if(h->nspan >= h->nspancap) {
		cap = 64*1024/sizeof(all[0]);
		if(cap < h->nspancap*3/2)
			cap = h->nspancap*3/2;
		all = (MSpan**)runtime_SysAlloc(cap*sizeof(all[0]), &mstats.other_sys);
		if(all == nil)
			runtime_throw("runtime: cannot allocate memory");
		if(h->allspans != nil) {
			memmove(all, h->allspans, h->nspancap*sizeof(all[0]));
			// The sweeper may still be walking the old array (it is
			// the sweepspans snapshot): then it must not be freed.
			if(h->allspans != h->sweepspans)
				runtime_SysFree(h->allspans, h->nspancap*sizeof(all[0]), &mstats.other_sys);
		}
		h->allspans = all;
		h->nspancap = cap;
	}
	h->allspans[h->nspan++] = s;
}

void
MHeap_Init(MHeap *h)
{
	uint32 i;

	runtime_lockinit(&h->lock, LockRankMHeap);
	runtime_lockinit(&h->speciallock, LockRankSpecial);
	FixAlloc_Init(&h->spanalloc, sizeof(MSpan), RecordSpan, h, &mstats.mspan_sys);
	FixAlloc_Init(&h->cachealloc, sizeof(MCache), nil, nil, &mstats.mcache_sys);
	FixAlloc_Init(&h->specialfinalizeralloc, sizeof(SpecialFinalizer), nil, nil, &mstats.other_sys);
	FixAlloc_Init(&h->specialprofilealloc, sizeof(SpecialProfile), nil, nil, &mstats.other_sys);
	for(i = 0; i < nelem(h->free); i++) {
		MSpanList_Init(&h->free[i]);
		MSpanList_Init(&h->busy[i]);
	}
	MSpanList_Init(&h->freelarge);
	MSpanList_Init(&h->busylarge);
	for(i = 0; i < nelem(h->central); i++)
		MCentral_Init(&h->central[i].mcentral, i);	// i: a span class
	// Nothing needs sweeping before the first collection.
	h->sweepdone = 1;
}

// Commit the spans map up to arena_used, a page at a time.
void
MHeap_MapSpans(MHeap *h)
{
	uintptr n;

	n = (uintptr)h->arena_used;
	n -= (uintptr)h->arena_start;
	n = n / PageSize * sizeof(h->spans[0]);
	n = ROUND(n, PageSize);
	if(h->spans_mapped >= n)
		return;
	runtime_SysMap((byte*)h->spans + h->spans_mapped, n - h->spans_mapped, &mstats.other_sys);
	h->spans_mapped = n;
}

// Sweep unswept spans of list until at least npages pages have gone back
// to the heap. h locked. As in Go, MSpan_Sweep's result (did the span go
// back) is what is added, so this counts spans rather than pages.
static uintptr
MHeap_ReclaimList(MHeap *h, MSpan *list, uintptr npages)
{
	MSpan *s;
	uintptr n;
	uint32 sg;

	n = 0;
	sg = runtime_atomicload(&h->sweepgen);
retry:
	for(s = list->next; s != list; s = s->next) {
		if(s->sweepgen == sg-2 && runtime_cas(&s->sweepgen, sg-2, sg-1)) {
			MSpanList_Remove(s);
			MSpanList_InsertBack(list, s);	// swept spans at the back
			runtime_unlock(&h->lock);
			n += MSpan_Sweep(s);
			runtime_lock(&h->lock);
			if(n >= npages)
				return n;
			// The list may have changed under us.
			goto retry;
		}
		if(s->sweepgen == sg-1)
			continue;	// the background sweeper has it
		// A swept span: everything after it is swept or being swept.
		break;
	}
	return n;
}

// Sweep until at least npage pages are back in the heap. Called before
// allocating npage pages, so that a collection's garbage is reused before
// the heap grows. h locked.
static void
MHeap_Reclaim(MHeap *h, uintptr npage)
{
	uintptr reclaimed, n;
	intptr k;

	// Large objects at least as big as the request: one will do.
	for(n = npage; n < nelem(h->busy); n++) {
		if(MHeap_ReclaimList(h, &h->busy[n], npage))
			return;
	}
	if(MHeap_ReclaimList(h, &h->busylarge, npage))
		return;

	// Smaller large objects: several are needed.
	reclaimed = 0;
	for(n = 0; n < npage && n < nelem(h->busy); n++) {
		reclaimed += MHeap_ReclaimList(h, &h->busy[n], npage-reclaimed);
		if(reclaimed >= npage)
			return;
	}

	// Sweep anything, until enough or all is swept.
	runtime_unlock(&h->lock);
	for(;;) {
		k = runtime_sweepone();
		if(k == -1)	// all spans are swept
			break;
		reclaimed += k;
		if(reclaimed >= npage)
			break;
	}
	runtime_lock(&h->lock);
}

// Allocate a span of npage pages; record its class in the spans map.
MSpan*
MHeap_Alloc(MHeap *h, uintptr npage, int32 sizeclass, bool large, bool zeroed)
{
	M *mp;
	MSpan *s;

	mp = runtime_m();
	runtime_lock(&h->lock);
	if(mp != nil && mp->mcache != nil) {
		mstats.heap_alloc += mp->mcache->local_cachealloc;
		mp->mcache->local_cachealloc = 0;
	}
	s = MHeap_AllocLocked(h, npage, sizeclass);
	if(s != nil) {
		mstats.heap_inuse += npage<<PageShift;
		if(large) {
			mstats.heap_objects++;
			mstats.heap_alloc += npage<<PageShift;
			// Swept spans at the back.
			if(s->npages < nelem(h->free))
				MSpanList_InsertBack(&h->busy[s->npages], s);
			else
				MSpanList_InsertBack(&h->busylarge, s);
		}
	}
	runtime_unlock(&h->lock);
	if(s != nil && *(uintptr*)(s->start<<PageShift) != 0 && zeroed)
		memset((byte*)(s->start<<PageShift), 0, s->npages<<PageShift);
	return s;
}

static MSpan*
MHeap_AllocLocked(MHeap *h, uintptr npage, int32 sizeclass)
{
	uintptr n;
	MSpan *s, *t;
	PageID p;

	// Before taking n new pages, sweep at least n pages back, so that
	// lazy sweeping does not make the heap grow.
	if(!h->sweepdone)
		MHeap_Reclaim(h, npage);

	// Exact-size lists first, then larger ones.
	for(n = npage; n < nelem(h->free); n++) {
		if(!MSpanList_IsEmpty(&h->free[n])) {
			s = h->free[n].next;
			goto HaveSpan;
		}
	}

	// Best fit among the large spans; grow the heap if none fits.
	if((s = MHeap_AllocLarge(h, npage)) == nil) {
		if(!MHeap_Grow(h, npage))
			return nil;
		if((s = MHeap_AllocLarge(h, npage)) == nil)
			return nil;
	}

HaveSpan:
	if(s->state != MSpanFree)
		runtime_throw("MHeap_AllocLocked - MSpan not free");
	if(s->npages < npage)
		runtime_throw("MHeap_AllocLocked - bad npages");
	MSpanList_Remove(s);
	runtime_atomicstore(&s->sweepgen, h->sweepgen);
	s->state = MSpanInUse;
	mstats.heap_idle -= s->npages<<PageShift;
	mstats.heap_released -= s->npreleased<<PageShift;
	if(s->npreleased > 0) {
		// The pages were madvised away. Linux gives them back zeroed,
		// but some systems may return old contents for some pages and
		// zeros for others (the first word included), so the "needs
		// zeroing" word cannot be trusted: assume dirty. (0xbeadbead
		// means nothing; it is a clue if it ever turns up.)
		runtime_SysUsed((void*)(s->start<<PageShift), s->npages<<PageShift);
		*(uintptr*)(s->start<<PageShift) = (uintptr)0xbeadbeadbeadbeadULL;
	}
	s->npreleased = 0;

	if(s->npages > npage) {
		// Trim the rest and put it back in the heap.
		t = FixAlloc_Alloc(&h->spanalloc);
		MSpan_Init(t, s->start + npage, s->npages - npage);
		s->npages = npage;
		p = t->start;
		p -= ((uintptr)h->arena_start>>PageShift);
		if(p > 0)
			h->spans[p-1] = s;
		h->spans[p] = t;
		h->spans[p+t->npages-1] = t;
		*(uintptr*)(t->start<<PageShift) = *(uintptr*)(s->start<<PageShift);	// copy "needs zeroing"
		runtime_atomicstore(&t->sweepgen, h->sweepgen);
		t->state = MSpanInUse;
		MHeap_FreeLocked(h, t);
		t->unusedsince = s->unusedsince;	// keep its age
	}
	s->unusedsince = 0;

	// Record the span for every page, so that the collector can map an
	// interior pointer to its span.
	s->sizeclass = sizeclass;
	s->elemsize = (sizeclass == 0 ? s->npages<<PageShift : (uintptr)runtime_class_to_size[sizeclass]);
	s->divmul = (sizeclass == 0 ? 0 : (uint32)((((uint64)1<<32) + s->elemsize - 1) / s->elemsize));
	s->types.compression = MTypes_Empty;
	p = s->start;
	p -= ((uintptr)h->arena_start>>PageShift);
	for(n = 0; n < npage; n++)
		h->spans[p+n] = s;
	return s;
}

static MSpan*
MHeap_AllocLarge(MHeap *h, uintptr npage)
{
	return BestFit(&h->freelarge, npage, nil);
}

// The smallest span of list with at least npage pages; among equals, the
// lowest address.
static MSpan*
BestFit(MSpan *list, uintptr npage, MSpan *best)
{
	MSpan *s;

	for(s = list->next; s != list; s = s->next) {
		if(s->npages < npage)
			continue;
		if(best == nil
		|| s->npages < best->npages
		|| (s->npages == best->npages && s->start < best->start))
			best = s;
	}
	return best;
}

// Add at least npage pages to the heap; report whether it worked.
static bool
MHeap_Grow(MHeap *h, uintptr npage)
{
	uintptr ask;
	void *v;
	MSpan *s;
	PageID p;

	// More than the whole arena can never fit (and rounding it below
	// could overflow: largealloc passes up to 2^51-1 pages).
	if(npage > (uintptr)(h->arena_end - h->arena_start)>>PageShift) {
		runtime_printf("runtime: out of memory: cannot allocate %llu-byte block (%llu in use)\n",
			(unsigned long long)npage<<PageShift, (unsigned long long)mstats.heap_sys);
		return false;
	}

	// Ask for big chunks (a multiple of 16 pages, at least 1 MB), to
	// keep the number of OS mappings and calls down.
	npage = (npage+15)&~(uintptr)15;
	ask = npage<<PageShift;
	if(ask < HeapAllocChunk)
		ask = HeapAllocChunk;

	v = MHeap_SysAlloc(h, ask);
	if(v == nil) {
		if(ask > (npage<<PageShift)) {
			ask = npage<<PageShift;
			v = MHeap_SysAlloc(h, ask);
		}
		if(v == nil) {
			runtime_printf("runtime: out of memory: cannot allocate %llu-byte block (%llu in use)\n",
				(unsigned long long)ask, (unsigned long long)mstats.heap_sys);
			return false;
		}
	}

	// Make a fake in-use span and free it, so that it coalesces with
	// its neighbours as any freed span does.
	s = FixAlloc_Alloc(&h->spanalloc);
	MSpan_Init(s, (uintptr)v>>PageShift, ask>>PageShift);
	p = s->start;
	p -= ((uintptr)h->arena_start>>PageShift);
	h->spans[p] = s;
	h->spans[p + s->npages - 1] = s;
	runtime_atomicstore(&s->sweepgen, h->sweepgen);
	s->state = MSpanInUse;
	MHeap_FreeLocked(h, s);
	return true;
}

// The span at v, which must be in the map and the start or end of a span
// (or any page of an in-use span).
MSpan*
MHeap_Lookup(MHeap *h, void *v)
{
	uintptr p;

	p = (uintptr)v;
	p -= (uintptr)h->arena_start;
	return h->spans[p >> PageShift];
}

// The in-use span containing v, or nil. v may be anything: outside the
// arena, in a free span (whose middle entries are stale), past an
// object's data.
MSpan*
MHeap_LookupMaybe(MHeap *h, void *v)
{
	MSpan *s;
	PageID p, q;

	if((byte*)v < h->arena_start || (byte*)v >= h->arena_used)
		return nil;
	p = (uintptr)v>>PageShift;
	q = p;
	q -= (uintptr)h->arena_start >> PageShift;
	s = h->spans[q];
	if(s == nil || p < s->start || (byte*)v >= s->limit || s->state != MSpanInUse)
		return nil;
	return s;
}

// Give span s back to the heap. acct: it held one large object, whose
// bytes leave heap_alloc and heap_objects.
void
MHeap_Free(MHeap *h, MSpan *s, int32 acct)
{
	M *mp;

	mp = runtime_m();
	runtime_lock(&h->lock);
	if(mp != nil && mp->mcache != nil) {
		mstats.heap_alloc += mp->mcache->local_cachealloc;
		mp->mcache->local_cachealloc = 0;
	}
	mstats.heap_inuse -= s->npages<<PageShift;
	if(acct) {
		mstats.heap_alloc -= s->npages<<PageShift;
		mstats.heap_objects--;
	}
	MHeap_FreeLocked(h, s);
	runtime_unlock(&h->lock);
}

static void
MHeap_FreeLocked(MHeap *h, MSpan *s)
{
	uintptr *sp, *tp;
	MSpan *t;
	PageID p;

	s->types.compression = MTypes_Empty;

	if(s->state != MSpanInUse || s->ref != 0 || s->sweepgen != h->sweepgen) {
		runtime_printf("MHeap_FreeLocked - span %p ptr %p state %d ref %d sweepgen %u/%u\n",
			(void*)s, (void*)(s->start<<PageShift), s->state, s->ref, s->sweepgen, h->sweepgen);
		runtime_throw("MHeap_FreeLocked - invalid free");
	}
	mstats.heap_idle += s->npages<<PageShift;
	s->state = MSpanFree;
	MSpanList_Remove(s);	// off a busy list, for a large span
	sp = (uintptr*)(s->start<<PageShift);
	// Stamp the time it became idle, for the scavenger.
	s->unusedsince = runtime_nanotime();
	s->npreleased = 0;

	// Coalesce with the span before and the span after.
	p = s->start;
	p -= (uintptr)h->arena_start >> PageShift;
	if(p > 0 && (t = h->spans[p-1]) != nil && t->state != MSpanInUse) {
		if(t->npreleased == 0) {	// released pages must not be touched
			tp = (uintptr*)(t->start<<PageShift);
			*tp |= *sp;	// propagate "needs zeroing"
		}
		s->start = t->start;
		s->npages += t->npages;
		s->npreleased = t->npreleased;	// absorb released pages
		p -= t->npages;
		h->spans[p] = s;
		MSpanList_Remove(t);
		t->state = MSpanDead;
		FixAlloc_Free(&h->spanalloc, t);
		// The merged span starts at t now: its "needs zeroing" word is
		// t's. (Go 1.3 keeps pointing at the old start here, so a
		// dirty next neighbour's mark lands mid-span and is lost when a
		// clean span is freed between a clean and a dirty one.)
		sp = (uintptr*)(s->start<<PageShift);
	}
	if((p+s->npages)*sizeof(h->spans[0]) < h->spans_mapped && (t = h->spans[p+s->npages]) != nil && t->state != MSpanInUse) {
		// Released pages must not be touched; a span with released
		// pages is treated as dirty when allocated anyway.
		if(t->npreleased == 0 && s->npreleased == 0) {
			tp = (uintptr*)(t->start<<PageShift);
			*sp |= *tp;	// propagate "needs zeroing"
		}
		s->npages += t->npages;
		s->npreleased += t->npreleased;
		h->spans[p + s->npages - 1] = s;
		MSpanList_Remove(t);
		t->state = MSpanDead;
		FixAlloc_Free(&h->spanalloc, t);
	}

	// Newest first on its list.
	if(s->npages < nelem(h->free))
		MSpanList_Insert(&h->free[s->npages], s);
	else
		MSpanList_Insert(&h->freelarge, s);
}

// The scavenger's release step: give back to the OS the pages of every
// free span that has been idle for more than limit ns.
static uintptr
scavengelist(MSpan *list, uint64 now, uint64 limit)
{
	uintptr released, sumreleased;
	MSpan *s;

	if(MSpanList_IsEmpty(list))
		return 0;

	sumreleased = 0;
	for(s = list->next; s != list; s = s->next) {
		if((now - s->unusedsince) > limit && s->npreleased != s->npages) {
			released = (s->npages - s->npreleased) << PageShift;
			mstats.heap_released += released;
			sumreleased += released;
			s->npreleased = s->npages;
			runtime_SysUnused((void*)(s->start << PageShift), s->npages << PageShift);
		}
	}
	return sumreleased;
}

uintptr
MHeap_Scavenge(int32 k, uint64 now, uint64 limit)
{
	uint32 i;
	uintptr sumreleased;
	MHeap *h;

	h = &runtime_mheap;
	sumreleased = 0;
	for(i = 0; i < nelem(h->free); i++)
		sumreleased += scavengelist(&h->free[i], now, limit);
	sumreleased += scavengelist(&h->freelarge, now, limit);

	if(runtime_debug.gctrace > 0) {
		if(sumreleased > 0)
			runtime_printf("scvg%d: %llu MB released\n", k, (unsigned long long)sumreleased>>20);
		runtime_printf("scvg%d: inuse: %llu, idle: %llu, sys: %llu, released: %llu, consumed: %llu (MB)\n",
			k, (unsigned long long)mstats.heap_inuse>>20, (unsigned long long)mstats.heap_idle>>20,
			(unsigned long long)mstats.heap_sys>>20, (unsigned long long)mstats.heap_released>>20,
			(unsigned long long)(mstats.heap_sys - mstats.heap_released)>>20);
	}
	return sumreleased;
}

// The scavenger goroutine (Go's MHeap_Scavenger), started before the
// main goroutine's function: every tick it forces a collection if none
// ran for forcegc (2 min), then returns to the OS the spans idle for more
// than limit (5 min). GORT_SCAVENGE=<forcegc ms>,<limit ms> overrides the
// two for tests. It is a background goroutine: parked in its sleep it is
// no sign of life for the deadlock detector.
static void
forcegchelper(void *arg)
{
	runtime_gc(1);
	runtime_notewakeup(arg);
}

void
MHeap_Scavenger(void)
{
	MHeap *h;
	uint64 tick, now, forcegc, limit;
	int32 k;
	Note note;
	const char *p;
	G *gp;

	gp = runtime_g();
	gp->issystem = true;
	gp->isbackground = true;

	// If we go two minutes without a garbage collection, force one to run.
	forcegc = 2*60*1000000000ULL;
	// If a span goes unused for 5 minutes after a garbage collection,
	// we hand it back to the operating system.
	limit = 5*60*1000000000ULL;
	p = runtime_getenv("GORT_SCAVENGE");
	if(p != nil && runtime_atoi(p) > 0) {
		forcegc = (uint64)runtime_atoi(p) * 1000000;
		p = strchr(p, ',');
		if(p != nil && runtime_atoi(p+1) > 0)
			limit = (uint64)runtime_atoi(p+1) * 1000000;
	}
	// Make wake-up period small enough for the sampling to be correct.
	tick = forcegc < limit ? forcegc/2 : limit/2;

	h = &runtime_mheap;
	for(k = 0;; k++) {
		runtime_noteclear(&note);
		runtime_notetsleepg(&note, tick);

		runtime_lock(&h->lock);
		now = runtime_nanotime();
		if(now - mstats.last_gc > forcegc) {
			runtime_unlock(&h->lock);
			// The scavenger must not block other goroutines (the
			// deadlock detector would fire); the collection waits for
			// worldsema in a goroutine of its own.
			runtime_noteclear(&note);
			runtime_newproc1(forcegchelper, &note, true);
			runtime_notetsleepg(&note, -1);
			if(runtime_debug.gctrace > 0)
				runtime_printf("scvg%d: GC forced\n", k);
			runtime_lock(&h->lock);
			now = runtime_nanotime();
		}
		MHeap_Scavenge(k, now, limit);
		runtime_unlock(&h->lock);
	}
}

// debug.FreeOSMemory is "collect, then release everything idle"; this is
// the release half (the collection is mgc0.c's).
void
runtime_freeOSMemoryRelease(void)
{
	runtime_lock(&runtime_mheap.lock);
	MHeap_Scavenge(-1, ~(uint64)0, 0);
	runtime_unlock(&runtime_mheap.lock);
}

void
MSpan_Init(MSpan *span, PageID start, uintptr npages)
{
	span->next = nil;
	span->prev = nil;
	span->start = start;
	span->npages = npages;
	span->freelist = nil;
	span->ref = 0;
	span->sizeclass = 0;
	span->noscan = 0;
	span->elemsize = 0;
	span->divmul = 0;
	span->state = MSpanDead;
	span->unusedsince = 0;
	span->npreleased = 0;
	span->limit = nil;
	span->types.compression = MTypes_Empty;
	span->types.data = 0;
	runtime_lockinit(&span->specialLock, LockRankSpanSpecial);
	span->specials = nil;
}

void
MSpanList_Init(MSpan *list)
{
	list->state = MSpanListHead;
	list->next = list;
	list->prev = list;
}

void
MSpanList_Remove(MSpan *span)
{
	if(span->prev == nil && span->next == nil)
		return;
	span->prev->next = span->next;
	span->next->prev = span->prev;
	span->prev = nil;
	span->next = nil;
}

bool
MSpanList_IsEmpty(MSpan *list)
{
	return list->next == list;
}

void
MSpanList_Insert(MSpan *list, MSpan *span)
{
	if(span->next != nil || span->prev != nil) {
		runtime_printf("failed MSpanList_Insert %p %p %p\n", (void*)span, (void*)span->next, (void*)span->prev);
		runtime_throw("MSpanList_Insert");
	}
	span->next = list->next;
	span->prev = list;
	span->next->prev = span;
	span->prev->next = span;
}

void
MSpanList_InsertBack(MSpan *list, MSpan *span)
{
	if(span->next != nil || span->prev != nil) {
		runtime_printf("failed MSpanList_InsertBack %p %p %p\n", (void*)span, (void*)span->next, (void*)span->prev);
		runtime_throw("MSpanList_InsertBack");
	}
	span->next = list;
	span->prev = list->prev;
	span->next->prev = span;
	span->prev->next = span;
}

// ---- specials ----------------------------------------------------------------

// Add special record s (kind set, the rest filled in here) for object p.
// Fails (false) if p already has a record of that kind.
static bool
addspecial(void *p, Special *s)
{
	M *mp;
	MSpan *span;
	Special **t, *x;
	uintptr offset;
	byte kind;

	span = MHeap_LookupMaybe(&runtime_mheap, p);
	if(span == nil)
		runtime_throw("addspecial on invalid pointer");

	// The collector reads specials without locks: only touch swept
	// spans. EnsureSwept wants m->locks held.
	mp = runtime_m();
	mp->locks++;
	MSpan_EnsureSwept(span);

	offset = (uintptr)p - (span->start << PageShift);
	kind = s->kind;

	runtime_lock(&span->specialLock);
	t = &span->specials;
	while((x = *t) != nil) {
		if(offset == x->offset && kind == x->kind) {
			runtime_unlock(&span->specialLock);
			mp->locks--;
			return false;	// already exists
		}
		if(offset < x->offset || (offset == x->offset && kind < x->kind))
			break;
		t = &x->next;
	}
	s->offset = offset;
	s->next = x;
	*t = s;
	runtime_unlock(&span->specialLock);
	mp->locks--;
	return true;
}

// Remove p's special record of the given kind and return it (the caller
// frees it), or nil. p must be exactly the recorded address.
static Special*
removespecial(void *p, byte kind)
{
	M *mp;
	MSpan *span;
	Special *s, **t;
	uintptr offset;

	span = MHeap_LookupMaybe(&runtime_mheap, p);
	if(span == nil)
		runtime_throw("removespecial on invalid pointer");

	mp = runtime_m();
	mp->locks++;
	MSpan_EnsureSwept(span);

	offset = (uintptr)p - (span->start << PageShift);

	runtime_lock(&span->specialLock);
	t = &span->specials;
	while((s = *t) != nil) {
		if(offset == s->offset && kind == s->kind) {
			*t = s->next;
			runtime_unlock(&span->specialLock);
			mp->locks--;
			return s;
		}
		t = &s->next;
	}
	runtime_unlock(&span->specialLock);
	mp->locks--;
	return nil;
}

bool
runtime_addfinalizer(void *p, void (*f)(void*))
{
	SpecialFinalizer *s;

	runtime_lock(&runtime_mheap.speciallock);
	s = FixAlloc_Alloc(&runtime_mheap.specialfinalizeralloc);
	runtime_unlock(&runtime_mheap.speciallock);
	s->special.kind = KindSpecialFinalizer;
	s->fn = f;
	if(addspecial(p, &s->special))
		return true;

	// There was a finalizer already.
	runtime_lock(&runtime_mheap.speciallock);
	FixAlloc_Free(&runtime_mheap.specialfinalizeralloc, s);
	runtime_unlock(&runtime_mheap.speciallock);
	return false;
}

void
runtime_removefinalizer(void *p)
{
	SpecialFinalizer *s;

	s = (SpecialFinalizer*)removespecial(p, KindSpecialFinalizer);
	if(s == nil)
		return;	// none to remove: fine
	runtime_lock(&runtime_mheap.speciallock);
	FixAlloc_Free(&runtime_mheap.specialfinalizeralloc, s);
	runtime_unlock(&runtime_mheap.speciallock);
}

void
runtime_setprofilebucket(void *p, Bucket *b)
{
	SpecialProfile *s;

	runtime_lock(&runtime_mheap.speciallock);
	s = FixAlloc_Alloc(&runtime_mheap.specialprofilealloc);
	runtime_unlock(&runtime_mheap.speciallock);
	s->special.kind = KindSpecialProfile;
	s->b = b;
	if(!addspecial(p, &s->special))
		runtime_throw("setprofilebucket: profile already set");
}

// Release special record s, already unlinked, for object p of size bytes
// that is being freed (freed: explicitly, not by the sweeper). Returns
// whether p may be freed now: a finalizer queues p and keeps it.
bool
runtime_freespecial(Special *s, void *p, uintptr size, bool freed)
{
	SpecialFinalizer *sf;
	SpecialProfile *sp;

	switch(s->kind) {
	case KindSpecialFinalizer:
		sf = (SpecialFinalizer*)s;
		runtime_queuefinalizer(p, sf->fn);
		runtime_lock(&runtime_mheap.speciallock);
		FixAlloc_Free(&runtime_mheap.specialfinalizeralloc, sf);
		runtime_unlock(&runtime_mheap.speciallock);
		return false;	// p lives until its finalizer has run
	case KindSpecialProfile:
		sp = (SpecialProfile*)s;
		runtime_MProf_Free(sp->b, p, size, freed);
		runtime_lock(&runtime_mheap.speciallock);
		FixAlloc_Free(&runtime_mheap.specialprofilealloc, sp);
		runtime_unlock(&runtime_mheap.speciallock);
		return true;
	default:
		runtime_throw("bad special kind");
	}
}

// Free every special record of object p (explicit free). An object with
// a finalizer cannot be freed explicitly.
void
runtime_freeallspecials(MSpan *span, void *p, uintptr size)
{
	Special *s, **t, *list;
	uintptr offset;

	offset = (uintptr)p - (span->start << PageShift);

	// Refuse before unlinking anything: the object stays as it was.
	// (Go queues the finalizer and then throws; the outcome is the same.)
	runtime_lock(&span->specialLock);
	for(s = span->specials; s != nil && s->offset < offset + size; s = s->next) {
		if(s->offset >= offset && s->kind == KindSpecialFinalizer) {
			runtime_unlock(&span->specialLock);
			runtime_throw("can't explicitly free an object with a finalizer");
		}
	}
	runtime_unlock(&span->specialLock);

	// Collect the records first and free them outside specialLock: the
	// profiler takes its own lock in MProf_Free.
	list = nil;
	runtime_lock(&span->specialLock);
	t = &span->specials;
	while((s = *t) != nil) {
		if(offset + size <= s->offset)
			break;
		if(offset <= s->offset) {
			*t = s->next;
			s->next = list;
			list = s;
		} else
			t = &s->next;
	}
	runtime_unlock(&span->specialLock);

	while(list != nil) {
		s = list;
		list = s->next;
		if(!runtime_freespecial(s, p, size, true))
			runtime_throw("can't explicitly free an object with a finalizer");
	}
}
