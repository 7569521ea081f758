#!/bin/sh
# Regenerates the config key tables in README.md from the binary's own key
# tables: scripts/update-readme.sh [build/sensorbus]
set -eu
bin=${1:-build/sensorbus}
cd "$(dirname "$0")/.."
tmp=$(mktemp)
"$bin" config-keys >"$tmp.keys"
awk -v keys="$tmp.keys" '
/<!-- config-keys:begin -->/ { print; while ((getline l < keys) > 0) print l; skip = 1; next }
/<!-- config-keys:end -->/ { skip = 0 }
!skip { print }
' README.md >"$tmp"
mv "$tmp" README.md
rm -f "$tmp.keys"
