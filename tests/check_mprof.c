// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// The heap profiler (mprof/): the three generations, sampling, the
// profile records, the text heap profile and a real pprof reading it,
// allocfreetrace's stacks. Built with -rdynamic, so that dladdr names the
// allocating functions below (they are global and kept out of line).

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "malloc.h"
#include "spanutil.h"

enum { MaxRec = 4096 };
static GortMemProfileRecord recs[MaxRec];

typedef struct Counts Counts;
struct Counts
{
	int64_t allocobj, allocbytes, freeobj, freebytes;
};

// The records whose innermost frame is in function fn, added up.
static Counts
counts(const char *fn)
{
	Counts c = {0, 0, 0, 0};
	Dl_info info;
	int i, n;

	n = gort_mem_profile(recs, MaxRec, true);
	ck_assert_int_le(n, MaxRec);
	for(i = 0; i < n; i++) {
		if(recs[i].Stack0[0] == 0 || dladdr((void*)(recs[i].Stack0[0] - 1), &info) == 0 ||
		   info.dli_sname == NULL || strcmp(info.dli_sname, fn) != 0)
			continue;
		c.allocobj += recs[i].AllocObjects;
		c.allocbytes += recs[i].AllocBytes;
		c.freeobj += recs[i].FreeObjects;
		c.freebytes += recs[i].FreeBytes;
	}
	return c;
}

#define ck_counts(fn, ao, ab, fo, fb) do {						\
	Counts c_ = counts(fn);								\
	ck_assert_msg(c_.allocobj == (ao) && c_.allocbytes == (ab) &&			\
		c_.freeobj == (fo) && c_.freebytes == (fb),				\
		"%s: allocs %lld (%lld B), frees %lld (%lld B); want %lld (%lld B), %lld (%lld B)",	\
		fn, (long long)c_.allocobj, (long long)c_.allocbytes, (long long)c_.freeobj,	\
		(long long)c_.freebytes, (long long)(ao), (long long)(ab), (long long)(fo), (long long)(fb));	\
} while(0)


// ---- the allocating functions ---------------------------------------------------------

// Exported (the build hides symbols by default) so that dladdr and pprof
// see them; out of line so that they have frames.
#define PROFILED	__attribute__((noinline, used, visibility("default")))

void	mprof_alloc_kept(int n);
void	mprof_alloc_dropped(int n);
void	mprof_alloc_freed(int n);
void	mprof_alloc_many(long n, size_t size);
void	mprof_persistent_32x32(void);
void	mprof_persistent_1m(void);
void	mprof_transient_1024x1k(void);
void	mprof_transient_2m(void);
void	mprof_traced(void);

static void *keepA[16], *keepC[8];

PROFILED void
mprof_alloc_kept(int n)
{
	int i;

	for(i = 0; i < n; i++)
		keepA[i] = gort_malloc(64);
}

PROFILED void
mprof_alloc_dropped(int n)
{
	int i;

	for(i = 0; i < n; i++)
		((long*)gort_malloc(64))[0] = i;
}

PROFILED void
mprof_alloc_freed(int n)
{
	int i;

	for(i = 0; i < n; i++)
		keepC[i] = gort_malloc(96);
}

// The three generations on a script (see mprof.c): mallocs and explicit
// frees are counted at once but reported two collections later; frees by
// the sweeper (found dead at collection N) are reported with the mallocs
// of before N, after collection N+1. The same in both sweep modes.
GORT_TEST(test_three_generations)
{
	int i;

	gort_set_mem_profile_rate(1);
	gort_set_gc_percent(-1);	// only the collections below
	mprof_alloc_kept(10);
	mprof_alloc_dropped(20);
	runtime_gc(1);	// gc1: finds the 20 dead; they are swept after it
	finishsweep();
	runtime_gc(1);	// gc2: the totals now hold everything of before gc1
	ck_counts("mprof_alloc_kept", 10, 640, 0, 0);
	ck_counts("mprof_alloc_dropped", 20, 1280, 20, 1280);

	mprof_alloc_freed(5);
	for(i = 0; i < 3; i++)
		gort_free(keepC[i]);	// explicit: counted with the mallocs
	mprof_alloc_dropped(7);
	ck_counts("mprof_alloc_freed", 0, 0, 0, 0);	// not yet
	ck_counts("mprof_alloc_dropped", 20, 1280, 20, 1280);
	runtime_gc(1);	// gc3: the 7 found dead
	ck_counts("mprof_alloc_freed", 0, 0, 0, 0);	// still not
	runtime_gc(1);	// gc4: the sweep of gc3's garbage is done in its pause at the latest
	ck_counts("mprof_alloc_freed", 5, 480, 3, 288);
	ck_counts("mprof_alloc_dropped", 27, 1728, 27, 1728);
	ck_counts("mprof_alloc_kept", 10, 640, 0, 0);
	gort_keep_alive(keepA);
	gort_keep_alive(keepC);
}

