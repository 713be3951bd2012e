"""The package's import graph, its cycles, its layers and its long functions — from the source.

    python tools/import_graph.py            # cycles and layer breaches; exit 1 if any
    python tools/import_graph.py --long 60  # also every function longer than 60 lines

The layers are the table of ``docs/design.md`` §2 (:func:`layer_table`): a module may import
only from its own layer or below. An import of a higher layer, a module the table does not
name, a name in the table that is no module, or a module named twice is a problem
(:func:`layer_problems`); so is a cycle.

Every ``import`` / ``from ... import`` of a ``v2a_kit`` module counts, wherever it is written:
at the top of a module, inside a function, or under ``if TYPE_CHECKING`` — an import moved into
a function to dodge a cycle is still an edge of the cycle. ``from . import x`` is an edge to the
module ``x`` when ``x`` is a module, else to the package; an import of ``a.b.c`` is also an edge
to the package ``a.b``, whose ``__init__`` Python runs first. A package's ``__init__`` is the node
of the package itself; the edges *from* ``v2a_kit/__init__.py`` (the public facade, which
re-exports from below) are left out, since every module imports it implicitly.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "v2a_kit"
DESIGN = ROOT / "docs" / "design.md"


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
                # importing a.b.c runs a/b/__init__ first: an edge to every enclosing package
                # (but the root's facade, which every module would otherwise reach)
                while t and t != PACKAGE:
                    if t != name and not name.startswith(t + "."):
                        graph[name].add(t)
                    t = t.rpartition(".")[0]
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
    for _name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    found.append((n, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def layer_table(design: Path = DESIGN) -> dict[str, int]:
    """``{name: layer}`` from the layers table of ``design`` (§2 of docs/design.md): the rows
    ``| N. title | `name`, `pkg.*`, ... | ... |``, names relative to the package."""
    text = design.read_text()
    section = text[text.index("## 2. Layers"):]
    section = section[:section.index("\n## ", 1)]
    table = {}
    for row in re.finditer(r"^\|\s*(\d+)\.[^|]*\|([^|]*)\|", section, re.M):
        for name in re.findall(r"`([^`]+)`", row[2]):
            table[name] = int(row[1])
    if not table:
        raise ValueError(f"{design}: no layers table found in its section '2. Layers'")
    return table


def layer_of(module: str, table: dict[str, int]) -> int | None:
    rel = module.removeprefix(PACKAGE + ".")
    if rel in table:
        return table[rel]
    parts = rel.split(".")
    for k in range(len(parts) - 1, 0, -1):        # the nearest "pkg.*" above it
        star = ".".join(parts[:k]) + ".*"
        if star in table:
            return table[star]
    return None


def layer_problems(graph: dict[str, set[str]], table: dict[str, int]) -> list[str]:
    """What breaks the layer rule: modules without a layer, names that are no module, and
    every import of a higher layer (``graph`` as :func:`edges` gives it, which already holds
    the edge to each package whose ``__init__`` an import runs)."""
    problems = [f"{m}: no layer in docs/design.md §2" for m in sorted(graph)
                if m != PACKAGE and layer_of(m, table) is None]
    rel = {m.removeprefix(PACKAGE + ".") for m in graph}
    for name in sorted(table):
        base = name.removesuffix(".*")
        if base not in rel or (name.endswith(".*") and not any(r.startswith(base + ".")
                                                               for r in rel)):
            problems.append(f"{name}: in the layers table but no such module")
    for a in sorted(graph):
        la = layer_of(a, table)
        for b in sorted(graph[a]):
            lb = layer_of(b, table)
            if la is not None and lb is not None and lb > la:
                problems.append(f"{a} (layer {la}) imports {b} (layer {lb})")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long", type=int, default=None, metavar="N",
                    help="also list functions longer than N lines")
    args = ap.parse_args(argv)
    mods = modules()
    graph = edges(mods)
    found = cycles(graph)
    print(f"{len(mods)} modules, {len(found)} import cycle(s)")
    for comp in found:
        print("  cycle: " + " <-> ".join(comp))
    breaches = layer_problems(graph, layer_table())
    print(f"{len(breaches)} layer problem(s) (docs/design.md §2)")
    for line in breaches:
        print("  " + line)
    if args.long is not None:
        funcs = long_functions(mods, args.long)
        print(f"{len(funcs)} function(s) over {args.long} lines")
        for n, where in funcs:
            print(f"  {n:4d}  {where}")
    return 1 if found or breaches else 0


if __name__ == "__main__":
    raise SystemExit(main())
