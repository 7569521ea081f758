#!/bin/sh
# Installs the Debian packages a task needs, only those missing, and says
# what it installs. Usage: scripts/deps.sh [build|test|bench|soak|all]...
# Services that packages would start on install (rabbitmq, prometheus,
# node_exporter) are kept from starting: the tests start their own, on
# loopback, and stop them by PID.
set -eu

build_pkgs="gcc make pkg-config libc6-dev libcjson-dev libcurl4-openssl-dev \
librabbitmq-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev libcap-dev libbpf-dev libelf-dev zlib1g-dev clang llvm bpftool \
libsnappy-dev libdeflate-dev"
test_pkgs="libcmocka-dev python3 curl procps util-linux iproute2 rabbitmq-server \
prometheus prometheus-node-exporter python3-pika python3-prometheus-client libclang-rt-14-dev openssl \
protobuf-compiler python3-protobuf python3-fusepy fuse3 prometheus-process-exporter python3-snappy \
clang-format debhelper dpkg-dev lintian man-db gnuplot-nox"
bench_pkgs="linux-perf valgrind hyperfine libbpf-tools python3-prometheus-client strace"
# make soak: the test set's servers, and gnuplot for its plots
soak_pkgs="gnuplot-nox"

want=""
[ $# -eq 0 ] && set -- build
for what in "$@"; do
	case "$what" in
	build) want="$want $build_pkgs" ;;
	test) want="$want $build_pkgs $test_pkgs" ;;
	bench) want="$want $build_pkgs $test_pkgs $bench_pkgs" ;;
	soak) want="$want $build_pkgs $test_pkgs $soak_pkgs" ;;
	all) want="$want $build_pkgs $test_pkgs $bench_pkgs $soak_pkgs" ;;
	*) echo "deps.sh: unknown set '$what' (build, test, bench, soak, all)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: missing packages:$missing (and no apt-get here; install them by hand)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root (or install them) first" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
# keep package scripts from starting daemons (restored on exit)
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	created_policy=1
fi
cleanup() { [ "$created_policy" = 1 ] && rm -f "$policy"; return 0; }
trap cleanup EXIT INT TERM
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/tmp/sensorbus-deps.log 2>&1 || {
	echo "deps.sh: apt-get install failed; the last lines of /tmp/sensorbus-deps.log:" >&2
	tail -20 /tmp/sensorbus-deps.log >&2
	exit 1
}
# A package may have started its service anyway (no policy-rc.d honoured):
# stop the system-wide instances so the tests' own ports and nodes are free.
for svc in rabbitmq-server prometheus prometheus-node-exporter; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$svc" 2>/dev/null; then
		systemctl stop "$svc" 2>/dev/null || true
		systemctl disable "$svc" 2>/dev/null || true
	fi
done
echo "deps.sh: done"
