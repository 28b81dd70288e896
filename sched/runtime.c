// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Runtime odds and ends: the current M, throw and printf, the environment
// knobs (GOGC, GODEBUG, GOTRACEBACK), time and the fast random numbers.
// See runtime.h.

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

DebugVars runtime_debug;
int32	runtime_gotraceback = 1;
int32	runtime_ncpu = 1;
int32	runtime_gomaxprocs = 1;
bool	runtime_booted;
bool	runtime_forkchild;

// The current M. initial-exec TLS: gort is linked at start-up, not
// dlopen'd, and this keeps the access a single %fs-relative load.
// "used": runtime_m reads it from inline asm, which LTO cannot see.
__thread M *runtime_tls_m __attribute__((tls_model("initial-exec"), used));

void
runtime_setm(M *mp)
{
	runtime_tls_m = mp;
}

void
runtime_badm(const char *what)
{
	if(runtime_forkchild) {
		runtime_printf("runtime: %s called in the child of fork(); only exec and _exit are safe there\n", what);
		runtime_throw("gort: call in a child process after fork");
	}
	if(!runtime_booted) {
		runtime_printf("runtime: %s called before gort_main\n", what);
		runtime_throw("gort: runtime not started (call gort_main first)");
	}
	runtime_printf("runtime: %s called from a thread the runtime did not create\n", what);
	runtime_throw("gort: call from a thread the runtime did not create");
}

// printf to stderr through one write(2), with no allocation, so that it
// works inside the allocator and in the suspension signal's handler.
void
runtime_printf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;
	ssize_t w;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if(n < 0)
		return;
	if((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	for(p = buf; n > 0; p += w, n -= w) {
		w = write(2, p, n);
		if(w <= 0) {
			if(w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			return;
		}
	}
}

static uint32 throwing;

void
runtime_throw(const char *msg)
{
	M *mp;

	mp = runtime_m();
	if(mp != nil)
		mp->locks++;	// nothing preempts or suspends us now
	if(runtime_xadd(&throwing, 1) > 1) {
		// Another thread is already dying; let it finish the message.
		for(;;)
			runtime_usleep(1000000);
	}
	runtime_printf("fatal error: %s\n", msg);
	if(runtime_gotraceback >= 2)
		abort();	// GOTRACEBACK=crash: dump core
	_exit(2);
}

int64
runtime_nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64)ts.tv_sec*1000000000LL + ts.tv_nsec;
}

// Go's fastrand1: a tiny per-M LFSR, good enough for sampling and for
// picking steal victims, and free of locks.
uint32
runtime_fastrand1(void)
{
	M *mp;
	uint32 x;

	mp = runtime_m();
	x = mp->fastrand;
	x += x;
	if(x & 0x80000000L)
		x ^= 0x88888eefUL;
	mp->fastrand = x;
	return x;
}

int32
runtime_atoi(const char *s)
{
	int32 n;

	n = 0;
	while(*s >= '0' && *s <= '9')
		n = n*10 + *s++ - '0';
	return n;
}

const char*
runtime_getenv(const char *name)
{
	return getenv(name);
}

// GODEBUG=name=val,name=val. Unknown names are ignored, as in Go.
static struct {
	const char *name;
	int32 *value;
} dbgvar[] = {
	{"allocfreetrace", &runtime_debug.allocfreetrace},
	{"concurrentsweep", &runtime_debug.concurrentsweep},
	{"efence", &runtime_debug.efence},
	{"gccheckmark", &runtime_debug.gccheckmark},
	{"gcmarkall", &runtime_debug.gcmarkall},
	{"gctrace", &runtime_debug.gctrace},
};

void
runtime_parsedebugvars(void)
{
	const char *p, *eq;
	uint32 i;
	size_t n;

	runtime_debug.concurrentsweep = 1;	// the seed change's default
	p = runtime_getenv("GODEBUG");
	if(p != nil) {
		for(;;) {
			for(i = 0; i < nelem(dbgvar); i++) {
				n = strlen(dbgvar[i].name);
				if(strncmp(p, dbgvar[i].name, n) == 0 && p[n] == '=')
					*dbgvar[i].value = runtime_atoi(p+n+1);
			}
			p = strchr(p, ',');
			if(p == nil)
				break;
			p++;
		}
	}
	p = runtime_getenv("GOTRACEBACK");
	if(p == nil || p[0] == '\0')
		runtime_gotraceback = 1;
	else if(strcmp(p, "crash") == 0)
		runtime_gotraceback = 2;
	else
		runtime_gotraceback = runtime_atoi(p);
	// The heap profiler's stack capture (mprof.c): read at boot, not on
	// whichever thread samples first.
	p = runtime_getenv("GORT_UNWIND");
	runtime_unwindmode = p != nil && strcmp(p, "eh") == 0;
	(void)eq;
}

// GOGC: unset or empty → 100; "off" → −1; otherwise its number.
int32
runtime_readgogc(void)
{
	const char *p;

	p = runtime_getenv("GOGC");
	if(p == nil || p[0] == '\0')
		return 100;
	if(strcmp(p, "off") == 0)
		return -1;
	return runtime_atoi(p);
}
