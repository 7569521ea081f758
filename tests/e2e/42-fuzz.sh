# The parser's libFuzzer harness (make fuzz-promtext) for a short bounded run under
# ASan and UBSan: crashes, undefined behaviour, and results that change
# with how the body is chunked all fail it. FUZZ_SECS sets the length.
. "$(dirname "$0")/lib.sh"

command -v clang >/dev/null 2>&1 || skip "clang is not installed (scripts/deps.sh build)"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$TMP/t.c"
clang -fsanitize=fuzzer,address -o "$TMP/t" "$TMP/t.c" 2>"$TMP/cc.log" ||
	skip "clang cannot build libFuzzer binaries (libclang-rt-14-dev): $(head -1 "$TMP/cc.log")"
make -C "$SB_ROOT" --no-print-directory fuzz-promtext FUZZ_SECS="${FUZZ_SECS:-20}" FUZZ_OUT="$TMP/fuzz" \
	>"$TMP/fuzz.log" 2>&1 || { tail -40 "$TMP/fuzz.log"; fail "the fuzzer found a problem"; }
grep 'stat::number_of_executed_units\|Done' "$TMP/fuzz.log"
ok "fuzzed"
