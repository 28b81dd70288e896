// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// mallocgc and free, the arena, persistentalloc, and the public
// allocation calls (Go's malloc.goc). See malloc.h for the overview.

#include <stdlib.h>

#include "gort.h"
#include "malloc.h"

MHeap	runtime_mheap GORT_NOSCAN;
MStats	runtime_mstats GORT_NOSCAN;
// The validators that are always compiled and cheap enough to leave on in
// a debug build (checkfreed, markspan's clear-bits check, the heap check
// after each collection); -Dchecking=true turns them on. Immutable after
// boot (a debug knob: tests clear it between collections).
#ifdef GORT_CHECKING
int32	runtime_checking = 1;
#else
int32	runtime_checking;
#endif
byte	runtime_zerobase[PtrSize] __attribute__((aligned(16)));	// never written


static void*	largealloc(uint32 flag, uintptr *sizep);
static bool	isfreeblock(MCache *c, MSpan *s, void *v);
static inline void	settype(void *v, uintptr typ);
static void	settypeslow(MSpan *s, uintptr ofs, uintptr typ);
static void	cleartype(MSpan *s, void *v);

// Should this allocation be sampled for the heap profile? If so, pick the
// next sample point (go1.3's profilealloc, without the MProf_Malloc call,
// which the caller makes once m->locks is released). Called with m->locks
// held: c is this P's cache, and a goroutine stopped by a signal may
// resume on another P.
static bool
profilesample(MCache *c, uintptr size, uint32 flag)
{
	int32 rate, next;

	if((flag & FlagNoProfiling) || (rate = runtime_MemProfileRate) <= 0)
		return false;
	if(size < (uintptr)rate && (int32)size < c->next_sample) {
		c->next_sample -= size;
		return false;
	}
	if(size < (uintptr)rate) {
		// Pick the next sample point, uniform in [0, 2*rate).
		// (If you change this, change allocmcache too.)
		if(rate > 0x3fffffff)	// keep 2*rate from overflowing
			rate = 0x3fffffff;
		next = runtime_fastrand1() % (2*rate);
		// Subtract the "remainder" of this allocation (bf0d71af):
		// else objects close to the rate in size are under-sampled.
		next -= (size - c->next_sample);
		if(next < 0)
			next = 0;
		c->next_sample = next;
	}
	return true;
}

static void*	mallocgcslow(uintptr size, uintptr typ, uint32 flag);

// mallocgc's fast path (gort): a small block that is not tiny, not
// FlagNoGC, not sampled for the profile and neither traced nor fenced,
// from a non-empty list or fresh span of this M's cache. It returns nil
// without side effects for anything else, and mallocgcslow does the rest
// (the whole of Go's mallocgc). Inlined into gort_new and gort_malloc.
static inline void*
mallocfast(uintptr size, uintptr typ, uint32 flag)
{
	M *mp;
	MCache *c;
	MCacheList *l;
	MLink *v;
	int32 sizeclass, rate;
	bool sample;

	if(size - 1 >= 1024 - 8 || (flag & FlagNoGC) != 0 || ((flag & FlagNoScan) != 0 && size < TinySize))
		return nil;
	if(runtime_debug.efence | runtime_debug.allocfreetrace)
		return nil;
	mp = runtime_m();
	if(mp == nil || mp->mallocing)
		return nil;
	// m->locks before the cache: a goroutine stopped by a signal may
	// resume on another P, whose cache this one would not be.
	mp->locks++;
	if((c = mp->mcache) == nil)
		goto slow;
	sizeclass = runtime_size_to_class8[(size+7)>>3];
	size = runtime_class_to_size[sizeclass];
	// Not sampled: profilesample's first two answers.
	rate = runtime_MemProfileRate;
	sample = rate > 0 && !(flag & FlagNoProfiling);
	if(sample && (size >= (uintptr)rate || (int32)size >= c->next_sample))
		goto slow;
	l = &c->list[spanclass(sizeclass, flag & FlagNoScan)];
	mp->mallocing = 1;
	if((v = l->list) != nil) {
		l->list = v->next;
		if(v->next != nil)
			PREFETCH(v->next);
		l->nlist--;
		if(!(flag & FlagNoZero)) {
			v->next = nil;
			// The block is zero iff its second word is zero.
			if(size > sizeof(uintptr) && ((uintptr*)v)[1] != 0)
				memset(v, 0, size);
		}
	} else if(l->fresh != l->freshend) {
		v = (MLink*)l->fresh;	// zero
		l->fresh += size;
	} else {
		mp->mallocing = 0;
		goto slow;
	}
	// No bitmap write: a free block's bits are its span class's.
	c->local_cachealloc += size;
	if(sample)
		c->next_sample -= size;
	mp->mallocing = 0;
	if(typ != 0 && !(flag & FlagNoScan))
		settype(v, typ);
	mp->locks--;
	if(!(flag & FlagNoInvokeGC) && mstats.heap_alloc >= mstats.next_gc)
		runtime_gc(0);
	return v;

slow:
	mp->locks--;
	return nil;
}

