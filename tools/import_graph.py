"""The package's import graph, its cycles, and its long functions — measured from the source.

    python tools/import_graph.py            # cycles (strongly connected components), exit 1 if any
    python tools/import_graph.py --long 60  # also every function longer than 60 lines

Every ``import`` / ``from ... import`` of a ``v2a_kit`` module counts, wherever it is written:
at the top of a module, inside a function, or under ``if TYPE_CHECKING`` — an import moved into
a function to dodge a cycle is still an edge of the cycle. ``from . import x`` is an edge to the
module ``x`` when ``x`` is a module, else to the package. A package's ``__init__`` is the node
of the package itself; the edges *from* ``v2a_kit/__init__.py`` (the public facade, which
re-exports from below) are left out, since every module imports it implicitly.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "v2a_kit"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _resolve(current: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".") if is_pkg else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def edges(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        if name == PACKAGE:
            continue
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_pkg, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            for t in targets:
                while t and t not in mods:  # a name inside a module -> the module
                    t = t.rpartition(".")[0]
                if t and t != name and t.startswith(PACKAGE):
                    graph[name].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
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

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def long_functions(mods: dict[str, Path], limit: int) -> list[tuple[int, str]]:
    found = []
    for path in mods.values():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    found.append((n, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long", type=int, default=None, metavar="N",
                    help="also list functions longer than N lines")
    args = ap.parse_args(argv)
    mods = modules()
    found = cycles(edges(mods))
    print(f"{len(mods)} modules, {len(found)} import cycle(s)")
    for comp in found:
        print("  cycle: " + " <-> ".join(comp))
    if args.long is not None:
        funcs = long_functions(mods, args.long)
        print(f"{len(funcs)} function(s) over {args.long} lines")
        for n, where in funcs:
            print(f"  {n:4d}  {where}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
