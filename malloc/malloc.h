// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Memory allocator, after tcmalloc, as Go 1.3 has it (golang/go 3c3be622,
// src/pkg/runtime/malloc.h). Read this first; the other allocator files
// point here.
//
// The allocator works in runs of 8 KB pages. Requests of at most 32 KB
// are "small": they are rounded up to one of 66 size classes, and each
// class keeps its own free lists of objects of exactly that size, carved
// from spans of pages. Larger requests take whole runs of pages.
//
// The data structures, bottom up:
//
//	FixAlloc: free-list allocator for fixed-size runtime records
//		(MSpan, MCache, specials), fed by persistentalloc.
//	MHeap: the page heap; owns the arena, the spans map and the heap
//		bitmap; hands out runs of pages (MSpans).
//	MSpan: a run of pages, either free in the heap, one large object,
//		or a set of small objects of one class.
//	MCentral: per span class (a size class, with or without pointers:
//		gort, Go 1.12's), the spans with free objects (nonempty) and
//		those handed out whole (empty).
//	MCache: per-P free lists, one per span class (used by the M that
//		holds the P); no locking.
//	MStats: allocation statistics.
//
// Allocating a small object climbs the hierarchy until it finds one:
//
//	1. Round the size up to its class and pop the MCache list of that
//	   class's spans with or without pointers (FlagNoScan). No lock is
//	   taken, and no heap-bitmap bit is written: a free block is already
//	   in the state its allocation wants (mgc0.h).
//	2. If that list is empty, take a whole span's worth of free objects
//	   from the MCentral (MCache_Refill → MCentral_AllocList), which
//	   pays for one MCentral lock per span rather than per object.
//	3. If the MCentral has no span with free objects, allocate a run of
//	   pages from the MHeap (MCentral_Grow), one heap lock per span. Go
//	   carves it into a list; gort hands the cache the fresh, zeroed span
//	   as a bump region (MCacheList.fresh) that step 1 takes blocks from
//	   in order once the list is empty, and that MCache_ReleaseAll links
//	   back into a list only for the blocks left.
//	4. If the MHeap has no run big enough, map at least 1 MB more of the
//	   arena from the OS (MHeap_Grow), one system call per megabyte.
//
// Freeing a small object walks back down:
//
//	1. Push it on the MCache list of its class.
//	2. If that list holds more than two spans' worth, return half to the
//	   MCentral.
//	3. If every object of a span is back in the MCentral, the span goes
//	   back to the MHeap (and its bitmap is cleared).
//	4. Spans idle in the MHeap for five minutes are returned to the OS
//	   with madvise by the scavenger (MHeap_Scavenger, mheap.c);
//	   debug.FreeOSMemory returns all idle spans at once.
//
// Large objects bypass the MCache and the MCentral and use the MHeap
// directly; large in-use spans are kept on the heap's busy lists (by page
// count) so that lazy sweeping can find them.
//
// Zeroing. Objects on the MCache and MCentral lists may be dirty: an
// object is zero iff its second word is zero (the first word is the list
// link); free writes 0xfeedfeed... there and the sweeper 0xdeaddead...,
// and the blocks of a fresh span handed to a cache (MCacheList.fresh) are
// zero. A span's pages are zero iff the first word of its first page is
// zero; freeing writes a distinct nonzero word there (1 from MCentral,
// 0xfeedfeed... from free, 0xdeaddead... from the sweeper, 0xbeadbead...
// when MHeap cannot trust the word) so that stray values tell where they
// came from. Zeroing is charged to the allocating mutator, not to the
// collector.
//
// The heap bitmap (mgc0.c) keeps 4 bits for every heap word, in words
// that grow down from arena_start; see the comment there.
//
// Names follow Go: runtime·MHeap_Alloc is MHeap_Alloc here, and lower case
// runtime·x is runtime_x. Methods have the form Type_Method(Type *t, ...).

#ifndef GORT_MALLOC_H
#define GORT_MALLOC_H

#include "runtime.h"

