"""The dashboard's audit trail page (issue 19 item 5) in headless
Chromium, in Shanghai time and zh-CN and once in English:
tests/browser/audit.js against the real sigild, with a trail of more than
a page made by the CLI, an admin token, an operator token and a dashboard
user's session. Screenshots are kept in build/test-artifacts/; the CSV
the page downloads is checked against the API."""
import csv
import datetime
import io
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import (ARTIFACTS as ART, Env, admin_login,  # noqa: E402
                       browser, check, done)

PW = "correct horse battery staple"


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


with Env() as env:
    env.setup_brand(count=10)
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    srv = env.start("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit",
                    "0")
    # More than a page: 30 products by the admin token, 12 batches made,
    # activated and some revoked by the operator token.
    for i in range(30):
        st, _ = srv.api("POST", "products", A, {"sku": "P%02d" % i,
                                                "name": "产品 %d" % i})
        check(st == 201 or i > 0, "products made over the API (%d)" % st)
    for i in range(12):
        st, b = srv.api("POST", "batches", OP, {"sku": "P%02d" % i,
                                                "count": 3})
        srv.api("POST", "batches/%d/activate" % b["id"], OP)
        if i % 3 == 0:
            srv.api("POST", "batches/%d/revoke" % b["id"], OP)
    st, camp = srv.api("POST", "campaigns", A, {
        "name": "双十二", "skus": ["W1"], "starts": day(-1), "ends": day(30),
        "points": 10})
    check(st == 201, "a campaign")
    st, sess = admin_login(srv, "ann@acme.test", PW, "10.13")
    cookie, csrf = sess
    st, _ = srv.api("POST", "campaigns/%d/pause" % camp["id"], headers={
        "Cookie": "sg_s=" + cookie, "X-CSRF-Token": csrf,
        "X-Forwarded-For": "10.13.0.7"})
    check(st == 200, "ann pauses it from her session")
    st, doc = srv.api("GET", "audit?limit=1000", A)
    total = len(doc["entries"])
    check(total > 60, "a trail of %d entries" % total)

    base = "http://127.0.0.1:%d" % srv.port
    facts = browser("audit.js", [base, "ann@acme.test", "ana@acme.test",
                                 ART], PW, checks=25, shots=9)

    # The server's side: the downloaded CSV is the API's selection, and
    # reading the trail changed nothing in it.
    st, after = srv.api("GET", "audit?limit=1000", A)
    check(len(after["entries"]) == total,
          "reading and exporting added no entry (%d)" % total)
    st, acts = srv.api("GET", "audit?limit=1000&action=batch_activate", A)
    csv_file = facts.get("csv", {}).get("file")
    got = []
    if csv_file and os.path.exists(csv_file):
        with open(csv_file, encoding="utf-8") as f:
            got = list(csv.reader(io.StringIO(f.read())))[1:]
    check([int(r[0]) for r in got] == [e["seq"] for e in acts["entries"]]
          and len(got) == 13,
          "the page's CSV holds the 13 activations the API lists (12 by "
          "the operator token, the set-up's by the CLI)")
    srv.stop()
done()
