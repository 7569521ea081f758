#!/usr/bin/python3
"""Test consumer for the amqp sink (python3-pika).

consume: declares the exchange and a durable queue bound to it with '#',
  then writes one JSON line per event (run, seq, message id, routing key,
  properties, events in its message) to --out, acking as it goes (a message
  that is not an event: its size to OUT.foreign); with --raw, also every
  message's properties and body (base64) to OUT.raw. It reads JSON, JSON
  lines (a batch) and protobuf (sensorbus.v1.Event or EventBatch, by the
  AMQP type; --pb DIR names where protoc put the Python module made from
  proto/sensorbus/v1/events.proto). It reconnects while the broker is
  down and stops on SIGTERM or after --idle seconds with nothing new.
declare: only declares and binds (e.g. a bounded queue nobody reads yet).
publish: one message with the given content type, type and body (e.g. a
  poison message for the amqp sensor, e2e 71).
report: per run in a consumer file: messages, unique seqs, duplicates,
  gaps (seqs missing between 1 and the highest), order of first arrival.
"""
import argparse
import base64
import json
import signal
import sys
import time

stop = False


def on_term(signo, frame):
    global stop
    stop = True


def load_pb(pbdir):
    if not pbdir:
        return None
    sys.path.insert(0, pbdir)
    from sensorbus.v1 import events_pb2
    return events_pb2


def events_of(props, body, pb):
    """The events a message carries, as dicts with at least run and seq."""
    ct = props.content_type
    if ct == "application/x-protobuf":
        if pb is None:
            raise ValueError("protobuf message, and no --pb module")
        if props.type == "sensorbus.v1.EventBatch":
            batch = pb.EventBatch()
            batch.ParseFromString(body)
            evs = list(batch.events)
        elif props.type == "sensorbus.v1.Event":
            ev = pb.Event()
            ev.ParseFromString(body)
            evs = [ev]
        else:
            raise ValueError("protobuf message of type %r" % props.type)
        return [{"run": e.run, "seq": e.seq, "source": e.source, "kind": e.kind}
                for e in evs]
    # a batch (batch_events > 1) of JSON is JSON lines
    if ct == "application/x-ndjson":
        return [json.loads(x) for x in body.splitlines() if x]
    return [json.loads(body)]


def connect(port):
    import pika
    params = pika.ConnectionParameters(host="127.0.0.1", port=port,
                                       connection_attempts=1, socket_timeout=2,
                                       blocked_connection_timeout=5)
    return pika.BlockingConnection(params)


def declare(ch, a):
    ch.exchange_declare(exchange=a.exchange, exchange_type="topic", durable=True)
    args = {}
    if a.max_length:
        args = {"x-max-length": a.max_length, "x-overflow": "reject-publish"}
    if a.queue_type == "quorum":
        # a replica on every node of a 3-node cluster (e2e 70)
        args.update({"x-queue-type": "quorum", "x-quorum-initial-group-size": 3})
    ch.queue_declare(queue=a.queue, durable=True, arguments=args)
    ch.queue_bind(queue=a.queue, exchange=a.exchange, routing_key=a.binding)


def cmd_declare(a):
    conn = connect(a.port)
    declare(conn.channel(), a)
    conn.close()


def cmd_consume(a):
    signal.signal(signal.SIGTERM, on_term)
    out = open(a.out, "a", buffering=1)
    foreign = open(a.out + ".foreign", "a", buffering=1)
    raw = open(a.out + ".raw", "a", buffering=1) if a.raw else None
    pb = load_pb(a.pb)
    last_msg = time.monotonic()
    while not stop:
        try:
            conn = connect(a.port)
        except Exception:
            time.sleep(0.2)
            continue
        try:
            ch = conn.channel()
            declare(ch, a)
            ch.basic_qos(prefetch_count=500)
            ready = open(a.out + ".ready", "w")
            ready.close()
            while not stop:
                got = False
                for method, props, body in ch.consume(a.queue, inactivity_timeout=0.2):
                    if method is None:
                        break
                    got = True
                    try:
                        evs = events_of(props, body, pb)
                        for ev in evs:
                            ev["run"], ev["seq"]
                    except Exception:
                        # not an event (the bench's plain publishers): taken
                        # off the queue and counted apart, or it would come
                        # back for ever and stall everything behind it
                        foreign.write("%d\n" % len(body))
                        ch.basic_ack(method.delivery_tag)
                        continue
                    for ev in evs:
                        rec = {"run": ev["run"], "seq": ev["seq"], "mid": props.message_id,
                               "rk": method.routing_key, "ct": props.content_type,
                               "type": props.type,
                               "dm": props.delivery_mode, "ts": props.timestamp,
                               "source": ev.get("source"), "kind": ev.get("kind"),
                               "n": len(evs)}
                        out.write(json.dumps(rec) + "\n")
                    if raw:
                        raw.write(json.dumps({"rk": method.routing_key, "ct": props.content_type,
                                              "type": props.type, "mid": props.message_id,
                                              "body": base64.b64encode(body).decode()}) + "\n")
                    ch.basic_ack(method.delivery_tag)
                    last_msg = time.monotonic()
                    if stop:
                        break
                if not got and a.idle and time.monotonic() - last_msg > a.idle:
                    return
            try:
                ch.cancel()
                conn.close()
            except Exception:
                pass
        except Exception:
            time.sleep(0.2)  # broker went away: reconnect


def cmd_publish(a):
    import pika
    conn = connect(a.port)
    ch = conn.channel()
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type=a.content_type or None, type=a.type or None,
                                 delivery_mode=2)
    ch.basic_publish(exchange=a.exchange, routing_key=a.routing_key, body=a.body.encode("utf-8", "surrogateescape"),
                     properties=props, mandatory=True)
    conn.close()


def cmd_report(a):
    runs = {}
    for line in open(a.file):
        r = json.loads(line)
        runs.setdefault(r["run"], []).append(r["seq"])
    report = {}
    for run, seqs in runs.items():
        uniq = set(seqs)
        top = max(uniq)
        first = []
        seen = set()
        for s in seqs:
            if s not in seen:
                seen.add(s)
                first.append(s)
        report[run] = {"messages": len(seqs), "unique": len(uniq),
                       "duplicates": len(seqs) - len(uniq), "max": top,
                       "gaps": sorted(set(range(1, top + 1)) - uniq)[:50],
                       "ngaps": top - len(uniq),
                       "ordered": first == sorted(first)}
    json.dump(report, sys.stdout, sort_keys=True)
    print()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("consume", "declare"):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--queue", default="sbtest")
        s.add_argument("--exchange", default="sensorbus")
        s.add_argument("--binding", default="#")
        s.add_argument("--max-length", type=int, default=0)
        s.add_argument("--queue-type", default="classic", choices=("classic", "quorum"))
        if name == "consume":
            s.add_argument("--out", required=True)
            s.add_argument("--idle", type=float, default=0)
            s.add_argument("--pb", default="", help="where sensorbus/v1/events_pb2.py is")
            s.add_argument("--raw", action="store_true")
    s = sub.add_parser("publish")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--exchange", default="sensorbus")
    s.add_argument("--routing-key", required=True)
    s.add_argument("--content-type", default="")
    s.add_argument("--type", default="")
    s.add_argument("--body", required=True)
    s = sub.add_parser("report")
    s.add_argument("file")
    a = p.parse_args()
    {"consume": cmd_consume, "declare": cmd_declare, "publish": cmd_publish,
     "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
