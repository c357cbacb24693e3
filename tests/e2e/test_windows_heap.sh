#!/usr/bin/env bash
# test_windows_heap.sh - has_heap on real Windows .NET dumps (make fixtures-windows: the win-x64
# self-contained plugin host crashed under Wine, the runtime's createdump.exe writing the dump): the full
# dump (type 4) holds the heap; the heap dump (type 2) does not under Wine, whose dbghelp records
# MiniDumpWithPrivateReadWriteMemory in the header and writes only small blocks; the mini dump (type 1)
# does not.
# Expected values come from what createdump was asked for and from winedump (a peer reader) showing the
# header flags and the memory streams, never from dumpscout. Also the pid the dump's file name carries and
# the .NET runtime. The Linux build reads the dumps; the Windows build must agree with it under Wine.
# SKIPs without Wine, winedump or the .NET SDK. Cached: a few seconds; building the dumps from scratch
# takes minutes (a full dump under Wine is slow to write).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

DUMPS=build/fixtures/windows/dotnet-dumps
EXE=build/win/dumpscout.exe
export WINEPREFIX=${WINEPREFIX:-$PWD/build/win/wineprefix} WINEDEBUG=-all

for tool in wine winedump dotnet python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip windows_heap "$tool is not installed (make deps windows-deps)"
		exit 0
	fi
done
if [ ! -x "$DS" ]; then
	skip windows_heap "the Linux build $DS is missing (make)"
	exit 0
fi
scratch
tmp=$SCRATCH

if tests/fixtures/windows/make_dotnet_dumps.sh >"$tmp/fix.log" 2>&1; then
	pass windows_heap_fixtures
else
	fail windows_heap_fixtures "$(tail -n 20 "$tmp/fix.log")"
	exit 0
fi

# peer NAME.dmp: "FLAGS MEMSTREAMS DISTINCT" from winedump: the header's Flags, how many memory streams
# (MemoryList "Memory Ranges", Memory64List stream 9, which winedump lists as "NIY 9") the file has, and the
# distinct bytes of the MemoryList ranges it prints ("Range: A-B").
peer() {
	winedump dump "$1" 2>/dev/null | python3 -c '
import re, sys
flags, mem, spans = 0, 0, set()
for line in sys.stdin:
    m = re.match(r"Flags: (0x[0-9a-fA-F]+)", line)
    if m:
        flags = int(m.group(1), 16)
    if re.match(r"Stream \[[0-9]+\]: (Memory Ranges|NIY 9$)", line.rstrip()):
        mem += 1
    m = re.match(r"\s+Range: (0x[0-9a-f]+)-(0x[0-9a-f]+)", line)
    if m:
        spans.add((int(m.group(1), 16), int(m.group(2), 16)))
spans, total, end = sorted(spans), 0, 0
for a, b in spans:
    a = max(a, end)
    if b > a:
        total, end = total + b - a, b
print(flags, mem, total)'
}

