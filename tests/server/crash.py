"""kill -9 under load, again and again: every scan that was answered 200
is in `sigil export scans` after restart, and per-code counts equal the
scan log. ROUNDS (default 3) and SECONDS per round come from the
environment so bench/ can run the long form."""
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
CLIENTS = 16


def load(port, paths, acked, stop, errors):
    conn = None
    rnd = random.Random()
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=5)
            conn.request("GET", rnd.choice(paths), headers={
                "Accept": "application/json", "User-Agent": PHONE_UA,
                "Cookie": "sg_d=" + rnd.choice(devices)})
            r = conn.getresponse()
            body = r.read()
            if r.status == 200:
                acked.append(json.loads(body)["scan_id"])
        except (OSError, http.client.HTTPException, ValueError):
            errors[0] += 1
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.01)
    if conn is not None:
        conn.close()


with Env() as env:
    _, paths = env.setup_brand(count=200, max_scanners=15)
    acked = []
    errors = [0]
    # A few signed device cookies from real first scans.
    srv = env.start()
    devices = [srv.scan(paths[i])[2] for i in range(5)]
    acked.extend([])  # the five scans above are checked by the counts
    srv.stop()
    for rnd in range(ROUNDS):
        srv = env.start()
        stop = threading.Event()
        threads = [threading.Thread(target=load, args=(srv.port, paths, acked,
                                                       stop, errors))
                   for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        print("round %d: %d acknowledged so far" % (rnd + 1, len(acked)))
    check(len(acked) > 100 * ROUNDS, "load ran: %d scans acknowledged in "
          "%d kill -9 rounds" % (len(acked), ROUNDS))

    rows = [json.loads(line) for line in env.sigil(
        "export", "scans", "--format", "ndjson").stdout.splitlines()]

    logged = {r["scan_id"] for r in rows}
    lost = [a for a in acked if a not in logged]
    check(not lost, "acknowledged scans lost after kill -9: %d" % len(lost))

    # Per-code counts equal the log: one more scan of each sampled code
    # reports exactly the logged human scans + 1.
    per_serial = Counter(r["serial"] for r in rows
                         if not r["bot"] and r["verdict"] in
                         ("genuine", "suspicious"))
    srv = env.start()
    bad = 0
    for p in random.sample(paths, 40):
        st, doc, _ = srv.scan(p)
        if doc["scan_count"] != per_serial[doc["serial"]] + 1:
            bad += 1
            print("serial %d: state %d, log %d" % (
                doc["serial"], doc["scan_count"] - 1,
                per_serial[doc["serial"]]))
    check(bad == 0, "per-code scan counts equal the scan log (40 codes)")
    firsts = Counter(r["serial"] for r in rows if r["first_scan"])
    check(all(v == 1 for v in firsts.values()),
          "no code has two first scans")
done()
