#!/usr/bin/env bash
# run.sh - runs test programs and scripts, each with a time limit, and counts their PASS/FAIL/SKIP
# lines. A program that exits non-zero without printing FAIL (a crash, a sanitizer report) counts as a
# failure of its own. Prints "N passed, N failed, N skipped" last; exits 1 if anything failed.
# Usage: tests/run.sh [-t SECONDS] CMD...   (each CMD is one executable path)
set -u
limit=600
if [ "${1:-}" = "-t" ]; then limit=$2; shift 2; fi
pass=0 fail=0 skip=0
log_dir=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$log_dir"
for t in "$@"; do
	name=$(basename "$t")
	out="$log_dir/$name.log"
	# TEST_WRAP runs each program under a tool (make valgrind); shell scripts are never wrapped.
	case "$t" in
	*.sh) timeout -k 5 "$limit" "$t" >"$out" 2>&1 ;;
	*) timeout -k 5 "$limit" ${TEST_WRAP:-} "$t" >"$out" 2>&1 ;;
	esac
	rc=$?
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	# a failure's message may run over several lines (a golden diff): show up to 40 of them, indented, so
	# a CI log that keeps only this summary still says what differed
	awk '/^(PASS|SKIP|FAIL) /{ inf = 0 } /^FAIL /{ inf = 1; k = 0; print; next }
		/^     also /{ print; next } /^SKIP /{ print; next }
		inf && k < 40 { print "    " $0; k++ }' "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		fail=$((fail + 1))
		echo "FAIL $name: exited with status $rc without reporting a failure (see $out):"
		tail -n 15 "$out" | sed 's/^/    /'
	fi
	printf '%-28s %3d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
