# Once its sensors are set up, the agent keeps only the capabilities it
# reads and binds with (DAC_READ_SEARCH, SYS_PTRACE, NET_BIND_SERVICE), in
# every thread, and still serves: as root, and as an unprivileged user given
# ambient capabilities the way the systemd unit does.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to hand capabilities to the agent"
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
mask() { sed -n "s/^$1:[[:space:]]*//p" "$2"; }
hex() { printf '%016x' "$1"; }

# caps_of PID: checks every thread of PID has CapEff == CapPrm == $want
# and no inheritable or ambient capability.
caps_of() {
	for t in /proc/$1/task/*; do
		cat "$t/status" >"$TMP/st" 2>/dev/null || continue
		[ "$(mask CapEff "$TMP/st")" = "$want" ] ||
			fail "thread $(basename "$t") CapEff $(mask CapEff "$TMP/st"), want $want"
		[ "$(mask CapPrm "$TMP/st")" = "$want" ] || fail "CapPrm $(mask CapPrm "$TMP/st")"
		[ "$(mask CapInh "$TMP/st")" = 0000000000000000 ] || fail "CapInh not empty"
		[ "$(mask CapAmb "$TMP/st")" = 0000000000000000 ] || fail "CapAmb not empty"
	done
}

start() { # start PORT [WRAPPER...]: the agent with default sensors, a prom sink
	p=$1
	shift
	cat >"$TMP/c$p.json" <<JSON
{"sinks":[{"type":"prom","listen":"127.0.0.1:$p"}]}
JSON
	chmod 644 "$TMP/c$p.json"
	"$@" "$SB_BIN" -c "$TMP/c$p.json" -i 300ms 2>"$TMP/log$p" &
	pid=$!
	track_pid $pid
	wait_for 15 sh -c "curl -fsS http://127.0.0.1:$p/metrics | grep -q '^node_load1 '" ||
		fail "agent on $p not serving: $(cat "$TMP/log$p")"
}

own=$(mask CapBnd /proc/self/status)
# DAC_READ_SEARCH (2), NET_BIND_SERVICE (10), SYS_PTRACE (19), as far as we have them
want=$(hex $((0x$own & 0x80404)))
port=$(free_port)
start "$port"
caps_of $pid
[ "$(mask CapBnd /proc/$pid/status)" = "$want" ] || fail "bounding set $(mask CapBnd /proc/$pid/status)"
grep -q 'dropped [0-9]* capabilities; keeping ' "$TMP/log$port" || fail "no log line about the drop"
ok "as root: every thread keeps only $want"

# CAP_PERFMON (38) and CAP_BPF (39) must be ours to hand on.
if [ $(((0x$own >> 38) & 3)) -ne 3 ]; then
	echo "note: no CAP_BPF/CAP_PERFMON in this shell's bounding set: the unit-like run is left out"
	exit 0
fi
chmod 711 "$TMP"
want=$(hex $((0x$own & 0x4)))
port=$(free_port)
start "$port" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=+bpf,+perfmon,+dac_read_search --ambient-caps=+bpf,+perfmon,+dac_read_search
caps_of $pid
ok "as nobody with ambient CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH: keeps only $want"
