"""Issue 19's last open pieces, black-box against a real sigild:
GET /api/v1/stats/overview?compare=previous (the period of the same
length just before, computed on the server with the same zone rules:
dates and day edges take tz, instants never move), with scans made in
both periods by a test build (FAULT=1) whose clock SIGIL_TEST_CLOCK_SHIFT
moves back; the webhook list paged with limit/after/next past 1,000; and
GET /admin/me's brand base_url."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, admin_login, check, done  # noqa: E402

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
UTC = datetime.timezone.utc
FAULT_BIN = os.environ.get("FAULT_BIN")


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=UTC)


def flip(path):
    last = path[-1]
    return path[:-1] + ("0" if last != "0" else "1")


def midnight(date, tz):
    """The UTC instant of date's local midnight in zone tz (hours)."""
    return datetime.datetime.combine(date, datetime.time(), UTC) - tz * HOUR


def local_date(t, tz):
    return (t + tz * HOUR).date()


if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()

with Env() as env:
    _, paths = env.setup_brand("acme", count=20)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, bpaths = env.setup_brand("beta", "https://BETA.EXAMPLE", sku="B1",
                                count=5, init=False)
    A = env.token("acme", "analyst")
    B = env.token("beta", "analyst")
    sigiltest.BIN = FAULT_BIN

    # What was scanned when (the real instant moved by the shift), so
    # every expectation is counted from the instants, whatever the hour.
    made = {"acme": [], "beta": [], "fake": []}
    nxt = iter(paths)

    def phase(shift_s, acme, beta=0, fakes=0):
        if shift_s:
            os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(shift_s)
        else:
            os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
        srv = env.start("--api-rate-limit", "0")
        shift = datetime.timedelta(seconds=shift_s)
        for _ in range(acme):
            st, doc, _ = srv.scan(next(nxt))
            check(st == 200 and doc["verdict"] == "genuine",
                  "a genuine acme scan (clock %+ds)" % shift_s)
            made["acme"].append(datetime.datetime.now(UTC) + shift)
        for i in range(beta):
            st, doc, _ = srv.scan(bpaths[i])
            made["beta"].append(datetime.datetime.now(UTC) + shift)
        for i in range(fakes):
            st, doc, _ = srv.scan(flip(paths[-1 - i]))
            check(st == 200 and doc["verdict"] == "counterfeit",
                  "a forged acme tag (clock %+ds)" % shift_s)
            made["fake"].append(datetime.datetime.now(UTC) + shift)
        return srv

    # Three days back: 4 acme scans, 2 of beta, 1 fake; 26 hours back: 2;
    # now: 3 (the last server stays up for the queries).
    phase(-3 * 86400, 4, beta=2, fakes=1).stop()
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)
    phase(-26 * 3600, 2).stop()
    srv = phase(0, 3)
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)

    def count(what, frm, to):
        return sum(1 for t in made[what] if frm <= t < to)

    def ov(q, tok=A):
        return srv.api("GET", "stats/overview?" + q, tok)

    # ---- by day with dates: local days of tz, the days before ----
    for tz in (8, -5, 0):
        today = local_date(datetime.datetime.now(UTC), tz)
        frm, to = today - 2 * DAY, today
        st, d = ov("bucket=day&tz=%d&from=%s&to=%s&compare=previous" % (
            tz, frm, to))
        p = d.get("previous") or {}
        cf, ct = midnight(frm, tz), midnight(to + DAY, tz)
        pf, pt = midnight(frm - 3 * DAY, tz), cf
        check(st == 200 and parse(d["from"]) == cf and
              parse(d["to"]) == ct, "tz=%d: 3 local days (%s..%s)" % (
                  tz, d.get("from"), d.get("to")))
        check(p.get("from") and parse(p["from"]) == pf and
              parse(p["to"]) == pt,
              "tz=%d: previous is the 3 local days before (%s..%s)" % (
                  tz, p.get("from"), p.get("to")))
        want_c, want_p = count("acme", cf, ct), count("acme", pf, pt)
        check(d["totals"]["scans"] == want_c and
              p["totals"]["scans"] == want_p and want_p == 4 and
              want_c == 5, "tz=%d: scans now %d, before %d (%s / %s)" % (
                  tz, want_c, want_p, d["totals"]["scans"],
                  p["totals"]["scans"]))
        check(p["totals"]["counterfeit"] == count("fake", pf, pt) == 1 and
              d["totals"]["counterfeit"] == 0,
              "tz=%d: the fake counted in the previous period only" % tz)
        check(p["totals"]["first_scans"] == want_p and
              set(p["totals"]) == set(d["totals"]),
              "tz=%d: previous totals have every KPI" % tz)
        check(len(p.get("series", [])) == 3 and
              parse(p["series"][0]["t"]) == pf and
              sum(s["scans"] for s in p["series"]) == want_p,
              "tz=%d: previous series: 3 days from its start" % tz)

    # ---- by hour with instants: tz never moves them ----
    H = datetime.datetime.now(UTC).replace(minute=0, second=0,
                                           microsecond=0)
    frm, to = H - 23 * HOUR, H + HOUR
    for tz in ("8", "-5", "%2B8"):
        st, d = ov("bucket=hour&tz=%s&from=%s&to=%s&compare=previous" % (
            tz, iso(frm), iso(to)))
        p = d.get("previous") or {}
        check(st == 200 and parse(p["from"]) == frm - 24 * HOUR and
              parse(p["to"]) == frm and len(p["series"]) == 24,
              "tz=%s: the 24 hours before, instants unmoved (%s..%s)" % (
                  tz, p.get("from"), p.get("to")))
        want_c, want_p = count("acme", frm, to), count("acme", frm - 24 * HOUR,
                                                       frm)
        check(want_c == 3 and want_p == 2 and
              d["totals"]["scans"] == want_c and
              p["totals"]["scans"] == want_p,
              "tz=%s: last 24 h %d scans, the 24 before %d (%s / %s)" % (
                  tz, want_c, want_p, d["totals"]["scans"],
                  p["totals"]["scans"]))
    # Without compare the answer is as before: no previous.
    st, d = ov("bucket=hour&from=%s&to=%s" % (iso(frm), iso(to)))
    check(st == 200 and "previous" not in d and d["totals"]["scans"] == 3,
          "no compare: no previous")
    # The default ranges: the 30 days before the last 30, 48 h before 48.
    st, d = ov("bucket=day&tz=8&compare=previous")
    p = d["previous"]
    check(st == 200 and p["to"] == d["from"] and
          parse(d["from"]) - parse(p["from"]) == 30 * DAY and
          p["totals"]["scans"] == 0 and d["totals"]["scans"] == 9,
          "default by day: the 30 days before (%s..%s)" % (p["from"], p["to"]))
    st, d = ov("bucket=hour&compare=previous")
    p = d["previous"]
    check(st == 200 and p["to"] == d["from"] and len(p["series"]) == 48 and
          d["totals"]["scans"] == 5 and p["totals"]["scans"] == 4 and
          p["totals"]["counterfeit"] == 1,
          "default by hour: the 48 hours before, 72 h ago in it (%s / %s)" % (
              d["totals"]["scans"], p["totals"]["scans"]))

    # ---- brand isolation ----
    today = local_date(datetime.datetime.now(UTC), 8)
    q = "bucket=day&tz=8&from=%s&to=%s&compare=previous" % (
        today - 2 * DAY, today)
    st, db = ov(q, B)
    check(st == 200 and db["totals"]["scans"] == 0 and
          db["previous"]["totals"]["scans"] == 2 and
          db["previous"]["totals"]["counterfeit"] == 0,
          "beta: its own 2 scans before, none of acme's (%s / %s)" % (
              db["totals"], db["previous"]["totals"]))
    st, d = ov(q)
    check(d["previous"]["totals"]["scans"] == 4,
          "acme: none of beta's in its previous period")

    # ---- bad input: 400, nothing else answered ----
    for bad, code in [("compare=next", "bad_query"),
                      ("compare=", "bad_query"),
                      ("compare=PREVIOUS", "bad_query"),
                      ("compare=previous2", "bad_query"),
                      ("compare=" + "p" * 1500, "bad_query"),
                      ("compare=previous&from=1970-01-02&to=1970-01-05",
                       "bad_range"),
                      ("compare=previous&tz=15", "bad_query"),
                      ("compare=previous&from=2026-12-09&to=2026-12-01",
                       "bad_range")]:
        st, d = ov("bucket=day&" + bad)
        check(st == 400 and d["error"]["code"] == code,
              "refused: %s (%s %s)" % (bad[:40], st, d.get("error")))
    st, d = srv.api("GET", "stats/overview?compare=previous")
    check(st == 401, "no token: 401")
    srv.stop()

