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
// Only block starts have bits. The states of a block start:
//	bitAllocated              a block: free on a list, or allocated FlagNoScan
//	bitAllocated|bitScan      allocated, to be scanned
//	bitBlockBoundary alone    allocated FlagNoGC: never marked or freed
//	+bitMarked                found live by the current collection
//	bitSpecial (= bitTinyBlock in malloc.h): gort marks tiny-allocator
//	                          blocks with it; Go 1.3 left it unused
// A bitmap word covers 128 bytes, so two spans never share one (spans are
// page-aligned): the owner of a span may write its words without atomics,
// but allocation and free of single blocks use CAS when more than one M
// may run.

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

_Static_assert(bitsAllocated == bitAllocated && bitsScan == bitScan &&
	bitsMarked == bitMarked && bitTinyBlock == bitSpecial, "bitmap lanes");

#endif // GORT_MGC0_H
