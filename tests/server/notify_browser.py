"""The dashboard's alert notification page (issue 21 part 6) in headless
Chromium, zh-CN and once in English: tests/browser/notify.js against the
real sigild, with a local SMTP receiver (STARTTLS, AUTH) and the WeCom
and DingTalk robot stand-ins. The admin is refused a bad address, makes
a daily digest rule for three channels, sends a test that all three
receive; an analyst sees a note. Screenshots in build/test-artifacts/.
Afterwards the receivers say the same."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa
from smtp_standin import SMTPStandin, make_cert  # noqa: E402
from robot_standin import RobotStandin  # noqa: E402

PW = "correct horse battery staple"
SECRET = "SEC" + "fedcba9876543210" * 4


with Env() as env:
    env.setup_brand(count=4)
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    ca, crt, key = make_cert(env.dir)
    smtp = SMTPStandin(cert=crt, key=key, users={"alerts": "pw pw"},
                       require_auth=True)
    robots = RobotStandin(wecom_keys=["KB"], dingtalk={"TB": SECRET})
    pw = os.path.join(env.dir, "smtp-pw")
    with open(pw, "w") as f:
        f.write("pw pw\n")
    os.chmod(pw, 0o600)
    srv = env.start("--api-rate-limit", "0", "--webhook-allow", "127.0.0.1",
                    "--smtp", "smtp://127.0.0.1:%d" % smtp.port,
                    "--smtp-from", "alerts@acme.example", "--smtp-user",
                    "alerts", "--smtp-password-file", pw, "--smtp-ca", ca)
    R = "http://127.0.0.1:%d" % robots.port
    base = "http://127.0.0.1:%d" % srv.port
    browser("notify.js", [base, "ann@acme.test", "ana@acme.test", ART,
                          R + "/cgi-bin/webhook/send?key=KB",
                          R + "/robot/send?access_token=TB", SECRET], PW,
            checks=14, shots=7)
    got = smtp.received("boss@acme.example")
    check(len(got) == 1 and got[0].tls and "测试通知" in got[0].subject,
          "the receiver got the page's test e-mail over TLS")
    check(len(robots.wecom) == 1 and len(robots.ding) == 1 and
          not robots.refused, "both robots got it, the signature verified")
    smtp.stop()
    robots.stop()
    srv.stop()
done()
