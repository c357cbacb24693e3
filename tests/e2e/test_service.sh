#!/usr/bin/env bash
# test_service.sh - the real dumpscoutd on a temporary folder with real dumps from tests/corpus:
# triage with the right pids (SOURCES.md), junk and corrupt files failed with a message, a file written
# slowly taken only once complete, a symlink ignored, a name with spaces and quotes handled, the
# heartbeat written, a burst of 2,000 files all recorded across a kill -9 and restart without duplicate
# rows, and SIGTERM a clean exit 0. Reads the database with the sqlite3 shell (read-only).
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

if [ ! -x "$DSD" ]; then skip service "no $DSD (build it with make)"; exit 0; fi
if ! command -v sqlite3 >/dev/null; then skip service "no sqlite3 shell"; exit 0; fi
M=$CORPUS/dumps/mdmp
E=$CORPUS/dumps/elf
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-e2e.XXXXXX") # not scratch(): its trap would fire in the $(...) subshell
D=$T/var/dumps
DB=$T/var/dumpscout.db
cat >"$T/cfg.json" <<JSON
{ "data_dir": "$T/var", "heartbeat_s": 1, "log_level": "debug",
  "watch": { "stability_ms": 400, "rescan_s": 3 }, "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 } }
JSON
PID=
trap 'kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT

if start; then pass service_starts; else fail service_starts "$(tail -5 "$T/log")"; exit 0; fi

# --- single files ---
Q="it's a \"quoted\" dump \$(x) & more.dmp"
cp "$M/lldb__linux-x86_64.dmp" "$D/$Q"
cp "$E/lldb__linux-x86_64.core" "$D/kernel.core"
cp "$M/lldb__fizzbuzz_no_heap.dmp" "$D/fizzbuzz.dmp"
cp "$M/rust-minidump__invalid-range.dmp" "$D/corrupt.dmp"
printf 'this is not a dump\n' >"$D/junk.txt"
ln -s "$(cd "$E" && pwd)/lldb__altmain.core" "$D/link.core"
cp "$M/lldb__linux-x86_64.dmp" "$D/.hidden.dmp"
cp "$M/lldb__linux-x86_64.dmp" "$D/upload.dmp.tmp"
# written slowly: 7 pieces 150 ms apart (the window is 400 ms); no row may exist before the last piece
SLOW=$E/lldb__linux-i386.core
size=$(stat -c %s "$SLOW")
piece=$(( (size + 6) / 7 ))
early=""
for i in 0 1 2 3 4 5 6; do
	dd if="$SLOW" of="$D/slow.core" bs="$piece" skip="$i" seek="$i" count=1 conv=notrunc status=none
	[ -n "$(q "SELECT id FROM dumps WHERE file_name='slow.core'")" ] && early="row before piece $i"
	sleep 0.15
done
expect_eq slow_file_not_taken_early "$early" ""

if wait_for 20 "SELECT count(*) FROM dumps WHERE state IN ('discovered','analyzing')" 0 &&
	wait_for 5 "SELECT count(*) FROM dumps" 6; then
	pass first_files_recorded
else
	fail first_files_recorded "$(q "SELECT file_name, state FROM dumps")"
fi
expect_eq quoted_name_pid "$(q "SELECT state||' '||pid FROM dumps WHERE file_name='$(printf '%s' "$Q" | sed "s/'/''/g")'")" "done 16001"
expect_eq kernel_core_pid "$(q "SELECT state||' '||pid FROM dumps WHERE file_name='kernel.core'")" "done 32259"
expect_eq minidump_pid "$(q "SELECT state||' '||pid FROM dumps WHERE file_name='fizzbuzz.dmp'")" "done 4440"
expect_eq slow_file_whole "$(q "SELECT state||' '||pid||' '||size FROM dumps WHERE file_name='slow.core'")" "done 32306 $size"
expect_eq slow_file_one_row "$(q "SELECT count(*) FROM dumps WHERE file_name='slow.core'")" "1"
err=$(q "SELECT state||': '||last_error FROM dumps WHERE file_name='corrupt.dmp'")
case $err in "failed: "*offset*) pass corrupt_failed_with_offset ;; *) fail corrupt_failed_with_offset "$err" ;; esac
err=$(q "SELECT state||': '||ifnull(last_error,'') FROM dumps WHERE file_name='junk.txt'")
case $err in "failed: "?*) pass junk_failed_with_message ;; *) fail junk_failed_with_message "$err" ;; esac
expect_eq symlink_and_temp_ignored "$(q "SELECT count(*) FROM dumps WHERE file_name IN ('link.core','.hidden.dmp','upload.dmp.tmp')")" "0"
hb1=$(q "SELECT heartbeat_at FROM service_status")
sleep 1.3
hb2=$(q "SELECT heartbeat_at FROM service_status")
if [ -n "$hb1" ] && [ "${hb2:-0}" -gt "$hb1" ]; then pass heartbeat; else fail heartbeat "'$hb1' then '$hb2'"; fi

