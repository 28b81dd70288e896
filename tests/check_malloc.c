// check_malloc: mallocgc and free through the public API and the
// internals: every size, the zeroing contract, each malloc flag, explicit
// free returning the statistics to their baseline (Go's mallocrep tests),
// Go's TestMemStats, several threads at once, GODEBUG=efence=1, and the
// death tests for bad frees.
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "testutil.h"
#include "malloc.h"

// Check's ck_assert records its position through a pipe on every call,
// so loops compute first and assert once.
static void
assert_zero(const byte *p, uintptr n, const char *what)
{
	uintptr i, lim, bad;

	// The head and the tail of the block: a partial clear shows there.
	bad = ~(uintptr)0;
	lim = n < 256 ? n : 256;
	for(i = 0; i < lim && bad == ~(uintptr)0; i++)
		if(p[i] != 0)
			bad = i;
	for(i = n > 256 ? n - 256 : 0; i < n && bad == ~(uintptr)0; i++)
		if(p[i] != 0)
			bad = i;
	if(bad != ~(uintptr)0)
		ck_abort_msg("%s: byte %zu of %zu not zero", what, (size_t)bad, (size_t)n);
}

static void
check_block(void *p, uintptr n)
{
	byte *base, *base2;
	uintptr size;
	MSpan *s;
	int32 cl;

	if(p == nil || ((uintptr)p & 7) != 0)
		ck_abort_msg("block %p for %zu bytes nil or not 8-aligned", p, (size_t)n);
	if(runtime_mlookup(p, &base, &size, &s) != 1 || base != p)
		ck_abort_msg("mlookup(%p) for %zu bytes: not a block start", p, (size_t)n);
	if(size != runtime_roundupsize(n) || size < n || s->state != MSpanInUse)
		ck_abort_msg("block %p for %zu bytes: size %zu state %d", p, (size_t)n, (size_t)size, s->state);
	cl = n > MaxSmallSize ? 0 : runtime_SizeToClass(n);
	if(s->sizeclass != cl)
		ck_abort_msg("block %p for %zu bytes: class %d, want %d", p, (size_t)n, s->sizeclass, cl);
	// The last byte maps back to the block.
	if(runtime_mlookup((byte*)p + n - 1, &base2, nil, nil) != 1 || base2 != p)
		ck_abort_msg("block %p for %zu bytes: last byte maps to %p", p, (size_t)n, (void*)base2);
}

// Every size 0..64 KiB and a spread above: the right class, zeroed,
// writable, freeable; then the same size again, reusing the dirty block,
// must be zeroed again.
GORT_TEST(test_malloc_every_size)
{
	uintptr n;
	byte *p, *q;

	p = gort_malloc(0);
	ck_assert_ptr_eq(p, runtime_zerobase);
	gort_free(p);	// a 0-byte block: no-op
	for(n = 1; n <= 64<<10; n++) {
		p = gort_malloc(n);
		check_block(p, n);
		assert_zero(p, n, "fresh");
		memset(p, 0xab, n);
		gort_free(p);
		q = gort_malloc(n);
		check_block(q, n);
		assert_zero(q, n, "reused");
		memset(q, 0xcd, n);
		gort_free(q);
	}
	for(n = (64<<10) + 1; n <= (32<<20); n = n*5/4 + 4093) {
		p = gort_malloc(n);
		check_block(p, n);
		assert_zero(p, n, "large fresh");
		memset(p, 0xab, n);
		gort_free(p);
		p = gort_malloc(n);
		assert_zero(p, n, "large reused");
		gort_free(p);
	}
}

// A block from the same span as many others: writing one never touches
// its neighbours.
GORT_TEST(test_malloc_no_overlap)
{
	enum { K = 5000 };
	static byte *ps[K];
	uintptr i, n, j;

	for(i = 0; i < K; i++) {
		n = 1 + (i * 7919) % 3000;
		ps[i] = gort_malloc(n);
		memset(ps[i], (int)(i & 0xff), n);
	}
	for(i = 0; i < K; i++) {
		n = 1 + (i * 7919) % 3000;
		for(j = 0; j < n; j++)
			if(ps[i][j] != (byte)(i & 0xff))
				ck_abort_msg("block %zu byte %zu overwritten", (size_t)i, (size_t)j);
		gort_free(ps[i]);
	}
}

// FlagNoZero: no clearing at all; the default: always zero.
GORT_TEST(test_flag_nozero)
{
	byte *p, *q;
	uintptr i;

	p = runtime_mallocgc(512, 0, FlagNoScan);
	memset(p, 0x5a, 512);
	runtime_free(p);
	q = runtime_mallocgc(512, 0, FlagNoScan|FlagNoZero);
	ck_assert_ptr_eq(q, p);	// LIFO cache
	for(i = 2*PtrSize; i < 512; i++)
		if(q[i] != 0x5a)
			ck_abort_msg("FlagNoZero block was cleared at byte %zu", (size_t)i);
	runtime_free(q);
	q = runtime_mallocgc(512, 0, FlagNoScan);
	ck_assert_ptr_eq(q, p);
	assert_zero(q, 512, "after NoZero");
	runtime_free(q);
}

