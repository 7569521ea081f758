#!/bin/sh
# A spool on a tiny filesystem that fills while the broker is unreachable:
# a clear error, drops counted by the policy (drop_oldest: old segments go;
# block: the sink stops accepting and the bus queue drops), the agent keeps
# running and exits cleanly. Once per format (rabbit.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
mkdir -p "$TMP/fs"
mount -t tmpfs -o size=256k sbtest "$TMP/fs" 2>/dev/null || skip "cannot mount a tmpfs here"
trap 'umount "$TMP/fs" 2>/dev/null; _rabbit_cleanup' EXIT INT TERM
dead=$(free_port) # nothing listens there: the broker is unreachable

conf() { # POLICY FORMAT
	cat <<JSON
{"sensors": {"synthetic": {"rate": 2000, "samples": 10}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$dead/",
            "spool_dir": "$TMP/fs/spool-$1", "spool_max_bytes": "100MiB",
            "spool_segment_bytes": "32KiB", "spool_full": "$1",
            "queue_events": 2000, "full": "drop_oldest", "shutdown_grace": "1s",
            "breaker": {"failures": 1, "cooldown": "1s"}, "connect_timeout": "200ms"
            $(format_keys "$2")}]}
JSON
}

spool_full() { # FORMAT
	conf drop_oldest "$1" >"$TMP/drop.json"
	"$SB_BIN" -c "$TMP/drop.json" --duration 2s 2>"$TMP/drop.log" ||
		fail "$1: drop_oldest: agent exited $?"
	grep "spool full\|No space" "$TMP/drop.log" | head -3
	grep -q "deleted segment .* undelivered records (drop_oldest)" "$TMP/drop.log" ||
		fail "$1: drop_oldest: no clear error about deleted segments"
	check_accounting "$TMP/drop.log" || fail "$1: drop_oldest: accounting"
	dropped=$(acct_field dropped "$TMP/drop.log")
	[ "$dropped" -gt 0 ] || fail "$1: drop_oldest: no drops counted"
	"$SB_BIN" spool verify "$TMP/fs/spool-drop_oldest" || fail "$1: drop_oldest: spool not clean"
	rm -rf "$TMP/fs/spool-drop_oldest"

	conf block "$1" >"$TMP/block.json"
	"$SB_BIN" -c "$TMP/block.json" --duration 2s 2>"$TMP/block.log" ||
		fail "$1: block: agent exited $?"
	grep -m1 "not accepting events" "$TMP/block.log" ||
		fail "$1: block: no clear error about the full spool"
	check_accounting "$TMP/block.log" || fail "$1: block: accounting"
	[ "$(acct_field dropped "$TMP/block.log")" = 0 ] || fail "$1: block: the sink itself dropped"
	bus=$(sed -n 's/.*sink amqp: .* \([0-9]*\) dropped.*/\1/p' "$TMP/block.log")
	[ "${bus:-0}" -gt 0 ] || fail "$1: block: the bus queue should have dropped (counted)"
	echo "$1: block: the bus dropped $bus events, counted"
	rm -rf "$TMP/fs/spool-block"
}

for f in $AMQP_FORMATS; do
	spool_full "$f"
done
ok "a full spool filesystem ($AMQP_FORMATS): clear errors, counted drops, the agent kept running"