typedef struct MCentral	MCentral;
typedef struct MHeap	MHeap;
typedef struct MSpan	MSpan;
typedef struct MStats	MStats;
typedef struct MLink	MLink;
typedef struct MTypes	MTypes;
typedef struct Special	Special;
typedef struct Bucket	Bucket;

enum
{
	PageShift	= 13,
	PageSize	= 1<<PageShift,
	PageMask	= PageSize - 1,
};
typedef uintptr PageID;		// address >> PageShift

enum
{
	// The size-class algorithm in msize.c yields this many classes
	// (class 0 means "large"); InitSizes checks it.
	NumSizeClasses = 67,

	MaxSmallSize = 32<<10,

	// Tiny allocator (malloc.c): pointer-free requests under 16 bytes
	// share 16-byte blocks of class 2.
	TinySize = 16,
	TinySizeClass = 2,

	// Span classes (gort; Go 1.12's spanClass): each size class has
	// spans for blocks with pointers and spans for pointer-free
	// (FlagNoScan) blocks, so that whether a block is scanned is a
	// property of its span. A free block's bitmap state is its span's
	// (bitFree or bitAllocated, mgc0.h), and no allocation writes the
	// bitmap. The caches and the central lists are per span class.
	NumSpanClasses = NumSizeClasses*2,
	TinySpanClass = TinySizeClass<<1 | 1,

	FixAllocChunk = 16<<10,		// chunk size for FixAlloc
	MaxMHeapList = 1<<(20 - PageShift),	// free[]/busy[] lists by page count, < 1 MB
	HeapAllocChunk = 1<<20,		// minimum heap growth

	// The arena is 128 GB (37 bits) on 64-bit Linux, as in Go.
	MHeapMap_Bits = 37 - PageShift,

	// Max number of threads that run the collector.
	MaxGcproc = 8,
	// The heap size below which no automatic collection starts. Go 1.3
	// has none (its first collection comes at the first allocation, and
	// then at twice a tiny heap); gort takes Go 1.5's heapminimum, because
	// every collection scans the whole data and bss of a C process (libc,
	// the loader, a sanitizer runtime), which makes tiny-heap collections
	// cost milliseconds each.
	HeapMinimum = 4<<20,
};

#define MaxMem	(1ULL<<(MHeapMap_Bits+PageShift))	/* 128 GB */

// A generic linked list of blocks (the block is usually bigger).
struct MLink
{
	MLink *next;
};

// The OS interface (mem_linux.c). All sizes are multiples of the OS page.
//
// SysAlloc returns zeroed memory from the OS and counts it in *stat.
// SysUnused tells the OS the contents are no longer needed (madvise);
// SysUsed that they are needed again.
// SysFree returns memory unconditionally and uncounts it.
// SysFault makes the range inaccessible, keeping the address space
// reserved (efence uses it for freed objects), and uncounts it.
// SysReserve reserves address space without committing memory, exactly
// at v (nil if that range is taken), or anywhere when v is nil; SysMap
// commits part of a reservation and counts it.
void*	runtime_SysAlloc(uintptr nbytes, uint64 *stat);
void*	runtime_SysGrow(void *old, uintptr len, uintptr *capp, uintptr elemsize, bool keepold, uint64 *stat);
void	runtime_SysFree(void *v, uintptr nbytes, uint64 *stat);
void	runtime_SysFault(void *v, uintptr nbytes, uint64 *stat);
void	runtime_SysUnused(void *v, uintptr nbytes);
void	runtime_SysUsed(void *v, uintptr nbytes);
void	runtime_SysMap(void *v, uintptr nbytes, uint64 *stat);
void*	runtime_SysReserve(void *v, uintptr nbytes);

