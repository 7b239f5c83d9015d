#!/usr/bin/env python3
"""layers.py - checks that sigil's code only looks down its layers.

The layers, lowest first, are the folders of the tree:

    0 ground   src/ground/   util, log, fault, code, keyring, qr, ratelimit,
                             workpool, egress: needs nothing of sigil's
    1 store    src/store/    the LMDB module and its writer thread
    2 domain   src/domain/   what a scan means, lookup, ledger, trace, geo,
                             EPCIS, pages, webhooks, loginguard
    3 face     src/face/     HTTP routing and the request handlers
    4 main     src/sigild.c  and tools/ (the sigil CLI): the programs

A file may include a header of its own layer or a lower one, and call a
function defined in its own layer or a lower one; never upward. On top:

  - no handler calls another handler. In src/face/, files named http*.c or
    route*.c route requests and help the handlers; every other src/face/*.c
    is a handler. What two handlers share belongs to the domain layer.
  - no circles between files, in any layer: if a.c calls b.c, b.c calls
    nothing that leads back to a.c.

Which layer a header belongs to:

  - a header under src/ or tools/ (src/store/store_impl.h) or under
    include/sigil/LAYER/ (include/sigil/store/brand.h) is in that folder's
    layer;
  - include/sigil/X.h is in the layer of the objects that define the
    functions it declares (its declared names matched against the global
    symbols nm finds defined); when they are defined in several layers,
    the highest, since including it offers them all;
  - a header that declares no function the objects define is in the
    layer TYPE_ONLY gives it (app.h: struct app, the wiring context, is
    domain-level), else in the layer of the one src/*/X.c of the same
    base name, else in the lowest layer of the .c files that include it,
    directly or through another header (a header no .c includes is put
    on top: nothing can look up to it).

Calls are read from the objects, not the sources: `nm` lists each object's
undefined symbols, and a symbol another object of the tree defines is a
call (or a use of its data) from the one file to the other. Only objects
whose .c still exists count, so a stale object of a moved file is ignored.

Usage: python3 scripts/layers.py [--warn] [--root DIR] [-v] [OBJDIR]
OBJDIR defaults to ROOT/build/rel (what `make all` builds). Prints each
violation as "from -> to: symbols" and exits 1 if there is any (0 under
--warn), else prints "layers: N objects, 0 violations" and exits 0. Exit 2
when it cannot run (no objects, nm missing, a source in no layer).
"""
import argparse
import os
import re
import subprocess
import sys

LAYERS = ["ground", "store", "domain", "face", "main"]
FOLDERS = {"src/ground": 0, "src/store": 1, "src/domain": 2, "src/face": 3,
           "tools": 4}
# A header that declares types only (no function the objects define).
TYPE_ONLY = {"include/sigil/app.h": 2}
# Files of src/face/ that route and help rather than handle.
FACE_HELPER = re.compile(r"^(http|route)[^/]*\.c$")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


class Fatal(Exception):
    pass


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def folder_layer(r):
    """The layer of a path relative to root by its folder, or None."""
    if re.fullmatch(r"src/[^/]+\.[ch]", r):
        return 4
    for folder, layer in FOLDERS.items():
        if r.startswith(folder + "/"):
            return layer
    m = re.match(r"include/sigil/([^/]+)/", r)
    if m:
        if m.group(1) not in LAYERS:
            raise Fatal("%s: include/sigil/%s/ is no layer (%s)" %
                        (r, m.group(1), ", ".join(LAYERS)))
        return LAYERS.index(m.group(1))
    if r.startswith("src/") and r.count("/") > 1:
        raise Fatal("%s: src/%s/ is no layer folder (%s)" % (
            r, r.split("/")[1], ", ".join(sorted(FOLDERS))))
    return None


