// check_chan: channel semantics — ordering, close, buffered capacity,
// non-blocking operations — under GOMAXPROCS 1, 2 and 4, and the fatal
// misuses (send on closed, close of closed or nil, deadlock).
#include <stdint.h>

#include "testutil.h"

#define nelem(x) (sizeof(x)/sizeof((x)[0]))

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
	ck_assert_uint_eq(gort_chan_cap(NULL), 0);
	// chan struct{} may have any capacity: it needs no buffer.
	c = gort_chan_make(0, (size_t)1 << 60);
	ck_assert_uint_eq(gort_chan_cap(c), (size_t)1 << 60);
	ck_assert(gort_chan_trysend(c, NULL));
	ck_assert_uint_eq(gort_chan_len(c), 1);
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
			wait_blocked(10, waiter, "chan receive");
			gort_chan_close(cc);
			WAIT_UNTIL(__atomic_load_n(&woke_closed, __ATOMIC_SEQ_CST) >= 10);
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
	int i, k, n;
	bool closed;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		for(n = 0; n < 2; n++) {	// unbuffered, then a buffered semaphore
			sem = gort_chan_make(0, n * 3);
			for(i = 0; i < 100; i++)
				gort_go(signaller, NULL);
			for(i = 0; i < 100; i++)
				ck_assert(gort_chan_recv(sem, NULL));
			ck_assert_uint_eq(gort_chan_len(sem), 0);
		}
		// As a counting semaphore: cap tokens, then full.
		sem = gort_chan_make(0, 3);
		for(i = 0; i < 3; i++)
			ck_assert(gort_chan_trysend(sem, NULL));
		ck_assert(!gort_chan_trysend(sem, NULL));
		ck_assert_uint_eq(gort_chan_len(sem), 3);
		ck_assert(gort_chan_recv(sem, NULL));
		ck_assert_uint_eq(gort_chan_len(sem), 2);
		gort_chan_close(sem);
		ck_assert(gort_chan_tryrecv(sem, NULL, &closed) && !closed);
		ck_assert(gort_chan_recv(sem, NULL));
		ck_assert(!gort_chan_recv(sem, NULL));
		ck_assert(gort_chan_tryrecv(sem, NULL, &closed) && closed);
	}
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
	int i, j, k, bad = -1;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		for(i = 0; i < 2; i++) {
			bigc = gort_chan_make(sizeof(Big), i * 3);
			gort_go(bigsender, NULL);
			for(j = 0; j < 100; j++) {
				ck_assert(gort_chan_recv(bigc, &b));
				if(b.w[0] != j * 100 || b.w[39] != j * 100 + 39)
					bad = j;
			}
			ck_assert_msg(bad < 0, "GOMAXPROCS %d: element %d corrupted", procs[k], bad);
		}
	}
}

// Odd element sizes, up to the largest allowed (65535 bytes), through the
// hand-off and around the ring: every byte arrives, and (under ASan)
// nothing beyond the element is read or written: both ends use buffers
// of exactly elemsize bytes from malloc.
typedef struct OddArgs { GortChan *c; size_t size; int n; } OddArgs;

static inline unsigned char
oddbyte(size_t size, int j, size_t i)
{
	return (unsigned char)(j * 7 + i * 13 + size);
}

// The arguments live on the test's stack, which is gone once the last
// value is received: copy them first (the test cannot go on before our
// first send).
static void
oddsender(void *arg)
{
	OddArgs a = *(OddArgs*)arg;
	unsigned char *buf = malloc(a.size);
	size_t i;
	int j;

	for(j = 0; j < a.n; j++) {
		for(i = 0; i < a.size; i++)
			buf[i] = oddbyte(a.size, j, i);
		gort_chan_send(a.c, buf);
	}
	free(buf);
}

GORT_TEST(test_odd_element_sizes)
{
	static const size_t sizes[] = { 1, 3, 17, 100, 4097, 65535 };
	static const size_t caps[] = { 0, 1, 3 };
	OddArgs a;
	unsigned char *buf;
	size_t si, ci, i;
	int j, k, bad;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		for(si = 0; si < nelem(sizes); si++) {
			for(ci = 0; ci < nelem(caps); ci++) {
				a.size = sizes[si];
				a.n = 10;
				a.c = gort_chan_make(a.size, caps[ci]);
				buf = malloc(a.size);
				gort_go(oddsender, &a);
				bad = 0;
				for(j = 0; j < a.n; j++) {
					ck_assert(gort_chan_recv(a.c, buf));
					for(i = 0; i < a.size; i++)
						if(buf[i] != oddbyte(a.size, j, i))
							bad = 1;
				}
				ck_assert_msg(!bad, "elemsize %zu cap %zu: corrupted", sizes[si], caps[ci]);
				ck_assert(!gort_chan_tryrecv(a.c, buf, NULL));
				free(buf);
			}
		}
	}
}

