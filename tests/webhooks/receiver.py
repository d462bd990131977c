#!/usr/bin/python3
"""A real webhook receiver for the integration tests, driven by tests/it/support/webhooks.rs.

    receiver.py --port PORT --port-file PATH --secret whsec_... --out PATH

Binds 127.0.0.1:PORT (0: a port the kernel picks), writes the bound port to PATH (through
PATH.tmp and a rename, so a reader never sees half of it) and serves until killed.

Each POST to any path but /_control is a webhook delivery. Its Standard Webhooks signature
is checked here, independently of authgate: HMAC-SHA256 keyed with the base64-decoded part
of the secret after `whsec_`, over `{webhook-id}.{webhook-timestamp}.{raw body}`, base64
(standard, padded) and compared with each `v1,<base64>` entry of `webhook-signature`; the
timestamp must be within 5 minutes of now. Every delivery, verified or not, is appended to
the --out file as one JSON line:

    {"path", "id", "timestamp", "verified", "reason", "body", "status"}

`id` and `timestamp` as received (null when absent), `reason` why it is not verified (null
when it is), `body` the parsed JSON (null when not JSON), `status` what was answered: the
current reply status (204 unless /_control changed it) when verified, 401 when not.

    POST /_control {"status": 503}   the status later verified deliveries get; answers 200
    GET /_health                     answers 200, to wait for the start

Every response closes its connection, so a client never reuses one the receiver dropped.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

TOLERANCE_SECONDS = 5 * 60
# Far more than any event; a bigger body is refused rather than held in memory.
MAX_BODY = 16 * 1024 * 1024
SECRET_PREFIX = "whsec_"


class BadRequest(Exception):
    """A request whose body cannot be read (bad framing or too big)."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def decode_secret(secret):
    """The HMAC key of a `whsec_<base64>` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"the secret does not start with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"the secret is not base64 after {SECRET_PREFIX!r}: {error}")
    if not key:
        raise ValueError("the secret's key is empty")
    return key


def verify(key, msg_id, timestamp, signatures, body, now):
    """None when the delivery is authentic and fresh, otherwise why it is not."""
    if msg_id is None:
        return "missing webhook-id header"
    if timestamp is None:
        return "missing webhook-timestamp header"
    if signatures is None:
        return "missing webhook-signature header"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return f"webhook-timestamp is not decimal Unix seconds: {timestamp!r}"
    age = now - int(timestamp)
    if age > TOLERANCE_SECONDS:
        return f"webhook-timestamp is {age} s old (tolerance {TOLERANCE_SECONDS} s)"
    if age < -TOLERANCE_SECONDS:
        return f"webhook-timestamp is {-age} s in the future (tolerance {TOLERANCE_SECONDS} s)"
    try:
        # The header values as sent: http.server decodes header lines as ISO-8859-1.
        signed = msg_id.encode("latin-1") + b"." + timestamp.encode("latin-1") + b"." + body
        given = [entry.encode("latin-1") for entry in signatures.split()]
    except UnicodeEncodeError:
        return "a webhook header is not ISO-8859-1"
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    v1 = [entry[len(b"v1,"):] for entry in given if entry.startswith(b"v1,")]
    if not v1:
        return f"no v1 entry in webhook-signature: {signatures!r}"
    # Every entry is compared, in constant time each; any match accepts.
    matched = False
    for candidate in v1:
        if hmac.compare_digest(candidate, expected):
            matched = True
    if not matched:
        return f"no v1 signature matches ({len(v1)} tried)"
    return None


def parse_json(body):
    """The body as JSON, or None when it is not JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except Exception:  # ValueError, UnicodeDecodeError, RecursionError on deep nesting
        return None


