/* Optional shared libraries, opened when a configured sensor or sink first
 * needs them rather than linked into every run: libcurl (algod, scrape),
 * libmicrohttpd (prom) and librabbitmq (amqp) bring about thirty libraries
 * between them (OpenSSL, GnuTLS, Kerberos, LDAP, ...), several megabytes of
 * resident pages and start-up relocations that an agent running only procfs
 * and BPF sensors never uses.
 *
 * A user names each function once, in a list from which come one pointer
 * per function (with the library's own prototype) and the table that
 * resolves them, and calls through the pointers:
 *
 *	#define CURL_FNS(X) X(curl_easy_init) X(curl_easy_cleanup)
 *	CURL_FNS(SB_DL_DECLARE)
 *	static const struct sb_dl_sym curl_syms[] = {CURL_FNS(SB_DL_ENTRY){0}};
 *	static struct sb_dl_lib curl = {"libcurl.so.4", curl_syms};
 *
 * (SB_DL_EXTERN in a header and SB_DL_DEFINE in one file where several
 * files call the library.)
 *	...
 *	if (sb_dl_open(&curl)) { log curl.why; fail }
 *	CURL *e = sym_curl_easy_init();
 */
#ifndef SB_DL_H
#define SB_DL_H

#define SB_DL_DECLARE(fn) static __typeof__(fn) *sym_##fn;
#define SB_DL_EXTERN(fn) extern __typeof__(fn) *sym_##fn;
#define SB_DL_DEFINE(fn) __typeof__(fn) *sym_##fn;
#define SB_DL_ENTRY(fn) {#fn, (void **)&sym_##fn},

struct sb_dl_sym {
	const char *name;
	void **fn;
};

struct sb_dl_lib {
	const char *soname;	      /* e.g. "libcurl.so.4": the ABI the headers describe */
	const struct sb_dl_sym *syms; /* ends with {0} */
	/* set by sb_dl_open */
	void *handle;
	int err;
	char why[200]; /* the one line saying why not, when err */
};

/* Opens the library and resolves every symbol, once (later calls return
 * the first answer; thread-safe). 0, or -ELIBACC (not installed) / -ENOSYS
 * (a symbol is missing: another version) with why filled. The library stays
 * loaded for the life of the process. */
int sb_dl_open(struct sb_dl_lib *lib);

#endif
