"""Every dashboard page, reached through the nav, against the real sigild
with a brand that has something on every page (scans and a fake, a
campaign, a customer who claimed and ordered with a delivery address,
feedback, a distributor and a shipment, a webhook, audit entries):
zh-CN in Asia/Shanghai at 1440x900 and on the 1024x768 tablet, English
once, and an analyst (who sees fewer pages). Each page draws without an
error, fits the width, shows no English server message in zh-CN, and is
kept as build/test-artifacts/sweep-*.png (tests/browser/sweep.js)."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import (ARTIFACTS as ART, Env, browser, check, done,  # noqa: E402
                       outbox_code)

PW = "correct horse battery staple"
ADMIN_PAGES = ["overview", "campaigns", "payouts", "messages", "catalog",
               "orders", "editor", "alerts", "geo", "lookup", "distributors",
               "sellers", "shipments", "products", "batches", "customers",
               "segments", "feedback", "exports", "webhooks", "notify",
               "users", "wechat", "privacy", "retention", "audit"]
HANGZHOU = [[[118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
             [118.0, 27.0]]]


def day(offset):
    return (datetime.date.today() +
            datetime.timedelta(days=offset)).isoformat()


def flip(path):
    return path[:-1] + ("0" if path[-1] != "0" else "1")


with Env() as env:
    _, codes = env.setup_brand("acme", sku="TEA", count=12)
    for email, role in (("admin@acme.test", "admin"),
                        ("analyst@acme.test", "analyst")):
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32")

    st, c = srv.api("POST", "campaigns", A, {
        "name": "春季扫码有礼", "skus": ["TEA"], "starts": day(-1),
        "ends": day(30), "points": 100})
    check(st == 201, "a running campaign")
    st, item = srv.api("POST", "catalog/items", A, {"name": "品鉴杯",
                                                    "cost": 50})
    check(st == 201, "a catalog item")
    st, dist = srv.api("POST", "distributors", A, {
        "name": "杭州茶叶贸易有限公司", "territory": {
            "type": "Polygon", "coordinates": HANGZHOU}})
    check(st == 201, "a distributor with a territory")
    st, ship = srv.api("POST", "shipments", A, {"distributor": dist["id"],
                                                "codes": codes[6:9]})
    check(st == 201, "a shipment")
    st, hook = srv.api("POST", "webhooks", A, {
        "url": "https://crm.acme.example/sigil", "events": ["scan"]})
    check(st == 201, "a webhook")

    # A customer: scan, phone login, claim, an order with an address,
    # feedback on the scan.
    ip = "10.0.0.7"
    st, scan, dev = srv.scan(codes[0], headers={"X-Forwarded-For": ip})
    h = {"Accept": "application/json", "Cookie": "sg_d=" + dev,
         "X-Forwarded-For": ip}

    def post(path, body):
        st, _, raw = srv.request("POST", path, body=body, headers=h)
        return st, json.loads(raw) if raw else {}
    phone = "13900000007"
    post("/api/v1/customers/otp", {"phone": phone, "code": codes[0]})
    otp = outbox_code(env.data, phone)
    st, _ = post("/api/v1/customers/verify", {"phone": phone,
                                              "code": codes[0], "otp": otp})
    check(st == 200, "a customer logged in")
    st, _ = post("/api/v1/claims", {"code": codes[0]})
    check(st == 201, "the customer claimed")
    st, order = post("/api/v1/redemptions", {"item": item["id"], "delivery": {
        "name": "张三", "phone": "13800138000",
        "address": "浙江省杭州市西湖区文三路 1 号"}})
    check(st == 201, "an order with a delivery address (%d)" % st)
    st, _ = post("/api/v1/feedback", {"scan_id": scan["scan_id"],
                                      "rating": 5, "text": "茶香浓郁"})
    check(st in (200, 201), "feedback on the scan (%d)" % st)
    for p in codes[1:5]:
        srv.scan(p)
    st, fake, _ = srv.scan(flip(codes[5]))
    check(fake["verdict"] == "counterfeit", "a fake of acme's key")

    base = "http://127.0.0.1:%d" % srv.port
    runs = (("admin@acme.test", "Asia/Shanghai", "zh-CN", "1440x900",
             ADMIN_PAGES),
            ("admin@acme.test", "Asia/Shanghai", "zh-CN", "1024x768",
             ADMIN_PAGES),
            ("admin@acme.test", "Asia/Shanghai", "en-US", "1440x900",
             ADMIN_PAGES),
            ("analyst@acme.test", "Asia/Shanghai", "zh-CN", "1440x900",
             ADMIN_PAGES))
    for email, tz, locale, size, pages in runs:
        browser("sweep.js", [base, email, ART, tz, locale, size] + pages, PW,
                shots=-len(pages), timeout=600,
                label="%s %s %s: " % (email, locale, size))
    srv.stop()
done()
