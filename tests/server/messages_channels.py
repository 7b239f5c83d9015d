"""The message channels beyond SMS (issue 21, part 3) against the real
sigild: WeChat template messages (official account) and subscribe
messages (mini program) through the WeChat stand-in (tests/lib/
wechat_standin.py, written from WeChat's published server API), "auto",
and the generic signed webhook.

The brand configures both WeChat apps. dave logs in through the official
account's OAuth (a scan inside WeChat) and follows it; erin and frank
through the mini program; gus by phone only. All grant marketing
consent. A subscribe message reaches erin, who accepted the template
once; frank never did, so WeChat answers 43101 and the row fails for
good (not retried), as does one whose text is longer than the 20
characters a thing.DATA value may hold (47003). Tokens come from
/cgi-bin/token with the app's secret, once per app, and are reused; an
expired one (42001) is renewed and the send retried with back-off until
it goes. A template message reaches dave (a follower) with the text in
the template's key. "auto" sends dave a template message, erin a
subscribe message, gus an SMS. The webhook channel posts one signed
event per customer to the brand's subscription, named by customer id,
never by phone. With the brand's service template set (messages/
settings), a reply to dave's feedback reaches him as a template
message, a reply to gus's by SMS.
"""
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
from wechat_standin import StandIn  # noqa: E402
from msgfix import Receiver, secret_file, signed, wait  # noqa: E402

OA, OA_SECRET = "wx1a2b3c4d5e6f7081", "0123456789abcdef0123456789abcdef"
MP, MP_SECRET = "wx99aa88bb77cc6655", "fedcba9876543210fedcba9876543210"
WX_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
         "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
         "MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")


