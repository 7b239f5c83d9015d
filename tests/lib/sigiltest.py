"""Black-box test helpers: a data dir made with the real `sigil` tool and a
real `sigild` on a free loopback port, always stopped at the end.

Each test script uses:

    with Env() as env:
        brand = env.sigil("init", "--brand", "acme", "--base-url", URL)
        srv = env.start()           # sigild on 127.0.0.1:<free port>
        status, headers, body = srv.get("/S/...")
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "bin")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def src_files():
    """Every .c and .h under src/ (its layer folders), as paths from ROOT."""
    out = []
    for d, _, names in os.walk(os.path.join(ROOT, "src")):
        for n in names:
            if n.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, n), ROOT))
    return sorted(out)


def src_file(name):
    """The path under ROOT of src/*/name (or src/name); fails if absent."""
    hits = [f for f in src_files() if os.path.basename(f) == name]
    if len(hits) != 1:
        raise FileNotFoundError("src/**/%s: %d files" % (name, len(hits)))
    return os.path.join(ROOT, hits[0])
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
            "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
            "MicroMessenger/8.0.40")

failures = 0


def check(cond, what):
    """Records one assertion; a failed one makes the script exit 1."""
    global failures
    if cond:
        print("ok   " + what)
    else:
        failures += 1
        print("FAIL " + what)
    return cond


_ADMIN_CLIENTS = iter(range(1, 1 << 16))


def json_or_raw(raw):
    """An answer's body parsed as JSON, or the bytes when it is not."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def admin_login(srv, email, password, net):
    """POST /admin/login, each call from a new client address in net.x.y
    (X-Forwarded-For), so that the per-client login limit never decides:
    (status, (session cookie, CSRF token)), or (status, None) unless it
    answered 200 with a session cookie."""
    n = next(_ADMIN_CLIENTS)
    st, hdrs, raw = srv.request(
        "POST", "/admin/login", body={"email": email, "password": password},
        headers={"Content-Type": "application/json",
                 "X-Forwarded-For": "%s.%d.%d" % (net, n >> 8, n & 255)})
    m = re.search(r"sg_s=([0-9a-f]{64})", hdrs.get("Set-Cookie", ""))
    if st != 200 or m is None:
        return st, None
    return st, (m.group(1), json.loads(raw)["csrf"])


def read_until_close(sock, timeout=3):
    """Everything sock receives until the peer closes it or timeout
    seconds pass without a byte; closes sock."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while True:
            part = sock.recv(65536)
            if not part:
                break
            buf += part
    except OSError:
        pass
    sock.close()
    return buf


class Outbox:
    """The login codes sigild's outbox (DATA/otp-outbox.log) has sent,
    read as the file grows (a test logging in thousands of customers
    reads each line once)."""

    def __init__(self, data):
        self.path = os.path.join(data, "otp-outbox.log")
        self.file = None
        self.codes = {}

    def code(self, phone):
        """The last code sent to the mainland number phone, or None."""
        if self.file is None:
            self.file = open(self.path)
        for line in self.file:
            m = re.search(r" phone=86(\d+) code=(\d{6})$", line.strip())
            if m:
                self.codes[m.group(1)] = m.group(2)
        return self.codes.get(phone)

    def close(self):
        if self.file is not None:
            self.file.close()


def outbox_code(data, phone):
    """The last login code sigild's outbox sent to the mainland number
    phone, or None."""
    box = Outbox(data)
    try:
        return box.code(phone)
    finally:
        box.close()


ARTIFACTS = os.path.join(ROOT, "build", "test-artifacts")


