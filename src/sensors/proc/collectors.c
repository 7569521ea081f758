/* The proc sensor's collector table: every collector it has, in the order
 * they run each round and are listed in help and errors. A collector is
 * one file (its parser, collect function and row,
 * `const struct sb_proc_collector sb_proc_collector_<name>`) and one line
 * here. docs/proc.md, "Add a proc collector", has the checklist. */
#include <string.h>

#include "proc.h"

#define SB_PROC_COLLECTORS(X)                                                                      \
	X(cpu)                                                                                     \
	X(meminfo)                                                                                 \
	X(loadavg)                                                                                 \
	X(stat)                                                                                    \
	X(diskstats)                                                                               \
	X(netdev)                                                                                  \
	X(netclass)                                                                                \
	X(hwmon)                                                                                   \
	X(pressure)                                                                                \
	X(vmstat)                                                                                  \
	X(filefd)                                                                                  \
	X(sockstat)                                                                                \
	X(netstat)                                                                                 \
	X(conntrack)                                                                               \
	X(entropy)                                                                                 \
	X(softnet)                                                                                 \
	X(arp)                                                                                     \
	X(udp_queues)                                                                              \
	X(schedstat)                                                                               \
	X(cpufreq)                                                                                 \
	X(thermal_zone)                                                                            \
	X(powersupplyclass)                                                                        \
	X(rapl)                                                                                    \
	X(selinux)                                                                                 \
	X(textfile)                                                                                \
	X(uname)                                                                                   \
	X(os)                                                                                      \
	X(time)                                                                                    \
	X(timex)                                                                                   \
	X(filesystem)                                                                              \
	X(dmi)                                                                                     \
	X(edac)                                                                                    \
	X(nvme)                                                                                    \
	X(tapestats)                                                                               \
	X(fibrechannel)                                                                            \
	X(infiniband)                                                                              \
	X(bonding)                                                                                 \
	X(mdadm)                                                                                   \
	X(nfs)                                                                                     \
	X(nfsd)                                                                                    \
	X(xfs)                                                                                     \
	X(ipvs)                                                                                    \
	X(zfs)                                                                                     \
	X(bcache)                                                                                  \
	X(btrfs)                                                                                   \
	X(dmmultipath)                                                                             \
	X(watchdog)                                                                                \
	X(kernel_hung)                                                                             \
	X(processes)

#define DECLARE(name) extern const struct sb_proc_collector sb_proc_collector_##name;
SB_PROC_COLLECTORS(DECLARE)
#define ROW(name) &sb_proc_collector_##name,
const struct sb_proc_collector *const sb_proc_collectors[] = {SB_PROC_COLLECTORS(ROW)};
const size_t sb_proc_ncollectors = SB_ARRAY_SIZE(sb_proc_collectors);

const struct sb_proc_collector *sb_proc_collector_find(const char *name)
{
	for (size_t i = 0; i < sb_proc_ncollectors; i++)
		if (!strcmp(sb_proc_collectors[i]->name, name))
			return sb_proc_collectors[i];
	return NULL;
}
