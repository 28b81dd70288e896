// check_mheap: the page heap (mheap.c) on the global runtime_mheap:
// allocating and freeing runs of pages with their statistics and spans
// map entries, coalescing with both neighbours, large spans (freelarge,
// busylarge), best fit, interior-pointer lookup, the scavenger's release
// step, heap growth in 1 MB steps, the statistics invariants, and the
// fatal error for a double free.
//
// Several tests first "drain" the heap: they allocate every free span
// whole, so that no free span is left. From then on the only free span is
// the one MHeap_Grow adds at the end of the arena, and a sequence of
// allocations takes consecutive pages from its front: the layout of the
// spans they make is known.
#include <time.h>

#include "testutil.h"
#include "malloc.h"
#include "spanutil.h"

#define H	(&runtime_mheap)


static uintptr
bytes(MSpan *s)
{
	return s->npages << PageShift;
}

// A large-object span of npages pages, zeroed, with its limit set as
// largealloc sets it.
static MSpan*
alloc(uintptr npages)
{
	MSpan *s;

	s = MHeap_Alloc(H, npages, 0, 1, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->npages, npages);
	s->limit = base(s) + bytes(s);
	return s;
}

static void
release(MSpan *s)
{
	MHeap_Free(H, s, 1);
}


// Fold the M's cached allocation count into heap_alloc, so that
// MHeap_Alloc/Free do not fold it in the middle of a measurement.
static void
flushlocal(void)
{
	runtime_lock(&H->lock);
	runtime_purgecachedstats(runtime_m()->mcache);
	runtime_unlock(&H->lock);
}

static void
assert_zero(const byte *p, uintptr n)
{
	const uint64 *w = (const uint64*)p;
	uintptr i;

	for(i = 0; i < n/8; i++)
		if(w[i] != 0)
			ck_abort_msg("word at %p (offset %zu of %zu) is %#llx, want 0",
				(void*)&w[i], (size_t)(i*8), (size_t)n, (unsigned long long)w[i]);
}

// Allocate every free span whole (and keep it): afterwards the heap has
// no free span at all.
static void
drain(void)
{
	uintptr n;

	for(n = 1; n < MaxMHeapList; n++)
		while(!MSpanList_IsEmpty(&H->free[n]))
			alloc(n);
	while(!MSpanList_IsEmpty(&H->freelarge))
		alloc(H->freelarge.next->npages);
	ck_assert_uint_eq(mstats.heap_idle, 0);
}

// The heap's books balance: the free lists hold exactly heap_idle bytes
// (and heap_released of them are released), every free span is on the
// list for its size with its first and last pages mapped to it and no
// free neighbour, the in-use spans add up to heap_inuse, and idle plus
// in use is heap_sys.
static void
check_heap(void)
{
	MSpan *list, *s, *t;
	uint64 idle, released, idle2, inuse;
	uintptr n, p;
	uint32 i;

	runtime_lock(&H->lock);
	idle = released = 0;
	for(n = 0; n <= MaxMHeapList; n++) {
		list = n < MaxMHeapList ? &H->free[n] : &H->freelarge;
		for(s = list->next; s != list; s = s->next) {
			ck_assert_int_eq(s->state, MSpanFree);
			if(n < MaxMHeapList)
				ck_assert_uint_eq(s->npages, n);
			else
				ck_assert_uint_ge(s->npages, MaxMHeapList);
			ck_assert_uint_le(s->npreleased, s->npages);
			p = s->start - ((uintptr)H->arena_start >> PageShift);
			ck_assert_ptr_eq(H->spans[p], s);
			ck_assert_ptr_eq(H->spans[p + s->npages - 1], s);
			// Coalesced: no free neighbour on either side.
			if(p > 0 && (t = H->spans[p-1]) != nil)
				ck_assert_int_ne(t->state, MSpanFree);
			if(base(s) + bytes(s) < H->arena_used && (t = H->spans[p + s->npages]) != nil)
				ck_assert_int_ne(t->state, MSpanFree);
			idle += bytes(s);
			released += s->npreleased << PageShift;
		}
	}
	idle2 = inuse = 0;
	for(i = 0; i < H->nspan; i++) {
		s = H->allspans[i];
		if(s->state == MSpanInUse)
			inuse += bytes(s);
		else if(s->state == MSpanFree)
			idle2 += bytes(s);
	}
	ck_assert_uint_eq(idle, mstats.heap_idle);
	ck_assert_uint_eq(idle2, mstats.heap_idle);
	ck_assert_uint_eq(inuse, mstats.heap_inuse);
	ck_assert_uint_eq(released, mstats.heap_released);
	ck_assert_uint_eq(mstats.heap_idle + mstats.heap_inuse, mstats.heap_sys);
	ck_assert_uint_eq(mstats.heap_sys, (uintptr)(H->arena_used - H->arena_start));
	runtime_unlock(&H->lock);
}

