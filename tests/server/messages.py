"""Lifecycle messages (issue 21, part 3) against the real sigild (the fault
build, whose clock SIGIL_TEST_CLOCK_SHIFT moves) and a local SMS gateway
that counts what it receives.

A brand's customers log in by phone; some grant marketing consent, some
do not, one grants and then withdraws. Definitions are checked strictly
(every kind of bad input a 422 that stores nothing; an analyst may not
write). A dry run counts the audience, the consenting, the capped and
those in quiet hours and renders a preview, sending nothing. A scheduled
message to a saved segment (the six customers who also scanned a W2)
then reaches exactly its four consenting members, once each, signed as
the gateway expects; the delivery status and the metrics say so, and
the segment cannot be deleted while the message uses it. A second
message, to everyone, under a one-a-day cap reaches only the one
consenting customer who had none today. An erasure cuts a customer's
rows from the outbox. A message inside
quiet hours (21:00-09:00 China time, the clock moved to 22:00) is
queued and deferred, not dropped: nothing arrives until the clock is at
09:30, then all of it but to a customer who withdrew consent
meanwhile (asked again when the message goes). Finally a message to 63
consenting customers through a slow gateway is cut by kill -9 mid-send: after the restart
every customer has it at least once, and only those whose delivery was
not yet recorded as sent may have it twice.
"""
import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402
from msgfix import Gateway, secret_file, wait  # noqa: E402

