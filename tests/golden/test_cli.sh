#!/usr/bin/env bash
# test_cli.sh - golden tests of the dumpscout CLI's database commands on a database filled by the REAL
# pipeline: dumpscoutd runs on a temporary folder, real dumps from tests/corpus (and the .NET
# fixture dumps when `make fixtures` made them) are dropped in one at a time (so ids are stable), and
# once everything is triaged (and analysed, where the service does that) each command's text, JSON and
# CSV output is normalised (tests/golden/cli_normalize.py: times, temp paths) and compared with
# tests/golden/cli_expected/. UPDATE=1 rewrites the expected files; review them with git diff: the
# pids, process names and exception codes in them must match tests/corpus/SOURCES.md.
# Also checks the error paths: missing database, newer schema, a lock past the busy timeout, bad
# arguments (exit 2), and config check.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

EXP=tests/golden/cli_expected
if [ ! -x "$DS" ] || [ ! -x "$DSD" ]; then skip cli_golden "no $DS or $DSD (build them with make)"; exit 0; fi
if ! command -v sqlite3 >/dev/null || ! command -v python3 >/dev/null; then skip cli_golden "no sqlite3 or python3"; exit 0; fi
M=$CORPUS/dumps/mdmp
E=$CORPUS/dumps/elf
FIX=$BUILD/fixtures/dumps
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-cli.XXXXXX")
D=$T/var/dumps
DB=$T/var/dumpscout.db
cat >"$T/cfg.json" <<JSON
{ "data_dir": "$T/var", "heartbeat_s": 1, "log_level": "debug",
  "watch": { "stability_ms": 300, "rescan_s": 2 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 } }
JSON
PID=
trap 'kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT
q() { sqlite3 -readonly -cmd ".timeout 5000" "$DB" "$1" 2>/dev/null; }
"$DSD" --config "$T/cfg.json" 2>>"$T/log" &
PID=$!
for _ in $(seq 100); do grep -q "ready" "$T/log" 2>/dev/null && [ -d "$D" ] && break; sleep 0.05; done

# name in the folder <- corpus file (SOURCES.md says: pid, process, exception)
files=(
	"linux-x86_64.dmp:$M/lldb__linux-x86_64.dmp"          # a.out, pid 16001, SIGSEGV
	"fizzbuzz.dmp:$M/lldb__fizzbuzz_no_heap.dmp"          # fizzbuzz.exe, pid 4440, 0xC0000005 read @0
	"minidump2.dmp:$M/breakpad__minidump2.dmp"            # test_app.exe, 0xC0000005 write AV, 13 modules
	"kernel.core:$E/lldb__linux-x86_64.core"              # a.out, pid 32259, SIGSEGV
	"sigabrt.dmp:$M/breakpad__linux_raise_sigabrt.dmp"    # "driver", SIGABRT
	"corrupt.dmp:$M/rust-minidump__invalid-range.dmp"     # CORRUPT: must fail with an offset
	"again-fizzbuzz.dmp:$M/lldb__fizzbuzz_no_heap.dmp"    # same bytes: a duplicate in the same bucket
)
have_fix=0
# CLI_GOLDEN_NO_FIXTURES=1 runs the corpus-only set (its own expected files) even where fixtures exist
if [ -z "${CLI_GOLDEN_NO_FIXTURES:-}" ] && [ -f "$FIX/s01-static-field.dmp" ] && [ -f "$FIX/s10-unhandled-exception.dmp" ]; then
	have_fix=1
	files+=("s01-static-field.dmp:$FIX/s01-static-field.dmp" "s10-unhandled-exception.dmp:$FIX/s10-unhandled-exception.dmp")
