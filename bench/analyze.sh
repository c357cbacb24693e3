#!/usr/bin/env bash
# analyze.sh - per-dump time of `dumpscout analyze` against running the very same SOS commands by hand
# in one `dotnet-dump analyze DUMP -c CMD ... -c exit` process, in the same run, on the real fixture
# dumps. The command list is read from the transcript dumpscout saved, so both sides do the same work;
# the ratio is dumpscout's overhead (planning, parsing, classification, one engine process as well).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DS=$BUILD/dumpscout
ENGINE=.tools/dotnet-dump
RUNS=${BENCH_RUNS:-5}
out=$BUILD/bench/analyze
mkdir -p "$out"
make -s fixtures >/dev/null
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
printf '%-28s %6s %12s %12s %7s %8s\n' dump cmds dumpscout_ms by_hand_ms ratio engines
for dump in build/fixtures/dumps/s0[1-8]*.dmp; do
	name=$(basename "$dump" .dmp)
	"$DS" analyze -q --save-transcript "$out/$name.txt" "$dump" >/dev/null || true
	mapfile -t cmds < <(sed -n 's/^> //p' "$out/$name.txt" | grep -v '^exit$')
	args=()
	for c in "${cmds[@]}"; do args+=(-c "$c"); done
	args+=(-c exit)
	# Engine processes started by one dumpscout analyze: counted from the process table while it runs.
	"$DS" analyze -q "$dump" >/dev/null & apid=$!
	engines=0
	while kill -0 "$apid" 2>/dev/null; do
		n=$(pgrep -c -P "$apid" 2>/dev/null || true)
		[ "${n:-0}" -gt "$engines" ] && engines=$n
		sleep 0.05
	done
	wait "$apid" || true
	hyperfine -N --runs "$RUNS" --warmup 1 --style none --export-json "$out/$name.json" \
		"$DS analyze -q --json $dump" >/dev/null 2>&1
	ours=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$out/$name.json")
	# The hand run: hyperfine's -N cannot take arguments with spaces, so time it here the same way.
	hand=$(python3 - "$ENGINE" "$dump" "$RUNS" "${args[@]}" <<'PY'
import statistics, subprocess, sys, time
engine, dump, runs, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
subprocess.run([engine, "analyze", dump] + args, capture_output=True)
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run([engine, "analyze", dump] + args, capture_output=True)
    times.append(time.perf_counter() - t0)
print(statistics.median(times))
PY
)
	awk -v n="$name" -v c="${#cmds[@]}" -v a="$ours" -v b="$hand" -v e="$engines" \
		'BEGIN { printf "%-28s %6d %12.0f %12.0f %6.2fx %8d\n", n, c, a * 1000, b * 1000, a / b, e }'
done
