// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// AddressSanitizer annotations for goroutine stack switches. ASan tracks
// one stack per thread; every switch to another stack is announced
// (start) and completed (finish), or ASan reports false stack overflows
// and use-after-return. Without ASan these are empty.

#ifndef GORT_SANITIZER_H
#define GORT_SANITIZER_H

#include "runtime.h"

#if defined(__SANITIZE_ADDRESS__)
#define GORT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_ASAN 1
#endif
#endif

#ifdef GORT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

// About to leave the current stack for to's.
static inline void
runtime_asan_start_switch(void **fakestack, G *to)
{
	const void *bottom;
	size_t size;

	if(to->stack0 != NULL) {
		bottom = to->stack0;
		size = to->stacksize;
	} else {
		bottom = to->m->g0stack;
		size = to->m->g0stacksize;
	}
	__sanitizer_start_switch_fiber(fakestack, bottom, size);
}

// Arrived back on a stack we had left.
static inline void
runtime_asan_finish_switch(void *fakestack)
{
	__sanitizer_finish_switch_fiber(fakestack, NULL, NULL);
}

static inline void
runtime_asan_unpoison(void *p, uintptr n)
{
	__asan_unpoison_memory_region(p, n);
}
#else
static inline void runtime_asan_start_switch(void **fakestack, G *to) { (void)fakestack; (void)to; }
static inline void runtime_asan_finish_switch(void *fakestack) { (void)fakestack; }
static inline void runtime_asan_unpoison(void *p, uintptr n) { (void)p; (void)n; }
#endif

#endif // GORT_SANITIZER_H