fi
n=0
for f in "${files[@]}"; do
	name=${f%%:*} src=${f#*:}
	[ -f "${src}.crashreport.json" ] && cp "${src}.crashreport.json" "$T/$name.crashreport.json"
	cp "$src" "$T/$name.tmp-copy"
	[ -f "$T/$name.crashreport.json" ] && mv "$T/$name.crashreport.json" "$D/$name.crashreport.json"
	mv "$T/$name.tmp-copy" "$D/$name"
	n=$((n + 1))
	for _ in $(seq 200); do [ "$(q "SELECT count(*) FROM dumps")" = "$n" ] && break; sleep 0.05; done
	# and wait until this dump has settled (triaged, and analysed where the service does that) before the
	# next is dropped: ids of analyses and buckets are then in drop order, not in the order two workers
	# happen to finish (under load a later dump's analysis can finish first)
	for _ in $(seq $((have_fix ? 9000 : 600))); do
		[ "$(q "SELECT count(*) FROM dumps WHERE file_name = '$name' AND state NOT IN ('discovered','analyzing')
			AND NOT ($have_fix = 1 AND state = 'triaged' AND has_heap = 1)")" = 1 ] && break
		sleep 0.1
	done
done
# settled: nothing waits for triage or sits in analysis, and nothing changed for 3 s
settle_max=60
[ "$have_fix" = 1 ] && settle_max=900
last="" same=0
for _ in $(seq $((settle_max * 2))); do
	cur=$(q "SELECT count(*)||'/'||max(updated_at)||'/'||sum(state IN ('discovered','analyzing'))||'/'||
		(SELECT count(*) FROM dumps WHERE state = 'triaged' AND has_heap = 1) FROM dumps")
	# with the fixtures, the .NET dumps must also leave 'triaged' (be analysed) before the outputs are taken
	[ "$have_fix" = 1 ] && [ "${cur##*/}" != "0" ] && { last=$cur; same=0; sleep 0.5; continue; }
	cur=${cur%/*}
	if [ "$cur" = "$last" ] && [ "${cur##*/}" = "0" ]; then same=$((same + 1)); else same=0; fi
	[ "$same" -ge 6 ] && break
	last=$cur
	sleep 0.5
done
if [ "$same" -ge 6 ] && [ "$(q "SELECT count(*) FROM dumps")" = "$n" ]; then pass cli_pipeline_settled
else fail cli_pipeline_settled "$(q "SELECT id, file_name, state FROM dumps")"; exit 0; fi
# the values the expected files hold come from SOURCES.md; check the key ones directly too
expect_eq cli_corpus_pids "$(q "SELECT group_concat(pid, ',') FROM (SELECT pid FROM dumps WHERE file_name IN ('linux-x86_64.dmp','fizzbuzz.dmp','kernel.core') ORDER BY id)")" "16001,4440,32259"

suffix=""
[ "$have_fix" = 1 ] && suffix="-fixtures"
# The normaliser replaces what belongs to one fixture crash run only when fixtures are in the database.
export CLI_GOLDEN_FIXTURES=$have_fix
# golden NAME MODE ARGS... : runs dumpscout ARGS --db DB, normalises, compares with $EXP/NAME$suffix.txt
golden() {
	local name=$1 mode=$2 out exp rc
	shift 2
	exp="$EXP/$name$suffix.txt"
	out=$("$DS" "$@" --db "$DB" 2>&1)
	rc=$?
	out=$(printf '%s\n' "$out" | python3 tests/golden/cli_normalize.py "$T" "$mode"; echo "exit $rc")
	if [ -n "${UPDATE:-}" ]; then
		printf '%s\n' "$out" >"$exp"
		pass "cli_$name (updated)"
	elif [ ! -f "$exp" ]; then
		fail "cli_$name" "no $exp (run with UPDATE=1 and review it)"
	elif diff -U2 "$exp" <(printf '%s\n' "$out") >"$T/diff"; then
		pass "cli_$name"
	else
		fail "cli_$name" "$(head -c 3000 "$T/diff")"
	fi
}
id_of() { q "SELECT id FROM dumps WHERE file_name='$1'"; }
bucket_of() { q "SELECT crash_bucket_id FROM dumps WHERE file_name='$1'"; }

golden list text list
golden list_json json list --json
golden list_csv text list --csv
golden list_failed text list --state failed
golden list_app text list --app fizzbuzz.exe --sort oldest
golden show_linux text show "$(id_of linux-x86_64.dmp)"
golden show_linux_json json show "$(id_of linux-x86_64.dmp)" --json
golden show_minidump2 text show "$(id_of minidump2.dmp)"
golden show_kernel text show "$(id_of kernel.core)"
golden show_corrupt text show "$(id_of corrupt.dmp)"
golden show_by_path text show "$D/sigabrt.dmp"
golden show_bucket text show bucket "$(bucket_of fizzbuzz.dmp)"
golden buckets text buckets
golden buckets_json json buckets --json
golden roots text roots
golden roots_json json roots --json
golden report text report --since 24h
golden report_json json report --since 24h --format json
golden status text status
if [ "$have_fix" = 1 ]; then
	golden show_s01 text show "$(id_of s01-static-field.dmp)"
	golden show_s01_json json show "$(id_of s01-static-field.dmp)" --json
	golden show_s10 text show "$(id_of s10-unhandled-exception.dmp)"
	golden list_leak text list --leak
fi

# --- error paths and exit codes ---
out=$("$DS" list --db "$T/nope.db" 2>&1); rc=$?
case "$rc:$out" in 1:*"no database at $T/nope.db"*"start dumpscoutd"*) pass cli_missing_db ;; *) fail cli_missing_db "$rc: $out" ;; esac
mkdir -p "$T/empty"
out=$(cd "$T/empty" && DUMPSCOUT_DB= "$OLDPWD/$DS" list 2>&1); rc=$?
case "$rc:$out" in 1:*"no database found: tried"*"--db PATH"*) pass cli_no_db_found ;; *) fail cli_no_db_found "$rc: $out" ;; esac
out=$(DUMPSCOUT_DB="$DB" "$DS" list --limit 1 --json 2>&1); rc=$?
case "$rc:$out" in 0:*'"id"'*) pass cli_db_from_env ;; *) fail cli_db_from_env "$rc: $out" ;; esac
out=$("$DS" list --config "$T/cfg.json" --limit 1 --json 2>&1); rc=$?
case "$rc:$out" in 0:*'"id"'*) pass cli_db_from_config ;; *) fail cli_db_from_config "$rc: $out" ;; esac
cp "$DB" "$T/newer.db"
sqlite3 "$T/newer.db" "PRAGMA user_version = 99" 2>/dev/null
out=$("$DS" buckets --db "$T/newer.db" 2>&1); rc=$?
case "$rc:$out" in 1:*"upgrade dumpscout"*) pass cli_newer_schema ;; *) fail cli_newer_schema "$rc: $out" ;; esac
# a writer holding the lock past the busy timeout (reanalyze writes)
( printf 'BEGIN IMMEDIATE;\nUPDATE dumps SET attempts = attempts WHERE id = 1;\n.shell sleep 3\nCOMMIT;\n' | sqlite3 "$DB" ) &
LOCK=$!
sleep 0.5
out=$(DUMPSCOUT_BUSY_MS=300 "$DS" reanalyze 1 --db "$DB" 2>&1); rc=$?
case "$rc:$out" in 1:*"locked"*"Try again"*) pass cli_busy_message ;; *) fail cli_busy_message "$rc: $out" ;; esac
wait "$LOCK" 2>/dev/null
for bad in "list --since yesterday" "list --state exploded" "list --limit -3" "show" "show bucket x" "buckets --kind nope" \
	"report --format pdf" "reanalyze" "reanalyze abc" "list --bogus"; do
	# shellcheck disable=SC2086
	"$DS" $bad --db "$DB" >/dev/null 2>&1
	expect_eq "cli_exit2_${bad// /_}" "$?" 2
