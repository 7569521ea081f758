/* The algod sensor, in files of one concept each:
 *   algod.c                the round: its requests, the one event
 *   algod_files.c          what algod leaves in its data directory: its
 *                          address, its API and admin tokens
 *   algod_participation.c  /v2/participation and /v2/accounts: keys and
 *                          accounts, asked for, parsed and emitted
 *   algod_rounds.c         the recent time per round
 *   algod_process.c        the algod process, found from algod.pid
 *   algod_compat.c         the community emitter's names (compat) */
#ifndef SB_SENSOR_ALGOD_H
#define SB_SENSOR_ALGOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../http/job.h"
#include "sb_event.h"
#include "sb_sensor.h"
#include "sb_util.h"

/* What /v2/status said. */
struct sb_algod_status {
	bool ok;
	double last_round, since_last_round, catchup, next_version_round;
	bool stopped, next_supported;
	char last_version[256], next_version[256];
};

/* A round, a count of nanoseconds or of microAlgos as a node's uint64
 * fields hold them: whole, from 0 to what an int64 holds. 1e309 (infinity
 * to cJSON), -5 or 0.5 is none. */
static inline bool sb_algod_whole(double v) { return v >= 0 && v < 9.2e18 && sb_whole(v); }

/* The body of GET /v2/status into st (all but ok, which stays as it was);
 * 0, or -EINVAL with why naming the key at fault, st untouched. */
int sb_algod_parse_status(const char *body, size_t len, struct sb_algod_status *st, char *why,
			  size_t whyn);

/* ---- participation keys and accounts ---- */

/* An Algorand address: 58 characters of base32 (A-Z, 2-7). Only such
 * strings are put in a URL. */
#define SB_ALGOD_ADDR_LEN 58
bool sb_algod_address_ok(const char *s);

struct sb_algod_key {
	char address[SB_ALGOD_ADDR_LEN + 1];
	char id[128];
	/* effective-first/last-valid while registered, else the key's own
	 * vote-first/last-valid */
	bool have_first, have_last;
	double first_valid, last_valid;
	/* absent until the key voted, proposed or made a state proof */
	bool have_vote, have_proposal, have_state_proof;
	double last_vote, last_proposal, last_state_proof;
};

struct sb_algod_keys {
	struct sb_algod_key *v;
	size_t n, cap;
};

/* The body of GET /v2/participation into k (emptied first). Keys without
 * a valid address or id are skipped and counted in *skipped. 0, or
 * -EINVAL (not a JSON array) / -ENOMEM with *why set. */
int sb_algod_parse_participation(const char *body, size_t len, struct sb_algod_keys *k,
				 unsigned *skipped, const char **why);
void sb_algod_keys_free(struct sb_algod_keys *k);
/* algod_participation_key_*{address,id}; rounds_remaining only when the
 * current round is known (have_round). */
void sb_algod_emit_keys(struct sb_evb *b, const struct sb_algod_keys *k, bool have_round,
			double round);

struct sb_algod_account {
	bool online, incentive_eligible, have_vote_last_valid;
	double amount, vote_last_valid;
};
/* The body of GET /v2/accounts/{address}: 0 or -EINVAL with *why set. */
int sb_algod_parse_account(const char *body, size_t len, struct sb_algod_account *acc,
			   const char **why);
void sb_algod_emit_account(struct sb_evb *b, const char *address,
			   const struct sb_algod_account *acc);

/* ---- the recent time per round ---- */

/* The rounds the node committed, as (time the round was committed, round)
 * points, at most one per sensor round, over a sliding window. Only points
 * taken while the node is in sync count: a catching-up node commits old
 * rounds as fast as it can fetch them. */
#define SB_ALGOD_ROUNDS_MAX 128
struct sb_algod_rounds {
	int64_t window_ns; /* points older than this are dropped; 0: 10 min */
	struct {
		int64_t t_ns; /* real time the round was committed */
		double round;
	} p[SB_ALGOD_ROUNDS_MAX];
	size_t head, n;
};
/* A status seen at real time now_ns: round last_round, committed
 * since_s seconds ago. synced false (catching up, or not ready) or a round
 * that went backwards starts the window anew; a since_s outside
 * [0, 1e9) is ignored. */
void sb_algod_rounds_note(struct sb_algod_rounds *r, int64_t now_ns, double last_round,
			  double since_s, bool synced);
/* The average time per round over the window: false until it spans at
 * least two rounds. */
bool sb_algod_rounds_avg(const struct sb_algod_rounds *r, double *seconds);

/* ---- the algod process ---- */

struct sb_algod_proc {
	/* set by the owner */
	const char *pid_path; /* data_dir/algod.pid */
	const char *procfs;   /* the procfs root */

	/* this round's reading */
	bool up; /* algod.pid names a live process called algod */
	int err; /* -errno when not */
	char why[320];
	int64_t pid;
	double start_time;  /* unix seconds */
	double cpu_seconds; /* user + system */
	double rss_bytes;
	double mem_total_bytes; /* 0: unknown */
	bool have_cpu_pct;
	double cpu_pct; /* of the whole machine since the last round, as top / nproc */
	char argv0[256];

	/* the last round's, for the CPU rate */
	int64_t prev_pid;
	uint64_t prev_starttime;
	double prev_cpu;
	int64_t prev_mono_ns;
};
/* Reads algod.pid and /proc/<pid>/{stat,cmdline} under procfs, /proc/stat
 * (boot time) and /proc/meminfo (MemTotal). Never blocks: these are
 * procfs files and a small file in the data directory, read as
 * sb_fsafe.h says. Returns 0 when up, else -errno with why set. */
