#!/usr/bin/env bash
# test_fixtures.sh - proves the .NET fixture dumps are what tests/fixtures/dotnet/expect/*.json say, by
# opening each one with the real SOS engine (dotnet-dump analyze, commands on stdin) and checking its
# output with grep/awk only. It saves the engine's transcripts (tests/golden/sos/) for the analyzer's
# parser tests when they are missing or UPDATE=1, and checks the saved ones the same way. It does not
# test dumpscout itself. Builds the dumps first (make fixtures) when they are missing.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

DUMPS=build/fixtures/dumps
EXPECT=tests/fixtures/dotnet/expect
GOLD=tests/golden/sos
DD=.tools/dotnet-dump
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ ! -x "$DD" ] || ! command -v dotnet >/dev/null 2>&1; then
	skip fixtures "dotnet or $DD missing (make deps)"
	exit 0
fi
# The SOS-era checks cover the first ten scenarios only (s11 and later: test_fixture_scenarios.sh and the
# heap engine's tests).
SOS_EXPECT=$(ls "$EXPECT"/s0[1-9]-*.json "$EXPECT"/s10-*.json)
need_build=0
for e in $SOS_EXPECT; do [ -s "$DUMPS/$(basename "$e" .json).dmp" ] || need_build=1; done
[ -s "$DUMPS/s02-static-lazy-dynamic.second.dmp" ] || need_build=1
if [ "$need_build" -eq 1 ]; then
	if ! out=$(make -s fixtures 2>&1); then
		fail fixtures-build "make fixtures failed: $(printf '%s' "$out" | tail -n 20)"
		exit 0
	fi
fi
# (Not lib.sh's scratch: called as $(scratch) its EXIT trap fires in the subshell and removes the folder.)
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-fixtures.XXXXXX")
trap 'rm -rf "$T"' EXIT

# --- expectations (flat JSON, one key per line) ---------------------------------------------------
# jstr FILE KEY: a string/bool value; jarr FILE KEY: an array of strings, one per line.
jstr() { sed -n -e "s/^ *\"$2\": *\"\(.*\)\",\{0,1\} *$/\1/p" -e "s/^ *\"$2\": *\([a-z0-9]*\),\{0,1\} *$/\1/p" "$1" | head -n 1; }
jarr() { sed -n "s/^ *\"$2\": *\[\(.*\)\],\{0,1\} *$/\1/p" "$1" | grep -o '"[^"]*"' | tr -d '"'; }