// Allocate an object of at least size bytes. Small objects come from
// the M's cache, large ones (> 32 KB) straight from the heap.
// typ is 0 for an untyped block, else a GortType* | TypeInfo_* word.
// A block that may be freed with runtime_free must be at least TinySize
// bytes or have pointers (so that it is not a tiny block).
void*
runtime_mallocgc(uintptr size, uintptr typ, uint32 flag)
{
	void *v;

	if((v = mallocfast(size, typ, flag)) != nil)
		return v;
	return mallocgcslow(size, typ, flag);
}

static NOINLINE void*
mallocgcslow(uintptr size, uintptr typ, uint32 flag)
{
	M *mp;
	MCache *c;
	MCacheList *l;
	MLink *v, *next;
	int32 sizeclass, spc;
	uintptr tinysize, size1;
	bool profile, istiny, islarge;
	byte *tiny;

	if(size == 0) {
		// All 0-length allocations use this pointer; C, like Go, does
		// not promise distinct addresses for them.
		return runtime_zerobase;
	}
	mp = runtime_mcheck("mallocgc");
	if(mp->mallocing)
		runtime_throw("malloc/free - deadlock");
	mp->locks++;
	mp->mallocing = 1;

	istiny = false;
	islarge = false;
	c = mp->mcache;
	if(!runtime_debug.efence && size <= MaxSmallSize) {
		if((flag&(FlagNoScan|FlagNoGC)) == FlagNoScan && size < TinySize) {
			// Tiny allocator.
			//
			// Several tiny pointer-free requests share one 16-byte
			// block, which is freed when none of them is reachable.
			// Because they hold no pointers, the waste is bounded
			// (at worst 2x, when all but one are dead). 8-byte
			// blocks would waste nothing but combine less; 32 would
			// combine more and waste up to 4x. The main targets
			// are small strings and escaping scalars.
			//
			// A tiny object must never be freed explicitly; free
			// refuses blocks under TinySize. SetFinalizer accepts
			// an inner byte of a block that may be tiny.
			tinysize = c->tinysize;
			if(size <= tinysize) {
				tiny = c->tiny;
				// Align for the request's natural alignment.
				if((size&7) == 0)
					tiny = (byte*)ROUND((uintptr)tiny, 8);
				else if((size&3) == 0)
					tiny = (byte*)ROUND((uintptr)tiny, 4);
				else if((size&1) == 0)
					tiny = (byte*)ROUND((uintptr)tiny, 2);
				size1 = size + (tiny - c->tiny);
				if(size1 <= tinysize) {
					// It fits in the current tiny block.
					v = (MLink*)tiny;
					c->tiny += size1;
					c->tinysize -= size1;
					mp->mallocing = 0;
					mp->locks--;
					return v;
				}
			}
			// Start a new TinySize block.
			l = &c->list[TinySpanClass];
			if(l->list == nil && l->fresh == l->freshend)
				MCache_Refill(c, TinySpanClass);
			if((v = l->list) != nil) {
				next = v->next;
				if(next != nil)	// prefetching nil costs a DTLB miss
					PREFETCH(next);
				l->list = next;
				l->nlist--;
				((uint64*)v)[0] = 0;
				((uint64*)v)[1] = 0;
			} else {
				v = (MLink*)l->fresh;	// zero
				l->fresh += TinySize;
			}
			istiny = true;
			// Keep whichever block has more room left.
			if(TinySize-size > tinysize) {
				c->tiny = (byte*)v + size;
				c->tinysize = TinySize - size;
			}
			size = TinySize;
			goto done;
		}
		// Inlined SizeToClass.
		if(size <= 1024-8)
			sizeclass = runtime_size_to_class8[(size+7)>>3];
		else
			sizeclass = runtime_size_to_class128[(size-1024+127) >> 7];
		size = runtime_class_to_size[sizeclass];
		spc = spanclass(sizeclass, flag & FlagNoScan);
		l = &c->list[spc];
		if((v = l->list) != nil) {
			next = v->next;
			if(next != nil)
				PREFETCH(next);
			l->list = next;
			l->nlist--;
			if(!(flag & FlagNoZero)) {
				v->next = nil;
				// The block is zero iff its second word is zero.
				if(size > sizeof(uintptr) && ((uintptr*)v)[1] != 0)
					memset(v, 0, size);
			}
		} else {
			// The next block of a fresh span (zero), after a refill
			// if there is none. A refill that finds a swept span
			// brings a list instead.
			if(l->fresh == l->freshend)
				MCache_Refill(c, spc);
			if((v = l->list) != nil) {
				l->list = v->next;
				l->nlist--;
				v->next = nil;
				if(!(flag & FlagNoZero) && size > sizeof(uintptr) && ((uintptr*)v)[1] != 0)
					memset(v, 0, size);
			} else {
				v = (MLink*)l->fresh;
				l->fresh += size;
			}
		}
	done:
		c->local_cachealloc += size;
	} else {
		// Large (or efence): whole pages from the heap.
		v = largealloc(flag, &size);
		islarge = true;
	}

	// A free small block's bits are its span class's (mgc0.h): only the
	// other kinds are written.
	if(flag & FlagNoGC)
		runtime_marknogc(v);
	else if(istiny)
		runtime_marktiny(v);
	else if(islarge && (flag & FlagNoScan))
		runtime_marknoscan(v);

	mp->mallocing = 0;
	if(typ != 0 && !(flag & FlagNoScan))
		settype(v, typ);
	profile = profilesample(c, size, flag);
	mp->locks--;

	if(runtime_debug.allocfreetrace)
		runtime_tracealloc(v, size, typ);
	if(profile)
		runtime_MProf_Malloc(v, size);

	if(!(flag & FlagNoInvokeGC) && mstats.heap_alloc >= mstats.next_gc)
		runtime_gc(0);

	return v;
}

