#!/usr/bin/env bash
# test_windows_build.sh - the Windows cross-build (mk/windows.mk, docs/windows.md): `make windows` builds,
# the exe imports only system DLLs and exports nothing, and under Wine dumpscout.exe reads minidumps the
# same way the Linux build does (pid, exception code, module count, exit codes for bad input), including
# a real Windows minidump made by `make fixtures-windows`, checked against what the crashing program
# printed. SKIPs when mingw-w64 or Wine is missing. About 30 s once build/win is cached.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

WIN_DIR=build/win
EXE=$WIN_DIR/dumpscout.exe
MDMP=$CORPUS/dumps/mdmp
export WINEPREFIX=$PWD/$WIN_DIR/wineprefix WINEDEBUG=-all

for tool in x86_64-w64-mingw32-gcc x86_64-w64-mingw32-objdump wine wineserver; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip windows_build "$tool is not installed (make windows-deps installs the toolchain and Wine)"
		exit 0
	fi
done
if [ ! -x "$DS" ]; then
	skip windows_build "the Linux build $DS is missing (make): nothing to compare with"
	exit 0
fi

scratch
tmp=$SCRATCH

# ---- build -----------------------------------------------------------------------------------------
if make -j2 windows >"$tmp/make.log" 2>&1 && [ -f "$EXE" ]; then
	pass windows_build
else
	fail windows_build "make windows failed: $(grep -E 'error:|undefined reference|\*\*\*' "$tmp/make.log" | sort -u | head -n 15)"
	exit 0
fi

# ---- imports and exports ---------------------------------------------------------------------------
# Every DLL the exe imports must ship with Windows: no libwinpthread, libgcc, libcurl, libsqlite3...
system_dlls=" kernel32.dll msvcrt.dll advapi32.dll ws2_32.dll user32.dll shell32.dll ole32.dll oleaut32.dll"
system_dlls+=" iphlpapi.dll userenv.dll psapi.dll dbghelp.dll bcrypt.dll crypt32.dll secur32.dll ntdll.dll"
system_dlls+=" gdi32.dll wevtapi.dll rpcrt4.dll shlwapi.dll version.dll wldap32.dll normaliz.dll "
check_imports() {
	local exe=$1 name=$2 dlls bad="" d
	dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | awk '/DLL Name:/ { print tolower($3) }' | sort -u)
	for d in $dlls; do
		case $d in api-ms-win-*) continue ;; esac
		case $system_dlls in *" $d "*) ;; *) bad="$bad $d" ;; esac
	done
	if [ -z "$dlls" ]; then
		fail "$name" "objdump found no imports at all in $exe"
	elif [ -n "$bad" ]; then
		fail "$name" "imports non-system DLLs:$bad (all: $(echo $dlls))"
	else
		pass "$name"
	fi
	# cJSON built without CJSON_HIDE_SYMBOLS (or curl without CURL_STATICLIB) shows up as exports.
	if x86_64-w64-mingw32-objdump -p "$exe" | grep -q 'Export Address Table'; then
		fail "${name}_no_exports" "$exe exports symbols: $(x86_64-w64-mingw32-objdump -p "$exe" |
			awk '/\[Name Pointer\/Ordinal\] Name/ { on = 1; next } on && NF { print $NF }' | head -n 5 | tr '\n' ' ')"
	else
		pass "${name}_no_exports"
	fi
}
check_imports "$EXE" windows_cli_imports
if [ -f service/main_win.c ]; then
	check_imports "$WIN_DIR/dumpscoutd.exe" windows_service_imports
fi

# ---- Wine prefix -----------------------------------------------------------------------------------
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	mkdir -p "$WINEPREFIX"
	wineboot -i >/dev/null 2>&1
	wineserver -w
fi
# Keep one wineserver for the whole test (each wine start is then about 0.5 s, not 2 s); it ends
# by itself 30 s after the last Wine process.
wineserver -p30

# wine_ds ARGS... : runs dumpscout.exe under Wine; stdout without the CRs of Wine's console, and the
# exit status in $tmp/rc.
wine_ds() {
	timeout -k 5 60 wine "$EXE" "$@" >"$tmp/wine.raw" 2>"$tmp/wine.err"
	echo $? >"$tmp/rc"
	tr -d '\r' <"$tmp/wine.raw" >"$tmp/wine.out"
	cat "$tmp/wine.out"
}
# fields: pid, exception code and module count of an `inspect --json` document on stdin.
fields() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception as e:
    print("not JSON: %s" % e); sys.exit(0)
