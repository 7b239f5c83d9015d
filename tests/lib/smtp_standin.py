"""A small SMTP receiver for the tests (RFC 5321), on loopback only.

EHLO with 8BITMIME, STARTTLS (when given a certificate) and, after TLS
only, AUTH PLAIN and LOGIN; MAIL, RCPT, DATA (the dot-stuffing undone,
RFC 5321 4.5.2), RSET, NOOP, QUIT. Each accepted message is kept with
the envelope, whether it came under TLS and who authenticated, and the
message parsed by Python's email package (RFC 5322 headers, RFC 2047
subject, base64 or 8bit body decoded), so the tests check what a real
mail client would read.

Recipients whose local part is "reject" get 550, "later" 451: how a
server refuses for good or for now.
"""
import base64
import email
import email.policy
import os
import socket
import ssl
import subprocess
import threading


def make_cert(d):
    """A test CA and a server certificate for IP 127.0.0.1 signed by it,
    made with openssl in the directory d: (CA, certificate, key) paths."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = (os.path.join(d, n) for n in ("srv.key", "srv.csr",
                                                  "srv.pem"))
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for args in (["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                  ca_key, "-out", ca, "-days", "2", "-subj", "/CN=test CA"],
                 ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                  "-out", csr, "-subj", "/CN=127.0.0.1"],
                 ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                  "-CAcreateserial", "-out", crt, "-days", "2", "-extfile",
                  ext]):
        subprocess.run(["openssl"] + args, check=True, capture_output=True)
    return ca, crt, key


class Message:
    def __init__(self, mail_from, rcpt, raw, tls, user):
        self.mail_from = mail_from
        self.rcpt = rcpt
        self.raw = raw
        self.tls = tls
        self.user = user
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)

    @property
    def subject(self):
        return str(self.msg["Subject"])

    @property
    def text(self):
        return self.msg.get_content()


class SMTPStandin:
    def __init__(self, cert=None, key=None, users=None, require_auth=False,
                 implicit=False):
        """implicit: TLS from the first byte (smtps://), else STARTTLS
        offered when cert is given."""
        self.implicit = implicit
        self.tls_failures = 0
        self.users = users or {}
        self.require_auth = require_auth
        self.messages = []
        self.sessions = 0
        self.lock = threading.Lock()
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopped = True
        self.sock.close()

    def received(self, rcpt=None):
        with self.lock:
            return [m for m in self.messages
                    if rcpt is None or rcpt in m.rcpt]

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(c,),
                             daemon=True).start()

    def _session(self, c):
        with self.lock:
            self.sessions += 1
        c.settimeout(20)
        state = {"tls": False, "user": None, "from": None, "rcpt": []}
        if self.implicit:
            try:
                c = self.ctx.wrap_socket(c, server_side=True)
            except (OSError, ssl.SSLError):
                with self.lock:
                    self.tls_failures += 1
                c.close()
                return
            state["tls"] = True
        f = c.makefile("rb")

        def say(line):
            c.sendall(line.encode() + b"\r\n")

        def readline():
            line = f.readline(4096)
            if not line:
                raise EOFError
            return line.rstrip(b"\r\n").decode("utf-8", "replace")

        try:
            say("220 standin.test ESMTP ready")
            while True:
                line = readline()
                verb = line.split(" ", 1)[0].upper()
                arg = line[len(verb) + 1:]
                if verb in ("EHLO", "HELO"):
                    lines = ["standin.test greets %s" % arg, "8BITMIME"]
                    if self.ctx and not state["tls"]:
                        lines.append("STARTTLS")
                    if state["tls"] and self.users:
                        lines.append("AUTH PLAIN LOGIN")
                    for i, l in enumerate(lines):
                        say("250%s%s" % ("-" if i < len(lines) - 1 else " ",
                                         l))
                elif verb == "STARTTLS" and self.ctx and not state["tls"]:
                    say("220 go ahead")
                    f.close()
                    try:
                        c = self.ctx.wrap_socket(c, server_side=True)
                    except (OSError, ssl.SSLError):
                        with self.lock:
                            self.tls_failures += 1
                        raise
                    f = c.makefile("rb")
                    state["tls"] = True
                    state["user"] = None
                elif verb == "AUTH":
                    if not state["tls"]:
                        say("538 5.7.11 encryption required")
                        continue
                    parts = arg.split(" ")
                    mech = parts[0].upper()
                    if mech == "PLAIN":
                        blob = parts[1] if len(parts) > 1 else None
                        if blob is None:
                            say("334 ")
                            blob = readline()
                        try:
                            _, u, p = base64.b64decode(blob).decode().split(
                                "\0")
                        except Exception:
                            say("501 bad PLAIN")
                            continue
                    elif mech == "LOGIN":
                        say("334 " + base64.b64encode(b"Username:").decode())
                        u = base64.b64decode(readline()).decode()
                        say("334 " + base64.b64encode(b"Password:").decode())
                        p = base64.b64decode(readline()).decode()
                    else:
                        say("504 unknown mechanism")
                        continue
                    if self.users.get(u) == p:
                        state["user"] = u
                        say("235 2.7.0 authenticated")
                    else:
                        say("535 5.7.8 bad credentials")
                elif verb == "MAIL":
                    if self.require_auth and state["user"] is None:
                        say("530 5.7.0 authentication required")
                        continue
                    state["from"] = arg.split(":", 1)[1].split(">")[0] \
                        .lstrip("<")
                    state["rcpt"] = []
                    say("250 ok")
                elif verb == "RCPT":
                    addr = arg.split(":", 1)[1].strip().strip("<>")
                    local = addr.split("@")[0]
                    if local == "reject":
                        say("550 5.1.1 no such user")
                    elif local == "later":
                        say("451 4.3.0 try again later")
                    else:
                        state["rcpt"].append(addr)
                        say("250 ok")
                elif verb == "DATA":
                    if not state["rcpt"]:
                        say("503 no recipients")
                        continue
                    say("354 end with .")
                    raw = []
                    while True:
                        l = f.readline(100000)
                        if not l:
                            raise EOFError
                        if l == b".\r\n":
                            break
                        if l.startswith(b"."):
                            l = l[1:]   # RFC 5321 4.5.2
                        raw.append(l)
                    m = Message(state["from"], list(state["rcpt"]),
                                b"".join(raw), state["tls"], state["user"])
                    with self.lock:
                        self.messages.append(m)
                    say("250 2.0.0 queued")
                elif verb == "RSET":
                    state["rcpt"] = []
                    say("250 ok")
                elif verb == "NOOP":
                    say("250 ok")
                elif verb == "QUIT":
                    say("221 bye")
                    break
                else:
                    say("502 command not implemented")
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass
