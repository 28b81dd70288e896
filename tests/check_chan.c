// check_chan: channel semantics — ordering, close, buffered capacity,
// non-blocking operations — under GOMAXPROCS 1, 2 and 4, and the fatal
// misuses (send on closed, close of closed or nil, deadlock).
#include <stdint.h>

#include "testutil.h"

static const int procs[] = { 1, 2, 4 };

// Unbuffered ping-pong: values arrive in order.
static GortChan *ping, *pong;

static void
ponger(void *arg)
{
	long v;

	(void)arg;
	while(gort_chan_recv(ping, &v)) {
		v++;
		gort_chan_send(pong, &v);
	}
	gort_chan_close(pong);
}

GORT_TEST(test_unbuffered_pingpong)
{
	long i, v, bad = -1;
	int k;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		ping = gort_chan_make(sizeof(long), 0);
		pong = gort_chan_make(sizeof(long), 0);
		gort_go(ponger, NULL);
		for(i = 0; i < 10000; i++) {
			gort_chan_send(ping, &i);
			if(!gort_chan_recv(pong, &v) || v != i+1)
				bad = i;
		}
		gort_chan_close(ping);
		ck_assert(!gort_chan_recv(pong, &v));	// closed by the ponger
		ck_assert_msg(bad < 0, "GOMAXPROCS %d: round %ld came back wrong", procs[k], bad);
	}
}

// Several producers on a buffered channel: each producer's values arrive
// in its order; the channel never holds more than its capacity.
enum { NPROD = 4, NPER = 5000, CAP = 7 };
static GortChan *q, *done;
static uint32_t overcap;

static void
producer(void *arg)
{
	long id = (long)(intptr_t)arg, i, v;

	for(i = 0; i < NPER; i++) {
		v = id << 32 | i;
		gort_chan_send(q, &v);
		if(gort_chan_len(q) > CAP)
			__atomic_store_n(&overcap, 1, __ATOMIC_SEQ_CST);
	}
	gort_chan_send(done, &id);
}

GORT_TEST(test_buffered_fifo_per_producer)
{
	long next[NPROD], v, id, got;
	int k, i, bad;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		q = gort_chan_make(sizeof(long), CAP);
		done = gort_chan_make(sizeof(long), NPROD);
		ck_assert_uint_eq(gort_chan_cap(q), CAP);
		memset(next, 0, sizeof next);
		for(i = 0; i < NPROD; i++)
			gort_go(producer, (void*)(intptr_t)i);
		bad = 0;
		for(got = 0; got < NPROD*NPER; got++) {
			ck_assert(gort_chan_recv(q, &v));
			id = v >> 32;
			if(id < 0 || id >= NPROD || (v & 0xffffffff) != next[id]) {
				bad = 1;
				break;
			}
			next[id]++;
		}
		ck_assert_msg(!bad, "GOMAXPROCS %d: value %#lx out of order", procs[k], v);
		for(i = 0; i < NPROD; i++)
			ck_assert(gort_chan_recv(done, &id));
		ck_assert_uint_eq(gort_chan_len(q), 0);
		ck_assert_uint_eq(__atomic_load_n(&overcap, __ATOMIC_SEQ_CST), 0);
	}
}

// Capacity: trysend succeeds exactly cap times on an unread channel.
GORT_TEST(test_buffered_capacity)
{
	GortChan *c;
	long v, i;
	bool closed;

	c = gort_chan_make(sizeof(long), 5);
	for(i = 0; i < 5; i++) {
		ck_assert(gort_chan_trysend(c, &i));
		ck_assert_uint_eq(gort_chan_len(c), (size_t)i+1);
	}
	ck_assert(!gort_chan_trysend(c, &i));	// full
	for(i = 0; i < 5; i++) {
		ck_assert(gort_chan_tryrecv(c, &v, &closed));
		ck_assert(!closed);
		ck_assert_int_eq(v, i);
	}
	ck_assert(!gort_chan_tryrecv(c, &v, &closed));	// empty, open
	ck_assert(!closed);
	// Unbuffered: no partner, no transfer.
	c = gort_chan_make(sizeof(long), 0);
	ck_assert(!gort_chan_trysend(c, &i));
	ck_assert(!gort_chan_tryrecv(c, &v, &closed));
	ck_assert_uint_eq(gort_chan_cap(c), 0);
	ck_assert_uint_eq(gort_chan_len(NULL), 0);
	ck_assert(!gort_chan_trysend(NULL, &i));	// nil channel: never ready
	ck_assert(!gort_chan_tryrecv(NULL, &v, &closed));
}

