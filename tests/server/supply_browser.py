"""The dashboard's products, shipments and packing, catalog and tiers and
webhooks pages, and the code lookup's wording of cases and pallets (issue
19 item 5, review items 10 and 11), in headless Chromium in Shanghai time
and zh-CN (and once in English): tests/browser/supply.js against the real
sigild, with 122 products and 52 shipments (more than a page of each).
Every task is done through the page and read back here from the server.
Screenshots are kept in build/test-artifacts/."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
SCRIPT = os.path.join(ROOT, "tests", "browser", "supply.js")
PW = "correct horse battery staple"
ZJ = {"type": "Polygon", "coordinates": [[[118, 27], [123, 27], [123, 31.5],
                                           [118, 31.5], [118, 27]]]}


def batch(env, sku, count):
    b = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku", sku,
                             "--count", str(count), "--json").stdout)
    env.sigil("batch", "activate", "--batch", str(b["id"]))
    return env.sigil("mint", "--batch", str(b["id"]), "--format", "txt",
                     "--out", "-").stdout.split()


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    for sku, name in [("TEA", "Product TEA"), ("SHIPX", "Shipping stock")]:
        env.sigil("product", "add", "--brand", "acme", "--sku", sku,
                  "--name", name)
    tea = batch(env, "TEA", 30)
    stock = batch(env, "SHIPX", 60)
    batch(env, "TEA", 5)
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start("--api-rate-limit", "0", "--webhook-allow",
                    "127.0.0.0/8")
    for i in range(1, 121):
        st, _ = srv.api("POST", "products", A, {
            "sku": "P-%03d" % i,
            "name": ("绿茶 %d" % i) if i % 10 == 0 else "Tea %d" % i})
        if st != 201:
            raise RuntimeError("product %d: %d" % (i, st))
    dists = []
    for n in ["杭州经销商", "宁波经销商"]:
        st, doc = srv.api("POST", "distributors", A, {"name": n,
                                                      "territory": ZJ})
        dists.append(doc["id"])
    for i in range(52):
        st, doc = srv.api("POST", "shipments", A, {
            "distributor": dists[1] if i in (5, 6) else dists[0],
            "codes": [stock[i]]})
        if st != 201:
            raise RuntimeError("shipment %d: %d" % (i, st))
    st, _ = srv.api("POST", "shipments/1/receive", A)
    check(st == 200, "shipment 1 received before the page")

    base = "http://127.0.0.1:%d" % srv.port
    r = subprocess.run(["node", SCRIPT, base, "ann@acme.test",
                        "ana@acme.test", ART, json.dumps({"tea": tea})],
                       capture_output=True, text=True, timeout=400,
                       env=dict(os.environ, SIGIL_TEST_PASSWORD=PW))
    lines = r.stdout.strip().split("\n")
    if r.returncode != 0:
        print(r.stdout[-4000:], r.stderr[-3000:])
    checks = [x for x in lines[:-1] if x.startswith(("ok", "FAIL"))]
    check(len(checks) >= 50, "the browser ran all checks (%d)" % len(checks))
    for line in checks:
        check(line.startswith("ok"), "browser: " + line[5:])
    try:
        facts = json.loads(lines[-1])
    except ValueError:
        facts = {"failures": -1}
    check(r.returncode == 0 and facts.get("failures") == 0,
          "supply.js: every step passed")
    check(len(facts.get("shots", [])) >= 15 and all(
        os.path.getsize(f) > 5000 for f in facts.get("shots", [])),
        "screenshots kept in build/test-artifacts/")

    # What the pages did, seen through the API.
    st, doc = srv.api("GET", "products/NEW-1", A)
    check(st == 200 and doc["name"] == "新品 白茶 特级" and
          doc["max_scanners"] == 7, "the product made and renamed in the page")
    st, doc = srv.api("GET", "shipments?limit=1", A)
    s = doc["shipments"][0]
    check(s["id"] == 53 and s["codes"] == 3 and s["received_at"] and
          s["distributor_name"] == "宁波经销商",
          "the shipment made and received in the page")
    st, doc = srv.api("GET", "codes/" + tea[10].split("/S/")[1], A)
    check(doc["children"] == 2 and doc["parents"] == [],
          "the case holds two, the pallet was unpacked")
    st, doc = srv.api("GET", "catalog/items", A)
    check([i["name"] for i in doc["items"]] == ["品鉴杯"],
          "the catalog item added in the page")
    st, doc = srv.api("GET", "settings", A)
    check(len(doc["tiers"]) == 3 and doc["tiers"][0]["min"] == 0,
          "the tiers saved in the page")
    st, doc = srv.api("GET", "webhooks", A)
    check(doc["webhooks"] == [], "the webhook deleted in the page")
    srv.stop()
done()
