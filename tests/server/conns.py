"""Hostile connections (security review F1, F2, F3, F13, F27): sigild keeps
serving and exits cleanly when clients hold every descriptor, dribble
heads and bodies, send bodies far over a route's limit, or frame requests
the way a front proxy would not.

Every client connects from a 127.x.y.z address of its own (loopback takes
any of them), so that the per-address cap does not hide the global one.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import BIN, Env, check, done, read_until_close  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def conn_from(src, port, timeout=5):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def status_of(sock, timeout=5):
    """The status of the first response on sock, or None if it closed."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n" not in buf:
            part = sock.recv(4096)
            if not part:
                break
            buf += part
    except OSError:
        pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return int(m.group(1)) if m else None


def timed_get(port, path, src="127.0.0.1", timeout=10):
    """(status, seconds) of one GET on a fresh connection."""
    t0 = time.time()
    try:
        s = conn_from(src, port, timeout)
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Accept: application/json\r\nConnection: close\r\n\r\n")
        st = status_of(s, timeout)
        s.close()
    except OSError:
        st = None
    return st, time.time() - t0


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def closed_within(sock, secs):
    """Seconds until the server closed sock (None if still open)."""
    t0 = time.time()
    sock.settimeout(0.2)
    while time.time() - t0 < secs:
        try:
            if sock.recv(4096) == b"":
                return time.time() - t0
        except socket.timeout:
            pass
        except OSError:
            return time.time() - t0
    return None


def dribble_until_cut(src, port, start, byte, secs):
    """Sends start, then byte about every 0.3 s: seconds until the server
    closed the connection (None if it lived secs)."""
    s = conn_from(src, port)
    s.sendall(start)
    t0 = time.time()
    cut = None
    while time.time() - t0 < secs:
        try:
            s.send(byte)
        except OSError:
            cut = time.time() - t0
            break
        if closed_within(s, 0.3) is not None:
            cut = time.time() - t0
            break
    s.close()
    return cut


