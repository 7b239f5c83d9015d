"""Campaigns that stack (issue 21, item 2) against the real sigild: a
festival campaign stacked on an always-on one both apply, each paying its
own points from its own budget; exclusive ones take a claim alone (the
higher priority first, an old configuration exclusive at priority 0);
the earning rules (first-scan, registration, birthday, streak, tier
multiplier; the registration bonus by a phone login and by a WeChat
mini-program login through the stand-in; a seller rebate; an audience)
pay once per period; and 200 concurrent claims never take
any campaign past its budget: the customers' ledgers, read back through
/api/v1/me/ledger and told apart by their points, add up per campaign to
at most the budget and exactly to what the campaign says it spent."""
import concurrent.futures
import datetime
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, Outbox, check, done  # noqa: E402
from wechat_standin import StandIn  # noqa: E402

CN = datetime.timezone(datetime.timedelta(hours=8))
MP, MP_SECRET = "wx99aa88bb77cc6655", "fedcba9876543210fedcba9876543210"
NOTICE = {}     # the privacy notice's version, once published
IPS = iter(range(1, 1 << 20))   # each customer its own network


def day(offset):
    d = datetime.datetime.now(CN).date() + datetime.timedelta(days=offset)
    return d.isoformat()


class Customer:
    """One phone, one device, logged in at acme."""

    def __init__(self, srv, box, phone, first_code, **verify):
        self.srv, self.phone = srv, phone
        n = next(IPS)
        self.ip = "10.%d.%d.%d" % (n >> 16, (n >> 8) & 255, n & 255)
        st, _, self.device = srv.scan(first_code,
                                      headers={"X-Forwarded-For": self.ip})
        st, d = self.call("POST", "/api/v1/customers/otp",
                          dict({"phone": phone, "code": first_code},
                               **NOTICE))
        if st != 202:
            raise RuntimeError("otp %d %r" % (st, d))
        body = {"phone": phone, "code": first_code, "otp": box.code(phone)}
        body.update(NOTICE)
        body.update(verify)
        st, d = self.call("POST", "/api/v1/customers/verify", body)
        if st != 200:
            raise RuntimeError("verify %d %r" % (st, d))
        self.id = d["customer"]["id"]
        self.login = d

    def call(self, method, path, body=None):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + self.device,
             "X-Forwarded-For": self.ip}
        st, _, raw = self.srv.request(method, path, body=body, headers=h,
                                      timeout=60)
        try:
            return st, json.loads(raw)
        except ValueError:
            return st, raw

    def scan(self, code):
        self.srv.scan(code, self.device)

    def claim(self, code):
        return self.call("POST", "/api/v1/claims", {"code": code})

    def balance(self):
        return self.call("GET", "/api/v1/me")[1]["customer"]["balance"]

    def ledger(self):
        """Every entry (at most 200 are shown: these customers have fewer)."""
        st, d = self.call("GET", "/api/v1/me/ledger?brand=acme")
        if st != 200 or len(d["entries"]) >= 200:
            raise RuntimeError("ledger %d %r" % (st, d))
        return d["entries"]


