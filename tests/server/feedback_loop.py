"""The feedback loop (issue 21 item 4) against the real sigild.

The landing page of a genuine scan carries the rating form, the page of
a forged code the "report a fake" form (zh-CN and English); what the
forms post (POST /api/v1/feedback, as the page's script does) appears in
the brand's inbox (GET /api/v1/feedback, with every filter) and in the
product's satisfaction (GET /api/v1/stats/satisfaction: average, the
NPS-style score, per day and week, by product and batch). A reply is
stored and handed to the customer's message channel in the same
transaction: the SMS gateway
stand-in (tests/lib/egresstest.py's Listener, as sms_gateway.py) gets
it from the messages part's dispatcher. Close; a closed entry takes no reply. A fake report's photo is
checked by its magic bytes and its size, served back only to the brand
(image type, nosniff, sandbox CSP, no caching) and gone after the
customer's erasure. Bad input of every kind: a clear 4xx and nothing
changed. With FAULT_BIN (a FAULT=1 build: SIGIL_TEST_CLOCK_SHIFT), a
product's rating drop raises one rating_drop alert.
"""
import base64
import json
import os
import re
import socket
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402
from egresstest import Listener, wait_for  # noqa: E402

SECRET = "s3cret-for-the-sms-gateway-0123456789abcdef"
FAULT_BIN = os.environ.get("FAULT_BIN")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00"
       b"\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc"
       b"\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00"
       b"\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00" \
    b"\x00" + b"\x00" * 64 + b"\xff\xd9"


def flip(path):
    """A forged tag: the last character of the signature changed (the
    key id, and so the brand, stays)."""
    return path[:-1] + ("0" if path[-1] != "0" else "1")


def write_secret(env, name, text):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


def page(srv, path, lang="zh-CN,zh;q=0.9", device=None):
    """The landing page as a phone gets it: (html, device, scan id)."""
    h = {"Accept": "text/html", "Accept-Language": lang}
    if device:
        h["Cookie"] = "sg_d=" + device
    st, hdrs, body = srv.request("GET", path, headers=h)
    html = body.decode()
    m = re.search(r"sg_d=([0-9a-f.]+)", hdrs.get("Set-Cookie", ""))
    dev = m.group(1) if m else device
    sid = re.search(r'<section class="card" id="fk" data-scan="([^"]+)"|'
                    r'<input type="hidden" name="scan_id" value="([^"]+)"',
                    html)
    return st, html, dev, (sid.group(1) or sid.group(2)) if sid else None


def form(srv, fields, device, ctype="application/x-www-form-urlencoded",
         lang="zh-CN,zh;q=0.9"):
    """POST /feedback as the landing page's plain form sends it."""
    h = {"Cookie": "sg_d=" + device, "Content-Type": ctype,
         "Accept-Language": lang}
    body = fields if isinstance(fields, bytes) else \
        urllib.parse.urlencode(fields).encode()
    st, hdrs, data = srv.request("POST", "/feedback", body=body, headers=h)
    return st, hdrs, data.decode("utf-8", "replace")


def post(srv, body, device, raw=None):
    h = {"Accept": "application/json", "Cookie": "sg_d=" + device}
    st, _, data = srv.request("POST", "/api/v1/feedback",
                              body=raw if raw is not None else body,
                              headers=h, timeout=60)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, None


def login(srv, gw, path, device, phone):
    h = {"Accept": "application/json", "Cookie": "sg_d=" + device}
    n = gw.count()
    st, _, _ = srv.request("POST", "/api/v1/customers/otp",
                           body={"phone": phone, "code": path}, headers=h)
    check(st == 202 and wait_for(lambda: gw.count() > n, 10),
          "the login code went to the SMS gateway")
    code = re.search(r"(\d{6})", json.loads(gw.requests[-1][3])["text"])
    st, _, data = srv.request("POST", "/api/v1/customers/verify",
                              body={"phone": phone, "code": path,
                                    "otp": code.group(1)}, headers=h)
    check(st == 200, "logged in (%d)" % st)
    return json.loads(data)["customer"]["id"]


