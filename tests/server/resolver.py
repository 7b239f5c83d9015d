"""The GS1-Conformant Resolver against the real sigild (issue 18, items
1-3): Digital Link syntax (every key qualifier, data attributes in the
query: 400 for a malformed one), 404 for well-formed keys and GTINs not
held here, OPTIONS and CORS, linksets checked field by field against the
rules of GS1's linkset schema, the description file, the link store and
/api/v1/links, walk-up to the default link, 307 with the query passed on
after the scan is recorded, and genuineness first: counterfeit, revoked
and unverified (a serial without s=) always get sigil's page, with the
brand's support link. Every refusal records nothing (sigil stats)."""
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

HTML = {"Accept": "text/html"}
ROOT = "https://acme.example"          # --base-url HTTPS://ACME.EXAMPLE
GS1_VOC = "https://gs1.org/voc/"
# The linkset schema's anchor pattern (its "A-z" range taken as written).
ANCHOR_RE = re.compile(r"^https?://[a-zA-z0-9./]+")
HREF_RE = re.compile(r"^https?://")
LANG_RE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
# The description file schema's enum of primary keys, and prefix pattern.
PRIMARY_KEYS = {"all", "01", "8006", "8013", "8010", "410", "411", "412",
                "413", "414", "415", "417", "8017", "8018", "255", "00",
                "253", "401", "402", "8003", "8004"}
PREFIX_RE = re.compile(r"^[a-zA-Z_][A-Za-z0-9_-]*?:$")


def gtin_cd(body13):
    """GS1 mod-10 check digit of 13 digits (GTIN-14)."""
    s = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body13))
    return body13 + str((10 - s % 10) % 10)


def stats(env):
    doc = json.loads(env.sigil("stats", "--json").stdout)
    return doc["scans"], doc["by_verdict"]


def path_of(url):
    return url[url.index("/", 8):]


