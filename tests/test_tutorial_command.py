"""The README's tutorial command starts JupyterLab: start it, fetch its page, stop it."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(port: int) -> list[str]:
    args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} " \
           "--ServerApp.token= --ServerApp.password= --ServerApp.port_retries=0"
    venv_is_ours = Path(sys.prefix).resolve() == (ROOT / ".venv").resolve()
    # `make tutorial` exactly as the README says, when this suite runs from the Makefile's venv
    # (its setup is then up to date and starts nothing new); otherwise the same jupyter call.
    if venv_is_ours and shutil.which("make") and subprocess.run(
            ["make", "-q", "setup"], cwd=ROOT).returncode == 0:
        return ["make", "-s", "tutorial", f"JUPYTER_ARGS={args}"]
    root = ["--allow-root"] if os.geteuid() == 0 else []
    return [sys.executable, "-m", "jupyter", "lab", "--notebook-dir=notebooks", *root,
            *args.split()]


def test_tutorial_command_serves_jupyterlab(tmp_path):
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    cmd = _command(port)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline and page is None:
            if proc.poll() is not None:
                pytest.fail("JupyterLab exited early:\n" + proc.stdout.read().decode()[-3000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5) as r:
                    page = (r.status, r.read().decode())
            except OSError:
                time.sleep(1)
        assert page is not None, "JupyterLab did not answer within 120 s"
        status, html = page
        assert status == 200 and "JupyterLab" in html
        if cmd[0] == "make":  # the Makefile registered the kit's kernel
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs") as r:
                assert b"v2a-kit" in r.read()
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
            return
        except ProcessLookupError:  # already gone
            return
        except subprocess.TimeoutExpired:
            continue


def test_make_setups_git_filter_commits_notebooks_with_their_outputs(tmp_path):
    """`make setup` installs nbstripout as a git filter; committed notebooks must keep their
    outputs (plots, players, tables) and lose only metadata."""
    import json
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    nb = ROOT / "notebooks" / "00_quickstart.ipynb"
    original = json.loads(nb.read_text())
    original["metadata"]["widgets"] = {"state": "a widget's saved state, to be stripped"}
    (repo / nb.name).write_text(json.dumps(original))
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "git-filter",
                    f"VENV={sys.prefix}"], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", "add", nb.name], cwd=repo, check=True)
    staged = json.loads(subprocess.run(["git", "show", f":{nb.name}"], cwd=repo, check=True,
                                       capture_output=True, text=True).stdout)
    outputs = [c.get("outputs") for c in original["cells"] if c["cell_type"] == "code"]
    assert sum(map(len, outputs)) > 0
    assert [c.get("outputs") for c in staged["cells"] if c["cell_type"] == "code"] == outputs
    assert "widgets" not in staged["metadata"]
