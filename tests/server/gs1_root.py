"""The GS1 resolver's own URLs (review F24): without --base-url,
resolverRoot, the linkset anchor and hrefs and the traceability anchor
name the address sigild listens on, never the request's Host header
(which a shared cache in front would keep); with --base-url they name
that. Nothing a client sends in Host, X-Forwarded-Host or the absolute
request target reaches them."""
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import Env, check, done  # noqa: E402

EVIL = ["evil.example", "evil.example:80", "127.0.0.1:1", "[::1]:2",
        "ACME.EXAMPLE", ""]


def urls(doc):
    """Every string in doc that looks like a URL."""
    out = []
    if isinstance(doc, dict):
        for v in doc.values():
            out += urls(v)
    elif isinstance(doc, list):
        for v in doc:
            out += urls(v)
    elif isinstance(doc, str) and "://" in doc:
        out.append(doc)
    return out


def get(srv, path, host):
    """GET with exactly one Host header, the one given."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.putheader("X-Forwarded-Host", "evil.example")
        conn.putheader("X-Forwarded-Proto", "https")
        conn.putheader("Accept", "application/json")
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        try:
            return r.status, json.loads(body)
        except ValueError:
            return r.status, None
    finally:
        conn.close()


def answers(srv, path, host):
    got = []
    st, doc = get(srv, "/.well-known/gs1resolver", host)
    check(st == 200 and doc, "gs1resolver with Host %r: 200" % host)
    got.append((doc or {}).get("resolverRoot", ""))
    st, doc = get(srv, path + "&linkType=all", host)
    check(st == 200 and doc, "linkset with Host %r: 200" % host)
    got += urls(doc)
    st, doc = get(srv, path + "&linkType=gs1:traceability", host)
    check(st == 200 and doc, "traceability with Host %r: 200" % host)
    got.append((doc or {}).get("anchor", ""))
    return got


with Env() as env:
    _, paths = env.setup_brand("acme", sku="DL", gtin="4006381333931",
                               count=3)
    path = paths[0]
    check(path.startswith("/01/04006381333931/21/") and "?s=" in path,
          "a Digital Link code: " + path)

    srv = env.start()
    root = "http://127.0.0.1:%d" % srv.port
    for host in EVIL:
        got = answers(srv, path, host)
        gs1_links = [u for u in got if "gs1.org" not in u]
        check(len(gs1_links) >= 4 and all(u.startswith(root + "/") or
                                          u == root for u in gs1_links),
              "Host %r: every resolver URL starts with %s" % (host, root))
        check(not any("evil" in u for u in got),
              "Host %r: nothing of Host or X-Forwarded-Host" % host)
    # An absolute-form request target is not a Host either.
    st, doc = get(srv, "http://evil.example/.well-known/gs1resolver",
                  "evil.example")
    check(st != 200 or doc["resolverRoot"] == root,
          "absolute request target does not set the root")
    srv.stop()

    srv = env.start("--base-url", "https://id.acme.example/")
    for host in EVIL[:2]:
        got = answers(srv, path, host)
        gs1_links = [u for u in got if "gs1.org" not in u]
        check(all(u.startswith("https://id.acme.example") for u in
                  gs1_links) and got[0] == "https://id.acme.example",
              "--base-url: every resolver URL uses it (trailing / dropped)")
    srv.stop()
done()
