// fanout: a parallel fan-out/fan-in sum.
//
// The main goroutine splits an array over K workers (fan-out); each
// sends its partial sum on one result channel (fan-in); the main
// goroutine adds them and checks the total against a serial sum. Runs
// with GOMAXPROCS 1 and 2 to show the parallel speed-up.
//
//   ./fanout [N] [K]   N numbers (default 10,000,000), K workers (default 8)
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Part { const uint64_t *a; size_t n; GortChan *out; } Part;

static size_t n = 10000000;
static int k = 8;

static uint64_t
work(uint64_t x)
{
	int r;

	// Some arithmetic per element (a few rounds of a hash mix), so that
	// the sum is bound by the CPU, not by memory bandwidth.
	for(r = 0; r < 8; r++) {
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdULL;
	}
	x ^= x >> 33;
	return x & 0xffff;
}

static void
worker(void *arg)
{
	Part *p = arg;
	uint64_t s = 0, sum;
	size_t i;

	for(i = 0; i < p->n; i++)
		s += work(p->a[i]);
	// Send a copy: were s's address taken, gcc would store s to the
	// stack on every iteration, which halves the loop's speed here.
	sum = s;
	gort_chan_send(p->out, &sum);
}

static void
fanout(void *arg)
{
	uint64_t *a, serial, total, part;
	Part *parts;
	GortChan *results;
	size_t i;
	int procs, j;
	int64_t t0, t1, t1serial = 0;

	(void)arg;
	a = gort_malloc_noscan(n * sizeof *a);
	for(i = 0; i < n; i++)
		a[i] = i * 2654435761u;
	t0 = gort_nanotime();
	serial = 0;
	for(i = 0; i < n; i++)
		serial += work(a[i]);
	t1serial = gort_nanotime() - t0;
	printf("fanout: serial sum of %zu numbers: %llu in %.1f ms\n", n, (unsigned long long)serial, t1serial / 1e6);

	parts = gort_malloc(k * sizeof *parts);
	for(procs = 1; procs <= 2; procs++) {
		gort_gomaxprocs(procs);
		results = gort_chan_make(sizeof(uint64_t), 0);
		t0 = gort_nanotime();
		for(j = 0; j < k; j++) {
			parts[j].a = a + n * j / k;
			parts[j].n = n * (j + 1) / k - n * j / k;
			parts[j].out = results;
			gort_go(worker, &parts[j]);
		}
		total = 0;
		for(j = 0; j < k; j++) {
			gort_chan_recv(results, &part);
			total += part;
		}
		t1 = gort_nanotime() - t0;
		printf("fanout: GOMAXPROCS %d, %d workers: sum %llu (%s) in %.1f ms, %.2fx the serial loop\n",
		       procs, k, (unsigned long long)total, total == serial ? "matches" : "MISMATCH",
		       t1 / 1e6, (double)t1serial / t1);
		if(total != serial)
			exit(1);
	}
	gort_free(parts);
	gort_free(a);
}

int
main(int argc, char **argv)
{
	if(argc > 1)
		n = strtoull(argv[1], NULL, 10);
	if(argc > 2)
		k = atoi(argv[2]);
	if(k < 1)
		k = 1;
	return gort_main(fanout, NULL);
}
