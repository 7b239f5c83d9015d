"""Reconciliation of cash payouts against WeChat Pay (issue 22), against
the real sigild and the WeChat Pay stand-in: a day whose bills agree
with sigil reconciles clean; bills the stand-in changes behind sigil's
back (a paid bill turned FAIL, an amount, a transfer number, and the
worst: a bill sigil failed, and returned to the budget, that WeChat Pay
then paid) each raise the brand's payout_mismatch alert on the claimed
code, and are listed; a bill merely further along than sigil (paid at
WeChat Pay while sigil still waits for the callback) is "behind", not a
mismatch; an answer that does not verify is an error, never a
verdict."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
from payfix import World, day  # noqa: E402


def reconcile(w):
    st, d = w.api("POST", "payouts/reconcile?date=" + day(0))
    if st != 200:
        raise RuntimeError("reconcile %d %r" % (st, d))
    return d


def mismatch_alerts(w):
    st, d = w.api("GET", "alerts?type=payout_mismatch")
    check(st == 200, "the alerts list (%d)" % st)
    return d.get("alerts", [])


with Env() as env:
    w = World(env, codes=20)
    w.start()
    w.configure()
    w.campaign(cash={"fixed": 120})
    w.pay.auto_confirm = True
    dev, _ = w.customer()
    codes = iter(w.codes)
    serial = {}
    claims = []
    for _ in range(5):
        code = next(codes)
        st, d = w.claim(dev, code)
        check(st == 201, "claim %d" % st)
        claims.append(d["claim_id"])
    for cid in claims:
        check(w.wait_state(cid, "paid") is not None, "claim %d paid" % cid)
        serial[cid] = w.payout(cid)["serial"]
    # one that failed at WeChat Pay, one still waiting for the user
    w.pay.auto_confirm = False
    st, d = w.claim(dev, next(codes))
    failed = d["claim_id"]
    check(w.wait_state(failed, "accepted") is not None, "accepted")
    w.pay.fail("SG1C%d" % failed)
    check(w.wait_state(failed, "failed") is not None,
          "WeChat Pay says FAIL: failed")
    st, d = w.claim(dev, next(codes))
    waiting = d["claim_id"]
    check(w.wait_state(waiting, "accepted") is not None, "accepted")
    for cid in (failed, waiting):
        serial[cid] = w.payout(cid)["serial"]

    r = reconcile(w)
    check(r["checked"] == 7 and r["matched"] == 7 and r["mismatched"] == 0
          and r["errors"] == 0,
          "a day that agrees reconciles clean (%s)" % r)
    check(mismatch_alerts(w) == [], "and raises no alert")

    # ---- behind sigil's back ----
    a, b, c = claims[0], claims[1], claims[2]
    w.pay.tamper("SG1C%d" % a, state="FAIL", fail_reason="BLOCK_PAYEE")
    w.pay.tamper("SG1C%d" % b, transfer_amount=999)
    w.pay.tamper("SG1C%d" % c, transfer_bill_no="1330000999")
    w.pay.tamper("SG1C%d" % failed, state="SUCCESS")
    # further along, not contradicting: paid, no callback yet
    w.pay.tamper("SG1C%d" % waiting, state="SUCCESS")

    r = reconcile(w)
    got = {(m["claim_id"], m["what"]) for m in r["mismatches"]}
    want = {(a, "state"), (b, "amount"), (c, "bill_no"), (failed, "state")}
    check(r["mismatched"] == 4 and got == want,
          "four mismatches found: %s" % sorted(got))
    check(r["behind"] == 1 and r["matched"] == 2,
          "the bill paid ahead of its callback is behind, not a "
          "mismatch (%s)" % r)
    st_fail = [m for m in r["mismatches"] if m["claim_id"] == failed]
    check(st_fail and st_fail[0]["ours"] == "failed" and
          st_fail[0]["theirs"] == "SUCCESS",
          "a payout failed here but paid there is named (%s)" % st_fail)
    al = mismatch_alerts(w)
    check(sorted(x["serial"] for x in al) ==
          sorted(serial[x] for x in (a, b, c, failed)) and
          all(x["status"] == "new" and x["type"] == "payout_mismatch"
              for x in al),
          "one payout_mismatch alert per contradicted code (%s)" %
          [(x["serial"], x["count"]) for x in al])

    # again: the same alerts, counted again, no new ones
    r = reconcile(w)
    al2 = mismatch_alerts(w)
    check(r["mismatched"] == 4 and len(al2) == 4 and
          all(x["count"] == 2 for x in al2),
          "a second run counts the same alerts again (%s)" %
          [x["count"] for x in al2])

    # ---- answers that do not verify: errors, never verdicts ----
    w.pay.set_fault("bad_signature", ops=["query"])
    r = reconcile(w)
    check(r["errors"] == 7 and r["mismatched"] == 0 and r["matched"] == 0,
          "badly signed answers judge nothing (%s)" % r)
    w.pay.set_fault(None)
    check(len(mismatch_alerts(w)) == 4 and
          all(x["count"] == 2 for x in mismatch_alerts(w)),
          "and raise nothing")

    # ---- bad input: 400, nothing run ----
    for q in ("", "?date=yesterday", "?date=2026-13-01"):
        st, d = w.api("POST", "payouts/reconcile" + q)
        check(st == 400, "reconcile%s: 400 (%d)" % (q, st))
    w.stop()
done()
