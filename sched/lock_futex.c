// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2011 The Go Authors.

// Futex-based locks and notes (Go's lock_futex.c).
//
// Lock: key is MUTEX_UNLOCKED, MUTEX_LOCKED (held, nobody asleep) or
// MUTEX_SLEEPING (held, maybe sleepers). lock swaps in LOCKED; if that
// lost, it spins a little (ACTIVE_SPIN rounds of procyield on a
// multiprocessor), yields (PASSIVE_SPIN), then swaps in SLEEPING and
// sleeps in the kernel until the word changes. unlock swaps in UNLOCKED
// and wakes one sleeper if the old value was SLEEPING. Holding a lock
// counts in m->locks.
//
// Note: one-shot event. key 0 = not yet woken, 1 = woken. notewakeup
// swaps in 1 (a second wakeup is a fatal error) and wakes every sleeper;
// notesleep waits until key is 1. Callers noteclear before reuse, when
// nobody can be sleeping.

#include <errno.h>
#include <stdio.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

enum
{
	MUTEX_UNLOCKED = 0,
	MUTEX_LOCKED = 1,
	MUTEX_SLEEPING = 2,

	ACTIVE_SPIN = 4,
	ACTIVE_SPIN_CNT = 30,
	PASSIVE_SPIN = 1,
};

// Sleep while *addr == val, for at most ns nanoseconds (ns < 0: forever).
// Spurious wakeups are allowed; callers loop.
void
runtime_futexsleep(uint32 *addr, uint32 val, int64 ns)
{
	struct timespec ts, *tsp;

	tsp = nil;
	if(ns >= 0) {
		ts.tv_sec = ns / 1000000000LL;
		ts.tv_nsec = ns % 1000000000LL;
		tsp = &ts;
	}
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, nil, 0);
}

void
runtime_futexwakeup(uint32 *addr, uint32 cnt)
{
	long ret;

	ret = syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, cnt, nil, nil, 0);
	if(ret >= 0)
		return;
	runtime_printf("futexwakeup addr=%p returned %ld\n", (void*)addr, ret);
	runtime_throw("futexwakeup");
}

void
runtime_osyield(void)
{
	sched_yield();
}

