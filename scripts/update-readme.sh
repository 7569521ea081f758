#!/bin/sh
# Regenerates the generated parts of README.md: the config key tables (from
# the binary's own key tables) and the sections kept in docs/*.md.
#   scripts/update-readme.sh [build/sensorbus]
# Markers: <!-- config-keys:begin/end -->, <!-- include:docs/X.md:begin/end -->
set -eu
bin=${1:-build/sensorbus}
cd "$(dirname "$0")/.."
tmp=$(mktemp)
"$bin" config-keys >"$tmp.keys"
awk -v keys="$tmp.keys" '
/<!-- config-keys:begin -->/ { print; while ((getline l < keys) > 0) print l; close(keys); skip = 1; next }
/<!-- config-keys:end -->/ { skip = 0 }
/<!-- include:.*:begin -->/ {
	print
	f = $0; sub(/.*<!-- include:/, "", f); sub(/:begin -->.*/, "", f)
	while ((getline l < f) > 0) print l
	close(f)
	skip = 1; next
}
/<!-- include:.*:end -->/ { skip = 0 }
!skip { print }
' README.md >"$tmp"
mv "$tmp" README.md
rm -f "$tmp.keys"
