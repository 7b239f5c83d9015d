"""GET /api/v1/customers/export.csv for people (issue 19 item 5; review
item 10, "export format"): ?lang=zh gives Chinese headers and the
dashboard's role and segment words, ?tz= local times with the offset;
without them the file is what machines always read (English codes, UTC
times). Over 2,000 customers made the real way (tests/lib/peoplefix.py):
every customer is in every form of the file, and its counts match the
server's summary; bad input a 400; brand isolation."""
import csv
import datetime
import io
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
import peoplefix  # noqa: E402

N = int(os.environ.get("PEOPLE_N", "2000"))
EN = ["id", "phone", "role", "tier", "segment", "balance", "points_12m",
      "claims", "created", "last_login", "erased"]
ZH = ["编号", "手机号", "身份", "等级", "分群", "积分余额", "近12个月积分",
      "领取次数", "注册时间", "最近登录", "删除时间"]
SEG = {"champions": "核心", "loyal": "忠诚", "promising": "潜力",
       "new": "新客", "at_risk": "流失风险", "hibernating": "沉睡"}
ROLE = {"consumer": "消费者", "retailer": "零售商", "sales": "业务员"}

with Env() as env:
    P = peoplefix.build(env, N)
    srv = P.srv
    # A retailer, so a role word other than consumer is in the file.
    st, _ = srv.api("POST", "customers/%d/role" % P.ids[7], P.admin,
                    {"role": "retailer"})
    check(st == 200, "customer 7 made a retailer")

    def export(q, tok=None):
        st, hdrs, raw = srv.request(
            "GET", "/api/v1/customers/export.csv" + ("?" + q if q else ""),
            headers={"Authorization": "Bearer " + (tok or P.analyst)},
            timeout=120)
        return st, hdrs, raw

    st, hdrs, raw = export("")
    text = raw.decode("utf-8")
    check(st == 200 and text.startswith("\ufeff") and
          hdrs.get("Content-Type") == "text/csv; charset=utf-8",
          "the default file: UTF-8 CSV with a byte-order mark")
    en = list(csv.reader(io.StringIO(text[1:])))
    check(en[0] == EN and len(en) == N + 1,
          "English header, every one of the %d customers (%d rows)" % (
              N, len(en) - 1))
    check(all(r[8].endswith("Z") for r in en[1:]) and
          {r[4] for r in en[1:] if r[4]} <= set(SEG) and
          {r[2] for r in en[1:] if r[2]} <= set(ROLE),
          "default values as before: English codes, UTC times")
    st, summ = srv.api("GET", "customers/summary", P.analyst)
    live = [r for r in en[1:] if not r[10]]
    check(Counter(r[4] for r in live) == Counter(
        {k: v for k, v in summ["segments"].items() if v}) and
        Counter(r[3] for r in live) == Counter(
            {k: v for k, v in summ["tiers"].items() if v}),
        "the file's segments and tiers are the summary's counts")

    st, hdrs, raw = export("lang=zh&tz=8")
    zt = raw.decode("utf-8")
    zh = list(csv.reader(io.StringIO(zt[1:])))
    check(st == 200 and zt.startswith("\ufeff") and zh[0] == ZH and
          len(zh) == len(en), "lang=zh: the Chinese header, every customer")
    ok = True
    for a, b in zip(zh[1:], en[1:]):
        seg_ok = a[4] == SEG.get(b[4], b[4])
        role_ok = a[2] == ROLE.get(b[2], b[2])
        tier_ok = a[3] == (b[3].split(" ")[0] if " " in b[3] else b[3])
        times_ok = True
        for i in (8, 9, 10):
            if not b[i]:
                times_ok = times_ok and a[i] == ""
                continue
            t8 = datetime.datetime.fromisoformat(a[i])
            tu = datetime.datetime.fromisoformat(b[i].replace("Z",
                                                              "+00:00"))
            times_ok = times_ok and a[i].endswith("+08:00") and t8 == tu
        same = a[:2] + a[5:8] == b[:2] + b[5:8]
        if not (seg_ok and role_ok and tier_ok and times_ok and same):
            ok = False
            print("row", a, b)
            break
    check(ok, "every row: the dashboard's words, the tier's Chinese half, "
          "the same instants +08:00, numbers and masked phones unchanged")
    check("零售商" in [r[2] for r in zh[1:]] and
          "铜" in [r[3] for r in zh[1:]], "a retailer and a 铜 tier in it")
    st, _, raw = export("tz=-05:30")
    r = list(csv.reader(io.StringIO(raw.decode()[1:])))
    check(r[0] == EN and r[1][8].endswith("-05:30"),
          "tz alone: English, times -05:30")
    st, _, raw = export("lang=en")
    check(raw == export("")[2], "lang=en: the default file")

    # ---- bad input ----
    before = export("")[2]
    for q in ("lang=fr", "lang=", "tz=99", "tz=8h", "tz=+5:3",
              "lang=zh&tz=x", "tz=" + "8" * 3000):
        st, _, raw = export(q)
        check(st in (400, 414) and (b"bad_query" in raw or st == 414),
              "?%s: refused (%d)" % (q[:20], st))
    check(export("")[2] == before, "nothing changed")

    # ---- isolation ----
    st, _, raw = export("lang=zh", P.beta)
    b = list(csv.reader(io.StringIO(raw.decode()[1:])))
    check(st == 200 and len(b) == 2 and b[1][0] == str(P.beta_customer),
          "beta's file: its one customer")
done()
