"""A payout WeChat Pay never answered is given up after 24 hours only once
WeChat Pay says no bill exists (issue 22), against the real sigild (the
fault build, its clock moved 25 hours on by SIGIL_TEST_CLOCK_SHIFT) and
the WeChat Pay stand-in (its clock moved alike, so that signatures stay
inside their five-minute window):

- payout A's creates were all answered 5xx before anything was done: a
  day later it is asked after, WeChat Pay has no bill, and it fails
  ("gave_up") with its amount back in the budget;
- payout B's first create made the bill but was answered 5xx, and every
  try after it too: a day later the query finds the bill, and B is not
  failed (its amount stays reserved) but accepted, then paid.

So 24 hours of tries never return to the budget money that WeChat Pay may
still pay.
"""
import os
import signal
import sys
import time as _time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402
from payfix import World, wait  # noqa: E402
import wechatpay_standin  # noqa: E402

FAULT_BIN = os.environ.get("FAULT_BIN")
SHIFT = 25 * 3600


class Shifted:
    """The time module with its clock moved on: the stand-in's."""

    def __init__(self, shift):
        self.shift = shift

    def __getattr__(self, name):
        return getattr(_time, name)

    def time(self):
        return _time.time() + self.shift


def kill(w):
    w.srv.proc.send_signal(signal.SIGKILL)
    w.srv.proc.wait()
    w.srv.log.close()


if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()

with Env() as env:
    w = World(env, codes=10)
    w.start()
    w.configure()
    camp = w.campaign(cash={"fixed": 200}, budget=100000)
    dev, _ = w.customer()

    # B: the bill is made, every answer a 5xx
    w.pay.set_fault("5xx_after", ops=["create"])
    st, d = w.claim(dev, w.codes[0])
    b = d["claim_id"]
    check(wait(lambda: w.pay.bill("SG1C%d" % b) is not None and
               w.payout(b)["attempts"] >= 2, 15),
          "B: the bill exists at WeChat Pay, sigil never heard")
    kill(w)
    # A: nothing done, every answer a 5xx (B's tries too)
    w.pay.set_fault("5xx")
    w.start()
    st, d = w.claim(dev, w.codes[1])
    a = d["claim_id"]
    check(wait(lambda: w.payout(a)["attempts"] >= 2 and
               w.payout(b)["attempts"] >= 3, 15),
          "A and B retried, unanswered")
    check(w.payout(a)["state"] == w.payout(b)["state"] == "pending",
          "both pending")
    st, u0 = w.api("GET", "campaigns/%d/cash" % camp)
    check(u0["reserved_fen"] == 400, "400 fen reserved (%s)" % u0)
    kill(w)

    # ---- a day and an hour later, WeChat Pay answering again ----
    w.pay.set_fault(None)
    wechatpay_standin.time = Shifted(SHIFT)
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(SHIFT)
    sigiltest.BIN = FAULT_BIN
    w.start()
    pa = w.wait_state(a, "failed")
    check(pa is not None and pa["fail_reason"] == "gave_up",
          "A: no bill at WeChat Pay a day later: failed, gave_up (%s)" %
          (pa and pa["fail_reason"]))
    check(w.pay.bill("SG1C%d" % a) is None,
          "A was asked after, never created again")
    pb = w.wait_state(b, "accepted")
    check(pb is not None and pb["bill_no"] ==
          w.pay.bill("SG1C%d" % b)["transfer_bill_no"],
          "B: its bill found by the query: accepted, not failed (%s)" %
          (pb and pb["state"]))
    st, u1 = w.api("GET", "campaigns/%d/cash" % camp)
    check(u1["reserved_fen"] == 200,
          "A's 200 fen back in the budget, B's still reserved (%s)" %
          u1["reserved_fen"])
    w.pay.confirm("SG1C%d" % b)
    check(w.wait_state(b, "paid") is not None, "B paid")
    check(len(w.pay.bills()) == 1 and w.pay.bills()[0]["creates"] >= 2,
          "one bill in all, however many creates asked for it (%s)" %
          [x["creates"] for x in w.pay.bills()])
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
    wechatpay_standin.time = _time
    w.stop()
done()
