"""Refusals come first: every bad option and every kind of bad file is refused before torch is
imported, in one line that names the input and what was expected, leaving no file or folder;
numbers are refused with their range, never replaced by a default (``--steps 0`` once ran 10).

The cases run in one child process (the kit's CLI ``main``, one case after another), which
reports for each: the exit status, stderr, whether torch had been imported by then, and what
appeared in its folder or in its private temp folder. How long they take is
``benchmarks/bench_startup.py``'s business, not a test's."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import v2a_kit as vk
from v2a_kit.preflight import GENERATOR_FACTS, RUN_DIR, RunSettings
from v2a_kit.presets import get_preset, list_presets

ROOT = Path(__file__).resolve().parents[1]

# name -> (argv, words the one-line refusal must hold). Paths are relative to the case folder.
GENERATE = ["generate", "ok.png", "-o", "out"]
CASES = {
    # --- each numeric option of generate, zero / negative / out of range / not a number
    "steps 0": (GENERATE + ["--steps", "0"], ["--steps", "0", "≥ 1"]),
    "steps negative": (GENERATE + ["--steps", "-3"], ["--steps", "-3", "≥ 1"]),
    "steps not an integer": (GENERATE + ["--steps", "1.5"], ["--steps", "1.5", "integer"]),
    "steps above the schedule": (GENERATE + ["--steps", "5000"], ["--steps 5000", "[1, 1000]"]),
    "num-samples 0": (GENERATE + ["--num-samples", "0"], ["--num-samples", "≥ 1"]),
    "num-frames 0": (GENERATE + ["--num-frames", "0"], ["--num-frames", "≥ 1"]),
    "batch-size 0": (GENERATE + ["--batch-size", "0"], ["--batch-size", "≥ 1"]),
    "guidance below 1": (GENERATE + ["--guidance", "0.5"], ["--guidance", "0.5", "≥ 1"]),
    "guidance nan": (GENERATE + ["--guidance", "nan"], ["--guidance", "nan", "≥ 1"]),
    "guidance inf": (GENERATE + ["--guidance", "inf"], ["--guidance", "inf", "≥ 1"]),
    "mapper-guidance 0": (GENERATE + ["--mapper-guidance", "0"], ["--mapper-guidance", "≥ 1"]),
    "seed negative": (GENERATE + ["--seed", "-1"], ["--seed", "-1", "[0, 2**63 - 1]"]),
    "seed too large": (GENERATE + ["--seed", str(2**63)], ["--seed", "[0, 2**63 - 1]"]),
    "length 0": (GENERATE + ["--length", "0"], ["--length", "> 0"]),
    "length negative": (GENERATE + ["--length", "-2"], ["--length", "> 0"]),
    "length above the generator's": (GENERATE + ["--length", "30"],
                                     ["--length 30", "[0.04, 1]", "pocket-audioldm"]),
    # --- names and choices
    "unknown scheduler": (GENERATE + ["--scheduler", "euler"], ["--scheduler", "euler"]),
    "unknown preset": (GENERATE + ["--preset", "nope"], ["'nope'", "expected one of"]),
    "a kind with a preset that ships none": (GENERATE + ["--preset", "tiny"],
                                              ["--mapper diffusion", "tiny preset", "expected"]),
    "a mapper that is neither kind nor folder": (GENERATE + ["--mapper", "nope"],
                                                 ["--mapper nope", "checkpoint folder"]),
    "a direct baseline given as the mapper": (GENERATE + ["--mapper", "direct-ckpt"],
                                              ["--mapper direct-ckpt", "v2a-kit-direct-1",
                                               "expected a v2a-kit-mapper-1", "direct baseline",
                                               "not a V2A-Mapper"]),
    # --- the timing-aware variant (--timing onsets): what it cannot read, before any model
    "unknown timing": (GENERATE + ["--timing", "beats"], ["--timing", "beats"]),
    "timing with a preset without a predictor": (GENERATE + ["--preset", "tiny", "--timing",
                                                             "onsets"],
                                                 ["--timing onsets", "tiny preset", "expected"]),
    "timing: a 10-fps video": (["generate", "slow.mp4", "-o", "out", "--timing", "onsets"],
                               ["slow.mp4", "10 fps", "expected 25 fps"]),
    "timing: a video shorter than one note": (["generate", "blink.mp4", "-o", "out", "--timing",
                                               "onsets"],
                                              ["blink.mp4", "expected at least one note"]),
    # --- each kind of bad file
    "truncated PNG": (["generate", "truncated.png", "-o", "out"], ["truncated.png", "expected"]),
    "text named .jpg": (["generate", "notes.jpg", "-o", "out"], ["notes.jpg", "expected"]),
    "empty file": (["generate", "empty.png", "-o", "out"], ["empty.png", "expected"]),
    "missing file": (["generate", "absent.png", "-o", "out"], ["absent.png", "expected"]),
    "too small an image": (["generate", "tiny.png", "-o", "out"], ["tiny.png", "expected"]),
    "text named .mp4": (["generate", "notes.mp4", "-o", "out"], ["notes.mp4", "expected"]),
    "not media at all": (["generate", "notes.txt", "-o", "out"], ["notes.txt", "expected"]),
    "a folder without media": (["generate", "nothing", "-o", "out"], ["nothing", "no image/video"]),
    "a bad file inside a folder": (["generate", "mixed", "-o", "out"],
                                   ["broken.png", "expected"]),
    "two inputs, one output name": (["generate", "a/ok.png", "b/ok.png", "-o", "out"],
                                    ["a/ok.png", "b/ok.png", "expected"]),
    "output under a file": (GENERATE[:3] + ["a-file/out"], ["a-file", "expected"]),
    "a run with other settings": (GENERATE[:3] + ["old-run", "--seed", "1"],
                                  ["old-run", "seed", "expected"]),
    # --- the other commands' numbers and inputs
    "embed batch-size 0": (["embed", "ok.png", "--model", "clip", "--batch-size", "0"],
                           ["--batch-size", "≥ 1"]),
    "embed num-frames 0": (["embed", "ok.png", "--model", "clip", "--num-frames", "0"],
                           ["--num-frames", "≥ 1"]),
    "embed a missing input": (["embed", "absent", "--model", "clip"], ["absent", "expected"]),
    "train val 0": (["train", "--clip", "c.st", "--clap", "a.st", "--config", "ridge", "-o", "m",
                     "--val", "0"], ["--val", "fraction"]),
    "train val 2.5": (["train", "--clip", "c.st", "--clap", "a.st", "--config", "ridge", "-o",
                       "m", "--val", "2.5"], ["--val", "whole count"]),
    "train epochs 0": (["train", "--clip", "c.st", "--clap", "a.st", "--config", "ridge", "-o",
                        "m", "--epochs", "0"], ["--epochs", "≥ 1"]),
    "train lr 0": (["train", "--clip", "c.st", "--clap", "a.st", "--config", "ridge", "-o", "m",
                    "--lr", "0"], ["--lr", "> 0"]),
    "train patience negative": (["train", "--clip", "c.st", "--clap", "a.st", "--config",
                                 "ridge", "-o", "m", "--patience", "-1"], ["--patience", "≥ 0"]),
    "train batch-size 0": (["train", "--clip", "c.st", "--clap", "a.st", "--config", "ridge",
                            "-o", "m", "--batch-size", "0"], ["--batch-size", "≥ 1"]),
    "train a missing file": (["train", "--clip", "absent.st", "--clap", "a.st", "--config",
                              "ridge", "-o", "m"], ["absent.st", "expected"]),
    "evaluate batch-size 0": (["evaluate", "nothing", "--batch-size", "0"],
                              ["--batch-size", "≥ 1"]),
    "evaluate a missing folder": (["evaluate", "absent"], ["absent", "expected"]),
    "pocket export num 0": (["pocket", "export", "-o", "pairs", "--num", "0", "--seed", "1"],
                            ["--num", "≥ 1"]),
    "pocket export seed negative": (["pocket", "export", "-o", "pairs", "--num", "2", "--seed",
                                     "-5"], ["--seed", "[0, 2**63 - 1]"]),
    "pocket build seed negative": (["pocket", "build", "-o", "b", "--seed", "-1"], ["--seed"]),
    "pocket mappers seed negative": (["pocket", "mappers", "-o", "m", "--seed", "-1"],
                                     ["--seed"]),
}

CHILD = textwrap.dedent("""
    import contextlib, io, json, os, sys, tempfile
    from pathlib import Path
    from v2a_kit.cli import main

    def listing(*roots):
        return sorted(str(p) for r in roots for p in Path(r).rglob("*"))

    results = {}
    for name, argv in json.loads(sys.argv[1]).items():
        before = listing(".", tempfile.gettempdir())
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(argv)
        results[name] = {"rc": rc, "err": err.getvalue(), "torch": "torch" in sys.modules,
                         "new": sorted(set(listing(".", tempfile.gettempdir())) - set(before))}
    print(json.dumps(results))
