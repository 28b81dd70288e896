// check_mcentral: the central free lists (mcentral.c) of a few classes,
// driven directly: AllocList hands out a whole span's free objects,
// FreeList takes them back (returning empty spans to the heap), spans
// move between nonempty and empty, the heap grows only when no span has
// a free object, fresh objects are zero, and several threads can share
// one MCentral without an object ever being handed out twice.
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "testutil.h"
#include "malloc.h"
#include "spanutil.h"

#define H	(&runtime_mheap)

enum { MaxObjs = 1024 };	// objects per span of class 1, the most

// The central list of size class cl's spans of blocks with pointers.
static MCentral*
central(int32 cl)
{
	return &runtime_mheap.central[spanclass(cl, false)].mcentral;
}


static int32
objsperspan(int32 cl)
{
	return (runtime_class_to_allocnpages[cl] << PageShift) / runtime_class_to_size[cl];
}


static int32
listlen(MSpan *list)
{
	MSpan *x;
	int32 n = 0;

	for(x = list->next; x != list; x = x->next)
		n++;
	return n;
}

static uint64
heapinuse(void)
{
	uint64 v;

	runtime_lock(&H->lock);
	v = mstats.heap_inuse;
	runtime_unlock(&H->lock);
	return v;
}

// Unlink a list of objects into objs[]; returns the count.
static int32
collect(MLink *l, void **objs, int32 max)
{
	int32 n = 0;

	for(; l != nil; l = l->next) {
		ck_assert_int_lt(n, max);
		objs[n++] = l;
	}
	return n;
}

// Link objs[0..n) into a list (through their first words).
static MLink*
linkobjs(void **objs, int32 n)
{
	MLink *first = nil, *l;
	int32 i;

	for(i = n-1; i >= 0; i--) {
		l = objs[i];
		l->next = first;
		first = l;
	}
	return first;
}

static void
assert_zero_object(void *v, uintptr size)
{
	const byte *p = v;
	uintptr i;

	// The first word is the list link; the rest must be zero.
	for(i = sizeof(MLink); i < size; i++)
		if(p[i] != 0)
			ck_abort_msg("object %p (size %zu): byte %zu is %#x, want 0", v, (size_t)size, (size_t)i, p[i]);
}

static bool
contains(void **objs, int32 n, void *v)
{
	int32 i;

	for(i = 0; i < n; i++)
		if(objs[i] == v)
			return true;
	return false;
}

static const int32 classes[] = {1, 5, 30, 34, 66};

