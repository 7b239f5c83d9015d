"""GET /api/v1/exports/scans (issue 19 item 5: scan export without the
CLI), against a real sigild holding thousands of scans and 2,000
customers made the real way (tests/lib/peoplefix.py): the file holds
every scan of the brand, line for line what `sigil export scans` writes
for them (the two share scan_export.c); NDJSON the same; times local to
tz; the header in Chinese with machine values; the date range, verdict
and product filters; bad input a 400 that changes nothing; brand
isolation; roles; every export logged with its actor."""
import csv
import datetime
import io
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
import peoplefix  # noqa: E402
from peoplefix import local_day  # noqa: E402

N = int(os.environ.get("PEOPLE_N", "2000"))
HEAD_EN = ("scan_id,brand,serial,batch,time,verdict,bot,first_scan,device,"
           "ip,lat,lng,accuracy_m,diversion,country,province,city,"
           "province_zh,city_zh,region_source")


with Env() as env:
    P = peoplefix.build(env, N)
    srv = P.srv

    def export(q, tok=None):
        h = {"Authorization": "Bearer " + (tok or P.operator)}
        st, hdrs, raw = srv.request("GET", "/api/v1/exports/scans" +
                                    ("?" + q if q else ""), headers=h,
                                    timeout=120)
        return st, hdrs, raw

    # The CLI's file of the whole log, acme's lines: what the API must give.
    cli = env.sigil("export", "scans", "--format", "csv").stdout
    cli_lines = cli.split("\n")
    check(cli_lines[0] == HEAD_EN, "the CLI's header as before")
    acme_cli = [ln for ln in cli_lines[1:] if ln.split(",")[1:2] == ["acme"]]
    check(len(acme_cli) == P.scans_acme,
          "the CLI sees %d acme scans (%d made)" % (len(acme_cli),
                                                   P.scans_acme))

    st, hdrs, raw = export("")
    text = raw.decode()
    lines = text.split("\n")
    check(st == 200 and hdrs.get("Content-Type") ==
          "text/csv; charset=utf-8" and
          'filename="scans.csv"' in hdrs.get("Content-Disposition", "") and
          hdrs.get("Cache-Control") == "no-store",
          "200 text/csv, an attachment, not stored")
    check(lines[0] == HEAD_EN and lines[-1] == "",
          "the English header, one line a scan")
    check(lines[1:-1] == acme_cli,
          "every one of the %d scans, line for line the CLI's (%d)" % (
              len(acme_cli), len(lines) - 2))
    rows = list(csv.DictReader(io.StringIO(text)))
    check(all(r["brand"] == "acme" for r in rows), "acme's scans only")

    # ---- NDJSON ----
    st, hdrs, raw = export("format=ndjson")
    objs = [json.loads(x) for x in raw.decode().split("\n") if x]
    check(st == 200 and hdrs.get("Content-Type") == "application/x-ndjson"
          and len(objs) == len(rows) and
          [o["scan_id"] for o in objs] == [r["scan_id"] for r in rows] and
          all(o["verdict"] == r["verdict"] and o["serial"] == int(r["serial"])
              for o, r in zip(objs, rows)),
          "NDJSON: the same scans, one object a line (%d)" % len(objs))
    cli_nd = [json.loads(x) for x in env.sigil(
        "export", "scans").stdout.split("\n") if x]
    check([o for o in cli_nd if o["brand"] == "acme"] == objs,
          "NDJSON line for line the CLI's")

    # ---- zone and language ----
    st, hdrs, raw = export("tz=8&lang=zh")
    text = raw.decode("utf-8")
    zl = text.split("\n")
    check(st == 200 and text.startswith("\ufeff扫码编号,品牌,序列号,批次,时间,"
                                        "结果,机器访问,首次扫码,设备,IP地址"),
          "lang=zh: a byte-order mark and a Chinese header")
    ok = len(zl) == len(lines)
    for a, b in zip(zl[1:-1], lines[1:-1]):
        fa, fb = a.split(","), b.split(",")
        t8 = datetime.datetime.fromisoformat(fa[4])
        tu = datetime.datetime.fromisoformat(fb[4].replace("Z", "+00:00"))
        if not (fa[4].endswith("+08:00") and t8 == tu and
                fa[:4] + fa[5:] == fb[:4] + fb[5:]):
            ok = False
            break
    check(ok, "tz=8: the same instants written +08:00, the values the same "
          "codes (genuine, true/false)")
    st, _, raw = export("tz=-05:30&format=ndjson")
    o = json.loads(raw.decode().split("\n")[0])
    check(o["time"].endswith("-05:30"), "tz=-05:30: %s" % o["time"])

    # ---- filters ----
    def count(q, tok=None):
        st, _, raw = export(q, tok)
        if st != 200:
            return -st
        return len([x for x in raw.decode().split("\n")[1:] if x])

    # (Yesterday on: the data may have been made before a local midnight.)
    check(count("from=%s&tz=8" % local_day(-1)) == len(rows),
          "from yesterday (UTC+8): every scan")
    check(count("from=%s&tz=8" % local_day(1)) == 0,
          "from tomorrow: none (the header only)")
    check(count("to=%s&tz=8" % local_day(-2)) == 0,
          "to the day before yesterday: none")
    check(count("to=%s&tz=8" % local_day(0)) == len(rows),
          "to today, a date including its day: every scan")
    mid = rows[len(rows) // 2]["time"]
    want = len([r for r in rows if r["time"] >= mid])
    check(count("from=" + urllib.parse.quote(mid)) == want,
          "from an instant: the %d scans at or after it" % want)
    check(count("to=" + urllib.parse.quote(mid)) == len(rows) - want,
          "to an instant: the ones before it")
    for v in ("genuine", "suspicious", "counterfeit", "revoked",
              "inactive", "unverified"):
        n = len([r for r in rows if r["verdict"] == v])
        check(count("verdict=" + v) == n, "verdict=%s: %d" % (v, n))
    w1 = len([r for r in rows if r["batch"] == "1"])
    check(w1 == N and count("sku=W1") == w1, "sku=W1: its %d scans" % w1)
    check(count("sku=W2") == len(rows) - w1, "sku=W2: the rest")
    check(count("sku=W2&verdict=genuine&from=%s&tz=8" % local_day(-1)) ==
          len([r for r in rows if r["batch"] != "1" and
               r["verdict"] == "genuine"]), "filters together")

    # ---- bad input: 400, nothing changed ----
    st, stats_before = srv.api("GET", "customers/summary", P.analyst)
    for q in ("format=xml", "format=", "lang=fr", "tz=99", "tz=8:00",
              "from=2026-02-30", "from=today", "to=2026-1-1",
              "from=2026-12-02&to=2026-12-01", "verdict=fake",
              "verdict=GENUINE", "format=csv%01", "from=" + "1" * 100,
              "sku=" + "W" * 300):
        st, _, raw = export(q)
        d = json.loads(raw) if raw.startswith(b"{") else {}
        check(st == 400 and d.get("error", {}).get("code") == "bad_query",
              "?%s: 400 bad_query (%d)" % (q[:30], st))
    for q in ("sku=NOPE", "sku=B1"):
        st, _, raw = export(q)
        check(st == 400 and b"unknown_sku" in raw, "?%s: 400 unknown_sku" % q)
    st, stats_after = srv.api("GET", "customers/summary", P.analyst)
    st, _, raw = export("")
    check(raw.decode().split("\n")[1:-1] == acme_cli and
          stats_after == stats_before, "nothing changed")

    # ---- brand isolation, roles ----
    st, _, raw = export("", P.beta)
    bl = raw.decode().split("\n")[1:-1]
    check(st == 200 and len(bl) == 1 and bl[0].split(",")[1] == "beta",
          "beta's export: its one scan")
    check(count("", P.analyst) == -403, "an analyst may not export (403)")
    check(count("", P.admin) == len(rows), "an admin may")
    st, _, _ = srv.request("GET", "/api/v1/exports/scans")
    check(st == 401, "no credentials: 401")
    st, _, _ = srv.request("POST", "/api/v1/exports/scans", headers={
        "Authorization": "Bearer " + P.admin})
    check(st == 405, "POST: 405")

    # ---- logged with the actor ----
    log = srv.logtext()
    starts = re.findall(r"info scan_export brand=1 actor=token:(\d+) "
                        r"format=(\w+) lang=(\w+) tz=(-?\d+)", log)
    ends = re.findall(r"info scan_export brand=1 actor=token:(\d+) "
                      r"rows=(\d+) end=complete", log)
    check(len(starts) >= 20 and len(ends) == len(starts),
          "every export logged at its start and end with the actor (%d, %d)"
          % (len(starts), len(ends)))
    check(("csv", "zh", "480") in [s[1:] for s in starts] and
          str(len(rows)) in [e[1] for e in ends],
          "with its format, language, zone and rows")
    check(not re.search(r"scan_export brand=1 actor=\S+ format=\S+ .*"
                        r"sku=NOPE", log), "refused requests export nothing")
done()
