// pingpong: two goroutines bounce a counter over unbuffered channels.
//
//   ./pingpong [M]   M round trips (default 1,000,000), on GOMAXPROCS 1 and 2
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static long rounds = 1000000;
static GortChan *ping, *pong;

static void
player(void *arg)
{
	long v;

	(void)arg;
	while(gort_chan_recv(ping, &v)) {
		v++;
		gort_chan_send(pong, &v);
	}
}

static void
game(void *arg)
{
	long v, i;
	int procs;
	int64_t t0, dt;

	(void)arg;
	for(procs = 1; procs <= 2; procs++) {
		gort_gomaxprocs(procs);
		ping = gort_chan_make(sizeof(long), 0);
		pong = gort_chan_make(sizeof(long), 0);
		gort_go(player, NULL);
		v = 0;
		t0 = gort_nanotime();
		for(i = 0; i < rounds; i++) {
			gort_chan_send(ping, &v);
			gort_chan_recv(pong, &v);
		}
		dt = gort_nanotime() - t0;
		gort_chan_close(ping);
		printf("pingpong: GOMAXPROCS %d: %ld round trips, counter %ld, %.1f ms, %.0f ns per round trip\n",
		       procs, rounds, v, dt / 1e6, (double)dt / rounds);
	}
}

int
main(int argc, char **argv)
{
	if(argc > 1)
		rounds = atol(argv[1]);
	return gort_main(game, NULL);
}
