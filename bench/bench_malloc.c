// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go testing package, Copyright 2009 The Go Authors.

// bench_malloc: allocator benchmarks, driven the way Go's testing package
// drives a benchmark, each loop also run against glibc malloc/free in the
// same process. Malloc8 and Malloc16 are Go's (runtime/malloc_test.go:
// new(int64), new([2]int64), pointer-free); Malloc128, MallocLarge and
// MallocFree are gort's.
//
//	bench_malloc [-bench=regexp] [-benchtime=d] [-cpu=list]
//
// -bench selects benchmarks by a POSIX extended regular expression
// matched anywhere in the name, as go test does (so a plain substring
// works, and "." selects all); without it every benchmark runs. A pattern
// a/b also filters the variants: b is matched against "gort", "glibc"
// and "glibc-calloc". -benchtime is a Go duration (0.5s, 200ms, 1m30s;
// default 1s) or, as in newer Go, Nx for exactly N iterations. -cpu is
// go test's: a comma-separated list of GOMAXPROCS values; each benchmark
// runs once with each (default: the GOMAXPROCS the environment sets),
// and a name gets go test's -N suffix when N is not 1 (so does a ratio
// line when the list has several values).
//
// Output is go test's: one line per benchmark,
//
//	BenchmarkMalloc8        50000000        11.41 ns/op        8 B/op        0 allocs/op
//
// (name padded to the longest name, tab separated), which benchstat reads,
// with "goos:"/"goarch:"/"pkg:"/"cpu:" config lines first and "#" comment
// lines for everything else, among them a ratio line after each benchmark:
//
//	# Malloc8: gort/glibc = 0.42x
//
// The driver (run) is Go 1.3's B.launch: run b.N = 1, then predict the N
// that fills the benchtime from the last run, take 1.5x that, grow at most
// 100x, round up to 1, 2, 3 or 5 x 10^k, and repeat until a run lasts the
// benchtime (or N reaches 1e9). ns/op is printed with modern Go's
// precision (four significant figures below 1000 ns). B/op and allocs/op
// are the deltas of MemStats.TotalAlloc and MemStats.Mallocs across the
// timed region divided by N, exactly as testing does; gort_read_memstats
// is exact, and is called outside the timed region (so is Go's).
//
// The loops of Malloc8, Malloc16 and Malloc128 never free: that is the
// benchmark, Go's collector frees for them, and so does gort's (GOGC
// applies). Every other gort loop frees what it allocates. MallocProfiled
// is MallocFree with every allocation profiled (MemProfileRate 1), against
// the same loop unprofiled and profiled with libgcc's unwinder.
//
// The glibc loops call malloc/free (calloc for MallocLarge/glibc-calloc).
// glibc's memory is not zeroed and gort's is. The non-freeing glibc loops
// are capped the same way; to free their blocks afterwards (outside the
// timed region) they chain each block to the previous one through its
// first word, one store into a line malloc has just touched, and call
// malloc_trim after freeing them (see freechain). gort's
// MemStats cannot see glibc, so the glibc lines have no B/op or allocs/op
// columns (go test omits them too when they are not measured).
//
// Go's other allocation benchmarks (runtime/malloc_test.go and
// mfinal_test.go), with Go's shapes:
//
//	MallocTypeInfo8/16  new(struct{ p [1 or 2]*int }): typed allocation
//	                    (gort_new with a ptrmask, never tiny), left to the
//	                    collector like Malloc8/16; variants: noscan (Malloc8/16's
//	                    pointer-free loop, so the ratio line is typed/untyped)
//	                    and glibc
//	Finalizer           GOMAXPROCS goroutines each hold 1000 objects (new(int))
//	                    and set, then clear, a finalizer on each: ns per
//	                    (set + clear), as Go 1.3's
//	FinalizerRun        GOMAXPROCS goroutines each allocate 1000 objects with a
//	                    finalizer, then call gort_gc, until N objects: the
//	                    finalizers run (the footer counts them), as Go 1.3's
//	GoroutineBlocking   1000 goroutines each block on its own channel
//	                    (capacity 1); each op sends to every channel, waits
//	                    until all have received and blocked again, and calls
//	                    gort_gc. Go times the gort_gc alone (StopTimer around
//	                    the wake-ups); this driver has no StopTimer, so the
//	                    line includes the wake-ups and the footer gives the
//	                    gort_gc alone per op
//	GoroutineIdle       1000 goroutines blocked on one channel; each op is one
//	                    gort_gc
//
// (gort_gc is Go 1.3's runtime.GC: two collections with the concurrent
// sweep.) The goroutines of the last two are started and ended inside
// each run, outside Go's timed region and inside this one: well under
// 1% of a 1s run.

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "malloc.h"	// runtime_unwindmode

