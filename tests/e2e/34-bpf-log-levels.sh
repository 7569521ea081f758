# --log-level debug stays readable with the BPF sensor: libbpf's own debug
# output (hundreds of lines per load) shows only at --log-level trace.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_BPF and CAP_PERFMON) to load BPF programs"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
"$SB_BIN" --help | grep -q 'not in this build' && skip "this binary was built with BPF=0"

"$SB_BIN" --log-level debug --once --sensors bpf -o "$TMP/d.jsonl" 2>"$TMP/debug.err" ||
	fail "agent exited $?: $(tail -5 "$TMP/debug.err")"
grep -q 'procfs-only' "$TMP/debug.err" && skip "BPF unavailable here: $(grep procfs-only "$TMP/debug.err")"
n=$(wc -l <"$TMP/debug.err")
[ "$n" -le 40 ] || fail "--log-level debug printed $n lines: $(awk '{print $3}' "$TMP/debug.err" | sort | uniq -c | sort -rn | head -3)"
! grep -q '\[libbpf\]' "$TMP/debug.err" || fail "libbpf's debug output at --log-level debug: $(grep -m3 libbpf "$TMP/debug.err")"
ok "--log-level debug: $n lines, none of libbpf's debug output"

"$SB_BIN" --log-level trace --once --sensors bpf -o "$TMP/t.jsonl" 2>"$TMP/trace.err" ||
	fail "agent exited $?: $(tail -5 "$TMP/trace.err")"
t=$(grep -c '^[^ ]* trace [[]libbpf[]]' "$TMP/trace.err")
[ "$t" -ge 20 ] || fail "--log-level trace shows $t libbpf lines"
ok "--log-level trace: libbpf's $t lines"
