# Groups by cgroup: a sleeping process put in a cgroup v2 child of the
# test's own is counted in a group named by that cgroup's path (as systemd
# names a service's: /system.slice/x.service), for each reader (the task
# iterator when root, procfs). Uses the host's cgroup2 mount, or mounts one
# under the test's TMP; skips when neither can be written.
. "$(dirname "$0")/lib.sh"

[ -r /proc/self/stat ] || skip "no procfs at /proc"
[ "$(id -u)" -eq 0 ] || skip "needs root to make a cgroup"
pid="" name="" mounted=""
# the process out first (a cgroup with one cannot go), then the cgroup, the
# mount, and what lib.sh cleans
cg_cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$name" ] && rmdir "$root/$name" 2>/dev/null
	[ -n "$mounted" ] && umount "$TMP/cg2"
	_cleanup
}
trap cg_cleanup EXIT
trap 'exit 1' INT TERM
root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
if [ -z "$root" ]; then
	mkdir -p "$TMP/cg2"
	mount -t cgroup2 none "$TMP/cg2" 2>/dev/null ||
		skip "no cgroup v2 mount, and none can be made here"
	root="$TMP/cg2" mounted=1
fi
mkdir "$root/sbtest.$$" 2>/dev/null ||
	skip "cannot make a cgroup under $root (read-only, or delegated elsewhere)"
name="sbtest.$$"

cp /bin/sleep "$TMP/sbcgsleep"
"$TMP/sbcgsleep" 300 &
pid=$!
track_pid $pid
echo "$pid" >"$root/$name/cgroup.procs" || fail "cannot move $pid into $root/$name"
grep -q "^0::/$name\$" /proc/$pid/cgroup || fail "$pid is not in /$name: $(cat /proc/$pid/cgroup)"

readers="procfs"
[ -r /sys/kernel/btf/vmlinux ] && readers="bpf procfs"
for reader in $readers; do
	printf '{"sensors":{"proc":{"collectors":["processes"],"groups":"cgroup","process_reader":"%s"}}}' \
		"$reader" >"$TMP/c.json"
	timeout 60 "$SB_BIN" -c "$TMP/c.json" -i 200ms --duration 1s -o "$TMP/$reader.jsonl" \
		2>"$TMP/$reader.err" || fail "$reader: exit $?: $(cat "$TMP/$reader.err")"
	grep -q "process reader: $reader" "$TMP/$reader.err" ||
		fail "$reader: the reader is not said: $(cat "$TMP/$reader.err")"
	python3 - "$TMP/$reader.jsonl" "/$name" <<'PY' || fail "$reader: (above)"
import json, sys
path, group = sys.argv[1], sys.argv[2]
seen = [s["value"] for line in open(path) for s in json.loads(line).get("samples", [])
        if s["name"] == "namedprocess_namegroup_num_procs"
        and s["labels"].get("groupname") == group]
if not seen or seen[-1] != 1:
    names = sorted({s["labels"]["groupname"] for line in open(path)
                    for s in json.loads(line).get("samples", [])
                    if s["name"] == "namedprocess_namegroup_num_procs"})
    sys.exit(f"group {group}: {seen}; groups: {names[:20]}")
PY
done
ok "a process in cgroup /$name is counted in group /$name ($readers)"
