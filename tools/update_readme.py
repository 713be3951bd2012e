"""Rewrite the README's generated tables from the JSON files that hold their numbers.

    python tools/update_readme.py

- ``schedulers``: benchmarks/results/schedulers.json (benchmarks/bench_schedulers.py);
- ``reproduction``: figures/06_reproduction.json (notebook 06);
- ``notebooks``: the tutorial's table of contents, from each notebook's title cell (its heading
  and its "**Run time**" line).

tests/test_docs.py fails when the README and these files disagree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from v2a_kit.atomic import atomic_write
from v2a_kit.pocket.reproduce import reproduction_table
from v2a_kit.pocket.schedulers import scheduler_table

ROOT = Path(__file__).resolve().parent.parent


def notebook_table(folder: Path = ROOT / "notebooks") -> str:
    """| notebook | what it covers | run time | from each numbered notebook's first cell."""
    rows = ["| notebook | what it covers | run time on 2 CPU cores |", "|---|---|---|"]
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        first = json.loads(path.read_text())["cells"][0]
        text = "".join(first["source"])
        heading = re.match(r"# \d+ — (.+)", text.splitlines()[0])
        run_time = re.search(r"\*\*Run time\*\* on 2 CPU cores: ([^\n]*(?:\n(?!\n)[^\n]*)*)",
                             text)
        if first["cell_type"] != "markdown" or not heading or not run_time:
            raise SystemExit(f"{path}: its first cell needs a '# NN — title' heading and a "
                             "'**Run time** on 2 CPU cores: ...' line")
        when = " ".join(run_time.group(1).split()).rstrip(".")
        rows.append(f"| [`{path.stem}`](notebooks/{path.name}) | {heading.group(1)} | {when} |")
    return "\n".join(rows)


def _from_json(path: Path, render):
    return lambda: render(json.loads(path.read_text()))


BLOCKS = {  # block name -> what renders its text
    "schedulers": _from_json(ROOT / "benchmarks" / "results" / "schedulers.json", scheduler_table),
    "reproduction": _from_json(ROOT / "figures" / "06_reproduction.json", reproduction_table),
    "notebooks": notebook_table,
}


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
    for name, render in BLOCKS.items():
        text = replace_block(text, name, render())
    atomic_write(readme, text.encode())
    print(f"updated {', '.join(BLOCKS)} in {readme}")


if __name__ == "__main__":
    main()
