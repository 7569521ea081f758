/* The link's own framing of basic.publish (src/sinks/amqp_frames.c), read
 * back by rabbitmq-c's frame decoder: what a broker parses must be the
 * method, properties and body that amqp_basic_publish would have sent. */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/sinks/amqp_frames.h"
#include "../../src/sinks/amqp_lib.h"

static struct {
	void *h;
	amqp_connection_state_t (*new_conn)(void);
	int (*destroy)(amqp_connection_state_t);
	int (*handle_input)(amqp_connection_state_t, amqp_bytes_t, amqp_frame_t *);
	void (*release)(amqp_connection_state_t);
	amqp_socket_t *(*tcp_new)(amqp_connection_state_t);
	int (*sock_open)(amqp_socket_t *, const char *, int);
	int (*publish)(amqp_connection_state_t, amqp_channel_t, amqp_bytes_t, amqp_bytes_t,
		       amqp_boolean_t, amqp_boolean_t, const amqp_basic_properties_t *,
		       amqp_bytes_t);
	int (*frame_max)(amqp_connection_state_t);
} rmq;

static int setup(void **state)
{
	(void)state;
	char err[256];
	if (sb_amqp_lib_open(err, sizeof(err)))
		return 0; /* each test says skip */
	rmq.h = dlopen("librabbitmq.so.4", RTLD_NOW);
	if (!rmq.h)
		return 0;
	*(void **)&rmq.new_conn = dlsym(rmq.h, "amqp_new_connection");
	*(void **)&rmq.destroy = dlsym(rmq.h, "amqp_destroy_connection");
	*(void **)&rmq.handle_input = dlsym(rmq.h, "amqp_handle_input");
	*(void **)&rmq.release = dlsym(rmq.h, "amqp_release_buffers");
	*(void **)&rmq.tcp_new = dlsym(rmq.h, "amqp_tcp_socket_new");
	*(void **)&rmq.sock_open = dlsym(rmq.h, "amqp_socket_open");
	*(void **)&rmq.publish = dlsym(rmq.h, "amqp_basic_publish");
	*(void **)&rmq.frame_max = dlsym(rmq.h, "amqp_get_frame_max");
	return 0;
}

static void need_lib(void)
{
	if (!rmq.h || !rmq.new_conn || !rmq.handle_input || !rmq.publish) {
		fprintf(stderr, "SKIP: librabbitmq.so.4 is not installed\n");
		skip();
	}
}

/* One decoded frame of the message: its type and what the test checks. */
struct got {
	int type;
	uint16_t channel;
	amqp_method_number_t method;
	char exchange[64], rkey[64];
	bool mandatory;
	uint64_t body_size;
	char ctype[64], type_prop[64], mid[64], app[64];
	uint8_t dmode;
	uint64_t ts;
	amqp_flags_t flags;
	size_t frag;
};

static size_t decode_all(const struct sb_amqp_fbuf *b, struct got *out, size_t max,
			 unsigned char *body, size_t bodymax, size_t *bodylen)
{
	amqp_connection_state_t c = rmq.new_conn();
	size_t off = 0, n = 0;
	*bodylen = 0;
	while (off < b->len) {
		amqp_frame_t f;
		memset(&f, 0, sizeof(f));
		int used = rmq.handle_input(c, (amqp_bytes_t){b->len - off, b->p + off}, &f);
		assert_true(used > 0);
		off += (size_t)used;
		if (!f.frame_type)
			continue;
		assert_true(n < max);
		struct got *g = &out[n++];
		memset(g, 0, sizeof(*g));
		g->type = f.frame_type;
		g->channel = f.channel;
		if (f.frame_type == AMQP_FRAME_METHOD) {
			g->method = f.payload.method.id;
			amqp_basic_publish_t *m = f.payload.method.decoded;
			snprintf(g->exchange, sizeof(g->exchange), "%.*s", (int)m->exchange.len,
				 (char *)m->exchange.bytes);
			snprintf(g->rkey, sizeof(g->rkey), "%.*s", (int)m->routing_key.len,
				 (char *)m->routing_key.bytes);
			g->mandatory = m->mandatory;
		} else if (f.frame_type == AMQP_FRAME_HEADER) {
			amqp_basic_properties_t *p = f.payload.properties.decoded;
			g->body_size = f.payload.properties.body_size;
			g->flags = p->_flags;
			snprintf(g->ctype, sizeof(g->ctype), "%.*s", (int)p->content_type.len,
				 (char *)p->content_type.bytes);
			/* the decoder fills only the properties flagged */
			if (p->_flags & AMQP_BASIC_TYPE_FLAG)
				snprintf(g->type_prop, sizeof(g->type_prop), "%.*s",
					 (int)p->type.len, (char *)p->type.bytes);
			snprintf(g->mid, sizeof(g->mid), "%.*s", (int)p->message_id.len,
				 (char *)p->message_id.bytes);
			snprintf(g->app, sizeof(g->app), "%.*s", (int)p->app_id.len,
				 (char *)p->app_id.bytes);
			g->dmode = p->delivery_mode;
			g->ts = p->timestamp;
		} else if (f.frame_type == AMQP_FRAME_BODY) {
			g->frag = f.payload.body_fragment.len;
			assert_true(*bodylen + g->frag <= bodymax);
			memcpy(body + *bodylen, f.payload.body_fragment.bytes, g->frag);
			*bodylen += g->frag;
		}
		rmq.release(c);
	}
	rmq.destroy(c);
	return n;
}

