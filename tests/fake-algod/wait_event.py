#!/usr/bin/env python3
"""wait_event.py FILE SOURCE AFTER_SEQ SECONDS EXPR

Waits until FILE (JSON lines) holds an event of SOURCE with seq > AFTER_SEQ
for which EXPR is true, and prints its seq. In EXPR, `s` maps each sample's
name to its value (the first of that name), `ev` is the event. Exits 1 on
timeout, printing the last such event seen."""
import json
import sys
import time

path, source, after, secs, expr = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
deadline = time.monotonic() + secs
last = None
while True:
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            ev = json.loads(line)
        except ValueError:
            continue  # a line still being written
        if ev.get("source") != source or ev["seq"] <= after:
            continue
        s = {}
        for x in ev.get("samples", []):
            s.setdefault(x["name"], x.get("value"))
        last = ev
        if eval(expr, {"s": s, "ev": ev}):
            print(ev["seq"])
            sys.exit(0)
    if time.monotonic() > deadline:
        sys.stderr.write("wait_event: no %s event after seq %d with %s; last: %s\n"
                         % (source, after, expr, json.dumps(last)[:2000]))
        sys.exit(1)
    time.sleep(0.05)
