#!/usr/bin/python3
"""A consumer of sensorbus protobuf, written against the published schema
only: the module is what protoc made from proto/sensorbus/v1/events.proto
(PYDIR). It decodes events and checks them field by field against the
JSON lines a json file sink wrote in the same run (JSONL).

  pb_compare.py PYDIR JSONL delimited FILE [FIRST]
      FILE: varint-delimited Events (the file and stdout sinks); they are
      JSONL's events, in order. FIRST: where to write the first message.
  pb_compare.py PYDIR JSONL amqp RAW [DELIMITED-PREFIX]
      RAW: amqp_consumer.py's OUT.raw (properties and body of each
      message). Messages are grouped by the first word of their routing
      key (one group per sink); each group must carry every event of
      JSONL's run, as sensorbus.v1.Event (message_id run:seq) or
      sensorbus.v1.EventBatch (run:first-last). With DELIMITED-PREFIX,
      each group's messages are also written varint-delimited, as
      EventBatch messages to PREFIX.GROUP (`sensorbus decode --batch`) and
      the Event messages alone to PREFIX.GROUP.event (`sensorbus decode`).

The reader follows the schema's rules: names and labels by index into
the event's symbols, integers as int_value.

Options: --sources a,b (must all occur), --histograms (a histogram and a
summary must occur), --labels N (some sample has N), --batched GROUP
(sends EventBatch messages), --single GROUP (sends only Event). Prints a
summary line.
"""
import base64
import calendar
import json
import math
import sys
import time

TYPES = {0: None, 1: "gauge", 2: "counter", 3: "histogram", 4: "summary"}
ENVELOPE = {"seq", "run", "time", "host", "source", "kind", "samples"}


def num(v):  # JSON writes NaN and +-Inf as strings
    return float(v)


def same(a, b):
    a, b = num(a), num(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


def fields_of(e):
    f = {}
    if e.target:
        f["target"] = e.target
    for rec in ("exec", "exit", "fork"):
        if e.HasField(rec):
            m = getattr(e, rec)
            for d in m.DESCRIPTOR.fields:
                f[d.name] = getattr(m, d.name)
    for x in e.fields:
        f[x.key] = getattr(x, x.WhichOneof("value"))
    return f


# the schema's rules for readers (events.proto): a name either inline or
# an index into the event's symbols, labels inline and/or as index pairs,
# a number either a double or an int_value
def name_of(e, s):
    return s.name if s.WhichOneof("name_value") == "name" else e.symbols[s.name_ref]


def labels_of(e, s):
    ls = [(l.name, l.value) for l in s.labels]
    r = s.label_refs
    assert len(r) % 2 == 0, r
    return ls + [(e.symbols[r[i]], e.symbols[r[i + 1]]) for i in range(0, len(r), 2)]


def value_of(s):
    return s.int_value if s.WhichOneof("number") == "int_value" else s.value


def compare(pb, e, j, stats):
    """e (an Event) says what the JSON line j says, field by field."""
    assert e.seq == j["seq"] and e.run == j["run"] and e.host == j["host"], (e.seq, j["seq"])
    assert e.source == j["source"] and e.kind == j["kind"]
    t = j["time"]
    ns = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) * 10**9 + int(t[20:29])
    assert e.time_unix_nano == ns, (e.time_unix_nano, t)
    want = {k: v for k, v in j.items() if k not in ENVELOPE}
    got = fields_of(e)
    assert set(want) == set(got), (want, got)
    for k in want:
        assert same(want[k], got[k]) if not isinstance(want[k], str) else want[k] == got[k], k
    js = j.get("samples", [])
    assert len(js) == len(e.samples)
    stats["sources"].add(e.source)
    for s, js1 in zip(e.samples, js):
        stats["samples"] += 1
        assert name_of(e, s) == js1["name"]
        ls = labels_of(e, s)
        names = [n for n, v in ls]
        assert names == sorted(names), names
        stats["labels"] = max(stats["labels"], len(names))
        assert dict(ls) == js1.get("labels", {})
        stats["refs"] += s.WhichOneof("name_value") == "name_ref"
        stats["int_value"] += s.WhichOneof("number") == "int_value"
        assert TYPES[s.type] == js1.get("type"), (s.type, js1)
        if s.type == pb.METRIC_TYPE_HISTOGRAM:
            stats["histogram"] += 1
            assert len(s.buckets) == len(js1["buckets"])
            for b, jb in zip(s.buckets, js1["buckets"]):
                assert same(b.upper_bound, jb["le"])
                c = b.count if b.WhichOneof("cumulative") != "count_float" else b.count_float
                assert same(c, jb["count"])
        elif s.type == pb.METRIC_TYPE_SUMMARY:
            stats["summary"] += 1
            assert len(s.quantiles) == len(js1["quantiles"])
            for q, jq in zip(s.quantiles, js1["quantiles"]):
                assert same(q.quantile, jq["quantile"]) and same(q.value, jq["value"])
        else:
            assert same(value_of(s), js1["value"]), (name_of(e, s), s, js1["value"])
            continue
        c = s.count if s.WhichOneof("count_value") != "count_float" else s.count_float
        assert same(s.sum, js1["sum"]) and same(c, js1["count"])


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def delimited(pb, path, first):
    from google.protobuf.internal.decoder import _DecodeVarint32
    data = open(path, "rb").read()
    evs, pos = [], 0
    while pos < len(data):
        n, pos = _DecodeVarint32(data, pos)
        e = pb.Event()
        e.ParseFromString(data[pos:pos + n])
        if first and not evs:
            open(first, "wb").write(data[pos:pos + n])
        pos += n
        evs.append(e)
    return {"file": evs}, len(data)


