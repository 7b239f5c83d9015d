"""Redirect rules (issue 18, item 5) against the real sigild: the brand API
(POST/GET/PATCH/DELETE /api/v1/redirects, every bad field refused with
nothing stored, brand isolation, roles) and the scan answer (307 to the
first rule that holds, batch rules before product rules, then priority;
conditions on language, WeChat, a date window and the device's region;
the scan recorded before the redirect; never for a verdict other than
genuine, a JSON answer or a bot)."""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

ZHEJIANG = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}
HANGZHOU = (30.27, 120.15)
BEIJING = (39.90, 116.40)
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
          "Mobile/15E148 Safari/604.1")


def stats(env):
    doc = json.loads(env.sigil("stats", "--json").stdout)
    for v in doc.values():
        if isinstance(v, dict) and "checkpoint_txnid" in v:
            v.pop("checkpoint_txnid")
            v.pop("clean", None)
    return doc


def flip(path):
    return path[:-1] + ("0" if path[-1] != "0" else "1")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


with Env() as env:
    batch1, codes = env.setup_brand(sku="W1", count=120)
    batch2, w2codes = env.setup_brand(init=False, sku="W2", count=5)
    _, dlcodes = env.setup_brand(init=False, sku="DL", count=3,
                                 gtin="04006381333931")
    # a second batch of W1, and one that is never activated
    b3 = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku",
                              "W1", "--count", "10", "--json").stdout)["id"]
    env.sigil("batch", "activate", "--batch", str(b3))
    b3codes = ["/" + u.split("/", 3)[3] for u in env.sigil(
        "mint", "--batch", str(b3), "--format", "txt", "--out",
        "-").stdout.split()]
    b4 = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku",
                              "W1", "--count", "3", "--json").stdout)["id"]
    b4codes = ["/" + u.split("/", 3)[3] for u in env.sigil(
        "mint", "--batch", str(b4), "--format", "txt", "--out",
        "-").stdout.split()]
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    env.sigil("product", "add", "--brand", "beta", "--sku", "B1", "--name",
              "Beta item")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")
    fresh = iter(codes)

    def html(path, ua=None, lang=None, cookie=None, extra=None):
        h = {}
        if ua is not None:
            h["User-Agent"] = ua
        if lang is not None:
            h["Accept-Language"] = lang
        if cookie:
            h["Cookie"] = "sg_d=" + cookie
        h.update(extra or {})
        st, hdrs, body = srv.request("GET", path, headers=h)
        return st, hdrs, body

    def where(**kw):
        """Location of an HTML scan of a fresh code (None: no redirect)."""
        st, hdrs, _ = html(next(fresh), **kw)
        if st == 307:
            return hdrs.get("Location")
        return None if st == 200 else "status %d" % st

    def rule(body, token=A):
        st, doc = srv.api("POST", "redirects", token, body)
        if st != 201:
            print("rule refused:", st, doc)
        return doc.get("id") if st == 201 else None

    def drop(rid):
        st, _ = srv.api("DELETE", "redirects/%d" % rid, A)
        return st == 200

    st, doc = srv.api("POST", "distributors", A, {"name": "Zhejiang Co",
                                                  "territory": ZHEJIANG})
    check(st == 201, "distributor with a territory")
    zj = doc["id"]
    st, doc = srv.api("POST", "distributors", A, {
        "name": "Xinjiang Co", "territory": {"type": "Polygon", "coordinates": [[
            [80.0, 40.0], [90.0, 40.0], [90.0, 45.0], [80.0, 45.0],
            [80.0, 40.0]]]}})
    nowhere = doc["id"]
    st, doc = srv.api("POST", "distributors", B, {"name": "Beta dist",
                                                  "territory": ZHEJIANG})
    check(st == 201, "beta has a distributor of its own")

    # ---- bad input: every kind refused, nothing stored ----
    before = stats(env)
    good = {"sku": "W1", "href": "https://brand.example/x"}
    bad = [
        ({"href": "javascript:alert(1)"}, "javascript: href"),
        ({"href": "JavaScript:alert(1)"}, "javascript: in capitals"),
        ({"href": "data:text/html,<script>alert(1)</script>"}, "data: href"),
        ({"href": "ftp://brand.example/x"}, "ftp: href"),
        ({"href": "/relative/path"}, "relative href"),
        ({"href": "//brand.example/x"}, "scheme-relative href"),
        ({"href": "https://user:pw@brand.example/"}, "user info"),
        ({"href": "https://brand.example@evil.example/"}, "user info, no pw"),
        ({"href": "https://brand.example/\x01"}, "control character"),
        ({"href": "https://brand.example/a\r\nSet-Cookie: x=1"}, "CRLF"),
        ({"href": "https://brand.example/a b"}, "space"),
        ({"href": "https://brand.example/\u00e9"}, "non-ASCII"),
        ({"href": "https://brand.example\\@evil.example/"}, "backslash"),
        ({"href": "https://brand.example/%zz"}, "bad percent-encoding"),
        ({"href": "https://brand.example/" + "a" * 1980}, "2001 bytes"),
        ({"href": "https://"}, "no host"),
        ({"href": "https://brand.example:99999/"}, "port out of range"),
        ({"href": 5}, "href not a string"),
        ({"href": None}, "href null"),
        ({"href": ""}, "empty href"),
        ({"sku": "NOPE"}, "unknown sku"),
        ({"sku": "B1"}, "another brand's sku"),
        ({"sku": ""}, "empty sku"),
        ({"sku": 7}, "sku not a string"),
        ({"batch": 999}, "unknown batch"),
        ({"batch": batch2}, "batch of another product"),
        ({"batch": 0}, "batch 0"),
        ({"batch": "1"}, "batch as a string"),
        ({"priority": -1}, "negative priority"),
        ({"priority": 1000001}, "priority too large"),
        ({"priority": "10"}, "priority as a string"),
        ({"priority": 1.5}, "fractional priority"),
        ({"when": []}, "when not an object"),
        ({"when": {"device": "ios"}}, "unknown condition"),
        ({"when": {"lang": []}}, "empty lang list"),
        ({"when": {"lang": "en"}}, "lang not a list"),
        ({"when": {"lang": ["english!"]}}, "malformed language tag"),
        ({"when": {"lang": ["en-"]}}, "tag ending in a hyphen"),
        ({"when": {"lang": ["e"]}}, "one-letter language"),
        ({"when": {"lang": ["en-a"]}}, "extension singleton alone"),
        ({"when": {"lang": ["en", "EN"]}}, "a tag twice"),
        ({"when": {"lang": ["en"] * 17}}, "17 tags"),
        ({"when": {"wechat": "yes"}}, "wechat not a boolean"),
        ({"when": {"from": "2026-12-01"}}, "a date, not a date-time"),
        ({"when": {"from": "2026-13-01T00:00:00Z"}}, "month 13"),
        ({"when": {"from": "2026-02-30T00:00:00Z"}}, "30 February"),
        ({"when": {"from": "2026-12-01T00:00:00"}}, "no offset"),
        ({"when": {"until": 1767225600}}, "until as a number"),
        ({"when": {"from": "2027-01-01T00:00:00Z",
                   "until": "2026-12-01T00:00:00Z"}}, "from after until"),
        ({"when": {"from": "2026-12-01T08:00:00+08:00",
                   "until": "2026-12-01T00:00:00Z"}}, "from == until"),
        ({"when": {"region": []}}, "empty region list"),
        ({"when": {"region": [99]}}, "unknown distributor"),
        ({"when": {"region": ["1"]}}, "distributor id as a string"),
        ({"when": {"region": [zj, zj]}}, "a distributor twice"),
        ({"note": "x" * 201}, "note of 201 characters"),
        ({"note": "a\x1bb"}, "control character in note"),
        ({"extra": 1}, "unknown field"),
        ({"id": 5}, "id given"),
    ]
    for change, what in bad:
        body = dict(good)
        body.update(change)
        if change.get("sku") is None and "sku" in change:
            body.pop("sku")
        st, doc = srv.api("POST", "redirects", A, body)
        ok = st == 422 and isinstance(doc, dict)
        check(ok and doc["error"]["code"] == "invalid" and
              doc["error"]["message"], "refused: %s (%s %s)" % (
                  what, st, doc["error"]["message"] if ok else doc))
    st, doc = srv.api("POST", "redirects", A, {"href": good["href"]})
    check(st == 422 and "sku" in doc["error"]["message"], "sku required")
    st, doc = srv.api("POST", "redirects", A, {"sku": "W1"})
    check(st == 422 and "href" in doc["error"]["message"], "href required")
    st, _, _ = srv.request("POST", "/api/v1/redirects", b"{not json",
                           headers={"Authorization": "Bearer " + A})
    check(st == 400, "a body that is not JSON: 400")
    st, doc = srv.api("POST", "redirects", AN, good)
    check(st == 403, "an analyst may not add a rule: 403")
    st, doc = srv.api("POST", "redirects", OP, good)
    check(st == 403, "an operator may not add a rule: 403")
    st, doc = srv.api("POST", "redirects", None, good)
    check(st == 401, "no token: 401")
    st, doc = srv.api("GET", "redirects", A)
    check(st == 200 and doc["redirects"] == [], "nothing stored")
    check(stats(env) == before, "the refusals changed nothing")
    loc = where()
    check(loc is None, "no rule: the page (%s)" % loc)

    # ---- a rule, as stored and shown ----
    rid = rule({"sku": "W1", "priority": 10, "href":
                "HTTPS://Brand.Example/CNY?src=qr#top",
                "when": {"lang": ["EN", "zh-hant-tw"], "wechat": True,
                         "from": "2026-01-01T08:00:00+08:00",
                         "until": "2099-01-01T00:00:00.5Z",
                         "region": [zj]}, "note": "CNY 促销"})
    check(rid is not None, "a rule with every condition: 201")
    st, doc = srv.api("GET", "redirects/%d" % rid, AN)
    check(st == 200 and doc["href"] == "https://brand.example/CNY?src=qr#top",
          "scheme and host in lower case, the rest as given (%s)"
          % doc.get("href"))
    check(doc.get("when") == {"lang": ["en", "zh-Hant-TW"], "wechat": True,
                              "from": "2026-01-01T00:00:00.000Z",
                              "until": "2099-01-01T00:00:00.500Z",
                              "region": [zj]},
          "conditions as stored: tags in their usual case, times in UTC "
          "(%s)" % doc.get("when"))
    check(doc.get("batch") is None and doc.get("priority") == 10 and
          doc.get("note") == "CNY 促销" and doc.get("sku") == "W1",
          "sku, batch null, priority, note")
    check(drop(rid), "deleted")
    st, _ = srv.api("GET", "redirects/%d" % rid, A)
    check(st == 404, "gone: 404")
    st, _ = srv.api("DELETE", "redirects/%d" % rid, A)
    check(st == 404, "deleted twice: 404")

    # ---- language ----
    rid = rule({"sku": "W1", "href": "https://brand.example/en",
                "when": {"lang": ["en"]}})
    check(where(lang="en-US,en;q=0.9") == "https://brand.example/en",
          "lang en matches Accept-Language en-US: 307")
    check(where(lang="fr;q=0.5, en;q=0.9") == "https://brand.example/en",
          "the tag of highest q is the one judged")
    check(where(lang="zh-CN,zh;q=0.9,en;q=0.8") is None,
          "zh-CN first: no redirect")
    check(where() is None, "no Accept-Language: no redirect")
    check(where(lang="english") is None, "a malformed Accept-Language: "
          "no language, no redirect")
    drop(rid)
    rid = rule({"sku": "W1", "href": "https://brand.example/zh",
                "when": {"lang": ["zh-CN"]}})
    check(where(lang="zh-cn") == "https://brand.example/zh",
          "tags compared without regard to case")
    check(where(lang="zh") is None, "range zh-CN does not match tag zh")
    drop(rid)

    # ---- inside WeChat or not ----
    rid = rule({"sku": "W1", "href": "https://brand.example/wx",
                "when": {"wechat": True}})
    check(where() == "https://brand.example/wx",
          "MicroMessenger in the User-Agent: inside WeChat, 307")
    check(where(ua=SAFARI) is None, "Safari: not inside WeChat")
    st, doc = srv.api("PATCH", "redirects/%d" % rid, A,
                      {"when": {"wechat": False}})
    check(st == 200 and doc["when"] == {"wechat": False}, "PATCH when")
    check(where(ua=SAFARI) == "https://brand.example/wx",
          "wechat false: Safari redirected")
    check(where() is None, "wechat false: WeChat not redirected")
    drop(rid)

    # ---- a date window ----
    now = time.time()
    rid = rule({"sku": "W1", "href": "https://brand.example/now",
                "when": {"from": iso(now - 3600), "until": iso(now + 3600)}})
    check(where() == "https://brand.example/now", "inside the window: 307")
    st, _ = srv.api("PATCH", "redirects/%d" % rid, A, {"when": {
        "from": iso(now + 3600)}})
    check(st == 200 and where() is None, "before from: no redirect")
    st, _ = srv.api("PATCH", "redirects/%d" % rid, A, {"when": {
        "until": iso(now - 60)}})
    check(st == 200 and where() is None, "after until: no redirect")
    drop(rid)

    # ---- region: the device's last consented location ----
    rid = rule({"sku": "W1", "href": "https://brand.example/zj",
                "when": {"region": [zj]}})

    def located(at):
        """A device whose last scan was located at `at`: its cookie."""
        st, d, dev = srv.scan(next(fresh))
        st2, _, _ = srv.request("POST", "/api/v1/scans/%s/location"
                                % d["scan_id"], {"lat": at[0], "lng": at[1]},
                                headers={"Cookie": "sg_d=" + dev})
        check(st2 == 200, "location stored")
        return dev
    check(where() is None, "a new device (no location known): no redirect")
    hz = located(HANGZHOU)
    check(where(cookie=hz) == "https://brand.example/zj",
          "device last located in Hangzhou, inside Zhejiang: 307")
    bj = located(BEIJING)
    check(where(cookie=bj) is None, "device last located in Beijing: no")
    st, d, _ = srv.scan(next(fresh), device=bj)
    srv.request("POST", "/api/v1/scans/%s/location" % d["scan_id"],
                {"lat": HANGZHOU[0], "lng": HANGZHOU[1]},
                headers={"Cookie": "sg_d=" + bj})
    check(where(cookie=bj) == "https://brand.example/zj",
          "the same device located in Hangzhou since: the latest counts")
    st, d, nodev = srv.scan(next(fresh))
    check(where(cookie=nodev) is None, "a device that never shared its "
          "location: no redirect")
    st, _ = srv.api("PATCH", "redirects/%d" % rid, A,
                    {"when": {"region": [nowhere]}})
    check(st == 200 and where(cookie=hz) is None,
          "another distributor's territory: no redirect")
    st, _ = srv.api("PATCH", "redirects/%d" % rid, A,
                    {"when": {"region": [nowhere, zj]}})
    check(st == 200 and where(cookie=hz) == "https://brand.example/zj",
          "any of the distributors named will do")
    drop(rid)

    # ---- order: batch before product, then priority, first match ----
    p1 = rule({"sku": "W1", "priority": 20, "href": "https://p.example/20"})
    p2 = rule({"sku": "W1", "priority": 10, "href": "https://p.example/10"})
    check(where() == "https://p.example/10", "lower priority first")
    p3 = rule({"sku": "W1", "priority": 10, "href": "https://p.example/10b"})
    check(where() == "https://p.example/10", "equal priority: lower id first")
    p0 = rule({"sku": "W1", "priority": 0, "href": "https://p.example/fr",
               "when": {"lang": ["fr"]}})
    check(where() == "https://p.example/10", "a rule that does not hold is "
          "passed over")
    check(where(lang="fr-CA") == "https://p.example/fr",
          "the first rule that holds wins")
    bt = rule({"sku": "W1", "batch": batch1, "priority": 999,
               "href": "https://b.example/batch"})
    check(where(lang="fr") == "https://b.example/batch",
          "a batch rule before every product rule, whatever its priority")
    st, hdrs, _ = html(b3codes[1])
    check(st == 307 and hdrs["Location"] == "https://p.example/10",
          "another batch of the product: the product's rules")
    st, hdrs, _ = html(w2codes[0])
    check(st == 200, "another product: no redirect")
    st, doc = srv.api("GET", "redirects?sku=W1&batch=%d" % batch1, AN)
    check(st == 200 and [r["id"] for r in doc["redirects"]] == [bt],
          "list of a batch's rules")
    st, doc = srv.api("GET", "redirects?sku=W1", AN)
    check(st == 200 and [r["id"] for r in doc["redirects"]] ==
          [p0, p2, p3, p1, bt], "a product's rules in the order tried "
          "(%s)" % [r["id"] for r in doc.get("redirects", [])])
    st, doc = srv.api("GET", "redirects?batch=%d" % batch1, AN)
    check(st == 200 and len(doc["redirects"]) == 1, "?batch= alone")
    for q in ["batch=x", "batch=0", "sku=%01", "batch=%d&sku=W2" % batch1]:
        st, doc = srv.api("GET", "redirects?" + q, AN)
        check(st == 400, "list ?%s: 400 (%s)" % (q, st))
    st, doc = srv.api("GET", "redirects?batch=9999", AN)
    check(st == 404, "list ?batch= of no batch: 404")

    # ---- the scan is recorded before the 307; the answer's headers ----
    code = next(fresh)
    before = stats(env)["scans"]
    st, hdrs, body = html(code + "?utm_source=qr&s=ABC&linkType=gs1:pip&x")
    check(st == 307, "307 Temporary Redirect")
    check(hdrs.get("Location") == "https://b.example/batch?utm_source=qr&x",
          "query passed on without s and linkType (%s)"
          % hdrs.get("Location"))
    check(hdrs.get("Cache-Control") == "no-store", "Cache-Control: no-store")
    check("sg_d=" in hdrs.get("Set-Cookie", ""),
          "a new device still gets its cookie")
    check(stats(env)["scans"] == before + 1, "the scan is recorded")
    st, doc, _ = srv.scan(code)
    check(doc["scan_count"] == 2 and doc["first_scan"] is False,
          "the redirected scan counts (a second scan is the second)")
    st, doc = srv.api("PATCH", "redirects/%d" % bt, A,
                      {"href": "https://b.example/p?a=1#frag"})
    check(st == 200, "PATCH href")
    st, hdrs, _ = html(next(fresh) + "?utm=1")
    check(hdrs.get("Location") == "https://b.example/p?a=1&utm=1#frag",
          "query joined to the href's own, before its fragment (%s)"
          % hdrs.get("Location"))

    # ---- never redirected ----
    st, doc, _ = srv.scan(next(fresh))
    check(st == 200 and doc["verdict"] == "genuine",
          "Accept: application/json: the JSON, no redirect")
    st, hdrs, body = html(flip(next(fresh)))
    check(st == 200 and b"<html" in body.lower(),
          "counterfeit: sigil's page")
    st, hdrs, _ = html(b4codes[0])
    check(st == 200, "inactive batch: sigil's page")
    st, _ = srv.api("POST", "batches/%d/revoke" % b3, OP)
    check(st == 200, "batch revoked")
    st, hdrs, _ = html(b3codes[2])
    check(st == 200, "revoked: sigil's page")
    # (cookie-less scanners count apart from three networks on: scan.py)
    clone = next(fresh)
    for i in range(6):
        srv.scan(clone, source="127.0.%d.1" % (i + 1))
    st, doc, _ = srv.scan(clone)
    check(doc["verdict"] == "suspicious", "a code scanned by 7 devices is "
          "suspicious")
    st, hdrs, _ = html(clone)
    check(st == 200, "suspicious: sigil's page")
    st, hdrs, _ = html(next(fresh), ua="Mozilla/5.0 (compatible; "
                       "Googlebot/2.1; +http://www.google.com/bot.html)")
    check(st == 200, "a crawler: sigil's page")
    st, hdrs, _ = html(next(fresh), extra={"Sec-Purpose": "prefetch"})
    check(st == 200, "a prefetch: sigil's page")
    st, hdrs, _ = srv.request("HEAD", next(fresh))
    check(st == 200, "HEAD: no redirect")

    # ---- PATCH and its refusals ----
    st, doc = srv.api("PATCH", "redirects/%d" % bt, A, {"batch": None})
    check(st == 200 and doc["batch"] is None, "PATCH batch null: a product "
          "rule now")
    snapshot = srv.api("GET", "redirects/%d" % bt, A)[1]
    for change, what in [({"href": "javascript:x"}, "href"),
                         ({"batch": batch2}, "batch of another product"),
                         ({"sku": "W2", "batch": batch1}, "sku and batch"),
                         ({"when": {"region": [99]}}, "region"),
                         ({"priority": None}, "priority null"),
                         ({"nope": 1}, "unknown field")]:
        st, doc = srv.api("PATCH", "redirects/%d" % bt, A, change)
        check(st == 422, "PATCH refused: %s (%s)" % (what, st))
    check(srv.api("GET", "redirects/%d" % bt, A)[1] == snapshot,
          "the refused PATCHes changed nothing")
    st, doc = srv.api("PATCH", "redirects/%d" % bt, A, {"sku": "W2"})
    check(st == 200 and doc["sku"] == "W2", "PATCH sku: moved to W2")
    st, hdrs, _ = html(w2codes[1])
    check(st == 307 and hdrs["Location"] == "https://b.example/p?a=1#frag",
          "W2 now redirected")
    st, doc = srv.api("PATCH", "redirects/%d" % bt, AN, {"priority": 1})
    check(st == 403, "an analyst may not PATCH")
    st, doc = srv.api("DELETE", "redirects/%d" % bt, AN)
    check(st == 403, "an analyst may not DELETE")
    for p in ["redirects/0", "redirects/abc", "redirects/99999",
              "redirects/-1"]:
        st, _ = srv.api("GET", p, A)
        check(st == 404, "GET %s: 404" % p)

    # ---- brand isolation ----
    for method, body in [("GET", None), ("PATCH", {"priority": 1}),
                         ("DELETE", None)]:
        st, doc = srv.api(method, "redirects/%d" % p1, B, body)
        check(st == 404, "beta's token, %s acme's rule: 404" % method)
    st, doc = srv.api("GET", "redirects", B)
    check(st == 200 and doc["redirects"] == [], "beta lists none of acme's")
    st, doc = srv.api("GET", "redirects?sku=W1", B)
    check(st == 200 and doc["redirects"] == [], "beta lists none by sku")
    st, doc = srv.api("GET", "redirects?batch=%d" % batch1, B)
    check(st == 404, "beta names acme's batch: 404")
    st, doc = srv.api("POST", "redirects", B, {"sku": "W1", "href":
                                               "https://evil.example/"})
    check(st == 422, "beta may not put a rule on acme's product")
    st, doc = srv.api("POST", "redirects", B, {"sku": "B1", "href":
                                               "https://beta.example/",
                                               "when": {"region": [nowhere]}})
    check(st == 422, "beta may not name a distributor it does not have "
          "(acme's id %d)" % nowhere)
    st, doc = srv.api("POST", "redirects", B, {"sku": "B1", "href":
                                               "https://beta.example/"})
    check(st == 201, "beta's rule on its own product")
    st, doc = srv.api("GET", "redirects", A)
    check(st == 200 and all(r["href"] != "https://beta.example/"
                            for r in doc["redirects"]),
          "acme lists none of beta's")

    # ---- a GS1 Digital Link scan: s and linkType stay behind ----
    dl = rule({"sku": "DL", "href": "https://dl.example/item"})
    st, hdrs, _ = html(dlcodes[0] + "&utm=2")
    check(st == 307 and hdrs.get("Location") ==
          "https://dl.example/item?utm=2", "Digital Link %s: 307 without "
          "s (%s %s)" % (dlcodes[0], st, hdrs.get("Location")))
    st, hdrs, _ = html(dlcodes[1].split("?")[0])
    check(st != 307, "a Digital Link without its s= tag: no redirect (%d)"
          % st)
    drop(dl)

    # ---- at most 100 rules a product and a batch ----
    ok = all(rule({"sku": "W2", "batch": batch2, "priority": i,
                   "href": "https://many.example/%d" % i}) is not None
             for i in range(100))
    check(ok, "100 rules on one batch")
    st, doc = srv.api("POST", "redirects", A, {
        "sku": "W2", "batch": batch2, "href": "https://many.example/x"})
    check(st == 422 and doc["error"]["code"] == "limit",
          "the 101st: 422 limit (%s)" % st)
    check(rule({"sku": "W2", "href": "https://many.example/p"}) is not None,
          "the product's own rules are counted apart")
    st, hdrs, _ = html(w2codes[2])
    check(hdrs.get("Location") == "https://many.example/0",
          "of 100 batch rules, priority 0 wins")

    # ---- erasing a customer forgets its device's place ----
    er = rule({"sku": "W1", "priority": 0, "href": "https://zj.example/",
               "when": {"region": [zj]}})
    dev = located(HANGZHOU)
    check(where(cookie=dev) == "https://zj.example/",
          "before the erasure: the device's place counts")
    phone = "13977776666"
    login_code = next(fresh)
    srv.scan(login_code, device=dev)
    hdr = {"Accept": "application/json", "Cookie": "sg_d=" + dev}
    st, _, _ = srv.request("POST", "/api/v1/customers/otp",
                           {"phone": phone, "code": login_code}, headers=hdr)
    otp = None
    with open(os.path.join(env.data, "otp-outbox.log")) as f:
        for line in f:
            m = re.search(r" phone=86%s code=(\d{6})$" % phone, line.strip())
            otp = m.group(1) if m else otp
    st, _, raw = srv.request("POST", "/api/v1/customers/verify",
                             {"phone": phone, "code": login_code,
                              "otp": otp}, headers=hdr)
    check(st == 200, "the device's owner logs in (%d)" % st)
    cid = json.loads(raw)["customer"]["id"] if st == 200 else 0
    st, doc = srv.api("POST", "customers/%d/erase" % cid, A)
    check(st == 200 and doc.get("erased") is True, "the customer is erased")
    loc = where(cookie=dev)
    check(loc == "https://p.example/10", "after the erasure: no place "
          "known, the region rule is passed over for the next (%s)" % loc)
    drop(er)

    # ---- a rule answered 201 survives kill -9 ----
    kept = rule({"sku": "W1", "priority": 0, "href": "https://kept.example/"})
    srv.stop(signal.SIGKILL)
    srv = env.start("--api-rate-limit", "0")
    st, doc = srv.api("GET", "redirects/%d" % kept, A)
    check(st == 200 and doc["href"] == "https://kept.example/",
          "after kill -9 and a restart the rule is there")
    check(where() == "https://kept.example/", "and is followed")
    hz2 = located(HANGZHOU)
    srv.stop(signal.SIGKILL)
    srv = env.start("--api-rate-limit", "0")
    st, _ = srv.api("PATCH", "redirects/%d" % kept, A,
                    {"when": {"region": [zj]}})
    check(st == 200 and where(cookie=hz2) == "https://kept.example/",
          "a device's place survives kill -9 too")

    # ---- the rules are read afresh at every scan ----
    for r in srv.api("GET", "redirects", A)[1]["redirects"]:
        drop(r["id"])
    check(where() is None, "every rule deleted: the page again")
    st, _, _ = srv.request("GET", "/metrics")
    check(st == 200, "metrics still answer")
    check("loop_guard" not in srv.logtext(), "no write on the event loop")
done()
