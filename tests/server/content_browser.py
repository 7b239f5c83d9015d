"""The landing page with the brand's content in headless Chromium at
390x844, zh-CN and English: story, images, buttons and the trace card
shown, screenshots kept in build/test-artifacts/ (content-*.png), and
hostile content refused or shown inert, with proof that no injected
script ran: each would set window.pwned or call a loopback listener, and
neither happens. The editor's preview is shown in a sandboxed iframe."""
import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
JS = os.path.join(ROOT, "tests", "browser", "content.js")

hits = []


class Trap(http.server.BaseHTTPRequestHandler):
    """Where an injected script would call home."""
    def do_GET(self):
        hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *a):
        pass


trap = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
threading.Thread(target=trap.serve_forever, daemon=True).start()
TRAP = "http://127.0.0.1:%d" % trap.server_address[1]


def png(w, h, rgb):
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def run(args, lang):
    env = dict(os.environ, SIGIL_LOCALE=lang)
    r = subprocess.run(["node", JS] + args, capture_output=True, text=True,
                       timeout=120, env=env)
    if r.returncode != 0:
        print(r.stdout[-2000:], r.stderr[-2000:])
        return None
    return json.loads(r.stdout.strip().split("\n")[-1])


def upload(srv, tok, data, ctype):
    st, _, raw = srv.request("POST", "/api/v1/images", body=data, headers={
        "Authorization": "Bearer " + tok, "Content-Type": ctype}, timeout=60)
    return st, json.loads(raw) if raw.startswith(b"{") else raw


CALL = "fetch('%s/%%s');window.pwned=1" % TRAP

