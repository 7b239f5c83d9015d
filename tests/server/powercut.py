"""Power cuts, simulated from a trace of every write sigild made.

kill -9 (crash.py, wal.py) keeps the page cache, so everything a killed
server wrote reaches the disk in the end. A power cut keeps what was
synced and any part of the rest. This test runs the real sigild under
scan load with tests/lib/wtrace.c preloaded, which logs every write,
sync, create and unlink under the data dir with its CLOCK_MONOTONIC time,
while the clients note when each 200 arrived. Then, for many points of
the trace, it builds the files a power cut at that point could leave:

  - the data dir as it was before the run;
  - every write that a completed sync of its file covers;
  - of the writes after that, each 512-byte sector kept or dropped at
    random (all kept, none kept, or half, depending on the point), so
    writes can be torn and reordered;
  - creates and unlinks covered by a sync of the directory, and a random
    prefix of the others;

starts sigild on those files (which runs recovery), and requires:

  - it starts and stops cleanly;
  - every scan whose 200 arrived before the cut is in `sigil export
    scans`, and so is a token the sigil CLI made beside the server;
  - per-code scan counts equal the scan log, and no code has two first
    scans.

It does so for sigild's default, the write-ahead log (LMDB unsynced, the
log synced, checkpoints), and for `--no-wal` (LMDB's own data sync, meta
page carried by the next sync). As a control that the harness can fail,
`sigild --no-sync` must lose acknowledged scans at some point.

Needs $WTRACE (the built libwtrace.so; make check passes it, in the
sanitizer build too); skipped without it. POINTS crash points per
mode (default 24), LOAD_SECONDS of load (default 1.5), SEED, and MODES
(default "wal lmdb nosync")."""
import http.client
import json
import os
import random
import shutil
import signal
import struct
import sys
import threading
import time
from collections import Counter, defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sigiltest import PHONE_UA, Env, check, done  # noqa: E402

LIB = os.environ.get("WTRACE")
POINTS = int(os.environ.get("POINTS", "24"))
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "1.5"))
SEED = int(os.environ.get("SEED", str(int(time.time()))))
SECTOR = 512
CODES = 24
LIMITS = ("--api-rate-limit", "0")
HDR = struct.Struct("<B3xIII QQqQQ")


def parse(path):
    """The trace as a list of (type, pid, file, a, b, t_ns, tag, payload)."""
    with open(path, "rb") as f:
        raw = f.read()
    recs, off = [], 0
    while off < len(raw):
        if len(raw) - off < HDR.size:
            raise ValueError("trace ends inside a record header")
        typ, pid, fid, _, a, b, t, tag, n = HDR.unpack_from(raw, off)
        off += HDR.size
        payload = raw[off:off + n]
        if len(payload) != n:
            raise ValueError("trace ends inside a record")
        off += n
        recs.append((chr(typ), pid, fid, a, b, t, tag, payload))
    return recs


class Trace:
    """Per file name: its content operations and its completed syncs."""

    def __init__(self, recs):
        self.recs = recs
        self.ops = defaultdict(list)     # name -> [(i, kind, a, payload)]
        self.syncs = defaultdict(list)   # name -> [(i_S, i_B)]
        self.ns = []                     # [(i, "create"|"unlink", name)]
        names, begins = {}, {}
        for i, (typ, pid, fid, a, b, t, tag, pl) in enumerate(recs):
            if typ == "F":
                name = pl.decode()
                names[(pid, fid)] = name
                if a:
                    self.ns.append((i, "create", name))
                if b:
                    self.ops[name].append((i, "T", 0, None))
            elif typ == "U":
                self.ns.append((i, "unlink", pl.decode()))
            elif typ == "W":
                name = names[(pid, fid)]
                self.ops[name].append((i, "W", a, pl))
                if b:       # O_DSYNC: durable when the write returned
                    self.syncs[name].append((i + 1, i + 1))
            elif typ == "T":
                self.ops[names[(pid, fid)]].append((i, "T", a, None))
            elif typ == "B":
                begins[(pid, tag)] = i
            elif typ == "S":
                self.syncs[names[(pid, fid)]].append((i, begins[(pid, tag)]))
        # cutoff[k]: the earliest time logged at or after k. An answer
        # that arrived before it came after its sync's S was logged, so
        # that S lies before k (the logged times within a process follow
        # the trace's order; across processes, this makes it so).
        self.cutoff = [0] * (len(recs) + 1)
        m = 1 << 62
        for k in range(len(recs), -1, -1):
            self.cutoff[k] = m
            if k > 0:
                m = min(m, recs[k - 1][5])

    def covered(self, name, k):
        """Ops of name logged before this index are on disk at a cut
        before record k."""
        c = 0
        for s, b in self.syncs.get(name, ()):
            if s < k and b > c:
                c = b
        return c

    def build(self, snap, out, k, keep, rnd):
        """Writes into out the files a power cut just before record k
        could leave; keep is the chance a sector not yet synced made it."""
        present = set(os.listdir(snap))
        dsync = self.covered(".", k)
        todo = [op for op in self.ns if op[0] < k]
        cut = sum(1 for op in todo if op[0] < dsync)
        cut += rnd.randint(0, len(todo) - cut)
        created = set()
        for i, kind, name in todo[:cut]:
            if kind == "create":
                if name in created:
                    raise ValueError("%s created twice" % name)
                created.add(name)
                present.add(name)
            else:
                present.discard(name)
        for name in sorted(present):
            if name == "lock.mdb":
                continue
            src = os.path.join(snap, name)
            buf = bytearray()
            if name not in created and os.path.exists(src):
                with open(src, "rb") as f:
                    buf = bytearray(f.read())
            cov = self.covered(name, k)
            for i, kind, a, pl in self.ops.get(name, ()):
                if i >= k:
                    break
                sure = i < cov
                if kind == "T":
                    if sure or rnd.random() < keep:
                        del buf[a:]
                    continue
                pos = 0
                while pos < len(pl):
                    end = min(len(pl), (a + pos) // SECTOR * SECTOR +
                              SECTOR - a)
                    if sure or rnd.random() < keep:
                        at = a + pos
                        if len(buf) < at:
                            buf.extend(bytes(at - len(buf)))
                        buf[at:a + end] = pl[pos:end]
                    pos = end
            dst = os.path.join(out, name)
            with open(dst, "wb") as f:
                f.write(buf)
            os.chmod(dst, os.stat(src).st_mode & 0o777
                     if name not in created and os.path.exists(src)
                     else 0o600)


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path, dev):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=5)
        try:
            self.conn.request("GET", path, headers={
                "User-Agent": PHONE_UA, "Accept": "application/json",
                "Cookie": "sg_d=" + dev})
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise


