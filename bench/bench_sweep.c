// Copyright 2026 The gort Authors. BSD-style license (see LICENSE).

// The seed change's table: the same workloads with the sweep in the pause
// (the parent commit, GODEBUG=concurrentsweep=0) and concurrent (the
// seed, concurrentsweep=1), in one run, printed as the commit message
// prints its go.benchmarks results:
//
//	garbage-1
//	allocated                 2983818      2990889      +0.24%
//	gc-pause-one            828462467    487875135     -41.11%
//	...
//
// Workloads (after golang/benchmarks of 2014, reduced to what a C program
// of gort can do):
//	garbage  a live heap of tens of MiB (a table of 256k records, 1% of
//	         them replaced per op) and a 64 KB tree of garbage per op
//	http     a server goroutine answering requests over channels; each
//	         request allocates ~8 KB of short-lived objects and touches a
//	         24 MiB live cache; latency-50/95/99 of the requests
//
// Each mode runs in its own process (the sweep mode is read at boot, and
// rss is a process's), this program spawning itself; -count=N runs each
// N times (alternating the modes) and reports the medians. Metrics, per op unless said:
//	allocated, allocs   bytes and objects allocated
//	cputime, time       CPU and wall ns
//	gc-pause-one        mean pause per collection (ns)
//	gc-pause-total      pause ns per op
//	latency-NN          request latency percentiles (http, ns)
//	rss                 peak resident set (bytes)
//	sys-gc, sys-heap, sys-other, sys-stack, sys-total   MemStats (bytes)
//	virtual-mem         peak virtual memory (bytes; gort reserves its arena)
//
//	bench_sweep [-bench=garbage,http] [-benchtime=3s] [-count=1] [-cpu=1]

#include <gort.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { MaxMetric = 24 };

typedef struct Metric Metric;
struct Metric
{
	char	name[32];
	double	v;
};

static const char *workload;
static double benchtime = 3.0;	// seconds
static int64_t nops;
static Metric out[MaxMetric];
static int nout;

static void
emit(const char *name, double v)
{
	snprintf(out[nout].name, sizeof out[nout].name, "%s", name);
	out[nout++].v = v;
}

// ---- garbage ---------------------------------------------------------------------

typedef struct Rec Rec;
struct Rec
{
	Rec	*left, *right;
	long	key;
	char	payload[104];	// 128 bytes in all
};

enum { NLIVE = 256*1024, TREE = 500 };
static Rec **live;

static Rec*
tree(int n, long key)
{
	Rec *r;

	if(n == 0)
		return NULL;
	r = gort_malloc(sizeof *r);
	r->key = key;
	r->left = tree((n-1)/2, key*2);
	r->right = tree(n-1-(n-1)/2, key*2+1);
	return r;
}

static void
garbage_setup(void)
{
	long i;

	live = gort_malloc(NLIVE * sizeof live[0]);
	for(i = 0; i < NLIVE; i++) {
		live[i] = gort_malloc(sizeof(Rec));
		live[i]->key = i;
	}
}

static uint64_t rnd = 88172645463325252ULL;

