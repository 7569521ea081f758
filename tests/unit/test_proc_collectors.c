/* The collector table: names, defaults, files and keys agree with each
 * other and with node_exporter; the sensor enables what the config names,
 * opens a file several collectors list once, and counts a complaint about
 * it once a round. */
#include "test_proc.h"

#include "sb_sensor.h"

extern const struct sb_sensor_ops sb_sensor_proc;

/* node_exporter's collectors enabled by default on Linux (its README,
 * 1.5.0). */
static const char *const ne_default_on[] = {
    "arp",	  "bcache",	  "bonding",	      "btrfs",	    "conntrack",
    "cpu",	  "cpufreq",	  "diskstats",	      "dmi",	    "edac",
    "entropy",	  "fibrechannel", "filefd",	      "filesystem", "hwmon",
    "infiniband", "ipvs",	  "loadavg",	      "mdadm",	    "meminfo",
    "netclass",	  "netdev",	  "netstat",	      "nfs",	    "nfsd",
    "nvme",	  "os",		  "powersupplyclass", "pressure",   "rapl",
    "schedstat",  "selinux",	  "sockstat",	      "softnet",    "stat",
    "tapestats",  "textfile",	  "thermal_zone",     "time",	    "timex",
    "udp_queues", "uname",	  "vmstat",	      "xfs",	    "zfs",
};
/* on by default in upstream node_exporter, newer than 1.5.0 */
static const char *const upstream_default_on[] = {"dmmultipath", "kernel_hung", "watchdog"};

static int setup(void **state)
{
	(void)state;
	return tp_dir_setup(tp_warn_hook);
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static const struct sb_cfg_key *sensor_key(const char *name)
{
	for (const struct sb_cfg_key *k = sb_sensor_proc.keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

static void names_are_unique_and_found(void **state)
{
	(void)state;
	assert_true(sb_proc_ncollectors > 0);
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		const struct sb_proc_collector *d = sb_proc_collectors[i];
		assert_non_null(d->name);
		assert_non_null(d->collect);
		assert_ptr_equal(sb_proc_collector_find(d->name), d);
		for (size_t j = i + 1; j < sb_proc_ncollectors; j++)
			if (!strcmp(d->name, sb_proc_collectors[j]->name))
				fail_msg("collector %s listed twice", d->name);
	}
	assert_null(sb_proc_collector_find("bogus"));
}

/* The collectors default is the default_on rows in table order, each a
 * collector node_exporter enables by default (processes, sensorbus' own
 * per-process metrics, aside). */
static void default_list_is_the_default_on_rows(void **state)
{
	(void)state;
	const struct sb_cfg_key *k = sensor_key("collectors");
	assert_non_null(k);
	assert_non_null(k->def);
	char want[1024] = "";
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		const struct sb_proc_collector *d = sb_proc_collectors[i];
		if (!d->default_on)
			continue;
		if (want[0])
			strcat(want, ",");
		strcat(want, d->name);
		bool ne = !strcmp(d->name, "processes");
		for (size_t j = 0; j < SB_ARRAY_SIZE(ne_default_on) && !ne; j++)
			ne = !strcmp(d->name, ne_default_on[j]);
		for (size_t j = 0; j < SB_ARRAY_SIZE(upstream_default_on) && !ne; j++)
			ne = !strcmp(d->name, upstream_default_on[j]);
		if (!ne)
			fail_msg("%s is on by default, node_exporter's is not", d->name);
	}
	assert_string_equal(k->def, want);
	/* every name in the default is a collector */
	char copy[1024], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", k->def);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		assert_non_null(sb_proc_collector_find(t));
}

static void unknown_name_is_rejected_with_the_valid_names(void **state)
{
	(void)state;
	char *names[] = {"cpu", "bogus"};
	struct proc_cfg cfg = {.collectors = {names, 2}};
	char err[1024] = "";
	assert_int_equal(sb_sensor_proc.validate(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown collector \"bogus\""));
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s%s%s", i ? " " : "(", sb_proc_collectors[i]->name,
			 i + 1 < sb_proc_ncollectors ? "," : ")");
		if (!strstr(err, name))
			fail_msg("%s not listed in: %s", sb_proc_collectors[i]->name, err);
	}
	cfg.collectors.n = 1;
	assert_int_equal(sb_sensor_proc.validate(&cfg, err, sizeof(err)), 0);
}

