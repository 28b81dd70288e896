// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Garbage collector (Go's mgc0.c, at 3c3be622).
//
// STATUS. This file holds what the allocator needs today: the heap
// bitmap operations, MSpan_EnsureSwept, and the statistics
// (updatememstats, ReadMemStats). The collector itself — parallel
// stop-the-world mark, sweep in the pause and the concurrent sweep of the
// seed change — lands with the mgc/ and concurrent-sweep issues. Until
// then mstats.enablegc stays false, so allocation never triggers a
// collection, and every entry point that would collect fails loudly
// ("fatal error: gort_gc: not implemented").

#include "gort.h"
#include "mgc0.h"

// ---- heap bitmap (see mgc0.h for the layout) ------------------------------------

static inline uintptr*
bitp(void *v, uintptr *shift)
{
	uintptr off;

	off = (uintptr*)v - (uintptr*)runtime_mheap.arena_start;	// word offset
	*shift = off % wordsPerBitmapWord;
	return (uintptr*)runtime_mheap.arena_start - off/wordsPerBitmapWord - 1;
}

// Can another M touch this bitmap word at the same time? (Go asks
// whether gomaxprocs == 1.)
static inline bool
singlem(void)
{
	return runtime_gomaxprocs == 1;
}

// Replace the bits at shift: (old & ~clear) | set, checking that the old
// bits were `want` (under mask) unless want is ~0. Returns the old word.
static inline void
setbits(uintptr *b, uintptr shift, uintptr mask, uintptr want, uintptr clear, uintptr set, const char *what)
{
	uintptr obits, bits;

	for(;;) {
		obits = __atomic_load_n(b, __ATOMIC_RELAXED);
		if(want != ~(uintptr)0 && ((obits>>shift) & mask) != want) {
			runtime_printf("runtime: %s: bits %#llx at word shift %llu\n", what,
				(unsigned long long)((obits>>shift) & bitMask), (unsigned long long)shift);
			runtime_throw(what);
		}
		bits = (obits & ~(clear<<shift)) | (set<<shift);
		if(singlem()) {
			*b = bits;
			return;
		}
		// More than one M may be running: use CAS.
		if(runtime_casp((void**)b, (void*)obits, (void*)bits))
			return;
	}
}

// FlagNoGC block: not allocated in the collector's eyes, but a boundary.
void
runtime_marknogc(void *v)
{
	uintptr *b, shift;

	b = bitp(v, &shift);
	setbits(b, shift, bitMask, bitAllocated, bitAllocated, bitBlockBoundary, "bad initial state for marknogc");
}

// A block to be scanned.
void
runtime_markscan(void *v)
{
	uintptr *b, shift;

	b = bitp(v, &shift);
	setbits(b, shift, bitMask, bitAllocated, 0, bitScan, "bad initial state for markscan");
}

// A tiny-allocator block (gort; see mgc0.h).
void
runtime_marktiny(void *v)
{
	uintptr *b, shift;

	b = bitp(v, &shift);
	setbits(b, shift, bitMask, bitAllocated, 0, bitSpecial, "bad initial state for marktiny");
}

