/* sensorbus: command line. Exit codes: 0 clean, 1 runtime failure,
 * 2 usage or config error. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands/commands.h"
#include "sb_agent.h"
#include "sb_config.h"
#include "sb_log.h"
#include "sb_util.h"

#ifndef SB_VERSION
#define SB_VERSION "0.0.0"
#endif
#ifndef SB_COMMIT
#define SB_COMMIT "unknown"
#endif

enum {
	OPT_ONCE = 256,
	OPT_DURATION,
	OPT_SENSORS,
	OPT_PROCFS,
	OPT_SYSFS,
	OPT_NO_BPF,
	OPT_CHECK,
	OPT_LOG_LEVEL,
	OPT_VERSION,
	OPT_HOST,
};

static const struct option long_opts[] = {
    {"config", required_argument, 0, 'c'},
    {"output", required_argument, 0, 'o'},
    {"once", no_argument, 0, OPT_ONCE},
    {"duration", required_argument, 0, OPT_DURATION},
    {"interval", required_argument, 0, 'i'},
    {"sensors", required_argument, 0, OPT_SENSORS},
    {"procfs", required_argument, 0, OPT_PROCFS},
    {"sysfs", required_argument, 0, OPT_SYSFS},
    {"no-bpf", no_argument, 0, OPT_NO_BPF},
    {"check-config", no_argument, 0, OPT_CHECK},
    {"log-level", required_argument, 0, OPT_LOG_LEVEL},
    {"host", required_argument, 0, OPT_HOST},
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, OPT_VERSION},
    {0, 0, 0, 0},
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: sensorbus [OPTIONS]\n"
	    "       sensorbus COMMAND ...   (commands below)\n"
	    "\n"
	    "A low-overhead, eBPF-assisted host metrics agent: sensors (procfs, BPF, algod,\n"
	    "Prometheus scrapes) publish events on a bus that delivers them to sinks (JSON\n"
	    "lines, Prometheus endpoint, RabbitMQ).\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE     JSON config (default: built-in: proc + bpf + agent sensors,\n"
	    "                        file sink)\n"
	    "  -o, --output PATH     one file sink at PATH instead of the config's sinks\n"
	    "                        ('-' is standard output)\n"
	    "      --once            one round from every enabled sensor, flush, exit\n"
	    "      --duration DUR    run for DUR (e.g. 500ms, 10s, 2m), then stop cleanly\n"
	    "  -i, --interval DUR    default collection interval (default 1s)\n"
	    "      --sensors LIST    comma-separated sensors to enable (e.g. proc,bpf)\n"
	    "      --procfs DIR      proc sensor's procfs root (default /proc)\n"
	    "      --sysfs DIR       proc sensor's sysfs root (default /sys)\n"
	    "      --no-bpf          procfs-only mode: never load BPF programs (nor the task\n"
	    "                        iterator: sensors.proc.process_reader procfs)\n"
	    "      --check-config    validate, print the effective config, exit 0 (or 2)\n"
	    "      --log-level LVL   error, warn, info (default), debug or trace (debug and\n"
	    "                        libbpf's own debug output)\n"
	    "      --host NAME       host name in events (default: the system's)\n"
	    "  -h, --help            this text\n"
	    "      --version         version and commit\n"
	    "\n"
	    "Commands:\n");
	for (const struct sb_subcommand *c = sb_subcommands; c->name; c++)
		fprintf(f, "  %-20s  %s\n", c->name, c->help);
	fprintf(f, "\nSensors:\n");
	size_t n;
	const struct sb_sensor_ops *const *so = sb_sensor_table(&n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-12s %s\n", so[i]->name, so[i]->desc);
	fprintf(f, "\nSinks:\n");
	const struct sb_sink_ops *const *ko = sb_sink_table(&n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-12s %s\n", ko[i]->name, ko[i]->desc);
	fprintf(f, "\nExit status: 0 clean, 1 runtime failure, 2 usage or config error.\n"
		   "Signals: SIGINT/SIGTERM drain and stop; SIGHUP reopens output files\n"
		   "and re-reads the prom sink's TLS certificates.\n"
		   "Every config key is listed in docs/config.md.\n");
}

/* Paths on the command line are the user's, relative to where they stand;
 * the config wants them absolute. */
static const char *absolute(const char *path, char *buf, size_t n)
{
	char cwd[4096];
	if (!path || *path == '/' || !strcmp(path, "-") || !*path || !getcwd(cwd, sizeof(cwd)))
		return path;
	if ((size_t)snprintf(buf, n, "%s/%s", cwd, path) >= n)
		return path;
	return buf;
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "sensorbus: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'sensorbus --help'.\n");
	return 2;
}

