# algod's data directory belongs to the algod user: nothing written there
# may stop the agent or make it send a file it can read and algod cannot.
# A FIFO named algod.token (or algod.net) is refused at once: --duration
# ends on time and SIGTERM works. A token that is a symlink to a root-only
# file, group-writable, or owned by another user is refused with one line
# naming it, and the listener at algod.net never sees the secret; algod is
# up 0 and the agent keeps running.
. "$(dirname "$0")/lib.sh"

data="$TMP/data"
mkdir -p "$data"
# The fake algod: answers every path and records each token it is sent.
cat >"$TMP/listen.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
log = open(sys.argv[2], "a", buffering=1)
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        log.write("%s token=%s\n" % (self.path, self.headers.get("X-Algo-API-Token")))
        if self.path == "/metrics":
            body, ctype = b"algod_ledger_round 7\n", "text/plain; version=0.0.4"
        elif self.path == "/v2/status":
            body, ctype = (b'{"last-round":7,"time-since-last-round":1,"catchup-time":0}',
                           "application/json")
        else:
            body, ctype = b"", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write("127.0.0.1:%d\n" % srv.server_address[1])
import os
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
PY
python3 "$TMP/listen.py" "$data/algod.net" "$TMP/seen.log" 2>"$TMP/listen.err" &
track_pid $!
wait_for 10 test -s "$data/algod.net" || fail "the fake algod did not start"
cp "$data/algod.net" "$TMP/algod.net.good"

cat >"$TMP/c.json" <<JSON
{"sensors":{"algod":{"data_dir":"$data","interval":"300ms","timeout":"200ms"}}}
JSON

# run NAME: the agent for 1.5 s, bounded to 20 s; its events in NAME.jsonl
run() {
	t0=$(date +%s)
	timeout -k 2 20 "$SB_BIN" --duration 1500ms --sensors algod -c "$TMP/c.json" \
		-o "$TMP/$1.jsonl" 2>"$TMP/$1.log"
	rc=$?
	[ $rc -eq 0 ] || fail "$1: exit $rc (124: --duration did not end it): $(tail -3 "$TMP/$1.log")"
	[ $(($(date +%s) - t0)) -le 8 ] || fail "$1: took $(($(date +%s) - t0)) s for --duration 1500ms"
}
# ups NAME: the up values of its algod events, one line
ups() { pyq '[s["value"] for s in ev["samples"] if s["name"] == "up"][0]' "$TMP/$1.jsonl" | sort -u | tr '\n' ' '; }
# one_line NAME TEXT: TEXT is logged, and once only
one_line() {
	n=$(grep -c -- "$2" "$TMP/$1.log")
	[ "$n" -eq 1 ] || fail "$1: $n lines with '$2' (want 1): $(cat "$TMP/$1.log")"
}

# ---- a good token: sent (the checks refuse only what they must) ----
printf 'goodtoken\n' >"$data/algod.token"
chmod 600 "$data/algod.token"
run good
[ "$(ups good)" = "1 " ] || fail "good token: up $(ups good); $(cat "$TMP/good.log")"
grep -q 'token=goodtoken' "$TMP/seen.log" || fail "the good token was not sent"
ok "a private token of the directory's owner: sent, up 1"

# ---- a FIFO: never waited on ----
rm "$data/algod.token"
mkfifo "$data/algod.token"
run fifo
[ "$(ups fifo)" = "0 " ] || fail "fifo: up $(ups fifo)"
one_line fifo "$data/algod.token: a FIFO, not a regular file"
# and SIGTERM while it is there
"$SB_BIN" --sensors algod -c "$TMP/c.json" -o "$TMP/term.jsonl" 2>"$TMP/term.log" &
agent=$!
track_pid $agent
wait_for 10 grep -q '"source":"algod"' "$TMP/term.jsonl" || fail "no algod round with the FIFO"
kill -TERM $agent
i=0
while kill -0 $agent 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $agent 2>/dev/null && fail "SIGTERM did not stop the agent within 10 s"
wait $agent || fail "exit $? after SIGTERM"
rm "$data/algod.token"
ok "a FIFO named algod.token: refused at once, one line, --duration and SIGTERM on time"

mv "$data/algod.net" "$TMP/net.moved"
mkfifo "$data/algod.net"
printf 'goodtoken\n' >"$data/algod.token"
run fifonet
[ "$(ups fifonet)" = "0 " ] || fail "fifo net: up $(ups fifonet)"
grep -q "$data/algod.net: a FIFO, not a regular file" "$TMP/fifonet.log" ||
	fail "no line about the FIFO algod.net: $(cat "$TMP/fifonet.log")"
rm "$data/algod.net"
mv "$TMP/net.moved" "$data/algod.net"
ok "a FIFO named algod.net: refused at once"

# ---- a symlink to a root-only file: not followed, never sent ----
secret="$TMP/root-only"
printf 'ROOTSECRET%s\n' "$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$secret"
chmod 600 "$secret"
rm "$data/algod.token"
ln -s "$secret" "$data/algod.token"
: >"$TMP/seen.log"
run link
grep -q ROOTSECRET "$TMP/seen.log" && fail "the root-only file was sent to the listener"
grep -q '^/metrics' "$TMP/seen.log" || fail "algod was not scraped at all"
[ "$(ups link)" = "0 " ] || fail "link: up $(ups link)"
one_line link "$data/algod.token: a symbolic link, not followed"
grep -q ROOTSECRET "$TMP/link.log" "$TMP/link.jsonl" && fail "the secret was logged"
ok "a token linked to a root-only file: not followed, not sent, one line"

# token_file set to such a link: the same
cat >"$TMP/c.json" <<JSON
{"sensors":{"algod":{"data_dir":"$data","token_file":"$data/algod.token","interval":"300ms",
                     "timeout":"200ms"}}}
JSON
run link2
grep -q ROOTSECRET "$TMP/seen.log" && fail "token_file: the root-only file was sent"
one_line link2 "a symbolic link, not followed"
rm "$data/algod.token"
ok "token_file naming a link: not followed"

# ---- group-writable, or another user's: refused ----
printf 'weaktoken\n' >"$data/algod.token"
chmod 664 "$data/algod.token"
run gw
grep -q 'token=weaktoken' "$TMP/seen.log" && fail "a group-writable token was sent"
one_line gw "$data/algod.token: writable by group or others (mode 0664)"
[ "$(ups gw)" = "0 " ] || fail "group-writable: up $(ups gw)"
chmod 600 "$data/algod.token"
[ "$(id -u)" = 0 ] || skip "not root: the files of another user cannot be made (the rest passed)"
chown 54321:54321 "$data/algod.token"
run foreign
grep -q 'token=weaktoken' "$TMP/seen.log" && fail "another user's token was sent"
one_line foreign "$data/algod.token: owned by uid 54321, not by root or its directory's owner (uid 0)"
# the data directory and its token both the algod user's: fine
chown 54321:54321 "$data"
run owner
grep -q 'token=weaktoken' "$TMP/seen.log" || fail "the directory owner's token was not sent"
[ "$(ups owner)" = "1 " ] || fail "owner's token: up $(ups owner)"
ok "group-writable or another user's token refused; the directory owner's is used"
