"""Alerts a brand can act on (issue 19, item 3), against the real sigild:
newest first with paging; one alert per code and signal, updated (count,
last seen) rather than repeated; a status (new, acknowledged, resolved)
with who and when; actions on one code (clear a false flag, revoke it alone) and on
its batch (revoke); names instead of ids and a link to the code's lookup;
roles, brand isolation, and bad input answered 4xx with nothing changed."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402


def code_of(path):
    return path.split("/")[-1]


def iso_age(s):
    """Seconds since an RFC 3339 UTC time."""
    t = time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    return time.time() - (time.mktime(t) - time.timezone)


with Env() as env:
    _, codes = env.setup_brand(sku="TEA", count=12, max_scanners=2)
    b2, codes2 = env.setup_brand(sku="RICE", count=4, max_scanners=2,
                                 init=False)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    op_id = json.loads(env.sigil("token", "list", "--brand", "acme",
                                 "--json").stdout.splitlines()[0])["id"]
    srv = env.start("--api-rate-limit", "0")
    net = [0]

    def clone(path, devices=3):
        """devices scans from as many networks (a /24 each): the third is
        one scanner too many for max_scanners 2."""
        for _ in range(devices):
            net[0] += 1
            st, doc, _ = srv.scan(path, source="127.%d.%d.1" % (
                net[0] // 250, net[0] % 250 + 1))
            if st != 200:
                raise RuntimeError("scan %d" % st)
        return doc

    def alerts(query="", token=AN):
        st, doc = srv.api("GET", "alerts" + query, token)
        if st != 200:
            raise RuntimeError("alerts %d %r" % (st, doc))
        return doc

    def alert(aid, token=AN):
        return srv.api("GET", "alerts/%d" % aid, token)

    # Five clones on TEA (serials 1..5), one on RICE.
    for p in codes[:5]:
        doc = clone(p)
    check(doc["verdict"] == "suspicious", "three scanners on max 2: "
          "suspicious (%s)" % doc["verdict"])
    clone(codes2[0])

    # ---- newest first, paging ----
    doc = alerts()
    ids = [a["id"] for a in doc["alerts"]]
    check(len(ids) == 6 and ids == sorted(ids, reverse=True),
          "inbox newest first (%s)" % ids)
    check(doc["alerts"][0]["product"]["name"] == "Product RICE" and
          doc["alerts"][1]["serial"] == 5, "the newest is RICE's clone")
    check(doc["next"] is None, "one page: next null")
    seen, before, pages = [], "", 0
    while True:
        page = alerts("?limit=2" + before)
        seen += [a["id"] for a in page["alerts"]]
        pages += 1
        if page["next"] is None or pages > 5:
            break
        before = "&before=%d" % page["next"]
    check(seen == ids and pages == 3, "pages of 2 by before=: %s in %d "
          "pages" % (seen, pages))
    asc = alerts("?after=0&limit=4")
    check([a["id"] for a in asc["alerts"]] == sorted(ids)[:4] and
          asc["next"] == sorted(ids)[3],
          "after= keeps the oldest-first feed (%s)" % asc)
    asc = alerts("?after=%d" % asc["next"])
    check([a["id"] for a in asc["alerts"]] == sorted(ids)[4:],
          "after=next gives the rest")

    # ---- one alert per code and signal ----
    first = [a for a in doc["alerts"] if a["serial"] == 1][0]
    check(first["count"] == 1 and first["status"] == "new" and
          first["status_by"] is None and first["status_at"] is None,
          "a new alert: count 1, status new, nobody (%s)" % first)
    clone(codes[0], 2)
    doc = alerts("?type=too_many_scanners")
    mine = [a for a in doc["alerts"] if a["serial"] == 1]
    check(len(mine) == 1 and mine[0]["id"] == first["id"] and
          mine[0]["count"] == 3, "two more scanners: the same alert, "
          "count 3 (%s)" % [(a["id"], a["count"]) for a in mine])
    check(mine[0]["last_seen"] >= mine[0]["at"] and
          mine[0]["at"] == first["at"] and
          mine[0]["last_scan"] > mine[0]["scan"],
          "first seen kept, last seen and last scan moved (%s .. %s)" %
          (mine[0]["at"], mine[0]["last_seen"]))
    check(len(alerts()["alerts"]) == 6, "still six alerts")

    # ---- names and the lookup link ----
    a = mine[0]
    check(a["product"] == {"sku": "TEA", "name": "Product TEA"} and
          a["batch"]["lot"] is not None and a["batch"]["state"] == "active"
          and a["url"].endswith(code_of(codes[0])),
          "names: product, batch lot, the code (%s)" % a)
    check(a["lookup"].startswith("/admin/#/lookup?code=") and
          code_of(codes[0]) in a["lookup"], "a link to the code's lookup")
    st, look = srv.api("GET", "codes/" + code_of(codes[0]), AN)
    check(st == 200 and look["serial"] == 1, "the code it names looks up")

    # ---- status with who and when ----
    st, one = alert(a["id"])
    check(st == 200 and one["id"] == a["id"] and one["count"] == 3,
          "GET alerts/{id}")
    st, res = srv.api("PATCH", "alerts/%d" % a["id"], OP,
                      {"status": "acknowledged"})
    check(st == 200 and res["status"] == "acknowledged" and
          res["status_by"] == {"token": op_id} and
          abs(iso_age(res["status_at"])) < 30,
          "operator acknowledges: who and when (%s)" % res)
    st, one = alert(a["id"])
    check(one["status"] == "acknowledged" and
          one["status_by"] == {"token": op_id}, "the status is kept")
    new = alerts("?status=new")["alerts"]
    check(len(new) == 5 and a["id"] not in [x["id"] for x in new],
          "status=new leaves it out")
    both = alerts("?status=new,acknowledged")["alerts"]
    check(len(both) == 6, "status=new,acknowledged: all six")

    # ---- roles, isolation, bad input: 4xx and nothing changed ----
    snapshot = alerts()
    bad = [
        ("PATCH", "alerts/%d" % a["id"], AN, {"status": "resolved"}, 403,
         "analyst cannot set a status"),
        ("POST", "alerts/%d/actions" % a["id"], AN,
         {"action": "clear", "reason": "checked"}, 403,
         "analyst cannot act"),
        ("PATCH", "alerts/%d" % a["id"], B, {"status": "resolved"}, 404,
         "beta on acme's alert"),
        ("POST", "alerts/%d/actions" % a["id"], B,
         {"action": "revoke_batch", "reason": "x"}, 404,
         "beta acts on acme's alert"),
        ("PATCH", "alerts/%d" % a["id"], OP, {"status": "open"}, 422,
         "unknown status"),
        ("PATCH", "alerts/%d" % a["id"], OP, {"status": 2}, 422,
         "status not a string"),
        ("PATCH", "alerts/%d" % a["id"], OP, {}, 422, "no status"),
        ("PATCH", "alerts/%d" % a["id"], OP, b"[1]", 400, "not an object"),
        ("PATCH", "alerts/999999", OP, {"status": "resolved"}, 404,
         "no such alert"),
        ("PATCH", "alerts/abc", OP, {"status": "resolved"}, 404,
         "id not a number"),
        ("PATCH", "alerts/0", OP, {"status": "resolved"}, 404, "id 0"),
        ("POST", "alerts/%d/actions" % a["id"], OP,
         {"action": "nuke", "reason": "x"}, 422, "unknown action"),
        ("POST", "alerts/%d/actions" % a["id"], OP, {"action": "clear"},
         422, "no reason"),
        ("POST", "alerts/%d/actions" % a["id"], OP,
         {"action": "clear", "reason": "  "}, 422, "blank reason"),
        ("POST", "alerts/%d/actions" % a["id"], OP,
         {"action": "clear", "reason": "a\u0001b"}, 422,
         "control character in reason"),
    ]
    for method, path, tok, body, want, why in bad:
        st, res = srv.api(method, path, tok, body)
        check(st == want and "error" in res, "%s: %d (%s)" % (why, want, st))
    for q, why in [("?before=abc", "before not a number"),
                   ("?before=0", "before 0"),
                   ("?before=3&after=1", "before with after"),
                   ("?type=nope", "unknown type"),
                   ("?status=open", "unknown status"),
                   ("?limit=0", "limit 0")]:
        st, res = srv.api("GET", "alerts" + q, AN)
        check(st == 400 and res["error"]["code"] == "bad_query",
              "GET alerts%s: 400 (%s)" % (q, why))
    st, res = srv.api("GET", "alerts/%d" % a["id"], B)
    check(st == 404, "beta cannot read acme's alert")
    check(alerts("", B)["alerts"] == [], "beta's inbox is empty")
    check(alerts() == snapshot, "nothing changed by the refusals")
    st, look2 = srv.api("GET", "codes/" + code_of(codes[0]), AN)
    check(look2["suspicious"] is True and look2["notes"] == [],
          "the code is untouched")

    # ---- action on the code: clear the false flag ----
    st, res = srv.api("POST", "alerts/%d/actions" % a["id"], OP,
                      {"action": "clear", "reason": "our own tasting team"})
    check(st == 200 and res["action"] == "clear" and
          res["status"] == "resolved" and
          res["status_by"] == {"token": op_id},
          "clear: the alert resolved, by whom (%s)" % res)
    st, look = srv.api("GET", "codes/" + code_of(codes[0]), AN)
    check(look["suspicious"] is False and len(look["notes"]) == 1 and
          look["notes"][0]["reason"] == "our own tasting team",
          "the code is genuine again, the reason in its notes")
    doc = clone(codes[0], 1)
    check(doc["verdict"] == "genuine", "a scan after the clear: genuine")
    # Raised again (a third scanner since the clear): the same alert, new
    # again, by the server.
    clone(codes[0], 2)
    st, one = alert(a["id"])
    check(one["status"] == "new" and one["status_by"] is None and
          one["count"] == 4, "raised again: the same alert, new again "
          "(%s, count %s)" % (one["status"], one["count"]))
    check(len(alerts()["alerts"]) == 6, "still six alerts")

    # A clear from the code lookup resolves the code's clone alert too.
    three = [x for x in alerts()["alerts"] if x["serial"] == 3][0]
    st, res = srv.api("POST", "codes/%s/clear" % code_of(codes[2]), OP,
                      {"reason": "our shop's demo bottle"})
    st, one = alert(three["id"])
    check(st == 200 and one["status"] == "resolved" and
          one["status_by"] == {"token": op_id},
          "a clear on the lookup page resolves the code's alert (%s)" %
          one["status"])

    # ---- action on one code: revoke it, not its batch ----
    two = [x for x in alerts()["alerts"] if x["serial"] == 2][0]
    st, res = srv.api("POST", "alerts/%d/actions" % two["id"], OP,
                      {"action": "revoke_code", "reason": "cloned label"})
    check(st == 200 and res["action"] == "revoke_code" and
          res["status"] == "resolved", "revoke_code: the alert resolved")
    st, d, _ = srv.scan(codes[1])
    check(d["verdict"] == "revoked", "that code scans revoked (%s)" %
          d["verdict"])
    st, d, _ = srv.scan(codes[6])
    check(d["verdict"] == "genuine", "its batch's other codes do not (%s)"
          % d["verdict"])
    st, look = srv.api("GET", "codes/" + code_of(codes[1]), AN)
    check(look["revoked"]["reason"] == "cloned label" and
          look["revoked"]["by"] == {"token": op_id},
          "the lookup says who revoked it and why")
    check(srv.api("GET", "codes/" + code_of(codes[6]), AN)[1]["revoked"]
          is None, "and the others are not revoked")
    st, res = srv.api("POST", "alerts/%d/actions" % two["id"], OP,
                      {"action": "revoke_code", "reason": "again"})
    check(st == 409, "revoking it again: 409")

    # ---- action on the batch: revoke RICE's ----
    rice = [x for x in alerts()["alerts"]
            if x["product"]["sku"] == "RICE"][0]
    st, res = srv.api("POST", "alerts/%d/actions" % rice["id"], OP,
                      {"action": "revoke_batch", "reason": "stolen lot"})
    check(st == 200 and res["status"] == "resolved",
          "revoke_batch: the alert resolved (%s)" % res)
    st, b = srv.api("GET", "batches/%d" % b2, AN)
    check(b["state"] == "revoked", "RICE's batch revoked")
    st, d, _ = srv.scan(codes2[1])
    check(d["verdict"] == "revoked", "its other codes scan revoked (%s)" %
          d["verdict"])
    st, res = srv.api("POST", "alerts/%d/actions" % rice["id"], OP,
                      {"action": "revoke_batch", "reason": "again"})
    check(st == 409, "revoking it again: 409")
    st, b = srv.api("GET", "batches/%d" % (b2 - 1), AN)
    check(b["state"] == "active", "TEA's batch untouched")

    # Resolved by hand, and back.
    st, res = srv.api("PATCH", "alerts/%d" % first["id"], OP,
                      {"status": "resolved"})
    check(st == 200 and res["status"] == "resolved", "resolved by hand")
    st, res = srv.api("PATCH", "alerts/%d" % first["id"], OP,
                      {"status": "new"})
    check(st == 200 and res["status"] == "new", "and reopened")

    # ---- restart: everything kept ----
    before_restart = alerts()
    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    check(alerts() == before_restart, "the inbox survives a restart")

done()
