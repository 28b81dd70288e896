// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// shim.h: the allocator shim under bench/peers' programs (binarytrees.c,
// gcbench.c, ring.c). Each program is written once against it and built
// three times, with one of
//
//	-DPEER_GORT    gort: typed objects with gort_new (a GortType with a
//	               ptrmask: scanned precisely), pointer-free ones with
//	               gort_malloc_noscan; the program runs as gort_main's main
//	               goroutine; GOMAXPROCS, GOGC, GODEBUG apply
//	-DPEER_BOEHM   Boehm GC (bdw-gc): GC_MALLOC / GC_MALLOC_ATOMIC, interior
//	               pointer recognition off (GC_set_all_interior_pointers(0)
//	               before GC_INIT); markers from the GC_MARKERS environment
//	               variable
//	-DPEER_GLIBC   glibc malloc/free: the program frees its trees explicitly,
//	               as the classic C versions of these benchmarks do
//
// A program defines its node types with PEER_TYPE, allocates with
// peer_new / peer_new_noscan, frees with peer_free only where
// PEER_EXPLICIT_FREE is 1, and hands its body to peer_main. peer_main
// prints one result line on stdout, read by bench/peers/run.py:
//
//	peers: prog=ring backend=gort gcs=123 pause_total_ns=... pause_max_ns=... pause_max_exact=1 check=...
//
// gort's figures are MemStats (NumGC, PauseTotalNs, the largest of the
// last 256 PauseNs: pause_max_exact=0 when there were more than 256
// collections). Boehm's are timed here, from GC_EVENT_START to GC_EVENT_END
// of each collection (the whole collection: the program is one thread, so
// it waits for all of it, the stopped-world mark and the start of the
// reclaim). Wall time is the driver's (fork to wait4); peak RSS is vmhwm_kb.

#ifndef PEERS_SHIM_H
#define PEERS_SHIM_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(PEER_GORT) + defined(PEER_BOEHM) + defined(PEER_GLIBC) != 1
#error "define exactly one of PEER_GORT, PEER_BOEHM, PEER_GLIBC"
#endif

// The result the program adds to its line (a checksum, so that the work
// cannot be optimised away and the backends can be compared).
static long peer_check;

static inline void
peer_die(const char *msg)
{
	fprintf(stderr, "peers: %s\n", msg);
	exit(1);
}

// The peak RSS of this process image, in KB: VmHWM from /proc/self/status.
// (The driver cannot use the child's ru_maxrss: Linux carries the
// high-water mark of the forking driver's image across exec, so every
// child under ~11 MB would show the Python driver's RSS.)
static inline long
peer_vmhwm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if(f == NULL)
		return -1;
	while(fgets(line, sizeof line, f) != NULL)
		if(strncmp(line, "VmHWM:", 6) == 0) {
			kb = atol(line + 6);
			break;
		}
	fclose(f);
	return kb;
}

// ---- gort ------------------------------------------------------------------------
#if defined(PEER_GORT)
#include <gort.h>

#define PEER_BACKEND		"gort"
#define PEER_EXPLICIT_FREE	0

