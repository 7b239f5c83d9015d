"""The dashboard's lifecycle messages (issue 21 part 3) in headless
Chromium, zh-CN and once in English: tests/browser/messages.js against
the real sigild and a local SMS gateway. Six customers log in by phone,
four of them with marketing consent. The operator composes a message
with the placeholder buttons, is refused empty quiet hours in Chinese,
dry-runs it (6 in the audience, 4 consenting, the rendered preview,
nothing sent), saves it and sees the four deliveries sent; an analyst
sees the list, no composer. The template for replies is saved. Screenshots are kept in
build/test-artifacts/. Afterwards the gateway holds exactly the four."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa
from msgfix import Gateway, secret_file  # noqa: E402

PW = "correct horse battery staple"


with Env() as env:
    _, paths = env.setup_brand(count=10)
    for email, role in [("olly@acme.test", "operator"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    gw = Gateway()
    secret = secret_file(env)
    srv = env.start("--sms-webhook", "http://127.0.0.1:%d/sms" % gw.port,
                    "--sms-secret-file", secret, "--webhook-allow",
                    "127.0.0.0/8", "--trusted-proxy", "127.0.0.1/32",
                    "--api-rate-limit", "0")
    st, _ = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": "说明", "en": "Notice"}})
    check(st == 201, "a privacy notice")
    for i in range(6):
        phone = "1390000%04d" % i
        ip = "10.0.0.%d" % (i + 1)
        _, _, dev = srv.scan(paths[i], headers={"X-Forwarded-For": ip})
        h = {"Accept": "application/json", "Cookie": "sg_d=" + dev,
             "X-Forwarded-For": ip}
        srv.request("POST", "/api/v1/customers/otp", body={
            "phone": phone, "code": paths[i], "notice_version": 1},
            headers=h)
        body = {"phone": phone, "code": paths[i], "otp": gw.code(phone),
                "notice_version": 1}
        if i < 4:
            body["grant"] = ["marketing"]
        st, _, _ = srv.request("POST", "/api/v1/customers/verify",
                               body=body, headers=h)
        check(st == 200, "customer %d logged in" % i)

    base = "http://127.0.0.1:%d" % srv.port
    browser("messages.js", [base, "olly@acme.test", "ana@acme.test", ART,
                            "6", "4"], PW, checks=15, shots=7)
    with gw.lock:
        got = [d for d in gw.got if "春节" in d["text"]]
    check(sorted(d["phone"] for d in got) ==
          ["+86139000%05d" % i for i in range(4)],
          "the gateway got exactly the four consenting customers")
    srv.stop()
done()
