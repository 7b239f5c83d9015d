"""What the cash tests share (issue 22): a brand whose mini-program is
configured against the WeChat stand-in (tests/lib/wechat_standin.py), so
customers log in through WeChat (code2Session) and have the openid a red
packet is paid to; their scans and claims from chosen networks
(X-Forwarded-For, sigild started with --trusted-proxy 127.0.0.1); cash
campaigns through the brand API."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from wechat_standin import StandIn  # noqa: E402

MP, MP_SECRET = "wx99aa88bb77cc6655", "fedcba9876543210fedcba9876543210"


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


def wechat(env, count, brand="acme"):
    """The brand with one batch of count codes and the WeChat stand-in
    with its mini-program: (stand-in, compact paths)."""
    _, paths = env.setup_brand(brand, count=count)
    wx = StandIn()
    wx.add_app(MP, MP_SECRET, "mp")
    wx.start()
    return wx, paths


def start(env, wx, *args):
    """sigild against the stand-in, believing X-Forwarded-For from
    loopback; the brand's mini-program configured. (server, admin
    token)."""
    srv = env.start("--wechat-api", wx.base, "--wechat-open", wx.base,
                    "--webhook-allow", "127.0.0.1", "--trusted-proxy",
                    "127.0.0.1", *args)
    admin = env.token("acme", "admin")
    st, doc = srv.api("PUT", "wechat", admin,
                      body={"mp": {"appid": MP, "secret": MP_SECRET}})
    if st != 200:
        raise RuntimeError("wechat config %d %r" % (st, doc))
    return srv, admin


def campaign(srv, token, **cfg):
    """A campaign (points 1 unless said); its id. cfg as the API takes."""
    base = {"name": "红包", "skus": ["W1"], "starts": day(-1),
            "ends": day(30), "points": 1}
    base.update(cfg)
    st, doc = srv.api("POST", "campaigns", token, base)
    if st != 201:
        raise RuntimeError("campaign %d %r" % (st, doc))
    return doc["id"]


def cash_campaign(srv, token, amount, odds=1.0, stock=1000000, **cfg):
    """A campaign whose one prize, drawn with odds, pays amount (a
    prize's "cash" object); cfg["cash"] the campaign's settings."""
    return campaign(srv, token, draw=[{"name": "红包", "odds": odds,
                                       "stock": stock, "cash": amount}],
                    **cfg)


class Phone:
    """A WeChat user's phone: its session (the device cookie) and the
    network it is on."""

    def __init__(self, srv, wx, user, ip="10.0.0.1", device=None):
        self.srv, self.wx, self.user, self.ip = srv, wx, user, ip
        self.device = device
        self.customer = None

    def _post(self, path, body):
        h = {"Accept": "application/json", "X-Forwarded-For": self.ip}
        if self.device:
            h["Cookie"] = "sg_d=" + self.device
        st, hdrs, raw = self.srv.request("POST", path, body=body, headers=h)
        try:
            return st, hdrs, json.loads(raw)
        except ValueError:
            return st, hdrs, None

    def login(self):
        """The mini-program's login (wx.login + code2Session): the
        session is this phone's device from then on."""
        st, _, doc = self._post("/api/v1/wechat/session", {
            "appid": MP, "code": self.wx.login_code(MP, self.user)})
        if st != 200:
            raise RuntimeError("wechat login %d %r" % (st, doc))
        self.device = doc["session"]
        self.customer = doc["customer"]["id"]
        return self

    def scan(self, path):
        h = {"X-Forwarded-For": self.ip}
        st, doc, dev = self.srv.scan(path, self.device, headers=h)
        self.device = dev
        return st, doc

    def claim(self, path, **extra):
        """(status, headers, answer) of POST /api/v1/claims."""
        body = {"code": path}
        body.update(extra)
        return self._post("/api/v1/claims", body)

    def scan_claim(self, path, **extra):
        self.scan(path)
        return self.claim(path, **extra)


def payout(srv, token, claim_id):
    """The payout of a claim as the brand API shows it, or None."""
    st, doc = srv.api("GET", "payouts/%d" % claim_id, token)
    return doc if st == 200 else None
