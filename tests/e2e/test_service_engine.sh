#!/usr/bin/env bash
# test_service_engine.sh - engine faults at the service level: the real dumpscoutd with analysis.engine set
# to the stand-in heap engine (tests/fixtures/fake_engine/dumpscout-heap, which misbehaves by the dump's
# file name, or prints a hand-written engine document)
# and short limits, fed copies of a real .NET heap dump named to make it hang, crash, print garbage or
# flood: a hang times out and is retried with backoff, then failed after retries.max_attempts; a crash
# fails; garbage fails or ends with the parse error recorded; a flood is cut and ends; meanwhile a
# normal dump is triaged at once (the loop never waits for the engine), and SIGTERM during a hung
# analysis still stops the service cleanly, the dump resumed at the next start.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

SRC=${DUMPSCOUT_FIXTURE_DUMP:-build/fixtures/dumps/s01-static-field.dmp}
FAKE=$PWD/tests/fixtures/fake_engine/dumpscout-heap
if [ ! -x "$DSD" ]; then skip service_engine "no $DSD (build it with make)"; exit 0; fi
if [ ! -f "$SRC" ]; then skip service_engine "no $SRC (make fixtures)"; exit 0; fi
if ! command -v sqlite3 >/dev/null; then skip service_engine "no sqlite3 shell"; exit 0; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-engine.XXXXXX")
D=$T/var/dumps
DB=$T/var/dumpscout.db
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT # KEEP=1 keeps $T
cat >"$T/cfg.json" <<JSON
{ "data_dir": "$T/var", "heartbeat_s": 1, "log_level": "debug",
  "watch": { "stability_ms": 300, "rescan_s": 5 },
  "analysis": { "engine": "$FAKE", "dac_dirs": ["$T/dac"], "command_timeout_s": 2, "dump_timeout_s": 8, "output_cap_bytes": 65536,
                "concurrency": 1 },
  "retries": { "max_attempts": 2, "backoff_base_s": 1 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 } }
JSON
mkdir -p "$T/dac" && : >"$T/dac/libmscordaccore.so"
# drop NAME: a copy of the .NET dump with a distinct trailer (so it is not linked as a duplicate),
# renamed into the folder complete
drop() {
	cp "$SRC" "$T/$1.part"
	printf '\0%s\0' "$1" >>"$T/$1.part"
	mv "$T/$1.part" "$D/$1"
}
# final NAME: its state once it is done, failed or unsupported ("" if not within 60 s)
final() {
	local i s
	for i in $(seq 600); do
		s=$(q "SELECT state FROM dumps WHERE file_name='$1'")
		case $s in done | failed | unsupported) echo "$s"; return 0 ;; esac
		sleep 0.1
	done
	echo "${s:-none}"
}

if start; then pass service_engine_starts; else fail service_engine_starts "$(tail -5 "$T/log")"; exit 0; fi
t0=$(date +%s%N)
drop hang-1.dmp
# while the hang is being analysed, a normal dump is triaged at once
for _ in $(seq 100); do [ "$(q "SELECT state FROM dumps WHERE file_name='hang-1.dmp'")" = analyzing ] && break; sleep 0.1; done
cp "$CORPUS/dumps/mdmp/lldb__fizzbuzz_no_heap.dmp" "$T/normal.part" && mv "$T/normal.part" "$D/normal-during.dmp"
tn=$(date +%s%N)
for _ in $(seq 50); do [ "$(q "SELECT state FROM dumps WHERE file_name='normal-during.dmp'")" = done ] && break; sleep 0.1; done
ms=$(( ($(date +%s%N) - tn) / 1000000 ))
st=$(q "SELECT state FROM dumps WHERE file_name='normal-during.dmp'")/$(q "SELECT state FROM dumps WHERE file_name='hang-1.dmp'")
if [ "$st" = "done/analyzing" ] && [ "$ms" -lt 3000 ]; then pass service_engine_triage_not_blocked_by_hung_engine
else fail service_engine_triage_not_blocked_by_hung_engine "normal/hang states $st after $ms ms"; fi

drop crash-1.dmp
drop doc-static-field-1.dmp
drop garbage-1.dmp
drop flood-1.dmp

# hang: timeout, retried with backoff, then failed after max_attempts (2)
s=$(final hang-1.dmp)
row=$(q "SELECT d.state||'|'||d.attempts||'|'||ifnull(a.status,'')||'|'||ifnull(d.last_error,'') FROM dumps d
	LEFT JOIN analyses a ON a.dump_id = d.id WHERE d.file_name='hang-1.dmp'")
case $row in
failed\|2\|timeout\|*"gave up after 2 attempts"*) pass service_engine_hang_timeout_retried_then_failed ;;
*) fail service_engine_hang_timeout_retried_then_failed "$row" ;;
esac
if grep -q "attempt 1 of 2, next in 1 s" "$T/log"; then
	pass service_engine_hang_backoff_logged
else
	fail service_engine_hang_backoff_logged "$(grep -i 'attempt' "$T/log" | tail -3)"
