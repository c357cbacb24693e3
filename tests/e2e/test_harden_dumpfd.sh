#!/usr/bin/env bash
# test_harden_dumpfd.sh - the heap engine reads the dump that was checked, not whatever its path names when
# the engine starts (issue 12 item 4): `dumpscout analyze` and dumpscoutd give the real engine the open
# file as its descriptor 3. The swap is made at the one moment that matters, between the check and the
# engine's own open: analysis.engine (--engine) is a wrapper that replaces the dump's path, by a rename
# of another real dump over it or by a symbolic link to a private file, then execs the real engine with
# the arguments it was given. Expected context names come from what each crashed program printed (.out).
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

A=build/fixtures/dumps/s01-static-field.dmp
B=build/fixtures/dumps/s04-thread-stack.dmp
ENGINE=$PWD/build/engine/dumpscout-heap
if [ ! -x "$DS" ] || [ ! -x "$DSD" ]; then skip harden_dumpfd "no $DS or $DSD"; exit 0; fi
if [ ! -f "$A" ] || [ ! -f "$B" ]; then skip harden_dumpfd "no $A or $B (make fixtures)"; exit 0; fi
if [ ! -x "$ENGINE" ]; then skip harden_dumpfd "no $ENGINE (make engine)"; exit 0; fi
if [ ! -d /proc/self/fd ] || ! command -v sqlite3 >/dev/null; then skip harden_dumpfd "no /proc or sqlite3"; exit 0; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-dumpfd.XXXXXX")
D=$T/var/dumps
DB=$T/var/dumpscout.db
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"' EXIT

# the context each crashed program reported loading its plugin into (the source of truth)
ctx_of() { sed -n "s/.*loaded greeter into '\([^']*\)'.*/\1/p" "${1%.dmp}.out" | head -1; }
WANT=$(ctx_of "$A")
OTHER=$(ctx_of "$B")
if [ -z "$WANT" ] || [ -z "$OTHER" ] || [ "$WANT" = "$OTHER" ]; then
	fail dumpfd_expected "no distinct contexts in the fixtures' .out files: '$WANT' '$OTHER'"
	exit 0
fi
# the engine wrapper: SWAP_PATH is replaced by SWAP_FROM (renamed over it) or, with SWAP_LINK set, by a
# symbolic link to SWAP_LINK; the swap is done once (a later run finds SWAP_FROM gone)
cat >"$T/swap-engine" <<'EOF'
#!/bin/sh
if [ -n "${SWAP_LINK:-}" ]; then
	[ -L "$SWAP_PATH" ] || { rm -f "$SWAP_PATH" && ln -s "$SWAP_LINK" "$SWAP_PATH"; }
elif [ -e "$SWAP_FROM" ]; then
	mv -f "$SWAP_FROM" "$SWAP_PATH"
fi
exec "$REAL_ENGINE" "$@"
EOF
chmod +x "$T/swap-engine"
export REAL_ENGINE=$ENGINE
contexts() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(c["name"] for c in d["analysis"]["contexts"]))'; }

# 1. the CLI, the path renamed over by another dump
cp "$A" "$T/x.dmp"; cp "$B" "$T/other.dmp"
got=$(SWAP_PATH=$T/x.dmp SWAP_FROM=$T/other.dmp "$DS" analyze --quiet --json --engine "$T/swap-engine" "$T/x.dmp" | contexts)
if cmp -s "$T/x.dmp" "$B"; then pass cli_swap_made; else fail cli_swap_made "the wrapper did not replace x.dmp"; fi
expect_eq cli_swapped_dump_analysed_as_checked "$got" "$WANT"
# the control: the path now names the other dump, and an engine that reads it says so
got=$("$DS" analyze --quiet --json "$T/x.dmp" | contexts)
expect_eq cli_swap_control "$got" "$OTHER"

# 2. the CLI, the path swapped for a symbolic link to a private file the engine must not read
cp "$A" "$T/y.dmp"; cp "$B" "$T/private"; chmod 600 "$T/private"
got=$(SWAP_PATH=$T/y.dmp SWAP_LINK=$T/private "$DS" analyze --quiet --json --engine "$T/swap-engine" "$T/y.dmp" | contexts)
if [ -L "$T/y.dmp" ]; then pass cli_link_made; else fail cli_link_made "y.dmp is not a link"; fi
expect_eq cli_linked_dump_analysed_as_checked "$got" "$WANT"

# 3. the service: the queue re-checks the dump's identity, the engine then gets that open file
printf '{ "data_dir": "%s/var", "watch": { "stability_ms": 300 }, "analysis": { "engine": "%s", "concurrency": 1 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 } }\n' "$T" "$T/swap-engine" >"$T/cfg.json"
cp "$B" "$T/svc-other.dmp"
export SWAP_PATH=$D/svc.dmp SWAP_FROM=$T/svc-other.dmp
unset SWAP_LINK
start || { fail dumpfd_service_start "$(tail -5 "$T/log")"; exit 0; }
cp "$A" "$T/svc.part" && mv "$T/svc.part" "$D/svc.dmp"
first="SELECT min(id) FROM dumps WHERE file_name='svc.dmp'"
if wait_for 300 "SELECT state FROM dumps WHERE id = ($first)" done; then
	pass service_swap_analysed
else
	fail service_swap_analysed "$(q "SELECT state||' '||ifnull(last_error,'') FROM dumps")"
fi
if cmp -s "$D/svc.dmp" "$B"; then pass service_swap_made; else fail service_swap_made "svc.dmp was not replaced"; fi
got=$(q "SELECT group_concat(c.name, ' ') FROM contexts c JOIN analyses a ON a.id = c.analysis_id WHERE a.dump_id = ($first)")
expect_eq service_swapped_dump_analysed_as_checked "$got" "$WANT"
kill -TERM "$PID"; wait "$PID"
PID=
