/* Device events (uevent.c): datagrams parsed as the kernel writes them,
 * and, in a network namespace of the test's own (so no event reaches the
 * host's udev), a device made and removed there tells its subsystem once
 * each; a class directory on the live /sys is then listed only after one. */
#include "test_proc_fx.h"

#include <errno.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include "test_netns.h"

static bool parse(const char *msg, size_t n, const char *want)
{
	const char *s;
	size_t l;
	bool r = sb_proc_uevent_parse(msg, n, &s, &l);
	if (r && want)
		r = strlen(want) == l && !memcmp(s, want, l);
	return r;
}

#define MSG(action, subsys)                                                                        \
	action "@/devices/LNXSYSTM:00/ACPI0003:00/power_supply/AC\0ACTION=" action                 \
	       "\0DEVPATH=/devices/LNXSYSTM:00/ACPI0003:00/power_supply/AC\0SUBSYSTEM=" subsys     \
	       "\0POWER_SUPPLY_NAME=AC\0SEQNUM=4242"

static void add_remove_and_move_name_their_subsystem(void **state)
{
	(void)state;
	static const char add[] = MSG("add", "power_supply"), rm[] = MSG("remove", "power_supply"),
			  mv[] = MSG("move", "net"), change[] = MSG("change", "power_supply"),
			  bind[] = MSG("bind", "power_supply");
	assert_true(parse(add, sizeof(add) - 1, "power_supply"));
	assert_true(parse(rm, sizeof(rm) - 1, "power_supply"));
	assert_true(parse(mv, sizeof(mv) - 1, "net"));
	/* a battery's status: the same devices */
	assert_false(parse(change, sizeof(change) - 1, NULL));
	assert_false(parse(bind, sizeof(bind) - 1, NULL));
	/* no subsystem, no action, cut before the first NUL, udev's own */
	static const char nosub[] = "add@/devices/x\0ACTION=add\0SEQNUM=1";
	static const char noact[] = "add@/devices/x\0SUBSYSTEM=net\0SEQNUM=1";
	assert_false(parse(nosub, sizeof(nosub) - 1, NULL));
	assert_false(parse(noact, sizeof(noact) - 1, NULL));
	assert_false(parse("add@/devices/x", 14, NULL));
	static const char udev[] = "libudev\0\xfe\xed\xca\xfe";
	assert_false(parse(udev, sizeof(udev) - 1, NULL));
	/* the last pair without its NUL (the datagram's end) still counts */
	static const char tail[] = "\0POWER_SUPPLY_NAME=AC\0SEQNUM=4242";
	assert_true(parse(add, sizeof(add) - sizeof(tail), "power_supply"));
}

/* ---- live, in a network namespace ---- */

static void in_namespace(void)
{
	struct proc_cfg cfg = {.procfs = "/proc", .sysfs = "/sys"};
	struct proc_state st = {.cfg = &cfg, .comp = "test"};
	uint64_t net = 0, other = 0;
	st.round = 1;
	CHECK(10, sb_proc_uevents_since(&st, "net", &net));
	CHECK(11, sb_proc_uevents_since(&st, "power_supply", &other));
	CHECK(12, !sb_proc_uevents_since(&st, "net", &net)); /* the same round, asked again */
	st.round = 2;
	CHECK(13, !sb_proc_uevents_since(&st, "net", &net));
	/* a device made here: its events reach this namespace's sockets */
	if (system("ip link add sbu0 type veth peer name sbu1 2>/dev/null"))
		_exit(78);
	st.round = 3;
	CHECK(14, sb_proc_uevents_since(&st, "net", &net));
	CHECK(15, !sb_proc_uevents_since(&st, "power_supply", &other));
	st.round = 4;
	CHECK(16, !sb_proc_uevents_since(&st, "net", &net));
	CHECK(17, !system("ip link del sbu0"));
	st.round = 5;
	CHECK(18, sb_proc_uevents_since(&st, "net", &net));
	st.round = 6;
	CHECK(19, !sb_proc_uevents_since(&st, "net", &net));
	sb_proc_uevents_free(&st);
	/* not the live /sys: every time */
	cfg.sysfs = "/tmp";
	st.round = 7;
	CHECK(20, sb_proc_uevents_since(&st, "net", &net));
	CHECK(21, sb_proc_uevents_since(&st, "net", &net));
	_exit(0);
}

static void a_device_made_and_removed_is_told_once_each(void **state)
{
	(void)state;
	netns_run(in_namespace);
}

/* powersupplyclass on the live /sys lists its directory in the first
 * round only while no power_supply device comes or goes; on a tree,
 * every round (a supply written between rounds is in the next). */
static void the_live_power_supply_class_is_listed_once(void **state)
{
	(void)state;
	/* without a uevent socket the directory is listed every round, as on
	 * a tree: nothing to check here then */
	int probe = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (probe < 0) {
		fprintf(stderr, "SKIP: no uevent socket here: %s\n", strerror(errno));
		skip();
	}
	close(probe);
	struct tfx f;
	tfx_start_at(&f, "powersupplyclass", "/proc", "/sys");
	int status = tfx_round(&f);
	for (int round = 2; round <= 3; round++)
		assert_int_equal(tfx_round(&f), status); /* the same, listed or not */
	assert_true(sb_proc_psc_listings(&f.st->coll[0]) == 1);
	tfx_stop(&f);

	tp_mkdirs("class/power_supply");
	tfx_start(&f, "powersupplyclass");
	assert_int_equal(tfx_round(&f), 0);
	tp_mkdirs("class/power_supply/AC");
	tp_puts("class/power_supply/AC/online", "1\n");
	tp_puts("class/power_supply/AC/type", "Mains\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_power_supply_online", "power_supply", "AC"), 1);
	assert_true(sb_proc_psc_listings(&f.st->coll[0]) == 2);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(add_remove_and_move_name_their_subsystem),
	    cmocka_unit_test(a_device_made_and_removed_is_told_once_each),
	    cmocka_unit_test(the_live_power_supply_class_is_listed_once),
	};
	if (tp_dir_setup(tp_warn_hook))
		return 1;
	int r = cmocka_run_group_tests_name("proc device events", tests, NULL, NULL);
	tp_dir_teardown();
	return r;
}