static amqp_bytes_t s(const char *x) { return (amqp_bytes_t){strlen(x), (void *)x}; }

static void props(amqp_basic_properties_t *p, const char *type, const char *mid)
{
	memset(p, 0, sizeof(*p));
	p->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		    AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG;
	p->content_type = s("application/x-protobuf");
	p->delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p->message_id = s(mid);
	p->timestamp = 1700000000;
	p->app_id = s("sensorbus");
	if (type) {
		p->_flags |= AMQP_BASIC_TYPE_FLAG;
		p->type = s(type);
	}
}

static void test_messages_decode_as_rabbitmq_c_reads_them(void **state)
{
	(void)state;
	need_lib();
	struct sb_amqp_fbuf b = {0};
	static unsigned char body[10000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(i * 7 + 3);
	amqp_basic_properties_t p;
	amqp_basic_publish_t m = {.exchange = s("sensorbus"),
				  .routing_key = s("sensorbus.h1.proc.metrics"),
				  .mandatory = 1};
	/* frame_max 4096: the body takes three frames of at most 4088 bytes */
	props(&p, "sensorbus.v1.Event", "r1:7");
	assert_int_equal(sb_amqp_frames_publish(&b, 1, 4096, &m, &p, body, sizeof(body)), 0);
	/* an empty body has no body frame, as amqp_basic_publish sends it */
	props(&p, NULL, "r1:8");
	m.mandatory = 0;
	assert_int_equal(sb_amqp_frames_publish(&b, 1, 4096, &m, &p, "", 0), 0);

	struct got g[8];
	static unsigned char back[10000];
	size_t bl;
	size_t n = decode_all(&b, g, 8, back, sizeof(back), &bl);
	assert_int_equal(n, 7);
	assert_int_equal(g[0].type, AMQP_FRAME_METHOD);
	assert_int_equal(g[0].channel, 1);
	assert_int_equal(g[0].method, AMQP_BASIC_PUBLISH_METHOD);
	assert_string_equal(g[0].exchange, "sensorbus");
	assert_string_equal(g[0].rkey, "sensorbus.h1.proc.metrics");
	assert_true(g[0].mandatory);
	assert_int_equal(g[1].type, AMQP_FRAME_HEADER);
	assert_int_equal(g[1].body_size, sizeof(body));
	assert_string_equal(g[1].ctype, "application/x-protobuf");
	assert_string_equal(g[1].type_prop, "sensorbus.v1.Event");
	assert_string_equal(g[1].mid, "r1:7");
	assert_string_equal(g[1].app, "sensorbus");
	assert_int_equal(g[1].dmode, AMQP_DELIVERY_PERSISTENT);
	assert_int_equal(g[1].ts, 1700000000);
	assert_int_equal(g[2].type, AMQP_FRAME_BODY);
	assert_int_equal(g[2].frag, 4088);
	assert_int_equal(g[3].frag, 4088);
	assert_int_equal(g[4].frag, 10000 - 2 * 4088);
	assert_int_equal(bl, sizeof(body));
	assert_memory_equal(back, body, sizeof(body));
	assert_int_equal(g[5].type, AMQP_FRAME_METHOD);
	assert_false(g[5].mandatory);
	assert_int_equal(g[6].type, AMQP_FRAME_HEADER);
	assert_int_equal(g[6].body_size, 0);
	assert_false(g[6].flags & AMQP_BASIC_TYPE_FLAG);
	assert_string_equal(g[6].mid, "r1:8");
	sb_amqp_fbuf_free(&b);
}

/* The same message through amqp_basic_publish to a socket of ours: the
 * bytes on the wire must be the same. */
static void test_the_bytes_are_those_amqp_basic_publish_sends(void **state)
{
	(void)state;
	need_lib();
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	amqp_connection_state_t c = rmq.new_conn();
	amqp_socket_t *sk = rmq.tcp_new(c);
	assert_int_equal(rmq.sock_open(sk, "127.0.0.1", ntohs(a.sin_port)), 0);
	int peer = accept(ls, NULL, NULL);
	assert_true(peer >= 0);

	static unsigned char body[300000]; /* more than frame_max: several frames */
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(i * 13 + 1);
	amqp_basic_properties_t p;
	props(&p, "sensorbus.v1.EventBatch", "0123456789abcdef:1-100");
	amqp_basic_publish_t m = {
	    .exchange = s("sensorbus"), .routing_key = s("a.b.c"), .mandatory = 1};
	assert_int_equal(rmq.publish(c, 1, m.exchange, m.routing_key, 1, 0, &p,
				     (amqp_bytes_t){sizeof(body), body}),
			 AMQP_STATUS_OK);
	struct sb_amqp_fbuf b = {0};
	assert_int_equal(
	    sb_amqp_frames_publish(&b, 1, (uint32_t)rmq.frame_max(c), &m, &p, body, sizeof(body)),
	    0);
	unsigned char *wire = malloc(b.len);
	size_t got = 0;
	while (got < b.len) {
		ssize_t r = read(peer, wire + got, b.len - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_memory_equal(wire, b.p, b.len);
	free(wire);
	sb_amqp_fbuf_free(&b);
	rmq.destroy(c);
	close(peer);
	close(ls);
}

/* A small message "abc" to exchange x, key k: its frames appended to b. */
static int put_small(struct sb_amqp_fbuf *b, amqp_basic_publish_t *m, amqp_basic_properties_t *p)
{
	props(p, NULL, "r1:1");
	*m = (amqp_basic_publish_t){.exchange = s("x"), .routing_key = s("k")};
	return sb_amqp_frames_publish(b, 1, 131072, m, p, "abc", 3);
}

static void test_a_field_too_long_leaves_the_buffer_as_it_was(void **state)
{
	(void)state;
	need_lib();
	struct sb_amqp_fbuf b = {0};
	amqp_basic_properties_t p;
	amqp_basic_publish_t m;
	assert_int_equal(put_small(&b, &m, &p), 0);
	size_t len = b.len;
	/* a short string holds at most 255 bytes */
	char longkey[300];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	m.routing_key = s(longkey);
	assert_int_equal(sb_amqp_frames_publish(&b, 1, 131072, &m, &p, "abc", 3), -EINVAL);
	assert_int_equal(b.len, len);
	assert_int_equal(sb_amqp_frames_publish(&b, 1, 8, &m, &p, "abc", 3), -EINVAL);
	sb_amqp_fbuf_free(&b);
}

static void test_send_writes_everything_and_empties_the_buffer(void **state)
{
	(void)state;
	need_lib();
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct sb_amqp_fbuf b = {0};
	amqp_basic_properties_t p;
	amqp_basic_publish_t m;
	assert_int_equal(put_small(&b, &m, &p), 0);
	size_t len = b.len;
	unsigned char copy[512];
	memcpy(copy, b.p, len);
	assert_int_equal(sb_amqp_frames_send(&b, sv[0]), 0);
	assert_int_equal(b.len, 0);
	unsigned char in[512];
	assert_int_equal(read(sv[1], in, sizeof(in)), (ssize_t)len);
	assert_memory_equal(in, copy, len);
	/* the peer gone: an error, not a hang */
	close(sv[1]);
	assert_int_equal(put_small(&b, &m, &p), 0);
	assert_true(sb_amqp_frames_send(&b, sv[0]) < 0);
	close(sv[0]);
	sb_amqp_fbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages_decode_as_rabbitmq_c_reads_them),
	    cmocka_unit_test(test_the_bytes_are_those_amqp_basic_publish_sends),
	    cmocka_unit_test(test_a_field_too_long_leaves_the_buffer_as_it_was),
	    cmocka_unit_test(test_send_writes_everything_and_empties_the_buffer),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
