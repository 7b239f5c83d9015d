"""Security review F12 and F20, against the real binaries.

F12: `sigil backup --out DIR` writes data.mdb 0600 whatever the umask,
and refuses (exit 2, one clear line, nothing written) an existing --out
that group or others may enter; a 0700 empty directory is used.

F20: `sigil export scans --format csv` writes a text cell that starts
with = + - @ as text: a leading ' (the dashboard's csvCell rule), inside
the quotes when the cell is quoted; other cells are unchanged."""
import csv
import io
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sigiltest  # noqa: E402
from sigiltest import Env, check, done  # noqa: E402


def sigil_raw(env, *args, umask=None):
    def pre():
        if umask is not None:
            os.umask(umask)
    return subprocess.run([os.path.join(sigiltest.BIN, "sigil")] +
                          list(args) + ["--data", env.data],
                          capture_output=True, text=True, preexec_fn=pre)


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


BRANDS = [
    ('=HYPERLINK("http://127.0.0.1/x","y"),z', "https://A.example"),
    ("@SUM(1+1)", "https://B.example"),
    ("+1 555", "https://C.example"),
    ("-2-3", "https://D.example"),
    ("acme = fine", "https://E.example"),
]

with Env() as env:
    paths = {}
    for i, (name, base) in enumerate(BRANDS):
        if i == 0:
            env.sigil("init", "--brand", name, "--base-url", base)
        else:
            env.sigil("brand", "add", "--brand", name, "--base-url", base,
                      check=False)
        r = env.sigil("product", "add", "--brand", name, "--sku", "S%d" % i,
                      "--name", "p", check=False)
        if r.returncode != 0:
            check(False, "brand %r usable: %s" % (name, r.stderr.strip()))
            continue
        _, p = env.setup_brand(brand=name, base=base, sku="T%d" % i,
                               count=2, init=False)
        paths[name] = p[0]
    srv = env.start()
    for name, p in paths.items():
        st, _, _ = srv.scan(p)
        check(st == 200, "scan of brand %r" % name)
    srv.stop()

    # ---- F20 ----
    r = sigil_raw(env, "export", "scans", "--format", "csv", "--out", "-")
    check(r.returncode == 0, "export scans --format csv")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    cells = {row[1] for row in rows[1:] if len(row) > 1}
    for name in paths:
        want = ("'" + name) if name[0] in "=+-@" else name
        check(want in cells, "brand %r exported as %r" % (name, want))
    check(not any(c[:1] in ("=", "+", "-", "@") for row in rows[1:]
                  for c in row[1:2]),
          "no text cell starts with = + - @")
    check('"\'=HYPERLINK(""http://127.0.0.1/x"",""y""),z"' in r.stdout,
          "quoted cell: the ' inside the quotes, quotes doubled")

    # ---- F12 ----
    out = os.path.join(env.dir, "bk-new")
    r = sigil_raw(env, "backup", "--out", out, umask=0o022)
    check(r.returncode == 0, "backup into a new directory (umask 022)")
    check(mode(out) == 0o700, "new --out is 0700 (%o)" % mode(out))
    check(mode(os.path.join(out, "data.mdb")) == 0o600,
          "data.mdb is 0600 under umask 022 (%o)" %
          mode(os.path.join(out, "data.mdb")))
    if os.path.exists(os.path.join(out, "keyring")):
        check(mode(os.path.join(out, "keyring")) == 0o600, "keyring 0600")

    out2 = os.path.join(env.dir, "bk-open")
    os.mkdir(out2)
    os.chmod(out2, 0o755)
    r = sigil_raw(env, "backup", "--out", out2, umask=0o000)
    check(r.returncode == 2 and "group or others" in r.stderr and
          r.stderr.count("\n") == 1, "existing 0755 --out refused: %r" %
          r.stderr)
    check(os.listdir(out2) == [] and mode(out2) == 0o755,
          "the refused directory is untouched")
    os.chmod(out2, 0o750)
    r = sigil_raw(env, "backup", "--out", out2)
    check(r.returncode == 2, "existing 0750 --out refused")

    out3 = os.path.join(env.dir, "bk-private")
    os.mkdir(out3)
    os.chmod(out3, 0o700)
    r = sigil_raw(env, "backup", "--out", out3, umask=0o000)
    check(r.returncode == 0, "existing empty 0700 --out used (umask 000)")
    check(mode(os.path.join(out3, "data.mdb")) == 0o600,
          "data.mdb is 0600 under umask 000 (%o)" %
          mode(os.path.join(out3, "data.mdb")))
    f = os.path.join(env.dir, "afile")
    open(f, "w").close()
    r = sigil_raw(env, "backup", "--out", f)
    check(r.returncode == 2 and "not a directory" in r.stderr,
          "--out naming a file: refused")
    # The copy opens like a data dir.
    r = subprocess.run([os.path.join(sigiltest.BIN, "sigil"), "stats",
                        "--data", out3], capture_output=True, text=True)
    check(r.returncode == 0, "the backup opens (sigil stats)")

done()
