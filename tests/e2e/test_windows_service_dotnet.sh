#!/usr/bin/env bash
# test_windows_service_dotnet.sh - real Windows .NET dumps through the installed Windows service under
# Wine (docs/windows.md): the MSI installs the service and its heap engine (engine\dumpscout-heap.exe,
# win-x64, self-contained) into a prefix of its own; `dumpscout.exe wer status` reports the engine; the
# win-x64 self-contained plugin host (make fixtures-windows) crashes into the folder the service watches -
# Wine ignores WER LocalDumps, so the runtime's createdump.exe stands in for WER, writing the full dump
# (type 4) WER's DumpType 2 writes on Windows; the service triages it, runs the shipped engine and stores
# the result; `dumpscout.exe show --json` names the held context and the static field that holds it; a
# second scenario (a strong GC handle) does the same; the Linux build's `dumpscout analyze --engine-json`
# of the engine document the installed CLI saves for the same dump agrees; stop and uninstall restore
# LocalDumps. SKIPs without Wine, wixl, mingw-w64 or the .NET SDK. Minutes: Wine writes a full dump slowly.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

WIN_DIR=build/win
CLI=$WIN_DIR/dumpscout.exe
MSI=$WIN_DIR/dumpscout.msi
export WINEPREFIX=$PWD/$WIN_DIR/wineprefix-service WINEDEBUG=-all
# For every Windows program of this test, the service and the engine it starts included (services.exe
# starts with the environment of the first Wine process of the server and passes it on): .NET's
# write-xor-execute mapping lets Wine kill the finalizer of dynamic methods ("Internal CLR error
# 0x80131506" in DynamicResolver+DestroyScout.Finalize). Tests only, never a product default.
export DOTNET_EnableWriteXorExecute=0
LD='HKLM\SOFTWARE\Microsoft\Windows\Windows Error Reporting\LocalDumps'
SVCKEY='HKLM\System\CurrentControlSet\Services\dumpscout'
PD=$WINEPREFIX/drive_c/ProgramData/dumpscout
ICLI='C:\Program Files\dumpscout\dumpscout.exe'
DB='C:\ProgramData\dumpscout\dumpscout.db'

for tool in x86_64-w64-mingw32-gcc wine wineserver wixl wixl-heat msibuild msiinfo python3 dotnet; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip windows_service_dotnet "$tool is not installed (make deps windows-deps)"
		exit 0
	fi
done
if [ ! -x "$DS" ]; then
	skip windows_service_dotnet "the Linux build $DS is missing (make)"
	exit 0
fi

scratch
tmp=$SCRATCH
t0=$(date +%s)
if make -j2 windows windows-engine msi >"$tmp/make.log" 2>&1 && [ -f "$MSI" ]; then
	pass windows_service_dotnet_build
else
	fail windows_service_dotnet_build "$(grep -E 'error|undefined reference|\*\*\*|build_msi|DOTNET' "$tmp/make.log" | sort -u | head -n 15)"
	exit 0
fi
echo "     also MSI: $(stat -c %s "$MSI") bytes (engine folder $(du -sb "$WIN_DIR/engine" | cut -f1) bytes, $(find "$WIN_DIR/engine" -type f | wc -l) files)"
# the host and the cached second scenario (make fixtures-windows; make test builds them first)
if tests/fixtures/windows/make_dotnet_dumps.sh >"$tmp/fix.log" 2>&1; then
	pass windows_service_dotnet_fixtures
else
	fail windows_service_dotnet_fixtures "$(tail -n 10 "$tmp/fix.log")"
	exit 0
fi

if [ ! -f "$WINEPREFIX/system.reg" ]; then
	mkdir -p "$WINEPREFIX"
	wineboot -i >/dev/null 2>&1
	for _ in $(seq 1 120); do [ -f "$WINEPREFIX/system.reg" ] && break; sleep 0.5; done
fi
wineserver -p
# Seen here: with only short-lived Wine processes (the polls below) the service still ended whenever the
# last one exited and auto-started with the next (the log shows a start every 10-15 s and no stop), in
# spite of `wineserver -p`; an analysis of a minutes-long engine run then restarts over and over. One
# ordinary Wine process kept open for the whole test (cmd reading a FIFO this shell holds open and never
# writes) avoids it; closing the FIFO at the end lets cmd exit.
mkfifo "$tmp/keep"
wine cmd.exe /k <"$tmp/keep" >/dev/null 2>&1 &
KEEP=$!
exec 9>"$tmp/keep"
trap 'exec 9>&-; kill "$KEEP" 2>/dev/null; wineserver -k >/dev/null 2>&1; rm -rf "$SCRATCH"' EXIT
source tests/e2e/windows_lib.sh

