// check_fixalloc: the fixed-size record allocator (mfixalloc.c) on local
// FixAllocs: distinct, non-overlapping records carved from 16 KB chunks,
// the inuse and chunk statistics, LIFO reuse of freed records, the
// first-use hook (called once per new record, never on reuse), and the
// fatal error for an uninitialised FixAlloc.
#include <stdlib.h>

#include "testutil.h"
#include "malloc.h"

// What the first-use hook saw.
typedef struct Hook Hook;
struct Hook
{
	uintptr	ncalls;
	byte*	last;
	byte**	seen;	// every record it was called for, in order
	uintptr	cap;
};

static void
hook(void *arg, byte *p)
{
	Hook *h = arg;

	if(h->ncalls < h->cap)
		h->seen[h->ncalls] = p;
	h->ncalls++;
	h->last = p;
}

static int
cmpptr(const void *a, const void *b)
{
	uintptr x = *(const uintptr*)a, y = *(const uintptr*)b;

	return x < y ? -1 : x > y;
}

// Bytes [from, to) of record p all hold c.
static void
check_pattern(const byte *p, uintptr from, uintptr to, byte c)
{
	uintptr j;

	for(j = from; j < to; j++)
		if(p[j] != c)
			ck_abort_msg("record %p byte %zu is %#x, want %#x", (void*)p, (size_t)j, p[j], c);
}

// Records per chunk for records of size bytes (the tail is lost).
static uintptr
perchunk(uintptr size)
{
	return FixAllocChunk / size;
}

// Allocate n records of size bytes from a fresh FixAlloc and check them
// one by one; then reuse.
static void
check_fixalloc(uintptr size, uintptr n)
{
	FixAlloc f;
	uint64 stat;
	Hook h;
	byte **recs, **sorted;
	uintptr i, nchunk;

	recs = calloc(n, sizeof recs[0]);
	sorted = calloc(n, sizeof sorted[0]);
	memset(&h, 0, sizeof h);
	h.seen = calloc(n, sizeof h.seen[0]);
	h.cap = n;
	ck_assert(recs != nil && sorted != nil && h.seen != nil);

	stat = 0;
	memset(&f, 0xcc, sizeof f);	// Init must set every field
	FixAlloc_Init(&f, size, hook, &h, &stat);
	ck_assert_uint_eq(f.size, size);
	ck_assert_uint_eq(f.inuse, 0);
	ck_assert_ptr_null(f.list);
	ck_assert_ptr_null(f.chunk);
	ck_assert_uint_eq(f.nchunk, 0);
	ck_assert_ptr_eq(f.stat, &stat);
	ck_assert_uint_eq(stat, 0);	// no memory until the first Alloc

	for(i = 0; i < n; i++) {
		recs[i] = FixAlloc_Alloc(&f);
		ck_assert_ptr_nonnull(recs[i]);
		ck_assert_uint_eq((uintptr)recs[i] & 7, 0);
		// The hook ran once, for this very record, before it was
		// handed out.
		ck_assert_uint_eq(h.ncalls, i+1);
		ck_assert_ptr_eq(h.last, recs[i]);
		ck_assert_uint_eq(f.inuse, (i+1)*size);
		// A new 16 KB chunk every perchunk(size) records.
		nchunk = i/perchunk(size) + 1;
		ck_assert_msg(stat == nchunk*FixAllocChunk, "record %zu: stat %llu, want %zu chunks",
			(size_t)i, (unsigned long long)stat, (size_t)nchunk);
		// Within a chunk, records are consecutive.
		if(i % perchunk(size) != 0)
			ck_assert_ptr_eq(recs[i], recs[i-1] + size);
		// Records are writable in full; the pattern is checked below.
		memset(recs[i], (int)(i*13 + 1), size);
	}

	// Distinct and non-overlapping: sorted, each ends before the next.
	memcpy(sorted, recs, n*sizeof recs[0]);
	qsort(sorted, n, sizeof sorted[0], cmpptr);
	for(i = 1; i < n; i++)
		ck_assert_msg(sorted[i-1] + size <= sorted[i], "records %p and %p overlap (size %zu)",
			(void*)sorted[i-1], (void*)sorted[i], (size_t)size);
	// No write went into another record.
	for(i = 0; i < n; i++)
		check_pattern(recs[i], 0, size, (byte)(i*13 + 1));

	// Free every other record: inuse drops, stat stays (chunks are
	// never given back).
	for(i = 0; i < n; i += 2)
		FixAlloc_Free(&f, recs[i]);
	ck_assert_uint_eq(f.inuse, (n - (n+1)/2)*size);
	ck_assert_uint_eq(stat, ((n-1)/perchunk(size) + 1)*FixAllocChunk);
	// Free only smashes the first word of a record.
	for(i = 0; i < n; i += 2)
		check_pattern(recs[i], sizeof(MLink), size, (byte)(i*13 + 1));
	for(i = 1; i < n; i += 2)
		check_pattern(recs[i], 0, size, (byte)(i*13 + 1));

	// Reuse is LIFO, and the hook is not called again.
	for(i = ((n-1)/2)*2;; i -= 2) {
		byte *p = FixAlloc_Alloc(&f);
		ck_assert_ptr_eq(p, recs[i]);
		ck_assert_uint_eq(h.ncalls, n);
		if(i == 0)
			break;
	}
	ck_assert_uint_eq(f.inuse, n*size);
	ck_assert_ptr_null(f.list);
	ck_assert_uint_eq(stat, ((n-1)/perchunk(size) + 1)*FixAllocChunk);

	// With the free list empty, carving resumes in the current chunk,
	// and the hook runs for the new record.
	{
		byte *p = FixAlloc_Alloc(&f);

		ck_assert_uint_eq(h.ncalls, n+1);
		ck_assert_ptr_eq(h.last, p);
		if(n % perchunk(size) != 0)
			ck_assert_ptr_eq(p, recs[n-1] + size);
		for(i = 0; i < n; i++)
			ck_assert_ptr_ne(p, recs[i]);
		FixAlloc_Free(&f, p);
		ck_assert_ptr_eq(FixAlloc_Alloc(&f), p);
		ck_assert_uint_eq(h.ncalls, n+1);
	}

	// Every record the hook saw was handed out exactly once.
	memcpy(sorted, h.seen, n*sizeof sorted[0]);
	qsort(sorted, n, sizeof sorted[0], cmpptr);
	for(i = 1; i < n; i++)
		ck_assert_ptr_ne(sorted[i-1], sorted[i]);

	free(recs);
	free(sorted);
	free(h.seen);
}

