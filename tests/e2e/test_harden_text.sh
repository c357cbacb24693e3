#!/usr/bin/env bash
# test_harden_text.sh - terminal injection through a dump (issue 12 item 5): a minidump whose main module
# is named with ESC/OSC/BEL sequences, a C1 CSI (U+009B), a bidi override (U+202E) and a line break; the
# text of `inspect` and `analyze` carries none of them raw, and `inspect --json` is valid UTF-8 that
# still holds the name (escaped).
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

GEN=$BUILD/tests/mkhostile
if [ ! -x "$GEN" ]; then skip harden_text "no $GEN"; exit 0; fi
scratch
NAME=$'evil\e]0;owned\a\e[2J\xc2\x9b31m\xe2\x80\xaetxt.exe\nFAKE: line.exe'
"$GEN" "$SCRATCH/evil.dmp" "$NAME" || { fail evil_dump_written "mkhostile failed"; exit 0; }
# the file's own name is hostile too (printed as given): it carries no '/' and no newline here
FNAME=$'evil\e]8;;http:x\a\xc2\x9b2J\xe2\x81\xa6.dmp'
cp "$SCRATCH/evil.dmp" "$SCRATCH/$FNAME"
# raw_free FILE: no ESC, BEL, CR, C1 (C2 80-9F) or bidi override (E2 80 AA-AE, E2 81 A6-A9) bytes
raw_free() { python3 - "$1" <<'PY'
import re, sys
b = open(sys.argv[1], 'rb').read()
bad = re.search(rb'[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]', b)
b.decode('utf-8')
sys.exit(1 if bad else 0)
PY
}
"$DS" inspect "$SCRATCH/evil.dmp" "$SCRATCH/$FNAME" >"$SCRATCH/inspect.txt" 2>&1
raw_free "$SCRATCH/inspect.txt" && pass inspect_text_clean || fail inspect_text_clean "$(od -c "$SCRATCH/inspect.txt" | head -5)"
grep -q "^FAKE: line" "$SCRATCH/inspect.txt" && fail inspect_no_injected_line "a name started a line" || pass inspect_no_injected_line
"$DS" inspect --json "$SCRATCH/evil.dmp" >"$SCRATCH/inspect.json" 2>&1
"$DS" inspect --json "$SCRATCH/$FNAME" >"$SCRATCH/inspect2.json" 2>&1
raw_free "$SCRATCH/inspect2.json" && pass inspect_json_file_name_escaped || fail inspect_json_file_name_escaped "$(head -c 300 "$SCRATCH/inspect2.json")"
if raw_free "$SCRATCH/inspect.json" && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "\x1b]0;owned\x07" in d["process_name"] and "\u202e" in d["process_name"]' "$SCRATCH/inspect.json"
then pass inspect_json_valid_and_escaped; else fail inspect_json_valid_and_escaped "$(head -c 300 "$SCRATCH/inspect.json")"; fi
"$DS" analyze "$SCRATCH/$FNAME" >"$SCRATCH/analyze.txt" 2>&1
raw_free "$SCRATCH/analyze.txt" && pass analyze_text_clean || fail analyze_text_clean "$(od -c "$SCRATCH/analyze.txt" | head -5)"
"$DS" analyze --json "$SCRATCH/$FNAME" >"$SCRATCH/analyze.json" 2>&1
raw_free "$SCRATCH/analyze.json" && pass analyze_json_clean || fail analyze_json_clean "$(head -c 300 "$SCRATCH/analyze.json")"
