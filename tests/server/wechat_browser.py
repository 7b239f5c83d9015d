"""The dashboard's WeChat page and the customer page's WeChat card
(issue 20) in headless Chromium, zh-CN: tests/browser/wechat.js against
the real sigild and the WeChat stand-in on loopback. The mini-program is
configured over the API and a customer made by its login; the page adds
the official account. No AppSecret reaches a page; screenshots are kept
in build/test-artifacts/."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa
from wechat_standin import StandIn  # noqa: E402

PW = "correct horse battery staple"
OA, OA_SECRET = "wx1a2b3c4d5e6f7081", "0123456789abcdef0123456789abcdef"
MP, MP_SECRET = "wx99aa88bb77cc6655", "fedcba9876543210fedcba9876543210"

with Env() as env:
    env.setup_brand(count=5)
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    wx = StandIn()
    wx.add_app(OA, OA_SECRET, "oa", open_platform="acme-open")
    wx.add_app(MP, MP_SECRET, "mp", open_platform="acme-open")
    wx.start()
    srv = env.start("--wechat-api", wx.base, "--wechat-open", wx.base,
                    "--webhook-allow", "127.0.0.1", "--trusted-proxy",
                    "127.0.0.1/32", "--api-rate-limit", "0")
    A = env.token("acme", "admin")
    st, _ = srv.api("PUT", "wechat", A, {"mp": {"appid": MP,
                                                "secret": MP_SECRET}})
    check(st == 200, "the mini-program configured over the API")
    st, _, raw = srv.request("POST", "/api/v1/wechat/session", body={
        "appid": MP, "code": wx.login_code(MP, "lily")},
        headers={"Accept": "application/json"})
    import json
    cid = json.loads(raw)["customer"]["id"] if st == 200 else 0
    check(st == 200 and cid > 0, "a customer made by the mini-program")

    base = "http://127.0.0.1:%d" % srv.port
    browser("wechat.js", [base, "ann@acme.test", "ana@acme.test", str(cid),
                          ART], PW, checks=14, shots=5,
            env={"SIGIL_TEST_SECRETS": MP_SECRET + "," + OA_SECRET})
    st, doc = srv.api("GET", "wechat", A)
    check(doc["oa"]["appid"] == OA and doc["mp"]["appid"] == MP,
          "what the page saved is what the API says")
    check(OA_SECRET not in srv.logtext() and MP_SECRET not in srv.logtext(),
          "no AppSecret in the log")
    srv.stop()
    wx.stop()
done()