def scanner(port, paths, devices, acked, stop):
    c, rnd = Client(port), random.Random()
    while not stop.is_set():
        try:
            st, body = c.get(rnd.choice(paths), rnd.choice(devices))
        except (OSError, http.client.HTTPException):
            time.sleep(0.01)
            continue
        if st == 200:
            acked.append((time.monotonic_ns(), json.loads(body)["scan_id"]))


def traced_env(trace, data):
    # Under ASan (make SANITIZE=1 check) the runtime wants to be the first
    # library loaded; the tracer only forwards calls, so let it go first.
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": LIB, "SIGIL_WTRACE": trace,
            "SIGIL_WTRACE_DIR": data,
            "ASAN_OPTIONS": (asan + ":" if asan else "") +
            "verify_asan_link_order=0"}


def run_traced(env, mode, paths, devices):
    """The traced run: load, a CLI token made beside the server, a clean
    stop. Returns (trace, acked [(t_ns, scan_id)], (token, t_ns) or None)."""
    trace_path = os.path.join(env.dir, "trace")
    traced = traced_env(trace_path, env.data)
    saved = {k: os.environ.get(k) for k in traced}
    os.environ.update(traced)
    try:
        srv = env.start(*mode, *LIMITS)
        acked, stop = [], threading.Event()
        threads = [threading.Thread(target=scanner, args=(
            srv.port, paths, devices, acked, stop)) for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS / 2)
        token = env.token("acme", "analyst")
        tok = (token, time.monotonic_ns())
        time.sleep(LOAD_SECONDS / 2)
        stop.set()
        for t in threads:
            t.join()
        rc = srv.stop()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    check(rc == 0, "%s: traced server stopped cleanly (%r)" % (
        " ".join(mode) or "default (--wal)", rc))
    return Trace(parse(trace_path)), acked, tok


def verify(env, mode, trace, k, keep, rnd, snap, acked, tok, reader, paths):
    """Builds the cut before record k in a fresh data dir of env, recovers
    and checks it. Returns a list of problems (empty: the cut is fine)."""
    shutil.rmtree(env.data, ignore_errors=True)
    os.makedirs(env.data)
    os.chmod(env.data, os.stat(snap).st_mode & 0o777)
    trace.build(snap, env.data, k, keep, rnd)
    try:
        srv = env.start(*mode, *LIMITS)
    except RuntimeError as e:
        last = [ln for ln in str(e).splitlines() if ln.strip()][-1:]
        return ["sigild did not start on the cut: %s" % " ".join(last)]
    probs, counts = [], {}
    for p in paths:
        st, doc = srv.api("GET", "codes/" + p.split("/")[-1], reader)
        if st != 200:
            probs.append("GET codes: %d" % st)
            break
        counts[doc["serial"]] = doc["scan_count"]
    tok_ok = None
    if tok is not None and tok[1] < trace.cutoff[k]:
        tok_ok = srv.api("GET", "batches", tok[0])[0] == 200
    rc = srv.stop()
    if rc != 0:
        probs.append("sigild exit %r after recovery" % rc)
    r = env.sigil("export", "scans", "--format", "ndjson", check=False)
    if r.returncode != 0:
        return probs + ["export failed: %s" % r.stderr.strip()]
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    ids = {row["scan_id"] for row in rows}
    due = [s for t, s in acked if t < trace.cutoff[k]]
    lost = [s for s in due if s not in ids]
    if lost:
        probs.append("%d of %d acknowledged scans lost" % (len(lost),
                                                           len(due)))
    if tok_ok is False:
        probs.append("the token the CLI made before the cut is gone")
    logged = Counter(row["serial"] for row in rows if not row["bot"] and
                     row["verdict"] in ("genuine", "suspicious"))
    wrong = [s for s, n in counts.items() if n != logged[s]]
    if wrong:
        probs.append("scan_count differs from the log for %d codes" %
                     len(wrong))
    firsts = Counter(row["serial"] for row in rows if row["first_scan"])
    if any(v > 1 for v in firsts.values()):
        probs.append("a code with two first scans")
    return probs


