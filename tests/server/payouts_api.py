"""The cash-reward brand API and the customer's own payouts against the
real sigild (issue 22), WeChat and WeChat Pay being stand-ins on loopback
(tests/lib/wechat_standin.py, tests/lib/wechatpay_standin.py):

payment settings and keys (GET, PUT; admins only; the keys never in an
answer, the log, the data directory's database or the audit trail);
GET payouts with its filters and paging, GET payouts/{claim}; the hold
queue's approve and reject (admins only; a decision on a payout no
longer held is 409; a reject returns the amount to the budget); each
campaign's cash (GET campaigns/{id}/cash, GET payouts/cash); the daily
statement as JSON and as a CSV with WeChat Pay's transfer-bill columns,
agreeing with the stand-in's bills; the reconciliation; GET
/api/v1/me/payouts (the logged-in customer's only, the confirm package
for a transfer waiting for the customer). Bad input of every kind gets a
clear 4xx and changes nothing; another brand sees nothing.
"""
import base64
import concurrent.futures
import csv
import hashlib
import io
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402
from cashworld import (BIG_BUDGET, BIG_FEN, RED_BUDGET, RED_FEN,  # noqa: E402
                     CashWorld, china_today)

ZH_HEAD = ["商户单号", "微信转账单号", "转账金额(元)", "状态", "收款用户OpenID",
           "创建时间", "更新时间", "失败原因", "本地状态", "领取编号", "活动编号",
           "会员编号"]
EN_HEAD = ["out_bill_no", "transfer_bill_no", "transfer_amount_yuan", "state",
           "openid", "create_time", "update_time", "fail_reason",
           "sigil_state", "claim_id", "campaign_id", "customer_id"]


def err_code(doc):
    return doc.get("error", {}).get("code") if isinstance(doc, dict) else None


def raw(srv, method, path, token, body, ctype="application/json"):
    st, _, data = srv.request(method, "/api/v1/" + path, body=body, headers={
        "Authorization": "Bearer " + token, "Accept": "application/json",
        "Content-Type": ctype})
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def csv_rows(data):
    text = data.decode("utf-8")
    check(text.startswith("\ufeff"), "the CSV starts with a BOM (Excel)")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


