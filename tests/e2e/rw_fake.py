# A fake remote-write receiver for e2e 68, on 127.0.0.1: answers each POST
# by a script (503, 204, 429 with Retry-After, 204, 400, then 204), and logs
# one JSON line per request: status given, the headers that matter, and the
# decoded body (series, first value and timestamp) to compare retries by.
# With a certificate and key after the log file, it speaks https and
# answers 204 to every request.
import hashlib, json, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

import snappy

port, log = int(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
script = [(503, {}), (204, {}), (429, {"Retry-After": "2"}), (204, {}),
          (400, {}), (204, {})]
n = 0


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7F) << s; s += 7
        if c < 0x80:
            return v, i


def series_count(b):
    i = k = 0
    while i < len(b):
        key, i = varint(b, i)
        assert key == (1 << 3 | 2), "not a WriteRequest"
        ln, i = varint(b, i)
        i += ln; k += 1
    return k


class H(BaseHTTPRequestHandler):
    def do_POST(self):
        global n
        body = self.rfile.read(int(self.headers["Content-Length"]))
        raw = snappy.uncompress(body)
        status, hdrs = script[min(n, len(script) - 1)]
        n += 1
        log.write(json.dumps({
            "n": n, "status": status, "t": time.monotonic(),
            "sha": hashlib.sha1(raw).hexdigest(), "series": series_count(raw),
            "enc": self.headers.get("Content-Encoding"), "type": self.headers.get("Content-Type"),
            "ver": self.headers.get("X-Prometheus-Remote-Write-Version"),
            "ua": self.headers.get("User-Agent"), "auth": self.headers.get("Authorization"),
        }) + "\n")
        msg = b"out of order sample\n" if status == 400 else b""
        self.send_response(status)
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    def log_message(self, *a):
        pass


srv = HTTPServer(("127.0.0.1", port), H)
if len(sys.argv) > 4:
    import ssl
    script = [(204, {})]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
