"""The WeChat Pay stand-in (tests/lib/wechatpay_standin.py) checked on its
own, as a merchant's client would meet WeChat Pay: it refuses every
request whose Authorization is missing, malformed, signed by another
key, naming another certificate serial, outside the five-minute window,
with a nonce used before, or whose body or path was changed after
signing (401 SIGN_ERROR, and nothing happens: no bill); it signs every
answer, errors included, so that they verify with its public key under
its PUB_KEY_ID serial, and its fault modes sign badly on demand; create
is idempotent by out_bill_no (the same bill, one transfer) and refuses
the same number with other parameters; the merchant rules answer their
documented codes; query, cancel and confirm move the states; callbacks
reach notify_url signed and encrypted with the APIv3 key, are re-sent
when not acknowledged, dropped or badly signed on demand; timeouts and
5xx before and after the work behave as lost requests and lost answers.
sigild is not involved: tests/server/payouts.py drives it.
"""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import check, done  # noqa: E402
from standin_http import HttpStandIn  # noqa: E402
from wechatpay_standin import (CREATE, StandIn, decrypt_resource,  # noqa
                               make_merchant, verify_signed)

from cryptography.hazmat.primitives import serialization  # noqa: E402


class Receiver(HttpStandIn):
    """notify_url: records each callback; answers `status`."""

    def __init__(self):
        self.got = []
        self.status = 200
        self.start()
        self.url = self.base + "/wxpay/notify/1"

    def _serve(self, h, method, body):
        self.got.append((dict(h.headers), body))
        self._reply(h, self.status, b"")

    def wait(self, n, timeout=5):
        end = time.time() + timeout
        while len(self.got) < n and time.time() < end:
            time.sleep(0.02)
        return len(self.got) >= n


