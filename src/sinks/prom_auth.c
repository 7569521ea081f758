#include "prom_auth.h"

#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_dl.h"

/* Opened only by a prom sink with users (sb_dl.h); libgnutls is loaded
 * with libmicrohttpd anyway. */
#define CRYPT_FNS(X) X(crypt_r)
CRYPT_FNS(SB_DL_DECLARE)
static const struct sb_dl_sym crypt_syms[] = {CRYPT_FNS(SB_DL_ENTRY){0}};
static struct sb_dl_lib libcrypt = {.soname = "libcrypt.so.1", .syms = crypt_syms};

#define HASH_FNS(X) X(gnutls_global_init) X(gnutls_hash_fast)
HASH_FNS(SB_DL_DECLARE)
static const struct sb_dl_sym hash_syms[] = {HASH_FNS(SB_DL_ENTRY){0}};
static struct sb_dl_lib libhash = {.soname = "libgnutls.so.30", .syms = hash_syms};

/* $2a$, $2b$ or $2y$, a two-digit cost 04..31, $, then 22 characters of
 * salt and 31 of hash in bcrypt's base64 alphabet: 60 in all. */
static bool is_bcrypt(const char *h)
{
	static const char b64[] =
	    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$')
		return false;
	if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	int cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	return strspn(h + 7, b64) == 53;
}

int sb_prom_auth_check_users(const struct sb_strmap *users, char *err, size_t errlen)
{
	for (size_t i = 0; i < users->n; i++) {
		const char *u = users->k[i];
		if (!*u || strchr(u, ':')) {
			snprintf(err, errlen,
				 "basic_auth_users: user \"%s\": a user name must be non-empty "
				 "and hold no ':' (Basic authentication splits there)",
				 u);
			return -EINVAL;
		}
		if (!is_bcrypt(users->v[i])) {
			snprintf(err, errlen,
				 "basic_auth_users: user \"%s\": not a bcrypt hash (want "
				 "$2a$, $2b$ or $2y$ and a cost, 60 characters, as `htpasswd -nbB "
				 "USER PASSWORD` makes)",
				 u);
			return -EINVAL;
		}
	}
	return 0;
}

/* Reads every byte, whichever differs. */
static bool ct_equal(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

static int crypt_check(void *arg, const char *password, const char *hash)
{
	(void)arg;
	struct crypt_data *cd = calloc(1, sizeof(*cd)); /* 32 KiB: not on the stack */
	if (!cd)
		return -ENOMEM;
	const char *out = sym_crypt_r(password, hash, cd);
	size_t n = strlen(hash);
	/* a failure is NULL or a "*" token, never as long as a hash */
	int r = out && strlen(out) == n && ct_equal(out, hash, n);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

int sb_prom_auth_init(struct sb_prom_auth *a, const struct sb_strmap *users, char *err,
		      size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->users = users;
	a->check = crypt_check;
	if (sb_dl_open(&libcrypt)) {
		snprintf(err, errlen, "%s: basic_auth_users needs libcrypt", libcrypt.why);
		return libcrypt.err;
	}
	if (sb_dl_open(&libhash)) {
		snprintf(err, errlen, "%s: basic_auth_users needs GnuTLS", libhash.why);
		return libhash.err;
	}
	/* opened with dlopen, it may be left uninitialised; the call counts */
	int g = sym_gnutls_global_init();
	if (g < 0) {
		snprintf(err, errlen, "basic_auth_users: GnuTLS: error %d", g);
		return -EIO;
	}
	pthread_mutex_init(&a->mu, NULL);
	return 0;
}

void sb_prom_auth_fini(struct sb_prom_auth *a)
{
	if (!a->check)
		return;
	explicit_bzero(a->cache, sizeof(a->cache));
	pthread_mutex_destroy(&a->mu);
	a->check = NULL;
}

/* SHA-256 over hash, user and password, each ended by a NUL (none of them
 * holds one), so that no two triples hash the same input. */
static int digest(const char *hash, const char *user, const char *password,
		  uint8_t out[SB_PROM_AUTH_DIGEST])
{
	size_t hl = strlen(hash) + 1, ul = strlen(user) + 1, pl = strlen(password) + 1;
	char *buf = malloc(hl + ul + pl);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, hash, hl);
	memcpy(buf + hl, user, ul);
	memcpy(buf + hl + ul, password, pl);
	int r = sym_gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, hl + ul + pl, out) ? -EIO : 0;
	explicit_bzero(buf, hl + ul + pl);
	free(buf);
	return r;
}

/* Every entry compared in full, whichever matches. */
static bool cached(struct sb_prom_auth *a, const uint8_t d[SB_PROM_AUTH_DIGEST])
{
	bool hit = false;
	pthread_mutex_lock(&a->mu);
	for (unsigned i = 0; i < a->ncached; i++)
		hit |= ct_equal(a->cache[i], d, SB_PROM_AUTH_DIGEST);
	pthread_mutex_unlock(&a->mu);
	return hit;
}

static void remember(struct sb_prom_auth *a, const uint8_t d[SB_PROM_AUTH_DIGEST])
{
	pthread_mutex_lock(&a->mu);
	memcpy(a->cache[a->next], d, SB_PROM_AUTH_DIGEST);
	a->next = (a->next + 1) % SB_PROM_AUTH_CACHE;
	if (a->ncached < SB_PROM_AUTH_CACHE)
		a->ncached++;
	pthread_mutex_unlock(&a->mu);
}

bool sb_prom_auth_allow(struct sb_prom_auth *a, const char *user, const char *password)
{
	if (!user || !password || !a->users->n)
		return false;
	const char *hash = NULL;
	for (size_t i = 0; i < a->users->n; i++)
		if (!strcmp(a->users->k[i], user))
			hash = a->users->v[i];
	if (!hash) {
		/* as long as a known user's wrong password takes; its answer
		 * means nothing for another name */
		atomic_fetch_add(&a->checks, 1);
		a->check(a->check_arg, password, a->users->v[0]);
		return false;
	}
	uint8_t d[SB_PROM_AUTH_DIGEST];
	if (digest(hash, user, password, d))
		return false;
	if (cached(a, d))
		return true;
	atomic_fetch_add(&a->checks, 1);
	if (a->check(a->check_arg, password, hash) != 1)
		return false;
	remember(a, d);
	return true;
}
