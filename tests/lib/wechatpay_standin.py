"""A WeChat Pay stand-in on loopback, written from WeChat Pay's published
APIv3 documentation (pay.weixin.qq.com/doc/v3/merchant: 签名生成, 签名验证,
回调报文解密, and the merchant transfer "商家转账" API, 2025-01-15 on):

POST /v3/fund-app/mch-transfer/transfer-bills  (发起转账)
    {appid, out_bill_no, transfer_scene_id, openid, transfer_amount (fen),
     transfer_remark (<= 32 characters), notify_url?, user_name?,
     user_recv_perception?, transfer_scene_report_infos: [{info_type,
     info_content}]} -> 200 {out_bill_no, transfer_bill_no, create_time,
    state, package_info (WAIT_USER_CONFIRM), fail_reason (FAIL)}.
    The same out_bill_no again with the same parameters answers the same
    bill (idempotent: it is never a second transfer); with different
    parameters 400 INVALID_REQUEST.
GET  /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}
    -> 200 {mch_id, out_bill_no, transfer_bill_no, appid, state,
    transfer_amount, transfer_remark, fail_reason?, openid, create_time,
    update_time}; 404 NOT_FOUND.
POST /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no}/cancel
    -> 200 {out_bill_no, transfer_bill_no, state: CANCELING, update_time}
    before the user confirmed; 400 INVALID_REQUEST after; 404 NOT_FOUND.

Every API request must carry
    Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
        signature="..",timestamp="..",serial_no=".."
signed (RSA PKCS#1 v1.5, SHA-256) with the merchant's API key over
"METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n": a missing or malformed
header, an unknown mchid, a serial_no that is not the merchant's
certificate, a timestamp more than five minutes off, a nonce used before
or a signature that does not verify with the merchant's public key is
refused 401 {"code": "SIGN_ERROR", "message": ...}, and nothing happens.
The create must also carry Wechatpay-Serial naming the WeChat Pay public
key (400 PARAM_ERROR otherwise).

Every API answer (errors too) is signed as WeChat Pay signs: headers
Wechatpay-Timestamp, Wechatpay-Nonce, Wechatpay-Serial (the stand-in's
"PUB_KEY_ID_..."), Wechatpay-Signature = base64(RSA-SHA256 over
"TIMESTAMP\\nNONCE\\nBODY\\n") with the stand-in's own key, whose public
half (pub_pem) the test gives sigil as "the WeChat Pay public key".

States: a new bill is WAIT_USER_CONFIRM (the user must confirm in WeChat;
package_info is what the page hands to requestMerchantTransfer).
confirm(no) (or POST /standin/confirm/{no}, or auto_confirm) makes it
SUCCESS; fail(no) FAIL; cancel CANCELING then CANCELLED. A final state
(SUCCESS, FAIL, CANCELLED) sends the callback MCHTRANSFER.BILL.FINISHED to
notify_url (loopback only), its resource encrypted AEAD_AES_256_GCM with
the merchant's APIv3 key and the request signed like an answer; a
callback not answered 200/204 is re-sent on WeChat Pay's schedule (15 s,
15 s, 30 s, 3 min, 10 min, ... times retry_scale).

Merchant rules checked on create: appid bound to the mchid (400
INVALID_REQUEST), scene enabled (403 NO_AUTH), out_bill_no [0-9A-Za-z]
{1,32}, amount an integer, user_name from 2,000 yuan on, remark <= 32
characters, scene 1000's report infos 活动名称 and 奖励说明 (400
PARAM_ERROR), the amount within the merchant's per-transfer range
(min_fen..max_fen, the product setting's default 0.1-200 yuan: 400
INVALID_REQUEST "超过单笔转账上下限"), the openid valid for the appid
(refuse_openid: 400 INVALID_REQUEST), the balance (403 NOT_ENOUGH).

Faults (set_fault or POST /standin/fault {kind, count, ops, rate}):
    timeout        hold the request unanswered (hang_s), nothing done
    timeout_after  do it, then hold the answer back: the bill exists
    5xx            500 SYSTEM_ERROR, nothing done
    5xx_after      do it, then answer 500 SYSTEM_ERROR
    bad_signature  answer with a signature that does not verify
    bad_serial     answer signed, but naming another key's serial
    stale          answer signed with a timestamp ten minutes old
count: how many requests it hits (None: all until cleared), ops: which
of "create", "query", "cancel" (None: all), rate: the probability each
request is hit (seeded, for the crash test). Callbacks: drop_callbacks,
bad_callback_signature.

Inspection: bills() (every bill made: one per out_bill_no, with how many
creates asked for it), requests (every API request: method, path, op,
status, out_bill_no), notifications (every callback delivery attempt),
tamper(no, ...) changes a bill behind the merchant's back (no callback).
Control over HTTP for tests in other processes: POST /standin/confirm/NO,
/standin/fail/NO, /standin/tamper/NO {state?, transfer_amount?},
/standin/mode {auto_confirm?, confirm_delay?, drop_callbacks?,
bad_callback_signature?}, /standin/fault {...}; GET /standin/bills.

make_merchant() generates a merchant for a test: RSA-2048 key pair, a
certificate serial, a 32-character APIv3 key, optionally written to
files for `sigil payments key`.
"""
import base64
import datetime
import json
import os
import random
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.exceptions import InvalidSignature

