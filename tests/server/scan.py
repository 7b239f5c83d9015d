"""sigild scan path, end to end: verdicts, counts, letter case, bots,
clone signals, locations, JSON shape and the HTML page."""
import http.client
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402


def flip(path):
    """The same code with its last character changed."""
    last = path[-1]
    return path[:-1] + ("0" if last != "0" else "1")


with Env() as env:
    batch, paths = env.setup_brand(count=30, max_scanners=3)
    _, inactive = env.setup_brand(init=False, sku="W2", count=3,
                                  activate=False)
    revoked_batch, revoked = env.setup_brand(init=False, sku="W3", count=3)
    env.sigil("batch", "revoke", "--batch", str(revoked_batch))
    srv = env.start()

    p = paths[0]
    st, doc, dev = srv.scan(p)
    check(st == 200 and doc["verdict"] == "genuine", "first scan genuine")
    check(doc["first_scan"] is True and doc["scan_count"] == 1,
          "first_scan true, scan_count 1")
    check(doc["first_scanned_at"].endswith("Z"), "first_scanned_at ISO-8601")
    check(doc["product"]["sku"] == "W1" and doc["batch"]["id"] == batch,
          "product and batch in JSON")
    check(len(doc["scan_id"]) == 32 and isinstance(doc["trace"], list),
          "scan_id and trace present")
    st, doc2, _ = srv.scan(p, device=dev)
    check(doc2["verdict"] == "genuine" and doc2["first_scan"] is False and
          doc2["scan_count"] == 2, "second scan: first_scan false, count 2")
    check(doc2["first_scanned_at"] == doc["first_scanned_at"],
          "first_scanned_at stays the first scan's time")

    st, doc, _ = srv.scan(flip(p))
    check(st == 200 and doc["verdict"] == "counterfeit", "tampered: counterfeit")
    st, doc, _ = srv.scan("/S/NOT-A-CODE")
    check(doc["verdict"] == "counterfeit", "malformed: counterfeit")
    st, doc, _ = srv.scan(inactive[0])
    check(doc["verdict"] == "inactive", "inactive batch")
    st, doc, _ = srv.scan(revoked[0])
    check(doc["verdict"] == "revoked", "revoked batch")

    # Any letter case, /s/ and Crockford aliases name the same code.
    q = paths[1]
    code = q.split("/")[-1]
    _, d1, dev1 = srv.scan(q)
    _, d2, _ = srv.scan("/s/" + code.lower(), device=dev1)
    alias = code.replace("0", "o").replace("1", "l")
    _, d3, _ = srv.scan("/S/" + alias, device=dev1)
    check(d1["scan_count"] == 1 and d2["scan_count"] == 2 and
          d3["scan_count"] == 3 and d3["verdict"] == "genuine",
          "lower case, /s/ and O/L aliases resolve to the same code")

    # Bots and previews change no count.
    r = paths[2]
    _, d, dev2 = srv.scan(r)
    for ua in ["facebookexternalhit/1.1", "Mozilla/5.0 (compatible; "
               "Googlebot/2.1)", "WhatsApp/2.23", "TelegramBot (like "
               "TwitterBot)", "curl/8.0", "Slackbot-LinkExpanding 1.0"]:
        st, d, _ = srv.scan(r, headers={"User-Agent": ua})
        check(st == 200 and d["bot"] is True, "bot UA recorded as bot: " + ua)
    st, _, _ = srv.request("HEAD", r)
    check(st == 200, "HEAD answered")
    st, d, _ = srv.scan(r, headers={"Sec-Purpose": "prefetch"})
    check(d["bot"] is True, "prefetch header is not a person")
    _, d, _ = srv.scan(r, device=dev2)
    check(d["scan_count"] == 2 and d["verdict"] == "genuine",
          "after bots, HEAD and prefetch the count is still only humans")

    # A 4th distinct device on a --max-scanners 3 product: suspicious, when
    # the scanners come from three networks or more (docs/api.md; cookie-
    # less requests from one /24 are one scanner: tests/server/grief.py).
    s = paths[3]
    verdicts = [srv.scan(s, source="127.0.%d.1" % (i + 1))[1]["verdict"]
                for i in range(4)]
    check(verdicts == ["genuine"] * 3 + ["suspicious"],
          "4th distinct device on max-scanners 3: suspicious (%s)" % verdicts)
    _, d, _ = srv.scan(s)
    check(d["verdict"] == "suspicious" and "too_many_scanners" in d["signals"],
          "suspicious sticks, with its evidence")

    # Impossible travel: Shanghai then Beijing (~1,070 km) within minutes.
    t = paths[4]
    _, a, da = srv.scan(t)
    st, _, body = srv.request("POST", "/api/v1/scans/%s/location" %
                              a["scan_id"], {"lat": 31.23, "lng": 121.47,
                                             "accuracy": 30},
                              headers={"Cookie": "sg_d=" + da})
    check(st == 200, "location accepted from the scanning device")
    _, b, db = srv.scan(t)
    st, _, body = srv.request("POST", "/api/v1/scans/%s/location" %
                              b["scan_id"], {"lat": 39.90, "lng": 116.40,
                                             "accuracy": 30},
                              headers={"Cookie": "sg_d=" + db})
    check(st == 200 and b'"suspicious"' in body and
          b"impossible_travel" in body, "1,000 km in minutes: suspicious")
    _, c, _ = srv.scan(t, device=db)
    check(c["verdict"] == "suspicious", "later scans stay suspicious")
    # Nearby scans do not trip it.
    u = paths[5]
    _, a, da = srv.scan(u)
    srv.request("POST", "/api/v1/scans/%s/location" % a["scan_id"],
                {"lat": 31.23, "lng": 121.47}, headers={"Cookie": "sg_d=" + da})
    _, b, db = srv.scan(u)
    st, _, body = srv.request("POST", "/api/v1/scans/%s/location" %
                              b["scan_id"], {"lat": 31.30, "lng": 121.50},
                              headers={"Cookie": "sg_d=" + db})
    check(st == 200 and b'"genuine"' in body, "10 km apart: still genuine")

    # Location: other device, forged id, second location, bad bodies.
    st, _, _ = srv.request("POST", "/api/v1/scans/%s/location" % b["scan_id"],
                           {"lat": 1, "lng": 1}, headers={"Cookie": "sg_d=" + da})
    check(st == 403, "another device cannot locate my scan")
    forged = b["scan_id"][:-1] + ("0" if b["scan_id"][-1] != "0" else "1")
    st, _, _ = srv.request("POST", "/api/v1/scans/%s/location" % forged,
                           {"lat": 1, "lng": 1}, headers={"Cookie": "sg_d=" + db})
    check(st == 404, "forged scan id: 404")
    st, _, _ = srv.request("POST", "/api/v1/scans/%s/location" % b["scan_id"],
                           {"lat": 1, "lng": 1}, headers={"Cookie": "sg_d=" + db})
    check(st == 409, "second location for one scan: 409")
    _, e, de = srv.scan(paths[6])
    loc = "/api/v1/scans/%s/location" % e["scan_id"]
    for bad in [b"", b"{", b"[]", b'{"lat": 91, "lng": 0}',
                b'{"lat": "1", "lng": 0}', b'{"lat": 1}',
                b'{"lat": 1, "lng": 1e999}', b'{"lat": 1, "lng": 2, "lat": 3}',
                b'{"lat": 1, "lng": 2, "accuracy": -5}', b"\xff\xfe"]:
        st, _, body = srv.request("POST", loc, bad,
                                  headers={"Cookie": "sg_d=" + de})
        check(st == 400 and b'"error"' in body, "bad location body %r: 400"
              % bad[:20])
    st, _, _ = srv.request("POST", loc, {"lat": 1, "lng": 2},
                           headers={"Cookie": "sg_d=" + de})
    check(st == 200, "after bad bodies the scan can still be located once")

    # A forged device cookie is ignored and replaced.
    st, hdrs, _ = srv.request("GET", paths[7], headers={
        "Cookie": "sg_d=00000000000000ff.0000000000000000",
        "Accept": "application/json"})
    check("sg_d=" in hdrs.get("Set-Cookie", "") and
          "00000000000000ff" not in hdrs.get("Set-Cookie", ""),
          "forged cookie replaced with a fresh signed one")
    check("HttpOnly" in hdrs.get("Set-Cookie", ""), "cookie is HttpOnly")

    # HTML page: escaped, language by Accept-Language, small.
    st, hdrs, html = srv.get(paths[8], headers={"Accept-Language": "en-US,en"})
    check(st == 200 and hdrs["Content-Type"].startswith("text/html"),
          "HTML landing page")
    check(b'lang="en"' in html and len(html) < 20 * 1024,
          "English page under 20 KB (%d bytes)" % len(html))
    st, hdrs, html = srv.get(paths[9], headers={"Accept-Language": "zh-CN"})
    check(b'lang="zh-CN"' in html and "正品".encode() in html,
          "Chinese page by default")
    check("default-src 'none'" in hdrs.get("Content-Security-Policy", ""),
          "CSP forbids external resources")

    # Pages one after another on one kept-alive connection. A page and
    # its head pass 16 KB, so a reply leaves in two sends; without
    # TCP_NODELAY the second waited for the phone's delayed ACK, 40 ms
    # on Linux, on every scan but the first. Five pages would then take
    # 160 ms or more; they take a few.
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    t0 = time.monotonic()
    sizes = []
    for p in paths[20:25]:
        conn.request("GET", p, headers={"User-Agent": "Mozilla/5.0 "
                     "(iPhone) MicroMessenger/8.0", "Accept-Language": "zh-CN"})
        resp = conn.getresponse()
        sizes.append(len(resp.read()))
    took = time.monotonic() - t0
    conn.close()
    check(min(sizes) > 15000 and took < 0.15,
          "five pages of %s bytes on one connection in %.0f ms (< 150)" %
          (min(sizes), took * 1000))

    # Metrics and health.
    st, _, body = srv.get("/metrics")
    check(st == 200 and b'sigil_scans_total{verdict="genuine"}' in body and
          b"sigil_commit_batch_size_bucket" in body and
          b"sigil_lmdb_map_bytes" in body, "metrics in Prometheus text")
    # Every family says what it is (HELP) and its type (TYPE).
    text = body.decode()
    typed = set(re.findall(r"^# TYPE (\w+) ", text, re.M))
    helped = set(re.findall(r"^# HELP (\w+) ", text, re.M))
    samples = {re.sub(r"_(bucket|sum|count)$", "", n)
               if re.sub(r"_(bucket|sum|count)$", "", n) in typed else n
               for n in re.findall(r"^([a-z_]+)[{ ]", text, re.M)}
    check(samples <= typed and typed <= helped,
          "every metric family has HELP and TYPE (untyped %s, no HELP %s)"
          % (sorted(samples - typed), sorted(typed - helped)))
    # A 308 (/admin to /admin/) is counted under its own status.
    srv.request("GET", "/admin")
    st, _, body = srv.get("/metrics")
    check(b'route="dashboard",status="308"} 1' in body and
          b'status="other"' not in body,
          "a 308 is counted by its number, not as other")
    st, _, body = srv.get("/healthz")
    check(st == 200 and b"ok" in body, "healthz")

    # Everything answered is in the export.
    check(srv.stop() == 0, "SIGTERM: exit 0")
    out = env.sigil("export", "scans", "--format", "ndjson").stdout
    check(len(out.strip().split("\n")) > 30, "export lists the scans")
done()
