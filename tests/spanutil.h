// Span helpers shared by the allocator-layer suites (check_mheap,
// check_mcentral).
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

#endif
