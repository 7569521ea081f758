# The real node_exporter (Debian's prometheus-node-exporter) and sensorbus
# read the same fixture trees; every series of the collectors sensorbus
# implements must be equal. Only the documented differences between
# node_exporter 1.5.0 (Debian 12) and the current node_exporter sensorbus
# follows are allowed (docs/proc.md, "Differences from node_exporter 1.5.0").
# Debian's build excludes lo from netdev by default; upstream does not, so
# the test clears that exclude.
. "$(dirname "$0")/lib.sh"

NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter is not installed (scripts/deps.sh test)"

compare() { # tree
	F=$1
	rm -f "$TMP/sb.json" # the file sink appends
	port=$(free_port)
	"$NE" --web.listen-address="127.0.0.1:$port" --path.procfs="$F/proc" --path.sysfs="$F/sys" \
		--path.rootfs="$F" --path.udev.data="$F/udev/data" --collector.disable-defaults \
		--collector.cpu --collector.meminfo --collector.loadavg --collector.stat \
		--collector.diskstats --collector.netdev --no-collector.netdev.netlink \
		--collector.netdev.device-exclude= --collector.netclass --collector.hwmon \
		--collector.pressure --collector.vmstat --collector.filefd --collector.sockstat \
		--collector.netstat \
		--collector.conntrack --collector.entropy \
		--collector.softnet --collector.arp \
		--collector.udp_queues --collector.schedstat \
		--collector.cpufreq --collector.selinux \
		--collector.thermal_zone --collector.powersupplyclass --collector.rapl \
		--collector.dmi --collector.edac --collector.nvme --collector.tapestats \
		--collector.fibrechannel --collector.infiniband --collector.bonding \
		--collector.textfile --collector.textfile.directory= \
		--collector.os --collector.time \
		--collector.mdadm --collector.nfs --collector.nfsd --collector.xfs \
		--collector.ipvs --collector.zfs --collector.bcache --collector.btrfs >"$TMP/ne.log" 2>&1 &
	ne=$!
	track_pid $ne
	wait_for 10 curl -sf -o "$TMP/ne.prom" "http://127.0.0.1:$port/metrics" ||
		fail "node_exporter did not serve /metrics on port $port: $(tail -3 "$TMP/ne.log")"
	kill $ne
	printf '{"sensors":{"proc":{"rootfs":"%s","netdev_netlink":false}}}' "$F" >"$TMP/sb.cfg"
	"$SB_BIN" -c "$TMP/sb.cfg" --once --no-bpf --sensors proc --procfs "$F/proc" --sysfs "$F/sys" \
		-o "$TMP/sb.json" 2>"$TMP/sb.err" || fail "sensorbus exit $? on $F"
	python3 - "$TMP/ne.prom" "$TMP/sb.json" <<'PY' || fail "series differ on $F (see above)"
import json, re, sys

families = re.compile(r'^node_(cpu_(seconds|guest_seconds|core_throttles|package_throttles)_total'
                      r'|cpu_isolated|cpu_online|memory_|load1$|load5$|load15$|context_switches_total'
                      r'|forks_total|boot_time_seconds|intr_total|procs_(running|blocked)|disk_'
                      r'|network_(receive|transmit)_.*_total|pressure_|vmstat_|filefd_|sockstat_|netstat_'
                      r'|nf_conntrack_|entropy_|softnet_|arp_|udp_queues|schedstat_|cpu_(scaling_)?frequency_|selinux_'
                      r"|dmi_info$|edac_|nvme_info$|tape_|fibrechannel_|infiniband_|bonding_"
                      r'|network_(up|info|carrier|carrier_(up_|down_)?changes_total|speed_bytes|mtu_bytes|address_assign_type'
                      r'|device_id|dormant|flags|iface_(id|link|link_mode)|name_assign_type|net_dev_group|protocol_type'
                      r'|transmit_queue_length)$|thermal_zone_temp$|hwmon_|power_supply_|rapl_|cooling_device_(cur|max)_state$'
                      r'|textfile_|scrape_collector_(success|duration_seconds)$|os_|time_clocksource_'
                      r'|md_|nfsd?_|xfs_|ipvs_|zfs_|bcache_|btrfs_)')
# node_memory_* sensorbus reports: the fields current node_exporter reports
curated = set('''Active Active_anon Active_file AnonHugePages AnonPages Bounce Buffers Cached CmaFree
CmaTotal CommitLimit Committed_AS DirectMap1G DirectMap2M DirectMap4k Dirty HardwareCorrupted
Hugepagesize Inactive Inactive_anon Inactive_file KernelStack Mapped MemAvailable MemFree MemTotal
Mlocked NFS_Unstable PageTables Percpu SReclaimable SUnreclaim Shmem ShmemHugePages ShmemPmdMapped
Slab SwapCached SwapFree SwapTotal Unevictable VmallocChunk VmallocTotal VmallocUsed Writeback
WritebackTmp Zswap Zswapped'''.split())
curated = {'node_memory_%s_bytes' % f for f in curated} | \
          {'node_memory_HugePages_%s' % f for f in ('Free', 'Rsvd', 'Surp', 'Total')}
# newer than 1.5.0: IRQ pressure (1.7), node_cpu_online (1.8), two more
# default netstat fields (1.6)
ours_only = re.compile(r'^(node_pressure_irq_stalled_seconds_total|node_cpu_online'
                       r'|node_netstat_TcpExt_(TCPOFOQueue|TCPRcvQDrop))$')

def key(name, labels):
    return (name, tuple(sorted(labels.items())))

ne = {}
for line in open(sys.argv[1]):
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$', line.strip())
    if not m or not families.match(m.group(1)):
        continue
    labels = {k: re.sub(r'\\(.)', lambda e: '\n' if e.group(1) == 'n' else e.group(1), v)
              for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or '')}
    ne[key(m.group(1), labels)] = float(m.group(3))
