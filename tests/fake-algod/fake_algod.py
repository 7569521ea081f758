#!/usr/bin/env python3
"""A fake algod for the tests: a real HTTP/1.1 server on 127.0.0.1.

Like algod it binds a port (0: any free one) and then writes its address to
DATA_DIR/algod.net and its API token to DATA_DIR/algod.token. It serves
/metrics (no token), /v2/status (401 without the right X-Algo-API-Token),
/ready (200 or 503), /health and /versions. Like algod it writes its pid to
DATA_DIR/algod.pid (and names itself algod, as `ps` would show it), its
admin token to DATA_DIR/algod.admin.token and its gossip address to
DATA_DIR/algod-listen.net.

/v2/participation (admin token only) lists two keys: one of the online
account ONLINE..., 1000 rounds from expiry, that voted, proposed and made a
state proof; one of the offline account OFFLINE..., far from expiry, that
never voted. /v2/accounts/ADDRESS (API token) answers those two accounts,
and any other address as an empty offline account. The values are written
by hand here, relative to the first last-round (BASE), so the tests can
compute what the agent must say.

The test steers it with GET /__ctl?key=value&... :
  metrics=normal|garbage|big|empty   what /metrics sends (big: --big-bytes)
  code=N            status code of /metrics and /v2/status (0: normal)
  retry_after=S     Retry-After on such a code
  slow=S            seconds to wait before answering /metrics
  ready=200|503     /ready's answer
  rotate=TOKEN      a new token, written to algod.token as algod does
  server_token=TOKEN  a new token the server wants, the file left as it is
  last_round=N      /v2/status last-round
  round_ms=N        the node commits a round every N ms from now on (0: stop)
  since_raw=TEXT    /v2/status's time-since-last-round written as TEXT, a JSON
                    number no node sends (1e309, -1); none: the real one
  admin_token=TOKEN a new admin token the server wants, the file left as it is
GET /__stats returns counters: requests per path, connections, gzip answers.
"""
import argparse
import ctypes
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
    "round_ms": 0,
    "since_raw": "none",
}
BASE = 51877342
ADDR_ONLINE = "ONLINEACCOUNT" + "2" * 45
ADDR_OFFLINE = "OFFLINEACCOUNT" + "3" * 44
KEY_NEAR = "KEYNEAREXPIRY" + "A" * 39
KEY_FAR = "KEYFARFROMEXPIRY" + "B" * 36
round_t0 = None  # monotonic time the rounds started advancing at
stats = {"requests": {}, "connections": 0, "gzip": 0, "unauthorized": 0}
lock = threading.Lock()
args = None
token = None
admin_token = None


def current_round():
    """(last-round, nanoseconds since it was committed)."""
    if not state["round_ms"] or round_t0 is None:
        return state["last_round"], 2250000000
    period = state["round_ms"] / 1000.0
    elapsed = time.monotonic() - round_t0
    n = int(elapsed / period)
    return state["last_round"] + n, int((elapsed - n * period) * 1e9)


def participation_json():
    return json.dumps([
        {"address": ADDR_ONLINE, "id": KEY_NEAR,
         "effective-first-valid": BASE - 100000, "effective-last-valid": BASE + 1000,
         "last-vote": BASE - 1, "last-block-proposal": BASE - 50, "last-state-proof": BASE - 256,
         "key": {"vote-first-valid": BASE - 100000, "vote-last-valid": BASE + 1000,
                 "vote-key-dilution": 317,
                 "selection-participation-key": "c2VsZWN0aW9uLWtleS1vZi10aGUtbmVhci1rZXk=",
                 "vote-participation-key": "dm90ZS1rZXktb2YtdGhlLW5lYXIta2V5LXh4eHg=",
                 "state-proof-key": "c3RhdGUtcHJvb2Yta2V5LW9mLXRoZS1uZWFyLWtleQ=="}},
        {"address": ADDR_OFFLINE, "id": KEY_FAR,
         "effective-first-valid": BASE - 5000, "effective-last-valid": BASE + 3000000,
         "key": {"vote-first-valid": BASE - 5000, "vote-last-valid": BASE + 3000000,
                 "vote-key-dilution": 1733,
                 "selection-participation-key": "c2VsZWN0aW9uLWtleS1vZi10aGUtZmFyLWtleXg=",
                 "vote-participation-key": "dm90ZS1rZXktb2YtdGhlLWZhci1rZXkteHh4eHg=",
                 "state-proof-key": "c3RhdGUtcHJvb2Yta2V5LW9mLXRoZS1mYXIta2V5eA=="}},
    ]).encode()


