/* /proc/sys/kernel/random/{entropy_avail,poolsize}: node_exporter's
 * entropy collector. Every kernel has both files (since 5.18 they say
 * 256 and 256), so a missing one is an error, as in node_exporter. */
#include <errno.h>
#include <stdlib.h>

#include "proc.h"

static const struct {
	const char *name, *help;
} entropy_series[] = {
    {"node_entropy_available_bits", "Bits of available entropy."},
    {"node_entropy_pool_size_bits", "Bits of entropy pool."},
};

/* poolsize is a constant of the running kernel (a read-only sysctl of a
 * variable random.c never writes): on the live /proc it is read once. A
 * fixture tree's is read every round, as the tree may change. */
struct entropy {
	bool pool_kept;
	uint64_t pool;
};

static void entropy_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	free(c->priv);
	c->priv = NULL;
}

static int entropy_init(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	c->priv = calloc(1, sizeof(struct entropy));
	return c->priv ? 0 : -ENOMEM;
}

static int entropy_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct entropy *en = c->priv;
	int r = 0;
	for (unsigned i = 0; i < 2; i++) {
		uint64_t v;
		if (i == 1 && en->pool_kept) {
			v = en->pool;
		} else {
			const char *text = sb_proc_coll_read(st, c, i);
			if (!text) {
				if (!r)
					r = sb_proc_read_err(c->f[i], false);
				continue;
			}
			if (!sb_pp_uint_text(text, &v)) {
				struct sb_proc_perr e = {0};
				sb_proc_bad(&e, 1, "expected a number");
				if (sb_proc_report(st, c->f[i], &e) && !r)
					r = -EINVAL;
				continue;
			}
			if (i == 1 && sb_proc_live_procfs(st)) {
				en->pool = v;
				en->pool_kept = true;
			}
		}
		sb_evb_sample(b, entropy_series[i].name, SB_GAUGE, (double)v);
		sb_evb_help(b, entropy_series[i].help);
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_entropy = {
    .name = "entropy",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){
	    {"sys/kernel/random/entropy_avail", .single = true},
	    {"sys/kernel/random/poolsize", .single = true},
	    {NULL},
	},
    .init = entropy_init,
    .collect = entropy_collect,
    .free = entropy_free,
};
