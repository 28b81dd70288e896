// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2009 The Go Authors.

// Channels (Go's chan.c, at 3c3be622; no select beyond the
// non-blocking send and receive that select-with-default compiles to).
//
// An Hchan lives in the GC heap, followed by its buffer of dataqsiz
// elements; it is scanned conservatively, since elements may hold
// pointers. Everything in it is protected by its lock, except what is
// fixed by makechan (dataqsiz, elemsize), and gort_chan_len's read of
// qcount without it (racy, benign: a snapshot, as len(ch) is).
//
// Unbuffered (synchronous) channels hand the value over directly: a
// sender that finds a waiting receiver copies into the receiver's
// destination and readies it; otherwise it queues a SudoG (on its own
// stack) on sendq and parks; a receiver does the reverse. The woken G
// finds its SudoG in g->param; nil there means the channel was closed.
//
// Buffered (asynchronous) channels go through the ring buffer: a sender
// blocks while it is full, a receiver while it is empty; each wakes one
// waiter of the other side after moving an element, and the waiter
// retries.
//
// Close wakes every waiter: receivers get the zero value and ok=false,
// senders then fail. Sending on a closed channel, closing a closed one
// and closing a nil one are fatal, as Go's panics are when uncaught.
// Send or receive on a nil channel blocks forever.

#include "gort.h"
#include "malloc.h"

typedef struct WaitQ	WaitQ;
typedef struct SudoG	SudoG;

// A waiter, on its own stack.
struct SudoG
{
	G*	g;		// set by the waiter before it queues (c->lock); fixed while queued
	SudoG*	link;		// c->lock
	byte*	elem;		// data element (synchronous channels), or nil; as g.
				// The waker copies through it after dequeuing the
				// SudoG, before runtime_ready
};

struct WaitQ
{
	SudoG*	first;		// c->lock
	SudoG*	last;		// c->lock
};

struct GortChan
{
	uintptr	qcount;		// total data in the queue; lock. gort_chan_len reads
				// it without: racy (relaxed load vs plain stores),
				// benign, a snapshot as len(ch) is
	uintptr	dataqsiz;	// size of the circular queue; immutable after makechan
	uint16	elemsize;	// immutable after makechan
	bool	closed;		// lock
	uintptr	sendx;		// send index; lock
	uintptr	recvx;		// receive index; lock
	WaitQ	recvq;		// list of recv waiters; lock
	WaitQ	sendq;		// list of send waiters; lock
	Lock	lock;
};
typedef struct GortChan Hchan;

enum
{
	MaxElemSize = 1<<16,
};

static void	enqueue(WaitQ*, SudoG*);
static SudoG*	dequeue(WaitQ*);

// Slot i of c's buffer.
static inline byte*
chanbuf(Hchan *c, uintptr i)
{
	return (byte*)(c+1) + c->elemsize*i;
}

static inline void
elemcopy(Hchan *c, void *dst, const void *src)
{
	if(c->elemsize != 0)
		memmove(dst, src, c->elemsize);
}

static inline void
elemclear(Hchan *c, void *p)
{
	if(c->elemsize != 0)
		memset(p, 0, c->elemsize);
}

static Hchan*
makechan(uintptr elemsize, uintptr hint)
{
	Hchan *c;

	if(elemsize >= MaxElemSize)
		runtime_throw("makechan: invalid channel element type");
	if((intptr)hint < 0 || (elemsize > 0 && hint > (MaxMem - sizeof(*c)) / elemsize))
		runtime_throw("makechan: size out of range");

	// The buffer follows the header; both are zeroed.
	c = runtime_mallocgc(sizeof(*c) + hint*elemsize, 0, 0);
	runtime_lockinit(&c->lock, LockRankHchan);
	c->elemsize = elemsize;
	c->dataqsiz = hint;
	return c;
}

static void
blockforever(const char *reason)
{
	runtime_park(nil, nil, reason);
	runtime_throw("unreachable");
}

