/* The algod sensor's state, shared by its files: algod.c runs the round
 * (the requests and the one event), algod_files.c reads what algod leaves
 * in its data directory (its address, its token). */
#ifndef SB_SENSOR_ALGOD_H
#define SB_SENSOR_ALGOD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../http/job.h"
#include "sb_sensor.h"

struct algod_cfg {
	char *data_dir;
	char *url;
	char *token_file;
	int64_t timeout;
	int64_t connect_timeout;
	struct sb_prom_limits limits;
};

/* A file we re-parse only when it changed. */
struct watched {
	char *path;
	struct stat st;
	bool have;
};

struct status {
	bool ok;
	double last_round, since_last_round, catchup, next_version_round;
	bool stopped, next_supported;
	char last_version[256], next_version[256];
};

struct algod {
	struct sb_sensor *s;
	const struct algod_cfg *c;
	struct sb_http *http;
	struct sb_scrape_job metrics;
	struct sb_http_req status_req, ready_req;
	struct watched net, token;
	struct curl_slist *token_hdr;
	char base[320];
	char desc[340]; /* "algod at http://..." for logs */
	char url_metrics[340], url_status[340], url_ready[340];
	char file_err[320];  /* why the address is unknown, "" if known */
	char token_err[320]; /* why the token is unknown, "" if known */

	/* the round in flight */
	bool running;
	int pending;
	int64_t start_mono, time_real;
	char why_status[400], why_ready[400];
	int err_status, err_ready;	  /* their requests' -errno, 0 if answered */
	struct sb_http_result status_res; /* for the backoff; no pointers kept */
	struct status st;
	int ready; /* -1 no answer */

	struct sb_backoff backoff;
	struct sb_scrape_health health;
	struct sb_ratelimit rl_busy, rl_note;
};

/* ---- the data directory's files (algod_files.c) ---- */

/* The base URL (http://host:port), and the URLs and log name made of it. */
void sb_algod_set_base(struct algod *a, const char *base);
/* algod.net again if it changed: the base URL, or why there is none in
 * a->file_err. */
void sb_algod_read_net(struct algod *a);
/* algod.token again if it changed, into the header list of /v2/status,
 * or why there is none in a->token_err. */
void sb_algod_read_token(struct algod *a);

#endif
