# The prom sink under slow and idle clients: 40 connections against a
# limit of 32, most of them sending one header byte a second and never
# ending their headers, some idle on keep-alive after a request. While they
# are connected /metrics, /healthz and /readyz each answer within a second;
# the slow ones are cut at header_timeout (not kept alive forever by their
# trickle), the idle keep-alive ones too. Keep-alive is real (curl reuses
# the connection, Keep-Alive names the timeout the server enforces) and
# /metrics says it varies with Accept-Encoding.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl missing"

port=$(free_port)
url="http://127.0.0.1:$port"
# timeout (idle) is longer than header_timeout: a slow client that trickles
# a byte a second is never idle, so only the header deadline can cut it.
cat >"$TMP/c.json" <<JSON
{"sensors":{"agent":{}},
 "sinks":[{"type":"prom","listen":"127.0.0.1:$port","timeout":"20s","header_timeout":"3s"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" -i 500ms 2>"$TMP/log" &
track_pid $!
wait_for 10 curl -fsS "$url/healthz" || fail "no /healthz: $(cat "$TMP/log")"
wait_for 15 curl -fsS "$url/readyz" || fail "/readyz never ready: $(curl -sS "$url/readyz")"

# Keep-alive: two URLs in one curl run share one connection.
curl -sv "$url/healthz" "$url/readyz" >"$TMP/ka.out" 2>"$TMP/ka.err" || fail "curl two URLs"
grep -q "Re-using existing connection" "$TMP/ka.err" ||
	fail "the second request did not reuse the connection: $(grep '^[<*]' "$TMP/ka.err")"
grep -qi '^< connection: close' "$TMP/ka.err" && fail "keep-alive answered Connection: close"
grep -qi '^< keep-alive: timeout=3' "$TMP/ka.err" ||
	fail "no Keep-Alive: timeout=3 (the header deadline): $(grep '^<' "$TMP/ka.err")"
curl -sS -D "$TMP/h.txt" -o /dev/null -H 'Accept-Encoding: gzip' "$url/metrics"
grep -qi '^vary: accept-encoding' "$TMP/h.txt" || fail "no Vary: Accept-Encoding: $(cat "$TMP/h.txt")"
ok "keep-alive reuses the connection, Keep-Alive: timeout=3, Vary: Accept-Encoding"

# 36 slow clients and 4 idle keep-alive ones; they write "ready" once all
# are connected and report how long each lived.
python3 - "$port" "$TMP" >"$TMP/slow.out" 2>&1 <<'PY' &
import select, socket, sys, time
port, tmp = int(sys.argv[1]), sys.argv[2]
SLOW, IDLE, CAP = 36, 4, 15.0
conns = {}  # socket -> [kind, t0, closed_at]
def opened(kind):
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.setblocking(False)
    conns[s] = [kind, time.monotonic(), None]
    return s
for _ in range(SLOW):
    s = opened("slow")
    s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
for _ in range(IDLE):
    s = opened("idle")
    s.setblocking(True)
    s.settimeout(5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    resp = b""
    while not resp.endswith(b"ok\n"):
        b = s.recv(4096)
        if not b:
            break
        resp += b
    assert resp.startswith(b"HTTP/1.1 200"), resp
    assert b"connection: close" not in resp.lower(), resp
    s.setblocking(False)
    conns[s][1] = time.monotonic()  # its deadline counts from the response
open(tmp + "/slow.ready", "w").write("ready\n")
start = time.monotonic()
next_byte = start + 1
while any(c[2] is None for c in conns.values()) and time.monotonic() - start < CAP:
    live = [s for s, c in conns.items() if c[2] is None]
    r, _, _ = select.select(live, [], [], 0.1)
    for s in r:
        try:
            if s.recv(4096):
                continue
        except (ConnectionResetError, BlockingIOError):
            pass
        conns[s][2] = time.monotonic()
    if time.monotonic() >= next_byte:
        next_byte += 1
        for s, c in conns.items():
            if c[0] == "slow" and c[2] is None:
                try:
                    s.send(b"a")
                except OSError:
                    c[2] = time.monotonic()
for kind, t0, t1 in conns.values():
    print(kind, "%.2f" % (t1 - t0) if t1 else "open")
PY
slow=$!
track_pid $slow
wait_for 10 test -s "$TMP/slow.ready" || fail "slow clients did not connect: $(cat "$TMP/slow.out")"
for p in /metrics /healthz /readyz; do
	code=$(curl -sS --max-time 1 -o "$TMP/body" -w '%{http_code}' "$url$p") ||
		fail "GET $p with 40 slow clients connected: no answer within 1 s"
	[ "$code" = 200 ] || fail "GET $p with 40 slow clients connected: HTTP $code"
done
ok "/metrics, /healthz and /readyz answer within 1 s beside 40 slow clients"

wait $slow || fail "slow clients: $(cat "$TMP/slow.out")"
python3 - "$TMP/slow.out" <<'PY' || fail "slow clients not cut at the header deadline: $(cat "$TMP/slow.out")"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == 40, rows
assert not [r for r in rows if r[1] == "open"], "some never closed"
life = {k: sorted(float(r[1]) for r in rows if r[0] == k) for k in ("slow", "idle")}
# beyond the limit the oldest idle were shed at once; the rest lived until
# the 3 s deadline (the trickle never lets the 20 s idle timeout fire)
at_deadline = [t for t in life["slow"] if t >= 2.5]
assert len(at_deadline) >= 20, life
assert max(life["slow"]) < 5.5, life
assert all(2.5 <= t < 5.5 for t in life["idle"]), life
print(life)
PY
ok "slow clients and idle keep-alive connections cut at the 3 s header deadline"
curl -fsS --max-time 1 "$url/healthz" >/dev/null || fail "not serving after the slow clients"
