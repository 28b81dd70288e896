// check_sched: the G/M/P scheduler. Ports of Go's proc_test.go
// (TestSchedLocalQueue, TestSchedLocalQueueSteal, TestStopTheWorldDeadlock,
// TestPreemption, TestPreemptionGC, TestGCFairness) plus: 100,000
// goroutines alive at once, goroutines migrating between Ms with their
// stacks intact, sleep, Goexit, GOMAXPROCS, and the death tests for
// deadlock and stack overflow.
#include <fcntl.h>
#include <stdint.h>

#include "testutil.h"
#include "malloc.h"

static uint32_t
aload(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void
astore(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

// ---- run queues (Go's export_test.go hooks) -----------------------------------

GORT_TEST(test_sched_local_queue)
{
	runtime_testSchedLocalQueue();	// throws on a bad element
}

GORT_TEST(test_sched_local_queue_steal)
{
	runtime_testSchedLocalQueueSteal();	// each G seen exactly once, half stolen
}

// ---- goroutines ------------------------------------------------------------------

static uint32_t ran[1000];

static void
mark(void *arg)
{
	__atomic_add_fetch(&ran[(uintptr_t)arg], 1, __ATOMIC_SEQ_CST);
}

static void
go_each_once(int procs)
{
	void *args[1000];
	int i, bad = -1;

	gort_gomaxprocs(procs);
	memset(ran, 0, sizeof ran);
	for(i = 0; i < 1000; i++)
		args[i] = (void*)(uintptr_t)i;
	go_and_wait(1000, mark, args);
	for(i = 0; i < 1000; i++)
		if(ran[i] != 1)
			bad = i;
	ck_assert_msg(bad < 0, "GOMAXPROCS %d: goroutine %d ran %u times", procs, bad, bad >= 0 ? ran[bad] : 0);
}

GORT_TEST(test_go_runs_each_once)
{
	go_each_once(1);
	go_each_once(2);
	go_each_once(4);
}

// 100,000 goroutines alive at once, all parked on one semaphore.
enum { NMANY = 100000 };
static Sema gate = { .lock = LOCK_INIT(LockRankSema) };
static uint32_t started, finished;

static void
parked(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	runtime_semacquire(&gate);
	__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
}

static long
rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if(f != NULL) {
		if(fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

GORT_TEST(test_100k_goroutines)
{
	GortMemStats ms;
	int i, n;
	int64_t t0, t1;

	gort_gomaxprocs(2);
	t0 = gort_nanotime();
	for(i = 0; i < NMANY; i++)
		gort_go(parked, NULL);
	while(aload(&started) < NMANY)
		gort_gosched();
	t1 = gort_nanotime();
	n = gort_num_goroutine();
	ck_assert_int_ge(n, NMANY + 1);
	gort_read_memstats(&ms);
	ck_assert_uint_ge(ms.StackInuse, (uint64)NMANY * 4096);
	ck_assert_uint_eq(aload(&finished), 0);
	fprintf(stderr, "test_100k_goroutines: %d goroutines alive; started in %.1f ms; RSS %ld MB; StackInuse %llu MB\n",
		n, (t1 - t0) / 1e6, rss_kb() / 1024, (unsigned long long)(ms.StackInuse >> 20));
	for(i = 0; i < NMANY; i++)
		runtime_semrelease(&gate);
	while(aload(&finished) < NMANY)
		gort_gosched();
	// They are gone (their Gs and stacks wait for reuse).
	WAIT_UNTIL(gort_num_goroutine() == 1);
}

// Goroutines migrating between Ms keep their stacks and values.
enum { NMIG = 16, MIGROUNDS = 3000 };
static uint64_t msseen;	// bitmask of M ids seen

static void
migrant(void *arg)
{
	volatile uint64_t local[64];
	uintptr_t id = (uintptr_t)arg;
	uint64_t sum = 0, want;
	int i, r;

	for(i = 0; i < 64; i++) {
		local[i] = id * 1000003 + i;
		sum += local[i];
	}
	want = sum;
	for(r = 0; r < MIGROUNDS; r++) {
		int mid = runtime_m()->id;

		__atomic_or_fetch(&msseen, 1ULL << (mid & 63), __ATOMIC_SEQ_CST);
		gort_gosched();
		sum = 0;
		for(i = 0; i < 64; i++)
			sum += local[i];
		if(sum != want || local[7] != id * 1000003 + 7) {
			fprintf(stderr, "goroutine %zu: stack changed across a switch\n", (size_t)id);
			abort();
		}
		if(r % 100 == 0)
			local[r % 64] = local[r % 64];	// a store after each migration
	}
}

GORT_TEST(test_migration_keeps_stack)
{
	void *args[NMIG];
	int i, k, nms = 0;

	gort_gomaxprocs(4);
	for(i = 0; i < NMIG; i++)
		args[i] = (void*)(uintptr_t)i;
	// Which Ms run them is up to the scheduler (and the machine's load:
	// on a busy machine the idle Ms may not get a CPU for a while): try
	// for up to 5 seconds to see at least two.
	for(k = 0; k < 2500 && nms < 2; k++) {
		if(k > 0)
			gort_sleep(2000000);
		go_and_wait(NMIG, migrant, args);
		nms = 0;
		for(i = 0; i < 64; i++)
			if(msseen & (1ULL << i))
				nms++;
	}
	ck_assert_msg(nms >= 2, "goroutines ran on %d M(s): no migration exercised", nms);
}

// Goexit runs no more of the goroutine.
static uint32_t goexit_after;

static void
exiter(void *arg)
{
	(void)arg;
	gort_goexit();
	astore(&goexit_after, 1);
}

GORT_TEST(test_goexit)
{
	void *args[1] = { NULL };
	int i;

	for(i = 0; i < 10; i++)
		gort_go(exiter, NULL);
	go_and_wait(0, exiter, args);
	for(i = 0; i < 100 && gort_num_goroutine() > 1; i++)
		gort_gosched();
	ck_assert_int_eq(gort_num_goroutine(), 1);
	ck_assert_uint_eq(aload(&goexit_after), 0);
}

GORT_TEST(test_gomaxprocs)
{
	ck_assert_int_eq(gort_gomaxprocs(0), 1);	// GOMAXPROCS unset: 1, as in Go 1.3
	ck_assert_int_eq(gort_gomaxprocs(4), 1);
	ck_assert_int_eq(gort_gomaxprocs(-1), 4);
	ck_assert_int_eq(gort_gomaxprocs(3), 4);
	ck_assert_int_eq(gort_gomaxprocs(1), 3);
	ck_assert_int_eq(gort_gomaxprocs(0), 1);
}

static void
gomaxprocs_env_body(void *arg)
{
	(void)arg;
	if(gort_gomaxprocs(0) != 3)
		abort();
}

START_TEST(test_gomaxprocs_env)
{
	static const char *env[] = { "GOMAXPROCS", "3", NULL };
	int status;
	char *out = run_child(gomaxprocs_env_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x, stderr:\n%s", status, out);
	free(out);
}
END_TEST

// ---- sleep -------------------------------------------------------------------------

static int64_t wake[50];

static void
sleeper(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	int64_t t0 = gort_nanotime();

	gort_sleep((int64_t)(50 - i) * 1000000);	// 50 ms .. 1 ms
	wake[i] = gort_nanotime() - t0;
}

GORT_TEST(test_sleep)
{
	void *args[50];
	int64_t t0, dt;
	int i, bad = -1;

	t0 = gort_nanotime();
	gort_sleep(20000000);
	dt = gort_nanotime() - t0;
	ck_assert_msg(dt >= 20000000, "slept %lld ns, want >= 20 ms", (long long)dt);
	gort_sleep(0);
	gort_sleep(-5);

	for(i = 0; i < 50; i++)
		args[i] = (void*)(uintptr_t)i;
	go_and_wait(50, sleeper, args);
	for(i = 0; i < 50; i++)
		if(wake[i] < (int64_t)(50 - i) * 1000000)
			bad = i;
	ck_assert_msg(bad < 0, "sleeper %d woke after %lld ns, want >= %d ms", bad,
		bad >= 0 ? (long long)wake[bad] : 0LL, 50 - bad);
}

// ---- stopping the world and preemption ---------------------------------------------

static uint32_t stop;

static void
spinner(void *arg)
{
	volatile uint64_t x = 0;

	(void)arg;
	// A pure C loop: never calls gort.
	while(!aload(&stop))
		x++;
}

static void
stw_reader(void *arg)
{
	GortMemStats ms;
	int i;

	(void)arg;
	for(i = 0; i < 1000; i++)
		gort_read_memstats(&ms);
}

static void
gomaxprocs_changer(void *arg)
{
	int i;

	(void)arg;
	for(i = 0; i < 1000; i++)
		gort_gomaxprocs(2 + i % 2);
}

// Go's TestStopTheWorldDeadlock: stop-the-world readers against
// GOMAXPROCS changes against a spinning goroutine must finish.
GORT_TEST(test_stop_the_world_deadlock)
{
	void *args[2] = { NULL, NULL };

	gort_gomaxprocs(3);
	astore(&stop, 0);
	gort_go(spinner, NULL);
	go_and_wait(1, stw_reader, args);
	go_and_wait(1, gomaxprocs_changer, args);
	{
		// Both at once.
		GoWaitItem items[2];
		int left = 2;

		items[0] = (GoWaitItem){ stw_reader, NULL, &left };
		items[1] = (GoWaitItem){ gomaxprocs_changer, NULL, &left };
		gort_go(gowait_run, &items[0]);
		gort_go(gowait_run, &items[1]);
		while(__atomic_load_n(&left, __ATOMIC_SEQ_CST) > 0)
			gort_gosched();
	}
	astore(&stop, 1);
}

// Go's TestPreemptionGC: stop the world while goroutines spin in pure C
// loops; it must finish (the suspension signal stops them).
GORT_TEST(test_preemption_gc)
{
	GortMemStats ms;
	int i, p = 5, n = 10;

	gort_gomaxprocs(p + 1);
	astore(&stop, 0);
	for(i = 0; i < p; i++)
		gort_go(spinner, NULL);
	for(i = 0; i < n; i++) {
		gort_gosched();
		gort_read_memstats(&ms);	// a full stop-the-world
	}
	astore(&stop, 1);
}

// Go's TestPreemption: two goroutines hand a token back and forth, each
// waiting for its turn in a pure C spin loop. With GOMAXPROCS 1 this
// only finishes if a spinning goroutine is preempted (sysmon).
static uint32_t token;

static void
turn(void *arg)
{
	uint32_t g = (uint32_t)(uintptr_t)arg;
	int i;

	for(i = 0; i < 5; i++) {
		while(aload(&token) != g)
			;	// spin: no call into gort
		astore(&token, 1 - g);
	}
}

GORT_TEST(test_preemption)
{
	void *args[2] = { (void*)0, (void*)1 };

	ck_assert_int_eq(gort_gomaxprocs(0), 1);
	astore(&token, 0);
	go_and_wait(2, turn, args);
}

// Go's TestGCFairness: with GOMAXPROCS 1 and two goroutines busy writing
// to /dev/null, the main goroutine's 10 ms sleep must still end.
static uint32_t nwriters;

static void
writer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char b = 'x';

	while(!aload(&stop))
		if(write(fd, &b, 1) != 1)
			abort();
	__atomic_sub_fetch(&nwriters, 1, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_gc_fairness)
{
	int fd;

	fd = open("/dev/null", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	astore(&stop, 0);
	astore(&nwriters, 2);
	gort_go(writer, (void*)(intptr_t)fd);
	gort_go(writer, (void*)(intptr_t)fd);
	gort_sleep(10000000);
	astore(&stop, 1);
	while(aload(&nwriters) > 0)	// before closing their fd
		gort_sleep(1000000);
	close(fd);
}

// Fair alternation through gosched on one P.
static uint32_t rounds[2];

static void
yielder(void *arg)
{
	uintptr_t me = (uintptr_t)arg;
	int i;

	for(i = 0; i < 10000; i++) {
		__atomic_add_fetch(&rounds[me], 1, __ATOMIC_SEQ_CST);
		gort_gosched();
	}
}

GORT_TEST(test_gosched_alternates)
{
	void *args[2] = { (void*)0, (void*)1 };

	go_and_wait(2, yielder, args);
	ck_assert_uint_eq(rounds[0], 10000);
	ck_assert_uint_eq(rounds[1], 10000);
}

// ---- what the collector needs from a stopped world ------------------------------

// helpgc wakes idle Ms, each with another P's MCache, to run the
// collector's helper (here a test hook) while the world is stopped.
static uint32_t nhelped;
static MCache *helpercache[MaxGcproc];

static void
helper(void)
{
	M *mp = runtime_m();

	if(mp->helpgc < 1 || mp->helpgc >= MaxGcproc || mp->mcache == nil)
		abort();
	helpercache[mp->helpgc] = mp->mcache;
	__atomic_add_fetch(&nhelped, 1, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_helpgc)
{
	void *args[8];
	M *mp;
	int i, n, k;

	gort_gomaxprocs(4);
	for(i = 0; i < 8; i++)
		args[i] = (void*)(uintptr_t)i;
	go_and_wait(8, mark, args);	// leaves idle Ms behind
	if(runtime_ncpu > 1)
		WAIT_UNTIL(runtime_gcprocs() > 1);	// once they are idle
	runtime_gchelper_testhook = helper;
	for(k = 0; k < 20; k++) {
		runtime_semacquire(&runtime_worldsema);
		mp = runtime_m();
		mp->gcing = 1;
		runtime_stoptheworld();
		n = runtime_gcprocs();
		if(n > 1) {
			astore(&nhelped, 0);
			memset(helpercache, 0, sizeof helpercache);
			runtime_helpgc(n);
			while(aload(&nhelped) < (uint32_t)(n-1))
				runtime_osyield();
			for(i = 1; i < n; i++)
				if(helpercache[i] == nil || helpercache[i] == runtime_m()->mcache)
					abort();
		}
		mp = runtime_m();
		mp->gcing = 0;
		runtime_semrelease(&runtime_worldsema);
		runtime_starttheworld();
		if(k == 0)
			ck_assert_msg(n > 1 || runtime_ncpu == 1, "gcprocs %d: no idle M to help", n);
	}
	runtime_gchelper_testhook = NULL;
}

// A goroutine stopped in the middle of a C loop is scannable: the value
// it keeps only in a register is found between its saved sp and the top
// of its stack (the signal frame holds the registers).
#define MAGIC 0x5eed1e55c0ffee42ULL
static uint32_t regspinning;

static void
regspinner(void *arg)
{
	register uint64_t v __asm__("r12") = MAGIC;

	(void)arg;
	astore(&regspinning, 1);
	while(!aload(&stop))
		__asm__ volatile("" : "+r"(v));
	if(v != MAGIC)
		abort();
}

// Like the collector's stack scan: reads redzones and dead frames, so
// the sanitizers must not watch it.
NOSANITIZE static int
countmagic(uintptr sp, uintptr top)
{
	int hits = 0;

	for(; sp + 8 <= top; sp += 8)
		if(*(volatile uint64_t*)sp == MAGIC)
			hits++;
	return hits;
}

GORT_TEST(test_stopped_registers_scannable)
{
	G *gp;
	M *mp;
	uintptr i, sp, top;
	int hits, k, nfound, status;
	bool locked;

	gort_gomaxprocs(3);
	astore(&stop, 0);
	gort_go(regspinner, NULL);
	WAIT_UNTIL(aload(&regspinning));
	for(k = 0; k < 5; k++) {
		runtime_semacquire(&runtime_worldsema);
		mp = runtime_m();
		mp->gcing = 1;
		runtime_stoptheworld();
		// Everything is read while the world is stopped.
		nfound = hits = 0;
		status = -1;
		locked = false;
		for(i = 0; i < runtime_allglen; i++) {
			gp = runtime_allg[i];
			if(gp->fn != regspinner || gp->status == Gdead)
				continue;
			nfound++;
			status = gp->status;
			locked = gp->lockedm != NULL;
			sp = gp->status == Gsyscall ? gp->syscallsp : gp->sched.sp;
			top = (uintptr)gp->stack0 + gp->stacksize;
			hits += countmagic(sp, top);
		}
		mp = runtime_m();
		mp->gcing = 0;
		runtime_semrelease(&runtime_worldsema);
		runtime_starttheworld();
		ck_assert_int_eq(nfound, 1);
		ck_assert_msg(status == Grunnable && locked,
			"round %d: spinner status %d locked %d: not stopped by the signal", k, status, locked);
		ck_assert_msg(hits >= 1, "round %d: register value not on the stopped goroutine's stack", k);
	}
	astore(&stop, 1);
}

// ---- death tests ---------------------------------------------------------------------

static Sema never = { .lock = LOCK_INIT(LockRankSema) };

static void
deadlock_body(void *arg)
{
	(void)arg;
	runtime_semacquire(&never);	// nobody will ever release it
}

static void
blocked(void *arg)
{
	(void)arg;
	runtime_semacquire(&never);
}

static void
deadlock2_body(void *arg)
{
	(void)arg;
	gort_gomaxprocs(2);
	gort_go(blocked, NULL);
	gort_go(blocked, NULL);
	wait_blocked(2, blocked, "semacquire");
	runtime_semacquire(&never);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int
recurse(int n)
{
	volatile char buf[1024];

	buf[0] = (char)n;
	buf[1023] = (char)n;
	return recurse(n + 1) + buf[0] + buf[1023];
}

static void
overflow(void *arg)
{
	(void)arg;
	recurse(0);
}

static void
stack_overflow_body(void *arg)
{
	(void)arg;
	gort_go(overflow, NULL);
	// Wait while it dies; if it did not, this would end in "all
	// goroutines are asleep - deadlock!" instead.
	runtime_semacquire(&never);
}

#ifdef GORT_LOCKCHECK
// The lock-order checker (-Dlockcheck=true): an inversion, a lock taken
// twice by one thread (a self-deadlock without the checker) and a lock
// with no rank are each fatal.
static void
lockinversion_body(void *arg)
{
	static Lock leaf = LOCK_INIT(LockRankLeaf);
	static Lock outer = LOCK_INIT(LockRankSched);

	(void)arg;
	runtime_lock(&outer);	// in order: fine
	runtime_lock(&leaf);
	runtime_unlock(&leaf);
	runtime_unlock(&outer);
	runtime_lock(&leaf);
	runtime_lock(&outer);
}

static void
locktwice_body(void *arg)
{
	(void)arg;
	runtime_lock(&runtime_mheap.lock);
	gort_malloc(1<<20);	// a large object takes the heap lock
}

static void
unranked_body(void *arg)
{
	static Lock l;

	(void)arg;
	runtime_lock(&l);
}

START_TEST(test_lock_order)
{
	expect_fatal(lockinversion_body, NULL, "lock order violation: leaf lock then sched.lock");
	expect_fatal(locktwice_body, NULL, "lock order violation: mheap.lock then mheap.lock");
	expect_fatal(unranked_body, NULL, "lock order violation: unranked lock");
}
END_TEST
#endif

START_TEST(test_deadlock)
{
	expect_fatal(deadlock_body, NULL, "all goroutines are asleep - deadlock!");
	expect_fatal(deadlock2_body, NULL, "all goroutines are asleep - deadlock!");
}
END_TEST

START_TEST(test_stack_overflow)
{
	expect_fatal(stack_overflow_body, NULL, "stack overflow");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sched");
	TCase *tc;

	tc = new_tcase("runq");
	tcase_add_test(tc, test_sched_local_queue);
	tcase_add_test(tc, test_sched_local_queue_steal);
	suite_add_tcase(s, tc);

	tc = new_tcase("goroutines");
	tcase_add_test(tc, test_go_runs_each_once);
	tcase_add_test(tc, test_100k_goroutines);
	tcase_add_test(tc, test_migration_keeps_stack);
	tcase_add_test(tc, test_goexit);
	tcase_add_test(tc, test_gomaxprocs);
	tcase_add_test(tc, test_gomaxprocs_env);
	tcase_add_test(tc, test_sleep);
	tcase_add_test(tc, test_gosched_alternates);
	suite_add_tcase(s, tc);

	tc = new_tcase("stw");
	tcase_add_test(tc, test_stop_the_world_deadlock);
	tcase_add_test(tc, test_preemption_gc);
	tcase_add_test(tc, test_preemption);
	tcase_add_test(tc, test_gc_fairness);
	tcase_add_test(tc, test_helpgc);
	tcase_add_test(tc, test_stopped_registers_scannable);
	suite_add_tcase(s, tc);

	tc = new_tcase("death");
	tcase_add_test(tc, test_deadlock);
	tcase_add_test(tc, test_stack_overflow);
#ifdef GORT_LOCKCHECK
	tcase_add_test(tc, test_lock_order);
#endif
	suite_add_tcase(s, tc);

	return run_suite(s);
}
