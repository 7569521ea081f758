/* The `agent` sensor: sensorbus watching itself. Every interval it publishes
 * (source "agent", kind "metrics") what the bus counted per source and per
 * sink, each sink's own telemetry (breaker, spool, ...), each sensor's
 * rounds and errors, the agent process' own process_* metrics read from
 * /proc/self, build info, and readiness: the prom sink's /readyz answers
 * from these samples, since only this sensor sees every sensor and sink.
 *
 * Everything here runs on the loop thread and only reads counters, so the
 * cost is a few hundred samples a round whatever the event rate. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_agent.h"
#include "sb_bus.h"
#include "sb_log.h"
#include "sb_sensor.h"

#define COMP "sensor:agent"

struct agent_cfg {
	bool process;
};

struct sensor_seen {
	const struct sb_sensor *s;
	uint64_t rounds;
	int64_t changed; /* monotonic ns when rounds last moved */
};

struct agent_state {
	long ticks; /* clock ticks per second */
	long pagesize;
	double btime; /* boot time, s since the epoch */
	struct sb_buf buf;
	struct sb_evb tb; /* a sink's own telemetry, before it joins the event */
	struct sensor_seen *seen;
	size_t nseen;
	struct sb_ratelimit rl;
	/* kept open: a re-read is one pread, a count one fstat */
	int stat_fd, fd_dir;
};

static const struct sb_cfg_key agent_keys[] = {
    {"process", SB_CT_BOOL, offsetof(struct agent_cfg, process), "true",
     "publish the agent's own process_* metrics (CPU, memory, fds, threads)"},
    {0},
};

static int agent_init(struct sb_sensor *s)
{
	const struct agent_cfg *c = s->cfg;
	struct agent_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->stat_fd = st->fd_dir = -1;
	st->ticks = sysconf(_SC_CLK_TCK);
	st->pagesize = sysconf(_SC_PAGESIZE);
	st->rl.interval_ns = 60 * SB_NSEC_PER_SEC;
	sb_buf_init(&st->buf);
	sb_evb_init(&st->tb);
	/* The boot time does not change: read it once for the start time. */
	if (c->process && sb_read_file("/proc/stat", &st->buf, 1 << 20) >= 0) {
		const char *p = strstr(st->buf.data, "\nbtime ");
		if (p)
			st->btime = strtod(p + 7, NULL);
	}
	s->state = st;
	return 0;
}

static void sample(struct sb_evb *b, const char *name, enum sb_mtype t, double v, const char *help)
{
	sb_evb_sample(b, name, t, v);
	sb_evb_help(b, help);
}

static void labelled(struct sb_evb *b, const char *name, enum sb_mtype t, double v,
		     const char *help, const char *label, const char *value)
{
	sample(b, name, t, v, help);
	sb_evb_label(b, label, value);
}

static void per_source(void *arg, const char *src, uint64_t n)
{
	labelled(arg, "sensorbus_events_published_total", SB_COUNTER, (double)n,
		 "Events published on the bus, by source.", "source", src);
}

/* Whether the sink's own telemetry has the series name{sink[,reason]}. */
static bool provided(const struct sb_event *own, const char *name, const char *sink,
		     const char *reason)
{
	for (uint32_t i = 0; own && i < own->nsamples; i++) {
		const struct sb_sample *s = &own->samples[i];
		const char *sl = sb_sample_label(s, "sink"), *rl = sb_sample_label(s, "reason");
		if (!strcmp(s->name, name) && sl && !strcmp(sl, sink) &&
		    (reason ? rl && !strcmp(rl, reason) : !rl))
			return true;
	}
	return false;
}

/* A series the bus counts for every sink, unless the sink counts it itself
 * (the amqp sink's delivered means confirmed by the broker, not taken). */
static void sink_sample(struct sb_evb *b, const struct sb_event *own, const char *name,
			enum sb_mtype t, double v, const char *help, const char *sink,
			const char *reason)
{
	if (provided(own, name, sink, reason))
		return;
	labelled(b, name, t, v, help, "sink", sink);
	if (reason)
		sb_evb_label(b, "reason", reason);
}