// Close: buffered values drain first, then zero values with ok=false;
// blocked receivers all wake with ok=false.
static GortChan *cc;
static uint32_t woke_closed;

static void
waiter(void *arg)
{
	long v = 99;

	(void)arg;
	if(!gort_chan_recv(cc, &v) && v == 0)
		__atomic_add_fetch(&woke_closed, 1, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_close)
{
	GortChan *c;
	long v, i;
	bool closed;
	int k, n;

	c = gort_chan_make(sizeof(long), 3);
	for(i = 1; i <= 3; i++)
		gort_chan_send(c, &i);
	gort_chan_close(c);
	for(i = 1; i <= 3; i++) {
		ck_assert(gort_chan_recv(c, &v));
		ck_assert_int_eq(v, i);
	}
	v = 7;
	ck_assert(!gort_chan_recv(c, &v));
	ck_assert_int_eq(v, 0);
	ck_assert(gort_chan_tryrecv(c, &v, &closed));
	ck_assert(closed);
	ck_assert(!gort_chan_recv(c, NULL));

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		for(n = 0; n < 2; n++) {	// unbuffered, then buffered
			cc = gort_chan_make(sizeof(long), n * 4);
			__atomic_store_n(&woke_closed, 0, __ATOMIC_SEQ_CST);
			for(i = 0; i < 10; i++)
				gort_go(waiter, NULL);
			gort_sleep(2000000);	// let them block
			gort_chan_close(cc);
			for(i = 0; i < 1000 && __atomic_load_n(&woke_closed, __ATOMIC_SEQ_CST) < 10; i++)
				gort_sleep(1000000);
			ck_assert_uint_eq(__atomic_load_n(&woke_closed, __ATOMIC_SEQ_CST), 10);
		}
	}
}

// A zero-size element channel as a done signal / semaphore.
static GortChan *sem;

static void
signaller(void *arg)
{
	(void)arg;
	gort_chan_send(sem, NULL);
}

GORT_TEST(test_zero_size_elements)
{
	int i;

	sem = gort_chan_make(0, 0);
	for(i = 0; i < 100; i++)
		gort_go(signaller, NULL);
	for(i = 0; i < 100; i++)
		ck_assert(gort_chan_recv(sem, NULL));
	sem = gort_chan_make(0, 3);
	ck_assert(gort_chan_trysend(sem, NULL));
	ck_assert_uint_eq(gort_chan_len(sem), 1);
	ck_assert(gort_chan_recv(sem, NULL));
}

// 1000 goroutines each send one value; the receiver sums them.
static GortChan *sumc;

static void
sender(void *arg)
{
	long v = (long)(intptr_t)arg;

	gort_chan_send(sumc, &v);
}

GORT_TEST(test_many_senders)
{
	long v, sum, want;
	int k, i;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		sumc = gort_chan_make(sizeof(long), k == 2 ? 16 : 0);
		for(i = 1; i <= 1000; i++)
			gort_go(sender, (void*)(intptr_t)i);
		sum = 0;
		for(i = 0; i < 1000; i++) {
			ck_assert(gort_chan_recv(sumc, &v));
			sum += v;
		}
		want = 1000L*1001/2;
		ck_assert_int_eq(sum, want);
	}
}

// Large elements are copied whole.
typedef struct Big { long w[40]; } Big;
static GortChan *bigc;

