/* The delivery layer's supervisor thread: a watchdog for publishes blocked
 * far past their timeouts, and the input rate the replay warning uses. */
#include <inttypes.h>
#include <sys/socket.h>

#include "internal.h"

/* A publish blocked in send (a receiver that stopped reading): shut the
 * socket down so the sender fails and recycles the link. */
static void watchdog(struct dsink *k, int64_t now)
{
	if (!k->t->fd)
		return;
	int64_t ct = k->t->connect_timeout ? k->t->connect_timeout(k->tp) : 0;
	int64_t stuck = k->cfg->confirm_timeout + ct + 2 * SB_NSEC_PER_SEC;
	for (unsigned i = 0; i < k->n; i++) {
		struct dshard *sh = &k->shards[i];
		int64_t since = atomic_load(&sh->busy_since);
		if (!since || now - since < stuck)
			continue;
		pthread_mutex_lock(&sh->wd_mu);
		int fd = sh->link ? k->t->fd(sh->link) : -1;
		if (atomic_load(&sh->busy_since) == since && fd >= 0) {
			sb_warn(COMP, "%s: sending to %s stuck for %llds: resetting the link",
				sh->name, k->t->target(k->tp),
				(long long)((now - since) / SB_NSEC_PER_SEC));
			shutdown(fd, SHUT_RDWR);
		}
		pthread_mutex_unlock(&sh->wd_mu);
	}
}

static uint64_t received(struct dsink *k)
{
	uint64_t rec = 0;
	for (unsigned i = 0; i < k->n; i++)
		rec += atomic_load_explicit(&k->shards[i].acct.received, memory_order_relaxed);
	return rec;
}

static void input_rate(struct dsink *k, int64_t now)
{
	const struct sb_delivery_cfg *c = k->cfg;
	uint64_t rec = received(k);
	sb_peak_add(&k->peak, rec - k->last_received, now);
	k->last_received = rec;
	uint64_t peak = (uint64_t)sb_peak_rate(&k->peak, now);
	atomic_store(&k->peak_rate, peak);
	bool replaying = false;
	for (unsigned i = 0; i < k->n; i++)
		replaying |= k->shards[i].replaying;
	if (replaying && c->drain_rate && (uint64_t)c->drain_rate <= peak &&
	    now - k->last_warn >= 60 * SB_NSEC_PER_SEC) {
		k->last_warn = now;
		sb_warn(COMP,
			"%s: drain_rate %" PRId64
			"/s is not above the recent peak input rate %" PRIu64
			"/s: the spool may never empty",
			k->s->name, c->drain_rate, peak);
	}
}

void *dl_supervisor_main(void *arg)
{
	struct dsink *k = arg;
	sb_thread_name("watch:%s", k->s->name);
	/* what was recovered at open is not input */
	k->last_received = received(k);
	pthread_mutex_lock(&k->smu);
	while (!k->sup_stop) {
		struct timespec ts = sb_mono_timespec(sb_now_mono_ns() + 250 * SB_NSEC_PER_MSEC);
		pthread_cond_timedwait(&k->scv, &k->smu, &ts);
		if (k->sup_stop)
			break;
		int64_t now = sb_now_mono_ns();
		watchdog(k, now);
		input_rate(k, now);
	}
	pthread_mutex_unlock(&k->smu);
	return NULL;
}
