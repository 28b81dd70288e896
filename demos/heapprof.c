// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// heapprof: a program whose heap has a few owners, profiled.
//
// Three named functions allocate: build_index keeps 32 MB of 4 KB pages,
// remember_sessions keeps 8 MB of 64-byte records, parse_requests makes
// 256 MB of 256-byte garbage. Once that is done, it writes a heap profile
// at the default sampling rate (one sample per 512 KB allocated, as in Go)
// and tells you how to view it:
//
//	./build/demos/heapprof [profile-path]      (default heap.prof)
//	google-pprof --text ./build/demos/heapprof heap.prof
//
// google-pprof's default view is in-use space: the index and the
// sessions. --alloc_space shows everything allocated, and there the
// parser's garbage leads.

#include <gort.h>
#include <stdio.h>
#include <string.h>

typedef struct Session Session;
struct Session
{
	Session	*next;
	long	id;
	char	user[48];
};

static char **index_pages;
static Session *sessions;

__attribute__((noinline)) static void
build_index(void)
{
	int i, n = (32<<20) / 4096;

	index_pages = gort_malloc(n * sizeof index_pages[0]);
	for(i = 0; i < n; i++) {
		index_pages[i] = gort_malloc_noscan(4096);
		index_pages[i][0] = (char)i;
	}
}

__attribute__((noinline)) static void
remember_sessions(void)
{
	Session *s;
	long i;

	for(i = 0; i < (8<<20) / 64; i++) {
		s = gort_malloc(sizeof *s);
		s->id = i;
		snprintf(s->user, sizeof s->user, "user%ld", i);
		s->next = sessions;
		sessions = s;
	}
}

__attribute__((noinline)) static long
parse_requests(void)
{
	long i, sum = 0;
	char *req;

	for(i = 0; i < (256<<20) / 256; i++) {
		req = gort_malloc_noscan(256);
		memset(req, 'a' + i % 26, 255);
		sum += req[i % 255];
	}
	return sum;
}

static void
realmain(void *arg)
{
	const char *path = arg;
	GortMemStats ms;
	FILE *f;
	long sum;

	build_index();
	remember_sessions();
	sum = parse_requests();
	gort_gc();	// the profile reports the heap as of the last collections
	gort_gc();
	gort_read_memstats(&ms);
	printf("heap: %llu MB in use, %llu MB allocated in all, %u collections (checksum %ld)\n",
	       (unsigned long long)(ms.HeapAlloc >> 20), (unsigned long long)(ms.TotalAlloc >> 20), ms.NumGC, sum);
	f = fopen(path, "w");
	if(f == NULL || gort_write_heap_profile(f) != 0) {
		perror(path);
		return;
	}
	fclose(f);
	printf("wrote %s; view it with:\n    google-pprof --text <this program> %s\n", path, path);
	gort_keep_alive(index_pages);
	gort_keep_alive(sessions);
}

int
main(int argc, char **argv)
{
	return gort_main(realmain, argc > 1 ? argv[1] : "heap.prof");
}
