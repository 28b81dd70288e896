// fuzz_api: a libFuzzer target for gort's collector (issue 10, "a
// reachable object is never freed").
//
// The input is a program of operations on gort's public API (allocate
// untyped / typed / array / noscan blocks of many sizes and masks, store
// pointers into blocks and root slots, drop them, free, set and clear
// finalizers, collect, yield, run ops in another goroutine, GOMAXPROCS,
// GOGC, sweep mode, garbage churn) interpreted over a shadow model that
// knows which objects must be alive. After every collection (explicit,
// or automatic: mstats.numgc moved) and at the end of the input, every
// object reachable in the model must still hold its contents: word 0 its
// id, the other words their checksum pattern or the pointer stored there;
// and no finalizer may have run for a reachable object, nor for one whose
// finalizer was never set or was cleared, nor twice. A violation prints
// what failed and the last ops, and the libFuzzer thread aborts (libFuzzer
// saves the input).
//
// The model. Edges are the pointers the collector must follow: words of
// untyped blocks (scanned conservatively) and the ptrmask words of typed
// ones. Pointers stored in noscan blocks or in the data words of typed
// blocks are checked as data but keep nothing alive. An object no slot
// reaches is forgotten at once (it may be collected from then on); ops
// pick their operands among reachable objects only. gort_free is called
// only on a reachable, non-tiny object without a finalizer, after the
// model has unlinked every edge to it (it is held in the root fz_pin
// meanwhile), so nothing the model knows reaches it: a legal free.
//
// Roots. The model's slots are the global array fz_slots (bss: scanned
// conservatively by the collector). The shadow model lives in libc
// malloc memory, which the collector does not scan, so it does not keep
// anything alive. Conservative scanning of stacks and untyped blocks may
// retain garbage: the model never asserts that something was freed.
//
// Threads. libFuzzer calls LLVMFuzzerTestOneInput on its own thread,
// which may not call gort. The first call starts a thread that runs
// gort_main(server): the server goroutine polls an atomic for the next
// input (yields, then gort_sleep between polls, so that it never keeps the
// world from stopping), runs it, and signals a condition variable the
// libFuzzer thread waits on. gort starts after libFuzzer has installed its
// signal handlers, so gort's SIGSEGV handler (stack overflow) chains to
// them. OP_SPAWN runs the next ops in a new goroutine and waits for it on
// a channel: ops are never concurrent, so the model needs no locks (the
// finalizer goroutine only appends to a lock-free log).
//
// Heap state carries over from one input to the next (free lists, span
// type tables), so a failure may need the inputs before it: with
// FUZZ_HISTORY_DIR set, a failure writes the last 16 inputs there, to be
// replayed in order in one process.
//
// Input format: a sequence of ops, each an opcode byte (mod NOP) and its
// argument bytes (missing bytes read as 0). See the OP_ enum.
//
// Knobs (environment): FUZZ_TRACE=1 prints every op to stderr;
// FUZZ_TYPECHECK=1 also checks, at every verification, that gort's span
// type table agrees with each reachable object's type (a white-box check,
// off by default: the fuzzer's real oracle is the object contents);
// FUZZ_HISTORY_DIR (above).

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gort.h>
#include "malloc.h"	// runtime_debug (the sweep mode), mstats.numgc, runtime_checkheap

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// ---- limits -----------------------------------------------------------------------

enum {
	NSLOTS = 16,		// root slots
	MAXOPS = 400,		// ops run per input
	MAXLIVE = 256,		// objects in the model at once
	MAXSERIAL = 2048,	// objects allocated into the model per input
	MAXGC = 12,		// explicit collections per input (the costly op)
	MAXLIVEBYTES = 1 << 20,	// bytes in the model at once
	MAXDEPTH = 3,		// nested goroutines
	CHURNMAX = 48,		// garbage blocks per churn op
	FINLOG = 1 << 14,	// finalizer log ring
	TRACERING = 48,		// ops remembered for failure reports
};

// ---- types: ptrmasks for gort_new / gort_new_array ----------------------------------
//
// Word 0 of every object holds its id, so no mask marks word 0. Sizes
// cover classes 16..512 (and 1024), several shared with untyped sizes
// (24 and 40 round up to the classes of 32 and 48).

typedef struct FType {
	GortType t;
	uint32_t nwords;
	int haspointers;
} FType;

static const uint8_t m16[] = { 0x02 };				// [id p]
static const uint8_t m24[] = { 0x04 };				// [id d p]        class 32
static const uint8_t m32[] = { 0x0a };				// [id p d p]
static const uint8_t m40[] = { 0x12 };				// [id p d d p]    class 48
static const uint8_t m48[] = { 0x3e };				// [id p p p p p]
static const uint8_t m64[] = { 0x80 };				// last word only
static const uint8_t m80[] = { 0x54, 0x02 };			// 10 words
static const uint8_t m96[] = { 0x00, 0x00 };			// 12 words, no pointers: noscan
static const uint8_t m112[] = { 0xaa, 0x2a };			// 14 words, odd words
static const uint8_t m144[] = { 0xf0, 0x0f, 0x02 };		// 18 words
static const uint8_t m256[] = { 0x48, 0x92, 0x24, 0x49 };	// 32 words, every third
static const uint8_t m512[] = { 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0 };	// first half
static const uint8_t m1024[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 }; // last of 128

