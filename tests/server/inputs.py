"""Text inputs and transport hints against the real sigild (review F15,
F19, F21, F22, F28): limits count characters, control and bidi control
characters are refused with 422 naming the field and nothing is stored;
Secure cookies and HSTS when the public base URL is https."""
import datetime
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

PW = "correct horse battery staple"
CJK64 = "葡萄酒" * 21 + "酒"            # 64 characters, 192 bytes
CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f", "\u2028",
            "\t", "\r", "\n"]
TERR = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
        "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"]


def cjk(n):
    return ("一二三四五六七八九十" * (n // 10 + 1))[:n]


def refused(st, doc, field, ch=None):
    if ch == "\x00":       # jansson refuses \u0000 in JSON text: 400
        return (st == 400 and isinstance(doc, dict) and
                doc["error"]["code"] == "bad_json")
    return (st == 422 and isinstance(doc, dict) and
            doc["error"]["code"] == "invalid" and
            ("'%s'" % field) in doc["error"]["message"])


def login(srv, email, base_headers=None):
    h = {"Content-Type": "application/json"}
    h.update(base_headers or {})
    return srv.request("POST", "/admin/login",
                       body={"email": email, "password": PW}, headers=h)


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    _, paths = env.setup_brand(sku="W1", count=40, init=False)
    env.sigil("user", "add", "--brand", "acme", "--email", "a@acme.test",
              "--role", "admin", stdin=PW + "\n")
    A = env.token("acme", "admin")
    # before sigild starts: keys made while it runs are not loaded (F17)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    B = env.token("beta", "admin")

    # ---- F15: https public URL behind a TLS proxy -> Secure + HSTS ----
    srv = env.start("--api-rate-limit", "0", "--base-url",
                    "https://ACME.EXAMPLE")
    st, hdrs, _ = srv.request("GET", paths[0],
                              headers={"Accept": "application/json"})
    sc = hdrs.get("Set-Cookie", "")
    check(st == 200 and "sg_d=" in sc and "; Secure" in sc,
          "https base URL over plain HTTP: sg_d is Secure (%s)" % sc)
    check(hdrs.get("Strict-Transport-Security") == "max-age=31536000",
          "https base URL: HSTS on a scan (%r)" %
          hdrs.get("Strict-Transport-Security"))
    st, hdrs, _ = login(srv, "a@acme.test")
    sc = hdrs.get("Set-Cookie", "")
    check(st == 200 and "sg_s=" in sc and "; Secure" in sc,
          "https base URL: admin session sg_s is Secure (%s)" % sc)
    check(hdrs.get("Strict-Transport-Security") == "max-age=31536000",
          "https base URL: HSTS on the login reply")
    for p in ["/healthz", "/nothing-here", "/admin/"]:
        _, h, _ = srv.request("GET", p)
        check(h.get("Strict-Transport-Security") == "max-age=31536000",
              "HSTS on GET %s" % p)
    srv.stop()
    srv = env.start("--api-rate-limit", "0", "--base-url",
                    "http://acme.example")
    st, hdrs, _ = srv.request("GET", paths[1],
                              headers={"Accept": "application/json"})
    sc = hdrs.get("Set-Cookie", "")
    check(st == 200 and "sg_d=" in sc and "Secure" not in sc and
          "Strict-Transport-Security" not in hdrs,
          "http base URL: no Secure, no HSTS (%s)" % sc)
    st, hdrs, _ = login(srv, "a@acme.test")
    check(st == 200 and "Secure" not in hdrs.get("Set-Cookie", "x; Secure"),
          "http base URL: sg_s not Secure")
    srv.stop()

    srv = env.start("--api-rate-limit", "0")

    # ---- F22: limits count characters ----
    st, doc = srv.api("POST", "products", A, {"sku": "一" * 64,
                                              "name": cjk(200)})
    check(st == 201 and doc["sku"] == "一" * 64 and doc["name"] == cjk(200),
          "64-character CJK SKU and 200-character CJK name fit (%s)" % st)
    st, doc = srv.api("GET", "products/" + "%E4%B8%80" * 64, A)
    check(st == 200 and doc["name"] == cjk(200), "and read back whole")
    st, doc = srv.api("POST", "products", A, {"sku": "P64", "name": CJK64})
    check(st == 201 and doc["name"] == CJK64, "64 CJK characters: 201")
    st, doc = srv.api("POST", "products", A, {"sku": "二" * 65, "name": "x"})
    check(refused(st, doc, "sku"), "65-character SKU: 422 naming 'sku'")
    st, doc = srv.api("POST", "products", A, {"sku": "P201",
                                              "name": cjk(201)})
    check(refused(st, doc, "name") and "200" in doc["error"]["message"],
          "201-character name: 422 naming 'name'")
    st, doc = srv.api("POST", "batches", A, {"sku": "一" * 64, "count": 5})
    check(st == 201 and doc["sku"] == "一" * 64, "batch of a CJK SKU")
    bid = doc["id"]
    st, doc = srv.api("GET", "batches/%d" % bid, A)
    check(st == 200 and doc["sku"] == "一" * 64, "batch reads back its SKU")
    st, _ = srv.api("POST", "batches/%d/activate" % bid, A)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % bid, A)
    cpath = re.sub(r"^https?://[^/]+", "",
                   raw.decode().split("\n")[1].split(",")[1])
    st, doc, _ = srv.scan(cpath)
    check(st == 200 and doc["verdict"] == "genuine" and
          doc["product"]["name"] == cjk(200) and
          doc["product"]["sku"] == "一" * 64,
          "a scan shows the 200-character name and 64-character SKU whole")
    st, _, html = srv.request("GET", cpath, headers={
        "Accept-Language": "zh-CN"})
    check(st == 200 and cjk(200) in html.decode(),
          "the landing page shows the whole name")
    st, doc = srv.api("POST", "distributors", A, {"name": cjk(200),
                                                  "territory": TERR})
    check(st == 201, "200-character CJK distributor name: 201")
    dist = doc["id"]
    st, doc = srv.api("GET", "distributors/%d" % dist, A)
    check(st == 200 and doc["name"] == cjk(200), "distributor reads back")
    st, doc = srv.api("POST", "distributors", A, {"name": cjk(201),
                                                  "territory": TERR})
    check(refused(st, doc, "name"), "201-character distributor: 422")
    st, doc = srv.api("POST", "catalog/items", A, {"name": cjk(200),
                                                   "cost": 5})
    check(st == 201 and doc["name"] == cjk(200), "200-character item: 201")
    st, doc = srv.api("POST", "catalog/items", A, {"name": cjk(201),
                                                   "cost": 5})
    check(refused(st, doc, "name"), "201-character item: 422")
    today = datetime.date.today()
    camp = {"name": cjk(100), "starts": str(today - datetime.timedelta(1)),
            "ends": str(today + datetime.timedelta(30)), "points": 1,
            "skus": ["一" * 64],
            "draw": [{"name": cjk(64), "odds": 0.1, "stock": 1}]}
    st, doc = srv.api("POST", "campaigns", A, camp)
    check(st == 201 and doc["config"]["name"] == cjk(100),
          "100-character campaign, 64-character SKU and prize: 201 (%s %s)" %
          (st, doc if st != 201 else ""))
    for field, bad in [("name", dict(camp, name=cjk(101))),
                       ("skus[]", dict(camp, skus=["一" * 65])),
                       ("draw[].name", dict(camp, draw=[
                           {"name": cjk(65), "odds": 0.1, "stock": 1}]))]:
        st, doc = srv.api("POST", "campaigns", A, bad)
        check(refused(st, doc, field), "campaign %s over the limit: 422 "
              "(%s %s)" % (field, st, doc))
    st, doc = srv.api("POST", "settings", A, {"tiers": [
        {"name": cjk(32), "min": 0}, {"name": "金", "min": 100}]})
    check(st == 200 and doc["tiers"][0]["name"] == cjk(32),
          "32-character tier name: 200")
    st, doc = srv.api("POST", "settings", A, {"tiers": [
        {"name": cjk(33), "min": 0}]})
    check(refused(st, doc, "tiers[].name"), "33-character tier: 422")
    # a customer at that tier sees its whole name (/api/v1/me)
    st, sdoc, sdev = srv.scan(paths[30])
    h = {"Cookie": "sg_d=" + sdev, "Accept": "application/json"}
    st, _, _ = srv.request("POST", "/api/v1/customers/otp", body={
        "phone": "13900000731", "code": paths[30]}, headers=h)
    otp = None
    with open(os.path.join(env.data, "otp-outbox.log")) as f:
        for line in f:
            m = re.search(r" phone=8613900000731 code=(\d{6})$",
                          line.strip())
            otp = m.group(1) if m else otp
    st, _, _ = srv.request("POST", "/api/v1/customers/verify", body={
        "phone": "13900000731", "code": paths[30], "otp": otp}, headers=h)
    check(st == 200, "a customer logs in (%s)" % st)
    st, _, raw = srv.request("GET", "/api/v1/me?code=" + paths[30],
                             headers=h)
    me = json.loads(raw) if st == 200 else {}
    check(st == 200 and me["customer"]["tier"] == cjk(32),
          "/api/v1/me shows the 32-character CJK tier whole (%s %r)" % (
              st, me.get("customer", {}).get("tier")))

    # ---- F19/F21: control and bidi characters, every field family ----
    def snapshot():
        out = []
        for p in ["products?limit=1000", "distributors", "catalog/items",
                  "campaigns", "settings", "batches"]:
            st, doc = srv.api("GET", p, A)
            out.append(json.dumps(doc, sort_keys=True))
        return out

    before = snapshot()
    base_camp = dict(camp, name="ok")
    families = [
        ("product name", "products", "name",
         lambda s: {"sku": "C1", "name": "a" + s + "b"}),
        ("product sku", "products", "sku",
         lambda s: {"sku": "C" + s, "name": "x"}),
        ("batch sku", "batches", "sku",
         lambda s: {"sku": "W1" + s, "count": 1}),
        ("distributor", "distributors", "name",
         lambda s: {"name": "d" + s, "territory": TERR}),
        ("catalog item", "catalog/items", "name",
         lambda s: {"name": "i" + s, "cost": 1}),
        ("campaign", "campaigns", "name",
         lambda s: dict(base_camp, name="c" + s)),
        ("campaign sku", "campaigns", "skus[]",
         lambda s: dict(base_camp, skus=["W1" + s])),
        ("prize", "campaigns", "draw[].name",
         lambda s: dict(base_camp, draw=[{"name": "p" + s, "odds": 0.1,
                                          "stock": 1}])),
        ("tier", "settings", "tiers[].name",
         lambda s: {"tiers": [{"name": "VIP" + s, "min": 0}]}),
    ]
    for label, path, field, make in families:
        for ch in CONTROLS + BIDI:
            st, doc = srv.api("POST", path, A, make(ch))
            kind = "bidirectional" if ch in BIDI else "control"
            check(refused(st, doc, field, ch) and (ch == "\x00" or (
                kind in doc["error"]["message"] and
                "U+%04X" % ord(ch) in doc["error"]["message"])),
                  "%s with U+%04X: 422 naming '%s' (%s %s)" % (
                      label, ord(ch), field, st,
                      doc["error"]["message"] if st == 422 else doc))
    check(snapshot() == before, "no refused name was stored anywhere")

    # ---- F19: feedback ----
    st, doc, dev = srv.scan(paths[5])
    sid = doc["scan_id"]

    def feedback(text, device=dev):
        st, _, raw = srv.request("POST", "/api/v1/feedback",
                                 body={"scan_id": sid, "rating": 4,
                                       "text": text},
                                 headers={"Cookie": "sg_d=" + device,
                                          "Accept": "application/json"})
        return st, json.loads(raw)

    st, doc = feedback("好")
    check(st == 201, "feedback: 201")
    first = doc["id"]
    st, doc = feedback(cjk(500))
    check(st == 201 and doc["id"] == first + 1,
          "500 CJK characters (1500 bytes) of feedback: 201")
    st, doc = feedback("第一行\n第二行")
    check(st == 201 and doc["id"] == first + 2,
          "feedback may hold line breaks (\\n): 201")
    for bad, why in [(cjk(501), "501 characters"), ("a\x1bb", "ESC"),
                     ("a\x7fb", "DEL"), ("a\tb", "tab"), ("a\rb", "CR"),
                     ("a\x85b", "C1 NEL"), ("a\x00b", "NUL"),
                     ("a\u202eb", "RLO"), ("a\u2067b", "RLI")]:
        st, doc = feedback(bad)
        check(refused(st, doc, "text", bad[1]),
              "feedback with %s: 422 naming 'text', never 503 (%s %s)" % (
                  why, st, doc))
    st, doc = feedback("ok")
    check(st == 201 and doc["id"] == first + 3,
          "no refused feedback was stored (ids are consecutive)")

    # ---- CLI: same rule ----
    r = env.sigil("product", "add", "--brand", "acme", "--sku", "CLI1",
                  "--name", "x\u202ey", check=False)
    check(r.returncode == 2 and "bidirectional" in r.stderr,
          "sigil product add refuses a bidi control: " + r.stderr.strip())
    r = env.sigil("product", "add", "--brand", "acme", "--sku", "CLI2",
                  "--name", cjk(200))
    check(r.returncode == 0, "sigil product add: 200 CJK characters fit")

    # ---- F18: a GTIN belongs to one brand ----
    st, doc = srv.api("POST", "products", A, {"sku": "G-A", "name": "a",
                                              "gtin": "09506000134352"})
    check(st == 201, "acme registers its GTIN")
    st, doc = srv.api("POST", "products", A, {"sku": "G-A2", "name": "a",
                                              "gtin": "09506000134352"})
    check(st == 409, "acme cannot use its GTIN twice: 409")
    st, doc = srv.api("POST", "products", B, {"sku": "G-B", "name": "b",
                                              "gtin": "09506000134352"})
    check(st == 201, "beta gets no existence oracle for acme's GTIN: 201")
    st, doc = srv.api("POST", "products", B, {"sku": "SQ", "name": "b",
                                              "gtin": "04006381333931"})
    check(st == 201, "beta takes digits acme has not registered yet")
    st, doc = srv.api("POST", "products", A, {"sku": "G-A3", "name": "a",
                                              "gtin": "04006381333931"})
    check(st == 201, "acme still registers them: no squatting")
    _, ga = env.setup_brand(brand="acme", sku="GA", count=3, init=False,
                            gtin="06901234567892")
    _, gb = env.setup_brand(brand="beta", sku="GB", count=3, init=False,
                            gtin="06901234567892")
    check(ga[0].startswith("/01/06901234567892/") and
          gb[0].startswith("/01/06901234567892/"),
          "both brands mint Digital Links with the same GTIN")
    for path, brand, sku in [(ga[0], "acme", "GA"), (gb[0], "beta", "GB")]:
        st, doc, _ = srv.scan(path)
        check(st == 200 and doc["verdict"] == "genuine" and
              doc["product"]["sku"] == sku,
              "the resolver finds %s's product by the tag (%s)" % (
                  brand, doc["product"] if st == 200 else st))
    tag_b = gb[0].split("?s=")[1]
    forged = ga[0].split("?s=")[0] + "?s=" + tag_b
    st, doc, _ = srv.scan(forged)
    check(st == 200 and doc["verdict"] == "counterfeit",
          "beta's tag on acme's serial: counterfeit")

    # ---- F28: a bare date is a China calendar day ----
    _, f28 = env.setup_brand(sku="F28", count=5, init=False)
    cn_today = (datetime.datetime.now(datetime.timezone.utc) +
                datetime.timedelta(hours=8)).date()
    one = datetime.timedelta(days=1)
    st, doc = srv.api("POST", "campaigns", A, {
        "name": "today", "skus": ["F28"], "points": 1,
        "starts": str(cn_today - one), "ends": str(cn_today)})
    check(st == 201 and doc["config"]["ends"] == "%sT16:00:00.000Z" %
          cn_today and doc["config"]["starts"] == "%sT16:00:00.000Z" %
          (cn_today - 2 * one),
          "ends YYYY-MM-DD = 24:00 China time (16:00Z), starts = 00:00 "
          "China time (%s)" % (doc.get("config") if st == 201 else doc))
    cid = doc["id"]
    st, doc, _ = srv.scan(f28[0])
    check(st == 200 and isinstance(doc["reward"], dict) and
          doc["reward"]["ends"] == "%sT16:00:00.000Z" % cn_today,
          "a campaign ending today (China date) still rewards now: %r" %
          (doc["reward"],))
    st, doc = srv.api("POST", "campaigns/%d/update" % cid, A, {
        "name": "yesterday", "skus": ["F28"], "points": 1,
        "starts": str(cn_today - 3 * one), "ends": str(cn_today - one)})
    check(st == 200, "campaign moved to end yesterday (China date)")
    st, doc, _ = srv.scan(f28[1])
    check(st == 200 and doc["reward"] is None,
          "a campaign that ended yesterday (China date) rewards nothing")
    st, doc = srv.api("POST", "campaigns", A, {
        "name": "t", "skus": ["F28"], "points": 1,
        "starts": "2026-06-01T10:00:00Z", "ends": "2026-06-02T10:00:00Z"})
    check(st == 201 and doc["config"]["ends"] == "2026-06-02T10:00:00.000Z",
          "a full timestamp is taken as given (UTC)")

    # ---- F25: the CPU one operator/admin request may cost is bounded ----
    san = "/san/" in os.environ.get("BIN", "")
    OPT = env.token("acme", "operator")
    for what, path, tok, body in [
            ("4M integers", "aggregations", OPT,
             b'{"parent":"x","children":[' + b"1," * 4000000 + b"1]}"),
            ("a 1,000,000-vertex territory", "distributors", A,
             b'{"name":"big","territory":{"type":"Polygon","coordinates":[['
             + b"[1,2]," * 1000000 + b"[1,2]]]}}"),
            ("2M values to the campaigns API", "campaigns", A,
             b'{"name":"x","batches":[' + b"1," * 2000000 + b"1]}")]:
        t0 = time.monotonic()
        st, doc = srv.api("POST", path, tok, body)
        dt = time.monotonic() - t0
        check(st == 413 and doc["error"]["code"] == "too_large",
              "%s: 413 before parsing (%s)" % (what, st))
        check(dt < (3.0 if san else 0.6),
              "%s refused in %.0f ms (was about 1 s)" % (what, dt * 1000))
    st, _ = srv.api("GET", "batches", A)
    check(st == 200, "sigild serves on after them")

    # ---- data kept across a restart (the stored lengths decode) ----
    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    st, doc = srv.api("GET", "batches/%d" % bid, A)
    check(st == 200 and doc["sku"] == "一" * 64, "after restart: batch SKU")
    st, doc = srv.api("GET", "distributors/%d" % dist, A)
    check(st == 200 and doc["name"] == cjk(200),
          "after restart: distributor name")
    check(re.search(r"\x1b", srv.logtext()) is None, "no ESC in the log")
    srv.stop()

done()
