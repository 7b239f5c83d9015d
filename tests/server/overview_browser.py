"""The overview in headless Chromium in UTC+8 (issue 19 item 1): with a
browser in Asia/Shanghai (zh-CN), then in UTC (English), the hourly and
daily overviews show the scans of the last hour, the counterfeit KPI the
fakes of the brand's key, and the map the cell where one was scanned
(tests/browser/overview.js; screenshots in build/test-artifacts/).
Each KPI card compares with the period before: 3 scans and a fake made
8 days back (a FAULT=1 sigild with its clock shifted back,
SIGIL_TEST_CLOCK_SHIFT) are the previous 7 days' of the daily view, and
the hourly view's previous 24 hours have none ("–")."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
BROWSER = os.path.join(ROOT, "tests", "browser", "overview.js")
PW = "correct horse battery staple"


def flip(path):
    last = path[-1]
    return path[:-1] + ("0" if last != "0" else "1")


FAULT_BIN = os.environ.get("FAULT_BIN")
if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()

with Env() as env:
    batch, paths = env.setup_brand("acme", count=12)
    env.sigil("user", "add", "--brand", "acme", "--email", "admin@acme.test",
              "--role", "admin", stdin=PW + "\n")
    sigiltest.BIN = FAULT_BIN
    # Eight days back: the daily view's previous 7 days (3 scans, 1 fake).
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(-8 * 86400)
    old = env.start("--api-rate-limit", "0")
    for p in paths[6:9]:
        check(old.scan(p)[1]["verdict"] == "genuine", "a scan 8 days back")
    check(old.scan(flip(paths[9]))[1]["verdict"] == "counterfeit",
          "a fake 8 days back")
    old.stop()
    del os.environ["SIGIL_TEST_CLOCK_SHIFT"]
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
                                    SIGIL_TEST_PREV="3,1", **extra))
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
          al["alerts"][0]["count"] == 3 and
          al["alerts"][0].get("location", {}).get("lat", 0) > 34,
          "acme's counterfeit alert: 3 fakes (one 8 days back), at the place "
          "shared from the page: %s" % al)
done()
