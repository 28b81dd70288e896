// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Goroutine scheduler (Go's proc.c, at 3c3be622).
//
// The scheduler's job is to distribute ready-to-run goroutines over
// worker threads.
//
// The main concepts are:
// G - goroutine.
// M - worker thread, or machine (a pthread).
// P - processor, a resource that is required to execute Go code.
//     An M must have an associated P to execute Go code; it can be
//     blocked or in a syscall without one.
//
// Design doc: https://golang.org/s/go11sched (Vyukov, 2012).
//
// How gort differs from Go, because goroutines here run C:
//
//  * Every M runs schedule() on its own thread stack (g0). A goroutine
//    leaves its stack only through mcall(fn): its callee-saved registers
//    are pushed on its stack (asm_amd64.S), g0 resumes inside schedule()
//    and runs fn(gp) (park0, gosched0, goexit0, exitsyscall0), then picks
//    the next G. Go's mcall throws g0's frames away; gort's g0 loops.
//  * Boot. gort_main's thread boots the runtime with a temporary M
//    (schedinit, mallocinit, procresize, the main G), hands P0 to m0 — a
//    new thread — and then only waits until the main goroutine returns.
//    gort_main then returns 0 (Go would exit the process); goroutines
//    still alive go on running on their threads.
//  * sysmon (a plain thread, no M or P) preempts a goroutine that has
//    run 10 ms (retake → preemptone) and starts an M when goroutines
//    wait while Ps idle; it does not retake Ps from system calls, since
//    nothing blocks in a system call while holding a P: blocking inside
//    the runtime (timers) hands the P off (entersyscallblock). No
//    netpoll. Go's cooperative preemption at function
//    prologues has no C counterpart: stoptheworld stops goroutines that
//    run plain C loops with a signal (signal.c), which parks their M
//    inside the handler, on the goroutine's own stack, until the world
//    restarts; the goroutine is then locked to that M (Go's lockedm) and
//    is handed its P back by whichever M schedules it.
//
//  * M threads are created only by the template thread (newm queues the
//    M; Go 1.10's templateThread), never by an M that holds a P or is
//    restarting the world: pthread_create takes libc locks that a
//    goroutine stopped by the signal may hold. gort_main's thread creates
//    the template thread and sysmon itself, holding no P.
//  * fork() from a goroutine is bracketed by pthread_atfork handlers
//    that hold worldsema and leave the P for its length (see "fork").
//
// Bootstrap sequence (gort_main):
//	bootm = the calling thread, temporarily
//	schedinit: ncpu, GODEBUG, mallocinit (bootm gets an MCache),
//		procresize(GOMAXPROCS) (bootm acquires P0, P0 takes the MCache)
//	newproc1(main goroutine) on P0's run queue
//	releasep, the template thread, newm(m0, P0): m0 starts and
//		schedules the main goroutine
//	notesleep(maindone)

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gort.h"
#include "malloc.h"
#include "sanitizer.h"

enum
{
	// Number of goroutine ids to grab from sched.goidgen to a local
	// per-P cache at once (amortizes the contention).
	GoidCacheBatch = 16,
	// Default usable stack of a goroutine (GORT_STACKSIZE overrides).
	StackDefault = 64<<10,
	// The main goroutine's stack: C keeps big locals on the stack.
	StackMain = 1<<20,
};

// The scheduler's global state. Protected by lock, except the atomics
// noted and gfree (gflock). pidle, runqsize and stopwait are also read
// without it, as noted: runqsize by schedule, findrunnable, handoffp and
// sysmon, as Go does (racy but benign: a stale value only delays or
// wastes one look at the global queue, taken again under lock).
typedef struct Sched Sched;
struct Sched
{
	Lock	lock;

	uint64	goidgen;	// atomic

	M*	midle;		// idle Ms waiting for work; lock
	int32	nmidle;		// number of idle Ms waiting for work; lock
	int32	nmidlelocked;	// number of locked Ms waiting for work; lock
	int32	mcount;		// number of Ms that have been created; lock (newosproc's
				// error message reads it racily: diagnostic only)
	int32	maxmcount;	// maximum number of Ms allowed (or die); immutable
				// after schedinit

	P*	pidle;		// idle Ps; lock. exitsyscallfast peeks without it: racy,
				// benign (pidleget checks again under lock)
	uint32	npidle;		// atomic
	uint32	nmspinning;	// atomic

	// Global runnable queue; lock.
	G*	runqhead;
	G*	runqtail;
	int32	runqsize;	// lock; racy reads (see above)

	// Global cache of dead Gs.
	Lock	gflock;
	G*	gfree;		// gflock; gfget peeks without it: racy, benign (it
				// checks again under gflock)

	uint32	gcwaiting;	// gc is waiting to run: atomic; written under lock (so
				// reads under lock may be plain)
	int32	stopwait;	// lock; exitsyscallfast peeks without it: racy, benign
				// (no P goes idle during a stop: its pidleget fails)
	Note	stopnote;	// a Note; woken under lock
};

static Sched sched GORT_NOSCAN = {
	.lock = LOCK_INIT(LockRankSched),
	.gflock = LOCK_INIT(LockRankGfree),
};
M	runtime_m0;		// an M (see struct M); newm sets it up in gort_main
M*	runtime_allm;		// appended under allmlock; atomic store, so a walker may
				// read it without the lock
Lock	runtime_allmlock = LOCK_INIT(LockRankAllm);
P*	runtime_allp[MaxGomaxprocs+1] GORT_NOSCAN;	// see runtime.h
G**	runtime_allg;
uintptr	runtime_allglen;
static uintptr allgcap;		// allglock
Lock	runtime_allglock = LOCK_INIT(LockRankAllg);
Sema	runtime_worldsema = { .lock = LOCK_INIT(LockRankSema), .count = 1 };
static int32 newprocs;		// GOMAXPROCS to apply at the next starttheworld;
				// world stopped (gort_gomaxprocs, starttheworld)
static uintptr stacksize = StackDefault;	// immutable after schedinit
static Note maindone;		// a Note
static uint32 mainexited;	// no deadlock reports once main has returned (atomic)
static int32 nmnext;		// sched.lock

// Ms whose threads the template thread is to create (newm).
static struct
{
	Lock	lock;		// protects head, tail
	M*	head;		// linked through schedlink
	M*	tail;
	uint32	wake;		// futex word: work queued (atomic)
} templ = { .lock = LOCK_INIT(LockRankTempl) };

static void	runqput(P*, G*);
static G*	runqget(P*);
static bool	runqputslow(P*, G*, uint32, uint32);
static G*	runqsteal(P*, P*);
static void	mput(M*);
static M*	mget(void);
static void	mcommoninit(M*);
static void	procresize(int32);
static void	acquirep(P*);
static P*	releasep(void);
static void	newm(void(*)(void), P*, M*);
static void	newosproc(M*);
static void	startplainthread(void *(*)(void*), const char*);
static void*	templatethread(void*);
static void*	sysmon(void*);
static void	forkprepare(void);
static void	forkparent(void);
static void	forkchild(void);
static void	runlockedg(M*, G*);
static void	lockdetach(M*, G*, uint32);
static void*	mstart(void*);
static void	stopm(void);
static void	startm(P*, bool);
static void	handoffp(P*);
static void	wakep(void);
static void	startlockedm(G*);
static void	incidlelocked(int32);
static void	checkdead(void);
static void	exitsyscall0(G*);
static void	park0(G*);
static void	gosched0(G*);
static void	goexit0(G*);
static void	gfput(P*, G*);
static G*	gfget(P*);
static void	gfpurge(P*);
static void	globrunqput(G*);
static void	globrunqputbatch(G*, G*, int32);
static G*	globrunqget(P*, int32);
static P*	pidleget(void);
static void	pidleput(P*);
static bool	preemptall(void);
static bool	preemptone(P*);
static void	allgadd(G*);
static void	schedule(void) NORETURN;
static G*	malg(uintptr);

void	runtime_gostart(G *gp);
extern void runtime_gostart_tramp(void);

// ---- context switches ------------------------------------------------------------

// Switch from the running context (from) to to. Both Gs' registers are
// saved/restored on their own stacks. m->locks is held across the switch
// by the caller, so that the suspension signal never sees a half-switched
// G; the other side drops it.
static inline void
gogo(G *from, G *to)
{
	runtime_asan_start_switch(&from->fakestack, to);
	runtime_gogo_switch(&from->sched.sp, to->sched.sp);
	runtime_asan_finish_switch(from->fakestack);
}

// Switch to g0 and run fn(gp) there (Go's mcall). Returns when gp is
// scheduled again, perhaps on another M.
static void
mcall(void (*fn)(G*))
{
	M *mp;
	G *gp;

	mp = runtime_m();
	gp = mp->curg;
	if(gp == nil || gp == mp->g0)
		runtime_throw("runtime: mcall called on m->g0 stack");
	mp->locks++;
	mp->mcallfn = fn;
	gogo(gp, mp->g0);
	// Back on gp, on the M that executed us (which took m->locks).
	runtime_m()->locks--;
}