def account_json(addr):
    if addr == ADDR_ONLINE:
        acc = {"address": addr, "amount": 1234567890, "status": "Online",
               "incentive-eligible": True,
               "participation": {"vote-first-valid": BASE - 100000, "vote-last-valid": BASE + 1000,
                                 "vote-key-dilution": 317}}
    elif addr == ADDR_OFFLINE:
        acc = {"address": addr, "amount": 5000000, "status": "Offline",
               "incentive-eligible": False}
    else:
        acc = {"address": addr, "amount": 0, "status": "Offline"}
    acc.update({"min-balance": 100000, "pending-rewards": 0, "rewards": 0, "round": current_round()[0],
                "total-apps-opted-in": 0, "total-assets-opted-in": 0})
    return json.dumps(acc).encode()


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def status_json():
    last, since = current_round()
    text = json.dumps({
        "catchpoint": "",
        "catchup-time": 0 if state["round_ms"] else 1500000000,
        "last-catchpoint": "",
        "last-round": last,
        "last-version": "https://github.com/algorandfoundation/specs/tree/abc123",
        "next-version": "https://github.com/algorandfoundation/specs/tree/def456",
        "next-version-round": last + 1,
        "next-version-supported": True,
        "stopped-at-unsupported-round": False,
        "time-since-last-round": since,
    }, indent=2)
    if state["since_raw"] != "none":
        # json.dumps writes no number out of a double's range: spliced in
        text = text.replace('"time-since-last-round": %d' % since,
                            '"time-since-last-round": ' + state["since_raw"])
    return text.encode()


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
        global token, admin_token, round_t0
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
                elif k == "admin_token":
                    admin_token = v
                elif k == "round_ms":
                    last, _ = current_round()
                    state["last_round"] = last
                    state["round_ms"] = int(v)
                    round_t0 = time.monotonic()
                elif k in ("metrics", "since_raw"):
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
        if u.path == "/v2/participation":
            if self.headers.get("X-Algo-API-Token") != admin_token:
                with lock:
                    stats["unauthorized"] += 1
                return self.send(401, b'{"message":"Invalid API Token"}\n', "application/json")
            return self.send(200, participation_json(), "application/json")
        if u.path.startswith("/v2/accounts/"):
            if self.headers.get("X-Algo-API-Token") not in (token, admin_token):
                return self.send(401, b'{"message":"Invalid API Token"}\n', "application/json")
            return self.send(200, account_json(u.path[len("/v2/accounts/"):]), "application/json")
        if u.path == "/versions":
            return self.send(200, json.dumps({
                "build": {"major": 3, "minor": 27, "build_number": 1, "branch": "rel/stable",
                          "channel": "stable", "commit_hash": "8ea43c1e"},
                "genesis_hash_b64": "SGO1GKSzyE7IEPItTxCByw9x8FmnrCDexi9/cOUJOiI=",
                "genesis_id": "testnet-v1.0", "versions": ["v1", "v2"]}).encode(),
                "application/json")
        if u.path == "/ready":
            code = state["ready"]
            return self.send(code, b"" if code == 200 else b'{"message":"catching up"}\n',
                             "application/json")
        if u.path == "/health":
            return self.send(200, b"null\n", "application/json")
        self.send(404, b"404 page not found\n")


def main():
    global args, token, admin_token, metrics_body
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="a" * 64)
    ap.add_argument("--admin-token", default="b" * 64)
    ap.add_argument("--metrics", required=True, help="the /metrics body")
    ap.add_argument("--big-bytes", type=int, default=1 << 20)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    token = args.token
    admin_token = args.admin_token
    # algod's own name, as /proc/PID/stat shows it (the agent checks it)
    try:
        ctypes.CDLL(None).prctl(15, b"algod", 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass
    with open(args.metrics, "rb") as f:
        metrics_body = f.read()
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    os.makedirs(args.data_dir, exist_ok=True)
    write_atomic(os.path.join(args.data_dir, "algod.token"), token + "\n")
    write_atomic(os.path.join(args.data_dir, "algod.admin.token"), admin_token + "\n")
    write_atomic(os.path.join(args.data_dir, "algod-listen.net"), "0.0.0.0:4161\n")
    write_atomic(os.path.join(args.data_dir, "algod.pid"), "%d\n" % os.getpid())
    write_atomic(os.path.join(args.data_dir, "algod.net"), "127.0.0.1:%d\n" % port)
    srv.serve_forever()


if __name__ == "__main__":
    main()
