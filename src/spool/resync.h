/* Finding records in a spool file that may hold garbage, in time linear in
 * the file's size whatever the garbage is.
 *
 * A naive scan checks each candidate (the magic, a length that fits) by
 * reading and checksumming the length it claims: crafted bytes with a
 * candidate every few bytes, each claiming the rest of the file, make that
 * quadratic (hours for one 16 MiB segment). Here a candidate's checksum is
 * derived from checksums of file prefixes, kept every STEP bytes as the
 * scan first needs them: crc(payload) follows from crc(prefix to its start)
 * and crc(prefix to its end) (sb_crc32c_combine), so a candidate costs at
 * most 2 * STEP bytes read and checksummed, and each byte of the file is
 * read once more for the prefixes, over all calls on one file. */
#ifndef SB_SPOOL_RESYNC_H
#define SB_SPOOL_RESYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sb_resync {
	int fd;
	uint64_t base; /* no question is asked below it */
	uint32_t *ck;  /* ck[i]: crc32c of [base, base + i * STEP) */
	size_t nck, capck;
	unsigned char *win; /* the scan's window of the file */
	uint64_t wpos;
	size_t wlen;
	unsigned char blk[128]; /* the last STEP block read for a prefix */
	uint64_t blk_lo;
	size_t blk_len;
	/* Set once a record failed its check: from then on a long record is
	 * checked through the prefixes before its bytes are read or summed,
	 * so garbage cannot make each landing cost a full record. Clean files
	 * never pay for it. */
	bool careful;
};

void sb_resync_init(struct sb_resync *rs, int fd, uint64_t base);
void sb_resync_free(struct sb_resync *rs);
/* Is there a whole valid record at off (base <= off < size)? */
bool sb_resync_valid_at(struct sb_resync *rs, uint64_t off, uint64_t size);
/* The first offset in [from, size) where a valid record starts, or size. */
uint64_t sb_resync_next(struct sb_resync *rs, uint64_t from, uint64_t size);
/* Records longer than this are checked through the prefixes once the
 * scan is careful. */
#define SB_RESYNC_LONG 256u

/* pread until n bytes or end of file; counted in sb_spool_bytes_read. */
ssize_t sb_spool_pread(int fd, void *buf, size_t n, uint64_t off);

#endif
