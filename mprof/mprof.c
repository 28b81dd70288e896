// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Malloc profiling (Go's mprof.goc, at 3c3be622 with go1.3's follow-ups).
// Patterned after tcmalloc's algorithms; shorter code.
//
// mallocgc samples one allocation per MemProfileRate bytes on average
// (next_sample, per MCache; rate 1 samples every allocation, 0 none) and
// calls MProf_Malloc, which captures the allocating call stack, finds or
// makes the Bucket for (stack, size) and counts the allocation there; the
// object gets a profile special pointing at its bucket, so that its free
// (explicit, or by the sweeper) is counted in the same bucket (MProf_Free).
//
// The three generations. Mallocs are counted as they happen, but the
// sweeper frees an object only after the collection that found it dead,
// and with the concurrent sweep, any time before the next one. Counting
// naively would skew the profile towards mallocs. So:
//	mallocs and explicit frees go into recent_*;
//	frees by the sweeper go into prev_*;
//	at each collection (MProf_GC, right after mark) prev_* is added to
//	the totals and recent_* becomes prev_*.
// The totals then describe the heap as of the last but one collection:
// the allocations made before it and the frees of what it found dead.
//
// Buckets live outside the GC'd heap (persistentalloc; the hash table
// from SysAlloc), accounted in mstats.buckhash_sys, and are never freed.
// proflock protects them.
//
// Stacks are captured by walking frame pointers (gort and everything
// built with it use -fno-omit-frame-pointer): tens of nanoseconds, cheap
// enough for MemProfileRate=1. GORT_UNWIND=eh switches to libgcc's
// unwinder, which needs no frame pointers (user code built without them)
// but costs microseconds per sample. The frames of gort itself are
// dropped: the walk starts at the caller of the public allocation entry
// point (those are kept out of line in their own section, gort_alloc_api).


#include <dlfcn.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#include "gort.h"
#include "malloc.h"
#include "mgc0.h"

static Lock proflock = LOCK_INIT(LockRankProf);

enum { MProf };	// profile types (Go also has BProf, the block profile)

// Per-call-stack profiling information. Lookup by hashing (stack, size)
// into a linked-list hash table. Protected by proflock: the links and the
// counters; typ, hash, size, nstk and stk are immutable once stkbucket
// has made the bucket.
struct Bucket
{
	Bucket*	next;		// next in hash list; proflock
	Bucket*	allnext;	// next in the list of all mbuckets; proflock
	int32	typ;
	// The three generations (see the top of the file).
	uintptr	allocs;
	uintptr	frees;
	uintptr	alloc_bytes;
	uintptr	free_bytes;

	uintptr	prev_allocs;	// from the last but one GC to the last
	uintptr	prev_frees;
	uintptr	prev_alloc_bytes;
	uintptr	prev_free_bytes;

	uintptr	recent_allocs;	// since the last GC
	uintptr	recent_frees;
	uintptr	recent_alloc_bytes;
	uintptr	recent_free_bytes;

	uintptr	hash;		// hash of size + stk
	uintptr	size;
	uintptr	nstk;
	uintptr	stk[];
};

enum
{
	BuckHashSize = 179999,
	MaxStack = 32,
};

static Bucket	**buckhash;	// proflock
static Bucket	*mbuckets;	// memory profile buckets; proflock

// runtime.MemProfileRate: Go's default, one sample per 512 KB allocated.
// Written atomically (gort_set_mem_profile_rate); mallocgc and
// allocmcache read it plainly: racy, benign (a stale rate moves one
// sample point).
int32	runtime_MemProfileRate = 512*1024;

// Return the bucket for (size, stk[0:nstk]), allocating a new one if
// needed. proflock held.
static Bucket*
stkbucket(int32 typ, uintptr size, uintptr *stk, int32 nstk, bool alloc)
{
	int32 i;
	uintptr h;
	Bucket *b;

	if(buckhash == nil) {
		buckhash = runtime_SysAlloc(BuckHashSize*sizeof buckhash[0], &mstats.buckhash_sys);
		if(buckhash == nil)
			runtime_throw("runtime: cannot allocate memory");
	}

	// Hash stack.
	h = 0;
	for(i = 0; i < nstk; i++) {
		h += stk[i];
		h += h<<10;
		h ^= h>>6;
	}
	// Hash in size.
	h += size;
	h += h<<10;
	h ^= h>>6;
	// Finalize.
	h += h<<3;
	h ^= h>>11;

	i = h%BuckHashSize;
	for(b = buckhash[i]; b; b = b->next)
		if(b->typ == typ && b->hash == h && b->size == size && b->nstk == (uintptr)nstk &&
		   memcmp(b->stk, stk, nstk*sizeof stk[0]) == 0)
			return b;

	if(!alloc)
		return nil;

	b = runtime_persistentalloc(sizeof *b + nstk*sizeof stk[0], 0, &mstats.buckhash_sys);
	memmove(b->stk, stk, nstk*sizeof stk[0]);
	b->typ = typ;
	b->hash = h;
	b->size = size;
	b->nstk = nstk;
	b->next = buckhash[i];
	buckhash[i] = b;
	b->allnext = mbuckets;
	mbuckets = b;
	return b;
}

