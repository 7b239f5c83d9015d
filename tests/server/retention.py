"""Retention (issue 20, item 7), black-box against a real sigild: after a
brand's retention job, no full IP address or precise location of a scan
older than the brand's period is left in ANY file of the data directory
(live tables, LMDB's free pages and page gaps, the write-ahead log),
while newer scans, other brands' scans, counts and verdicts stay as
they were.

Scans are aged honestly: the fault build (FAULT_BIN) runs with its clock
moved back by SIGIL_TEST_CLOCK_SHIFT (10 days for "old" scans, 2 days for
"new" ones), then the ordinary build serves at the real time. Addresses
reach sigild as X-Forwarded-For from 127.0.0.1 (--trusted-proxy): no
traffic to them. The old scans of acme (over 2,000 of them, so the job
takes several chunks) come from 198.51.100.77 and 2001:db8:abcd:1234::
addresses, some with a location shared, one pair an impossible travel
(an alert with a place); the new ones from 203.0.113.9; beta, with no
period, keeps its 10-day-old scan from 192.0.2.55. Every needle (the
address as 16 stored bytes and as text, the coordinates as the f32 pair
and each f32) is found before the run, so the search can fail.

Then: PUT /api/v1/privacy/retention refuses bad bodies and other roles
and changes nothing; POST .../run refuses without a period; with 7 days
it runs (202) while a thread keeps scanning (every scan answered and
recorded); afterwards the byte search finds none of the old needles,
with sigild running, after SIGTERM and after a kill -9 and recovery; the
scans export has the same rows and verdicts (old addresses cut to /24
and /48, old locations gone, new ones intact); the alerts keep their
counts; /metrics has the job's HELP/TYPE lines and numbers. Last, the
daily job by itself: a restart with more old scans reduces them without
any call."""
import datetime
import glob
import ipaddress
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402

FAULT_BIN = os.environ.get("FAULT_BIN")
DAY = 86400
OLD4, OLD6 = "198.51.100.77", "2001:db8:abcd:1234:5678:9abc:def0:1234"
NEW4, BETA4, LATE4 = "203.0.113.9", "192.0.2.55", "198.51.100.201"
UNB4 = "192.0.2.99"	# a tag naming no brand's key
SHANGHAI = (31.234567, 121.473701)
URUMQI = (43.825592, 87.616848)
SHENZHEN = (22.543096, 114.057865)
CHENGDU = (30.572815, 104.066801)
HANGZHOU = (30.274084, 120.155070)
WUHAN = (30.592850, 114.305539)
OLD_BULK = 2200
MKMMDB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "lib", "mkmmdb.pl")


def place(cc, cname, sub, sen, szh, city, cityzh, lat, lng):
    return {"country": {"iso_code": cc, "names": {"en": cname,
                                                  "zh-CN": "中国"}},
            "subdivisions": [{"iso_code": sub, "names": {"en": sen,
                                                         "zh-CN": szh}}],
            "city": {"names": {"en": city, "zh-CN": cityzh}},
            "location": {"latitude": lat, "longitude": lng,
                         "accuracy_radius": 50}}


# The regions the scans' addresses give (tests/lib/mkmmdb.pl): what a
# reduced scan keeps of its place.
NETS = [
    ["198.51.100.0/24", place("CN", "China", "ZJ", "Zhejiang", "浙江",
                              "Hangzhou", "杭州", 30.27, 120.15)],
    ["2001:db8:abcd::/48", place("CN", "China", "XJ", "Xinjiang", "新疆",
                                 "Urumqi", "乌鲁木齐", 43.8, 87.6)],
    ["203.0.113.0/24", place("CN", "China", "GD", "Guangdong", "广东",
                             "Shenzhen", "深圳", 22.54, 114.06)],
]


def raw_ip(text):
    a = ipaddress.ip_address(text)
    if a.version == 4:
        return b"\0" * 10 + b"\xff\xff" + a.packed
    return a.packed


def ip_needles(name, text):
    """The address as sigild stores it (16 bytes, IPv4 v4-mapped)."""
    return {name + " bytes": raw_ip(text)}


def loc_needles(name, ll):
    """A place as sigild stores it: f32 lat, lng (together and alone)."""
    lat, lng = ll
    return {name + " f32 pair": struct.pack("<ff", lat, lng),
            name + " lat f32": struct.pack("<f", lat),
            name + " lng f32": struct.pack("<f", lng)}


