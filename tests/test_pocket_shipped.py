"""The shipped pocket build: loads offline through the default preset, and its gates hold.

The figures in ``v2a_kit/pocket/weights/build.json`` were measured by the build itself on 1,000
pairs of world seed 1000. Here they are measured again on a world seed nothing was trained on or
judged with before (4321), on fewer clips, and must agree within the stated tolerances — which
are sampling noise, not slack: ±0.03 for zero-shot accuracy on 400 pairs; for the tagger on
generated clips (48 here, the build's 150) three standard errors of the difference of the two
accuracies, which both carry sampling error (±0.17 at 0.87 on all five, ±0.06 at 0.99).
"""

import json

import numpy as np
import pytest

import v2a_kit
from v2a_kit.pocket.build import describe_build
from v2a_kit.pocket.gates import measure_gates
from v2a_kit.pocket.models.loading import load_audio_to_image, load_tagger, pocket_dir
from v2a_kit.pocket.world import ATTRIBUTES, AUDIBLE, WORLD_VERSION

ZERO_SHOT_TOL = 0.03
CHANCE = {a: 1 / len(v) for a, v in AUDIBLE.items()}


@pytest.fixture(scope="module")
def shipped():
    return json.loads((pocket_dir() / "build.json").read_text())


@pytest.fixture(scope="module")
def remeasured():
    return measure_gates(num_held_out=400, held_out_seed=4321, num_generate=48)


def test_pocket_is_the_default_and_loads_offline(empty_hf_cache):
    # empty_hf_cache makes any download client raise: everything comes from the package
    assert v2a_kit.default_preset() == "pocket"
    clip, clap = v2a_kit.load_clip(device="cpu"), v2a_kit.load_clap(device="cpu")
    gen = v2a_kit.load_audioldm(device="cpu")
    assert clip.space.dim == 64 and clap.space.dim == 48 and gen.space == clap.space
    assert clip.space.checkpoint.startswith("pocket-build:")
    assert v2a_kit.check_space(clap, gen).agree
    tagger, a2i = load_tagger(), load_audio_to_image()
    assert a2i.config.embed_dim == clip.space.dim and tagger.config.feature_dim > 0


def test_shipped_build_records_how_it_was_made(shipped):
    assert shipped["fast"] is False and shipped["seed"] == 0
    assert shipped["world_version"] == WORLD_VERSION
    cmd = shipped["command"]
    assert cmd.startswith("v2a-kit pocket build") and "--fast" not in cmd
    assert shipped["gates"]["settings"]["num_held_out"] == 1000
    # the README beside the weights is the build's own description of build.json
    assert (pocket_dir() / "README.md").read_text() == describe_build(shipped)
    size = sum(f.stat().st_size for f in pocket_dir().rglob("*") if f.is_file())
    assert size < 60e6, f"shipped weights are {size / 1e6:.1f} MB"


def test_shipped_gates(shipped):
    g = shipped["gates"]
    for a in ATTRIBUTES:                      # the zero-shot target: ≥ 0.9 on every attribute
        assert g["clip_zero_shot"][a] >= 0.9, a
    for a in AUDIBLE:
        assert g["clap_zero_shot"][a] >= 0.9, a
        assert g["tagger_real"][a] >= 0.98 and g["ceiling"][a] >= 0.95, a
        # the generator follows every audible attribute of its condition, above chance; shape,
        # colour and count at ≥ 0.8 (size, the loudness, and the contour are its weak spots:
        # benchmarks/bench_pocket_science.py measures what that costs)
        for key in ("generated_from_audio", "generated_from_text"):
            assert g[key][a] >= CHANCE[a] + 0.1, (key, a)
    for a in ("shape", "colour"):
        assert g["generated_from_audio"][a] >= 0.8, a
    # guided sounds are about as loud as real ones at the calibrated rescale
    assert 0.7 <= g["loudness"]["ratio"] <= 1.4
    # the CS evaluator places audio nearer its own image than the others
    assert g["audio_to_image"]["paired_cosine"] > g["audio_to_image"]["unpaired_cosine"] + 0.2


def _agree(a: float, n_a: int, b: float, n_b: int) -> float:
    """Three standard errors of the difference of two accuracies measured on n_a and n_b
    independent clips (pooled, with one success and one failure added so that 1.0 vs 1.0 is
    not a zero-width check)."""
    p = (a * n_a + b * n_b + 1) / (n_a + n_b + 2)
    return 3 * float(np.sqrt(p * (1 - p) * (1 / n_a + 1 / n_b)))


def test_gates_hold_on_a_fresh_seed(shipped, remeasured):
    g = shipped["gates"]
    n_build, n_here = g["settings"]["num_generate"], remeasured["settings"]["num_generate"]
    for a in (*AUDIBLE, "all"):
        for key in ("clip_zero_shot", "clap_zero_shot", "tagger_real"):
            if a in g[key]:                    # pocket-CLIP is not judged on the contour
                assert abs(remeasured[key][a] - g[key][a]) <= ZERO_SHOT_TOL, (key, a)
        for key in ("generated_from_audio", "generated_from_text"):
            gap = abs(remeasured[key][a] - g[key][a])
            assert gap <= _agree(g[key][a], n_build, remeasured[key][a], n_here), (key, a, gap)


def test_generation_follows_its_condition(remeasured):
    # the tagger reads shape, colour and count of the condition far above chance
    for key in ("generated_from_audio", "generated_from_text"):
        assert all(remeasured[key][a] > CHANCE[a] + 0.3 for a in ("shape", "colour", "count")), key
    assert np.isfinite(remeasured["audio_to_image"]["paired_cosine"])