FAULT_BIN = os.environ.get("FAULT_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "fault", "bin")
UTC = datetime.timezone.utc
CN = datetime.timezone(datetime.timedelta(hours=8))
MARK = "【新春】"


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()
sigiltest.BIN = FAULT_BIN

with Env() as env:
    _, paths = env.setup_brand("acme", count=120)
    _, w2 = env.setup_brand("acme", sku="W2", count=10, init=False)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    R = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    secret = secret_file(env)
    gw = Gateway()
    args = ("--sms-webhook", gw.url(), "--sms-secret-file", secret,
            "--webhook-allow", "127.0.0.0/8", "--api-rate-limit", "0",
            "--trusted-proxy", "127.0.0.1/32", "--otp-per-hour", "100000")
    srv = env.start(*args)
    st, d = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": "说明", "en": "Notice"}})
    check(st == 201, "a privacy notice published")

    def login(i, marketing):
        """Customer i (phone 1390000xxxx) by a scan and a phone login."""
        phone = "8613900%06d" % i
        ip = "10.%d.%d.1" % (i // 200, i % 200)
        _, _, dev = srv.scan(paths[i], headers={"X-Forwarded-For": ip})
        h = {"Accept": "application/json", "Cookie": "sg_d=" + dev,
             "X-Forwarded-For": ip}
        st, _, _ = srv.request("POST", "/api/v1/customers/otp", body={
            "phone": phone[2:], "code": paths[i], "notice_version": 1},
            headers=h)
        assert st == 202, st
        assert wait(lambda: gw.otp(phone) is not None, 10), "otp"
        body = {"phone": phone[2:], "code": paths[i], "otp": gw.otp(phone),
                "notice_version": 1}
        if marketing:
            body["grant"] = ["marketing"]
        st, _, raw = srv.request("POST", "/api/v1/customers/verify",
                                 body=body, headers=h)
        assert st == 200, (st, raw)
        return json.loads(raw)["customer"]["id"], "+" + phone, h, dev

    people = {}     # customer id -> phone
    consenting = set()
    in_segment = set()
    heads = {}
    for i in range(10):
        cid, phone, h, dev = login(i, i % 3 != 0)
        people[cid] = phone
        heads[phone] = h
        if i % 3 != 0:
            consenting.add(phone)
        if i < 6:
            # customers 0..5 also scan a W2: the segment
            srv.scan(w2[i], device=dev,
                     headers={"X-Forwarded-For": "10.0.%d.1" % i})
            in_segment.add(phone)
        if i == 8:
            # grants, then withdraws: no longer in the audience
            st, _, _ = srv.request("POST", "/api/v1/me/consents?brand=acme",
                                   body={"withdraw": ["marketing"],
                                         "notice_version": 1}, headers=h)
            check(st == 201, "customer 8 withdraws marketing consent")
            consenting.discard(phone)
    check(len(people) == 10 and len(consenting) == 5,
          "10 customers, 5 with marketing consent now")
    st, seg = srv.api("POST", "segments", A, {
        "name": "W2 scanners", "criteria": {"products_scanned": ["W2"]}})
    check(st == 201, "a saved segment: the customers who scanned W2 (%s)" %
          st)
    st, d = srv.api("POST", "segments/count", R,
                    {"products_scanned": ["W2"]})
    check(st == 200 and d["count"] == 6, "the segment holds 6 customers")
    reach = consenting & in_segment

    # ---- bad definitions: 422, nothing stored ----
    good = {"name": "新春问候", "channel": "sms", "audience": seg["id"],
            "text": MARK + "{name}您好，{brand}祝您新春快乐！积分{points}",
            "schedule": {"at": iso(datetime.datetime.now(UTC))},
            "cap": {"per_days": 1, "max": 1}}
    bad = [({}, "empty"),
           (dict(good, name=""), "an empty name"),
           (dict(good, colour="red"), "an unknown key"),
           (dict(good, channel="fax"), "an unknown channel"),
           (dict(good, text="hi {nickname}"), "an unknown placeholder"),
           (dict(good, text="a\u202eb"), "a bidi control"),
           (dict(good, text="x" * 501), "501 characters"),
           (dict(good, schedule={"at": "tomorrow"}), "a bad time"),
           (dict(good, trigger={"birthday": True}), "schedule and trigger"),
           (dict({k: v for k, v in good.items() if k != "schedule"}),
            "neither schedule nor trigger"),
           (dict({k: v for k, v in good.items() if k != "schedule"},
                 trigger={"no_scan": 0}), "no_scan 0 days"),
           (dict({k: v for k, v in good.items() if k != "schedule"},
                 trigger={"sunset": 1}), "an unknown trigger"),
           (dict(good, cap={"per_days": 1}), "a cap without max"),
           (dict(good, cap={"per_days": 1, "max": 0}), "a cap of 0"),
           (dict(good, quiet_hours={"from": "25:00", "to": "09:00"}),
            "a quiet hour of 25:00"),
           (dict(good, quiet_hours={"from": "09:00", "to": "09:00"}),
            "empty quiet hours"),
           (dict(good, audience=77), "a segment that does not exist"),
           (dict(good, audience=-1), "a negative audience"),
           (dict(good, channel="wechat_template"), "WeChat without template"),
           (dict(good, channel="webhook"), "webhook without subscription"),
           (dict(good, channel="webhook", webhook={"subscription": 5}),
            "a webhook that does not exist"),
           (dict(good, wechat={"template_id": "T1"}), "wechat with sms"),
           (dict(good, active="yes"), "active not a boolean")]
    for body, why in bad:
        st, d = srv.api("POST", "messages", A, body)
        check(st == 422 and d["error"]["code"] == "invalid",
              "%s: 422 (%s)" % (why, d["error"]["message"] if st == 422
                                else st))
    st, d = srv.api("POST", "messages", A, b"{not json")
    check(st == 400, "a body that is not JSON: 400")
    st, d = srv.api("POST", "messages", R, good)
    check(st == 403, "an analyst may not define messages")
    st, d = srv.api("GET", "messages", R)
    check(st == 200 and d["messages"] == [], "none of them was stored")
    check(srv.api("GET", "messages/1", A)[0] == 404 and
          srv.api("GET", "messages/x", A)[0] == 404, "GET of none: 404")

    # ---- dry run: counts and a preview, nothing sent ----
    st, d = srv.api("POST", "messages/dry-run", OP, good)
    check(st == 200 and d["audience"] == 6 and d["due"] == 6 and
          d["consenting"] == 4 and d["capped"] == 0 and d["quiet"] == 0 and
          d["would_send"] == 4, "dry run: 6 in the segment, 4 consenting, "
          "4 would get it (%s)" % {k: d.get(k) for k in (
              "audience", "consenting", "capped", "would_send")})
    pv = d.get("preview", [])
    check(len(pv) == 4 and all(people[p["customer"]] in reach
                               for p in pv) and
          pv[0]["text"] == MARK + "会员您好，acme祝您新春快乐！积分0",
          "the preview renders the text for consenting customers "
          "(%r)" % (pv[0]["text"] if pv else None))
    time.sleep(0.5)
    check(gw.marketing(MARK) == [], "a dry run sends nothing")

    # ---- a scheduled message reaches exactly the consenting members ----
    st, m1 = srv.api("POST", "messages", OP, good)
    check(st == 201 and m1["id"] == 1 and m1["channel"] == "sms" and
          m1["cap"] == {"per_days": 1, "max": 1} and m1["runs"] == 0 and
          m1["audience"] == seg["id"], "the message is stored (201)")
    check(wait(lambda: len(gw.marketing(MARK)) >= 4, 20),
          "the gateway received the messages")
    time.sleep(1.5)
    got = gw.marketing(MARK)
    check(sorted(p for p, _ in got) == sorted(reach),
          "exactly the 4 consenting members of the segment got it, once "
          "each (%d)" % len(got))
    st, d = srv.api("DELETE", "segments/%d" % seg["id"], A)
    check(st == 409 and d["error"]["code"] == "segment_in_use",
          "the segment a message uses cannot be deleted (409)")
    check(gw.bad == 0, "every request signed with the gateway's secret")
    check(all(t == MARK + "会员您好，acme祝您新春快乐！积分0" for _, t in got),
          "the text rendered for each")
    st, d = srv.api("GET", "messages/1/deliveries", R)
    rows = d["deliveries"]
    check(st == 200 and len(rows) == 4 and all(
        r["state"] == "sent" and r["channel"] == "sms" and
        r["last_status"] == 200 and r["sent_at"] for r in rows) and
        sorted(people[r["customer"]] for r in rows) == sorted(reach),
        "delivery status: 4 sent, to the consenting members")
    st, d = srv.api("GET", "messages/1", R)
    check(d["runs"] == 1 and d["delivery"]["sent"] == 4 and
          d["last_run"] is not None, "the message ran once: 4 sent")
    st, _, raw = srv.request("GET", "/metrics")
    text = raw.decode()
    check('sigil_messages_sent_total{channel="sms"} 4' in text and
          'sigil_messages_queued_total{channel="sms"} 4' in text and
          "sigil_messages_lag_seconds 0.000" in text,
          "metrics: 5 queued and sent by sms, no lag")
    log = srv.logtext()
    check(all(p[1:] not in log for p in people.values()),
          "no phone number in the log")
    check(srv.api("GET", "messages/1", B)[0] == 404 and
          srv.api("GET", "messages", B)[1]["messages"] == [],
          "another brand sees none of it")

    # ---- the cap: a second message the same day, to everyone ----
    second = dict(good, name="第二条", text=MARK + "再次问候")
    del second["audience"]
    st, d = srv.api("POST", "messages/dry-run", OP, second)
    check(st == 200 and d["audience"] == 10 and d["consenting"] == 5 and
          d["capped"] == 4 and d["would_send"] == 1,
          "dry run to everyone: 5 consenting, the 4 who had one today "
          "capped, 1 would get it")
    st, m2 = srv.api("POST", "messages", OP, second)
    check(st == 201, "a second message stored")
    check(wait(lambda: srv.api("GET", "messages/%d" % m2["id"], R)[1]
               ["runs"] == 1, 10), "it ran")
    time.sleep(1.5)
    check(sorted(p for p, _ in gw.marketing("再次问候")) ==
          sorted(consenting - reach),
          "over the cap: only the consenting customer outside the segment "
          "got the second message")

    # ---- the erasure cuts a customer's messages ----
    victim = next(c for c, p in people.items() if p in consenting)
    st, _ = srv.api("POST", "customers/%d/erase" % victim, A)
    check(st == 200, "a consenting customer erased")
    st, d = srv.api("GET", "outbox?customer=%d" % victim, R)
    check(st == 200 and d["deliveries"] == [],
          "their delivered message is cut from the outbox")
    st, d = srv.api("GET", "outbox?kind=spam", R)
    check(st == 422, "an unknown kind filter: 422")
    consenting.discard(people[victim])
    srv.stop()

    # ---- quiet hours: deferred to their end, not dropped ----
    now = datetime.datetime.now(UTC)
    local = now.astimezone(CN)
    at22 = local.replace(hour=22, minute=0, second=0, microsecond=0)
    if at22 <= local:
        at22 += datetime.timedelta(days=1)
    shift = int((at22 - local).total_seconds())
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(shift)
    srv = env.start(*args)
    quiet = dict(second, name="夜间", text=MARK + "夜间消息",
                 schedule={"at": iso(at22)},
                 quiet_hours={"from": "21:00", "to": "09:00"}, cap=None)
    del quiet["cap"]
    st, d = srv.api("POST", "messages/dry-run", OP, quiet)
    check(st == 200 and d["quiet"] == 4 and d["would_send"] == 4 and
          all(p["at"].startswith((at22 + datetime.timedelta(hours=11))
                                 .astimezone(UTC).strftime("%Y-%m-%dT01:00"))
              for p in d["preview"]),
          "dry run at 22:00 China time: 4 deferred to 09:00 (%s)" %
          ([p["at"] for p in d.get("preview", [])][:1]))
    st, m3 = srv.api("POST", "messages", OP, quiet)
    check(st == 201, "a message inside quiet hours stored")
    check(wait(lambda: srv.api("GET", "messages/%d" % m3["id"], R)[1]
               ["runs"] == 1, 10), "it ran at 22:00")
    time.sleep(1.5)
    check(gw.marketing("夜间消息") == [], "nothing is sent in quiet hours")
    st, d = srv.api("GET", "messages/%d/deliveries" % m3["id"], R)
    check(len(d["deliveries"]) == 4 and all(
        r["state"] == "queued" for r in d["deliveries"]),
        "4 queued, deferred")
    quitter = sorted(consenting)[0]
    st, _, _ = srv.request("POST", "/api/v1/me/consents?brand=acme",
                           body={"withdraw": ["marketing"],
                                 "notice_version": 1},
                           headers=heads[quitter])
    check(st == 201, "one of them withdraws marketing consent meanwhile")
    consenting.discard(quitter)
    srv.stop()
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(shift + 11 * 3600 + 1800)
    srv = env.start(*args)
    check(wait(lambda: len(gw.marketing("夜间消息")) >= 3, 20),
          "at 09:30 the deferred messages go out")
    time.sleep(1)
    check(sorted(p for p, _ in gw.marketing("夜间消息")) ==
          sorted(consenting), "... to the 3 still consenting, once each")
    st, d = srv.api("GET", "messages/%d/deliveries?state=failed" %
                    m3["id"], R)
    check([people[r["customer"]] for r in d["deliveries"]] == [quitter],
          "the one who withdrew meanwhile got nothing: failed")
    srv.stop()
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)

    # ---- kill -9 mid-send: at least once, duplicates only in flight ----
    srv = env.start(*args)
    many = {}
    for i in range(10, 70):
        cid, phone, _, _ = login(i, True)
        many[cid] = phone
    gw.delay = 0.05
    crash = dict(second, name="大促", text=MARK + "大促通知", cap=None)
    del crash["cap"]
    st, m4 = srv.api("POST", "messages", OP, crash)
    check(st == 201, "a message to 63 consenting customers")
    check(wait(lambda: len(gw.marketing("大促通知")) >= 20, 30),
          "sending is under way")
    st, d = srv.api("GET", "messages/%d/deliveries?limit=1000" % m4["id"], R)
    sent_before = {people.get(r["customer"]) or many[r["customer"]]
                   for r in d["deliveries"] if r["state"] == "sent"}
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    got_at_kill = len(gw.marketing("大促通知"))
    check(0 < len(sent_before) < 63 and got_at_kill < 63,
          "killed mid-send (%d recorded sent, %d received)" %
          (len(sent_before), got_at_kill))
    srv = env.start(*args)
    check(wait(lambda: srv.api("GET", "messages/%d" % m4["id"], R)[1]
               ["delivery"]["sent"] == 63, 60), "after the restart all 63 "
          "are recorded as sent")
    time.sleep(1)
    got = [p for p, _ in gw.marketing("大促通知")]
    want = set(many.values()) | consenting
    check(set(got) == want and len(want) == 63,
          "every one of the 63 got it at least once")
    twice = {p for p in got if got.count(p) > 1}
    check(not (twice & sent_before) and all(got.count(p) <= 2 for p in got),
          "duplicates (%d) only for deliveries not yet recorded as sent, "
          "never more than one" % len(twice))
    srv.stop()

done()
