#!/usr/bin/env bash
# test_service_mail.sh - the real dumpscoutd with a "mail" section pointing at a real SMTP server
# (Debian's aiosmtpd, tests/e2e/smtp_server.py, STARTTLS on a certificate made here, AUTH): a dump with
# a new crash bucket dropped in -> exactly one alert; another dump of the same bucket -> no new alert; a
# digest made due (the schedule's last digest moved back in the database) -> exactly one digest, none
# again after a restart; the server down when an alert is due -> queued, retried after the backoff,
# delivered exactly once when the server is back; the password never in the log; bad mail keys
# reported by --check-config. Takes about two minutes (the first retry waits 60 s by design).
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

PY=/usr/bin/python3
if [ ! -x "$DSD" ]; then skip service_mail "no $DSD (build it with make)"; exit 0; fi
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null || ! command -v openssl >/dev/null || ! command -v sqlite3 >/dev/null; then
	skip service_mail "python3-aiosmtpd, openssl or the sqlite3 shell missing (make deps)"
	exit 0
fi
M=$CORPUS/dumps/mdmp
T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-svcmail.XXXXXX")
D=$T/var/dumps
DB=$T/var/dumpscout.db
PW='pw-Sup3r-s3cret!'
SRV_PID= PID=
stop_server() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null; SRV_PID=; }
trap 'stop_server; [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"' EXIT
PORT=0
start_server() {
	rm -f "$T/port"
	"$PY" tests/e2e/smtp_server.py --dir "$T/msgs" --port-file "$T/port" --port "$PORT" --tls-dir "$T/tls" \
		--user scout --password "$PW" >>"$T/server.log" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
	PORT=$(cat "$T/port" 2>/dev/null || echo 0)
	[ "$PORT" != 0 ]
}
stop() { kill -TERM "$PID" 2>/dev/null; wait "$PID"; local rc=$?; PID=; return $rc; }
# messages KIND [last]: how many received messages have a subject with KIND ("new crash bucket" for
# alerts, "crash dump" for digests), or with "last" the file name of the newest one.
messages() {
	"$PY" - "$T/msgs" "$1" "${2:-}" <<'EOF'
import email, email.policy, os, sys
d, kind, last = sys.argv[1], sys.argv[2], sys.argv[3]
n, name = 0, ""
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    if f.endswith(".eml"):
        with open(os.path.join(d, f), "rb") as fh:
            m = email.message_from_binary_file(fh, policy=email.policy.default)
        if kind in str(m["Subject"]):
            n, name = n + 1, os.path.join(d, f)
print(name if last else n)
EOF
}
# wait_msgs SECONDS KIND N: until N such messages were received
wait_msgs() {
	local i
	for i in $(seq $(($1 * 5))); do [ "$(messages "$2")" = "$3" ] && return 0; sleep 0.2; done
	return 1
}

mkdir -p "$T/msgs"
if ! start_server; then fail service_mail_server_start "aiosmtpd did not start: $(tail -5 "$T/server.log")"; exit 0; fi
printf '%s\n' "$PW" >"$T/pw"
chmod 600 "$T/pw"
write_cfg() { # write_cfg EXTRA_MAIL_JSON
	cat >"$T/cfg.json" <<JSON
{ "data_dir": "$T/var", "heartbeat_s": 1, "log_level": "debug",
  "watch": { "stability_ms": 300, "rescan_s": 5 },
  "retention": { "max_count": 0, "max_bytes": 0, "max_age_days": 0 },
  "mail": { "server": "127.0.0.1", "port": $PORT, "username": "scout", "password_file": "pw",
            "ca_file": "tls/cert.pem", "from": "dumpscout <scout@example.org>", "to": ["ops@example.org"],
            "schedule": { "every_hours": 1 }, "alert_min_interval_minutes": 0,
            "connect_timeout_s": 3, "timeout_s": 20 $1 } }
JSON
}

