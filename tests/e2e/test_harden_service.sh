#!/usr/bin/env bash
# test_harden_service.sh - the service-level hardening of issue 12, with the real dumpscoutd and CLI:
#  item 2: dump folders that hold the data folder or a system folder are refused by `config check` and at
#          start; retention deletes only files recognised as dumps (junk beside them stays);
#  item 4: a triaged dump swapped for a symlink to a root-only file is refused before the engine runs;
#          a dump rewritten after triage is not deleted by retention;
#  item 6: data folder 0711/0700, database and -wal/-shm 0600, a dump dropped by another user with
#          umask 022 readable only by that user and root; the CLI names the file on a permission error;
#  item 5: `list --json` stays valid UTF-8 for a file name that is not;
#  item 7: a dump whose name holds control characters is recorded (shown sanitised); a second dumpscoutd
#          on the same database refuses to start and names the first.
set -u
cd "$(dirname "$0")/../.."
source tests/lib.sh

if [ ! -x "$DSD" ] || ! command -v sqlite3 >/dev/null; then skip harden_service "no $DSD or sqlite3"; exit 0; fi
M=$CORPUS/dumps/mdmp
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-harden.XXXXXX")
chmod 755 "$T"
D=$T/var/dumps
DB=$T/var/dumpscout.db
PID=
trap 'kill -9 $PID 2>/dev/null; rm -rf "$T"' EXIT
FIX=build/fixtures/dumps/s01-static-field.dmp

# --- item 2: where dumps may be collected ---
printf '{ "data_dir": "%s/var", "dump_dirs": ["%s/var"] }\n' "$T" "$T" >"$T/bad.json"
out=$("$DS" config check --config "$T/bad.json" 2>&1); rc=$?
case "$rc:$out" in 2:*"holds the data folder"*) pass config_check_rejects_data_folder ;; *) fail config_check_rejects_data_folder "$rc: $out" ;; esac
out=$("$DSD" --config "$T/bad.json" 2>&1); rc=$?
case "$rc:$out" in [12]:*"holds the data folder"*) pass service_refuses_data_folder ;; *) fail service_refuses_data_folder "$rc: $out" ;; esac
[ ! -e "$T/var/dumpscout.db" ] && pass service_refused_before_creating_db || fail service_refused_before_creating_db "db created"
printf '{ "dump_dirs": ["/"] }\n' >"$T/root.json"
out=$("$DS" config check --config "$T/root.json" 2>&1); rc=$?
case "$rc:$out" in 2:*"'/' is a system folder"*) pass config_check_rejects_root ;; *) fail config_check_rejects_root "$rc: $out" ;; esac

cat >"$T/cfg.json" <<JSON
{ "data_dir": "$T/var", "log_level": "debug", "watch": { "stability_ms": 300, "rescan_s": 2 },
  "analysis": { "engine": "/bin/false" },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 } }
JSON
if start; then pass service_starts; else fail service_starts "$(tail -5 "$T/log")"; exit 0; fi

# --- item 7: a second service on the same database ---
out=$(timeout 10 "$DSD" --config "$T/cfg.json" 2>&1); rc=$?
case "$rc:$out" in 1:*"another dumpscoutd (pid $PID)"*) pass second_daemon_refused_naming_first ;; *) fail second_daemon_refused_naming_first "$rc: $(printf '%s' "$out" | tail -2)" ;; esac

# --- item 6: private data ---
expect_eq data_folder_mode "$(stat -c %a "$T/var")" "711"  # a dump folder is inside it: enter, not list
expect_eq db_modes "$(stat -c %a "$DB" "$DB-wal" "$DB-shm" "$DB.lock" | sort -u | tr '\n' ' ')" "600 "
expect_eq dump_folder_mode "$(stat -c %a "$D")" "1733"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "umask 022; cat '$M/lldb__linux-x86_64.dmp' > '$D/other-user.dmp'" 2>/dev/null
	m=$(stat -c %a "$D/other-user.dmp" 2>/dev/null)
	case $m in 600) pass dropped_dump_private ;; "") skip dropped_dump_private "nobody cannot write here (a parent folder)" ;;
		*) if getfacl "$D" >/dev/null 2>&1; then fail dropped_dump_private "mode $m"; else skip dropped_dump_private "no POSIX ACLs here (mode $m)"; fi ;; esac
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$DS" list --db "$DB" 2>&1); rc=$?
	case "$rc:$out" in 1:*"cannot read the database $DB: permission denied"*"as root"*) pass cli_explains_permission ;;
		*) fail cli_explains_permission "$rc: $out" ;; esac
else
	skip dropped_dump_private "no setpriv"; skip cli_explains_permission "no setpriv"
fi

