"""Channel and seller attribution against the real sigild (issue 21, 5):
stores under a distributor, sellers assigned to them, the channel tree; a
seller binds a case by scanning it (开箱: first binding wins, audited);
a consumer claims an item packed in the case and the seller's own ledger
gets the campaign's seller_rebate exactly once (also with concurrent
claims of the same and of different items, and across a kill -9 and a
restart); the brand moves a binding; per-store and per-seller results
and the channel CSV agree with what happened; bad input of every kind
is refused and changes nothing."""
import concurrent.futures
import csv
import datetime
import io
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done, outbox_code  # noqa: E402

BASE = "https://ACME.EXAMPLE"
REBATE = 3
POINTS = 10
SQUARE = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)) \
        .isoformat()


class People:
    """Phones, devices and one-time codes for one running sigild."""

    def __init__(self, env, srv):
        self.env, self.srv, self.ip = env, srv, 0

    def next_ip(self):
        self.ip += 1
        return "10.9.%d.%d" % (self.ip >> 8, self.ip & 255)

    def call(self, method, path, body=None, device=None, ip=None):
        return self.srv.consumer(method, path, body, device,
                                 ip or self.next_ip())

    def scan(self, path, device=None):
        st, doc, dev = self.srv.scan(path, device,
                                     headers={"X-Forwarded-For":
                                              self.next_ip()})
        check(st == 200, "scan of %s: 200 (%s)" % (path, st))
        return dev

    def login(self, phone, path):
        ip = self.next_ip()
        dev = self.scan(path)
        st, doc = self.call("POST", "/api/v1/customers/otp",
                            {"phone": phone, "code": path}, dev, ip)
        if st != 202:
            raise RuntimeError("otp %d %r" % (st, doc))
        st, doc = self.call("POST", "/api/v1/customers/verify",
                            {"phone": phone, "code": path,
                             "otp": outbox_code(self.env.data, phone)},
                            dev, ip)
        if st != 200:
            raise RuntimeError("verify %d %r" % (st, doc))
        return dev, doc["customer"]["id"]


def rebates_of(people, dev, claim_ids=None):
    """The seller's EARN entries of REBATE points (refs: claim ids)."""
    st, doc = people.call("GET", "/api/v1/me/ledger", device=dev)
    check(st == 200, "seller's ledger: 200")
    return [e["ref"] for e in doc["entries"]
            if e["type"] == "earn" and e["points"] == REBATE and
            (claim_ids is None or e["ref"] in claim_ids)]


