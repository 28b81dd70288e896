// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2012 The Go Authors.

// The heap bitmap's layout, shared by the allocator and the collector.
//
// Each word of the arena has four bits in the bitmap, which grows down
// from arena_start. A bitmap word covers wordsPerBitmapWord (16) heap
// words and holds four 16-bit lanes: bitAllocated in bits 0–15,
// bitScan/bitBlockBoundary in 16–31, bitMarked in 32–47 and bitSpecial in
// 48–63. For the heap word at word offset off from arena_start:
//
//	b = (uintptr*)arena_start - off/wordsPerBitmapWord - 1;
//	shift = off % wordsPerBitmapWord;
//	bits = *b >> shift;   /* then test bits & bitAllocated, ... */
//
// mgc0.c's heapbitp is the one place that computes b and shift; every
// reader and writer of the bitmap goes through it (Go writes the two
// lines out by hand at each use).
//
// Only block starts have bits. The states of a block start:
//	bitAllocated|bitScan      allocated, to be scanned; or free (bitFree) in
//	                          a span of blocks with pointers
//	bitAllocated              allocated FlagNoScan; or free in a span of
//	                          pointer-free blocks
//	bitBlockBoundary alone    allocated FlagNoGC: never marked or freed
//	+bitMarked                found live by the current collection
//	bitSpecial (= bitTinyBlock in malloc.h): gort marks tiny-allocator
//	                          blocks with it; Go 1.3 left it unused
// A bitmap word covers 128 bytes, so two spans never share one (spans are
// page-aligned): the owner of a span may write its words without atomics,
// but allocation and free of single blocks use CAS when more than one M
// may run (blocks of one span can sit in several Ms' caches at once).
//
// A free block is in the state its allocation will want (gort; Go 1.3's
// free blocks are allocated-only and every scanned allocation sets
// bitScan, by CAS with more than one M): blocks with pointers and
// pointer-free blocks live in spans of their own (span classes, malloc.h),
// and a free block is allocated|scan (bitFree) in the first kind and
// allocated-only in the second. So a small allocation writes no bitmap
// bit at all; only FlagNoGC, tiny and large pointer-free blocks do. The
// cost: a stale pointer to a free block of a scanned span has the
// collector scan it, retaining at most what its old contents point to,
// for one cycle; every free block is pre-marked by the sweeper either
// way. See docs/names.md for the figures.

#ifndef GORT_MGC0_H
#define GORT_MGC0_H

#include "malloc.h"

enum
{
	wordsPerBitmapWord = sizeof(void*)*8/4,
	bitShift = sizeof(void*)*8/4,
};

#define bitAllocated		((uintptr)1<<(bitShift*0))	/* block start; eligible for collection */
#define bitScan			((uintptr)1<<(bitShift*1))	/* when bitAllocated is set */
#define bitMarked		((uintptr)1<<(bitShift*2))	/* when bitAllocated is set */
#define bitSpecial		((uintptr)1<<(bitShift*3))	/* when bitAllocated is set: gort's tiny-block mark */
#define bitBlockBoundary	((uintptr)1<<(bitShift*1))	/* when bitAllocated is NOT set: FlagNoGC block */
#define bitMask (bitAllocated | bitScan | bitMarked | bitSpecial)
#define bitFree (bitAllocated | bitScan)	/* a free block (see above) */

_Static_assert(bitsAllocated == bitAllocated && bitsScan == bitScan &&
	bitsMarked == bitMarked && bitTinyBlock == bitSpecial && bitsFree == bitFree, "bitmap lanes");

// Lock-free stack (lfstack.c), a Treiber stack whose head word packs the
// node pointer (47 bits on amd64 user space) with a 17-bit push count
// against ABA. The node type's first field is an LFNode.
typedef struct LFNode LFNode;
struct LFNode
{
	LFNode*	next;
	uintptr	pushcnt;
};

void	runtime_lfstackpush(uint64 *head, LFNode *node);
LFNode*	runtime_lfstackpop(uint64 *head);

// Parallel for (parfor.c): iterations [0, cnt) split evenly over nthr
// threads; a thread that runs out steals half of a random victim's
// remaining range. The collector runs markroot and (in the parent
// commit's design) sweepspan with it. parforalloc fixes nthrmax and thr;
// parforsetup sets the rest before the threads start (the collector
// wakes its helpers, or sets work.sweepready, after it); then done and
// thrseq are atomic, and the stats are summed atomically as each thread
// leaves parfordo.
typedef struct ParFor ParFor;
typedef struct ParForThread ParForThread;
struct ParFor
{
	void	(*body)(ParFor*, uint32);	// executed for each element
	uint32	done;			// number of idle threads; atomic
	uint32	nthr;			// total number of threads
	uint32	nthrmax;		// maximum number of threads
	uint32	thrseq;			// thread id sequencer; atomic
	uint32	cnt;			// iteration space [0, cnt)
	void*	ctx;			// arbitrary user context
	bool	wait;			// if true, wait while all threads finish processing,
					// otherwise parfor may return while other threads are still working
	ParForThread *thr;		// array of thread descriptors
	uint32	pad;			// to align ParForThread.pos for 64-bit atomic operations
	// stats
	uint64	nsteal;
	uint64	nstealcnt;
	uint64	nprocyield;
	uint64	nosyield;
	uint64	nsleep;
};

ParFor*	runtime_parforalloc(uint32 nthrmax);
void	runtime_parforsetup(ParFor *desc, uint32 nthr, uint32 n, void *ctx, bool wait, void (*body)(ParFor*, uint32));
void	runtime_parfordo(ParFor *desc);
void	runtime_parforiters(ParFor *desc, uintptr tid, uintptr *start, uintptr *end);

#endif // GORT_MGC0_H
