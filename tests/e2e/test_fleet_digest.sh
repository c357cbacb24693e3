#!/usr/bin/env bash
# test_fleet_digest.sh - fleet-wide mail with three real dumpscoutd agents (fleet.digest: true, each with
# its own mail section) on a real PostgreSQL 15 (tests/pg.sh) and a real SMTP server
# (tests/e2e/smtp_server.py): exactly one agent is the sender (the advisory lock); crashes in four new
# buckets, one of them on all three machines, give exactly one alert mention per bucket; the digest made
# due (the fleet's last digest moved back in PostgreSQL) arrives once, not three times, and counts the
# dumps of all three agents; when the sender is killed, another agent takes over and the next new
# bucket is still alerted once. Expected counts come from the agents' own databases and the dumps fed.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh
source tests/pg.sh

PY=/usr/bin/python3
if [ ! -x "$DSD" ] || [ ! -x "$DS" ]; then skip fleet_digest "no $DSD or $DS (build them with make)"; exit 0; fi
if ! pg_available || ! "$PY" -c 'import aiosmtpd' 2>/dev/null || ! command -v openssl >/dev/null || ! command -v sqlite3 >/dev/null; then
	skip fleet_digest "PostgreSQL 15, python3-aiosmtpd, openssl or the sqlite3 shell missing (make deps)"
	exit 0
