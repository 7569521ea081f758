#include "prom_tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_dl.h"
#include "sb_log.h"
#include "sb_util.h"

#define COMP "sink:prom"
/* PEM files larger than this are no certificate or key of ours */
#define PEM_MAX (1u << 20)

/* libmicrohttpd loads GnuTLS; these reach the same library (sb_dl.h). */
#define GNUTLS_FNS(X)                                                                              \
	X(gnutls_certificate_allocate_credentials)                                                 \
	X(gnutls_certificate_free_credentials)                                                     \
	X(gnutls_certificate_server_set_request)                                                   \
	X(gnutls_certificate_set_x509_key_mem)                                                     \
	X(gnutls_certificate_set_x509_trust_mem)                                                   \
	X(gnutls_credentials_set)                                                                  \
	X(gnutls_global_init)                                                                      \
	X(gnutls_session_set_verify_cert)                                                          \
	X(gnutls_strerror)                                                                         \
	X(gnutls_x509_crt_deinit)                                                                  \
	X(gnutls_x509_crt_get_expiration_time)                                                     \
	X(gnutls_x509_crt_get_serial)                                                              \
	X(gnutls_x509_crt_import)                                                                  \
	X(gnutls_x509_crt_init)                                                                    \
	X(gnutls_x509_privkey_deinit)                                                              \
	X(gnutls_x509_privkey_import2)                                                             \
	X(gnutls_x509_privkey_init)
GNUTLS_FNS(SB_DL_DECLARE)
static const struct sb_dl_sym gnutls_syms[] = {GNUTLS_FNS(SB_DL_ENTRY){0}};
static struct sb_dl_lib libgnutls = {.soname = "libgnutls.so.30", .syms = gnutls_syms};

static const char *const versions[] = {"TLS12", "TLS13", NULL};

/* what min_version allows, as GnuTLS priorities */
static const char *const priorities[] = {
    [SB_PROM_TLS12] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
    [SB_PROM_TLS13] = "NORMAL:-VERS-ALL:+VERS-TLS1.3",
};

#define K(f) offsetof(struct sb_prom_tls_cfg, f)
const struct sb_cfg_key sb_prom_tls_keys[] = {
    {"cert_file", SB_CT_STR, K(cert_file), NULL,
     "the server certificate (PEM; a chain: the server's first); set, /metrics is served over "
     "HTTPS only; re-read on SIGHUP",
     .flags = SB_CK_PATH},
    {"key_file", SB_CT_STR, K(key_file), NULL,
     "the certificate's private key (PEM, unencrypted); re-read on SIGHUP", .flags = SB_CK_PATH},
    {"min_version", SB_CT_ENUM, K(min_version), "TLS12", "oldest TLS version accepted",
     .choices = versions},
    {"client_ca_file", SB_CT_STR, K(client_ca_file), NULL,
     "CA certificates (PEM); set, every client must show a certificate one of them signed; "
     "re-read on SIGHUP",
     .flags = SB_CK_PATH},
    {0},
};

/* The files as read once: credentials for new sessions. */
struct sb_prom_tls_gen {
	gnutls_certificate_credentials_t cred;
	unsigned refs; /* the current slot's, and one per session */
};

struct sb_prom_tls {
	const struct sb_prom_tls_cfg *c;
	const char *name;
	pthread_mutex_t mu; /* cur, refs */
	struct sb_prom_tls_gen *cur;
	/* the first reading, for libmicrohttpd's own credentials */
	struct sb_buf pem_cert, pem_key, pem_ca;
	atomic_int_fast64_t not_after; /* the current certificate's, Unix seconds */
	atomic_uint_fast64_t reload_failures;
};

struct loaded {
	struct sb_buf cert, key, ca;
	gnutls_certificate_credentials_t cred;
	char serial[80];
	char until[32];
	time_t not_after;
};

