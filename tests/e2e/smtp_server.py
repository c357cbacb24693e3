#!/usr/bin/python3
# smtp_server.py - a real SMTP server for the mail tests: Debian's aiosmtpd on 127.0.0.1 with
# STARTTLS (a self-signed certificate for localhost/127.0.0.1 made with openssl at test time) and
# AUTH PLAIN/LOGIN for one test user. Every accepted message is saved as DIR/NNNN.eml (the bytes as
# received) with DIR/NNNN.json (envelope sender, recipients, login). It is test scaffolding, not part
# of dumpscout. Run with Debian's /usr/bin/python3 (where python3-aiosmtpd is installed).
#
#   smtp_server.py --dir DIR --port-file FILE [--port N] [--tls-dir D] [--user U --password P]
#                  [--fail-auth] [--reject-rcpt ADDR]... [--no-starttls]
#
# --port 0 (default) picks a free port; the port is written to --port-file once the server listens
# (restart with --port N to come back on the same port). SIGTERM/SIGINT stop it.
import argparse
import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_cert(tls_dir):
    cert = os.path.join(tls_dir, "cert.pem")
    key = os.path.join(tls_dir, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        os.makedirs(tls_dir, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Saver:
    def __init__(self, folder, reject):
        self.folder = folder
        self.reject = {r.lower() for r in reject}
        os.makedirs(folder, exist_ok=True)

    def next_name(self):
        nums = [int(f[:4]) for f in os.listdir(self.folder) if f.endswith(".eml") and f[:4].isdigit()]
        return "%04d" % (max(nums, default=0) + 1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: recipient rejected by the test server" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = self.next_name()
        data = envelope.original_content
        if data is None:
            data = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        auth = getattr(session, "auth_data", None)
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        tmp = os.path.join(self.folder, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        with open(os.path.join(self.folder, name + ".json"), "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "login": login,
                       "tls": session.ssl is not None}, f)
        os.rename(tmp, os.path.join(self.folder, name + ".eml"))
        return "250 2.0.0 OK queued as %s" % name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-dir")
    ap.add_argument("--user", default="scout")
    ap.add_argument("--password", default="s3cret-pw")
    ap.add_argument("--fail-auth", action="store_true")
    ap.add_argument("--reject-rcpt", action="append", default=[])
    ap.add_argument("--no-starttls", action="store_true")
    a = ap.parse_args()

    ctx = None
    if not a.no_starttls:
        cert, key = make_cert(a.tls_dir or os.path.join(a.dir, "..", "tls"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (not a.fail_auth and isinstance(auth_data, LoginPassword)
              and auth_data.login == a.user.encode() and auth_data.password == a.password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    handler = Saver(a.dir, a.reject_rcpt)

    def factory():
        return SMTP(handler, hostname="localhost", tls_context=ctx, require_starttls=ctx is not None,
                    authenticator=authenticator, auth_require_tls=ctx is not None, auth_required=True,
                    decode_data=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, host="127.0.0.1", port=a.port))
    port = server.sockets[0].getsockname()[1]
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, a.port_file)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.run_until_complete(stop)
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
