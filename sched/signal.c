// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// Signals: stopping goroutines that run C code, and stack overflow.
//
// Suspension. Go 1.3 preempts a goroutine at its next function
// prologue; C code has no such check, so a goroutine in a loop that never
// calls gort would block stoptheworld forever. As Boehm GC does, gort
// sends such a goroutine's thread a signal (SIGURG by default;
// GORT_SIGSUSPEND=<number> picks another). The handler runs on the
// goroutine's own stack (no SA_ONSTACK), so the registers the kernel saves
// in the signal frame lie inside the part of the stack the collector
// scans. The same signal preempts a goroutine that sysmon finds running
// for 10 ms (gp->preempt). The handler applies Go's rule — never while
// m->locks, m->mallocing or m->gcing — and otherwise stops the M right
// there, the goroutine locked to it, until some M schedules the goroutine
// again: after the world restarts, or, when preempted, once its turn comes
// (runtime_suspendg, proc.c). A goroutine interrupted inside the runtime
// is left alone: stoptheworld re-sends every 100 µs, and by then it has
// left the critical section. Handlers use SA_RESTART, so an
// interrupted system call in user code resumes; errno is preserved.
//
// Stack overflow. Each goroutine stack has a PROT_NONE guard page below
// it, while vm.max_map_count allows (stack.c). SIGSEGV is handled on a
// per-M alternate stack: a fault inside the current goroutine's guard
// page, or any fault while its sp is below its stack (a frame bigger than
// the guard page, in code built without -fstack-clash-protection, may
// jump over the guard), is reported as Go does
// ("runtime: goroutine stack exceeds N-byte limit" then
// "fatal error: stack overflow"); any other fault is handed to the
// handler that was installed before gort's (AddressSanitizer's, or the
// default one) by restoring it and returning, so the access faults again.

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "malloc.h"

enum
{
	AltStackSize = 64<<10,
	// A fault that is not in the guard page still counts as this
	// goroutine's stack overflow when sp has gone below the stack by at
	// most OverflowReach (a frame bigger than the guard page, in code
	// built without -fstack-clash-protection) and the address is near
	// sp: at most FaultBelowSP under it (a push, a call) or FaultAboveSP
	// over it (the frame's own locals). The sanitizers' runtimes test
	// for a stack overflow the same way.
	OverflowReach = 1<<20,
	FaultBelowSP = 512,
	FaultAboveSP = 0xFFFF,
};

static int sigsuspend_no = SIGURG;
// The handlers gort replaced. Not scanned: glibc's sigaction fills only
// the first word of sa_mask from the kernel and copies the other 120
// bytes from its own stack, garbage that can hold a heap address; the
// collector found binary-trees' 4 MB stretch tree kept alive by oldbus
// and oldsegv in half of all runs.
static struct sigaction oldsegv GORT_NOSCAN, oldbus GORT_NOSCAN;

static void
sighandler_suspend(int sig, siginfo_t *info, void *ctx)
{
	M *mp;
	G *gp;
	int saved_errno;
	uintptr sp;

	USED(sig);
	USED(info);
	USED(ctx);
	mp = runtime_m();
	if(mp == nil)
		return;	// not one of ours
	saved_errno = errno;
	gp = mp->curg;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	// Only a goroutine running its own code, on its own stack, outside
	// the runtime, while the world is stopping or sysmon asked to preempt
	// it. It then waits, on this M, until some M schedules it again.
	if(gp != nil && gp != mp->g0 && gp->status == Grunning &&
	   sp >= (uintptr)gp->stack0 && sp < (uintptr)gp->stack0 + gp->stacksize &&
	   mp->locks == 0 && mp->mallocing == 0 && mp->gcing == 0 &&
	   mp->p != nil && (runtime_gcwaiting() || gp->preempt)) {
		mp->locks++;
		runtime_suspendg(mp, gp, sp);
		mp->locks--;
	}
	errno = saved_errno;
}

static void
sighandler_segv(int sig, siginfo_t *info, void *ctx)
{
	M *mp;
	G *gp;
	uintptr addr, sp;

	mp = runtime_m();
	gp = mp != nil ? mp->curg : nil;
	addr = (uintptr)info->si_addr;
	sp = ((ucontext_t*)ctx)->uc_mcontext.gregs[REG_RSP];
	// A fault in the guard page, or (a frame bigger than the guard page,
	// in code built without -fstack-clash-protection) a fault next to sp
	// while sp is below the goroutine's stack (sanitizers' test for a
	// stack overflow), and not on this M's own stack.
	if(gp != nil && gp->stack0 != nil &&
	   ((addr >= (uintptr)gp->stack0 - StackGuardPage && addr < (uintptr)gp->stack0) ||
	    (sp < (uintptr)gp->stack0 && sp >= (uintptr)gp->stack0 - OverflowReach &&
	     addr + FaultBelowSP > sp && addr < sp + FaultAboveSP &&
	     !(mp->g0stack != nil && sp >= (uintptr)mp->g0stack && sp < (uintptr)mp->g0stack + mp->g0stacksize)))) {
		runtime_printf("runtime: goroutine stack exceeds %llu-byte limit\n", (unsigned long long)gp->stacksize);
		runtime_printf("runtime: goroutine %lld: fault at %p, sp %p, below its stack [%p, %p)\n",
			(long long)gp->goid, (void*)addr, (void*)sp, (void*)gp->stack0, (void*)((uintptr)gp->stack0 + gp->stacksize));
		runtime_throw("stack overflow");
	}
	// Not ours: give the fault to whoever handled it before gort.
	sigaction(sig, sig == SIGSEGV ? &oldsegv : &oldbus, nil);
}

void
runtime_siginit(void)
{
	struct sigaction sa;
	const char *p;
	int n;

	p = runtime_getenv("GORT_SIGSUSPEND");
	if(p != nil && (n = runtime_atoi(p)) > 0 && n < NSIG)
		sigsuspend_no = n;

	memset(&sa, 0, sizeof sa);
	sigfillset(&sa.sa_mask);	// nothing else runs in the middle of a suspension
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_sigaction = sighandler_suspend;
	if(sigaction(sigsuspend_no, &sa, nil) != 0)
		runtime_throw("runtime: cannot install the suspension signal handler");

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sa.sa_sigaction = sighandler_segv;
	sigaction(SIGSEGV, &sa, &oldsegv);
	sigaction(SIGBUS, &sa, &oldbus);
}

// Per-M setup: an alternate signal stack for the guard-page handler.
void
runtime_minit(void)
{
	stack_t ss;

	ss.ss_sp = mmap(nil, AltStackSize, PROT_READ|PROT_WRITE, MAP_ANON|MAP_PRIVATE, -1, 0);
	if(ss.ss_sp == MAP_FAILED)
		runtime_throw("runtime: cannot allocate signal stack");
	ss.ss_size = AltStackSize;
	ss.ss_flags = 0;
	if(sigaltstack(&ss, nil) != 0)
		runtime_throw("runtime: sigaltstack failed");
	runtime_xadd64(&mstats.other_sys, AltStackSize);
}

void
runtime_sigpreempt(M *mp)
{
	pthread_kill((pthread_t)mp->tid, sigsuspend_no);
}