def earn_points(c):
    return sorted(e["points"] for e in c.ledger() if e["type"] == "earn")


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    _, fest = env.setup_brand(sku="FEST", count=230, init=False)
    _, excl = env.setup_brand(sku="EXCL", count=10, init=False)
    _, rules = env.setup_brand(sku="RULE", count=30, init=False)
    _, tier = env.setup_brand(sku="TIER", count=10, init=False)
    _, aud = env.setup_brand(sku="AUD", count=10, init=False)
    _, reb = env.setup_brand(sku="REB", count=10, init=False)
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    wx = StandIn()      # WeChat on loopback, for a mini-program login
    wx.add_app(MP, MP_SECRET, "mp")
    wx.start()
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32", "--wechat-api", wx.base,
                    "--wechat-open", wx.base, "--webhook-allow", "127.0.0.1")
    box = Outbox(env.data)
    st, _ = srv.api("PUT", "wechat", A, body={
        "mp": {"appid": MP, "secret": MP_SECRET}})
    check(st == 200, "the brand's mini-program configured")

    def campaign(name, **cfg):
        body = {"name": name, "starts": day(-1), "ends": day(30),
                "points": 10}
        body.update(cfg)
        st, d = srv.api("POST", "campaigns", A, body)
        if st != 201:
            raise RuntimeError("campaign %d %r" % (st, d))
        return d

    def shown(cid):
        return srv.api("GET", "campaigns/%d" % cid, AN)[1]

    # ---- the new fields, checked strictly: 422, nothing written ----
    bad = [
        ({"mode": "both"}, "'mode'"),
        ({"mode": 1}, "'mode'"),
        ({"priority": 1.5}, "'priority'"),
        ({"priority": 2000000}, "'priority'"),
        ({"audience": -1}, "'audience'"),
        ({"first_scan_bonus": -5}, "'first_scan_bonus'"),
        ({"registration_bonus": 1000001}, "'registration_bonus'"),
        ({"birthday_bonus": "10"}, "'birthday_bonus'"),
        ({"seller_rebate": 1.5}, "'seller_rebate'"),
        ({"streak": {"claims": 1, "days": 7, "points": 5}}, "'streak'"),
        ({"streak": {"claims": 3, "days": 0, "points": 5}}, "'streak'"),
        ({"streak": {"claims": 3, "days": 7}}, "'streak'"),
        ({"streak": {"claims": 3, "days": 7, "points": 5, "x": 1}},
         "'streak'"),
        ({"tier_multiplier": {"Gold": 0}}, "'tier_multiplier'"),
        ({"tier_multiplier": {"Gold": "2"}}, "'tier_multiplier'"),
        ({"tier_multiplier": [2]}, "'tier_multiplier'"),
        ({"tier_multiplier": {"": 2}}, "tier_multiplier"),
        ({"stacking": True}, "unknown field"),
    ]
    for extra, says in bad:
        body = {"name": "bad", "skus": ["FEST"], "starts": day(-1),
                "ends": day(30), "points": 10}
        body.update(extra)
        st, d = srv.api("POST", "campaigns", A, body)
        check(st == 422 and d["error"]["code"] == "invalid" and
              says in d["error"]["message"],
              "%s: 422 naming %s (%s %s)" % (json.dumps(extra), says, st,
                                             d.get("error")))
    check(srv.api("GET", "campaigns", AN)[1]["campaigns"] == [],
          "none of them was written")

    # ---- a festival stacked on an always-on campaign: both apply ----
    always = campaign("always-on", skus=["FEST"], points=7, budget=700,
                      mode="stackable")
    festival = campaign("Mid-Autumn", skus=["FEST"], points=11, budget=550,
                        mode="stackable", priority=10, first_scan_bonus=13)
    check(always["mode"] == "stackable" and always["priority"] == 0 and
          festival["priority"] == 10 and festival["overridden_by"] is None
          and festival["overlaps"] == [] and always["overlaps"] == [],
          "stackable campaigns: shown with mode and priority, no overlap")
    c1 = Customer(srv, box, "13700000001", fest[0])
    st, d = c1.claim(fest[0])
    got = sorted((x["campaign"], x["kind"], x["points"]) for x in
                 d.get("credits", []))
    check(st == 201 and d["points"] == 31 and
          d["campaign"] == festival["id"] and got == sorted([
              (festival["id"], "base", 11), (always["id"], "stack", 7),
              (festival["id"], "bonus", 13)]),
          "first claim: festival 11 + always-on 7 + first-scan 13 = 31, "
          "the festival the main one (%s %s)" % (st, d))
    check(d["balance"] == 31 and earn_points(c1) == [7, 11, 13],
          "three EARN entries in the customer's ledger")
    c1.scan(fest[1])
    st, d = c1.claim(fest[1])
    check(st == 201 and d["points"] == 18 and len(d["credits"]) == 2,
          "second claim: 11 + 7, the first-scan bonus once (%s)" % d)
    f = shown(festival["id"])
    check(f["results"]["points"] == 35 and f["results"]["claims"] == 2 and
          f["results"]["bonuses"]["first_scan"] == {"count": 1,
                                                    "points": 13},
          "festival results: 35 points, 2 claims, 1 first-scan bonus (%s)"
          % f["results"])
    a = shown(always["id"])
    check(a["results"]["points"] == 14 and a["results"]["claims"] == 2 and
          a["results"]["budget_left"] == 686, "always-on results: 14 points")

    # ---- exclusive ones take a claim alone ----
    old = campaign("old style", skus=["EXCL"], points=5)
    st, cfg = srv.api("GET", "campaigns/%d" % old["id"], AN)
    check(cfg["mode"] == "exclusive" and cfg["priority"] == 0 and
          "mode" not in cfg["config"],
          "a configuration without mode or priority: exclusive at 0")
    stack = campaign("stack on it", skus=["EXCL"], points=9,
                     mode="stackable", priority=50)
    check(stack["overridden_by"] == old["id"],
          "a stackable campaign under an exclusive one is overridden by it "
          "(%s)" % stack["overridden_by"])
    c2 = Customer(srv, box, "13700000002", excl[0])
    st, d = c2.claim(excl[0])
    check(st == 201 and d["points"] == 5 and d["campaign"] == old["id"] and
          len(d["credits"]) == 1,
          "the exclusive one alone: 5, the stackable one not added (%s)" % d)
    higher = campaign("exclusive, higher", skus=["EXCL"], points=6,
                      mode="exclusive", priority=5)
    check(shown(old["id"])["overridden_by"] == higher["id"],
          "the older exclusive one is now overridden by the higher one")
    c2.scan(excl[1])
    st, d = c2.claim(excl[1])
    check(st == 201 and d["points"] == 6 and d["campaign"] == higher["id"],
          "the higher priority exclusive one takes it (%s)" % d)
    srv.api("POST", "campaigns/%d/pause" % higher["id"], A)
    srv.api("POST", "campaigns/%d/pause" % old["id"], A)
    c2.scan(excl[2])
    st, d = c2.claim(excl[2])
    check(st == 201 and d["points"] == 9 and d["campaign"] == stack["id"],
          "with both paused, the stackable one applies (%s)" % d)
    st, d, _ = srv.scan(excl[3])
    check(d["reward"]["campaign"] == stack["id"] and
          d["reward"]["points"] == 9, "and the scan page offers it")

    # ---- earning rules ----
    rule = campaign("rules", skus=["RULE"], points=10, mode="stackable",
                    registration_bonus=25, birthday_bonus=40,
                    streak={"claims": 3, "days": 7, "points": 17})
    # registration: a login that makes the customer, once
    c3 = Customer(srv, box, "13700000003", rules[0])
    check(c3.login["created"] is True and
          c3.login["registration_bonus"] == 25 and c3.balance() == 25,
          "a new customer's login pays the registration bonus (%s)" %
          c3.login.get("registration_bonus"))
    again = Customer(srv, box, "13700000003", rules[1])
    check(again.login["created"] is False and
          again.login["registration_bonus"] == 0 and c3.balance() == 25,
          "logging in again pays nothing")
    # a WeChat mini-program login that makes the customer pays it too
    for n in (1, 2):
        st, _, raw = srv.request("POST", "/api/v1/wechat/session", body={
            "appid": MP, "code": wx.login_code(MP, "bob")},
            headers={"Accept": "application/json"})
        d = json.loads(raw)
        st, _, raw = srv.request("GET", "/api/v1/me", headers={
            "Accept": "application/json", "Cookie": "sg_d=" +
            d.get("session", "")})
        check(st == 200 and json.loads(raw)["customer"]["balance"] == 25,
              "a WeChat login that made the customer: 25, once (%d)" % n)
    # a streak: the third claim within 7 days, not again in them
    paid = []
    for i in range(2, 7):
        c3.scan(rules[i])
        st, d = c3.claim(rules[i])
        paid.append(d["points"] if st == 201 else st)
    check(paid == [10, 10, 27, 10, 10],
          "streak of 3 claims in 7 days: 17 more on the third only (%s)" %
          paid)
    # a birthday this month (China time): once this year
    st, d = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": "隐私说明", "en": "Notice"}})
    NOTICE["notice_version"] = d["notice"]["version"]
    srv.api("PUT", "privacy/settings", A, {"profile_fields": ["birthday"]})
    c4 = Customer(srv, box, "13700000004", rules[10], grant=["profile"])
    month = datetime.datetime.now(CN).month
    st, _ = c4.call("PUT", "/api/v1/me/profile?brand=acme",
                    {"birthday": "1990-%02d-15" % month})
    check(st == 200, "a birthday in this month saved")
    st, d = c4.claim(rules[10])
    check(st == 201 and d["points"] == 50 and any(
        x.get("bonus") == "birthday" for x in d["credits"]),
        "a claim in the birthday month: 10 + 40 (%s)" % d)
    c4.scan(rules[11])
    st, d = c4.claim(rules[11])
    check(st == 201 and d["points"] == 10, "the birthday bonus once a year")
    c5 = Customer(srv, box, "13700000005", rules[12], grant=["profile"])
    st, _ = c5.call("PUT", "/api/v1/me/profile?brand=acme",
                    {"birthday": "1990-%02d-15" % (month % 12 + 1)})
    st, d = c5.claim(rules[12])
    check(st == 201 and d["points"] == 10,
          "a birthday next month: no bonus now (%s)" % d)
    r = shown(rule["id"])["results"]["bonuses"]
    check(r["registration"]["count"] == 4 and r["birthday"]["count"] == 1
          and r["streak"]["count"] == 1,
          "results count the bonuses by kind (%s)" % r)
    # its registration bonus would pay every later login: paused
    srv.api("POST", "campaigns/%d/pause" % rule["id"], A)

    # ---- audience: a saved segment, judged at claim time ----
    st, seg = srv.api("POST", "segments", A, {
        "name": "50 points or more", "criteria": {"points_min": 50}})
    check(st == 201, "a saved segment (%s %s)" % (st, seg))
    st, d = srv.api("POST", "campaigns", A, {
        "name": "nobody's", "skus": ["AUD"], "starts": day(-1),
        "ends": day(30), "points": 20, "audience": 999})
    check(st == 422 and d["error"]["code"] == "unknown_segment" and
          d["error"]["field"] == "audience",
          "an audience that is no saved segment: 422 unknown_segment")
    vip = campaign("members only", skus=["AUD"], points=20,
                   mode="stackable", audience=seg["id"])
    campaign("everyone", skus=["AUD"], points=3, mode="stackable")
    check(vip["audience"] == seg["id"], "the campaign shows its audience")
    rich, poor = c3, c2
    check(rich.balance() >= 50 and poor.balance() < 50,
          "one customer in the segment, one not")
    rich.scan(aud[0])
    st, d = rich.claim(aud[0])
    check(st == 201 and d["points"] == 23,
          "a member: the audience campaign 20 + everyone's 3 (%s)" % d)
    poor.scan(aud[1])
    st, d = poor.claim(aud[1])
    check(st == 201 and d["points"] == 3 and len(d["credits"]) == 1,
          "not a member: everyone's 3 only (%s)" % d)
    st, d = srv.api("DELETE", "segments/%d" % seg["id"], A)
    check(st == 409 and d["error"]["code"] == "segment_in_use" and
          "campaign %d" % vip["id"] in d["error"]["message"],
          "the segment of a campaign cannot be deleted (%s %s)" % (st, d))

    # ---- a seller rebate, from the campaign's budget ----
    st, d = srv.api("POST", "distributors", A, {
        "name": "East", "territory": {"type": "Polygon", "coordinates": [[
            [120, 30], [122, 30], [122, 32], [120, 32], [120, 30]]]}})
    st, shop = srv.api("POST", "stores", A, {"name": "南京路店",
                                             "distributor": d["id"]})
    check(st == 201, "a store (%s)" % st)
    seller = Customer(srv, box, "13700000020", reb[0])
    st, _ = srv.api("POST", "stores/%d/sellers" % shop["id"], A,
                    {"customer_id": seller.id, "role": "sales"})
    check(st == 201, "a salesperson of the store")
    for code in reb[1:4]:
        seller.scan(code)
        st, _ = seller.call("POST", "/api/v1/seller/bind", {"code": code})
        check(st == 201, "the seller binds an item (%s)" % st)
    rebate = campaign("rebate", skus=["REB"], points=10, seller_rebate=4,
                      budget=26)
    buyer = Customer(srv, box, "13700000021", reb[1])
    st, d = buyer.claim(reb[1])
    check(st == 201 and d["points"] == 10 and len(d["credits"]) == 1,
          "the buyer gets the points, not the rebate (%s)" % d)
    buyer.scan(reb[2])
    st, d = buyer.claim(reb[2])
    check(st == 201 and d["points"] == 10,
          "a second claim: 10 fit the budget, its rebate (4) no longer")
    rebates = [e for e in seller.ledger() if e["type"] == "earn"]
    check([e["points"] for e in rebates] == [4],
          "the seller's ledger: one rebate of 4 (%s)" % rebates)
    r = shown(rebate["id"])["results"]
    check(r["points"] == 24 and r["rebates"] == {"count": 1, "points": 4},
          "rebate results: 24 of 26 spent, one rebate (%s)" % r)
    buyer.scan(reb[3])
    st, d = buyer.claim(reb[3])
    check(st == 422 and d["error"]["code"] == "budget_exhausted",
          "then the budget is spent: 422")

    # ---- tier multiplier ----
    st, _ = srv.api("POST", "settings", A, {"tiers": [
        {"name": "Member", "min": 0}, {"name": "Gold", "min": 30}]})
    check(st == 200, "tiers: Member 0, Gold 30")
    campaign("tiers", skus=["TIER"], points=10,
             tier_multiplier={"Gold": 2.5})
    c6 = Customer(srv, box, "13700000006", tier[0])
    got = []
    for i in range(5):
        c6.scan(tier[i])
        got.append(c6.claim(tier[i])[1]["points"])
    check(got == [10, 10, 10, 25, 25],
          "Member 10 each, Gold (30 points) 10 x 2.5 = 25 (%s)" % got)

    # ---- 200 concurrent claims never pass a budget ----
    people = [Customer(srv, box, "1370001%04d" % i, fest[10 + i * 20])
              for i in range(10)]
    jobs = []
    for i, p in enumerate(people):
        for code in fest[10 + i * 20:10 + (i + 1) * 20]:
            p.scan(code)
            jobs.append((p, code))
    gate = threading.Barrier(len(jobs))

    def fire(job):
        gate.wait()
        return job[0].claim(job[1])

    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as ex:
        results = list(ex.map(fire, jobs))
    codes = [st for st, _ in results]
    paid = set()
    for p in people:
        paid |= {e["ref"] for e in p.ledger() if e["type"] == "earn" and
                 e["points"] in (7, 11)}
    check(set(codes) <= {201, 422} and codes.count(201) == len(paid) and
          codes.count(201) >= 686 // 7,
          "200 concurrent claims: each 201 (%d, as many as the claims the "
          "ledgers were paid for) or 422 (%d)" % (codes.count(201),
                                                  codes.count(422)))
    check(all(d["error"]["code"] == "budget_exhausted" for st, d in results
              if st == 422), "the refusals say budget_exhausted")
    # Every EARN entry of every customer, told apart by points: 7 the
    # always-on's, 11 the festival's, 13 the festival's first-scan bonus.
    sums = {7: 0, 11: 0, 13: 0}
    for p in [c1] + people:
        for pts in earn_points(p):
            sums[pts] += pts
    a = shown(always["id"])["results"]
    f = shown(festival["id"])["results"]
    check(sums[7] == a["points"] and a["points"] == 700,
          "always-on: the ledgers hold %d, it spent %d of 700" %
          (sums[7], a["points"]))
    check(sums[11] + sums[13] == f["points"] and f["points"] <= 550 and
          f["points"] > 550 - 11,
          "festival: the ledgers hold %d, it spent %d of 550" %
          (sums[11] + sums[13], f["points"]))
    check(f["bonuses"]["first_scan"]["count"] <= 11 and
          sums[13] == f["bonuses"]["first_scan"]["points"],
          "first-scan bonuses at most one per customer (%d)" %
          f["bonuses"]["first_scan"]["count"])
    total = sum(p.balance() for p in [c1] + people)
    check(total == sums[7] + sums[11] + sums[13],
          "the balances add up to the ledgers")
    box.close()
    srv.stop()
    wx.stop()

done()
