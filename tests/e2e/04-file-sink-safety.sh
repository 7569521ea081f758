# The file sink writes only where no other user can plant anything, and
# says why not otherwise: a symlink at its path is not written through, a
# sticky world-writable or another user's directory is refused, the
# directories it makes are 0750, a read-only file system is named as such.
# A directory deleted under it is made again; a shutdown with the disk
# still full leaves whole lines only, the rest counted lost.
. "$(dirname "$0")/lib.sh"

# sink NAME PATH [EXTRA_JSON]: a config with a synthetic sensor and one
# file sink at PATH
sink() {
	cat >"$TMP/$1.json" <<JSON
{"sensors":{"synthetic":{"rate":${RATE:-200},"samples":1}},
 "sinks":[{"type":"file","path":"$2","flush_interval":"50ms"${3:-}}]}
JSON
}
# refused NAME TEXT: the agent will not start, with one line holding TEXT
refused() {
	timeout -k 2 20 "$SB_BIN" --duration 500ms -c "$TMP/$1.json" 2>"$TMP/$1.log" &&
		fail "$1: the agent started: $(cat "$TMP/$1.log")"
	grep -q -- "$2" "$TMP/$1.log" || fail "$1: no line with '$2': $(cat "$TMP/$1.log")"
}

# ---- a planted symlink at the sink's path ----
mkdir -m 700 "$TMP/out"
printf 'precious\n' >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/out/events.jsonl"
sink link "$TMP/out/events.jsonl"
refused link "$TMP/out/events.jsonl: a symbolic link, not followed"
[ "$(cat "$TMP/victim")" = precious ] || fail "the link's target was written: $(head -c 200 "$TMP/victim")"
# a dangling one does not make its target either
rm "$TMP/out/events.jsonl"
ln -s "$TMP/made-by-link" "$TMP/out/events.jsonl"
refused link "a symbolic link, not followed"
[ -e "$TMP/made-by-link" ] && fail "a dangling link's target was created"
rm "$TMP/out/events.jsonl"
ok "a symlink at the path: refused, its target unchanged"

# ---- directories other users can write or own ----
mkdir -m 1777 "$TMP/sticky"
sink sticky "$TMP/sticky/events.jsonl"
refused sticky "$TMP/sticky: writable by group or others (mode 1777)"
[ -e "$TMP/sticky/events.jsonl" ] && fail "a file was made in the sticky directory"
mkdir -m 775 "$TMP/group"
sink group "$TMP/group/events.jsonl"
refused group "$TMP/group: writable by group or others (mode 0775)"
if [ "$(id -u)" = 0 ]; then
	mkdir -m 755 "$TMP/foreign"
	chown 54321:54321 "$TMP/foreign"
	sink foreign "$TMP/foreign/events.jsonl"
	refused foreign "$TMP/foreign: owned by uid 54321, not by root or this user (uid 0)"
fi
ok "sticky, group-writable and foreign directories refused, each named with its reason"

# ---- directories it makes: 0750, and checked the same way ----
sink made "$TMP/new/a/b/events.jsonl"
timeout 20 "$SB_BIN" --duration 300ms -c "$TMP/made.json" 2>"$TMP/made.log" ||
	fail "made: exit $?: $(cat "$TMP/made.log")"
for d in new new/a new/a/b; do
	[ "$(stat -c %a "$TMP/$d")" = 750 ] || fail "$d made with mode $(stat -c %a "$TMP/$d")"
done
[ -s "$TMP/new/a/b/events.jsonl" ] || fail "nothing written under the made directories"
ok "missing directories made 0750"

# ---- a read-only file system is called that ----
mounted=""
umount_all() { for m in $mounted; do umount "$m" 2>/dev/null; done; }
trap 'umount_all; _cleanup' EXIT INT TERM
mkdir "$TMP/ro"
if mount -t tmpfs -o ro,size=64k sbro "$TMP/ro" 2>/dev/null; then
	mounted="$TMP/ro"
	sink ro "$TMP/ro/sub/events.jsonl"
	refused ro "cannot create directory $TMP/ro/sub: Read-only file system"
	umount "$TMP/ro" && mounted=""
	ok "read-only file system: EROFS, naming the directory"
else
	echo "note: cannot mount a tmpfs here; the read-only case is not run"
fi

# ---- the directory deleted while it runs ----
sink del "$TMP/del/out/events.jsonl"
"$SB_BIN" -c "$TMP/del.json" 2>"$TMP/del.log" &
agent=$!
track_pid $agent
wait_for 10 test -s "$TMP/del/out/events.jsonl" || fail "del: nothing written"
rm -rf "$TMP/del/out"
wait_for 10 test -s "$TMP/del/out/events.jsonl" ||
	fail "the deleted directory is not made again: $(cat "$TMP/del.log")"
kill -TERM $agent
wait $agent || fail "del: exit $? after SIGTERM"
n=$(grep -c "$TMP/del/out/events.jsonl was deleted (or its directory); creating it again" "$TMP/del.log")
[ "$n" -eq 1 ] || fail "del: $n lines about the deletion: $(cat "$TMP/del.log")"
[ "$(stat -c %a "$TMP/del/out")" = 750 ] || fail "remade directory mode $(stat -c %a "$TMP/del/out")"
python3 -c '
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1])]
assert seqs == sorted(seqs) and len(seqs) > 0, seqs[:5]
' "$TMP/del/out/events.jsonl" || fail "the new file is not whole lines"
ok "deleted directory: noticed, made again, one line"

# ---- a full disk at shutdown: no torn last line ----
mkdir "$TMP/full"
if mount -t tmpfs -o size=64k,mode=0700 sbfull "$TMP/full" 2>/dev/null; then
	mounted="$TMP/full"
	RATE=2000 sink full "$TMP/full/events.jsonl" ',"shutdown_grace":"300ms"'
	"$SB_BIN" -c "$TMP/full.json" 2>"$TMP/full.log" &
	agent=$!
	track_pid $agent
	wait_for 20 grep -q "No space left on device" "$TMP/full.log" ||
		fail "the disk never filled: $(cat "$TMP/full.log")"
	kill -TERM $agent
	wait $agent
	python3 - "$TMP/full/events.jsonl" "$TMP/full.log" <<'PY' || fail "torn or miscounted"
import json, re, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n"), "the file ends in a torn line: ...%r" % data[-60:]
seqs = [json.loads(l)["seq"] for l in data.decode().splitlines()]
assert seqs == list(range(1, len(seqs) + 1)), "gaps"
log = open(sys.argv[2]).read()
m = re.search(r"sink file: (\d+) received, (\d+) written, (\d+) dropped", log)
assert m, log
rcv, wr, drop = map(int, m.groups())
assert wr == len(seqs), "written %d, lines on disk %d" % (wr, len(seqs))
assert rcv == wr + drop and drop > 0, m.group(0)
assert "cut the incomplete last line" in log, log
print("lines", len(seqs), m.group(0))
PY
	umount "$TMP/full" && mounted=""
	ok "full disk at shutdown: whole lines only, the rest counted"
else
	skip "cannot mount a tmpfs (need root): the full-disk case is not run"
fi
