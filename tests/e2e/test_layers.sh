#!/usr/bin/env bash
# test_layers.sh - the include graph keeps the layering docs/architecture.md draws (tests/e2e/layers.py):
# core/ <- analyzer/ <- lib/ <- service/ and cli/, no include between service/ and cli/ in either
# direction, no include cycle, and no two modules (x.c with x.h) that use each other. A small tree with
# one wrong include, one header loop and one loop of modules must be flagged, so the check can fail. And the OS is chosen one way, by file: outside core/ (the platform
# layer: plat_posix.c, plat_win.c, the Windows-only win_*.c) no source mentions _WIN32 except a *_win.c
# file, which only the Windows build compiles.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

# The files under ROOT's program and library folders that test _WIN32 without being *_win.c files.
win32_outside() {
	grep -rl --include='*.c' --include='*.h' '_WIN32' "$1/cli" "$1/analyzer" "$1/service" "$1/lib" 2>/dev/null |
		grep -v '_win\.c$' || true
}

out=$(win32_outside .)
if [ -z "$out" ]; then pass os_chosen_by_file_name; else fail os_chosen_by_file_name "_WIN32 outside *_win.c: $out"; fi

out=$(python3 tests/e2e/layers.py .)
if [ -z "$out" ]; then pass layers_and_no_include_cycles; else fail layers_and_no_include_cycles "$out"; fi

scratch
mkdir -p "$SCRATCH/core" "$SCRATCH/service" "$SCRATCH/cli"
printf '#include "service/queue.h"\n' >"$SCRATCH/cli/cmd.c"
: >"$SCRATCH/service/queue.h"
printf '#include "y.h"\n' >"$SCRATCH/core/x.h"
printf '#include "core/x.h"\n' >"$SCRATCH/core/y.h"
# a.c calls b.c's function and b.c a.c's: each includes only the other's header, no header loop
mkdir -p "$SCRATCH/lib"
printf '#include "a.h"\n#include "b.h"\n' >"$SCRATCH/lib/a.c"
printf '#include "b.h"\n#include "lib/a.h"\n' >"$SCRATCH/lib/b.c"
: >"$SCRATCH/lib/a.h"
: >"$SCRATCH/lib/b.h"
out=$(python3 tests/e2e/layers.py "$SCRATCH")
if grep -q '^layer: cli/cmd.c includes service/queue.h$' <<<"$out" && grep -q '^cycle: core/x.h -> core/y.h -> core/x.h$' <<<"$out" &&
	grep -q '^module cycle: lib/a -> lib/b -> lib/a$' <<<"$out"; then
	pass layers_check_can_fail
else
	fail layers_check_can_fail "a cli -> service include, a header loop or a module loop went unreported: $out"
fi

mkdir -p "$SCRATCH/analyzer"
printf '#ifdef _WIN32\n#endif\n' >"$SCRATCH/cli/cmd.c"
printf '#ifdef _WIN32\n#endif\n' >"$SCRATCH/lib/x_win.c"
printf '#if defined(_WIN32)\n#endif\n' >"$SCRATCH/analyzer/y.h"
out=$(win32_outside "$SCRATCH" | sed "s|^$SCRATCH/||" | sort | tr '\n' ' ')
if [ "$out" = "analyzer/y.h cli/cmd.c " ]; then
	pass os_check_can_fail
else
	fail os_check_can_fail "expected analyzer/y.h and cli/cmd.c (not lib/x_win.c), got: $out"
fi