// Send *ep on c. With pres non-nil, never block: *pres says whether the
// value was sent.
static void
chansend(Hchan *c, const byte *ep, bool *pres)
{
	SudoG *sg;
	SudoG mysg;
	G *gp, *me;

	if(c == nil) {
		if(pres != nil) {
			*pres = false;
			return;
		}
		blockforever("chan send (nil chan)");
	}
	me = runtime_g();

	runtime_lock(&c->lock);
	if(c->closed)
		goto closed;

	if(c->dataqsiz > 0)
		goto asynch;

	sg = dequeue(&c->recvq);
	if(sg != nil) {
		runtime_unlock(&c->lock);

		gp = sg->g;
		gp->param = sg;
		if(sg->elem != nil)
			elemcopy(c, sg->elem, ep);
		runtime_ready(gp);
		if(pres != nil)
			*pres = true;
		return;
	}

	if(pres != nil) {
		runtime_unlock(&c->lock);
		*pres = false;
		return;
	}

	mysg.elem = (byte*)ep;
	mysg.g = me;
	me->param = nil;
	enqueue(&c->sendq, &mysg);
	runtime_parkunlock(&c->lock, "chan send");

	if(me->param == nil) {
		// Woken by close.
		runtime_lock(&c->lock);
		if(!c->closed)
			runtime_throw("chansend: spurious wakeup");
		goto closed;
	}
	return;

asynch:
	if(c->closed)
		goto closed;

	if(c->qcount >= c->dataqsiz) {
		if(pres != nil) {
			runtime_unlock(&c->lock);
			*pres = false;
			return;
		}
		mysg.g = me;
		mysg.elem = nil;
		enqueue(&c->sendq, &mysg);
		runtime_parkunlock(&c->lock, "chan send");

		runtime_lock(&c->lock);
		goto asynch;
	}

	elemcopy(c, chanbuf(c, c->sendx), ep);
	if(++c->sendx == c->dataqsiz)
		c->sendx = 0;
	c->qcount++;

	sg = dequeue(&c->recvq);
	if(sg != nil) {
		gp = sg->g;
		runtime_unlock(&c->lock);
		runtime_ready(gp);
	} else
		runtime_unlock(&c->lock);
	if(pres != nil)
		*pres = true;
	return;

closed:
	runtime_unlock(&c->lock);
	runtime_throw("send on closed channel");
}

// Receive from c into *ep (ep may be nil). With selected non-nil, never
// block: *selected says whether a receive happened. *received is false
// when the receive got the zero value of a closed, drained channel.
static void
chanrecv(Hchan *c, byte *ep, bool *selected, bool *received)
{
	SudoG *sg;
	SudoG mysg;
	G *gp, *me;

	if(c == nil) {
		if(selected != nil) {
			*selected = false;
			return;
		}
		blockforever("chan receive (nil chan)");
	}
	me = runtime_g();

	runtime_lock(&c->lock);
	if(c->dataqsiz > 0)
		goto asynch;

	if(c->closed)
		goto closed;

	sg = dequeue(&c->sendq);
	if(sg != nil) {
		runtime_unlock(&c->lock);

		if(ep != nil)
			elemcopy(c, ep, sg->elem);
		gp = sg->g;
		gp->param = sg;
		runtime_ready(gp);

		if(selected != nil)
			*selected = true;
		if(received != nil)
			*received = true;
		return;
	}

	if(selected != nil) {
		runtime_unlock(&c->lock);
		*selected = false;
		return;
	}

	mysg.elem = ep;
	mysg.g = me;
	me->param = nil;
	enqueue(&c->recvq, &mysg);
	runtime_parkunlock(&c->lock, "chan receive");

	if(me->param == nil) {
		// Woken by close.
		runtime_lock(&c->lock);
		if(!c->closed)
			runtime_throw("chanrecv: spurious wakeup");
		goto closed;
	}

	if(received != nil)
		*received = true;
	return;

asynch:
	if(c->qcount <= 0) {
		if(c->closed)
			goto closed;

		if(selected != nil) {
			runtime_unlock(&c->lock);
			*selected = false;
			if(received != nil)
				*received = false;
			return;
		}
		mysg.g = me;
		mysg.elem = nil;
		enqueue(&c->recvq, &mysg);
		runtime_parkunlock(&c->lock, "chan receive");

		runtime_lock(&c->lock);
		goto asynch;
	}

	if(ep != nil)
		elemcopy(c, ep, chanbuf(c, c->recvx));
	elemclear(c, chanbuf(c, c->recvx));	// drop references for the collector
	if(++c->recvx == c->dataqsiz)
		c->recvx = 0;
	c->qcount--;

	sg = dequeue(&c->sendq);
	if(sg != nil) {
		gp = sg->g;
		runtime_unlock(&c->lock);
		runtime_ready(gp);
	} else
		runtime_unlock(&c->lock);

	if(selected != nil)
		*selected = true;
	if(received != nil)
		*received = true;
	return;

closed:
	if(ep != nil)
		elemclear(c, ep);
	if(selected != nil)
		*selected = true;
	if(received != nil)
		*received = false;
	runtime_unlock(&c->lock);
}

