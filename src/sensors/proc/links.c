/* The network devices of this round, shared by netdev and netclass: one
 * RTM_GETLINK dump (rtnl.c) made at most once a round. */
#include <stdlib.h>

#include "proc.h"

#define LINKS_PAUSE_ROUNDS 60 /* after a dump that failed */

struct proc_links {
	struct sb_proc_rtnl r; /* fd -1: not open (now) */
	uint64_t round;	       /* of the last dump tried */
	bool ok;	       /* it gave the list */
	unsigned pause;	       /* rounds left without a dump */
};

const struct sb_proc_rtnl *sb_proc_links(struct proc_state *st)
{
	struct proc_links *l = st->links;
	if (!l) {
		l = st->links = calloc(1, sizeof(*l));
		if (!l)
			return NULL;
		l->r.fd = -1;
	} else if (l->round == st->round) {
		return l->ok ? &l->r : NULL;
	}
	l->round = st->round;
	l->ok = false;
	if (l->pause) {
		l->pause--;
		return NULL;
	}
	if (l->r.fd < 0 && sb_proc_rtnl_open(&l->r))
		return NULL;
	if (sb_proc_rtnl_dump(&l->r, st->links_stats)) {
		/* a dump left half read would make the next one EBUSY */
		sb_proc_rtnl_close(&l->r);
		l->pause = LINKS_PAUSE_ROUNDS;
		return NULL;
	}
	l->ok = true;
	return &l->r;
}

void sb_proc_links_free(struct proc_state *st)
{
	if (!st->links)
		return;
	sb_proc_rtnl_close(&st->links->r);
	free(st->links);
	st->links = NULL;
}
