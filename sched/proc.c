// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Boot, Ms, and (later) the goroutine scheduler (Go's proc.c).
//
// STATUS. The G/M/P scheduler lands with the sched/ issue. What is here
// now is the boot sequence and the seams the scheduler will take over:
//
//	gort_main(fn, arg)
//		m0 = the calling thread's M; g0 = its own stack
//		schedinit: ncpu, GODEBUG/GOTRACEBACK, mallocinit (which gives
//			m0 its MCache), GOMAXPROCS, GOGC
//		the main goroutine: a G with its own stack (stackalloc), on
//			which fn(arg) runs; gort_main returns 0 when it returns
//
// Until the scheduler lands, fn runs on the calling thread, the MCache
// belongs to the M (it will move to the P), and other threads may use the
// allocator only after runtime_attachm (tests do this); the public calls
// that need goroutines fail loudly.

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define GORT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_ASAN 1
#endif
#endif
#ifdef GORT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#include "gort.h"
#include "malloc.h"

enum
{
	// The main goroutine's stack. C keeps its locals on the stack and
	// cannot grow it, so it gets more than a goroutine's default.
	StackMain = 1<<20,
};

M	runtime_m0;
static G g0;	// m0's own (OS thread) stack
M*	runtime_allm;
Lock	runtime_allmlock;
int32	runtime_mcount;
static int32 mnext;

// The main goroutine's context, for the switch back to g0.
static G *maing;
#ifdef GORT_ASAN
static const void *g0_stackbottom;
static size_t g0_stacksize;
static void *g0_fakestack;
#endif

void	runtime_gostart(G *gp);
extern void runtime_gostart_tramp(void);

static void
mcommoninit(M *mp)
{
	runtime_lock(&runtime_allmlock);
	mp->id = mnext++;
	mp->fastrand = 0x49f6428aUL + mp->id + (uint32)runtime_nanotime();
	if(mp->fastrand == 0)
		mp->fastrand = 1;
	mp->attached = true;
	if(!mp->alllink && runtime_allm != mp) {
		mp->alllink = runtime_allm;
		runtime_allm = mp;
	}
	__atomic_add_fetch(&runtime_mcount, 1, __ATOMIC_SEQ_CST);
	runtime_unlock(&runtime_allmlock);
}

void
runtime_schedinit(void)
{
	const char *p;
	int32 n;
	long ncpu;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	runtime_ncpu = ncpu > 0 ? (int32)ncpu : 1;
	runtime_parsedebugvars();
	runtime_mallocinit();

	runtime_gomaxprocs = 1;
	p = runtime_getenv("GOMAXPROCS");
	if(p != nil && (n = runtime_atoi(p)) > 0)
		runtime_gomaxprocs = n > 256 ? 256 : n;	// MaxGomaxprocs
	// GOGC is read by the collector when it lands; mstats.enablegc
	// stays false until then.
}

// Prepare a fresh stack whose first switch-to calls runtime_gostart(gp)
// (see the frame layout in asm_amd64.S).
uintptr
runtime_gostartstack(byte *stacktop, G *gp)
{
	uintptr *sp, top;

	top = (uintptr)stacktop & ~(uintptr)15;
	sp = (uintptr*)(top - 88);
	memset(sp, 0, 88);
	((uint16*)sp)[0] = 0x037f;		// x87 control word: default
	((uint32*)sp)[2] = 0x1f80;		// MXCSR: default
	sp[5] = (uintptr)gp;			// r12
	sp[7] = 0;				// rbp: end of frame chain
	sp[8] = (uintptr)runtime_gostart_tramp;	// return pc
	return (uintptr)sp;
}

// The first frame of a goroutine.
void
runtime_gostart(G *gp)
{
#ifdef GORT_ASAN
	__sanitizer_finish_switch_fiber(nil, &g0_stackbottom, &g0_stacksize);
#endif
	gp->fn(gp->arg);
	gp->exited = true;
	// Back to g0 for good; this stack is freed there.
#ifdef GORT_ASAN
	__sanitizer_start_switch_fiber(nil, g0_stackbottom, g0_stacksize);
#endif
	runtime_gogo_switch(&gp->sched.sp, g0.sched.sp);
	runtime_throw("gostart: dead goroutine resumed");
}

