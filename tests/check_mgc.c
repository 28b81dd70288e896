// check_mgc: the collector. Its roots (the data and bss it scans, without
// gort's own globals, plus registered ranges: gort_add_roots /
// gort_remove_roots), precise and conservative marking, Go's GC tests of
// the era ported, the concurrent sweep, the scavenger and finalizers.
// meson runs it in both sweep modes, at GOMAXPROCS 1 and 2, and under the
// mark verifier.
#include <errno.h>
#include <stdint.h>

#include "testutil.h"
#include "mgc0.h"
#include "malloc.h"
#include "spanutil.h"

// GORT_SOAK=k (meson -Dstress=true sets it) runs the torture and the
// sweep stress k times longer.
static int
soak(void)
{
	const char *v = getenv("GORT_SOAK");
	int k = v != NULL ? atoi(v) : 1;

	return k < 1 ? 1 : k;
}

typedef struct Find Find;
struct Find { const void *addr; int hits; uintptr total; };

static void
find(byte *p, uintptr n, void *arg)
{
	Find *f = arg;

	f->total += n;
	if((const byte*)f->addr >= p && (const byte*)f->addr < p + n)
		f->hits++;
}

static int
inroots(const void *addr)
{
	Find f = { addr, 0, 0 };

	runtime_snapshotroots();
	runtime_forallroots(find, &f);
	return f.hits;
}

static void *gdata_ptr = (void*)&gdata_ptr;	// .data
static void *gbss_ptr;				// .bss

GORT_TEST(test_roots_data_bss)
{
	ck_assert_int_eq(inroots(&gdata_ptr), 1);
	ck_assert_int_eq(inroots(&gbss_ptr), 1);
	ck_assert_int_eq(inroots(&errno), 0);		// thread-local storage is not a root
	{
		long local = 0;	// goroutine stacks are roots of another kind
		ck_assert_int_eq(inroots(&local), 0);
	}
}

GORT_TEST(test_roots_exclude_gort)
{
	ck_assert_int_eq(inroots(&runtime_mheap), 0);
	ck_assert_int_eq(inroots(&runtime_mstats), 0);
	ck_assert_int_eq(inroots(&runtime_mheap.central[3]), 0);
	// The words around the no-scan section still are roots.
	ck_assert_int_eq(inroots(&gdata_ptr), 1);
}

GORT_TEST(test_add_remove_roots)
{
	long *m = malloc(64 * sizeof(long));	// libc memory: not a root by itself

	ck_assert_int_eq(inroots(m + 3), 0);
	gort_add_roots(m, m + 64);
	ck_assert_int_eq(inroots(m + 3), 1);
	ck_assert_int_eq(inroots(m + 64), 0);	// hi is exclusive
	gort_add_roots(m + 10, m + 20);
	ck_assert_int_eq(inroots(m + 15), 2);
	gort_remove_roots(m, m + 64);
	ck_assert_int_eq(inroots(m + 3), 0);
	ck_assert_int_eq(inroots(m + 15), 1);
	gort_remove_roots(m + 10, m + 20);
	ck_assert_int_eq(inroots(m + 15), 0);
	gort_add_roots(m, m);	// empty: nothing
	ck_assert_int_eq(inroots(m), 0);
	free(m);
}

static void
remove_unknown_body(void *arg)
{
	long x[4];

	(void)arg;
	gort_remove_roots(&x[0], &x[4]);
}

static void
add_bad_body(void *arg)
{
	long x[4];

	(void)arg;
	gort_add_roots(&x[4], &x[0]);
}

START_TEST(test_roots_misuse)
{
	expect_fatal(remove_unknown_body, NULL, "gort_remove_roots: range not registered");
	expect_fatal(add_bad_body, NULL, "gort_add_roots: bad range");
}
END_TEST

// ---- collection (explicit gort_gc; automatic collection is not on yet) -------------

typedef struct Node { struct Node *next; long val; } Node;
static Node *global_list;

static long
listsum(Node *n, long *count)
{
	long s = 0;

	*count = 0;
	for(; n != NULL; n = n->next) {
		s += n->val;
		(*count)++;
	}
	return s;
}

// Churn the heap so that a wrongly freed block gets reused and overwritten.
static void
churn(void)
{
	long i;

	for(i = 0; i < 50000; i++)
		memset(gort_malloc(sizeof(Node) + (i % 64)), 0xee, sizeof(Node));
}

GORT_TEST(test_gc_frees_garbage_keeps_live)
{
	GortMemStats ms0, ms1;
	Node *local = NULL, *n;
	long i, c1, c2, s1, s2;

	gort_set_gc_percent(-1);	// only the collection below
	for(i = 0; i < 1000; i++) {
		n = gort_malloc(sizeof *n);
		n->val = i;
		n->next = global_list;
		global_list = n;
		n = gort_malloc(sizeof *n);
		n->val = i;
		n->next = local;
		local = n;
	}
	for(i = 0; i < 100000; i++)
		((Node*)gort_malloc(sizeof(Node) + (i % 100)))->val = i;
	for(i = 0; i < 50; i++)
		gort_malloc(100000);
	gort_read_memstats(&ms0);
	gort_gc();
	gort_read_memstats(&ms1);
	ck_assert_uint_eq(ms1.NumGC, ms0.NumGC + gcpergc());
	ck_assert_uint_le(ms1.HeapObjects, 2000 + 100);
	ck_assert_uint_lt(ms1.HeapAlloc, ms0.HeapAlloc / 10);
	churn();
	s1 = listsum(global_list, &c1);
	s2 = listsum(local, &c2);
	ck_assert_int_eq(c1, 1000);
	ck_assert_int_eq(c2, 1000);
	ck_assert_int_eq(s1, 499500);
	ck_assert_int_eq(s2, 499500);
	gort_keep_alive(local);
}

// Go's TestGcDeepNesting: a pointer in the last of 1024 slots.
GORT_TEST(test_gc_deep_nesting)
{
	int **a = gort_malloc(1024 * sizeof(int*));

	a[1023] = gort_malloc(sizeof(int));
	*a[1023] = 13;
	gort_gc();
	churn();
	ck_assert_int_eq(*a[1023], 13);
	gort_keep_alive(a);
}

// Go's TestGcArraySlice: each object holds a pointer into the middle of
// the previous one (an interior pointer), which must keep it alive.
typedef struct X { long pad; char buf[1]; char *nextbuf; struct X *next; } X;	// buf at offset 8

GORT_TEST(test_gc_array_slice)
{
	X *head = NULL, *x;
	int i;

	for(i = 0; i < 10; i++) {
		x = gort_malloc(sizeof *x);
		x->buf[0] = 42;
		x->next = NULL;
		if(head != NULL)
			x->nextbuf = &head->buf[0] + 0;	// points into the previous object
		head = x;
		gort_gc();
	}
	// Only the interior pointers link the objects now.
	for(x = head; x != NULL; x = x->next)
		x->next = NULL;
	gort_gc();
	churn();
	for(i = 0, x = head; x != NULL; i++) {
		ck_assert_int_eq(x->buf[0], 42);
		x = x->nextbuf != NULL ? (X*)(x->nextbuf - offsetof(X, buf)) : NULL;
	}
	ck_assert_int_eq(i, 10);
	gort_keep_alive(head);
}