// ---- alloc and free ------------------------------------------------------------

GORT_TEST(test_alloc_free_basics)
{
	MStats st0;
	MSpan *s, *s2;
	uintptr i;
	byte *b;

	check_heap();
	flushlocal();
	st0 = mstats;
	s = MHeap_Alloc(H, 5, 0, 1, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->state, MSpanInUse);
	ck_assert_uint_eq(s->npages, 5);
	ck_assert_uint_eq(s->elemsize, 5*PageSize);
	ck_assert_int_eq(s->sizeclass, 0);
	ck_assert_uint_eq(s->ref, 0);
	ck_assert_uint_eq(s->npreleased, 0);
	ck_assert_uint_eq(s->sweepgen, H->sweepgen);
	ck_assert_int_eq(s->types.compression, MTypes_Empty);
	b = base(s);
	ck_assert_uint_ge((uintptr)(b), (uintptr)(H->arena_start));
	ck_assert_uint_le((uintptr)(b + 5*PageSize), (uintptr)(H->arena_used));
	// Every page maps to the span.
	for(i = 0; i < 5; i++)
		ck_assert_ptr_eq(MHeap_Lookup(H, b + i*PageSize + 123), s);
	// A large object: on busy[5], counted as one object.
	ck_assert(onlist(&H->busy[5], s));
	ck_assert_uint_eq(mstats.heap_inuse - st0.heap_inuse, 5*PageSize);
	ck_assert_uint_eq(mstats.heap_alloc - st0.heap_alloc, 5*PageSize);
	ck_assert_uint_eq(mstats.heap_objects - st0.heap_objects, 1);
	ck_assert_uint_eq(mstats.heap_idle + mstats.heap_inuse, mstats.heap_sys);
	assert_zero(b, 5*PageSize);
	memset(b, 0xab, 5*PageSize);
	check_heap();

	MHeap_Free(H, s, 1);
	ck_assert_uint_eq(mstats.heap_inuse, st0.heap_inuse);
	ck_assert_uint_eq(mstats.heap_alloc, st0.heap_alloc);
	ck_assert_uint_eq(mstats.heap_objects, st0.heap_objects);
	ck_assert_uint_eq(mstats.heap_idle, st0.heap_idle);
	ck_assert_uint_eq(mstats.heap_sys, st0.heap_sys);
	// The freed record survives (it absorbs free neighbours).
	ck_assert_int_eq(s->state, MSpanFree);
	ck_assert_uint_le((uintptr)(base(s)), (uintptr)(b));
	ck_assert_uint_ge((uintptr)(base(s) + bytes(s)), (uintptr)(b + 5*PageSize));
	ck_assert_ptr_eq(MHeap_Lookup(H, base(s)), s);
	ck_assert(!onlist(&H->busy[5], s));
	ck_assert(onlist(s->npages < MaxMHeapList ? &H->free[s->npages] : &H->freelarge, s));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, b));
	check_heap();

	// The same pages again (the front of the same free span), zeroed
	// again: the span's first word said they were dirty.
	s2 = alloc(5);
	ck_assert_ptr_eq(base(s2), b);
	assert_zero(b, 5*PageSize);
	release(s2);

	// A small-object span (large = 0): its class's element size; not a
	// heap object, not on a busy list.
	flushlocal();
	st0 = mstats;
	s = MHeap_Alloc(H, 2, 34, 0, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->sizeclass, 34);
	ck_assert_uint_eq(s->elemsize, 1408);
	ck_assert_ptr_null(s->next);
	ck_assert_ptr_null(s->prev);
	ck_assert_uint_eq(mstats.heap_inuse - st0.heap_inuse, 2*PageSize);
	ck_assert_uint_eq(mstats.heap_alloc, st0.heap_alloc);
	ck_assert_uint_eq(mstats.heap_objects, st0.heap_objects);
	MHeap_Free(H, s, 0);
	ck_assert_uint_eq(mstats.heap_inuse, st0.heap_inuse);
	ck_assert_uint_eq(mstats.heap_alloc, st0.heap_alloc);
	check_heap();
}

