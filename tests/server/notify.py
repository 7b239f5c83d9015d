"""Alert notifications (issue 21, part 6) against the real sigild: rules
per alert type naming people to tell by e-mail (through a local SMTP
receiver offering STARTTLS with a test certificate and AUTH), a WeCom
group robot and a DingTalk custom robot (stand-ins written from their
published docs; the DingTalk one checks the 加签 signature and refuses a
bad one with errcode 310000). A counterfeit scan leads to an e-mail and
both robot posts; a digest gathers several alerts in one message; bad
input gets 4xx and changes nothing; roles and brands are kept apart."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import BIN, Env, check, done  # noqa: E402
from smtp_standin import SMTPStandin, make_cert  # noqa: E402
from robot_standin import RobotStandin  # noqa: E402

DING_SECRET = "SEC" + "0123456789abcdef" * 4


def flip(path):
    return path[:-1] + ("0" if path[-1] != "0" else "1")


def wait_for(fn, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


with Env() as env:
    _, codes = env.setup_brand(sku="TEA", count=12, max_scanners=2)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    ca, crt, key = make_cert(env.dir)
    smtp = SMTPStandin(cert=crt, key=key, users={"alerts": "s3cret pw"},
                       require_auth=True)
    robots = RobotStandin(wecom_keys=["K1"], dingtalk={
        "T1": DING_SECRET, "T2": DING_SECRET, "T3": None})
    pw = os.path.join(env.dir, "smtp-pw")
    with open(pw, "w") as f:
        f.write("s3cret pw\n")
    os.chmod(pw, 0o600)

    # Operator flags: checked at start-up.
    def sigild_rc(*args):
        r = subprocess.run([os.path.join(BIN, "sigild"), "--data", env.data,
                            "--listen", "127.0.0.1:0"] + list(args),
                           capture_output=True, text=True, timeout=20)
        return r.returncode, r.stderr
    rc, err = sigild_rc("--smtp", "ftp://127.0.0.1")
    check(rc == 2 and "--smtp takes" in err, "--smtp ftp:// refused")
    rc, err = sigild_rc("--smtp", "smtp://127.0.0.1:%d" % smtp.port)
    check(rc == 2 and "--smtp-from" in err, "--smtp needs --smtp-from")
    rc, err = sigild_rc("--smtp", "smtp://127.0.0.1", "--smtp-from",
                        "a@b.example", "--smtp-user", "u")
    check(rc == 2 and "go together" in err,
          "--smtp-user needs --smtp-password-file")
    os.chmod(pw, 0o644)
    rc, err = sigild_rc("--smtp", "smtp://127.0.0.1", "--smtp-from",
                        "a@b.example", "--smtp-user", "u",
                        "--smtp-password-file", pw)
    check(rc == 2 and "0600" in err, "a world-readable password file refused")
    os.chmod(pw, 0o600)

    srv = env.start("--api-rate-limit", "0", "--webhook-allow", "127.0.0.1",
                    "--smtp", "smtp://127.0.0.1:%d?starttls=require" %
                    smtp.port, "--smtp-from", "alerts@acme.example",
                    "--smtp-user", "alerts", "--smtp-password-file", pw,
                    "--smtp-ca", ca)
    R = "http://127.0.0.1:%d" % robots.port
    WECOM = R + "/cgi-bin/webhook/send?key=K1"
    DING = R + "/robot/send?access_token=T1"

    def rules(token=A):
        st, doc = srv.api("GET", "notify/rules", token)
        return doc["rules"] if st == 200 else None

    # ---- bad input: 4xx, nothing stored ----
    good = {"name": "防伪 Security", "types": ["counterfeit", "clone"],
            "emails": ["sec@acme.example", "boss@acme.example"],
            "wecom_url": WECOM, "dingtalk_url": DING,
            "dingtalk_secret": DING_SECRET}
    bad = [
        ({}, "empty body"),
        (dict(good, name=""), "empty name"),
        (dict(good, name="x" * 65), "name too long"),
        (dict(good, types=[]), "no types"),
        (dict(good, types=["bogus"]), "unknown type"),
        (dict(good, types="counterfeit"), "types not a list"),
        (dict(good, emails=["not an address"]), "bad e-mail"),
        (dict(good, emails=["a@b.example\r\nBcc: x@y"]), "CRLF in e-mail"),
        (dict(good, emails=["x%d@acme.example" % i for i in range(21)]),
         "21 addresses"),
        (dict(good, wecom_url="ftp://127.0.0.1/x"), "ftp robot URL"),
        (dict(good, mode="weekly"), "unknown mode"),
        (dict(good, mode="daily", at="25:00"), "bad time of day"),
        (dict(good, tz_offset=900), "zone out of range"),
        (dict(good, active="yes"), "active not boolean"),
        (dict(good, dingtalk_secret="has space"), "secret with a space"),
        (dict(good, dingtalk_secret="S" * 129), "secret too long"),
        (dict(good, surprise=1), "unknown field"),
        ({"name": "n", "types": ["diversion"]}, "nobody to tell"),
    ]
    for body, what in bad:
        st, doc = srv.api("POST", "notify/rules", A, body)
        check(st == 422 and doc["error"]["code"] == "invalid",
              "bad rule refused 422: " + what)
    for url, what in (("http://10.0.0.7/robot/send", "a private address"),
                      ("http://169.254.169.254/latest", "cloud metadata")):
        st, doc = srv.api("POST", "notify/rules", A,
                          dict(good, dingtalk_url=url))
        check(st == 422 and doc["error"]["code"] == "refused_target",
              "robot URL to %s refused (refused_target)" % what)
    st, _ = srv.request("POST", "/api/v1/notify/rules", body=b"{nope",
                        headers={"Authorization": "Bearer " + A})[:2]
    check(st == 400, "malformed JSON: 400")
    st, _ = srv.api("POST", "notify/rules", AN, good)
    check(st == 403, "an analyst cannot add a rule (403)")
    check(rules() == [], "nothing stored by the refusals")

    # ---- a rule; the secret never shown ----
    st, r1 = srv.api("POST", "notify/rules", A, good)
    check(st == 201 and r1["types"] == ["too_many_scanners",
                                        "impossible_travel", "counterfeit"],
          "rule created, clone = both clone signals")
    check(r1["dingtalk_secret_set"] is True and
          DING_SECRET not in json.dumps(r1), "secret sealed, never shown")
    check(r1["mode"] == "immediate" and r1["tz_offset"] == 480,
          "defaults: immediate, UTC+8")
    check(DING_SECRET not in srv.logtext(), "secret not in the log")
    st, _ = srv.api("GET", "notify/rules/%d" % r1["id"], B)
    check(st == 404, "another brand sees 404")
    st, _ = srv.api("PUT", "notify/rules/%d" % r1["id"], B, {"name": "x"})
    check(st == 404, "another brand cannot change it")
    st, _ = srv.api("DELETE", "notify/rules/%d" % r1["id"], B)
    check(st == 404, "another brand cannot delete it")
    st, _ = srv.api("PUT", "notify/rules/%d" % r1["id"], A, {"mode": "x"})
    check(st == 422, "bad update refused")
    st, doc = srv.api("GET", "notify/rules/%d" % r1["id"], A)
    check(st == 200 and doc["mode"] == "immediate" and
          doc["name"] == good["name"], "refused update changed nothing")

    # ---- the test message, on every channel ----
    st, doc = srv.api("POST", "notify/test", A, {"rule": r1["id"]})
    res = {x["channel"]: x for x in doc.get("results", [])} \
        if st == 200 else {}
    check(st == 200 and all(res.get(c, {}).get("ok") for c in
                            ("smtp", "wecom", "dingtalk")),
          "test: smtp, wecom, dingtalk all ok %r" % (res,))
    m = smtp.received("sec@acme.example")
    check(len(m) == 1 and m[0].tls and m[0].user == "alerts" and
          sorted(m[0].rcpt) == ["boss@acme.example", "sec@acme.example"],
          "test e-mail over STARTTLS with AUTH to both recipients")
    check(m and m[0].subject == "[sigil] 测试通知 / Test notification",
          "UTF-8 subject decodes (RFC 2047)")
    check(m and "这是一条测试通知" in m[0].text and
          m[0].msg["Message-ID"] and m[0].msg["Date"] and
          m[0].mail_from == "alerts@acme.example",
          "body, Date, Message-ID, envelope sender")
    check(len(robots.wecom) == 1 and robots.wecom[0]["msgtype"] ==
          "markdown" and "测试通知" in robots.wecom[0]["markdown"]["content"],
          "WeCom robot got the markdown test")
    check(len(robots.ding) == 1 and "测试通知" in
          robots.ding[0]["markdown"]["title"],
          "DingTalk robot got it, signature verified")
    st, _ = srv.api("POST", "notify/test", A, {"rule": 999})
    check(st == 404, "test of no rule: 404")
    st, _ = srv.api("POST", "notify/test", A, {"rule": "1"})
    check(st == 422, "test with a bad body: 422")

    # A wrong DingTalk secret: the robot refuses (310000), for good.
    st, r2 = srv.api("POST", "notify/rules", A, {
        "name": "wrong secret", "types": ["diversion"],
        "dingtalk_url": R + "/robot/send?access_token=T2",
        "dingtalk_secret": "SECwrong"})
    st, doc = srv.api("POST", "notify/test", A, {"rule": r2["id"]})
    d = doc["results"][0] if st == 200 else {}
    check(d.get("ok") is False and d.get("status") == 310000 and
          d.get("retry") is False, "bad signature: errcode 310000, no retry")
    check(any(x[0] == "dingtalk" and x[1] == 310000 for x in robots.refused),
          "the stand-in refused the bad signature")
    # SMTP refusals: 550 for good, 451 for now.
    st, r3 = srv.api("POST", "notify/rules", A, {
        "name": "refused", "types": ["diversion"],
        "emails": ["reject@acme.example"]})
    st, doc = srv.api("POST", "notify/test", A, {"rule": r3["id"]})
    d = doc["results"][0] if st == 200 else {}
    check(d.get("ok") is False and d.get("status") == 550 and
          d.get("retry") is False, "550 recipient: failed for good")
    st, doc = srv.api("PUT", "notify/rules/%d" % r3["id"], A,
                      {"emails": ["later@acme.example"]})
    check(st == 200 and doc["emails"] == ["later@acme.example"],
          "update keeps the rest, changes the addresses")
    st, doc = srv.api("POST", "notify/test", A, {"rule": r3["id"]})
    d = doc["results"][0] if st == 200 else {}
    check(d.get("ok") is False and d.get("status") == 451 and
          d.get("retry") is True, "451 recipient: retried later")

    # ---- a counterfeit scan: an e-mail and both robot posts ----
    n_mail, n_wc, n_dt = len(smtp.received("sec@acme.example")), \
        len(robots.wecom), len(robots.ding)
    st, doc, _ = srv.scan(flip(codes[0]))
    check(doc["verdict"] == "counterfeit", "a fake scanned")
    st, al = srv.api("GET", "alerts?type=counterfeit", A)
    check(st == 200 and len(al["alerts"]) == 1, "the counterfeit alert")
    got = wait_for(lambda: len(smtp.received("sec@acme.example")) > n_mail and
                   len(robots.wecom) > n_wc and len(robots.ding) > n_dt)
    check(got, "counterfeit: e-mail, WeCom and DingTalk all delivered")
    m = smtp.received("sec@acme.example")[-1]
    check("假码扫描" in m.subject and "counterfeit" in m.subject and
          "acme" in m.subject, "the e-mail names the alert and the brand")
    check("#%d" % al["alerts"][0]["id"] in m.text, "it names the alert id")
    check("假码扫描" in robots.wecom[-1]["markdown"]["content"] and
          "counterfeit" in robots.ding[-1]["markdown"]["text"],
          "robot posts name the alert")
    time.sleep(2.5)
    check(len(smtp.received("sec@acme.example")) == n_mail + 1 and
          len(robots.wecom) == n_wc + 1 and len(robots.ding) == n_dt + 1,
          "exactly one of each for one alert")
    st, doc = srv.api("GET", "notify/rules/%d" % r1["id"], A)
    check(doc["cursor"] == al["alerts"][0]["id"] and doc["sent"] == 3,
          "the rule's cursor moved past it, 3 messages handed over")
    dl = doc.get("deliveries", {})
    check(dl.get("sent") == 3 and dl.get("failed") == 0 and
          sorted(x["channel"] for x in dl.get("recent", [])) ==
          ["dingtalk", "smtp", "wecom"] and
          all(x["state"] == "sent" and x["sent_at"] for x in dl["recent"]),
          "the outbox rows of the rule: smtp, wecom, dingtalk all sent")
    check("notify_queued" in srv.logtext(), "logged")

    # The brand's counterfeit alert seen again (one alert per brand, its
    # count grows): told again while it is new, not once acknowledged.
    cf = al["alerts"][0]["id"]
    st, doc, _ = srv.scan(flip(codes[5]))
    got = wait_for(lambda: len(smtp.received("sec@acme.example")) ==
                   n_mail + 2 and len(robots.ding) == n_dt + 2, 20)
    check(got, "a second fake scan: told again (e-mail, DingTalk)")
    m = smtp.received("sec@acme.example")[-1]
    check("#%d" % cf in m.text and "count 2" in m.text,
          "the same alert, its count now 2")
    st, _ = srv.api("PATCH", "alerts/%d" % cf, A, {"status": "acknowledged"})
    check(st == 200, "the brand acknowledges it")
    srv.scan(flip(codes[6]))
    time.sleep(13)
    check(len(smtp.received("sec@acme.example")) == n_mail + 2,
          "acknowledged: a third fake scan is not told again")
    n_mail += 1

    # ---- a digest gathers several alerts in one message ----
    st, rd = srv.api("POST", "notify/rules", A, {
        "name": "ratings", "types": ["rating_drop"],
        "emails": ["qa@acme.example"], "active": False})
    check(st == 201 and rd["types"] == ["rating_drop"] and
          rd["active"] is False, "a rule for rating drops (feedback's type)")
    st, r4 = srv.api("POST", "notify/rules", A, {
        "name": "每小时摘要", "types": ["too_many_scanners"],
        "mode": "hourly", "emails": ["digest@acme.example"]})
    check(st == 201 and r4.get("mode") == "hourly", "hourly digest rule %r" % (r4,))
    st, _ = srv.api("POST", "notify/rules/%d/digest" % r1["id"], A)
    check(st == 409, "an immediate rule has no digest (409)")
    net = [0]
    for code in codes[1:4]:
        for _ in range(3):
            net[0] += 1
            srv.scan(code, source="127.0.%d.1" % net[0])
    st, al = srv.api("GET", "alerts?type=too_many_scanners", A)
    check(len(al["alerts"]) == 3, "three clone alerts raised")
    wait_for(lambda: len(smtp.received("sec@acme.example")) >= n_mail + 4)
    time.sleep(1.5)
    check(len(smtp.received("sec@acme.example")) == n_mail + 4,
          "the immediate rule sent one e-mail per clone alert")
    check(smtp.received("digest@acme.example") == [],
          "the digest waits for its hour")
    st, doc = srv.api("POST", "notify/rules/%d/digest" % r4["id"], A)
    check(st == 202, "digest asked for now")
    dm = wait_for(lambda: smtp.received("digest@acme.example"))
    check(len(dm) == 1, "one digest e-mail")
    if dm:
        ids = [a["id"] for a in al["alerts"]]
        check(all("#%d" % i in dm[0].text for i in ids) and
              "3" in dm[0].subject and "摘要" in dm[0].subject,
              "the digest lists the three alerts")
    srv.api("POST", "notify/rules/%d/digest" % r4["id"], A)
    time.sleep(2.5)
    check(len(smtp.received("digest@acme.example")) == 1,
          "nothing new: no second digest")

    # ---- delete ----
    st, _ = srv.api("DELETE", "notify/rules/%d" % r4["id"], A)
    check(st == 200, "rule deleted")
    st, _ = srv.api("GET", "notify/rules/%d" % r4["id"], A)
    check(st == 404, "gone")
    check(len(rules()) == 4 and rules(B) == [], "lists are per brand")

    # A restart keeps the rules and their cursors: nothing sent twice.
    before = len(smtp.received())
    srv.stop()
    srv = env.start("--api-rate-limit", "0", "--webhook-allow", "127.0.0.1",
                    "--smtp", "smtp://127.0.0.1:%d?starttls=require" %
                    smtp.port, "--smtp-from", "alerts@acme.example",
                    "--smtp-user", "alerts", "--smtp-password-file", pw,
                    "--smtp-ca", ca)
    time.sleep(3)
    check(len(smtp.received()) == before, "restart: no alert announced again")
    st, doc = srv.api("POST", "notify/test", A, {"rule": r1["id"]})
    check(st == 200 and all(x["ok"] for x in doc["results"]),
          "restart: the sealed secret still signs")
    srv.stop()

    # smtps:// (TLS from the first byte) with the same trusted CA.
    smtps = SMTPStandin(cert=crt, key=key, users={"alerts": "s3cret pw"},
                        require_auth=True, implicit=True)
    srv = env.start("--api-rate-limit", "0", "--webhook-allow", "127.0.0.1",
                    "--smtp", "smtps://127.0.0.1:%d" % smtps.port,
                    "--smtp-from", "alerts@acme.example",
                    "--smtp-user", "alerts", "--smtp-password-file", pw,
                    "--smtp-ca", ca)
    st, doc = srv.api("POST", "notify/test", A, {"rule": r1["id"]})
    res = {x["channel"]: x for x in doc.get("results", [])}
    m = smtps.received("sec@acme.example")
    check(res.get("smtp", {}).get("ok") and len(m) == 1 and m[0].tls and
          m[0].user == "alerts", "smtps://: delivered over implicit TLS")
    srv.stop()
    smtps.stop()

    # A server whose certificate no trusted CA signed: nothing is sent,
    # no password crosses, and the failure is a passing one.
    os.makedirs(os.path.join(env.dir, "other"))
    _, crt2, key2 = make_cert(os.path.join(env.dir, "other"))
    rogue = SMTPStandin(cert=crt2, key=key2, users={"alerts": "s3cret pw"},
                        require_auth=True)
    srv = env.start("--api-rate-limit", "0", "--webhook-allow", "127.0.0.1",
                    "--smtp", "smtp://127.0.0.1:%d" % rogue.port,
                    "--smtp-from", "alerts@acme.example",
                    "--smtp-user", "alerts", "--smtp-password-file", pw,
                    "--smtp-ca", ca)
    st, doc = srv.api("POST", "notify/test", A, {"rule": r1["id"]})
    res = {x["channel"]: x for x in doc.get("results", [])}
    check(res.get("smtp", {}).get("ok") is False and
          res["smtp"]["retry"] is True and rogue.received() == [] and
          "certificate" in res["smtp"]["detail"],
          "an untrusted certificate: refused, nothing sent %r" %
          (res.get("smtp"),))
    rogue.stop()
    smtp.stop()
    robots.stop()
done()
