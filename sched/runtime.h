// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Runtime core: the types and helpers every subsystem shares.
//
// This is gort's counterpart of Go's runtime.h. It holds the Go-style
// integer names, the M (an OS thread running gort code) and the seams the
// scheduler (sched/proc.c) fills in, Lock and Note (lock_futex.c), the
// atomics (written with the memory order at each use), throw/printf, and
// the GODEBUG knobs.
//
// g and m. Go keeps g and m in registers; gort keeps the current M in a
// thread-local. A goroutine may resume on another thread after anything
// that can switch, and the compiler may cache a thread-local's address
// across such a call, so runtime code reads the current M only through
// runtime_m(), an inline asm volatile load from the thread pointer that
// the compiler can neither cache nor hoist, and reads it again after
// anything that can switch (a park, a Gosched, a stop by signal).

#ifndef GORT_RUNTIME_H
#define GORT_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t		byte;
typedef int8_t		int8;
typedef uint8_t		uint8;
typedef int16_t		int16;
typedef uint16_t	uint16;
typedef int32_t		int32;
typedef uint32_t	uint32;
typedef int64_t		int64;
typedef uint64_t	uint64;
typedef intptr_t	intptr;
typedef uintptr_t	uintptr;

typedef struct M	M;
typedef struct G	G;
typedef struct Lock	Lock;
typedef struct Note	Note;
typedef struct MCache	MCache;
typedef struct FixAlloc	FixAlloc;
typedef struct DebugVars DebugVars;

#define nil		NULL
#define nelem(x)	(sizeof(x)/sizeof((x)[0]))
#define ROUND(x, n)	(((x)+(n)-1)&~(uintptr)((n)-1)) /* n must be a power of 2 */
#define USED(v)		((void)(v))

#define NORETURN	__attribute__((noreturn))
#define NOINLINE	__attribute__((noinline))
#define UNLIKELY(x)	__builtin_expect(!!(x), 0)
#define LIKELY(x)	__builtin_expect(!!(x), 1)
#define PREFETCH(p)	__builtin_prefetch(p)

// Runtime globals that hold no pointers the collector must follow go in
// their own section, which mgc/roots.c leaves out of the data it scans
// (Go marks runtime·mheap NOPTR for the same reason).
#define GORT_NOSCAN	__attribute__((section("gort_noscan")))

// Code that reads memory it does not own in the sanitizers' sense (the
// conservative scanners) is marked NOSANITIZE and kept small.
#define NOSANITIZE	__attribute__((no_sanitize("address", "undefined")))

enum
{
	PtrSize		= sizeof(void*),
	CacheLineSize	= 64,
	// The inaccessible page below every goroutine stack (stack.c maps
	// it, signal.c reads a fault there as a stack overflow).
	StackGuardPage	= 4096,
};

// The lock order. Every Lock has a rank, and a thread may take a lock only
// if its rank is greater than that of every lock the thread already holds:
// locks are taken from the top of this list down. Go 1.3 never wrote its
// order down (Go 1.14's lockrank.go did; jemalloc's witness ranks are the
// model). A build with -Dlockcheck=true checks every runtime_lock against
// the locks its thread holds and dies with "fatal error: lock order
// violation: <held> then <taking>" (lock_futex.c); CI runs the suite so.
// Ranks are fixed where each lock is defined (a static initializer, or
// runtime_lockinit for a lock inside a structure made at run time).
enum LockRank
{
	LockRankNone = 0,	// never set: fatal under lockcheck

