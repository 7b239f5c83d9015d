"""Customers and scan-to-earn against the real sigild (SPEC §6): phone login
by one-time code (read from DATA/otp-outbox.log, the demo notifier), claims
under concurrency, budgets, the hidden PIN lockout, OTP guessing and expiry,
roles (一码多扫), territory, redemption, feedback, PIPL export and erasure,
the clone signal of a scan after another customer's claim, and the pages."""
import concurrent.futures
import datetime
import json
import os
import re
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done, read_until_close  # noqa: E402

OTP_TTL = 4
ZHEJIANG = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}


def day(offset):
    d = datetime.date.today() + datetime.timedelta(days=offset)
    return d.isoformat()


class Customers:
    """Phones, devices and one-time codes for one running sigild."""

    def __init__(self, env, srv):
        self.env, self.srv = env, srv
        self.ip = 0

    def next_ip(self):
        self.ip += 1
        return "10.%d.%d.%d" % (self.ip >> 16, (self.ip >> 8) & 255,
                                self.ip & 255)

    def outbox(self, phone):
        """The last code sent to phone (given as 11 mainland digits)."""
        path = os.path.join(self.env.data, "otp-outbox.log")
        code = None
        with open(path) as f:
            for line in f:
                m = re.search(r" phone=(\d+) code=(\d{6})$", line.strip())
                if m and m.group(1) == "86" + phone:
                    code = m.group(2)
        return code

    def post(self, path, body, device=None, ip=None, raw=None):
        h = {"Accept": "application/json"}
        if raw:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if device:
            h["Cookie"] = "sg_d=" + device
        if ip:
            h["X-Forwarded-For"] = ip
        st, hdrs, data = self.srv.request("POST", path, body=raw or body,
                                          headers=h)
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return st, doc, hdrs

    def get(self, path, device=None):
        h = {"Accept": "application/json"}
        if device:
            h["Cookie"] = "sg_d=" + device
        st, _, data = self.srv.request("GET", path, headers=h)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, data

    def scan(self, path, device=None, ip=None):
        h = {"X-Forwarded-For": ip} if ip else None
        st, doc, dev = self.srv.scan(path, device, headers=h)
        return doc, dev

    def login(self, phone, code_path, device=None):
        """Scans code_path (gets a device), logs phone in; (device, id)."""
        ip = self.next_ip()
        doc, device = self.scan(code_path, device, ip)
        st, doc, _ = self.post("/api/v1/customers/otp",
                               {"phone": phone, "code": code_path}, device,
                               ip)
        if st != 202:
            raise RuntimeError("otp %d %r" % (st, doc))
        st, doc, _ = self.post("/api/v1/customers/verify",
                               {"phone": phone, "code": code_path,
                                "otp": self.outbox(phone)}, device, ip)
        if st != 200:
            raise RuntimeError("verify %d %r" % (st, doc))
        return device, doc["customer"]["id"]

    def claim(self, code_path, device, **extra):
        body = {"code": code_path}
        body.update(extra)
        st, doc, _ = self.post("/api/v1/claims", body, device)
        return st, doc


def campaign(srv, token, **cfg):
    base = {"name": "c", "starts": day(-1), "ends": day(30), "points": 10}
    base.update(cfg)
    st, doc = srv.api("POST", "campaigns", token, base)
    if st != 201:
        raise RuntimeError("campaign %d %r" % (st, doc))
    return doc["id"]


def burst(srv, path, body, ips, device=None):
    """POSTs body to path once from each of ips, each on its own
    connection, every request written before any answer is read, so that
    the server takes them in together: the statuses."""
    socks = []
    data = json.dumps(body).encode()
    for ip in ips:
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        socks.append(s)
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
                "\r\nContent-Type: application/json\r\nAccept: "
                "application/json\r\nX-Forwarded-For: %s\r\n%s"
                "Content-Length: %d\r\n\r\n" % (
                    path, ip, "Cookie: sg_d=%s\r\n" % device if device
                    else "", len(data)))
        s.sendall(head.encode() + data)
    return [int(read_until_close(s, 10).split(b" ", 2)[1]) for s in socks]


