# lib.sh - helpers for shell tests (golden and end-to-end). Source it; it reports results in the
# same "PASS name" / "FAIL name: why" / "SKIP name: why" lines the C tests print, for tests/run.sh.
# Tests run from the project root; BUILD names the build folder (default build).
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-../shared/corpus}
DS=${DS:-$BUILD/dumpscout}
DSD=${DSD:-$BUILD/dumpscoutd}

pass() { echo "PASS $1"; }
fail() { local n=$1; shift; echo "FAIL $n: $*"; }
skip() { local n=$1; shift; echo "SKIP $n: $*"; }
# check NAME CMD... : PASS if the command succeeds, FAIL with its output otherwise.
check() {
	local n=$1 out; shift
	if out=$("$@" 2>&1); then pass "$n"; else fail "$n" "$(printf '%s' "$out" | head -c 2000)"; fi
}
# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}
# Makes a scratch folder in $SCRATCH, removed when the test script exits. Call it directly
# (`scratch; cd "$SCRATCH"`), not as $(scratch): a command substitution is a subshell whose exit would
# remove the folder at once.
scratch() {
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-test.XXXXXX")
	trap 'rm -rf "$SCRATCH"' EXIT
}
