"""docs/api.md kept true: its curl examples run against a real sigild.

The examples in docs/api.md form one session against a fresh data dir
(set up as its "Set-up" section says). This script replays them in
document order: each ```sh block holding one curl command followed by a
```http block (status line, headers, body) is one example. For each it
checks the status, that every documented header is sent, and that the
JSON body has exactly the documented fields, recursively (the first
element stands for a list), with equal values for the fields whose value
does not vary between runs (verdict, state, error code and message, ...).
Values that do differ between runs are mapped: codes by serial from the
documented codes.csv blocks, scan ids, tokens and device cookies from the
documented responses.

Then: every curl path in the doc is routed (never 404 "no such resource"
or 405), every route in src/face/route_api.c (the brand API's table) and
src/face/route.c (the top-level table) has a "#### METHOD /path" section
with an example, and every endpoint the doc lists as not
implemented really is not (so the list cannot go stale). Limits the doc
states but the replay cannot show (rate limits, body and header caps,
the bulk cap) are checked directly.

    python3 tests/server/api_doc.py            # check
    python3 tests/server/api_doc.py --rewrite  # refresh the doc's responses
"""
import json
import os
import re
import shlex
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import ROOT, Env, check, done, src_file  # noqa: E402

DOC = os.path.join(ROOT, "docs", "api.md")
BASE = "http://127.0.0.1:8080"
# Header names a documented response may show, in the order shown.
SHOWN_HEADERS = ["Content-Type", "Content-Disposition", "Link",
                 "GS1-EPCIS-Version", "GS1-CBV-Version", "Allow",
                 "WWW-Authenticate", "Retry-After", "Set-Cookie", "Location"]
# Fields whose documented value must equal the real one.
STABLE = {"verdict", "state", "first_scan", "scan_count", "code", "message",
          "role", "sku", "diversion", "bot", "gs1", "count", "children",
          "codes", "status", "type", "step", "signals", "suspicious"}
# Fields whose documented value names a run-specific value to map.
LEARN = {"scan_id", "token", "csrf"}
# The dashboard user of the Set-up section.
USER = ("ann@acme.example", "correct horse battery")
# Brand API routes that loyalty_api.c dispatches by hand (no table to read):
# (method, pattern). The check below keeps this list whole: every first
# segment loyalty_api_route() takes must appear here.
LOYALTY_ROUTES = [
    ("GET", "campaigns"), ("POST", "campaigns"), ("GET", "campaigns/*"),
    ("POST", "campaigns/*/update"), ("POST", "campaigns/*/pause"),
    ("POST", "campaigns/*/resume"),
    ("GET", "customers"), ("GET", "customers/*"),
    ("GET", "customers/*/export"), ("POST", "customers/*/erase"),
    ("POST", "customers/*/role"),
    ("GET", "catalog/items"), ("POST", "catalog/items"),
    ("GET", "settings"), ("POST", "settings")]

REWRITE = "--rewrite" in sys.argv


class Example:
    def __init__(self, heading, curl, resp, run, span):
        self.heading = heading      # "POST /api/v1/batches" or None
        self.curl = curl            # the command text, continuations joined
        self.resp = resp            # the ```http block's text
        self.run = run
        self.span = span            # (start, end) of resp in the doc


def parse_doc(text):
    """Examples, headings (method, path) and the not-implemented rows."""
    examples, headings = [], []
    heading = None
    block = re.compile(r"(<!-- not run[^>]*-->\s*)?```sh\n(.*?)```"
                       r"(\s*```http\n(.*?)```)?", re.S)
    head = re.compile(r"^#### (GET|POST|HEAD|DELETE|PATCH|PUT) (/\S*)", re.M)
    marks = [(m.start(), m) for m in head.finditer(text)]
    for m in block.finditer(text):
        for pos, h in marks:
            if pos < m.start():
                heading = (h.group(1), h.group(2))
        cmd = m.group(2).replace("\\\n", " ")
        for line in cmd.split("\n"):
            if line.strip().startswith("curl "):
                examples.append(Example(heading, line.strip(), m.group(4),
                                        m.group(1) is None and
                                        m.group(4) is not None,
                                        m.span(4)))
    headings = [(h.group(1), h.group(2)) for _, h in marks]
    notimpl = re.findall(r"^\| `(GET|POST) (/api/v1/\S+)` \| not implemented",
                         text, re.M)
    return examples, headings, notimpl


