/* node_exporter's uname collector: node_uname_info{sysname,release,version,
 * machine,nodename,domainname} = 1.
 *
 * node_exporter calls uname(2) whatever --path.procfs says. The kernel
 * serves the same strings (of the reader's UTS namespace) in
 * /proc/sys/kernel/{ostype,osrelease,version,hostname,domainname}, so
 * reading those under the procfs root gives exactly uname(2)'s values on a
 * live /proc, and the tree's values on a fixture tree. uname(2) has no file
 * for machine; it always comes from the syscall, and so does any field
 * whose file a tree lacks. On the live /proc the files would only repeat
 * the syscall: they are not read (five preads a round). */
#include <errno.h>
#include <sys/utsname.h>

#include "proc.h"

/* The label order is node_exporter's; machine has no sysctl file. */
static const char *const uname_labels[SB_PROC_UNAME_N] = {
    "sysname", "release", "version", "machine", "nodename", "domainname",
};

int sb_proc_parse_sysctl_line(const char *text, const char **v, size_t *len, struct sb_proc_perr *e)
{
	const char *eol = sb_pp_eol(text);
	if (*eol != '\n') {
		sb_proc_bad(e, 1, *text ? "cut short (no newline)" : "empty");
		return -EINVAL;
	}
	if (eol[1]) {
		sb_proc_bad(e, 2, "expected one line");
		return -EINVAL;
	}
	*v = text;
	*len = (size_t)(eol - text);
	return 0;
}

void sb_proc_uname_sample(struct sb_evb *b, const struct sb_proc_uname *u)
{
	sb_evb_sample(b, "node_uname_info", SB_GAUGE, 1);
	sb_evb_help(b, "Labeled system information as provided by the uname system call.");
	for (unsigned i = 0; i < SB_PROC_UNAME_N; i++)
		sb_evb_labeln(b, uname_labels[i], strlen(uname_labels[i]), u->v[i], u->len[i]);
}

/* ---- the collector ---- */

/* file index for each label; -1: the syscall's */
static const int uname_file[SB_PROC_UNAME_N] = {0, 1, 2, -1, 3, 4};

static int uname_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct utsname uts;
	if (uname(&uts) < 0) {
		int r = -errno;
		sb_warn(st->comp, "uname(2): %s", strerror(-r));
		st->errors++;
		return r;
	}
	const char *sys[SB_PROC_UNAME_N] = {uts.sysname, uts.release,  uts.version,
					    uts.machine, uts.nodename, uts.domainname};
	struct sb_proc_uname u;
	int r = 0;
	bool live = sb_proc_live_procfs(st);
	for (unsigned i = 0; i < SB_PROC_UNAME_N; i++) {
		u.v[i] = sys[i];
		u.len[i] = strlen(sys[i]);
		int k = uname_file[i];
		if (k < 0 || live)
			continue;
		const char *text = sb_proc_coll_read(st, c, (unsigned)k);
		if (!text) {
			int e = sb_proc_read_err(c->f[k], true);
			if (e) /* there but unreadable: the tree's value is unknown */
				r = e;
			continue;
		}
		struct sb_proc_perr e = {0};
		if (sb_proc_parse_sysctl_line(text, &u.v[i], &u.len[i], &e))
			r = sb_proc_report(st, c->f[k], &e);
	}
	if (r)
		return r;
	sb_proc_uname_sample(b, &u);
	return 0;
}

const struct sb_proc_collector sb_proc_collector_uname = {
    .name = "uname",
    .default_on = true,
    /* sysctl files: one read gives the whole value, a read past it 0
     * (proc_sys_call_handler), so a short read is the end. Optional: a
     * fixture tree without them gets uname(2)'s values, as node_exporter
     * does. */
    .files =
	(const struct sb_proc_src[]){
	    {"sys/kernel/ostype", .single = true, .optional = true},
	    {"sys/kernel/osrelease", .single = true, .optional = true},
	    {"sys/kernel/version", .single = true, .optional = true},
	    {"sys/kernel/hostname", .single = true, .optional = true},
	    {"sys/kernel/domainname", .single = true, .optional = true},
	    {NULL},
	},
    .collect = uname_collect,
};
