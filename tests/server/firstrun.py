"""The first ten minutes (issue 19 item 7): `make run`'s script
(scripts/demo.sh, run as `make run` runs it) on a temp data dir and port
prints everything a newcomer needs, and all of it works:
 - the printed login opens a dashboard session on /admin/login;
 - the QR code drawn in the terminal decodes (zbarimg) to the printed URL;
 - that code scans genuine with the demo campaign's reward; a phone login
   with the OTP read from the printed outbox path claims its points, and
   the catalog item printed can be redeemed;
 - / is a page linking the dashboard, not a 404;
 - a second run with another LISTEN prints URLs for that address;
 - `make run`'s deps step (deps.sh run, Makefile's deps-run) names no
   browser, node or font package.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import (BIN, ROOT, Env, Server, admin_login, check,  # noqa
                       done)

BROWSER = {"chromium", "nodejs", "npm", "fonts-noto-cjk", "firefox-esr"}


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_demo(data, port, log):
    """Starts demo.sh; returns (process, its stdout up to the end of the
    summary)."""
    env = dict(os.environ, DATA=data, LISTEN="127.0.0.1:%d" % port)
    p = subprocess.Popen(["sh", os.path.join(ROOT, "scripts", "demo.sh"),
                          BIN], env=env, stdout=subprocess.PIPE,
                         stderr=log, text=True, start_new_session=True)
    out, deadline = "", time.time() + 60
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        out += line
        if line.startswith("Metrics: "):
            break
    return p, out


def stop_demo(p):
    """SIGTERM to the script, as Ctrl-C's trap does: it stops sigild."""
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return None


def art_to_pgm(art, path):
    """Half-block art (dark = block glyph) back to a module image: each
    module 8x8 pixels, with a white border."""
    rows = []
    for line in art:
        up, down = [], []
        for ch in line:
            up.append(ch in "\u2588\u2580")
            down.append(ch in "\u2588\u2584")
        rows += [up, down]
    w = max(len(r) for r in rows)
    scale, pad = 8, 8
    W, H = (w + 2 * pad) * scale, (len(rows) + 2 * pad) * scale
    img = bytearray(b"\xff" * (W * H))
    for y, r in enumerate(rows):
        for x, d in enumerate(r):
            if d:
                for dy in range(scale):
                    o = ((y + pad) * scale + dy) * W + (x + pad) * scale
                    img[o:o + scale] = b"\x00" * scale
    with open(path, "wb") as f:
        f.write(b"P5 %d %d 255\n" % (W, H) + bytes(img))


class Attached(Server):
    """A Server object for a sigild demo.sh started (for its helpers)."""
    def __init__(self, env, port):
        self.env, self.port = env, port


