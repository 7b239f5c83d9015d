"""Batch print files over the brand API against the real sigild (issue 19
items 5 and 8): codes.csv, codes.txt, labels.pdf, labels-png.zip and
labels-svg.zip with their parameters, each checked against what the batch
is (every URL verifies with `sigil verify`, the files' labels decode back
to those URLs with zbarimg, `unzip -t` accepts the archives, pdfinfo /
pdffonts / pdftotext read the PDF as the CLI's label tests do); bad
parameters 422 naming the field before any byte; roles (analyst 403);
brand isolation (404); GET /api/v1/label-stocks; the download logged
with its token; a 100,000-code batch streamed to a slow reader with the
server's memory (VmRSS from /proc) flat, the scan path answering
meanwhile, and a client that leaves mid-file costing nothing."""
import http.client
import io
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import BIN, Env, check, done  # noqa: E402

NAME = "明前龙井 Longjing tea 250 g"
# The large batch: 100,000 codes (past ZIP64's 65,535 entries). Under a
# sanitizer (make SANITIZE=1 / TSAN=1) 20,000, and memory is not measured
# (shadow memory is not the server's); PRINT_BIG overrides.
SANITIZED = "san/" in BIN
BIG = int(os.environ.get("PRINT_BIG") or (20000 if SANITIZED else 100000))
STOCKS = ["a4-4x6", "a4-3x7", "a4-2x7", "a4-3x8", "a4-4x10", "40x30",
          "50x30", "60x40", "100x50"]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def get(srv, path, token, timeout=120):
    st, hdrs, raw = srv.request("GET", "/api/v1/" + path, headers={
        "Authorization": "Bearer " + token}, timeout=timeout)
    return st, hdrs, raw


def zbar(paths):
    r = subprocess.run(["zbarimg", "--raw", "-q"] + paths,
                       capture_output=True, text=True)
    return sorted(set(r.stdout.split()))