enum
{
	LargeSize = 64<<10,	// MallocLarge: a large object (> 32 KB): 8 pages
	FreeSize = 64,		// MallocFree
};

// glibc's <malloc.h> is shadowed by gort's malloc/malloc.h on the
// include path of the internal library, so declare the one call we need.
extern int malloc_trim(size_t pad);

// ---- the loops ---------------------------------------------------------------
//
// Each runs n iterations and returns the head of a chain of blocks to free
// after timing (glibc's non-freeing loops), or NULL.

static void*
gort_malloc8(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_malloc_noscan(8));	// Go: new(int64)
	return NULL;
}

static void*
gort_malloc16(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_malloc_noscan(16));	// Go: new([2]int64)
	return NULL;
}

static void*
gort_malloc128(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_malloc(128));
	return NULL;
}

static void*
gort_malloclarge(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = gort_malloc_noscan(LargeSize);
		escape(p);
		gort_free(p);
	}
	return NULL;
}

static void*
gort_mallocfree(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = gort_malloc(FreeSize);
		escape(p);
		gort_free(p);
	}
	return NULL;
}

// MallocProfiled: MallocFree with every allocation profiled
// (MemProfileRate 1): the stack capture, the bucket lookup and the
// profile special on each block. Variants: the same loop unprofiled
// (rate 0), and profiled with libgcc's unwinder instead of the
// frame-pointer walk (GORT_UNWIND=eh).
static void*
profiledloop(int64_t n, int rate, int unwind)
{
	int old = gort_set_mem_profile_rate(rate);

	runtime_unwindmode = unwind;
	for(int64_t i = 0; i < n; i++) {
		void *p = gort_malloc(FreeSize);
		escape(p);
		gort_free(p);
	}
	gort_set_mem_profile_rate(old);
	runtime_unwindmode = 0;
	return NULL;
}

static void* gort_mallocprofiled(int64_t n) { return profiledloop(n, 1, 0); }
static void* gort_mallocunprofiled(int64_t n) { return profiledloop(n, 0, 0); }
static void* gort_mallocprofiled_eh(int64_t n) { return profiledloop(n, 1, 1); }

static inline void*
glibc_leak(int64_t n, size_t size)
{
	void *head = NULL;

	for(int64_t i = 0; i < n; i++) {
		void **p = malloc(size);
		if(p == NULL) {
			fprintf(stderr, "bench_malloc: glibc malloc(%zu) failed\n", size);
			exit(1);
		}
		*p = head;
		head = p;
	}
	escape(head);
	return head;
}

static void*
glibc_malloc8(int64_t n)
{
	return glibc_leak(n, 8);
}

static void*
glibc_malloc16(int64_t n)
{
	return glibc_leak(n, 16);
}

static void*
glibc_malloc128(int64_t n)
{
	return glibc_leak(n, 128);
}

static void*
glibc_malloclarge(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = malloc(LargeSize);
		escape(p);
		free(p);
	}
	return NULL;
}

static void*
glibc_calloclarge(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = calloc(1, LargeSize);
		escape(p);
		free(p);
	}
	return NULL;
}

static void*
glibc_mallocfree(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = malloc(FreeSize);
		escape(p);
		free(p);
	}
	return NULL;
}

