#!/usr/bin/env bash
# inspect.sh - times `dumpscout inspect` over the dump corpus (tests/corpus) against peer tools that read the same
# files, in one run: eu-readelf --notes and llvm-readelf --notes for ELF cores, winedump and obj2yaml for
# minidumps. Prints each tool's median per file class and the ratio to dumpscout, then inspect's time and
# peak memory on 4 GiB sparse full-memory dumps next to a small dump (constant time in dump size).
# Needs hyperfine and /usr/bin/time (make deps installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DS=$BUILD/dumpscout
CORPUS=${CORPUS:-tests/corpus/dumps}
RUNS=${BENCH_RUNS:-15}
out=$BUILD/bench/inspect
mkdir -p "$out"
rm -f "$out"/*.json

# Only files dumpscout accepts are timed: a peer failing fast on a file we reject would flatter nobody.
bench_class() {
	local class=$1; shift
	local -a peers=("$@")
	local f name i=0
	for f in "$CORPUS/$class"/*; do
		case "$f" in *.gold.*) continue ;; esac
		"$DS" inspect "$f" >/dev/null 2>&1 || continue
		name=$(basename "$f")
		local -a cmds=("$DS inspect --json $f")
		local p
		for p in "${peers[@]}"; do cmds+=("${p//FILE/$f}"); done
		hyperfine -N --runs "$RUNS" --warmup 2 --ignore-failure --style none \
			--export-json "$out/$class-$i.json" "${cmds[@]}" >/dev/null 2>&1 || true
		i=$((i + 1))
	done
	echo "$class: $i files"
}

bench_class elf "eu-readelf --notes FILE" "llvm-readelf --notes FILE"
bench_class mdmp "winedump dump FILE" "obj2yaml FILE"

python3 - "$out" <<'PY'
import json, glob, os, statistics, sys
out = sys.argv[1]
for cls in ("elf", "mdmp"):
    per_tool = {}
    for f in sorted(glob.glob(os.path.join(out, cls + "-*.json"))):
        for r in json.load(open(f))["results"]:
            tool = r["command"].split()[0].split("/")[-1]
            per_tool.setdefault(tool, []).append(r["median"])
    if not per_tool:
        continue
    ours = statistics.median(per_tool.get("dumpscout", [float("nan")]))
    print(f"\n{cls} cores/dumps: median of per-file medians over {len(per_tool.get('dumpscout', []))} files")
    print(f"  {'tool':<14} {'median ms':>10} {'vs dumpscout':>13}")
    for tool, vals in sorted(per_tool.items(), key=lambda kv: statistics.median(kv[1])):
        m = statistics.median(vals)
        print(f"  {tool:<14} {m * 1000:>10.3f} {m / ours:>12.2f}x")
PY

echo
echo "constant time in dump size (4 GiB sparse full-memory dumps vs a small dump):"
python3 bench/mksparse.py "$out/sparse" 4
small_dmp=$CORPUS/mdmp/breakpad__minidump2.dmp
small_core=$CORPUS/elf/lldb__linux-x86_64.core
for f in "$small_dmp" "$out/sparse/full-4g.dmp" "$small_core" "$out/sparse/full-4g.core"; do
	hyperfine -N --runs "$RUNS" --warmup 2 --style none --export-json "$out/one.json" \
		"$DS inspect --json $f" >/dev/null 2>&1
	med=$(python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$out/one.json")
	rss=$(/usr/bin/time -f '%M' "$DS" inspect --json "$f" 2>&1 >/dev/null | tail -1)
	size=$(stat -c %s "$f")
	printf '  %-28s %14s bytes  median %8s ms  peak RSS %6s KiB\n' "$(basename "$f")" "$size" "$med" "$rss"
done
for f in "$out/sparse/full-4g.dmp" "$out/sparse/full-4g.core"; do
	for p in "winedump dump" "obj2yaml" "eu-readelf --notes" "llvm-readelf --notes"; do
		case "$f:$p" in *.dmp:winedump*|*.dmp:obj2yaml|*.core:eu-readelf*|*.core:llvm-readelf*) ;; *) continue ;; esac
		t0=$(date +%s%N)
		rss=$(/usr/bin/time -f '%M' timeout 120 $p "$f" 2>&1 >/dev/null | tail -1 || true)
		t1=$(date +%s%N)
		printf '  %-28s peer %-22s one run %8s ms  peak RSS %6s KiB\n' "$(basename "$f")" "$p" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')" "$rss"
	done
done
rm -rf "$out/sparse"