""")


def _case_folder(root: Path) -> None:
    """The inputs the cases name: good ones and every kind of bad one."""
    from v2a_kit.pocket.world import sample_world
    ok = Image.fromarray(sample_world(1, seed=3).images[0])
    ok.save(root / "ok.png")
    whole = (root / "ok.png").read_bytes()
    (root / "truncated.png").write_bytes(whole[:60])
    (root / "notes.jpg").write_text("not an image")
    (root / "notes.mp4").write_text("not a video")
    (root / "notes.txt").write_text("not media")
    (root / "empty.png").write_bytes(b"")
    Image.new("RGB", (4, 4)).save(root / "tiny.png")
    (root / "nothing").mkdir()
    (root / "nothing" / "readme.txt").write_text("no media here")
    (root / "mixed").mkdir()
    ok.save(root / "mixed" / "good.png")
    (root / "mixed" / "broken.png").write_bytes(whole[:60])
    for sub in ("a", "b"):
        (root / sub).mkdir()
        ok.save(root / sub / "ok.png")
    (root / "a-file").write_text("a file, not a folder")
    from v2a_kit.media import write_video
    still = np.asarray(ok)[None]
    write_video(root / "slow.mp4", still.repeat(10, 0), 10)    # 1 s at 10 fps
    write_video(root / "blink.mp4", still.repeat(4, 0), 25)    # 0.16 s: shorter than a note
    (root / "c.st").write_bytes(b"x")
    (root / "a.st").write_bytes(b"x")
    (root / "direct-ckpt").mkdir()   # a direct baseline's checkpoint: no mapper
    (root / "direct-ckpt" / "config.json").write_text(json.dumps(
        {"kind": "direct", "format": "v2a-kit-direct-1", "sha256": "0" * 64}))
    (root / "direct-ckpt" / "model.safetensors").write_bytes(b"x")
    old = root / "old-run" / RUN_DIR
    old.mkdir(parents=True)
    earlier = RunSettings("pocket", "diffusion", "dpmsolver++", 10, 2.5, None, 0, 1, 8, "mean",
                          None, 16, True)
    (old / "settings.json").write_text(json.dumps({"digest": earlier.digest,
                                                   "settings": earlier.to_dict()}))


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    root = tmp_path_factory.mktemp("refusals")
    work, tmp = root / "work", root / "tmp"
    work.mkdir()
    tmp.mkdir()
    _case_folder(work)
    env = {**__import__("os").environ, "TMPDIR": str(tmp)}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps({k: v[0] for k, v in
                                                                    CASES.items()})],
                         cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(CASES))
def test_refused_in_one_line_before_torch_leaving_nothing(refusals, case):
    got = refusals[case]
    lines = got["err"].strip().splitlines()
    assert got["rc"] == 2, got
    assert len(lines) == 1 and " error: " in lines[0], lines
    for words in CASES[case][1]:
        assert words in lines[0], (words, lines[0])
    assert "Traceback" not in got["err"]
    assert not got["torch"], f"torch was imported by the time {case!r} was refused"
    assert got["new"] == [], got["new"]


def test_steps_zero_is_refused_not_replaced():
    """The old CLI read ``args.steps or default``: 0 ran (and recorded) the default 10."""
    from argparse import Namespace

    from v2a_kit.preflight import generate_settings
    args = Namespace(preset="pocket", mapper="diffusion", scheduler="dpmsolver++", steps=None,
                     guidance=2.5, mapper_guidance=None, seed=0, num_samples=1, num_frames=8,
                     length=None, batch_size=16, no_video=False)
    assert generate_settings(args).num_inference_steps == 10          # None: the default
    args.steps = 3
    assert generate_settings(args).num_inference_steps == 3
    args.scheduler, args.steps = "ddim", None
    assert generate_settings(args).num_inference_steps == 200


@pytest.mark.parametrize("preset", list_presets())
def test_generator_facts_are_the_loaded_generators_own(preset):
    """What preflight refuses without loading a model is what the generator itself allows."""
    name = get_preset(preset).audioldm
    facts = GENERATOR_FACTS[name]
    gen = vk.load_audioldm(preset, random_init=preset == "paper", device="cpu")
    assert facts.min_length_s == pytest.approx(gen.min_length_s)
    assert facts.max_length_s == pytest.approx(gen.max_length_s)
    assert facts.train_steps == gen.scheduler.config.num_train_timesteps


def test_the_cli_numbers_still_accept_their_edges(tmp_path):
    """The ranges' own edges pass the parser: seed 0, guidance 1 (none), patience 0."""
    from v2a_kit.cli import build_parser
    p = build_parser()
    a = p.parse_args(["generate", "x", "-o", "y", "--seed", "0", "--guidance", "1",
                      "--steps", "1", "--length", "0.5", "--seed", str(2**63 - 1)])
    assert (a.seed, a.guidance, a.steps, a.length) == (2**63 - 1, 1.0, 1, 0.5)
    t = p.parse_args(["train", "--clip", "a", "--clap", "b", "--config", "ridge", "-o", "m",
                      "--patience", "0", "--val", "0.5"])
    assert (t.patience, t.val) == (0, 0.5)
    assert p.parse_args(["train", "--clip", "a", "--clap", "b", "--config", "ridge", "-o", "m",
                         "--val", "12"]).val == 12
    assert np.isfinite(a.guidance)
