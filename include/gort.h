/*
 * gort.h — the public API of gort, the Go 1.3 runtime's memory subsystem
 * (allocator, garbage collector with concurrent sweep, heap profiler and the
 * small M:N scheduler they need) rebuilt in C11.
 *
 * Everything here is named gort_*; everything else in the library is hidden.
 * The Go name each call stands for is given beside it.
 *
 * Threads: call gort only from goroutines: the main goroutine (gort_main's
 * fn) and those started with gort_go. A call from any other thread,
 * gort_main's caller included, is a fatal error ("fatal error: gort: call
 * from a thread the runtime did not create"); a call before gort_main is
 * "fatal error: gort: runtime not started (call gort_main first)". A few
 * calls do not check and are not caught: gort_add_roots, gort_remove_roots,
 * gort_nanotime, gort_chan_len, gort_chan_cap, gort_keep_alive,
 * gort_free(NULL) and 0-byte allocations.
 *
 * fork: a goroutine may fork (no collection starts meanwhile). The child
 * may only exec or _exit: any gort call there is "fatal error: gort: call
 * in a child process after fork".
 *
 * Memory from libc malloc is not scanned by the collector: a pointer to a
 * gort object kept only in malloc'd memory does not keep it alive (register
 * such memory with gort_add_roots).
 *
 * Every subsystem has landed (README.md, "Status"). Misuse is a fatal
 * error: "fatal error: <what>" on stderr and exit status 2.
 */
#ifndef GORT_H
#define GORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GORT_API __attribute__((visibility("default")))
#else
#define GORT_API
#endif

/* ---- boot and goroutines ------------------------------------------------ */

/* Boot the runtime (reads GOMAXPROCS, GODEBUG, GOTRACEBACK; GOGC is read at
 * the first collection), run fn(arg) as the main goroutine and return 0 when
 * it returns. Once per process. */
GORT_API int  gort_main(void (*fn)(void *), void *arg);
GORT_API void gort_go(void (*fn)(void *), void *arg);   /* the go statement */
GORT_API void gort_gosched(void);                       /* runtime.Gosched */
GORT_API void gort_goexit(void);                        /* runtime.Goexit */
GORT_API int  gort_gomaxprocs(int n);   /* runtime.GOMAXPROCS: n < 1 queries; returns the previous value */
GORT_API int  gort_num_goroutine(void); /* runtime.NumGoroutine */
GORT_API void gort_sleep(int64_t ns);   /* time.Sleep */
GORT_API int64_t gort_nanotime(void);   /* runtime.nanotime (monotonic) */

/* ---- channels (the channel object lives in the GC heap) ------------------ */
typedef struct GortChan GortChan;
GORT_API GortChan *gort_chan_make(size_t elemsize, size_t cap);
GORT_API void gort_chan_send(GortChan *c, const void *elem);
GORT_API bool gort_chan_recv(GortChan *c, void *elem);  /* false once closed and drained */
GORT_API void gort_chan_close(GortChan *c);
/* Non-blocking variants (Go's select with a default case): return true if
 * the send or receive happened. gort_chan_tryrecv sets *closed (if not
 * NULL) when it returns true because the channel is closed and drained. */
GORT_API bool gort_chan_trysend(GortChan *c, const void *elem);
GORT_API bool gort_chan_tryrecv(GortChan *c, void *elem, bool *closed);
GORT_API size_t gort_chan_len(GortChan *c);
GORT_API size_t gort_chan_cap(GortChan *c);

/* ---- allocation: memory is zeroed --------------------------------------- */

/* A type for precise scanning: ptrmask has one bit per word (LSB first),
 * 1 = that word holds a pointer. */
typedef struct GortType {
	size_t size;
	const uint8_t *ptrmask;
	const char *name;
} GortType;

GORT_API void *gort_malloc(size_t n);         /* untyped: scanned conservatively */
GORT_API void *gort_malloc_noscan(size_t n);  /* never scanned (FlagNoScan) */
GORT_API void *gort_new(const GortType *t);   /* new(T): scanned precisely */
GORT_API void *gort_new_array(const GortType *t, size_t n); /* make([]T, n)'s array */
GORT_API void  gort_free(void *p);            /* runtime·free: explicit free */

/* ---- collector ----------------------------------------------------------- */
GORT_API void gort_gc(void);                  /* runtime.GC */
GORT_API int  gort_set_gc_percent(int pct);   /* debug.SetGCPercent; < 0 disables; returns previous */
GORT_API void gort_free_os_memory(void);      /* debug.FreeOSMemory */
GORT_API void gort_set_finalizer(void *obj, void (*fn)(void *obj)); /* runtime.SetFinalizer; fn NULL removes */
GORT_API void gort_add_roots(void *lo, void *hi);   /* GC_add_roots: scans [lo, hi) by whole aligned words */
GORT_API void gort_remove_roots(void *lo, void *hi);
GORT_API void gort_keep_alive(const void *p);

/* Go 1.3 runtime.MemStats: same names, order and widths. */
typedef struct GortMemStats {
	/* General statistics. */
	uint64_t Alloc, TotalAlloc, Sys, Lookups, Mallocs, Frees;
	/* Main allocation heap statistics. */
	uint64_t HeapAlloc, HeapSys, HeapIdle, HeapInuse, HeapReleased, HeapObjects;
	/* Low-level fixed-size structure allocator statistics. */
	uint64_t StackInuse, StackSys, MSpanInuse, MSpanSys, MCacheInuse, MCacheSys, BuckHashSys, GCSys, OtherSys;
	/* Garbage collector statistics. */
	uint64_t NextGC, LastGC, PauseTotalNs, PauseNs[256];
	uint32_t NumGC;
	bool EnableGC, DebugGC;
	/* Per-size allocation statistics (Go keeps 61 entries; see malloc.h). */
	struct { uint32_t Size; uint64_t Mallocs, Frees; } BySize[61];
} GortMemStats;
GORT_API void gort_read_memstats(GortMemStats *ms); /* runtime.ReadMemStats */

/* ---- profiling ------------------------------------------------------------ */
GORT_API int gort_set_mem_profile_rate(int rate);   /* runtime.MemProfileRate; returns previous */
typedef struct GortMemProfileRecord {
	int64_t AllocBytes, FreeBytes, AllocObjects, FreeObjects;
	uintptr_t Stack0[32];
} GortMemProfileRecord;
GORT_API int gort_mem_profile(GortMemProfileRecord *r, int n, bool inuse_zero); /* (n, ok) as Go: returns the count; copies only if it fits */
GORT_API int gort_write_heap_profile(FILE *f);      /* 0 on success */

/* ---- helpers -------------------------------------------------------------- */

/* GORT_PTRMASK_BIT(T, f): the ptrmask bit for pointer field f of struct T.
 * Build masks with it, e.g.
 *   struct node { struct node *left, *right; long val; };
 *   static const uint8_t node_mask[] = {
 *     GORT_PTRMASK_BIT(struct node, left) | GORT_PTRMASK_BIT(struct node, right) };
 *   static const GortType node_type = GORT_TYPE(struct node, node_mask);
 * (Each bit must land in byte 0: for structs longer than 8 words write the
 * mask bytes by hand, bit i of byte j = word 8*j+i.) */
#define GORT_PTRMASK_BIT(T, f) ((uint8_t)(1u << ((offsetof(T, f) / sizeof(void *)) % 8)))
#define GORT_TYPE(T, mask) { sizeof(T), (mask), #T }

#ifdef __cplusplus
}
#endif
#endif /* GORT_H */