def sources(root):
    """Every .c and .h of src/, tools/ and include/sigil/, relative."""
    out = []
    for top in ("src", "tools", "include/sigil"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(rel(root, os.path.join(d, f)))
    return sorted(out)


def strip_c(text):
    """Text without comments, string literals and preprocessor lines."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"\\\n", " ", text)
    return "\n".join(l for l in text.split("\n")
                     if not l.lstrip().startswith("#"))


def read(root, r):
    with open(os.path.join(root, r), encoding="utf-8",
              errors="replace") as f:
        return f.read()


def nm_symbols(objs):
    """{object: (defined globals, undefined)} from one run of nm."""
    syms = {o: (set(), set()) for o in objs}
    try:
        p = subprocess.run(["nm", "-P", "-A", "-g"] + objs,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
    except OSError as e:
        raise Fatal("cannot run nm: %s" % e)
    if p.returncode != 0:
        raise Fatal("nm failed: %s" % p.stderr.strip())
    for line in p.stdout.splitlines():
        path, _, rest = line.partition(": ")
        f = rest.split()
        if path not in syms or len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind == "U":
            syms[path][1].add(name)
        elif kind not in "wv":
            syms[path][0].add(name)
    return syms


def objects(root, objdir):
    """{source .c relative to root: object path} for live sources."""
    out = {}
    for top in ("src", "tools"):
        for d, _, files in os.walk(os.path.join(objdir, top)):
            for f in files:
                if not f.endswith(".o"):
                    continue
                o = os.path.join(d, f)
                src = rel(objdir, o)[:-2] + ".c"
                if os.path.isfile(os.path.join(root, src)):
                    out[src] = o
    return out


def is_handler(src):
    return (src.startswith("src/face/") and src.count("/") == 2 and
            not FACE_HELPER.match(src.rsplit("/", 1)[1]))


def sccs(nodes, edges):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        # Iterative, so a long chain of files cannot overflow the stack.
        work = [(v, iter(sorted(edges.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            u, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on:
                    low[u] = min(low[u], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[u])
                if low[u] == index[u]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == u:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def check(root, objdir, verbose=False):
    """(number of objects, [violation lines])."""
    objs = objects(root, objdir)
    if not objs:
        raise Fatal("no objects of src/ or tools/ under %s (build first: "
                    "make all)" % objdir)
    srcs = sources(root)
    layer = {}
    for r in srcs:
        l = folder_layer(r)
        if l is not None:
            layer[r] = l
    for src in objs:
        if src not in layer:
            raise Fatal("%s: in no layer" % src)

    syms = nm_symbols(sorted(objs.values()))
    by_obj = {o: s for s, o in objs.items()}
    defined_by = {}
    for o, (defs, _) in syms.items():
        for name in defs:
            defined_by.setdefault(name, set()).add(by_obj[o])

    # The layer of every header of include/sigil/ not placed by folder.
    includes = {r: INCLUDE.findall(read(root, r)) for r in srcs}

    def resolve(r, name):
        for base in (os.path.dirname(r), "include"):
            cand = os.path.normpath(os.path.join(base, name)).replace(
                os.sep, "/")
            if cand in includes:
                return cand
        return None

    def reached(c):
        """The headers c includes, directly or through other headers."""
        seen, todo = set(), [c]
        while todo:
            f = todo.pop()
            for inc in includes[f]:
                h = resolve(f, inc)
                if h is not None and h not in seen:
                    seen.add(h)
                    todo.append(h)
        return seen

    how = {}
    for h in srcs:
        if h in layer:
            continue
        declared = set(CALLED.findall(strip_c(read(root, h))))
        definers = set()
        for name in declared:
            definers |= defined_by.get(name, set())
        if definers:
            layer[h] = max(layer[d] for d in definers)
            how[h] = "defined in " + ", ".join(sorted(definers))
            continue
        if h in TYPE_ONLY:
            layer[h] = TYPE_ONLY[h]
            how[h] = "type-only (TYPE_ONLY)"
            continue
        base = os.path.basename(h)[:-2] + ".c"
        same = [s for s in srcs if s.startswith("src/") and
                os.path.basename(s) == base]
        if len(same) == 1:
            layer[h] = layer[same[0]]
            how[h] = "by name: " + same[0]
            continue
        users = [c for c in srcs if c.endswith(".c") and h in reached(c)]
        if users:
            layer[h] = min(layer[u] for u in users)
            how[h] = "lowest includer: " + min(users, key=layer.get)
        else:
            # Included by no .c: nothing can look up to it.
            layer[h] = len(LAYERS) - 1
            how[h] = "included by no .c file"
    if verbose:
        for h in sorted(how):
            print("  %-32s %-6s %s" % (h, LAYERS[layer[h]], how[h]))

    bad = []

    def where(r):
        return "%s (%s)" % (r, LAYERS[layer[r]])

    for r in srcs:
        for inc in includes[r]:
            h = resolve(r, inc)
            if h is not None and layer[h] > layer[r]:
                bad.append("upward include: %s -> %s" % (where(r), where(h)))

    # src/sigild.c and tools/ are two programs, each linked with the
    # library alone: a name both define (main) is no call between them.
    def program(r):
        if layer[r] < 4:
            return "lib"
        return "tools" if r.startswith("tools/") else r

    def linked_together(a, b):
        return program(a) == program(b) or "lib" in (program(a), program(b))

    edges = {}
    for src, o in objs.items():
        for sym in syms[o][1]:
            for d in defined_by.get(sym, ()):
                if d != src and linked_together(src, d):
                    edges.setdefault(src, {}).setdefault(d, set()).add(sym)

    def edge(a, b):
        return "%s -> %s: %s" % (where(a), where(b),
                                   ", ".join(sorted(edges[a][b])))

    for a in sorted(edges):
        for b in sorted(edges[a]):
            if layer[b] > layer[a]:
                bad.append("upward call: " + edge(a, b))
            if is_handler(a) and is_handler(b):
                bad.append("handler calls handler: " + edge(a, b))
    for comp in sccs(objs, edges):
        lines = [edge(a, b) for a in comp for b in sorted(edges.get(a, ()))
                 if b in comp]
        bad.append("circle of %d files: %s\n    %s" % (
            len(comp), ", ".join(comp), "\n    ".join(lines)))
    return len(objs), bad


def main():
    ap = argparse.ArgumentParser(
        description="Checks that includes and calls only look down the "
                    "layers (see the head of this file).")
    ap.add_argument("objdir", nargs="?",
                    help="the build's object directory (ROOT/build/rel)")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), help="the source tree")
    ap.add_argument("--warn", action="store_true",
                    help="report violations but exit 0")
    ap.add_argument("-v", action="store_true",
                    help="say which layer each header of include/sigil/ "
                         "is in, and why")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    objdir = a.objdir or os.path.join(root, "build", "rel")
    try:
        n, bad = check(root, objdir, a.v)
    except Fatal as e:
        print("layers: %s" % e, file=sys.stderr)
        return 2
    for b in bad:
        print(b)
    print("layers: %d objects, %d violation%s" % (
        n, len(bad), "" if len(bad) == 1 else "s"))
    return 1 if bad and not a.warn else 0


if __name__ == "__main__":
    sys.exit(main())
