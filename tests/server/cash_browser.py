"""Cash rewards in headless Chromium (issue 22): tests/browser/payouts.js
against the real sigild, WeChat and WeChat Pay being stand-ins on
loopback.

The customer's phone (WeChat's browser, its WeixinJSBridge a fake that
records what the page asks of it and has the stand-in pay): the scan
page of a code not yet claimed claims it and shows 红包 ¥1.88 with its
state, 处理中 then 待确认收款 once WeChat Pay holds the bill; 确认收款
hands WeChat's JSAPI requestMerchantTransfer the bill's {mchId, appId,
package}; the page then says 已到账. An English phone reads the same in
English; outside WeChat no confirm button shows. The member page lists
the customer's cash with each state.

The dashboard (zh-CN, then English): the cash page shows each campaign's
budget and states, the hold queue (an admin approves one and rejects
another through the page's own dialog), the statement CSV (WeChat Pay's
transfer-bill columns), the settings with the key's fingerprint, never
the key; the customer page lists her red packets; an analyst sees no
approve, no statement, no settings.
Afterwards the server says the same. Screenshots are kept in
build/test-artifacts/cash-*.png."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa
from cashworld import CashWorld  # noqa: E402

PW = "correct horse battery staple"

with Env() as env:
    w = CashWorld(env, users=[("ann@acme.test", "admin"),
                              ("ana@acme.test", "analyst")], password=PW)
    w.configure()
    red_id, big_id = w.campaigns()
    alice, alice_id = w.customer("alice")
    bob, _ = w.customer("bob")
    # alice's first claim from the API; her second from the page
    st, doc = w.claim(alice, w.red[0])
    check(st == 201 and doc["cash"]["fen"] == 188, "alice claims 1.88")
    first = doc["claim_id"]
    held = []
    for p in w.big[:2]:
        st, doc = w.claim(bob, p)
        check(st == 201 and doc["cash"]["held"], "bob's 8.88 is held")
        held.append(doc["claim_id"])
    w.wait("alice's first payout is at WeChat Pay",
           lambda: w.srv.api("GET", "payouts/%d" % first,
                             w.admin)[1]["state"] == "accepted")

    base = "http://127.0.0.1:%d" % w.srv.port
    facts = browser("payouts.js", [
        base, "ann@acme.test", "ana@acme.test", ART, alice, w.red[1],
        w.red[0], w.pay.base, w.merchant.mchid, w.merchant.appid,
        json.dumps(held), str(alice_id)], PW, checks=22, shots=7)

    # the server agrees with what the pages did
    mine = [p for p in w.payouts(query="?customer=%d" % alice_id)]
    check(len(mine) == 2 and all(p["state"] == "paid" for p in mine),
          "alice's two payouts are paid (%r)" %
          [(p["claim_id"], p["state"]) for p in mine])
    states = sorted(w.srv.api("GET", "payouts/%d" % c, w.admin)[1]["state"]
                    for c in held)
    check(states in (["accepted", "rejected"], ["pending", "rejected"]),
          "one held payout approved, one rejected (%r)" % states)
    bills = w.pay.bills()
    check(len(bills) == 3 and all(b["creates"] == 1 for b in bills),
          "three transfers at WeChat Pay, each asked for once (%r)" %
          [(b["out_bill_no"], b["creates"]) for b in bills])
    w.stop()
done()
