// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Garbage collector (Go's mgc0.c, at 3c3be622).
//
// GC is:
// - mark and sweep, non-moving, full (not generational)
// - parallel (up to MaxGcproc threads: the caller and helper Ms)
// - precise for gort_new objects (their GortType's ptrmask), conservative
//   for gort_malloc objects, goroutine stacks and the data segments
// - partially concurrent: mark stops the world, sweep runs alongside the
//   program (GODEBUG=concurrentsweep=0: in the pause, as before the seed)
//
// GC rate. The next collection starts when the heap has grown by GOGC
// percent (default 100) over what the last one left live: with 4 MB live
// and GOGC=100, at 8 MB (mstats.next_gc). gort never starts one below 4 MB
// (HeapMinimum; see the enum).
//
// Concurrent sweep (the seed change). At the end of the stop-the-world
// phase the live heap's size is not known, so next_gc is set as if
// everything were live, and every span is marked "needs sweeping"
// (mheap.sweepgen += 2). Each sweep of a span lowers next_gc by
// (GOGC+100)/100 of what it freed, so once all is swept next_gc is what
// the stop-the-world computation gives. The background goroutine bgsweep
// sweeps one span per time slice. So that the heap never grows past the
// real next_gc while garbage waits to be swept, allocation sweeps first:
// (1) a goroutine that needs a span of a size class sweeps spans of that
// class (MCentral_AllocList); (2) one that needs n pages from the heap
// sweeps until n pages came back (MHeap_Reclaim). Spans in the per-P
// caches are swept, and flushed at every collection. Before anything
// touches an object's span (free, finalizer and profile specials) it makes
// sure the span is swept (MSpan_EnsureSwept). The next collection sweeps
// whatever is left at its start, in its pause.
//
// The sweepgen protocol, per span, against mheap.sweepgen (sg):
//	sweepgen == sg-2: needs sweeping
//	sweepgen == sg-1: being swept
//	sweepgen == sg:   swept, ready to use
// A sweeper claims a span by CAS(sg-2 -> sg-1) and publishes it by an
// atomic store of sg, with m->locks held in between (no preemption or
// stop-the-world in the middle of a span). Spans the heap makes or reuses
// are stamped sg. runtime_checkheap validates all this (tests).

#include "gort.h"
#include "mgc0.h"

// ---- heap bitmap (see mgc0.h for the layout) ------------------------------------

static inline uintptr*
heapbitp(void *v, uintptr *shift)
{
	uintptr off;

	off = (uintptr*)v - (uintptr*)runtime_mheap.arena_start;	// word offset
	*shift = off % wordsPerBitmapWord;
	return (uintptr*)runtime_mheap.arena_start - off/wordsPerBitmapWord - 1;
}

// Can another M touch this bitmap word at the same time? (Go asks
// whether gomaxprocs == 1.)
static inline bool
singlem(void)
{
	return runtime_gomaxprocs == 1;
}

// Replace the bits at shift: (old & ~clear) | set, checking that the old
// bits were `want` (under mask) unless want is ~0. Returns the old word.
static inline void
setbits(uintptr *b, uintptr shift, uintptr mask, uintptr want, uintptr clear, uintptr set, const char *what)
{
	uintptr obits, bits;

	for(;;) {
		obits = __atomic_load_n(b, __ATOMIC_RELAXED);
		if(want != ~(uintptr)0 && ((obits>>shift) & mask) != want) {
			runtime_printf("runtime: %s: bits %#llx at word shift %llu\n", what,
				(unsigned long long)((obits>>shift) & bitMask), (unsigned long long)shift);
			runtime_throw(what);
		}
		bits = (obits & ~(clear<<shift)) | (set<<shift);
		if(singlem()) {
			*b = bits;
			return;
		}
		// More than one M may be running: use CAS.
		if(runtime_casp((void**)b, (void*)obits, (void*)bits))
			return;
	}
}

// FlagNoGC block: not allocated in the collector's eyes, but a boundary.
void
runtime_marknogc(void *v)
{
	uintptr *b, shift;

	b = heapbitp(v, &shift);
	// From a free block of either span class: boundary only.
	setbits(b, shift, bitMask, ~(uintptr)0, bitMask, bitBlockBoundary, "bad initial state for marknogc");
}

// A large FlagNoScan block: never scanned. (A small block needs no
// bitmap write: it is born in the state of its span class, mgc0.h.)
void
runtime_marknoscan(void *v)
{
	uintptr *b, shift;

	b = heapbitp(v, &shift);
	setbits(b, shift, bitMask, bitFree, bitScan, 0, "bad initial state for marknoscan");
}

// A tiny-allocator block (gort; see mgc0.h).
void
runtime_marktiny(void *v)
{
	uintptr *b, shift;

	b = heapbitp(v, &shift);
	setbits(b, shift, bitMask, bitAllocated, 0, bitSpecial, "bad initial state for marktiny");
}

