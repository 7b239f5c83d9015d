"""Triggered lifecycle messages (issue 21, part 3) against the real sigild
(the fault build, whose clock SIGIL_TEST_CLOCK_SHIFT moves; triggers
checked every second: SIGIL_MESSAGE_TRIGGER_S=1) and a local SMS
gateway.

Three customers log in by phone with marketing and profile consent:
bea gives her birthday (today, China time) and name; cal claims a code
worth 600 points that lapse in 10 days (a Silver member: 500 and up);
dan does nothing. Four messages wait on triggers: birthday, points
expiring within 7 days, no scan for 5 days, tier "银 Silver" reached.
Today: bea gets her birthday greeting with her name and cal his tier
message, once each however often the triggers run. Four days on: cal's
600 points lapse within 7 days, so he is told, once. Six days on: all
three have not scanned (claimed) for 5 days and are told, once; no
birthday, tier or expiry message goes twice. Then quiet hours (21:00
to 23:00) at 22:00 China time hold for the customers in China (by the
region of their latest scan: a --geoip database the test writes) and
for those without a region, but not for eve, whose scan was in the
United States: her zone is the brand's (-08:00, 06:00 there); the
others get the message at 23:00.
"""
import datetime
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402
from msgfix import Gateway, secret_file  # noqa: E402