def points(trace, start, n, rnd):
    """n cut points after start: a quarter inside the sigil CLI's write
    beside the server (its syncs, creates and unlinks), half of the rest
    anywhere, half next to a sync."""
    recs = trace.recs
    server = recs[start][1]
    cli = sorted({i + d for i, r in enumerate(recs) if r[1] != server and
                  (r[0] in "BSU" or (r[0] == "F" and r[3]))
                  for d in (0, 1)})
    pts = rnd.sample(cli, min(n // 4, len(cli)))
    near = sorted({i + d for i, r in enumerate(recs)
                   if i >= start and r[0] in "BS" for d in (0, 1)})
    rest = n - len(pts)
    pts += [rnd.randrange(start, len(recs) + 1) for _ in range(rest // 2)]
    pts += [rnd.choice(near) for _ in range(rest - rest // 2)] if near \
        else []
    return sorted(pts)


def mode_run(mode, n, expect_loss=False):
    name = " ".join(mode) or "default (--wal)"
    rnd = random.Random("%d %s" % (SEED, name))
    with Env() as env:
        _, paths = env.setup_brand(count=CODES, max_scanners=15)
        reader = env.token("acme", "analyst")
        srv = env.start(*mode, *LIMITS)
        devices = [srv.scan(paths[i])[2] for i in range(4)]
        srv.stop()
        snap = os.path.join(env.dir, "snap")
        shutil.copytree(env.data, snap,
                        ignore=shutil.ignore_patterns("lock.mdb"))
        trace, acked, tok = run_traced(env, mode, paths, devices)
        recs = trace.recs
        start = next((i for i, r in enumerate(recs) if r[0] == "W"), 0)
        syncs = sum(1 for r in recs if r[0] == "S")
        print("%s: %d scans acknowledged, trace of %d records (%d syncs, "
              "%d creates and unlinks, %.1f MB written)" % (
                  name, len(acked), len(recs), syncs, len(trace.ns),
                  sum(len(r[7]) for r in recs) / 1e6))
        check(len(acked) > 200, "%s: load ran (%d scans)" % (name,
                                                             len(acked)))
        bad, due_total = 0, 0
        if expect_loss:     # late cuts where nothing unsynced survives
            cuts = [len(recs) * (j + 2) // (n + 2) for j in range(n)]
        else:
            cuts = points(trace, start, n, rnd)
        for j, k in enumerate(cuts):
            keep = 0.0 if expect_loss else (0.0, 1.0, 0.5,
                                            rnd.random())[j % 4]
            due = sum(1 for t, _ in acked if t < trace.cutoff[k])
            due_total += due
            probs = verify(env, mode, trace, k, keep, rnd, snap, acked,
                           None if expect_loss else tok, reader, paths)
            tok_due = not expect_loss and tok[1] < trace.cutoff[k]
            print("  cut before record %d of %d (keep %.2f): %d scans%s due"
                  "%s" % (k, len(recs), keep, due,
                          " and the CLI's token" if tok_due else "",
                          ": " + "; ".join(probs) if probs else ": ok"))
            bad += bool(probs)
        if expect_loss:
            check(bad > 0, "%s: the harness sees a server that does not "
                  "sync lose acknowledged scans (%d of %d cuts)" % (
                      name, bad, n))
        else:
            check(due_total > 0, "%s: cuts came after acknowledged scans "
                  "(%d due in all)" % (name, due_total))
            check(bad == 0, "%s: %d cuts, every acknowledged scan and "
                  "count survived (%d failed)" % (name, n, bad))


if not LIB or not os.path.exists(LIB):
    print("skip: WTRACE (libwtrace.so) not set; power cuts not simulated")
    done()
print("seed %d" % SEED)
MODES = os.environ.get("MODES", "wal lmdb nosync").split()
if "wal" in MODES:
    mode_run((), POINTS)
if "lmdb" in MODES:
    mode_run(("--no-wal",), POINTS)
if "nosync" in MODES:
    mode_run(("--no-sync",), 4, expect_loss=True)
done()