static void copy_samples(struct sb_evb *b, const struct sb_event *ev)
{
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		sb_evb_sample(b, s->name, (enum sb_mtype)s->type, s->value);
		sb_evb_help(b, s->help);
		for (uint16_t j = 0; j < s->nlabels; j++)
			sb_evb_label(b, s->labels[j].name, s->labels[j].value);
		for (uint32_t j = 0; j < s->nbuckets; j++)
			sb_evb_bucket(b, s->buckets[j].le, s->buckets[j].count);
		if (s->type == SB_HISTOGRAM || s->type == SB_SUMMARY)
			sb_evb_sumcount(b, s->sum, s->count);
	}
}

/* Returns false when the sink says it is not healthy. */
static bool sink_samples(struct sb_sensor *self, struct agent_state *st, struct sb_sink *k)
{
	struct sb_evb *b = &self->evb;
	struct sb_event *own = NULL;
	if (k->ops->telemetry && k->state) {
		sb_evb_begin(&st->tb, "agent", "metrics");
		k->ops->telemetry(k, &st->tb);
		own = sb_evb_finish(&st->tb);
		if (!own) {
			self->errors++;
			sb_log_rl(&st->rl, SB_LOG_WARN, COMP,
				  "sink %s: cannot build its telemetry: %s", k->name,
				  strerror(-st->tb.err));
		}
	}
	struct sb_sink_stats ss;
	sb_sink_stats(k, &ss);
	const char *n = k->name;
	sink_sample(b, own, "sensorbus_sink_received_total", SB_COUNTER, (double)ss.received,
		    "Events that entered the sink's queue.", n, NULL);
	sink_sample(b, own, "sensorbus_sink_delivered_total", SB_COUNTER, (double)ss.written,
		    "Events the sink took (written, sent or spooled).", n, NULL);
	for (int r = 0; r < SB_DROP_MAX; r++)
		sink_sample(b, own, "sensorbus_sink_dropped_total", SB_COUNTER,
			    (double)ss.dropped[r], "Events the sink lost, by reason.", n,
			    sb_drop_reason_name((enum sb_drop_reason)r));
	sink_sample(b, own, "sensorbus_sink_queue_events", SB_GAUGE, (double)ss.queue_events,
		    "Events waiting in the sink's queue(s).", n, NULL);
	sink_sample(b, own, "sensorbus_sink_queue_bytes", SB_GAUGE, (double)ss.queue_bytes,
		    "Bytes of events waiting in the sink's queue(s).", n, NULL);
	sink_sample(b, own, "sensorbus_sink_queue_max_events", SB_GAUGE,
		    (double)k->common->queue_events * k->nshards,
		    "Bound of the sink's queue(s) in events.", n, NULL);
	sink_sample(b, own, "sensorbus_sink_queue_max_bytes", SB_GAUGE,
		    (double)k->common->queue_bytes * k->nshards,
		    "Bound of the sink's queue(s) in bytes.", n, NULL);
	sink_sample(b, own, "sensorbus_sink_in_flight", SB_GAUGE, (double)ss.in_flight,
		    "Events handed to the sink and not yet answered.", n, NULL);
	sink_sample(b, own, "sensorbus_sink_retries_total", SB_COUNTER, (double)ss.retries,
		    "Times the sink asked for a batch to be offered again.", n, NULL);
	sink_sample(b, own, "sensorbus_sink_batches_total", SB_COUNTER, (double)ss.batches,
		    "Batches handed to the sink.", n, NULL);
	sink_sample(b, own, "sensorbus_sink_stalled", SB_GAUGE, ss.stalled,
		    "1 when the sink holds events and has answered no batch for "
		    "max(5s, 2 flush_interval).",
		    n, NULL);
	bool healthy = (!k->ops->health || k->ops->health(k) == 0) && !ss.stalled;
	sink_sample(b, own, "sensorbus_sink_healthy", SB_GAUGE, healthy,
		    "1 when the sink reports itself healthy and is not stalled.", n, NULL);
	if (own) {
		copy_samples(b, own);
		sb_event_unref(own);
	}
	return healthy;
}

