"""The privacy notice, the consent choices and the member page's profile in
headless Chromium at 390x844 in zh-CN (issue 20's Playwright line):
tests/browser/privacy.js scans, reads the notice above the phone field,
is stopped until it agrees, ticks marketing and profile, logs in, edits
its profile and withdraws marketing on the member page, then looks at
the dashboard's privacy page and customer card. This driver publishes
the notice and the profile fields, then checks on the server what the
pages recorded: the consents with version, channel and language, the
profile as typed. Screenshots: build/test-artifacts/privacy-*.png."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402

PW = "correct horse battery staple"
ZH = ("我们收集您的手机号，用于登录和发放扫码积分；经您同意后，保存您填写的"
      "个人资料，用于会员服务。您可以随时在会员页撤回同意，撤回个人资料同意后，"
      "资料即被删除。")

with Env() as env:
    _, paths = env.setup_brand("acme", count=5)
    env.sigil("user", "add", "--brand", "acme", "--email", "ann@acme.test",
              "--role", "admin", stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start("--api-rate-limit", "0")
    base = "http://127.0.0.1:%d" % srv.port
    st, d = srv.api("POST", "campaigns", A, {
        "name": "c", "skus": ["W1"], "starts": "2020-01-01",
        "ends": "2099-12-31", "points": 10})
    check(st == 201, "a campaign, so that the reward card shows")
    for texts in ({"zh-CN": "旧版", "en": "old"}, {"zh-CN": ZH, "en":
                  "We collect your phone number to log you in."}):
        st, d = srv.api("POST", "privacy/notices", A, {"texts": texts})
        check(st == 201, "notice version %s" % d.get("notice", {}).get(
            "version"))
    st, d = srv.api("PUT", "privacy/settings", A, {"profile_fields": [
        "name", "gender", "birthday", "city", "tags"]})
    check(st == 200, "the brand collects five profile fields")

    facts = browser("privacy.js", [base, paths[0], os.path.join(
        env.data, "otp-outbox.log"), ART, "ann@acme.test", ZH], PW,
        checks=24, shots=7)
    cid = facts.get("customer")
    check(isinstance(cid, int), "the browser's login made customer %r" % cid)
    st, d = srv.api("GET", "customers/%s/consents" % cid, A)
    h = [(e["purpose"], e["action"], e["notice_version"], e["channel"],
          e["lang"]) for e in d.get("history", [])]
    check(h == [("service", "grant", 2, "page", "zh-CN"),
                ("marketing", "grant", 2, "page", "zh-CN"),
                ("profile", "grant", 2, "page", "zh-CN"),
                ("marketing", "withdraw", 2, "member", "zh-CN")],
          "the server holds what the pages agreed to and withdrew: %r" % h)
    check(d.get("current") == {"service": True, "marketing": False,
                               "profile": True}, "marketing is off now")
    st, d = srv.api("GET", "customers/%s/profile" % cid, A)
    check(d.get("profile") == {"name": "王五", "gender": "female",
                               "birthday": "1990-05-20", "city": "杭州",
                               "tags": ["茶", "VIP"]},
          "the profile as typed on the member page: %r" % d.get("profile"))
    mid = facts.get("member_customer")
    st, d = srv.api("GET", "customers/%s/consents" % mid, A)
    h = [(e["purpose"], e["action"], e["notice_version"], e["channel"])
         for e in d.get("history", [])]
    check(h == [("service", "grant", 2, "member"),
                ("marketing", "grant", 2, "member")],
          "the member page's login recorded service and marketing, "
          "channel member: %r" % h)
    st, d = srv.api("GET", "customers?marketing=granted", A)
    check([c["id"] for c in d.get("customers", [])] == [mid],
          "the marketing audience: the member-page customer only (the "
          "first withdrew)")
done()
