"""IPv6 clients are limited per /64 (review F5, issue 16 item 4), inside a
network namespace this test makes: it re-executes itself under
`unshare -n`, brings lo up and gives it 200 addresses of 2001:db8:1::/64
(documentation prefix; only this namespace's loopback exists, nothing
leaves the host), then runs sigild on [::].

- 200 addresses of one /64 scanning once each are one client: the scan
  burst (40 at --rate-limit 20) and then 429; another /64 and IPv4 are
  not affected.
- The same for dashboard logins (10, then 1 per 5 s) and OTP sends (5).
- With --rate-v6-56, 200 /64s of one /56 share 4x one client's limit;
  without it they are 200 clients.
If the namespace cannot be made, the test fails: it never skips.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, Server, check, done  # noqa: E402

MARK = "SIGIL_LIMITS_NETNS"

if os.environ.get(MARK) != "1":
    env = dict(os.environ, **{MARK: "1"})
    try:
        os.execvpe("unshare", ["unshare", "-n", "--", sys.executable,
                               os.path.abspath(__file__)], env)
    except OSError as e:
        print("FAIL cannot run unshare -n: %s" % e)
        sys.exit(1)


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL %s: %s" % (" ".join(args), r.stderr.strip()))
        sys.exit(1)
    return r.stdout


# We are in a namespace of our own: lo is its only link.
links = sh("ip", "-o", "link", "show")
check(links.count("\n") == 1 and " lo:" in links,
      "inside a fresh network namespace (only lo)")
sh("ip", "link", "set", "lo", "up")
ONE64 = ["2001:db8:1::%x" % n for n in range(1, 201)]
OTHER64 = "2001:db8:2::1"
ONE56 = ["2001:db8:5:%x::1" % n for n in range(200)]
for a in ONE64 + [OTHER64] + ONE56:
    sh("ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad")


def req(port, method, path, src, body=None):
    conn = http.client.HTTPConnection("::1" if ":" in src else "127.0.0.1",
                                      port, timeout=30,
                                      source_address=(src, 0))
    h = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def start(env, *args):
    s = socket.socket(socket.AF_INET6)
    s.bind(("::", 0))
    port = s.getsockname()[1]
    s.close()
    srv = Server(env, ["--listen", "[::]:%d" % port] + list(args), port)
    env.servers.append(srv)
    return srv


with Env() as env:
    _, paths = env.setup_brand(count=20)
    srv = start(env, "--rate-limit", "20")
    port = srv.port
    st, _, _ = req(port, "GET", "/healthz", ONE64[0])
    check(st == 200, "sigild answers 2001:db8:1::1 on [::]")

    # ---- scans ----
    t0 = time.time()
    sts = [req(port, "GET", paths[1], a)[0] for a in ONE64]
    el = time.time() - t0
    n = sts.count(200)
    print("scans from 200 addresses of one /64: %d x 200, %d x 429 in "
          "%.2f s" % (n, sts.count(429), el))
    check(35 <= n <= 40 + 20 * el + 1 and n + sts.count(429) == 200,
          "200 addresses of one /64 scan as one client (burst 40, 20/s): "
          "%d allowed" % n)
    check(req(port, "GET", paths[1], OTHER64)[0] == 200,
          "another /64 is another client")
    check(req(port, "GET", paths[1], "127.0.0.1")[0] == 200,
          "an IPv4 client is another client")

    # ---- dashboard logins ----
    t0 = time.time()
    sts = [req(port, "POST", "/admin/login", a, {
        "email": "v6-%d@acme.test" % i, "password": "wrong password"})[0]
        for i, a in enumerate(ONE64)]
    el = time.time() - t0
    n = len(sts) - sts.count(429)
    print("logins from 200 addresses of one /64: %s in %.1f s" % (
        {s: sts.count(s) for s in set(sts)}, el))
    check(set(sts) <= {401, 429} and 10 <= n <= 10 + el / 5 + 1,
          "200 addresses of one /64 log in as one client (10, then 1 per "
          "5 s): %d tried" % n)
    check(req(port, "POST", "/admin/login", OTHER64, {
        "email": "other@acme.test", "password": "wrong password"})[0] == 401,
        "another /64 may still try (401)")

    # ---- OTP sends ----
    t0 = time.time()
    sts = [req(port, "POST", "/api/v1/customers/otp", a, {
        "phone": "1390000%04d" % i, "code": paths[2]})[0]
        for i, a in enumerate(ONE64)]
    el = time.time() - t0
    n = sts.count(202)
    print("OTP sends from 200 addresses of one /64: %s" % (
        {s: sts.count(s) for s in set(sts)}))
    check(n == 5 and sts.count(429) == 195,
          "200 addresses of one /64 send codes as one client: 5 x 202, "
          "then 429")
    check(req(port, "POST", "/api/v1/customers/otp", OTHER64, {
        "phone": "13911110000", "code": paths[2]})[0] == 202,
        "another /64 may still ask for a code")
    check(srv.stop() == 0, "sigild exits 0 (no sanitizer report)")

    # ---- the optional /56 bucket ----
    for flag in ([], ["--rate-v6-56"]):
        srv = start(env, "--rate-limit", "5", *flag)
        t0 = time.time()
        sts = [req(srv.port, "GET", paths[3], a)[0] for a in ONE56]
        el = time.time() - t0
        n = sts.count(200)
        print("%s: scans from 200 /64s of one /56: %d x 200 in %.2f s" % (
            flag or "without --rate-v6-56", n, el))
        if flag:
            check(40 <= n <= 40 + 20 * el + 1,
                  "--rate-v6-56: one /56 is limited at 4x one client "
                  "(burst 40): %d allowed" % n)
        else:
            check(n == 200, "without --rate-v6-56 every /64 is a client")
        check(srv.stop() == 0, "sigild exits 0 (no sanitizer report)")
done()
