"""GET /api/v1/customers/{id}/history (issue 19 item 5: the customer
detail view): scans, claims, orders and ledger, each newest first and
paged on its own, against a real sigild with 2,000 customers and
thousands of scans (tests/lib/peoplefix.py). Every section reached whole
through its pages and matching what the customer did; the orders'
addresses for operators only; an erased customer's scans and claims no
longer found; bad input a 400 or 404 that changes nothing; brand
isolation; roles."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
import peoplefix  # noqa: E402

N = int(os.environ.get("PEOPLE_N", "2000"))
SECTIONS = ("scans", "claims", "orders", "ledger")

with Env() as env:
    P = peoplefix.build(env, N)
    srv = P.srv

    def section(cid, name, limit, tok=None):
        got, cur, n = [], None, 0
        while True:
            q = "customers/%d/history?section=%s&limit=%d" % (cid, name,
                                                             limit)
            if cur is not None:
                q += "&before=%d" % cur
            st, d = srv.api("GET", q, tok or P.analyst)
            assert st == 200, (q, st, d)
            assert set(d) == {"customer", name, "next_" + name}, d.keys()
            n += 1
            got += d[name]
            cur = d["next_" + name]
            if cur is None:
                return got, n

    rich = P.ids[0]
    st, first = srv.api("GET", "customers/%d/history" % rich, P.analyst)
    check(st == 200 and first["customer"] == rich and
          all(len(first[s]) == 20 and first["next_" + s] is not None
              for s in SECTIONS),
          "every section's first page of 20, with its next")
    want = {"scans": P.rich_scans, "claims": P.rich_claims,
            "orders": P.rich_orders,
            "ledger": P.rich_claims + P.rich_orders}
    whole = {}
    for s in SECTIONS:
        for limit in (7, 200):
            got, n = section(rich, s, limit)
            ids = [x["id"] for x in got]
            check(len(got) == want[s] and ids == sorted(ids, reverse=True)
                  and len(set(ids)) == len(ids) and
                  n == -(-want[s] // limit),
                  "%s, %d a page: all %d, newest first, none twice (%d in "
                  "%d pages)" % (s, limit, want[s], len(got), n))
        whole[s] = got
        check(first[s] == got[:20], "%s: the first page is its start" % s)
    sc = whole["scans"]
    check(all(x["sku"] in ("W1", "W2") and x["verdict"] == "genuine" and
              x["url"].startswith("https://ACME.EXAMPLE/S/") and
              x["check_id"].startswith("%d-" % x["id"]) for x in sc) and
          sum(1 for x in sc if x["sku"] == "W2") == peoplefix.RICH_SCANS,
          "scans: the customer's own, with product, code and check id")
    cl = whole["claims"]
    check(sum(x["points"] for x in cl) == 100 + 300 * peoplefix.RICH_SCANS
          and all(x["role"] == "consumer" for x in cl) and
          {x["serial"] for x in cl} == {x["serial"] for x in sc},
          "claims: the points and codes the customer claimed")
    st, cu = srv.api("GET", "customers/%d" % rich, P.analyst)
    lg = whole["ledger"]
    check(sum(x["points"] for x in lg) == cu["customer"]["balance"] and
          all(x.get("item_name") == "Cup" for x in lg
              if x["type"] == "redeem"),
          "ledger: adds up to the balance; redemptions name the item")
    od = whole["orders"]
    check([o["id"] for o in od] ==
          sorted(P.order_ids[peoplefix.ORDERS - 1:][1:] + [P.order_ids[0]],
                 reverse=True) and
          all("delivery" not in o and "pickup_code" not in o for o in od),
          "orders: the customer's; no address for an analyst")
    got, _ = section(rich, "orders", 50, P.operator)
    check(all(("delivery" in o) != ("pickup_code" in o) for o in got),
          "an operator sees the address or the pick-up code")

    # An ordinary customer, and one who never claimed.
    k = peoplefix.ORDERS + 5        # claimed, never redeemed
    st, d = srv.api("GET", "customers/%d/history" % P.ids[k], P.analyst)
    check([len(d[s]) for s in SECTIONS] == [1, 1, 0, 1] and
          all(d["next_" + s] is None for s in SECTIONS),
          "customer %d: one scan, one claim, one ledger entry, no order" % k)
    st, d = srv.api("GET", "customers/%d/history" % P.ids[1], P.operator)
    check([len(d[s]) for s in SECTIONS] == [1, 1, 1, 2] and
          d["orders"][0]["id"] == P.order_ids[1] and
          d["ledger"][0]["type"] == "redeem",
          "customer 1: its claim, its redemption and order")
    st, d = srv.api("GET", "customers/%d/history" % P.ids[N - 1], P.analyst)
    check([len(d[s]) for s in SECTIONS] == [1, 0, 0, 0] and
          d["scans"][0]["first_scan"],
          "the last customer: its one (first) scan")
    st, d = srv.api("GET", "customers/%d/history" % P.erased, P.analyst)
    check(st == 200 and d["scans"] == [] and d["claims"] == [] and
          d["orders"] == [], "the erased customer: no scans, claims or "
          "orders are found any more")

    # ---- bad input ----
    st, snap = srv.api("GET", "customers/%d/history?limit=200" % rich,
                       P.analyst)
    for q in ("section=x", "section=", "limit=0", "limit=201", "limit=x",
              "before=5", "section=scans&before=0",
              "section=scans&before=x", "section=ledger%01",
              "limit=" + "1" * 100):
        st, d = srv.api("GET", "customers/%d/history?%s" % (rich, q),
                        P.analyst)
        check(st == 400 and d["error"]["code"] == "bad_query",
              "?%s: 400 bad_query (%d)" % (q[:24], st))
    for path in ("customers/abc/history", "customers/0/history",
                 "customers/99999999/history",
                 "customers/%d/history" % P.beta_customer):
        st, d = srv.api("GET", path, P.analyst)
        check(st == 404, "%s: 404 (%d)" % (path, st))
    st, again = srv.api("GET", "customers/%d/history?limit=200" % rich,
                        P.analyst)
    check(again == snap, "nothing changed")

    # ---- isolation and roles ----
    st, d = srv.api("GET", "customers/%d/history" % rich, P.beta)
    check(st == 404, "beta: acme's customer is not found")
    st, d = srv.api("GET", "customers/%d/history" % P.beta_customer, P.beta)
    check(st == 200 and len(d["scans"]) == 1 and len(d["claims"]) == 1 and
          len(d["orders"]) == 1 and d["orders"][0]["item_name"] == "Mug",
          "beta's customer: its own history")
    for tok in (P.operator, P.admin):
        st, d = srv.api("GET", "customers/%d/history?limit=1" % rich, tok)
        check(st == 200 and len(d["scans"]) == 1, "every role reads it")
    st, _, _ = srv.request("GET", "/api/v1/customers/%d/history" % rich)
    check(st == 401, "no credentials: 401")
    st, d = srv.api("POST", "customers/%d/history" % rich, P.admin, {})
    check(st == 405, "POST: 405 (%d)" % st)
done()