def call(si, m, method, path, body=b"", auth=None, serial=True, **kw):
    """One request to the stand-in: (status, headers, body bytes)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False,
                          separators=(",", ":")).encode()
    hs = {"Accept": "application/json", "User-Agent": "sigil-test"}
    if method == "POST":
        hs["Content-Type"] = "application/json"
    if serial:
        hs["Wechatpay-Serial"] = si.pub_key_id
    if auth is not False:
        hs["Authorization"] = auth or m.authorization(method, path, body,
                                                      **kw)
    c = http.client.HTTPConnection("127.0.0.1", si.port, timeout=10)
    try:
        c.request(method, path, body=body if method == "POST" else None,
                  headers=hs)
        r = c.getresponse()
        return r.status, r.headers, r.read()
    except OSError:
        return None, None, b""
    finally:
        c.close()


def verified(si, hs, body):
    return hs is not None and verify_signed(si.pub, hs, body, si.pub_key_id)


def bill_req(m, no, fen=100, url=None, **over):
    b = {"appid": m.appid, "out_bill_no": no, "transfer_scene_id": "1000",
         "openid": "oUser_" + no, "transfer_amount": fen,
         "transfer_remark": "扫码红包", "transfer_scene_report_infos": [
             {"info_type": "活动名称", "info_content": "春节扫码"},
             {"info_type": "奖励说明", "info_content": "现金红包"}]}
    if url:
        b["notify_url"] = url
    b.update(over)
    return b


def query_path(no):
    return CREATE + "/out-bill-no/" + no


def main():
    recv = Receiver()
    m = make_merchant()
    other = make_merchant()     # a key the stand-in does not know
    with StandIn() as si:
        si.add_merchant(m)

        # ---- signatures of requests ----
        body = bill_req(m, "SG1C1", url=recv.url)
        raw = json.dumps(body, separators=(",", ":")).encode()
        refusals = [
            ("no Authorization", dict(auth=False)),
            ("another scheme", dict(auth="Bearer abc")),
            ("a malformed parameter list", dict(
                auth='WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="x"')),
            ("signed by another key", dict(key=other.key)),
            ("another serial_no", dict(serial_no=other.serial_no)),
            ("an unknown mchid", dict(mchid="1999999999")),
            ("a timestamp 6 minutes old", dict(ts=int(time.time()) - 360)),
            ("a timestamp 6 minutes ahead", dict(ts=int(time.time()) + 360)),
        ]
        for what, kw in refusals:
            st, hs, ans = call(si, m, "POST", CREATE, raw, **kw)
            check(st == 401 and json.loads(ans).get("code") == "SIGN_ERROR",
                  "a request with %s is refused 401 SIGN_ERROR (%s)" %
                  (what, st))
            check(verified(si, hs, ans), "... and the refusal is signed")
        # A body or path changed after signing.
        auth = m.authorization("POST", CREATE, raw)
        st, _, _ = call(si, m, "POST", CREATE, raw.replace(b"100", b"999"),
                        auth=auth)
        check(st == 401, "a body changed after signing is refused (%s)" % st)
        auth = m.authorization("GET", query_path("SG1C1"))
        st, _, _ = call(si, m, "GET", query_path("SG1C2"), auth=auth)
        check(st == 401, "a path changed after signing is refused (%s)" % st)
        check(si.bills() == [], "no refused request made a bill")
        # The same nonce twice: the replay is refused.
        auth = m.authorization("GET", query_path("SG1C1"), nonce="N" * 32)
        call(si, m, "GET", query_path("SG1C1"), auth=auth)
        st, _, ans = call(si, m, "GET", query_path("SG1C1"), auth=auth)
        check(st == 401 and b"SIGN_ERROR" in ans,
              "a replayed request (same nonce) is refused (%s)" % st)
        # A merchant registered with another public key: its own key fails.
        m2 = make_merchant()
        si.add_merchant(m2, public_pem=other.pub_pem)
        st, _, _ = call(si, m2, "POST", CREATE, bill_req(m2, "SG2C1"))
        check(st == 401, "a merchant whose registered key differs from its "
              "signing key is refused (%s)" % st)

        # ---- create, answers signed ----
        st, hs, ans = call(si, m, "POST", CREATE, raw)
        a = json.loads(ans) if st == 200 else {}
        check(st == 200 and a.get("state") == "WAIT_USER_CONFIRM" and
              a.get("package_info") and a.get("transfer_bill_no"),
              "a good create is accepted, WAIT_USER_CONFIRM with "
              "package_info (%s %s)" % (st, ans[:120]))
        check(verified(si, hs, ans), "the create answer verifies with the "
              "stand-in's public key and PUB_KEY_ID serial")
        check(hs.get("Wechatpay-Serial", "").startswith("PUB_KEY_ID_"),
              "the answer names a PUB_KEY_ID_ serial")
        tampered = ans.replace(b"WAIT_USER_CONFIRM", b"SUCCESS")
        check(not verified(si, hs, tampered),
              "a changed answer body does not verify")
        check(not verify_signed(other.key.public_key(), hs, ans,
                                si.pub_key_id),
              "the answer does not verify with another key")
        # The PEM the test hands sigil reads as a public key.
        check(serialization.load_pem_public_key(si.pub_pem) is not None,
              "pub_pem is a PEM public key")

        # Idempotent: the same number and parameters, the same bill.
        st2, _, ans2 = call(si, m, "POST", CREATE, raw)
        check(st2 == 200 and json.loads(ans2)["transfer_bill_no"] ==
              a["transfer_bill_no"], "the same create again answers the "
              "same bill")
        check(len(si.bills()) == 1 and si.bills()[0]["creates"] == 2,
              "one bill for two creates of one out_bill_no")
        st, _, ans = call(si, m, "POST", CREATE,
                          bill_req(m, "SG1C1", fen=101, url=recv.url))
        check(st == 400 and json.loads(ans)["code"] == "INVALID_REQUEST",
              "the same out_bill_no with another amount: 400 "
              "INVALID_REQUEST (%s)" % st)
        check(len(si.bills()) == 1, "... and no second bill")

        # ---- merchant rules ----
        rules = [
            ("no Wechatpay-Serial", bill_req(m, "R1"), dict(serial=False),
             400, "PARAM_ERROR"),
            ("a bad out_bill_no", bill_req(m, "R-1"), {}, 400,
             "PARAM_ERROR"),
            ("a remark of 33 characters", bill_req(
                m, "R2", transfer_remark="红" * 33), {}, 400, "PARAM_ERROR"),
            ("an amount under 0.1 yuan", bill_req(m, "R3", fen=9), {}, 400,
             "INVALID_REQUEST"),
            ("a zero amount", bill_req(m, "R3", fen=0), {}, 400,
             "PARAM_ERROR"),
            ("a string amount", bill_req(m, "R4", fen="100"), {}, 400,
             "PARAM_ERROR"),
            ("2,000 yuan without user_name", bill_req(m, "R5", fen=200000),
             {}, 400, "PARAM_ERROR"),
            ("scene 1000 without its report infos", bill_req(
                m, "R6", transfer_scene_report_infos=[]), {}, 400,
             "PARAM_ERROR"),
            ("a scene not enabled", bill_req(m, "R7",
                                             transfer_scene_id="1005"),
             {}, 403, "NO_AUTH"),
            ("another merchant's appid", bill_req(m, "R8", appid="wxother"),
             {}, 400, "INVALID_REQUEST"),
        ]
        st, _, ans = call(si, m, "POST", CREATE, bill_req(m, "R3", fen=20001))
        check(st == 400 and b"INVALID_REQUEST" in ans, "an amount over the "
              "default 200 yuan a transfer: 400 INVALID_REQUEST (%s)" % st)
        si.max_fen = 10 ** 7        # to reach the 2,000-yuan rule
        for what, b, kw, want, code in rules:
            st, hs, ans = call(si, m, "POST", CREATE, b, **kw)
            got = json.loads(ans).get("code") if ans else None
            check(st == want and got == code and verified(si, hs, ans),
                  "%s: %d %s, signed (%s %s)" % (what, want, code, st, got))
        si.refuse_openid("oBad")
        st, _, ans = call(si, m, "POST", CREATE, bill_req(m, "R9",
                                                          openid="oBad"))
        check(st == 400 and b"INVALID_REQUEST" in ans,
              "an openid of another app: 400 INVALID_REQUEST")
        si.set_balance(m.mchid, 50)
        st, _, ans = call(si, m, "POST", CREATE, bill_req(m, "R10"))
        check(st == 403 and b"NOT_ENOUGH" in ans,
              "more than the balance: 403 NOT_ENOUGH")
        si.set_balance(m.mchid, 10 ** 9)
        check(len(si.bills()) == 1, "no refused create made a bill")

        # ---- query, confirm, callbacks ----
        st, hs, ans = call(si, m, "GET", query_path("SG1C1"))
        q = json.loads(ans)
        check(st == 200 and q["state"] == "WAIT_USER_CONFIRM" and
              q["transfer_amount"] == 100 and q["mch_id"] == m.mchid and
              verified(si, hs, ans), "query answers the bill, signed")
        st, hs, ans = call(si, m, "GET", query_path("NOPE1"))
        check(st == 404 and json.loads(ans)["code"] == "NOT_FOUND" and
              verified(si, hs, ans), "query of no bill: 404 NOT_FOUND, "
              "signed")
        check(si.confirm("SG1C1"), "the user confirms")
        check(recv.wait(1), "the callback arrives")
        hs, cb = recv.got[0]
        check(verify_signed(si.pub, hs, cb, si.pub_key_id),
              "the callback is signed like an answer")
        ev = json.loads(cb)
        check(ev["event_type"] == "MCHTRANSFER.BILL.FINISHED" and
              ev["resource"]["algorithm"] == "AEAD_AES_256_GCM" and
              ev["resource"]["original_type"] == "mch_payment",
              "the callback is MCHTRANSFER.BILL.FINISHED, AEAD_AES_256_GCM")
        plain = json.loads(decrypt_resource(m.apiv3_key, ev["resource"]))
        check(plain["state"] == "SUCCESS" and plain["out_bill_no"] ==
              "SG1C1" and plain["transfer_amount"] == 100 and
              plain["transfer_bill_no"] == a["transfer_bill_no"],
              "its resource decrypts with the APIv3 key to the bill")
        try:
            decrypt_resource(other.apiv3_key, ev["resource"])
            check(False, "another APIv3 key cannot open the resource")
        except Exception:
            check(True, "another APIv3 key cannot open the resource")
        st, _, ans = call(si, m, "POST", query_path("SG1C1") + "/cancel")
        check(st == 400 and b"INVALID_REQUEST" in ans,
              "a paid bill cannot be cancelled (%s)" % st)

        # Not acknowledged: re-sent; then dropped; then badly signed.
        recv.status = 500
        call(si, m, "POST", CREATE, bill_req(m, "SG1C3", url=recv.url))
        si.confirm("SG1C3")
        check(recv.wait(3), "an unacknowledged callback is re-sent")
        recv.status = 204
        check(recv.wait(4), "... until acknowledged")
        n = len(recv.got)
        time.sleep(0.5)
        check(len(recv.got) == 4, "... and then no more (%d)" % len(recv.got))
        si.drop_callbacks = True
        call(si, m, "POST", CREATE, bill_req(m, "SG1C4", url=recv.url))
        si.fail("SG1C4")
        time.sleep(0.3)
        check(len(recv.got) == n, "drop_callbacks: no callback sent")
        si.drop_callbacks = False
        si.bad_callback_signature = True
        call(si, m, "POST", CREATE, bill_req(m, "SG1C5", url=recv.url))
        si.fail("SG1C5")
        check(recv.wait(n + 1), "a badly signed callback is still sent")
        hs, cb = recv.got[n]
        check(not verify_signed(si.pub, hs, cb, si.pub_key_id),
              "bad_callback_signature: the callback does not verify")
        si.bad_callback_signature = False
        check(si.bill("SG1C4")["state"] == "FAIL",
              "fail() makes a bill FAIL")

        # Cancel before the user confirms.
        call(si, m, "POST", CREATE, bill_req(m, "SG1C6", url=recv.url))
        st, hs, ans = call(si, m, "POST", query_path("SG1C6") + "/cancel")
        check(st == 200 and json.loads(ans)["state"] == "CANCELING" and
              verified(si, hs, ans), "cancel before confirming: CANCELING")
        time.sleep(0.3)
        check(si.bill("SG1C6")["state"] == "CANCELLED",
              "... then CANCELLED")

        # ---- faults ----
        si.hang_s = 1
        si.set_fault("timeout", count=1, ops=["create"])
        st, _, _ = call(si, m, "POST", CREATE, bill_req(m, "SG1C7"))
        check(st is None and si.bill("SG1C7") is None,
              "timeout: no answer and no bill")
        si.set_fault("timeout_after", count=1, ops=["create"])
        st, _, _ = call(si, m, "POST", CREATE, bill_req(m, "SG1C8"))
        check(st is None and si.bill("SG1C8") is not None,
              "timeout_after: no answer, but the bill exists")
        st, _, ans = call(si, m, "POST", CREATE, bill_req(m, "SG1C8"))
        check(st == 200 and si.bill("SG1C8")["creates"] == 2 and
              len([b for b in si.bills() if b["out_bill_no"] == "SG1C8"]) ==
              1, "the re-sent create finds the same bill: one transfer")
        si.set_fault("5xx", count=1)
        st, hs, ans = call(si, m, "POST", CREATE, bill_req(m, "SG1C9"))
        check(st == 500 and b"SYSTEM_ERROR" in ans and
              si.bill("SG1C9") is None, "5xx: 500 SYSTEM_ERROR, no bill")
        si.set_fault("5xx_after", count=1)
        st, _, _ = call(si, m, "POST", CREATE, bill_req(m, "SG1C9"))
        check(st == 500 and si.bill("SG1C9") is not None,
              "5xx_after: 500, but the bill exists")
        for kind in ("bad_signature", "bad_serial", "stale"):
            si.set_fault(kind, count=1, ops=["query"])
            st, hs, ans = call(si, m, "GET", query_path("SG1C1"))
            check(st == 200 and not verified(si, hs, ans),
                  "%s: the answer does not verify" % kind)
            st, hs, ans = call(si, m, "GET", query_path("SG1C1"))
            check(verified(si, hs, ans), "... and the next one does")
        si.set_fault("5xx", rate=0.5, ops=["query"])
        codes = [call(si, m, "GET", query_path("SG1C1"))[0]
                 for _ in range(40)]
        check(0 < codes.count(500) < 40, "rate: some requests fail "
              "(%d of 40)" % codes.count(500))
        si.set_fault(None)

        # ---- control over HTTP, tamper, listing ----
        call(si, m, "POST", CREATE, bill_req(m, "SG1C10", url=recv.url))
        c = http.client.HTTPConnection("127.0.0.1", si.port, timeout=5)
        c.request("POST", "/standin/confirm/SG1C10", body=b"{}")
        r = c.getresponse()
        r.read()
        check(r.status == 200 and si.bill("SG1C10")["state"] == "SUCCESS",
              "POST /standin/confirm/NO confirms")
        c = http.client.HTTPConnection("127.0.0.1", si.port, timeout=5)
        c.request("POST", "/standin/tamper/SG1C10",
                  body=json.dumps({"transfer_amount": 1}).encode())
        c.getresponse().read()
        st, _, ans = call(si, m, "GET", query_path("SG1C10"))
        check(json.loads(ans)["transfer_amount"] == 1,
              "tamper changes a bill behind the merchant's back")
        c = http.client.HTTPConnection("127.0.0.1", si.port, timeout=5)
        c.request("GET", "/standin/bills")
        listed = json.loads(c.getresponse().read())
        check(sorted(b["out_bill_no"] for b in listed) ==
              sorted(b["out_bill_no"] for b in si.bills()) and
              len(listed) == 8, "GET /standin/bills lists every bill made "
              "(%d)" % len(listed))
    recv.httpd.shutdown()
    done()


main()