// Free a chain of glibc blocks, then have glibc coalesce them and give
// the memory back (malloc_trim), so that the next timed run does not pay
// for consolidating millions of fastbin chunks (glibc does that the
// first time its top chunk runs out, which would land in some later run).
static void
freechain(void *head)
{
	if(head == NULL)
		return;
	while(head != NULL) {
		void *next = *(void**)head;
		free(head);
		head = next;
	}
	malloc_trim(0);
}

// ---- typed allocation, finalizers, goroutines during collections ---------------

// MallocTypeInfo8/16: Go's new(struct{ p [8/8]*int }) and
// new(struct{ p [16/8]*int }).
typedef struct TypeInfo8 TypeInfo8;
struct TypeInfo8
{
	int64_t *p[1];
};

typedef struct TypeInfo16 TypeInfo16;
struct TypeInfo16
{
	int64_t *p[2];
};

static const uint8_t typeinfo8_mask[] = { 0x1 };
static const uint8_t typeinfo16_mask[] = { 0x3 };
static const GortType typeinfo8_type = GORT_TYPE(TypeInfo8, typeinfo8_mask);
static const GortType typeinfo16_type = GORT_TYPE(TypeInfo16, typeinfo16_mask);

static void*
gort_malloctypeinfo8(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_new(&typeinfo8_type));
	return NULL;
}

static void*
gort_malloctypeinfo16(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_new(&typeinfo16_type));
	return NULL;
}

// MallocTypeInfo16/mixed (gort): a 16-byte type with one pointer word and
// one integer. Go's TypeInfo types are all pointers, which gort_new
// allocates untyped (the conservative scan reads the same words); this one
// records its type (settype), the cost the Go benchmark once measured.
typedef struct TypeInfoMixed16 TypeInfoMixed16;
struct TypeInfoMixed16
{
	int64_t *p;
	int64_t x;
};

static const uint8_t typeinfomixed16_mask[] = { 0x1 };
static const GortType typeinfomixed16_type = GORT_TYPE(TypeInfoMixed16, typeinfomixed16_mask);

static void*
gort_malloctypeinfomixed16(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_new(&typeinfomixed16_type));
	return NULL;
}

// Finalizer and FinalizerRun: Go 1.3's (runtime/mfinal_test.go). b.N is
// split into batches of FinBatch, taken by GOMAXPROCS goroutines.
enum
{
	FinBatch = 1000,	// Go's CallsPerSched
	NIdleG = 1000,		// GoroutineBlocking/Idle: Go's -n default
};

static int64_t finbatches;	// batches left (atomic)
static GortChan *findone;
static int64_t finset, finran;	// FinalizerRun: finalizers set, and run (atomic)

static void
fin(void *obj)
{
	(void)obj;
	__atomic_add_fetch(&finran, 1, __ATOMIC_RELAXED);
}

static void
finalizerworker(void *arg)
{
	void *data[FinBatch];
	bool t = true;
	int i;

	(void)arg;
	for(i = 0; i < FinBatch; i++)
		data[i] = gort_malloc_noscan(8);	// new(int)
	while(__atomic_sub_fetch(&finbatches, 1, __ATOMIC_SEQ_CST) >= 0) {
		gort_gosched();
		for(i = 0; i < FinBatch; i++)
			gort_set_finalizer(data[i], fin);
		for(i = 0; i < FinBatch; i++)
			gort_set_finalizer(data[i], NULL);
	}
	for(i = 0; i < FinBatch; i++)
		gort_keep_alive(data[i]);
	gort_chan_send(findone, &t);
}

static void
finalizerrunworker(void *arg)
{
	bool t = true;
	int i;

	(void)arg;
	while(__atomic_sub_fetch(&finbatches, 1, __ATOMIC_SEQ_CST) >= 0) {
		gort_gosched();
		for(i = 0; i < FinBatch; i++) {
			void *v = gort_malloc_noscan(8);	// new(int)
			gort_set_finalizer(v, fin);
		}
		__atomic_add_fetch(&finset, FinBatch, __ATOMIC_RELAXED);
		gort_gc();
	}
	gort_chan_send(findone, &t);
}

