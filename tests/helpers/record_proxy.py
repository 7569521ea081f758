#!/usr/bin/env python3
"""record_proxy.py PORTFILE UPSTREAM OUTDIR: an HTTP server on 127.0.0.1 (a
free port, written to PORTFILE) that relays every GET to UPSTREAM (a base
URL) and saves the exact body it served as OUTDIR/body-N, so a test can
compare what the agent parsed with the bytes it was given."""
import os
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, upstream, outdir = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
count = 0
lock = threading.Lock()


class Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def do_GET(self):
        global count
        with urllib.request.urlopen(upstream + self.path, timeout=10) as r:
            body, ctype = r.read(), r.headers.get("Content-Type", "text/plain")
        with lock:
            count += 1
            with open(os.path.join(outdir, "body-%d" % count), "wb") as f:
                f.write(body)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.replace(portfile + ".tmp", portfile)
srv.serve_forever()