// Precise scanning: a heap pointer in a typed object's non-pointer word
// does not keep its target alive; in a pointer word it does.
typedef struct Pair { void *ptr; uintptr_t word; } Pair;
static const uint8_t pair_mask[] = { GORT_PTRMASK_BIT(Pair, ptr) };
static const GortType pair_type = GORT_TYPE(Pair, pair_mask);

static Pair *gpair;

// Runs in a goroutine that then exits: its stack is dead, so no stale
// copy of the pointers can keep anything alive conservatively.
static void
makepair(void *arg)
{
	Pair *pr = gort_new(&pair_type);
	long *kept = gort_malloc(64), *dropped = gort_malloc(64);

	(void)arg;
	kept[1] = 0x1234;
	dropped[1] = 0x5678;
	pr->ptr = kept;
	pr->word = (uintptr_t)dropped;
	gpair = pr;
}

GORT_TEST(test_gc_precise)
{
	void *args[1] = { NULL };
	long *kept, *dropped;

	go_and_wait(1, makepair, args);
	gort_gc();
	finishsweep();
	kept = gpair->ptr;
	dropped = (long*)gpair->word;
	ck_assert_int_eq(kept[1], 0x1234);
	ck_assert_uint_eq(runtime_getbits(kept), bitsAllocated|bitsScan);
	// The sweeper freed it: back to free (allocated|scan), word 1 marked.
	ck_assert_uint_eq(runtime_getbits(dropped), bitsFree);
	ck_assert_uint_eq((uintptr_t)dropped[1], 0xdeaddeaddeaddeadULL);
}

// A pointer held only in a register of a goroutine stopped mid-loop keeps
// its object alive.
static uint32_t stop, spinning;

