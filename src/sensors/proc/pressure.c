/* /proc/pressure/{cpu,io,memory,irq}: node_exporter's pressure collector.
 * The stall totals (microseconds) become seconds: "some" is time some task
 * waited, "full" time no task could run. cpu reports some, irq full, io
 * and memory both. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

static bool psi_line(const char *p, const char *kind, uint64_t *total)
{
	static const char *const keys[] = {"avg10=", "avg60=", "avg300=", "total="};
	size_t kl = strlen(kind);
	if (strncmp(p, kind, kl) || p[kl] != ' ')
		return false;
	p += kl;
	for (int i = 0; i < 4; i++) {
		p = sb_pp_blank(p);
		size_t l = strlen(keys[i]);
		if (strncmp(p, keys[i], l))
			return false;
		p += l;
		double avg;
		if (i < 3 ? !sb_pp_double(&p, &avg) : !sb_pp_u64(&p, total))
			return false;
	}
	return sb_pp_at_eol(p);
}

static void emit(struct sb_evb *b, const char *name, const char *help, uint64_t us)
{
	/* node_exporter divides twice; so do we, for the same last bit */
	sb_evb_sample(b, name, SB_COUNTER, (double)us / 1000.0 / 1000.0);
	sb_evb_help(b, help);
}

int sb_proc_parse_pressure(const char *text, const char *resource, struct sb_evb *b,
			   struct sb_proc_perr *e)
{
	uint64_t some = 0, full = 0;
	bool have_some = false, have_full = false;
	unsigned lineno = 0;
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		lineno++;
		if (!strncmp(p, "some", 4)) {
			if (!(have_some = psi_line(p, "some", &some)))
				sb_proc_bad(e, lineno, "malformed \"some\" line");
		} else if (!strncmp(p, "full", 4)) {
			if (!(have_full = psi_line(p, "full", &full)))
				sb_proc_bad(e, lineno, "malformed \"full\" line");
		}
		/* other lines: future kinds, ignored as node_exporter does */
	}
	bool cpu = !strcmp(resource, "cpu"), irq = !strcmp(resource, "irq");
	if ((!irq && !have_some) || (!cpu && !have_full)) {
		if (!e->nbad)
			sb_proc_bad(e, 0, "no %s line",
				    !irq && !have_some ? "\"some\"" : "\"full\"");
		return 0;
	}
	if (cpu) {
		emit(b, "node_pressure_cpu_waiting_seconds_total",
		     "Total time in seconds that processes have waited for CPU time", some);
		return 1;
	}
	if (irq) {
		emit(b, "node_pressure_irq_stalled_seconds_total",
		     "Total time in seconds no process could make progress due to IRQ congestion",
		     full);
		return 1;
	}
	if (!strcmp(resource, "io")) {
		emit(b, "node_pressure_io_waiting_seconds_total",
		     "Total time in seconds that processes have waited due to IO congestion", some);
		emit(b, "node_pressure_io_stalled_seconds_total",
		     "Total time in seconds no process could make progress due to IO congestion",
		     full);
		return 2;
	}
	emit(b, "node_pressure_memory_waiting_seconds_total",
	     "Total time in seconds that processes have waited for memory", some);
	emit(b, "node_pressure_memory_stalled_seconds_total",
	     "Total time in seconds no process could make progress due to memory congestion", full);
	return 2;
}

/* ---- the collector ---- */

static const char *const psi_res[4] = {"cpu", "io", "memory", "irq"};

struct pressure {
	bool psi_off; /* the kernel refuses PSI (EOPNOTSUPP): stop asking */
};

static int pressure_init(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	c->priv = calloc(1, sizeof(struct pressure));
	return c->priv ? 0 : -ENOMEM;
}

static void pressure_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	free(c->priv);
	c->priv = NULL;
}

static int pressure_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct pressure *ps = c->priv;
	if (ps->psi_off)
		return 0;
	int r = 0;
	for (unsigned i = 0; i < 4; i++) {
		struct sb_procfile *f = c->f[i];
		/* EOPNOTSUPP: PSI built in but off (psi=0); ENOENT: not built
		 * or irq before 6.1. Neither is an error. */
		const char *text = sb_proc_coll_read(st, c, i);
		if (!text) {
			if (f->last_err == -EOPNOTSUPP) {
				ps->psi_off = true;
				sb_info(st->comp,
					"%s: pressure stall information is disabled "
					"(psi=0); not reading it again",
					f->path);
				return 0;
			}
			if (!r)
				r = sb_proc_read_err(f, true);
			continue;
		}
		struct sb_proc_perr e = {0};
		sb_proc_parse_pressure(text, psi_res[i], b, &e);
		if (sb_proc_report(st, f, &e) && !r)
			r = -EINVAL;
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_pressure = {
    .name = "pressure",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){
	    {"pressure/cpu", .single = true, .optional = true},
	    {"pressure/io", .single = true, .optional = true},
	    {"pressure/memory", .single = true, .optional = true},
	    {"pressure/irq", .single = true, .optional = true},
	    {NULL},
	},
    .init = pressure_init,
    .collect = pressure_collect,
    .free = pressure_free,
};