// zeroed = 0 leaves the pages as they were; zeroed = 1 clears them only
// when the first word says they are dirty.
GORT_TEST(test_alloc_zeroed_flag)
{
	MSpan *s;
	byte *b;

	drain();
	s = alloc(3);
	b = base(s);
	memset(b, 0x77, 3*PageSize);
	release(s);
	s = MHeap_Alloc(H, 3, 0, 1, 0);
	ck_assert_ptr_eq(base(s), b);
	ck_assert_int_eq(b[3*PageSize - 1], 0x77);
	ck_assert_int_eq(b[PageSize], 0x77);
	release(s);
	s = MHeap_Alloc(H, 3, 0, 1, 1);
	ck_assert_ptr_eq(base(s), b);
	assert_zero(b, 3*PageSize);
	release(s);
}

// ---- coalescing --------------------------------------------------------------

GORT_TEST(test_coalesce)
{
	MSpan *a, *b, *c, *sp, *m;
	uint64 idle0;
	byte *start;

	drain();
	a = alloc(3);
	b = alloc(5);
	c = alloc(7);
	sp = alloc(1);	// keeps c from merging with the rest of the arena
	ck_assert_uint_eq(b->start, a->start + 3);
	ck_assert_uint_eq(c->start, b->start + 5);
	ck_assert_uint_eq(sp->start, c->start + 7);
	start = base(a);
	memset(base(a), 1, bytes(a));
	memset(base(b), 2, bytes(b));
	memset(base(c), 3, bytes(c));
	idle0 = mstats.heap_idle;

	// a and c: no free neighbour, no merging.
	release(a);
	release(c);
	ck_assert_int_eq(a->state, MSpanFree);
	ck_assert_int_eq(c->state, MSpanFree);
	ck_assert_uint_eq(a->npages, 3);
	ck_assert_uint_eq(c->npages, 7);
	ck_assert(onlist(&H->free[3], a));
	ck_assert(onlist(&H->free[7], c));
	ck_assert_uint_eq(mstats.heap_idle - idle0, 10*PageSize);
	check_heap();

	// b merges with both: b's record takes all 15 pages, a's and c's
	// records die.
	release(b);
	ck_assert_int_eq(b->state, MSpanFree);
	ck_assert_int_eq(a->state, MSpanDead);
	ck_assert_int_eq(c->state, MSpanDead);
	ck_assert_ptr_eq(base(b), start);
	ck_assert_uint_eq(b->npages, 15);
	ck_assert(onlist(&H->free[15], b));
	ck_assert(MSpanList_IsEmpty(&H->free[3]));
	ck_assert(MSpanList_IsEmpty(&H->free[5]));
	ck_assert(MSpanList_IsEmpty(&H->free[7]));
	ck_assert_ptr_eq(MHeap_Lookup(H, start), b);
	ck_assert_ptr_eq(MHeap_Lookup(H, start + 15*PageSize - 1), b);
	ck_assert_uint_eq(mstats.heap_idle - idle0, 15*PageSize);
	check_heap();

	// The merged run comes back whole and zeroed.
	m = alloc(15);
	ck_assert_ptr_eq(base(m), start);
	assert_zero(start, 15*PageSize);
	check_heap();

	// Merging with the previous span only, and with the next only.
	release(m);
	a = alloc(4);
	b = alloc(4);
	c = alloc(7);
	ck_assert_ptr_eq(base(a), start);
	ck_assert_uint_eq(b->start, a->start + 4);
	ck_assert_uint_eq(c->start, b->start + 4);
	release(a);
	release(b);	// joins a
	ck_assert_int_eq(a->state, MSpanDead);
	ck_assert_ptr_eq(base(b), start);
	ck_assert_uint_eq(b->npages, 8);
	m = alloc(8);	// b's record again
	ck_assert_ptr_eq(base(m), start);
	release(c);	// free: c, then m joins it from the front
	release(m);
	ck_assert_int_eq(c->state, MSpanDead);
	ck_assert_ptr_eq(base(m), start);
	ck_assert_uint_eq(m->npages, 15);
	check_heap();
	USED(sp);
}

