#!/usr/bin/env bash
# test_sos_golden.sh - the transcript path (`analyze --transcript`: SOS text into the fact model, then the
# one classifier) on real transcripts: every file in tests/corpus/sos/ (published outputs, many SOS
# versions), the fixtures' recorded sessions in tests/golden/sos/, and the complog dumpheap+gcroot pair.
# Expected values come from elsewhere, never from our output: for the fixtures, the scenario's
# expectations (tests/fixtures/dotnet/expect/, written from the fixture program's code); for every
# transcript, facts read straight from its text by an independent reader below (the static field a
# dumpclass value or SOS label names is a culprit, the context is named as du/dumpobj printed, the
# exception type is pe's). Then forged transcripts (issue 12): a pe message carrying an end marker, a
# dotnet-dump or WinDbg prompt and a fake gcroot record naming an innocent static is refused with the
# line; a message carrying root-looking text on its own lines changes nothing.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

helper=$BUILD/tests/sos_transcript
if ! make -s BUILD="$BUILD" "$helper" >/dev/null 2>&1; then
	fail sos_golden_build "cannot build $helper"
	exit 0
fi
# (not $(scratch): its EXIT trap would fire when the command substitution's subshell ends)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-sos.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

inputs=()
for f in "$CORPUS"/sos/*.txt tests/golden/sos/*.txt; do
	[ -f "$f" ] && inputs+=("$f")
done
if [ -f "$CORPUS/sos/08-complog-dumpheap-type-loaderallocatorscout.txt" ]; then
	cat "$CORPUS/sos/08-complog-dumpheap-type-loaderallocatorscout.txt" \
		"$CORPUS/sos/09-complog-gcroot-scout-static-variable-and-zero-roots.txt" >"$tmp/08+09-complog-session.txt"
	inputs+=("$tmp/08+09-complog-session.txt")
fi
[ "${#inputs[@]}" -gt 0 ] || { skip sos_golden "no transcripts found"; exit 0; }

# Facts from the transcript text alone (an independent reading, not the C parser).
facts() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read().replace("\r\n", "\n")
out = json.load(open(sys.argv[2]))
errs = []
cmd_re = re.compile(r"^(?:> |\d+:\d+> |!)!?(\w+)\s*(.*)$")
blocks, cur = [], None
for ln in text.split("\n"):
    m = cmd_re.match(ln)
    if m:
        cur = [m.group(1).lower(), m.group(2).strip(), []]
        blocks.append(cur)
    elif cur is not None:
        cur[2].append(ln)
# culprits: statics printed by dumpclass whose value is an object in a gcroot chain, else SOS's labels
statics = {}
for c, a, body in blocks:
    if c != "dumpclass":
        continue
    cls = None
    for ln in body:
        m = re.match(r"Class Name:\s+(\S+)", ln)
        if m:
            cls = m.group(1)
        f = ln.split()
        if cls and len(f) >= 7 and "static" in f and re.fullmatch(r"[0-9a-fA-F]{8,}", f[-2]) and int(f[-2], 16):
            statics[int(f[-2], 16)] = cls + "." + f[-1]
chain_addrs = set(int(m.group(1), 16) for m in re.finditer(r"^\s*->\s+([0-9a-fA-F]+)\s", text, re.M))
want = set(v for k, v in statics.items() if k in chain_addrs)
if not statics:
    want = set(m.group(1) for m in re.finditer(r"\(static variable: ([^)]+)\)", text))
culprits = set(r["culprit"] for ctx in out["contexts"] for r in ctx["roots"])
for w in want:
    if w not in culprits:
        errs.append("no root names the static %s that the text shows" % w)
# names: du Text of the string at the ALC's _name (+12 bytes)
du = {}
for c, a, body in blocks:
    if c == "du" and a:
        for ln in body:
            m = re.match(r"Text:\s+'(.*)'\s*$", ln)
            if m:
                du[int(a.split()[0], 16) - 12] = m.group(1)
names = set(du[int(m.group(1), 16)] for m in re.finditer(r"System\.String\s+No\s+instance\s+([0-9a-fA-F]+)\s+_name", text)
            if int(m.group(1), 16) in du)
got = set(ctx["name"] for ctx in out["contexts"] if ctx["name"])
for n in names:
    if n not in got:
        errs.append("no context is named %r as the transcript's ALC _name says" % n)
m = re.search(r"^Exception type:\s+(\S+)", text, re.M)
if m and (out.get("managed_exception") or {}).get("type") != m.group(1):
    errs.append("managed_exception.type is not %s" % m.group(1))
# every gcroot chain of a LoaderAllocator became a root of some context (none lost)
n_chains = len(re.findall(r"^\s*-> [0-9a-fA-F]+\s+System\.Reflection\.LoaderAllocator\s*$", text, re.M))
if n_chains and not any(ctx["roots"] for ctx in out["contexts"]):
    errs.append("%d chains reach a LoaderAllocator, no context has a root" % n_chains)
print("; ".join(errs))
sys.exit(1 if errs else 0)
PY
}

# The fixture's truth: its expectations file.
truth() {
	python3 - "$1" "$2" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))
out = json.load(open(sys.argv[2]))
kind = {"static_variable": "static_field", "thread_stack": "stack"}.get(exp["root_kind"], exp["root_kind"])
errs = []
ctxs = out["contexts"]
if bool(out["leak"]) != bool(exp["leaks"]):
    errs.append("leak %s, expected %s" % (out["leak"], exp["leaks"]))
if exp["leaks"]:
    named = [c for c in ctxs if c["name"] == exp["alc_name"]]
    if not named or named[0]["state"] != "unloading_held":
        errs.append("no held context %r: %s" % (exp["alc_name"], [(c["name"], c["state"]) for c in ctxs]))
    else:
        real = [r for r in named[0]["roots"] if not r["probable_false_root"]]
        if not any(r["kind"] == kind and r["culprit"] == exp["culprit"] for r in real):
            errs.append("no root %s/%s: %s" % (kind, exp["culprit"], [(r["kind"], r["culprit"]) for r in real]))
        if exp.get("sos_static_label") and not any(r.get("sos_static_label") == exp["sos_static_label"] for r in real):
            errs.append("SOS's wrong label %s not recorded" % exp["sos_static_label"])
        if not named[0]["verdict"].startswith("context '%s' is held by " % exp["alc_name"]):
            errs.append("verdict: %s" % named[0]["verdict"])
for clean in exp.get("clean_alcs", []):
    if any(c["name"] == clean and c["state"].startswith("unloading") for c in ctxs):
        errs.append("clean context %s reported" % clean)
if exp.get("exception_type") and (out.get("managed_exception") or {}).get("type") != exp["exception_type"]:
    errs.append("exception %s" % (out.get("managed_exception") or {}).get("type"))
print("; ".join(errs))
sys.exit(1 if errs else 0)
PY
}

for f in "${inputs[@]}"; do
	name=$(basename "$f" .txt)
	got="$tmp/$name.json"
	if ! "$helper" "$f" >"$got" 2>"$tmp/err"; then
		fail "sos_golden_$name" "helper failed: $(head -c 500 "$tmp/err")"
		continue
	fi
	if why=$(facts "$f" "$got"); then pass "sos_facts_$name"; else fail "sos_facts_$name" "$why"; fi
	exp=tests/fixtures/dotnet/expect/${name%.second}.json
	if [ -f "$exp" ]; then
		if why=$(truth "$exp" "$got"); then pass "sos_truth_$name"; else fail "sos_truth_$name" "$why"; fi
	fi
done

# The same cause crashed in two processes gives the same signatures.
a=tests/golden/sos/s02-static-lazy-dynamic.txt b=tests/golden/sos/s02-static-lazy-dynamic.second.txt
if [ -f "$a" ] && [ -f "$b" ]; then
	sa=$("$helper" "$a" | jq -r '[.contexts[].roots[].signature] | sort | join(",")')
	sb=$("$helper" "$b" | jq -r '[.contexts[].roots[].signature] | sort | join(",")')
	if [ -n "$sa" ] && [ "$sa" = "$sb" ]; then pass sos_signature_two_processes; else
		fail sos_signature_two_processes "'$sa' vs '$sb'"; fi
fi

# ---- forged transcripts (issue 12 item 1): real sessions whose pe message carries structure ----
s01=tests/golden/sos/s01-static-field.txt s10=tests/golden/sos/s10-unhandled-exception.txt
forge() { # forge SRC OUT MESSAGE: SRC with the first pe record's Message line replaced by MESSAGE
	python3 - "$1" "$2" "$3" <<'PY'
import sys
src, out, msg = sys.argv[1], sys.argv[2], sys.argv[3].encode().decode("unicode_escape")
t = open(src).read()
i = t.index("\n> pe\n")
j = t.index("\nMessage:", i)
k = t.index("\n", j + 1)
open(out, "w").write(t[:j] + "\nMessage:          " + msg + t[k:])
PY
}
fake_root='\n<END_COMMAND_OUTPUT>\n> gcroot 7f1e0980a5c8\nHandleTable:\n    00007f2a640213e8 (strong handle)\n          -> 7f1e07000028     System.Object[] \n          -> 7f1e0980a5c8     Scout.Plugin.GreeterPlugin (static variable: Innocent.Logger.Instance)\n\nFound 1 unique roots.\n<END_COMMAND_OUTPUT>\n'
if [ -f "$s01" ] && [ -f "$s10" ]; then
	forge "$s01" "$tmp/f1.txt" "boom${fake_root}> pe\nException object: 00007f1e09800178\nException type:   System.ExecutionEngineException\nMessage:          tail"
	forge "$s01" "$tmp/f2.txt" "boom${fake_root}"
	forge "$s10" "$tmp/f3.txt" "The order book is empty\n<END_COMMAND_OUTPUT>"
	forge "$s10" "$tmp/f4.txt" "ok\n0:000> !gcroot 7f1e0980a5c8\nHandleTable:\n    00007f2a640213e8 (strong handle)\n          -> 7f1e0980a5c8     Evil (static variable: Innocent.X)\n\nFound 1 unique roots."
	for n in f1 f2 f3 f4; do
		out=$("$DS" analyze --transcript "$tmp/$n.txt" 2>&1); rc=$?
		case "$rc:$out" in
		2:*line*) pass "sos_forged_transcript_refused_$n" ;;
		*) fail "sos_forged_transcript_refused_$n" "exit $rc: $(printf '%s' "$out" | head -c 400)" ;;
		esac
	done
	# root-looking text inside one line of the message does not change the structure: same verdict
	forge "$s01" "$tmp/h1.txt" "-> 7f1e0980a5c8     Scout.Plugin.GreeterPlugin (static variable: Innocent.Logger.Instance) Found 1 unique roots. <END_COMMAND_OUTPUT>"
	got=$("$DS" analyze --transcript "$tmp/h1.txt" --json | jq -r '[.analysis.contexts[].roots[].culprit] | join(",")')
	expect_eq sos_hostile_text_in_message_harmless "$got" "Scout.Host.PluginRegistry.LastPlugin"
fi
