"""kill -9 while customers claim rewards, round after round, then check
the loyalty invariants on what survived:

  - every claim answered 201 is in the store (the code lookup lists it);
  - no code is claimed twice for one role;
  - every customer's balance equals the sum of their ledger entries and
    10 points times their claims in the store, which are at least their
    acknowledged claims (a claim committed just before the kill may never
    have been answered: that is allowed, losing an answered one is not).

ROUNDS (default 3) and SECONDS per round (default 0.25: claims are fast,
and each round must be cut off while claiming) from the environment."""
import http.client
import json
import os
import random
import re
import signal
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import PHONE_UA, Env, check, done  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = float(os.environ.get("SECONDS", "0.25"))
CUSTOMERS = 8
CODES = 900
POINTS = 10


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    h = {"User-Agent": PHONE_UA, "Accept": "application/json"}
    h.update(headers or {})
    try:
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, data, h)
        r = conn.getresponse()
        raw = r.read()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, None
    finally:
        conn.close()


def otp_of(env, phone):
    code = None
    with open(os.path.join(env.data, "otp-outbox.log")) as f:
        for line in f:
            m = re.search(r" phone=(\d+) code=(\d{6})$", line.strip())
            if m and m.group(1) == "86" + phone:
                code = m.group(2)
    return code


with Env() as env:
    _, paths = env.setup_brand(sku="CL", count=CODES, max_scanners=15)
    A = env.token("acme", "admin")
    args = ("--trusted-proxy", "127.0.0.1/32", "--api-rate-limit", "0")
    srv = env.start(*args)
    st, doc = srv.api("POST", "campaigns", A, {
        "name": "crash", "skus": ["CL"], "starts": "2020-01-01",
        "ends": "2099-01-01", "points": POINTS})
    check(st == 201, "campaign created")
    devices, ids = [], []
    for i in range(CUSTOMERS):
        phone = "1380000%04d" % i
        ip = "10.0.0.%d" % (i + 1)
        xff = {"X-Forwarded-For": ip}
        st, d, dev = srv.scan(paths[0], headers=xff)
        st, _, _ = srv.request("POST", "/api/v1/customers/otp",
                               {"phone": phone, "code": paths[0]},
                               headers=dict(xff, Cookie="sg_d=" + dev))
        st2, _, body = srv.request("POST", "/api/v1/customers/verify",
                                   {"phone": phone, "code": paths[0],
                                    "otp": otp_of(env, phone)},
                                   headers=dict(xff, Cookie="sg_d=" + dev))
        if st != 202 or st2 != 200:
            raise RuntimeError("login %s: %d %d %r" % (phone, st, st2, body))
        for p in paths[1:]:
            srv.scan(p, device=dev, headers=xff)
        devices.append(dev)
        ids.append(json.loads(body)["customer"]["id"])
    check(len(devices) == CUSTOMERS, "%d customers logged in, every code "
          "scanned by each" % CUSTOMERS)
    srv.stop()

    acked = []		# (customer index, code path)
    lock = threading.Lock()
    for rnd in range(ROUNDS):
        srv = env.start(*args)
        stop = threading.Event()

        def claimer(i):
            rng = random.Random(i * 1000 + rnd)
            # Each round claims its own slice of the codes, so every
            # round is killed while claims are still being made.
            mine = paths[rnd * len(paths) // ROUNDS:
                         (rnd + 1) * len(paths) // ROUNDS]
            while not stop.is_set():
                p = rng.choice(mine)
                try:
                    st, doc = call(srv.port, "POST", "/api/v1/claims",
                                   {"code": p}, {"Cookie": "sg_d=" +
                                                 devices[i]})
                except (OSError, http.client.HTTPException):
                    time.sleep(0.01)
                    continue
                if st == 201:
                    with lock:
                        acked.append((i, p))
        ts = [threading.Thread(target=claimer, args=(i,))
              for i in range(CUSTOMERS)]
        for t in ts:
            t.start()
        time.sleep(SECONDS)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        stop.set()
        for t in ts:
            t.join()
        srv.log.close()
        print("round %d: %d claims acknowledged so far" % (rnd + 1,
                                                          len(acked)))
    check(len(acked) > 0, "claims were acknowledged under load (%d)"
          % len(acked))

    srv = env.start(*args)
    per_code = Counter(p for _, p in acked)
    check(all(n == 1 for n in per_code.values()),
          "no code acknowledged twice for the consumer role")
    lost = 0
    twice = 0
    stored = Counter()
    for p in paths:
        st, doc = srv.api("GET", "codes/" + p.split("/")[-1], A)
        roles = Counter(c["role"] for c in doc["claims"])
        stored.update(c["customer"] for c in doc["claims"])
        twice += sum(1 for n in roles.values() if n > 1)
        if per_code[p] and not doc["claims"]:
            lost += 1
    check(lost == 0, "acknowledged claims lost after kill -9: %d" % lost)
    check(twice == 0, "codes claimed twice for one role: %d" % twice)
    want = Counter(i for i, _ in acked)
    bad = 0
    for i, dev in enumerate(devices):
        st, doc = call(srv.port, "GET", "/api/v1/me/ledger", None,
                       {"Cookie": "sg_d=" + dev})
        total = sum(e["points"] for e in doc["entries"])
        if st != 200 or doc["balance"] != total or \
                doc["balance"] != POINTS * stored[ids[i]] or \
                stored[ids[i]] < want[i]:
            bad += 1
            print("customer %d: balance %s, ledger sum %s, stored %d, "
                  "acked %d" % (i, doc.get("balance"), total,
                                stored[ids[i]], want[i]))
    check(bad == 0, "every balance equals its ledger and its stored claims, "
          "which include every acknowledged one")
done()