fi
# crash: failed (not retried), with a message
s=$(final crash-1.dmp)
row=$(q "SELECT state||'|'||attempts||'|'||ifnull(last_error,'') FROM dumps WHERE file_name='crash-1.dmp'")
case $row in failed\|1\|?*) pass service_engine_crash_failed ;; *) fail service_engine_crash_failed "$row" ;; esac
# garbage: failed, or done with the parse error recorded
s=$(final garbage-1.dmp)
row=$(q "SELECT d.state||'|'||ifnull(a.status,'')||'|'||ifnull(a.error,'')||'|'||ifnull(d.last_error,'') FROM dumps d
	LEFT JOIN analyses a ON a.dump_id = d.id WHERE d.file_name='garbage-1.dmp'")
case $row in
failed\|*\|?* | done\|parse_error\|?*) pass service_engine_garbage_failed_or_parse_error ;;
*) fail service_engine_garbage_failed_or_parse_error "$row" ;;
esac
# flood: the output cap or the timeout ends it; the row ends and says why
s=$(final flood-1.dmp)
row=$(q "SELECT state||'|'||ifnull(last_error,'') FROM dumps WHERE file_name='flood-1.dmp'")
case $row in failed\|?* | done\|* | unsupported\|*) pass service_engine_flood_ends ;; *) fail service_engine_flood_ends "$row" ;; esac
echo "    (hang, crash, garbage, flood settled in $(( ($(date +%s%N) - t0) / 1000000 )) ms: $(q "SELECT group_concat(file_name||'='||state||'/'||attempts, ' ') FROM dumps")"

# a document: the held context and its real root are recorded, the probable false root is not (no bucket,
# no alert), and the dump moves to the .NET crash bucket (exception type and first application frame,
# from the document's exception stack)
s=$(final doc-static-field-1.dmp)
row=$(q "SELECT d.state||'|'||a.status||'|'||a.engine FROM dumps d JOIN analyses a ON a.dump_id = d.id
	WHERE d.file_name='doc-static-field-1.dmp'")
expect_eq service_engine_document_done "$row" "done|ok|dumpscout-heap"
row=$(q "SELECT group_concat(r.kind||'='||r.culprit, ' ') FROM roots r JOIN dumps d ON d.id = r.dump_id
	WHERE d.file_name='doc-static-field-1.dmp'")
expect_eq service_engine_document_real_root_only "$row" "static_field=Scout.Host.PluginRegistry.LastPlugin"
row=$(q "SELECT count(*) FROM buckets WHERE kind='root' AND (key='' OR title IS NULL OR title LIKE '%handle%')")
expect_eq service_engine_no_bucket_for_false_roots "$row" 0
row=$(q "SELECT b.key FROM dumps d JOIN buckets b ON b.id = d.crash_bucket_id WHERE d.file_name='doc-static-field-1.dmp'")
case $row in *"|System.ExecutionEngineException|Scout.Host.Program.Crash") pass service_engine_dotnet_crash_bucket ;;
*) fail service_engine_dotnet_crash_bucket "'$row'" ;; esac

# the service is still responsive: a normal dump dropped afterwards is triaged, and the heartbeat moves
cp "$CORPUS/dumps/mdmp/breakpad__minidump2.dmp" "$T/after.part" && mv "$T/after.part" "$D/normal-after.dmp"
expect_eq service_engine_normal_dump_after_faults "$(final normal-after.dmp)" done
hb1=$(q "SELECT heartbeat_at FROM service_status"); sleep 1.2; hb2=$(q "SELECT heartbeat_at FROM service_status")
if [ "${hb2:-0}" -gt "${hb1:-0}" ]; then pass service_engine_heartbeat_moves; else fail service_engine_heartbeat_moves "$hb1 -> $hb2"; fi
if ps -o pid= --ppid "$PID" | grep -q .; then
	fail service_engine_no_engine_left_running "$(ps -o pid,args --ppid "$PID")"
else
	pass service_engine_no_engine_left_running
fi

# SIGTERM while an analysis hangs: a clean exit within the grace period; the dump is analysed again later
drop hang-2.dmp
for _ in $(seq 100); do [ "$(q "SELECT state FROM dumps WHERE file_name='hang-2.dmp'")" = analyzing ] && break; sleep 0.1; done
ts=$(date +%s%N)
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
ms=$(( ($(date +%s%N) - ts) / 1000000 ))
if [ "$rc" = 0 ] && [ "$ms" -lt 11000 ]; then pass service_engine_sigterm_during_hang_clean
else fail service_engine_sigterm_during_hang_clean "exit $rc after $ms ms"; fi
if pgrep -f "$FAKE $D/hang-2.dmp" >/dev/null; then
	fail service_engine_sigterm_kills_engine "the stand-in engine still runs"
else
	pass service_engine_sigterm_kills_engine
fi
start >/dev/null
s=$(q "SELECT state FROM dumps WHERE file_name='hang-2.dmp'")
case $s in triaged | analyzing) pass service_engine_resumed_after_restart ;; *) fail service_engine_resumed_after_restart "state '$s'" ;; esac
kill -TERM "$PID"; wait "$PID"; PID=
