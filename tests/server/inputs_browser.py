"""Bidi controls in stored text cannot reorder the member page or the
dashboard (review F21): tests/browser/bidi.js in headless Chromium against
the real sigild's pages, with the JSON answered as old data could hold it.
Screenshots are kept in build/test-artifacts/."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
BIDI = os.path.join(ROOT, "tests", "browser", "bidi.js")

with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    srv = env.start()
    base = "http://127.0.0.1:%d" % srv.port
    r = subprocess.run(["node", BIDI, base, ART], capture_output=True,
                       text=True, timeout=180)
    lines = r.stdout.strip().split("\n")
    for line in lines[:-1]:
        print("    browser: " + line)
    try:
        res = json.loads(lines[-1])
    except (ValueError, IndexError):
        res = None
        print(r.stdout[-2000:], r.stderr[-2000:])
    checks = [x for x in lines[:-1] if x.startswith(("ok", "FAIL"))]
    check(res is not None and len(checks) >= 8,
          "the browser ran all checks (%d)" % len(checks))
    for line in checks:
        check(line.startswith("ok"), "browser: " + line[5:])
    check(r.returncode == 0, "bidi.js exit status 0 (%d)" % r.returncode)
    srv.stop()
done()