// gp, which just switched to g0 (mcall), leaves its M in state status.
static void
dropg(G *gp, uint32 status)
{
	gp->status = status;
	gp->m = nil;
	runtime_m()->curg = nil;
}

// The first frame of every goroutine.
void
runtime_gostart(G *gp)
{
	runtime_asan_finish_switch(nil);
	runtime_m()->locks--;	// taken by execute
	gp->fn(gp->arg);
	runtime_goexit();
}

// The frame runtime_gogo_switch (asm_amd64.S) leaves at a saved sp, in
// words: the x87 control word, MXCSR, r15, r14, r13, r12, rbx, rbp, and
// the return pc.
enum
{
	SwitchX87 = 0,			// its low 2 bytes
	SwitchMXCSR = 1,		// its low 4 bytes
	SwitchR12 = 5,
	SwitchRBP = 7,
	SwitchPC = 8,
	SwitchFrameWords = 9,
	// A new stack's first frame: the switch frame plus 16 bytes, so
	// that after the switch's ret the trampoline runs with sp 16-byte
	// aligned, as the ABI wants at its call to runtime_gostart.
	GoStartFrame = SwitchFrameWords*PtrSize + 16,
	StackAlign = 16,
	X87ControlDefault = 0x037f,	// the ABI's initial x87 control word
	MXCSRDefault = 0x1f80,		// and MXCSR (all exceptions masked)
};

// Prepare gp's stack so that the first switch to it calls
// runtime_gostart(gp) through runtime_gostart_tramp, with gp in r12.
uintptr
runtime_gostartstack(byte *stacktop, G *gp)
{
	uintptr *sp, top;

	top = (uintptr)stacktop & ~(uintptr)(StackAlign-1);
	sp = (uintptr*)(top - GoStartFrame);
	memset(sp, 0, GoStartFrame);
	*(uint16*)&sp[SwitchX87] = X87ControlDefault;
	*(uint32*)&sp[SwitchMXCSR] = MXCSRDefault;
	sp[SwitchR12] = (uintptr)gp;
	sp[SwitchRBP] = 0;			// end of the frame chain
	sp[SwitchPC] = (uintptr)runtime_gostart_tramp;
	return (uintptr)sp;
}

G*
runtime_g(void)
{
	M *mp;

	mp = runtime_m();
	return mp != nil ? mp->curg : nil;
}

// ---- boot --------------------------------------------------------------------------

// The main goroutine: run the user's function, then let gort_main return.
// Set by gort_main before the main G is queued; immutable.
static void (*mainfn)(void*);
static void *mainarg;

static void
scavenger(void *arg)
{
	USED(arg);
	MHeap_Scavenger();
}

static void
runtime_main(void *arg)
{
	USED(arg);
	runtime_newproc1(scavenger, nil, true);
	mainfn(mainarg);
	runtime_atomicstore(&mainexited, 1);
	runtime_notewakeup(&maindone);
}

void
runtime_schedinit(void)
{
	const char *p;
	int32 n;
	long ncpu;

	sched.maxmcount = 10000;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	runtime_ncpu = ncpu > 0 ? (int32)ncpu : 1;
	runtime_parsedebugvars();
	runtime_mallocinit();
	runtime_rootsinit();
	runtime_siginit();
	if(pthread_atfork(forkprepare, forkparent, forkchild) != 0)
		runtime_throw("runtime: pthread_atfork failed");

	p = runtime_getenv("GORT_STACKSIZE");
	if(p != nil && (n = runtime_atoi(p)) > 0)
		stacksize = ROUND((uintptr)n, 4096);

	n = 1;
	p = runtime_getenv("GOMAXPROCS");
	if(p != nil && runtime_atoi(p) > 0)
		n = runtime_atoi(p);
	if(n > MaxGomaxprocs)
		n = MaxGomaxprocs;
	runtime_allp[0] = nil;
	runtime_gomaxprocs = 0;
	procresize(n);	// the boot M acquires P0 and gives it its MCache

	// Collections may start now (from mallocgc, when the heap reaches
	// next_gc; GOGC=off turns them off). The first at HeapMinimum.
	mstats.next_gc = HeapMinimum;
	mstats.enablegc = 1;
}

GORT_API int
gort_main(void (*fn)(void *), void *arg)
{
	M bootm, *mp;
	P *p;

	if(runtime_booted || runtime_m() != nil)
		runtime_throw("gort_main: the runtime is already running (one boot per process)");
	if(fn == nil)
		runtime_throw("gort_main: nil function");

	// Boot on a temporary M: it only ever holds P0 for a moment.
	memset(&bootm, 0, sizeof bootm);
	mp = &bootm;
	mp->fastrand = 0x49f6428aUL ^ (uint32)runtime_nanotime();
	mp->id = -1;
	runtime_setm(mp);
	runtime_schedinit();
	runtime_booted = true;

	mainfn = fn;
	mainarg = arg;
	runtime_newproc1(runtime_main, nil, false);	// main gets StackMain

	p = releasep();
	runtime_setm(nil);
	startplainthread(templatethread, "template");
	newm(nil, p, &runtime_m0);
	startplainthread(sysmon, "sysmon");

	// Wait for the main goroutine. This thread is no M: calls into gort
	// from it are now from a foreign thread.
	runtime_notesleep(&maindone);
	return 0;
}

// ---- Ms ----------------------------------------------------------------------------

static void
checkmcount(void)
{
	// sched lock is held
	if(sched.mcount > sched.maxmcount) {
		runtime_printf("runtime: program exceeds %d-thread limit\n", sched.maxmcount);
		runtime_throw("thread exhaustion");
	}
}

static void
mcommoninit(M *mp)
{
	runtime_lock(&sched.lock);
	mp->id = nmnext++;
	mp->fastrand = 0x49f6428aUL + mp->id + (uint32)runtime_nanotime();
	if(mp->fastrand == 0)
		mp->fastrand = 1;
	sched.mcount++;
	checkmcount();
	runtime_unlock(&sched.lock);

	runtime_lock(&runtime_allmlock);
	mp->alllink = runtime_allm;
	runtime_atomicstorep((void**)&runtime_allm, mp);
	runtime_unlock(&runtime_allmlock);
}

// An M's thread: g0 is its own stack.
static void*
mstart(void *arg)
{
	M *mp;
	pthread_attr_t attr;
	void *stk;
	size_t stksize;

	mp = arg;
	runtime_setm(mp);
	mp->tid = (uintptr)pthread_self();
	if(pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &stk, &stksize);
		mp->g0stack = stk;
		mp->g0stacksize = stksize;
		mp->g0->stack0 = stk;
		mp->g0->stacksize = stksize;
		pthread_attr_destroy(&attr);
	}
	runtime_minit();

	if(mp->mstartfn)
		mp->mstartfn();

	if(mp->helpgc) {
		mp->helpgc = 0;
		stopm();
	} else {
		acquirep(mp->nextp);
		mp->nextp = nil;
	}
	schedule();
	return nil;
}

// Create a new M (mp, or a fresh one). It will start off with a call to
// fn, then acquire p (or stop, for a GC helper). The M is counted at once
// (mcount: checkdead must see it); its thread is created by the template
// thread (below), never by the caller.
static void
newm(void (*fn)(void), P *p, M *mp)
{
	if(mp == nil)
		mp = runtime_persistentalloc(sizeof(M), CacheLineSize, &mstats.other_sys);
	memset(mp, 0, sizeof *mp);
	mp->g0 = runtime_persistentalloc(sizeof(G), CacheLineSize, &mstats.other_sys);
	memset(mp->g0, 0, sizeof *mp->g0);
	mp->g0->m = mp;
	mp->g0->goid = -1;
	mp->nextp = p;
	mp->mstartfn = fn;
	mcommoninit(mp);
	runtime_lock(&templ.lock);
	mp->schedlink = nil;
	if(templ.tail != nil)
		templ.tail->schedlink = mp;
	else
		templ.head = mp;
	templ.tail = mp;
	runtime_unlock(&templ.lock);
	if(runtime_cas(&templ.wake, 0, 1))
		runtime_futexwakeup(&templ.wake, 1);
}

static void
newosproc(M *mp)
{
	pthread_t th;
	pthread_attr_t attr;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256<<10);	// g0 runs only the scheduler and the collector
	err = pthread_create(&th, &attr, mstart, mp);
	pthread_attr_destroy(&attr);
	if(err != 0) {
		runtime_printf("runtime: failed to create new OS thread (have %d already; errno=%d)\n", sched.mcount, err);
		runtime_throw("newosproc");
	}
}