with Env() as env:
    batch, paths = env.setup_brand("acme", sku="TEA", count=5)
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    srv = env.start()
    base = "http://127.0.0.1:%d" % srv.port

    # ---- hostile input the API refuses ----
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" onload="%s">'
           '<script>%s</script></svg>' % (CALL % "svg-onload",
                                          CALL % "svg-script")).encode()
    for ctype in ["image/svg+xml", "image/png", "image/gif"]:
        st, doc = upload(srv, A, svg, ctype)
        check(st == 415, "SVG with script as %s: 415 (%s)" % (ctype, st))
    for href in ["javascript:%s" % (CALL % "js-href"),
                 "JAVASCRIPT:alert(1)", "data:text/html,<script>%s</script>"
                 % (CALL % "data-href"), "vbscript:msgbox(1)"]:
        st, doc = srv.api("PUT", "content/products/TEA/en", A, {
            "buttons": [{"label": "Go", "href": href}]})
        check(st == 422, "button href %s...: 422" % href[:16])
    st, doc = srv.api("PUT", "content/brand/en", A, {
        "support_url": "javascript:%s" % (CALL % "support")})
    check(st == 422, "javascript: support link: 422")
    # A 50 MB image, refused from its head.
    s = socket.create_connection(("127.0.0.1", srv.port), 10)
    s.sendall(("POST /api/v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: "
               "Bearer %s\r\nContent-Type: image/png\r\nContent-Length: %d"
               "\r\n\r\n" % (A, 50 << 20)).encode())
    s.settimeout(10)
    try:
        s.sendall(b"\x89PNG\r\n\x1a\n" + b"\0" * (1 << 20))
    except OSError:
        pass
    try:
        reply = s.recv(200)
    except OSError:
        reply = b""
    s.close()
    check(reply.startswith(b"HTTP/1.1 413"), "50 MB image: 413")
    st, doc = srv.api("GET", "images", A)
    check(doc["images"] == [], "nothing of them stored")

    # ---- content, with hostile text shown as text ----
    logo = upload(srv, A, png(48, 48, (26, 127, 55)), "image/png")[1]["id"]
    pic1 = upload(srv, A, png(320, 200, (196, 160, 90)), "image/png")[1]["id"]
    pic2 = upload(srv, A, png(320, 200, (60, 110, 70)), "image/png")[1]["id"]
    brand = {"logo": logo, "support_phone": "+86 400-800-1234",
             "support_url": "https://acme.example/help"}
    st, _ = srv.api("PUT", "content/brand/zh-CN", A, dict(
        brand, display_name="阿克米茶<img src=x onerror=pwned=1>"))
    check(st == 200, "brand content zh-CN (with HTML in the name)")
    srv.api("PUT", "content/brand/en", A, dict(brand,
                                                display_name="Acme Tea"))
    story = ("<script>%s</script>西湖龙井，明前采摘，手工炒制。\n"
             "<img src=x onerror=\"%s\">\n\n"
             "第二段：每一罐都有唯一的防伪码。") % (CALL % "story-script",
                                                 CALL % "story-img")
    st, doc = srv.api("PUT", "content/products/TEA/zh-CN", A, {
        "title": "明前龙井<svg onload=\"%s\">" % (CALL % "t"),
        "story": story, "images": [pic1, pic2],
        "buttons": [{"label": "天猫旗舰店", "href": "https://tmall.example/acme"},
                    {"label": "<b onclick=pwned=1>x</b>",
                     "href": "tel:+86-400-800-1234"}]})
    check(st == 200, "product content zh-CN with hostile text: 200")
    st, doc = srv.api("PUT", "content/products/TEA/en", A, {
        "title": "Pre-rain Longjing <script>pwned=1</script>",
        "story": "Picked before the spring rains and roasted by hand.\n\n"
                 "Every tin carries its own code.",
        "images": [pic1, pic2],
        "buttons": [{"label": "Shop", "href": "https://shop.example/acme"},
                    {"label": "Call us", "href": "tel:+86-400-800-1234"}]})
    check(st == 200, "product content en")
    # a trace: packed, shipped, received
    st, d = srv.api("POST", "distributors", A, {
        "name": "杭州茶叶经销有限公司", "territory": {
            "type": "Polygon", "coordinates": [[[118.0, 27.0], [122.9, 27.0],
                                                [122.9, 31.2], [118.0, 31.2],
                                                [118.0, 27.0]]]}})
    srv.api("POST", "aggregations", OP, {"parent": paths[4],
                                         "children": paths[:3]})
    st, d = srv.api("POST", "shipments", OP, {"distributor": d["id"],
                                              "codes": [paths[4]]})
    srv.api("POST", "shipments/%d/receive" % d["id"], OP)

    for i, (lang, name, want) in enumerate([
            ("zh-CN", "content-genuine-zh", ["生产", "装箱", "发往经销商",
                                             "经销商已收货"]),
            ("en-US", "content-genuine-en", ["Made", "Packed",
                                             "Shipped to distributor",
                                             "Received by distributor"])]):
        out = os.path.join(ART, name + ".png")
        f = run(["page", base + paths[i], out], lang)
        check(f is not None, "%s: page loaded" % lang)
        if not f:
            continue
        check(f["text"].lstrip().startswith("正品" if lang == "zh-CN" else
                                             "Genuine"),
              "%s: the verdict is the first thing read" % lang)
        check(f["steps"] == want, "%s: trace card %s" % (lang, f["steps"]))
        imgs = [x for x in f["images"] if x["src"].startswith("/i/")]
        check(len(imgs) == 3 and all(x["loaded"] for x in imgs),
              "%s: logo and two pictures loaded from /i/ %s" % (lang, imgs))
        hrefs = [b["href"] for b in f["buttons"]]
        check(any(h.startswith("https://") for h in hrefs) and
              "tel:+86-400-800-1234" in hrefs and
              "https://acme.example/help" in hrefs,
              "%s: buttons and support %s" % (lang, hrefs))
        check(not any(h.lower().startswith(("javascript", "data", "vbs"))
                      for h in hrefs), "%s: no script link" % lang)
        if lang == "zh-CN":
            check("<script>fetch(" in f["text"] and
                  "<img src=x onerror=pwned=1>" in f["text"] and
                  "<svg onload=" in f["text"] and
                  "<b onclick=pwned=1>x</b>" in f["text"],
                  "zh: hostile story, title, name and label shown as text")
        else:
            check("Pre-rain Longjing <script>" in f["text"],
                  "en: hostile title shown as text")
        check(f["injected"] == 0, "%s: no element came from the content "
              "(no script, svg or event handler)" % lang)
        check(f["own_script_ran"], "%s: the page's own script ran (its "
              "hash is allowed)" % lang)
        check(not f["pwned"], "%s: no injected script ran (window.pwned "
              "unset)" % lang)
        check(not f["external_requests"], "%s: no external requests %s" %
              (lang, f["external_requests"]))
        check(not f["console_errors"] and not f["csp_violations"],
              "%s: no errors, no policy violations %s %s" % (
                  lang, f["console_errors"], f["csp_violations"]))
        check(os.path.getsize(out) > 20000, "%s: screenshot kept: %s" %
              (lang, out))

    # the preview, as the editor shows it: a sandboxed iframe
    st, hh, raw = srv.request("POST", "/api/v1/preview", body={
        "sku": "TEA", "lang": "en", "content": {
            "title": "Draft <script>%s</script>" % (CALL % "preview"),
            "story": "A draft story.", "images": [pic2]}},
        headers={"Authorization": "Bearer " + A})
    check(st == 200, "preview rendered")
    with tempfile.NamedTemporaryFile("wb", suffix=".html",
                                     delete=False) as t:
        t.write(raw)
    out = os.path.join(ART, "content-preview-en.png")
    f = run(["frame", base + "/healthz", t.name, out], "en-US")
    os.unlink(t.name)
    check(f is not None and "Draft <script>" in f["text"] and
          f["steps"] == ["Made", "Packed", "Shipped to distributor",
                         "Received by distributor"],
          "preview in a sandboxed iframe: the draft and a sample trace")
    if f:
        imgs = [x for x in f["images"] if x["src"].startswith("/i/")]
        check(imgs and all(x["loaded"] for x in imgs),
              "preview: images load inside the sandbox %s" % imgs)
        check(f["scripts"] == 0 and not f["pwned"],
              "preview: no script in it, none ran")

    check(hits == [], "the loopback trap was never called: %s" % hits)
trap.shutdown()
done()
