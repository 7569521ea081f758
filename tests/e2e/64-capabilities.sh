# Once its sensors are set up, the agent keeps only the capabilities its
# config needs afterwards (SYS_PTRACE and DAC_READ_SEARCH for watched
# processes, DAC_READ_SEARCH for algod, NET_BIND_SERVICE for a prom port
# below 1024), in every thread, with no_new_privs set, and still serves: as
# root, as root switching to the configured `user`, and as an unprivileged
# user given ambient capabilities the way the systemd unit does.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to hand capabilities to the agent"
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
mask() { sed -n "s/^$1:[[:space:]]*//p" "$2"; }
hex() { printf '%016x' "$1"; }

# caps_of PID: checks every thread of PID has CapEff == CapPrm == $want,
# no inheritable or ambient capability, and NoNewPrivs.
caps_of() {
	for t in /proc/$1/task/*; do
		cat "$t/status" >"$TMP/st" 2>/dev/null || continue
		[ "$(mask CapEff "$TMP/st")" = "$want" ] ||
			fail "thread $(basename "$t") CapEff $(mask CapEff "$TMP/st"), want $want"
		[ "$(mask CapPrm "$TMP/st")" = "$want" ] || fail "CapPrm $(mask CapPrm "$TMP/st")"
		[ "$(mask CapInh "$TMP/st")" = 0000000000000000 ] || fail "CapInh not empty"
		[ "$(mask CapAmb "$TMP/st")" = 0000000000000000 ] || fail "CapAmb not empty"
		[ "$(mask NoNewPrivs "$TMP/st")" = 1 ] || fail "thread $(basename "$t"): NoNewPrivs not set"
	done
}

# start PORT EXTRA-TOP-LEVEL-JSON SENSORS-JSON [WRAPPER...]: the agent with
# a prom sink on PORT
start() {
	p=$1
	cat >"$TMP/c$p.json" <<JSON
{$2 "sensors": $3, "sinks":[{"type":"prom","listen":"127.0.0.1:$p"}]}
JSON
	shift 3
	chmod 644 "$TMP/c$p.json"
	"$@" "$SB_BIN" -c "$TMP/c$p.json" -i 300ms 2>"$TMP/log$p" &
	pid=$!
	track_pid $pid
	wait_for 15 sh -c "curl -fsS http://127.0.0.1:$p/metrics | grep -q '^node_load1 '" ||
		fail "agent on $p not serving: $(cat "$TMP/log$p")"
}

# a free port below 1024
low_port() {
	python3 -c '
import socket
for p in range(1000, 600, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

own=$(mask CapBnd /proc/self/status)
have() { hex $((0x$own & $1)); } # what we can hand on of a mask
PTRACE=0x80000 DAC=0x4 BIND=0x400

# 1. System metrics only: no capability survives, least of all SYS_PTRACE.
want=$(have 0)
port=$(free_port)
start "$port" "" '{"proc": {}}'
caps_of $pid
[ "$(mask CapBnd /proc/$pid/status)" = "$want" ] || fail "bounding set $(mask CapBnd /proc/$pid/status)"
grep -q 'dropped [0-9]* capabilities; keeping none' "$TMP/log$port" ||
	fail "no log line about the drop: $(cat "$TMP/log$port")"
kill $pid
ok "as root, proc sensor without watch lists: every thread keeps $want, NoNewPrivs 1"

# 2. Watched processes and a privileged port: exactly those three.
want=$(have $((PTRACE | DAC | BIND)))
port=$(low_port)
[ -n "$port" ] || skip "no free port below 1024"
start "$port" "" '{"proc": {"processes": ["sh", "algod"]}}'
caps_of $pid
kill $pid
ok "as root, proc watching processes, prom on port $port: every thread keeps $want"

# 3. user "nobody": the uid is nobody's, the needed capabilities survive the
# switch, and it keeps serving.
nobody=$(id -u nobody 2>/dev/null) || skip "no user nobody"
chmod 711 "$TMP"
port=$(low_port)
start "$port" '"user": "nobody",' '{"proc": {"processes": ["sh"]}}'
caps_of $pid
uids=$(mask Uid /proc/$pid/status | tr -s '\t ' ' ')
[ "$uids" = "$nobody $nobody $nobody $nobody" ] || fail "Uid: $uids, want nobody's ($nobody)"
for t in /proc/$pid/task/*; do
	[ "$(mask Uid "$t/status" | cut -f1)" = "$nobody" ] || fail "thread $(basename "$t") not nobody"
done
grep -q "running as user nobody (uid $nobody" "$TMP/log$port" || fail "no log line about the user"
sleep 1
kill -0 $pid 2>/dev/null || fail "the agent died as nobody: $(cat "$TMP/log$port")"
curl -fsS "http://127.0.0.1:$port/metrics" | grep -q '^node_load1 ' || fail "not serving as nobody"
kill $pid
ok "user nobody: uid $nobody in every thread, keeps $want, still serving on $port"

# 4. A user that does not exist: a clear error, exit 2, before anything runs.
printf '{"user": "sb-no-such-user", "sensors": {"proc": {}}}\n' >"$TMP/nouser.json"
rc=0
"$SB_BIN" -c "$TMP/nouser.json" --once -o /dev/null 2>"$TMP/nouser.log" || rc=$?
[ $rc -eq 2 ] || fail "unknown user: exit $rc, want 2"
grep -q 'user: "sb-no-such-user": no such user' "$TMP/nouser.log" ||
	fail "no clear error: $(cat "$TMP/nouser.log")"
ok "an unknown user: exit 2 naming it"

# 5. The unit's way: nobody with ambient CAP_BPF, CAP_PERFMON (38, 39) and
# CAP_DAC_READ_SEARCH, which nothing needs once BPF is loaded here.
if [ $(((0x$own >> 38) & 3)) -ne 3 ]; then
	echo "note: no CAP_BPF/CAP_PERFMON in this shell's bounding set: the unit-like run is left out"
	exit 0
fi
want=$(have 0)
port=$(free_port)
start "$port" "" '{"proc": {}, "bpf": {}, "agent": {}}' setpriv --reuid=65534 --regid=65534 \
	--clear-groups --inh-caps=+bpf,+perfmon,+dac_read_search \
	--ambient-caps=+bpf,+perfmon,+dac_read_search
caps_of $pid
ok "as nobody with ambient CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH: keeps only $want"
