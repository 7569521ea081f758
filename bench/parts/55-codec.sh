# Codecs: protobuf's encoding speed (events/s on one core, thread CPU time,
# best of three) and size against JSON's for the same events, framed for a
# file (tests/helpers/codec_bench.c): the synthetic sensor's default event
# and the agent's own proc round of the captured fixture tree
# (fixtures/procfs/vm-6.18, written by this binary and read back). The
# node_exporter-like and histogram shapes go to the notes.
# bench-timeout: 120
. "$(dirname "$0")/../lib.sh"
make -s -C "$SB_ROOT" build/codec_bench >/dev/null || exit 1
T=$SB_ROOT/fixtures/procfs/vm-6.18
printf '{"sinks":[{"type":"file","path":"%s","format":"protobuf"}]}' "$TMP/proc.pb" >"$TMP/c.json"
"$SB_BIN" -c "$TMP/c.json" --once --no-bpf --sensors proc --procfs "$T/proc" --sysfs "$T/sys" \
	--log-level warn || { echo "the agent failed on $T" >&2; exit 1; }
taskset -c 0 "$SB_ROOT/build/codec_bench" -t "${BENCH_CODEC_SECS:-0.5}" \
	proc-round="$TMP/proc.pb" >"$TMP/out" || exit 1
note "codec_bench (events/s on one core, bytes per framed event):"
note "$(sed 's/^/    /' "$TMP/out")"
rate() { py "'%.2f M' % ($1 / 1e6) if $1 >= 1e6 else '%.1f k' % ($1 / 1e3)"; }
# row SHAPE WHAT: from the "SHAPE json|protobuf" lines and "ratio SHAPE X B"
for shape in synthetic proc-round; do
	set -- $(awk -v s="$shape" '$1 == s && $2 == "json" {j = $3; jb = $5}
		$1 == s && $2 == "protobuf" {p = $3; pb = $5}
		$1 == "ratio" && $2 == s {print p, pb, j, jb, $3, $4}' "$TMP/out")
	[ $# = 6 ] || { echo "codec_bench printed no $shape figures" >&2; exit 1; }
	case $shape in
	synthetic) what="codec: synthetic event (10 counters, 1 label)" ;;
	*) what="codec: proc round of fixtures/procfs/vm-6.18" ;;
	esac
	row "$what" "protobuf $(rate "$1") events/s, $2 B" "json $(rate "$3") events/s, $4 B" \
		"${5}x faster, ${6}x bytes" \
		">= 3x faster, <= 0.5x bytes" "$(py "'met' if $5 >= 3 and $6 <= 0.5 else 'MISSED'")"
done
