// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// binarytrees: the Computer Language Benchmarks Game's binary-trees, one
// thread, on the shim (shim.h): a stretch tree of depth max+1 built,
// checked and dropped; a long-lived tree of depth max kept to the end;
// and for depth 4, 6, ... max, 2^(max-depth+4) trees of that depth built
// bottom-up, checked and dropped. Nodes are two pointers (16 bytes), as
// in the C versions. The glibc build frees each tree after its check.
//
//	binarytrees_<backend> [maxdepth]     (default 16)
//
// Each check is verified against 2^(d+1)-1, the node count.

#include "shim.h"

typedef struct Node Node;
struct Node
{
	Node	*left;
	Node	*right;
};

PEER_TYPE(node_type, Node, PEER_BIT(Node, left) | PEER_BIT(Node, right));

static Node*
bottomup(int depth)
{
	Node *n = peer_new(&node_type);

	if(depth > 0) {
		n->left = bottomup(depth-1);
		n->right = bottomup(depth-1);
	} else {
		n->left = NULL;
		n->right = NULL;
	}
	return n;
}

static long
check(const Node *n)
{
	if(n->left == NULL)
		return 1;
	return 1 + check(n->left) + check(n->right);
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
verify(long got, int depth, long trees)
{
	if(got != trees * ((2L << depth) - 1)) {
		fprintf(stderr, "binarytrees: depth %d: check %ld, want %ld\n", depth, got,
			trees * ((2L << depth) - 1));
		exit(1);
	}
}

static void
body(int argc, char **argv)
{
	int mindepth = 4, maxdepth, depth, i, iters;
	Node *stretch, *longlived, *t;
	long c, total;

	maxdepth = argc > 1 ? atoi(argv[1]) : 16;
	if(maxdepth < mindepth + 2)
		maxdepth = mindepth + 2;

	stretch = bottomup(maxdepth + 1);
	c = check(stretch);
	verify(c, maxdepth + 1, 1);
	total = c;
	if(PEER_EXPLICIT_FREE)
		freetree(stretch);
	stretch = NULL;

	longlived = bottomup(maxdepth);
	for(depth = mindepth; depth <= maxdepth; depth += 2) {
		iters = 1 << (maxdepth - depth + mindepth);
		c = 0;
		for(i = 0; i < iters; i++) {
			t = bottomup(depth);
			c += check(t);
			if(PEER_EXPLICIT_FREE)
				freetree(t);
		}
		verify(c, depth, iters);
		total += c;
	}
	c = check(longlived);
	verify(c, maxdepth, 1);
	total += c;
	peer_keep(longlived);
	if(PEER_EXPLICIT_FREE)
		freetree(longlived);
	peer_check = total;
}

int
main(int argc, char **argv)
{
	static char name[32];

	snprintf(name, sizeof name, "binarytrees%d", argc > 1 ? atoi(argv[1]) : 16);
	return peer_main(name, argc, argv, body);
}
