#!/usr/bin/env bash
# test_windows_service.sh - the Windows service end to end under Wine (docs/windows.md): cross-build,
# `make msi`, install with msiexec in a Wine prefix of its own (build/win/wineprefix-service, reused), the
# service RUNNING, WER LocalDumps written with the right types (globally and for a configured
# application), the install folder on PATH, a real minidump of a crashing program (Wine's AeDebug
# `winedbg --minidump`, written straight into the watched folder) triaged in the database with the
# exception code and pid the program itself reported, `net stop` reaching STOPPED with exit code 0, and
# `msiexec /x` removing the service and putting LocalDumps back exactly as it was before the install
# (values that were there, with their types, and one that was absent). SKIPs without wine, mingw-w64
# or wixl. About a minute with a cached build and prefix.
# .NET dumps through the installed service: test_windows_service_dotnet.sh.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

WIN_DIR=build/win
CLI=$WIN_DIR/dumpscout.exe
MSI=$WIN_DIR/dumpscout.msi
export WINEPREFIX=$PWD/$WIN_DIR/wineprefix-service WINEDEBUG=-all
LD='HKLM\SOFTWARE\Microsoft\Windows\Windows Error Reporting\LocalDumps'
SVCKEY='HKLM\System\CurrentControlSet\Services\dumpscout'
PD=$WINEPREFIX/drive_c/ProgramData/dumpscout

for tool in x86_64-w64-mingw32-gcc wine wineserver winedbg wixl msibuild msiinfo python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip windows_service "$tool is not installed (make windows-deps installs mingw-w64, Wine and wixl)"
		exit 0
	fi
done

scratch
tmp=$SCRATCH
t0=$(date +%s)

# ---- build ----------------------------------------------------------------------------------------
if make -j2 windows windows-engine msi build/fixtures/windows/crash.exe >"$tmp/make.log" 2>&1 && [ -f "$MSI" ]; then
	pass windows_service_build
else
	fail windows_service_build "$(grep -E 'error|undefined reference|\*\*\*|build_msi' "$tmp/make.log" | sort -u | head -n 15)"
	exit 0
fi
t_build=$(($(date +%s) - t0))

# ---- a Wine prefix of our own ---------------------------------------------------------------------
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	mkdir -p "$WINEPREFIX"
	wineboot -i >/dev/null 2>&1
	wineserver -w
fi
# Persistent: without it Wine ends the service as soon as the last ordinary Wine process exits.
wineserver -p
trap 'wineserver -k >/dev/null 2>&1; rm -rf "$SCRATCH"' EXIT

source tests/e2e/windows_lib.sh

# ---- a clean slate, then the "before" state the uninstall must restore ---------------------------
if w reg query "$SVCKEY" >/dev/null 2>&1; then
	w msiexec /x "$MSI" /qn >/dev/null 2>&1 || true
	w sc stop dumpscout >/dev/null 2>&1 || true
	w sc delete dumpscout >/dev/null 2>&1 || true
fi
rm -rf "$PD"
w reg delete "$LD" /f >/dev/null 2>&1 || true
# Present before: DumpCount 5, DumpFolder (REG_EXPAND_SZ), CustomDumpFlags (left alone: type 2 ignores
# it). Absent before: DumpType (must be absent again after) and the crash.exe subkey.
w reg add "$LD" /v DumpCount /t REG_DWORD /d 5 /f >/dev/null
w reg add "$LD" /v DumpFolder /t REG_EXPAND_SZ /d '%LOCALAPPDATA%\OldDumps' /f >/dev/null
w reg add "$LD" /v CustomDumpFlags /t REG_DWORD /d 4660 /f >/dev/null
before=$(ld_snapshot)
if [ "$(printf '%s\n' "$before" | grep -c '|')" = 3 ]; then
	pass windows_service_before_state
else
	fail windows_service_before_state "could not set up LocalDumps: $before"