static void loaded_free(struct loaded *l)
{
	if (l->key.data)
		explicit_bzero(l->key.data, l->key.len);
	sb_buf_free(&l->cert);
	sb_buf_free(&l->key);
	sb_buf_free(&l->ca);
	if (l->cred)
		sym_gnutls_certificate_free_credentials(l->cred);
	l->cred = NULL;
}

static int read_pem(const char *key, const char *path, struct sb_buf *b, char *err, size_t n)
{
	sb_buf_init(b);
	ssize_t r = sb_read_file(path, b, PEM_MAX);
	if (r == -EFBIG)
		snprintf(err, n, "tls.%s: %s: larger than %u bytes: not a PEM file", key, path,
			 PEM_MAX);
	else if (r < 0)
		snprintf(err, n, "tls.%s: cannot read %s: %s", key, path, strerror((int)-r));
	return r < 0 ? (int)r : 0;
}

static gnutls_datum_t datum(const struct sb_buf *b)
{
	return (gnutls_datum_t){.data = (unsigned char *)b->data, .size = (unsigned)b->len};
}

/* The first certificate's serial (hex, as openssl prints it) and end. */
static int describe_cert(const struct sb_prom_tls_cfg *c, struct loaded *l, char *err, size_t n)
{
	gnutls_x509_crt_t crt;
	int r = sym_gnutls_x509_crt_init(&crt);
	if (r < 0) {
		snprintf(err, n, "tls: %s", sym_gnutls_strerror(r));
		return -ENOMEM;
	}
	gnutls_datum_t d = datum(&l->cert);
	r = sym_gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		snprintf(err, n, "tls.cert_file: %s: no PEM certificate (%s)", c->cert_file,
			 sym_gnutls_strerror(r));
		sym_gnutls_x509_crt_deinit(crt);
		return -EINVAL;
	}
	unsigned char ser[40];
	size_t sl = sizeof(ser);
	l->serial[0] = 0;
	if (sym_gnutls_x509_crt_get_serial(crt, ser, &sl) >= 0)
		for (size_t i = 0; i < sl && 2 * i + 2 < sizeof(l->serial); i++)
			snprintf(l->serial + 2 * i, 3, "%02X", ser[i]);
	time_t end = l->not_after = sym_gnutls_x509_crt_get_expiration_time(crt);
	struct tm tm;
	if (end == (time_t)-1 || !gmtime_r(&end, &tm) ||
	    !strftime(l->until, sizeof(l->until), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(l->until, sizeof(l->until), "?");
	sym_gnutls_x509_crt_deinit(crt);
	return 0;
}

static int check_key(const struct sb_prom_tls_cfg *c, struct loaded *l, char *err, size_t n)
{
	gnutls_x509_privkey_t k;
	int r = sym_gnutls_x509_privkey_init(&k);
	if (r < 0) {
		snprintf(err, n, "tls: %s", sym_gnutls_strerror(r));
		return -ENOMEM;
	}
	gnutls_datum_t d = datum(&l->key);
	r = sym_gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	sym_gnutls_x509_privkey_deinit(k);
	if (r < 0) {
		snprintf(err, n, "tls.key_file: %s: no unencrypted PEM private key (%s)",
			 c->key_file, sym_gnutls_strerror(r));
		return -EINVAL;
	}
	return 0;
}

static int global_init_err;
static void global_init(void) { global_init_err = sym_gnutls_global_init(); }

/* Reads and checks every file and builds credentials from them. */
static int load(const struct sb_prom_tls_cfg *c, struct loaded *l, char *err, size_t n)
{
	memset(l, 0, sizeof(*l));
	if (sb_dl_open(&libgnutls)) {
		snprintf(err, n, "tls: %s: TLS needs GnuTLS", libgnutls.why);
		return libgnutls.err;
	}
	/* its constructor may leave it uninitialised ("in error state")
	 * when it was opened with dlopen; the call counts, so once is enough */
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, global_init);
	if (global_init_err < 0) {
		snprintf(err, n, "tls: GnuTLS: %s", sym_gnutls_strerror(global_init_err));
		return -EIO;
	}
	int r = read_pem("cert_file", c->cert_file, &l->cert, err, n);
	if (!r)
		r = read_pem("key_file", c->key_file, &l->key, err, n);
	if (!r && c->client_ca_file)
		r = read_pem("client_ca_file", c->client_ca_file, &l->ca, err, n);
	if (!r)
		r = describe_cert(c, l, err, n);
	if (!r)
		r = check_key(c, l, err, n);
	if (r)
		goto fail;
	int g = sym_gnutls_certificate_allocate_credentials(&l->cred);
	if (g < 0) {
		snprintf(err, n, "tls: %s", sym_gnutls_strerror(g));
		r = -ENOMEM;
		goto fail;
	}
	gnutls_datum_t cd = datum(&l->cert), kd = datum(&l->key);
	g = sym_gnutls_certificate_set_x509_key_mem(l->cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		snprintf(err, n, "tls: cert_file %s with key_file %s: %s", c->cert_file,
			 c->key_file, sym_gnutls_strerror(g));
		r = -EINVAL;
		goto fail;
	}
	if (c->client_ca_file) {
		gnutls_datum_t ad = datum(&l->ca);
		g = sym_gnutls_certificate_set_x509_trust_mem(l->cred, &ad, GNUTLS_X509_FMT_PEM);
		if (g <= 0) {
			snprintf(err, n, "tls.client_ca_file: %s: no PEM certificate%s%s",
				 c->client_ca_file, g ? ": " : "", g ? sym_gnutls_strerror(g) : "");
			r = -EINVAL;
			goto fail;
		}
	}
	return 0;
fail:
	loaded_free(l);
	return r;
}