static void*
largealloc(uint32 flag, uintptr *sizep)
{
	uintptr npages, size;
	MSpan *s;
	void *v;

	size = *sizep;
	if(size + PageSize < size)
		runtime_throw("out of memory");
	npages = size >> PageShift;
	if((size & PageMask) != 0)
		npages++;
	s = MHeap_Alloc(&runtime_mheap, npages, 0, 1, !(flag & FlagNoZero));
	if(s == nil)
		runtime_throw("out of memory");
	s->limit = (byte*)(s->start<<PageShift) + size;
	*sizep = npages<<PageShift;
	v = (void*)(s->start << PageShift);
	// One block start, for the collector.
	runtime_markspan(v, 0, 0, true, false);
	return v;
}

void*
runtime_malloc(uintptr size)
{
	return runtime_mallocgc(size, 0, FlagNoInvokeGC);
}

// Free the object whose base pointer is v.
void
runtime_free(void *v)
{
	M *mp;
	MSpan *s;
	MCache *c;
	int32 sizeclass;
	uintptr size, bits;
	byte *base;

	if(v == nil)
		return;

	// The sweeper (mgc0.c) has a copy of the guts of this function:
	// change both together.
	mp = runtime_mcheck("free");
	if(mp->mallocing)
		runtime_throw("malloc/free - deadlock");
	mp->mallocing = 1;

	if(!runtime_mlookup(v, nil, nil, &s)) {
		runtime_printf("runtime: free %p: not an allocated block\n", v);
		runtime_throw("free runtime_mlookup");
	}
	// Free only into a swept span: freeing into an unswept one would
	// corrupt its mark bits. Sweep before the checks below: if that
	// sweep frees v itself (garbage the caller still had in memory the
	// collector does not scan), v is free by the time we look, and a
	// check made before the sweep would let it onto two free lists. The
	// caller must hold m->locks around EnsureSwept (go1.3 follow-up
	// 6e612ae0).
	mp->locks++;
	if(runtime_atomicload(&s->sweepgen) != runtime_atomicload(&runtime_mheap.sweepgen)) {
		MSpan_EnsureSwept(s);
		// That sweep may have given the whole span back to the heap.
		if(!runtime_mlookup(v, nil, nil, &s)) {
			runtime_printf("runtime: free %p: block was freed by the collector\n", v);
			runtime_throw("free: double free");
		}
	}
	mp->locks--;

	// Only block starts have bits in the heap bitmap (no divide needed
	// to find the block). Go does not check this.
	bits = runtime_getbits(v);
	if(((uintptr)v & (PtrSize-1)) != 0 || (bits & (bitsAllocated|bitsScan)) == 0) {
		runtime_mlookup(v, &base, nil, nil);
		runtime_printf("runtime: free %p: not the start of a block (block at %p)\n", v, base);
		runtime_throw("free: pointer not at beginning of allocated block");
	}
	size = s->elemsize;
	sizeclass = s->sizeclass;
	// Go refuses every block under TinySize here ("freeing too small
	// block"), as a guard against freeing tiny objects. gort marks tiny
	// blocks in the bitmap instead (bitTinyBlock, below), so it refuses
	// exactly those, and an 8-byte gort_malloc block can be freed.

	// A block on a free list carries a "needs zeroing" word; if this one
	// does, make sure it is not free already before corrupting the lists
	// with it (Go does not check; see isfreeblock).
	if(sizeclass != 0 && (((uintptr*)v)[1] == (uintptr)0xfeedfeedfeedfeedULL ||
			      ((uintptr*)v)[1] == (uintptr)0xdeaddeaddeaddeadULL) &&
	   isfreeblock(mp->mcache, s, v)) {
		runtime_printf("runtime: free %p: block is already free\n", v);
		runtime_throw("free: double free");
	}
	// A tiny block may hold several objects (see mallocgc).
	if(sizeclass == TinySizeClass && (bits & bitTinyBlock) != 0) {
		runtime_printf("runtime: free %p: tiny object (allocated with FlagNoScan and size < %d)\n", v, TinySize);
		runtime_throw("freeing tiny object");
	}

	if(s->specials != nil)
		runtime_freeallspecials(s, v, size);

	c = mp->mcache;
	if(sizeclass == 0) {
		// Large object.
		*(uintptr*)(s->start<<PageShift) = (uintptr)0xfeedfeedfeedfeedULL;	// needs zeroing
		// markfreed before unmarkspan and MHeap_Free: they may
		// coalesce v into other spans and change the bitmap further.
		runtime_markfreed(v, size, false);
		runtime_unmarkspan(v, 1<<PageShift);
		runtime_freelarge(c, s, size);
	} else {
		// Small object.
		// Mark as "needs zeroing" (word 0 becomes the list link). Go
		// zeroes word 1 of a 16-byte block instead; gort marks it too,
		// so that isfreeblock can recognise a freed 16-byte block, and
		// mallocgc clears any block from 16 bytes up whose word 1 is set.
		if(size > sizeof(uintptr))
			((uintptr*)v)[1] = (uintptr)0xfeedfeedfeedfeedULL;
		// markfreed before MCache_Free, which may give the span back
		// to the heap and change the bitmap further.
		runtime_markfreed(v, size, s->noscan);
		// Forget the block's type, as the sweeper does: a later untyped
		// allocation of this slot would otherwise be scanned with the
		// old type's ptrmask, and what it points to would be freed.
		cleartype(s, v);
		c->local_nsmallfree[sizeclass]++;
		MCache_Free(c, v, MSpan_Class(s), size);
	}
	mp->mallocing = 0;
	// Traced out of the allocator, so that the trace may name the frames
	// (mprof.c: not with mallocing set).
	if(runtime_debug.allocfreetrace)
		runtime_tracefree(v, size);
}

