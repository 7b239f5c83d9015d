"""Webhook SSRF (review F8) against the real sigild.

By default a webhook may not point at loopback, private, link-local,
CGNAT, ULA, multicast, reserved or metadata addresses, in any spelling
(decimal, octal, hex, short IPv4; IPv4-mapped IPv6): literals are 422 at
subscription and change nothing; a name (localhost) is refused at
delivery on the address it resolves to, and the loopback listener never
sees a connection. --webhook-allow 127.0.0.0/8 opts loopback in: the
listener receives signed events; metadata stays refused. Refused,
closed, timing-out, 500 and redirecting targets all read the same to the
brand ("failed", nothing delivered); redirects are not followed.

The last part runs inside `unshare -n` (only loopback exists there; the
test adds 10.9.9.9 to lo) with a scripted DNS server on loopback: a name
resolving to 10.9.9.9 is refused at connect time, and with 10.9.9.9/32
allowed, a rebinding name (10.9.9.9 first, 127.0.0.1 afterwards) is only
ever connected to at 10.9.9.9. No traffic goes anywhere but loopback or
that namespace; names outside the namespace go to a dead loopback port.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import BIN, Env, check, done  # noqa: E402
from egresstest import DNS, Listener, free_port, signature_ok, \
    wait_for  # noqa: E402


def scan_some(srv, paths):
    for p in paths:
        st, _, _ = srv.scan(p)
        check(st == 200, "scan %s: 200" % p[:12])


def sub(srv, token, url):
    return srv.api("POST", "webhooks", token, {"url": url,
                                               "events": ["scan"]})


def delivery(srv, token, sid):
    st, doc = srv.api("GET", "webhooks/%d" % sid, token)
    return doc["delivery"] if st == 200 else {}


def tried(srv, token, sid):
    return delivery(srv, token, sid).get("attempts", 0) >= 1


REFUSED = ["127.0.0.1", "[::1]", "0.0.0.0", "[::]", "[::ffff:127.0.0.1]",
           "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1",
           "169.254.169.254", "[fe80::1]", "[fd00::1]", "[fd00:ec2::254]",
           "[64:ff9b::7f00:1]", "[2002:7f00:1::]", "224.0.0.1",
           "255.255.255.255", "198.18.0.1", "metadata.google.internal",
           "METADATA.GOOGLE.INTERNAL."]
DISGUISED = ["2130706433", "0177.0.0.1", "0x7f000001", "0x7f.1", "127.1",
             "127.0.1", "127.0.0.1.", "017700000001", "[1.2.3.4]"]


def default_policy(env, paths, A):
    dead_dns = "127.0.0.1:%d" % free_port()
    lst = Listener().start()
    closed = free_port()
    srv = env.start("--api-rate-limit", "0", "--webhook-dns", dead_dns)

    for host in REFUSED:
        for scheme in ("http", "https"):
            st, doc = sub(srv, A, "%s://%s:%d/hook" % (scheme, host,
                                                       lst.port))
            err = doc.get("error", {}) if isinstance(doc, dict) else {}
            check(st == 422 and err.get("code") == "refused_target" and
                  "--webhook-allow" in err.get("message", ""),
                  "%s://%s refused at subscription: 422 refused_target"
                  % (scheme, host))
    for host in DISGUISED:
        st, doc = sub(srv, A, "http://%s:%d/hook" % (host, lst.port))
        err = doc.get("error", {}) if isinstance(doc, dict) else {}
        check(st == 422 and err.get("code") == "invalid" and
              "dotted-quad" in err.get("message", ""),
              "disguised address %s: 422 invalid" % host)
    st, doc = sub(srv, A, "http://user:pw@example.com/hook")
    check(st == 422 and "user info" in doc["error"]["message"],
          "user info: 422 with a clear message")
    st, doc = srv.api("GET", "webhooks", A)
    check(st == 200 and doc["webhooks"] == [],
          "refused subscriptions changed nothing")

    # A name is judged on what it resolves to, at delivery.
    st, a = sub(srv, A, "http://localhost:%d/hook" % lst.port)
    check(st == 201, "localhost (a name) is accepted at subscription")
    st, b = sub(srv, A, "http://localhost:%d/hook" % closed)
    check(st == 201, "localhost on a closed port too")
    scan_some(srv, paths[:3])
    ok = wait_for(lambda: tried(srv, A, a["id"]) and
                  tried(srv, A, b["id"]), 15)
    check(ok, "both localhost webhooks were tried")
    time.sleep(0.5)
    check(lst.count() == 0 and lst.connections == 0,
          "the loopback listener never saw a connection (%d)"
          % lst.connections)
    da, db = delivery(srv, A, a["id"]), delivery(srv, A, b["id"])
    check(da["last_status"] == "failed" and db["last_status"] == "failed"
          and da["delivered"] == 0 and db["delivered"] == 0,
          "open and closed loopback ports read the same: failed, none "
          "delivered")
    check(set(da) == set(db), "same fields either way")
    log = srv.logtext()
    check("egress_refused host=localhost addr=127.0.0.1" in log,
          "the log says why (for the operator)")
    for s in (a, b):
        st, _ = srv.api("DELETE", "webhooks/%d" % s["id"], A)
        check(st == 200, "deleted")
    srv.stop()
    lst.stop()

    # Bad --webhook-allow values stop sigild with exit 2.
    for bad in ["10.0.0.1/8", "localhost", "10/8", "127.0.0.0/33",
                "0177.0.0.0/8", ""]:
        r = subprocess.run([os.path.join(BIN, "sigild"), "--data", env.data,
                            "--listen", "127.0.0.1:0", "--webhook-allow",
                            bad], capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and "--webhook-allow" in r.stderr,
              "--webhook-allow %r: exit 2 with a message" % bad)
    r = subprocess.run([os.path.join(BIN, "sigild"), "--help"],
                       capture_output=True, text=True, timeout=10)
    check("--webhook-allow CIDR" in r.stdout and "--webhook-dns" in r.stdout,
          "sigild --help documents the flags")


def allowed_loopback(env, paths, A):
    dead_dns = "127.0.0.1:%d" % free_port()
    target = Listener().start()
    ok = Listener().start()
    five = Listener(mode="500").start()
    redirect = Listener(mode="302", location="http://127.0.0.1:%d/x"
                        % target.port).start()
    hang = Listener(mode="hang").start()
    closed = free_port()
    srv = env.start("--api-rate-limit", "0", "--webhook-dns", dead_dns,
                    "--webhook-allow", "127.0.0.0/8",
                    "--webhook-allow", "169.254.0.0/16")
    for url in ["http://169.254.169.254/latest/meta-data/",
                "http://[::1]:%d/" % ok.port,
                "http://[::ffff:169.254.169.254]/",
                "http://10.0.0.1:%d/" % ok.port]:
        st, doc = sub(srv, A, url)
        check(st == 422 and doc["error"]["code"] == "refused_target",
              "%s still refused (metadata always; outside the allowed "
              "ranges)" % url)
    subs = {}
    for name, port in [("ok", ok.port), ("500", five.port),
                       ("302", redirect.port), ("hang", hang.port),
                       ("closed", closed)]:
        st, s = sub(srv, A, "http://127.0.0.1:%d/hook" % port)
        check(st == 201, "allowed loopback target %s: 201" % name)
        subs[name] = s
    ok.secret = subs["ok"]["secret"]
    scan_some(srv, paths[3:6])
    got = wait_for(lambda: len(ok.events()) >= 3, 15)
    check(got and ok.bad_signatures == 0,
          "the allowed loopback listener received the 3 scan events, "
          "signed")
    wait_for(lambda: all(tried(srv, A, subs[k]["id"]) for k in
                         ("500", "302", "hang", "closed")), 20)
    docs = {k: delivery(srv, A, subs[k]["id"]) for k in subs}
    check(docs["ok"]["last_status"] == "delivered" and
          docs["ok"]["delivered"] == 3, "ok: delivered 3")
    fails = {k: (d.get("last_status"), d.get("delivered"))
             for k, d in docs.items() if k != "ok"}
    check(set(fails.values()) == {("failed", 0)},
          "500, redirect, timeout and closed port all read 'failed', "
          "nothing delivered: %r" % fails)
    check(all(set(d) == set(docs["ok"]) for d in docs.values()),
          "no extra field tells them apart")
    check(hang.connections >= 1 and five.count() >= 1 and
          redirect.count() >= 1, "each failing target was really tried")
    check(target.count() == 0, "the redirect was not followed")
    srv.stop()
    for x in (target, ok, five, redirect, hang):
        x.stop()


def netns_part():
    """Runs inside `unshare -n`: only loopback exists."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "10.9.9.9/32", "dev", "lo"],
                   check=True)
    dns = DNS({"private.test": lambda n: "10.9.9.9",
               "rebind.test": lambda n: "10.9.9.9" if n == 1 else
               "127.0.0.1"})
    lst = Listener(host="0.0.0.0").start()
    with Env() as env:
        _, paths = env.setup_brand("acme", count=10)
        A = env.token("acme", "admin")

        srv = env.start("--api-rate-limit", "0", "--webhook-dns", dns.addr)
        st, s = sub(srv, A, "http://10.9.9.9:%d/" % lst.port)
        check(st == 422, "literal 10.9.9.9: 422")
        st, s = sub(srv, A, "http://private.test:%d/hook" % lst.port)
        check(st == 201, "private.test (a name) accepted at subscription")
        scan_some(srv, paths[:2])
        check(wait_for(lambda: tried(srv, A, s["id"]), 15),
              "private.test was tried")
        time.sleep(0.3)
        check(dns.a_queries("private.test") >= 1,
              "sigild asked the test's resolver")
        check(lst.connections == 0, "10.9.9.9 never saw a connection")
        check("egress_refused host=private.test addr=10.9.9.9" in
              srv.logtext(), "refused at connect time on the resolved "
              "address")
        check(delivery(srv, A, s["id"])["last_status"] == "failed",
              "the brand sees only 'failed'")
        srv.api("DELETE", "webhooks/%d" % s["id"], A)
        srv.stop()

        srv = env.start("--api-rate-limit", "0", "--webhook-dns", dns.addr,
                        "--webhook-allow", "10.9.9.9/32")
        st, s = sub(srv, A, "http://rebind.test:%d/hook" % lst.port)
        check(st == 201, "rebind.test accepted")
        scan_some(srv, paths[2:3])
        check(wait_for(lambda: lst.count() >= 1, 15),
              "first delivery reached 10.9.9.9 (allowed)")
        check(dns.a_queries("rebind.test") == 1,
              "one resolution for check and connect")
        scan_some(srv, paths[3:5])
        check(wait_for(lambda: dns.a_queries("rebind.test") >= 3, 15),
              "later deliveries resolved again (to 127.0.0.1)")
        time.sleep(0.5)
        locals_ = {r[0] for r in lst.requests}
        check(locals_ == {"10.9.9.9"},
              "every connection went to 10.9.9.9, none to 127.0.0.1: %r"
              % locals_)
        check("egress_refused host=rebind.test addr=127.0.0.1" in
              srv.logtext(), "the rebound answer was refused")
        d = delivery(srv, A, s["id"])
        check(d["last_status"] == "failed" and d["delivered"] == 1,
              "one event delivered, the rebound tries failed")
        srv.stop()
    lst.stop()
    dns.close()


if len(sys.argv) > 1 and sys.argv[1] == "netns":
    netns_part()
    done()

with Env() as env:
    _, paths = env.setup_brand("acme", count=12)
    A = env.token("acme", "admin")
    default_policy(env, paths, A)
    allowed_loopback(env, paths, A)

r = subprocess.run(["unshare", "-n", "--", sys.executable,
                    os.path.abspath(__file__), "netns"],
                   capture_output=True, text=True, timeout=180)
print(r.stdout, end="")
if r.returncode != 0 and "failed" not in r.stdout:
    print(r.stderr[-2000:])
check(r.returncode == 0, "namespace part (DNS names, rebinding) passed")
done()
