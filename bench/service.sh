#!/usr/bin/env bash
# service.sh - dumpscoutd under load, with its peers in the same run (bench/service_bench.py does the
# measuring): latency from a dump becoming complete (renamed into the watched folder) to its triaged
# row, p50/p99 over dumps dropped one by one (real corpus dumps, every 20th a 68 MiB .NET heap dump from
# build/fixtures when `make fixtures` has made them); triage throughput during a burst of files renamed
# in at once; peak RSS idle and in the burst (VmHWM); idle CPU over a minute (utime+stime); and
# `dumpscout inspect`, `eu-readelf --notes`, `winedump dump` and sha256sum run one process per file over
# the same burst files. Goals (issue 5): p99 under the window + 100 ms, RSS under 64 MiB, idle CPU ~0.
# BENCH_SERVICE_LATENCY_N, _BURST_N, _IDLE_S, _STABILITY_MS make it shorter or longer.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-tests/corpus/dumps}
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-bench-service.XXXXXX")
trap 'rm -rf "$T"' EXIT
# the real dumps dumpscout reads, up to 1 MiB each (the burst's copies stay small on disk)
files=()
for f in "$CORPUS"/mdmp/* "$CORPUS"/elf/*; do
	case "$f" in *.gold.* | *.md | *.json) continue ;; esac
	[ "$(stat -c %s "$f")" -le 1100000 ] || continue
	"$BUILD/dumpscout" inspect "$f" >/dev/null 2>&1 && files+=("$f")
done
big=()
for f in build/fixtures/dumps/s01-static-field.dmp build/fixtures/dumps/s03-strong-gchandle.dmp; do
	[ -f "$f" ] && big+=(--big "$f")
done
[ ${#big[@]} -gt 0 ] || echo "(no .NET fixture dumps: run 'make fixtures' to include 68 MiB heap dumps in the latency run)"
echo "corpus: ${#files[@]} dumps; the analysis step is the stand-in engine (tests/fixtures/fake_engine), so"
echo ".NET heap dumps leave the queue at once and only triage is measured"
/usr/bin/python3 bench/service_bench.py --dsd "$BUILD/dumpscoutd" --ds "$BUILD/dumpscout" --dir "$T" \
	--engine "$PWD/tests/fixtures/fake_engine/dotnet-dump" \
	--stability-ms "${BENCH_SERVICE_STABILITY_MS:-500}" --latency-n "${BENCH_SERVICE_LATENCY_N:-200}" \
	--burst-n "${BENCH_SERVICE_BURST_N:-2000}" --idle-s "${BENCH_SERVICE_IDLE_S:-60}" "${big[@]}" "${files[@]}"
