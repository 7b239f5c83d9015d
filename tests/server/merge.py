"""Two customers made one, against the real sigild and the WeChat stand-in
(tests/lib/wechat_standin.py) on loopback (docs/api.md, "Merging
customers").

A WeChat customer (the mini-program's login: an openid, no phone) earns
points; a phone customer earns points on another phone; the WeChat
customer then logs in with that phone's one-time code: one customer
(the phone's), both histories (claims, ledger entries with their
origin, scans of both devices), the balance equal to the sum of its
ledger and to the two balances before; the merged id names the
survivor in the brand API, and is refused for earning; an audit entry,
a customer.merged webhook event. The other way round: a phone customer's
device signed in by WeChat with an openid another customer holds merges
them too. A new phone on a WeChat customer is bound to it. Two openids
of one app (each customer with its own): 409 merge_conflict, nothing
changed. Two phones: no merge, the device switches. Erasing with the
merged id erases the survivor, identities included.
"""
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done, outbox_code  # noqa: E402
from wechat_standin import StandIn  # noqa: E402

MP, MP_SECRET = "wx99aa88bb77cc6655", "fedcba9876543210fedcba9876543210"


class Hooks:
    """A webhook receiver on loopback: the events it was sent."""

    def __init__(self):
        self.events = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                doc = json.loads(self.rfile.read(n))
                outer.events.extend(doc.get("events", [doc]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


def main():
    with Env() as env:
        _, paths = env.setup_brand("acme", count=30)
        wx = StandIn()
        wx.add_app(MP, MP_SECRET, "mp")
        wx.start()
        hooks = Hooks()
        srv = env.start("--wechat-api", wx.base, "--wechat-open", wx.base,
                        "--webhook-allow", "127.0.0.1")
        admin = env.token("acme", "admin")
        st, doc = srv.api("PUT", "wechat", admin,
                          body={"mp": {"appid": MP, "secret": MP_SECRET}})
        check(st == 200, "the mini-program configured (%s %s)" % (st, doc))
        st, doc = srv.api("POST", "campaigns", admin, body={
            "name": "c", "skus": ["W1"], "starts": "2020-01-01",
            "ends": "2099-12-31", "points": 10})
        check(st == 201, "a campaign: 10 points a code (%s %s)" % (st, doc))
        st, doc = srv.api("POST", "webhooks", admin, body={
            "url": hooks.url, "events": ["customer"]})
        check(st == 201, "a customer webhook (%s %s)" % (st, doc))

        sources = iter("127.0.%d.%d" % (i // 200, 2 + i % 200)
                       for i in range(1000))

        def call(method, path, body=None, device=None, source=None):
            h = {"Accept": "application/json"}
            if device:
                h["Cookie"] = "sg_d=" + device
            st, hdrs, raw = srv.request(method, path, body=body, headers=h,
                                        source=source)
            try:
                return st, json.loads(raw)
            except ValueError:
                return st, None

        def wechat(user, device=None):
            """The mini-program's login: (device, customer)."""
            st, doc = call("POST", "/api/v1/wechat/session",
                           {"appid": MP, "code": wx.login_code(MP, user)},
                           device)
            if st != 200:
                raise RuntimeError("wechat session %d %r" % (st, doc))
            return doc["session"], doc["customer"]

        def scan(path, device=None):
            st, doc, dev = srv.scan(path, device)
            if st != 200:
                raise RuntimeError("scan %d %r" % (st, doc))
            return dev

        def verify(phone, path, device):
            """A one-time code asked for and given, from an address of
            its own (the per-address limit on codes is not tested here)."""
            source = next(sources)
            st, doc = call("POST", "/api/v1/customers/otp",
                           {"phone": phone, "code": path}, device, source)
            if st != 202:
                raise RuntimeError("otp %d %r" % (st, doc))
            return call("POST", "/api/v1/customers/verify",
                        {"phone": phone, "code": path,
                         "otp": outbox_code(env.data, phone)}, device,
                        source)

        def claim(path, device):
            return call("POST", "/api/v1/claims", {"code": path}, device)

        def history(cid):
            st, doc = srv.api("GET", "customers/%d/history" % cid, admin)
            return doc if st == 200 else None

        def balance(cid):
            st, doc = srv.api("GET", "customers/%d" % cid, admin)
            return doc["customer"]["balance"] if st == 200 else None

        def ledger_sum(h):
            return sum(e["points"] for e in h["ledger"])

        # ---- a WeChat customer with points binds a phone with points ----
        wdev, wcu = wechat("wendy")
        check(wcu["phone"] is None and wcu["created"],
              "the mini-program makes a customer without a phone")
        w = wcu["id"]
        scan(paths[0], wdev)
        scan(paths[1], wdev)
        st, doc = claim(paths[0], wdev)
        check(st == 201, "the WeChat customer claims (%s %s)" % (st, doc))
        st, doc = claim(paths[1], wdev)
        check(st == 201 and doc["balance"] == 20,
              "... twice: 20 points (%s %s)" % (st, doc))
        pdev = scan(paths[2])
        st, doc = verify("13900139001", paths[2], pdev)
        check(st == 200 and doc["created"] and doc["merged"] is None,
              "a phone customer logs in elsewhere (%s %s)" % (st, doc))
        p = doc["customer"]["id"]
        st, doc = claim(paths[2], pdev)
        check(st == 201 and doc["balance"] == 10,
              "the phone customer claims: 10 points (%s %s)" % (st, doc))
        hw, hp = history(w), history(p)
        before = balance(w) + balance(p)

        scan(paths[3], wdev)
        st, doc = verify("13900139001", paths[3], wdev)
        check(st == 200 and doc["customer"]["id"] == p and
              doc["merged"] == w and not doc["created"] and
              not doc["bound"],
              "the WeChat customer logs in with the phone: merged into "
              "the phone's customer (%s %s)" % (st, doc))
        st, me = call("GET", "/api/v1/me?brand=acme", device=wdev)
        check(st == 200 and me["customer"]["id"] == p and
              me["customer"]["balance"] == 30,
              "the WeChat device is the phone customer's, 30 points (%s %s)"
              % (st, me))
        st, me2 = call("GET", "/api/v1/me?brand=acme", device=pdev)
        check(st == 200 and me2["customer"]["balance"] == 30,
              "... and the phone's own device sees the same (%s)" % me2)
        st, doc = srv.api("GET", "customers/%d" % w, admin)
        check(st == 200 and doc["customer"]["id"] == p,
              "the merged id names the survivor in the brand API (%s %s)"
              % (st, doc))
        h = history(w)
        check(h is not None and h["customer"] == p,
              "... its history is the survivor's")
        check(balance(p) == before == 30 and ledger_sum(h) == 30,
              "the balance is the sum of the two, and of the ledger (%s, "
              "%s)" % (balance(p), ledger_sum(h)))
        claims = sorted(c["id"] for c in h["claims"])
        check(claims == sorted([c["id"] for c in hw["claims"]] +
                               [c["id"] for c in hp["claims"]]),
              "both histories: every claim of both (%s)" % claims)
        ids = {e["id"]: e for e in h["ledger"]}
        check(all(e["id"] in ids and ids[e["id"]]["at"] == e["at"] and
                  ids[e["id"]].get("from_customer") == w
                  for e in hw["ledger"]) and
              all(e["id"] in ids and "from_customer" not in ids[e["id"]]
                  for e in hp["ledger"]),
              "... every ledger entry of both, times kept, the WeChat "
              "customer's marked from_customer")
        merges = [e for e in h["ledger"] if e["type"] == "merge"]
        check(len(merges) == 1 and merges[0]["ref"] == w and
              merges[0]["points"] == 0,
              "one merge entry in the ledger (%s)" % merges)
        check(len(h["scans"]) >= len(hw["scans"]) + len(hp["scans"]),
              "... the scans of both customers' devices")
        st, doc = srv.api("GET", "customers/%d" % p, admin)
        check(st == 200 and doc["customer"]["phone"] and
              [i["kind"] for i in doc["customer"].get("identities", [])] ==
              ["wechat_mp"],
              "the survivor has the phone and the WeChat identity (%s)" %
              doc["customer"].get("identities"))
        ndev, ncu = wechat("wendy")
        check(ncu["id"] == p,
              "the same WeChat user on a new device finds the survivor")
        st, doc = claim(paths[3], wdev)
        check(st == 201 and doc["balance"] == 40,
              "the survivor earns on (%s %s)" % (st, doc))
        st, doc = srv.api("GET", "customers/summary", admin)
        check(st == 200 and doc["merged"] == 1,
              "the summary counts one merged customer (%s)" % doc)
        st, doc = srv.api("GET", "customers?limit=100", admin)
        check(st == 200 and w not in [c["id"] for c in doc["customers"]],
              "the merged customer is not listed on its own")
        st, doc = srv.api("GET", "audit?action=customer_merge", admin)
        entries = doc.get("entries", []) if st == 200 else []
        check(len(entries) == 1 and entries[0]["actor"]["kind"] ==
              "customer" and entries[0]["actor"]["id"] == str(p),
              "an audit entry by customer:%d (%s)" % (p, entries))
        body = srv.api("GET", "audit?action=customer_merge", admin)[1]
        check("13900139001" not in json.dumps(body),
              "... without the phone")

        # ---- WeChat on a phone customer's device: merged too ----
        w2dev, w2cu = wechat("walt")
        scan(paths[4], w2dev)
        check(claim(paths[4], w2dev)[0] == 201, "another WeChat customer "
              "earns 10")
        p2dev = scan(paths[5])
        st, doc = verify("13900139002", paths[5], p2dev)
        p2 = doc["customer"]["id"]
        check(claim(paths[5], p2dev)[0] == 201, "another phone customer "
              "earns 10")
        _, cu = wechat("walt", p2dev)
        check(cu["id"] == p2 and cu["phone"],
              "walt's WeChat on the phone customer's device: one customer, "
              "the phone's (%s)" % cu)
        h2 = history(w2cu["id"])
        check(h2["customer"] == p2 and balance(p2) == 20 ==
              ledger_sum(h2),
              "... 20 points, equal to its ledger (%s)" % balance(p2))

        # ---- a new phone on a WeChat customer: bound, no merge ----
        w3dev, w3cu = wechat("wilma")
        scan(paths[6], w3dev)
        st, doc = verify("13900139003", paths[6], w3dev)
        check(st == 200 and doc["customer"]["id"] == w3cu["id"] and
              doc["bound"] and doc["merged"] is None,
              "a new phone on a WeChat customer is bound to it (%s)" % doc)

        # ---- two openids of one app: refused, nothing changed ----
        # wilma (WeChat + phone ...003) and xena (WeChat, no phone)
        x_dev, x_cu = wechat("xena")
        scan(paths[7], x_dev)
        check(claim(paths[7], x_dev)[0] == 201, "xena earns 10")
        scan(paths[8], x_dev)
        st, doc = verify("13900139003", paths[8], x_dev)
        check(st == 409 and doc["error"]["code"] == "merge_conflict",
              "two openids of one app: 409 merge_conflict (%s %s)" %
              (st, doc))
        st, doc = srv.api("GET", "customers/%d" % x_cu["id"], admin)
        check(st == 200 and doc["customer"]["id"] == x_cu["id"] and
              doc["customer"]["balance"] == 10,
              "... xena stays herself with her 10 points")
        st, me = call("GET", "/api/v1/me?brand=acme", device=x_dev)
        check(st == 200 and me["customer"]["id"] == x_cu["id"],
              "... and her device stays hers")

        # ---- two phones: no merge, the device switches ----
        st, doc = verify("13900139002", paths[2], pdev)
        check(st == 200 and doc["customer"]["id"] == p2 and
              doc["merged"] is None,
              "another phone on a phone customer's device: switched, "
              "not merged (%s)" % doc)
        check(balance(p) == 40 and balance(p2) == 20,
              "... both keep their points")

        # ---- bad input changes nothing ----
        st, doc = call("POST", "/api/v1/customers/verify",
                       {"phone": "13900139001", "code": paths[8],
                        "otp": "000000"}, x_dev)
        check(st in (401, 429) and balance(x_cu["id"]) == 10,
              "a wrong code on xena's device: %s, nothing merged" % st)

        # ---- the webhook event ----
        deadline = time.time() + 15
        merged = []
        while time.time() < deadline:
            merged = [e for e in hooks.events
                      if e.get("type") == "customer.merged"]
            if len(merged) >= 2:
                break
            time.sleep(0.2)
        check(any(e["customer_id"] == p and e["merged_customer_id"] == w
                  and e["points"] == 20 for e in merged) and
              any(e["customer_id"] == p2 and
                  e["merged_customer_id"] == w2cu["id"] for e in merged),
              "customer.merged events: survivor, merged id, points (%s)" %
              merged)
        check("13900139001" not in json.dumps(hooks.events),
              "... never a phone")

        # ---- erasure with the merged id ----
        st, doc = srv.api("POST", "customers/%d/erase" % w, admin)
        check(st == 200 and doc["id"] == p,
              "erasing the merged id erases the survivor (%s %s)" %
              (st, doc))
        st, me = call("GET", "/api/v1/me?brand=acme", device=wdev)
        check(st != 200, "... its devices are logged out (%s)" % st)
        _, cu = wechat("wendy")
        check(cu["id"] not in (p, w) and cu["created"],
              "... its WeChat identity is gone: wendy is new again")
        hooks.stop()
        wx.stop()
    done()


if __name__ == "__main__":
    main()
