# Bad input: one corrupted, truncated, empty, missing, enormous, binary or
# unreadable file in an otherwise good tree gives exactly one log line
# naming that file, counts it, and every other sample is still emitted with
# its right value. Repeated rounds do not repeat the line.
. "$(dirname "$0")/lib.sh"

S=$SB_FIXTURES/procfs/synthetic
CFG='{"sensors":{"proc":{"processes":["algod"]}}}'
printf '%s' "$CFG" >"$TMP/c.json"

sb() { # tree out [extra args]
	t=$1 o=$2
	shift 2
	"$SB_BIN" -c "$TMP/c.json" --no-bpf --sensors proc --procfs "$t/proc" --sysfs "$t/sys" \
		"$@" -o - >"$o" 2>"$o.err"
}

sb "$S" "$TMP/clean.json" --once || fail "clean run exit $?"
[ "$(grep -c 'warn\|error' "$TMP/clean.json.err")" = 0 ] || fail "clean tree warns"

# case NAME FILE MISSING-REGEX MESSAGE-SUBSTRING: break FILE with the
# commands on stdin, then check the run
case_() {
	name=$1 file=$2 missing=$3 msg=$4
	rm -rf "$TMP/t"
	cp -a "$S" "$TMP/t"
	(cd "$TMP/t" && sh -e) || fail "$name: could not break the tree"
	timeout 20 sh -c "$(command -v "$SB_BIN") -c $TMP/c.json --once --no-bpf --sensors proc \
		--procfs $TMP/t/proc --sysfs $TMP/t/sys -o - >$TMP/bad.json 2>$TMP/bad.json.err" ||
		fail "$name: sensorbus exit $? (or hung)"
	check "$name" "$TMP/t/$file" "$missing" "$msg" 1
}

check() { # name path missing-regex message rounds
	lines=$(grep -c 'warn\|error' "$TMP/bad.json.err")
	[ "$lines" = 1 ] || fail "$1: $lines log lines, want 1: $(cat "$TMP/bad.json.err")"
	grep 'warn\|error' "$TMP/bad.json.err" | grep -qF "$2" ||
		fail "$1: the line does not name $2: $(grep warn "$TMP/bad.json.err")"
	grep 'warn\|error' "$TMP/bad.json.err" | grep -qF "$4" ||
		fail "$1: the line does not say '$4': $(grep warn "$TMP/bad.json.err")"
	python3 - "$TMP/clean.json" "$TMP/bad.json" "$3" "$5" <<'PY' || fail "$1: samples differ"
import json, re, sys
def load(p):
    evs = [json.loads(l) for l in open(p)]
    # rapl's path label holds the tree's root, which differs between runs
    def lab(s):
        return tuple(sorted((k, v.split('/sys/')[-1] if k == 'path' else v)
                            for k, v in (s.get('labels') or {}).items()))
    return evs, {(s['name'], lab(s)): s['value'] for s in evs[-1]['samples']}
_, clean = load(sys.argv[1])
evs, bad = load(sys.argv[2])
gone = re.compile(sys.argv[3])
rounds = int(sys.argv[4])
errk = ('sensorbus_sensor_errors_total', (('sensor', 'proc'),))
assert bad.pop(errk) == rounds, 'errors_total %s, want %d' % (bad.get(errk), rounds)
clean.pop(errk)
def text(k):
    return k[0] + '{' + ','.join('%s="%s"' % kv for kv in k[1]) + '}'
want = {k: v for k, v in clean.items() if not gone.search(text(k))}
missing = set(want) - set(bad)
extra = set(bad) - set(want)
# durations, CPU time and the live clock (time, timex) move between the two
# runs; the broken file's collector reports failure
moving = ('process_cpu', 'node_scrape_collector_duration_seconds', 'node_time_seconds',
          'node_timex_')
def allowed(k):
    return k[0].startswith(moving) or (k[0] == 'node_scrape_collector_success' and bad[k] == 0)
diff = [k for k in set(want) & set(bad) if want[k] != bad[k] and not allowed(k)]
for k in sorted(missing): print('missing', k)
for k in sorted(extra): print('extra', k)
for k in sorted(diff): print('differs', k, want[k], bad[k])
assert len(want) < len(clean), 'the case removed nothing'
sys.exit(1 if missing or extra or diff else 0)
PY
	ok "$1"
}

