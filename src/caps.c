#include "sb_caps.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

static bool kept(int c, const int *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] == c)
			return true;
	return false;
}

static int count_permitted(cap_t c)
{
	int n = 0;
	for (cap_value_t v = 0; v < (cap_value_t)cap_max_bits(); v++) {
		cap_flag_value_t f = CAP_CLEAR;
		if (!cap_get_flag(c, v, CAP_PERMITTED, &f) && f == CAP_SET)
			n++;
	}
	return n;
}

int sb_caps_user_lookup(const char *name, struct sb_caps_user *u)
{
	long n = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t len = n > 0 ? (size_t)n : 16384;
	char *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	struct passwd pw, *found = NULL;
	int e = getpwnam_r(name, &pw, buf, len, &found);
	int r = e ? -e : !found ? -ENOENT : 0;
	if (!r && strlen(name) >= sizeof(u->name))
		r = -ENAMETOOLONG;
	if (!r) {
		snprintf(u->name, sizeof(u->name), "%s", name);
		u->uid = pw.pw_uid;
		u->gid = pw.pw_gid;
	}
	free(buf);
	return r;
}

int sb_caps_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0; }

static bool is_user(const struct sb_caps_user *u)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	return !getresuid(&r, &e, &s) && !getresgid(&gr, &ge, &gs) && r == u->uid && e == u->uid &&
	       s == u->uid && gr == u->gid && ge == u->gid && gs == u->gid;
}

/* Becomes u with the permitted set kept (KEEPCAPS is per thread and
 * cleared again); the effective set is empty afterwards. */
static int become(const struct sb_caps_user *u)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return -errno;
	int r = 0;
	if (initgroups(u->name, u->gid) || setresgid(u->gid, u->gid, u->gid) ||
	    setresuid(u->uid, u->uid, u->uid))
		r = -errno;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return r;
}

int sb_caps_drop(const int *keep, size_t nkeep, const struct sb_caps_user *u, char *kept_text,
		 size_t keptlen)
{
	int r = 0;
	cap_t cur = cap_get_proc(), none = cap_init(), next = cap_init();
	if (kept_text && keptlen)
		kept_text[0] = 0;
	if (!cur || !none || !next) {
		r = -errno;
		goto out;
	}
	if (!cap_compare(cur, none)) {
		/* nothing held: nothing to drop, and no switching user */
		if (u && !is_user(u))
			r = -EPERM;
		goto out;
	}
	for (size_t i = 0; i < nkeep; i++) {
		cap_value_t v = keep[i];
		cap_flag_value_t f = CAP_CLEAR;
		if (!CAP_IS_SUPPORTED(v) || cap_get_flag(cur, v, CAP_PERMITTED, &f) || f != CAP_SET)
			continue;
		cap_set_flag(next, CAP_PERMITTED, 1, &v, CAP_SET);
		cap_set_flag(next, CAP_EFFECTIVE, 1, &v, CAP_SET);
	}
	/* The bounding set first: it takes CAP_SETPCAP, which goes next. A
	 * root process could otherwise regain everything by exec. */
	cap_flag_value_t setpcap = CAP_CLEAR;
	cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
	if (setpcap == CAP_SET) {
		for (cap_value_t v = 0; v < (cap_value_t)cap_max_bits(); v++) {
			if (!kept(v, keep, nkeep) && cap_get_bound(v) == 1 && cap_drop_bound(v)) {
				r = -errno;
				goto out;
			}
		}
	}
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient()) {
		r = -errno;
		goto out;
	}
	if (u && !is_user(u) && (r = become(u)))
		goto out;
	if (cap_set_proc(next)) {
		r = -errno;
		goto out;
	}
	r = count_permitted(cur) - count_permitted(next);
	if (kept_text && keptlen) {
		char *t = cap_to_text(next, NULL);
		snprintf(kept_text, keptlen, "%s", t && *t && *t != '=' ? t : "none");
		cap_free(t);
	}
out:
	cap_free(cur);
	cap_free(none);
	cap_free(next);
	return r;
}
