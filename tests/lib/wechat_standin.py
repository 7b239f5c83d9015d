"""A WeChat stand-in on loopback, written from WeChat's published API
documentation (developers.weixin.qq.com: 网页授权 / Web page
authorization for official accounts, and 小程序登录 auth.code2Session):

GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code
    &scope=snsapi_base|snsapi_userinfo&state   (the "#wechat_redirect"
    fragment never reaches a server). WeChat's client knows who the user
    is; here the test says so with the header X-Standin-User. The answer
    is 302 to redirect_uri with code and state appended; a user who
    declines snsapi_userinfo (X-Standin-Consent: no) comes back with the
    state only. A code is good once, for five minutes, for its app.
GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code
    -> {access_token, expires_in: 7200, refresh_token, openid, scope,
    unionid (when the app is bound to an open platform account)}
GET /sns/oauth2/refresh_token?appid&grant_type=refresh_token
    &refresh_token -> {access_token, expires_in, refresh_token, openid,
    scope}
GET /sns/userinfo?access_token&openid&lang=zh_CN|zh_TW|en
    -> {openid, nickname, sex, province, city, country, headimgurl,
    privilege: [], unionid}
GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
    -> {openid, session_key, unionid}

The server API messages use (an app's own credential, not a user's):
GET /cgi-bin/token?grant_type=client_credential&appid&secret
    -> {access_token, expires_in: 7200}; a new token ends the app's
    older ones five minutes later.
POST /cgi-bin/message/template/send?access_token (an official account's
    token) {touser, template_id, url?, miniprogram?: {appid, pagepath},
    data: {key: {value}}} -> {errcode: 0, errmsg: "ok", msgid}; touser
    must be an openid of the app of a user who follows it (43004
    require subscribe), template_id one the app added (40037 invalid
    template_id), data an object of {value: string} for exactly the
    template's keys (47003 argument invalid).
POST /cgi-bin/message/subscribe/send?access_token (a mini-program's
    token) {touser, template_id, page?, data, miniprogram_state?,
    lang?} -> {errcode: 0, errmsg: "ok", msgid}; each send spends one
    of the user's acceptances of that template (none left: 43101 user
    refuse to accept the msg); a thing.DATA value is at most 20
    characters (47003); miniprogram_state one of developer, trial,
    formal and lang one of zh_CN, en_US, zh_HK, zh_TW (47003).
Both: a token unknown or of another kind of app 40001, expired 42001,
a touser that is no openid of the app 40003, a body that is not JSON
47001. messages lists what was accepted: (appid, touser, template_id,
data, extra fields).

Errors are HTTP 200 with {errcode, errmsg}, as WeChat sends them: -1
system busy, 40001 invalid credential (access_token), 40002 invalid
grant_type, 40003 invalid openid, 40013 invalid appid, 40029 invalid
code, 40030 invalid refresh_token, 40125 invalid appsecret, 40163 code
been used, 41002 appid missing, 41004 appsecret missing, 41008 missing
code, 42001 access_token expired, 45011 api minute-quota reach limit,
48001 api unauthorized (userinfo with a snsapi_base token).

Switches (attributes, set by the test): down (the API closes every
connection unanswered), status_5xx (the API answers 502), rate_limit
(45011), busy (-1), expire_tokens (access tokens are born expired: the
first /sns/userinfo answers 42001), expire_app_tokens (the same for
/cgi-bin/token's). calls lists every API request
(path, params) for the test to inspect.
"""
import hashlib
import json
import secrets
import threading
import time
import urllib.parse

from standin_http import HttpStandIn

CODE_TTL = 300
TOKEN_TTL = 7200
REFRESH_TTL = 30 * 86400


def _ident(prefix, *parts):
    h = hashlib.sha256("|".join(parts).encode()).digest()
    import base64
    return prefix + base64.urlsafe_b64encode(h).decode()[:27]


class App:
    def __init__(self, appid, secret, kind, open_platform=None):
        self.appid, self.secret, self.kind = appid, secret, kind
        self.open_platform = open_platform  # unionid domain, or None


