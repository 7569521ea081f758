# Prometheus text parser: MB/s on a real node_exporter body and on the
# algod-style fixture, vs Debian's python3-prometheus-client parser and vs
# `wc -l` over the same bytes; callgrind instructions per byte (repeatable
# where wall time is not).
. "$(dirname "$0")/../lib.sh"
make -s -C "$SB_ROOT" promtext-bench >/dev/null || exit 1
PB="$SB_ROOT/build/promtext_bench"
NE=$(command -v prometheus-node-exporter || echo /usr/bin/prometheus-node-exporter)
port=$(free_port)
"$NE" --web.listen-address=127.0.0.1:$port >"$TMP/ne.log" 2>&1 &
track_pid $!
i=0
while ! curl -sf "http://127.0.0.1:$port/metrics" -o "$TMP/node.txt" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMP/node.txt" ] || { echo "no node_exporter body" >&2; exit 1; }
cp "$SB_ROOT/fixtures/prom/algod.txt" "$TMP/algod.txt"

for body in node algod; do
	f="$TMP/$body.txt"
	bytes=$(stat -c %s "$f")
	rounds=$((200000000 / bytes)) # ~200 MB parsed
	ours=$(taskset -c 0 "$PB" "$f" "$rounds" | sed -n 's/.*: \([0-9.]*\) MB\/s/\1/p')
	# python: fewer rounds, it is slow
	pyr=$((rounds / 50 + 1))
	pymbs=$(taskset -c 0 /usr/bin/python3 - "$f" "$pyr" <<'PY'
import sys, time
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
n = int(sys.argv[2])
t0 = time.perf_counter()
for _ in range(n):
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            pass
t = time.perf_counter() - t0
print(round(len(text.encode()) * n / t / 1e6, 2))
PY
)
	python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(d*(64000000//len(d)+1))' "$f" "$TMP/big.txt"
	bigbytes=$(stat -c %s "$TMP/big.txt")
	best=1e9
	for r in 1 2 3 4 5; do
		t0=$(date +%s.%N)
		taskset -c 0 wc -l "$TMP/big.txt" >/dev/null
		t1=$(date +%s.%N)
		best=$(py "min($best, $t1 - $t0)")
	done
	wcmbs=$(py "round($bigbytes / $best / 1e6, 1)")
	ir=$(valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$PB" "$f" 20 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
	ir1=$(valgrind --tool=callgrind --callgrind-out-file="$TMP/cg1.out" "$PB" "$f" 1 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
	ipb=$(py "round(($ir - $ir1) / 19 / $bytes, 1)")
	ratio=$(py "round($ours / $pymbs, 1)")
	row "parser: $body body ($bytes B)" "$ours MB/s; $ipb instr/byte (callgrind)" \
		"python prometheus_client: $pymbs MB/s; wc -l: $wcmbs MB/s" "${ratio}x python; $(py "round($ours / $wcmbs, 2)")x wc -l" \
		">= 15x python" "$(py "'met' if $ratio >= 15 else 'MISSED'")"
done
