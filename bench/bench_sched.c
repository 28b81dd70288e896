// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of Go's runtime tests, Copyright 2009 The Go Authors.

// bench_sched: scheduler and channel benchmarks with the names of Go's
// own (runtime/proc_test.go and chan_test.go), so that the lines compare
// with `go test -bench` on Go's runtime, each with a pthread baseline in
// the same process where one makes sense, and the ratio.
//
//	bench_sched [-bench=regexp] [-benchtime=d] [-cpu=list]    (see bench_malloc.c)
//
//	CreateGoroutines      each goroutine creates the next, one chain of N (Go's)
//	CreateGoroutinesParallel  the same with GOMAXPROCS chains of N/GOMAXPROCS (Go's):
//	                      the same as CreateGoroutines unless run with -cpu=2 or GOMAXPROCS=2
//	PingPongHog           ping-pong on GOMAXPROCS 1 beside a CPU hog (Go 1.5's);
//	                      the hog is a C loop, preempted only by sysmon (10 ms).
//	                      Go before 1.5 (no runnext) took 684 us/op, Go 1.5 825 ns/op
//	                      (the commit that added runnext, e870f06c)
//	ChanSync              two goroutines in lock-step on an unbuffered channel (Go's)
//	ChanProdCons0/10/100  producers and consumers on a channel of that size (Go's)
//	ContextSwitch         two goroutines alternating through Gosched: ns per switch
//	GogoSwitch            two bare stacks switching with the assembly routine: the floor
//
// Run with -cpu=1,2 for Go's GOMAXPROCS=2 figures (go test -cpu=1,2).
//
// pthread baselines: CreateGoroutines/pthread is pthread_create + join;
// ContextSwitch/pthread and PingPong's are two threads handing a token
// through a futex. Measured, never asserted. The last lines measure
// 100,000 idle goroutines (time to start them until all are blocked,
// RSS), and the same again with the Gs and stacks of the exited ones.

#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "benchutil.h"
#include "runtime.h"
#include "sanitizer.h"

enum { CallsPerSched = 1000 };

static void
waitall(GortChan *c, int n)
{
	bool v;

	while(n-- > 0)
		gort_chan_recv(c, &v);
}

// ---- CreateGoroutines --------------------------------------------------------------

static GortChan *createdone;

static void
createchain(void *arg)
{
	intptr_t n = (intptr_t)arg;
	bool t = true;

	if(n == 0) {
		gort_chan_send(createdone, &t);
		return;
	}
	gort_go(createchain, (void*)(n - 1));
}

// Go's benchmarkCreateGoroutines: procs chains of n/procs goroutines.
static void
createchains(int64_t n, int procs)
{
	int i;

	createdone = gort_chan_make(sizeof(bool), 0);
	for(i = 0; i < procs; i++)
		gort_go(createchain, (void*)(intptr_t)(n / procs));
	waitall(createdone, procs);
}

static void*
gort_create(int64_t n)
{
	createchains(n, 1);
	return NULL;
}

static void*
gort_createparallel(int64_t n)
{
	createchains(n, gort_gomaxprocs(0));
	return NULL;
}

static void*
nothread(void *arg)
{
	return arg;
}

static void*
pthread_createjoin(int64_t n)
{
	pthread_t t;
	int64_t i;

	for(i = 0; i < n; i++) {
		if(pthread_create(&t, NULL, nothread, NULL) != 0)
			abort();
		pthread_join(t, NULL);
	}
	return NULL;
}

// ---- ping-pong -----------------------------------------------------------------------

static GortChan *ping, *pong, *stop, *done;

static void
hog(void *arg)
{
	bool v, closed;

	(void)arg;
	for(;;)
		if(gort_chan_tryrecv(stop, &v, &closed)) {
			v = true;
			gort_chan_send(done, &v);
			return;
		}
}

