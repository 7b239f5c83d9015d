"""The dashboard's Users page in headless Chromium (review F23):
tests/browser/users.js against the real sigild. Screenshots are kept in
build/test-artifacts/."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402

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
    browser("users.js", [base, "ann@acme.test", "otto@acme.test",
                          "olga@acme.test", ART], PW, checks=8, shots=4,
            timeout=240, env={"SIGIL_TEST_NEW_PASSWORD": NEW})
    # What the page did, seen by the server
    st, hdrs, raw = srv.request("POST", "/admin/login", body={
        "email": "olga@acme.test", "password": PW},
        headers={"Content-Type": "application/json",
                 "X-Forwarded-For": "10.77.0.1"})
    check(st == 401, "olga, disabled in the page, cannot log in (%d)" % st)
    srv.stop()
done()