typedef GortType PeerType;
// PEER_TYPE(name, T, mask): a typed object; mask as for GORT_TYPE
// (GORT_PTRMASK_BIT(T, f) | ...).
#define PEER_TYPE(name, T, maskbits) \
	static const uint8_t name##_mask[] = { (maskbits) }; \
	static const GortType name = GORT_TYPE(T, name##_mask)
#define PEER_BIT(T, f)		GORT_PTRMASK_BIT(T, f)

static inline void* peer_new(const PeerType *t) { return gort_new(t); }
static inline void* peer_new_noscan(size_t n) { return gort_malloc_noscan(n); }
static inline void peer_free(void *p) { (void)p; }
static inline void peer_keep(const void *p) { gort_keep_alive(p); }

static const char *peer_name;
static void (*peer_body)(int, char**);
static int peer_argc;
static char **peer_argv;
static GortMemStats peer_ms;	// 4 KB: off the stack

static void
peer_gortmain(void *arg)
{
	uint64_t maxp = 0;
	uint32_t i, n;

	(void)arg;
	peer_body(peer_argc, peer_argv);
	gort_read_memstats(&peer_ms);
	n = peer_ms.NumGC < 256 ? peer_ms.NumGC : 256;
	for(i = 0; i < n; i++)
		if(peer_ms.PauseNs[i] > maxp)
			maxp = peer_ms.PauseNs[i];
	printf("peers: prog=%s backend=gort gcs=%u pause_total_ns=%" PRIu64 " pause_max_ns=%" PRIu64
	       " pause_max_exact=%d check=%ld heapsys_mb=%" PRIu64 " vmhwm_kb=%ld\n",
	       peer_name, peer_ms.NumGC, peer_ms.PauseTotalNs, maxp, peer_ms.NumGC <= 256,
	       peer_check, peer_ms.HeapSys >> 20, peer_vmhwm_kb());
	fflush(stdout);
}

static int
peer_main(const char *name, int argc, char **argv, void (*body)(int, char**))
{
	peer_name = name;
	peer_body = body;
	peer_argc = argc;
	peer_argv = argv;
	return gort_main(peer_gortmain, NULL);
}

// ---- Boehm -----------------------------------------------------------------------
#elif defined(PEER_BOEHM)
#ifndef GC_THREADS
#define GC_THREADS	// for GC_start_mark_threads and GC_get_parallel
#endif
#include <gc.h>

#define PEER_BACKEND		"boehm"
#define PEER_EXPLICIT_FREE	0

typedef struct PeerType { size_t size; } PeerType;
#define PEER_TYPE(name, T, maskbits)	static const PeerType name = { sizeof(T) }
#define PEER_BIT(T, f)		0

static inline void* peer_new(const PeerType *t) { return GC_MALLOC(t->size); }
static inline void* peer_new_noscan(size_t n) { return GC_MALLOC_ATOMIC(n); }
static inline void peer_free(void *p) { (void)p; }
static inline void peer_keep(const void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

static uint64_t peer_gcs, peer_pause_total, peer_pause_max;
static struct timespec peer_t0;

static inline uint64_t
peer_nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Called by the collecting thread (this program's only one) at each
// event; no allocation here.
static void
peer_gcevent(GC_EventType e)
{
	uint64_t t, p;

	if(e == GC_EVENT_START) {
		clock_gettime(CLOCK_MONOTONIC, &peer_t0);
	} else if(e == GC_EVENT_END) {
		t = peer_nanotime();
		p = t - ((uint64_t)peer_t0.tv_sec * 1000000000u + (uint64_t)peer_t0.tv_nsec);
		peer_gcs++;
		peer_pause_total += p;
		if(p > peer_pause_max)
			peer_pause_max = p;
	}
}

static int
peer_main(const char *name, int argc, char **argv, void (*body)(int, char**))
{
	GC_set_all_interior_pointers(0);	// as the table: no interior pointers
	GC_INIT();
	// A one-thread program gets its helper markers only when it asks
	// (or starts a thread): GC_MARKERS-1 of them.
	GC_start_mark_threads();
	GC_set_on_collection_event(peer_gcevent);
	body(argc, argv);
	printf("peers: prog=%s backend=boehm gcs=%" PRIu64 " pause_total_ns=%" PRIu64 " pause_max_ns=%" PRIu64
	       " pause_max_exact=1 check=%ld heapsys_mb=%zu gc_no=%lu markers=%d vmhwm_kb=%ld\n",
	       name, peer_gcs, peer_pause_total, peer_pause_max, peer_check,
	       GC_get_heap_size() >> 20, (unsigned long)GC_get_gc_no(),
	       GC_get_parallel() + 1,	// GC_get_parallel: the helper markers
	       peer_vmhwm_kb());
	fflush(stdout);
	return 0;
}

// ---- glibc -----------------------------------------------------------------------
#else

#define PEER_BACKEND		"glibc"
#define PEER_EXPLICIT_FREE	1

typedef struct PeerType { size_t size; } PeerType;
#define PEER_TYPE(name, T, maskbits)	static const PeerType name = { sizeof(T) }
#define PEER_BIT(T, f)		0

// Not zeroed (the classic C versions use malloc): the programs set every
// field of a node they allocate.
static inline void*
peer_new(const PeerType *t)
{
	void *p = malloc(t->size);

	if(p == NULL)
		peer_die("out of memory");
	return p;
}

static inline void*
peer_new_noscan(size_t n)
{
	void *p = malloc(n);

	if(p == NULL)
		peer_die("out of memory");
	return p;
}

static inline void peer_free(void *p) { free(p); }
static inline void peer_keep(const void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

static int
peer_main(const char *name, int argc, char **argv, void (*body)(int, char**))
{
	body(argc, argv);
	printf("peers: prog=%s backend=glibc gcs=0 pause_total_ns=0 pause_max_ns=0 pause_max_exact=1 check=%ld"
	       " vmhwm_kb=%ld\n", name, peer_check, peer_vmhwm_kb());
	fflush(stdout);
	return 0;
}
#endif

#endif