	// A collection is outermost: runtime_gc holds gclock while it starts
	// the background sweeper (allg, a stack).
	LockRankGc,		// gclock: the sweeper G's state (sweep.g, parked)
	LockRankRoots,		// rootslock: registered roots (gort_add_roots); above work.lock
	LockRankFin,		// finlock: finq, fing's state; starts fing
				// (sched.lock, allg, templ, stacks) under it
	LockRankTimers,		// timers.lock: the timer heap; starts and readies timerproc
	LockRankHchan,		// Hchan.lock: one channel's queues and buffer; readies Gs
	LockRankSema,		// Sema.lock: one semaphore's count and waiters
	LockRankSched,		// sched.lock: idle Ms and Ps, the global run queue;
				// procresize makes MCaches (mheap.lock) under it
	LockRankAllm,		// runtime_allmlock: appending to allm
	LockRankTempl,		// templ.lock: Ms queued for the template thread
	LockRankAllg,		// runtime_allglock: allg
	LockRankGfree,		// sched.gflock: the global dead-G cache
	LockRankStack,		// stacklock: the stack cache
	LockRankWork,		// work.lock: the mark's work-buffer chunks
	LockRankProf,		// proflock: profile buckets (persistentalloc under it)
	// The allocator's locks, in rank order: settype_lock, a span's
	// specials, its central list, the heap, the special records. Of these
	// only the heap and the special records take another lock under them
	// (persistent.lock, when their FixAllocs refill).
	LockRankSettype,	// settype_lock: type records of spans; allocates nothing
				// under it (settypeslow)
	LockRankSpanSpecial,	// MSpan.specialLock: one span's specials list
	LockRankMCentral,	// MCentral.lock: one size class's span lists
	LockRankMHeap,		// MHeap.lock: free spans, the span map, arena growth
	LockRankSpecial,	// MHeap.speciallock: the special-record FixAllocs
	LockRankPersistent,	// persistent.lock: persistentalloc's chunk; takes nothing
	// Innermost: for the tests' own locks.
	LockRankLeaf,

	NumLockRank
};

// Lock is a mutual exclusion lock (lock_futex.c). The zero value is
// unlocked. Holding a lock counts in m->locks: the suspension signal and
// the scheduler will not stop an M that holds one.
struct Lock
{
	uint32	key;	// MUTEX_UNLOCKED, MUTEX_LOCKED or MUTEX_SLEEPING; futex word
	uint32	rank;	// its LockRank; set once, before first use
};
#define LOCK_INIT(r)	{ .key = 0, .rank = (r) }

// Note is a one-shot sleep/wakeup (lock_futex.c): noteclear, then one
// notewakeup and any number of notesleep/notetsleep callers. key is the
// futex word: 0 asleep/clear, 1 woken.
struct Note
{
	uint32	key;
};

typedef struct P	P;
typedef struct Gobuf	Gobuf;

// A saved goroutine context: the sp of the callee-saved register frame
// runtime_gogo_switch pushed (see asm_amd64.S). The registers are on the
// G's own stack, below sp's frame, where the collector scans them.
struct Gobuf
{
	uintptr	sp;	// written by the G's M as it switches away (newproc1 before
			// a new G is queued); read by the next M to run it, or by
			// the collector with the world stopped
};

// Goroutine status (Go's G status values).
enum
{
	Gidle,
	Grunnable,	// on a run queue, or about to be
	Grunning,	// running on an M
	Gsyscall,	// blocked in the OS (entersyscall), has no P
	Gwaiting,	// parked (runtime_park); runtime_ready makes it Grunnable
	Gmoribund_unused,
	Gdead,		// exited, on a free list for reuse
};