// The template thread (Go 1.10's templateThread, for the same reason):
// a plain thread that holds no P, no lock and no runtime state, and only
// creates the threads of the Ms that newm queues. pthread_create takes
// libc's locks (malloc's, for the new thread's TLS); a goroutine may be
// stopped by the suspension signal while it holds one of them, and stays
// stopped until some M runs it. Were the thread created by the M that
// restarts the world (or that hands off its P), that M would wait for the
// lock while holding a P the stopped goroutine may need: a deadlock at
// GOMAXPROCS=1. Here only this thread waits, and the world goes on.
static void*
templatethread(void *arg)
{
	M *mp;

	USED(arg);
	for(;;) {
		if(runtime_xchg(&templ.wake, 0) == 0)
			runtime_futexsleep(&templ.wake, 0, -1);
		for(;;) {
			runtime_lock(&templ.lock);
			mp = templ.head;
			if(mp != nil) {
				templ.head = mp->schedlink;
				if(templ.head == nil)
					templ.tail = nil;
				mp->schedlink = nil;
			}
			runtime_unlock(&templ.lock);
			if(mp == nil)
				break;
			newosproc(mp);
		}
	}
	return nil;
}


// Stops execution of the current M until new work is available.
// Returns with an acquired P.
static void
stopm(void)
{
	M *mp;

	mp = runtime_m();
	if(mp->locks)
		runtime_throw("stopm holding locks");
	if(mp->p)
		runtime_throw("stopm holding p");
	if(mp->spinning) {
		mp->spinning = false;
		runtime_xadd(&sched.nmspinning, -1);
	}

retry:
	runtime_lock(&sched.lock);
	mput(mp);
	runtime_unlock(&sched.lock);
	runtime_notesleep(&mp->park);
	runtime_noteclear(&mp->park);
	if(mp->helpgc) {
		runtime_gchelper();
		mp->helpgc = 0;
		mp->mcache = nil;
		goto retry;
	}
	acquirep(mp->nextp);
	mp->nextp = nil;
}

static void
mspinning(void)
{
	runtime_m()->spinning = true;
}

// Schedules some M to run p (creates an M if necessary).
// If p == nil, tries to get an idle P; if there is none does nothing.
static void
startm(P *p, bool spinning)
{
	M *mp;
	void (*fn)(void);

	runtime_lock(&sched.lock);
	if(p == nil) {
		p = pidleget();
		if(p == nil) {
			runtime_unlock(&sched.lock);
			if(spinning)
				runtime_xadd(&sched.nmspinning, -1);
			return;
		}
	}
	mp = mget();
	runtime_unlock(&sched.lock);
	if(mp == nil) {
		fn = nil;
		if(spinning)
			fn = mspinning;
		newm(fn, p, nil);
		return;
	}
	if(mp->spinning)
		runtime_throw("startm: m is spinning");
	if(mp->nextp)
		runtime_throw("startm: m has p");
	mp->spinning = spinning;
	mp->nextp = p;
	runtime_notewakeup(&mp->park);
}

// Hands off P from a blocking M.
static void
handoffp(P *p)
{
	// If it has local work, start it straight away.
	if(p->runqhead != p->runqtail || sched.runqsize) {
		startm(p, false);
		return;
	}
	// No local work: unless some M spins or idles already, start a
	// spinning one to look for work.
	if(runtime_atomicload(&sched.nmspinning) + runtime_atomicload(&sched.npidle) == 0 &&
	   runtime_cas(&sched.nmspinning, 0, 1)) {
		startm(p, true);
		return;
	}
	runtime_lock(&sched.lock);
	if(sched.gcwaiting) {
		p->status = Pgcstop;
		if(--sched.stopwait == 0)
			runtime_notewakeup(&sched.stopnote);
		runtime_unlock(&sched.lock);
		return;
	}
	if(sched.runqsize) {
		runtime_unlock(&sched.lock);
		startm(p, false);
		return;
	}
	pidleput(p);
	runtime_unlock(&sched.lock);
}

// Tries to add one more P to execute Gs. Called when a G is made
// runnable (newproc, ready).
static void
wakep(void)
{
	// Be conservative about spinning threads.
	if(!runtime_cas(&sched.nmspinning, 0, 1))
		return;
	startm(nil, true);
}

// Schedules the locked M to run the locked gp: hands it our P.
static void
startlockedm(G *gp)
{
	M *mp, *me;
	P *p;

	me = runtime_m();
	mp = gp->lockedm;
	if(mp == me)
		runtime_throw("startlockedm: locked to me");
	if(mp->nextp)
		runtime_throw("startlockedm: m has p");
	incidlelocked(-1);
	p = releasep();
	mp->nextp = p;
	runtime_notewakeup(&mp->park);
	stopm();
}

// Stops the current M for stoptheworld. Returns when the world restarts.
static void
gcstopm(void)
{
	M *mp;
	P *p;

	mp = runtime_m();
	if(!runtime_atomicload(&sched.gcwaiting))
		runtime_throw("gcstopm: not waiting for gc");
	if(mp->spinning) {
		mp->spinning = false;
		runtime_xadd(&sched.nmspinning, -1);
	}
	p = releasep();
	runtime_lock(&sched.lock);
	p->status = Pgcstop;
	if(--sched.stopwait == 0)
		runtime_notewakeup(&sched.stopnote);
	runtime_unlock(&sched.lock);
	stopm();
}

// ---- the scheduler -----------------------------------------------------------------

// Runs gp on the current M until it switches back to g0 (mcall).
static void
execute(G *gp)
{
	M *mp;

	mp = runtime_m();
	if(gp->status != Grunnable) {
		runtime_printf("runtime: execute: bad g status %d\n", gp->status);
		runtime_throw("execute: bad g status");
	}
	gp->status = Grunning;
	gp->preempt = false;
	mp->p->schedtick++;
	mp->curg = gp;
	gp->m = mp;
	mp->locks++;	// dropped by gp once it runs (mcall, gostart)
	gogo(mp->g0, gp);
	// gp switched back (mcall). Its M is this one: the switch happened
	// on this thread. m->locks was taken by mcall.
	mp->locks--;
}

// Finds a runnable goroutine to execute: local queue, global queue,
// stealing from other Ps. Blocks (stopm) if there is none.
static G*
findrunnable(void)
{
	M *mp;
	G *gp;
	P *p;
	int32 i;

	mp = runtime_m();
top:
	if(runtime_atomicload(&sched.gcwaiting)) {
		gcstopm();
		goto top;
	}
	// local runq
	gp = runqget(mp->p);
	if(gp)
		return gp;
	// global runq
	if(sched.runqsize) {
		runtime_lock(&sched.lock);
		gp = globrunqget(mp->p, 0);
		runtime_unlock(&sched.lock);
		if(gp)
			return gp;
	}
	// If number of spinning Ms >= number of busy Ps, block. This
	// prevents excessive CPU consumption when GOMAXPROCS>>1 but the
	// program parallelism is low.
	if(!mp->spinning && 2 * runtime_atomicload(&sched.nmspinning) >=
	   (uint32)runtime_gomaxprocs - runtime_atomicload(&sched.npidle))
		goto stop;
	if(!mp->spinning) {
		mp->spinning = true;
		runtime_xadd(&sched.nmspinning, 1);
	}
	// random steal from other Ps
	for(i = 0; i < 2*runtime_gomaxprocs; i++) {
		if(runtime_atomicload(&sched.gcwaiting))
			goto top;
		p = runtime_allp[runtime_fastrand1()%runtime_gomaxprocs];
		if(p == mp->p)
			gp = runqget(p);
		else
			gp = runqsteal(mp->p, p);
		if(gp)
			return gp;
	}
stop:
	// return P and block
	runtime_lock(&sched.lock);
	if(sched.gcwaiting) {
		runtime_unlock(&sched.lock);
		goto top;
	}
	if(sched.runqsize) {
		gp = globrunqget(mp->p, 0);
		runtime_unlock(&sched.lock);
		return gp;
	}
	p = releasep();
	pidleput(p);
	runtime_unlock(&sched.lock);
	if(mp->spinning) {
		mp->spinning = false;
		runtime_xadd(&sched.nmspinning, -1);
	}
	// check all runqueues once again
	for(i = 0; i < runtime_gomaxprocs; i++) {
		p = runtime_allp[i];
		if(p && p->runqhead != p->runqtail) {
			runtime_lock(&sched.lock);
			p = pidleget();
			runtime_unlock(&sched.lock);
			if(p) {
				acquirep(p);
				goto top;
			}
			break;
		}
	}
	stopm();
	goto top;
}

static void
resetspinning(void)
{
	M *mp;
	int32 nmspinning;

	mp = runtime_m();
	if(mp->spinning) {
		mp->spinning = false;
		nmspinning = runtime_xadd(&sched.nmspinning, -1);
		if(nmspinning < 0)
			runtime_throw("findrunnable: negative nmspinning");
	} else
		nmspinning = runtime_atomicload(&sched.nmspinning);

	// M wakeup policy is deliberately somewhat conservative (see
	// nmspinning handling), so see if we need to wake another P here.
	if(nmspinning == 0 && runtime_atomicload(&sched.npidle) > 0)
		wakep();
}

