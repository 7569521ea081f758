# RabbitMQ for the amqp e2e tests (POSIX sh; source after lib.sh).
# rabbit_start starts a private broker: its own node name, data dir under
# $TMP, epmd and AMQP ports picked free on 127.0.0.1; rabbit_stop stops it
# (the data survive, so rabbit_start brings the same broker back on the
# same port). Everything is stopped by PID on exit, never by name.
RABBIT_LIB=/usr/lib/rabbitmq/bin
RABBIT_DIR=$TMP/rabbit
RABBIT_NODE="sbtest$$@localhost"
RABBIT_PID=""
RABBIT_EPMD_PID=""
RABBIT_PORT=""

rabbitctl() {
	HOME=$RABBIT_DIR ERL_EPMD_PORT=$RABBIT_EPMD_PORT timeout 60 \
		"$RABBIT_LIB/rabbitmqctl" -n "$RABBIT_NODE" "$@"
}

rabbit_start() {
	[ -x "$RABBIT_LIB/rabbitmq-server" ] || skip "rabbitmq-server is not installed"
	command -v epmd >/dev/null 2>&1 || skip "epmd (erlang) is not installed"
	mkdir -p "$RABBIT_DIR"
	if [ -z "$RABBIT_PORT" ]; then
		RABBIT_PORT=$(free_port)
		RABBIT_DIST_PORT=$(free_port)
		RABBIT_EPMD_PORT=$(free_port)
		echo "[]." >"$RABBIT_DIR/plugins"
	fi
	if [ -z "$RABBIT_EPMD_PID" ]; then
		epmd -port "$RABBIT_EPMD_PORT" -address 127.0.0.1 >"$RABBIT_DIR/epmd.log" 2>&1 &
		RABBIT_EPMD_PID=$!
		track_pid "$RABBIT_EPMD_PID"
		# the broker would start a daemon epmd of its own, which we
		# could not stop by PID: ours must be up first
		wait_for 10 port_open "$RABBIT_EPMD_PORT" || fail "epmd did not start"
	fi
	# RABBIT_CONFIG: a rabbitmq.conf for this broker (e.g. a TLS listener)
	[ -n "${RABBIT_CONFIG:-}" ] && export RABBITMQ_CONFIG_FILE="$RABBIT_CONFIG"
	HOME=$RABBIT_DIR ERL_EPMD_PORT=$RABBIT_EPMD_PORT \
		RABBITMQ_MNESIA_BASE=$RABBIT_DIR/mnesia RABBITMQ_LOG_BASE=$RABBIT_DIR/log \
		RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RABBIT_PORT \
		RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT RABBITMQ_NODENAME=$RABBIT_NODE \
		RABBITMQ_ENABLED_PLUGINS_FILE=$RABBIT_DIR/plugins \
		RABBITMQ_FEATURE_FLAGS_FILE=$RABBIT_DIR/feature_flags \
		setsid "$RABBIT_LIB/rabbitmq-server" >>"$RABBIT_DIR/server.log" 2>&1 &
	RABBIT_PID=$!
	# The AMQP listener opens last in the boot; await_startup then only
	# confirms (before that it polls every 10 s).
	wait_for 60 port_open "$RABBIT_PORT" && rabbitctl await_startup -t 30 >/dev/null || {
		tail -20 "$RABBIT_DIR/server.log" >&2
		fail "rabbitmq-server did not start on port $RABBIT_PORT (see $RABBIT_DIR)"
	}
	echo "rabbit: node $RABBIT_NODE up on 127.0.0.1:$RABBIT_PORT (pid $RABBIT_PID)"
}

rabbit_stop() {
	[ -n "$RABBIT_PID" ] || return 0
	rabbitctl stop >/dev/null 2>&1
	i=0
	while kill -0 "$RABBIT_PID" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# the server runs in its own session: its group id is its PID
	kill -9 -- "-$RABBIT_PID" 2>/dev/null
	RABBIT_PID=""
	echo "rabbit: stopped"
}

_rabbit_cleanup() {
	rabbit_stop
	[ -n "$RABBIT_EPMD_PID" ] && kill "$RABBIT_EPMD_PID" 2>/dev/null
	# AMQP_KEEP=DIR keeps the logs and spools for a look after the test
	[ -n "${AMQP_KEEP:-}" ] && mkdir -p "$AMQP_KEEP" && cp -r "$TMP"/*.log "$TMP"/*.json* "$AMQP_KEEP"/ 2>/dev/null
	_cleanup
}
trap _rabbit_cleanup EXIT INT TERM

# The sink's accounting lines ("received=.. delivered=.. spooled=.. dropped=..
# in_flight=..") in a log must all satisfy the identity; prints the last.
check_accounting() {
	python3 - "$1" <<'PY'
import re, sys
last = None
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"received=(\d+) delivered=(\d+) spooled=(\d+) dropped=(\d+) in_flight=(\d+)", line)
    if not m:
        continue
    r, d, s, x, f = map(int, m.groups())
    if r != d + s + x + f:
        sys.exit("accounting broken: %s" % line.strip())
    last = m.group(0)
if last is None:
    sys.exit("no accounting line in " + sys.argv[1])
print(last)
PY
}

# acct_field FIELD LOG: the FIELD of the last accounting line
acct_field() {
	sed -n "s/.*closed: .*$1=\([0-9]*\).*/\1/p" "$2" | tail -1
}

# start_consumer OUT [consume options]: a consumer recording into OUT
start_consumer() {
	_out=$1
	shift
	$CONSUMER consume --port "$RABBIT_PORT" --out "$_out" --pb "$PB_DIR" "$@" &
	track_pid $!
	wait_for 20 test -f "$_out.ready" || fail "consumer did not start"
}

# Debian's python3, where python3-pika is (a pyenv on PATH may lack it)
CONSUMER="/usr/bin/python3 $SB_ROOT/tests/e2e/amqp_consumer.py"
/usr/bin/python3 -c "import pika" 2>/dev/null || skip "python3-pika is not installed"

# The fault tests run their scenario once per format in AMQP_FORMATS:
# "json" (one JSON event per message, the default) and "pb" (protobuf,
# batch_events 100). The consumer reads protobuf with a module protoc
# makes from the published schema, as a consumer elsewhere would.
AMQP_FORMATS=${AMQP_FORMATS:-json pb}
PB_DIR=""
if command -v protoc >/dev/null 2>&1 && /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null; then
	PB_DIR=$TMP/py
	mkdir -p "$PB_DIR"
	protoc -I "$SB_ROOT/proto" --python_out="$PB_DIR" sensorbus/v1/events.proto ||
		fail "protoc cannot compile proto/sensorbus/v1/events.proto"
else
	echo "note: format pb not run: protoc (protobuf-compiler) or python3-protobuf missing"
	AMQP_FORMATS=$(echo "$AMQP_FORMATS" | sed 's/pb//')
fi
# format_keys FORMAT: the sink keys of one
format_keys() {
	case $1 in
	json) echo '' ;;
	pb) echo ', "format": "protobuf", "batch_events": 100' ;;
	*) fail "unknown format $1" ;;
	esac
}