// Several producers and several consumers: every value arrives exactly
// once, each consumer sees each producer's values in increasing order,
// and the channel never holds more than its capacity.
enum { MP = 4, MC = 3, MPER = 3000 };
static GortChan *mq, *pdone, *cdone;
static size_t mcap;
static uint32_t mbad;

static void
mproducer(void *arg)
{
	long id = (long)(intptr_t)arg, i, v;

	for(i = 0; i < MPER; i++) {
		v = id << 32 | i;
		gort_chan_send(mq, &v);
	}
	gort_chan_send(pdone, NULL);
}

typedef struct MResult { long n, sum; } MResult;

static void
mconsumer(void *arg)
{
	long last[MP], v, id, seq;
	MResult r = { 0, 0 };
	int i;

	(void)arg;
	for(i = 0; i < MP; i++)
		last[i] = -1;
	while(gort_chan_recv(mq, &v)) {
		id = v >> 32;
		seq = v & 0xffffffff;
		if(id < 0 || id >= MP || seq <= last[id] || gort_chan_len(mq) > mcap)
			__atomic_store_n(&mbad, 1, __ATOMIC_SEQ_CST);
		else
			last[id] = seq;
		r.n++;
		r.sum += seq;
	}
	gort_chan_send(cdone, &r);
}

GORT_TEST(test_mpmc)
{
	static const size_t caps[] = { 0, 1, 16 };
	MResult r, tot;
	size_t ci;
	int k, i;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		for(ci = 0; ci < nelem(caps); ci++) {
			mcap = caps[ci];
			mq = gort_chan_make(sizeof(long), mcap);
			pdone = gort_chan_make(0, 0);
			cdone = gort_chan_make(sizeof(MResult), 0);
			__atomic_store_n(&mbad, 0, __ATOMIC_SEQ_CST);
			for(i = 0; i < MC; i++)
				gort_go(mconsumer, NULL);
			for(i = 0; i < MP; i++)
				gort_go(mproducer, (void*)(intptr_t)i);
			for(i = 0; i < MP; i++)
				ck_assert(gort_chan_recv(pdone, NULL));
			gort_chan_close(mq);
			tot.n = tot.sum = 0;
			for(i = 0; i < MC; i++) {
				ck_assert(gort_chan_recv(cdone, &r));
				tot.n += r.n;
				tot.sum += r.sum;
			}
			ck_assert_msg(__atomic_load_n(&mbad, __ATOMIC_SEQ_CST) == 0,
				"GOMAXPROCS %d cap %zu: out of order or over capacity", procs[k], mcap);
			ck_assert_int_eq(tot.n, (long)MP*MPER);
			ck_assert_int_eq(tot.sum, (long)MP*MPER*(MPER-1)/2);
		}
	}
}

// Non-blocking operations meet blocked partners (select with default on
// a channel someone waits on), and polling loops that never park move
// every value in order.
static GortChan *nbc, *nbdone;
static long nbval;

static void
nbreceiver(void *arg)
{
	(void)arg;
	ck_assert(gort_chan_recv(nbc, &nbval));
	gort_chan_send(nbdone, NULL);
}

static void
nbsender(void *arg)
{
	long v = (long)(intptr_t)arg;

	gort_chan_send(nbc, &v);
	gort_chan_send(nbdone, NULL);
}

enum { NPOLL = 3000 };

static void
pollsender(void *arg)
{
	long i;

	(void)arg;
	for(i = 0; i < NPOLL; ) {
		if(gort_chan_trysend(nbc, &i))
			i++;
		else
			gort_gosched();
	}
	gort_chan_close(nbc);
}

static void
blocksender(void *arg)
{
	long i;

	(void)arg;
	for(i = 0; i < NPOLL; i++)
		gort_chan_send(nbc, &i);
	gort_chan_close(nbc);
}

