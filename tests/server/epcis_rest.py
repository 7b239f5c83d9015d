"""EPCIS 2.0 against the real sigild: every event of every answer checked
field by field against the standard's rules (tests/lib/epcis_check.py),
recordTime on each, the versioned 2.0.0 context, the GS1-EPCIS-Version and
GS1-CBV-Version headers; event ids that differ between two installations
holding the same events and stay the same across a restart; the REST
binding's GET /epcis/events with EQ_bizStep (words, CBV URIs, EPCIS 1.x
URNs, pipe lists), eventType, GE_eventTime/LT_eventTime (offsets),
perPage, paging to the end through Link rel="next", tampered and foreign
tokens (400 QueryParameterException, application/problem+json), unknown
and repeated parameters; distributor GLNs as https://id.gs1.org/414/...
and SSCCs for cases and pallets under a brand's GS1 company prefix, and
bad GLNs and prefixes refused with nothing changed."""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
import epcis_check  # noqa: E402

CTX = epcis_check.EPCIS_CONTEXT_2_0_0
GCP = "0614141"
GLN = "9520123456788"          # GS1 Digital Link standard's example GLN
QPE = "epcisException:QueryParameterException"
ZHEJIANG = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}


def gs1_check_digit(body):
    """GS1 General Specifications §7.9.1, written here apart from sigil's."""
    total = 0
    for i, c in enumerate(reversed(body)):
        total += int(c) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def sscc_of(gcp, serial):
    """Extension digit and serial reference: serial's 17 - len(gcp)
    digits; then the prefix goes after the extension digit."""
    room = 17 - len(gcp)
    digits = "%0*d" % (room, serial)
    assert len(digits) == room
    body = digits[0] + gcp + digits[1:]
    return body + gs1_check_digit(body)


def events_of(doc):
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def rest(srv, query, token, headers=None):
    """GET /epcis/events?query: (status, headers, parsed body)."""
    h = {"Accept": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    st, hdrs, raw = srv.request("GET", "/epcis/events" +
                                ("?" + query if query else ""), headers=h)
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw
    return st, hdrs, body


def next_link(hdrs):
    link = hdrs.get("Link", "")
    if 'rel="next"' not in link:
        return None
    return link[link.index("<") + 1:link.index(">")]


def build(env, srv, A, OP):
    """The same trace in any installation: a case of 10 items on a
    pallet, shipped to a distributor with a GLN and received; 5 loose
    items shipped to one without; three consumer scans."""
    st, _ = srv.api("POST", "products", A, {"sku": "WINE", "name": "Wine",
                                            "gtin": "09506000134352"})
    assert st == 201
    st, doc = srv.api("POST", "batches", OP, {"sku": "WINE", "count": 40,
                                              "lot": "L1"})
    batch = doc["id"]
    srv.api("POST", "batches/%d/activate" % batch, OP)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % batch, OP)
    urls = [ln.split(",")[1] for ln in raw.decode().strip().split("\n")[1:]]
    st, d1 = srv.api("POST", "distributors", A, {
        "name": "Hangzhou Co", "territory": ZHEJIANG, "gln": GLN})
    st2, d2 = srv.api("POST", "distributors", A, {
        "name": "Ningbo Co", "territory": ZHEJIANG})
    assert st == 201 and st2 == 201, (st, d1, st2, d2)
    case, pallet = urls[30], urls[31]
    st, _ = srv.api("POST", "aggregations", OP, {"parent": case,
                                                 "children": urls[:10]})
    assert st == 201
    st, _ = srv.api("POST", "aggregations", OP, {"parent": pallet,
                                                 "children": [case]})
    assert st == 201
    st, s1 = srv.api("POST", "shipments", OP, {"distributor": d1["id"],
                                                "codes": [pallet]})
    srv.api("POST", "shipments/%d/receive" % s1["id"], OP)
    st, s2 = srv.api("POST", "shipments", OP, {"distributor": d2["id"],
                                                "codes": urls[10:15]})
    srv.api("POST", "shipments/%d/receive" % s2["id"], OP)
    for u in urls[0:3]:
        st, d, _ = srv.scan("/" + u.split("/", 3)[3])
        assert st == 200 and d["verdict"] == "genuine", (st, d)
    return urls, d1, d2


