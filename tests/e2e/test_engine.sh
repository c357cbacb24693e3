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

# Every dump, the older runtimes' (dumps/net8/, dumps/net9/: self-contained publishes) as SCENARIO@net8;
# three engines at a time (each also runs its stack walker).
# Stacks are walked where the expectation involves a stack root (and for s10, the crash-isolation case);
# elsewhere --no-stacks halves the work (the stack walker is a second process with its own DAC).
stack_scenarios=$(python3 -c '
import glob, json, os
for f in sorted(glob.glob("'"$EXPECT"'/*.json")):
    e = json.load(open(f)); g = e.get("engine") or {}
    kinds = [e.get("root_kind"), g.get("root_kind")] + [o.get("root_kind") for o in g.get("other_roots") or []]
    if "stack" in kinds or "thread_stack" in kinds or e["scenario"].startswith("s10-"):
        print(e["scenario"])')
run_one() {
	local stacks=--no-stacks scen=${2%%@*}
	scen=${scen%.second}
	case " $(echo $stack_scenarios) " in *" $scen "*) stacks= ;; esac
	timeout 300 "$ENGINE" "$1" $stacks >"$T/out/$2.json" 2>"$T/out/$2.err"
	echo $? >"$T/out/$2.rc"
}
n=0
for dump in "$DUMPS"/*.dmp "$DUMPS"/net*/*.dmp; do
	[ -f "$dump" ] || continue
	name=$(basename "$dump" .dmp)
	[ -f "$EXPECT/${name%.second}.json" ] || continue
	sub=$(basename "$(dirname "$dump")")
	case "$sub" in net*) name="$name@$sub" ;; esac
	run_one "$dump" "$name" &
	n=$((n + 1))
	[ $((n % 3)) -ne 0 ] || wait
done
wait
[ "$n" -gt 0 ] || fail engine-dumps "no fixture dump with expectations in $DUMPS"
python3 tests/e2e/engine_check.py "$EXPECT" "$T/out"

# The runtime version the engine reports is the product version the fixture ran on (make_fixtures.sh
# records the runtime it published with in each folder's manifest.tsv), not the runtime file's version.
for m in "$DUMPS"/manifest.tsv "$DUMPS"/net*/manifest.tsv; do
	[ -f "$m" ] || continue
	sub=$(basename "$(dirname "$m")")
	got=$(python3 - "$m" "$T/out" "$sub" <<'PY'
import csv, json, os, sys
bad, n = [], 0
for row in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    name = row["dump"][:-4]
    out = os.path.join(sys.argv[2], name + ("@" + sys.argv[3] if sys.argv[3].startswith("net") else "") + ".json")
    if not os.path.exists(out) or not row.get("runtime"):
        continue
    v = (json.load(open(out)).get("runtime") or {}).get("version")
    n += 1
    if v != row["runtime"]:
        bad.append("%s: %s, ran on %s" % (name, v, row["runtime"]))
print("%d dumps" % n if not bad else "; ".join(bad))
PY
)
	case "$got" in
	"0 dumps") ;;
	*" dumps") pass "runtime version ($sub: $got)" ;;
	*) fail "runtime version ($sub)" "$got" ;;
	esac
done

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

# runtime_handle: a context never unloaded is held by the runtime itself (its custom binder keeps a strong
# handle to the LoaderAllocator until Unload()). bench/heapgen makes such a dump: 8 MiB, two contexts of
# which bench-0 leaks through the static Held.Plugins and bench-1 unloads, and one context kept-0 loaded
# and never unloaded. The engine reports kept-0 alive with that handle as its root (hinted as a false
# root); bench-0's handle went at Unload(); the analysis calls kept-0 live, not a leak.
if [ -f build/fixtures/bin/plugins/Scout.Plugin.dll ] &&
	DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet build bench/heapgen/HeapGen.csproj -c Release --nologo \
		-v quiet >"$T/heapgen.log" 2>&1; then
	{ DOTNET_DbgEnableMiniDump=1 DOTNET_DbgMiniDumpType=2 DOTNET_DbgMiniDumpName="$T/kept.dmp" \
		build/bench/heapgen-artifacts/bin/HeapGen/release/HeapGen 8 2 1 build/fixtures/bin 1 >/dev/null 2>&1; } 2>/dev/null
	"$ENGINE" "$T/kept.dmp" --no-stacks >"$T/kept.json" 2>/dev/null
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); cs={c["name"]: c for c in d["contexts"]}
k, b = cs.get("kept-0") or {}, cs.get("bench-0") or {}
rh = [r for r in k.get("roots", []) if r["kind"] == "runtime_handle"]
print(k.get("state"), len(rh), rh and rh[0]["false_root_hint"], rh and rh[0]["path"][0]["type"],
      b.get("state"), [r["field"] for r in b.get("roots", []) if r["kind"] == "static_field"],
      any(r["kind"] == "runtime_handle" for r in b.get("roots", [])))' "$T/kept.json" 2>&1)
	expect_eq "runtime_handle of a context never unloaded" "$got" \
		"alive 1 runtime_handle System.Reflection.LoaderAllocator unloading ['DumpScout.Bench.Held.Plugins'] False"
	got=$("$DS" analyze --json "$T/kept.dmp" 2>/dev/null | python3 -c 'import json,sys; a=json.load(sys.stdin)["analysis"]
cs={c["name"]: c for c in a["contexts"]}
print(a["leak"], cs["kept-0"]["state"], cs["bench-0"]["state"])' 2>&1)
	expect_eq "runtime_handle: the context is live, the leak is bench-0" "$got" "True live unloading_held"
else
	skip runtime_handle "no fixture plugin (make fixtures) or heapgen does not build: $(tail -n 3 "$T/heapgen.log" 2>/dev/null)"
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
# A native core (no .NET runtime in it): status no_runtime, exit 0.
native=build/fixtures/native/gcore.core
if [ -s "$native" ]; then
	"$ENGINE" "$native" --no-stacks >"$T/native.json" 2>/dev/null
	rc=$?
	got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], d["contexts"])' "$T/native.json" 2>&1)
	expect_eq "native core" "$rc $got" "0 no_runtime []"
fi
