# make deb's package: the man page documents every option of --help and
# renders without warnings; lintian finds no error; installed with apt-get it
# has its files, creates the sensorbus user, its unit passes systemd-analyze
# verify and is neither enabled nor active, an upgrade keeps an edited config,
# the binary runs; removed it keeps config and logs; purged, nothing of it is
# left, the user neither (docs/packaging.md). Uses SB_DEB if set, else
# builds it (make deb BUILD=$SB_BUILD). Never leaves the package installed:
# the exit trap purges it, and puts back what it moved aside.
. "$(dirname "$0")/lib.sh"

man="$SB_ROOT/man/sensorbus.8"
# The man page and --help in step: every long option and every command.
LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man" >"$TMP/groff.txt" 2>&1 ||
	fail "groff: $(cat "$TMP/groff.txt")"
[ -s "$TMP/groff.txt" ] && fail "groff warns on man/sensorbus.8: $(cat "$TMP/groff.txt")"
LC_ALL=C groff -man -Tascii "$man" 2>/dev/null | col -bx >"$TMP/man.txt"
"$SB_BIN" --help >"$TMP/help.txt" || fail "sensorbus --help"
opts=$(grep -o -- '--[a-z][a-z-]*' "$TMP/help.txt" | sort -u)
cmds=$(sed -n '/^Commands:/,/^$/p' "$TMP/help.txt" | awk 'NR > 1 && NF {print $1}')
[ -n "$opts" ] && [ -n "$cmds" ] || fail "no options or commands in --help"
for w in $opts $cmds; do
	grep -q -- "$w" "$TMP/man.txt" || fail "man/sensorbus.8 does not document $w"
done
v=$("$SB_BIN" --version | awk '{print $2}')
grep -q "^\.TH SENSORBUS 8 .* \"sensorbus $v\"" "$man" || fail "man/sensorbus.8 is not for version $v"
for s in SYNOPSIS OPTIONS COMMANDS CONFIGURATION SIGNALS "EXIT STATUS" FILES; do
	grep -q "^$s" "$TMP/man.txt" || fail "man/sensorbus.8 has no $s section"
done
ok "man page: every option and command of --help, renders without warnings"

[ "$(id -u)" -eq 0 ] || skip "not root: installing a package needs root"
for t in dpkg-buildpackage dh lintian apt-get systemd-analyze man; do
	command -v "$t" >/dev/null || skip "$t not installed (scripts/deps.sh test)"
done

# A package left by an earlier run that was killed carries this mark; one
# installed by anyone else is not ours to purge.
mark=/run/sensorbus-e2e-76.installed
state=$(dpkg-query -W -f='${db:Status-Status}' sensorbus 2>/dev/null || true)
if [ -n "$state" ] && [ "$state" != not-installed ]; then
	[ -e "$mark" ] || skip "a sensorbus package is installed ($state), not by this test"
	apt-get purge -y -qq sensorbus >/dev/null 2>&1 || fail "cannot purge the package an earlier run left"
	echo "note: purged the package an earlier run of this test left"
fi

user_before=0
getent passwd sensorbus >/dev/null && user_before=1
moved=""
purge() {
	state=$(dpkg-query -W -f='${db:Status-Status}' sensorbus 2>/dev/null || true)
	if [ -n "$state" ] && [ "$state" != not-installed ]; then
		apt-get purge -y -qq -o DPkg::Lock::Timeout=120 sensorbus >"$TMP/purge.txt" 2>&1
	fi
}
restore() {
	[ -e "$mark" ] && purge
	rm -f "$mark"
	for d in $moved; do
		rm -rf "$d" && mv "$d.e2e-76" "$d"
	done
	_cleanup
}
trap restore EXIT
trap 'exit 1' INT TERM

# Purge removes these; ones already here (a make install, an agent run with
# the built-in defaults) are moved aside and put back.
for d in /etc/sensorbus /var/lib/sensorbus /var/log/sensorbus; do
	[ -e "$d.e2e-76" ] && fail "$d.e2e-76 exists: left by a killed run; put it back as $d"
	if [ -e "$d" ]; then
		mv "$d" "$d.e2e-76" || fail "cannot move $d aside"
		moved="$moved $d"
	fi
done