int sb_prom_tls_validate(const struct sb_prom_tls_cfg *c, char *err, size_t errlen)
{
	bool key = c->key_file && *c->key_file;
	if (!sb_prom_tls_on(c)) {
		if (key || c->client_ca_file || c->min_version != SB_PROM_TLS12) {
			snprintf(err, errlen,
				 "tls: key_file, client_ca_file and min_version "
				 "need cert_file");
			return -EINVAL;
		}
		return 0;
	}
	if (!key) {
		snprintf(err, errlen, "tls: cert_file %s needs its key_file", c->cert_file);
		return -EINVAL;
	}
	struct loaded l;
	int r = load(c, &l, err, errlen);
	loaded_free(&l);
	return r;
}

static struct sb_prom_tls_gen *gen_new(struct loaded *l)
{
	struct sb_prom_tls_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->cred = l->cred;
	l->cred = NULL;
	g->refs = 1;
	return g;
}

/* Under mu. */
static void gen_put(struct sb_prom_tls_gen *g)
{
	if (--g->refs)
		return;
	sym_gnutls_certificate_free_credentials(g->cred);
	free(g);
}

/* Served all the same (the operator decides), but said: clients will refuse it. */
static void warn_expired(const char *name, const struct sb_prom_tls_cfg *c, const struct loaded *l)
{
	if (l->not_after != (time_t)-1 && l->not_after < time(NULL))
		sb_warn(
		    COMP,
		    "%s: tls: certificate %s expired at %s: clients that verify it will refuse it",
		    name, c->cert_file, l->until);
}