/* Every row's keys are in the sensor's table exactly once, and no name is
 * used twice. */
static void row_keys_are_the_sensor_keys(void **state)
{
	(void)state;
	for (const struct sb_cfg_key *k = sb_sensor_proc.keys; k->name; k++)
		for (const struct sb_cfg_key *l = k + 1; l->name; l++)
			if (!strcmp(k->name, l->name))
				fail_msg("key %s twice", k->name);
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		const struct sb_proc_collector *d = sb_proc_collectors[i];
		for (const struct sb_cfg_key *k = d->keys; k && k->name; k++) {
			const struct sb_cfg_key *s = sensor_key(k->name);
			if (!s || s->off != k->off)
				fail_msg("%s's key %s is not the sensor's", d->name, k->name);
		}
	}
}

/* Files: relative, at most SB_PROC_MAX_SRC a row, and described alike by
 * every row listing them (they share one open file). */
static void files_agree_between_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		const struct sb_proc_collector *d = sb_proc_collectors[i];
		size_t n = 0;
		for (const struct sb_proc_src *f = d->files; f && f->rel; f++, n++) {
			assert_true(f->rel[0] && f->rel[0] != '/');
			for (size_t j = 0; j < sb_proc_ncollectors; j++) {
				const struct sb_proc_src *g = sb_proc_collectors[j]->files;
				for (; g && g->rel; g++)
					if (!strcmp(f->rel, g->rel) && f->sysfs == g->sysfs &&
					    (f->single != g->single || f->line_max != g->line_max ||
					     f->optional != g->optional))
						fail_msg("%s and %s describe %s differently",
							 d->name, sb_proc_collectors[j]->name,
							 f->rel);
			}
		}
		assert_true(n <= SB_PROC_MAX_SRC);
	}
}

static const char stat_text[] = "cpu  1 0 1 10 0 0 0 0 0 0\n"
				"cpu0 1 0 1 10 0 0 0 0 0 0\n"
				"intr 5 1 2\n"
				"ctxt 7\n"
				"btime 1700000000\n"
				"processes 9\n"
				"procs_running 1\n"
				"procs_blocked 0\n";

struct fx {
	char *names[4];
	char *pids[1];
	struct proc_cfg cfg;
	struct sb_sensor s;
	struct proc_state *st;
	struct sb_evb b;
};

static void fx_start(struct fx *f, const char *const *names, size_t n)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n; i++)
		f->names[i] = (char *)names[i];
	f->pids[0] = "self";
	f->cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = tp_dir, .max_processes = 8};
	f->cfg.collectors = (struct sb_strlist){f->names, n};
	f->cfg.pids = (struct sb_strlist){f->pids, 1};
	f->s.cfg = &f->cfg;
	assert_int_equal(sb_sensor_proc.init(&f->s), 0);
	f->st = f->s.state;
	sb_evb_init(&f->b);
}

/* One round as proc_collect runs it, without publishing. */
static void fx_round(struct fx *f)
{
	sb_evb_begin(&f->b, "proc", "metrics");
	sb_proc_round(f->st, &f->b);
}

static void fx_stop(struct fx *f)
{
	sb_evb_free(&f->b);
	sb_sensor_proc.destroy(&f->s);
}

static void enabled_in_table_order_and_a_shared_file_opened_once(void **state)
{
	(void)state;
	tp_put("stat", stat_text, strlen(stat_text));
	static const char *const names[] = {"processes", "stat", "cpu"};
	struct fx f;
	fx_start(&f, names, 3);
	assert_int_equal(f.st->ncoll, 3);
	assert_string_equal(f.st->coll[0].def->name, "cpu");
	assert_string_equal(f.st->coll[1].def->name, "stat");
	assert_string_equal(f.st->coll[2].def->name, "processes");
	assert_int_equal(f.st->nfiles, 1); /* /proc/stat */
	assert_ptr_equal(f.st->coll[0].f[0], f.st->coll[1].f[0]);
	assert_ptr_equal(f.st->coll[0].f[0], f.st->coll[2].f[0]);
	fx_round(&f);
	assert_int_equal(f.st->coll[0].status, 0);
	assert_int_equal(f.st->coll[1].status, 0);
	assert_true(f.st->statinfo.have_btime);
	assert_int_equal(f.st->statinfo.ncpus, 1);
	assert_int_equal(f.st->errors, 0);
	fx_stop(&f);
}