// A fresh span: all its objects, in address order, zeroed, of class size
// spacing; the span goes to empty; freeing them all gives it back.
GORT_TEST(test_alloclist_fresh)
{
	static void *objs[MaxObjs];
	MCentral *c;
	MLink *first, *l;
	MSpan *s;
	uint64 inuse0, alloc0;
	int32 cl, n, i, size, npages;
	uint32 k;
	byte *b;

	for(k = 0; k < nelem(classes); k++) {
		cl = classes[k];
		c = central(cl);
		size = runtime_class_to_size[cl];
		npages = runtime_class_to_allocnpages[cl];
		ck_assert_int_eq(c->sizeclass, cl);
		ck_assert(MSpanList_IsEmpty(&c->nonempty));
		ck_assert(MSpanList_IsEmpty(&c->empty));
		ck_assert_int_eq(c->nfree, 0);
		inuse0 = heapinuse();
		alloc0 = mstats.heap_alloc;

		n = MCentral_AllocList(c, &first, nil);
		ck_assert_int_eq(n, objsperspan(cl));
		ck_assert_ptr_nonnull(first);
		s = MHeap_Lookup(H, first);
		b = base(s);
		ck_assert_ptr_eq((void*)first, b);
		ck_assert_int_eq(s->state, MSpanInUse);
		ck_assert_int_eq(s->sizeclass, cl);
		ck_assert_uint_eq(s->npages, npages);
		ck_assert_uint_eq(s->elemsize, size);
		ck_assert_uint_eq(s->ref, n);
		ck_assert_ptr_null(s->freelist);
		ck_assert_ptr_eq(s->limit, b + n*size);
		// Objects in address order, size apart, inside the span.
		for(i = 0, l = first; l != nil; l = l->next, i++) {
			ck_assert_int_lt(i, n);
			ck_assert_ptr_eq((byte*)l, b + i*size);
			ck_assert_ptr_eq(MHeap_Lookup(H, l), s);
			ck_assert_ptr_eq(MHeap_LookupMaybe(H, (byte*)l + size - 1), s);
			// markspan: a block start, free.
			ck_assert_uint_eq(runtime_getbits(l), bitsFree);
			assert_zero_object(l, size);
		}
		ck_assert_int_eq(i, n);
		if((uintptr)n*size < (uintptr)npages*PageSize)	// the leftover has a boundary too
			ck_assert_uint_eq(runtime_getbits(b + n*size), bitsAllocated);
		// The whole span is handed out: on empty, no free objects.
		ck_assert(onlist(&c->empty, s));
		ck_assert(MSpanList_IsEmpty(&c->nonempty));
		ck_assert_int_eq(c->nfree, 0);
		ck_assert_uint_eq(heapinuse() - inuse0, (uint64)npages*PageSize);
		ck_assert_uint_eq(mstats.heap_alloc, alloc0);	// not a large object

		// All back: the span returns to the heap.
		collect(first, objs, MaxObjs);
		MCentral_FreeList(c, first);
		ck_assert(MSpanList_IsEmpty(&c->nonempty));
		ck_assert(MSpanList_IsEmpty(&c->empty));
		ck_assert_int_eq(c->nfree, 0);
		ck_assert_int_ne(s->state, MSpanInUse);
		ck_assert_ptr_null(MHeap_LookupMaybe(H, b));
		ck_assert_uint_eq(heapinuse(), inuse0);
		ck_assert_uint_eq(runtime_getbits(b), 0);	// unmarkspan
		ck_assert_uint_ne(*(uintptr*)b, 0);	// "needs zeroing"
	}
}

// Objects dirtied and given back: a span carved again from the same
// pages is zeroed again.
GORT_TEST(test_regrow_zeroed)
{
	MCentral *c;
	MLink *first, *l;
	byte *b;
	int32 n, k, cl, size;

	for(k = 0; k < (int32)nelem(classes); k++) {
		cl = classes[k];
		c = central(cl);
		size = runtime_class_to_size[cl];
		n = MCentral_AllocList(c, &first, nil);
		b = (byte*)first;
		for(l = first; l != nil; l = l->next)
			memset((byte*)l + sizeof(MLink), 0xa5, size - sizeof(MLink));
		MCentral_FreeList(c, first);
		ck_assert(MSpanList_IsEmpty(&c->empty));
		ck_assert_int_eq(MCentral_AllocList(c, &first, nil), n);
		ck_assert_ptr_eq((byte*)first, b);	// the same pages, from the heap
		for(l = first; l != nil; l = l->next)
			assert_zero_object(l, size);
		MCentral_FreeList(c, first);
	}
}

