"""What the lifecycle-message tests (tests/server/messages*.py) share:
the SMS gateway stand-in that checks sigild's v1 signature, a plain
receiver of HTTP POSTs, the signature check, the gateway's secret file
(free_port and wait, egresstest's, are passed on).

The signature check here ignores the timestamp's age (unlike
egresstest.signature_ok): the fault build's clock may be shifted."""
import hashlib
import hmac
import http.server
import json
import os
import re
import threading
import time

from egresstest import free_port, wait_for as wait  # noqa: F401

SECRET = "s3cret-for-the-sms-gateway-0123456789abcdef"


def signed(secret, headers, body):
    """sigild's v1 signature: HMAC-SHA256 over "<timestamp>.<body>"."""
    ts = headers.get("X-Sigil-Timestamp", "")
    want = "v1=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, headers.get("X-Sigil-Signature", ""))


def secret_file(env, text=SECRET):
    """The gateway's secret in ENV_DIR/sms.secret (mode 0600): its path,
    for --sms-secret-file."""
    path = os.path.join(env.dir, "sms.secret")
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


def _serve(port, handler):
    s = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s


class Gateway:
    """The SMS gateway: checks the signature with secret (401 when
    wrong, counted in bad), keeps each signed request's JSON body in got;
    delay seconds per request, one at a time, when set."""

    def __init__(self, secret=SECRET):
        self.port = free_port()
        self.lock = threading.Lock()
        self.serial = threading.Lock()
        self.got = []
        self.bad = 0
        self.delay = 0
        gw = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = signed(secret, self.headers, body)
                if gw.delay:
                    with gw.serial:
                        time.sleep(gw.delay)
                with gw.lock:
                    if ok:
                        gw.got.append(json.loads(body))
                    else:
                        gw.bad += 1
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = _serve(self.port, H)

    def url(self):
        return "http://127.0.0.1:%d/sms" % self.port

    def otp(self, phone):
        """The latest code sent to phone (E.164 without "+"), or None."""
        with self.lock:
            for d in reversed(self.got):
                m = re.search(r"验证码 (\d{6})", d["text"])
                if d["phone"] == "+" + phone and m:
                    return m.group(1)
        return None

    def code(self, phone):
        """The latest code sent to +86 phone, waiting up to 10 s."""
        if not wait(lambda: self.otp("86" + phone) is not None, 10):
            raise RuntimeError("no code")
        return self.otp("86" + phone)

    def texts(self, mark):
        """(phone, text) of each message with mark in its text, sorted."""
        with self.lock:
            return sorted((d["phone"], d["text"]) for d in self.got
                          if mark in d["text"])

    def marketing(self, mark):
        """(phone, text) of each message with mark in it, as sent."""
        with self.lock:
            return [(d["phone"], d["text"]) for d in self.got
                    if mark in d["text"]]


class Receiver:
    """HTTP POSTs kept as (path, headers, body); 200 to all."""

    def __init__(self):
        self.port = free_port()
        self.got = []
        self.lock = threading.Lock()
        rcv = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with rcv.lock:
                    rcv.got.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = _serve(self.port, H)

    def bodies(self):
        with self.lock:
            return [(p, h, json.loads(b)) for p, h, b in self.got]