// Is small block v already free: on the freeing M's cache list for its
// class, or on its span's free list? Called only for blocks that carry a
// "needs zeroing" word, so its cost is paid on suspect frees alone. A
// block sitting in another M's cache is not seen (best effort there).
static bool
isfreeblock(MCache *c, MSpan *s, void *v)
{
	MCentral *central;
	MLink *x;
	bool found;

	for(x = c->list[MSpan_Class(s)].list; x != nil; x = x->next)
		if(x == v)
			return true;
	central = &runtime_mheap.central[MSpan_Class(s)].mcentral;
	found = false;
	runtime_lock(&central->lock);
	for(x = s->freelist; x != nil; x = x->next)
		if(x == v) {
			found = true;
			break;
		}
	runtime_unlock(&central->lock);
	return found;
}

// Give a large object's span back (explicit free and sweep share this):
// to the heap, or, under efence, to the OS for good.
void
runtime_freelarge(MCache *c, MSpan *s, uintptr size)
{
	if(runtime_debug.efence)
		runtime_efencefree(s);
	else
		MHeap_Free(&runtime_mheap, s, 1);
	c->local_nlargefree++;
	c->local_largefree += size;
}

// efence: the freed object's pages go back to the OS and stay
// inaccessible; the address range is never reused, so a use after free
// faults. The span record stays (marked dead) so that a second free of
// the same address is reported, not mistaken for a live block.
void
runtime_efencefree(MSpan *s)
{
	MHeap *h;
	uintptr npages;

	h = &runtime_mheap;
	npages = s->npages;
	runtime_lock(&h->lock);
	MSpanList_Remove(s);	// off the busy list
	s->state = MSpanDead;
	mstats.heap_inuse -= npages<<PageShift;
	mstats.heap_alloc -= npages<<PageShift;
	mstats.heap_objects--;
	runtime_unlock(&h->lock);
	runtime_SysFault((void*)(s->start<<PageShift), npages<<PageShift, &mstats.heap_sys);
}

int32
runtime_mlookup(void *v, byte **base, uintptr *size, MSpan **sp)
{
	M *mp;
	uintptr n, i;
	byte *p;
	MSpan *s;

	mp = runtime_m();
	if(mp != nil) {
		// m->locks: gort_set_finalizer calls us with none held, and a
		// G stopped by the signal between the load of mcache and the
		// increment would finish it in its old P's cache, which by
		// then another M may own.
		mp->locks++;
		if(mp->mcache != nil)
			mp->mcache->local_nlookup++;
		mp->locks--;
	}

	s = MHeap_LookupMaybe(&runtime_mheap, v);
	if(sp)
		*sp = s;
	if(s == nil) {
		runtime_checkfreed(v, 1);
		if(base)
			*base = nil;
		if(size)
			*size = 0;
		return 0;
	}

	p = (byte*)((uintptr)s->start<<PageShift);
	if(s->sizeclass == 0) {
		// Large object.
		if(base)
			*base = p;
		if(size)
			*size = s->npages<<PageShift;
		return 1;
	}

	n = s->elemsize;
	if(base) {
		i = MSpan_ObjIndex(s, (byte*)v - p);
		*base = p + i*n;
	}
	if(size)
		*size = n;
	return 1;
}