with Env() as env:
    _, paths = env.setup_brand("acme", count=30)
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    R = env.token("acme", "analyst")
    wx = StandIn()
    wx.add_app(OA, OA_SECRET, "oa", open_platform="acme-open")
    wx.add_app(MP, MP_SECRET, "mp", open_platform="acme-open")
    wx.add_template(OA, "TPL_OA_1", ["keyword1"])
    wx.add_template(MP, "TPL_MP_1", ["thing1"])
    wx.add_template(OA, "TPL_OA_SVC", ["keyword1"])
    wx.start()
    sms = Receiver()
    hook = Receiver()
    secret = secret_file(env)
    srv = env.start("--wechat-api", wx.base, "--wechat-open", wx.base,
                    "--webhook-allow", "127.0.0.0/8", "--sms-webhook",
                    "http://127.0.0.1:%d/sms" % sms.port,
                    "--sms-secret-file", secret, "--api-rate-limit", "0",
                    "--trusted-proxy", "127.0.0.1/32")
    st, d = srv.api("PUT", "wechat", A, {
        "oa": {"appid": OA, "secret": OA_SECRET},
        "mp": {"appid": MP, "secret": MP_SECRET}})
    check(st == 200, "both WeChat apps configured")
    st, d = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": "说明", "en": "Notice"}})
    check(st == 201, "a privacy notice published")

    def grant(device, ua=None):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + device}
        if ua:
            h["User-Agent"] = ua
        st, _, raw = srv.request("POST", "/api/v1/me/consents?brand=acme",
                                 body={"grant": ["marketing"],
                                       "notice_version": 1}, headers=h)
        return st

    def me(device):
        st, _, raw = srv.request("GET", "/api/v1/me", headers={
            "Accept": "application/json", "Cookie": "sg_d=" + device})
        return json.loads(raw)["customer"]

    # dave: the official account's OAuth, inside WeChat
    st, hdrs, _ = srv.request("GET", paths[0], headers={"User-Agent": WX_UA})
    dev = re.search(r"sg_d=([^;]+)", hdrs.get("Set-Cookie", "")).group(1)
    loc = hdrs.get("Location", "")
    u = urllib.parse.urlsplit(loc)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", u.path + "?" + u.query,
                 headers={"X-Standin-User": "dave"})
    r = conn.getresponse()
    r.read()
    back = urllib.parse.urlsplit(r.getheader("Location"))
    conn.close()
    st, _, _ = srv.request("GET", back.path + "?" + back.query, headers={
        "User-Agent": WX_UA, "Cookie": "sg_d=" + dev})
    dave = me(dev)
    check(any(i["kind"] == "wechat_oa" for i in dave["identities"]),
          "dave logged in by the official account's OAuth")
    check(grant(dev, WX_UA) == 201, "dave grants marketing consent")
    wx.follow(OA, "dave")

    def mp_login(user):
        st, hdrs, raw = srv.request("POST", "/api/v1/wechat/session", body={
            "appid": MP, "code": wx.login_code(MP, user)},
            headers={"Accept": "application/json"})
        d = json.loads(raw)
        assert st == 200, (st, d)
        return d["session"], d["customer"]["id"]

    erin_dev, erin = mp_login("erin")
    frank_dev, frank = mp_login("frank")
    check(grant(erin_dev) == 201 and grant(frank_dev) == 201,
          "erin and frank (mini program) grant marketing consent")
    wx.accept(MP, "erin", "TPL_MP_1", 3)

    # gus: a phone only
    _, _, gdev = srv.scan(paths[1])
    h = {"Accept": "application/json", "Cookie": "sg_d=" + gdev}
    st, _, _ = srv.request("POST", "/api/v1/customers/otp", body={
        "phone": "13900000077", "code": paths[1], "notice_version": 1},
        headers=h)
    check(wait(lambda: any(b.get("phone") == "+8613900000077"
                           for _, _, b in sms.bodies()), 10),
          "gus's login code went to the SMS gateway")
    code = re.search(r"(\d{6})", [b for _, _, b in sms.bodies()
                                  if b.get("phone") == "+8613900000077"][-1]
                     ["text"]).group(1)
    st, _, raw = srv.request("POST", "/api/v1/customers/verify", body={
        "phone": "13900000077", "code": paths[1], "otp": code,
        "notice_version": 1, "grant": ["marketing"]}, headers=h)
    gus = json.loads(raw)["customer"]["id"]
    check(st == 200, "gus logs in by phone with marketing consent")
    ids = {dave["id"]: "dave", erin: "erin", frank: "frank", gus: "gus"}

    def rows(mid):
        st, d = srv.api("GET", "messages/%d/deliveries" % mid, R)
        return {ids[r["customer"]]: r for r in d["deliveries"]}

    def settled(mid, n):
        return wait(lambda: len(rows(mid)) == n and all(
            r["state"] in ("sent", "failed") for r in rows(mid).values()),
            20)

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    # ---- subscribe messages: 43101 and 47003 fail for good ----
    wx.expire_app_tokens = True
    st, m = srv.api("POST", "messages", OP, {
        "name": "订阅", "channel": "wechat_subscribe", "text": "积分{points}",
        "schedule": {"at": now},
        "wechat": {"template_id": "TPL_MP_1", "field": "thing1",
                   "page": "pages/member/index"}})
    check(st == 201, "a subscribe message stored (%s)" % st)
    check(wait(lambda: rows(m["id"]).get("erin", {}).get("attempts", 0) >= 1,
               10) and rows(m["id"])["erin"]["state"] == "queued" and
          rows(m["id"])["erin"]["last_status"] == 42001,
          "an expired token (42001), renewed once, then retried later")
    wx.expire_app_tokens = False
    check(settled(m["id"], 4), "every row settled")
    rs = rows(m["id"])
    got = [x for x in wx.messages if x[0] == MP]
    check(rs["erin"]["state"] == "sent" and len(got) == 1 and
          got[0][1] == wx.openid(MP, "erin") and
          got[0][3] == {"thing1": "积分0"} and
          got[0][4].get("page") == "pages/member/index" and
          got[0][4].get("miniprogram_state") == "formal" and
          got[0][4].get("lang") == "zh_CN",
          "erin got it: her openid, thing1, the page (%s)" % got[:1])
    check(rs["frank"]["state"] == "failed" and
          rs["frank"]["last_status"] == 43101 and
          rs["frank"]["attempts"] == 2,
          "frank never accepted: 43101, failed without a retry (his one "
          "retry was the expired token's)")
    check(rs["dave"]["state"] == "failed" and rs["gus"]["state"] ==
          "failed", "dave and gus have no mini-program openid: failed")
    tok = [c for c in wx.calls if c[0] == "/cgi-bin/token"]
    check(tok and all(c[1].get("appid") == MP and c[1].get("secret") ==
                      MP_SECRET and c[1].get("grant_type") ==
                      "client_credential" for c in tok),
          "tokens asked with the mini program's own secret (%d)" % len(tok))
    st, m2 = srv.api("POST", "messages", OP, {
        "name": "太长", "channel": "wechat_subscribe",
        "text": "这是一条超过二十个字的订阅消息内容，微信会拒绝它的",
        "schedule": {"at": now},
        "wechat": {"template_id": "TPL_MP_1", "field": "thing1"}})
    check(settled(m2["id"], 4) and rows(m2["id"])["erin"]["state"] ==
          "failed" and rows(m2["id"])["erin"]["last_status"] == 47003,
          "a thing value over 20 characters: 47003, failed")
    n_tok = len([c for c in wx.calls if c[0] == "/cgi-bin/token"])
    check(n_tok == len(tok), "the token is reused, not fetched again")

    # ---- template messages ----
    st, m3 = srv.api("POST", "messages", OP, {
        "name": "模板", "channel": "wechat_template",
        "text": "{brand}新品上市", "schedule": {"at": now},
        "wechat": {"template_id": "TPL_OA_1", "field": "keyword1",
                   "page": "pages/new/index"}})
    check(settled(m3["id"], 4), "the template message settled")
    rs = rows(m3["id"])
    got = [x for x in wx.messages if x[0] == OA]
    check(rs["dave"]["state"] == "sent" and len(got) == 1 and
          got[0][1] == wx.openid(OA, "dave") and
          got[0][3] == {"keyword1": "acme新品上市"} and
          got[0][4].get("miniprogram") == {"appid": MP,
                                           "pagepath": "pages/new/index"},
          "dave (a follower) got the template message (%s)" % got[:1])
    check(rs["erin"]["state"] == "failed", "erin has no official-account "
          "openid: failed")

    # ---- auto ----
    sms_before = len(sms.bodies())
    st, m4 = srv.api("POST", "messages", OP, {
        "name": "自动", "channel": "auto", "text": "会员日",
        "schedule": {"at": now},
        "wechat": {"template_id": "TPL_MP_1", "field": "thing1"}})
    check(settled(m4["id"], 4), "the auto message settled")
    rs = rows(m4["id"])
    check(rs["erin"]["state"] == "sent" and rs["gus"]["state"] == "sent" and
          [b for _, _, b in sms.bodies()[sms_before:]] ==
          [{"phone": "+8613900000077", "text": "会员日"}],
          "auto: erin by subscribe message, gus by SMS")
    check(rs["dave"]["state"] == "failed" and
          rs["dave"]["last_status"] == 40037,
          "auto picks the template for dave (official account), which "
          "WeChat refuses for the mini program's template id (40037)")

    # ---- the webhook channel ----
    st, w = srv.api("POST", "webhooks", A, {
        "url": "http://127.0.0.1:%d/hook" % hook.port, "events": ["claim"]})
    check(st == 201, "a webhook subscription")
    st, m5 = srv.api("POST", "messages", OP, {
        "name": "钩子", "channel": "webhook", "text": "{name}，生日快乐",
        "schedule": {"at": now}, "webhook": {"subscription": w["id"]}})
    check(st == 201, "a webhook message stored")
    check(settled(m5["id"], 4) and all(
        r["state"] == "sent" for r in rows(m5["id"]).values()),
        "all 4 delivered to the webhook")
    ev = [(h, b) for p, h, b in hook.bodies() if b.get("type") == "message"]
    raw = [b for p, h, b in hook.got]
    check(len(ev) == 4 and sorted(b["customer"] for _, b in ev) ==
          sorted(ids) and all(b["text"] == "会员，生日快乐" and
                              b["message"] == m5["id"] and
                              h["X-Sigil-Delivery"] == b["id"]
                              for h, b in ev),
          "one event per customer, by id, with the text")
    check(all(signed(w["secret"], h, r) for (p, h, r) in hook.got),
          "each signed with the subscription's secret")
    check(not any(b"13900000077" in r for r in raw),
          "no phone in what the webhook got")

    # ---- replies: service messages by the brand's service template ----
    for body, why in (({"colour": 1}, "an unknown key"),
                      ({"service_wechat": {"template_id": "a b"}},
                       "a bad template id"),
                      ({"service_wechat": {"field": "x"}}, "no template")):
        st, d = srv.api("PUT", "messages/settings", A, body)
        check(st == 422, "settings with %s: 422" % why)
    st, d = srv.api("PUT", "messages/settings", R, {"service_wechat": None})
    check(st == 403, "an analyst may not change them")
    st, d = srv.api("PUT", "messages/settings", OP, {"service_wechat": {
        "template_id": "TPL_OA_SVC", "field": "keyword1"}})
    check(st == 200 and srv.api("GET", "messages/settings", R)[1] == {
        "service_wechat": {"template_id": "TPL_OA_SVC",
                           "field": "keyword1"}},
          "the service template set (%s %s)" % (st, d))

    def feedback(dev, path, ua=None):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + dev}
        if ua:
            h["User-Agent"] = ua
        st, _, raw = srv.request("GET", path, headers=h)
        sid = json.loads(raw)["scan_id"]
        st, _, raw = srv.request("POST", "/api/v1/feedback", body={
            "scan_id": sid, "rating": 4, "text": "不错"}, headers=h)
        assert st == 201, (st, raw)
        return json.loads(raw)["id"]

    sms_before = len(sms.bodies())
    n_wx = len(wx.messages)
    for dev_, path, ua in ((dev, paths[5], WX_UA), (gdev, paths[6], None)):
        fid = feedback(dev_, path, ua)
        st, d = srv.api("POST", "feedback/%d/reply" % fid, OP,
                        {"text": "谢谢您的反馈"})
        check(st == 200 and d["delivered"] is True,
              "a reply to feedback queued (%s)" % st)
    check(wait(lambda: len(wx.messages) > n_wx and
               len(sms.bodies()) > sms_before, 15),
          "the replies went out")
    got = wx.messages[n_wx:]
    check(len(got) == 1 and got[0][1] == wx.openid(OA, "dave") and
          got[0][2] == "TPL_OA_SVC" and got[0][3] == {
              "keyword1": "谢谢您的反馈"},
          "dave's reply: a template message by the service template")
    check([b for _, _, b in sms.bodies()[sms_before:]] == [
        {"phone": "+8613900000077", "text": "谢谢您的反馈"}],
        "gus's reply: by SMS")
    st, d = srv.api("GET", "outbox?kind=service", R)
    check(st == 200 and len(d["deliveries"]) == 2 and all(
        r["state"] == "sent" and r["channel"] == "auto"
        for r in d["deliveries"]), "two service rows, sent")

    st, d = srv.api("GET", "outbox?kind=marketing&limit=1000", R)
    check(st == 200 and len(d["deliveries"]) == 20,
          "the outbox lists every row (%d)" % len(d["deliveries"]))
    log = srv.logtext()
    check(wx.openid(OA, "dave") not in log and MP_SECRET not in log and
          "13900000077" not in log, "no openid, secret or phone logged")
    st, _, metrics = srv.request("GET", "/metrics")
    check(b'sigil_messages_failed_total{channel="wechat_subscribe"}' in
          metrics and b'sigil_messages_retried_total{channel='
          b'"wechat_subscribe"} 2' in metrics,
          "metrics count the failures and the retry")
    srv.stop()

done()