// FixAlloc is a free-list allocator for fixed-size objects, used for the
// allocator's own records. Memory is not zeroed; the first word is
// smashed by free and by reuse. The caller locks (usually the heap lock):
// "the owner's lock" below is h->lock or h->speciallock, as MHeap says.
struct FixAlloc
{
	uintptr	size;		// immutable after FixAlloc_Init
	void	(*first)(void *arg, byte *p);	// called the first time p is handed out; immutable
	void*	arg;		// immutable after FixAlloc_Init
	MLink*	list;		// freed records; the owner's lock
	byte*	chunk;		// current chunk; the owner's lock
	uint32	nchunk;		// bytes left in it; the owner's lock
	uintptr	inuse;		// bytes handed out now; the owner's lock (updatememstats
				// reads it with the world stopped)
	uint64*	stat;		// MStats field charged for chunks; immutable after init
};

void	FixAlloc_Init(FixAlloc *f, uintptr size, void (*first)(void*, byte*), void *arg, uint64 *stat);
void*	FixAlloc_Alloc(FixAlloc *f);
void	FixAlloc_Free(FixAlloc *f, void *p);

// Statistics, kept as Go 1.3 keeps them; gort_read_memstats copies them
// into the public GortMemStats (same order and widths).
struct MStats
{
	// General statistics (recomputed by updatememstats, world stopped;
	// nlookup is summed by purgecachedstats instead: h->lock, or the
	// world stopped).
	uint64	alloc;		// bytes allocated and still in use
	uint64	total_alloc;	// bytes allocated (even if freed)
	uint64	sys;		// bytes obtained from system (sum of the *_sys below)
	uint64	nlookup;	// number of pointer lookups
	uint64	nmalloc;	// number of mallocs
	uint64	nfree;		// number of frees

	// Malloc heap. Under the heap lock, except as noted.
	uint64	heap_alloc;	// bytes allocated and still in use; h->lock or world
				// stopped (purgecachedstats, updatememstats); mallocgc
				// and runtime_gc read it racily: benign, a stale value
				// starts a GC a little early or late
	uint64	heap_sys;	// bytes obtained from system; atomic (Sys* xadd64)
	uint64	heap_idle;	// bytes in idle spans
	uint64	heap_inuse;	// bytes in non-idle spans
	uint64	heap_released;	// bytes released to the OS
	uint64	heap_objects;	// total number of allocated objects; h->lock, or world
				// stopped (updatememstats)

	// Low-level fixed-size structures. stacks_inuse and the *_sys are
	// updated atomically (SysAlloc, persistentalloc, stackalloc);
	// mspan_inuse and mcache_inuse are copied from their FixAllocs by
	// updatememstats, with the world stopped.
	uint64	stacks_inuse;	// goroutine stacks allocated (dead Gs' included)
	uint64	stacks_sys;
	uint64	mspan_inuse;	// MSpan records
	uint64	mspan_sys;
	uint64	mcache_inuse;	// MCache records
	uint64	mcache_sys;
	uint64	buckhash_sys;	// profiling bucket hash table
	uint64	gc_sys;		// heap bitmap, work buffers, finalizer blocks
	uint64	other_sys;	// spans map, allspans arrays, persistentalloc rest

	// Collector. Written with the world stopped, except next_gc, which
	// sweepers also lower concurrently (CAS, lowernextgc); mallocgc reads
	// it without a lock (a stale value starts a GC a little early or late).
	uint64	next_gc;	// next GC when heap_alloc reaches this
	uint64	last_gc;	// last GC (nanotime)
	uint64	pause_total_ns;
	uint64	pause_ns[256];	// circular, index numgc%256
	uint32	numgc;
	bool	enablegc;
	bool	debuggc;

	// Per size class. Go's MemStats.BySize has only 61 entries (the
	// count before PageShift became 13), so only the first 61 are
	// copied out, exactly as Go's sizeof_C_MStats arranges.
	struct {
		uint32 size;	// immutable after InitSizes
		uint64 nmalloc;	// world stopped (updatememstats)
		uint64 nfree;	// world stopped (updatememstats)
	} by_size[NumSizeClasses];
};

extern MStats runtime_mstats;
#define mstats runtime_mstats

