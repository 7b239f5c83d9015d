"""Cash-reward fixtures for the payouts API and browser tests (issue 22):
a brand whose customers log in with a WeChat mini-program (the WeChat
stand-in), a WeChat Pay merchant (the WeChat Pay stand-in) whose keys and
settings the brand API sets, two cash campaigns (one that pays at once,
one whose payouts are held for the brand), and customers who claim.

    with Env() as env:
        w = CashWorld(env)            # sigild started, no settings yet
        w.configure()                 # settings and keys through the API
        w.campaigns()
        dev, cid = w.customer("alice")
        st, doc = w.claim(dev, w.red[0])
"""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from egresstest import free_port  # noqa: E402
from payfix import MP, MP_SECRET, keys_body, settings_body  # noqa: E402
from payfix import start_sigild  # noqa: E402
from sigiltest import check  # noqa: E402
from wechat_standin import StandIn as WeChatStandIn  # noqa: E402
from wechatpay_standin import StandIn as PayStandIn  # noqa: E402
from wechatpay_standin import make_merchant  # noqa: E402

RED_FEN, BIG_FEN, HOLD_ABOVE = 188, 888, 500
RED_BUDGET, BIG_BUDGET = 100000, 5000


def day(offset=0):
    return (datetime.date.today() + datetime.timedelta(days=offset)) \
        .isoformat()


def china_today():
    """The China day (UTC+8) statements and caps count in."""
    return (datetime.datetime.utcnow() +
            datetime.timedelta(hours=8)).date().isoformat()


class CashWorld:
    def __init__(self, env, count=12, auto_confirm=False, users=(),
                 password=None):
        """users: (email, role) of dashboard users (password) made before
        sigild starts."""
        self.env = env
        _, self.red = env.setup_brand("acme", sku="W1", count=count)
        _, self.big = env.setup_brand("acme", sku="W2", count=count,
                                      init=False)
        env.sigil("brand", "add", "--brand", "beta", "--base-url",
                  "https://BETA.EXAMPLE")
        for email, role in users:
            env.sigil("user", "add", "--brand", "acme", "--email", email,
                      "--role", role, stdin=password + "\n")
        self.wx = WeChatStandIn()
        self.wx.add_app(MP, MP_SECRET, "mp")
        self.wx.start()
        self.pay = PayStandIn(auto_confirm=auto_confirm)
        self.merchant = make_merchant(appid=MP)
        self.pay.add_merchant(self.merchant)
        self.pay.start()
        self.srv = start_sigild(env, self.wx, self.pay, free_port())
        self.admin = env.token("acme", "admin")
        self.operator = env.token("acme", "operator")
        self.analyst = env.token("acme", "analyst")
        self.beta = env.token("beta", "admin")
        self.ip = 0
        st, doc = self.srv.api("PUT", "wechat", self.admin,
                               {"mp": {"appid": MP, "secret": MP_SECRET}})
        check(st == 200, "the brand's mini-program set (%s %r)" % (st, doc))

    def settings_body(self):
        return settings_body(self.merchant, self.pay, scene_id="1000",
                             remark="扫码红包", activity="扫码领红包",
                             reward="扫码抽奖现金红包")

    def keys_body(self):
        return keys_body(self.merchant)

    def configure(self):
        st, doc = self.srv.api("PUT", "payments/settings", self.admin,
                               self.settings_body())
        check(st == 200, "payment settings set (%s %r)" % (st, doc))
        st, doc = self.srv.api("PUT", "payments/keys", self.admin,
                               self.keys_body())
        check(st == 200, "payment keys set (%s %r)" % (st, doc))

    def campaigns(self):
        """red (W1): 1.88 yuan at once; big (W2): 8.88, held (above
        5.00). Returns their ids."""
        ids = []
        for name, sku, fen, extra in (
                ("red", "W1", RED_FEN, {"budget_fen": RED_BUDGET}),
                ("big", "W2", BIG_FEN, {"budget_fen": BIG_BUDGET,
                                        "hold_above_fen": HOLD_ABOVE})):
            st, doc = self.srv.api("POST", "campaigns", self.admin, {
                "name": name, "skus": [sku], "starts": day(-1),
                "ends": day(30), "points": 1,
                "draw": [{"name": "红包", "odds": 1, "stock": 1000,
                          "cash": {"fixed": fen}}],
                "cash": extra})
            check(st == 201, "campaign %s with a cash prize (%s %r)" % (
                name, st, doc))
            ids.append(doc["id"])
        return ids

    def next_ip(self):
        self.ip += 1
        return "10.7.%d.%d" % (self.ip >> 8, self.ip & 255)

    def call(self, method, path, body=None, device=None):
        return self.srv.consumer(method, path, body, device, self.next_ip())

    def customer(self, user):
        """A customer logged in with the mini-program: (session, id)."""
        st, doc = self.call("POST", "/api/v1/wechat/session",
                            {"appid": MP, "code": self.wx.login_code(MP, user)})
        if st != 200:
            raise RuntimeError("wechat session %d %r" % (st, doc))
        return doc["session"], doc["customer"]["id"]

    def claim(self, dev, path):
        st, _, _ = self.srv.scan(path, dev, headers={
            "X-Forwarded-For": self.next_ip()})
        check(st == 200, "scan of %s (%s)" % (path, st))
        return self.call("POST", "/api/v1/claims", {"code": path}, dev)

    def payouts(self, token=None, query=""):
        st, doc = self.srv.api("GET", "payouts" + query, token or self.admin)
        if st != 200:
            raise RuntimeError("payouts %d %r" % (st, doc))
        return doc["payouts"]

    def wait(self, what, fn, timeout=20):
        """Polls fn() until it is true; checks it was."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if fn():
                check(True, what)
                return True
            time.sleep(0.2)
        check(False, what)
        return False

    def stop(self):
        self.pay.stop()
        self.wx.stop()