// G is a goroutine. Each field says who writes it. status, schedlink and
// m follow the scheduler's rules: a G is owned by whoever moved it to its
// current state. "The G itself" is code running on the G, or its M on g0
// on its behalf (mcall).
struct G
{
	Gobuf	sched;		// saved context while not running (see Gobuf)
	byte*	stack0;		// lowest usable address (just above the guard page);
				// immutable after malg (g0's: set by mstart before use)
	uintptr	stacksize;	// usable bytes; as stack0
	uintptr	syscallsp;	// sp while in Gsyscall, for the collector: the G
				// itself; the collector reads it with the world stopped
	void	(*fn)(void*);	// entry function and its argument: set by newproc1
	void*	arg;		// before the G is queued; cleared by goexit0
	void*	param;		// passed by the waker (channels: the SudoG): written by
				// the waker after dequeuing the G, before runtime_ready;
				// read by the G once it runs again
	int64	goid;		// set by newproc1 before the G is queued; fixed while alive
	const char* waitreason;	// why it is Gwaiting; the G itself, before it parks
	G*	schedlink;	// run queues, free lists: the lock of the list it is on
				// (sched.lock, sched.gflock, Sema.lock), or the owner
				// P (its local gfree list)
	M*	m;		// M running it, or nil: written by that M (execute,
				// dropg, runlockedg, lockdetach)
	M*	lockedm;	// M it is locked to (a goroutine stopped inside a signal
				// handler, or waiting in place in the fork handlers):
				// set under sched.lock (lockdetach); cleared
				// by that M once it runs the G again (runlockedg), or
				// by goexit0
	uint32	status;		// G* above; the scheduler's rules. gcount and checkdead
				// read it holding only allglock: racy, benign (a count;
				// checkdead reads it only when no M runs)
	bool	issystem;	// a runtime goroutine (not counted by NumGoroutine): set
				// by newproc1 before the G is queued (the scavenger
				// sets its own); gcount reads it racily: benign
	bool	isbackground;	// ignored by the deadlock detector; the G itself.
				// checkdead reads it racily: benign, no M runs then
	bool	preempt;	// stop at the next safe point. Racy: set by preemptone
				// (sysmon, stoptheworld), cleared by the G's M; benign,
				// a hint that the signal handler re-checks
	bool	forking;	// in fork(), between the atfork handlers (proc.c); the G itself
	void*	fakestack;	// AddressSanitizer's fake stack while switched away; the G's M
};

// M is an OS thread that runs gort code (Go's M). Fields are written by
// the M itself (its own signal handler included) unless said otherwise.
// An idle M asleep on park is handed nextp, spinning, helpgc and mcache
// by the M that wakes it, which writes them before notewakeup(&mp->park);
// the M reads them after its notesleep.
struct M
{
	G*	g0;		// the thread's own stack: scheduler context; set by
				// newm before the thread starts, immutable
	G*	curg;		// goroutine running on this M; preemptone reads it from
				// other threads: racy, benign (the handler re-checks)
	P*	p;		// attached P, or nil
	P*	nextp;		// P handed to this M to acquire when it wakes: written
				// by the waker (startm, startlockedm, starttheworld,
				// runtime_suspendg) before notewakeup(&park)
	MCache*	mcache;		// the P's cache; an idle GC helper's lent one (set by
				// runtime_helpgc, sched.lock, before notewakeup); else nil
	int32	id;		// set by mcommoninit (sched.lock) before the thread starts
	int32	locks;		// runtime locks held; >0 ⇒ not preemptible, not suspendible
	int32	mallocing;	// inside mallocgc/free: not reentrant
	int32	gcing;		// inside the collector
	int32	helpgc;		// GC helper index; -1 idle helper. runtime_helpgc sets
				// it for an idle M (sched.lock, before notewakeup)
	uint32	fastrand;	// state of runtime_fastrand1 (seeded by mcommoninit)
	bool	spinning;	// looking for work (counted in sched.nmspinning); startm
				// sets it for an idle M before notewakeup
	Note	park;		// where an idle M sleeps (a Note: its own futex word)
	M*	alllink;	// on allm (allmlock)
	M*	schedlink;	// on sched.midle (sched.lock), or on the template
				// thread's queue (templ.lock)
	G*	lockedg;	// G locked to this M
	// What the new thread runs first: set by newm before the thread
	// starts, immutable.
	void	(*mstartfn)(void);
	// mcall: what g0 does after the current G switches to it.
	void	(*mcallfn)(G*);
	// park: how to release the G's lock once it is parked.
	bool	(*waitunlockf)(G*, void*);
	void*	waitlock;
	uintptr	tid;		// pthread_t; set by mstart before the M takes a P, read
				// by preemptone (sigpreempt) on other threads
	// g0's stack bounds (AddressSanitizer fiber switches); set by mstart.
	const void* g0stack;
	size_t	g0stacksize;
};

