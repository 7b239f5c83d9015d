"""Griefing a brand's genuine items, against the real sigild (review F9, F10).

F9: cookie-less requests from one network must not make a genuine item
suspicious nor take its buyer's first scan; scanners from several
networks still flag a clone; the brand clears a false flag (reason and
actor kept, bad input refused, and the clear survives a restart).

F10: one customer's wrong PINs lock nothing for other customers; he is
blocked himself (per code, per day); a code locks only at the high
threshold, and the brand lifts that lock.

Client sockets are bound to other loopback addresses (127.0.5.x and so
on) to play different networks; loopback accepts any 127/8 source.
"""
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done, outbox_code  # noqa: E402

PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile"


def day(offset):
    d = datetime.date.today() + datetime.timedelta(days=offset)
    return d.isoformat()


def code_of(path):
    return path.split("/")[-1]


def scan_id(doc):
    """The log id inside a public scan id (its first 16 hex digits)."""
    return int(doc["scan_id"][:16], 16)


class Phones:
    """Logged-in customers: one device, one phone, one network each."""

    def __init__(self, env, srv):
        self.env, self.srv, self.n = env, srv, 0

    def post(self, path, body, device, source):
        st, _, data = self.srv.request(
            "POST", path, body=body, source=source,
            headers={"Accept": "application/json",
                     "Cookie": "sg_d=" + device})
        try:
            return st, json.loads(data)
        except ValueError:
            return st, None

    def login(self, code_path):
        """A new customer on a network of his own: (device, source)."""
        self.n += 1
        phone = "139%08d" % self.n
        source = "127.20.%d.1" % self.n
        _, _, device = self.srv.scan(code_path, source=source)
        st, doc = self.post("/api/v1/customers/otp",
                            {"phone": phone, "code": code_path}, device,
                            source)
        if st != 202:
            raise RuntimeError("otp %d %r" % (st, doc))
        st, doc = self.post("/api/v1/customers/verify",
                            {"phone": phone, "code": code_path,
                             "otp": outbox_code(self.env.data, phone)},
                            device, source)
        if st != 200:
            raise RuntimeError("verify %d %r" % (st, doc))
        return device, source

    def claim(self, who, code_path, pin):
        return self.post("/api/v1/claims", {"code": code_path, "pin": pin},
                         who[0], who[1])


