/* HTTP basic authentication for the prom sink: users and their bcrypt
 * hashes, as node_exporter's web config takes them ($2a$, $2b$, $2y$).
 *
 * bcrypt costs tens of milliseconds by design, and a scraper sends the same
 * credentials every few seconds: a pair once verified is remembered as the
 * SHA-256 of (hash, user, password), never the password itself, so a scrape
 * pays a hash, not a bcrypt. Compares run in constant time, and an unknown
 * user costs a bcrypt like a known one, so timing tells neither passwords
 * nor which users exist. */
#ifndef SB_PROM_AUTH_H
#define SB_PROM_AUTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_config.h"

#define SB_PROM_AUTH_CACHE 16
#define SB_PROM_AUTH_DIGEST 32

struct sb_prom_auth {
	const struct sb_strmap *users; /* user -> bcrypt hash; the config's */
	/* 1: password matches hash, 0: not, <0: cannot tell. The default is
	 * crypt_r from libcrypt; tests count calls through their own. */
	int (*check)(void *arg, const char *password, const char *hash);
	void *check_arg;
	pthread_mutex_t mu; /* the cache */
	uint8_t cache[SB_PROM_AUTH_CACHE][SB_PROM_AUTH_DIGEST];
	unsigned ncached, next;
	atomic_uint_fast64_t checks; /* bcrypt runs */
};

/* A config check: every hash is bcrypt, every user name usable in Basic
 * authentication (not empty, no ':'). -EINVAL naming the user in err. */
int sb_prom_auth_check_users(const struct sb_strmap *users, char *err, size_t errlen);
/* Loads libcrypt and the hash. 0, or -errno with why in err. */
int sb_prom_auth_init(struct sb_prom_auth *a, const struct sb_strmap *users, char *err,
		      size_t errlen);
void sb_prom_auth_fini(struct sb_prom_auth *a);
/* Whether user and password (NULL: not sent) are allowed. */
bool sb_prom_auth_allow(struct sb_prom_auth *a, const char *user, const char *password);

#endif