def parse_curl(cmd, subs):
    """(method, path, headers, body, user-agent) of a documented curl."""
    for k in sorted(subs, key=len, reverse=True):
        cmd = cmd.replace(k, subs[k])
    args = shlex.split(cmd)[1:]
    method, headers, body, ua, url = None, {}, None, "curl/7.88.1", None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-X", "--request"):
            method = args[i + 1]
            i += 1
        elif a in ("-H", "--header"):
            k, v = args[i + 1].split(":", 1)
            headers[k.strip()] = v.strip()
            i += 1
        elif a in ("-d", "--data", "--data-binary"):
            body = args[i + 1].encode()
            headers.setdefault("Content-Type",
                               "application/x-www-form-urlencoded")
            i += 1
        elif a == "--json":
            body = args[i + 1].encode()
            headers["Content-Type"] = "application/json"
            headers["Accept"] = "application/json"
            i += 1
        elif a in ("-A", "--user-agent"):
            ua = args[i + 1]
            i += 1
        elif a in ("-b", "--cookie"):
            headers["Cookie"] = args[i + 1]
            i += 1
        elif a in ("-I", "--head"):
            method = "HEAD"
        elif a.startswith("http"):
            url = a
        i += 1
    if method is None:
        method = "POST" if body is not None else "GET"
    headers.setdefault("Accept", "*/*")
    headers["User-Agent"] = ua
    path = re.sub(r"^https?://[^/]+", "", url)
    return method, path, headers, body


def parse_resp(text):
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip()] = v.strip()
    return status, hdrs, body


def shape_diff(doc, real, where="body"):
    """Differences between the documented and the real JSON."""
    out = []
    if isinstance(doc, dict):
        if not isinstance(real, dict):
            return ["%s: object documented, %s sent" % (where,
                                                       type(real).__name__)]
        for k in doc.keys() - real.keys():
            out.append("%s.%s documented but not sent" % (where, k))
        for k in real.keys() - doc.keys():
            out.append("%s.%s sent but not documented" % (where, k))
        for k in doc.keys() & real.keys():
            if k in STABLE and not isinstance(doc[k], (dict, list)) or \
                    k == "signals":
                if doc[k] != real[k]:
                    out.append("%s.%s: documented %r, sent %r" %
                               (where, k, doc[k], real[k]))
            else:
                out += shape_diff(doc[k], real[k], where + "." + k)
    elif isinstance(doc, list):
        if not isinstance(real, list):
            out.append("%s: array documented" % where)
        elif doc and real:
            out += shape_diff(doc[0], real[0], where + "[0]")
        elif doc and not real:
            out.append("%s: documented non-empty, sent empty" % where)
    elif doc is not None and real is not None and \
            type(doc) is not type(real) and \
            not (isinstance(doc, (int, float)) and
                 isinstance(real, (int, float)) and
                 not isinstance(doc, bool) and not isinstance(real, bool)):
        out.append("%s: documented %s, sent %s" % (where, type(doc).__name__,
                                                   type(real).__name__))
    return out


def learn(doc, real, subs):
    """Maps run-specific documented values (scan ids, tokens) to real."""
    if isinstance(doc, dict) and isinstance(real, dict):
        for k in doc.keys() & real.keys():
            if k in LEARN and isinstance(doc[k], str) and \
                    isinstance(real[k], str):
                subs[doc[k]] = real[k]
            else:
                learn(doc[k], real[k], subs)
    elif isinstance(doc, list) and isinstance(real, list):
        for d, r in zip(doc, real):
            learn(d, r, subs)


def learn_csv(doc_body, real_body, subs):
    """Documented code URLs (by serial) mapped to this run's."""
    real = {}
    for line in real_body.split("\n"):
        m = re.match(r"^(\d+),(\S+)$", line)
        if m:
            real[m.group(1)] = m.group(2)
    for line in doc_body.split("\n"):
        m = re.match(r"^(\d+),(\S+)$", line)
        if not m or m.group(1) not in real:
            continue
        d, r = m.group(2), real[m.group(1)]
        subs[d] = r
        subs[re.sub(r"^https?://[^/]+", "", d)] = \
            re.sub(r"^https?://[^/]+", "", r)
        if "?s=" in d:
            subs[d.split("?s=")[1]] = r.split("?s=")[1]
        else:
            subs[d.rsplit("/", 1)[1]] = r.rsplit("/", 1)[1]
            subs[d.rsplit("/", 1)[1].lower()] = r.rsplit("/", 1)[1].lower()