// ---- large spans -------------------------------------------------------------------

// The "needs zeroing" word survives a merge on both sides: a clean free
// span on the left, a dirty one on the right, a clean span freed between
// them. (Go 1.3 loses the mark here; see MHeap_FreeLocked.)
GORT_TEST(test_coalesce_keeps_dirty_mark)
{
	MSpan *a, *b, *c, *sp, *m;

	drain();
	a = alloc(1);
	b = alloc(1);
	c = alloc(1);
	sp = alloc(1);	// keeps c from merging with the rest of the arena
	ck_assert_uint_eq(b->start, a->start + 1);
	ck_assert_uint_eq(c->start, b->start + 1);
	// a and b are clean (zeroed, first word 0); c is dirty throughout.
	memset(base(c), 0xab, PageSize);
	release(a);
	release(c);
	release(b);	// merges a+b+c
	ck_assert_uint_eq(b->npages, 3);
	m = alloc(3);	// zeroed
	ck_assert_ptr_eq(base(m), base(b));
	assert_zero(base(m), 3*PageSize);
	release(m);
	release(sp);
	check_heap();
}

GORT_TEST(test_large_spans)
{
	MSpan *s, *t, *u;
	byte *b;
	uint64 objs0;

	drain();
	// 127 pages: the largest busy[] list; 128: busylarge.
	t = alloc(MaxMHeapList-1);
	ck_assert(onlist(&H->busy[MaxMHeapList-1], t));
	s = alloc(MaxMHeapList);
	ck_assert(onlist(&H->busylarge, s));
	ck_assert_uint_eq(s->start, t->start + MaxMHeapList - 1);
	u = alloc(1);	// spacer
	ck_assert_uint_eq(u->start, s->start + MaxMHeapList);
	b = base(s);
	memset(b, 0xee, bytes(s));
	release(s);
	ck_assert(!onlist(&H->busylarge, s));
	ck_assert(onlist(&H->freelarge, s));
	ck_assert_uint_eq(s->npages, MaxMHeapList);
	check_heap();
	s = alloc(MaxMHeapList);
	ck_assert_ptr_eq(base(s), b);
	assert_zero(b, bytes(s));
	release(s);
	release(t);	// merges into 255 pages
	ck_assert_uint_eq(t->npages, 2*MaxMHeapList - 1);
	ck_assert(onlist(&H->freelarge, t));

	// 1000 pages: more than any free span, so the heap grows.
	flushlocal();
	objs0 = mstats.heap_objects;
	s = alloc(1000);
	ck_assert_uint_eq(mstats.heap_objects, objs0 + 1);
	ck_assert(onlist(&H->busylarge, s));
	for(uintptr i = 0; i < 1000; i += 99)
		ck_assert_ptr_eq(MHeap_Lookup(H, base(s) + i*PageSize), s);
	ck_assert_ptr_eq(MHeap_Lookup(H, base(s) + 1000*PageSize - 1), s);
	assert_zero(base(s), bytes(s));
	memset(base(s), 0x11, bytes(s));
	b = base(s);
	release(s);
	ck_assert_uint_eq(mstats.heap_objects, objs0);
	ck_assert(onlist(&H->freelarge, s));
	ck_assert_uint_ge(s->npages, 1000);
	check_heap();
	// ... and comes back from freelarge, zeroed.
	s = alloc(1000);
	ck_assert_ptr_eq(base(s), b);
	assert_zero(b, bytes(s));
	release(s);
	check_heap();
}

