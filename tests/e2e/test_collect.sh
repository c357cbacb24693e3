#!/usr/bin/env bash
# test_collect.sh - `dumpscout collect` on Linux: enable writes a systemd drop-in (under --root), is
# idempotent, status reports it, disable removes only what it wrote. Then the proof that the drop-in is
# right: the Environment= lines it wrote, unquoted as systemd does, are given to a real .NET program
# (the fixture host) that crashes — and the runtime's own writer puts a heap dump and a crash report
# into the folder dumpscoutd watches.
cd "$(dirname "$0")/../.." && source tests/lib.sh
scratch
R=$SCRATCH/root
DIR="$SCRATCH/dumps with space"
mkdir -p "$R" "$DIR"
conf=$R/etc/systemd/system/myapp.service.d/dumpscout.conf

out=$("$DS" collect enable --unit myapp.service --dir "$DIR" --root "$R" 2>&1)
if [ -f "$conf" ]; then pass collect_enable_writes_dropin; else fail collect_enable_writes_dropin "$out"; fi
first=$(cat "$conf" 2>/dev/null)
"$DS" collect enable --unit myapp.service --dir "$DIR" --root "$R" >/dev/null 2>&1
expect_eq collect_enable_idempotent "$(cat "$conf" 2>/dev/null)" "$first"
st=$("$DS" collect status --unit myapp.service --root "$R" 2>&1)
case $st in *myapp.service*"$DIR"*) pass collect_status_reports ;; *) fail collect_status_reports "$st" ;; esac
expect_eq collect_invalid_unit_exit2 "$("$DS" collect enable --unit 'bad;unit' --dir "$DIR" --root "$R" >/dev/null 2>&1; echo $?)" "2"

# The drop-in's variables, as systemd would hand them to the service.
env_file=$SCRATCH/env
/usr/bin/python3 - "$conf" >"$env_file" <<'PY'
import shlex, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith('Environment='):
        for word in shlex.split(line[len('Environment='):]):
            print(word.replace('%%', '%'))
PY
grep -q '^DOTNET_DbgMiniDumpType=2$' "$env_file" && grep -q '^DOTNET_EnableCrashReport=1$' "$env_file" &&
	pass collect_dropin_heap_dump_vars || fail collect_dropin_heap_dump_vars "$(cat "$env_file")"
if make -s fixtures >/dev/null 2>&1 && [ -x build/fixtures/bin/Scout.Host ]; then
	mapfile -t vars <"$env_file"
	( env "${vars[@]}" build/fixtures/bin/Scout.Host s09-control-unrelated ) >/dev/null 2>&1
	dump=$(ls "$DIR"/*.dmp 2>/dev/null | head -1)
	if [ -n "$dump" ] && [ -f "$dump.crashreport.json" ] && "$DS" inspect --json "$dump" | grep -q '"name":"coreclr"'; then
		pass collect_dropin_makes_runtime_write_dump
	else
		fail collect_dropin_makes_runtime_write_dump "no heap dump in $DIR: $(ls -la "$DIR")"
	fi
else
	skip collect_dropin_makes_runtime_write_dump "make fixtures failed (needs the .NET SDK)"
fi

echo '# mine' >"$R/etc/systemd/system/myapp.service.d/other.conf"
"$DS" collect disable --unit myapp.service --root "$R" >/dev/null 2>&1
if [ ! -e "$conf" ] && [ -f "$R/etc/systemd/system/myapp.service.d/other.conf" ]; then
	pass collect_disable_removes_only_its_file
else
	fail collect_disable_removes_only_its_file "$(ls -la "$R/etc/systemd/system/myapp.service.d/")"
fi
