#!/usr/bin/env bash
# test_windows_fleet.sh - fleet publishing from Windows under Wine (docs/windows.md, docs/fleet.md): a real
# PostgreSQL 15 on Linux (tests/pg.sh, 127.0.0.1, its own port) with TLS from a CA this test makes with
# openssl, and plain TCP refused (pg_hba `hostnossl ... reject`), so every connection below is TLS.
# The Windows dumpscout.exe runs `fleet init` with sslmode=verify-full; a wrong CA and a host name the
# certificate does not name are refused. The MSI installs the service in a Wine prefix of its own
# (build/win/wineprefix-fleet, reused) with a "fleet" section (password file, verify-full); a real
# minidump of a crashing program (Wine's AeDebug winedbg --minidump) written into the watched folder is
# triaged and published: the Linux `dumpscout --fleet list --json` shows it with the pid the program
# printed and the Windows host's name (Wine's hostname.exe), fleet.hosts its OS ("Windows MAJOR.MINOR
# (build N, PRODUCT)", the numbers checked against `ver`), and the Windows CLI reads it back with `--fleet list --json`. SKIPs without Wine,
# mingw-w64, wixl or PostgreSQL 15. About a minute and a half with a cached build and prefix.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh
source tests/pg.sh

WIN_DIR=build/win
CLI=$WIN_DIR/dumpscout.exe
MSI=$WIN_DIR/dumpscout.msi
DS=${BUILD:-build}/dumpscout
export WINEPREFIX=$PWD/$WIN_DIR/wineprefix-fleet WINEDEBUG=-all
SVCKEY='HKLM\System\CurrentControlSet\Services\dumpscout'
LD='HKLM\SOFTWARE\Microsoft\Windows\Windows Error Reporting\LocalDumps'
PD=$WINEPREFIX/drive_c/ProgramData/dumpscout

for tool in x86_64-w64-mingw32-gcc wine wineserver winedbg wixl msibuild msiinfo python3 openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip windows_fleet "$tool is not installed (make windows-deps installs mingw-w64, Wine and wixl)"
		exit 0
	fi
done
if ! pg_available; then
	skip windows_fleet "PostgreSQL 15 is not installed (make deps)"
	exit 0
fi
if [ ! -x "$DS" ]; then
	skip windows_fleet "$DS is not built (make)"
	exit 0
fi

