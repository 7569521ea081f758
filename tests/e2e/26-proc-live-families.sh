# Replacing node_exporter on this host: every node_* family Debian's
# node_exporter emits with its default collectors, sensorbus emits too,
# with node_exporter's label names (values are compared by e2e 21 and 24; here
# only what dashboards and alerts select on). node_exporter's own
# node_exporter_* and the Go runtime's series are not the host's.
. "$(dirname "$0")/lib.sh"

NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter is not installed (scripts/deps.sh test)"
[ -r /proc/sys/kernel/ostype ] || skip "no live /proc here"

port=$(free_port)
# Debian's build changed the mount point exclude; upstream's is sensorbus'
"$NE" --web.listen-address="127.0.0.1:$port" \
	--collector.filesystem.mount-points-exclude='^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)' \
	>"$TMP/ne.log" 2>&1 &
ne=$!
track_pid $ne
wait_for 10 curl -sf -o "$TMP/ne.prom" "http://127.0.0.1:$port/metrics" ||
	fail "node_exporter did not serve /metrics: $(tail -3 "$TMP/ne.log")"
kill $ne
printf '{"sensors":{"proc":{}},"sinks":[{"type":"file","path":"%s"}]}' "$TMP/sb.jsonl" >"$TMP/c.json"
# two rounds: filesystem's statfs runs off the loop and reports from the second
"$SB_BIN" -c "$TMP/c.json" --no-bpf --duration 1500ms -i 500ms 2>"$TMP/sb.err" ||
	fail "sensorbus exited $?: $(tail -3 "$TMP/sb.err")"

python3 - "$TMP/ne.prom" "$TMP/sb.jsonl" <<'PY'
import json, re, sys
def family(name):
    return re.sub(r'_(bucket|sum|count)$', '', name)
ne = {}
for line in open(sys.argv[1]):
    m = re.match(r'^(node_[a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+$', line.strip())
    if not m or m.group(1).startswith('node_exporter_'):
        continue
    labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(2) or ''))
    ne.setdefault(m.group(1), set()).add(labels)
sb = {}
for line in open(sys.argv[2]):
    for s in json.loads(line).get('samples', []):
        if s['name'].startswith('node_'):
            sb.setdefault(s['name'], set()).add(frozenset((s.get('labels') or {}).keys()))
missing = sorted(set(ne) - set(sb))
# each of node_exporter's label sets is there (a later node_exporter's added
# label, node_disk_info's rotational, is allowed beside it)
def covered(n):
    return all(any(l <= o for o in sb[n]) for l in ne[n])
labels = sorted(n for n in set(ne) & set(sb) if not covered(n))
extra = sorted(n for n in set(ne) & set(sb) if covered(n) and not ne[n] <= sb[n])
for n in extra:
    print('note: more labels on', n, sorted(map(sorted, sb[n])))
for n in missing:
    print('MISSING', n)
for n in labels:
    print('LABELS', n, 'node_exporter', sorted(map(sorted, ne[n])), 'sensorbus', sorted(map(sorted, sb[n])))
print('%d of %d node_exporter families, %d with other label names' %
      (len(ne) - len(missing), len(ne), len(labels)))
sys.exit(1 if missing or labels else 0)
PY
[ $? -eq 0 ] || fail "families differ from node_exporter's on this host (see above)"
ok "every node_* family node_exporter emits here, with its label names"
