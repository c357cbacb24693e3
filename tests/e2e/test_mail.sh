#!/usr/bin/env bash
# test_mail.sh - the mailer against a real SMTP server (Debian's aiosmtpd, tests/e2e/smtp_server.py) on
# 127.0.0.1 with STARTTLS on a certificate made here and AUTH: `dumpscout mail test`, a digest through
# the outbox checked with Python's email parser (headers, both parts, line lengths), server down ->
# queued -> up -> delivered once, a crash after acceptance -> one repeat with the same Message-ID, a
# wrong password (535) and a readable password file, a 5xx rejection. The outbox is driven by
# build/tests/test_mail's driver mode (the same code the service runs).
cd "$(dirname "$0")/../.." || exit 1
source tests/lib.sh

PY=/usr/bin/python3
DRV=$BUILD/tests/test_mail
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null || ! command -v openssl >/dev/null; then
	skip mail_e2e "python3-aiosmtpd or openssl missing (make deps)"
	exit 0
fi
if [ ! -x "$DRV" ] || [ ! -x "$DS" ]; then
	fail mail_e2e "build $DRV and $DS first (make build/tests/test_mail build/dumpscout)"
	exit 0
fi
VG=()
command -v valgrind >/dev/null && VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9)

T=$(mktemp -d "${TMPDIR:-/tmp}/dumpscout-mail.XXXXXX")
SRV_PID=
stop_server() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
		SRV_PID=
	fi
}
trap 'stop_server; rm -rf "$T"' EXIT
PORT=0
# start_server [extra smtp_server.py options...]: on $PORT (0 = pick one), sets PORT.
start_server() {
	rm -f "$T/port"
	"$PY" tests/e2e/smtp_server.py --dir "$T/msgs" --port-file "$T/port" --port "$PORT" --tls-dir "$T/tls" \
		--user scout --password 's3cret-pw!' "$@" >>"$T/server.log" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/port" ] && break
		sleep 0.1
	done
	PORT=$(cat "$T/port" 2>/dev/null || echo 0)
	[ "$PORT" != 0 ]
}
# count_msgid ID: how many received messages carry this Message-ID.
count_msgid() {
	"$PY" - "$T/msgs" "$1" <<'EOF'
import email, email.policy, os, sys
d, mid = sys.argv[1], sys.argv[2]
n = 0
for f in sorted(os.listdir(d)):
    if f.endswith(".eml"):
        with open(os.path.join(d, f), "rb") as fh:
            m = email.message_from_binary_file(fh, policy=email.policy.default)
        n += m["Message-ID"] == mid
print(n)
EOF
}
write_cfg() { # write_cfg PASSWORD
	printf '%s\n' "$1" >"$T/pw"
	chmod 600 "$T/pw"
	cat >"$T/cfg.json" <<EOF
{"data_dir": "$T/data", "db": "$T/data/ds.db",
 "mail": {"server": "127.0.0.1", "port": $PORT, "username": "scout", "password_file": "pw",
          "ca_file": "tls/cert.pem", "from": "dumpscout <scout@example.org>",
          "to": ["ops@example.org", "Zoë Dev <dev@example.org>"], "connect_timeout_s": 5, "timeout_s": 30}}
EOF
}
DB=$T/data/ds.db
mkdir -p "$T/msgs" "$T/data"

if ! start_server; then
	fail mail_server_start "aiosmtpd did not start: $(tail -5 "$T/server.log")"
	exit 0
fi
write_cfg 's3cret-pw!'

