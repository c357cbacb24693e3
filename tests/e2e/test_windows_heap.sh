#!/usr/bin/env bash
# test_windows_heap.sh - has_heap on real Windows .NET dumps (make fixtures-windows: the win-x64
# self-contained plugin host crashed under Wine, the runtime's createdump.exe writing the dump): the full
# dump (type 4) holds the heap; the heap dump (type 2) does not under Wine, whose dbghelp records
# MiniDumpWithPrivateReadWriteMemory in the header and writes no memory; the mini dump (type 1) does not.
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

# peer NAME.dmp: "FLAGS MEMSTREAMS" from winedump: the header's Flags and how many memory streams
# (MemoryList "Memory Ranges", Memory64List stream 9, which winedump lists as "NIY 9") the file has.
peer() {
	winedump dump "$1" 2>/dev/null | awk '
		/^Flags: / { flags = $2 }
		/^Stream \[[0-9]+\]: (Memory Ranges|NIY 9$)/ { mem++ }
		END { printf "%s %d\n", flags, mem }'
}

for kind in full heap mini; do
	for d in "$DUMPS"/*."$kind".dmp; do
		name=$(basename "$d" .dmp)
		x=${d%.dmp}.expect
		type=$(awk '$1 == "dump_type" { print $2 }' "$x")
		read -r flags mem <<<"$(peer "$d")"
		# Expected: heap present only where the writer was asked for memory (type 4: full memory; the
		# header flag MiniDumpWithFullMemory 0x2 says so too) and the file carries a memory stream.
		if [ "$type" = 4 ] && [ $((flags & 0x2)) -ne 0 ] && [ "$mem" -gt 0 ]; then want=true; else want=false; fi
		case $kind in
		full) expect_eq "windows_heap_${name}_peer_full" "$want" true ;;
		heap) # the flags promise private read-write memory; the file holds none
			expect_eq "windows_heap_${name}_peer_flags_promise_heap" "$(((flags & 0x200) != 0))" 1
			expect_eq "windows_heap_${name}_peer_no_memory_stream" "$mem" 0 ;;
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