// Size classes (msize.c). SizeToClass(0 <= n <= MaxSmallSize) is the
// class, 1 <= class < NumSizeClasses; class 0 means "large".
// class_to_size[i] is the largest size in class i; class_to_allocnpages[i]
// the pages a span of class i has.
int32	runtime_SizeToClass(int32 size);
uintptr	runtime_roundupsize(uintptr size);
extern	int32	runtime_class_to_size[NumSizeClasses];
extern	int32	runtime_class_to_allocnpages[NumSizeClasses];
extern	int8	runtime_size_to_class8[1024/8 + 1];
extern	int8	runtime_size_to_class128[(MaxSmallSize-1024)/128 + 1];
void	runtime_InitSizes(void);

// Per-P cache of small objects (Go 1.3's p->mcache). Only its owner touches it,
// so no lock; the local_* statistics are folded into MStats under the
// heap lock (purgecachedstats) or with the world stopped. Every field of
// an MCache and its MCacheLists: the M whose mcache it is, with m->locks
// or m->mallocing held (so that it keeps its P); or, with the world
// stopped, a GC thread (clearpools, cachestats, flushallmcaches, a
// helper's lent cache).
typedef struct MCacheList MCacheList;
struct MCacheList
{
	MLink*	list;
	uint32	nlist;
	// Blocks of a fresh span not yet handed out: [fresh, freshend),
	// zeroed, bitAllocated, counted in their span's ref (gort).
	byte*	fresh;
	byte*	freshend;
};

struct MCache
{
	// Read on every malloc; kept together.
	int32	next_sample;		// profile a heap sample after this many more bytes
	intptr	local_cachealloc;	// bytes allocated (−freed) here since the last heap lock
	byte*	tiny;			// current tiny block (see mallocgc)
	uintptr	tinysize;		// bytes left in it
	// The rest is not touched on every malloc.
	MCacheList list[NumSpanClasses];	// by span class (spanclass())
	// Local statistics, folded into MStats by purgecachedstats (heap
	// lock, or the world stopped).
	uintptr	local_nlookup;		// pointer lookups
	uintptr	local_largefree;	// bytes freed for large objects
	uintptr	local_nlargefree;	// frees of large objects
	uintptr	local_nsmallfree[NumSizeClasses];	// frees of small objects, by class
};

// A small span's class: its size class, and whether its blocks are
// pointer-free.
#define spanclass(sizeclass, noscan)	((int32)(sizeclass)<<1 | ((noscan) ? 1 : 0))
#define MSpan_Class(s)	spanclass((s)->sizeclass, (s)->noscan)

void	MCache_Refill(MCache *c, int32 spc);
void	MCache_Free(MCache *c, void *p, int32 spc, uintptr size);
void	MCache_ReleaseAll(MCache *c);

// MTypes records the types of the blocks of a span (Go's per-span type
// table; the collector scans typed blocks precisely by it).
//	MTypes_Empty:  no type information (free blocks, or untyped).
//	MTypes_Single: one block; data is its type word.
//	MTypes_Words:  data points to [nblocks]uintptr of type words.
//	MTypes_Bytes:  at most seven types: data points to
//	               struct { uintptr type[8]; byte index[nblocks]; }
//	               (type[0] is 0), block i has type[index[i]].
// compression and data of a small span in use change under settype_lock
// (release stores); settypefast reads them lock-free (acquire loads) and
// cleartype checks them again under the lock (malloc.c). They are reset
// under h->lock while the span is not in use, and a large span's are set
// by its allocating thread. The collector reads them with the world
// stopped, a sweeper in the span it owns.
enum
{
	MTypes_Empty = 0,
	MTypes_Single = 1,
	MTypes_Words = 2,
	MTypes_Bytes = 3,
};
struct MTypes
{
	byte	compression;	// MTypes_*
	uintptr	data;
};

// Special records hang off a span, sorted by offset then kind, to mark an
// object that has a finalizer or is being heap-profiled. The finalizer
// kind sorts first: an explicit free that meets a finalizer throws, and
// the other records must still be there when it does.
enum
{
	KindSpecialFinalizer = 1,
	KindSpecialProfile = 2,
};

