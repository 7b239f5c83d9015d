"""Hostile input against the real sigild: oversize URLs and headers, bad
percent-encoding, invalid UTF-8, script in headers, path traversal,
slowloris. Each gets a clear 4xx (or a closed connection where HTTP
allows no answer), nothing is written, and others keep being served."""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402


def raw(port, data, timeout=5):
    """Sends raw bytes; returns the status code or None if closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        buf = b""
        try:
            while b"\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            pass
        if buf.startswith(b"HTTP/1."):
            return int(buf.split(b" ")[1])
        return None
    finally:
        s.close()


def scans(env):
    return json.loads(env.sigil("stats", "--json").stdout)["scans"]


with Env() as env:
    _, paths = env.setup_brand(count=5)
    srv = env.start("--timeout", "3")
    good = paths[0]
    st, doc, _ = srv.scan(good)
    check(st == 200 and doc["verdict"] == "genuine", "baseline scan")
    before = scans(env)

    st = raw(srv.port, b"GET /S/" + b"A" * (1 << 20) + b" HTTP/1.1\r\n"
             b"Host: x\r\n\r\n")
    check(st in (None, 400, 413, 414, 431), "1 MB URL refused (%s)" % st)
    hdrs = b"".join(b"X-H%d: v\r\n" % i for i in range(10000))
    st = raw(srv.port, b"GET " + good.encode() + b" HTTP/1.1\r\nHost: x\r\n" +
             hdrs + b"\r\n")
    check(st in (None, 400, 413, 431), "10,000 headers refused (%s)" % st)
    for bad in ["/S/%ZZ", "/S/%", "/S/%4", "/S/%00AB", "/S/%FF%FE",
                "/S/%C0%AF", "/S/%ED%A0%80", "/S/../../etc/passwd",
                "/S/..%2F..%2Fetc%2Fpasswd", "/S/a\\b"]:
        st, _, body = srv.get(bad)
        check(st == 400 and b'"error"' in body, "bad path %s: 400" % bad)
    st = raw(srv.port, b"GET /S/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n")
    check(st == 400, "raw invalid UTF-8 in the request line: 400")
    st, _, body = srv.request("POST", "/S/" + good.split("/")[-1], b"x")
    check(st == 405, "POST to the scan path: 405")
    st, _, body = srv.request("POST", "/api/v1/scans/%s/location"
                              % doc["scan_id"], b"x" * (200 * 1024))
    check(st == 413, "oversize location body: 413 (%s)" % st)
    check(scans(env) == before, "nothing written by any of these")

    # Script in the headers a page or a log might echo.
    st, _, html = srv.get(good, headers={
        "User-Agent": "<script>alert(1)</script> iPhone",
        "Accept-Language": "<script>alert(2)</script>,en;q=0.5"})
    check(st == 200 and b"<script>alert" not in html,
          "script in User-Agent and Accept-Language is not echoed raw")
    log = srv.logtext()
    check("<script>" not in log, "log holds no raw client markup")

    # Slowloris: 100 connections that dribble a header; others still served.
    stop = threading.Event()
    slow = []
    for _ in range(100):
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        s.sendall(b"GET " + good.encode() + b" HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)

    def dribble():
        i = 0
        while not stop.is_set():
            for s in slow:
                try:
                    s.sendall(b"X-%d: y\r\n" % i)
                except OSError:
                    pass
            i += 1
            time.sleep(0.5)
    t = threading.Thread(target=dribble)
    t.start()
    t0 = time.time()
    st, doc, _ = srv.scan(paths[1])
    check(st == 200 and time.time() - t0 < 1.0,
          "served in %.3f s while 100 slowloris connections dribble"
          % (time.time() - t0))
    time.sleep(1)
    st, doc, _ = srv.scan(paths[2])
    check(st == 200, "still serving after a second")
    stop.set()
    t.join()
    # Idle (non-dribbling) half-sent requests are closed by the timeout.
    idle = socket.create_connection(("127.0.0.1", srv.port), 10)
    idle.sendall(b"GET / HTTP/1.1\r\n")
    idle.settimeout(10)
    t0 = time.time()
    try:
        closed = idle.recv(100) is not None
    except OSError:
        closed = True
    check(closed and time.time() - t0 < 8,
          "a stalled request is cut off by --timeout (%.1f s)"
          % (time.time() - t0))
    for s in slow:
        s.close()
    check(srv.proc.poll() is None, "sigild alive after all of it")
    st, doc, _ = srv.scan(paths[3])
    check(st == 200 and doc["verdict"] == "genuine", "and scans still work")

    # Rate limit per client address, and X-Forwarded-For only from a
    # trusted proxy.
    srv.stop()
    srv = env.start("--rate-limit", "5", "--trusted-proxy", "10.0.0.0/8")
    codes = [srv.get(paths[4])[0] for _ in range(30)]
    check(429 in codes and codes[0] == 200,
          "per-IP rate limit answers 429 (%d of 30)" % codes.count(429))
    st, hdrs, body = srv.get(paths[4])
    check(st == 429 and b"rate_limited" in body and "Retry-After" in hdrs,
          "429 is a JSON error with Retry-After")
    st, _, _ = srv.get(paths[4], headers={"X-Forwarded-For": "1.2.3.4"})
    check(st == 429, "X-Forwarded-For from an untrusted peer is ignored")
    srv.stop()
    srv = env.start("--rate-limit", "5", "--trusted-proxy", "127.0.0.1/32")
    for _ in range(30):
        srv.get(paths[4], headers={"X-Forwarded-For": "1.2.3.4"})
    st, _, _ = srv.get(paths[4], headers={"X-Forwarded-For": "1.2.3.4"})
    st2, _, _ = srv.get(paths[4], headers={
        "X-Forwarded-For": "1.2.3.4, 5.6.7.8"})
    check(st == 429 and st2 == 200,
          "behind a trusted proxy each forwarded client has its own limit"
          " (%s %s)" % (st, st2))
    st3, _, _ = srv.get(paths[4], headers={
        "X-Forwarded-For": "5.6.7.8, garbage"})
    check(st3 == 200, "(%s) a malformed X-Forwarded-For entry falls back to the " % st3 +
          "last good hop")
done()
