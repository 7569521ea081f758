#include "sb_agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sb_bus.h"
#include "sb_caps.h"
#include "sb_log.h"
#include "sb_loop.h"

int sb_sensor_publish(struct sb_sensor *s, struct sb_event *ev)
{
	return sb_bus_publish(s->bus, ev);
}

int sb_sensor_publish_evb(struct sb_sensor *s)
{
	struct sb_event *ev = sb_evb_finish(&s->evb);
	if (!ev) {
		s->errors++;
		sb_err(s->name, "cannot build event: %s", strerror(-s->evb.err));
		return s->evb.err;
	}
	return sb_bus_publish(s->bus, ev);
}

static void check_once_done(struct sb_agent *a)
{
	if (!a->opts.once || a->stopping)
		return;
	for (size_t i = 0; i < a->nsensors; i++)
		if (!a->sensors[i]->round_done)
			return;
	a->stopping = true;
	sb_loop_stop(a->loop);
}

void sb_sensor_round_done(struct sb_sensor *s)
{
	s->round_done = true;
	s->rounds++;
	check_once_done(s->agent);
}

void sb_sensor_finished(struct sb_sensor *s)
{
	struct sb_agent *a = s->agent;
	s->finished = true;
	if (s->timer)
		sb_timer_set(s->timer, 0, 0);
	for (size_t i = 0; i < a->nsensors; i++)
		if (!a->sensors[i]->finished && !a->sensors[i]->ops->observer)
			return;
	sb_info("agent", "every sensor has finished");
	a->stopping = true;
	sb_loop_stop(a->loop);
}

struct sb_bus *sb_agent_bus(struct sb_agent *a) { return a->bus; }

struct sb_sensor *const *sb_agent_sensors(const struct sb_agent *a, size_t *n)
{
	*n = a->nsensors;
	return a->sensors;
}

static void on_signal(void *arg, int signo)
{
	struct sb_agent *a = arg;
	if (signo == SIGHUP) {
		sb_info("agent", "SIGHUP: reopening output files, re-reading TLS certificates");
		sb_bus_reopen(a->bus);
		return;
	}
	sb_info("agent", "%s: shutting down", strsignal(signo));
	a->stopping = true;
	sb_loop_stop(a->loop);
}

/* A sink thread asked to stop (sb_sink_stop_agent): it wrote to the
 * eventfd, the loop ends here, on its own thread. */
static void on_stop_request(void *arg, int fd, uint32_t events)
{
	(void)events;
	struct sb_agent *a = arg;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		sb_warn("agent", "stop request: %s", strerror(errno));
	a->stopping = true;
	sb_loop_stop(a->loop);
}

/* After each burst of the loop's callbacks: an inline sink's work that
 * should follow the whole round (the prom sink's render ahead). */
static void bus_idle(void *arg) { sb_bus_idle(arg); }

static void ask_stop(void *arg)
{
	struct sb_agent *a = arg;
	uint64_t one = 1;
	if (write(a->stop_fd, &one, sizeof(one)) < 0)
		sb_warn("agent", "cannot ask the loop to stop: %s", strerror(errno));
}

static void on_stop_timer(void *arg)
{
	struct sb_agent *a = arg;
	if (a->opts.once && !a->stopping) {
		for (size_t i = 0; i < a->nsensors; i++)
			if (!a->sensors[i]->round_done)
				sb_warn("agent",
					"--once: sensor %s did not finish its round in time",
					a->sensors[i]->name);
	}
	a->stopping = true;
	sb_loop_stop(a->loop);
}

static void on_tick(void *arg)
{
	struct sb_sensor *s = arg;
	s->ops->collect(s);
}

static int start_sensors(struct sb_agent *a)
{
	struct sb_config *cfg = a->cfg;
	a->sensors = calloc(cfg->nsensors, sizeof(*a->sensors));
	if (!a->sensors)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nsensors; i++) {
		struct sb_sensor_conf *sc = &cfg->sensors[i];
		if (!sc->enabled)
			continue;
		struct sb_sensor *s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->ops = sc->ops;
		s->name = sc->ops->name;
		s->cfg = sc->cfg;
		s->ri = &a->ri;
		s->loop = a->loop;
		s->bus = a->bus;
		s->agent = a;
		s->interval = sc->common.interval ? sc->common.interval : cfg->interval;
		sb_evb_init(&s->evb);
		s->timer = sb_timer_new(a->loop, on_tick, s);
		if (!s->timer) {
			sb_evb_free(&s->evb);
			free(s);
			return -ENOMEM;
		}
		int r = s->ops->init ? s->ops->init(s) : 0;
		if (r < 0) {
			sb_err("agent", "sensor %s cannot start: %s", s->name, strerror(-r));
			sb_timer_free(s->timer);
			sb_evb_free(&s->evb);
			free(s);
			return r;
		}
		if (r > 0) { /* the sensor declined and said why */
			sb_timer_free(s->timer);
			sb_evb_free(&s->evb);
			free(s);
			continue;
		}
		a->sensors[a->nsensors++] = s;
	}
	return 0;
}