static struct sensor_seen *seen_of(struct agent_state *st, const struct sb_sensor *s)
{
	for (size_t i = 0; i < st->nseen; i++)
		if (st->seen[i].s == s)
			return &st->seen[i];
	struct sensor_seen *n = realloc(st->seen, (st->nseen + 1) * sizeof(*n));
	if (!n)
		return NULL;
	st->seen = n;
	n[st->nseen] = (struct sensor_seen){.s = s};
	return &n[st->nseen++];
}

/* Returns false when some sensor has stopped completing rounds: none in
 * three of its intervals (and at least three of the agent's), or none yet. */
static bool sensor_samples(struct sb_sensor *self, struct agent_state *st, int64_t now)
{
	size_t n;
	struct sb_sensor *const *sensors = sb_agent_sensors(self->agent, &n);
	struct sb_evb *b = &self->evb;
	bool all = true;
	for (size_t i = 0; i < n; i++) {
		const struct sb_sensor *s = sensors[i];
		struct sensor_seen *seen = seen_of(st, s);
		if (seen && s->rounds != seen->rounds) {
			seen->rounds = s->rounds;
			seen->changed = now;
		}
		int64_t iv = s->interval > self->interval ? s->interval : self->interval;
		/* a sensor that finished its work (synthetic `count`) is done, not stuck */
		bool running = s == self || s->finished ||
			       (s->rounds && seen && now - seen->changed <= 3 * iv);
		all &= running;
		labelled(b, "sensorbus_sensor_rounds_total", SB_COUNTER, (double)s->rounds,
			 "Collection rounds the sensor completed.", "sensor", s->name);
		labelled(b, "sensorbus_sensor_errors_total", SB_COUNTER, (double)s->errors,
			 "Read or publish failures of the sensor.", "sensor", s->name);
		labelled(b, "sensorbus_sensor_interval_seconds", SB_GAUGE,
			 (double)s->interval / 1e9, "The sensor's collection interval.", "sensor",
			 s->name);
		labelled(b, "sensorbus_sensor_running", SB_GAUGE, running,
			 "1 while the sensor completes rounds (one within three intervals).",
			 "sensor", s->name);
		if (s->ops && s->ops->telemetry && s->state)
			s->ops->telemetry(sensors[i], b);
	}
	return all;
}

/* Open fds but the one counting them. Linux 6.2+ gives the count as the
 * size of /proc/PID/fd, one fstat; before, it is 0 and the entries are
 * counted. */