static void
ponger(void *arg)
{
	int64_t n = (int64_t)(intptr_t)arg, j;
	bool v;

	for(j = 0; j < n; j++) {
		gort_chan_recv(ping, &v);
		gort_chan_send(pong, &v);
	}
	gort_chan_close(stop);
	v = true;
	gort_chan_send(done, &v);
}

static void
pinger(void *arg)
{
	int64_t n = (int64_t)(intptr_t)arg, i;
	bool v;

	for(i = 0; i < n; i++) {
		gort_chan_recv(pong, &v);
		gort_chan_send(ping, &v);
	}
	v = true;
	gort_chan_send(done, &v);
}

static void*
gort_pingponghog(int64_t n)
{
	int prev;
	bool v = true;

	prev = gort_gomaxprocs(1);
	stop = gort_chan_make(sizeof(bool), 0);
	done = gort_chan_make(sizeof(bool), 0);
	ping = gort_chan_make(sizeof(bool), 0);
	pong = gort_chan_make(sizeof(bool), 0);
	gort_go(hog, NULL);
	gort_go(ponger, (void*)(intptr_t)n);
	gort_go(pinger, (void*)(intptr_t)n);
	gort_chan_send(ping, &v);	// start
	gort_chan_recv(stop, &v);	// closed by the ponger after n rounds
	gort_chan_recv(ping, &v);	// let the last pinger send exit
	waitall(done, 3);
	gort_gomaxprocs(prev);
	return NULL;
}

// Two threads handing a token through a futex word: the OS's context switch.
static uint32_t token;