// The heap bitmap records each flag.
GORT_TEST(test_flag_bits)
{
	void *p;

	p = gort_malloc(64);
	ck_assert_uint_eq(runtime_getbits(p), bitsAllocated|bitsScan);
	gort_free(p);
	ck_assert_uint_eq(runtime_getbits(p), bitsFree);
	p = gort_malloc_noscan(64);
	ck_assert_uint_eq(runtime_getbits(p), bitsAllocated);
	gort_free(p);
	ck_assert_uint_eq(runtime_getbits(p), bitsAllocated);	// a noscan span's free state
	p = runtime_mallocgc(64, 0, FlagNoGC);
	ck_assert_uint_eq(runtime_getbits(p), bitsScan);	// boundary only
	runtime_free(p);
	ck_assert_uint_eq(runtime_getbits(p), bitsFree);
	p = gort_malloc(100000);
	ck_assert_uint_eq(runtime_getbits(p), bitsAllocated|bitsScan);
	gort_free(p);
	p = gort_malloc_noscan(100000);
	ck_assert_uint_eq(runtime_getbits(p), bitsAllocated);
	gort_free(p);
}

static const GortType ty_word9, ty_none;

// Span classes: blocks with and without pointers of one size class come
// from different spans, and a free block's bits are its span's: bitsFree
// (allocated|scan) or, in a span of pointer-free blocks, bitsAllocated.
GORT_TEST(test_span_classes)
{
	void *p, *q;
	MSpan *sp, *sq;

	p = gort_malloc(48);
	q = gort_malloc_noscan(48);
	sp = MHeap_Lookup(&runtime_mheap, p);
	sq = MHeap_Lookup(&runtime_mheap, q);
	ck_assert_ptr_ne(sp, sq);
	ck_assert_int_eq(sp->sizeclass, sq->sizeclass);
	ck_assert_int_eq(sp->noscan, 0);
	ck_assert_int_eq(sq->noscan, 1);
	ck_assert_uint_eq(runtime_getbits(p), bitsFree);
	ck_assert_uint_eq(runtime_getbits(q), bitsAllocated);
	// The next block of each span is free, in its span's state.
	ck_assert_uint_eq(runtime_getbits((byte*)p + 48), bitsFree);
	ck_assert_uint_eq(runtime_getbits((byte*)q + 48), bitsAllocated);
	// A typed block with pointers goes to a scanned span, one without to
	// a pointer-free span.
	ck_assert_int_eq(MHeap_Lookup(&runtime_mheap, gort_new(&ty_word9))->noscan, 0);
	ck_assert_int_eq(MHeap_Lookup(&runtime_mheap, gort_new(&ty_none))->noscan, 1);
}

// Tiny allocator: pointer-free requests under 16 bytes share a block.
GORT_TEST(test_tiny_combining)
{
	byte *a, *b, *c, *d, *base;
	uintptr size;

	a = gort_malloc_noscan(1);
	b = gort_malloc_noscan(1);
	ck_assert_ptr_eq(b, a + 1);
	c = gort_malloc_noscan(4);	// aligned to 4
	ck_assert_uint_eq((uintptr)c & 3, 0);
	ck_assert_int_eq(runtime_mlookup(c, &base, &size, nil), 1);
	ck_assert_uint_eq(size, TinySize);
	d = gort_malloc_noscan(8);	// aligned to 8, maybe a new block
	ck_assert_uint_eq((uintptr)d & 7, 0);
	// The block of a is a tiny block.
	ck_assert_int_eq(runtime_mlookup(a, &base, nil, nil), 1);
	ck_assert_uint_eq(runtime_getbits(base) & bitTinyBlock, bitTinyBlock);
	// A scannable 8-byte object is not tiny, and can be freed.
	a = gort_malloc(8);
	ck_assert_uint_eq(runtime_getbits(a) & bitTinyBlock, 0);
	gort_free(a);
	// A 16-byte pointer-free object is not tiny either.
	a = gort_malloc_noscan(16);
	ck_assert_uint_eq(runtime_getbits(a) & bitTinyBlock, 0);
	gort_free(a);
}

// FlagNoProfiling: with every allocation sampled (rate 1), a flagged
// allocation stays out of the heap profile, an unflagged one is in it.
static int64_t
profiled_objects(void)
{
	GortMemProfileRecord r[64];
	int64_t sum = 0;
	int i, n;

	runtime_MProf_GC();	// recent -> prev -> totals
	runtime_MProf_GC();
	n = gort_mem_profile(r, 64, true);
	ck_assert_int_le(n, 64);
	for(i = 0; i < n; i++)
		sum += r[i].AllocObjects;
	return sum;
}

