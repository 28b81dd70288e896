// check_parfor: Go's parfor_test.go (TestParFor, TestParFor2,
// TestParForSetup, TestParForParallel).
#include <stdint.h>

#include "testutil.h"
#include "mgc0.h"

static uint64 *gdata;

static void
square(ParFor *desc, uint32 i)
{
	uint64 *d = desc->ctx != NULL ? desc->ctx : gdata;

	d[i] = d[i]*d[i] + 1;
}

static void
check_squares(uint64 *d, uint64 n)
{
	uint64 i, bad = ~0ULL;

	for(i = 0; i < n; i++)
		if(d[i] != i*i+1) {
			bad = i;
			break;
		}
	if(bad != ~0ULL)
		ck_abort_msg("wrong element %llu: %llu", (unsigned long long)bad, (unsigned long long)d[bad]);
}

// Simple serial sanity test.
GORT_TEST(test_par_for)
{
	enum { P = 1, N = 20 };
	ParFor *desc;
	uint64 i;

	gdata = gort_malloc_noscan(N * sizeof(uint64));
	for(i = 0; i < N; i++)
		gdata[i] = i;
	desc = runtime_parforalloc(P);
	runtime_parforsetup(desc, P, N, NULL, true, square);
	runtime_parfordo(desc);
	check_squares(gdata, N);
}

// A nonblocking parallel for does not block: 7 "threads" run one after
// the other on one goroutine.
GORT_TEST(test_par_for2)
{
	enum { P = 7, N = 1003 };
	ParFor *desc;
	uint64 *data, i;
	int p;

	data = gort_malloc_noscan(N * sizeof(uint64));
	for(i = 0; i < N; i++)
		data[i] = i;
	desc = runtime_parforalloc(P);
	runtime_parforsetup(desc, P, N, data, false, square);
	for(p = 0; p < P; p++)
		runtime_parfordo(desc);
	check_squares(data, N);
}

static void
nop(ParFor *desc, uint32 i)
{
	(void)desc;
	(void)i;
}

// Iterations are distributed evenly and contiguously.
GORT_TEST(test_par_for_setup)
{
	enum { P = 11, N = 101 };
	ParFor *desc;
	uint32 n, p, i, sum, size, size0 = 0, end0 = 0;
	uintptr begin, end;
	char err[200] = "";

	desc = runtime_parforalloc(P);
	for(n = 0; n < N && err[0] == 0; n++) {
		for(p = 1; p <= P && err[0] == 0; p++) {
			runtime_parforsetup(desc, p, n, NULL, true, nop);
			sum = 0;
			for(i = 0; i < p; i++) {
				runtime_parforiters(desc, i, &begin, &end);
				size = end - begin;
				sum += size;
				if(i == 0) {
					size0 = size;
					if(begin != 0)
						snprintf(err, sizeof err, "incorrect begin: %zu (n=%u, p=%u)", (size_t)begin, n, p);
				} else {
					if(size != size0 && size != size0+1)
						snprintf(err, sizeof err, "incorrect size: %u/%u (n=%u, p=%u)", size, size0, n, p);
					if(begin != end0)
						snprintf(err, sizeof err, "incorrect begin/end: %zu/%u (n=%u, p=%u)", (size_t)begin, end0, n, p);
				}
				end0 = end;
			}
			if(sum != n && err[0] == 0)
				snprintf(err, sizeof err, "incorrect sum: %u/%u (p=%u)", sum, n, p);
		}
	}
	ck_assert_msg(err[0] == 0, "%s", err);
}

// Parallel: GOMAXPROCS goroutines run the same parallel for.
static void
dofor(void *arg)
{
	runtime_parfordo(arg);
}

GORT_TEST(test_par_for_parallel)
{
	uint64 n = 10000000, i;
	ParFor *desc;
	int p, k;

	gort_gomaxprocs(2);
	for(k = 0; k < 2; k++) {
		p = gort_gomaxprocs(0) + k*2;	// also more threads than Ps
		gdata = gort_malloc_noscan(n * sizeof(uint64));
		for(i = 0; i < n; i++)
			gdata[i] = i;
		desc = runtime_parforalloc(p);
		runtime_parforsetup(desc, p, n, NULL, k == 0 ? false : true, square);
		{
			GoWaitItem *items = calloc(p, sizeof *items);
			int left = p - 1, j;

			for(j = 0; j < p - 1; j++) {
				items[j] = (GoWaitItem){ dofor, desc, &left };
				gort_go(gowait_run, &items[j]);
			}
			runtime_parfordo(desc);
			while(__atomic_load_n(&left, __ATOMIC_SEQ_CST) > 0)
				gort_gosched();
			free(items);
		}
		check_squares(gdata, n);
		gort_free(gdata);
	}
}

static void
badsetup_body(void *arg)
{
	(void)arg;
	runtime_parforsetup(runtime_parforalloc(2), 3, 10, NULL, true, nop);
}

START_TEST(test_par_for_invalid)
{
	expect_fatal(badsetup_body, NULL, "parfor: invalid args");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("parfor");
	TCase *tc = new_tcase("parfor");

	tcase_add_test(tc, test_par_for);
	tcase_add_test(tc, test_par_for2);
	tcase_add_test(tc, test_par_for_setup);
	tcase_add_test(tc, test_par_for_parallel);
	tcase_add_test(tc, test_par_for_invalid);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
