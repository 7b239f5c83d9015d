"""WeChat login against the real sigild and a WeChat stand-in on loopback
(tests/lib/wechat_standin.py, written from WeChat's published API).

The brand's configuration: PUT/GET /api/v1/wechat (admin), the secret
never shown, bad input refused with 422 and nothing changed, an AppID
another brand's refused with 409. Outside WeChat a scan is answered as
always. Inside WeChat's browser (MicroMessenger): the first scan goes
302 to the authorize page and records nothing; WeChat sends the browser
back to /wx/oauth, the code is exchanged, the customer (no phone) made,
and the browser goes back to the scan, which is recorded once; the next
scan is recognised (no detour), and a new device of the same WeChat user
finds the same customer. A forged state, a state replayed, a state
carried to another browser are refused (400); a code used twice is
refused by WeChat (40163) and the scan is recorded anonymously; with
the stand-in down or answering 5xx the scan is still recorded and
answered. The mini-program's code2Session login makes the session
(unionid: the same customer as the official account's), and WeChat's
refusals each get their answer. An expired access token is refreshed
(snsapi_userinfo, with profile consent). No secret, code, token, openid
or unionid reaches the log or the data directory in the clear;
erasure removes the identities.
"""
import datetime
import glob
import json
import os
import re
import struct
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, Outbox, check, done  # noqa: E402
from wechat_standin import StandIn  # noqa: E402

OA, OA_SECRET = "wx1a2b3c4d5e6f7081", "0123456789abcdef0123456789abcdef"
MP, MP_SECRET = "wx99aa88bb77cc6655", "fedcba9876543210fedcba9876543210"
SAFARI_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
             "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
             "Mobile/15E148 Safari/604.1")
WX_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
         "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
         "MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")


def cookie_of(hdrs, name):
    for k, v in hdrs.items():
        if k.lower() == "set-cookie":
            m = re.search(name + r"=([^;]+)", v)
            if m:
                return m.group(1)
    return None


class Browser:
    """WeChat's built-in browser: a cookie jar and the WeChat user."""

    def __init__(self, srv, wx, user):
        self.srv, self.wx, self.user = srv, wx, user
        self.cookies = {}

    def get(self, path, headers=None):
        h = {"User-Agent": WX_UA}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv
                                    for kv in self.cookies.items())
        h.update(headers or {})
        st, hdrs, body = self.srv.request("GET", path, headers=h)
        raw = [v for k, v in hdrs.items() if k.lower() == "set-cookie"]
        for name in ("sg_d", "sg_wx"):
            v = cookie_of(hdrs, name)
            if v is not None:
                self.cookies[name] = v
        return st, hdrs, body, raw

    def authorize(self, url, consent=True):
        """The authorize page (the stand-in): where it sends us back."""
        import http.client
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        h = {"X-Standin-User": self.user}
        if not consent:
            h["X-Standin-Consent"] = "no"
        conn.request("GET", u.path + "?" + u.query, headers=h)
        r = conn.getresponse()
        r.read()
        loc = r.getheader("Location")
        conn.close()
        return r.status, loc

    def scan(self, path):
        """A scan in WeChat, the detour followed: (status, body, hops)."""
        hops = []
        st, hdrs, body, _ = self.get(path)
        while st == 302:
            loc = hdrs.get("Location")
            hops.append(loc)
            if loc.startswith(self.wx.base):
                ast, back = self.authorize(loc)
                if ast != 302:
                    return ast, b"", hops
                u = urllib.parse.urlsplit(back)
                hops.append(back)
                st, hdrs, body, _ = self.get(u.path + "?" + u.query)
            else:
                st, hdrs, body, _ = self.get(loc)
        return st, body, hops

    def me(self):
        st, _, body, _ = self.get("/api/v1/me",
                                  {"Accept": "application/json"})
        try:
            return st, json.loads(body)
        except ValueError:
            return st, None