static void
regholder(void *arg)
{
	register long *v __asm__("r12") = gort_malloc(64);

	(void)arg;
	v[1] = 0x77;
	__atomic_store_n(&spinning, 1, __ATOMIC_SEQ_CST);
	while(!__atomic_load_n(&stop, __ATOMIC_SEQ_CST))
		__asm__ volatile("" : "+r"(v));
	if(v[1] != 0x77)
		abort();
	__atomic_store_n(&spinning, 2, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_gc_register_root)
{
	int i;

	gort_gomaxprocs(2);
	gort_go(regholder, NULL);
	while(__atomic_load_n(&spinning, __ATOMIC_SEQ_CST) != 1)
		gort_sleep(1000000);
	for(i = 0; i < 5; i++) {
		gort_gc();
		churn();
	}
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	while(__atomic_load_n(&spinning, __ATOMIC_SEQ_CST) != 2)
		gort_sleep(1000000);
}

// Go's TestGcSys (with explicit collections): allocating and dropping
// 1029-byte blocks does not grow Sys past 16 MB.
GORT_TEST(test_gc_sys)
{
	GortMemStats ms0, ms1;
	int i;

	gort_gc();
	gort_read_memstats(&ms0);
	for(i = 0; i < 200000; i++) {
		gort_malloc(1029);
		if(i % 5000 == 0)
			gort_gc();
	}
	gort_read_memstats(&ms1);
	ck_assert_msg(ms1.Sys - ms0.Sys <= 16<<20, "Sys grew by %llu bytes", (unsigned long long)(ms1.Sys - ms0.Sys));
}

// Go's TestGcLastTime and TestReadGCStats: LastGC, NumGC, PauseNs, PauseTotalNs.
GORT_TEST(test_gc_stats)
{
	GortMemStats ms;
	uint64_t sum = 0;
	int64_t t0, t1;
	uint32_t i;

	t0 = gort_nanotime();
	for(i = 0; i < 5; i++)
		gort_gc();
	t1 = gort_nanotime();
	gort_read_memstats(&ms);
	ck_assert_uint_eq(ms.NumGC, 5*gcpergc());
	ck_assert_int_ge((int64_t)ms.LastGC, t0);	// nanotime, as at the seed commit
	ck_assert_int_le((int64_t)ms.LastGC, t1);
	for(i = 0; i < ms.NumGC; i++) {
		ck_assert_uint_gt(ms.PauseNs[i], 0);
		sum += ms.PauseNs[i];
	}
	ck_assert_uint_eq(sum, ms.PauseTotalNs);
	ck_assert_uint_eq(ms.PauseNs[5*gcpergc()], 0);
	ck_assert_uint_ge(ms.NextGC, ms.HeapAlloc);
	// Go's TestMemStats, after collections.
	ck_assert_uint_eq(ms.Sys, ms.HeapSys + ms.StackSys + ms.MSpanSys + ms.MCacheSys +
		ms.BuckHashSys + ms.GCSys + ms.OtherSys);
	ck_assert_uint_eq(ms.HeapAlloc, ms.Alloc);
	ck_assert_uint_eq(ms.Mallocs - ms.Frees, ms.HeapObjects);
	ck_assert_uint_eq(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
}

// Go's TestSetGCPercent.
GORT_TEST(test_set_gc_percent)
{
	ck_assert_int_eq(gort_set_gc_percent(123), 100);
	ck_assert_int_eq(gort_set_gc_percent(100), 123);
	ck_assert_int_eq(gort_set_gc_percent(-5), 100);
	ck_assert_int_eq(gort_set_gc_percent(100), -1);
}

// Several goroutines mutate linked structures while the main goroutine
// collects; every reachable node keeps its checksum.
enum { NMUT = 4 };
typedef struct CNode { struct CNode *next; uint64_t payload[4]; uint64_t sum; } CNode;

static uint64_t
csum(CNode *n)
{
	return n->payload[0] ^ n->payload[1] ^ n->payload[2] ^ n->payload[3] ^ 0x9e3779b97f4a7c15ULL;
}

static uint32_t mutdone, mutstop;
static long mutrounds[NMUT];
enum { MaxFinIds = 1<<22 };
static uint8_t fincount[MaxFinIds];	// finalizer runs per node id
static uint32_t nextid, finbad;

static void
cnodefin(void *p)
{
	CNode *n = p;
	uint64_t id = n->payload[2];

	if(n->sum != csum(n) || id >= MaxFinIds)
		__atomic_add_fetch(&finbad, 1, __ATOMIC_SEQ_CST);	// freed or corrupted before its finalizer
	else
		__atomic_add_fetch(&fincount[id], 1, __ATOMIC_SEQ_CST);
}

static void
mutator(void *arg)
{
	CNode *head = NULL, *n;
	uint64_t seed = (uintptr_t)arg + 1;
	long i, len = 0;
	uint32_t id;

	for(i = 0; !__atomic_load_n(&mutstop, __ATOMIC_SEQ_CST) || i < 1000; i++) {
		seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
		n = gort_malloc(sizeof *n);
		id = __atomic_fetch_add(&nextid, 1, __ATOMIC_SEQ_CST);
		n->payload[0] = seed;
		n->payload[1] = seed >> 7;
		n->payload[2] = id;
		n->payload[3] = (uintptr_t)arg;
		n->sum = csum(n);
		if(id % 8 == 0 && id < MaxFinIds)
			gort_set_finalizer(n, cnodefin);
		n->next = head;
		head = n;
		len++;
		if(len > 500) {	// drop the tail half now and then
			CNode *m = head;
			long k;

			for(k = 0; k < 250; k++)
				m = m->next;
			m->next = NULL;
			len = 251;
		}
		if(i % 1000 == 0) {
			for(n = head; n != NULL; n = n->next)
				if(n->sum != csum(n)) {
					fprintf(stderr, "mutator %zu: node %p corrupted\n", (size_t)(uintptr_t)arg, (void*)n);
					abort();
				}
			gort_gosched();
		}
	}
	mutrounds[(uintptr_t)arg] = i;
	__atomic_add_fetch(&mutdone, 1, __ATOMIC_SEQ_CST);
}

// Several goroutines mutate linked lists (checksummed nodes, one in
// eight with a finalizer) through hundreds of collections; every
// reachable node stays intact, and in the end the finalizable nodes, all
// unreachable then, are finalized (each exactly once; a handful may be
// retained by stale conservative references).
GORT_TEST(test_gc_torture)
{
	uint32_t i, n, missing = 0, twice = 0;
	int k;

	gort_gomaxprocs(2);
	for(k = 0; k < NMUT; k++)
		gort_go(mutator, (void*)(uintptr_t)k);
	for(k = 0; k < 300*soak(); k++) {
		gort_gc();
		gort_sleep(100000);
	}
	__atomic_store_n(&mutstop, 1, __ATOMIC_SEQ_CST);
	while(__atomic_load_n(&mutdone, __ATOMIC_SEQ_CST) < NMUT)
		gort_sleep(1000000);
	for(k = 0; k < NMUT; k++)
		ck_assert_int_ge(mutrounds[k], 1000);
	n = __atomic_load_n(&nextid, __ATOMIC_SEQ_CST);
	if(n > MaxFinIds)
		n = MaxFinIds;
	// The lists are gone with their goroutines: everything finalizable
	// is unreachable now.
	for(k = 0; k < 100; k++) {
		gort_gc();
		gort_sleep(2000000);
		for(i = 0, missing = 0; i < n; i += 8)
			if(fincount[i] == 0)
				missing++;
		if(missing == 0 || (k >= 10 && missing <= 8))
			break;
	}
	for(i = 0; i < n; i += 8)
		if(fincount[i] > 1)
			twice++;
	ck_assert_uint_eq(__atomic_load_n(&finbad, __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_eq(twice, 0);
	// Stacks and data are scanned conservatively, so a stale word left in
	// a live frame or in libc's data may keep a node or two alive (Boehm
	// GC makes the same caveat): allow a handful out of ~500,000.
	ck_assert_msg(missing <= 8, "%u of %u finalizable nodes never finalized", missing, (n + 7) / 8);
}

// Automatic collection: allocating far more garbage than the live heap
// collects by itself (mallocgc, at next_gc) and keeps the heap bounded.
GORT_TEST(test_gc_automatic)
{
	GortMemStats ms0, ms1;
	Node *keep = NULL, *n;
	long i, c, sum;

	gort_read_memstats(&ms0);
	ck_assert(ms0.EnableGC != 0);
	for(i = 0; i < 400000; i++) {
		n = gort_malloc(sizeof *n + 1000);	// ~400 MB of garbage in all
		n->val = i;
		if(i % 1000 == 0) {
			n->next = keep;
			keep = n;
		}
	}
	gort_read_memstats(&ms1);
	ck_assert_uint_gt(ms1.NumGC, ms0.NumGC + 5);
	ck_assert_msg(ms1.HeapSys < (64<<20), "HeapSys %llu MB", (unsigned long long)(ms1.HeapSys>>20));
	ck_assert_uint_ge(ms1.NextGC, ms1.HeapAlloc);
	sum = listsum(keep, &c);
	ck_assert_int_eq(c, 400);
	ck_assert_int_eq(sum, 1000L*399*400/2);
}

static void
gogc_off_body(void *arg)
{
	GortMemStats ms;
	long i;

	(void)arg;
	for(i = 0; i < 20000; i++)
		gort_malloc(1000);
	gort_read_memstats(&ms);
	if(ms.NumGC != 0)
		abort();
	gort_gc();	// still collects on demand
	gort_read_memstats(&ms);
	if(ms.NumGC != (uint32_t)gcpergc())
		abort();
}

START_TEST(test_gogc_off)
{
	static const char *env[] = { "GOGC", "off", NULL };
	int status;
	char *out = run_child(gogc_off_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s", status, out);
	free(out);
}
END_TEST

// GODEBUG=allocfreetrace=1: a line per allocation, free and collection.
// The objects are made in a goroutine that then exits: a stale copy of q
// on a live stack would keep it alive past the collection.
static void
allocfreetrace_alloc(void *arg)
{
	void *p, *q;

	(void)arg;
	p = gort_malloc(100);
	gort_free(p);
	q = gort_new(&pair_type);
	fprintf(stderr, "q=%p\n", q);
}

static void
allocfreetrace_body(void *arg)
{
	void *args[1] = { NULL };

	(void)arg;
	go_and_wait(1, allocfreetrace_alloc, args);
	gort_gc();
}

START_TEST(test_allocfreetrace)
{
	static const char *env[] = { "GODEBUG", "allocfreetrace=1", "GOGC", "off", NULL };
	int status;
	char *out = run_child(allocfreetrace_body, NULL, &status, env);
	char want[64], *qline;
	void *q;

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s", status, out);
	ck_assert_msg(strstr(out, "tracealloc(") != NULL && strstr(out, ", 0x70)") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "tracefree(") != NULL && strstr(out, "tracegc()") != NULL, "%s", out);
	qline = strstr(out, "q=");
	ck_assert_ptr_nonnull(qline);
	ck_assert_int_eq(sscanf(qline, "q=%p", &q), 1);
	snprintf(want, sizeof want, "tracealloc(%p, 0x10, Pair)", q);
	ck_assert_msg(strstr(out, want) != NULL, "no \"%s\" in:\n%s", want, out);
	snprintf(want, sizeof want, "tracefree(%p, 0x10)", q);
	ck_assert_msg(strstr(out, want) != NULL, "no \"%s\" (freed by the sweep) in:\n%s", want, out);
	free(out);
}
END_TEST

// markprocs: a heap under 4 MB is marked on one thread even at
// GOMAXPROCS=2; a 24 MB one on two (GODEBUG=gcmarkall=0, gort's default;
// the suite otherwise runs with gcmarkall=1). Read from gctrace's gcN(P).
static void *volatile markprocs_keep[24];	// volatile: written only, and must stay

static void
markprocs_body(void *arg)
{
	int i;

	(void)arg;
	runtime_ncpu = 2;	// two mark threads need two CPUs
	gort_gomaxprocs(2);
	for(i = 0; i < 4; i++)
		gort_gc();
	fprintf(stderr, "--- big\n");
	for(i = 0; i < 24; i++)
		markprocs_keep[i] = gort_malloc_noscan(1<<20);
	for(i = 0; i < 4; i++)
		gort_gc();
}

START_TEST(test_markprocs_by_heap_size)
{
	static const char *env[] = { "GODEBUG", "gcmarkall=0,gctrace=1", NULL };
	int status, nsmall, nbig, nbig2, big;
	char *out = run_child(markprocs_body, NULL, &status, env), *line, *q;

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s", status, out);
	nsmall = nbig = nbig2 = big = 0;
	for(line = out; *line != '\0'; line = q + 1) {
		if((q = strchr(line, '\n')) == NULL)
			q = line + strlen(line) - 1;
		if(strncmp(line, "--- big", 7) == 0) {
			big = 1;
			continue;
		}
		if(strncmp(line, "gc", 2) != 0 || (line = strchr(line, '(')) == NULL || line > q)
			continue;
		if(!big) {
			nsmall++;
			ck_assert_msg(line[1] == '1', "a small heap marked on %c threads:\n%s", line[1], out);
		} else {
			nbig++;
			nbig2 += line[1] == '2';
		}
	}
	ck_assert_msg(nsmall >= 4 && nbig >= 4, "gctrace:\n%s", out);
	ck_assert_msg(nbig2 > 0, "a 24 MB heap never marked on two threads:\n%s", out);
	free(out);
}
END_TEST

// gctrace prints the parent commit's line.
static void
gctrace_body(void *arg)
{
	(void)arg;
	gort_malloc(100);
	gort_gc();
}

START_TEST(test_gctrace)
{
	static const char *env[] = { "GODEBUG", "gctrace=1", NULL };
	int status;
	char *out = run_child(gctrace_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s", status, out);
	ck_assert_msg(strncmp(out, "gc1(", 4) == 0 && strstr(out, " ms, ") != NULL &&
		strstr(out, " objects, ") != NULL && strstr(out, " sweeps, ") != NULL &&
		strstr(out, " handoff, ") != NULL && strstr(out, " yields\n") != NULL, "gctrace:\n%s", out);
	// The seed's sweeps field: spans in the sweep / by bgsweep / in the
	// pause. With the sweep in the pause bgsweep never runs, and the
	// pause sweeps.
	{
		unsigned ngc = 0, nspan, nbg, npause;
		char *l = out;

		while((l = strstr(l, " objects, ")) != NULL) {
			ck_assert_int_eq(sscanf(l, " objects, %u/%u/%u sweeps,", &nspan, &nbg, &npause), 3);
			ck_assert_uint_le(nbg + npause, nspan);
			if(stwsweep()) {
				ck_assert_uint_eq(nbg, 0);
				ck_assert_uint_gt(npause, 0);
			}
			ngc++;
			l++;
		}
		ck_assert_uint_eq(ngc, gcpergc());
	}
	free(out);
}
END_TEST

// ---- finalizers ----------------------------------------------------------------------

// Collect, then wait until every finalizer that collection queued has
// run, a few rounds.
static void
gcrunfin(int rounds)
{
	int i;

	for(i = 0; i < rounds; i++) {
		gort_gc();
		WAIT_UNTIL(runtime_finqidle());
	}
}

static uint32_t nfin, badfin;
static long *finobj;

static void
fin_check(void *p)
{
	long *o = p;

	// The object is intact when its finalizer runs, and this is it.
	if(p != (void*)~(uintptr_t)finobj || o[0] != 97531 || o[1] != 97532)
		__atomic_add_fetch(&badfin, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&nfin, 1, __ATOMIC_SEQ_CST);
}

static void
makefinobj(void *arg)
{
	long *o = gort_malloc(64);

	(void)arg;
	o[0] = 97531;
	o[1] = 97532;
	// Kept disguised (~p: outside the heap, not even an interior
	// pointer), so that no root holds it.
	finobj = (long*)~(uintptr_t)o;
	gort_set_finalizer(o, fin_check);
}

// Go's TestFinalizerType in C: the finalizer runs, once, on the object,
// which is intact; the object lives until then.
GORT_TEST(test_finalizer_runs_once)
{
	void *args[1] = { NULL };

	go_and_wait(1, makefinobj, args);
	// Several collections before the finalizer can run (main does not
	// yield): the queued object must stay alive, and intact, meanwhile.
	gort_gc();
	gort_gc();
	churn();
	gort_gc();
	churn();
	gcrunfin(5);
	ck_assert_uint_eq(__atomic_load_n(&nfin, __ATOMIC_SEQ_CST), 1);
	ck_assert_uint_eq(__atomic_load_n(&badfin, __ATOMIC_SEQ_CST), 0);
	gcrunfin(3);
	ck_assert_uint_eq(__atomic_load_n(&nfin, __ATOMIC_SEQ_CST), 1);	// once
}

// Go's test/mallocfin.go: A points to B, both with finalizers: A's runs
// first; a cleared finalizer never runs.
enum { NPAIR = 250 };
typedef struct B { long n; uint32_t final; } B;
typedef struct A { B *b; long n; } A;
static uint32_t nfinal, nbad;

static void
finalB(void *p)
{
	B *b = p;

	if(b->final != 1)
		__atomic_add_fetch(&nbad, 1, __ATOMIC_SEQ_CST);	// A's finalizer must have run
	b->final = 2;
	__atomic_add_fetch(&nfinal, 1, __ATOMIC_SEQ_CST);
}

static void
finalA(void *p)
{
	A *a = p;

	if(a->b->final != 0)
		__atomic_add_fetch(&nbad, 1, __ATOMIC_SEQ_CST);
	a->b->final = 1;
}

static void
nofinal(void *p)
{
	(void)p;
	__atomic_add_fetch(&nbad, 1000, __ATOMIC_SEQ_CST);
}

static void
makepairs(void *arg)
{
	int i;
	long *cleared;

	(void)arg;
	for(i = 0; i < NPAIR; i++) {
		// B first: its finalizer record comes first in the span, so
		// only the marking rule (A's body is scanned) orders them.
		B *b = gort_malloc(sizeof *b);
		A *a = gort_malloc(sizeof *a);

		a->b = b;
		a->n = i;
		b->n = i;
		gort_set_finalizer(a, finalA);
		gort_set_finalizer(b, finalB);
	}
	cleared = gort_malloc(32);
	gort_set_finalizer(cleared, nofinal);
	gort_set_finalizer(cleared, NULL);
}

GORT_TEST(test_mallocfin)
{
	void *args[1] = { NULL };
	int i;

	gort_gomaxprocs(4);
	go_and_wait(1, makepairs, args);
	for(i = 0; i < 250 && __atomic_load_n(&nfinal, __ATOMIC_SEQ_CST) < NPAIR*4/5; i++) {
		gort_gc();
		gort_gosched();
		gort_sleep(1000000);
	}
	ck_assert_uint_eq(__atomic_load_n(&nbad, __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_ge(__atomic_load_n(&nfinal, __ATOMIC_SEQ_CST), NPAIR*4/5);
}

// Go's test/tinyfin.go: finalizers on tiny objects (inner bytes of tiny
// blocks) run, each once, for the right object.
enum { NTINY = 100 };
static uint32_t tinyseen[NTINY], tinybad;
static uint32_t *tinyptr[NTINY];

static void
tinyfinal(void *p)
{
	uint32_t v = *(uint32_t*)p;

	if(v >= NTINY || (uintptr_t)tinyptr[v] != ~(uintptr_t)p)
		__atomic_add_fetch(&tinybad, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_add_fetch(&tinyseen[v], 1, __ATOMIC_SEQ_CST);
}

static void
maketiny(void *arg)
{
	uint32_t i;

	(void)arg;
	for(i = 0; i < NTINY; i++) {
		uint32_t *x = gort_malloc_noscan(sizeof *x);

		*x = i;
		tinyptr[i] = (uint32_t*)~(uintptr_t)x;	// disguised: no root
		gort_set_finalizer(x, tinyfinal);
	}
}

GORT_TEST(test_tinyfin)
{
	void *args[1] = { NULL };
	int i, done = 0, twice = 0;

	go_and_wait(1, maketiny, args);
	gcrunfin(4);
	for(i = 0; i < NTINY; i++) {
		if(tinyseen[i] >= 1)
			done++;
		if(tinyseen[i] > 1)
			twice++;
	}
	ck_assert_uint_eq(tinybad, 0);
	ck_assert_int_eq(twice, 0);
	ck_assert_msg(done > NTINY*3/4, "only %d of %d tiny finalizers ran", done, NTINY);
}

// Go's TestFinalizerZeroSizedStruct and TestFinalizerOnGlobal: no-ops.
static long global_target;

GORT_TEST(test_finalizer_zero_size_and_global)
{
	void *z = gort_malloc(0);

	gort_set_finalizer(z, fin_check);
	gort_set_finalizer(&global_target, fin_check);
	gort_set_finalizer(&global_target, NULL);
	gcrunfin(2);
	ck_assert_uint_eq(nfin, 0);
}

static void
setfin_interior_body(void *arg)
{
	char *p = gort_malloc(64);

	(void)arg;
	gort_set_finalizer(p + 8, fin_check);
}

static void
setfin_twice_body(void *arg)
{
	void *p = gort_malloc(64);

	(void)arg;
	gort_set_finalizer(p, fin_check);
	gort_set_finalizer(p, fin_check);
}

static void
setfin_nil_body(void *arg)
{
	(void)arg;
	gort_set_finalizer(NULL, fin_check);
}

START_TEST(test_finalizer_misuse)
{
	expect_fatal(setfin_interior_body, NULL, "runtime.SetFinalizer");
	expect_fatal(setfin_twice_body, NULL, "runtime.SetFinalizer");
	expect_fatal(setfin_nil_body, NULL, "runtime.SetFinalizer");
}
END_TEST

// ---- returning memory to the OS -----------------------------------------------------

static void *big;

// Go's TestFreeOSMemory: drop a big block, collect; FreeOSMemory then
// returns its pages (HeapReleased grows).
GORT_TEST(test_free_os_memory)
{
	GortMemStats ms1, ms2;

	big = gort_malloc_noscan(8 << 20);
	memset(big, 1, 8 << 20);
	big = NULL;
	gort_gc();
	gort_read_memstats(&ms1);
	gort_free_os_memory();
	gort_read_memstats(&ms2);
	ck_assert_uint_gt(ms2.HeapReleased, ms1.HeapReleased);
	ck_assert_uint_ge(ms2.HeapReleased - ms1.HeapReleased, 8 << 20);
	ck_assert_uint_ge(ms2.NumGC, ms1.NumGC + 1);	// it collects first
}

// The scavenger goroutine forces a collection when none ran for
// forcegc, and releases spans idle for longer than limit (here 200 ms and
// 100 ms instead of 2 and 5 minutes; GOGC=off so that nothing else
// collects).
static void
scavenger_body(void *arg)
{
	GortMemStats ms;
	int i;

	(void)arg;
	big = gort_malloc_noscan(8 << 20);
	memset(big, 1, 8 << 20);
	big = NULL;
	for(i = 0; i < 40; i++) {
		gort_sleep(50000000);
		gort_read_memstats(&ms);
		if(ms.NumGC >= 1 && ms.HeapReleased >= (8 << 20))
			break;
	}
	if(ms.NumGC < 1 || ms.HeapReleased < (8 << 20)) {
		fprintf(stderr, "scavenger: NumGC %u HeapReleased %llu\n", ms.NumGC, (unsigned long long)ms.HeapReleased);
		exit(1);
	}
	if(gort_num_goroutine() != 1)	// the scavenger is a system goroutine
		exit(3);
}

START_TEST(test_scavenger)
{
	static const char *env[] = { "GOGC", "off", "GORT_SCAVENGE", "200,100", "GODEBUG", "gctrace=1", NULL };
	int status;
	char *out = run_child(scavenger_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s", status, out);
	ck_assert_msg(strstr(out, "GC forced") != NULL && strstr(out, "MB released") != NULL, "stderr:\n%s", out);
	free(out);
}
END_TEST

// ---- Go's test/gc*.go and TestGcRescan ----------------------------------------------

// test/gc.go: allocate and collect in a loop. Each collection is
// counted, and the dropped blocks are freed (a stale word may keep one).
static void
gcgo_alloc(void *arg)
{
	(void)arg;
	memset(gort_malloc(10 << 10), 1, 10 << 10);
}

GORT_TEST(test_gc_go)
{
	GortMemStats ms0, ms1;
	void *args[1] = { NULL };
	int i;

	gort_gc();
	gort_read_memstats(&ms0);
	for(i = 0; i < 10; i++) {
		go_and_wait(1, gcgo_alloc, args);
		gort_gc();
		gort_read_memstats(&ms1);
		ck_assert_uint_eq(ms1.NumGC, ms0.NumGC + (uint32_t)((i+1)*gcpergc()));
	}
	ck_assert_msg(ms1.Frees - ms0.Frees >= 9, "%llu frees", (unsigned long long)(ms1.Frees - ms0.Frees));
	ck_assert_msg(ms1.HeapAlloc <= ms0.HeapAlloc + 2*(10 << 10) + (64 << 10), "HeapAlloc %llu -> %llu",
		(unsigned long long)ms0.HeapAlloc, (unsigned long long)ms1.HeapAlloc);
}

// test/gc1.go: many small allocations, no explicit collection: the
// automatic collector keeps the heap bounded (100 MB allocated in all).
GORT_TEST(test_gc1_go)
{
	GortMemStats ms0, ms1;
	int i;

	gort_read_memstats(&ms0);
	for(i = 0; i < 1000000; i++)
		((char*)gort_malloc(100))[0] = 1;
	gort_read_memstats(&ms1);
	ck_assert_msg(ms1.NumGC >= ms0.NumGC + 10, "%u collections", ms1.NumGC - ms0.NumGC);
	ck_assert_uint_ge(ms1.Mallocs - ms0.Mallocs, 1000000);
	ck_assert_msg(ms1.HeapAlloc < (32 << 20), "HeapAlloc %llu", (unsigned long long)ms1.HeapAlloc);
	ck_assert_msg(ms1.HeapSys < (64 << 20), "HeapSys %llu", (unsigned long long)ms1.HeapSys);
}

// test/gc2.go: HeapObjects must not grow past N/5 while N buffered
// channels are made and dropped with collections in between.
GORT_TEST(test_gc2_go)
{
	enum { N = 10000 };
	GortMemStats ms0, ms1;
	int i, j;

	gort_gc();
	gort_read_memstats(&ms0);
	for(i = 0; i < N; i++) {
		gort_chan_make(sizeof(int), 10);
		if(i % 100 == 0)
			for(j = 0; j < 4; j++) {
				gort_gc();
				gort_gosched();
			}
	}
	gort_gc();
	gort_read_memstats(&ms1);
	ck_assert_msg(ms1.HeapObjects < ms0.HeapObjects + N/5, "HeapObjects grew from %llu to %llu",
		(unsigned long long)ms0.HeapObjects, (unsigned long long)ms1.HeapObjects);
}

// Go's TestGcRescan: Y embeds X; the chain links through a pointer to
// the embedded X (an interior pointer of a typed object).
typedef struct RX { void *c; struct RX *nextx; } RX;
typedef struct RY { RX x; struct RY *nexty; long *p; } RY;
static const uint8_t ry_mask[] = { GORT_PTRMASK_BIT(RY, x.c) | GORT_PTRMASK_BIT(RY, x.nextx) |
	GORT_PTRMASK_BIT(RY, nexty) | GORT_PTRMASK_BIT(RY, p) };
static const GortType ry_type = GORT_TYPE(RY, ry_mask);

GORT_TEST(test_gc_rescan)
{
	RY *head = NULL, *y;
	RX *x;
	int i;

	for(i = 0; i < 10; i++) {
		y = gort_new(&ry_type);
		y->nexty = head;
		y->p = gort_malloc(sizeof(long));
		*y->p = 42;
		y->x.c = gort_chan_make(0, 0);
		if(head != NULL)
			y->x.nextx = &head->x;	// interior pointer, typed
		head = y;
		gort_gc();
	}
	// Only the x.nextx links remain.
	for(x = &head->x, i = 0; x != NULL; x = x->nextx, i++) {
		y = (RY*)x;
		y->nexty = NULL;
	}
	ck_assert_int_eq(i, 10);
	gort_gc();
	churn();
	for(x = &head->x, i = 0; x != NULL; x = x->nextx, i++)
		ck_assert_int_eq(*((RY*)x)->p, 42);
	ck_assert_int_eq(i, 10);
	gort_keep_alive(head);
}

// ---- interior pointers and neighbours -------------------------------------------------

static uint32_t nfin_x, nfin_y;
static void fin_x(void *p) { (void)p; __atomic_add_fetch(&nfin_x, 1, __ATOMIC_SEQ_CST); }
static void fin_y(void *p) { (void)p; __atomic_add_fetch(&nfin_y, 1, __ATOMIC_SEQ_CST); }

// Only these interior pointers hold the blocks (set by a goroutine that
// has exited, so no stack of it is scanned).
static char *volatile g_inner[2];

static uint32_t nfin_dummy;
static void fin_dummy(void *p) { (void)p; __atomic_add_fetch(&nfin_dummy, 1, __ATOMIC_SEQ_CST); }
static void makedummy(void *arg) { (void)arg; gort_set_finalizer(gort_malloc(64), fin_dummy); }

// Start the finalizer goroutine and the timer goroutine now. A new
// goroutine reuses a dead one's stack, and its frames' unwritten slots
// may still hold the dead goroutine's pointers (a conservative scan's
// stale roots): tests that expect an object to be found dead make their
// objects after this, in goroutines that exit.
static void
startsysgoroutines(void)
{
	void *args[1] = { NULL };
	int i;

	go_and_wait(1, makedummy, args);
	for(i = 0; i < 100 && __atomic_load_n(&nfin_dummy, __ATOMIC_SEQ_CST) == 0; i++)
		gcrunfin(1);
	ck_assert_uint_eq(__atomic_load_n(&nfin_dummy, __ATOMIC_SEQ_CST), 1);
}

static void
makedeep(void *arg)
{
	char *small = gort_malloc(2048), *large = gort_malloc(1<<20);

	(void)arg;
	memset(small, 0x5a, 2048);
	memset(large, 0xa5, 1<<20);
	gort_set_finalizer(small, fin_x);
	gort_set_finalizer(large, fin_y);
	g_inner[0] = small + 1501;		// far past the block's first bitmap word
	g_inner[1] = large + 700001;
}

static void
checkdeep(void *arg)
{
	int i, bad = 0;

	for(i = -1501; i < 2048-1501; i++)
		bad += g_inner[0][i] != 0x5a;
	for(i = -700001; i < (1<<20)-700001; i += 4096)
		bad += g_inner[1][i] != (char)0xa5;
	*(int*)arg = bad;
}

// TestGcArraySlice's promise, deep inside blocks: a pointer far into a
// small block or a large one (unaligned, many pages in) keeps the block.
// (The blocks are touched only by goroutines that have exited, so that
// no stale copy on the main stack holds them at the end.)
GORT_TEST(test_gc_interior_deep)
{
	void *args[1] = { NULL };
	int i, bad = -1;

	startsysgoroutines();
	go_and_wait(1, makedeep, args);
	gcrunfin(3);
	churn();
	gcrunfin(2);
	ck_assert_uint_eq(__atomic_load_n(&nfin_x, __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_eq(__atomic_load_n(&nfin_y, __ATOMIC_SEQ_CST), 0);
	args[0] = &bad;
	go_and_wait(1, checkdeep, args);
	ck_assert_int_eq(bad, 0);
	// Drop them: now both are found dead.
	g_inner[0] = g_inner[1] = NULL;
	for(i = 0; i < 50 && __atomic_load_n(&nfin_x, __ATOMIC_SEQ_CST) + __atomic_load_n(&nfin_y, __ATOMIC_SEQ_CST) < 2; i++)
		gcrunfin(1);
	ck_assert_uint_eq(__atomic_load_n(&nfin_x, __ATOMIC_SEQ_CST), 1);
	ck_assert_uint_eq(__atomic_load_n(&nfin_y, __ATOMIC_SEQ_CST), 1);
}

// Two blocks of one size class, y right after x (Go's adjChunks).
static char *volatile g_last, *volatile g_end;

static void
makeadjacent(void *arg)
{
	enum { N = 4096, SZ = 32 };
	char **s = gort_malloc(N * sizeof *s), *x = NULL, *y = NULL;
	int i, j;

	(void)arg;
	for(i = 0; i < N && x == NULL; i++) {
		s[i] = gort_malloc(SZ);
		for(j = 0; j < i; j++) {
			if(s[j] + SZ == s[i]) {
				x = s[j], y = s[i];
				break;
			}
			if(s[i] + SZ == s[j]) {
				x = s[i], y = s[j];
				break;
			}
		}
	}
	if(x == NULL)
		abort();
	memset(s, 0, N * sizeof *s);
	memset(x, 0x11, SZ);
	memset(y, 0, SZ);
	gort_set_finalizer(x, fin_x);
	gort_set_finalizer(y, fin_y);
	g_last = x + SZ - 1;	// x's last byte: a pointer into x
	g_end = x + SZ;		// one past x: in C, the address of y
}

// Go's TestEmptyString and TestEmptySlice, in C. Go's tests check that a
// zero-length view at the end of x does not pin x's neighbour y. In C a
// pointer one past the end of x IS a pointer to y, and a conservative
// scan cannot tell them apart (Go has the same limit for slices: bug
// 7564, TestEmptySlice disabled), so gort's promise is the exact
// boundary: while x+size is held, y stays (documented, README); once
// only x's last byte is held, x stays and y is found dead.
GORT_TEST(test_empty_string_neighbour)
{
	void *args[1] = { NULL };
	int i;

	startsysgoroutines();
	go_and_wait(1, makeadjacent, args);
	gcrunfin(3);
	ck_assert_uint_eq(__atomic_load_n(&nfin_y, __ATOMIC_SEQ_CST), 0);	// pinned by x+size
	g_end = NULL;
	for(i = 0; i < 50 && __atomic_load_n(&nfin_y, __ATOMIC_SEQ_CST) == 0; i++)
		gcrunfin(1);
	ck_assert_uint_eq(__atomic_load_n(&nfin_y, __ATOMIC_SEQ_CST), 1);
	ck_assert_uint_eq(__atomic_load_n(&nfin_x, __ATOMIC_SEQ_CST), 0);
	for(i = 0; i < 32; i++)
		ck_assert_int_eq(g_last[i - 31], 0x11);
}

// ---- the concurrent sweep (the seed change), in both modes ------------------------------

// In-use spans still waiting to be swept.
static uint32_t
nunswept(void)
{
	uint32_t i, n = 0, sg = runtime_mheap.sweepgen;

	for(i = 0; i < runtime_mheap.nspan; i++) {
		MSpan *s = runtime_mheap.allspans[i];

		if(s->state == MSpanInUse && __atomic_load_n(&s->sweepgen, __ATOMIC_SEQ_CST) == sg-2)
			n++;
	}
	return n;
}

static void
makegarbage(void)
{
	long i;

	for(i = 0; i < 20000; i++)
		((long*)gort_malloc(64))[1] = i;
	for(i = 0; i < 100; i++)
		((long*)gort_malloc(200000))[1] = i;	// 20 MB of large garbage
}

// After a collection the spans are swept lazily: allocation of a class
// sweeps that class's spans first (MCentral_AllocList), a large
// allocation reclaims pages first (MHeap_Reclaim), and the heap does not
// grow meanwhile. With the sweep in the pause, everything is swept when
// the collection returns.
GORT_TEST(test_lazy_sweep)
{
	uint32_t before, after;
	uint64_t sys0;

	gort_gomaxprocs(1);	// bgsweep gets (almost) no turn: main does not yield
	gort_set_gc_percent(-1);
	makegarbage();
	runtime_gc(1);
	makegarbage();	// the heap's high-water mark for this garbage
	runtime_gc(1);
	sys0 = mstats.heap_sys;
	before = nunswept();
	if(stwsweep()) {
		ck_assert_uint_eq(before, 0);
		ck_assert(runtime_mheap.sweepdone);
	} else {
		ck_assert_uint_gt(before, 100);
		ck_assert(!runtime_mheap.sweepdone);
	}
	makegarbage();
	after = nunswept();
	ck_assert_uint_eq(mstats.heap_sys, sys0);	// reused, not grown
	// One round of garbage is 21.3 MB, and both modes hold 22 MB here. A
	// heap that grew before it reused the previous round's garbage holds
	// two rounds (43 MB).
	ck_assert_msg(mstats.heap_sys <= 28<<20, "HeapSys %llu MB", (unsigned long long)(mstats.heap_sys>>20));
	if(!stwsweep())
		ck_assert_uint_lt(after, before);
	finishsweep();
	ck_assert_uint_eq(nunswept(), 0);
	ck_assert(runtime_mheap.sweepdone);
	runtime_checkheap();
}

// Once the sweep is done, next_gc is what the stop-the-world mode
// computes for the same live heap: HeapAlloc × (1 + GOGC/100), exactly
// (GOGC 100: every sweep lowers next_gc by exactly 2 × freed).
static Node *nglive;

GORT_TEST(test_next_gc_after_sweep)
{
	MStats st;
	Node *n;
	long i;

	gort_set_gc_percent(100);
	for(i = 0; i < 200000; i++) {
		n = gort_malloc(sizeof *n + 32);	// 48-byte blocks: ~9.6 MB live
		n->val = i;
		n->next = nglive;
		nglive = n;
		gort_malloc(sizeof *n + 32);	// as much garbage
	}
	runtime_gc(1);	// bgsweep exists from now on
	for(i = 0; i < 200000; i++)
		gort_malloc(sizeof *n + 32);
	runtime_gc(1);
	finishsweep();
	runtime_ReadMemStats(&st);	// exact HeapAlloc (a walk of the spans)
	ck_assert_uint_gt(st.heap_alloc, 9<<20);
	ck_assert_uint_eq(st.next_gc, st.heap_alloc*2);
	ck_assert_uint_eq(listsum(nglive, &i), 200000L*199999/2);
}

// Explicit frees, set-finalizer and clear-finalizer race with the
// background sweeper (and with collections) without corrupting the heap;
// dropped objects with a finalizer are finalized once, cleared ones
// never, and live ones stay intact.
enum { NRACER = 3, RSLOTS = 256, RROUNDS = 60, MaxRaceFin = NRACER*RSLOTS*RROUNDS };
typedef struct RObj RObj;
struct RObj { uint64_t id, sum; char pad[40]; };
static uint32_t racefin[MaxRaceFin], racewant[MaxRaceFin], racebad, racedone;
static uint32_t racenextid;

static void
racefinfn(void *p)
{
	RObj *o = p;

	if(o->id >= MaxRaceFin || o->sum != o->id * 0x9e3779b97f4a7c15ULL)
		__atomic_add_fetch(&racebad, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_add_fetch(&racefin[o->id], 1, __ATOMIC_SEQ_CST);
}

static void
racefinclearedfn(void *p)
{
	(void)p;
	__atomic_add_fetch(&racebad, 1000, __ATOMIC_SEQ_CST);
}

static RObj*
robj(size_t size)
{
	RObj *o = gort_malloc(size);

	o->id = __atomic_fetch_add(&racenextid, 1, __ATOMIC_SEQ_CST);
	o->sum = o->id * 0x9e3779b97f4a7c15ULL;
	return o;
}

static void
racer(void *arg)
{
	RObj **slot = gort_malloc(RSLOTS * sizeof *slot);
	uint64_t r = 0x12345 + (uintptr_t)arg;
	int round, i;
	size_t size;

	for(i = 0; i < RSLOTS; i++)
		slot[i] = robj(sizeof(RObj));
	for(round = 0; round < RROUNDS; round++) {
		for(i = 0; i < RSLOTS; i++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			if(slot[i]->sum != slot[i]->id * 0x9e3779b97f4a7c15ULL) {
				fprintf(stderr, "racer: object %p corrupted\n", (void*)slot[i]);
				abort();
			}
			size = (r >> 60) == 0 ? 40000 : sizeof(RObj);	// some large ones
			switch((r >> 33) % 4) {
			case 0:	// explicit free (no finalizer on it)
				gort_free(slot[i]);
				slot[i] = robj(size);
				break;
			case 1:	// a finalizer, then dropped
				racewant[slot[i]->id] = 1;
				gort_set_finalizer(slot[i], racefinfn);
				slot[i] = robj(size);
				break;
			case 2:	// a finalizer set and cleared, then dropped
				gort_set_finalizer(slot[i], racefinclearedfn);
				gort_set_finalizer(slot[i], NULL);
				slot[i] = robj(size);
				break;
			default:	// kept
				break;
			}
		}
		gort_gosched();
	}
	for(i = 0; i < RSLOTS; i++) {
		racewant[slot[i]->id] = 1;
		gort_set_finalizer(slot[i], racefinfn);	// dropped with the goroutine
	}
	__atomic_add_fetch(&racedone, 1, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_sweep_races)
{
	uint32_t i, n, missing = 0, twice, unwanted, want, k;

	gort_gomaxprocs(4);
	startsysgoroutines();
	for(k = 0; k < NRACER; k++)
		gort_go(racer, (void*)(uintptr_t)k);
	while(__atomic_load_n(&racedone, __ATOMIC_SEQ_CST) < NRACER) {
		runtime_gc(1);	// one collection: its sweep races with the racers
		runtime_checkheap();
		gort_sleep(500000);
	}
	runtime_checkheap();
	n = __atomic_load_n(&racenextid, __ATOMIC_SEQ_CST);
	ck_assert_uint_le(n, MaxRaceFin);
	for(k = 0; k < 100; k++) {
		gcrunfin(1);
		runtime_checkheap();
		for(i = 0, missing = 0; i < n; i++)
			missing += racewant[i] && __atomic_load_n(&racefin[i], __ATOMIC_SEQ_CST) == 0;
		if(missing == 0 || (k >= 10 && missing <= 8))
			break;
	}
	for(i = 0, twice = 0, unwanted = 0, want = 0; i < n; i++) {
		twice += racefin[i] > 1;
		unwanted += racefin[i] != 0 && !racewant[i];
		want += racewant[i];
	}
	ck_assert_uint_eq(__atomic_load_n(&racebad, __ATOMIC_SEQ_CST), 0);
	ck_assert_uint_eq(twice, 0);
	ck_assert_uint_eq(unwanted, 0);
	ck_assert_uint_gt(want, 1000);
	// Stale conservative references may keep a handful (see the torture).
	ck_assert_msg(missing <= 8, "%u of %u finalizable objects never finalized", missing, want);
}

// The finalizer goroutine is kicked by the background sweeper once it
// has swept everything: one collection and no further allocation are
// enough for a finalizer to run, and it runs after its span was swept.
static uint32_t nkick, kickbad;

static void
kickfin(void *p)
{
	MSpan *s = MHeap_LookupMaybe(&runtime_mheap, p);

	if(s == NULL || __atomic_load_n(&s->sweepgen, __ATOMIC_SEQ_CST) != runtime_mheap.sweepgen)
		__atomic_add_fetch(&kickbad, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&nkick, 1, __ATOMIC_SEQ_CST);
}

static void
makekick(void *arg)
{
	(void)arg;
	gort_set_finalizer(gort_malloc(64), kickfin);
}

GORT_TEST(test_finalizer_kick)
{
	void *args[1] = { NULL };
	int i;

	startsysgoroutines();
	go_and_wait(1, makekick, args);
	runtime_gc(1);	// finds it dead; the sweep queues its finalizer
	for(i = 0; i < 2000 && __atomic_load_n(&nkick, __ATOMIC_SEQ_CST) == 0; i++)
		gort_sleep(1000000);
	ck_assert_uint_eq(__atomic_load_n(&nkick, __ATOMIC_SEQ_CST), 1);
	ck_assert_uint_eq(__atomic_load_n(&kickbad, __ATOMIC_SEQ_CST), 0);
}

// Stress: goroutines allocate and drop checksummed lists while bgsweep
// and the lazy sweepers run, through 1,000 collections, the heap checked
// (runtime_checkheap) after each.
enum { NSTRESS = 3 };
static uint32_t stressstop, stressdone;

static void
stresser(void *arg)
{
	CNode *head = NULL, *n;
	long len = 0, i;
	uint64_t seed = (uintptr_t)arg + 1;

	for(i = 0; !__atomic_load_n(&stressstop, __ATOMIC_SEQ_CST); i++) {
		seed = seed * 1103515245 + 12345;
		n = gort_malloc(sizeof *n + (seed >> 8) % 200);
		n->payload[0] = seed;
		n->payload[1] = i;
		n->payload[2] = (uintptr_t)arg;
		n->payload[3] = seed >> 3;
		n->sum = csum(n);
		n->next = head;
		head = n;
		if(++len > 2000) {
			CNode *m = head;
			long k;

			for(k = 0; k < 1000; k++)
				m = m->next;
			m->next = NULL;
			len = 1001;
		}
		if(i % 500 == 0) {
			for(n = head; n != NULL; n = n->next)
				if(n->sum != csum(n)) {
					fprintf(stderr, "stresser: node %p corrupted\n", (void*)n);
					abort();
				}
			gort_gosched();
		}
	}
	__atomic_add_fetch(&stressdone, 1, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_sweep_stress)
{
	uint32_t numgc0;
	int k;

	gort_gomaxprocs(2);
	numgc0 = mstats.numgc;
	for(k = 0; k < NSTRESS; k++)
		gort_go(stresser, (void*)(uintptr_t)k);
	for(k = 0; k < 1000*soak(); k++) {
		runtime_gc(1);
		runtime_checkheap();
	}
	__atomic_store_n(&stressstop, 1, __ATOMIC_SEQ_CST);
	while(__atomic_load_n(&stressdone, __ATOMIC_SEQ_CST) < NSTRESS)
		gort_sleep(1000000);
	finishsweep();
	runtime_checkheap();
	ck_assert_uint_ge(mstats.numgc - numgc0, 1000*soak());
}

int
main(void)
{
	Suite *s = suite_create("mgc");
	TCase *tc = new_tcase("roots");

	tcase_add_test(tc, test_roots_data_bss);
	tcase_add_test(tc, test_roots_exclude_gort);
	tcase_add_test(tc, test_add_remove_roots);
	tcase_add_test(tc, test_roots_misuse);
	suite_add_tcase(s, tc);

	tc = new_tcase("gc");
	tcase_add_test(tc, test_gc_frees_garbage_keeps_live);
	tcase_add_test(tc, test_gc_deep_nesting);
	tcase_add_test(tc, test_gc_array_slice);
	tcase_add_test(tc, test_gc_interior_deep);
	tcase_add_test(tc, test_empty_string_neighbour);
	tcase_add_test(tc, test_gc_precise);
	tcase_add_test(tc, test_gc_register_root);
	tcase_add_test(tc, test_gc_sys);
	tcase_add_test(tc, test_gc_stats);
	tcase_add_test(tc, test_set_gc_percent);
	tcase_add_test(tc, test_gc_torture);
	tcase_add_test(tc, test_gctrace);
	tcase_add_test(tc, test_markprocs_by_heap_size);
	tcase_add_test(tc, test_allocfreetrace);
	tcase_add_test(tc, test_gc_automatic);
	tcase_add_test(tc, test_gogc_off);
	suite_add_tcase(s, tc);

	tc = new_tcase("goports");
	tcase_add_test(tc, test_gc_go);
	tcase_add_test(tc, test_gc1_go);
	tcase_add_test(tc, test_gc2_go);
	tcase_add_test(tc, test_gc_rescan);
	suite_add_tcase(s, tc);

	tc = new_tcase("sweep");
	tcase_add_test(tc, test_lazy_sweep);
	tcase_add_test(tc, test_next_gc_after_sweep);
	tcase_add_test(tc, test_sweep_races);
	tcase_add_test(tc, test_finalizer_kick);
	tcase_add_test(tc, test_sweep_stress);
	suite_add_tcase(s, tc);

	tc = new_tcase("scavenger");
	tcase_add_test(tc, test_free_os_memory);
	tcase_add_test(tc, test_scavenger);
	suite_add_tcase(s, tc);

	tc = new_tcase("finalizers");
	tcase_add_test(tc, test_finalizer_runs_once);
	tcase_add_test(tc, test_mallocfin);
	tcase_add_test(tc, test_tinyfin);
	tcase_add_test(tc, test_finalizer_zero_size_and_global);
	tcase_add_test(tc, test_finalizer_misuse);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