FAULT_BIN = os.environ.get("FAULT_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "fault", "bin")
CN = datetime.timezone(datetime.timedelta(hours=8))
DAY = 86400


def write_mmdb(path):
    """China (203.0.113.0/24) and the United States (2001:db8:1::/48)."""
    nets = [["203.0.113.0/24", {"country": {"iso_code": "CN", "names": {
                "en": "China", "zh-CN": "中国"}}, "subdivisions": [{
                    "iso_code": "GD", "names": {"en": "Guangdong"}}]}],
            ["2001:db8:1::/48", {"country": {"iso_code": "US", "names": {
                "en": "United States", "zh-CN": "美国"}}, "subdivisions": [{
                    "iso_code": "CA", "names": {"en": "California"}}]}]]
    subprocess.run(["perl", os.path.join(os.path.dirname(__file__), "..",
                                         "lib", "mkmmdb.pl"), path],
                   check=True, input=json.dumps(
                       {"type": "GeoLite2-City", "networks": nets}).encode())


if not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()
sigiltest.BIN = FAULT_BIN
os.environ["SIGIL_MESSAGE_TRIGGER_S"] = "1"

with Env() as env:
    _, paths = env.setup_brand("acme", count=10)
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    R = env.token("acme", "analyst")
    gw = Gateway()
    secret = secret_file(env)
    mm = os.path.join(env.dir, "test.mmdb")
    write_mmdb(mm)
    args = ("--geoip", mm, "--sms-webhook", "http://127.0.0.1:%d/sms" % gw.port,
            "--sms-secret-file", secret, "--webhook-allow", "127.0.0.0/8",
            "--trusted-proxy", "127.0.0.1/32", "--api-rate-limit", "0")
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
    srv = env.start(*args)
    st, _ = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": "说明", "en": "Notice"}})
    st2, _ = srv.api("PUT", "privacy/settings", A,
                     {"profile_fields": ["name", "birthday"]})
    today = datetime.datetime.now(CN).date()
    st3, _ = srv.api("POST", "campaigns", A, {
        "name": "c", "skus": ["W1"], "starts": (today - datetime.timedelta(
            days=1)).isoformat(), "ends": (today + datetime.timedelta(
                days=30)).isoformat(), "points": 600, "expiry_days": 10})
    check(st == 201 and st2 == 200 and st3 == 201,
          "a notice, profile fields name and birthday, a campaign of 600 "
          "points lapsing in 10 days (%s %s %s)" % (st, st2, st3))

    def login(i, ip=None):
        phone = "1390000%04d" % i
        ip = ip or "10.0.0.%d" % (i + 1)
        _, _, dev = srv.scan(paths[i], headers={"X-Forwarded-For": ip})
        h = {"Accept": "application/json", "Cookie": "sg_d=" + dev,
             "X-Forwarded-For": ip}
        srv.request("POST", "/api/v1/customers/otp", body={
            "phone": phone, "code": paths[i], "notice_version": 1},
            headers=h)
        st, _, raw = srv.request("POST", "/api/v1/customers/verify", body={
            "phone": phone, "code": paths[i], "otp": gw.code(phone),
            "notice_version": 1, "grant": ["marketing", "profile"]},
            headers=h)
        assert st == 200, (st, raw)
        return "+86" + phone, h

    bea, hb = login(0)
    cal, hc = login(1)
    dan, _ = login(2)
    st, _, raw = srv.request("PUT", "/api/v1/me/profile?brand=acme", body={
        "name": "贝贝", "birthday": "1990-" + today.strftime("%m-%d")},
        headers=hb)
    check(st == 200, "bea's profile: her name and birthday today (%s)" % st)
    st, _, raw = srv.request("POST", "/api/v1/claims",
                             body={"code": paths[1]}, headers=hc)
    check(st in (200, 201), "cal claims 600 points (%s)" % st)

    defs = [("生日", {"birthday": True}, "【生日】{name}生日快乐"),
            ("过期", {"points_expiring": 7}, "【过期】{expiring}积分即将过期"),
            ("沉睡", {"no_scan": 5}, "【沉睡】好久不见"),
            ("升级", {"tier_reached": "银 Silver"}, "【升级】恭喜成为{tier}")]
    for name, trig, text in defs:
        st, d = srv.api("POST", "messages", OP, {
            "name": name, "channel": "sms", "text": text, "trigger": trig})
        check(st == 201 and d["trigger"] == trig,
              "a %s message waits on %s" % (name, json.dumps(trig)))

    def settle(seconds=4):
        time.sleep(seconds)

    settle(10)
    check(gw.texts("【生日】") == [(bea, "【生日】贝贝生日快乐")],
          "today: bea's birthday greeting with her name, once")
    check(gw.texts("【升级】") == [(cal, "【升级】恭喜成为银 Silver")],
          "today: cal reached Silver, told once")
    check(gw.texts("【过期】") == [] and gw.texts("【沉睡】") == [],
          "nothing lapses within 7 days yet, everyone scanned today")
    st, d = srv.api("GET", "messages", R)
    check(all(m["runs"] >= 2 for m in d["messages"]),
          "the triggers ran more than once (%s)" %
          [m["runs"] for m in d["messages"]])
    srv.stop()

    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(4 * DAY)
    srv = env.start(*args)
    settle()
    check(gw.texts("【过期】") == [(cal, "【过期】600积分即将过期")],
          "four days on: cal's 600 points lapse within 7 days, told once")
    check(gw.texts("【沉睡】") == [], "no one has lapsed for 5 days yet")
    srv.stop()

    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(6 * DAY)
    srv = env.start(*args)
    settle()
    check(gw.texts("【沉睡】") == sorted((p, "【沉睡】好久不见")
                                       for p in (bea, cal, dan)),
          "six days on: all three, not seen for 5 days, told once")
    check(len(gw.texts("【生日】")) == 1 and len(gw.texts("【升级】")) == 1
          and len(gw.texts("【过期】")) == 1,
          "no birthday, tier or expiry message went twice")
    srv.stop()

    # ---- quiet hours in the customer's zone ----
    now = datetime.datetime.now(CN) + datetime.timedelta(days=7)
    at22 = now.replace(hour=22, minute=0, second=0, microsecond=0)
    if at22 <= now:
        at22 += datetime.timedelta(days=1)
    shift = int((at22 - datetime.datetime.now(CN)).total_seconds())
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(shift)
    srv = env.start(*args)
    eve, _ = login(3, "2001:db8:1::5")
    fay, _ = login(4, "203.0.113.5")
    night = {"name": "夜", "channel": "sms", "text": "【夜】晚安",
             "schedule": {"at": at22.isoformat()},
             "quiet_hours": {"from": "21:00", "to": "23:00",
                             "zone": "-08:00"}}
    st, d = srv.api("POST", "messages/dry-run", OP, night)
    check(st == 200 and d["consenting"] == 5 and d["quiet"] == 4 and
          d["would_send"] == 5, "22:00 in China: the 4 customers in China "
          "(by the region of their scan, or none) deferred; eve, whose scan "
          "was in the United States, is at 06:00 in the brand's -08:00 zone "
          "(%s)" % {k: d.get(k) for k in ("consenting", "quiet")})
    st, m = srv.api("POST", "messages", OP, night)
    check(st == 201 and m["quiet_hours"]["zone"] == "-08:00",
          "the message stored with the brand's zone")
    time.sleep(4)
    check(gw.texts("【夜】") == [(eve, "【夜】晚安")],
          "only eve got it at once")
    srv.stop()
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(shift + 5400)
    srv = env.start(*args)
    time.sleep(4)
    check(gw.texts("【夜】") == sorted((p, "【夜】晚安") for p in
                                     (bea, cal, dan, eve, fay)),
          "at 23:30 China time the other four got it, each once")
    srv.stop()
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)

done()
