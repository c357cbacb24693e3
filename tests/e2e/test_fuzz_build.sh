#!/usr/bin/env bash
# test_fuzz_build.sh - `make fuzz` keeps working: every libFuzzer target (tests/fuzz/fuzz_*.c) builds with
# clang's fuzzer and sanitizers from tests/fuzz/run_fuzz.sh's source list and runs for a second on its
# corpus without a finding. The replay builds in make test use the Makefile's archives, so only this
# catches a reader that gained a dependency the fuzz build does not link.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh
scratch
out=$(bash tests/fuzz/run_fuzz.sh 1 2>&1)
for f in tests/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c)
	if grep -q "^fuzz: running $t for" <<<"$out"; then pass "fuzz_build_$t"
	else fail "fuzz_build_$t" "$(grep -A8 "^fuzz: building $t" <<<"$out" | head -c 1500)"; fi
done
if grep -qE "ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error:" <<<"$out"; then
	fail fuzz_short_runs_clean "$(grep -m3 -E "ERROR|runtime error" <<<"$out")"
else
	pass fuzz_short_runs_clean
fi