with Env() as env:
    w = CashWorld(env)
    srv, A, OP, AN, BETA = w.srv, w.admin, w.operator, w.analyst, w.beta
    answers = []            # every answer the keys could leak into

    def api(method, path, token, body=None):
        st, doc = srv.api(method, path, token, body)
        answers.append(json.dumps(doc, ensure_ascii=False) if not
                       isinstance(doc, bytes) else doc.decode("utf-8",
                                                              "replace"))
        return st, doc

    # ---- payment settings: nothing set yet ----
    st, doc = api("GET", "payments/settings", A)
    check(st == 200 and doc["settings"] is None and
          doc["keys"]["private_key"]["set"] is False and
          doc["keys"]["apiv3_key"]["set"] is False,
          "settings before any: none, no keys (%s %r)" % (st, doc))
    check(doc["notify_url"] == "http://127.0.0.1:%d/wxpay/notify/1" %
          srv.port, "the notify URL comes from --base-url (%r)" %
          doc.get("notify_url"))
    for tok, who in ((OP, "an operator"), (AN, "an analyst")):
        st, doc = api("GET", "payments/settings", tok)
        check(st == 403, "%s may not read the payment settings (%s)" %
              (who, st))
        st, doc = api("PUT", "payments/settings", tok, w.settings_body())
        check(st == 403, "%s may not set them (%s)" % (who, st))
        st, doc = api("PUT", "payments/keys", tok, w.keys_body())
        check(st == 403, "%s may not set the keys (%s)" % (who, st))

    good = w.settings_body()
    bad_settings = [
        ("missing mchid", {k: v for k, v in good.items() if k != "mchid"}),
        ("mchid not digits", dict(good, mchid="19abc")),
        ("appid not wx+16 hex", dict(good, appid="wx123")),
        ("public key not a PEM", dict(good, public_key="not a key")),
        ("pub_key_id of another form", dict(good, pub_key_id="nope")),
        ("an unknown field", dict(good, private_key="x")),
        ("mchid a number", dict(good, mchid=1900000109)),
        ("remark too long", dict(good, remark="红" * 40)),
    ]
    for what, body in bad_settings:
        st, doc = api("PUT", "payments/settings", A, body)
        check(st == 422 and err_code(doc) == "invalid" and
              doc["error"]["message"], "settings with %s: 422 saying why "
              "(%s %r)" % (what, st, doc))
    for what, body in (("not JSON", b"{mchid"), ("an array", b"[1]")):
        st, doc = raw(srv, "PUT", "payments/settings", A, body)
        check(st == 400, "settings %s: 400 (%s)" % (what, st))
    st, doc = api("GET", "payments/settings", A)
    check(st == 200 and doc["settings"] is None,
          "none of the refused settings was kept")
    st, doc = api("PUT", "payments/settings", A, good)
    check(st == 200 and doc["settings"]["mchid"] == good["mchid"] and
          doc["settings"]["pub_key_id"] == good["pub_key_id"],
          "good settings: 200 with what is kept (%s %r)" % (st, doc))
    st, doc = api("GET", "payments/settings", A)
    check(st == 200 and doc["settings"]["appid"] == good["appid"] and
          doc["settings"]["scene_id"] == "1000",
          "GET shows them (%s)" % st)

    # ---- the keys ----
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak_pem = weak.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode()
    kb = w.keys_body()
    bad_keys = [
        ("no key at all", {}),
        ("an unknown field", dict(kb, secret="x")),
        ("a private key that is not PEM", {"private_key": "hello"}),
        ("an RSA key of 1024 bits", {"private_key": weak_pem}),
        ("a public key as the private key",
         {"private_key": w.merchant.pub_pem.decode()}),
        ("an APIv3 key of 31 characters", {"apiv3_key": kb["apiv3_key"][:31]}),
        ("an APIv3 key with a space",
         {"apiv3_key": " " + kb["apiv3_key"][1:]}),
        ("a key that is a number", {"apiv3_key": 12345}),
        ("a good key beside a bad one", dict(kb, apiv3_key="short")),
    ]
    for what, body in bad_keys:
        st, doc = api("PUT", "payments/keys", A, body)
        check(st == 422 and err_code(doc) == "invalid",
              "keys with %s: 422 (%s %r)" % (what, st, doc))
    st, doc = raw(srv, "PUT", "payments/keys", A, b"not json")
    check(st == 400, "keys not JSON: 400 (%s)" % st)
    st, doc = api("GET", "payments/settings", A)
    check(not doc["keys"]["private_key"]["set"] and
          not doc["keys"]["apiv3_key"]["set"],
          "none of the refused keys was kept")
    st, doc = api("PUT", "payments/keys", A, kb)
    der = w.merchant.key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    fp = "SHA256:" + hashlib.sha256(der).hexdigest()
    check(st == 200 and doc["keys"]["private_key"]["set"] and
          doc["keys"]["private_key"]["fingerprint"] == fp and
          doc["keys"]["private_key"]["bits"] == 2048 and
          doc["keys"]["apiv3_key"]["set"],
          "keys set: 200 with only their state and the fingerprint "
          "(%s %r)" % (st, doc))
    st, doc = api("GET", "payments/settings", A)
    check(doc["keys"]["private_key"]["fingerprint"] == fp,
          "GET shows the fingerprint, not the key")
    # Only the APIv3 key again: the private key stays.
    st, doc = api("PUT", "payments/keys", A, {"apiv3_key": kb["apiv3_key"]})
    check(st == 200 and doc["keys"]["private_key"]["fingerprint"] == fp,
          "one key alone replaces that one only")

    # ---- the campaigns and the claims ----
    red_id, big_id = w.campaigns()
    alice, alice_id = w.customer("alice")
    bob, bob_id = w.customer("bob")
    carol, carol_id = w.customer("carol")
    claims = {}
    for who, dev, paths in (("alice", alice, w.red[:3]),
                            ("bob", bob, w.big[:3])):
        for p in paths:
            st, doc = w.claim(dev, p)
            check(st == 201 and doc.get("cash") and doc["cash"]["fen"] > 0,
                  "%s claims %s: 201 with cash (%s %r)" % (who, p, st, doc))
            claims.setdefault(who, []).append(doc["claim_id"])
    w.wait("alice's three payouts reach WeChat Pay (accepted)",
           lambda: sorted(p["state"] for p in w.payouts(
               query="?customer=%d" % alice_id)) == ["accepted"] * 3)
    held = w.payouts(query="?state=held")
    check(sorted(p["claim_id"] for p in held) == sorted(claims["bob"]),
          "bob's three (8.88 > 5.00) are held (%r)" %
          [p["claim_id"] for p in held])

    # ---- GET payouts ----
    every = w.payouts()
    check(len(every) == 6 and [p["claim_id"] for p in every] ==
          sorted([p["claim_id"] for p in every], reverse=True),
          "six payouts, newest first")
    one = next(p for p in every if p["claim_id"] == claims["alice"][0])
    openid = w.wx.openid(w.merchant.appid, "alice")
    check(one["fen"] == RED_FEN and one["yuan"] == "1.88" and
          one["campaign_id"] == red_id and one["customer_id"] == alice_id and
          one["out_bill_no"] == "SG1C%d" % one["claim_id"] and
          one["bill_no"] and one["wx_state"] == "WAIT_USER_CONFIRM" and
          one["openid"] == openid[:4] + "****" + openid[-4:],
          "a payout's fields, its openid masked (%r)" % one)
    check(openid not in json.dumps(every), "no full openid in the list")
    for q, want in (("?campaign=%d" % red_id, 3), ("?campaign=%d" % big_id, 3),
                    ("?state=accepted", 3), ("?state=paid", 0),
                    ("?customer=%d" % bob_id, 3),
                    ("?customer=%d" % carol_id, 0),
                    ("?date=" + china_today(), 6), ("?date=2020-01-01", 0),
                    ("?campaign=%d&state=held" % big_id, 3)):
        check(len(w.payouts(query=q)) == want, "filter %s: %d" % (q, want))
    page = w.srv.api("GET", "payouts?limit=4", A)[1]
    rest = w.srv.api("GET", "payouts?limit=4&before=%d" % page["next"], A)[1]
    check(len(page["payouts"]) == 4 and len(rest["payouts"]) == 2 and
          rest["next"] is None and
          [p["claim_id"] for p in page["payouts"] + rest["payouts"]] ==
          [p["claim_id"] for p in every], "paged by before=next: all, once")
    for q in ("?state=bogus", "?limit=0", "?limit=1001", "?before=x",
              "?date=2026-13-45", "?campaign=abc", "?customer=-1",
              "?state=%ff"):
        st, doc = api("GET", "payouts" + q, A)
        check(400 <= st < 500 and err_code(doc) in ("bad_query", "invalid"),
              "payouts%s: a clear 4xx (%s %r)" % (q, st, doc))
    st, doc = api("GET", "payouts", AN)
    check(st == 200 and len(doc["payouts"]) == 6, "an analyst may read them")
    st, doc = api("GET", "payouts", BETA)
    check(st == 200 and doc["payouts"] == [], "another brand sees none")

    # ---- GET payouts/{claim} ----
    st, doc = api("GET", "payouts/%d" % claims["alice"][0], AN)
    check(st == 200 and doc["claim_id"] == claims["alice"][0],
          "one payout (%s)" % st)
    for path, tok in (("payouts/999999", A), ("payouts/abc", A),
                      ("payouts/0", A),
                      ("payouts/%d" % claims["alice"][0], BETA)):
        st, doc = api("GET", path, tok)
        check(st == 404, "GET %s: 404 (%s)" % (path, st))

    # ---- cash per campaign ----
    def cash(cid, tok=A):
        return api("GET", "campaigns/%d/cash" % cid, tok)

    st, doc = cash(red_id, AN)
    check(st == 200 and doc["budget_fen"] == RED_BUDGET and
          doc["reserved_fen"] == 3 * RED_FEN and
          doc["remaining_fen"] == RED_BUDGET - 3 * RED_FEN and
          doc["states"]["accepted"] == {"count": 3, "fen": 3 * RED_FEN},
          "red's cash (%s %r)" % (st, doc))
    st, big0 = cash(big_id)
    check(big0["reserved_fen"] == 3 * BIG_FEN and
          big0["states"]["held"] == {"count": 3, "fen": 3 * BIG_FEN},
          "big's cash: three held (%r)" % big0)
    for path, tok in (("campaigns/999/cash", A), ("campaigns/abc/cash", A),
                      ("campaigns/%d/cash" % red_id, BETA)):
        st, doc = api("GET", path, tok)
        check(st == 404, "GET %s: 404 (%s)" % (path, st))
    st, doc = api("GET", "payouts/cash", AN)
    check(st == 200 and sorted(c["campaign_id"] for c in doc["campaigns"]) ==
          sorted([red_id, big_id]), "every cash campaign (%s)" % st)

    # ---- another merchant while payouts are in flight: refused ----
    st, before = api("GET", "payments/settings", A)
    st, doc = api("PUT", "payments/settings", A,
                  dict(good, mchid="1900000999"))
    check(st == 409 and err_code(doc) == "payouts_in_flight",
          "another mchid while payouts are accepted: 409 (%s %r)" % (st, doc))
    check(api("GET", "payments/settings", A)[1]["settings"] ==
          before["settings"], "the refused merchant was not kept")
    st, doc = api("PUT", "payments/settings", A,
                  dict(before["settings"], remark="新的备注"))
    check(st == 200 and doc["settings"]["remark"] == "新的备注",
          "the same merchant may change its other settings (%s)" % st)
    st, doc = api("PUT", "payments/settings", A, before["settings"])
    check(st == 200, "and back (%s)" % st)

    # ---- approve and reject: admins only, held only ----
    b1, b2, b3 = claims["bob"]
    for tok, who in ((OP, "an operator"), (AN, "an analyst")):
        for how in ("approve", "reject"):
            st, doc = api("POST", "payouts/%d/%s" % (b1, how), tok)
            check(st == 403, "%s may not %s (%s)" % (who, how, st))
    st, doc = api("POST", "payouts/%d/approve" % b1, BETA)
    check(st == 404, "another brand's admin: 404 (%s)" % st)
    bad_bodies = [
        ("approve", {"reason": "x"}, 422), ("approve", {"x": 1}, 422),
        ("reject", {"why": "x"}, 422), ("reject", {"reason": "x" * 64}, 422),
        ("reject", {"reason": 5}, 422),
    ]
    for how, body, want in bad_bodies:
        st, doc = api("POST", "payouts/%d/%s" % (b1, how), A, body)
        check(st == want, "%s with %r: %d (%s %r)" % (how, body, want, st,
                                                       doc))
    st, doc = raw(srv, "POST", "payouts/%d/reject" % b1, A, b"{reason")
    check(st == 400, "a reject whose body is not JSON: 400 (%s)" % st)
    for path in ("payouts/999999/approve", "payouts/abc/reject"):
        st, doc = api("POST", path, A)
        check(st == 404, "POST %s: 404 (%s)" % (path, st))
    st, doc = api("POST", "payouts/%d/approve" % one["claim_id"], A)
    check(st == 409 and err_code(doc) == "not_held",
          "approving a payout that is not held: 409 (%s %r)" % (st, doc))
    check(cash(big_id)[1] == big0, "nothing refused changed big's cash")
    check(len(w.payouts(query="?state=held")) == 3, "all three still held")

    st, doc = api("POST", "payouts/%d/reject" % b1, A,
                  {"reason": "同一设备多次领取"})
    check(st == 200 and doc["state"] == "rejected" and
          doc["fail_reason"] == "同一设备多次领取",
          "an admin rejects one (%s %r)" % (st, doc))
    st, c1 = cash(big_id)
    check(c1["reserved_fen"] == 2 * BIG_FEN and
          c1["states"]["rejected"] == {"count": 1, "fen": BIG_FEN} and
          c1["remaining_fen"] == BIG_BUDGET - 2 * BIG_FEN,
          "its 8.88 is back in the budget (%r)" % c1)
    for how in ("reject", "approve"):
        st, doc = api("POST", "payouts/%d/%s" % (b1, how), A)
        check(st == 409, "%s of a rejected payout: 409 (%s)" % (how, st))
    check(cash(big_id)[1] == c1, "returned once, not twice")
    st, doc = api("POST", "payouts/%d/reject" % b2, A)
    check(st == 200 and doc["state"] == "rejected" and doc["fail_reason"],
          "a reject without a reason (%s %r)" % (st, doc))
    st, doc = api("POST", "payouts/%d/approve" % b3, A)
    check(st == 200 and doc["state"] in ("pending", "accepted"),
          "an admin approves one (%s %r)" % (st, doc))
    w.wait("the approved payout reaches WeChat Pay at once",
           lambda: w.srv.api("GET", "payouts/%d" % b3, A)[1]["state"] ==
           "accepted")
    bills = {b["out_bill_no"]: b for b in w.pay.bills()}
    check("SG1C%d" % b3 in bills and "SG1C%d" % b1 not in bills,
          "a bill for the approved one, none for the rejected")
    st, doc = api("GET", "audit?limit=50", A)
    acts = [e["action"] for e in doc.get("entries", doc.get("audit", []))] \
        if st == 200 else []
    check(acts.count("payout_settle") >= 3 and "pay_keys_put" in acts and
          "pay_settings_put" in acts,
          "approve, reject, settings and keys are in the audit trail (%r)" %
          acts[:12])

    # ---- the customer's own payouts ----
    st, doc = w.call("GET", "/api/v1/me/payouts")
    check(st == 401, "no session: 401 (%s)" % st)
    st, doc = w.call("GET", "/api/v1/me/payouts", device=alice)
    mine = doc["payouts"] if st == 200 else []
    check(sorted(p["claim_id"] for p in mine) == sorted(claims["alice"]) and
          all(p["state"] == "confirm" and p["fen"] == RED_FEN and
              p["confirm"]["mchId"] == w.merchant.mchid and
              p["confirm"]["appId"] == w.merchant.appid and
              p["confirm"]["package"] for p in mine),
          "alice sees her three, waiting for her with WeChat's package "
          "(%s %r)" % (st, mine[:1]))
    check(openid not in json.dumps(doc) and "score" not in json.dumps(doc),
          "no openid and no score for the consumer")
    st, doc = w.call("GET", "/api/v1/me/payouts?code=" + w.red[1],
                     device=alice)
    check([p["claim_id"] for p in doc["payouts"]] == [claims["alice"][1]],
          "?code=: that code's payout only")
    st, doc = w.call("GET", "/api/v1/me/payouts?code=" + w.red[5],
                     device=alice)
    check(st == 200 and doc["payouts"] == [], "a code she did not claim: "
          "none")
    st, doc = w.call("GET", "/api/v1/me/payouts", device=bob)
    states = {p["claim_id"]: p["state"] for p in doc["payouts"]}
    check(states == {b1: "returned", b2: "returned", b3: "confirm"},
          "bob: two returned, the approved one waiting (%r)" % states)
    st, doc = w.call("GET", "/api/v1/me/payouts", device=carol)
    check(st == 200 and doc["payouts"] == [], "carol sees nobody's payouts")
    # alice accepts one in WeChat: the stand-in pays it, calls back.
    w.pay.confirm("SG1C%d" % claims["alice"][0])
    w.wait("the callback makes it paid",
           lambda: w.srv.api("GET", "payouts/%d" % claims["alice"][0],
                             A)[1]["state"] == "paid")
    st, doc = w.call("GET", "/api/v1/me/payouts?code=" + w.red[0],
                     device=alice)
    p0 = doc["payouts"]
    check(p0 and p0[0]["state"] == "paid" and p0[0]["confirm"] is None and
          p0[0]["paid_at"], "alice reads 已到账 (%r)" % p0)
    w.pay.fail("SG1C%d" % claims["alice"][2])
    w.wait("a transfer WeChat fails is failed, its amount returned",
           lambda: cash(red_id)[1]["states"]["failed"]["count"] == 1)
    check(cash(red_id)[1]["reserved_fen"] == 2 * RED_FEN,
          "red reserves 2 x 1.88 now")

    # ---- the statement ----
    today = china_today()
    st, doc = api("GET", "payouts/statement?date=" + today, OP)
    check(st == 200 and doc["count"] == 6 and doc["date"] == today and
          doc["total_fen"] == 3 * RED_FEN + 3 * BIG_FEN and
          doc["states"]["paid"] == {"count": 1, "fen": RED_FEN} and
          doc["states"]["rejected"]["count"] == 2,
          "the day's statement as JSON (%s %r)" % (st, {
              k: doc.get(k) for k in ("count", "total_fen", "states")}))
    st, doc = api("GET", "payouts/statement?date=%s&campaign=%d" %
                  (today, red_id), OP)
    check(st == 200 and doc["count"] == 3, "one campaign's day")
    st, hdrs, data = srv.request("GET", "/api/v1/payouts/statement.csv?date="
                                 + today, headers={"Authorization":
                                                   "Bearer " + OP})
    rows = csv_rows(data) if st == 200 else [[]]
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/csv")
          and "attachment" in hdrs.get("Content-Disposition", ""),
          "the statement as a file (%s %r)" % (st, hdrs))
    check(rows[0] == ZH_HEAD, "WeChat Pay's transfer-bill columns, in "
          "Chinese (%r)" % rows[0])
    check(len(rows) == 7, "one row per payout (%d)" % (len(rows) - 1))
    stand = {b["out_bill_no"]: b for b in w.pay.bills()}
    for r in rows[1:]:
        out_no = r[0].lstrip("`")
        check(r[0].startswith("`") and out_no.startswith("SG1C"),
              "商户单号 as WeChat's bills write it (%s)" % r[0])
        b = stand.get(out_no)
        if b is not None:
            check(r[1] == "`" + b["transfer_bill_no"] and
                  r[2] == "%.2f" % (b["transfer_amount"] / 100) and
                  r[3] == b["state"],
                  "row %s agrees with WeChat Pay's bill (%r %r)" % (
                      out_no, r[:4], (b["transfer_bill_no"],
                                      b["transfer_amount"], b["state"])))
        else:
            check(r[1] == "" and r[8] in ("rejected", "held"),
                  "row %s: no WeChat bill, and says why (%r)" % (out_no, r))
        check(r[4] == "" or ("****" in r[4] and r[4] != openid),
              "the openid masked (%s)" % r[4])
    st, _, data = srv.request("GET", "/api/v1/payouts/statement?format=csv"
                              "&lang=en&date=" + today,
                              headers={"Authorization": "Bearer " + OP})
    check(st == 200 and csv_rows(data)[0] == EN_HEAD,
          "?format=csv&lang=en: English columns")
    for q, want in (("", 400), ("?date=yesterday", 400),
                    ("?date=%s&format=xml" % today, 400),
                    ("?date=%s&lang=fr" % today, 400),
                    ("?date=%s&campaign=999" % today, 404),
                    ("?date=%s&state=nope" % today, 400)):
        st, doc = api("GET", "payouts/statement" + q, OP)
        check(st == want, "statement%s: %d (%s %r)" % (q, want, st, doc))
    st, doc = api("GET", "payouts/statement?date=" + today, AN)
    check(st == 403, "an analyst may not download statements (%s)" % st)
    st, doc = api("GET", "payouts/statement?date=" + today, BETA)
    check(st == 200 and doc["count"] == 0, "another brand's day is empty")

    # ---- the reconciliation ----
    for q, want in (("", 400), ("?date=bad", 400), ("?date=2999-01-01", 422)):
        st, doc = api("POST", "payouts/reconcile" + q, OP)
        check(st == want, "reconcile%s: %d (%s %r)" % (q, want, st, doc))
    st, doc = api("POST", "payouts/reconcile?date=" + today, AN)
    check(st == 403, "an analyst may not reconcile (%s)" % st)
    st, doc = api("POST", "payouts/reconcile?date=" + today, BETA)
    check(st == 409 and err_code(doc) == "no_settings",
          "a brand without settings: 409 no_settings (%s %r)" % (st, doc))
    st, doc = api("POST", "payouts/reconcile?date=" + today, OP)
    check(st == 200 and doc["checked"] >= 4 and doc["mismatched"] == 0 and
          doc["mismatches"] == [],
          "today reconciles with WeChat Pay: nothing mismatched (%s %r)" %
          (st, doc))

    # ---- decisions racing on one held payout: exactly one applies ----
    st, doc = w.claim(bob, w.big[3])
    check(st == 201 and doc["cash"]["held"], "bob's fourth is held")
    b4 = doc["claim_id"]
    st, before = cash(big_id)
    hows = ["approve"] * 6 + ["reject"] * 2
    with concurrent.futures.ThreadPoolExecutor(len(hows)) as ex:
        got = list(ex.map(lambda how: srv.api(
            "POST", "payouts/%d/%s" % (b4, how), A), hows))
    wins = [(h, d.get("state")) for h, (st, d) in zip(hows, got)
            if st == 200]
    # One decision applies; a repeat of the winning one while the row
    # is still as it left it is answered as done (the store sees a
    # repeat), every other one 409.
    check(len(wins) >= 1 and len(set(wins)) == 1 and
          len(wins) + sum(1 for st, d in got if st == 409 and
                          err_code(d) == "not_held") == 8,
          "8 decisions at once: one outcome, the others 409 (%r)" % wins)
    if wins and wins[0][0] == "approve":
        w.wait("the approved one reaches WeChat Pay once",
               lambda: srv.api("GET", "payouts/%d" % b4, A)[1]["state"] ==
               "accepted")
        check([b["creates"] for b in w.pay.bills()
               if b["out_bill_no"] == "SG1C%d" % b4] == [1],
              "one bill for it at WeChat Pay, asked for once")
    else:
        st, after = cash(big_id)
        check(after["reserved_fen"] == before["reserved_fen"] - BIG_FEN,
              "rejected once: 8.88 back once (%r)" % after)

    # ---- the scan page of a cash campaign stays under 20 KB ----
    for lang in ("zh-CN,zh;q=0.9", "en-US,en;q=0.9"):
        st, _, html = srv.request("GET", w.red[6], headers={
            "Accept-Language": lang, "Accept": "text/html"})
        check(st == 200 and b'id="rw-cash"' in html and
              b'id="rw-take"' in html and len(html) < 20 * 1024,
              "a cash campaign's scan page (%s): %d bytes < 20 KB" % (
                  lang[:2], len(html)))
        check(b'id="fb"' not in html and b"wechat_required=" in html,
              "... without the rating form, with the cash refusals' words")

    # ---- the keys are nowhere but in the keyring ----
    secrets = {"APIv3 key": kb["apiv3_key"].encode(),
               "private key": w.merchant.key_pem}
    for name, s in secrets.items():
        forms = [s, base64.b64encode(s), s.split(b"\n")[1] if
                 b"\n" in s else s]
        check(all(f.decode() not in a for a in answers for f in forms),
              "the %s is in no answer" % name)
        check(all(f not in srv.logtext().encode() for f in forms),
              "the %s is not in the log" % name)
        hits, kept = [], False
        for root, _, files in os.walk(env.data):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                if f == "keyring":
                    kept = base64.b64encode(s) in data
                elif any(x in data for x in forms):
                    hits.append(f)
        check(kept, "the %s is in the keyring (a blob line)" % name)
        check(not hits, "the %s is in no other file of the data directory, "
              "as given or in base64 (%r)" % (name, hits))
    w.stop()
done()
