"""Regenerate the notebooks' exercise blocks from ``v2a_kit.exercises``.

In each notebook's Exercises section (the markdown from its "Exercises" heading to the next
"## " heading) every ``**Exercise NN.k.** question`` paragraph gets the module's question and
every ``<details><summary>Solution NN.k</summary> ... </details>`` block the module's
``exercises.details(id)``; nothing outside that section is touched, and no cell is executed.

    python tools/sync_exercises.py           # rewrite the notebooks that differ
    python tools/sync_exercises.py --check   # exit 1, naming them, if any differs
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^##\s+(?:\d+\.\s+)?Exercises\s*$", re.M)


def _section(text: str) -> tuple[int, int] | None:
    """(start, end) of the Exercises section in a cell's text, or None."""
    m = HEADING.search(text)
    if not m:
        return None
    nxt = re.compile(r"^## ", re.M).search(text, m.end())
    return m.start(), nxt.start() if nxt else len(text)


def sync_text(section: str, nb_id: str) -> str:
    """The section with each exercise's question and folded solution as the module has them."""
    from v2a_kit import exercises
    for ex_id in exercises.ids(nb_id):
        ex = exercises.EXERCISES[ex_id]
        q = re.compile(r"^\*\*Exercise " + re.escape(ex_id) + r"\.\*\* .*?(?=\n\n|\Z)", re.M | re.S)
        if not q.search(section):
            raise SystemExit(f"notebook {nb_id}: no '**Exercise {ex_id}.**' paragraph")
        section = q.sub(lambda _m, ex=ex: f"**Exercise {ex.id}.** {ex.question}", section)
        block = re.compile(r"<details><summary>Solution " + re.escape(ex_id)
                           + r"</summary>.*?</details>", re.S)
        if not block.search(section):
            raise SystemExit(f"notebook {nb_id}: no folded solution block for {ex_id}")
        section = block.sub(lambda _m, i=ex_id: exercises.details(i), section)
    return section


def sync(path: Path) -> bool:
    """Rewrite ``path``'s Exercises section if it differs; return whether it did."""
    nb = json.loads(path.read_text())
    nb_id = path.name[:2]
    changed = False
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        span = _section(text)
        if span is None:
            continue
        new = text[:span[0]] + sync_text(text[span[0]:span[1]], nb_id) + text[span[1]:]
        if new != text:
            cell["source"] = new.splitlines(keepends=True)
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only report notebooks that differ")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    stale = []
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        if args.check:
            original = path.read_text()
            if sync(path):
                stale.append(path.name)
                path.write_text(original)
        elif sync(path):
            print(f"updated {path.name}")
    if stale:
        print("exercise blocks out of date (run tools/sync_exercises.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