struct Special
{
	Special*	next;	// in the span's list: MSpan.specialLock, or the
				// span's sweeper (sweepgen sg−1)
	uint16		offset;	// of the object from the span start; immutable once
				// linked (addspecial)
	byte		kind;	// KindSpecial*; immutable once linked
};

// The object has a finalizer. (Go also keeps the return size and the
// argument and object types: a C finalizer is always void fn(void*).)
typedef struct SpecialFinalizer SpecialFinalizer;
struct SpecialFinalizer
{
	Special	special;
	void	(*fn)(void*);	// immutable after creation
};

// The object is being heap-profiled (mprof).
typedef struct SpecialProfile SpecialProfile;
struct SpecialProfile
{
	Special	special;
	Bucket*	b;		// immutable after creation
};

// MSpan is a run of pages.
enum
{
	MSpanInUse = 0,	// allocated: one large object, or small objects of one class
	MSpanFree,	// in the heap's free lists
	MSpanListHead,	// a list head, not a span
	MSpanDead,	// record freed (back in spanalloc)
};

// An MSpan is on exactly one list at a time: a heap free[] list, a heap
// busy[] list (large objects) or its MCentral's nonempty/empty list;
// next and prev are both nil when it is on none. The list links are
// protected by the lock of the list it is on: the heap's or the
// MCentral's. state, npages and start are written under the heap lock
// (and do not change while the span is in use); freelist and ref are
// under the MCentral's lock once the span is in an MCentral. specials are
// under specialLock. The span's sweeper (the thread that moved sweepgen
// to sg−1) also uses freelist, ref and specials without those locks:
// every other user of them sweeps the span first (MSpan_EnsureSwept, or
// the lists' own sweeps), and a cache holds no block of an unswept span.
struct MSpan
{
	MSpan*	next;		// in a span list; h->lock or c->lock (the list's)
	MSpan*	prev;		// in a span list; as next
	PageID	start;		// first page; h->lock, fixed while MSpanInUse
	uintptr	npages;		// number of pages; as start
	MLink*	freelist;	// free objects; c->lock, or the span's sweeper without
				// it; unpublished while MCentral_Grow carves it
	// Sweep generation (concurrent sweep, mgc0.c):
	//	sweepgen == h->sweepgen - 2: the span needs sweeping
	//	sweepgen == h->sweepgen - 1: the span is being swept
	//	sweepgen == h->sweepgen:     the span is swept and ready to use
	// h->sweepgen grows by 2 after every GC. Claimed only by CAS,
	// published by atomic store, with one racy exception: trysweep
	// (mgc0.c) stamps a span not in use with a plain store after an
	// unlocked look at its state, which may race with MHeap_AllocLocked's
	// atomic store; benign, both store the same value (h->sweepgen).
	// Plain reads before a CAS are only hints.
	uint32	sweepgen;
	uint16	ref;		// objects handed out (to caches or users); c->lock.
				// The span's sweeper reads it without (MCentral_FreeSpan
				// checks it again under c->lock)
	uint8	sizeclass;	// 0 for a large object; set under h->lock when the span
				// is allocated, fixed while it is in use
	uint8	noscan;		// a small span of pointer-free blocks (span classes);
				// set by MCentral_Grow before the span is published
	uint8	state;		// MSpanInUse etc.; h->lock. MHeap_LookupMaybe and trysweep
				// read it racily: benign (a block's owner sees its span
				// in use; a span not in use is only stamped)
	uintptr	elemsize;	// class size, or npages<<PageShift if large; as sizeclass
	uint32	divmul;		// ceil(2^32/elemsize) for a small span, 0 if large
				// (MSpan_ObjIndex); as sizeclass
	int64	unusedsince;	// when it became free (nanotime), for the scavenger; h->lock
	uintptr	npreleased;	// pages released to the OS; h->lock
	byte*	limit;		// end of data in the span; set by the allocating thread
				// before it hands blocks out (largealloc, MCentral_Grow)
	MTypes	types;		// types of the allocated objects (see MTypes)
	Lock	specialLock;	// guards specials (with the sweeper's exception above)
	Special* specials;	// special records, sorted by offset then kind;
				// specialLock, or the span's sweeper. The collector reads
				// it with the world stopped; free peeks without the lock
				// (benign: the freed block's own records came first)
};

