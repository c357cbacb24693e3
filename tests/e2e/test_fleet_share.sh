#!/usr/bin/env bash
# test_fleet_share.sh - raw dumps on the fleet's dump share (fleet.dump_share), with a real PostgreSQL 15
# (tests/pg.sh) and real dumpscoutd agents triaging real corpus dumps: each copy arrives under
# SHARE/HOST/YYYY-MM-DD/ with the SHA-256 of the source file; the central row names it; a share the
# agent cannot write to records the failure while the dump is still triaged and published, and the copy
# is made by a later round; the share's retention deletes only the copies the agent wrote (a planted
# foreign file survives), and the central row stops naming a deleted copy. A slow share (held on demand
# by the test-only DUMPSCOUT_TEST_SHARE_GATE: each copy waits after its first chunk until the gate file
# exists) does not hold up the service: a dump dropped meanwhile is triaged and published, heartbeats go
# on and `status` answers before the held copy ends; a stop cuts the copy short and a kill -9 leaves it
# cut short, neither leaves a file under its final name, and the next start makes the copy.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh
source tests/pg.sh

pg_test_begin fleet_share || exit 0
M=$CORPUS/dumps/mdmp

if ! pg_start "$W"; then fail fleet_share_postgres_starts "see $W/pg"; exit 0; fi
psql_q "CREATE DATABASE fleet" >/dev/null
ADMIN_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_admin"
"$DS" fleet init --fleet-url "$ADMIN_URL" >/dev/null 2>&1 || { fail fleet_share_init "fleet init failed"; exit 0; }
PGDATABASE=fleet psql_q "CREATE ROLE scout_agent LOGIN PASSWORD 'agent-pw' IN ROLE dumpscout_ingest" >/dev/null
AGENT_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_agent password=agent-pw"
VIEW_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_admin password=$PGPASSWORD"
pq() { PGDATABASE=fleet psql_q "$1"; }
lq() { sqlite3 -cmd ".timeout 5000" "$W/$1/var/dumpscout.db" "$2" 2>/dev/null; }

# agent_cfg NAME SHARE
agent_cfg() {
	mkdir -p "$W/$1"
	cat >"$W/$1/cfg.json" <<JSON
{ "data_dir": "$W/$1/var", "heartbeat_s": 1, "log_level": "debug",
  "watch": { "stability_ms": 300, "rescan_s": 2 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 },
  "fleet": { "url": "$AGENT_URL", "hostname": "$1", "interval_s": 1, "dump_share": "$2", "dump_share_days": 30 } }
JSON
}
start_agent() {
	local i
	: >>"$W/$1/log"
	local from=$(wc -l <"$W/$1/log")
	"$DSD" --config "$W/$1/cfg.json" 2>>"$W/$1/log" &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	for i in $(seq 100); do tail -n +$((from + 1)) "$W/$1/log" | grep -q "ready" && return 0; sleep 0.05; done
	return 1
}
stop_agent() { kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; }
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done
	"$@"
}
# is WANT CMD...: CMD prints WANT (wait_until runs it again each time; a "$(...)" argument would not be)
is() { local want=$1; shift; [ "$("$@")" = "$want" ]; }
# drained NAME COUNT: COUNT dumps recorded, none pending, the outbox empty
drained() { [ "$(lq "$1" "SELECT count(*) FROM dumps")" = "$2" ] && [ "$(lq "$1" "SELECT count(*) FROM fleet_outbox")" = 0 ] && [ "$(lq "$1" "SELECT count(*) FROM dumps WHERE state IN ('discovered','triaged','analyzing')")" = 0 ]; }
host_id() { lq "$1" "SELECT value FROM service_kv WHERE key = 'fleet.host_id'"; }