sb = {}
for line in open(sys.argv[2]):
    for s in json.loads(line)['samples']:
        if not families.match(s['name']):
            continue
        labels = dict(s.get('labels') or {})
        # uname, timex and filesystem read the live kernel in node_exporter
        # whatever its roots: compared on this host in e2e 24, not here
        if s['name'].startswith('node_scrape_collector_') and \
                labels.get('collector') in ('uname', 'timex', 'filesystem'):
            continue
        # upstream collectors newer than 1.5.0: nothing to compare with
        if s['name'].startswith('node_scrape_collector_') and \
                labels.get('collector') in ('dmmultipath', 'watchdog', 'kernel_hung'):
            continue
        if s['name'] == 'node_disk_info':
            labels.pop('rotational')  # label added in 1.9
        v = s['value']
        sb[key(s['name'], labels)] = float(v) if not isinstance(v, str) else float(v.replace('+Inf', 'inf'))

def disk_info_serial_fallback(k):
    # 1.5.0 takes ID_SERIAL_SHORT only; current node_exporter falls back to
    # ID_SERIAL (virtio) when it is missing
    if k[0] != 'node_disk_info':
        return None
    d = dict(k[1])
    for o in sb:
        od = dict(o[1])
        if o[0] == k[0] and od['device'] == d['device'] and d['serial'] == '' and \
           {a: b for a, b in od.items() if a != 'serial'} == {a: b for a, b in d.items() if a != 'serial'}:
            return o
    return None

bad = 0
matched = 0
for k, v in sorted(ne.items()):
    if k in sb:
        # a duration differs by nature: only its presence is compared
        if sb[k] != v and k[0] != 'node_scrape_collector_duration_seconds':
            print('DIFF', k, 'node_exporter', v, 'sensorbus', sb[k]); bad += 1
        else:
            matched += 1
        continue
    o = disk_info_serial_fallback(k)
    if o is not None:
        sb.pop(o); matched += 1
        continue
    dev = dict(k[1]).get('device', '')
    if k[0].startswith('node_disk_') and re.match(r'^zram\d+$', dev):
        continue  # excluded by default since 1.6
    if k[0].startswith('node_memory_') and k[0] not in curated:
        continue  # 1.5.0 reports every meminfo field
    print('MISSING', k, v); bad += 1
for k in sorted(set(sb) - set(ne)):
    if ours_only.match(k[0]):
        continue
    if k[0] == 'node_disk_info' and any(o[0] == 'node_disk_info' and dict(o[1])['device'] == dict(k[1])['device'] for o in ne):
        continue  # matched above through the serial fallback
    print('EXTRA', k, sb[k]); bad += 1
print('%d series equal, %d differences' % (matched, bad))
sys.exit(1 if bad or matched < 100 else 0)
PY
	if grep -q warn "$TMP/sb.err"; then
		fail "sensorbus warned on $F: $(grep warn "$TMP/sb.err")"
	fi
	ok "$(basename "$F"): every series equals node_exporter's"
}

for tree in "$SB_FIXTURES"/procfs/*/; do
	tree=${tree%/}
	[ -d "$tree/proc" ] || continue
	compare "$tree"
done