void	MSpan_Init(MSpan *span, PageID start, uintptr npages);

// The index of the block at byte offset off in span s: off/elemsize with
// a multiply instead of a divide (gort; Go 1.5 added divMagic for the same
// reason). Exact because off*elemsize < 2^32 for every size class's span
// (check_malloc tests every offset of every class); 0 in a large span.
static inline uintptr
MSpan_ObjIndex(MSpan *s, uintptr off)
{
	return (uintptr)(((uint64)off * s->divmul) >> 32);
}

// The type word recorded for the block at byte offset off in span s (0:
// none). runtime_gettype after its span lookup; the collector calls it
// with the span it already has. Reads the table without settype_lock:
// the world is stopped, or the caller owns the span.
static inline uintptr
MSpan_Type(MSpan *s, uintptr off)
{
	byte *data;

	switch(s->types.compression) {
	case MTypes_Single:
		return s->types.data;
	case MTypes_Words:
		return ((uintptr*)s->types.data)[MSpan_ObjIndex(s, off)];
	case MTypes_Bytes:
		data = (byte*)s->types.data;
		return ((uintptr*)data)[data[8*sizeof(uintptr) + MSpan_ObjIndex(s, off)]];
	}
	return 0;
}
void	MSpan_EnsureSwept(MSpan *span);
bool	MSpan_Sweep(MSpan *span);

// Doubly-linked span lists with an MSpan as the list head.
void	MSpanList_Init(MSpan *list);
bool	MSpanList_IsEmpty(MSpan *list);
void	MSpanList_Insert(MSpan *list, MSpan *span);
void	MSpanList_InsertBack(MSpan *list, MSpan *span);
void	MSpanList_Remove(MSpan *span);	// from whatever list it is on

// Central free list for one size class. The MCentral keeps spans, not
// objects: the free objects are on each span's freelist.
//	nonempty: spans with at least one free object
//	empty:    spans with none, or handed whole to an MCache; swept
//	          spans are kept at the back (InsertBack), unswept at the front
// Everything is protected by lock, but sizeclass, fixed by MCentral_Init.
struct MCentral
{
	Lock	lock;
	int32	sizeclass;	// immutable after MCentral_Init
	bool	noscan;		// its spans hold pointer-free blocks; as sizeclass
	MSpan	nonempty;	// lock
	MSpan	empty;		// lock
	int32	nfree;		// free objects on the nonempty spans; lock
};

void	MCentral_Init(MCentral *c, int32 spc);
int32	MCentral_AllocList(MCentral *c, MLink **first, byte **fresh);
void	MCentral_FreeList(MCentral *c, MLink *first);
bool	MCentral_FreeSpan(MCentral *c, MSpan *s, int32 n, MLink *start, MLink *end);
void	MGetSizeClassInfo(int32 sizeclass, uintptr *size, int32 *npages, int32 *nobj);