// P is a processor: what an M needs to run Go code (Go's P). GOMAXPROCS
// of them exist. "The owner M" is the M the P is attached to (m->p). The
// run queue is a 256-entry ring, written by the owner (runqput), or by
// procresize for any P with the world stopped, and consumed by CAS on
// runqhead (owner and thieves). status moves Pidle → Prunning (acquirep)
// → Pidle (releasep), or to Pgcstop under sched.lock while the world stops.
enum
{
	Pidle,
	Prunning,
	Psyscall,	// Go's; no gort P enters it (blocking hands the P off)
	Pgcstop,
	Pdead,
	MaxGomaxprocs = 256,
};

struct P
{
	int32	id;		// immutable after procresize makes the P
	uint32	status;		// P* above: the owner M (acquirep, releasep), or
				// sched.lock (Pgcstop, Pidle); preemptall and retake
				// read it racily: benign (best-effort preemption)
	P*	link;		// on sched.pidle (sched.lock); starttheworld's
				// private list once it has taken the P off
	uint32	schedtick;	// incremented on every scheduler call, by the owner M;
				// sysmon reads it racily: benign, a stale tick delays
				// one preemption
	uint32	syscalltick;	// the owner M
	M*	m;		// back-link to the M running it (nil if idle): the owner
				// M, or sched.lock (procresize, starttheworld, then its
				// private list); preemptone reads it racily: benign
	MCache*	mcache;		// changed only by procresize (sched.lock, world stopped)
	// Cache of goroutine ids, amortizes accesses to sched.goidgen. The
	// owner M.
	uint64	goidcache;
	uint64	goidcacheend;
	// Queue of runnable goroutines.
	uint32	runqhead;	// atomic (CAS by the owner and thieves)
	uint32	runqtail;	// the owner M (store-release), or procresize (world
				// stopped); others load-acquire (findrunnable's last
				// look at every queue reads it plainly: a hint)
	G*	runq[256];	// written by the owner before it publishes runqtail;
				// thieves read it before their CAS of runqhead
	// Dead Gs (with their stacks) for reuse. The owner M, or procresize
	// (gfpurge) with the world stopped.
	G*	gfree;
	int32	gfreecnt;
	byte	pad[64];
};

// allp: procresize fills it (sched.lock, world stopped, atomic stores); a
// P is never freed, so it is read without a lock. allg and allglen:
// appended under allglock (atomic stores); read under it or with the
// world stopped.
extern P*	runtime_allp[MaxGomaxprocs+1];
extern G**	runtime_allg;
extern uintptr	runtime_allglen;
extern Lock	runtime_allglock;

// A counting semaphore whose waiters park (sema.c, Go's sema.goc):
// a G waiting for it releases its P.
typedef struct Sema Sema;
struct Sema
{
	Lock	lock;
	int32	count;	// lock: units free
	G*	head;	// lock: waiters, FIFO, linked through schedlink
	G*	tail;	// lock
};
void	runtime_semacquire(Sema *s);
bool	runtime_semqueue(Sema *s, G *gp);
void	runtime_semrelease(Sema *s);
bool	runtime_semtryacquire(Sema *s);
extern Sema runtime_worldsema;

// Signals (signal.c): the suspension signal that stops goroutines
// running C code for stoptheworld, and the guard-page (stack overflow)
// handler on an alternate stack.
void	runtime_siginit(void);
void	runtime_minit(void);	// per-M: alternate signal stack
void	runtime_sigpreempt(M *mp);
void	runtime_suspendg(M *mp, G *gp, uintptr sp);
bool	runtime_gcwaiting(void);
void	runtime_notewakeup_sysmon(void);
void	runtime_gchelper(void);
// Test hooks: tests set them while no collection runs.
extern void (*runtime_gchelper_testhook)(void);	// tests of helpgc
extern void (*runtime_gchelper_donehook)(uint32 ndone, uint32 nproc);	// tests: a late helper
extern void (*runtime_checkmark_testhook)(void);	// tests: between the mark and gccheckmark's
bool	runtime_finqidle(void);	// tests: every queued finalizer has run

