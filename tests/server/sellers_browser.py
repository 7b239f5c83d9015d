"""The seller's view and the channel page (issue 21 item 5) in headless
Chromium, zh-CN: tests/browser/sellers.js against the real sigild. A
store under a distributor, a seller (导购) in it who opened one case (开箱)
and scanned a second; two consumers claimed items of the first under a
campaign with a seller rebate. The seller's phone sees the bind link on
the scan page of the second case, binds it on the member page, and sees
the store, two opened cases and the two rebates; the admin's channel
page shows the store's and the seller's results, adds a store, and says
a refusal in Chinese; an analyst sees no forms. Screenshots are kept in
build/test-artifacts/sellers-*.png. Afterwards the server says the same:
the second case is bound to the seller."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa
from sigiltest import outbox_code  # noqa: E402

PW = "correct horse battery staple"
BASE = "https://ACME.EXAMPLE"
SQUARE = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)) \
        .isoformat()


with Env() as env:
    _, codes = env.setup_brand(sku="TEA", count=20)
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32")
    case, items, case2 = codes[0], codes[1:9], codes[9]
    st, _ = srv.api("POST", "aggregations", A, {
        "parent": BASE + case, "children": [BASE + p for p in items]})
    check(st == 201, "8 items packed into a case")
    st, _ = srv.api("POST", "aggregations", A, {
        "parent": BASE + case2, "children": [BASE + codes[10]]})
    st, doc = srv.api("POST", "distributors", A, {"name": "华东经销",
                                                  "territory": SQUARE})
    dist = doc["id"]
    st, doc = srv.api("POST", "stores", A, {"name": "南京路店", "city": "上海",
                                            "distributor": dist})
    shop = doc["id"]
    st, doc = srv.api("POST", "campaigns", A, {
        "name": "开箱返利", "skus": ["TEA"], "starts": day(-1),
        "ends": day(30), "points": 10, "seller_rebate": 3})
    check(st == 201, "a campaign with a seller rebate (%s %r)" % (st, doc))

    ipn = [0]

    def post(path, body, dev):
        ipn[0] += 1
        h = {"Accept": "application/json", "Cookie": "sg_d=" + dev,
             "X-Forwarded-For": "10.7.0.%d" % ipn[0]}
        st, _, data = srv.request("POST", path, body=body, headers=h)
        return st, json.loads(data)

    def login(phone, path, dev=None):
        st, _, dev = srv.scan(path, dev)
        post("/api/v1/customers/otp", {"phone": phone, "code": path}, dev)
        st, doc = post("/api/v1/customers/verify",
                       {"phone": phone, "code": path,
                        "otp": outbox_code(env.data, phone)}, dev)
        return dev, doc["customer"]["id"]

    dev_s, seller = login("13600000001", case)
    st, _ = srv.api("POST", "stores/%d/sellers" % shop, A,
                    {"customer_id": seller, "role": "sales"})
    check(st == 201, "the seller assigned to the store")
    st, doc = post("/api/v1/seller/bind", {"code": case}, dev_s)
    check(st == 201, "the seller opened the first case")
    for i, phone in enumerate(["13600000011", "13600000012"]):
        dev_c, _ = login(phone, items[i])
        st, doc = post("/api/v1/claims", {"code": items[i]}, dev_c)
        check(st == 201, "a consumer claims an item of the case")

    base = "http://127.0.0.1:%d" % srv.port
    browser("sellers.js", [base, "ann@acme.test", "ana@acme.test", ART,
                           dev_s, case2, "南京路店"], PW, checks=16, shots=5)

    st, doc = srv.api("GET", "bindings?code=" + BASE + case2, A)
    check(st == 200 and doc["binding"] and doc["binding"]["seller"] ==
          seller and doc["binding"]["store"] == shop,
          "the server: the second case is the seller's (%r)" % doc)
    st, doc = srv.api("GET", "stores", A)
    check(st == 200 and any(s["name"] == "淮海路店" for s in doc["stores"]),
          "the server: the store the page made")
    srv.stop()
done()
