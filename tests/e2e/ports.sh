# Ports for servers the tests and benches start on loopback (POSIX sh;
# sourced by tests/e2e/lib.sh and bench/lib.sh).

# A free TCP port on 127.0.0.1 (bound and released; small race accepted),
# picked below the kernel's ephemeral range: a port from that range can be
# taken by any connect() or bind(0) on the host (a CLI's Erlang node, a
# client) while a server the test stopped is down, and the server then
# cannot come back on it (seen: a broker restart failing with
# could_not_start_listener). A port handed out before in this run ($TMP)
# is not handed out again: its server may not be listening yet. Falls
# back to bind(0) if the range starts low.
free_port() {
	python3 - "${TMP:-}" <<'PY'
import os, random, socket, sys
given = os.path.join(sys.argv[1], ".ports") if sys.argv[1] else None
try:
    taken = {int(l) for l in open(given)} if given else set()
except (OSError, ValueError):
    taken = set()
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
port = None
for _ in range(200 if low > 11000 else 0):
    p = random.randrange(10000, low)
    if p in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        port = p
        break
    except OSError:
        continue
    finally:
        s.close()
if port is None:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
if given:
    try:
        with open(given, "a") as f:
            f.write("%d\n" % port)
    except OSError:
        pass
print(port)
PY
}