// A cache refilled from a new span gets it whole as a bump region (no
// list); the blocks it did not hand out go back in address order when it
// releases its lists, and the span returns to the heap once every block
// handed out is freed too.
GORT_TEST(test_refill_fresh)
{
	static void *objs[MaxObjs];
	MCache *mc;
	MCacheList *l;
	MCentral *c;
	MSpan *s;
	MLink *x;
	byte *b;
	uint64 inuse0;
	int32 cl, n, i, k, size;
	uint32 j;

	mc = runtime_allocmcache();
	for(j = 0; j < nelem(classes); j++) {
		cl = classes[j];
		c = central(cl);
		size = runtime_class_to_size[cl];
		n = objsperspan(cl);
		inuse0 = heapinuse();
		l = &mc->list[spanclass(cl, false)];
		MCache_Refill(mc, spanclass(cl, false));
		ck_assert_ptr_null(l->list);
		b = l->fresh;
		ck_assert_ptr_nonnull(b);
		ck_assert_ptr_eq(l->freshend, b + (uintptr)n*size);
		s = MHeap_Lookup(H, b);
		ck_assert_ptr_eq((byte*)(s->start<<PageShift), b);
		ck_assert_int_eq(s->ref, n);
		ck_assert_ptr_null(s->freelist);
		ck_assert(onlist(&c->empty, s));
		ck_assert_int_eq(c->nfree, 0);
		for(i = 0; i < n; i++) {
			ck_assert_uint_eq(runtime_getbits(b + (uintptr)i*size), bitsFree);
			assert_zero_object(b + (uintptr)i*size, size);
		}
		// Hand out k blocks as mallocgc does, then release.
		k = (n+2)/3;	// at least one
		for(i = 0; i < k; i++) {
			objs[i] = l->fresh;
			l->fresh += size;
		}
		MCache_ReleaseAll(mc);
		ck_assert_ptr_eq(l->fresh, l->freshend);
		ck_assert_int_eq(s->ref, k);
		ck_assert(onlist(k < n ? &c->nonempty : &c->empty, s));
		ck_assert_int_eq(c->nfree, n - k);
		for(i = k, x = s->freelist; x != nil; x = x->next, i++)
			ck_assert_ptr_eq((byte*)x, b + (uintptr)i*size);
		ck_assert_int_eq(i, n);
		MCentral_FreeList(c, linkobjs(objs, k));
		ck_assert(MSpanList_IsEmpty(&c->nonempty));
		ck_assert(MSpanList_IsEmpty(&c->empty));
		ck_assert_int_eq(c->nfree, 0);
		ck_assert_uint_eq(heapinuse(), inuse0);
	}
	runtime_freemcache(mc);
}

// Freeing part of a span keeps it in the MCentral, on nonempty, and the
// next AllocList hands out exactly those objects before growing.
GORT_TEST(test_partial_free)
{
	static void *objs[MaxObjs], *freed[MaxObjs], *again[MaxObjs], *more[MaxObjs];
	MCentral *c;
	MLink *first, *l;
	MSpan *s, *s2;
	uint64 inuse0;
	int32 n, nf, m, i, cl, k, npages;

	for(k = 0; k < (int32)nelem(classes); k++) {
		cl = classes[k];
		if(objsperspan(cl) < 3)
			continue;
		c = central(cl);
		npages = runtime_class_to_allocnpages[cl];
		inuse0 = heapinuse();
		n = MCentral_AllocList(c, &first, nil);
		ck_assert_int_eq(collect(first, objs, MaxObjs), n);
		s = MHeap_Lookup(H, objs[0]);

		// Give back every third object.
		nf = 0;
		for(i = 0; i < n; i += 3)
			freed[nf++] = objs[i];
		MCentral_FreeList(c, linkobjs(freed, nf));
		ck_assert_int_eq(s->state, MSpanInUse);
		ck_assert_uint_eq(s->ref, n - nf);
		ck_assert(onlist(&c->nonempty, s));
		ck_assert(!onlist(&c->empty, s));
		ck_assert_int_eq(c->nfree, nf);
		for(i = 0, l = s->freelist; l != nil; l = l->next, i++)
			ck_assert(contains(freed, nf, l));
		ck_assert_int_eq(i, nf);
		ck_assert_uint_eq(heapinuse() - inuse0, (uint64)npages*PageSize);

		// The next AllocList: those objects, from the same span.
		m = MCentral_AllocList(c, &first, nil);
		ck_assert_int_eq(m, nf);
		ck_assert_int_eq(collect(first, again, MaxObjs), nf);
		for(i = 0; i < nf; i++)
			ck_assert(contains(freed, nf, again[i]));
		ck_assert_uint_eq(s->ref, n);
		ck_assert_ptr_null(s->freelist);
		ck_assert(onlist(&c->empty, s));
		ck_assert(MSpanList_IsEmpty(&c->nonempty));
		ck_assert_int_eq(c->nfree, 0);
		ck_assert_uint_eq(heapinuse() - inuse0, (uint64)npages*PageSize);

		// Nothing free now: the next one grows a new span.
		m = MCentral_AllocList(c, &first, nil);
		ck_assert_int_eq(m, n);
		ck_assert_int_eq(collect(first, more, MaxObjs), n);
		s2 = MHeap_Lookup(H, more[0]);
		ck_assert_ptr_ne(s2, s);
		ck_assert_int_eq(listlen(&c->empty), 2);
		ck_assert_uint_eq(heapinuse() - inuse0, 2*(uint64)npages*PageSize);

		// The most recent span to get a free object is used first.
		MCentral_FreeList(c, linkobjs(&objs[1], 1));
		MCentral_FreeList(c, linkobjs(&more[1], 1));
		ck_assert_ptr_eq(c->nonempty.next, s2);
		ck_assert_int_eq(c->nfree, 2);
		ck_assert_int_eq(MCentral_AllocList(c, &first, nil), 1);
		ck_assert_ptr_eq(first, more[1]);
		ck_assert_int_eq(MCentral_AllocList(c, &first, nil), 1);
		ck_assert_ptr_eq(first, objs[1]);

		// Everything back, in one list across both spans.
		for(i = 0; i < n; i++) {
			((MLink*)objs[i])->next = i+1 < n ? (MLink*)objs[i+1] : (MLink*)more[0];
			((MLink*)more[i])->next = i+1 < n ? (MLink*)more[i+1] : nil;
		}
		MCentral_FreeList(c, (MLink*)objs[0]);
		ck_assert(MSpanList_IsEmpty(&c->nonempty));
		ck_assert(MSpanList_IsEmpty(&c->empty));
		ck_assert_int_eq(c->nfree, 0);
		ck_assert_int_ne(s->state, MSpanInUse);
		ck_assert_int_ne(s2->state, MSpanInUse);
		ck_assert_uint_eq(heapinuse(), inuse0);
	}
}