static void
futexwait(uint32_t *p, uint32_t v)
{
	while(__atomic_load_n(p, __ATOMIC_ACQUIRE) == v)
		syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void
futexpass(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
	syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void*
tokenthread(void *arg)
{
	int64_t n = (int64_t)(intptr_t)arg, i;

	for(i = 0; i < n; i++) {
		futexwait(&token, 0);	// wait for 1
		futexpass(&token, 0);
	}
	return NULL;
}

// n round trips (2n switches) between two threads.
static void*
pthread_pingpong(int64_t n)
{
	pthread_t t;
	int64_t i;

	token = 0;
	pthread_create(&t, NULL, tokenthread, (void*)(intptr_t)n);
	for(i = 0; i < n; i++) {
		futexpass(&token, 1);
		futexwait(&token, 1);	// wait for 0
	}
	pthread_join(t, NULL);
	return NULL;
}

// ---- ChanSync, ChanProdCons ------------------------------------------------------------

static int32_t remaining;
static GortChan *myc, *fin;

static void
syncer(void *arg)
{
	int32_t i;
	int g;
	int v = 0;
	bool t = true;

	(void)arg;
	for(;;) {
		i = __atomic_sub_fetch(&remaining, 1, __ATOMIC_SEQ_CST);
		if(i < 0)
			break;
		for(g = 0; g < CallsPerSched; g++) {
			if(i%2 == 0) {
				gort_chan_recv(myc, &v);
				gort_chan_send(myc, &v);
			} else {
				gort_chan_send(myc, &v);
				gort_chan_recv(myc, &v);
			}
		}
	}
	gort_chan_send(fin, &t);
}

static void*
gort_chansync(int64_t n)
{
	const int procs = 2;
	int p;

	remaining = (int32_t)(n / CallsPerSched / procs * procs);
	fin = gort_chan_make(sizeof(bool), procs);
	myc = gort_chan_make(sizeof(int), 0);
	for(p = 0; p < procs; p++)
		gort_go(syncer, NULL);
	waitall(fin, procs);
	return NULL;
}

static void
producer(void *arg)
{
	int g, one = 1, zero = 0;
	bool t = true;

	(void)arg;
	while(__atomic_sub_fetch(&remaining, 1, __ATOMIC_SEQ_CST) >= 0)
		for(g = 0; g < CallsPerSched; g++)
			gort_chan_send(myc, &one);
	gort_chan_send(myc, &zero);
	gort_chan_send(fin, &t);
}

static void
consumer(void *arg)
{
	int v;
	bool t = true;

	(void)arg;
	for(;;) {
		gort_chan_recv(myc, &v);
		if(v == 0)
			break;
	}
	gort_chan_send(fin, &t);
}

static void
prodcons(int64_t n, int chansize)
{
	int procs = gort_gomaxprocs(0), p;

	remaining = (int32_t)(n / CallsPerSched);
	fin = gort_chan_make(sizeof(bool), 2*procs);
	myc = gort_chan_make(sizeof(int), chansize);
	for(p = 0; p < procs; p++) {
		gort_go(producer, NULL);
		gort_go(consumer, NULL);
	}
	waitall(fin, 2*procs);
}

static void* gort_prodcons0(int64_t n) { prodcons(n, 0); return NULL; }
static void* gort_prodcons10(int64_t n) { prodcons(n, 10); return NULL; }
static void* gort_prodcons100(int64_t n) { prodcons(n, 100); return NULL; }

// ---- context switches --------------------------------------------------------------------

static void
yielder(void *arg)
{
	int64_t n = (int64_t)(intptr_t)arg, i;
	bool t = true;

	for(i = 0; i < n; i++)
		gort_gosched();
	gort_chan_send(fin, &t);
}

// n switches: two goroutines (besides main, which waits) yield n/2 times each.
static void*
gort_contextswitch(int64_t n)
{
	int prev = gort_gomaxprocs(1);

	fin = gort_chan_make(sizeof(bool), 2);
	gort_go(yielder, (void*)(intptr_t)(n/2));
	gort_go(yielder, (void*)(intptr_t)(n - n/2));
	waitall(fin, 2);
	gort_gomaxprocs(prev);
	return NULL;
}

// n switches between two threads (n/2 round trips).
static void*
pthread_contextswitch(int64_t n)
{
	return pthread_pingpong((n + 1) / 2);
}

// The floor: two bare contexts switching with the assembly routine.
// Under AddressSanitizer each switch is announced to it, as the
// scheduler's are (sanitizer.h; empty otherwise).
static uintptr mainsp, othersp;
static G otherg, *maing;
static void *mainfake, *otherfake;

static void
bounce(void *arg)
{
	(void)arg;
	for(;;) {
		runtime_asan_start_switch(&otherfake, maing);
		runtime_gogo_switch(&othersp, mainsp);
		runtime_asan_finish_switch(otherfake);
	}
}

static void*
gogo_switch(int64_t n)
{
	static byte *stack;
	int64_t i;

	if(stack == NULL)
		stack = runtime_stackalloc(64<<10);
	otherg.fn = bounce;
	otherg.stack0 = stack;
	otherg.stacksize = 64<<10;
	// The first switch starts bounce through runtime_gostart, which
	// needs a current M: keep the caller's (we never leave this M).
	othersp = runtime_gostartstack(stack + (64<<10), &otherg);
	runtime_m()->locks++;	// gostart drops one; keep the count balanced
	maing = runtime_m()->curg;
	for(i = 0; i < n; i += 2) {
		runtime_asan_start_switch(&mainfake, &otherg);
		runtime_gogo_switch(&mainsp, othersp);
		runtime_asan_finish_switch(mainfake);
	}
	return NULL;
}

// ---- the table ----------------------------------------------------------------------------

static const Bench benches[] = {
	{"CreateGoroutines", 0, {{NULL, gort_create, true, NULL}, {"pthread", pthread_createjoin, false, NULL}}, 2},
	{"CreateGoroutinesParallel", 0, {{NULL, gort_createparallel, true, NULL}}, 1},
	{"PingPongHog", 0, {{NULL, gort_pingponghog, true, NULL}, {"pthread", pthread_pingpong, false, NULL}}, 2},
	{"ChanSync", 0, {{NULL, gort_chansync, true, NULL}}, 1},
	{"ChanProdCons0", 0, {{NULL, gort_prodcons0, true, NULL}}, 1},
	{"ChanProdCons10", 0, {{NULL, gort_prodcons10, true, NULL}}, 1},
	{"ChanProdCons100", 0, {{NULL, gort_prodcons100, true, NULL}}, 1},
	{"ContextSwitch", 0, {{NULL, gort_contextswitch, true, NULL}, {"pthread", pthread_contextswitch, false, NULL}}, 2},
	{"GogoSwitch", 0, {{NULL, gogo_switch, false, NULL}}, 1},
};

static void
header(void)
{
	printf("# gort scheduler and channels; GOMAXPROCS=%d, benchtime=%s; names as Go's runtime benchmarks\n",
	       bench_gomaxprocs(), bench_benchtime());
	printf("# pthread baselines in the same process: CreateGoroutines = pthread_create+join,"
	       " PingPongHog = one futex round trip (no hog), ContextSwitch = one futex handoff\n");
	printf("# ContextSwitch and GogoSwitch report ns per switch; PingPongHog, ContextSwitch and GogoSwitch run on one P whatever -cpu says\n");
	printf("# CreateGoroutinesParallel runs one chain per P: with -cpu=1,2 (as go test -cpu) for the 2-P figures\n");
}

// 100,000 goroutines blocked at once (in a channel receive): how long
// from the first gort_go until the last has blocked, how much RSS. A
// first round gets new Gs and stacks (one page of each is touched); the
// second reuses those of the first round's, which have exited.
enum { NIdle = 100000 };
static GortChan *release;
static int32_t blocked;

static void
idler(void *arg)
{
	bool v;

	(void)arg;
	__atomic_add_fetch(&blocked, 1, __ATOMIC_SEQ_CST);
	gort_chan_recv(release, &v);
}

static long
rssmb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if(f != NULL) {
		if(fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * sysconf(_SC_PAGESIZE) >> 20;
}

// One round: returns the ns from the first gort_go until all have
// blocked; *created gets the ns of the gort_go loop alone.
static int64_t
idleround(int64_t *created)
{
	int64_t t0, t1;
	int i;

	release = gort_chan_make(sizeof(bool), 0);
	blocked = 0;
	t0 = gort_nanotime();
	for(i = 0; i < NIdle; i++)
		gort_go(idler, NULL);
	*created = gort_nanotime() - t0;
	while(__atomic_load_n(&blocked, __ATOMIC_SEQ_CST) < NIdle)
		gort_gosched();
	gort_gosched();	// the last one to count has blocked too
	t1 = gort_nanotime();
	return t1 - t0;
}

static void
footer(void)
{
	static GortMemStats ms;
	int64_t t, created;
	long rss0, rss1;
	int base;

	base = gort_num_goroutine();
	rss0 = rssmb();
	t = idleround(&created);
	rss1 = rssmb();
	gort_read_memstats(&ms);
	printf("# %d idle goroutines (blocked in a channel receive): all blocked %.1f ms after the first gort_go"
	       " (%.0f ns each; the gort_go loop %.0f ns each, new stacks); RSS %ld MB -> %ld MB (+%.1f KB each);"
	       " StackSys %" PRIu64 " MB\n",
	       NIdle, t / 1e6, (double)t / NIdle, (double)created / NIdle, rss0, rss1,
	       (rss1 - rss0) * 1024.0 / NIdle, ms.StackSys >> 20);
	gort_chan_close(release);
	while(gort_num_goroutine() > base)
		gort_gosched();
	t = idleround(&created);
	printf("# the same again, with the Gs and stacks of those that exited: all blocked in %.1f ms"
	       " (%.0f ns each; the gort_go loop %.0f ns each); RSS %ld MB\n",
	       t / 1e6, (double)t / NIdle, (double)created / NIdle, rssmb());
	gort_chan_close(release);
	while(gort_num_goroutine() > base)
		gort_gosched();
}

int
main(int argc, char **argv)
{
	return bench_main("bench_sched", argc, argv, benches, sizeof benches / sizeof benches[0], header, footer);
}
