"""What held in the December security review, kept as regression tests
(docs/security.md; the review's "What held" list): token forms, methods,
/admin/ traversal, pipelining, JSON edge cases and forged compact codes.
The cross-brand, role, CSRF, XSS and money checks live in brand_api.py,
dashboard.py, browser.py and loyalty.py."""
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done, read_until_close  # noqa: E402


def raw_all(port, data, timeout=3):
    """Sends raw bytes, reads until the server closes; the statuses."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.sendall(data)
    buf = read_until_close(s, timeout)
    return [int(x) for x in re.findall(rb"HTTP/1\.1 (\d{3}) ", buf)]


with Env() as env:
    batch, paths = env.setup_brand(count=10)
    admin = env.token("acme", "admin")
    srv = env.start()
    code = paths[0].rsplit("/", 1)[-1]

    # Token forms: only "Bearer <exact token>" in the header works.
    good = srv.api("GET", "batches", admin)[0]
    check(good == 200, "the admin token itself works (%s)" % good)
    forms = {
        "missing": None,
        "Basic": "Basic " + admin,
        "lower-case bearer": "bearer " + admin,
        "double space": "Bearer  " + admin,
        "upper-cased": "Bearer " + admin.upper(),
        "truncated": "Bearer " + admin[:-1],
        "one character off": "Bearer " + admin[:-1] +
        ("A" if admin[-1] != "A" else "B"),
        "forged": "Bearer sgt_" + "A" * 52,
        "UTF-8": "Bearer " + admin[:-1] + "\u00e9",
    }
    for name, h in forms.items():
        hdrs = {"Accept": "application/json"}
        if h is not None:
            hdrs["Authorization"] = h
        try:
            st, _, _ = srv.request("GET", "/api/v1/batches",
                                   headers=hdrs)
        except (UnicodeEncodeError, ValueError):
            st = 401 if name == "UTF-8" else None
        check(st == 401, "token %s: 401 (%s)" % (name, st))
    st, _, _ = srv.request("GET", "/api/v1/batches?access_token=" + admin,
                           headers={"Accept": "application/json"})
    check(st == 401, "token in the query: 401 (%s)" % st)
    st, _, _ = srv.request("GET", "/api/v1/batches", headers={
        "Cookie": "token=" + admin, "Accept": "application/json"})
    check(st == 401, "token in a cookie: 401 (%s)" % st)
    analyst = env.token("acme", "analyst")
    dead = json.loads(env.sigil("token", "new", "--brand", "acme", "--role",
                                "admin", "--json").stdout)
    env.sigil("token", "revoke", "--brand", "acme", "--key", str(dead["id"]))
    st = srv.api("GET", "batches", dead["token"])[0]
    check(st == 401, "a revoked token: 401 (%s)" % st)
    st = raw_all(srv.port, b"GET /api/v1/products HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Bearer " + admin.encode()[:20] + b"\x00" +
                 admin.encode()[20:] + b"\r\nConnection: close\r\n\r\n")
    check(st == [400], "NUL inside the token: 400, closed (%s)" % st)
    check(srv.api("GET", "batches", analyst)[0] == 200,
          "an analyst token reads")

    # Methods.
    for m in ("TRACE", "CONNECT"):
        st = raw_all(srv.port, m.encode() + b" /healthz HTTP/1.1\r\n"
                     b"Host: x\r\n\r\n")
        check(st[:1] in ([501], [400]), "%s: refused (%s)" % (m, st))
    for m in ("OPTIONS", "PUT", "PATCH", "DELETE"):
        s2, _, _ = srv.request(m, "/healthz")
        check(s2 == 405, "%s /healthz: 405 (%s)" % (m, s2))
    s = socket.create_connection(("127.0.0.1", srv.port), 3)
    s.sendall(b"TRACE / HTTP/1.1\r\nHost: x\r\nX-Echo: secret-canary\r\n"
              b"Connection: close\r\n\r\n")
    out = read_until_close(s)
    check(b"secret-canary" not in out, "TRACE never echoes the request")

    # /admin/ traversal: never a file outside web/admin/.
    for bad in ("/admin/../../etc/passwd", "/admin/%2e%2e/%2e%2e/etc/passwd",
                "/admin/%252e%252e/etc/passwd", "/admin/..\\..\\etc\\passwd",
                "/admin/%00", "/admin/%c0%ae%c0%ae/etc/passwd",
                "/admin/;/../../etc/passwd", "/admin/APP.JS",
                "/admin/..%2f..%2fetc%2fpasswd", "/admin/.%2e/sigild"):
        st, _, body = srv.get(bad)
        check(st in (400, 404) and b"root:" not in body,
              "%s: %s, no file outside web/admin/" % (bad, st))

    # Pipelining: 100 requests answered in order on one connection.
    reqs = b"".join(b"GET /healthz?%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
                    for i in range(99))
    reqs += b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    st = raw_all(srv.port, reqs, timeout=10)
    check(st == [200] * 100, "100 pipelined requests: 100 x 200 (%d)"
          % len(st))

    # JSON edge cases on a consumer body (a scan's location).
    st, doc, dev = srv.scan(paths[1])
    sid = doc["scan_id"]
    loc = "/api/v1/scans/%s/location" % sid
    hdr = {"Cookie": "sg_d=" + dev}
    for bad in (b'{"lat": 1e999, "lng": 1}', b'{"lat": NaN, "lng": 1}',
                b'{"lat": Infinity, "lng": 1}', b'{"lat": 0x1, "lng": 1}',
                b'{"lat": 01, "lng": 1}', b'\xef\xbb\xbf{"lat":1,"lng":1}',
                b'{"lat": 1, "lng": 1} x', b'{"lat": 1, "lng": 1, "lat": 2}',
                b'{"lat": "\\u0000", "lng": 1}', b'{"lat": "\\ud800"}',
                b'{"lat": "\xc0\xaf"}', b"[" * 3000 + b"]" * 3000):
        st, _, _ = srv.request("POST", loc, bad, headers=hdr)
        check(st in (400, 422), "bad JSON %r...: %s" % (bad[:24], st))
    for bad in (b'{"lat": 91, "lng": 1}', b'{"lat": 1, "lng": 181}'):
        st, _, _ = srv.request("POST", loc, bad, headers=hdr)
        check(st in (400, 422), "out-of-range %r: refused (%s)" % (bad, st))

    # Forged compact codes: every single-character change of the tag is
    # counterfeit and leaves the real code's history untouched.
    before = srv.api("GET", "codes/" + code, admin)[1]
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    tried = counterfeit = 0
    for i in range(len(code) - 8, len(code)):
        for ch in alphabet[::5]:
            if ch == code[i]:
                continue
            forged = code[:i] + ch + code[i + 1:]
            st, d, _ = srv.scan("/S/" + forged)
            tried += 1
            counterfeit += st == 200 and d["verdict"] == "counterfeit"
    check(tried > 0 and counterfeit == tried,
          "%d of %d one-character forgeries of the tag: counterfeit"
          % (counterfeit, tried))
    after = srv.api("GET", "codes/" + code, admin)[1]
    check(before == after, "the real code's history is untouched")
    st, d, _ = srv.scan(paths[0])
    check(d["verdict"] == "genuine", "the real code still scans genuine")
    check(srv.stop() == 0, "SIGTERM: exit 0")

done()