int main(int argc, char **argv)
{
	/* Events are allocated on the loop thread and freed on sink threads at
	 * a high rate. glibc's default trims the heap top on every free that
	 * leaves 128 KiB spare and grows it back on the next burst: a page
	 * fault storm. Keep freed memory for reuse instead (bounded by the
	 * queues' byte limits anyway). */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	if (argc > 1 && argv[1][0] != '-') {
		for (const struct sb_subcommand *c = sb_subcommands; c->name; c++)
			if (!strcmp(argv[1], c->name))
				return c->main(argc - 1, argv + 1);
		return die_usage("unknown command '%s'", argv[1]);
	}

	const char *config = NULL, *output = NULL, *sensors = NULL, *procfs = NULL, *sysfs = NULL,
		   *host = NULL, *log_level = NULL;
	const char *interval = NULL;
	bool check = false, no_bpf = false;
	struct sb_agent_opts opts = {0};
	int c;
	while ((c = getopt_long(argc, argv, "c:o:i:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'i':
			interval = optarg;
			break;
		case OPT_ONCE:
			opts.once = true;
			break;
		case OPT_DURATION:
			if (sb_parse_duration(optarg, &opts.duration) || opts.duration <= 0)
				return die_usage("--duration: invalid duration '%s' (like 500ms, "
						 "10s, 2m)",
						 optarg);
			break;
		case OPT_SENSORS:
			sensors = optarg;
			break;
		case OPT_PROCFS:
			procfs = optarg;
			break;
		case OPT_SYSFS:
			sysfs = optarg;
			break;
		case OPT_NO_BPF:
			no_bpf = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_LOG_LEVEL:
			log_level = optarg;
			break;
		case OPT_HOST:
			host = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("sensorbus %s (commit %s)\n", SB_VERSION, SB_COMMIT);
			return 0;
		default:
			fprintf(stderr, "Try 'sensorbus --help'.\n");
			return 2;
		}
	}
	if (optind < argc)
		return die_usage("unexpected argument '%s'", argv[optind]);
	char abs_output[4096], abs_procfs[4096], abs_sysfs[4096];
	output = absolute(output, abs_output, sizeof(abs_output));
	procfs = absolute(procfs, abs_procfs, sizeof(abs_procfs));
	sysfs = absolute(sysfs, abs_sysfs, sizeof(abs_sysfs));

	enum sb_log_level ll;
	if (log_level && sb_log_parse_level(log_level, &ll))
		return die_usage("--log-level: '%s' is not one of error, warn, info, debug, trace",
				 log_level);

	struct sb_buf text;
	sb_buf_init(&text);
	if (config) {
		ssize_t r = sb_read_file(config, &text, 16 << 20);
		if (r < 0) {
			fprintf(stderr, "sensorbus: config %s: %s\n", config, strerror((int)-r));
			sb_buf_free(&text);
			return 2;
		}
	}
	struct sb_config cfg;
	char err[512];
	int r = sb_config_load(&cfg, config ? sb_buf_cstr(&text) : NULL,
			       config ? config : "built-in", err, sizeof(err));
	sb_buf_free(&text);
	if (!r && interval) {
		int64_t iv;
		if (sb_parse_duration(interval, &iv) || iv < SB_NSEC_PER_MSEC) {
			snprintf(err, sizeof(err),
				 "--interval: invalid duration '%s' (at least 1ms)", interval);
			r = -EINVAL;
		} else {
			cfg.interval = iv;
		}
	}
	if (!r && sensors)
		r = sb_config_set_sensors(&cfg, sensors, err, sizeof(err));
	if (!r && procfs)
		r = sb_config_sensor_set(&cfg, "proc", "procfs", procfs, err, sizeof(err));
	if (!r && sysfs)
		r = sb_config_sensor_set(&cfg, "proc", "sysfs", sysfs, err, sizeof(err));
	if (!r && output)
		r = sb_config_set_output(&cfg, output, err, sizeof(err));
	if (!r && no_bpf) {
		struct sb_sensor_conf *b = sb_config_sensor(&cfg, "bpf");
		if (b)
			b->enabled = false;
		/* nor the process reader's task iterator */
		if (sb_config_sensor(&cfg, "proc"))
			r = sb_config_sensor_set(&cfg, "proc", "process_reader", "procfs", err,
						 sizeof(err));
	}
	if (!r && host) {
		free(cfg.host);
		cfg.host = strdup(host);
		if (!cfg.host)
			r = -ENOMEM;
	}
	if (!r && log_level)
		cfg.log_level = (int)ll;
	if (r) {
		fprintf(stderr, "sensorbus: config error: %s\n",
			r == -ENOMEM ? "out of memory" : err);
		sb_config_free(&cfg);
		return 2;
	}
	if (check) {
		char *s = sb_config_dump(&cfg);
		if (s)
			printf("%s\n", s);
		free(s);
		sb_config_free(&cfg);
		return s ? 0 : 1;
	}
	int code = sb_agent_run(&cfg, &opts);
	sb_config_free(&cfg);
	return code;
}
