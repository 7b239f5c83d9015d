"""GET /api/v1/exports/scans over a million scans (issue 19 item 5: the
scan export, memory flat): the log is filled straight through the store
(bench/stats_fill.c, 1,000,000 scans over 30 days and two brands), then
sigild streams the brand's file while a slow reader takes it: sigild's
anonymous memory (RssAnon: the heap, not the mapped data file) stays
flat, every scan of the brand is in the file once and in log order, the
loop keeps answering while a brand with few scans waits for its next, a
day-aligned range (found by bisection over the log) holds exactly the
scans of those days, and the other brand's file holds the rest.

    SCANS=2000000 python3 tests/server/exports_scans_large.py
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import BIN, ROOT, Env, check, done  # noqa: E402

SCANS = int(os.environ.get("SCANS", "1000000"))
DAYS = 30
LIB = os.environ.get("LIB") or os.path.join(ROOT, "build", "rel",
                                              "libsigil.a")


def rss_anon_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


with Env() as env:
    check(os.path.exists(LIB), "the library to build stats_fill with: %s "
          "(make)" % LIB)
    fill = os.path.join(env.dir, "stats_fill")
    r = subprocess.run(
        ["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Iinclude", "-o", fill,
         "bench/stats_fill.c", LIB, "-levent", "-levent_openssl",
         "-levent_pthreads", "-llmdb", "-lqrencode", "-lpng", "-ljansson",
         "-lssl", "-lcrypto", "-lz", "-lfreetype", "-lm", "-pthread"],
        cwd=ROOT, capture_output=True, text=True)
    check(r.returncode == 0, "stats_fill built (%s)" % r.stderr[-300:])
    env.sigil("init", "--brand", "big", "--base-url", "https://BIG.EXAMPLE")
    env.sigil("brand", "add", "--brand", "small", "--base-url",
              "https://SMALL.EXAMPLE")
    for brand, skus in (("big", ("P1", "P2", "P3")), ("small", ("S1",))):
        for sku in skus:
            env.sigil("product", "add", "--brand", brand, "--sku", sku,
                      "--name", "Product " + sku)
            b = json.loads(env.sigil("batch", "new", "--brand", brand,
                                     "--sku", sku, "--count", "200000",
                                     "--json").stdout)
            env.sigil("batch", "activate", "--batch", str(b["id"]))
    # A brand with no scans at all (its batch never activated).
    env.sigil("brand", "add", "--brand", "none", "--base-url",
              "https://NONE.EXAMPLE")
    env.sigil("product", "add", "--brand", "none", "--sku", "N1", "--name",
              "Product N1")
    env.sigil("batch", "new", "--brand", "none", "--sku", "N1", "--count",
              "10")
    t0 = time.time()
    r = subprocess.run([fill, env.data, str(SCANS), str(DAYS)],
                       capture_output=True, text=True)
    check(r.returncode == 0, "%d scans written through the store in %.0f s"
          % (SCANS, time.time() - t0))
    big = env.token("big", "operator")
    small = env.token("small", "operator")
    none = env.token("none", "operator")
    # Under AddressSanitizer (make SANITIZE=1) freed memory waits in a
    # quarantine and the allocator keeps its own caches: the heap is not
    # measured there (the release build is).
    with open(os.path.join(BIN, "sigild"), "rb") as f:
        asan = b"__asan_init" in f.read()
    srv = env.start("--api-rate-limit", "0")

    def stream(q, tok, slow=False):
        """(status, lines, peak RssAnon growth in KiB, bytes)."""
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=300)
        conn.request("GET", "/api/v1/exports/scans?" + q, headers={
            "Authorization": "Bearer " + tok})
        resp = conn.getresponse()
        base = rss_anon_kib(srv.proc.pid)
        peak, n, size, tail, reads = base, 0, 0, b"", 0
        ids = []
        while True:
            chunk = resp.read(256 * 1024)
            if not chunk:
                break
            reads += 1
            size += len(chunk)
            data = tail + chunk
            parts = data.split(b"\n")
            tail = parts.pop()
            for p in parts:
                if p.startswith(b"{"):
                    ids.append(p[14:46])
                n += 1
            if reads % 8 == 0:
                peak = max(peak, rss_anon_kib(srv.proc.pid))
                if slow:
                    time.sleep(0.05)
        conn.close()
        return resp.status, n, peak - base, size, ids

    st, n, grew, size, ids = stream("format=ndjson", big, slow=True)
    check(st == 200 and size > 100 * SCANS,
          "big's file streamed: %d lines, %.0f MB" % (n, size / 1e6))
    if asan:
        print("skip the heap check: an AddressSanitizer build (RssAnon "
              "+%d KiB)" % grew)
    else:
        check(grew < 32 * 1024, "sigild's heap stayed flat while a slow "
              "reader took it: RssAnon +%d KiB" % grew)
    check(len(set(ids)) == len(ids) and ids == sorted(ids),
          "every scan once, in log order")
    # A brand without scans: its stream reads the whole log and finds
    # nothing, piece by piece, and the loop answers meanwhile.
    import threading
    lat = []
    stop = threading.Event()

    def ping():
        while not stop.is_set():
            t = time.time()
            srv.request("GET", "/healthz")
            lat.append(time.time() - t)
            time.sleep(0.01)
    th = threading.Thread(target=ping)
    th.start()
    t0 = time.time()
    st, n_none, _, _, _ = stream("", none)
    took = time.time() - t0
    stop.set()
    th.join()
    lat.sort()
    check(st == 200 and n_none == 1, "a brand without scans: the header "
          "only, after reading the log (%.2f s)" % took)
    check(lat and lat[-1] < 0.1,
          "meanwhile /healthz answered in at most %.0f ms (%d asked)" % (
              lat[-1] * 1000 if lat else -1, len(lat)))
    st, n_small, _, _, _ = stream("format=ndjson", small)
    check(n + n_small == SCANS and n_small > 0,
          "big's %d and small's %d scans are all %d" % (n, n_small, SCANS))
    # A range of whole UTC days: exactly those days' scans.
    st, n_csv, _, _, _ = stream("", big)
    check(n_csv == n + 1, "CSV: the header and the same %d scans" % n)
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 10 * 86400))
    st, n_from, _, _, _ = stream("format=ndjson&tz=0&from=" + day, big)
    st, n_to, _, _, _ = stream("format=ndjson&tz=0&to=" + day, big)
    check(st == 200 and 0 < n_from < n and n_from + n_to - n > 0 and
          n_from + n_to - n < n,
          "from a day: %d; to it (it included): %d; both hold that day"
          % (n_from, n_to))
    nxt = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 9 * 86400))
    st, n_day, _, _, _ = stream("format=ndjson&tz=0&from=%s&to=%s" %
                                (day, day), big)
    st, n_after, _, _, _ = stream("format=ndjson&tz=0&from=" + nxt, big)
    check(n_day == n_from - n_after and n_day > 0,
          "one day (%s): %d scans, the difference of the two ranges" %
          (day, n_day))
done()