static void
closechan(Hchan *c)
{
	SudoG *sg;
	G *gp;

	if(c == nil)
		runtime_throw("close of nil channel");

	runtime_lock(&c->lock);
	if(c->closed) {
		runtime_unlock(&c->lock);
		runtime_throw("close of closed channel");
	}
	c->closed = true;

	// release all readers
	for(;;) {
		sg = dequeue(&c->recvq);
		if(sg == nil)
			break;
		gp = sg->g;
		gp->param = nil;
		runtime_ready(gp);
	}

	// release all writers
	for(;;) {
		sg = dequeue(&c->sendq);
		if(sg == nil)
			break;
		gp = sg->g;
		gp->param = nil;
		runtime_ready(gp);
	}

	runtime_unlock(&c->lock);
}

static SudoG*
dequeue(WaitQ *q)
{
	SudoG *sgp;

	sgp = q->first;
	if(sgp == nil)
		return nil;
	q->first = sgp->link;
	if(q->last == sgp)
		q->last = nil;
	return sgp;
}

static void
enqueue(WaitQ *q, SudoG *sgp)
{
	sgp->link = nil;
	if(q->first == nil) {
		q->first = sgp;
		q->last = sgp;
		return;
	}
	q->last->link = sgp;
	q->last = sgp;
}

// ---- public API ---------------------------------------------------------------------

GORT_API GORT_ALLOCAPI GortChan*
gort_chan_make(size_t elemsize, size_t cap)
{
	runtime_mcheck("gort_chan_make");
	return makechan(elemsize, cap);
}

GORT_API void
gort_chan_send(GortChan *c, const void *elem)
{
	runtime_mcheck("gort_chan_send");
	chansend(c, elem, nil);
}

GORT_API bool
gort_chan_recv(GortChan *c, void *elem)
{
	bool received;

	runtime_mcheck("gort_chan_recv");
	chanrecv(c, elem, nil, &received);
	return received;
}

GORT_API void
gort_chan_close(GortChan *c)
{
	runtime_mcheck("gort_chan_close");
	closechan(c);
}

GORT_API bool
gort_chan_trysend(GortChan *c, const void *elem)
{
	bool sent;

	runtime_mcheck("gort_chan_trysend");
	chansend(c, elem, &sent);
	return sent;
}

GORT_API bool
gort_chan_tryrecv(GortChan *c, void *elem, bool *closed)
{
	bool selected, received;

	runtime_mcheck("gort_chan_tryrecv");
	received = false;
	chanrecv(c, elem, &selected, &received);
	if(closed != nil)
		*closed = selected && !received;
	return selected;
}

GORT_API size_t
gort_chan_len(GortChan *c)
{
	if(c == nil)
		return 0;
	return __atomic_load_n(&c->qcount, __ATOMIC_RELAXED);
}

GORT_API size_t
gort_chan_cap(GortChan *c)
{
	if(c == nil)
		return 0;
	return c->dataqsiz;
}