// One round of scheduler: find a runnable goroutine and run it, then
// finish what it asked for when it switched back (mcall). Forever.
static void
schedule(void)
{
	M *mp;
	G *gp;
	uint32 tick;
	void (*fn)(G*);

	mp = runtime_m();
	for(;;) {
		if(mp->locks)
			runtime_throw("schedule: holding locks");
		if(runtime_atomicload(&sched.gcwaiting)) {
			gcstopm();
			continue;
		}

		gp = nil;
		// Check the global runnable queue once in a while (every 61st
		// tick) to ensure fairness: otherwise two goroutines can occupy
		// the local queue by respawning each other.
		tick = mp->p->schedtick;
		if(tick - (uint32)(((uint64)tick*0x4325c53fu)>>36)*61 == 0 && sched.runqsize > 0) {
			runtime_lock(&sched.lock);
			gp = globrunqget(mp->p, 1);
			runtime_unlock(&sched.lock);
			if(gp)
				resetspinning();
		}
		if(gp == nil) {
			gp = runqget(mp->p);
			if(gp && mp->spinning)
				runtime_throw("schedule: spinning with local work");
		}
		if(gp == nil) {
			gp = findrunnable();	// blocks until work is available
			resetspinning();
		}

		if(gp->lockedm) {
			// Hand our P to the M gp is locked to, then wait for a
			// new P.
			startlockedm(gp);
			continue;
		}

		execute(gp);

		// gp came back to g0 with something for us to do.
		fn = mp->mcallfn;
		mp->mcallfn = nil;
		if(fn == nil)
			runtime_throw("schedule: g returned without mcall");
		fn(mp->curg);
	}
}

// Puts the current goroutine into a waiting state and calls unlockf on
// g0. If unlockf returns false, the goroutine is resumed.
void
runtime_park(bool (*unlockf)(G*, void*), void *lock, const char *reason)
{
	M *mp;

	mp = runtime_mcheck("park");
	mp->waitlock = lock;
	mp->waitunlockf = unlockf;
	mp->curg->waitreason = reason;
	mcall(park0);
}

static bool
parkunlock(G *gp, void *lock)
{
	USED(gp);
	runtime_unlock(lock);
	return true;
}

// Puts the current goroutine into a waiting state and unlocks the lock.
// runtime_ready(gp) makes it runnable again.
void
runtime_parkunlock(Lock *lock, const char *reason)
{
	runtime_park(parkunlock, lock, reason);
}

// runtime_park continuation on g0.
static void
park0(G *gp)
{
	M *mp;
	bool ok;

	mp = runtime_m();
	dropg(gp, Gwaiting);
	if(mp->waitunlockf) {
		ok = mp->waitunlockf(gp, mp->waitlock);
		mp->waitunlockf = nil;
		mp->waitlock = nil;
		if(!ok) {
			gp->status = Grunnable;
			runqput(mp->p, gp);	// Go runs it at once; next in line here
		}
	}
}

// Mark gp ready to run.
void
runtime_ready(G *gp)
{
	M *mp;

	mp = runtime_m();
	mp->locks++;	// it holds p in a local var, in effect
	if(gp->status != Gwaiting) {
		runtime_printf("runtime: goroutine %lld has status %d\n", (long long)gp->goid, gp->status);
		runtime_throw("bad g->status in ready");
	}
	gp->status = Grunnable;
	runqput(mp->p, gp);
	if(runtime_atomicload(&sched.npidle) != 0 && runtime_atomicload(&sched.nmspinning) == 0)
		wakep();
	mp->locks--;
}

// Scheduler yield.
void
runtime_gosched(void)
{
	mcall(gosched0);
}

// runtime_gosched continuation on g0.
static void
gosched0(G *gp)
{
	dropg(gp, Grunnable);
	runtime_lock(&sched.lock);
	globrunqput(gp);
	runtime_unlock(&sched.lock);
}

// Finishes execution of the current goroutine.
void
runtime_goexit(void)
{
	mcall(goexit0);
	runtime_throw("goexit: dead goroutine resumed");
}

// runtime_goexit continuation on g0.
static void
goexit0(G *gp)
{
	M *mp;

	mp = runtime_m();
	dropg(gp, Gdead);
	gp->lockedm = nil;
	gp->fn = nil;
	gp->arg = nil;
	gp->param = nil;
	gfput(mp->p, gp);
}

// ---- blocking in the OS ------------------------------------------------------------

// The current G is about to block in the OS: give its P to another M.
// The caller's frame must stay live until exitsyscall (the G's registers
// are spilled into it for the collector), so only runtime code that
// blocks in place uses this: notetsleepg, forkprepare,
// runtime_snapshotroots (roots.c), and the profiler's unwinder and
// symbolizer (mprof.c: runtime_callers, printstackframes).
void
runtime_entersyscallblock(void)
{
	M *mp;
	G *gp;
	P *p;
	uintptr sp;

	mp = runtime_m();
	mp->locks++;
	gp = mp->curg;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	gp->syscallsp = sp;
	gp->status = Gsyscall;
	p = releasep();
	handoffp(p);
	mp->locks--;
}

static bool
exitsyscallfast(void)
{
	M *mp;
	P *p;

	mp = runtime_m();
	// stoptheworld is collecting the Ps (stopwait > 0): take none.
	if(sched.stopwait) {
		mp->p = nil;
		return false;
	}
	// Try to get any idle P.
	mp->p = nil;
	if(sched.pidle) {
		runtime_lock(&sched.lock);
		p = pidleget();
		runtime_unlock(&sched.lock);
		if(p) {
			acquirep(p);
			return true;
		}
	}
	return false;
}

// The goroutine is back from the OS: find it a P.
void
runtime_exitsyscall(void)
{
	M *mp;
	G *gp;

	mp = runtime_m();
	mp->locks++;
	gp = mp->curg;
	if(exitsyscallfast()) {
		mp->p->syscalltick++;
		gp->status = Grunning;
		gp->syscallsp = 0;
		mp->locks--;
		return;
	}
	mp->locks--;

	// Call the scheduler: it queues us and runs us when a P is free.
	mcall(exitsyscall0);

	gp->syscallsp = 0;
	runtime_m()->p->syscalltick++;
}

// runtime_exitsyscall slow path on g0: no P for us; queue gp.
static void
exitsyscall0(G *gp)
{
	P *p;

	dropg(gp, Grunnable);
	runtime_lock(&sched.lock);
	p = pidleget();
	if(p == nil)
		globrunqput(gp);
	runtime_unlock(&sched.lock);
	if(p) {
		acquirep(p);
		runqput(p, gp);
		return;
	}
	stopm();
}

bool
runtime_notetsleepg(Note *n, int64 ns)
{
	bool res;
	G *gp;

	__builtin_unwind_init();	// spill callee-saved registers for the collector
	gp = runtime_g();
	runtime_entersyscallblock();
	// A background G asleep here waits for work (the scavenger's
	// tick): no sign of life for the deadlock detector. Any
	// other blocking call is work in progress, background G or not (the
	// root listing of a collection that the finalizer goroutine runs).
	if(gp->isbackground)
		incidlelocked(1);
	res = runtime_notetsleep(n, ns);
	if(gp->isbackground)
		incidlelocked(-1);
	runtime_exitsyscall();
	return res;
}

// ---- goroutines ----------------------------------------------------------------------

// A new G with a stack of n bytes, not yet on allg.
static G*
malg(uintptr n)
{
	G *gp;

	gp = runtime_persistentalloc(sizeof(G), CacheLineSize, &mstats.other_sys);
	memset(gp, 0, sizeof *gp);
	gp->stacksize = n;
	gp->stack0 = runtime_stackalloc(n);
	return gp;
}

// Create a new G running fn(arg) and put it on the current P's queue.
G*
runtime_newproc1(void (*fn)(void*), void *arg, bool issystem)
{
	M *mp;
	G *newg;
	P *p;

	mp = runtime_mcheck("gort_go");
	if(fn == nil)
		runtime_throw("go of nil func value");
	mp->locks++;	// it holds p in a local var
	p = mp->p;
	if(fn != runtime_main && (newg = gfget(p)) != nil) {
		runtime_asan_unpoison(newg->stack0, newg->stacksize);
	} else {
		newg = malg(fn == runtime_main ? StackMain : stacksize);
		allgadd(newg);
	}
	newg->fn = fn;
	newg->arg = arg;
	newg->param = nil;
	newg->issystem = issystem;
	newg->isbackground = false;
	newg->preempt = false;
	newg->waitreason = nil;
	newg->sched.sp = runtime_gostartstack(newg->stack0 + newg->stacksize, newg);
	newg->status = Grunnable;
	if(p->goidcache == p->goidcacheend) {
		p->goidcache = runtime_xadd64(&sched.goidgen, GoidCacheBatch) - GoidCacheBatch + 1;
		p->goidcacheend = p->goidcache + GoidCacheBatch;
	}
	newg->goid = p->goidcache++;
	runqput(p, newg);

	if(runtime_atomicload(&sched.npidle) != 0 && runtime_atomicload(&sched.nmspinning) == 0 && fn != runtime_main)
		wakep();
	mp->locks--;
	return newg;
}