// Go's export_test.go hooks for the run-queue tests (throw on failure).
void	runtime_testSchedLocalQueue(void);
void	runtime_testSchedLocalQueueSteal(void);

// The scheduler's GC seams.
int32	runtime_gcprocs(void);
void	runtime_helpgc(int32 nproc);
int32	runtime_gcount(void);

// Global roots (mgc/roots.c): data and bss of the loaded objects, minus
// gort's own, plus the ranges registered with gort_add_roots.
void	runtime_forallroots(void (*fn)(byte *p, uintptr n, void *arg), void *arg);
// The same ranges, told apart: kind 0 for a loaded object's data or bss,
// 1 for a range registered with gort_add_roots.
void	runtime_forallrootskind(void (*fn)(byte *p, uintptr n, int kind, void *arg), void *arg);
void	runtime_snapshotroots(void);
void	runtime_rootsinit(void);
// The heap profiler's stack capture: 0 frame pointers, 1 libgcc
// (mprof.c). Set at boot (runtime_parsedebugvars), immutable after; a
// benchmark that sets it races with sampling threads: benign, a stale
// value picks the unwinder of one sample.
extern int32	runtime_unwindmode;

// Scheduler calls (proc.c) for the runtime's own goroutines and blocking.
G*	runtime_newproc1(void (*fn)(void*), void *arg, bool issystem);
void	runtime_gosched(void);
void	runtime_goexit(void) NORETURN;
// Put the current G to sleep (Gwaiting) and call unlockf(gp, lock) on g0;
// if unlockf returns false the G resumes at once. Something must later
// call runtime_ready(gp).
void	runtime_park(bool (*unlockf)(G*, void*), void *lock, const char *reason);
// runtime_park that unlocks lock once the G is parked.
void	runtime_parkunlock(Lock *lock, const char *reason);
// Make a parked G runnable (on the current P's run queue).
void	runtime_ready(G *gp);
// The current G (nil on g0 or outside the runtime).
G*	runtime_g(void);
// Around a blocking system call: hand the P to another M meanwhile.
void	runtime_entersyscallblock(void);
void	runtime_exitsyscall(void);
// Sleep on a note from a user G, with the P handed off meanwhile.
bool	runtime_notetsleepg(Note *n, int64 ns);

// Debug knobs from GODEBUG (parsed once at boot; unknown keys ignored).
// Immutable after runtime_parsedebugvars, except concurrentsweep, which
// the fuzzer flips between collections (atomic store): mgc0.c reads it
// only as a collection starts and right after it ends.
struct DebugVars
{
	int32	allocfreetrace;
	int32	efence;
	int32	gctrace;
	int32	concurrentsweep;
	int32	gccheckmark;	// verify every mark, and the heap after each collection (mgc0.c)
	int32	gcmarkall;	// mark with every GC thread, whatever the heap's size (markprocs)
};
extern DebugVars runtime_debug;
extern int32	runtime_gotraceback;	// immutable after boot
extern int32	runtime_ncpu;		// immutable after boot (tests set it between GCs)
// GOMAXPROCS: procresize sets it (sched.lock, world stopped, atomic store).
// Read without a lock: by Ms, which do not run while it changes, and by
// sysmon: racy, benign (a stale value walks a prefix of allp, or a P
// procresize has just retired: none is ever freed).
extern int32	runtime_gomaxprocs;
extern bool	runtime_booted;		// set by gort_main before any other gort thread runs
extern bool	runtime_forkchild;	// this process is a child of fork(): gort is off limits;
					// written only in the single-threaded child

// The current M, read with an asm volatile load from the thread pointer
// (initial-exec TLS) so that the compiler neither caches it nor its
// address across a call that may switch threads (see the comment at the
// top). Two instructions, no call.
extern __thread M *runtime_tls_m __attribute__((tls_model("initial-exec")));
static inline M*
runtime_m(void)
{
	M *mp;

	__asm__ volatile("movq runtime_tls_m@gottpoff(%%rip), %0\n\t"
			 "movq %%fs:(%0), %0" : "=r"(mp));
	return mp;
}
NORETURN void	runtime_badm(const char *what);
// runtime_m, but throws with a clear message when the calling thread is
// not one of the runtime's.
static inline M*
runtime_mcheck(const char *what)
{
	M *mp;

	mp = runtime_m();
	if(UNLIKELY(mp == NULL))
		runtime_badm(what);
	return mp;
}
void	runtime_setm(M *mp);

