# Groups by comm against Debian's prometheus-process-exporter (grouping by
# {{.Comm}}), both scraped around the same moment: a process-exporter
# scrape, ours, and a second process-exporter scrape. On every group it
# reports (its own, ours, the test's tools and the shells that churn
# excepted): num_procs, num_threads, virtual and swapped memory, open fds
# between its two scrapes, resident memory within the kernel's per-CPU
# approximation (those that moved between its scrapes excepted); and for a group of processes started after both, which
# fault pages, read files and burn CPU, the counters between its two
# scrapes (CPU within a tick). For the BPF task iterator (when root) and for
# the procfs reader. The machine is shared: a group whose processes are
# busy (a compiler of another build) may change beyond both scrapes, so 90%
# of the groups must agree, and the work group exactly.
. "$(dirname "$0")/lib.sh"

PE=$(command -v prometheus-process-exporter) ||
	skip "prometheus-process-exporter is not installed (scripts/deps.sh test)"
[ -r /proc/self/stat ] || skip "no procfs at /proc"
readers="procfs"
[ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ] && readers="bpf procfs"

cat >"$TMP/pe.yml" <<'YML'
process_names:
  - name: "{{.Comm}}"
    cmdline:
    - '.+'
YML
# a real interpreter, not a wrapper script (pyenv), under its own name
cp "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$TMP/sbgrpwork"
# three steady groups of the test's own (one, two and three processes): a
# quiet machine may have few others that hold still between the scrapes
for g in 1 2 3; do
	cp /bin/sleep "$TMP/sbsteady$g"
	for i in $(seq "$g"); do
		"$TMP/sbsteady$g" 300 &
		track_pid $!
	done
done

for reader in $readers; do
	pe_port=$(free_port)
	"$PE" -config.path "$TMP/pe.yml" -web.listen-address "127.0.0.1:$pe_port" \
		-gather-smaps=false -threads=false >"$TMP/pe.$reader.log" 2>&1 &
	pe=$!
	track_pid $pe
	sb_port=$(free_port)
	printf '{"interval":"250ms","sensors":{"proc":{"collectors":["stat","processes"],"groups":"comm","process_reader":"%s"}},"sinks":[{"type":"prom","listen":"127.0.0.1:%s"}]}' \
		"$reader" "$sb_port" >"$TMP/c.json"
	"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/sb.$reader.err" &
	sb=$!
	track_pid $sb
	wait_for 15 port_open "$pe_port" || fail "process-exporter did not listen: $(cat "$TMP/pe.$reader.log")"
	wait_for 15 sh -c "curl -sf http://127.0.0.1:$sb_port/metrics | grep -q namedprocess_namegroup_num_procs" ||
		fail "$reader: no group metrics: $(cat "$TMP/sb.$reader.err")"
	grep -q "process reader: $reader" "$TMP/sb.$reader.err" ||
		fail "$reader: the reader is not said: $(cat "$TMP/sb.$reader.err")"
	# a process of 80 ms that process-exporter's first scrape catches and
	# our 250 ms walks may miss: it then keeps the group at 0 processes,
	# which is no difference (a command run beside the test did this)
	cp /bin/sleep "$TMP/sbflash"
	"$TMP/sbflash" 0.08 &
	track_pid $!
	sleep 0.02
	curl -sf "http://127.0.0.1:$pe_port/metrics" >/dev/null # its first cycle: the baseline
	# process-exporter dates a process from btime, whole seconds: one that
	# starts within a second of its first update can pass for one that was
	# already running, whose history it leaves out (the work group then
	# shows 0). Our first group metrics used to take a flush tick longer
	# to show, which hid this.
	sleep 1.1
	# the work group, after both have their first view
	work=""
	for i in 1 2 3; do
		"$TMP/sbgrpwork" -c '
import sys, time
b = bytearray(32 << 20)
for i in range(0, len(b), 4096): b[i] = 1
open(sys.executable, "rb").read()
sum(range(2 * 10**6))
time.sleep(120)' &
		track_pid $!
		work="$work $!"
	done
	sleep 3 # the work is done; two of our rounds since
	curl -sf "http://127.0.0.1:$pe_port/metrics" >"$TMP/pe1" || fail "scrape process-exporter"
	sleep 0.7 # our published round then began after that scrape
	curl -sf "http://127.0.0.1:$sb_port/metrics" >"$TMP/sb" || fail "scrape sensorbus"
	curl -sf "http://127.0.0.1:$pe_port/metrics" >"$TMP/pe2" || fail "scrape process-exporter"
	python3 - "$TMP/pe1" "$TMP/sb" "$TMP/pe2" "$reader" <<'PY' || fail "$reader: groups differ from process-exporter (above)"