GORT_API int
gort_main(void (*fn)(void *), void *arg)
{
	M *mp;
	G *gp;

	if(runtime_booted || runtime_m() != nil)
		runtime_throw("gort_main: the runtime is already running (one boot per process)");
	if(fn == nil)
		runtime_throw("gort_main: nil function");

	mp = &runtime_m0;
	mp->g0 = &g0;
	g0.m = mp;
	runtime_setm(mp);
	mcommoninit(mp);
	runtime_schedinit();
	runtime_booted = true;

	// The main goroutine.
	gp = runtime_persistentalloc(sizeof(G), CacheLineSize, &mstats.other_sys);
	memset(gp, 0, sizeof *gp);
	gp->stacksize = StackMain;
	gp->stack0 = runtime_stackalloc(gp->stacksize);
	gp->fn = fn;
	gp->arg = arg;
	gp->m = mp;
	gp->goid = 1;
	gp->sched.sp = runtime_gostartstack(gp->stack0 + gp->stacksize, gp);
	maing = gp;
	mp->curg = gp;
#ifdef GORT_ASAN
	__sanitizer_start_switch_fiber(&g0_fakestack, gp->stack0, gp->stacksize);
#endif
	runtime_gogo_switch(&g0.sched.sp, gp->sched.sp);
#ifdef GORT_ASAN
	__sanitizer_finish_switch_fiber(g0_fakestack, nil, nil);
#endif
	mp->curg = nil;
	if(!gp->exited)
		runtime_throw("gort_main: main goroutine switched back early");
	runtime_stackfree(gp->stack0, gp->stacksize);
	gp->stack0 = nil;
	maing = nil;
	return 0;
}

// ---- Ms before the scheduler ----------------------------------------------------

// Give the calling thread an M with its own MCache, so that it may use
// the allocator. The scheduler will create its Ms itself; this is the
// seam that lets tests exercise the allocator from several threads now.
M*
runtime_attachm(void)
{
	M *mp;

	if(!runtime_booted)
		runtime_throw("runtime_attachm: runtime not started");
	if(runtime_m() != nil)
		runtime_throw("runtime_attachm: thread already has an M");
	mp = nil;
	runtime_lock(&runtime_allmlock);
	for(M *x = runtime_allm; x != nil; x = x->alllink)
		if(!x->attached && x != &runtime_m0) {
			mp = x;
			break;
		}
	runtime_unlock(&runtime_allmlock);
	if(mp == nil)
		mp = runtime_persistentalloc(sizeof(M), CacheLineSize, &mstats.other_sys);
	mcommoninit(mp);
	runtime_setm(mp);
	mp->mcache = runtime_allocmcache();
	return mp;
}

void
runtime_detachm(void)
{
	M *mp;

	mp = runtime_mcheck("runtime_detachm");
	if(mp == &runtime_m0)
		runtime_throw("runtime_detachm: m0 cannot detach");
	runtime_freemcache(mp->mcache);
	mp->mcache = nil;
	runtime_lock(&runtime_allmlock);
	mp->attached = false;
	__atomic_sub_fetch(&runtime_mcount, 1, __ATOMIC_SEQ_CST);
	runtime_unlock(&runtime_allmlock);
	runtime_setm(nil);
}

// Stop the world. Before the scheduler there is nothing to stop on m0,
// and no way to stop an attached thread: refuse rather than race.
void
runtime_stoptheworld(void)
{
	if(__atomic_load_n(&runtime_mcount, __ATOMIC_SEQ_CST) > 1)
		runtime_throw("stoptheworld: other threads are attached (the scheduler has not landed)");
}

void
runtime_starttheworld(void)
{
}

// ---- public calls whose subsystem has not landed ----------------------------------

GORT_API void
gort_go(void (*fn)(void *), void *arg)
{
	USED(fn);
	USED(arg);
	runtime_notimplemented("gort_go");
}

GORT_API void
gort_gosched(void)
{
	runtime_notimplemented("gort_gosched");
}

GORT_API void
gort_goexit(void)
{
	runtime_notimplemented("gort_goexit");
}

GORT_API int
gort_gomaxprocs(int n)
{
	int prev;

	runtime_mcheck("gort_gomaxprocs");
	prev = runtime_gomaxprocs;
	if(n >= 1 && n != prev)
		runtime_notimplemented("gort_gomaxprocs (changing it)");
	return prev;
}

GORT_API int
gort_num_goroutine(void)
{
	runtime_mcheck("gort_num_goroutine");
	return maing != nil ? 1 : 0;	// only the main goroutine exists yet
}

GORT_API void
gort_sleep(int64_t ns)
{
	runtime_mcheck("gort_sleep");
	// The main goroutine is the only one: sleeping its thread is exact.
	// The scheduler will park the G on a timer instead.
	if(ns > 0) {
		struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
		while(nanosleep(&ts, &ts) < 0)
			;
	}
}

GORT_API int64_t
gort_nanotime(void)
{
	return runtime_nanotime();
}

GORT_API GortChan*
gort_chan_make(size_t elemsize, size_t cap)
{
	USED(elemsize);
	USED(cap);
	runtime_notimplemented("gort_chan_make");
}

GORT_API void
gort_chan_send(GortChan *c, const void *elem)
{
	USED(c);
	USED(elem);
	runtime_notimplemented("gort_chan_send");
}

GORT_API bool
gort_chan_recv(GortChan *c, void *elem)
{
	USED(c);
	USED(elem);
	runtime_notimplemented("gort_chan_recv");
}

GORT_API void
gort_chan_close(GortChan *c)
{
	USED(c);
	runtime_notimplemented("gort_chan_close");
}
