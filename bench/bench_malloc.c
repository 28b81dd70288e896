// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go testing package, Copyright 2009 The Go Authors.

// bench_malloc: allocator benchmarks, driven the way Go's testing package
// drives a benchmark, each loop also run against glibc malloc/free in the
// same process. Malloc8 and Malloc16 are Go's (runtime/malloc_test.go:
// new(int64), new([2]int64), pointer-free); Malloc128, MallocLarge and
// MallocFree are gort's.
//
//	bench_malloc [-bench=regexp] [-benchtime=d]
//
// -bench selects benchmarks by a POSIX extended regular expression
// matched anywhere in the name, as go test does (so a plain substring
// works, and "." selects all); without it every benchmark runs. A pattern
// a/b also filters the variants: b is matched against "gort", "glibc"
// and "glibc-calloc". -benchtime is a Go duration (0.5s, 200ms, 1m30s;
// default 1s) or, as in newer Go, Nx for exactly N iterations.
//
// Output is go test's: one line per benchmark,
//
//	BenchmarkMalloc8        50000000        11.41 ns/op        8 B/op        0 allocs/op
//
// (name padded to the longest name, tab separated), which benchstat reads,
// with "goos:"/"goarch:"/"pkg:"/"cpu:" config lines first and "#" comment
// lines for everything else, among them a ratio line after each benchmark:
//
//	# Malloc8: gort/glibc = 0.42x
//
// The driver (run) is Go 1.3's B.launch: run b.N = 1, then predict the N
// that fills the benchtime from the last run, take 1.5x that, grow at most
// 100x, round up to 1, 2, 3 or 5 x 10^k, and repeat until a run lasts the
// benchtime (or N reaches 1e9). ns/op is printed with modern Go's
// precision (four significant figures below 1000 ns). B/op and allocs/op
// are the deltas of MemStats.TotalAlloc and MemStats.Mallocs across the
// timed region divided by N, exactly as testing does; gort_read_memstats
// is exact, and is called outside the timed region (so is Go's).
//
// There is no garbage collector yet. The loops of Malloc8, Malloc16 and
// Malloc128 never free (that is the benchmark: Go's collector frees for
// it), so their N is capped so that N*size <= MemCap (512 MiB) per run:
// such a run may last less than the benchtime, and a "#" line says so.
// Every other gort loop frees what it allocates in the loop. gort cannot
// give the leaked memory back (tiny blocks cannot be freed at all), so a
// run leaves a few GiB of gort heap behind (the last line tells how much);
// that is expected.
//
// The glibc loops call malloc/free (calloc for MallocLarge/glibc-calloc).
// glibc's memory is not zeroed and gort's is. The non-freeing glibc loops
// are capped the same way; to free their blocks afterwards (outside the
// timed region) they chain each block to the previous one through its
// first word, one store into a line malloc has just touched, and call
// malloc_trim after freeing them (see freechain). gort's
// MemStats cannot see glibc, so the glibc lines have no B/op or allocs/op
// columns (go test omits them too when they are not measured).

#include <gort.h>
#include <inttypes.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum
{
	LargeSize = 64<<10,	// MallocLarge: a large object (> 32 KB): 8 pages
	FreeSize = 64,		// MallocFree
	MaxNameLen = 64,
};

// Non-freeing loops: at most this many bytes per run.
static const int64_t MemCap = (int64_t)512<<20;
// Go's limit on b.N.
static const int64_t MaxN = 1000000000;

// glibc's <malloc.h> is shadowed by gort's malloc/malloc.h on the
// include path of the internal library, so declare the one call we need.
extern int malloc_trim(size_t pad);

// Keep p alive and opaque, so that the compiler neither drops an unused
// allocation nor folds a malloc/free pair away.
static inline void
escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

// ---- the loops ---------------------------------------------------------------
//
// Each runs n iterations and returns the head of a chain of blocks to free
// after timing (glibc's non-freeing loops), or NULL.

static void*
gort_malloc8(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_malloc_noscan(8));	// Go: new(int64)
	return NULL;
}

static void*
gort_malloc16(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_malloc_noscan(16));	// Go: new([2]int64)
	return NULL;
}

static void*
gort_malloc128(int64_t n)
{
	for(int64_t i = 0; i < n; i++)
		escape(gort_malloc(128));
	return NULL;
}

static void*
gort_malloclarge(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = gort_malloc_noscan(LargeSize);
		escape(p);
		gort_free(p);
	}
	return NULL;
}

