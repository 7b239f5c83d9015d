"""What the payout tests (tests/server/payouts*.py) share: a brand whose
campaign pays cash, a WeChat stand-in for the customers' mini-program
logins (their openids), the WeChat Pay stand-in (wechatpay_standin.py)
with the brand's merchant registered, sigild started against both with
--wxpay-api and a --base-url the callbacks come back to, the brand's
payment settings and keys set through the brand API, and small helpers
to claim and to wait for a payout's state."""
import datetime
import json
import os
import time

from egresstest import free_port
from sigiltest import Server
import wechat_standin
import wechatpay_standin

CN = datetime.timezone(datetime.timedelta(hours=8))
MP, MP_SECRET = "wx99aa88bb77cc6655", "fedcba9876543210fedcba9876543210"
FINAL = ("paid", "failed", "rejected")


def day(offset=0):
    d = datetime.datetime.now(CN).date() + datetime.timedelta(days=offset)
    return d.isoformat()


def wait(pred, timeout=20, step=0.1):
    """pred()'s first true value within timeout seconds, else None."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def start_sigild(env, wx, pay, port, *extra):
    """sigild on port against the WeChat (wx) and WeChat Pay (pay)
    stand-ins, its --base-url naming that port so that the stand-in's
    callbacks reach it; no rate limits; X-Forwarded-For believed from
    loopback."""
    args = ["--api-rate-limit", "0", "--rate-limit", "0",
            "--trusted-proxy", "127.0.0.1/32",
            "--wechat-api", wx.base, "--wechat-open", wx.base,
            "--wxpay-api", pay.base, "--webhook-allow", "127.0.0.1",
            "--base-url", "http://127.0.0.1:%d" % port] + list(extra)
    if os.environ.get("WAL") == "0" and "--no-sync" not in args:
        args.append("--no-wal")
    srv = Server(env, args, port)
    env.servers.append(srv)
    return srv


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def settings_body(m, pay, **over):
    """PUT payments/settings for merchant m at the stand-in pay."""
    s = {"mchid": m.mchid, "appid": m.appid, "serial_no": m.serial_no,
         "pub_key_id": pay.pub_key_id, "public_key": _text(pay.pub_pem)}
    s.update(over)
    return s


def keys_body(m):
    """PUT payments/keys for merchant m."""
    return {"private_key": _text(m.key_pem), "apiv3_key": m.apiv3_key}


class World:
    """One brand (acme) with codes, both stand-ins, one sigild port."""

    def __init__(self, env, codes=40, **standin):
        self.env = env
        env.sigil("init", "--brand", "acme", "--base-url",
                  "https://ACME.EXAMPLE")
        _, self.codes = env.setup_brand(sku="CASH", count=codes, init=False)
        self.admin = env.token("acme", "admin")
        self.wx = wechat_standin.StandIn()
        self.wx.add_app(MP, MP_SECRET, "mp")
        self.wx.start()
        self.pay = wechatpay_standin.StandIn(**standin).start()
        self.m = wechatpay_standin.make_merchant(env.dir, appid=MP)
        self.pay.add_merchant(self.m)
        self.port = free_port()
        self.srv = None
        self.users = iter(range(1, 1 << 20))

    def start(self, *extra):
        self.srv = start_sigild(self.env, self.wx, self.pay, self.port,
                                *extra)
        return self.srv

    def api(self, method, path, body=None):
        return self.srv.api(method, path, self.admin, body=body)

    def settings(self, **over):
        return settings_body(self.m, self.pay, **over)

    def configure(self):
        """The brand's mini-program, payment settings and keys."""
        st, d = self.api("PUT", "wechat", {"mp": {"appid": MP,
                                                  "secret": MP_SECRET}})
        if st != 200:
            raise RuntimeError("wechat %d %r" % (st, d))
        st, d = self.api("PUT", "payments/settings", self.settings())
        if st != 200:
            raise RuntimeError("settings %d %r" % (st, d))
        st, d = self.api("PUT", "payments/keys", keys_body(self.m))
        if st != 200:
            raise RuntimeError("keys %d %r" % (st, d))

    def campaign(self, cash=None, budget=10 ** 6, **cfg):
        """A running campaign whose one prize pays cash (default 1 yuan)
        with odds 1; its id."""
        body = {"name": "红包 %d" % next(self.users), "starts": day(-1),
                "ends": day(30), "points": 1, "skus": ["CASH"],
                "draw": [{"name": "红包", "odds": 1, "stock": 100000,
                          "cash": cash or {"fixed": 100}}],
                "cash": dict({"budget_fen": budget}, **cfg.pop("cashcfg",
                                                               {}))}
        body.update(cfg)
        st, d = self.api("POST", "campaigns", body)
        if st != 201:
            raise RuntimeError("campaign %d %r" % (st, d))
        return d["id"]

    def customer(self, user=None):
        """A WeChat mini-program login of a new user: the session (the
        device cookie) and the user's openid."""
        user = user or "u%d" % next(self.users)
        st, _, raw = self.srv.request(
            "POST", "/api/v1/wechat/session",
            body={"appid": MP, "code": self.wx.login_code(MP, user)},
            headers={"Accept": "application/json"})
        if st != 200:
            raise RuntimeError("wechat session %d %r" % (st, raw))
        return json.loads(raw)["session"], self.wx.openid(MP, user)

    def claim(self, device, code):
        """Scans code on device, then claims it: (status, answer)."""
        self.srv.scan(code, device)
        return self.srv.consumer("POST", "/api/v1/claims", {"code": code},
                                 device, timeout=30)

    def payout(self, claim_id):
        st, d = self.api("GET", "payouts/%d" % claim_id)
        if st != 200:
            return None
        return d.get("payout", d)

    def wait_state(self, claim_id, states, timeout=20):
        """The payout once its state is one of states (else None)."""
        if isinstance(states, str):
            states = (states,)
        p = wait(lambda: (lambda x: x if x and x["state"] in states
                          else None)(self.payout(claim_id)), timeout)
        return p

    def metric(self, name):
        st, _, raw = self.srv.request("GET", "/metrics")
        for line in raw.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def stop(self):
        self.pay.stop()
        self.wx.stop()
