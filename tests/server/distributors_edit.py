"""PATCH /api/v1/distributors/{id} against the real sigild (issue 19):
name, territory and gln change (admin only); every bad input is a clear
4xx that changes nothing (territory checked as on creation, 1 MiB cap);
another brand's distributor is a 404; and the diversion check of the
next scan uses the new territory (the territory cache is dropped)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

# Zhejiang and Beijing, roughly (boxes: lng, lat).
ZHEJIANG = {"type": "Polygon", "coordinates": [[
    [118.0, 27.0], [122.9, 27.0], [122.9, 31.2], [118.0, 31.2],
    [118.0, 27.0]]]}
BEIJING_BOX = {"type": "Polygon", "coordinates": [[
    [115.4, 39.4], [117.5, 39.4], [117.5, 41.1], [115.4, 41.1],
    [115.4, 39.4]]]}
HANGZHOU = (30.27, 120.15)
BEIJING = (39.90, 116.40)
# A GLN (GS1 General Specifications 3.4.9, 7.9.1): 12 digits and a
# mod-10 check digit, the digits weighted 1, 3, 1, ... from the left for
# a 13-digit key (3 on the digit next to the check digit).


def gln(body12):
    s = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body12))
    return body12 + str((10 - s % 10) % 10)


GOOD_GLN = gln("950600013435")
BAD_GLN = GOOD_GLN[:-1] + str((int(GOOD_GLN[-1]) + 1) % 10)

with Env() as env:
    _, paths = env.setup_brand("acme", count=20)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")

    st, doc = srv.api("POST", "distributors", A, {
        "name": "Hangzhou Co", "territory": ZHEJIANG, "gln": GOOD_GLN})
    check(st == 201, "distributor made (%d %s)" % (st, doc))
    did = doc["id"]
    st, bdoc = srv.api("POST", "distributors", B, {
        "name": "Beta Dist", "territory": BEIJING_BOX})
    check(st == 201, "beta's distributor made")

    def state():
        st, d = srv.api("GET", "distributors/%d" % did, AN)
        assert st == 200, (st, d)
        return d

    def audit_count():
        st, d = srv.api("GET", "audit?action=distributor_update&limit=100",
                        A)
        return len(d.get("audit", d.get("entries", []))) if st == 200 else -1

    before = state()
    audits = audit_count()

    # ---- bad input: a clear 4xx, nothing changed ----
    huge = {"type": "Polygon", "coordinates": [[
        [118.0 + i * 1e-7, 27.0] for i in range(60000)] + [[118.0, 27.0]]]}
    cases = [
        ("{}", {}, 422, "invalid"),
        ("unknown field", {"name": "X", "colour": "red"}, 422, "invalid"),
        ("id is not editable", {"id": 9}, 422, "invalid"),
        ("created not editable", {"created": "2020-01-01"}, 422, "invalid"),
        ("empty name", {"name": ""}, 422, None),
        ("name not text", {"name": 5}, 422, None),
        ("name too long", {"name": "x" * 300}, 422, None),
        ("name with control", {"name": "a\u0001b"}, 422, None),
        ("bad gln check digit", {"gln": BAD_GLN}, 422, "bad_gln"),
        ("gln too short", {"gln": "123"}, 422, "bad_gln"),
        ("gln number", {"gln": 9506000134352}, 422, "bad_gln"),
        ("territory a string", {"territory": "nonsense"}, 422,
         "bad_territory"),
        ("territory null", {"territory": None}, 422, "bad_territory"),
        ("territory a point", {"territory": {"type": "Point",
                                             "coordinates": [0, 0]}},
         422, "bad_territory"),
        ("territory not closed", {"territory": {
            "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1],
                                                [0, 2]]]}},
         422, "bad_territory"),
        ("territory out of range", {"territory": {
            "type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1],
                                                [0, 0]]]}},
         422, "bad_territory"),
        ("territory over 1 MiB", {"territory": huge}, None, None),
        ("good name, bad territory", {"name": "Changed", "territory": "x"},
         422, "bad_territory"),
        ("good territory, bad gln", {"territory": BEIJING_BOX,
                                     "gln": BAD_GLN}, 422, "bad_gln"),
    ]
    for what, body, want, code in cases:
        st, d = srv.api("PATCH", "distributors/%d" % did, A, body)
        if want is None:
            ok = st in (413, 422)
            if st == 422:
                ok = d["error"]["code"] == "bad_territory"
        else:
            ok = st == want and (code is None or
                                 d["error"]["code"] == code)
        check(ok, "%s: %d %s" % (what, st, d.get("error") if
                                 isinstance(d, dict) else d))
    for raw, what in ((b"not json", "not JSON"), (b"[1,2]", "an array"),
                      (b"", "empty body")):
        st, _, body = srv.request(
            "PATCH", "/api/v1/distributors/%d" % did, body=raw,
            headers={"Authorization": "Bearer " + A,
                     "Content-Type": "application/json"})
        check(400 <= st < 500, "%s: %d %s" % (what, st, body[:80]))
    for path, what in (("distributors/0", "id 0"),
                       ("distributors/999", "no such id"),
                       ("distributors/abc", "not a number"),
                       ("distributors/%d" % bdoc["id"] if bdoc["id"] != did
                        else "distributors/999", "id of beta's only")):
        st, d = srv.api("PATCH", path, A, {"name": "X"})
        check(st == 404, "%s: 404 (%d)" % (what, st))
    # Roles and brands.
    st, _ = srv.api("PATCH", "distributors/%d" % did, OP, {"name": "X"})
    check(st == 403, "operator: 403")
    st, _ = srv.api("PATCH", "distributors/%d" % did, AN, {"name": "X"})
    check(st == 403, "analyst: 403")
    st, _ = srv.api("PATCH", "distributors/%d" % did, None, {"name": "X"})
    check(st == 401, "no token: 401")
    st, d = srv.api("GET", "distributors", B)
    beta_before = d
    if bdoc["id"] == did:
        st, d = srv.api("PATCH", "distributors/%d" % did, B, {
            "name": "Hijack", "territory": ZHEJIANG})
        check(st == 200 and d["name"] == "Hijack",
              "beta's token edits beta's distributor %d, not acme's" % did)
        st, d = srv.api("PATCH", "distributors/%d" % did, B, {
            "name": "Beta Dist", "territory": BEIJING_BOX})
        check(st == 200, "beta's put back")
    after = state()
    check(after == before, "nothing of acme's changed by any of that")
    check(audit_count() == audits, "no audit entry for a refused edit")
    st, d = srv.api("GET", "distributors/%d" % bdoc["id"], B)
    check(d["name"] == "Beta Dist" and d["territory"] == BEIJING_BOX,
          "beta's distributor is as it was")

    # ---- a ship, then scans against the territory ----
    st, doc = srv.api("POST", "shipments", OP, {"distributor": did,
                                                 "codes": paths[:6]})
    check(st == 201, "six codes shipped to Hangzhou Co (%d %s)" % (st, doc))
    st, doc = srv.api("POST", "shipments/%d/receive" % doc["id"], OP)

    def scan_at(path, where):
        _, d, dev = srv.scan(path)
        st2, _, body = srv.request(
            "POST", "/api/v1/scans/%s/location" % d["scan_id"],
            {"lat": where[0], "lng": where[1]},
            headers={"Cookie": "sg_d=" + dev})
        return st2, json.loads(body)

    st, r = scan_at(paths[0], HANGZHOU)
    check(st == 200 and r["diversion"] is False,
          "before: Hangzhou is inside (%s)" % r)
    st, r = scan_at(paths[1], BEIJING)
    check(st == 200 and r["diversion"] is True,
          "before: Beijing is outside (%s)" % r.get("diversion"))

    # ---- the edit ----
    st, d = srv.api("PATCH", "distributors/%d" % did, A, {
        "name": "Beijing Co", "territory": BEIJING_BOX})
    check(st == 200 and d["name"] == "Beijing Co" and d["id"] == did and
          d["created"] == before["created"] and d.get("gln") == GOOD_GLN,
          "name and territory changed; id, created and gln kept (%s)" % d)
    now = state()
    check(now["territory"] == BEIJING_BOX, "GET shows the new territory")
    st, r = scan_at(paths[2], BEIJING)
    check(st == 200 and r["diversion"] is False,
          "the next scan in Beijing is inside the new territory (%s)" % r)
    st, r = scan_at(paths[3], HANGZHOU)
    check(st == 200 and r["diversion"] is True and
          r["distributor"]["name"] == "Beijing Co",
          "the next scan in Hangzhou is a diversion, named by the new "
          "name (%s)" % r)
    check(audit_count() == audits + 1, "the edit is in the audit trail")

    # gln: cleared with null, set again; name alone keeps the territory.
    st, d = srv.api("PATCH", "distributors/%d" % did, A, {"gln": None})
    check(st == 200 and "gln" not in d, "gln cleared (%s)" % d)
    st, d = srv.api("PATCH", "distributors/%d" % did, A, {"gln": GOOD_GLN,
                                                          "name": "BJ"})
    check(st == 200 and d["gln"] == GOOD_GLN and d["name"] == "BJ",
          "gln and name set")
    check(state()["territory"] == BEIJING_BOX, "territory kept")
    st, d = srv.api("GET", "distributors", A)
    check(len(d["distributors"]) == 1 and d["distributors"][0]["name"] ==
          "BJ", "the list shows the edited name")
    st, d = srv.api("GET", "distributors", B)
    check(d == beta_before, "beta's list unchanged")
    # The change survives a restart (it is in LMDB, not only the cache).
    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    check(state()["territory"] == BEIJING_BOX and state()["name"] == "BJ",
          "after a restart: the edited distributor")
    st, r = scan_at(paths[4], HANGZHOU)
    check(st == 200 and r["diversion"] is True,
          "after a restart, Hangzhou is still a diversion")
done()
