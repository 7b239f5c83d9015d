"""Keys made while sigild runs (review F17) are picked up without a
restart: after `sigil key new` a batch the API creates with the new key
has a print file (200, not 503) whose codes scan genuine (not
counterfeit), and a brand added with `sigil brand add` scans genuine at
once. Made-up key ids scan counterfeit and do not make sigild reread the
keyring at each request (it logs each reload it does). SIGHUP reloads on
demand."""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402


def batch_codes(srv, token, sku, count):
    st, b = srv.api("POST", "batches", token, {"sku": sku, "count": count})
    check(st == 201, "batch created over the API (%d)" % st)
    st, _ = srv.api("POST", "batches/%d/activate" % b["id"], token)
    check(st == 200, "batch activated")
    st, hdrs, body = srv.request(
        "GET", "/api/v1/batches/%d/codes.csv" % b["id"],
        headers={"Authorization": "Bearer " + token})
    lines = body.decode().split("\n")[1:] if st == 200 else []
    paths = [re.sub(r"^https?://[^/]+", "", ln.split(",", 1)[1])
             for ln in lines if "," in ln]
    return b, st, paths


def reloads(srv):
    return srv.logtext().count("keyring_reload")


with Env() as env:
    _, first = env.setup_brand("acme", count=5)
    OP = env.token("acme", "operator")
    srv = env.start()
    st, doc, _ = srv.scan(first[0])
    check(st == 200 and doc["verdict"] == "genuine", "a code of key 1 is "
          "genuine")

    # ---- sigil key new while sigild runs ----
    k = json.loads(env.sigil("key", "new", "--brand", "acme",
                             "--json").stdout)
    b, st, paths = batch_codes(srv, OP, "W1", 4)
    check(b["key_id"] == k["key_id"], "the API used the new key %d"
          % k["key_id"])
    check(st == 200 and len(paths) == 4, "the print file of the new key's "
          "batch: 200 with 4 codes (was 503)")
    ok = len(paths) == 4
    for p in paths:
        st, doc, _ = srv.scan(p)
        ok = ok and st == 200 and doc["verdict"] == "genuine"
    check(ok, "codes of the new key scan genuine without a restart")
    r = env.sigil("verify", paths[0] if paths else "/S/x", check=False)
    check(r.returncode == 0, "sigil verify agrees")
    st, hist = srv.api("GET", "batches/%d" % b["id"], OP)
    check(st == 200 and hist["key_id"] == k["key_id"], "batch reads back")

    # ---- made-up key ids: counterfeit, and no reload storm ----
    n = reloads(srv)
    check(n == 1, "the new key's first use reloaded the keyring once")
    forged = []
    b32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for i in range(40):
        # Characters 2-4 of a compact code hold the low 15 key id bits.
        kid = 1000 + 37 * i
        p = paths[0]
        forged.append(p[:4] + b32[(kid >> 10) & 31] + b32[(kid >> 5) & 31] +
                      b32[kid & 31] + p[7:])
    verdicts = set()
    for p in forged:
        st, doc, _ = srv.scan(p)
        verdicts.add(doc["verdict"] if doc else st)
    check(verdicts <= {"counterfeit", 404}, "made-up codes: counterfeit "
          "(%r)" % verdicts)
    check(reloads(srv) == n, "an unchanged keyring is not reread for them")

    # ---- sigil brand add while sigild runs ----
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    _, beta = env.setup_brand("beta", sku="B1", count=3, init=False)
    time.sleep(1.1)      # past the one-reload-a-second limit
    st, doc, _ = srv.scan(beta[0])
    check(st == 200 and doc["verdict"] == "genuine",
          "a brand added while sigild runs scans genuine (%s)"
          % (doc or {}).get("verdict"))
    check(reloads(srv) == n + 1 and "keyring_reload why=unknown_key "
          "added=1" in srv.logtext(), "one reload, logged")

    # ---- SIGHUP ----
    k3 = json.loads(env.sigil("key", "new", "--brand", "beta",
                              "--json").stdout)
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    check(srv.proc.poll() is None, "SIGHUP does not stop sigild")
    check("keyring_reload why=sighup added=1" in srv.logtext(),
          "SIGHUP reloaded: key %d added" % k3["key_id"])
    BOP = env.token("beta", "operator")
    b3, st, p3 = batch_codes(srv, BOP, "B1", 2)
    st, doc, _ = srv.scan(p3[0]) if p3 else (0, None, None)
    check(b3["key_id"] == k3["key_id"] and doc and
          doc["verdict"] == "genuine", "the SIGHUP-loaded key verifies")
    check(srv.stop() == 0, "sigild exits 0")
done()
