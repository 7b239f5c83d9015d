"""GET /api/v1/customers?tier=&segment=&role= over 2,000+ customers made the
real way (tests/lib/peoplefix.py: scan, one-time code, login, claims,
redemptions, an erasure): each filter, alone and combined, paged with
`limit`/`next`, holds exactly the customers the unfiltered list shows
with that tier, segment and role (erased ones left out), none twice and
none missed, and as many as GET /customers/summary counts; a page of a
sparse filter looks at no more than 1,000 customers (it may be short,
with a `next`); bad filters are 422 `invalid`; every role may read;
another brand sees none of acme's customers."""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
import peoplefix  # noqa: E402

SEGMENTS = ["champions", "loyal", "new", "promising", "at_risk",
            "hibernating"]

with Env() as env:
    P = peoplefix.build(env, n=2000, extra=50)
    srv = P.srv
    # Staff roles: a few retailers and sales reps.
    RETAIL = P.ids[10:17]
    SALES = P.ids[20:23] + [P.ids[0]]
    for cid, role in [(c, "retailer") for c in RETAIL] + \
            [(c, "sales") for c in SALES]:
        st, d = srv.api("POST", "customers/%d/role" % cid, P.admin,
                        {"role": role})
        assert st == 200, (st, d)

    everyone, npages = peoplefix.pages(srv, "customers", P.analyst,
                                       "customers", 1000, cursor="after")
    ids = [c["id"] for c in everyone]
    check(len(everyone) == 2000 and len(set(ids)) == 2000 and
          ids == sorted(ids) and npages >= 2,
          "the unfiltered list: 2,000 customers in %d pages" % npages)
    live = [c for c in everyone if not c.get("erased")]
    check(len(live) == 1999, "one of them erased")
    st, summary = srv.api("GET", "customers/summary", P.analyst)
    check(st == 200 and summary["total"] == 2000, "summary total 2,000")

    def walk(q, limit=100, token=None):
        got, after, pages, short = [], None, 0, 0
        while True:
            path = "customers?limit=%d&%s" % (limit, q)
            if after is not None:
                path += "&after=%d" % after
            st, d = srv.api("GET", path, token or P.analyst)
            assert st == 200, (path, st, d)
            got += d["customers"]
            pages += 1
            if d["next"] is None:
                return got, pages, short
            short += len(d["customers"]) < limit
            assert d["next"] > (after or 0), "next goes forward"
            after = d["next"]

    def want(seg=None, tier=None, role=None):
        return [c["id"] for c in live
                if (seg is None or c["segment"] == seg) and
                (tier is None or c["tier"] == tier) and
                (role is None or c.get("role", "consumer") == role)]

    # Each segment (champions: customer 0, the rich one; most are new).
    for seg in SEGMENTS:
        got, pages, short = walk("segment=" + seg)
        gids = [c["id"] for c in got]
        check(gids == want(seg=seg) and
              all(c["segment"] == seg for c in got) and
              len(gids) == summary["segments"][seg],
              "segment=%s: %d customers in %d pages (%d short), as the "
              "summary counts" % (seg, len(gids), pages, short))
    got, pages, short = walk("segment=champions", limit=1000)
    check([c["id"] for c in got] == [P.ids[0]] and pages >= 2,
          "a sparse filter (one champion in 2,000) answers a page per "
          "1,000 customers looked at, with next: %d pages" % pages)
    # Each tier (the rich customer is Gold, the claimers Bronze).
    for tier in summary["tiers"]:
        got, pages, _ = walk("tier=" + urllib.parse.quote(tier),
                             limit=500)
        gids = [c["id"] for c in got]
        check(gids == want(tier=tier) and
              len(gids) == summary["tiers"][tier],
              "tier=%s: %d customers in %d pages" % (tier, len(gids),
                                                     pages))
    # Roles, and every combination of the three with a hit.
    st, summary = srv.api("GET", "customers/summary", P.analyst)
    everyone, _ = peoplefix.pages(srv, "customers", P.analyst, "customers",
                                  1000, cursor="after")
    live = [c for c in everyone if not c.get("erased")]
    for role, who in (("retailer", RETAIL), ("sales", SALES)):
        got, _, _ = walk("role=" + role)
        check(sorted(c["id"] for c in got) == sorted(who) and
              len(got) == summary["roles"][role],
              "role=%s: the %d set" % (role, len(who)))
    got, _, _ = walk("role=consumer", limit=1000)
    check(len(got) == summary["roles"]["consumer"] == 1999 - 11,
          "role=consumer: everyone else (%d)" % len(got))
    combos = 0
    for seg in SEGMENTS:
        for tier in summary["tiers"]:
            for role in ("consumer", "retailer", "sales"):
                w = want(seg, tier, role)
                if not w and combos > 3:
                    continue
                got, _, _ = walk("segment=%s&tier=%s&role=%s" % (
                    seg, urllib.parse.quote(tier), role), limit=1000)
                check([c["id"] for c in got] == w,
                      "segment=%s&tier=%s&role=%s: %d" % (seg, tier, role,
                                                           len(w)))
                combos += 1
    got, _, _ = walk("segment=champions&tier=" +
                     urllib.parse.quote("金 Gold") + "&role=sales")
    check([c["id"] for c in got] == [P.ids[0]],
          "champions, Gold and sales: the rich customer alone")
    # The erased customer is in no filtered list.
    got, _, _ = walk("role=consumer", limit=1000)
    check(P.erased not in [c["id"] for c in got],
          "the erased customer is in no filtered list")

    # Bad filters: 422 invalid, each named.
    for q, what in (("segment=vip", "unknown segment"),
                    ("segment=", "empty segment"),
                    ("segment=NEW", "segment in capitals"),
                    ("role=admin", "unknown role"),
                    ("role=", "empty role"),
                    ("tier=", "empty tier"),
                    ("tier=%FF%FE", "tier not UTF-8"),
                    ("tier=" + "x" * 300, "tier too long"),
                    ("segment=new&limit=0", "limit 0"),
                    ("segment=new&limit=1001", "limit over 1000"),
                    ("segment=new&after=-1", "negative after"),
                    ("segment=new&after=x", "after not a number")):
        st, d = srv.api("GET", "customers?" + q, P.analyst)
        check(st == 422 and d["error"]["code"] == "invalid",
              "%s: 422 invalid (%d %s)" % (what, st, d.get("error")
                                           if isinstance(d, dict) else d))
    st, d = srv.api("GET", "customers?tier=" +
                    urllib.parse.quote("No such tier"), P.analyst)
    check(st == 200 and d["customers"] == [],
          "a tier no one is in: an empty list, not an error")
    # Roles and brands.
    for tok, who in ((P.operator, "operator"), (P.admin, "admin")):
        st, d = srv.api("GET", "customers?segment=champions&limit=1000",
                        tok)
        check(st == 200, "%s may filter" % who)
    st, d = srv.api("GET", "customers?segment=new", None)
    check(st == 401, "no token: 401")
    got, _, _ = walk("segment=new", token=P.beta)
    check([c["id"] for c in got] == [P.beta_customer],
          "beta's token: beta's one customer, none of acme's")
    st, d = srv.api("GET", "customers/summary", P.beta)
    check(st == 200 and d["total"] == 1, "beta's summary counts one")
    st, d = srv.api("POST", "customers/summary", P.admin, {})
    check(st == 405, "POST summary: 405 (%d)" % st)
done()
