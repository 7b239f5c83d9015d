"""1,000 claims racing on a campaign whose cash budget covers 300 of them
(issue 22), against the real sigild and the WeChat Pay stand-in in
auto-confirm mode (tests/lib/wechatpay_standin.py, set up by cashworld):
50 WeChat customers on 50 networks, 20 codes each, every claim sent at
once from 64 threads. Exactly 300 claims win their 1.00 yuan, the other
700 are answered with their points and "dropped" cash; the campaign's
reserved cash is the budget to the fen; every winning claim ends PAID
with exactly one bill at the stand-in, to its customer's openid, and the
stand-in paid the budget to the fen, no more. Then 400 claims of random
amounts race on a budget of 20,000 fen: never more than the budget is
reserved or paid, and what is reserved is what the claims were told."""
import concurrent.futures
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
from cashworld import MP, CashWorld, day  # noqa: E402

CUSTOMERS, EACH = 50, 20
FEN, COVERS = 100, 300


def claim(w):
    """A claim of (phone, code) as a phone sends it: (phone, code,
    status, answer)."""
    def one(job):
        p, c = job
        st, _, raw = w.srv.request(
            "POST", "/api/v1/claims", body={"code": c}, timeout=60,
            headers={"Accept": "application/json",
                     "Cookie": "sg_d=" + p["device"],
                     "X-Forwarded-For": p["ip"]})
        try:
            return p, c, st, json.loads(raw)
        except ValueError:
            return p, c, st, None
    return one


def race(w, phones, codes_of, threads=64):
    """Every phone's claims of its codes at once."""
    jobs = [(p, c) for p in phones for c in codes_of[id(p)]]
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        return list(ex.map(claim(w), jobs))


def phones_for(w, n, codes, each, tag):
    """n WeChat customers, each on its own network, each having scanned
    its each codes: the phones and {id(phone): its codes}."""
    phones, codes_of = [], {}
    for i in range(n):
        user = "%s%d" % (tag, i)
        device, _ = w.customer(user)
        p = {"device": device, "openid": w.wx.openid(MP, user),
             "ip": "10.%d.%d.1" % (40 + len(tag), i)}
        phones.append(p)
        codes_of[id(p)] = [next(codes) for _ in range(each)]
        for c in codes_of[id(p)]:
            w.srv.scan(c, p["device"], headers={"X-Forwarded-For": p["ip"]})
    return phones, codes_of


def wait(pred, timeout, step=0.5):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            return False
        time.sleep(step)
    return True


def campaign(w, amount, budget):
    st, doc = w.srv.api("POST", "campaigns", w.admin, {
        "name": "race", "skus": ["W1"], "starts": day(-1), "ends": day(30),
        "points": 1, "draw": [{"name": "红包", "odds": 1, "stock": 100000,
                               "cash": amount}],
        "cash": {"budget_fen": budget}})
    if st != 201:
        raise RuntimeError("campaign %d %r" % (st, doc))
    return doc["id"]


def payouts_of(w, campaign):
    """{claim id: payout} of the campaign, as the brand API lists them."""
    st, doc = w.srv.api("GET", "payouts?campaign=%d&limit=1000" % campaign,
                        w.admin)
    return {p["claim_id"]: p for p in doc["payouts"]} if st == 200 else {}


def paid_count(w, campaign):
    u = cash_of(w, campaign) or {}
    return u.get("states", {}).get("paid", {}).get("count")


def cash_of(w, campaign):
    st, d = w.srv.api("GET", "campaigns/%d/cash" % campaign, w.admin)
    return d if st == 200 else None