static void
allgadd(G *gp)
{
	G **new;

	runtime_lock(&runtime_allglock);
	if(runtime_allglen >= allgcap) {
		// Outside the GC heap: the collector walks allg itself. Every
		// reader holds allglock or runs with the world stopped, so
		// none can still be reading the old array; it is kept all the
		// same (keepold), a leak that is small next to the stacks.
		new = runtime_SysGrow(runtime_allg, runtime_allglen, &allgcap, sizeof new[0], true, &mstats.other_sys);
		runtime_atomicstorep((void**)&runtime_allg, new);
	}
	runtime_allg[runtime_allglen] = gp;
	runtime_atomicstorep((void**)&runtime_allglen, (void*)(runtime_allglen+1));
	runtime_unlock(&runtime_allglock);
}

// Put on gfree list. If the local list is too long, transfer a batch to
// the global list.
static void
gfput(P *p, G *gp)
{
	gp->schedlink = p->gfree;
	p->gfree = gp;
	p->gfreecnt++;
	if(p->gfreecnt >= 64) {
		runtime_lock(&sched.gflock);
		while(p->gfreecnt >= 32) {
			p->gfreecnt--;
			gp = p->gfree;
			p->gfree = gp->schedlink;
			gp->schedlink = sched.gfree;
			sched.gfree = gp;
		}
		runtime_unlock(&sched.gflock);
	}
}

// Get from gfree list. If the local list is empty, grab a batch from
// the global list.
static G*
gfget(P *p)
{
	G *gp;

retry:
	gp = p->gfree;
	if(gp == nil && sched.gfree) {
		runtime_lock(&sched.gflock);
		while(p->gfreecnt < 32 && sched.gfree) {
			p->gfreecnt++;
			gp = sched.gfree;
			sched.gfree = gp->schedlink;
			gp->schedlink = p->gfree;
			p->gfree = gp;
		}
		runtime_unlock(&sched.gflock);
		goto retry;
	}
	if(gp) {
		p->gfree = gp->schedlink;
		p->gfreecnt--;
	}
	return gp;
}

// Purge all cached Gs from gfree list to the global list.
static void
gfpurge(P *p)
{
	G *gp;

	runtime_lock(&sched.gflock);
	while(p->gfreecnt) {
		p->gfreecnt--;
		gp = p->gfree;
		p->gfree = gp->schedlink;
		gp->schedlink = sched.gfree;
		sched.gfree = gp;
	}
	runtime_unlock(&sched.gflock);
}

int32
runtime_gcount(void)
{
	G *gp;
	int32 n, s;
	uintptr i, len;
	G **all;

	n = 0;
	runtime_lock(&runtime_allglock);
	all = runtime_allg;
	len = runtime_allglen;
	for(i = 0; i < len; i++) {
		gp = all[i];
		s = gp->status;
		if(!gp->issystem && (s == Grunnable || s == Grunning || s == Gsyscall || s == Gwaiting))
			n++;
	}
	runtime_unlock(&runtime_allglock);
	return n;
}

// ---- fork ------------------------------------------------------------------------
//
// A goroutine may call fork() (to exec a program) while others allocate
// and collect. Between glibc's prepare and parent steps the forking
// thread holds every malloc arena lock and the stdio list lock. Were it
// stopped there by the suspension signal (stop-the-world, preemption),
// the next thread creation or malloc anywhere would wait for it forever.
// So, as Go's syscall.ForkLock keeps exec'ing children apart from the
// rest, the atfork handlers close the window: prepare takes worldsema
// (no stop-the-world, hence no collection, until the fork is over), then
// leaves its P as a blocking system call does (so it can never be
// suspended, and a goroutine that a signal stopped earlier while holding
// one of those locks gets a P to finish and release it). The parent
// handler gives both back. The goroutine waits for both on its own thread
// (glibc's fork must end on the thread it began on). The child has one thread and a copy
// of a runtime whose other threads are gone: it may exec or _exit, and
// any gort call there is fatal (runtime_badm).
// Sleep on this M until whichever M schedules gp (queued, or to be
// readied, with gp->lockedm = this M) hands it a P; then run gp again
// here. gp's frames and registers stay on its stack for the collector.
// sched locked on entry (it was when gp was made findable); no P.
static void
sleeplocked(M *mp, G *gp)
{
	uintptr sp;

	__builtin_unwind_init();
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	gp->sched.sp = sp;
	sched.nmidlelocked++;	// startlockedm counts it back
	runtime_unlock(&sched.lock);
	runlockedg(mp, gp);
}

// Sleep on mp until the M that schedules gp, locked to mp, hands us its P
// (startlockedm); then run gp here again.
static void
runlockedg(M *mp, G *gp)
{
	runtime_notesleep(&mp->park);
	runtime_noteclear(&mp->park);
	acquirep(mp->nextp);
	mp->nextp = nil;
	gp->status = Grunning;
	gp->lockedm = nil;
	mp->lockedg = nil;
	mp->curg = gp;
	gp->m = mp;
}

// Detach gp from mp, locked to it. sched locked.
static void
lockdetach(M *mp, G *gp, uint32 status)
{
	gp->status = status;
	gp->m = nil;
	gp->lockedm = mp;
	mp->lockedg = gp;
	mp->curg = nil;
}

// semacquire that never changes the goroutine's thread: it waits on its
// own M, with its P handed off.
static void
semacquireinplace(Sema *s)
{
	M *mp;
	G *gp;
	P *p;

	mp = runtime_m();
	gp = mp->curg;
	runtime_lock(&s->lock);
	if(!runtime_semqueue(s, gp)) {
		runtime_unlock(&s->lock);
		return;
	}
	mp->locks++;
	gp->waitreason = "semacquire";
	p = releasep();
	runtime_lock(&sched.lock);
	lockdetach(mp, gp, Gwaiting);
	runtime_unlock(&s->lock);	// semrelease may ready gp from now on
	runtime_unlock(&sched.lock);
	handoffp(p);
	runtime_lock(&sched.lock);
	sleeplocked(mp, gp);
	mp->locks--;
}

// exitsyscall that never changes the goroutine's thread.
static void
exitsyscallinplace(void)
{
	M *mp;
	G *gp;

	mp = runtime_m();
	mp->locks++;
	gp = mp->curg;
	if(!exitsyscallfast()) {
		runtime_lock(&sched.lock);
		lockdetach(mp, gp, Grunnable);
		globrunqput(gp);
		runtime_notewakeup_sysmon();	// it starts an M if a P idles
		sleeplocked(mp, gp);
	}
	mp->p->syscalltick++;
	gp->status = Grunning;
	gp->syscallsp = 0;
	mp->locks--;
}

static void
forkprepare(void)
{
	M *mp;
	G *gp;

	mp = runtime_m();
	if(mp == nil || (gp = mp->curg) == nil || runtime_g() != gp ||
	   mp->locks != 0 || mp->mallocing != 0 || mp->gcing != 0)
		return;	// not a goroutine's own code (a thread gort did not create)
	// Waiting here, the goroutine stays on its thread (glibc's fork goes
	// on where it started), and no libc lock is held yet.
	semacquireinplace(&runtime_worldsema);
	gp->forking = true;
	__builtin_unwind_init();
	runtime_entersyscallblock();
}

static void
forkparent(void)
{
	M *mp;
	G *gp;

	mp = runtime_m();
	if(mp == nil || (gp = mp->curg) == nil || !gp->forking)
		return;
	exitsyscallinplace();
	gp->forking = false;
	runtime_semrelease(&runtime_worldsema);
}

static void
forkchild(void)
{
	runtime_forkchild = true;
	runtime_setm(nil);	// every gort call now dies in runtime_badm
}

// ---- stop and start the world -------------------------------------------------------

// Stop every other P. The caller holds worldsema and has set m->gcing.
// Goroutines running C code are stopped by the suspension signal.
void
runtime_stoptheworld(void)
{
	M *mp;
	int32 i;
	P *p;
	bool wait;

	mp = runtime_m();
	runtime_lock(&sched.lock);
	sched.stopwait = runtime_gomaxprocs;
	runtime_atomicstore(&sched.gcwaiting, 1);
	preemptall();
	// stop current P
	mp->p->status = Pgcstop;
	sched.stopwait--;
	// (Go also retakes Ps in Psyscall here; no gort P is ever in a
	// system call: blocking hands the P off first.)
	// stop idle Ps
	while((p = pidleget()) != nil) {
		p->status = Pgcstop;
		sched.stopwait--;
	}
	wait = sched.stopwait > 0;
	runtime_unlock(&sched.lock);

	// wait for remaining Ps to stop voluntarily
	if(wait) {
		for(;;) {
			// wait for 100us, then try to re-preempt in case of any races
			if(runtime_notetsleep(&sched.stopnote, 100*1000)) {
				runtime_noteclear(&sched.stopnote);
				break;
			}
			preemptall();
		}
	}
	if(sched.stopwait)
		runtime_throw("stoptheworld: not stopped");
	for(i = 0; i < runtime_gomaxprocs; i++) {
		p = runtime_allp[i];
		if(p->status != Pgcstop)
			runtime_throw("stoptheworld: not stopped");
	}
}