static void
MProf_GC(void)
{
	Bucket *b;

	for(b = mbuckets; b; b = b->allnext) {
		b->allocs += b->prev_allocs;
		b->frees += b->prev_frees;
		b->alloc_bytes += b->prev_alloc_bytes;
		b->free_bytes += b->prev_free_bytes;

		b->prev_allocs = b->recent_allocs;
		b->prev_frees = b->recent_frees;
		b->prev_alloc_bytes = b->recent_alloc_bytes;
		b->prev_free_bytes = b->recent_free_bytes;

		b->recent_allocs = 0;
		b->recent_frees = 0;
		b->recent_alloc_bytes = 0;
		b->recent_free_bytes = 0;
	}
}

// Record that a GC just happened: all the 'recent' statistics are now real.
void
runtime_MProf_GC(void)
{
	runtime_lock(&proflock);
	MProf_GC();
	runtime_unlock(&proflock);
}

// ---- stack capture ------------------------------------------------------------------

// Weak: a program that never calls them has no such section.
extern const byte __start_gort_alloc_api[] __attribute__((weak));
extern const byte __stop_gort_alloc_api[] __attribute__((weak));

static inline bool
inallocapi(uintptr pc)
{
	return pc > (uintptr)__start_gort_alloc_api && pc <= (uintptr)__stop_gort_alloc_api;
}

// The bounds of the stack the caller runs on.
static void
stackbounds(uintptr sp, uintptr *lo, uintptr *hi)
{
	M *mp;
	G *gp;

	*lo = *hi = 0;
	mp = runtime_m();
	if(mp == nil)
		return;
	gp = mp->curg;
	if(gp != nil && gp->stack0 != nil && sp >= (uintptr)gp->stack0 && sp < (uintptr)gp->stack0 + gp->stacksize) {
		*lo = (uintptr)gp->stack0;
		*hi = *lo + gp->stacksize;
		return;
	}
	if(mp->g0stack != nil && sp >= (uintptr)mp->g0stack && sp < (uintptr)mp->g0stack + mp->g0stacksize) {
		*lo = (uintptr)mp->g0stack;
		*hi = *lo + mp->g0stacksize;
	}
}

// Return addresses by frame pointers, from the caller of the caller.
// Reads only inside the current stack.
NOSANITIZE __attribute__((noinline)) static int32
fpcallers(uintptr *pc, int32 max)
{
	uintptr *fp, *next, lo, hi;
	int32 n;

	fp = __builtin_frame_address(0);
	stackbounds((uintptr)fp, &lo, &hi);
	n = 0;
	while(n < max) {
		if((uintptr)fp < lo || (uintptr)fp + 2*sizeof(uintptr) > hi || ((uintptr)fp & (sizeof(uintptr)-1)) != 0)
			break;
		if(fp[1] == 0)
			break;
		pc[n++] = fp[1];
		next = (uintptr*)fp[0];
		if(next <= fp)
			break;	// callers' frames are above
		fp = next;
	}
	return n;
}

typedef struct UnwindArg UnwindArg;
struct UnwindArg
{
	uintptr	*pc;
	int32	n, max;
};

static _Unwind_Reason_Code
unwindone(struct _Unwind_Context *ctx, void *arg)
{
	UnwindArg *a = arg;
	uintptr ip;

	if(a->n >= a->max)
		return _URC_END_OF_STACK;
	ip = _Unwind_GetIP(ctx);
	if(ip == 0)
		return _URC_END_OF_STACK;
	a->pc[a->n++] = ip;
	return _URC_NO_REASON;
}

// 0 frame pointers, 1 libgcc's unwinder (GORT_UNWIND=eh, read at boot by
// runtime_parsedebugvars; benchmarks set it directly). Immutable after
// boot but for the benchmarks: see runtime.h.
int32	runtime_unwindmode;

__attribute__((noinline)) static int32
ehcallers(uintptr *pc, int32 max)
{
	UnwindArg a = { pc, 0, max };

	_Unwind_Backtrace(unwindone, &a);
	// Drop ehcallers itself, to match fpcallers.
	if(a.n > 0)
		memmove(pc, pc+1, (a.n-1)*sizeof pc[0]);
	return a.n > 0 ? a.n-1 : 0;
}