// The block at v of n bytes was freed: back to "allocated" only, as every
// block on a free list is.
void
runtime_markfreed(void *v, uintptr n)
{
	uintptr *b, shift;

	if((byte*)v+n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		runtime_throw("markfreed: bad pointer");
	b = bitp(v, &shift);
	// A gc-eligible block or a FlagNoGC one: either way it becomes a
	// plain allocated block, as it is going on a free list.
	setbits(b, shift, bitMask, ~(uintptr)0, bitMask, bitAllocated, "markfreed");
}

// Check that the block at v is marked freed (debugging, runtime_checking).
void
runtime_checkfreed(void *v, uintptr n)
{
	uintptr *b, shift, bits;

	if(!runtime_checking)
		return;
	if((byte*)v+n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		return;	// not allocated, so okay
	b = bitp(v, &shift);
	bits = *b>>shift;
	if((bits & bitAllocated) != 0) {
		runtime_printf("checkfreed %p+%#llx: have=%#llx\n", v, (unsigned long long)n,
			(unsigned long long)(bits & bitMask));
		runtime_throw("checkfreed: not freed");
	}
}

uintptr
runtime_getbits(void *v)
{
	uintptr *b, shift;

	b = bitp(v, &shift);
	return (__atomic_load_n(b, __ATOMIC_RELAXED) >> shift) & bitMask;
}

// The span at v holds n blocks of size bytes; leftover: there is room
// after the last block, which gets a boundary too.
void
runtime_markspan(void *v, uintptr size, uintptr n, bool leftover)
{
	uintptr *b, off, shift, i;
	byte *p;

	if((byte*)v+size*n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		runtime_throw("markspan: bad pointer");

	if(runtime_checking) {
		// The bits must be clear to start with.
		off = (byte*)v + size - runtime_mheap.arena_start;
		b = (uintptr*)(runtime_mheap.arena_start - off/wordsPerBitmapWord);
		for(i = 0; i < size/PtrSize/wordsPerBitmapWord; i++) {
			if(b[i] != 0)
				runtime_throw("markspan: span bits not zero");
		}
	}

	p = v;
	if(leftover)
		n++;
	for(; n-- > 0; p += size) {
		// No atomics: we own the whole span, and no bitmap word is
		// shared with another span.
		b = bitp(p, &shift);
		*b = (*b & ~(bitMask<<shift)) | (bitAllocated<<shift);
	}
}

// Clear the bits of the n bytes at v (whole bitmap words).
void
runtime_unmarkspan(void *v, uintptr n)
{
	uintptr *p, *b, off;

	if((byte*)v+n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		runtime_throw("markspan: bad pointer");

	p = v;
	off = p - (uintptr*)runtime_mheap.arena_start;	// word offset
	if(off % wordsPerBitmapWord != 0)
		runtime_throw("markspan: unaligned pointer");
	b = (uintptr*)runtime_mheap.arena_start - off/wordsPerBitmapWord - 1;
	n /= PtrSize;
	if(n%wordsPerBitmapWord != 0)
		runtime_throw("unmarkspan: unaligned length");
	// No atomics: we own the span (see markspan).
	n /= wordsPerBitmapWord;
	while(n-- > 0)
		*b-- = 0;
}

// Commit the bitmap down to cover the arena up to arena_used, in 8 KB
// steps. Heap locked.
void
MHeap_MapBits(MHeap *h)
{
	enum {
		bitmapChunk = 8192
	};
	uintptr n;

	n = (h->arena_used - h->arena_start) / wordsPerBitmapWord;
	n = ROUND(n, bitmapChunk);
	if(h->bitmap_mapped >= n)
		return;
	runtime_SysMap(h->arena_start - n, n - h->bitmap_mapped, &mstats.gc_sys);
	h->bitmap_mapped = n;
}

// ---- sweeping (the seed change lands here) ------------------------------------

// Make sure span s is swept before the caller touches its objects or
// specials: sweep it ourselves if we can claim it, else wait for whoever
// has it. The caller holds m->locks (so that it is not preempted, or
// suspended, while the span is claimed).
void
MSpan_EnsureSwept(MSpan *s)
{
	M *mp;
	uint32 sg;

	mp = runtime_m();
	if(mp->locks == 0 && mp->mallocing == 0)
		runtime_throw("MSpan_EnsureSwept: m is not locked");

	sg = runtime_atomicload(&runtime_mheap.sweepgen);
	if(runtime_atomicload(&s->sweepgen) == sg)
		return;
	if(runtime_cas(&s->sweepgen, sg-2, sg-1)) {
		MSpan_Sweep(s);
		return;
	}
	// Someone else is sweeping it: wait.
	while(runtime_atomicload(&s->sweepgen) != sg)
		runtime_osyield();
}

// Unreachable until the collector lands: no span is ever unswept before
// the first collection (mheap.sweepgen stays 0, sweepdone 1).
bool
MSpan_Sweep(MSpan *s)
{
	USED(s);
	runtime_notimplemented("MSpan_Sweep");
}

// Sweep one span; the pages it returned to the heap, or −1 when every
// span is swept.
intptr
runtime_sweepone(void)
{
	if(runtime_atomicload(&runtime_mheap.sweepdone))
		return -1;
	runtime_notimplemented("runtime_sweepone");
}

// ---- the collector's entry points ------------------------------------------------

// runtime·gc(force): collect if the heap reached next_gc (or force).
// mstats.enablegc is false until the collector lands, and then a
// collection is only ever asked for with force, which fails loudly.
void
runtime_gc(int32 force)
{
	if(!mstats.enablegc && !force)
		return;
	runtime_notimplemented("gort_gc");
}

// The collector's helper on an idle M woken by helpgc. Until the
// collector lands only the scheduler's tests call helpgc, with a hook.
void	(*runtime_gchelper_testhook)(void);

void
runtime_gchelper(void)
{
	if(runtime_gchelper_testhook != nil) {
		runtime_gchelper_testhook();
		return;
	}
	runtime_notimplemented("runtime_gchelper");
}

void
runtime_queuefinalizer(byte *p, void (*fn)(void*))
{
	USED(p);
	USED(fn);
	runtime_notimplemented("runtime_queuefinalizer");
}

GORT_API void
gort_gc(void)
{
	runtime_mcheck("gort_gc");
	runtime_gc(1);
}

GORT_API int
gort_set_gc_percent(int pct)
{
	USED(pct);
	runtime_notimplemented("gort_set_gc_percent");
}

GORT_API void
gort_free_os_memory(void)
{
	runtime_mcheck("gort_free_os_memory");
	runtime_gc(1);	// collect, then ...
	runtime_freeOSMemoryRelease();	// ... release everything idle
}

GORT_API void
gort_set_finalizer(void *obj, void (*fn)(void *obj))
{
	USED(obj);
	USED(fn);
	runtime_notimplemented("gort_set_finalizer");
}

GORT_API void
gort_keep_alive(const void *p)
{
	// A use the compiler cannot remove: p is live up to this call.
	__asm__ volatile("" :: "r"(p) : "memory");
}

// ---- statistics --------------------------------------------------------------------

// Fold every P's cache statistics into mstats. World stopped.
static void
cachestats(void)
{
	P *p, **pp;

	for(pp = runtime_allp; (p = *pp) != nil; pp++)
		if(p->mcache != nil)
			runtime_purgecachedstats(p->mcache);
}

// Give every P's cached objects back to the central lists, so that span
// ref counts say exactly what is allocated. World stopped.
static void
flushallmcaches(void)
{
	P *p, **pp;

	for(pp = runtime_allp; (p = *pp) != nil; pp++)
		if(p->mcache != nil)
			MCache_ReleaseAll(p->mcache);
}

// Recompute the derived statistics. World stopped.
//
// Between collections gort (like Go) counts only frees as they happen.
// The objects alive now, and their bytes, come from a walk of the in-use
// spans; mallocs are then "alive + freed", and total_alloc "alive bytes +
// freed bytes". heap_alloc is reset to the exact figure.
void
runtime_updatememstats(void)
{
	MSpan *s;
	uint32 i;
	uint64 smallfree;

	mstats.mcache_inuse = runtime_mheap.cachealloc.inuse;
	mstats.mspan_inuse = runtime_mheap.spanalloc.inuse;
	mstats.sys = mstats.heap_sys + mstats.stacks_sys + mstats.mspan_sys +
		mstats.mcache_sys + mstats.buckhash_sys + mstats.gc_sys + mstats.other_sys;

	mstats.alloc = 0;
	mstats.total_alloc = 0;
	mstats.nmalloc = 0;
	mstats.nfree = 0;
	for(i = 0; i < nelem(mstats.by_size); i++) {
		mstats.by_size[i].nmalloc = 0;
		mstats.by_size[i].nfree = 0;
	}

	flushallmcaches();
	cachestats();

	// Count the live objects span by span.
	for(i = 0; i < runtime_mheap.nspan; i++) {
		s = runtime_mheap.allspans[i];
		if(s->state != MSpanInUse)
			continue;
		if(s->sizeclass == 0) {
			mstats.nmalloc++;
			mstats.alloc += s->elemsize;
		} else {
			mstats.nmalloc += s->ref;
			mstats.by_size[s->sizeclass].nmalloc += s->ref;
			mstats.alloc += s->ref*s->elemsize;
		}
	}

	// Add the frees, by size class.
	smallfree = 0;
	mstats.nfree = runtime_mheap.nlargefree;
	for(i = 0; i < nelem(mstats.by_size); i++) {
		mstats.nfree += runtime_mheap.nsmallfree[i];
		mstats.by_size[i].nfree = runtime_mheap.nsmallfree[i];
		mstats.by_size[i].nmalloc += runtime_mheap.nsmallfree[i];
		smallfree += runtime_mheap.nsmallfree[i] * runtime_class_to_size[i];
	}
	mstats.nmalloc += mstats.nfree;

	mstats.total_alloc = mstats.alloc + runtime_mheap.largefree + smallfree;
	mstats.heap_alloc = mstats.alloc;
	mstats.heap_objects = mstats.nmalloc - mstats.nfree;
}

void
runtime_ReadMemStats(MStats *out)
{
	M *mp;

	runtime_mcheck("ReadMemStats");
	runtime_semacquire(&runtime_worldsema);
	mp = runtime_m();
	mp->gcing = 1;
	runtime_stoptheworld();
	// No heap lock: the world is stopped, and flushing the caches may
	// give spans back to the heap, which takes it.
	runtime_updatememstats();
	*out = mstats;
	mp->gcing = 0;
	runtime_semrelease(&runtime_worldsema);
	runtime_starttheworld();
}

GORT_API void
gort_read_memstats(GortMemStats *ms)
{
	MStats st;
	uint32 i;

	runtime_ReadMemStats(&st);
	ms->Alloc = st.alloc;
	ms->TotalAlloc = st.total_alloc;
	ms->Sys = st.sys;
	ms->Lookups = st.nlookup;
	ms->Mallocs = st.nmalloc;
	ms->Frees = st.nfree;
	ms->HeapAlloc = st.heap_alloc;
	ms->HeapSys = st.heap_sys;
	ms->HeapIdle = st.heap_idle;
	ms->HeapInuse = st.heap_inuse;
	ms->HeapReleased = st.heap_released;
	ms->HeapObjects = st.heap_objects;
	ms->StackInuse = st.stacks_inuse;
	ms->StackSys = st.stacks_sys;
	ms->MSpanInuse = st.mspan_inuse;
	ms->MSpanSys = st.mspan_sys;
	ms->MCacheInuse = st.mcache_inuse;
	ms->MCacheSys = st.mcache_sys;
	ms->BuckHashSys = st.buckhash_sys;
	ms->GCSys = st.gc_sys;
	ms->OtherSys = st.other_sys;
	ms->NextGC = st.next_gc;
	ms->LastGC = st.last_gc;
	ms->PauseTotalNs = st.pause_total_ns;
	memcpy(ms->PauseNs, st.pause_ns, sizeof ms->PauseNs);
	ms->NumGC = st.numgc;
	ms->EnableGC = st.enablegc;
	ms->DebugGC = st.debuggc;
	// Go's MemStats.BySize keeps 61 entries: the first 61 classes.
	for(i = 0; i < nelem(ms->BySize); i++) {
		ms->BySize[i].Size = st.by_size[i].size;
		ms->BySize[i].Mallocs = st.by_size[i].nmalloc;
		ms->BySize[i].Frees = st.by_size[i].nfree;
	}
}