GORT_TEST(test_nonblocking_with_waiters)
{
	long v, want, x;
	bool closed;
	int k, n, bad;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		nbdone = gort_chan_make(0, 1);

		// trysend on an unbuffered channel succeeds once a receiver waits.
		nbc = gort_chan_make(sizeof(long), 0);
		nbval = 0;
		gort_go(nbreceiver, NULL);
		x = 4242;
		for(n = 0; !gort_chan_trysend(nbc, &x); n++)
			gort_gosched();
		ck_assert(gort_chan_recv(nbdone, NULL));
		ck_assert_int_eq(nbval, 4242);

		// tryrecv on an unbuffered channel succeeds once a sender waits.
		gort_go(nbsender, (void*)(intptr_t)777);
		v = 0;
		while(!gort_chan_tryrecv(nbc, &v, &closed)) {
			ck_assert(!closed);
			gort_gosched();
		}
		ck_assert(!closed);
		ck_assert_int_eq(v, 777);
		ck_assert(gort_chan_recv(nbdone, NULL));

		// A full buffered channel with a sender waiting: tryrecv takes
		// the oldest value, the sender's value follows.
		nbc = gort_chan_make(sizeof(long), 1);
		x = 1;
		ck_assert(gort_chan_trysend(nbc, &x));
		gort_go(nbsender, (void*)(intptr_t)2);
		wait_blocked(1, nbsender, "chan send");
		ck_assert(gort_chan_tryrecv(nbc, &v, &closed));
		ck_assert_int_eq(v, 1);
		ck_assert(gort_chan_recv(nbc, &v));
		ck_assert_int_eq(v, 2);
		ck_assert(gort_chan_recv(nbdone, NULL));
		ck_assert(!gort_chan_tryrecv(nbc, &v, NULL));

		// A polling sender into a small buffer, a blocking receiver.
		nbc = gort_chan_make(sizeof(long), 4);
		gort_go(pollsender, NULL);
		bad = 0;
		for(want = 0; gort_chan_recv(nbc, &v); want++)
			if(v != want)
				bad = 1;
		ck_assert_msg(!bad && want == NPOLL, "GOMAXPROCS %d: polling sender: %ld values", procs[k], want);

		// A blocking sender on an unbuffered channel, a polling receiver.
		nbc = gort_chan_make(sizeof(long), 0);
		gort_go(blocksender, NULL);
		bad = 0;
		for(want = 0; ; ) {
			if(!gort_chan_tryrecv(nbc, &v, &closed)) {
				gort_gosched();
				continue;
			}
			if(closed)
				break;
			if(v != want++)
				bad = 1;
		}
		ck_assert_msg(!bad && want == NPOLL, "GOMAXPROCS %d: polling receiver: %ld values", procs[k], want);
	}
}

// Receivers blocked with no destination (elem NULL) wake on close too, and
// a closed unbuffered channel keeps giving zero values.
static GortChan *dc;
static uint32_t dcwoke;

static void
discard_waiter(void *arg)
{
	(void)arg;
	if(!gort_chan_recv(dc, NULL))
		__atomic_add_fetch(&dcwoke, 1, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_close_discarding_receivers)
{
	long v;
	int k, i;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		dc = gort_chan_make(sizeof(long), 0);
		__atomic_store_n(&dcwoke, 0, __ATOMIC_SEQ_CST);
		for(i = 0; i < 20; i++)
			gort_go(discard_waiter, NULL);
		wait_blocked(20, discard_waiter, "chan receive");
		v = 5;
		gort_chan_send(dc, &v);	// one of them takes it and discards it
		ck_assert_int_eq(count_blocked(discard_waiter, "chan receive"), 19);
		gort_chan_close(dc);
		WAIT_UNTIL(__atomic_load_n(&dcwoke, __ATOMIC_SEQ_CST) >= 19);
		ck_assert_uint_eq(__atomic_load_n(&dcwoke, __ATOMIC_SEQ_CST), 19);
		for(i = 0; i < 3; i++) {
			v = -1;
			ck_assert(!gort_chan_recv(dc, &v));
			ck_assert_int_eq(v, 0);
		}
		ck_assert_uint_eq(gort_chan_len(dc), 0);
	}
}

// The collector sees what channels hold: heap pointers kept only in a
// channel's buffer, in a blocked sender's value and in values in flight
// survive collections (the Hchan is scanned conservatively).
typedef struct Obj { long val; long pat[15]; } Obj;