// May this goroutine block in a system call here (not inside the runtime)?
static bool
canblock(void)
{
	M *mp;

	mp = runtime_m();
	return mp != nil && mp->curg != nil && mp->curg != mp->g0 && mp->p != nil &&
		mp->locks == 0 && mp->mallocing == 0 && mp->gcing == 0;
}

// The allocating call stack, without gort's own frames: everything above
// the outermost public allocation entry point, or (an allocation inside
// gort) everything above the caller. Out of line, so that "the caller"
// is one frame.
__attribute__((noinline)) int32
runtime_callers(uintptr *stk, int32 max)
{
	uintptr pc[MaxStack+16];
	int32 n, i, j;

	// The unwinder may take the dynamic loader's lock (dl_iterate_phdr),
	// which a stopped or preempted goroutine may hold: call it only as a
	// blocking system call, with the P handed off (so that the holder
	// can run, and so that this goroutine is not stopped while it holds
	// the lock), and never inside the runtime (m->locks: a sweep, the
	// pause), where frame pointers do.
	if(runtime_unwindmode > 0 && canblock()) {
		runtime_entersyscallblock();
		n = ehcallers(pc, nelem(pc));
		runtime_exitsyscall();
	} else
		n = fpcallers(pc, nelem(pc));
	for(i = 0; i < n && !inallocapi(pc[i]); i++)
		;
	if(i == n)
		i = 1;	// not from the API: drop runtime_callers' caller only
	else
		while(i < n && inallocapi(pc[i]))
			i++;
	for(j = 0; i < n && j < max; i++, j++)
		stk[j] = pc[i];
	return j;
}

// Print a stack, one frame a line, with the names the dynamic symbol
// table gives (allocfreetrace). dladdr takes the dynamic loader's lock,
// which a stopped or preempted goroutine may hold: only as a blocking
// system call (see runtime_callers); inside the runtime (a sweep, the
// pause) the frames are printed without names.
static void
printstackframes(uintptr *stk, int32 nstk)
{
	Dl_info info;
	int32 frame;
	uintptr pc;

	if(!canblock()) {
		for(frame = 0; frame < nstk; frame++)
			runtime_printf("\t#%d %p\n", frame, (void*)stk[frame]);
		return;
	}
	runtime_entersyscallblock();
	for(frame = 0; frame < nstk; frame++) {
		pc = stk[frame];
		if(dladdr((void*)(pc-1), &info) != 0 && info.dli_sname != nil)
			runtime_printf("\t#%d %p %s+%#llx\n", frame, (void*)pc, info.dli_sname,
				(unsigned long long)(pc - (uintptr)info.dli_saddr));
		else if(dladdr((void*)(pc-1), &info) != 0 && info.dli_fname != nil)
			runtime_printf("\t#%d %p %s+%#llx\n", frame, (void*)pc, info.dli_fname,
				(unsigned long long)(pc - (uintptr)info.dli_fbase));
		else
			runtime_printf("\t#%d %p\n", frame, (void*)pc);
	}
	runtime_exitsyscall();
}

// ---- mallocs and frees --------------------------------------------------------------

// Called by malloc to record a profiled block.
void
runtime_MProf_Malloc(void *p, uintptr size)
{
	uintptr stk[MaxStack];
	Bucket *b;
	int32 nstk;

	nstk = runtime_callers(stk, nelem(stk));
	runtime_lock(&proflock);
	b = stkbucket(MProf, size, stk, nstk, true);
	b->recent_allocs++;
	b->recent_alloc_bytes += size;
	runtime_unlock(&proflock);

	// setprofilebucket takes the span's and the specials' locks: call
	// it outside proflock. The object is alive during MProf_Malloc, so
	// doing it afterwards is fine.
	runtime_setprofilebucket(p, b);
}

// Called when freeing a profiled block: freed says explicitly (counted
// with the mallocs, in recent), else by the sweeper (prev).
void
runtime_MProf_Free(Bucket *b, void *p, uintptr size, bool freed)
{
	USED(p);
	runtime_lock(&proflock);
	if(freed) {
		b->recent_frees++;
		b->recent_free_bytes += size;
	} else {
		b->prev_frees++;
		b->prev_free_bytes += size;
	}
	runtime_unlock(&proflock);
}

// The last non-zero rate: what the samples were taken at when profiling
// is off now (the profile header must not say 0, which pprof divides by).
// Atomic.
static int32	lastrate = 512*1024;

