"""The geography page (issue 19 item 6) in headless Chromium against the
real sigild, in zh-CN Asia/Shanghai and once in English
(tests/browser/geo.js): the map of China with its province outlines,
provinces shaded by the scans shared from them (a legend), genuine,
suspicious and counterfeit scans as points (a counterfeit scanned in
Guangzhou, located from the counterfeit page), a distributor's
territory drawn, the world view (a scan in Paris shades France), the
provinces table, the page using the full width at 1440 px and at 1024 px,
and no console error (so no CSP violation: ECharts runs without eval
and inline styles). Screenshots in build/test-artifacts/."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402

PW = "correct horse battery staple"

PLACES = [("上海 Shanghai", 31.23, 121.47, 3), ("西安 Xi'an", 34.26, 108.94, 2),
          ("成都 Chengdu", 30.66, 104.07, 1), ("Paris", 48.85, 2.35, 1)]


def flip(path):
    return path[:-1] + ("0" if path[-1] != "0" else "1")


with Env() as env:
    _, paths = env.setup_brand("acme", count=20)
    env.sigil("user", "add", "--brand", "acme", "--email", "ann@acme.test",
              "--role", "admin", stdin=PW + "\n")
    srv = env.start("--api-rate-limit", "0")
    A = env.token("acme", "admin")

    def located(path, lat, lng):
        st, doc, dev = srv.scan(path)
        st2, _, body = srv.request(
            "POST", "/api/v1/scans/%s/location" % doc["scan_id"],
            {"lat": lat, "lng": lng, "accuracy": 30},
            headers={"Cookie": "sg_d=" + dev})
        if st2 != 200:
            raise RuntimeError("location %d %s" % (st2, body))
        return doc

    i = 0
    for _, lat, lng, n in PLACES:
        for _ in range(n):
            located(paths[i], lat, lng)
            i += 1
    fake = located(flip(paths[i]), 23.13, 113.26)       # Guangzhou
    check(fake["verdict"] == "counterfeit", "a fake scanned in Guangzhou")
    st, _ = srv.api("POST", "distributors", A, {
        "name": "杭州经销商", "gln": "9520123456788",
        "territory": {"type": "Polygon", "coordinates": [[
            [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
            [118.0, 27.0]]]}})
    check(st == 201, "a distributor with a territory")
    st, reg = srv.api("GET", "stats/regions", A)
    check(st == 200 and len(reg["regions"]) == 5, "five cells: %s" % reg)

    base = "http://127.0.0.1:%d" % srv.port
    for locale, tz in (("zh-CN", "Asia/Shanghai"), ("en-US", "Asia/Shanghai")):
        browser("geo.js", [base, "ann@acme.test", ART, locale, tz],
                PW, checks=12, shots=4, label=locale + ": ")
    srv.stop()
done()
