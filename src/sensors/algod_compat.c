/* compat: ["algorand-monitoring"]: the algod_* names and labels the node
 * runners' community emitter (Node-Ops-LLC/algorand-monitoring's
 * algod_metrics_emitter.sh) wrote for node_exporter's textfile collector,
 * so their Grafana dashboard works unchanged. Each is one row over a value
 * the sensor already read this round (/v2/status, the algod process):
 * nothing is read twice and no rule elsewhere must follow our names. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "algod.h"
#include "sb_util.h"

/* What the emitter put on its process metrics besides host. */
enum labels { HOST, META };

struct row {
	const char *name;
	enum sb_mtype type; /* as the emitter declared it */
	enum labels labels;
	const char *help;
	/* false: no value this round, the sample is left out */
	bool (*value)(const struct sb_algod_view *v, double *out);
};

#define ST_VALUE(fn, field)                                                                        \
	static bool fn(const struct sb_algod_view *v, double *out)                                 \
	{                                                                                          \
		*out = v->st->field;                                                               \
		return v->st->ok;                                                                  \
	}
ST_VALUE(last_round, last_round)
ST_VALUE(since_last_round, since_last_round)
ST_VALUE(catchup, catchup)
ST_VALUE(next_round, next_version_round)

static bool is_active(const struct sb_algod_view *v, double *out)
{
	*out = v->proc->up;
	return true;
}

static bool pid(const struct sb_algod_view *v, double *out)
{
	*out = (double)v->proc->pid;
	return v->proc->up;
}

static bool start_time(const struct sb_algod_view *v, double *out)
{
	*out = v->proc->start_time;
	return v->proc->up && v->proc->start_time > 0;
}

static bool uptime(const struct sb_algod_view *v, double *out)
{
	*out = (double)v->now_real_ns / 1e9 - v->proc->start_time;
	return v->proc->up && v->proc->start_time > 0;
}

static bool cpu_pct(const struct sb_algod_view *v, double *out)
{
	*out = v->proc->cpu_pct;
	return v->proc->up && v->proc->have_cpu_pct;
}

static bool mem_pct(const struct sb_algod_view *v, double *out)
{
	*out = v->proc->rss_bytes / v->proc->mem_total_bytes * 100;
	return v->proc->up && v->proc->mem_total_bytes > 0;
}

static const struct row rows[] = {
    {"algod_last_committed_block", SB_COUNTER, HOST,
     "The most recent block committed to the ledger (/v2/status last-round).", last_round},
    /* the dashboard's ledger panels ask for it by host: algod's own
     * algod_ledger_round has no such label */
    {"algod_ledger_round", SB_GAUGE, HOST, "Last round written to ledger.", last_round},
    {"algod_next_consensus_round", SB_COUNTER, HOST,
     "The round of the next consensus protocol (/v2/status next-version-round).", next_round},
    {"algod_time_since_last_block_seconds", SB_GAUGE, HOST,
     "Time since the most recent block was received, in seconds.", since_last_round},
    {"algod_sync_time_seconds", SB_GAUGE, HOST,
     "Time spent catching up with the network, in seconds (0 in sync).", catchup},
    {"algod_pid", SB_GAUGE, META, "The algod process id (algod.pid).", pid},
    {"algod_is_active", SB_GAUGE, META, "1 when the algod process is running.", is_active},
    {"algod_start_timestamp_seconds", SB_COUNTER, META,
     "When the algod process started, in unix time.", start_time},
    {"algod_uptime_seconds", SB_GAUGE, META, "Seconds since the algod process started.", uptime},
    {"algod_cpu_pct", SB_GAUGE, META,
     "CPU used by algod since the last round, percent of the whole machine.", cpu_pct},
    {"algod_mem_pct", SB_GAUGE, META, "Resident memory of algod, percent of MemTotal.", mem_pct},
};

void sb_algod_compat_emit(struct sb_evb *b, const struct sb_algod_view *v)
{
	char pidtext[24] = "";
	if (v->proc->up)
		snprintf(pidtext, sizeof(pidtext), "%lld", (long long)v->proc->pid);
	for (size_t i = 0; i < SB_ARRAY_SIZE(rows); i++) {
		double x;
		if (!rows[i].value(v, &x))
			continue;
		sb_evb_sample(b, rows[i].name, rows[i].type, x);
		sb_evb_help(b, rows[i].help);
		sb_evb_label(b, "host", v->host);
		if (rows[i].labels != META)
			continue;
		sb_evb_label(b, "algod_version", v->version);
		sb_evb_label(b, "algod_port", v->port);
		sb_evb_label(b, "algod_genesis_id", v->genesis_id);
		sb_evb_label(b, "algod_instance", v->proc->argv0);
		sb_evb_label(b, "algod_instance_data_dir", v->data_dir);
		sb_evb_label(b, "algod_pid", pidtext);
	}
}

int sb_algod_parse_versions(const char *body, size_t len, char *version, size_t vn, char *genesis,
			    size_t gn)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(o, "build");
	const cJSON *maj = cJSON_GetObjectItemCaseSensitive(build, "major");
	const cJSON *min = cJSON_GetObjectItemCaseSensitive(build, "minor");
	const cJSON *num = cJSON_GetObjectItemCaseSensitive(build, "build_number");
	const cJSON *chan = cJSON_GetObjectItemCaseSensitive(build, "channel");
	const cJSON *gid = cJSON_GetObjectItemCaseSensitive(o, "genesis_id");
	int r = -EINVAL;
	if (cJSON_IsNumber(maj) && cJSON_IsNumber(min) && cJSON_IsNumber(num) &&
	    cJSON_IsString(chan) && cJSON_IsString(gid)) {
		/* as `algod -v` prints it: 3.12.2.stable */
		snprintf(version, vn, "%d.%d.%d.%s", maj->valueint, min->valueint, num->valueint,
			 chan->valuestring);
		snprintf(genesis, gn, "%s", gid->valuestring);
		r = 0;
	}
	cJSON_Delete(o);
	return r;
}

void sb_algod_port_of(const char *text, char *out, size_t n)
{
	out[0] = 0;
	const char *colon = strrchr(text, ':');
	if (!colon)
		return;
	size_t l = strspn(colon + 1, "0123456789");
	if (l && l < 6 && (colon[1 + l] == 0 || colon[1 + l] == '\n'))
		snprintf(out, n, "%.*s", (int)l, colon + 1);
}
