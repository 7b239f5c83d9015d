"""The brand dashboard at /admin/ against a real sigild: static files
served safely, login (scrypt, slow-down without lockout, rate limit), session cookie and
CSRF on the brand API, roles (an analyst changes nothing), brand
isolation (404), the stats endpoints, `sigil user add`; then the pages in
headless Chromium (tests/browser/dashboard.js): log in, create a
campaign, scan through the consumer page, see it in the overview, trace
the code, every page (screenshots in build/test-artifacts/), log out."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done  # noqa: E402

ART = os.path.join(ROOT, "build", "test-artifacts")
os.makedirs(ART, exist_ok=True)
BROWSER = os.path.join(ROOT, "tests", "browser", "dashboard.js")
HOSTILE = "<img src=x onerror=alert(1)>"
PW = "correct horse battery staple"


def user_add(env, brand, email, role, password=PW, check_rc=True):
    return env.sigil("user", "add", "--brand", brand, "--email", email,
                     "--role", role, check=check_rc, stdin=password + "\n")


CLIENTS = iter(range(1, 1000000))


def login(srv, email, password=PW, headers=None):
    """(status, body, cookie, headers); each call from its own address
    (sigild trusts this test's X-Forwarded-For) unless headers say."""
    n = next(CLIENTS)
    h = {"Content-Type": "application/json",
         "X-Forwarded-For": "10.%d.%d.%d" % (n >> 16, (n >> 8) & 255,
                                             n & 255)}
    h.update(headers or {})
    st, hdrs, raw = srv.request("POST", "/admin/login",
                                body={"email": email, "password": password},
                                headers=h)
    m = re.search(r"sg_s=([0-9a-f]{64})", hdrs.get("Set-Cookie", ""))
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    return st, doc, (m.group(1) if m else None), hdrs


def session(srv, cookie, csrf=None):
    """A brand API caller authenticated by session cookie."""
    def call(method, path, body=None, headers=None):
        h = {"Cookie": "sg_s=" + cookie}
        if csrf:
            h["X-CSRF-Token"] = csrf
        h.update(headers or {})
        return srv.api(method, path, body=body, headers=h)
    return call


with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("product", "add", "--brand", "acme", "--sku", "X1", "--name",
              HOSTILE)
    b = json.loads(env.sigil("batch", "new", "--brand", "acme", "--sku", "X1",
                             "--count", "10", "--json").stdout)
    env.sigil("batch", "activate", "--batch", str(b["id"]))
    urls = env.sigil("mint", "--batch", str(b["id"]), "--format", "txt",
                     "--out", "-").stdout.split()
    paths = [re.sub(r"^https?://[^/]+", "", u) for u in urls]
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    bid_b, paths_b = env.setup_brand("beta", "https://BETA.EXAMPLE", sku="B1",
                                     count=5, init=False)

    # ---- sigil user add ----
    r = user_add(env, "acme", "short@acme.test", "admin", "too short",
                 check_rc=False)
    check(r.returncode == 2 and "password" in r.stderr,
          "user add refuses a password under 10 characters")
    r = env.sigil("user", "add", "--brand", "acme", "--email", "x@acme.test",
                  "--role", "admin", "--password", PW, check=False)
    check(r.returncode == 2, "no --password flag: never on the command line")
    r = user_add(env, "acme", "no-at-sign", "admin", check_rc=False)
    check(r.returncode == 2, "user add refuses an email without '@'")
    r = user_add(env, "acme", "x@acme.test", "owner", check_rc=False)
    check(r.returncode == 2, "user add refuses an unknown role")
    check(user_add(env, "acme", "Admin@ACME.test", "admin").returncode == 0,
          "user add: admin of acme")
    r = user_add(env, "acme", "admin@acme.test", "analyst", check_rc=False)
    check(r.returncode == 2 and "exists" in r.stderr,
          "the same email (any case) cannot be added twice")
    pwfile = os.path.join(env.dir, "pw")
    with open(pwfile, "w") as f:
        f.write(PW + "\n")
    r = env.sigil("user", "add", "--brand", "acme", "--email",
                  "ana@acme.test", "--role", "analyst", "--password-file",
                  pwfile)
    check(r.returncode == 0, "user add --password-file: analyst of acme")
    user_add(env, "acme", "op@acme.test", "operator")
    user_add(env, "beta", "admin@beta.test", "admin")
    user_add(env, "acme", "lock@acme.test", "admin")
    check(PW not in open(os.path.join(env.data, "data.mdb"), "rb").read()
          .decode("latin-1"), "the password is not stored in the clear")

    srv = env.start("--trusted-proxy", "127.0.0.1/32")
    base = "http://127.0.0.1:%d" % srv.port

    # ---- static files ----
    st, h, body = srv.get("/admin/")
    csp = h.get("Content-Security-Policy", "")
    check(st == 200 and h.get("Content-Type", "").startswith("text/html"),
          "/admin/ serves the page as HTML")
    check("default-src 'self'" in csp and "frame-ancestors 'none'" in csp,
          "CSP default-src 'self', no framing: " + csp)
    check(h.get("Cache-Control") == "no-cache" and
          h.get("X-Content-Type-Options") == "nosniff",
          "Cache-Control no-cache and nosniff on static files")
    st, h, _ = srv.get("/admin/app.js")
    check(st == 200 and h.get("Content-Type", "").startswith(
        "text/javascript"), "app.js as JavaScript")
    st, h, _ = srv.get("/admin/app.css")
    check(st == 200 and h.get("Content-Type", "").startswith("text/css"),
          "app.css as CSS")
    st, h, _ = srv.get("/admin")
    check(st == 308 and h.get("Location") == "/admin/",
          "/admin redirects to /admin/")
    html = body.decode()
    check("http://" not in html and "https://" not in html and
          "//" not in re.sub(r"<!--.*?-->", "", html).replace("://", ""),
          "the page names no other origin")
    for bad in ["/admin/../sigild.log", "/admin/%2e%2e/landing.html",
                "/admin/..%2flanding.html", "/admin/%2e%2e%2fdata%2fdata.mdb",
                "/admin/x/../../landing.html", "/admin/APP.JS",
                "/admin/app.js%00.css", "/admin/.htaccess",
                "/admin/app.js.bak", "/admin/%2fetc%2fpasswd",
                "/admin/index.html/", "/adminx", "/admin/sub/app.js"]:
        st, _, _ = srv.get(bad)
        check(st in (400, 404), "no file for %s (%d)" % (bad, st))

    # ---- login ----
    st, doc, cookie, h = login(srv, "admin@acme.test", "wrong password!!")
    check(st == 401 and cookie is None and doc["error"]["code"] ==
          "bad_credentials", "a wrong password: 401, no cookie")
    st, doc, cookie, h = login(srv, "nobody@acme.test")
    check(st == 401 and doc["error"]["code"] == "bad_credentials",
          "an unknown email answers exactly like a wrong password")
    st, _, _ = srv.request("POST", "/admin/login",
                           body=b"email=admin%40acme.test&password=x",
                           headers={"Content-Type":
                                    "application/x-www-form-urlencoded"})
    check(st == 415, "a form post (what another site can send) is refused")
    st, _, _ = srv.request("POST", "/admin/login", body=b"{\"email\":",
                           headers={"Content-Type": "application/json"})
    check(st == 400, "bad JSON: 400")
    st, doc, cookie, h = login(srv, "ADMIN@acme.test")
    check(st == 200 and cookie is not None, "login with the right password "
          "(email in any case)")
    sc = h.get("Set-Cookie", "")
    check("HttpOnly" in sc and "SameSite=Strict" in sc and "Path=/" in sc and
          "Max-Age=43200" in sc and "Secure" not in sc,
          "cookie: HttpOnly, SameSite=Strict, Path=/, 12 hours (no Secure "
          "without TLS): " + sc)
    check(doc["user"]["role"] == "admin" and doc["brand"]["name"] == "acme" and
          re.fullmatch(r"[0-9a-f]{64}", doc["csrf"]) is not None,
          "login answers user, brand and a CSRF token")
    csrf = doc["csrf"]
    st, _, raw = srv.request("GET", "/admin/me",
                             headers={"Cookie": "sg_s=" + cookie})
    check(st == 200 and json.loads(raw)["csrf"] == csrf,
          "/admin/me gives the same CSRF token")
    for forged in ["0" * 64, cookie[:-1] + ("0" if cookie[-1] != "0" else
                                            "1"), "zz", cookie + "00"]:
        st, _, _ = srv.request("GET", "/admin/me",
                               headers={"Cookie": "sg_s=" + forged})
        check(st == 401, "forged cookie %s...: 401" % forged[:8])
    check(srv.api("GET", "batches", headers={"Cookie": "sg_s=" + "1" * 64})[0]
          == 401, "a forged cookie on the API: 401")
    st, _, raw = srv.request("GET", "/admin/me")
    check(st == 401, "/admin/me without a session: 401")

    admin = session(srv, cookie, csrf)
    nocsrf = session(srv, cookie)
    st, d = admin("GET", "batches")
    check(st == 200 and len(d["batches"]) == 1, "the session reads the brand "
          "API: acme's one batch")

    # ---- CSRF ----
    st, d = nocsrf("POST", "batches", body={"sku": "X1", "count": 5},
                   headers={"Origin": "https://evil.example"})
    check(st == 403 and d["error"]["code"] == "csrf",
          "a cross-site POST without the CSRF token: 403 csrf")
    st, d = nocsrf("POST", "batches", body={"sku": "X1", "count": 5},
                   headers={"X-CSRF-Token": "0" * 64})
    check(st == 403, "a wrong CSRF token: 403")
    st, d = nocsrf("POST", "batches", body={"sku": "X1", "count": 5},
                   headers={"X-CSRF-Token": csrf[:-2]})
    check(st == 403, "a truncated CSRF token: 403")
    check(len(admin("GET", "batches")[1]["batches"]) == 1,
          "refused changes changed nothing")
    st, _, _ = srv.request("POST", "/admin/logout",
                           headers={"Cookie": "sg_s=" + cookie,
                                    "Content-Type": "application/json"},
                           body={})
    check(st == 403, "logout without the CSRF token: 403 (a link cannot log "
          "you out)")
    st, d = admin("POST", "batches", body={"sku": "X1", "count": 5})
    check(st == 201, "with the CSRF token the admin creates a batch")
    new_batch = d["id"]

    # ---- roles: an analyst changes nothing ----
    st, doc, acookie, _ = login(srv, "ana@acme.test")
    ana = session(srv, acookie, doc["csrf"])
    check(ana("GET", "batches")[0] == 200 and
          ana("GET", "stats/overview")[0] == 200, "the analyst reads")
    changes = [
        ("POST", "products", {"sku": "Z9", "name": "z"}),
        ("POST", "batches", {"sku": "X1", "count": 1}),
        ("POST", "batches/%d/activate" % new_batch, {}),
        ("POST", "batches/%d/revoke" % b["id"], {}),
        ("GET", "batches/%d/codes.csv" % b["id"], None),
        ("POST", "distributors", {"name": "d", "territory": {
            "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1],
                                                [0, 0]]]}}),
        ("POST", "shipments", {"distributor": 1, "codes": [paths[0]]}),
        ("POST", "aggregations", {"parent": paths[0],
                                  "children": [paths[1]]}),
        ("POST", "tokens", {"role": "admin"}),
        ("POST", "campaigns", {"name": "c", "skus": ["X1"],
                               "starts": "2026-01-01",
                               "ends": "2027-01-01", "points": 1}),
        ("POST", "customers/1/erase", {}),
        ("POST", "settings", {"tiers": [{"name": "a", "min": 0}]}),
    ]
    for method, path, body in changes:
        st, d = ana(method, path, body=body)
        # loyalty.c looks the customer up before the role: 404 for none.
        check(st in (403, 404) if path.startswith("customers/") else
              st == 403, "analyst %s %s: %d" % (method, path, st))
    check(admin("GET", "batches/%d" % new_batch)[1]["state"] == "inactive" and
          admin("GET", "batches/%d" % b["id"])[1]["state"] == "active",
          "the analyst's attempts changed nothing")
    st, doc, ocookie, _ = login(srv, "op@acme.test")
    op = session(srv, ocookie, doc["csrf"])
    check(op("POST", "batches/%d/activate" % new_batch, {})[0] == 200,
          "an operator activates a batch")
    check(op("POST", "tokens", {"role": "admin"})[0] == 403,
          "an operator may not mint admin tokens")

    # ---- brand isolation ----
    st, doc, bcookie, _ = login(srv, "admin@beta.test")
    beta_csrf = doc["csrf"]
    beta = session(srv, bcookie, beta_csrf)
    check(beta("GET", "batches/%d" % b["id"])[0] == 404,
          "beta's admin: acme's batch is 404")
    check(beta("GET", "codes/" + paths[0].split("/")[-1])[0] == 404,
          "beta's admin: acme's code is 404")
    check(beta("POST", "batches/%d/revoke" % b["id"], {})[0] == 404,
          "beta's admin cannot revoke acme's batch (404)")
    check(beta("GET", "products/X1")[0] == 404,
          "beta's admin: acme's product is 404")
    st, d = beta("GET", "batches")
    check(st == 200 and [x["id"] for x in d["batches"]] == [bid_b],
          "beta's batch list holds only beta's batch")

    # ---- stats ----
    located = None
    for p in paths[:3]:
        st, d, dev = srv.scan(p)
        if located is None:
            located = (d["scan_id"], dev)
    srv.scan(paths[0])
    st, _, _ = srv.request("POST", "/api/v1/scans/%s/location" % located[0],
                           body={"lat": 31.23, "lng": 121.47,
                                 "accuracy": 30},
                           headers={"Cookie": "sg_d=" + located[1]})
    check(st in (200, 201, 204), "a consented location (Shanghai): %d" % st)
    srv.scan(paths_b[0])
    st, d = admin("GET", "stats/overview?bucket=hour")
    check(st == 200 and d["totals"]["scans"] == 4 and
          d["totals"]["first_scans"] == 3 and len(d["series"]) == 48,
          "overview by hour: 4 scans, 3 first scans, 48 buckets (%s)" %
          (d.get("totals"),))
    st, d = admin("GET", "stats/overview")
    check(st == 200 and len(d["series"]) == 30 and d["totals"]["scans"] == 4,
          "overview by day: 30 days")
    st, d = beta("GET", "stats/overview")
    check(d["totals"]["scans"] == 1, "beta's overview counts beta's scan only")
    st, d = admin("GET", "stats/products")
    check(st == 200 and d["products"][0]["name"] == HOSTILE and
          d["products"][0]["scans"] == 4,
          "stats/products: the product by name, 4 scans")
    st, d = admin("GET", "stats/batches")
    check(st == 200 and d["batches"][0]["batch"] == b["id"] and
          d["batches"][0]["scans"] == 4, "stats/batches: acme's batch")
    st, d = beta("GET", "stats/batches")
    check([x["batch"] for x in d["batches"]] == [bid_b],
          "beta's stats/batches: only beta's batch")
    st, d = admin("GET", "stats/regions")
    check(st == 200 and [(r["lat"], r["lng"], r["scans"]) for r in
                         d["regions"]] == [(31, 121, 1)],
          "stats/regions: the located scan in the 31N 121E cell (%s)" %
          d.get("regions"))
    for what in ["campaigns", "regions"]:
        st, d = admin("GET", "stats/" + what)
        check(st == 200 and isinstance(d.get(what), list),
              "stats/%s answers" % what)
    for q in ["bucket=minute", "from=yesterday", "tz=99",
              "from=2026-01-01&to=2025-01-01", "bucket=hour&from=2020-01-01"
              "&to=2021-01-01", "from=1990-01-01&to=2026-01-01"]:
        st, d = admin("GET", "stats/overview?" + q)
        check(st == 400, "stats/overview?%s: 400" % q)
    check(admin("GET", "stats/nothing")[0] == 404, "stats/nothing: 404")
    check(srv.api("GET", "stats/overview")[0] == 401,
          "stats without a session or token: 401")
    tok = env.token("acme", "analyst")
    check(srv.api("GET", "stats/overview", token=tok)[0] == 200,
          "stats with a bearer token too")

    # ---- no lockout: 10 wrong passwords slow strangers only (F14) ----
    home = {"X-Forwarded-For": "10.250.0.1"}
    st, _, _, _ = login(srv, "lock@acme.test", headers=home)
    check(st == 200, "the owner signs in from home once")
    for i in range(10):
        login(srv, "lock@acme.test", "wrong password %d" % i)
    st, doc, c2, h = login(srv, "lock@acme.test")
    check(st == 429 and c2 is None and "Retry-After" in h,
          "after 10 wrong passwords from elsewhere a new address waits: "
          "429 with Retry-After (%d)" % st)
    slow_doc = doc
    st, doc, c2, h = login(srv, "lock@acme.test", headers=home)
    check(st == 200 and c2 is not None,
          "... but the owner, from an address that signed in before, "
          "gets in (%d)" % st)
    for i in range(10):
        login(srv, "ghost@acme.test", "wrong password %d" % i)
    st2, doc2, _, h2 = login(srv, "ghost@acme.test")
    check(st2 == 429 and "Retry-After" in h2 and doc2 == slow_doc,
          "an email that does not exist answers exactly the same (%d)" % st2)

    # ---- logout ----
    st, _, raw = srv.request("POST", "/admin/logout",
                             headers={"Cookie": "sg_s=" + bcookie,
                                      "X-CSRF-Token": beta_csrf,
                                      "Content-Type": "application/json"},
                             body={})
    check(st == 200, "logout with the CSRF token")
    check(beta("GET", "batches")[0] == 401, "the session is gone after logout")

    # ---- the pages in Chromium ----
    # A cloned code (seven devices on seven networks; the product allows
    # five) raises alerts for the alerts page and its bulk revoke.
    for i in range(7):
        srv.scan(paths[7], source="127.0.%d.1" % (60 + i))
    st, d = admin("GET", "alerts?type=too_many_scanners")
    check(st == 200 and len(d["alerts"]) >= 1 and
          d["alerts"][0]["serial"] == 8, "a clone alert for serial 8")
    r = subprocess.run(["node", BROWSER, base, "admin@acme.test", "-",
                        paths[5], ART, "ana@acme.test"], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ,
                                             SIGIL_TEST_PASSWORD=PW,
                                             SIGIL_TEST_CLONE_CODE=paths[7]))
    print(r.stdout)
    print(r.stderr[-3000:])
    lines = r.stdout.strip().split("\n")
    try:
        facts = json.loads(lines[-1])
    except ValueError:
        facts = {"failures": -1}
    check(r.returncode == 0 and facts.get("failures") == 0,
          "browser: every step passed")
    check(facts.get("dialogs") == [], "browser: no dialog fired")
    check(not facts.get("console_errors"), "browser: no console errors (%s)" %
          facts.get("console_errors"))
    st, d = admin("GET", "codes/" + paths[7].split("/")[-1])
    check(st == 200 and d["suspicious"] is False and
          [(n["action"], n["reason"], "user" in n["by"])
           for n in d["notes"]] == [("clear", "shop staff scanned it", True)],
          "the dashboard's clear is in the code's notes, by the user (%r)" %
          (d.get("notes"),))
    check(len(facts.get("shots", [])) >= 10 and all(
        os.path.getsize(f) > 5000 for f in facts.get("shots", [])),
        "browser: screenshots of every page kept in build/test-artifacts/")

    # The browser tests' watch for the server's English on zh-CN pages
    # (tests/browser/lib.js) fails when a page shows it, not otherwise.
    r = subprocess.run(["node", os.path.join(ROOT, "tests", "browser",
                                              "lib_selftest.js"), ART],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and '"zh":1' in r.stdout and '"en":0' in r.stdout,
          "the zh-CN English watch trips on a page that shows the server's "
          "message, and only in zh-CN (%s)" % r.stdout.strip()[-80:])

    # ---- login rate limit per address (last: it blocks this address) ----
    codes = [login(srv, "nobody@acme.test", "x" * 12, headers={
        "X-Forwarded-For": "192.0.2.1"})[0] for _ in range(15)]
    check(429 in codes, "login is rate-limited per address: %s" % codes)
done()
