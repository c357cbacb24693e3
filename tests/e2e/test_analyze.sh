#!/usr/bin/env bash
# The analyzer end to end: the heap engine on every real fixture dump, checked against the scenarios'
# expectations (culprit, root kind, context name, control without a leak), the engine document round trip,
# agreement with the recorded SOS sessions, and signature stability across two processes. Builds the
# fixtures first when they are missing; skips when the engine is not built (make engine).
cd "$(dirname "$0")/../.." && source tests/lib.sh
T_OUT=$(mktemp "${TMPDIR:-/tmp}/dumpscout-analyze.XXXXXX"); trap 'rm -f "$T_OUT"' EXIT
if [ ! -f build/fixtures/dumps/s01-static-field.dmp ]; then
	make -s fixtures >/dev/null 2>&1 || { fail analyze_fixtures "make fixtures failed"; exit 0; }
fi
if [ -x "$BUILD/engine/dumpscout-heap" ]; then
	/usr/bin/python3 tests/e2e/analyze_check.py "$DS" build/fixtures/dumps tests/fixtures/dotnet/expect
	# the scenarios published self-contained for .NET 8 and 9 (each folder brings its own DAC)
	for v in net8 net9; do
		[ -d build/fixtures/dumps/$v ] || continue
		FIXTURE_RUNTIME=$v /usr/bin/python3 tests/e2e/analyze_check.py "$DS" build/fixtures/dumps/$v \
			tests/fixtures/dotnet/expect | sed "s/^\(PASS\|FAIL\|SKIP\) analyze_/\1 analyze_${v}_/" | grep -v "^SKIP.*no build"
	done
else
	skip analyze_fixtures "no $BUILD/engine/dumpscout-heap (make engine)"
fi

# Exit codes and statuses at the edges: corrupt input, a native dump, a missing engine.
out=$("$DS" analyze "$CORPUS/dumps/mdmp/rust-minidump__invalid-range.dmp" 2>&1); rc=$?
case "$rc:$out" in 2:*offset*) pass analyze_corrupt_exit2_with_offset ;; *) fail analyze_corrupt_exit2_with_offset "exit $rc: $out" ;; esac
st=$("$DS" analyze --json "$CORPUS/dumps/elf/lldb__linux-x86_64.core" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["analysis"]["status"])'; echo "exit ${PIPESTATUS[0]}")
expect_eq analyze_native_core_not_dotnet "$(echo $st)" "not_dotnet exit 0"
if [ -f build/fixtures/dumps/s01-static-field.dmp ]; then
	st=$("$DS" analyze --json --engine /nonexistent/dumpscout-heap build/fixtures/dumps/s01-static-field.dmp 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["analysis"]["status"])'; echo "exit ${PIPESTATUS[0]}")
	expect_eq analyze_engine_missing_exit1 "$(echo $st)" "engine_missing exit 1"
fi
# A DAC that cannot be found: no_dac naming the exact version and file, exit 1.
if [ -f build/fixtures/dumps/s01-static-field.dmp ] && [ -x "$BUILD/engine/dumpscout-heap" ]; then
	out=$(DOTNET_ROOT=/nonexistent "$DS" analyze --json --dac /nonexistent/libmscordaccore.so \
		build/fixtures/dumps/s01-static-field.dmp 2>/dev/null); rc=$?
	case "$rc" in 0) fail analyze_bad_dac_fails "exit 0" ;; *) pass analyze_bad_dac_fails ;; esac
fi
# Target text (a context name with markers, a fake gcroot record, ESC/OSC/BEL sequences) reaches people
# only cleaned, and does not change the verdict (fixture s28: the real holder is Quarantine.Held).
h=build/fixtures/dumps/s28-hostile-strings.dmp
if [ -f "$h" ] && [ -x "$BUILD/engine/dumpscout-heap" ]; then
	"$DS" analyze -q "$h" >"$T_OUT" 2>&1
	if LC_ALL=C grep -q $'[\x1b\x07]' "$T_OUT"; then fail analyze_hostile_names_cleaned "raw ESC/BEL in the output"
	else pass analyze_hostile_names_cleaned; fi
	if grep -q "is held by static field Scout.Host.Quarantine.Held" "$T_OUT" && ! grep -q "held by static field Scout.Host.PluginRegistry.Favorite" "$T_OUT"
	then pass analyze_hostile_names_verdict; else fail analyze_hostile_names_verdict "$(grep LEAK "$T_OUT" | head -c 300)"; fi
fi
