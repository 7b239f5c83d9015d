"""The dashboard's segment builder (issue 21 item 1) in headless
Chromium, zh-CN and once in English: tests/browser/segments.js against
the real sigild, with 24 customers made the real way (a scan, a login
granting marketing consent to two in three, a profile with a gender to
every other one). The page counts them live
as criteria are ticked, the counts equal the API's; a segment is saved,
edited, seen by an analyst who may not change it, and deleted.
Screenshots are kept in build/test-artifacts/segments-*.png."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, Outbox, browser, check, done  # noqa

PW = "correct horse battery staple"
N = 24

with Env() as env:
    _, paths = env.setup_brand(count=N + 5)
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit",
                    "0", "--rate-limit", "0", "--otp-per-hour", "100000")
    st, d = srv.api("PUT", "privacy/settings", A, {"profile_fields": [
        "gender", "city"]})
    check(st == 200, "the brand collects gender and city")
    box = Outbox(env.data)

    def post(path, body, dev, ip, method="POST"):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + dev,
             "X-Forwarded-For": ip}
        st, _, raw = srv.request(method, path, body=body, headers=h)
        return st, json.loads(raw) if raw else None

    made = 0
    for i in range(N):
        ip = "10.1.0.%d" % (i + 1)
        _, _, dev = srv.scan(paths[i], headers={"X-Forwarded-For": ip})
        phone = "139%08d" % i
        post("/api/v1/customers/otp", {"phone": phone, "code": paths[i]},
             dev, ip)
        grant = (["marketing"] if i % 3 else []) + \
            (["profile"] if i % 2 == 0 else [])
        st, d = post("/api/v1/customers/verify", {
            "phone": phone, "code": paths[i], "otp": box.code(phone),
            "grant": grant}, dev, ip)
        if st == 200 and i % 2 == 0:
            st, _ = post("/api/v1/me/profile?brand=acme", {
                "gender": ["female", "male"][i // 2 % 2],
                "city": "杭州"}, dev, ip, "PUT")
        made += st == 200
    check(made == N, "%d customers logged in" % made)

    def count(c):
        st, d = srv.api("POST", "segments/count", A, c)
        assert st == 200, (st, d)
        return d["count"]
    total = count({})
    mk = count({"consent": ["marketing"]})
    fem = count({"consent": ["marketing"], "gender": ["female"]})
    check(total == N and 0 < fem < mk < total,
          "the counts differ: %d, %d, %d" % (total, mk, fem))

    base = "http://127.0.0.1:%d" % srv.port
    browser("segments.js", [base, "ann@acme.test", "ana@acme.test", ART,
                            str(total), str(mk), str(fem)], PW, checks=20,
            shots=8)
    st, d = srv.api("GET", "segments", A)
    check(st == 200 and d["segments"] == [],
          "the server agrees: the segment was deleted")
    st, d = srv.api("GET", "audit?action=segment_create", A)
    check(st == 200 and len(d.get("entries", [])) == 1,
          "the dashboard's save is in the audit trail")
    srv.stop()
done()