static int count_fds(struct agent_state *st, const char *path)
{
	if (st->fd_dir < 0)
		st->fd_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat sb;
	if (st->fd_dir >= 0 && !fstat(st->fd_dir, &sb) && sb.st_size > 0)
		return (int)sb.st_size - 1;
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int n = 0, self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

static void process_samples(struct sb_sensor *s, struct agent_state *st)
{
	struct sb_evb *b = &s->evb;
	ssize_t r = -EBADF;
	if (st->stat_fd < 0)
		st->stat_fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	/* one line, well under a page: one read has it all */
	sb_buf_reset(&st->buf);
	if (st->stat_fd >= 0 && !sb_buf_reserve(&st->buf, 4096)) {
		r = pread(st->stat_fd, st->buf.data, st->buf.cap - 1, 0);
		r = r < 0 ? -errno : r;
		st->buf.len = r > 0 ? (size_t)r : 0;
		st->buf.data[st->buf.len] = 0;
	} else if (st->stat_fd < 0) {
		r = -errno;
	}
	/* Fields after the comm's closing parenthesis, which may hold spaces:
	 * state ppid ... utime(14) stime(15) ... num_threads(20) ...
	 * starttime(22) vsize(23) rss(24). */
	const char *p = r > 0 ? strrchr(st->buf.data, ')') : NULL;
	unsigned long long f[25] = {0};
	int got = 0;
	if (p) {
		p += 2;
		for (int i = 3; i <= 24 && *p; i++) {
			f[i] = i == 3 ? 0 : strtoull(p, NULL, 10);
			p = strchr(p, ' ');
			if (!p)
				break;
			p++;
			got = i;
		}
	}
	if (got < 24) {
		s->errors++;
		sb_log_rl(&st->rl, SB_LOG_WARN, COMP, "cannot read %s: %s", "/proc/self/stat",
			  r < 0 ? strerror((int)-r) : "unexpected format");
	} else {
		double tck = (double)st->ticks;
		sample(b, "process_cpu_seconds_total", SB_COUNTER, (double)(f[14] + f[15]) / tck,
		       "Total user and system CPU time spent in seconds.");
		sample(b, "process_virtual_memory_bytes", SB_GAUGE, (double)f[23],
		       "Virtual memory size in bytes.");
		sample(b, "process_resident_memory_bytes", SB_GAUGE,
		       (double)f[24] * (double)st->pagesize, "Resident memory size in bytes.");
		sample(b, "process_threads", SB_GAUGE, (double)f[20],
		       "Number of OS threads in the process.");
		if (st->btime > 0)
			sample(b, "process_start_time_seconds", SB_GAUGE,
			       st->btime + (double)f[22] / tck,
			       "Start time of the process since unix epoch in seconds.");
	}
	int fds = count_fds(st, "/proc/self/fd");
	if (fds >= 0)
		sample(b, "process_open_fds", SB_GAUGE, fds, "Number of open file descriptors.");
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		sample(b, "process_max_fds", SB_GAUGE, (double)rl.rlim_cur,
		       "Maximum number of open file descriptors.");
}

static void agent_collect(struct sb_sensor *s)
{
	const struct agent_cfg *c = s->cfg;
	struct agent_state *st = s->state;
	struct sb_evb *b = &s->evb;
	struct sb_bus *bus = sb_agent_bus(s->agent);
	int64_t now = sb_now_mono_ns();
	sb_evb_begin(b, "agent", "metrics");
	sample(b, "sensorbus_build_info", SB_GAUGE, 1,
	       "A metric with a constant '1' value labeled by the version and commit sensorbus "
	       "was built from.");
	sb_evb_label(b, "commit", SB_COMMIT);
	sb_evb_label(b, "version", SB_VERSION);
	sb_bus_foreach_source(bus, per_source, b);
	bool ready = true;
	for (size_t i = 0; i < sb_bus_nsinks(bus); i++)
		ready &= sink_samples(s, st, sb_bus_sink(bus, i));
	ready &= sensor_samples(s, st, now);
	if (c->process)
		process_samples(s, st);
	sample(b, "sensorbus_ready", SB_GAUGE, ready,
	       "1 when every sensor completes rounds and every sink is healthy.");
	sb_sensor_publish_evb(s);
	sb_sensor_round_done(s);
}

static void agent_destroy(struct sb_sensor *s)
{
	struct agent_state *st = s->state;
	if (!st)
		return;
	sb_buf_free(&st->buf);
	sb_evb_free(&st->tb);
	if (st->stat_fd >= 0)
		close(st->stat_fd);
	if (st->fd_dir >= 0)
		close(st->fd_dir);
	free(st->seen);
	free(st);
	s->state = NULL;
}

const struct sb_sensor_ops sb_sensor_agent = {
    .name = "agent",
    .observer = true,
    .desc = "the agent's own telemetry: bus, sinks, sensors, process, readiness",
    .keys = agent_keys,
    .cfg_size = sizeof(struct agent_cfg),
    .init = agent_init,
    .collect = agent_collect,
    .destroy = agent_destroy,
};
