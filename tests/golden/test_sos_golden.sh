#!/usr/bin/env bash
# test_sos_golden.sh - the SOS parser and classifier on real transcripts: every file in
# tests/corpus/sos/ (published outputs, many SOS versions), the fixtures' recorded sessions in
# tests/golden/sos/, and the complog dumpheap+gcroot pair as one session. For each, the classified JSON
# must equal tests/golden/sos_expected/NAME.json (UPDATE=1 rewrites those; review with git diff), and
# facts read straight from the transcript text must hold: the root count a context reports equals the
# "Found N" line of its gcroot, the culprit is the static field the text names (a dumpclass value when
# present, else SOS's "(static variable: X)"), and the context's name is the string du/dumpobj printed.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

helper=$BUILD/tests/sos_transcript
if ! make -s BUILD="$BUILD" "$helper" >/dev/null 2>&1; then
	fail sos_golden_build "cannot build $helper"
	exit 0
fi
exp_dir=tests/golden/sos_expected
# (not $(scratch): its EXIT trap would fire when the command substitution's subshell ends)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-sos.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

inputs=()
for f in "$CORPUS"/sos/*.txt tests/golden/sos/*.txt; do
	[ -f "$f" ] && inputs+=("$f")
done
# The complog session: dumpheap of the scouts, then gcroot of each (published as two snippets).
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
lines = text.split("\n")
cmd_re = re.compile(r"^(?:> |\d+:\d+> |!)!?(\w+)\s*(.*)$")
# split into (command, args, body)
blocks, cur = [], None
for ln in lines:
    m = cmd_re.match(ln)
    if m:
        cur = [m.group(1).lower(), m.group(2).strip(), []]
        blocks.append(cur)
    elif cur is not None:
        cur[2].append(ln)
def hexval(s):
    return int(s, 16)
# 1. Found N of each gcroot of a loader allocator = the context's found_roots, and N chains end there
found = {}
for c, a, body in blocks:
    if c != "gcroot" or not a:
        continue
    for ln in body:
        m = re.match(r"\s*Found (\d+) (?:unique )?roots", ln)
        if m:
            found.setdefault(hexval(a.split()[-1]), int(m.group(1)))
            break
bare = re.findall(r"^\s*Found (\d+) (?:unique )?roots", text, re.M)
if not found and len(bare) == 1 and len(out["contexts"]) == 1 and out["contexts"][0]["found_roots"] != int(bare[0]):
    errs.append("found_roots %s, text says Found %s" % (out["contexts"][0]["found_roots"], bare[0]))
for ctx in out["contexts"]:
    la = int(ctx["loader_allocator"], 16) if ctx["loader_allocator"] else None
    sc = int(ctx["scout"], 16) if ctx["scout"] else None
    n = found.get(la) if la in found else found.get(sc)
    if n is None:
        continue
    if ctx["found_roots"] != n:
        errs.append("context %s: found_roots %s, text says Found %d" % (ctx["loader_allocator"], ctx["found_roots"], n))
    own = [r for r in ctx["roots"] if r["chain"] and r["chain"][-1] == "System.Reflection.LoaderAllocator"]
    if len(own) != n and ctx["state"] != "unknown":
        errs.append("context %s: %d chains end at its LoaderAllocator, text says Found %d" % (ctx["loader_allocator"], len(own), n))
# 2. culprits: statics printed by dumpclass whose value is an object in a gcroot chain
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
# 3. names: du Text of the string at the ALC's _name (+12 bytes)
names = set()
du = {}
for c, a, body in blocks:
    if c == "du" and a:
        for ln in body:
            m = re.match(r"Text:\s+'(.*)'\s*$", ln)
            if m:
                du[hexval(a.split()[0]) - 12] = m.group(1)
for m in re.finditer(r"System\.String\s+No\s+instance\s+([0-9a-fA-F]+)\s+_name", text):
    v = int(m.group(1), 16)
    if v in du:
        names.add(du[v])
got = set(ctx["name"] for ctx in out["contexts"] if ctx["name"])
for n in names:
    if n not in got:
        errs.append("no context is named %r as the transcript's ALC _name says" % n)
# 4. the managed exception type printed by pe
m = re.search(r"^Exception type:\s+(\S+)", text, re.M)
if m and (out.get("managed_exception") or {}).get("type") != m.group(1):
    errs.append("managed_exception.type is not %s" % m.group(1))
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
	exp="$exp_dir/$name.json"
	if [ "${UPDATE:-0}" = 1 ]; then
		mkdir -p "$exp_dir"
		cp "$got" "$exp"
		pass "sos_golden_$name (updated)"
	elif [ ! -f "$exp" ]; then
		fail "sos_golden_$name" "no expected file $exp (run with UPDATE=1 and review)"
	elif d=$(diff -u "$exp" "$got"); then
		pass "sos_golden_$name"
	else
		fail "sos_golden_$name" "$(printf '%s' "$d" | head -c 2000)"
	fi
	if why=$(facts "$f" "$got"); then
		pass "sos_facts_$name"
	else
		fail "sos_facts_$name" "$why"
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
