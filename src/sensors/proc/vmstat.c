/* /proc/vmstat: node_exporter's vmstat collector. Every line is checked;
 * those whose name passes the field filter (default
 * ^(oom_kill|pgpg|pswp|pg.*fault).*) become node_vmstat_<name>, untyped
 * as in node_exporter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define VMSTAT_FIELDS "^(oom_kill|pgpg|pswp|pg.*fault).*"
/* A line is a counter's name (the kernel's longest is 30 bytes today) and
 * a u64 of at most 20 digits: 64 lets the ~3.9 KB file end at its first
 * read (it ends 120 bytes short of a page) instead of with a second read
 * returning 0, a syscall per round. */
#define VMSTAT_LINE_MAX 64

static struct sb_proc_vmstat_line *memo_line(struct sb_proc_vmstat_memo *m, unsigned i)
{
	if (!m)
		return NULL;
	if (i >= m->n) {
		size_t n = i < 256 ? 256 : 2 * (size_t)i;
		struct sb_proc_vmstat_line *l = realloc(m->line, n * sizeof(*l));
		if (!l)
			return NULL; /* checked the long way */
		memset(l + m->n, 0, (n - m->n) * sizeof(*l));
		m->line = l;
		m->n = n;
	}
	return &m->line[i];
}

int sb_proc_parse_vmstat_m(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			   struct sb_proc_vmstat_memo *m, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	char name[96], help[128];
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		/* the name this line had last time, followed by a blank, is
		 * the word there: no scan for its end */
		struct sb_proc_vmstat_line *l = memo_line(m, lineno - 1);
		const char *w = p, *q = p;
		size_t wl = l ? l->len : 0;
		bool known = wl && (size_t)(p_eol_ - p) > wl && sb_pp_blank(p + wl) != p + wl &&
			     !memcmp(l->name, p, wl);
		if (known)
			q = p + wl;
		else
			wl = sb_pp_word(&q, &w);
		int64_t v;
		if ((!known && (!wl || wl > SB_PROC_VMSTAT_NAME_MAX || !sb_proc_name_ok(w, wl))) ||
		    !sb_pp_i64(&q, &v) || !sb_pp_at_eol(q)) {
			sb_proc_bad(e, lineno, "expected \"name value\"");
			continue;
		}
		bool pass = known ? l->pass : sb_proc_filter_pass(fields, w, wl);
		if (l && !known) {
			l->len = (uint8_t)wl;
			l->pass = pass;
			memcpy(l->name, w, wl);
		}
		if (!pass)
			continue;
		SB_PROC_JOIN(name, SB_PJ("node_vmstat_"), SB_PJN(w, wl));
		SB_PROC_JOIN(help, SB_PJ("/proc/vmstat information field "), SB_PJN(w, wl),
			     SB_PJ("."));
		sb_evb_sample(b, name, SB_UNTYPED, (double)v);
		sb_evb_help(b, help);
		n++;
	}
	if (!lineno)
		sb_proc_bad(e, 0, "empty");
	return n;
}

int sb_proc_parse_vmstat(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			 struct sb_proc_perr *e)
{
	return sb_proc_parse_vmstat_m(text, b, fields, NULL, e);
}

/* ---- the collector ---- */

struct vmstat {
	struct sb_proc_filter fields;
	struct sb_proc_vmstat_memo memo;
};

static int vmstat_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct vmstat *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	c->priv = vm;
	char err[256];
	int r = sb_proc_filter_init(&vm->fields, st->cfg->vmstat_fields, NULL, err, sizeof(err));
	if (r)
		sb_err(st->comp, "%s", err);
	return r;
}

static void vmstat_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct vmstat *vm = c->priv;
	if (!vm)
		return;
	sb_proc_filter_free(&vm->fields);
	free(vm->memo.line);
	free(vm);
	c->priv = NULL;
}

static int vmstat_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct vmstat *vm = c->priv;
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_read_err(c->f[0], false);
	struct sb_proc_perr e = {0};
	sb_proc_parse_vmstat_m(text, b, &vm->fields, &vm->memo, &e);
	return sb_proc_report(st, c->f[0], &e);
}

static const struct sb_cfg_key vmstat_keys[] = {
    {"vmstat_fields", SB_CT_STR, offsetof(struct proc_cfg, vmstat_fields), VMSTAT_FIELDS,
     "regexp of /proc/vmstat fields to report"},
    {0},
};

static int vmstat_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	return sb_proc_check_regex("vmstat_fields", c->vmstat_fields, err, errlen);
}

const struct sb_proc_collector sb_proc_collector_vmstat = {
    .name = "vmstat",
    .default_on = true,
    .files = (const struct sb_proc_src[]){{"vmstat", .line_max = VMSTAT_LINE_MAX}, {NULL}},
    .keys = vmstat_keys,
    .check = vmstat_check,
    .init = vmstat_init,
    .collect = vmstat_collect,
    .free = vmstat_free,
};