def head_status(srv, path, length):
    """The status of a POST announcing length bytes, none of them sent."""
    sock = socket.create_connection(("127.0.0.1", srv.port), 5)
    try:
        sock.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: %d\r\n\r\n" %
                      (path, length)).encode())
        sock.settimeout(5)
        head = sock.recv(4096).decode("latin-1")
        return int(head.split(" ")[1])
    except (OSError, IndexError, ValueError):
        return None
    finally:
        sock.close()


def inbox(srv, tok, q=""):
    st, d = srv.api("GET", "feedback?limit=1000" + q, tok)
    return d["feedback"] if st == 200 else None


with Env() as env:
    _, paths = env.setup_brand("acme", count=20)
    b2, paths2 = env.setup_brand("acme", sku="W2", count=10, init=False)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    ADMIN = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    BETA = env.token("beta", "admin")
    gw = Listener(secret=SECRET).start()
    srv = env.start("--sms-webhook", "http://127.0.0.1:%d/sms" % gw.port,
                    "--sms-secret-file", write_secret(env, "sms", SECRET),
                    "--webhook-allow", "127.0.0.0/8")

    # ---- the landing pages carry the forms ----
    st, html, devA, sidA = page(srv, paths[0])
    check(st == 200 and 'id="fb"' in html and 'id="fk"' not in html and
          sidA, "a genuine scan's page: the rating form, no fake report")
    check("为这件商品打分" in html and "提交评价" in html,
          "the rating form in Chinese")
    st, html_en, _, _ = page(srv, paths[1], lang="en-US")
    check("Rate this item" in html_en and "Send rating" in html_en,
          "the rating form in English")
    st, fhtml, devF, sidF = page(srv, flip(paths[2]))
    check(st == 200 and 'id="fk"' in fhtml and 'id="fb"' not in fhtml and
          sidF, "a forged code's page: the fake report, no rating form")
    check("举报假货" in fhtml and "购买地点" in fhtml and
          'accept="image/jpeg,image/png"' in fhtml,
          "the fake report in Chinese, with the photo field")
    st, fhtml_en, _, _ = page(srv, flip(paths[3]), lang="en-US")
    check("Report a fake" in fhtml_en, "the fake report in English")

    # ---- ratings from the page's forms ----
    cidA = login(srv, gw, paths[0], devA, "13900000021")
    check('<form class="card" id="fb" method="post" action="/feedback">'
          in html and 'name="rating" value="5"' in html,
          "the rating form posts to /feedback without a script")
    st, hdrs, body = form(srv, {"scan_id": sidA,
                                "rating": "5", "text": "很好喝 + 回购"}, devA)
    check(st == 200 and "谢谢您的评价" in body and
          hdrs.get("Content-Type", "").startswith("text/html") and
          "default-src 'none'" in hdrs.get("Content-Security-Policy", ""),
          "the landing page's form: a logged-in customer rates 5, thanked "
          "in Chinese")
    rated_A = inbox(srv, AN)[0]["id"]
    _, _, devB, sidB = page(srv, paths[4])
    st, d = post(srv, {"scan_id": sidB, "rating": 2, "text": "一般"}, devB)
    check(st == 201, "an anonymous device rates 2: 201")
    rated_B = d["id"]
    _, _, devC, sidC = page(srv, paths2[0])
    st, d = post(srv, {"scan_id": sidC, "rating": 4}, devC)
    check(st == 201, "a W2 item rated 4 without text: 201")
    rated_C = d["id"]

    items = inbox(srv, AN)
    check([f["id"] for f in items] == [rated_C, rated_B, rated_A],
          "the inbox, newest first")
    a = [f for f in items if f["id"] == rated_A][0]
    check(a["kind"] == "rating" and a["status"] == "open" and
          a["rating"] == 5 and a["text"] == "很好喝 + 回购" and
          a["sku"] == "W1" and
          a["customer"] == cidA and a["reply"] is None and
          a["photo"] is None and a["where"] is None and a["batch"],
          "the entry: kind, status open, rating, text, product, customer")
    st, one = srv.api("GET", "feedback/%d" % rated_A, AN)
    check(st == 200 and one == a, "GET feedback/{id}: the same entry")

    # ---- satisfaction ----
    st, s = srv.api("GET", "stats/satisfaction?tz=8", AN)
    check(st == 200 and s["count"] == 3 and s["average"] == 3.67 and
          s["ratings"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1} and
          s["promoters"] == 1 and s["detractors"] == 1 and s["nps"] == 0,
          "satisfaction: 3 ratings, average 3.67, NPS 0 (%s)" %
          {k: s.get(k) for k in ("count", "average", "nps")})
    check(len(s["series"]) == 91 and s["series"][-1]["count"] == 3 and
          s["series"][0]["average"] is None,
          "per day: 91 days, today holds the 3, empty days null")
    w1 = [g for g in s["by_sku"] if g["sku"] == "W1"]
    check(len(w1) == 1 and w1[0]["count"] == 2 and w1[0]["average"] == 3.5
          and w1[0]["nps"] == 0 and w1[0]["product_name"] == "Product W1",
          "by product: W1 has 2 ratings, average 3.5")
    st, s2 = srv.api("GET", "stats/satisfaction?sku=W2&interval=week", AN)
    check(st == 200 and s2["count"] == 1 and s2["average"] == 4 and
          s2["nps"] == 0 and s2["interval"] == "week" and
          s2["series"][-1]["count"] == 1 and
          s2["by_batch"][0]["batch"] == b2,
          "W2 by week: one rating of 4, its batch")
    st, s3 = srv.api("GET", "stats/satisfaction?batch=%d" % b2, AN)
    check(st == 200 and s3["count"] == 1, "by batch: the batch's ratings")

    # ---- a fake report with a photo ----
    photo = "data:image/png;base64," + base64.b64encode(PNG).decode()
    st, d = post(srv, {"scan_id": sidF, "kind": "fake", "where": "某某超市",
                       "text": "包装很粗糙", "photo": photo}, devF)
    check(st == 201 and d["kind"] == "fake" and d["photo"] is True,
          "a fake report with a PNG photo: 201")
    fake_id = d["id"]
    st, d = srv.api("GET", "feedback/%d" % fake_id, AN)
    check(st == 200 and d["kind"] == "fake" and d["where"] == "某某超市" and
          d["rating"] == 0 and d["photo"] == "/api/v1/feedback/%d/photo" %
          fake_id and d["sku"] is None and d["scan"],
          "the fake report in the inbox, where bought, the photo's address")
    st, hdrs, body = srv.request("GET", d["photo"], headers={
        "Authorization": "Bearer " + AN})
    check(st == 200 and body == PNG and hdrs.get("Content-Type") ==
          "image/png" and hdrs.get("X-Content-Type-Options") == "nosniff"
          and "sandbox" in hdrs.get("Content-Security-Policy", "") and
          "no-store" in hdrs.get("Cache-Control", ""),
          "the photo served back: the same bytes, image/png, nosniff, "
          "sandbox, no-store")
    st, _, _ = srv.request("GET", d["photo"])
    check(st == 401, "the photo without credentials: 401")
    st, _, _ = srv.request("GET", d["photo"], headers={
        "Authorization": "Bearer " + BETA})
    check(st == 404, "another brand: 404")
    _, _, devJ, sidJ = page(srv, flip(paths[5]))
    st, d = post(srv, {"scan_id": sidJ, "kind": "fake", "where": "网店",
                       "photo": base64.b64encode(JPEG).decode()}, devJ)
    check(st == 201, "a fake report with a JPEG (plain base64): 201")
    st, hdrs, body = srv.request("GET", "/api/v1/feedback/%d/photo" %
                                 d["id"], headers={
                                     "Authorization": "Bearer " + AN})
    check(st == 200 and body == JPEG and
          hdrs.get("Content-Type") == "image/jpeg", "served as image/jpeg")
    st, d = srv.api("GET", "stats/satisfaction", AN)
    check(d["fakes"] == 2 and d["count"] == 3,
          "satisfaction counts the 2 fake reports apart from the ratings")

    # ---- bad input: a clear 4xx, nothing changed ----
    before = inbox(srv, AN)
    def sat_now():
        d = srv.api("GET", "stats/satisfaction", AN)[1]
        return {k: v for k, v in d.items() if k not in ("since", "until")}
    before_sat = sat_now()
    big = base64.b64encode(PNG + b"\x00" * (2 * 1024 * 1024)).decode()
    gif = base64.b64encode(b"GIF89a" + b"\x00" * 40).decode()
    html_in_png = base64.b64encode(b"<html><script>alert(1)</script>"
                                   ).decode()
    bad = [
        ({"scan_id": sidA, "rating": 0}, 422, "rating 0"),
        ({"scan_id": sidA, "rating": 6}, 422, "rating 6"),
        ({"scan_id": sidA, "rating": "5"}, 422, "rating as a string"),
        ({"scan_id": sidA, "rating": 4.5}, 422, "rating 4.5"),
        ({"rating": 5}, 422, "no scan_id"),
        ({"scan_id": sidA, "rating": 5, "color": "red"}, 422, "unknown key"),
        ({"scan_id": sidA, "rating": 5, "text": "x" * 501}, 422,
         "501 characters"),
        ({"scan_id": sidA, "rating": 5, "text": "a\u202eb"}, 422, "RLO"),
        ({"scan_id": sidA, "rating": 5, "text": 7}, 422, "text a number"),
        ({"scan_id": sidA, "kind": "praise", "rating": 5}, 422,
         "unknown kind"),
        ({"scan_id": sidA, "rating": 5, "where": "x"}, 422,
         "a rating with where"),
        ({"scan_id": sidA, "rating": 5, "photo": photo}, 422,
         "a rating with a photo"),
        ({"scan_id": sidF, "kind": "fake"}, 422, "a fake without where"),
        ({"scan_id": sidF, "kind": "fake", "where": "   "}, 422,
         "where all spaces"),
        ({"scan_id": sidF, "kind": "fake", "where": "x" * 101}, 422,
         "where of 101 characters"),
        ({"scan_id": sidF, "kind": "fake", "where": "a\nb"}, 422,
         "where with a line break"),
        ({"scan_id": sidF, "kind": "fake", "where": "x", "rating": 1}, 422,
         "a fake with a rating"),
        ({"scan_id": sidF, "kind": "fake", "where": "x", "photo": "%%%"},
         422, "photo not base64"),
        ({"scan_id": sidF, "kind": "fake", "where": "x", "photo": "QUJD="},
         422, "photo base64 of a bad length"),
        ({"scan_id": sidF, "kind": "fake", "where": "x", "photo": 5}, 422,
         "photo a number"),
        ({"scan_id": sidF, "kind": "fake", "where": "x", "photo": gif}, 415,
         "a GIF photo"),
        ({"scan_id": sidF, "kind": "fake", "where": "x",
          "photo": "data:image/png;base64," + html_in_png}, 415,
         "HTML claiming to be a PNG"),
        ({"scan_id": sidF, "kind": "fake", "where": "x", "photo": big}, 413,
         "a photo over 2 MiB"),
        ({"scan_id": sidF, "rating": 3}, 404,
         "a rating of a forged code (no brand's product)"),
        ({"scan_id": "nope", "rating": 3}, 404, "an unknown scan"),
        ({"scan_id": sidA[:-1] + ("0" if sidA[-1] != "0" else "1"),
          "rating": 3}, 404, "a forged scan id"),
    ]
    for body, want, why in bad:
        st, d = post(srv, body, devF if body.get("kind") == "fake" or
                     body.get("scan_id") == sidF else devA)
        check(st == want and d and d["error"]["code"] and
              d["error"]["message"], "%s: %d (%d %s)" % (
                  why, want, st, str(d)[:80]))
    st, d = post(srv, {"scan_id": sidA, "rating": 5}, devB)
    check(st == 403, "another device's scan: 403")
    for fields, want, why in [
            ({"scan_id": sidA}, 422, "no stars"),
            ({"scan_id": sidA, "rating": "6"}, 422, "6 stars"),
            ({"scan_id": sidA, "rating": "x"}, 422, "stars not a number"),
            ({"scan_id": sidA, "rating": "4", "text": "x" * 501}, 422,
             "501 characters"),
            ({"scan_id": sidA, "rating": "4", "text": "a\u202eb"}, 422,
             "RLO"),
            ({"scan_id": "nope", "rating": "4"}, 404, "an unknown scan"),
            ({"rating": "4"}, 422, "no scan_id")]:
        st, _, body = form(srv, fields, devA)
        check(st == want and "<!DOCTYPE html>" in body and
              ("请检查" in body or "未找到" in body),
              "the form with %s: %d and a page in Chinese (%d)" % (
                  why, want, st))
    st, _, body = form(srv, {"scan_id": sidA, "rating": "4"}, devB,
                       lang="en-US,en;q=0.9")
    check(st == 403 and "phone that scanned" in body,
          "the form from another device: 403, in English for an English page")
    st, _, _ = form(srv, b'{"scan_id": "x", "rating": 4}', devA,
                    "application/json")
    check(st == 400, "the form's route takes no JSON: 400")
    st, _, _ = form(srv, b"scan_id=%ff%fe&rating=4", devA)
    check(st == 422, "the form with bytes that are not UTF-8: 422")
    check(head_status(srv, "/feedback", 64 * 1024) == 413,
          "the form's route keeps 16 KB")
    st, d = post(srv, None, devA, raw=b"{not json")
    check(st == 400, "not JSON: 400")
    st, d = post(srv, None, devA, raw=b"[1]")
    check(st == 400, "a JSON array: 400")
    check(head_status(srv, "/api/v1/feedback", 4 * 1024 * 1024) == 413,
          "a 4 MiB body: 413 from the head")
    check(head_status(srv, "/api/v1/customers/otp", 64 * 1024) == 413,
          "the other consumer routes keep their 16 KB")

    for q, code in [("status=pending", "bad_query"), ("kind=praise",
                    "bad_query"), ("batch=abc", "bad_query"),
                    ("batch=0", "bad_query"), ("batch=99999",
                    "unknown_batch"), ("status=", "bad_query"),
                    ("sku=NOPE", "unknown_sku")]:
        st, d = srv.api("GET", "feedback?" + q, AN)
        check(st == 400 and d["error"]["code"] == code,
              "feedback?%s: 400 %s" % (q, code))
    for q, code in [("interval=month", "bad_query"), ("sku=NOPE",
                    "unknown_sku"), ("batch=x", "bad_query"),
                    ("since=2026-12-02&until=2026-12-01", "bad_query"),
                    ("since=2020-01-01", "bad_query"), ("tz=99",
                    "bad_query")]:
        st, d = srv.api("GET", "stats/satisfaction?" + q, AN)
        check(st == 400 and d["error"]["code"] == code,
              "stats/satisfaction?%s: 400 %s" % (q, code))
    for path, body, want, why in [
            ("feedback/%d/reply" % rated_A, {}, 422, "a reply without text"),
            ("feedback/%d/reply" % rated_A, {"text": ""}, 422, "empty text"),
            ("feedback/%d/reply" % rated_A, {"text": "  "}, 422,
             "spaces only"),
            ("feedback/%d/reply" % rated_A, {"text": "x" * 501}, 422,
             "501 characters"),
            ("feedback/%d/reply" % rated_A, {"text": 5}, 422,
             "text a number"),
            ("feedback/%d/reply" % rated_A, {"text": "a\x1bb"}, 422, "ESC"),
            ("feedback/999999/reply", {"text": "hi"}, 404, "unknown id"),
            ("feedback/abc/reply", {"text": "hi"}, 404, "id not a number"),
            ("feedback/%d/photo" % rated_A, None, 405, "POST the photo")]:
        st, d = srv.api("POST", path, ADMIN, body=body)
        check(st == want, "%s: %d (%d)" % (why, want, st))
    st, d = srv.api("POST", "feedback/%d/reply" % rated_A, AN,
                    body={"text": "谢谢"})
    check(st == 403, "an analyst cannot reply: 403")
    st, d = srv.api("POST", "feedback/%d/reply" % rated_A, BETA,
                    body={"text": "谢谢"})
    check(st == 404, "another brand cannot reply: 404")
    st, d = srv.api("GET", "feedback/%d/photo" % rated_A, AN)
    check(st == 404, "an entry without a photo: 404")
    for body in ({"min_ratings": 0, "drop": 1}, {"min_ratings": 5},
                 {"min_ratings": 5, "drop": 0}, {"min_ratings": 5,
                 "drop": 5}, {"min_ratings": 5, "drop": "1"},
                 {"min_ratings": 5, "drop": 1, "x": 1}):
        st, d = srv.api("PUT", "feedback/settings", ADMIN, body=body)
        check(st == 422, "settings %s: 422" % body)
    st, d = srv.api("PUT", "feedback/settings", OP,
                    body={"min_ratings": 3, "drop": 1})
    check(st == 403, "an operator cannot set the thresholds: 403")
    check(inbox(srv, AN) == before and
          sat_now() == before_sat and
          srv.api("GET", "feedback/settings", AN)[1] ==
          {"min_ratings": 5, "drop": 1.0},
          "after the bad requests nothing changed")

    # ---- filters ----
    def ids(q):
        return [f["id"] for f in inbox(srv, AN, "&" + q)]
    check(ids("kind=fake") == [f["id"] for f in before
                               if f["kind"] == "fake"] and
          len(ids("kind=fake")) == 2, "kind=fake: the 2 reports")
    check(ids("kind=rating") == [rated_C, rated_B, rated_A],
          "kind=rating: the 3 ratings")
    check(ids("sku=W1") == [rated_B, rated_A], "sku=W1")
    check(ids("batch=%d" % b2) == [rated_C], "batch=W2's batch")
    check(ids("rating=2") == [rated_B], "rating=2")
    check(ids("status=open") == [f["id"] for f in before],
          "status=open: all of them, so far")
    check(ids("status=replied") == [], "status=replied: none yet")
    since = urllib.parse.quote([f for f in before
                                if f["id"] == rated_B][0]["created"])
    check(ids("kind=rating&since=" + since) == [rated_C, rated_B],
          "since an instant")

    # ---- reply: stored, and to the customer's channel ----
    n = gw.count()
    st, d = srv.api("POST", "feedback/%d/reply" % rated_A, OP,
                    body={"text": "感谢您的好评！下次购买可享九折。"})
    check(st == 200 and d["status"] == "replied" and
          d["reply"] == "感谢您的好评！下次购买可享九折。" and d["replied_at"],
          "an operator replies: 200, replied")
    check(d.get("delivered") is True, "queued for the customer's channel "
          "(the outbox row written in the reply's transaction)")
    check(wait_for(lambda: gw.count() > n, 15),
          "the reply reached the SMS gateway")
    msgs = [json.loads(r[3]) for r in gw.requests[n:]]
    check(any("感谢您的好评" in m.get("text", "") and
              m.get("phone") == "+8613900000021" for m in msgs),
          "the customer's phone got the reply's text (%s)" % msgs[:1])
    st, d = srv.api("GET", "feedback/%d" % rated_A, AN)
    check(d["status"] == "replied" and d["reply"].startswith("感谢") and
          d["replied_by"] is not None, "the entry shows the reply")
    st, ex = srv.api("GET", "customers/%d/export" % cidA, ADMIN)
    mine = [f for f in ex["customer"]["feedback"]] if st == 200 else []
    check(len(mine) == 1 and mine[0]["id"] == rated_A and
          mine[0]["reply"].startswith("感谢") and mine[0]["text"] ==
          "很好喝 + 回购" and mine[0]["photo"] is False,
          "the customer's PIPL export holds their feedback and the reply")
    st, d = srv.api("POST", "feedback/%d/reply" % rated_B, OP,
                    body={"text": "抱歉，我们会改进。"})
    check(st == 200 and d["delivered"] is False,
          "a reply to a device that never logged in: stored, not delivered")
    st, d = srv.api("POST", "feedback/%d/close" % rated_B, OP)
    check(st == 200 and d["status"] == "closed" and d["closed_at"],
          "close: 200, closed")
    st, d = srv.api("POST", "feedback/%d/reply" % rated_B, OP,
                    body={"text": "again"})
    check(st == 409 and d["error"]["code"] == "closed",
          "a reply to a closed entry: 409")
    st, d = srv.api("POST", "feedback/%d/close" % rated_B, OP)
    check(st == 409, "closing it again: 409")
    check(ids("status=replied") == [rated_A] and
          ids("status=closed") == [rated_B], "status filters follow")

    # ---- erasure cuts the fake report's photo and where ----
    page(srv, paths2[1], device=devF)
    cidF = login(srv, gw, paths2[1], devF, "13900000023")
    _, _, devF2, sidF2 = page(srv, flip(paths[6]), device=devF)
    st, d = post(srv, {"scan_id": sidF2, "kind": "fake",
                       "where": "我家楼下的小店", "photo": photo}, devF)
    check(st == 201, "a logged-in customer reports a fake with a photo")
    fake2 = d["id"]
    st, d = srv.api("GET", "feedback/%d" % fake2, AN)
    check(d["customer"] == cidF and d["photo"], "named, with a photo")
    st, _ = srv.api("POST", "customers/%d/erase" % cidF, ADMIN)
    check(st == 200, "the customer is erased")
    st, d = srv.api("GET", "feedback/%d" % fake2, AN)
    check(st == 200 and d["text"] is None and d["where"] == "" and
          d["photo"] is None and d["scan"] is None and d["kind"] == "fake",
          "after the erasure: no where, text, scan or photo")
    st, _ = srv.api("GET", "feedback/%d/photo" % fake2, AN)
    check(st == 404, "the photo is gone: 404")

    # ---- brand isolation ----
    bi = inbox(srv, BETA)
    check(bi == [], "beta sees none of acme's feedback")
    st, _ = srv.api("GET", "feedback/%d" % rated_A, BETA)
    check(st == 404, "acme's entry for beta: 404")
    srv.stop()

    # ---- the rating drop (a FAULT=1 build moves the clock) ----
    if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN,
                                                         "sigild")):
        check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
              "build/fault/bin); got %r" % FAULT_BIN)
    else:
        sigiltest.BIN = FAULT_BIN
        st_paths = paths[7:19]

        def rate_at(shift_days, path, stars):
            os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(-shift_days * 86400)
            s = env.start("--rate-limit", "0")
            _, _, dev, sid = page(s, path)
            st, d = post(s, {"scan_id": sid, "rating": stars}, dev)
            s.stop()
            return st, d

        os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
        s = env.start()
        st, d = s.api("PUT", "feedback/settings", ADMIN,
                      body={"min_ratings": 3, "drop": 1.5})
        check(st == 200 and d == {"min_ratings": 3, "drop": 1.5},
              "the brand sets 3 ratings and a drop of 1.5")
        s.stop()
        # The 30 days before: 5s; the last 7 days: 4s (a drop of 1 only).
        for i, days in enumerate((20, 15, 10)):
            rate_at(days, st_paths[i], 5)
        for i, days in enumerate((3, 2)):
            rate_at(days, st_paths[3 + i], 4)
        st, d = rate_at(1, st_paths[5], 4)
        os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
        s = env.start()
        st, al = s.api("GET", "alerts?type=rating_drop", AN)
        check(st == 200 and al["alerts"] == [],
              "5 -> 4 over 3 ratings: below the drop of 1.5, no alert")
        s.stop()
        st, d = rate_at(0, st_paths[6], 1)
        s = env.start()
        st, al = s.api("GET", "alerts?type=rating_drop", AN)
        check(st == 200 and len(al["alerts"]) == 1 and
              al["alerts"][0]["type"] == "rating_drop" and
              al["alerts"][0]["product"] == {"sku": "W1",
                                             "name": "Product W1"},
              "a 1 brings the week to 3.25 against 5: one rating_drop "
              "alert (%s)" % str(al)[:120])
        s.stop()
        rate_at(0, st_paths[7], 1)
        s = env.start()
        st, al2 = s.api("GET", "alerts?type=rating_drop", AN)
        check(len(al2["alerts"]) == 1 and al2["alerts"][0]["id"] ==
              al["alerts"][0]["id"] and al2["alerts"][0]["count"] == 2,
              "another low rating updates the product's one alert")
        s.stop()
done()
