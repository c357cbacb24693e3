#!/usr/bin/env bash
# test_fleet.sh - the fleet on a real PostgreSQL 15 (tests/pg.sh: initdb in a temp folder, its own port on
# 127.0.0.1, run as an unprivileged account): `dumpscout fleet init` (twice: idempotent), three real
# dumpscoutd agents (separate data folders and host ids) publishing real corpus dumps; agent A killed
# with -9 inside the window between PostgreSQL's commit and its local mark (a test-only pause), agent B
# publishing while PostgreSQL is stopped mid-batch and started again. Then, against each agent's own
# SQLite as the source of truth: every triaged dump, and every dump whose triage failed, exactly once
# centrally, every event applied once, per-host bucket counts equal, backlogs drained. The read-only role
# cannot write, the ingest role cannot read the tables. `dumpscout --fleet list/show/buckets/roots/report`
# and `fleet status` against it (a real corrupt dump, whose triage fails: its central row, and `list
# --state failed` and `show` as the agent's own CLI prints them), and the analysis path (contexts, roots,
# root buckets) through build/tests/test_fleetdb on the same server.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh
source tests/pg.sh

pg_test_begin fleet || exit 0
M=$CORPUS/dumps/mdmp
E=$CORPUS/dumps/elf

if ! pg_start "$W"; then fail fleet_postgres_starts "see $W/pg"; exit 0; fi
pass fleet_postgres_starts
psql_q "CREATE DATABASE fleet" >/dev/null
ADMIN_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_admin"
AGENT_PW='agent-S3cret-pw!'
VIEW_PW='viewer-pw-2'
out=$("$DS" fleet init --fleet-url "$ADMIN_URL" 2>&1); rc=$?
# the expected version: the numbered migrations in schema/fleet/
nmig=$(ls schema/fleet/[0-9][0-9][0-9]_*.sql | wc -l)
expect_eq fleet_init "$rc/$out" "0/fleet schema version $nmig ($nmig migration(s) applied now)"
out=$("$DS" fleet init --fleet-url "$ADMIN_URL" 2>&1); rc=$?
expect_eq fleet_init_idempotent "$rc/$out" "0/fleet schema version $nmig (0 migration(s) applied now)"
PGDATABASE=fleet psql_q "CREATE ROLE scout_agent LOGIN PASSWORD '$AGENT_PW' IN ROLE dumpscout_ingest;
	CREATE ROLE scout_viewer LOGIN PASSWORD '$VIEW_PW' IN ROLE dumpscout_read" >/dev/null
AGENT_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_agent"
VIEW_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_viewer password=$VIEW_PW"
pq() { PGDATABASE=fleet psql_q "$1"; }
# the dumps an agent publishes: triaged ones, and those whose triage failed (not a dump, corrupt)
PUB="(triaged_at IS NOT NULL OR state IN ('failed', 'unsupported'))"
phase() { echo "# $1 at ${SECONDS}s"; }

# agent NAME PASSWORD_JSON: its folder $W/NAME with cfg.json (batches of 2, a round every second)
agent_cfg() {
	mkdir -p "$W/$1"
	cat >"$W/$1/cfg.json" <<JSON
{ "data_dir": "$W/$1/var", "heartbeat_s": 1, "log_level": "debug",
  "watch": { "stability_ms": 300, "rescan_s": 2 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 },
  "fleet": { "url": "$AGENT_URL", $2, "hostname": "$1", "interval_s": 1, "batch_size": 2 } }
JSON
}
# start_agent NAME [ENV...]: runs dumpscoutd for NAME in the background; AGENT_PID gets its pid
start_agent() {
	local n=$1 i
	shift
	env "$@" "$DSD" --config "$W/$n/cfg.json" 2>>"$W/$n/log" &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	for i in $(seq 100); do grep -q "ready" "$W/$n/log" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
lq() { sqlite3 -readonly -cmd ".timeout 5000" "$W/$1/var/dumpscout.db" "$2" 2>/dev/null; }
host_id() { lq "$1" "SELECT value FROM service_kv WHERE key = 'fleet.host_id'"; }
# wait_until SECONDS CMD...: polls CMD until it succeeds, for at most SECONDS of wall time
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done
	"$@"
}
drained() { [ "$(lq "$1" "SELECT count(*) FROM fleet_outbox")" = 0 ] && [ "$(lq "$1" "SELECT count(*) FROM dumps WHERE state IN ('discovered','triaged','analyzing')")" = 0 ]; }
# central events of a host that are still in its local outbox (the replay window)
in_window() {
	local ids
	ids=$(lq "$1" "SELECT group_concat(quote(event_id)) FROM fleet_outbox")
	[ -n "$ids" ] && [ "$(pq "SELECT count(*) FROM fleet.ingested WHERE event_id::text IN ($ids)")" -gt 0 ]
}

