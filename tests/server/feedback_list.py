"""GET /api/v1/feedback, the brand's feedback inbox (issue 19 item 5),
against a real sigild with 2,000 customers made the real way
(tests/lib/peoplefix.py): every entry reached through the pages, newest
first; the filters (rating, sku, since/until in a zone); an erased
customer's text and scan gone; bad input of every kind a clear 400 that
changes nothing; brand isolation; roles; the consumer's POST on the same
path still answered by its own route."""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
import peoplefix  # noqa: E402
from peoplefix import local_day  # noqa: E402

N = int(os.environ.get("PEOPLE_N", "2000"))


with Env() as env:
    P = peoplefix.build(env, N)
    srv = P.srv

    items, npages = peoplefix.pages(srv, "feedback", P.analyst, "feedback",
                                    7)
    want = len(P.feedback)
    check(len(items) == want and npages == (want + 6) // 7,
          "all %d feedback entries in %d pages of 7 (%d got)" % (
              want, npages, len(items)))
    ids = [f["id"] for f in items]
    check(ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids),
          "newest first, no entry twice")
    one, _ = peoplefix.pages(srv, "feedback", P.analyst, "feedback", 1000)
    check([f["id"] for f in one] == ids, "one page of 1,000: the same")
    texts = [f["text"] for f in items]
    check("beta secret" not in texts, "no other brand's feedback")
    # What the fixture wrote, the newest first.
    expect = [e for e in reversed(P.feedback)]
    def as_given(f, e):
        if e[0] == peoplefix.ERASED_AT:     # text and scan cut
            return f["rating"] == e[1] and f["text"] is None and \
                f["sku"] is None
        return f["rating"] == e[1] and f["sku"] == e[3] and f["text"] == e[2]
    wrong = [(f, e) for f, e in zip(items, expect) if not as_given(f, e)]
    check(not wrong, "each entry's rating, text and product as given %s" %
          wrong[:2])
    named = [f for f in items if f["customer"] is not None and
             f["text"] is not None]
    check(all(f["product_name"] in ("Longjing 250 g", "Product W1",
                                    "Tea cup") and f["lot"] is not None and
              f["url"].startswith("https://ACME.EXAMPLE/S/") and
              f["scan"] and "-" in f["scan"] for f in named),
          "names: product, lot, the code's URL and the scan's check id")
    st, code = srv.api("GET", "codes/" + named[0]["scan"], P.analyst)
    check(st == 200, "the scan's check id opens the code's lookup (%d)" % st)
    anon = [f for f in items if f["customer"] is None]
    check(len(anon) == 1 and anon[0]["text"] == "anonymous",
          "a device that never logged in: customer null")
    erased = [f for f in items if f["customer"] == P.erased]
    check(len(erased) == 1 and erased[0]["text"] is None and
          erased[0]["scan"] is None and erased[0]["url"] is None and
          erased[0]["rating"] == peoplefix.ERASED_AT % 5 + 1,
          "the erased customer's entry: rating kept, text and scan gone")
    raw = json.dumps(items)
    check("note %d\"" % peoplefix.ERASED_AT not in raw,
          "the erased text appears nowhere")

    # ---- filters ----
    def ids_of(q, tok=P.analyst):
        got, _ = peoplefix.pages(srv, "feedback?" + q, tok, "feedback", 10)
        return [f["id"] for f in got], got

    for r in range(1, 6):
        got, rows = ids_of("rating=%d" % r)
        check(got == [f["id"] for f in items if f["rating"] == r],
              "rating=%d: %d entries, all of them" % (r, len(got)))
    got, rows = ids_of("sku=W2")
    check(got == [f["id"] for f in items if f["sku"] == "W2"] and got,
          "sku=W2: %d entries" % len(got))
    got, _ = ids_of("sku=W1&rating=3")
    check(got == [f["id"] for f in items if f["sku"] == "W1" and
                  f["rating"] == 3], "sku and rating together")
    # (Yesterday on: the data may have been made before a local midnight.)
    got, _ = ids_of("since=%s&tz=8" % local_day(-1))
    check(got == ids, "since yesterday (UTC+8): everything")
    got, _ = ids_of("since=%s&tz=8" % local_day(1))
    check(got == [], "since tomorrow (UTC+8): nothing")
    got, _ = ids_of("until=%s&tz=8" % local_day(-2))
    check(got == [], "until the day before yesterday (UTC+8): nothing")
    got, _ = ids_of("until=%s&tz=8" % local_day(0))
    check(got == ids, "until today, a date including its day: everything")
    mid = items[len(items) // 2]
    got, _ = ids_of("since=" + urllib.parse.quote(mid["created"]))
    check(got and got[-1] <= mid["id"] and
          all(f["created"] >= mid["created"] for f in items
              if f["id"] in got), "since an instant: from it on")
    got, _ = ids_of("since=%s&until=%s&tz=-5" % (local_day(-1, -5),
                                                  local_day(1, -5)))
    check(got == ids, "a range in UTC-5 around now: everything")

    # ---- bad input: 400 with a code, nothing changed ----
    st, before_sum = srv.api("GET", "customers/summary", P.analyst)
    bad = ["limit=0", "limit=1001", "limit=x", "limit=-1", "before=0",
           "before=abc", "before=-3", "rating=0", "rating=6", "rating=x",
           "rating=", "since=2026-13-01", "since=yesterday",
           "until=2026-02-30", "tz=15", "tz=-13", "tz=+5:3", "tz=8h",
           "since=2026-12-02&until=2026-12-01",
           "since=" + "9" * 200, "rating=5%01", "tz=%E2%80%AE8"]
    for q in bad:
        st, d = srv.api("GET", "feedback?" + q, P.analyst)
        check(st == 400 and isinstance(d, dict) and
              d["error"]["code"] == "bad_query" and d["error"]["message"],
              "?%s: 400 bad_query (%d %s)" % (q[:30], st, str(d)[:80]))
    for q in ("sku=NOPE", "sku=B1"):
        st, d = srv.api("GET", "feedback?" + q, P.analyst)
        check(st == 400 and d["error"]["code"] == "unknown_sku",
              "?%s: 400 unknown_sku (another brand's product too)" % q)
    again, _ = peoplefix.pages(srv, "feedback", P.analyst, "feedback", 1000)
    st, after_sum = srv.api("GET", "customers/summary", P.analyst)
    check(again == one and after_sum == before_sum,
          "after the bad requests nothing changed")

    # ---- brand isolation ----
    bitems, _ = peoplefix.pages(srv, "feedback", P.beta, "feedback", 10)
    check([f["text"] for f in bitems] == ["beta secret"] and
          bitems[0]["sku"] == "B1" and
          bitems[0]["customer"] == P.beta_customer,
          "beta sees its one entry only")
    st, d = srv.api("GET", "feedback?before=%d" % ids[0], P.beta)
    check(st == 200 and [f["text"] for f in d["feedback"]] in
          ([], ["beta secret"]), "beta paging from acme's ids: beta's only")
    st, d = srv.api("GET", "feedback?sku=W1", P.beta)
    check(st == 400 and d["error"]["code"] == "unknown_sku",
          "beta cannot filter by acme's product")

    # ---- roles and the route per method ----
    for tok in (P.analyst, P.operator, P.admin):
        st, d = srv.api("GET", "feedback?limit=1", tok)
        check(st == 200 and len(d["feedback"]) == 1, "every role reads it")
    st, d = srv.api("GET", "feedback")
    check(st == 401, "no credentials: 401 (%d)" % st)
    st, d = srv.api("DELETE", "feedback", P.admin)
    check(st == 405, "DELETE: 405 (%d)" % st)
    st, _, raw = srv.request("POST", "/api/v1/feedback", body={
        "scan_id": "0" * 32, "rating": 3}, headers={
        "Cookie": "sg_d=" + P.devs[1], "Accept": "application/json"})
    check(st == 404 and b"no such scan" in raw,
          "POST on the same path is still the consumer's (%d %s)" % (
              st, raw[:60]))
    st, _, raw = srv.request("POST", "/api/v1/feedback", body={
        "scan_id": P.scan_ids[1], "rating": 4, "text": "late"}, headers={
        "Cookie": "sg_d=" + P.devs[1], "Accept": "application/json",
        "X-Forwarded-For": P.ips[1]})
    st2, d = srv.api("GET", "feedback?limit=1", P.analyst)
    check(st == 201 and d["feedback"][0]["text"] == "late" and
          d["feedback"][0]["customer"] == P.ids[1],
          "new feedback is first in the inbox")
done()
