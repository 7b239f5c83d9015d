"""The overview in headless Chromium in UTC+8 (issue 19 item 1): with a
browser in Asia/Shanghai (zh-CN), then in UTC (English), the hourly and
daily overviews show the scans of the last hour, the counterfeit KPI the
fakes of the brand's key, and the map the cell where one was scanned
(tests/browser/overview.js; screenshots in build/test-artifacts/)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
BROWSER = os.path.join(ROOT, "tests", "browser", "overview.js")
PW = "correct horse battery staple"


def flip(path):
    last = path[-1]
    return path[:-1] + ("0" if last != "0" else "1")


with Env() as env:
    batch, paths = env.setup_brand("acme", count=10)
    env.sigil("user", "add", "--brand", "acme", "--email", "admin@acme.test",
              "--role", "admin", stdin=PW + "\n")
    srv = env.start("--api-rate-limit", "0")
    for p in paths[:4]:
        srv.scan(p)
    # One fake scanned here, with no place; the first browser run makes
    # the second as a consumer would, sharing the place from the page.
    st, doc, dev = srv.scan(flip(paths[4]))
    check(doc["verdict"] == "counterfeit", "a fake of acme's key")
    base = "http://127.0.0.1:%d" % srv.port
    for i, (tz, locale) in enumerate((("Asia/Shanghai", "zh-CN"),
                                      ("UTC", "en-US"),
                                      ("America/New_York", "en-US"))):
        extra = {"SIGIL_TEST_FAKE_PATH": flip(paths[5])} if i == 0 else {}
        r = subprocess.run(["node", BROWSER, base, "admin@acme.test", ART,
                            tz, locale, "4", "2"], capture_output=True,
                           text=True, timeout=300,
                           env=dict(os.environ, SIGIL_TEST_PASSWORD=PW,
                                    **extra))
        print(r.stdout)
        print(r.stderr[-3000:])
        try:
            facts = json.loads(r.stdout.strip().split("\n")[-1])
        except ValueError:
            facts = {"failures": -1}
        check(r.returncode == 0 and facts.get("failures") == 0,
              "%s %s: every step passed" % (tz, locale))
        check(not facts.get("console_errors"), "%s: no console errors (%s)" %
              (tz, facts.get("console_errors")))
        check(len(facts.get("shots", [])) == (6 if i == 0 else 5) and all(
            os.path.getsize(f) > 5000 for f in facts.get("shots", [])),
            "%s: screenshots kept" % tz)
    st, al = srv.api("GET", "alerts?type=counterfeit",
                     env.token("acme", "analyst"))
    check(st == 200 and len(al["alerts"]) == 1 and
          al["alerts"][0]["count"] == 2 and
          al["alerts"][0].get("location", {}).get("lat", 0) > 34,
          "acme's counterfeit alert: 2 fakes, at the place shared from the "
          "page: %s" % al)
done()