static void*
gort_mallocfree(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = gort_malloc(FreeSize);
		escape(p);
		gort_free(p);
	}
	return NULL;
}

static inline void*
glibc_leak(int64_t n, size_t size)
{
	void *head = NULL;

	for(int64_t i = 0; i < n; i++) {
		void **p = malloc(size);
		if(p == NULL) {
			fprintf(stderr, "bench_malloc: glibc malloc(%zu) failed\n", size);
			exit(1);
		}
		*p = head;
		head = p;
	}
	escape(head);
	return head;
}

static void*
glibc_malloc8(int64_t n)
{
	return glibc_leak(n, 8);
}

static void*
glibc_malloc16(int64_t n)
{
	return glibc_leak(n, 16);
}

static void*
glibc_malloc128(int64_t n)
{
	return glibc_leak(n, 128);
}

static void*
glibc_malloclarge(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = malloc(LargeSize);
		escape(p);
		free(p);
	}
	return NULL;
}

static void*
glibc_calloclarge(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = calloc(1, LargeSize);
		escape(p);
		free(p);
	}
	return NULL;
}

static void*
glibc_mallocfree(int64_t n)
{
	for(int64_t i = 0; i < n; i++) {
		void *p = malloc(FreeSize);
		escape(p);
		free(p);
	}
	return NULL;
}

// Free a chain of glibc blocks, then have glibc coalesce them and give
// the memory back (malloc_trim), so that the next timed run does not pay
// for consolidating millions of fastbin chunks (glibc does that the
// first time its top chunk runs out, which would land in some later run).
static void
freechain(void *head)
{
	if(head == NULL)
		return;
	while(head != NULL) {
		void *next = *(void**)head;
		free(head);
		head = next;
	}
	malloc_trim(0);
}

// ---- the benchmarks ------------------------------------------------------------

typedef struct Variant Variant;
struct Variant
{
	const char *sub;	// nil: gort itself (BenchmarkX); else BenchmarkX/sub
	void *(*fn)(int64_t n);
	bool gort;		// measure MemStats
};

typedef struct Bench Bench;
struct Bench
{
	const char *name;	// without "Benchmark"
	int64_t leak;		// bytes a non-freeing loop keeps per op (for MemCap), else 0
	Variant v[3];		// v[0] is gort; the rest are compared with it
	int nv;
};

static const Bench benches[] = {
	{"Malloc8", 8, {{NULL, gort_malloc8, true}, {"glibc", glibc_malloc8, false}}, 2},
	{"Malloc16", 16, {{NULL, gort_malloc16, true}, {"glibc", glibc_malloc16, false}}, 2},
	{"Malloc128", 128, {{NULL, gort_malloc128, true}, {"glibc", glibc_malloc128, false}}, 2},
	{"MallocLarge", 0, {{NULL, gort_malloclarge, true}, {"glibc", glibc_malloclarge, false},
			    {"glibc-calloc", glibc_calloclarge, false}}, 3},
	{"MallocFree", 0, {{NULL, gort_mallocfree, true}, {"glibc", glibc_mallocfree, false}}, 2},
};
enum { NBench = sizeof benches / sizeof benches[0] };

typedef struct Result Result;
struct Result
{
	int64_t n;		// iterations of the last run
	int64_t ns;		// its duration
	uint64_t bytes;		// its TotalAlloc delta
	uint64_t allocs;	// its Mallocs delta
};

// ---- flags -------------------------------------------------------------------------

static struct
{
	int64_t benchtime;	// ns
	int64_t benchiters;	// > 0: -benchtime=Nx
	const char *benchtimestr;
	bool filter;
	regex_t re1;		// matched against "BenchmarkX"
	bool hassub;
	regex_t re2;		// matched against the variant
	int procs;
} flags;

