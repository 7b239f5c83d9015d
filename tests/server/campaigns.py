"""Campaigns that cannot be set up wrong (issue 19, item 4), against the
real sigild: unknown SKUs, batches (another brand's, a revoked one) and
territories refused with a 422 naming the field, and nothing written; a
PIN campaign only where `sigil mint --pin` made a PIN print file;
"overridden by #N" and partial overlaps computed by the server, and
checked against the campaign a scan is really offered."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

WINDOW = {"starts": "2026-01-01", "ends": "2099-12-31"}


def camp(name, **kw):
    body = {"name": name, "points": 10}
    body.update(WINDOW)
    body.update(kw)
    return body


with Env() as env:
    wine_batch, wine = env.setup_brand(sku="WINE", count=5)
    tea_batch, tea = env.setup_brand(sku="TEA", count=5, init=False)
    old_batch, _ = env.setup_brand(sku="OLD", count=5, init=False)
    env.sigil("batch", "revoke", "--batch", str(old_batch))
    # TEA's PIN file, made as the packaging line makes it.
    pin_csv = env.sigil("mint", "--batch", str(tea_batch), "--format", "csv",
                        "--pin", "--out", "-").stdout
    check(pin_csv.startswith("serial,url,pin\n"), "a PIN print file made")
    beta_batch, _ = env.setup_brand(sku="BETA", count=5, init=False)
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    A = env.token("acme", "admin")
    AN = env.token("acme", "analyst")
    B = env.token("beta", "admin")
    srv = env.start("--api-rate-limit", "0")
    # A batch of beta's own, to be refused in acme's campaigns.
    st, _ = srv.api("POST", "products", B, {"sku": "B1", "name": "b"})
    st, doc = srv.api("POST", "batches", B, {"sku": "B1", "count": 3})
    check(st == 201, "beta has a batch")
    beta_only = doc["id"]

    def campaigns(token=AN):
        st, doc = srv.api("GET", "campaigns", token)
        if st != 200:
            raise RuntimeError("campaigns %d" % st)
        return doc["campaigns"]

    # ---- refusals: 422 naming the field, nothing written ----
    bad = [
        (camp("typo", skus=["NOPE-1"]), "unknown_product", "skus[0]",
         "an unknown SKU"),
        (camp("typo 2", skus=["WINE", "NOPE-1"]), "unknown_product",
         "skus[1]", "the second SKU unknown"),
        (camp("beta's", skus=["B1"]), "unknown_product", "skus[0]",
         "another brand's SKU"),
        (camp("no batch", batches=[9999]), "unknown_batch", "batches[0]",
         "an unknown batch"),
        (camp("beta batch", batches=[wine_batch, beta_only]),
         "unknown_batch", "batches[1]", "another brand's batch"),
        (camp("revoked", batches=[old_batch]), "unknown_batch",
         "batches[0]", "a revoked batch"),
        (camp("far", skus=["WINE"], territory=99), "unknown_distributor",
         "territory", "an unknown territory"),
        (camp("pin wine", skus=["WINE"], require_pin=True), "no_pin_file",
         "require_pin", "a PIN campaign on a SKU without a PIN file"),
        (camp("pin batch", batches=[wine_batch], require_pin=True),
         "no_pin_file", "require_pin",
         "a PIN campaign on a batch without a PIN file"),
    ]
    for body, code, field, why in bad:
        st, doc = srv.api("POST", "campaigns", A, body)
        err = doc.get("error", {}) if isinstance(doc, dict) else {}
        check(st == 422 and err.get("code") == code and
              err.get("field") == field and field in err.get("message", ""),
              "%s: 422 %s naming %s (%s %s)" % (why, code, field, st, err))
    st, doc = srv.api("POST", "campaigns", A,
                      camp("pin wine", skus=["WINE"], require_pin=True))
    check("sigil mint" in doc["error"]["message"] and "--pin" in
          doc["error"]["message"], "the refusal says where PINs come from")
    check(campaigns() == [], "nothing was written")

    # ---- a PIN campaign where the PIN file exists ----
    st, pin_c = srv.api("POST", "campaigns", A,
                        camp("pin tea", skus=["TEA"], require_pin=True))
    check(st == 201 and pin_c["batches_without_pins"] == [] and
          pin_c["overridden_by"] is None and pin_c["overlaps"] == [],
          "PIN campaign on TEA (PIN file made): 201 (%s)" %
          {k: pin_c.get(k) for k in ("batches_without_pins",
                                     "overridden_by", "overlaps")})
    st, doc = srv.api("POST", "batches", A, {"sku": "TEA", "count": 3})
    new_tea = doc["id"]
    st, doc = srv.api("GET", "campaigns/%d" % pin_c["id"], AN)
    check(doc["batches_without_pins"] == [new_tea],
          "a later TEA batch without PINs is named (%s)" %
          doc["batches_without_pins"])
    st, doc = srv.api("POST", "campaigns", A,
                      camp("pin tea batch", batches=[tea_batch],
                           require_pin=True, paused=True))
    check(st == 201, "a PIN campaign on TEA's batch with its PIN file")

    # ---- overridden by #N ----
    st, c1 = srv.api("POST", "campaigns", A, camp("first", skus=["WINE"]))
    st, c2 = srv.api("POST", "campaigns", A, camp("second", skus=["WINE"]))
    check(st == 201 and c2["overridden_by"] == c1["id"] and
          c2["overlaps"] == [c1["id"]] and c1["overridden_by"] is None,
          "the same SKU again: overridden by #%d (%s)" %
          (c1["id"], c2["overridden_by"]))
    st, d, _ = srv.scan(wine[0])
    check(d["reward"] is not None and d["reward"]["campaign"] == c1["id"],
          "and a scan is offered #%d, as it says" % c1["id"])
    st, c3 = srv.api("POST", "campaigns", A,
                     camp("by batch", batches=[wine_batch]))
    check(c3["overridden_by"] == c1["id"],
          "a batch of that SKU: overridden by #%d too" % c1["id"])
    st, c4 = srv.api("POST", "campaigns", A,
                     camp("both", skus=["WINE", "TEA"]))
    check(c4["overridden_by"] is None and
          c4["overlaps"] == [pin_c["id"], c1["id"]],
          "WINE and TEA: partly taken by #%d and #%d, overridden by none "
          "(%s, %s)" % (pin_c["id"], c1["id"], c4["overridden_by"],
                        c4["overlaps"]))
    st, c5 = srv.api("POST", "campaigns", A,
                     camp("retailers", skus=["WINE"],
                          roles={"retailer": 5}))
    check(c5["overridden_by"] is None and c5["overlaps"] == [],
          "another role only: no overlap (%s)" % c5["overlaps"])
    st, c6 = srv.api("POST", "campaigns", A, camp(
        "later", skus=["WINE"], starts="2100-01-01", ends="2100-12-31"))
    check(c6["overridden_by"] is None and c6["overlaps"] == [],
          "after the first one ends: no overlap")
    listed = {c["id"]: c for c in campaigns()}
    check(listed[c2["id"]]["overridden_by"] == c1["id"] and
          listed[c4["id"]]["overlaps"] == [pin_c["id"], c1["id"]],
          "the list shows the same")

    # Pausing #1 makes #2 the one that applies.
    st, _ = srv.api("POST", "campaigns/%d/pause" % c1["id"], A)
    st, doc = srv.api("GET", "campaigns/%d" % c2["id"], AN)
    check(doc["overridden_by"] is None and doc["overlaps"] == [],
          "with #%d paused, #%d is no longer overridden" %
          (c1["id"], c2["id"]))
    st, doc = srv.api("GET", "campaigns/%d" % c3["id"], AN)
    check(doc["overridden_by"] == c2["id"],
          "and the batch campaign is overridden by #%d now" % c2["id"])
    st, d, _ = srv.scan(wine[1])
    check(d["reward"]["campaign"] == c2["id"],
          "a scan is offered #%d now" % c2["id"])

    # ---- an update is checked the same way ----
    before = srv.api("GET", "campaigns/%d" % c2["id"], AN)[1]
    st, doc = srv.api("POST", "campaigns/%d/update" % c2["id"], A,
                      camp("second", skus=["WINE", "NOPE"]))
    check(st == 422 and doc["error"]["field"] == "skus[1]",
          "an update to an unknown SKU: 422 skus[1]")
    after = srv.api("GET", "campaigns/%d" % c2["id"], AN)[1]
    check(after == before, "and the campaign is unchanged")

    # ---- roles and isolation ----
    st, _ = srv.api("POST", "campaigns", AN, camp("x", skus=["WINE"]))
    check(st == 403, "an analyst cannot create campaigns")
    st, doc = srv.api("GET", "campaigns", B)
    check(st == 200 and doc["campaigns"] == [], "beta sees none of them")
    st, doc = srv.api("POST", "campaigns", B, camp("b", skus=["WINE"]))
    check(st == 422 and doc["error"]["field"] == "skus[0]",
          "beta cannot name acme's SKU")
    n = len(campaigns())
    check(n == 8, "eight campaigns in all (%d)" % n)

done()
