# The README's config key tables are the binary's own: regenerate them with
# scripts/update-readme.sh when a key changes.
. "$(dirname "$0")/lib.sh"
"$SB_BIN" config-keys >"$TMP/keys"
awk '/<!-- config-keys:begin -->/{on=1;next} /<!-- config-keys:end -->/{on=0} on' \
	"$SB_ROOT/README.md" >"$TMP/readme-keys"
diff -u "$TMP/readme-keys" "$TMP/keys" >"$TMP/diff" ||
	fail "README config keys are stale (run scripts/update-readme.sh): $(head -20 "$TMP/diff")"
ok "README lists every config key"
