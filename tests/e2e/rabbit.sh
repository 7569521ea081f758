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
		echo "sockets on port $RABBIT_PORT:" >&2
		who_holds "$RABBIT_PORT" >&2
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

# ---- a cluster of N nodes on this machine (e2e 70) ----
# rabbit_cluster_start N starts nodes sbtI$$@localhost (I = 1..N), each with
# its own ports, data and pid file, one epmd and one Erlang cookie for all
# (written before any node starts: parallel boots race to make it
# otherwise); nodes 2..N join node 1 on their first boot (classic_config
# peer discovery). rabbit_node_kill9 I and rabbit_node_start I take one
# node down and back, by the pid in its own pid file. RC_PORTS lists the
# AMQP ports in node order.
RC_N=0
RC_PORTS=""
RC_HOME=$TMP/rabbit/home

rc_get() { eval "echo \${$1$2:-}"; }

rabbit_node_ctl() { # I ARGS...: rabbitmqctl against node I
	_i=$1
	shift
	HOME=$RC_HOME ERL_EPMD_PORT=$RABBIT_EPMD_PORT timeout 60 \
		"$RABBIT_LIB/rabbitmqctl" -n "sbt$_i$$@localhost" "$@"
}

rabbit_node_start() { # I
	_d=$TMP/rabbit/n$1
	mkdir -p "$_d"
	if [ ! -f "$_d/rabbitmq.conf" ]; then
		eval "RC_PORT$1=\$(free_port) RC_DIST$1=\$(free_port)"
		echo "[]." >"$_d/plugins"
		{
			# small-machine settings (three nodes share two cores and the
			# disk): alarms are cluster-wide, so no node may trip one
			echo "disk_free_limit.absolute = 100MB"
			echo "vm_memory_high_watermark.absolute = 1GiB"
			echo "raft.wal_max_size_bytes = 64000000"
			echo "listeners.tcp.default = 127.0.0.1:$(rc_get RC_PORT "$1")"
			if [ "$1" != 1 ]; then
				echo "cluster_formation.peer_discovery_backend = classic_config"
				echo "cluster_formation.classic_config.nodes.1 = sbt1$$@localhost"
			fi
		} >"$_d/rabbitmq.conf"
	fi
	HOME=$RC_HOME ERL_EPMD_PORT=$RABBIT_EPMD_PORT \
		RABBITMQ_MNESIA_BASE=$_d/mnesia RABBITMQ_LOG_BASE=$_d/log \
		RABBITMQ_NODE_PORT=$(rc_get RC_PORT "$1") RABBITMQ_DIST_PORT=$(rc_get RC_DIST "$1") \
		RABBITMQ_NODENAME="sbt$1$$@localhost" RABBITMQ_CONFIG_FILE=$_d/rabbitmq.conf \
		RABBITMQ_ENABLED_PLUGINS_FILE=$_d/plugins RABBITMQ_PID_FILE=$_d/pid \
		RABBITMQ_FEATURE_FLAGS_FILE=$_d/feature_flags \
		setsid "$RABBIT_LIB/rabbitmq-server" >>"$_d/server.log" 2>&1 &
	eval "RC_PGID$1=$!"
	track_pid $!
}

rabbit_node_wait() { # I SECONDS: the node is up and its AMQP listener open
	_p=$(rc_get RC_PORT "$1")
	wait_for "$2" port_open "$_p" && rabbit_node_ctl "$1" await_startup -t 30 >/dev/null || {
		tail -20 "$TMP/rabbit/n$1/server.log" >&2
		echo "sockets on port $_p:" >&2
		who_holds "$_p" >&2
		fail "node $1 did not start on port $_p (see $TMP/rabbit/n$1)"
	}
}

rabbit_node_pid() { cat "$TMP/rabbit/n$1/pid" 2>/dev/null; }

rabbit_node_kill9() { # I
	_pid=$(rabbit_node_pid "$1")
	[ -n "$_pid" ] || fail "node $1 has no pid file"
	kill -9 "$_pid"
	# what else runs in its session (erl_child_setup) goes with it
	kill -9 -- "-$(rc_get RC_PGID "$1")" 2>/dev/null
	rm -f "$TMP/rabbit/n$1/pid"
	echo "rabbit: node $1 (pid $_pid, port $(rc_get RC_PORT "$1")) killed -9"
}

rabbit_node_stop() { # I
	_g=$(rc_get RC_PGID "$1")
	[ -n "$_g" ] || return 0
	_pid=$(rabbit_node_pid "$1")
	[ -n "$_pid" ] && kill -TERM "$_pid" 2>/dev/null
	_n=0
	while [ -n "$_pid" ] && kill -0 "$_pid" 2>/dev/null && [ $_n -lt 100 ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	kill -9 -- "-$_g" 2>/dev/null
	eval "RC_PGID$1="
}

rabbit_cluster_start() { # N
	[ -x "$RABBIT_LIB/rabbitmq-server" ] || skip "rabbitmq-server is not installed"
	command -v epmd >/dev/null 2>&1 || skip "epmd (erlang) is not installed"
	RC_N=$1
	mkdir -p "$RC_HOME"
	python3 -c 'import secrets; print(secrets.token_hex(20).upper(), end="")' \
		>"$RC_HOME/.erlang.cookie"
	chmod 0400 "$RC_HOME/.erlang.cookie"
	RABBIT_EPMD_PORT=$(free_port)
	epmd -port "$RABBIT_EPMD_PORT" -address 127.0.0.1 >"$TMP/rabbit/epmd.log" 2>&1 &
	RABBIT_EPMD_PID=$!
	track_pid "$RABBIT_EPMD_PID"
	wait_for 10 port_open "$RABBIT_EPMD_PORT" || fail "epmd did not start"
	# node 1 first: the others join it as they boot
	rabbit_node_start 1
	rabbit_node_wait 1 90
	_i=2
	while [ $_i -le "$RC_N" ]; do
		rabbit_node_start $_i
		_i=$((_i + 1))
	done
	_i=2
	while [ $_i -le "$RC_N" ]; do
		rabbit_node_wait $_i 90
		_i=$((_i + 1))
	done
	RC_PORTS=""
	RC_URLS="" # the nodes as a JSON list's elements, for a config's urls
	_i=1
	while [ $_i -le "$RC_N" ]; do
		RC_PORTS="$RC_PORTS $(rc_get RC_PORT $_i)"
		RC_URLS="$RC_URLS${RC_URLS:+, }\"amqp://guest:guest@127.0.0.1:$(rc_get RC_PORT $_i)/\""
		_i=$((_i + 1))
	done
	_running=$(rabbit_node_ctl 1 eval 'length(rabbit_nodes:all_running()).' 2>/dev/null)
	# Not our code that failed: the machine cannot hold this cluster (a
	# host name that does not resolve, ports taken); say so and why.
	if [ "$_running" != "$RC_N" ]; then
		tail -5 "$TMP/rabbit/n2/log/"*.log >&2 2>/dev/null
		skip "the RabbitMQ cluster did not form here: $_running of $RC_N nodes running"
	fi
	echo "rabbit: cluster of $RC_N nodes up on ports$RC_PORTS"
}

_rabbit_cluster_cleanup() {
	_i=1
	while [ $_i -le "$RC_N" ]; do
		rabbit_node_stop $_i
		_i=$((_i + 1))
	done
	_rabbit_cleanup
}
