"""The brand's people, made the real way against a real sigild: what the
tests of GET /api/v1/feedback, /exports/scans, /orders, /customers/{id}/
history and customers/export.csv (and their dashboard pages) read.

build(env, n) makes, for brand "acme" (products W1 "Longjing 250 g" and
W2 "Tea cup"):
  - n customers, each by a scan of its own W1 code, a one-time code and a
    login, so n scans from n devices; the first CLAIMERS claim that code
    (100 points) and the first ORDERS of them redeem a Cup (80 points)
    with a delivery address (even) or a pick-up code (odd): orders;
  - customer 0 (the "rich" one) also scans and claims RICH_SCANS W2 codes
    (300 points each) and redeems RICH_ORDERS Cups: every section of its
    history holds more than one page;
  - EXTRA anonymous scans of W2 codes (first scans, then repeats);
  - feedback: customers 0..FEEDBACK-1 rate their W1 scan (rating i % 5 +
    1, text "note i"), customer 0 also each of its W2 scans; one
    anonymous device rates a W2 scan;
  - customer ERASED_AT is erased (its feedback text and scan go);
and for brand "beta" (product B1): one customer with a scan, a claim, a
redemption with an order and feedback (brand isolation). Tokens of
every role; the server runs with --no-sync (the data is not the test).
"""
import datetime
import json

from sigiltest import Outbox

CLAIMERS = 40
ORDERS = 30
RICH_SCANS = 45
RICH_ORDERS = 30
FEEDBACK = 35
ERASED_AT = 3
EXTRA = 1500


def day(offset):
    return (datetime.date.today() +
            datetime.timedelta(days=offset)).isoformat()


def local_day(offset, tz=8):
    """The date offset days from today in the zone UTC+tz."""
    now = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(hours=tz)
    return (now.date() + datetime.timedelta(days=offset)).isoformat()


class People:
    pass


