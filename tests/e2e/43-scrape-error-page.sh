# A target that answers 500 with an endless body: the scrape stops reading
# once the status is known, ends long before its timeout, and reports the
# status (up 0, one line with "HTTP 500"), not a timeout.
. "$(dirname "$0")/lib.sh"

python3 - "$TMP/srv.port" "$TMP/srv.log" <<'PY' &
import socket, sys, threading, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(8)
open(sys.argv[1], "w").write("%d\n" % ls.getsockname()[1])
log = open(sys.argv[2], "a", buffering=1)
def serve(c):
    t0, sent = time.monotonic(), 0
    try:
        c.recv(65536)
        c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (8192, b"database on fire\n" * 481 + b"x" * 15)
        while time.monotonic() - t0 < 30:
            c.sendall(chunk)
            sent += 8192
    except OSError:
        pass
    log.write("sent %d bytes in %.2f s\n" % (sent, time.monotonic() - t0))
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
track_pid $!
wait_for 10 test -s "$TMP/srv.port" || fail "the fake server did not start"
port=$(cat "$TMP/srv.port")

cat >"$TMP/c.json" <<JSON
{"sensors":{"scrape":{"timeout":"8s","targets":[
   {"name":"broken","url":"http://127.0.0.1:$port/metrics","interval":"10s"}]}},
 "sinks":[{"type":"file","path":"$TMP/out.jsonl"}]}
JSON
start=$(date +%s)
timeout 20 "$SB_BIN" --once -c "$TMP/c.json" 2>"$TMP/log" || fail "agent exit $?: $(cat "$TMP/log")"
secs=$(($(date +%s) - start))
[ $secs -lt 5 ] || fail "the scrape of an endless error page took ${secs}s (timeout 8s): $(cat "$TMP/log")"
grep -q "target broken (http://127.0.0.1:$port/metrics): HTTP 500" "$TMP/log" ||
	fail "no line with the status: $(cat "$TMP/log")"
grep -q "timed out" "$TMP/log" && fail "reported as a timeout: $(cat "$TMP/log")"
python3 - "$TMP/out.jsonl" <<'PY' || fail "the event: $(cat "$TMP/out.jsonl")"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
ev = [e for e in evs if e.get("target") == "broken"][0]
up = [s["value"] for s in ev["samples"] if s["name"] == "up"]
assert up == [0], ev
PY
wait_for 5 test -s "$TMP/srv.log" || fail "the server never saw the client go"
ok "an endless 500 page ends the scrape in ${secs}s with up 0 and HTTP 500 ($(cat "$TMP/srv.log"))"
