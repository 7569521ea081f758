#!/bin/sh
# netclass keeps dev_id and the assign types between rounds and works out
# flags from the rtnetlink dump, which is itself kept between link
# notifications (netdev's counters then come from RTM_GETSTATS): in a
# network namespace of its own (its own sysfs on /sys), each change to a
# device (its MAC, promiscuous mode by the user and by a bridge, a rename,
# a rename and back, a device added, deleted, made anew, its peer taken
# down and up, traffic) must show in the first round that starts after it,
# as node_exporter (which reads every sysfs file) shows it.
if [ -z "${SB_NETNS_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a network namespace)"; exit 77; }
	command -v unshare >/dev/null || { echo "SKIP: no unshare"; exit 77; }
	# shellcheck disable=SC2016 # $0 is the inner shell's
	SB_NETNS_INNER=1 exec unshare --net --mount sh -c \
		'mount --make-rprivate / && mount -t sysfs sysfs /sys && exec sh "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"

NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter is not installed (scripts/deps.sh test)"
ip link set lo up || skip "cannot bring lo up in the namespace"
# no IPv6 here: its neighbour discovery would move the counters between
# the two reads of a step
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
ip link add sbv0 type veth peer name sbv1 2>/dev/null && ip link add sbd0 type ifb 2>/dev/null &&
	ip link add sbr0 type bridge 2>/dev/null || skip "no veth, ifb or bridge devices here"

port=$(free_port)
"$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.netclass \
	--collector.netdev --collector.netdev.device-exclude='^lo$' \
	>"$TMP/ne.log" 2>&1 &
track_pid $!
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" ||
	fail "node_exporter did not serve /metrics on port $port: $(tail -3 "$TMP/ne.log")"

# lo's counters move with each scrape of node_exporter: left out of netdev
printf '{"sensors":{"proc":{"collectors":["netclass","netdev"],"netdev_device_exclude":"^lo$"}}}' \
	>"$TMP/c.json"
"$SB_BIN" -c "$TMP/c.json" -i 200ms --no-bpf --sensors proc -o "$TMP/sb.json" 2>"$TMP/sb.err" &
sb=$!
track_pid $sb
wait_for 10 test -s "$TMP/sb.json" || fail "no event from sensorbus: $(cat "$TMP/sb.err")"

# sb.py FILE NS: the node_network_* samples of the first event whose round
# began after NS (ns since the epoch), as JSON; exit 1 when none has yet.
cat >"$TMP/sb.py" <<'PY'
import calendar, json, sys, time

def ns(t):  # 2026-12-03T22:24:51.640123456Z
    return calendar.timegm(time.strptime(t[:19], '%Y-%m-%dT%H:%M:%S')) * 10**9 + \
        int((t[20:-1] + '000000000')[:9])

for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev.get('source') == 'proc' and ns(ev['time']) > int(sys.argv[2]):
        json.dump([s for s in ev['samples'] if s['name'].startswith('node_network_')],
                  sys.stdout)
        sys.exit(0)
sys.exit(1)
PY
# cmp.py PROM SAMPLES WANT: the same series and values, and WANT among them
cat >"$TMP/cmp.py" <<'PY'
import json, re, sys

def key(name, labels):
    return name + ''.join(' %s=%s' % kv for kv in sorted(labels.items()))

ne = {}
for line in open(sys.argv[1]):
    m = re.match(r'^(node_network_[a-zA-Z0-9_]*)(?:\{(.*)\})?\s+(\S+)$', line.rstrip('\n'))
    if m:
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ''))
        ne[key(m.group(1), labels)] = float(m.group(3))
sb = {key(s['name'], s.get('labels') or {}): float(s['value']) for s in json.load(open(sys.argv[2]))}
bad = 0
for k in sorted(set(ne) | set(sb)):
    if ne.get(k) != sb.get(k):
        print('%s: node_exporter %s, sensorbus %s' % (k, ne.get(k), sb.get(k)))
        bad += 1
want = sys.argv[3]
if want and not any('%s %g' % (k, v) == want for k, v in sb.items()):
    print('no series %r' % want)
    bad += 1
if not sb:
    print('no series at all')
    bad += 1
sys.exit(1 if bad else 0)
PY

# The first round that began after time $1 (ns), against a scrape of
# node_exporter taken after it.
compare() {
	wait_for 10 python3 "$TMP/sb.py" "$TMP/sb.json" "$1" || fail "no round after: $2"
	python3 "$TMP/sb.py" "$TMP/sb.json" "$1" >"$TMP/sb.samples"
	curl -sf -o "$TMP/ne.prom" "http://127.0.0.1:$port/metrics" || fail "scrape failed"
	python3 "$TMP/cmp.py" "$TMP/ne.prom" "$TMP/sb.samples" "$3" ||
		fail "after $2: series differ from node_exporter's"
}

now_ns() { date +%s%N; }

# each: the change, then a series the round after it must have
step() {
	sh -c "$1" || fail "could not: $1"
	compare "$(now_ns)" "$1" "$2"
	ok "$1"
}

step "true" "node_network_address_assign_type device=sbv0 1"
step "ip link set sbv0 address 02:00:00:00:00:01" "node_network_address_assign_type device=sbv0 3"
step "ip link set sbd0 promisc on" "node_network_flags device=sbd0 386"
step "ip link set sbd0 promisc off" "node_network_flags device=sbd0 130"
step "ip link set sbv1 master sbr0" "node_network_flags device=sbv1 4866"
step "ip link set sbv0 up && ip link set sbv1 up" "node_network_flags device=sbv1 4867"
step "ip link set sbd0 name sbx0" "node_network_name_assign_type device=sbx0 4"
# name, ifindex and address as they were: only the notification tells
step "ip link set sbr0 name sbq0 && ip link set sbq0 name sbr0" \
	"node_network_name_assign_type device=sbr0 4"
step "ip link set sbv0 address 02:00:00:00:00:02 && ip link set sbv0 address 02:00:00:00:00:01" \
	"node_network_address_assign_type device=sbv0 3"
step "ip link add sbw0 type veth peer name sbw1" "node_network_address_assign_type device=sbw0 1"
step "ip link del sbx0" ""
step "ip link del sbw0 && ip link add sbw0 type veth peer name sbw1 && ip link set sbw0 address 02:00:00:00:00:03" \
	"node_network_address_assign_type device=sbw0 3"
# carrier changes at once, its notification when linkwatch runs (up to a
# second later): either makes the kept dump again (test_proc_links shows
# the file alone does)
step "ip link set sbv1 down" "node_network_carrier device=sbv0 0"
step "ip link set sbv1 up" "node_network_carrier device=sbv0 1"
# counters alone, no notification: the round's stats dump (frames sent
# from sbv0 to its peer)
cat >"$TMP/frames.py" <<'PY'
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('sbv0', 0))
for i in range(5):
    s.send(b'\xff' * 6 + b'\x02' * 6 + b'\x88\xb5' + b'x' * 46)
PY
step "python3 $TMP/frames.py" "node_network_receive_packets_total device=sbv1 5"

kill "$sb"
wait "$sb" 2>/dev/null
if grep -q 'warn\|error' "$TMP/sb.err"; then
	fail "sensorbus warned: $(grep 'warn\|error' "$TMP/sb.err")"
fi
ok "every round after a change is what node_exporter reads from sysfs"