# --- config check reports mail key errors, naming the key ---
write_cfg ', "prot": 25'
out=$("$DSD" --check-config --config "$T/cfg.json" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "mail: unknown key 'prot'" <<<"$out"; then pass service_mail_check_config_unknown_key
else fail service_mail_check_config_unknown_key "rc=$rc: $out"; fi
write_cfg ', "max_message_bytes": 100'
out=$("$DSD" --check-config --config "$T/cfg.json" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "mail.max_message_bytes" <<<"$out"; then pass service_mail_check_config_bad_value
else fail service_mail_check_config_bad_value "rc=$rc: $out"; fi
chmod 644 "$T/pw"
write_cfg ''
out=$("$DSD" --config "$T/cfg.json" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "mode 0644" <<<"$out" && ! grep -q "$PW" <<<"$out"; then pass service_mail_readable_password_refused_at_start
else fail service_mail_readable_password_refused_at_start "rc=$rc: $out"; fi
chmod 600 "$T/pw"

# --- a new crash bucket -> one alert ---
if start; then pass service_mail_starts; else fail service_mail_starts "$(tail -5 "$T/log")"; exit 0; fi
cp "$M/lldb__fizzbuzz_no_heap.dmp" "$D/first.dmp"
if wait_msgs 20 "new crash bucket" 1; then pass service_mail_alert_arrives
else fail service_mail_alert_arrives "$(messages 'new crash bucket') alerts; log: $(grep mail "$T/log" | tail -5)"; fi
EML=$(messages "new crash bucket" last)
chk=$("$PY" - "$EML" <<'EOF' 2>&1
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
errs = []
if "fizzbuzz.exe" not in str(m["Subject"]): errs.append("subject: %s" % m["Subject"])
parts = [p.get_content_type() for p in m.iter_parts()]
if parts != ["text/plain", "text/html"]: errs.append("parts %s" % parts)
text = m.get_body(("plain",)).get_content()
if "fizzbuzz.exe+0x14d14" not in text: errs.append("text lacks the bucket: %r" % text[:300])
if m["Auto-Submitted"] != "auto-generated": errs.append("Auto-Submitted")
print("; ".join(errs) or "ok")
EOF
)
expect_eq service_mail_alert_names_the_bucket "$chk" ok
# the same bucket again (another file): no second alert
cp "$M/lldb__fizzbuzz_no_heap.dmp" "$D/second.dmp"
for _ in $(seq 50); do [ "$(q "SELECT count(*) FROM dumps WHERE state='done'")" = 2 ] && break; sleep 0.1; done
sleep 2.5
expect_eq service_mail_same_bucket_no_second_alert "$(messages 'new crash bucket')" 1
expect_eq service_mail_one_alert_row "$(q "SELECT count(*)||' '||group_concat(state) FROM outbox WHERE kind='alert'")" "1 sent"

# --- a digest made due -> exactly one, not again after a restart ---
stop; rc=$?
expect_eq service_mail_sigterm_exit_0 "$rc" 0
first_digest=$(q "SELECT value FROM service_kv WHERE key='mail.last_digest_at'")
sqlite3 -cmd ".timeout 5000" "$DB" "UPDATE service_kv SET value = CAST(value AS INTEGER) - 7200000 WHERE key='mail.last_digest_at'"
start
if wait_msgs 20 "crash dump" 1; then pass service_mail_digest_when_due
else fail service_mail_digest_when_due "kv was '$first_digest'; $(grep mail "$T/log" | tail -5)"; fi
EML=$(messages "crash dump" last)
chk=$("$PY" - "$EML" <<'EOF' 2>&1
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
text = m.get_body(("plain",)).get_content()
errs = []
if "2 crash dump" not in str(m["Subject"]): errs.append("subject: %s" % m["Subject"])
if "fizzbuzz.exe+0x14d14" not in text: errs.append("text lacks the bucket: %r" % text[:400])
print("; ".join(errs) or "ok")
EOF
)
expect_eq service_mail_digest_content "$chk" ok
stop
start
sleep 2
expect_eq service_mail_digest_not_repeated_after_restart "$(messages "crash dump")" 1

# --- server down when a new bucket appears -> queued, then delivered exactly once when it is back ---
stop_server
cp "$M/breakpad__minidump2.dmp" "$D/third.dmp"
for _ in $(seq 100); do
	[ "$(q "SELECT attempts FROM outbox WHERE kind='alert' AND state='queued'")" = 1 ] && break
	sleep 0.1
done
row=$(q "SELECT state||' '||attempts||' '||ifnull(last_error,'') FROM outbox WHERE kind='alert' ORDER BY id DESC LIMIT 1")
case $row in "queued 1 "*127.0.0.1:$PORT*) pass service_mail_server_down_queued ;; *) fail service_mail_server_down_queued "$row" ;; esac
MID=$(q "SELECT message_id FROM outbox WHERE kind='alert' ORDER BY id DESC LIMIT 1")
start_server
if wait_msgs 90 "test_app.exe" 1; then pass service_mail_delivered_after_server_back
else fail service_mail_delivered_after_server_back "$(q "SELECT id, state, attempts, next_attempt_at, last_error FROM outbox")"; fi
sleep 2
expect_eq service_mail_delivered_exactly_once "$(messages 'test_app.exe')/$(grep -l "$MID" "$T"/msgs/*.eml | wc -l)" "1/1"
expect_eq service_mail_outbox_all_sent "$(q "SELECT group_concat(state) FROM (SELECT DISTINCT state FROM outbox)")" "sent"

stop; rc=$?
expect_eq service_mail_final_sigterm_exit_0 "$rc" 0
if grep -q -- "$PW" "$T/log"; then fail service_mail_password_not_logged "the password is in the log"
else pass service_mail_password_not_logged; fi
