"""Cash payouts survive kill -9 (issue 22): 20 rounds of claims with cash
against the real sigild, each ended by kill -9 at a random moment
(claims in flight, transfers in flight, settles in the writer), with the
WeChat Pay stand-in timing out or answering 5xx on a random share of
requests in some rounds (before or after it made the bill), and bills
confirmed or failed at random. Afterwards, with sigild running clean:

- every payout reaches a final state, and every claim has at most one
  bill at the stand-in (each bill is one of sigil's payouts, its amount
  and payee those of the payout);
- sigil's paid payouts are exactly the stand-in's successful bills, its
  failed ones a failed bill or none;
- every failed payout's amount is back in the budget: the campaign's
  reserved cash is exactly the paid amounts, to the fen, and equals what
  the stand-in paid out;
- reconciliation of the day matches the stand-in's records: no
  mismatch, no error.
"""
import concurrent.futures
import http.client
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
from payfix import World, day, wait  # noqa: E402

ROUNDS = 20
rng = random.Random(int(os.environ.get("SEED", "22")))
FAULTS = [None, None, "timeout", "timeout_after", "5xx", "5xx_after"]


def all_payouts(w):
    st, d = w.api("GET", "payouts?limit=1000")
    if st != 200:
        raise RuntimeError("payouts %d %r" % (st, d))
    return d["payouts"]


def settle_some_bills(w, share):
    """Confirms or fails (one in four) up to share of the bills waiting
    for the user."""
    for b in w.pay.bills():
        if b["state"] == "WAIT_USER_CONFIRM" and rng.random() < share:
            if rng.random() < 0.25:
                w.pay.fail(b["out_bill_no"])
            else:
                w.pay.confirm(b["out_bill_no"])


with Env() as env:
    w = World(env, codes=ROUNDS * 45 + 10, seed=rng.randrange(1 << 30))
    w.pay.hang_s = 3            # a hung request: dropped after 3 s
    w.start()
    w.configure()
    camp = w.campaign(cash={"min": 100, "max": 500,
                            "distribution": "uniform"}, budget=10 ** 7)
    devices = [w.customer()[0] for _ in range(4)]
    codes = iter(w.codes)
    answered = 0
    errors = 0

    def one_claim(dev, code):
        try:
            st, d = w.claim(dev, code)
            return st
        except (OSError, http.client.HTTPException):
            return None

    lock = threading.Lock()

    def claimer(stop, seed):
        """Claims one code after another until stop; (201s, cut off)."""
        mine = random.Random(seed)
        ok = cut = 0
        while not stop.is_set():
            with lock:
                code = next(codes, None)
            if code is None:
                break
            st = one_claim(mine.choice(devices), code)
            ok += st == 201
            cut += st is None
            time.sleep(mine.uniform(0.02, 0.2))
        return ok, cut

    for rnd in range(ROUNDS):
        if rnd > 0:
            w.start()
        kind = rng.choice(FAULTS)
        w.pay.set_fault(kind, rate=0.4) if kind else w.pay.set_fault(None)
        stop = threading.Event()
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            futs = [ex.submit(claimer, stop, rng.randrange(1 << 30))
                    for _ in range(3)]
            end = time.time() + rng.uniform(0.3, 2.5)
            while time.time() < end:
                settle_some_bills(w, 0.3)
                time.sleep(0.1)
            # kill -9 while claims, transfers and settles are in flight
            w.srv.proc.send_signal(signal.SIGKILL)
            w.srv.proc.wait()
            stop.set()
            for f in futs:
                ok, cut = f.result()
                answered += ok
                errors += cut
        w.srv.log.close()
    print("claims answered 201: %d, cut off: %d" % (answered, errors))

    # ---- clean: no faults, sigild up, every bill decided ----
    w.pay.set_fault(None)
    w.start()

    def settled():
        settle_some_bills(w, 1.0)
        ps = all_payouts(w)
        return ps if all(p["state"] in ("paid", "failed") for p in ps) \
            else None
    ps = wait(settled, timeout=180, step=1)
    check(ps is not None, "every payout reached paid or failed")
    ps = ps or all_payouts(w)
    check(len(ps) >= answered and len(ps) > 0,
          "every answered claim has its payout (%d payouts, %d answered)"
          % (len(ps), answered))
    by_no = {p["out_bill_no"]: p for p in ps}
    bills = w.pay.bills()
    nos = [b["out_bill_no"] for b in bills]
    check(len(nos) == len(set(nos)) and all(n in by_no for n in nos),
          "every bill is one of sigil's payouts, at most one per claim "
          "(%d bills)" % len(bills))
    check(all(b["transfer_amount"] == by_no[b["out_bill_no"]]["fen"]
              for b in bills), "each bill's amount is its payout's")
    paid = {p["out_bill_no"] for p in ps if p["state"] == "paid"}
    success = {b["out_bill_no"] for b in bills if b["state"] == "SUCCESS"}
    check(paid == success, "sigil's paid payouts are the stand-in's "
          "successful bills (%d, %d)" % (len(paid), len(success)))
    wrong = [(p["out_bill_no"], w.pay.bill(p["out_bill_no"])["state"])
             for p in ps if p["state"] == "failed" and
             w.pay.bill(p["out_bill_no"]) is not None and
             w.pay.bill(p["out_bill_no"])["state"] not in ("FAIL",
                                                            "CANCELLED")]
    check(wrong == [], "every failed payout's bill failed or never was "
          "(%s)" % wrong)
    paid_fen = sum(p["fen"] for p in ps if p["state"] == "paid")
    failed_fen = sum(p["fen"] for p in ps if p["state"] == "failed")
    st, u = w.api("GET", "campaigns/%d/cash" % camp)
    check(st == 200 and u["reserved_fen"] == paid_fen,
          "reserved cash is exactly what was paid: every failed payout's "
          "%d fen are back in the budget (%s, paid %d)" % (
              failed_fen, u.get("reserved_fen"), paid_fen))
    check(sum(b["transfer_amount"] for b in bills if b["state"] ==
              "SUCCESS") == paid_fen,
          "and equal to what the stand-in paid out")
    check(u["states"]["failed"]["fen"] == failed_fen and
          u["states"]["paid"]["fen"] == paid_fen,
          "the campaign's tallies agree (%s)" % u["states"])
    st, r = w.api("POST", "payouts/reconcile?date=" + day(0))
    check(st == 200 and r["mismatched"] == 0 and r["errors"] == 0 and
          r["checked"] == len(ps) and r["matched"] == len(ps),
          "reconciliation matches the stand-in's records (%s)" % r)
    w.stop()
done()