def amqp(pb, path, prefix):
    groups, multi = {}, {}
    for line in open(path):
        m = json.loads(line)
        body = base64.b64decode(m["body"])
        assert m["ct"] == "application/x-protobuf", m["ct"]
        run, ids = m["mid"].rsplit(":", 1)
        g = m["rk"].split(".")[0]
        if m["type"] == "sensorbus.v1.EventBatch":
            b = pb.EventBatch()
            b.ParseFromString(body)
            evs = list(b.events)
            first, last = (int(x) for x in ids.split("-"))
            assert [e.seq for e in evs] == list(range(first, last + 1)), (m["mid"], len(evs))
            multi[g] = multi.get(g, 0) + 1
        else:
            assert m["type"] == "sensorbus.v1.Event", m["type"]
            e = pb.Event()
            e.ParseFromString(body)
            evs = [e]
            assert ids == str(e.seq), (m["mid"], e.seq)
        assert all(e.run == run for e in evs), m["mid"]
        groups.setdefault(g, []).extend(evs)
        if prefix:
            # every message as an EventBatch (a lone Event is field 1 of
            # one), for `decode --batch`; Event messages for `decode`
            one = m["type"] == "sensorbus.v1.Event"
            batch = b"\x0a" + varint(len(body)) + body if one else body
            with open("%s.%s" % (prefix, g), "ab") as f:
                f.write(varint(len(batch)) + batch)
            if one:
                with open("%s.%s.event" % (prefix, g), "ab") as f:
                    f.write(varint(len(body)) + body)
    return groups, multi


def main():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("pydir")
    p.add_argument("jsonl")
    p.add_argument("mode", choices=("delimited", "amqp"))
    p.add_argument("path")
    p.add_argument("extra", nargs="?")
    p.add_argument("--sources", default="")
    p.add_argument("--histograms", action="store_true")
    p.add_argument("--labels", type=int, default=0)
    p.add_argument("--batched", default="", help="this group sends EventBatch messages")
    p.add_argument("--single", default="", help="this group sends only Event messages")
    a = p.parse_args()
    sys.path.insert(0, a.pydir)
    from sensorbus.v1 import events_pb2 as pb
    lines = [json.loads(l) for l in open(a.jsonl)]
    stats = {"histogram": 0, "summary": 0, "samples": 0, "labels": 0, "refs": 0, "int_value": 0,
             "sources": set()}
    multi = {}
    if a.mode == "delimited":
        groups, size = delimited(pb, a.path, a.extra)
    else:
        groups, multi = amqp(pb, a.path, a.extra)
    assert groups, "no messages"
    for g, evs in groups.items():
        if a.mode == "delimited":
            assert len(evs) == len(lines), (g, len(evs), len(lines))
            pairs = zip(evs, lines)
        else:  # a broker may deliver again (at least once): each seq once, all of them
            by_seq = {}
            for e in evs:
                by_seq.setdefault(e.seq, e)
            assert sorted(by_seq) == [j["seq"] for j in lines], (g, len(by_seq), len(lines))
            pairs = ((by_seq[j["seq"]], j) for j in lines)
        for e, j in pairs:
            compare(pb, e, j, stats)
    if a.sources:
        want = set(a.sources.split(","))
        assert want <= stats["sources"], (want, stats["sources"])
    if a.histograms:
        assert stats["histogram"] and stats["summary"], stats
    assert stats["labels"] >= a.labels, stats
    # the encoder writes names by index and integers as int_value: a
    # reader that ignored those rules would have failed above
    assert stats["refs"] and stats["int_value"], stats
    if a.batched:
        assert multi.get(a.batched), ("no EventBatch from", a.batched, multi)
    if a.single:
        assert a.single in groups and not multi.get(a.single), ("batches from", a.single)
    print("events", len(lines), "decoded per group", {g: len(e) for g, e in groups.items()},
          "batch messages", multi, {k: v for k, v in stats.items() if k != "sources"}, end="")
    if a.mode == "delimited":
        print(" bytes pb/json %.2f" % (size / sum(len(json.dumps(l)) for l in lines)), end="")
    print()


if __name__ == "__main__":
    main()
