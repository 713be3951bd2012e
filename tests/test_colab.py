"""Every numbered notebook opens in Colab from the same badge form and starts with an install
cell that acts only on Colab: locally and under nbval it runs nothing."""

import importlib.util
import json
import sys
import types
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _tool():
    spec = importlib.util.spec_from_file_location("colab_tool", ROOT / "tools" / "colab.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_every_notebook_has_the_badge_and_the_install_cell():
    tool = _tool()
    names = [nb.name for nb in NOTEBOOKS]
    assert len(NOTEBOOKS) >= 9 and {"07_real_models.ipynb", "08_timing.ipynb"} <= set(names)
    for nb in NOTEBOOKS:
        assert tool.problems(nb) == []
        badge = "".join(json.loads(nb.read_text())["cells"][0]["source"])
        assert (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                f"(https://colab.research.google.com/github/{tool.GITHUB_REPO}/blob/main/"
                f"notebooks/{nb.name})") in badge


def test_check_finds_a_missing_or_stale_cell(tmp_path):
    tool = _tool()
    nb = json.loads(NOTEBOOKS[0].read_text())
    bare = tmp_path / "00_x.ipynb"
    bare.write_text(json.dumps({**nb, "cells": nb["cells"][2:]}))
    assert len(tool.problems(bare)) == 2
    assert tool.apply(bare) and tool.problems(bare) == [] and not tool.apply(bare)  # idempotent
    stale = json.loads(bare.read_text())
    stale["cells"][0]["source"] = [s.replace(tool.GITHUB_REPO, "someone/else")
                                   for s in stale["cells"][0]["source"]]
    bare.write_text(json.dumps(stale))
    assert tool.problems(bare) == ["00_x.ipynb: its badge differs from tools/colab.py's form"]


def _run_install_cell(source: str, monkeypatch, on_colab: bool) -> list[str]:
    """Run the cell as IPython would (its `!` lines become system calls), recording the shell
    commands and directory changes instead of making them."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(source)
    calls: list[str] = []
    shell = types.SimpleNamespace(system=calls.append)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr("os.chdir", lambda d: calls.append(f"chdir {d}"))
    monkeypatch.setattr("os.path.isdir", lambda d: False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(code, "<install cell>", "exec"), {"get_ipython": lambda: shell})
    return calls


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_install_cell_acts_only_on_colab(nb, monkeypatch):
    tool = _tool()
    source = "".join(json.loads(nb.read_text())["cells"][1]["source"])
    assert _run_install_cell(source, monkeypatch, on_colab=False) == []
    calls = _run_install_cell(source, monkeypatch, on_colab=True)
    assert calls[0].startswith(f"git clone -q --depth 1 https://github.com/{tool.GITHUB_REPO}")
    assert calls[1] == f"pip install -q -e {tool.COLAB_DIR}"
    assert calls[2] == f"chdir {tool.COLAB_DIR}/notebooks"


def test_the_address_is_the_one_setting_in_pyproject(tmp_path):
    """GITHUB_REPO is read from pyproject.toml's [project.urls] Repository, and nothing else."""
    tool = _tool()
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    assert url == f"https://github.com/{tool.GITHUB_REPO}"
    assert "GITHUB_REPO = repository()" in (ROOT / "tools" / "colab.py").read_text()
    moved = tmp_path / "pyproject.toml"
    moved.write_text('[project.urls]\nRepository = "https://github.com/someone/else.git"\n')
    assert tool.repository(moved) == "someone/else"
    for bad, why in (('[project]\nname = "x"\n', "is not set"),
                     ('[project.urls]\nRepository = "https://gitlab.com/a/b"\n', "is 'https://gitlab"),
                     ('[project.urls]\nRepository = "https://github.com/a"\n', "is 'https://github.com/a'")):
        moved.write_text(bad)
        with pytest.raises(SystemExit, match=r"\[project.urls\] Repository " + why):
            tool.repository(moved)


def test_every_badge_install_cell_and_clone_url_is_made_from_the_setting():
    """Every cell of every notebook, the README and docs/: any Colab-from-GitHub link or clone
    URL names the setting's repository; the README's clone command is tools/update_readme.py's
    rendering of it, and there is one."""
    tool = _tool()
    docs = tool.documents()
    assert {"README.md", "design.md"} <= {p.name for p in docs}
    assert tool.address_problems(NOTEBOOKS + docs) == []
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- clone:begin -->\n")[1].split("\n<!-- clone:end -->")[0]
    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "tools" /
                                                  "update_readme.py")
    update_readme = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(update_readme)
    assert block == update_readme.clone_text()
    assert f"git clone https://github.com/{tool.GITHUB_REPO}.git" in block
    for nb in NOTEBOOKS:   # each notebook, by its own text, links and clones the setting's address
        text = "".join(json.loads(nb.read_text())["cells"][0]["source"]) + \
            "".join(json.loads(nb.read_text())["cells"][1]["source"])
        assert f"/github/{tool.GITHUB_REPO}/blob/" in text and tool.clone_url() in text


def test_a_notebook_or_document_with_another_address_is_found(tmp_path):
    tool = _tool()
    nb = json.loads(NOTEBOOKS[-1].read_text())
    other = json.loads(json.dumps(nb))
    for cell in other["cells"]:   # the same notebook, moved to another repository everywhere
        cell["source"] = [s.replace(tool.GITHUB_REPO, "someone/else") for s in cell["source"]]
    (tmp_path / "07_x.ipynb").write_text(json.dumps(other))
    stray = json.loads(json.dumps(nb))   # the right badge, but a later cell clones elsewhere
    stray["cells"].append({"cell_type": "markdown", "metadata": {},
                           "source": ["`git clone https://github.com/someone/else`"]})
    (tmp_path / "08_y.ipynb").write_text(json.dumps(stray))
    (tmp_path / "README.md").write_text(
        "[open](https://colab.research.google.com/github/a/b/blob/main/notebooks/00.ipynb)\n")
    found = tool.address_problems(sorted(tmp_path.iterdir()))
    assert [f.split(":")[0] for f in found] == ["07_x.ipynb", "08_y.ipynb", "README.md"]
    assert "'someone/else'" in found[0] and "'a/b'" in found[2]
    assert tool.problems(tmp_path / "07_x.ipynb") == [
        "07_x.ipynb: its badge differs from tools/colab.py's form",
        "07_x.ipynb: its install cell differs from tools/colab.py's form"]