# --- item 7: control characters in a name ---
CTL=$'esc\e]0;pwned\a\e[2J.dmp'
cp "$M/lldb__linux-x86_64.dmp" "$D/$CTL"
if wait_for 15 "SELECT count(*) FROM dumps WHERE file_name LIKE 'esc%' AND state='done'" 1; then pass control_name_recorded
else fail control_name_recorded "$(q "SELECT file_name, state FROM dumps")"; fi
out=$("$DS" list --db "$DB" 2>&1)
case "$out" in *$'\e'*|*$'\a'*) fail control_name_listed_sanitised "raw ESC/BEL in list output" ;; *"esc?]0;pwned??[2J.dmp"*) pass control_name_listed_sanitised ;; *) fail control_name_listed_sanitised "$out" ;; esac
js=$("$DS" list --json --db "$DB" 2>&1)
if printf '%s' "$js" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert any("\x1b" in r["file_name"] for r in (d if isinstance(d, list) else d.get("dumps", [])))' 2>/dev/null &&
	! printf '%s' "$js" | grep -q $'\e'; then pass control_name_json_escaped; else fail control_name_json_escaped "$(printf '%s' "$js" | head -c 400)"; fi
# item 5: a file name that is not UTF-8 (bytes FF FE) is recorded, and `list --json` is still valid UTF-8
# JSON, the bad bytes shown as U+FFFD
cp "$M/lldb__linux-x86_64.dmp" "$D/"$'bad\xff\xfename.dmp'
if wait_for 15 "SELECT count(*) FROM dumps WHERE file_name LIKE 'bad%' AND state='done'" 1; then
	"$DS" list --json --db "$DB" >"$T/list.json" 2>&1
	if python3 -c 'import json,sys; d=json.loads(open(sys.argv[1], "rb").read().decode("utf-8")); rows = d if isinstance(d, list) else d.get("dumps", []); assert any(r["file_name"] == "bad\ufffd\ufffdname.dmp" for r in rows)' "$T/list.json"
	then pass list_json_valid_utf8_for_bad_name; else fail list_json_valid_utf8_for_bad_name "$(head -c 400 "$T/list.json" | od -c | head -5)"; fi
else
	fail list_json_valid_utf8_for_bad_name "not recorded: $(q "SELECT file_name, state FROM dumps")"
fi

# --- item 2: retention deletes recognised dumps only ---
printf 'not a dump\n' >"$D/junk.bin"
cp "$M/lldb__fizzbuzz_no_heap.dmp" "$D/old.dmp"
wait_for 15 "SELECT count(*) FROM dumps WHERE file_name IN ('junk.bin','old.dmp') AND state IN ('done','failed')" 2 ||
	fail retention_setup "$(q "SELECT file_name, state FROM dumps")"
# --- item 4: a triaged .NET dump swapped for a symlink to a root-only file ---
have_fix=0
if [ -f "$FIX" ]; then
	have_fix=1
	cp "$FIX" "$D/dotnet.dmp"
	wait_for 90 "SELECT count(*) FROM dumps WHERE file_name='dotnet.dmp' AND attempts > 0 AND state IN ('triaged','failed','done')" 1 ||
		fail swap_setup "$(q "SELECT file_name, state, attempts, last_error FROM dumps WHERE file_name='dotnet.dmp'")"
fi
kill -TERM "$PID"; wait "$PID"
if [ "$have_fix" = 1 ]; then
	mkdir -m 700 "$T/secret"; cp "$M/lldb__linux-x86_64.dmp" "$T/secret/root-only.dmp"; chmod 600 "$T/secret/root-only.dmp"
	rm "$D/dotnet.dmp"; ln -s "$T/secret/root-only.dmp" "$D/dotnet.dmp"
	id=$(q "SELECT id FROM dumps WHERE file_name='dotnet.dmp'")
	"$DS" reanalyze "$id" --db "$DB" >/dev/null 2>&1
	start >/dev/null
	if wait_for 30 "SELECT state FROM dumps WHERE id=$id" failed; then
		err=$(q "SELECT last_error FROM dumps WHERE id=$id")
		case $err in *"symbolic link"*) pass swapped_symlink_refused_before_engine ;; *) fail swapped_symlink_refused_before_engine "$err" ;; esac
	else
		fail swapped_symlink_refused_before_engine "$(q "SELECT state, last_error FROM dumps WHERE id=$id")"
	fi
	kill -TERM "$PID"; wait "$PID"
else
	skip swapped_symlink_refused_before_engine "no $FIX (make fixtures)"
fi
# old.dmp rewritten after triage (another crash of the same name): retention must leave the new file
cat "$M/lldb__linux-x86_64.dmp" >"$D/old.dmp"
printf '{ "data_dir": "%s/var", "retention": { "max_count": 1, "max_bytes": 0, "max_age_days": 0 } }\n' "$T" >"$T/purge.json"
"$DS" purge --config "$T/purge.json" --db "$DB" >"$T/purge.out" 2>&1
[ -f "$D/junk.bin" ] && pass retention_keeps_non_dumps || fail retention_keeps_non_dumps "junk.bin deleted"
[ -f "$D/old.dmp" ] && pass retention_keeps_rewritten_dump || fail retention_keeps_rewritten_dump "the rewritten old.dmp was deleted"
[ -f "$DB" ] && [ -f "$T/var/dumpscout.db.lock" ] && pass retention_keeps_service_files || fail retention_keeps_service_files "$(ls "$T/var")"
gone=$(q "SELECT count(*) FROM dumps WHERE deleted_at IS NOT NULL")
[ "${gone:-0}" -ge 1 ] && pass retention_deleted_recognised_dumps || fail retention_deleted_recognised_dumps "nothing deleted: $(cat "$T/purge.out")"
