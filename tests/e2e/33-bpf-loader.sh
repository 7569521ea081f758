# The BPF programs are loaded by a short-lived child that hands the agent
# the links and maps and exits: once attached, the agent has no child left,
# never held the kernel's BTF (its peak anonymous memory stays below the
# BTF's size; libbpf's parse of it takes more than that), holds one link
# per attached program itself, and its exit detaches and frees every one of
# those programs.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_BPF and CAP_PERFMON) to load BPF programs"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
command -v bpftool >/dev/null || skip "no bpftool to look programs up by id"

"$SB_BIN" --sensors bpf --interval 1s -o "$TMP/out.jsonl" 2>"$TMP/err" &
agent=$!
track_pid $agent
wait_for 15 grep -q -e 'programs attached' -e 'procfs-only' "$TMP/err" ||
	fail "the agent did not start: $(cat "$TMP/err")"
grep -q 'procfs-only' "$TMP/err" && skip "BPF unavailable here: $(grep procfs-only "$TMP/err")"
attached=$(sed -n 's/.*\] \([0-9]*\) of [0-9]* programs attached.*/\1/p' "$TMP/err")

no_child() { ! ps -o pid= --ppid $agent | grep -q .; }
wait_for 10 no_child || fail "the loader process is still there: $(ps -o pid,comm --ppid $agent)"

btf_kb=$(($(stat -c %s /sys/kernel/btf/vmlinux) / 1024))
anon_kb=$(awk '/^RssAnon:/ {print $2}' /proc/$agent/status)
# (an ASan build's shadow memory is anonymous too: not comparable)
grep -q libasan /proc/$agent/maps || [ "$btf_kb" -lt 3072 ] || [ "$anon_kb" -lt "$btf_kb" ] ||
	fail "the agent has $anon_kb kB of anonymous memory, the kernel's BTF is $btf_kb kB"

# prog_id of every BPF link the agent holds (fdinfo of a link fd)
progs=$(cat /proc/$agent/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u)
n=$(echo "$progs" | grep -c .)
[ "$n" -eq "$attached" ] || fail "the agent holds $n BPF links, $attached programs attached"
for id in $progs; do
	bpftool prog show id "$id" >/dev/null 2>&1 || fail "program $id is not loaded"
done

kill -TERM $agent
wait $agent || fail "the agent exited $?: $(cat "$TMP/err")"
# freed when their last reference goes (after an RCU grace period)
none_loaded() {
	for id in $progs; do
		bpftool prog show id "$id" >/dev/null 2>&1 && return 1
	done
	return 0
}
wait_for 10 none_loaded || fail "programs still loaded after the agent exited: $progs"
ok "loaded by a child that is gone (agent: $anon_kb kB anonymous, BTF $btf_kb kB); its $n links were the programs' last references"
