#!/bin/sh
# The fleet end to end (docs/fleet.md): a real 3-node RabbitMQ cluster, a
# quorum queue with a replica on each node; three agents (synthetic sensor,
# distinct hosts, urls listing every node; JSON, protobuf batches and
# single protobuf messages) publish; two consumers (this binary, the amqp
# sensor) read the queue into file sinks. Mid-run the node agent fleet-a
# is connected to, which also leads the queue and serves consumer 1, is
# killed -9 and restarted later; consumer 2 is killed -9 and restarted.
# Two poison messages are rejected (dead-lettered), counted. At the end
# the consumers' files hold every (host, run, seq) each agent's own file
# sink wrote, as the very same line: 0 lost, duplicates counted. The
# negative control: a classic queue on the killed node, bound beside it,
# misses what came while the node was down, and the checker sees it.
# Every node and process is stopped by PID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"
trap _rabbit_cluster_cleanup EXIT INT TERM
CHECK="/usr/bin/python3 $SB_ROOT/tests/e2e/fleet_check.py"

t0=$(date +%s)
rabbit_cluster_start 3
echo "cluster up after $(($(date +%s) - t0))s"
port_of() { rc_get RC_PORT "$1"; }
# The endpoint a host's link starts at: src/sinks/amqp_fleet.c's FNV-1a of
# the host name modulo the node count (0-based).
start_of() {
	python3 -c '
import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print(h % 3)' "$1"
}
first=$(($(start_of fleet-a) + 1))
url_of() { echo "\"amqp://guest:guest@127.0.0.1:$(port_of "$1")/\""; }
urls="$(url_of 1), $(url_of 2), $(url_of 3)"
# consumer 1's list is turned so that its start is node $first too: it
# declares the queue there, and the leader is where it was declared
s1=$(start_of fleet-consumer-1)
c1urls=""
for k in 0 1 2; do
	node=$(((first - 1 - s1 + k + 3) % 3 + 1))
	c1urls="$c1urls${c1urls:+, }$(url_of $node)"
done

$CONSUMER declare --port "$(port_of 1)" --exchange fleet-dlx --queue fleet-dead ||
	fail "cannot declare the dead-letter queue"
$CONSUMER declare --port "$(port_of "$first")" --queue fleet-classic --binding 'sensorbus.#' ||
	fail "cannot declare the classic queue on node $first"

consumer() { # NAME URLS OUT
	cat >"$TMP/$1.json" <<JSON
{"host": "fleet-$1",
 "sensors": {"amqp": {"urls": [$2], "queue": "fleet", "queue_type": "quorum",
                      "dead_letter_exchange": "fleet-dlx", "prefetch": 256,
                      "connect_timeout": "1s"}},
 "sinks": [{"type": "file", "path": "$3", "flush_interval": "100ms"}]}
JSON
	"$SB_BIN" -c "$TMP/$1.json" 2>>"$TMP/$1.log" &
	last=$!
	track_pid $last
}
consumer consumer-1 "$c1urls" "$TMP/c1.jsonl"
c1=$last
wait_for 20 grep -q "consuming queue fleet" "$TMP/consumer-1.log" ||
	fail "consumer 1 did not start: $(tail -3 "$TMP/consumer-1.log")"
consumer consumer-2 "$urls" "$TMP/c2.jsonl"
c2=$last
wait_for 20 grep -q "consuming queue fleet" "$TMP/consumer-2.log" ||
	fail "consumer 2 did not start: $(tail -3 "$TMP/consumer-2.log")"
rabbit_node_ctl 1 list_queues -q --no-table-headers name type leader members >"$TMP/queues.txt" 2>&1
grep "^fleet[[:space:]]" "$TMP/queues.txt"
grep -q "^fleet[[:space:]]*quorum[[:space:]]*sbt$first$$@localhost" "$TMP/queues.txt" ||
	echo "note: the queue's leader is not node $first"
[ "$(grep "^fleet[[:space:]]" "$TMP/queues.txt" | grep -o "sbt[0-9]*$$@localhost" | sort -u | wc -l)" = 3 ] ||
	fail "the quorum queue does not have a replica on each of the 3 nodes"

agent() { # HOST RATE COUNT FORMAT-KEYS
	cat >"$TMP/$1.json" <<JSON
{"host": "$1",
 "sensors": {"synthetic": {"rate": $2, "samples": 2, "count": $3, "exit_when_done": true}},
 "sinks": [{"type": "file", "path": "$TMP/$1.jsonl"},
           {"type": "amqp", "urls": [$urls], "spool_dir": "$TMP/spool-$1"$4,
            "breaker": {"failures": 3, "cooldown": "500ms"},
            "retry": {"base": "50ms", "max_delay": "300ms"},
            "connect_timeout": "1s", "confirm_timeout": "3s", "shutdown_grace": "60s"}]}
JSON
	"$SB_BIN" -c "$TMP/$1.json" 2>"$TMP/$1.log" &
	last=$!
	track_pid $last
}
agent fleet-a 200 4000 ''
a=$last
agent fleet-b 300 6000 ', "format": "protobuf", "batch_events": 100'
b=$last
agent fleet-c 200 4000 ', "format": "protobuf"'
c=$last