static void
mhelpgc(void)
{
	runtime_m()->helpgc = -1;
}

// The most GC threads worth having: min(GOMAXPROCS, CPUs, MaxGcproc).
// sched locked.
static int32
gcprocsmax(void)
{
	int32 n;

	n = runtime_gomaxprocs;
	if(n > runtime_ncpu)
		n = runtime_ncpu;
	if(n > MaxGcproc)
		n = MaxGcproc;
	return n;
}

// Could the collector have used another (idle) M?
static bool
needaddgcproc(void)
{
	int32 n;

	runtime_lock(&sched.lock);
	n = gcprocsmax() - (sched.nmidle+1);	// one M is currently running
	runtime_unlock(&sched.lock);
	return n > 0;
}

// The whole stop-the-world sequence, for callers that are not the
// collector's runtime_gc (which takes worldsema itself, with a re-check
// and the root snapshot in between): take worldsema, mark this M as
// collecting (gcing: it must not be preempted or collect) and stop every
// other P. Returns the calling M. Go 1.5 names the pair stopTheWorld and
// startTheWorld.
M*
runtime_stopworld(void)
{
	M *mp;

	runtime_semacquire(&runtime_worldsema);
	mp = runtime_m();
	mp->gcing = 1;
	runtime_stoptheworld();
	return mp;
}

// And back: gcing off, worldsema released, the world restarted, with
// m->locks held from the release to the restart so that this goroutine
// is not stopped by a collection that takes worldsema in between.
void
runtime_startworld(void)
{
	M *mp;

	mp = runtime_m();
	mp->gcing = 0;
	mp->locks++;
	runtime_semrelease(&runtime_worldsema);
	runtime_starttheworld();
	mp->locks--;
}

void
runtime_starttheworld(void)
{
	M *mp, *me;
	P *p, *p1;
	bool add;

	me = runtime_m();
	me->locks++;	// it holds p in a local var
	add = needaddgcproc() && mstats.enablegc;
	runtime_lock(&sched.lock);
	if(newprocs) {
		procresize(newprocs);
		newprocs = 0;
	} else
		procresize(runtime_gomaxprocs);
	runtime_atomicstore(&sched.gcwaiting, 0);

	p1 = nil;
	while((p = pidleget()) != nil) {
		// procresize puts Ps with work at the beginning of the list.
		// Once we reach a P without a run queue, the rest have none.
		if(p->runqhead == p->runqtail) {
			pidleput(p);
			break;
		}
		p->m = mget();
		p->link = p1;
		p1 = p;
	}
	runtime_unlock(&sched.lock);

	while(p1) {
		p = p1;
		p1 = p1->link;
		if(p->m) {
			mp = p->m;
			p->m = nil;
			if(mp->nextp)
				runtime_throw("starttheworld: inconsistent mp->nextp");
			mp->nextp = p;
			runtime_notewakeup(&mp->park);
		} else {
			// Start M to run P. Do not start another M below.
			newm(nil, p, nil);
			add = false;
		}
	}

	if(add) {
		// The collector could have used another helper: start one now,
		// for next time.
		newm(mhelpgc, nil, nil);
	}
	me->locks--;
}

// Figure out how many CPUs to use during GC: limited by GOMAXPROCS, the
// number of CPUs, MaxGcproc and the idle Ms.
int32
runtime_gcprocs(void)
{
	int32 n;

	runtime_lock(&sched.lock);
	n = gcprocsmax();
	if(n > sched.nmidle+1)	// one M is currently running
		n = sched.nmidle+1;
	runtime_unlock(&sched.lock);
	return n;
}

// Wake nproc−1 idle Ms to run the collector's helper, each with the
// MCache of a P other than the caller's.
void
runtime_helpgc(int32 nproc)
{
	M *mp, *me;
	int32 n, pos;

	me = runtime_m();
	runtime_lock(&sched.lock);
	pos = 0;
	for(n = 1; n < nproc; n++) {	// one M is currently running
		if(runtime_allp[pos]->mcache == me->mcache)
			pos++;
		mp = mget();
		if(mp == nil)
			runtime_throw("runtime_gcprocs inconsistency");
		mp->helpgc = n;
		mp->mcache = runtime_allp[pos]->mcache;
		pos++;
		runtime_notewakeup(&mp->park);
	}
	runtime_unlock(&sched.lock);
}

// Tell every running goroutine to stop (signal.c delivers it).
static bool
preemptall(void)
{
	P *p;
	int32 i;
	bool res;

	res = false;
	for(i = 0; i < runtime_gomaxprocs; i++) {
		p = runtime_allp[i];
		if(p == nil || p->status != Prunning)
			continue;
		res |= preemptone(p);
	}
	return res;
}

// Best effort: may miss, or hit the wrong goroutine; the signal handler
// re-checks everything and stoptheworld retries every 100 µs.
static bool
preemptone(P *p)
{
	M *mp;
	G *gp;

	mp = p->m;
	if(mp == nil || mp == runtime_m())
		return false;
	gp = mp->curg;
	if(gp == nil || gp == mp->g0)
		return false;
	gp->preempt = true;
	runtime_sigpreempt(mp);
	return true;
}

// Called by the suspension signal handler (signal.c), on gp's own stack,
// when gp runs C code on M mp and either the world is stopping or sysmon
// asked for preemption (gp->preempt). gp stays on this M — it may hold
// thread-local state, or be inside libc — locked to it (Go's lockedm):
// it is queued, our P goes to the world stop or back to the idle list,
// and we sleep; whichever M schedules gp hands its P to us (startlockedm)
// and gp continues where the signal hit it. Nothing here may create a
// thread (not async-signal-safe): sysmon wakes an M for the idle P.
void
runtime_suspendg(M *mp, G *gp, uintptr sp)
{
	P *p;
	G *g1;
	M *mp2;
	bool stopping;

	gp->sched.sp = sp;	// the collector scans from here: the signal frame is above
	mp2 = nil;
	p = releasep();
	runtime_lock(&sched.lock);
	lockdetach(mp, gp, Grunnable);
	stopping = sched.gcwaiting != 0;
	if(stopping) {
		globrunqput(gp);
		p->status = Pgcstop;
		if(--sched.stopwait == 0)
			runtime_notewakeup(&sched.stopnote);
	} else if((mp2 = mget()) != nil) {
		// Preempted: gp waits in the global queue, as Go's gosched
		// does, and an idle M takes our P with its local queue intact
		// (waking it is a futex call, fine in a signal handler).
		globrunqput(gp);
		mp2->nextp = p;
	} else {
		// No idle M, and none may be created here. An idle P has an
		// empty run queue (spinning Ms rely on it): move its goroutines
		// to the global queue for sysmon's M, ahead of gp, which was
		// preempted to let them run.
		while((g1 = runqget(p)) != nil)
			globrunqput(g1);
		globrunqput(gp);
		pidleput(p);
	}
	// Counted as an idle locked M, without checkdead: gp is runnable and
	// no thread may be started here; sysmon starts one.
	sched.nmidlelocked++;
	runtime_unlock(&sched.lock);
	if(mp2 != nil)
		runtime_notewakeup(&mp2->park);
	else if(!stopping)
		runtime_notewakeup_sysmon();

	runlockedg(mp, gp);
	gp->preempt = false;
	mp->p->schedtick++;
}

// ---- sysmon ------------------------------------------------------------------------

// sysmon is a plain thread (no M, no P). It preempts goroutines that have
// run for more than 10 ms without going through the scheduler (C loops:
// Go 1.3 does this for Go code with its stack-guard trick; gort sends
// the suspension signal), and starts an M when runnable goroutines wait
// while Ps idle (a preempted goroutine's P is left idle by the signal
// handler). Go's sysmon also retakes Ps from long system calls and polls
// the network; gort hands Ps off before blocking, and has no poller.
enum
{
	ForcePreemptNS = 10*1000*1000,
};

static uint32 sysmonwake;	// atomic; futex word

void
runtime_notewakeup_sysmon(void)
{
	if(runtime_cas(&sysmonwake, 0, 1))
		runtime_futexwakeup(&sysmonwake, 1);
}

// sysmon's alone.
static struct {
	uint32	schedtick;
	int64	schedwhen;
} pdesc[MaxGomaxprocs];

static uint32
retake(int64 now)
{
	uint32 i, n, t;
	P *p;

	n = 0;
	for(i = 0; i < (uint32)runtime_gomaxprocs; i++) {
		p = runtime_allp[i];
		if(p == nil || p->status != Prunning)
			continue;
		t = p->schedtick;
		if(pdesc[i].schedtick != t) {
			pdesc[i].schedtick = t;
			pdesc[i].schedwhen = now;
		} else if(now - pdesc[i].schedwhen > ForcePreemptNS) {
			// Not counted, as in Go: a preemption wakes nobody, so a
			// goroutine that runs for seconds must not hold sysmon at
			// its 20 us period (it was: 3,000 futex wake-ups a second,
			// 7% of binary-trees 16's profile in context switches).
			preemptone(p);
			pdesc[i].schedwhen = now;	// once per 10 ms at most
		}
	}
	return n;
}

