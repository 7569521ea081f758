/* node_exporter's selinux collector. SELinux is on when selinuxfs is
 * there (<sysfs>/fs/selinux/enforce); then its current mode comes from
 * that file (1 enforcing, 0 permissive) and the configured one from
 * /etc/selinux/config (enforcing 1, permissive 0, else -1), as
 * go-selinux reads them. Without SELinux only node_selinux_enabled 0. */
#include <errno.h>
#include <string.h>

#include "proc.h"

#define SELINUX_CONFIG "/etc/selinux/config"

/* SELINUX=<mode> in the config file: 1, 0 or -1. */
int sb_proc_selinux_config_mode(const char *text)
{
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		const char *q = sb_pp_blank(p);
		if (strncmp(q, "SELINUX=", 8))
			continue;
		q += 8;
		size_t n = strcspn(q, " \t\n\"");
		if (*q == '"')
			n = strcspn(++q, "\"\n");
		if (n == 9 && !strncmp(q, "enforcing", 9))
			return 1;
		if (n == 10 && !strncmp(q, "permissive", 10))
			return 0;
		return -1;
	}
	return -1;
}

static int selinux_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	uint64_t mode = 0;
	bool ok = text && sb_pp_uint_text(text, &mode) && mode <= 1;
	sb_evb_sample(b, "node_selinux_enabled", SB_GAUGE, text ? 1 : 0);
	sb_evb_help(b, "SELinux is enabled, 1 is true, 0 is false");
	if (!text)
		return sb_proc_read_err(c->f[0], true);
	struct sb_buf cfg;
	sb_buf_init(&cfg);
	int conf = sb_read_file(SELINUX_CONFIG, &cfg, 65536) >= 0
		       ? sb_proc_selinux_config_mode(sb_buf_cstr(&cfg))
		       : -1;
	sb_buf_free(&cfg);
	sb_evb_sample(b, "node_selinux_config_mode", SB_GAUGE, conf);
	sb_evb_help(b, "Configured SELinux enforcement mode");
	if (!ok) {
		struct sb_proc_perr e = {0};
		sb_proc_bad(&e, 1, "expected 0 or 1");
		return sb_proc_report(st, c->f[0], &e);
	}
	sb_evb_sample(b, "node_selinux_current_mode", SB_GAUGE, (double)mode);
	sb_evb_help(b, "Current SELinux enforcement mode");
	return 0;
}

const struct sb_proc_collector sb_proc_collector_selinux = {
    .name = "selinux",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){
	    {"fs/selinux/enforce", .sysfs = true, .single = true, .optional = true},
	    {NULL},
	},
    .collect = selinux_collect,
};
