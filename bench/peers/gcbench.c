// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// gcbench: Hans Boehm's GCBench (after John Ellis and Pete Kovac), one
// thread, on the shim (shim.h). Nodes are two pointers and two ints (24
// bytes). The program:
//
//	a stretch tree of depth kStretchTreeDepth (18), built and dropped;
//	a long-lived tree of depth kLongLivedTreeDepth (16), built top-down,
//	  and a pointer-free array of kArraySize (500,000) doubles, half
//	  filled, both kept to the end;
//	for depth 4, 6, ... 16: NumIters(depth) = 2 TreeSize(18) / TreeSize(depth)
//	  trees of that depth built top-down (Populate) and dropped, then as
//	  many built bottom-up (MakeTree) and dropped;
//	the long-lived tree and the array checked.
//
// The glibc build frees every dropped tree, as GCBench's explicit-free
// variant does.
//
//	gcbench_<backend>

#include "shim.h"

enum
{
	kStretchTreeDepth = 18,
	kLongLivedTreeDepth = 16,
	kArraySize = 500000,
	kMinTreeDepth = 4,
	kMaxTreeDepth = 16,
};

typedef struct Node Node;
struct Node
{
	Node	*left;
	Node	*right;
	int	i, j;
};

PEER_TYPE(node_type, Node, PEER_BIT(Node, left) | PEER_BIT(Node, right));

static Node*
newnode(Node *l, Node *r)
{
	Node *n = peer_new(&node_type);

	n->left = l;
	n->right = r;
	n->i = 0;
	n->j = 0;
	return n;
}

static long
treesize(int depth)
{
	return (1L << (depth + 1)) - 1;
}

static long
numiters(int depth)
{
	return 2 * treesize(kStretchTreeDepth) / treesize(depth);
}

// Build the tree top-down: the children exist (and are reachable) before
// their subtrees are built.
static void
populate(int depth, Node *n)
{
	if(depth <= 0)
		return;
	depth--;
	n->left = newnode(NULL, NULL);
	n->right = newnode(NULL, NULL);
	populate(depth, n->left);
	populate(depth, n->right);
}

// Build the tree bottom-up.
static Node*
maketree(int depth)
{
	Node *l, *r;

	if(depth <= 0)
		return newnode(NULL, NULL);
	l = maketree(depth - 1);
	r = maketree(depth - 1);
	return newnode(l, r);
}

static long
count(const Node *n)
{
	if(n == NULL)
		return 0;
	return 1 + count(n->left) + count(n->right);
}

static void
freetree(Node *n)
{
	if(n == NULL)
		return;
	freetree(n->left);
	freetree(n->right);
	peer_free(n);
}

static void
timeconstruction(int depth)
{
	long i, iters = numiters(depth);
	Node *t;

	for(i = 0; i < iters; i++) {
		t = newnode(NULL, NULL);
		populate(depth, t);
		if(i == 0 && count(t) != treesize(depth))
			peer_die("gcbench: top-down tree has the wrong size");
		if(PEER_EXPLICIT_FREE)
			freetree(t);
	}
	for(i = 0; i < iters; i++) {
		t = maketree(depth);
		if(i == 0 && count(t) != treesize(depth))
			peer_die("gcbench: bottom-up tree has the wrong size");
		if(PEER_EXPLICIT_FREE)
			freetree(t);
	}
	peer_check += 2 * iters;
}

static void
body(int argc, char **argv)
{
	Node *t, *longlived;
	double *array;
	int d, i;

	(void)argc;
	(void)argv;

	t = maketree(kStretchTreeDepth);
	if(count(t) != treesize(kStretchTreeDepth))
		peer_die("gcbench: stretch tree has the wrong size");
	if(PEER_EXPLICIT_FREE)
		freetree(t);
	t = NULL;

	longlived = newnode(NULL, NULL);
	populate(kLongLivedTreeDepth, longlived);

	array = peer_new_noscan(kArraySize * sizeof(double));
	for(i = 0; i < kArraySize/2; i++)
		array[i] = 1.0/i;

	for(d = kMinTreeDepth; d <= kMaxTreeDepth; d += 2)
		timeconstruction(d);

	if(longlived == NULL || array[1000] != 1.0/1000)
		peer_die("gcbench: failed");
	if(count(longlived) != treesize(kLongLivedTreeDepth))
		peer_die("gcbench: long-lived tree has the wrong size");
	peer_keep(longlived);
	peer_keep(array);
	if(PEER_EXPLICIT_FREE) {
		freetree(longlived);
		peer_free(array);
	}
}

int
main(int argc, char **argv)
{
	return peer_main("gcbench", argc, argv, body);
}
