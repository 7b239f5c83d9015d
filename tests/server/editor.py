"""The dashboard's content editor (web/admin/editor*.js) against a real
sigild: its files are served like the rest of /admin/, then in headless
Chromium (tests/browser/editor.js) a brand admin picks a product, writes
the story in zh-CN and English, uploads an image, adds a button, a link
and a redirect rule while the 390x844 preview follows, saves, and scans
real codes through the consumer page; an analyst sees it all read-only.
Afterwards this script checks through the brand API and real scans that
what the editor saved is what sigild holds and does: the content, the
image, the link (a linkType= scan goes to it) and the rule (a WeChat scan
in English from inside the distributor's territory goes to it, others
see the page). Screenshots in build/test-artifacts/editor-*.png."""
import json
import os
import re
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
BROWSER = os.path.join(ROOT, "tests", "browser", "editor.js")
PW = "correct horse battery staple"
SKU = "X1"
GTIN = "09506000134352"
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/120.0 Safari/537.36")


def png(w, h, rgb):
    """A real w x h PNG of one colour."""
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + \
            struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    # Printed as GS1 Digital Links: sigild answers linkType= on those.
    env.sigil("product", "add", "--brand", "acme", "--sku", SKU, "--name",
              "Reserve Red 珍藏干红", "--gtin", GTIN, "--gs1")
    env.sigil("product", "add", "--brand", "acme", "--sku", "X2", "--name",
              "Other product")
    b = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku", SKU,
                             "--count", "20", "--lot", "L2412",
                             "--json").stdout)
    env.sigil("batch", "activate", "--batch", str(b["id"]))
    env.sigil("batch", "new", "--brand", "acme", "--sku", "X2", "--count",
              "5")
    b2 = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku", SKU,
                              "--count", "5", "--lot", "L2501",
                              "--json").stdout)
    env.sigil("batch", "activate", "--batch", str(b2["id"]))
    paths2 = [re.sub(r"^https?://[^/]+", "", u) for u in env.sigil(
        "mint", "--batch", str(b2["id"]), "--format", "txt", "--out",
        "-").stdout.split()]
    urls = env.sigil("mint", "--batch", str(b["id"]), "--format", "txt",
                     "--out", "-").stdout.split()
    paths = [re.sub(r"^https?://[^/]+", "", u) for u in urls]
    for email, role in [("admin@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    admin = env.token("acme", "admin")
    analyst = env.token("acme", "analyst")
    image = png(48, 32, (200, 30, 40))
    image_file = os.path.join(env.dir, "bottle.png")
    with open(image_file, "wb") as f:
        f.write(image)
    fake_file = os.path.join(env.dir, "evil.png")
    with open(fake_file, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg">'
                '<script>alert(1)</script></svg>')

    srv = env.start("--trusted-proxy", "127.0.0.1/32")
    base = "http://127.0.0.1:%d" % srv.port
    st, d = srv.api("POST", "distributors", token=admin, body={
        "name": "上海经销商", "territory": {"type": "Polygon", "coordinates": [
            [[121.0, 30.8], [122.0, 30.8], [122.0, 31.6], [121.0, 31.6],
             [121.0, 30.8]]]}})
    check(st == 201, "a distributor with a Shanghai territory (%d)" % st)
    dist = d.get("id") if isinstance(d, dict) else None

    # ---- the editor's files ----
    st, h, html = srv.get("/admin/")
    for name in ["editor.js", "editor-preview.js", "editor-links.js"]:
        check(('<script src="%s" defer></script>' % name).encode() in html,
              "index.html loads %s" % name)
        st, h, js = srv.get("/admin/" + name)
        check(st == 200 and h.get("Content-Type", "").startswith(
            "text/javascript") and b"innerHTML" not in js and
            b"eval(" not in js and b"allow-scripts'" not in js,
            "%s is served as JavaScript, without innerHTML or eval" % name)
    st, _, js = srv.get("/admin/editor-preview.js")
    check(re.search(rb"setAttribute\('sandbox', '[^']*'\)", js) and
          b"allow-scripts" not in re.search(
              rb"setAttribute\('sandbox', '([^']*)'\)", js).group(1),
          "the preview frame's sandbox has no allow-scripts")

    # ---- in Chromium ----
    r = subprocess.run(
        ["node", BROWSER, base, "admin@acme.test", "ana@acme.test", SKU,
         paths[0], paths[1], ART], capture_output=True, text=True,
        timeout=600, env=dict(os.environ, SIGIL_TEST_PASSWORD=PW,
                              SIGIL_TEST_IMAGE=image_file,
                              SIGIL_TEST_FAKE_IMAGE=fake_file,
                              SIGIL_TEST_BATCH2=str(b2["id"])))
    print(r.stdout)
    print(r.stderr[-3000:])
    lines = r.stdout.strip().split("\n")
    try:
        facts = json.loads(lines[-1])
    except ValueError:
        facts = {"failures": -1}
    check(r.returncode == 0 and facts.get("failures") == 0,
          "browser: every step passed")
    check(facts.get("dialogs") == [], "browser: no dialog fired")
    check(not facts.get("console_errors"),
          "browser: no console errors (%s)" % facts.get("console_errors"))
    check(facts.get("external_requests") == [], "browser: no external request")
    shots = facts.get("shots", [])
    check(len(shots) >= 9 and all(os.path.getsize(f) > 5000 for f in shots),
          "browser: screenshots kept in build/test-artifacts/ (%d)" %
          len(shots))
    for name in ["editor-preview-zh.png", "editor-preview-en.png"]:
        f = os.path.join(ART, name)
        head = b""
        if f in shots:
            with open(f, "rb") as fh:
                head = fh.read(24)
        w, hgt = struct.unpack(">II", head[16:24]) if len(head) == 24 \
            else (0, 0)
        check(head[:8] == b"\x89PNG\r\n\x1a\n" and (w, hgt) == (390, 844),
              "%s is 390x844 (%dx%d)" % (name, w, hgt))

    # ---- what sigild holds now ----
    img = facts.get("image") or ""

    def content(path, token=analyst):
        """(status, the document) of GET content/...: its "content"."""
        st, d = srv.api("GET", "content/" + path, token=token)
        return st, (d.get("content") or {}) if isinstance(d, dict) else {}

    st, d = content("products/%s/zh-CN" % SKU)
    check(st == 200 and d.get("title") == "珍藏干红 2024" and
          "贺兰山东麓" in d.get("story", "") and d.get("images") == [img] and
          d.get("buttons") == [{"label": "官方商城",
                                "href": "https://shop.acme.example/x1"},
                               {"label": "双十二活动",
                                "href": "link:gs1:promotion"}],
          "the zh-CN product content as the editor saved it: %s" % (d,))
    st, d = content("products/%s/en" % SKU)
    check(st == 200 and d.get("title") == "Reserve Red 2024" and
          "<img src=x onerror=alert(1)>" in d.get("story", ""),
          "the English product content, the hostile text kept as text")
    st, d = content("batches/%d/zh-CN" % b2["id"])
    check(st == 200 and d == {"title": "珍藏干红 2024 · 限量批次"},
          "the second batch holds its title only: %s" % (d,))
    st, _ = content("batches/%d/zh-CN" % b["id"])
    check(st == 404, "the first batch has no override (%d)" % st)
    st, h, body = srv.request("GET", paths2[0], headers={
        "Accept-Language": "zh-CN", "User-Agent": DESKTOP_UA})
    page = body.decode("utf-8", "replace")
    check(st == 200 and "限量批次" in page and "贺兰山东麓" in page,
          "a code of the second batch: its title, the product's story")
    st, d = content("brand/zh-CN")
    check(st == 200 and d.get("display_name") == "贺兰酒庄",
          "the brand's zh-CN display name")
    st, d = content("brand/en")
    check(st == 200 and d.get("display_name") == "Helan Winery",
          "the brand's English display name")
    st, h, body = srv.get("/i/" + img)
    check(st == 200 and body == image and
          h.get("Content-Type", "").startswith("image/png"),
          "the uploaded image is served as sent, image/png")
    st, d = srv.api("GET", "images", token=analyst)
    check(st == 200 and [i.get("id") for i in d.get("images", [])] == [img],
          "one image stored: the SVG was refused (%s)" % (d,))
    st, d = srv.api("GET", "links", token=analyst)
    links = d.get("links", []) if isinstance(d, dict) else []
    check(st == 200 and [(x.get("gtin"), x.get("link_type"), x.get("title"),
                          x.get("href"), x.get("hreflang")) for x in links] ==
          [(GTIN, "gs1:promotion", "双十二", "https://promo.acme.example/1212",
            ["zh-CN"])],
          "one link left, as the editor made it (the recipe one deleted): %s"
          % (links,))
    st, d = srv.api("GET", "redirects?sku=" + SKU, token=analyst)
    rules = d.get("redirects", []) if isinstance(d, dict) else []
    when = dict(rules[0].get("when") or {}) if rules else {}
    for k in ("from", "until"):
        if isinstance(when.get(k), str):    # the same instant, any spelling
            when[k] = re.sub(r"\.0+Z$", "Z", when[k])
    check(st == 200 and len(rules) == 1 and
          rules[0].get("href") == "https://wx.acme.example/en" and
          when == {"lang": ["en"], "wechat": True,
                   "from": "2026-01-01T00:00:00Z",
                   "until": "2036-01-01T00:00:00Z", "region": [dist]},
          "one rule left, its window converted from Asia/Shanghai to UTC: %s"
          % (rules,))

    # ---- what a scan does with it ----
    # A linkType= the item has: 307 to the link (at the product's GTIN).
    st, h, _ = srv.request("GET", paths[2] + ("&" if "?" in paths[2] else
                                              "?") + "linkType=gs1:promotion",
                           headers={"User-Agent": DESKTOP_UA})
    check(st == 307 and h.get("Location") ==
          "https://promo.acme.example/1212",
          "linkType=gs1:promotion: 307 to the editor's link (%d %s)" %
          (st, h.get("Location")))
    # The rule: WeChat, English, inside the territory (once located).
    wx_en = {"Accept-Language": "en"}
    st, h, _ = srv.request("GET", paths[3], headers=wx_en)
    check(st == 200, "WeChat, English, no location yet: the page (%d)" % st)
    st, doc, dev = srv.scan(paths[4], headers=wx_en)
    st, _, _ = srv.request("POST", "/api/v1/scans/%s/location" %
                           doc["scan_id"], body={"lat": 31.23, "lng": 121.47,
                                                 "accuracy": 30},
                           headers={"Cookie": "sg_d=" + dev})
    check(st in (200, 201, 204), "a consented location in Shanghai (%d)" % st)
    st, h, _ = srv.request("GET", paths[5], headers=dict(
        wx_en, Cookie="sg_d=" + dev))
    check(st == 307 and (h.get("Location") or "").startswith(
        "https://wx.acme.example/en"),
        "WeChat, English, in the territory: 307 to the rule (%d %s)" %
        (st, h.get("Location")))
    st, h, body = srv.request("GET", paths[6], headers={
        "Accept-Language": "zh-CN", "Cookie": "sg_d=" + dev})
    check(st == 200 and "贺兰山东麓" in body.decode("utf-8", "replace"),
          "the same device in Chinese: no rule, the page with the story")
    st, h, body = srv.request("GET", paths[7], headers=dict(
        wx_en, Cookie="sg_d=" + dev, **{"User-Agent": DESKTOP_UA}))
    check(st == 200 and "Helan Mountains" in body.decode("utf-8", "replace"),
          "English outside WeChat: no rule, the English page")

    # ---- an analyst changes nothing, whatever the page offers ----
    for method, path, body in [
            ("PUT", "content/products/%s/zh-CN" % SKU, {"title": "x"}),
            ("PUT", "content/brand/zh-CN", {"display_name": "x"}),
            ("POST", "links", {"link_type": "gs1:pip", "title": "x",
                               "href": "https://x.example/"}),
            ("DELETE", "links/%s" % (links[0]["id"] if links else 1), None),
            ("POST", "redirects", {"sku": SKU, "href": "https://x.example/"}),
            ("DELETE", "redirects/%s" % (rules[0]["id"] if rules else 1),
             None)]:
        st, _ = srv.api(method, path, token=analyst, body=body)
        check(st == 403, "analyst %s %s: 403 (%d)" % (method, path, st))
    st, d = content("products/%s/zh-CN" % SKU, admin)
    check(d.get("title") == "珍藏干红 2024", "the analyst changed nothing")
done()
