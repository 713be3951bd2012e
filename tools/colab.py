"""The "Open in Colab" badge and the Colab install cell at the top of every numbered notebook.

    python tools/colab.py           # insert or refresh both cells in notebooks/NN_*.ipynb
    python tools/colab.py --check   # exit 1 if a notebook lacks them or carries another form

Every notebook starts with two cells this script writes: a markdown cell with the badge (a link
that opens the notebook from GitHub in Colab) and a code cell that installs the kit **only on
Colab** (``"google.colab" in sys.modules``): locally and under nbval it does nothing.

The repository's place on GitHub is ONE setting, ``Repository`` under ``[project.urls]`` in
``pyproject.toml`` (:func:`repository` reads it into :data:`GITHUB_REPO`): every badge, every
install cell's clone URL and the README's clone command (``tools/update_readme.py``) are made
from it, and ``--check`` (like ``tests/test_colab.py``) also refuses any other GitHub address of
the kit in a notebook, the README or docs/. It lives in pyproject.toml rather than in this script
because it is the package's own metadata too (``pip show v2a-kit`` prints it; an index shows it):
one place for the address, whoever reads it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli, which pytest (the dev extra) installs there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PYPROJECT = ROOT / "pyproject.toml"
# documents where the kit's own address may appear (besides the notebooks)
DOCS = ("README.md", "notebooks/README.md", "docs/*.md", "recipes/*/README.md")
_GITHUB_URL = re.compile(r"https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?")


def repository(pyproject: Path = PYPROJECT) -> str:
    """``owner/name`` from pyproject.toml's ``[project.urls] Repository`` (an
    ``https://github.com/OWNER/NAME`` address); a ``SystemExit`` naming the setting if it is
    missing or not such an address."""
    where = f"{pyproject}: [project.urls] Repository"
    urls = tomllib.loads(Path(pyproject).read_text()).get("project", {}).get("urls", {})
    url = urls.get("Repository")
    if not isinstance(url, str):
        raise SystemExit(f"{where} is not set; expected "
                         '"https://github.com/OWNER/NAME", the repository\'s address')
    match = _GITHUB_URL.fullmatch(url)
    if not match:
        raise SystemExit(f"{where} is {url!r}; expected \"https://github.com/OWNER/NAME\" "
                         "(the badges open notebooks from GitHub in Colab)")
    return f"{match[1]}/{match[2]}"


# owner/name of the repository on GitHub: the one setting, in pyproject.toml
GITHUB_REPO = repository()
BRANCH = "main"
COLAB_DIR = "/content/v2a-kit"      # where the install cell clones the repository on Colab
BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
INSTALL_GUARD = 'if "google.colab" in sys.modules:'


def colab_url(name: str, repo: str = GITHUB_REPO) -> str:
    """The Colab address that opens ``notebooks/<name>`` of ``repo`` on GitHub."""
    return f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/notebooks/{name}"


def clone_url(repo: str = GITHUB_REPO) -> str:
    """What ``git clone`` takes: the install cells and the README's clone command use it."""
    return f"https://github.com/{repo}.git"


def badge_source(name: str, repo: str = GITHUB_REPO) -> str:
    return (f"[![Open In Colab]({BADGE_SVG})]({colab_url(name, repo)})\n"
            "\n"
            "On Colab, run the next cell first: it fetches the kit and installs it, once per\n"
            "session (pip shows its progress). If pip reports that it changed numpy or torch,\n"
            "choose *Runtime → Restart session* and run the notebook from the top (the cell then\n"
            "skips the download). Anywhere else the next cell does nothing.")


def install_source(repo: str = GITHUB_REPO) -> str:
    return ("# Colab only: clone the kit with its notebooks, install it, work in notebooks/.\n"
            "import sys\n"
            "\n"
            f"{INSTALL_GUARD}\n"
            "    import os\n"
            f'    if not os.path.isdir("{COLAB_DIR}"):\n'
            f"        !git clone -q --depth 1 {clone_url(repo)} {COLAB_DIR}\n"
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


# the kit's address wherever one appears: a Colab link to a GitHub notebook, or a clone URL
_ADDRESSES = (re.compile(r"colab\.research\.google\.com/github/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)"),
              re.compile(r"git clone [^\n]*?https://github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)"
                         r"(?:\.git)?(?=[\s`'\"\\]|$)"))


def other_addresses(text: str, repo: str = GITHUB_REPO) -> list[str]:
    """Every Colab-from-GitHub link or ``git clone`` URL in ``text`` that names another
    repository than ``repo`` (the kit's address is made in one place: :func:`repository`)."""
    return sorted({m[1] for pattern in _ADDRESSES for m in pattern.finditer(text)
                   if m[1] != repo})


def address_problems(paths, repo: str = GITHUB_REPO) -> list[str]:
    """Files (notebooks: every cell; documents: all their text) that carry another address."""
    found = []
    for path in paths:
        path = Path(path)
        text = path.read_text()
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
        for other in other_addresses(text, repo):
            found.append(f"{path.name}: names the repository {other!r}, not {repo!r} "
                         "(pyproject.toml's [project.urls] Repository)")
    return found


def documents(root: Path = ROOT) -> list[Path]:
    return sorted(p for pattern in DOCS for p in root.glob(pattern))


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
        found = [p for nb in notebooks() for p in problems(nb)] + \
            address_problems(notebooks() + documents())
        print("\n".join(found) or f"all {len(notebooks())} notebooks carry the badge and the "
                                   "install cell")
        return 1 if found else 0
    for nb in notebooks():
        print(f"{nb.name}: {'updated' if apply(nb) else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