def dump(data, table):
    """{key bytes: value bytes} of one table, read with mdb_dump."""
    r = subprocess.run(["mdb_dump", "-s", table, data], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return {}
    lines = r.stdout.split("HEADER=END\n", 1)[1].split("\n")
    rows = [bytes.fromhex(x.strip()) for x in lines if x.startswith(" ")]
    return {rows[i]: rows[i + 1] for i in range(0, len(rows) - 1, 2)}


def search(data, needles):
    """{needle name: [files that hold it]} over every file of data."""
    hits = {}
    for path in sorted(glob.glob(os.path.join(data, "**"), recursive=True)):
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except (IsADirectoryError, FileNotFoundError):
            continue
        for name, nd in needles.items():
            if nd and nd in blob:
                hits.setdefault(name, []).append(os.path.basename(path))
    return hits


def scan_count(srv, path):
    st, doc, _ = srv.scan(path)
    return doc["scan_count"] if st == 200 else None


with Env() as env:
    _, paths = env.setup_brand("acme", count=30)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    wx = StandIn()
    wx.add_app(OA, OA_SECRET, "oa", open_platform="acme-open")
    wx.add_app(MP, MP_SECRET, "mp", open_platform="acme-open")
    wx.start()
    srv = env.start("--wechat-api", wx.base, "--wechat-open", wx.base,
                    "--webhook-allow", "127.0.0.1")
    admin = env.token("acme", "admin")

    # ---- the configuration ----
    st, doc = srv.api("GET", "wechat", admin)
    check(st == 200 and doc["oa"] is None and doc["mp"] is None,
          "no WeChat configured at first (%s %s)" % (st, doc))
    for body, what in (
            ({"oa": {"appid": "wx123", "secret": OA_SECRET}}, "short appid"),
            ({"oa": {"appid": OA, "secret": "short"}}, "short secret"),
            ({"oa": {"appid": OA}}, "a new appid without its secret"),
            ({"oa": {"appid": OA, "secret": OA_SECRET, "userinfo": "yes"}},
             "userinfo not a boolean"),
            ({"oa": {"appid": OA, "secret": OA_SECRET},
              "mp": {"appid": OA, "secret": MP_SECRET}}, "one appid twice"),
            ({"oa": {"appid": OA, "secret": OA_SECRET}, "x": 1},
             "an unknown field"),
            ({"mp": {"appid": MP, "secret": MP_SECRET, "userinfo": True}},
             "userinfo on the mini-program"),
            ):
        st, doc = srv.api("PUT", "wechat", admin, body=body)
        check(st == 422 and doc["error"]["code"] == "invalid",
              "PUT refused: %s (%s)" % (what, st))
    st, doc = srv.api("PUT", "wechat", admin, body=[1, 2])
    check(st == 400, "PUT refused: not an object (%s)" % st)
    st, doc = srv.api("GET", "wechat", admin)
    check(doc["oa"] is None, "nothing stored by the refusals")
    st, doc = srv.api("PUT", "wechat", admin, body={
        "oa": {"appid": OA, "secret": OA_SECRET, "userinfo": True},
        "mp": {"appid": MP, "secret": MP_SECRET}})
    check(st == 200 and doc["oa"]["appid"] == OA and
          doc["oa"]["secret_set"] is True and doc["oa"]["userinfo"] is True
          and doc["mp"]["appid"] == MP,
          "PUT stores both apps (%s %s)" % (st, doc))
    st, raw = srv.request("GET", "/api/v1/wechat", headers={
        "Authorization": "Bearer " + admin})[0::2]
    check(OA_SECRET.encode() not in raw and MP_SECRET.encode() not in raw
          and b"secret_set" in raw, "GET never shows a secret")
    st, doc = srv.api("PUT", "wechat", admin, body={
        "oa": {"appid": OA, "userinfo": True},
        "mp": {"appid": MP}})
    check(st == 200 and doc["oa"]["secret_set"],
          "a secret left out keeps the one set for the same appid")
    beta = env.token("beta", "admin")
    st, doc = srv.api("PUT", "wechat", beta, body={
        "oa": {"appid": OA, "secret": OA_SECRET}})
    check(st == 409 and doc["error"]["code"] == "appid_taken",
          "another brand's AppID: 409 (%s)" % st)
    st, doc = srv.api("GET", "wechat", env.token("acme", "operator"))
    check(st == 403, "an operator token may not read it (%s)" % st)

    # ---- outside WeChat nothing changes ----
    st, hdrs, body = srv.request("GET", paths[0], headers={
        "User-Agent": SAFARI_UA})
    check(st == 200 and b"<html" in body.lower(),
          "a scan outside WeChat: the page, no detour (%s)" % st)
    st, doc, _ = srv.scan(paths[0], headers={"User-Agent": WX_UA})
    check(st == 200 and doc["scan_count"] == 2,
          "JSON in WeChat: no detour, recorded (%s)" % st)

    # ---- the first scan in WeChat: silent login ----
    alice = Browser(srv, wx, "alice")
    st, hdrs, body, _ = alice.get(paths[1])
    loc = hdrs.get("Location", "")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    check(st == 302 and loc.startswith(wx.base +
                                       "/connect/oauth2/authorize?") and
          loc.endswith("#wechat_redirect") and q.get("appid") == OA and
          q.get("scope") == "snsapi_base" and
          q.get("response_type") == "code" and
          re.fullmatch(r"[a-zA-Z0-9]{1,128}", q.get("state", "")) and
          "/wx/oauth?to=" in q.get("redirect_uri", ""),
          "first scan in WeChat: 302 to authorize, snsapi_base (%s %s)" %
          (st, loc[:80]))
    check("sg_d" in alice.cookies, "the detour sets the device cookie")
    check(scan_count(srv, paths[1]) == 1,
          "the detour recorded nothing (the JSON check is the first)")
    ast, back = alice.authorize(loc)
    bu = urllib.parse.urlsplit(back)
    first_cb = bu.path + "?" + bu.query
    code1 = dict(urllib.parse.parse_qsl(bu.query))["code"]
    st, hdrs, _, _ = alice.get(first_cb)
    check(st == 302 and hdrs.get("Location") == paths[1],
          "the callback sends the browser back to the scan (%s %s)" %
          (st, hdrs.get("Location")))
    st, hdrs, body, _ = alice.get(paths[1])
    check(st == 200 and b"<html" in body.lower(),
          "back at the scan: the page (%s)" % st)
    check(scan_count(srv, paths[1]) == 3,
          "one scan recorded for the consumer's scan")
    st, me = alice.me()
    check(st == 200 and me["customer"]["phone"] is None and
          [i["kind"] for i in me["customer"]["identities"]] ==
          ["wechat_oa", "wechat_union"],
          "/api/v1/me: a customer without a phone, openid and unionid "
          "(%s %s)" % (st, me))
    alice_id = me["customer"]["id"]
    oa_openid = wx.openid(OA, "alice")
    masked = [i["masked"] for i in me["customer"]["identities"]]
    check(masked[0] == oa_openid[:4] + "****" + oa_openid[-4:],
          "the openid shown masked (%s)" % masked)
    calls = [c for c in wx.calls if c[0] == "/sns/oauth2/access_token"]
    check(len(calls) == 1 and calls[0][1].get("grant_type") ==
          "authorization_code" and calls[0][1].get("secret") == OA_SECRET
          and calls[0][1].get("code") == code1,
          "the code exchanged server-side with appid, secret, code, "
          "grant_type")

    # ---- a second scan is recognised ----
    n = len(wx.calls)
    st, body, hops = alice.scan(paths[2])
    check(st == 200 and hops == [] and len(wx.calls) == n,
          "second scan: recognised, no detour (%s %s)" % (st, hops))
    alice2 = Browser(srv, wx, "alice")
    st, body, hops = alice2.scan(paths[3])
    st2, me2 = alice2.me()
    check(st == 200 and len(hops) == 3 and me2["customer"]["id"] ==
          alice_id, "a new device of the same WeChat user: the same "
          "customer (%s %s)" % (hops, me2))
    st, doc = srv.api("GET", "customers/%d" % alice_id, admin)
    check(st == 200 and doc["customer"]["phone"] is None and
          len(doc["customer"]["identities"]) == 2 and
          doc["customer"]["devices"] == 2,
          "the brand sees the customer: phone null, identities, devices")

    # ---- a customer without a phone, everywhere ----
    st, _ = srv.api("POST", "campaigns", admin, {
        "name": "WeChat points", "skus": ["W1"], "points": 10,
        "starts": (datetime.date.today() -
                   datetime.timedelta(days=1)).isoformat(),
        "ends": (datetime.date.today() +
                 datetime.timedelta(days=30)).isoformat()})
    check(st == 201, "a campaign (%s)" % st)
    h = {"Accept": "application/json", "User-Agent": WX_UA,
         "Cookie": "sg_d=" + alice.cookies["sg_d"]}
    st, _, raw = srv.request("POST", "/api/v1/claims",
                             body={"code": paths[2]}, headers=h)
    check(st == 201, "the WeChat customer claims points without a phone "
          "(%s %s)" % (st, raw[:120]))
    st, me = alice.me()
    check(me["customer"]["balance"] == 10, "her balance (%s)" %
          me["customer"].get("balance"))
    st, _, body, _ = alice.get("/member")
    check(st == 200 and b"<html" in body.lower(), "the member page (%s)" %
          st)
    st, hdrs, raw = srv.request("GET", "/api/v1/customers/export.csv",
                                headers={"Authorization": "Bearer " + admin})
    row = [line for line in raw.decode("utf-8-sig").splitlines()
           if line.startswith('"%d"' % alice_id) or
           line.startswith("%d," % alice_id)]
    check(st == 200 and len(row) == 1, "the customers CSV has her row "
          "(%s %s)" % (st, row))

    # ---- forged, replayed, carried states ----
    st, _, body, _ = alice.get(first_cb)
    check(st == 400 and json.loads(body)["error"]["code"] == "state_used",
          "the same state again: refused as used (%s)" % st)
    bob = Browser(srv, wx, "bob")
    st, hdrs, _, _ = bob.get(paths[4])
    loc = hdrs["Location"]
    ast, back = bob.authorize(loc)
    bu = urllib.parse.urlsplit(back)
    bq = dict(urllib.parse.parse_qsl(bu.query))
    state = bq["state"]
    forged = state[:-1] + ("0" if state[-1] != "0" else "1")
    st, _, body, _ = bob.get("/wx/oauth?" + urllib.parse.urlencode(
        {"to": bq["to"], "code": bq["code"], "state": forged}))
    check(st == 400 and json.loads(body)["error"]["code"] ==
          "state_invalid", "a forged state: 400 (%s)" % st)
    st, _, body, _ = bob.get("/wx/oauth?" + urllib.parse.urlencode(
        {"to": paths[5], "code": bq["code"], "state": state}))
    check(st == 400, "a state with another path: 400 (%s)" % st)
    eve = Browser(srv, wx, "eve")
    eve.get(paths[6])
    st, _, body, _ = eve.get(bu.path + "?" + bu.query)
    check(st == 400 and json.loads(body)["error"]["code"] ==
          "state_invalid", "bob's state in eve's browser: 400 (%s)" % st)
    st, _, body, _ = bob.get("/wx/oauth?to=%2FS%2Fx&code=1")
    check(st == 400, "no state: 400 (%s)" % st)
    st, _, body, _ = bob.get("/wx/oauth?to=https%3A%2F%2Fevil.example%2F"
                             "&code=1&state=" + state)
    check(st == 400, "a 'to' off this server: 400 (%s)" % st)
    st, _, _ = srv.request("HEAD", bu.path + "?" + bu.query, headers={
        "Cookie": "sg_d=" + bob.cookies["sg_d"], "User-Agent": WX_UA})
    check(st == 405, "a HEAD of the callback is refused, nothing spent "
          "(%s)" % st)
    st, hdrs, _, _ = bob.get(bu.path + "?" + bu.query)
    check(st == 302 and hdrs["Location"] == paths[4],
          "bob's own state, after the refusals, still works (%s)" % st)
    bob_code = bq["code"]

    # ---- a code used twice ----
    carol = Browser(srv, wx, "carol")
    before = scan_count(srv, paths[7])
    st, hdrs, _, _ = carol.get(paths[7])
    ast, back = carol.authorize(hdrs["Location"])
    cq = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
    st, hdrs, _, raw = carol.get("/wx/oauth?" + urllib.parse.urlencode(
        {"to": cq["to"], "code": bob_code, "state": cq["state"]}))
    check(st == 302 and hdrs["Location"] == paths[7] and
          "sg_wx" in carol.cookies,
          "bob's used code: WeChat refuses it, back to the scan (%s)" % st)
    check(any(c[0] == "/sns/oauth2/access_token" for c in wx.calls[-1:]),
          "the used code went to WeChat, which answered 40163")
    st, hdrs, body, _ = carol.get(paths[7])
    check(st == 200 and scan_count(srv, paths[7]) == before + 2,
          "the scan is recorded and answered anonymously (%s)" % st)
    st, me = carol.me()
    check(st != 200, "carol is nobody's session (%s)" % st)
    st, hdrs, _, _ = carol.get(paths[8])
    check(st == 200, "sg_wx: no detour for a while (%s)" % st)

    # ---- the stand-in down, or answering 5xx ----
    for switch in ("down", "status_5xx", "busy", "rate_limit"):
        setattr(wx, switch, True)
        dave = Browser(srv, wx, "dave-" + switch)
        before = scan_count(srv, paths[9])
        st, body, hops = dave.scan(paths[9])
        setattr(wx, switch, False)
        check(st == 200 and len(hops) == 3 and
              scan_count(srv, paths[9]) == before + 2 and
              dave.me()[0] != 200,
              "WeChat %s: the scan still recorded and answered (%s %s)" %
              (switch, st, hops))

    wx.apps[OA].secret = "1" * 32
    erin = Browser(srv, wx, "erin")
    before = scan_count(srv, paths[9])
    st, body, hops = erin.scan(paths[9])
    wx.apps[OA].secret = OA_SECRET
    check(st == 200 and scan_count(srv, paths[9]) == before + 2 and
          erin.me()[0] != 200 and
          "errcode=40125 result=bad_app" in srv.logtext(),
          "the AppSecret changed at WeChat (40125): the scan recorded, "
          "the operator told in the log")

    # ---- the stand-in refuses what WeChat refuses ----
    def wxget(path, **q):
        import urllib.request
        with urllib.request.urlopen(wx.base + path + "?" +
                                    urllib.parse.urlencode(q)) as r:
            return json.loads(r.read())
    code = wx.login_code(MP, "probe")
    for q, want, what in (
            (dict(appid=MP, secret="x" * 32, js_code=code,
                  grant_type="authorization_code"), 40125, "wrong secret"),
            (dict(appid="wx0000000000000000", secret=MP_SECRET,
                  js_code=code, grant_type="authorization_code"), 40013,
             "wrong appid"),
            (dict(appid=MP, secret=MP_SECRET, js_code=code,
                  grant_type="client_credential"), 40002,
             "wrong grant_type"),
            (dict(appid=MP, secret=MP_SECRET,
                  grant_type="authorization_code"), 41008, "no code")):
        check(wxget("/sns/jscode2session", **q).get("errcode") == want,
              "the stand-in refuses a %s with %d" % (what, want))
    check(wxget("/sns/oauth2/refresh_token", appid=OA,
                grant_type="refresh_token", refresh_token="nope")
          .get("errcode") == 40030, "the stand-in refuses a bad "
          "refresh_token with 40030")
    check(wxget("/sns/userinfo", access_token="nope", openid="x",
                lang="zh_CN").get("errcode") == 40001,
          "the stand-in refuses a bad access_token with 40001")

    # ---- the mini-program ----
    def session(body, cookie=None):
        h = {"Accept": "application/json"}
        if cookie:
            h["Cookie"] = "sg_d=" + cookie
        st, hdrs, raw = srv.request("POST", "/api/v1/wechat/session",
                                    body=body, headers=h)
        try:
            return st, hdrs, json.loads(raw)
        except ValueError:
            return st, hdrs, None

    code = wx.login_code(MP, "alice")
    st, hdrs, doc = session({"appid": MP, "code": code})
    check(st == 200 and doc["customer"]["id"] == alice_id and
          re.fullmatch(r"[0-9a-f]{16}\.[0-9a-f]{16}", doc["session"]) and
          cookie_of(hdrs, "sg_d") == doc["session"] and
          "session_key" not in json.dumps(doc),
          "mini-program login: alice by her unionid, the session "
          "(%s %s)" % (st, doc))
    check(sorted(i["kind"] for i in doc["customer"]["identities"]) ==
          ["wechat_mp", "wechat_oa", "wechat_union"],
          "her mini-program openid is bound too")
    sess = doc["session"]
    st, _, raw = srv.request("GET", "/api/v1/me", headers={
        "Accept": "application/json", "Cookie": "sg_d=" + sess})
    check(st == 200 and json.loads(raw)["customer"]["id"] == alice_id,
          "the session works for /api/v1/me")
    st, _, doc = session({"appid": MP, "code": code})
    check(st == 401 and doc["error"]["code"] == "code_invalid",
          "a js_code used twice: 401 (%s)" % st)
    st, _, doc = session({"appid": MP, "code": "nonsense"})
    check(st == 401, "an unknown js_code: 401 (%s)" % st)
    st, _, doc = session({"appid": OA, "code": "x"})
    check(st == 404 and doc["error"]["code"] == "unknown_app",
          "the official account's appid is not a mini-program (%s)" % st)
    st, _, doc = session({"appid": "wx0000000000000000", "code": "x"})
    check(st == 404, "an unknown appid: 404 (%s)" % st)
    for body, want in (({"appid": MP}, 422), ({"code": "x"}, 422),
                       ("not json", 400), ([1], 400)):
        st, _, doc = session(body if not isinstance(body, str) else
                             body.encode())
        check(st == want, "a bad body: %d (%s %s)" % (want, body, st))
    st, _, raw = srv.request("POST", "/api/v1/wechat/session",
                             body=b'{"appid":"x","code":"y"}', headers={
                                 "Content-Type": "text/plain"})
    check(st == 415, "not application/json: 415 (%s)" % st)
    for switch, want in (("rate_limit", 429), ("busy", 503),
                         ("down", 503), ("status_5xx", 503)):
        setattr(wx, switch, True)
        st, hdrs, doc = session({"appid": MP, "code":
                                 wx.login_code(MP, "zed")})
        setattr(wx, switch, False)
        check(st == want, "WeChat %s: %d (%s)" % (switch, want, st))
    wx.apps[MP].secret = "0" * 32
    st, _, doc = session({"appid": MP, "code": wx.login_code(MP, "zed")})
    wx.apps[MP].secret = MP_SECRET
    check(st == 502 and doc["error"]["code"] == "wechat_config",
          "WeChat says 40125 (secret changed at WeChat): 502 (%s)" % st)
    st, _, doc = session({"appid": MP, "code": wx.login_code(MP, "frank")})
    check(st == 200 and doc["customer"]["id"] != alice_id and
          doc["customer"]["created"] is True,
          "a new mini-program user: a new customer")

    # ---- WeChat to phone: the device's customer and the WeChat one ----
    box = Outbox(env.data)
    gina = Browser(srv, wx, "gina")
    gina.scan(paths[11])
    gina_id = gina.me()[1]["customer"]["id"]
    _, _, dev = srv.scan(paths[12], headers={"User-Agent": SAFARI_UA})
    h = {"Accept": "application/json", "Cookie": "sg_d=" + dev}
    srv.request("POST", "/api/v1/customers/otp", body={
        "phone": "13800138011", "code": paths[12]}, headers=h)
    st, _, raw = srv.request("POST", "/api/v1/customers/verify", body={
        "phone": "13800138011", "code": paths[12],
        "otp": box.code("13800138011")}, headers=h)
    phone_id = json.loads(raw)["customer"]["id"]
    check(st == 200 and phone_id != gina_id, "a phone customer on a plain "
          "browser (%s)" % st)
    st, _, doc = session({"appid": MP, "code": wx.login_code(MP, "gina")},
                         cookie=dev)
    kinds = sorted(i["kind"] for i in doc["customer"]["identities"])
    check(st == 200 and doc["customer"]["id"] == phone_id and
          doc["customer"]["phone"] == "138****8011" and
          kinds == ["wechat_mp", "wechat_oa", "wechat_union"],
          "gina's mini-program login on the phone customer's device: the "
          "two made one, the phone's customer survives (%s %s)" % (st, doc))
    st, doc = srv.api("GET", "customers/%d" % gina_id, admin)
    check(st == 200 and doc["customer"]["id"] == phone_id,
          "gina's WeChat customer id now names the survivor (%s)" %
          doc.get("customer", {}).get("id"))
    st, me = gina.me()
    check(st == 200 and me["customer"]["id"] == phone_id,
          "her WeChat browser's session is the survivor's too")
    ivy_dev = srv.scan(paths[13], headers={"User-Agent": SAFARI_UA})[2]
    st, _, doc = session({"appid": MP, "code": wx.login_code(MP, "ivy")},
                         cookie=ivy_dev)
    st, _, doc2 = session({"appid": MP, "code": wx.login_code(MP, "jack")},
                          cookie=ivy_dev)
    check(st == 200 and doc2["customer"]["id"] != doc["customer"]["id"],
          "two WeChat users on one device stay two customers: the device "
          "goes over")
    box.close()

    # ---- the profile: snsapi_userinfo, an expired token refreshed ----
    hana = Browser(srv, wx, "hana")
    hana.scan(paths[14])
    st, _, body, _ = hana.get("/wx/userinfo?back=%2Fmember")
    check(st == 403 and json.loads(body)["error"]["code"] ==
          "consent_needed", "no profile consent: no profile asked (%s)" % st)
    st, doc = srv.api("POST", "privacy/notices", admin, body={
        "texts": {"zh-CN": "我们收集微信昵称和头像。",
                  "en": "We keep your WeChat nickname and avatar."}})
    version = doc["notice"]["version"]
    st, _, body, _ = hana.get("/wx/userinfo?back=https%3A%2F%2Fevil.example")
    check(st == 400, "back off this server: 400 (%s)" % st)
    h = {"Accept": "application/json", "Cookie": "sg_d=" +
         hana.cookies["sg_d"], "User-Agent": WX_UA}
    st, _, raw = srv.request("POST", "/api/v1/me/consents?brand=acme", body={
        "grant": ["profile"], "notice_version": version,
        "channel": "wechat"}, headers=h)
    check(st == 201, "hana agrees to share a profile (%s %s)" % (st, raw))
    wx.profile("hana", "花花 Hana", "https://thirdwx.qlogo.cn/mmopen/h/132")
    st, hdrs, _, _ = hana.get("/wx/userinfo?back=%2Fmember")
    loc = hdrs.get("Location", "")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    check(st == 302 and q.get("scope") == "snsapi_userinfo",
          "with consent: 302 to authorize, snsapi_userinfo (%s)" % st)
    st2, back = hana.authorize(loc, consent=False)
    bu = urllib.parse.urlsplit(back)
    st, hdrs, _, _ = hana.get(bu.path + "?" + bu.query)
    check(st == 302 and hdrs["Location"] == "/member" and
          "nickname" not in json.dumps(hana.me()[1]),
          "the consumer declines WeChat's page: back, nothing kept")
    hana.cookies.pop("sg_wx", None)
    st, hdrs, _, _ = hana.get("/wx/userinfo?back=%2Fmember")
    wx.expire_tokens = True
    n = len(wx.calls)
    st2, back = hana.authorize(hdrs["Location"])
    bu = urllib.parse.urlsplit(back)
    st, hdrs, _, _ = hana.get(bu.path + "?" + bu.query)
    wx.expire_tokens = False
    steps = [c[0] for c in wx.calls[n:]]
    check(steps == ["/sns/oauth2/access_token", "/sns/userinfo",
                    "/sns/oauth2/refresh_token", "/sns/userinfo"],
          "an expired access token (42001) refreshed, the profile fetched "
          "again (%s)" % steps)
    check(wx.calls[n + 2][1].get("grant_type") == "refresh_token" and
          wx.calls[n + 2][1].get("appid") == OA and
          "secret" not in wx.calls[n + 2][1],
          "refresh_token with appid, grant_type, refresh_token only")
    st_me, me = hana.me()
    oa_id = [i for i in me["customer"]["identities"]
             if i["kind"] == "wechat_oa"]
    check(st == 302 and hdrs["Location"] == "/member" and
          oa_id and oa_id[0].get("nickname") == "花花 Hana" and
          oa_id[0].get("avatar", "").startswith("https://thirdwx"),
          "the nickname and avatar kept with the identity (%s)" % oa_id)
    st, _, raw = srv.request("POST", "/api/v1/me/consents?brand=acme", body={
        "withdraw": ["profile"]}, headers=h)
    check(st == 201, "hana withdraws her profile consent (%s)" % st)
    st_me, me = hana.me()
    check(st_me == 200 and "nickname" not in json.dumps(me) and
          "avatar" not in json.dumps(me) and
          len(me["customer"]["identities"]) == 2,
          "the withdrawal drops the nickname and avatar, the identities "
          "stay")
    st, _, body, _ = hana.get("/wx/userinfo?back=%2Fmember")
    check(st == 403, "consent withdrawn: no profile asked again (%s)" % st)
    srv.request("POST", "/api/v1/me/consents?brand=acme", body={
        "grant": ["profile"], "notice_version": version,
        "channel": "wechat"}, headers=h)
    st, hdrs, _, _ = hana.get("/wx/userinfo?back=%2Fmember")
    srv.request("POST", "/api/v1/me/consents?brand=acme", body={
        "withdraw": ["profile"]}, headers=h)
    st2, back = hana.authorize(hdrs["Location"])
    bu = urllib.parse.urlsplit(back)
    st, hdrs, _, _ = hana.get(bu.path + "?" + bu.query)
    st_me, me = hana.me()
    check(st == 302 and hdrs["Location"] == "/member" and
          "nickname" not in json.dumps(me),
          "consent withdrawn while WeChat was asked: the profile WeChat "
          "gave is not kept")

    st, _, raw = srv.request("GET", "/metrics")
    m = dict(re.findall(r"^(sigil_wechat_\w+) (\d+)$", raw.decode(), re.M))
    check(int(m.get("sigil_wechat_redirects_total", 0)) >= 10 and
          int(m.get("sigil_wechat_logins_total", 0)) >= 8 and
          int(m.get("sigil_wechat_errors_total", 0)) >= 5 and
          int(m.get("sigil_wechat_refreshed_total", 0)) == 1,
          "/metrics counts redirects, logins, errors, refreshes (%s)" % m)

    # ---- nothing in the clear ----
    log = srv.logtext()
    for secret, what in ((OA_SECRET, "OA secret"), (MP_SECRET, "MP secret"),
                         (oa_openid, "openid"),
                         (wx.unionid(OA, "alice"), "unionid"),
                         (code1, "a code"), ("花花", "nickname")):
        check(secret not in log, "the log never holds the %s" % what)
    blob = b""
    for root, _, files in os.walk(env.data):
        for f in files:
            try:
                with open(os.path.join(root, f), "rb") as fh:
                    blob += fh.read()
            except FileNotFoundError:
                pass    # a log file recycled meanwhile
    for secret, what in ((OA_SECRET, "OA secret"), (MP_SECRET, "MP secret"),
                         (oa_openid, "openid"),
                         (wx.unionid(OA, "alice"), "unionid")):
        check(secret.encode() not in blob,
              "the data directory never holds the %s in the clear" % what)
    st, doc = srv.api("GET", "customers/%d/export" % alice_id, admin)
    ids = {i["kind"]: i.get("id") for i in doc["customer"]["identities"]}
    check(st == 200 and ids.get("wechat_oa") == oa_openid,
          "the PIPL export carries the identifiers themselves")
    st, doc = srv.api("GET", "audit", admin)
    check(st == 200 and OA_SECRET not in json.dumps(doc) and
          any(e.get("action") == "wechat_config_set"
              for e in doc.get("entries", [])),
          "the audit trail names the change, never the secret")

    # ---- erasure ----
    rows = {k: v for k, v in dump(env.data, "customer_idents").items()
            if len(k) == 45 and struct.unpack(">IQ", k[:12]) ==
            (1, alice_id)}
    needles = {}
    for k, v in rows.items():
        al = v[8]
        cl = struct.unpack("<H", v[9 + al:11 + al])[0]
        needles["hash %d" % k[12]] = k[13:45]
        needles["sealed id %d" % k[12]] = v[11 + al:11 + al + cl]
    before = search(env.data, needles)
    check(len(rows) == 3 and len(before) == 6,
          "before the erasure her 3 identities' hashes and sealed values "
          "are in the files (%d rows, %s)" % (len(rows), sorted(before)))
    st, doc = srv.api("POST", "customers/%d/erase" % alice_id, admin,
                      body={})
    check(st in (200, 202), "alice erased (%s %s)" % (st, doc))
    after = search(env.data, needles)
    check(after == {}, "after the erasure and its scrub no hash or sealed "
          "value of hers is in any file of the data directory (%s)" % after)
    st, doc = srv.api("GET", "customers/%d" % alice_id, admin)
    check(doc["customer"]["identities"] == [],
          "her identities are gone with her")
    alice3 = Browser(srv, wx, "alice")
    st, body, hops = alice3.scan(paths[10])
    st2, me3 = alice3.me()
    check(st == 200 and st2 == 200 and me3["customer"]["id"] != alice_id,
          "after erasure WeChat's alice is a new customer")

    srv.stop()
    wx.stop()
done()
