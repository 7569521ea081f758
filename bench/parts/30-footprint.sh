# Agent footprint: 60 s at a 1 s interval with the default sensors (proc
# with one watched process, bpf where the kernel allows, file sink) vs
# Debian's prometheus-node-exporter scraped once a second over the same
# 60 s. A second agent runs only what node_exporter does: the proc sensor's
# default collectors, served by a prom sink that the same loop scrapes once
# a second (issue 13's "a round of all default collectors" against a
# node_exporter scrape). CPU from each process's own cgroup (ns, every
# thread; cpu_track in bench/lib.sh), peak RSS from VmHWM.
. "$(dirname "$0")/../lib.sh"
SECS=${BENCH_FOOTPRINT_SECS:-60}
NE=$(command -v prometheus-node-exporter || echo /usr/bin/prometheus-node-exporter)
[ -x "$NE" ] || { row "footprint" "" "" "" "" "skipped: no prometheus-node-exporter"; exit 0; }
port=$(free_port)
port2=$(free_port)
hwm_mb() { awk '/VmHWM/ {print $2 / 1024}' "/proc/$1/status"; }

sleep 3600 &
watched=$!
track_pid $watched
cat >"$TMP/c.json" <<JSON
{"interval":"1s","sensors":{"proc":{"pids":["$watched"]},"bpf":{"watch":["$watched"]}},
 "sinks":[{"type":"file","path":"$TMP/events.jsonl"}]}
JSON
"$NE" --web.listen-address=127.0.0.1:$port >"$TMP/ne.log" 2>&1 &
ne=$!
track_pid $ne
"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/sb.log" &
sb=$!
track_pid $sb
cat >"$TMP/c2.json" <<JSON
{"interval":"1s","sensors":{"proc":{}},
 "sinks":[{"type":"prom","listen":"127.0.0.1:$port2","full":"drop_oldest"}]}
JSON
"$SB_BIN" -c "$TMP/c2.json" --no-bpf --sensors proc 2>"$TMP/sb2.log" &
sb2=$!
track_pid $sb2
# A third agent: the prom agent with only the 11 collectors the proc sensor
# had when issue 13 was filed ("as the 11 collectors do today"), so each
# run shows what the 36 collectors added since cost on the same host.
port3=$(free_port)
first11='"cpu","meminfo","loadavg","stat","diskstats","netdev","pressure","vmstat","filefd","sockstat","netstat"'
cat >"$TMP/c3.json" <<JSON
{"interval":"1s","sensors":{"proc":{"collectors":[$first11]}},
 "sinks":[{"type":"prom","listen":"127.0.0.1:$port3","full":"drop_oldest"}]}
JSON
"$SB_BIN" -c "$TMP/c3.json" --no-bpf --sensors proc 2>"$TMP/sb3.log" &
sb3=$!
track_pid $sb3
cpu_track ne $ne
cpu_track sb $sb
cpu_track sb2 $sb2
cpu_track sb3 $sb3
i=0
while ! { curl -sf "http://127.0.0.1:$port/metrics" >/dev/null &&
	curl -sf "http://127.0.0.1:$port2/metrics" | grep -q '^node_load1 ' &&
	curl -sf "http://127.0.0.1:$port3/metrics" | grep -q '^node_load1 '; } && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
