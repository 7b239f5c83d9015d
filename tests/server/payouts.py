"""Cash payouts through WeChat Pay (issue 22) against the real sigild and
the WeChat Pay stand-in (tests/lib/wechatpay_standin.py), which checks
every request's signature and signs every answer and callback:

- a claim with cash is paid end to end: the transfer is created (signed,
  the answer verified), accepted while the user must confirm, and paid
  when the stand-in's callback (signed, its resource AES-256-GCM with the
  APIv3 key) says SUCCESS;
- a request signed with a key WeChat Pay does not hold is refused 401
  SIGN_ERROR: nothing moves, the payout retries with back-off, and is
  paid once the key is right;
- an answer whose signature does not verify (another key, another key's
  serial, a stale timestamp) is not believed: the payout does not move
  on it, not even to PAID when the bill succeeded;
- a callback with a bad signature, or forged, or replayed stale, is
  refused 401 and moves nothing; one whose resource our APIv3 key does
  not open is answered 500 (sent again later);
- 5xx and timeouts (with the bill made or not) are retried with the same
  out_bill_no: one bill at the stand-in;
- a refusal no retry mends (an openid of another app) fails the payout
  after the bill is confirmed absent, and its amount is back in the
  budget; not enough funds is retried until topped up.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import BIN, Env, check, done  # noqa: E402
from payfix import World, wait  # noqa: E402
import wechatpay_standin  # noqa: E402


def bill_of(w, claim_id):
    return w.pay.bill("SG1C%d" % claim_id)


def since(w, t0, op="create", status=None):
    """The stand-in's requests of op since t0 (with status, if given):
    a refused or faulted request may not name its out_bill_no, and the
    test makes one payout at a time."""
    return [r for r in list(w.pay.requests) if r["t"] >= t0 and
            r.get("op") == op and (status is None or r["status"] == status)]


def bills(w, no):
    return [b for b in w.pay.bills() if b["out_bill_no"] == no]


with Env() as env:
    w = World(env, codes=60)
    # --wxpay-api is reached under the --webhook-allow policy
    for url, extra, why in (
            ("ftp://127.0.0.1/", ["--webhook-allow", "127.0.0.1"], "URL"),
            (w.pay.base, [], "loopback without --webhook-allow")):
        r = subprocess.run([os.path.join(BIN, "sigild"), "--data", env.data,
                            "--listen", "127.0.0.1:0", "--wxpay-api", url] +
                           extra, capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and "--wxpay-api" in r.stderr,
              "sigild refuses --wxpay-api %s (%s): %d %s" % (
                  url, why, r.returncode, r.stderr.strip()[-120:]))
    srv = w.start()
    w.configure()
    camp = w.campaign(cash={"fixed": 150}, budget=100000)
    dev, openid = w.customer()
    codes = iter(w.codes)

    # ---- the settings are checked strictly: 400/422, nothing stored ----
    for bad, what in (({"mchid": "12ab"}, "mchid"),
                      ({"appid": "wx123"}, "appid"),
                      ({"serial_no": "not hex"}, "serial_no"),
                      ({"pub_key_id": "KEY_1"}, "pub_key_id"),
                      ({"public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n"
                        "-----END PUBLIC KEY-----\n"}, "public_key"),
                      ({"scene_id": "cash"}, "scene_id"),
                      ({"remark": "x" * 33}, "remark"),
                      ({"surprise": 1}, "surprise")):
        st, d = w.api("PUT", "payments/settings", w.settings(**bad))
        check(st in (400, 422) and what in json.dumps(d),
              "settings with a bad %s refused (%d %s)" % (what, st, d))
    st, d = w.api("GET", "payments/settings")
    check(st == 200 and json.dumps(d).find(w.m.mchid) >= 0,
          "the good settings are still there")

    # ---- end to end: created, accepted (waits for the user), paid ----
    code = next(codes)
    st, d = w.claim(dev, code)
    check(st == 201 and d.get("cash", {}).get("fen") == 150,
          "a claim wins 1.50 yuan (%d %s)" % (st, d))
    cid = d["claim_id"]
    p = w.wait_state(cid, "accepted")
    check(p is not None and p["bill_no"] and p["wx_state"] ==
          "WAIT_USER_CONFIRM", "the transfer is accepted at WeChat Pay, "
          "waiting for the user (%s)" % p)
    b = bill_of(w, cid)
    check(b is not None and b["transfer_amount"] == 150 and
          b["openid"] == openid and b["creates"] == 1,
          "the bill: 150 fen to the customer's openid, asked once (%s)" % b)
    check(b is not None and b["transfer_bill_no"] == p["bill_no"],
          "sigil keeps WeChat's transfer_bill_no")
    w.pay.confirm("SG1C%d" % cid)
    p = w.wait_state(cid, "paid")
    check(p is not None and p["paid_at"], "the callback says SUCCESS: paid")
    check(w.metric("sigil_payouts_paid_total") >= 1 and
          w.metric("sigil_payouts_callbacks_total") >= 1,
          "paid and callbacks counted in /metrics")
    nb = [n for n in w.pay.notifications if n["out_bill_no"] ==
          "SG1C%d" % cid]
    check(nb and nb[-1]["status"] in (200, 204),
          "sigil answered the callback 200/204 (%s)" % nb)

    # ---- a wrong merchant key: 401 SIGN_ERROR, retried, then paid ----
    other = wechatpay_standin.make_merchant(appid=w.m.appid,
                                            mchid=w.m.mchid)
    w.pay.add_merchant(w.m, public_pem=other.pub_pem)
    t0 = time.time()
    st, d = w.claim(dev, next(codes))
    cid = d["claim_id"]
    no = "SG1C%d" % cid
    wait(lambda: len(since(w, t0, status=401)) >= 2, 15)
    # the second refusal is recorded a moment after the stand-in answers
    wait(lambda: w.payout(cid)["attempts"] >= 2, 15)
    refused = since(w, t0)
    p = w.payout(cid)
    check(len(refused) >= 2 and all(r["status"] == 401 for r in refused),
          "requests signed with a key WeChat Pay does not hold: 401, "
          "and retried (%s)" % [r["status"] for r in refused])
    check(p["state"] == "pending" and p["attempts"] >= 2 and
          bill_of(w, cid) is None,
          "the payout stays pending, no bill (%s)" % p)
    w.pay.add_merchant(w.m)     # the right key again
    w.pay.auto_confirm = True
    p = w.wait_state(cid, "paid", timeout=40)
    check(p is not None, "once the key is right it is paid")
    check(len(bills(w, no)) == 1, "one bill")
    w.pay.auto_confirm = False

    # ---- answers that do not verify are not believed ----
    for fault in ("bad_signature", "bad_serial", "stale"):
        bad0 = w.metric("sigil_payouts_bad_signatures_total")
        w.pay.drop_callbacks = True
        w.pay.set_fault(fault)
        t0 = time.time()
        st, d = w.claim(dev, next(codes))
        cid = d["claim_id"]
        no = "SG1C%d" % cid
        wait(lambda: bill_of(w, cid) is not None and
             len(since(w, t0)) >= 2, 15)
        w.pay.confirm(no)       # SUCCESS at WeChat Pay, no callback
        t1 = time.time()
        wait(lambda: len(since(w, t1)) >= 2, 15)
        p = w.payout(cid)
        check(p["state"] == "pending" and not p["bill_no"],
              "%s answers: the payout did not move, not even to paid (%s)"
              % (fault, p))
        check(w.metric("sigil_payouts_bad_signatures_total") > bad0,
              "%s answers counted" % fault)
        w.pay.set_fault(None)
        w.pay.drop_callbacks = False
        p = w.wait_state(cid, "paid", timeout=40)
        check(p is not None and len(bills(w, no)) == 1 and
              bills(w, no)[0]["creates"] >= 3,
              "%s cleared: believed, paid, one bill (asked for %s times)"
              % (fault, bills(w, no) and bills(w, no)[0]["creates"]))

    # ---- callbacks that do not verify move nothing ----
    st, d = w.claim(dev, next(codes))
    cid = d["claim_id"]
    no = "SG1C%d" % cid
    check(w.wait_state(cid, "accepted") is not None, "accepted")
    w.pay.bad_callback_signature = True
    w.pay.confirm(no)
    wait(lambda: any(n["out_bill_no"] == no and n["status"] == 401
                     for n in w.pay.notifications), 10)
    check(any(n["out_bill_no"] == no and n["status"] == 401
              for n in w.pay.notifications),
          "a callback signed with another key: 401")
    check(w.payout(cid)["state"] == "accepted",
          "and the payout did not move")
    url = "http://127.0.0.1:%d/wxpay/notify/1" % w.port
    body = w.pay.callback_body(w.pay.bill_map[(w.m.mchid, no)])
    st = w.pay.post_signed(url, body, bad_signature=True)
    check(st == 401, "a forged callback: 401 (%s)" % st)
    stale = dict(w.pay.signed_headers(body, ts=int(time.time()) - 600))
    stale["Content-Type"] = "application/json"
    st, _, raw = srv.request("POST", "/wxpay/notify/1", body=body,
                             headers=stale)
    check(st == 401 and json.loads(raw)["code"] == "FAIL",
          "a callback signed ten minutes ago (a replay): 401 {code: FAIL}")
    st, _, raw = srv.request("POST", "/wxpay/notify/1", body=body,
                             headers={"Content-Type": "application/json"})
    check(st == 401, "an unsigned callback: 401")
    st, _, _ = srv.request("POST", "/wxpay/notify/1", body=b"x" * 20000,
                           headers={"Content-Type": "application/json"})
    check(st == 413, "a body over the callback's limit: 413 (%d)" % st)
    st, _, _ = srv.request("POST", "/wxpay/notify/abc", body=body,
                           headers={"Content-Type": "application/json"})
    check(st == 404, "a notify URL naming no brand: 404")
    check(w.payout(cid)["state"] == "accepted", "still accepted")
    # signed right, but encrypted with another APIv3 key: sent again later
    real = w.m.apiv3_key
    w.m.apiv3_key = "B" * 32
    body2 = w.pay.callback_body(w.pay.bill_map[(w.m.mchid, no)])
    w.m.apiv3_key = real
    st = w.pay.post_signed(url, body2)
    check(st == 500 and w.payout(cid)["state"] == "accepted",
          "a resource our APIv3 key does not open: 500, nothing moved")
    # the real one, signed right (WeChat Pay's retry): paid
    w.pay.bad_callback_signature = False
    st = w.pay.post_signed(url, body)
    check(st in (200, 204), "the genuine callback: %s" % st)
    check(w.payout(cid)["state"] == "paid", "decrypted, verified: paid")
    st = w.pay.post_signed(url, body)
    check(st in (200, 204) and w.payout(cid)["state"] == "paid",
          "the same callback again: 204, nothing new")

    # ---- 5xx and timeouts: retried with the same out_bill_no ----
    w.pay.auto_confirm = True
    w.pay.hang_s = 12           # beyond sigild's 10 s timeout
    for fault in ("5xx", "5xx_after", "timeout", "timeout_after"):
        w.pay.set_fault(fault, count=1, ops=["create"])
        # no callback: the retry itself must find the bill made
        w.pay.drop_callbacks = fault.endswith("_after")
        t0 = time.time()
        st, d = w.claim(dev, next(codes))
        cid = d["claim_id"]
        no = "SG1C%d" % cid
        p = w.wait_state(cid, "paid", timeout=45)
        n = len(since(w, t0))
        check(p is not None and n >= 2 and len(bills(w, no)) == 1,
            "%s: retried with the same out_bill_no (%d creates), one bill, "
            "paid (%s)" % (fault, n, p and p["state"]))
    w.pay.set_fault(None)
    w.pay.drop_callbacks = False
    check(w.metric("sigil_payouts_retried_total") >= 4,
          "retries counted in /metrics")

    # ---- a refusal no retry mends: failed, its amount back ----
    st, u0 = w.api("GET", "campaigns/%d/cash" % camp)
    dev2, openid2 = w.customer()
    w.pay.refuse_openid(openid2)
    st, d = w.claim(dev2, next(codes))
    cid = d["claim_id"]
    p = w.wait_state(cid, "failed", timeout=20)
    check(p is not None and p["fail_reason"] == "INVALID_REQUEST",
          "an openid WeChat Pay refuses: failed (%s)" % p)
    st, u1 = w.api("GET", "campaigns/%d/cash" % camp)
    check(st == 200 and u1["reserved_fen"] == u0["reserved_fen"],
          "its 150 fen are back in the budget (%s -> %s)" % (
              u0.get("reserved_fen"), u1.get("reserved_fen")))
    check(bill_of(w, cid) is None, "and no bill was ever made")

    # ---- not enough funds: retried, paid once topped up ----
    w.pay.set_balance(w.m.mchid, 0)
    t0 = time.time()
    st, d = w.claim(dev, next(codes))
    cid = d["claim_id"]
    wait(lambda: len(since(w, t0, status=403)) >= 2, 15)
    check(w.payout(cid)["state"] == "pending",
          "NOT_ENOUGH: still pending, retried")
    w.pay.set_balance(w.m.mchid, 10 ** 9)
    check(w.wait_state(cid, "paid", timeout=40) is not None,
          "topped up: paid")
    check(w.metric("sigil_payouts_pending") == 0 and
          w.metric("sigil_payouts_lag_seconds") == 0 and
          w.metric("sigil_payouts_sent_total") >= 10,
          "/metrics: nothing pending, no lag, the sends counted")
    w.stop()
done()
