#!/usr/bin/env bash
# test_fixture_scenarios.sh - engine-free proof that every .NET fixture scenario (tests/fixtures/dotnet/
# expect/*.json) is what its expectation says: the expectation files are well formed (the "engine" object
# the analysis tests use); every scenario crashed with its exact FailFast message (or unhandled exception)
# and left a heap dump and a crash report, on .NET 10 and, for the subset, on self-contained .NET 8 and 9;
# every static field an expectation names exists, static or thread-static as stated, in that runtime
# (reflection in the host itself); and with DUMPSCOUT_FIXTURE_UNDO=1 (the host undoes the planted leak
# before Unload) each leaking scenario's context does unload, so the planted leak is the only thing
# holding it. The SOS-era checks of s01-s10 are tests/e2e/test_fixtures.sh. Builds the dumps when missing.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

EXPECT=tests/fixtures/dotnet/expect
DUMPS=build/fixtures/dumps
BIN=build/fixtures/bin
CHECK=tests/fixtures/check_expect.py
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v dotnet >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skip fixture-scenarios "dotnet or python3 missing (make deps)"
	exit 0
fi
python3 "$CHECK" schema "$EXPECT"

# Every scenario the script crashes has an expectation, and the other way round.
expect_eq fixture-scenarios-listed "$(bash tests/fixtures/make_fixtures.sh --list | sort | tr '\n' ' ')" \
	"$(ls "$EXPECT" | sed 's/\.json$//' | sort | tr '\n' ' ')"

if ! out=$(bash tests/fixtures/make_fixtures.sh 2>&1); then
	fail fixtures-build "make_fixtures.sh failed: $(printf '%s' "$out" | tail -n 20)"
	exit 0
fi
python3 "$CHECK" crash "$EXPECT" "$DUMPS"

# fields HOSTDIR LABEL SCENARIO...: the host of that runtime looks every named static up by reflection.
fields() {
	local bin=$1 label=$2 n f kind got
	shift 2
	FIXTURE_RUNTIME=${label%-} python3 "$CHECK" fields "$EXPECT" "$@" >"$T/fields"
	# shellcheck disable=SC2046
	"$bin/Scout.Host" --has-field $(cut -f2 "$T/fields") >"$T/found" 2>&1
	while IFS=$'\t' read -r n f kind; do
		got=$(awk -F'\t' -v f="$f" '$1 == f { print $2; exit }' "$T/found")
		expect_eq "$label$n-field $f" "$got" "$kind"
	done <"$T/fields"
}
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-scenarios.XXXXXX")
trap 'rm -rf "$T"' EXIT
fields "$BIN" "" 

# The planted leak is the only root: undone, the context unloads (exit 0: the host FailFasts otherwise).
# An expectation's "undo" says otherwise: "none" (no public way to undo: s17), "held" (the public undo
# leaves the framework's second root in place: s16).
for ex in "$EXPECT"/s*.json; do
	n=$(basename "$ex" .json)
	case $n in s0[1-9]-* | s10-*) continue ;; esac # s01-s10 have no undo mode
	want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("undo", "unloads"))' "$ex")
	o=$(DUMPSCOUT_FIXTURE_UNDO=1 timeout 120 "$BIN/Scout.Host" "$n" 2>&1)
	rc=$?
	case $want:$rc in
	none:3) skip "$n-undo" "no public way to undo this leak" ;;
	unloads:0) pass "$n-undo-unloads" ;;
	held:134) if printf '%s' "$o" | grep -q "did not unload"; then pass "$n-undo-still-held"; else
		fail "$n-undo-still-held" "exit 134 without the unload FailFast"; fi ;;
	*) fail "$n-undo-$want" "exit $rc: $(printf '%s' "$o" | tail -n 3 | tr '\n' '|' | cut -c1-300)" ;;
	esac
done

# .NET 8 and 9: the same checks on the subset, with the runtime, createdump and DAC of the app folder.
for v in net8 net9; do
	dir=$DUMPS/$v
	if [ -f "$dir/UNAVAILABLE" ]; then
		skip "$v-fixtures" "$(cat "$dir/UNAVAILABLE")"
		continue
	fi
	mapfile -t subset < <(bash tests/fixtures/make_fixtures.sh --list-old-runtimes)
	python3 "$CHECK" crash "$EXPECT" "$dir" "${subset[@]}" | sed "s/^\(PASS\|FAIL\) /\1 $v-/"
	rt=$(awk -F'\t' 'NR == 2 { print $6 }' "$dir/manifest.tsv")
	case $rt in "${v#net}".0.*) pass "$v-runtime $rt" ;; *) fail "$v-runtime" "manifest says runtime '$rt'" ;; esac
	for f in libmscordaccore.so createdump libcoreclr.so; do
		if [ -f "build/fixtures/bin-$v/$f" ]; then pass "$v-app-folder-$f"; else fail "$v-app-folder-$f" "missing"; fi
	done
	fields "build/fixtures/bin-$v" "$v-" # every expectation: the fields are checked without a dump
done