// runtime.MemProfileRate = rate (< 0 is 0). Returns the previous rate.
GORT_API int
gort_set_mem_profile_rate(int rate)
{
	int32 old;

	runtime_mcheck("gort_set_mem_profile_rate");
	if(rate < 0)
		rate = 0;
	if(rate > 0)
		__atomic_store_n(&lastrate, rate, __ATOMIC_SEQ_CST);
	old = __atomic_exchange_n(&runtime_MemProfileRate, rate, __ATOMIC_SEQ_CST);
	return old;
}

// ---- the profile --------------------------------------------------------------------

// Write b's data to r.
static void
record(GortMemProfileRecord *r, Bucket *b)
{
	uintptr i;

	r->AllocBytes = b->alloc_bytes;
	r->FreeBytes = b->free_bytes;
	r->AllocObjects = b->allocs;
	r->FreeObjects = b->frees;
	for(i = 0; i < b->nstk && i < nelem(r->Stack0); i++)
		r->Stack0[i] = b->stk[i];
	for(; i < nelem(r->Stack0); i++)
		r->Stack0[i] = 0;
}

// runtime.MemProfile: the number of records; they are copied into r only
// if all n fit (Go's (n, ok)). Buckets whose bytes all were freed are
// left out unless inuse_zero.
GORT_API int
gort_mem_profile(GortMemProfileRecord *r, int nr, bool inuse_zero)
{
	Bucket *b;
	int n;
	bool clear;

	runtime_mcheck("gort_mem_profile");
	if(nr < 0 || (nr > 0 && r == nil))
		runtime_throw("gort_mem_profile: bad record buffer");
	runtime_lock(&proflock);
	n = 0;
	clear = true;
	for(b = mbuckets; b; b = b->allnext) {
		if(inuse_zero || b->alloc_bytes != b->free_bytes)
			n++;
		if(b->allocs != 0 || b->frees != 0)
			clear = false;
	}
	if(clear) {
		// Absolutely no data, suggesting that a garbage collection
		// has not yet happened. In order to allow profiling when
		// garbage collection is disabled from the beginning of
		// execution, accumulate stats as if a GC just happened, and
		// recount buckets.
		MProf_GC();
		MProf_GC();
		n = 0;
		for(b = mbuckets; b; b = b->allnext)
			if(inuse_zero || b->alloc_bytes != b->free_bytes)
				n++;
	}
	if(n <= nr) {
		for(b = mbuckets; b; b = b->allnext)
			if(inuse_zero || b->alloc_bytes != b->free_bytes)
				record(r++, b);
	}
	runtime_unlock(&proflock);
	return n;
}