def build(env, n=2000, extra=EXTRA, start_args=(), users=(), password=None):
    """users: (email, role) of acme's dashboard users, made before the
    server starts, with password."""
    P = People()
    P.n = n
    _, w1 = env.setup_brand("acme", sku="W1", count=n + 10)
    _, w2 = env.setup_brand("acme", sku="W2", name="Tea cup", lot="L-W2",
                            count=extra + RICH_SCANS + 20, init=False)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, bw = env.setup_brand("beta", "https://BETA.EXAMPLE", sku="B1",
                            count=5, init=False)
    P.w1, P.w2, P.bw = w1, w2, bw
    P.admin = env.token("acme", "admin")
    P.operator = env.token("acme", "operator")
    P.analyst = env.token("acme", "analyst")
    P.beta = env.token("beta", "admin")
    for email, role in users:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=password + "\n")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32", "--otp-per-hour", "100000",
                    "--no-sync", *start_args)
    P.srv = srv
    for tok, sku, pts in ((P.admin, "W1", 100), (P.admin, "W2", 300),
                          (P.beta, "B1", 100)):
        st, c = srv.api("POST", "campaigns", tok, {
            "name": "c-" + sku, "skus": [sku], "starts": day(-1),
            "ends": day(30), "points": pts})
        assert st == 201, (st, c)
    st, P.item = srv.api("POST", "catalog/items", P.admin,
                         {"name": "Cup", "cost": 80})
    assert st == 201, (st, P.item)
    st, P.bitem = srv.api("POST", "catalog/items", P.beta,
                          {"name": "Mug", "cost": 50})
    assert st == 201

    otp = Outbox(env.data).code

    def post(path, body, device, ip):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + device,
             "X-Forwarded-For": ip}
        st, _, raw = srv.request("POST", path, body=body, headers=h)
        return st, json.loads(raw)

    def member(code, phone, ip):
        _, doc, dev = srv.scan(code, headers={"X-Forwarded-For": ip})
        st, d = post("/api/v1/customers/otp", {"phone": phone, "code": code},
                     dev, ip)
        assert st == 202, (st, d)
        st, d = post("/api/v1/customers/verify", {
            "phone": phone, "code": code, "otp": otp(phone)}, dev, ip)
        assert st == 200, (st, d)
        return d["customer"]["id"], dev, doc["scan_id"]

    def order(i, dev, ip, tok_item):
        body = {"item": tok_item}
        if i % 2 == 0:
            body["delivery"] = {"name": "收件人 %d" % i,
                                "phone": "+86 139 0000 %04d" % i,
                                "address": "上海市 路 %d 号" % i}
        else:
            body["pickup"] = True
        st, d = post("/api/v1/redemptions", body, dev, ip)
        assert st == 201, (st, d)
        return d

    P.ids, P.devs, P.ips, P.scan_ids = [], [], [], []
    P.feedback = []          # (customer index or None, rating, text)
    P.order_ids = []
    for i in range(n):
        ip = "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)
        cid, dev, sid = member(w1[i], "139%08d" % i, ip)
        P.ids.append(cid)
        P.devs.append(dev)
        P.ips.append(ip)
        P.scan_ids.append(sid)
        if i < CLAIMERS:
            st, d = post("/api/v1/claims", {"code": w1[i]}, dev, ip)
            assert st == 201, (st, d)
        if i < ORDERS:
            P.order_ids.append(order(i, dev, ip, P.item["id"])["order"]["id"])
        if i < FEEDBACK:
            st, d = post("/api/v1/feedback", {
                "scan_id": sid, "rating": i % 5 + 1,
                "text": "note %d" % i}, dev, ip)
            assert st == 201, (st, d)
            P.feedback.append((i, i % 5 + 1, "note %d" % i, "W1"))
    # The rich customer: many scans, claims, redemptions, feedback.
    dev0, ip0 = P.devs[0], P.ips[0]
    P.rich_scans = 1
    for j in range(RICH_SCANS):
        _, doc, _ = srv.scan(w2[j], device=dev0,
                             headers={"X-Forwarded-For": ip0})
        P.rich_scans += 1
        st, d = post("/api/v1/claims", {"code": w2[j]}, dev0, ip0)
        assert st == 201, (st, d)
        st, d = post("/api/v1/feedback", {
            "scan_id": doc["scan_id"], "rating": 5, "text": "cup %d" % j},
            dev0, ip0)
        assert st == 201, (st, d)
        P.feedback.append((0, 5, "cup %d" % j, "W2"))
    for j in range(RICH_ORDERS):
        P.order_ids.append(order(j, dev0, ip0, P.item["id"])["order"]["id"])
    P.rich_claims = 1 + RICH_SCANS
    P.rich_orders = 1 + RICH_ORDERS
    # Anonymous scans (first scans, then some repeats) and one anonymous
    # rating.
    P.extra = extra
    anon_dev = None
    for j in range(extra):
        code = w2[RICH_SCANS + (j % (extra // 2 or 1))]
        _, doc, anon_dev = srv.scan(code, headers={
            "X-Forwarded-For": "10.200.%d.%d" % (j >> 8 & 255, j & 255)})
    st, d = post("/api/v1/feedback", {"scan_id": doc["scan_id"],
                                      "rating": 2, "text": "anonymous"},
                 anon_dev, "10.200.0.1")
    assert st == 201, (st, d)
    P.feedback.append((None, 2, "anonymous", "W2"))
    # Beta's customer.
    cid, bdev, bsid = member(bw[0], "13800000001", "10.250.0.1")
    P.beta_customer = cid
    st, d = post("/api/v1/claims", {"code": bw[0]}, bdev, "10.250.0.1")
    assert st == 201, (st, d)
    order(0, bdev, "10.250.0.1", P.bitem["id"])
    st, d = post("/api/v1/feedback", {"scan_id": bsid, "rating": 1,
                                      "text": "beta secret"}, bdev,
                 "10.250.0.1")
    assert st == 201, (st, d)
    # One erasure.
    st, d = srv.api("POST", "customers/%d/erase" % P.ids[ERASED_AT],
                    P.admin, {})
    assert st == 200, (st, d)
    P.erased = P.ids[ERASED_AT]
    P.scans_acme = n + RICH_SCANS + extra
    return P


def pages(srv, path, token, key, limit, cursor="before"):
    """Every page of a newest-first list: (items, number of pages)."""
    items, cur, n = [], None, 0
    sep = "&" if "?" in path else "?"
    while True:
        url = "%s%slimit=%d" % (path, sep, limit)
        if cur is not None:
            url += "&%s=%d" % (cursor, cur)
        st, d = srv.api("GET", url, token)
        if st != 200:
            raise AssertionError("%s: %d %s" % (url, st, d))
        n += 1
        items += d[key]
        cur = d["next"]
        if cur is None:
            return items, n
        if n > 10000:
            raise AssertionError("no end to " + path)
