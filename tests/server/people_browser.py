"""The dashboard's customer detail, orders, feedback and exports pages
(issue 19 item 5) in headless Chromium, in Shanghai time and zh-CN and
once in English: tests/browser/people.js does every task through the
pages against a real sigild holding 2,000 customers made the real way
(tests/lib/peoplefix.py); this driver gives it what the server holds,
then checks on the server what the pages changed. Screenshots are kept in
build/test-artifacts/ (people-*.png)."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402
import peoplefix  # noqa: E402

PW = "correct horse battery staple"
N = int(os.environ.get("PEOPLE_N", "2000"))
USERS = [("ann@acme.test", "admin"), ("olly@acme.test", "operator"),
         ("ana@acme.test", "analyst")]

with Env() as env:
    P = peoplefix.build(env, N, users=USERS, password=PW)
    srv = P.srv
    A = P.admin

    def history(cid, section):
        got, cur = [], None
        while True:
            q = "customers/%d/history?section=%s&limit=200" % (cid, section)
            st, d = srv.api("GET", q + ("&before=%d" % cur if cur else ""), A)
            got += d[section]
            cur = d["next_" + section]
            if cur is None:
                return got

    rich = P.ids[0]
    st, cu = srv.api("GET", "customers/%d" % rich, A)
    counts = {s: len(history(rich, s)) for s in ("scans", "claims",
                                                 "orders", "ledger")}
    feedback, _ = peoplefix.pages(srv, "feedback", A, "feedback", 1000)
    orders, _ = peoplefix.pages(srv, "orders", A, "orders", 1000)
    _, _, raw = srv.request("GET", "/api/v1/exports/scans?format=ndjson",
                            headers={"Authorization": "Bearer " + A})
    scans = [json.loads(x) for x in raw.decode().split("\n") if x]
    victim = P.ids[6]
    facts = {
        "rich": rich, "rich_phone": cu["customer"]["phone"],
        "rich_phone_full": "13900000000",
        "rich_created": cu["customer"]["created"],
        "rich_balance": cu["customer"]["balance"],
        "rich_counts": counts,
        "rich_last_scan": history(rich, "scans")[0]["at"],
        "victim": victim,
        "open_orders": len([o for o in orders if o["status"] == "open"]),
        "all_orders": len(orders),
        "order_to_fulfil": P.order_ids[5],
        "feedback": len(feedback),
        "feedback_5_w2": len([f for f in feedback if f["rating"] == 5 and
                              f["sku"] == "W2"]),
        "scans": len(scans),
        "scans_w1_genuine": len([s for s in scans if s["batch"] == 1 and
                                 s["verdict"] == "genuine"]),
        "w1_batch": 1,
        "customers": N,
    }
    check(counts["scans"] > 40 and facts["open_orders"] > 50 and
          facts["feedback"] > 50, "more than a page in every list: %s" %
          json.dumps(counts))
    ffile = os.path.join(env.dir, "facts.json")
    with open(ffile, "w") as f:
        json.dump(facts, f)

    base = "http://127.0.0.1:%d" % srv.port
    out = browser("people.js", [base] + [u[0] for u in USERS] +
                  [ART, ffile], PW, checks=50, shots=20, timeout=600)

    # What the pages did, seen on the server.
    did = out.get("done", {})
    st, v = srv.api("GET", "customers/%d" % victim, A)
    check(did.get("erased") == victim and v["customer"].get("erased"),
          "the customer erased in the page is erased")
    st, d = srv.api("GET", "customers/%d/history" % victim, A)
    check(d["scans"] == [] and d["claims"] == [],
          "its scans and claims no longer name it")
    fb, _ = peoplefix.pages(srv, "feedback", A, "feedback", 1000)
    mine = [f for f in fb if f["customer"] == victim]
    check(len(mine) == 1 and mine[0]["text"] is None and
          "note 6" not in json.dumps(fb), "its feedback text is gone")
    st, d = srv.api("GET", "orders?status=fulfilled", A)
    check([o["id"] for o in d["orders"]] == [P.order_ids[5]] and
          d["orders"][0]["fulfilled"],
          "the order fulfilled in the page, and only it")
    users = {e: i for i, e in enumerate(u[0] for u in USERS)}
    log = srv.logtext()
    check(re.search(r"scan_export brand=1 actor=user:\d+ format=csv lang=zh "
                    r"tz=480", log) and
          re.search(r"scan_export brand=1 actor=user:\d+ format=ndjson", log),
          "the page's exports are logged with the dashboard user")
    check(re.search(r"customer_erase brand=1 customer=%d" % victim, log),
          "the erasure is logged")
    srv.stop()
done()