from standin_http import HttpStandIn

SCHEME = "WECHATPAY2-SHA256-RSA2048"
CREATE = "/v3/fund-app/mch-transfer/transfer-bills"
BILL = re.compile(r"^/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/"
                  r"([^/?]*)(/cancel)?$")
WINDOW = 300
# WeChat Pay's callback retry schedule (回调通知: 15s/15s/30s/3m/10m/20m/
# 30m/30m/30m/60m/3h/3h/3h/6h/6h, 24h4m in all).
RETRY_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800,
           10800, 10800, 21600, 21600]
FINAL = ("SUCCESS", "FAIL", "CANCELLED")
CN = datetime.timezone(datetime.timedelta(hours=8))
AUTH_PARAM = re.compile(r'\s*([a-z_]+)="([^"]*)"\s*(?:,|$)')


def rfc3339(t=None):
    """WeChat Pay's time format: China time with its offset."""
    return datetime.datetime.fromtimestamp(
        time.time() if t is None else t, CN).isoformat(timespec="seconds")


def rsa_sign(key, message):
    return base64.b64encode(key.sign(message, padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


def rsa_verify(pub, message, signature_b64):
    try:
        sig = base64.b64decode(signature_b64, validate=True)
        pub.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)


class Merchant:
    """A merchant's credentials: what the merchant platform hands out."""

    def __init__(self, mchid, appid, key, serial_no, apiv3_key):
        self.mchid, self.appid = mchid, appid
        self.key = key                      # the merchant's private key
        self.key_pem = pem_private(key)     # apiclient_key.pem
        self.pub_pem = pem_public(key)
        self.serial_no = serial_no          # its API certificate's serial
        self.apiv3_key = apiv3_key          # 32 characters
        self.key_file = self.apiv3_file = None

    def authorization(self, method, path, body=b"", ts=None, nonce=None,
                      key=None, serial_no=None, mchid=None):
        """The Authorization value WeChat Pay asks for (for tests that
        talk to the stand-in themselves)."""
        ts = str(int(time.time()) if ts is None else ts)
        nonce = nonce or secrets.token_hex(16).upper()
        if isinstance(body, str):
            body = body.encode()
        msg = ("%s\n%s\n%s\n%s\n" % (method, path, ts, nonce)).encode() + \
            body + b"\n"
        sig = rsa_sign(key or self.key, msg)
        return '%s mchid="%s",nonce_str="%s",signature="%s",' \
            'timestamp="%s",serial_no="%s"' % (
                SCHEME, mchid or self.mchid, nonce, sig, ts,
                serial_no or self.serial_no)


def make_merchant(directory=None, mchid=None, appid=None, bits=2048):
    """A fresh merchant: RSA key pair, a 40-hex-digit certificate serial,
    a 32-character APIv3 key. With directory, writes key.pem and
    apiv3.key there (mode 0600) and sets key_file and apiv3_file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    alnum = string.ascii_letters + string.digits
    m = Merchant(mchid or "19%08d" % random.randrange(10 ** 8),
                 appid or "wx" + secrets.token_hex(8),
                 key, secrets.token_hex(20).upper(),
                 "".join(secrets.choice(alnum) for _ in range(32)))
    if directory is not None:
        m.key_file = os.path.join(directory, "apiclient_key.pem")
        m.apiv3_file = os.path.join(directory, "apiv3.key")
        for path, data in ((m.key_file, m.key_pem),
                           (m.apiv3_file, m.apiv3_key.encode())):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
    return m


def verify_signed(pub, headers, body, serial, now=None):
    """Whether headers (a dict-like) and body (bytes) carry a valid
    WeChat Pay signature by pub, naming serial, within the window: what
    a merchant must check of an answer or a callback."""
    try:
        ts = headers["Wechatpay-Timestamp"]
        nonce = headers["Wechatpay-Nonce"]
        sig = headers["Wechatpay-Signature"]
        if headers["Wechatpay-Serial"] != serial:
            return False
        if abs((now or time.time()) - int(ts)) > WINDOW:
            return False
    except (KeyError, TypeError, ValueError):
        return False
    return rsa_verify(pub, ("%s\n%s\n" % (ts, nonce)).encode() + body +
                      b"\n", sig)


def decrypt_resource(apiv3_key, resource):
    """The plaintext of a callback's resource (AEAD_AES_256_GCM)."""
    return AESGCM(apiv3_key.encode()).decrypt(
        resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
        resource.get("associated_data", "").encode() or None)


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class StandIn(HttpStandIn):
    def __init__(self, auto_confirm=False, confirm_delay=0.0, seed=1,
                 retry_scale=0.01):
        self.key = rsa.generate_private_key(public_exponent=65537,
                                            key_size=2048)
        self.pub = self.key.public_key()
        self.pub_pem = pem_public(self.key)
        self.pub_key_id = "PUB_KEY_ID_01%015d" % random.randrange(10 ** 15)
        # A second key: what "another key" signs with in bad_signature.
        self.other_key = rsa.generate_private_key(public_exponent=65537,
                                                  key_size=2048)
        self.merchants = {}         # mchid -> dict(m, scenes, balance)
        self.bill_map = {}          # (mchid, out_bill_no) -> bill dict
        self.nonces = {}            # (mchid, nonce) -> time seen
        self.requests = []
        self.notifications = []
        self.lock = threading.Lock()
        self.auto_confirm = auto_confirm
        self.confirm_delay = confirm_delay
        self.drop_callbacks = False
        self.bad_callback_signature = False
        self.retry_scale = retry_scale
        self.min_fen = 10           # 商家转账's default range: 0.1 yuan
        self.max_fen = 20000        # ... to 200 yuan a transfer
        self.hang_s = 30
        self.refused_openids = set()
        self.rng = random.Random(seed)
        self.fault = None           # dict(kind, count, ops, rate)
        self.seq = 0
        self.stopping = threading.Event()
        self.timers = []

    # ---- set-up ----
    def add_merchant(self, m, scenes=("1000",), balance=10 ** 9,
                     public_pem=None):
        """Registers merchant m (make_merchant): its appid, the public
        key it signs with (public_pem to register another one: requests
        signed with m.key then fail), the scenes it may use, its balance
        in fen."""
        pub = serialization.load_pem_public_key(public_pem or m.pub_pem)
        with self.lock:
            self.merchants[m.mchid] = dict(m=m, pub=pub, appids={m.appid},
                                           scenes=set(scenes),
                                           balance=balance)
        return m

    def refuse_openid(self, openid):
        """Creates for openid are refused as an openid of another app."""
        self.refused_openids.add(openid)

    def set_balance(self, mchid, fen):
        with self.lock:
            self.merchants[mchid]["balance"] = fen

    def set_fault(self, kind=None, count=None, ops=None, rate=None):
        """kind None clears. See the module text for the kinds."""
        with self.lock:
            self.fault = None if kind is None else dict(
                kind=kind, count=count, ops=set(ops) if ops else None,
                rate=rate)

    # ---- serving ----
    def stop(self):
        self.stopping.set()
        for t in list(self.timers):
            t.cancel()
        super().stop()

    # ---- answers ----
    def signed_headers(self, body, ts=None, key=None, serial=None):
        ts = str(int(time.time()) if ts is None else ts)
        nonce = secrets.token_hex(16)
        sig = rsa_sign(key or self.key, ("%s\n%s\n" % (ts, nonce)).encode()
                       + body + b"\n")
        return [("Wechatpay-Timestamp", ts), ("Wechatpay-Nonce", nonce),
                ("Wechatpay-Signature", sig),
                ("Wechatpay-Serial", serial or self.pub_key_id),
                ("Wechatpay-Signature-Type", SCHEME)]

    def _send(self, h, status, obj, fault=None):
        body = b"" if obj is None else json.dumps(
            obj, ensure_ascii=False, separators=(",", ":")).encode()
        kind = fault["kind"] if fault else None
        if kind == "bad_signature":
            headers = self.signed_headers(body, key=self.other_key)
        elif kind == "bad_serial":
            headers = self.signed_headers(body, serial="PUB_KEY_ID_0"
                                          + "9" * 26)
        elif kind == "stale":
            headers = self.signed_headers(body, ts=int(time.time()) - 600)
        else:
            headers = self.signed_headers(body)
        self._reply(h, status, body, "application/json; charset=utf-8",
                    [("Request-ID", secrets.token_hex(16))] + headers)

    def _hang(self, h):
        """Holds the connection unanswered, as a lost answer looks."""
        self.stopping.wait(self.hang_s)
        h.close_connection = True

    def _fault_for(self, op):
        """The fault this request meets (consumed), or None."""
        with self.lock:
            f = self.fault
            if f is None or (f["ops"] and op not in f["ops"]):
                return None
            if f["rate"] is not None and self.rng.random() >= f["rate"]:
                return None
            if f["count"] is not None:
                if f["count"] <= 0:
                    return None
                f["count"] -= 1
            return dict(f)

    def _serve(self, h, method, body):
        u = urllib.parse.urlsplit(h.path)
        if u.path.startswith("/standin/"):
            return self._control(h, method, u, body)
        op = None
        if method == "POST" and u.path == CREATE:
            op = "create"
        else:
            m = BILL.match(u.path)
            if m and method == "GET" and not m.group(2):
                op = "query"
            elif m and method == "POST" and m.group(2):
                op = "cancel"
        rec = dict(method=method, path=h.path, op=op, status=None,
                   out_bill_no=None, t=time.time())
        with self.lock:
            self.requests.append(rec)
        fault = self._fault_for(op) if op else None
        kind = fault["kind"] if fault else None
        if kind == "timeout":
            rec["status"] = "timeout"
            return self._hang(h)
        if kind == "5xx":
            rec["status"] = 500
            return self._send(h, 500, {"code": "SYSTEM_ERROR",
                                       "message": "系统错误"})
        try:
            mch = self._authenticate(h, method, body)
            if op is None:
                raise ApiError(404, "NOT_FOUND", "无效的请求路径")
            if op == "create":
                status, ans = self._create(h, mch, body, rec)
            else:
                no = urllib.parse.unquote(BILL.match(u.path).group(1))
                rec["out_bill_no"] = no
                status, ans = (self._query if op == "query" else
                               self._cancel)(mch, no)
        except ApiError as e:
            status, ans = e.status, {"code": e.code, "message": e.message}
        if kind == "timeout_after":
            rec["status"] = "timeout"
            return self._hang(h)
        if kind == "5xx_after":
            status, ans = 500, {"code": "SYSTEM_ERROR", "message": "系统错误"}
        rec["status"] = status
        self._send(h, status, ans, fault)

    def _authenticate(self, h, method, body):
        """The merchant of a correctly signed request, or ApiError 401."""
        def refuse(why):
            raise ApiError(401, "SIGN_ERROR", why)
        auth = h.headers.get("Authorization")
        if auth is None:
            refuse("Http头缺少Authorization")
        if not auth.startswith(SCHEME + " "):
            refuse("Http头Authorization值格式错误: 认证类型不支持")
        params, rest = {}, auth[len(SCHEME) + 1:]
        pos = 0
        while pos < len(rest):
            m = AUTH_PARAM.match(rest, pos)
            if m is None or m.group(1) in params:
                refuse("Http头Authorization值格式错误")
            params[m.group(1)] = m.group(2)
            pos = m.end()
        for k in ("mchid", "nonce_str", "signature", "timestamp",
                  "serial_no"):
            if not params.get(k):
                refuse("Http头Authorization值格式错误: 缺少%s" % k)
        with self.lock:
            mch = self.merchants.get(params["mchid"])
        if mch is None:
            refuse("商户号不存在")
        if params["serial_no"] != mch["m"].serial_no:
            refuse("商户证书序列号有误")
        try:
            ts = int(params["timestamp"])
        except ValueError:
            refuse("timestamp格式错误")
        now = time.time()
        if abs(now - ts) > WINDOW:
            refuse("请求的时间戳已过期")
        msg = ("%s\n%s\n%s\n%s\n" % (method, h.path, params["timestamp"],
                                     params["nonce_str"])).encode() + \
            body + b"\n"
        if not rsa_verify(mch["pub"], msg, params["signature"]):
            refuse("签名错误")
        with self.lock:
            for k in [k for k, t in self.nonces.items() if now - t > WINDOW]:
                del self.nonces[k]
            if (params["mchid"], params["nonce_str"]) in self.nonces:
                refuse("请求重放: nonce_str已使用")
            self.nonces[(params["mchid"], params["nonce_str"])] = now
        return mch

    # ---- the API ----
    def _create(self, h, mch, body, rec):
        m = mch["m"]
        if h.headers.get("Wechatpay-Serial") != self.pub_key_id:
            raise ApiError(400, "PARAM_ERROR",
                           "Http头Wechatpay-Serial缺失或有误")
        try:
            req = json.loads(body)
        except ValueError:
            raise ApiError(400, "PARAM_ERROR", "请求体不是合法的JSON")
        if not isinstance(req, dict):
            raise ApiError(400, "PARAM_ERROR", "请求体不是JSON对象")

        def need(name, typ):
            v = req.get(name)
            if not isinstance(v, typ) or isinstance(v, bool) or v == "":
                raise ApiError(400, "PARAM_ERROR",
                               "输入源“/body/%s”映射到字段必填性规则校验失败"
                               % name)
            return v
        appid = need("appid", str)
        no = need("out_bill_no", str)
        rec["out_bill_no"] = no
        scene = need("transfer_scene_id", str)
        openid = need("openid", str)
        fen = need("transfer_amount", int)
        remark = need("transfer_remark", str)
        notify = req.get("notify_url")
        if not re.fullmatch(r"[0-9A-Za-z]{1,32}", no):
            raise ApiError(400, "PARAM_ERROR", "商户单号格式错误")
        if len(remark) > 32:
            raise ApiError(400, "PARAM_ERROR", "转账备注超过32个字符")
        if fen <= 0:
            raise ApiError(400, "PARAM_ERROR", "转账金额必须大于0")
        if fen >= 200000 and not req.get("user_name"):
            raise ApiError(400, "PARAM_ERROR",
                           "转账金额>=2000元时收款用户姓名必填")
        if notify is not None and (not isinstance(notify, str) or
                                   len(notify) > 256 or "?" in notify or
                                   not re.match(r"https?://", notify, re.I)):
            raise ApiError(400, "PARAM_ERROR", "notify_url格式错误")
        infos = req.get("transfer_scene_report_infos")
        if scene == "1000":
            kinds = [i.get("info_type") for i in infos or []
                     if isinstance(i, dict)]
            if not isinstance(infos, list) or sorted(kinds) != sorted(
                    ["活动名称", "奖励说明"]) or any(
                    not isinstance(i.get("info_content"), str) or
                    not i["info_content"] or len(i["info_content"]) > 32
                    for i in infos):
                raise ApiError(400, "PARAM_ERROR",
                               "转账场景报备信息有误: 需活动名称, 奖励说明")
        if scene not in mch["scenes"]:
            raise ApiError(403, "NO_AUTH", "商户未开通该转账场景")
        if not self.min_fen <= fen <= self.max_fen:
            raise ApiError(400, "INVALID_REQUEST",
                           "超过单笔转账上下限,核实产品设置是否准确")
        if appid not in mch["appids"]:
            raise ApiError(400, "INVALID_REQUEST", "appid与商户号不匹配")
        if openid in self.refused_openids:
            raise ApiError(400, "INVALID_REQUEST", "openid与appid不匹配")
        same = dict(appid=appid, scene=scene, openid=openid, fen=fen,
                    remark=remark)
        with self.lock:
            b = self.bill_map.get((m.mchid, no))
            if b is not None:
                b["creates"] += 1
                if b["params"] != same:
                    raise ApiError(400, "INVALID_REQUEST",
                                   "商户单号已存在且参数不一致")
                return 200, self._create_answer(b)
            if mch["balance"] < fen:
                raise ApiError(403, "NOT_ENOUGH", "商户账户资金不足")
            mch["balance"] -= fen
            self.seq += 1
            now = time.time()
            b = dict(mchid=m.mchid, out_bill_no=no, appid=appid,
                     transfer_bill_no="1330000%s%s%010d" % (
                         m.mchid, time.strftime("%Y%m%d"), self.seq),
                     state="WAIT_USER_CONFIRM", transfer_amount=fen,
                     transfer_remark=remark, openid=openid, scene=scene,
                     notify_url=notify, fail_reason="",
                     package_info=base64.b64encode(
                         secrets.token_bytes(48)).decode(),
                     create_time=rfc3339(now), update_time=rfc3339(now),
                     params=same, creates=1, callbacks=0)
            self.bill_map[(m.mchid, no)] = b
            ans = self._create_answer(b)
        if self.auto_confirm:
            self._later(self.confirm_delay, self.confirm, no, m.mchid)
        return 200, ans

    def _create_answer(self, b):
        ans = dict(out_bill_no=b["out_bill_no"],
                   transfer_bill_no=b["transfer_bill_no"],
                   create_time=b["create_time"], state=b["state"])
        if b["state"] == "WAIT_USER_CONFIRM":
            ans["package_info"] = b["package_info"]
        if b["state"] == "FAIL":
            ans["fail_reason"] = b["fail_reason"]
        return ans

    def _public(self, b):
        ans = dict(mch_id=b["mchid"], out_bill_no=b["out_bill_no"],
                   transfer_bill_no=b["transfer_bill_no"], appid=b["appid"],
                   state=b["state"], transfer_amount=b["transfer_amount"],
                   transfer_remark=b["transfer_remark"], openid=b["openid"],
                   create_time=b["create_time"],
                   update_time=b["update_time"])
        if b["fail_reason"]:
            ans["fail_reason"] = b["fail_reason"]
        return ans

    def _query(self, mch, no):
        with self.lock:
            b = self.bill_map.get((mch["m"].mchid, no))
            if b is None:
                raise ApiError(404, "NOT_FOUND", "记录不存在")
            return 200, self._public(b)

    def _cancel(self, mch, no):
        with self.lock:
            b = self.bill_map.get((mch["m"].mchid, no))
            if b is None:
                raise ApiError(404, "NOT_FOUND", "记录不存在")
            if b["state"] not in ("ACCEPTED", "PROCESSING",
                                  "WAIT_USER_CONFIRM", "TRANSFERING",
                                  "CANCELING"):
                raise ApiError(400, "INVALID_REQUEST",
                               "当前单据状态不支持撤销")
            self._move(b, "CANCELING")
            ans = dict(out_bill_no=no, transfer_bill_no=b["transfer_bill_no"],
                       state="CANCELING", update_time=b["update_time"])
        self._later(0.05, self._finish, mch["m"].mchid, no, "CANCELLED", "")
        return 200, ans

    # ---- the state machine ----
    def _move(self, b, state, reason=""):
        b["state"] = state
        b["update_time"] = rfc3339()
        if reason:
            b["fail_reason"] = reason
        if state in ("FAIL", "CANCELLED"):
            self.merchants[b["mchid"]]["balance"] += b["transfer_amount"]

    def _later(self, delay, fn, *args):
        """fn(*args) on its own thread after delay seconds (never inside
        the request that asked: an answer leaves before its callback)."""
        t = threading.Timer(max(delay, 0.02), fn, args)
        t.daemon = True
        self.timers.append(t)
        t.start()

    def _bill(self, no, mchid=None):
        for (mc, n), b in self.bill_map.items():
            if n == no and (mchid is None or mc == mchid):
                return b
        return None

    def _finish(self, mchid, no, state, reason):
        with self.lock:
            b = self._bill(no, mchid)
            if b is None or b["state"] in FINAL:
                return False
            if state == "SUCCESS" and b["state"] not in (
                    "WAIT_USER_CONFIRM", "TRANSFERING", "ACCEPTED",
                    "PROCESSING"):
                return False
            self._move(b, state, reason)
            snap = dict(b)
        self._notify(snap, 0)
        return True

    def confirm(self, no, mchid=None):
        """The user taps 确认收款: WAIT_USER_CONFIRM -> SUCCESS."""
        return self._finish(mchid, no, "SUCCESS", "")

    def fail(self, no, reason="PAYEE_ACCOUNT_ABNORMAL", mchid=None):
        return self._finish(mchid, no, "FAIL", reason)

    def tamper(self, no, mchid=None, **fields):
        """Changes a bill behind the merchant's back (no callback)."""
        with self.lock:
            b = self._bill(no, mchid)
            if b is None:
                return False
            for k, v in fields.items():
                b[k] = v
            b["update_time"] = rfc3339()
            return True

    def bills(self):
        """Every bill made, as the merchant platform would list them."""
        with self.lock:
            return [dict(self._public(b), creates=b["creates"],
                         callbacks=b["callbacks"], scene=b["scene"])
                    for b in self.bill_map.values()]

    def bill(self, no):
        with self.lock:
            b = self._bill(no)
            return None if b is None else dict(self._public(b),
                                               creates=b["creates"])

    # ---- callbacks ----
    def callback_body(self, b, event="MCHTRANSFER.BILL.FINISHED"):
        """The JSON text of a callback for bill b, its resource encrypted
        with the merchant's APIv3 key."""
        m = self.merchants[b["mchid"]]["m"]
        plain = dict(mchid=b["mchid"], out_bill_no=b["out_bill_no"],
                     transfer_bill_no=b["transfer_bill_no"],
                     state=b["state"], transfer_amount=b["transfer_amount"],
                     openid=b["openid"], create_time=b["create_time"],
                     update_time=b["update_time"])
        if b.get("fail_reason"):
            plain["fail_reason"] = b["fail_reason"]
        nonce = "".join(secrets.choice(string.ascii_letters + string.digits)
                        for _ in range(12))
        aad = "mch_payment"
        ct = AESGCM(m.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(plain, ensure_ascii=False).encode(),
            aad.encode())
        return json.dumps(dict(
            id="EV-" + secrets.token_hex(12), create_time=rfc3339(),
            resource_type="encrypt-resource", event_type=event,
            summary="商家转账单据终态通知",
            resource=dict(original_type="mch_payment",
                          algorithm="AEAD_AES_256_GCM",
                          ciphertext=base64.b64encode(ct).decode(),
                          associated_data=aad, nonce=nonce)),
            ensure_ascii=False, separators=(",", ":")).encode()

    def post_signed(self, url, body, bad_signature=False, headers=None):
        """POSTs body to url (loopback only) signed as WeChat Pay signs a
        callback: the answer's status, or None without one."""
        host = urllib.parse.urlsplit(url).hostname or ""
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise ValueError("the stand-in only calls loopback: " + url)
        hs = dict(self.signed_headers(
            body, key=self.other_key if bad_signature else None))
        hs["Content-Type"] = "application/json"
        hs.update(headers or {})
        req = urllib.request.Request(url, data=body, headers=hs,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    def _notify(self, b, attempt):
        if self.stopping.is_set() or not b.get("notify_url"):
            return
        rec = dict(out_bill_no=b["out_bill_no"], state=b["state"],
                   attempt=attempt, t=time.time(), status=None)
        with self.lock:
            self.notifications.append(rec)
            live = self._bill(b["out_bill_no"], b["mchid"])
            if live is not None:
                live["callbacks"] += 1
        if self.drop_callbacks:
            rec["status"] = "dropped"
            return
        try:
            status = self.post_signed(b["notify_url"], self.callback_body(b),
                                      bad_signature=
                                      self.bad_callback_signature)
        except ValueError:
            rec["status"] = "refused"
            return
        rec["status"] = status
        if status in (200, 204) or attempt >= len(RETRY_S):
            return
        self._later(RETRY_S[attempt] * self.retry_scale, self._notify, b,
                    attempt + 1)

    # ---- control over HTTP ----
    def _control(self, h, method, u, body):
        parts = u.path.split("/")[2:]
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            req = None
        q = dict(urllib.parse.parse_qsl(u.query))
        ok = True
        if method == "GET" and parts == ["bills"]:
            ans = self.bills()
        elif method == "GET" and parts == ["requests"]:
            with self.lock:
                ans = list(self.requests)
        elif method == "GET" and parts == ["notifications"]:
            with self.lock:
                ans = list(self.notifications)
        elif method == "POST" and len(parts) == 2 and parts[0] in (
                "confirm", "fail", "tamper") and isinstance(req, dict):
            no = urllib.parse.unquote(parts[1])
            if parts[0] == "confirm":
                ok = self.confirm(no)
            elif parts[0] == "fail":
                ok = self.fail(no, q.get("reason", "PAYEE_ACCOUNT_ABNORMAL"))
            else:
                ok = self.tamper(no, **{k: v for k, v in req.items() if k in
                                        ("state", "transfer_amount",
                                         "transfer_bill_no")})
            ans = {"ok": ok}
        elif method == "POST" and parts == ["mode"] and isinstance(req,
                                                                   dict):
            for k in ("auto_confirm", "confirm_delay", "drop_callbacks",
                      "bad_callback_signature", "min_fen", "max_fen",
                      "hang_s"):
                if k in req:
                    setattr(self, k, req[k])
            ans = {"ok": True}
        elif method == "POST" and parts == ["fault"] and isinstance(req,
                                                                    dict):
            self.set_fault(req.get("kind"), req.get("count"),
                           req.get("ops"), req.get("rate"))
            ans = {"ok": True}
        else:
            ans, ok = {"error": "no such control"}, None
        self._reply(h, 404 if ok is None else 200 if ok else 409,
                    json.dumps(ans, ensure_ascii=False))
