"""The dashboard's batches page (issue 19 items 5 and 8) in headless
Chromium, in Shanghai time and zh-CN and once in English:
tests/browser/batches.js against the real sigild creates, activates and
revokes a batch and downloads every print file through the page; here the
downloads are checked against the batch (the URLs `sigil mint` makes,
`unzip -t`, zbarimg on the PNG labels, pdfinfo/pdftotext on the PDFs) and
the server's state after. Screenshots are kept in build/test-artifacts/."""
import csv
import os
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa: E402

PW = "correct horse battery staple"
NAME = "明前龙井 Longjing tea 250 g"

with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("product", "add", "--brand", "acme", "--sku", "TEA", "--name",
              NAME)
    env.sigil("product", "add", "--brand", "acme", "--sku", "WINE", "--name",
              "Red wine")
    for email, role in [("ann@acme.test", "admin"),
                        ("ana@acme.test", "analyst")]:
        env.sigil("user", "add", "--brand", "acme", "--email", email,
                  "--role", role, stdin=PW + "\n")
    A = env.token("acme", "admin")
    srv = env.start()
    # 55 earlier batches: more than the page's 50 a page.
    for i in range(55):
        st, _ = srv.api("POST", "batches", A, {"sku": "WINE", "count": 3,
                                               "lot": "W%02d" % i})
    check(st == 201, "55 earlier batches to list")

    base = "http://127.0.0.1:%d" % srv.port
    facts = browser("batches.js", [base, "ann@acme.test", "ana@acme.test",
                                   ART], PW, checks=25, shots=10, timeout=600)

    # The server's state: the page's batch, revoked, as created.
    bid = facts.get("batch")
    st, b = srv.api("GET", "batches/%s" % bid, A)
    check(st == 200 and b["sku"] == "TEA" and b["count"] == 30 and
          b["lot"] == "L2026A" and b["state"] == "revoked" and
          b["activated"] and b["expires"].startswith("2028-12-31"),
          "the page's batch: TEA x 30, lot L2026A, activated then revoked")
    st, doc = srv.api("GET", "batches", A)
    revoked = [x["id"] for x in doc["batches"] if x["state"] == "revoked"]
    check(revoked == [bid], "only the page's batch was revoked: %s" % revoked)
    active = [x["id"] for x in doc["batches"] if x["state"] == "active"]
    check(active == [], "no other batch was activated: %s" % active)
    check(len(doc["batches"]) == 57 and doc["batches"][-1]["lot"] == "TYPED"
          and doc["batches"][-1]["count"] == 2,
          "exactly two batches made by the page (one with a typed SKU)")

    # The downloads are the batch's print files.
    dl = facts.get("downloads", {})
    rows = list(csv.reader(open(dl["codes.csv"], encoding="utf-8")))
    check(rows[0] == ["serial", "url"] and len(rows) == 31 and
          [int(r[0]) for r in rows[1:]] == list(range(
              b["first_serial"], b["first_serial"] + 30)),
          "codes.csv downloaded through the page: the batch's 30 serials")
    want = [r[1] for r in rows[1:]]
    # Each URL is, offline (sigil verify: the signature and the batch),
    # the serial of its row in the page's batch, now revoked.
    for serial, url in rows[1:]:
        v = env.sigil("verify", url, check=False).stdout
        good = ("serial   %s\n" % serial in v and "revoked" in v and
                "batch    %s  lot L2026A\n" % bid in v)
        check(good, "verify %s: serial %s of batch %s%s"
              % (url, serial, bid, "" if good else ": " + v))
    check(open(dl["codes.txt"]).read().split() == want,
          "codes.txt: the same URLs")
    for name, size in [("labels-a4-3x7.pdf", "595 x 842 pts"),
                       ("labels-50x30.pdf", "142 x 85 pts")]:
        info = subprocess.run(["pdfinfo", dl[name]], capture_output=True,
                              text=True).stdout
        check(size in info, "%s: the stock's page size" % name)
    text = subprocess.run(["pdftotext", dl["labels-a4-3x7.pdf"], "-"],
                          capture_output=True, text=True).stdout
    check(text.replace("\n", "").replace(" ", "").count(
        "明前龙井Longjingtea250g批号LOTL2026A") == 30,
        "A4 PDF: 30 captions with the Chinese name and lot")
    text = subprocess.run(["pdftotext", dl["labels-50x30.pdf"], "-"],
                          capture_output=True, text=True).stdout
    check("LOT" not in text and str(b["first_serial"]) in text.split(),
          "50x30 PDF: serial captions only")
    for name in ["labels-png.zip", "labels-svg.zip"]:
        t = subprocess.run(["unzip", "-t", dl[name]], capture_output=True,
                           text=True)
        check(t.returncode == 0 and "No errors detected" in t.stdout,
              "unzip -t accepts " + name)
    z = zipfile.ZipFile(dl["labels-png.zip"])
    tmp = os.path.join(env.dir, "png")
    os.mkdir(tmp)
    for k in [0, 14, 29]:
        serial = b["first_serial"] + k
        z.extract("%d.png" % serial, tmp)
        got = subprocess.run(["zbarimg", "--raw", "-q", os.path.join(
            tmp, "%d.png" % serial)], capture_output=True, text=True).stdout
        check(got.split() == [want[k]], "PNG %d decodes to its URL" % serial)
    svg = zipfile.ZipFile(dl["labels-svg.zip"]).read(
        "%d.svg" % b["first_serial"]).decode()
    check('width="22.20mm"' in svg, "SVG at 0.6 mm a module")
    log = srv.logtext()
    check(sum(1 for line in log.splitlines() if "print_file" in line and
              "batch=%s " % bid in line and "user=" in line) == 6,
          "the six downloads logged with the batch and the dashboard user")
    st, doc = srv.api("GET", "audit?action=print_file&limit=1000", A)
    mine = [e for e in doc.get("entries", []) if e["target"]["id"] ==
            str(bid)]
    check(st == 200 and len(mine) == 6 and
          all(e["actor"]["kind"] == "user" for e in mine),
          "the six downloads are in the audit trail, by the user")
    srv.stop()
done()
