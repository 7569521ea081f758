# deploy/sensorbus.service passes systemd-analyze verify (with ExecStart on
# the binary under test) and its offline security review stays "OK"; make
# install puts binary, unit, sysusers entry, config and rules under DESTDIR
# with the install's paths, and keeps an existing config.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
sed "s|/usr/local/bin/sensorbus|$SB_BIN|" "$SB_ROOT/deploy/sensorbus.service" >"$TMP/sensorbus.service"
systemd-analyze verify "$TMP/sensorbus.service" >"$TMP/verify.txt" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$TMP/verify.txt")"
[ -s "$TMP/verify.txt" ] && fail "systemd-analyze verify warns: $(cat "$TMP/verify.txt")"
ok "systemd-analyze verify"

if systemd-analyze security --offline=yes "$TMP/sensorbus.service" >"$TMP/sec.txt" 2>&1; then
	score=$(sed -n 's/.*Overall exposure level for sensorbus.service: \([0-9.]*\) .*/\1/p' "$TMP/sec.txt")
	[ -n "$score" ] || fail "no exposure level in: $(tail -3 "$TMP/sec.txt")"
	awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "exposure level $score above 3.0"
	ok "systemd-analyze security: exposure $score"
else
	echo "note: systemd-analyze security --offline unsupported here: $(tail -1 "$TMP/sec.txt")"
fi

# An installed tree, built from the binary under test (-o all: no rebuild).
root="$TMP/root"
mkdir -p "$root/etc/sensorbus"
echo '{"interval":"2s"}' >"$root/etc/sensorbus/sensorbus.json"
make -s -C "$SB_ROOT" -o all install DESTDIR="$root" PREFIX=/usr BUILD="$(dirname "$SB_BIN")" \
	>"$TMP/install.txt" 2>&1 || fail "make install: $(cat "$TMP/install.txt")"
for f in usr/bin/sensorbus usr/lib/systemd/system/sensorbus.service \
	usr/lib/sysusers.d/sensorbus.conf usr/share/sensorbus/alerts.yml \
	usr/share/sensorbus/alerts_test.yml; do
	[ -f "$root/$f" ] || fail "make install did not install /$f"
done
grep -q '^ExecStart=/usr/bin/sensorbus --config /etc/sensorbus/sensorbus.json$' \
	"$root/usr/lib/systemd/system/sensorbus.service" || fail "installed unit's ExecStart"
grep -q '"2s"' "$root/etc/sensorbus/sensorbus.json" || fail "make install overwrote the config"
rm "$root/etc/sensorbus/sensorbus.json"
make -s -C "$SB_ROOT" -o all install DESTDIR="$root" PREFIX=/usr BUILD="$(dirname "$SB_BIN")" \
	>"$TMP/install.txt" 2>&1 || fail "make install: $(cat "$TMP/install.txt")"
cmp -s "$SB_ROOT/deploy/sensorbus.json" "$root/etc/sensorbus/sensorbus.json" ||
	fail "make install did not install the example config"
ok "make install with DESTDIR and PREFIX"

# The example config is valid for every sensor and sink this binary has
# (sections of sensors not built in yet are left out, and said so).
"$SB_BIN" --help | sed -n '/^Sensors:/,/^Sinks:/p' | awk 'NF && !/:$/ {print $1}' >"$TMP/sensors"
"$PY" - "$SB_ROOT/deploy/sensorbus.json" "$TMP/sensors" "$TMP/example.json" <<'PY' ||
import json, sys
cfg = json.load(open(sys.argv[1]))
known = set(open(sys.argv[2]).read().split())
gone = [s for s in cfg["sensors"] if s not in known]
for s in gone:
    del cfg["sensors"][s]
json.dump(cfg, open(sys.argv[3], "w"))
if gone:
    print("note: this binary has no", ", ".join(gone), "sensor: not checked")
PY
	fail "cannot read deploy/sensorbus.json"
"$SB_BIN" -c "$TMP/example.json" --check-config >"$TMP/eff.json" 2>"$TMP/err" ||
	fail "deploy/sensorbus.json: $(cat "$TMP/err")"
ok "deploy/sensorbus.json passes --check-config"
