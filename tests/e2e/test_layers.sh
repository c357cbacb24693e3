#!/usr/bin/env bash
# test_layers.sh - the include graph keeps the layering docs/architecture.md draws (tests/e2e/layers.py):
# core/ <- analyzer/ <- lib/ <- service/ and cli/, no include between service/ and cli/ in either
# direction, and no include cycle. A small tree with one wrong include and one header loop must be
# flagged, so the check can fail.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

out=$(python3 tests/e2e/layers.py .)
if [ -z "$out" ]; then pass layers_and_no_include_cycles; else fail layers_and_no_include_cycles "$out"; fi

scratch
mkdir -p "$SCRATCH/core" "$SCRATCH/service" "$SCRATCH/cli"
printf '#include "service/queue.h"\n' >"$SCRATCH/cli/cmd.c"
: >"$SCRATCH/service/queue.h"
printf '#include "y.h"\n' >"$SCRATCH/core/x.h"
printf '#include "core/x.h"\n' >"$SCRATCH/core/y.h"
out=$(python3 tests/e2e/layers.py "$SCRATCH")
if grep -q '^layer: cli/cmd.c includes service/queue.h$' <<<"$out" && grep -q '^cycle: core/x.h -> core/y.h -> core/x.h$' <<<"$out"; then
	pass layers_check_can_fail
else
	fail layers_check_can_fail "a cli -> service include or a header loop went unreported: $out"
fi