printf '%s\n' "$AGENT_PW" >"$W/agent.pw"
chmod 600 "$W/agent.pw"
agent_cfg web-a "\"password_file\": \"$W/agent.pw\""
agent_cfg web-b "\"password_env\": \"FLEET_TEST_PW\""
agent_cfg web-c "\"password_file\": \"$W/agent.pw\""

phase "config"
# --- a readable password file is refused, naming the key ---
chmod 644 "$W/agent.pw"
out=$("$DSD" --check-config --config "$W/web-a/cfg.json" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "fleet.password_file" <<<"$out"; then pass fleet_readable_password_refused
else fail fleet_readable_password_refused "rc=$rc: $out"; fi
chmod 600 "$W/agent.pw"

phase "agent A"
# --- agent A: kill -9 between PostgreSQL's commit and the local mark, then restart ---
if start_agent web-a DUMPSCOUT_TEST_FLEET_PAUSE_MS=1500; then pass fleet_agent_a_starts
else fail fleet_agent_a_starts "$(tail -5 "$W/web-a/log")"; exit 0; fi
A_PID=$AGENT_PID
for f in "$M"/breakpad__*.dmp; do cp "$f" "$W/web-a/var/dumps/"; done
if wait_until 30 in_window web-a; then
	kill -9 "$A_PID"
	wait "$A_PID" 2>/dev/null
	# the proof that the kill landed in the window: events PostgreSQL has, still unsent locally
	if in_window web-a; then pass fleet_kill9_inside_commit_window
	else fail fleet_kill9_inside_commit_window "no committed event left in the local outbox"; fi
else
	fail fleet_kill9_inside_commit_window "the publisher never reached the window: $(grep fleet "$W/web-a/log" | tail -3)"
	kill -9 "$A_PID"
fi
start_agent web-a || fail fleet_agent_a_restarts "$(tail -5 "$W/web-a/log")"
A_PID=$AGENT_PID

phase "agent B"
# --- agent B: PostgreSQL stopped mid-batch, then started again ---
if start_agent web-b FLEET_TEST_PW="$AGENT_PW" DUMPSCOUT_TEST_FLEET_PAUSE_MS=800; then pass fleet_agent_b_starts
else fail fleet_agent_b_starts "$(tail -5 "$W/web-b/log")"; exit 0; fi
B_PID=$AGENT_PID
for f in "$M"/lldb__*.dmp; do cp "$f" "$W/web-b/var/dumps/"; done
if wait_until 30 in_window web-b; then
	pg_pause
	pass fleet_postgres_stopped_mid_batch
else
	fail fleet_postgres_stopped_mid_batch "no batch in flight: $(grep fleet "$W/web-b/log" | tail -3)"
	pg_pause
fi
# the publisher fails, keeps its rows, and says so in the log and in `dumpscout status`
wait_until 15 grep -q "fleet: publishing" "$W/web-b/log"
backlog=$(lq web-b "SELECT count(*) FROM fleet_outbox")
st=$("$DS" status --db "$W/web-b/var/dumpscout.db" 2>&1)
if [ "$backlog" -gt 0 ] && grep -q "^fleet .*backlog $backlog of at most 100000" <<<"$st" && grep -q "^fleet error" <<<"$st"; then
	pass fleet_backlog_visible_in_status
else fail fleet_backlog_visible_in_status "outbox $backlog; $(grep '^fleet' <<<"$st")"; fi
if grep -q -- "$AGENT_PW" "$W/web-b/log"; then fail fleet_password_not_logged "the password is in the log"
else pass fleet_password_not_logged; fi
pg_resume

phase "agent C"
# --- agent C: plain; one file also seen by A (a bucket on two hosts) ---
start_agent web-c || fail fleet_agent_c_starts "$(tail -5 "$W/web-c/log")"
C_PID=$AGENT_PID
for f in "$E"/*.core; do cp "$f" "$W/web-c/var/dumps/"; done
cp "$M/breakpad__minidump2.dmp" "$W/web-c/var/dumps/shared.dmp"
BAD=$M/rust-minidump__invalid-range.dmp   # corrupt: its triage fails, and it is published as failed
cp "$BAD" "$W/web-c/var/dumps/"

phase "drain"
for a in web-a web-b web-c; do
	if wait_until 60 drained $a; then pass "fleet_${a}_backlog_drained"
	else fail "fleet_${a}_backlog_drained" "outbox $(lq $a "SELECT count(*) FROM fleet_outbox"): $(grep fleet "$W/$a/log" | tail -3)"; fi
done
sleep 1.5 # one more round: each host's last-seen backlog is 0

phase "checks"
# --- every row exactly once, nothing lost: each agent's SQLite is the truth ---
for a in web-a web-b web-c; do
	hid=$(host_id $a)
	local_ids=$(lq $a "SELECT group_concat(id, ',') FROM (SELECT id FROM dumps WHERE $PUB ORDER BY id)")
	central_ids=$(pq "SELECT string_agg(local_id::text, ',' ORDER BY local_id) FROM fleet.dumps WHERE host_id = '$hid'")
	n=$(lq $a "SELECT count(*) FROM dumps WHERE $PUB")
	if [ -n "$local_ids" ] && [ "$local_ids" = "$central_ids" ]; then pass "fleet_${a}_every_dump_once ($n)"
	else fail "fleet_${a}_every_dump_once" "local [$local_ids] central [$central_ids]"; fi
	# events: the agent's count of published snapshots equals the central ledger's
	expect_eq "fleet_${a}_every_event_applied_once" "$(pq "SELECT count(*) FROM fleet.ingested WHERE host_id = '$hid'")" \
		"$(lq $a "SELECT sent FROM fleet_state")"
	# the same crash buckets with the same counts for this host (one "key=count" line each)
	lb=$(lq $a "SELECT key || '=' || count FROM buckets WHERE kind = 'crash' AND count > 0" | LC_ALL=C sort)
	cb=$(pq "SELECT b.key || '=' || h.count FROM fleet.bucket_hosts h JOIN fleet.buckets b ON b.id = h.bucket_id
		WHERE h.host_id = '$hid' AND b.kind = 'crash'" | LC_ALL=C sort)
	if [ -n "$lb" ] && [ "$lb" = "$cb" ]; then pass "fleet_${a}_bucket_counts_match"
	else fail "fleet_${a}_bucket_counts_match" "local [$lb] central [$cb]"; fi
done
expect_eq fleet_hosts_backlog_zero "$(pq "SELECT count(*) || '/' || sum(backlog) FROM fleet.hosts")" "3/0"
# each host's OS as `uname -sr` prints it (the agents run here)
expect_eq fleet_hosts_os "$(pq "SELECT string_agg(DISTINCT os, ',') || '/' || count(*) FROM fleet.hosts")" "$(uname -sr)/3"
expect_eq fleet_no_link_without_dump "$(pq "SELECT count(*) FROM fleet.dump_buckets l WHERE NOT EXISTS (SELECT 1 FROM fleet.dumps d WHERE d.id = l.dump_id)")" 0
expect_eq fleet_bucket_count_is_links "$(pq "SELECT count(*) FROM fleet.buckets b WHERE b.count <> (SELECT count(*) FROM fleet.dump_buckets l WHERE l.bucket_id = b.id)")" 0
a_dup=$(grep -ho 'published [0-9]* snapshot(s), [0-9]* new' "$W/web-a/log" | awk '{s+=$2; n+=$4} END {print (s > n) ? "yes" : "no"}')
expect_eq fleet_kill9_replay_skipped_by_ledger "$a_dup" yes

phase "roles"
# --- roles: the reader cannot write, the agent cannot read ---
if PGDATABASE=fleet psql_q "INSERT INTO fleet.mail_log VALUES ('x', gen_random_uuid(), 0)" scout_viewer "$VIEW_PW" 2>&1 | grep -q "permission denied"; then
	pass fleet_read_role_cannot_insert; else fail fleet_read_role_cannot_insert "the insert was not refused"; fi
if PGDATABASE=fleet psql_q "SELECT fleet.ingest(gen_random_uuid(), '{\"hostname\":\"x\"}', '[]')" scout_viewer "$VIEW_PW" 2>&1 | grep -q "permission denied"; then
	pass fleet_read_role_cannot_ingest; else fail fleet_read_role_cannot_ingest "ingest was allowed"; fi
if PGDATABASE=fleet psql_q "UPDATE fleet.hosts SET backlog = 1" scout_viewer "$VIEW_PW" 2>&1 | grep -q "permission denied"; then
	pass fleet_read_role_cannot_update; else fail fleet_read_role_cannot_update "the update was not refused"; fi
for t in dumps hosts buckets roots ingested; do
	if PGDATABASE=fleet psql_q "SELECT count(*) FROM fleet.$t" scout_agent "$AGENT_PW" 2>&1 | grep -q "permission denied"; then
		pass "fleet_ingest_role_cannot_read_$t"; else fail "fleet_ingest_role_cannot_read_$t" "it could"; fi
done
if PGDATABASE=fleet psql_q "SELECT fleet.api_list('{}')" scout_agent "$AGENT_PW" 2>&1 | grep -q "permission denied"; then
	pass fleet_ingest_role_cannot_list; else fail fleet_ingest_role_cannot_list "it could"; fi
expect_eq fleet_viewer_reads_views "$(PGDATABASE=fleet psql_q "SELECT count(*) FROM fleet.v_hosts" scout_viewer "$VIEW_PW")" 3

phase "cli"
# --- the CLI against the fleet ---
export DUMPSCOUT_FLEET_URL=$VIEW_URL
total=$(( $(lq web-a "SELECT count(*) FROM dumps WHERE $PUB") + $(lq web-b "SELECT count(*) FROM dumps WHERE $PUB") + $(lq web-c "SELECT count(*) FROM dumps WHERE $PUB") ))
chk=$("$DS" --fleet list --limit 0 --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
print(len(a), ",".join(sorted(set(d["host"] for d in a))))')
expect_eq fleet_cli_list_all_hosts "$chk" "$total web-a,web-b,web-c"
nb=$(lq web-b "SELECT count(*) FROM dumps WHERE $PUB")
chk=$("$DS" --fleet list --host web-b --limit 0 --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
print(len(a), ",".join(sorted(set(d["host"] for d in a))))')
expect_eq fleet_cli_list_host_filter "$chk" "$nb web-b"
hdr=$("$DS" --fleet list --csv --limit 1 | head -1 | tr -d '\r')
expect_eq fleet_cli_list_csv_host_column "$hdr" "ID,HOST,DISCOVERED,APP,PID,STATE,EXCEPTION,SIZE,LEAK,FILE"
if "$DS" --fleet list --limit 3 | head -1 | grep -q "HOST"; then pass fleet_cli_list_text_host_column
else fail fleet_cli_list_text_host_column "$("$DS" --fleet list --limit 3 2>&1 | head -2)"; fi
# the shared crash: one bucket, two hosts, two dumps
key=$(lq web-c "SELECT b.key FROM dumps d JOIN buckets b ON b.id = d.crash_bucket_id WHERE d.file_name = 'shared.dmp'")
chk=$("$DS" --fleet buckets --limit 0 --json | python3 -c '
import json, sys
k = sys.argv[1]
b = [x for x in json.load(sys.stdin) if x["key"] == k]
print(len(b), b[0]["host_count"], b[0]["count"], ",".join(sorted(h["host"] for h in b[0]["hosts"])) if b else "")' "$key")
expect_eq fleet_cli_bucket_across_hosts "$chk" "1 2 2 web-a,web-c"
seq=$(pq "SELECT d.seq FROM fleet.dumps d JOIN fleet.hosts h ON h.id = d.host_id WHERE h.hostname = 'web-c' AND d.file_name = 'shared.dmp'")
out=$("$DS" --fleet show "$seq" 2>&1)
lid=$(lq web-c "SELECT id FROM dumps WHERE file_name = 'shared.dmp'")
if grep -q "host         web-c (dump $lid there)" <<<"$out" && grep -q "bucket .*$key" <<<"$out"; then pass fleet_cli_show
else fail fleet_cli_show "$(head -5 <<<"$out")"; fi
chk=$("$DS" --fleet report --since 30d --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["dumps"])')
expect_eq fleet_cli_report_totals "$chk" "$total"
# the report's groupings (fleet.api_report's one aggregate) against the agents' own rows: per state, per
# application, per UTC day, and the number of hosts
want=$(for n in web-a web-b web-c; do lq $n "SELECT 'state ' || state, 'app ' || coalesce(app, ''),
	'day ' || strftime('%Y-%m-%d', discovered_at / 1000, 'unixepoch') FROM dumps WHERE $PUB"; done |
	tr '|' '\n' | sort | uniq -c | awk '{c = $1; $1 = ""; print substr($0, 2) " " c}' | sort)
want=$(printf '%s\nhosts 3' "$want")
chk=$("$DS" --fleet report --since 30d --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
out = ["state %s %d" % (s, n) for s, n in r["totals"]["by_state"].items() if n]
out += ["%s %d" % (("app " + a["app"]).strip(), a["count"]) for a in r["apps"]]  # as awk prints an empty name
out += ["day %s %d" % (d["day"], d["count"]) for d in r["days"] if d["count"]]
print("\n".join(sorted(out)) + "\nhosts %d" % r["totals"]["hosts"])')
expect_eq fleet_cli_report_groupings "$chk" "$want"
# --- a dump whose triage failed (a corrupt corpus dump) on the fleet as on its host ---
hc=$(host_id web-c)
bid=$(lq web-c "SELECT id FROM dumps WHERE file_name = 'rust-minidump__invalid-range.dmp'")
lerr=$(lq web-c "SELECT last_error FROM dumps WHERE id = $bid")
# the source of truth: the file itself (size, SHA-256) and the reader's own verdict (`inspect` exits 2
# naming the offset); the agent's row for the error text and times
insp=$("$DS" inspect "$BAD" 2>&1); irc=$?
if [ $irc = 2 ] && grep -q "offset 2 (0x2)" <<<"$insp" && grep -q "^corrupt dump at offset 2 (0x2): " <<<"$lerr"; then
	pass fleet_failed_dump_local_verdict
else fail fleet_failed_dump_local_verdict "inspect rc=$irc: $insp; local error: $lerr"; fi
expect_eq fleet_failed_dump_central_row "$(pq "SELECT state || '|' || file_name || '|' || size || '|' || sha256 || '|' || last_error || '|' ||
	discovered_at || '|' || coalesce(triaged_at::text, 'none') FROM fleet.dumps WHERE host_id = '$hc' AND local_id = $bid")" \
	"failed|rust-minidump__invalid-range.dmp|$(stat -c %s "$BAD")|$(sha256sum <"$BAD" | cut -d' ' -f1)|$lerr|$(lq web-c "SELECT discovered_at FROM dumps WHERE id = $bid")|none"
# list --state failed: the same dumps with the same fields as the agent's own CLI (plus host, ids)
cmp_list='
import json, sys
keys = ("file_name", "size", "state", "attempts", "last_error", "discovered_at", "app", "process_name", "has_heap")
loc = json.load(open(sys.argv[1]))
flt = json.load(open(sys.argv[2]))
def rows(a): return sorted(json.dumps([d.get(k) for k in keys]) for d in a)
hosts = sorted(set(d["host"] for d in flt))
print(len(loc), "same" if rows(loc) == rows(flt) else "differ: %s / %s" % (rows(loc), rows(flt)), ",".join(hosts))'
"$DS" list --state failed --limit 0 --json --db "$W/web-c/var/dumpscout.db" >"$W/failed-local.json"
"$DS" --fleet list --state failed --host web-c --limit 0 --json >"$W/failed-fleet.json"
expect_eq fleet_cli_list_failed_like_local "$(python3 -c "$cmp_list" "$W/failed-local.json" "$W/failed-fleet.json")" \
	"$(lq web-c "SELECT count(*) FROM dumps WHERE state = 'failed'") same web-c"
if "$DS" --fleet list --state failed | grep -q "rust-minidump__invalid-range.dmp"; then pass fleet_cli_list_failed_text
else fail fleet_cli_list_failed_text "$("$DS" --fleet list --state failed 2>&1 | head -5)"; fi
# show: the fleet's text is the agent's, line for line, but for the title (the fleet's number) and the host
bseq=$(pq "SELECT seq FROM fleet.dumps WHERE host_id = '$hc' AND local_id = $bid")
"$DS" show "$bid" --db "$W/web-c/var/dumpscout.db" >"$W/show-local.txt" 2>&1
"$DS" --fleet show "$bseq" >"$W/show-fleet.txt" 2>&1
d=$(diff <(grep -v -e '^dump ' "$W/show-local.txt") <(grep -v -e '^dump ' -e '^  host ' "$W/show-fleet.txt"))
if [ -z "$d" ] && grep -q "corrupt dump at offset 2" "$W/show-fleet.txt" && grep -q "host .*web-c (dump $bid there)" "$W/show-fleet.txt"; then
	pass fleet_cli_show_failed_like_local
else fail fleet_cli_show_failed_like_local "$d $(head -3 "$W/show-fleet.txt")"; fi
out=$("$DS" fleet status --csv 2>&1)
expect_eq fleet_status_hosts "$(tail -n +2 <<<"$out" | cut -d, -f1,4 | sort | paste -sd' ')" "web-a,0 web-b,0 web-c,0"
out=$("$DS" --fleet list --host nosuchhost 2>&1); rc=$?
expect_eq fleet_cli_unknown_host_empty "$rc/$out" "0/no dumps match"
out=$(DUMPSCOUT_FLEET_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_viewer password=wrong" "$DS" --fleet list 2>&1); rc=$?
if [ $rc = 1 ] && grep -q "cannot connect to the fleet database" <<<"$out" && ! grep -q wrong <<<"$out"; then pass fleet_cli_bad_password
else fail fleet_cli_bad_password "rc=$rc: $out"; fi
unset DUMPSCOUT_FLEET_URL

phase "unit"
# --- analyses, contexts and roots through the same server (the C side of the outbox and ingest) ---
if [ -x "$BUILD/tests/test_fleetdb" ]; then
	PGDATABASE=fleet psql_q "CREATE DATABASE fleet_unit" >/dev/null 2>&1 || psql_q "CREATE DATABASE fleet_unit" >/dev/null
	DUMPSCOUT_TEST_PG_URL="host=127.0.0.1 port=$PGPORT dbname=fleet_unit user=scout_admin password=$PGPASSWORD" \
		TMPDIR=$W "$BUILD/tests/test_fleetdb"
else
	skip fleet_analysis_path "no $BUILD/tests/test_fleetdb (make test builds it)"
fi

for p in "$A_PID" "$B_PID" "$C_PID"; do kill -TERM "$p" 2>/dev/null; done
rcs=""
for p in "$A_PID" "$B_PID" "$C_PID"; do wait "$p"; rcs="$rcs$?"; done
expect_eq fleet_agents_stop_cleanly "$rcs" 000
PIDS=()