static void processes_stays_off_without_processes_or_pids(void **state)
{
	(void)state;
	static const char *const names[] = {"processes"};
	struct fx f;
	memset(&f, 0, sizeof(f));
	f.names[0] = (char *)names[0];
	f.cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = tp_dir, .max_processes = 8};
	f.cfg.collectors = (struct sb_strlist){f.names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	assert_int_equal(f.st->ncoll, 0);
	sb_sensor_proc.destroy(&f.s);
}

/* cpu and stat both parse /proc/stat: a bad line in it is one error and
 * one log line a round, as when one parse served both. */
static void a_bad_shared_file_counts_once_a_round(void **state)
{
	(void)state;
	static const char bad[] = "cpu0 1 0 1 10 0 0 0 0 0 0\n"
				  "intr x\n"
				  "ctxt 7\n"
				  "btime 1700000000\n"
				  "processes 9\n"
				  "procs_running 1\n"
				  "procs_blocked 0\n";
	tp_put("stat", bad, strlen(bad));
	static const char *const names[] = {"cpu", "stat"};
	struct fx f;
	fx_start(&f, names, 2);
	tp_nwarn = 0;
	fx_round(&f);
	assert_int_equal(f.st->coll[0].status, -EINVAL);
	assert_int_equal(f.st->coll[1].status, -EINVAL);
	assert_int_equal(f.st->errors, 1);
	assert_int_equal(tp_nwarn, 1);
	/* every good line still gave its samples, and each collector its
	 * node_scrape_collector_{duration_seconds,success} */
	assert_int_equal(sb_evb_nsamples(&f.b), 10 + 5 + 2 * 2);
	fx_round(&f);
	assert_int_equal(f.st->errors, 2);
	fx_stop(&f);
}

/* node_exporter's series about each collector: success as collect()
 * returned, a duration from the monotonic clock, none for sensorbus' own
 * processes collector. */
static void each_collector_reports_success_and_duration(void **state)
{
	(void)state;
	tp_put("stat", stat_text, strlen(stat_text));
	static const char *const names[] = {"stat", "loadavg", "processes"};
	struct fx f;
	fx_start(&f, names, 3);
	fx_round(&f); /* no loadavg file: that collector fails */
	struct sb_event *ev = sb_evb_finish(&f.b);
	assert_non_null(ev);
	int nsucc = 0, ndur = 0;
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		const char *coll = sb_sample_label(s, "collector");
		if (!strcmp(s->name, "node_scrape_collector_success")) {
			nsucc++;
			assert_string_equal(s->help,
					    "node_exporter: Whether a collector succeeded.");
			assert_true(s->value == (strcmp(coll, "loadavg") ? 1 : 0));
		} else if (!strcmp(s->name, "node_scrape_collector_duration_seconds")) {
			ndur++;
			assert_string_equal(s->help,
					    "node_exporter: Duration of a collector scrape.");
			assert_true(s->value >= 0 && s->value < 60);
		} else {
			continue;
		}
		assert_true(!strcmp(coll, "stat") || !strcmp(coll, "loadavg"));
	}
	assert_int_equal(nsucc, 2);
	assert_int_equal(ndur, 2);
	sb_event_unref(ev);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_are_unique_and_found),
	    cmocka_unit_test(default_list_is_the_default_on_rows),
	    cmocka_unit_test(unknown_name_is_rejected_with_the_valid_names),
	    cmocka_unit_test(row_keys_are_the_sensor_keys),
	    cmocka_unit_test(files_agree_between_rows),
	    cmocka_unit_test(enabled_in_table_order_and_a_shared_file_opened_once),
	    cmocka_unit_test(processes_stays_off_without_processes_or_pids),
	    cmocka_unit_test(a_bad_shared_file_counts_once_a_round),
	    cmocka_unit_test(each_collector_reports_success_and_duration),
	};
	return cmocka_run_group_tests_name("proc collector table", tests, setup, teardown);
}