class Receiver(ThreadingHTTPServer):
    """The server, with the state its handler threads share."""

    daemon_threads = True

    def __init__(self, address, key, out):
        super().__init__(address, Handler)
        self.key = key
        self.out = out
        self.lock = threading.Lock()
        self.reply_status = 204

    def current_status(self):
        with self.lock:
            return self.reply_status

    def set_status(self, status):
        with self.lock:
            self.reply_status = status

    def record(self, line):
        """Appends one JSON line and flushes it, one writer at a time."""
        text = json.dumps(line, ensure_ascii=True) + "\n"
        with self.lock:
            self.out.write(text)
            self.out.flush()

    def handle_error(self, request, client_address):
        # A handler bug or a dropped connection: one line on stderr, the server goes on.
        error = sys.exc_info()[1]
        print(f"receiver: error with {client_address}: {error!r}", file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "authgate-test-webhook-receiver"
    # A client that stalls mid-request is dropped instead of holding a thread forever.
    timeout = 30

    def log_message(self, format, *args):
        pass  # quiet: no line per request

    def log_error(self, format, *args):
        print("receiver: " + (format % args), file=sys.stderr, flush=True)

    def route(self):
        try:
            return urlsplit(self.path).path
        except ValueError:
            return self.path

    def reply(self, status, body=None):
        self.send_response(status)
        if body is not None:
            data = json.dumps(body).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        else:
            data = b""
            if status != 204 and status >= 200:  # a 204 has no Content-Length
                self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        if data:
            self.wfile.write(data)

    def read_body(self):
        """The raw request body, framed by Content-Length or chunked transfer coding."""
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise BadRequest(501, f"unsupported Transfer-Encoding: {encoding!r}")
            return self.read_chunked()
        lengths = self.headers.get_all("Content-Length") or []
        if len(set(value.strip() for value in lengths)) > 1:
            raise BadRequest(400, f"conflicting Content-Length headers: {lengths!r}")
        if not lengths:
            return b""
        length = lengths[0].strip()
        if not (length.isascii() and length.isdigit()):
            raise BadRequest(400, f"bad Content-Length: {lengths[0]!r}")
        length = int(length)
        if length > MAX_BODY:
            raise BadRequest(413, f"body of {length} bytes is over {MAX_BODY}")
        body = self.rfile.read(length)
        if len(body) != length:
            raise BadRequest(400, f"body ended after {len(body)} of {length} bytes")
        return body

    def read_chunked(self):
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest(400, f"bad chunk size line: {line!r}")
            if size < 0 or len(body) + size > MAX_BODY:
                raise BadRequest(413 if size > 0 else 400, f"bad or too big chunk: {size}")
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) != b"\r\n":
                raise BadRequest(400, "truncated chunk")
            body += chunk
        # Trailers, up to the empty line that ends them.
        while True:
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                break
        return bytes(body)

    def header(self, name):
        """A header's value; None when absent. A repeated header counts as absent."""
        values = self.headers.get_all(name)
        if not values or len(values) != 1:
            return None
        return values[0]

    def do_GET(self):
        if self.route() == "/_health":
            self.reply(200, {"status": "ok"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.route() == "/_control":
            self.control()
        else:
            self.delivery()

    def control(self):
        try:
            body = self.read_body()
        except BadRequest as error:
            self.reply(error.status, {"error": error.reason})
            return
        request = parse_json(body)
        status = request.get("status") if isinstance(request, dict) else None
        if type(status) is not int or not 200 <= status <= 599:
            self.reply(400, {"error": 'expected {"status": <200..599>}'})
            return
        self.server.set_status(status)
        self.reply(200, {"status": status})

    def delivery(self):
        msg_id = self.header("webhook-id")
        timestamp = self.header("webhook-timestamp")
        line = {
            "path": self.path,
            "id": msg_id,
            "timestamp": timestamp,
            "verified": False,
            "reason": None,
            "body": None,
            "status": 401,
        }
        try:
            body = self.read_body()
        except BadRequest as error:
            line.update(reason=error.reason, status=error.status)
            self.server.record(line)
            self.reply(error.status)
            return
        line["body"] = parse_json(body)
        repeated = [
            name for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
            if len(self.headers.get_all(name) or []) > 1
        ]
        if repeated:
            reason = f"repeated header(s): {', '.join(repeated)}"
        else:
            reason = verify(self.server.key, msg_id, timestamp, self.header("webhook-signature"),
                            body, int(time.time()))
        if reason is None:
            line.update(verified=True, status=self.server.current_status())
        else:
            line["reason"] = reason
        self.server.record(line)
        self.reply(line["status"])


def write_port_file(path, port):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="ascii") as file:
        file.write(f"{port}\n")
    os.replace(temporary, path)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--port-file", required=True, help="where to write the bound port")
    parser.add_argument("--secret", required=True, help="the signing secret, whsec_<base64>")
    parser.add_argument("--out", required=True, help="the JSON Lines file of deliveries")
    args = parser.parse_args()
    try:
        args.key = decode_secret(args.secret)
    except ValueError as error:
        parser.error(str(error))
    if not 0 <= args.port <= 65535:
        parser.error(f"bad port: {args.port}")
    return args


def main():
    args = parse_args()
    with open(args.out, "a", encoding="ascii") as out:
        server = Receiver(("127.0.0.1", args.port), args.key, out)
        port = server.server_address[1]
        write_port_file(args.port_file, port)
        print(f"receiver: listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


if __name__ == "__main__":
    main()
