#!/usr/bin/env bash
# test_unit_harness.sh - the unit-test harness (tests/unit/t.h) runs every test in a process of its own
# with a time limit: a program whose tests pass, fail, crash, hang, exit on their own and skip must still
# run the test after them, report each death as that test's failure, and count the rest as before.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh
scratch

cat >"$SCRATCH/harness.c" <<'C'
#include "tests/unit/t.h"
#include <signal.h>
#include <unistd.h>

TEST(passes) { CHECK_INT(1 + 1, 2); }
TEST(fails) { CHECK_INT(1 + 1, 3); }
TEST(crashes) { raise(SIGSEGV); }
TEST(hangs) { for (;;) pause(); }
TEST(exits) { exit(3); }
TEST(skips) { SKIP("not here"); }
TEST(leaves_state) { setenv("T_HARNESS_STATE", "1", 1); }
TEST(passes_after) { CHECK(getenv("T_HARNESS_STATE") == NULL); /* the last test's process is gone */ }

int main(void)
{
	RUN(passes);
	RUN(fails);
	RUN(crashes);
	RUN(hangs);
	RUN(exits);
	RUN(skips);
	RUN(leaves_state);
	RUN(passes_after);
	printf("failed %d\n", t_total_failed);
	return t_total_failed != 0;
}
C
if ! cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. \
	-o "$SCRATCH/harness" "$SCRATCH/harness.c" 2>"$SCRATCH/cc.log"; then
	fail harness_build "$(head -c 1000 "$SCRATCH/cc.log")"
	exit 0
fi
out=$(DS_TEST_TIMEOUT=2 "$SCRATCH/harness" 2>&1); rc=$?
has() { grep -qE "$1" <<<"$out"; }
expect_eq harness_exit_status "$rc" 1
has '^PASS passes$' && pass harness_pass || fail harness_pass "$out"
has '^FAIL fails: .*harness.c:[0-9]+: 1 \+ 1 == 2, expected 3 == 3$' && pass harness_fail_line || fail harness_fail_line "$out"
has '^FAIL crashes: crashed \(signal 11' && pass harness_crash_is_a_failure || fail harness_crash_is_a_failure "$out"
has '^FAIL hangs: timed out after 2 s$' && pass harness_hang_times_out || fail harness_hang_times_out "$out"
has '^FAIL exits: exited with status 3$' && pass harness_exit_is_a_failure || fail harness_exit_is_a_failure "$out"
has '^SKIP skips: not here$' && ! has '^(PASS|FAIL) skips' && pass harness_skip || fail harness_skip "$out"
has '^PASS passes_after$' && pass harness_runs_on_after_crashes || fail harness_runs_on_after_crashes "$out"
has '^failed 4$' && pass harness_counts_failures || fail harness_counts_failures "$out"
# tests/run.sh counts it like any test program: 3 passed, 4 failed, 1 skipped
totals=$(DS_TEST_TIMEOUT=2 TEST_LOG_DIR="$SCRATCH/logs" tests/run.sh "$SCRATCH/harness" 2>&1 | tail -n 1)
expect_eq harness_run_sh_totals "$totals" "3 passed, 4 failed, 1 skipped"