fi
M=$CORPUS/dumps/mdmp
W=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-fleetmail.XXXXXX")
PIDS=() SRV_PID=
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
	pg_stop
	[ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT

if ! pg_start "$W"; then fail fleet_digest_postgres_starts "see $W/pg"; exit 0; fi
psql_q "CREATE DATABASE fleet" >/dev/null
"$DS" fleet init --fleet-url "host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_admin" >/dev/null
PGDATABASE=fleet psql_q "CREATE ROLE scout_agent LOGIN PASSWORD 'agent-pw' IN ROLE dumpscout_ingest" >/dev/null
pq() { PGDATABASE=fleet psql_q "$1"; }

SMTP_PW='smtp-pw-9'
mkdir -p "$W/msgs"
"$PY" tests/e2e/smtp_server.py --dir "$W/msgs" --port-file "$W/port" --port 0 --tls-dir "$W/tls" \
	--user scout --password "$SMTP_PW" >>"$W/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
PORT=$(cat "$W/port" 2>/dev/null || echo 0)
if [ "$PORT" = 0 ]; then fail fleet_digest_smtp_starts "$(tail -3 "$W/server.log")"; exit 0; fi
printf '%s\n' "$SMTP_PW" >"$W/smtp.pw"
printf 'agent-pw\n' >"$W/agent.pw"
chmod 600 "$W/smtp.pw" "$W/agent.pw"

start_agent() { # start_agent NAME
	local n=$1 i
	mkdir -p "$W/$n"
	cat >"$W/$n/cfg.json" <<JSON
{ "data_dir": "$W/$n/var", "heartbeat_s": 1, "log_level": "debug",
  "watch": { "stability_ms": 300, "rescan_s": 2 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 },
  "mail": { "server": "127.0.0.1", "port": $PORT, "username": "scout", "password_file": "$W/smtp.pw",
            "ca_file": "$W/tls/cert.pem", "from": "dumpscout <scout@example.org>", "to": ["ops@example.org"],
            "schedule": { "every_hours": 1 }, "alert_min_interval_minutes": 0, "connect_timeout_s": 3, "timeout_s": 20 },
  "fleet": { "url": "host=127.0.0.1 port=$PGPORT dbname=fleet user=scout_agent", "password_file": "$W/agent.pw",
             "hostname": "$n", "interval_s": 1, "digest": true } }
JSON
	"$DSD" --config "$W/$n/cfg.json" 2>>"$W/$n/log" &
	PIDS+=($!)
	eval "PID_${n//-/_}=$!"
	for i in $(seq 100); do grep -q "ready" "$W/$n/log" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
# messages KIND: received messages whose subject holds KIND
messages() {
	"$PY" - "$W/msgs" "$1" <<'EOF'
import email, email.policy, os, sys
d, kind = sys.argv[1], sys.argv[2]
print(sum(1 for f in os.listdir(d) if f.endswith(".eml") and kind in str(email.message_from_binary_file(
    open(os.path.join(d, f), "rb"), policy=email.policy.default)["Subject"])))
EOF
}
# mentions TEXT: how many received alerts mention TEXT in their text part
mentions() {
	"$PY" - "$W/msgs" "$1" <<'EOF'
import email, email.policy, os, sys
d, text = sys.argv[1], sys.argv[2]
n = 0
for f in os.listdir(d):
    if f.endswith(".eml"):
        m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
        if "new" in str(m["Subject"]) and "bucket" in str(m["Subject"]) and text in m.get_body(("plain",)).get_content():
            n += 1
print(n)
EOF
}
# wait_until SECONDS 'SHELL TEXT': evaluates the text (so its $(...) run each time) until it succeeds,
# for at most SECONDS of wall time
wait_until() { local end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do eval "$2" && return 0; sleep 0.2; done; eval "$2"; }
senders() { grep -l "this service is now the fleet's digest sender" "$W"/web-*/log 2>/dev/null | wc -l; }
lq() { sqlite3 -readonly -cmd ".timeout 5000" "$W/$1/var/dumpscout.db" "$2" 2>/dev/null; }
bucket_key() { lq "$1" "SELECT b.key FROM dumps d JOIN buckets b ON b.id = d.crash_bucket_id WHERE d.file_name = '$2'"; }

for n in web-a web-b web-c; do start_agent $n || { fail fleet_digest_agents_start "$(tail -3 "$W/$n/log")"; exit 0; }; done
if wait_until 20 '[ "$(senders)" = 1 ] && sleep 2 && [ "$(senders)" = 1 ]'; then pass fleet_digest_one_sender_elected
else fail fleet_digest_one_sender_elected "$(senders) agents say they are the sender"; fi
alerts_started() { [ "$(pq "SELECT count(*) FROM fleet.mail_log WHERE key = 'alerts:start'")" = 1 ]; }
wait_until 20 alerts_started

# four new buckets: one crash on all three machines, one of its own on each
for n in web-a web-b web-c; do cp "$M/lldb__fizzbuzz_no_heap.dmp" "$W/$n/var/dumps/shared.dmp"; done
cp "$M/breakpad__minidump2.dmp" "$W/web-a/var/dumps/own.dmp"
cp "$M/lldb__sigsegv.dmp" "$W/web-b/var/dumps/own.dmp"
cp "$M/breakpad__null_read_av.dmp" "$W/web-c/var/dumps/own.dmp"
all_in() { [ "$(pq "SELECT count(*) FROM fleet.dumps")" = 6 ] && [ "$(pq "SELECT count(*) FROM fleet.buckets WHERE NOT alerted")" = 0 ]; }
wait_until 60 all_in
keys=("$(bucket_key web-a shared.dmp)" "$(bucket_key web-a own.dmp)" "$(bucket_key web-b own.dmp)" "$(bucket_key web-c own.dmp)")
expect_eq fleet_digest_four_buckets "$(printf '%s\n' "${keys[@]}" | sort -u | grep -c .)/$(pq "SELECT count(*) FROM fleet.buckets")" "4/4"
sleep 4 # time for a duplicate to arrive, if the code were wrong
for k in "${keys[@]}"; do
	t=${k%%|*}
	wait_until 30 '[ "$(mentions "$k")" -ge 1 ]'
	expect_eq "fleet_digest_one_alert_for_${t}" "$(mentions "$k")" 1
done

# the digest: made due by moving the fleet's schedule back two hours -> one message for the fleet
pq "UPDATE fleet.mail_log SET claimed_at = claimed_at - 7200000 WHERE key = 'digest:start'" >/dev/null
if wait_until 40 '[ "$(messages "crash dump")" -ge 1 ]'; then pass fleet_digest_arrives
else fail fleet_digest_arrives "$(grep -h fleet "$W"/web-*/log | tail -5)"; fi
sleep 4
expect_eq fleet_digest_exactly_once "$(messages "crash dump")" 1
chk=$("$PY" - "$W/msgs" <<'EOF'
import email, email.policy, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    if f.endswith(".eml"):
        m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
        if "crash dump" in str(m["Subject"]):
            print(str(m["Subject"]).split(" crash dump")[0].split()[-1])
EOF
)
total=$(( $(lq web-a "SELECT count(*) FROM dumps") + $(lq web-b "SELECT count(*) FROM dumps") + $(lq web-c "SELECT count(*) FROM dumps") ))
expect_eq fleet_digest_counts_the_fleet "$chk" "$total"

# the sender dies: another agent takes the lock, and the next new bucket is alerted once
sender=$(basename "$(dirname "$(grep -l "this service is now the fleet's digest sender" "$W"/web-*/log | head -1)")")
spid_var="PID_${sender//-/_}"
kill -9 "${!spid_var}"
if wait_until 30 '[ "$(senders)" = 2 ]'; then pass fleet_digest_sender_fails_over
else fail fleet_digest_sender_fails_over "$(senders) sender(s)"; fi
other=web-a
[ "$sender" = web-a ] && other=web-b
cp "$M/breakpad__stack_exhaustion.dmp" "$W/$other/var/dumps/late.dmp"
wait_until 30 '[ -n "$(bucket_key $other late.dmp)" ]'
k=$(bucket_key $other late.dmp)
wait_until 40 '[ "$(mentions "$k")" -ge 1 ]'
sleep 3
expect_eq fleet_digest_alert_after_failover "$(mentions "$k")" 1
