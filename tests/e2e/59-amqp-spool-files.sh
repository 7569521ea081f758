# The amqp sink's spool opens its files without following a link planted
# under their names, and only in a directory no other user can write: a
# link as the lock stops the sink with a line saying so, a link as the
# cursor log is set aside (every record is then pending: duplicates, never
# gaps), a link as the cursor log's temp file is replaced, and the file
# each pointed to is unchanged. No broker needed: the spool opens first.
. "$(dirname "$0")/lib.sh"

dead=$(free_port) # nothing listens: events go to the spool
conf() { # conf NAME SPOOL_DIR
	cat >"$TMP/$1.json" <<JSON
{"sensors":{"synthetic":{"rate":50,"samples":1}},
 "sinks":[{"type":"amqp","url":"amqp://guest:guest@127.0.0.1:$dead/","spool_dir":"$2"}]}
JSON
}
run() { # run NAME: the agent for 500 ms, bounded; its exit code in rc
	timeout -k 2 20 "$SB_BIN" --duration 500ms -c "$TMP/$1.json" 2>"$TMP/$1.log"
	rc=$?
	if grep -q "librabbitmq" "$TMP/$1.log" && ! grep -q "spool" "$TMP/$1.log"; then
		skip "librabbitmq cannot be loaded: $(grep -m1 librabbitmq "$TMP/$1.log")"
	fi
}
printf 'precious\n' >"$TMP/victim"
unchanged() { [ "$(cat "$TMP/victim")" = precious ] || fail "$1: the link's target changed: $(head -c 100 "$TMP/victim" | od -c | head -3)"; }
# plant NAME FILE: a fresh spool whose shard-0/FILE is a link to the victim
plant() {
	rm -rf "$TMP/$1"
	mkdir -m 700 -p "$TMP/$1/shard-0"
	ln -s "$TMP/victim" "$TMP/$1/shard-0/$2"
	conf "$1" "$TMP/$1"
}

conf clean "$TMP/clean"
run clean
[ $rc -eq 0 ] || fail "clean: exit $rc: $(cat "$TMP/clean.log")"
[ "$(stat -c %a "$TMP/clean/shard-0")" = 750 ] || fail "shard-0 made with mode $(stat -c %a "$TMP/clean/shard-0")"
ok "a spool made from nothing: 0750"

plant lock lock
run lock
[ $rc -ne 0 ] || fail "lock: the agent ran with a link as its lock: $(cat "$TMP/lock.log")"
grep -q "cannot lock spool $TMP/lock/shard-0: $TMP/lock/shard-0/lock: a symbolic link, not followed" "$TMP/lock.log" ||
	fail "lock: no clear line: $(cat "$TMP/lock.log")"
unchanged lock
ok "a link as the lock: refused with one line, its target unchanged"

plant cursor cursor
run cursor
[ $rc -eq 0 ] || fail "cursor: exit $rc: $(cat "$TMP/cursor.log")"
grep -q "$TMP/cursor/shard-0/cursor is a symlink, not a cursor log; set aside as cursor.bad" "$TMP/cursor.log" ||
	fail "cursor: no clear line: $(cat "$TMP/cursor.log")"
[ -L "$TMP/cursor/shard-0/cursor.bad" ] || fail "cursor: the link was not set aside"
unchanged cursor
ok "a link as the cursor log: set aside with one line, its target unchanged"

plant tmp cursor.tmp
run tmp
[ $rc -eq 0 ] || fail "cursor.tmp: exit $rc: $(cat "$TMP/tmp.log")"
unchanged cursor.tmp
[ -f "$TMP/tmp/shard-0/cursor" ] && [ ! -L "$TMP/tmp/shard-0/cursor" ] ||
	fail "cursor.tmp: the cursor log is not a regular file"
ok "a link as the cursor log's temp file: replaced, its target not truncated"

# the shard's own directory sticky and world-writable (a sticky spool_dir
# above it is fine: no one else can rename or replace our shard-0 there)
mkdir -p "$TMP/sticky/shard-0"
chmod 1777 "$TMP/sticky/shard-0"
conf sticky "$TMP/sticky"
run sticky
[ $rc -ne 0 ] || fail "sticky: the agent spooled into a sticky world-writable directory"
grep -q "cannot open spool directory $TMP/sticky/shard-0: writable by group or others (mode 1777)" \
	"$TMP/sticky.log" || fail "sticky: no clear line: $(cat "$TMP/sticky.log")"
# group-writable, not sticky, on the way: shard-0 could be swapped
mkdir -m 775 "$TMP/group"
conf group "$TMP/group"
run group
[ $rc -ne 0 ] || fail "group: the agent spooled under a group-writable directory"
grep -q "$TMP/group: writable by group or others (mode 0775)" "$TMP/group.log" ||
	fail "group: no clear line: $(cat "$TMP/group.log")"
ok "a sticky world-writable or group-writable spool directory: refused with one line"