// The block at v of n bytes was freed: back to its span class's free
// state (bitFree, or bitAllocated if noscan), as every block on a free
// list is.
void
runtime_markfreed(void *v, uintptr n, bool noscan)
{
	uintptr *b, shift;

	if((byte*)v+n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		runtime_throw("markfreed: bad pointer");
	b = heapbitp(v, &shift);
	// A gc-eligible block or a FlagNoGC one: either way it becomes a
	// free block, as it is going on a free list.
	setbits(b, shift, bitMask, ~(uintptr)0, bitMask, noscan ? bitAllocated : bitFree, "markfreed");
}

// Check that the block at v is marked freed (debugging, runtime_checking).
void
runtime_checkfreed(void *v, uintptr n)
{
	uintptr *b, shift, bits;

	if(!runtime_checking)
		return;
	if((byte*)v+n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		return;	// not allocated, so okay
	b = heapbitp(v, &shift);
	bits = *b>>shift;
	if((bits & bitAllocated) != 0) {
		runtime_printf("checkfreed %p+%#llx: have=%#llx\n", v, (unsigned long long)n,
			(unsigned long long)(bits & bitMask));
		runtime_throw("checkfreed: not freed");
	}
}

uintptr
runtime_getbits(void *v)
{
	uintptr *b, shift;

	b = heapbitp(v, &shift);
	return (__atomic_load_n(b, __ATOMIC_RELAXED) >> shift) & bitMask;
}

// The span at v holds n blocks of size bytes; leftover: there is room
// after the last block, which gets a boundary too.
void
runtime_markspan(void *v, uintptr size, uintptr n, bool leftover, bool noscan)
{
	uintptr *b, *cur, shift, i, clr, set, free;
	byte *p;

	if((byte*)v+size*n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		runtime_throw("markspan: bad pointer");

	if(runtime_checking) {
		// The bits must be clear to start with (the bitmap grows down).
		b = heapbitp(v, &shift);
		for(i = 0; i < size*n/PtrSize/wordsPerBitmapWord; i++) {
			if(b[-(intptr)i] != 0)
				runtime_throw("markspan: span bits not zero");
		}
	}

	// No atomics: we own the whole span, and no bitmap word is shared
	// with another span (spans are page-aligned, and a page is a whole
	// number of bitmap words). Its bits are all clear (the sweeper and
	// MHeap_Free clear them; runtime_checking checks it above).
	//
	// Every block starts free: bitFree, or bitAllocated in a span of
	// pointer-free blocks (freebits). Blocks of 1, 2, 4, 8 or 16 words
	// that fill the span: every bitmap word holds the same pattern, one
	// per block start, so each word is one store.
	free = noscan ? bitAllocated : bitFree;
	if(!leftover && size != 0 && size % PtrSize == 0 && wordsPerBitmapWord % (size/PtrSize) == 0) {
		set = 0;
		for(shift = 0; shift < wordsPerBitmapWord; shift += size/PtrSize)
			set |= free<<shift;
		b = heapbitp(v, &shift);
		for(i = 0; i < size*n/PtrSize/wordsPerBitmapWord; i++)
			b[-(intptr)i] = set;
		return;
	}

	// Otherwise the bits of the blocks that share a bitmap word are
	// gathered and stored once. The leftover past the last block is no
	// block: allocated, never scanned or swept (its start only ends the
	// last block for blockof). A large span (n = 0) is its one block.
	p = v;
	if(leftover)
		n++;
	cur = nil;
	clr = set = 0;
	for(i = 0; i < n; i++, p += size) {
		b = heapbitp(p, &shift);
		if(b != cur) {
			if(cur != nil)
				*cur = (*cur & ~clr) | set;
			cur = b;
			clr = set = 0;
		}
		clr |= bitMask<<shift;
		set |= (leftover && size != 0 && i == n-1 ? bitAllocated : free)<<shift;
	}
	if(cur != nil)
		*cur = (*cur & ~clr) | set;
}

// Clear the bits of the n bytes at v (whole bitmap words).
void
runtime_unmarkspan(void *v, uintptr n)
{
	uintptr *b, shift;

	if((byte*)v+n > runtime_mheap.arena_used || (byte*)v < runtime_mheap.arena_start)
		runtime_throw("unmarkspan: bad pointer");
	b = heapbitp(v, &shift);
	if(shift != 0)
		runtime_throw("unmarkspan: unaligned pointer");
	n /= PtrSize;
	if(n%wordsPerBitmapWord != 0)
		runtime_throw("unmarkspan: unaligned length");
	// No atomics: we own the span (see markspan).
	n /= wordsPerBitmapWord;
	while(n-- > 0)
		*b-- = 0;
}

// Commit the bitmap down to cover the arena up to arena_used, in 8 KB
// steps. Heap locked.
void
MHeap_MapBits(MHeap *h)
{
	enum {
		bitmapChunk = 8192
	};
	uintptr n;

	n = (h->arena_used - h->arena_start) / wordsPerBitmapWord;
	n = ROUND(n, bitmapChunk);
	if(h->bitmap_mapped >= n)
		return;
	runtime_SysMap(h->arena_start - n, n - h->bitmap_mapped, &mstats.gc_sys);
	h->bitmap_mapped = n;
}

// ---- marking -------------------------------------------------------------------------
//
// Work buffers hold regions still to scan (Obj: base, length, type word).
// Each GC thread fills and drains its own buffer; full buffers go on
// work.full and empty ones on work.empty (lock-free stacks), and a thread
// whose buffer runs dry takes a full one (getfull), spinning while other
// threads may still produce work. A thread with plenty of work hands half
// of it over when others wait (handoff). scanblock batches candidate
// pointers through small per-thread buffers (flushptrbuf, flushobjbuf);
// a candidate marks the block it points into (interior pointers count,
// as in Go) if that block is allocated and unmarked, and queues it for
// scanning unless it was allocated FlagNoScan.

enum
{
	WorkbufSize = 16*1024,
	handoffThreshold = 4,
	IntermediateBufferCapacity = 64,
	ScanChunk = 128*1024,	// gort: see scanblock
	TiConservative = 1,
};

typedef struct Obj Obj;
struct Obj
{
	byte*	p;	// data pointer
	uintptr	n;	// size of data in bytes
	uintptr	ti;	// type info
};

typedef struct Workbuf Workbuf;
struct Workbuf
{
	LFNode	node;	// must be first
	uintptr	nobj;
	Obj	obj[(WorkbufSize-sizeof(LFNode)-sizeof(uintptr))/sizeof(Obj)];
};

static struct
{
	uint64	full;	// lock-free list of full blocks (atomic: lfstack)
	uint64	empty;	// lock-free list of empty blocks (atomic: lfstack)
	byte	pad0[CacheLineSize];	// prevents false-sharing between full/empty and nproc/nwait
	uint32	nproc;	// set by gcmark before the helpers start (world stopped);
			// read-only for the rest of the collection
	int64	tstart;	// gc's thread only
	uint32	nwait;	// atomic; enqueue and maybehandoff read it plainly: racy,
			// benign (a hand-off hint)
	uint32	ndone;	// atomic (reset by gcmark before the helpers start)
	Note	alldone;	// a Note
	// Allocated once by gc (world stopped); the pointers are immutable.
	ParFor*	markfor;
	ParFor*	sweepfor;	// the parent commit's sweep in the pause
	uint32	sweepready;	// sweepfor is set up and sweepgen advanced; atomic

	Lock	lock;
	byte*	chunk;	// lock
	uintptr	nchunk;	// lock
} work __attribute__((aligned(8))) GORT_NOSCAN = { .lock = LOCK_INIT(LockRankWork) };

// Atomic (the GC threads add to them); reset and read by gc in the pause.
static struct
{
	uint64	nhandoff;
	uint64	nhandoffcnt;
	uint64	nprocyield;
	uint64	nosyield;
	uint64	nsleep;
} gcstats;

// GOGC; −2 until first read. Written under gclock; read without it by
// runtime_gc and by the sweepers (lowernextgc): racy, benign (an int32; a
// stale value skews one pacing decision). heapgoal and lastlive read it
// with the world stopped.
static int32	gcpercent = -2;
// Spans swept in this pause: world stopped; gc's thread, then the GC
// threads atomically (sweepspan).
static uint32	npausesweep;
static Lock	gclock = LOCK_INIT(LockRankGc);

// Get an empty work buffer off the work.empty list (pushing b, if any,
// on work.full), allocating new buffers as needed.
static Workbuf*
getempty(Workbuf *b)
{
	if(b != nil)
		runtime_lfstackpush(&work.full, &b->node);
	b = (Workbuf*)runtime_lfstackpop(&work.empty);
	if(b == nil) {
		runtime_lock(&work.lock);
		if(work.nchunk < sizeof *b) {
			work.nchunk = 1<<20;
			work.chunk = runtime_SysAlloc(work.nchunk, &mstats.gc_sys);
			if(work.chunk == nil)
				runtime_throw("runtime: cannot allocate memory");
		}
		b = (Workbuf*)work.chunk;
		work.chunk += sizeof *b;
		work.nchunk -= sizeof *b;
		runtime_unlock(&work.lock);
	}
	b->nobj = 0;
	return b;
}

static void
putempty(Workbuf *b)
{
	runtime_lfstackpush(&work.empty, &b->node);
}

// Get a full work buffer off the work.full list, or return nil when
// every GC thread is out of work.
static Workbuf*
getfull(Workbuf *b)
{
	int32 i;

	if(b != nil)
		runtime_lfstackpush(&work.empty, &b->node);
	b = (Workbuf*)runtime_lfstackpop(&work.full);
	if(b != nil || work.nproc == 1)
		return b;

	runtime_xadd(&work.nwait, +1);
	for(i = 0;; i++) {
		if(runtime_atomicload64(&work.full) != 0) {
			runtime_xadd(&work.nwait, -1);
			b = (Workbuf*)runtime_lfstackpop(&work.full);
			if(b != nil)
				return b;
			runtime_xadd(&work.nwait, +1);
		}
		if(runtime_atomicload(&work.nwait) == work.nproc)
			return nil;
		if(i < 10) {
			runtime_xadd64(&gcstats.nprocyield, 1);
			runtime_procyield(20);
		} else if(i < 20) {
			runtime_xadd64(&gcstats.nosyield, 1);
			runtime_osyield();
		} else {
			runtime_xadd64(&gcstats.nsleep, 1);
			runtime_usleep(100);
		}
	}
}

// Give half of b's work to waiting threads: the older half goes on
// work.full, the caller keeps the newer half in a fresh buffer.
static Workbuf*
handoff(Workbuf *b)
{
	Workbuf *b1;
	int32 n;

	n = b->nobj/2;
	b->nobj -= n;
	b1 = getempty(nil);
	b1->nobj = n;
	memmove(b1->obj, b->obj+b->nobj, n*sizeof b1->obj[0]);
	runtime_xadd64(&gcstats.nhandoff, 1);
	runtime_xadd64(&gcstats.nhandoffcnt, n);

	// Put b on full list - let first half of b get stolen.
	runtime_lfstackpush(&work.full, &b->node);
	return b1;
}

// Append a region to scan.
static inline void
enqueue(Obj obj, Workbuf **wbufp)
{
	Workbuf *wbuf;

	if(obj.n == 0)
		return;
	wbuf = *wbufp;
	if(wbuf == nil || wbuf->nobj >= nelem(wbuf->obj))
		wbuf = *wbufp = getempty(wbuf);
	else if(work.nproc > 1 && work.nwait > 0 && wbuf->nobj > handoffThreshold &&
		runtime_atomicload64(&work.full) == 0)
		wbuf = *wbufp = handoff(wbuf);
	wbuf->obj[wbuf->nobj++] = obj;
}

// Find the block the word-aligned arena address obj points into: its
// start, and where its bits are. False if obj is in no in-use block. The
// bitmap answers first (a block start at obj, or a few words before it in
// the same bitmap word); else the span table (MHeap_LookupMaybe, inlined).
// Go writes this out by hand in both markonly and flushptrbuf.
static inline bool
blockof(byte *obj, byte **objp, uintptr **bitpp, uintptr *shiftp, uintptr *bitsp)
{
	byte *arena_start, *p;
	uintptr *bitp, shift, xbits, j;
	MSpan *s;

	arena_start = runtime_mheap.arena_start;
	bitp = heapbitp(obj, &shift);
	xbits = *bitp;
	if(((xbits >> shift) & (bitAllocated|bitBlockBoundary)) != 0)
		goto found;
	for(j = shift; j-- > 0; ) {
		if(((xbits>>j) & (bitAllocated|bitBlockBoundary)) != 0) {
			obj -= (shift-j)*PtrSize;
			shift = j;
			goto found;
		}
	}
	s = runtime_mheap.spans[((uintptr)obj - (uintptr)arena_start) >> PageShift];
	if(s == nil || (uintptr)obj < s->start<<PageShift || obj >= s->limit || s->state != MSpanInUse)
		return false;
	p = (byte*)(s->start<<PageShift);
	obj = p + MSpan_ObjIndex(s, obj - p)*s->elemsize;	// p itself if large
	bitp = heapbitp(obj, &shift);
	xbits = *bitp;
found:
	*objp = obj;
	*bitpp = bitp;
	*shiftp = shift;
	*bitsp = xbits >> shift;
	return true;
}

// Set the mark bit of the block whose bits are at (bitp, shift), which the
// caller saw allocated and unmarked. Returns false if another GC thread
// marked it first.
static inline bool
setmarked(uintptr *bitp, uintptr shift)
{
	uintptr x;

	if(work.nproc == 1) {
		*bitp |= bitMarked<<shift;
		return true;
	}
	for(;;) {
		x = __atomic_load_n(bitp, __ATOMIC_RELAXED);
		if(x & (bitMarked<<shift))
			return false;
		if(runtime_casp((void**)bitp, (void*)x, (void*)(x|(bitMarked<<shift))))
			return true;
	}
}

// markonly marks the block p points into (interior pointers count) if it
// is allocated and unmarked, without queueing it for scanning. Returns
// true if this call marked it. (Used for the span type tables.)
static bool
markonly(void *p)
{
	byte *obj;
	uintptr *bitp, shift, bits;

	// Words outside the arena cannot be pointers.
	if((byte*)p < runtime_mheap.arena_start || (byte*)p >= runtime_mheap.arena_used)
		return false;
	if(!blockof((byte*)((uintptr)p & ~((uintptr)PtrSize-1)), &obj, &bitp, &shift, &bits))
		return false;
	// Only allocated, unmarked blocks.
	if((bits & (bitAllocated|bitMarked)) != bitAllocated)
		return false;
	return setmarked(bitp, shift);
}

// Intermediate buffers, as in Go: scanblock collects candidate pointers
// in a small PtrTarget buffer and regions in a small Obj buffer, and
// flushes them into the work buffer in batches (flushptrbuf marks and
// queues, flushobjbuf queues), which keeps the bitmap lookups of one
// batch together. The drawing from Go's mgc0.c:
//
//     scanblock
//  (find pointers)
//    Obj ------> PtrTarget (pointer targets)
//     ↑          |
//     |          |
//     `----------'
//     flushptrbuf
//  (find block start, mark and enqueue)
//
// Go's PtrTarget also carries the pointee's type info when the pointer's
// static type gives it; gort's ptrmasks give none (the span's type record
// decides at scan time), so a PtrTarget is just the pointer. Each GC
// thread has its own BufferList, indexed by m->helpgc (0 for the thread
// that runs gc); busy catches two threads taking the same one.
typedef struct PtrTarget PtrTarget;
struct PtrTarget
{
	void*	p;
};

typedef struct Scanbuf Scanbuf;
struct Scanbuf
{
	struct {
		PtrTarget*	begin;
		PtrTarget*	end;
		PtrTarget*	pos;
	} ptr;
	struct {
		Obj*	begin;
		Obj*	end;
		Obj*	pos;
	} obj;
	Workbuf*	wbuf;
	Obj*		wp;
	uintptr		nobj;
};

typedef struct BufferList BufferList;
struct BufferList
{
	PtrTarget	ptrtarget[IntermediateBufferCapacity];	// the GC thread whose
	Obj		obj[IntermediateBufferCapacity];	// m->helpgc indexes it
	uint32		busy;	// claimed by atomic xchg; the owner clears it
	byte		pad[CacheLineSize];
};
// Not a root: stale entries must not keep objects alive.
static BufferList bufferList[MaxGcproc] GORT_NOSCAN;

// If another thread waits for work, give it some (the caller's wbuf holds
// nobj objects).
static void
maybehandoff(Scanbuf *sbuf)
{
	if(work.nwait > 0 && sbuf->nobj > handoffThreshold && runtime_atomicload64(&work.full) == 0) {
		sbuf->wbuf->nobj = sbuf->nobj;
		sbuf->wbuf = handoff(sbuf->wbuf);
		sbuf->nobj = sbuf->wbuf->nobj;
		sbuf->wp = sbuf->wbuf->obj + sbuf->nobj;
	}
}

// flushptrbuf moves the PtrTarget buffer into the work buffer: for each
// candidate, find the block it points into, mark it, and queue it unless
// it holds no pointers (FlagNoScan) or was marked already.
static void
flushptrbuf(Scanbuf *sbuf)
{
	byte *arena_start, *obj;
	uintptr *bitp, bits, shift, nobj, n, ti;
	MSpan *s;
	Obj *wp;
	Workbuf *wbuf;
	PtrTarget *ptrbuf, *ptrbuf_end;

	arena_start = runtime_mheap.arena_start;
	wp = sbuf->wp;
	wbuf = sbuf->wbuf;
	nobj = sbuf->nobj;

	ptrbuf = sbuf->ptr.begin;
	ptrbuf_end = sbuf->ptr.pos;
	n = ptrbuf_end - sbuf->ptr.begin;
	sbuf->ptr.pos = sbuf->ptr.begin;

	// If the buffer is nearly full, get a new one.
	if(wbuf == nil || nobj+n >= nelem(wbuf->obj)) {
		if(wbuf != nil)
			wbuf->nobj = nobj;
		wbuf = getempty(wbuf);
		wp = wbuf->obj;
		nobj = 0;
	}

	while(ptrbuf < ptrbuf_end) {
		// In [arena_start, arena_used): scanblock checked.
		obj = (byte*)((uintptr)(ptrbuf++)->p & ~((uintptr)PtrSize-1));
		if(!blockof(obj, &obj, &bitp, &shift, &bits))
			continue;
		// Only allocated, unmarked blocks.
		if((bits & (bitAllocated|bitMarked)) != bitAllocated || !setmarked(bitp, shift))
			continue;
		// No pointers in it: no need to scan it.
		if((bits & bitScan) == 0)
			continue;
		// Its type now, from the span in hand (scanblock would look the
		// span up again); TiConservative when it has none.
		s = runtime_mheap.spans[((uintptr)obj - (uintptr)arena_start) >> PageShift];
		PREFETCH(obj);
		ti = MSpan_Type(s, (uintptr)obj - (s->start<<PageShift));
		*wp++ = (Obj){obj, s->elemsize, ti != 0 ? ti : TiConservative};
		nobj++;
	}

	sbuf->wp = wp;
	sbuf->wbuf = wbuf;
	sbuf->nobj = nobj;
	maybehandoff(sbuf);
}

// flushobjbuf moves the Obj buffer (regions found while scanning) into
// the work buffer.
static void
flushobjbuf(Scanbuf *sbuf)
{
	Obj *objbuf, *objbuf_end;

	objbuf = sbuf->obj.begin;
	objbuf_end = sbuf->obj.pos;
	sbuf->obj.pos = sbuf->obj.begin;

	while(objbuf < objbuf_end) {
		if(objbuf->n == 0) {
			objbuf++;
			continue;
		}
		// If the buffer is full, get a new one.
		if(sbuf->wbuf == nil || sbuf->nobj >= nelem(sbuf->wbuf->obj)) {
			if(sbuf->wbuf != nil)
				sbuf->wbuf->nobj = sbuf->nobj;
			sbuf->wbuf = getempty(sbuf->wbuf);
			sbuf->wp = sbuf->wbuf->obj;
			sbuf->nobj = 0;
		}
		*sbuf->wp++ = *objbuf++;
		sbuf->nobj++;
	}
	maybehandoff(sbuf);
}

// scanblock drains the work buffer wbuf: each region is scanned for
// candidate pointers, whose blocks are marked and queued in turn, until
// no work is left (with keepworking, until no GC thread has any). How a
// region is scanned comes from its type word ti:
//	TiConservative	every word is a candidate (roots, FinBlocks)
//	0		a heap block: its span's type record decides
//	otherwise	GortType* | TypeInfo_Array: the tail of a big array
// A precise type scans only the words its ptrmask names; no type means
// every word (gort_malloc blocks). Regions bigger than ScanChunk are cut
// when several threads mark: the rest goes back on the queue, where an
// idle thread can take it (Go 1.3 scans a block whole; gort's roots
// include whole data segments, and a C program may hold one huge array).
NOSANITIZE static void
scanblock(Workbuf *wbuf, bool keepworking)
{
	byte *b, *arena_start, *arena_used, **w;
	uintptr n, ti, nw, i, j, tw, chunk;
	uint32 m;
	const GortType *t;
	BufferList *scanbuffers;
	Scanbuf sbuf;
	M *mp;

	arena_start = runtime_mheap.arena_start;
	arena_used = runtime_mheap.arena_used;

	mp = runtime_m();
	scanbuffers = &bufferList[mp->helpgc];
	sbuf.ptr.begin = sbuf.ptr.pos = &scanbuffers->ptrtarget[0];
	sbuf.ptr.end = sbuf.ptr.begin + nelem(scanbuffers->ptrtarget);
	sbuf.obj.begin = sbuf.obj.pos = &scanbuffers->obj[0];
	sbuf.obj.end = sbuf.obj.begin + nelem(scanbuffers->obj);
	sbuf.wbuf = wbuf;
	sbuf.nobj = wbuf != nil ? wbuf->nobj : 0;
	sbuf.wp = wbuf != nil ? &wbuf->obj[sbuf.nobj] : nil;

	for(;;) {
		// Fetch the next region from the work buffer.
		if(sbuf.nobj == 0) {
			flushptrbuf(&sbuf);
			flushobjbuf(&sbuf);
			if(sbuf.nobj == 0) {
				if(!keepworking) {
					if(sbuf.wbuf != nil)
						putempty(sbuf.wbuf);
					return;
				}
				// Emptied our buffer: refill.
				sbuf.wbuf = getfull(sbuf.wbuf);
				if(sbuf.wbuf == nil)
					return;
				sbuf.nobj = sbuf.wbuf->nobj;
				sbuf.wp = sbuf.wbuf->obj + sbuf.nobj;
			}
		}
		--sbuf.wp;
		b = sbuf.wp->p;
		n = sbuf.wp->n;
		ti = sbuf.wp->ti;
		sbuf.nobj--;

		t = nil;
		if(ti == 0)
			ti = runtime_gettype(b);
		if(ti != 0 && ti != TiConservative) {
			t = (const GortType*)(ti & ~(uintptr)(PtrSize-1));
			tw = t->size / PtrSize;
			if(tw == 0 || t->ptrmask == nil)
				continue;	// no pointers
			if((ti & (PtrSize-1)) == TypeInfo_SingleObject && n > t->size)
				n = t->size;
		}

		// A big region: scan a chunk now, queue the rest.
		if(n > ScanChunk && work.nproc > 1) {
			chunk = ScanChunk;
			if(t != nil) {
				if(t->size > ScanChunk)
					chunk = n;	// one element: scan whole
				else
					chunk = ScanChunk / t->size * t->size;
			}
			if(chunk < n) {
				*sbuf.obj.pos++ = (Obj){b+chunk, n-chunk, t != nil ? ti : TiConservative};
				if(sbuf.obj.pos == sbuf.obj.end)
					flushobjbuf(&sbuf);
				n = chunk;
			}
		}

		w = (byte**)b;
		nw = n / PtrSize;
		if(t == nil) {
			// Conservative: every word.
			for(i = 0; i < nw; i++) {
				if(w[i] >= arena_start && w[i] < arena_used) {
					(sbuf.ptr.pos++)->p = w[i];
					if(sbuf.ptr.pos == sbuf.ptr.end)
						flushptrbuf(&sbuf);
				}
			}
			continue;
		}
		// Precise: the type's ptrmask, per element.
		tw = t->size / PtrSize;
		if(nw == tw && tw <= 8) {
			// One small object (binary-trees' nodes): its mask is
			// one byte; visit only the pointer words.
			for(m = t->ptrmask[0] & (0xffu >> (8 - tw)); m != 0; m &= m - 1) {
				i = (uintptr)__builtin_ctz(m);
				if(w[i] >= arena_start && w[i] < arena_used) {
					(sbuf.ptr.pos++)->p = w[i];
					if(sbuf.ptr.pos == sbuf.ptr.end)
						flushptrbuf(&sbuf);
				}
			}
			continue;
		}
		for(i = 0, j = 0; i < nw; i++) {
			if((t->ptrmask[j/8] & (1<<(j%8))) != 0 && w[i] >= arena_start && w[i] < arena_used) {
				(sbuf.ptr.pos++)->p = w[i];
				if(sbuf.ptr.pos == sbuf.ptr.end)
					flushptrbuf(&sbuf);
			}
			if(++j == tw)
				j = 0;
		}
	}
}

enum
{
	RootData = 0,		// data and bss of the loaded objects, registered roots
	RootFinalizers = 1,	// queued finalizers' arguments
	RootSpanTypes = 2,
	RootCount = 3,
};

static void
rootrange(byte *p, uintptr n, void *arg)
{
	enqueue((Obj){p, n & ~(uintptr)(PtrSize-1), TiConservative}, arg);
}

static void	flushallmcaches(void);
static void	cachestats(void);
static void	markfinq(Workbuf **wbufp);
static void	wakefing(void);
static void	lowernextgc(uint64 freed);
static uint32	markprocs(uint32 n);

// The calling goroutine's own stack top and the sp where it entered gc.
// Set by runtime_gc around gc(), with the world stopped.
static G*	gcg;
static uintptr	gcsp;

// The part of gp's stack the collector scans: from its saved sp to its
// top (the registers it saved when it stopped, in a switch frame or a
// signal frame, are in that range). False for a dead G.
static bool
stackbounds(G *gp, uintptr *spp, uintptr *topp)
{
	uintptr sp, top;

	if(gp->status == Gdead || gp->stack0 == nil)
		return false;
	top = (uintptr)gp->stack0 + gp->stacksize;
	if(gp == gcg)
		sp = gcsp;
	else if(gp->status == Gsyscall)
		sp = gp->syscallsp;
	else if(gp->status == Grunning) {
		runtime_printf("runtime: goroutine %lld is running during mark\n", (long long)gp->goid);
		runtime_throw("mark - world not stopped");
	} else
		sp = gp->sched.sp;
	if(sp < (uintptr)gp->stack0 || sp > top) {
		runtime_printf("runtime: goroutine %lld: sp %p outside its stack [%p, %p)\n",
			(long long)gp->goid, (void*)sp, (void*)gp->stack0, (void*)top);
		runtime_throw("addstackroots: bad sp");
	}
	*spp = sp;
	*topp = top;
	return true;
}

// Queue gp's stack, conservatively.
static void
addstackroots(G *gp, Workbuf **wbufp)
{
	uintptr sp, top;

	if(stackbounds(gp, &sp, &top))
		enqueue((Obj){(byte*)sp, top - sp, TiConservative}, wbufp);
}

static void
markroot(ParFor *desc, uint32 i)
{
	Workbuf *wbuf;
	MSpan *s;
	Special *sp;
	byte *p;
	uint32 sg, si;

	USED(desc);
	wbuf = getempty(nil);
	switch(i) {
	case RootData:
		runtime_forallroots(rootrange, &wbuf);
		break;

	case RootFinalizers:
		markfinq(&wbuf);
		break;

	case RootSpanTypes:
		// Check that every span is swept, in use or not (the heap
		// stamps the spans it makes or reuses, and the sweep stamps
		// the free and dead ones), and keep the type tables.
		sg = runtime_mheap.sweepgen;
		for(si = 0; si < runtime_mheap.nspan; si++) {
			s = runtime_mheap.allspans[si];
			if(s->sweepgen != sg) {
				runtime_printf("runtime: span %p state %d sweepgen %u mheap.sweepgen %u\n",
					(void*)s, s->state, s->sweepgen, sg);
				runtime_throw("gc: unswept span");
			}
			if(s->state != MSpanInUse)
				continue;
			if(s->types.compression == MTypes_Words || s->types.compression == MTypes_Bytes)
				markonly((byte*)s->types.data);
			for(sp = s->specials; sp != nil; sp = sp->next) {
				if(sp->kind != KindSpecialFinalizer)
					continue;
				// Scan, but do not mark, the finalizable object:
				// what it points to must outlive it. (A finalizer
				// may be set on an inner byte of a tiny block.)
				p = (byte*)(s->start << PageShift) + sp->offset/s->elemsize*s->elemsize;
				if((runtime_getbits(p) & bitScan) != 0)
					enqueue((Obj){p, s->elemsize, 0}, &wbuf);
			}
		}
		break;

	default:
		if(i - RootCount >= runtime_allglen)
			runtime_throw("markroot: bad index");
		addstackroots(runtime_allg[i - RootCount], &wbuf);
		break;
	}
	scanblock(wbuf, false);
}

// Claim this thread's intermediate buffers.
static void
gchelperstart(void)
{
	M *mp;

	mp = runtime_m();
	if(mp->helpgc < 0 || mp->helpgc >= MaxGcproc)
		runtime_throw("gchelperstart: bad m->helpgc");
	if(runtime_xchg(&bufferList[mp->helpgc].busy, 1))
		runtime_throw("gchelperstart: already busy");
}

// The collector's helper on an idle M woken by helpgc. Tests of the
// scheduler may install a hook instead. Test hooks: tests set them while
// no collection runs.
void	(*runtime_gchelper_testhook)(void);

void	(*runtime_gchelper_donehook)(uint32 ndone, uint32 nproc);

void
runtime_gchelper(void)
{
	uint32 nproc, n;

	if(runtime_gchelper_testhook != nil) {
		runtime_gchelper_testhook();
		return;
	}
	runtime_m()->gcing = 1;	// a GC thread (MSpan_Sweep checks)
	gchelperstart();
	// parallel mark over the roots
	runtime_parfordo(work.markfor);
	// help other threads scan secondary blocks
	scanblock(nil, true);
	bufferList[runtime_m()->helpgc].busy = 0;
	// Marking is over for everybody once scanblock returns (getfull
	// returns nil only when all GC threads wait); sweep in parallel once
	// gc has set the sweep up.
	while(runtime_atomicload(&work.sweepready) == 0)
		runtime_osyield();
	runtime_parfordo(work.sweepfor);
	runtime_m()->gcing = 0;
	// Read nproc before counting ourselves done: once the last helper is
	// counted, gc may return and the next collection set a new nproc
	// while this helper is still between the two lines (go1.3 does so).
	nproc = work.nproc;
	n = runtime_xadd(&work.ndone, +1);
	if(runtime_gchelper_donehook != nil)
		runtime_gchelper_donehook(n, nproc);	// tests: a helper descheduled here
	if(n == nproc-1)
		runtime_notewakeup(&work.alldone);
}

// ---- gccheckmark: verify the mark -------------------------------------------------
//
// GODEBUG=gccheckmark=1 (the name later Go gives its mark verifier): after
// the parallel mark, with the world still stopped, mark again from the same
// roots on one thread, depth first, into a bitmap of its own (one bit per
// heap word), with the same rules as scanblock (precise by the span's type
// record, conservative otherwise, FlagNoScan never, finalizable objects
// scanned but not marked from their special). Every block it reaches must
// carry the first mark's bitMarked; the first one that does not is a live
// object the sweep would free: die naming it, its span and the root it was
// reached from. Then runtime_checkheap's span validator runs before mark
// (every span swept, free lists and books) and after the sweep is set up.
// Like Go's, it shares the type records with the collector: it checks the
// marking (roots, work buffers, hand-off, helpers), not the types.

enum
{
	CheckRootData,		// a loaded object's data or bss
	CheckRootRegistered,	// gort_add_roots
	CheckRootStack,		// a goroutine stack
	CheckRootFinq,		// a queued finalizer's argument
	CheckRootFinalizer,	// the body of an object with a finalizer
	CheckRootSpanTypes,	// a span's type table
};

static const char *checkrootname[] = {
	[CheckRootData] = "data/bss",
	[CheckRootRegistered] = "registered root (gort_add_roots)",
	[CheckRootStack] = "stack",
	[CheckRootFinq] = "finalizer queue",
	[CheckRootFinalizer] = "finalizer (body of an object with a finalizer)",
	[CheckRootSpanTypes] = "span type table",
};

typedef struct CheckItem CheckItem;
struct CheckItem
{
	byte*	p;		// region to scan
	uintptr	n;
	uintptr	ti;		// as in Obj
	byte*	root;		// where the path began
	int64	goid;		// the stack's goroutine, for CheckRootStack
	uint32	kind;		// CheckRoot*
	uint32	depth;		// heap blocks between the root and p
};

// World stopped; only gc's thread touches it.
static struct
{
	uintptr*	bits;		// one bit per word of [arena_start, arena_used)
	uintptr		nbytes;
	CheckItem*	stack;
	uintptr		n;
	uintptr		cap;
	uint64		nblock;		// blocks reached
} checkmark;

// Tests: runs between the two marks (to unmark a live object). Tests set
// it while no collection runs.
void	(*runtime_checkmark_testhook)(void);

static void
checkpush(CheckItem it)
{
	if(checkmark.n == checkmark.cap)
		checkmark.stack = runtime_SysGrow(checkmark.stack, checkmark.n, &checkmark.cap, sizeof checkmark.stack[0], false, &mstats.gc_sys);
	checkmark.stack[checkmark.n++] = it;
}

// A candidate pointer w, read at word from of region it: reach its block.
// scan: queue the block's body (markonly's callers pass false).
static void
checkreach(byte *w, byte *from, CheckItem *it, bool scan)
{
	byte *obj, *arena_start;
	uintptr *bitp, shift, bits, off;
	MSpan *s;
	CheckItem nit;

	arena_start = runtime_mheap.arena_start;
	if(w < arena_start || w >= runtime_mheap.arena_used)
		return;
	if(!blockof((byte*)((uintptr)w & ~(uintptr)(PtrSize-1)), &obj, &bitp, &shift, &bits))
		return;
	if((bits & bitAllocated) == 0)
		return;	// FlagNoGC: neither mark considers it
	off = (uintptr*)obj - (uintptr*)arena_start;
	if(checkmark.bits[off/(8*sizeof(uintptr))] & ((uintptr)1 << (off%(8*sizeof(uintptr)))))
		return;
	checkmark.bits[off/(8*sizeof(uintptr))] |= (uintptr)1 << (off%(8*sizeof(uintptr)));
	checkmark.nblock++;
	s = runtime_mheap.spans[((uintptr)obj - (uintptr)arena_start) >> PageShift];
	if((bits & bitMarked) == 0) {
		runtime_printf("runtime: gccheckmark: block %p (span %p [%p, %p), sizeclass %d, elemsize %llu, bits %#llx, type %p) is reachable but was not marked\n",
			obj, (void*)s, (void*)(s->start<<PageShift), (void*)s->limit, (int)s->sizeclass,
			(unsigned long long)s->elemsize, (unsigned long long)(bits & bitMask), (void*)runtime_gettype(obj));
		runtime_printf("runtime: gccheckmark: reached through the word at %p (value %p) of %s %p, %u heap blocks from a %s root",
			from, w, it->depth == 0 ? "root range" : "block", it->p, it->depth, checkrootname[it->kind]);
		if(it->kind == CheckRootStack)
			runtime_printf(" (goroutine %lld)", (long long)it->goid);
		runtime_printf(" at %p\n", it->root);
		runtime_throw("gccheckmark: reachable object not marked");
	}
	if(!scan || (bits & bitScan) == 0)
		return;
	nit = *it;
	nit.p = obj;
	nit.n = s->elemsize;
	nit.ti = 0;
	nit.depth = it->depth + 1;
	checkpush(nit);
}

// Scan one region as scanblock would.
NOSANITIZE static void
checkscan(CheckItem *it)
{
	byte **w;
	uintptr ti, n, nw, i, j, tw;
	const GortType *t;

	n = it->n;
	ti = it->ti;
	t = nil;
	if(ti == 0)
		ti = runtime_gettype(it->p);
	if(ti != 0 && ti != TiConservative) {
		t = (const GortType*)(ti & ~(uintptr)(PtrSize-1));
		tw = t->size / PtrSize;
		if(tw == 0 || t->ptrmask == nil)
			return;
		if((ti & (PtrSize-1)) == TypeInfo_SingleObject && n > t->size)
			n = t->size;
	}
	w = (byte**)it->p;
	nw = n / PtrSize;
	if(t == nil) {
		for(i = 0; i < nw; i++)
			checkreach(w[i], (byte*)&w[i], it, true);
		return;
	}
	tw = t->size / PtrSize;
	for(i = 0, j = 0; i < nw; i++) {
		if((t->ptrmask[j/8] & (1<<(j%8))) != 0)
			checkreach(w[i], (byte*)&w[i], it, true);
		if(++j == tw)
			j = 0;
	}
}

static void
checkroot(byte *p, uintptr n, int kind, void *arg)
{
	USED(arg);
	checkpush((CheckItem){p, n & ~(uintptr)(PtrSize-1), TiConservative, p, 0,
		kind == 0 ? CheckRootData : CheckRootRegistered, 0});
}

static NOINLINE void	checkheaplocked(bool done);
static void	checkfinq(void);

// World stopped, mark over. Dies on the first live block the mark missed.
// Out of line: its frame must lie below gcsp, outside the part of the
// collecting goroutine's stack that it scans (its locals hold addresses
// of finalizable blocks, which are alive but not marked).
static NOINLINE void
gccheckmark(void)
{
	uintptr i, sp, top;
	uint32 si;
	MSpan *s;
	Special *sp1;
	CheckItem it;
	G *gp;
	byte *p;

	if(runtime_checkmark_testhook != nil)
		runtime_checkmark_testhook();
	checkmark.nbytes = ROUND(((uintptr)(runtime_mheap.arena_used - runtime_mheap.arena_start)/PtrSize + 7)/8, PageSize);
	checkmark.bits = runtime_SysAlloc(checkmark.nbytes, &mstats.gc_sys);
	if(checkmark.bits == nil)
		runtime_throw("gccheckmark: out of memory");
	checkmark.n = 0;
	checkmark.nblock = 0;

	// The roots, in markroot's order.
	runtime_forallrootskind(checkroot, nil);
	checkfinq();
	for(si = 0; si < runtime_mheap.nspan; si++) {
		s = runtime_mheap.allspans[si];
		if(s->state != MSpanInUse)
			continue;
		if(s->types.compression == MTypes_Words || s->types.compression == MTypes_Bytes) {
			it = (CheckItem){(byte*)&s->types.data, PtrSize, TiConservative, (byte*)&s->types.data, 0, CheckRootSpanTypes, 0};
			checkreach((byte*)s->types.data, (byte*)&s->types.data, &it, false);
		}
		for(sp1 = s->specials; sp1 != nil; sp1 = sp1->next) {
			if(sp1->kind != KindSpecialFinalizer)
				continue;
			p = (byte*)(s->start << PageShift) + sp1->offset/s->elemsize*s->elemsize;
			if((runtime_getbits(p) & bitScan) != 0)
				checkpush((CheckItem){p, s->elemsize, 0, p, 0, CheckRootFinalizer, 0});
		}
	}
	for(i = 0; i < runtime_allglen; i++) {
		gp = runtime_allg[i];
		if(stackbounds(gp, &sp, &top))
			checkpush((CheckItem){(byte*)sp, top - sp, TiConservative, (byte*)sp, gp->goid, CheckRootStack, 0});
	}

	// Depth first: the stack holds regions still to scan.
	while(checkmark.n > 0) {
		it = checkmark.stack[--checkmark.n];
		checkscan(&it);
	}
	runtime_SysFree(checkmark.bits, checkmark.nbytes, &mstats.gc_sys);
	checkmark.bits = nil;
	if(runtime_debug.gccheckmark > 1)
		runtime_printf("gccheckmark: %llu blocks reached, all marked\n", (unsigned long long)checkmark.nblock);
}

// ---- sweeping ----------------------------------------------------------------------

// Make sure span s is swept before the caller touches its objects or
// specials: sweep it ourselves if we can claim it, else wait for whoever
// has it. The caller holds m->locks (so that it is not preempted, or
// suspended, while the span is claimed).
void
MSpan_EnsureSwept(MSpan *s)
{
	M *mp;
	uint32 sg;

	mp = runtime_m();
	if(mp->locks == 0 && mp->mallocing == 0)
		runtime_throw("MSpan_EnsureSwept: m is not locked");

	sg = runtime_atomicload(&runtime_mheap.sweepgen);
	if(runtime_atomicload(&s->sweepgen) == sg)
		return;
	if(runtime_cas(&s->sweepgen, sg-2, sg-1)) {
		MSpan_Sweep(s);
		return;
	}
	// Someone else is sweeping it: wait.
	while(runtime_atomicload(&s->sweepgen) != sg)
		runtime_osyield();
}

// Does any block of span s carry a mark bit? A bitmap word at a time.
static bool
spanhasmarks(MSpan *s)
{
	uintptr *bp, *end, marks, shift;

	marks = (((uintptr)1<<bitShift) - 1) << (2*bitShift);
	bp = heapbitp((void*)(s->start<<PageShift), &shift);	// shift 0: spans are page-aligned
	end = bp - (s->npages<<PageShift)/PtrSize/wordsPerBitmapWord;
	for(; bp > end; bp--)
		if((*bp & marks) != 0)
			return true;
	return false;
}

// Sweep the n small blocks of span s (starting at p) a bitmap word at a
// time: one word holds the bits of 16 heap words, so a span of 16-byte
// blocks is swept 8 blocks per load. In each word, the dead blocks are
// the allocated block starts without a mark; all marks are cleared, and
// the dead blocks' scan and special bits, in one store. Each dead block
// gets its type record cleared and its "needs zeroing" word, and is
// appended to *endp's list in address order (and traced, with
// GODEBUG=allocfreetrace=1). Go 1.3 sweeps a block at a time; measured
// on binary-trees 16 (16-byte blocks) this cut MSpan_Sweep from 15% of
// the run to 10%. Returns the number freed. (The bit after the last block, markspan's leftover, is
// outside the n blocks and is never freed.)
static int32
sweepwords(MSpan *s, byte *p, int32 n, MLink **endp)
{
	uintptr *bp, x, lane, alloc, marked, dead, lim, k, nk, w, size, shift;
	byte *type_data, compression;
	MLink *end, *q;
	int32 nfree;

	type_data = (byte*)s->types.data;
	compression = s->types.compression;
	lane = ((uintptr)1<<bitShift) - 1;
	size = s->elemsize;
	lim = (uintptr)n*size/PtrSize;		// heap words of the n blocks
	nk = (lim + wordsPerBitmapWord - 1) / wordsPerBitmapWord;
	bp = heapbitp(p, &shift);	// shift 0: spans are page-aligned
	end = *endp;
	nfree = 0;
	for(k = 0; k < nk; k++, bp--) {
		x = *bp;
		if(x == 0)
			continue;
		alloc = x & lane;
		if(lim - k*wordsPerBitmapWord < wordsPerBitmapWord)
			alloc &= ((uintptr)1 << (lim - k*wordsPerBitmapWord)) - 1;
		marked = (x >> (2*bitShift)) & lane;
		dead = alloc & ~marked;
		if(marked == 0 && dead == 0)
			continue;
		*bp = (x & ~((marked << (2*bitShift)) | (dead << (3*bitShift)))) | (s->noscan ? 0 : dead << bitShift);
		for(; dead != 0; dead &= dead - 1) {
			w = k*wordsPerBitmapWord + (uintptr)__builtin_ctzll(dead);
			q = (MLink*)(p + w*PtrSize);
			if(runtime_debug.allocfreetrace)
				runtime_tracefree(q, size);
			if(compression == MTypes_Words)
				((uintptr*)type_data)[MSpan_ObjIndex(s, w*PtrSize)] = 0;
			else if(compression == MTypes_Bytes)
				type_data[8*sizeof(uintptr) + MSpan_ObjIndex(s, w*PtrSize)] = 0;
			if(size > sizeof(uintptr))
				((uintptr*)q)[1] = (uintptr)0xdeaddeaddeaddeadULL;	// needs zeroing
			end->next = q;
			end = q;
			nfree++;
		}
	}
	*endp = end;
	return nfree;
}

// The statistics of nfree small blocks of class cl freed by a sweep: the
// cache's counts, and next_gc lowered (lowernextgc).
static void
sweepcount(MCache *c, int32 cl, int32 nfree, uintptr size)
{
	c->local_nsmallfree[cl] += nfree;
	c->local_cachealloc -= nfree * size;
	lowernextgc((uint64)nfree * size);
}

// Sweep frees the blocks of s not marked in the mark phase and clears
// the mark bits for the next cycle. The caller owns s (sweepgen sg−1).
// Returns true if s went back to the heap.
bool
MSpan_Sweep(MSpan *s)
{
	M *mp;
	int32 cl, n, npages, nfree;
	uintptr size, *bitp, shift, bits;
	byte *p;
	MCache *c;
	MLink head, *end, *x;
	Special *special, **specialp, *y;
	bool res, sweepgenset;

	mp = runtime_m();
	if(mp->locks == 0 && mp->mallocing == 0 && mp->gcing == 0)
		runtime_throw("MSpan_Sweep: m is not locked");
	if(s->state != MSpanInUse || s->sweepgen != runtime_mheap.sweepgen-1) {
		runtime_printf("MSpan_Sweep: state=%d sweepgen=%u mheap.sweepgen=%u\n",
			s->state, s->sweepgen, runtime_mheap.sweepgen);
		runtime_throw("MSpan_Sweep: bad span state");
	}
	cl = s->sizeclass;
	size = s->elemsize;
	if(cl == 0) {
		n = 1;
	} else {
		npages = runtime_class_to_allocnpages[cl];
		n = (npages << PageShift) / size;
	}
	res = false;
	nfree = 0;
	end = &head;
	c = mp->mcache;
	sweepgenset = false;

	// No block of a small span marked (and no finalizer or profile
	// record to run): every block handed out is dead. Give the span back
	// whole, without writing a free-list link and a "needs zeroing" word
	// into each block only to throw the list away (gort; Go 1.3 sweeps
	// it block by block, then frees it in MCentral_FreeSpan). A stale
	// mark on a free block only sends the span the long way.
	if(cl != 0 && s->specials == nil && s->ref > 0 && !runtime_debug.allocfreetrace &&
	   !spanhasmarks(s)) {
		nfree = s->ref;
		sweepcount(c, cl, nfree, size);
		// MCentral_FreeSpan publishes sweepgen once s is off the
		// lists: published here, another P could take s's free list.
		return MCentral_FreeSpan(&runtime_mheap.central[MSpan_Class(s)].mcentral, s, nfree, nil, nil);
	}

	// Mark any free objects in this span so we don't collect them.
	for(x = s->freelist; x != nil; x = x->next) {
		bitp = heapbitp(x, &shift);
		*bitp |= bitMarked<<shift;
	}

	// Unlink and free special records for objects about to be freed.
	specialp = &s->specials;
	special = *specialp;
	while(special != nil) {
		p = (byte*)(s->start << PageShift) + MSpan_ObjIndex(s, special->offset)*size;
		bitp = heapbitp(p, &shift);
		bits = *bitp>>shift;
		if((bits & (bitAllocated|bitMarked)) == bitAllocated) {
			p = (byte*)(s->start << PageShift) + special->offset;
			y = special;
			special = special->next;
			*specialp = special;
			if(!runtime_freespecial(y, p, size, false)) {
				// a finalizer keeps the object for one more cycle
				*bitp |= bitMarked << shift;
			}
		} else {
			specialp = &special->next;
			special = *specialp;
		}
	}

	// Sweep the n objects of size starting at p. We own the span, so the
	// bitmap needs no atomics. Small blocks: a bitmap word at a time
	// (sweepwords); a large span: its one block.
	p = (byte*)(s->start << PageShift);
	if(cl != 0)
		nfree = sweepwords(s, p, n, &end);
	else {
		bitp = heapbitp(p, &shift);
		bits = *bitp>>shift;
		if((bits & bitAllocated) == 0) {
			// FlagNoGC: never freed.
		} else if((bits & bitMarked) != 0)
			*bitp &= ~(bitMarked<<shift);
		else {
			// Clear mark, scan, and special bits; free the span.
			*bitp &= ~((bitScan|bitMarked|bitSpecial)<<shift);
			if(runtime_debug.allocfreetrace)
				runtime_tracefree(p, size);
			runtime_unmarkspan(p, 1<<PageShift);
			*(uintptr*)p = (uintptr)0xdeaddeaddeaddeadULL;	// needs zeroing
			// important to set sweepgen before returning it to heap
			runtime_atomicstore(&s->sweepgen, runtime_mheap.sweepgen);
			sweepgenset = true;
			runtime_freelarge(c, s, size);
			lowernextgc(size);
			res = true;
		}
	}

	if(!sweepgenset)
		runtime_atomicstore(&s->sweepgen, runtime_mheap.sweepgen);
	if(nfree) {
		sweepcount(c, cl, nfree, size);
		res = MCentral_FreeSpan(&runtime_mheap.central[MSpan_Class(s)].mcentral, s, nfree, head.next, end);
	}
	return res;
}

// ---- concurrent sweep (the seed change) ---------------------------------------------
//
// After mark, gc takes a snapshot of allspans (sweep.spans; RecordSpan
// must not free it while sweepers index it), advances mheap.sweepgen by 2
// (every in-use span now needs sweeping) and wakes bgsweep. Sweepers claim
// spans through sweep.spanidx or, lazily, straight off the lists
// (MCentral_AllocList, MHeap_Reclaim, MSpan_EnsureSwept); a span is only
// ever swept by the one that won CAS(sweepgen, sg−2, sg−1).

// State of the background sweep. g and parked are protected by gclock;
// spans, nspan and spancap are written with the world stopped
// (sweepsetup) and only read by the sweepers until the next collection;
// spanidx is atomic.
static struct
{
	G*	g;		// gclock
	bool	parked;		// gclock

	MSpan**	spans;		// the snapshot; world stopped (sweepsetup), then read-only
	uint32	nspan;		// as spans
	uint32	spancap;	// gort: its allocated length, for SysFree; as spans
	uint32	spanidx;	// next index to claim (atomic; reset with the world stopped)
} sweep;

static uint32	nbgsweep;	// spans swept by bgsweep since the last gc (atomic)

// Sweep s of the snapshot if it needs it and this thread claims it.
// Returns the pages it gave back to the heap (0 if it stayed in use), or
// −1 if it was not swept here. A span not in use is only stamped swept.
static intptr
trysweep(MSpan *s, uint32 sg)
{
	intptr npages;

	if(s->state != MSpanInUse) {
		s->sweepgen = sg;
		return -1;
	}
	if(s->sweepgen != sg-2 || !runtime_cas(&s->sweepgen, sg-2, sg-1))
		return -1;
	npages = s->npages;	// before the sweep: s may go back to the heap
	if(!MSpan_Sweep(s))
		npages = 0;
	return npages;
}

// Sweep one span. Returns the pages it gave back to the heap (0 if it
// stayed in use), or −1 when there is nothing left to sweep.
intptr
runtime_sweepone(void)
{
	M *mp;
	uint32 idx, sg;
	intptr npages;

	// No preemption (or suspension, or stop-the-world) in the middle of a
	// sweep, which would leave the span half swept for the next GC.
	mp = runtime_m();
	mp->locks++;
	sg = runtime_mheap.sweepgen;
	for(;;) {
		idx = runtime_xadd(&sweep.spanidx, 1) - 1;
		if(idx >= sweep.nspan) {
			runtime_atomicstore(&runtime_mheap.sweepdone, 1);
			mp->locks--;
			return -1;
		}
		npages = trysweep(sweep.spans[idx], sg);
		if(npages < 0)
			continue;
		mp->locks--;
		return npages;
	}
}

// The background sweeper: one span per time slice, then (everything
// swept) kick the finalizer goroutine and park until the next GC.
static void
bgsweep(void *arg)
{
	G *gp;

	USED(arg);
	gp = runtime_m()->curg;
	for(;;) {
		while(runtime_sweepone() != -1) {
			runtime_xadd(&nbgsweep, 1);
			runtime_gosched();
		}
		// Finalizers queued by this sweep may run now (the seed kicks
		// the finalizer goroutine here).
		wakefing();
		runtime_lock(&gclock);
		if(!runtime_atomicload(&runtime_mheap.sweepdone)) {
			// A GC came between sweepone's −1 and the lock (go1.3,
			// 0da73b9f): there is a new sweep to do.
			runtime_unlock(&gclock);
			continue;
		}
		sweep.parked = true;
		gp->isbackground = true;	// parked, it is no sign of life
		runtime_parkunlock(&gclock, "GC sweep wait");
		gp->isbackground = false;
	}
}

// Sweep span i of the snapshot, in the pause (the parent commit's
// sweepspan, run by every GC thread through work.sweepfor), for
// GODEBUG=concurrentsweep=0 and the eager sweep of gort_free_os_memory.
static void
sweepspan(ParFor *desc, uint32 idx)
{
	USED(desc);
	if(trysweep(sweep.spans[idx], runtime_mheap.sweepgen) >= 0)
		runtime_xadd(&npausesweep, 1);
}

// ---- GC pacing (GOGC) -------------------------------------------------------------
//
// The one place that decides when the next collection comes and how many
// threads mark it: heapgoal (next_gc for a heap, never under HeapMinimum),
// lowernextgc (each sweep lowers the goal by what it freed), lastlive (the
// live heap the last collection left, read back from next_gc) and
// markprocs. gcpercent is GOGC (−1: off).

// next_gc for a heap of heap bytes: heap + heap×GOGC/100, at least
// HeapMinimum.
static uint64
heapgoal(uint64 heap)
{
	uint64 goal;

	goal = heap + heap*(gcpercent > 0 ? gcpercent : 0)/100;
	return goal > HeapMinimum ? goal : HeapMinimum;
}

// The live heap the last collection left, as next_gc says once its sweep
// has lowered it all the way (HeapMinimum makes it at least half that).
static uint64
lastlive(void)
{
	return mstats.next_gc*100/(gcpercent > 0 ? gcpercent+100 : 100);
}

// How many threads to mark with, of the n the scheduler can give: one
// more per MarkBytesPerProc of the live heap the last collection left
// (next_gc, fully lowered by the sweep that just finished, over GOGC's
// factor). gort; Go 1.3 takes all n (GODEBUG=gcmarkall=1 restores that;
// the test suite runs with it so that its small heaps still mark in
// parallel). Waking a helper, the CAS on every mark bit and the two
// threads' bitmap traffic cost more than they save on a small heap:
// binary-trees 16 (2 MB live) marked in 1.17 ms with one thread and 1.19
// ms with two, 35% more time in flushptrbuf, and ran 0.34 s at
// GOMAXPROCS=2 against 0.30 at 1; with markprocs, 0.31 (performance.md).
enum { MarkBytesPerProc = 4<<20 };

static uint32
markprocs(uint32 n)
{
	uint64 live;
	uint32 want;

	if(runtime_debug.gcmarkall)
		return n;
	live = lastlive();
	want = 1 + (uint32)(live / MarkBytesPerProc);
	return want < n ? want : n;
}

// Lower next_gc by what a sweep freed, times (GOGC+100)/100: at the end
// of mark next_gc assumed everything was live. Not below HeapMinimum.
static void
lowernextgc(uint64 freed)
{
	uint64 old, new, d;

	d = freed * (uint64)(gcpercent > 0 ? gcpercent+100 : 100) / 100;
	do {
		old = runtime_atomicload64(&mstats.next_gc);
		new = old > d + HeapMinimum ? old - d : HeapMinimum;
		if(new > old)
			new = old;	// already at or below the floor
	} while(!runtime_cas64(&mstats.next_gc, old, new));
}

// ---- the collector's entry points ------------------------------------------------

static int32
readgogc(void)
{
	return runtime_readgogc();
}

static void
clearpools(void)
{
	P *p, **pp;

	for(pp = runtime_allp; (p = *pp) != nil; pp++)
		if(p->mcache != nil) {
			p->mcache->tiny = nil;	// clear the tiny alloc cache
			p->mcache->tinysize = 0;
		}
}

// ---- debug validator ---------------------------------------------------------------

// Check the sweepgen invariant and the books of every span, world
// stopped (tests call it between collections; nothing here is on a fast
// path). Every in-use span is swept (sg), being swept (sg−1, impossible
// while the world is stopped: sweepers run with m->locks) or waiting
// (sg−2; never once sweepdone). A swept span of small objects has no
// mark bits left, its free list lies inside it on block boundaries, each
// free block is "allocated" only in the bitmap, and ref + free blocks ==
// capacity. Every page of an in-use span maps to it.
static void
checkspan(MSpan *s, uint32 sg, bool done)
{
	uintptr i, cap, nfree, bits;
	byte *p, *start;
	MLink *x;

	if(s->sweepgen != sg && s->sweepgen != sg-2) {
		runtime_printf("runtime: span %p sweepgen %u, mheap.sweepgen %u\n", (void*)s, s->sweepgen, sg);
		runtime_throw("checkheap: bad span sweepgen");
	}
	if(done && s->sweepgen != sg) {
		runtime_printf("runtime: span %p sweepgen %u, mheap.sweepgen %u\n", (void*)s, s->sweepgen, sg);
		runtime_throw("checkheap: unswept span after the sweep");
	}
	start = (byte*)(s->start << PageShift);
	for(i = 0; i < s->npages; i++) {
		if(runtime_mheap.spans[s->start + i - ((uintptr)runtime_mheap.arena_start >> PageShift)] != s)
			runtime_throw("checkheap: spans map disagrees");
	}
	if(s->sweepgen != sg)
		return;
	if(s->sizeclass == 0) {
		if(s->ref != 0 || (runtime_getbits(start) & bitMarked) != 0)
			runtime_throw("checkheap: bad large span");
		return;
	}
	cap = (s->npages << PageShift) / s->elemsize;
	for(i = 0, p = start; i < cap; i++, p += s->elemsize) {
		if((runtime_getbits(p) & bitMarked) != 0) {
			runtime_printf("runtime: block %p of swept span %p is marked\n", p, (void*)s);
			runtime_throw("checkheap: mark bit left after sweep");
		}
	}
	nfree = 0;
	for(x = s->freelist; x != nil; x = x->next) {
		p = (byte*)x;
		if(p < start || p >= s->limit || (uintptr)(p - start) % s->elemsize != 0)
			runtime_throw("checkheap: free list leaves its span");
		bits = runtime_getbits(p);
		if(bits != (s->noscan ? bitAllocated : bitFree)) {
			runtime_printf("runtime: free block %p bits %#llx\n", p, (unsigned long long)bits);
			runtime_throw("checkheap: free block in use in the bitmap");
		}
		if(++nfree > cap)
			runtime_throw("checkheap: free list loops");
	}
	if(s->ref + nfree != cap) {
		runtime_printf("runtime: span %p class %d: ref %u + free %llu != %llu\n", (void*)s,
			(int)s->sizeclass, (uint32)s->ref, (unsigned long long)nfree, (unsigned long long)cap);
		runtime_throw("checkheap: span books do not balance");
	}
}

// Validate every span (checkspan) and the sweepgen of every span not in
// use. World stopped. done: the sweep is over, every span must be swept.
// Out of line, for the same reason as gccheckmark: it leaves addresses of
// dead blocks in its locals.
static NOINLINE void
checkheaplocked(bool done)
{
	MSpan *s;
	uint32 i, sg;

	sg = runtime_mheap.sweepgen;
	for(i = 0; i < runtime_mheap.nspan; i++) {
		s = runtime_mheap.allspans[i];
		if(s->state == MSpanInUse)
			checkspan(s, sg, done);
		else if(s->sweepgen != sg && (done || s->sweepgen != sg-2)) {
			runtime_printf("runtime: span %p state %d sweepgen %u, mheap.sweepgen %u\n",
				(void*)s, s->state, s->sweepgen, sg);
			runtime_throw("checkheap: bad sweepgen of a span not in use");
		}
	}
}

void
runtime_checkheap(void)
{
	runtime_stopworld();
	checkheaplocked(runtime_atomicload(&runtime_mheap.sweepdone) != 0);
	runtime_startworld();
}

// Is the sweep concurrent (the seed change) or in the pause (its parent)?
static bool
concurrentsweep(void)
{
	return runtime_debug.concurrentsweep != 0;
}

// Set up the next sweep: snapshot allspans, advance sweepgen. World
// stopped, everything of the previous cycle swept.
static void
sweepsetup(void)
{
	MHeap *h;

	h = &runtime_mheap;
	// Free the previous snapshot unless it is still allspans (RecordSpan
	// left it alone because sweepers might be indexing it).
	if(sweep.spans != nil && sweep.spans != h->allspans)
		runtime_SysFree(sweep.spans, sweep.spancap*sizeof(sweep.spans[0]), &mstats.other_sys);
	h->sweepspans = h->allspans;
	sweep.spans = h->allspans;
	sweep.nspan = h->nspan;
	sweep.spancap = h->nspancap;
	sweep.spanidx = 0;
	h->sweepgen += 2;
	runtime_atomicstore(&h->sweepdone, 0);
}

// What one collection's gctrace line reports.
typedef struct GcTrace GcTrace;
struct GcTrace
{
	int64	t0;	// the collection began (before stopping the world)
	int64	t1;	// the pause's sweep of what was left began
	int64	t2;	// mark began
	int64	t3;	// mark ended
	int64	t4;	// the collection ended
	int64	tsweep;	// sweeping after mark, in the pause
	uint64	heap0;	// the live heap the previous collection left
	uint32	nspan;	// spans in the sweep that just ended
	uint32	nbg;	// of which bgsweep swept
	uint32	npause;	// of which this pause swept
};

// Step 1: sweep what bgsweep and the lazy sweepers have not: mark needs
// every span swept (markroot checks).
static void
gcfinishsweep(GcTrace *tr)
{
	tr->nspan = sweep.nspan;
	npausesweep = 0;
	while(runtime_sweepone() != -1)
		npausesweep++;
	if(runtime_debug.gccheckmark || runtime_checking)
		checkheaplocked(true);
}

// Step 2: mark, in parallel: the roots (parfor over markroot), then the
// work buffers (scanblock) until every helper is out of work.
static void
gcmark(GcTrace *tr)
{
	// The caches' blocks go back to the central lists first (Go 1.3
	// does it as one of markroot's jobs): that writes free-list links
	// into free blocks, which the mark scans when a stale pointer
	// reaches one (mgc0.h), so the lists must not change under it.
	flushallmcaches();
	work.nwait = 0;
	work.ndone = 0;
	work.nproc = markprocs(runtime_gcprocs());
	runtime_parforsetup(work.markfor, work.nproc, RootCount + runtime_allglen, nil, false, markroot);
	runtime_atomicstore(&work.sweepready, 0);
	if(work.nproc > 1) {
		runtime_noteclear(&work.alldone);
		runtime_helpgc(work.nproc);
	}

	tr->t2 = runtime_nanotime();
	gchelperstart();
	runtime_parfordo(work.markfor);
	scanblock(nil, true);
	tr->t3 = runtime_nanotime();
	bufferList[runtime_m()->helpgc].busy = 0;
	if(runtime_debug.gccheckmark)
		gccheckmark();
}

// Step 3: start the next sweep. Helpers wait for sweepready, then sweep
// their share of sweepfor: every span in the stop-the-world mode, none
// when the sweep is concurrent.
static void
gcsweepstart(GcTrace *tr, bool concurrent)
{
	tr->nbg = runtime_xchg(&nbgsweep, 0);
	// The live heap the last collection left, as next_gc says (for the
	// trace), before this cycle's sweeping lowers next_gc.
	tr->heap0 = lastlive();
	// The heap profile's generations move now, before anything of this
	// cycle is swept, in both modes (mprof.c).
	runtime_MProf_GC();
	sweepsetup();
	runtime_parforsetup(work.sweepfor, work.nproc, concurrent ? 0 : sweep.nspan, nil, true, sweepspan);
	if(!concurrent)
		sweep.spanidx = sweep.nspan;	// sweepfor has them all
	runtime_atomicstore(&work.sweepready, 1);
	runtime_parfordo(work.sweepfor);
	if(work.nproc > 1)
		runtime_notesleep(&work.alldone);
	tr->tsweep = concurrent ? 0 : runtime_nanotime() - tr->t3;
	tr->npause = npausesweep;
}

// Step 4: pacing (the next collection's goal), and with the concurrent
// sweep, the background sweeper set going.
static void
gcpace(bool concurrent)
{
	G *gp;

	if(!concurrent) {
		runtime_atomicstore(&runtime_mheap.sweepdone, 1);
		runtime_updatememstats();
		mstats.next_gc = heapgoal(mstats.heap_alloc);
		return;
	}
	// The live heap is not known yet. Assume everything is live; every
	// sweep lowers next_gc by what it frees (lowernextgc), so that once
	// all is swept next_gc is what the stop-the-world mode computes.
	cachestats();
	mstats.next_gc = heapgoal(mstats.heap_alloc);
	runtime_lock(&gclock);
	if(sweep.g == nil) {
		sweep.g = runtime_newproc1(bgsweep, nil, true);
	} else if(sweep.parked) {
		sweep.parked = false;
		gp = sweep.g;
		runtime_ready(gp);
	}
	runtime_unlock(&gclock);
}

// Step 5: the pause's statistics, and the gctrace line.
static void
gcrecord(GcTrace *tr, bool concurrent)
{
	uint64 heap1, obj;

	mstats.last_gc = tr->t4;
	mstats.pause_ns[mstats.numgc%nelem(mstats.pause_ns)] = tr->t4 - tr->t0;
	mstats.pause_total_ns += tr->t4 - tr->t0;
	mstats.numgc++;
	if(!runtime_debug.gctrace)
		return;
	if(concurrent)
		runtime_updatememstats();	// the counts, unswept garbage included
	heap1 = mstats.heap_alloc;
	obj = mstats.nmalloc - mstats.nfree;
	// The seed's line: mark + sweep in the pause + the rest, ms; spans in
	// the sweep that just ended / swept by bgsweep / swept in this pause
	// (the rest were swept lazily).
	runtime_printf("gc%u(%u): %lld+%lld+%lld ms, %llu -> %llu MB, %llu (%llu-%llu) objects, %u/%u/%u sweeps,"
		" %llu(%llu) handoff, %llu(%llu) steal, %llu/%llu/%llu yields\n",
		mstats.numgc, work.nproc, (long long)((tr->t3-tr->t2)/1000000), (long long)((tr->t2-tr->t1+tr->tsweep)/1000000),
		(long long)((tr->t1-tr->t0+tr->t4-tr->t3-tr->tsweep)/1000000),
		(unsigned long long)(tr->heap0>>20), (unsigned long long)(heap1>>20),
		(unsigned long long)obj, (unsigned long long)mstats.nmalloc, (unsigned long long)mstats.nfree,
		concurrent ? tr->nspan : sweep.nspan, tr->nbg, tr->npause,
		(unsigned long long)gcstats.nhandoff, (unsigned long long)gcstats.nhandoffcnt,
		(unsigned long long)work.markfor->nsteal, (unsigned long long)work.markfor->nstealcnt,
		(unsigned long long)(gcstats.nprocyield + work.markfor->nprocyield),
		(unsigned long long)(gcstats.nosyield + work.markfor->nosyield),
		(unsigned long long)(gcstats.nsleep + work.markfor->nsleep));
}

// One collection, world stopped, on the calling goroutine's stack, below
// gcsp (runtime_gc): none of its frames is scanned, so none of the
// addresses it handles (the collector's work in progress, finalizable
// blocks, dead blocks) is taken for a root. eagersweep: sweep in the
// pause even in concurrent mode. The steps are Go 1.3's gc(), named.
static NOINLINE void
gc(int64 t0, bool eagersweep)
{
	GcTrace tr;
	bool concurrent;

	tr.t0 = t0;
	work.tstart = t0;
	memset(&gcstats, 0, sizeof gcstats);
	if(work.markfor == nil) {
		work.markfor = runtime_parforalloc(MaxGcproc);
		work.sweepfor = runtime_parforalloc(MaxGcproc);
	}
	concurrent = concurrentsweep() && !eagersweep;

	tr.t1 = runtime_nanotime();
	gcfinishsweep(&tr);
	gcmark(&tr);
	gcsweepstart(&tr, concurrent);
	gcpace(concurrent);
	if(runtime_debug.gccheckmark || runtime_checking)
		checkheaplocked(!concurrent);
	tr.t4 = runtime_nanotime();
	gcrecord(&tr, concurrent);
}

// runtime·gc(force): collect if the heap reached next_gc, or if forced
// (1: gort_gc and the scavenger; 2: also sweep in the pause, for
// gort_free_os_memory, as go1.3's gc(2)).
void
runtime_gc(int32 force)
{
	M *mp;
	int64 t0;
	uintptr sp;

	mp = runtime_m();
	if(mp == nil || mp->curg == nil || mp->locks > 0 || mp->mallocing || mp->gcing)
		return;
	if(!force && !mstats.enablegc)
		return;
	if(gcpercent == -2) {
		runtime_lock(&gclock);
		if(gcpercent == -2)
			gcpercent = readgogc();
		runtime_unlock(&gclock);
	}
	if(!force && gcpercent < 0)
		return;

	runtime_semacquire(&runtime_worldsema);
	if(!force && mstats.heap_alloc < mstats.next_gc) {
		// Typically those that lost the race for worldsema: the
		// collection is done.
		runtime_semrelease(&runtime_worldsema);
		return;
	}
	t0 = runtime_nanotime();
	// List the loaded objects' data and bss now, not in the pause: it
	// takes the dynamic loader's lock, which a stopped goroutine may hold.
	runtime_snapshotroots();
	mp = runtime_m();
	mp->gcing = 1;
	runtime_stoptheworld();
	if(runtime_debug.allocfreetrace)
		runtime_tracegc();
	clearpools();
	// This goroutine's own registers and frames are roots too: spill
	// the registers into this frame and scan from here up (gc's frames,
	// below, are not roots).
	__builtin_unwind_init();
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	gcg = mp->curg;
	gcsp = sp;
	gc(t0, force >= 2);
	gcg = nil;
	runtime_startworld();
	// Finalizers queued by the sweep in this pause: start or wake the
	// finalizer goroutine (bgsweep does it for the concurrent sweep),
	// and give it a chance to run (go1.3's gosched).
	wakefing();
	if(!concurrentsweep() || force >= 2)
		runtime_gosched();
}

// ---- finalizers -----------------------------------------------------------------
//
// gort_set_finalizer records a finalizer special on the object's span.
// The mark phase scans a finalizable object's body without marking the
// object itself (markroot, RootSpanTypes), so everything it points to
// survives while the object can be found dead; the sweeper then queues
// (object, fn) in a FinBlock instead of freeing it, and keeps it for one
// more cycle. The queued entries are roots (RootFinalizers) until the
// finalizer goroutine (runfinq, started on first need) has run them; the
// object is freed by the first collection after that, unless the
// finalizer made it reachable again. So if A points to B and both have
// finalizers, A's runs first, B's a cycle later; a finalizer runs once.

typedef struct Finalizer Finalizer;
struct Finalizer
{
	void	(*fn)(void*);	// as FinBlock.fin
	void*	arg;
};

// A FinBlock's entries (cnt, fin) are under finlock while it is on finq,
// fing's alone once it has taken the batch, and read by markfinq with the
// world stopped.
typedef struct FinBlock FinBlock;
struct FinBlock
{
	FinBlock*	alllink;	// set under finlock at creation; immutable
	FinBlock*	next;		// finlock; fing's alone while it runs its batch
	int32	cnt;			// see above
	int32	cap;			// immutable after creation
	Finalizer fin[1];		// see above
};

enum
{
	FinBlockSize = 4*1024,
};

static Lock	finlock = LOCK_INIT(LockRankFin);	// protects finq, finc, allfin, fing, fingwait, fingwake
static FinBlock	*finq;		// list of finalizers to be executed
static FinBlock	*finc;		// cache of free blocks
static FinBlock	*allfin;	// list of all blocks
static G	*fing;		// the finalizer goroutine
static bool	fingwait;	// fing is parked, waiting for work
static bool	fingwake;	// ... and should be woken after this collection

void
runtime_queuefinalizer(byte *p, void (*fn)(void*))
{
	FinBlock *block;
	Finalizer *f;

	runtime_lock(&finlock);
	if(finq == nil || finq->cnt == finq->cap) {
		if(finc == nil) {
			finc = runtime_persistentalloc(FinBlockSize, 0, &mstats.gc_sys);
			finc->cap = (FinBlockSize - sizeof(FinBlock)) / sizeof(Finalizer) + 1;
			finc->alllink = allfin;
			allfin = finc;
		}
		block = finc;
		finc = block->next;
		block->next = finq;
		finq = block;
	}
	f = &finq->fin[finq->cnt];
	finq->cnt++;
	f->fn = fn;
	f->arg = p;
	fingwake = true;
	runtime_unlock(&finlock);
}

// The finalizer goroutine: runs queued finalizers, one batch at a time.
static void
runfinq(void *arg)
{
	FinBlock *fb, *next;
	Finalizer *f;
	int32 i;

	USED(arg);
	for(;;) {
		runtime_lock(&finlock);
		fb = finq;
		finq = nil;
		if(fb == nil) {
			fingwait = true;
			// Parked, it is no sign of life; running finalizers
			// (which may block, or collect), it is a goroutine like
			// any other (go1.3).
			runtime_g()->isbackground = true;
			runtime_parkunlock(&finlock, "finalizer wait");
			runtime_g()->isbackground = false;
			continue;
		}
		runtime_unlock(&finlock);
		for(; fb; fb = next) {
			next = fb->next;
			for(i = 0; i < fb->cnt; i++) {
				f = &fb->fin[i];
				f->fn(f->arg);
				f->fn = nil;
				f->arg = nil;
			}
			fb->cnt = 0;
			runtime_lock(&finlock);
			fb->next = finc;
			finc = fb;
			runtime_unlock(&finlock);
		}
	}
}

// After a collection: start the finalizer goroutine, or wake it, if
// finalizers were queued.
static void
wakefing(void)
{
	G *gp;

	gp = nil;
	runtime_lock(&finlock);
	if(fingwake && finq != nil) {
		fingwake = false;
		if(fing == nil) {
			fing = runtime_newproc1(runfinq, nil, true);
		} else if(fingwait) {
			fingwait = false;
			gp = fing;
		}
	}
	runtime_unlock(&finlock);
	if(gp != nil)
		runtime_ready(gp);
}

// Scan the queued finalizers' arguments: queued objects stay alive.
static void
markfinq(Workbuf **wbufp)
{
	FinBlock *fb;

	for(fb = allfin; fb != nil; fb = fb->alllink)
		enqueue((Obj){(byte*)fb->fin, fb->cnt*sizeof(fb->fin[0]), TiConservative}, wbufp);
}

// Have all queued finalizers run (the queue empty, and the finalizer
// goroutine parked or never started)? For tests, which wait on it
// instead of sleeping.
bool
runtime_finqidle(void)
{
	bool idle;

	runtime_lock(&finlock);
	idle = finq == nil && (fing == nil || fingwait);
	runtime_unlock(&finlock);
	return idle;
}

// gccheckmark's root: the queued finalizers' arguments, as markfinq.
static void
checkfinq(void)
{
	FinBlock *fb;

	for(fb = allfin; fb != nil; fb = fb->alllink)
		checkpush((CheckItem){(byte*)fb->fin, fb->cnt*sizeof(fb->fin[0]), TiConservative,
			(byte*)fb->fin, 0, CheckRootFinq, 0});
}

// runtime.SetFinalizer for C: fn(obj) runs once after obj becomes
// unreachable; fn nil removes obj's finalizer. Pointers outside the heap
// are ignored (go1.3: TestFinalizerOnGlobal), as are 0-byte blocks.
GORT_API void
gort_set_finalizer(void *obj, void (*fn)(void *obj))
{
	byte *base;
	uintptr size;
	MSpan *s;

	runtime_mcheck("gort_set_finalizer");
	if(obj == nil) {
		runtime_printf("runtime.SetFinalizer: first argument is nil\n");
		runtime_throw("runtime.SetFinalizer");
	}
	if((byte*)obj < runtime_mheap.arena_start || runtime_mheap.arena_used <= (byte*)obj)
		return;
	if(!runtime_mlookup(obj, &base, &size, &s) || obj != base) {
		// An inner byte of a tiny block is fine: the tiny allocator
		// packs several objects into one block.
		if(base == nil || s == nil || s->sizeclass != TinySizeClass ||
		   (runtime_getbits(base) & bitSpecial) == 0) {
			runtime_printf("runtime.SetFinalizer: pointer not at beginning of allocated block\n");
			runtime_throw("runtime.SetFinalizer");
		}
	}
	if(fn != nil) {
		if(!runtime_addfinalizer(obj, fn)) {
			runtime_printf("runtime.SetFinalizer: finalizer already set\n");
			runtime_throw("runtime.SetFinalizer");
		}
	} else
		runtime_removefinalizer(obj);
}

GORT_API void
gort_gc(void)
{
	runtime_mcheck("gort_gc");
	// As go1.3's runtime.GC (241f63de): with the concurrent sweep, the
	// second collection finishes the first one's sweeping in its pause,
	// so that what was garbage is freed (and its finalizers queued)
	// when gort_gc returns.
	runtime_gc(1);
	if(concurrentsweep())
		runtime_gc(1);
}

// debug.SetGCPercent: < 0 turns automatic collection off; returns the
// previous setting.
GORT_API int
gort_set_gc_percent(int pct)
{
	int32 old;

	runtime_mcheck("gort_set_gc_percent");
	runtime_lock(&gclock);
	if(gcpercent == -2)
		gcpercent = readgogc();
	old = gcpercent;
	if(pct < 0)
		pct = -1;
	gcpercent = pct;
	runtime_unlock(&gclock);
	return old;
}

GORT_API void
gort_free_os_memory(void)
{
	runtime_mcheck("gort_free_os_memory");
	runtime_gc(2);	// collect and sweep everything (go1.3, e893acf1), then ...
	runtime_freeOSMemoryRelease();	// ... release everything idle
}


GORT_API void
gort_keep_alive(const void *p)
{
	// A use the compiler cannot remove: p is live up to this call.
	__asm__ volatile("" :: "r"(p) : "memory");
}

// ---- statistics --------------------------------------------------------------------

// Fold every P's cache statistics into mstats. World stopped.
static void
cachestats(void)
{
	P *p, **pp;

	for(pp = runtime_allp; (p = *pp) != nil; pp++)
		if(p->mcache != nil)
			runtime_purgecachedstats(p->mcache);
}

// Give every P's cached objects back to the central lists, so that span
// ref counts say exactly what is allocated. World stopped.
static void
flushallmcaches(void)
{
	P *p, **pp;

	for(pp = runtime_allp; (p = *pp) != nil; pp++)
		if(p->mcache != nil)
			MCache_ReleaseAll(p->mcache);
}

// Recompute the derived statistics. World stopped.
//
// Between collections gort (like Go) counts only frees as they happen.
// The objects alive now, and their bytes, come from a walk of the in-use
// spans; mallocs are then "alive + freed", and total_alloc "alive bytes +
// freed bytes". heap_alloc is reset to the exact figure.
void
runtime_updatememstats(void)
{
	MSpan *s;
	uint32 i;
	uint64 smallfree;

	mstats.mcache_inuse = runtime_mheap.cachealloc.inuse;
	mstats.mspan_inuse = runtime_mheap.spanalloc.inuse;
	mstats.sys = mstats.heap_sys + mstats.stacks_sys + mstats.mspan_sys +
		mstats.mcache_sys + mstats.buckhash_sys + mstats.gc_sys + mstats.other_sys;

	mstats.alloc = 0;
	mstats.total_alloc = 0;
	mstats.nmalloc = 0;
	mstats.nfree = 0;
	for(i = 0; i < nelem(mstats.by_size); i++) {
		mstats.by_size[i].nmalloc = 0;
		mstats.by_size[i].nfree = 0;
	}

	flushallmcaches();
	cachestats();

	// Count the live objects span by span.
	for(i = 0; i < runtime_mheap.nspan; i++) {
		s = runtime_mheap.allspans[i];
		if(s->state != MSpanInUse)
			continue;
		if(s->sizeclass == 0) {
			mstats.nmalloc++;
			mstats.alloc += s->elemsize;
		} else {
			mstats.nmalloc += s->ref;
			mstats.by_size[s->sizeclass].nmalloc += s->ref;
			mstats.alloc += s->ref*s->elemsize;
		}
	}

	// Add the frees, by size class.
	smallfree = 0;
	mstats.nfree = runtime_mheap.nlargefree;
	for(i = 0; i < nelem(mstats.by_size); i++) {
		mstats.nfree += runtime_mheap.nsmallfree[i];
		mstats.by_size[i].nfree = runtime_mheap.nsmallfree[i];
		mstats.by_size[i].nmalloc += runtime_mheap.nsmallfree[i];
		smallfree += runtime_mheap.nsmallfree[i] * runtime_class_to_size[i];
	}
	mstats.nmalloc += mstats.nfree;

	mstats.total_alloc = mstats.alloc + runtime_mheap.largefree + smallfree;
	// The running count must agree with the walk (go1.3, aea99eda, checks
	// this under gctrace).
	if(runtime_debug.gctrace && mstats.heap_alloc != mstats.alloc) {
		runtime_printf("runtime: heap_alloc %llu, live blocks %llu\n",
			(unsigned long long)mstats.heap_alloc, (unsigned long long)mstats.alloc);
		runtime_throw("mstats skew");
	}
	mstats.heap_alloc = mstats.alloc;
	mstats.heap_objects = mstats.nmalloc - mstats.nfree;
}

void
runtime_ReadMemStats(MStats *out)
{
	runtime_mcheck("ReadMemStats");
	runtime_stopworld();
	// No heap lock: the world is stopped, and flushing the caches may
	// give spans back to the heap, which takes it.
	runtime_updatememstats();
	*out = mstats;
	runtime_startworld();
}

GORT_API void
gort_read_memstats(GortMemStats *ms)
{
	MStats st;
	uint32 i;

	runtime_ReadMemStats(&st);
	ms->Alloc = st.alloc;
	ms->TotalAlloc = st.total_alloc;
	ms->Sys = st.sys;
	ms->Lookups = st.nlookup;
	ms->Mallocs = st.nmalloc;
	ms->Frees = st.nfree;
	ms->HeapAlloc = st.heap_alloc;
	ms->HeapSys = st.heap_sys;
	ms->HeapIdle = st.heap_idle;
	ms->HeapInuse = st.heap_inuse;
	ms->HeapReleased = st.heap_released;
	ms->HeapObjects = st.heap_objects;
	ms->StackInuse = st.stacks_inuse;
	ms->StackSys = st.stacks_sys;
	ms->MSpanInuse = st.mspan_inuse;
	ms->MSpanSys = st.mspan_sys;
	ms->MCacheInuse = st.mcache_inuse;
	ms->MCacheSys = st.mcache_sys;
	ms->BuckHashSys = st.buckhash_sys;
	ms->GCSys = st.gc_sys;
	ms->OtherSys = st.other_sys;
	ms->NextGC = st.next_gc;
	ms->LastGC = st.last_gc;
	ms->PauseTotalNs = st.pause_total_ns;
	memcpy(ms->PauseNs, st.pause_ns, sizeof ms->PauseNs);
	ms->NumGC = st.numgc;
	ms->EnableGC = st.enablegc;
	ms->DebugGC = st.debuggc;
	// Go's MemStats.BySize keeps 61 entries: the first 61 classes.
	for(i = 0; i < nelem(ms->BySize); i++) {
		ms->BySize[i].Size = st.by_size[i].size;
		ms->BySize[i].Mallocs = st.by_size[i].nmalloc;
		ms->BySize[i].Frees = st.by_size[i].nfree;
	}
}
