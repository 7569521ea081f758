/* amqppub: the reference for bench/parts/70-amqp.sh, a plain rabbitmq-c
 * publisher doing what the amqp sink does per message and nothing else:
 * the lines of BODIES (events as the file sink wrote them, made before the
 * clock starts) as persistent messages to EXCHANGE (topic) with the sink's
 * properties (content type, message id run:seq, timestamp, app id), routing
 * key shape and mandatory flag, with publisher confirms, in windows of WINDOW messages, each
 * window's confirms awaited before the next. The same bodies and
 * properties as the sink's, so the broker and the bench's consumer do the
 * same work for both. Prints the messages sent and when its clock started
 * and stopped (CLOCK_MONOTONIC, ns, which every process shares): several
 * publishers together are measured as all their messages over the span
 * from the first start to the last stop, as the sink's workers are. Then
 * the CPU time it used between those clocks (ns; its bodies were read
 * before), as the sink reports its replay's.
 *
 *   amqppub PORT EXCHANGE COUNT WINDOW BODIES MANDATORY(0|1) */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static long long cpu_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

struct body {
	char *p;
	size_t n;
	char run[40]; /* the event's run and seq: its message id, as the sink's */
	unsigned long long seq;
};

/* The file's lines, without their newlines; how many (0: none, or no
 * memory). */
static size_t read_bodies(const char *path, struct body **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = 0, cap = 0, len = 0;
	char *line = NULL;
	ssize_t got;
	struct body *b = NULL;
	while ((got = getline(&line, &len, f)) > 1) {
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			struct body *nb = realloc(b, cap * sizeof(*b));
			if (!nb)
				break;
			b = nb;
		}
		b[n].n = (size_t)got - (line[got - 1] == '\n');
		b[n].p = malloc(b[n].n);
		if (!b[n].p)
			break;
		memcpy(b[n].p, line, b[n].n);
		const char *r = strstr(line, "\"run\":\""), *q = strstr(line, "\"seq\":");
		if (!r || !q || sscanf(r + 7, "%39[^\"]", b[n].run) != 1 ||
		    sscanf(q + 6, "%llu", &b[n].seq) != 1) {
			fprintf(stderr, "amqppub: %s line %zu: no run or seq\n", path, n + 1);
			free(b[n].p);
			break;
		}
		n++;
	}
	free(line);
	fclose(f);
	*out = b;
	return n;
}

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
	if (argc != 7) {
		fprintf(stderr, "usage: amqppub PORT EXCHANGE COUNT WINDOW BODIES MANDATORY\n");
		return 2;
	}
	int port = atoi(argv[1]);
	long count = atol(argv[3]), window = atol(argv[4]);
	int mandatory = atoi(argv[6]);
	struct body *bodies;
	size_t nbodies = read_bodies(argv[5], &bodies);
	if (!nbodies) {
		fprintf(stderr, "amqppub: no bodies in %s\n", argv[5]);
		return 1;
	}
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
	amqp_basic_properties_t props = {
	    ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG |
		      AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
		      AMQP_BASIC_APP_ID_FLAG,
	    .delivery_mode = 2,
	    .content_type = amqp_cstring_bytes("application/json"),
	    .app_id = amqp_cstring_bytes("sensorbus"),
	};
	char id[80];
	struct timespec t0, t1;
	long long cpu0 = cpu_ns();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long sent = 0; sent < count;) {
		long n = count - sent < window ? count - sent : window;
		for (long i = 0; i < n; i++) {
			const struct body *b = &bodies[(size_t)(sent + i) % nbodies];
			int idl = snprintf(id, sizeof(id), "%s:%llu", b->run, b->seq);
			props.message_id = (amqp_bytes_t){(size_t)idl, id};
			props.timestamp = (uint64_t)time(NULL);
			if (amqp_basic_publish(c, 1, amqp_cstring_bytes(argv[2]),
					       amqp_cstring_bytes("sensorbus.vm.synthetic.metrics"),
					       mandatory, 0, &props,
					       (amqp_bytes_t){b->n, b->p}) != AMQP_STATUS_OK) {
				fprintf(stderr, "amqppub: publish failed\n");
				return 1;
			}
		}
		sent += n;
		if (await_confirms(c, (uint64_t)sent))
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long cpu1 = cpu_ns();
	printf("%ld %lld %lld %lld\n", count, (long long)t0.tv_sec * 1000000000LL + t0.tv_nsec,
	       (long long)t1.tv_sec * 1000000000LL + t1.tv_nsec, cpu1 - cpu0);
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	for (size_t i = 0; i < nbodies; i++)
		free(bodies[i].p);
	free(bodies);
	return 0;
}
