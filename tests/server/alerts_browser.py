"""The dashboard's campaigns and alerts pages (issue 19 items 3 and 4) in
headless Chromium, in Shanghai time and zh-CN: tests/browser/alerts.js
against the real sigild, with 56 clone alerts (more than a page) and a
PIN file made by `sigil mint --pin`. Screenshots are kept in
build/test-artifacts/."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402

PW = "correct horse battery staple"


def batch(env, sku, lot, count):
    env.sigil("product", "add", "--brand", "acme", "--sku", sku, "--name",
              "Product " + sku, "--max-scanners", "2")
    b = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku", sku,
                             "--count", str(count), "--lot", lot,
                             "--json").stdout)
    env.sigil("batch", "activate", "--batch", str(b["id"]))
    urls = env.sigil("mint", "--batch", str(b["id"]), "--format", "txt",
                     "--out", "-").stdout.split()
    return b["id"], ["/S/" + u.split("/")[-1] for u in urls]


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    _, wine = batch(env, "WINE", "L-WINE", 60)
    tea_id, tea = batch(env, "TEA", "L-TEA", 5)
    env.sigil("mint", "--batch", str(tea_id), "--format", "csv", "--pin",
              "--out", os.path.join(env.dir, "tea-pins.csv"))
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start("--trusted-proxy", "127.0.0.1/32")
    st, _ = srv.api("POST", "distributors", A, {
        "name": "杭州经销商", "territory": {"type": "Polygon", "coordinates": [[
            [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
            [118.0, 27.0]]]}})
    check(st == 201, "a distributor for the territory picker")
    net = [0]

    def clone(path):
        """Three scanners from three networks: one too many for 2."""
        for _ in range(3):
            net[0] += 1
            st, _, _ = srv.scan(path, source="127.%d.%d.1" % (
                net[0] // 250 + 1, net[0] % 250 + 1))
            if st != 200:
                raise RuntimeError("scan %d" % st)

    for i, path in enumerate(wine[:55]):
        clone(path)
        if i == 30:
            clone(tea[0])
    st, doc = srv.api("GET", "alerts?limit=1000", A)
    check(len(doc["alerts"]) == 56, "56 clone alerts (%d)" %
          len(doc["alerts"]))

    base = "http://127.0.0.1:%d" % srv.port
    facts = browser("alerts.js", [base, "ann@acme.test", "ana@acme.test",
                                  ART], PW, checks=20, shots=8)

    # What the pages did, seen through the API.
    st, doc = srv.api("GET", "alerts?status=resolved", A)
    check(st == 200 and len(doc["alerts"]) == 3 and
          all(a["status_by"] and "user" in a["status_by"]
              for a in doc["alerts"]),
          "three alerts resolved in the page, by a dashboard user")
    st, doc = srv.api("GET", "campaigns", A)
    check([c["overridden_by"] for c in doc["campaigns"]] ==
          [None, doc["campaigns"][0]["id"], None],
          "three campaigns, the second overridden by the first")
    srv.stop()
done()