static Obj* __attribute__((noinline))
newobj(long val)
{
	Obj *o = gort_malloc(sizeof *o);
	int i;

	o->val = val;
	for(i = 0; i < 15; i++)
		o->pat[i] = val * 31 + i;
	return o;
}

static bool
objok(Obj *o, long val)
{
	int i;

	if(o == NULL || o->val != val)
		return false;
	for(i = 0; i < 15; i++)
		if(o->pat[i] != val * 31 + i)
			return false;
	return true;
}

static void __attribute__((noinline))
churn(void)
{
	long i;

	for(i = 0; i < 5000; i++)
		memset(gort_malloc(sizeof(Obj) + (i % 64)), 0xee, sizeof(Obj));
}

static void
gcsender(void *arg)
{
	GortChan *c = arg;
	Obj *o = newobj(1000);

	gort_chan_send(c, &o);	// blocks: the buffer is full
	o = NULL;
}

static void __attribute__((noinline))
fillchan(GortChan *c, int n)
{
	Obj *o;
	int i;

	for(i = 0; i < n; i++) {
		o = newobj(i);
		gort_chan_send(c, &o);
	}
}

enum { NPAIR = 4, NGC = 12 };
static GortChan *gcping[NPAIR], *gcpong[NPAIR], *gcdone;
static uint32_t gcbad, gcstop, gcprogress;
static long gcrounds;

static void
gcponger(void *arg)
{
	long id = (long)(intptr_t)arg;
	Obj *o;

	while(gort_chan_recv(gcping[id], &o)) {
		if(!objok(o, o->val))
			__atomic_store_n(&gcbad, 1, __ATOMIC_SEQ_CST);
		o = newobj(o->val + 1);
		gort_chan_send(gcpong[id], &o);
	}
	gort_chan_send(gcdone, NULL);
}

static void
gcpinger(void *arg)
{
	long id = (long)(intptr_t)arg, i;
	Obj *o;

	for(i = 0; !__atomic_load_n(&gcstop, __ATOMIC_SEQ_CST); i++) {
		o = newobj(i * 2);
		gort_chan_send(gcping[id], &o);
		if(!gort_chan_recv(gcpong[id], &o) || !objok(o, i * 2 + 1))
			__atomic_store_n(&gcbad, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&gcprogress, 1, __ATOMIC_SEQ_CST);
	}
	__atomic_add_fetch(&gcrounds, i, __ATOMIC_SEQ_CST);
	gort_chan_close(gcping[id]);
	gort_chan_send(gcdone, NULL);
}

