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

// The suite marks with every GC thread GOMAXPROCS allows (Go 1.3's rule,
// GODEBUG=gcmarkall=1): by default gort marks a heap under 4 MB on one
// thread, and most tests' heaps are that small. A run whose GODEBUG
// already names gcmarkall keeps it.
static inline void
gort_test_markall(void)
{
	const char *g = getenv("GODEBUG");
	char buf[512];

	if(g != NULL && strstr(g, "gcmarkall=") != NULL)
		return;
	snprintf(buf, sizeof buf, "%s%sgcmarkall=1", g ? g : "", g && *g ? "," : "");
	setenv("GODEBUG", buf, 1);
}

#define GORT_TEST(name)							\
	static void name##_body(void *gort_test_arg);			\
	START_TEST(name)						\
	{								\
		gort_test_markall();					\
		ck_assert_int_eq(gort_main(name##_body, NULL), 0);	\
	}								\
	END_TEST							\
	static void name##_body(void *gort_test_arg __attribute__((unused)))

// Run fn(arg) in a child process — as gort's main goroutine, or (raw) on
// the child's own thread without gort_main — with stderr captured and
// envkv set (GODEBUG keys add to the run's own: its sweep mode); return
// what the child wrote to stderr (malloc'd) and its wait status. If fn
// returns, the child exits with status 0.
static inline char *
spawn_child(void (*fn)(void *), void *arg, int *status, const char **envkv, bool raw)
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
		gort_test_markall();
		for(; envkv != NULL && envkv[0] != NULL; envkv += 2) {
			const char *old = getenv(envkv[0]);
			char buf[512];

			if(strcmp(envkv[0], "GODEBUG") == 0 && old != NULL && old[0] != 0) {
				snprintf(buf, sizeof buf, "%s,%s", old, envkv[1]);
				setenv(envkv[0], buf, 1);
			} else
				setenv(envkv[0], envkv[1], 1);
		}
		if(raw)
			fn(arg);
		else
			gort_main(fn, arg);
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

// Run body as gort's main goroutine in a child process; return what it
// wrote to stderr (malloc'd) and its wait status.
static inline char *
run_child(void (*body)(void *), void *arg, int *status, const char **envkv)
{
	return spawn_child(body, arg, status, envkv, false);
}

// Assert that a child exited with status 2 and that its stderr (out,
// consumed: strtok'd and freed) ends with the line "fatal error: msg",
// after only "runtime: ..." (or Go's "runtime.X: ...") detail lines.
static inline void
check_fatal_output(char *out, int status, const char *msg)
{
	char *line, *save = NULL, *last = NULL;
	char want[512];
	size_t len = strlen(out);

	ck_assert_msg(WIFEXITED(status), "child did not exit normally (status %#x); stderr ends:\n%s", status,
		out + (len > 1000 ? len - 1000 : 0));
	ck_assert_msg(WEXITSTATUS(status) == 2, "exit status %d, want 2; stderr ends:\n%s", WEXITSTATUS(status),
		out + (len > 1000 ? len - 1000 : 0));
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

// Assert that body dies with "fatal error: msg" (exactly that line last),
// only "runtime: " lines before it, and exit status 2.
static inline void
expect_fatal_env(void (*body)(void *), void *arg, const char *msg, const char **envkv)
{
	int status;
	char *out = run_child(body, arg, &status, envkv);

	check_fatal_output(out, status, msg);
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

// ---- more death-test helpers, and waiting on runtime state ---------------------------
#include <stdint.h>
#include "runtime.h"


// Like run_child, but fn runs on the child's own thread without gort_main
// (for calls before the runtime boots, or bodies that boot it themselves).
// If fn returns, the child exits with status 0.
static inline char *
run_child_raw(void (*fn)(void *), void *arg, int *status, const char **envkv)
{
	return spawn_child(fn, arg, status, envkv, true);
}

// expect_fatal_env for run_child_raw.
static inline void
expect_fatal_raw(void (*fn)(void *), void *arg, const char *msg, const char **envkv)
{
	int status;
	char *out = run_child_raw(fn, arg, &status, envkv);

	check_fatal_output(out, status, msg);
}

// Yield until cond holds; fail the test after 60 s. For waiting on what
// another goroutine does (a flag it sets, the runtime's state), never a
// bare sleep: a sleep that is too short silently stops covering the path.
// (Every 64th round sleeps 20 us, so that with other Ps idle the loop does
// not spin a CPU flat out.)
#define WAIT_UNTIL(cond)								\
	do {										\
		int64_t wu_end_ = gort_nanotime() + 60000000000LL;			\
		unsigned wu_i_;								\
		for(wu_i_ = 1; !(cond); wu_i_++) {					\
			ck_assert_msg(gort_nanotime() < wu_end_,			\
				"timed out (60 s) waiting for %s", #cond);		\
			if(wu_i_ % 64 == 0)						\
				gort_sleep(20000);					\
			else								\
				gort_gosched();						\
		}									\
	} while(0)

// The number of user goroutines parked (Gwaiting) that were started as
// fn (NULL: any) and wait for reason (runtime_park's reason: "chan send",
// "chan receive", "semacquire", "sleep"...; NULL: any).
static inline int
count_blocked(void (*fn)(void *), const char *reason)
{
	uintptr i;
	int n = 0;
	G *gp;

	runtime_lock(&runtime_allglock);
	for(i = 0; i < runtime_allglen; i++) {
		gp = runtime_allg[i];
		if(gp->issystem || __atomic_load_n(&gp->status, __ATOMIC_SEQ_CST) != Gwaiting)
			continue;
		if(fn != NULL && gp->fn != fn)
			continue;
		if(reason != NULL && (gp->waitreason == NULL || strcmp(gp->waitreason, reason) != 0))
			continue;
		n++;
	}
	runtime_unlock(&runtime_allglock);
	return n;
}

// Wait (yielding) until at least n goroutines started as fn are parked
// for reason: e.g. wait_blocked(10, receiver, "chan receive") before
// closing the channel they wait on.
static inline void
wait_blocked(int n, void (*fn)(void *), const char *reason)
{
	int64_t end = gort_nanotime() + 60000000000LL;
	unsigned i;
	int have;

	for(i = 1; (have = count_blocked(fn, reason)) < n; i++) {
		ck_assert_msg(gort_nanotime() < end, "timed out (60 s): %d of %d goroutines blocked (\"%s\")",
			have, n, reason != NULL ? reason : "any reason");
		if(i % 64 == 0)
			gort_sleep(20000);
		else
			gort_gosched();
	}
}


#endif