def text_needles(name, ip, ll):
    """The same as text: never stored, and must not be after either."""
    return {name + " ip text": ip.encode(),
            name + " lat text": ("%.6f" % ll[0]).encode(),
            name + " lng text": ("%.6f" % ll[1]).encode()}


def search(data, needles):
    """{needle name: [files holding it]} over every file of data."""
    hits = {}
    for path in sorted(glob.glob(os.path.join(data, "**"), recursive=True)):
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            blob = f.read()
        for name, nd in needles.items():
            if nd in blob:
                hits.setdefault(name, []).append(os.path.basename(path))
    return hits


def xff(ip):
    return {"X-Forwarded-For": ip}


def scan(srv, path, ip, device=None):
    st, doc, dev = srv.scan(path, device, xff(ip))
    check(st == 200 and doc, "scan %s from %s (%d)" % (path, ip, st))
    return doc, dev


def locate(srv, sid, dev, ll, ip):
    h = {"Accept": "application/json", "Cookie": "sg_d=" + dev}
    h.update(xff(ip))
    st, _, _ = srv.request("POST", "/api/v1/scans/%s/location" % sid,
                           body={"lat": ll[0], "lng": ll[1],
                                 "accuracy": 15}, headers=h)
    check(st in (200, 201, 204), "location shared (%d)" % st)


def export(srv, tok):
    st, raw = srv.api("GET", "exports/scans?format=ndjson", tok)
    check(st == 200, "scan export (%d)" % st)
    if isinstance(raw, dict):
        return [raw]
    rows = [json.loads(x) for x in raw.decode().splitlines() if x.strip()]
    return {r["scan_id"]: r for r in rows}


def metrics(srv):
    st, _, body = srv.request("GET", "/metrics")
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out, body.decode()


def wait_run(srv, tok, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, doc = srv.api("GET", "privacy/retention", tok)
        run = doc.get("last_run") if st == 200 else None
        if run and not run["running"] and run["finished"]:
            return doc
        time.sleep(0.1)
    check(False, "%s: the run finished within %ds" % (what, timeout))
    return doc


if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make fault: "
          "build/fault/bin); got %r" % FAULT_BIN)
    done()