GORT_TEST(test_flag_noprofiling)
{
	int64_t n0;

	gort_set_mem_profile_rate(1);
	n0 = profiled_objects();
	runtime_mallocgc(64, 0, FlagNoProfiling);
	ck_assert_int_eq(profiled_objects(), n0);
	runtime_mallocgc(64, 0, 0);
	ck_assert_int_eq(profiled_objects(), n0 + 1);
}

// FlagNoInvokeGC: with the heap over next_gc, only unflagged allocations
// start a collection.
GORT_TEST(test_flag_noinvokegc)
{
	uint32 n0;

	n0 = mstats.numgc;
	gort_set_gc_percent(100);	// the suite runs with GOGC=off
	mstats.next_gc = 0;
	runtime_mallocgc(64, 0, FlagNoInvokeGC);
	runtime_malloc(64);	// runtime_malloc passes FlagNoInvokeGC too
	ck_assert_uint_eq(mstats.numgc, n0);
	runtime_mallocgc(64, 0, 0);
	ck_assert_uint_eq(mstats.numgc, n0 + 1);
	gort_set_gc_percent(-1);
}

// Go's mallocrep.go: allocating and freeing blocks of 1 B .. 4 MB leaves
// Alloc where it was, and Sys bounded.
GORT_TEST(test_mallocrep)
{
	GortMemStats ms;
	uint64 base;
	uintptr b, j;
	void *p;

	gort_read_memstats(&ms);
	base = ms.Alloc;
	for(j = 0; j < 4; j++) {
		for(b = 1; b < (4<<20); b = b*2 + j) {
			p = gort_malloc(b);
			ck_assert_ptr_nonnull(p);
			gort_free(p);
			gort_read_memstats(&ms);
			ck_assert_msg(ms.Alloc == base, "after malloc/free of %zu: Alloc %llu, want %llu",
				(size_t)b, (unsigned long long)ms.Alloc, (unsigned long long)base);
			ck_assert_uint_lt(ms.Sys, 1000000000ULL);
		}
	}
}

// Go's mallocrep1.go in spirit: many live blocks of random sizes, freed
// in another order; the statistics come back exactly.
GORT_TEST(test_mallocrep1)
{
	enum { K = 20000 };
	static void *ps[K];
	static uintptr sz[K];
	GortMemStats ms0, ms1, ms2;
	uint64 bytes, seed;
	uintptr i, j, t;

	gort_read_memstats(&ms0);
	seed = 42;
	bytes = 0;
	for(i = 0; i < K; i++) {
		seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
		sz[i] = 16 + (seed >> 33) % (i % 100 == 0 ? 200000 : 2000);
		ps[i] = gort_malloc(sz[i]);
		bytes += runtime_roundupsize(sz[i]);
	}
	gort_read_memstats(&ms1);
	ck_assert_uint_eq(ms1.Alloc - ms0.Alloc, bytes);
	ck_assert_uint_eq(ms1.HeapAlloc - ms0.HeapAlloc, bytes);
	ck_assert_uint_eq(ms1.HeapObjects - ms0.HeapObjects, K);
	ck_assert_uint_eq(ms1.Mallocs - ms0.Mallocs, K);
	ck_assert_uint_eq(ms1.Frees - ms0.Frees, 0);
	ck_assert_uint_eq(ms1.TotalAlloc - ms0.TotalAlloc, bytes);
	// Free in a shuffled order.
	for(i = K-1; i > 0; i--) {
		seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
		j = (seed >> 33) % (i+1);
		t = (uintptr)ps[i]; ps[i] = ps[j]; ps[j] = (void*)t;
	}
	for(i = 0; i < K; i++)
		gort_free(ps[i]);
	gort_read_memstats(&ms2);
	ck_assert_uint_eq(ms2.Alloc, ms0.Alloc);
	ck_assert_uint_eq(ms2.HeapAlloc, ms0.HeapAlloc);
	ck_assert_uint_eq(ms2.HeapObjects, ms0.HeapObjects);
	ck_assert_uint_eq(ms2.Mallocs - ms0.Mallocs, K);
	ck_assert_uint_eq(ms2.Frees - ms0.Frees, K);
	ck_assert_uint_eq(ms2.TotalAlloc - ms0.TotalAlloc, bytes);
	ck_assert_uint_eq(ms2.HeapIdle + ms2.HeapInuse, ms2.HeapSys);
}

