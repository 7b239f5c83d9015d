"""The audit trail (issue 19 item 5): every change through the brand API
(two roles), the dashboard (a user's session) and the sigil CLI is in
GET /api/v1/audit with its actor, role, action, target, detail, address
and time; filters (actor, action, since, until) and paging (limit,
before, next) read it back whole and newest first; the CSV export says the
same; operators and analysts get 403; a refused or failed change records
nothing; no token secret, password or phone appears anywhere in the trail
or its export; consumers' writes (scans, one-time codes, logins, claims)
are not in it; a change and its entry commit together (a FAULT=1 sigild
failing the commit: neither), and every change writes a log line with its
actor (user=N, never token=2147483649)."""
import csv
import datetime
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import (Env, admin_login, check, done,  # noqa: E402
                       outbox_code)

PW = "correct horse battery staple"
PHONE = "13800138000"
FAULT_BIN = os.environ.get("FAULT_BIN")


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


def session(srv, email, password=PW):
    st, sess = admin_login(srv, email, password, "10.11")
    if sess is None:
        raise RuntimeError("login %s: %d" % (email, st))
    cookie, csrf = sess

    def call(method, path, body=None):
        return srv.api(method, path, body=body,
                       headers={"Cookie": "sg_s=" + cookie,
                                "X-CSRF-Token": csrf,
                                "X-Forwarded-For": "10.11.0.9"})
    return call


def trail(srv, token, query="", size=2):
    """Every entry the filters select, page by page (size a page)."""
    out, before, pages = [], None, 0
    while True:
        q = "audit?limit=%d" % size + query
        if before is not None:
            q += "&before=%d" % before
        st, doc = srv.api("GET", q, token)
        if st != 200:
            raise RuntimeError("GET %s: %d %r" % (q, st, doc))
        out += doc["entries"]
        pages += 1
        before = doc["next"]
        if before is None:
            return out
        if pages > 2000:
            raise RuntimeError("more than 2000 pages of %d" % size)


def user_add(env, email, role):
    return json.loads(env.sigil("user", "add", "--brand", "acme", "--email",
                                email, "--role", role, "--json",
                                stdin=PW + "\n").stdout)["id"]