def browser(script, args, password, checks=0, shots=0, timeout=300,
            label="", env=None):
    """Runs tests/browser/SCRIPT with node and ARGS (the password in
    SIGIL_TEST_PASSWORD; env adds variables), prints the tails of its
    output when it fails, and checks what every browser test's driver
    checks: at least `checks` "ok"/"FAIL" lines, each one "ok"; an exit
    status 0 and a last line of JSON saying no failure; at least `shots`
    screenshots (exactly -shots when negative), each a real image (over
    5000 bytes). Returns that JSON (failures -1 when there is none).
    label prefixes what is checked."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    r = subprocess.run(["node", os.path.join(ROOT, "tests", "browser",
                                             script)] + list(args),
                       capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, SIGIL_TEST_PASSWORD=password,
                                **(env or {})))
    if r.returncode != 0:
        print(r.stdout[-4000:], r.stderr[-3000:])
    lines = r.stdout.strip().split("\n")
    said = [x for x in lines[:-1] if x.startswith(("ok", "FAIL"))]
    if checks:
        check(len(said) >= checks, "%sthe browser ran all checks (%d)" %
              (label, len(said)))
    for line in said:
        check(line.startswith("ok"), "%sbrowser: %s" % (label, line[5:]))
    try:
        facts = json.loads(lines[-1])
    except ValueError:
        facts = {"failures": -1}
    check(r.returncode == 0 and facts.get("failures") == 0,
          "%s%s: every step passed" % (label, script))
    kept = facts.get("shots", [])
    check((len(kept) == -shots if shots < 0 else len(kept) >= shots) and
          all(os.path.getsize(f) > 5000 for f in kept),
          "%sscreenshots kept in build/test-artifacts/ (%d)" %
          (label, len(kept)))
    return facts


def done():
    print("%d failed" % failures)
    sys.exit(1 if failures else 0)


class Server:
    def __init__(self, env, args, port):
        self.env = env
        self.port = port
        self.log = open(os.path.join(env.dir, "sigild.log"), "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "sigild"), "--data", env.data, "--listen",
             "127.0.0.1:%d" % port] + args,
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sigild exited with %d: %s" % (
                    self.proc.returncode, self.logtext()[-2000:]))
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sigild did not start")

    def logtext(self):
        with open(os.path.join(self.env.dir, "sigild.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, headers=None, timeout=10,
                source=None):
        """source: a loopback address to send from (another network)."""
        h = {"User-Agent": PHONE_UA}
        h.update(headers or {})
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=timeout,
            source_address=(source, 0) if source else None)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            data = None
            if body is not None:
                data = body if isinstance(body, bytes) else \
                    json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
                h["Content-Length"] = str(len(data))
            for k, v in h.items():
                if v is not None:
                    conn.putheader(k, v)
            conn.endheaders()
            if data:
                conn.send(data)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def scan(self, path, device=None, headers=None, source=None):
        """GET with Accept: application/json; returns (status, json, cookie)."""
        h = {"Accept": "application/json"}
        if device:
            h["Cookie"] = "sg_d=" + device
        h.update(headers or {})
        status, hdrs, body = self.request("GET", path, headers=h,
                                          source=source)
        cookie = None
        m = re.search(r"sg_d=([0-9a-f.]+)", hdrs.get("Set-Cookie", ""))
        if m:
            cookie = m.group(1)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        return status, doc, cookie or device

    def api(self, method, path, token=None, body=None, headers=None):
        """Brand API call; returns (status, parsed JSON or raw bytes)."""
        h = {"Accept": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        st, _, raw = self.request(method, "/api/v1/" + path, body=body,
                                  headers=h, timeout=60)
        return st, json_or_raw(raw)

    def consumer(self, method, path, body=None, device=None, ip=None,
                 timeout=10):
        """A consumer's call (JSON, the device cookie, from ip through
        X-Forwarded-For); returns (status, parsed JSON or raw bytes)."""
        h = {"Accept": "application/json", "X-Forwarded-For": ip}
        if device:
            h["Cookie"] = "sg_d=" + device
        st, _, raw = self.request(method, path, body=body, headers=h,
                                  timeout=timeout)
        return st, json_or_raw(raw)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sigil-test-")
        self.data = os.path.join(self.dir, "data")
        self.servers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for s in self.servers:
            s.stop(signal.SIGKILL)
        if os.environ.get("KEEP_TMP"):
            print("kept " + self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def sigil(self, *args, check=True, stdin=None):
        r = subprocess.run([os.path.join(BIN, "sigil")] + list(args) +
                           ["--data", self.data], capture_output=True, text=True,
                           input=stdin)
        if check and r.returncode != 0:
            raise RuntimeError("sigil %s: %s" % (" ".join(args), r.stderr))
        return r

    def setup_brand(self, brand="acme", base="https://ACME.EXAMPLE",
                    sku="W1", count=20, activate=True, max_scanners=None,
                    init=True, gtin=None, name=None, lot=None):
        """A brand (created if init), a product (named name, else
        "Product <sku>"), one batch (of lot, when given); returns
        (batch id, [compact paths])."""
        if init:
            self.sigil("init", "--brand", brand, "--base-url", base)
        args = ["product", "add", "--brand", brand, "--sku", sku,
                "--name", name or "Product " + sku]
        if max_scanners:
            args += ["--max-scanners", str(max_scanners)]
        if gtin:
            args += ["--gtin", gtin, "--gs1"]
        self.sigil(*args)
        args = ["batch", "new", "--brand", brand, "--sku", sku, "--count",
                str(count), "--json"]
        if lot:
            args += ["--lot", lot]
        b = json.loads(self.sigil(*args).stdout)
        if activate:
            self.sigil("batch", "activate", "--batch", str(b["id"]))
        urls = self.sigil("mint", "--batch", str(b["id"]), "--format", "txt",
                          "--out", "-").stdout.split()
        paths = [re.sub(r"^https?://[^/]+", "", u) for u in urls]
        return b["id"], paths

    def token(self, brand, role):
        return json.loads(self.sigil("token", "new", "--brand", brand,
                                     "--role", role, "--json").stdout)["token"]

    def start(self, *args):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        args = list(args)
        # WAL=0 runs every server test against sigild --no-wal (the
        # LMDB-synced path); by default sigild uses its write-ahead log.
        if (os.environ.get("WAL") == "0" and
                not {"--no-sync", "--wal", "--no-wal"} & set(args)):
            args.append("--no-wal")
        srv = Server(self, args + ["--rate-limit", "0"]
                     if "--rate-limit" not in args else args, port)
        self.servers.append(srv)
        return srv
