"""sigild --wal (src/store/wal.c) end to end, against the real binaries:

  - scans are acknowledged and counted as without the log, and /metrics
    shows the log at work;
  - a second sigild --wal on the same data dir is refused (exit 2);
  - the sigil CLI writes beside the running server (a new API token), the
    server is killed with SIGKILL, and the restart applies the log: every
    scan answered 200 is in `sigil export scans`, per-code counts match,
    and the token made beside the server works;
  - a clean stop (SIGTERM) leaves nothing to apply at the next start;
  - a data.mdb replaced after a crash is refused (exit 2, nothing
    written), and opens as it is once the log is moved aside;
  - `sigil stats` shows the log owned while sigild runs, and after a
    kill -9 that its own open recovered it;
  - with $FAULT_BIN (a FAULT=1 build): a failed log write answers 503 and
    records nothing, a failed checkpoint does not lose acknowledged scans,
    and the next scans succeed without a restart.

The log is sigild's default (--wal asks for it explicitly, --no-wal turns
it off), so crash.py, crash_claims.py and powercut.py exercise it with
many kills and cuts under mixed load; make check runs the kill -9 ones
again with WAL=0 (--no-wal). This file checks what is particular to the
log."""
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import PHONE_UA, Env, check, done  # noqa: E402

UA = {"User-Agent": PHONE_UA}