import os, re, sys
def load(p):
    out = {}
    for line in open(p):
        if not line.startswith("namedprocess_namegroup_"):
            continue
        m = re.match(r'namedprocess_namegroup_(\w+)\{(.*)\} (\S+)', line)
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        g = labels.pop("groupname")
        key = (m.group(1),) + tuple(sorted(labels.items()))
        out.setdefault(g, {})[key] = float(m.group(3))
    return out
a, s, b, reader = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3]), sys.argv[4]
ncpu = os.cpu_count()
page = os.sysconf("SC_PAGE_SIZE")
slack = 3 * ncpu * max(32, 2 * ncpu) * page  # per process: its counters' per-CPU batches
# ours, the test's tools, and what other tests on a shared machine start and
# stop all the time (RabbitMQ's Erlang processes, timeout, compilers)
churn = {"process_api", "inet_gethost", "erl_child_setup", "beam.smp", "epmd", "timeout",
         "cc1", "ld", "collect2", "as", "git", "make", "sensorbus", "prometheus-proc", "python3", "curl", "sh", "bash", "sleep", "sbgrpwork"}
def between(x, lo, hi, d=0):
    return min(lo, hi) - d <= x <= max(lo, hi) + d
bad, n = [], 0
for g in sorted(set(a) & set(b)):
    if g in churn:
        continue
    # processes that came or went during the window (a build's ld, cc1)
    steady = ("oldest_start_time_seconds",), ("num_procs",)
    if any(a[g].get(k) != b[g].get(k) for k in steady):
        continue
    if g not in s:
        # process-exporter keeps a group whose processes all ended, at 0:
        # one it caught only in its first scrape (a command that lived a few
        # ms) can fall between two of our walks, which then never saw it
        if a[g].get(("num_procs",)) == 0:
            continue
        # a short-lived process of another build, between our walks
        bad.append(f"{g}: missing"); n += 1; continue
    n += 1
    A, S, B = a[g], s[g], b[g]
    procs = S[("num_procs",)]
    checks = [("num_procs",), ("num_threads",), ("open_filedesc",),
              ("memory_bytes", ("memtype", "virtual")), ("memory_bytes", ("memtype", "swapped"))]
    # a gauge that moved between its two scrapes (a busy process) cannot be
    # pinned to the moment of ours: only the steady ones are compared
    for k in checks:
        if A[k] != B[k]:
            continue
        if not between(S[k], A[k], B[k]):
            bad.append(f"{g} {k}: {S[k]} vs {A[k]}..{B[k]}")
    k = ("memory_bytes", ("memtype", "resident"))
    # resident memory that moved between its scrapes (a fuzzer, a server
    # freeing and touching pages) can have moved back and forth: not pinned
    if A[("memory_bytes", ("memtype", "virtual"))] == B[("memory_bytes", ("memtype", "virtual"))] \
            and abs(A[k] - B[k]) <= slack * procs \
            and not between(S[k], A[k], B[k], slack * procs):
        bad.append(f"{g} {k}: {S[k]} vs {A[k]}..{B[k]}")
bad_groups = {e.split()[0] for e in bad}
for e in bad:
    print(e, file=sys.stderr)
print(f"{reader}: {n - len(bad_groups)} of {n} process-exporter groups agree")
if n < 3 or len(bad_groups) > 0.1 * n:
    sys.exit(1)
# the work group: counted from its start by both
g = "sbgrpwork"
A, S, B = a[g], s[g], b[g]
assert S[("num_procs",)] == 3 == A[("num_procs",)], (S[("num_procs",)], A[("num_procs",)])
for k, d in ((("cpu_seconds_total", ("mode", "user")), 0.011),
             (("cpu_seconds_total", ("mode", "system")), 0.011),
             (("minor_page_faults_total",), 0), (("major_page_faults_total",), 0),
             (("read_bytes_total",), 0), (("write_bytes_total",), 0)):
    assert between(S[k], A[k], B[k], d), (g, k, S[k], A[k], B[k])
assert S[("minor_page_faults_total",)] > 3 * 8000, S  # 32 MiB touched each
PY
	kill $sb $pe $work
	wait $sb $pe $work 2>/dev/null
done
ok "groups by comm agree with process-exporter ($readers)"
