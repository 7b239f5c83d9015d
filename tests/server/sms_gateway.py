"""The SMS gateway client (review F16) against the real sigild and a
stand-in gateway on loopback.

Start-up refuses a gateway URL with user info, a loopback/private
address without --webhook-allow, a disguised IPv4, a missing or loose
--sms-secret-file, and a secret file without --sms-webhook (exit 2, a
clear message). Over plain http (loopback allowed) the gateway gets
{phone, text} signed with X-Sigil-Signature (HMAC-SHA256 under the
shared secret over "<timestamp>.<body>"); the code it carries logs the
customer in. A gateway holding another secret refuses the request. Over
https with a CA the test makes with openssl (--webhook-ca) it arrives;
without the CA the certificate is not trusted and nothing arrives. A
gateway named by DNS is resolved with evdns (--webhook-dns, a resolver
on loopback that never answers): sigild keeps answering meanwhile.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import BIN, Env, check, done  # noqa: E402
from egresstest import DNS, Listener, free_port, signature_ok, \
    wait_for  # noqa: E402

SECRET = "s3cret-for-the-sms-gateway-0123456789abcdef"


def write_secret(env, name, text, mode=0o600):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, mode)
    return path


def make_ca(env):
    """A CA and a leaf for IP 127.0.0.1 signed by it: (ca, cert, key)."""
    d = env.dir
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in
                                  ("ca.key", "ca.pem", "gw.key", "gw.csr",
                                   "gw.pem"))
    ext = os.path.join(d, "gw.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
        "-out", ca, "-days", "2", "-subj", "/CN=sigil test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
        csr, "-subj", "/CN=127.0.0.1")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


def refuses(env, args, words, what):
    r = subprocess.run([os.path.join(BIN, "sigild"), "--data", env.data,
                        "--listen", "127.0.0.1:0"] + args,
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 2 and all(w in r.stderr for w in words),
          "%s: exit 2 (%s)" % (what, r.stderr.strip()[:90]))


class Customer:
    def __init__(self, srv, path):
        self.srv = srv
        self.path = path
        _, _, self.device = srv.scan(path)

    def post(self, url, body):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + self.device}
        st, _, data = self.srv.request("POST", url, body=body, headers=h)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, None

    def otp(self, phone):
        return self.post("/api/v1/customers/otp",
                         {"phone": phone, "code": self.path})

    def verify(self, phone, code):
        return self.post("/api/v1/customers/verify",
                         {"phone": phone, "code": self.path, "otp": code})


def code_in(req):
    doc = json.loads(req[3])
    m = re.search(r"(\d{6})", doc["text"])
    return doc, m.group(1) if m else None


with Env() as env:
    _, paths = env.setup_brand("acme", count=12)
    secret = write_secret(env, "sms.secret", SECRET)
    gw = Listener(secret=SECRET).start()
    url = "http://127.0.0.1:%d/sms" % gw.port

    # ---- start-up refusals ----
    refuses(env, ["--sms-webhook", url, "--sms-secret-file", secret],
            ["--sms-webhook", "--webhook-allow"], "loopback gateway by default")
    refuses(env, ["--sms-webhook", "http://u:pw@127.0.0.1:%d/" % gw.port,
                  "--sms-secret-file", secret, "--webhook-allow",
                  "127.0.0.0/8"], ["user info"], "user info in the URL")
    refuses(env, ["--sms-webhook", "http://2130706433:%d/" % gw.port,
                  "--sms-secret-file", secret, "--webhook-allow",
                  "127.0.0.0/8"], ["dotted-quad"], "decimal IPv4 gateway")
    refuses(env, ["--sms-webhook", "http://169.254.169.254/",
                  "--sms-secret-file", secret, "--webhook-allow",
                  "169.254.0.0/16"], ["metadata"], "metadata gateway")
    refuses(env, ["--sms-webhook", "ftp://127.0.0.1/",
                  "--sms-secret-file", secret], ["http://"], "ftp gateway")
    refuses(env, ["--sms-webhook", url, "--webhook-allow", "127.0.0.0/8"],
            ["--sms-secret-file"], "no secret file")
    refuses(env, ["--sms-secret-file", secret], ["--sms-webhook"],
            "secret file alone")
    loose = write_secret(env, "loose.secret", SECRET, 0o644)
    refuses(env, ["--sms-webhook", url, "--sms-secret-file", loose,
                  "--webhook-allow", "127.0.0.0/8"], ["0600"],
            "secret file readable by others")
    short = write_secret(env, "short.secret", "tooshort")
    refuses(env, ["--sms-webhook", url, "--sms-secret-file", short,
                  "--webhook-allow", "127.0.0.0/8"], ["32"], "short secret")
    longer = write_secret(env, "long.secret", "x" * 257)
    refuses(env, ["--sms-webhook", url, "--sms-secret-file", longer,
                  "--webhook-allow", "127.0.0.0/8"], ["256"],
            "a 257-character secret")
    srv = env.start("--sms-webhook", url, "--sms-secret-file",
                    write_secret(env, "max.secret", "y" * 256),
                    "--webhook-allow", "127.0.0.0/8")
    check(srv.stop() == 0, "a 256-character secret is fine")
    refuses(env, ["--sms-webhook", url, "--sms-secret-file",
                  os.path.join(env.dir, "missing"), "--webhook-allow",
                  "127.0.0.0/8"], ["cannot open"],
            "missing secret file")
    check(not os.path.exists(os.path.join(env.data, "otp-outbox.log")),
          "nothing was sent anywhere")

    # ---- plain http, loopback allowed: signed, and the code works ----
    srv = env.start("--sms-webhook", url, "--sms-secret-file", secret,
                    "--webhook-allow", "127.0.0.0/8")
    cu = Customer(srv, paths[0])
    st, doc = cu.otp("13900000011")
    check(st == 202, "otp requested: 202")
    check(wait_for(lambda: gw.count() >= 1, 10), "the gateway got a request")
    req = gw.requests[0]
    body, code = code_in(req)
    check(body["phone"] == "+8613900000011" and code is not None,
          "{phone, text} with the code")
    check(gw.bad_signatures == 0 and signature_ok(SECRET, req[2], req[3]),
          "X-Sigil-Signature verifies under the shared secret")
    check(not signature_ok("another-secret-of-the-same-length-000000000",
                           req[2], req[3]),
          "and not under another secret")
    check(req[2].get("Host") == "127.0.0.1:%d" % gw.port and req[1] == "/sms",
          "Host and path as configured")
    st, doc = cu.verify("13900000011", code)
    check(st == 200 and doc["customer"]["phone"] == "139****0011",
          "the code the gateway got logs the customer in")
    check(not os.path.exists(os.path.join(env.data, "otp-outbox.log")),
          "no demo outbox with a gateway")
    log = srv.logtext()
    check("otp_notify result=ok status=200" in log and code not in log and
          "13900000011" not in log, "log: sent, no phone or code")
    srv.stop()

    # ---- a gateway with another secret refuses the request ----
    other = Listener(secret="the-gateway-expects-this-other-secret-xyz").start()
    srv = env.start("--sms-webhook", "http://127.0.0.1:%d/sms" % other.port,
                    "--sms-secret-file", secret,
                    "--webhook-allow", "127.0.0.0/8")
    cu = Customer(srv, paths[1])
    st, _ = cu.otp("13900000012")
    check(st == 202, "otp requested")
    check(wait_for(lambda: other.bad_signatures >= 1, 10),
          "the gateway with another secret refused the signature")
    check(wait_for(lambda: "otp_notify result=failed reason=status "
                   "status=401" in srv.logtext(), 5),
          "sigild logged the refusal")
    srv.stop()
    other.stop()

    # ---- https with the test's CA ----
    ca, cert, key = make_ca(env)
    tgw = Listener(secret=SECRET, tls=(cert, key)).start()
    turl = "https://127.0.0.1:%d/sms" % tgw.port
    srv = env.start("--sms-webhook", turl, "--sms-secret-file", secret,
                    "--webhook-allow", "127.0.0.0/8", "--webhook-ca", ca)
    cu = Customer(srv, paths[2])
    st, _ = cu.otp("13900000013")
    check(st == 202, "otp requested over https")
    check(wait_for(lambda: tgw.count() >= 1, 10),
          "the https gateway got the request")
    if tgw.count():
        body, code = code_in(tgw.requests[0])
        check(tgw.bad_signatures == 0 and code is not None and
              cu.verify("13900000013", code)[0] == 200,
              "signed over https, and the code logs in")
    srv.stop()

    # Without the CA the certificate is not trusted: nothing arrives.
    n = tgw.count()
    srv = env.start("--sms-webhook", turl, "--sms-secret-file", secret,
                    "--webhook-allow", "127.0.0.0/8")
    cu = Customer(srv, paths[3])
    st, _ = cu.otp("13900000014")
    check(st == 202, "otp requested (untrusted gateway)")
    check(wait_for(lambda: "otp_notify result=failed reason=no_answer" in
                   srv.logtext(), 10), "untrusted certificate: failed")
    check(tgw.count() == n, "the untrusted gateway received nothing")
    srv.stop()
    tgw.stop()
    refuses(env, ["--sms-webhook", turl, "--sms-secret-file", secret,
                  "--webhook-allow", "127.0.0.0/8", "--webhook-ca",
                  os.path.join(env.dir, "nope.pem")], ["--webhook-ca"],
            "a CA file that is not there")

    # ---- a gateway name, resolved without blocking the loop ----
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    srv = env.start("--sms-webhook", "http://gw.test:%d/sms" % gw.port,
                    "--sms-secret-file", secret, "--webhook-allow",
                    "127.0.0.0/8", "--webhook-dns",
                    "127.0.0.1:%d" % silent.getsockname()[1])
    cu = Customer(srv, paths[4])
    n = gw.count()
    st, _ = cu.otp("13900000015")
    check(st == 202, "otp requested (gateway name)")
    silent.settimeout(5)
    try:
        asked = b"\x02gw\x04test" in silent.recv(512).lower()
    except OSError:
        asked = False
    check(asked, "sigild asked the loopback resolver for gw.test")
    times = []
    for _ in range(20):
        t = time.time()
        st, _, _ = srv.get("/healthz")
        times.append(time.time() - t)
    check(st == 200 and max(times) < 0.5,
          "sigild answers while the name is unresolved (max %.3f s)"
          % max(times))
    check(gw.count() == n, "nothing sent before the name resolves")
    srv.stop()
    silent.close()

    dns = DNS({"gw.test": lambda n: "127.0.0.1"})
    srv = env.start("--sms-webhook", "http://gw.test:%d/sms" % gw.port,
                    "--sms-secret-file", secret, "--webhook-allow",
                    "127.0.0.0/8", "--webhook-dns", dns.addr)
    cu = Customer(srv, paths[5])
    st, _ = cu.otp("13900000016")
    check(wait_for(lambda: gw.count() > n, 10) and
          dns.a_queries("gw.test") >= 1,
          "a named gateway is reached through the resolver")
    check(gw.requests[-1][2].get("Host") == "gw.test:%d" % gw.port,
          "Host names the gateway")
    srv.stop()
    # The same name, loopback not allowed: refused on its address.
    srv = env.start("--sms-webhook", "http://gw.test:%d/sms" % gw.port,
                    "--sms-secret-file", secret, "--webhook-dns", dns.addr)
    cu = Customer(srv, paths[6])
    n = gw.count()
    st, _ = cu.otp("13900000017")
    check(wait_for(lambda: "egress_refused host=gw.test addr=127.0.0.1" in
                   srv.logtext(), 10), "named gateway on loopback refused "
          "without --webhook-allow")
    check(gw.count() == n, "and it received nothing")
    srv.stop()
    dns.close()
    gw.stop()

done()