// The page heap, and the rest of the allocator's global state.
// lock protects free/busy lists, the spans map, allspans and most of the
// heap statistics in mstats (see MStats); central[i] are protected by
// their own locks. Each field says its rule.
// Lock order (enum LockRank, sched/runtime.h): settype_lock, a span's
// specialLock, an MCentral's lock, lock, speciallock, persistent.lock. The
// rank would allow the heap lock under an MCentral's, but no path takes
// it so: MCentral_Grow and MCentral_Free drop theirs first. speciallock
// takes persistent.lock when its FixAllocs refill.
struct MHeap
{
	Lock	lock;
	// The span lists: lock.
	MSpan	free[MaxMHeapList];	// free spans of a given page count
	MSpan	freelarge;		// free spans of >= MaxMHeapList pages
	MSpan	busy[MaxMHeapList];	// in-use large-object spans by page count (swept at the back)
	MSpan	busylarge;		// in-use large-object spans of >= MaxMHeapList pages
	// allspans, nspan and nspancap: lock; read with the world stopped.
	MSpan**	allspans;		// every MSpan record ever made
	// The allspans snapshot the sweeper walks; RecordSpan must not free
	// it. Written with the world stopped (sweepsetup), read under lock.
	MSpan**	sweepspans;
	uint32	nspan;
	uint32	nspancap;
	// sweepgen (see MSpan) is written only with the world stopped
	// (sweepsetup), and read atomically or under m->locks. sweepdone (all
	// spans are swept) is atomic; MHeap_AllocLocked reads it plainly:
	// racy, benign (a stale 0 costs one useless reclaim).
	uint32	sweepgen;
	uint32	sweepdone;

	// Page → span map over the whole reservation, committed lazily.
	// The pointer is fixed by mallocinit; entries are written under lock,
	// and read without it for in-use spans (fixed until the span is freed).
	MSpan**	spans;
	uintptr	spans_mapped;		// lock

	// Address range of the heap. The bitmap grows down from arena_start.
	// bitmap, arena_start and arena_end are fixed by mallocinit.
	byte*	bitmap;
	uintptr	bitmap_mapped;		// lock
	byte*	arena_start;
	byte*	arena_used;		// lock to grow; read racily (LookupMaybe, markfreed...):
					// benign, it only grows, and a block reached its
					// holder after the growth that made it
	byte*	arena_end;

	// Central free lists, each on its own cache line(s).
	struct {
		MCentral mcentral;
		byte	pad[CacheLineSize];
	} central[NumSpanClasses];	// by span class

	FixAlloc spanalloc;		// MSpan records (heap lock)
	FixAlloc cachealloc;		// MCache records (heap lock)
	FixAlloc specialfinalizeralloc;	// SpecialFinalizer records (speciallock)
	FixAlloc specialprofilealloc;	// SpecialProfile records (speciallock)
	Lock	speciallock;

	// Malloc statistics: lock, or the world stopped (purgecachedstats).
	uint64	largefree;		// bytes freed for large objects
	uint64	nlargefree;		// frees of large objects
	uint64	nsmallfree[NumSizeClasses];	// frees of small objects
};
extern MHeap runtime_mheap;

void	MHeap_Init(MHeap *h);
MSpan*	MHeap_Alloc(MHeap *h, uintptr npage, int32 sizeclass, bool large, bool zeroed);
void	MHeap_Free(MHeap *h, MSpan *s, int32 acct);
MSpan*	MHeap_Lookup(MHeap *h, void *v);
MSpan*	MHeap_LookupMaybe(MHeap *h, void *v);
void*	MHeap_SysAlloc(MHeap *h, uintptr n);
void	MHeap_MapBits(MHeap *h);
void	MHeap_MapSpans(MHeap *h);
void	MHeap_Scavenger(void);
// Return idle spans unused for longer than limit ns to the OS (the
// scavenger's release step). k numbers the scavenger round in traces
// (−1 for FreeOSMemory). Returns the bytes released. Heap locked.
uintptr	MHeap_Scavenge(int32 k, uint64 now, uint64 limit);
// The release half of debug.FreeOSMemory: every idle span goes back.
void	runtime_freeOSMemoryRelease(void);

// Malloc flags.
enum
{
	FlagNoScan	= 1<<0,	// GC doesn't have to scan object
	FlagNoProfiling	= 1<<1,	// must not profile
	FlagNoGC	= 1<<2,	// must not free or scan for pointers
	FlagNoZero	= 1<<3,	// don't zero memory
	FlagNoInvokeGC	= 1<<4,	// don't invoke GC
};

// TypeInfo tags in the low bits of a type word (typ | tag).
enum
{
	TypeInfo_SingleObject = 0,
	TypeInfo_Array = 1,
	TypeInfo_Chan = 2,
};

