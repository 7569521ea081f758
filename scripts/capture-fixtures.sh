#!/bin/sh
# Captures what the proc sensor reads from this machine into a fixture tree:
#   scripts/capture-fixtures.sh NAME   ->  fixtures/procfs/NAME/{proc,sys,udev}
# Only the files the sensor opens are copied. Nothing about other users'
# processes is taken: the one process in the tree is a `sleep` this script
# starts (named fixture-target through argv[0]), and its fd links are
# replaced by /dev/null. Run it as root for io and every sysfs file.
set -eu

name=${1:-}
case "$name" in
"" | */* | .*)
	echo "usage: $0 NAME   (writes fixtures/procfs/NAME)" >&2
	exit 2
	;;
esac
: "${PROCFS:=/proc}"
: "${SYSFS:=/sys}"
: "${UDEV:=/run/udev/data}"
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/fixtures/procfs/$name"
if [ -e "$out" ]; then
	echo "$0: $out exists; remove it first" >&2
	exit 1
fi
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/proc" "$tmp/sys"
child=""
cleanup() {
	[ -n "$child" ] && kill "$child" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# copy SRC_ROOT REL DST_ROOT: one regular file, if it exists and reads
copy() {
	[ -r "$1/$2" ] || return 0
	mkdir -p "$(dirname "$3/$2")"
	cat "$1/$2" >"$3/$2" 2>/dev/null || rm -f "$3/$2"
}

for f in stat meminfo loadavg diskstats vmstat sys/fs/file-nr \
	net/dev net/sockstat net/sockstat6 net/netstat net/snmp net/snmp6 \
	pressure/cpu pressure/io pressure/memory pressure/irq \
	sys/net/netfilter/nf_conntrack_count sys/net/netfilter/nf_conntrack_max net/stat/nf_conntrack \
	sys/kernel/random/entropy_avail sys/kernel/random/poolsize \
	net/softnet_stat net/arp net/udp net/udp6 schedstat mdstat net/rpc/nfs net/rpc/nfsd net/ip_vs_stats net/ip_vs \
	sys/kernel/ostype sys/kernel/osrelease sys/kernel/version sys/kernel/hostname \
	sys/kernel/domainname sys/kernel/hung_task_detect_count; do
	copy "$PROCFS" "$f" "$tmp/proc"
done

cpu=devices/system/cpu
copy "$SYSFS" "$cpu/isolated" "$tmp/sys"
for d in "$SYSFS/$cpu"/cpu[0-9]*; do
	[ -d "$d" ] || continue
	c=${d#"$SYSFS/"}
	for f in topology/physical_package_id topology/core_id online \
		thermal_throttle/core_throttle_count thermal_throttle/package_throttle_count; do
		copy "$SYSFS" "$c/$f" "$tmp/sys"
	done
done

for f in "$PROCFS"/spl/kstat/zfs/* "$PROCFS"/spl/kstat/zfs/*/*; do
	[ -f "$f" ] && copy "$PROCFS" "${f#"$PROCFS/"}" "$tmp/proc"
done
for d in "$SYSFS"/fs/xfs/*/stats/stats; do
	[ -f "$d" ] && copy "$SYSFS" "${d#"$SYSFS/"}" "$tmp/sys"
done

# sys/block/DEV is a link into devices/; the tree keeps a plain directory
awk '{ print $1, $2, $3 }' "$tmp/proc/diskstats" | while read -r major minor dev; do
	copy "$SYSFS" "block/$dev/queue/rotational" "$tmp/sys"
	# udev: only the properties the sensor reads
	u="$UDEV/b$major:$minor"
	if [ -r "$u" ]; then
		mkdir -p "$tmp/udev/data"
		grep -E '^E:(ID_PATH|ID_WWN|ID_MODEL|ID_SERIAL|ID_SERIAL_SHORT|SCSI_IDENT_SERIAL|ID_REVISION|ID_FS_(TYPE|USAGE|UUID|VERSION)|DM_(NAME|UUID|VG_NAME|LV_NAME|LV_LAYER)|ID_ATA|ID_ATA_WRITE_CACHE|ID_ATA_WRITE_CACHE_ENABLED|ID_ATA_ROTATION_RATE_RPM)=' \
			"$u" >"$tmp/udev/data/b$major:$minor" || true
	fi
done

# class/net/DEV is a link into devices/; the tree keeps a plain directory.
# Attributes the kernel refuses now (speed of a down link) are left out.
for d in "$SYSFS"/class/net/*/; do
	dev=$(basename "$d")
	for f in addr_assign_type address broadcast carrier carrier_changes carrier_up_count \
		carrier_down_count dev_id dormant duplex flags ifalias ifindex iflink link_mode mtu \
		name_assign_type netdev_group operstate speed tx_queue_len type; do
		copy "$SYSFS" "class/net/$dev/$f" "$tmp/sys"
	done
