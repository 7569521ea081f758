# The collectors whose values come from the live kernel (syscalls: uname,
# adjtimex, statfs, the clock) or the root filesystem cannot be compared on
# a fixture tree: Debian's node_exporter and sensorbus both read this
# machine's real /proc, /sys and / here, and their series must agree:
# exactly for uname and os, the same series and values within a tolerance
# for what moves between the two reads (clocks, free space). HELP texts
# are checked by the unit tests (the file sink does not carry them).
. "$(dirname "$0")/lib.sh"

NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter is not installed (scripts/deps.sh test)"
[ -r /proc/sys/kernel/ostype ] || skip "no live /proc here"

COLLECTORS="uname os time timex filesystem"

ne_flags=""
json=""
for c in $COLLECTORS; do
	ne_flags="$ne_flags --collector.$c"
	json="$json${json:+,}\"$c\""
done
printf '{"sensors":{"proc":{"collectors":[%s]}}}' "$json" >"$TMP/c.json"

port=$(free_port)
# shellcheck disable=SC2086 # one flag per word
# Debian's build changed the mount point exclude; upstream's is sensorbus'
"$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults $ne_flags \
	--collector.filesystem.mount-points-exclude='^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)' \
	>"$TMP/ne.log" 2>&1 &
ne=$!
track_pid $ne
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" ||
	fail "node_exporter did not serve /metrics on port $port: $(tail -3 "$TMP/ne.log")"
# the two reads as close together as possible
curl -sf -o "$TMP/ne.prom" "http://127.0.0.1:$port/metrics" || fail "scrape failed"
# statfs runs off the loop, so filesystem's values come from the second
# round on; the last event is compared
"$SB_BIN" -c "$TMP/c.json" --duration 1200ms -i 500ms --no-bpf --sensors proc -o "$TMP/sb.json" \
	2>"$TMP/sb.err" ||
	fail "sensorbus exit $?: $(cat "$TMP/sb.err")"
kill $ne
if grep -q 'warn\|error' "$TMP/sb.err"; then
	fail "sensorbus warned: $(grep 'warn\|error' "$TMP/sb.err")"
fi

TMP="$TMP" python3 - "$TMP/ne.prom" "$TMP/sb.json" "$COLLECTORS" <<'PY' || fail "series differ from node_exporter's (see above)"
import json, os, re, sys

collectors = sys.argv[3].split()
prefix = {'uname': 'node_uname_', 'os': 'node_os_', 'time': 'node_time_', 'timex': 'node_timex_',
          'filesystem': 'node_filesystem_'}
prefixes = tuple(prefix[c] for c in collectors)

def key(name, labels):
    return (name, tuple(sorted(labels.items())))

ne = {}
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$', line)
    if not m or not m.group(1).startswith(prefixes):
        continue
    labels = {k: re.sub(r'\\(.)', lambda e: '\n' if e.group(1) == 'n' else e.group(1), v)
              for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or '')}
    ne[key(m.group(1), labels)] = float(m.group(3))
sb = {}
for line in open(sys.argv[2]):
    for s in json.loads(line)['samples']:
        if not s['name'].startswith(prefixes):
            continue
        sb[key(s['name'], dict(s.get('labels') or {}))] = float(s['value'])

def tolerance(name):
    """How far a value may move between node_exporter's read and ours."""
    if name == 'node_time_seconds':
        return 2.0  # "within a second", and the two reads are ~ms apart
    if name in ('node_timex_offset_seconds', 'node_timex_maxerror_seconds',
                'node_timex_estimated_error_seconds', 'node_timex_pps_jitter_seconds'):
        return 1.0  # the clock discipline moves between the reads
    if name == 'node_timex_frequency_adjustment_ratio':
        return 1e-3  # 1000 ppm: the kernel's limit is 500
    if name in ('node_filesystem_free_bytes', 'node_filesystem_avail_bytes'):
        return 256 << 20  # other writers on this machine between the reads
    if name == 'node_filesystem_files_free':
        return 10000
    return 0.0

def transient(k):
    # another test's scratch mount (a tmpfs it mounts for a while), which
    # may come or go between the two reads when suites run side by side
    mp = dict(k[1]).get('mountpoint', '')
    return mp.startswith('/tmp/sensorbus-test.') and not mp.startswith(os.environ['TMP'] + '/')

bad = matched = 0
for k in sorted(set(ne) | set(sb)):
    if (k not in sb or k not in ne) and transient(k):
        continue
    if k not in sb:
        print('MISSING', k, ne[k]); bad += 1
    elif k not in ne:
        print('EXTRA', k, sb[k]); bad += 1
    elif abs(sb[k] - ne[k]) > tolerance(k[0]):
        print('DIFF', k, 'node_exporter', ne[k], 'sensorbus', sb[k]); bad += 1
    else:
        matched += 1
for c in collectors:
    if not any(k[0].startswith(prefix[c]) for k in ne):
        print('node_exporter gave nothing for', c); bad += 1
print('%d series equal, %d differences' % (matched, bad))
sys.exit(1 if bad else 0)
PY
ok "live $COLLECTORS: every series equals node_exporter's"
