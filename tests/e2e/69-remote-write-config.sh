#!/bin/sh
# remote_write's config: the spool format defaults to protobuf (the codec
# the sink decodes); replay "backfill", another format, batching and a bad
# external label are config errors (exit 2) naming the key and the reason.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/ok.json" <<JSON
{"sinks": [{"type": "remote_write", "spool_dir": "$TMP/spool",
            "external_labels": {"cluster": "eu1"}}]}
JSON
"$SB_BIN" -c "$TMP/ok.json" --check-config >"$TMP/eff.json" 2>"$TMP/err" || fail "valid config refused: $(cat "$TMP/err")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["sinks"][0]; assert s["format"]=="protobuf", s["format"]; assert s["job"]=="sensorbus"' "$TMP/eff.json" ||
	fail "effective config: format or job not as documented"
ok "format defaults to protobuf, job to sensorbus"

refused() { # SETTINGS PATTERN
	printf '{"sinks": [{"type": "remote_write", "spool_dir": "%s", %s}]}\n' "$TMP/spool" "$1" >"$TMP/bad.json"
	"$SB_BIN" -c "$TMP/bad.json" --check-config >/dev/null 2>"$TMP/err"
	rc=$?
	[ $rc -eq 2 ] || fail "$1: exit $rc, want 2"
	grep -q "$2" "$TMP/err" || fail "$1: no '$2' in: $(cat "$TMP/err")"
}
refused '"replay": "backfill"' 'sinks\[0\].*replay: "backfill" cannot work here: a receiver rejects samples older'
refused '"format": "json"' 'format: must be "protobuf"'
refused '"batch_events": 10' 'batch_events: must be 1'
refused '"external_labels": {"__x": "1"}' 'external_labels.__x: not a label name'
refused '"url": "amqp://x/"' 'url: must start with http:// or https://'
refused '"basic_auth": {"user": "u"}' 'basic_auth: user and password_file go together'
ok "backfill, json, batching and bad labels are refused with the reason"
