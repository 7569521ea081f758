# A hung mount: a FUSE filesystem whose statfs never answers (until the
# test releases it) is mounted under TMP, and the agent runs the proc
# sensor on the live /proc and /sys. The hung mount must get
# node_filesystem_device_error 1, every other collector must keep its
# rounds, and SIGTERM must end the agent cleanly while the statfs call is
# still stuck. The trap releases and unmounts it before TMP is removed.
. "$(dirname "$0")/lib.sh"

[ -e /dev/fuse ] || skip "no /dev/fuse: FUSE is not available here"
[ "$(id -u)" -eq 0 ] || skip "mounting a FUSE filesystem needs root here"
# Debian's python3-fusepy is for Debian's python3, which may not be first in PATH
PYF=""
for py in python3 /usr/bin/python3; do
	"$py" -c 'import fusepy' 2>/dev/null && PYF=$py && break
done
[ -n "$PYF" ] || skip "python3-fusepy is not installed (scripts/deps.sh test)"
[ -r /proc/1/mountinfo ] || skip "no live /proc/1/mountinfo"

MNT=$TMP/hung
REL=$TMP/release
mkdir -p "$MNT"
# Unblock first, then unmount lazily: rm -rf of TMP must never meet the
# hung mount, and the FUSE process must not outlive the test.
_fuse_cleanup() {
	: >"$REL"
	if grep -q " $MNT " /proc/self/mountinfo 2>/dev/null; then
		fusermount3 -u -z "$MNT" 2>/dev/null || fusermount -u -z "$MNT" 2>/dev/null ||
			umount -l "$MNT" 2>/dev/null
	fi
}
trap '_fuse_cleanup; _cleanup' EXIT INT TERM

cat >"$TMP/hangfs.py" <<'PY'
import errno, os, stat, sys, time
from fusepy import FUSE, FuseOSError, Operations  # Debian's python3-fusepy

class Hang(Operations):
    """An empty directory whose statfs waits until the release file exists."""
    def __init__(self, release):
        self.release = release
    def getattr(self, path, fh=None):
        if path != '/':
            raise FuseOSError(errno.ENOENT)
        now = time.time()
        return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2, st_ctime=now, st_mtime=now,
                    st_atime=now)
    def readdir(self, path, fh):
        return ['.', '..']
    def statfs(self, path):
        open(self.release + '.entered', 'w').close()
        while not os.path.exists(self.release):
            time.sleep(0.1)
        return dict(f_bsize=4096, f_frsize=4096, f_blocks=100, f_bfree=50, f_bavail=50,
                    f_files=10, f_ffree=5, f_namemax=255)

FUSE(Hang(sys.argv[2]), sys.argv[1], foreground=True, fsname='sbhang')
PY
"$PYF" "$TMP/hangfs.py" "$MNT" "$REL" >"$TMP/fuse.log" 2>&1 &
track_pid $!
wait_for 10 grep -q " $MNT " /proc/self/mountinfo ||
	fail "the FUSE filesystem did not mount on $MNT: $(tail -3 "$TMP/fuse.log")"
fstype=$(awk -v m="$MNT" '$5 == m { for (i = 7; $i != "-"; i++); print $(i + 1) }' /proc/self/mountinfo)
# node_exporter's default type exclude does not name fuse types (only
# fusectl), and its mount point exclude does not cover /tmp: no override.
case $fstype in fuse | fuse.*) ;; *) fail "unexpected type $fstype of $MNT" ;; esac

OUT=$TMP/sb.jsonl
printf '{"sensors":{"proc":{"collectors":["filesystem","loadavg","stat","meminfo","cpu"],
  "filesystem_statfs_timeout":"2s"}},"sinks":[{"type":"file","path":"%s"}]}' "$OUT" >"$TMP/c.json"
# Under the sanitizer build, LeakSanitizer's exit check stops every thread
# with ptrace, and the one in the FUSE request cannot be stopped until the
# release: the process would sit in that check rather than end. Leaks are
# checked by every other test; not by this agent's exit.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	"$SB_BIN" -c "$TMP/c.json" --no-bpf -i 1s 2>"$TMP/sb.err" &
sb=$!
track_pid $sb
# rounds keep coming while the statfs hangs: about 8 in 8 s
wait_for 20 python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    ev = json.loads(l)
    n += any(s["name"] == "node_filesystem_device_error" and s["labels"]["mountpoint"] == sys.argv[2]
             and s["value"] == 1 for s in ev["samples"])