def check_linkset(doc, anchor_prefix, what):
    """Field by field, the rules of GS1's linkset schema (resolver 1.2):
    {"linkset": [ {anchor, itemDescription, description?, <link type URI>:
    [ {href, title, type?, hreflang?} ]} ]}; defaultLink: href and title."""
    errs = []
    if not isinstance(doc, dict) or list(doc) != ["linkset"]:
        return ["top level must be {linkset: [...]}"]
    ls = doc["linkset"]
    if not isinstance(ls, list) or len(ls) != 1:
        return ["linkset must be an array of one context"]
    ctx = ls[0]
    a = ctx.get("anchor")
    if not isinstance(a, str) or not ANCHOR_RE.match(a):
        errs.append("anchor %r fails the schema pattern" % a)
    elif not a.startswith(anchor_prefix):
        errs.append("anchor %r is not %s..." % (a, anchor_prefix))
    if not isinstance(ctx.get("itemDescription"), str) or \
            not ctx["itemDescription"]:
        errs.append("itemDescription missing")
    if "description" in ctx and not isinstance(ctx["description"], str):
        errs.append("description not a string")
    if GS1_VOC + "defaultLink" not in ctx:
        errs.append("no defaultLink")
    for k, v in ctx.items():
        if k in ("anchor", "itemDescription", "description"):
            continue
        if not HREF_RE.match(k) or not k.startswith(GS1_VOC):
            errs.append("key %r is not a GS1 link type URI" % k)
            continue
        if not isinstance(v, list) or not v:
            errs.append("%s: not a non-empty array" % k)
            continue
        for o in v:
            allowed = {"href", "title"} if k.endswith("/defaultLink") \
                else {"href", "title", "type", "hreflang"}
            if not isinstance(o, dict) or set(o) - allowed:
                errs.append("%s: attributes %s not allowed" % (
                    k, sorted(set(o) - allowed)))
                continue
            if not isinstance(o.get("href"), str) or \
                    not HREF_RE.match(o["href"]):
                errs.append("%s: href %r" % (k, o.get("href")))
            elif o["href"].split("/")[2] != o["href"].split("/")[2].lower() \
                    or not o["href"].startswith(("http://", "https://")):
                errs.append("%s: scheme or host not lower case: %s" % (
                    k, o["href"]))
            if not isinstance(o.get("title"), str) or not o["title"]:
                errs.append("%s: title missing" % k)
            if "type" in o and not re.match(r"^[\w.+-]+/[\w.+-]+$",
                                            o["type"]):
                errs.append("%s: type %r" % (k, o["type"]))
            if "hreflang" in o and (not isinstance(o["hreflang"], list) or
                                    not all(isinstance(x, str) and
                                            LANG_RE.match(x)
                                            for x in o["hreflang"])):
                errs.append("%s: hreflang %r" % (k, o["hreflang"]))
    if errs:
        print("   linkset (%s): %s" % (what, json.dumps(doc)[:600]))
    return errs


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "HTTPS://ACME.EXAMPLE")
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0", "--base-url",
                    "HTTPS://ACME.EXAMPLE")

    GTIN = "09506000134352"
    BETA_GTIN = "04006381333931"
    UNHELD = gtin_cd("0950600013436")
    check(UNHELD != GTIN and UNHELD != BETA_GTIN, "an unheld GTIN")
    srv.api("POST", "products", A, {"sku": "TEA", "name": "Longjing 250 g",
                                    "gtin": GTIN, "gs1": True})
    srv.api("POST", "products", A, {"sku": "CMP", "name": "Compact item"})
    srv.api("POST", "products", B, {"sku": "BT", "name": "Beta thing",
                                    "gtin": BETA_GTIN, "gs1": True})
    st, bat = srv.api("POST", "batches", A, {"sku": "TEA", "count": 6,
                                             "lot": "L1"})
    srv.api("POST", "batches/%d/activate" % bat["id"], A)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % bat["id"], A)
    dls = [l.split(",")[1] for l in raw.decode().strip().split("\n")[1:]]
    paths = [path_of(u) for u in dls]
    check(st == 200 and len(paths) == 6 and
          paths[0].startswith("/01/%s/10/L1/21/" % GTIN),
          "six Digital Links with lot L1: " + paths[0])
    st, bat2 = srv.api("POST", "batches", A, {"sku": "TEA", "count": 2,
                                              "lot": "L2"})
    st, raw = srv.api("GET", "batches/%d/codes.csv" % bat2["id"], A)
    revoked = path_of(raw.decode().strip().split("\n")[1].split(",")[1])
    srv.api("POST", "batches/%d/revoke" % bat2["id"], A)
    st, cb = srv.api("POST", "batches", A, {"sku": "CMP", "count": 2})
    srv.api("POST", "batches/%d/activate" % cb["id"], A)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % cb["id"], A)
    compact = path_of(raw.decode().strip().split("\n")[1].split(",")[1])

    def serial_of(p):
        return p.split("/21/")[1].split("?")[0]

    def tag_of(p):
        return p.split("?s=")[1]

    def strip_s(p):
        return p.split("?")[0]

    # ---- 1. syntax: 400 for every malformed path or data attribute ----
    g = "/01/" + GTIN
    item = paths[0]
    bad = [
        g[:-1] + "3",                                 # check digit
        g + "/21/1/10/L1",                            # 21 before 10
        g + "/10/L1/22/V",                            # 10 before 22
        g + "/235/TPX/21/1",                          # 235 is an alternative
        g + "/10/L1/235/TPX",
        g + "/17/261231",                             # not a qualifier
        g + "/21/" + "9" * 21,                        # X..20
        g + "/235/" + "T" * 29,                       # X..28
        g + "?17=201310",                             # month 13
        g + "?17=200230",                             # 30 February
        g + "?15=230229",                             # 2023 is not leap
        g + "?7006=200100",                           # DD=00 only in yymmd0
        g + "?7003=2012312460",                       # hour 24
        g + "?3103=12345",                            # N6
        g + "?3106=123456",                           # decimals 0..5
        g + "?20=7",                                  # N2
        g + "?37=123456789",                          # N..8
        g + "?8005=12345",
        g + "?21=5",                      # no "?" flag: path only
        g + "?22=V",
        g + "?235=T",
        g + "?01=" + GTIN,                            # the key again
        g + "/10/L1?10=L1",
        g + "?17=261231&17=261231",
        g + "?1234=1",                                # no such AI
        g + "?12=",
        item + "&17=201310",                          # on an item too
        item + "&s=" + tag_of(item),                  # s= twice
        "/414/9520123456789",                         # GLN check digit
        "/414/9520123456788/7040/1ABC/254/1",         # 254 or 7040
        "/00/10614141234567890",                      # SSCC is N18
        "/8006/095201234567880300",                   # piece 03 of 00
        "/8010/abc/8011/1",                           # CPID set 39
        "/8017/106141412345678901",
    ]
    before = stats(env)
    for p in bad:
        st, hdrs, body = srv.get(p, headers=HTML)
        try:
            code = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        check(st == 400 and code == "bad_digital_link" and
              hdrs.get("Access-Control-Allow-Origin") == "*",
              "400 bad_digital_link (with CORS): %s" % p)
    check(stats(env) == before, "malformed Digital Links record nothing")

    # ---- 2. well-formed, not held: 404, nothing recorded ----
    notheld = [
        "/00/106141412345678908",
        "/414/9520123456788/254/32a%2Fb",
        "/417/9520123456788/7040/1ABC",
        "/8004/9520123456788A1/7040/1ABC",
        "/8006/095201234567880102/10/L",
        "/8010/ABC-1/8011/0",
        "/8017/106141412345678908/8019/12",
        "/253/4012345000009XYZ",
        "/401/CONSIGNMENT1",
        "/402/40123450000000009",
        "/8013/GMN1",
        "/01/" + UNHELD,
        "/01/%s/10/L1" % UNHELD,
        "/01/%s/21/%s?s=%s" % (UNHELD, serial_of(item), tag_of(item)),
        "/01/%s/21/1" % UNHELD,
        "/01/%s?linkType=all" % UNHELD,
    ]
    for p in notheld:
        st, hdrs, body = srv.get(p, headers=HTML)
        check(st == 404 and "Link" not in hdrs,
              "404, no linkset offered: %s (%d)" % (p, st))
    st, hdrs, _ = srv.get("/01/" + UNHELD,
                          headers={"Accept": "application/linkset+json"})
    check(st == 404, "no linkset for a GTIN not held")
    check(stats(env) == before, "keys not held record nothing")

    # ---- 3. OPTIONS and CORS on every resolver path ----
    for p in [item, g, g + "/10/L1", "/00/106141412345678908",
              "/.well-known/gs1resolver"]:
        st, hdrs, body = srv.request("OPTIONS", p, headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "GET"})
        check(st == 204 and body == b"" and
              hdrs.get("Access-Control-Allow-Origin") == "*" and
              "GET" in hdrs.get("Access-Control-Allow-Methods", "") and
              "OPTIONS" in hdrs.get("Allow", ""),
              "OPTIONS %s: 204 with CORS" % p)
    st, hdrs, _ = srv.get(g, headers=HTML)
    expose = hdrs.get("Access-Control-Expose-Headers", "")
    check(hdrs.get("Access-Control-Allow-Origin") == "*" and
          "Link" in expose and "Location" in expose,
          "GET: Allow-Origin * and Link, Location exposed")
    check(stats(env) == before, "OPTIONS records nothing")

    # ---- 4. GTIN and lot level without links: sigil's product view ----
    for p in [g, g + "/10/L1", g + "/22/V1/10/L1", g + "/"]:
        st, hdrs, body = srv.get(p, headers=HTML)
        link = hdrs.get("Link", "")
        check(st == 200 and b'data-verdict="product"' in body and
              b"Longjing 250 g" in body and 'rel="linkset"' in link and
              link.startswith("<%s/01/%s" % (ROOT, GTIN)),
              "%s: product view with Link rel=linkset" % p)
    check(stats(env) == before, "product views record nothing")

    # ---- 5. linksets: field by field, recording nothing ----
    for p, hdrs_in in [(g + "?linkType=all", HTML),
                       (g + "/10/L1?linkType=linkset", HTML),
                       (g, {"Accept": "application/linkset+json"}),
                       (g, {"Accept": "application/json"}),
                       (item + "&linkType=all", HTML),
                       (strip_s(item) + "?linkType=all", HTML)]:
        st, hdrs, body = srv.get(p, headers=hdrs_in)
        doc = json.loads(body) if st == 200 else None
        errs = check_linkset(doc, ROOT + "/01/" + GTIN, p) if doc else \
            ["status %d" % st]
        check(hdrs.get("Content-Type", "").startswith(
            "application/linkset+json") and not errs,
            "linkset %s valid (%s)" % (p, errs[:3]))
    st, _, body = srv.get(item + "&linkType=all", headers=HTML)
    ctx = json.loads(body)["linkset"][0]
    check(ctx["anchor"] == ROOT + strip_s(item) and
          ctx["itemDescription"] == "Longjing 250 g" and
          GS1_VOC + "traceability" in ctx,
          "item linkset: lower-case anchor, description, traceability")
    # Every link the resolver advertises for itself answers (not 404).
    for o in [x for v in ctx.values() if isinstance(v, list) for x in v]:
        if o["href"].startswith(ROOT):
            st, _, _ = srv.get(path_of(o["href"]),
                               headers={"User-Agent": "curl/8"})
            check(st in (200, 307), "advertised %s answers %d" % (
                o["href"], st))
    st, _, body = srv.get(strip_s(item) + "?linkType=all", headers=HTML)
    ctx = json.loads(body)["linkset"][0]
    check(GS1_VOC + "traceability" not in ctx,
          "no trace offered for a serial without s= (it would be 404)")
    before = stats(env)

    # ---- 6. the description file (GS1 resolver 1.2 schema) ----
    st, hdrs, body = srv.get("/.well-known/gs1resolver")
    d = json.loads(body)
    check(st == 200 and d["resolverRoot"] == ROOT and
          isinstance(d["name"], str) and
          set(d["supportedPrimaryKeys"]) <= PRIMARY_KEYS and
          d["supportedPrimaryKeys"] == ["01"] and
          all(PREFIX_RE.match(x["prefix"]) and
              HREF_RE.match(x["namespace"]) for x in d["supportedLinkType"])
          and isinstance(d["linkTypeDefaultCanBeLinkset"], bool) and
          HREF_RE.match(d["jsonLdContextLocation"]) and
          isinstance(d["contact"], dict) and
          hdrs.get("Access-Control-Allow-Origin") == "*",
          "description file: every field per the 1.2 schema")

    # ---- 7. the link store: /api/v1/links and its refusals ----
    refused = [
        ({"link_type": "gs1:foo", "href": "https://b.example/", "title": "t"},
         "bad_link_type"),
        ({"link_type": "pip", "href": "https://b.example/", "title": "t"},
         "bad_link_type"),
        ({"link_type": "gs1:defaultLink", "href": "https://b.example/",
          "title": "t"}, "bad_link_type"),
        ({"link_type": "gs1:pip", "href": "javascript:alert(1)",
          "title": "t"}, "bad_href"),
        ({"link_type": "gs1:pip", "href": "ftp://b.example/", "title": "t"},
         "bad_href"),
        ({"link_type": "gs1:pip", "href": "https://u@b.example/",
          "title": "t"}, "bad_href"),
        ({"link_type": "gs1:pip", "href": "https://b.example/a b",
          "title": "t"}, "bad_href"),
        ({"link_type": "gs1:pip", "href": "https://b.example/#x",
          "title": "t"}, "bad_href"),
        ({"link_type": "gs1:pip", "href": "tel:+8610", "title": "t"},
         "bad_href"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "hreflang": ["zh_CN"]}, "bad_hreflang"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "hreflang": ["en-"]}, "bad_hreflang"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "hreflang": "en"}, "bad_hreflang"),
        ({"link_type": "gs1:pip", "href": "https://b.example/"}, "invalid"),
        ({"link_type": "gs1:pip", "href": "https://b.example/",
          "title": "x" * 201}, "invalid"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "colour": "red"}, "invalid"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "gtin": GTIN[:-1] + "3"}, "bad_gtin"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "gtin": BETA_GTIN}, "unknown_gtin"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "lot": "L1"}, "invalid"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "gtin": GTIN, "sku": "TEA"}, "invalid"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "sku": "TEA", "batch": cb["id"]}, "unknown_batch"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "default": "yes"}, "invalid"),
        ({"link_type": "gs1:pip", "href": "https://b.example/", "title": "t",
          "media_type": "html"}, "invalid"),
    ]
    for body_in, code in refused:
        st, doc = srv.api("POST", "links", A, body_in)
        check(st == 422 and doc["error"]["code"] == code,
              "refused %s: %s (%s)" % (code, json.dumps(body_in)[:70],
                                       doc.get("error") if st == 422 else st))
    st, doc = srv.api("POST", "links", AN, {"link_type": "gs1:pip",
                      "href": "https://b.example/", "title": "t"})
    check(st == 403, "an analyst may not add links")
    st, doc = srv.api("GET", "links", A)
    check(st == 200 and doc["links"] == [], "nothing was stored")

    st, gl = srv.api("POST", "links", A, {
        "gtin": "9506000134352", "link_type": "gs1:pip",
        "href": "HTTPS://Brand.EXAMPLE/Tea?x=1", "title": "Longjing page",
        "hreflang": ["zh-CN", "en"], "media_type": "text/html",
        "default": True})
    check(st == 201 and gl["id"] > 0 and gl["gtin"] == GTIN and
          gl["href"] == "https://brand.example/Tea?x=1" and
          gl["hreflang"] == ["zh-CN", "en"] and gl["default"] is True and
          gl["lot"] is None and gl["batch"] is None,
          "GTIN-level default link, scheme and host lower-cased: %s" % gl)
    st, pl = srv.api("POST", "links", A, {
        "gtin": GTIN, "link_type": "gs1:promotion",
        "href": "https://brand.example/cny", "title": "CNY offer"})
    st, sup = srv.api("POST", "links", A, {
        "link_type": "gs1:customerSupport", "href": "https://brand.example/help",
        "title": "Acme help desk"})
    check(st == 201 and sup["link_type"] == "gs1:support" and
          sup["gtin"] is None and sup["sku"] is None,
          "brand-level support link (gs1:customerSupport is gs1:support)")
    st, doc = srv.api("GET", "links/%d" % gl["id"], B)
    check(st == 404, "another brand's link is 404")
    st, doc = srv.api("DELETE", "links/%d" % gl["id"], B)
    check(st == 404, "another brand cannot delete it")
    st, doc = srv.api("PATCH", "links/%d" % gl["id"], B, {"title": "x"})
    check(st == 404, "nor change it")
    st, doc = srv.api("GET", "links?gtin=%s" % GTIN, AN)
    check(st == 200 and {l["id"] for l in doc["links"]} ==
          {gl["id"], pl["id"]}, "list by gtin")
    st, doc = srv.api("PATCH", "links/%d" % pl["id"], A,
                      {"title": "CNY 2027", "href": "javascript:x"})
    check(st == 422, "PATCH checks as POST does")
    st, doc = srv.api("PATCH", "links/%d" % pl["id"], A, {"title": "CNY 2027"})
    check(st == 200 and doc["title"] == "CNY 2027" and
          doc["href"] == "https://brand.example/cny", "PATCH: partial")
    check(stats(env) == before, "the links API records no scan")

    # ---- 8. walk-up: GTIN level answers the default link, query on ----
    st, hdrs, _ = srv.get(g + "?utm_source=wechat&17=261231", headers=HTML)
    check(st == 307 and hdrs["Location"] ==
          "https://brand.example/Tea?x=1&utm_source=wechat&17=261231",
          "GTIN: 307 to the default link, query passed on (%s)" %
          hdrs.get("Location"))
    st, hdrs, _ = srv.get(g + "/10/L9?linkType=gs1:promotion&a=1",
                          headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/cny?a=1",
          "GTIN+lot: 307 to the requested type, linkType dropped")
    st, hdrs, _ = srv.get(g + "?linkType=gs1:review", headers=HTML)
    check(st == 307 and hdrs["Location"].startswith(
        "https://brand.example/Tea"), "a type it lacks: the default link")
    srv.api("POST", "links", A, {
        "gtin": GTIN, "link_type": "gs1:recipeInfo", "hreflang": ["en"],
        "href": "https://brand.example/recipes/en", "title": "Recipes"})
    srv.api("POST", "links", A, {
        "gtin": GTIN, "link_type": "gs1:recipeInfo", "hreflang": ["zh-CN"],
        "href": "https://brand.example/recipes/zh", "title": "食谱"})
    for al, want in [("en-US,en;q=0.8", "en"), ("zh-TW,zh;q=0.9", "zh"),
                     ("fr", "en")]:
        st, hdrs, _ = srv.get(g + "?linkType=gs1:recipeInfo", headers={
            "Accept": "text/html", "Accept-Language": al})
        check(st == 307 and hdrs["Location"] ==
              "https://brand.example/recipes/" + want,
              "Accept-Language %s picks the %s link" % (al, want))
    check(stats(env) == before, "GTIN-level redirects record nothing")
    st, _, body = srv.get(g + "?linkType=all", headers=HTML)
    ctx = json.loads(body)["linkset"][0]
    errs = check_linkset(json.loads(body), ROOT, "with links")
    check(not errs and ctx[GS1_VOC + "defaultLink"] == [{
        "href": "https://brand.example/Tea?x=1", "title": "Longjing page"}]
          and ctx[GS1_VOC + "pip"][0]["hreflang"] == ["zh-CN", "en"] and
          ctx[GS1_VOC + "pip"][0]["type"] == "text/html" and
          ctx[GS1_VOC + "promotion"][0]["title"] == "CNY 2027" and
          ctx[GS1_VOC + "support"][0]["href"] == "https://brand.example/help",
          "linkset holds the brand's links, defaultLink bare (%s)" % errs)

    # ---- 9. an item: recorded first, then 307 (genuine only) ----
    b0 = stats(env)
    st, hdrs, _ = srv.get(item + "&utm_source=qr", headers=HTML)
    b1 = stats(env)
    check(st == 307 and hdrs["Location"] ==
          "https://brand.example/Tea?x=1&utm_source=qr" and
          'rel="linkset"' in hdrs.get("Link", ""),
          "genuine item: 307 to the default link, s= dropped (%s)" %
          hdrs.get("Location"))
    check(b1[0] == b0[0] + 1 and b1[1]["genuine"] == b0[1]["genuine"] + 1,
          "the scan was recorded before the redirect")
    st, hdrs, _ = srv.get(paths[1] + "&linkType=gs1:promotion", headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/cny",
          "requested link type: 307 to it")
    st, d, _ = srv.scan(paths[2])
    check(st == 200 and d["verdict"] == "genuine",
          "Accept: application/json: the JSON, no redirect")
    # lot and serial levels take over from the GTIN level
    st, ll = srv.api("POST", "links", A, {
        "gtin": GTIN, "lot": "L1", "link_type": "gs1:pip",
        "href": "https://brand.example/L1", "title": "Lot L1",
        "default": True})
    st, sl = srv.api("POST", "links", A, {
        "gtin": GTIN, "lot": "L1", "serial": serial_of(paths[3]),
        "link_type": "gs1:registerProduct",
        "href": "https://brand.example/reg", "title": "Register",
        "default": True})
    st, hdrs, _ = srv.get(paths[3], headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/reg",
          "serial-level default wins")
    st, hdrs, _ = srv.get(paths[4], headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/L1",
          "another serial of the lot: the lot's default")
    st, hdrs, _ = srv.get(g + "/10/L1", headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/L1",
          "GTIN+lot: the lot's default")
    st, doc = srv.api("POST", "links", A, {
        "gtin": GTIN, "lot": "L1", "link_type": "gs1:pip",
        "href": "https://brand.example/L1b", "title": "Lot L1 again",
        "default": True})
    st, old = srv.api("GET", "links/%d" % ll["id"], A)
    check(old["default"] is False, "one default per level: the new one")
    srv.api("DELETE", "links/%d" % doc["id"], A)
    st, doc = srv.api("DELETE", "links/%d" % ll["id"], A)
    check(st == 200 and doc["deleted"] is True, "DELETE")
    st, hdrs, _ = srv.get(paths[4], headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/Tea?x=1",
          "lot links gone: walks up to the GTIN's default")

    # ---- 9b. the order of CONTRACT.md: linkType, rule, default link ----
    st, rule = srv.api("POST", "redirects", A, {
        "sku": "TEA", "priority": 1, "href": "https://brand.example/rule",
        "note": "resolver.py"})
    check(st == 201, "a redirect rule for TEA (%s)" % st)
    st, hdrs, _ = srv.get(paths[4] + "&utm=1", headers=HTML)
    check(st == 307 and hdrs["Location"].startswith(
        "https://brand.example/rule") and "utm=1" in hdrs["Location"],
          "a holding rule comes before the default link (%s)" %
          hdrs.get("Location"))
    st, hdrs, _ = srv.get(paths[4] + "&linkType=gs1:promotion", headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/cny",
          "a requested link type comes before the rule")
    st, hdrs, body = srv.get(revoked, headers=HTML)
    check(st == 200 and b'data-verdict="revoked"' in body,
          "no rule hides a revoked verdict")
    srv.api("DELETE", "redirects/%d" % rule["id"], A)

    # ---- 10. genuineness first ----
    b0 = stats(env)
    st, hdrs, body = srv.get(strip_s(paths[5]), headers=HTML)
    check(st == 200 and b'data-verdict="unverified"' in body and
          b"scan the QR code printed on the item" not in body,
          "serial without s=: sigil's page, zh-CN by default")
    check("\u672a\u9a8c\u8bc1".encode() in body and
          "\u626b\u63cf\u5546\u54c1\u4e0a\u5370\u7684\u4e8c\u7ef4\u7801"
          .encode() in body, "zh-CN: how to check (scan the printed code)")
    st, hdrs, body = srv.get(strip_s(paths[5]), headers={
        "Accept": "text/html", "Accept-Language": "en"})
    check(st == 200 and b'data-verdict="unverified"' in body and
          b"scan the QR code printed on the item" in body and
          b"https://brand.example/help" in body and
          b"Acme help desk" in body and "Location" not in hdrs,
          "English, the brand's support link, no redirect")
    st, d, _ = srv.scan(strip_s(paths[5]))
    check(st == 200 and d["verdict"] == "unverified", "JSON: unverified")
    b1 = stats(env)
    check(b1[1]["unverified"] == b0[1].get("unverified", 0) + 3 and
          b1[1]["counterfeit"] == b0[1]["counterfeit"],
          "recorded as unverified, not counterfeit: %s" % b1[1])
    st, d, _ = srv.scan(g + "/235/TPX-1")
    check(st == 200 and d["verdict"] == "unverified",
          "235 (TPX) accepted: an item sigil cannot verify")
    t = tag_of(paths[5])
    forged = paths[5].replace(t, t[:-1] + ("2" if t[-1] != "2" else "3"))
    st, hdrs, body = srv.get(forged, headers=HTML)
    check(st == 200 and b'data-verdict="counterfeit"' in body and
          b"https://brand.example/help" in body,
          "forged s=: counterfeit page with the support link, no redirect")
    st, hdrs, body = srv.get(revoked, headers=HTML)
    check(st == 200 and b'data-verdict="revoked"' in body and
          b"https://brand.example/help" in body, "revoked: never redirected")
    st, hdrs, body = srv.get("/01/%s/21/%s?s=%s" % (
        BETA_GTIN, serial_of(item), tag_of(item)), headers=HTML)
    check(st == 200 and b'data-verdict="counterfeit"' in body and
          b"brand.example" not in body,
          "acme's tag under beta's GTIN: counterfeit, no acme link")
    st, _, met = srv.get("/metrics")
    m = re.search(rb'sigil_scans_total\{verdict="unverified"\} (\d+)', met)
    check(m is not None and int(m.group(1)) >= 4,
          "/metrics counts unverified apart")
    series = re.findall(rb'^(sigil_http_requests_total\{[^}]*\}) ', met, re.M)
    check(len(series) == len(set(series)) and
          b'route="scan_gs1",status="404"' in met,
          "/metrics: each route name and status once (16 GS1 key routes)")
    out = env.sigil("stats").stdout
    check(re.search(r"unverified\s+\d+", out) is not None,
          "sigil stats shows unverified")

    # ---- 11. compact codes walk batch -> product -> brand ----
    st, cl = srv.api("POST", "links", A, {
        "sku": "CMP", "link_type": "gs1:pip", "href": "https://brand.example/c",
        "title": "Compact", "default": True})
    check(st == 201 and cl["sku"] == "CMP", "product-level link")
    st, hdrs, _ = srv.get(compact + "?from=poster", headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/c?from=poster",
          "compact code: 307 to the product's default")
    st, bl = srv.api("POST", "links", A, {
        "sku": "CMP", "batch": cb["id"], "link_type": "gs1:pip",
        "href": "https://brand.example/cb", "title": "Batch",
        "default": True})
    st, hdrs, _ = srv.get(compact, headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/cb",
          "batch level first")
    srv.api("POST", "links", A, {
        "sku": "CMP", "link_type": "gs1:recipeInfo",
        "href": "https://brand.example/recipes", "title": "Recipes"})
    st, hdrs, _ = srv.get(compact + "?linkType=gs1:recipeInfo&x=1",
                          headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/recipes?x=1",
          "compact code with ?linkType=: that link, the rest passed on")

    # ---- 12. gs1:pip without a brand page of its own is sigil's page ----
    st, bp = srv.api("POST", "links", B, {
        "link_type": "gs1:promotion", "href": "https://beta.example/p",
        "title": "Beta offer", "default": True})
    bg = "/01/" + BETA_GTIN
    st, hdrs, _ = srv.get(bg, headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://beta.example/p",
          "beta's GTIN: its brand-level default")
    st, _, body = srv.get(bg + "?linkType=all", headers=HTML)
    ctx = json.loads(body)["linkset"][0]
    pip = ctx[GS1_VOC + "pip"][0]["href"]
    check(pip.startswith(ROOT) and "linkType=gs1:pip" in pip,
          "its linkset offers sigil's page as gs1:pip")
    st, hdrs, body = srv.get(path_of(pip), headers=HTML)
    check(st == 200 and b'data-verdict="product"' in body,
          "and that link answers sigil's page, not the default")

    # ---- 13. a GTIN two brands hold: no brand's links at GTIN level ----
    srv.api("POST", "products", B, {"sku": "SQ", "name": "Squatter",
                                    "gtin": GTIN})
    b0 = stats(env)
    st, hdrs, body = srv.get(g, headers=HTML)
    check(st == 200 and b'data-verdict="product"' in body and
          b"Longjing" not in body and b"Squatter" not in body,
          "GTIN held by two brands: a neutral product view, no redirect")
    st, _, body = srv.get(g + "?linkType=all", headers=HTML)
    ctx = json.loads(body)["linkset"][0]
    check(not check_linkset(json.loads(body), ROOT, "two holders") and
          ctx[GS1_VOC + "defaultLink"][0]["href"].startswith(ROOT) and
          GS1_VOC + "promotion" not in ctx, "its linkset: sigil's own only")
    st, hdrs, _ = srv.get(paths[4], headers=HTML)
    check(st == 307 and hdrs["Location"] == "https://brand.example/Tea?x=1",
          "a verified item still reaches its own brand's link")
    check(stats(env)[0] == b0[0] + 1, "only the item was recorded")

    # ---- 14. upper-case --base-url: anchors and hrefs lower case ----
    srv.stop()
    srv = env.start("--base-url", "HTTPS://ACME.EXAMPLE:8443/")
    st, _, body = srv.get(item + "&linkType=all", headers=HTML)
    doc = json.loads(body)
    errs = check_linkset(doc, "https://acme.example:8443/01/", "port")
    check(not errs, "linkset under HTTPS://ACME.EXAMPLE:8443/ (%s)" % errs)
    st, _, body = srv.get("/.well-known/gs1resolver")
    check(json.loads(body)["resolverRoot"] == "https://acme.example:8443",
          "resolverRoot lower case, trailing slash dropped")

    # ---- 15. refusals before the handler carry CORS too ----
    srv.stop()
    srv = env.start("--rate-limit", "1")
    st, hdrs, _ = srv.request("DELETE", item)
    check(st == 405 and hdrs.get("Access-Control-Allow-Origin") == "*",
          "a 405 on a resolver path carries CORS: %s" % st)
    seen = None
    for _ in range(60):
        st, hdrs, _ = srv.get(item + "&linkType=all", headers=HTML)
        if st == 429:
            seen = hdrs
            break
    check(seen is not None and
          seen.get("Access-Control-Allow-Origin") == "*" and
          "Retry-After" in seen.get("Access-Control-Expose-Headers", ""),
          "a 429 on a resolver path carries CORS and exposes Retry-After")
    st, hdrs, _ = srv.get("/healthz")
    check("Access-Control-Allow-Origin" not in hdrs,
          "a route that is not the resolver's gets no CORS headers")
done()
