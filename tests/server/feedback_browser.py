"""The feedback loop in headless Chromium, zh-CN (issue 21 item 4):
tests/browser/feedback.js against the real sigild. A phone (390x844)
rates a genuine item from its landing page and reports a forged one with
a photo; the brand's admin sees both in the inbox with the photo and the
satisfaction, replies to the rating and closes the report. Screenshots
are kept in build/test-artifacts/feedback-*.png. Afterwards the server
says the same."""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ARTIFACTS as ART, Env, browser, check, done  # noqa

PW = "correct horse battery staple"


def png(w, h, rgb):
    """A real PNG (RFC 2083): signature, IHDR, one IDAT, IEND."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


with Env() as env:
    _, paths = env.setup_brand(count=4)
    env.sigil("user", "add", "--brand", "acme", "--email", "ann@acme.test",
              "--role", "admin", stdin=PW + "\n")
    photo = os.path.join(env.dir, "fake.png")
    data = png(64, 48, (200, 40, 40))
    with open(photo, "wb") as f:
        f.write(data)
    srv = env.start("--api-rate-limit", "0")
    base = "http://127.0.0.1:%d" % srv.port
    forged = paths[1][:-1] + ("0" if paths[1][-1] != "0" else "1")
    browser("feedback.js", [base, paths[0], forged, "ann@acme.test", ART,
                            photo], PW, checks=18, shots=7)

    AN = env.token("acme", "analyst")
    st, doc = srv.api("GET", "feedback", AN)
    kinds = sorted((f["kind"], f["status"]) for f in doc["feedback"])
    check(st == 200 and kinds == [("fake", "closed"), ("rating", "replied")],
          "the server: a replied rating and a closed report (%s)" % kinds)
    fake = [f for f in doc["feedback"] if f["kind"] == "fake"]
    st, _, body = srv.request("GET", fake[0]["photo"] if fake else "/",
                              headers={"Authorization": "Bearer " + AN})
    check(st == 200 and body == data, "the photo kept is the file sent")
    srv.stop()
done()