with Env() as env:
    batch, codes = env.setup_brand(count=10)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    ann = user_add(env, "ann@acme.test", "admin")
    otto = user_add(env, "otto@acme.test", "operator")
    unix = env.sigil("user", "list", "--brand", "acme", check=False)
    srv = env.start("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit",
                    "0")

    # ---- who may read it ----
    check(srv.api("GET", "audit", OP)[0] == 403, "an operator token: 403")
    check(srv.api("GET", "audit", AN)[0] == 403, "an analyst token: 403")
    st, _, _ = srv.request("GET", "/api/v1/audit/export.csv",
                           headers={"Authorization": "Bearer " + AN})
    check(st == 403, "an analyst cannot export it either: 403")
    check(srv.api("GET", "audit")[0] == 401, "no credential: 401")
    otto_api = session(srv, "otto@acme.test")
    check(otto_api("GET", "audit")[0] == 403,
          "an operator's dashboard session: 403")
    before_cli = trail(srv, A)
    check(len(before_cli) > 0 and all(e["actor"]["kind"] == "cli"
                                      for e in before_cli),
          "the set-up's CLI changes are in the trail (%d), all cli" %
          len(before_cli))
    cli_actions = [e["action"] for e in reversed(before_cli)]
    check(cli_actions[:2] == ["brand_add", "product_add"] and
          "batch_new" in cli_actions and "batch_activate" in cli_actions and
          "mint" in cli_actions and cli_actions.count("token_new") == 3 and
          cli_actions.count("user_add") == 2,
          "the CLI's brand add, product add, batch new/activate, mint, "
          "token new, user add: %s" % cli_actions)
    cli_user = before_cli[0]["actor"]["id"]
    check(re.fullmatch(r"[a-z_][a-z0-9_.-]*|uid\d+", cli_user) is not None
          and all(e["role"] is None and e["ip"] is None
                  for e in before_cli),
          "CLI entries: actor cli:%s, no role, no address" % cli_user)
    check(srv.api("GET", "audit", B)[1]["entries"][0]["action"] ==
          "token_new" and all(e["target"] != {"type": "brand", "id": "1"}
                              for e in trail(srv, B)),
          "beta reads only beta's entries")
    n0 = len(before_cli)

    # ---- changes through the API: an admin token, an operator token ----
    st, camp = srv.api("POST", "campaigns", A, {
        "name": "Spring", "skus": ["W1"], "starts": day(-1),
        "ends": day(30), "points": 10})
    check(st == 201, "admin creates a campaign")
    st, _ = srv.api("POST", "campaigns/%d/update" % camp["id"], A, {
        "name": "Spring", "skus": ["W1"], "starts": day(-1),
        "ends": day(30), "points": 20})
    check(st == 200, "admin updates it (points 10 -> 20)")
    st, tok = srv.api("POST", "tokens", A, {"role": "operator"})
    check(st == 201 and tok["token"].startswith("sgt_"),
          "admin makes a token over the API")
    st, _ = srv.api("POST", "users/%d/password" % otto, A,
                    {"password": "an entirely new password"})
    check(st == 200, "admin resets otto's password")
    st, b2 = srv.api("POST", "batches", OP, {"sku": "W1", "count": 5})
    check(st == 201, "operator makes a batch")
    st, _ = srv.api("POST", "batches/%d/activate" % b2["id"], OP)
    check(st == 200, "operator activates it")
    st, _ = srv.api("POST", "batches/%d/revoke" % b2["id"], OP)
    check(st == 200, "operator revokes it")

    # ---- a consumer: scan, one-time code, login, claim: not audited ----
    h = {"X-Forwarded-For": "10.12.0.5"}
    st, doc, dev = srv.scan(codes[0], None, h)
    check(st == 200 and dev, "a consumer scans")
    cl_h = {"Accept": "application/json", "X-Forwarded-For": "10.12.0.5",
            "Cookie": "sg_d=" + dev}
    st, _, _ = srv.request("POST", "/api/v1/customers/otp",
                           body={"phone": PHONE, "code": codes[0]},
                           headers=cl_h)
    check(st == 202, "a one-time code is sent")
    st, _, raw = srv.request("POST", "/api/v1/customers/verify",
                             body={"phone": PHONE, "code": codes[0],
                                   "otp": outbox_code(env.data, PHONE)},
                             headers=cl_h)
    check(st == 200, "the consumer logs in")
    cust = json.loads(raw)["customer"]["id"]
    st, _, _ = srv.request("POST", "/api/v1/claims",
                           body={"code": codes[0]}, headers=cl_h)
    check(st == 201, "the consumer claims points")
    # ---- the dashboard: ann pauses the campaign, disables a user ----
    ann_api = session(srv, "ann@acme.test")
    st, _ = ann_api("POST", "campaigns/%d/pause" % camp["id"])
    check(st == 200, "ann pauses the campaign in the dashboard")
    st, _ = ann_api("POST", "users/%d/disable" % otto)
    check(st == 200, "ann disables otto")

    # The brand then exports and erases that customer.
    st, _ = srv.api("GET", "customers/%d/export" % cust, A)
    check(st == 200, "admin exports the customer's data")
    st, _ = srv.api("POST", "customers/%d/erase" % cust, A)
    check(st == 200, "admin erases the customer")

    # ---- refused or failed changes record nothing ----
    mid = trail(srv, A)
    refusals = [
        srv.api("POST", "batches", OP, {"sku": "NOPE", "count": 5})[0] == 404,
        srv.api("POST", "batches/%d/activate" % b2["id"], OP)[0] == 409,
        srv.api("POST", "tokens", AN, {"role": "admin"})[0] == 403,
        srv.api("POST", "campaigns", A, {"name": "x"})[0] == 422,
        srv.api("POST", "batches/%d/revoke" % b2["id"], B)[0] == 404,
        ann_api("POST", "users/me/password",
                {"old_password": "wrong password!!",
                 "new_password": "another new password"})[0] == 403,
        srv.api("POST", "customers/%d/erase" % cust, A)[0] == 409,
    ]
    check(all(refusals), "seven refused changes refused: %s" % refusals)
    after = trail(srv, A)
    check(len(after) == len(mid) and after[0]["seq"] == mid[0]["seq"],
          "and none of them is in the trail (%d == %d entries)" %
          (len(after), len(mid)))

    # ---- what the trail says ----
    new = [e for e in after if e["seq"] > before_cli[0]["seq"]]
    acts = [e["action"] for e in reversed(new)]
    want = ["campaign_create", "campaign_update", "token_new",
            "password_reset", "batch_new", "batch_activate", "batch_revoke",
            "campaign_pause", "user_disable", "customer_export",
            "customer_erase"]
    check(acts == want, "the API's and dashboard's changes in order, and "
          "nothing of the consumer's: %s" % acts)
    by = {e["action"]: e for e in new}
    check([e["seq"] for e in after] == sorted((e["seq"] for e in after),
                                              reverse=True),
          "newest first")
    e = by["campaign_create"]
    check(e["actor"] == {"kind": "token", "id": "1"} and e["role"] ==
          "admin" and e["target"] == {"type": "campaign",
                                      "id": str(camp["id"])} and
          e["ip"] == "127.0.0.1" and e["outcome"] == "ok" and
          e["detail"]["changes"]["name"] == {"after": "Spring"},
          "campaign_create: token 1, admin, the new id, from 127.0.0.1, "
          "its name: %r" % e)
    e = by["campaign_update"]
    check(e["detail"]["changes"].get("points") ==
          {"before": 10, "after": 20} and "name" not in
          e["detail"]["changes"],
          "campaign_update: points before 10 after 20, nothing else: %r" %
          e["detail"])
    e = by["campaign_pause"]
    check(e["actor"] == {"kind": "user", "id": str(ann)} and
          e["role"] == "admin" and e["ip"] == "10.11.0.9" and
          e["detail"]["changes"]["paused"]["after"] is True,
          "campaign_pause: user %d (ann's session), admin, from her "
          "address: %r" % (ann, e))
    e = by["user_disable"]
    check(e["target"] == {"type": "user", "id": str(otto)} and
          e["detail"]["disabled_before"] is False and
          e["detail"]["role"] == "operator",
          "user_disable: otto, operator, enabled before: %r" % e)
    e = by["batch_activate"]
    check(e["actor"]["kind"] == "token" and e["role"] == "operator" and
          e["target"] == {"type": "batch", "id": str(b2["id"])} and
          e["detail"]["state"] == {"before": "inactive",
                                   "after": "active"},
          "batch_activate: the operator token, the batch, inactive -> "
          "active: %r" % e)
    check(by["batch_revoke"]["detail"]["state"] ==
          {"before": "active", "after": "revoked"},
          "batch_revoke: active -> revoked")
    check(by["batch_new"]["target"] == {"type": "batch",
                                        "id": str(b2["id"])} and
          by["batch_new"]["detail"]["count"] == 5,
          "batch_new: the new batch and its count")
    e = by["token_new"]
    check(e["target"] == {"type": "token", "id": str(tok["id"])} and
          e["detail"] == {"role": "operator", "expires": None},
          "token_new: the new token's id and role, nothing else: %r" % e)
    check(by["password_reset"]["target"] == {"type": "user",
                                             "id": str(otto)} and
          by["password_reset"]["detail"] is None,
          "password_reset: the user, no detail")
    check(by["customer_erase"]["target"] == {"type": "customer",
                                             "id": str(cust)} and
          by["customer_export"]["target"] == {"type": "customer",
                                              "id": str(cust)},
          "customer export and erase name the customer by id")

    # ---- the CLI, after the server started ----
    env.sigil("batch", "revoke", "--batch", str(batch))
    env.sigil("token", "revoke", "--brand", "acme", "--id", str(tok["id"]))
    env.sigil("user", "password", "--brand", "acme", "--email",
              "ann@acme.test", stdin="set from the cli, long\n")
    cli = trail(srv, A, "&actor=cli:" + cli_user)
    check([e["action"] for e in cli[:3]] ==
          ["password_reset", "token_revoke", "batch_revoke"] and
          cli[1]["target"] == {"type": "token", "id": str(tok["id"])},
          "the CLI's revoke, token revoke and password, as cli:%s: %s" %
          (cli_user, [e["action"] for e in cli[:3]]))

    # ---- filters and paging ----
    full = trail(srv, A)
    st, one = srv.api("GET", "audit?limit=1000", A)
    check(st == 200 and one["entries"] == full and one["next"] is None,
          "pages of 2 join up to the one page of 1000 (%d entries)" %
          len(full))
    st, d = srv.api("GET", "audit", A)
    check(st == 200 and len(d["entries"]) == min(100, len(full)),
          "default limit 100")
    users = trail(srv, A, "&actor=user:%d" % ann)
    check([e["action"] for e in users] == ["user_disable", "campaign_pause"],
          "actor=user:%d: ann's two" % ann)
    check(len(trail(srv, A, "&actor=user")) == 2, "actor=user: both users' ")
    toks = trail(srv, A, "&actor=token:1")
    check(len(toks) == 6 and all(e["actor"]["id"] == "1" for e in toks),
          "actor=token:1: the admin token's six (%d)" % len(toks))
    check([e["action"] for e in trail(srv, A, "&action=batch_revoke")] ==
          ["batch_revoke", "batch_revoke"],
          "action=batch_revoke: the CLI's and the operator's")
    check(len(trail(srv, A, "&since=%s&until=%s" % (day(0), day(0)))) ==
          len(full) or day(0) != datetime.datetime.utcnow().date().isoformat(),
          "since and until today (UTC) hold every entry")
    check(trail(srv, A, "&since=%s" % day(1)) == [],
          "since tomorrow: nothing")
    check(trail(srv, A, "&until=%s" % day(-1)) == [],
          "until yesterday: nothing")
    pivot = full[len(full) // 2]["at"]
    older = trail(srv, A, "&until=" + pivot)
    check(older and older[0]["at"] <= pivot and
          all(e["at"] <= pivot for e in older) and
          len(trail(srv, A, "&since=" + pivot)) + len(older) >= len(full),
          "until=<an instant> and since=<it> split the trail")
    for q in ["limit=0", "limit=1001", "limit=x", "before=0", "before=x",
              "actor=robot", "actor=user:", "since=2026-13-01",
              "until=yesterday", "since=2026-12-02&until=2026-12-01",
              "action=" + "x" * 60]:
        st, d = srv.api("GET", "audit?" + q, A)
        check(st == 400 and d["error"]["code"] == "bad_query",
              "?%s: 400 bad_query" % q[:40])

    # ---- the CSV ----
    st, hdrs, raw = srv.request("GET", "/api/v1/audit/export.csv",
                                headers={"Authorization": "Bearer " + A})
    rows = list(csv.reader(io.StringIO(raw.decode())))
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/csv")
          and "audit.csv" in hdrs.get("Content-Disposition", ""),
          "export.csv: 200, text/csv, an attachment")
    check(rows[0] == ["seq", "time", "actor_kind", "actor", "role", "action",
                      "target_type", "target_id", "ip", "outcome", "detail"],
          "its header")
    check([int(r[0]) for r in rows[1:]] == [e["seq"] for e in full] and
          [r[5] for r in rows[1:]] == [e["action"] for e in full],
          "the same entries as the API, in the same order (%d)" %
          (len(rows) - 1))
    r = next(r for r in rows[1:] if r[5] == "campaign_update")
    check(r[2:5] == ["token", "1", "admin"] and r[8] == "127.0.0.1" and
          json.loads(r[10])["changes"]["points"] == {"before": 10,
                                                      "after": 20},
          "a row: actor, role, address, the detail's JSON")
    st, _, raw2 = srv.request(
        "GET", "/api/v1/audit/export.csv?actor=user:%d" % ann,
        headers={"Authorization": "Bearer " + A})
    rows2 = list(csv.reader(io.StringIO(raw2.decode())))
    check(st == 200 and [r[5] for r in rows2[1:]] ==
          ["user_disable", "campaign_pause"], "the CSV takes the filters")
    st, _, _ = srv.request("GET", "/api/v1/audit/export.csv?limit=0",
                           headers={"Authorization": "Bearer " + A})
    check(st == 400, "and refuses a bad one: 400")

    # ---- ops nobody wrote a hook for this round are covered too ----
    st, rule = srv.api("POST", "redirects", A,
                       {"sku": "W1", "href": "https://brand.example/x"})
    check(st == 201, "admin adds a redirect rule")
    st, _ = srv.api("DELETE", "redirects/%d" % rule["id"], OP)
    check(st == 403, "an operator may not delete it (403)")
    st, _ = srv.api("DELETE", "redirects/%d" % rule["id"], A)
    check(st == 204 or st == 200, "admin deletes it (%d)" % st)
    st, d = srv.api("GET", "audit?limit=3", A)
    check([(e["action"], e["target"]) for e in d["entries"][:2]] ==
          [("redirect_del", {"type": "redirect", "id": str(rule["id"])}),
           ("redirect_add", {"type": "redirect", "id": str(rule["id"])})],
          "redirect_add and redirect_del, with the rule's id; the refused "
          "delete is not there")

    st, _ = srv.api("PATCH", "products/W1", A, {"name": "Renamed"})
    check(st == 200, "admin renames a product")
    st, d = srv.api("GET", "audit?limit=1&action=product_update", A)
    check(d["entries"][0]["target"] == {"type": "product", "id": "W1"} and
          d["entries"][0]["detail"] == {"changes": {"name": {
              "before": "Product W1", "after": "Renamed"}}},
          "product_update: the product, its name before and after only: %r"
          % d["entries"][0]["detail"])

    # ---- no secret anywhere ----
    blob = json.dumps(full) + raw.decode()
    for name, secret in [("the API token's secret", tok["token"]),
                         ("an admin token's secret", A),
                         ("the reset password", "an entirely new password"),
                         ("the CLI's password", "set from the cli, long"),
                         ("the set-up password", PW),
                         ("the refused new password", "another new password"),
                         ("the consumer's phone", PHONE),
                         ("an email", "@acme.test")]:
        check(secret not in blob, "%s is nowhere in the trail or the CSV" %
              name)

    # ---- logs: one line per change, with its actor ----
    log = srv.logtext()
    check(re.search(r"change brand=1 actor=user:%d role=admin "
                    r"action=campaign_pause target=campaign:%d " %
                    (ann, camp["id"]), log) is not None,
          "the pause is logged with user:%d" % ann)
    check(re.search(r"change brand=1 actor=token:\d+ role=operator "
                    r"action=batch_activate target=batch:%d" % b2["id"],
                    log) is not None,
          "the operator's activation is logged with its token")
    check(re.search(r"customer_export brand=1 customer=%d token=1" % cust,
                    log) is not None and
          re.search(r"customer_erase brand=1 customer=%d token=1" % cust,
                    log) is not None,
          "customer_export and customer_erase log their actor")
    check("token=2147483649" not in log and
          str(0x80000000 | ann) not in log,
          "no dashboard user is logged as a token number")
    check(PHONE not in log and tok["token"] not in log,
          "nor a phone or a token secret")
    # ---- a filter that skips thousands: the CSV still streams ----
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    for i in range(4200):
        conn.request("POST", "/api/v1/products", body=json.dumps(
            {"sku": "Q%04d" % i, "name": "q"}),
            headers={"Authorization": "Bearer " + A,
                     "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            check(False, "product Q%04d: %d" % (i, r.status))
            break
    conn.close()
    st, _, raw = srv.request(
        "GET", "/api/v1/audit/export.csv?action=brand_add",
        headers={"Authorization": "Bearer " + A}, timeout=60)
    rows = list(csv.reader(io.StringIO(raw.decode())))
    check(st == 200 and [r[5] for r in rows[1:]] == ["brand_add"],
          "export.csv?action=brand_add past 4,200 newer entries: its one "
          "row (%d rows)" % (len(rows) - 1))
    st, d = srv.api("GET", "audit?action=brand_add&limit=5", A)
    check(st == 200 and [e["action"] for e in d["entries"]] ==
          ["brand_add"] and d["next"] is None,
          "and the list finds it too, with no next")
    check(srv.proc.poll() is None, "sigild is still up")
    srv.stop()

    # ---- atomic: a commit that fails stores neither ----
    if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
        check(False, "FAULT_BIN names a FAULT=1 build (make FAULT=1 "
              "O=build/fault BINDIR=build/fault/bin); got %r" % FAULT_BIN)
    else:
        import sigiltest
        sigiltest.BIN = FAULT_BIN
        fsrv = env.start("--api-rate-limit", "0")
        n_before = len(trail(fsrv, A, size=1000))
        st, _, _ = fsrv.request("POST", "/debug/faults", b"commit:1")
        check(st == 200, "a FAULT=1 sigild arms one failed commit")
        st, d = fsrv.api("POST", "campaigns", A, {
            "name": "Doomed", "skus": ["W1"], "starts": day(-1),
            "ends": day(30), "points": 5})
        check(st == 503, "the campaign's commit fails: 503 (%d)" % st)
        st, d = fsrv.api("GET", "campaigns", A)
        check(all(c["config"].get("name") != "Doomed" for c in d["campaigns"]),
              "no campaign was stored")
        check(len(trail(fsrv, A, size=1000)) == n_before, "and no entry either")
        st, d = fsrv.api("POST", "campaigns", A, {
            "name": "Second try", "skus": ["W1"], "starts": day(-1),
            "ends": day(30), "points": 5})
        check(st == 201, "the next try commits")
        t = trail(fsrv, A, size=1000)
        check(len(t) == n_before + 1 and t[0]["action"] ==
              "campaign_create" and t[0]["target"]["id"] == str(d["id"]),
              "with its one entry")
        # The entry's own write fails inside the change's transaction:
        # the change is not stored either (one transaction, not two).
        n_before = len(t)
        st, _, _ = fsrv.request("POST", "/debug/faults", b"audit:1")
        check(st == 200, "a FAULT=1 sigild arms one failed audit entry")
        st, d = fsrv.api("POST", "campaigns", A, {
            "name": "Unrecorded", "skus": ["W1"], "starts": day(-1),
            "ends": day(30), "points": 5})
        check(st == 503, "the campaign whose entry fails: 503 (%d)" % st)
        st, d = fsrv.api("GET", "campaigns", A)
        check(all(c["config"].get("name") != "Unrecorded" for c in d["campaigns"]),
              "the campaign was not stored without its entry")
        check(len(trail(fsrv, A, size=1000)) == n_before, "nor any entry")
        st, d = fsrv.api("POST", "campaigns", A, {
            "name": "Recorded", "skus": ["W1"], "starts": day(-1),
            "ends": day(30), "points": 5})
        t = trail(fsrv, A, size=1000)
        check(st == 201 and len(t) == n_before + 1 and
              t[0]["target"]["id"] == str(d["id"]),
              "then a campaign and its entry, together")
        fsrv.stop()
done()