done

for d in "$SYSFS"/class/thermal/thermal_zone* "$SYSFS"/class/thermal/cooling_device*; do
	[ -d "$d" ] || continue
	for f in type policy temp mode passive max_state cur_state; do
		copy "$SYSFS" "class/thermal/$(basename "$d")/$f" "$tmp/sys"
	done
done

# hwmon: the chips' sensor files and name; the device link is kept as a
# link, since the chip label is made from its target's path.
for h in "$SYSFS"/class/hwmon/*; do
	[ -d "$h" ] || continue
	n=$(basename "$h")
	mkdir -p "$tmp/sys/class/hwmon/$n"
	for f in "$h"/*; do
		b=$(basename "$f")
		case $b in
		name | *[0-9]_* | *[0-9] | beep_enable | vrm | update_interval) copy "$SYSFS" "class/hwmon/$n/$b" "$tmp/sys" ;;
		esac
	done
	[ -L "$h/device" ] && ln -s "$(readlink "$h/device")" "$tmp/sys/class/hwmon/$n/device"
done

for d in "$SYSFS"/class/power_supply/*/; do
	[ -d "$d" ] || continue
	for f in "$d"*; do
		[ -f "$f" ] && [ ! -L "$f" ] && copy "$SYSFS" "class/power_supply/$(basename "$d")/$(basename "$f")" "$tmp/sys"
	done
done

for d in "$SYSFS"/class/watchdog/*/; do
	[ -d "$d" ] || continue
	for f in bootstatus options fw_version identity nowayout state status timeleft timeout \
		pretimeout pretimeout_governor access_cs0; do
		copy "$SYSFS" "class/watchdog/$(basename "$d")/$f" "$tmp/sys"
	done
done

for z in "$SYSFS"/class/powercap/*/; do
	for f in name energy_uj max_energy_range_uj; do
		copy "$SYSFS" "class/powercap/$(basename "$z")/$f" "$tmp/sys"
	done
done

# One process of our own: comm "sleep", argv[0] ".../fixture-target".
bash -c 'exec -a /usr/local/bin/fixture-target sleep 600' &
child=$!
i=0
while [ "$(cat "$PROCFS/$child/comm" 2>/dev/null)" != sleep ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
for f in stat status io limits cmdline comm; do
	copy "$PROCFS" "$child/$f" "$tmp/proc"
done
mkdir -p "$tmp/proc/$child/fd"
for fd in "$PROCFS/$child/fd"/*; do
	[ -e "$fd" ] || [ -L "$fd" ] || continue
	ln -s /dev/null "$tmp/proc/$child/fd/$(basename "$fd")"
done
ln -s "$child" "$tmp/proc/self"
kill "$child" 2>/dev/null
wait "$child" 2>/dev/null || true
child=""

{
	echo "Captured by scripts/capture-fixtures.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel $(uname -r), $(getconf _NPROCESSORS_ONLN) CPUs, page size $(getconf PAGESIZE)"
	echo "process: $(readlink "$tmp/proc/self") (sleep, started as /usr/local/bin/fixture-target)"
} >"$tmp/CAPTURE"
mv "$tmp" "$out"
trap - EXIT INT TERM
echo "wrote $out ($(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1))"