// Before any collection, MemProfile accounts as if two had run, so that a
// program with the collector off can still profile.
GORT_TEST(test_profile_without_gc)
{
	gort_set_mem_profile_rate(1);
	gort_set_gc_percent(-1);
	mprof_alloc_kept(4);
	ck_counts("mprof_alloc_kept", 4, 256, 0, 0);
	gort_keep_alive(keepA);
}

// (n, ok): the count comes back whatever the buffer; records are copied
// only when all fit.
GORT_TEST(test_mem_profile_n_ok)
{
	GortMemProfileRecord one;
	int n;

	gort_set_mem_profile_rate(1);
	mprof_alloc_kept(2);
	mprof_alloc_freed(2);
	n = gort_mem_profile(NULL, 0, true);
	ck_assert_int_ge(n, 2);
	memset(&one, 0x55, sizeof one);
	ck_assert_int_eq(gort_mem_profile(&one, 1, true), n);
	ck_assert_int_eq((int)one.AllocBytes, 0x55555555);	// untouched
	ck_assert_int_eq(gort_mem_profile(recs, MaxRec, true), n);
	gort_keep_alive(keepA);
	gort_keep_alive(keepC);
}

// ---- sampling -------------------------------------------------------------------------

PROFILED void
mprof_alloc_many(long n, size_t size)
{
	long i;

	for(i = 0; i < n; i++)
		((long*)gort_malloc(size))[0] = i;
}

// Rate 1: every allocation, exactly.
GORT_TEST(test_sampling_rate1)
{
	gort_set_mem_profile_rate(1);
	mprof_alloc_many(1000, 48);
	runtime_MProf_GC();
	runtime_MProf_GC();
	Counts c = counts("mprof_alloc_many");
	ck_assert_int_eq(c.allocobj, 1000);
	ck_assert_int_eq(c.allocbytes, 48000);
}

// The default rate (512 KB): about one sample per 512 KB allocated. 200
// MB in 1 KB objects: 400 samples expected (sd about 12; the sample
// points are uniform in [0, 1 MB)); rate 0: none.
GORT_TEST(test_sampling_default)
{
	Counts c;

	ck_assert_int_eq(gort_set_mem_profile_rate(512*1024), 512*1024);	// the default
	mprof_alloc_many(200*1024, 1024);
	runtime_MProf_GC();
	runtime_MProf_GC();
	c = counts("mprof_alloc_many");
	ck_assert_msg(c.allocobj >= 330 && c.allocobj <= 470, "%lld samples", (long long)c.allocobj);
	ck_assert_int_eq(c.allocbytes, c.allocobj * 1024);
	gort_set_mem_profile_rate(0);
	mprof_alloc_many(10*1024, 1024);
	runtime_MProf_GC();
	runtime_MProf_GC();
	ck_assert_int_eq(counts("mprof_alloc_many").allocobj, c.allocobj);
}

// ---- the text profile (Go 1.4's TestMemoryProfiler, in spirit) ----------------------------

static void *persistent[32], *onemeg;

PROFILED void
mprof_persistent_32x32(void)
{
	int i;

	for(i = 0; i < 32; i++)
		persistent[i] = gort_malloc(32);
}

PROFILED void
mprof_persistent_1m(void)
{
	onemeg = gort_malloc(1<<20);
}

PROFILED void
mprof_transient_1024x1k(void)
{
	int i;

	for(i = 0; i < 1024; i++)
		((long*)gort_malloc(1024))[0] = i;
}

PROFILED void
mprof_transient_2m(void)
{
	((long*)gort_malloc(2<<20))[0] = 1;
}

