#!/usr/bin/python3
"""The fleet's checker (e2e 71): what agents wrote against what consumers
wrote, by event identity.

fleet_check.py AGENT.jsonl... -- CONSUMER.jsonl...
  Every (host, run, seq) in the agents' own file sinks must be in some
  consumer's file, as the very same line (byte for byte). Prints, per
  host, sent, received unique, lost, duplicates and differing lines; exit
  0 only with nothing lost and nothing different. Lines of hosts that are
  no agent's (a consumer's own telemetry) are ignored.
fleet_check.py --pairs RUN RECEIVED CONSUMED.jsonl
  For amqp_consumer.py's records (run, seq): exit 0 only when seqs
  1..RECEIVED of RUN are all there (the negative control sees loss).
"""
import json
import sys


def key_of(line):
    ev = json.loads(line)
    return (ev["host"], ev["run"], ev["seq"])


def pairs(run, received, path):
    got = set()
    for line in open(path):
        r = json.loads(line)
        if r["run"] == run:
            got.add(r["seq"])
    missing = received - len(got & set(range(1, received + 1)))
    print("run %s: sent %d, in the queue %d, missing %d" % (run, received, len(got), missing))
    return 0 if missing == 0 else 1


def main(argv):
    if argv and argv[0] == "--pairs":
        return pairs(argv[1], int(argv[2]), argv[3])
    cut = argv.index("--")
    sent = {}
    for path in argv[:cut]:
        for line in open(path, "rb"):
            sent[key_of(line)] = line
    hosts = {k[0] for k in sent}
    seen, dups, differ = set(), {}, {}
    for path in argv[cut + 1:]:
        for line in open(path, "rb"):
            k = key_of(line)
            if k[0] not in hosts:
                continue
            if k in seen:
                dups[k[0]] = dups.get(k[0], 0) + 1
            seen.add(k)
            if sent.get(k, line) != line:
                differ[k[0]] = differ.get(k[0], 0) + 1
    bad = 0
    for h in sorted(hosts):
        mine = {k for k in sent if k[0] == h}
        lost = len(mine - seen)
        print("host %s: sent %d, received %d unique, lost %d, duplicates %d, differing %d"
              % (h, len(mine), len(mine & seen), lost, dups.get(h, 0), differ.get(h, 0)))
        bad += lost + differ.get(h, 0)
    print("duplicates total %d" % sum(dups.values()))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
