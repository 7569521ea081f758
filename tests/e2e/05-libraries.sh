# Optional libraries are opened only when a configured sensor or sink needs
# them: an agent with procfs sensors and a file sink maps neither libcurl
# nor libmicrohttpd nor librabbitmq (nor GnuTLS or OpenSSL under them, nor
# libm); a scrape sensor brings libcurl in, a prom sink libmicrohttpd, an
# amqp sink librabbitmq.
. "$(dirname "$0")/lib.sh"

# maps_of CONFIG: starts the agent on CONFIG, copies its memory map to
# $TMP/maps once it runs, stops it.
maps_of() {
	printf '%s' "$1" >"$TMP/c.json"
	# emptied here, not by the agent's redirection, which the child makes
	# after the fork: the wait below could see the last agent's line
	: >"$TMP/err"
	"$SB_BIN" -c "$TMP/c.json" --no-bpf --duration 30s 2>>"$TMP/err" &
	pid=$!
	track_pid $pid
	wait_for 15 grep -q 'sinks \[.*\], interval' "$TMP/err" || fail "the agent did not start: $(cat "$TMP/err")"
	cp /proc/$pid/maps "$TMP/maps"
	kill -TERM $pid
	wait $pid || fail "the agent exited $?: $(cat "$TMP/err")"
}

maps_of "{\"sensors\":{\"proc\":{}},\"sinks\":[{\"type\":\"file\",\"path\":\"$TMP/a.jsonl\"}]}"
# (an ASan build's runtime brings libm itself)
libm=libm.so
grep -q libasan "$TMP/maps" && libm=""
for lib in libcurl libmicrohttpd librabbitmq libgnutls libssl libcrypto $libm; do
	! grep -q "/$lib" "$TMP/maps" || fail "$lib is mapped by an agent that does not use it"
done
ok "procfs sensors and a file sink: no libcurl, libmicrohttpd, librabbitmq, GnuTLS, OpenSSL or libm mapped"

port=$(free_port)
maps_of "{\"sensors\":{\"scrape\":{\"targets\":[{\"name\":\"t\",\"url\":\"http://127.0.0.1:$port/metrics\"}]}},
 \"sinks\":[{\"type\":\"prom\",\"listen\":\"127.0.0.1:$(free_port)\"},
  {\"type\":\"amqp\",\"url\":\"amqp://guest:guest@127.0.0.1:$(free_port)/\",\"spool_dir\":\"$TMP/spool\"}]}"
grep -q '/libcurl' "$TMP/maps" || fail "a scrape sensor runs without libcurl mapped"
grep -q '/libmicrohttpd' "$TMP/maps" || fail "a prom sink runs without libmicrohttpd mapped"
grep -q '/librabbitmq' "$TMP/maps" || fail "an amqp sink runs without librabbitmq mapped"
ok "a scrape sensor opens libcurl, a prom sink libmicrohttpd, an amqp sink librabbitmq"