# ---- webhook list paging and /admin/me's base_url ----
sigiltest.BIN = os.environ.get("BIN") or sigiltest.BIN
with Env() as env:
    env.setup_brand("acme", count=2)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE/r/")
    A = env.token("acme", "admin")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0", "--webhook-allow",
                    "127.0.0.0/8")
    url = "http://127.0.0.1:9/hook"
    ids = []
    for i in range(1001):
        st, w = srv.api("POST", "webhooks", A, {"url": url,
                                                "events": ["scan"]})
        if st != 201:
            check(False, "webhook %d: %s %s" % (i, st, w))
            break
        ids.append(w["id"])
    st, wb = srv.api("POST", "webhooks", B, {"url": url, "events": ["claim"]})
    check(st == 201, "beta's one webhook")
    st, d = srv.api("GET", "webhooks", A)
    check(st == 200 and [w["id"] for w in d["webhooks"]] == ids[:1000] and
          d["next"] == ids[999],
          "default: the first 1,000 in id order and next (%s)" % d.get("next"))
    st, d = srv.api("GET", "webhooks?after=%d" % ids[999], A)
    check(st == 200 and [w["id"] for w in d["webhooks"]] == ids[1000:] and
          d["next"] is None, "after next: the last one, next null")
    got, after, pages = [], None, 0
    while pages < 20:
        st, d = srv.api("GET", "webhooks?limit=300" + (
            "&after=%d" % after if after else ""), A)
        if st != 200:
            break
        got += [w["id"] for w in d["webhooks"]]
        pages += 1
        after = d["next"]
        if after is None:
            break
    check(got == ids and pages == 4, "limit=300: 4 pages, every id once "
          "(%d ids, %d pages)" % (len(got), pages))
    st, d = srv.api("GET", "webhooks?limit=1001", A)
    check(st == 422, "limit 1001: 422 (%s)" % st)
    for bad in ("limit=0", "limit=x", "limit=", "after=0", "after=x",
                "after=-1", "after=" + "9" * 30):
        st, d = srv.api("GET", "webhooks?" + bad, A)
        check(st == 422 and d["error"]["code"] == "invalid",
              "refused: %s (%s)" % (bad, st))
    st, d = srv.api("GET", "webhooks", B)
    check(st == 200 and [w["id"] for w in d["webhooks"]] == [wb["id"]] and
          d["next"] is None, "beta lists its own one, no next")
    st, d = srv.api("GET", "webhooks?after=0&limit=5", B)
    check(st == 422, "after=0 refused for beta too")
    st, d = srv.api("GET", "webhooks?limit=5", B)
    check(st == 200 and len(d["webhooks"]) == 1, "beta never sees acme's")

    # /admin/me: the brand's resolver base.
    pw = "correct horse battery staple"
    for brand, base in (("acme", "https://ACME.EXAMPLE"),
                        ("beta", "https://BETA.EXAMPLE/r/")):
        email = "ann@%s.example" % brand
        env.sigil("user", "add", "--brand", brand, "--email", email,
                  "--role", "analyst", stdin=pw + "\n")
        st, sess = admin_login(srv, email, pw, "10.12")
        check(sess is not None, "%s: logged in (%s)" % (brand, st))
        st, _, raw = srv.request("GET", "/admin/me", headers={
            "Cookie": "sg_s=" + sess[0]})
        me = json.loads(raw)
        check(st == 200 and me["brand"]["base_url"].lower().rstrip("/") ==
              base.lower().rstrip("/") and me["brand"]["name"] == brand,
              "%s: /admin/me names its base_url %r" % (
                  brand, me["brand"].get("base_url")))
    srv.stop()
done()
