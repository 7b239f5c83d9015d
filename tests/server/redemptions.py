"""Redemptions counted per campaign (issue 19 item 1), against a real
sigild: a redemption counts for the campaign whose points it spends most
of (oldest points first, as spending and expiry take them), in
GET /api/v1/stats/campaigns' `redemptions` column and in the brand's
total; never for another brand; kept across a restart."""
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402


def day(offset):
    return (datetime.date.today() +
            datetime.timedelta(days=offset)).isoformat()


with Env() as env:
    _, w1 = env.setup_brand("acme", sku="W1", count=4)
    _, w2 = env.setup_brand("acme", sku="W2", count=4, init=False)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, b1 = env.setup_brand("beta", "https://BETA.EXAMPLE", sku="B1",
                            count=2, init=False)
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32")
    ids = {}
    for name, sku, pts in (("spring", "W1", 100), ("summer", "W2", 300)):
        st, c = srv.api("POST", "campaigns", A, {
            "name": name, "skus": [sku], "starts": day(-1),
            "ends": day(30), "points": pts})
        check(st == 201, "campaign %s (%d points)" % (name, pts))
        ids[name] = c["id"]
    st, c = srv.api("POST", "campaigns", B, {
        "name": "beta", "skus": ["B1"], "starts": day(-1), "ends": day(30),
        "points": 100})
    st, item = srv.api("POST", "catalog/items", A, {"name": "Cup",
                                                    "cost": 80})
    check(st == 201, "a catalog item of 80 points")
    st, bitem = srv.api("POST", "catalog/items", B, {"name": "Mug",
                                                     "cost": 50})

    outbox = []

    def otp(phone):
        if not outbox:
            outbox.append(open(os.path.join(env.data, "otp-outbox.log")))
        code = None
        for line in outbox[0]:
            m = re.search(r" phone=86(\d+) code=(\d{6})$", line.strip())
            if m and m.group(1) == phone:
                code = m.group(2)
        return code

    def post(path, body, device, ip):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + device,
             "X-Forwarded-For": ip}
        st, _, raw = srv.request("POST", path, body=body, headers=h)
        return st, json.loads(raw)

    def member(n, code):
        ip = "10.0.0.%d" % n
        _, _, dev = srv.scan(code, headers={"X-Forwarded-For": ip})
        phone = "1390000%04d" % n
        st, d = post("/api/v1/customers/otp", {"phone": phone,
                                                "code": code}, dev, ip)
        st, d = post("/api/v1/customers/verify", {
            "phone": phone, "code": code, "otp": otp(phone)}, dev, ip)
        check(st == 200, "customer %d logged in" % n)
        return dev, ip

    # Customer 1: spring's 100 only; redeems once (80 of spring's).
    d1, ip1 = member(1, w1[0])
    st, d = post("/api/v1/claims", {"code": w1[0]}, d1, ip1)
    check(st == 201 and d["campaign"] == ids["spring"], "1 claims spring")
    st, d = post("/api/v1/redemptions", {"item": item["id"]}, d1, ip1)
    check(st == 201 and d["balance"] == 20, "1 redeems: 20 left")
    # Customer 2: spring 100 then summer 300; the first redemption takes
    # 80 of spring's (oldest first), the second 20 of spring's and 60 of
    # summer's (summer gives most), the third all summer's.
    d2, ip2 = member(2, w1[1])
    st, d = post("/api/v1/claims", {"code": w1[1]}, d2, ip2)
    check(st == 201, "2 claims spring")
    srv.scan(w2[0], device=d2, headers={"X-Forwarded-For": ip2})
    st, d = post("/api/v1/claims", {"code": w2[0]}, d2, ip2)
    check(st == 201 and d["campaign"] == ids["summer"], "2 claims summer")
    for i in range(3):
        st, d = post("/api/v1/redemptions", {"item": item["id"]}, d2, ip2)
        check(st == 201, "2 redeems (%d)" % (i + 1))
    check(d.get("balance") == 160, "2 has 160 left (%s)" % d.get("balance"))
    # Beta: its redemption is beta's.
    d3, ip3 = member(3, b1[0])
    st, d = post("/api/v1/claims", {"code": b1[0]}, d3, ip3)
    st, d = post("/api/v1/redemptions", {"item": bitem["id"]}, d3, ip3)
    check(st == 201, "a beta customer redeems")

    def per_campaign(tok):
        st, d = srv.api("GET", "stats/campaigns", tok)
        check(st == 200, "stats/campaigns answers")
        return {r["campaign"]: r for r in d["campaigns"]}, d

    rows, _ = per_campaign(AN)
    st, ov = srv.api("GET", "stats/overview", AN)
    spring, summer = rows[ids["spring"]], rows[ids["summer"]]
    check(spring["redemptions"] == 2 and summer["redemptions"] == 2,
          "spring 2 (1's and 2's first), summer 2 (2's second and "
          "third): %d, %d" % (spring["redemptions"], summer["redemptions"]))
    check(ov["totals"]["redemptions"] == 4 and
          sum(r["redemptions"] for r in rows.values()) == 4,
          "the brand's 4 redemptions, each counted for one campaign")
    check(spring["claims"] == 2 and summer["claims"] == 1,
          "claims per campaign unchanged")
    brows, _ = per_campaign(B)
    check([r["redemptions"] for r in brows.values()] == [1],
          "beta: its one redemption, on its campaign")

    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    rows, _ = per_campaign(AN)
    check(rows[ids["spring"]]["redemptions"] == 2 and
          rows[ids["summer"]]["redemptions"] == 2,
          "after a restart: the same per campaign")
done()