MCache*
runtime_allocmcache(void)
{
	int32 rate;
	MCache *c;

	runtime_lock(&runtime_mheap.lock);
	c = FixAlloc_Alloc(&runtime_mheap.cachealloc);
	runtime_unlock(&runtime_mheap.lock);
	memset(c, 0, sizeof(*c));

	// First allocation sample point.
	rate = runtime_MemProfileRate;
	if(rate > 0x3fffffff)	// keep 2*rate from overflowing
		rate = 0x3fffffff;
	if(rate != 0)
		c->next_sample = runtime_fastrand1() % (2*rate);
	return c;
}

void
runtime_freemcache(MCache *c)
{
	MCache_ReleaseAll(c);
	runtime_lock(&runtime_mheap.lock);
	runtime_purgecachedstats(c);
	FixAlloc_Free(&runtime_mheap.cachealloc, c);
	runtime_unlock(&runtime_mheap.lock);
}

// Fold a cache's local statistics into the global ones. Heap locked (or
// the world stopped).
void
runtime_purgecachedstats(MCache *c)
{
	MHeap *h;
	int32 i;

	h = &runtime_mheap;
	mstats.heap_alloc += c->local_cachealloc;
	c->local_cachealloc = 0;
	mstats.nlookup += c->local_nlookup;
	c->local_nlookup = 0;
	h->largefree += c->local_largefree;
	c->local_largefree = 0;
	h->nlargefree += c->local_nlargefree;
	c->local_nlargefree = 0;
	for(i = 0; i < (int32)nelem(c->local_nsmallfree); i++) {
		h->nsmallfree[i] += c->local_nsmallfree[i];
		c->local_nsmallfree[i] = 0;
	}
}