case_ "garbled meminfo line" proc/meminfo '^node_memory_Dirty_bytes{' 'line 17: Dirty' <<'EOF'
sed -i 's/^Dirty: .*/Dirty:   12#4 kB/' proc/meminfo
EOF
# cut inside vda's line: sda and nvme0n1 stay whole, vda is not read at all
case_ "truncated diskstats" proc/diskstats '^node_disk_.*device="vda"' 'line 4: cut short' <<'EOF'
head -c 250 proc/diskstats > x && mv x proc/diskstats
EOF
case_ "empty loadavg" proc/loadavg '^node_load' 'expected three load averages' <<'EOF'
: > proc/loadavg
EOF
case_ "missing vmstat" proc/vmstat '^node_vmstat_' 'No such file or directory' <<'EOF'
rm proc/vmstat
EOF
case_ "enormous netstat" proc/net/netstat '^node_netstat_(TcpExt|IpExt)_' 'larger than' <<'EOF'
python3 -c 'import sys; sys.stdout.write("TcpExt: " + "X " * 700000 + "\n")' > proc/net/netstat
EOF
case_ "binary sockstat" proc/net/sockstat '^node_sockstat_(sockets|TCP|UDP|UDPLITE|RAW|FRAG)_' 'NUL byte' <<'EOF'
printf 'sockets: used 1\n\000\001\002garbage' > proc/net/sockstat
EOF
case_ "garbage pressure" proc/pressure/io '^node_pressure_io_' 'malformed "some" line' <<'EOF'
printf 'some avg10=bogus\nfull total=\n' > proc/pressure/io
EOF
case_ "fifo in place of a file" proc/net/dev '^node_network_(receive|transmit)_[a-z]+_total' 'Illegal seek' <<'EOF'
rm proc/net/dev && mkfifo proc/net/dev
EOF
case_ "garbled process stat" proc/4242/stat '^process_' '4242/stat' <<'EOF'
printf '4242 (algod) S 1 2 3\n' > proc/4242/stat
EOF

# The same broken file, round after round: one line, counted every round.
rm -rf "$TMP/t"
cp -a "$S" "$TMP/t"
sed -i 's/^Dirty: .*/Dirty:   12#4 kB/' "$TMP/t/proc/meminfo"
sb "$TMP/t" "$TMP/bad.json" --duration 1500ms -i 100ms || fail "repeated rounds exit $?"
n=$(wc -l <"$TMP/bad.json")
[ "$n" -ge 5 ] || fail "only $n rounds in 1.5s at 100ms"
check "rate-limited: one line over $n rounds" "$TMP/t/proc/meminfo" '^node_memory_Dirty_bytes{' \
	'line 17: Dirty' "$n"

# Unreadable: only meaningful for a user the permission applies to.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	rm -rf "$TMP/t"
	cp -a "$S" "$TMP/t"
	chmod 000 "$TMP/t/proc/net/snmp"
	chmod 755 "$TMP"
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$SB_BIN" -c "$TMP/c.json" \
		--once --no-bpf --sensors proc --procfs "$TMP/t/proc" --sysfs "$TMP/t/sys" -o - \
		>"$TMP/bad.json" 2>"$TMP/bad.json.err" || fail "unreadable: exit $?"
	check "unreadable snmp" "$TMP/t/proc/net/snmp" '^node_netstat_(Ip|Icmp|Tcp|Udp|UdpLite)_' \
		'Permission denied' 1
else
	echo "note: setpriv or user nobody missing; unreadable-file case not run"
fi
