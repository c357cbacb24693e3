#!/usr/bin/env bash
# engine.sh - the heap engine's time and peak memory per dump, in one run, against two references on the
# same dump: the floor (the same library walking the whole heap once and nothing else: dumpscout-heap
# --walk-only) and the SOS-driven analysis: `dumpscout analyze` as it was when it drove dotnet-dump (the
# last such commit, SOS_ERA below, built once into build/bench/sos-era; its session lists the
# LoaderAllocators, modules and collectible types, runs gcroot per LoaderAllocator and per plugin object,
# dumpclass, pe and clrstack: 125 commands on the 256 MiB heap). Override with BENCH_SOS_CMD. Wall times are
# medians of BENCH_RUNS runs, start-up included; peak RSS is the largest process of the run (/usr/bin/time's
# maximum resident set size). BENCH_DUMPS picks the dumps; otherwise the fixture dumps and three generated
# large heaps (see below) are measured.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ENGINE=$BUILD/engine/dumpscout-heap
RUNS=${BENCH_RUNS:-3}
SOS_ERA=358e7bcddc814476e767d6487af9c73b30f2da7a # the parent of the commit that removed the dotnet-dump driver
make -s engine >/dev/null
if [ -z "${BENCH_SOS_CMD:-}" ]; then
	era=$BUILD/bench/sos-era
	if [ ! -x "$era/build/dumpscout" ]; then
		rm -rf "$era" && mkdir -p "$era"
		git archive "$SOS_ERA" | tar -x -C "$era"
		ln -s "$PWD/.tools" "$era/.tools"
		make -s -C "$era" -j2 build/dumpscout >/dev/null
	fi
	SOS_CMD="$era/build/dumpscout analyze -q --json --engine $PWD/.tools/dotnet-dump"
else
	SOS_CMD=$BENCH_SOS_CMD
fi
[ -n "${BENCH_DUMPS:-}" ] || make -s fixtures >/dev/null
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
dumps=${BENCH_DUMPS:-$(ls build/fixtures/dumps/*.dmp)}

# The generated large heaps (BENCH_BIG=0 skips them): bench/heapgen fills BENCH_BIG_SIZES MiB with about a
# thousand objects per MiB, loads the fixture plugin into 50 collectible contexts, leaks 12 through four
# causes and crashes; createdump writes build/bench/big/heap-MIB.dmp (kept: made once per size).
if [ "${BENCH_BIG:-1}" != 0 ] && [ -z "${BENCH_DUMPS:-}" ]; then
	big=$BUILD/bench/big
	mkdir -p "$big"
	DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet build bench/heapgen/HeapGen.csproj -c Release --nologo -v quiet >/dev/null
	gen=build/bench/heapgen-artifacts/bin/HeapGen/release/HeapGen
	for mib in ${BENCH_BIG_SIZES:-256 512 1024}; do
		d="$(cd "$big" && pwd)/heap-$mib.dmp"
		if [ ! -s "$d" ]; then
			DOTNET_DbgEnableMiniDump=1 DOTNET_DbgMiniDumpType=2 DOTNET_DbgMiniDumpName="$d" \
				"$gen" "$mib" 50 12 build/fixtures/bin >/dev/null 2>&1 || true
		fi
		[ -s "$d" ] && dumps="$dumps $d"
	done
fi

# measure CMD...: prints "median_seconds peak_rss_kb" over RUNS runs (one warm-up first).
measure() {
	python3 - "$RUNS" "$@" <<'PY'
import os, statistics, subprocess, sys, tempfile
runs, cmd = int(sys.argv[1]), sys.argv[2:]
fd, tf = tempfile.mkstemp()
os.close(fd)
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
walls, rss = [], 0
for _ in range(runs):
    subprocess.run(["/usr/bin/time", "-o", tf, "-f", "%e %M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(tf) as fh:
        last = fh.read().strip().splitlines()[-1].split()
    walls.append(float(last[0]))
    rss = max(rss, int(last[1]))
os.unlink(tf)
print("%.3f %d" % (statistics.median(walls), rss))
PY
}

printf '%-34s %9s %9s %9s %9s %9s %8s %8s %9s\n' dump heap_MiB engine_s floor_s sos_s vs_floor vs_sos rss_MiB MiB/GiB
for dump in $dumps; do
	name=$(basename "$dump" .dmp)
	bytes=$("$ENGINE" "$dump" --walk-only 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["heap"]["bytes"])')
	read -r e_s e_kb < <(measure "$ENGINE" "$dump")
	read -r f_s _ < <(measure "$ENGINE" "$dump" --walk-only)
	# shellcheck disable=SC2086
	read -r s_s _ < <(measure $SOS_CMD "$dump")
	awk -v n="$name" -v b="$bytes" -v e="$e_s" -v f="$f_s" -v s="$s_s" -v k="$e_kb" 'BEGIN {
		gib = b / 1073741824; mib = k / 1024
		printf "%-34s %9.1f %9.2f %9.2f %9.2f %8.2fx %7.2fx %8.0f %9s\n", n, b / 1048576, e, f, s, e / f, s / e, mib,
			(gib >= 0.05 ? sprintf("%.0f", mib / gib) : "-") }'
done
echo "vs_floor: engine time / one heap walk by the same library (goal <= 2x); vs_sos: SOS-driven time / engine time (goal >= 5x)"
echo "wall times include process start-up; the machine's other load adds to every column alike"
