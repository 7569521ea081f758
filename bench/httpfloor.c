/* httpfloor: what the kernel charges a server for one scrape over a new
 * loopback connection, with no HTTP library and no rendering
 * (bench/parts/30-footprint.sh).
 *
 *   httpfloor PORT BODY_BYTES REQUESTS
 *
 * Listens on 127.0.0.1:PORT; for each connection, on one epoll thread:
 * accept, read the request, send one prebuilt answer of BODY_BYTES with
 * its headers, and close when the client does, which is what a scrape by
 * curl costs any server. After REQUESTS connections it prints
 *
 *   requests N us_per_request U
 *
 * U: the thread's CPU time per connection, from the end of the first one
 * (its start-up is not a scrape's). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double thread_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: httpfloor PORT BODY_BYTES REQUESTS\n");
		return 2;
	}
	int port = atoi(argv[1]), want = atoi(argv[3]);
	long body = atol(argv[2]);
	if (port < 1 || port > 65535 || body < 0 || body > (64L << 20) || want < 2) {
		fprintf(stderr, "httpfloor: bad PORT, BODY_BYTES (up to 64 MiB) or REQUESTS "
				"(at least 2)\n");
		return 2;
	}
	char *answer = malloc((size_t)body + 128);
	if (!answer)
		return 1;
	int head = snprintf(answer, 128,
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			    "Content-Length: %ld\r\n\r\n",
			    body);
	memset(answer + head, 'x', (size_t)body);
	size_t len = (size_t)head + (size_t)body;

	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	if (l < 0 || ep < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 64) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev)) {
		fprintf(stderr, "httpfloor: 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	char buf[16384];
	int done = 0;
	double t0 = 0;
	while (done < want) {
		struct epoll_event e[16];
		int n = epoll_wait(ep, e, 16, -1);
		if (n < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			int fd = e[i].data.fd, c;
			if (fd == l) {
				while ((c = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
					struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP,
								 .data.fd = c};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce))
						close(c);
				}
				continue;
			}
			ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0) {
				/* a request in one segment, as curl sends it; the
				 * answer sent whole (the socket blocks) */
				if (send(fd, answer, len, MSG_NOSIGNAL) < 0)
					r = 0;
				else
					continue;
			}
			if (r < 0 && errno == EAGAIN)
				continue;
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			if (++done == 1)
				t0 = thread_us();
		}
	}
	printf("requests %d us_per_request %.1f\n", done - 1, (thread_us() - t0) / (done - 1));
	return 0;
}