// BySize is exact under explicit free.
GORT_TEST(test_bysize_exact)
{
	static void *ps[61][40];
	GortMemStats ms0, ms1;
	int cl, i;

	gort_read_memstats(&ms0);
	for(cl = 1; cl < 61; cl++)
		for(i = 0; i < 40; i++)
			ps[cl][i] = gort_malloc(runtime_class_to_size[cl]);
	for(cl = 1; cl < 61; cl++)
		for(i = 0; i < cl % 40; i++)
			gort_free(ps[cl][i]);
	gort_read_memstats(&ms1);
	for(cl = 1; cl < 61; cl++) {
		ck_assert_uint_eq(ms1.BySize[cl].Size, (uint32)runtime_class_to_size[cl]);
		ck_assert_msg(ms1.BySize[cl].Mallocs - ms0.BySize[cl].Mallocs == 40,
			"class %d: %llu mallocs", cl, (unsigned long long)(ms1.BySize[cl].Mallocs - ms0.BySize[cl].Mallocs));
		ck_assert_msg(ms1.BySize[cl].Frees - ms0.BySize[cl].Frees == (uint64)(cl % 40),
			"class %d: %llu frees", cl, (unsigned long long)(ms1.BySize[cl].Frees - ms0.BySize[cl].Frees));
	}
	ck_assert_uint_eq(ms1.BySize[0].Mallocs, 0);
}

// Go's malloc_test.go TestMemStats: every *Sys field is non-zero and Sys
// is exactly their sum. (BuckHashSys: the profiler's bucket table, made at
// the first sample; 4 MB allocated make one certain at the default rate,
// whose first sample point is below 1 MB.)
GORT_TEST(test_mem_stats)
{
	GortMemStats st;
	void *p;
	int i;

	for(i = 0; i < 64; i++)
		gort_free(gort_malloc(64<<10));
	p = gort_malloc(1029);
	gort_read_memstats(&st);
	gort_free(p);
	ck_assert_uint_gt(st.HeapSys, 0);
	ck_assert_uint_gt(st.StackSys, 0);
	ck_assert_uint_gt(st.MSpanSys, 0);
	ck_assert_uint_gt(st.MCacheSys, 0);
	ck_assert_uint_gt(st.BuckHashSys, 0);
	ck_assert_uint_gt(st.GCSys, 0);
	ck_assert_uint_gt(st.OtherSys, 0);
	ck_assert_uint_eq(st.Sys, st.HeapSys + st.StackSys + st.MSpanSys + st.MCacheSys +
		st.BuckHashSys + st.GCSys + st.OtherSys);
	ck_assert_uint_gt(st.StackInuse, 0);
	ck_assert_uint_le(st.StackInuse, st.StackSys);
	ck_assert_uint_le(st.MSpanInuse, st.MSpanSys);
	ck_assert_uint_le(st.MCacheInuse, st.MCacheSys);
	ck_assert_uint_eq(st.HeapIdle + st.HeapInuse, st.HeapSys);
	ck_assert_uint_ge(st.HeapInuse, st.HeapAlloc);
	ck_assert_uint_eq(st.Mallocs - st.Frees, st.HeapObjects);
	ck_assert(st.EnableGC);
	ck_assert_uint_gt(st.Lookups, 0);
}

// Typed allocation records its type per span (Go's MTypes); up to seven
// types per span in the byte table, then one word per block.
typedef struct { void *a; long b; } T2;
static const uint8_t mask_ptr[] = { 1 };
static const uint8_t mask_none[] = { 0 };

GORT_TEST(test_typed)
{
	static GortType types[9];
	GortType nptr = { sizeof(T2), mask_none, "noptr" };
	void *ps[9];
	MSpan *s;
	int i;

	for(i = 0; i < 9; i++) {
		types[i].size = sizeof(T2);
		types[i].ptrmask = mask_ptr;
		types[i].name = "T2";
	}
	for(i = 0; i < 9; i++) {
		ps[i] = gort_new(&types[i]);
		ck_assert_uint_eq(runtime_getbits(ps[i]), bitsAllocated|bitsScan);
		ck_assert_uint_eq(runtime_gettype(ps[i]), (uintptr)&types[i] | TypeInfo_SingleObject);
	}
	// All nine share a span (16-byte class), so it went Bytes → Words.
	ck_assert_int_eq(runtime_mlookup(ps[0], nil, nil, &s), 1);
	if(MHeap_Lookup(&runtime_mheap, ps[8]) == s)
		ck_assert_int_eq(s->types.compression, MTypes_Words);
	for(i = 0; i < 9; i++)
		ck_assert_uint_eq(runtime_gettype(ps[i]), (uintptr)&types[i] | TypeInfo_SingleObject);
	// Arrays, large objects, pointer-free types.
	ps[0] = gort_new_array(&types[0], 10000);
	ck_assert_uint_eq(runtime_gettype(ps[0]), (uintptr)&types[0] | TypeInfo_Array);
	ps[1] = gort_new(&nptr);
	ck_assert_uint_eq(runtime_getbits(ps[1]), bitsAllocated);
	ck_assert_uint_eq(runtime_gettype(ps[1]), 0);
	// Untyped blocks have no type.
	ps[2] = gort_malloc(48);
	ck_assert_uint_eq(runtime_gettype(ps[2]), 0);
}

