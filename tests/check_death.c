// check_death: the fatal errors gort promises that no subsystem's suite
// covers: the heap arena running out (GORT_ARENA_MAX, `ulimit -v`),
// allocations no arena can hold, the OS refusing to commit memory
// (`ulimit -d`), calls before gort_main and from its
// caller after it returns, calls from foreign threads into other entry
// points, a stack overflow by frames bigger than the guard page, and
// gort_main misuse. Each checks the exact last stderr line and exit
// status 2 (testutil.h's expect_fatal).
//
// The others live with their subsystems (each with expect_fatal):
//	check_malloc  foreign free (stack, global, libc malloc), interior
//	              free, tiny free, double free (on the P's cache, back on
//	              its span, 16-byte and large blocks), free of an object
//	              with a finalizer, gort_malloc before gort_main, from a
//	              foreign thread, booting twice
//	check_mgc     SetFinalizer misuse (nil, interior pointer, twice),
//	              gort_add_roots/gort_remove_roots misuse
//	check_chan    send on a closed channel (also a blocked sender woken by
//	              close), close of a closed or nil channel, makechan
//	              misuse, deadlocks on channels
//	check_sched   deadlock, stack overflow
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>

#include "testutil.h"
#include "malloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

// ---- the arena runs out ---------------------------------------------------------------

// Run body in a child with envkv; assert that it dies with Go's
//	runtime: out of memory: cannot allocate N-byte block (M in use)
//	fatal error: out of memory
// and, if arena is not 0, that the arena (of that many bytes) was full:
// M <= arena < M + N. Returns N.
static unsigned long long
expect_oom(void (*body)(void *), void *arg, bool raw, const char **envkv, unsigned long long arena)
{
	int status;
	char *out, *line, *found = NULL;
	unsigned long long n = 0, m = 0;
	int end = 0;

	out = raw ? run_child_raw(body, arg, &status, envkv) : run_child(body, arg, &status, envkv);
	for(line = out; (line = strstr(line, "runtime: out of memory: ")) != NULL; line++)
		found = line;
	ck_assert_msg(found != NULL, "no \"runtime: out of memory: \" line; status %#x; stderr ends:\n%s", status,
		out + (strlen(out) > 1000 ? strlen(out) - 1000 : 0));
	ck_assert_msg(sscanf(found, "runtime: out of memory: cannot allocate %llu-byte block (%llu in use)\n%n",
		&n, &m, &end) == 2 && end > 0, "bad line: %.200s", found);
	ck_assert_msg(strcmp(found + end, "fatal error: out of memory\n") == 0, "stderr ends:\n%.1000s", found);
	ck_assert_uint_gt(n, 0);
	if(arena != 0) {
		ck_assert_msg(m <= arena && arena < m + n,
			"arena of %llu bytes not full: %llu in use, a %llu-byte block did not fit", arena, m, n);
	}
	check_fatal_output(out, status, "out of memory");
	return n;
}

enum { ArenaMB = 32 };
static void *kept[4096];	// in the test's bss: a root

// 1 MB blocks, all kept: the collector runs (GOGC=100) but frees nothing.
static void
fill_large_body(void *arg)
{
	int i;

	(void)arg;
	for(i = 0; i < (int)nelem(kept); i++)
		kept[i] = gort_malloc_noscan(1 << 20);
	fprintf(stderr, "an arena of %d MB held %d MB\n", ArenaMB, i);
}

// 1 KB blocks in a linked list from one root: the small-object path
// (MCache_Refill) runs out.
static void
fill_small_body(void *arg)
{
	void **p;
	long i;

	(void)arg;
	for(i = 0; i < (2L*ArenaMB << 10); i++) {
		p = gort_malloc(1024);
		p[0] = kept[0];
		kept[0] = p;
	}
	fprintf(stderr, "an arena of %d MB held %ld KB of small blocks\n", ArenaMB, i);
}

START_TEST(test_arena_exhausted)
{
	static const char *mib[] = { "GORT_ARENA_MAX", "32MiB", NULL };
	static const char *bytes[] = { "GORT_ARENA_MAX", "33554432", NULL };
	static const char *nogc[] = { "GORT_ARENA_MAX", "32MiB", "GOGC", "off", NULL };
	// Rounded up to 1 MB.
	static const char *odd[] = { "GORT_ARENA_MAX", "32505857", NULL };

	ck_assert_uint_eq(expect_oom(fill_large_body, NULL, false, mib, ArenaMB << 20), 1 << 20);
	ck_assert_uint_eq(expect_oom(fill_large_body, NULL, false, bytes, ArenaMB << 20), 1 << 20);
	ck_assert_uint_eq(expect_oom(fill_large_body, NULL, false, nogc, ArenaMB << 20), 1 << 20);
	ck_assert_uint_eq(expect_oom(fill_large_body, NULL, false, odd, 32 << 20), 1 << 20);
	// A span for a size class: 1 MB asked, then its own 16 pages.
	ck_assert_uint_eq(expect_oom(fill_small_body, NULL, false, mib, ArenaMB << 20), 16 * PageSize);
}
END_TEST

