// Span helpers shared by the suites that look inside the heap
// (check_mheap, check_mcentral, check_mgc, check_mprof).
#ifndef GORT_SPANUTIL_H
#define GORT_SPANUTIL_H

#include "malloc.h"

// The first byte of span s.
static inline byte*
base(MSpan *s)
{
	return (byte*)(s->start << PageShift);
}

// Is s on the span list headed by list?
static inline bool
onlist(MSpan *list, MSpan *s)
{
	MSpan *x;

	for(x = list->next; x != list; x = x->next)
		if(x == s)
			return true;
	return false;
}

// Finish the current sweep now (bgsweep's work), so that the heap's bits,
// lists and profile counts are final. From a goroutine.
static inline void
finishsweep(void)
{
	while(runtime_sweepone() != -1)
		;
}

#endif
