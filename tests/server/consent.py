"""The privacy notice, the consent ledger and the profile against the real
sigild (issue 20, items 4 and 5; the "Consent" must-show line).

The brand publishes a notice (versioned, zh-CN and English) over the
API; a phone login must acknowledge its current version (none, or an old
one, is refused and nothing is sent); the verify records the consent
(service, plus what was ticked) with time, version, channel and
language. No profile field and no marketing flag is stored without a
consent record: a profile PUT without profile consent is 403 and the
store holds nothing (the export shows no profile, the filters match
nobody); the marketing audience (?marketing=granted) is read from the
ledger each time, so a withdrawal drops the customer at once. Withdrawing
profile consent deletes the profile. The history is in the customer
export and the brand's CSV export; an erasure removes the profile and
keeps the ledger. Bad input of each kind is a 4xx that changes nothing,
and another brand sees nothing of acme's."""
import csv
import io
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, Outbox, check, done  # noqa: E402

ZH = "我们收集您的手机号，用于登录和发放积分。撤回个人资料同意后，资料即被删除。"
EN = "We collect your phone number to log you in and credit points. " \
     "Withdrawing profile consent deletes your profile."


class Consumer:
    def __init__(self, srv, box, code, phone):
        self.srv, self.box, self.code, self.phone = srv, box, code, phone
        st, _, self.device = srv.scan(code)
        assert self.device, "the scan set a device cookie"

    def call(self, method, path, body=None, lang="zh-CN"):
        h = {"Accept": "application/json", "Cookie": "sg_d=" + self.device,
             "Accept-Language": lang}
        st, _, raw = self.srv.request(method, path, body=body, headers=h)
        try:
            return st, json.loads(raw)
        except ValueError:
            return st, raw

    def otp(self, **extra):
        body = {"phone": self.phone, "code": self.code}
        body.update(extra)
        return self.call("POST", "/api/v1/customers/otp", body)

    def verify(self, **extra):
        body = {"phone": self.phone, "code": self.code,
                "otp": self.box.code(self.phone)}
        body.update(extra)
        return self.call("POST", "/api/v1/customers/verify", body)


def outbox_lines(env):
    p = os.path.join(env.data, "otp-outbox.log")
    return open(p).read().count("\n") if os.path.exists(p) else 0