// Under the cap, garbage is collected and the heap stays within it.
static void
churn_body(void *arg)
{
	GortMemStats ms;
	void **p, *head = NULL;
	long i;

	(void)arg;
	for(i = 0; i < 50000; i++) {	// 260 MB in all, 16 MB arena
		p = gort_malloc(i % 16 == 0 ? 40000 : 3000);
		p[0] = i % 64 == 0 ? NULL : head;	// lists of up to 64 blocks
		head = p;
	}
	gort_read_memstats(&ms);
	if(ms.HeapSys > (16 << 20)) {
		fprintf(stderr, "HeapSys %llu over the arena\n", (unsigned long long)ms.HeapSys);
		_exit(3);
	}
	if(ms.NumGC < 10) {
		fprintf(stderr, "NumGC %u\n", ms.NumGC);
		_exit(4);
	}
}

START_TEST(test_arena_max_collects)
{
	static const char *env[] = { "GORT_ARENA_MAX", "16MiB", NULL };
	int status;
	char *out = run_child(churn_body, NULL, &status, env);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x; stderr:\n%.1000s", status, out);
	free(out);
}
END_TEST

static void
empty_body(void *arg)
{
	(void)arg;
}

START_TEST(test_arena_max_malformed)
{
	static const char *bad[] = { "64M", "MiB", "-1", "1e9", "12 MiB", "0x100000", "64mib" };
	const char *env[] = { "GORT_ARENA_MAX", NULL, NULL };
	size_t i;

	for(i = 0; i < nelem(bad); i++) {
		env[1] = bad[i];
		expect_fatal_env(empty_body, NULL, "malformed GORT_ARENA_MAX", env);
	}
}
END_TEST

// Allocations no arena can hold fail at once, with Go's message: more
// than the arena (and, rounded, more than 2^64 bytes) and the largest
// sizes, whose page count overflows.
static void
huge_body(void *arg)
{
	gort_malloc((size_t)(uintptr_t)arg);
}

START_TEST(test_huge_allocation)
{
	static const size_t sizes[] = {
		((size_t)1 << 40) + 1, (size_t)1 << 62, SIZE_MAX - 3*PageSize, SIZE_MAX - PageSize,
	};
	static const char *small[] = { "GORT_ARENA_MAX", "1MiB", NULL };
	size_t i;
	int status;
	char *out;

	// The block asked for is the size in pages.
	for(i = 0; i < 3; i++)
		ck_assert_uint_eq(expect_oom(huge_body, (void*)(uintptr_t)sizes[i], false, NULL, 0),
			ROUND(sizes[i], PageSize));
	// Past SIZE_MAX - PageSize the size itself overflows: Go's plain throw.
	out = run_child(huge_body, (void*)(uintptr_t)sizes[3], &status, NULL);
	check_fatal_output(out, status, "out of memory");
	// Just over what a 1 MB arena has left (it boots: its first 1 MB
	// chunk holds everything the boot allocates).
	ck_assert_uint_eq(expect_oom(huge_body, (void*)(uintptr_t)(1 << 20), false, small, 1 << 20), 1 << 20);
}
END_TEST

// `ulimit -v`: the default reservation (about 160 GB of address space)
// does not fit, and says so; with GORT_ARENA_MAX gort boots and runs out
// of arena with Go's message. AddressSanitizer cannot run under such a
// limit at all (its shadow takes terabytes of address space): skipped.
#ifndef ASAN
// setrlimit(res) to what /proc/self/status says the process has (field,
// in kB) plus extra bytes.
static void
limit_to_status(int res, const char *field, unsigned long long extra)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256], fmt[64];
	unsigned long long kb = 0;
	struct rlimit rl;

	snprintf(fmt, sizeof fmt, "%s: %%llu kB", field);
	ck_assert_ptr_nonnull(f);
	while(fgets(line, sizeof line, f) != NULL)
		if(sscanf(line, fmt, &kb) == 1)
			break;
	fclose(f);
	ck_assert_uint_gt(kb, 0);
	rl.rlim_cur = rl.rlim_max = (kb << 10) + extra;
	ck_assert_int_eq(setrlimit(res, &rl), 0);
}

static void
limit_as(void)
{
	limit_to_status(RLIMIT_AS, "VmSize", 1ULL << 30);	// what we have + 1 GB
}

static void
ulimit_body(void *arg)
{
	limit_as();
	gort_main((void (*)(void*))arg, NULL);
}

// The OS refuses to commit pages (here RLIMIT_DATA, which counts
// writable private mappings but not the PROT_NONE reservation): SysMap's
// mmap fails with ENOMEM, and that is Go 1.3's "runtime: out of memory"
// throw. GOGC=off: only the heap and its bitmap and spans map grow, all
// through SysMap.
static void
data_limit_body(void *arg)
{
	limit_to_status(RLIMIT_DATA, "VmData", 256ULL << 20);
	gort_main(fill_large_body, arg);
}
#endif

