#!/usr/bin/env bash
# test_engine.sh - runs the heap engine (build/engine/dumpscout-heap) on every .NET fixture dump and checks
# its JSON against docs/engine.md's shape and the fixtures' expectations (engine_check.py): the held
# context, the root kind, the static field, the thread and frame, the control's empty verdict, the crashing
# stack walk's partial status with the other roots kept, and the same roots in two dumps of one scenario.
# Also the command line's edges: bad arguments and a file that is not a dump (exit 2), a DAC folder
# without the DAC (status no_dac naming the version and file). Builds the engine and the dumps when missing.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

ENGINE=$BUILD/engine/dumpscout-heap
DUMPS=build/fixtures/dumps
EXPECT=tests/fixtures/dotnet/expect
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v dotnet >/dev/null 2>&1; then
	skip engine "dotnet missing (make deps)"
	exit 0
fi
if ! out=$(make -s BUILD="$BUILD" engine 2>&1); then
	fail engine-build "make engine failed: $(printf '%s' "$out" | tail -n 20)"
	exit 0
fi
if ! ls "$DUMPS"/*.dmp >/dev/null 2>&1; then
	if ! out=$(make -s fixtures 2>&1); then
		fail fixtures-build "make fixtures failed: $(printf '%s' "$out" | tail -n 20)"
		exit 0
	fi
fi
# The scratch folder lives in the build tree (other test runs on a shared machine clean /tmp); kept for
# a look when KEEP_ENGINE_OUT is set.
T=$BUILD/test-engine
rm -rf "$T"
[ -n "${KEEP_ENGINE_OUT:-}" ] || trap 'rm -rf "$T"' EXIT
mkdir -p "$T/out"

# Every dump, the older runtimes' (dumps/net8/, dumps/net9/: self-contained publishes) as SCENARIO@net8.
n=0
for dump in "$DUMPS"/*.dmp "$DUMPS"/net*/*.dmp; do
	[ -f "$dump" ] || continue
	name=$(basename "$dump" .dmp)
	[ -f "$EXPECT/${name%.second}.json" ] || continue
	sub=$(basename "$(dirname "$dump")")
	case "$sub" in net*) name="$name@$sub" ;; esac
	timeout 600 "$ENGINE" "$dump" >"$T/out/$name.json" 2>"$T/out/$name.err"
	echo $? >"$T/out/$name.rc"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail engine-dumps "no fixture dump with expectations in $DUMPS"
python3 tests/e2e/engine_check.py "$EXPECT" "$T/out"

# The crash-isolation case: the walker dies on s10's faulting thread; the warning names that thread.
s10="$T/out/s10-unhandled-exception.json"
if [ -s "$s10" ]; then
	st=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], any("thread 0x" in w for w in d["warnings"]))' "$s10")
	case "$st" in
	"ok False" | "partial True") pass "s10: status $st" ;;
	*) fail "s10: status" "got '$st' (partial must name the thread in a warning)" ;;
	esac
fi

# --no-stacks: no stack roots searched, the static roots still there (s01).
if [ -s "$DUMPS/s01-static-field.dmp" ]; then
	"$ENGINE" "$DUMPS/s01-static-field.dmp" --no-stacks >"$T/nostacks.json" 2>/dev/null
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(d["roots_searched"]["stack"], [r["field"] for c in d["contexts"] for r in c["roots"] if r["kind"] == "static_field"])' "$T/nostacks.json")
	expect_eq "--no-stacks" "$got" "0 ['Scout.Host.PluginRegistry.LastPlugin']"
	# --max-roots 1: one root per context, the real one, and the cut said.
	"$ENGINE" "$DUMPS/s01-static-field.dmp" --no-stacks --max-roots 1 >"$T/max1.json" 2>/dev/null
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["contexts"][0]
print(len(c["roots"]), c["roots"][0]["kind"], c["roots_truncated"])' "$T/max1.json")
	expect_eq "--max-roots 1" "$got" "1 static_field True"
	# A DAC folder without the DAC: status no_dac naming the version, the file and the folder.
	mkdir -p "$T/nodac"
	"$ENGINE" "$DUMPS/s01-static-field.dmp" --dac "$T/nodac" >"$T/nodac.json" 2>/dev/null
	rc=$?
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["error"] or ""
print(d["status"], d["runtime"]["version"] in e, "libmscordaccore.so" in e, sys.argv[2] in e)' "$T/nodac.json" "$T/nodac")
	expect_eq "no_dac" "$rc $got" "0 no_dac True True True"
fi

# Command-line edges: exit 2 and nothing on stdout.
"$ENGINE" >"$T/o" 2>/dev/null
expect_eq "no arguments" "$? $(wc -c <"$T/o")" "2 0"
"$ENGINE" "$DUMPS/s01-static-field.dmp" --max-roots x >"$T/o" 2>/dev/null
expect_eq "bad --max-roots" "$? $(wc -c <"$T/o")" "2 0"
head -c 4096 /dev/urandom >"$T/junk.dmp"
"$ENGINE" "$T/junk.dmp" >"$T/o" 2>"$T/e"
rc=$?
expect_eq "not a dump" "$rc $(wc -c <"$T/o") $(grep -c "junk.dmp" "$T/e")" "2 0 1"