#define FT(sz, m) { { (sz), (m), "fz" #sz }, (sz) / 8, 0 }
static FType ftypes[] = {
	FT(16, m16), FT(24, m24), FT(32, m32), FT(40, m40), FT(48, m48), FT(64, m64),
	FT(80, m80), FT(96, m96), FT(112, m112), FT(144, m144), FT(256, m256), FT(512, m512),
	FT(1024, m1024),
};
enum { NTYPES = sizeof ftypes / sizeof ftypes[0] };

static int
ptrword(const FType *ft, size_t w)
{
	w %= ft->nwords;
	return (ft->t.ptrmask[w / 8] >> (w % 8)) & 1;
}

// ---- the shadow model (libc memory: not a root) --------------------------------------

enum { K_UNTYPED, K_TYPED, K_NOSCAN };
static const char *kindname[] = { "untyped", "typed", "noscan" };
enum { FIN_NONE, FIN_SET, FIN_CLEARED, FIN_RAN };

typedef struct Obj {
	uint64_t id;		// word 0 (if the object has one); seeds the pattern
	uint32_t serial;
	int kind;
	int tiny;		// noscan and < 16 bytes: gort_free refuses it
	int fin;		// finalizer set now
	int mark;
	uintptr_t addr;
	size_t size;		// bytes requested
	size_t nwords;		// size/8
	const FType *ft;	// K_TYPED: the element type
	size_t n;		// K_TYPED: elements (gort_new: 1)
	uintptr_t *val;		// expected word values
	int32_t *tgt;		// per word: serial of the edge's target, or -1
	uint32_t *ew;		// words holding edges
	uint32_t nedge, capedge;
} Obj;

static struct {
	Obj *o[MAXLIVE];	// model objects, in allocation order
	int nobj;
	int32_t slot[NSLOTS];	// serial in each root slot, or -1
	int32_t byserial[MAXSERIAL];	// serial -> index in o[], or -1
	uint8_t finstate[MAXSERIAL];
	uint32_t nserial;
	size_t livebytes;
	int dirty;		// an edge went away: recompute reachability
	uint32_t epoch;
	int ngc;
	uint32_t lastnumgc;
	int nops;
	int depth;
	int sweepmode0, procs0, gcpct0;
	int trace, typecheck;
	char *ring[TRACERING];
	int ringpos;
	const uint8_t *data;
	size_t size, pos;
} md;

// The roots: scanned conservatively as bss. fz_pin holds an object
// across the window where it is unlinked from the model and freed.
void *volatile fz_slots[NSLOTS];
void *volatile fz_pin;
void *volatile fz_new;	// the last allocation, until the op has linked it into the model

// Finalizer log: the finalizer goroutine appends ids; the interpreter
// drains it at every verification.
static uint64_t *finlog;
static uint64_t finlog_w, finlog_r, finlog_lost;

