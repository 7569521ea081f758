/* What algod leaves in its data directory for its clients: its address
 * (algod.net), its API token (algod.token) and its admin token
 * (algod.admin.token, for the participation keys). They are re-read whenever
 * they change (algod rewrites them when it restarts). The directory is the
 * algod user's, so all are read as sb_fsafe.h says: no link followed, no
 * FIFO waited on, and a token that is not private to that user (or root)
 * is not sent. A token lives only in a header list that is wiped when
 * replaced: it is never logged nor put in an event. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "algod.h"
#include "sb_fsafe.h"
#include "sb_log.h"

#define COMP "sensor:algod"

/* Whether st is the file w was last read from, unchanged. */
static bool same(const struct watched *w, const struct stat *st)
{
	return w->have && st->st_dev == w->st.st_dev && st->st_ino == w->st.st_ino &&
	       st->st_size == w->st.st_size && st->st_mtim.tv_sec == w->st.st_mtim.tv_sec &&
	       st->st_mtim.tv_nsec == w->st.st_mtim.tv_nsec;
}

/* "host:port", "[v6]:port" or ":port" (all interfaces) into a base URL;
 * an any-address listener is reached on loopback. */
static int base_from_net(const char *net, char *out, size_t n)
{
	const char *colon = strrchr(net, ':');
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	size_t hl = (size_t)(colon - net);
	char host[256];
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, net, hl);
	host[hl] = 0;
	if (!hl || !strcmp(host, "0.0.0.0"))
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (!strcmp(host, "[::]"))
		snprintf(host, sizeof(host), "[::1]");
	if (strpbrk(host, "/?#@ \t"))
		return -EINVAL;
	snprintf(out, n, "http://%s:%s", host, colon + 1);
	return 0;
}

/* ---- files ---- */

void sb_algod_set_base(struct algod *a, const char *base)
{
	size_t l = strlen(base);
	while (l && base[l - 1] == '/')
		l--;
	snprintf(a->base, sizeof(a->base), "%.*s", (int)l, base);
	char red[320];
	sb_url_redact(a->base, red, sizeof(red));
	snprintf(a->desc, sizeof(a->desc), "algod at %s", red);
	snprintf(a->url_metrics, sizeof(a->url_metrics), "%s/metrics", a->base);
	snprintf(a->url_status, sizeof(a->url_status), "%s/v2/status", a->base);
	snprintf(a->url_ready, sizeof(a->url_ready), "%s/ready", a->base);
	snprintf(a->url_part, sizeof(a->url_part), "%s/v2/participation", a->base);
	snprintf(a->url_versions, sizeof(a->url_versions), "%s/versions", a->base);
}

/* The trimmed text of w's file into b if it changed since it was read:
 * 0 read, 1 unchanged, <0 -errno with why set. The files are the algod
 * user's: never a link, a FIFO (an open would hang the loop) nor a big
 * file; the token, sent on the network, only as private as a secret. */
static int reread(struct watched *w, unsigned flags, struct sb_buf *b, char **text, char *why,
		  size_t whylen)
{
	struct stat st;
	ssize_t n = sb_fsafe_read(w->path, flags, 4096, b, &st, why, whylen);
	if (n < 0) {
		w->have = false;
		return (int)n;
	}
	if (same(w, &st))
		return 1;
	w->have = false;
	w->st = st;
	*text = sb_trim((char *)sb_buf_cstr(b));
	return 0;
}

void sb_algod_read_net(struct algod *a)
{
	struct sb_buf b;
	sb_buf_init(&b);
	char *addr, why[256];
	int n = reread(&a->net, 0, &b, &addr, why, sizeof(why));
	if (n < 0) {
		snprintf(a->file_err, sizeof(a->file_err), "cannot read %s%s", why,
			 n == -ENOENT ? " (is algod running?)" : "");
	} else if (n == 0) {
		char base[320];
		if (base_from_net(addr, base, sizeof(base))) {
			snprintf(a->file_err, sizeof(a->file_err),
				 "%s does not hold an address like 127.0.0.1:8080", a->net.path);
		} else {
			if (a->base[0] && strcmp(base, a->base))
				sb_info(COMP, "%s: the address is now %s", a->net.path, base);
			sb_algod_set_base(a, base);
			a->file_err[0] = 0;
			a->net.have = true;
		}
	}
	sb_buf_free(&b);
}

/* The token of t's file into its header list, when the file changed. */
void sb_algod_read_token(struct token *t)
{
	struct sb_buf b;
	sb_buf_init(&b);
	char *tok, why[256];
	int n = reread(&t->file, SB_FSAFE_SECRET, &b, &tok, why, sizeof(why));
	if (n == 1)
		goto out;
	sb_slist_free_wiped(t->hdr);
	t->hdr = NULL;
	t->why[0] = 0;
	t->err = n < 0 ? n : 0;
	if (n < 0) {
		snprintf(t->why, sizeof(t->why), "cannot read the token file %s; it is not used",
			 why);
	} else {
		size_t tl = strlen(tok);
		bool valid = tl > 0;
		for (size_t i = 0; i < tl && valid; i++)
			valid = tok[i] > 0x20 && tok[i] < 0x7f;
		char hdr[4200];
		if (!valid) {
			snprintf(t->why, sizeof(t->why), "the token file %s holds no token",
				 t->file.path);
		} else {
			snprintf(hdr, sizeof(hdr), "X-Algo-API-Token: %s", tok);
			t->hdr = sym_curl_slist_append(NULL, hdr);
			if (t->hdr)
				t->hdr = sym_curl_slist_append(t->hdr, "Accept: application/json");
			explicit_bzero(hdr, sizeof(hdr));
			t->file.have = t->hdr != NULL;
		}
	}
	if (!t->file.have && !t->why[0])
		snprintf(t->why, sizeof(t->why), "out of memory for the token");
out:
	if (b.data)
		explicit_bzero(b.data, b.cap);
	sb_buf_free(&b);
}

/* A token the node rejected is read again next round, even unchanged. */
void sb_algod_token_rejected(struct token *t)
{
	t->file.have = false;
	memset(&t->file.st, 0, sizeof(t->file.st));
}

void sb_algod_token_free(struct token *t)
{
	sb_slist_free_wiped(t->hdr);
	t->hdr = NULL;
	free(t->file.path);
	t->file.path = NULL;
}