// Several goroutines (GOMAXPROCS 4) allocate and free at once; each checks its own blocks'
// contents; afterwards the statistics add up exactly.
enum { NTHREAD = 4, NROUND = 20000, NLIVE = 256 };

static void
worker(void *arg)
{
	uintptr id = (uintptr)arg;
	byte *live[NLIVE];
	uintptr sz[NLIVE];
	uint64 seed = id * 7919 + 1;
	uintptr i, k, j;

	memset(live, 0, sizeof live);
	for(i = 0; i < NROUND; i++) {
		seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
		k = (seed >> 33) % NLIVE;
		if(live[k] != nil) {
			for(j = 0; j < sz[k]; j++)
				if(live[k][j] != (byte)(id*31 + k)) {
					fprintf(stderr, "thread %zu: block %p byte %zu corrupted\n", (size_t)id, (void*)live[k], (size_t)j);
					abort();
				}
			gort_free(live[k]);
		}
		sz[k] = 16 + (seed >> 40) % (i % 50 == 0 ? 70000 : 600);
		live[k] = gort_malloc(sz[k]);
		for(j = 0; j < sz[k]; j++)
			if(live[k][j] != 0) {
				fprintf(stderr, "thread %zu: block %p not zeroed\n", (size_t)id, (void*)live[k]);
				abort();
			}
		memset(live[k], (int)(id*31 + k), sz[k]);
	}
	for(k = 0; k < NLIVE; k++)
		gort_free(live[k]);
}

GORT_TEST(test_threads)
{
	void *args[NTHREAD];
	GortMemStats ms0, ms1;
	uintptr i;

	gort_gomaxprocs(4);
	for(i = 0; i < NTHREAD; i++)
		args[i] = (void*)i;
	gort_read_memstats(&ms0);
	go_and_wait(NTHREAD, worker, args);
	gort_read_memstats(&ms1);
	ck_assert_uint_eq(ms1.Alloc, ms0.Alloc);
	ck_assert_uint_eq(ms1.HeapObjects, ms0.HeapObjects);
	ck_assert_uint_eq(ms1.Mallocs - ms0.Mallocs, (uint64)NTHREAD*NROUND);
	ck_assert_uint_eq(ms1.Frees - ms0.Frees, (uint64)NTHREAD*NROUND);
	ck_assert_uint_eq(ms1.HeapIdle + ms1.HeapInuse, ms1.HeapSys);
}

// ---- GODEBUG=efence=1 ------------------------------------------------------------

static const char *efence_env[] = { "GODEBUG", "efence=1", NULL };

static void
efence_body(void *arg)
{
	GortMemStats ms0, ms1;
	byte *p, *q, *r;
	MSpan *s;

	(void)arg;
	ck_assert_int_eq(runtime_debug.efence, 1);
	gort_read_memstats(&ms0);
	p = gort_malloc(24);
	q = gort_malloc_noscan(3);	// no tiny blocks under efence
	ck_assert_uint_eq((uintptr)p & PageMask, 0);
	ck_assert_uint_eq((uintptr)q & PageMask, 0);
	ck_assert_int_eq(runtime_mlookup(p, nil, nil, &s), 1);
	ck_assert_uint_eq(s->npages, 1);
	ck_assert_int_eq(s->sizeclass, 0);
	memset(p, 1, PageSize);	// the whole page is the object's
	gort_free(p);
	gort_free(q);
	gort_read_memstats(&ms1);
	ck_assert_uint_eq(ms1.HeapSys, ms0.HeapSys - 2*PageSize);	// pages went back
	ck_assert_uint_eq(ms1.HeapObjects, ms0.HeapObjects);
	ck_assert_uint_eq(ms1.Alloc, ms0.Alloc);
	// Addresses are never reused.
	r = gort_malloc(24);
	ck_assert_ptr_ne(r, p);
	ck_assert_ptr_ne(r, q);
	gort_free(r);
	fprintf(stderr, "efence ok\n");
}