# --- engine sessions ------------------------------------------------------------------------------
# session DUMP CMDFILE OUT: one dotnet-dump process, commands on stdin, `exit` always last.
session() {
	{ cat "$2"; echo exit; } | timeout 300 "$DD" analyze "$1" >"$3" 2>&1
}
# section FILE CMD: the output of one command of a transcript (between its "> CMD" echo and the end marker).
section() {
	awk -v c="> $2" '$0 == c { on = 1; next } on && /^<END_COMMAND_(OUTPUT|ERROR)>$/ { exit } on { print }' "$1"
}
# heap_rows FILE CMD TYPE: addresses of the dumpheap rows whose statistics line names exactly TYPE.
heap_rows() {
	local out mt
	out=$(section "$1" "$2")
	mt=$(printf '%s\n' "$out" | awk -v t="$3" '/^Statistics:/ { s = 1; next }
		s && NF >= 4 { n = $4; for (i = 5; i <= NF; i++) n = n " " $i; if (n == t) print $1 }')
	[ -n "$mt" ] || return 0
	printf '%s\n' "$out" | awk -v mt="$mt" '/^Statistics:/ { exit } NF == 3 && $2 == mt { print $1 }'
}
# norm HEX: lower case without 0x and leading zeros, so 00007FE1... and 7fe1... compare equal.
norm() { printf '%s' "$1" | tr 'A-F' 'a-f' | sed 's/^0x//; s/^0*//'; }
# roots FILE: every gcroot section of a transcript, flattened to ROOT/FRAME/LINK/END records.
roots() {
	awk '/^> gcroot / { on = 1; next } /^<END_COMMAND_/ { on = 0 } !on { next }
		/^HandleTable:/ { g = "handle"; next }
		/^Thread [0-9a-f]+:/ { g = "thread"; print "THREAD " $2; next }
		/^Finalizer Queue:/ { g = "finalizer"; print "ROOT (finalizer root)"; next }
		/^Found [0-9]+ unique roots/ { print "END " $2; next }
		/-> / { sub(/^ *-> */, ""); a = $1; $1 = ""; sub(/^ */, ""); sub(/ *$/, ""); print "LINK " a " " $0; next }
		g == "handle" && /^ +[0-9a-f]+ \(/ { k = $0; sub(/^[^(]*\(/, "", k); sub(/\) *$/, "", k); print "ROOT (" k ")"; next }
		g == "thread" && /^ +[0-9a-f]+ +[0-9a-f]+ / { m = $3; print "FRAME " m; next }' "$1"
}

# analyze NAME DUMP EXPECTFILE TRANSCRIPT: runs the three sessions (survey, roots, strings) and writes
# their concatenated output to TRANSCRIPT.
analyze() {
	local name=$1 dump=$2 ex=$3 tr=$4 a b c mod owner mt alc_mt s
	a=$T/$name.a b=$T/$name.b c=$T/$name.c
	mod=$(jstr "$ex" culprit_module)
	owner=$(jstr "$ex" culprit | sed 's/\.[^.]*$//')
	{
		echo "dumpheap -type System.Reflection.LoaderAllocator"
		echo "dumpheap -type Scout.Host.PluginLoadContext"
		echo "dumpheap -type Scout.Plugin."
		echo "name2ee Scout.Plugin.dll!Scout.Plugin.GreeterPlugin"
		[ -z "$mod" ] || echo "name2ee $mod!$owner"
		echo "clrthreads"
		echo "clrstack -p"
		echo "pe"
	} >"$a.cmd"
	session "$dump" "$a.cmd" "$a.out" || return 1
	{
		for s in $(heap_rows "$a.out" "dumpheap -type System.Reflection.LoaderAllocator" System.Reflection.LoaderAllocator) \
			$(heap_rows "$a.out" "dumpheap -type System.Reflection.LoaderAllocator" System.Reflection.LoaderAllocatorScout) \
			$(section "$a.out" "dumpheap -type Scout.Plugin." | awk '/^Statistics:/ { exit } NF == 3 && $1 ~ /^[0-9a-f]+$/ { print $1 }'); do
			echo "gcroot $s"
		done
		mt=$(section "$a.out" "name2ee Scout.Plugin.dll!Scout.Plugin.GreeterPlugin" | awk '/^MethodTable:/ { print $2; exit }')
		[ -z "$mt" ] || echo "dumpmt $mt"
		alc_mt=$(section "$a.out" "dumpheap -type Scout.Host.PluginLoadContext" | awk '/^Statistics:/ { s = 1; next } s && $4 == "Scout.Host.PluginLoadContext" { print $1 }')
		for s in $(heap_rows "$a.out" "dumpheap -type Scout.Host.PluginLoadContext" Scout.Host.PluginLoadContext); do
			printf 'dumpvc %s %x\n' "$alc_mt" $((0x$s + 8)) # dumpobj crashes this engine; dumpvc at the fields works
		done
		if [ -n "$mod" ]; then
			mt=$(section "$a.out" "name2ee $mod!$owner" | awk -v o="$owner" '/^MethodTable:/ { m = $2 } /^Name:/ && $2 == o { print m; exit }')
			[ -z "$mt" ] || echo "dumpclass $mt"
		fi
	} >"$b.cmd"
	session "$dump" "$b.cmd" "$b.out" || return 1
	{
		# The strings: each context's _name and FailFast's message parameter, read with du (chars at +0xc).
		for s in $(awk '/ _name$/ { print $(NF - 1) }' "$b.out") \
			$(section "$a.out" "clrstack -p" | awk '/message \(0x/ { print $NF; exit }'); do
			[ "$(norm "$s")" = "" ] || printf 'du %x\n' $((0x$(norm "$s") + 12))
		done
	} >"$c.cmd"
	if [ -s "$c.cmd" ]; then session "$dump" "$c.cmd" "$c.out" || return 1; else : >"$c.out"; fi
	cat "$a.out" "$b.out" "$c.out" >"$tr"
}

# du_text TRANSCRIPT ADDR: the text du printed for the string object at ADDR.
du_text() {
	section "$1" "du $(printf '%x' $((0x$(norm "$2") + 12)))" | sed -n "s/^Text: '\(.*\)'$/\1/p"
}

# verify NAME EXPECTFILE TRANSCRIPT: every check of one scenario; prints PASS/FAIL lines.
verify() {
	local n=$1 ex=$2 tr=$3 leaks alc kind culprit rtype label las alcs a nm names="" s r msg
	leaks=$(jstr "$ex" leaks) alc=$(jstr "$ex" alc_name) kind=$(jstr "$ex" root_kind)
	culprit=$(jstr "$ex" culprit) rtype=$(jstr "$ex" root_object_type) label=$(jstr "$ex" sos_static_label)
	las=$(heap_rows "$tr" "dumpheap -type System.Reflection.LoaderAllocator" System.Reflection.LoaderAllocator)
	alcs=$(heap_rows "$tr" "dumpheap -type Scout.Host.PluginLoadContext" Scout.Host.PluginLoadContext)
	roots "$tr" >"$T/$n.roots"
	# The names of the contexts still on the heap, from their _name strings.
	for a in $alcs; do
		nm=$(awk -v a="$(printf '%x' $((0x$a + 8)))" '$0 ~ "^> dumpvc " && $4 == a { on = 1; next }
			on && / _name$/ { print $(NF - 1); exit }' "$tr")
		names="$names$(du_text "$tr" "$nm")
"
	done
	names=$(printf '%s' "$names" | sed '/^$/d')

	# The crash: FailFast's message (read from the crashing frame's parameter) or the managed exception.
	msg=$(jstr "$ex" crash_message)
	if [ "$(jstr "$ex" exception_type)" = System.ExecutionEngineException ]; then
		s=$(section "$tr" "clrstack -p" | awk '/message \(0x/ { print $NF; exit }')
		expect_eq "$n-failfast-message" "$(du_text "$tr" "$s")" "$msg"
	else
		s=$(section "$tr" pe)
		if printf '%s\n' "$s" | grep -q "^Exception type: *$(jstr "$ex" exception_type)\$" &&
			printf '%s\n' "$s" | grep -qF "Message:          $msg"; then pass "$n-exception"; else
			fail "$n-exception" "pe shows: $(printf '%s' "$s" | head -n 4 | tr '\n' '|')"; fi
	fi

	if [ "$leaks" = false ]; then
		# No live LoaderAllocator, no context object, no plugin module types with instances.
		if [ -z "$las" ] && [ -z "$alcs" ]; then pass "$n-no-leak"; else
			fail "$n-no-leak" "LoaderAllocators: $(echo $las) contexts: $(echo $alcs)"; fi
		if [ -n "$alc" ]; then
			# The plugin's module is gone with its context.
			if section "$tr" "name2ee Scout.Plugin.dll!Scout.Plugin.GreeterPlugin" | grep -q "^Failed to find module matching 'Scout.Plugin.dll'"; then
				pass "$n-plugin-module-gone"; else fail "$n-plugin-module-gone" "name2ee still finds Scout.Plugin.dll"; fi
		fi
		for s in $(jarr "$ex" clean_alcs); do
			if printf '%s\n' "$names" | grep -qxF "$s"; then fail "$n-clean-$s" "context $s is still alive"; else pass "$n-clean-$s"; fi
		done
		return
	fi

	# The named context is alive, and it is the only one.
	expect_eq "$n-alc-name" "$names" "$alc"
	for s in $(jarr "$ex" clean_alcs); do
		if printf '%s\n' "$names" | grep -qxF "$s"; then fail "$n-clean-$s" "context $s is still alive"; else pass "$n-clean-$s"; fi
	done
	# The plugin's types belong to a live LoaderAllocator and to that context (dumpmt's lines).
	r=$(awk '/^> dumpmt / { on = 1; next } on && /^<END_COMMAND/ { exit }
		on && /^LoaderAllocator:/ { l = $2 } on && /^AssemblyLoadContext:/ { c = $2 } END { print l, c }' "$tr")
	set -- $r
	if [ -n "${1:-}" ] && printf '%s\n' $las | grep -qx "$(norm "$1")" && [ -n "${2:-}" ] &&
		printf '%s\n' $alcs | grep -qx "$(norm "$2")"; then pass "$n-live-loaderallocator"; else
		fail "$n-live-loaderallocator" "dumpmt says LoaderAllocator/ALC '$r'; live LoaderAllocators: $(echo $las); contexts: $(echo $alcs)"; fi
	# The chain mentions what the expectation names.
	while IFS= read -r s; do
		[ -n "$s" ] || continue
		if grep -qF -- "$s" "$T/$n.roots"; then pass "$n-gcroot: $s"; else fail "$n-gcroot: $s" "not in any gcroot output"; fi
	done < <(jarr "$ex" gcroot_contains)
	case $kind in
	static_variable)
		# strong handle -> System.Object[] (the statics array) -> the holder object; dumpclass on the declaring
		# type must show the culprit field holding exactly that object.
		r=$(awk -v t="$rtype" '/^ROOT / { k = substr($0, 6); i = 0; next } /^LINK / { i++;
			if (i == 1) first = $3; if (i == 2 && k == "(strong handle)" && first == "System.Object[]") {
				ty = substr($0, index($0, $3)); sub(/ \(static variable: .*$/, "", ty); if (ty == t) { print $2; exit } } }' "$T/$n.roots")
		s=$(awk -v f="${culprit##*.}" '/^> dumpclass / { on = 1; next } on && /^<END_COMMAND/ { exit }
			on && $NF == f && $(NF - 2) == "static" { print $(NF - 1) }' "$tr")
		if [ -n "$r" ] && [ "$(norm "$r")" = "$(norm "$s")" ]; then pass "$n-culprit $culprit"; else
			fail "$n-culprit $culprit" "statics-array holder of type $rtype is '$r', dumpclass says the field holds '$s'"; fi
		if [ -n "$label" ]; then
			if grep -qF "(static variable: $label)" "$T/$n.roots"; then pass "$n-sos-label"; else fail "$n-sos-label" "no '(static variable: $label)'"; fi
		fi
		;;
	strong_handle)
		r=$(awk '/^ROOT / { k = substr($0, 6); i = 0; next } /^LINK / { i++; if (i == 1 && k == "(strong handle)") {
			ty = substr($0, index($0, $3)); print ty } }' "$T/$n.roots" | grep -cxF "$rtype")
		if [ "$r" -gt 0 ]; then pass "$n-culprit $culprit"; else fail "$n-culprit $culprit" "no strong handle directly on a $rtype"; fi
		;;
	thread_stack)
		if grep -q "^FRAME $culprit(" "$T/$n.roots" && awk '/^THREAD / { t = 1 } /^ROOT / { t = 0 } t && /^LINK / { print }' "$T/$n.roots" |
			grep -qF " $rtype"; then pass "$n-culprit $culprit"; else fail "$n-culprit $culprit" "no thread root with that frame"; fi
		if section "$tr" clrthreads | grep -qE '^ +[0-9]+ +[0-9]+ +[0-9a-f]+ '; then pass "$n-clrthreads"; else fail "$n-clrthreads" "no thread rows"; fi
		;;
	*) fail "$n-root-kind" "unknown root_kind '$kind'" ;;
	esac
}

# crashreport NAME EXPECTFILE FILE: the runtime's crash report names the process and the exception.
crashreport() {
	local n=$1 ex=$2 f=$3
	[ -f "$f" ] || { fail "$n-crashreport" "missing $f"; return; }
	if grep -q '"process_name": *"Scout.Host.dll"' "$f"; then pass "$n-crashreport-process"; else fail "$n-crashreport-process" "no process_name Scout.Host.dll"; fi
	if grep -q "\"managed_exception_type\": *\"$(jstr "$ex" exception_type)\"" "$f"; then pass "$n-crashreport-exception"; else
		fail "$n-crashreport-exception" "no managed_exception_type $(jstr "$ex" exception_type)"; fi
	if [ "$(jstr "$ex" exception_type)" = System.ExecutionEngineException ]; then
		if grep -q '"method_name": *"System.Environment.FailFast(System.String)"' "$f"; then pass "$n-crashreport-failfast"; else
			fail "$n-crashreport-failfast" "no FailFast frame"; fi
	fi
}

mkdir -p "$GOLD"
for ex in $SOS_EXPECT; do
	base=$(basename "$ex" .json)
	names=$base
	[ "$base" != s02-static-lazy-dynamic ] || names="$base $base.second"
	for n in $names; do
		dump=$DUMPS/$n.dmp
		if ! analyze "$n" "$dump" "$ex" "$T/$n.txt"; then
			fail "$n-engine" "dotnet-dump analyze failed: $(tail -n 5 "$T/$n.txt" 2>/dev/null)"
			continue
		fi
		verify "$n" "$ex" "$T/$n.txt"
		crashreport "$n" "$ex" "$dump.crashreport.json"
		if [ "${UPDATE:-0}" = 1 ] || [ ! -f "$GOLD/$n.txt" ]; then
			cp "$T/$n.txt" "$GOLD/$n.txt"
		else
			# The saved transcript is real engine output of an earlier build of the same scenario:
			# it must pass the same checks (addresses differ between builds, the checks do not care).
			verify "$n-golden" "$ex" "$GOLD/$n.txt" | grep '^FAIL' || pass "$n-golden"
		fi
	done
done
# The second process of s02 yields the same culprit chain (types and labels, not addresses).
chain() { grep -E '^(ROOT|LINK|FRAME)' "$T/$1.roots" | awk '{ if ($1 == "LINK") $2 = ""; print }' | sort -u; }
if [ -f "$T/s02-static-lazy-dynamic.roots" ] && [ -f "$T/s02-static-lazy-dynamic.second.roots" ]; then
	if diff <(chain s02-static-lazy-dynamic) <(chain s02-static-lazy-dynamic.second) >"$T/chain.diff"; then
		pass s02-chain-stable-across-processes
	else
		fail s02-chain-stable-across-processes "$(head -c 600 "$T/chain.diff")"
	fi
fi