# --- a burst of 2,000 files, with kill -9 in the middle and a restart ---
B=$T/burst
mkdir -p "$B"
srcs=("$M/lldb__linux-x86_64.dmp" "$E/lldb__linux-x86_64.core" "$M/lldb__fizzbuzz_no_heap.dmp" "$M/breakpad__minidump2.dmp")
for i in $(seq 1 1500); do cp "${srcs[$((i % 4))]}" "$B/burst $i.dmp"; done
for i in $(seq 1 500); do printf 'junk %d\n' "$i" >"$B/junk-$i.bin"; done
t0=$(date +%s.%N)
mv "$B"/* "$D"/ # renames into the folder: the files appear at once, complete
for _ in $(seq 200); do n=$(q "SELECT count(*) FROM dumps WHERE state!='discovered'"); [ "${n:-0}" -gt 300 ] && break; sleep 0.05; done
kill -9 "$PID"; wait "$PID" 2>/dev/null
mid=$(q "SELECT count(*) FROM dumps")
if start; then pass restart_after_kill9; else fail restart_after_kill9 "$(tail -5 "$T/log")"; fi
if wait_for 90 "SELECT count(*) FROM dumps WHERE state NOT IN ('discovered','analyzing')" 2006; then
	t1=$(date +%s.%N)
	pass burst_all_recorded
	echo "    (burst: $mid rows when killed; 2,000 files recorded and triaged in $(echo "$t1 - $t0" | bc) s including the restart)"
else
	fail burst_all_recorded "$(q "SELECT state, count(*) FROM dumps GROUP BY state")"
fi
expect_eq no_duplicate_rows "$(q "SELECT count(*) - count(DISTINCT path) FROM dumps")" "0"
expect_eq burst_dumps_done "$(q "SELECT count(*) FROM dumps WHERE file_name LIKE 'burst %' AND state='done' AND pid IS NOT NULL")" "1500"
expect_eq burst_junk_failed "$(q "SELECT count(*) FROM dumps WHERE file_name LIKE 'junk-%' AND state='failed' AND last_error <> ''")" "500"
# three of the four sources were recorded before the burst; the first copy of minidump2 is the original
expect_eq identical_content_linked "$(q "SELECT count(*) FROM dumps WHERE file_name LIKE 'burst %' AND duplicate_of IS NOT NULL")" "1499"
expect_eq linked_to_originals "$(q "SELECT count(DISTINCT duplicate_of) FROM dumps WHERE duplicate_of IS NOT NULL")" "4"

# a restart with nothing new changes nothing
kill -TERM "$PID"; wait "$PID"; rc=$?
expect_eq sigterm_exit_0 "$rc" "0"
before=$(q "SELECT count(*)||'/'||max(updated_at) FROM dumps")
start >/dev/null && sleep 1.5
expect_eq restart_no_new_rows "$(q "SELECT count(*)||'/'||max(updated_at) FROM dumps")" "$before"
kill -INT "$PID"; wait "$PID"; rc=$?
expect_eq sigint_exit_0 "$rc" "0"
grep -q "stopped:" "$T/log" && pass clean_stop_logged || fail clean_stop_logged "$(tail -3 "$T/log")"