// Parse a Go duration (time.ParseDuration) into ns. Returns false on a
// malformed string.
static bool
parseduration(const char *s, int64_t *out)
{
	static const struct { const char *unit; double ns; } units[] = {
		{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
		{"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
	};
	double total;
	bool neg;

	neg = false;
	if(*s == '-' || *s == '+')
		neg = *s++ == '-';
	if(strcmp(s, "0") == 0) {
		*out = 0;
		return true;
	}
	if(*s == '\0')
		return false;
	total = 0;
	while(*s != '\0') {
		const char *start;
		char *end;
		double v;
		size_t k, best, bestlen;

		start = s;
		while((*s >= '0' && *s <= '9') || *s == '.')
			s++;
		if(s == start || (s == start+1 && *start == '.'))
			return false;
		v = strtod(start, &end);
		if(end != s)
			return false;
		// The longest unit that matches ("ms" before "m").
		best = 0;
		bestlen = 0;
		for(k = 0; k < sizeof units / sizeof units[0]; k++) {
			size_t l = strlen(units[k].unit);
			if(strncmp(s, units[k].unit, l) == 0 && l > bestlen) {
				best = k;
				bestlen = l;
			}
		}
		if(bestlen == 0)
			return false;
		total += v * units[best].ns;
		s += bestlen;
	}
	if(total > 9.2e18)
		return false;
	*out = (int64_t)(neg ? -total : total);
	return true;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: bench_malloc [-bench=regexp] [-benchtime=d]\n"
		"  -bench=regexp   run the benchmarks whose name matches (default: all;\n"
		"                  a/b also matches the variant: gort, glibc, glibc-calloc)\n"
		"  -benchtime=d    run each benchmark for at least d (Go duration, default 1s),\n"
		"                  or Nx for exactly N iterations\n");
	exit(2);
}

static void
compile(regex_t *re, const char *pat)
{
	int err;
	char msg[256];

	err = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
	if(err != 0) {
		regerror(err, re, msg, sizeof msg);
		fprintf(stderr, "bench_malloc: invalid regexp for -bench: %s: %s\n", pat, msg);
		exit(2);
	}
}

static void
setbench(const char *pat)
{
	const char *slash;
	char *first;

	if(flags.filter) {
		regfree(&flags.re1);
		if(flags.hassub)
			regfree(&flags.re2);
	}
	flags.filter = false;
	flags.hassub = false;
	if(*pat == '\0')
		return;		// empty: all
	slash = strchr(pat, '/');
	if(slash == NULL) {
		compile(&flags.re1, pat);
	} else {
		first = strndup(pat, (size_t)(slash - pat));
		if(first == NULL)
			abort();
		compile(&flags.re1, first);
		free(first);
		compile(&flags.re2, slash+1);
		flags.hassub = true;
	}
	flags.filter = true;
}

static void
setbenchtime(const char *s)
{
	size_t l;
	char *end;
	long long n;

	flags.benchtimestr = s;
	l = strlen(s);
	if(l > 1 && s[l-1] == 'x') {
		n = strtoll(s, &end, 10);
		if(end != s+l-1 || n <= 0) {
			fprintf(stderr, "bench_malloc: invalid -benchtime %s: want a count >= 1 before x\n", s);
			exit(2);
		}
		flags.benchiters = n;
		flags.benchtime = 0;
		return;
	}
	if(!parseduration(s, &flags.benchtime) || flags.benchtime < 0) {
		fprintf(stderr, "bench_malloc: invalid -benchtime %s: want a duration such as 0.5s\n", s);
		exit(2);
	}
	flags.benchiters = 0;
}

// Go's flag syntax: -f=v, -f v, with one or two dashes; the test. prefix
// of go test's binaries is accepted too.
static void
parseflags(int argc, char **argv)
{
	int i;

	flags.benchtime = 1000000000;
	flags.benchtimestr = "1s";
	for(i = 1; i < argc; i++) {
		const char *a, *val, *eq;
		char name[32];
		size_t l;

		a = argv[i];
		if(a[0] != '-')
			usage();
		a++;
		if(a[0] == '-')
			a++;
		if(strncmp(a, "test.", 5) == 0)
			a += 5;
		eq = strchr(a, '=');
		l = eq ? (size_t)(eq - a) : strlen(a);
		if(l == 0 || l >= sizeof name)
			usage();
		memcpy(name, a, l);
		name[l] = '\0';
		if(strcmp(name, "h") == 0 || strcmp(name, "help") == 0)
			usage();
		if(strcmp(name, "benchmem") == 0)
			continue;	// always on
		if(strcmp(name, "bench") != 0 && strcmp(name, "benchtime") != 0) {
			fprintf(stderr, "bench_malloc: unknown flag -%s\n", name);
			usage();
		}
		if(eq != NULL)
			val = eq + 1;
		else if(i+1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "bench_malloc: flag -%s needs a value\n", name);
			usage();
		}
		if(strcmp(name, "bench") == 0)
			setbench(val);
		else
			setbenchtime(val);
	}
}