scratch
tmp=$SCRATCH
wine_up=0
cleanup() {
	if [ "$wine_up" = 1 ]; then
		w net stop dumpscout >/dev/null 2>&1
		w msiexec /x "$MSI" /qn >/dev/null 2>&1
		wineserver -k >/dev/null 2>&1
	fi
	pg_stop
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
source tests/e2e/windows_lib.sh

# ---- build ----------------------------------------------------------------------------------------
if make -j2 windows windows-engine msi build/fixtures/windows/crash.exe >"$tmp/make.log" 2>&1 && [ -f "$MSI" ]; then
	pass windows_fleet_build
else
	fail windows_fleet_build "$(grep -E 'error|undefined reference|\*\*\*|build_msi' "$tmp/make.log" | sort -u | head -n 15)"
	exit 0
fi

# ---- certificates: a test CA, the server's certificate for 127.0.0.1, and a CA nobody used ----------
ca=$tmp/ca
mkdir -p "$ca"
(
	cd "$ca" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=dumpscout test CA' \
		-keyout ca.key -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout server.key -out server.csr
	printf 'subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n' >ext.cnf
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf \
		-out server.crt
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=some other CA' -keyout other.key -out other.pem
) >"$tmp/openssl.log" 2>&1 || { fail windows_fleet_certificates "$(tail -n 5 "$tmp/openssl.log")"; exit 0; }

# ---- PostgreSQL with TLS only ---------------------------------------------------------------------
if ! pg_start "$tmp"; then fail windows_fleet_postgres "see $tmp/pg"; exit 0; fi
data=$PG_DIR/data
cp "$ca/server.crt" "$ca/server.key" "$data/"
chmod 600 "$data/server.key"
[ -z "$PG_RUN_AS" ] || chown "$PG_RUN_AS" "$data/server.crt" "$data/server.key"
printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$data/postgresql.conf"
{ echo 'hostnossl all all all reject'; cat "$data/pg_hba.conf"; } >"$tmp/hba" && cat "$tmp/hba" >"$data/pg_hba.conf"
pg_pause
if pg_resume; then pass windows_fleet_postgres; else fail windows_fleet_postgres "no restart with TLS"; exit 0; fi
nossl=$(PGSSLMODE=disable psql -X -qAt -c 'SELECT 1' 2>&1)
if grep -q 'no encryption' <<<"$nossl"; then pass windows_fleet_plain_refused; else
	fail windows_fleet_plain_refused "a connection without TLS got: $nossl"; fi
PGSSLMODE=require psql_q "CREATE DATABASE fleet" >/dev/null

# ---- the Windows CLI: fleet init over verify-full; a wrong CA and a wrong host name are refused -----
zca="Z:$ca/ca.pem"
ADMIN_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_admin sslmode=verify-full sslrootcert=$zca"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	mkdir -p "$WINEPREFIX"
	wineboot -i >/dev/null 2>&1
	wineserver -w
fi
# Persistent: without it Wine ends the service as soon as the last ordinary Wine process exits.
wineserver -p
wine_up=1
# The schema's version is the number of its migration files.
nmig=$(find schema/fleet -maxdepth 1 -name '[0-9]*.sql' | wc -l)
out=$(w "$CLI" fleet init --fleet-url "$ADMIN_URL"); rc=$?
expect_eq windows_fleet_init "$rc/$out" "0/fleet schema version $nmig ($nmig migration(s) applied now)"
out=$(w "$CLI" fleet init --fleet-url "$ADMIN_URL"); rc=$?
expect_eq windows_fleet_init_again "$rc/$out" "0/fleet schema version $nmig (0 migration(s) applied now)"

w "$CLI" fleet status --fleet-url "${ADMIN_URL/ca.pem/other.pem}" >/dev/null; rc=$?
if [ "$rc" != 0 ] && grep -qi 'certificate verify failed' "$tmp/w.err"; then pass windows_fleet_wrong_ca; else
	fail windows_fleet_wrong_ca "exit $rc: $(head -c 400 "$tmp/w.err")"; fi
w "$CLI" fleet status --fleet-url "${ADMIN_URL/host=127.0.0.1/host=localhost}" >/dev/null; rc=$?
if [ "$rc" != 0 ] && grep -q 'does not match host name "localhost"' "$tmp/w.err"; then pass windows_fleet_wrong_host; else
	fail windows_fleet_wrong_host "exit $rc: $(head -c 400 "$tmp/w.err")"; fi

AGENT_PW='agent-W1n-pw!'
VIEW_PW='viewer-W1n-pw'
PGDATABASE=fleet PGSSLMODE=require psql_q "CREATE ROLE win_agent LOGIN PASSWORD '$AGENT_PW' IN ROLE dumpscout_ingest;
	CREATE ROLE win_viewer LOGIN PASSWORD '$VIEW_PW' IN ROLE dumpscout_read" >/dev/null

# ---- the service, installed by the MSI, publishing ------------------------------------------------
clean_slate
mkdir -p "$PD"
cp "$ca/ca.pem" "$PD/fleet-ca.pem"
printf '%s\n' "$AGENT_PW" >"$PD/fleet.pw"
chmod 600 "$PD/fleet.pw"
cat >"$PD/dumpscout.json" <<EOF
{ "watch": { "stability_ms": 500 }, "wer": { "apply": false },
  "fleet": { "url": "host=127.0.0.1 port=$PGPORT dbname=fleet user=win_agent sslmode=verify-full sslrootcert=C:/ProgramData/dumpscout/fleet-ca.pem",
             "password_file": "fleet.pw", "interval_s": 1 } }
EOF
out=$(w "$CLI" config check --config 'C:\ProgramData\dumpscout\dumpscout.json'); rc=$?
if [ "$rc" = 0 ]; then pass windows_fleet_config_check; else
	fail windows_fleet_config_check "exit $rc: $out $(head -c 400 "$tmp/w.err")"; fi

if w msiexec /i "$MSI" /qn >"$tmp/install.out" && wait_state RUNNING 30; then
	pass windows_fleet_service_running
else
	fail windows_fleet_service_running "state '$(svc_state)'; log: $(tail -n 5 "$PD/logs/dumpscoutd.log" 2>&1)"
fi

# The host's name as Windows reports it (names compare without case: Wine's hostname.exe prints the
# NetBIOS name in capitals, the service publishes gethostname's), its version as `ver` prints it, and a
# real crash dump written into the watched folder.
whost=$(w hostname | tr '[:upper:]' '[:lower:]')
wver=$(w cmd /c ver | sed -n 's/^Microsoft Windows \([0-9.]*\).*/\1/p')
if DUMP_FILE=$PD/dumps/crash.exe.dmp bash tests/fixtures/windows/make_dump.sh build/fixtures/windows/crash.exe \
	"$tmp/crash" >"$tmp/crash.log" 2>&1; then
	pass windows_fleet_crash_dump
else
	fail windows_fleet_crash_dump "$(tail -n 5 "$tmp/crash.log")"
fi
pid=$(awk '$1 == "pid" { print $2 }' "$tmp/crash/crash.expect" 2>/dev/null)

VIEW_URL="host=127.0.0.1 port=$PGPORT dbname=fleet user=win_viewer password=$VIEW_PW sslmode=verify-full sslrootcert=$ca/ca.pem"
row_of() {
	python3 -c '
import json, sys
try:
    rows = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for r in rows:
    if r.get("file_name") == "crash.exe.dmp":
        print("host=%s pid=%s code=0x%08x process=%s" % ((r.get("host") or "").lower(), r.get("pid"),
              r.get("exception_code") or 0, r.get("process_name")))' "$1"
}
want="host=$whost pid=$pid code=0xc0000005 process=crash.exe"
got=""
for _ in $(seq 1 120); do
	"$DS" --fleet list --json --fleet-url "$VIEW_URL" >"$tmp/list.json" 2>"$tmp/list.err"
	got=$(row_of "$tmp/list.json")
	[ -n "$got" ] && break
	sleep 0.5
done
expect_eq windows_fleet_published "$got" "$want"

# fleet.hosts: the name and one dump; the OS named for people, "Windows MAJOR.MINOR (build N" with the
# numbers `ver` prints ("Microsoft Windows 6.1.7601"), then ", PRODUCT)" or ")".
hosts=$(PGDATABASE=fleet PGSSLMODE=require psql_q "SELECT lower(hostname) || '|' || dumps FROM fleet.hosts")
expect_eq windows_fleet_host_row "$hosts" "$whost|1"
os=$(PGDATABASE=fleet PGSSLMODE=require psql_q "SELECT os FROM fleet.hosts")
want_os="Windows ${wver%.*} (build ${wver##*.}"
case "$os" in
"$want_os)" | "$want_os, "*")") pass windows_fleet_host_os ;;
*) fail windows_fleet_host_os "os '$os', expected 'Windows' and the version \`ver\` prints: '$want_os...' ($wver)" ;;
esac

w "$CLI" --fleet list --json --fleet-url "host=127.0.0.1 port=$PGPORT dbname=fleet user=win_viewer password=$VIEW_PW sslmode=verify-full sslrootcert=$zca" >"$tmp/wlist.json"
expect_eq windows_fleet_cli_reads "$(row_of "$tmp/wlist.json")" "$want"

# The service's own view: nothing left in the outbox.
st=$(w "$CLI" status --db 'C:\ProgramData\dumpscout\dumpscout.db' | grep '^fleet')
if grep -q 'backlog 0 ' <<<"$st"; then pass windows_fleet_backlog_empty; else
	fail windows_fleet_backlog_empty "$st"; fi

if w net stop dumpscout >/dev/null && wait_state STOPPED 30; then pass windows_fleet_service_stops; else
	fail windows_fleet_service_stops "state '$(svc_state)'"; fi
if grep -q 'fleet on: host' "$PD/logs/dumpscoutd.log" 2>/dev/null; then pass windows_fleet_log; else
	fail windows_fleet_log "$(grep -i fleet "$PD/logs/dumpscoutd.log" 2>&1 | tail -n 5)"; fi
exit 0