class StandIn(HttpStandIn):
    def __init__(self):
        self.apps = {}
        self.codes = {}         # code -> dict(appid, user, scope, exp, used)
        self.tokens = {}        # access_token -> dict(...)
        self.refresh = {}       # refresh_token -> dict(...)
        self.calls = []
        self.lock = threading.Lock()
        self.down = False
        self.status_5xx = False
        self.rate_limit = False
        self.busy = False
        self.expire_tokens = False
        self.users = {}         # user -> (nickname, headimgurl)
        self.app_tokens = {}    # /cgi-bin/token's: token -> dict(appid, exp)
        self.expire_app_tokens = False
        self.templates = {}     # (appid, template_id) -> [data keys]
        self.followers = set()  # (appid, user): follows the account
        self.accepts = {}       # (appid, user, template_id) -> sends left
        self.messages = []      # accepted sends
        self.known = set()      # (appid, user): has an openid of the app

    # ---- set-up ----
    def add_app(self, appid, secret, kind, open_platform=None):
        self.apps[appid] = App(appid, secret, kind, open_platform)

    def openid(self, appid, user):
        return _ident("o", appid, user)

    def unionid(self, appid, user):
        a = self.apps[appid]
        return _ident("u", a.open_platform, user) if a.open_platform else None

    def profile(self, user, nickname, headimgurl):
        self.users[user] = (nickname, headimgurl)

    def add_template(self, appid, template_id, keys):
        self.templates[(appid, template_id)] = list(keys)

    def follow(self, appid, user):
        """user follows the official account appid."""
        self.followers.add((appid, user))

    def accept(self, appid, user, template_id, n=1):
        """user taps "allow" n times for a mini-program's template."""
        with self.lock:
            k = (appid, user, template_id)
            self.accepts[k] = self.accepts.get(k, 0) + n

    def login_code(self, appid, user):
        """What wx.login() hands a mini-program: a fresh js_code."""
        return self._code(appid, user, "mp")

    def _code(self, appid, user, scope):
        code = secrets.token_hex(16)
        with self.lock:
            self.known.add((appid, user))
            self.codes[code] = dict(appid=appid, user=user, scope=scope,
                                    exp=time.time() + CODE_TTL, used=False)
        return code

    # ---- serving ----
    def _err(self, h, code, msg):
        self._reply(h, 200, json.dumps({"errcode": code, "errmsg": msg}))

    def _serve(self, h, method, body):
        u = urllib.parse.urlsplit(h.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(
            u.query, keep_blank_values=True).items()}
        if u.path == "/connect/oauth2/authorize":
            return self._authorize(h, q)
        with self.lock:
            self.calls.append((u.path, q))
        if self.down:
            h.close_connection = True
            h.connection.close()
            return
        if self.status_5xx:
            return self._reply(h, 502, "<html>Bad Gateway</html>",
                               "text/html")
        if self.busy:
            return self._err(h, -1, "system error")
        if self.rate_limit:
            return self._err(h, 45011, "api minute-quota reach limit "
                             "mustslower retry next minute")
        if method == "POST":
            fn = {"/cgi-bin/message/template/send": self._template_send,
                  "/cgi-bin/message/subscribe/send":
                  self._subscribe_send}.get(u.path)
            if fn is None:
                return self._err(h, 40066, "invalid url")
            return fn(h, q, body)
        fn = {"/sns/oauth2/access_token": self._access_token,
              "/cgi-bin/token": self._app_token,
              "/sns/oauth2/refresh_token": self._refresh_token,
              "/sns/userinfo": self._userinfo,
              "/sns/jscode2session": self._jscode2session}.get(u.path)
        if fn is None:
            return self._err(h, 40066, "invalid url")
        return fn(h, q)

    def _authorize(self, h, q):
        appid = q.get("appid", "")
        app = self.apps.get(appid)
        state = q.get("state", "")
        if app is None or app.kind != "oa":
            return self._reply(h, 200, "<p>appid参数错误</p>", "text/html")
        if q.get("response_type") != "code" or q.get("scope") not in (
                "snsapi_base", "snsapi_userinfo") or len(state) > 128 or \
                not all(c.isascii() and c.isalnum() for c in state) or \
                not q.get("redirect_uri"):
            return self._reply(h, 200, "<p>参数错误</p>", "text/html")
        user = h.headers.get("X-Standin-User")
        if user is None:
            return self._reply(h, 200, "<p>请在微信客户端打开链接</p>",
                               "text/html")
        ru = q["redirect_uri"]
        sep = "&" if "?" in ru else "?"
        if q["scope"] == "snsapi_userinfo" and \
                h.headers.get("X-Standin-Consent") == "no":
            loc = ru + sep + "state=" + state
        else:
            code = self._code(appid, user, q["scope"])
            loc = ru + sep + "code=" + code + "&state=" + state
        self._reply(h, 302, "", "text/html", [("Location", loc)])

    def _app_secret(self, h, q, kind, need_secret=True):
        appid = q.get("appid")
        if not appid:
            self._err(h, 41002, "appid missing")
            return None
        app = self.apps.get(appid)
        if app is None or app.kind != kind:
            self._err(h, 40013, "invalid appid")
            return None
        if need_secret:
            if not q.get("secret"):
                self._err(h, 41004, "appsecret missing")
                return None
            if q["secret"] != app.secret:
                self._err(h, 40125, "invalid appsecret")
                return None
        return app

    def _take_code(self, h, q, name, app, kinds):
        code = q.get(name)
        if not code:
            self._err(h, 41008, "missing code")
            return None
        with self.lock:
            c = self.codes.get(code)
            if c is None or c["appid"] != app.appid or \
                    c["scope"] not in kinds or time.time() > c["exp"]:
                self._err(h, 40029, "invalid code")
                return None
            if c["used"]:
                self._err(h, 40163, "code been used")
                return None
            c["used"] = True
        return c

    def _token(self, app, user, scope):
        at, rt = secrets.token_hex(24), secrets.token_hex(24)
        born = time.time()
        exp = born - 1 if self.expire_tokens else born + TOKEN_TTL
        with self.lock:
            self.tokens[at] = dict(appid=app.appid, user=user, scope=scope,
                                   exp=exp)
            self.refresh[rt] = dict(appid=app.appid, user=user, scope=scope,
                                    exp=born + REFRESH_TTL)
        return at, rt

    def _access_token(self, h, q):
        app = self._app_secret(h, q, "oa")
        if app is None:
            return
        if q.get("grant_type") != "authorization_code":
            return self._err(h, 40002, "invalid grant_type")
        c = self._take_code(h, q, "code", app, ("snsapi_base",
                                                "snsapi_userinfo"))
        if c is None:
            return
        at, rt = self._token(app, c["user"], c["scope"])
        ans = {"access_token": at, "expires_in": TOKEN_TTL,
               "refresh_token": rt, "openid": self.openid(app.appid,
                                                          c["user"]),
               "scope": c["scope"]}
        if app.open_platform:
            ans["unionid"] = self.unionid(app.appid, c["user"])
        self._reply(h, 200, json.dumps(ans))

    def _refresh_token(self, h, q):
        app = self._app_secret(h, q, "oa", need_secret=False)
        if app is None:
            return
        if q.get("grant_type") != "refresh_token":
            return self._err(h, 40002, "invalid grant_type")
        with self.lock:
            r = self.refresh.get(q.get("refresh_token", ""))
        if r is None or r["appid"] != app.appid or time.time() > r["exp"]:
            return self._err(h, 40030, "invalid refresh_token")
        at = secrets.token_hex(24)
        with self.lock:
            self.tokens[at] = dict(appid=app.appid, user=r["user"],
                                   scope=r["scope"],
                                   exp=time.time() + TOKEN_TTL)
        self._reply(h, 200, json.dumps({
            "access_token": at, "expires_in": TOKEN_TTL,
            "refresh_token": q["refresh_token"],
            "openid": self.openid(app.appid, r["user"]),
            "scope": r["scope"]}))

    def _userinfo(self, h, q):
        with self.lock:
            t = self.tokens.get(q.get("access_token", ""))
        if t is None:
            return self._err(h, 40001, "invalid credential, access_token "
                             "is invalid or not latest")
        if time.time() > t["exp"]:
            return self._err(h, 42001, "access_token expired")
        if q.get("openid") != self.openid(t["appid"], t["user"]):
            return self._err(h, 40003, "invalid openid")
        if t["scope"] != "snsapi_userinfo":
            return self._err(h, 48001, "api unauthorized")
        nick, img = self.users.get(t["user"], (t["user"], ""))
        ans = {"openid": q["openid"], "nickname": nick, "sex": 0,
               "province": "", "city": "", "country": "",
               "headimgurl": img, "privilege": []}
        u = self.unionid(t["appid"], t["user"])
        if u:
            ans["unionid"] = u
        self._reply(h, 200, json.dumps(ans, ensure_ascii=False))

    def _jscode2session(self, h, q):
        app = self._app_secret(h, q, "mp")
        if app is None:
            return
        if q.get("grant_type") != "authorization_code":
            return self._err(h, 40002, "invalid grant_type")
        c = self._take_code(h, q, "js_code", app, ("mp",))
        if c is None:
            return
        ans = {"openid": self.openid(app.appid, c["user"]),
               "session_key": secrets.token_urlsafe(16)}
        if app.open_platform:
            ans["unionid"] = self.unionid(app.appid, c["user"])
        self._reply(h, 200, json.dumps(ans))

    # ---- the server API: the app's credential, messages ----
    def _app_token(self, h, q):
        if q.get("grant_type") != "client_credential":
            return self._err(h, 40002, "invalid grant_type")
        appid = q.get("appid")
        if not appid:
            return self._err(h, 41002, "appid missing")
        app = self.apps.get(appid)
        if app is None:
            return self._err(h, 40013, "invalid appid")
        if q.get("secret") != app.secret:
            return self._err(h, 40001, "invalid credential, access_token "
                             "is invalid or not latest")
        at = secrets.token_hex(32)
        now = time.time()
        with self.lock:
            for t in self.app_tokens.values():
                if t["appid"] == appid:
                    t["exp"] = min(t["exp"], now + 300)
            self.app_tokens[at] = dict(
                appid=appid, exp=now - 1 if self.expire_app_tokens
                else now + TOKEN_TTL)
        self._reply(h, 200, json.dumps({"access_token": at,
                                        "expires_in": TOKEN_TTL}))

    def _message_app(self, h, q, body, kind):
        """The app a send's token is of, and the parsed body."""
        with self.lock:
            t = self.app_tokens.get(q.get("access_token", ""))
        app = self.apps.get(t["appid"]) if t else None
        if t is None or app is None or app.kind != kind:
            self._err(h, 40001, "invalid credential, access_token is "
                      "invalid or not latest")
            return None, None, None
        if time.time() > t["exp"]:
            self._err(h, 42001, "access_token expired")
            return None, None, None
        try:
            d = json.loads(body)
        except ValueError:
            d = None
        if not isinstance(d, dict):
            self._err(h, 47001, "data format error")
            return None, None, None
        with self.lock:
            users = list(self.known) + list(self.followers)
        user = next((u for (a, u) in users if a == app.appid and
                     self.openid(app.appid, u) == d.get("touser")), None)
        if user is None:
            self._err(h, 40003, "invalid openid")
            return None, None, None
        keys = self.templates.get((app.appid, d.get("template_id")))
        if keys is None:
            self._err(h, 40037, "invalid template_id")
            return None, None, None
        data = d.get("data")
        if not isinstance(data, dict) or sorted(data) != sorted(keys) or \
                not all(isinstance(v, dict) and
                        isinstance(v.get("value"), str) for v in
                        data.values()):
            self._err(h, 47003, "argument invalid! data is invalid")
            return None, None, None
        return app, user, d

    def _accepted(self, h, app, d):
        with self.lock:
            self.messages.append((app.appid, d["touser"], d["template_id"],
                                  {k: v["value"] for k, v in
                                   d["data"].items()},
                                  {k: v for k, v in d.items() if k not in
                                   ("touser", "template_id", "data")}))
            msgid = len(self.messages)
        self._reply(h, 200, json.dumps({"errcode": 0, "errmsg": "ok",
                                        "msgid": msgid}))

    def _template_send(self, h, q, body):
        app, user, d = self._message_app(h, q, body, "oa")
        if app is None:
            return
        if (app.appid, user) not in self.followers:
            return self._err(h, 43004, "require subscribe")
        mp = d.get("miniprogram")
        if mp is not None and (not isinstance(mp, dict) or
                               mp.get("appid") not in self.apps):
            return self._err(h, 47003, "argument invalid! miniprogram")
        self._accepted(h, app, d)

    def _subscribe_send(self, h, q, body):
        app, user, d = self._message_app(h, q, body, "mp")
        if app is None:
            return
        if d.get("miniprogram_state", "formal") not in (
                "developer", "trial", "formal") or d.get(
                "lang", "zh_CN") not in ("zh_CN", "en_US", "zh_HK",
                                         "zh_TW"):
            return self._err(h, 47003, "argument invalid!")
        for k, v in d["data"].items():
            if k.startswith("thing") and len(v["value"]) > 20:
                return self._err(h, 47003, "argument invalid! data.%s."
                                 "value exceeds the limit" % k)
        k = (app.appid, user, d["template_id"])
        with self.lock:
            left = self.accepts.get(k, 0)
            if left > 0:
                self.accepts[k] = left - 1
        if left <= 0:
            return self._err(h, 43101, "user refuse to accept the msg")
        self._accepted(h, app, d)
