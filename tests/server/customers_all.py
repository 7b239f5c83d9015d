"""2,000 customers (issue 19 item 1): the counts, the segment and tier
charts' numbers and the CSV export cover every one of them, past the
list's 1,000-a-page limit; the list pages on with `next`. Customers are
made the real way (scan, one-time code, login) against a real sigild."""
import csv
import datetime
import io
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, Outbox, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
BROWSER = os.path.join(ROOT, "tests", "browser", "customers.js")
PW = "correct horse battery staple"
N = 2000
RICH = 40          # customers given 600 points: Silver (500+)
ERASED = 3


def day(offset):
    return (datetime.date.today() +
            datetime.timedelta(days=offset)).isoformat()


with Env() as env:
    batch, paths = env.setup_brand("acme", count=RICH + 10)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, bpaths = env.setup_brand("beta", "https://BETA.EXAMPLE", sku="B1",
                                count=2, init=False)
    A = env.token("acme", "admin")
    env.sigil("user", "add", "--brand", "acme", "--email", "ana@acme.test",
              "--role", "analyst", stdin=PW + "\n")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32", "--otp-per-hour", "10000")
    st, camp = srv.api("POST", "campaigns", A, {
        "name": "silver", "skus": ["W1"], "starts": day(-1), "ends": day(30),
        "points": 600})
    check(st in (200, 201), "a campaign of 600 points (%d %s)" % (st, camp))

    code_for = Outbox(env.data).code

    def post(path, body, device, ip):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + device,
             "X-Forwarded-For": ip}
        st, _, raw = srv.request("POST", path, body=body, headers=h)
        return st, json.loads(raw)

    ids = []
    for i in range(N):
        ip = "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)
        code = paths[i] if i < RICH else paths[RICH + i % 10]
        _, doc, dev = srv.scan(code, headers={"X-Forwarded-For": ip})
        phone = "139%08d" % i
        st, d = post("/api/v1/customers/otp", {"phone": phone, "code": code},
                     dev, ip)
        if st != 202:
            check(False, "otp %d: %d %s" % (i, st, d))
            break
        st, d = post("/api/v1/customers/verify", {
            "phone": phone, "code": code, "otp": code_for(phone)}, dev, ip)
        if st != 200:
            check(False, "verify %d: %d %s" % (i, st, d))
            break
        ids.append(d["customer"]["id"])
        if i < RICH:
            st, d = post("/api/v1/claims", {"code": code}, dev, ip)
            if st != 201:
                check(False, "claim %d: %d %s" % (i, st, d))
    check(len(set(ids)) == N, "%d customers logged in" % len(set(ids)))
    for cid in ids[-ERASED:]:
        st, _ = srv.api("POST", "customers/%d/erase" % cid, A, {})
        check(st == 200, "customer %d erased" % cid)

    # ---- the list pages on past 1,000 ----
    seen, after, pages = [], None, 0
    while True:
        st, d = srv.api("GET", "customers?limit=1000" +
                        ("&after=%d" % after if after else ""), AN)
        if st != 200:
            break
        pages += 1
        seen += [c["id"] for c in d["customers"]]
        after = d["next"]
        if after is None:
            break
    check(pages >= 2 and sorted(seen) == sorted(ids),
          "the list, 1,000 a page, reaches all %d in %d pages" % (
              len(seen), pages))

    # ---- counts on the server ----
    st, s = srv.api("GET", "customers/summary", AN)
    live = N - ERASED
    check(st == 200 and s["total"] == N and s["erased"] == ERASED,
          "summary: %d customers, %d erased (%s)" % (
              s.get("total"), s.get("erased"), st))
    check(sum(s["segments"].values()) == live and
          sum(s["tiers"].values()) == live and
          sum(s["roles"].values()) == live,
          "segments, tiers and roles each add up to the %d live ones" % live)
    check(s["tiers"].get("银 Silver") == RICH and
          s["tiers"].get("铜 Bronze") == live - RICH and
          s["tiers"].get("金 Gold") == 0,
          "tiers: %d Silver, the rest Bronze, Gold shown as 0: %s" % (
              RICH, s["tiers"]))
    check(s["segments"].get("new") == live and
          set(s["segments"]) >= {"champions", "loyal", "new", "promising",
                                 "at_risk", "hibernating"},
          "segments: every one named, all new: %s" % s["segments"])
    st, sb = srv.api("GET", "customers/summary", B)
    check(st == 200 and sb["total"] == 0, "beta's summary: none of acme's")

    # ---- the CSV export: every customer ----
    st, hdrs, raw = srv.request("GET", "/api/v1/customers/export.csv",
                                headers={"Authorization": "Bearer " + AN})
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/csv")
          and "customers.csv" in hdrs.get("Content-Disposition", ""),
          "export.csv: a CSV attachment")
    check(text.startswith("\ufeff") and rows[0][:5] ==
          ["id", "phone", "role", "tier", "segment"], "BOM and header")
    body = rows[1:]
    check(len(body) == N and sorted(int(r[0]) for r in body) == sorted(ids),
          "all %d customers exported, each once (%d rows)" % (N, len(body)))
    check(sum(1 for r in body if r[3] == "银 Silver") == RICH and
          sum(1 for r in body if r[10]) == ERASED,
          "the export's tiers and erasures match the summary")
    check(all("*" in r[1] for r in body if not r[10]),
          "phones masked in the export")
    st, _, _ = srv.request("GET", "/api/v1/customers/export.csv")
    check(st == 401, "export.csv needs a token or session")
    st, _, raw = srv.request("GET", "/api/v1/customers/export.csv",
                             headers={"Authorization": "Bearer " + B})
    check(st == 200 and len(raw.decode().strip().split("\n")) == 1,
          "beta's export: the header only")
    st, d = srv.api("GET", "customers/summary?x=1", AN)
    check(st == 200, "unknown query parameters are ignored")
    st, d = srv.api("POST", "customers/summary", A, {})
    check(st in (404, 405), "POST summary refused (%d)" % st)

    # ---- the customers page in Chromium (zh-CN, UTC+8) ----
    r = subprocess.run(["node", BROWSER, "http://127.0.0.1:%d" % srv.port,
                        "ana@acme.test", ART, str(N), str(N - ERASED),
                        str(RICH)],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, SIGIL_TEST_PASSWORD=PW))
    print(r.stdout)
    print(r.stderr[-3000:])
    try:
        facts = json.loads(r.stdout.strip().split("\n")[-1])
    except ValueError:
        facts = {"failures": -1}
    check(r.returncode == 0 and facts.get("failures") == 0,
          "browser: the page's counts, paging and CSV cover all %d" % N)
    check(not facts.get("console_errors"), "browser: no console errors (%s)"
          % facts.get("console_errors"))

    def api_ids(q):
        out, after = [], None
        while True:
            st, d = srv.api("GET", "customers?limit=1000&" + q + (
                "&after=%d" % after if after else ""), AN)
            assert st == 200, (st, d)
            out += [c["id"] for c in d["customers"]]
            after = d["next"]
            if after is None:
                return out
    silver = api_ids("tier=" + urllib.parse.quote("银 Silver"))
    check(len(silver) == RICH and facts.get("silver_ids") == silver,
          "browser: the Silver bar listed exactly the API's %d Silver "
          "customers" % len(silver))
    check(facts.get("silver_new_ids") == api_ids(
        "tier=" + urllib.parse.quote("银 Silver") + "&segment=new"),
          "browser: 新客 and 银 Silver as the API filters them")
done()
