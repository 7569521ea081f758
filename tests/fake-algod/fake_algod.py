#!/usr/bin/env python3
"""A fake algod for the tests: a real HTTP/1.1 server on 127.0.0.1.

Like algod it binds a port (0: any free one) and then writes its address to
DATA_DIR/algod.net and its API token to DATA_DIR/algod.token. It serves
/metrics (no token), /v2/status (401 without the right X-Algo-API-Token),
/ready (200 or 503) and /health.

The test steers it with GET /__ctl?key=value&... :
  metrics=normal|garbage|big|empty   what /metrics sends (big: --big-bytes)
  code=N            status code of /metrics and /v2/status (0: normal)
  retry_after=S     Retry-After on such a code
  slow=S            seconds to wait before answering /metrics
  ready=200|503     /ready's answer
  rotate=TOKEN      a new token, written to algod.token as algod does
  server_token=TOKEN  a new token the server wants, the file left as it is
  last_round=N      /v2/status last-round
GET /__stats returns counters: requests per path, connections, gzip answers.
"""
import argparse
import gzip
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

state = {
    "metrics": "normal",
    "code": 0,
    "retry_after": 0,
    "slow": 0.0,
    "ready": 200,
    "last_round": 51877342,
}
stats = {"requests": {}, "connections": 0, "gzip": 0, "unauthorized": 0}
lock = threading.Lock()
args = None
token = None


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def status_json():
    return json.dumps({
        "catchpoint": "",
        "catchup-time": 1500000000,
        "last-catchpoint": "",
        "last-round": state["last_round"],
        "last-version": "https://github.com/algorandfoundation/specs/tree/abc123",
        "next-version": "https://github.com/algorandfoundation/specs/tree/def456",
        "next-version-round": state["last_round"] + 1,
        "next-version-supported": True,
        "stopped-at-unsupported-round": False,
        "time-since-last-round": 2250000000,
    }, indent=2).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with lock:
            stats["connections"] += 1

    def log_message(self, fmt, *a):
        if args.verbose:
            sys.stderr.write("fake-algod: " + (fmt % a) + "\n")

    def send(self, code, body, ctype="text/plain; version=0.0.4", extra=None):
        if "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 0:
            body = gzip.compress(body)
            extra = dict(extra or {}, **{"Content-Encoding": "gzip"})
            with lock:
                stats["gzip"] += 1
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def forced(self):
        if state["code"]:
            extra = {"Retry-After": str(state["retry_after"])} if state["retry_after"] else None
            self.send(state["code"], b"overloaded\n", extra=extra)
            return True
        return False

    def do_GET(self):
        global token
        u = urlparse(self.path)
        with lock:
            stats["requests"][u.path] = stats["requests"].get(u.path, 0) + 1
        if u.path == "/__ctl":
            for k, v in parse_qs(u.query).items():
                v = v[0]
                if k == "rotate":
                    token = v
                    write_atomic(os.path.join(args.data_dir, "algod.token"), v + "\n")
                elif k == "server_token":
                    token = v
                elif k in ("metrics",):
                    state[k] = v
                elif k == "slow":
                    state[k] = float(v)
                else:
                    state[k] = int(v)
            return self.send(200, b"ok\n")
        if u.path == "/__stats":
            with lock:
                return self.send(200, json.dumps(stats).encode(), "application/json")
        if u.path == "/metrics":
            if state["slow"]:
                time.sleep(state["slow"])
            if self.forced():
                return
            m = state["metrics"]
            if m == "garbage":
                body = b"<html><body><h1>It works!</h1>\n<p>nothing to see</p></body></html>\n"
            elif m == "big":
                line = b"algod_padding_bytes{pad=\"" + b"x" * 100 + b"\"} 1\n"
                body = line * (args.big_bytes // len(line) + 1)
            elif m == "empty":
                body = b""
            else:
                body = metrics_body
            return self.send(200, body)
        if u.path == "/v2/status":
            if self.headers.get("X-Algo-API-Token") != token:
                with lock:
                    stats["unauthorized"] += 1
                return self.send(401, b'{"message":"Invalid API Token"}\n', "application/json")
            if self.forced():
                return
            return self.send(200, status_json(), "application/json")
        if u.path == "/ready":
            code = state["ready"]
            return self.send(code, b"" if code == 200 else b'{"message":"catching up"}\n',
                             "application/json")
        if u.path == "/health":
            return self.send(200, b"null\n", "application/json")
        self.send(404, b"404 page not found\n")


def main():
    global args, token, metrics_body
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="a" * 64)
    ap.add_argument("--metrics", required=True, help="the /metrics body")
    ap.add_argument("--big-bytes", type=int, default=1 << 20)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    token = args.token
    with open(args.metrics, "rb") as f:
        metrics_body = f.read()
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    os.makedirs(args.data_dir, exist_ok=True)
    write_atomic(os.path.join(args.data_dir, "algod.token"), token + "\n")
    write_atomic(os.path.join(args.data_dir, "algod.net"), "127.0.0.1:%d\n" % port)
    srv.serve_forever()


if __name__ == "__main__":
    main()
