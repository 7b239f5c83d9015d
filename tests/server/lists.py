"""The brand's paged lists (issue 19, item 5), against the real sigild:
GET /api/v1/products (SKU byte order, ?after=, ?q=), PATCH
/api/v1/products/{sku}, GET /api/v1/shipments (newest first, ?before=,
?distributor=, ?status=), and GET /api/v1/batches and /distributors paged
instead of stopping at 1,000. More than 1,000 products and batches are
walked page by page to the end; every bad query is a 422 `invalid` and
every bad change a clear 4xx that changes nothing; another brand sees
none of it; roles as documented."""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

ZJ = {"type": "Polygon", "coordinates": [[[118, 27], [123, 27], [123, 31.5],
                                           [118, 31.5], [118, 27]]]}
NPROD = 1100
NBATCH = 1050


def q(s):
    return urllib.parse.quote(s, safe="")


with Env() as env:
    env.setup_brand(sku="A-0000", count=30)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    AD = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")

    def api(method, path, token=AD, body=None):
        return srv.api(method, path, token, body)

    def invalid(path, token=AN, what=""):
        st, doc = api("GET", path, token)
        check(st == 422 and isinstance(doc, dict) and
              doc.get("error", {}).get("code") == "invalid",
              "GET %s: 422 invalid %s(%s %s)" % (path, what, st,
                                                  doc if st != 422 else
                                                  doc["error"]["message"]))

    # ---- products: more than 1,000, paged in SKU byte order ----
    names = {"A-0000": "Product A-0000"}
    for i in range(1, NPROD):
        sku = "P-%04d" % i if i % 2 else "a-%04d" % i
        name = "绿茶 %d" % i if i % 10 == 0 else "Tea %d" % i
        st, _ = api("POST", "products", body={"sku": sku, "name": name})
        if st != 201:
            check(False, "product %s: %d" % (sku, st))
            break
        names[sku] = name
    st, doc = api("POST", "products", B, {"sku": "BETA-1", "name": "Beta"})
    check(st == 201, "beta's product")

    st, doc = api("GET", "products", AN)
    check(st == 200 and len(doc["products"]) == 100 and
          doc["next"] == doc["products"][-1]["sku"],
          "default page: 100 products and next is the last SKU")
    first = doc["products"][0]
    check(set(first) >= {"sku", "name", "max_scanners", "gs1", "created"},
          "a product as GET /products/{sku} shows it (%s)" % sorted(first))
    seen, after, pages = [], "", 0
    while True:
        st, doc = api("GET", "products?limit=1000" + after, AN)
        if st != 200:
            check(False, "page %d: %d" % (pages, st))
            break
        seen += [p["sku"] for p in doc["products"]]
        pages += 1
        if doc["next"] is None or pages > 5:
            break
        after = "&after=" + q(doc["next"])
    check(pages == 2 and len(seen) == NPROD and len(set(seen)) == NPROD,
          "two pages of 1000 cover all %d products (%d pages, %d seen)"
          % (NPROD, pages, len(seen)))
    check(seen == sorted(seen, key=lambda s: s.encode()),
          "products in SKU byte order (upper case before lower)")
    check("BETA-1" not in seen, "acme's list holds no beta product")
    st, doc = api("GET", "products?limit=3&after=" + q("P-0003"), AN)
    check([p["sku"] for p in doc["products"]] == ["P-0005", "P-0007",
                                                  "P-0009"],
          "after a SKU: the next ones (%s)" % [p["sku"] for p in
                                               doc["products"]])
    st, doc = api("GET", "products?after=" + q("P-0004"), AN)
    check(st == 200 and doc["products"][0]["sku"] == "P-0005",
          "after a SKU that is no product: from the next in order")
    st, doc = api("GET", "products?limit=1000&after=" + q("zzz"), AN)
    check(st == 200 and doc == {"products": [], "next": None},
          "after the last: an empty last page")

    # search: case-insensitive ASCII substring of SKU or name
    st, doc = api("GET", "products?limit=1000&q=p-00", AN)
    want = sorted([s for s in names if "p-00" in s.lower()],
                  key=lambda s: s.encode())
    check([p["sku"] for p in doc["products"]] == want and doc["next"] is None,
          "q=p-00 finds %d SKUs in both cases (%d)" % (len(want),
                                                       len(doc["products"])))
    st, doc = api("GET", "products?limit=5&q=" + q("绿茶"), AN)
    check(len(doc["products"]) == 5 and doc["next"] is not None and
          all("绿茶" in p["name"] for p in doc["products"]),
          "q in a name (UTF-8), paged with next")
    found, after = [], ""
    for _ in range(40):
        st, doc = api("GET", "products?limit=7&q=" + q("绿茶") + after, AN)
        found += [p["sku"] for p in doc["products"]]
        if doc["next"] is None:
            break
        after = "&after=" + q(doc["next"])
    check(len(found) == len([n for n in names.values() if "绿茶" in n]),
          "a search paged to the end finds every match (%d)" % len(found))
    st, doc = api("GET", "products?q=TEA%201099", AN)
    check([p["name"] for p in doc["products"]] == ["Tea 1099"],
          "q=TEA 1099: the name, case aside")
    st, doc = api("GET", "products?q=nothing-like-this", AN)
    check(st == 200 and doc == {"products": [], "next": None},
          "no match: empty, next null")
    st, doc = api("GET", "products?q=beta", B)
    check([p["sku"] for p in doc["products"]] == ["BETA-1"],
          "beta's list: its own product only")
    st, doc = api("GET", "products?q=P-0001", B)
    check(doc["products"] == [], "beta cannot find acme's products")

    for bad in ["limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=",
                "limit=1.5", "after=" + "x" * 257, "q=" + "x" * 201,
                "q=%01", "q=%ff", "after=%ff"]:
        invalid("products?" + bad)

    # ---- PATCH /products/{sku} ----
    st, doc = api("PATCH", "products/P-0001", AD, {"name": "乌龙茶 特级",
                                                   "max_scanners": 9})
    check(st == 200 and doc["name"] == "乌龙茶 特级" and
          doc["max_scanners"] == 9 and doc["sku"] == "P-0001",
          "admin renames a product and sets max_scanners (%s %s)" % (st, doc))
    st, doc = api("PATCH", "products/P-0001", AD, {"max_scanners": 3})
    check(st == 200 and doc["name"] == "乌龙茶 特级" and
          doc["max_scanners"] == 3, "one field alone keeps the other")
    st, doc = api("GET", "products/P-0001", AN)
    check(doc["name"] == "乌龙茶 特级" and doc["max_scanners"] == 3,
          "the change is stored")
    before = api("GET", "products/P-0001", AN)[1]
    for body, want_st, why in [
            ({}, 422, "nothing to change"),
            ({"name": ""}, 422, "empty name"),
            ({"name": "x" * 201}, 422, "name too long"),
            ({"name": "a\u0001b"}, 422, "control character"),
            ({"name": 5}, 422, "name not text"),
            ({"max_scanners": 0}, 422, "max_scanners 0"),
            ({"max_scanners": 100000}, 422, "max_scanners too high"),
            ({"max_scanners": "5"}, 422, "max_scanners as text"),
            ({"gtin": "4006381333931"}, 422, "gtin is printed"),
            ({"sku": "NEW"}, 422, "sku is printed"),
            ({"gs1": True}, 422, "code form is printed"),
            ({"name": "ok", "colour": "red"}, 422, "unknown field")]:
        st, doc = api("PATCH", "products/P-0001", AD, body)
        check(st == want_st, "PATCH %s: %d (%s)" % (why, want_st, st))
    st, _, raw = srv.request("PATCH", "/api/v1/products/P-0001",
                             body=b"{not json", headers={
                                 "Authorization": "Bearer " + AD})
    check(st == 400, "PATCH with a broken body: 400 (%s)" % st)
    check(api("GET", "products/P-0001", AN)[1] == before,
          "no bad PATCH changed anything")
    for tok, who in [(OP, "operator"), (AN, "analyst")]:
        st, _ = api("PATCH", "products/P-0001", tok, {"name": "hack"})
        check(st == 403, "%s may not PATCH a product (%s)" % (who, st))
    st, _ = api("PATCH", "products/P-0001", B, {"name": "hack"})
    check(st == 404, "beta's admin: acme's product is 404 (%s)" % st)
    st, _ = api("PATCH", "products/NOPE", AD, {"name": "x"})
    check(st == 404, "unknown SKU: 404")
    st, _ = srv.api("PATCH", "products/P-0001", None, {"name": "x"})
    check(st == 401, "no token: 401")
    check(api("GET", "products/P-0001", AN)[1] == before,
          "refused PATCHes changed nothing")

    # ---- batches: more than 1,000, paged both ways ----
    for i in range(NBATCH - 1):
        st, _ = api("POST", "batches", OP, {"sku": "P-0003", "count": 1})
        if st != 201:
            check(False, "batch %d: %d" % (i, st))
            break
    st, doc = api("POST", "batches", B, {"sku": "BETA-1", "count": 1})
    check(st in (201, 409), "a beta batch (or no key: %s)" % st)
    st, doc = api("GET", "batches", AN)
    check(st == 200 and len(doc["batches"]) == 1000 and
          doc["next"] == doc["batches"][-1]["id"] and
          set(doc["batches"][0]) >= {"id", "sku", "state", "count"},
          "batches: a first page of 1000 (as before, now with next), fields "
          "kept, next the last id")
    ids, after = [], ""
    for _ in range(5):
        st, doc = api("GET", "batches?limit=1000" + after, AN)
        ids += [b["id"] for b in doc["batches"]]
        if doc["next"] is None:
            break
        after = "&after=%d" % doc["next"]
    check(len(ids) == NBATCH and ids == sorted(ids) and
          len(set(ids)) == NBATCH,
          "oldest first, all %d batches over pages (%d)" % (NBATCH, len(ids)))
    new, before_q = [], "&order=newest"
    for _ in range(5):
        st, doc = api("GET", "batches?limit=400" + before_q, AN)
        new += [b["id"] for b in doc["batches"]]
        if doc["next"] is None:
            break
        before_q = "&before=%d" % doc["next"]
    check(new == ids[::-1], "newest first via order=newest then before= "
          "(%d, first %s)" % (len(new), new[:2]))
    st, doc = api("GET", "batches?limit=2&before=%d" % ids[10], AN)
    check([b["id"] for b in doc["batches"]] == [ids[9], ids[8]],
          "before an id: the two older")
    st, doc = api("GET", "batches?sku=A-0000&order=newest", AN)
    check([b["sku"] for b in doc["batches"]] == ["A-0000"] and
          doc["next"] is None, "?sku=: one product's batches only")
    st, doc = api("GET", "batches?sku=P-0003&limit=500", AN)
    check(len(doc["batches"]) == 500 and doc["next"] is not None and
          all(b["sku"] == "P-0003" for b in doc["batches"]),
          "?sku= paged: 500 and next")
    st, doc = api("GET", "batches?sku=P-0003&limit=1000&after=%d"
                  % doc["next"], AN)
    check(len(doc["batches"]) == NBATCH - 501 and doc["next"] is None,
          "?sku= second page: the rest (%d)" % len(doc["batches"]))
    st, doc = api("GET", "batches?sku=P-0001", B)
    check(doc["batches"] == [], "beta: none of acme's by sku")
    st, doc = api("GET", "batches", B)
    check(all(b["sku"] == "BETA-1" for b in doc["batches"]),
          "beta's batch list holds none of acme's")
    for bad in ["limit=0", "limit=5000", "after=x", "after=0", "before=-3",
                "after=3&before=9", "order=sideways",
                "order=oldest&before=4", "order=newest&after=4", "sku=",
                "sku=" + "x" * 257, "sku=%01"]:
        invalid("batches?" + bad)

    # ---- distributors, paged ----
    dists = []
    for n in ["杭州经销商", "宁波经销商", "温州经销商"]:
        st, doc = api("POST", "distributors", AD, {"name": n,
                                                   "territory": ZJ})
        dists.append(doc["id"])
    st, doc = api("POST", "distributors", B, {"name": "Beta dist",
                                              "territory": ZJ})
    bdist = doc["id"]
    st, doc = api("GET", "distributors?limit=2", AN)
    check([d["id"] for d in doc["distributors"]] == dists[:2] and
          doc["next"] == dists[1], "distributors: page of 2, next")
    st, doc = api("GET", "distributors?limit=2&after=%d" % doc["next"], AN)
    check([d["id"] for d in doc["distributors"]] == dists[2:] and
          doc["next"] is None, "the last page of distributors")
    for bad in ["limit=0", "after=abc", "after=99999999999"]:
        invalid("distributors?" + bad)

    # ---- shipments: newest first, filters ----
    st, codes = api("GET", "batches?limit=1", AN)
    b1 = codes["batches"][0]["id"]
    urls = env.sigil("mint", "--batch", str(b1), "--format", "txt",
                     "--out", "-").stdout.split()
    ships = []
    for i, dist in enumerate([dists[0], dists[1], dists[0], dists[2],
                              dists[0]]):
        st, doc = api("POST", "shipments", OP, {
            "distributor": dist, "codes": urls[i * 3:i * 3 + 3]})
        check(st == 201, "shipment %d: 201 (%s)" % (i, st))
        ships.append(doc["id"])
    st, _ = api("POST", "shipments/%d/receive" % ships[0], OP)
    st, _ = api("POST", "shipments/%d/receive" % ships[3], OP)
    st, doc = api("GET", "shipments", AN)
    check(st == 200 and [s["id"] for s in doc["shipments"]] == ships[::-1]
          and doc["next"] is None, "shipments newest first (%s)" % (
              [s["id"] for s in doc["shipments"]] if st == 200 else st))
    s0 = doc["shipments"][-1]
    check(s0["distributor_name"] == "杭州经销商" and s0["codes"] == 3 and
          s0["received_at"] is not None and
          set(s0) >= {"id", "distributor", "shipped_at", "received_at",
                      "codes", "distributor_name"},
          "a shipment as GET /shipments/{id} shows it, plus its "
          "distributor's name")
    st, doc = api("GET", "shipments?limit=2", AN)
    check([s["id"] for s in doc["shipments"]] == ships[:2:-1][:2] and
          doc["next"] == ships[3], "limit 2: the two newest, next")
    st, doc = api("GET", "shipments?limit=2&before=%d" % doc["next"], AN)
    check([s["id"] for s in doc["shipments"]] == [ships[2], ships[1]],
          "before: the next two")
    st, doc = api("GET", "shipments?distributor=%d" % dists[0], AN)
    check([s["id"] for s in doc["shipments"]] == [ships[4], ships[2],
                                                  ships[0]],
          "filter by distributor")
    st, doc = api("GET", "shipments?status=received", AN)
    check([s["id"] for s in doc["shipments"]] == [ships[3], ships[0]],
          "filter received")
    st, doc = api("GET", "shipments?status=open&distributor=%d" % dists[0],
                  AN)
    check([s["id"] for s in doc["shipments"]] == [ships[4], ships[2]],
          "filter open and distributor")
    st, doc = api("GET", "shipments?status=open&distributor=%d&limit=1"
                  % dists[0], AN)
    check(len(doc["shipments"]) == 1 and doc["next"] == ships[4],
          "filtered paging: next")
    st, doc = api("GET", "shipments?distributor=%d" % bdist, B)
    check(st == 200 and doc["shipments"] == [],
          "beta's own distributor (same id as acme's first): none of "
          "acme's shipments")
    st, doc = api("GET", "shipments?distributor=999", AN)
    check(st == 200 and doc["shipments"] == [], "unknown distributor: none")
    st, doc = api("GET", "shipments", B)
    check(st == 200 and doc["shipments"] == [],
          "beta sees none of acme's shipments")
    for bad in ["limit=0", "limit=x", "before=x", "before=0",
                "distributor=x", "distributor=0", "distributor=-1",
                "status=lost", "status=", "status=OPEN"]:
        invalid("shipments?" + bad)
    st, _ = srv.api("GET", "shipments", None)
    check(st == 401, "no token: 401")
    st, _ = srv.api("GET", "products", None)
    check(st == 401, "no token on products: 401")

    # ---- a search over more products than one request looks at ----
    for i in range(NPROD, 20100):
        st, _ = api("POST", "products", body={"sku": "Q-%05d" % i,
                                              "name": "Bulk %d" % i})
        if st != 201:
            check(False, "bulk product %d: %d" % (i, st))
            break
    pages, found, after = 0, [], ""
    while pages < 10:
        st, doc = api("GET", "products?limit=1000&q=nothing-like-this" +
                      after, AN)
        pages += 1
        found += doc["products"]
        if doc["next"] is None:
            break
        after = "&after=" + q(doc["next"])
    check(pages == 2 and found == [],
          "a search matching nothing in 20,100 products: an empty page with "
          "next after 20,000 looked at, then the empty last page (%d pages)"
          % pages)
    st, doc = api("GET", "products?limit=1000&q=Bulk%2020099", AN)
    walked, after = doc["products"], ""
    while doc["next"] is not None and len(walked) == 0:
        st, doc = api("GET", "products?limit=1000&q=Bulk%2020099&after=" +
                      q(doc["next"]), AN)
        walked += doc["products"]
    check([p["sku"] for p in walked] == ["Q-20099"],
          "the one match past the bound is found by following next")

    # the scan path still reads a renamed product
    st, doc, _ = srv.scan("/" + urls[0].split("/", 3)[3])
    check(st == 200, "a code still scans after its product's change")

    srv.stop()
done()
