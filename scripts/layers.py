#!/usr/bin/env python3
"""Reads streams-core's import graph and fails on a circle or an import that points up.

Every `use` tree and every `crate::`/`super::`/`self::` path in a source file of
`streams-core/src` (tests included) is resolved to the file that defines the module it names.
That gives two graphs: files, and folders (the crate's top-level modules). The check fails when

* two files reach each other through imports (a circle of files),
* two top-level modules do (a circle of folders), or
* a module imports from a layer above its own (the layer table below, bottom first).

`mod x;` declarations are not imports: a parent declares its children. A parent that re-exports a
child (`pub use child::Item`) depends on it, so children import their siblings from the file that
defines an item, never through the parent's re-export.

Run it with no arguments from the repository root (`make lint` does); `--graph` prints the edges.
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "streams-core", "src")

# Bottom first. A module may import from its own layer (without a circle) and from layers below.
LAYERS = [
    ["record", "timestamp", "error", "task_id", "collector", "test_support"],
    ["serdes", "config", "window"],
    ["state"],
    ["processor"],
    ["kstream"],
    ["kafka", "test_driver"],
    ["crate", "tests"],  # lib.rs (the public face, re-exports only) and unit tests that need the DSL
]
LAYER_OF = {name: i for i, group in enumerate(LAYERS) for name in group}


def module_of(path):
    rel = os.path.relpath(path, ROOT)[: -len(".rs")].split(os.sep)
    if rel[-1] in ("mod", "lib"):
        rel = rel[:-1]
    return tuple(["crate"] + rel)


def strip(code):
    """Drops comments, string and char literals (keeps line structure)."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            i = n if j < 0 else j
        elif code.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if code.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif code.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', code[i:]) and (i == 0 or not (code[i - 1].isalnum() or code[i - 1] == "_")):
            m = re.match(r'r(#*)"', code[i:])
            end = code.find('"' + m.group(1), i + len(m.group(0)))
            i = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and code[i] != '"':
                i += 2 if code[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", code[i:]):
            i += len(re.match(r"'(\\.[^']*|[^\\'])'", code[i:]).group(0))
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d, e as f}, self}` -> [[a,b], [a,c,d], [a,c,e], [a]]."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    paths = []

    def walk(prefix, s):
        depth, start, parts = 0, 0, []
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(s[start:k])
                start = k + 1
        parts.append(s[start:])
        for part in parts:
            if not part:
                continue
            if "{" in part:
                head, rest = part.split("{", 1)
                head = [p for p in head.split("::") if p]
                walk(prefix + head, rest[: rest.rfind("}")])
            else:
                segs = [p for p in re.split(r"::", part) if p]
                if segs == ["self"]:
                    paths.append(prefix)
                else:
                    paths.append(prefix + segs)

    walk([], tree)
    return paths


def references(code, file_mod):
    """(module path at the reference, absolute-or-relative path segments) for each import."""
    # The module path at each offset: the file's module plus inline `mod name {` blocks.
    refs = []
    stack, depth = [], 0
    token = re.compile(
        r"\bmod\s+(\w+)\s*\{|[{}]|\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);|(?<![\w:])((?:\w+)(?:::\w+)+)"
    )
    for m in token.finditer(code):
        here = file_mod + tuple(name for name, _ in stack)
        if m.group(1):
            depth += 1
            stack.append((m.group(1), depth))
        elif m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            if stack and stack[-1][1] == depth:
                stack.pop()
            depth -= 1
        elif m.group(2):
            for path in expand_use(m.group(2)):
                refs.append((here, path, True))
        elif m.group(3):
            segs = m.group(3).split("::")
            # `crate::`, `super::`, `self::` paths, and paths that start at a child module.
            refs.append((here, segs, segs[0] not in ("crate", "super", "self")))
    return refs


def resolve(here, segs, modules, in_use):
    if not segs:
        return None
    if segs[0] == "crate":
        path = ["crate"] + segs[1:]
    elif segs[0] in ("super", "self"):
        path = list(here)
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                path = path[:-1]
            segs = segs[1:]
        path += segs
    elif in_use and tuple(list(here) + [segs[0]]) in modules:
        path = list(here) + segs  # a child module named without `self::`
    else:
        return None  # another crate (std, serde, ...) or a local item
    for k in range(len(path), 0, -1):
        if tuple(path[:k]) in modules:
            return tuple(path[:k])
    return None


def top(mod):
    return mod[1] if len(mod) > 1 else "crate"


def sccs(graph):
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def main():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                files[module_of(path)] = path
    modules = set(files)
    file_graph, folder_graph, where = defaultdict(set), defaultdict(set), {}
    for mod, path in sorted(files.items()):
        with open(path, encoding="utf-8") as f:
            code = strip(f.read())
        for here, segs, in_use in references(code, mod):
            target = resolve(here, segs, modules, in_use)
            if target is None or target == mod:
                continue
            file_graph[mod].add(target)
            where.setdefault((mod, target), "::".join(segs))
            if top(mod) != top(target):
                folder_graph[top(mod)].add(top(target))
                where.setdefault((top(mod), top(target)), "%s -> %s" % ("::".join(mod), "::".join(segs)))

    name = lambda m: "::".join(m)
    problems = []
    for comp in sccs(file_graph):
        edges = ["%s -> %s (%s)" % (name(a), name(b), where[(a, b)]) for a in comp for b in sorted(file_graph[a]) if b in comp]
        problems.append("circle of files: " + ", ".join(map(name, comp)) + "\n    " + "\n    ".join(edges))
    for comp in sccs(folder_graph):
        edges = ["%s -> %s (%s)" % (a, b, where[(a, b)]) for a in comp for b in sorted(folder_graph[a]) if b in comp]
        problems.append("circle of folders: " + ", ".join(comp) + "\n    " + "\n    ".join(edges))
    for a in sorted(folder_graph):
        for b in sorted(folder_graph[a]):
            if a not in LAYER_OF or b not in LAYER_OF:
                problems.append("module %s or %s has no layer in scripts/layers.py" % (a, b))
            elif LAYER_OF[b] > LAYER_OF[a]:
                problems.append("upward import: %s (layer %d) uses %s (layer %d): %s" % (a, LAYER_OF[a], b, LAYER_OF[b], where[(a, b)]))
    if "--graph" in sys.argv:
        for a in sorted(file_graph):
            for b in sorted(file_graph[a]):
                print("%s -> %s" % (name(a), name(b)))
    edges = sum(len(v) for v in file_graph.values())
    if problems:
        print("layers: %d problem(s) in %d files, %d imports between files" % (len(problems), len(files), edges))
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("layers: %d files, %d imports between files: no circle, nothing points up" % (len(files), edges))


if __name__ == "__main__":
    main()