deb=${SB_DEB:-}
if [ -z "$deb" ]; then
	out=${SB_BUILD:-$TMP/build}
	case "$out" in /*) ;; *) out="$SB_ROOT/$out" ;; esac
	rm -f "$out"/sensorbus_*.deb
	make -s -C "$SB_ROOT" deb BUILD="$out" >"$TMP/deb.txt" 2>&1 ||
		fail "make deb: $(tail -20 "$TMP/deb.txt")"
	deb=$(ls "$out"/sensorbus_*_"$(dpkg --print-architecture)".deb 2>/dev/null | tail -1)
fi
[ -f "$deb" ] || fail "no package at '$deb'"
ok "package $(basename "$deb")"

# lintian says it would rather not run as root (CI runs as root): not a tag.
lintian --fail-on error "$deb" \
	>"$TMP/lintian.txt" 2>&1 || fail "lintian: $(cat "$TMP/lintian.txt")"
grep -q '^E:' "$TMP/lintian.txt" && fail "lintian errors: $(grep '^E:' "$TMP/lintian.txt")"
grep '^W:' "$TMP/lintian.txt" | sed 's/^/note: lintian /'
ok "lintian: no errors"

touch "$mark"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	-o DPkg::Lock::Timeout=120 "$deb" >"$TMP/install.txt" 2>&1 ||
	fail "apt-get install: $(tail -20 "$TMP/install.txt")"
dpkg-query -W -f='${db:Status-Abbrev}' sensorbus | grep -q '^ii' || fail "not installed after apt-get"
dpkg -L sensorbus >"$TMP/files.txt"
for f in /usr/bin/sensorbus /lib/systemd/system/sensorbus.service \
	/usr/lib/sysusers.d/sensorbus.conf /etc/sensorbus/sensorbus.json \
	/usr/share/man/man8/sensorbus.8.gz /usr/share/doc/sensorbus/copyright \
	/usr/share/doc/sensorbus/changelog.Debian.gz /usr/share/sensorbus/alerts.yml; do
	grep -qx "$f" "$TMP/files.txt" || fail "the package has no $f"
	[ -f "$f" ] || fail "$f not installed"
done
grep -qx /etc/sensorbus/sensorbus.json /var/lib/dpkg/info/sensorbus.conffiles ||
	fail "/etc/sensorbus/sensorbus.json is not a conffile"
grep -q '^ExecStart=/usr/bin/sensorbus --config /etc/sensorbus/sensorbus.json$' \
	/lib/systemd/system/sensorbus.service || fail "installed unit's ExecStart"
ok "files: binary, unit, sysusers entry, conffile, man page, docs"

getent passwd sensorbus >"$TMP/user.txt" || fail "no sensorbus user after install"
IFS=: read -r _ _ uid _ _ home shell <"$TMP/user.txt"
[ "$uid" -lt 1000 ] || fail "sensorbus user has uid $uid: not a system user"
[ "$home" = /var/lib/sensorbus ] && [ "$shell" = /usr/sbin/nologin ] ||
	fail "sensorbus user: home $home, shell $shell"
getent group sensorbus >/dev/null || fail "no sensorbus group"
# A user left by an older package (or made by hand) is taken as it is: the
# installed entry must create it in an empty root too.
mkdir -p "$TMP/sysroot/etc" "$TMP/sysroot/usr/lib/sysusers.d"
cp /usr/lib/sysusers.d/sensorbus.conf "$TMP/sysroot/usr/lib/sysusers.d/"
systemd-sysusers --root="$TMP/sysroot" sensorbus.conf >"$TMP/sysusers.txt" 2>&1 ||
	fail "systemd-sysusers: $(cat "$TMP/sysusers.txt")"
grep -q '^sensorbus:x:[0-9]*:[0-9]*:.*:/var/lib/sensorbus:/usr/sbin/nologin$' \
	"$TMP/sysroot/etc/passwd" || fail "the sysusers entry creates no sensorbus user"
ok "user sensorbus (uid $uid$([ $user_before = 1 ] && echo ', there before'))"

systemd-analyze verify /lib/systemd/system/sensorbus.service >"$TMP/verify.txt" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$TMP/verify.txt")"
[ -s "$TMP/verify.txt" ] && fail "systemd-analyze verify warns: $(cat "$TMP/verify.txt")"
# Enabling means a symlink in a .wants directory; the package's record says
# what it would enable, and must not have done it.
ls /etc/systemd/system/*.wants/sensorbus.service 2>/dev/null && fail "the unit is enabled"
DPKG_MAINTSCRIPT_PACKAGE=sensorbus deb-systemd-helper --quiet was-enabled sensorbus.service &&
	fail "deb-systemd-helper: the unit was enabled"
en=$(systemctl is-enabled sensorbus.service 2>&1)
[ "$en" = disabled ] || fail "systemctl is-enabled: $en"
if [ -d /run/systemd/system ]; then
	systemctl is-active -q sensorbus.service && fail "the unit is active"
fi
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/sensorbus ] &&
		fail "the package started /usr/bin/sensorbus (pid ${p#/proc/})"
done
ok "unit verifies; neither enabled nor active"

# An upgrade (the same package as the next revision) keeps an edited config
# and still enables and starts nothing.
dpkg-deb -R "$deb" "$TMP/next" || fail "dpkg-deb -R $deb"
sed -i 's/^Version: .*/&+e2e1/' "$TMP/next/DEBIAN/control"
dpkg-deb -b "$TMP/next" "$TMP/next.deb" >/dev/null || fail "cannot repack $deb"
sed -i 's/"interval": "5s"/"interval": "7s"/' /etc/sensorbus/sensorbus.json
grep -q '"7s"' /etc/sensorbus/sensorbus.json || fail "the packaged config has no \"interval\": \"5s\""
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	-o DPkg::Lock::Timeout=120 "$TMP/next.deb" >"$TMP/upgrade.txt" 2>&1 ||
	fail "upgrade: $(tail -20 "$TMP/upgrade.txt")"