// A span whose last handed-out object comes back while others sit on
// its free list goes back to the heap, and nfree drops by its capacity.
GORT_TEST(test_free_last_object)
{
	static void *objs[MaxObjs];
	MCentral *c;
	MLink *first;
	MSpan *s;
	uint64 inuse0;
	int32 n;

	c = central(5);
	inuse0 = heapinuse();
	n = MCentral_AllocList(c, &first, nil);
	collect(first, objs, MaxObjs);
	s = MHeap_Lookup(H, objs[0]);
	MCentral_FreeList(c, linkobjs(objs, n-1));
	ck_assert_int_eq(c->nfree, n-1);
	ck_assert_uint_eq(s->ref, 1);
	ck_assert(onlist(&c->nonempty, s));
	MCentral_FreeList(c, linkobjs(&objs[n-1], 1));
	ck_assert_int_eq(c->nfree, 0);
	ck_assert(MSpanList_IsEmpty(&c->nonempty));
	ck_assert_int_eq(s->state, MSpanFree);
	ck_assert_uint_eq(heapinuse(), inuse0);
}

// ---- several threads on one MCentral ---------------------------------------------------

enum { NTHREAD = 4, NROUND = 2000 };

typedef struct Worker Worker;
struct Worker
{
	uint64		id;
	int32		cl;
	uint64		nobj;		// objects handed out in all
	int		nerr;
	char		err[256];
};

static void
werror(Worker *w, const char *fmt, void *p, uint64 x, uint64 y)
{
	if(w->nerr++ == 0)
		snprintf(w->err, sizeof w->err, fmt, p, (unsigned long long)x, (unsigned long long)y);
}

// Check that every word of the objects still has the stamp written
// into it, then give them back.
static void
verify_and_free(Worker *w, MCentral *c, void **objs, int32 n, uint64 stamp, uintptr size)
{
	int32 i;
	uintptr j;

	for(i = 0; i < n; i++) {
		uint64 *o = objs[i];

		for(j = 0; j < size/8; j++)
			if(o[j] != (stamp | (uint64)i)) {
				werror(w, "object %p: word has %#llx, want %#llx (handed out twice?)",
					o, o[j], stamp | (uint64)i);
				break;
			}
	}
	if(n > 0)
		MCentral_FreeList(c, linkobjs(objs, n));
}