# --- dumpscout mail test ---
out=$("$DS" mail test --config "$T/cfg.json" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "answered: 250" <<<"$out" && [ -f "$T/msgs/0001.json" ] &&
	grep -q '"login": "scout"' "$T/msgs/0001.json" && grep -q '"tls": true' "$T/msgs/0001.json"; then
	pass mail_test_command_starttls_auth
else
	fail mail_test_command_starttls_auth "rc=$rc: $out $(cat "$T/msgs/0001.json" 2>/dev/null)"
fi

# --- a digest through the outbox, checked with Python's email parser ---
"$PY" - "$T/text.txt" "$T/body.html" <<'EOF'
import sys
long = "".join("abcdefghé " if i % 2 else "abcdefgh=é" for i in range(300))
text = ("dumpscout digest\n.a line starting with a dot\nFrom the start of a line\n"
        "Zürich 東京 🚀 — 3 new buckets\ntrailing spaces   \n" + long + "\nend\n")
html = ("<!DOCTYPE html><html><body><h1>Digest — Zürich</h1><table>"
        + "".join("<tr><td>%d</td><td>bucket &amp; ü</td></tr>" % i for i in range(200))
        + "</table><p>" + long + "</p></body></html>\n")
open(sys.argv[1], "w", encoding="utf-8").write(text)
open(sys.argv[2], "w", encoding="utf-8").write(html)
EOF
SUBJ='Digest — Zürich 東京 ✓ "quoted"'
enq=$("$DRV" enqueue "$DB" "$T/cfg.json" "$SUBJ" "$T/text.txt" "$T/body.html" 2>&1)
MSGID=$(sed -n 's/.*msgid=\(<[^>]*>\).*/\1/p' <<<"$enq")
pump=$("${VG[@]}" "$DRV" pump "$DB" "$T/cfg.json" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "sent=1 retry=0 failed=0 blocked=0" <<<"$pump"; then
	pass mail_pump_delivers_under_valgrind
else
	fail mail_pump_delivers_under_valgrind "rc=$rc enqueue: $enq pump: $pump"
fi
EML=$(ls "$T"/msgs/*.eml | tail -1)
chk=$("$PY" - "$EML" "${EML%.eml}.json" "$MSGID" "[dumpscout] $SUBJ" "$T/text.txt" "$T/body.html" <<'EOF' 2>&1
import email, email.policy, email.utils, json, sys
eml, envf, mid, subj, textf, htmlf = sys.argv[1:]
raw = open(eml, "rb").read()
env = json.load(open(envf))
m = email.message_from_bytes(raw, policy=email.policy.default)
errs = []
def want(name, got, exp):
    if got != exp:
        errs.append("%s: got %r, expected %r" % (name, got, exp))
lines = raw.split(b"\r\n")
want("max line length <= 998", max(len(l) for l in lines) <= 998, True)
want("no bare LF", b"\n" in raw.replace(b"\r\n", b""), False)
d = email.utils.parsedate_to_datetime(m["Date"])
want("Date has a UTC offset", d.tzinfo is not None, True)
want("Message-ID", m["Message-ID"], mid)
want("From", m["From"].addresses[0].addr_spec, "scout@example.org")
want("To", [a.addr_spec for a in m["To"].addresses], ["ops@example.org", "dev@example.org"])
want("To display name", m["To"].addresses[1].display_name, "Zoë Dev")
want("Subject", str(m["Subject"]), subj)
want("raw Subject is RFC 2047", b"Subject: =?UTF-8?B?" in raw, True)
want("MIME-Version", m["MIME-Version"], "1.0")
want("multipart/alternative", m.get_content_type(), "multipart/alternative")
parts = list(m.iter_parts())
want("part types", [p.get_content_type() for p in parts], ["text/plain", "text/html"])
norm = lambda s: s.replace("\r\n", "\n")
want("text part", norm(parts[0].get_content()), open(textf, encoding="utf-8").read())
want("html part", norm(parts[1].get_content()), open(htmlf, encoding="utf-8").read())
want("envelope sender", env["mail_from"], "scout@example.org")
want("envelope recipients", env["rcpt_tos"], ["ops@example.org", "dev@example.org"])
print("\n".join(errs) if errs else "ok")
EOF
)
if [ "$chk" = ok ]; then pass mail_digest_headers_and_parts; else fail mail_digest_headers_and_parts "$chk"; fi

# --- server down: queued, retried with backoff, delivered exactly once when it is back ---
stop_server
enq=$("$DRV" enqueue "$DB" "$T/cfg.json" "while down" "$T/text.txt" "$T/body.html" 2>&1)
ID=$(sed -n 's/^id=\([0-9]*\).*/\1/p' <<<"$enq")
MSGID=$(sed -n 's/.*msgid=\(<[^>]*>\).*/\1/p' <<<"$enq")
p1=$("$DRV" pump "$DB" "$T/cfg.json" 2>&1)
r1=$("$DRV" row "$DB" "$ID" 2>&1)
start_server
p2=$("$DRV" pump "$DB" "$T/cfg.json" 2>&1)          # not due yet: backoff
p3=$("$DRV" pump "$DB" "$T/cfg.json" 120000 2>&1)   # two minutes later
p4=$("$DRV" pump "$DB" "$T/cfg.json" 240000 2>&1)
n=$(count_msgid "$MSGID")
r2=$("$DRV" row "$DB" "$ID" 2>&1)
if grep -q "sent=0 retry=1" <<<"$p1" && grep -q "state=0 attempts=1" <<<"$r1" && grep -q "127.0.0.1:$PORT" <<<"$r1" &&
	grep -q "sent=0 retry=0" <<<"$p2" && grep -q "sent=1 retry=0" <<<"$p3" && grep -q "sent=0 retry=0" <<<"$p4" &&
	[ "$n" = 1 ] && grep -q "state=2 attempts=2 msgid=$MSGID" <<<"$r2"; then
	pass mail_server_down_then_delivered_once
else
	fail mail_server_down_then_delivered_once "p1=$p1 | r1=$r1 | p2=$p2 | p3=$p3 | p4=$p4 | copies=$n | r2=$r2"
fi

# --- killed after the server accepted, before the row was marked sent: one repeat, same Message-ID ---
enq=$("$DRV" enqueue "$DB" "$T/cfg.json" "crash window" "$T/text.txt" "$T/body.html" 2>&1)
ID=$(sed -n 's/^id=\([0-9]*\).*/\1/p' <<<"$enq")
MSGID=$(sed -n 's/.*msgid=\(<[^>]*>\).*/\1/p' <<<"$enq")
s1=$("$DRV" send-nomark "$DB" "$T/cfg.json" 2>&1)
n1=$(count_msgid "$MSGID")
p1=$("$DRV" pump "$DB" "$T/cfg.json" 2>&1)          # still 'sending': not touched while running
"$DRV" recover "$DB"                                 # the service's start-up after the crash
p2=$("$DRV" pump "$DB" "$T/cfg.json" 2>&1)
p3=$("$DRV" pump "$DB" "$T/cfg.json" 600000 2>&1)
n2=$(count_msgid "$MSGID")
r=$("$DRV" row "$DB" "$ID" 2>&1)
if grep -q "outcome=0 code=250" <<<"$s1" && [ "$n1" = 1 ] && grep -q "sent=0" <<<"$p1" && grep -q "sent=1" <<<"$p2" &&
	grep -q "sent=0" <<<"$p3" && [ "$n2" = 2 ] && grep -q "state=2 attempts=2 msgid=$MSGID" <<<"$r"; then
	pass mail_crash_after_accept_repeats_once_same_message_id
else
	fail mail_crash_after_accept_repeats_once_same_message_id "s1=$s1 n1=$n1 p1=$p1 p2=$p2 p3=$p3 n2=$n2 row=$r"
fi

# --- wrong password: a clear 535 error naming the server, never the password; status shows it ---
write_cfg 'Wrong-Pass-4242'
out=$("$DS" mail test --config "$T/cfg.json" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "127.0.0.1:$PORT" <<<"$out" && grep -q "535" <<<"$out" && grep -q "user 'scout'" <<<"$out" &&
	! grep -q "Wrong-Pass" <<<"$out"; then
	pass mail_test_bad_password_535
else
	fail mail_test_bad_password_535 "rc=$rc: $out"
fi
enq=$("$DRV" enqueue "$DB" "$T/cfg.json" "after auth failure" "$T/text.txt" "$T/body.html" 2>&1)
ID=$(sed -n 's/^id=\([0-9]*\).*/\1/p' <<<"$enq")
p1=$("$DRV" pump "$DB" "$T/cfg.json" 2>&1)
st=$("$DRV" status "$DB" 2>&1)
r=$("$DRV" row "$DB" "$ID" 2>&1)
if grep -q "blocked=1" <<<"$p1" && grep -q "535" <<<"$p1" && grep -q "state=0" <<<"$r" && grep -q "535" <<<"$st" &&
	! grep -q "Wrong-Pass" <<<"$p1$st$r"; then
	pass mail_pump_auth_failure_pauses_and_reports
else
	fail mail_pump_auth_failure_pauses_and_reports "pump=$p1 row=$r status=$st"
fi
write_cfg 's3cret-pw!'
p2=$("$DRV" pump "$DB" "$T/cfg.json" 2>&1)
if grep -q "sent=1" <<<"$p2"; then pass mail_pump_resumes_after_password_fixed; else fail mail_pump_resumes_after_password_fixed "$p2"; fi

# --- a password file others can read is refused, naming the file and its mode ---
chmod 644 "$T/pw"
out=$("$DS" mail test --config "$T/cfg.json" 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q "$T/pw has mode 0644" <<<"$out" && ! grep -q "s3cret" <<<"$out"; then
	pass mail_password_file_mode_refused
else
	fail mail_password_file_mode_refused "rc=$rc: $out"
fi
chmod 600 "$T/pw"

# --- a 5xx rejection fails the message for good ---
stop_server
start_server --reject-rcpt dev@example.org
enq=$("$DRV" enqueue "$DB" "$T/cfg.json" "rejected" "$T/text.txt" "$T/body.html" 2>&1)
ID=$(sed -n 's/^id=\([0-9]*\).*/\1/p' <<<"$enq")
p1=$("$DRV" pump "$DB" "$T/cfg.json" 2>&1)
r=$("$DRV" row "$DB" "$ID" 2>&1)
if grep -q "failed=1" <<<"$p1" && grep -q "state=3" <<<"$r" && grep -q "550" <<<"$r"; then
	pass mail_rejection_5xx_fails
else
	fail mail_rejection_5xx_fails "pump=$p1 row=$r"
fi
