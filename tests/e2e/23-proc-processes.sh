# Per-process metrics on the live /proc: processes found by argv[0] and by
# pid, values equal to what the kernel reports for them, processes that
# start, exec and exit while the agent runs, and no warnings for any of it.
. "$(dirname "$0")/lib.sh"

[ -r /proc/self/stat ] || skip "no procfs at /proc"
command -v bash >/dev/null || skip "bash is needed for exec -a"

# worker NAME: a sleep whose argv[0] is /opt/sb-e2e/NAME (comm stays
# "sleep"); its pid in $wpid. (Not in $(...): that would wait for it.)
worker() {
	bash -c "exec -a /opt/sb-e2e/$1 sleep 300" </dev/null >/dev/null 2>&1 &
	wpid=$!
	track_pid $wpid
}

worker sb-e2e-worker
w1=$wpid
worker sb-e2e-worker
w2=$wpid
worker sb-e2e-other
other=$wpid
for p in $w1 $w2 $other; do
	wait_for 5 sh -c "[ \"\$(cat /proc/$p/comm)\" = sleep ]" || fail "worker $p did not start"
done

printf '{"sensors":{"proc":{"collectors":["stat","processes"],"processes":["sb-e2e-worker"],"pids":["%s"]}}}' \
	"$other" >"$TMP/c.json"
"$SB_BIN" -c "$TMP/c.json" --once --no-bpf --sensors proc -o "$TMP/once.json" 2>"$TMP/once.err" ||
	fail "exit $?"
! grep -q 'warn\|error' "$TMP/once.err" || fail "warnings: $(cat "$TMP/once.err")"
python3 - "$TMP/once.json" "$w1" "$w2" "$other" <<'PY' || fail "per-process values differ from /proc"
import json, os, sys
ev = json.loads(open(sys.argv[1]).readline())
w1, w2, other = sys.argv[2:5]
got = {}
for s in ev['samples']:
    if s['name'].startswith('process_'):
        l = s['labels']
        got[(s['name'], l['pid'])] = (s['value'], l.get('comm'), l.get('name'))
pids = {p for _, p in got}
assert pids == {w1, w2, other}, pids
btime = [int(l.split()[1]) for l in open('/proc/stat') if l.startswith('btime ')][0]
hz = os.sysconf('SC_CLK_TCK')
page = os.sysconf('SC_PAGE_SIZE')
for pid in (w1, w2, other):
    st = open('/proc/%s/stat' % pid).read()
    f = st[st.rindex(')') + 2:].split()
    want_name = None if pid == other else 'sb-e2e-worker'
    def v(n):
        val, comm, name = got[(n, pid)]
        assert comm == 'sleep' and name == want_name, (n, pid, comm, name)
        return val
    assert v('process_cpu_seconds_total') == (int(f[11]) + int(f[12])) / hz
    assert v('process_threads') == int(f[17])
    assert v('process_start_time_seconds') == btime + int(f[19]) / hz
    assert v('process_virtual_memory_bytes') == int(f[20])
    assert v('process_resident_memory_bytes') == int(f[21]) * page
    assert v('process_minor_page_faults_total') == int(f[7])
    assert v('process_open_fds') == len(os.listdir('/proc/%s/fd' % pid))
    soft = [l.split()[3] for l in open('/proc/%s/limits' % pid) if l.startswith('Max open files')][0]
    assert v('process_max_fds') == float(soft)
    status = dict(l.split(':', 1) for l in open('/proc/%s/status' % pid))
    assert v('process_voluntary_context_switches_total') == int(status['voluntary_ctxt_switches'])
    io = dict(l.split(': ') for l in open('/proc/%s/io' % pid))
    assert v('process_io_read_bytes_total') == int(io['read_bytes'])
PY
ok "found by argv[0] and by pid, values equal /proc"

# While the agent runs: short-lived workers come and go, one process only
# becomes a worker by exec after it was listed, and the pid target exits.
bash -c 'sleep 1; exec -a /opt/sb-e2e/sb-e2e-worker sleep 300' </dev/null >/dev/null 2>&1 &
late=$!
track_pid $late
(
	i=0
	while [ $i -lt 20 ]; do
		bash -c 'exec -a /opt/sb-e2e/sb-e2e-worker sleep 0.1' </dev/null >/dev/null 2>&1 &
		sleep 0.1
		i=$((i + 1))
	done
	wait
) </dev/null >/dev/null 2>&1 &
churn=$!
track_pid $churn
(sleep 1.5 && kill "$other") </dev/null >/dev/null 2>&1 &
track_pid $!
"$SB_BIN" -c "$TMP/c.json" --duration 3s -i 100ms --no-bpf --sensors proc -o "$TMP/run.json" \
	2>"$TMP/run.err" || fail "exit $?"
! grep -q 'warn\|error' "$TMP/run.err" || fail "warnings: $(grep 'warn\|error' "$TMP/run.err")"
grep -q "pid $other is not running" "$TMP/run.err" || fail "the exit of pid $other was not noted"
[ "$(grep -c 'is not running' "$TMP/run.err")" = 1 ] || fail "'not running' said more than once"
python3 - "$TMP/run.json" "$late" "$other" <<'PY' || fail "processes coming and going"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
late, other = sys.argv[2:4]
assert len(evs) >= 15, len(evs)
seen = set()
for ev in evs:
    for s in ev['samples']:
        if s['name'] == 'sensorbus_sensor_errors_total':
            assert s['value'] == 0, 'errors counted: %s' % s['value']
        if s['name'] == 'process_cpu_seconds_total':
            seen.add(s['labels']['pid'])
last = {s['labels']['pid'] for s in evs[-1]['samples'] if s['name'] == 'process_cpu_seconds_total'}
assert late in last, 'the process that exec\'d into a worker was not found: %s' % last
assert other not in last, 'the exited pid is still reported'
assert len(seen) >= 6, 'few short-lived workers seen: %s' % seen
print('%d rounds, %d distinct processes reported' % (len(evs), len(seen)))
PY
ok "processes that start, exec and exit while running"