sys.exit(0 if n else 1)' "$OUT" "$MNT" ||
	fail "no node_filesystem_device_error 1 for $MNT: $(tail -3 "$TMP/sb.err")"
[ -e "$REL.entered" ] || fail "the agent never called statfs on $MNT"
t0=$(date +%s)
n0=$(wc -l <"$OUT")
sleep 8
n1=$(wc -l <"$OUT")
rounds=$((n1 - n0))
[ "$rounds" -ge 4 ] && [ "$rounds" -le 12 ] ||
	fail "$rounds rounds in 8 s with -i 1s while a statfs hangs (want 4..12)"
python3 - "$OUT" "$MNT" "$n0" <<'PY' || fail "collectors stalled beside the hung mount (see above)"
import json, sys
out, mnt, n0 = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(out).read().splitlines()[n0:]
bad = 0
for i, l in enumerate(lines):
    ev = json.loads(l)
    names = {s['name'] for s in ev['samples']}
    ok = {s['labels']['collector']: s['value'] for s in ev['samples']
          if s['name'] == 'node_scrape_collector_success'}
    for need in ('node_load1', 'node_memory_MemTotal_bytes', 'node_cpu_seconds_total',
                 'node_context_switches_total'):
        if need not in names:
            print('round %d: no %s' % (i, need)); bad += 1
    for c in ('loadavg', 'stat', 'meminfo', 'cpu'):
        if ok.get(c) != 1:
            print('round %d: collector %s success %s' % (i, c, ok.get(c))); bad += 1
    err = [s['value'] for s in ev['samples'] if s['name'] == 'node_filesystem_device_error'
           and s['labels']['mountpoint'] == mnt]
    if err != [1]:
        print('round %d: device_error of the hung mount %s' % (i, err)); bad += 1
    # the hung mount has no size series; the other mounts do
    if any(s['name'] == 'node_filesystem_size_bytes' and s['labels']['mountpoint'] == mnt
           for s in ev['samples']):
        print('round %d: a size for the hung mount' % i); bad += 1
    if 'node_filesystem_size_bytes' not in names:
        print('round %d: no other mount reported' % i); bad += 1
sys.exit(1 if bad else 0)
PY
ok "$rounds rounds in 8 s, every collector on time, the hung mount at device_error 1"

# SIGTERM while the statfs call is still stuck (REL not yet there). The
# agent shuts down at once (sinks flushed, summary logged, main thread
# gone), but the kernel keeps the process until the stuck statfs returns:
# a FUSE request the daemon has read is waited for uninterruptibly. So
# "exits" here is: the shutdown completes and every thread but the stuck
# one is gone; after the release, the process is reaped with status 0.
[ -e "$REL" ] && fail "released too early"
kill -TERM $sb
gone() { # shutdown done: only the stuck worker (or nothing) left
	grep -q 'stopped after' "$TMP/sb.err" || return 1
	[ -d /proc/$sb ] || return 0
	[ "$(awk '{ print $3 }' /proc/$sb/stat 2>/dev/null)" = Z ] || return 1
	[ "$(ls /proc/$sb/task 2>/dev/null | wc -l)" -le 2 ]
}
wait_for 10 gone || fail "the agent did not shut down within 10 s of SIGTERM with a statfs stuck: $(tail -3 "$TMP/sb.err")"
grep -q 'sink file: .* 0 dropped' "$TMP/sb.err" || fail "no clean sink summary: $(tail -3 "$TMP/sb.err")"
python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$OUT" ||
	fail "the file sink's output is not whole JSON lines after SIGTERM"
: >"$REL"
# the stuck worker returns, then the process can be reaped
wait_for 10 sh -c "[ \$(ls /proc/$sb/task 2>/dev/null | wc -l) -le 1 ]" ||
	fail "the stuck statfs did not return after the release"
wait $sb
rc=$?
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM: $(tail -3 "$TMP/sb.err")"
ok "clean shutdown on SIGTERM with the statfs stuck ($(($(date +%s) - t0)) s after the window began), exit 0 once released"
