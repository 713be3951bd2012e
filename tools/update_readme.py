"""Rewrite the README's generated tables from the JSON files that hold their numbers.

    python tools/update_readme.py

- ``schedulers``: benchmarks/results/schedulers.json (benchmarks/bench_schedulers.py);
- ``reproduction``: figures/06_reproduction.json (notebook 06).

tests/test_docs.py fails when the README and these files disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

from v2a_kit.atomic import atomic_write
from v2a_kit.pocket.reproduce import reproduction_table
from v2a_kit.pocket.schedulers import scheduler_table

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = {"schedulers": (ROOT / "benchmarks" / "results" / "schedulers.json", scheduler_table),
          "reproduction": (ROOT / "figures" / "06_reproduction.json", reproduction_table)}


def replace_block(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, sep, rest = text.partition(begin)
    _, sep2, tail = rest.partition(end)
    if not (sep and sep2):
        raise SystemExit(f"README.md has no {begin} ... {end} block")
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    for name, (path, render) in BLOCKS.items():
        text = replace_block(text, name, render(json.loads(path.read_text())))
    atomic_write(readme, text.encode())
    print(f"updated {', '.join(BLOCKS)} in {readme}")


if __name__ == "__main__":
    main()
