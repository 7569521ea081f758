#!/bin/sh
# Regenerates the generated part of the docs: the config key tables in
# docs/config.md, between <!-- config-keys:begin --> and
# <!-- config-keys:end -->, from the binary's own key tables.
#   scripts/update-docs.sh [build/sensorbus]
# e2e 03 fails when docs/config.md differs from what this writes.
set -eu
bin=${1:-build/sensorbus}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
cd "$(dirname "$0")/.."
doc=docs/config.md
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.keys"' EXIT
"$bin" config-keys >"$tmp.keys"
grep -q '<!-- config-keys:begin -->' "$doc" && grep -q '<!-- config-keys:end -->' "$doc" || {
	echo "update-docs: $doc has no <!-- config-keys:begin/end --> markers" >&2
	exit 1
}
awk -v keys="$tmp.keys" '
/<!-- config-keys:begin -->/ { print; while ((getline l < keys) > 0) print l; close(keys); skip = 1; next }
/<!-- config-keys:end -->/ { skip = 0 }
!skip { print }
' "$doc" >"$tmp"
cat "$tmp" >"$doc"