static void
finalizer(void *obj)
{
	uint64_t id, i;

	memcpy(&id, obj, sizeof id);
	if(id == 0)
		id = 1;	// never 0: 0 marks an empty log entry
	i = __atomic_fetch_add(&finlog_w, 1, __ATOMIC_SEQ_CST);
	if(i - __atomic_load_n(&finlog_r, __ATOMIC_SEQ_CST) >= FINLOG) {
		__atomic_fetch_add(&finlog_lost, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_store_n(&finlog[i % FINLOG], id, __ATOMIC_SEQ_CST);
}

// ---- ids and patterns -----------------------------------------------------------------

#define IDMAGIC 0x5a17ULL

static uint64_t
mkid(uint32_t serial)
{
	return IDMAGIC << 48 | (uint64_t)(md.epoch & 0xffffff) << 24 | serial;
}

// A word of checksum: top 16 bits 0xc3a5, so it is never a canonical
// address and conservative scanning cannot mistake it for a pointer.
static uintptr_t
pattern(uint64_t id, size_t w)
{
	uint64_t x = id * 0x9e3779b97f4a7c15ULL ^ (w + 1) * 0xd6e8feb86659fd93ULL;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (uintptr_t)(0xc3a5ULL << 48 | (x & 0xffffffffffffULL));
}

// The value of word w of o when it holds no stored pointer.
static uintptr_t
defval(const Obj *o, size_t w)
{
	if(w == 0)
		return o->id;
	if(o->kind == K_TYPED && ptrword(o->ft, w))
		return 0;
	return pattern(o->id, w);
}

static uint8_t
tailbyte(const Obj *o, size_t i)
{
	return (uint8_t)(pattern(o->id, o->nwords + i / 8) >> (8 * (i % 8)));
}

// ---- failure reports ------------------------------------------------------------------

static void
tracef(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if(md.trace)
		fprintf(stderr, "fz: %s\n", buf);
	free(md.ring[md.ringpos]);
	md.ring[md.ringpos] = strdup(buf);
	md.ringpos = (md.ringpos + 1) % TRACERING;
}

static void failnow(void) __attribute__((noreturn));

// The last inputs, oldest first (the heap they left behind is part of
// the state an input runs in). Written by the libFuzzer thread, read by
// fail() while that thread waits for the failing input.
enum { HIST = 16 };
static uint8_t *hist[HIST];
static size_t histlen[HIST];
static uint64_t nhist;

static void
writehistory(void)
{
	const char *dir = getenv("FUZZ_HISTORY_DIR");
	char path[4096];
	uint64_t k, first = nhist > HIST ? nhist - HIST : 0;
	FILE *f;

	if(dir == NULL || dir[0] == 0 || nhist < 2) {
		if(nhist >= 2)
			fprintf(stderr, "==== (set FUZZ_HISTORY_DIR to keep the inputs run before this one)\n");
		return;
	}
	for(k = first; k < nhist; k++) {
		snprintf(path, sizeof path, "%s/history-%d-%02d", dir, (int)getpid(), (int)(k - first));
		if((f = fopen(path, "wb")) == NULL)
			return;
		fwrite(hist[k % HIST], 1, histlen[k % HIST], f);
		fclose(f);
	}
	fprintf(stderr, "==== this input and the %d before it: %s/history-%d-NN; a failure that needs the heap\n"
		"==== earlier inputs left may reappear when they run again in order in one process:\n"
		"====   fuzz_api -runs=1 %s/history-%d-*\n", (int)(nhist - first - 1), dir, (int)getpid(), dir, (int)getpid());
}

static void
fail(const char *fmt, ...)
{
	va_list ap;
	int i;

	fprintf(stderr, "\n==== gort fuzz_api: INVARIANT VIOLATED (input epoch %u, op %d, sweep %s, GOMAXPROCS %d)\n",
		md.epoch, md.nops, runtime_debug.concurrentsweep ? "concurrent" : "in the pause", gort_gomaxprocs(0));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n==== last ops (oldest first):\n");
	for(i = 0; i < TRACERING; i++) {
		const char *s = md.ring[(md.ringpos + i) % TRACERING];
		if(s != NULL)
			fprintf(stderr, "  %s\n", s);
	}
	writehistory();
	fflush(stderr);
	failnow();
}

// ---- model operations -----------------------------------------------------------------

static uint8_t
rd(void)
{
	return md.pos < md.size ? md.data[md.pos++] : 0;
}

static Obj *
byserial(int32_t s)
{
	int32_t i;

	if(s < 0 || (uint32_t)s >= md.nserial || (i = md.byserial[s]) < 0)
		return NULL;
	return md.o[i];
}

static void
addedge(Obj *o, size_t w)
{
	if(o->nedge == o->capedge) {
		o->capedge = o->capedge ? 2 * o->capedge : 4;
		o->ew = realloc(o->ew, o->capedge * sizeof o->ew[0]);
	}
	o->ew[o->nedge++] = (uint32_t)w;
}

static void
deledge(Obj *o, size_t w)
{
	uint32_t i;

	for(i = 0; i < o->nedge; i++)
		if(o->ew[i] == w) {
			o->ew[i] = o->ew[--o->nedge];
			return;
		}
	fail("model: edge word %zu of #%u not in its list", w, o->serial);
}

// Set word w of o (memory and model) to value v; t is the serial of the
// target if the collector sees the word as an edge, else -1.
static void
setword(Obj *o, size_t w, uintptr_t v, int32_t t)
{
	((volatile uintptr_t *)o->addr)[w] = v;
	if(o->tgt[w] >= 0) {
		deledge(o, w);
		md.dirty = 1;
	}
	o->val[w] = v;
	o->tgt[w] = t;
	if(t >= 0)
		addedge(o, w);
}

static void
freeobj(Obj *o)
{
	md.byserial[o->serial] = -1;
	md.livebytes -= o->size;
	free(o->val);
	free(o->tgt);
	free(o->ew);
	free(o);
}

// Recompute what is reachable from the slots; forget the rest (it may be
// collected at any time from now on).
static void
reach(void)
{
	int32_t *stack;
	int sp = 0, i, j;
	uint32_t e;
	Obj *o, *t;

	if(!md.dirty)
		return;
	md.dirty = 0;
	stack = malloc(sizeof stack[0] * (MAXLIVE + 1));
	for(i = 0; i < md.nobj; i++)
		md.o[i]->mark = 0;
	for(i = 0; i < NSLOTS; i++) {
		if((o = byserial(md.slot[i])) != NULL && !o->mark) {
			o->mark = 1;
			stack[sp++] = (int32_t)o->serial;
		}
	}
	while(sp > 0) {
		o = byserial(stack[--sp]);
		for(e = 0; e < o->nedge; e++) {
			t = byserial(o->tgt[o->ew[e]]);
			if(t == NULL)
				fail("model: #%u word %u: edge to forgotten #%d", o->serial, o->ew[e], o->tgt[o->ew[e]]);
			if(!t->mark) {
				t->mark = 1;
				stack[sp++] = (int32_t)t->serial;
			}
		}
	}
	free(stack);
	for(i = j = 0; i < md.nobj; i++) {
		o = md.o[i];
		if(o->mark) {
			md.o[j] = o;
			md.byserial[o->serial] = j++;
		} else {
			if(md.trace)
				fprintf(stderr, "fz:   #%u unreachable now\n", o->serial);
			freeobj(o);
		}
	}
	md.nobj = j;
}

// "#serial (kind type, size)", for traces; two buffers in rotation.
static const char *
desc(const Obj *o)
{
	static char buf[2][96];
	static int k;
	char *b = buf[k++ % 2];

	if(o == NULL)
		return "(skipped)";
	snprintf(b, sizeof buf[0], "#%u (%s%s%s%s, %zu B at %p)", o->serial, kindname[o->kind], o->ft ? " " : "",
		o->ft ? o->ft->t.name : "", o->n > 1 ? "[]" : "", o->size, (void *)o->addr);
	return b;
}

static Obj *
pick(uint8_t sel)
{
	reach();
	if(md.nobj == 0)
		return NULL;
	return md.o[sel % md.nobj];
}

// Fill a fresh object with its id, patterns and tail bytes.
static void
fill(Obj *o)
{
	size_t w, i;
	volatile uint8_t *b = (volatile uint8_t *)o->addr;

	for(w = 0; w < o->nwords; w++) {
		o->val[w] = defval(o, w);
		o->tgt[w] = -1;
		((volatile uintptr_t *)o->addr)[w] = o->val[w];
	}
	for(i = 0; i < o->size % 8; i++)
		b[o->nwords * 8 + i] = tailbyte(o, i);
}

// Decode a size: mostly up to 4 KB, sometimes up to 32 KB, rarely large.
static size_t
rdsize(void)
{
	unsigned v = rd();

	v = v << 8 | rd();
	switch(v >> 14) {
	case 0:
		return 8 * (1 + (v & 63));			// 8..512, whole words
	case 1:
		return 1 + (v & 1023);				// 1..1024
	case 2:
		return 1 + (v & 4095);				// 1..4096
	default:
		if((v & 0x3000) == 0x3000)
			return 32 * 1024 + 1 + (v & 0xfff) * 8;	// large: 32 KB..64 KB
		return 1 + (v & 0xfff) * 8;			// up to 32 KB
	}
}

// Allocate a model object of the given kind. The caller stores it
// somewhere reachable before the next allocation.
static Obj *
alloc(int kind, size_t size, const FType *ft, size_t n)
{
	Obj *o;
	void *p;

	if(md.nobj >= MAXLIVE || md.nserial >= MAXSERIAL || md.livebytes + size > MAXLIVEBYTES)
		return NULL;
	switch(kind) {
	case K_UNTYPED:
		p = gort_malloc(size);
		break;
	case K_NOSCAN:
		p = gort_malloc_noscan(size);
		break;
	default:
		size = ft->t.size * n;
		if(md.livebytes + size > MAXLIVEBYTES)
			return NULL;
		p = n == 1 ? gort_new(&ft->t) : gort_new_array(&ft->t, n);
		break;
	}
	if(p == NULL)
		fail("allocation of %zu bytes returned NULL", size);
	fz_new = p;	// a root until the caller has linked it into the model
	o = calloc(1, sizeof *o);
	o->serial = md.nserial++;
	o->id = mkid(o->serial);
	o->kind = kind;
	o->ft = kind == K_TYPED ? ft : NULL;
	o->n = n;
	o->addr = (uintptr_t)p;
	o->size = size;
	o->nwords = size / 8;
	o->tiny = (kind == K_NOSCAN || (kind == K_TYPED && !ft->haspointers)) && size < 16;
	o->val = calloc(o->nwords + 1, sizeof o->val[0]);
	o->tgt = calloc(o->nwords + 1, sizeof o->tgt[0]);
	md.byserial[o->serial] = md.nobj;
	md.o[md.nobj++] = o;
	md.finstate[o->serial] = FIN_NONE;
	md.livebytes += size;
	md.dirty = 1;	// forgotten at the next reach() unless linked by then
	fill(o);
	return o;
}

static void
setslot(int s, Obj *o)
{
	fz_slots[s] = o ? (void *)o->addr : NULL;
	if(md.slot[s] >= 0)
		md.dirty = 1;
	md.slot[s] = o ? (int32_t)o->serial : -1;
}

// The word of o that a store selector names (never word 0), or -1.
static long
pickword(const Obj *o, uint8_t w, int wantedge)
{
	size_t i, k;

	if(o->nwords < 2)
		return -1;
	k = 1 + w % (o->nwords - 1);
	if(!wantedge || o->kind != K_TYPED)
		return (long)k;
	// Typed: the first pointer word at or after k (wrapping), if any.
	for(i = 0; i < o->nwords - 1; i++) {
		size_t j = 1 + (k - 1 + i) % (o->nwords - 1);
		if(ptrword(o->ft, j))
			return (long)j;
	}
	return (long)k;
}

// Store a pointer to t (plus off) into word w of o.
static void
store(Obj *o, size_t w, Obj *t, size_t off)
{
	int edge;
	uintptr_t v;

	if(t == NULL) {
		setword(o, w, defval(o, w), -1);
		return;
	}
	v = t->addr + (t->size ? off % t->size : 0);
	edge = o->kind == K_UNTYPED || (o->kind == K_TYPED && ptrword(o->ft, w));
	setword(o, w, v, edge ? (int32_t)t->serial : -1);
}

// ---- verification ---------------------------------------------------------------------

static const char *finname[] = { "never set", "set", "cleared", "run already" };

static void
drainfin(void)
{
	uint64_t r, w, id;
	uint32_t serial;
	Obj *o;

	w = __atomic_load_n(&finlog_w, __ATOMIC_SEQ_CST);
	for(r = finlog_r; r < w; r++) {
		id = __atomic_load_n(&finlog[r % FINLOG], __ATOMIC_SEQ_CST);
		if(id == 0)
			break;	// being written
		__atomic_store_n(&finlog[r % FINLOG], 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&finlog_r, r + 1, __ATOMIC_SEQ_CST);
		if(id >> 48 != IDMAGIC)
			fail("a finalizer ran on an object whose id word is %#llx (not an id: the object was "
			     "overwritten before its finalizer ran)", (unsigned long long)id);
		if(((id >> 24) & 0xffffff) != (md.epoch & 0xffffff))
			continue;	// an earlier input's object
		serial = id & 0xffffff;
		if(serial >= md.nserial)
			fail("a finalizer ran for id %#llx, never allocated", (unsigned long long)id);
		if((o = byserial((int32_t)serial)) != NULL)
			fail("the finalizer of #%u (%s, %zu bytes at %p) ran, but it is reachable", serial,
				kindname[o->kind], o->size, (void *)o->addr);
		if(md.finstate[serial] != FIN_SET)
			fail("the finalizer of #%u ran, but it was %s", serial, finname[md.finstate[serial]]);
		md.finstate[serial] = FIN_RAN;
		tracef("  finalizer ran for #%u", serial);
	}
}

static void
verify(const char *why)
{
	int i;
	size_t w, k;
	Obj *o;
	volatile uintptr_t *p;

	reach();
	md.lastnumgc = __atomic_load_n(&mstats.numgc, __ATOMIC_SEQ_CST);
	for(i = 0; i < md.nobj; i++) {
		o = md.o[i];
		p = (volatile uintptr_t *)o->addr;
		for(w = 0; w < o->nwords; w++) {
			if(p[w] != o->val[w])
				fail("after %s: reachable object #%u (%s%s%s, %zu bytes at %p) word %zu is %#llx, want %#llx\n"
				     "(the collector freed or reused a block the model reaches; word 0 is the object's id)",
					why, o->serial, kindname[o->kind], o->ft ? " " : "", o->ft ? o->ft->t.name : "",
					o->size, (void *)o->addr, w, (unsigned long long)p[w], (unsigned long long)o->val[w]);
		}
		for(k = 0; k < o->size % 8; k++)
			if(((volatile uint8_t *)p)[o->nwords * 8 + k] != tailbyte(o, k))
				fail("after %s: reachable object #%u (%s, %zu bytes at %p) byte %zu changed",
					why, o->serial, kindname[o->kind], o->size, (void *)o->addr, o->nwords * 8 + k);
		if(md.typecheck && o->kind != K_NOSCAN) {
			uintptr_t t = runtime_gettype((void *)o->addr);
			// gort records no type for a pointer-free (noscan) one.
			uintptr_t want = o->kind == K_TYPED && o->ft->haspointers ? (uintptr_t)&o->ft->t : 0;
			if((t & ~(uintptr_t)7) != want)
				fail("after %s: reachable object #%u (%s, %zu bytes at %p): span type table says %#llx, want %#llx",
					why, o->serial, kindname[o->kind], o->size, (void *)o->addr,
					(unsigned long long)t, (unsigned long long)want);
		}
	}
	drainfin();
}

// After any op: if a collection happened (automatic ones included),
// verify.
static void
checkgc(const char *why)
{
	if(__atomic_load_n(&mstats.numgc, __ATOMIC_SEQ_CST) != md.lastnumgc)
		verify(why);
}

// ---- the interpreter -------------------------------------------------------------------

enum {
	OP_MALLOC,	// slot, size(2)          untyped block into a slot
	OP_NOSCAN,	// slot, size(2)          noscan block into a slot
	OP_NEW,		// slot, type             gort_new
	OP_NEWARRAY,	// slot, type, count      gort_new_array
	OP_STORE,	// dst, word, src, off    pointer to src (0xff: clear) into a word of dst
	OP_STORENEW,	// dst, word, kind, arg   a new object stored into a word of dst
	OP_ROOT,	// slot, sel              an object into a slot
	OP_DROP,	// slot                   clear a slot
	OP_FREE,	// sel                    unlink an object from the model and gort_free it
	OP_SETFIN,	// sel
	OP_CLEARFIN,	// sel
	OP_GC,		// flags                  gort_gc (bit 0: then runtime_checkheap)
	OP_GOSCHED,
	OP_SPAWN,	// n                      the next n ops run in a new goroutine; wait for it
	OP_PROCS,	// n                      GOMAXPROCS 1 or 2
	OP_SWEEPMODE,	//                        toggle concurrent sweep / sweep in the pause
	OP_CHURN,	// count, kinds, frees    garbage blocks, some freed explicitly
	OP_GCPERCENT,	// v                      GOGC
	OP_SLEEP,	// v                      gort_sleep (bgsweep and finalizers run)
	OP_FREEOSMEM,	//                        gort_free_os_memory (eager sweep)
	NOP
};

static void run(int nops);

// A child goroutine's orders. It lives on the parent's stack, which is
// scanned: the channel in it (a GC heap object) stays alive.
typedef struct Child {
	int nops;
	GortChan *done;
} Child;

static void
childmain(void *arg)
{
	Child *c = arg;
	int one = 1;

	md.depth++;
	run(c->nops);
	md.depth--;
	gort_chan_send(c->done, &one);
}

static Obj *
newchild(uint8_t kind, uint8_t arg)
{
	switch(kind % 4) {
	case 0:
		return alloc(K_UNTYPED, 8 + 8 * (arg % 64), NULL, 1);
	case 1:
		return alloc(K_TYPED, 0, &ftypes[arg % NTYPES], 1);
	case 2:
		return alloc(K_NOSCAN, 1 + arg, NULL, 1);
	default:
		return alloc(K_TYPED, 0, &ftypes[arg % 6], 1 + arg % 5);
	}
}

static void
churn(uint8_t count, uint8_t kinds, uint8_t frees)
{
	void *tmp[CHURNMAX];
	uint8_t tiny[CHURNMAX];
	int n = 1 + count % CHURNMAX, i, j;
	size_t sz;
	const FType *ft;

	for(i = 0; i < n; i++) {
		ft = &ftypes[(kinds + i) % NTYPES];
		tiny[i] = 0;
		switch((kinds >> (i % 4 * 2)) & 3) {
		case 0:
		case 1:
			tmp[i] = gort_new(&ft->t);
			sz = ft->t.size;
			tiny[i] = !ft->haspointers && sz < 16;
			break;
		case 2:
			sz = ft->t.size - (i % 3);	// the same classes, untyped
			tmp[i] = gort_malloc(sz);
			break;
		default:
			sz = 8 + (i * 24) % 200;
			tmp[i] = gort_malloc_noscan(sz);
			tiny[i] = sz < 16;
			break;
		}
		// Point some words at earlier garbage.
		for(j = 1; (size_t)j < sz / 8 && j < 8; j++)
			((void **)tmp[i])[j] = tmp[(i + j) % (i + 1)];
	}
	for(i = 0; i < n; i++)
		if(((frees >> (i % 8)) & 1) && !tiny[i])
			gort_free(tmp[i]);
	memset(tmp, 0, sizeof tmp);
}

static void
run(int nops)
{
	int i;

	for(i = 0; i < nops && md.pos < md.size && md.nops < MAXOPS; i++) {
		uint8_t op = rd() % NOP, a, b, c, d;
		Obj *o, *t;
		long w;
		size_t sz;
		int s;

		md.nops++;
		switch(op) {
		case OP_MALLOC:
		case OP_NOSCAN:
			s = rd() % NSLOTS;
			sz = rdsize();
			o = alloc(op == OP_MALLOC ? K_UNTYPED : K_NOSCAN, sz, NULL, 1);
			tracef("%*s%s %zu -> slot %d: %s", md.depth * 2, "", op == OP_MALLOC ? "malloc" : "malloc_noscan",
				sz, s, desc(o));
			if(o)
				setslot(s, o);
			break;
		case OP_NEW:
			s = rd() % NSLOTS;
			a = rd();
			o = alloc(K_TYPED, 0, &ftypes[a % NTYPES], 1);
			tracef("%*snew %s -> slot %d: %s", md.depth * 2, "", ftypes[a % NTYPES].t.name, s, desc(o));
			if(o)
				setslot(s, o);
			break;
		case OP_NEWARRAY:
			s = rd() % NSLOTS;
			a = rd();
			b = rd();
			sz = b >= 0xf8 ? 40 * 1024 / ftypes[a % NTYPES].t.size : 1 + b % 16;
			o = alloc(K_TYPED, 0, &ftypes[a % NTYPES], sz);
			tracef("%*snew_array %s x %zu -> slot %d: %s", md.depth * 2, "", ftypes[a % NTYPES].t.name, sz, s,
				desc(o));
			if(o)
				setslot(s, o);
			break;
		case OP_STORE:
			a = rd(), b = rd(), c = rd(), d = rd();
			if((o = pick(a)) == NULL || (w = pickword(o, b, !(d & 0x40))) < 0)
				break;
			t = c == 0xff ? NULL : pick(c);
			if(t == NULL)
				tracef("%*sstore #%u word %ld <- nil", md.depth * 2, "", o->serial, w);
			else
				tracef("%*sstore #%u word %ld%s <- #%u+%u", md.depth * 2, "", o->serial, w,
					o->kind == K_UNTYPED || (o->kind == K_TYPED && ptrword(o->ft, w)) ? "" : " (not scanned)",
					t->serial, (d & 0x80) ? d & 0x7f : 0);
			store(o, (size_t)w, t, (d & 0x80) ? d & 0x7f : 0);
			break;
		case OP_STORENEW:
			a = rd(), b = rd(), c = rd(), d = rd();
			if((o = pick(a)) == NULL || (w = pickword(o, b, 1)) < 0)
				break;
			// o stays reachable: allocation drops nothing from the model.
			t = newchild(c, d);
			tracef("%*sstore #%u word %ld%s <- new %s", md.depth * 2, "", o->serial, w,
				o->kind == K_UNTYPED || (o->kind == K_TYPED && ptrword(o->ft, w)) ? "" : " (not scanned)", desc(t));
			if(t)
				store(o, (size_t)w, t, 0);
			break;
		case OP_ROOT:
			s = rd() % NSLOTS;
			a = rd();
			if((o = pick(a)) == NULL)
				break;
			tracef("%*sslot %d <- #%u", md.depth * 2, "", s, o->serial);
			setslot(s, o);
			break;
		case OP_DROP:
			s = rd() % NSLOTS;
			tracef("%*sslot %d <- nil", md.depth * 2, "", s);
			setslot(s, NULL);
			break;
		case OP_FREE: {
			int j;
			uint32_t e;

			a = rd();
			// Not a tiny block, not one with a finalizer: freeing those is
			// fatal by design.
			if((o = pick(a)) == NULL || o->tiny || o->fin)
				break;
			tracef("%*sfree #%u (%s%s%s, %zu bytes at %p)", md.depth * 2, "", o->serial, kindname[o->kind],
				o->ft ? " " : "", o->ft ? o->ft->t.name : "", o->size, (void *)o->addr);
			// Hold it in a root while unlinking it: then nothing the
			// model knows reaches it, and gort_free is legal.
			fz_pin = (void *)o->addr;
			for(j = 0; j < NSLOTS; j++)
				if(md.slot[j] == (int32_t)o->serial)
					setslot(j, NULL);
			for(j = 0; j < md.nobj; j++) {
				Obj *p = md.o[j];
				for(e = 0; e < p->nedge;) {
					size_t ww = p->ew[e];
					if(p->tgt[ww] == (int32_t)o->serial)
						setword(p, ww, defval(p, ww), -1);
					else
						e++;
				}
			}
			gort_free((void *)o->addr);
			fz_pin = NULL;
			// Forget it now; what only it reached goes at the next reach().
			for(j = 0; j < md.nobj; j++)
				if(md.o[j] == o)
					break;
			memmove(&md.o[j], &md.o[j + 1], (md.nobj - j - 1) * sizeof md.o[0]);
			md.nobj--;
			freeobj(o);
			for(; j < md.nobj; j++)
				md.byserial[md.o[j]->serial] = j;
			md.dirty = 1;
			break;
		}
		case OP_SETFIN:
			a = rd();
			if((o = pick(a)) == NULL || o->fin || o->size < 8)
				break;
			tracef("%*sset_finalizer #%u", md.depth * 2, "", o->serial);
			gort_set_finalizer((void *)o->addr, finalizer);
			o->fin = 1;
			md.finstate[o->serial] = FIN_SET;
			break;
		case OP_CLEARFIN:
			a = rd();
			if((o = pick(a)) == NULL || !o->fin)
				break;
			tracef("%*sclear_finalizer #%u", md.depth * 2, "", o->serial);
			gort_set_finalizer((void *)o->addr, NULL);
			o->fin = 0;
			md.finstate[o->serial] = FIN_CLEARED;
			break;
		case OP_GC:
			a = rd();
			if(md.ngc >= MAXGC)
				break;
			md.ngc++;
			tracef("%*sgc%s", md.depth * 2, "", (a & 1) ? " + checkheap" : "");
			reach();
			gort_gc();
			verify("gort_gc");
			if(a & 1)
				runtime_checkheap();
			break;
		case OP_GOSCHED:
			tracef("%*sgosched", md.depth * 2, "");
			gort_gosched();
			break;
		case OP_SPAWN: {
			Child ch;
			int got;

			a = rd();
			if(md.depth >= MAXDEPTH)
				break;
			ch.nops = 1 + a % 32;
			ch.done = gort_chan_make(sizeof(int), 1);
			tracef("%*sgo { next %d ops }", md.depth * 2, "", ch.nops);
			gort_go(childmain, &ch);
			// Wait parked on the channel (a yield loop would keep a P
			// spinning while the child runs).
			gort_chan_recv(ch.done, &got);
			ch.done = NULL;
			tracef("%*s} joined", md.depth * 2, "");
			break;
		}
		case OP_PROCS:
			a = rd();
			tracef("%*sgomaxprocs %d", md.depth * 2, "", 1 + a % 2);
			gort_gomaxprocs(1 + a % 2);
			break;
		case OP_SWEEPMODE:
			// Safe between collections: mgc0.c reads the mode only when
			// a collection starts (gc(), with the world stopped: it
			// finishes the previous sweep first in both modes) and right
			// after it (gort_gc, runtime_gc); bgsweep and the lazy
			// sweepers do not depend on it.
			__atomic_store_n(&runtime_debug.concurrentsweep, !runtime_debug.concurrentsweep, __ATOMIC_SEQ_CST);
			tracef("%*ssweep mode: %s", md.depth * 2, "",
				runtime_debug.concurrentsweep ? "concurrent" : "in the pause");
			break;
		case OP_CHURN:
			a = rd(), b = rd(), c = rd();
			tracef("%*schurn %d kinds %#x frees %#x", md.depth * 2, "", 1 + a % CHURNMAX, b, c);
			churn(a, b, c);
			break;
		case OP_GCPERCENT: {
			static const int pct[] = { 1, 5, 20, 100, 400, 100, 100, 10 };
			a = rd();
			tracef("%*sgc_percent %d", md.depth * 2, "", pct[a % 8]);
			gort_set_gc_percent(pct[a % 8]);
			break;
		}
		case OP_SLEEP:
			a = rd();
			tracef("%*ssleep %d us", md.depth * 2, "", 1 + a % 50);
			gort_sleep((1 + a % 50) * 1000);
			break;
		case OP_FREEOSMEM:
			if(md.ngc >= MAXGC)
				break;
			md.ngc++;
			tracef("%*sfree_os_memory", md.depth * 2, "");
			reach();
			gort_free_os_memory();
			verify("gort_free_os_memory");
			break;
		}
		fz_new = NULL;	// linked into the model by now (or forgotten)
		checkgc("an automatic collection");
	}
}

// Run one input on a goroutine, leave nothing behind that the next relies on.
static void
runinput(const uint8_t *data, size_t size)
{
	int i;

	md.epoch++;
	md.data = data;
	md.size = size;
	md.pos = 0;
	md.nops = 0;
	md.ngc = 0;
	md.nserial = 0;
	md.nobj = 0;
	md.livebytes = 0;
	md.dirty = 0;
	md.depth = 0;
	for(i = 0; i < NSLOTS; i++)
		md.slot[i] = -1;
	for(i = 0; i < TRACERING; i++) {
		free(md.ring[i]);
		md.ring[i] = NULL;
	}
	md.lastnumgc = __atomic_load_n(&mstats.numgc, __ATOMIC_SEQ_CST);
	drainfin();	// earlier inputs' finalizers: checked for their header only

	while(md.pos < md.size && md.nops < MAXOPS)
		run(MAXOPS);

	verify("the end of the input");
	for(i = 0; i < NSLOTS; i++)
		setslot(i, NULL);
	fz_new = NULL;
	reach();
	__atomic_store_n(&runtime_debug.concurrentsweep, md.sweepmode0, __ATOMIC_SEQ_CST);
	gort_set_gc_percent(md.gcpct0);
	gort_gomaxprocs(md.procs0);
}

// ---- the hand-off between libFuzzer's thread and the server goroutine ----------------------

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const uint8_t *req_data;
static size_t req_size;
static uint64_t req_seq, done_seq;

static int failed;

// Hand the abort to the libFuzzer thread (its crash handler then runs on
// that thread's big stack, not on a 64 KB goroutine stack) and park.
static void
failnow(void)
{
	pthread_mutex_lock(&mu);
	__atomic_store_n(&failed, 1, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for(;;)
		gort_sleep(1000 * 1000 * 1000);
}

static void
server(void *arg)
{
	uint64_t seen = 0, seq;
	const char *e;
	int idle, i;
	size_t w;

	(void)arg;
	md.sweepmode0 = runtime_debug.concurrentsweep;
	md.procs0 = gort_gomaxprocs(0);
	md.gcpct0 = gort_set_gc_percent(100);
	gort_set_gc_percent(md.gcpct0);
	md.trace = (e = getenv("FUZZ_TRACE")) != NULL && e[0] == '1';
	md.typecheck = (e = getenv("FUZZ_TYPECHECK")) != NULL && e[0] == '1';
	finlog = calloc(FINLOG, sizeof finlog[0]);
	for(i = 0; i < NTYPES; i++)
		for(w = 0; w < ftypes[i].nwords; w++)
			ftypes[i].haspointers |= ptrword(&ftypes[i], w);
	for(;;) {
		idle = 0;
		while((seq = __atomic_load_n(&req_seq, __ATOMIC_ACQUIRE)) == seen) {
			// Poll: a few yields, then short sleeps. Never block the
			// thread: the world must be able to stop.
			if(idle++ < 64)
				gort_gosched();
			else
				gort_sleep(20 * 1000);
		}
		seen = seq;
		runinput(req_data, req_size);
		pthread_mutex_lock(&mu);
		__atomic_store_n(&done_seq, seq, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
}

static void *
gortthread(void *arg)
{
	(void)arg;
	gort_main(server, NULL);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pthread_t th;
	static int started;
	uint64_t seq;

	if(!started) {
		sigset_t set, old;

		// Started here, not in LLVMFuzzerInitialize: libFuzzer has set
		// its signal handlers by now, and gort's chain to them. gort's
		// threads (they inherit this mask) block the asynchronous
		// signals libFuzzer handles (timeout, interrupt, ...), so that
		// those run on this thread, not on a goroutine's small stack.
		started = 1;
		sigemptyset(&set);
		sigaddset(&set, SIGALRM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
		sigaddset(&set, SIGXFSZ);
		pthread_sigmask(SIG_BLOCK, &set, &old);
		if(pthread_create(&th, NULL, gortthread, NULL) != 0) {
			perror("fuzz_api: pthread_create");
			abort();
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	free(hist[nhist % HIST]);
	hist[nhist % HIST] = malloc(size + 1);
	memcpy(hist[nhist % HIST], data, size);
	histlen[nhist % HIST] = size;
	__atomic_store_n(&nhist, nhist + 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&mu);
	req_data = data;
	req_size = size;
	seq = __atomic_load_n(&req_seq, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&req_seq, seq, __ATOMIC_RELEASE);
	while(__atomic_load_n(&done_seq, __ATOMIC_ACQUIRE) != seq && !__atomic_load_n(&failed, __ATOMIC_SEQ_CST))
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if(__atomic_load_n(&failed, __ATOMIC_SEQ_CST))
		abort();	// the report is above; libFuzzer saves this input
	return 0;
}