static bool
selected(const Bench *b, const Variant *v)
{
	char name[MaxNameLen];

	if(!flags.filter)
		return true;
	snprintf(name, sizeof name, "Benchmark%s", b->name);
	if(regexec(&flags.re1, name, 0, NULL, 0) != 0)
		return false;
	if(flags.hassub && regexec(&flags.re2, v->sub ? v->sub : "gort", 0, NULL, 0) != 0)
		return false;
	return true;
}

// ---- the driver (Go 1.3's testing.B) ------------------------------------------------

// roundDown10 rounds n down to a power of 10.
static int64_t
rounddown10(int64_t n)
{
	int64_t r;

	r = 1;
	while(n >= 10) {
		n /= 10;
		r *= 10;
	}
	return r;
}

// roundUp rounds n up to a number of the form 1eX, 2eX, 3eX or 5eX.
static int64_t
roundup(int64_t n)
{
	int64_t base;

	base = rounddown10(n);
	if(n <= base)
		return base;
	if(n <= 2*base)
		return 2*base;
	if(n <= 3*base)
		return 3*base;
	if(n <= 5*base)
		return 5*base;
	return 10*base;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

// The MemStats are big (PauseNs alone is 2 KB): keep them off the stack.
static GortMemStats ms0, ms1;

// b.runN: one timed run of n iterations. (Go's runN calls runtime.GC()
// first; there is no collector to call yet.)
static void
runn(const Variant *v, int64_t n, Result *r)
{
	int64_t t0, t1;
	void *chain;

	if(v->gort)
		gort_read_memstats(&ms0);	// b.StartTimer
	t0 = gort_nanotime();
	chain = v->fn(n);
	t1 = gort_nanotime();			// b.StopTimer
	if(v->gort)
		gort_read_memstats(&ms1);
	freechain(chain);			// outside the timed region
	r->n = n;
	r->ns = t1 - t0;
	r->bytes = v->gort ? ms1.TotalAlloc - ms0.TotalAlloc : 0;
	r->allocs = v->gort ? ms1.Mallocs - ms0.Mallocs : 0;
}

// b.launch: grow N until a run lasts the benchtime. maxn caps N for the
// non-freeing loops; *capped says whether the cap cut the run short.
static void
run(const Variant *v, int64_t maxn, Result *r, bool *capped)
{
	int64_t n, last, d;
	double predicted;

	*capped = false;
	if(flags.benchiters > 0) {
		n = flags.benchiters;
		if(n > maxn) {
			n = maxn;
			*capped = true;
		}
		runn(v, n, r);
		return;
	}
	d = flags.benchtime;
	n = 1;
	runn(v, n, r);
	while(r->ns < d && n < MaxN && n < maxn) {
		last = n;
		// Predict the iterations for d (multiplying first: for a fast
		// loop ns/op may be under 1), run 1.5x that, grow at most
		// 100x, at least by one, and round up to a readable number.
		predicted = (double)d * (double)r->n / (double)max64(r->ns, 1);
		n = predicted > (double)MaxN ? MaxN : (int64_t)predicted;
		n = max64(min64(n + n/2, 100*last), last+1);
		n = min64(roundup(n), MaxN);
		if(n >= maxn)
			n = maxn;
		runn(v, n, r);
	}
	*capped = n >= maxn && r->ns < d;
}

// ---- output ---------------------------------------------------------------------

// Modern go test's ns/op: ten places before the decimal point, four
// significant figures below 1000.
static void
prettyprint(double x, const char *unit)
{
	double y;

	y = x < 0 ? -x : x;
	if(y == 0 || y >= 999.95)
		printf("%10.0f %s", x, unit);
	else if(y >= 99.995)
		printf("%12.1f %s", x, unit);
	else if(y >= 9.9995)
		printf("%13.2f %s", x, unit);
	else if(y >= 0.99995)
		printf("%14.3f %s", x, unit);
	else if(y >= 0.099995)
		printf("%15.4f %s", x, unit);
	else if(y >= 0.0099995)
		printf("%16.5f %s", x, unit);
	else if(y >= 0.00099995)
		printf("%17.6f %s", x, unit);
	else
		printf("%18.7f %s", x, unit);
}

static void
benchname(char *buf, size_t len, const Bench *b, const Variant *v)
{
	char procs[16];

	procs[0] = '\0';
	if(flags.procs != 1)
		snprintf(procs, sizeof procs, "-%d", flags.procs);
	snprintf(buf, len, "Benchmark%s%s%s%s", b->name, v->sub ? "/" : "", v->sub ? v->sub : "", procs);
}

static void
cpuname(char *buf, size_t len)
{
	FILE *f;
	char line[256], *p;

	snprintf(buf, len, "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if(f == NULL)
		return;
	while(fgets(line, sizeof line, f) != NULL) {
		if(strncmp(line, "model name", 10) != 0 || (p = strchr(line, ':')) == NULL)
			continue;
		p++;
		while(*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\n")] = '\0';
		snprintf(buf, len, "%s", p);
		break;
	}
	fclose(f);
}

static void
bench(void *arg)
{
	char name[MaxNameLen], cpu[128];
	int maxlen, i, j;
	int64_t start;
	Result r[3];
	bool ran[3], capped;

	(void)arg;
	start = gort_nanotime();
	flags.procs = gort_gomaxprocs(0);

	// Pad the names to the longest selected one, as go test does.
	maxlen = 0;
	for(i = 0; i < NBench; i++)
		for(j = 0; j < benches[i].nv; j++) {
			if(!selected(&benches[i], &benches[i].v[j]))
				continue;
			benchname(name, sizeof name, &benches[i], &benches[i].v[j]);
			if((int)strlen(name) > maxlen)
				maxlen = (int)strlen(name);
		}
	if(maxlen == 0) {
		fprintf(stderr, "bench_malloc: warning: no benchmarks match -bench\n");
		return;
	}

	cpuname(cpu, sizeof cpu);
	printf("goos: linux\ngoarch: amd64\npkg: gort/bench\ncpu: %s\n", cpu);
	printf("# gort (Go 1.3 allocator) vs glibc malloc, same process, one thread; GOMAXPROCS=%d, benchtime=%s\n",
	       flags.procs, flags.benchtimestr);
	printf("# no GC yet: the gort loops of Malloc8/16/128 never free, every other gort loop frees:"
	       " MallocLarge = malloc_noscan(%d)+free, MallocFree = malloc(%d)+free\n", LargeSize, FreeSize);
	printf("# non-freeing loops: N capped per run so that N*size <= %" PRId64 " MiB, so a run may be short of the benchtime\n",
	       MemCap>>20);
	printf("# glibc: same loops with malloc/free (not zeroed; gort zeroes); its non-freeing loops"
	       " chain blocks through word 0 and free them (+ malloc_trim) after timing; no B/op, allocs/op (gort MemStats only)\n");
	printf("# B/op, allocs/op: TotalAlloc and Mallocs deltas / N; as in Go 1.3, Mallocs counts a 16-byte"
	       " tiny block once, however many tiny objects it holds\n");
	fflush(stdout);

	for(i = 0; i < NBench; i++) {
		const Bench *b = &benches[i];
		int64_t maxn;

		maxn = b->leak > 0 ? MemCap / b->leak : INT64_MAX;
		for(j = 0; j < b->nv; j++) {
			const Variant *v = &b->v[j];

			ran[j] = false;
			if(!selected(b, v))
				continue;
			benchname(name, sizeof name, b, v);
			printf("%-*s\t", maxlen, name);
			fflush(stdout);
			run(v, maxn, &r[j], &capped);
			ran[j] = true;
			printf("%8" PRId64 "\t", r[j].n);
			prettyprint((double)r[j].ns / (double)r[j].n, "ns/op");
			if(v->gort)
				printf("\t%8" PRIu64 " B/op\t%8" PRIu64 " allocs/op",
				       r[j].bytes / (uint64_t)r[j].n, r[j].allocs / (uint64_t)r[j].n);
			printf("\n");
			if(capped)
				printf("# %s%s%s: N capped at %" PRId64 " (%" PRId64 " MiB per run); the run took %.3fs\n",
				       b->name, v->sub ? "/" : "", v->sub ? v->sub : "", maxn,
				       maxn * b->leak >> 20, r[j].ns / 1e9);
			fflush(stdout);
		}
		for(j = 1; j < b->nv; j++)
			if(ran[0] && ran[j])
				printf("# %s: gort/%s = %.2fx\n", b->name, b->v[j].sub,
				       ((double)r[0].ns / (double)r[0].n) / ((double)r[j].ns / (double)r[j].n));
		fflush(stdout);
	}
	gort_read_memstats(&ms0);
	printf("# total %.3fs; gort heap left behind by the non-freeing loops: HeapAlloc %" PRIu64 " MiB, HeapSys %" PRIu64 " MiB\n",
	       (gort_nanotime() - start) / 1e9, ms0.HeapAlloc>>20, ms0.HeapSys>>20);
}

int
main(int argc, char **argv)
{
	parseflags(argc, argv);
	return gort_main(bench, NULL);
}