with Env() as env:
    MMDB = os.path.join(env.dir, "test.mmdb")
    subprocess.run(["perl", MKMMDB, MMDB], check=True, input=json.dumps(
        {"type": "GeoLite2-City", "networks": NETS}).encode())
    PROXY = ("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit", "0",
             "--geoip", MMDB)
    _, paths = env.setup_brand("acme", count=40)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, bpaths = env.setup_brand("beta", "https://BETA.EXAMPLE", sku="B1",
                                count=3, init=False)
    ADMIN = env.token("acme", "admin")
    OPER = env.token("acme", "operator")
    ANALYST = env.token("acme", "analyst")
    BADMIN = env.token("beta", "admin")
    env.sigil("brand", "add", "--brand", "gamma", "--base-url",
              "https://GAMMA.EXAMPLE")
    _, gpaths = env.setup_brand("gamma", "https://GAMMA.EXAMPLE", sku="G1",
                                count=3, init=False)
    GADMIN = env.token("gamma", "admin")
    normal_bin = sigiltest.BIN

    # ---- ten days ago (the fault build's clock moved back) ----
    sigiltest.BIN = FAULT_BIN
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(-10 * DAY)
    srv = env.start(*PROXY)
    doc, dev = scan(srv, paths[0], OLD4)
    locate(srv, doc["scan_id"], dev, SHANGHAI, OLD4)
    # The same code from another phone 3,300 km away seconds later: an
    # impossible travel, whose alert keeps the place.
    doc, dev2 = scan(srv, paths[0], OLD6)
    locate(srv, doc["scan_id"], dev2, URUMQI, OLD6)
    doc, dev3 = scan(srv, paths[1], OLD6)
    doc, _ = scan(srv, bpaths[0], BETA4)
    locate(srv, doc["scan_id"], _, CHENGDU, BETA4)
    # A forged acme tag (its last character changed) whose finder shares
    # the place: acme's counterfeit alert keeps it.
    code = paths[38].rsplit("/", 1)[-1]
    fake = "/S/" + code[:-1] + ("0" if code[-1] != "0" else "1")
    doc, devf = scan(srv, fake, OLD4)
    check(doc["verdict"] == "counterfeit", "a forged acme tag")
    locate(srv, doc["scan_id"], devf, WUHAN, OLD4)
    # A tag whose key id no brand has: a scan that counts for no brand.
    code = paths[39].rsplit("/", 1)[-1]
    doc, _ = scan(srv, "/S/" + code[0] + "ZZZ" + code[4:], UNB4)
    check(doc["verdict"] == "counterfeit", "an unknown key's tag: "
          "counterfeit")
    doc, dev5 = scan(srv, gpaths[0], LATE4)
    locate(srv, doc["scan_id"], dev5, HANGZHOU, LATE4)
    for i in range(OLD_BULK):
        srv.scan(paths[2 + i % 30], None, xff(OLD4))
    srv.stop()

    # ---- two days ago: newer than the period ----
    os.environ["SIGIL_TEST_CLOCK_SHIFT"] = str(-2 * DAY)
    srv = env.start(*PROXY)
    doc, dev4 = scan(srv, paths[35], NEW4)
    locate(srv, doc["scan_id"], dev4, SHENZHEN, NEW4)
    srv.stop()
    os.environ.pop("SIGIL_TEST_CLOCK_SHIFT", None)

    # ---- now, the ordinary build ----
    sigiltest.BIN = normal_bin
    srv = env.start(*PROXY)
    old = {}
    old.update(ip_needles("old v4", OLD4))
    old.update(ip_needles("old v6", OLD6))
    old.update(loc_needles("Shanghai", SHANGHAI))
    old.update(loc_needles("Urumqi", URUMQI))
    old.update(loc_needles("Wuhan", WUHAN))
    kept = {}
    kept.update(ip_needles("new v4", NEW4))
    kept.update(loc_needles("Shenzhen", SHENZHEN))
    kept.update(ip_needles("beta v4", BETA4))
    kept.update(loc_needles("Chengdu", CHENGDU))
    kept.update(ip_needles("no brand's v4", UNB4))
    texts = dict(text_needles("v4", OLD4, SHANGHAI),
                 **text_needles("v6", OLD6, URUMQI))
    hits = search(env.data, dict(old, **kept))
    missing = sorted((set(old) | set(kept)) - set(hits))
    check(not missing, "before the run every needle is in the data dir "
          "(missing: %s)" % missing)

    before = export(srv, OPER)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    span = "stats/overview?bucket=day&from=%s&to=%s" % (
        today - datetime.timedelta(days=14), today - datetime.timedelta(
            days=1))
    st, ov_before = srv.api("GET", span, ANALYST)
    check(st == 200 and ov_before["totals"]["scans"] >= OLD_BULK,
          "the dashboard's counts of the old days, before (%r)" %
          ov_before.get("totals"))
    st, al_before = srv.api("GET", "alerts", ANALYST)
    check(st == 200 and any(a.get("location") for a in al_before["alerts"]),
          "an alert with a place before the run")
    n_old = sum(1 for r in before.values() if r["ip"] in (OLD4, OLD6))
    check(all(r.get("province") == ("Zhejiang" if r["ip"] == OLD4 else
                                    "Xinjiang")
              for r in before.values() if r["ip"] in (OLD4, OLD6)),
          "every old scan has its address's region before the run")
    check(n_old == OLD_BULK + 4, "%d old acme scans in the export" % n_old)
    check(any(a["type"] == "counterfeit" and a.get("location")
              for a in al_before["alerts"]),
          "acme's counterfeit alert has the shared place before the run")

    # ---- the setting: refusals change nothing ----
    st, doc = srv.api("GET", "privacy/retention", ANALYST)
    check(st == 200 and doc["days"] == 0 and doc["last_run"] is None and
          doc["max"] == 3650, "default: keep for ever (%r)" % doc)
    st, doc = srv.api("POST", "privacy/retention/run", ADMIN)
    check(st == 409 and doc["error"]["code"] == "no_retention",
          "run without a period: 409 no_retention (%d %r)" % (st, doc))
    for body in ({"days": -1}, {"days": 3651}, {"days": "7"},
                 {"days": 7.5}, {}, {"days": 7, "hours": 1},
                 {"days": None}, [7]):
        st, doc = srv.api("PUT", "privacy/retention", ADMIN, body)
        check(st in (400, 422) and "error" in doc,
              "PUT %s refused (%d)" % (json.dumps(body), st))
    st, doc = srv.api("PUT", "privacy/retention", ADMIN, b"{not json")
    check(st == 400, "a body that is not JSON: 400 (%d)" % st)
    for tok, who in ((ANALYST, "analyst"), (OPER, "operator")):
        st, _ = srv.api("PUT", "privacy/retention", tok, {"days": 7})
        check(st == 403, "%s may not set the period (%d)" % (who, st))
        st, _ = srv.api("POST", "privacy/retention/run", tok)
        check(st == 403, "%s may not run the job (%d)" % (who, st))
    st, doc = srv.api("GET", "privacy/retention", ADMIN)
    check(doc["days"] == 0, "after the refusals the period is still 0")
    check(not search(env.data, old).keys() ^ old.keys(),
          "refusals reduced nothing")

    st, doc = srv.api("PUT", "privacy/retention", ADMIN, {"days": 7})
    check(st == 200 and doc["days"] == 7, "PUT days=7 (%d %r)" % (st, doc))
    st, doc = srv.api("GET", "privacy/retention", BADMIN)
    check(doc["days"] == 0, "beta's period is its own (still 0)")
    st, aud = srv.api("GET", "audit?action=retention_set", ADMIN)
    check(st == 200 and any(e.get("action") == "retention_set"
                            for e in aud.get("entries", [])),
          "the change is in the audit trail")

    # ---- the run, while scans keep coming ----
    stop = threading.Event()
    live = {"ok": 0, "bad": 0, "slowest": 0.0}

    def scanner():
        i = 0
        while not stop.is_set():
            t0 = time.monotonic()
            st, d, _ = srv.scan(paths[36 + i % 4], None, xff(NEW4))
            live["slowest"] = max(live["slowest"], time.monotonic() - t0)
            live["ok" if st == 200 and d else "bad"] += 1
            i += 1

    th = threading.Thread(target=scanner)
    th.start()
    time.sleep(0.3)
    st, doc = srv.api("POST", "privacy/retention/run", ADMIN)
    check(st == 202 and doc["last_run"] and doc["last_run"]["running"],
          "POST run: 202, running (%d)" % st)
    st2, doc2 = srv.api("POST", "privacy/retention/run", ADMIN)
    check(st2 == 409 or (st2 == 202), "a second run: 409 while one runs, "
          "or 202 if the first already finished (%d)" % st2)
    doc = wait_run(srv, ADMIN, "the run")
    time.sleep(0.3)
    stop.set()
    th.join()
    run = doc["last_run"]
    check(live["bad"] == 0 and live["ok"] > 0,
          "every scan during the run answered 200 (%r)" % live)
    # Held up by one chunk at most, never by the run (a loaded 2-core
    # machine may add its own pauses: the bound is loose).
    check(live["slowest"] < 3.0, "no scan waited for the run: the slowest "
          "took %.3f s" % live["slowest"])
    check(run["error"] is None and run["scrubbed"],
          "the run ended ok and scrubbed (%r)" % run)
    check(doc["reduced_through"] is not None,
          "reduced_through names the last reduced scan's time")

    m, text = metrics(srv)
    for name in ("runs_total", "errors_total", "chunks_total", "running",
                 "last_run_timestamp_seconds",
                 "last_run_duration_seconds", "scans_reduced_total",
                 "locations_reduced_total", "backlog",
                 "last_run_scans_reduced"):
        full = "sigil_retention_" + name
        check("# HELP %s " % full in text and "# TYPE %s " % full in text,
              "/metrics: HELP and TYPE of %s" % full)
    check(m.get("sigil_retention_scans_reduced_total") == n_old,
          "/metrics: %d scans reduced (%r)" % (
              n_old, m.get("sigil_retention_scans_reduced_total")))
    check(m.get("sigil_retention_locations_reduced_total") == 3,
          "/metrics: 3 locations reduced")
    check(m.get("sigil_retention_chunks_total", 0) >= 3,
          "/metrics: the job took several chunks (%r)" %
          m.get("sigil_retention_chunks_total"))
    check(m.get("sigil_retention_backlog") == 0 and
          m.get("sigil_retention_running") == 0 and
          m.get("sigil_retention_last_run_timestamp_seconds", 0) >
          time.time() - 120, "/metrics: no backlog, not running, a recent "
          "last run")

    # ---- what the files hold ----
    def files_clean(when):
        h = search(env.data, dict(old, **kept, **texts))
        left = {k: v for k, v in h.items() if k in old or k in texts}
        check(not left, "%s: no old address or place in any file (%r)" % (
            when, left))
        gone = sorted(set(kept) - set(h))
        check(not gone, "%s: newer and beta's needles intact (missing %s)"
              % (when, gone))
        cut = search(env.data, {"v4/24": raw_ip("198.51.100.0"),
                                "v6/48": raw_ip("2001:db8:abcd::")})
        check(len(cut) == 2, "%s: the cut addresses are there (%r)" % (
            when, cut))

    files_clean("running")

    after = export(srv, OPER)
    fresh = [k for k in after if k not in before]
    check(len(fresh) == live["ok"], "every scan made during the run is "
          "logged (%d of %d)" % (len(fresh), live["ok"]))
    same = all(k in after for k in before)
    check(same, "no scan went missing")
    bad = []
    for k, r in before.items():
        a = after.get(k, {})
        keys = ("brand", "serial", "batch", "time", "verdict", "bot",
                "first_scan", "device", "diversion", "country", "province",
                "province_zh", "city", "city_zh", "region_source")
        if any(a.get(x) != r.get(x) for x in keys):
            bad.append(k)
            continue
        if r["ip"] == OLD4:
            ok = a["ip"] == "198.51.100.0" and "lat" not in a
        elif r["ip"] == OLD6:
            ok = a["ip"] == "2001:db8:abcd::" and "lat" not in a
        else:
            ok = a == r
        if not ok:
            bad.append(k)
    check(not bad, "export: same rows, verdicts, times, devices, "
          "regions; old addresses cut, old places gone, the rest unchanged "
          "(%d bad: %r)"
          % (len(bad), [(before[k], after.get(k)) for k in bad[:2]]))
    st, ov_after = srv.api("GET", span, ANALYST)
    check(ov_after["totals"] == ov_before["totals"] and
          ov_after["series"] == ov_before["series"],
          "the dashboard's counts of those days are unchanged")
    new = [r for r in after.values() if r["ip"] == NEW4 and "lat" in r]
    check(len(new) == 1 and abs(new[0]["lat"] - SHENZHEN[0]) < 1e-5,
          "the 2-day-old scan keeps its place")

    st, al_after = srv.api("GET", "alerts", ANALYST)
    def strip(alerts):
        return [{k: v for k, v in a.items() if k != "location"}
                for a in alerts]

    check(strip(al_before["alerts"]) == strip(al_after["alerts"]),
          "alerts: the same alerts, counts, status and regions (%r)" %
          strip(al_after["alerts"]))
    check(any("Xinjiang" in json.dumps(a, ensure_ascii=False)
              for a in al_after["alerts"]),
          "alerts: the travel alert still names its scan's province")
    check(not any(a.get("location") for a in al_after["alerts"]),
          "alerts: the old place is gone")
    st, code = srv.api("GET", "codes/" + paths[0].rsplit("/", 1)[-1],
                       ANALYST)
    if st == 200:
        check(all("location" not in s for s in code["scans"]) and
              len(code["scans"]) == 2,
              "the travelled code: both scans, no place")

    # A second run has nothing left to do.
    st, doc = srv.api("POST", "privacy/retention/run", ADMIN)
    doc = wait_run(srv, ADMIN, "the second run")
    check(doc["last_run"]["reduced"] == 0, "a second run reduces nothing")

    srv.stop()
    files_clean("after SIGTERM")
    srv = env.start(*PROXY)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv = env.start(*PROXY)
    files_clean("after kill -9 and recovery")
    check(len(export(srv, OPER)) == len(after),
          "after recovery the export has every scan")
    srv.stop()

    # ---- the daily job on its own: gamma's 10-day-old scan, and (with
    # --unbranded-retention) the one that counts for no brand ----
    late = dict(ip_needles("gamma v4", LATE4),
                **loc_needles("Hangzhou", HANGZHOU),
                **ip_needles("no brand's v4", UNB4))
    check(len(search(env.data, late)) == len(late),
          "gamma's old scan's needles are there before")
    srv = env.start(*PROXY)
    st, doc = srv.api("PUT", "privacy/retention", GADMIN, {"days": 7})
    check(st == 200, "gamma sets 7 days")
    srv.stop()
    srv = env.start(*PROXY, "--unbranded-retention", "7")
    deadline = time.time() + 60
    while time.time() < deadline:
        m, _ = metrics(srv)
        if m.get("sigil_retention_runs_total", 0) >= 1 and \
                m.get("sigil_retention_running") == 0:
            break
        time.sleep(0.5)
    check(m.get("sigil_retention_runs_total", 0) >= 1 and
          m.get("sigil_retention_scans_reduced_total") == 2,
          "the scheduled run came by itself and reduced gamma's scan and "
          "the one of no brand (%r)"
          % {k: v for k, v in m.items() if "retention" in k})
    h = search(env.data, late)
    check(not h, "after the scheduled run no trace of it (%r)" % h)
    srv.stop()

done()
