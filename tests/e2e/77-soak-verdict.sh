# make soak's verdict (scripts/soak.py verdict, docs/soak.md) on made-up
# samples of 30 minutes: flat with noise and spikes passes; RSS leaking
# 4 MiB/h, one fd a minute, or a thread every 5 minutes fails naming the
# metric; RSS stepping up once mid-run and staying (a high-water mark)
# passes; the table, TSV and PNG are written.
. "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null || skip "gnuplot is not installed (scripts/deps.sh test)"
SOAK="/usr/bin/python3 $SB_ROOT/scripts/soak.py"

# gen NAME PYTHON-EXPRESSIONS-FOR rss fds threads (of t, in s): a TSV of 1800 rows
gen() {
	mkdir -p "$TMP/$1"
	/usr/bin/python3 - "$TMP/$1/samples.tsv" "$2" "$3" "$4" <<'PY'
import math, sys
out, rss, fds, threads = sys.argv[1:]
with open(out, "w") as f:
    f.write("t\trss_kib\tfds\tthreads\tcpu_s\thost_procs\n")
    for t in range(1801):
        # noise: page-sized jitter, an fd open for one second in 97
        env = {"t": t, "noise": 4 * ((t * 7919) % 13 - 6), "spike": 1 if t % 97 == 0 else 0}
        f.write("%d\t%d\t%d\t%d\t%.2f\t%d\n" % (t, eval(rss, env), eval(fds, env), eval(threads, env),
                                                t * 0.012, 150 + t % 60))
PY
}
verdict() { $SOAK verdict "$TMP/$1/samples.tsv" "$TMP/$1" >"$TMP/$1/out" 2>&1; }

gen flat "30000 + noise" "194 + spike" "12"
verdict flat || fail "flat run judged growing: $(cat "$TMP/flat/out")"
grep -q "flat after warm-up" "$TMP/flat/out" || fail "no verdict line: $(cat "$TMP/flat/out")"
for f in summary.md summary.tsv soak.png; do
	[ -s "$TMP/flat/$f" ] || fail "flat: no $f"
done
[ "$(head -c 4 "$TMP/flat/soak.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "soak.png is not a PNG"
ok "flat with noise and spikes: passes; table, TSV and PNG written"

gen step "30000 + noise + (1500 if t > 900 else 0)" "194" "12"
verdict step || fail "a one-time step judged growing: $(cat "$TMP/step/out")"
ok "RSS stepping up once and staying: passes"

# 4 MiB/h = 4096 KiB over 3600 s
gen rss "30000 + noise + t * 4096 / 3600" "194" "12"
verdict rss && fail "an RSS leak of 4 MiB/h passed: $(cat "$TMP/rss/out")"
grep -q "GROWING after warm-up: rss$" "$TMP/rss/out" || fail "rss not named: $(cat "$TMP/rss/out")"
ok "RSS leaking 4 MiB/h: fails, naming rss"

gen fds "30000 + noise" "194 + t // 60" "12"
verdict fds && fail "an fd leak passed: $(cat "$TMP/fds/out")"
grep -q "GROWING after warm-up: fds$" "$TMP/fds/out" || fail "fds not named: $(cat "$TMP/fds/out")"
gen threads "30000 + noise" "194" "12 + t // 300"
verdict threads && fail "a thread leak passed: $(cat "$TMP/threads/out")"
grep -q "GROWING after warm-up: threads$" "$TMP/threads/out" || fail "threads not named"
ok "an fd a minute, a thread every 5 minutes: fail, naming the metric"
