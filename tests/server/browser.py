"""The landing page in headless Chromium at 390x844: the verdict is what a
person reads first, hostile product names show as text, the page makes
no external request. Screenshots are kept in build/test-artifacts/."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
SHOT = os.path.join(ROOT, "tests", "browser", "shot.js")


def shot(url, name, lang=None):
    out = os.path.join(ART, name + ".png")
    env = dict(os.environ)
    if lang:
        env["SIGIL_LOCALE"] = lang
    r = subprocess.run(["node", SHOT, url, out], capture_output=True,
                       text=True, timeout=120, env=env)
    if r.returncode != 0:
        print(r.stdout[-2000:], r.stderr[-2000:])
        return None, "", out
    lines = r.stdout.strip().split("\n")
    return json.loads(lines[-1]), "\n".join(lines[:-1]), out


with Env() as env:
    hostile = "<img src=x onerror=alert(1)>"
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("product", "add", "--brand", "acme", "--sku", "X1", "--name",
              hostile)
    b = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku", "X1",
                             "--count", "3", "--json").stdout)
    env.sigil("batch", "activate", "--batch", str(b["id"]))
    urls = env.sigil("mint", "--batch", str(b["id"]), "--format", "txt",
                     "--out", "-").stdout.split()
    srv = env.start()
    base = "http://127.0.0.1:%d" % srv.port
    path = urls[0].split("ACME.EXAMPLE")[1]

    info, text, png = shot(base + path, "landing-genuine-zh", "zh-CN")
    check(info is not None, "page loaded in Chromium")
    if info:
        check(info["verdict"] == "正品", "verdict shown: %s" % info["verdict"])
        check(text.lstrip().startswith("正品"),
              "the verdict is the first thing on the page")
        check(hostile in text, "hostile product name shown as text")
        check(not info.get("external_requests"), "no external requests")
        check(not info.get("console_errors"), "no console errors (%s)"
              % info.get("console_errors"))
        check(os.path.getsize(png) > 5000, "screenshot kept: " + png)
    info, text, png = shot(base + path[:-1] + ("0" if path[-1] != "0"
                                               else "1"),
                           "landing-counterfeit-zh", "zh-CN")
    check(info is not None and info["verdict"] == "假冒",
          "counterfeit page shows 假冒")
    info, text, png = shot(base + urls[1].split("ACME.EXAMPLE")[1],
                           "landing-genuine-en", "en-US")
    check(info is not None and info["verdict"] == "Genuine" and
          info["lang"] == "en", "English page for an English phone")
done()