def parallel(fn, items, workers=50):
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    b_race, race = env.setup_brand(sku="RACE", count=10, init=False)
    b_budget, budget = env.setup_brand(sku="BUDGET", count=1000, init=False)
    b_pin, pins = env.setup_brand(sku="PIN", count=5, init=False)
    pin_of = {}
    for line in env.sigil("mint", "--batch", str(b_pin), "--format", "csv",
                          "--pin", "--out", "-").stdout.split("\n")[1:]:
        if line:
            serial, url, pin = line.split(",")
            pin_of[re.sub(r"^https?://[^/]+", "", url)] = pin
    b_role, roles = env.setup_brand(sku="ROLE", count=5, init=False)
    b_geo, geo = env.setup_brand(sku="GEO", count=5, init=False)
    b_off, off = env.setup_brand(sku="OFF", count=5, init=False)
    b_draw, draws = env.setup_brand(sku="DRAW", count=2, init=False)
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32", "--otp-ttl", str(OTP_TTL))
    cu = Customers(env, srv)

    # ---- campaigns over the brand API ----
    st, doc = srv.api("POST", "campaigns", A, {"name": "x", "skus": ["RACE"],
                                               "starts": day(-1),
                                               "ends": day(30),
                                               "points": 10, "extra": 1})
    check(st == 422 and "unknown field" in doc["error"]["message"],
          "campaign with an unknown field: 422")
    st, doc = srv.api("POST", "campaigns", A, {
        "name": "x", "skus": ["RACE"], "starts": day(-1), "ends": day(30),
        "points": 10, "draw": [{"name": "a", "odds": 0.7, "stock": 1},
                               {"name": "b", "odds": 0.4, "stock": 1}]})
    check(st == 422 and "more than 1" in doc["error"]["message"],
          "prize odds adding up past 1: 422")
    st, _ = srv.api("POST", "campaigns", AN, {"name": "x"})
    check(st == 403, "analyst cannot create campaigns")
    c_race = campaign(srv, A, name="race", skus=["RACE"], points=50)
    c_budget = campaign(srv, A, name="budget", batches=[b_budget], points=7,
                        budget=100)
    c_pin = campaign(srv, A, name="pin", skus=["PIN"], points=20,
                     require_pin=True)
    c_role = campaign(srv, A, name="roles", skus=["ROLE"],
                      roles={"consumer": 10, "retailer": 5})
    st, doc = srv.api("POST", "distributors", A, {"name": "Zhejiang",
                                                  "territory": ZHEJIANG})
    c_geo = campaign(srv, A, name="geo", skus=["GEO"], territory=doc["id"])
    c_off = campaign(srv, A, name="off", skus=["OFF"])
    st, doc = srv.api("POST", "campaigns/%d/pause" % c_off, A)
    check(st == 200 and doc["active"] is False, "campaign paused")
    st, doc = srv.api("GET", "campaigns", AN)
    check(st == 200 and len(doc["campaigns"]) == 6, "analyst lists campaigns")

    # ---- OTP: wrong format, guessing, resend, expiry ----
    ip = cu.next_ip()
    st, doc, _ = cu.post("/api/v1/customers/otp", {"phone": "12ab",
                                                   "code": race[0]}, None, ip)
    check(st == 422, "malformed phone: 422")
    st, doc, _ = cu.post("/api/v1/customers/otp", {"phone": "13900000001",
                                                   "code": "/S/NOTACODE"},
                         None, ip)
    check(st in (404, 422), "unknown code for login: refused")
    st, doc, _ = cu.post("/api/v1/customers/otp", {"phone": "13900000001",
                                                   "code": race[0]}, None, ip,
                         raw=b"phone=13900000001")
    check(st == 415, "form-encoded login: 415 (no cross-site forms)")
    st, doc, _ = cu.post("/api/v1/customers/otp", {"phone": "13900000001",
                                                   "code": race[0]}, None, ip)
    check(st == 202 and doc["phone"] == "139****0001",
          "code sent, phone shown masked")
    real = cu.outbox("13900000001")
    check(real is not None, "the demo notifier wrote the code to the outbox")
    mode = stat.S_IMODE(os.stat(os.path.join(env.data,
                                             "otp-outbox.log")).st_mode)
    check(mode == 0o600, "otp-outbox.log is 0600")
    st, doc, hdrs = cu.post("/api/v1/customers/otp",
                            {"phone": "13900000001", "code": race[0]}, None,
                            ip)
    check(st == 429 and "Retry-After" in hdrs,
          "a second code within a minute: 429 with Retry-After")
    wrong = "%06d" % ((int(real) + 1) % 1000000)
    sts = []
    for i in range(5):
        st, doc, _ = cu.post("/api/v1/customers/verify",
                             {"phone": "13900000001", "code": race[0],
                              "otp": wrong}, None, ip)
        sts.append(st)
    check(sts == [401, 401, 401, 401, 429],
          "OTP guessing: four wrong codes 401, the fifth 429 (%r)" % sts)
    st, doc, _ = cu.post("/api/v1/customers/verify",
                         {"phone": "13900000001", "code": race[0],
                          "otp": real}, None, ip)
    check(st == 429, "after 5 wrong guesses even the right code is refused")
    ip2 = cu.next_ip()
    cu.post("/api/v1/customers/otp", {"phone": "13900000002",
                                      "code": race[0]}, None, ip2)
    code2 = cu.outbox("13900000002")
    time.sleep(OTP_TTL + 1)
    st, doc, _ = cu.post("/api/v1/customers/verify",
                         {"phone": "13900000002", "code": race[0],
                          "otp": code2}, None, ip2)
    check(st == 401 and doc["error"]["code"] == "otp_expired",
          "expired OTP refused")
    sts = []
    ip3 = cu.next_ip()
    for i in range(8):
        st, doc, _ = cu.post("/api/v1/customers/otp",
                             {"phone": "1390000%04d" % (100 + i),
                              "code": race[0]}, None, ip3)
        sts.append(st)
    check(sts[:5] == [202] * 5 and 429 in sts[5:],
          "per-address send limit: 429 after a burst (%r)" % sts)
    # Sent at once (from 8 addresses), as one after the other: one code a
    # minute per phone, and every wrong guess counted.
    ips = [cu.next_ip() for _ in range(8)]
    sts = burst(srv, "/api/v1/customers/otp", {"phone": "13900000300",
                                              "code": race[0]}, ips)
    with open(os.path.join(env.data, "otp-outbox.log")) as f:
        sent = sum(" phone=8613900000300 " in line for line in f)
    check(sorted(sts) == [202] + [429] * 7 and sent == 1,
          "8 codes asked for one phone at once: one sent (%r, %d)" % (
              sorted(sts), sent))
    wrong = "%06d" % ((int(cu.outbox("13900000300")) + 1) % 1000000)
    sts = burst(srv, "/api/v1/customers/verify", {"phone": "13900000300",
                                                 "code": race[0],
                                                 "otp": wrong}, ips)
    check(sorted(sts) == [401] * 4 + [429] * 4,
          "8 wrong codes at once: 4 401, then locked (%r)" % sorted(sts))

    # ---- login, /me ----
    dev1, id1 = cu.login("13800000001", race[0])
    st, doc = cu.get("/api/v1/me", dev1)
    check(st == 200 and doc["customer"]["phone"] == "138****0001" and
          doc["customer"]["balance"] == 0 and
          doc["customer"]["tier"].endswith("Bronze"),
          "/me: masked phone, balance 0, Bronze")
    st, doc = cu.get("/api/v1/me")
    check(st == 401, "/me without a device: 401")
    _, anon = cu.scan(race[1])
    st, doc = cu.claim(race[1], anon)
    check(st == 401 and doc["error"]["code"] == "login_required",
          "claim by a device that is not logged in: 401")
    st, doc = cu.claim(race[2], dev1)
    check(st == 403 and doc["error"]["code"] == "scan_first",
          "claim of a code this device never scanned: 403")
    again, id1b = cu.login("13800000001", race[0])
    check(id1b == id1, "logging in again finds the same customer")

    # ---- 50 customers claim one code at once: exactly one credit ----
    people = [cu.login("1380001%04d" % i, race[3]) for i in range(50)]
    results = parallel(lambda p: cu.claim(race[3], p[0]), people)
    wins = [r for r in results if r[0] == 201]
    check(len(wins) == 1 and all(r[0] == 409 for r in results
                                 if r[0] != 201),
          "50 simultaneous claims of one code: one 201, 49 409 (%r)" %
          sorted(set(r[0] for r in results)))
    total = sum(cu.get("/api/v1/me", p[0])[1]["customer"]["balance"]
                for p in people)
    check(total == 50, "exactly one credit of 50 points among the 50")
    st, doc = srv.api("GET", "campaigns/%d" % c_race, AN)
    check(doc["results"]["claims"] == 1 and doc["results"]["points"] == 50,
          "campaign results: 1 claim, 50 points")

    # ---- a scan after another customer claimed is suspicious ----
    winner = [p for p, r in zip(people, results) if r[0] == 201][0]
    devA, idA = cu.login("13800000100", race[4])
    st, doc = cu.claim(race[4], devA)
    check(st == 201 and doc["points"] == 50 and doc["balance"] == 50,
          "a claim answers points and balance")
    doc, _ = cu.scan(race[4], devA)
    check("scanned_after_claim" not in doc["signals"],
          "the claimant's own rescan is no clone signal")
    doc, _ = cu.scan(race[4], winner[0])
    check(doc["verdict"] == "suspicious" and
          "scanned_after_claim" in doc["signals"],
          "another customer's scan after the claim: suspicious")
    doc, _ = cu.scan(race[5], devA)
    check(doc["reward"] and doc["reward"]["points"] == 50 and
          doc["reward"]["logged_in"] is True and
          doc["reward"]["balance"] == 50, "scan JSON carries the reward")

    # ---- a 100-point budget hit by 1,000 claims ----
    crowd = [cu.login("1380002%04d" % i, budget[i * 100]) for i in range(10)]
    jobs = []
    for i, (dev, _) in enumerate(crowd):
        for path in budget[i * 100:(i + 1) * 100]:
            cu.scan(path, dev)
            jobs.append((path, dev))
    t0 = time.time()
    results = parallel(lambda j: cu.claim(j[0], j[1])[0], jobs, 32)
    elapsed = time.time() - t0
    ok = results.count(201)
    credited = sum(cu.get("/api/v1/me", d)[1]["customer"]["balance"]
                   for d, _ in crowd)
    check(credited <= 100 and credited == ok * 7,
          "1,000 claims on a 100-point budget: %d points credited" % credited)
    check(ok == 14 and results.count(422) == 986,
          "14 claims of 7 fit, 986 refused as budget_exhausted")
    st, doc = srv.api("GET", "campaigns/%d" % c_budget, AN)
    check(doc["results"]["points"] == 98 and
          doc["results"]["budget_left"] == 2, "budget used 98, 2 left")
    print("     1,000 claims in %.2f s" % elapsed)

    # ---- hidden PIN: 5 wrong -> locked ----
    devP, _ = cu.login("13800000200", pins[0])
    cu.scan(pins[1], devP)
    st, doc = cu.claim(pins[0], devP)
    check(st == 428, "PIN campaign without a PIN: 428")
    bad = "%08d" % ((int(pin_of[pins[0]]) + 1) % 100000000)
    sts = [cu.claim(pins[0], devP, pin=bad)[0] for _ in range(5)]
    check(sts == [403, 403, 403, 403, 423],
          "wrong PIN 4 times 403, the fifth 423 (%r)" % sts)
    st, doc = cu.claim(pins[0], devP, pin=pin_of[pins[0]])
    check(st == 423, "locked: even the right PIN is refused")
    st, doc = cu.claim(pins[1], devP, pin=pin_of[pins[1]])
    check(st == 201 and doc["points"] == 20, "right PIN on another code: 201")
    # Sent at once, wrong PINs still lock after 5: the tries are judged
    # one after the other against the counts the earlier ones left.
    devQ, _ = cu.login("13800000210", pins[2])
    bad = "%08d" % ((int(pin_of[pins[2]]) + 1) % 100000000)
    ipq = cu.next_ip()
    sts = burst(srv, "/api/v1/claims", {"code": pins[2], "pin": bad},
                [ipq] * 12, devQ)
    check(sorted(sts) == [403] * 4 + [423] * 8,
          "12 wrong PINs at once: 4 403, then locked (%r)" % sorted(sts))
    st, doc = cu.claim(pins[2], devQ, pin=pin_of[pins[2]])
    check(st == 423, "after them even the right PIN is refused")
    st, doc = srv.api("GET", "codes/" + pins[2].split("/")[-1], AN)
    check(st == 200 and doc["pin"]["wrong"] == 5,
          "the code counts 5 wrong PINs, not 12 (%r)" % doc.get("pin"))

    # ---- a prize drawn is named whole in the answer ----
    mug = "保温杯" * 10
    campaign(srv, A, name="draw", skus=["DRAW"], draw=[
        {"name": "none", "odds": 0, "stock": 5},
        {"name": mug, "odds": 1, "stock": 5}])
    devD, _ = cu.login("13800000220", draws[0])
    st, doc = cu.claim(draws[0], devD)
    check(st == 201 and doc["prize"] == mug,
          "the second prize, 30 characters, named in the claim's answer")

    # ---- roles: a retailer and a consumer each once; a second consumer 409
    devR, idR = cu.login("13800000300", roles[0])
    devC1, _ = cu.login("13800000301", roles[0])
    devC2, _ = cu.login("13800000302", roles[0])
    st, doc = cu.claim(roles[0], devR, role="retailer")
    check(st == 403 and doc["error"]["code"] == "role_not_registered",
          "retailer claim before the brand registered the role: 403")
    st, _ = srv.api("POST", "customers/%d/role" % idR, AN,
                    {"role": "retailer"})
    check(st == 403, "analyst cannot register roles")
    st, doc = srv.api("POST", "customers/%d/role" % idR, A,
                      {"role": "retailer"})
    check(st == 200, "admin registers a retailer")
    st, doc = cu.claim(roles[0], devR, role="retailer")
    check(st == 201 and doc["points"] == 5, "retailer claims: 5 points")
    st, doc = cu.claim(roles[0], devC1)
    check(st == 201 and doc["points"] == 10, "consumer claims the same code")
    st, doc = cu.claim(roles[0], devC2)
    check(st == 409, "second consumer claim: 409")
    st, doc = cu.claim(roles[0], devR, role="retailer")
    check(st == 409, "second retailer claim: 409")
    st, doc = cu.claim(roles[0], devR, role="boss")
    check(st == 422, "unknown role: 422")

    # ---- region and paused campaigns ----
    devG, _ = cu.login("13800000400", geo[0])
    st, doc = cu.claim(geo[0], devG)
    check(st == 403 and doc["error"]["code"] == "location_required",
          "regional reward without a location: 403")
    for path, (lat, lng), want in ((geo[1], (39.9, 116.4), "outside"),
                                   (geo[2], (30.27, 120.15), "inside")):
        doc, _ = cu.scan(path, devG)
        cu.post("/api/v1/scans/%s/location" % doc["scan_id"],
                {"lat": lat, "lng": lng, "accuracy": 20}, devG)
        st, doc = cu.claim(path, devG)
        if want == "outside":
            check(st == 403 and doc["error"]["code"] == "outside_region",
                  "scanned in Beijing, Zhejiang-only reward: 403")
        else:
            check(st == 201, "scanned in Hangzhou: 201")
    devO, _ = cu.login("13800000500", off[0])
    st, doc = cu.claim(off[0], devO)
    check(st == 422 and doc["error"]["code"] == "no_campaign",
          "paused campaign: 422 no_campaign")
    srv.api("POST", "campaigns/%d/resume" % c_off, A)
    st, doc = cu.claim(off[0], devO)
    check(st == 201, "resumed campaign: 201")

    # ---- redemption catalog ----
    st, doc = srv.api("POST", "catalog/items", A, {"name": "Cup <b>",
                                                   "cost": 30, "stock": 1})
    check(st == 201, "admin adds a catalog item")
    item = doc["id"]
    st, doc = cu.get("/api/v1/catalog?brand=acme")
    check(st == 200 and doc["items"][0]["name"] == "Cup <b>",
          "public catalog lists it")
    st, doc, _ = cu.post("/api/v1/redemptions", {"item": item}, devA)
    check(st == 201 and doc["balance"] == 20,
          "redeemed 30 of 50 points, 20 left")
    st, doc, _ = cu.post("/api/v1/redemptions", {"item": item}, devA)
    check(st in (409, 422), "second redemption: out of stock or points")
    st, doc, _ = cu.post("/api/v1/redemptions", {"item": item}, devP)
    check(st in (409, 422), "not enough points / stock: refused")
    st, doc = cu.get("/api/v1/me/ledger", devA)
    check(st == 200 and [e["type"] for e in doc["entries"]] ==
          ["redeem", "earn"], "ledger: earn then redeem, newest first")

    # ---- feedback ----
    doc, _ = cu.scan(race[6], devA)
    sid = doc["scan_id"]
    st, doc, _ = cu.post("/api/v1/feedback", {"scan_id": sid, "rating": 5,
                                              "text": "好酒"}, devA)
    check(st == 201, "feedback on my scan: 201")
    st, doc, _ = cu.post("/api/v1/feedback", {"scan_id": sid, "rating": 5},
                         devP)
    check(st == 403, "feedback on another device's scan: 403")
    st, doc, _ = cu.post("/api/v1/feedback", {"scan_id": sid, "rating": 6},
                         devA)
    check(st == 422, "rating 6: 422")
    st, doc, _ = cu.post("/api/v1/feedback", {"scan_id": sid, "rating": 3,
                                              "text": "x" * 501}, devA)
    check(st == 422, "501-character text: 422")

    # ---- customers over the brand API, export, erasure ----
    st, doc = srv.api("GET", "customers?phone=13800000001", AN)
    check(st == 200 and len(doc["customers"]) == 1 and
          doc["customers"][0]["phone"] == "138****0001",
          "find a customer by phone (masked)")
    st, doc = srv.api("GET", "customers?limit=5", AN)
    check(st == 200 and len(doc["customers"]) == 5 and doc["next"],
          "customer list pages")
    check(all("segment" in c and "tier" in c for c in doc["customers"]),
          "customers carry tier and RFM segment")
    st, doc = srv.api("GET", "customers/%d/export" % id1, AN)
    check(st == 403, "analyst cannot export personal data")
    st, doc = srv.api("GET", "customers/%d/export" % idA, A)
    check(st == 200 and doc["customer"]["phone"] == "+8613800000100" and
          len(doc["customer"]["ledger"]) == 2, "admin export: full phone")
    before = srv.api("GET", "campaigns/%d" % c_race, A)[1]["results"]
    st, doc = srv.api("POST", "customers/%d/erase" % idA, A)
    check(st == 200, "admin erases a customer")
    st, doc = srv.api("GET", "customers?phone=13800000100", A)
    check(st == 200 and doc["customers"] == [],
          "an erased customer can no longer be found by phone")
    after = srv.api("GET", "campaigns/%d" % c_race, A)[1]["results"]
    check(before == after and after["claims"] == 2,
          "campaign counts stay after erasure")
    st, doc = srv.api("GET", "customers/%d/export" % idA, A)
    check(st == 200 and doc["customer"]["phone"] == "erased",
          "export after erasure has no phone")
    st, doc = cu.get("/api/v1/me", devA)
    check(st == 401, "the erased customer's device is logged out")
    st, doc = srv.api("POST", "customers/%d/erase" % idA, A)
    check(st == 409, "erasing twice: 409")

    # ---- tiers from brand settings ----
    st, doc = srv.api("POST", "settings", A, {"tiers": [
        {"name": "Member", "min": 0}, {"name": "VIP", "min": 40}]})
    check(st == 200, "admin sets tiers")
    st, doc = srv.api("POST", "settings", A, {"tiers": [
        {"name": "A", "min": 5}]})
    check(st == 422, "tiers must start at 0")
    st, doc = cu.get("/api/v1/me", winner[0])
    check(doc["customer"]["tier"] == "VIP" and
          doc["customer"]["segment"] == "new",
          "50 points in 12 months: VIP, segment new")

    # ---- pages ----
    st, hdrs, body = srv.get(race[7], {"Cookie": "sg_d=" + devC1})
    html = body.decode()
    check(st == 200 and 'id="reward" hidden data-scan="' in html and
          len(body) < 20 * 1024, "landing page: reward part, %d bytes" %
          len(body))
    sid = re.search(r'data-scan="([0-9a-f]{32})"', html).group(1)
    st, doc = cu.get("/api/v1/reward?scan=" + sid, devC1)
    check(st == 200 and doc["reward"]["points"] == 50 and
          doc["reward"]["logged_in"] is True and
          doc["reward"]["balance"] == 10,
          "reward state for the page: points, logged in, balance")
    st, doc = cu.get("/api/v1/reward?scan=" + sid, devP)
    check(st == 200 and "balance" not in doc["reward"],
          "another device sees the offer but not the balance")
    st, hdrs, body = srv.get("/member")
    check(st == 200 and b"/api/v1/me" in body and
          "default-src 'none'" in hdrs.get("Content-Security-Policy", ""),
          "member page served with a strict CSP")

    # ---- nothing personal in the server log ----
    log = srv.logtext()
    check("13800000001" not in log and "138****" not in log and
          real not in log, "no phone or one-time code in the server log")

done()
