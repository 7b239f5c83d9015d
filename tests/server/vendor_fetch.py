"""scripts/vendor.sh (issue 19 item 6): fetches pinned npm tarballs,
checks the sha512 integrity before extracting anything, extracts only
the files the lock names (GeoJSON marked geo2 cut to 0.01 degree) and
gzips them. Against a registry served on
loopback: a right hash vendors the files; a wrong hash fails with a
clear message, extracts nothing and leaves the last good directory as it
was; a missing member and a failed download fail too. Also: the real
scripts/vendor.lock pins every package by sha512."""
import base64
import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

SCRIPT = os.path.join(ROOT, "scripts", "vendor.sh")


def tarball(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo("package/" + name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def integrity(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


with Env() as env:
    reg = os.path.join(env.dir, "registry")
    os.makedirs(os.path.join(reg, "charts", "-"))
    os.makedirs(os.path.join(reg, "@geo", "maps", "-"))
    lib = b"window.charts = 1;\n" * 500
    tgz = tarball({"dist/charts.min.js": lib, "LICENSE": b"Apache\n",
                   "README.md": b"not wanted\n"})
    with open(os.path.join(reg, "charts", "-", "charts-1.2.3.tgz"), "wb") as f:
        f.write(tgz)
    geo = (b'{"type":"FeatureCollection","features":[{"type":"Feature",'
           b'"properties":{"name":"X","full_name":"Long X","iso_a2":"XX"},'
           b'"geometry":{"type":"Polygon","coordinates":[[[31.287891,'
           b'-22.402051],[32.4,-21.2],[-0.123456,10],[31.287891,'
           b'-22.402051]]]}}]}')
    tgz2 = tarball({"world.json": geo})
    with open(os.path.join(reg, "@geo", "maps", "-", "maps-0.1.0.tgz"),
              "wb") as f:
        f.write(tgz2)

    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=reg)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    registry = "http://127.0.0.1:%d" % httpd.server_address[1]

    def run(lock_text, name):
        lock = os.path.join(env.dir, name + ".lock")
        with open(lock, "w") as f:
            f.write(lock_text)
        out = os.path.join(env.dir, "vendor")
        cache = os.path.join(env.dir, "cache-" + name)
        r = subprocess.run(["sh", SCRIPT, lock, out, cache],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, SIGIL_NPM_REGISTRY=registry))
        return r, out, cache

    good = ("# test lock\n"
            "charts 1.2.3 %s package/dist/charts.min.js=charts.js "
            "package/LICENSE=LICENSE-charts\n"
            "@geo/maps 0.1.0 %s package/world.json=world.json:geo2\n" %
            (integrity(tgz), integrity(tgz2)))
    r, out, cache = run(good, "good")
    check(r.returncode == 0, "a right hash: vendored (%s)" % r.stderr)
    files = sorted(os.listdir(out)) if os.path.isdir(out) else []
    check(files == [".lock", "LICENSE-charts", "charts.js", "charts.js.gz",
                    "world.json", "world.json.gz"],
          "only the files the lock names, each gzipped too: %s" % files)
    with open(os.path.join(out, "charts.js"), "rb") as f:
        check(f.read() == lib, "charts.js is the tarball's file")
    with open(os.path.join(out, "charts.js.gz"), "rb") as f:
        check(gzip.decompress(f.read()) == lib, "charts.js.gz decompresses")
    with open(os.path.join(out, "world.json"), "rb") as f:
        w = json.loads(f.read())
    props = w["features"][0]["properties"]
    ring = w["features"][0]["geometry"]["coordinates"][0]
    check(props == {"name": "X", "iso_a2": "XX"} and
          ring == [[31.28, -22.40], [32.4, -21.2], [-0.12, 10],
                   [31.28, -22.40]],
          "geo2: valid GeoJSON cut to 0.01 degree, no full_name: %s %s" %
          (props, ring))
    r, out2, _ = run(good.replace(":geo2", ":zip"), "transform")
    check(r.returncode != 0 and "unknown transform" in r.stderr,
          "an unknown transform fails: %s" % r.stderr.strip())

    bad = good.replace(integrity(tgz), integrity(tgz + b"x"))
    r, out, cache = run(bad, "bad")
    check(r.returncode != 0 and "sha512 mismatch" in r.stderr and
          "charts@1.2.3" in r.stderr and "nothing extracted" in r.stderr,
          "a wrong hash fails clearly: %s" % r.stderr.strip())
    check(sorted(os.listdir(out)) == files,
          "the last good vendor directory is left as it was")
    check(not os.path.exists(os.path.join(cache, "charts-1.2.3.tgz")),
          "the tarball that failed the check is not kept")

    r, out, cache = run(good.replace("world.json=", "nope.json="), "member")
    check(r.returncode != 0 and "no package/nope.json" in r.stderr,
          "a member not in the tarball fails: %s" % r.stderr.strip())
    r, out, cache = run(good.replace("1.2.3", "9.9.9"), "missing")
    check(r.returncode != 0 and "download failed" in r.stderr,
          "a version the registry lacks fails: %s" % r.stderr.strip())
    r, out, cache = run(good.replace(integrity(tgz), "sha1-abc"), "algo")
    check(r.returncode != 0 and "sha512" in r.stderr,
          "only sha512 integrity is taken")
    httpd.shutdown()

    with open(os.path.join(ROOT, "scripts", "vendor.lock")) as f:
        lines = [x.split() for x in f if x.strip() and not x.startswith("#")]
    check(len(lines) >= 3 and all(
        re.fullmatch(r"\d+\.\d+\.\d+", x[1]) and
        re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", x[2]) for x in lines),
        "scripts/vendor.lock pins exact versions by sha512")
    names = {m.split("=")[1].split(":")[0] for x in lines for m in x[3:]}
    check({"echarts.js", "china.json", "world.json"} <= names,
          "the lock vendors ECharts, the China map and the world map")
done()
