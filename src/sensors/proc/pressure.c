/* /proc/pressure/{cpu,io,memory,irq}: node_exporter's pressure collector.
 * The stall totals (microseconds) become seconds: "some" is time some task
 * waited, "full" time no task could run. cpu reports some, irq full, io
 * and memory both. */
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
