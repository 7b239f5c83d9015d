"""The region of every scan (issue 20 item 6), against the real sigild
with a .mmdb this test writes itself (tests/lib/mkmmdb.pl, Debian's
MaxMind::DB::Writer). Addresses reach sigild as X-Forwarded-For from
127.0.0.1 (--trusted-proxy 127.0.0.1/32); they are documentation ranges
(RFC 5737, RFC 3849) and nothing is ever sent to them.

Shown: scans from addresses in the database count for their province and
city in GET /api/v1/stats/provinces and /stats/cities (zh-CN and English
names, "confidence": "low"), including the old numeric ISO 3166-2:CN code
and a place with English names only; an alert's evidence names the
provinces (its first and latest scan, and the provinces of the code's
scans); the code lookup and both export formats carry the region; a
consented location wins (the scan leaves its address's province); the
region is never a signal (one device in three provinces raises nothing);
a forwarded address from an untrusted peer is not believed; names with
control characters or too long are cleaned; an address the database does
not know, or private, gets no region; without --geoip the feature is
off and says so (/healthz, /metrics, the stats), records made with it
still read; a missing or bad database stops sigild with a clear error;
bad stats queries are 400."""
import csv
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MKMMDB = os.path.join(HERE, "..", "lib", "mkmmdb.pl")


def place(cc, cname, czh, sub=None, sen=None, szh=None, city=None,
          cityzh=None, lat=None, lng=None):
    rec = {"country": {"iso_code": cc, "names": {"en": cname}}}
    if czh:
        rec["country"]["names"]["zh-CN"] = czh
    if sub:
        s = {"iso_code": sub, "names": {"en": sen}}
        if szh:
            s["names"]["zh-CN"] = szh
        rec["subdivisions"] = [s]
    if city:
        rec["city"] = {"names": {"en": city}}
        if cityzh:
            rec["city"]["names"]["zh-CN"] = cityzh
    if lat is not None:
        rec["location"] = {"latitude": lat, "longitude": lng,
                           "accuracy_radius": 50}
    return rec


NETS = [
    # Guangdong, Shenzhen: the database's short zh name, the fixed one wins
    ["203.0.113.0/24", place("CN", "China", "中国", "GD", "Guangdong", "广东",
                             "Shenzhen", "深圳", 22.54, 114.06)],
    # Zhejiang, Hangzhou
    ["198.51.100.0/24", place("CN", "China", "中国", "ZJ", "Zhejiang", "浙江",
                              "Hangzhou", "杭州", 30.27, 120.15)],
    # Sichuan by the old numeric code, no zh names at all
    ["2001:db8:51::/48", place("CN", "China", None, "51", "Sichuan", None,
                               "Chengdu", None)],
    # a province without a city
    ["192.0.2.0/25", place("CN", "China", "中国", "SH", "Shanghai", "上海")],
    # abroad, English only
    ["2001:db8:1::/48", place("US", "United States", "美国", "CA",
                              "California", None, "San Jose", None)],
    # hostile names: a control character, markup, 300 characters
    ["192.0.2.128/25", place("CN", "China", "中国", "XX", "Bad\x07Name",
                             "<b>坏</b>", "城" * 300, "\x1b[31m")],
]
GD, ZJ, SC, SH, US, BAD = ("203.0.113.%d", "198.51.100.%d",
                           "2001:db8:51::%x", "192.0.2.%d", "2001:db8:1::%x",
                           "192.0.2.%d")


def write_mmdb(path, nets, kind="GeoLite2-City"):
    subprocess.run(["perl", MKMMDB, path], check=True,
                   input=json.dumps({"type": kind, "networks": nets}).encode())


def rows_by(doc, what, key):
    out = {}
    for r in doc[what]:
        reg = r["region"]
        k = key(reg)
        out[k] = r
    return out