static void
worker(void *arg)
{
	Worker *w = arg;
	MCentral *c;
	MLink *first, *l;
	MSpan *s;
	void **objs;
	uint64 stamp;
	uintptr size, j;
	int32 r, n, i, cap;

	objs = malloc(MaxObjs * sizeof objs[0]);
	c = central(w->cl);
	size = runtime_class_to_size[w->cl];
	cap = objsperspan(w->cl);
	for(r = 0; r < NROUND; r++) {
		n = MCentral_AllocList(c, &first, nil);
		if(n <= 0 || n > cap) {
			werror(w, "AllocList %p: %llu objects, at most %llu", c, (uint64)n, (uint64)cap);
			break;
		}
		for(i = 0, l = first; l != nil && i < MaxObjs; l = l->next)
			objs[i++] = l;
		if(i != n || l != nil) {
			werror(w, "list %p has %llu+ objects, AllocList said %llu", first, (uint64)i, (uint64)n);
			break;
		}
		// All from one span of the class, on object boundaries.
		s = MHeap_Lookup(H, objs[0]);
		for(i = 0; i < n; i++)
			if(MHeap_Lookup(H, objs[i]) != s || s->sizeclass != w->cl ||
			   ((byte*)objs[i] - base(s)) % size != 0 || (byte*)objs[i] >= s->limit)
				werror(w, "object %p not a block of the span (class %llu, #%llu)", objs[i], (uint64)w->cl, (uint64)i);
		w->nobj += n;
		stamp = w->id << 56 | (uint64)r << 24;
		for(i = 0; i < n; i++) {
			uint64 *o = objs[i];

			for(j = 0; j < size/8; j++)
				o[j] = stamp | (uint64)i;
		}
		if(r % 4 == 0)
			gort_gosched();
		// Half back now (so that other threads find partial spans),
		// the rest after another look.
		verify_and_free(w, c, objs, n/2, stamp, size);
		if(r % 4 == 2)
			gort_gosched();
		for(i = n/2; i < n; i++) {
			uint64 *o = objs[i];

			for(j = 0; j < size/8; j++)
				if(o[j] != (stamp | (uint64)i)) {
					werror(w, "object %p: word has %#llx, want %#llx (handed out twice?)",
						o, o[j], stamp | (uint64)i);
					break;
				}
		}
		if(n - n/2 > 0)
			MCentral_FreeList(c, linkobjs(&objs[n/2], n - n/2));
	}
	free(objs);
}

// NTHREAD goroutines on GOMAXPROCS 4: several Ms at once on one MCentral.
static void
run_threads(int32 cl)
{
	static Worker w[NTHREAD];
	void *args[NTHREAD];
	MCentral *c;
	uint64 inuse0;
	int i;

	c = central(cl);
	inuse0 = heapinuse();
	for(i = 0; i < NTHREAD; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].id = i + 1;
		w[i].cl = cl;
		args[i] = &w[i];
	}
	go_and_wait(NTHREAD, worker, args);
	for(i = 0; i < NTHREAD; i++) {
		ck_assert_msg(w[i].nerr == 0, "class %d goroutine %d: %d errors; first: %s", cl, i, w[i].nerr, w[i].err);
		ck_assert_uint_ge(w[i].nobj, NROUND);
	}
	// Every object came back: every span went back to the heap.
	ck_assert(MSpanList_IsEmpty(&c->nonempty));
	ck_assert(MSpanList_IsEmpty(&c->empty));
	ck_assert_int_eq(c->nfree, 0);
	ck_assert_uint_eq(heapinuse(), inuse0);
}

GORT_TEST(test_threads)
{
	GortMemStats ms0, ms1;

	gort_gomaxprocs(4);
	gort_read_memstats(&ms0);
	run_threads(5);
	run_threads(1);
	run_threads(66);
	gort_read_memstats(&ms1);
	ck_assert_uint_eq(ms1.HeapInuse, ms0.HeapInuse);
	ck_assert_uint_eq(ms1.HeapIdle + ms1.HeapInuse, ms1.HeapSys);
}

int
main(void)
{
	Suite *s = suite_create("mcentral");
	TCase *tc;

	tc = new_tcase("mcentral");
	tcase_add_test(tc, test_alloclist_fresh);
	tcase_add_test(tc, test_regrow_zeroed);
	tcase_add_test(tc, test_refill_fresh);
	tcase_add_test(tc, test_partial_free);
	tcase_add_test(tc, test_free_last_object);
	suite_add_tcase(s, tc);

	tc = new_tcase("threads");
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