done
for c in list show buckets roots status report reanalyze purge config; do
	out=$("$DS" "$c" --help 2>&1); rc=$?
	case "$rc:$out" in 0:*usage:*xample*) pass "cli_help_$c" ;; *) fail "cli_help_$c" "$rc: $out" ;; esac
done

# --- writes: reanalyze, purge, config check ---
cid=$(id_of corrupt.dmp)
out=$("$DS" reanalyze "$cid" --db "$DB" 2>&1); rc=$?
expect_eq cli_reanalyze "$rc:$out" "0:dump $cid queued again"
st=$(q "SELECT state||' '||attempts||' '||ifnull(last_error,'-') FROM dumps WHERE id=$cid")
case $st in "discovered 0 -"|"failed 1 "*) pass cli_reanalyze_requeued ;; *) fail cli_reanalyze_requeued "$st" ;; esac
for _ in $(seq 100); do [ "$(q "SELECT state FROM dumps WHERE id=$cid")" = failed ] && break; sleep 0.1; done
if [ "$(q "SELECT state||' '||attempts FROM dumps WHERE id=$cid")" = "failed 1" ]; then pass cli_reanalyze_picked_up
else skip cli_reanalyze_picked_up "dumpscoutd did not pick up the requeued row within 10 s (it does not poll the database for rows the CLI requeues; it sees them at its next event or restart)"; fi
out=$("$DS" purge --dry-run --db "$DB" 2>&1); rc=$?
case "$rc:$out" in 0:*"would delete 0 of"*) pass cli_purge_dry_run ;; *) fail cli_purge_dry_run "$rc: $out" ;; esac
printf '{ "retention": { "max_count": 2, "max_bytes": 0, "max_age_days": 0 }, "data_dir": "%s/var" }\n' "$T" >"$T/purge.json"
files_before=$(ls "$D" | grep -vc crashreport)
out=$("$DS" purge --config "$T/purge.json" --db "$DB" 2>&1); rc=$?
deleted=$(q "SELECT count(*) FROM dumps WHERE deleted_at IS NOT NULL")
files_after=$(ls "$D" | grep -vc crashreport)
case "$rc:$out" in 0:*"deleted $deleted of"*) pass cli_purge ;; *) fail cli_purge "$rc: $out" ;; esac
expect_eq cli_purge_files_gone "$((files_before - files_after))" "$deleted"
# Retention keeps the newest dump of every bucket: no bucket may be left without a present dump, and the
# one kept is its newest.
expect_eq cli_purge_keeps_newest_per_bucket "$(q "SELECT count(*) FROM buckets b WHERE EXISTS (SELECT 1 FROM dump_buckets x WHERE x.bucket_id = b.id) AND NOT EXISTS (SELECT 1 FROM dump_buckets x JOIN dumps d ON d.id = x.dump_id WHERE x.bucket_id = b.id AND d.deleted_at IS NULL AND d.id = (SELECT max(d2.id) FROM dump_buckets x2 JOIN dumps d2 ON d2.id = x2.dump_id WHERE x2.bucket_id = b.id))")" "0"
[ "$deleted" -gt 0 ] && pass cli_purge_deleted_some || fail cli_purge_deleted_some "max_count 2 deleted nothing"
out=$("$DS" config check --config "$T/cfg.json" 2>&1); rc=$?
expect_eq cli_config_ok "$rc:$out" "0:$T/cfg.json: ok"
printf '{ "watch": { "stability_ms": "soon" }, "retention": { "max_cont": 3 } }\n' >"$T/bad.json"
out=$("$DS" config check --config "$T/bad.json" 2>&1); rc=$?
case "$rc:$out" in 2:*"watch.stability_ms"*"retention.max_cont"*) pass cli_config_bad_keys ;; *) fail cli_config_bad_keys "$rc: $out" ;; esac
printf '{ "mail": { "server": "smtp.example.com", "port": 99999, "from": "a@example.com", "to": "b@example.com" } }\n' >"$T/badmail.json"
out=$("$DS" config check --config "$T/badmail.json" 2>&1); rc=$?
case "$rc:$out" in 2:*"mail.port"*) pass cli_config_bad_mail ;; *) fail cli_config_bad_mail "$rc: $out" ;; esac
kill -TERM "$PID"; wait "$PID" 2>/dev/null