def cookie_of(hdrs, name="sg_d"):
    m = re.search(name + r"=([0-9a-f.]+)", hdrs.get("Set-Cookie", ""))
    return m.group(1) if m else None


def last_otp(data):
    """The newest one-time code in the demo outbox (what a phone got)."""
    code = None
    with open(os.path.join(data, "otp-outbox.log")) as f:
        for line in f:
            m = re.search(r" code=(\d{6})$", line.strip())
            if m:
                code = m.group(1)
    return code


def render(status, hdrs, raw, doc_body, rev):
    """A documented response from a real one, run values mapped back."""
    from http.client import responses
    lines = ["HTTP/1.1 %d %s" % (status, responses.get(status, ""))]
    for k in SHOWN_HEADERS:
        if k in hdrs:
            lines.append("%s: %s" % (k, hdrs[k]))
    try:
        body = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        body = doc_body.rstrip("\n")
    for k in sorted(rev, key=len, reverse=True):
        body = body.replace(k, rev[k])
        lines = [line.replace(k, rev[k]) for line in lines]
    return "\n".join(lines) + "\n\n" + body + "\n"


def routed(srv, method, path, headers, body):
    st, _, raw = srv.request(method, path, body=body, headers=headers)
    return not ((st == 404 and b"no such resource" in raw) or st == 405), st


def route_patterns():
    """(method, pattern, prefix?) of every route the server has."""
    out = []
    with open(src_file("route_api.c")) as f:
        api = f.read()
    table = api[api.index("api_routes[] = {"):]
    table = table[:table.index("};")]
    for m, p in re.findall(r"EVHTTP_REQ_(GET|POST|DELETE|PUT|PATCH),\s*\"([^\"]+)\"",
                           table):
        out.append((m, "/api/v1/" + p, False))
    with open(src_file("loyalty_api.c")) as f:
        loy = f.read()
    fn = loy[loy.index("\nloyalty_api_route("):]
    fn = fn[:fn.index("\n}\n")]
    for first in re.findall(r"strcmp\(s, \"([a-z_]+)\"\)", fn):
        check(any(p.split("/")[0] == first for _, p in LOYALTY_ROUTES),
              "loyalty_api.c's brand API path %s/ is in LOYALTY_ROUTES" % first)
    for m, p in LOYALTY_ROUTES:
        out.append((m, "/api/v1/" + p, False))
    with open(src_file("route.c")) as f:
        con = f.read()
    table = con[con.index("http_route routes[] = {"):]
    table = table[:table.index("};")]
    # Routes of test builds only (make FAULT=1) are not part of the API.
    table = re.sub(r"#ifdef SIGIL_FAULT_INJECTION.*?#endif", "", table,
                   flags=re.S)
    for p, flags in re.findall(r"\{\s*\"(/[^\"]*)\",\s*([A-Z_ |\n\t]+),",
                               table):
        if "HTTP_ROUTE_BRAND" in flags:
            continue        # the brand API's prefix: its table is above
        for m in ("GET", "POST"):
            if "HTTP_ROUTE_" + m in flags:
                out.append((m, p, "HTTP_ROUTE_PREFIX" in flags))
    return out


def heading_matches(route, heading):
    m, pattern, prefix = route
    hm, hpath = heading
    if hm != m:
        return False
    hpath = hpath.split("?")[0]
    if prefix:
        return hpath.startswith(pattern)
    a = pattern.strip("/").split("/")
    b = hpath.strip("/").split("/")

    def seg(x, y):      # {id} is any segment, {a|b} is a or b
        if x == "*" or x == y:
            return True
        m = re.match(r"^\{([^}]+)\}$", y)
        return m is not None and ("|" not in m.group(1) or
                                  x in m.group(1).split("|"))
    return len(a) == len(b) and all(seg(x, y) for x, y in zip(a, b))