with Env() as env:
    w = CashWorld(env, count=CUSTOMERS * EACH + 400 + 10, auto_confirm=True)
    w.configure()
    codes = iter(w.red)

    # ---- fixed amounts: the budget covers exactly 300 ----
    camp = campaign(w, {"fixed": FEN}, FEN * COVERS)
    phones, codes_of = phones_for(w, CUSTOMERS, codes, EACH, "a")
    results = race(w, phones, codes_of)
    statuses = [r[2] for r in results]
    check(len(results) == CUSTOMERS * EACH and statuses.count(201) ==
          len(results), "all 1,000 claims answered 201 (%s)" % {
              s: statuses.count(s) for s in set(statuses)})
    won = [r for r in results if r[2] == 201 and r[3]["cash"] and
           r[3]["cash"]["fen"] > 0]
    dropped = [r for r in results if r[2] == 201 and r[3]["cash"] and
               r[3]["cash"]["dropped"]]
    check(len(won) == COVERS and all(r[3]["cash"]["fen"] == FEN
                                     for r in won),
          "exactly %d claims won %d fen (%d)" % (COVERS, FEN, len(won)))
    check(len(dropped) == len(results) - COVERS,
          "the other %d were told the budget is spent (%d)" % (
              len(results) - COVERS, len(dropped)))
    u = cash_of(w, camp)
    check(u is not None and u.get("reserved_fen") == FEN * COVERS,
          "the campaign's reserved cash is the budget to the fen (%s)" % u)

    # every winner paid once, to its customer, the budget to the fen
    ids = {r[3]["claim_id"]: r for r in won}
    wait(lambda: paid_count(w, camp) == COVERS, 180)
    pays = payouts_of(w, camp)
    check(set(pays) == set(ids) and all(p["state"] == "paid" for p in
                                        pays.values()),
          "every winning claim's payout ends paid, no other payout (%s)" %
          cash_of(w, camp))
    bills = [b for b in w.pay.bills()]
    by_no = {}
    for b in bills:
        by_no.setdefault(b["out_bill_no"], []).append(b)
    check(len(bills) == COVERS and all(len(v) == 1 for v in by_no.values()),
          "one bill per winning claim at the stand-in (%d bills, %d "
          "numbers)" % (len(bills), len(by_no)))
    want = {pays[i]["out_bill_no"]: r for i, r in ids.items() if i in pays}
    check(set(by_no) == set(want), "the bills are exactly the winners'")
    check(all(by_no[n][0]["openid"] == want[n][0]["openid"] and
              by_no[n][0]["transfer_amount"] == FEN for n in want
              if n in by_no),
          "each to its customer's openid, 1.00 yuan")
    success = [b for b in bills if b["state"] == "SUCCESS"]
    check(sum(b["transfer_amount"] for b in success) == FEN * COVERS,
          "the stand-in paid %d fen, the budget, no more (%d)" % (
              FEN * COVERS, sum(b["transfer_amount"] for b in success)))
    u = cash_of(w, camp)
    check(u is not None and u.get("reserved_fen") == FEN * COVERS,
          "reserved is still the budget once paid (%s)" % u)

    # ---- random amounts: never over the budget ----
    w.srv.api("POST", "campaigns/%d/pause" % camp, w.admin)
    budget = 20000
    camp2 = campaign(w, {"min": 10, "max": 190, "distribution": "uniform"},
                     budget)
    phones2, codes2 = phones_for(w, 20, codes, 20, "bb")
    results = race(w, phones2, codes2)
    told = sum(r[3]["cash"]["fen"] for r in results
               if r[2] == 201 and r[3]["cash"])
    u = cash_of(w, camp2)
    check(told <= budget and u is not None and
          u.get("reserved_fen") == told,
          "random amounts: %d fen reserved, what the claims were told, "
          "within %d (%s)" % (told, budget, u))
    check(budget - told < 190, "the budget is all but spent (%d left)" %
          (budget - told))
    ids2 = [r[3]["claim_id"] for r in results if r[2] == 201 and
            r[3]["cash"] and r[3]["cash"]["fen"] > 0]
    wait(lambda: paid_count(w, camp2) == len(ids2), 180)
    pays = payouts_of(w, camp2)
    check(set(pays) == set(ids2) and all(p["state"] == "paid" for p in
                                         pays.values()),
          "every random-amount winner's payout ends paid")
    nos = {p["out_bill_no"] for p in pays.values()}
    paid2 = [b for b in w.pay.bills() if b["out_bill_no"] in nos]
    check(len(paid2) == len(ids2) and sum(
        b["transfer_amount"] for b in paid2 if b["state"] == "SUCCESS")
        == told, "each paid once, %d fen in all" % told)
    w.stop()
done()