# ---- a clean slate and the "before" LocalDumps state; install ----------------------------------------
if w reg query "$SVCKEY" >/dev/null 2>&1; then
	w msiexec /x "$MSI" /qn >/dev/null 2>&1 || true
	w sc stop dumpscout >/dev/null 2>&1 || true
	w sc delete dumpscout >/dev/null 2>&1 || true
fi
rm -rf "$PD"
w reg delete "$LD" /f >/dev/null 2>&1 || true
w reg add "$LD" /v DumpCount /t REG_DWORD /d 3 /f >/dev/null
before=$(ld_snapshot)
mkdir -p "$PD"
cat >"$PD/dumpscout.json" <<'JSON'
{ "watch": { "stability_ms": 2000 }, "wer": { "applications": ["Scout.Host.exe"] } }
JSON
if w msiexec /i "$MSI" /qn >"$tmp/install.out" && wait_state RUNNING 60; then
	pass windows_service_dotnet_installed
else
	fail windows_service_dotnet_installed "state '$(svc_state)': $(cat "$tmp/install.out" "$tmp/w.err" | head -c 600)"
	exit 0
fi

# ---- the engine the MSI installed --------------------------------------------------------------------
# Wine ignores WER LocalDumps, so the runtime's own createdump.exe stands in for WER here (type 4, a full
# dump, which is what LocalDumps DumpType 2 writes on Windows; Wine's dbghelp writes no memory for type 2).
# The host runs from build/fixtures/windows/dotnet (a Z: path), so the DAC is found in the folder the dump
# recorded for coreclr.dll. Scenario s01 crashes live; s03 (a strong GC handle instead of a static field)
# is the cached fixture dump copied in, to keep the test's time down.
engine_exe="$WINEPREFIX/drive_c/Program Files/dumpscout/engine/dumpscout-heap.exe"
if [ -f "$engine_exe" ]; then pass windows_service_engine_installed; else
	fail windows_service_engine_installed "no $engine_exe after the MSI install"; fi
# The installed CLI (not build/win's, whose own engine\ folder is beside it) finds the installed engine.
ICLI='C:\Program Files\dumpscout\dumpscout.exe'
w "$ICLI" wer status --json >"$tmp/status-installed.json"
eng=$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1])).get("heap_engine") or {}
p = (e.get("path") or "").replace("/", "\\").lower()
print("found=%s self_contained=%s version=%s clrmd=%s" % (p == "c:\\program files\\dumpscout\\engine\\dumpscout-heap.exe",
      e.get("self_contained"), bool(e.get("version")), bool(e.get("clrmd"))))' "$tmp/status-installed.json" 2>&1)
expect_eq windows_service_wer_status_engine "$eng" "found=True self_contained=True version=True clrmd=True"
echo "     also wer status heap_engine: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("heap_engine"))' "$tmp/status-installed.json" 2>&1)"

# dotnet_row FILE_NAME SIZE: "ID STATE" of the newest row for that file at its final size once it is
# finished, else nothing. (While Wine's dbghelp pauses between the directory and the memory, the service
# may take the partial file; the complete one is new content at the same path, hence a new row.)
dotnet_row() {
	w "$CLI" list --json --db 'C:\ProgramData\dumpscout\dumpscout.db' >"$tmp/list.json" 2>/dev/null
	python3 -c '
import json, sys
try:
    rows = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
rows = [r for r in rows if r.get("file_name") == sys.argv[2] and str(r.get("size")) == sys.argv[3]]
rows.sort(key=lambda r: r.get("id") or 0)
if rows and rows[-1].get("state") in ("done", "failed", "unsupported"):
    print(rows[-1].get("id"), rows[-1].get("state"))
' "$tmp/list.json" "$1" "$2"
}