// Best fit among the large free spans: the fewest pages, then the lowest
// address; the exact-size lists come first for small requests.
GORT_TEST(test_best_fit)
{
	static const uintptr sizes[4] = {200, 150, 300, 150};
	MSpan *x[4], *sp[4], *s, *t;
	PageID start[4];
	int i;

	drain();
	for(i = 0; i < 4; i++) {
		x[i] = alloc(sizes[i]);
		sp[i] = alloc(1);	// in-use spacer: no merging
		start[i] = x[i]->start;
		ck_assert_uint_eq(sp[i]->start, x[i]->start + sizes[i]);
		if(i > 0)
			ck_assert_uint_eq(x[i]->start, sp[i-1]->start + 1);
	}
	for(i = 0; i < 4; i++) {
		release(x[i]);
		ck_assert_int_eq(x[i]->state, MSpanFree);
		ck_assert_uint_eq(x[i]->npages, sizes[i]);
		ck_assert(onlist(&H->freelarge, x[i]));
	}
	// Newest first: a first fit would take x[3] for 140 pages, and
	// x[2] for 160.
	ck_assert_ptr_eq(H->freelarge.next, x[3]);
	ck_assert_ptr_eq(H->freelarge.next->next, x[2]);
	check_heap();

	// 140: the two 150s tie; the lower address wins. The 10-page rest
	// goes to free[10].
	s = alloc(140);
	ck_assert_uint_eq(s->start, start[1]);
	t = H->free[10].next;
	ck_assert_int_eq(t->state, MSpanFree);
	ck_assert_uint_eq(t->start, start[1] + 140);
	// 150: exactly the other 150.
	s = alloc(150);
	ck_assert_uint_eq(s->start, start[3]);
	// 160: 200 is smaller than 300.
	s = alloc(160);
	ck_assert_uint_eq(s->start, start[0]);
	// 250: only 300 is left.
	s = alloc(250);
	ck_assert_uint_eq(s->start, start[2]);
	// 5 pages: the smallest non-empty exact list with room (the 10-page
	// rest of x[1]), not the 40-page rest of x[0] or the arena's tail.
	s = alloc(5);
	ck_assert_uint_eq(s->start, start[1] + 140);
	ck_assert_uint_eq(H->free[5].next->start, start[1] + 145);
	check_heap();
}

// ---- lookup ------------------------------------------------------------------

GORT_TEST(test_lookup)
{
	MSpan *s, *f, *sp, *ms;
	byte *b, *base2, *p, *q;
	uintptr size;
	int local;

	drain();
	s = alloc(4);
	f = alloc(3);
	sp = alloc(1);
	b = base(s);
	s->limit = b + 3*PageSize + 100;
	// Inside the span and below its limit.
	ck_assert_ptr_eq(MHeap_LookupMaybe(H, b), s);
	ck_assert_ptr_eq(MHeap_LookupMaybe(H, b + 1), s);
	ck_assert_ptr_eq(MHeap_LookupMaybe(H, b + 2*PageSize + 17), s);
	ck_assert_ptr_eq(MHeap_LookupMaybe(H, b + 3*PageSize + 99), s);
	// At or past the limit, though still in the span's pages.
	ck_assert_ptr_null(MHeap_LookupMaybe(H, b + 3*PageSize + 100));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, b + 4*PageSize - 1));
	// MHeap_Lookup only maps pages.
	ck_assert_ptr_eq(MHeap_Lookup(H, b + 4*PageSize - 1), s);
	// Outside the arena.
	ck_assert_ptr_null(MHeap_LookupMaybe(H, nil));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, &local));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, H->arena_start - 1));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, H->arena_used));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, H->arena_used + PageSize));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, H->arena_end - 1));
	// A free span, all of it.
	release(f);
	ck_assert_int_eq(f->state, MSpanFree);
	ck_assert_ptr_null(MHeap_LookupMaybe(H, base(f)));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, base(f) + PageSize + 5));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, base(f) + 3*PageSize - 1));
	// The free tail of the arena, whose middle pages are unmapped.
	ck_assert_ptr_nonnull(MHeap_Lookup(H, base(sp) + PageSize));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, base(sp) + PageSize));
	ck_assert_ptr_null(MHeap_LookupMaybe(H, base(sp) + 10*PageSize));
	// The spacer is in use (limit = its end).
	ck_assert_ptr_eq(MHeap_LookupMaybe(H, base(sp) + PageSize - 1), sp);

	// runtime_mlookup on a small object: any interior pointer gives the
	// block's base and its class size.
	p = gort_malloc(100);
	q = gort_malloc(100);
	ck_assert_int_eq(runtime_mlookup(p + 50, &base2, &size, &ms), 1);
	ck_assert_ptr_eq(base2, p);
	ck_assert_uint_eq(size, 112);
	ck_assert_int_eq(ms->sizeclass, runtime_SizeToClass(100));
	ck_assert_int_eq(runtime_mlookup(q + 111, &base2, &size, nil), 1);
	ck_assert_ptr_eq(base2, q);
	ck_assert_int_eq(runtime_mlookup(q, &base2, nil, nil), 1);
	ck_assert_ptr_eq(base2, q);
	// A large object: pages, up to its limit (the requested size).
	p = gort_malloc(100000);
	ck_assert_int_eq(runtime_mlookup(p + 99999, &base2, &size, &ms), 1);
	ck_assert_ptr_eq(base2, p);
	ck_assert_uint_eq(size, 13*PageSize);
	ck_assert_int_eq(ms->sizeclass, 0);
	base2 = (byte*)1;
	size = 1;
	ck_assert_int_eq(runtime_mlookup(p + 100000, &base2, &size, &ms), 0);
	ck_assert_ptr_null(base2);
	ck_assert_uint_eq(size, 0);
	ck_assert_ptr_null(ms);
	ck_assert_int_eq(runtime_mlookup(&local, &base2, &size, nil), 0);
	ck_assert_ptr_null(base2);
}

