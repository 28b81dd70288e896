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
}

int
main(int argc, char **argv)
{
	return bench_main("bench_malloc", argc, argv, benches, sizeof benches / sizeof benches[0], header, footer);
}
