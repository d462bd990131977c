#!/usr/bin/python3
"""A real SMTP server for the integration tests (aiosmtpd), driven by tests/it/support/smtp.rs.

    smtp_server.py --maildir DIR [--starttls CERT KEY] [--auth USER:PASSWORD] [--reject-rcpt]

Binds 127.0.0.1 on a port the kernel picks, prints `ready <port>` on stdout, and serves
until SIGTERM. Every accepted message becomes DIR/<n>.json (n = 1, 2, ... in order of
receipt), written to <n>.json.tmp first and renamed, so a reader never sees half a file.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import ssl
import sys
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
    sys.exit("aiosmtpd is not installed: apt-get install python3-aiosmtpd (.ci/run does)")

log = logging.getLogger("smtp_server")


def header(message, name):
    """A header's decoded value, or None when absent or unparseable."""
    try:
        value = message[name]
        return None if value is None else str(value)
    except Exception:
        return None


def body(message, subtype):
    """The decoded (quoted-printable, base64, charset) text/<subtype> body, or None.

    Its CRLF line ends become LF, for the tests' comparisons (`raw` keeps them)."""
    try:
        part = message.get_body(preferencelist=(subtype,))
        return None if part is None else part.get_content().replace("\r\n", "\n")
    except Exception:
        return None


def describe(content):
    """What the tests look at in a message; nulls for whatever cannot be parsed."""
    fields = dict.fromkeys(("subject", "from", "to", "content_type", "text", "html"))
    try:
        message = email.message_from_bytes(content, policy=email.policy.default)
    except Exception as error:
        log.warning("unparseable message: %r", error)
        return fields
    for name in ("subject", "from", "to"):
        fields[name] = header(message, name)
    try:
        fields["content_type"] = message.get_content_type()
    except Exception:
        pass
    fields["text"] = body(message, "plain")
    fields["html"] = body(message, "html")
    return fields


class Handler:
    """aiosmtpd's handler hooks: refuse recipients if asked, store each message."""

    def __init__(self, maildir, reject_rcpt):
        self.maildir = maildir
        self.reject_rcpt = reject_rcpt
        self.count = 0  # one event loop thread: no lock needed

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        # Without --auth no mechanism is left: drop the then empty "250-AUTH " line.
        return [line for line in responses if line.strip() != "250-AUTH"]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.content
        if isinstance(content, str):  # only with decode_data=True, which we do not set
            content = content.encode("utf-8", "surrogateescape")
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "authenticated_as": login.decode("utf-8", "replace") if login else None,
            # aiosmtpd sets session.ssl (the TLS transport's info) once STARTTLS completes.
            "tls": session.ssl is not None,
            **describe(content),
            "raw": content.decode("utf-8", "replace"),
        }
        self.count += 1
        path = os.path.join(self.maildir, f"{self.count}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as file:
            json.dump(record, file, ensure_ascii=False, indent=2)
        os.rename(path + ".tmp", path)
        return f"250 2.0.0 OK: queued as {self.count}"


def authenticator_for(user, password):
    """An aiosmtpd authenticator accepting exactly `user`/`password` (PLAIN or LOGIN)."""
    expected = LoginPassword(user.encode(), password.encode())

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and tuple(auth_data) == tuple(expected)
        # handled=False on failure: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maildir", required=True, help="where <n>.json files go")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"),
                        help="offer STARTTLS with this certificate and key, and require it")
    parser.add_argument("--auth", metavar="USER:PASSWORD",
                        help="require AUTH (PLAIN or LOGIN) as this one user")
    parser.add_argument("--reject-rcpt", action="store_true",
                        help="answer 550 to every RCPT TO")
    args = parser.parse_args()
    if args.auth is not None and ":" not in args.auth:
        parser.error("--auth takes USER:PASSWORD")
    return args


async def main(args):
    loop = asyncio.get_running_loop()
    os.makedirs(args.maildir, exist_ok=True)
    handler = Handler(args.maildir, args.reject_rcpt)

    tls_context = None
    if args.starttls:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(*args.starttls)

    if args.auth is not None:
        user, password = args.auth.split(":", 1)
        auth = dict(
            auth_required=True,
            # AUTH only under TLS when STARTTLS is offered; in the clear otherwise.
            auth_require_tls=tls_context is not None,
            authenticator=authenticator_for(user, password),
        )
    else:
        # No AUTH offered: an AUTH attempt gets 504, as from a server without AUTH.
        auth = dict(auth_exclude_mechanism=["PLAIN", "LOGIN"])

    def protocol():
        # One SMTP protocol object per connection (what aiosmtpd's Controller does, but
        # on a port-0 socket we bind ourselves).
        return SMTP(
            handler,
            loop=loop,
            hostname="localhost",  # not socket.getfqdn(), which may wait on DNS
            tls_context=tls_context,
            require_starttls=tls_context is not None,
            **auth,
        )

    server = await loop.create_server(protocol, host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    log.info("listening on 127.0.0.1:%d (starttls=%s, auth=%s, reject_rcpt=%s)", port,
             tls_context is not None, args.auth is not None, args.reject_rcpt)
    print(f"ready {port}", flush=True)

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    log.info("stopped")


if __name__ == "__main__":
    # aiosmtpd's INFO log (peers, senders, recipients) goes to stderr for debugging.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Expected with --auth and no --starttls: that mode is tested on purpose.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    asyncio.run(main(parse_args()))