extern byte	runtime_zerobase[PtrSize];	// all 0-byte allocations return this
extern int32	runtime_MemProfileRate;

// The public entry points that allocate or free are kept out of line (and
// make no tail calls, which would drop their frames), in their own
// section: the profiler's stack capture drops gort's frames up to the
// outermost of them (mprof.c).
// GCC spells "no tail calls here" as an optimize attribute, clang as
// disable_tail_calls (it ignores the former).
#if defined(__clang__)
#define GORT_NOTAILCALLS	__attribute__((disable_tail_calls))
#else
#define GORT_NOTAILCALLS	__attribute__((optimize("no-optimize-sibling-calls")))
#endif
#define GORT_ALLOCAPI	__attribute__((noinline, section("gort_alloc_api"))) GORT_NOTAILCALLS

void	runtime_mallocinit(void);
void*	runtime_mallocgc(uintptr size, uintptr typ, uint32 flag);
void*	runtime_malloc(uintptr size);
void	runtime_free(void *v);
void*	runtime_persistentalloc(uintptr size, uintptr align, uint64 *stat);
int32	runtime_mlookup(void *v, byte **base, uintptr *size, MSpan **s);
MCache*	runtime_allocmcache(void);
void	runtime_freemcache(MCache *c);
void	runtime_purgecachedstats(MCache *c);
void	runtime_settype_record(MSpan *s, void *v, uintptr typ);
uintptr	runtime_gettype(void *v);

// Heap bitmap (mgc0.c).
void	runtime_marknoscan(void *v);
void	runtime_marknogc(void *v);
void	runtime_markfreed(void *v, uintptr n, bool noscan);
void	runtime_checkfreed(void *v, uintptr n);
void	runtime_markspan(void *v, uintptr size, uintptr n, bool leftover, bool noscan);
void	runtime_unmarkspan(void *v, uintptr size);
void	runtime_marktiny(void *v);
uintptr	runtime_getbits(void *v);	// the 4 bits of heap word v, at shift 0 (bit* below)
void	runtime_efencefree(MSpan *s);
void	runtime_freelarge(MCache *c, MSpan *s, uintptr size);

// The heap bitmap's four bits per word, as runtime_getbits returns them
// (mgc0.c explains the layout). bitTinyBlock is gort's use of the lane Go
// 1.3 left vestigial (bitSpecial): it marks a 16-byte block of the tiny
// allocator, so that free can refuse it; sweep clears it with the block.
enum
{
	bitsAllocated	= (uintptr)1<<0,
	bitsScan	= (uintptr)1<<16,	// = bitBlockBoundary when not allocated
	bitsMarked	= (uintptr)1<<32,
	bitTinyBlock	= (uintptr)1<<48,
	bitsFree	= bitsAllocated|bitsScan,	// a free block (mgc0.h)
};
extern	int32	runtime_checking;

// Collector entry points the allocator calls (mgc0.c).
void	runtime_gc(int32 force);
intptr	runtime_sweepone(void);
void	runtime_checkheap(void);
void	runtime_updatememstats(void);
void	runtime_ReadMemStats(MStats *out);

// Profiler hooks (mprof.c).
void	runtime_tracealloc(void *p, uintptr size, uintptr typ);
void	runtime_tracefree(void *p, uintptr size);
void	runtime_tracegc(void);
void	runtime_MProf_Malloc(void *p, uintptr size);
void	runtime_MProf_GC(void);
int32	runtime_callers(uintptr *stk, int32 max);
void	runtime_MProf_Free(Bucket *b, void *p, uintptr size, bool freed);

// Specials (mheap.c).
bool	runtime_addfinalizer(void *p, void (*fn)(void*));
void	runtime_removefinalizer(void *p);
void	runtime_setprofilebucket(void *p, Bucket *b);
void	runtime_freeallspecials(MSpan *span, void *p, uintptr size);
bool	runtime_freespecial(Special *s, void *p, uintptr size, bool freed);
void	runtime_queuefinalizer(byte *p, void (*fn)(void*));

#endif // GORT_MALLOC_H
