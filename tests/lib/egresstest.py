"""Stand-ins for what sigild's outbound HTTP talks to, for tests/server/
ssrf.py and sms_gateway.py: an HTTP listener that records what reaches
it (and on which local address), and a tiny DNS server whose answers a
test scripts. Both bind only the addresses a test gives them: loopback,
or addresses inside a network namespace the test made."""
import hashlib
import hmac
import http.server
import json
import socket
import ssl
import struct
import threading
import time


def free_port(host="127.0.0.1"):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def signature_ok(secret, headers, body):
    """sigild's v1 signature: HMAC-SHA256 over "<timestamp>.<body>"."""
    ts = headers.get("X-Sigil-Timestamp", "")
    want = "v1=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
    return (hmac.compare_digest(headers.get("X-Sigil-Signature", ""), want)
            and ts.isdigit() and abs(time.time() - int(ts)) < 300)


class Listener:
    """HTTP on (host, port). mode: "ok" answers 200, "500" answers 500,
    "302" redirects to location, "hang" accepts and never answers.
    secret, when set, makes "ok" answer 401 to a bad signature.
    requests holds (local address, path, headers, body) per request;
    connections counts accepted connections (hang mode included)."""

    def __init__(self, host="127.0.0.1", port=None, mode="ok",
                 location=None, secret=None, tls=None):
        self.host = host
        self.port = port or free_port(host)
        self.mode = mode
        self.location = location
        self.secret = secret
        self.tls = tls          # (certfile, keyfile) or None
        self.lock = threading.Lock()
        self.requests = []
        self.bad_signatures = 0
        self.connections = 0
        self.httpd = None
        self.raw = None
        self.held = []

    def start(self):
        if self.mode == "hang":
            fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self.raw = socket.socket(fam)
            self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.raw.bind((self.host, self.port))
            self.raw.listen(16)
            threading.Thread(target=self._hang, daemon=True).start()
            return self
        lst = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                local = self.connection.getsockname()[0]
                status = 200
                with lst.lock:
                    lst.requests.append((local, self.path,
                                         dict(self.headers), body))
                    if lst.secret is not None and not signature_ok(
                            lst.secret, self.headers, body):
                        lst.bad_signatures += 1
                        status = 401
                if lst.mode == "500":
                    status = 500
                self.send_response(302 if lst.mode == "302" else status)
                if lst.mode == "302":
                    self.send_header("Location", lst.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            address_family = (socket.AF_INET6 if ":" in self.host
                              else socket.AF_INET)
            daemon_threads = True

            def get_request(self):
                conn, addr = super().get_request()
                with lst.lock:
                    lst.connections += 1
                return conn, addr

        self.httpd = Server((self.host, self.port), Handler)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()
        return self

    def _hang(self):
        while True:
            try:
                c, _ = self.raw.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.held.append(c)

    def count(self):
        with self.lock:
            return len(self.requests)

    def events(self):
        with self.lock:
            out = []
            for _, _, _, body in self.requests:
                try:
                    out.extend(json.loads(body).get("events", []))
                except ValueError:
                    pass
            return out

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.raw:
            self.raw.close()
            for c in self.held:
                c.close()
            self.raw = None


class DNS:
    """A UDP DNS server on (host, port) answering A queries from
    answers: {name: callable(n) -> IPv4 text or None}, n counting that
    name's A queries from 1. AAAA gets an empty answer, anything else
    NXDOMAIN. queries records (name, qtype)."""

    def __init__(self, answers, host="127.0.0.1", port=None):
        self.answers = {k.lower(): v for k, v in answers.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port or 0))
        self.addr = "%s:%d" % (host, self.sock.getsockname()[1])
        self.lock = threading.Lock()
        self.queries = []
        self.counts = {}
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                pkt, peer = self.sock.recvfrom(2048)
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(pkt), peer)
            except (OSError, IndexError, struct.error):
                pass

    def _answer(self, pkt):
        qid, _, qd = struct.unpack(">HHH", pkt[:6])
        i, labels = 12, []
        while pkt[i]:
            labels.append(pkt[i + 1:i + 1 + pkt[i]].decode("ascii", "replace"))
            i += 1 + pkt[i]
        qtype = struct.unpack(">H", pkt[i + 1:i + 3])[0]
        question = pkt[12:i + 5]        # echoed as sent (0x20 case kept)
        name = ".".join(labels).lower()
        with self.lock:
            self.queries.append((name, qtype))
            fn = self.answers.get(name)
            ip = None
            if fn is not None and qtype == 1:
                self.counts[name] = self.counts.get(name, 0) + 1
                ip = fn(self.counts[name])
        rcode = 3 if fn is None else 0
        answer = b""
        if ip:
            answer = (b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) +
                      socket.inet_aton(ip))
        head = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1,
                           1 if answer else 0, 0, 0)
        return head + question + answer

    def a_queries(self, name):
        with self.lock:
            return sum(1 for n, t in self.queries if n == name and t == 1)

    def close(self):
        self.sock.close()
