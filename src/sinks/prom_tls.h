/* TLS for the prom sink's endpoint (libmicrohttpd over GnuTLS), with the
 * certificate rotated on SIGHUP without touching the listener.
 *
 * libmicrohttpd 0.9.75 reads its key and certificate once, at start, into
 * credentials it never lets go. So each connection is handed, before its
 * handshake, the credentials of the current generation: the files as last
 * read. A reload builds a new generation; connections already open keep
 * theirs (reference-counted) until they close. */
#ifndef SB_PROM_TLS_H
#define SB_PROM_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_config.h"

struct MHD_OptionItem;

enum sb_prom_tls_version { SB_PROM_TLS12, SB_PROM_TLS13 };

struct sb_prom_tls_cfg {
	char *cert_file;
	char *key_file;
	int min_version; /* enum sb_prom_tls_version */
	char *client_ca_file;
};

extern const struct sb_cfg_key sb_prom_tls_keys[];

/* Whether the section turns TLS on (cert_file set). */
static inline bool sb_prom_tls_on(const struct sb_prom_tls_cfg *c)
{
	return c->cert_file && *c->cert_file;
}

/* A config check: the keys agree, and the files read and parse (a
 * certificate, a key that is its own, CA certificates). -EINVAL with
 * err naming the key and the file. */
int sb_prom_tls_validate(const struct sb_prom_tls_cfg *c, char *err, size_t errlen);

struct sb_prom_tls;
struct sb_prom_tls_gen;

/* Reads the files (logging what fails, naming the file); *out NULL when TLS is off. */
int sb_prom_tls_open(struct sb_prom_tls **out, const struct sb_prom_tls_cfg *c, const char *name);
void sb_prom_tls_free(struct sb_prom_tls *t);
/* libmicrohttpd's TLS options (at most 4, then MHD_OPTION_END) for
 * MHD_OPTION_ARRAY: the first generation's files, the priorities for
 * min_version, the client CA. t may be NULL (just the end). */
void sb_prom_tls_mhd_options(const struct sb_prom_tls *t, struct MHD_OptionItem *opts);
/* A new connection's TLS session (gnutls_session_t) takes the current
 * generation's credentials, and must show a client certificate the CA
 * signed when client_ca_file is set. The reference to pass to detach when
 * the connection closes, or NULL when the session could not be set up
 * (then the connection must not be served). */
struct sb_prom_tls_gen *sb_prom_tls_attach(struct sb_prom_tls *t, void *session);
void sb_prom_tls_detach(struct sb_prom_tls *t, struct sb_prom_tls_gen *g);
/* SIGHUP: reads the files again. On failure the current certificate stays
 * and one error line says why. */
int sb_prom_tls_reload(struct sb_prom_tls *t);
/* For telemetry (atomics only): the certificate's end (Unix seconds), and
 * the SIGHUPs whose files could not be used. */
void sb_prom_tls_stats(const struct sb_prom_tls *t, int64_t *not_after, uint64_t *reload_failures);

#endif
