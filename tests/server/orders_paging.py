"""GET /api/v1/orders paged (issue 19 item 5: the fulfilment list): limit,
before and next on top of the status filter, against a real sigild with
2,000 customers (tests/lib/peoplefix.py) and their redemption orders:
every order reached through the pages, newest first, none twice, before
and after fulfilment; bad input a 400 that changes nothing; brand
isolation; roles."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
import peoplefix  # noqa: E402

N = int(os.environ.get("PEOPLE_N", "2000"))

with Env() as env:
    P = peoplefix.build(env, N)
    srv = P.srv
    total = len(P.order_ids)

    st, d = srv.api("GET", "orders", P.operator)
    check(st == 200 and len(d["orders"]) == total and d["next"] is None,
          "no limit: all %d orders (up to 1,000), next null" % total)
    full = d["orders"]
    ids = [o["id"] for o in full]
    check(ids == sorted(P.order_ids, reverse=True),
          "newest first, every order the fixture made")
    for limit in (1, 7, 25, total, 1000):
        got, n = peoplefix.pages(srv, "orders", P.operator, "orders", limit)
        check([o["id"] for o in got] == ids and
              n == max(1, -(-total // limit)),
              "limit=%d: every order in %d pages" % (limit, n))
    got, _ = peoplefix.pages(srv, "orders?status=open", P.operator,
                             "orders", 4)
    check([o["id"] for o in got] == ids, "status=open: all, paged")
    # Fulfil every third; the filters page over the rest.
    done_ids = ids[::3]
    for i in done_ids:
        st, d = srv.api("POST", "orders/%d/fulfil" % i, P.operator)
        check(st == 200 and d["status"] == "fulfilled", "order %d fulfilled"
              % i)
    got, _ = peoplefix.pages(srv, "orders?status=fulfilled", P.operator,
                             "orders", 4)
    check([o["id"] for o in got] == done_ids and
          all(o["fulfilled"] for o in got),
          "status=fulfilled: the %d fulfilled, paged" % len(done_ids))
    got, _ = peoplefix.pages(srv, "orders?status=open", P.operator,
                             "orders", 4)
    check([o["id"] for o in got] == [i for i in ids if i not in done_ids],
          "status=open: the rest")
    st, d = srv.api("GET", "orders?limit=3&before=%d" % ids[5], P.operator)
    check([o["id"] for o in d["orders"]] == ids[6:9] and
          d["next"] == ids[8], "before an id: the next older ones")
    st, d = srv.api("GET", "orders?before=%d" % ids[-1], P.operator)
    check(st == 200 and d["orders"] == [] and d["next"] is None,
          "before the oldest: empty, next null")
    deliv = [o for o in full if o["kind"] == "delivery"]
    pick = [o for o in full if o["kind"] == "pickup"]
    check(deliv and pick and all(o["delivery"]["address"] for o in deliv)
          and all(len(o["pickup_code"]) == 8 for o in pick),
          "delivery addresses and pick-up codes shown")

    # ---- bad input ----
    before_all, _ = peoplefix.pages(srv, "orders", P.operator, "orders", 50)
    for q in ("limit=0", "limit=1001", "limit=x", "before=0", "before=x",
              "before=-1", "status=closed", "status=", "status=OPEN",
              "limit=" + "9" * 80, "status=open%01"):
        st, d = srv.api("GET", "orders?" + q, P.operator)
        check(st == 400 and d["error"]["code"] == "bad_query",
              "?%s: 400 bad_query (%d)" % (q[:20], st))
    after_all, _ = peoplefix.pages(srv, "orders", P.operator, "orders", 50)
    check(after_all == before_all, "nothing changed")

    # ---- isolation and roles ----
    st, d = srv.api("GET", "orders", P.beta)
    check(st == 200 and len(d["orders"]) == 1 and
          d["orders"][0]["item_name"] == "Mug", "beta sees its one order")
    st, d = srv.api("GET", "orders?before=%d" % (ids[0] + 1000), P.beta)
    check(len(d["orders"]) == 1, "beta's paging: beta's only")
    st, d = srv.api("POST", "orders/%d/fulfil" % ids[1], P.beta)
    check(st == 404, "beta cannot fulfil acme's order (%d)" % st)
    st, d = srv.api("GET", "orders", P.analyst)
    check(st == 403, "an analyst may not read the list (addresses)")
    st, d = srv.api("GET", "orders?limit=2", P.admin)
    check(st == 200 and len(d["orders"]) == 2, "an admin may")
done()