int sb_prom_tls_open(struct sb_prom_tls **out, const struct sb_prom_tls_cfg *c, const char *name)
{
	*out = NULL;
	if (!sb_prom_tls_on(c))
		return 0;
	struct sb_prom_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->c = c;
	t->name = name;
	pthread_mutex_init(&t->mu, NULL);
	struct loaded l;
	char err[512];
	int r = load(c, &l, err, sizeof(err));
	if (r) {
		sb_err(COMP, "%s: %s", name, err);
		free(t);
		return r;
	}
	t->cur = gen_new(&l);
	if (!t->cur) {
		loaded_free(&l);
		free(t);
		return -ENOMEM;
	}
	sb_info(COMP, "%s: tls: certificate %s (serial %s, valid until %s)%s", name, c->cert_file,
		l.serial, l.until, c->client_ca_file ? ", client certificates required" : "");
	warn_expired(name, c, &l);
	atomic_store(&t->not_after, (int_fast64_t)l.not_after);
	t->pem_cert = l.cert;
	t->pem_key = l.key;
	t->pem_ca = l.ca;
	*out = t;
	return 0;
}

void sb_prom_tls_free(struct sb_prom_tls *t)
{
	if (!t)
		return;
	/* the server is stopped: every session's reference is gone */
	pthread_mutex_lock(&t->mu);
	gen_put(t->cur);
	pthread_mutex_unlock(&t->mu);
	pthread_mutex_destroy(&t->mu);
	struct loaded l = {.cert = t->pem_cert, .key = t->pem_key, .ca = t->pem_ca};
	loaded_free(&l);
	free(t);
}

void sb_prom_tls_mhd_options(const struct sb_prom_tls *t, struct MHD_OptionItem *opts)
{
	size_t i = 0;
	if (t) {
		opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, t->pem_cert.data};
		opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, t->pem_key.data};
		opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
						    (void *)priorities[t->c->min_version]};
		if (t->c->client_ca_file)
			opts[i++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, t->pem_ca.data};
	}
	opts[i] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

struct sb_prom_tls_gen *sb_prom_tls_attach(struct sb_prom_tls *t, void *session)
{
	gnutls_session_t s = session;
	if (!s)
		return NULL;
	pthread_mutex_lock(&t->mu);
	struct sb_prom_tls_gen *g = t->cur;
	g->refs++;
	pthread_mutex_unlock(&t->mu);
	int r = sym_gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, g->cred);
	if (!r && t->c->client_ca_file) {
		/* libmicrohttpd only asks for a certificate and checks none:
		 * here the handshake fails without one the CA signed */
		sym_gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		sym_gnutls_session_set_verify_cert(s, NULL, 0);
	}
	if (r) {
		sb_prom_tls_detach(t, g);
		return NULL;
	}
	return g;
}

void sb_prom_tls_detach(struct sb_prom_tls *t, struct sb_prom_tls_gen *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&t->mu);
	gen_put(g);
	pthread_mutex_unlock(&t->mu);
}

int sb_prom_tls_reload(struct sb_prom_tls *t)
{
	struct loaded l;
	char err[512];
	int r = load(t->c, &l, err, sizeof(err));
	if (r) {
		atomic_fetch_add(&t->reload_failures, 1);
		sb_err(COMP, "%s: SIGHUP: %s; still serving the certificate read before", t->name,
		       err);
		return r;
	}
	struct sb_prom_tls_gen *g = gen_new(&l);
	if (g) {
		pthread_mutex_lock(&t->mu);
		gen_put(t->cur);
		t->cur = g;
		pthread_mutex_unlock(&t->mu);
		sb_info(COMP, "%s: SIGHUP: tls: certificate %s (serial %s, valid until %s)",
			t->name, t->c->cert_file, l.serial, l.until);
		warn_expired(t->name, t->c, &l);
		atomic_store(&t->not_after, (int_fast64_t)l.not_after);
	} else {
		atomic_fetch_add(&t->reload_failures, 1);
		sb_err(COMP,
		       "%s: SIGHUP: tls: out of memory; still serving the certificate read "
		       "before",
		       t->name);
	}
	loaded_free(&l);
	return g ? 0 : -ENOMEM;
}

void sb_prom_tls_stats(const struct sb_prom_tls *t, int64_t *not_after, uint64_t *reload_failures)
{
	*not_after = atomic_load(&t->not_after);
	*reload_failures = atomic_load(&t->reload_failures);
}
