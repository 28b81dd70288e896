// Test helpers shared by the Check suites.
//
// Every test that boots gort runs in its own process (Check's default
// fork mode: the runtime boots once per process) and runs its body as
// gort's main goroutine:
//
//	GORT_TEST(test_name) { ... body, may use ck_assert ... }
//
// Death tests come in two kinds. Check's exit tests check the status:
//	tcase_add_exit_test(tc, test_x, 2);
// expect_fatal() also checks what was printed: it runs body in a child
// process with stderr captured, and asserts that the child exited with
// status 2 and that stderr is only "runtime: ..." (or Go's
// "runtime.SetFinalizer: ...") detail lines followed by "fatal error: <msg>".
#ifndef GORT_TESTUTIL_H
#define GORT_TESTUTIL_H

#include <check.h>
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GORT_TEST(name)							\
	static void name##_body(void *gort_test_arg);			\
	START_TEST(name)						\
	{								\
		ck_assert_int_eq(gort_main(name##_body, NULL), 0);	\
	}								\
	END_TEST							\
	static void name##_body(void *gort_test_arg __attribute__((unused)))

// Run body as gort's main goroutine in a child process; return what it
// wrote to stderr (malloc'd) and its wait status.
static inline char *
run_child(void (*body)(void *), void *arg, int *status, const char **envkv)
{
	int fds[2];
	pid_t pid;
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	ssize_t n;

	ck_assert(out != NULL);
	ck_assert_int_eq(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if(pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		close(fds[1]);
		for(; envkv != NULL && envkv[0] != NULL; envkv += 2) {
			const char *old = getenv(envkv[0]);
			char buf[512];

			// GODEBUG keys add to the run's own (its sweep mode).
			if(strcmp(envkv[0], "GODEBUG") == 0 && old != NULL && old[0] != 0) {
				snprintf(buf, sizeof buf, "%s,%s", old, envkv[1]);
				setenv(envkv[0], buf, 1);
			} else
				setenv(envkv[0], envkv[1], 1);
		}
		gort_main(body, arg);
		_exit(0);
	}
	close(fds[1]);
	while((n = read(fds[0], out + len, cap - len - 1)) > 0) {
		len += n;
		if(cap - len < 2) {
			cap *= 2;
			out = realloc(out, cap);
			ck_assert(out != NULL);
		}
	}
	out[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, status, 0), pid);
	return out;
}

// Assert that body dies with "fatal error: msg" (exactly that line last),
// only "runtime: " lines before it, and exit status 2.
static inline void
expect_fatal_env(void (*body)(void *), void *arg, const char *msg, const char **envkv)
{
	int status;
	char *out, *line, *save = NULL, *last = NULL;
	char want[512];

	out = run_child(body, arg, &status, envkv);
	// (Check refuses messages over a few KB: quote the last 1000 bytes,
	// where a sanitizer's report ends.)
	ck_assert_msg(WIFEXITED(status), "child did not exit normally (status %#x); stderr ends:\n%s", status,
		out + (strlen(out) > 1000 ? strlen(out) - 1000 : 0));
	ck_assert_msg(WEXITSTATUS(status) == 2, "exit status %d, want 2; stderr ends:\n%s", WEXITSTATUS(status),
		out + (strlen(out) > 1000 ? strlen(out) - 1000 : 0));
	snprintf(want, sizeof want, "fatal error: %s", msg);
	for(line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if(last != NULL)
			ck_assert_msg(strncmp(last, "runtime: ", 9) == 0 || strncmp(last, "runtime.", 8) == 0,
				"unexpected stderr line: %.1000s", last);
		last = line;
	}
	ck_assert_msg(last != NULL, "no output, want \"%s\"", want);
	ck_assert_msg(strcmp(last, want) == 0, "last stderr line \"%.1000s\", want \"%s\"", last, want);
	free(out);
}

static inline void
expect_fatal(void (*body)(void *), void *arg, const char *msg)
{
	expect_fatal_env(body, arg, msg, NULL);
}

// Run fn(args[i]) in n goroutines and wait until all have returned
// (the waiter yields; it needs no channel).
typedef struct GoWaitItem { void (*fn)(void *); void *arg; int *left; } GoWaitItem;

static void
gowait_run(void *a)
{
	GoWaitItem *it = a;

	it->fn(it->arg);
	__atomic_sub_fetch(it->left, 1, __ATOMIC_SEQ_CST);
}

static inline void
go_and_wait(int n, void (*fn)(void *), void **args)
{
	GoWaitItem *items = calloc(n, sizeof *items);
	int left = n, i;

	ck_assert(items != NULL);
	for(i = 0; i < n; i++) {
		items[i].fn = fn;
		items[i].arg = args[i];
		items[i].left = &left;
		gort_go(gowait_run, &items[i]);
	}
	while(__atomic_load_n(&left, __ATOMIC_SEQ_CST) > 0)
		gort_gosched();
	free(items);
}

// A suite runner: all tests get a generous timeout (the sanitizer build
// is slow); returns the process exit status.
static inline int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int nfailed;

	srunner_run_all(sr, CK_ENV);	// CK_VERBOSITY=verbose lists every test
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

// The sweep mode under test: GODEBUG=concurrentsweep=0 sweeps in the
// pause (the parent commit); otherwise the sweep is concurrent.
static inline int
stwsweep(void)
{
	const char *g = getenv("GODEBUG");

	return g != NULL && strstr(g, "concurrentsweep=0") != NULL;
}

// Collections per gort_gc: with the concurrent sweep it collects twice,
// as go1.3's runtime.GC does.
static inline int
gcpergc(void)
{
	return stwsweep() ? 1 : 2;
}

static inline TCase *
new_tcase(const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, 120);
	return tc;
}

#endif
