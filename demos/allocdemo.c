// allocdemo: the allocator at work, and what MemStats says about it.
//
// Allocates a mix of tiny, small and large objects, frees half of them
// explicitly, and prints the MemStats before and after, so that you can
// see the size classes, the tiny allocator and the page heap move.
#include <gort.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { N = 100000 };

static void *objs[N];

static void
show(const char *when, const GortMemStats *ms)
{
	printf("%-22s Alloc %8.2f MB  HeapSys %7.2f MB  HeapInuse %7.2f MB  HeapIdle %7.2f MB  "
	       "HeapObjects %7" PRIu64 "  Mallocs %7" PRIu64 "  Frees %7" PRIu64 "  Sys %7.2f MB\n",
	       when, ms->Alloc / 1e6, ms->HeapSys / 1e6, ms->HeapInuse / 1e6, ms->HeapIdle / 1e6,
	       ms->HeapObjects, ms->Mallocs, ms->Frees, ms->Sys / 1e6);
}

static void
demo(void *arg)
{
	GortMemStats ms0, ms1, ms2, ms3;
	int64_t t0, t1, t2;
	size_t sizes[] = {8, 24, 100, 1000, 5000, 20000};
	size_t bytes = 0;
	int i;

	(void)arg;
	gort_read_memstats(&ms0);
	show("at start", &ms0);

	t0 = gort_nanotime();
	for(i = 0; i < N; i++) {
		size_t n = sizes[i % 6];
		if(i % 997 == 0)
			n = 100000 + (i % 7) * 8192;	// now and then a large one
		objs[i] = (i % 2) ? gort_malloc_noscan(n) : gort_malloc(n);
		memset(objs[i], i & 0xff, n < 64 ? n : 64);
		bytes += n;
	}
	t1 = gort_nanotime();
	gort_read_memstats(&ms1);
	show("after allocating", &ms1);

	// Free every other object (the conservatively scanned ones; the
	// noscan ones include tiny objects, which cannot be freed).
	for(i = 0; i < N; i += 2) {
		gort_free(objs[i]);
		objs[i] = NULL;
	}
	t2 = gort_nanotime();
	gort_read_memstats(&ms2);
	show("after freeing half", &ms2);

	gort_read_memstats(&ms3);
	printf("\n%d allocations (%.1f MB requested) in %.2f ms (%.0f ns/alloc); %d frees in %.2f ms\n",
	       N, bytes / 1e6, (t1 - t0) / 1e6, (double)(t1 - t0) / N, N / 2, (t2 - t1) / 1e6);
	printf("size classes in use (Go 1.3's BySize):\n");
	for(i = 1; i < 61; i++) {
		if(ms3.BySize[i].Mallocs == 0)
			continue;
		printf("  class %2d  size %5u  mallocs %7" PRIu64 "  frees %7" PRIu64 "\n", i,
		       ms3.BySize[i].Size, ms3.BySize[i].Mallocs, ms3.BySize[i].Frees);
	}
	printf("Sys %" PRIu64 " = HeapSys %" PRIu64 " + StackSys %" PRIu64 " + MSpanSys %" PRIu64
	       " + MCacheSys %" PRIu64 " + BuckHashSys %" PRIu64 " + GCSys %" PRIu64 " + OtherSys %" PRIu64 "\n",
	       ms3.Sys, ms3.HeapSys, ms3.StackSys, ms3.MSpanSys, ms3.MCacheSys, ms3.BuckHashSys,
	       ms3.GCSys, ms3.OtherSys);
}

int
main(void)
{
	return gort_main(demo, NULL);
}