// ---- scavenger ------------------------------------------------------------------

// The pages of every free span idle for longer than the limit go back
// to the OS; reallocating them takes them out of HeapReleased.
GORT_TEST(test_scavenge)
{
	MSpan *s, *f, *x, *y, *sp1, *sp2;
	uint64 rel0, r, now, fpages;
	int64 ustart;
	byte *b;
	struct timespec ts = {0, 2000000};

	check_heap();
	s = alloc(200);
	b = base(s);
	memset(b, 0x5a, bytes(s));
	release(s);
	f = MHeap_Lookup(H, b);
	ck_assert_int_eq(f->state, MSpanFree);
	ck_assert_uint_eq(f->npreleased, 0);

	// Idle for less than the limit (5 minutes): nothing released.
	runtime_lock(&H->lock);
	rel0 = mstats.heap_released;
	r = MHeap_Scavenge(0, runtime_nanotime(), 5*60*1000000000ULL);
	ck_assert_uint_eq(r, 0);
	ck_assert_uint_eq(mstats.heap_released, rel0);
	runtime_unlock(&H->lock);
	ck_assert_uint_eq(f->npreleased, 0);
	ck_assert_int_eq(b[0], 0x5a);

	// Limit 0: every idle span.
	runtime_lock(&H->lock);
	now = runtime_nanotime() + 1;
	r = MHeap_Scavenge(0, now, 0);
	runtime_unlock(&H->lock);
	ck_assert_uint_ge(r, 200*PageSize);
	ck_assert_uint_eq(r, mstats.heap_idle);
	ck_assert_uint_eq(mstats.heap_released - rel0, r);
	ck_assert_uint_eq(f->npreleased, f->npages);
	ck_assert_uint_ge(f->npages, 200);
	// The OS took the pages: they read as zero.
	assert_zero(b, 200*PageSize);
	check_heap();
	// Nothing more to release.
	runtime_lock(&H->lock);
	ck_assert_uint_eq(MHeap_Scavenge(0, runtime_nanotime() + 1, 0), 0);
	runtime_unlock(&H->lock);

	// Reallocating takes the whole span's released pages out of the
	// count, and the memory is zero.
	rel0 = mstats.heap_released;
	fpages = f->npages;
	s = alloc(200);
	ck_assert_ptr_eq(base(s), b);
	ck_assert_uint_eq(s->npreleased, 0);
	ck_assert_uint_eq(rel0 - mstats.heap_released, fpages*PageSize);
	assert_zero(b, bytes(s));
	check_heap();

	// freeOSMemory's release: everything idle.
	runtime_freeOSMemoryRelease();
	ck_assert_uint_eq(mstats.heap_released, mstats.heap_idle);
	check_heap();

	// A dirty span freed next to released ones: only its own pages are
	// left to release.
	memset(b, 0x33, bytes(s));
	rel0 = mstats.heap_released;
	release(s);
	runtime_lock(&H->lock);
	r = MHeap_Scavenge(0, runtime_nanotime() + 1, 0);
	runtime_unlock(&H->lock);
	ck_assert_uint_eq(r, 200*PageSize);
	ck_assert_uint_eq(mstats.heap_released - rel0, 200*PageSize);
	ck_assert_uint_eq(mstats.heap_released, mstats.heap_idle);
	assert_zero(b, 200*PageSize);
	check_heap();

	// The limit is per span: of two free spans, only the one idle for
	// longer goes.
	drain();
	x = alloc(150);
	sp1 = alloc(1);
	y = alloc(150);
	sp2 = alloc(1);
	ck_assert_uint_eq(y->start, sp1->start + 1);
	drain();	// the arena's tail, idle for longer than x
	memset(base(x), 1, bytes(x));
	memset(base(y), 2, bytes(y));
	release(x);
	nanosleep(&ts, nil);
	release(y);
	ck_assert_int_lt(x->unusedsince, y->unusedsince);
	runtime_lock(&H->lock);
	rel0 = mstats.heap_released;
	now = runtime_nanotime();
	// Idle for exactly the limit is not longer than it.
	r = MHeap_Scavenge(0, now, now - x->unusedsince);
	ck_assert_uint_eq(r, 0);
	r = MHeap_Scavenge(0, now, now - x->unusedsince - 1);
	runtime_unlock(&H->lock);
	ck_assert_uint_eq(r, 150*PageSize);
	ck_assert_uint_eq(mstats.heap_released - rel0, 150*PageSize);
	ck_assert_uint_eq(x->npreleased, 150);
	ck_assert_uint_eq(y->npreleased, 0);
	ck_assert_int_eq(base(y)[0], 2);
	check_heap();

	// A span trimmed off a free one keeps its age: the rest of y,
	// idle since y was freed, is released with the old limit.
	s = alloc(150);	// x: the lower of the two
	ck_assert_ptr_eq(s, x);
	ustart = y->unusedsince;
	nanosleep(&ts, nil);
	s = alloc(100);
	ck_assert_uint_eq(s->start, y->start);
	f = H->free[50].next;
	ck_assert_uint_eq(f->start, s->start + 100);
	ck_assert_int_eq(f->unusedsince, ustart);
	runtime_lock(&H->lock);
	rel0 = mstats.heap_released;
	now = runtime_nanotime();
	r = MHeap_Scavenge(0, now, now - ustart - 1);
	runtime_unlock(&H->lock);
	ck_assert_uint_eq(r, 50*PageSize);
	ck_assert_uint_eq(f->npreleased, 50);
	check_heap();
	USED(sp2);
}

