/* Stream sinks: `file` (append, 0640, size rotation, reopen on SIGHUP) and
 * `stdout`, in any codec's stream framing (`format`: JSON lines, or
 * varint-delimited protobuf messages). Events are encoded into one buffer
 * and written with few large write(2)s. When the disk refuses, the bytes
 * stay in the buffer and the bus is told to retry, so nothing the sink took
 * is lost while the agent runs; what is still held at shutdown is counted
 * lost, and a record it left half written is cut off, so the file holds
 * whole records only (a "line" below is one event's record).
 *
 * The file is opened as sb_fsafe.h says: in a directory no other user can
 * write (made 0750 if missing), never through a link. A file deleted under
 * the sink (its directory removed) is noticed and made again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_codec.h"
#include "sb_fsafe.h"
#include "sb_log.h"
#include "sb_sink.h"

struct file_cfg {
	char *path;
	char *format;
	uint64_t rotate_bytes;
	int64_t keep;
	bool fsync;
	uint64_t buffer;
	uint64_t max_pending;
};

struct file_state {
	struct sb_sink *sink;
	const struct file_cfg *cfg;
	const char *name;
	const char *comp; /* log component: sink:file or sink:stdout */
	int fd;
	int dfd;	  /* its directory, for renames beside it */
	const char *base; /* its name in dfd */
	bool is_stdout;
	uint64_t size;	  /* of the current file */
	uint64_t partial; /* bytes of a line begun but not ended in it */
	uint64_t rest;	  /* varint framing: bytes of that line not yet written */
	uint64_t lost;	  /* events whose line was cut, for sb_sink.lost */
	char why[400];	  /* why the last open failed */
	struct sb_buf buf;
	const struct sb_codec *codec;
	bool nl;	     /* newline framing: lines end in '\n'; else they are delimited */
	struct file_cfg own; /* stdout's: its fixed keys and its format */
	struct sb_codec_ctx cc;
	struct sb_ratelimit rl;
	bool failing;
	bool reader_gone; /* stdout's reader closed it (EPIPE) */
};

static const struct sb_cfg_key file_keys[] = {
    {"path", SB_CT_STR, offsetof(struct file_cfg, path), "/var/log/sensorbus/events.jsonl",
     "file to append events to (its directory is created if missing)",
     .flags = SB_CK_PATH | SB_CK_OWNED | SB_CK_TARGET},
    {"format", SB_CT_STR, offsetof(struct file_cfg, format), "json",
     "json (JSON lines) or protobuf (varint-delimited sensorbus.v1.Event messages, "
     "docs/formats.md)"},
    {"rotate_bytes", SB_CT_SIZE, offsetof(struct file_cfg, rotate_bytes), "100MiB",
     "rotate when the file would grow past this size (0: never)", .min = 0, .max = 1e15},
    {"keep", SB_CT_INT, offsetof(struct file_cfg, keep), "5",
     "rotated files kept (path.1 is the newest)", .min = 0, .max = 1000},
    {"fsync", SB_CT_BOOL, offsetof(struct file_cfg, fsync), "false",
     "fsync after every flush (durable, slower)"},
    {"buffer", SB_CT_SIZE, offsetof(struct file_cfg, buffer), "256KiB",
     "bytes collected before a write", .min = 0, .max = 1e9},
    {"max_pending", SB_CT_SIZE, offsetof(struct file_cfg, max_pending), "16MiB",
     "bytes held while the disk refuses writes before the queue backs up", .min = 4096,
     .max = 1e12},
    {0},
};

static const struct sb_cfg_key stdout_keys[] = {
    {"format", SB_CT_STR, offsetof(struct file_cfg, format), "json",
     "json (JSON lines) or protobuf (varint-delimited sensorbus.v1.Event messages, "
     "docs/formats.md)"},
    {0},
};

static int file_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct file_cfg *c = cfgp;
	if (!sb_codec_find(c->format)) {
		snprintf(err, errlen, "format: \"%s\" unknown (one of %s)", c->format,
			 sb_codec_names());
		return -EINVAL;
	}
	return 0;
}