static void
memory_profile(char *path, size_t len)
{
	FILE *f;
	int fd;

	gort_set_mem_profile_rate(1);
	mprof_persistent_32x32();
	mprof_persistent_1m();
	mprof_transient_1024x1k();
	mprof_transient_2m();
	gort_gc();
	gort_gc();
	snprintf(path, len, "/tmp/gort-heap-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	// Profiling off by now: the header keeps the rate the samples were
	// taken at (1), never 0.
	gort_set_mem_profile_rate(0);
	ck_assert_int_eq(gort_write_heap_profile(f), 0);
	fclose(f);
	gort_keep_alive(persistent);
	gort_keep_alive(onemeg);
}

// In a record line "inuse_n: inuse_b [alloc_n: alloc_b] @ pc...", the
// line whose first pc is in fn.
static int
findrecord(const char *path, const char *fn, long long v[4])
{
	char line[8192];
	FILE *f = fopen(path, "r");
	Dl_info info;
	unsigned long pc;
	char *at;
	int found = 0;

	ck_assert_ptr_nonnull(f);
	v[0] = v[1] = v[2] = v[3] = 0;
	while(fgets(line, sizeof line, f) != NULL) {
		long long w[4];

		if(strncmp(line, "MAPPED_LIBRARIES:", 17) == 0)
			break;
		at = strstr(line, "] @ 0x");
		if(at == NULL || sscanf(line, "%lld: %lld [%lld: %lld]", &w[0], &w[1], &w[2], &w[3]) != 4)
			continue;
		if(sscanf(at + 4, "%lx", &pc) != 1 || dladdr((void*)(pc - 1), &info) == 0 ||
		   info.dli_sname == NULL || strcmp(info.dli_sname, fn) != 0)
			continue;
		v[0] += w[0], v[1] += w[1], v[2] += w[2], v[3] += w[3];
		found++;
	}
	fclose(f);
	return found;
}

GORT_TEST(test_memory_profiler)
{
	char path[64], line[512];
	long long v[4];
	FILE *f;
	int maps = 0, header = 0, memstats = 0;

	memory_profile(path, sizeof path);
	ck_assert_int_gt(findrecord(path, "mprof_persistent_32x32", v), 0);
	ck_assert_msg(v[0] == 32 && v[1] == 1024 && v[2] == 32 && v[3] == 1024, "32x32: %lld %lld %lld %lld", v[0], v[1], v[2], v[3]);
	ck_assert_int_gt(findrecord(path, "mprof_persistent_1m", v), 0);
	ck_assert_msg(v[0] == 1 && v[1] == 1<<20 && v[2] == 1 && v[3] == 1<<20, "1m: %lld %lld %lld %lld", v[0], v[1], v[2], v[3]);
	ck_assert_int_gt(findrecord(path, "mprof_transient_1024x1k", v), 0);
	ck_assert_msg(v[0] == 0 && v[1] == 0 && v[2] == 1024 && v[3] == 1<<20, "1024x1k: %lld %lld %lld %lld", v[0], v[1], v[2], v[3]);
	ck_assert_int_gt(findrecord(path, "mprof_transient_2m", v), 0);
	ck_assert_msg(v[0] == 0 && v[1] == 0 && v[2] == 1 && v[3] == 2<<20, "2m: %lld %lld %lld %lld", v[0], v[1], v[2], v[3]);

	f = fopen(path, "r");
	while(fgets(line, sizeof line, f) != NULL) {
		header += strncmp(line, "heap profile: ", 14) == 0 && strstr(line, "] @ heap_v2/1\n") != NULL;
		memstats += strcmp(line, "# runtime.MemStats\n") == 0;
		maps += strcmp(line, "MAPPED_LIBRARIES:\n") == 0;
	}
	fclose(f);
	ck_assert_int_eq(header, 1);
	ck_assert_int_eq(memstats, 1);
	ck_assert_int_eq(maps, 1);
	unlink(path);
}

// A real pprof (Debian's google-pprof, the Perl pprof of gperftools) reads
// the profile, symbolizes it through the memory map and finds the
// allocating functions with the right byte counts.
GORT_TEST(test_pprof_reads_profile)
{
	char path[64], cmd[512], exe[4096], line[1024];
	FILE *p;
	ssize_t n;
	int found2m = 0, found1k = 0, found1m = 0;

	memory_profile(path, sizeof path);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = 0;
	snprintf(cmd, sizeof cmd, "google-pprof --text --show_bytes --alloc_space '%s' '%s' 2>&1", exe, path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while(fgets(line, sizeof line, p) != NULL) {
		long long flat;

		if(sscanf(line, "%lld", &flat) != 1)
			continue;
		if(strstr(line, " mprof_transient_2m\n") != NULL && flat == 2<<20)
			found2m++;
		if(strstr(line, " mprof_transient_1024x1k\n") != NULL && flat == 1<<20)
			found1k++;
		if(strstr(line, " mprof_persistent_1m\n") != NULL && flat == 1<<20)
			found1m++;
	}
	ck_assert_msg(pclose(p) == 0, "%s failed (is google-perftools installed?)", cmd);
	ck_assert_msg(found2m == 1 && found1k == 1 && found1m == 1, "pprof: 2m %d, 1024x1k %d, 1m %d", found2m, found1k, found1m);
	unlink(path);
}

// ---- allocfreetrace's stacks, misuse -------------------------------------------------------

PROFILED void
mprof_traced(void)
{
	gort_free(gort_malloc(100));
	__asm__ volatile("");	// no tail call: keep this frame
}

static void
trace_body(void *arg)
{
	(void)arg;
	mprof_traced();
}

START_TEST(test_allocfreetrace_stacks)
{
	static const char *env[] = { "GODEBUG", "allocfreetrace=1", "GOGC", "off", NULL };
	int status;
	char *out = run_child(trace_body, NULL, &status, env), *a, *fr;

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s", status, out);
	a = strstr(out, ", 0x70)\n\t#0 0x");
	ck_assert_msg(a != NULL, "no stack after tracealloc:\n%s", out);
	ck_assert_msg(strstr(a, " mprof_traced+0x") != NULL, "%s", out);
	fr = strstr(a, "tracefree(");
	ck_assert_msg(fr != NULL && strstr(fr, " mprof_traced+0x") != NULL, "%s", out);
	free(out);
}
END_TEST

// Stacks by libgcc's unwinder (GORT_UNWIND=eh) name the same functions.
static void
unwind_eh_body(void *arg)
{
	int i, n, found = 0;
	Dl_info info;

	(void)arg;
	gort_set_mem_profile_rate(1);
	mprof_alloc_many(100, 48);
	runtime_MProf_GC();
	runtime_MProf_GC();
	n = gort_mem_profile(recs, MaxRec, true);
	for(i = 0; i < n && i < MaxRec; i++)
		if(dladdr((void*)(recs[i].Stack0[0] - 1), &info) != 0 && info.dli_sname != NULL &&
		   strcmp(info.dli_sname, "mprof_alloc_many") == 0)
			found += recs[i].AllocObjects;
	if(found != 100) {
		fprintf(stderr, "GORT_UNWIND=eh: %d allocations in mprof_alloc_many\n", found);
		exit(1);
	}
}

START_TEST(test_unwind_eh)
{
	static const char *env[] = { "GORT_UNWIND", "eh", NULL };
	int status;
	char *out = run_child(unwind_eh_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x:\n%s", status, out);
	free(out);
}
END_TEST

// Tracing and stack capture take the dynamic loader's lock (dladdr, the
// unwinder): a goroutine stopped for a collection while holding it would
// hang the collector. Three goroutines allocate (traced, and profiled by
// the unwinder) while the main one collects.
static uint32_t tracedone;

static void
tracedworker(void *arg)
{
	int i;

	(void)arg;
	for(i = 0; i < 2000; i++) {
		gort_malloc(64);
		if(i % 50 == 0)
			gort_gosched();
	}
	__atomic_add_fetch(&tracedone, 1, __ATOMIC_SEQ_CST);
}

static void
tracedeadlock_body(void *arg)
{
	int i;

	(void)arg;
	gort_set_mem_profile_rate(1);
	gort_gomaxprocs(4);
	for(i = 0; i < 3; i++)
		gort_go(tracedworker, NULL);
	while(__atomic_load_n(&tracedone, __ATOMIC_SEQ_CST) < 3)
		gort_gc();
}

START_TEST(test_trace_no_deadlock)
{
	static const char *env[] = { "GODEBUG", "allocfreetrace=1", "GORT_UNWIND", "eh", NULL };
	int status;
	char *out = run_child(tracedeadlock_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	ck_assert_ptr_nonnull(strstr(out, "tracegc()"));
	free(out);
}
END_TEST

static void
write_nil_body(void *arg)
{
	(void)arg;
	gort_write_heap_profile(NULL);
}

static void
bad_records_body(void *arg)
{
	(void)arg;
	gort_mem_profile(NULL, 5, true);
}

START_TEST(test_misuse)
{
	expect_fatal(write_nil_body, NULL, "gort_write_heap_profile: nil file");
	expect_fatal(bad_records_body, NULL, "gort_mem_profile: bad record buffer");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mprof");
	TCase *tc = new_tcase("buckets");

	tcase_add_test(tc, test_three_generations);
	tcase_add_test(tc, test_profile_without_gc);
	tcase_add_test(tc, test_mem_profile_n_ok);
	suite_add_tcase(s, tc);

	tc = new_tcase("sampling");
	tcase_add_test(tc, test_sampling_rate1);
	tcase_add_test(tc, test_sampling_default);
	suite_add_tcase(s, tc);

	tc = new_tcase("profile");
	tcase_add_test(tc, test_memory_profiler);
	tcase_add_test(tc, test_pprof_reads_profile);
	tcase_add_test(tc, test_allocfreetrace_stacks);
	tcase_add_test(tc, test_unwind_eh);
	tcase_add_test(tc, test_trace_no_deadlock);
	tcase_add_test(tc, test_misuse);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
