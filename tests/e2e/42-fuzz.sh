# Every libFuzzer harness (make fuzz-list: the text parser, the protobuf
# decoder, the proc parsers and collectors, the spool, the config loader,
# the BPF records) under ASan and UBSan: first every input a harness once
# failed on (make fuzz-regress, tests/fuzz-regress/), then each for a short
# bounded run on its corpus. A crash, undefined behaviour or a broken
# promise of the decoder (each harness's own checks) fails it. FUZZ_SECS
# sets the seconds a harness (4); the long runs are `make fuzz`.
# FUZZ_SEED (1) fixes libFuzzer's choices, so a commit's verdict here does not
# depend on the draw (FUZZ_SEED= draws one); new findings come from the long runs.
. "$(dirname "$0")/lib.sh"

command -v clang >/dev/null 2>&1 || skip "clang is not installed (scripts/deps.sh build)"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$TMP/t.c"
clang -fsanitize=fuzzer,address -o "$TMP/t" "$TMP/t.c" 2>"$TMP/cc.log" ||
	skip "clang cannot build libFuzzer binaries (libclang-rt-14-dev): $(head -1 "$TMP/cc.log")"

harnesses=$(make -C "$SB_ROOT" --no-print-directory -s fuzz-list)
[ -n "$harnesses" ] || fail "make fuzz-list names no harness"
make -C "$SB_ROOT" --no-print-directory -j2 fuzz-build >"$TMP/build.log" 2>&1 || {
	tail -30 "$TMP/build.log"
	fail "the harnesses do not build"
}
make -C "$SB_ROOT" --no-print-directory fuzz-regress >"$TMP/regress.log" 2>&1 || {
	tail -40 "$TMP/regress.log"
	fail "an input of tests/fuzz-regress fails again"
}
grep REGRESS "$TMP/regress.log"
ok "every regression input passes"

for h in $harnesses; do
	make -C "$SB_ROOT" --no-print-directory "fuzz-$h" FUZZ_SECS="${FUZZ_SECS:-4}" \
		FUZZ_SEED="${FUZZ_SEED-1}" \
		FUZZ_OUT="$TMP/fuzz" >"$TMP/$h.log" 2>&1 || {
		tail -40 "$TMP/$h.log"
		# the input itself, to replay anywhere (base64 -d >in; build/fuzz/fuzz_NAME in)
		for a in "$TMP/fuzz/$h"-*; do
			[ -f "$a" ] && echo "input $(basename "$a"), base64: $(base64 -w0 "$a")"
		done
		fail "fuzz-$h found a problem (input in its log above)"
	}
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TMP/$h.log")
	[ "${runs:-0}" -gt 0 ] || fail "fuzz-$h ran no input"
	ok "fuzz-$h: $runs inputs"
done
