"""The distributors page (issue 19 item 5) in headless Chromium against
the real sigild (tests/browser/distributors.js), in zh-CN Asia/Shanghai
and once in English: the list with GLN; a distributor's territory drawn
on the map; an admin creates one by clicking provinces on the map (and
the corners of a polygon), with a wrong GLN and a degenerate polygon
refused first, their messages in the page's language; then edits it
(the form starts from its territory; a wrong GLN refused; a new name,
and in zh-CN Fujian added); an analyst gets no create or edit button. Then, through the API: the territories the page made are
MultiPolygons well under the API's 1 MiB, holding the provinces' cities
and not others. Screenshots in build/test-artifacts/."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
SCRIPT = os.path.join(ROOT, "tests", "browser", "distributors.js")
PW = "correct horse battery staple"
XSS = '<img src=x onerror="window.__xss=1">'


def in_ring(ring, x, y):
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def holds(territory, lng, lat):
    polys = territory["coordinates"] if territory["type"] == "MultiPolygon" \
        else [territory["coordinates"]]
    return any(in_ring(p[0], lng, lat) and
               not any(in_ring(h, lng, lat) for h in p[1:]) for p in polys)


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    for email, role in (("ann@acme.test", "admin"), ("ana@acme.test",
                                                      "analyst")):
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    srv = env.start("--api-rate-limit", "0")
    A = env.token("acme", "admin")
    st, first = srv.api("POST", "distributors", A, {
        "name": "宁波港贸易", "gln": "9520123456788",
        "territory": {"type": "Polygon", "coordinates": [[
            [121.0, 29.5], [122.2, 29.5], [122.2, 30.3], [121.0, 30.3],
            [121.0, 29.5]]]}})
    check(st == 201, "a distributor made through the API")
    st, _ = srv.api("POST", "distributors", A, {
        "name": XSS, "territory": {"type": "Polygon", "coordinates": [[
            [110.0, 25.0], [111.0, 25.0], [111.0, 26.0], [110.0, 25.0]]]}})
    check(st == 201, "a distributor named like markup")
    for i in range(53):     # more than one page of the list (50)
        st, _ = srv.api("POST", "distributors", A, {
            "name": "经销商 %02d" % i, "territory": {
                "type": "Polygon", "coordinates": [[
                    [100 + i * 0.1, 30], [100.05 + i * 0.1, 30],
                    [100.05 + i * 0.1, 30.05], [100 + i * 0.1, 30]]]}})
        if st != 201:
            raise RuntimeError("filler %d" % st)

    base = "http://127.0.0.1:%d" % srv.port
    made, edited = {}, {}
    for locale, name in (("zh-CN", "华东经销商"), ("en-US", "South Trading")):
        r = subprocess.run(["node", SCRIPT, base, "ann@acme.test",
                            "ana@acme.test", ART, locale, name],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, SIGIL_TEST_PASSWORD=PW))
        print(r.stdout[-6000:], r.stderr[-3000:])
        lines = r.stdout.strip().split("\n")
        try:
            facts = json.loads(lines[-1])
        except ValueError:
            facts = {"failures": -1}
        checks = [x for x in lines[:-1] if x.startswith(("ok", "FAIL"))]
        check(len(checks) >= 12, "%s: the browser ran all checks (%d)" %
              (locale, len(checks)))
        check(r.returncode == 0 and facts.get("failures") == 0,
              "%s: every step passed" % locale)
        check(not facts.get("console_errors"), "%s: no console errors: %s"
              % (locale, facts.get("console_errors")))
        check(len(facts.get("shots", [])) >= 6 and all(
            os.path.getsize(f) > 5000 for f in facts.get("shots", [])),
            "%s: screenshots kept" % locale)
        made[locale] = facts.get("created")
        edited[locale] = facts.get("edited")

    st, doc = srv.api("GET", "distributors", A)
    names = [d["name"] for d in doc["distributors"]]
    check(len(names) == 58 and names[:2] == ["宁波港贸易", XSS] and
          names[-3:] == ["华东经销商（新）", "全国", "South Trading Ltd"] and
          edited == {"zh-CN": "华东经销商（新）",
                     "en-US": "South Trading Ltd"},
          "the page made three, none from the refused tries: %s" %
          names[-4:])
    st, d = srv.api("GET", "distributors/%s" % made.get("zh-CN"), A)
    t = d.get("territory") or {"type": "", "coordinates": []}
    size = len(json.dumps(t))
    check(st == 200 and t["type"] == "MultiPolygon" and
          d.get("gln") == "9520123456788",
          "zh: a MultiPolygon territory, the GLN kept")
    check(size < 512 * 1024, "zh: the territory is %d bytes, well under "
          "the API's 1 MiB" % size)
    check(holds(t, 120.15, 30.28) and holds(t, 118.80, 32.06),
          "zh: Hangzhou (Zhejiang) and Nanjing (Jiangsu) are inside")
    check(not holds(t, 116.40, 39.90) and not holds(t, 113.26, 23.13),
          "zh: Beijing and Guangzhou are not")
    check(len(t["coordinates"]) >= 4,
          "zh: the provinces' polygons, the one drawn by corners, and "
          "Fujian's")
    check(holds(t, 118.6, 26.8) and holds(t, 117.2, 31.8),
          "zh, edited: Fujian added, the triangle in Anhui kept")
    st, d = srv.api("GET", "distributors/%s" % made.get("en-US"), A)
    t = d.get("territory") or {"type": "", "coordinates": []}
    check(st == 200 and holds(t, 113.26, 23.13) and
          not holds(t, 120.15, 30.28) and "gln" not in d,
          "en: Guangdong picked: Guangzhou inside, Hangzhou not; the edit "
          "(name only) kept it, the GLN left empty")
    srv.stop()
done()
