"""Fault injection against a running FAULT=1 sigild (make FAULT=1, in
$FAULT_BIN): a full LMDB map, a failed commit, a failed sync and a failed
per-request allocation, each armed on the live server through POST
/debug/faults (and once through SIGIL_FAULTS at start-up). For each: the
failed work is answered 503, every scan answered 200 is in `sigil export
scans`, the map grows and writing carries on, and the same process keeps
serving without a restart. The release build ($BIN) must not have the
endpoint at all. Prints the faults injected and survived."""
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import PHONE_UA, Env, check, done  # noqa: E402

FAULT_BIN = os.environ.get("FAULT_BIN")
BASE = "https://ACME.EXAMPLE"

# The release build: no fault endpoint, whatever the method.
with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", BASE)
    srv = env.start()
    st, _, _ = srv.get("/debug/faults")
    st2, _, _ = srv.request("POST", "/debug/faults", b"commit:1000")
    check(st == 404 and st2 == 404,
          "release build has no /debug/faults (GET %d, POST %d)" % (st, st2))
    st, _, _ = srv.get("/healthz")
    check(st == 200, "release build ignores the fault endpoint and serves")

if not FAULT_BIN or not os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    check(False, "FAULT_BIN names a FAULT=1 build (make FAULT=1 "
          "O=build/fault BINDIR=build/fault/bin); got %r" % FAULT_BIN)
    done()
sigiltest.BIN = FAULT_BIN

totals = Counter()     # point -> injected, summed over every server
acked = []             # scan ids answered 200
failed = Counter()     # what answered 503 (or closed) per phase


def faults(srv, spec=None):
    # /debug/faults is a request like any other: while alloc_request faults
    # are armed by probability it can get a 503 itself, so it is retried.
    for _ in range(50):
        if spec is None:
            st, _, body = srv.get("/debug/faults")
        else:
            st, _, body = srv.request("POST", "/debug/faults", spec.encode(),
                                      headers={"Content-Type": "text/plain"})
        if st != 503:
            break
    return st, (json.loads(body) if st == 200 else None)


def metric(srv, name):
    _, _, body = srv.get("/metrics")
    m = re.search(r"^%s (\d+)" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if m else None


def scan(srv, path, device=None):
    st, doc, dev = srv.scan(path, device)
    if st == 200:
        acked.append(doc["scan_id"])
    return st, doc, dev


def load(port, paths, seconds, statuses):
    """One client: keep-alive scans for seconds; counts statuses."""
    conn = None
    rnd = random.Random()
    end = time.time() + seconds
    while time.time() < end:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=10)
            conn.request("GET", rnd.choice(paths), headers={
                "Accept": "application/json", "User-Agent": PHONE_UA})
            r = conn.getresponse()
            body = r.read()
            statuses[r.status] += 1
            if r.status == 200:
                acked.append(json.loads(body)["scan_id"])
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException, ValueError):
            statuses["closed"] += 1
            if conn is not None:
                conn.close()
            conn = None