// ---- growth ------------------------------------------------------------------

GORT_TEST(test_heap_grow)
{
	uint64 sys0;
	byte *used0;
	MSpan *a, *b, *c;

	drain();
	sys0 = mstats.heap_sys;
	used0 = H->arena_used;
	// One page: the heap grows by HeapAllocChunk.
	a = alloc(1);
	ck_assert_uint_eq(mstats.heap_sys - sys0, HeapAllocChunk);
	ck_assert_uint_eq((uintptr)(H->arena_used - used0), HeapAllocChunk);
	ck_assert_ptr_eq(base(a), used0);
	ck_assert_uint_eq(mstats.heap_idle, HeapAllocChunk - PageSize);
	check_heap();
	// Within the chunk: no growth.
	b = alloc(100);
	ck_assert_uint_eq(mstats.heap_sys - sys0, HeapAllocChunk);
	ck_assert_uint_eq(b->start, a->start + 1);
	// 200 pages with 27 free: the heap grows by 200 rounded up to 16
	// pages (more than 1 MB), and the new run joins the free tail.
	c = alloc(200);
	ck_assert_uint_eq(mstats.heap_sys - sys0, HeapAllocChunk + 208*PageSize);
	ck_assert_uint_eq(c->start, b->start + 100);
	ck_assert_uint_eq(mstats.heap_idle, (27 + 208 - 200)*PageSize);
	check_heap();
	// Every growth is at least 1 MB and a multiple of 16 pages.
	for(uintptr n = 1; n < 3000; n = n*3 + 7) {
		uint64 before = mstats.heap_sys;
		uint64 idle = mstats.heap_idle;

		alloc(n);
		if(mstats.heap_sys != before) {
			ck_assert_uint_ge(mstats.heap_sys - before, HeapAllocChunk);
			ck_assert_uint_ge(mstats.heap_sys - before + idle, n*PageSize);
			ck_assert_uint_eq((mstats.heap_sys - before) % (16*PageSize), 0);
		} else
			ck_assert_uint_ge(idle, n*PageSize);
		check_heap();
	}
}