# and the default agent past its start-up: its BPF loader (a child that
# parses the kernel's BTF) gone and its first round written. Without this
# the window opened while that agent was still starting whenever the prom
# agent answered first: ~40 ms of start-up, charged to its cgroup (the
# loader's share not in its threads' times), made its row 2.5 ms/s
# instead of ~1.3.
i=0
while { [ -n "$(pgrep -P $sb)" ] || ! grep -q '"source":"proc"' "$TMP/events.jsonl" 2>/dev/null; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
# The floor under the collectors-and-prom agent's loop: the files its loop
# reads in a round (its preads over two seconds, by strace, before the
# window), read once a round by bench/floor.c (nothing parsed, no events)
# in the same window, and a timer wake that reads nothing.
floor=""
if command -v strace >/dev/null && build_helper floor; then
	timeout 2.5 strace -q -y -e trace=pread64 -e status=successful -o "$TMP/preads" -p $sb2 2>/dev/null
	floor_files=$(sed -n 's/^pread64([0-9]*<\([^>]*\)>.*/\1/p' "$TMP/preads" 2>/dev/null |
		sed "s#^/proc/$sb2/#/proc/self/#" | sort -u)
	if [ -n "$floor_files" ]; then
		"$BENCH_OUT/floor" "$SECS" 1000 $floor_files >"$TMP/floor.out" 2>"$TMP/floor.err" &
		floor=$!
		track_pid $floor
	fi
fi
# And the floor under its serving: a server with no HTTP library
# (bench/httpfloor.c) answering the prom agent's answer's size, scraped
# beside the two in the same loop.
hfloor=""
hport=$(free_port)
if build_helper httpfloor; then
	hsize=$(curl -sf "http://127.0.0.1:$port2/metrics" | wc -c)
	"$BENCH_OUT/httpfloor" "$hport" "$hsize" $((SECS + 1)) >"$TMP/hfloor.out" 2>"$TMP/hfloor.err" &
	hfloor=$!
	track_pid $hfloor
	curl -sf --retry 5 --retry-connrefused --retry-delay 0 "http://127.0.0.1:$hport/" >/dev/null || true
fi
ne0=$(cpu_s ne)
sb0=$(cpu_s sb)
sc0=$(cpu_s sb2)
se0=$(cpu_s sb3)
threads_snap $sb2 >"$TMP/threads0"
set -- $(switches $ne) $(switches $sb2)
nev0=$1 nei0=$2 scv0=$3 sci0=$4
n=0
while [ $n -lt "$SECS" ]; do
	curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/ne.txt" || true
	curl -sf "http://127.0.0.1:$port2/metrics" >"$TMP/sb2.txt" || true
	grep '^node_scrape_collector_duration_seconds{' "$TMP/sb2.txt" >>"$TMP/durations" || true
	curl -sf "http://127.0.0.1:$port3/metrics" >"$TMP/sb3.txt" || true
	[ -n "$hfloor" ] && { curl -sf "http://127.0.0.1:$hport/" >/dev/null || true; }
	sleep 1
	n=$((n + 1))
done
ne1=$(cpu_s ne)
sb1=$(cpu_s sb)
sc1=$(cpu_s sb2)
se1=$(cpu_s sb3)
threads_snap $sb2 >"$TMP/threads1"
set -- $(switches $ne) $(switches $sb2)
nev1=$1 nei1=$2 scv1=$3 sci1=$4
# the main thread's name is the binary's (SB_BIN may be another name)
loopname=$(tr ' ' _ <"/proc/$sb2/comm")
sc2rss=$(hwm_mb $sb2)
nerss=$(hwm_mb $ne)
sbrss=$(hwm_mb $sb)
kill -TERM $sb $sb2 $sb3
wait $sb $sb2 $sb3
nsamples=$(grep -c '^[a-z]' "$TMP/ne.txt")
sbsamples=$(python3 -c '
import json,sys
n=0
for l in open(sys.argv[1]):
    ev=json.loads(l)
    n=max(n, len(ev.get("samples",[])) if ev["source"]=="proc" else 0)
print(n)' "$TMP/events.jsonl")
necpu=$(py "$ne1 - $ne0")
# cpu_row WHAT CPU0 CPU1 SIZE: a row of an agent's CPU over the window
# against node_exporter's
cpu_row() {
	r=$(py "round(($3 - $2) / max($necpu, 1e-9), 3)")
	row "$1" "$(py "round(($3 - $2) * 1000 / $SECS, 2)") ms/s ($4)" \
		"node_exporter: $(py "round($necpu * 1000 / $SECS, 2)") ms/s ($nsamples samples/scrape)" "${r}x" "<= 0.1x" \
		"$(py "'met' if $r <= 0.1 else 'MISSED'")"
}
cpu_row "footprint: the default agent (proc, bpf, file sink), CPU over ${SECS}s at 1/s" "$sb0" "$sb1" \
	"$sbsamples proc samples/round"
cpu_row "footprint: a round of all default proc collectors, served by a prom sink scraped 1/s" "$sc0" "$sc1" \
	"$(grep -c '^node_' "$TMP/sb2.txt") node_* samples/scrape"
cpu_row "footprint: the same, with only the 11 collectors of issue 13's start ($(printf '%s' "$first11" | tr -d '"' | sed 's/,/, /g'))" \
	"$se0" "$se1" "$(grep -c '^node_' "$TMP/sb3.txt") node_* samples/scrape"
# Each collector's part of a round: the agent's own
# node_scrape_collector_duration_seconds (wall time, so a preemption inside
# a collector counts), averaged over the window's scrapes.
if [ -s "$TMP/durations" ]; then
	note "footprint: the collectors-and-prom agent's collectors, wall time a round averaged over the window (node_scrape_collector_duration_seconds): $(awk '
		{ split($0, a, "collector=\""); split(a[2], b, "\""); t[b[1]] += $NF; n[b[1]]++ }
		END { for (k in t) printf "%s %.4f\n", k, t[k] / n[k] * 1e6 }' "$TMP/durations" |
		sort -k2 -rn | awk '{ all += $2 } NR <= 10 { top = top sep $1 sprintf(" %.1f", $2); sep = ", " } END { printf "%.1f µs in all; the dearest: %s µs", all, top }')"
fi
# Where the collectors-and-prom agent's time went, by thread name: the
# collection loop is the main thread (named as the binary), serving is libmicrohttpd's
# (MHD-single), the filesystem collector's statfs calls the statfs worker's.
note "footprint: the collectors-and-prom agent by thread, against node_exporter's $(py "round($necpu * 1000 / $SECS, 2)") ms/s: $(threads_diff "$TMP/threads0" "$TMP/threads1" "$SECS" "$necpu")"
note "footprint: CPU measured as $(cpu_how sb); the collectors-only agent's peak RSS $(py "round($sc2rss, 1)") MB"
# What a wake costs differs most between hosts (a VM's idle exits): how
# many each side makes tells how much of its time that is.
note "footprint: context switches (every thread; voluntary: a sleep and a wake, involuntary: a preemption) over the window, per second: node_exporter $(py "round(($nev1 - $nev0) / $SECS, 1)") voluntary and $(py "round(($nei1 - $nei0) / $SECS, 1)") involuntary, the collectors-and-prom agent $(py "round(($scv1 - $scv0) / $SECS, 1)") and $(py "round(($sci1 - $sci0) / $SECS, 1)")"
if [ -n "$floor" ] && wait $floor && read -r _ nfl _ fwake _ freads <"$TMP/floor.out"; then
	loop=$(threads_diff "$TMP/threads0" "$TMP/threads1" "$SECS" "$necpu" "$loopname")
	note "footprint: the floor under the collectors-and-prom agent's loop (bench/floor.c, same window): the $nfl files its loop reads in a round, each read once a round on a kept-open fd, nothing parsed, cost $freads µs a round, and a timer wake that reads nothing $fwake µs; together $(py "round(($freads + $fwake) / ($necpu * 1e6 / $SECS), 3)")x node_exporter. The agent's loop: $loop µs a round, $(py "round($loop - $freads - $fwake)") µs above that floor (parsing, events, the link dump, statfs hand-off)"
else
	note "footprint: no floor measured (bench/floor.c needs strace to find the files: $(head -1 "$TMP/floor.err" 2>/dev/null))"
fi
if [ -n "$hfloor" ] && wait $hfloor && read -r _ _ _ hus <"$TMP/hfloor.out"; then
	note "footprint: the floor under the prom agent's serving (bench/httpfloor.c, same window): an epoll server with no HTTP library answering $hsize bytes to the same curl, $hus µs of CPU a scrape; the prom agent's libmicrohttpd thread: $(threads_diff "$TMP/threads0" "$TMP/threads1" "$SECS" "$necpu" MHD-single) µs a scrape"
else
	note "footprint: no serving floor measured ($(head -1 "$TMP/hfloor.err" 2>/dev/null))"
fi
r=$(py "round($sbrss / $nerss, 3)")
row "footprint: peak RSS" "$(py "round($sbrss, 1)") MB" "node_exporter: $(py "round($nerss, 1)") MB" "${r}x" "<= 0.4x" \
	"$(py "'met' if $r <= 0.4 else 'MISSED'")"
