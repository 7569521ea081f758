#!/bin/sh
# The remote_write sink into a real Prometheus (Debian's 2.42, remote-write
# receiver on loopback): the proc sensor on the real /proc, the agent
# sensor (the agent's own process_*) and the scrape sensor on that
# Prometheus' own /metrics (another process_*, go_*, histograms and
# summaries), all every second, so their rounds fall in the same
# millisecond; remote_write and a json file sink side by side. Afterwards
# every series and every value of the json sink's output is in Prometheus
# at the same timestamp (ms), with job, instance and, for the scrape,
# target, and nothing more: no two sources' series were one (Prometheus
# refused those as "duplicate sample for timestamp"); the sink's
# accounting says everything was delivered, nothing rejected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/promrw.sh"

prom_start
cat >"$TMP/c.json" <<JSON
{"interval": "1s", "host": "rw-e2e",
 "sensors": {"proc": {}, "agent": {"interval": "1s"},
             "scrape": {"targets": [{"name": "prom", "url": "http://127.0.0.1:$PROM_PORT/metrics"}]}},
 "sinks": [{"type": "remote_write", "url": "$PROM_WRITE", "spool_dir": "$TMP/spool"},
           {"type": "file", "path": "$TMP/events.jsonl"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" --no-bpf --duration 5s 2>"$TMP/agent.log" ||
	fail "agent failed: $(tail -5 "$TMP/agent.log")"
grep -q 'remote_write: closed: received=\([0-9]*\) delivered=\1 spooled=0 dropped=0' "$TMP/agent.log" ||
	fail "not everything delivered: $(grep 'closed:' "$TMP/agent.log")"
prom_dump '{instance="rw-e2e"}' "$TMP/prom.jsonl"

"$PY" - "$TMP/events.jsonl" "$TMP/prom.jsonl" <<'PY' || fail "Prometheus holds other series or values than the json sink wrote"
import json, math, sys
from datetime import datetime, timezone

def ms(t):  # RFC 3339 with nanoseconds -> ms, rounded down
    sec, frac = t.rstrip("Z").split(".")
    d = datetime.strptime(sec, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(d.timestamp()) * 1000 + int(frac[:3])

def key(name, labels):
    # bucket bounds as numbers: Prometheus clients write them Go's way (1e-05)
    return (name,) + tuple(sorted((k, repr(float(v)) if k in ("le", "quantile") else v)
                                  for k, v in labels.items() if v != ""))

def num(v):
    return float({"NaN": "nan", "+Inf": "inf", "-Inf": "-inf"}.get(v, v)) if isinstance(v, str) else float(v)

def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b

want = {}
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["kind"] != "metrics":
        continue
    t = ms(ev["time"])
    for s in ev["samples"]:
        base = dict(s.get("labels", {}))
        base.setdefault("job", "sensorbus")
        base.setdefault("instance", ev["host"])
        base.setdefault("target", ev.get("target", ""))
        typ = s.get("type")
        if typ in ("histogram", "summary"):
            for b in s.get("buckets", s.get("quantiles", [])):
                l = dict(base)
                if typ == "histogram":
                    l["le"] = b["le"]
                    want[key(s["name"] + "_bucket", l), t] = num(b["count"])
                else:
                    l["quantile"] = b["quantile"]
                    want[key(s["name"], l), t] = num(b["value"])
            want[key(s["name"] + "_sum", base), t] = num(s["sum"])
            want[key(s["name"] + "_count", base), t] = num(s["count"])
        else:
            want[key(s["name"], base), t] = num(s["value"])

got = {}
for line in open(sys.argv[2]):
    s = json.loads(line)
    m = dict(s["metric"])
    name = m.pop("__name__")
    for t, v in s["values"]:
        got[key(name, m), round(t * 1000)] = num(v)

w, g = want, got
missing = [k for k in w if k not in g]
extra = [k for k in g if k not in w]
differ = [k for k in w if k in g and not same(w[k], g[k])]
print("json sink: %d samples in %d series; Prometheus: %d samples" % (len(w), len({k for k, _ in w}), len(g)))
for what, l in (("missing", missing), ("extra", extra), ("different", differ)):
    for k in l[:5]:
        print(what, k, w.get(k), g.get(k))
assert len(w) > 500, "too few samples to mean anything"
for name in ("node_load1", "up", "go_gc_duration_seconds_count"):
    assert any(k[0] == name for k, _ in w), name
# the exporter's process_cpu_seconds_total and the agent's: two series
assert len({k for k, _ in g if k[0] == "process_cpu_seconds_total"}) == 2
sys.exit(1 if missing or extra or differ else 0)
PY
! grep -E 'duplicate sample|out of order' "$TMP/receiver.log" ||
	fail "the receiver refused samples (above)"
ok "every series and value of the json sink is in Prometheus, same timestamps; scraped series apart"