for kind in full heap mini; do
	for d in "$DUMPS"/*."$kind".dmp; do
		name=$(basename "$d" .dmp)
		x=${d%.dmp}.expect
		type=$(awk '$1 == "dump_type" { print $2 }' "$x")
		read -r flags mem distinct <<<"$(peer "$d")"
		# Expected: the heap is there only where the writer was asked for all memory (type 4; the header flag
		# MiniDumpWithFullMemory 0x2 says so too) and the file carries a memory stream. A type 2 dump under
		# Wine: the flags promise private read-write memory (0x200), yet winedump shows only small blocks
		# (under 1 MiB in all, where the full dump of the same program holds ~117 MB).
		if [ "$type" = 4 ] && [ $((flags & 0x2)) -ne 0 ] && [ "$mem" -gt 0 ]; then want=true; else want=false; fi
		case $kind in
		full) expect_eq "windows_heap_${name}_peer_full" "$want" true ;;
		heap) expect_eq "windows_heap_${name}_peer_flags_promise_heap" "$(((flags & 0x200) != 0))" 1
			expect_eq "windows_heap_${name}_peer_small_blocks_only" "$((distinct < 1048576))" 1 ;;
		esac
		"$DS" inspect --json "$d" >"$tmp/$name.json" 2>"$tmp/$name.err" ||
			{ fail "windows_heap_${name}_inspect" "$(cat "$tmp/$name.err")"; continue; }
		got=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(str(j["has_heap"]).lower(), j["pid"], j["process_name"], (j["runtime"] or {}).get("name"))' "$tmp/$name.json")
		expect_eq "windows_heap_${name}_has_heap" "${got%% *}" "$want"
		expect_eq "windows_heap_${name}_pid_process_runtime" "${got#* }" \
			"$(awk '$1 == "pid" { print $2 }' "$x") $(awk '$1 == "process_name" { print $2 }' "$x") coreclr"
		if [ -f "$EXE" ]; then
			(cd "$(dirname "$d")" && timeout -k 5 120 wine "$OLDPWD/$EXE" inspect --json "$(basename "$d")") 2>/dev/null |
				tr -d '\r' >"$tmp/$name.win.json"
			expect_eq "windows_heap_${name}_windows_build_agrees" \
				"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["has_heap"], j["memory"])' "$tmp/$name.win.json" 2>&1)" \
				"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["has_heap"], j["memory"])' "$tmp/$name.json")"
		fi
	done
done

# `dumpscout analyze` of the Windows mini dump: no heap, and the advice for Windows (WER DumpType 2).
"$DS" analyze --json "$DUMPS/s01-static-field.mini.dmp" >"$tmp/mini.analyze.json" 2>/dev/null
expect_eq windows_heap_no_heap_advice "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["analysis"]
print(a["status"], "LocalDumps DumpType 2" in (a.get("error") or ""))' "$tmp/mini.analyze.json" 2>&1)" "no_heap True"

# ---- a peer on the same Windows dump: the Windows engine (make windows-engine) against Windows SOS ------
# Both under Wine, both with DOTNET_EnableWriteXorExecute=0 (Wine kills DynamicResolver's finalizer with
# W^X on: "Internal CLR error 0x80131506"; tests only). SOS is dotnet-dump's win-x64 build from .tools
# (make deps), run on a .NET root assembled from the NuGet win-x64 runtime pack the fixture was published
# with. The engine's LoaderAllocator and AssemblyLoadContext objects must be the ones SOS's dumpheap lists
# (on one dump: each run under Wine takes a minute or more on a loaded machine).
WENGINE=build/win/engine/dumpscout-heap.exe
# built here when missing (cached; the service tests that run later use the same build)
[ -f "$WENGINE" ] || make windows-engine >"$tmp/windows-engine.log" 2>&1 || true
SHIM=$(ls -d .tools/.store/dotnet-dump/*/dotnet-dump/*/tools/net8.0/any/shims/win-x64/dotnet-dump.exe 2>/dev/null | head -n 1)
RTVER=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([k.split("/")[1] for t in d["targets"].values() for k in t if k.startswith("runtimepack.Microsoft.NETCore.App.Runtime.win-x64/")][0])' \
	build/fixtures/windows/dotnet/Scout.Host.deps.json 2>/dev/null)
PACK=${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.netcore.app.runtime.win-x64/$RTVER/runtimes/win-x64
if [ ! -f "$WENGINE" ] || [ -z "$SHIM" ] || [ -z "$RTVER" ] || [ ! -d "$PACK" ]; then
	skip windows_heap_sos_peer "needs $WENGINE (make windows-engine), dotnet-dump in .tools (make deps) and the win-x64 runtime pack"
	exit 0
fi
sos=$tmp/sos
mkdir -p "$sos/root/host/fxr/$RTVER" "$sos/root/shared/Microsoft.NETCore.App/$RTVER"
cp "$PACK/native/hostfxr.dll" "$sos/root/host/fxr/$RTVER/"
cp -s "$PACK"/lib/net*/* "$PACK"/native/* "$sos/root/shared/Microsoft.NETCore.App/$RTVER/"
# the shim finds dotnet-dump.dll at .store/... beside itself
cp "$SHIM" "$sos/dotnet-dump.exe"
ln -s "$PWD/.tools/.store" "$sos/.store"
for d in "$DUMPS"/s01-static-field.full.dmp; do
	name=$(basename "$d" .dmp)
	DOTNET_EnableWriteXorExecute=0 timeout -k 5 300 wine "$WENGINE" "$d" >"$tmp/$name.engine.json" 2>/dev/null
	DOTNET_ROOT="Z:$sos/root" DOTNET_EnableWriteXorExecute=0 timeout -k 5 300 wine "$sos/dotnet-dump.exe" analyze "$d" \
		-c "dumpheap -type System.Reflection.LoaderAllocator" -c "dumpheap -type Scout.Host.PluginLoadContext" -c exit \
		2>&1 | tr -d '\r' >"$tmp/$name.sos.txt"
	got=$(python3 - "$tmp/$name.engine.json" "$tmp/$name.sos.txt" <<'PY'
import json, re, sys
try:
    eng = json.load(open(sys.argv[1]))
except ValueError:
    print("engine: no document"); sys.exit(0)
e_la = sorted(int(c["loader_allocator"], 16) for c in eng["contexts"] if c.get("loader_allocator"))
e_alc = sorted(int(c["alc"], 16) for c in eng["contexts"] if c.get("alc"))
rows, names = [], {}
for line in open(sys.argv[2]):
    m = re.match(r"\s+([0-9a-f]{6,16})\s+([0-9a-f]{6,16})\s+\d+\s*$", line)
    if m:
        rows.append((int(m.group(1), 16), m.group(2)))
    m = re.match(r"([0-9a-f]{6,16})\s+\d+\s+\d+\s+(\S+)\s*$", line)
    if m:
        names[m.group(1)] = m.group(2)
s_la = sorted(a for a, mt in rows if names.get(mt) == "System.Reflection.LoaderAllocator")
s_alc = sorted(a for a, mt in rows if names.get(mt) == "Scout.Host.PluginLoadContext")
print("agree" if (e_la, e_alc) == (s_la, s_alc) and e_la else
      "engine la=%s alc=%s, sos la=%s alc=%s" % ([hex(x) for x in e_la], [hex(x) for x in e_alc],
                                               [hex(x) for x in s_la], [hex(x) for x in s_alc]))
PY
)
	expect_eq "windows_heap_${name}_engine_agrees_with_sos" "$got" agree
done