START_TEST(test_os_out_of_memory)
{
#ifdef ASAN
	fprintf(stderr, "test_os_out_of_memory: skipped under AddressSanitizer\n");
#else
	static const char *env[] = { "GOGC", "off", NULL };

	expect_fatal_raw(data_limit_body, NULL, "runtime: out of memory", env);
#endif
}
END_TEST

START_TEST(test_ulimit_v)
{
#ifdef ASAN
	fprintf(stderr, "test_ulimit_v: skipped under AddressSanitizer\n");
#else
	static const char *env[] = { "GORT_ARENA_MAX", "64MiB", NULL };

	expect_fatal_raw(ulimit_body, empty_body, "runtime: cannot reserve arena virtual address space", NULL);
	ck_assert_uint_eq(expect_oom(ulimit_body, fill_large_body, true, env, 64 << 20), 1 << 20);
#endif
}
END_TEST

// ---- calls outside goroutines -----------------------------------------------------------

static void before_go(void *arg) { (void)arg; gort_go(empty_body, NULL); }
static void before_gc(void *arg) { (void)arg; gort_gc(); }
static void before_chan(void *arg) { (void)arg; gort_chan_make(8, 1); }
static void before_free(void *arg) { static long x; (void)arg; gort_free(&x); }

START_TEST(test_call_before_boot)
{
	const char *msg = "gort: runtime not started (call gort_main first)";

	expect_fatal_raw(before_go, NULL, msg, NULL);
	expect_fatal_raw(before_gc, NULL, msg, NULL);
	expect_fatal_raw(before_chan, NULL, msg, NULL);
	expect_fatal_raw(before_free, NULL, msg, NULL);
}
END_TEST

// gort_main's caller only waits; once gort_main returns it is still no
// goroutine.
static void
after_main(void *arg)
{
	ck_assert_int_eq(gort_main(empty_body, NULL), 0);
	((void (*)(void*))arg)(NULL);
}

START_TEST(test_call_after_main_returns)
{
	const char *msg = "gort: call from a thread the runtime did not create";

	expect_fatal_raw(after_main, before_go, msg, NULL);
	expect_fatal_raw(after_main, before_chan, msg, NULL);
	expect_fatal_raw(after_main, before_free, msg, NULL);
}
END_TEST

static void*
foreign(void *arg)
{
	((void (*)(void*))arg)(NULL);
	return NULL;
}

static void
foreign_body(void *arg)
{
	pthread_t t;

	pthread_create(&t, NULL, foreign, arg);
	pthread_join(t, NULL);
}

START_TEST(test_call_from_foreign_thread)
{
	const char *msg = "gort: call from a thread the runtime did not create";

	expect_fatal(foreign_body, before_gc, msg);
	expect_fatal(foreign_body, before_go, msg);
	expect_fatal(foreign_body, before_free, msg);
}
END_TEST

static void nil_main(void *arg) { (void)arg; gort_main(NULL, NULL); }

START_TEST(test_gort_main_nil)
{
	expect_fatal_raw(nil_main, NULL, "gort_main: nil function", NULL);
}
END_TEST

// ---- stack overflow by big frames -------------------------------------------------------

// Frames of 20 KB: each jumps over the 4 KB guard page unless the
// compiler probes every page (-fstack-clash-protection, README).
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int
bigrecurse(int n)
{
	volatile char buf[20 << 10];

	buf[0] = (char)n;
	buf[sizeof buf - 1] = (char)n;
	return bigrecurse(n + 1) + buf[0] + buf[sizeof buf - 1];
}

static void
bigoverflow(void *arg)
{
	(void)arg;
	bigrecurse(0);
}

static void
big_frames_body(void *arg)
{
	(void)arg;
	gort_go(bigoverflow, NULL);
	gort_chan_recv(gort_chan_make(0, 0), NULL);	// dies first
}

START_TEST(test_stack_overflow_big_frames)
{
	expect_fatal(big_frames_body, NULL, "stack overflow");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("death");
	TCase *tc;

	tc = new_tcase("arena");
	tcase_add_test(tc, test_arena_exhausted);
	tcase_add_test(tc, test_arena_max_collects);
	tcase_add_test(tc, test_arena_max_malformed);
	tcase_add_test(tc, test_huge_allocation);
	tcase_add_test(tc, test_ulimit_v);
	tcase_add_test(tc, test_os_out_of_memory);
	suite_add_tcase(s, tc);

	tc = new_tcase("threads");
	tcase_add_test(tc, test_call_before_boot);
	tcase_add_test(tc, test_call_after_main_returns);
	tcase_add_test(tc, test_call_from_foreign_thread);
	tcase_add_test(tc, test_gort_main_nil);
	suite_add_tcase(s, tc);

	tc = new_tcase("stack");
	tcase_add_test(tc, test_stack_overflow_big_frames);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