# --- config check: a share that is not there is reported ---
agent_cfg web-s "$W/share"
out=$("$DSD" --check-config --config "$W/web-s/cfg.json" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "fleet.dump_share: $W/share: " <<<"$out"; then pass fleet_share_check_missing
else fail fleet_share_check_missing "rc=$rc: $out"; fi
mkdir -p "$W/share"
out=$("$DSD" --check-config --config "$W/web-s/cfg.json" 2>&1); rc=$?
expect_eq fleet_share_check_ok "$rc" 0

# --- a copy per dump, same content, under HOST/DATE/, named by the central row ---
day0=$(date -u +%F)
start_agent web-s || { fail fleet_share_agent_starts "$(tail -5 "$W/web-s/log")"; exit 0; }
SRC="$M/breakpad__minidump2.dmp"
cp "$SRC" "$W/web-s/var/dumps/"
cp "$M/breakpad__linux_inline.dmp" "$W/web-s/var/dumps/"
wait_until 60 drained web-s 2
day1=$(date -u +%F)
copies=$(find "$W/share" -type f | sort)
n=$(printf '%s\n' "$copies" | grep -c .)
expect_eq fleet_share_two_copies "$n" 2
copy=$(printf '%s\n' "$copies" | grep 'minidump2' | head -1)
d=$(basename "$(dirname "$copy")")
h=$(basename "$(dirname "$(dirname "$copy")")")
if [ "$h" = web-s ] && { [ "$d" = "$day0" ] || [ "$d" = "$day1" ]; }; then pass fleet_share_host_date_folders
else fail fleet_share_host_date_folders "$copy"; fi
expect_eq fleet_share_same_sha256 "$(sha256sum <"$copy" | cut -d' ' -f1)" "$(sha256sum <"$SRC" | cut -d' ' -f1)"
expect_eq fleet_share_modes "$(stat -c %a "$copy")/$(stat -c %a "$(dirname "$copy")")" 600/700
id=$(lq web-s "SELECT id FROM dumps WHERE file_name = 'breakpad__minidump2.dmp'")
expect_eq fleet_share_local_row "$(lq web-s "SELECT state || ' ' || path FROM share_files WHERE dump_id = $id")" "copied $copy"
hid=$(host_id web-s)
wait_until 20 is "$copy" pq "SELECT share_path FROM fleet.dumps WHERE host_id = '$hid' AND local_id = $id"
expect_eq fleet_share_central_row "$(pq "SELECT share_path FROM fleet.dumps WHERE host_id = '$hid' AND local_id = $id")" "$copy"
seq=$(pq "SELECT seq FROM fleet.dumps WHERE host_id = '$hid' AND local_id = $id")
out=$("$DS" --fleet --fleet-url "$VIEW_URL" show "$seq" --json 2>&1)
if grep -q "\"share_path\":[[:space:]]*\"$copy\"" <<<"$out"; then pass fleet_share_cli_show_json
else fail fleet_share_cli_show_json "$out"; fi
out=$("$DS" --fleet --fleet-url "$VIEW_URL" show "$seq" 2>&1)
if grep -q "$copy" <<<"$out"; then pass fleet_share_cli_show
else fail fleet_share_cli_show "$out"; fi

# --- retention of the share: only its own copies, and the central row forgets them ---
[ -n "$copy" ] || { fail fleet_share_copy_found "no copy to test the share's retention with"; exit 0; }
foreign="$(dirname "$copy")/someone-elses.dmp"
echo "not ours" >"$foreign"
stop_agent
lq web-s "UPDATE share_files SET written_at = written_at - 31 * 86400000 WHERE dump_id = $id"
start_agent web-s || fail fleet_share_agent_restarts "$(tail -5 "$W/web-s/log")"
wait_until 20 test ! -e "$copy"
if [ ! -e "$copy" ]; then pass fleet_share_expired_copy_deleted; else fail fleet_share_expired_copy_deleted "$copy still there"; fi
expect_eq fleet_share_foreign_file_kept "$(cat "$foreign" 2>&1)" "not ours"
expect_eq fleet_share_other_copy_kept "$(find "$W/share" -type f -name '*linux_inline*' | grep -c .)" 1
expect_eq fleet_share_local_row_gone "$(lq web-s "SELECT count(*) FROM share_files WHERE dump_id = $id")" 0
wait_until 20 is none pq "SELECT coalesce(share_path, 'none') FROM fleet.dumps WHERE host_id = '$hid' AND local_id = $id"
expect_eq fleet_share_central_forgets "$(pq "SELECT coalesce(share_path, 'none') FROM fleet.dumps WHERE host_id = '$hid' AND local_id = $id")" none
stop_agent

# --- a share it cannot write to: the dump is still triaged and published; a later round copies it ---
mkdir -p "$W/share2" "$W/elsewhere"
ln -s "$W/elsewhere" "$W/share2/web-u"   # the host's folder is a link: refused
agent_cfg web-u "$W/share2"
start_agent web-u || { fail fleet_share_agent_u_starts "$(tail -5 "$W/web-u/log")"; exit 0; }
cp "$SRC" "$W/web-u/var/dumps/"
wait_until 60 drained web-u 1
uid=$(lq web-u "SELECT id FROM dumps")
expect_eq fleet_share_failure_local_dump "$(lq web-u "SELECT state FROM dumps WHERE id = $uid")/$(test -f "$W/web-u/var/dumps/breakpad__minidump2.dmp" && echo kept)" "done/kept"
out=$(lq web-u "SELECT state || ' ' || attempts || ' ' || last_error FROM share_files WHERE dump_id = $uid")
if grep -q "^failed 1 cannot copy to $W/share2: " <<<"$out"; then pass fleet_share_failure_recorded
else fail fleet_share_failure_recorded "$out"; fi
expect_eq fleet_share_failure_nothing_written "$(find "$W/elsewhere" "$W/share2" -type f | grep -c .)" 0
uhid=$(host_id web-u)
expect_eq fleet_share_failure_published "$(pq "SELECT count(*) || ' ' || coalesce(max(share_path), 'none') FROM fleet.dumps WHERE host_id = '$uhid'")" "1 none"
out=$("$DS" status --db "$W/web-u/var/dumpscout.db" 2>&1)
if grep -q "share .*1 failed" <<<"$out"; then pass fleet_share_status_counts; else fail fleet_share_status_counts "$out"; fi
stop_agent
rm "$W/share2/web-u"
lq web-u "UPDATE share_files SET updated_at = updated_at - 3600000"
start_agent web-u || fail fleet_share_agent_u_restarts "$(tail -5 "$W/web-u/log")"
wait_until 20 is copied lq web-u "SELECT state FROM share_files WHERE dump_id = $uid"
ucopy=$(lq web-u "SELECT path FROM share_files WHERE dump_id = $uid")
expect_eq fleet_share_retry_copies "$(lq web-u "SELECT state FROM share_files WHERE dump_id = $uid")/$(sha256sum <"$ucopy" 2>/dev/null | cut -d' ' -f1)" "copied/$(sha256sum <"$SRC" | cut -d' ' -f1)"
wait_until 20 is "$ucopy" pq "SELECT share_path FROM fleet.dumps WHERE host_id = '$uhid'"
expect_eq fleet_share_retry_published "$(pq "SELECT share_path FROM fleet.dumps WHERE host_id = '$uhid'")" "$ucopy"
stop_agent

# --- a slow share: the copy runs off the loop; stop and kill -9 in the middle of it ---
GATE=$W/gate
agent_cfg web-g "$W/share3"
mkdir -p "$W/share3"
rm -f "$GATE"
DUMPSCOUT_TEST_SHARE_GATE=$GATE start_agent web-g || { fail fleet_share_gate_agent_starts "$(tail -5 "$W/web-g/log")"; exit 0; }
GATED=$AGENT_PID
ghid=$(host_id web-g)
tmps() { find "$W/share3" -type f -name '.*.tmp' | grep -c .; }
finals() { find "$W/share3" -type f ! -name '.*' | grep -c .; }
cp "$SRC" "$W/web-g/var/dumps/"
wait_until 60 is 1 tmps
aid=$(lq web-g "SELECT id FROM dumps WHERE file_name = 'breakpad__minidump2.dmp'")
expect_eq fleet_share_slow_copy_held "$(tmps)/$(finals)/$(lq web-g "SELECT state FROM share_files WHERE dump_id = $aid")" "1/0/pending"
# while A's copy is held: B is dropped, triaged, recorded and published; heartbeats go on; status answers
hb=$(lq web-g "SELECT heartbeat_at FROM service_status")
cp "$M/breakpad__linux_inline.dmp" "$W/web-g/var/dumps/"
b_published() { [ "$(pq "SELECT state FROM fleet.dumps WHERE host_id = '$ghid' AND file_name = 'breakpad__linux_inline.dmp'")" = done ]; }
wait_until 60 b_published
bid=$(lq web-g "SELECT id FROM dumps WHERE file_name = 'breakpad__linux_inline.dmp'")
wait_until 20 is 1 lq web-g "SELECT heartbeat_at > $hb FROM service_status"
out=$("$DS" status --db "$W/web-g/var/dumpscout.db" 2>&1); rc=$?
# the orderings: all of that happened while A's copy had not finished (nothing under a final name yet)
a_state=$(lq web-g "SELECT state FROM share_files WHERE dump_id = $aid")
if b_published && [ "$(lq web-g "SELECT state FROM dumps WHERE id = $bid")" = done ] && [ "$a_state" = pending ] &&
	[ "$(finals)" = 0 ]; then pass fleet_share_slow_loop_goes_on
else
	fail fleet_share_slow_loop_goes_on "B: $(lq web-g "SELECT state FROM dumps WHERE id = $bid"), A's copy: $a_state, final files $(finals)"
	touch "$GATE"   # let a blocked service go (a stop could not reach it), and end here
	exit 0
fi
expect_eq fleet_share_slow_heartbeat "$(lq web-g "SELECT heartbeat_at > $hb FROM service_status")" 1
if [ $rc = 0 ] && grep -q "share .*2 to copy" <<<"$out"; then pass fleet_share_slow_status_answers
else fail fleet_share_slow_status_answers "rc=$rc: $out"; fi
# a third dump while both copy slots are held: triaged, its copy waits for a slot
C_SRC=$M/lldb__linux-x86_64.dmp
cp "$C_SRC" "$W/web-g/var/dumps/"
wait_until 60 is done lq web-g "SELECT state FROM dumps WHERE file_name = 'lldb__linux-x86_64.dmp'"
cid=$(lq web-g "SELECT id FROM dumps WHERE file_name = 'lldb__linux-x86_64.dmp'")
states() { lq web-g "SELECT group_concat(state) FROM (SELECT state FROM share_files ORDER BY dump_id)"; }
expect_eq fleet_share_slow_third_waits "$(tmps)/$(finals)/$(states)" "2/0/pending,pending,pending"
# a stop in the middle: the held copies give up, their temporary files go, nothing gets a final name
kill -TERM "$GATED"; wait "$GATED"
expect_eq fleet_share_stop_leaves_nothing "$(tmps)/$(finals)/$(states)" "0/0/pending,pending,pending"
if grep -q "copy to the share stopped" "$W/web-g/log"; then pass fleet_share_stop_logged
else fail fleet_share_stop_logged "$(tail -5 "$W/web-g/log")"; fi
# held again, then kill -9: the temporary files stay, nothing under a final name
DUMPSCOUT_TEST_SHARE_GATE=$GATE start_agent web-g || fail fleet_share_gate_agent_restarts "$(tail -5 "$W/web-g/log")"
GATED=$AGENT_PID
wait_until 30 is 2 tmps
kill -9 "$GATED"; wait "$GATED" 2>/dev/null
expect_eq fleet_share_kill_leaves_temp_only "$(tmps)/$(finals)/$(states)" "2/0/pending,pending,pending"
# the next start (no gate) makes the three copies, two slots at a time (the third as soon as a slot is
# free, not at the next retention round an hour later), over the remains: whole files, no temporary
# file left
start_agent web-g || fail fleet_share_after_kill_starts "$(tail -5 "$W/web-g/log")"
wait_until 30 is copied,copied,copied states
sums() { local i; for i in "$@"; do sha256sum <"$i" | cut -d' ' -f1; done | paste -sd/; }
expect_eq fleet_share_after_kill_copied "$(tmps)/$(finals)/$(sums $(lq web-g "SELECT path FROM share_files ORDER BY dump_id"))" \
	"0/3/$(sums "$SRC" "$M/breakpad__linux_inline.dmp" "$C_SRC")"
acopy=$(lq web-g "SELECT path FROM share_files WHERE dump_id = $aid")
wait_until 20 is "$acopy" pq "SELECT share_path FROM fleet.dumps WHERE host_id = '$ghid' AND local_id = $aid"
expect_eq fleet_share_after_kill_published "$(pq "SELECT share_path FROM fleet.dumps WHERE host_id = '$ghid' AND local_id = $aid")" "$acopy"
stop_agent

# --- the copy is of the file triage read, as triage read it: written to while held, it is refused ---
agent_cfg web-x "$W/share4"
mkdir -p "$W/share4"
rm -f "$GATE"
DUMPSCOUT_TEST_SHARE_GATE=$GATE start_agent web-x || { fail fleet_share_changed_agent_starts "$(tail -5 "$W/web-x/log")"; exit 0; }
cp "$SRC" "$W/web-x/var/dumps/"
held4() { [ "$(find "$W/share4" -type f -name '.*.tmp' | grep -c .)" = 1 ]; }
wait_until 60 held4
xid=$(lq web-x "SELECT id FROM dumps WHERE file_name = 'breakpad__minidump2.dmp'")
printf 'appended after triage' >>"$W/web-x/var/dumps/breakpad__minidump2.dmp"
touch "$GATE"
wait_until 30 is failed lq web-x "SELECT state FROM share_files WHERE dump_id = $xid"
out=$(lq web-x "SELECT state || ': ' || last_error FROM share_files WHERE dump_id = $xid")
if grep -q "^failed: cannot copy to $W/share4: file changed" <<<"$out"; then pass fleet_share_changed_file_refused
else fail fleet_share_changed_file_refused "$out"; fi
expect_eq fleet_share_changed_nothing_left "$(find "$W/share4" -type f -name "$xid-*" -o -type f -name ".$xid-*" | grep -c .)" 0
stop_agent
PIDS=()
