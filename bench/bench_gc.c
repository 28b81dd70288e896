// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// bench_gc: the collector under load.
//
//	BinaryTree16/18   the binary-trees benchmark (the shootout's, as in Go's
//	                  test/bench/shootout/binary-tree.go) at depth 16 and 18:
//	                  trees of typed nodes (scanned precisely) built and dropped
//	GCBench           Boehm's GCBench shape: a long-lived tree and array while
//	                  short-lived trees of depth 4..16 come and go
//	MarkRate          one forced collection of a 64 MB live heap (1024 chains), with 1 and 2
//	                  mark workers (GOMAXPROCS 1, 2): MB/s of live heap marked
//
// The last "#" lines give the collector's figures for the whole run:
// collections, gc-pause-one (mean pause), the longest pause and the
// total, as the Go benchmark driver of 2014 reported them, and the mark
// rates. Run one benchmark at a time (-bench) for per-benchmark figures.
//
//	bench_gc [-bench=regexp] [-benchtime=d] [-cpu=list]    (see bench_malloc.c)

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"

typedef struct Node Node;
struct Node
{
	Node	*left;
	Node	*right;
};

static const uint8_t node_mask[] = { GORT_PTRMASK_BIT(Node, left) | GORT_PTRMASK_BIT(Node, right) };
static const GortType node_type = GORT_TYPE(Node, node_mask);

static Node*
bottomup(int depth)
{
	Node *n = gort_new(&node_type);

	if(depth > 0) {
		n->left = bottomup(depth-1);
		n->right = bottomup(depth-1);
	}
	return n;
}

static long
check(Node *n)
{
	if(n->left == NULL)
		return 1;
	return 1 + check(n->left) + check(n->right);
}

static long binsink;

static void
binarytrees(int maxdepth)
{
	Node *longlived;
	int depth, iters, i, mindepth = 4;
	long c;

	c = check(bottomup(maxdepth + 1));	// stretch
	longlived = bottomup(maxdepth);
	for(depth = mindepth; depth <= maxdepth; depth += 2) {
		iters = 1 << (maxdepth - depth + mindepth);
		for(i = 0; i < iters; i++)
			c += check(bottomup(depth));
	}
	c += check(longlived);
	binsink = c;
	gort_keep_alive(longlived);
}

static void* bt16(int64_t n) { while(n-- > 0) binarytrees(16); return NULL; }
static void* bt18(int64_t n) { while(n-- > 0) binarytrees(18); return NULL; }

// GCBench's shape: a long-lived tree of depth 16 and a 4 MB array stay;
// short-lived trees are built top-down and bottom-up and dropped.
static void
populate(int depth, Node *n)
{
	if(depth <= 0)
		return;
	n->left = gort_new(&node_type);
	n->right = gort_new(&node_type);
	populate(depth-1, n->left);
	populate(depth-1, n->right);
}

static void
gcbench(void)
{
	Node *longlived, *t;
	double *array;
	int d, i, iters;

	longlived = gort_new(&node_type);
	populate(16, longlived);
	array = gort_malloc_noscan(500000 * sizeof(double));
	for(i = 0; i < 500000/2; i++)
		array[i] = 1.0/i;
	for(d = 4; d <= 16; d += 2) {
		iters = 2 * (1 << (18 - d)) / (1 << (d - 4 + 2));
		if(iters < 1)
			iters = 1;
		for(i = 0; i < iters; i++) {
			t = gort_new(&node_type);
			populate(d, t);
			t = bottomup(d);
			binsink += (long)(uintptr_t)t & 1;
		}
	}
	if(array[1000] != 1.0/1000)
		abort();
	gort_keep_alive(longlived);
	gort_keep_alive(array);
}

static void* gcb(int64_t n) { while(n-- > 0) gcbench(); return NULL; }

// Mark rate: a 64 MB live heap of 64-byte blocks in 1024 chains hanging
// off one root array (a single chain would leave a second worker idle),
// collected once.
enum { NCHAIN = 1024 };
static Node **live;
static double markrate[2];

static void*
markrate_run(int64_t n)
{
	GortMemStats ms;
	int64_t i, k, nblocks = (64<<20) / 64;
	Node *p;
	int procs, prev;
	uint64_t pause;

	prev = gort_gomaxprocs(0);
	if(live == NULL) {
		gort_set_gc_percent(-1);	// only the forced collections below
		live = gort_malloc(NCHAIN * sizeof live[0]);
		for(i = 0; i < nblocks; i++) {
			p = gort_malloc(64);
			p->left = live[i % NCHAIN];
			live[i % NCHAIN] = p;
		}
	}
	for(k = 0; k < n; k++) {
		for(procs = 1; procs <= 2; procs++) {
			gort_gomaxprocs(procs);
			gort_gc();
			gort_read_memstats(&ms);
			pause = ms.PauseNs[(ms.NumGC + 255) % 256];
			markrate[procs-1] = (double)ms.HeapAlloc / (1 << 20) / (pause / 1e9);
		}
	}
	gort_gomaxprocs(prev);
	return NULL;
}

static const Bench benches[] = {
	{"BinaryTree16", 0, {{NULL, bt16, true, NULL}}, 1},
	{"BinaryTree18", 0, {{NULL, bt18, true, NULL}}, 1},
	{"GCBench", 0, {{NULL, gcb, true, NULL}}, 1},
	{"MarkRate", 0, {{NULL, markrate_run, true, NULL}}, 1},
};

static GortMemStats last;

static void
header(void)
{
	printf("# gort collector: stop-the-world parallel mark, sweep in the pause; GOMAXPROCS=%d, benchtime=%s, GOGC=%s\n",
	       bench_gomaxprocs(), bench_benchtime(), getenv("GOGC") ? getenv("GOGC") : "100");
	gort_read_memstats(&last);
}

static void
footer(void)
{
	if(markrate[0] > 0)
		printf("# MarkRate: %.0f MB/s with 1 mark worker, %.0f MB/s with 2 (64 MB live, one forced collection each)\n",
	       markrate[0], markrate[1]);
}

// The collector's figures for the whole run.
static void
gcfigures(void)
{
	GortMemStats ms;
	uint64_t maxp = 0;
	uint32_t i, n;

	gort_read_memstats(&ms);
	n = ms.NumGC < 256 ? ms.NumGC : 256;
	for(i = 0; i < n; i++)
		if(ms.PauseNs[i] > maxp)
			maxp = ms.PauseNs[i];
	printf("# collections %u, gc-pause-one %.0f ns, max pause %.0f ns, gc-pause-total %.1f ms, HeapSys %" PRIu64 " MB\n",
	       ms.NumGC, ms.NumGC ? (double)ms.PauseTotalNs / ms.NumGC : 0.0, (double)maxp,
	       ms.PauseTotalNs / 1e6, ms.HeapSys >> 20);
}

static void
footer_all(void)
{
	gcfigures();
	footer();
}

int
main(int argc, char **argv)
{
	(void)last;
	return bench_main("bench_gc", argc, argv, benches, sizeof benches / sizeof benches[0], header, footer_all);
}
