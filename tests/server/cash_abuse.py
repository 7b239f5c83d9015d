"""Anti-abuse for cash prizes (issue 22) against the real sigild: the
campaign's cash settings checked strictly (422, nothing made); a customer
without a WeChat openid refused 403 wechat_required before the claim, so
the code's reward stays for a WeChat customer; the scan JSON says the red
packet's range; the per-customer and per-device day caps (429 cash_cap
with Retry-After to the end of the China day, nothing paid); the network
velocity per IPv4 address and IPv6 /64 per hour (429 network_limit,
another network still served); the new-identity cool-down (429 cool_down
with Retry-After; the same customer served once old enough, with the
clock of a test build); the score and its reasons (a claim within 2 s of
its scan is "fast"; three customers on one phone "shared_device") and the
hold (score at hold_score, or an amount above hold_above_fen: "held")."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done, outbox_code  # noqa: E402
from cashfix import (Phone, campaign, cash_campaign, payout, start,  # noqa: E402
                     wechat)

FAULT_BIN = os.environ.get("FAULT_BIN")


def retry_after(hdrs):
    for k, v in hdrs.items():
        if k.lower() == "retry-after":
            return int(v)
    return None


def err(doc):
    return (doc or {}).get("error", {}).get("code")


def china_day_left():
    """Seconds until the China day ends."""
    t = time.time() + 8 * 3600
    return 86400 - int(t) % 86400


with Env() as env:
    wx, paths = wechat(env, 120)
    srv, admin = start(env, wx)
    codes = iter(paths)

    # ---- the configuration, strictly ----
    st, before = srv.api("GET", "campaigns", admin)
    prize = {"name": "红包", "odds": 1, "stock": 10}
    for cfg, what in (
            ({"draw": [dict(prize, cash={"fixed": 100})]},
             "a cash prize without a budget"),
            ({"draw": [dict(prize, cash={"fixed": 100})],
              "cash": {"budget_fen": 1000, "velocity": 3}},
             "an unknown key in 'cash'"),
            ({"draw": [dict(prize, cash={"fixed": 100, "x": 1})],
              "cash": {"budget_fen": 1000}}, "an unknown key in a prize's"),
            ({"draw": [dict(prize, cash={"min": 300, "max": 200,
                                         "distribution": "uniform"})],
              "cash": {"budget_fen": 1000}}, "min above max"),
            ({"draw": [dict(prize, cash={"min": 1, "max": 20000001,
                                         "distribution": "uniform"})],
              "cash": {"budget_fen": 10 ** 9}}, "max above 200,000 yuan"),
            ({"draw": [dict(prize, cash={"min": 100, "max": 200,
                                         "distribution": "triangular",
                                         "mode": 201})],
              "cash": {"budget_fen": 1000}}, "mode outside the range"),
            ({"draw": [dict(prize, cash={"min": 100, "max": 200,
                                         "distribution": "normal",
                                         "mean": 99, "sd": 10})],
              "cash": {"budget_fen": 1000}}, "mean outside the range"),
            ({"draw": [dict(prize, cash={"min": 100, "max": 200,
                                         "distribution": "normal",
                                         "mean": 150})],
              "cash": {"budget_fen": 1000}}, "normal without sd"),
            ({"draw": [dict(prize, cash={"fixed": 100.5})],
              "cash": {"budget_fen": 1000}}, "a fen not whole"),
            ({"draw": [dict(prize, cash={"fixed": 100})],
              "cash": {"budget_fen": 1000, "hold_score": 101}},
             "hold_score above 100"),
            ({"draw": [dict(prize, cash={"fixed": 100})],
              "cash": {"budget_fen": 1000, "remark": "x" * 33}},
             "a remark over 32 characters")):
        base = {"name": "bad", "skus": ["W1"], "starts": "2026-01-01",
                "ends": "2027-01-01", "points": 1}
        base.update(cfg)
        st, doc = srv.api("POST", "campaigns", admin, base)
        check(st == 422, "refused: %s (%s %s)" % (what, st, err(doc)))
    st, after = srv.api("GET", "campaigns", admin)
    check(after == before, "the refusals made no campaign")

    # ---- a customer without WeChat: 403 before the claim ----
    cid = cash_campaign(srv, admin, {"fixed": 100},
                        cash={"budget_fen": 100000, "hold_score": 0})
    code = next(codes)
    st, doc, dev = srv.scan(code, headers={"X-Forwarded-For": "10.5.0.1"})
    check(doc["reward"]["cash"] == {"min_fen": 100, "max_fen": 100},
          "the scan JSON shows the red packet (%s)" % doc["reward"].get(
              "cash"))
    h = {"Accept": "application/json", "Cookie": "sg_d=" + dev,
         "X-Forwarded-For": "10.5.0.1"}
    srv.request("POST", "/api/v1/customers/otp", body={
        "phone": "13800138000", "code": code}, headers=h)
    st, _, _ = srv.request("POST", "/api/v1/customers/verify", body={
        "phone": "13800138000", "code": code,
        "otp": outbox_code(env.data, "13800138000")}, headers=h)
    check(st == 200, "a phone customer logged in (%s)" % st)
    st, _, raw = srv.request("POST", "/api/v1/claims", body={"code": code},
                             headers=h)
    import json
    doc = json.loads(raw)
    check(st == 403 and err(doc) == "wechat_required",
          "no openid: 403 wechat_required (%s %s)" % (st, err(doc)))
    alice = Phone(srv, wx, "alice", "10.5.0.2").login()
    st, _, doc = alice.scan_claim(code)
    check(st == 201 and doc["cash"]["fen"] == 100 and
          doc["cash"]["state"] == "pending" and doc["cash"]["held"] is False,
          "the code's red packet was not spent: alice claims it (%s %s)" %
          (st, doc and doc.get("cash")))

    # ---- day caps ----
    cap = cash_campaign(srv, admin, {"fixed": 100},
                        cash={"budget_fen": 100000, "customer_day_fen": 250,
                              "device_day_fen": 300}, priority=10)
    bob = Phone(srv, wx, "bob", "10.6.0.1").login()
    got = [bob.scan_claim(next(codes)) for _ in range(3)]
    check([g[0] for g in got[:2]] == [201, 201] and
          all(g[2]["cash"]["fen"] == 100 for g in got[:2]),
          "bob's first two red packets (%s)" % [g[0] for g in got])
    st, hdrs, doc = got[2]
    ra = retry_after(hdrs)
    check(st == 429 and err(doc) == "cash_cap" and ra is not None and
          abs(ra - china_day_left()) <= 5,
          "bob's third passes his 250 fen a day: 429 cash_cap, Retry-After "
          "to the day's end (%s %s %s)" % (st, err(doc), ra))
    # carol on bob's phone: the device has 200 of its 300 today
    carol = Phone(srv, wx, "carol", "10.6.0.2", device=bob.device).login()
    check(carol.device == bob.device and carol.customer != bob.customer,
          "carol logs in on bob's phone")
    st, _, doc = carol.scan_claim(next(codes))
    check(st == 201 and doc["cash"]["fen"] == 100,
          "carol's first: the device's 300th fen (%s)" % st)
    st, hdrs, doc = carol.scan_claim(next(codes))
    check(st == 429 and err(doc) == "cash_cap" and
          "phone" in doc["error"]["message"],
          "the device's 300 fen a day passed: 429 cash_cap (%s %s)" %
          (st, doc))
    # a third customer on the phone: shared_device in the score
    dave = Phone(srv, wx, "dave", "10.6.0.3", device=bob.device).login()
    c2 = campaign(srv, admin, name="nocap", priority=20,
                  draw=[{"name": "红包", "odds": 1, "stock": 100,
                         "cash": {"fixed": 10}}],
                  cash={"budget_fen": 100000})
    st, _, doc = dave.scan_claim(next(codes))
    check(st == 201, "dave claims on the shared phone (%s)" % st)
    p = payout(srv, admin, doc["claim_id"]) if st == 201 else None
    check(p is not None and "shared_device" in p["reasons"] and
          p["score"] >= 25,
          "its payout's score says shared_device (%s)" % (
              p and (p["score"], p["reasons"]),))
    srv.api("POST", "campaigns/%d/pause" % c2, admin)
    srv.api("POST", "campaigns/%d/pause" % cap, admin)

    # ---- network velocity ----
    vel = cash_campaign(srv, admin, {"fixed": 10}, priority=30,
                        cash={"budget_fen": 100000, "network_per_hour": 3})
    phones = [Phone(srv, wx, "net%d" % i, "2001:db8:77:1::%x" % (i + 1))
              .login() for i in range(5)]
    res = [p.scan_claim(next(codes)) for p in phones[:4]]
    check([r[0] for r in res[:3]] == [201] * 3,
          "three claims from one /64 (%s)" % [r[0] for r in res])
    st, hdrs, doc = res[3]
    ra = retry_after(hdrs)
    check(st == 429 and err(doc) == "network_limit" and ra is not None and
          0 < ra <= 3600,
          "the fourth from the /64 this hour: 429 network_limit, Retry-"
          "After within the hour (%s %s %s)" % (st, err(doc), ra))
    phones[4].ip = "2001:db8:77:2::1"
    st, _, doc = phones[4].scan_claim(next(codes))
    check(st == 201, "another /64 is another network (%s)" % st)
    srv.api("POST", "campaigns/%d/pause" % vel, admin)

    # ---- score and hold ----
    held = cash_campaign(srv, admin, {"fixed": 50}, priority=40,
                         cash={"budget_fen": 100000, "hold_score": 20})
    erin = Phone(srv, wx, "erin", "10.8.0.1").login()
    st, _, fast = erin.scan_claim(next(codes))
    check(st == 201 and fast["cash"]["held"] is True and
          fast["cash"]["state"] == "held",
          "claimed within 2 s of the scan: held (%s %s)" % (st, fast))
    p = payout(srv, admin, fast["claim_id"])
    check(p is not None and p["state"] == "held" and "fast" in p["reasons"]
          and p["score"] >= 20, "its payout waits for the brand, reason "
          "fast (%s)" % (p and (p["state"], p["score"], p["reasons"]),))
    code = next(codes)
    erin.scan(code)
    time.sleep(2.2)
    st, _, slow = erin.claim(code)
    check(st == 201 and slow["cash"]["held"] is False and
          slow["cash"]["state"] == "pending",
          "2 s after the scan, nothing else: paid, not held (%s %s)" %
          (st, slow))
    p = payout(srv, admin, slow["claim_id"])
    check(p is not None and p["state"] != "held" and p["score"] == 0 and
          p["reasons"] == [], "its payout: score 0, no reason (%s)" % (
              p and (p["state"], p["score"], p["reasons"]),))
    srv.api("POST", "campaigns/%d/pause" % held, admin)
    above = cash_campaign(srv, admin, {"min": 100, "max": 200,
                                       "distribution": "uniform"},
                          priority=50, cash={"budget_fen": 100000,
                                             "hold_above_fen": 150})
    fern = Phone(srv, wx, "fern", "10.9.0.1").login()
    seen = []
    for _ in range(12):
        st, _, doc = fern.scan_claim(next(codes))
        if st == 201:
            seen.append((doc["cash"]["fen"], doc["cash"]["held"],
                         doc["claim_id"]))
    check(len(seen) == 12 and all(h == (f > 150) for f, h, _ in seen) and
          any(h for _, h, _ in seen) and not all(h for _, h, _ in seen),
          "held exactly the amounts above hold_above_fen (%s)" %
          [x[:2] for x in seen])
    states = [(payout(srv, admin, c) or {}).get("state") for _, _, c in seen]
    check(all((s == "held") == h for (_, h, _), s in zip(seen, states)),
          "the payouts above it wait for the brand (%s)" % states)
    srv.api("POST", "campaigns/%d/pause" % above, admin)

    # ---- cool-down ----
    cool = cash_campaign(srv, admin, {"fixed": 10}, priority=60,
                         cash={"budget_fen": 100000, "cooldown_hours": 2})
    gus = Phone(srv, wx, "gus", "10.10.0.1").login()
    st, hdrs, doc = gus.scan_claim(next(codes))
    ra = retry_after(hdrs)
    check(st == 429 and err(doc) == "cool_down" and ra is not None and
          7000 < ra <= 7200,
          "a customer made now: 429 cool_down, Retry-After about 2 h "
          "(%s %s %s)" % (st, err(doc), ra))
    if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN,
                                                        "sigild")):
        check(False, "FAULT_BIN names a FAULT=1 build (got %r)" % FAULT_BIN)
    else:
        # a customer made three hours ago (a test build's clock), then
        # today's clock: old enough
        srv.stop()
        sigiltest.BIN = FAULT_BIN
        os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(-3 * 3600)
        srv, admin = start(env, wx)
        hal = Phone(srv, wx, "hal", "10.11.0.1").login()
        srv.stop()
        del os.environ["SIGIL_TEST_CLOCK_SHIFT"]
        srv, admin = start(env, wx)
        hal.srv = srv
        gus.srv = srv
        st, _, doc = hal.scan_claim(next(codes))
        check(st == 201 and doc["cash"]["fen"] == 10,
              "a customer three hours old is past the 2 h cool-down (%s %s)"
              % (st, doc))
        st, _, doc = gus.scan_claim(next(codes))
        check(st == 429 and err(doc) == "cool_down",
              "gus, minutes old, still waits (%s)" % st)
    wx.stop()
done()
