"""GET /api/v1/customers/summary over 20,000 customers counts off the event
loop (issue 19): the customers and their ledgers are written straight
through the store (bench/customers_fill.c: the HTTP login path would
take minutes for 20,000), then summaries run while /healthz is asked
again and again. The counts match what the fill made, segment by
segment and tier by tier; every summary answers 200 or 503 `busy` with
Retry-After (at most two count at once); the loop's answers to /healthz
during the counts are measured and printed (not held to tight times: the
machine is shared); the filtered list, paged with `next`, finds the same
numbers as the summary; another brand's summary is empty.

    N=50000 python3 tests/server/customers_summary_large.py
"""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

N = int(os.environ.get("N", "20000"))
LIB = os.environ.get("LIB") or os.path.join(ROOT, "build", "rel",
                                              "libsigil.a")


def expected(n):
    """The fill's shapes (see bench/customers_fill.c), by the rules of
    member.h's loyalty_segment and the default tiers (Bronze 0, Silver
    500, Gold 2000)."""
    segs = {"champions": 0, "loyal": 0, "new": 0, "promising": 0,
            "at_risk": 0, "hibernating": 0}
    tiers = {"铜 Bronze": 0, "银 Silver": 0, "金 Gold": 0}
    shape = ["new", "new", "champions", "loyal", "promising", "at_risk",
             "hibernating"]
    points = [0, 100, 1200, 500, 100, 200, 100]
    for i in range(n):
        k = i % 7
        pts = points[k] + (2500 if i % 50 == 0 else 0)
        segs["champions" if i % 50 == 0 else shape[k]] += 1
        tiers["金 Gold" if pts >= 2000 else "银 Silver" if pts >= 500
              else "铜 Bronze"] += 1
    return segs, tiers


with Env() as env:
    fill = os.path.join(env.dir, "customers_fill")
    r = subprocess.run(
        ["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Iinclude", "-o", fill,
         "bench/customers_fill.c", LIB, "-levent", "-levent_openssl",
         "-levent_pthreads", "-llmdb", "-lqrencode", "-lpng", "-ljansson",
         "-lssl", "-lcrypto", "-lz", "-lfreetype", "-lm", "-pthread"],
        cwd=ROOT, capture_output=True, text=True)
    check(r.returncode == 0, "customers_fill built (%s)" % r.stderr[-300:])
    env.sigil("init", "--brand", "big", "--base-url", "https://BIG.EXAMPLE")
    env.sigil("brand", "add", "--brand", "small", "--base-url",
              "https://SMALL.EXAMPLE")
    t0 = time.time()
    r = subprocess.run([fill, env.data, "1", str(N)], capture_output=True,
                       text=True)
    check(r.returncode == 0, "%d customers written through the store in "
          "%.1f s (%s)" % (N, time.time() - t0, r.stderr[-200:]))
    made = json.loads(r.stdout)
    segs, tiers = expected(N)
    check(made["segments"] == {k: v for k, v in segs.items()},
          "the fill made the shapes the test expects (%s)" % made)
    AN = env.token("big", "analyst")
    SM = env.token("small", "admin")
    srv = env.start("--api-rate-limit", "0")

    # One summary alone: the counts.
    t0 = time.time()
    st, d = srv.api("GET", "customers/summary", AN)
    alone = time.time() - t0
    check(st == 200 and d["total"] == N and d["erased"] == 0,
          "summary: total %s of %d, in %.0f ms" % (d.get("total"), N,
                                                  alone * 1000))
    check(d["segments"] == segs, "segments: %s" % d["segments"])
    check(d["tiers"] == tiers, "tiers: %s" % d["tiers"])
    check(d["roles"] == {"consumer": N}, "roles: %s" % d["roles"])
    st, d = srv.api("GET", "customers/summary", SM)
    check(st == 200 and d["total"] == 0 and
          sum(d["segments"].values()) == 0,
          "another brand's summary counts none of them")

    # Summaries in parallel while /healthz is asked.
    results, lat = [], []
    stop = threading.Event()

    def summary():
        st, h, raw = srv.request(
            "GET", "/api/v1/customers/summary", timeout=120,
            headers={"Authorization": "Bearer " + AN,
                     "Accept": "application/json"})
        results.append((st, h, json.loads(raw)))

    def health():
        while not stop.is_set():
            t = time.time()
            st, _, _ = srv.request("GET", "/healthz")
            lat.append((time.time() - t, st))

    hz = threading.Thread(target=health)
    hz.start()
    time.sleep(0.05)
    threads = [threading.Thread(target=summary) for _ in range(8)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    stop.set()
    hz.join()
    ok = [x for x in results if x[0] == 200]
    busy = [x for x in results if x[0] == 503]
    check(len(ok) + len(busy) == 8 and len(ok) >= 1,
          "8 summaries at once: %d answered, %d busy, in %.0f ms"
          % (len(ok), len(busy), wall * 1000))
    check(all(x[2]["segments"] == segs and x[2]["tiers"] == tiers and
              x[2]["total"] == N for x in ok),
          "every answered summary has the right counts")
    check(all(x[2]["error"]["code"] == "busy" and "Retry-After" in x[1]
              for x in busy), "the others: 503 busy with Retry-After")
    times = sorted(t for t, _ in lat)
    check(times and all(s == 200 for _, s in lat),
          "/healthz answered %d times meanwhile" % len(times))
    if times:
        print("# /healthz while counting: median %.1f ms, max %.1f ms; "
              "one summary alone %.0f ms" % (
                  times[len(times) // 2] * 1000, times[-1] * 1000,
                  alone * 1000))
        check(times[-1] < 2.0, "no /healthz waited seconds")

    # The filtered list finds the same numbers, page by page.
    def count(q):
        n, after, pages, longest = 0, None, 0, 0
        while True:
            path = "customers?limit=1000&" + q + (
                "&after=%d" % after if after else "")
            t = time.time()
            st, d = srv.api("GET", path, AN)
            longest = max(longest, time.time() - t)
            assert st == 200, (st, d)
            n += len(d["customers"])
            pages += 1
            if d["next"] is None:
                return n, pages, longest
            after = d["next"]
    for seg in ("champions", "hibernating"):
        n, pages, longest = count("segment=" + seg)
        check(n == segs[seg], "segment=%s: %d in %d pages (slowest %.0f ms)"
              % (seg, n, pages, longest * 1000))
    n, pages, longest = count("tier=" + urllib.parse.quote("金 Gold"))
    check(n == tiers["金 Gold"] and pages >= N // 1000,
          "tier=金 Gold: %d in %d pages: a sparse filter answers a page per "
          "1,000 customers looked at (slowest %.0f ms)"
          % (n, pages, longest * 1000))
done()