// pprof.WriteHeapProfile: the legacy text heap profile of Go 1.3's
// runtime/pprof (header, one line per bucket), the MemStats comment block
// runtime/pprof writes at debug=1, and the process's memory map after
// MAPPED_LIBRARIES:, so that pprof can symbolize a C program (PIE and
// shared libraries included). The header says heap_v2/<rate>: Go writes
// heap/<2*rate>, which google/pprof reads as heap_v2/<rate> but Debian's
// google-pprof (the Perl pprof) scales by another rule; heap_v2/<rate>
// reads the same in both.
GORT_API int
gort_write_heap_profile(FILE *f)
{
	GortMemProfileRecord *p;
	GortMemStats ms;
	int64_t inuseobj, inusebytes, allocobj, allocbytes;
	int32 rate;
	int n, i, j;
	FILE *maps;
	char buf[4096];
	size_t k;

	runtime_mcheck("gort_write_heap_profile");
	if(f == nil)
		runtime_throw("gort_write_heap_profile: nil file");
	// Find out how many records there are, allow room for a few more,
	// then get them all (Go's loop).
	p = nil;
	n = gort_mem_profile(nil, 0, true);
	for(;;) {
		free(p);
		p = calloc(n + 50, sizeof p[0]);
		if(p == nil)
			return -1;
		i = gort_mem_profile(p, n + 50, true);
		if(i <= n + 50) {
			n = i;
			break;
		}
		n = i;
	}

	inuseobj = inusebytes = allocobj = allocbytes = 0;
	for(i = 0; i < n; i++) {
		inuseobj += p[i].AllocObjects - p[i].FreeObjects;
		inusebytes += p[i].AllocBytes - p[i].FreeBytes;
		allocobj += p[i].AllocObjects;
		allocbytes += p[i].AllocBytes;
	}
	rate = runtime_MemProfileRate;
	if(rate <= 0)
		rate = __atomic_load_n(&lastrate, __ATOMIC_SEQ_CST);
	fprintf(f, "heap profile: %" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @ heap_v2/%d\n",
		inuseobj, inusebytes, allocobj, allocbytes, (int)rate);
	for(i = 0; i < n; i++) {
		fprintf(f, "%" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @",
			p[i].AllocObjects - p[i].FreeObjects, p[i].AllocBytes - p[i].FreeBytes,
			p[i].AllocObjects, p[i].AllocBytes);
		for(j = 0; j < (int)nelem(p[i].Stack0) && p[i].Stack0[j] != 0; j++)
			fprintf(f, " %#" PRIxPTR, p[i].Stack0[j]);
		fprintf(f, "\n");
	}
	free(p);

	// The MemStats block (pprof skips # lines; it is for people).
	gort_read_memstats(&ms);
	fprintf(f, "\n# runtime.MemStats\n");
	fprintf(f, "# Alloc = %" PRIu64 "\n", ms.Alloc);
	fprintf(f, "# TotalAlloc = %" PRIu64 "\n", ms.TotalAlloc);
	fprintf(f, "# Sys = %" PRIu64 "\n", ms.Sys);
	fprintf(f, "# Lookups = %" PRIu64 "\n", ms.Lookups);
	fprintf(f, "# Mallocs = %" PRIu64 "\n", ms.Mallocs);
	fprintf(f, "# Frees = %" PRIu64 "\n", ms.Frees);
	fprintf(f, "# HeapAlloc = %" PRIu64 "\n", ms.HeapAlloc);
	fprintf(f, "# HeapSys = %" PRIu64 "\n", ms.HeapSys);
	fprintf(f, "# HeapIdle = %" PRIu64 "\n", ms.HeapIdle);
	fprintf(f, "# HeapInuse = %" PRIu64 "\n", ms.HeapInuse);
	fprintf(f, "# HeapReleased = %" PRIu64 "\n", ms.HeapReleased);
	fprintf(f, "# HeapObjects = %" PRIu64 "\n", ms.HeapObjects);
	fprintf(f, "# Stack = %" PRIu64 " / %" PRIu64 "\n", ms.StackInuse, ms.StackSys);
	fprintf(f, "# MSpan = %" PRIu64 " / %" PRIu64 "\n", ms.MSpanInuse, ms.MSpanSys);
	fprintf(f, "# MCache = %" PRIu64 " / %" PRIu64 "\n", ms.MCacheInuse, ms.MCacheSys);
	fprintf(f, "# BuckHashSys = %" PRIu64 "\n", ms.BuckHashSys);
	fprintf(f, "# NextGC = %" PRIu64 "\n", ms.NextGC);
	fprintf(f, "# PauseNs = [");
	for(i = 0; i < 256; i++)
		fprintf(f, "%s%" PRIu64, i ? " " : "", ms.PauseNs[i]);
	fprintf(f, "]\n");
	fprintf(f, "# NumGC = %u\n", ms.NumGC);
	fprintf(f, "# EnableGC = %s\n", ms.EnableGC ? "true" : "false");
	fprintf(f, "# DebugGC = %s\n", ms.DebugGC ? "true" : "false");

	// The memory map, for symbolization.
	fprintf(f, "\nMAPPED_LIBRARIES:\n");
	maps = fopen("/proc/self/maps", "r");
	if(maps != nil) {
		while((k = fread(buf, 1, sizeof buf, maps)) > 0)
			fwrite(buf, 1, k, f);
		fclose(maps);
	}
	return ferror(f) ? -1 : 0;
}

// ---- GODEBUG=allocfreetrace=1 -----------------------------------------------------------
//
// One line per allocation, free and collection, in Go 1.3's format, each
// followed by the current stack (as Go 1.3 prints a traceback).

static void
tracestack(void)
{
	uintptr stk[MaxStack];
	int32 n;

	n = runtime_callers(stk, nelem(stk));
	printstackframes(stk, n);
}

void
runtime_tracealloc(void *p, uintptr size, uintptr typ)
{
	const GortType *t;

	t = (const GortType*)(typ & ~(uintptr)(PtrSize-1));
	if(t != nil && t->name != nil)
		runtime_printf("tracealloc(%p, %#llx, %s)\n", p, (unsigned long long)size, t->name);
	else
		runtime_printf("tracealloc(%p, %#llx)\n", p, (unsigned long long)size);
	tracestack();
}

void
runtime_tracefree(void *p, uintptr size)
{
	runtime_printf("tracefree(%p, %#llx)\n", p, (unsigned long long)size);
	tracestack();
}

void
runtime_tracegc(void)
{
	runtime_printf("tracegc()\n");
	tracestack();
}
