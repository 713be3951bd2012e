"""The "Open in Colab" badge and the Colab install cell at the top of every numbered notebook.

    python tools/colab.py           # insert or refresh both cells in notebooks/NN_*.ipynb
    python tools/colab.py --check   # exit 1 if a notebook lacks them or carries another form

Every notebook starts with two cells this script writes: a markdown cell with the badge (a link
that opens the notebook from GitHub in Colab) and a code cell that installs the kit **only on
Colab** (``"google.colab" in sys.modules``): locally and under nbval it does nothing. The
repository's place on GitHub is :data:`GITHUB_REPO`, the one constant every badge and the clone
URL are made from (``tests/test_colab.py`` checks that every notebook carries the same form).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

# owner/name of the repository on GitHub. The project has not published its address yet (neither
# pyproject.toml nor the README names one): set it here and rerun this script.
GITHUB_REPO = "v2a-kit/v2a-kit"
BRANCH = "main"
COLAB_DIR = "/content/v2a-kit"      # where the install cell clones the repository on Colab
BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
INSTALL_GUARD = 'if "google.colab" in sys.modules:'


def colab_url(name: str, repo: str = GITHUB_REPO) -> str:
    """The Colab address that opens ``notebooks/<name>`` of ``repo`` on GitHub."""
    return f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/notebooks/{name}"


def badge_source(name: str, repo: str = GITHUB_REPO) -> str:
    return (f"[![Open In Colab]({BADGE_SVG})]({colab_url(name, repo)})\n"
            "\n"
            "On Colab, run the next cell first: it fetches the kit and installs it (a few\n"
            "minutes, "
            "once per session). If pip reports that it changed numpy or torch, choose *Runtime →\n"
            "Restart session* and run the notebook from the top (the cell then skips the\n"
            "download). Anywhere else the next cell does nothing.")


def install_source(repo: str = GITHUB_REPO) -> str:
    return ("# Colab only: clone the kit with its notebooks, install it, work in notebooks/.\n"
            "import sys\n"
            "\n"
            f"{INSTALL_GUARD}\n"
            "    import os\n"
            f'    if not os.path.isdir("{COLAB_DIR}"):\n'
            f"        !git clone -q --depth 1 https://github.com/{repo}.git {COLAB_DIR}\n"
            f"        !pip install -q -e {COLAB_DIR}\n"
            f'    sys.path.insert(0, "{COLAB_DIR}")\n'
            f'    os.chdir("{COLAB_DIR}/notebooks")')


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _is_badge(cell: dict) -> bool:
    return cell["cell_type"] == "markdown" and BADGE_SVG in "".join(cell["source"])


def _is_install(cell: dict) -> bool:
    return cell["cell_type"] == "code" and INSTALL_GUARD in "".join(cell["source"])


def expected_cells(name: str) -> list[dict]:
    return [{"cell_type": "markdown", "metadata": {}, "source": _lines(badge_source(name))},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": _lines(install_source())}]


def problems(path: Path) -> list[str]:
    """What is wrong with the top of one notebook (empty: both cells, in the current form)."""
    cells = json.loads(path.read_text())["cells"]
    want = expected_cells(path.name)
    found = []
    if len(cells) < 2 or not _is_badge(cells[0]):
        found.append(f"{path.name}: its first cell is not the Colab badge")
    elif "".join(cells[0]["source"]) != "".join(want[0]["source"]):
        found.append(f"{path.name}: its badge differs from tools/colab.py's form")
    if len(cells) < 2 or not _is_install(cells[1]):
        found.append(f"{path.name}: its second cell is not the Colab install cell")
    elif "".join(cells[1]["source"]) != "".join(want[1]["source"]):
        found.append(f"{path.name}: its install cell differs from tools/colab.py's form")
    return found


def apply(path: Path) -> bool:
    """Insert (or refresh) the two cells at the top of ``path``; True if the file changed."""
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if not (_is_badge(c) or _is_install(c))]
    new = expected_cells(path.name)
    if [c["source"] for c in nb["cells"][:2]] == [c["source"] for c in new] and \
            len(cells) == len(nb["cells"]) - 2:
        return False
    nb["cells"] = new + cells
    if nb.get("nbformat_minor", 0) >= 5:   # ids as the repository's nbstripout filter writes them
        for i, cell in enumerate(nb["cells"]):
            cell["id"] = str(i)
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return True


def notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report; exit 1 on a problem")
    args = ap.parse_args(argv)
    if args.check:
        found = [p for nb in notebooks() for p in problems(nb)]
        print("\n".join(found) or f"all {len(notebooks())} notebooks carry the badge and the "
                                   "install cell")
        return 1 if found else 0
    for nb in notebooks():
        print(f"{nb.name}: {'updated' if apply(nb) else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
