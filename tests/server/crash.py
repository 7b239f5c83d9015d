"""kill -9 under mixed load, again and again, then check that every write
that was acknowledged survived and that the invariants hold:

  - scans: every scan answered 200 is in `sigil export scans`;
  - locations: every location answered 200 is on its scan in the export;
  - aggregations (brand API, operator token): every one answered 201 is
    there, child -> parent;
  - per-code scan counts equal the scan log, no code has two first scans,
    and no code sits in two parents (claimed twice for one role).

ROUNDS (default 3), SECONDS per round (default 2) and CLIENTS (scan
clients, default 12) and AGG_GROUPS come from the environment; bench/crash.sh runs the
long form. Prints "acknowledged writes lost: N" (must be 0).

sigild keeps per-code state in memory and merges it into code_state in
generations (src/store/store_state.c). Small generations (SIGIL_STATE_PENDING,
50 codes here instead of sigild's 32,768) merged a few codes a round
(SIGIL_STATE_CHUNK, 4) make it merge all the time, so many kills land in
the middle of a merge and the restart has to finish it around the
replayed log; the test prints how many did."""
import http.client
import json
import os
import random
import signal
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import PHONE_UA, Env, check, done  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = float(os.environ.get("SECONDS", "2"))
CLIENTS = int(os.environ.get("CLIENTS", "12"))
SCAN_CODES = 200
os.environ.setdefault("SIGIL_STATE_PENDING", "50")
os.environ.setdefault("SIGIL_STATE_CHUNK", "4")
# Groups of parent + 2 children; enough that the aggregator never runs dry.
AGG_GROUPS = int(os.environ.get("AGG_GROUPS", 250 * ROUNDS * SECONDS + 30))
BASE = "https://ACME.EXAMPLE"