/* Length of the line that starts at p (lines are appended whole). */
static size_t line_len(const struct file_state *st, const char *p, size_t n)
{
	if (st->nl)
		return (size_t)((const char *)memchr(p, '\n', n) - p) + 1;
	uint64_t len = 0;
	size_t h = 0;
	for (unsigned shift = 0; h < n && shift < 64; shift += 7) {
		unsigned char c = (unsigned char)p[h++];
		len |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	return h + (size_t)len;
}

/* The rest of a half-written line, at the front of the buffer. */
static size_t rest_len(const struct file_state *st, const char *p, size_t n)
{
	return st->nl ? line_len(st, p, n) : (size_t)st->rest;
}

/* After w bytes written from p (where a line starts unless st->partial):
 * how much of the last line is in the file, and how much is not. */
static void account(struct file_state *st, const char *p, size_t w)
{
	if (st->nl) {
		const char *nl = memrchr(p, '\n', w);
		st->partial = nl ? (uint64_t)(p + w - (nl + 1)) : st->partial + (uint64_t)w;
		return;
	}
	if (st->partial) {
		if (w < st->rest) {
			st->partial += w;
			st->rest -= w;
			return;
		}
		p += st->rest;
		w -= (size_t)st->rest;
		st->partial = st->rest = 0;
	}
	while (w) {
		size_t l = line_len(st, p, w + 16); /* the buffer holds whole lines */
		if (w < l) {
			st->partial = w;
			st->rest = l - w;
			return;
		}
		p += l;
		w -= l;
	}
}

static int open_path(struct file_state *st)
{
	const char *path = st->cfg->path;
	if (st->dfd >= 0)
		close(st->dfd);
	st->dfd = -1;
	st->fd = sb_fsafe_open_path(path, O_WRONLY | O_APPEND | O_CREAT, 0640, 0750,
				    SB_FSAFE_DEVICE, &st->dfd, st->why, sizeof(st->why));
	if (st->fd < 0)
		return st->fd;
	const char *slash = strrchr(path, '/');
	st->base = slash ? slash + 1 : path;
	struct stat sb;
	st->size = fstat(st->fd, &sb) ? 0 : (uint64_t)sb.st_size;
	if (st->partial && st->buf.len) {
		/* the start of the held line went to the old file: its rest
		 * alone would be garbage in the new one */
		size_t cut = rest_len(st, st->buf.data, st->buf.len);
		memmove(st->buf.data, st->buf.data + cut, st->buf.len - cut);
		st->buf.len -= cut;
		st->lost++;
		sb_warn("sink:file",
			"%s: a line half written to the old %s is not finished in"
			" the new one; its event is lost",
			st->name, path);
	}
	st->partial = st->rest = 0;
	return 0;
}

static int common_open(struct sb_sink *s, const struct file_cfg *cfg, bool is_stdout)
{
	if (s->nshards != 1) {
		sb_err(s->name, "workers must be 1 for a %s sink (one writer keeps lines whole)",
		       s->ops->name);
		return -EINVAL;
	}
	struct file_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->sink = s;
	st->cfg = cfg;
	st->name = s->name;
	st->is_stdout = is_stdout;
	st->comp = is_stdout ? "sink:stdout" : "sink:file";
	st->codec = sb_codec_find(cfg->format);
	st->nl = st->codec->framing == SB_FRAME_NEWLINE;
	st->cc.run = s->ri->run;
	st->cc.host = s->ri->host;
	st->rl.interval_ns = 10 * SB_NSEC_PER_SEC;
	st->dfd = -1;
	sb_buf_init(&st->buf);
	if (is_stdout) {
		st->fd = STDOUT_FILENO;
	} else {
		int r = open_path(st);
		if (r) {
			sb_err("sink:file", "%s: %s", s->name, st->why);
			free(st);
			return r;
		}
	}
	s->state = st;
	return 0;
}

static int file_open(struct sb_sink *s) { return common_open(s, s->cfg, false); }

static int stdout_open(struct sb_sink *s)
{
	const struct file_cfg *c = s->cfg;
	int r = common_open(s, c, true);
	if (r)
		return r;
	struct file_state *st = s->state;
	st->own =
	    (struct file_cfg){.format = c->format, .buffer = 64 * 1024, .max_pending = 16 << 20};
	st->cfg = &st->own;
	return 0;
}

static int write_all(struct file_state *st, const char *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		/* Past shutdown_grace the bus interrupts a blocked write. */
		if (sb_sink_cancelled(st->sink))
			return -ECANCELED;
		ssize_t w = write(st->fd, p + *done, n - *done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* a short write before ENOSPC leaves a line half on disk */
		account(st, p + *done, (size_t)w);
		*done += (size_t)w;
		st->size += (uint64_t)w;
	}
	return 0;
}

static int rotate(struct file_state *st)
{
	const char *path = st->cfg->path;
	char from[4200], to[4200];
	if (st->cfg->fsync)
		fsync(st->fd);
	close(st->fd);
	st->fd = -1;
	/* renamed within the directory checked at open: nothing another
	 * user planted there since can redirect them */
	const char *b = st->base;
	int d = st->dfd;
	if (st->cfg->keep == 0) {
		unlinkat(d, b, 0);
	} else {
		for (int64_t i = st->cfg->keep - 1; i >= 1; i--) {
			snprintf(from, sizeof(from), "%s.%lld", b, (long long)i);
			snprintf(to, sizeof(to), "%s.%lld", b, (long long)i + 1);
			if (renameat(d, from, d, to) && errno != ENOENT)
				sb_warn("sink:file", "cannot rename %s.%lld to %s: %s", path,
					(long long)i, to, strerror(errno));
		}
		snprintf(to, sizeof(to), "%s.1", b);
		if (renameat(d, b, d, to))
			sb_warn("sink:file", "cannot rename %s to %s: %s", path, to,
				strerror(errno));
	}
	return open_path(st);
}

/* Writes out the buffer, rotating on line boundaries. On error the unwritten
 * bytes stay at the front of the buffer. */
/* A file whose last link is gone (deleted, or its directory removed)
 * takes writes no one will read: closed, so the next write makes it again.
 * One fstat per drain. */
static void check_deleted(struct file_state *st)
{
	struct stat sb;
	if (st->is_stdout || st->fd < 0 || fstat(st->fd, &sb) || sb.st_nlink > 0)
		return;
	sb_warn("sink:file", "%s: %s was deleted (or its directory); creating it again", st->name,
		st->cfg->path);
	close(st->fd);
	st->fd = -1;
}

static int drain(struct file_state *st)
{
	size_t off = 0;
	int r = 0;
	bool open_failed = false;
	if (st->buf.len)
		check_deleted(st);
	while (off < st->buf.len) {
		if (st->fd < 0 && (r = open_path(st))) {
			open_failed = true;
			break;
		}
		const char *p = st->buf.data + off;
		size_t n = st->buf.len - off;
		uint64_t lim = st->cfg->rotate_bytes;
		if (st->partial) {
			/* the rest of a half-written line goes where its start is */
			n = rest_len(st, p, n);
		} else if (!st->is_stdout && lim && st->size + n > lim) {
			size_t room = st->size < lim ? (size_t)(lim - st->size) : 0;
			size_t cut = 0;
			if (st->nl) {
				for (size_t i = room; i > 0; i--) {
					if (p[i - 1] == '\n') {
						cut = i;
						break;
					}
				}
			} else {
				for (size_t l;
				     cut < n && (l = line_len(st, p + cut, n - cut)) <= room - cut;)
					cut += l;
			}
			if (cut == 0 && st->size > 0) {
				if ((r = rotate(st)))
					break;
				continue;
			}
			if (cut)
				n = cut;
			/* a single line longer than the limit goes out alone */
			else
				n = line_len(st, p, n);
		}
		size_t done;
		r = write_all(st, p, n, &done);
		off += done;
		if (r)
			break;
	}
	if (off) {
		memmove(st->buf.data, st->buf.data + off, st->buf.len - off);
		st->buf.len -= off;
	}
	if (r == -EPIPE && st->is_stdout) {
		/* Like any filter: the reader is gone, nothing more can reach it. */
		if (!st->reader_gone)
			sb_sink_stop_agent(st->sink, "standard output was closed by its reader");
		st->reader_gone = true;
		return r;
	}
	if (r == -ECANCELED)
		return r;
	if (r && open_failed) {
		sb_log_rl(&st->rl, SB_LOG_ERROR, st->comp, "%s: %s (%zu bytes held, will retry)",
			  st->name, st->why, st->buf.len);
		st->failing = true;
	} else if (r) {
		sb_log_rl(&st->rl, SB_LOG_ERROR, st->comp,
			  "%s: cannot write %s: %s (%zu bytes held, will retry)", st->name,
			  st->is_stdout ? "stdout" : st->cfg->path, strerror(-r), st->buf.len);
		st->failing = true;
	} else if (st->failing) {
		sb_info(st->comp, "%s: writing to %s again", st->name,
			st->is_stdout ? "stdout" : st->cfg->path);
		st->failing = false;
		st->rl.last_ns = 0;
	}
	return r;
}

static enum sb_sink_status file_write(struct sb_sink *s, unsigned shard,
				      struct sb_event *const *evs, size_t n, size_t *taken)
{
	(void)shard;
	struct file_state *st = s->state;
	*taken = 0;
	if (st->reader_gone)
		return SB_SINK_ERROR;
	if (st->buf.len >= st->cfg->max_pending && drain(st))
		return SB_SINK_RETRY;
	for (size_t i = 0; i < n; i++)
		sb_codec_frame(st->codec, &st->buf, &st->cc, evs[i]);
	if (st->buf.err) {
		/* Out of memory while encoding: nothing of this batch counts. */
		sb_err(st->comp, "%s: out of memory encoding events", st->name);
		st->buf.err = 0;
		return SB_SINK_RETRY;
	}
	*taken = n;
	if (st->buf.len >= st->cfg->buffer)
		drain(st); /* an error here is retried at the next write or flush */
	return SB_SINK_OK;
}

static enum sb_sink_status file_flush(struct sb_sink *s, unsigned shard)
{
	(void)shard;
	struct file_state *st = s->state;
	if (st->reader_gone)
		return SB_SINK_OK; /* what it held is counted lost at close */
	if (drain(st))
		return SB_SINK_RETRY;
	if (st->cfg->fsync && !st->is_stdout && fsync(st->fd)) {
		sb_log_rl(&st->rl, SB_LOG_ERROR, st->comp, "%s: fsync %s: %s", st->name,
			  st->cfg->path, strerror(errno));
		return SB_SINK_RETRY;
	}
	return SB_SINK_OK;
}

static void file_reopen(struct sb_sink *s, unsigned shard)
{
	(void)shard;
	struct file_state *st = s->state;
	if (st->is_stdout)
		return;
	drain(st);
	if (st->fd >= 0)
		close(st->fd);
	int r = open_path(st);
	if (r)
		sb_err("sink:file", "%s: cannot reopen %s: %s (will retry)", st->name,
		       st->cfg->path, st->why);
	else
		sb_info("sink:file", "%s: reopened %s", st->name, st->cfg->path);
}

/* The start of a line whose end could not be written (its event is
 * counted lost) is cut, so a reader never sees half an event. */
static void cut_partial(struct file_state *st)
{
	struct stat sb;
	if (!st->partial || st->is_stdout || st->fd < 0)
		return;
	if (fstat(st->fd, &sb) || !S_ISREG(sb.st_mode))
		return; /* a device keeps what it took */
	if ((uint64_t)sb.st_size < st->partial ||
	    ftruncate(st->fd, sb.st_size - (off_t)st->partial)) {
		sb_err("sink:file", "%s: cannot cut the incomplete last line off %s: %s", st->name,
		       st->cfg->path,
		       (uint64_t)sb.st_size < st->partial ? "it is shorter than that line"
							  : strerror(errno));
		return;
	}
	sb_warn("sink:file", "%s: cut the incomplete last line (%llu bytes) off %s", st->name,
		(unsigned long long)st->partial, st->cfg->path);
	st->partial = 0;
}

static void file_close(struct sb_sink *s)
{
	struct file_state *st = s->state;
	if (!st)
		return;
	s->lost += st->lost;
	if (st->buf.len && (st->reader_gone || sb_sink_cancelled(s) || drain(st))) {
		/* one event per line: count what is still held */
		if (st->nl) {
			for (size_t i = 0; i < st->buf.len; i++)
				s->lost += st->buf.data[i] == '\n';
		} else {
			size_t i = (size_t)st->rest;
			s->lost += st->partial ? 1 : 0;
			for (; i < st->buf.len;
			     i += line_len(st, st->buf.data + i, st->buf.len - i))
				s->lost++;
		}
		sb_err(st->comp, "%s: %llu events (%zu bytes) could not be written to %s", st->name,
		       (unsigned long long)s->lost, st->buf.len,
		       st->is_stdout ? "stdout" : st->cfg->path);
		cut_partial(st);
	}
	if (!st->is_stdout && st->fd >= 0) {
		if (st->cfg->fsync)
			fsync(st->fd);
		close(st->fd);
	}
	if (st->dfd >= 0)
		close(st->dfd);
	sb_buf_free(&st->buf);
	free(st);
	s->state = NULL;
}

static int file_health(struct sb_sink *s)
{
	struct file_state *st = s->state;
	return st && st->failing ? -EIO : 0;
}

const struct sb_sink_ops sb_sink_file = {
    .name = "file",
    .desc = "events appended to a file (JSON lines or delimited protobuf), with size rotation "
	    "and reopen on SIGHUP",
    .keys = file_keys,
    .cfg_size = sizeof(struct file_cfg),
    .validate = file_validate,
    .open = file_open,
    .write = file_write,
    .flush = file_flush,
    .reopen = file_reopen,
    .close = file_close,
    .health = file_health,
};

const struct sb_sink_ops sb_sink_stdout = {
    .name = "stdout",
    .desc = "events on standard output (JSON lines or delimited protobuf)",
    .keys = stdout_keys,
    .cfg_size = sizeof(struct file_cfg),
    .validate = file_validate,
    .open = stdout_open,
    .write = file_write,
    .flush = file_flush,
    .close = file_close,
    .health = file_health,
};

static enum sb_sink_status null_write(struct sb_sink *s, unsigned shard,
				      struct sb_event *const *evs, size_t n, size_t *taken)
{
	(void)s;
	(void)shard;
	(void)evs;
	*taken = n;
	return SB_SINK_OK;
}

const struct sb_sink_ops sb_sink_null = {
    .name = "null",
    .desc = "discards events (for benchmarks of the sensors and the bus)",
    .write = null_write,
};
