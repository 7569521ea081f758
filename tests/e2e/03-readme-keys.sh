# The README's generated parts are current: its config key tables are the
# binary's own, and its included sections equal docs/*.md. Regenerate with
# scripts/update-readme.sh.
. "$(dirname "$0")/lib.sh"
"$SB_BIN" --help | grep -q 'not in this build' && skip "the README documents the BPF build; this binary was built with BPF=0"
cp "$SB_ROOT/README.md" "$TMP/README.md"
mkdir -p "$TMP/r/scripts" "$TMP/r/docs"
cp "$SB_ROOT/README.md" "$TMP/r/"
cp "$SB_ROOT/scripts/update-readme.sh" "$TMP/r/scripts/"
cp "$SB_ROOT"/docs/*.md "$TMP/r/docs/" 2>/dev/null || true
sh "$TMP/r/scripts/update-readme.sh" "$SB_BIN"
diff -u "$SB_ROOT/README.md" "$TMP/r/README.md" >"$TMP/diff" ||
	fail "README is stale (run scripts/update-readme.sh): $(head -30 "$TMP/diff")"
ok "README's key tables and included sections are current"