void
runtime_usleep(uint32 us)
{
	struct timespec ts;

	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	while(nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
runtime_lockinit(Lock *l, uint32 rank)
{
	l->key = MUTEX_UNLOCKED;
	l->rank = rank;
}

#ifdef GORT_LOCKCHECK
// The lock-order checker (-Dlockcheck=true). Each thread keeps the locks
// it holds, in the order taken; runtime_lock refuses a lock whose rank is
// not greater than every held one's (see enum LockRank in runtime.h).
// Thread-local, not per M: locks are taken and released on the same
// thread (a parking G's lock is released by park0 on its M's g0), and
// threads without an M (the template thread, sysmon) lock too.
enum { MaxHeldLocks = 16 };

static _Thread_local struct
{
	int32	n;
	Lock*	held[MaxHeldLocks];
} lockheld;

static const char *lockranknames[NumLockRank] = {
	[LockRankNone]		= "unranked lock",
	[LockRankGc]		= "gclock",
	[LockRankRoots]		= "rootslock",
	[LockRankFin]		= "finlock",
	[LockRankTimers]	= "timers.lock",
	[LockRankHchan]		= "hchan.lock",
	[LockRankSema]		= "sema.lock",
	[LockRankSched]		= "sched.lock",
	[LockRankAllm]		= "allmlock",
	[LockRankTempl]		= "templ.lock",
	[LockRankAllg]		= "allglock",
	[LockRankGfree]		= "sched.gflock",
	[LockRankStack]		= "stacklock",
	[LockRankWork]		= "work.lock",
	[LockRankProf]		= "proflock",
	[LockRankSettype]	= "settype_lock",
	[LockRankSpanSpecial]	= "span.specialLock",
	[LockRankMCentral]	= "mcentral.lock",
	[LockRankMHeap]		= "mheap.lock",
	[LockRankSpecial]	= "mheap.speciallock",
	[LockRankPersistent]	= "persistent.lock",
	[LockRankLeaf]		= "leaf lock",
};

static const char*
lockrankname(uint32 rank)
{
	if(rank >= NumLockRank)
		return "lock with a bad rank";
	return lockranknames[rank];
}

static void
lockorder(Lock *l)
{
	static char msg[128];
	int32 i;
	Lock *top;

	if(l->rank == LockRankNone || l->rank >= NumLockRank) {
		runtime_printf("runtime: lock %p has rank %u\n", (void*)l, l->rank);
		runtime_throw("lock order violation: unranked lock");
	}
	top = nil;
	for(i = 0; i < lockheld.n; i++)
		if(top == nil || lockheld.held[i]->rank > top->rank)
			top = lockheld.held[i];
	if(top != nil && top->rank >= l->rank) {
		snprintf(msg, sizeof msg, "lock order violation: %s then %s",
			lockrankname(top->rank), lockrankname(l->rank));
		runtime_throw(msg);
	}
	if(lockheld.n == MaxHeldLocks)
		runtime_throw("lock order: too many locks held");
	lockheld.held[lockheld.n++] = l;
}

static void
unlockorder(Lock *l)
{
	int32 i;

	for(i = lockheld.n-1; i >= 0; i--) {
		if(lockheld.held[i] == l) {
			lockheld.held[i] = lockheld.held[--lockheld.n];
			return;
		}
	}
	runtime_throw("lock order: unlock of a lock this thread does not hold");
}
#else
static inline void lockorder(Lock *l) { (void)l; }
static inline void unlockorder(Lock *l) { (void)l; }
#endif

void
runtime_lock(Lock *l)
{
	M *mp;
	uint32 i, v, wait, spin;

	mp = runtime_m();
	if(mp != nil && mp->locks++ < 0)
		runtime_throw("runtime_lock: lock count");
	// After m->locks: the suspension signal stops only an M that holds
	// no lock, and its handler takes sched.lock; were l already on this
	// thread's list, that would read as "l then sched.lock".
	lockorder(l);

	// Speculative grab for lock.
	v = runtime_xchg(&l->key, MUTEX_LOCKED);
	if(v == MUTEX_UNLOCKED)
		return;

	// wait is either MUTEX_LOCKED or MUTEX_SLEEPING depending on whether
	// there is a thread sleeping on this mutex. If we ever change l->key
	// from MUTEX_SLEEPING to some other value, we must be careful to
	// change it back to MUTEX_SLEEPING before returning, so that other
	// sleeping threads are not forgotten.
	wait = v;

	// On a uniprocessor, there is no point spinning.
	spin = 0;
	if(runtime_ncpu > 1)
		spin = ACTIVE_SPIN;

	for(;;) {
		// Try for lock, spinning.
		for(i = 0; i < spin; i++) {
			while(__atomic_load_n(&l->key, __ATOMIC_RELAXED) == MUTEX_UNLOCKED)
				if(runtime_cas(&l->key, MUTEX_UNLOCKED, wait))
					return;
			runtime_procyield(ACTIVE_SPIN_CNT);
		}

		// Try for lock, rescheduling.
		for(i = 0; i < PASSIVE_SPIN; i++) {
			while(__atomic_load_n(&l->key, __ATOMIC_RELAXED) == MUTEX_UNLOCKED)
				if(runtime_cas(&l->key, MUTEX_UNLOCKED, wait))
					return;
			runtime_osyield();
		}

		// Sleep.
		v = runtime_xchg(&l->key, MUTEX_SLEEPING);
		if(v == MUTEX_UNLOCKED)
			return;
		wait = MUTEX_SLEEPING;
		runtime_futexsleep(&l->key, MUTEX_SLEEPING, -1);
	}
}

void
runtime_unlock(Lock *l)
{
	M *mp;
	uint32 v;

	v = runtime_xchg(&l->key, MUTEX_UNLOCKED);
	if(v == MUTEX_UNLOCKED)
		runtime_throw("unlock of unlocked lock");
	unlockorder(l);
	if(v == MUTEX_SLEEPING)
		runtime_futexwakeup(&l->key, 1);

	mp = runtime_m();
	if(mp != nil && --mp->locks < 0)
		runtime_throw("runtime_unlock: lock count");
}

void
runtime_noteclear(Note *n)
{
	n->key = 0;
}

void
runtime_notewakeup(Note *n)
{
	uint32 old;

	old = runtime_xchg(&n->key, 1);
	if(old != 0) {
		runtime_printf("notewakeup - double wakeup (%u)\n", old);
		runtime_throw("notewakeup - double wakeup");
	}
	runtime_futexwakeup(&n->key, 1<<30);
}

void
runtime_notesleep(Note *n)
{
	while(runtime_atomicload(&n->key) == 0)
		runtime_futexsleep(&n->key, 0, -1);
}

bool
runtime_notetsleep(Note *n, int64 ns)
{
	int64 deadline, now;

	if(ns < 0) {
		runtime_notesleep(n);
		return true;
	}
	if(runtime_atomicload(&n->key) != 0)
		return true;
	deadline = runtime_nanotime() + ns;
	for(;;) {
		runtime_futexsleep(&n->key, 0, ns);
		if(runtime_atomicload(&n->key) != 0)
			return true;
		now = runtime_nanotime();
		if(now >= deadline)
			return false;
		ns = deadline - now;
	}
}
