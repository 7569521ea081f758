/* Parsers for the per-process files: /proc/<pid>/{stat,status,io,limits,
 * cmdline}. */
#include <errno.h>
#include <string.h>

#include "proc.h"

int sb_proc_parse_pidstat(const char *text, struct sb_proc_pidstat *st, const char **why)
{
	memset(st, 0, sizeof(*st));
	const char *p = text;
	if (!sb_pp_i64(&p, &st->pid) || st->pid < 0) {
		*why = "no pid";
		return -EINVAL;
	}
	p = sb_pp_blank(p);
	/* comm is whatever the process named itself, parentheses included:
	 * it ends at the last ')' */
	const char *close = strrchr(p, ')');
	if (*p != '(' || !close) {
		*why = "no (comm)";
		return -EINVAL;
	}
	size_t cl = (size_t)(close - p - 1);
	if (cl >= sizeof(st->comm))
		cl = sizeof(st->comm) - 1;
	memcpy(st->comm, p + 1, cl);
	st->comm[cl] = 0;
	st->comm_len = cl;
	p = sb_pp_blank(close + 1);
	if (!*p || sb_pp_sep(*p) || !sb_pp_sep(p[1])) {
		*why = "no state";
		return -EINVAL;
	}
	st->state = *p++;
	/* fields 4 (ppid) .. 24 (rss) */
	int64_t f[25];
	for (int i = 4; i <= 24; i++) {
		uint64_t u;
		if (sb_pp_i64(&p, &f[i]))
			continue;
		if (!sb_pp_u64(&p, &u)) {
			*why = "truncated or garbled fields";
			return -EINVAL;
		}
		f[i] = (int64_t)u; /* above INT64_MAX: kept as the same bits */
	}
	if (*p != ' ' && *p != '\n') {
		*why = "cut short";
		return -EINVAL;
	}
	st->flags = (uint64_t)f[9];
	st->minflt = (uint64_t)f[10];
	st->majflt = (uint64_t)f[12];
	st->utime = (uint64_t)f[14];
	st->stime = (uint64_t)f[15];
	st->num_threads = f[20];
	st->starttime = (uint64_t)f[22];
	st->vsize = (uint64_t)f[23];
	st->rss = f[24];
	return 0;
}

static bool key_u64(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		if (strncmp(p, key, kl))
			continue;
		const char *q = p + kl;
		return sb_pp_u64(&q, v) && sb_pp_at_eol(q) && !sb_pp_cut(q);
	}
	return false;
}

int sb_proc_parse_pidstatus(const char *text, struct sb_proc_pidstatus *st, const char **why)
{
	memset(st, 0, sizeof(*st));
	bool v = key_u64(text, "voluntary_ctxt_switches:", &st->voluntary);
	bool n = key_u64(text, "nonvoluntary_ctxt_switches:", &st->involuntary);
	if (v != n) {
		*why = "only one of the context switch counts";
		return -EINVAL;
	}
	st->have_ctxt = v;
	if (!v && !strstr(text, "\nPid:")) {
		*why = "not a status file";
		return -EINVAL;
	}
	return 0;
}

int sb_proc_parse_pidio(const char *text, struct sb_proc_pidio *io, const char **why)
{
	if (!key_u64(text, "read_bytes:", &io->read_bytes) ||
	    !key_u64(text, "write_bytes:", &io->write_bytes)) {
		*why = "no read_bytes/write_bytes";
		return -EINVAL;
	}
	return 0;
}

int sb_proc_parse_limits_nofile(const char *text, uint64_t *soft, const char **why)
{
	static const char key[] = "Max open files";
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		if (strncmp(p, key, sizeof(key) - 1))
			continue;
		const char *q = p + sizeof(key) - 1, *w = sb_pp_blank(q);
		if (!strncmp(w, "unlimited", 9) && sb_pp_sep(w[9])) {
			*soft = UINT64_MAX;
			return 0;
		}
		if (sb_pp_u64(&q, soft) && !sb_pp_cut(q))
			return 0;
		break;
	}
	*why = "no \"Max open files\" limit";
	return -EINVAL;
}

size_t sb_proc_argv0_base(const char *cmdline, size_t len, const char **base)
{
	const char *end = memchr(cmdline, 0, len);
	size_t n = end ? (size_t)(end - cmdline) : len;
	/* A process that rewrote its argv may use spaces instead of NULs. */
	const char *sp = memchr(cmdline, ' ', n);
	if (!end && sp)
		n = (size_t)(sp - cmdline);
	const char *b = cmdline;
	for (size_t i = 0; i < n; i++)
		if (cmdline[i] == '/')
			b = cmdline + i + 1;
	*base = b;
	return n - (size_t)(b - cmdline);
}
