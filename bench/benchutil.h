// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go testing package, Copyright 2009 The Go Authors.

// The benchmark driver shared by bench/: Go 1.3's testing.B.launch, go
// test's flags and output. A program lists its benchmarks (each with a
// gort variant and baseline variants run in the same process) and calls
// bench_main; see bench_malloc.c for the full description of the flags,
// the N-growth rule and the output format.

#ifndef GORT_BENCHUTIL_H
#define GORT_BENCHUTIL_H

#include <gort.h>
#include <stdbool.h>
#include <stdint.h>

enum
{
	MaxNameLen = 64,
	MaxCPU = 32,	// values in -cpu
};

// Keep p alive and opaque, so that the compiler neither drops an unused
// allocation nor folds a malloc/free pair away.
static inline void
escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

typedef struct Variant Variant;
struct Variant
{
	const char *sub;	// nil: gort itself (BenchmarkX); else BenchmarkX/sub
	void *(*fn)(int64_t n);	// run n iterations; may return something for cleanup
	bool gort;		// measure MemStats (B/op, allocs/op)
	void (*cleanup)(void *r);	// after timing, with fn's result (may be nil)
};

typedef struct Bench Bench;
struct Bench
{
	const char *name;	// without "Benchmark"
	int64_t leak;		// bytes a non-freeing loop keeps per op (for MemCap), else 0
	Variant v[4];		// v[0] is gort; the rest are compared with it
	int nv;
};

// Non-freeing loops: at most this many bytes per run.
#define MemCap	((int64_t)512<<20)

// Parse the flags (-bench, -benchtime, -cpu), boot gort and run the selected
// benchmarks, printing header() first and footer() last (either may be
// nil). prog names the program in messages.
int	bench_main(const char *prog, int argc, char **argv, const Bench *benches, int nbench,
		void (*header)(void), void (*footer)(void));
int	bench_gomaxprocs(void);		// GOMAXPROCS the run started with (-cpu may change it per benchmark)
const char* bench_benchtime(void);	// the -benchtime string

#endif
