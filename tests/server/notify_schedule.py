"""Alert digests on their schedule (issue 21, part 6), against the real
sigild of the fault build (FAULT_BIN) with its clock moved to 25 seconds
before a full hour (SIGIL_TEST_CLOCK_SHIFT): an hourly digest and a daily
digest due at that hour (in UTC+0) each send one e-mail listing the two
clone alerts raised before it, without being asked; a daily digest due
two hours later sends nothing; nothing goes out before the hour."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402
from smtp_standin import SMTPStandin  # noqa: E402

FAULT_BIN = os.environ.get("FAULT_BIN")
if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()

with Env() as env:
    _, codes = env.setup_brand(sku="TEA", count=6, max_scanners=2)
    A = env.token("acme", "admin")
    smtp = SMTPStandin()        # plain: no TLS offered, no AUTH
    sigiltest.BIN = FAULT_BIN
    now = time.time()
    shift = int(3600 - now % 3600) - 25
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(shift)
    srv = env.start("--api-rate-limit", "0", "--smtp",
                    "smtp://127.0.0.1:%d" % smtp.port, "--smtp-from",
                    "alerts@acme.example")
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
    hour = time.gmtime(now + shift + 60).tm_hour    # the coming hour, UTC

    def rule(name, rcpt, **kw):
        body = {"name": name, "types": ["clone"], "emails": [rcpt]}
        body.update(kw)
        st, r = srv.api("POST", "notify/rules", A, body)
        check(st == 201, "rule %s" % name)
        return r

    rh = rule("hourly", "h@acme.example", mode="hourly")
    rd = rule("daily", "d@acme.example", mode="daily",
              at="%02d:00" % hour, tz_offset=0)
    rule("later", "never@acme.example", mode="daily",
         at="%02d:00" % ((hour + 2) % 24), tz_offset=0)
    net = 0
    for code in codes[:2]:
        for _ in range(3):
            net += 1
            srv.scan(code, source="127.0.%d.1" % net)
    st, al = srv.api("GET", "alerts?type=too_many_scanners", A)
    check(st == 200 and len(al["alerts"]) == 2, "two clone alerts")
    time.sleep(2)
    left = 3600 - (time.time() + shift) % 3600
    check(left > 3 and smtp.received() == [],
          "before the hour (%ds left): nothing sent" % left)
    end = time.time() + left + 20
    while time.time() < end and not (smtp.received("h@acme.example") and
                                     smtp.received("d@acme.example")):
        time.sleep(0.2)
    for who, what in (("h@acme.example", "hourly"),
                      ("d@acme.example", "daily")):
        m = smtp.received(who)
        check(len(m) == 1 and all("#%d" % a["id"] in m[0].text
                                  for a in al["alerts"]) and
              "2" in m[0].subject and "摘要" in m[0].subject,
              "the %s digest at the hour lists both alerts" % what)
    check(smtp.received("never@acme.example") == [],
          "a digest due later sends nothing yet")
    check(all(not m.tls for m in smtp.received()),
          "a server offering no STARTTLS and no AUTH: plain, as configured")
    st, doc = srv.api("GET", "notify/rules/%d" % rh["id"], A)
    check(st == 200 and doc["sent"] == 1 and
          doc["deliveries"]["sent"] == 1, "the hourly rule: one message sent")
    st, doc = srv.api("GET", "notify/rules/%d" % rd["id"], A)
    check(st == 200 and doc["last_sent"][11:16] == "%02d:00" % hour,
          "the daily rule's last delivery at %02d:00" % hour)
    time.sleep(3)
    check(len(smtp.received("h@acme.example")) == 1,
          "no second digest without new alerts")
    smtp.stop()
    srv.stop()
done()
