"""Notebooks leave nothing in the temp folder.

A notebook under nbval runs in a kernel that is killed when it ends, so ``atexit`` never runs:
the notebooks remove their scratch folder themselves (``v2a_kit.atomic.scratch_folder``, last
cell), and the kit imports open_clip without timm's wandb hook (``v2a_kit.quiet``), whose two
temp folders per kernel only an orderly exit removes. Checked by listing a private temp folder
before and after a notebook run under nbval, as ``make test`` runs it."""

import getpass
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from v2a_kit.atomic import scratch_folder

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_generate_and_listen.ipynb"   # writes files, runs the CLI


def test_a_notebook_under_nbval_leaves_the_temp_folder_as_it_was(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp / "someone-elses-file").write_text("kept")
    before = sorted(p.name for p in tmp.iterdir())
    env = {**os.environ, "TMPDIR": str(tmp), "V2A_FAST": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--basetemp", str(tmp_path / "basetemp"), "--nbval-lax",
                          "--nbval-current-env", str(NOTEBOOK)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stdout[-3000:]
    # torch's own compile cache (one fixed folder per user, made by `import diffusers` through
    # torch._dynamo and reused by every torch process) is a cache, not something left behind
    after = [p.name for p in tmp.iterdir() if p.name != f"torchinductor_{getpass.getuser()}"]
    assert sorted(after) == before


def test_scratch_folders_of_gone_sessions_are_removed_by_the_next(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    code = textwrap.dedent("""
        import os, sys
        from v2a_kit.atomic import scratch_folder
        f = scratch_folder("v2a-test")
        print(f)
        sys.stdout.flush()
        os._exit(0)   # killed, as nbval stops a kernel: no atexit
    """)
    left = Path(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True).stdout.strip())
    assert left.is_dir() and left.parent == tmp_path
    ended = subprocess.run([sys.executable, "-c", "from v2a_kit.atomic import scratch_folder; "
                            "print(scratch_folder('v2a-test'))"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert not left.exists()                      # the killed session's, removed by the next
    assert not Path(ended).exists()               # an orderly exit removes its own
    mine = scratch_folder("v2a-test-live")        # a live session's is kept
    try:
        again = scratch_folder("v2a-test-live")
        assert mine.is_dir() and again.is_dir() and mine != again
    finally:
        for f in (mine, again):
            f.rmdir()