static void
bigsender(void *arg)
{
	Big b;
	int i, j;

	(void)arg;
	for(j = 0; j < 100; j++) {
		for(i = 0; i < 40; i++)
			b.w[i] = j * 100 + i;
		gort_chan_send(bigc, &b);
	}
}

GORT_TEST(test_big_elements)
{
	Big b;
	int i, j, bad = -1;

	for(i = 0; i < 2; i++) {
		bigc = gort_chan_make(sizeof(Big), i * 3);
		gort_go(bigsender, NULL);
		for(j = 0; j < 100; j++) {
			ck_assert(gort_chan_recv(bigc, &b));
			if(b.w[0] != j * 100 || b.w[39] != j * 100 + 39)
				bad = j;
		}
		ck_assert_msg(bad < 0, "element %d corrupted", bad);
	}
}

// ---- death tests --------------------------------------------------------------------

static void
send_closed_body(void *arg)
{
	GortChan *c = gort_chan_make(sizeof(int), 1);
	int v = 1;

	(void)arg;
	gort_chan_close(c);
	gort_chan_send(c, &v);
}

static void
send_closed_blocked(void *arg)
{
	int v = 1;

	gort_chan_send(arg, &v);	// blocks, then the channel is closed
}

static void
send_closed_wakeup_body(void *arg)
{
	GortChan *c = gort_chan_make(sizeof(int), 0);

	(void)arg;
	gort_go(send_closed_blocked, c);
	gort_sleep(5000000);
	gort_chan_close(c);
	gort_sleep(1000000000);
}

static void
close_closed_body(void *arg)
{
	GortChan *c = gort_chan_make(sizeof(int), 0);

	(void)arg;
	gort_chan_close(c);
	gort_chan_close(c);
}

static void
close_nil_body(void *arg)
{
	(void)arg;
	gort_chan_close(NULL);
}

static void
recv_deadlock_body(void *arg)
{
	GortChan *c = gort_chan_make(sizeof(int), 0);
	int v;

	(void)arg;
	gort_chan_recv(c, &v);	// nobody will ever send
}

static void
nil_chan_deadlock_body(void *arg)
{
	int v;

	(void)arg;
	gort_chan_recv(NULL, &v);	// blocks forever
}

static void
make_bad_body(void *arg)
{
	(void)arg;
	gort_chan_make(1 << 16, 1);
}

static void
make_huge_body(void *arg)
{
	(void)arg;
	gort_chan_make(8, (size_t)1 << 60);
}

START_TEST(test_chan_misuse)
{
	expect_fatal(send_closed_body, NULL, "send on closed channel");
	expect_fatal(send_closed_wakeup_body, NULL, "send on closed channel");
	expect_fatal(close_closed_body, NULL, "close of closed channel");
	expect_fatal(close_nil_body, NULL, "close of nil channel");
	expect_fatal(make_bad_body, NULL, "makechan: invalid channel element type");
	expect_fatal(make_huge_body, NULL, "makechan: size out of range");
}
END_TEST

START_TEST(test_chan_deadlock)
{
	expect_fatal(recv_deadlock_body, NULL, "all goroutines are asleep - deadlock!");
	expect_fatal(nil_chan_deadlock_body, NULL, "all goroutines are asleep - deadlock!");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chan");
	TCase *tc;

	tc = new_tcase("semantics");
	tcase_add_test(tc, test_unbuffered_pingpong);
	tcase_add_test(tc, test_buffered_fifo_per_producer);
	tcase_add_test(tc, test_buffered_capacity);
	tcase_add_test(tc, test_close);
	tcase_add_test(tc, test_zero_size_elements);
	tcase_add_test(tc, test_many_senders);
	tcase_add_test(tc, test_big_elements);
	suite_add_tcase(s, tc);

	tc = new_tcase("death");
	tcase_add_test(tc, test_chan_misuse);
	tcase_add_test(tc, test_chan_deadlock);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