static void*
sysmon(void *arg)
{
	uint32 idle, delay;
	struct timespec ts;

	USED(arg);
	idle = 0;	// how many cycles in succession we had not woken anybody
	delay = 0;
	for(;;) {
		if(idle == 0)	// start with 20us sleep...
			delay = 20;
		else if(idle > 50)	// start doubling the sleep after 1ms...
			delay *= 2;
		if(delay > 10*1000)	// up to 10ms
			delay = 10*1000;
		ts.tv_sec = 0;
		ts.tv_nsec = delay*1000;
		if(runtime_xchg(&sysmonwake, 0) == 0)
			runtime_futexsleep(&sysmonwake, 0, ts.tv_nsec);
		runtime_atomicstore(&sysmonwake, 0);
		// A collection is under way: nothing to retake. Go 1.3 sleeps
		// on a note here and restarts at 20 us when the world starts;
		// gort keeps its back-off instead. A program that collects every
		// few ms (binary-trees 16: 97 GCs in 0.35 s) otherwise kept
		// sysmon at 20 us for good: 4,200 context switches and 444 ms of
		// CPU against 200 and 355 ms (docs/performance.md). Whoever needs
		// sysmon at once wakes it (runtime_notewakeup_sysmon).
		if(runtime_gcwaiting())
			continue;
		if(retake(runtime_nanotime()))
			idle = 0;
		else
			idle++;
		// Runnable goroutines but idle Ps and nobody looking.
		if(sched.runqsize > 0 && runtime_atomicload(&sched.npidle) > 0 &&
		   runtime_atomicload(&sched.nmspinning) == 0) {
			wakep();
			idle = 0;
		}
	}
	return nil;
}

// A plain thread (no M, no P) for the runtime's own loops: sysmon and
// the template thread.
static void
startplainthread(void *(*fn)(void*), const char *what)
{
	pthread_t th;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64<<10);
	if(pthread_create(&th, &attr, fn, nil) != 0) {
		runtime_printf("runtime: cannot create the %s thread\n", what);
		runtime_throw("newosproc");
	}
	pthread_attr_destroy(&attr);
}

bool
runtime_gcwaiting(void)
{
	return runtime_atomicload(&sched.gcwaiting) != 0;
}

// Change the number of Ps. sched locked, world stopped.
static void
procresize(int32 new)
{
	M *mp;
	int32 i, old;
	bool empty;
	G *gp;
	P *p;

	mp = runtime_m();
	old = runtime_gomaxprocs;
	if(old < 0 || old > MaxGomaxprocs || new <= 0 || new > MaxGomaxprocs)
		runtime_throw("procresize: invalid arg");
	// initialize new Ps
	for(i = 0; i < new; i++) {
		p = runtime_allp[i];
		if(p == nil) {
			p = runtime_persistentalloc(sizeof(*p), CacheLineSize, &mstats.other_sys);
			memset(p, 0, sizeof *p);
			p->id = i;
			p->status = Pgcstop;
			runtime_atomicstorep((void**)&runtime_allp[i], p);
		}
		if(p->mcache == nil) {
			if(old == 0 && i == 0)
				p->mcache = mp->mcache;	// bootstrap
			else
				p->mcache = runtime_allocmcache();
		}
	}

	// Redistribute runnable Gs evenly: collect them all in the global
	// queue, keeping FIFO order (fairness during frequent GCs, Go
	// issue 7126), then fill local queues up to half.
	empty = false;
	while(!empty) {
		empty = true;
		for(i = 0; i < old; i++) {
			p = runtime_allp[i];
			if(p->runqhead == p->runqtail)
				continue;
			empty = false;
			// pop from tail of local queue
			p->runqtail--;
			gp = p->runq[p->runqtail%nelem(p->runq)];
			// push onto head of global queue
			gp->schedlink = sched.runqhead;
			sched.runqhead = gp;
			if(sched.runqtail == nil)
				sched.runqtail = gp;
			sched.runqsize++;
		}
	}
	// Start at 1: the current M already runs a G and acquires allp[0]
	// below, so a spare G should go to allp[1].
	for(i = 1; (uint32)i < new * nelem(p->runq)/2 && sched.runqsize > 0; i++) {
		gp = sched.runqhead;
		sched.runqhead = gp->schedlink;
		if(sched.runqhead == nil)
			sched.runqtail = nil;
		sched.runqsize--;
		runqput(runtime_allp[i%new], gp);
	}

	// free unused Ps
	for(i = new; i < old; i++) {
		p = runtime_allp[i];
		runtime_freemcache(p->mcache);
		p->mcache = nil;
		gfpurge(p);
		p->status = Pdead;
		// can't free P itself: an M in a syscall may refer to it
	}

	if(mp->p)
		mp->p->m = nil;
	mp->p = nil;
	mp->mcache = nil;
	p = runtime_allp[0];
	p->m = nil;
	p->status = Pidle;
	acquirep(p);
	for(i = new-1; i > 0; i--) {
		p = runtime_allp[i];
		p->status = Pidle;
		pidleput(p);
	}
	runtime_atomicstore((uint32*)&runtime_gomaxprocs, new);
}

// Associate p and the current M.
static void
acquirep(P *p)
{
	M *mp;

	mp = runtime_m();
	if(mp->p || mp->mcache)
		runtime_throw("acquirep: already in go");
	if(p->m || p->status != Pidle) {
		runtime_printf("runtime: acquirep: p->m=%p(%d) p->status=%d\n", (void*)p->m, p->m ? p->m->id : 0, p->status);
		runtime_throw("acquirep: invalid p state");
	}
	mp->mcache = p->mcache;
	mp->p = p;
	p->m = mp;
	p->status = Prunning;
}

// Disassociate p and the current M.
static P*
releasep(void)
{
	M *mp;
	P *p;

	mp = runtime_m();
	if(mp->p == nil || mp->mcache == nil)
		runtime_throw("releasep: invalid arg");
	p = mp->p;
	if(p->m != mp || p->mcache != mp->mcache || p->status != Prunning) {
		runtime_printf("runtime: releasep: m=%p m->p=%p p->m=%p m->mcache=%p p->mcache=%p p->status=%d\n",
			(void*)mp, (void*)mp->p, (void*)p->m, (void*)mp->mcache, (void*)p->mcache, p->status);
		runtime_throw("releasep: invalid p state");
	}
	mp->p = nil;
	mp->mcache = nil;
	p->m = nil;
	p->status = Pidle;
	return p;
}

static void
incidlelocked(int32 v)
{
	runtime_lock(&sched.lock);
	sched.nmidlelocked += v;
	if(v > 0)
		checkdead();
	runtime_unlock(&sched.lock);
}

// Check for deadlock: no M running means every goroutine is blocked
// forever. sched locked.
static void
checkdead(void)
{
	G *gp;
	int32 run, grunning, s;
	uintptr i;

	if(runtime_atomicload(&mainexited))
		return;	// gort_main has returned: the rest is the program's business
	run = sched.mcount - sched.nmidle - sched.nmidlelocked;
	if(run > 0)
		return;
	if(run < 0) {
		runtime_printf("runtime: checkdead: nmidle=%d nmidlelocked=%d mcount=%d\n",
			sched.nmidle, sched.nmidlelocked, sched.mcount);
		runtime_throw("checkdead: inconsistent counts");
	}
	grunning = 0;
	runtime_lock(&runtime_allglock);
	for(i = 0; i < runtime_allglen; i++) {
		gp = runtime_allg[i];
		if(gp->isbackground)
			continue;
		s = gp->status;
		if(s == Gwaiting)
			grunning++;
		else if(s == Grunnable && gp->lockedm != nil) {
			// A goroutine preempted by signal (runtime_suspendg)
			// waits for a P while its M sleeps; sysmon starts an M
			// for it. Not a deadlock.
			runtime_unlock(&runtime_allglock);
			runtime_notewakeup_sysmon();
			return;
		} else if(s == Grunnable || s == Grunning || s == Gsyscall) {
			runtime_unlock(&runtime_allglock);
			runtime_printf("runtime: checkdead: find g %lld in status %d\n", (long long)gp->goid, s);
			runtime_throw("checkdead: runnable g");
		}
	}
	runtime_unlock(&runtime_allglock);
	if(grunning == 0)	// the main goroutine called gort_goexit
		_exit(0);
	runtime_throw("all goroutines are asleep - deadlock!");
}

// ---- queues --------------------------------------------------------------------------

// Put mp on the midle list. sched locked.
static void
mput(M *mp)
{
	mp->schedlink = sched.midle;
	sched.midle = mp;
	sched.nmidle++;
	checkdead();
}

// Try to get an M from the midle list. sched locked.
static M*
mget(void)
{
	M *mp;

	if((mp = sched.midle) != nil) {
		sched.midle = mp->schedlink;
		sched.nmidle--;
	}
	return mp;
}

