"""The consumer's journey in headless Chromium against the real sigild, in
zh-CN and once in English, both in Asia/Shanghai: genuine, phone login
(a malformed phone, a wrong code first), claim, repeat, share location,
counterfeit, inactive, suspicious, a PIN claim with a wrong PIN first,
the member page. Fails if a page ever shows a message an API answer
carried (the server's English) or, in zh-CN, a Latin word in a status
line. Screenshots are kept in build/test-artifacts/consumer-*.png."""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
DRIVER = os.path.join(ROOT, "tests", "browser", "consumer.js")
CST = datetime.timezone(datetime.timedelta(hours=8))


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


def journey(env, locale, steps):
    plan = {"locale": locale, "timezone": "Asia/Shanghai", "dir": ART,
            "outbox": os.path.join(env.data, "otp-outbox.log"),
            "geo": {"latitude": 30.27, "longitude": 120.15},
            "steps": steps}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(plan, f)
    try:
        r = subprocess.run(["node", DRIVER, f.name], capture_output=True,
                           text=True, timeout=300)
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        print(r.stdout[-3000:], r.stderr[-3000:])
        return None
    return json.loads(r.stdout.strip().split("\n")[-1])


def local(iso):
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return t.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def times_local(snap):
    """Every <time> with a time of day reads in UTC+8 (the browser's)."""
    ts = [t for t in snap["times"] if len(t[0]) > 10]
    return bool(ts) and all(t[1] == local(t[0]) for t in ts), ts


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    _, tea = env.setup_brand(sku="TEA", count=10, init=False)
    b_pin, pins = env.setup_brand(sku="PIN", count=4, init=False)
    pin_of = {}
    for line in env.sigil("mint", "--batch", str(b_pin), "--format", "csv",
                          "--pin", "--out", "-").stdout.split("\n")[1:]:
        if line:
            _, url, pin = line.split(",")
            pin_of[re.sub(r"^https?://[^/]+", "", url)] = pin
    _, off = env.setup_brand(sku="OFF", count=2, init=False, activate=False)
    _, sus = env.setup_brand(sku="SUS", count=2, init=False, max_scanners=2)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    OP = env.token("acme", "operator")
    BETA = env.token("beta", "analyst")
    srv = env.start()
    base = "http://127.0.0.1:%d" % srv.port
    for sku, pts, pin in (("TEA", 50, False), ("PIN", 20, True),
                          ("SUS", 10, False), ("OFF", 10, False)):
        st, doc = srv.api("POST", "campaigns", A, {
            "name": sku, "skus": [sku], "starts": day(-1), "ends": day(30),
            "points": pts, "require_pin": pin, "expiry_days": 365})
        check(st == 201, "campaign %s: %d %r" % (sku, st, doc))
    for item in ({"name": "品鉴杯", "cost": 30, "stock": 10},
                 {"name": "礼盒", "cost": 5000}):
        st, doc = srv.api("POST", "catalog/items", A, item)
        check(st == 201, "catalog item %s" % item["name"])
    st, doc = srv.api("PUT", "content/brand/zh-CN", A,
                      {"display_name": "阿克米茶业"})
    check(st == 200, "brand display name set: %d" % st)
    # Two phones on two other networks: the browser is the third scanner
    # of a product allowing two, from a third network.
    for i in range(2):
        srv.scan(sus[0], source="127.0.%d.1" % (i + 2))
    fake = tea[0][:-1] + ("0" if tea[0][-1] != "0" else "1")
    bad_pin = lambda p: "%08d" % ((int(pin_of[p]) + 1) % 100000000)  # noqa

    # ---- zh-CN ----
    z = journey(env, "zh-CN", [
        {"goto": base + tea[0]}, {"snap": "consumer-zh-01-genuine"},
        {"fill": ["#rw-phone", "12ab"]}, {"click": "#rw-send"},
        {"snap": "consumer-zh-02-bad-phone"},
        {"fill": ["#rw-phone", "13800000001"]}, {"click": "#rw-send"},
        {"snap": "consumer-zh-03-otp-sent"},
        {"badotp": ["#rw-otp", "13800000001"]}, {"click": "#rw-verify"},
        {"snap": "consumer-zh-04-otp-wrong"},
        {"otp": ["#rw-otp", "13800000001"]}, {"click": "#rw-verify"},
        {"wait": 500}, {"snap": "consumer-zh-05-logged-in"},
        {"click": "#rw-go"}, {"snap": "consumer-zh-06-claimed"},
        {"goto": base + tea[0]}, {"snap": "consumer-zh-07-repeat"},
        {"tap": "#share"}, {"wait": 1500}, {"snap": "consumer-zh-08-shared"},
        {"goto": base + fake}, {"snap": "consumer-zh-09-counterfeit"},
        {"goto": base + off[0]}, {"snap": "consumer-zh-10-inactive"},
        {"goto": base + sus[0]}, {"snap": "consumer-zh-11-suspicious"},
        {"goto": base + pins[0]},
        {"fill": ["#rw-pin", bad_pin(pins[0])]}, {"click": "#rw-go"},
        {"snap": "consumer-zh-12-wrong-pin"},
        {"fill": ["#rw-pin", pin_of[pins[0]]]}, {"click": "#rw-go"},
        {"snap": "consumer-zh-13-pin-claimed"},
        {"tap": "#rw-member"}, {"wait": 1500},
        {"snap": "consumer-zh-14-member"},
        {"tap": "#catalog .row:first-child button"},
        {"snap": "consumer-zh-15-confirm"},
        {"fill": ["#ship-name", "张三"]},
        {"fill": ["#ship-phone", "13800000001"]},
        {"fill": ["#ship-addr", "浙江省杭州市西湖区文三路 1 号"]},
        {"click": "#confirm-go"}, {"wait": 1000},
        {"snap": "consumer-zh-16-redeemed"},
    ])
    check(z is not None, "zh journey ran in Chromium")
    if z:
        s = z["snaps"]
        g = s["consumer-zh-01-genuine"]
        check(g["verdict"] == "正品" and g["lang"] == "zh-CN", "zh: 正品")
        check(g["reward"] == "shown" and g["offer"] == "扫码可得 50 积分",
              "zh: the reward card offers 50 points (%s, %r)" % (
                  g["reward"], g["offer"]))
        check(s["consumer-zh-02-bad-phone"]["status"] ==
              "请输入正确的手机号（6至15位数字）",
              "zh: a malformed phone reads in Chinese: %r" %
              s["consumer-zh-02-bad-phone"]["status"])
        sent = s["consumer-zh-03-otp-sent"]
        check(sent["status"].startswith("验证码已发送") and
              sent["send"]["disabled"] and
              re.fullmatch(r"重新获取\((60|59|58)s\)", sent["send"]["label"]),
              "zh: code sent, the button counts down: %r" % sent["send"])
        check(s["consumer-zh-04-otp-wrong"]["status"] ==
              "验证码错误，还可尝试 4 次",
              "zh: a wrong code says the tries left: %r" %
              s["consumer-zh-04-otp-wrong"]["status"])
        check(s["consumer-zh-05-logged-in"]["claim_shown"],
              "zh: logged in, the claim button shows")
        c = s["consumer-zh-06-claimed"]
        check(c["status"] == "已到账 50 积分！" and "我的积分：50" in c["text"],
              "zh: claimed 50 points: %r" % c["status"])
        r = s["consumer-zh-07-repeat"]
        check(r["scan_info"].startswith("此码已被查询 2 次，首次查询时间"),
              "zh: repeat scan counted: %r" % r["scan_info"])
        check(r["offer"] is None and r["status"] == "此码积分已被领取。" and
              "扫码可得" not in r["text"],
              "zh: a claimed code shows no offer beside 'claimed'")
        check(r["text"].count("首次查询") == 1,
              "zh: the first check is told once, not in two cards")
        ok, ts = times_local(r)
        check(ok, "zh: times read in the browser's zone (UTC+8): %r" % ts)
        cid = r["check_id"] or ""
        check(re.fullmatch(r"\d{1,20}-\d", cid) and
              "查询编号 " + cid in r["text"],
              "zh: a short check id to read out: %r" % cid)
        st, doc = srv.api("GET", "codes/" + cid, AN)
        check(st == 200 and doc["url"].endswith(tea[0]) and
              doc["check"]["check_id"] == cid and
              any(x["check_id"] == cid for x in doc["scans"]),
              "the brand finds the code by the check id (%d)" % st)
        st, doc = srv.api("GET", "codes/" + cid, BETA)
        check(st == 404, "another brand cannot look it up: %d" % st)
        wrong = cid[:-1] + str((int(cid[-1]) + 1) % 10)
        st, doc = srv.api("GET", "codes/" + wrong, AN)
        check(st in (404, 422), "a misheard check id finds nothing: %d" % st)
        check(s["consumer-zh-08-shared"]["share_status"] == "谢谢！位置已提交。",
              "zh: location shared: %r" %
              s["consumer-zh-08-shared"]["share_status"])
        for name, verdict in (("09-counterfeit", "假冒"),
                              ("10-inactive", "未激活")):
            p = s["consumer-zh-" + name]
            check(p["verdict"] == verdict and p["reward"] == "absent" and
                  "积分" not in p["text"],
                  "zh: %s page has no reward card (%s)" % (verdict,
                                                        p["reward"]))
        p = s["consumer-zh-11-suspicious"]
        check(p["verdict"] == "可疑", "zh: the third phone sees 可疑")
        check(s["consumer-zh-12-wrong-pin"]["status"] ==
              "暗码错误，还可尝试 4 次",
              "zh: a wrong PIN says the tries left: %r" %
              s["consumer-zh-12-wrong-pin"]["status"])
        check(s["consumer-zh-13-pin-claimed"]["status"] == "已到账 20 积分！",
              "zh: the right PIN then claims")
        m = s["consumer-zh-14-member"]
        check(m["balance"] == "70", "zh: member page balance 70: %r" %
              m["balance"])
        check("阿克米茶业" in m["text"] and "acme" not in m["text"],
              "zh: the member page names the brand by its display name")
        check(m["buttons"] == [{"label": "兑换", "disabled": False},
                               {"label": "积分不足", "disabled": True}],
              "zh: an item the balance cannot cover is disabled: %r" %
              m["buttons"])
        check(m["next"] == "距银 Silver还差 430 积分",
              "zh: progress to the next tier: %r" % m["next"])
        exp = (datetime.datetime.now(CST) + datetime.timedelta(days=365))
        check(m["expiry"] is not None and "积分将于 " in m["expiry"] and
              m["expiry"].endswith(" 到期") and
              abs((datetime.date.fromisoformat(m["expiry"].split("将于 ")[1]
                                               [:10]) -
                   exp.date()).days) <= 1,
              "zh: when points expire: %r" % m["expiry"])
        check(any("· 到期 " in x for x in m["ledger"]),
              "zh: each earning says when it expires: %r" % m["ledger"])
        c = s["consumer-zh-15-confirm"]
        check(c["confirm"] == "用 30 积分兑换「品鉴杯」？" and
              c["balance"] == "70",
              "zh: a tap asks first, nothing spent: %r" % c["confirm"])
        d = s["consumer-zh-16-redeemed"]
        check(d["status"] == "兑换成功！" and d["balance"] == "40",
              "zh: redeemed after confirming: %r %r" % (d["status"],
                                                        d["balance"]))
        check(d["ledger"] and d["ledger"][0].startswith("兑换 · 品鉴杯") and
              d["ledger"][0].endswith("-30"),
              "zh: the ledger line names the item: %r" % d["ledger"][:1])
        check(d["orders"] and "浙江省杭州市西湖区文三路 1 号" in d["orders"]
              and "待处理" in d["orders"],
              "zh: the member sees the order: %r" % d["orders"])
        st, doc = srv.api("GET", "orders", AN)
        check(st == 403, "analysts do not see delivery addresses: %d" % st)
        st, doc = srv.api("GET", "orders?status=open", OP)
        o = doc["orders"][0] if st == 200 and doc["orders"] else {}
        check(st == 200 and len(doc["orders"]) == 1 and
              o.get("item_name") == "品鉴杯" and
              o.get("delivery") == {"name": "张三", "phone": "13800000001",
                                    "address": "浙江省杭州市西湖区文三路 1 号"}
              and o.get("status") == "open",
              "the brand lists the order to fulfil: %r" % doc)
        st, doc = srv.api("POST", "orders/%d/fulfil" % o.get("id", 0), OP)
        check(st == 200 and doc["status"] == "fulfilled" and doc["fulfilled"],
              "the brand marks it fulfilled: %d" % st)
        st, doc = srv.api("POST", "orders/%d/fulfil" % o.get("id", 0), OP)
        check(st == 409, "fulfilled twice: 409 (%d)" % st)
        st, doc = srv.api("GET", "orders?status=open", OP)
        check(st == 200 and doc["orders"] == [], "no open order left")
        st, doc = srv.api("GET", "orders?status=lost", OP)
        check(st == 400, "an unknown status filter: 400")
        st, doc = srv.api("POST", "orders/999999/fulfil", OP)
        check(st == 404, "an unknown order: 404 (%d)" % st)
        check(not z["leaks"], "zh: no server message shown: %r (of %r)" % (
            z["leaks"], z["messages"]))
        check(len(z["messages"]) >= 3, "zh: the journey met server errors "
              "(%d), so the leak check had something to catch" %
              len(z["messages"]))
        check(not z["external_requests"], "zh: no external requests")
        check(not [e for e in z["console_errors"]
                   if "status of 4" not in e],
              "zh: no script errors: %r" % z["console_errors"])

    # ---- English, once ----
    e = journey(env, "en-US", [
        {"goto": base + "/member?brand=acme"},
        {"snap": "consumer-en-00-member-logged-out"},
        {"goto": base + tea[1]}, {"snap": "consumer-en-01-genuine"},
        {"fill": ["#rw-phone", "12ab"]}, {"click": "#rw-send"},
        {"snap": "consumer-en-02-bad-phone"},
        {"fill": ["#rw-phone", "13800000002"]}, {"click": "#rw-send"},
        {"snap": "consumer-en-03-otp-sent"},
        {"otp": ["#rw-otp", "13800000002"]}, {"click": "#rw-verify"},
        {"wait": 500}, {"click": "#rw-go"},
        {"goto": base + pins[1]},
        {"fill": ["#rw-pin", bad_pin(pins[1])]}, {"click": "#rw-go"},
        {"snap": "consumer-en-04-wrong-pin"},
        {"goto": base + tea[1]}, {"snap": "consumer-en-05-repeat"},
        {"goto": base + fake}, {"snap": "consumer-en-06-counterfeit"},
        {"goto": base + "/member"}, {"wait": 500},
        {"tap": "#catalog .row:first-child button"}, {"tap": "#how-pick"},
        {"click": "#confirm-go"}, {"wait": 1000},
        {"snap": "consumer-en-07-pickup"},
    ])
    check(e is not None, "en journey ran in Chromium")
    if e:
        s = e["snaps"]
        check(s["consumer-en-01-genuine"]["verdict"] == "Genuine" and
              s["consumer-en-01-genuine"]["offer"] == "This code earns 50 "
              "points", "en: genuine, 50 points offered")
        check(s["consumer-en-02-bad-phone"]["status"] ==
              "Enter a phone number of 6 to 15 digits",
              "en: a malformed phone in the page's words: %r" %
              s["consumer-en-02-bad-phone"]["status"])
        check(re.fullmatch(r"Resend \((60|59|58) s\)",
                           s["consumer-en-03-otp-sent"]["send"]["label"]),
              "en: the button counts down")
        check(s["consumer-en-04-wrong-pin"]["status"] ==
              "Wrong PIN: 4 tries left", "en: PIN tries left: %r" %
              s["consumer-en-04-wrong-pin"]["status"])
        ok, ts = times_local(s["consumer-en-05-repeat"])
        check(ok and "UTC" not in s["consumer-en-05-repeat"]["scan_info"],
              "en: times in the browser's zone, not 'UTC': %r" % ts)
        check(s["consumer-en-06-counterfeit"]["reward"] == "absent",
              "en: no reward card on a counterfeit")
        lo = s["consumer-en-00-member-logged-out"]
        check(lo["login_shown"] and not lo["tier_visible"],
              "en: logged out, the member page offers a login and no "
              "empty tier pill")
        pk = s["consumer-en-07-pickup"]
        check(re.fullmatch(r"Redeemed! Pick-up code \d{8}", pk["status"] or "")
              and pk["balance"] == "20" and pk["orders"] and
              "Pick-up code " in pk["orders"],
              "en: redeemed for pick-up, the code shown: %r" % pk["status"])
        check(not e["leaks"], "en: no server message shown: %r" % e["leaks"])

    # ---- logging in on the member page itself (a phone new to it) ----
    m = journey(env, "zh-CN", [
        {"goto": base + "/member?brand=acme"},
        {"fill": ["#phone", "13800000003"]}, {"click": "#send"},
        {"snap": "consumer-zh-20-member-code-sent"},
        {"otp": ["#otp", "13800000003"]}, {"click": "#verify"},
        {"wait": 1000}, {"snap": "consumer-zh-21-member-logged-in"},
    ])
    check(m is not None, "member login journey ran")
    if m:
        s = m["snaps"]
        a = s["consumer-zh-20-member-code-sent"]
        check(a["login_shown"] and a["status"].startswith("验证码已发送"),
              "zh: the member page sends a code itself: %r" % a["status"])
        b = s["consumer-zh-21-member-logged-in"]
        check(not b["login_shown"] and b["balance"] == "0" and
              b["tier_visible"] and "阿克米茶业" in b["text"],
              "zh: logged in on the member page: balance %r" % b["balance"])
        check(not m["leaks"], "zh member: no server message shown")

    # ---- bad orders: a clear 422, nothing spent ----
    NET = "127.0.9.1"

    def post(path, body, dev):
        st, _, data = srv.request("POST", path, body=body, source=NET,
                                  headers={"Cookie": "sg_d=" + dev})
        return st, json.loads(data)

    _, _, dev = srv.scan(tea[2], source=NET)
    post("/api/v1/customers/otp", {"phone": "13800000004", "code": tea[2]},
         dev)
    code = None
    with open(os.path.join(env.data, "otp-outbox.log")) as f:
        for line in f:
            if "phone=8613800000004 " in line:
                code = line.split("code=")[1].strip()
    st, _ = post("/api/v1/customers/verify", {"phone": "13800000004",
                                              "code": tea[2], "otp": code},
                 dev)
    st2, _ = post("/api/v1/claims", {"code": tea[2]}, dev)
    check(st == 200 and st2 == 201, "a customer with 50 points over HTTP")
    ok = {"name": "李四", "phone": "13800000004", "address": "杭州"}
    for body in ({"item": 1, "pickup": True, "delivery": ok},
                 {"item": 1, "delivery": dict(ok, phone="call me")},
                 {"item": 1, "delivery": dict(ok, name="")},
                 {"item": 1, "delivery": dict(ok, address="杭\u202e州")},
                 {"item": 1, "delivery": dict(ok, extra=1)},
                 {"item": 1, "delivery": "杭州"},
                 {"item": 1, "pickup": "yes"}):
        st, doc = post("/api/v1/redemptions", body, dev)
        check(st == 422 and doc["error"]["code"] == "invalid",
              "refused: %r -> %d" % (body, st))
    st, _, data = srv.request("GET", "/api/v1/me", source=NET,
                              headers={"Cookie": "sg_d=" + dev})
    check(json.loads(data)["customer"]["balance"] == 50,
          "nothing was spent by the refused orders")
    st, doc = post("/api/v1/redemptions", {"item": 1, "pickup": True}, dev)
    check(st == 201 and re.fullmatch(r"\d{8}", doc["order"]["pickup_code"])
          and doc["balance"] == 20, "a pick-up order over HTTP: %d" % st)
done()
