/* `sensorbus spool verify DIR` and `sensorbus spool stats DIR`: look at a
 * spool offline (read-only; safe while the agent runs, which may change it
 * underneath). DIR is a sink's spool_dir (with shard-N subdirectories) or
 * one shard's directory. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../delivery/record.h"
#include "sb_log.h"
#include "sb_util.h"
#include "../spool/spool.h"
#include "commands.h"

struct stats {
	uint64_t records, pending, not_msgs;
	uint64_t first_seq, last_seq;
	int64_t oldest, newest;
	uint64_t bytes_payload;
};

static void on_rec(void *arg, uint64_t segno, uint64_t off, const void *p, uint32_t len,
		   bool pending)
{
	(void)segno;
	(void)off;
	struct stats *st = arg;
	st->records++;
	st->bytes_payload += len;
	if (!pending)
		return;
	st->pending++;
	struct sb_dmsg m;
	if (sb_rec_parse(p, len, &m)) {
		st->not_msgs++;
		return;
	}
	if (!st->first_seq || m.seq < st->first_seq)
		st->first_seq = m.seq;
	if (m.seq > st->last_seq)
		st->last_seq = m.seq;
	if (!st->oldest || m.time_ns < st->oldest)
		st->oldest = m.time_ns;
	if (m.time_ns > st->newest)
		st->newest = m.time_ns;
}

static bool is_shard_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)))
		found = !strncmp(e->d_name, "seg-", 4) || !strcmp(e->d_name, "cursor");
	closedir(d);
	return found;
}

/* Returns 1 when the spool has corrupt records, a torn tail or entries
 * named like segments that are none, 0 if clean, <0 on an error. */
static int one(const char *dir, bool verify)
{
	struct sb_spool_recovery rec;
	struct stats st = {0};
	int r = sb_spool_scan(dir, &rec, on_rec, &st);
	if (r) {
		fprintf(stderr, "sensorbus spool: %s: %s\n", dir, strerror(-r));
		return r;
	}
	printf("%s: %" PRIu64 " segment(s), %" PRIu64 " bytes, %" PRIu64 " record(s), %" PRIu64
	       " pending delivery, %" PRIu64 " corrupt (%" PRIu64 " bytes), %" PRIu64
	       " torn tail bytes, %" PRIu64 " bad segment(s), %" PRIu64 " skipped\n",
	       dir, rec.segments, rec.bytes, st.records, st.pending, rec.corrupt, rec.corrupt_bytes,
	       rec.torn_bytes, rec.bad_segments, rec.skipped);
	if (!verify && st.pending) {
		struct sb_timefmt tc = {0};
		char t0[32], t1[32];
		sb_fmt_rfc3339(&tc, t0, st.oldest);
		sb_fmt_rfc3339(&tc, t1, st.newest);
		printf("%s: pending seq %" PRIu64 "..%" PRIu64 ", event time %s .. %s\n", dir,
		       st.first_seq, st.last_seq, t0, t1);
	}
	if (st.not_msgs)
		printf("%s: %" PRIu64 " pending record(s) are not messages\n", dir, st.not_msgs);
	bool bad = rec.corrupt || rec.torn_bytes || rec.bad_segments || rec.skipped;
	return bad || st.not_msgs ? 1 : 0;
}

int sb_spool_main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "verify") && strcmp(argv[1], "stats"))) {
		fprintf(stderr,
			"usage: sensorbus spool verify|stats DIR\n"
			"  verify: check every record's checksum; exit 1 if any is corrupt\n"
			"  stats:  segments, records pending delivery, their seq and time\n");
		return 2;
	}
	bool verify = !strcmp(argv[1], "verify");
	const char *dir = argv[2];
	struct stat sb;
	if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "sensorbus spool: %s: not a directory\n", dir);
		return 2;
	}
	int worst = 0, found = 0;
	if (is_shard_dir(dir)) {
		worst = one(dir, verify);
		found = 1;
	} else {
		/* a sink's spool_dir: shard-0, shard-1, ... in order */
		for (unsigned i = 0; i < 4096; i++) {
			char sub[4200];
			snprintf(sub, sizeof(sub), "%s/shard-%u", dir, i);
			if (stat(sub, &sb))
				continue;
			found++;
			int r = one(sub, verify);
			if (r < 0 || (worst >= 0 && r > worst))
				worst = r;
		}
	}
	if (!found) {
		fprintf(stderr, "sensorbus spool: %s holds no spool\n", dir);
		return 2;
	}
	if (worst < 0)
		return 2;
	if (verify)
		printf("%s\n", worst ? "verify: problems found (see above)" : "verify: ok");
	return worst ? 1 : 0;
}
