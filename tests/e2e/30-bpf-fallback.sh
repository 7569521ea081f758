# Without privilege the agent runs procfs-only: one clear line saying why,
# exit status 0, proc metrics still there, and the fallback state published.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is needed to drop privileges"
	unpriv() { setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$@"; }
	# a copy nobody can reach, wherever the clone lives
	chmod 755 "$TMP"
	cp "$SB_BIN" "$TMP/sensorbus"
	chmod 755 "$TMP/sensorbus"
	SB_BIN="$TMP/sensorbus"
	unpriv "$SB_BIN" --version >/dev/null 2>&1 ||
		skip "user nobody cannot run $SB_BIN (is /tmp mounted noexec?)"
else
	unpriv() { "$@"; }
fi

run() { # expected-level, extra args...
	_level=$1
	shift
	unpriv "$SB_BIN" --duration 1500ms --interval 500ms --sensors bpf,proc "$@" -o - \
		>"$TMP/out.jsonl" 2>"$TMP/err"
	rc=$?
	[ $rc -eq 0 ] || fail "unprivileged run exited $rc: $(cat "$TMP/err")"
	[ "$(grep -c 'procfs-only' "$TMP/err")" -eq 1 ] ||
		fail "want exactly one procfs-only line, got: $(cat "$TMP/err")"
	grep 'procfs-only' "$TMP/err" | grep -q " $_level " ||
		fail "the procfs-only line is not at level $_level: $(grep procfs-only "$TMP/err")"
	[ -n "$(pyq 'ev["source"] == "proc" and any(s["name"] == "node_load1" for s in ev.get("samples", []))' "$TMP/out.jsonl")" ] ||
		fail "no proc metrics in procfs-only mode"
	[ -z "$(pyq 'ev["source"] == "bpf" and ev["kind"] != "metrics"' "$TMP/out.jsonl")" ] ||
		fail "BPF events without BPF"
}

run warn
grep 'procfs-only' "$TMP/err"
if grep -q 'built without BPF' "$TMP/err"; then
	ok "BPF=0 build: procfs-only"
	exit 0
fi
grep 'procfs-only' "$TMP/err" | grep -q 'CAP_BPF' || fail "the line does not say which privilege is missing"
# the state, every interval (so it never goes stale), for alerts:
# fallback{reason="no_privilege"} 1, in every bpf event
n=$(pyq 'any(s["name"] == "sensorbus_bpf_fallback" and s["labels"]["reason"] == "no_privilege" and s["value"] == 1 for s in ev.get("samples", []))' "$TMP/out.jsonl" | wc -l)
nb=$(pyq 'ev["source"] == "bpf"' "$TMP/out.jsonl" | wc -l)
[ "$n" -ge 2 ] && [ "$n" -eq "$nb" ] ||
	fail "want sensorbus_bpf_fallback{reason=no_privilege} 1 in each of the bpf events, got $n of $nb"
[ -n "$(pyq 'any(s["name"] == "sensorbus_bpf_program_attached" and s["value"] == 0 for s in ev.get("samples", []))' "$TMP/out.jsonl")" ] ||
	fail "no sensorbus_bpf_program_attached 0"
ok "unprivileged: one warn line, exit 0, proc metrics, fallback state"

# enabled: true makes the same failure an error, and the agent still runs
printf '{"sensors":{"proc":{},"bpf":{"enabled":true}}}' >"$TMP/c.json"
chmod 644 "$TMP/c.json"
chmod 755 "$TMP"
run error -c "$TMP/c.json"
ok "enabled=true: one error line, exit 0, proc metrics"

# --no-bpf: not even tried
"$SB_BIN" --once --sensors bpf,proc --no-bpf -o "$TMP/nobpf.jsonl" 2>"$TMP/err" || fail "--no-bpf exit $?"
! grep -q 'sensor:bpf' "$TMP/err" || fail "--no-bpf still ran the bpf sensor: $(cat "$TMP/err")"
ok "--no-bpf"
