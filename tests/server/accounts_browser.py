"""The dashboard's Users page in headless Chromium (review F23):
tests/browser/users.js against the real sigild. Screenshots are kept in
build/test-artifacts/."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
USERS = os.path.join(ROOT, "tests", "browser", "users.js")
PW = "correct horse battery staple"
NEW = "a brand new passphrase"

with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    for email, role in [("ann@acme.test", "admin"),
                        ("otto@acme.test", "operator"),
                        ("olga@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    env.token("acme", "analyst")
    env.token("acme", "operator")
    srv = env.start("--trusted-proxy", "127.0.0.1/32")
    base = "http://127.0.0.1:%d" % srv.port
    e = dict(os.environ, SIGIL_TEST_PASSWORD=PW, SIGIL_TEST_NEW_PASSWORD=NEW)
    r = subprocess.run(["node", USERS, base, "ann@acme.test",
                        "otto@acme.test", "olga@acme.test", ART],
                       capture_output=True, text=True, timeout=240, env=e)
    lines = r.stdout.strip().split("\n")
    checks = [x for x in lines[:-1] if x.startswith(("ok", "FAIL"))]
    if r.returncode != 0:
        print(r.stdout[-3000:], r.stderr[-2000:])
    check(len(checks) >= 8, "the browser ran all checks (%d)" % len(checks))
    for line in checks:
        check(line.startswith("ok"), "browser: " + line[5:])
    check(r.returncode == 0, "users.js exit status 0 (%d)" % r.returncode)
    # What the page did, seen by the server
    st, hdrs, raw = srv.request("POST", "/admin/login", body={
        "email": "olga@acme.test", "password": PW},
        headers={"Content-Type": "application/json",
                 "X-Forwarded-For": "10.77.0.1"})
    check(st == 401, "olga, disabled in the page, cannot log in (%d)" % st)
    srv.stop()
done()