def shape(evs):
    """What an event is, without its id or times."""
    return [(e["type"], e.get("action"), e.get("bizStep"),
             json.dumps(e.get("epcList", e.get("childEPCs")), sort_keys=True))
            for e in evs]


with Env() as env, Env() as env2:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://beta.example")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")

    # ---- the company prefix: bad ones refused, nothing changed ----
    st, doc = srv.api("GET", "epcis/settings", AN)
    check(st == 200 and doc == {"gs1_company_prefix": None},
          "no company prefix at first")
    for bad in ["61414", "0614141123456", "06141a1", "０６１４１４１", 614141,
                "", ["0614141"], {"gcp": "0614141"}]:
        st, doc = srv.api("POST", "epcis/settings", A,
                          {"gs1_company_prefix": bad})
        check(st == 422, "bad company prefix %r: 422 (%s)" % (bad, st))
    st, _ = srv.api("POST", "epcis/settings", A, {"gs1_company_prefix": GCP,
                                                  "extra": 1})
    check(st == 422, "unknown field beside the prefix: 422")
    st, _ = srv.api("POST", "epcis/settings", OP, {"gs1_company_prefix": GCP})
    check(st == 403, "an operator may not set the prefix")
    st, doc = srv.api("GET", "epcis/settings", AN)
    check(doc == {"gs1_company_prefix": None}, "nothing changed by them")
    st, doc = srv.api("POST", "epcis/settings", A, {"gs1_company_prefix": GCP})
    check(st == 200 and doc == {"gs1_company_prefix": GCP}, "prefix set")
    st, doc = srv.api("GET", "epcis/settings", AN)
    check(doc == {"gs1_company_prefix": GCP}, "prefix read back")
    st, tiers = srv.api("GET", "settings", AN)
    check(st == 200 and len(tiers["tiers"]) == 3,
          "loyalty's settings untouched beside it")

    # ---- GLNs: bad ones refused, nothing written ----
    for bad in ["9520123456787", "952012345678", "95201234567880",
                "952012345678a", 9520123456788, ""]:
        st, doc = srv.api("POST", "distributors", A, {
            "name": "Bad", "territory": ZHEJIANG, "gln": bad})
        check(st == 422 and doc["error"]["code"] == "bad_gln",
              "bad GLN %r: 422 bad_gln (%s)" % (bad, st))
    st, doc = srv.api("GET", "distributors", A)
    check(st == 200 and doc["distributors"] == [],
          "no distributor written by the bad GLNs")

    urls, d1, d2 = build(env, srv, A, OP)
    check(d1.get("gln") == GLN and "gln" not in d2,
          "distributor shows its GLN (and none when it has none)")
    st, doc = srv.api("GET", "distributors/%d" % d1["id"], AN)
    check(doc.get("gln") == GLN, "GLN read back")

    # ---- the whole trace from the REST binding ----
    st, hdrs, doc = rest(srv, "", AN)
    check(st == 200, "GET /epcis/events: 200")
    check(hdrs.get("GS1-EPCIS-Version") == "2.0.0" and
          hdrs.get("GS1-CBV-Version") == "2.0.0",
          "GS1-EPCIS-Version and GS1-CBV-Version 2.0.0")
    errs = epcis_check.check_document(doc, context=CTX)
    check(not errs, "query document valid, recordTime on every event, "
          "2.0.0 context (%s)" % errs[:3])
    check(doc["@context"] == [CTX] and doc["schemaVersion"] == "2.0",
          "@context is the 2.0.0 one, schemaVersion \"2.0\"")
    evs = events_of(doc)
    check(all(e["recordTime"] == e["eventTime"] for e in evs),
          "recordTime is the instant sigil recorded each event")
    steps = [e["bizStep"] for e in evs]
    # 1 commissioning, 2 packing, 2 shipping, 2 receiving, 3 inspecting
    check(sorted(steps) == sorted(["commissioning", "packing", "packing",
                                   "shipping", "shipping", "receiving",
                                   "receiving", "inspecting", "inspecting",
                                   "inspecting"]),
          "every event: %s" % steps)
    check(len(evs) <= 30, "perPage defaults to 30")
    ids = [e["eventID"] for e in evs]
    check(len(set(ids)) == len(ids) and all(
        i.startswith("urn:uuid:") for i in ids), "event ids unique")

    # SSCCs for the case and the pallet; the items keep their Digital Link.
    _, case = srv.api("GET", "codes/" + urls[30].split("/")[-1].split("?")[0],
                      AN)
    _, pallet = srv.api("GET", "codes/" + urls[31].split("/")[-1]
                        .split("?")[0], AN)
    sscc_case = "https://id.gs1.org/00/" + sscc_of(GCP, case["serial"])
    sscc_pallet = "https://id.gs1.org/00/" + sscc_of(GCP, pallet["serial"])
    packs = [e for e in evs if e["bizStep"] == "packing"]
    check(packs[0]["parentID"] == sscc_case and
          packs[1]["parentID"] == sscc_pallet and
          packs[1]["childEPCs"] == [sscc_case],
          "case and pallet named by SSCC (%s, %s)" % (
              packs[0]["parentID"], packs[1]["parentID"]))
    check(all(c.startswith("https://acme.example/01/09506000134352/21/")
              for c in packs[0]["childEPCs"]),
          "items by Digital Link, lower-case host")
    ships = [e for e in evs if e["bizStep"] == "shipping"]
    check(ships[0]["epcList"] == [sscc_pallet], "the pallet shipped by SSCC")
    dest = ships[0]["destinationList"]
    check({"type": "location", "destination":
           "https://id.gs1.org/414/" + GLN} in dest and
          dest[0]["type"] == "owning_party",
          "destination location by GLN: %s" % dest)
    check(ships[1]["destinationList"] == [{
        "type": "owning_party", "destination":
        "https://acme.example/api/v1/distributors/%d" % d2["id"]}],
          "without a GLN the destination stays as before")
    recs = [e for e in evs if e["bizStep"] == "receiving"]
    check(recs[0]["bizLocation"] == {"id": "https://id.gs1.org/414/" + GLN}
          and recs[0]["readPoint"] == recs[0]["bizLocation"],
          "receipt's bizLocation and readPoint by GLN")
    check(recs[1]["bizLocation"]["id"].endswith("/distributors/%d"
                                                % d2["id"]),
          "receipt at a distributor without GLN as before")

    # ---- sigil's own endpoint: same events, same ids, same headers ----
    st, hdrs2, raw = srv.request("GET", "/api/v1/epcis/events?limit=1000",
                                 headers={"Authorization": "Bearer " + AN})
    old = json.loads(raw)
    check(st == 200 and hdrs2.get("GS1-EPCIS-Version") == "2.0.0" and
          not epcis_check.check_document(old, context=CTX) and
          [e["eventID"] for e in events_of(old)] == ids,
          "/api/v1/epcis/events: valid, versioned, the same ids")

    # ---- EQ_bizStep, eventType ----
    def only(query, want, what):
        st, h, d = rest(srv, query, AN)
        got = [e["bizStep"] for e in events_of(d)] if st == 200 else st
        check(st == 200 and sorted(got) == sorted(want) and
              not epcis_check.check_document(d, context=CTX),
              "%s: %s" % (what, got))
    only("EQ_bizStep=shipping", ["shipping"] * 2, "EQ_bizStep word")
    only("EQ_bizStep=" + urllib.parse.quote(
        "https://ref.gs1.org/cbv/BizStep-receiving", safe=""),
        ["receiving"] * 2, "EQ_bizStep CBV 2.0 URI")
    only("EQ_bizStep=urn:epcglobal:cbv:bizstep:packing", ["packing"] * 2,
         "EQ_bizStep EPCIS 1.x URN")
    only("EQ_bizStep=commissioning%7Cinspecting",
         ["commissioning"] + ["inspecting"] * 3, "EQ_bizStep pipe list")
    only("EQ_bizStep=" + urllib.parse.quote("https://example.com/steps/x",
                                            safe=""), [],
         "EQ_bizStep private URI: valid, nothing")
    only("EQ_bizStep=retail_selling", [], "EQ_bizStep CBV step sigil never "
         "records: nothing")
    only("eventType=AggregationEvent", ["packing"] * 2, "eventType")
    only("eventType=ObjectEvent&EQ_bizStep=packing", [],
         "eventType and EQ_bizStep together")
    only("eventType=TransactionEvent", [], "eventType sigil never records")
    only("EQ_action=ADD", ["commissioning", "packing", "packing"],
         "EQ_action ADD")
    only("EQ_action=OBSERVE%7CDELETE", ["shipping"] * 2 + ["receiving"] * 2 +
         ["inspecting"] * 3, "EQ_action pipe list")
    only("EQ_disposition=in_transit", ["shipping"] * 2, "EQ_disposition")
    only("EQ_disposition=" + urllib.parse.quote(
        "https://ref.gs1.org/cbv/Disp-active", safe=""),
         ["commissioning"] + ["inspecting"] * 3, "EQ_disposition CBV URI")
    only("EQ_disposition=recalled", [], "EQ_disposition sigil never records")
    only("EQ_action=ADD&EQ_disposition=active", ["commissioning"],
         "EQ_action and EQ_disposition together")

    # ---- GE_eventTime, LT_eventTime ----
    times = sorted(e["eventTime"] for e in evs)
    first_scan = min(e["eventTime"] for e in evs
                     if e["bizStep"] == "inspecting")
    only("GE_eventTime=" + first_scan, ["inspecting"] * 3 + [
        e["bizStep"] for e in evs if e["eventTime"] >= first_scan and
        e["bizStep"] != "inspecting"], "GE_eventTime")
    only("LT_eventTime=" + times[0], [], "LT_eventTime at the first event")
    only("GE_eventTime=2099-01-01T00:00:00Z", [], "GE_eventTime in 2099")
    only("LT_eventTime=2099-01-01T08:00:00%2B08:00", steps,
         "LT_eventTime with an escaped + offset")
    only("LT_eventTime=2099-01-01T08:00:00+08:00", steps,
         "LT_eventTime with a bare + offset (decoded to a space)")
    only("GE_eventTime=1969-12-31T00:00:00-05:00", steps,
         "GE_eventTime before 1970")
    only("LT_eventTime=1970-01-01T00:00:00Z", [], "LT_eventTime at 1970")
    only("GE_recordTime=" + first_scan, [
        e["bizStep"] for e in evs if e["recordTime"] >= first_scan],
         "GE_recordTime")
    only("LT_recordTime=" + first_scan + "&GE_eventTime=" + times[0], [
        e["bizStep"] for e in evs if e["recordTime"] < first_scan],
         "LT_recordTime with GE_eventTime")
    only("GE_eventTime=" + first_scan + "&LT_eventTime=" + times[0], [],
         "an empty window")

    # ---- bad parameters: 400 with the binding's problem shape ----
    before = [e["eventID"] for e in events_of(rest(srv, "perPage=1000",
                                                   AN)[2])]
    for q, what in [
            ("EQ_bizStep=dancing", "unknown bizStep word"),
            ("EQ_bizStep=" + urllib.parse.quote(
                "https://ref.gs1.org/cbv/BizStep-dancing", safe=""),
             "unknown CBV bizStep URI"),
            ("EQ_bizStep=shipping%7C", "empty element in a list"),
            ("EQ_bizStep=", "empty value"),
            ("eventType=ScanEvent", "unknown eventType"),
            ("GE_eventTime=2026-13-01T00:00:00Z", "month 13"),
            ("GE_eventTime=2026-02-29T00:00:00Z", "29 February 2026"),
            ("LT_eventTime=2026-11-23T08:00:00", "no offset"),
            ("LT_eventTime=2026-11-23", "a date only"),
            ("perPage=0", "perPage 0"), ("perPage=1001", "perPage 1001"),
            ("perPage=-1", "perPage -1"), ("perPage=ten", "perPage ten"),
            ("perPage=3&perPage=4", "a parameter twice"),
            ("EQ_action=add", "EQ_action in lower case"),
            ("EQ_action=ADD%7CSCAN", "EQ_action SCAN"),
            ("EQ_disposition=sold", "unknown disposition"),
            ("GE_recordTime=yesterday", "GE_recordTime not a time"),
            ("EQ_readPoint=https://acme.example",
             "a standard parameter sigil does not serve"),
            ("MATCH_epc=x", "MATCH_epc"), ("limit=3", "sigil's own limit"),
            ("nextPageToken=abc", "a token that is no token"),
            ("nextPageToken=" + "A" * 44, "a forged token")]:
        st, h, d = rest(srv, q, AN)
        check(st == 400 and h.get("Content-Type", "").startswith(
            "application/problem+json") and d.get("type") == QPE and
              d.get("status") == 400 and d.get("title") and
              h.get("GS1-EPCIS-Version") == "2.0.0",
              "%s: 400 %s (%s)" % (what, QPE, d.get("detail")
                                   if isinstance(d, dict) else d))
    after = [e["eventID"] for e in events_of(rest(srv, "perPage=1000",
                                                  AN)[2])]
    check(before == after, "bad queries changed nothing")

    # ---- paging to the end ----
    def pages(query, per):
        got, url, n = [], "/epcis/events?perPage=%d%s" % (per, query), 0
        while url and n < 50:
            st, h, raw = srv.request("GET", url, headers={
                "Authorization": "Bearer " + AN})
            d = json.loads(raw)
            if st != 200:
                return None, st
            check(len(events_of(d)) <= per and not epcis_check.
                  check_document(d, context=CTX) and
                  h.get("GS1-EPCIS-Version") == "2.0.0",
                  "page %d of perPage=%d%s valid, %d events" % (
                      n, per, query, len(events_of(d))))
            got += events_of(d)
            url, n = next_link(h), n + 1
            if url:
                check(url.startswith("/epcis/events?") and "perPage=%d" % per
                      in url, "Link rel=next to /epcis/events: " + url)
        return got, n
    for per in (1, 3, 4, 10, 1000):
        got, n = pages("", per)
        check([e["eventID"] for e in got] == ids and
              n == max(1, -(-len(ids) // per)),
              "perPage=%d: %d pages, every event once, in order" % (per, n))
    got, n = pages("&EQ_bizStep=packing%7Cinspecting", 2)
    check([e["bizStep"] for e in got] == ["packing", "packing", "inspecting",
                                          "inspecting", "inspecting"] and
          n == 3, "paging a filtered query keeps its filter")

    # ---- tampered and foreign tokens ----
    st, h, d = rest(srv, "perPage=2&EQ_bizStep=packing%7Cinspecting", AN)
    link = next_link(h)
    tok = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)[
        "nextPageToken"][0]
    for i in (0, 10, 43):
        bad = tok[:i] + ("B" if tok[i] != "B" else "C") + tok[i + 1:]
        st, h2, d2 = rest(srv, link.split("?", 1)[1].replace(tok, bad), AN)
        check(st == 400 and d2.get("type") == QPE,
              "token with character %d changed: 400" % i)
    st, h2, d2 = rest(srv, "perPage=2&EQ_bizStep=shipping&nextPageToken=" +
                      tok, AN)
    check(st == 400 and d2.get("type") == QPE,
          "token with another filter: 400")
    st, h2, d2 = rest(srv, "perPage=5&EQ_bizStep=packing%7Cinspecting"
                      "&nextPageToken=" + tok, AN)
    check(st == 200 and [e["bizStep"] for e in events_of(d2)] ==
          ["inspecting"] * 3, "the token with another perPage: allowed")
    st, h2, d2 = rest(srv, link.split("?", 1)[1], B)
    check(st == 400 and d2.get("type") == QPE,
          "acme's token with beta's credentials: 400")

    # ---- content negotiation (the binding's 406) ----
    for hdrs, want in [({"Accept": "application/ld+json"}, 200),
                       ({"Accept": "*/*"}, 200),
                       ({"Accept": "application/xml"}, 406),
                       ({"GS1-EPCIS-Min": "2.0.0"}, 200),
                       ({"GS1-EPCIS-Max": "2.0"}, 200),
                       ({"GS1-EPCIS-Max": "1.2.0"}, 406),
                       ({"GS1-EPCIS-Min": "2.1"}, 406),
                       ({"GS1-CBV-Max": "1.2"}, 406),
                       ({"GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0"}, 200),
                       ({"GS1-EPCIS-Max": "two"}, 406)]:
        st, h, d = rest(srv, "perPage=1", AN, hdrs)
        check(st == want and (st == 200 or d.get("type") ==
                              "epcisException:NotAcceptableException"),
              "%s: %d" % (hdrs, st))

    # ---- who may ask ----
    st, h, d = rest(srv, "", None)
    check(st == 401 and d.get("type") == "epcisException:SecurityException"
          and h.get("Content-Type", "").startswith("application/problem+json"),
          "no token: 401 SecurityException")
    st, h, d = rest(srv, "", "sgt_" + "a" * 52)
    check(st == 401, "forged token: 401")
    st, h, d = rest(srv, "", B)
    check(st == 200 and events_of(d) == [], "beta sees none of acme's events")
    st, h, raw = srv.request("POST", "/epcis/events", body={},
                             headers={"Authorization": "Bearer " + A})
    check(st in (404, 405), "POST /epcis/events (capture) is not served: %d"
          % st)

    # ---- stable across a restart ----
    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    st, h, d = rest(srv, "perPage=1000", AN)
    check([e["eventID"] for e in events_of(d)] == ids,
          "the same event keeps its id across a restart")

    # ---- a second installation holding the same events ----
    env2.sigil("init", "--brand", "acme", "--base-url",
               "https://ACME.EXAMPLE")
    env2.sigil("brand", "add", "--brand", "beta", "--base-url",
               "https://beta.example")
    A2 = env2.token("acme", "admin")
    OP2 = env2.token("acme", "operator")
    srv2 = env2.start("--api-rate-limit", "0")
    srv2.api("POST", "epcis/settings", A2, {"gs1_company_prefix": GCP})
    build(env2, srv2, A2, OP2)
    st, h, d2 = rest(srv2, "perPage=1000", A2)
    evs2 = events_of(d2)
    ids2 = [e["eventID"] for e in evs2]
    d1all = rest(srv, "perPage=1000", AN)[2]
    check(shape(evs2) == shape(events_of(d1all)),
          "the second installation holds the same events")
    check(not set(ids) & set(ids2),
          "two installations never give an event the same id")
    check(not epcis_check.check_document(d2, context=CTX),
          "second installation's answer valid too")

    # (back on the first installation)
    # ---- a parent whose serial does not fit an SSCC: refused ----
    st, doc = srv.api("POST", "batches", OP, {"sku": "WINE",
                                              "count": 100000, "lot": "L2"})
    big = doc["id"]
    srv.api("POST", "batches/%d/activate" % big, OP)
    st, raw = srv.api("GET", "batches/%d/codes.csv" % big, OP)
    lines = raw.decode().strip().split("\n")
    far_serial, far = lines[-1].split(",")
    check(int(far_serial) >= 100000, "a code with serial %s" % far_serial)
    st, before = srv.api("GET", "epcis/events?limit=1000", AN)
    # A 12-digit prefix leaves 17 - 12 = 5 digits: at most 99999.
    srv.api("POST", "epcis/settings", A, {"gs1_company_prefix":
                                          "061414112345"})
    st, doc = srv.api("POST", "aggregations", OP, {
        "parent": far, "children": [lines[-2].split(",")[1]]})
    check(st == 422 and doc["error"]["code"] == "sscc_range",
          "serial %s under a 12-digit prefix: 422 sscc_range" % far_serial)
    st, doc = srv.api("POST", "aggregations/unpack", OP, {"parent": far})
    check(st == 404, "and nothing to unpack")
    srv.api("POST", "epcis/settings", A, {"gs1_company_prefix": GCP})
    st, after = srv.api("GET", "epcis/events?limit=1000", AN)
    check(events_of(after) == events_of(before), "nothing packed")
    st, doc = srv.api("POST", "batches/%d/revoke" % big, OP)
    check(st == 200, "the big batch revoked again")

done()