GORT_TEST(test_fixalloc_48)
{
	check_fixalloc(48, 2000);	// 341 per chunk, 6 chunks
}

GORT_TEST(test_fixalloc_4000)
{
	check_fixalloc(4000, 37);	// 4 per chunk, 384 bytes lost each
}

GORT_TEST(test_fixalloc_exact_chunk)
{
	check_fixalloc(FixAllocChunk, 5);	// one record per chunk, nothing lost
	check_fixalloc(sizeof(MSpan), 1000);
}

// No hook: records still come out, and a record's first word (the free
// list link) is all that reuse disturbs.
GORT_TEST(test_fixalloc_nohook)
{
	FixAlloc f;
	uint64 stat = 0;
	uint64 *a, *b, *c;

	FixAlloc_Init(&f, 24, nil, nil, &stat);
	a = FixAlloc_Alloc(&f);
	b = FixAlloc_Alloc(&f);
	ck_assert_ptr_eq((byte*)b, (byte*)a + 24);
	ck_assert_uint_eq(stat, FixAllocChunk);
	a[0] = 1; a[1] = 2; a[2] = 3;
	b[0] = 4; b[1] = 5; b[2] = 6;
	FixAlloc_Free(&f, a);
	FixAlloc_Free(&f, b);
	ck_assert_uint_eq(f.inuse, 0);
	// b was freed last, so its link points to a.
	ck_assert_ptr_eq((void*)b[0], (void*)a);
	ck_assert_ptr_null((void*)a[0]);
	c = FixAlloc_Alloc(&f);
	ck_assert_ptr_eq(c, b);
	ck_assert_uint_eq(c[1], 5);
	ck_assert_uint_eq(c[2], 6);
	c = FixAlloc_Alloc(&f);
	ck_assert_ptr_eq(c, a);
	ck_assert_uint_eq(c[1], 2);
	ck_assert_uint_eq(f.inuse, 48);
}

// The chunk statistic is charged to the caller's stat, not to OtherSys
// (persistentalloc moves it over).
GORT_TEST(test_fixalloc_stat_moves)
{
	FixAlloc f;
	uint64 stat = 0, other0;
	uintptr i;

	FixAlloc_Init(&f, 512, nil, nil, &stat);
	other0 = mstats.other_sys;
	for(i = 0; i < 3*perchunk(512); i++)
		FixAlloc_Alloc(&f);
	ck_assert_uint_eq(stat, 3*FixAllocChunk);
	// Other_sys grew by whole 256 KB persistentalloc chunks, less
	// the FixAlloc's own chunks, which went to stat.
	ck_assert_uint_eq((mstats.other_sys + stat - other0) % (256<<10), 0);
	FixAlloc_Alloc(&f);
	ck_assert_uint_eq(stat, 4*FixAllocChunk);
}

// ---- death tests ------------------------------------------------------------

static void
alloc_before_init_body(void *arg)
{
	FixAlloc f;

	USED(arg);
	memset(&f, 0, sizeof f);
	FixAlloc_Alloc(&f);
}

START_TEST(test_alloc_before_init)
{
	char *out;
	int status;

	expect_fatal(alloc_before_init_body, nil, "runtime: internal error");
	// The detail line comes first.
	out = run_child(alloc_before_init_body, nil, &status, nil);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	ck_assert_msg(strcmp(out, "runtime: use of FixAlloc_Alloc before FixAlloc_Init\n"
		"fatal error: runtime: internal error\n") == 0, "stderr:\n%s", out);
	free(out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fixalloc");
	TCase *tc;

	tc = new_tcase("fixalloc");
	tcase_add_test(tc, test_fixalloc_48);
	tcase_add_test(tc, test_fixalloc_4000);
	tcase_add_test(tc, test_fixalloc_exact_chunk);
	tcase_add_test(tc, test_fixalloc_nohook);
	tcase_add_test(tc, test_fixalloc_stat_moves);
	suite_add_tcase(s, tc);

	tc = new_tcase("death");
	tcase_add_test(tc, test_alloc_before_init);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