// ---- statistics --------------------------------------------------------------------

GORT_TEST(test_stats_invariant)
{
	enum { N = 64 };
	MSpan *live[N];
	uint64 seed = 12345;
	uintptr i, k, n;
	GortMemStats ms;
	int32 cl;

	memset(live, 0, sizeof live);
	check_heap();
	for(i = 0; i < 3000; i++) {
		seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
		k = (seed >> 33) % N;
		if(live[k] != nil) {
			MHeap_Free(H, live[k], live[k]->sizeclass == 0);
			live[k] = nil;
		} else {
			n = 1 + (seed >> 40) % (i % 17 == 0 ? 700 : 40);
			cl = (seed >> 20) % 3 == 0 ? 1 + (int32)((seed >> 24) % (NumSizeClasses-1)) : 0;
			live[k] = MHeap_Alloc(H, n, cl, cl == 0, 1);
			ck_assert_ptr_nonnull(live[k]);
			live[k]->limit = base(live[k]) + bytes(live[k]);
		}
		if(i % 500 == 250)
			runtime_freeOSMemoryRelease();
		if(i % 50 == 0)
			check_heap();
		ck_assert_uint_eq(mstats.heap_idle + mstats.heap_inuse, mstats.heap_sys);
	}
	check_heap();
	gort_read_memstats(&ms);
	ck_assert_uint_eq(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
	ck_assert_uint_le(ms.HeapReleased, ms.HeapIdle);
	for(k = 0; k < N; k++)
		if(live[k] != nil)
			MHeap_Free(H, live[k], live[k]->sizeclass == 0);
	runtime_freeOSMemoryRelease();
	check_heap();
	ck_assert_uint_eq(mstats.heap_released, mstats.heap_idle);
}

// ---- death tests ------------------------------------------------------------

static void
double_free_body(void *arg)
{
	MSpan *s;

	USED(arg);
	s = MHeap_Alloc(H, 2, 0, 1, 1);
	MHeap_Free(H, s, 1);
	MHeap_Free(H, s, 1);
}

static void
free_referenced_body(void *arg)
{
	MSpan *s;

	USED(arg);
	s = MHeap_Alloc(H, 1, 5, 0, 1);
	s->ref = 3;
	MHeap_Free(H, s, 0);
}

// The detail line is not "runtime: "-prefixed, so expect_fatal does not
// fit: check the output by hand.
static void
expect_invalid_free(void (*body)(void*), const char *detail)
{
	char *out, *nl;
	int status;

	out = run_child(body, nil, &status, nil);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %#x; stderr:\n%s", status, out);
	ck_assert_msg(strncmp(out, "MHeap_FreeLocked - span ", 24) == 0, "stderr:\n%s", out);
	ck_assert_msg(strstr(out, detail) != nil, "no \"%s\" in stderr:\n%s", detail, out);
	nl = strchr(out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_msg(strcmp(nl + 1, "fatal error: MHeap_FreeLocked - invalid free\n") == 0, "stderr:\n%s", out);
	free(out);
}

START_TEST(test_double_free)
{
	expect_invalid_free(double_free_body, " state 1 ref 0 ");
	expect_invalid_free(free_referenced_body, " state 0 ref 3 ");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mheap");
	TCase *tc;

	tc = new_tcase("alloc");
	tcase_add_test(tc, test_alloc_free_basics);
	tcase_add_test(tc, test_alloc_zeroed_flag);
	tcase_add_test(tc, test_coalesce);
	tcase_add_test(tc, test_coalesce_keeps_dirty_mark);
	tcase_add_test(tc, test_large_spans);
	tcase_add_test(tc, test_best_fit);
	tcase_add_test(tc, test_lookup);
	suite_add_tcase(s, tc);

	tc = new_tcase("sys");
	tcase_add_test(tc, test_scavenge);
	tcase_add_test(tc, test_heap_grow);
	tcase_add_test(tc, test_stats_invariant);
	suite_add_tcase(s, tc);

	tc = new_tcase("death");
	tcase_add_test(tc, test_double_free);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