def metric(srv, name):
    _, _, body = srv.get("/metrics")
    m = re.search(r"^%s (\d+)" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if m else None


def wal_state(data):
    """The newest header slot of DATA/wal: "clean", "active" or None
    (layout in src/store/wal.c: two slots at 4096 and 4096 + 20480, magic,
    seq at +16, state at +24)."""
    with open(os.path.join(data, "wal"), "rb") as f:
        b = f.read()
    best = None
    for off in (4096, 4096 + 20480):
        s = b[off:off + 56]
        if len(s) == 56 and s[:8] == b"SIGILWAL":
            seq, state = struct.unpack_from("<QI", s, 16)
            if best is None or seq > best[0]:
                best = (seq, state)
    return None if best is None else {1: "clean", 2: "active"}.get(best[1])


def listening_lines(env):
    with open(os.path.join(env.dir, "sigild.log"), "rb") as f:
        return [ln for ln in f.read().decode("utf-8", "replace").splitlines()
                if " listening " in ln]


def start_listening(env, *args):
    """Starts sigild; returns it and its own "listening" line (the port
    accepts a moment before that line is written)."""
    before = len(listening_lines(env))
    srv = env.start(*args)
    deadline = time.time() + 5
    while time.time() < deadline:
        lines = listening_lines(env)
        if len(lines) > before:
            return srv, lines[-1]
        time.sleep(0.02)
    return srv, ""


def exported(env):
    return [json.loads(line) for line in env.sigil(
        "export", "scans", "--format", "ndjson").stdout.splitlines()]


with Env() as env:
    _, paths = env.setup_brand(count=60)
    srv = env.start("--wal", "--api-rate-limit", "0")
    acked = []
    for p in paths[:40]:
        st, doc, _ = srv.scan(p, headers=UA)
        check(st == 200 and doc["verdict"] == "genuine", "scan with --wal: 200")
        acked.append(doc["scan_id"])
    st, doc, _ = srv.scan(paths[0], headers=UA)
    check(st == 200 and doc["scan_count"] == 2 and not doc["first_scan"],
          "second scan of a code: scan_count 2")
    acked.append(doc["scan_id"])
    recs = metric(srv, "sigil_wal_records_total")
    check(recs is not None and recs >= 41,
          "/metrics: sigil_wal_records_total %r >= 41" % recs)
    check(metric(srv, "sigil_wal_checkpoints_total") is not None,
          "/metrics: sigil_wal_checkpoints_total")

    # One owner of the log at a time.
    r = subprocess.run([os.path.join(sigiltest.BIN, "sigild"), "--data",
                        env.data, "--listen", "127.0.0.1:0", "--wal"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 2 and "another sigild" in r.stderr,
          "a second sigild --wal on the data dir: exit 2 (%d, %r)" % (
              r.returncode, r.stderr.strip()[-120:]))
    st, _, _ = srv.scan(paths[41], headers=UA)
    check(st == 200, "the first server still serves after the refusal")
    r = subprocess.run([os.path.join(sigiltest.BIN, "sigild"), "--data",
                        env.data, "--wal", "--no-sync"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 2, "--wal with --no-sync: exit 2")

    # The CLI writes beside the owner; then the owner dies.
    token = env.token("acme", "analyst")
    for p in paths[42:50]:
        st, doc, _ = srv.scan(p, headers=UA)
        if st == 200:
            acked.append(doc["scan_id"])
    srv.stop(signal.SIGKILL)

    srv = env.start("--wal", "--api-rate-limit", "0")
    log = srv.logtext()
    m = re.search(r"wal replayed=(\d+)", log)
    check(m is not None and int(m.group(1)) > 0,
          "restart after kill -9 applied the log (%s)" % (
              m.group(0) if m else "no 'wal replayed=' line"))
    st, _ = srv.api("GET", "batches", token)
    check(st == 200, "the token the CLI made beside the killed server "
          "works after recovery (%d)" % st)
    st, doc, _ = srv.scan(paths[0], headers=UA)
    check(st == 200 and doc["scan_count"] == 3,
          "per-code count survived: third scan says 3 (%r)" % (
              doc and doc.get("scan_count")))
    acked.append(doc["scan_id"])
    srv.stop()
    ids = {r["scan_id"] for r in exported(env)}
    lost = [i for i in acked if i not in ids]
    check(not lost, "acknowledged scans lost: %d of %d" % (
        len(lost), len(acked)))

    # The default is the log; --no-wal is LMDB's own syncs.
    srv, line = start_listening(env)
    check(" sync=wal " in line, "no flag: sync=wal (the default)")
    st, doc, _ = srv.scan(paths[50], headers=UA)
    check(st == 200, "scan, default server: 200")
    acked.append(doc["scan_id"])
    srv.stop()
    srv, line = start_listening(env, "--no-wal")
    check(" sync=on " in line,
          "--no-wal: sync=on (LMDB's own data and meta syncs)")
    st, doc, _ = srv.scan(paths[51], headers=UA)
    check(st == 200, "scan, --no-wal server: 200")
    acked.append(doc["scan_id"])
    srv.stop()
    ids = {r["scan_id"] for r in exported(env)}
    check(all(i in ids for i in acked), "every scan of all three servers "
          "is in the export")

    # A clean stop: nothing to apply next time.
    before = srv.logtext().count("wal replayed=")
    srv = env.start("--wal")
    check(srv.logtext().count("wal replayed=") == before,
          "after SIGTERM the next start applies nothing")
    # SIGTERM right after the port opens: still a clean stop (the signal
    # waits for its handler), so the CLI below has nothing to recover.
    rc = srv.stop()
    check(rc == 0, "SIGTERM at once after start: exit 0 (%r)" % rc)
    check(wal_state(env.data) == "clean",
          "the log says clean after SIGTERM (%s)" % wal_state(env.data))
    # And the CLI, alone, writes with LMDB's own sync; nothing rolls it back.
    tok2 = env.token("acme", "analyst")
    srv = env.start("--wal", "--api-rate-limit", "0")
    st, _ = srv.api("GET", "batches", tok2)
    check(st == 200, "a token made while no server ran works after a "
          "--wal start (%d)" % st)
    srv.stop()

# data.mdb replaced (in place) after a crash: the log is not applied to it.
with Env() as env:
    _, paths = env.setup_brand(count=20)
    mdb = os.path.join(env.data, "data.mdb")
    with open(mdb, "rb") as f:
        old = f.read()
    os.environ["SIGIL_WAL_CKPT_MS"] = "1"
    srv = env.start("--wal")
    del os.environ["SIGIL_WAL_CKPT_MS"]
    for p in paths[:15]:
        srv.scan(p, headers=UA)
    srv.stop(signal.SIGKILL)
    with open(mdb, "r+b") as f:
        f.truncate(0)
        f.write(old)
    r = subprocess.run([os.path.join(sigiltest.BIN, "sigild"), "--data",
                        env.data, "--listen", "127.0.0.1:0", "--wal"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 2 and "does not match its write-ahead log" in
          r.stderr, "data.mdb replaced after a crash: sigild refuses "
          "(exit %d, %r)" % (r.returncode, r.stderr.strip()[-160:]))
    r = env.sigil("stats", check=False)
    check(r.returncode == 2 and "write-ahead log" in r.stderr,
          "and so does the CLI (exit %d)" % r.returncode)
    with open(mdb, "rb") as f:
        check(f.read() == old, "the refused recovery wrote nothing")
    for name in ("wal", "wal.0", "wal.1"):
        os.rename(os.path.join(env.data, name),
                  os.path.join(env.dir, name))
    srv = env.start("--wal")
    st, doc, _ = srv.scan(paths[0], headers=UA)
    check(st == 200 and doc["first_scan"],
          "with the log moved aside the copy opens as it is (%d)" % st)
    srv.stop()

# `sigil stats` tells an operator where the log stands; after a kill -9
# the CLI's own open is the recovery.
with Env() as env:
    _, paths = env.setup_brand(count=10)
    srv = env.start()
    for p in paths[:5]:
        srv.scan(p, headers=UA)
    w = json.loads(env.sigil("stats", "--json").stdout)["wal"]
    check(w["present"] and w["owned"] and not w["clean"],
          "stats beside a running sigild: the log is owned (%r)" % w)
    srv.stop(signal.SIGKILL)
    r = env.sigil("stats", "--json")
    w = json.loads(r.stdout)["wal"]
    check(w["replayed"] > 0 and w["clean"] and not w["owned"],
          "stats after kill -9: recovered by this open, clean (%r)" % w)
    check(json.loads(r.stdout)["scans"] == 5,
          "and every scan is there (%d)" % json.loads(r.stdout)["scans"])
    out = env.sigil("stats").stdout
    check("write-ahead log clean, no sigild running" in out and
          "recovered" not in out, "stats again: clean, nothing to apply")

FAULT_BIN = os.environ.get("FAULT_BIN")
if FAULT_BIN and os.path.exists(os.path.join(FAULT_BIN, "sigild")):
    sigiltest.BIN = FAULT_BIN
    with Env() as env:
        _, paths = env.setup_brand(count=40)
        srv = env.start("--wal")
        st, doc, _ = srv.scan(paths[0], headers=UA)
        check(st == 200, "fault build, --wal: first scan 200")
        st, _, _ = srv.request("POST", "/debug/faults", b"wal_write:1",
                               headers={"Content-Type": "text/plain"})
        check(st == 200, "arm wal_write")
        st, doc, _ = srv.scan(paths[1], headers=UA)
        check(st == 503, "a failed log write answers 503 (%d)" % st)
        st, doc, _ = srv.scan(paths[1], headers=UA)
        check(st == 200 and doc["first_scan"] and doc["scan_count"] == 1,
              "the next scan of that code is its first: nothing was "
              "recorded by the failed one (%r)" % (doc,))
        # A failed checkpoint: the log keeps everything; scans go on.
        st, _, _ = srv.request("POST", "/debug/faults", b"wal_ckpt:3",
                               headers={"Content-Type": "text/plain"})
        check(st == 200, "arm wal_ckpt")
        acked = []
        for p in paths[2:30]:
            st, doc, _ = srv.scan(p, headers=UA)
            check(st == 200, "scans go on while checkpoints fail")
            acked.append(doc["scan_id"])
            time.sleep(0.02)
        fails = metric(srv, "sigil_wal_checkpoint_failures_total")
        check(fails is not None and fails >= 3,
              "failed checkpoints counted and retried: %r" % fails)
        time.sleep(0.3)
        ok = metric(srv, "sigil_wal_checkpoints_total")
        st, _, _ = srv.scan(paths[30], headers=UA)
        time.sleep(0.3)
        st, _, _ = srv.scan(paths[31], headers=UA)
        check(metric(srv, "sigil_wal_checkpoints_total") > ok,
              "checkpoints succeed again once the fault is gone")
        srv.stop(signal.SIGKILL)
        srv = env.start("--wal")
        srv.stop()
        ids = {r["scan_id"] for r in exported(env)}
        check(all(i in ids for i in acked),
              "scans acknowledged while checkpoints failed survive kill -9")
else:
    print("skip: FAULT_BIN not set; fault cases of the log not run")

done()