fi
# A config the service finds at start: one application subkey, seven dumps kept.
mkdir -p "$PD"
cat >"$PD/dumpscout.json" <<'EOF'
{ "watch": { "stability_ms": 500 }, "wer": { "dump_count": 7, "applications": ["crash.exe"] } }
EOF

# ---- install ---------------------------------------------------------------------------------------
t1=$(date +%s)
if w msiexec /i "$MSI" /qn >"$tmp/install.out"; then
	pass windows_service_msi_install
else
	fail windows_service_msi_install "msiexec /i exited $?: $(cat "$tmp/install.out" "$tmp/w.err" | head -c 600)"
fi
if wait_state RUNNING 30; then
	pass windows_service_running
else
	fail windows_service_running "state '$(svc_state)' after 30 s; log: $(tail -n 5 "$PD/logs/dumpscoutd.log" 2>&1)"
fi
t_install=$(($(date +%s) - t1))
# The SCM's record (sc qc does not work under Wine): automatic start, LocalSystem.
svc=$(w reg query "$SVCKEY")
if grep -qE 'Start[[:space:]]+REG_DWORD[[:space:]]+0x2$' <<<"$svc" && grep -qiE 'ObjectName[[:space:]]+REG_SZ[[:space:]]+LocalSystem' <<<"$svc"; then
	pass windows_service_auto_localsystem
else
	fail windows_service_auto_localsystem "$svc"
fi

# ---- WER LocalDumps, with types ---------------------------------------------------------------------
ld=$(ld_snapshot)
want_global="DumpCount|REG_DWORD|0x7
DumpFolder|REG_EXPAND_SZ|C:\\ProgramData\\dumpscout\\dumps
DumpType|REG_DWORD|0x2
CustomDumpFlags|REG_DWORD|0x1234"
got_global=$(awk -F'|' '$1 ~ /LocalDumps$/ { print $2 "|" $3 "|" $4 }' <<<"$ld" | sort)
expect_eq windows_service_localdumps_global "$got_global" "$(sort <<<"$want_global")"
got_app=$(awk -F'|' '$1 ~ /LocalDumps\\crash\.exe$/ { print $2 "|" $3 "|" $4 }' <<<"$ld" | sort)
want_app=$(printf '%s\n' 'DumpCount|REG_DWORD|0x7' 'DumpFolder|REG_EXPAND_SZ|C:\ProgramData\dumpscout\dumps' 'DumpType|REG_DWORD|0x2' | sort)
expect_eq windows_service_localdumps_app "$got_app" "$want_app"
if [ -f "$PD/wer-saved.json" ]; then pass windows_service_saved_file; else
	fail windows_service_saved_file "no $PD/wer-saved.json"; fi

path=$(w reg query 'HKLM\System\CurrentControlSet\Control\Session Manager\Environment' /v PATH)
if grep -qi 'C:\\Program Files\\dumpscout' <<<"$path"; then pass windows_service_path; else
	fail windows_service_path "$path"; fi

# `dumpscout wer status --json`: the folder is the watched one and exists; the saved file is known.
w "$CLI" wer status --json >"$tmp/status.json"
st=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = d.get("dump_folder") or {}
print("watched=%s exists=%s saved=%s type=%s" % (f.get("watched"), f.get("exists"), d.get("saved"),
      ((d.get("localdumps") or {}).get("DumpType") or {}).get("type")))' "$tmp/status.json" 2>&1)
expect_eq windows_service_wer_status "$st" "watched=True exists=True saved=True type=REG_DWORD"

# ---- a real crash dump, written into the watched folder ---------------------------------------------
dump=$PD/dumps/crash.exe.dmp
if DUMP_FILE=$dump bash tests/fixtures/windows/make_dump.sh build/fixtures/windows/crash.exe "$tmp/crash" \
	>"$tmp/crash.log" 2>&1; then
	pass windows_service_crash_dump
else
	fail windows_service_crash_dump "$(tail -n 5 "$tmp/crash.log")"
