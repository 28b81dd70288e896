// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Semaphores for goroutines (Go's sema.goc).
//
// A Sema is a counting semaphore whose waiters park: semacquire takes
// one unit, or queues its G on the Sema and parks it (its M runs other
// goroutines meanwhile); semrelease hands its unit straight to the
// first waiter, if any, and readies it, so a woken waiter never has to
// compete for the count again. Waiters are served in FIFO order.
//
// Go 1.3 keys its semaphores by the address of a uint32 in user memory
// and keeps the waiters in a hash table of semaroots (one lock per
// bucket), because sync.Mutex and sync.WaitGroup need a semaphore on
// any word. gort's only semaphores are runtime ones (worldsema, and the
// tests'), so a Sema carries its own queue and lock and needs no table.
// Like Go's, semacquire must not be called from g0 or with locks held.
//
// Lock: s->lock (LockRankSema) protects count, head and tail; it ranks
// above sched.lock. semrelease readies a waiter only after unlocking, but
// the fork handler's in-place semacquire (semacquireinplace, proc.c) takes
// sched.lock under s->lock.

#include "runtime.h"

// With s->lock held: take a unit if one is free (false: no wait), or
// queue gp to wait for one (true); the caller then parks gp, and
// semrelease hands it the unit. Also the fork handler's in-place
// semacquire (proc.c).
bool
runtime_semqueue(Sema *s, G *gp)
{
	if(s->count > 0) {
		s->count--;
		return false;
	}
	gp->schedlink = nil;
	if(s->tail)
		s->tail->schedlink = gp;
	else
		s->head = gp;
	s->tail = gp;
	return true;
}

void
runtime_semacquire(Sema *s)
{
	runtime_lock(&s->lock);
	if(!runtime_semqueue(s, runtime_g())) {
		runtime_unlock(&s->lock);
		return;
	}
	runtime_parkunlock(&s->lock, "semacquire");
}

void
runtime_semrelease(Sema *s)
{
	G *gp;

	runtime_lock(&s->lock);
	gp = s->head;
	if(gp != nil) {
		s->head = gp->schedlink;
		if(s->head == nil)
			s->tail = nil;
		runtime_unlock(&s->lock);
		runtime_ready(gp);
		return;
	}
	s->count++;
	runtime_unlock(&s->lock);
}

// Take s only if that needs no wait.
bool
runtime_semtryacquire(Sema *s)
{
	bool ok;

	runtime_lock(&s->lock);
	ok = s->count > 0;
	if(ok)
		s->count--;
	runtime_unlock(&s->lock);
	return ok;
}
