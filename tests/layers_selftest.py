#!/usr/bin/env python3
"""layers_selftest.py - proves scripts/layers.py fails when it should.

Builds tiny source trees in a temporary directory (a few one-function .c
files in src/ground, src/domain and src/face, their headers, and objects
made with $CC, cc by default), runs layers.py --root on each, and checks
it exits 0 on a clean layout and 1, naming the offence, on an upward
call, an upward include (also from a type-only header, placed in the
layer of the lowest file that includes it), a handler calling a handler
and a circle of two files in one layer; --warn reports but exits 0; the
object of a source that no longer exists is ignored. Prints PASS/FAIL
per case; exits 1 if any failed.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = os.path.join(os.path.dirname(HERE), "scripts", "layers.py")
CC = os.environ.get("CC", "cc")

# The clean layout: face -> domain -> ground, and http.c (routing) calls
# both handlers.
CLEAN = {
    "include/sigil/base.h": "int base_fn(int);\n",
    "include/sigil/dom.h": '#include "sigil/base.h"\nint dom_fn(int);\n',
    "include/sigil/alpha.h": "int alpha_fn(int);\n",
    "include/sigil/beta.h": "int beta_fn(int);\n",
    "src/ground/base.c": '#include "sigil/base.h"\n'
                         "int base_fn(int x) { return x + 1; }\n",
    "src/domain/dom.c": '#include "sigil/dom.h"\n'
                        "int dom_fn(int x) { return base_fn(x) * 2; }\n",
    "src/face/alpha.c": '#include "sigil/dom.h"\n#include "sigil/alpha.h"\n'
                        "int alpha_fn(int x) { return dom_fn(x); }\n",
    "src/face/beta.c": '#include "sigil/dom.h"\n#include "sigil/beta.h"\n'
                       "int beta_fn(int x) { return dom_fn(x) + 3; }\n",
    "src/face/http.c": '#include "sigil/alpha.h"\n#include "sigil/beta.h"\n'
                       "int http_route(int x) "
                       "{ return x ? alpha_fn(x) : beta_fn(x); }\n",
}


def tree(root, files):
    for path, text in files.items():
        p = os.path.join(root, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    for path in files:
        if path.endswith(".c"):
            o = os.path.join(root, "build", path[:-2] + ".o")
            os.makedirs(os.path.dirname(o), exist_ok=True)
            subprocess.run([CC, "-c", "-Wall", "-Werror", "-Iinclude",
                            "-o", o, path], cwd=root, check=True)


def run(files, *args, remove=()):
    with tempfile.TemporaryDirectory(prefix="layers-") as root:
        tree(root, files)
        for path in remove:
            os.unlink(os.path.join(root, path))
        p = subprocess.run([sys.executable, LAYERS, "--root", root] +
                           list(args) + [os.path.join(root, "build")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        return p.returncode, p.stdout


def changed(over):
    files = dict(CLEAN)
    files.update(over)
    return files


CASES = [
    ("clean layout", CLEAN, (), (), 0, ["layers: 5 objects, 0 violations"]),
    ("upward call (ground calls a face handler)",
     changed({"src/ground/low.c": "int alpha_fn(int);\n"
             "int low_fn(int x) { return alpha_fn(x); }\n"}),
     (), (), 1,
     ["upward call: src/ground/low.c (ground) -> src/face/alpha.c (face): "
      "alpha_fn", "1 violation"]),
    ("upward include (ground includes a domain header)",
     changed({"src/ground/low.c": '#include "sigil/dom.h"\n'
             "int low_fn(int x) { return x; }\n"}),
     (), (), 1,
     ["upward include: src/ground/low.c (ground) -> include/sigil/dom.h "
      "(domain)"]),
    ("handler calls handler",
     changed({"src/face/alpha.c": '#include "sigil/beta.h"\n'
             "int alpha_fn(int x) { return beta_fn(x); }\n"}),
     (), (), 1,
     ["handler calls handler: src/face/alpha.c (face) -> src/face/beta.c "
      "(face): beta_fn"]),
    ("circle of two ground files",
     changed({"src/ground/one.c": "int two_fn(int);\n"
             "int one_fn(int x) { return x ? two_fn(x - 1) : 0; }\n",
             "src/ground/two.c": "int one_fn(int);\n"
             "int two_fn(int x) { return one_fn(x); }\n"}),
     (), (), 1,
     ["circle of 2 files: src/ground/one.c, src/ground/two.c",
      "src/ground/one.c (ground) -> src/ground/two.c (ground): two_fn"]),
    ("a type-only header is in its lowest includer's layer",
     changed({"include/sigil/kinds.h": '#include "sigil/alpha.h"\n'
              "struct kind { int k; };\n",
              "include/sigil/dom.h": '#include "sigil/base.h"\n'
              '#include "sigil/kinds.h"\nint dom_fn(int);\n'}),
     (), (), 1,
     ["upward include: include/sigil/kinds.h (domain) -> "
      "include/sigil/alpha.h (face)", "1 violation"]),
    ("--warn reports but passes",
     changed({"src/face/alpha.c": '#include "sigil/beta.h"\n'
             "int alpha_fn(int x) { return beta_fn(x); }\n"}),
     ("--warn",), (), 0, ["handler calls handler", "1 violation"]),
    ("the object of a removed source is ignored",
     changed({"src/ground/low.c": "int alpha_fn(int);\n"
             "int low_fn(int x) { return alpha_fn(x); }\n"}),
     (), ("src/ground/low.c",), 0, ["layers: 5 objects, 0 violations"]),
]


def main():
    failed = 0
    for name, files, args, remove, want_rc, want_out in CASES:
        rc, out = run(files, *args, remove=remove)
        missing = [w for w in want_out if w not in out]
        if rc == want_rc and not missing:
            print("PASS %s" % name)
            continue
        failed += 1
        print("FAIL %s: exit %d (want %d)%s" % (
            name, rc, want_rc,
            "".join("\n    missing: %s" % m for m in missing)))
        print("    " + out.replace("\n", "\n    "))
    print("%d passed, %d failed" % (len(CASES) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