with Env() as env:
    for tool in ["zbarimg", "unzip", "pdfinfo", "pdffonts", "pdftotext",
                 "pdftoppm", "rsvg-convert"]:
        check(subprocess.run(["sh", "-c", "command -v " + tool],
                             capture_output=True).returncode == 0,
              tool + " installed")
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    env.sigil("product", "add", "--brand", "acme", "--sku", "TEA",
              "--name", NAME)
    OP = env.token("acme", "operator")
    AD = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    BE = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")
    st, doc = srv.api("POST", "batches", OP, {"sku": "TEA", "count": 6,
                                              "lot": "L2026A"})
    check(st == 201, "batch of 6 created")
    bid = doc["id"]
    first = doc["first_serial"]
    serials = list(range(first, first + 6))

    # ---- codes.csv and codes.txt: the batch's URLs, each genuine ----
    st, hdrs, raw = get(srv, "batches/%d/codes.csv" % bid, OP)
    lines = raw.decode().strip().split("\n")
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/csv")
          and lines[0] == "serial,url" and len(lines) == 7,
          "codes.csv: header and 6 rows (%s %r)" % (st, lines[:2]))
    check('filename="batch-%d.csv"' % bid in
          hdrs.get("Content-Disposition", ""), "codes.csv named batch-N.csv")
    check(hdrs.get("Transfer-Encoding") == "chunked", "streamed (chunked)")
    rows = [line.split(",") for line in lines[1:]]
    check([int(r[0]) for r in rows] == serials, "csv serials are the batch's")
    urls = [r[1] for r in rows]
    for s, u in zip(serials, urls):
        v = env.sigil("verify", u, check=False)
        check("inactive (batch not activated)" in v.stdout and
              "serial   %d\n" % s in v.stdout and "brand    acme" in
              v.stdout, "sigil verify: %s is serial %d of acme's batch"
              % (u, s))
        check(u.startswith("https://ACME.EXAMPLE/S/"), "compact URL " + u)
    st, hdrs, raw = get(srv, "batches/%d/codes.txt" % bid, AD)
    check(st == 200 and hdrs.get("Content-Type", "").startswith("text/plain")
          and raw.decode().split("\n") == urls + [""],
          "codes.txt: one URL a line, same URLs (admin may too)")
    # the same file as the CLI makes
    cli = env.sigil("mint", "--batch", str(bid), "--format", "txt",
                    "--out", "-").stdout
    check(cli == raw.decode(), "codes.txt equals `sigil mint --format txt`")

    tmp = tempfile.mkdtemp(dir=env.dir)

    # ---- labels.pdf on every stock, cut marks, captions ----
    for stock in STOCKS:
        st, hdrs, raw = get(srv, "batches/%d/labels.pdf?stock=%s&cut_marks=1"
                            % (bid, stock), OP)
        check(st == 200 and hdrs.get("Content-Type") == "application/pdf"
              and raw.startswith(b"%PDF-") and raw.rstrip().endswith(b"%%EOF"),
              "labels.pdf %s: a whole PDF (%d bytes)" % (stock, len(raw)))
        pdf = os.path.join(tmp, stock + ".pdf")
        open(pdf, "wb").write(raw)
        info = subprocess.run(["pdfinfo", pdf], capture_output=True,
                              text=True)
        check(info.returncode == 0 and "rror" not in info.stdout + info.stderr,
              "%s: pdfinfo reads it" % stock)
        if stock.startswith("a4-"):
            check("595 x 842 pts" in info.stdout, "%s: A4 pages" % stock)
        if stock == "50x30":
            check("142 x 85 pts" in info.stdout and
                  "Pages:           6" in info.stdout,
                  "50x30: one 50 x 30 mm label a page: " + info.stdout)
        fonts = subprocess.run(["pdffonts", pdf], capture_output=True,
                               text=True).stdout
        check("Type 3" in fonts, "%s: caption font embedded (Type 3)" % stock)
        text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True,
                              text=True).stdout
        flat = text.replace("\n", "").replace(" ", "")
        check(flat.count("明前龙井Longjingtea250g批号LOTL2026A") == 6,
              "%s: 6 captions with name and lot (CJK)" % stock)
        for s in serials:
            check(str(s) in text.split(), "%s: serial %d captioned" % (stock, s))
        if stock in ("a4-3x7", "50x30"):
            for f in os.listdir(tmp):
                if f.startswith("pg"):
                    os.unlink(os.path.join(tmp, f))
            subprocess.run(["pdftoppm", "-r", "300", "-png", pdf,
                            os.path.join(tmp, "pg")], check=True)
            pages = [os.path.join(tmp, f) for f in os.listdir(tmp)
                     if f.startswith("pg")]
            check(zbar(pages) == sorted(urls),
                  "%s: the PDF's labels decode to the batch's URLs" % stock)
    st, hdrs, raw = get(srv, "batches/%d/labels.pdf" % bid, OP)
    check(st == 200 and raw.startswith(b"%PDF-"), "labels.pdf defaults")
    st, hdrs, raw = get(srv, "batches/%d/labels.pdf?caption=none" % bid, OP)
    open(os.path.join(tmp, "none.pdf"), "wb").write(raw)
    text = subprocess.run(["pdftotext", os.path.join(tmp, "none.pdf"), "-"],
                          capture_output=True, text=True).stdout
    check(st == 200 and str(serials[0]) not in text, "caption=none: no text")
    st, hdrs, raw = get(srv, "batches/%d/labels.pdf?caption=serial" % bid, OP)
    open(os.path.join(tmp, "ser.pdf"), "wb").write(raw)
    text = subprocess.run(["pdftotext", os.path.join(tmp, "ser.pdf"), "-"],
                          capture_output=True, text=True).stdout
    check(st == 200 and str(serials[0]) in text and "LOT" not in text,
          "caption=serial: the serial only")

    # ---- labels-png.zip: unzip -t, DPI, zbarimg ----
    st, hdrs, raw = get(srv, "batches/%d/labels-png.zip?dpi=600&module=0.5"
                        % bid, OP)
    check(st == 200 and hdrs.get("Content-Type") == "application/zip",
          "labels-png.zip 200")
    check('filename="batch-%d-labels-png.zip"' % bid in
          hdrs.get("Content-Disposition", ""), "png archive named")
    zpath = os.path.join(tmp, "png.zip")
    open(zpath, "wb").write(raw)
    t = subprocess.run(["unzip", "-t", zpath], capture_output=True, text=True)
    check(t.returncode == 0 and "No errors detected" in t.stdout,
          "unzip -t accepts the PNG archive: " + t.stdout[-200:])
    z = zipfile.ZipFile(io.BytesIO(raw))
    check(sorted(z.namelist()) == sorted("%d.png" % s for s in serials),
          "one PNG a serial, named by serial")
    check(z.testzip() is None, "Python's zipfile finds every CRC right")
    d = os.path.join(tmp, "png")
    os.mkdir(d)
    z.extractall(d)
    for s, u in zip(serials, urls):
        p = os.path.join(d, "%d.png" % s)
        check(zbar([p]) == [u], "PNG %d decodes to its URL" % s)
        data = open(p, "rb").read()
        i = data.find(b"pHYs")
        x, y, unit = struct.unpack(">IIB", data[i + 4:i + 13])
        # 600 dpi = 23622 pixels a metre (rounded as libpng stores it)
        check(i > 0 and unit == 1 and abs(x - 23622) <= 1 and x == y,
              "PNG %d carries 600 dpi (pHYs %d)" % (s, x))
        w, h = struct.unpack(">II", data[16:24])
        # 0.5 mm at 600 dpi = 11.8 -> 12 px a module; 29 + 8 modules
        check(w == 37 * 12 and h > w, "PNG %d: 37 modules of 12 px, caption "
              "below (%dx%d)" % (s, w, h))
    st, _, raw = get(srv, "batches/%d/labels-png.zip?caption=none&dpi=300"
                     % bid, OP)
    z = zipfile.ZipFile(io.BytesIO(raw))
    w, h = struct.unpack(">II", z.read("%d.png" % first)[16:24])
    check(st == 200 and w == h == 37 * 6, "caption=none at 300 dpi: square, "
          "6 px modules (%dx%d)" % (w, h))

    # level=H: more error correction, a larger symbol, still the URL.
    st, _, raw = get(srv, "batches/%d/labels-png.zip?caption=none&dpi=300"
                     "&level=H" % bid, OP)
    z = zipfile.ZipFile(io.BytesIO(raw))
    data = z.read("%d.png" % first)
    w, h = struct.unpack(">II", data[16:24])
    p = os.path.join(tmp, "h.png")
    open(p, "wb").write(data)
    check(st == 200 and w == h and w > 37 * 6 and zbar([p]) == [urls[0]],
          "level=H: a larger symbol (%d px) that decodes" % w)

    # A GS1 product: Digital Link URLs on the labels.
    env.sigil("product", "add", "--brand", "acme", "--sku", "DL", "--name",
              "葡萄酒 750 ml", "--gtin", "04006381333931", "--gs1")
    st, doc = srv.api("POST", "batches", OP, {"sku": "DL", "count": 2,
                                              "lot": "AB12"})
    dl = doc["id"]
    st, _, raw = get(srv, "batches/%d/codes.txt" % dl, OP)
    dl_urls = raw.decode().split()
    check(all("/01/04006381333931/10/AB12/21/" in u for u in dl_urls),
          "codes.txt of a GS1 product: Digital Link URLs")
    st, _, raw = get(srv, "batches/%d/labels-png.zip?dpi=600" % dl, OP)
    z = zipfile.ZipFile(io.BytesIO(raw))
    for i, n in enumerate(sorted(z.namelist(), key=lambda x: int(
            x.split(".")[0]))):
        p = os.path.join(tmp, "dl-" + n)
        open(p, "wb").write(z.read(n))
        check(zbar([p]) == [dl_urls[i]], "GS1 label %s decodes to its "
              "Digital Link URL" % n)

    # ---- labels-svg.zip: size in mm, caption, decodes ----
    st, hdrs, raw = get(srv, "batches/%d/labels-svg.zip?module=0.6" % bid, OP)
    zpath = os.path.join(tmp, "svg.zip")
    open(zpath, "wb").write(raw)
    t = subprocess.run(["unzip", "-t", zpath], capture_output=True, text=True)
    check(st == 200 and t.returncode == 0, "unzip -t accepts the SVG archive")
    z = zipfile.ZipFile(io.BytesIO(raw))
    check(all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist()),
          "SVG entries deflated")
    for s, u in list(zip(serials, urls))[:3]:
        svg = z.read("%d.svg" % s).decode()
        check('width="22.20mm"' in svg, "SVG %d: 37 x 0.6 mm wide" % s)
        check("<title>%s / 批号 LOT L2026A / %d</title>" % (NAME, s) in svg,
              "SVG %d: caption in <title>" % s)
        sp = os.path.join(tmp, "%d.svg" % s)
        open(sp, "w").write(svg)
        subprocess.run(["rsvg-convert", "-d", "600", "-p", "600", "-o",
                        sp + ".png", sp], check=True)
        check(zbar([sp + ".png"]) == [u], "SVG %d decodes to its URL" % s)

    # ---- bad parameters: 422 naming the field, no body bytes ----
    for q, field in [
            ("labels.pdf?stock=a5-9x9", "stock"),
            ("labels.pdf?cut_marks=yes", "cut_marks"),
            ("labels.pdf?caption=all", "caption"),
            ("labels.pdf?level=Z", "level"),
            ("labels.pdf?dpi=300", "dpi"),
            ("labels.pdf?module=0.5", "module"),
            ("labels-png.zip?dpi=0", "dpi"),
            ("labels-png.zip?dpi=71", "dpi"),
            ("labels-png.zip?dpi=2401", "dpi"),
            ("labels-png.zip?dpi=3OO", "dpi"),
            ("labels-png.zip?module=0", "module"),
            ("labels-png.zip?module=1mm", "module"),
            ("labels-png.zip?module=-1", "module"),
            ("labels-png.zip?module=nan", "module"),
            ("labels-png.zip?module=11", "module"),
            ("labels-png.zip?module=0.1&dpi=72", "dpi"),
            ("labels-png.zip?stock=50x30", "stock"),
            ("labels-svg.zip?dpi=300", "dpi"),
            ("labels-svg.zip?cut_marks=1", "cut_marks"),
            ("codes.csv?caption=none", "caption"),
            ("codes.txt?module=1", "module")]:
        st, hdrs, raw = get(srv, "batches/%d/%s" % (bid, q), OP)
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = {}
        check(st == 422 and doc.get("error", {}).get("code") == "invalid" and
              "'%s'" % field in doc["error"]["message"] and
              "Content-Disposition" not in hdrs,
              "%s: 422 naming %s (%s %s)" % (q, field, st, raw[:120]))
    for path in ["batches/%d/labels.svg" % bid, "batches/%d/codes.pin.csv" % bid,
                 "batches/999/labels.pdf", "batches/x/codes.txt",
                 "batches/0/codes.csv"]:
        st, _, _ = get(srv, path, OP)
        check(st == 404, "%s: 404" % path)

    # HEAD: the headers a GET would have, no file made, nothing logged.
    lines_before = srv.logtext().count("print_file")
    st, hdrs, raw = srv.request("HEAD", "/api/v1/batches/%d/labels.pdf" % bid,
                                headers={"Authorization": "Bearer " + OP})
    check(st == 200 and hdrs.get("Content-Type") == "application/pdf" and
          raw == b"" and srv.logtext().count("print_file") == lines_before,
          "HEAD labels.pdf: headers only, no job, not logged")
    st, _, _ = srv.request("HEAD", "/api/v1/batches/%d/labels-png.zip?dpi=1"
                           % bid, headers={"Authorization": "Bearer " + OP})
    check(st == 422, "HEAD with a bad dpi: 422")

    # A revoked batch prints nothing (as `sigil mint` refuses it).
    st, doc = srv.api("POST", "batches", OP, {"sku": "TEA", "count": 2})
    gone = doc["id"]
    st, _ = srv.api("POST", "batches/%d/revoke" % gone, OP)
    for f in ["codes.csv", "codes.txt", "labels.pdf", "labels-png.zip",
              "labels-svg.zip"]:
        st, hdrs, raw = get(srv, "batches/%d/%s" % (gone, f), OP)
        check(st == 409 and json.loads(raw)["error"]["code"] ==
              "wrong_state" and "Content-Disposition" not in hdrs,
              "revoked batch: %s 409 wrong_state" % f)

    # ---- roles and brands ----
    for f in ["codes.csv", "codes.txt", "labels.pdf", "labels-png.zip",
              "labels-svg.zip"]:
        st, _, _ = get(srv, "batches/%d/%s" % (bid, f), AN)
        check(st == 403, "analyst: %s 403" % f)
        st, _, raw = get(srv, "batches/%d/%s" % (bid, f), BE)
        check(st == 404 and b"ACME" not in raw, "beta: acme's %s 404" % f)
    st, doc = srv.api("GET", "label-stocks", AN)
    check(st == 200 and [s["name"] for s in doc["stocks"]] == STOCKS and
          doc["default"] == "a4-4x6", "label-stocks for any role")
    a437 = [s for s in doc["stocks"] if s["name"] == "a4-3x7"][0]
    check(a437["cols"] == 3 and a437["rows"] == 7 and a437["sheet"] and
          abs(a437["label_w_mm"] - 63.5) < 1e-9 and a437["page_w_mm"] == 210,
          "a4-3x7: 3 x 7 labels of 63.5 mm on A4")
    check([s["sheet"] for s in doc["stocks"]].count(False) == 4,
          "four single-label stocks")
    st, _ = srv.api("GET", "label-stocks")
    check(st == 401, "label-stocks needs a token")
    log = srv.logtext()
    op_id = json.loads(env.sigil("token", "list", "--brand", "acme",
                                 "--json").stdout.splitlines()[0])["id"]
    check(any("file=labels-png.zip" in line and "batch=%d " % bid in line and
              "token=%d " % op_id in line for line in log.splitlines()),
          "a download's log line names the file, batch and the operator's "
          "token (%d)" % op_id)
    # ... and the audit trail has it, as it has the CLI's mint.
    st, doc = srv.api("GET", "audit?action=print_file&limit=1000", AD)
    mine = [e for e in doc.get("entries", []) if e["target"] ==
            {"type": "batch", "id": str(bid)}]
    files = sorted({e["detail"]["file"] for e in mine})
    check(st == 200 and files == ["codes.csv", "codes.txt", "labels-png.zip",
                                  "labels-svg.zip", "labels.pdf"] and
          all(e["detail"]["codes"] == 6 and e["actor"]["kind"] == "token"
              for e in mine),
          "every download in the audit trail: print_file, the batch, the "
          "file, the token (%s)" % files)
    check(not any(e["target"]["id"] == str(gone) for e in
                  doc.get("entries", [])),
          "refused downloads are not in the trail")

    # ---- 100,000 codes: streamed, memory flat, scans answered ----
    st, doc = srv.api("POST", "batches", OP, {"sku": "TEA", "count": BIG,
                                              "lot": "BIG"})
    big = doc["id"]
    srv.api("POST", "batches/%d/activate" % big, OP)
    pid = srv.proc.pid
    base_rss = rss_kb(pid)
    # A slow reader of the PNG archive: 64 KiB a read, a pause between.
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.request("GET", "/api/v1/batches/%d/labels-png.zip?caption=serial"
                 % big, headers={"Authorization": "Bearer " + OP})
    r = conn.getresponse()
    check(r.status == 200, "100,000-label archive starts")
    got = 0
    peak = base_rss
    t0 = time.time()
    for i in range(60):
        chunk = r.read(65536)
        got += len(chunk)
        peak = max(peak, rss_kb(pid))
        time.sleep(0.05)
    # The server, meanwhile, answers scans at once.
    paths = [u[u.index("/S/"):] for u in urls]
    t1 = time.time()
    st, d, _ = srv.scan(paths[0])
    check(st == 200 and time.time() - t1 < 2,
          "a scan is answered while the archive is made (%.2f s)"
          % (time.time() - t1))
    # Then read the rest at full speed and check the archive.
    out = tempfile.NamedTemporaryFile(dir=env.dir, suffix=".zip",
                                      delete=False)
    out.write(b"")
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        got += len(chunk)
        out.write(chunk)
        peak = max(peak, rss_kb(pid))
    out.close()
    conn.close()
    print("%d PNG labels: %d bytes in %.1f s, VmRSS %d -> peak %d kB"
          % (BIG, got, time.time() - t0, base_rss, peak))
    check(got > BIG * 300, "the whole archive came (%d bytes)" % got)
    check(SANITIZED or peak - base_rss < 32 * 1024,
          "server memory flat: +%d kB for a %d MB file"
          % (peak - base_rss, got >> 20))

    # The whole archive (ZIP64: 100,000 entries) passes unzip -t; sample
    # labels decode to the right URLs.
    st, hdrs, raw = get(srv, "batches/%d/codes.csv" % big, OP)
    big_urls = dict((int(a), b) for a, b in (line.split(",") for line in
                    raw.decode().strip().split("\n")[1:]))
    check(len(big_urls) == BIG, "%d-row codes.csv" % BIG)
    # (the slow reader's first bytes were not kept: fetch it again whole)
    st, hdrs, raw = get(srv, "batches/%d/labels-png.zip?caption=serial"
                        % big, OP, timeout=600)
    zpath = os.path.join(env.dir, "big.zip")
    open(zpath, "wb").write(raw)
    del raw
    t = subprocess.run(["unzip", "-tq", zpath], capture_output=True,
                       text=True)
    check(t.returncode == 0 and "No errors detected" in t.stdout,
          "unzip -t accepts %d entries%s: " % (BIG, " (ZIP64)" if BIG >
                                               65535 else "")
          + t.stdout[-200:])
    z = zipfile.ZipFile(zpath)
    names = z.namelist()
    check(len(names) == BIG, "%d entries" % BIG)
    d = os.path.join(tmp, "big")
    os.mkdir(d)
    for k in sorted({0, 1, 4999, min(65535, BIG - 2), min(65536, BIG - 1),
                     BIG - 1}):
        n = names[k]
        z.extract(n, d)
        s = int(n.split(".")[0])
        check(zbar([os.path.join(d, n)]) == [big_urls[s]],
              "entry %d (%s) decodes to its URL" % (k, n))

    # A client that leaves mid-PDF: the job stops, the server stays well.
    sk = socket.create_connection(("127.0.0.1", srv.port))
    sk.sendall(("GET /api/v1/batches/%d/labels.pdf HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer %s\r\n\r\n" % (big, OP)).encode())
    first_bytes = sk.recv(4096)
    check(b"200 OK" in first_bytes, "big PDF starts")
    sk.close()
    time.sleep(1)
    st, _, raw = get(srv, "batches/%d/codes.txt" % bid, OP)
    check(st == 200 and raw.decode().split("\n")[:-1] == urls,
          "after a client left mid-file the next download works")

    # More concurrent downloads than workers: the extra one is 503 busy.
    socks = []
    for i in range(4):
        sk = socket.create_connection(("127.0.0.1", srv.port))
        sk.sendall(("GET /api/v1/batches/%d/labels.pdf HTTP/1.1\r\nHost: x"
                    "\r\nAuthorization: Bearer %s\r\n\r\n" % (big, OP))
                   .encode())
        socks.append(sk)
    time.sleep(0.5)
    st, hdrs, _ = srv.request("HEAD", "/api/v1/batches/%d/codes.txt" % bid,
                              headers={"Authorization": "Bearer " + OP})
    check(st == 503 and hdrs.get("Retry-After"), "HEAD while 4 are made: "
          "503 busy, as a GET would meet (%s)" % st)
    st, hdrs, raw = get(srv, "batches/%d/codes.txt" % bid, OP)
    check(st == 503 and hdrs.get("Retry-After") and
          json.loads(raw)["error"]["code"] == "busy",
          "a fifth at once: 503 busy with Retry-After (%s)" % st)
    for sk in socks:
        sk.close()
    time.sleep(1)
    st, _, _ = get(srv, "batches/%d/codes.txt" % bid, OP)
    check(st == 200, "free again once they left")
    # Clients that stop reading: sigild's write timeout (--timeout, 10 s)
    # drops them, their jobs stop, and the workers are free again.
    socks = []
    for i in range(4):
        sk = socket.create_connection(("127.0.0.1", srv.port))
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sk.sendall(("GET /api/v1/batches/%d/labels-svg.zip HTTP/1.1\r\n"
                    "Host: x\r\nAuthorization: Bearer %s\r\n\r\n"
                    % (big, OP)).encode())
        socks.append(sk)
    time.sleep(1)
    st, _, _ = get(srv, "batches/%d/codes.txt" % bid, OP)
    check(st == 503, "four stalled readers hold the four workers (%d)" % st)
    time.sleep(13)
    st, _, raw = get(srv, "batches/%d/codes.txt" % bid, OP)
    check(st == 200 and raw.decode().split("\n")[:-1] == urls,
          "after the write timeout they are dropped and a download works")
    for sk in socks:
        sk.close()

    # SIGTERM while a slow client is taking a 100,000-label PDF: the job
    # is cancelled and sigild exits 0 at once, not when the file is done.
    sk = socket.create_connection(("127.0.0.1", srv.port))
    sk.sendall(("GET /api/v1/batches/%d/labels.pdf HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer %s\r\n\r\n" % (big, OP)).encode())
    check(b"200 OK" in sk.recv(4096), "a slow PDF download under way")
    time.sleep(0.5)
    t0 = time.time()
    check(srv.stop() == 0 and time.time() - t0 < 10,
          "sigild stops cleanly during it (%.1f s)" % (time.time() - t0))
    sk.close()
    log = srv.logtext()
    check(not any(w in log for w in ("ThreadSanitizer", "AddressSanitizer",
                                     "LeakSanitizer", "runtime error")),
          "no sanitizer report in sigild's log")
done()