with Env() as env:
    _, codes = env.setup_brand(sku="G", count=10, max_scanners=5)
    b_pin, _ = env.setup_brand(sku="PIN", count=22, init=False)
    pin_of, pins = {}, []
    for line in env.sigil("mint", "--batch", str(b_pin), "--format", "csv",
                          "--pin", "--out", "-").stdout.split("\n")[1:]:
        if line:
            _, url, pin = line.split(",")
            path = re.sub(r"^https?://[^/]+", "", url)
            pin_of[path] = pin
            pins.append(path)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    OP = env.token("acme", "operator")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")

    def scan(path, source, device=None):
        st, doc, dev = srv.scan(path, device=device, source=source,
                                headers={"User-Agent": PHONE})
        if st != 200:
            raise RuntimeError("scan %d" % st)
        return doc, dev

    def code(path, token=AN):
        st, doc = srv.api("GET", "codes/" + code_of(path), token)
        if st != 200:
            raise RuntimeError("codes %d %r" % (st, doc))
        return doc

    # ---- F9: seven cookie-less phone scans from one /24 ----
    item, spare = codes[0], codes[9]
    verdicts, firsts = [], []
    for i in range(7):
        doc, _ = scan(item, "127.0.5.%d" % (i + 1))
        verdicts.append(doc["verdict"])
        firsts.append(doc["first_scan"])
    check(verdicts == ["genuine"] * 7,
          "7 cookie-less scans from one /24 (max_scanners 5): all genuine "
          "(%s)" % verdicts)
    c = code(item)
    check(c["suspicious"] is False and c["signals"] == [] and
          c["scan_count"] == 7, "the code stays genuine (%r, %r)" % (
              c["suspicious"], c["signals"]))
    check(all(s["anonymous"] for s in c["scans"]),
          "the API marks them as cookie-less")

    # The buyer has a cookie of his own (from another product) and
    # another network: his scan is the item's first scan.
    _, buyer = scan(spare, "127.9.9.9")
    doc, _ = scan(item, "127.9.9.9", buyer)
    check(doc["verdict"] == "genuine" and doc["first_scan"] is True and
          doc["signals"] == [],
          "the buyer's scan afterwards: genuine and first (%s, %s)" % (
              doc["verdict"], doc["first_scan"]))
    c = code(item)
    firsts = [s["scan"] for s in c["scans"] if s["first_scan"]]
    check(c["first_scan"] == scan_id(doc) and firsts == [scan_id(doc)] and
          c["first_scanned_at"] == doc["first_scanned_at"],
          "GET codes names the buyer's scan as the first (%r, %r)" % (
              c["first_scan"], firsts))
    check(len(c["scans"]) == 8 and c["scan_count"] == 8,
          "all 8 scans still listed and counted (%d, %d)" % (
              len(c["scans"]), c["scan_count"]))
    doc, _ = scan(item, "127.9.9.9", buyer)
    check(doc["first_scan"] is False and doc["verdict"] == "genuine" and
          doc["first_scanned_at"] == c["first_scanned_at"],
          "the buyer's next scan: not first, first time unchanged")
    # A day's window per /24: more anonymous scans change nothing.
    doc, _ = scan(item, "127.0.5.200")
    check(doc["verdict"] == "genuine" and not doc["first_scan"],
          "another cookie-less scan from that /24: genuine, not first")

    # ---- F9: a clone is still a clone ----
    # Ten devices with cookies from only two networks: not (yet) a clone.
    two = codes[1]
    cookies = [scan(spare, "127.0.%d.%d" % (30 + i % 2, 10 + i))[1]
               for i in range(10)]
    verdicts = [scan(two, "127.0.%d.%d" % (30 + i % 2, 10 + i),
                     cookies[i])[0]["verdict"] for i in range(10)]
    check(verdicts == ["genuine"] * 10,
          "10 devices from 2 networks on max_scanners 5: genuine (%s)" %
          verdicts)
    doc, _ = scan(two, "127.0.32.1")
    check(doc["verdict"] == "suspicious" and
          doc["signals"] == ["too_many_scanners"],
          "one more from a third network: suspicious (%s)" % doc["verdict"])
    # Six scanners from six networks on max_scanners 5.
    clone = codes[2]
    verdicts = [scan(clone, "127.0.%d.1" % (40 + i))[0]["verdict"]
                for i in range(6)]
    check(verdicts == ["genuine"] * 5 + ["suspicious"],
          "6th scanner from a 6th network: suspicious (%s)" % verdicts)
    doc, _ = scan(clone, "127.0.40.1")
    check(doc["verdict"] == "suspicious", "suspicion sticks")
    st, al = srv.api("GET", "alerts?type=too_many_scanners", AN)
    check(st == 200 and 3 in [a["serial"] for a in al["alerts"]],
          "a clone alert for it")

    # ---- F9: the brand clears a false flag ----
    def clear(token, body, path=clone):
        return srv.api("POST", "codes/%s/clear" % code_of(path), token, body)

    before = code(clone)
    bad = [(AN, {"reason": "x"}, 403, "analyst role"),
           (OP, {}, 422, "no reason"),
           (OP, {"reason": ""}, 422, "empty reason"),
           (OP, {"reason": "   "}, 422, "blank reason"),
           (OP, {"reason": 7}, 422, "reason not a string"),
           (OP, {"reason": "a\nb"}, 422, "control character"),
           (OP, {"reason": "x" * 201}, 422, "reason too long"),
           (OP, b"{", 400, "not JSON"),
           (B, {"reason": "mine now"}, 404, "another brand's token")]
    for token, body, want, what in bad:
        st, doc = clear(token, body)
        check(st == want, "clear, %s: %d (%d)" % (what, want, st))
    st, doc = srv.api("POST", "codes/S1234/clear", OP, {"reason": "x"})
    check(st in (404, 422), "clear of no code: 4xx (%d)" % st)
    st, doc = srv.api("GET", "codes/%s/clear" % code_of(clone), OP)
    check(st == 405, "GET on clear: 405")
    check(code(clone) == before, "after all of those nothing changed")

    st, doc = clear(OP, {"reason": "checked: sold in our own shop"})
    check(st == 200 and doc["suspicious"] is False and doc["signals"] == [],
          "the operator clears it: 200, not suspicious (%d %r)" % (st, doc))
    c = code(clone)
    check(c["suspicious"] is False and c["scan_count"] == before[
        "scan_count"] and c["first_scan"] == before["first_scan"],
          "GET codes: cleared; counts and first scan kept")
    check(len(c["notes"]) == 1 and c["notes"][0]["action"] == "clear" and
          c["notes"][0]["reason"] == "checked: sold in our own shop" and
          "token" in c["notes"][0]["by"],
          "the reason and the actor are in the code's notes (%r)" %
          c["notes"])
    doc, _ = scan(clone, "127.0.40.1")
    check(doc["verdict"] == "genuine", "the next scan is genuine again")
    # The clear is part of the state the log replays: a restart keeps it.
    srv.stop()
    srv = env.start("--api-rate-limit", "0")
    c = code(clone)
    check(c["suspicious"] is False and len(c["notes"]) == 1,
          "after a restart: still cleared, the note kept")
    verdicts = [scan(clone, "127.0.%d.1" % (50 + i))[0]["verdict"]
                for i in range(5)]
    check(verdicts == ["genuine"] * 4 + ["suspicious"],
          "new evidence after the clear flags it again (%s)" % verdicts)
    st, _ = clear(A, {"reason": "second look"})
    check(st == 200 and len(code(clone)["notes"]) == 2,
          "an admin may clear too; notes keep both")

    # ---- F10: PIN griefing ----
    st, doc = srv.api("POST", "campaigns", A, {
        "name": "pin", "skus": ["PIN"], "starts": day(-1), "ends": day(30),
        "points": 20, "require_pin": True})
    check(st == 201, "PIN campaign")
    ph = Phones(env, srv)
    grief = ph.login(pins[0])
    for p in pins[:20]:
        scan(p, grief[1], grief[0])
    # He changes address for every code (a phone hopping between mobile
    # IPs), so the per-address PIN limit never stops him: only the
    # per-customer counts do.
    sts = []
    for i, p in enumerate(pins[:20]):
        bad_pin = "%08d" % ((int(pin_of[p]) + 1) % 100000000)
        hop = (grief[0], "127.21.%d.1" % i)
        sts.append([ph.claim(hop, p, bad_pin) for _ in range(5)])
    codes_seen = [[s[1]["error"]["code"] if s[1] else s[0] for s in row]
                  for row in sts]
    check([[s[0] for s in row] for row in sts[:6]] ==
          [[403] * 4 + [423]] * 6 and
          all(c == "customer_locked" for c in [row[4] for row in
                                               codes_seen[:6]]),
          "griefer: 4 wrong then 423 customer_locked on each of the first "
          "6 codes (%r)" % codes_seen[:6])
    check(all(s[0] == 423 and s[1]["error"]["code"] == "customer_locked"
              for row in sts[6:] for s in row),
          "after 30 wrong PINs in a day the griefer gets 423 "
          "customer_locked everywhere (%r)" % codes_seen[6:8])
    st, doc = ph.claim(grief, pins[5], pin_of[pins[5]])
    check(st == 423 and doc["error"]["code"] == "customer_locked",
          "even his right PIN is refused today (423)")
    c = code(pins[0])
    check(c["pin"] == {"wrong": 5, "locked": False},
          "the code counts 5 wrong PINs and is not locked (%r)" % c["pin"])
    buyer = ph.login(pins[21])
    ok = []
    for p in pins[:20]:
        scan(p, buyer[1], buyer[0])
        st, doc = ph.claim(buyer, p, pin_of[p])
        ok.append(st)
    check(ok == [201] * 20,
          "another customer with the right PINs claims all 20 codes (%r)" %
          ok)

    # The per-code lock: 50 wrong PINs from ten customers.
    x = pins[20]
    last = None
    for i in range(10):
        who = ph.login(x)
        bad_pin = "%08d" % ((int(pin_of[x]) + 1 + i) % 100000000)
        for _ in range(5):
            last = ph.claim(who, x, bad_pin)
    check(last[0] == 423 and last[1]["error"]["code"] == "locked",
          "the 50th wrong PIN on one code locks the code: 423 locked (%r)" %
          (last,))
    honest = ph.login(x)
    st, doc = ph.claim(honest, x, pin_of[x])
    check(st == 423 and doc["error"]["code"] == "locked",
          "then the right PIN is refused: 423 locked")
    c = code(x)
    check(c["pin"] == {"wrong": 50, "locked": True}, "GET codes: locked, 50")

    def unlock(token, body, path=x):
        return srv.api("POST", "codes/%s/pin-unlock" % code_of(path), token,
                       body)

    for token, body, want, what in [
            (AN, {"reason": "x"}, 403, "analyst role"),
            (OP, {}, 422, "no reason"),
            (OP, {"reason": ""}, 422, "empty reason"),
            (B, {"reason": "x"}, 404, "another brand's token")]:
        st, _ = unlock(token, body)
        check(st == want, "pin-unlock, %s: %d (%d)" % (what, want, st))
    check(code(x)["pin"]["locked"] is True and code(x)["notes"] == [],
          "still locked, no note, after the refused unlocks")
    st, doc = unlock(OP, {"reason": "buyer called with the receipt"})
    check(st == 200 and doc["locked"] is False and
          doc["wrong_pins_lifted"] == 50, "operator lifts the lock: 200")
    c = code(x)
    check(c["pin"] == {"wrong": 0, "locked": False} and
          c["notes"][0]["action"] == "pin_unlock" and
          c["notes"][0]["reason"] == "buyer called with the receipt",
          "GET codes: unlocked, the note kept (%r)" % c["notes"])
    st, doc = ph.claim(honest, x, pin_of[x])
    check(st == 201, "after the unlock the right PIN claims: 201 (%d)" % st)

done()
