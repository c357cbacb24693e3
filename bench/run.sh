#!/usr/bin/env bash
# run.sh - every benchmark, each against its peer tool in the same run (make bench). Each bench/*.sh
# other than this one is a benchmark; BENCH_ONLY=name runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
	n=$(basename "$b" .sh)
	[ "$n" = run ] && continue
	[ -n "${BENCH_ONLY:-}" ] && [ "$BENCH_ONLY" != "$n" ] && continue
	echo "== bench: $n"
	bash "$b"
done