dpkg-query -W -f='${Version}' sensorbus | grep -q '+e2e1$' || fail "not upgraded"
grep -q '"7s"' /etc/sensorbus/sensorbus.json || fail "the upgrade replaced the edited config"
en=$(systemctl is-enabled sensorbus.service 2>&1)
[ "$en" = disabled ] || fail "after the upgrade systemctl is-enabled: $en"
ok "upgrade: edited config kept, unit still disabled"

/usr/bin/sensorbus --version >"$TMP/version.txt" || fail "sensorbus --version"
grep -q "^sensorbus $(dpkg-query -W -f='${Version}' sensorbus | sed 's/-[^-]*$//') " \
	"$TMP/version.txt" || fail "--version says: $(cat "$TMP/version.txt")"
/usr/bin/sensorbus --check-config -c /etc/sensorbus/sensorbus.json >/dev/null 2>"$TMP/err" ||
	fail "the packaged config: $(cat "$TMP/err")"
LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l /usr/share/man/man8/sensorbus.8.gz \
	>"$TMP/man.out" 2>"$TMP/man.err" || fail "man: $(cat "$TMP/man.err")"
[ -s "$TMP/man.err" ] && fail "man warns: $(cat "$TMP/man.err")"
grep -q 'sensorbus - low-overhead' "$TMP/man.out" || fail "installed man page renders no NAME"
ok "$(cat "$TMP/version.txt"); the packaged config checks; man sensorbus renders"

# What the service makes as it runs (StateDirectory=, LogsDirectory=): one
# round as the sensorbus user, so purge has something of its own to remove.
install -d -o sensorbus -g sensorbus -m 0750 /var/lib/sensorbus/spool /var/log/sensorbus
setpriv --reuid=sensorbus --regid=sensorbus --clear-groups /usr/bin/sensorbus --once --no-bpf \
	--sensors proc -o /var/log/sensorbus/events.jsonl --log-level warn 2>"$TMP/run.txt" ||
	fail "one round as sensorbus: $(cat "$TMP/run.txt")"
[ -s /var/log/sensorbus/events.jsonl ] || fail "no events in /var/log/sensorbus/events.jsonl"
echo '{}' >/etc/sensorbus/extra.json

# Remove keeps the config, state and logs for a later install; purge does not.
apt-get remove -y -qq -o DPkg::Lock::Timeout=120 sensorbus >"$TMP/remove.txt" 2>&1 ||
	fail "apt-get remove: $(cat "$TMP/remove.txt")"
state=$(dpkg-query -W -f='${db:Status-Status}' sensorbus 2>/dev/null)
[ "$state" = config-files ] || fail "after remove the package is $state, not config-files"
[ -e /usr/bin/sensorbus ] && fail "remove left /usr/bin/sensorbus"
for f in /etc/sensorbus/sensorbus.json /var/log/sensorbus/events.jsonl; do
	[ -f "$f" ] || fail "remove took $f"
done
ok "remove: binary gone; config, state and logs kept"

apt-get purge -y -qq -o DPkg::Lock::Timeout=120 sensorbus >"$TMP/purge.txt" 2>&1 ||
	fail "apt-get purge: $(cat "$TMP/purge.txt")"
rm -f "$mark"
state=$(dpkg-query -W -f='${db:Status-Status}' sensorbus 2>/dev/null || true)
[ -z "$state" ] || [ "$state" = not-installed ] || fail "after purge the package is $state"
# Every file of the package gone; a directory may stay only when another
# package owns it too (/usr/bin, /lib/systemd/system ...). /lib is a link to
# /usr/lib on a merged /usr, and / is /.
while read -r f; do
	if [ "$f" = /. ] || { [ -L "$f" ] && [ -d "$f" ]; }; then
		continue
	elif [ -d "$f" ]; then
		dpkg -S "$f" >/dev/null 2>&1 || fail "purge left the directory $f"
	elif [ -e "$f" ] || [ -L "$f" ]; then
		fail "purge left $f"
	fi
done <"$TMP/files.txt"
for d in /etc/sensorbus /var/lib/sensorbus /var/log/sensorbus \
	/var/lib/systemd/deb-systemd-helper-enabled/sensorbus.service.dsh-also; do
	[ -e "$d" ] && fail "purge left $d"
done
getent passwd sensorbus >/dev/null && fail "purge left the sensorbus user"
getent group sensorbus >/dev/null && fail "purge left the sensorbus group"
ok "purge: no file, config, state, log, user or group left"
