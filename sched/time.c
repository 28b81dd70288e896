// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Timers and sleep (Go's time.goc).
//
// Sleeping goroutines park on a Timer that lives on their own stack. The
// timers sit in a binary min-heap ordered by when; one system goroutine,
// timerproc, runs the expired ones and otherwise sleeps on a note until
// the earliest deadline (notetsleepg: its P is handed off meanwhile, so a
// sleep burns no P and no spinning thread), or parks when there are no
// timers at all. A new earliest timer wakes it. Everything is protected
// by timers.lock.

#include "gort.h"
#include "malloc.h"

typedef struct Timer Timer;
// when, f and arg are set by the sleeper before addtimer, and are under
// timers.lock while the timer is in the heap.
struct Timer
{
	int32	i;		// heap index, −1 when not in the heap; timers.lock
	int64	when;
	void	(*f)(int64 now, void *arg);
	void*	arg;
};

static struct
{
	Lock	lock;
	G*	timerproc;	// lock
	bool	sleeping;	// timerproc sleeps on waitnote; lock
	bool	rescheduling;	// timerproc is parked (no timers); lock
	Note	waitnote;	// a Note; cleared and woken under lock
	Timer**	t;		// heap; lock
	int32	len;		// lock
	uintptr	cap;		// lock
} timers = { .lock = LOCK_INIT(LockRankTimers) };

static void
siftup(int32 i)
{
	Timer **t, *tmp;
	int32 p;

	t = timers.t;
	while(i > 0) {
		p = (i-1)/2;
		if(t[i]->when >= t[p]->when)
			break;
		tmp = t[i]; t[i] = t[p]; t[p] = tmp;
		t[i]->i = i;
		t[p]->i = p;
		i = p;
	}
}

static void
siftdown(int32 i)
{
	Timer **t, *tmp;
	int32 c, len;

	t = timers.t;
	len = timers.len;
	for(;;) {
		c = i*2 + 1;	// left child
		if(c >= len)
			break;
		if(c+1 < len && t[c+1]->when < t[c]->when)
			c++;
		if(t[c]->when >= t[i]->when)
			break;
		tmp = t[i]; t[i] = t[c]; t[c] = tmp;
		t[i]->i = i;
		t[c]->i = c;
		i = c;
	}
}

static void timerproc(void *arg);

// Add a timer to the heap and wake timerproc if it is now the earliest.
// timers.lock held.
static void
addtimer(Timer *t)
{
	if(t->when < 0)	// overflow
		t->when = INT64_MAX;
	if((uintptr)timers.len >= timers.cap)	// outside the GC heap: the timers are on goroutine stacks
		timers.t = runtime_SysGrow(timers.t, timers.len, &timers.cap, sizeof timers.t[0], false, &mstats.other_sys);
	t->i = timers.len++;
	timers.t[t->i] = t;
	siftup(t->i);
	if(t->i == 0) {
		// The new earliest deadline.
		if(timers.sleeping) {
			timers.sleeping = false;
			runtime_notewakeup(&timers.waitnote);
		}
		if(timers.rescheduling) {
			timers.rescheduling = false;
			runtime_ready(timers.timerproc);
		}
	}
	if(timers.timerproc == nil) {
		timers.timerproc = runtime_newproc1(timerproc, nil, true);
	}
}

// Run expired timers; sleep until the next. Never returns.
static void
timerproc(void *arg)
{
	int64 delta, now;
	Timer *t;
	void (*f)(int64, void*);
	void *farg;

	USED(arg);
	for(;;) {
		runtime_lock(&timers.lock);
		timers.sleeping = false;
		now = runtime_nanotime();
		for(;;) {
			if(timers.len == 0) {
				delta = -1;
				break;
			}
			t = timers.t[0];
			delta = t->when - now;
			if(delta > 0)
				break;
			// Remove it from the heap.
			timers.t[0] = timers.t[--timers.len];
			timers.t[0]->i = 0;
			siftdown(0);
			t->i = -1;
			f = t->f;
			farg = t->arg;
			runtime_unlock(&timers.lock);
			f(now, farg);
			runtime_lock(&timers.lock);
		}
		if(delta < 0) {
			// No timers left: park until addtimer readies us.
			timers.rescheduling = true;
			runtime_parkunlock(&timers.lock, "timer goroutine (idle)");
			continue;
		}
		// At least one timer pending: sleep until it is due.
		timers.sleeping = true;
		runtime_noteclear(&timers.waitnote);
		runtime_unlock(&timers.lock);
		runtime_notetsleepg(&timers.waitnote, delta);
	}
}

static void
readyg(int64 now, void *arg)
{
	USED(now);
	runtime_ready(arg);
}

// Put the current goroutine to sleep for ns nanoseconds.
static void
tsleep(int64 ns, const char *reason)
{
	Timer t;

	if(ns <= 0)
		return;
	t.when = runtime_nanotime() + ns;
	t.f = readyg;
	t.arg = runtime_g();
	runtime_lock(&timers.lock);
	addtimer(&t);
	runtime_parkunlock(&timers.lock, reason);
}

GORT_API void
gort_sleep(int64_t ns)
{
	runtime_mcheck("gort_sleep");
	tsleep(ns, "sleep");
}