lines() { cat "$TMP"/c*.jsonl 2>/dev/null | wc -l; }
lines_at_least() { [ "$(lines)" -ge "$1" ]; }
wait_for 30 lines_at_least 1500 || fail "the consumers took nothing: $(tail -3 "$TMP/consumer-1.log")"
echo "consumers wrote $(lines) lines; killing node $first"
rabbit_node_kill9 "$first"
wait_for 30 grep -q "failed over from" "$TMP/fleet-a.log" ||
	fail "agent fleet-a did not fail over: $(tail -3 "$TMP/fleet-a.log")"
wait_for 30 grep -q "lost amqp" "$TMP/consumer-1.log" ||
	fail "consumer 1 did not see its node go: $(tail -3 "$TMP/consumer-1.log")"
consumed_twice() { [ "$(grep -c "consuming queue fleet" "$TMP/consumer-1.log")" -ge 2 ]; }
wait_for 30 consumed_twice ||
	fail "consumer 1 did not fail over: $(tail -3 "$TMP/consumer-1.log")"
grep "failed over from" "$TMP/fleet-a.log" | head -1
now=$(lines)
wait_for 30 lines_at_least $((now + 500)) || fail "nothing consumed after the node's loss"
kill -9 "$c2"
echo "consumer 2 (pid $c2) killed -9 after $(lines) lines"
now=$(lines)
wait_for 30 lines_at_least $((now + 300)) || fail "consumer 1 alone consumed nothing"
consumer consumer-2 "$urls" "$TMP/c2b.jsonl"
c2=$last
wait_for 20 grep -q "consuming queue fleet" "$TMP/consumer-2.log" ||
	fail "consumer 2 did not come back"
rabbit_node_start "$first"
rabbit_node_wait "$first" 90
echo "node $first back after $(($(date +%s) - t0))s"
alive=$(($(start_of fleet-a) % 3 + 1))
[ "$alive" = "$first" ] && alive=$((first % 3 + 1))
$CONSUMER publish --port "$(port_of "$alive")" --routing-key sensorbus.poison.x.y \
	--content-type text/plain --body 'garbage, not an event' || fail "cannot publish poison"
$CONSUMER publish --port "$(port_of "$alive")" --routing-key sensorbus.poison.x.y \
	--content-type application/x-protobuf --type sensorbus.v1.Event --body "$(printf '\377\377\377')" ||
	fail "cannot publish poison"

for p in $a $b $c; do
	wait_for 90 gone "$p" || fail "agent $p did not finish"
	wait "$p" || fail "agent $p exited $?"
done
sent=0
for h in fleet-a fleet-b fleet-c; do
	check_accounting "$TMP/$h.log" || fail "$h: accounting"
	r=$(acct_field received "$TMP/$h.log")
	d=$(acct_field delivered "$TMP/$h.log")
	[ "$r" = "$d" ] || fail "$h closed with $d of $r delivered"
	sent=$((sent + r))
done
echo "agents done after $(($(date +%s) - t0))s: $sent events delivered to the cluster"
complete() { $CHECK "$TMP"/fleet-?.jsonl -- "$TMP"/c*.jsonl >/dev/null; }
wait_for 60 complete || echo "note: not everything consumed within 60 s"
for p in $c1 $c2; do kill -TERM "$p"; done
for p in $c1 $c2; do
	wait_for 20 gone "$p" || fail "consumer $p did not stop within 20 s of SIGTERM"
	wait "$p" || fail "consumer $p exited $?"
done
grep "queue fleet:" "$TMP"/consumer-*.log
$CHECK "$TMP"/fleet-?.jsonl -- "$TMP"/c*.jsonl || fail "events lost or changed between the agents and the consumers"
rejected=$(sed -n 's/.*queue fleet: .* \([0-9]*\) rejected.*/\1/p' "$TMP"/consumer-*.log |
	awk '{s += $1} END {print s + 0}')
[ "$rejected" = 2 ] || fail "the consumers rejected $rejected messages, not the 2 poison ones"
grep -h "rejected message" "$TMP"/consumer-*.log | head -2
rabbit_node_ctl "$alive" list_queues -q --no-table-headers name messages >"$TMP/dead.txt" 2>&1
grep -q "^fleet-dead[[:space:]]*2$" "$TMP/dead.txt" ||
	fail "the poison messages are not dead-lettered: $(cat "$TMP/dead.txt")"

# negative control: the classic queue on the killed node
$CONSUMER consume --port "$(port_of "$first")" --queue fleet-classic --binding 'sensorbus.#' \
	--pb "$PB_DIR" --out "$TMP/classic.jsonl" --idle 3 &
drainer=$!
track_pid $drainer
wait_for 60 gone $drainer || fail "the classic queue's drain did not finish"
run=$(sed -n '1s/.*"run":"\([0-9a-f]*\)".*/\1/p' "$TMP/fleet-a.jsonl")
printf 'negative control, classic queue on node %s: ' "$first"
$CHECK --pairs "$run" "$(wc -l <"$TMP/fleet-a.jsonl")" "$TMP/classic.jsonl" &&
	fail "the checker sees no loss in a queue that lost a node's downtime"
echo "took $(($(date +%s) - t0))s"
ok "3 agents, 2 consumers, a node and a consumer killed -9: 0 lost, lines identical, poison rejected"