def path_matches(heading, path):
    """Does a concrete request path belong to a heading's pattern?"""
    hpath = heading[1].split("?")[0]
    if hpath.endswith("}") and hpath.count("{") == 1 and \
            hpath.startswith(("/S/", "/s/", "/01/")):
        return path.startswith(hpath[:hpath.index("{")])
    rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/?]+", re.escape(hpath)) + \
        r"(\?.*)?$"
    return re.match(rx, path) is not None


def raw_request(port, data, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    buf = b""
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    finally:
        s.close()
    return buf


with open(DOC) as f:
    text = f.read()
examples, headings, notimpl = parse_doc(text)
check(len(examples) >= 30, "doc holds %d curl examples" % len(examples))

with Env() as env:
    env.sigil("init", "--brand", "acme", "--base-url", "https://ACME.EXAMPLE")
    env.sigil("brand", "add", "--brand", "beta", "--base-url",
              "https://BETA.EXAMPLE")
    env.sigil("user", "add", "--brand", "acme", "--email", USER[0],
              "--role", "admin", stdin=USER[1] + "\n")
    tokens = {"$ADMIN": env.token("acme", "admin"),
              "$OPERATOR": env.token("acme", "operator"),
              "$ANALYST": env.token("acme", "analyst"),
              "$BETA": env.token("beta", "admin")}
    # The doc's webhook names crm.acme.example: its deliveries may only
    # ask a resolver on loopback (nothing answers there), never the
    # host's.
    srv = env.start("--api-rate-limit", "0", "--webhook-dns", "127.0.0.1:9")
    subs = dict(tokens)
    subs[BASE] = "http://127.0.0.1:%d" % srv.port
    subs["127.0.0.1:8080"] = "127.0.0.1:%d" % srv.port
    rewrites = []
    for ex in examples:
        if not ex.run:
            continue
        if "$OTP" in ex.curl:
            subs["$OTP"] = last_otp(env.data)
        method, path, headers, body = parse_curl(ex.curl, subs)
        st, hdrs, raw = srv.request(method, path, body=body, headers=headers)
        dst, dhdrs, dbody = parse_resp(ex.resp)
        name = "%s %s" % (method, re.sub(r"\?.*", "?...", path)[:70])
        if ex.heading and not any(h[0] == method and path_matches(h, path)
                                  for h in [ex.heading] + headings):
            check(False, "%s (under '%s') is an example of a documented "
                  "endpoint" % (name, " ".join(ex.heading)))
        if "text/csv" in hdrs.get("Content-Type", ""):
            learn_csv(dbody, raw.decode(), subs)
        dc, rc = cookie_of(dhdrs), cookie_of(hdrs)
        if dc and rc:
            subs[dc] = rc
            subs[dc.split(".")[0]] = rc.split(".")[0]   # the device id
        dc, rc = cookie_of(dhdrs, "sg_s"), cookie_of(hdrs, "sg_s")
        if dc and rc:
            subs[dc] = rc                               # the session
        try:
            djson = json.loads(dbody)
        except ValueError:
            djson = None
        rjson = None
        if djson is not None:
            try:
                rjson = json.loads(raw)
                learn(djson, rjson, subs)
            except ValueError:
                pass
        if REWRITE:
            rev = {v: k for k, v in subs.items()
                   if k not in tokens and k != "$OTP"}
            rewrites.append((ex.span, render(st, hdrs, raw, dbody, rev)))
            continue
        check(st == dst, "%s: status %d (documented %d)" % (name, st, dst))
        missing = [k for k in dhdrs if k in SHOWN_HEADERS and k not in hdrs]
        check(not missing, "%s: documented headers sent (missing %s)"
              % (name, missing))
        if djson is not None:
            diff = shape_diff(djson, rjson) if rjson is not None else \
                ["JSON documented, %r sent" % raw[:60]]
            check(not diff, "%s: fields as documented %s" % (name, diff[:4]))
        else:
            first = dbody.strip().split("\n")[0]
            for k in sorted(subs, key=len, reverse=True):
                first = first.replace(k, subs[k])
            check(first in raw.decode("utf-8", "replace"),
                  "%s: body starts as documented (%r)" % (name, first[:40]))

    if REWRITE:
        for (a, b), new in sorted(rewrites, reverse=True):
            text = text[:a] + new + text[b:]
        with open(DOC, "w") as f:
            f.write(text)
        print("rewrote %d responses in %s" % (len(rewrites), DOC))
        sys.exit(0)

    # Every documented curl path is routed by the running server.
    seen = set()
    for ex in examples:
        if not ex.run:
            continue        # marked not run: e.g. test builds only
        if ex.resp and (b"no such resource" in ex.resp.encode() or
                        "method_not_allowed" in ex.resp):
            continue        # the examples of what is not routed
        method, path, headers, body = parse_curl(ex.curl, subs)
        key = (method, path.split("?")[0])
        if key in seen:
            continue
        seen.add(key)
        ok, st = routed(srv, method, path, headers,
                        body if body and len(body) < 65536 else None)
        check(ok, "documented %s %s is routed (%d)" % (method, key[1], st))

    # Every route the server has is documented with an example.
    for route in route_patterns():
        hs = [h for h in headings if heading_matches(route, h)]
        check(hs, "route %s %s has a section in docs/api.md" % route[:2])
        for h in hs:
            check(any(ex.heading == h for ex in examples),
                  "section %s %s has a curl example" % h)

    # What the doc says is not implemented is not.
    # (the table shrinks as endpoints land: products and shipments did)
    check(len(notimpl) >= 1, "doc lists %d not-implemented endpoints"
          % len(notimpl))
    for method, path in notimpl:
        st, doc = srv.api(method, path[len("/api/v1/"):].replace("{id}", "1"),
                          tokens["$ADMIN"], {} if method == "POST" else None)
        check((st == 404 and "no such resource" in json.dumps(doc)) or
              (st == 405 and "method_not_allowed" in json.dumps(doc)),
              "%s %s is not implemented, as documented (%d)"
              % (method, path, st))

    # Limits the replay cannot show.
    code = next(v for k, v in subs.items() if re.match(r"^/S/\w+$", v))
    many = {"parent": code[3:], "children": [code[3:]] * 100001}
    st, doc = srv.api("POST", "aggregations", tokens["$OPERATOR"], many)
    check(st == 413 and doc["error"]["code"] == "invalid",
          "100,001 codes in one call: 413 invalid")
    st, _, raw = srv.request("POST", "/api/v1/scans/%s/location" % ("0" * 32),
                             b"{" + b" " * (17 * 1024) + b"}")
    # Refused from its Content-Length, before a byte of it is buffered
    # (libevent's own 413 page; security review F3).
    check(st == 413, "consumer body over 16 KB: 413")
    big = raw_request(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
                      + b"a" * 9000 + b"\r\n\r\n")
    check(big == b"" or big.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431")),
          "header over 8 KB refused (%r)" % big[:20])
    big = raw_request(srv.port, b"POST /api/v1/products HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: %d\r\n\r\n" % (9 << 20))
    check(big == b"" or big.startswith(b"HTTP/1.1 413"),
          "brand body over 8 MiB refused (%r)" % big[:20])
    st, _, _ = srv.request("GET", "/S/" + "A" * 2100)
    check(st == 414, "URI over 2048 bytes: 414")
    srv.stop()

    srv = env.start("--rate-limit", "1", "--api-rate-limit", "1")
    sts = [srv.get("/healthz")[0] for _ in range(3)]
    check(sts == [200] * 3, "/healthz is not rate limited")
    sts = [srv.request("GET", code, headers={"Accept": "application/json"})
           for _ in range(4)]
    check([s[0] for s in sts[:2]] == [200, 200] and sts[3][0] == 429 and
          sts[3][1].get("Retry-After") == "1" and
          b'"rate_limited"' in sts[3][2],
          "consumer: burst of 2 x --rate-limit, then 429 with Retry-After")
    sts = [srv.api("GET", "batches", tokens["$ANALYST"]) for _ in range(4)]
    check([s[0] for s in sts] == [200, 200, 429, 429] and
          sts[3][1]["error"]["code"] == "rate_limited",
          "brand API: burst of 2 x --api-rate-limit per token, then 429")
    st, _ = srv.api("GET", "batches", tokens["$ADMIN"])
    check(st == 200, "another token has its own bucket")
done()