// Put gp on the global runnable queue. sched locked.
static void
globrunqput(G *gp)
{
	gp->schedlink = nil;
	if(sched.runqtail)
		sched.runqtail->schedlink = gp;
	else
		sched.runqhead = gp;
	sched.runqtail = gp;
	sched.runqsize++;
}

// Put a batch of runnable goroutines on the global queue. sched locked.
static void
globrunqputbatch(G *ghead, G *gtail, int32 n)
{
	gtail->schedlink = nil;
	if(sched.runqtail)
		sched.runqtail->schedlink = ghead;
	else
		sched.runqhead = ghead;
	sched.runqtail = gtail;
	sched.runqsize += n;
}

// Try get a batch of Gs from the global runnable queue. sched locked.
static G*
globrunqget(P *p, int32 max)
{
	G *gp, *gp1;
	int32 n;

	if(sched.runqsize == 0)
		return nil;
	n = sched.runqsize/runtime_gomaxprocs+1;
	if(n > sched.runqsize)
		n = sched.runqsize;
	if(max > 0 && n > max)
		n = max;
	if((uint32)n > nelem(p->runq)/2)
		n = nelem(p->runq)/2;
	sched.runqsize -= n;
	if(sched.runqsize == 0)
		sched.runqtail = nil;
	gp = sched.runqhead;
	sched.runqhead = gp->schedlink;
	n--;
	while(n--) {
		gp1 = sched.runqhead;
		sched.runqhead = gp1->schedlink;
		runqput(p, gp1);
	}
	return gp;
}

// Put p on the pidle list. sched locked.
static void
pidleput(P *p)
{
	p->link = sched.pidle;
	sched.pidle = p;
	runtime_xadd(&sched.npidle, 1);
}

// Try get a P from the pidle list. sched locked.
static P*
pidleget(void)
{
	P *p;

	p = sched.pidle;
	if(p) {
		sched.pidle = p->link;
		runtime_xadd(&sched.npidle, -1);
	}
	return p;
}

// Try to put gp on the local runnable queue; if it's full, move half of
// it and gp to the global queue. Executed only by the owner P.
static void
runqput(P *p, G *gp)
{
	uint32 h, t;

retry:
	h = runtime_atomicload(&p->runqhead);	// load-acquire, synchronize with consumers
	t = p->runqtail;
	if(t - h < nelem(p->runq)) {
		p->runq[t%nelem(p->runq)] = gp;
		runtime_atomicstore(&p->runqtail, t+1);	// store-release, makes the item available
		return;
	}
	if(runqputslow(p, gp, h, t))
		return;
	// the queue is not full, now the put above must succeed
	goto retry;
}

// Put gp and a batch of work from the local queue on the global queue.
// Executed only by the owner P.
static bool
runqputslow(P *p, G *gp, uint32 h, uint32 t)
{
	G *batch[nelem(p->runq)/2+1];
	uint32 n, i;

	// First, grab a batch from local queue.
	n = t-h;
	n = n/2;
	if(n != nelem(p->runq)/2)
		runtime_throw("runqputslow: queue is not full");
	for(i = 0; i < n; i++)
		batch[i] = p->runq[(h+i)%nelem(p->runq)];
	if(!runtime_cas(&p->runqhead, h, h+n))	// cas-release, commits consume
		return false;
	batch[n] = gp;
	// Link the goroutines.
	for(i = 0; i < n; i++)
		batch[i]->schedlink = batch[i+1];
	// Now put the batch on global queue.
	runtime_lock(&sched.lock);
	globrunqputbatch(batch[0], batch[n], n+1);
	runtime_unlock(&sched.lock);
	return true;
}

// Get a G from the local runnable queue. Executed only by the owner P.
static G*
runqget(P *p)
{
	G *gp;
	uint32 t, h;

	for(;;) {
		h = runtime_atomicload(&p->runqhead);	// load-acquire, synchronize with other consumers
		t = p->runqtail;
		if(t == h)
			return nil;
		gp = p->runq[h%nelem(p->runq)];
		if(runtime_cas(&p->runqhead, h, h+1))	// cas-release, commits consume
			return gp;
	}
}

// Grab a batch (half) of the goroutines of p's local queue into batch,
// of size nelem(p->runq)/2. Returns how many. Can be executed by any P.
static uint32
runqgrab(P *p, G **batch)
{
	uint32 t, h, n, i;

	for(;;) {
		h = runtime_atomicload(&p->runqhead);	// load-acquire, synchronize with other consumers
		t = runtime_atomicload(&p->runqtail);	// load-acquire, synchronize with the producer
		n = t-h;
		n = n - n/2;
		if(n == 0)
			break;
		if(n > nelem(p->runq)/2)	// read inconsistent h and t
			continue;
		for(i = 0; i < n; i++)
			batch[i] = __atomic_load_n(&p->runq[(h+i)%nelem(p->runq)], __ATOMIC_RELAXED);
		if(runtime_cas(&p->runqhead, h, h+n))	// cas-release, commits consume
			break;
	}
	return n;
}

// Steal half of the elements of p2's local queue onto p's. Returns one
// of the stolen elements (or nil if it failed).
static G*
runqsteal(P *p, P *p2)
{
	G *gp;
	G *batch[nelem(p->runq)/2];
	uint32 t, h, n, i;

	n = runqgrab(p2, batch);
	if(n == 0)
		return nil;
	n--;
	gp = batch[n];
	if(n == 0)
		return gp;
	h = runtime_atomicload(&p->runqhead);	// load-acquire, synchronize with consumers
	t = p->runqtail;
	if(t - h + n >= nelem(p->runq))
		runtime_throw("runqsteal: runq overflow");
	for(i = 0; i < n; i++, t++)
		p->runq[t%nelem(p->runq)] = batch[i];
	runtime_atomicstore(&p->runqtail, t);	// store-release, makes the item available
	return gp;
}

// Go's testSchedLocalQueue / testSchedLocalQueueSteal hooks (export_test.go).
void
runtime_testSchedLocalQueue(void)
{
	static P p;
	static G gs[nelem(p.runq)];
	int32 i, j;

	memset(&p, 0, sizeof(p));
	for(i = 0; i < (int32)nelem(gs); i++) {
		if(runqget(&p) != nil)
			runtime_throw("runq is not empty initially");
		for(j = 0; j < i; j++)
			runqput(&p, &gs[i]);
		for(j = 0; j < i; j++) {
			if(runqget(&p) != &gs[i]) {
				runtime_printf("runtime: bad element at iter %d/%d\n", i, j);
				runtime_throw("bad element");
			}
		}
		if(runqget(&p) != nil)
			runtime_throw("runq is not empty afterwards");
	}
}

void
runtime_testSchedLocalQueueSteal(void)
{
	static P p1, p2;
	static G gs[nelem(p1.runq)];
	static int32 sig[nelem(p1.runq)];
	G *gp;
	int32 i, j, s;

	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	for(i = 0; i < (int32)nelem(gs); i++) {
		for(j = 0; j < i; j++) {
			sig[j] = 0;
			runqput(&p1, &gs[j]);
		}
		gp = runqsteal(&p2, &p1);
		s = 0;
		if(gp) {
			s++;
			sig[gp-gs]++;
		}
		while((gp = runqget(&p2)) != nil) {
			s++;
			sig[gp-gs]++;
		}
		while((gp = runqget(&p1)) != nil)
			sig[gp-gs]++;
		for(j = 0; j < i; j++) {
			if(sig[j] != 1) {
				runtime_printf("runtime: bad element %d(%d) at iter %d\n", j, sig[j], i);
				runtime_throw("bad element");
			}
		}
		if(s != i/2 && s != i/2+1) {
			runtime_printf("runtime: bad steal %d, want %d or %d, iter %d\n", s, i/2, i/2+1, i);
			runtime_throw("bad steal");
		}
	}
}

// ---- public calls --------------------------------------------------------------------

GORT_API void
gort_go(void (*fn)(void *), void *arg)
{
	runtime_newproc1(fn, arg, false);
}

GORT_API void
gort_gosched(void)
{
	runtime_mcheck("gort_gosched");
	runtime_gosched();
}

GORT_API void
gort_goexit(void)
{
	runtime_mcheck("gort_goexit");
	runtime_goexit();
}

GORT_API int
gort_gomaxprocs(int n)
{
	int32 ret;

	runtime_mcheck("gort_gomaxprocs");
	if(n > MaxGomaxprocs)
		n = MaxGomaxprocs;
	runtime_lock(&sched.lock);
	ret = runtime_gomaxprocs;
	if(n <= 0 || n == ret) {
		runtime_unlock(&sched.lock);
		return ret;
	}
	runtime_unlock(&sched.lock);

	runtime_stopworld();
	newprocs = n;
	runtime_startworld();
	return ret;
}

GORT_API int
gort_num_goroutine(void)
{
	runtime_mcheck("gort_num_goroutine");
	return runtime_gcount();
}

GORT_API int64_t
gort_nanotime(void)
{
	return runtime_nanotime();
}