fi
exp=$tmp/crash/crash.expect
want="pid=$(awk '$1 == "pid" { print $2 }' "$exp" 2>/dev/null) code=0xc0000005 process=crash.exe"
got=""
for _ in $(seq 1 60); do
	w "$CLI" list --json --db 'C:\ProgramData\dumpscout\dumpscout.db' >"$tmp/list.json" 2>/dev/null
	got=$(python3 -c '
import json, sys
try:
    rows = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for r in rows:
    if r.get("file_name") == "crash.exe.dmp" and r.get("state") in ("triaged", "done", "unsupported"):
        print("pid=%s code=0x%08x process=%s" % (r.get("pid"), r.get("exception_code") or 0, r.get("process_name")))
' "$tmp/list.json")
	[ -n "$got" ] && break
	sleep 0.5
done
expect_eq windows_service_dump_triaged "$got" "$want"

# ---- stop -------------------------------------------------------------------------------------------
w net stop dumpscout >"$tmp/stop.out" 2>&1
if wait_state STOPPED 30; then
	pass windows_service_stopped
else
	fail windows_service_stopped "state '$(svc_state)': $(cat "$tmp/stop.out")"
fi
code=$(w sc query dumpscout | awk '$1 == "WIN32_EXIT_CODE" { print $3 }')
if [ "$code" = 0 ] && grep -q 'dumpscoutd stopped (exit code 0)' "$PD/logs/dumpscoutd.log"; then
	pass windows_service_clean_stop
else
	fail windows_service_clean_stop "exit code '$code'; log: $(tail -n 4 "$PD/logs/dumpscoutd.log")"
fi

# ---- uninstall: service gone, LocalDumps exactly as before, data kept -------------------------------
if w msiexec /x "$MSI" /qn >"$tmp/uninstall.out"; then
	pass windows_service_msi_uninstall
else
	fail windows_service_msi_uninstall "msiexec /x exited $?: $(head -c 600 "$tmp/uninstall.out")"
fi
if w reg query "$SVCKEY" >/dev/null 2>&1; then
	fail windows_service_removed "$SVCKEY is still there"
else
	pass windows_service_removed
fi
after=$(ld_snapshot)
expect_eq windows_service_localdumps_restored "$after" "$before"
if [ ! -f "$PD/wer-saved.json" ] && [ -f "$PD/dumpscout.db" ] && [ -f "$dump" ]; then
	pass windows_service_data_kept
else
	fail windows_service_data_kept "saved file $(ls "$PD/wer-saved.json" 2>&1); db/dump: $(ls "$PD" "$PD/dumps" 2>&1 | tr '\n' ' ')"
fi
path=$(w reg query 'HKLM\System\CurrentControlSet\Control\Session Manager\Environment' /v PATH)
if grep -qi 'dumpscout' <<<"$path"; then fail windows_service_path_removed "$path"; else pass windows_service_path_removed; fi

# ---- the same without the MSI: dumpscout service install|start|stop|uninstall -------------------------
if w "$CLI" service install >"$tmp/cli_install.out" && w "$CLI" service start >>"$tmp/cli_install.out" &&
	wait_state RUNNING 30; then
	pass windows_service_cli_install
else
	fail windows_service_cli_install "state '$(svc_state)': $(cat "$tmp/cli_install.out" "$tmp/w.err" | head -c 600)"
fi
w "$CLI" service status --json >"$tmp/cli_status.json"
expect_eq windows_service_cli_status "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("state"))' \
	"$tmp/cli_status.json" 2>&1)" running
if w "$CLI" service uninstall >"$tmp/cli_uninstall.out" && ! w reg query "$SVCKEY" >/dev/null 2>&1; then
	pass windows_service_cli_uninstall
else
	fail windows_service_cli_uninstall "$(cat "$tmp/cli_uninstall.out" "$tmp/w.err" | head -c 600)"
fi
expect_eq windows_service_cli_localdumps_restored "$(ld_snapshot)" "$before"

echo "     also timings: build ${t_build} s, install to RUNNING ${t_install} s, total $(($(date +%s) - t0)) s"
