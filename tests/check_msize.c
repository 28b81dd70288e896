// check_msize: the size classes (msize.c). The table InitSizes computes
// must be Go 1.3's, row by row (porting brief §2.1); SizeToClass must
// give the smallest class that fits every size 0..MaxSmallSize, and
// roundupsize must agree with it; MemStats.BySize carries the class
// sizes; an out-of-range size is a fatal error.
#include "testutil.h"
#include "malloc.h"

// The brief's §2.1 table, class:size/npages/objs, classes 1..66.
static const struct {
	int32 size;
	int32 npages;
	int32 objs;
} go13_classes[NumSizeClasses] = {
	[0] = {0, 0, 0},
	[1] = {8, 1, 1024}, [2] = {16, 1, 512}, [3] = {32, 1, 256},
	[4] = {48, 1, 170}, [5] = {64, 1, 128}, [6] = {80, 1, 102},
	[7] = {96, 1, 85}, [8] = {112, 1, 73}, [9] = {128, 1, 64},
	[10] = {144, 1, 56}, [11] = {160, 1, 51}, [12] = {176, 1, 46},
	[13] = {192, 1, 42}, [14] = {208, 1, 39}, [15] = {224, 1, 36},
	[16] = {240, 1, 34}, [17] = {256, 1, 32}, [18] = {288, 1, 28},
	[19] = {320, 1, 25}, [20] = {352, 1, 23}, [21] = {384, 1, 21},
	[22] = {416, 1, 19}, [23] = {448, 1, 18}, [24] = {480, 1, 17},
	[25] = {512, 1, 16}, [26] = {576, 1, 14}, [27] = {640, 1, 12},
	[28] = {704, 1, 11}, [29] = {768, 1, 10}, [30] = {896, 1, 9},
	[31] = {1024, 1, 8}, [32] = {1152, 1, 7}, [33] = {1280, 1, 6},
	[34] = {1408, 2, 11}, [35] = {1536, 1, 5}, [36] = {1664, 2, 9},
	[37] = {2048, 1, 4}, [38] = {2304, 2, 7}, [39] = {2560, 1, 3},
	[40] = {2816, 3, 8}, [41] = {3072, 2, 5}, [42] = {3328, 3, 7},
	[43] = {4096, 1, 2}, [44] = {4608, 3, 5}, [45] = {5376, 2, 3},
	[46] = {6144, 3, 4}, [47] = {6400, 4, 5}, [48] = {6656, 5, 6},
	[49] = {6912, 6, 7}, [50] = {8192, 1, 1}, [51] = {8448, 7, 6},
	[52] = {8704, 6, 5}, [53] = {9472, 5, 4}, [54] = {10496, 4, 3},
	[55] = {12288, 3, 2}, [56] = {13568, 5, 3}, [57] = {14080, 7, 4},
	[58] = {16384, 2, 1}, [59] = {16640, 9, 4}, [60] = {17664, 7, 3},
	[61] = {20480, 5, 2}, [62] = {21248, 8, 3}, [63] = {24576, 3, 1},
	[64] = {24832, 10, 3}, [65] = {28416, 7, 2}, [66] = {32768, 4, 1},
};

// The computed table equals Go 1.3's, row by row.
GORT_TEST(test_class_table)
{
	int32 c, objs;

	ck_assert_int_eq(NumSizeClasses, 67);
	ck_assert_int_eq(nelem(runtime_class_to_size), 67);
	ck_assert_int_eq(runtime_class_to_size[0], 0);
	ck_assert_int_eq(runtime_class_to_size[TinySizeClass], TinySize);
	ck_assert_int_eq(runtime_class_to_size[NumSizeClasses-1], MaxSmallSize);
	for(c = 1; c < NumSizeClasses; c++) {
		ck_assert_msg(runtime_class_to_size[c] == go13_classes[c].size,
			"class %d: size %d, want %d", c, runtime_class_to_size[c], go13_classes[c].size);
		ck_assert_msg(runtime_class_to_allocnpages[c] == go13_classes[c].npages,
			"class %d: npages %d, want %d", c, runtime_class_to_allocnpages[c], go13_classes[c].npages);
		objs = (runtime_class_to_allocnpages[c] << PageShift) / runtime_class_to_size[c];
		ck_assert_msg(objs == go13_classes[c].objs,
			"class %d: %d objects per span, want %d", c, objs, go13_classes[c].objs);
		// Strictly increasing, 8-aligned, above 1024 a multiple of 128
		// (what the two lookup tables rely on).
		ck_assert_int_gt(runtime_class_to_size[c], runtime_class_to_size[c-1]);
		ck_assert_int_eq(runtime_class_to_size[c] % 8, 0);
		if(runtime_class_to_size[c] > 1024)
			ck_assert_int_eq(runtime_class_to_size[c] % 128, 0);
		// The rule the classes were chosen by: the tail of a span
		// that fits no object is at most 1/8 of the span.
		ck_assert_int_le((runtime_class_to_allocnpages[c] << PageShift) % runtime_class_to_size[c],
			(runtime_class_to_allocnpages[c] << PageShift) / 8);
	}
	// MGetSizeClassInfo reports the same rows.
	for(c = 1; c < NumSizeClasses; c++) {
		uintptr size;
		int32 npages, nobj;

		MGetSizeClassInfo(c, &size, &npages, &nobj);
		ck_assert_uint_eq(size, (uintptr)go13_classes[c].size);
		ck_assert_int_eq(npages, go13_classes[c].npages);
		ck_assert_int_eq(nobj, go13_classes[c].objs);
	}
}

