"""The region of scans on the dashboard (issue 20 item 6, the "Region"
must-show line) in headless Chromium against the real sigild with a
.mmdb this test writes (tests/lib/mkmmdb.pl), in zh-CN Asia/Shanghai and
once in English (tests/browser/region.js): scans from addresses in the
test database (sent as X-Forwarded-For from 127.0.0.1, a trusted proxy;
documentation ranges, never contacted) shade their provinces on the
geography page's China map, a located scan counts by its place, the note
says the address is a low-confidence guess, the provinces table, the
world view, the alerts page naming the provinces of a clone's scans, and
the code lookup naming each scan's region.
Screenshots in build/test-artifacts/."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402

PW = "correct horse battery staple"
MKMMDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "lib", "mkmmdb.pl")


def rec(cc, czh, sub, sen, szh, city, cityzh):
    return {"country": {"iso_code": cc, "names": {"en": cc, "zh-CN": czh}},
            "subdivisions": [{"iso_code": sub,
                              "names": {"en": sen, "zh-CN": szh}}],
            "city": {"names": {"en": city, "zh-CN": cityzh}}}


NETS = [["203.0.113.0/24", rec("CN", "中国", "GD", "Guangdong", "广东",
                               "Shenzhen", "深圳")],
        ["198.51.100.0/24", rec("CN", "中国", "ZJ", "Zhejiang", "浙江",
                                "Hangzhou", "杭州")],
        ["2001:db8:1::/48", rec("US", "美国", "CA", "California", "加利福尼亚州",
                                "San Jose", "圣何塞")]]

with Env() as env:
    mm = os.path.join(env.dir, "test.mmdb")
    subprocess.run(["perl", MKMMDB, mm], check=True, input=json.dumps(
        {"type": "GeoLite2-City", "networks": NETS}).encode())
    _, paths = env.setup_brand("acme", count=20, max_scanners=1)
    env.sigil("user", "add", "--brand", "acme", "--email", "ann@acme.test",
              "--role", "admin", stdin=PW + "\n")
    srv = env.start("--api-rate-limit", "0", "--geoip", mm,
                    "--trusted-proxy", "127.0.0.1/32")
    A = env.token("acme", "admin")

    def scan(path, ip):
        st, doc, dev = srv.scan(path, headers={"X-Forwarded-For": ip})
        if st != 200:
            raise RuntimeError("scan %d" % st)
        return doc, dev

    # A clone: three scanners from three networks (Guangdong, Zhejiang,
    # the United States) over max_scanners 1; then Guangdong 3 more,
    # Zhejiang 1 more, and one scan from Guangdong's network whose
    # consumer shares a place in Chengdu.
    scan(paths[0], "203.0.113.10")
    scan(paths[0], "198.51.100.10")
    scan(paths[0], "2001:db8:1::5")         # the third network: the alert
    for i in range(3):
        scan(paths[1 + i], "203.0.113.%d" % (20 + i))
    scan(paths[4], "198.51.100.20")
    doc, dev = scan(paths[6], "203.0.113.30")
    st, _, body = srv.request(
        "POST", "/api/v1/scans/%s/location" % doc["scan_id"],
        {"lat": 30.66, "lng": 104.07, "accuracy": 30},
        headers={"Cookie": "sg_d=" + dev})
    check(st == 200, "a shared place in Chengdu (%d)" % st)
    st, prov = srv.api("GET", "stats/provinces", A)
    got = {r["region"]["province"]["zh-CN"]: r["scans"]
           for r in prov["provinces"]}
    check(got == {"广东省": 4, "浙江省": 2, "加利福尼亚州": 1},
          "the stats the map reads: %r" % got)
    st, al = srv.api("GET", "alerts", A)
    check(st == 200 and len(al["alerts"]) == 1, "one clone alert")

    base = "http://127.0.0.1:%d" % srv.port
    for locale, tz in (("zh-CN", "Asia/Shanghai"), ("en-US", "Asia/Shanghai")):
        browser("region.js", [base, "ann@acme.test", ART, locale, tz],
                PW, checks=9, shots=4, label=locale + ": ")
    srv.stop()
done()
