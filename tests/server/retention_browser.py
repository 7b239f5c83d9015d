"""The dashboard's data retention page (issue 20 item 7) in headless
Chromium, zh-CN and once in English: tests/browser/retention.js against
the real sigild, with 40 scans of acme made 10 days ago (the fault
build's clock moved back, FAULT_BIN) and 5 made now. The admin saves 7
days (after a refused 3651), runs the job from the page and sees it
finish with the 40 scans reduced; an analyst sees the setting, no form.
Screenshots are kept in build/test-artifacts/. Afterwards the server
says the same: 7 days, and the old scans' addresses cut."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa

PW = "correct horse battery staple"
FAULT_BIN = os.environ.get("FAULT_BIN")
OLD = 40

if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()

with Env() as env:
    _, paths = env.setup_brand(count=10)
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    proxy = ("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit", "0")
    normal = sigiltest.BIN
    sigiltest.BIN = FAULT_BIN
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(-10 * 86400)
    srv = env.start(*proxy)
    for i in range(OLD):
        st, _, _ = srv.scan(paths[i % 10], None,
                            {"X-Forwarded-For": "198.51.100.%d" % (i + 1)})
        check(st == 200 or i, "old scans (%d)" % st)
    srv.stop()
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
    sigiltest.BIN = normal
    srv = env.start(*proxy)
    for i in range(5):
        srv.scan(paths[i], None, {"X-Forwarded-For": "203.0.113.%d" % i})

    base = "http://127.0.0.1:%d" % srv.port
    browser("retention.js", [base, "ann@acme.test", "ana@acme.test", ART,
                             str(OLD)], PW, checks=14, shots=5)

    OP = env.token("acme", "operator")
    st, doc = srv.api("GET", "privacy/retention", OP)
    check(st == 200 and doc["days"] == 7 and doc["last_run"]["reduced"] ==
          OLD, "the server: 7 days, %d scans reduced (%r)" % (OLD, doc))
    st, raw = srv.api("GET", "exports/scans?format=ndjson", OP)
    ips = [line for line in raw.decode().splitlines() if line]
    old = [x for x in ips if "198.51.100." in x]
    check(len(old) == OLD and all('"ip":"198.51.100.0"' in x for x in old),
          "every old scan's address is cut to its /24")
    check(sum('"ip":"203.0.113.' in x for x in ips) == 5,
          "the scans made now keep theirs")
    srv.stop()
done()
