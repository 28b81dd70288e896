// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go runtime, Copyright 2012 The Go Authors.

// Lock-free stack (Go's lfstack.c).
//
// The head is one 64-bit word: the node pointer in the low 47 bits (amd64
// user addresses fit; bit 47 marks the kernel half) and the node's push
// count in the 17 bits above. A node popped and pushed back between
// another thread's load and CAS of the head has a new count, so that CAS
// fails (the ABA problem). Nodes are never freed while the stack may
// still be read (the collector's work buffers live forever).

#include "mgc0.h"

enum
{
	PTR_BITS = 47,
};
#define PTR_MASK	((1ULL<<PTR_BITS)-1)
#define CNT_MASK	(0ULL-1)

void
runtime_lfstackpush(uint64 *head, LFNode *node)
{
	uint64 old, new;

	if((uintptr)node != ((uintptr)node&PTR_MASK)) {
		runtime_printf("runtime: lfstackpush: p=%p\n", (void*)node);
		runtime_throw("runtime_lfstackpush: invalid pointer");
	}

	node->pushcnt++;
	new = (uint64)(uintptr)node|(((uint64)node->pushcnt&CNT_MASK)<<PTR_BITS);
	for(;;) {
		old = runtime_atomicload64(head);
		node->next = (LFNode*)(uintptr)(old&PTR_MASK);
		if(runtime_cas64(head, old, new))
			break;
	}
}

LFNode*
runtime_lfstackpop(uint64 *head)
{
	LFNode *node, *node2;
	uint64 old, new;

	for(;;) {
		old = runtime_atomicload64(head);
		if(old == 0)
			return nil;
		node = (LFNode*)(uintptr)(old&PTR_MASK);
		// node may have been popped and reused meanwhile; the CAS
		// below then fails on the count, whatever we read here.
		node2 = runtime_atomicloadp((void**)&node->next);
		new = 0;
		if(node2 != nil)
			new = (uint64)(uintptr)node2|(((uint64)node2->pushcnt&CNT_MASK)<<PTR_BITS);
		if(runtime_cas64(head, old, new))
			return node;
	}
}