with Env() as env:
    mm = os.path.join(env.dir, "test.mmdb")
    write_mmdb(mm, NETS)
    _, codes = env.setup_brand(sku="TEA", count=40, max_scanners=2)
    A = env.token("acme", "admin")

    # ---- bad databases stop sigild with a clear error ----
    def start_fails(*args):
        r = subprocess.run([os.path.join(HERE, "..", "..", "bin", "sigild"),
                            "--data", env.data, "--listen", "127.0.0.1:0"] +
                           list(args), capture_output=True, text=True,
                           timeout=20)
        return r.returncode, r.stderr
    rc, err = start_fails("--geoip", os.path.join(env.dir, "nope.mmdb"))
    check(rc == 2 and "--geoip" in err and "no such file" in err,
          "a missing database: exit 2 (%d) %r" % (rc, err[:200]))
    junk = os.path.join(env.dir, "junk.mmdb")
    with open(junk, "wb") as f:
        f.write(b"not a maxmind database\n" * 100)
    rc, err = start_fails("--geoip", junk)
    check(rc == 2 and "--geoip" in err, "a file that is no database: exit 2 "
          "(%d) %r" % (rc, err[:200]))

    # ---- off: no database ----
    srv = env.start("--trusted-proxy", "127.0.0.1/32")
    st, _, body = srv.get("/healthz")
    check(st == 200 and json.loads(body).get("geoip") == "off",
          "/healthz says the region is off: %r" % body)
    st, doc, dev0 = srv.scan(codes[0], headers={"X-Forwarded-For":
                                                 GD % 9})
    check(st == 200, "a scan without a database")
    st, doc = srv.api("GET", "stats/provinces", A)
    check(st == 200 and doc["provinces"] == [] and doc["geoip"] == "off",
          "off: no provinces, and it says so: %r" % doc)
    metrics = srv.get("/metrics")[2].decode()
    check("sigil_geoip_enabled 0" in metrics, "/metrics: geoip off")
    check("geoip state=off" in srv.logtext(), "the start log says off")
    srv.stop()

    # ---- on ----
    srv = env.start("--geoip", mm, "--trusted-proxy", "127.0.0.1/32",
                    "--api-rate-limit", "0")
    st, _, body = srv.get("/healthz")
    check(json.loads(body).get("geoip") == "on", "/healthz: on")
    check("geoip state=on type=GeoLite2-City" in srv.logtext(),
          "the start log names the database type")

    def scan(code, ip, device=None, source=None):
        st, doc, dev = srv.scan(code, device=device, source=source,
                                headers={"X-Forwarded-For": ip})
        if st != 200:
            raise RuntimeError("scan %d" % st)
        return doc, dev

    # 5 scans in Guangdong, 3 in Zhejiang, 2 in Sichuan, 1 Shanghai, 1 US
    n = 1
    for ip, k in ((GD, 5), (ZJ, 3), (SC, 2), (SH, 1), (US, 1)):
        for i in range(k):
            scan(codes[n], ip % (i + 10))
            n += 1
    # private, loopback and an address the database does not know
    for ip in ("10.1.2.3", "127.0.0.1", "233.252.0.1", "2001:db8:ffff::1"):
        scan(codes[n], ip)
        n += 1
    # A forwarded address from a peer that is no trusted proxy: not believed.
    scan(codes[n], GD % 77, source="127.0.0.3")
    n += 1

    st, prov = srv.api("GET", "stats/provinces", A)
    check(st == 200 and prov["geoip"] == "on", "stats/provinces: 200, on")
    by_zh = rows_by(prov, "provinces",
                    lambda r: (r["province"] or {}).get("zh-CN"))
    check(by_zh.get("广东省", {}).get("scans") == 5,
          "Guangdong: 5 scans, its fixed zh-CN name (%r)" % list(by_zh))
    check(by_zh.get("浙江省", {}).get("scans") == 3, "Zhejiang: 3 scans")
    check(by_zh.get("四川省", {}).get("scans") == 2,
          "Sichuan from the numeric code 51: 2 scans")
    check(by_zh.get("上海市", {}).get("scans") == 1, "Shanghai: 1 scan")
    gd = by_zh.get("广东省", {}).get("region", {})
    check(gd.get("province") == {"zh-CN": "广东省", "en": "Guangdong"} and
          gd.get("province_code") == "GD" and gd.get("country") == "CN" and
          gd.get("confidence") == "low" and gd.get("source") == "ip" and
          gd.get("city") is None,
          "a province row: code, names, low confidence: %r" % gd)
    sc = by_zh.get("四川省", {}).get("region", {})
    check(sc.get("province_code") == "SC" and
          sc.get("province") == {"zh-CN": "四川省", "en": "Sichuan"},
          "numeric 51 reads as SC, with the fixed names: %r" % sc)
    us = [r for r in prov["provinces"] if r["region"]["country"] == "US"]
    check(len(us) == 1 and us[0]["region"]["province"] ==
          {"zh-CN": "California", "en": "California"},
          "abroad: the English name in both languages: %r" % us)
    total = sum(r["scans"] for r in prov["provinces"])
    check(total == 12, "unplaced scans (private, loopback, unknown, "
          "untrusted forwarding) count nowhere: %d" % total)
    metrics = srv.get("/metrics")[2].decode()
    check("sigil_geoip_enabled 1" in metrics and
          "sigil_scans_placed_total 12" in metrics,
          "/metrics: on, 12 placed")

    st, cities = srv.api("GET", "stats/cities", A)
    by_city = rows_by(cities, "cities",
                      lambda r: (r["city"] or {}).get("zh-CN"))
    check(st == 200 and by_city.get("深圳", {}).get("scans") == 5 and
          by_city["深圳"]["region"]["city"] == {"zh-CN": "深圳",
                                                "en": "Shenzhen"} and
          by_city["深圳"]["region"]["province"]["en"] == "Guangdong",
          "stats/cities: Shenzhen with its province: %r" % list(by_city))
    check(by_city.get("Chengdu", {}).get("scans") == 2,
          "a city without zh names: English in both")

    # Hostile names from the database: cleaned, cut, never echoed raw.
    scan(codes[n], BAD % 200)
    n += 1
    st, prov = srv.api("GET", "stats/provinces", A)
    bad = [r["region"] for r in prov["provinces"]
           if r["region"].get("province_code") == "XX"]
    check(len(bad) == 1 and bad[0]["province"] == {"zh-CN": "<b>坏</b>",
                                                   "en": "<b>坏</b>"},
          "a name with a control character is dropped (the other kept, "
          "as text): %r" % bad)
    st, cities = srv.api("GET", "stats/cities", A)
    long = [r["region"]["city"] for r in cities["cities"]
            if r["region"].get("province_code") == "XX"]
    check(len(long) == 1 and long[0]["en"] == "城" * 21 and
          long[0]["zh-CN"] == "城" * 21,
          "a 300-character name is cut at a character (63 bytes)")

    # ---- the region is never a signal ----
    doc, dev = scan(codes[n], GD % 30)
    for ip in (ZJ % 30, SC % 0x30):
        scan(codes[n], ip, device=dev)
    st, al = srv.api("GET", "alerts", A)
    check(st == 200 and al["alerts"] == [],
          "one device in three provinces raises nothing: %r" % al)
    n += 1

    # ---- alerts: the evidence names the provinces ----
    clone = codes[n]
    n += 1
    scan(clone, GD % 40)
    scan(clone, ZJ % 40)
    scan(clone, SC % 0x40)      # the third scanner: the alert
    scan(clone, SH % 40)        # a fourth: the alert's latest scan
    st, al = srv.api("GET", "alerts?type=too_many_scanners", A)
    check(st == 200 and len(al["alerts"]) == 1, "the clone raises an alert")
    a0 = al["alerts"][0]
    check(a0["region"]["province"]["zh-CN"] == "四川省" and
          a0["region"]["confidence"] == "low" and
          a0["region"]["city"]["en"] == "Chengdu",
          "the alert names the province of the scan that raised it: %r" %
          a0["region"])
    check(a0["last_region"]["province"]["zh-CN"] == "上海市" and
          a0["last_region"]["city"] is None,
          "and of its latest scan: %r" % a0["last_region"])
    st, one = srv.api("GET", "alerts/%d" % a0["id"], A)
    provs = sorted(p["region"]["province"]["zh-CN"] for p in
                   one.get("scan_provinces", []))
    check(st == 200 and provs == ["上海市", "四川省", "广东省", "浙江省"] and
          one["scans_unplaced"] == 0,
          "the alert's evidence: the provinces of the code's scans: %r" % provs)

    # ---- the code lookup ----
    st, look = srv.api("GET", "codes/" + clone.split("/")[-1], A)
    if st != 200:
        st, look = srv.api("GET", "codes/lookup?code=" + clone.split("/")[-1], A)
    regs = [s.get("region", {}).get("province", {}).get("en")
            for s in look.get("scans", [])] if st == 200 else []
    check(sorted(regs) == ["Guangdong", "Shanghai", "Sichuan", "Zhejiang"],
          "the code lookup: each scan's region (%d) %r" % (st, regs))

    # ---- a consented location wins ----
    doc, dev = scan(codes[n], GD % 50)
    n += 1
    st, prov = srv.api("GET", "stats/provinces", A)
    before = rows_by(prov, "provinces", lambda r: (r["province"] or {})
                     .get("zh-CN"))["广东省"]["scans"]
    st, _, body = srv.request(
        "POST", "/api/v1/scans/%s/location" % doc["scan_id"],
        {"lat": 39.90, "lng": 116.40, "accuracy": 30},
        headers={"Cookie": "sg_d=" + dev})
    check(st == 200, "a consented location (%d %r)" % (st, body[:200]))
    st, prov = srv.api("GET", "stats/provinces", A)
    after = rows_by(prov, "provinces", lambda r: (r["province"] or {})
                    .get("zh-CN"))["广东省"]["scans"]
    check(after == before - 1, "GPS wins: the scan leaves its address's "
          "province (%d -> %d)" % (before, after))
    st, reg = srv.api("GET", "stats/regions", A)
    cells = [(r["lat"], r["lng"]) for r in reg["regions"]]
    check((39, 116) in cells, "and counts in its GPS cell: %r" % cells)

    # ---- exports ----
    h = {"Authorization": "Bearer " + A}
    st, _, raw = srv.request("GET", "/api/v1/exports/scans?format=csv",
                             headers=h, timeout=60)
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    check(st == 200 and rows and "province_zh" in rows[0],
          "the CSV export has region columns (%d)" % st)
    gdr = [r for r in rows if r["province_zh"] == "广东省"]
    check(len(gdr) >= 5 and all(r["country"] == "CN" and
                                r["province"] == "Guangdong" and
                                r["region_source"] == "ip" for r in gdr),
          "CSV: Guangdong's scans with country, names, source")
    check(any(r["city_zh"] == "深圳" for r in gdr), "CSV: the city in zh-CN")
    unplaced = [r for r in rows if r["ip"] == "10.1.2.3"]
    check(len(unplaced) == 1 and unplaced[0]["country"] == "" and
          unplaced[0]["region_source"] == "",
          "CSV: an unplaced scan has empty region columns")
    st, _, raw = srv.request("GET", "/api/v1/exports/scans?format=ndjson",
                             headers=h, timeout=60)
    lines = [json.loads(x) for x in raw.decode().splitlines() if x]
    zj = [x for x in lines if x.get("province_zh") == "浙江省"]
    check(st == 200 and zj and zj[0]["city"] == "Hangzhou" and
          zj[0]["region_source"] == "ip", "NDJSON: the region keys")
    cli = env.sigil("export", "scans", "--format", "csv").stdout
    check("Guangdong,Shenzhen,广东省,深圳,ip" in cli,
          "the CLI's export has the same columns")

    # ---- bad queries ----
    for q in ("limit=0", "limit=abc", "limit=5001", "from=yesterday"):
        st, doc = srv.api("GET", "stats/provinces?" + q, A)
        check(st == 400 and "error" in doc, "stats/provinces?%s: 400" % q)
    st, doc = srv.api("GET", "stats/cities?limit=2", A)
    check(st == 200 and len(doc["cities"]) == 2 and doc["total_rows"] > 2,
          "limit cuts the rows, total_rows says how many")
    st, doc = srv.api("GET", "stats/provinces")
    check(st == 401, "no token: 401")
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    B = env.token("beta", "admin")
    st, doc = srv.api("GET", "stats/provinces", B)
    check(st == 200 and doc["provinces"] == [],
          "another brand sees none of acme's provinces")
    srv.stop()

    # ---- restart without the database: records made with it still read ----
    srv = env.start("--trusted-proxy", "127.0.0.1/32")
    st, prov = srv.api("GET", "stats/provinces", A)
    check(st == 200 and prov["geoip"] == "off" and len(prov["provinces"]) >= 4,
          "off again: the counted provinces stay, it says off")
    scan(codes[n], GD % 60)
    n += 1
    st, _, raw = srv.request("GET", "/api/v1/exports/scans?format=csv",
                             headers=h, timeout=60)
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    check(st == 200 and len([r for r in rows if r["province_zh"] ==
                             "广东省"]) >= 5 and rows[-1]["country"] == "",
          "old 52-byte records and new 48-byte ones read side by side")
    srv.stop()

    # ---- and on again: the dictionary is reused, not duplicated ----
    srv = env.start("--geoip", mm, "--trusted-proxy", "127.0.0.1/32")
    scan(codes[n], GD % 61)
    st, cities = srv.api("GET", "stats/cities", A)
    sz = [r for r in cities["cities"] if r["region"]["city"] and
          r["region"]["city"]["en"] == "Shenzhen"]
    check(len(sz) == 1, "one Shenzhen after a restart: %d" % len(sz))
    srv.stop()

done()
