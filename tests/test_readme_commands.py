"""Every command in the README runs as written from a fresh clone: each ```python and ```bash
block is run (from a folder that holds what a clone holds: ``examples/``, ``.venv``), or is
named below with what it needs that a clone cannot have (the paper's weights, a GPU cluster,
a dataset). What the commands write is git-ignored, and the quickstart prints what its picture
shows beside the sounds."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from v2a_kit.pocket.world import sample_world

ROOT = Path(__file__).resolve().parents[1]
# The blocks run one after another in one fixture (they build on each other's files): a few
# minutes on an idle 2-core machine, far more on a busy one.
pytestmark = pytest.mark.timeout(3600)

# A block holding one of these needs what a fresh clone does not have.
NEEDS = {
    "make tutorial": "the Makefile's own targets (tests/test_tutorial_command.py, CI's make test)",
    "make notebooks": "the Makefile's own targets (a full run re-executes every notebook)",
    'load_clip("paper")': "the paper's published weights (a download)",
    'load_clap("laion-630k-audioset-best")': "LAION's CLAP weights (a download)",
    "torchrun": "the paper's weights, several GPUs and VGGSound",
    "recipes/vggsound": "VGGSound and the paper's weights",
    "--imagehear": "a copy of ImageHear and the paper's judges",
    "git clone": "the network, and the repository published at pyproject.toml's Repository "
                 "address (the clone this test runs in stands for it)",
}


def _blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S)
            if m.group(1) in ("python", "bash")]


def _needs(code: str) -> str | None:
    return next((why for key, why in NEEDS.items() if key in code), None)


RUNNABLE = [(lang, code) for lang, code in _blocks() if _needs(code) is None]


def test_every_block_is_run_or_says_what_it_needs():
    blocks = _blocks()
    assert len(RUNNABLE) >= 5 and len(blocks) > len(RUNNABLE)
    for key in NEEDS:  # no stale reasons: each still matches a block
        assert any(key in code for _, code in blocks), key


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Run every runnable block in order, in one folder, as a user would from the clone."""
    work = tmp_path_factory.mktemp("readme")
    (work / "examples").symlink_to(ROOT / "examples")
    (work / ".venv").symlink_to(Path(sys.prefix))   # the environment these tests run in
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    results = []
    for lang, code in RUNNABLE:
        cmd = [sys.executable, "-c", code] if lang == "python" else ["bash", "-e", "-c", code]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True,
                             timeout=1200)
        print(f"README block ({time.perf_counter() - t0:.0f} s): {code.splitlines()[0]}")
        results.append((code, out))
    return work, results


def test_every_runnable_block_succeeds(ran):
    _, results = ran
    failed = [f"{code}\n-> exit {out.returncode}: {out.stderr[-1500:]}" for code, out in results
              if out.returncode != 0]
    assert not failed, "\n\n".join(failed)


def test_the_quickstart_prints_what_the_picture_shows_beside_its_sounds(ran):
    work, results = ran
    code, out = next((c, o) for c, o in results if "scene.image_captions" in c)
    caption = sample_world(1, seed=2026).image_captions[0]
    assert out.stdout.strip() == (f"{caption}: sounds/image_000_s0.wav, sounds/image_000_s1.wav, "
                                  "sounds/image_000_s2.wav")
    assert "IPython" not in out.stdout


def test_the_generate_examples_write_what_they_say_and_warn_about_the_photo(ran):
    work, results = ran
    cli = next(o for c, o in results if c.startswith("v2a-kit generate examples/pocket/ "
                                                     "examples/pocket_scenes.mp4"))
    warned = [ln for ln in cli.stderr.splitlines() if "look like the pocket world" in ln]
    assert len(warned) == 1 and "photo.jpg" in warned[0] and "scene-" not in warned[0]
    for name in ("scene-0_s2.wav", "pocket_scenes_s0.wav", "pocket_scenes_v2a.mp4",
                 "photo_s1.wav", "generate.json"):
        assert (work / "sounds" / name).is_file(), name
    evaluated = next(o for c, o in results if "v2a-kit evaluate" in c)
    assert "FD" in evaluated.stdout and "CS" in evaluated.stdout


def test_what_the_commands_write_is_git_ignored(ran):
    work, _ = ran
    written = sorted(p.name + ("/" if p.is_dir() else "") for p in work.iterdir()
                     if p.name not in ("examples", ".venv"))
    assert {"sounds/", "pairs/", "clip.safetensors", "my_mapper/"} <= set(written)
    check = subprocess.run(["git", "check-ignore", "--no-index", *written], cwd=ROOT,
                           capture_output=True, text=True)
    assert sorted(check.stdout.split()) == written