with Env() as env:
    _, paths = env.setup_brand("acme", count=30)
    env.sigil("brand", "add", "--brand", "other", "--base-url",
              "https://o.example")
    A = env.token("acme", "admin")
    R = env.token("acme", "analyst")
    O = env.token("other", "admin")
    srv = env.start("--api-rate-limit", "0", "--trusted-proxy",
                    "127.0.0.1/32")
    box = Outbox(env.data)

    # ---- the notice ----
    st, d = srv.api("GET", "privacy/notices", R)
    check(st == 200 and d == {"current": None, "notices": []},
          "no notice yet: current null")
    bad = [({}, "no texts"), ({"texts": {"zh-CN": ZH}}, "English missing"),
           ({"texts": {"zh-CN": ZH, "en": ""}}, "an empty text"),
           ({"texts": {"zh-CN": ZH, "en": EN, "fr": "x"}}, "a third language"),
           ({"texts": {"zh-CN": ZH, "en": "a\u202eb"}}, "a bidi control"),
           ({"texts": {"zh-CN": "x" * 10001, "en": EN}}, "10,001 characters"),
           ({"texts": ["zh-CN", ZH]}, "texts not an object")]
    for body, why in bad:
        st, d = srv.api("POST", "privacy/notices", A, body)
        check(st == 422 and d["error"]["code"] == "invalid",
              "a notice with %s: 422 (%s)" % (why, d["error"]["message"]))
    st, d = srv.api("POST", "privacy/notices", R,
                    {"texts": {"zh-CN": ZH, "en": EN}})
    check(st == 403, "an analyst token may not publish a notice")
    st, d = srv.api("GET", "privacy/notices", R)
    check(d["notices"] == [], "... and none of those was stored")
    st, d = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": "旧版说明", "en": "Old notice"}})
    check(st == 201 and d["notice"]["version"] == 1, "version 1 published")
    st, d = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": ZH, "en": EN}})
    check(st == 201 and d["notice"]["version"] == 2 and
          d["notice"]["texts"] == {"zh-CN": ZH, "en": EN},
          "a second POST is version 2, with both texts")
    st, d = srv.api("GET", "privacy/notices", R)
    check(st == 200 and d["current"] == 2 and
          [n["version"] for n in d["notices"]] == [1, 2] and
          d["notices"][0]["texts"]["en"] == "Old notice",
          "both versions kept; the current is the latest")
    st, d = srv.api("GET", "privacy/notices", O)
    check(d == {"current": None, "notices": []}, "another brand has none")
    st, d = srv.api("GET", "audit", A)
    check(any(e["action"] == "privacy_notice_add" for e in d["entries"]),
          "the notice is in the audit trail")

    st, _, raw = srv.request("GET", "/api/v1/privacy/notice?brand=acme&lang=en")
    d = json.loads(raw)
    check(st == 200 and d["notice"]["version"] == 2 and
          d["notice"]["text"] == EN and d["notice"]["lang"] == "en" and
          d["profile_fields"] == [],
          "the consumer reads the current notice in English")
    st, _, raw = srv.request("GET", "/api/v1/privacy/notice?code=" +
                             paths[0], headers={"Accept-Language": "zh-CN"})
    d = json.loads(raw)
    check(st == 200 and d["notice"]["text"] == ZH and
          d["notice"]["lang"] == "zh-CN",
          "... and by the scanned code, in zh-CN from Accept-Language")
    st, _, _ = srv.request("GET", "/api/v1/privacy/notice?brand=nobody")
    check(st == 404, "an unknown brand's notice: 404")
    st, _, _ = srv.request("GET", "/api/v1/privacy/notice")
    check(st == 422, "a notice request naming no brand: 422")

    # ---- privacy settings: the profile fields ----
    for body in ({"profile_fields": ["name", "shoe_size"]},
                 {"profile_fields": ["name", "name"]}, {"profile_fields": "name"},
                 {"fields": ["name"]}):
        st, d = srv.api("PUT", "privacy/settings", A, body)
        check(st == 422, "settings %s: 422" % json.dumps(body))
    st, d = srv.api("PUT", "privacy/settings", R, {"profile_fields": []})
    check(st == 403, "an analyst token may not change the settings")
    st, d = srv.api("PUT", "privacy/settings", A, {"profile_fields": [
        "name", "gender", "birthday", "city", "tags"]})
    check(st == 200 and d["profile_fields"] == ["name", "gender", "birthday",
                                                "city", "tags"],
          "the brand collects name, gender, birthday, city and tags "
          "(not the store)")

    # ---- the login acknowledges the notice ----
    c1 = Consumer(srv, box, paths[0], "13800000001")
    before = outbox_lines(env)
    st, d = c1.otp()
    check(st == 422 and d["error"]["code"] == "notice_required" and
          d["error"]["notice_version"] == 2,
          "an OTP request without the notice version: 422 notice_required")
    st, d = c1.otp(notice_version=1)
    check(st == 409 and d["error"]["code"] == "notice_changed" and
          d["error"]["notice_version"] == 2,
          "... acknowledging the old version: 409 notice_changed")
    st, d = c1.otp(notice_version="2")
    check(st == 422, "... a version that is not a number: 422")
    check(outbox_lines(env) == before, "no code was sent for any of them")
    st, d = c1.otp(notice_version=2)
    check(st == 202, "acknowledging version 2: the code is sent")
    st, d = c1.verify()
    check(st == 422 and d["error"]["code"] == "notice_required",
          "the verify must acknowledge it too")
    st, d = c1.verify(notice_version=2, grant=["marketing", "spam"])
    check(st == 422, "a verify granting an unknown purpose: 422")
    st, d = c1.verify(notice_version=2, channel="page", lang="zh-CN")
    check(st == 200, "verify with the notice: logged in (service only)")
    id1 = d["customer"]["id"]
    st, d = c1.call("GET", "/api/v1/me/consents?brand=acme")
    h = d["history"]
    check(st == 200 and len(h) == 1 and h[0]["purpose"] == "service" and
          h[0]["action"] == "grant" and h[0]["notice_version"] == 2 and
          h[0]["channel"] == "page" and h[0]["lang"] == "zh-CN" and
          re.match(r"\d{4}-\d\d-\d\dT", h[0]["at"]) and
          d["current"] == {"service": True, "marketing": False,
                           "profile": False},
          "the verify recorded the service consent: time, version 2, "
          "channel page, zh-CN")

    # A second customer ticks marketing and profile at login.
    c2 = Consumer(srv, box, paths[1], "13800000002")
    st, _ = c2.otp(notice_version=2)
    st, d = c2.verify(notice_version=2, grant=["marketing", "profile"],
                      lang="en")
    id2 = d["customer"]["id"]
    st, d = c2.call("GET", "/api/v1/me/consents?brand=acme")
    check(sorted(e["purpose"] for e in d["history"]) ==
          ["marketing", "profile", "service"] and
          all(e["channel"] == "sms_login" and e["lang"] == "en"
              for e in d["history"]),
          "a login that ticked marketing and profile records three grants")

    # ---- no profile without consent ----
    st, d = c1.call("GET", "/api/v1/me/profile?brand=acme")
    check(st == 200 and d["profile"] == {} and d["consent"] is False and
          "store" not in d["fields"], "customer 1 has no profile")
    st, d = c1.call("PUT", "/api/v1/me/profile?brand=acme",
                    {"name": "张三", "city": "杭州"})
    check(st == 403 and d["error"]["code"] == "consent_required",
          "a profile without profile consent: 403 consent_required")
    st, d = srv.api("GET", "customers/%d/profile" % id1, R)
    check(st == 200 and d["profile"] == {}, "... and nothing was stored")
    st, d = srv.api("GET", "customers/%d/export" % id1, A)
    check(st == 200 and d["customer"]["profile"] == {} and
          "张三" not in json.dumps(d, ensure_ascii=False),
          "... the customer export holds no profile")
    st, d = srv.api("GET", "customers?city=" + "%E6%9D%AD%E5%B7%9E", R)
    check(st == 200 and d["customers"] == [],
          "... and the city filter matches nobody")

    # Customer 2 (profile consent): bad fields refused, good ones kept.
    for body, code in [({"store": "西湖店"}, "field_disabled"),
                       ({"gender": "m"}, "invalid"),
                       ({"birthday": "1990-02-30"}, "invalid"),
                       ({"birthday": "90-01-01"}, "invalid"),
                       ({"name": "x" * 51}, "invalid"),
                       ({"name": "a\u0007b"}, "invalid"),
                       ({"tags": ["a", "a"]}, "invalid"),
                       ({"tags": ["t%d" % i for i in range(11)]}, "invalid"),
                       ({"nickname": "x"}, "invalid")]:
        st, d = c2.call("PUT", "/api/v1/me/profile?brand=acme", body)
        check(st == 422 and d["error"]["code"] == code,
              "profile %s: 422 %s" % (json.dumps(body, ensure_ascii=False),
                                      code))
    prof = {"name": "李四", "gender": "female", "birthday": "1992-03-15",
            "city": "杭州", "tags": ["茶", "VIP"]}
    st, d = c2.call("PUT", "/api/v1/me/profile?brand=acme", prof)
    check(st == 200 and d["profile"] == prof and d["consent"] is True,
          "customer 2's profile stored with consent")
    st, d = srv.api("GET", "customers/%d/profile" % id2, R)
    check(st == 200 and d["profile"] == prof, "the brand reads it")
    st, d = srv.api("GET", "customers/%d/profile" % id2, O)
    check(st == 404, "another brand does not")
    raw = b""
    for root, _, files in os.walk(env.data):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                raw += fh.read()
    check("李四".encode() not in raw and "1992-03-15".encode() not in raw,
          "the profile is sealed: its values appear in no file of the "
          "data directory")

    # Server-side filters.
    def ids(q, tok=R):
        st, d = srv.api("GET", "customers?" + q, tok)
        assert st == 200, (q, st, d)
        return [c["id"] for c in d["customers"]]
    check(ids("gender=female") == [id2] and ids("gender=male") == [] and
          ids("city=%E6%9D%AD%E5%B7%9E") == [id2] and
          ids("tag=VIP") == [id2] and ids("tag=vip") == [] and
          ids("birth_month=3") == [id2] and ids("birth_month=4") == [] and
          ids("gender=female&tag=%E8%8C%B6") == [id2],
          "gender, city, tag and birth_month filter the list server-side")
    for q in ("gender=x", "birth_month=13", "birth_month=0", "tag=",
              "marketing=yes"):
        st, d = srv.api("GET", "customers?" + q, R)
        check(st == 422, "customers?%s: 422" % q)
    check(ids("gender=female", O) == [], "another brand's list is empty")

    # ---- marketing: read from the ledger, withdrawal at once ----
    check(ids("marketing=granted") == [id2] and
          ids("marketing=none") == [id1],
          "the marketing audience is customer 2 (granted at login)")
    st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": ["marketing"]})
    check(st == 422 and d["error"]["code"] == "notice_required",
          "a grant must acknowledge the notice")
    st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": ["marketing"], "withdraw": ["marketing"],
                     "notice_version": 2})
    check(st == 422, "a purpose granted and withdrawn at once: 422")
    st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": [], "notice_version": 2})
    check(st == 422, "nothing granted or withdrawn: 422")
    st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": ["marketing"], "notice_version": 2,
                     "channel": "fax"})
    check(st == 422, "an unknown channel: 422")
    st, d = c1.call("GET", "/api/v1/me/consents?brand=acme")
    check(len(d["history"]) == 1, "none of those recorded anything")
    st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": ["marketing"], "notice_version": 2})
    check(st == 201 and d["current"]["marketing"] is True and
          d["history"][-1]["channel"] == "member",
          "customer 1 grants marketing on the member page")
    check(ids("marketing=granted") == [id1, id2],
          "... and is in the marketing audience")
    st, d = c2.call("POST", "/api/v1/me/consents?brand=acme",
                    {"withdraw": ["marketing"]})
    check(st == 201 and d["current"]["marketing"] is False,
          "customer 2 withdraws marketing (no notice needed to withdraw)")
    check(ids("marketing=granted") == [id1] and
          ids("marketing=none") == [id2],
          "withdrawal stops marketing at once: the next list leaves "
          "customer 2 out")
    st, d = srv.api("GET", "customers/%d/consents" % id2, R)
    check(st == 200 and d["current"]["marketing"] is False and
          [e["action"] for e in d["history"] if e["purpose"] ==
           "marketing"] == ["grant", "withdraw"],
          "the brand sees both entries, the grant kept (append-only)")

    # ---- withdrawing profile consent deletes the profile ----
    st, d = c2.call("POST", "/api/v1/me/consents?brand=acme",
                    {"withdraw": ["profile"]})
    check(st == 201 and d["current"]["profile"] is False,
          "customer 2 withdraws profile consent")
    st, d = srv.api("GET", "customers/%d/profile" % id2, R)
    check(st == 200 and d["profile"] == {} and d["consent"] is False,
          "... the profile is gone with it")
    check(ids("gender=female") == [], "... and matches no filter")
    st, d = c2.call("PUT", "/api/v1/me/profile?brand=acme", prof)
    check(st == 403, "... and cannot be set again without a new grant")
    st, d = c2.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": ["profile"], "notice_version": 2})
    st, d = c2.call("PUT", "/api/v1/me/profile?brand=acme",
                    {"name": "李四", "city": None, "tags": []})
    check(st == 200 and d["profile"] == {"name": "李四"},
          "granted again: a new profile (null and [] fields dropped)")

    # ---- the notice changes: a new grant needs the new version ----
    st, d = srv.api("POST", "privacy/notices", A,
                    {"texts": {"zh-CN": ZH + "（第三版）", "en": EN + " (v3)"}})
    st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": ["profile"], "notice_version": 2})
    check(st == 409 and d["error"]["notice_version"] == 3,
          "after version 3, a grant answering version 2: 409")
    st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                    {"grant": ["profile"], "notice_version": 3})
    check(st == 201 and d["history"][-1]["notice_version"] == 3,
          "... answering version 3 is recorded with it")

    # ---- exports ----
    st, d = srv.api("GET", "customers/%d/export" % id2, A)
    ex = d["customer"]
    check(st == 200 and [(e["purpose"], e["action"]) for e in
                         ex["consents"]] ==
          [("service", "grant"), ("marketing", "grant"), ("profile", "grant"),
           ("marketing", "withdraw"), ("profile", "withdraw"),
           ("profile", "grant")] and ex["profile"] == {"name": "李四"},
          "the customer export has the whole consent history and profile")
    st, hdrs, raw = srv.request("GET", "/api/v1/exports/consents", headers={
        "Authorization": "Bearer " + R})
    check(st == 403, "the consent export is for admins")
    st, hdrs, raw = srv.request("GET", "/api/v1/exports/consents?format=csv",
                                headers={"Authorization": "Bearer " + A})
    rows = list(csv.reader(io.StringIO(raw.decode())))
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/csv")
          and rows[0] == ["customer", "seq", "at", "purpose", "action",
                          "notice_version", "channel", "lang"],
          "the brand's consent export is a CSV with its header")
    body = rows[1:]
    mine = [r for r in body if r[0] == str(id2)]
    check([(r[3], r[4]) for r in mine] == [(e["purpose"], e["action"])
                                           for e in ex["consents"]] and
          all(r[0] in (str(id1), str(id2)) for r in body) and
          len(body) == len(ex["consents"]) + len(
              srv.api("GET", "customers/%d/consents" % id1, R)[1]["history"]),
          "... every entry of both customers, in order, nothing else")
    check(any(r[3] == "marketing" and r[4] == "withdraw" and r[0] == str(id2)
              for r in body), "the withdrawal is in it")
    st, hdrs, raw = srv.request("GET", "/api/v1/exports/consents",
                                headers={"Authorization": "Bearer " + O})
    check(st == 200 and raw.decode().strip().count("\n") == 0,
          "another brand's export has the header only")
    # (the audit note goes through the writer after the answer: wait)
    for _ in range(50):
        st, d = srv.api("GET", "audit", A)
        if any(e["action"] == "consent_export" for e in d["entries"]):
            break
        time.sleep(0.1)
    check(any(e["action"] == "consent_export" for e in d["entries"]),
          "the export is in the audit trail")

    # The export streams in pieces of 500 entries: past a piece's end,
    # every entry once and in order.
    for i in range(151):
        st, d = c1.call("POST", "/api/v1/me/consents?brand=acme",
                        {"withdraw": ["marketing", "profile"]} if i % 2
                        else {"grant": ["marketing", "profile"],
                              "notice_version": 3})
        assert st == 201, (st, d)
    c4 = Consumer(srv, Outbox(env.data), paths[3], "13800000004")
    c4.otp(notice_version=3)
    st, _ = c4.verify(notice_version=3)
    for i in range(120):
        st, d = c4.call("POST", "/api/v1/me/consents?brand=acme",
                        {"withdraw": ["marketing", "profile"]} if i % 2
                        else {"grant": ["marketing", "profile"],
                              "notice_version": 3})
        assert st == 201, (st, d)
    st, hdrs, raw = srv.request("GET", "/api/v1/exports/consents",
                                headers={"Authorization": "Bearer " + A})
    rows = list(csv.reader(io.StringIO(raw.decode())))[1:]
    want = []
    for cid in sorted((id1, id2, d["customer"])):
        st, h = srv.api("GET", "customers/%d/consents" % cid, R)
        want += [[str(cid), str(e["seq"]), e["at"], e["purpose"],
                  e["action"], str(e["notice_version"]), e["channel"],
                  e["lang"]] for e in h["history"]]
    check(len(rows) > 500 and rows == want,
          "a %d-entry ledger exports whole, in order, across pieces of "
          "500" % len(rows))

    # ---- erasure: the profile goes, the ledger stays ----
    st, d = srv.api("POST", "customers/%d/erase" % id2, A)
    check(st == 200, "customer 2 erased")
    st, d = srv.api("GET", "customers/%d/profile" % id2, R)
    check(d["profile"] == {}, "the erasure removed the profile")
    st, d = srv.api("GET", "customers/%d/consents" % id2, R)
    check(len(d["history"]) == 6,
          "the consent ledger stays, as proof of lawful processing")
    st, d = c2.call("POST", "/api/v1/me/consents?brand=acme",
                    {"withdraw": ["service"]})
    check(st == 401, "an erased customer records nothing more")
    st, d = srv.api("GET", "customers/%d/consents" % id2, R)
    check(len(d["history"]) == 6, "... still six entries")

    # ---- without a notice, nothing to acknowledge ----
    _, opaths = env.setup_brand("other", sku="O1", count=2, init=False)
    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    # (the erasure rewrote the outbox: read it afresh)
    c3 = Consumer(srv, Outbox(env.data), opaths[0], "13800000003")
    st, d1 = c3.otp()
    st2, d = c3.verify()
    check(st == 202 and st2 == 200,
          "a brand without a notice: the login needs no acknowledgement")
    st, d = c3.call("GET", "/api/v1/me/consents?brand=other")
    check([(e["purpose"], e["notice_version"]) for e in d["history"]] ==
          [("service", 0)], "... and records the service consent, version 0")
    c1.srv = srv
    st, d = c1.call("GET", "/api/v1/me/consents?brand=acme")
    check(d["current"]["marketing"] is True, "the ledger survives a restart")
    check("13800000001" not in srv.logtext() and "李四" not in srv.logtext(),
          "the log holds no phone and no profile value")
done()