def audit_actions(srv, token):
    st, doc = srv.api("GET", "audit?limit=200", token)
    check(st == 200, "audit trail: 200")
    return doc["entries"]


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", BASE)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    batch, codes = env.setup_brand(sku="TEA", count=40, init=False)
    _, beta_codes = env.setup_brand(brand="beta", sku="BTEA", count=3,
                                    init=False)
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32")
    people = People(env, srv)

    case, items = codes[0], codes[1:25]
    case2, items2 = codes[25], codes[26:30]
    loose = codes[30:]
    st, doc = srv.api("POST", "aggregations", OP, {
        "parent": BASE + case, "children": [BASE + p for p in items]})
    check(st == 201, "24 items packed into the case (%s %r)" % (st, doc))
    st, doc = srv.api("POST", "aggregations", OP, {
        "parent": BASE + case2, "children": [BASE + p for p in items2]})
    check(st == 201, "4 items packed into a second case")

    # ---- stores under distributors ----
    st, doc = srv.api("POST", "distributors", A, {"name": "East China",
                                                  "territory": SQUARE})
    dist = doc["id"]
    st, doc = srv.api("POST", "stores", A, {"name": "南京路店", "city": "上海",
                                            "distributor": dist})
    check(st == 201 and doc["name"] == "南京路店" and doc["distributor"] ==
          dist, "a store under the distributor (%s %r)" % (st, doc))
    shop = doc["id"]
    st, doc = srv.api("POST", "stores", A, {"name": "Huaihai Road",
                                            "distributor": dist})
    shop2 = doc["id"]
    for body, what in [
            ({"city": "x", "distributor": dist}, "no name"),
            ({"name": "", "distributor": dist}, "an empty name"),
            ({"name": "x" * 201, "distributor": dist}, "a 201-char name"),
            ({"name": "x"}, "no distributor"),
            ({"name": "x", "distributor": 99}, "an unknown distributor"),
            ({"name": "x", "distributor": "1"}, "a text distributor"),
            ({"name": "x\u0001y", "distributor": dist}, "a control char"),
            ({"name": "x", "distributor": dist, "phone": "1"},
             "an unknown field")]:
        st, doc = srv.api("POST", "stores", A, body)
        check(st == 422, "store with %s: 422 (%s)" % (what, st))
    st, _ = srv.api("POST", "stores", AN, {"name": "x", "distributor": dist})
    check(st == 403, "an analyst cannot create stores")
    st, doc = srv.api("GET", "stores", AN)
    check(st == 200 and [s["id"] for s in doc["stores"]] == [shop, shop2],
          "two stores listed, the refused ones not made")
    st, doc = srv.api("PATCH", "stores/%d" % shop2, A, {"city": "上海"})
    check(st == 200 and doc["city"] == "上海" and doc["name"] ==
          "Huaihai Road", "PATCH changes the city only")
    st, _ = srv.api("GET", "stores/%d" % shop, B)
    check(st == 404, "beta's token: acme's store is 404")
    st, doc = srv.api("POST", "stores", A, {"name": "Gone",
                                            "distributor": dist})
    st, _ = srv.api("DELETE", "stores/%d" % doc["id"], A)
    check(st == 200, "an empty store is deleted")

    # ---- sellers: customers with a staff role, in a store ----
    dev_s, seller = people.login("13700000001", case)
    dev_s2, seller2 = people.login("13700000002", case)
    dev_x, nobody = people.login("13700000003", case)
    st, doc = srv.api("POST", "stores/%d/sellers" % shop, A,
                      {"customer_id": nobody})
    check(st == 422 and doc["error"]["code"] == "not_staff",
          "a customer without a staff role is not made a seller")
    st, doc = srv.api("POST", "stores/%d/sellers" % shop, A,
                      {"customer_id": seller, "role": "boss"})
    check(st == 422, "an unknown role: 422")
    st, doc = srv.api("POST", "stores/%d/sellers" % shop, A,
                      {"customer_id": 999999, "role": "sales"})
    check(st == 404, "an unknown customer: 404")
    st, doc = srv.api("POST", "stores/%d/sellers" % shop, A,
                      {"customer_id": seller, "role": "sales"})
    check(st == 201 and doc["role"] == "sales" and doc["store"] == shop and
          doc["phone"] == "137****0001", "seller assigned with role sales")
    st, doc = srv.api("POST", "stores/%d/sellers" % shop2, A,
                      {"customer_id": seller2, "role": "retailer"})
    check(st == 201 and doc["role"] == "retailer", "a second seller")
    st, doc = srv.api("DELETE", "stores/%d" % shop, A)
    check(st == 409 and doc["error"]["code"] == "store_in_use",
          "a store with a seller is not deleted")
    st, doc = srv.api("GET", "channel/tree", AN)
    tree = doc["distributors"]
    check(st == 200 and len(tree) == 1 and tree[0]["id"] == dist and
          [s["id"] for s in tree[0]["stores"]] == [shop, shop2] and
          [x["customer_id"] for x in tree[0]["stores"][0]["sellers"]] ==
          [seller], "the tree: distributor > stores > sellers")

    # ---- the bind (开箱) ----
    st, doc = people.call("POST", "/api/v1/seller/bind", {"code": case})
    check(st == 401, "bind without a login: 401")
    st, doc = people.call("POST", "/api/v1/seller/bind", {"code": case},
                          dev_x)
    check(st == 403 and doc["error"]["code"] == "not_seller",
          "a consumer cannot bind")
    st, doc = people.call("POST", "/api/v1/seller/bind", {"code": "/S/NOPE"},
                          dev_s)
    check(st in (404, 422), "a code that is not one: refused (%s)" % st)
    st, doc = people.call("POST", "/api/v1/seller/bind",
                          {"code": case, "x": 1}, dev_s)
    check(st == 422, "an unknown field: 422")
    st, doc = people.call("POST", "/api/v1/seller/bind", {"code": case2},
                          dev_s)
    check(st == 403 and doc["error"]["code"] == "scan_first",
          "a code this phone never scanned: 403 scan_first")
    st, doc = people.call("POST", "/api/v1/seller/bind",
                          {"code": beta_codes[0]}, dev_s)
    check(st in (401, 403), "another brand's code: refused (%s)" % st)
    st, doc = people.call("POST", "/api/v1/seller/bind", {"code": case},
                          dev_s)
    check(st == 201 and doc["store"]["id"] == shop and
          doc["binding"]["seller"] == seller and doc["already"] is False,
          "the seller binds the case to their store (%s %r)" % (st, doc))
    st, doc = people.call("POST", "/api/v1/seller/bind", {"code": case},
                          dev_s)
    check(st == 200 and doc["already"] is True,
          "binding it again: 200, already")
    st, doc = people.call("POST", "/api/v1/seller/bind", {"code": case},
                          dev_s2)
    check(st == 409 and doc["error"]["code"] == "already_bound",
          "another seller cannot take it: first binding wins")
    people.scan(items[22], dev_s2)
    st, doc = people.call("POST", "/api/v1/seller/bind",
                          {"code": items[22]}, dev_s2)
    check(st == 409 and doc["error"]["code"] == "already_bound",
          "nor an item inside the opened case")
    st, doc = srv.api("GET", "bindings?code=" + BASE + items[3], AN)
    check(st == 200 and doc["binding"]["seller"] == seller and
          doc["inherited"] is True, "an item in the case: its binding")
    st, doc = srv.api("GET", "bindings?code=" + BASE + loose[0], AN)
    check(st == 200 and doc["binding"] is None, "a loose item: none")
    for method, path, body in [
            ("GET", "bindings?code=" + BASE + case, None),
            ("POST", "bindings/move", {"code": BASE + case, "seller": None}),
            ("GET", "stores/%d/sellers" % shop, None),
            ("POST", "stores/%d/sellers" % shop, {"customer_id": seller}),
            ("DELETE", "stores/%d/sellers/%d" % (shop, seller), None),
            ("PATCH", "stores/%d" % shop, {"name": "x"}),
            ("DELETE", "stores/%d" % shop, None)]:
        st, _ = srv.api(method, path, B, body)
        check(st == 404, "beta's token on acme's %s %s: 404 (%s)" % (
            method, path.split("?")[0], st))
    st, doc = srv.api("GET", "channel/tree", B)
    check(st == 200 and doc["distributors"] == [], "beta's tree: empty")
    st, doc = srv.api("GET", "bindings?code=" + BASE + case, AN)
    check(doc["binding"]["seller"] == seller, "and nothing changed")
    entries = audit_actions(srv, A)
    binds = [e for e in entries if e["action"] == "seller_bind"]
    check(len(binds) == 1 and binds[0]["actor"] == {
        "kind": "customer", "id": str(seller)} and
        binds[0]["target"]["type"] == "code" and
        binds[0]["detail"] == {"seller": seller, "store": shop},
        "one seller_bind in the audit trail, the seller as actor (%r)" %
        binds)

    st, doc = people.call("GET", "/api/v1/me/seller?code=" + BASE + case,
                          device=dev_s)
    me = doc["seller"]
    check(st == 200 and me["store"]["name"] == "南京路店" and
          me["bound_count"] == 1 and me["role"] == "sales" and
          doc["code"]["bound"] == "mine",
          "the seller's view: store, one bound code")
    st, doc = people.call("GET", "/api/v1/me/seller", device=dev_x)
    check(st == 200 and doc["seller"] is None, "a consumer: no seller view")

    # ---- the rebate: a consumer claims an item of the case ----
    st, doc = srv.api("POST", "campaigns", A, {
        "name": "rebate", "skus": ["TEA"], "starts": day(-1),
        "ends": day(30), "points": POINTS, "seller_rebate": REBATE})
    check(st == 201, "a campaign with seller_rebate %d (%s %r)" % (
        REBATE, st, doc))
    dev_c, consumer = people.login("13700000010", items[0])
    st, doc = people.call("POST", "/api/v1/claims", {"code": items[0]}, dev_c)
    check(st == 201 and doc["points"] == POINTS, "the consumer's claim")
    first_claim = doc.get("claim_id")
    got = rebates_of(people, dev_s)
    check(got == [first_claim], "the seller's ledger: one rebate for it "
          "(%r)" % got)
    st, doc = people.call("POST", "/api/v1/claims", {"code": items[0]}, dev_c)
    check(st == 409, "the same item again: 409")
    check(rebates_of(people, dev_s) == [first_claim],
          "still one rebate")
    # a loose item (bound to nobody) pays no rebate
    dev_l, _ = people.login("13700000011", loose[0])
    st, doc = people.call("POST", "/api/v1/claims", {"code": loose[0]}, dev_l)
    check(st == 201, "a loose item claimed")
    check(len(rebates_of(people, dev_s)) == 1, "no rebate for a loose item")

    # ---- concurrent claims: 8 items, each claimed by two consumers ----
    racers = []
    for i in range(16):
        item = items[1 + i // 2]
        racers.append((item,) + people.login("1370000%04d" % (100 + i), item))

    def claim(r):
        return people.call("POST", "/api/v1/claims", {"code": r[0]}, r[1])
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(claim, racers))
    won = [doc["claim_id"] for st, doc in results if st == 201]
    check(len(won) == 8 and sorted(st for st, _ in results) ==
          [201] * 8 + [409] * 8, "16 racing claims of 8 items: 8 win")
    got = rebates_of(people, dev_s)
    check(sorted(got) == sorted([first_claim] + won),
          "one rebate per winning claim, none for the losers (%d)" %
          len(got))

    # ---- kill -9 and a restart: nothing lost, nothing paid twice ----
    srv.stop(signal.SIGKILL)
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32")
    people.srv = srv
    check(sorted(rebates_of(people, dev_s)) == sorted([first_claim] + won),
          "after kill -9 and restart: the same rebates")
    st, doc = people.call("POST", "/api/v1/claims", {"code": items[1]},
                          racers[0][1])
    check(st == 409, "a claimed item after the restart: 409")
    dev_r, _ = people.login("13700000200", items[10])
    st, doc = people.call("POST", "/api/v1/claims", {"code": items[10]}, dev_r)
    check(st == 201, "a new claim after the restart")
    after = rebates_of(people, dev_s)
    check(sorted(after) == sorted([first_claim] + won + [doc["claim_id"]]),
          "its rebate, once")

    # ---- the brand moves the case to the second seller ----
    st, doc = srv.api("POST", "bindings/move", AN, {"code": BASE + case,
                                                    "seller": seller2})
    check(st == 403, "an analyst cannot move a binding")
    st, doc = srv.api("POST", "bindings/move", OP, {"code": BASE + case,
                                                    "seller": nobody})
    check(st == 422 and doc["error"]["code"] == "not_seller",
          "moving it to a non-seller: 422")
    st, doc = srv.api("POST", "bindings/move", OP, {"code": BASE + case,
                                                    "seller": "x"})
    check(st == 422, "a text seller: 422")
    st, doc = srv.api("POST", "bindings/move", OP, {"code": BASE + case,
                                                    "seller": seller2})
    check(st == 200 and doc["binding"]["seller"] == seller2 and
          doc["binding"]["store"] == shop2 and doc["before"]["seller"] ==
          seller, "the operator moves the case to seller 2's store")
    dev_m, _ = people.login("13700000201", items[11])
    st, doc = people.call("POST", "/api/v1/claims", {"code": items[11]}, dev_m)
    moved_claim = doc.get("claim_id")
    check(rebates_of(people, dev_s2) == [moved_claim],
          "the next claim pays seller 2")
    check(len(rebates_of(people, dev_s)) == len(after),
          "and not seller 1 any more")
    check(any(e["action"] == "binding_move" for e in audit_actions(srv, A)),
          "the move is in the audit trail")

    # ---- results: per store and per seller, and the CSV ----
    st, doc = srv.api("GET", "channel/results", AN)
    check(st == 200 and doc["truncated"] is False, "channel results: 200")
    by_seller = {r["seller"]: r for r in doc["sellers"]}
    s2 = by_seller.get(seller2, {})
    # the case (moved) is seller 2's: 25 codes, 11 claims, and the one
    # rebate seller 2 got; seller 1's earlier rebates were for claims of
    # codes that are now seller 2's (docs/api.md says so)
    check(s2.get("bound") == 1 and s2.get("codes") == 25 and
          s2.get("claims") == 11 and s2.get("rebates") == 1 and
          s2.get("rebate_points") == REBATE,
          "seller 2's results: 1 bound, 25 codes, 11 claims, 1 rebate "
          "(%r)" % s2)
    by_store = {r["store"]: r for r in doc["stores"]}
    check(by_store.get(shop2, {}).get("claims") == 11 and shop not in
          by_store, "per store: the case's claims under store 2")
    st, hdrs, raw = srv.request("GET", "/api/v1/exports/channel.csv",
                                headers={"Authorization": "Bearer " + OP})
    rows = list(csv.reader(io.StringIO(raw.decode())))
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/csv")
          and rows[0][:4] == ["distributor_id", "distributor", "store_id",
                              "store"], "channel.csv: 200, its header")
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    check(len(body) == 1 and body[0]["store_id"] == str(shop2) and
          body[0]["seller_id"] == str(seller2) and body[0]["claims"] == "11"
          and body[0]["distributor"] == "East China",
          "channel.csv: one row, the store, seller and claims (%r)" % body)
    st, _, raw = srv.request("GET", "/api/v1/exports/channel.csv?lang=zh",
                             headers={"Authorization": "Bearer " + OP})
    head = next(csv.reader(io.StringIO(raw.decode())))
    check(st == 200 and head[:3] == ["经销商编号", "经销商", "门店编号"],
          "channel.csv?lang=zh: Chinese header")
    st, _, _ = srv.request("GET", "/api/v1/exports/channel.csv?lang=fr",
                           headers={"Authorization": "Bearer " + OP})
    check(st == 400, "channel.csv?lang=fr: 400")
    st, _, _ = srv.request("GET", "/api/v1/exports/channel.csv",
                           headers={"Authorization": "Bearer " + AN})
    check(st == 403, "an analyst cannot export")

    # ---- a seller taken off their store: the binding pays nobody ----
    st, _ = srv.api("DELETE", "stores/%d/sellers/%d" % (shop2, seller2), A)
    check(st == 200, "seller 2 taken off the store")
    dev_n, _ = people.login("13700000202", items[12])
    st, doc = people.call("POST", "/api/v1/claims", {"code": items[12]}, dev_n)
    check(st == 201 and rebates_of(people, dev_s2) == [moved_claim],
          "a claim then pays seller 2 nothing")
    st, doc = srv.api("DELETE", "stores/%d" % shop2, A)
    check(st == 409, "a store with bound codes is not deleted")

    # ---- the PIPL export names a seller's store and bound codes ----
    st, doc = srv.api("GET", "customers/%d/export" % seller2, A)
    sx = doc["customer"]["seller"] if st == 200 else None
    check(sx is not None and sx["store"] is None and
          [b["store"] for b in sx["bound"]] == [shop2] and
          sx["bound"][0]["how"] == "moved",
          "seller 2's export: off the store, the moved case (%r)" % sx)
    st, doc = srv.api("GET", "customers/%d/export" % consumer, A)
    check(st == 200 and doc["customer"]["seller"] is None,
          "a consumer's export: no seller part")

    # ---- an erased seller: the case stays with the store, nobody's ----
    st, doc = srv.api("POST", "customers/%d/erase" % seller2, A)
    check(st == 200, "seller 2 erased")
    st, doc = srv.api("GET", "bindings?code=" + BASE + case, AN)
    check(st == 200 and doc["binding"]["seller"] is None and
          doc["binding"]["store"] == shop2,
          "the case: bound to the store, to no one (%r)" % doc)
    st, doc = srv.api("GET", "channel/results", AN)
    check(st == 200 and [r["seller"] for r in doc["rows"]] == [None] and
          doc["sellers"] == [], "results: the store's row has no seller")

    # ---- the scan page's question, for a visitor and for a seller ----
    st, doc = people.call("GET", "/api/v1/me/seller?brief=1&code=" +
                          BASE + items[20])
    check(st == 200 and doc == {"seller": None},
          "brief, nobody logged in: no seller (200)")
    st, doc = people.call("GET", "/api/v1/me/seller?brief=1&code=" +
                          BASE + items[20], device=dev_s)
    check(st == 200 and doc["code"]["bound"] == "other" and
          doc["code"]["can_bind"] is False and "bound" not in
          doc["seller"], "brief, a seller: the code is another's")
    st, doc = people.call("GET", "/api/v1/me/seller")
    check(st == 401, "the full view without a login: 401")

done()
