# docs/config.md's generated key tables are current: they equal what the
# binary's own key tables print (sensorbus config-keys). Regenerate with
# scripts/update-docs.sh.
. "$(dirname "$0")/lib.sh"
"$SB_BIN" --help | grep -q 'not in this build' && skip "docs/config.md documents the BPF build; this binary was built with BPF=0"
mkdir -p "$TMP/r/scripts" "$TMP/r/docs"
cp "$SB_ROOT/scripts/update-docs.sh" "$TMP/r/scripts/"
cp "$SB_ROOT/docs/config.md" "$TMP/r/docs/"
sh "$TMP/r/scripts/update-docs.sh" "$SB_BIN" || fail "scripts/update-docs.sh failed"
diff -u "$SB_ROOT/docs/config.md" "$TMP/r/docs/config.md" >"$TMP/diff" ||
	fail "docs/config.md is stale (run scripts/update-docs.sh): $(head -30 "$TMP/diff")"
ok "docs/config.md's key tables are current"