with Env() as env:
    batch, paths = env.setup_brand(count=20)
    admin = env.token("acme", "admin")

    # ---- F1/F2: descriptors exhausted, then dribbled --------------------
    port = free_port()
    log = open(os.path.join(env.dir, "prlimit.log"), "wb")
    proc = subprocess.Popen(
        ["prlimit", "--nofile=256", os.path.join(BIN, "sigild"), "--data",
         env.data, "--listen", "127.0.0.1:%d" % port, "--rate-limit", "0",
         "--timeout", "10"], stdout=log, stderr=log)
    try:
        check(wait_port(port, proc), "sigild under prlimit --nofile=256 up")
        idle = []
        for i in range(400):
            try:
                idle.append(conn_from("127.0.1.%d" % (1 + i % 100), port))
            except OSError:
                pass
        time.sleep(0.5)
        check(proc.poll() is None,
              "alive with 400 idle connections opened (%d connected)"
              % len(idle))
        worst = 0.0
        ok = 0
        for k in range(5):
            st, secs = timed_get(port, "/healthz")
            worst = max(worst, secs)
            ok += st == 200
            st, secs = timed_get(port, paths[k])
            worst = max(worst, secs)
            ok += st == 200
        check(ok == 10 and worst < 3,
              "healthz and scans answered beside them (%d/10, worst %.2f s)"
              % (ok, worst))
        dribble = []
        for i in range(400):
            try:
                s = conn_from("127.0.2.%d" % (1 + i % 100), port)
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
                dribble.append(s)
            except OSError:
                pass
        t_end = time.time() + 4
        ok = 0
        worst = 0.0
        tries = 0
        while time.time() < t_end:
            for s in dribble:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            st, secs = timed_get(port, "/healthz")
            tries += 1
            ok += st == 200
            worst = max(worst, secs)
            st, secs = timed_get(port, paths[5 + tries % 10])
            tries += 1
            ok += st == 200
            worst = max(worst, secs)
            time.sleep(0.3)
        check(proc.poll() is None and ok == tries and worst < 3,
              "400 dribbling connections too: %d/%d answered, worst %.2f s"
              % (ok, tries, worst))
        for s in idle + dribble:
            s.close()
        # accept() itself failing (the review's crash): lower the running
        # process's descriptor limit below what its cap was sized for.
        if check(proc.poll() is None, "alive before the accept() test"):
            time.sleep(0.5)
            subprocess.run(["prlimit", "--pid", str(proc.pid),
                            "--nofile=48:256"], check=True)
            held = []
            for i in range(120):
                try:
                    held.append(conn_from("127.0.8.%d" % (1 + i), port, 2))
                except OSError:
                    pass
            time.sleep(0.5)
            st, secs = timed_get(port, "/healthz")
            check(proc.poll() is None and st == 200,
                  "accept() out of descriptors: alive, healthz %s in %.2f s"
                  % (st, secs))
            for s in held:
                s.close()
            subprocess.run(["prlimit", "--pid", str(proc.pid),
                            "--nofile=256:256"], check=False)
            time.sleep(0.3)
            s = conn_from("127.0.0.1", port)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            m = re.search(rb"sigil_http_accept_errors_total (\d+)", read_until_close(s))
            s.close()
            check(m is not None and int(m.group(1)) > 0,
                  "the accept errors were met and counted (%s)"
                  % (m.group(1) if m else None))
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    text = open(os.path.join(env.dir, "prlimit.log"), errors="replace").read()
    check("Segmentation" not in text and "AddressSanitizer" not in text,
          "no crash in the log")

    # ---- the rest against one server with short deadlines ---------------
    srv = env.start("--timeout", "2", "--body-min-rate", "500",
                    "--max-conns-per-addr", "10")

    # F3: 40 connections with 8 MiB bodies to a consumer route.
    base = rss_kib(srv.proc.pid)
    socks, statuses = [], []
    head = (b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (8 * 1024 * 1024 - 1))
    for i in range(40):
        s = conn_from("127.0.3.%d" % (1 + i), srv.port)
        s.sendall(head + b"{" + b" " * 65535)
        socks.append(s)
    peak = rss_kib(srv.proc.pid)
    for s in socks:
        statuses.append(status_of(s))
        s.close()
    peak = max(peak, rss_kib(srv.proc.pid))
    check(statuses.count(413) == 40,
          "40 x 8 MiB to a consumer route: each 413 before its body (%s)"
          % sorted(set(statuses), key=str))
    check(peak - base < 16 * 1024,
          "RSS grew by %d KiB (< 16 MiB)" % (peak - base))

    # The brand API's large limit needs a live credential in the head.
    big = b'{"codes":[' + b'"x",' * 100000 + b'"x"]}'
    for name, auth in (("no token", None), ("a forged token",
                       "Bearer sgt_" + "A" * 52), ("a live token",
                       "Bearer " + admin)):
        s = conn_from("127.0.4.1", srv.port)
        s.sendall(b"POST /api/v1/shipments HTTP/1.1\r\nHost: x\r\n" +
                  (b"Authorization: " + auth.encode() + b"\r\n"
                   if auth else b"") +
                  b"Content-Type: application/json\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(big))
        if auth and "sgt_A" not in auth:
            s.sendall(big)
        st = status_of(s)
        s.close()
        if auth and "sgt_A" not in auth:
            check(st not in (413, None),
                  "500 KB to the brand API with %s: read (%s)" % (name, st))
        else:
            check(st == 413, "500 KB to the brand API with %s: 413 from "
                  "the head (%s)" % (name, st))

    # F13: framing a front proxy would read differently: 400, closed,
    # and nothing after it answered as a second request.
    smuggled = b"GET /admin/me HTTP/1.1\r\nHost: x\r\n\r\n"
    cases = {
        "differing Content-Length":
            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\nContent-Length: 0"
            b"\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled,
        "equal repeated Content-Length":
            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\nContent-Length: 2"
            b"\r\nContent-Length: 2\r\n\r\n{}",
        "Content-Length +2":
            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: +2\r\n\r\n{}",
        "Content-Length 0x2":
            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 0x2\r\n\r\n{}",
        "NUL in a header value":
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
        "bare CR in a header value":
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
        "space before the colon":
            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\nContent-Length: 5"
            b"\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "obs-fold":
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
        "Content-Length with Transfer-Encoding":
            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
            b"0\r\n\r\n",
        "two Transfer-Encodings":
            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
            b"\r\n0\r\n\r\n",
        "two Hosts":
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    }
    for name, raw in cases.items():
        s = conn_from("127.0.5.1", srv.port)
        s.sendall(raw)
        out = read_until_close(s)
        s.close()
        answers = re.findall(rb"HTTP/1\.1 (\d{3})", out)
        check(answers == [b"400"], "%s: one 400, then closed (%s)"
              % (name, answers))
    # Well-formed requests in the same shapes still pass.
    s = conn_from("127.0.5.2", srv.port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A:  spaced  \r\n\r\n"
              b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answers = re.findall(rb"HTTP/1\.1 (\d{3})", read_until_close(s))
    s.close()
    check(answers == [b"200", b"200"],
          "two pipelined well-formed requests: 200 200 (%s)" % answers)

    # F2: a head dribbled a byte at a time is cut at --timeout (2 s)
    # although bytes keep coming; a slow body at the minimum rate.
    cut = dribble_until_cut("127.0.6.1", srv.port,
                            b"GET /healthz HTTP/1.1\r\n", b"X", 8)
    check(cut is not None and cut < 4.5,
          "dribbled head cut after %s s (--timeout 2)" % cut)
    cut = dribble_until_cut("127.0.6.2", srv.port,
                            b"POST /api/v1/claims HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 4000\r\n\r\n{", b" ", 15)
    check(cut is not None and cut < 12.5,
          "4000-byte body at ~3 B/s cut after %s s (2 s + 4000/500 s)" % cut)

    # F27: one address holds at most --max-conns-per-addr connections.
    mine = [conn_from("127.0.7.1", srv.port) for _ in range(10)]
    time.sleep(0.2)
    extra = conn_from("127.0.7.1", srv.port)
    st = status_of(extra, 3)
    extra.close()
    check(st == 503, "11th connection from one address: 503 (%s)" % st)
    st, _ = timed_get(srv.port, "/healthz", src="127.0.7.2")
    check(st == 200, "another address is served meanwhile (%s)" % st)
    for s in mine:
        s.close()
    time.sleep(0.2)
    st, _ = timed_get(srv.port, "/healthz", src="127.0.7.1")
    check(st == 200, "and the first again once it closed them (%s)" % st)

    st, _, body = srv.get("/metrics")
    text = body.decode()
    check('reason="framing"' in text and 'reason="per_address"' in text,
          "/metrics counts the closed and refused connections")
    check(srv.proc.poll() is None, "sigild alive after all of it")
    check(srv.stop() == 0, "SIGTERM: exit 0")

done()