static void*
finalizerloop(int64_t n, void (*worker)(void*))
{
	int procs, p;
	bool v;

	procs = gort_gomaxprocs(0);
	finbatches = n / FinBatch;
	findone = gort_chan_make(sizeof(bool), 0);
	for(p = 0; p < procs; p++)
		gort_go(worker, NULL);
	for(p = 0; p < procs; p++)
		gort_chan_recv(findone, &v);
	return NULL;
}

static void* gort_finalizer(int64_t n) { return finalizerloop(n, finalizerworker); }
static void* gort_finalizerrun(int64_t n) { return finalizerloop(n, finalizerrunworker); }

// GoroutineBlocking and GoroutineIdle: Go's (runtime/malloc_test.go), with
// NIdleG goroutines. The channels are in bss, a root.
static GortChan *blockch[NIdleG];
static int32_t idlewoken;		// receives done (atomic)
static int64_t blockgcns[MaxCPU+1], blockgcn[MaxCPU+1];	// by GOMAXPROCS, the last run: ns in gort_gc, ops

static void
blockreader(void *arg)
{
	GortChan *c = arg;
	bool v;

	while(gort_chan_recv(c, &v))
		__atomic_add_fetch(&idlewoken, 1, __ATOMIC_SEQ_CST);
}

static void
idlereader(void *arg)
{
	bool v;

	gort_chan_recv((GortChan*)arg, &v);
}

// Wait until the goroutines started since base have all exited.
static void
waitexit(int base)
{
	while(gort_num_goroutine() > base)
		gort_gosched();
}

static void*
gort_goroutineblocking(int64_t n)
{
	int base, i;
	int64_t k, t0;
	int32_t want;
	bool t = true;
	int procs;

	procs = gort_gomaxprocs(0);
	if(procs > MaxCPU)
		procs = MaxCPU;
	base = gort_num_goroutine();
	idlewoken = 0;
	for(i = 0; i < NIdleG; i++) {
		blockch[i] = gort_chan_make(sizeof(bool), 1);
		gort_go(blockreader, blockch[i]);
	}
	gort_gc();
	blockgcns[procs] = 0;
	want = 0;
	for(k = 0; k < n; k++) {
		for(i = 0; i < NIdleG; i++)
			gort_chan_send(blockch[i], &t);
		// Go sleeps 10 ms here so that they have all blocked again.
		want += NIdleG;
		while(__atomic_load_n(&idlewoken, __ATOMIC_SEQ_CST) < want)
			gort_gosched();
		gort_gosched();	// the last one to count blocks again
		t0 = gort_nanotime();
		gort_gc();
		blockgcns[procs] += gort_nanotime() - t0;
	}
	blockgcn[procs] = n;
	for(i = 0; i < NIdleG; i++)
		gort_chan_close(blockch[i]);
	waitexit(base);
	for(i = 0; i < NIdleG; i++)
		blockch[i] = NULL;
	return NULL;
}

static void*
gort_goroutineidle(int64_t n)
{
	static GortChan *quit;	// bss: a root
	int base, i;
	int64_t k;

	base = gort_num_goroutine();
	quit = gort_chan_make(sizeof(bool), 0);
	for(i = 0; i < NIdleG; i++)
		gort_go(idlereader, quit);
	gort_gc();
	for(k = 0; k < n; k++)
		gort_gc();
	gort_chan_close(quit);
	waitexit(base);
	quit = NULL;
	return NULL;
}

static void
typedfooter(void)
{
	if(finset > 0)
		printf("# FinalizerRun: %" PRId64 " finalizers set, %" PRId64 " run by the end of the runs\n",
		       finset, __atomic_load_n(&finran, __ATOMIC_SEQ_CST));
	for(int p = 1; p <= MaxCPU; p++)
		if(blockgcn[p] > 0)
			printf("# GoroutineBlocking%s%.0d: gort_gc alone (Go's timed region) %.0f ns/op over the last run's %" PRId64 " ops;"
			       " the rest of its ns/op is waking the %d goroutines\n",
			       p > 1 ? "-" : "", p > 1 ? p : 0, (double)blockgcns[p] / blockgcn[p], blockgcn[p], NIdleG);
}

