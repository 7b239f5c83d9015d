"""The campaign form with stacking and the earning rules (issue 21 item 2)
in headless Chromium, zh-CN and once in English: tests/browser/campaigns.js
against the real sigild. This driver makes a product, the brand's tiers
and a saved segment; the browser fills the form (priority, stackable,
the segment as audience, first-scan, registration and birthday bonuses,
a streak, a factor for one tier, a seller rebate), is refused in Chinese
for a streak without points, saves, finds it listed and edits it.
Afterwards the server says the same, and the campaign stacks as it was
set: a claim of W1 pays its points. Screenshots:
build/test-artifacts/campaigns-*.png."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402

PW = "correct horse battery staple"

with Env() as env:
    _, paths = env.setup_brand("acme", count=5)
    env.sigil("user", "add", "--brand", "acme", "--email", "ann@acme.test",
              "--role", "admin", stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start("--api-rate-limit", "0")
    base = "http://127.0.0.1:%d" % srv.port
    st, _ = srv.api("POST", "settings", A, {"tiers": [
        {"name": "普通 Member", "min": 0}, {"name": "金卡 Gold",
                                            "min": 1000}]})
    check(st == 200, "the brand's tiers: Member, Gold")
    st, seg = srv.api("POST", "segments", A, {
        "name": "沉睡会员", "criteria": {"segment": ["hibernating"]}})
    check(st == 201, "a saved segment to aim at (%s)" % st)

    facts = browser("campaigns.js", [base, "ann@acme.test", ART,
                                     str(seg["id"])], PW, checks=12,
                    shots=5)
    cid = facts.get("campaign")
    st, c = srv.api("GET", "campaigns/%s" % cid, A)
    check(st == 200 and c["mode"] == "exclusive" and c["priority"] == 3 and
          c["audience"] == seg["id"] and c["config"]["streak"] == {
              "claims": 3, "days": 7, "points": 20} and
          c["config"]["tier_multiplier"] == {"金卡 Gold": 1.5} and
          c["config"]["seller_rebate"] == 5 and
          c["results"]["bonuses"]["streak"] == {"count": 0, "points": 0},
          "the server holds the form's campaign, results by bonus kind")
    st, d = srv.api("DELETE", "segments/%d" % seg["id"], A)
    check(st == 409, "its segment is in use by it")
    srv.stop()

done()
