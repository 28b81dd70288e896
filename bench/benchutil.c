// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
// Parts follow the design of the Go testing package, Copyright 2009 The Go Authors.

// The benchmark driver (see benchutil.h and bench_malloc.c).

#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"

// Go's limit on b.N.
static const int64_t MaxN = 1000000000;
static const char *progname = "bench";

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
	int procs;		// GOMAXPROCS at the start
	const char *cpustr;	// -cpu, or nil
	int cpu[MaxCPU];	// -cpu's list (go test's cpuList)
	int ncpu;
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
		"usage: %s [-bench=regexp] [-benchtime=d] [-cpu=list]\n"
		"  -bench=regexp   run the benchmarks whose name matches (default: all;\n"
		"                  a/b also matches the variant: gort, glibc, pthread, ...)\n"
		"  -benchtime=d    run each benchmark for at least d (Go duration, default 1s),\n"
		"                  or Nx for exactly N iterations\n"
		"  -cpu=list       run each benchmark with each GOMAXPROCS in the comma-separated\n"
		"                  list (default: GOMAXPROCS, as the environment sets it)\n", progname);
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
		fprintf(stderr, "%s: invalid regexp for -bench: %s: %s\n", progname, pat, msg);
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
			fprintf(stderr, "%s: invalid -benchtime %s: want a count >= 1 before x\n", progname, s);
			exit(2);
		}
		flags.benchiters = n;
		flags.benchtime = 0;
		return;
	}
	if(!parseduration(s, &flags.benchtime) || flags.benchtime < 0) {
		fprintf(stderr, "%s: invalid -benchtime %s: want a duration such as 0.5s\n", progname, s);
		exit(2);
	}
	flags.benchiters = 0;
}

// go test's parseCpuList: a comma-separated list of counts >= 1.
static void
setcpu(const char *s)
{
	const char *p;
	char *end;
	long v;

	flags.cpustr = s;
	flags.ncpu = 0;
	for(p = s; *p != '\0'; p = end) {
		while(*p == ' ' || *p == ',')
			p++;
		if(*p == '\0')
			break;
		v = strtol(p, &end, 10);
		while(*end == ' ')
			end++;
		if(end == p || (*end != ',' && *end != '\0') || v <= 0 || v > 1000000) {
			fprintf(stderr, "%s: invalid value \"%s\" for -cpu\n", progname, s);
			exit(2);
		}
		if(flags.ncpu == MaxCPU) {
			fprintf(stderr, "%s: -cpu: more than %d values\n", progname, MaxCPU);
			exit(2);
		}
		flags.cpu[flags.ncpu++] = (int)v;
	}
	if(flags.ncpu == 0)
		flags.cpustr = NULL;	// empty: the default, as in go test
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
		if(strcmp(name, "bench") != 0 && strcmp(name, "benchtime") != 0 && strcmp(name, "cpu") != 0) {
			fprintf(stderr, "%s: unknown flag -%s\n", progname, name);
			usage();
		}
		if(eq != NULL)
			val = eq + 1;
		else if(i+1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "%s: flag -%s needs a value\n", progname, name);
			usage();
		}
		if(strcmp(name, "bench") == 0)
			setbench(val);
		else if(strcmp(name, "cpu") == 0)
			setcpu(val);
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
// first; gort's driver does not, so that the figures stay comparable
// with the runs made before the collector landed.)
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
	if(v->cleanup != NULL)
		v->cleanup(chain);		// outside the timed region
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

// go test's name: BenchmarkX[/sub][-procs], procs shown unless 1.
static void
benchname(char *buf, size_t len, const Bench *b, const Variant *v, int cpu)
{
	char procs[16];

	procs[0] = '\0';
	if(cpu != 1)
		snprintf(procs, sizeof procs, "-%d", cpu);
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

static const Bench *benches;
static int NBench;
static void (*header)(void);
static void (*footer)(void);

int
bench_gomaxprocs(void)
{
	return flags.procs;
}

const char*
bench_benchtime(void)
{
	return flags.benchtimestr;
}

static void
bench(void *arg)
{
	char name[MaxNameLen], cpu[128], label[MaxNameLen];
	int maxlen, i, j, c, procs;
	int64_t start;
	Result r[3];
	bool ran[3], capped;

	(void)arg;
	start = gort_nanotime();
	flags.procs = gort_gomaxprocs(0);
	if(flags.ncpu == 0) {
		flags.cpu[0] = flags.procs;
		flags.ncpu = 1;
	}

	// Pad the names to the longest selected one, as go test does.
	maxlen = 0;
	for(i = 0; i < NBench; i++)
		for(j = 0; j < benches[i].nv; j++) {
			if(!selected(&benches[i], &benches[i].v[j]))
				continue;
			for(c = 0; c < flags.ncpu; c++) {
				benchname(name, sizeof name, &benches[i], &benches[i].v[j], flags.cpu[c]);
				if((int)strlen(name) > maxlen)
					maxlen = (int)strlen(name);
			}
		}
	if(maxlen == 0) {
		fprintf(stderr, "%s: warning: no benchmarks match -bench\n", progname);
		return;
	}

	cpuname(cpu, sizeof cpu);
	printf("goos: linux\ngoarch: amd64\npkg: gort/bench\ncpu: %s\n", cpu);
	if(header != NULL)
		header();
	if(flags.cpustr != NULL)
		printf("# -cpu=%s: each benchmark runs with each of these GOMAXPROCS (name suffix -N unless 1)\n",
		       flags.cpustr);
	fflush(stdout);

	for(i = 0; i < NBench; i++)
	for(c = 0; c < flags.ncpu; c++) {
		const Bench *b = &benches[i];
		int64_t maxn;

		procs = flags.cpu[c];
		maxn = b->leak > 0 ? MemCap / b->leak : INT64_MAX;
		for(j = 0; j < b->nv; j++) {
			const Variant *v = &b->v[j];

			ran[j] = false;
			if(!selected(b, v))
				continue;
			gort_gomaxprocs(procs);
			benchname(name, sizeof name, b, v, procs);
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
			if(gort_gomaxprocs(0) != procs)
				fprintf(stderr, "testing: %s left GOMAXPROCS set to %d\n", name, gort_gomaxprocs(0));
		}
		// The label of the ratio lines: the name, with -procs only
		// when -cpu lists several (the one-value output is unchanged).
		snprintf(label, sizeof label, "%s", b->name);
		if(flags.ncpu > 1 && procs != 1)
			snprintf(label, sizeof label, "%s-%d", b->name, procs);
		for(j = 1; j < b->nv; j++)
			if(ran[0] && ran[j])
				printf("# %s: gort/%s = %.3gx\n", label, b->v[j].sub,
				       ((double)r[0].ns / (double)r[0].n) / ((double)r[j].ns / (double)r[j].n));
		fflush(stdout);
	}
	gort_gomaxprocs(flags.procs);
	printf("# total %.3fs\n", (gort_nanotime() - start) / 1e9);
	if(footer != NULL)
		footer();
}

int
bench_main(const char *prog, int argc, char **argv, const Bench *b, int nb,
	void (*hdr)(void), void (*ftr)(void))
{
	progname = prog;
	benches = b;
	NBench = nb;
	header = hdr;
	footer = ftr;
	parseflags(argc, argv);
	return gort_main(bench, NULL);
}
