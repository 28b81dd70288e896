// check_lfstack: Go's lfstack_test.go (TestLFStack, TestLFStackStress).
#include <stdint.h>

#include "testutil.h"
#include "mgc0.h"

typedef struct MyNode { LFNode node; long data; } MyNode;

GORT_TEST(test_lfstack)
{
	uint64 stack = 0;
	MyNode *a, *b, *n;

	ck_assert_ptr_null(runtime_lfstackpop(&stack));
	a = gort_malloc(sizeof *a);
	a->data = 42;
	runtime_lfstackpush(&stack, &a->node);
	b = gort_malloc(sizeof *b);
	b->data = 43;
	runtime_lfstackpush(&stack, &b->node);
	n = (MyNode*)runtime_lfstackpop(&stack);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->data, 43);	// LIFO
	n = (MyNode*)runtime_lfstackpop(&stack);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->data, 42);
	ck_assert_ptr_null(runtime_lfstackpop(&stack));
	ck_assert_uint_eq(stack, 0);	// the head word is back to 0
}

// K nodes on two stacks; 4×GOMAXPROCS goroutines pop from a random stack
// and push onto a random stack; nothing is lost or duplicated.
enum { K = 100, NSTRESS = 100000 };
static uint64 stacks[2];

static void
stresser(void *arg)
{
	uint64 seed = (uintptr)arg * 0x9e3779b97f4a7c15ULL + 1;
	LFNode *n;
	int i;

	for(i = 0; i < NSTRESS; i++) {
		seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
		n = runtime_lfstackpop(&stacks[(seed >> 40) & 1]);
		if(n != NULL)
			runtime_lfstackpush(&stacks[(seed >> 41) & 1], n);
		if(i % 1000 == 0)
			gort_gosched();
	}
}

GORT_TEST(test_lfstack_stress)
{
	static MyNode *nodes[K];
	void *args[16];
	long sum = 0, sum2 = 0;
	int i, p, cnt = 0;
	MyNode *n;

	gort_gomaxprocs(4);
	p = 4 * gort_gomaxprocs(0);
	for(i = 0; i < K; i++) {
		nodes[i] = gort_malloc(sizeof *nodes[i]);
		nodes[i]->data = i;
		sum += i;
		runtime_lfstackpush(&stacks[i%2], &nodes[i]->node);
	}
	for(i = 0; i < p; i++)
		args[i] = (void*)(uintptr_t)i;
	go_and_wait(p, stresser, args);
	for(i = 0; i < 2; i++)
		while((n = (MyNode*)runtime_lfstackpop(&stacks[i])) != NULL) {
			cnt++;
			sum2 += n->data;
		}
	ck_assert_int_eq(cnt, K);
	ck_assert_int_eq(sum2, sum);
}

static void
badpush_body(void *arg)
{
	uint64 stack = 0;

	(void)arg;
	runtime_lfstackpush(&stack, (LFNode*)(uintptr_t)0xffff800000001000ULL);
}

START_TEST(test_lfstack_bad_pointer)
{
	expect_fatal(badpush_body, NULL, "runtime_lfstackpush: invalid pointer");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lfstack");
	TCase *tc = new_tcase("lfstack");

	tcase_add_test(tc, test_lfstack);
	tcase_add_test(tc, test_lfstack_stress);
	tcase_add_test(tc, test_lfstack_bad_pointer);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