START_TEST(test_efence)
{
	int status;
	char *out = run_child(efence_body, NULL, &status, efence_env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x, stderr:\n%s", status, out);
	ck_assert_msg(strstr(out, "efence ok") != NULL, "stderr:\n%s", out);
	free(out);
}
END_TEST

static void
efence_use_after_free_body(void *arg)
{
	volatile byte *p;

	(void)arg;
	p = gort_malloc(100);
	p[5] = 1;
	gort_free((void*)p);
	p[5] = 2;	// must fault
	fprintf(stderr, "use after free did not fault\n");
}

START_TEST(test_efence_use_after_free)
{
	int status;
	char *out = run_child(efence_use_after_free_body, NULL, &status, efence_env);

	// Under AddressSanitizer its SEGV handler reports the fault and exits.
	ck_assert_msg((WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) ||
		(WIFEXITED(status) && WEXITSTATUS(status) != 0 && strstr(out, "AddressSanitizer: SEGV") != NULL),
		"status %#x, stderr:\n%s", status, out);
	ck_assert_msg(strstr(out, "did not fault") == NULL, "stderr:\n%s", out);
	free(out);
}
END_TEST

static void
efence_double_free_body(void *arg)
{
	void *p;

	(void)arg;
	p = gort_malloc(100);
	gort_free(p);
	gort_free(p);
}

START_TEST(test_efence_double_free)
{
	expect_fatal_env(efence_double_free_body, NULL, "free runtime_mlookup", efence_env);
}
END_TEST

// ---- death tests -----------------------------------------------------------------

static void
free_stack_body(void *arg)
{
	long x;

	(void)arg;
	gort_free(&x);
}

static void
free_libc_body(void *arg)
{
	(void)arg;
	gort_free(malloc(64));
}

static void
double_free_small_body(void *arg)
{
	void *p, *q;

	(void)arg;
	p = gort_malloc(64);
	q = gort_malloc(64);
	gort_free(p);
	gort_free(q);
	gort_free(p);
}

static void
double_free_16_body(void *arg)
{
	void *p;

	(void)arg;
	p = gort_malloc(16);
	gort_free(p);
	gort_free(p);
}

static void
double_free_after_flush_body(void *arg)
{
	void *p;
	GortMemStats ms;

	(void)arg;
	p = gort_malloc(200);
	gort_malloc(200);	// keeps the span in use
	gort_free(p);
	gort_read_memstats(&ms);	// flushes the cache back to the span
	gort_free(p);
}

static void
double_free_large_body(void *arg)
{
	void *p;

	(void)arg;
	p = gort_malloc(100000);
	gort_free(p);
	gort_free(p);
}

static void
free_tiny_body(void *arg)
{
	void *p;

	(void)arg;
	p = gort_malloc_noscan(8);	// the first tiny object: the block start
	gort_free(p);
}

static void
free_tiny_inner_body(void *arg)
{
	(void)arg;
	gort_malloc_noscan(4);
	gort_free(gort_malloc_noscan(4));	// inside the same tiny block
}

static void
free_interior_body(void *arg)
{
	byte *p;

	(void)arg;
	p = gort_malloc(100);
	gort_free(p + 8);
}

static void
free_with_finalizer_body(void *arg)
{
	void *p;

	(void)arg;
	p = gort_malloc(100);
	ck_assert(runtime_addfinalizer(p, (void(*)(void*))free));
	gort_free(p);
}

static void
new_array_overflow_body(void *arg)
{
	static const GortType big = { 1<<20, nil, "big" };

	(void)arg;
	gort_new_array(&big, (size_t)1 << 50);
}


static void
boot_twice_body(void *arg)
{
	(void)arg;
	gort_main(free_stack_body, nil);
}

static void*
foreign_thread(void *arg)
{
	(void)arg;
	gort_malloc(10);
	return nil;
}

static void
foreign_thread_body(void *arg)
{
	pthread_t t;

	(void)arg;
	pthread_create(&t, nil, foreign_thread, nil);
	pthread_join(t, nil);
}

START_TEST(test_free_bad_pointers)
{
	expect_fatal(free_stack_body, NULL, "free runtime_mlookup");
	expect_fatal(free_libc_body, NULL, "free runtime_mlookup");
	expect_fatal(free_interior_body, NULL, "free: pointer not at beginning of allocated block");
}
END_TEST

START_TEST(test_double_free)
{
	expect_fatal(double_free_small_body, NULL, "free: double free");
	expect_fatal(double_free_16_body, NULL, "free: double free");
	expect_fatal(double_free_after_flush_body, NULL, "free: double free");
	expect_fatal(double_free_large_body, NULL, "free runtime_mlookup");
}
END_TEST

START_TEST(test_free_tiny)
{
	expect_fatal(free_tiny_body, NULL, "freeing tiny object");
	expect_fatal(free_tiny_inner_body, NULL, "free: pointer not at beginning of allocated block");
}
END_TEST

START_TEST(test_free_with_finalizer)
{
	expect_fatal(free_with_finalizer_body, NULL, "can't explicitly free an object with a finalizer");
}
END_TEST

START_TEST(test_misuse)
{
	expect_fatal(new_array_overflow_body, NULL, "runtime: allocation size out of range");
	expect_fatal(boot_twice_body, NULL, "gort_main: the runtime is already running (one boot per process)");
	expect_fatal(foreign_thread_body, NULL, "gort: call from a thread the runtime did not create");
}
END_TEST

// gort_malloc before gort_main (no boot in the child at all), a double
// free of a 32-byte block, a free of a global's address.
static void
malloc_before_boot(void *arg)
{
	(void)arg;
	gort_malloc(10);
}

static void
double_free_32_body(void *arg)
{
	void *p;

	(void)arg;
	p = gort_malloc(32);
	gort_free(p);
	gort_free(p);
}

static void
free_global_body(void *arg)
{
	static long global;

	(void)arg;
	gort_free(&global);
}

START_TEST(test_malloc_before_boot)
{
	int status;
	char *out = run_child_raw(malloc_before_boot, NULL, &status, NULL);

	ck_assert_msg(strncmp(out, "runtime: mallocgc called before gort_main\n", 42) == 0, "stderr:\n%s", out);
	check_fatal_output(out, status, "gort: runtime not started (call gort_main first)");
}
END_TEST

START_TEST(test_double_free_32_and_global)
{
	expect_fatal(double_free_32_body, NULL, "free: double free");
	expect_fatal(free_global_body, NULL, "free runtime_mlookup");
}
END_TEST

// gort_new scans a type only if its mask names a pointer word within the
// type: bits past its last word do not count, a bit in a later mask byte
// does.
static const uint8_t m_word9[] = { 0x00, 0x02 };	// 10 words: word 9
static const uint8_t m_past[] = { 0xf8 };		// 3 words: bits 3-7 only
static const uint8_t m_word7[] = { 0x80 };		// 8 words: word 7
static const uint8_t m_none[] = { 0x00, 0x00 };	// 16 words: none
static const GortType ty_word9 = { 10*sizeof(void*), m_word9, "word9" };
static const GortType ty_past = { 3*sizeof(void*), m_past, "past" };
static const GortType ty_word7 = { 8*sizeof(void*), m_word7, "word7" };
static const GortType ty_none = { 16*sizeof(void*), m_none, "none" };
static const GortType ty_nomask = { 4*sizeof(void*), NULL, "nomask" };

GORT_TEST(test_new_scans_only_types_with_pointers)
{
	ck_assert_uint_eq(runtime_getbits(gort_new(&ty_word9)) & bitsScan, bitsScan);
	ck_assert_uint_eq(runtime_getbits(gort_new(&ty_word7)) & bitsScan, bitsScan);
	ck_assert_uint_eq(runtime_getbits(gort_new_array(&ty_word9, 3)) & bitsScan, bitsScan);
	ck_assert_uint_eq(runtime_getbits(gort_new(&ty_past)) & bitsScan, 0);
	ck_assert_uint_eq(runtime_getbits(gort_new(&ty_none)) & bitsScan, 0);
	ck_assert_uint_eq(runtime_getbits(gort_new(&ty_nomask)) & bitsScan, 0);
}

// A type whose every word is a pointer is allocated untyped (the
// conservative scan reads the same words): no type record. A type with a
// non-pointer word, or a tail shorter than a word, keeps its record.
static const uint8_t m_all2[] = { 0x03 };
static const uint8_t m_all9[] = { 0xff, 0x01 };
static const uint8_t m_first2[] = { 0x01 };
static const GortType ty_all2 = { 2*sizeof(void*), m_all2, "all2" };
static const GortType ty_all9 = { 9*sizeof(void*), m_all9, "all9" };
static const GortType ty_first2 = { 2*sizeof(void*), m_first2, "first2" };
static const GortType ty_all2tail = { 2*sizeof(void*) + 4, m_all2, "all2tail" };

GORT_TEST(test_new_all_pointers_untyped)
{
	void *p;

	p = gort_new(&ty_all2);
	ck_assert_uint_eq(runtime_getbits(p), bitsAllocated|bitsScan);
	ck_assert_uint_eq(runtime_gettype(p), 0);
	p = gort_new(&ty_all9);
	ck_assert_uint_eq(runtime_gettype(p), 0);
	p = gort_new_array(&ty_all2, 100);
	ck_assert_uint_eq(runtime_gettype(p), 0);
	p = gort_new(&ty_first2);
	ck_assert_uint_eq(runtime_gettype(p), (uintptr)&ty_first2 | TypeInfo_SingleObject);
	p = gort_new(&ty_all2tail);
	ck_assert_uint_eq(runtime_gettype(p), (uintptr)&ty_all2tail | TypeInfo_SingleObject);
}

// MSpan_ObjIndex divides by a multiply: exact at every byte offset of a
// span of every size class, and 0 in a large span.
// settype allocates a span's type table without holding settype_lock: the
// allocation may sweep, and a sweep queues finalizers (finlock), which ranks
// above settype_lock. Dead finalizable 576-byte blocks (the size of a
// 16-byte class's table: 8 words + 512 bytes) are left unswept; then
// typed blocks go into spans of untyped ones, which need a table. Under
// -Dlockcheck=true the old code died with "lock order violation:
// settype_lock then finlock".
static const uint8_t m_ptrint[] = { 0x1 };
static const GortType ty_ptrint = { 2*sizeof(void*), m_ptrint, "ptrint" };
static uint32_t nsettypefin;

static void
settypefin(void *p)
{
	(void)p;
	__atomic_add_fetch(&nsettypefin, 1, __ATOMIC_SEQ_CST);
}

static void *settypekeep[4*512];

GORT_TEST(test_settype_table_outside_lock)
{
	uint32 i;

	// Spans of 16-byte untyped blocks, half kept: after the collection
	// gort_new reuses their free slots, and the span has no type table.
	for(i = 0; i < nelem(settypekeep); i++) {
		settypekeep[i] = gort_malloc(16);
		if(i % 2)
			settypekeep[i] = nil;
	}
	for(i = 0; i < 4000; i++)
		gort_set_finalizer(gort_malloc(576), settypefin);
	runtime_gc(1);	// the 576-byte spans are garbage, unswept
	// No other allocation before these: MHeap_Alloc's reclaim would
	// sweep the 576-byte spans first.
	for(i = 1; i < nelem(settypekeep); i += 2) {
		settypekeep[i] = gort_new(&ty_ptrint);
		ck_assert_uint_eq(runtime_gettype(settypekeep[i]), (uintptr)&ty_ptrint);
	}
	// All but the few a stale stack word may keep are finalized.
	while(__atomic_load_n(&nsettypefin, __ATOMIC_SEQ_CST) < 4000 - 16) {
		gort_gc();
		gort_gosched();
	}
}

GORT_TEST(test_objindex_exact)
{
	int32 cl;
	uintptr off, bad, nbad;
	MSpan *s;

	nbad = 0;
	bad = 0;
	for(cl = 1; cl < NumSizeClasses; cl++) {
		ck_assert(runtime_mlookup(gort_malloc(runtime_class_to_size[cl]), nil, nil, &s));
		ck_assert_int_eq(s->sizeclass, cl);
		for(off = 0; off < s->npages<<PageShift; off++)
			if(MSpan_ObjIndex(s, off) != off/s->elemsize) {
				nbad++;
				bad = off;
			}
		ck_assert_msg(nbad == 0, "class %d (size %zu): %zu wrong indices, e.g. at offset %zu",
			cl, (size_t)s->elemsize, (size_t)nbad, (size_t)bad);
	}
	ck_assert(runtime_mlookup(gort_malloc(1<<20), nil, nil, &s));
	ck_assert_int_eq(s->sizeclass, 0);
	ck_assert_uint_eq(MSpan_ObjIndex(s, (1<<20) - 1), 0);
}

int
main(void)
{
	Suite *s = suite_create("malloc");
	TCase *tc;

	tc = new_tcase("alloc");
	tcase_add_test(tc, test_malloc_every_size);
	tcase_add_test(tc, test_malloc_no_overlap);
	tcase_add_test(tc, test_flag_nozero);
	tcase_add_test(tc, test_flag_bits);
	tcase_add_test(tc, test_new_scans_only_types_with_pointers);
	tcase_add_test(tc, test_new_all_pointers_untyped);
	tcase_add_test(tc, test_objindex_exact);
	tcase_add_test(tc, test_settype_table_outside_lock);
	tcase_add_test(tc, test_span_classes);
	tcase_add_test(tc, test_tiny_combining);
	tcase_add_test(tc, test_flag_noprofiling);
	tcase_add_test(tc, test_flag_noinvokegc);
	tcase_add_test(tc, test_typed);
	suite_add_tcase(s, tc);

	tc = new_tcase("stats");
	tcase_add_test(tc, test_mallocrep);
	tcase_add_test(tc, test_mallocrep1);
	tcase_add_test(tc, test_bysize_exact);
	tcase_add_test(tc, test_mem_stats);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	tc = new_tcase("efence");
	tcase_add_test(tc, test_efence);
	tcase_add_test(tc, test_efence_use_after_free);
	tcase_add_test(tc, test_efence_double_free);
	suite_add_tcase(s, tc);

	tc = new_tcase("death");
	tcase_add_test(tc, test_free_bad_pointers);
	tcase_add_test(tc, test_double_free);
	tcase_add_test(tc, test_free_tiny);
	tcase_add_test(tc, test_free_with_finalizer);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_malloc_before_boot);
	tcase_add_test(tc, test_double_free_32_and_global);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
