/* amqppub: the reference for bench/parts/70-amqp.sh, a plain rabbitmq-c
 * publisher doing what the amqp sink does per message and nothing else:
 * persistent messages of BYTES bytes to EXCHANGE (topic) with publisher
 * confirms, in windows of WINDOW messages, each window's confirms awaited
 * before the next. Prints events per second; what the broker allows one
 * such connection on this machine.
 *
 *   amqppub PORT EXCHANGE COUNT WINDOW BYTES */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int check(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	fprintf(stderr, "amqppub: %s failed (reply type %d)\n", what, r.reply_type);
	return -1;
}

/* Waits until every message up to tag `last` is confirmed. */
static int await_confirms(amqp_connection_state_t c, uint64_t last)
{
	uint64_t acked = 0;
	while (acked < last) {
		amqp_frame_t f;
		if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK)
			return -1;
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			amqp_basic_ack_t *a = f.payload.method.decoded;
			acked = a->delivery_tag;
		} else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
			fprintf(stderr, "amqppub: nack\n");
			return -1;
		}
		amqp_maybe_release_buffers(c);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: amqppub PORT EXCHANGE COUNT WINDOW BYTES\n");
		return 2;
	}
	int port = atoi(argv[1]);
	long count = atol(argv[3]), window = atol(argv[4]);
	size_t bytes = (size_t)atol(argv[5]);
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);
	if (!s || amqp_socket_open(s, "127.0.0.1", port)) {
		fprintf(stderr, "amqppub: cannot connect to 127.0.0.1:%d\n", port);
		return 1;
	}
	if (check(amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"),
		  "login"))
		return 1;
	amqp_channel_open(c, 1);
	if (check(amqp_get_rpc_reply(c), "channel.open"))
		return 1;
	/* the same durable topic exchange the sink declares */
	amqp_exchange_declare(c, 1, amqp_cstring_bytes(argv[2]), amqp_cstring_bytes("topic"), 0, 1,
			      0, 0, amqp_empty_table);
	if (check(amqp_get_rpc_reply(c), "exchange.declare"))
		return 1;
	amqp_confirm_select(c, 1);
	if (check(amqp_get_rpc_reply(c), "confirm.select"))
		return 1;
	char *body = malloc(bytes);
	if (!body)
		return 1;
	memset(body, 'x', bytes);
	amqp_basic_properties_t props = {
	    ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG,
	    .delivery_mode = 2,
	    .content_type = amqp_cstring_bytes("application/json"),
	};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long sent = 0; sent < count;) {
		long n = count - sent < window ? count - sent : window;
		for (long i = 0; i < n; i++)
			if (amqp_basic_publish(
				c, 1, amqp_cstring_bytes(argv[2]),
				amqp_cstring_bytes("sensorbus.bench.synthetic.metrics"), 0, 0,
				&props, (amqp_bytes_t){bytes, body}) != AMQP_STATUS_OK) {
				fprintf(stderr, "amqppub: publish failed\n");
				return 1;
			}
		sent += n;
		if (await_confirms(c, (uint64_t)sent))
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f\n", (double)count / secs);
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	free(body);
	return 0;
}
