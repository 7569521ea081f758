# Bus and file sink: synthetic -> JSON -> file, block policy, no drops, both
# threads pinned to one core; vs cat of the same bytes into a file.
. "$(dirname "$0")/../lib.sh"
N=${BENCH_EVENTS:-300000}
S=10
cat >"$TMP/c.json" <<JSON
{"sensors":{"synthetic":{"rate":0,"samples":$S,"count":$N,"exit_when_done":true}},
 "sinks":[{"type":"file","path":"$TMP/out.jsonl","rotate_bytes":0}]}
JSON
best=""
for i in 1 2 3; do
	rm -f "$TMP/out.jsonl"
	t0=$(date +%s.%N)
	taskset -c 0 "$SB_BIN" -c "$TMP/c.json" 2>"$TMP/log" || { echo "agent failed" >&2; cat "$TMP/log" >&2; exit 1; }
	t1=$(date +%s.%N)
	grep -q "sink file: $N received, $N written, 0 dropped" "$TMP/log" || { echo "drops or loss" >&2; cat "$TMP/log" >&2; exit 1; }
	t=$(py "$t1 - $t0")
	best=$(py "min($t, ${best:-1e9})")
done
bytes=$(stat -c %s "$TMP/out.jsonl")
cbest=""
for i in 1 2 3; do
	rm -f "$TMP/copy.jsonl"
	t0=$(date +%s.%N)
	taskset -c 0 cat "$TMP/out.jsonl" >"$TMP/copy.jsonl"
	t1=$(date +%s.%N)
	cbest=$(py "min($t1 - $t0, ${cbest:-1e9})")
done
eps=$(py "round($N / $best)")
sps=$(py "round($N * $S / $best)")
mbs=$(py "round($bytes / $best / 1e6, 1)")
cmbs=$(py "round($bytes / $cbest / 1e6, 1)")
met=$(py "'met' if $N * $S / $best >= 2e6 else 'MISSED'")
row "bus+file: synthetic->JSON->file, 1 core, best of 3" \
	"$eps events/s, $sps samples/s, $mbs MB/s" "cat: $cmbs MB/s" "$(py "round($mbs / $cmbs, 2)")x of cat" \
	">= 2,000,000 samples/s" "$met"
