/* gzip for /metrics. A scrape is compressed once and read once, so speed
 * wins over size: level 1. libdeflate compresses a whole buffer in one call
 * and does it ~2.5 times as fast as zlib's level 1 on a 52 KB node answer
 * here (78 against 200 µs, and 9.1 KB against 9.7 KB); with Prometheus
 * asking for gzip on every scrape, compression was over half of the HTTP
 * thread's time. It is opened when first needed (sb_dl.h) and optional:
 * without it, zlib, which the agent links anyway. A compressor is not
 * thread-safe and takes a few hundred KB, so there is one, taken with a
 * trylock; a second scrape at the same moment uses zlib. */
#include <errno.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <zlib.h>

#include "prom_gzip.h"
#include "sb_dl.h"

#define DEFLATE_FNS(X)                                                                             \
	X(libdeflate_alloc_compressor)                                                             \
	X(libdeflate_gzip_compress)                                                                \
	X(libdeflate_gzip_compress_bound)                                                          \
	X(libdeflate_free_compressor)
DEFLATE_FNS(SB_DL_DECLARE)
static const struct sb_dl_sym deflate_syms[] = {DEFLATE_FNS(SB_DL_ENTRY){0}};
static struct sb_dl_lib libdeflate = {.soname = "libdeflate.so.0", .syms = deflate_syms};

#define LEVEL 1

struct sb_prom_gzip {
	pthread_mutex_t mu;
	struct libdeflate_compressor *c; /* NULL: zlib */
};

struct sb_prom_gzip *sb_prom_gzip_new(bool use_libdeflate)
{
	struct sb_prom_gzip *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	pthread_mutex_init(&g->mu, NULL);
	if (use_libdeflate && !sb_dl_open(&libdeflate))
		g->c = sym_libdeflate_alloc_compressor(LEVEL);
	return g;
}

void sb_prom_gzip_free(struct sb_prom_gzip *g)
{
	if (!g)
		return;
	if (g->c)
		sym_libdeflate_free_compressor(g->c);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

const char *sb_prom_gzip_impl(const struct sb_prom_gzip *g)
{
	return g && g->c ? "libdeflate" : "zlib";
}

static int with_zlib(const struct sb_buf *in, struct sb_buf *out)
{
	z_stream z = {0};
	if (deflateInit2(&z, LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	uLong bound = deflateBound(&z, (uLong)in->len);
	int r = sb_buf_reserve(out, bound);
	if (!r) {
		z.next_in = (Bytef *)(in->data ? in->data : "");
		z.avail_in = (uInt)in->len;
		z.next_out = (Bytef *)out->data;
		z.avail_out = (uInt)bound;
		r = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : -EIO;
		out->len = z.total_out;
	}
	deflateEnd(&z);
	return r;
}

static int with_libdeflate(struct libdeflate_compressor *c, const struct sb_buf *in,
			   struct sb_buf *out)
{
	size_t bound = sym_libdeflate_gzip_compress_bound(c, in->len);
	int r = sb_buf_reserve(out, bound);
	if (r)
		return r;
	size_t n =
	    sym_libdeflate_gzip_compress(c, in->data ? in->data : "", in->len, out->data, bound);
	if (!n)
		return -EIO; /* not with the bound's room */
	out->len = n;
	return 0;
}

int sb_prom_gzip(struct sb_prom_gzip *g, const struct sb_buf *in, struct sb_buf *out)
{
	if (g && g->c && !pthread_mutex_trylock(&g->mu)) {
		int r = with_libdeflate(g->c, in, out);
		pthread_mutex_unlock(&g->mu);
		return r;
	}
	return with_zlib(in, out);
}
