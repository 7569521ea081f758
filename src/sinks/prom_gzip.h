/* gzip for the prom sink's answers: libdeflate when it is installed, zlib
 * otherwise. */
#ifndef SB_PROM_GZIP_H
#define SB_PROM_GZIP_H

#include <stdbool.h>

#include "sb_util.h"

struct sb_prom_gzip;

/* NULL only without memory. use_libdeflate false keeps to zlib (tests). */
struct sb_prom_gzip *sb_prom_gzip_new(bool use_libdeflate);
void sb_prom_gzip_free(struct sb_prom_gzip *g);
/* Compresses in into out (reserved as needed) as one gzip member: 0, or
 * -ENOMEM / -EIO with out's contents undefined. Safe from any thread. */
int sb_prom_gzip(struct sb_prom_gzip *g, const struct sb_buf *in, struct sb_buf *out);
/* "libdeflate" or "zlib": what sb_prom_gzip uses when it is not busy. */
const char *sb_prom_gzip_impl(const struct sb_prom_gzip *g);

#endif
