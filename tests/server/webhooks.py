"""CRM webhooks against the real sigild and a real local HTTP receiver:
the receiver is down while scans happen, then comes up, and every scan
event arrives with a signature that verifies; a receiver answering 500
for a while is retried with backoff; delivery status over the API;
cursors survive a restart; brand isolation; bad subscriptions are 422."""
import hashlib
import hmac
import http.server
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

BOT_UA = "facebookexternalhit/1.1"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """A CRM endpoint on 127.0.0.1:port that records every delivery and
    verifies its signature with the secret from the create response.
    fail_next makes it answer 500 that many times."""

    def __init__(self, port, secret):
        self.port = port
        self.secret = secret.encode()
        self.lock = threading.Lock()
        self.deliveries = []    # (delivery header, [event ids])
        self.events = []        # every event, duplicates included
        self.bad_signatures = 0
        self.stale = 0
        self.fail_next = 0
        self.failed = 0
        self.httpd = None

    def start(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                ts = self.headers.get("X-Sigil-Timestamp", "")
                sig = self.headers.get("X-Sigil-Signature", "")
                want = "v1=" + hmac.new(rec.secret, ts.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
                with rec.lock:
                    if not hmac.compare_digest(sig, want):
                        rec.bad_signatures += 1
                    if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
                        rec.stale += 1
                    if rec.fail_next > 0:
                        rec.fail_next -= 1
                        rec.failed += 1
                        status = 500
                    else:
                        doc = json.loads(body)
                        ids = [e["id"] for e in doc["events"]]
                        rec.deliveries.append(
                            (self.headers.get("X-Sigil-Delivery"), ids,
                             self.headers.get("Content-Type")))
                        rec.events.extend(doc["events"])
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                     Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def scan_ids(self):
        with self.lock:
            return [e["scan_id"] for e in self.events if e["type"] == "scan"]


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def scan_all(srv, paths):
    ids = []
    for p in paths:
        st, doc, _ = srv.scan(p)
        if st == 200 and doc and doc.get("scan_id"):
            ids.append(doc["scan_id"])
    return ids


with Env() as env:
    _, paths = env.setup_brand("acme", count=40)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, beta_paths = env.setup_brand("beta", sku="B1", count=5, init=False)
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0", "--rate-limit", "0",
                    "--webhook-allow", "127.0.0.0/8")
    port = free_port()
    url = "http://127.0.0.1:%d/crm/hook?src=sigil" % port

    # ---- bad subscriptions ----
    for bad in ["ftp://127.0.0.1/x", "http://", "not a url",
                "http://user:pw@127.0.0.1/", "http://127.0.0.1:0/",
                "http://127.0.0.1/#frag", "http://127.0.0.1/" + "a" * 260,
                "http://127.0.0.1/\u00e9", 42, None]:
        body = {"events": ["scan"]}
        if bad is not None:
            body["url"] = bad
        st, doc = srv.api("POST", "webhooks", A, body)
        check(st == 422 and doc["error"]["code"] == "invalid",
              "bad url %r: 422" % (bad,))
    for ev in [[], ["bogus"], ["scan", "scan"], "scan", [1],
               ["scan", "claim", "customer", "scan"]]:
        st, _ = srv.api("POST", "webhooks", A, {"url": url, "events": ev})
        check(st == 422, "bad events %r: 422" % (ev,))
    st, _ = srv.api("POST", "webhooks", A, b"{\"url\":")
    check(st == 400, "malformed JSON: 400")
    st, _ = srv.api("POST", "webhooks", AN, {"url": url, "events": ["scan"]})
    check(st == 403, "analyst cannot subscribe: 403")
    st, doc = srv.api("GET", "webhooks", A)
    check(st == 200 and doc["webhooks"] == [], "nothing was created")

    # ---- a subscription ----
    st, sub = srv.api("POST", "webhooks", A, {"url": url,
                                               "events": ["scan", "claim"]})
    check(st == 201 and isinstance(sub.get("secret"), str) and
          len(sub["secret"]) == 64 and
          all(c in "0123456789abcdef" for c in sub["secret"]),
          "created: 201 with a 64-hex secret shown once")
    sid = sub["id"]
    secret = sub["secret"]
    check(sub["events"] == ["scan", "claim"] and sub["url"] == url,
          "subscription echoes url and events")
    st, doc = srv.api("GET", "webhooks/%d" % sid, A)
    check(st == 200 and "secret" not in doc and secret not in json.dumps(doc),
          "the secret is never shown again")
    check(secret not in srv.logtext(), "the secret never reaches the log")

    # ---- receiver down while scans happen ----
    rec = Receiver(port, secret)
    made = scan_all(srv, paths[:12])
    made += scan_all(srv, paths[:3])        # repeat scans are events too
    srv.scan(paths[5], headers={"User-Agent": BOT_UA})   # a bot: not sent
    beta_made = scan_all(srv, beta_paths)   # another brand: never sent
    check(len(made) == 15 and len(beta_made) == 5, "15 acme scans made")
    time.sleep(2.5)
    st, doc = srv.api("GET", "webhooks/%d" % sid, A)
    d = doc.get("delivery", {})
    check(st == 200 and d.get("attempts", 0) >= 1 and
          d.get("last_status") == "failed" and d.get("delivered") == 0 and
          d.get("next_try") is not None,
          "receiver down: attempts %s, last_status failed, nothing delivered"
          % d.get("attempts"))
    st, doc = srv.api("GET", "webhooks", A)
    check(st == 200 and len(doc["webhooks"]) == 1 and
          doc["webhooks"][0]["delivery"]["attempts"] >= 1,
          "list shows delivery status")

    # ---- receiver up: everything arrives ----
    rec.start()
    ok = wait_for(lambda: set(made) <= set(rec.scan_ids()), 30)
    got = rec.scan_ids()
    check(ok, "every scan made while the receiver was down arrived "
          "(%d of %d)" % (len(set(made) & set(got)), len(set(made))))
    check(sorted(set(got)) == sorted(set(made)),
          "nothing else arrived (no bot, no other brand)")
    check(not set(beta_made) & set(got), "other brand's scans never sent")
    check(rec.bad_signatures == 0 and rec.stale == 0,
          "every signature verifies, timestamps are fresh")
    dups = len(got) - len(set(got))
    print("info duplicates=%d deliveries=%d" % (dups, len(rec.deliveries)))
    first_seen = []
    for i in got:
        if i not in first_seen:
            first_seen.append(i)
    check(first_seen == made, "scan events arrive in scan order")
    check(all(dl and dl.startswith("%d-" % sid) and dl.endswith(ids[0])
              and ct == "application/json"
              for dl, ids, ct in rec.deliveries),
          "X-Sigil-Delivery names the subscription and first event")
    ev = rec.events[0]
    check(ev["type"] == "scan" and ev["verdict"] in
          ("genuine", "suspicious") and "serial" in ev and "batch" in ev
          and "at" in ev and "first_scan" in ev and "ip" not in ev and
          "device" not in ev, "scan event payload")
    firsts = [e for e in rec.events if e.get("first_scan")]
    check(len({e["scan_id"] for e in firsts}) == 12,
          "first_scan set for the 12 first scans")
    time.sleep(0.5)
    st, doc = srv.api("GET", "webhooks/%d" % sid, A)
    d = doc["delivery"]
    check(d["attempts"] == 0 and d["last_status"] == "delivered" and
          d["delivered"] >= len(made) and d["next_try"] is None,
          "after recovery: attempts 0, last_status delivered, delivered %d"
          % d["delivered"])

    # ---- a receiver answering 500 for a while ----
    with rec.lock:
        rec.fail_next = 2
    more = scan_all(srv, paths[12:17])
    saw_500 = wait_for(lambda: rec.failed >= 1 and
                       srv.api("GET", "webhooks/%d" % sid, A)[1]
                       ["delivery"]["last_status"] == "failed", 10)
    check(saw_500, "a 500 shows as last_status failed (no status number)")
    ok = wait_for(lambda: set(more) <= set(rec.scan_ids()), 30)
    check(ok and rec.failed == 2, "after two 500s the batch is retried "
          "and arrives")
    st, doc = srv.api("GET", "webhooks/%d" % sid, A)
    check(doc["delivery"]["attempts"] == 0 and
          doc["delivery"]["last_status"] == "delivered",
          "status back to delivered")

    # ---- cursors survive a restart ----
    rec.stop()
    later = scan_all(srv, paths[17:20])
    time.sleep(0.5)
    srv.stop()
    srv = env.start("--api-rate-limit", "0", "--rate-limit", "0",
                    "--webhook-allow", "127.0.0.0/8")
    before = len(rec.scan_ids())
    rec.start()
    ok = wait_for(lambda: set(later) <= set(rec.scan_ids()), 30)
    check(ok, "scans made before a restart are delivered after it")
    redelivered = [i for i in rec.scan_ids()[before:] if i in made + more]
    check(len(redelivered) == 0, "acknowledged events are not sent again "
          "after a restart")
    check(rec.bad_signatures == 0, "signatures verify after the restart")

    # ---- brand isolation ----
    st, _ = srv.api("GET", "webhooks/%d" % sid, B)
    check(st == 404, "another brand's webhook: 404")
    st, doc = srv.api("GET", "webhooks", B)
    check(st == 200 and doc["webhooks"] == [], "another brand lists none")
    for bad in ["999", "0", "abc", "-1", "1x", "99999999999"]:
        st, _ = srv.api("GET", "webhooks/" + bad, A)
        check(st == 404, "webhooks/%s: 404" % bad)
    st, _ = srv.api("GET", "webhooks", AN)
    check(st == 403, "analyst cannot list webhooks (URLs may hold secrets)")
    st, sub2 = srv.api("POST", "webhooks", B, {"url": url,
                                                "events": ["customer"]})
    check(st == 201 and sub2["secret"] != secret, "each subscription has "
          "its own secret")
    st, sub3 = srv.api("POST", "webhooks", A, {"url": url + "&2",
                                                "events": ["customer"]})
    check(st == 201 and sub3["id"] > sub2["id"], "a second acme webhook")
    st, _ = srv.api("DELETE", "webhooks/%d" % sub3["id"], B)
    check(st == 404, "another brand cannot delete it: 404")
    st, _ = srv.api("GET", "webhooks/%d" % sub3["id"], A)
    check(st == 200, "still there for its own brand")
    st, doc = srv.api("DELETE", "webhooks/%d" % sid, AN)
    check(st == 403, "analyst cannot delete")
    st, doc = srv.api("DELETE", "webhooks/%d" % sid, A)
    check(st == 200 and doc.get("deleted") is True, "deleted (%d %r)"
          % (st, doc))
    st, _ = srv.api("GET", "webhooks/%d" % sid, A)
    check(st == 404, "deleted webhook: 404")
    st, _ = srv.api("DELETE", "webhooks/%d" % sid, A)
    check(st == 404, "deleting twice: 404")
    st, doc = srv.api("GET", "webhooks/%d" % sub2["id"], B)
    check(st == 200, "the other brand's webhook is untouched")
    n = len(rec.events)
    scan_all(srv, paths[20:22])
    time.sleep(1.5)
    check(len(rec.events) == n, "a deleted subscription delivers nothing")
    rec.stop()

done()
