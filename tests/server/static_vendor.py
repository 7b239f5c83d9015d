"""The dashboard's vendored files (issue 19 item 6) against the real
sigild: /admin/vendor/NAME.(js|json) served from the one fixed
directory web/admin/vendor/, gzipped when the client accepts it, with an
ETag; and every hostile path refused: traversal plain and encoded,
other extensions and directories, the lock and licence files, the .gz
files by name, a symlinked file, a symlinked vendor directory, a file
over the size cap. Runs on a copy of web/ with a small vendor directory
of its own (so it needs no network and no `make vendor`)."""
import gzip
import os
import shutil
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402


def raw_status(port, target):
    """GET target as sent, byte for byte; the status code or None."""
    s = socket.create_connection(("127.0.0.1", port), 5)
    try:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    parts = buf.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    web = os.path.join(env.dir, "web")
    shutil.copytree(os.path.join(ROOT, "web"), web, symlinks=True,
                    ignore=shutil.ignore_patterns("vendor"))
    vendor = os.path.join(web, "admin", "vendor")
    os.mkdir(vendor)
    lib = b"/* a library */ window.lib = 1;\n" * 2000
    with open(os.path.join(vendor, "lib.js"), "wb") as f:
        f.write(lib)
    with open(os.path.join(vendor, "lib.js.gz"), "wb") as f:
        f.write(gzip.compress(lib, mtime=0))
    geo = b'{"type": "FeatureCollection", "features": []}'
    with open(os.path.join(vendor, "map.json"), "wb") as f:
        f.write(geo)
    secret = os.path.join(env.dir, "secret.txt")
    with open(secret, "w") as f:
        f.write("the secret\n")
    os.symlink(secret, os.path.join(vendor, "evil.js"))
    # A symlinked .gz beside a real file: the real one is served instead.
    os.symlink(secret, os.path.join(vendor, "map.json.gz"))
    for name in ("LICENSE-lib", ".lock", "notes.txt", "page.html"):
        with open(os.path.join(vendor, name), "w") as f:
            f.write("x\n")
    os.mkdir(os.path.join(vendor, "sub"))
    with open(os.path.join(vendor, "sub", "x.js"), "w") as f:
        f.write("x\n")
    with open(os.path.join(vendor, "big.js"), "wb") as f:
        f.truncate(4 * 1024 * 1024 + 1)
    with open(os.path.join(web, "admin", "data.json"), "w") as f:
        f.write("{}\n")
    os.symlink(secret, os.path.join(web, "admin", "evil.js"))
    os.symlink(os.path.join(vendor, "lib.js"),
               os.path.join(web, "admin", "lib.js"))

    srv = env.start("--web", web)
    st, h, body = srv.get("/admin/vendor/lib.js")
    check(st == 200 and body == lib and
          h.get("Content-Type", "").startswith("text/javascript") and
          "Content-Encoding" not in h and
          "default-src 'self'" in h.get("Content-Security-Policy", ""),
          "vendor/lib.js served as is without Accept-Encoding, with the CSP")
    st, h, body = srv.get("/admin/vendor/lib.js",
                          {"Accept-Encoding": "gzip, deflate, br"})
    check(st == 200 and h.get("Content-Encoding") == "gzip" and
          gzip.decompress(body) == lib and len(body) < len(lib) // 10 and
          "Accept-Encoding" in h.get("Vary", ""),
          "gzip accepted: the precompressed file, Content-Encoding: gzip")
    st2, h2, _ = srv.get("/admin/vendor/lib.js",
                         {"Accept-Encoding": "gzip;q=0"})
    check(st2 == 200 and "Content-Encoding" not in h2,
          "gzip;q=0: the plain file")
    etag = h.get("ETag")
    st, h3, body = srv.get("/admin/vendor/lib.js",
                           {"Accept-Encoding": "gzip", "If-None-Match": etag})
    check(etag and st == 304 and body == b"", "If-None-Match: 304 (%s)" % etag)
    st, h3, body = srv.get("/admin/vendor/lib.js", {"If-None-Match": etag})
    check(st == 200 and body == lib,
          "the gzip ETag does not match the plain file")
    st, h, body = srv.get("/admin/vendor/map.json", {"Accept-Encoding": "gzip"})
    check(st == 200 and body == geo and "Content-Encoding" not in h and
          h.get("Content-Type") == "application/json",
          "a symlinked .gz is not followed: the plain JSON instead")
    st, h, body = srv.get("/admin/app.js")
    check(st == 200 and len(body) > 1000, "app.js still served")

    for path in [
            "/admin/vendor/evil.js",            # symlink to a secret
            "/admin/vendor/big.js",             # over the 4 MiB cap
            "/admin/vendor/lib.js.gz",          # .gz only by negotiation
            "/admin/vendor/map.json.gz",
            "/admin/vendor/LICENSE-lib", "/admin/vendor/.lock",
            "/admin/vendor/notes.txt",
            "/admin/vendor/page.html",          # html not from vendor/
            "/admin/vendor/sub/x.js",           # no deeper directory
            "/admin/vendor/", "/admin/vendor",
            "/admin/vendor//lib.js",
            "/admin/vendor/LIB.JS",
            "/admin/vendor/lib.js/",
            "/admin/vendor/lib.js%00",
            "/admin/vendor/%6c%69%62.json",
            "/admin/data.json",                 # json only from vendor/
            "/admin/Vendor/lib.js",
            "/admin/x/vendor/lib.js",
            "/admin/vendor/" + "a" * 65 + ".js",
            "/admin/vendor/lib.js%3f",
            "/admin/vendor/secret.txt",
            "/admin/evil.js",                   # symlinks in admin/ too
            "/admin/lib.js",
    ]:
        st, h, body = srv.get(path, {"Accept-Encoding": "gzip"})
        check(st in (400, 404) and b"secret" not in body and
              b"a library" not in body, "%s refused (%s)" % (path, st))
    # Encoded: a %2f decodes to the same name and is served; traversal in
    # any spelling is refused by the router.
    st, h, body = srv.get("/admin/vendor%2flib.js")
    check(st == 200 and body == lib, "vendor%2flib.js is vendor/lib.js")
    for target in [b"/admin/vendor/../app.js",
                   b"/admin/vendor/%2e%2e/app.js",
                   b"/admin/vendor/%2E%2E%2Fapp.js",
                   b"/admin/vendor/..%2f..%2f..%2fsecret.txt",
                   b"/admin/vendor/..\\app.js",
                   b"/admin/vendor/%5c..%5capp.js",
                   b"/admin/vendor/%2e%2e%2f%2e%2e%2fsecret.txt",
                   b"/admin/vendor/lib.js%ff",
                   b"/admin/vendor/%c0%ae%c0%ae/app.js",
                   b"/admin/%2e%2e/landing.html"]:
        st = raw_status(srv.port, target)
        check(st in (400, 404), "%s refused (%s)" % (target.decode(), st))
    srv.stop()

    # The vendor directory itself a symlink: nothing is served from it.
    real = os.path.join(env.dir, "elsewhere")
    os.rename(vendor, real)
    os.symlink(real, vendor)
    srv = env.start("--web", web)
    st, h, body = srv.get("/admin/vendor/lib.js")
    check(st == 404 and b"a library" not in body,
          "a symlinked vendor directory is not followed (%d)" % st)
    st, h, body = srv.get("/admin/index.html")
    check(st == 200, "the rest of the dashboard still served")
    srv.stop()
done()
