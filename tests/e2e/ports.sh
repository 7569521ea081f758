# Ports for servers the tests and benches start on loopback (POSIX sh;
# sourced by tests/e2e/lib.sh and bench/lib.sh).

# A free TCP port on 127.0.0.1 (bound and released; small race accepted),
# picked below the kernel's ephemeral range: a port from that range can be
# taken by any connect() or bind(0) on the host (a CLI's Erlang node, a
# client) while a server the test stopped is down, and the server then
# cannot come back on it (seen: a broker restart failing with
# could_not_start_listener). Falls back to bind(0) if the range starts low.
free_port() {
	python3 - <<'PY'
import random, socket
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
for _ in range(200 if low > 11000 else 0):
    port = random.randrange(10000, low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
