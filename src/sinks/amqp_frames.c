/* basic.publish as AMQP 0-9-1 frames in a buffer of the link's own, so that
 * a slice of messages leaves in one send(2). rabbitmq-c's
 * amqp_basic_publish writes each of a message's three frames (method,
 * content header, body) with a send of its own: at one event a message
 * those syscalls were most of the sender's CPU, CPU the broker on the same
 * machine then lacked. The fields of the method and of the properties are
 * encoded by rabbitmq-c (amqp_encode_method, amqp_encode_properties); only
 * the framing is here (spec 4.2.3: type, channel, payload size, payload,
 * frame-end octet), as amqp_send_frame lays it out. */
#include "amqp_frames.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "amqp_lib.h"

#define FRAME_HEADER 7 /* type, channel, payload size */
#define FRAME_END 0xCE
/* a method's or a header's payload: basic.publish's fields and the basic
 * properties are short strings, a few tables and numbers */
#define SMALL_MAX 4096

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static int reserve(struct sb_amqp_fbuf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64 * 1024;
	while (cap < b->len + more)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Opens a frame at the end of b; its payload is written at the returned
 * pointer and closed by frame_close with its size. */
static unsigned char *frame_open(struct sb_amqp_fbuf *b, uint8_t type, uint16_t ch)
{
	unsigned char *f = b->p + b->len;
	f[0] = type;
	put16(f + 1, ch);
	return f + FRAME_HEADER;
}

static void frame_close(struct sb_amqp_fbuf *b, size_t payload)
{
	unsigned char *f = b->p + b->len;
	put32(f + 3, (uint32_t)payload);
	f[FRAME_HEADER + payload] = FRAME_END;
	b->len += FRAME_HEADER + payload + 1;
}

int sb_amqp_frames_publish(struct sb_amqp_fbuf *b, uint16_t ch, uint32_t frame_max,
			   amqp_basic_publish_t *m, amqp_basic_properties_t *p, const void *body,
			   size_t len)
{
	if (frame_max <= FRAME_HEADER + 1)
		return -EINVAL;
	size_t chunk = frame_max - FRAME_HEADER - 1;
	size_t nbody = (len + chunk - 1) / chunk;
	if (reserve(b, 2 * (FRAME_HEADER + 1 + SMALL_MAX) + len + nbody * (FRAME_HEADER + 1)))
		return -ENOMEM;
	size_t start = b->len;

	unsigned char *pl = frame_open(b, AMQP_FRAME_METHOD, ch);
	put32(pl, AMQP_BASIC_PUBLISH_METHOD);
	int r = sym_amqp_encode_method(AMQP_BASIC_PUBLISH_METHOD, m,
				       (amqp_bytes_t){SMALL_MAX - 4, pl + 4});
	if (r < 0)
		goto bad;
	frame_close(b, 4 + (size_t)r);

	pl = frame_open(b, AMQP_FRAME_HEADER, ch);
	put16(pl, AMQP_BASIC_CLASS);
	put16(pl + 2, 0); /* weight */
	put64(pl + 4, len);
	r = sym_amqp_encode_properties(AMQP_BASIC_CLASS, p,
				       (amqp_bytes_t){SMALL_MAX - 12, pl + 12});
	if (r < 0)
		goto bad;
	frame_close(b, 12 + (size_t)r);

	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		pl = frame_open(b, AMQP_FRAME_BODY, ch);
		memcpy(pl, (const char *)body + off, n);
		frame_close(b, n);
	}
	return 0;
bad:
	b->len = start;
	return -EINVAL; /* a field longer than AMQP allows */
}

int sb_amqp_frames_send(struct sb_amqp_fbuf *b, int fd)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t w = send(fd, b->p + off, b->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		/* The broker reads slowly (or not at all: a memory alarm): wait.
		 * One that never reads again is the supervisor's watchdog's to
		 * end, by shutting the socket down. */
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			return -errno;
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
			return -EPIPE;
	}
	b->len = 0;
	return 0;
}

void sb_amqp_fbuf_free(struct sb_amqp_fbuf *b)
{
	free(b->p);
	*b = (struct sb_amqp_fbuf){0};
}