# dotnet_check SCENARIO DUMP_FILE_NAME: the stored result against the scenario's expectations, and the
# Linux build's classification of the engine document the Windows CLI saves for the same dump.
dotnet_check() {
	local sc=$1 file=$2 row id
	row=$(dotnet_row "$file" "$(stat -c %s "$PD/dumps/$file" 2>/dev/null)")
	id=${row%% *}
	if [ -z "$row" ]; then
		fail "windows_service_dotnet_${sc}_stored" "no finished row for $file: $(tr -d '\n' <"$tmp/list.json" | head -c 800)"
		return
	fi
	expect_eq "windows_service_dotnet_${sc}_stored" "${row#* }" done
	w "$CLI" show "$id" --json --db 'C:\ProgramData\dumpscout\dumpscout.db' >"$tmp/$sc.show.json"
	# The same dump through the Windows CLI (the shipped engine found beside dumpscout.exe), its engine
	# document saved; the Linux build classifies that document.
	(cd "$PD/dumps" && timeout -k 5 600 wine "$ICLI" analyze "$file" --json --save-document "Z:$tmp/$sc.engine.json") \
		2>/dev/null | tr -d '\r' >"$tmp/$sc.win-analyze.json"
	if [ -s "$tmp/$sc.engine.json" ] && "$DS" analyze --engine-json "$tmp/$sc.engine.json" --json >"$tmp/$sc.linux.json" 2>"$tmp/$sc.linux.err"; then
		python3 tests/e2e/windows_dotnet_check.py "windows_service_dotnet_$sc" "$tmp/$sc.show.json" \
			"tests/fixtures/dotnet/expect/$sc.json" "$tmp/$sc.linux.json"
	else
		python3 tests/e2e/windows_dotnet_check.py "windows_service_dotnet_$sc" "$tmp/$sc.show.json" \
			"tests/fixtures/dotnet/expect/$sc.json"
		fail "windows_service_dotnet_${sc}_linux_agrees" "no engine document from the Windows CLI, or the Linux build rejected it: $(head -c 400 "$tmp/$sc.linux.err" 2>/dev/null) $(head -c 400 "$tmp/$sc.win-analyze.json")"
	fi
}

if [ ! -x "$DS" ] || ! command -v dotnet >/dev/null 2>&1; then
	skip windows_service_dotnet "the Linux build $DS or the .NET SDK is missing"
else
	t_crash=$(date +%s.%N)
	if dump=$(WINEPREFIX=$WINEPREFIX tests/fixtures/windows/make_dotnet_dumps.sh --crash s01-static-field \
		--into "$PD/dumps" 2>"$tmp/dotnet-crash.log"); then
		pass windows_service_dotnet_crash
	else
		fail windows_service_dotnet_crash "$(tail -n 10 "$tmp/dotnet-crash.log")"
	fi
	t_dumped=$(date +%s.%N)
	file=$(basename "${dump:-none}")
	for _ in $(seq 1 600); do
		[ -n "$(dotnet_row "$file" "$(stat -c %s "$PD/dumps/$file" 2>/dev/null)")" ] && break
		sleep 0.5
	done
	t_stored=$(date +%s.%N)
	dotnet_check s01-static-field "$file"
	echo "     also .NET crash under Wine: host start to dump complete $(awk -v a="$t_crash" -v b="$t_dumped" 'BEGIN { printf "%.1f", b - a }') s, dump complete to result stored $(awk -v a="$t_dumped" -v b="$t_stored" 'BEGIN { printf "%.1f", b - a }') s"
	# the second scenario: the cached full dump (make fixtures-windows), as WER would drop it
	if tests/fixtures/windows/make_dotnet_dumps.sh >"$tmp/dotnet-fix.log" 2>&1; then
		cp build/fixtures/windows/dotnet-dumps/s03-strong-gchandle.full.dmp "$PD/dumps/Scout.Host.exe.s03.dmp"
		for _ in $(seq 1 600); do
			[ -n "$(dotnet_row Scout.Host.exe.s03.dmp "$(stat -c %s "$PD/dumps/Scout.Host.exe.s03.dmp")")" ] && break
			sleep 0.5
		done
		dotnet_check s03-strong-gchandle Scout.Host.exe.s03.dmp
	else
		fail windows_service_dotnet_s03_fixture "$(tail -n 10 "$tmp/dotnet-fix.log")"
	fi
fi

# ---- stop and uninstall: LocalDumps as before ----------------------------------------------------------
w net stop dumpscout >/dev/null 2>&1
if wait_state STOPPED 30; then pass windows_service_dotnet_stopped; else
	fail windows_service_dotnet_stopped "state '$(svc_state)'"; fi
w msiexec /x "$MSI" /qn >/dev/null 2>&1
if w reg query "$SVCKEY" >/dev/null 2>&1; then fail windows_service_dotnet_removed "$SVCKEY is still there"; else
	pass windows_service_dotnet_removed; fi
expect_eq windows_service_dotnet_localdumps_restored "$(ld_snapshot)" "$before"
if [ -f "$WINEPREFIX/drive_c/Program Files/dumpscout/engine/dumpscout-heap.exe" ]; then
	fail windows_service_dotnet_engine_removed "the engine is still installed after msiexec /x"
else
	pass windows_service_dotnet_engine_removed
fi
echo "     also total $(($(date +%s) - t0)) s"
