"""Right numbers (issue 19 item 1), black-box against a real sigild:
time zones handled once (only dates and day edges take tz; instants with
Z or an offset never move); counterfeit and unverified scans counted for
the brand their code names (a forged tag's key id, a Digital Link's
GTIN), located on its map and alerted as `counterfeit`, never for another
brand, never for bots; the counts survive a restart."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

HOUR = datetime.timedelta(hours=1)


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def same(a, d):
    """a (as iso() wrote it) and the server's d name the same instant."""
    return isinstance(d, str) and d.replace(".000Z", "Z") == a


def flip(path):
    """The same code with its last character (in its tag) changed."""
    last = path[-1]
    return path[:-1] + ("0" if last != "0" else "1")


def path_of(url):
    return url[url.index("/", 8):]


with Env() as env:
    batch, paths = env.setup_brand("acme", count=10)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, bpaths = env.setup_brand("beta", "https://BETA.EXAMPLE", sku="B1",
                                count=3, init=False)
    A = env.token("acme", "admin")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")

    def ov(q, tok=A):
        st, d = srv.api("GET", "stats/overview?" + q, tok)
        return st, d

    # ---- time zones ----
    for p in paths[:3]:
        srv.scan(p)
    now = datetime.datetime.now(datetime.timezone.utc).replace(
        minute=0, second=0, microsecond=0)
    frm, to = now - 2 * HOUR, now + HOUR
    q = "bucket=hour&from=%s&to=%s" % (iso(frm), iso(to))
    st0, d0 = ov(q + "&tz=0")
    for tz in ("8", "-5", "14", "%2B8"):
        st, d = ov(q + "&tz=" + tz)
        check(st == 200 and same(iso(frm), d.get("from")) and same(iso(to), d.get("to")),
              "tz=%s: explicit instants kept (%s..%s)" % (
                  tz, d.get("from"), d.get("to")))
        check(d["totals"]["scans"] == 3 and len(d["series"]) == 3 and
              d["series"][2]["scans"] == 3,
              "tz=%s: this hour's 3 scans in this hour's bucket (%s)" % (
                  tz, [s["scans"] for s in d.get("series", [])]))
    check(st0 == 200 and d0["totals"]["scans"] == 3, "tz=0: the same 3")
    # An offset names the same instant as its Z form.
    local = (frm + 8 * HOUR).strftime("%Y-%m-%dT%H:%M:%S") + "%2B08:00"
    st, d = ov("bucket=hour&tz=8&from=%s&to=%s" % (local, iso(to)))
    check(st == 200 and same(iso(frm), d["from"]) and
          d["totals"]["scans"] == 3, "+08:00 offset: the same instant")
    # A date is a local day: its midnight is tz hours before UTC's.
    today8 = (now + 8 * HOUR).date()
    st, d = ov("bucket=day&tz=8&from=%s&to=%s" % (today8, today8))
    mid = datetime.datetime.combine(today8, datetime.time(),
                                    datetime.timezone.utc) - 8 * HOUR
    check(st == 200 and same(iso(mid), d["from"]) and
          same(iso(mid + 24 * HOUR), d["to"]) and d["totals"]["scans"] == 3,
          "a date in tz=8: local midnight to midnight (%s..%s)" % (
              d.get("from"), d.get("to")))
    st, d = ov("bucket=hour&tz=8&from=%s&to=%s" % (today8, today8))
    check(st == 200 and same(iso(mid), d["from"]) and len(d["series"]) == 24 and
          d["totals"]["scans"] == 3, "by hour, a date is the local day too")
    st, d = ov("bucket=day&tz=-5")
    check(st == 200 and d["totals"]["scans"] == 3 and
          d["from"].endswith("T05:00:00.000Z"),
          "default range by day in tz=-5: local days (%s)" % d.get("from"))
    st, d = ov("bucket=day&tz=8&from=%s&to=%s" % (iso(frm), iso(to)))
    check(st == 200 and d["totals"]["scans"] == 3 and
          d["from"].endswith("T16:00:00.000Z"),
          "instants by day: widened to whole local days (%s)" % d.get("from"))
    for bad in ["from=2026-12-05T02:00:00", "from=2026-12-05T02:00:00%2B8",
                "from=2026-12-05%2002:00:00Z", "tz=15", "tz=-13", "tz=8.5",
                "from=2026-13-01", "bucket=week"]:
        st, d = ov("bucket=hour&" + bad if "bucket" not in bad else bad)
        check(st == 400 and d["error"]["code"] == "bad_query",
              "refused: %s (%s %s)" % (bad, st, d))

    # ---- counterfeit: counted, located, alerted for the key's brand ----
    st, doc, dev = srv.scan(flip(paths[0]))
    check(st == 200 and doc["verdict"] == "counterfeit",
          "a forged acme tag: counterfeit")
    st, d = ov("bucket=hour&tz=8")
    check(d["totals"]["counterfeit"] == 1 and d["totals"]["scans"] == 3,
          "acme's counterfeit KPI 1, scans unchanged (%s)" % d["totals"])
    st, d = ov("bucket=hour&tz=8", B)
    check(d["totals"]["counterfeit"] == 0, "beta counts no acme fake")
    st, al = srv.api("GET", "alerts?type=counterfeit", A)
    check(st == 200 and len(al["alerts"]) == 1 and
          al["alerts"][0]["type"] == "counterfeit" and
          "location" not in al["alerts"][0],
          "a counterfeit alert, no place yet: %s" % al)
    st, al_b = srv.api("GET", "alerts?type=counterfeit", B)
    check(st == 200 and al_b["alerts"] == [], "beta sees no acme alert")
    st, reg = srv.api("GET", "stats/regions", A)
    check(st == 200 and reg["regions"] == [], "no place yet: no region")
    # The consumer shares the place from the counterfeit page (Xi'an).
    st, _, body = srv.request(
        "POST", "/api/v1/scans/%s/location" % doc["scan_id"],
        {"lat": 34.26, "lng": 108.94}, headers={"Cookie": "sg_d=" + dev})
    check(st == 200, "the counterfeit page's location is taken (%d)" % st)
    st, reg = srv.api("GET", "stats/regions", A)
    cell = [r for r in reg["regions"] if r["lat"] == 34 and r["lng"] == 108]
    check(st == 200 and len(cell) == 1 and cell[0]["counterfeit"] == 1 and
          cell[0]["scans"] == 0, "Xi'an's cell on acme's map: %s" % reg)
    st, reg_b = srv.api("GET", "stats/regions", B)
    check(reg_b["regions"] == [], "not on beta's map")
    st, al = srv.api("GET", "alerts?type=counterfeit", A)
    loc = al["alerts"][0].get("location") or {}
    check(abs(loc.get("lat", 0) - 34.26) < 1e-3 and
          abs(loc.get("lng", 0) - 108.94) < 1e-3,
          "the alert shows where the fake was scanned: %s" % loc)
    st, al = srv.api("GET", "alerts", A)
    check(st == 200 and [a["type"] for a in al["alerts"]] == ["counterfeit"],
          "unfiltered alerts list it too")
    # A second location for the same scan changes nothing.
    st, _, _ = srv.request(
        "POST", "/api/v1/scans/%s/location" % doc["scan_id"],
        {"lat": 31.2, "lng": 121.5}, headers={"Cookie": "sg_d=" + dev})
    st2, reg = srv.api("GET", "stats/regions", A)
    check(st == 409 and sum(r["counterfeit"] for r in reg["regions"]) == 1,
          "a second place is refused and not counted (%d)" % st)
    # Bots, beta's fakes and codes naming no key count for nobody here.
    srv.scan(flip(paths[1]), headers={"User-Agent": "WhatsApp/2.23"})
    srv.scan(flip(bpaths[0]))
    srv.scan("/S/NOT-A-CODE")
    st, d = ov("bucket=hour")
    st, db = ov("bucket=hour", B)
    check(d["totals"]["counterfeit"] == 1 and db["totals"]["counterfeit"] == 1,
          "bot: not counted; beta's fake: beta's (%d, %d)" % (
              d["totals"]["counterfeit"], db["totals"]["counterfeit"]))
    st, al = srv.api("GET", "alerts?type=counterfeit", B)
    check(len(al["alerts"]) == 1, "beta's fake: beta's alert")
    # The fake adds nothing to the genuine code's own history.
    st, sdoc, _ = srv.scan(paths[0])
    check(sdoc["verdict"] == "genuine" and sdoc["scan_count"] == 2,
          "the genuine code: 2 scans, its fake not among them (%s)" %
          sdoc["scan_count"])
    check(srv.api("POST", "alerts/%d/actions" % al["alerts"][0]["id"], A,
                  {"action": "clear", "reason": "x"})[0] == 404,
          "beta's alert is not acme's to act on")
    st, al = srv.api("GET", "alerts?type=counterfeit", A)
    aid = al["alerts"][0]["id"]
    for act in ("clear", "revoke_code", "revoke_batch"):
        st, d = srv.api("POST", "alerts/%d/actions" % aid, A,
                        {"action": act, "reason": "test"})
        check(st == 422 and "counterfeit" in d["error"]["message"],
              "%s on a counterfeit alert: 422, nothing changed (%s %s)" % (
                  act, st, d))
    st, d = srv.api("PATCH", "alerts/%d" % aid, A, {"status": "resolved"})
    check(st == 200 and d["status"] == "resolved",
          "a counterfeit alert can be resolved (%s %s)" % (st, d))
    st, d = srv.api("PATCH", "alerts/%d" % aid, A, {"status": "new"})
    st, bad = srv.api("GET", "alerts?type=fake", A)
    check(st == 400 and "counterfeit" in bad["error"]["message"],
          "an unknown alert type is refused, naming counterfeit")

    # ---- unverified: a Digital Link without its tag, for the GTIN's brand
    GTIN = "09506000134352"
    srv.api("POST", "products", A, {"sku": "TEA", "name": "Longjing",
                                    "gtin": GTIN, "gs1": True})
    st, bat = srv.api("POST", "batches", A, {"sku": "TEA", "count": 2,
                                             "lot": "L1"})
    srv.api("POST", "batches/%d/activate" % bat["id"], A)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % bat["id"], A)
    dl = path_of(raw.decode().strip().split("\n")[1].split(",")[1])
    st, u, _ = srv.scan(dl.split("?")[0])
    check(st == 200 and u["verdict"] == "unverified", "no s=: unverified")
    st, f, _ = srv.scan(dl[:-1] + ("2" if dl[-1] != "2" else "3"))
    check(st == 200 and f["verdict"] == "counterfeit", "a forged s=")
    st, d = ov("bucket=hour")
    check(d["totals"]["unverified"] == 1 and d["totals"]["counterfeit"] == 2,
          "acme: unverified 1 apart, counterfeit 2 (%s)" % d["totals"])

    # ---- restart: the counters and the attribution are in the store ----
    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    st, d = srv.api("GET", "stats/overview?bucket=hour&tz=8", A)
    check(st == 200 and d["totals"]["counterfeit"] == 2 and
          d["totals"]["unverified"] == 1 and d["totals"]["scans"] == 4,
          "after a restart: the same totals (%s)" % d["totals"])
    st, al = srv.api("GET", "alerts?type=counterfeit", A)
    check(len(al["alerts"]) == 1 and al["alerts"][0]["count"] == 2 and
          "location" in al["alerts"][0],
          "after a restart: acme's one counterfeit alert, 2 fakes, the place")
    ex = env.sigil("stats", "--json")
    stj = json.loads(ex.stdout)
    check(stj["by_verdict"]["counterfeit"] >= 4,
          "sigil stats still counts every counterfeit scan")
    rows = [json.loads(l) for l in env.sigil(
        "export", "scans", "--format", "ndjson").stdout.splitlines()]
    fakes = [r for r in rows if r.get("verdict") == "counterfeit"]
    check(sorted(r.get("brand") for r in fakes) ==
          ["", "acme", "acme", "acme", "beta"] and
          all(not r.get("serial") for r in fakes),
          "sigil export scans names the brand a fake's key is (none for a "
          "code naming no key, none for serials): %s" % [
              (r.get("brand"), r.get("serial")) for r in fakes])
done()
