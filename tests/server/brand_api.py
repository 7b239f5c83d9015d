"""Brand API against the real sigild: tokens and roles, brand isolation on
every endpoint, products and batches, aggregation item -> case -> pallet,
shipments, territories and diversion, code lookup, alerts, bad input."""
import json
import re
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

# Zhejiang, roughly; Hangzhou inside, Beijing far outside.
ZHEJIANG = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}
HANGZHOU = (30.27, 120.15)
BEIJING = (39.90, 116.40)


def stats(env):
    """What sigil stats --json says is recorded. The write-ahead log's
    checkpoint position (and its clean flag) move on their own, on the
    log's checkpoint thread, whenever enough has been committed: they are
    housekeeping, not records, so they are left out of the comparison."""
    doc = json.loads(env.sigil("stats", "--json").stdout)
    for v in doc.values():
        if isinstance(v, dict) and "checkpoint_txnid" in v:
            v.pop("checkpoint_txnid")
            v.pop("clean", None)
    return doc


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")

    # ---- authentication ----
    st, doc = srv.api("GET", "batches")
    check(st == 401 and doc["error"]["code"] == "unauthorized", "no token: 401")
    st, _ = srv.api("GET", "batches", "sgt_" + "a" * 52)
    check(st == 401, "forged token: 401")
    st, _ = srv.api("GET", "batches", A[:-1] + ("a" if A[-1] != "a" else "b"))
    check(st == 401, "one character off: 401")
    tmp = env.token("acme", "analyst")
    tid = json.loads(env.sigil("token", "list", "--brand", "acme",
                               "--json").stdout.splitlines()[-1])["id"]
    env.sigil("token", "revoke", "--brand", "acme", "--key", str(tid))
    st, _ = srv.api("GET", "batches", tmp)
    check(st == 401, "revoked token: 401")
    check("sgt_" not in srv.logtext(), "tokens never reach the log")

    # ---- products and batches ----
    st, doc = srv.api("POST", "products", A, {"sku": "WINE", "name":
                                              "Red <b>wine</b>", "gtin":
                                              "09506000134352"})
    check(st == 201 and doc["gtin"] == "09506000134352", "product created")
    st, doc = srv.api("POST", "products", A, {"sku": "BAD", "name": "x",
                                              "gtin": "09506000134353"})
    check(st == 422 and "check digit" in doc["error"]["message"],
          "bad GTIN check digit: 422")
    st, _ = srv.api("POST", "products", OP, {"sku": "OP", "name": "x"})
    check(st == 403, "operator cannot create products")
    st, doc = srv.api("POST", "batches", OP, {"sku": "WINE", "count": 600,
                                              "lot": "L1"})
    check(st == 201 and doc["state"] == "inactive", "operator creates batch")
    batch = doc["id"]
    st, _ = srv.api("POST", "batches", AN, {"sku": "WINE", "count": 1})
    check(st == 403, "analyst cannot create batches")
    st, doc = srv.api("POST", "batches/%d/activate" % batch, OP)
    check(st == 200 and doc["state"] == "active", "batch activated")
    st, raw = srv.api("GET", "batches/%d/codes.csv" % batch, OP)
    lines = raw.decode().strip().split("\n")
    check(st == 200 and lines[0] == "serial,url" and len(lines) == 601,
          "print file streamed (%d lines)" % len(lines))
    urls = [line.split(",")[1] for line in lines[1:]]
    st, _ = srv.api("GET", "batches/%d/codes.csv" % batch, AN)
    check(st == 403, "analyst cannot download print files")

    # ---- brand isolation: every endpoint with beta's token ----
    before = stats(env)
    for method, path, body in [
            ("GET", "products/WINE", None),
            ("GET", "batches/%d" % batch, None),
            ("POST", "batches/%d/activate" % batch, None),
            ("POST", "batches/%d/revoke" % batch, None),
            ("GET", "batches/%d/codes.csv" % batch, None),
            ("GET", "codes/" + urls[0].split("/")[-1], None),
            ("POST", "aggregations", {"parent": urls[0], "children":
                                      [urls[1]]}),
            ("POST", "shipments", {"distributor": 1, "codes": [urls[0]]}),
            ("GET", "distributors/1", None),
            ("GET", "shipments/1", None)]:
        st, doc = srv.api(method, path, B, body)
        check(st == 404, "beta's token on acme's %s %s: 404 (%s)"
              % (method, path, st))
    st, doc = srv.api("GET", "batches", B)
    check(st == 200 and doc["batches"] == [], "beta lists no acme batches")
    check(stats(env) == before, "nothing changed by beta's attempts")

    # ---- distributors ----
    st, doc = srv.api("POST", "distributors", A, {"name": "Hangzhou Co",
                                                  "territory": ZHEJIANG})
    check(st == 201, "distributor with territory")
    dist = doc["id"]
    for bad, why in [({"type": "Polygon", "coordinates": [[[0, 0], [1, 1],
                                                         [0, 0]]]}, "short"),
                     ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0],
                                                         [1, 1], [0, 2]]]},
                      "not closed"),
                     ({"type": "Point", "coordinates": [0, 0]}, "point"),
                     ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0],
                                                         [1, 1], [0, 0]]]},
                      "range"), ("nonsense", "string")]:
        st, doc = srv.api("POST", "distributors", A, {"name": "X",
                                                      "territory": bad})
        check(st == 422 and doc["error"]["code"] == "bad_territory",
              "invalid GeoJSON (%s): 422 %s" % (why, doc["error"]["message"]
                                                if st == 422 else st))
    st, doc = srv.api("GET", "distributors", A)
    check(len(doc["distributors"]) == 1, "bad territories wrote nothing")

    # ---- aggregation: 12 items -> case, 40 cases -> pallet ----
    items = urls[:480]
    cases = urls[480:520]
    pallet = urls[520]
    ok = True
    for i, case in enumerate(cases):
        st, doc = srv.api("POST", "aggregations", OP, {
            "parent": case, "children": items[i * 12:(i + 1) * 12]})
        ok = ok and st == 201
    check(ok, "40 cases of 12 items packed")
    st, doc = srv.api("POST", "aggregations", OP, {"parent": pallet,
                                                    "children": cases})
    check(st == 201 and doc["children"] == 40, "40 cases on a pallet")
    st, doc = srv.api("POST", "aggregations", OP, {"parent": urls[521],
                                                    "children": [items[0]]})
    check(st == 409, "a code already in another parent: 409")
    st, doc = srv.api("POST", "aggregations", OP, {"parent": items[0],
                                                    "children": [pallet]})
    check(st == 422, "a cycle is refused: 422")
    st, doc = srv.api("POST", "aggregations", OP, {
        "parent": urls[530], "children": [urls[531]] * 2})
    check(st == 422, "duplicate children refused")
    # ---- ship the pallet; scan items inside and outside ----
    st, doc = srv.api("POST", "shipments", OP, {"distributor": dist,
                                                 "codes": [pallet]})
    check(st == 201 and doc["codes"] == 1 + 40 + 480,
          "pallet shipped with everything inside (%s)" % doc.get("codes"))
    ship = doc["id"]
    st, doc = srv.api("POST", "shipments/%d/receive" % ship, OP)
    check(st == 200 and doc["received_at"], "receipt at the distributor")

    def scan_at(url, where):
        st, d, dev = srv.scan("/S/" + url.split("/")[-1])
        st2, _, body = srv.request("POST", "/api/v1/scans/%s/location"
                                   % d["scan_id"], {"lat": where[0],
                                                    "lng": where[1]},
                                   headers={"Cookie": "sg_d=" + dev})
        raws.append(body.decode())
        return d, st2, json.loads(body)
    raws = []
    d, st, inside = scan_at(items[5], HANGZHOU)
    check(st == 200 and inside["diversion"] is False,
          "item scanned inside the territory: diversion false")
    check([t["step"] for t in d["trace"]][:3] ==
          ["commissioning", "shipping", "receiving"],
          "consumer sees the trace (%s)" % [t["step"] for t in d["trace"]])
    # A repeat check of items[5] shows where it was first checked
    # (rounded to 0.1 degree): 北纬 30.3°，东经 120.2° (Hangzhou).
    st, _, page = srv.request("GET", "/S/" + items[5].split("/")[-1],
                              headers={"Accept": "text/html",
                                       "Accept-Language": "zh-CN"})
    check(st == 200 and re.search(r"北纬 30\.3°，东经 120\.[12]°",
                                  page.decode()) is not None,
          "a repeat check shows the first check's place, rounded")
    d, st, outside = scan_at(items[6], BEIJING)
    check(st == 200 and outside["diversion"] is True and
          outside["distributor"]["name"] == "Hangzhou Co" and
          outside["distance_km"] > 500,
          "item scanned in Beijing: diversion true, %s km" %
          outside.get("distance_km"))
    check(re.search(r'"distance_km":\d+\.\d[,}]', raws[-1]) is not None,
          "distance_km is written with one decimal (%s)" % raws[-1][-60:])
    st, doc = srv.api("GET", "alerts?type=diversion", AN)
    check(st == 200 and len(doc["alerts"]) == 1 and
          doc["alerts"][0]["distributor"] == dist, "diversion alert listed")

    # ---- code lookup: the whole chain ----
    st, doc = srv.api("GET", "codes/" + items[6].split("/")[-1], AN)
    check(st == 200 and len(doc["parents"]) == 2 and
          doc["shipment"]["id"] == ship and
          doc["shipment"]["distributor_name"] == "Hangzhou Co",
          "lookup shows item -> case -> pallet -> shipment")
    steps = [e["step"] for e in doc["events"]]
    check("commissioning" in steps and "packing" in steps and
          "shipping" in steps, "lookup events: %s" % steps)
    check(len(doc["scans"]) == 1 and doc["scans"][0]["diversion"] is True,
          "lookup shows the scan with its diversion flag")

    # ---- EPCIS 2.0: every event validated against the standard's rules ----
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
    import epcis_check
    st, doc = srv.api("GET", "epcis/events?limit=1000", AN)
    errs = epcis_check.check_document(doc) if st == 200 else ["status %d" % st]
    check(not errs, "EPCIS query document valid (%s)" % errs[:3])
    evs = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    kinds = [(e["type"], e.get("action"), e.get("bizStep")) for e in evs]
    check(("ObjectEvent", "ADD", "commissioning") in kinds and
          ("AggregationEvent", "ADD", "packing") in kinds and
          ("ObjectEvent", "OBSERVE", "shipping") in kinds and
          ("ObjectEvent", "OBSERVE", "receiving") in kinds and
          ("ObjectEvent", "OBSERVE", "inspecting") in kinds,
          "commissioning, packing, shipping, receiving and scans served")
    ship_ev = [e for e in evs if e.get("bizStep") == "shipping"][0]
    _, pl = srv.api("GET", "codes/" + pallet.split("/")[-1], AN)
    check(ship_ev["destinationList"] and ship_ev["epcList"] ==
          ["https://acme.example/01/09506000134352/21/%d" % pl["serial"]] and
          ship_ev["disposition"] == "in_transit",
          "shipping event names the pallet and its destination")
    agg = [e for e in evs if e["type"] == "AggregationEvent"]
    check(len(agg) == 41 and all(e["parentID"] for e in agg) and
          sum(len(e["childEPCs"]) for e in agg) == 480 + 40,
          "41 aggregation events with parentID and 520 children")
    st, hdrs, raw = srv.request("GET", "/api/v1/epcis/events?limit=2",
                                headers={"Authorization": "Bearer " + AN})
    page = json.loads(raw)
    nxt = hdrs.get("Link", "")
    check(st == 200 and len(page["epcisBody"]["queryResults"]["resultsBody"]
                            ["eventList"]) == 2 and 'rel="next"' in nxt,
          "paging: 2 events and a Link rel=next")
    st, doc2 = srv.api("GET", nxt[nxt.index("</api/v1/") + 9:nxt.index(">")],
                       AN)
    ids1 = {e["eventID"] for e in page["epcisBody"]["queryResults"][
        "resultsBody"]["eventList"]}
    ids2 = {e["eventID"] for e in doc2["epcisBody"]["queryResults"][
        "resultsBody"]["eventList"]}
    check(st == 200 and ids2 and not (ids1 & ids2), "next page continues")
    st, doc = srv.api("GET", "epcis/events?bizStep=shipping", AN)
    check(st == 200 and all(e["bizStep"] == "shipping" for e in doc[
        "epcisBody"]["queryResults"]["resultsBody"]["eventList"]),
          "bizStep filter")
    st, doc = srv.api("GET", "epcis/events?bizStep=dancing", AN)
    check(st == 400, "unknown bizStep: 400")
    st, doc = srv.api("GET", "epcis/events?from=2099-01-01", AN)
    check(st == 200 and doc["epcisBody"]["queryResults"]["resultsBody"][
        "eventList"] == [], "time filter")
    st, doc = srv.api("GET", "epcis/events", B)
    check(st == 200 and doc["epcisBody"]["queryResults"]["resultsBody"][
        "eventList"] == [], "beta sees none of acme's events")

    # ---- GS1 Digital Link products and the resolver ----
    st, doc = srv.api("POST", "products", A, {"sku": "DL", "name": "DL item",
                                              "gtin": "4006381333931",
                                              "gs1": True})
    check(st == 201 and doc["gtin"] == "04006381333931", "GS1 product")
    st, doc = srv.api("POST", "batches", OP, {"sku": "DL", "count": 3,
                                              "lot": "AB12"})
    srv.api("POST", "batches/%d/activate" % doc["id"], OP)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % doc["id"], OP)
    dl = raw.decode().split("\n")[1].split(",")[1]
    path = dl[dl.index("/01/"):]
    check(path.startswith("/01/04006381333931/10/AB12/21/") and "?s=" in path,
          "print file holds Digital Link URLs: " + path)
    st, d, _ = srv.scan(path)
    check(st == 200 and d["verdict"] == "genuine", "Digital Link scan genuine")
    before = stats(env)
    bad_cd = path.replace("04006381333931", "04006381333932")
    st, _, body = srv.get(bad_cd)
    check(st == 400 and b"bad_digital_link" in body, "bad check digit: 400")
    serial = path.split("/21/")[1].split("?")[0]
    swapped = "/01/04006381333931/21/%s/10/AB12?%s" % (serial,
                                                      path.split("?")[1])
    st, _, body = srv.get(swapped)
    check(st == 400, "qualifiers out of order (21 before 10): 400")
    check(stats(env) == before, "malformed Digital Links record nothing")
    st, hdrs, body = srv.get(path + "&linkType=all")
    ls = json.loads(body)
    check(st == 200 and hdrs["Content-Type"].startswith(
        "application/linkset+json") and "https://gs1.org/voc/pip" in
        ls["linkset"][0] and "https://gs1.org/voc/traceability" in
        ls["linkset"][0], "linkType=all: an RFC 9264 linkset")
    st, _, body = srv.get(path + "&linkType=gs1:traceability")
    tr = json.loads(body)
    check(st == 200 and tr["trace"][0]["step"] == "commissioning",
          "linkType=gs1:traceability: trace JSON")
    st, _, body = srv.get(path + "&linkType=gs1:pip",
                          headers={"Accept": "text/html"})
    check(st == 200 and b"<html" in body, "linkType=gs1:pip: landing page")
    check(stats(env) != before, "the product page visit is a scan")
    st, _, body = srv.get("/.well-known/gs1resolver")
    check(st == 200 and json.loads(body)["supportedPrimaryKeys"] == ["01"],
          "/.well-known/gs1resolver")

    # ---- bulk: 100,000 children in one call, and 100,001 refused ----
    st, doc = srv.api("POST", "batches", OP, {"sku": "WINE",
                                              "count": 100002})
    big = doc["id"]
    srv.api("POST", "batches/%d/activate" % big, OP)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % big, OP)
    big_urls = [l.split(",")[1] for l in raw.decode().strip().split("\n")[1:]]
    before = stats(env)
    st, doc = srv.api("POST", "aggregations", OP, {
        "parent": big_urls[0], "children": big_urls[1:100002]})
    check(st == 413 and stats(env) == before,
          "100,001 children: 413, nothing written")
    t0 = time.time()
    st, doc = srv.api("POST", "aggregations", OP, {
        "parent": big_urls[0], "children": big_urls[1:100001]})
    secs = time.time() - t0
    check(st == 201 and doc["children"] == 100000,
          "100,000 children in one call: %.2f s" % secs)
    check(secs < 2.0 or os.environ.get("SANITIZE"), "answered within 2 s")

    # ---- bad input ----
    for body in [b"{", b"[]", b'{"sku": "X", "sku": "Y", "name": "n"}',
                 b"\xff", b'{"sku": 5, "name": "n"}',
                 b'{"sku": "a\\u0000b", "name": "n"}']:
        st, doc = srv.api("POST", "products", A, body)
        check(st in (400, 422), "bad product body %r: %s" % (body[:30], st))
    st, _ = srv.api("GET", "nonexistent", A)
    check(st == 404, "unknown endpoint: 404")
    st, _ = srv.api("DELETE", "batches", A)
    check(st == 405, "wrong method: 405")
    st, _ = srv.api("GET", "batches/99999999999999999999", A)
    check(st == 404, "absurd id: 404")
done()
