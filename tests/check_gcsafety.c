// check_gcsafety: the one promise a collector makes — a reachable object
// is never freed — and the programs that must not hang or die while it
// is kept. Each regression test here failed on the code before its fix
// (issue 10); the tortures at the end mix the API on the same slots.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

#include "testutil.h"
#include "mgc0.h"
#include "malloc.h"
#include "spanutil.h"

static inline uint32_t aload(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void astore(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

// Is y a live, scannable block still holding its magic word?
static void
assert_alive(uintptr_t *y, uintptr_t magic)
{
	ck_assert_msg(y[1] == magic, "block %p word 1 is %#lx, want %#lx (freed?)", (void*)y,
		(unsigned long)y[1], (unsigned long)magic);
	ck_assert_uint_eq(runtime_getbits(y), bitsAllocated|bitsScan);
}

// ---- bug 1: an explicit free forgets the block's type -----------------------------

// 32 bytes, and only word 0 is a pointer.
typedef struct T1 { void *p; uintptr_t a, b, c; } T1;
static const uint8_t t1_mask[] = { GORT_PTRMASK_BIT(T1, p) };
static const GortType t1_type = GORT_TYPE(T1, t1_mask);

enum { NReuse = 64 };
static uintptr_t *reused[NReuse];	// roots (.bss)
static uint32_t nsameslot;

// In a goroutine that then exits: no stale copy of y on a live stack.
static void
reuse_slot(void *arg)
{
	T1 *t;
	uintptr_t *u, *y;
	int i;

	(void)arg;
	for(i = 0; i < NReuse; i++) {
		t = gort_new(&t1_type);
		gort_free(t);
		u = gort_malloc(sizeof(T1));	// the same slot: the P's cache is LIFO
		if(u == (uintptr_t*)t)
			nsameslot++;
		y = gort_malloc(64);
		y[1] = 0xfeed0000 + i;
		u[2] = (uintptr_t)y;	// not a pointer word of T1: u is untyped now
		reused[i] = u;
	}
}

GORT_TEST(test_free_forgets_type)
{
	void *args[1] = { NULL };
	int i;

	go_and_wait(1, reuse_slot, args);
	ck_assert_uint_eq(nsameslot, NReuse);	// or the test proves nothing
	gort_gc();
	finishsweep();
	for(i = 0; i < NReuse; i++) {
		assert_alive((uintptr_t*)reused[i][2], 0xfeed0000 + i);
		ck_assert_uint_eq(runtime_gettype(reused[i]), 0);
	}
}

// ---- bug 2: a GC helper late between counting itself done and the compare ----------

static uint32_t late_taken, late_release, late_returned;

static void
latehelper(uint32 ndone, uint32 nproc)
{
	uint32_t zero = 0;

	// ndone is the count with this helper in it: nproc-1 for the last.
	if(nproc < 3 || ndone != 1)
		return;	// only the first of two helpers or more
	if(!__atomic_compare_exchange_n(&late_taken, &zero, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	// Descheduled here until the next collections (two GC threads) are
	// over: the helper must not compare its count with their nproc (2).
	while(!aload(&late_release))
		runtime_osyield();
	astore(&late_returned, 1);
}

static void
spinms(void *arg)
{
	int64_t t0 = gort_nanotime();

	(void)arg;
	while(gort_nanotime() - t0 < 2000000)
		;
}

GORT_TEST(test_gchelper_late)
{
	void *args[8] = { 0 };
	int i, n2;

	// Three GC threads need three CPUs: pretend to have four.
	runtime_ncpu = 4;
	gort_gomaxprocs(4);
	go_and_wait(8, spinms, args);	// Ms that then go idle, to help
	runtime_gchelper_donehook = latehelper;
	for(i = 0; i < 400 && !aload(&late_taken); i++) {
		if(i % 10 == 0)
			go_and_wait(8, spinms, args);
		runtime_gc(1);
	}
	ck_assert_msg(aload(&late_taken), "no collection ran with three GC threads");
	// The next collections run on two threads: nproc is 2, and the late
	// helper's ndone (1) would equal nproc-1.
	gort_gomaxprocs(2);
	for(i = 0, n2 = 0; i < 50 && n2 < 3; i++) {
		if(runtime_gcprocs() == 2)
			n2++;
		else
			go_and_wait(8, spinms, args);
		runtime_gc(1);
	}
	ck_assert_msg(n2 > 0, "no collection ran with two GC threads");
	while(runtime_gcprocs() != 2)
		go_and_wait(8, spinms, args);
	runtime_gc(1);
	astore(&late_release, 1);
	while(!aload(&late_returned))
		gort_gosched();
	for(i = 0; i < 5; i++) {
		gort_malloc(1000);
		runtime_gc(1);
	}
	runtime_gchelper_donehook = NULL;
}

// ---- bug 3: free sweeps the span before it checks for a double free ---------------

static void *volatile keep48;	// volatile: a store nothing reads

static void
mkgarbage(void *arg)
{
	void **hidden = arg;

	// The only copy of hidden[0] is in libc memory; keep48, a root, keeps
	// their span in use.
	do {
		hidden[0] = gort_malloc(48);
		keep48 = gort_malloc(48);
	} while(MHeap_Lookup(&runtime_mheap, hidden[0]) != MHeap_Lookup(&runtime_mheap, keep48));
}

static void
free_collected_body(void *arg)
{
	void **hidden = malloc(sizeof(void*));
	void *args[1] = { hidden };
	MSpan *s;

	(void)arg;
	go_and_wait(1, mkgarbage, args);
	runtime_gc(1);	// one collection: hidden[0] is garbage, its span unswept
	s = MHeap_Lookup(&runtime_mheap, hidden[0]);
	if(!stwsweep() && s->sweepgen == runtime_mheap.sweepgen) {
		fprintf(stderr, "test: the span was swept already\n");
		_exit(3);
	}
	gort_free(hidden[0]);	// its sweep frees it first
	gort_malloc(48);
	gort_malloc(48);
}

START_TEST(test_free_of_collected_block)
{
	static const char *env[] = { "GOMAXPROCS", "1", NULL };

	expect_fatal_env(free_collected_body, NULL, "free: double free", env);
}
END_TEST

// ---- bug 4: every span must be swept when mark starts, in use or not -------------

static void
unswept_free_span_body(void *arg)
{
	MSpan *s, *found;
	uint32 i;

	(void)arg;
	runtime_checking = 0;	// its heap check would catch the corruption first
	gort_free(gort_malloc(1<<20));	// at least one free span
	gort_gc();
	finishsweep();
	found = NULL;
	for(i = 0; i < runtime_mheap.nspan && found == NULL; i++) {
		s = runtime_mheap.allspans[i];
		if(s->state != MSpanInUse)
			found = s;
	}
	if(found == NULL)
		_exit(3);
	found->sweepgen = runtime_mheap.sweepgen - 2;	// corrupt: "needs sweeping"
	gort_gc();
}

START_TEST(test_unswept_free_span)
{
	// (gccheckmark's validator would catch the corruption first.)
	static const char *env[] = { "GODEBUG", "gccheckmark=0", NULL };

	expect_fatal_env(unswept_free_span_body, NULL, "gc: unswept span", env);
}
END_TEST

// ---- bug 5: a finalizer that collects is no deadlock -------------------------------

static GortChan *finch;
static uint32_t nfingc;

static void
fin_gc_send(void *p)
{
	int v = 1;

	(void)p;
	gort_gc();
	gort_gc();
	__atomic_add_fetch(&nfingc, 1, __ATOMIC_SEQ_CST);
	gort_chan_send(finch, &v);
}

static void
mkfin(void *arg)
{
	(void)arg;
	gort_set_finalizer(gort_malloc(64), fin_gc_send);
}

GORT_TEST(test_finalizer_collects_then_sends)
{
	void *args[1] = { NULL };
	int i, v;

	finch = gort_chan_make(sizeof(int), 0);
	for(i = 0; i < 10; i++) {
		go_and_wait(1, mkfin, args);
		gort_gc();
		ck_assert(gort_chan_recv(finch, &v));
	}
	ck_assert_uint_eq(aload(&nfingc), 10);
}

// ---- bug 6: fork from a goroutine while others allocate and collect ---------------

static uint32_t forkstop, nallocdone;

static void
allocator(void *arg)
{
	uintptr_t n = 0;
	void **keep = gort_malloc(64 * sizeof(void*));

	(void)arg;
	while(!aload(&forkstop)) {
		keep[n % 64] = gort_malloc(16 + (n * 7919) % 2000);
		if(n % 500 == 0)
			gort_gc();
		n++;
	}
	__atomic_add_fetch(&nallocdone, 1, __ATOMIC_SEQ_CST);
}

static uint32_t nforked, nforkbad;

static void
forker(void *arg)
{
	int k, status;
	pid_t pid;

	for(k = 0; k < (int)(uintptr_t)arg; k++) {
		pid = fork();
		if(pid < 0) {
			__atomic_add_fetch(&nforkbad, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if(pid == 0) {
			if(k % 2 == 0)
				execl("/bin/true", "true", (char*)NULL);
			_exit(0);
		}
		while(waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if(!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			__atomic_add_fetch(&nforkbad, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&nforked, 1, __ATOMIC_SEQ_CST);
		gort_malloc(100);
	}
}

GORT_TEST(test_fork_under_load)
{
	void *fargs[2] = { (void*)(uintptr_t)60, (void*)(uintptr_t)60 };
	int procs, i;

	for(procs = 1; procs <= 4; procs++) {
		gort_gomaxprocs(procs);
		astore(&forkstop, 0);
		astore(&nallocdone, 0);
		for(i = 0; i < 3; i++)
			gort_go(allocator, NULL);
		go_and_wait(2, forker, fargs);
		astore(&forkstop, 1);
		while(aload(&nallocdone) < 3)
			gort_gosched();
	}
	ck_assert_uint_eq(aload(&nforkbad), 0);
	ck_assert_uint_eq(aload(&nforked), 4*120);
}

// The child of fork may not use gort: it dies with a clear message.
static void
child_uses_gort(void *arg)
{
	(void)arg;
	if(fork() == 0) {
		gort_malloc(10);
		_exit(0);	// not reached
	}
	// The parent: wait for the child and pass its verdict on (exit 2
	// and the message, from the shared stderr).
	{
		int status;

		wait(&status);
		if(WIFEXITED(status) && WEXITSTATUS(status) == 2)
			_exit(2);
		_exit(4);
	}
}

START_TEST(test_fork_child_may_not_use_gort)
{
	expect_fatal(child_uses_gort, NULL, "gort: call in a child process after fork");
}
END_TEST

// ---- bug 7: registered roots with unaligned bounds ----------------------------------

static void
storey(void *arg)
{
	uintptr_t *buf = arg, *y = gort_malloc(64);

	y[1] = 0xa11ed;
	buf[1] = (uintptr_t)y;
}

GORT_TEST(test_add_roots_unaligned)
{
	static const int offs[] = { 1, 4, 7 };
	uintptr_t *buf;
	void *args[1];
	int i;

	for(i = 0; i < 3; i++) {
		buf = calloc(8, sizeof(uintptr_t));	// libc memory: a root only if registered
		gort_add_roots((char*)buf + offs[i], (char*)buf + 8*sizeof(uintptr_t) - 3);
		args[0] = buf;
		go_and_wait(1, storey, args);
		gort_gc();
		finishsweep();
		assert_alive((uintptr_t*)buf[1], 0xa11ed);
		gort_remove_roots((char*)buf + offs[i], (char*)buf + 8*sizeof(uintptr_t) - 3);
		free(buf);
	}
}

// ---- the verifier verified: gccheckmark finds a live block the mark missed --------

static uintptr_t **volatile gchain;	// .bss -> A -> B (volatile: a store nothing reads)
static uintptr_t victimaddr;	// ~B: B's address, hidden from the collector

static void
unmark_victim(void)
{
	uintptr_t *b, shift, off;

	off = (uintptr_t*)~victimaddr - (uintptr_t*)runtime_mheap.arena_start;
	b = (uintptr_t*)runtime_mheap.arena_start - off/16 - 1;
	shift = off % 16;
	*b &= ~((uintptr_t)bitsMarked << shift);
}

static void
mkchain(void *arg)
{
	uintptr_t *a = gort_malloc(64), *b = gort_malloc(64);

	(void)arg;
	a[3] = (uintptr_t)b;
	b[1] = 0xb;
	gchain = (uintptr_t**)a;
	victimaddr = ~(uintptr_t)b;
}

static void
checkmark_body(void *arg)
{
	void *args[1] = { NULL };

	(void)arg;
	go_and_wait(1, mkchain, args);
	gort_gc();	// a clean collection first: the verifier passes
	runtime_checkmark_testhook = unmark_victim;
	gort_gc();
}

START_TEST(test_gccheckmark_finds_unmarked)
{
	static const char *env[] = { "GODEBUG", "gccheckmark=1", NULL };
	int status;
	char *out = run_child(checkmark_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %#x:\n%.1000s", status, out);
	ck_assert_msg(strstr(out, "fatal error: gccheckmark: reachable object not marked\n") != NULL, "%.1000s", out);
	ck_assert_msg(strstr(out, "is reachable but was not marked") != NULL, "%.1000s", out);
	ck_assert_msg(strstr(out, "1 heap blocks from a data/bss root") != NULL, "%.1000s", out);
	free(out);
}
END_TEST

// ---- torture: the API mixed on the same slots ---------------------------------------
//
// Typed (gort_new, gort_new_array), untyped and noscan blocks of one size
// class (48 bytes), on each goroutine's own slots (roots in .bss). Each
// step allocates into a slot, links one slot's block to another's, drops
// a slot, frees a block nothing else points to, collects, or verifies:
// every block reachable from the slots through the links still holds
// its words. The kinds keep their links in different words, so that a
// block scanned with another kind's type (a stale type record) loses
// them:
//	word 3: id << 8 | kind      word 4: links to it
//	typed:   links in words 0, 2 (pointer words of both types), check 1, epoch 5
//	untyped: links in words 1, 5 (pointer words of neither),   check 0, epoch 2
//	noscan:  no links,                                           check 0, epoch 2

enum { MixSlots = 128, MixProcs = 4 };
enum { KindTyped, KindArray, KindUntyped, KindNoscan, NKind };

typedef struct T48 { void *l0; uintptr_t sum; void *l2; uintptr_t idkind, refs, epoch; } T48;
static const uint8_t t48_mask[] = { GORT_PTRMASK_BIT(T48, l0) | GORT_PTRMASK_BIT(T48, l2) };
static const GortType t48_type = GORT_TYPE(T48, t48_mask);
typedef struct T16 { void *l; uintptr_t w; } T16;	// three of them: 48 bytes
static const uint8_t t16_mask[] = { GORT_PTRMASK_BIT(T16, l) };
static const GortType t16_type = GORT_TYPE(T16, t16_mask);

static uintptr_t *mixslots[MixProcs][MixSlots];	// the roots
static uint32_t mixdone, mixbad;
static char mixerr[256];

static uintptr_t
mixhash(uintptr_t id)
{
	return (id * 0x9e3779b97f4a7c15ULL) ^ 0xc0ffee;
}

static inline int mixkind(uintptr_t *b) { return b[3] & 0xff; }
static inline int mixtyped(uintptr_t *b) { return mixkind(b) <= KindArray; }
static inline int mixlinkw(uintptr_t *b, int k) { return mixtyped(b) ? (k ? 2 : 0) : (k ? 5 : 1); }
static inline uintptr_t *mixsum(uintptr_t *b) { return &b[mixtyped(b) ? 1 : 0]; }
static inline uintptr_t *mixepoch(uintptr_t *b) { return &b[mixtyped(b) ? 5 : 2]; }

static void
mixfail(const char *what, uintptr_t *b)
{
	if(__atomic_fetch_add(&mixbad, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(mixerr, sizeof mixerr, "%s: block %p words %#lx %#lx %#lx %#lx %#lx %#lx", what, (void*)b,
			(unsigned long)b[0], (unsigned long)b[1], (unsigned long)b[2], (unsigned long)b[3],
			(unsigned long)b[4], (unsigned long)b[5]);
}

static int
mixcheck(uintptr_t *b)
{
	if(mixkind(b) >= NKind || *mixsum(b) != mixhash(b[3] >> 8)) {
		mixfail("reachable block changed (freed and reused?)", b);
		return 0;
	}
	return 1;
}

// Every block reachable from goroutine g's slots is intact.
static void
mixverify(int g, uintptr_t epoch)
{
	uintptr_t *stack[4*MixSlots + 64], *b, l;
	int n = 0, i, k;

	for(i = 0; i < MixSlots; i++) {
		if(mixslots[g][i] == NULL)
			continue;
		stack[n++] = mixslots[g][i];
		while(n > 0) {
			b = stack[--n];
			if(!mixcheck(b) || *mixepoch(b) == epoch)
				continue;
			*mixepoch(b) = epoch;
			if(mixkind(b) == KindNoscan)
				continue;	// holds no links
			for(k = 0; k < 2; k++) {
				l = b[mixlinkw(b, k)];
				if(l != 0 && n < (int)(sizeof stack/sizeof stack[0]))
					stack[n++] = (uintptr_t*)l;
			}
		}
	}
}

static uintptr_t *
mixalloc(int kind, uintptr_t id)
{
	uintptr_t *b;

	switch(kind) {
	case KindTyped:	b = gort_new(&t48_type); break;
	case KindArray:	b = gort_new_array(&t16_type, 3); break;
	case KindUntyped: b = gort_malloc(48); break;
	default:	b = gort_malloc_noscan(48); break;
	}
	b[3] = id << 8 | kind;
	*mixsum(b) = mixhash(id);
	return b;
}

static void
mixer(void *arg)
{
	int g = (int)(uintptr_t)arg, i, j, k, op, w;
	uint64_t rnd = 0x2545f4914f6cdd1dULL * (g + 1);
	uintptr_t id = (uintptr_t)g << 40, epoch = 1, *b, *t;
	long steps = 10000L * (getenv("GORT_SOAK") ? atoi(getenv("GORT_SOAK")) : 1);

	for(k = 0; k < steps; k++) {
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		op = (rnd >> 33) % 100;
		i = (rnd >> 40) % MixSlots;
		j = (rnd >> 48) % MixSlots;
		b = mixslots[g][i];
		if(op < 30) {
			mixslots[g][i] = mixalloc((rnd >> 20) % NKind, ++id);
		} else if(op < 55) {
			// Link one of b's two links to slot j's block.
			t = mixslots[g][j];
			if(b == NULL || t == NULL || mixkind(b) == KindNoscan || !mixcheck(b) || !mixcheck(t))
				continue;
			w = mixlinkw(b, (rnd >> 56) & 1);
			if(b[w] != 0)
				((uintptr_t*)b[w])[4]--;
			b[w] = (uintptr_t)t;
			t[4]++;
		} else if(op < 70) {
			mixslots[g][i] = NULL;	// garbage, unless linked
		} else if(op < 85) {
			// Free b if nothing links to it (its slot is its only root).
			if(b == NULL || b[4] != 0 || !mixcheck(b))
				continue;
			if(mixkind(b) != KindNoscan)
				for(w = 0; w < 2; w++)
					if(b[mixlinkw(b, w)] != 0)
						((uintptr_t*)b[mixlinkw(b, w)])[4]--;
			mixslots[g][i] = NULL;
			gort_free(b);
		} else if(op < 87) {
			if((rnd >> 24) % 8 == 0)
				gort_gc();
			else
				runtime_gc(1);
		} else if(op < 95) {
			mixverify(g, ++epoch);
		} else {
			gort_gosched();
		}
	}
	mixverify(g, ++epoch);
	for(i = 0; i < MixSlots; i++)
		mixslots[g][i] = NULL;
	__atomic_add_fetch(&mixdone, 1, __ATOMIC_SEQ_CST);
}

GORT_TEST(test_mixed_torture)
{
	int procs, g;

	for(procs = 1; procs <= 4; procs++) {
		gort_gomaxprocs(procs);
		astore(&mixdone, 0);
		for(g = 0; g < MixProcs; g++)
			gort_go(mixer, (void*)(uintptr_t)g);
		while(aload(&mixdone) < MixProcs)
			gort_gosched();
		ck_assert_msg(aload(&mixbad) == 0, "GOMAXPROCS=%d: %u bad: %s", procs, aload(&mixbad), mixerr);
		gort_gc();
		runtime_checkheap();
	}
}

// ---- finalizer torture ---------------------------------------------------------------
//
// Finalizers that resurrect their object, re-arm it, allocate, block on a
// channel and collect, on every P count. Every object is intact when its
// finalizer runs (and so is what it points to), a finalizer runs once per
// arming, never for an object still reachable, and every dropped object
// is finalized (but a few that stale conservative words may keep).

enum { FinRounds = 4, FinPerRound = 400, FinKeep = 16, FinRearm = 3, FinSlack = 8 };
enum { FinPlain, FinResurrect, FinRearmKind, FinAlloc, FinChan, FinGC, NFinKind };

typedef struct FObj { struct FObj *child; uintptr_t id, sum, kind, runs; } FObj;
static const uint8_t fobj_mask[] = { GORT_PTRMASK_BIT(FObj, child) };
static const GortType fobj_type = GORT_TYPE(FObj, fobj_mask);

static uint32_t finruns, finexpected, finbad;
static char finerr[200];
static FObj *volatile finkept[FinKeep];	// reachable, with finalizers: must never run
static FObj *volatile finresurrected[FinRounds*FinPerRound];
static uint32_t nresurrected;
static void *volatile finallocs[FinRounds*FinPerRound];
static GortChan *finchan;
static uint32_t finconsumed;

static void
finfail(const char *what, FObj *o)
{
	if(__atomic_fetch_add(&finbad, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(finerr, sizeof finerr, "%s: object %p id %#lx kind %lu", what, (void*)o,
			(unsigned long)o->id, (unsigned long)o->kind);
}

static void fintorture(void *p);

static void
fintorture(void *p)
{
	FObj *o = p, *r;
	uintptr_t v;

	if(o->sum != mixhash(o->id) || o->child == NULL || o->child->sum != mixhash(o->child->id))
		finfail("finalized object or its child not intact", o);
	if(o->kind >= 100)
		finfail("finalizer ran for a reachable object", o);
	o->runs++;
	switch(o->kind) {
	case FinResurrect:
		r = o;
		finresurrected[__atomic_fetch_add(&nresurrected, 1, __ATOMIC_SEQ_CST)] = r;
		break;
	case FinRearmKind:
		if(o->runs < FinRearm)
			gort_set_finalizer(o, fintorture);
		break;
	case FinAlloc:
		r = gort_new(&fobj_type);
		r->id = o->id + 1;
		r->sum = mixhash(r->id);
		r->child = o->child;
		finallocs[o->id % (FinRounds*FinPerRound)] = r;
		break;
	case FinChan:
		v = o->id;
		gort_chan_send(finchan, &v);	// unbuffered: waits for the consumer
		break;
	case FinGC:
		if(o->id % 64 == 0)
			gort_gc();
		break;
	}
	__atomic_add_fetch(&finruns, 1, __ATOMIC_SEQ_CST);
}

static void
finconsumer(void *arg)
{
	uintptr_t v;

	(void)arg;
	while(gort_chan_recv(finchan, &v))
		__atomic_add_fetch(&finconsumed, 1, __ATOMIC_SEQ_CST);
}

static void
finmake(void *arg)
{
	int round = (int)(uintptr_t)arg, i;
	FObj *o;

	for(i = 0; i < FinPerRound; i++) {
		o = gort_new(&fobj_type);
		o->id = (uintptr_t)(round*FinPerRound + i) << 4;
		o->sum = mixhash(o->id);
		o->kind = i % NFinKind;
		o->child = gort_new(&fobj_type);
		o->child->id = o->id + 3;
		o->child->sum = mixhash(o->child->id);
		gort_set_finalizer(o, fintorture);
		__atomic_add_fetch(&finexpected, o->kind == FinRearmKind ? FinRearm : 1, __ATOMIC_SEQ_CST);
	}
	// Kept: reachable from .bss through all the rounds, never finalized.
	for(i = 0; i < FinKeep && finkept[i] == NULL; i++) {
		o = gort_new(&fobj_type);
		o->id = 1;
		o->sum = mixhash(1);
		o->kind = 100;
		o->child = gort_new(&fobj_type);	// not o: a finalizable object in a cycle is never finalized
		o->child->id = 2;
		o->child->sum = mixhash(2);
		gort_set_finalizer(o, fintorture);
		finkept[i] = o;
	}
}

GORT_TEST(test_finalizer_torture)
{
	void *args[1];
	uint32_t want, got;
	int round, k, i, soakn = getenv("GORT_SOAK") ? atoi(getenv("GORT_SOAK")) : 1;

	finchan = gort_chan_make(sizeof(uintptr_t), 0);
	gort_go(finconsumer, NULL);
	for(k = 0; k < soakn; k++) {
		for(round = 0; round < FinRounds; round++) {
			gort_gomaxprocs(round + 1);
			args[0] = (void*)(uintptr_t)round;
			go_and_wait(1, finmake, args);
			want = aload(&finexpected);
			for(i = 0; i < 400; i++) {
				gort_gc();
				WAIT_UNTIL(runtime_finqidle());	// what it queued has run
				got = aload(&finruns);
				if(got == want || (i >= 20 && want - got <= FinSlack))
					break;
			}
			ck_assert_msg(aload(&finbad) == 0, "%s", finerr);
			ck_assert_msg(want - got <= FinSlack, "round %d: %u of %u finalizer runs", round, got, want);
			// The resurrected objects are intact and stay so; dropped
			// again, they are not finalized a second time.
			for(i = 0; i < (int)aload(&nresurrected); i++) {
				FObj *o = finresurrected[i];

				ck_assert_msg(o->sum == mixhash(o->id) && o->child->sum == mixhash(o->child->id),
					"resurrected object %p not intact", (void*)o);
				finresurrected[i] = NULL;
			}
			astore(&nresurrected, 0);
			for(i = 0; i < FinRounds*FinPerRound; i++) {
				FObj *r = finallocs[i];

				if(r != NULL)
					ck_assert_msg(r->sum == mixhash(r->id) && r->child->sum == mixhash(r->child->id),
						"object allocated by a finalizer not intact");
				finallocs[i] = NULL;
			}
		}
		// Everything is dropped: the re-armed and resurrected ones ran as
		// often as they should, no more.
		gort_gc();
		gort_gc();
		ck_assert_msg(aload(&finruns) <= aload(&finexpected), "%u finalizer runs, want at most %u",
			aload(&finruns), aload(&finexpected));
		ck_assert_msg(aload(&finbad) == 0, "%s", finerr);
	}
	for(i = 0; i < FinKeep; i++)
		ck_assert_uint_eq(finkept[i]->runs, 0);
	ck_assert_uint_gt(aload(&finconsumed), 0);
}

// And with it on, the other tests' collections all pass it (meson runs
// this suite and check_mgc with GODEBUG=gccheckmark=1 too); here, many
// goroutines' stacks and typed, untyped and noscan blocks, on every P.
static Suite *
gcsafety_suite(void)
{
	Suite *s = suite_create("gcsafety");
	TCase *tc;

	tc = new_tcase("regressions");
	tcase_add_test(tc, test_free_forgets_type);
	tcase_add_test(tc, test_gchelper_late);
	tcase_add_test(tc, test_free_of_collected_block);
	tcase_add_test(tc, test_unswept_free_span);
	tcase_add_test(tc, test_finalizer_collects_then_sends);
	tcase_add_test(tc, test_fork_under_load);
	tcase_add_test(tc, test_fork_child_may_not_use_gort);
	tcase_add_test(tc, test_add_roots_unaligned);
	tcase_add_test(tc, test_gccheckmark_finds_unmarked);
	suite_add_tcase(s, tc);

	tc = new_tcase("torture");
	// GORT_SOAK=k runs them k times longer (the stress suite).
	tcase_set_timeout(tc, 300 * (getenv("GORT_SOAK") ? atoi(getenv("GORT_SOAK")) : 1));
	tcase_add_test(tc, test_mixed_torture);
	tcase_add_test(tc, test_finalizer_torture);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(gcsafety_suite());
}
