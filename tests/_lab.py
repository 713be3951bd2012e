"""JupyterLab started as the README's `make tutorial` starts it (trust the numbered notebooks,
then serve them), on a folder of notebooks, in Jupyter folders of its own: for the tests that
talk to it (tests/test_tutorial_command.py, tests/test_browser.py)."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def makefile_is_ours() -> bool:
    """Whether this suite runs from the Makefile's venv with its install up to date, so `make
    tutorial` starts JupyterLab at once (else it would install first)."""
    venv_is_ours = Path(sys.prefix).resolve() == (ROOT / ".venv").resolve()
    return venv_is_ours and shutil.which("make") is not None and subprocess.run(
        ["make", "-q", ".venv/.v2a-installed"], cwd=ROOT).returncode == 0


def lab_command(port: int, notebook_dir: Path) -> list[str]:
    """`make tutorial` on ``notebook_dir`` when the Makefile's venv runs this suite; otherwise
    the same two steps with this interpreter's Jupyter."""
    args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
            "--ServerApp.token= --ServerApp.password= --ServerApp.port_retries=0")
    if makefile_is_ours():
        return ["make", "-s", "tutorial", f"TUTORIAL_DIR={notebook_dir}", f"JUPYTER_ARGS={args}"]
    root = " --allow-root" if os.geteuid() == 0 else ""
    jupyter = f"{shlex.quote(sys.executable)} -m jupyter"
    numbered = " ".join(shlex.quote(str(p)) for p in sorted(notebook_dir.glob("[0-9]*.ipynb")))
    trust = f"{jupyter} trust {numbered} && " if numbered else ""
    return ["sh", "-c", f"{trust}exec {jupyter} lab --notebook-dir={shlex.quote(str(notebook_dir))}"
            f"{root} {args}"]


def jupyter_env(folder: Path, **extra: str) -> dict:
    """The environment with Jupyter's data (the trust database), config (workspaces, settings)
    and runtime folders inside ``folder``: nothing of the user's is read or written."""
    return {**os.environ, "JUPYTER_DATA_DIR": str(folder / "data"),
            "JUPYTER_CONFIG_DIR": str(folder / "config"),
            "JUPYTER_RUNTIME_DIR": str(folder / "runtime"), **extra}


@contextlib.contextmanager
def running_lab(notebook_dir: Path, folder: Path, timeout_s: float = 120, **env: str):
    """Start JupyterLab on ``notebook_dir`` (see :func:`lab_command`); yields (base URL, the
    command used); stops it and everything it started on exit."""
    port = free_port()
    cmd = lab_command(port, notebook_dir)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "jupyterlab.log"  # a file, not a pipe: a long session must never block on it
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=jupyter_env(folder, **env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                said = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"JupyterLab exited early ({' '.join(cmd)}):\n{said}")
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer within {timeout_s:.0f} s "
                                       f"({' '.join(cmd)})") from None
                time.sleep(0.5)
        yield base, cmd
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End ``proc``'s process group (JupyterLab and the kernels it started)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
            return
        except ProcessLookupError:  # already gone
            return
        except subprocess.TimeoutExpired:
            continue
