/* floor: what the kernel charges for a round of the agent's file reads,
 * with none of the agent's own work (bench/parts/30-footprint.sh).
 *
 *   floor ROUNDS INTERVAL_MS FILE...
 *
 * Opens each FILE once and keeps it open, as the agent does. Then it wakes
 * ROUNDS times on a periodic timerfd through epoll (the agent's loop), and
 * on every second wake reads each file once with pread from offset 0, in
 * 8 KiB steps; the other wakes read nothing. Its thread's CPU time (the
 * clock the agent's per-thread figures come from) over the two kinds of
 * round gives:
 *
 *   files N wake_us W reads_us R
 *
 * W: a wake that does nothing (timer, epoll, the switch in and out);
 * R: what the reads add to it. Interleaving the two kinds of round puts
 * both in the same window, under the same load as the agents measured
 * beside it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 8192
static char buf[CHUNK];

static double thread_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: floor ROUNDS INTERVAL_MS FILE...\n");
		return 2;
	}
	int rounds = atoi(argv[1]);
	long ms = atol(argv[2]);
	if (rounds < 2 || ms < 1) {
		fprintf(stderr, "floor: ROUNDS must be at least 2 and INTERVAL_MS at least 1\n");
		return 2;
	}
	int nf = argc - 3, n = 0;
	int *fd = calloc((size_t)nf, sizeof(*fd));
	if (!fd)
		return 1;
	for (int i = 0; i < nf; i++) {
		fd[n] = open(argv[3 + i], O_RDONLY | O_CLOEXEC);
		if (fd[n] < 0)
			fprintf(stderr, "floor: %s: %s (left out)\n", argv[3 + i], strerror(errno));
		else
			n++;
	}
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct itimerspec its = {
	    .it_interval = {ms / 1000, (ms % 1000) * 1000000},
	    .it_value = {ms / 1000, (ms % 1000) * 1000000},
	};
	struct epoll_event ev = {.events = EPOLLIN};
	if (tfd < 0 || ep < 0 || timerfd_settime(tfd, 0, &its, NULL) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev)) {
		fprintf(stderr, "floor: timer: %s\n", strerror(errno));
		return 1;
	}
	double spent[2] = {0, 0};
	int count[2] = {0, 0};
	volatile unsigned long sum = 0; /* the bytes are looked at, as a parser would */
	double t = thread_us();
	for (int r = 0; r < rounds; r++) {
		struct epoll_event got;
		uint64_t ticks;
		if (epoll_wait(ep, &got, 1, -1) != 1 || read(tfd, &ticks, sizeof(ticks)) < 0)
			return 1;
		int reads = r & 1;
		if (reads)
			for (int i = 0; i < n; i++) {
				/* 8 KiB at a time, as the agent asks: a sysctl file
				 * costs the kernel a zeroed buffer of the size asked */
				ssize_t k, off = 0;
				while ((k = pread(fd[i], buf, CHUNK, off)) == CHUNK)
					off += k;
				for (ssize_t j = 0; j < k; j += 64)
					sum += (unsigned char)buf[j];
			}
		/* the round is charged up to its next wait, as the agent's is */
		double now = thread_us();
		spent[reads] += now - t;
		count[reads]++;
		t = now;
	}
	double wake = spent[0] / count[0], both = spent[1] / count[1];
	printf("files %d wake_us %.1f reads_us %.1f\n", n, wake, both - wake);
	return 0;
}
