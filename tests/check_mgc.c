// check_mgc: the collector. For now its roots: the data and bss the
// collector will scan, without gort's own globals, plus registered
// ranges (gort_add_roots / gort_remove_roots).
#include <errno.h>
#include <stdint.h>

#include "testutil.h"
#include "mgc0.h"

typedef struct Find Find;
struct Find { const void *addr; int hits; uintptr total; };

static void
find(byte *p, uintptr n, void *arg)
{
	Find *f = arg;

	f->total += n;
	if((const byte*)f->addr >= p && (const byte*)f->addr < p + n)
		f->hits++;
}

static int
inroots(const void *addr)
{
	Find f = { addr, 0, 0 };

	runtime_forallroots(find, &f);
	return f.hits;
}

static void *gdata_ptr = (void*)&gdata_ptr;	// .data
static void *gbss_ptr;				// .bss

GORT_TEST(test_roots_data_bss)
{
	ck_assert_int_eq(inroots(&gdata_ptr), 1);
	ck_assert_int_eq(inroots(&gbss_ptr), 1);
	ck_assert_int_eq(inroots(&errno), 0);		// thread-local storage is not a root
	{
		long local = 0;	// goroutine stacks are roots of another kind
		ck_assert_int_eq(inroots(&local), 0);
	}
}

GORT_TEST(test_roots_exclude_gort)
{
	ck_assert_int_eq(inroots(&runtime_mheap), 0);
	ck_assert_int_eq(inroots(&runtime_mstats), 0);
	ck_assert_int_eq(inroots(&runtime_mheap.central[3]), 0);
	// The words around the no-scan section still are roots.
	ck_assert_int_eq(inroots(&gdata_ptr), 1);
}

GORT_TEST(test_add_remove_roots)
{
	long *m = malloc(64 * sizeof(long));	// libc memory: not a root by itself

	ck_assert_int_eq(inroots(m + 3), 0);
	gort_add_roots(m, m + 64);
	ck_assert_int_eq(inroots(m + 3), 1);
	ck_assert_int_eq(inroots(m + 64), 0);	// hi is exclusive
	gort_add_roots(m + 10, m + 20);
	ck_assert_int_eq(inroots(m + 15), 2);
	gort_remove_roots(m, m + 64);
	ck_assert_int_eq(inroots(m + 3), 0);
	ck_assert_int_eq(inroots(m + 15), 1);
	gort_remove_roots(m + 10, m + 20);
	ck_assert_int_eq(inroots(m + 15), 0);
	gort_add_roots(m, m);	// empty: nothing
	ck_assert_int_eq(inroots(m), 0);
	free(m);
}

static void
remove_unknown_body(void *arg)
{
	long x[4];

	(void)arg;
	gort_remove_roots(&x[0], &x[4]);
}

static void
add_bad_body(void *arg)
{
	long x[4];

	(void)arg;
	gort_add_roots(&x[4], &x[0]);
}

START_TEST(test_roots_misuse)
{
	expect_fatal(remove_unknown_body, NULL, "gort_remove_roots: range not registered");
	expect_fatal(add_bad_body, NULL, "gort_add_roots: bad range");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mgc");
	TCase *tc = new_tcase("roots");

	tcase_add_test(tc, test_roots_data_bss);
	tcase_add_test(tc, test_roots_exclude_gort);
	tcase_add_test(tc, test_add_remove_roots);
	tcase_add_test(tc, test_roots_misuse);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