// ---- the benchmarks ------------------------------------------------------------

static const Bench benches[] = {
	{"Malloc8", 8, {{NULL, gort_malloc8, true, NULL}, {"glibc", glibc_malloc8, false, freechain}}, 2},
	{"Malloc16", 16, {{NULL, gort_malloc16, true, NULL}, {"glibc", glibc_malloc16, false, freechain}}, 2},
	{"Malloc128", 128, {{NULL, gort_malloc128, true, NULL}, {"glibc", glibc_malloc128, false, freechain}}, 2},
	{"MallocLarge", 0, {{NULL, gort_malloclarge, true, NULL}, {"glibc", glibc_malloclarge, false, NULL},
			    {"glibc-calloc", glibc_calloclarge, false, NULL}}, 3},
	{"MallocFree", 0, {{NULL, gort_mallocfree, true, NULL}, {"glibc", glibc_mallocfree, false, NULL}}, 2},
	{"MallocProfiled", 0, {{NULL, gort_mallocprofiled, true, NULL}, {"unprofiled", gort_mallocunprofiled, true, NULL},
			       {"unwind-eh", gort_mallocprofiled_eh, true, NULL}}, 3},
	{"MallocTypeInfo8", 8, {{NULL, gort_malloctypeinfo8, true, NULL}, {"noscan", gort_malloc8, true, NULL},
				{"glibc", glibc_malloc8, false, freechain}}, 3},
	{"MallocTypeInfo16", 16, {{NULL, gort_malloctypeinfo16, true, NULL}, {"noscan", gort_malloc16, true, NULL},
				 {"mixed", gort_malloctypeinfomixed16, true, NULL},
				 {"glibc", glibc_malloc16, false, freechain}}, 4},
	{"Finalizer", 0, {{NULL, gort_finalizer, true, NULL}}, 1},
	{"FinalizerRun", 0, {{NULL, gort_finalizerrun, true, NULL}}, 1},
	{"GoroutineBlocking", 0, {{NULL, gort_goroutineblocking, true, NULL}}, 1},
	{"GoroutineIdle", 0, {{NULL, gort_goroutineidle, true, NULL}}, 1},
};

static void
header(void)
{
	printf("# gort (Go 1.3 allocator) vs glibc malloc, same process, one thread; GOMAXPROCS=%d, benchtime=%s\n",
	       bench_gomaxprocs(), bench_benchtime());
	printf("# the gort loops of Malloc8/16/128 leave their blocks to the collector (GOGC=%s), every other gort loop frees:"
	       " MallocLarge = malloc_noscan(%d)+free, MallocFree = malloc(%d)+free\n",
	       getenv("GOGC") ? getenv("GOGC") : "100", LargeSize, FreeSize);
	printf("# non-freeing loops: N capped per run so that N*size <= %" PRId64 " MiB, so a run may be short of the benchtime\n",
	       MemCap>>20);
	printf("# glibc: same loops with malloc/free (not zeroed; gort zeroes); its non-freeing loops"
	       " chain blocks through word 0 and free them (+ malloc_trim) after timing; no B/op, allocs/op (gort MemStats only)\n");
	printf("# B/op, allocs/op: TotalAlloc and Mallocs deltas / N; as in Go 1.3, Mallocs counts a 16-byte"
	       " tiny block once, however many tiny objects it holds\n");
}

static void
footer(void)
{
	static GortMemStats ms;

	gort_read_memstats(&ms);
	printf("# gort heap at the end: HeapAlloc %" PRIu64 " MiB, HeapSys %" PRIu64 " MiB, %u collections\n",
	       ms.HeapAlloc>>20, ms.HeapSys>>20, ms.NumGC);
	typedfooter();
}

int
main(int argc, char **argv)
{
	return bench_main("bench_malloc", argc, argv, benches, sizeof benches / sizeof benches[0], header, footer);
}
