#!/usr/bin/env python3
"""promcheck.py BODY EVENTS TARGET [--series-only]

Parses the Prometheus text in BODY on its own (no code shared with the
agent) and checks that the agent's event for TARGET (in the JSON lines of
EVENTS) holds exactly its samples: same names, labels and values, and for
counters and gauges the type from the TYPE line. Histogram and summary
samples of the event are expanded back into their _bucket/quantile, _sum
and _count lines. --series-only compares names and labels, not values (for
a second scrape of the same exporter)."""
import json
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"


def parse_labels(s, i):
    """s[i] is just past '{'; returns (dict, index after '}')."""
    labels = {}
    while True:
        while s[i] in " \t,":
            i += 1
        if s[i] == "}":
            return labels, i + 1
        m = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*\"").match(s, i)
        assert m, "bad label at %r" % s[i:]
        i = m.end()
        v = []
        while s[i] != '"':
            if s[i] == "\\":
                i += 1
                v.append({"n": "\n", "\\": "\\", '"': '"'}.get(s[i], "\\" + s[i]))
            else:
                v.append(s[i])
            i += 1
        labels[m.group(1)] = "".join(v)
        i += 1


def fnum(v):
    return float(v.replace("Inf", "inf"))


def body_samples(text):
    types, out = {}, []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            p = line.split(None, 3)
            if len(p) >= 4 and p[1] == "TYPE":
                types[p[2]] = p[3].strip()
            continue
        m = re.compile(NAME).match(line)
        name, i, labels = m.group(0), m.end(), {}
        if line[i] == "{":
            labels, i = parse_labels(line, i + 1)
        value = line[i:].split()[0]
        out.append((name, labels, fnum(value)))
    return types, out


def event_samples(ev):
    out = []
    for s in ev.get("samples", []):
        labels = s.get("labels", {})
        t = s.get("type", "untyped")
        if t == "histogram":
            for b in s["buckets"]:
                out.append((s["name"] + "_bucket", dict(labels, le=b["le"]), fv(b["count"])))
        elif t == "summary":
            for q in s["quantiles"]:
                out.append((s["name"], dict(labels, quantile=q["quantile"]), fv(q["value"])))
        if t in ("histogram", "summary"):
            out.append((s["name"] + "_sum", labels, fv(s["sum"])))
            out.append((s["name"] + "_count", labels, fv(s["count"])))
        else:
            out.append((s["name"], labels, fv(s["value"]), t))
    return out


def fv(v):
    return fnum(v) if isinstance(v, str) else float(v)


def key(name, labels):
    # le and quantile are numbers: "1" and "1.0" are the same bound
    return (name, tuple(sorted((k, repr(fnum(v)) if k in ("le", "quantile") else v)
                               for k, v in labels.items())))


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def main():
    body, events, target = sys.argv[1], sys.argv[2], sys.argv[3]
    series_only = "--series-only" in sys.argv
    types, want = body_samples(open(body, encoding="utf-8").read())
    ev = None
    for line in open(events):
        e = json.loads(line)
        if e.get("target") == target:
            ev = e
    assert ev, "no event for target %s" % target
    meta = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
    got_all = event_samples(ev)
    up = [g for g in got_all if g[0] == "up"]
    assert up and up[0][2] == 1, "up: %s" % up
    got = {}
    for g in got_all:
        if g[0] in meta and g[1].get("target") == target:
            continue
        k = key(g[0], g[1])
        assert k not in got, "series twice: %s" % (k,)
        got[k] = g
    wantd = {key(n, l): v for n, l, v in want}
    assert len(wantd) == len(want), "the body repeats a series"
    missing = set(wantd) - set(got)
    extra = set(got) - set(wantd)
    assert not missing and not extra, "missing %s\nextra %s" % (sorted(missing)[:10], sorted(extra)[:10])
    if not series_only:
        bad = [(k, wantd[k], got[k][2]) for k in wantd if not same(wantd[k], got[k][2])]
        assert not bad, "values differ: %s" % bad[:10]
    for k, g in got.items():
        if len(g) == 4 and g[3] in ("counter", "gauge"):
            assert types.get(g[0]) == g[3], "%s: type %s, TYPE line says %s" % (k, g[3], types.get(g[0]))
    print("%s: %d samples match (%d families typed)" % (target, len(want), len(types)))


main()
