# The textfile collector against Debian's node_exporter 1.5.0 on the
# project's hand-written .prom files: fixtures/textfile/merge (families
# merged across files, conflicting TYPE and HELP, a duplicate series, a
# syntax error, client-side timestamps, an empty file, files not named
# *.prom, histogram, summary and label filling) and fixtures/textfile/strict
# (one directory per case of what prometheus/common's parser accepts or
# refuses, read through a glob). Every family's TYPE and HELP and every
# series' value must be equal; then the cases node_exporter cannot be run
# on (it hangs on a FIFO, follows links): sensorbus must neither.
. "$(dirname "$0")/lib.sh"

NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter is not installed (scripts/deps.sh test)"

# A copy: git does not keep mtimes, and a NUL byte file is made here.
cp -r "$SB_FIXTURES/textfile" "$TMP/tf"
printf 's_nul 1\n\000\n' >"$TMP/tf/strict/nul_byte/m.prom"
find "$TMP/tf" -name '*.prom' -exec touch -d @1700000000 {} +
touch -d @1700000321 "$TMP/tf/merge/b.prom"

scrape_ne() { # directory flag value, output
	port=$(free_port)
	"$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$1" >"$TMP/ne.log" 2>&1 &
	ne=$!
	track_pid $ne
	wait_for 10 curl -sf -o "$2" "http://127.0.0.1:$port/metrics" ||
		fail "node_exporter did not serve /metrics on port $port: $(tail -3 "$TMP/ne.log")"
	kill $ne
}

scrape_sb() { # textfile_directory, output
	port=$(free_port)
	cat >"$TMP/sb.json" <<JSON
{"sinks":[{"type":"prom","listen":"127.0.0.1:$port"}],
 "sensors":{"proc":{"collectors":["textfile"],"textfile_directory":"$1"}}}
JSON
	"$SB_BIN" --no-bpf --sensors proc -c "$TMP/sb.json" -i 200ms --duration 20s \
		2>"$TMP/sb.err" &
	sb=$!
	track_pid $sb
	wait_for 10 sh -c "curl -sf -o '$2' http://127.0.0.1:$port/metrics && grep -q '^node_textfile_scrape_error' '$2'" ||
		fail "sensorbus did not serve the textfile series: $(tail -3 "$TMP/sb.err")"
	kill $sb
}

compare() { # directory flag value, name
	scrape_ne "$1" "$TMP/ne.prom"
	scrape_sb "$1" "$TMP/sb.prom"
	python3 - "$TMP/ne.prom" "$TMP/sb.prom" <<'PY' || fail "$2: textfile series differ (see above)"
import math, re, sys

theirs = re.compile(r'^(go_|process_|promhttp_|node_exporter_|node_scrape_|sensorbus_)')

def load(path):
    fams, series = {}, {}
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        m = re.match(r'^# (HELP|TYPE) (\S+) ?(.*)$', line)
        if m:
            if not theirs.match(m.group(2)):
                fams.setdefault(m.group(2), {})[m.group(1)] = m.group(3)
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m or theirs.match(m.group(1)):
            continue
        labels = tuple(sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                         m.group(2) or '')))
        series[(m.group(1), labels)] = float(m.group(3))
    return fams, series

nf, ns = load(sys.argv[1])
sf, ss = load(sys.argv[2])
bad = 0
for f in sorted(set(nf) | set(sf)):
    if nf.get(f) != sf.get(f):
        print('FAMILY', f, 'node_exporter', nf.get(f), 'sensorbus', sf.get(f)); bad += 1
for k in sorted(set(ns) | set(ss)):
    a, b = ns.get(k), ss.get(k)
    if a is None or b is None or not (a == b or (math.isnan(a) and math.isnan(b))):
        print('SERIES', k, 'node_exporter', a, 'sensorbus', b); bad += 1
print('%d families, %d series equal, %d differences' % (len(nf), len(ns), bad))
sys.exit(1 if bad or not ns else 0)
PY
	ok "$2: every family and series equals node_exporter's"
}

compare "$TMP/tf/merge" merge
grep -q 'c_syntax.prom' "$TMP/sb.err" && grep -q 'd_timestamp.prom' "$TMP/sb.err" ||
	fail "no line naming the skipped files: $(cat "$TMP/sb.err")"
grep -q 'series left out, as node_exporter does' "$TMP/sb.err" ||
	fail "the series left out were not said: $(cat "$TMP/sb.err")"
# said once, not every round
[ "$(grep -c 'c_syntax.prom' "$TMP/sb.err")" = 1 ] || fail "c_syntax.prom said more than once"
compare "$TMP/tf/strict/*" "strict (a glob of 28 directories)"
compare "" "no directory"
compare "$TMP/none" "a missing directory"

# What node_exporter cannot be run on: a FIFO would hang it, a link it
# would follow. Sensorbus refuses both with one line and goes on.
H=$TMP/hostile
mkdir -p "$H/dir.prom"
echo 'hostile_ok 1' >"$H/good.prom"
mkfifo "$H/fifo.prom"
echo 'secret_value 42' >"$TMP/secret"
ln -s "$TMP/secret" "$H/link.prom"
cat >"$TMP/h.json" <<JSON
{"sensors":{"proc":{"collectors":["textfile"],"textfile_directory":"$H"}}}
JSON
timeout 20 "$SB_BIN" --once --no-bpf --sensors proc -c "$TMP/h.json" -o "$TMP/h.out" \
	2>"$TMP/h.err" || fail "sensorbus exit $? on the hostile directory: $(cat "$TMP/h.err")"
grep -q '"hostile_ok"' "$TMP/h.out" || fail "good.prom not read beside the hostile files"
grep -q 'secret_value' "$TMP/h.out" && fail "link.prom was followed"
grep -q '"name":"node_textfile_scrape_error","type":"gauge","value":1' "$TMP/h.out" ||
	fail "node_textfile_scrape_error is not 1: $(cat "$TMP/h.out")"
[ "$(grep -o 'node_textfile_mtime_seconds' "$TMP/h.out" | wc -l)" = 1 ] ||
	fail "an mtime for a file that was not read"
grep -q 'fifo.prom: a FIFO, not a regular file; file skipped' "$TMP/h.err" &&
	grep -q 'link.prom: a symbolic link, not followed; file skipped' "$TMP/h.err" &&
	grep -q 'dir.prom: a directory, not a regular file; file skipped' "$TMP/h.err" ||
	fail "not one line for each hostile file: $(cat "$TMP/h.err")"
ok "a FIFO, a symlink and a directory named *.prom: one line each, skipped, no hang"
