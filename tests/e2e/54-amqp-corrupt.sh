#!/bin/sh
# A spool with a corrupted record and a torn tail (a crash mid-write):
# `spool verify` finds both, the agent skips the corrupt record (counted,
# never sent), cuts the torn tail and delivers everything else. Once per
# format (rabbit.sh: JSON events, protobuf batches).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

dead=$(free_port)
conf() { # PORT SYNTHETIC-JSON [EXTRA-SINK-JSON]
	cat <<JSON
{"sensors": {"synthetic": $2},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$1/",
            "spool_dir": "$spool", "spool_segment_bytes": "$segment" ${3:-} $(format_keys "$fmt"),
            "breaker": {"failures": 1, "cooldown": "1s"}, "connect_timeout": "200ms"}]}
JSON
}

corrupt() { # FORMAT
	fmt=$1
	spool=$TMP/spool-$1
	# record 100 in the first segment, the torn one in another
	segment=64KiB
	[ "$fmt" = json ] || segment=32KiB
	# 300 events into the spool while the broker is unreachable (replayed below
	# with replay "backfill": the new run's events go out beside the backlog)
	conf "$dead" '{"rate": 1000, "samples": 1, "count": 300}' >"$TMP/$fmt-fill.json"
	"$SB_BIN" -c "$TMP/$fmt-fill.json" --duration 1500ms 2>"$TMP/$fmt-fill.log" || fail "$fmt: fill: exit $?"
	run1=$(sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$TMP/$fmt-fill.log")
	"$SB_BIN" spool verify "$spool" || fail "$fmt: the spool should be clean before we break it"

	# flip a payload byte of record 100 and cut the last record short
	python3 - "$spool/shard-0" >"$TMP/$fmt-broken.txt" <<'PY' || fail "$fmt: could not break the spool"
import glob, os, struct, sys
segs = sorted(glob.glob(sys.argv[1] + "/seg-*.sbs"))
assert len(segs) >= 2, segs
def records(path):
    data = open(path, "rb").read()
    off = 16
    while off + 12 <= len(data):
        magic, n, crc = struct.unpack_from("<III", data, off)
        # the payload is a delivery record (src/delivery/record.h): seq at 8
        yield off, n, struct.unpack_from("<Q", data, off + 12 + 8)[0]
        off += 12 + n
recs = list(records(segs[0]))
off, n, seq = recs[100]
with open(segs[0], "r+b") as f:
    f.seek(off + 12 + 40)
    b = f.read(1)
    f.seek(off + 12 + 40)
    f.write(bytes([b[0] ^ 0x20]))
last_off, last_n, last_seq = list(records(segs[-1]))[-1]
os.truncate(segs[-1], last_off + 12 + last_n - 5)
print(seq, last_seq)
PY
	read corrupt_seq torn_seq <"$TMP/$fmt-broken.txt"
	echo "$fmt: corrupted seq $corrupt_seq, tore seq $torn_seq"
	"$SB_BIN" spool verify "$spool" >"$TMP/$fmt-verify.txt" 2>&1 && fail "$fmt: verify missed the damage"
	cat "$TMP/$fmt-verify.txt"
	grep -q "1 corrupt" "$TMP/$fmt-verify.txt" || fail "$fmt: verify: corrupt record not reported"
	grep -q "torn tail" "$TMP/$fmt-verify.txt" || fail "$fmt: verify: torn tail not reported"

	[ -n "$RABBIT_PID" ] || rabbit_start
	[ -f "$TMP/got.jsonl.ready" ] || start_consumer "$TMP/got.jsonl"
	conf "$RABBIT_PORT" '{"rate": 20, "samples": 1}' ', "replay": "backfill", "drain_rate": 100' \
		>"$TMP/$fmt-replay.json"
	"$SB_BIN" -c "$TMP/$fmt-replay.json" 2>"$TMP/$fmt-replay.log" &
	agent=$!
	track_pid $agent
	wait_for 30 grep -q "spool replay done" "$TMP/$fmt-replay.log" || fail "$fmt: no replay"
	run2=$(sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$TMP/$fmt-replay.log")
	kill -TERM $agent
	wait $agent || fail "$fmt: agent exited $?"
	grep "corrupt\|torn\|replay" "$TMP/$fmt-replay.log"
	grep -q "1 corrupt record(s) .* skipped, never replayed" "$TMP/$fmt-replay.log" ||
		fail "$fmt: corrupt record not logged"
	grep -q "torn tail of .* cut" "$TMP/$fmt-replay.log" || fail "$fmt: torn tail not logged"
	check_accounting "$TMP/$fmt-replay.log" || fail "$fmt: accounting"
	[ "$(acct_field dropped "$TMP/$fmt-replay.log")" = 1 ] || fail "$fmt: the corrupt record is not counted as dropped"
	"$SB_BIN" spool verify "$spool" || fail "$fmt: spool not clean after recovery"
	sleep 0.5
	$CONSUMER report "$TMP/got.jsonl" >"$TMP/$fmt-report.json"
	python3 - "$TMP/$fmt-report.json" "$run1" "$corrupt_seq" "$torn_seq" "$run2" "$fmt" <<'PY' || fail "$fmt: see above"
import json, sys
rep = json.load(open(sys.argv[1]))
r2 = rep[sys.argv[5]]
assert r2["ngaps"] == 0, ("events of the run replaying the spool", r2)
r = rep[sys.argv[2]]
bad, torn = int(sys.argv[3]), int(sys.argv[4])
print(sys.argv[6] + ": sent 300, delivered %d unique, %d duplicates, missing %s (corrupt %d, torn %d)"
      % (r["unique"], r["duplicates"], r["gaps"], bad, torn))
assert r["unique"] == 298 and r["gaps"] == [bad] and torn == 300 and r["max"] == 299, r
PY
}

for f in $AMQP_FORMATS; do
	corrupt "$f"
done
ok "corrupt record skipped and counted ($AMQP_FORMATS), torn tail cut, the other 298 delivered"