// Errors. throw prints "fatal error: msg" and exits with status 2 (abort
// with GOTRACEBACK=crash), as Go does.
NORETURN void	runtime_throw(const char *msg);
void	runtime_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Locks and notes (lock_futex.c).
void	runtime_lockinit(Lock *l, uint32 rank);
void	runtime_lock(Lock *l);
void	runtime_unlock(Lock *l);
void	runtime_noteclear(Note *n);
void	runtime_notewakeup(Note *n);
void	runtime_notesleep(Note *n);
bool	runtime_notetsleep(Note *n, int64 ns);	// false on timeout
void	runtime_futexsleep(uint32 *addr, uint32 val, int64 ns);
void	runtime_futexwakeup(uint32 *addr, uint32 cnt);
void	runtime_osyield(void);
void	runtime_usleep(uint32 us);

static inline void
runtime_procyield(uint32 cycles)
{
	while(cycles-- > 0)
		__asm__ volatile("pause" ::: "memory");
}

// Atomics over plain integers (the GCC/Clang __atomic builtins, the same
// operations C11 <stdatomic.h> gives _Atomic objects). The memory order is
// named at each use. cas, xadd and xchg are sequentially consistent, as
// Go's locked instructions are; atomicload is an acquire and atomicstore
// a release (on amd64 both are plain moves, as Go's are).
static inline bool
runtime_cas(uint32 *p, uint32 old, uint32 new)
{
	return __atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline bool
runtime_cas64(uint64 *p, uint64 old, uint64 new)
{
	return __atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline bool
runtime_casp(void **p, void *old, void *new)
{
	return __atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline uint32
runtime_xadd(uint32 *p, int32 v)
{
	return __atomic_add_fetch(p, (uint32)v, __ATOMIC_SEQ_CST);
}
static inline uint64
runtime_xadd64(uint64 *p, int64 v)
{
	return __atomic_add_fetch(p, (uint64)v, __ATOMIC_SEQ_CST);
}
static inline uint32
runtime_xchg(uint32 *p, uint32 v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline uint32
runtime_atomicload(uint32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline uint64
runtime_atomicload64(uint64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void
runtime_atomicstore(uint32 *p, uint32 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline void*
runtime_atomicloadp(void **p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void
runtime_atomicstorep(void **p, void *v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

// Misc (runtime.c).
int64	runtime_nanotime(void);
uint32	runtime_fastrand1(void);
int32	runtime_atoi(const char *s);
const char* runtime_getenv(const char *name);
void	runtime_parsedebugvars(void);
int32	runtime_readgogc(void);

// Scheduler seams (proc.c) used by the allocator and the collector.
extern M	runtime_m0;
extern M*	runtime_allm;
extern Lock	runtime_allmlock;
// Stop every P but the caller's (the caller holds worldsema and sets
// m->gcing); goroutines in C loops are stopped by the suspension signal.
void	runtime_stoptheworld(void);
void	runtime_starttheworld(void);
M*	runtime_stopworld(void);
void	runtime_startworld(void);
void	runtime_schedinit(void);

// Stacks (stack.c): mmap'd with a PROT_NONE guard page below, while
// vm.max_map_count allows; past that budget unguarded (those up to 1 MB
// carved from 4 MB chunks).
void*	runtime_stackalloc(uintptr n);
// asm_amd64.S: save the callee-saved registers, MXCSR and the x87 control
// word on the current stack, store sp in *from, load to, restore, return.
void	runtime_gogo_switch(uintptr *from, uintptr to);
// Prepare a fresh stack so that the first switch to it calls
// runtime_gostart(gp).
uintptr	runtime_gostartstack(byte *stacktop, G *gp);

#endif // GORT_RUNTIME_H
