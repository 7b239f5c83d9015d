"""A random-amount campaign's red packets follow the declared distribution
(issue 22): a test build of sigild (FAULT_BIN) started with
SIGIL_CASH_SEED draws from a fixed sequence; for a uniform, a triangular
and a normal prize, the amounts its claims answered are compared with
each amount's exact chance (the whole-fen discretisation cash.h
documents) by a chi-square test at the 0.001 level, bins merged until
each expects 10; none is ever outside [min, max]; and the same statistic
refuses the triangular draws as uniform ones, so the test can fail. The
seed is honoured: a second run with it draws the same amounts; the
release build ignores it."""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402
from cashfix import Phone, cash_campaign, start, wechat  # noqa: E402

FAULT_BIN = os.environ.get("FAULT_BIN")
SEED = "20261208"
N = 1500
LO, HI = 100, 140
PRIZES = (
    ("uniform", {"min": LO, "max": HI, "distribution": "uniform"}),
    ("triangular", {"min": LO, "max": HI, "distribution": "triangular",
                    "mode": 110}),
    ("normal", {"min": LO, "max": HI, "distribution": "normal",
                "mean": 115, "sd": 10}),
)


def tri_cdf(a, c, b, x):
    if x <= a:
        return 0.0
    if x >= b:
        return 1.0
    if x <= c:
        return (x - a) ** 2 / ((b - a) * (c - a))
    return 1 - (b - x) ** 2 / ((b - a) * (b - c))


def phi(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def chance(p, fen):
    """The exact chance of fen under prize p (cash.h's discretisation)."""
    lo, hi = p["min"], p["max"]
    if fen < lo or fen > hi:
        return 0.0
    d = p["distribution"]
    if d == "uniform":
        return 1.0 / (hi - lo + 1)
    if d == "triangular":
        a, b, c = lo, hi + 1, p["mode"] + 0.5
        return tri_cdf(a, c, b, fen + 1) - tri_cdf(a, c, b, fen)
    m, s = p["mean"], p["sd"]
    z = phi((hi + 0.5 - m) / s) - phi((lo - 0.5 - m) / s)
    return (phi((fen + 0.5 - m) / s) - phi((fen - 0.5 - m) / s)) / z


def chi_square(amounts, p):
    """(statistic, degrees of freedom) of amounts against p."""
    n = len(amounts)
    counts = {}
    for a in amounts:
        counts[a] = counts.get(a, 0) + 1
    chi, df, exp, obs = 0.0, -1, 0.0, 0
    for fen in range(p["min"], p["max"] + 1):
        exp += chance(p, fen) * n
        obs += counts.get(fen, 0)
        if exp >= 10 or fen == p["max"]:
            chi += (obs - exp) ** 2 / exp if exp > 0 else (
                1e9 if obs else 0)
            df += 1
            exp, obs = 0.0, 0
    return chi, df


def limit(df):
    """The chi-square quantile at 0.999 (Wilson-Hilferty)."""
    z, k = 3.090, float(df)
    t = 1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))
    return k * t ** 3


def draws(srv, wx, admin, codes, user, n, prize, priority):
    """n claims of a campaign whose one prize is prize: the amounts."""
    cid = cash_campaign(srv, admin, prize, priority=priority,
                        cash={"budget_fen": 10 ** 9})
    phone = Phone(srv, wx, user, "10.20.%d.1" % priority).login()
    out = []
    for _ in range(n):
        st, _, doc = phone.scan_claim(next(codes))
        if st != 201:
            raise RuntimeError("claim %d %r" % (st, doc))
        out.append(doc["cash"]["fen"])
    srv.api("POST", "campaigns/%d/pause" % cid, admin)
    return out


with Env() as env:
    if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN,
                                                        "sigild")):
        check(False, "FAULT_BIN names a FAULT=1 build (got %r)" % FAULT_BIN)
        done()
    wx, paths = wechat(env, N * len(PRIZES) + 200)
    codes = iter(paths)
    rel_bin = sigiltest.BIN
    sigiltest.BIN = FAULT_BIN
    os.environ["SIGIL_CASH_SEED"] = SEED
    srv, admin = start(env, wx)
    got = {}
    for i, (name, prize) in enumerate(PRIZES):
        got[name] = draws(srv, wx, admin, codes, "u" + name, N, prize, i + 1)
        chi, df = chi_square(got[name], prize)
        check(all(LO <= a <= HI for a in got[name]),
              "%s: every amount inside [%d, %d] (%d..%d)" % (
                  name, LO, HI, min(got[name]), max(got[name])))
        check(chi <= limit(df),
              "%s: %d amounts follow the declared distribution "
              "(chi-square %.1f <= %.1f, %d df)" % (name, N, chi, limit(df),
                                                    df))
    chi, df = chi_square(got["triangular"], PRIZES[0][1])
    check(chi > limit(df), "the test has power: the triangular amounts are "
          "not uniform (chi-square %.1f > %.1f)" % (chi, limit(df)))
    mean = sum(got["normal"]) / N
    check(abs(mean - 115) < 2, "normal: the mean near 115 (%.1f)" % mean)

    # the seed replays: a new process draws the same first amounts
    srv.stop()
    srv, admin = start(env, wx)
    again = draws(srv, wx, admin, codes, "again", 20, PRIZES[0][1], 10)
    check(again == got["uniform"][:20],
          "SIGIL_CASH_SEED replays the same draws in a test build")
    srv.stop()
    # the release build ignores it
    sigiltest.BIN = rel_bin
    srv, admin = start(env, wx)
    rel = draws(srv, wx, admin, codes, "rel", 20, PRIZES[0][1], 11)
    check(rel != got["uniform"][:20] and all(LO <= a <= HI for a in rel),
          "the release build ignores SIGIL_CASH_SEED")
    srv.stop()
    del os.environ["SIGIL_CASH_SEED"]
    wx.stop()
done()