x = d.get("exception") or {}
print("pid=%s code=%s modules=%s" % (d.get("pid"), x.get("code"), d.get("module_count")))'
}

# ---- the platform layer's own tests, the same source as the Linux build's test_plat -------------
if make -j2 "$WIN_DIR/tests/test_plat.exe" >"$tmp/make_plat.log" 2>&1; then
	timeout -k 5 120 wine "$WIN_DIR/tests/test_plat.exe" >"$tmp/plat.raw" 2>&1
	rc=$?
	tr -d '\r' <"$tmp/plat.raw" | sed -n -e 's/^\(PASS\|FAIL\|SKIP\) /\1 windows_/p' -e 's/^     also /     also /p'
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$tmp/plat.raw"; then
		fail windows_test_plat "exited with status $rc: $(tail -n 5 "$tmp/plat.raw")"
	fi
else
	fail windows_test_plat "cannot build it: $(grep -E 'error:|undefined reference' "$tmp/make_plat.log" | sort -u | head -n 10)"
fi

# ---- --version and --help --------------------------------------------------------------------------
linux_version=$("$DS" --version)
win_version=$(wine_ds --version)
expect_eq windows_version "$win_version" "$linux_version"
wine_ds --help >/dev/null
if [ "$(cat "$tmp/rc")" = 0 ] && grep -q '^usage: dumpscout' "$tmp/wine.out"; then
	pass windows_help
else
	fail windows_help "exit $(cat "$tmp/rc"): $(head -c 300 "$tmp/wine.out") $(head -c 300 "$tmp/wine.err")"
fi

# ---- inspect: the same answers as the Linux build --------------------------------------------------
if ! "$DS" inspect "$MDMP/breakpad__minidump2.dmp" --json >/dev/null 2>&1; then
	skip windows_inspect "the inspect command is not there yet"
else
	for f in breakpad__minidump2.dmp bugsplat__myConsoleCrasher.dmp breakpad__null_read_av.dmp \
		lldb__linux-x86_64.dmp; do
		n=windows_inspect_${f%.dmp}
		if [ ! -f "$MDMP/$f" ]; then
			skip "$n" "$MDMP/$f is not in the corpus"
			continue
		fi
		want=$("$DS" inspect "$MDMP/$f" --json 2>/dev/null | fields)
		got=$(wine_ds inspect "$MDMP/$f" --json | fields)
		case $want in
		*pid=None*code=None*) fail "$n" "the Linux build gives no pid and no exception ($want): nothing to compare" ;;
		*) expect_eq "$n" "$got" "$want" ;;
		esac
	done

	# Bad input: the same exit codes (2 for a damaged or unknown file, 1 for a missing one).
	head -c 200 "$MDMP/breakpad__minidump2.dmp" >"$tmp/truncated.dmp"
	printf 'not a dump at all\n' >"$tmp/text.dmp"
	for f in "$tmp/truncated.dmp" "$tmp/text.dmp" "$tmp/missing.dmp"; do
		"$DS" inspect "$f" --json >/dev/null 2>&1
		want=$?
		wine_ds inspect "$f" --json >/dev/null
		expect_eq "windows_exit_$(basename "$f" .dmp)" "$(cat "$tmp/rc")" "$want"
	done

	# A real minidump of a crashing Windows program, caught by Wine's AeDebug winedbg.
	if make fixtures-windows >"$tmp/fix.log" 2>&1 && [ -f build/fixtures/windows/crash.expect ]; then
		exp=build/fixtures/windows/crash.expect
		want="pid=$(awk '$1 == "pid" { print $2 }' $exp) code=$(awk '$1 == "exception_code" { print $2 }' $exp)"
		got=$(wine_ds inspect build/fixtures/windows/crash.dmp --json | python3 -c '
import json, sys
d = json.load(sys.stdin); x = d.get("exception") or {}
print("pid=%s code=%s fault=%s thread=%s" % (d.get("pid"), x.get("code"), x.get("fault_address"), x.get("thread_id")))')
		want="$want fault=$(awk '$1 == "fault_address" { print $2 }' $exp) thread=$(awk '$1 == "tid" { print $2 }' $exp)"
		expect_eq windows_inspect_wine_crash "$got" "$want"
	else
		fail windows_inspect_wine_crash "make fixtures-windows failed: $(tail -n 10 "$tmp/fix.log")"
	fi
fi