static void arm_sensors(struct sb_agent *a)
{
	for (size_t i = 0; i < a->nsensors; i++) {
		struct sb_sensor *s = a->sensors[i];
		/* first round at once, then on the interval */
		sb_timer_set(s->timer, 1, a->opts.once ? 0 : s->interval);
	}
}

static void stop_sensors(struct sb_agent *a)
{
	for (size_t i = 0; i < a->nsensors; i++) {
		struct sb_sensor *s = a->sensors[i];
		sb_timer_free(s->timer);
		s->timer = NULL;
		if (s->ops->destroy)
			s->ops->destroy(s);
		sb_evb_free(&s->evb);
		free(s);
	}
	free(a->sensors);
	a->sensors = NULL;
	a->nsensors = 0;
}

uint64_t sb_agent_caps_needed(const struct sb_config *cfg)
{
	uint64_t m = 0;
	for (size_t i = 0; i < cfg->nsensors; i++) {
		const struct sb_sensor_conf *sc = &cfg->sensors[i];
		if (sc->enabled && sc->ops->caps)
			m |= sc->ops->caps(sc->cfg);
	}
	for (size_t i = 0; i < cfg->nsinks; i++) {
		const struct sb_sink_conf *sk = &cfg->sinks[i];
		if (sk->ops->caps)
			m |= sk->ops->caps(sk->cfg);
	}
	return m;
}

/* Once the sensors are set up (BPF programs loaded and attached), the agent
 * keeps only what the enabled sensors and the sinks say they use from then
 * on (other users' /proc/<pid> files, algod's token, a port below 1024),
 * of what it was given, and becomes the configured user. Called before
 * any thread exists: capabilities are per thread, inherited, and the
 * sinks (which open after it, as that user) start threads. */
static int drop_capabilities(const struct sb_config *cfg, const struct sb_caps_user *u)
{
	uint64_t need = sb_agent_caps_needed(cfg);
	int keep[64];
	size_t nkeep = 0;
	for (int c = 0; c < 64; c++)
		if (need & SB_CAP(c))
			keep[nkeep++] = c;
	char kept[256];
	int r = sb_caps_drop(keep, nkeep, u, kept, sizeof(kept));
	if (r < 0 && u) {
		sb_err("agent", "cannot run as user \"%s\" (uid %u): %s", u->name, (unsigned)u->uid,
		       r == -EPERM ? "no privilege to switch users (start as root)" : strerror(-r));
		return r;
	}
	if (r < 0)
		sb_warn("agent", "cannot drop capabilities: %s", strerror(-r));
	else if (r > 0)
		sb_info("agent", "dropped %d capabilities; keeping %s", r, kept);
	if (u)
		sb_info("agent", "running as user %s (uid %u, gid %u)", u->name, (unsigned)u->uid,
			(unsigned)u->gid);
	return 0;
}

static void summary(struct sb_agent *a)
{
	double secs = (double)(sb_now_mono_ns() - a->started_mono) / 1e9;
	sb_info("agent", "stopped after %.1fs: %llu events published", secs,
		(unsigned long long)sb_bus_last_seq(a->bus));
	for (size_t i = 0; i < sb_bus_nsinks(a->bus); i++) {
		struct sb_sink *s = sb_bus_sink(a->bus, i);
		struct sb_sink_stats st;
		sb_sink_stats(s, &st);
		uint64_t dropped = 0;
		char why[160] = "";
		for (int r = 0; r < SB_DROP_MAX; r++) {
			dropped += st.dropped[r];
			if (st.dropped[r]) {
				size_t l = strlen(why);
				snprintf(why + l, sizeof(why) - l, "%s%s %llu", l ? ", " : " (",
					 sb_drop_reason_name((enum sb_drop_reason)r),
					 (unsigned long long)st.dropped[r]);
			}
		}
		if (why[0])
			strncat(why, ")", sizeof(why) - strlen(why) - 1);
		sb_log(dropped ? SB_LOG_WARN : SB_LOG_INFO, "agent",
		       "sink %s: %llu received, %llu written, %llu dropped%s", s->name,
		       (unsigned long long)st.received, (unsigned long long)st.written,
		       (unsigned long long)dropped, why);
	}
}

