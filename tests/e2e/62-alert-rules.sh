# deploy/alerts.yml is valid and every rule passes its promtool test case
# (deploy/alerts_test.yml); a rule without a test case fails this test.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool missing (scripts/deps.sh test installs prometheus)"
cd "$SB_ROOT/deploy" || fail "no deploy directory"
promtool check rules alerts.yml >"$TMP/check.txt" 2>&1 || fail "promtool check rules: $(cat "$TMP/check.txt")"
promtool test rules alerts_test.yml >"$TMP/test.txt" 2>&1 || fail "promtool test rules: $(cat "$TMP/test.txt")"
sed -n 's/^ *- alert: *//p' alerts.yml | sort -u >"$TMP/rules"
sed -n 's/^ *alertname: *//p' alerts_test.yml | sort -u >"$TMP/tested"
comm -23 "$TMP/rules" "$TMP/tested" >"$TMP/untested"
[ -s "$TMP/untested" ] && fail "rules without a test case: $(cat "$TMP/untested")"
ok "$(wc -l <"$TMP/rules") alert rules valid, each with a passing test case"
