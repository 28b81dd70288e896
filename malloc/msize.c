// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Small size classes (Go's msize.c). See malloc.h for the overview.
//
// The classes are computed at start-up, not tabulated, by the rule Go 1.3
// uses: rounding a request up to its class wastes at most 12.5%, and
// chopping a class's span into objects leaves at most 12.5% of the span
// over. The two wastes multiply, so the worst case is 1.125² ≈ 26.6%; in
// practice sizes under 512 B lose mainly to rounding and larger ones
// mainly to chopping. With 8 KB pages and MaxSmallSize 32 KB the rule
// yields 66 classes plus class 0 ("large").
//
// SizeToClass uses two tables: sizes up to 1024 are looked up in 8-byte
// steps (every small object is 8-aligned), larger ones in 128-byte steps
// (every class above 1024 is a multiple of 128).

#include "malloc.h"

int32	runtime_class_to_size[NumSizeClasses];
int32	runtime_class_to_allocnpages[NumSizeClasses];
int8	runtime_size_to_class8[1024/8 + 1];
int8	runtime_size_to_class128[(MaxSmallSize-1024)/128 + 1];

int32
runtime_SizeToClass(int32 size)
{
	if(size < 0 || size > MaxSmallSize)
		runtime_throw("SizeToClass - invalid size");
	if(size > 1024-8)
		return runtime_size_to_class128[(size-1024+127) >> 7];
	return runtime_size_to_class8[(size+7)>>3];
}

void
runtime_InitSizes(void)
{
	int32 align, sizeclass, size, nextsize;
	uint32 i;
	uintptr allocsize, npages;

	// Choose the class sizes, and each class's span length.
	runtime_class_to_size[0] = 0;
	sizeclass = 1;	// 0 means "not small"
	align = 8;
	for(size = align; size <= MaxSmallSize; size += align) {
		// Coarser steps as sizes grow: 16-byte steps from 16 (SSE
		// alignment), size/8 from 128, 256 from 2048.
		if((size&(size-1)) == 0) {
			if(size >= 2048)
				align = 256;
			else if(size >= 128)
				align = size / 8;
			else if(size >= 16)
				align = 16;
		}
		if((align&(align-1)) != 0)
			runtime_throw("InitSizes - bug");

		// Grow the span a page at a time until the tail that does not
		// fit an object is at most 1/8 of it.
		allocsize = PageSize;
		while(allocsize%size > allocsize/8)
			allocsize += PageSize;
		npages = allocsize >> PageShift;

		// A size that needs the same span length and fits the same
		// number of objects as the previous class replaces it: the
		// bigger size costs nothing more.
		if(sizeclass > 1 &&
		   npages == (uintptr)runtime_class_to_allocnpages[sizeclass-1] &&
		   allocsize/size == allocsize/runtime_class_to_size[sizeclass-1]) {
			runtime_class_to_size[sizeclass-1] = size;
			continue;
		}
		if(sizeclass >= NumSizeClasses)
			runtime_throw("InitSizes - too many size classes");
		runtime_class_to_allocnpages[sizeclass] = npages;
		runtime_class_to_size[sizeclass] = size;
		sizeclass++;
	}
	if(sizeclass != NumSizeClasses) {
		runtime_printf("sizeclass=%d NumSizeClasses=%d\n", sizeclass, NumSizeClasses);
		runtime_throw("InitSizes - bad NumSizeClasses");
	}

	// Fill the lookup tables: each index gets the smallest class that
	// holds its (rounded-up) size.
	nextsize = 0;
	for(sizeclass = 1; sizeclass < NumSizeClasses; sizeclass++) {
		for(; nextsize < 1024 && nextsize <= runtime_class_to_size[sizeclass]; nextsize += 8)
			runtime_size_to_class8[nextsize/8] = sizeclass;
		if(nextsize >= 1024)
			for(; nextsize <= runtime_class_to_size[sizeclass]; nextsize += 128)
				runtime_size_to_class128[(nextsize-1024)/128] = sizeclass;
	}

	for(i = 0; i < nelem(runtime_class_to_size); i++)
		mstats.by_size[i].size = runtime_class_to_size[i];
}

// The size of the block mallocgc hands out for a request of size bytes.
uintptr
runtime_roundupsize(uintptr size)
{
	if(size < MaxSmallSize) {
		if(size <= 1024-8)
			return runtime_class_to_size[runtime_size_to_class8[(size+7)>>3]];
		return runtime_class_to_size[runtime_size_to_class128[(size-1024+127) >> 7]];
	}
	if(size + PageSize < size)
		return size;
	return ROUND(size, PageSize);
}