static uint64_t
xorshift(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static void
garbage_op(void)
{
	Rec *t;
	long i, j;

	t = tree(TREE, 1);
	if(t->key != 1)
		abort();
	for(i = 0; i < NLIVE/100; i++) {
		j = xorshift() % NLIVE;
		live[j] = gort_malloc(sizeof(Rec));
		live[j]->key = j;
	}
}

// ---- http ------------------------------------------------------------------------

enum { NCACHE = 192*1024, RESP = 64 };
typedef struct Req Req;
struct Req
{
	long	id;
	GortChan *reply;
};

static Rec **cache;
static GortChan *reqs;
static int64_t *lat;

static void
server(void *arg)
{
	Req r;
	Rec *resp, *prev;
	long i, sum;

	(void)arg;
	while(gort_chan_recv(reqs, &r)) {
		// A response of small objects, a look at the cache, an
		// update of it now and then.
		prev = NULL;
		sum = 0;
		for(i = 0; i < RESP; i++) {
			resp = gort_malloc(sizeof *resp);
			resp->key = r.id + i;
			resp->left = prev;
			prev = resp;
			sum += cache[(r.id*31 + i) % NCACHE]->key;
		}
		if(r.id % 4 == 0) {
			i = xorshift() % NCACHE;
			cache[i] = gort_malloc(sizeof(Rec));
			cache[i]->key = i;
		}
		prev->key = sum;
		gort_chan_send(r.reply, &prev);
	}
}

static void
http_setup(void)
{
	long i;

	cache = gort_malloc(NCACHE * sizeof cache[0]);
	for(i = 0; i < NCACHE; i++) {
		cache[i] = gort_malloc(sizeof(Rec));
		cache[i]->key = i;
	}
	reqs = gort_chan_make(sizeof(Req), 0);
	gort_go(server, NULL);
}

static GortChan *myreply;

static void
http_op(void)
{
	Req r;
	Rec *resp;
	int64_t t0;

	if(myreply == NULL)
		myreply = gort_chan_make(sizeof(Rec*), 0);
	r.id = nops;
	r.reply = myreply;
	t0 = gort_nanotime();
	gort_chan_send(reqs, &r);
	gort_chan_recv(myreply, &resp);
	lat[nops] = gort_nanotime() - t0;
	if(resp == NULL)
		abort();
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;

	return x < y ? -1 : x > y;
}

// ---- the child: one workload in one mode ---------------------------------------------

static uint64_t
rssbytes(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_maxrss * 1024;
}

// Peak virtual memory (VmPeak), as the go.benchmarks driver reports it.
// gort reserves its whole arena up front, so this is large and the same
// in both modes.
static double
vmpeak(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if(f == NULL)
		return 0;
	while(fgets(line, sizeof line, f) != NULL)
		if(sscanf(line, "VmPeak: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (double)kb * 1024;
}

static double
cpunow(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

static void
child(void *arg)
{
	GortMemStats m0, m1;
	void (*op)(void);
	int64_t t0, t1, deadline, cap;
	double c0, c1, n;
	int i;

	(void)arg;
	cap = 50000000;
	lat = calloc(cap, sizeof lat[0]);
	if(strcmp(workload, "garbage") == 0) {
		garbage_setup();
		op = garbage_op;
	} else {
		http_setup();
		op = http_op;
	}
	// Warm up to a steady heap: a few ops, one collection.
	for(i = 0; i < 50; i++)
		op();
	gort_gc();
	nops = 0;
	gort_read_memstats(&m0);
	c0 = cpunow();
	t0 = gort_nanotime();
	deadline = t0 + (int64_t)(benchtime * 1e9);
	while(nops < cap) {
		op();
		nops++;
		if((nops & 15) == 0 && gort_nanotime() >= deadline)
			break;
	}
	t1 = gort_nanotime();
	c1 = cpunow();
	gort_read_memstats(&m1);

	n = (double)nops;
	emit("allocated", (double)(m1.TotalAlloc - m0.TotalAlloc) / n);
	emit("allocs", (double)(m1.Mallocs - m0.Mallocs) / n);
	emit("cputime", (c1 - c0) / n);
	emit("gc-pause-one", m1.NumGC > m0.NumGC ?
		(double)(m1.PauseTotalNs - m0.PauseTotalNs) / (m1.NumGC - m0.NumGC) : 0);
	emit("gc-pause-total", (double)(m1.PauseTotalNs - m0.PauseTotalNs) / n);
	if(op == http_op) {
		qsort(lat, nops, sizeof lat[0], cmp64);
		emit("latency-50", (double)lat[nops*50/100]);
		emit("latency-95", (double)lat[nops*95/100]);
		emit("latency-99", (double)lat[nops*99/100]);
	}
	emit("numgc", (double)(m1.NumGC - m0.NumGC));
	emit("rss", (double)rssbytes());
	emit("sys-gc", (double)m1.GCSys);
	emit("sys-heap", (double)m1.HeapSys);
	emit("sys-other", (double)(m1.OtherSys + m1.MSpanSys + m1.MCacheSys + m1.BuckHashSys));
	emit("sys-stack", (double)m1.StackSys);
	emit("sys-total", (double)m1.Sys);
	emit("time", (double)(t1 - t0) / n);
	emit("virtual-mem", vmpeak());
	for(i = 0; i < nout; i++)
		printf("METRIC %s %.0f\n", out[i].name, out[i].v);
	printf("OPS %" PRId64 "\n", nops);
	fflush(stdout);
	exit(0);	// the server goroutine need not be stopped
}

// ---- the parent: both modes, the table ---------------------------------------------

static int
runchild(const char *self, const char *wl, int concurrent, const char *cpu, Metric *m, int64_t *ops)
{
	char cmd[1024], line[256], name[64];
	double v;
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof cmd, "GODEBUG=concurrentsweep=%d GOMAXPROCS=%s '%s' -child=%s -benchtime=%gs",
		concurrent, cpu, self, wl, benchtime);
	f = popen(cmd, "r");
	if(f == NULL)
		return -1;
	while(fgets(line, sizeof line, f) != NULL) {
		if(sscanf(line, "METRIC %63s %lf", name, &v) == 2 && n < MaxMetric) {
			snprintf(m[n].name, sizeof m[n].name, "%s", name);
			m[n++].v = v;
		} else
			sscanf(line, "OPS %" SCNd64, ops);
	}
	if(pclose(f) != 0)
		return -1;
	return n;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double*)a, y = *(const double*)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static Metric runs[2][16][MaxMetric];
	const char *benches = "garbage,http", *cpu = "1";
	char self[4096], wl[32];
	const char *p, *q;
	int count = 1, i, k, mode, nm = 0;
	int64_t ops[2];
	double vals[16], med[2];
	ssize_t len;

	for(i = 1; i < argc; i++) {
		if(strncmp(argv[i], "-child=", 7) == 0)
			workload = argv[i] + 7;
		else if(strncmp(argv[i], "-benchtime=", 11) == 0)
			benchtime = atof(argv[i] + 11);
		else if(strncmp(argv[i], "-count=", 7) == 0)
			count = atoi(argv[i] + 7);
		else if(strncmp(argv[i], "-bench=", 7) == 0)
			benches = argv[i] + 7;
		else if(strncmp(argv[i], "-cpu=", 5) == 0)
			cpu = argv[i] + 5;
		else {
			fprintf(stderr, "usage: bench_sweep [-bench=garbage,http] [-benchtime=3s] [-count=1] [-cpu=1]\n");
			return 2;
		}
	}
	if(workload != NULL)
		return gort_main(child, NULL);
	if(count < 1 || count > 16 || benchtime <= 0) {
		fprintf(stderr, "bench_sweep: bad -count or -benchtime\n");
		return 2;
	}
	len = readlink("/proc/self/exe", self, sizeof self - 1);
	if(len <= 0)
		return 1;
	self[len] = 0;

	printf("# gort: sweep in the pause (old: GODEBUG=concurrentsweep=0, the parent commit) vs\n"
	       "# concurrent sweep (new: concurrentsweep=1, the seed change); GOMAXPROCS=%s,\n"
	       "# benchtime=%gs, median of %d process(es) per mode\n", cpu, benchtime, count);
	for(p = benches; *p; p = *q ? q+1 : q) {
		q = strchr(p, ',');
		if(q == NULL)
			q = p + strlen(p);
		snprintf(wl, sizeof wl, "%.*s", (int)(q - p), p);
		if(strcmp(wl, "garbage") != 0 && strcmp(wl, "http") != 0) {
			fprintf(stderr, "bench_sweep: no workload %s\n", wl);
			return 2;
		}
		// Alternate the modes, so that a slow stretch of a noisy machine
		// does not land on one mode only.
		for(k = 0; k < count; k++) {
			for(mode = 0; mode < 2; mode++) {
				nm = runchild(self, wl, mode, cpu, runs[mode][k], &ops[mode]);
				if(nm <= 0) {
					fprintf(stderr, "bench_sweep: %s run failed\n", wl);
					return 1;
				}
			}
		}
		printf("\n%s-%s\n", wl, cpu);
		for(i = 0; i < nm; i++) {
			if(strcmp(runs[0][0][i].name, "numgc") == 0)
				continue;
			for(mode = 0; mode < 2; mode++) {
				for(k = 0; k < count; k++)
					vals[k] = runs[mode][k][i].v;
				qsort(vals, count, sizeof vals[0], cmpd);
				med[mode] = vals[count/2];
			}
			printf("%-20s %16.0f %12.0f %+10.2f%%\n", runs[0][0][i].name, med[0], med[1],
				med[0] != 0 ? (med[1] - med[0]) * 100 / med[0] : 0.0);
		}
		for(mode = 0; mode < 2; mode++)
			for(i = 0; i < nm; i++)
				if(strcmp(runs[mode][0][i].name, "numgc") == 0)
					printf("# %s: %.0f collections in the last run\n", mode ? "new" : "old", runs[mode][count-1][i].v);
	}
	return 0;
}