class Client:
    """A keep-alive connection that reconnects after the server dies."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=5)
        h = {"User-Agent": PHONE_UA, "Accept": "application/json"}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, data, h)
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def scanner(port, paths, devices, acked, stop, errors):
    c = Client(port)
    rnd = random.Random()
    while not stop.is_set():
        dev = rnd.choice(devices)
        try:
            st, body = c.call("GET", rnd.choice(paths),
                              headers={"Cookie": "sg_d=" + dev})
            if st == 200:
                acked.append((json.loads(body)["scan_id"], dev))
        except (OSError, http.client.HTTPException, ValueError):
            errors["scan"] += 1
            time.sleep(0.01)
    c.close()


def locator(port, acked, located, tried, stop, errors):
    """Attaches a location to acknowledged scans, each at most once."""
    c = Client(port)
    rnd = random.Random()
    while not stop.is_set():
        todo = [a for a in acked[-200:] if a[0] not in tried]
        if not todo:
            time.sleep(0.01)
            continue
        scan_id, dev = rnd.choice(todo)
        tried.add(scan_id)
        lat = round(rnd.uniform(30.0, 31.0), 4)
        lng = round(rnd.uniform(120.0, 121.0), 4)
        try:
            st, _ = c.call("POST", "/api/v1/scans/%s/location" % scan_id,
                           {"lat": lat, "lng": lng, "accuracy": 25},
                           {"Cookie": "sg_d=" + dev})
            if st == 200:
                located[scan_id] = (lat, lng)
        except (OSError, http.client.HTTPException):
            errors["location"] += 1
            time.sleep(0.01)
    c.close()


def aggregator(port, token, groups, next_group, aggs, stop, errors):
    """Packs parent <- 2 children through the brand API; a group that was
    attempted is never tried again, acknowledged or not."""
    c = Client(port)
    while not stop.is_set() and next_group[0] < len(groups):
        parent, kids = groups[next_group[0]]
        next_group[0] += 1
        try:
            st, _ = c.call("POST", "/api/v1/aggregations",
                           {"parent": BASE + parent,
                            "children": [BASE + k for k in kids]},
                           {"Authorization": "Bearer " + token})
            if st == 201:
                aggs.append((parent, kids))
        except (OSError, http.client.HTTPException):
            errors["aggregation"] += 1
            time.sleep(0.01)
    c.close()


def code_of(path):
    return path.split("/")[-1]


with Env() as env:
    _, paths = env.setup_brand(count=SCAN_CODES + 3 * AGG_GROUPS,
                               max_scanners=15)
    agg_paths = paths[SCAN_CODES:]
    paths = paths[:SCAN_CODES]
    groups = [(agg_paths[3 * i], agg_paths[3 * i + 1:3 * i + 3])
              for i in range(AGG_GROUPS)]
    token = env.token("acme", "operator")
    reader = env.token("acme", "analyst")
    acked, located, aggs, tried = [], {}, [], set()
    next_group = [0]
    errors = Counter()
    # A few signed device cookies from real first scans.
    srv = env.start("--api-rate-limit", "0")
    devices = [srv.scan(paths[i])[2] for i in range(6)]
    srv.stop()
    for rnd in range(ROUNDS):
        srv = env.start("--api-rate-limit", "0")
        stop = threading.Event()
        threads = [threading.Thread(target=scanner, args=(
            srv.port, paths, devices, acked, stop, errors))
            for _ in range(CLIENTS)]
        threads.append(threading.Thread(target=locator, args=(
            srv.port, acked, located, tried, stop, errors)))
        threads.append(threading.Thread(target=aggregator, args=(
            srv.port, token, groups, next_group, aggs, stop, errors)))
        for t in threads:
            t.start()
        time.sleep(SECONDS * random.uniform(0.75, 1.25))
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        print("round %d: acknowledged so far: %d scans, %d locations, "
              "%d aggregations" % (rnd + 1, len(acked), len(located),
                                   len(aggs)))
    check(len(acked) > 100 * ROUNDS, "load ran: %d scans acknowledged in "
          "%d kill -9 rounds" % (len(acked), ROUNDS))
    check(located and aggs, "mixed load: %d locations, %d aggregations "
          "acknowledged" % (len(located), len(aggs)))

    rows = [json.loads(line) for line in env.sigil(
        "export", "scans", "--format", "ndjson").stdout.splitlines()]
    by_id = {r["scan_id"]: r for r in rows}
    lost_scans = [a for a, _ in acked if a not in by_id]
    check(not lost_scans, "acknowledged scans lost after kill -9: %d of %d"
          % (len(lost_scans), len(acked)))
    lost_locs = [s for s, (lat, lng) in located.items()
                 if s not in by_id or "lat" not in by_id[s] or
                 abs(by_id[s]["lat"] - lat) > 1e-3 or
                 abs(by_id[s]["lng"] - lng) > 1e-3]
    check(not lost_locs, "acknowledged locations lost: %d of %d" % (
        len(lost_locs), len(located)))

    # Per-code counts equal the log: one more scan of each sampled code
    # reports exactly the logged human scans + 1.
    per_serial = Counter(r["serial"] for r in rows
                         if not r["bot"] and r["verdict"] in
                         ("genuine", "suspicious"))
    srv = env.start("--api-rate-limit", "0")
    bad = 0
    for p in paths:
        st, doc, _ = srv.scan(p)
        if doc["scan_count"] != per_serial[doc["serial"]] + 1:
            bad += 1
            print("serial %d: state %d, log %d" % (
                doc["serial"], doc["scan_count"] - 1,
                per_serial[doc["serial"]]))
    check(bad == 0, "per-code scan counts equal the scan log (all %d "
          "codes)" % len(paths))
    firsts = Counter(r["serial"] for r in rows if r["first_scan"])
    check(all(v == 1 for v in firsts.values()),
          "no code has two first scans")

    # Aggregations: every acknowledged one present; no child in two
    # parents among every group ever attempted.
    lost_aggs = 0
    two_parents = 0
    acked_groups = {p for p, _ in aggs}
    for parent, kids in groups[:next_group[0]]:
        st, pdoc = srv.api("GET", "codes/" + code_of(parent), reader)
        for k in kids:
            st2, kdoc = srv.api("GET", "codes/" + code_of(k), reader)
            ps = kdoc.get("parents", []) if st2 == 200 else []
            if len(ps) > 1:
                two_parents += 1
            if parent in acked_groups and (st != 200 or
                                           ps != [pdoc["serial"]]):
                lost_aggs += 1
    check(lost_aggs == 0, "acknowledged aggregations lost: %d of %d" % (
        lost_aggs, len(aggs)))
    check(two_parents == 0, "no code packed into two parents (%d groups "
          "attempted)" % next_group[0])
    with open(os.path.join(env.dir, "sigild.log")) as f:
        starts = [line for line in f if " state replayed=" in line]
    print("restarts that finished a merge cut short by kill -9: %d of %d" % (
        sum("resumed_merge=yes" in line for line in starts), len(starts)))
    lost = len(lost_scans) + len(lost_locs) + lost_aggs
    print("acknowledged writes: %d scans, %d locations, %d aggregations; "
          "client errors at the kills: %s" % (len(acked), len(located),
                                              len(aggs), dict(errors)))
    print("acknowledged writes lost: %d" % lost)
done()