int sb_algod_proc_read(struct sb_algod_proc *p, int64_t now_mono_ns, unsigned ncpus);
/* algod_process_* samples; nothing but algod_process_up 0 when down. */
void sb_algod_proc_emit(struct sb_evb *b, const struct sb_algod_proc *p, int64_t now_real_ns);

/* ---- the community emitter's names ---- */

/* Everything the emitter's metrics are made of, read this round. */
struct sb_algod_view {
	const char *host; /* the node's name, as node_uname_info's nodename */
	const char *data_dir;
	const char *version; /* "3.12.2.stable"; "" unknown */
	const char *genesis_id;
	const char *port; /* the gossip port, from algod-listen.net; "" unknown */
	const struct sb_algod_status *st;
	const struct sb_algod_proc *proc;
	int64_t now_real_ns;
};
/* Node-Ops-LLC/algorand-monitoring's algod_* names and labels. */
void sb_algod_compat_emit(struct sb_evb *b, const struct sb_algod_view *v);
/* The body of GET /versions: "major.minor.build.channel" into version and
 * the genesis id; 0 or -EINVAL. */
int sb_algod_parse_versions(const char *body, size_t len, char *version, size_t vn, char *genesis,
			    size_t gn);
/* The port of a "host:port" address file's text; "" when there is none. */
void sb_algod_port_of(const char *text, char *out, size_t n);

/* ---- the sensor's state ---- */

struct algod_cfg {
	char *data_dir;
	char *url;
	char *token_file;
	char *admin_token_file;
	struct sb_strlist accounts;
	struct sb_strlist compat;
	char *procfs;
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

/* A token file and the header list made of it: the token lives only
 * there, wiped when replaced. */
struct token {
	struct watched file;
	struct curl_slist *hdr;
	int err;       /* -errno of the last read, 0 read */
	char why[320]; /* why there is no token, "" if there is */
};

/* At most this many accounts are watched: a request each per round. */
#define MAX_ACCOUNTS 64

/* An account watched this round, with its own request (a slot is kept
 * for its address from round to round, for the connection). */
struct account {
	char address[SB_ALGOD_ADDR_LEN + 1];
	struct sb_http_req req;
	char url[420]; /* base (320) + /v2/accounts/ + address + query */
	bool wanted;   /* asked for this round */
	bool ok;       /* answered this round */
	struct sb_algod_account v;
};

/* A state that is said once, when it changes, not every round: a missing
 * admin token must not become a line per interval. */
struct once {
	char last[400];
};

struct algod {
	struct sb_sensor *s;
	const struct algod_cfg *c;
	struct sb_http *http;
	struct sb_scrape_job metrics;
	struct sb_http_req status_req, ready_req, part_req, versions_req;
	struct watched net;
	struct token api, admin;
	char base[320];
	char desc[340]; /* "algod at http://..." for logs */
	char url_metrics[340], url_status[340], url_ready[340], url_part[340], url_versions[340];
	char file_err[320]; /* why the address is unknown, "" if known */
	bool compat;	    /* compat: ["algorand-monitoring"] */

	/* the round in flight */
	bool running;
	int pending;
	int64_t start_mono, time_real;
	char why_status[400], why_ready[400];
	int err_status, err_ready;	  /* their requests' -errno, 0 if answered */
	struct sb_http_result status_res; /* for the backoff; no pointers kept */
	struct sb_algod_status st;
	int ready;    /* -1 no answer */
	bool keys_ok; /* /v2/participation answered this round */
	char why_keys[400], why_accounts[400];

	/* kept from round to round */
	struct sb_algod_keys keys;
	struct account *acct[MAX_ACCOUNTS];
	size_t nacct;
	struct sb_algod_rounds rounds;
	struct sb_algod_proc proc;
	char *pid_path, *listen_path, *hostname_path;
	char version[64], genesis[128];
	struct once once_keys, once_accounts, once_proc;

	struct sb_backoff backoff;
	struct sb_scrape_health health;
	struct sb_ratelimit rl_busy, rl_note;
};

/* ---- the round (algod.c) ---- */

/* Starts r on url, counted in the round; false when it cannot start,
 * said in why (n bytes). */
bool sb_algod_start(struct algod *a, struct sb_http_req *r, const char *url, const char *what,
		    char *why, size_t n);
/* A request of the round ended; the last one ends the round. */
void sb_algod_one_done(struct algod *a);

/* ---- the data directory's files (algod_files.c) ---- */

/* The base URL (http://host:port), and the URLs and log name made of it. */
void sb_algod_set_base(struct algod *a, const char *base);
/* algod.net again if it changed: the base URL, or why there is none in
 * a->file_err. */
void sb_algod_read_net(struct algod *a);
/* t's file again if it changed, into t's header list, or why there is
 * none in t->why. */
void sb_algod_read_token(struct token *t);
/* A token the node rejected is read again next round, even unchanged. */
void sb_algod_token_rejected(struct token *t);
void sb_algod_token_free(struct token *t);

/* ---- keys and accounts in the round (algod_participation.c) ---- */

/* on_done of GET /v2/participation: the keys, then their accounts. */
void sb_algod_on_participation(void *arg, struct sb_http_req *r, const struct sb_http_result *res);
/* The accounts of the configured addresses and of the keys known this
 * round: all at once, with the API token. */
void sb_algod_start_accounts(struct algod *a);
void sb_algod_accounts_free(struct algod *a);

#endif
