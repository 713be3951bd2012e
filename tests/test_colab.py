"""Every numbered notebook opens in Colab from the same badge form and starts with an install
cell that acts only on Colab: locally and under nbval it runs nothing."""

import importlib.util
import json
import sys
import types
from pathlib import Path

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
    assert len(NOTEBOOKS) >= 8 and NOTEBOOKS[-1].name == "07_real_models.ipynb"
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
