// sieve: Go's concurrent prime sieve on gort goroutines and channels.
//
// A generator goroutine sends 2, 3, 4, ... on a channel; each prime found
// starts a filter goroutine that passes on only the numbers its prime
// does not divide, so the chain grows by one goroutine per prime.
//
//   ./sieve [N]    print the first N primes (default 1000)
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Filter { GortChan *in, *out; long prime; } Filter;

static void
generate(void *arg)
{
	GortChan *ch = arg;
	long i;

	for(i = 2;; i++)
		gort_chan_send(ch, &i);
}

static void
filter(void *arg)
{
	Filter *f = arg;
	long i;

	for(;;) {
		gort_chan_recv(f->in, &i);
		if(i % f->prime != 0)
			gort_chan_send(f->out, &i);
	}
}

static long nprimes = 1000;

static void
sieve(void *arg)
{
	GortChan *ch;
	Filter *f;
	long i, prime = 0;
	int64_t t0, t1;

	(void)arg;
	t0 = gort_nanotime();
	ch = gort_chan_make(sizeof(long), 0);
	gort_go(generate, ch);
	for(i = 0; i < nprimes; i++) {
		gort_chan_recv(ch, &prime);
		if(i < 10 || i >= nprimes - 3)
			printf("%ld\n", prime);
		else if(i == 10)
			printf("...\n");
		// In the GC heap, reachable from the filter's stack.
		f = gort_malloc(sizeof *f);
		f->in = ch;
		f->out = gort_chan_make(sizeof(long), 0);
		f->prime = prime;
		gort_go(filter, f);
		ch = f->out;
	}
	t1 = gort_nanotime();
	printf("sieve: the first %ld primes (the last is %ld) with %ld filter goroutines in a chain, "
	       "%.1f ms (GOMAXPROCS %d, %d goroutines alive)\n",
	       nprimes, prime, nprimes, (t1 - t0) / 1e6, gort_gomaxprocs(0), gort_num_goroutine());
}

int
main(int argc, char **argv)
{
	if(argc > 1)
		nprimes = atol(argv[1]);
	if(nprimes < 1)
		nprimes = 1;
	return gort_main(sieve, NULL);
}
