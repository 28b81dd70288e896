// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// ring: a steady live heap for pause measurements, on the shim (shim.h).
// A ring of NSlots slots holds binary trees of depth 14 (32,767 nodes of
// 24 bytes: two pointers and a word; 768 KiB each), about 64 MiB of trees
// in all (NSlots = 85). The ring is filled first; then each op builds a
// new tree bottom-up and stores it over the oldest slot, dropping that
// tree (the glibc build frees it). The slots are a global array (data/bss
// is a root for both collectors). The live heap stays at ~64 MiB of
// nodes while every op allocates 768 KiB, so collections come at a steady
// rate with the same live heap: their mean pause is the figure.
//
//	ring_<backend> [ops]     (default 2000)

#include "shim.h"

enum
{
	Depth = 14,
	TreeNodes = (2 << Depth) - 1,
};

typedef struct Node Node;
struct Node
{
	Node	*left;
	Node	*right;
	long	val;
};

PEER_TYPE(node_type, Node, PEER_BIT(Node, left) | PEER_BIT(Node, right));

#define NSlots ((int)((64L << 20) / ((long)TreeNodes * (long)sizeof(Node))))

static Node *ring[NSlots];

static Node*
bottomup(int depth, long val)
{
	Node *n = peer_new(&node_type);

	n->val = val;
	if(depth > 0) {
		n->left = bottomup(depth-1, val);
		n->right = bottomup(depth-1, val);
	} else {
		n->left = NULL;
		n->right = NULL;
	}
	return n;
}

static long
sum(const Node *n)
{
	if(n->left == NULL)
		return n->val;
	return n->val + sum(n->left) + sum(n->right);
}

static void
freetree(Node *n)
{
	if(n->left != NULL) {
		freetree(n->left);
		freetree(n->right);
	}
	peer_free(n);
}

static void
body(int argc, char **argv)
{
	long ops, op, total;
	int k;
	Node *old;

	ops = argc > 1 ? atol(argv[1]) : 2000;
	for(k = 0; k < NSlots; k++)
		ring[k] = bottomup(Depth, k);
	for(op = 0; op < ops; op++) {
		k = (int)(op % NSlots);
		old = ring[k];
		ring[k] = bottomup(Depth, NSlots + op);
		if(PEER_EXPLICIT_FREE)
			freetree(old);
	}
	// Every slot still holds a whole tree with the value it was built with.
	total = 0;
	for(k = 0; k < NSlots; k++) {
		long s = sum(ring[k]);
		if(s % TreeNodes != 0)
			peer_die("ring: a tree was damaged");
		total += s / TreeNodes;
	}
	peer_check = total;
}

int
main(int argc, char **argv)
{
	return peer_main("ring", argc, argv, body);
}