with Env() as env:
    # -- deps: what make run installs
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "deps.sh"),
                        "--list", "run"], capture_output=True, text=True)
    pkgs = set(r.stdout.split())
    check(r.returncode == 0 and "libevent-dev" in pkgs and
          "libqrencode-dev" in pkgs, "deps.sh --list run names the libraries")
    check(not pkgs & BROWSER, "deps.sh run names no browser/node/font "
          "package: %s" % sorted(pkgs & BROWSER))
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "deps.sh"),
                        "--list", "build", "browser"], capture_output=True,
                       text=True)
    check("chromium" in r.stdout.split(), "deps.sh --list can name chromium "
          "(the check above can fail)")
    r = subprocess.run(["make", "-C", ROOT, "-n", "--no-print-directory",
                        "run", "BINDIR=" + BIN], capture_output=True,
                       text=True)
    check(r.returncode == 0 and "deps.sh run" in r.stdout and
          "browser" not in r.stdout and "npm" not in r.stdout,
          "make run calls deps.sh run only (no browser set, no npm): " +
          r.stdout.strip().replace("\n", " | ")[:300])

    # -- first run
    data = os.path.join(env.dir, "demo")
    port = free_port()
    log = open(os.path.join(env.dir, "demo.log"), "w")
    p, out = run_demo(data, port, log)
    base = "http://127.0.0.1:%d" % port
    print(out)
    check("Dashboard:  %s/admin/" % base in out, "the dashboard URL")
    em = re.search(r"^  email: +(\S+)$", out, re.M)
    pw = re.search(r"^  password: +(\S+)$", out, re.M)
    check(em is not None and pw is not None and len(pw.group(1)) >= 10,
          "a login: email and a generated password")
    check("otp-outbox.log" in out and
          os.path.join(data, "otp-outbox.log") in out, "the OTP outbox path")
    check("50 points" in out and "Tasting cup" in out,
          "the running campaign and its catalog item")
    srv = Attached(env, port)

    st, login = admin_login(srv, em.group(1), pw.group(1), "10.9")
    check(st == 200 and login is not None, "the printed login works on "
          "/admin/login (%d)" % st)
    st, _ = admin_login(srv, em.group(1), pw.group(1) + "x", "10.9")
    check(st == 401, "a wrong password does not (%d)" % st)

    lines = out.split("\n")
    i = next(k for k, l in enumerate(lines) if l.endswith("open the URL:"))
    art = []
    for l in lines[i + 1:]:
        if l.startswith("http"):
            url = l.strip()
            break
        art.append(l)
    check(url.startswith(base + "/S/"), "the QR's URL uses LISTEN: " + url)
    art_to_pgm(art, os.path.join(env.dir, "qr.pgm"))
    z = subprocess.run(["zbarimg", "--raw", "-q",
                        os.path.join(env.dir, "qr.pgm")],
                       capture_output=True, text=True)
    check(z.stdout.strip() == url, "the terminal QR decodes to the printed "
          "URL: %r" % z.stdout.strip())

    path = url[len(base):]
    st, doc, dev = srv.scan(path)
    check(st == 200 and doc and doc.get("verdict") == "genuine",
          "the printed code scans genuine")
    rw = (doc or {}).get("reward") or {}
    check(rw.get("points") == 50, "with the demo reward: %r" % rw)
    forged = re.search(r"shows 'counterfeit'\):\n(\S+)", out).group(1)
    check(forged != url and forged[:-1] == url[:-1],
          "the forged code is the genuine one with another last character")
    st, doc2, _ = srv.scan(forged[len(base):])
    check((doc2 or {}).get("verdict") == "counterfeit",
          "the printed forged code is counterfeit: %d %r" % (st, doc2))

    st, _, b = srv.get("/")
    check(st == 200 and b'href="/admin/"' in b and "一物一码".encode() in b,
          "/ is a bilingual page linking the dashboard (%d)" % st)

    # A phone login with the OTP from the printed outbox, a claim, a
    # redemption of the printed catalog item.
    ck = {"Cookie": "sg_d=" + dev}
    st, _, _ = srv.request("POST", "/api/v1/customers/otp", headers=ck,
                           body={"phone": "13800138000", "code": url})
    check(st == 202, "OTP sent (%d)" % st)
    with open(os.path.join(data, "otp-outbox.log")) as f:
        otp = re.findall(r"code=(\d{6})", f.read())[-1]
    st, _, b = srv.request("POST", "/api/v1/customers/verify", headers=ck,
                           body={"phone": "13800138000", "code": url,
                                 "otp": otp})
    check(st == 200, "phone login with the outbox's OTP (%d %s)" % (st, b))
    st, _, b = srv.request("POST", "/api/v1/claims", headers=ck,
                           body={"code": url})
    check(st == 201 and b'"points":50' in b.replace(b" ", b""),
          "the reward is claimed: %d %s" % (st, b[:200]))
    st, _, b = srv.request("GET", "/api/v1/catalog?brand=demo", headers=ck)
    m = re.search(rb'"id":\s*(\d+),\s*"name":\s*"[^"]*Tasting cup', b)
    check(st == 200 and m is not None, "the catalog lists the item")
    if m:
        st, _, b = srv.request("POST", "/api/v1/redemptions", headers=ck,
                               body={"item": int(m.group(1))})
        check(st == 201, "and it can be redeemed (%d %s)" % (st, b[:200]))

    rc = stop_demo(p)
    check(rc == 0, "Ctrl-C (SIGTERM to the script) stops sigild cleanly "
          "(%r)" % rc)
    r = subprocess.run([os.path.join(BIN, "sigil"), "token", "list",
                        "--brand", "demo", "--data", data, "--json"],
                       capture_output=True, text=True)
    toks = [json.loads(l) for l in r.stdout.splitlines()]
    check(len(toks) == 1 and toks[0]["revoked"] is not None,
          "the setup's admin token is revoked: %s" % r.stdout.strip())
    check(not os.path.exists(os.path.join(data, "demo-auth.tmp")),
          "and its header file removed")

    # -- second run, another LISTEN: same data, same login, new URLs
    port2 = free_port()
    p, out2 = run_demo(data, port2, log)
    base2 = "http://127.0.0.1:%d" % port2
    urls = re.findall(r"^https?://\S+", out2, re.M)
    check(len(urls) >= 6 and all(u.startswith(base2) for u in urls),
          "a rerun prints URLs for the new LISTEN only")
    check("password: " + pw.group(1) in out2, "and the same login")
    check(out2.count("creating demo data") == 0, "without remaking the data")
    st, login = admin_login(Attached(env, port2), em.group(1), pw.group(1),
                            "10.8")
    check(st == 200, "the login still works (%d)" % st)
    rc = stop_demo(p)
    check(rc == 0, "stopped cleanly (%r)" % rc)

    # -- the login file lost: a rerun sets a new password for the user
    os.unlink(os.path.join(data, "demo-login.txt"))
    port3 = free_port()
    p, out3 = run_demo(data, port3, log)
    pw3 = re.search(r"^  password: +(\S+)$", out3, re.M)
    check(pw3 is not None and pw3.group(1) != pw.group(1),
          "a lost login file gets a new password")
    if pw3:
        st, _ = admin_login(Attached(env, port3), em.group(1), pw3.group(1),
                            "10.7")
        check(st == 200, "which works (%d)" % st)
    rc = stop_demo(p)
    check(rc == 0, "stopped cleanly (%r)" % rc)
    log.close()
done()