// GORT_ARENA_MAX: the size of the heap arena, read at boot. By default
// (and at most) MaxMem, 128 GB of address space, reserved but committed
// only as the heap grows. A smaller arena caps the heap: past it,
// MHeap_Grow fails and the allocation is Go's "out of memory". It also
// shrinks the reservation, so that gort can run under `ulimit -v`. The
// value is in bytes, optionally with Go's GOMEMLIMIT suffixes (B, KiB,
// MiB, GiB, TiB), and is rounded up to a multiple of HeapAllocChunk
// (1 MB, at least one): then the bitmap and the spans map, which grow in
// chunks, stay inside their parts of the reservation. Anything else is
// fatal, as a malformed GOMEMLIMIT is in Go.
static uintptr
arenamax(void)
{
	static const struct { const char *suffix; uint32 shift; } units[] = {
		{"", 0}, {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
	};
	const char *p, *s;
	uint64 n;
	uint32 i;

	p = runtime_getenv("GORT_ARENA_MAX");
	if(p == nil || p[0] == '\0')
		return MaxMem;
	n = 0;
	for(s = p; *s >= '0' && *s <= '9'; s++)
		if(n <= MaxMem)	// saturates past MaxMem without overflowing
			n = n*10 + (*s - '0');
	for(i = 0; s != p && i < nelem(units); i++)
		if(strcmp(s, units[i].suffix) == 0)
			break;
	if(s == p || i == nelem(units)) {
		runtime_printf("runtime: GORT_ARENA_MAX=%s: want a number of bytes, optionally with B, KiB, MiB, GiB or TiB\n", p);
		runtime_throw("malformed GORT_ARENA_MAX");
	}
	if(n > (MaxMem >> units[i].shift))
		return MaxMem;
	n <<= units[i].shift;
	if(n == 0)
		n = 1;
	return ROUND(n, HeapAllocChunk);
}

// Set up the arena: one contiguous reservation, laid out low to high as
//	spans map (8 bytes per page) | heap bitmap (4 bits per word) | arena
// with the bitmap growing down from arena_start. Go asks for the
// reservation at 0x00XXc000000000 (XX = 00..7f): such addresses are not
// valid UTF-8 and far from 0xff, so a conservatively scanned word is
// unlikely to look like a heap pointer by chance. Some of those addresses
// are taken (AddressSanitizer's shadow covers the first few), so the loop
// falls through to later ones and finally to any address.
void
runtime_mallocinit(void)
{
	byte *p;
	uintptr arena_size, bitmap_size, spans_size, total;
	uint64 i;
	M *mp;

	runtime_InitSizes();
	if(runtime_class_to_size[TinySizeClass] != TinySize)
		runtime_throw("bad TinySizeClass");

	arena_size = arenamax();
	bitmap_size = arena_size / (sizeof(void*)*8/4);
	spans_size = arena_size / PageSize * sizeof(runtime_mheap.spans[0]);
	spans_size = ROUND(spans_size, PageSize);
	total = bitmap_size + spans_size + arena_size + PageSize;
	p = nil;
	for(i = 0; i <= 0x7f; i++) {
		p = runtime_SysReserve((void*)(i<<40 | 0x00c0ULL<<32), total);
		if(p != nil)
			break;
	}
	if(p == nil)
		p = runtime_SysReserve(nil, total);
	if(p == nil) {
		runtime_printf("runtime: cannot reserve %llu bytes for the arena (ulimit -v? GORT_ARENA_MAX makes it smaller)\n",
			(unsigned long long)total);
		runtime_throw("runtime: cannot reserve arena virtual address space");
	}

	// PageSize may exceed the OS page: we asked for PageSize more.
	p = (byte*)ROUND((uintptr)p, PageSize);

	runtime_mheap.spans = (MSpan**)p;
	runtime_mheap.bitmap = p + spans_size;
	runtime_mheap.arena_start = p + spans_size + bitmap_size;
	runtime_mheap.arena_used = runtime_mheap.arena_start;
	runtime_mheap.arena_end = runtime_mheap.arena_start + arena_size;

	// The rest of the allocator.
	MHeap_Init(&runtime_mheap);
	mp = runtime_m();
	mp->mcache = runtime_allocmcache();

	// See if it works.
	runtime_free(runtime_malloc(TinySize));
}

// Take n more bytes of the arena from the reservation. Heap locked.
void*
MHeap_SysAlloc(MHeap *h, uintptr n)
{
	byte *p;

	if(n > (uintptr)(h->arena_end - h->arena_used))
		return nil;	// the reservation is all we have on 64-bit
	p = h->arena_used;
	runtime_SysMap(p, n, &mstats.heap_sys);
	h->arena_used += n;
	MHeap_MapBits(h);
	MHeap_MapSpans(h);
	return p;
}

// persistentalloc: memory for runtime records that live forever (FixAlloc
// chunks, profile buckets, M/G/P records, finalizer blocks, parfor
// descriptors). No free. Carved from 256 KB chunks; blocks of 64 KB or
// more go straight to SysAlloc.
static struct
{
	Lock	lock;
	byte*	pos;	// lock
	byte*	end;	// lock
} persistent = { .lock = LOCK_INIT(LockRankPersistent) };

enum
{
	PersistentAllocChunk	= 256<<10,
	PersistentAllocMaxBlock	= 64<<10,
};

// Grow an array kept outside the GC heap, in pages from the OS: old holds
// *capp elements of elemsize bytes, len of them in use. The new one has
// twice the capacity, and at least a page's worth; the first len elements
// are copied and the old array freed, unless keepold (a lock-free reader
// may still hold it). Charged to stat; dies if the OS refuses. The one
// copy of a pattern allg, the timer heap, the root lists and the mark
// verifier's stack all need.
void*
runtime_SysGrow(void *old, uintptr len, uintptr *capp, uintptr elemsize, bool keepold, uint64 *stat)
{
	uintptr cap;
	void *new;

	cap = 2 * *capp;
	if(cap*elemsize < PageSize)
		cap = PageSize / elemsize;
	new = runtime_SysAlloc(ROUND(cap*elemsize, PageSize), stat);
	if(new == nil)
		runtime_throw("runtime: cannot allocate memory");
	if(old != nil) {
		memmove(new, old, len*elemsize);
		if(!keepold)
			runtime_SysFree(old, ROUND(*capp*elemsize, PageSize), stat);
	}
	*capp = cap;
	return new;
}

void*
runtime_persistentalloc(uintptr size, uintptr align, uint64 *stat)
{
	byte *p;

	if(align != 0) {
		if(align&(align-1))
			runtime_throw("persistentalloc: align is not a power of 2");
		if(align > PageSize)
			runtime_throw("persistentalloc: align is too large");
	} else
		align = 8;
	if(size >= PersistentAllocMaxBlock)
		return runtime_SysAlloc(size, stat);
	runtime_lock(&persistent.lock);
	persistent.pos = (byte*)ROUND((uintptr)persistent.pos, align);
	if(persistent.pos + size > persistent.end) {
		persistent.pos = runtime_SysAlloc(PersistentAllocChunk, &mstats.other_sys);
		if(persistent.pos == nil) {
			runtime_unlock(&persistent.lock);
			runtime_throw("runtime: cannot allocate memory");
		}
		persistent.end = persistent.pos + PersistentAllocChunk;
	}
	p = persistent.pos;
	persistent.pos += size;
	runtime_unlock(&persistent.lock);
	if(stat != &mstats.other_sys) {
		// Charge the bytes to the caller's statistic.
		runtime_xadd64(stat, size);
		runtime_xadd64(&mstats.other_sys, -(int64)size);
	}
	return p;
}

// Per-span type records (Go's settype_flush/gettype). Go buffers
// (v, typ) pairs per M and flushes them in batches; gort records each at
// once, outside mallocing but under m->locks (so no collection comes in
// between). The type tables are pointer-free heap blocks; the collector
// marks them from RootSpanTypes.
//
// Locking. Creating a table (Empty -> Bytes), adding a type to a Bytes
// table, converting it to Words, and clearing a slot on free
// (cleartype) take settype_lock. The common case — a small block whose
// type is already one of its span's Bytes table's seven — takes no lock:
// one byte store (settypefast). Writers publish so that it can tell:
// creation stores data, then compression (release); conversion stores
// compression, then data (release). settypefast loads compression, data,
// compression again (acquire), and goes the slow way unless both say
// Bytes. Its store may still land in a table that a conversion has just
// copied: the new table then keeps the slot's old entry, 0 (a free slot's
// entry is always 0: sweep and free clear it, new tables are zeroed), so
// the block is scanned conservatively — never less than its type says.
// The old table cannot be freed under the store: m->locks is held, so no
// collection runs. Only the collector reads the tables (gettype), with
// the world stopped.
static Lock settype_lock = LOCK_INIT(LockRankSettype);

static bool
settypefast(MSpan *s, uintptr ofs, uintptr typ)
{
	byte *data3;
	uintptr j;

	if(__atomic_load_n(&s->types.compression, __ATOMIC_ACQUIRE) != MTypes_Bytes)
		return false;
	data3 = (byte*)__atomic_load_n(&s->types.data, __ATOMIC_ACQUIRE);
	if(__atomic_load_n(&s->types.compression, __ATOMIC_ACQUIRE) != MTypes_Bytes)
		return false;
	for(j = 1; j < 8; j++) {
		if(((uintptr*)data3)[j] == typ) {
			__atomic_store_n(&data3[8*sizeof(uintptr) + ofs], (byte)j, __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}

static inline void
settype(void *v, uintptr typ)
{
	MSpan *s;
	uintptr ofs;

	s = MHeap_Lookup(&runtime_mheap, v);
	if(s->sizeclass == 0) {
		// A large span is this block's alone.
		s->types.compression = MTypes_Single;
		s->types.data = typ;
		return;
	}
	ofs = MSpan_ObjIndex(s, (uintptr)v - (s->start<<PageShift));
	if(!settypefast(s, ofs, typ))
		settypeslow(s, ofs, typ);
}

// settype's locked part, out of line so that the fast path inlines
// with no frame to set up (it was half of settype's time).
static NOINLINE void
settypeslow(MSpan *s, uintptr ofs, uintptr typ)
{
	uintptr size, j, t, ntypes;
	uintptr *new2;
	byte *data3, *new3;
	bool needbytes;

	size = s->elemsize;
	ntypes = (s->npages << PageShift) / size;
	// A new table is allocated before settype_lock is taken: allocating
	// may sweep, and a sweep takes finlock and proflock, which rank above
	// settype_lock (enum LockRank). So: look under the lock, and if a
	// table is needed, drop the lock, allocate it, and look again (a
	// table another thread made meanwhile wins; ours is garbage). m->locks
	// is held throughout, so no collection runs in between.
	new2 = nil;
	new3 = nil;
	for(;;) {
		runtime_lock(&settype_lock);
		switch(s->types.compression) {
		case MTypes_Empty:
			needbytes = true;
			if(new3 == nil)
				break;
			new3[8*sizeof(uintptr) + ofs] = 1;
			((uintptr*)new3)[1] = typ;
			__atomic_store_n(&s->types.data, (uintptr)new3, __ATOMIC_RELEASE);
			__atomic_store_n(&s->types.compression, MTypes_Bytes, __ATOMIC_RELEASE);
			goto done;

		case MTypes_Words:
			((uintptr*)s->types.data)[ofs] = typ;
			goto done;

		case MTypes_Bytes:
			data3 = (byte*)s->types.data;
			for(j = 1; j < 8; j++) {
				if(((uintptr*)data3)[j] == typ)
					break;
				if(((uintptr*)data3)[j] == 0) {
					__atomic_store_n(&((uintptr*)data3)[j], typ, __ATOMIC_RELEASE);
					break;
				}
			}
			if(j < 8) {
				data3[8*sizeof(uintptr) + ofs] = j;
				goto done;
			}
			needbytes = false;
			if(new2 == nil)
				break;
			// An eighth type: switch to one word per block.
			for(j = 0; j < ntypes; j++) {
				t = data3[8*sizeof(uintptr) + j];
				new2[j] = ((uintptr*)data3)[t];
			}
			new2[ofs] = typ;
			__atomic_store_n(&s->types.compression, MTypes_Words, __ATOMIC_RELEASE);
			__atomic_store_n(&s->types.data, (uintptr)new2, __ATOMIC_RELEASE);
			goto done;

		case MTypes_Single:
		default:
			runtime_throw("settype: bad span type compression");
		}
		// A table is needed: allocate it without the lock. A FlagNoScan
		// block records no type, so mallocgc does not come back here.
		runtime_unlock(&settype_lock);
		if(needbytes)
			new3 = runtime_mallocgc(8*sizeof(uintptr) + 1*ntypes, 0, FlagNoProfiling|FlagNoScan|FlagNoInvokeGC);
		else
			new2 = runtime_mallocgc(ntypes * sizeof(uintptr), 0, FlagNoProfiling|FlagNoScan|FlagNoInvokeGC);
	}
done:
	runtime_unlock(&settype_lock);
}

// Clear the type record of small block v of span s (being freed). Under
// settype_lock: another P may be allocating from s and rewriting its
// table (Bytes -> Words) at the same time.
static void
cleartype(MSpan *s, void *v)
{
	uintptr ofs;

	if(s->types.compression != MTypes_Words && s->types.compression != MTypes_Bytes)
		return;
	runtime_lock(&settype_lock);
	ofs = MSpan_ObjIndex(s, (uintptr)v - (s->start<<PageShift));
	if(s->types.compression == MTypes_Words)
		((uintptr*)s->types.data)[ofs] = 0;
	else if(s->types.compression == MTypes_Bytes)
		((byte*)s->types.data)[8*sizeof(uintptr) + ofs] = 0;
	runtime_unlock(&settype_lock);
}

uintptr
runtime_gettype(void *v)
{
	MSpan *s;

	s = MHeap_LookupMaybe(&runtime_mheap, v);
	if(s == nil)
		return 0;
	if(s->types.compression > MTypes_Bytes)
		runtime_throw("runtime_gettype: invalid compression kind");
	return MSpan_Type(s, (uintptr)v - (s->start<<PageShift));
}

// ---- public API -------------------------------------------------------------

// Which of t's words are pointers: none (the block is FlagNoScan), some
// (the block records its type and is scanned precisely), or all. A type
// whose every word is a pointer slot needs no type record: the
// conservative scan of an untyped block reads exactly the words the
// precise scan would (the block's padding past t->size stays zero), so
// gort_new allocates it untyped, saving settype on every allocation and
// the type lookup on every mark (gort; see docs/names.md). A byte of the
// mask at a time (a type of up to 8 words is one load), the last byte cut
// to the type's words.
enum { TypeNoPointers, TypeSomePointers, TypeAllPointers };

static inline int32
typepointers(const GortType *t)
{
	uintptr i, nwords, m;
	bool any, all;

	if(t->ptrmask == nil)
		return TypeNoPointers;
	nwords = t->size / PtrSize;
	any = false;
	all = t->size % PtrSize == 0;
	for(i = 0; i + 8 <= nwords; i += 8) {
		any |= t->ptrmask[i/8] != 0;
		all &= t->ptrmask[i/8] == 0xff;
	}
	if(i < nwords) {
		m = (1u << (nwords - i)) - 1;
		any |= (t->ptrmask[i/8] & m) != 0;
		all &= (t->ptrmask[i/8] & m) == m;
	}
	if(!any)
		return TypeNoPointers;
	return all ? TypeAllPointers : TypeSomePointers;
}

GORT_API GORT_ALLOCAPI void*
gort_malloc(size_t n)
{
	return runtime_mallocgc(n, 0, 0);
}

GORT_API GORT_ALLOCAPI void*
gort_malloc_noscan(size_t n)
{
	return runtime_mallocgc(n, 0, FlagNoScan);
}

static void*
cnew(const GortType *t, uintptr n, uintptr objtyp)
{
	if(t == nil)
		runtime_throw("gort_new: nil type");
	if(((uintptr)t & (PtrSize-1)) != 0)
		runtime_throw("runtime: invalid objtyp");
	if(t->size > 0 && n > MaxMem/t->size) {
		runtime_printf("runtime: gort_new_array(%s, %zu): allocation size out of range\n",
			t->name ? t->name : "?", (size_t)n);
		runtime_throw("runtime: allocation size out of range");
	}
	switch(typepointers(t)) {
	case TypeNoPointers:
		return runtime_mallocgc(t->size*n, (uintptr)t | objtyp, FlagNoScan);
	case TypeAllPointers:
		return runtime_mallocgc(t->size*n, 0, 0);
	}
	return runtime_mallocgc(t->size*n, (uintptr)t | objtyp, 0);
}

GORT_API GORT_ALLOCAPI void*
gort_new(const GortType *t)
{
	return cnew(t, 1, TypeInfo_SingleObject);
}

GORT_API GORT_ALLOCAPI void*
gort_new_array(const GortType *t, size_t n)
{
	return cnew(t, n, TypeInfo_Array);
}

GORT_API GORT_ALLOCAPI void
gort_free(void *p)
{
	if(p == runtime_zerobase)
		return;	// a 0-byte allocation: nothing to give back
	runtime_free(p);
}
