# lib.sh - helpers for shell tests (golden and end-to-end). Source it; it reports results in the
# same "PASS name" / "FAIL name: why" / "SKIP name: why" lines the C tests print, for tests/run.sh.
# Tests run from the project root; BUILD names the build folder (default build).
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-tests/corpus}
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

# ---- the service in end-to-end tests ----
# These expect T (the test's folder, holding cfg.json and the service's log), DB (its database) and,
# when the service should have made it, D (the dump folder). PID gets the service's process id.
# start: runs $DSD on $T/cfg.json in the background and waits (5 s at most) until it logs "ready".
start() {
	"$DSD" --config "$T/cfg.json" 2>>"$T/log" &
	PID=$!
	for _ in $(seq 100); do
		grep -q "ready" "$T/log" 2>/dev/null && { [ -z "${D:-}" ] || [ -d "$D" ]; } && return 0
		sleep 0.05
	done
	return 1
}
# q SQL: one query on the service's database, read-only, waiting out a writer's lock.
q() { sqlite3 -readonly -cmd ".timeout 5000" "$DB" "$1" 2>/dev/null; }
# wait_for SECONDS SQL EXPECTED: polls the query until it prints EXPECTED.
wait_for() {
	local i
	for i in $(seq $(($1 * 10))); do [ "$(q "$2")" = "$3" ] && return 0; sleep 0.1; done
	return 1
}