GORT_TEST(test_gc_sees_channel_contents)
{
	GortChan *c;
	Obj *o;
	long i;
	int k, n, bad;

	for(k = 0; k < 3; k++) {
		gort_gomaxprocs(procs[k]);
		c = gort_chan_make(sizeof(Obj*), 64);
		fillchan(c, 64);
		gort_go(gcsender, c);
		wait_blocked(1, gcsender, "chan send");
		gort_gc();
		churn();
		gort_gc();
		churn();
		bad = 0;
		for(i = 0; i <= 64; i++) {
			o = NULL;
			ck_assert(gort_chan_recv(c, &o));
			if(!objok(o, i < 64 ? i : 1000))
				bad = 1;
		}
		ck_assert_msg(!bad, "GOMAXPROCS %d: a value held by the channel was collected", procs[k]);
		gort_keep_alive(c);

		// Collections while pairs pass fresh objects back and forth.
		gcdone = gort_chan_make(0, 2 * NPAIR);
		__atomic_store_n(&gcbad, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&gcstop, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&gcrounds, 0, __ATOMIC_SEQ_CST);
		for(i = 0; i < NPAIR; i++) {
			gcping[i] = gort_chan_make(sizeof(Obj*), i % 2);
			gcpong[i] = gort_chan_make(sizeof(Obj*), 0);
			gort_go(gcponger, (void*)(intptr_t)i);
			gort_go(gcpinger, (void*)(intptr_t)i);
		}
		// Between collections, wait (yielding) for a round trip of some
		// pair: under GOMAXPROCS 1 a goroutine that never blocks lets the
		// others run only when sysmon preempts it.
		for(n = 0; n < NGC; n++) {
			uint32_t p0 = __atomic_load_n(&gcprogress, __ATOMIC_SEQ_CST);

			gort_gc();
			churn();
			WAIT_UNTIL(__atomic_load_n(&gcprogress, __ATOMIC_SEQ_CST) != p0);
		}
		__atomic_store_n(&gcstop, 1, __ATOMIC_SEQ_CST);
		for(n = 0; n < 2 * NPAIR; n++)
			ck_assert(gort_chan_recv(gcdone, NULL));
		ck_assert_msg(__atomic_load_n(&gcbad, __ATOMIC_SEQ_CST) == 0,
			"GOMAXPROCS %d: an object in flight was collected", procs[k]);
		ck_assert_int_ge(__atomic_load_n(&gcrounds, __ATOMIC_SEQ_CST), NGC);
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

// The main goroutine waits here while another one dies; if it did not,
// this would end in "all goroutines are asleep - deadlock!" instead.
static void
blockforever(void)
{
	gort_chan_recv(gort_chan_make(0, 0), NULL);
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
	wait_blocked(1, send_closed_blocked, "chan send");
	gort_chan_close(c);
	blockforever();
}

// A sender blocked on a full buffered channel fails when it is closed.
static void
send_closed_full_body(void *arg)
{
	GortChan *c = gort_chan_make(sizeof(int), 2);
	int v = 1;

	(void)arg;
	gort_chan_send(c, &v);
	gort_chan_send(c, &v);
	gort_go(send_closed_blocked, c);
	wait_blocked(1, send_closed_blocked, "chan send");
	gort_chan_close(c);
	blockforever();
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

// Deadlocks with other goroutines blocked too, on other channels.
static void
blocked_recv(void *arg)
{
	int v;

	gort_chan_recv(arg, &v);
}

static void
deadlock_others_body(void *arg)
{
	GortChan *c = gort_chan_make(sizeof(int), 0);
	int i, v = 1;

	(void)arg;
	for(i = 0; i < 10; i++)
		gort_go(blocked_recv, gort_chan_make(sizeof(int), i % 3));
	wait_blocked(10, blocked_recv, "chan receive");
	gort_chan_send(c, &v);	// nobody will ever receive
}

static void
deadlock_full_body(void *arg)
{
	GortChan *c = gort_chan_make(sizeof(int), 3);
	int i;

	(void)arg;
	for(i = 0; i < 4; i++)
		gort_chan_send(c, &i);	// the fourth blocks for ever
}

static void
nil_send_deadlock_body(void *arg)
{
	int v = 0;

	(void)arg;
	gort_chan_send(NULL, &v);
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

static void
make_negative_body(void *arg)
{
	(void)arg;
	gort_chan_make(1, (size_t)-1);	// make(chan byte, -1)
}

START_TEST(test_chan_misuse)
{
	expect_fatal(send_closed_body, NULL, "send on closed channel");
	expect_fatal(send_closed_wakeup_body, NULL, "send on closed channel");
	expect_fatal(send_closed_full_body, NULL, "send on closed channel");
	expect_fatal(close_closed_body, NULL, "close of closed channel");
	expect_fatal(close_nil_body, NULL, "close of nil channel");
	expect_fatal(make_bad_body, NULL, "makechan: invalid channel element type");
	expect_fatal(make_huge_body, NULL, "makechan: size out of range");
	expect_fatal(make_negative_body, NULL, "makechan: size out of range");
}
END_TEST

START_TEST(test_chan_deadlock)
{
	expect_fatal(recv_deadlock_body, NULL, "all goroutines are asleep - deadlock!");
	expect_fatal(nil_chan_deadlock_body, NULL, "all goroutines are asleep - deadlock!");
	expect_fatal(nil_send_deadlock_body, NULL, "all goroutines are asleep - deadlock!");
	expect_fatal(deadlock_others_body, NULL, "all goroutines are asleep - deadlock!");
	expect_fatal(deadlock_full_body, NULL, "all goroutines are asleep - deadlock!");
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
	tcase_add_test(tc, test_odd_element_sizes);
	tcase_add_test(tc, test_mpmc);
	tcase_add_test(tc, test_nonblocking_with_waiters);
	tcase_add_test(tc, test_close_discarding_receivers);
	tcase_add_test(tc, test_gc_sees_channel_contents);
	suite_add_tcase(s, tc);

	tc = new_tcase("death");
	tcase_add_test(tc, test_chan_misuse);
	tcase_add_test(tc, test_chan_deadlock);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
