#!/usr/bin/env bash
# test_service_live.sh - the whole product path with nothing faked: the real dumpscoutd watches a folder,
# a real .NET plugin host (tests/fixtures/dotnet) crashes LIVE into it through the runtime's own dump
# writer, and the dump ends 'done' in the database with the culprit its expectations file names, found by
# the real SOS engine. Then a kill -9 during an analysis and a restart: the dump is analysed once.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

if [ ! -x "$DSD" ]; then skip service_live "no $DSD (make)"; exit 0; fi
if ! make -s fixtures >/dev/null 2>&1; then skip service_live "make fixtures failed (needs the .NET SDK)"; exit 0; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-live.XXXXXX")
D=$T/var/dumps
DB=$T/var/dumpscout.db
cat >"$T/cfg.json" <<JSON
{ "data_dir": "$T/var", "heartbeat_s": 1, "watch": { "stability_ms": 1000, "rescan_s": 5 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 } }
JSON
PID=
trap 'kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT

start || { fail service_live_starts "$(tail -5 "$T/log")"; exit 0; }
for sc in s01-static-field s04-thread-stack; do
	exp=tests/fixtures/dotnet/expect/$sc.json
	culprit=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["culprit"])' "$exp")
	kind=$(/usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e.get("engine",{}).get("root_kind") or e["root_kind"])' "$exp")
	dump=$(tests/fixtures/make_fixtures.sh --crash "$sc" --into "$D" 2>>"$T/log" | tail -1)
	name=$(basename "$dump")
	if [ -z "$dump" ] || [ ! -f "$dump" ]; then fail "live_crash_$sc" "the fixture wrote no dump"; continue; fi
	if wait_for 120 "SELECT state FROM dumps WHERE file_name='$name'" done; then
		pass "live_crash_${sc}_done"
	else
		fail "live_crash_${sc}_done" "$(q "SELECT state, last_error FROM dumps WHERE file_name='$name'") $(tail -3 "$T/log")"
		continue
	fi
	got=$(q "SELECT r.kind||' '||r.culprit FROM roots r JOIN contexts c ON r.context_id=c.id JOIN analyses a ON c.analysis_id=a.id JOIN dumps d ON a.dump_id=d.id WHERE d.file_name='$name' AND r.probable_false_root=0 AND r.culprit='$culprit'")
	expect_eq "live_crash_${sc}_culprit" "$got" "$kind $culprit"
	expect_eq "live_crash_${sc}_leak_flag" "$(q "SELECT has_leak FROM dumps WHERE file_name='$name'")" "1"
done

# kill -9 while the engine works on a dump, then restart: it is analysed exactly once, no duplicate rows.
dump=$(tests/fixtures/make_fixtures.sh --crash s05-static-event --into "$D" 2>>"$T/log" | tail -1)
name=$(basename "$dump")
wait_for 30 "SELECT state FROM dumps WHERE file_name='$name'" analyzing
kill -9 "$PID"; wait "$PID" 2>/dev/null
start || { fail service_live_restart "$(tail -5 "$T/log")"; exit 0; }
if wait_for 120 "SELECT state FROM dumps WHERE file_name='$name'" done; then pass kill9_mid_analysis_resumed; else
	fail kill9_mid_analysis_resumed "$(q "SELECT state, attempts, last_error FROM dumps WHERE file_name='$name'")"; fi
expect_eq kill9_one_row "$(q "SELECT count(*) FROM dumps WHERE file_name='$name'")" "1"
expect_eq kill9_one_analysis "$(q "SELECT count(*) FROM analyses a JOIN dumps d ON a.dump_id=d.id WHERE d.file_name='$name'")" "1"
kill -TERM "$PID"; wait "$PID"; expect_eq service_live_clean_stop "$?" "0"
rm -rf "$T"