// Every size 0..MaxSmallSize maps to the smallest class that holds it.
GORT_TEST(test_size_to_class)
{
	int32 size, c;
	uintptr n, r;

	// Size 0 is filled with class 1, as Go's size_to_class8[0].
	ck_assert_int_eq(runtime_size_to_class8[0], 1);
	ck_assert_int_eq(runtime_SizeToClass(0), 1);
	ck_assert_uint_eq(runtime_roundupsize(0), 8);

	for(size = 0; size <= MaxSmallSize; size++) {
		// (Plain ifs: a passing ck_assert costs a message to the
		// parent process in fork mode.)
		c = runtime_SizeToClass(size);
		if(c < 1 || c >= NumSizeClasses)
			ck_abort_msg("SizeToClass(%d) = %d", size, c);
		if(runtime_class_to_size[c] < size)
			ck_abort_msg("SizeToClass(%d) = %d of size %d: too small", size, c, runtime_class_to_size[c]);
		if(c != 1 && runtime_class_to_size[c-1] >= size)
			ck_abort_msg("SizeToClass(%d) = %d, but class %d (size %d) fits", size, c, c-1, runtime_class_to_size[c-1]);
		if(size < MaxSmallSize && runtime_roundupsize(size) != (uintptr)runtime_class_to_size[c])
			ck_abort_msg("roundupsize(%d) = %zu, want %d", size, (size_t)runtime_roundupsize(size),
				runtime_class_to_size[c]);
	}
	ck_assert_int_eq(runtime_SizeToClass(MaxSmallSize), NumSizeClasses-1);
	ck_assert_int_eq(runtime_SizeToClass(1016), 31);
	ck_assert_int_eq(runtime_SizeToClass(1017), 31);
	ck_assert_int_eq(runtime_SizeToClass(1025), 32);
	ck_assert_int_eq(runtime_SizeToClass(16), TinySizeClass);
	ck_assert_int_eq(runtime_SizeToClass(17), 3);

	// At and above MaxSmallSize: whole pages.
	ck_assert_uint_eq(runtime_roundupsize(MaxSmallSize), MaxSmallSize);
	for(n = MaxSmallSize; n <= 4*MaxSmallSize + 3*PageSize; n++) {
		r = runtime_roundupsize(n);
		if(r % PageSize != 0 || r < n || r - n >= PageSize)
			ck_abort_msg("roundupsize(%zu) = %zu", (size_t)n, (size_t)r);
	}
	ck_assert_uint_eq(runtime_roundupsize(MaxSmallSize+1), MaxSmallSize + PageSize);
	ck_assert_uint_eq(runtime_roundupsize((uintptr)1<<30), (uintptr)1<<30);
	ck_assert_uint_eq(runtime_roundupsize(((uintptr)1<<30) + 1), ((uintptr)1<<30) + PageSize);
	// A size that would overflow when rounded is returned as is.
	ck_assert_uint_eq(runtime_roundupsize(~(uintptr)0 - 100), ~(uintptr)0 - 100);
}

// MemStats.BySize[i].Size is class i's size, for Go's 61 entries.
GORT_TEST(test_by_size_sizes)
{
	GortMemStats ms;
	uint32 i;

	memset(&ms, 0xff, sizeof ms);
	gort_read_memstats(&ms);
	ck_assert_int_eq(nelem(ms.BySize), 61);
	for(i = 0; i < nelem(ms.BySize); i++)
		ck_assert_msg(ms.BySize[i].Size == (uint32)runtime_class_to_size[i],
			"BySize[%u].Size = %u, want %d", i, ms.BySize[i].Size, runtime_class_to_size[i]);
	ck_assert_uint_eq(ms.BySize[0].Size, 0);
	ck_assert_uint_eq(ms.BySize[60].Size, 17664);
	// The internal table has every class.
	for(i = 0; i < NumSizeClasses; i++)
		ck_assert_uint_eq(mstats.by_size[i].size, (uint32)go13_classes[i].size);
}

// ---- death tests ------------------------------------------------------------

static void
size_too_big_body(void *arg)
{
	USED(arg);
	runtime_SizeToClass(MaxSmallSize + 1);
}

static void
size_negative_body(void *arg)
{
	USED(arg);
	runtime_SizeToClass(-1);
}

START_TEST(test_size_to_class_invalid)
{
	expect_fatal(size_too_big_body, nil, "SizeToClass - invalid size");
	expect_fatal(size_negative_body, nil, "SizeToClass - invalid size");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("msize");
	TCase *tc;

	tc = new_tcase("classes");
	tcase_add_test(tc, test_class_table);
	tcase_add_test(tc, test_size_to_class);
	tcase_add_test(tc, test_by_size_sizes);
	suite_add_tcase(s, tc);

	tc = new_tcase("death");
	tcase_add_test(tc, test_size_to_class_invalid);
	suite_add_tcase(s, tc);

	return run_suite(s);
}
