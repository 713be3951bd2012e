"""The README's tutorial command starts JupyterLab on trusted notebooks: start it, fetch its
page and a notebook, stop it. `make setup`'s git filter commits notebooks with their outputs and
saved widget state, and nothing else of their metadata."""

import json
import re
import subprocess
import sys
import urllib.request

from _lab import ROOT, running_lab

sys.path.insert(0, str(ROOT / "tools"))
from notebook_outputs import NBSTRIPOUT_ARGS  # noqa: E402


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


def test_tutorial_command_serves_jupyterlab_with_the_notebooks_trusted(tmp_path):
    """In Jupyter folders of its own (no trust recorded yet), the command trusts the numbered
    notebooks: the server reports every code cell of one as trusted, so its HTML, players and
    widgets show as saved."""
    with running_lab(ROOT / "notebooks", tmp_path) as (base, cmd):
        status, html = _get(f"{base}/lab")
        assert status == 200 and "JupyterLab" in html
        if cmd[0] == "make":  # the Makefile registered the kit's kernel
            assert "v2a-kit" in _get(f"{base}/api/kernelspecs")[1]
        _, body = _get(f"{base}/api/contents/00_quickstart.ipynb?content=1")
        cells = [c for c in json.loads(body)["content"]["cells"] if c["cell_type"] == "code"]
        assert cells and all(c["metadata"].get("trusted") is True for c in cells)


def test_make_setups_git_filter_commits_notebooks_with_their_outputs(tmp_path):
    """`make setup` installs nbstripout as a git filter; committed notebooks must keep their
    outputs (plots, players, tables) and saved widget state (the explorer shows before it is
    run) and lose every other piece of metadata."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    nb = ROOT / "notebooks" / "00_quickstart.ipynb"
    original = json.loads(nb.read_text())
    widgets = {"application/vnd.jupyter.widget-state+json": {
        "state": {"abc": {"model_name": "ButtonModel", "state": {"description": "generate"}}},
        "version_major": 2, "version_minor": 0}}
    original["metadata"]["widgets"] = widgets
    original["metadata"]["signature"] = "sha256:" + "0" * 64
    original["cells"][3]["metadata"]["ExecuteTime"] = {"end_time": "2026-01-01T00:00:00"}
    (repo / nb.name).write_text(json.dumps(original))
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "git-filter",
                    f"VENV={sys.prefix}"], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", "add", nb.name], cwd=repo, check=True)
    staged = json.loads(subprocess.run(["git", "show", f":{nb.name}"], cwd=repo, check=True,
                                       capture_output=True, text=True).stdout)
    outputs = [c.get("outputs") for c in original["cells"] if c["cell_type"] == "code"]
    assert sum(map(len, outputs)) > 0
    assert [c.get("outputs") for c in staged["cells"] if c["cell_type"] == "code"] == outputs
    assert staged["metadata"]["widgets"] == widgets
    assert "signature" not in staged["metadata"]
    assert "ExecuteTime" not in staged["cells"][3]["metadata"]


def test_the_makefile_and_the_notebook_tool_strip_alike():
    """`make setup`'s filter and `make lint` (Makefile NBSTRIP) keep what `make notebooks`
    (tools/notebook_outputs.py NBSTRIPOUT_ARGS) keeps."""
    line = re.search(r"^NBSTRIP\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert line and tuple(line.group(1).split()) == NBSTRIPOUT_ARGS


def test_the_tutorial_command_trusts_only_numbered_notebooks(tmp_path):
    """`make tutorial` trusts the kit's numbered notebooks in its folder, and with none there
    trusts nothing (rather than waiting for a notebook on stdin)."""
    for name in ("00_a.ipynb", "mine.ipynb"):
        (tmp_path / name).write_text("{}")
    plan = subprocess.run(["make", "-n", "-s", "tutorial", f"TUTORIAL_DIR={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    trust = [line for line in plan.splitlines() if " trust " in line]
    assert len(trust) == 1 and trust[0].endswith(f"trust {tmp_path}/00_a.ipynb")
    (tmp_path / "00_a.ipynb").unlink()
    plan = subprocess.run(["make", "-n", "-s", "tutorial", f"TUTORIAL_DIR={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert " trust " not in plan and f"--notebook-dir={tmp_path}" in plan
