#!/bin/sh
# The fleet's failover (docs/amqp.md, "A cluster"): a real 3-node RabbitMQ
# cluster on this machine, a quorum queue with a replica on each node, one
# agent (synthetic sensor, urls listing the three nodes) publishing. Mid-run
# the node the agent is connected to, which also leads the queue, is killed
# -9 (by the pid in its pid file); the agent fails over to another node and
# sends what was unconfirmed again; the node is restarted later. At the
# end the queue holds every seq the agent's amqp sink accepted: 0 lost,
# duplicates counted. The negative control: a classic queue on the killed
# node, bound beside it, misses what came while the node was down, and the
# same check sees it. Every node is stopped by PID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"
trap _rabbit_cluster_cleanup EXIT INT TERM
command -v curl >/dev/null || skip "curl is not installed"

t0=$(date +%s)
rabbit_cluster_start 3
echo "cluster up after $(($(date +%s) - t0))s"

HOST=fleet-a
# The node the agent's worker 0 starts on: src/sinks/amqp_fleet.c's FNV-1a
# of the host name, plus the worker index, modulo the node count.
first=$(python3 -c '
import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print(h % 3 + 1)' "$HOST")
port_of() { rc_get RC_PORT "$1"; }
# Declared through that node, the queue's leader is there too (the
# default leader locator is client-local): one kill takes both.
$CONSUMER declare --port "$(port_of "$first")" --queue fleet --queue-type quorum ||
	fail "cannot declare the quorum queue on node $first"
$CONSUMER declare --port "$(port_of "$first")" --queue fleet-classic ||
	fail "cannot declare the classic queue on node $first"
rabbit_node_ctl 1 list_queues -q --no-table-headers name type leader members >"$TMP/queues.txt" 2>&1
cat "$TMP/queues.txt"
grep -q "^fleet[[:space:]]*quorum[[:space:]]*sbt$first$$@localhost" "$TMP/queues.txt" ||
	fail "the queue is not a quorum queue led by node $first"
[ "$(grep -o "sbt[0-9]*$$@localhost" "$TMP/queues.txt" | sort -u | wc -l)" = 3 ] ||
	fail "the quorum queue does not have a replica on each of the 3 nodes"

mport=$(free_port)
urls=$RC_URLS
cat >"$TMP/agent.json" <<JSON
{"host": "$HOST",
 "sensors": {"synthetic": {"rate": 400, "samples": 2}, "agent": {}},
 "sinks": [{"type": "amqp", "urls": [$urls], "spool_dir": "$TMP/spool",
            "buffer": "disk", "drain_rate": 5000,
            "breaker": {"failures": 3, "cooldown": "500ms"},
            "retry": {"base": "50ms", "max_delay": "300ms"},
            "connect_timeout": "1s", "confirm_timeout": "3s", "shutdown_grace": "20s"},
           {"type": "prom", "listen": "127.0.0.1:$mport"}]}
JSON
"$SB_BIN" -c "$TMP/agent.json" -i 500ms 2>"$TMP/agent.log" &
agent=$!
track_pid $agent

metrics() { curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null; }
# metric NAME LABEL-FRAGMENT: the value of the first series that has both
metric() {
	metrics | grep "^$1{" | grep -F "$2" | head -1 | sed 's/.* //'
}
connected_port() {
	metrics | grep '^sensorbus_amqp_endpoint{' | grep 'worker="0"' | grep ' 1$' |
		sed 's/.*endpoint="127.0.0.1:\([0-9]*\)".*/\1/' | head -1
}
delivered() { metric sensorbus_sink_delivered_total 'sink="amqp"'; }
delivered_at_least() { d=$(delivered); [ -n "$d" ] && [ "${d%.*}" -ge "$1" ]; }

wait_for 30 delivered_at_least 1000 || fail "the agent delivered nothing: $(tail -5 "$TMP/agent.log")"
p=$(connected_port)
[ "$p" = "$(port_of "$first")" ] ||
	fail "worker 0 is on port $p, not on node $first ($(port_of "$first")) its host picks"
echo "agent on node $first (port $p), delivered $(delivered)"

rabbit_node_kill9 "$first"
before=$(delivered)
failed_over() {
	f=$(metric sensorbus_amqp_failovers_total 'sink="amqp"')
	np=$(connected_port)
	[ -n "$f" ] && [ "${f%.*}" -ge 1 ] && [ -n "$np" ] && [ "$np" != "$p" ]
}
wait_for 30 failed_over || fail "no failover after the kill: $(tail -5 "$TMP/agent.log")"
wait_for 30 delivered_at_least $((${before%.*} + 1000)) ||
	fail "nothing delivered after the failover: $(tail -5 "$TMP/agent.log")"
echo "failed over to port $(connected_port); delivered $(delivered)"
fails=$(metric sensorbus_amqp_endpoint_failures_total "endpoint=\"127.0.0.1:$p\"")
[ "${fails%.*}" -ge 1 ] || fail "the killed node counts no failure ($fails)"
grep -E "failing over|failed over from" "$TMP/agent.log"
grep -q "failed over from" "$TMP/agent.log" || fail "no failover line in the log"
# Lost links fail over and never count toward the breaker. What the
# survivors refuse (basic.nack) does: while the cluster notices the loss,
# a publish routed to the dead node's queues is nacked (seen with a plain
# pika publisher too, for about 100 ms), and on a slow machine that can be
# this test's 3 failures in a row. Then the breaker is right to open.
if grep -q "breaker open" "$TMP/agent.log"; then
	grep -E "breaker|not confirmed|refused" "$TMP/agent.log"
	grep "breaker open" "$TMP/agent.log" | grep -vq "refused (nack)" &&
		fail "the breaker opened on lost links while two nodes were up"
	echo "the breaker opened on the survivors' nacks, not on the lost links"
fi

rabbit_node_start "$first"
rabbit_node_wait "$first" 90
echo "node $first back after $(($(date +%s) - t0))s"
now=$(delivered)
wait_for 20 delivered_at_least $((${now%.*} + 500)) || fail "stalled after the restart"
kill -TERM $agent
wait $agent || fail "the agent exited $?"
check_accounting "$TMP/agent.log" || fail "accounting"
received=$(acct_field received "$TMP/agent.log")
deliv=$(acct_field delivered "$TMP/agent.log")
[ "$received" = "$deliv" ] || fail "the agent closed with $deliv of $received delivered"
run=$(sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$TMP/agent.log")

# drain QUEUE TYPE PORT OUT: reads the whole queue into OUT, bounded
drain() {
	$CONSUMER consume --port "$3" --queue "$1" --queue-type "$2" --out "$4" --idle 4 &
	_c=$!
	track_pid $_c
	wait_for 60 gone $_c || fail "the consumer did not finish reading $1"
	$CONSUMER report "$4"
}
# check REPORT: (host, run, seq) of every accepted event in the queue
check() {
	python3 - "$1" "$run" "$received" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
run, received = sys.argv[2], int(sys.argv[3])
r = rep.get(run, {"unique": 0, "max": 0, "duplicates": 0, "ngaps": received})
print("run %s: accepted %d, in the queue %d unique (max seq %d), %d duplicates, %d missing"
      % (run, received, r["unique"], r["max"], r["duplicates"], received - r["unique"]))
sys.exit(0 if r["ngaps"] == 0 and r["unique"] == received and r["max"] == received else 1)
PY
}
# Everything, from a node that never went down.
other=$((first % 3 + 1))
drain fleet quorum "$(port_of "$other")" "$TMP/got.jsonl" >"$TMP/report.json"
check "$TMP/report.json" || fail "events lost in the quorum queue"
drain fleet-classic classic "$(port_of "$first")" "$TMP/classic.jsonl" >"$TMP/classic.json"
printf 'negative control, classic queue on node %s: ' "$first"
check "$TMP/classic.json" && fail "the check sees no loss in a queue that lost a node's downtime"
echo "took $(($(date +%s) - t0))s"
ok "a node killed -9 under a publishing agent: failover, 0 lost; the classic queue on it lost its downtime"