def storm(srv, paths, seconds=1.5, clients=8):
    statuses = Counter()
    ts = [threading.Thread(target=load, args=(srv.port, paths, seconds,
                                              statuses))
          for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return statuses


def collect(srv):
    _, doc = faults(srv)
    for point, c in doc.items():
        totals[point] += c["injected"]


with Env() as env:
    # A tiny map (64 KiB) so that real MDB_MAP_FULL growth happens too.
    os.environ["SIGIL_STORE_INITIAL_MAP"] = "65536"
    try:
        env.sigil("init", "--brand", "acme", "--base-url", BASE)
    finally:
        del os.environ["SIGIL_STORE_INITIAL_MAP"]
    _, paths = env.setup_brand(init=False, count=300)
    # Load picks from the first 250 codes; the rest are scanned one at a
    # time, so their counts say exactly what a fault left behind.
    spare = paths[250:]
    paths = paths[:250]
    A = env.token("acme", "admin")
    srv = env.start("--api-rate-limit", "0")
    pid = srv.proc.pid

    # ---- the spec parser: bad specs change nothing ----
    for bad in ("commit", "commit:x", "nosuch:1", "commit:p1.5", "commit:-1",
                "commit:1,bogus:2", ""):
        st, _ = faults(srv, bad)
        check(st == 400, "bad spec %r: 400" % bad)
    _, doc = faults(srv)
    check(all(c["remaining"] == 0 and c["probability"] == 0
              for c in doc.values()), "bad specs armed nothing")

    # ---- map_full: grow the map and carry on ----
    map0 = metric(srv, "sigil_lmdb_map_bytes")
    check(map0 is not None and map0 <= 4 << 20,
          "store starts small: map %s bytes" % map0)
    st, doc = faults(srv, "map_full:3")
    check(st == 200 and doc["map_full"]["remaining"] == 3, "map_full:3 armed")
    st, d, _ = scan(srv, spare[0])
    map1 = metric(srv, "sigil_lmdb_map_bytes")
    check(st == 200 and d["verdict"] == "genuine",
          "scan through 3 simulated full maps: 200 (%d)" % st)
    check(map1 >= 8 * map0, "map doubled three times: %d -> %d bytes" % (
        map0, map1))
    st, doc = faults(srv)
    check(doc["map_full"]["injected"] == 3 and
          doc["map_full"]["remaining"] == 0, "3 map_full faults injected")
    # Real growth from the tiny map: enough scans to pass it many times.
    for i in range(3):
        storm(srv, paths, 1.0)
    map2 = metric(srv, "sigil_lmdb_map_bytes")
    used = metric(srv, "sigil_lmdb_used_bytes")
    check(used > map0, "store outgrew its first map: used %d > %d" % (
        used, map0))
    check(map2 >= used, "map %d holds used %d bytes" % (map2, used))
    failed["map_full"] = 0

    # ---- commit: 503 for the failed batch, the next one succeeds ----
    faults(srv, "commit:1")
    st1, _, _ = scan(srv, spare[1])
    st2, d2, _ = scan(srv, spare[1])
    check(st1 == 503, "failed commit: 503 (%d)" % st1)
    check(st2 == 200 and d2["scan_count"] == 1 and d2["first_scan"],
          "next commit succeeds without restart; the failed scan left "
          "nothing (count %s)" % (d2 and d2.get("scan_count")))
    fails0 = metric(srv, "sigil_commit_failures_total")
    faults(srv, "commit:5")
    s = storm(srv, paths, 1.5)
    failed["commit"] += s[503] + 1
    check(s[503] >= 5 and s[200] > 50 and not s["closed"],
          "5 failed commits under 8 clients: %d x 503, %d x 200" % (
              s[503], s[200]))
    check(metric(srv, "sigil_commit_failures_total") - fails0 == 5,
          "sigil_commit_failures_total counted the 5 failed batches")

    # Location writes go through the same writer.
    st, d, dev = scan(srv, spare[2])
    faults(srv, "commit:1")
    loc = "/api/v1/scans/%s/location" % d["scan_id"]
    body = {"lat": 31.23, "lng": 121.47, "accuracy": 30}
    st1, _, _ = srv.request("POST", loc, body, headers={"Cookie": "sg_d=" +
                                                         dev})
    st2, _, _ = srv.request("POST", loc, body, headers={"Cookie": "sg_d=" +
                                                         dev})
    check(st1 == 503 and st2 == 200,
          "location: failed commit 503, retry 200 (%d, %d)" % (st1, st2))
    failed["commit"] += 1

    # Brand API writes (store_write on the event loop): 503, then 201.
    parent, child = BASE + spare[10], BASE + spare[11]
    faults(srv, "commit:1")
    st1, _ = srv.api("POST", "aggregations", A, {"parent": parent,
                                                  "children": [child]})
    st2, _ = srv.api("POST", "aggregations", A, {"parent": parent,
                                                  "children": [child]})
    st3, doc = srv.api("GET", "codes/" + spare[11].split("/")[-1], A)
    check(st1 == 503 and st2 == 201,
          "aggregation: failed commit 503, retry 201 (%d, %d)" % (st1, st2))
    check(st3 == 200 and len(doc.get("parents", [])) == 1,
          "aggregation recorded once")
    failed["commit"] += 1

    # ---- fsync: the commit reached the file but its sync failed ----
    faults(srv, "fsync:1")
    st1, _, _ = scan(srv, spare[3])
    st2, d2, _ = scan(srv, spare[3])
    check(st1 == 503, "failed sync: 503 (%d)" % st1)
    # LMDB has written the pages: the unacknowledged scan may be there.
    check(st2 == 200 and d2["scan_count"] in (1, 2),
          "next commit succeeds; count %s (the 503 scan may have been "
          "written, never acknowledged)" % (d2 and d2.get("scan_count")))
    faults(srv, "fsync:4")
    s = storm(srv, paths, 1.5)
    failed["fsync"] += s[503] + 1
    check(s[503] >= 4 and s[200] > 50 and not s["closed"],
          "4 failed syncs under 8 clients: %d x 503, %d x 200" % (
              s[503], s[200]))

    # ---- alloc_request: that request fails, the server lives ----
    faults(srv, "alloc_request:5")
    res = []
    for i in range(5):
        try:
            st, _, _ = srv.get("/healthz")
        except (OSError, http.client.HTTPException):
            st = "closed"
        res.append(st)
    check(all(r in (503, "closed") for r in res),
          "5 requests whose allocation failed: %s" % res)
    st, _, _ = srv.get("/healthz")
    check(st == 200, "then the server serves again")
    faults(srv, "alloc_request:p0.3")
    s = storm(srv, paths, 1.5)
    faults(srv, "off")
    failed["alloc_request"] += s[503] + s["closed"] + 5
    check(s[503] + s["closed"] > 0 and s[200] > 50,
          "allocation fails 30%% of the time: %d x 503, %d closed, %d x 200"
          % (s[503], s["closed"], s[200]))
    # Raw keep-alive: the failing request is answered, not hung.
    # (A straggler of the storm above can take an armed fault first, on a
    # slow sanitizer build: try up to three times.)
    for attempt in range(3):
        faults(srv, "alloc_request:1")
        sk = socket.create_connection(("127.0.0.1", srv.port), 5)
        sk.settimeout(5)
        sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        head = sk.recv(4096)
        sk.close()
        if head.startswith(b"HTTP/1.1 503"):
            break
    faults(srv, "off")
    check(head.startswith(b"HTTP/1.1 503"), "raw request gets a 503 reply "
          "(%r)" % head[:20])

    # ---- everything at once, by probability ----
    # (map_full by count: each one doubles the map, and 5% of a few
    # hundred commits would take it to its 1 TiB cap.)
    map3 = metric(srv, "sigil_lmdb_map_bytes")
    faults(srv, "commit:p0.05,fsync:p0.05,map_full:4,alloc_request:p0.05")
    s = storm(srv, paths, 2.0)
    faults(srv, "off")
    failed["mixed"] = s[503] + s["closed"]
    map4 = metric(srv, "sigil_lmdb_map_bytes")
    check(map4 >= 16 * map3, "4 more growths under mixed faults: %d -> %d"
          % (map3, map4))
    check(s[200] > 50 and s[503] > 0, "mixed faults at 5%%: %d x 200, "
          "%d x 503, %d closed" % (s[200], s[503], s["closed"]))

    check(srv.proc.poll() is None and srv.proc.pid == pid,
          "the same sigild process served every phase")
    collect(srv)
    srv.stop()

    # ---- armed from the environment at start-up ----
    os.environ["SIGIL_FAULTS"] = "commit:1"
    try:
        srv = env.start("--api-rate-limit", "0")
    finally:
        del os.environ["SIGIL_FAULTS"]
    st1, _, _ = scan(srv, spare[4])
    st2, _, _ = scan(srv, spare[4])
    check(st1 == 503 and st2 == 200,
          "SIGIL_FAULTS=commit:1 at start-up: 503 then 200 (%d, %d)" % (
              st1, st2))
    collect(srv)
    srv.stop()
    os.environ["SIGIL_FAULTS"] = "commit:zz"
    try:
        try:
            env.start()
            started = True
        except RuntimeError:
            started = False
    finally:
        del os.environ["SIGIL_FAULTS"]
    check(not started, "a malformed SIGIL_FAULTS stops sigild at start-up")

    # ---- nothing acknowledged was lost; counts equal the log ----
    rows = [json.loads(line) for line in env.sigil(
        "export", "scans", "--format", "ndjson").stdout.splitlines()]
    logged = {r["scan_id"] for r in rows}
    lost = [a for a in acked if a not in logged]
    check(len(acked) > 500, "%d scans acknowledged across the faults" %
          len(acked))
    check(not lost, "acknowledged scans lost: %d of %d" % (len(lost),
                                                           len(acked)))
    per_serial = Counter(r["serial"] for r in rows
                         if not r["bot"] and r["verdict"] in
                         ("genuine", "suspicious"))
    srv = env.start()
    bad = 0
    for p in random.sample(paths, 30) + spare[:5]:
        st, doc, _ = srv.scan(p)
        if st != 200 or doc["scan_count"] != per_serial[doc["serial"]] + 1:
            bad += 1
    check(bad == 0, "per-code scan counts equal the scan log (35 codes)")
    firsts = Counter(r["serial"] for r in rows if r["first_scan"])
    check(all(v == 1 for v in firsts.values()), "no code has two first scans")

print("faults injected: %s (total %d); requests failed by them: %s" % (
    dict(totals), sum(totals.values()), dict(failed)))
print("faults survived: %d of %d (same process, no acknowledged write lost)"
      % (sum(totals.values()) if not sigiltest.failures else 0,
         sum(totals.values())))
done()