int sb_agent_run(struct sb_config *cfg, const struct sb_agent_opts *opts)
{
	struct sb_agent a = {.cfg = cfg, .opts = *opts, .exit_code = 0, .stop_fd = -1};
	int r;
	sb_log_set_level((enum sb_log_level)cfg->log_level);
	if (sb_random_id(a.ri.run)) {
		sb_err("agent", "cannot make a run id: %s", strerror(errno));
		return 1;
	}
	/* nothing exec'd from here on gains privileges */
	if ((r = sb_caps_no_new_privs()))
		sb_warn("agent", "cannot set no_new_privs: %s", strerror(-r));
	struct sb_caps_user user;
	if (cfg->user && *cfg->user && (r = sb_caps_user_lookup(cfg->user, &user))) {
		sb_err("agent", "user: \"%s\": %s", cfg->user,
		       r == -ENOENT ? "no such user" : strerror(-r));
		return 2;
	}
	if (!strcmp(cfg->host, "auto")) {
		if (gethostname(a.ri.host, sizeof(a.ri.host) - 1))
			snprintf(a.ri.host, sizeof(a.ri.host), "unknown");
	} else {
		snprintf(a.ri.host, sizeof(a.ri.host), "%s", cfg->host);
	}
	a.ri.interval = cfg->interval;
	a.ri.start_real_ns = sb_now_real_ns();
	a.started_mono = sb_now_mono_ns();

	a.loop = sb_loop_new();
	a.bus = sb_bus_new(&a.ri);
	if (!a.loop || !a.bus) {
		sb_err("agent", "out of memory");
		sb_loop_free(a.loop);
		sb_bus_free(a.bus);
		return 1;
	}
	/* Before any thread exists, so every thread inherits the mask. */
	if ((r = sb_loop_signals(a.loop, on_signal, &a))) {
		sb_err("agent", "cannot set up signal handling: %s", strerror(-r));
		a.exit_code = 1;
		goto out;
	}
	a.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a.stop_fd < 0 || sb_loop_add_fd(a.loop, a.stop_fd, SB_EV_READ, on_stop_request, &a)) {
		sb_err("agent", "cannot set up the stop request: %s", strerror(errno));
		a.exit_code = 1;
		goto out;
	}
	sb_bus_on_stop(a.bus, ask_stop, &a);
	sb_loop_on_idle(a.loop, bus_idle, a.bus);
	if ((r = start_sensors(&a))) {
		a.exit_code = 1;
		goto out;
	}
	/* Sinks open after the drop: some start threads (the prom sink's HTTP
	 * server), and threads inherit the capabilities of their creator. */
	if (drop_capabilities(cfg, cfg->user && *cfg->user ? &user : NULL)) {
		a.exit_code = 1;
		goto out;
	}
	for (size_t i = 0; i < cfg->nsinks; i++) {
		r = sb_bus_add_sink(a.bus, &cfg->sinks[i]);
		if (r) {
			sb_err("agent", "sink %s (%s) cannot start: %s", cfg->sinks[i].common.name,
			       cfg->sinks[i].ops->name, strerror(-r));
			a.exit_code = 1;
			goto out;
		}
	}
	if (!a.nsensors)
		sb_warn("agent", "no sensor is enabled: nothing will be collected");
	if ((r = sb_bus_start(a.bus))) {
		a.exit_code = 1;
		goto out;
	}
	{
		char iv[32];
		sb_fmt_duration(iv, sizeof(iv), cfg->interval);
		char names[256] = "";
		for (size_t i = 0; i < a.nsensors; i++) {
			size_t l = strlen(names);
			snprintf(names + l, sizeof(names) - l, "%s%s", i ? "," : "",
				 a.sensors[i]->name);
		}
		char sinks[512] = "";
		for (size_t i = 0; i < cfg->nsinks; i++) {
			char d[256];
			sb_config_sink_describe(&cfg->sinks[i], d, sizeof(d));
			size_t l = strlen(sinks);
			snprintf(sinks + l, sizeof(sinks) - l, "%s%s", i ? ", " : "", d);
		}
		sb_info("agent", "run %s on %s: sensors [%s], sinks [%s], interval %s", a.ri.run,
			a.ri.host, names, sinks, iv);
	}
	int64_t stop_after = a.opts.duration;
	if (a.opts.once) {
		int64_t t = a.opts.once_timeout ? a.opts.once_timeout : 30 * SB_NSEC_PER_SEC;
		if (!stop_after || t < stop_after)
			stop_after = t;
	}
	if (stop_after) {
		a.stop_timer = sb_timer_new(a.loop, on_stop_timer, &a);
		if (!a.stop_timer || sb_timer_set(a.stop_timer, stop_after, 0)) {
			sb_err("agent", "cannot arm the stop timer");
			a.exit_code = 1;
			goto out;
		}
	}
	arm_sensors(&a);
	if (a.opts.once && !a.nsensors)
		a.stopping = true;
	if (!a.stopping && (r = sb_loop_run(a.loop))) {
		sb_err("agent", "event loop failed: %s", strerror(-r));
		a.exit_code = 1;
	}
out:
	stop_sensors(&a);
	sb_timer_free(a.stop_timer);
	uint64_t lost = sb_bus_shutdown(a.bus);
	summary(&a);
	if (lost)
		sb_err("agent", "%llu events could not be delivered before shutdown",
		       (unsigned long long)lost);
	sb_bus_free(a.bus);
	sb_loop_free(a.loop);
	if (a.stop_fd >= 0)
		close(a.stop_fd);
	return a.exit_code;
}
