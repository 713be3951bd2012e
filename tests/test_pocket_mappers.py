"""The shipped pocket mappers, and their reproduction from the command line (FAST)."""

import json

import pytest
import torch
from safetensors.torch import load_file

import v2a_kit as vk
from v2a_kit.cli import main
from v2a_kit.pocket.models.loading import pocket_dir


def test_shipped_mappers_load_offline_in_the_pocket_spaces(empty_hf_cache):
    clip, clap = vk.load_clip(device="cpu"), vk.load_clap(device="cpu")
    report = json.loads((pocket_dir() / "mappers" / "mappers.json").read_text())
    assert report["fast"] is False
    for kind in ("regression", "diffusion", "ridge"):
        m = vk.load_mapper("pocket", kind=kind, clip_space=clip.space, clap_space=clap.space)
        assert m.kind == kind
        r = report["mappers"][kind]
        # above chance (1/1000) on SEEN combinations of the test world seed: the trained
        # mappers ≈ 58×, the linear map ≈ 8× (measured on world 2; the bounds leave room for
        # rebuilds); UNSEEN combinations are harder (ridge at chance there)
        bound = 4 if kind == "ridge" else 30
        assert r["test_seen_recall@1"] > bound * report["chance"]["recall@1"], kind
        assert 0 <= r["test_unseen_recall@1"] <= 1
    with pytest.raises(vk.ConfigError, match="kind="):
        vk.load_mapper("pocket")
    with pytest.raises(vk.WeightsNotFoundError, match="v2a-kit train"):
        vk.load_mapper("paper", kind="regression")


def test_cli_reproduces_the_pocket_mappers(tmp_path):
    seed_args = ["--no-progress"]
    a = tmp_path / "a"
    assert main(["pocket", "mappers", "-o", str(a), "--fast", *seed_args]) == 0
    report = json.loads((a / "mappers.json").read_text())
    cmds = report["cli_equivalent"]
    pairs, cache = tmp_path / "pairs", tmp_path / "cache"
    n = report["mappers"]["regression"]["num_train"] + report["mappers"]["regression"]["num_val"]
    assert cmds[0] == f"v2a-kit pocket export -o pairs --num {n} --seed 2000 --split seen"
    assert main(["pocket", "export", "-o", str(pairs), "--num", str(n), "--seed", "2000",
                 "--split", "seen"]) == 0
    for model, kind in (("clip", "image"), ("clap", "audio")):
        assert main(["embed", str(pairs), "--kind", kind, "--model", model, "--preset", "pocket",
                     "--out", str(tmp_path / f"{model}.safetensors"), "--cache", str(cache),
                     "--no-progress"]) == 0
    for kind in ("regression", "diffusion", "ridge"):
        line = next(c for c in cmds if c.startswith("v2a-kit train") and f"-o {kind}" in c)
        argv = line.split()[1:]
        argv[argv.index("--clip") + 1] = str(tmp_path / "clip.safetensors")
        argv[argv.index("--clap") + 1] = str(tmp_path / "clap.safetensors")
        argv[argv.index("-o") + 1] = str(tmp_path / "b" / kind)
        assert main([*argv, "--no-progress"]) == 0
        ours = load_file(str(tmp_path / "b" / kind / "model.safetensors"))
        theirs = load_file(str(a / kind / "model.safetensors"))
        assert ours.keys() == theirs.keys()
        for k in ours:
            assert torch.allclose(ours[k], theirs[k], atol=1e-6), (kind, k)
    # the generative mapper's guidance: `v2a-kit pocket calibrate` on the CLI-trained weights
    # sets the same default as `v2a-kit pocket mappers` did
    line = next(c for c in cmds if c.startswith("v2a-kit pocket calibrate"))
    argv = line.split()[1:]
    argv[argv.index("diffusion")] = str(tmp_path / "b" / "diffusion")
    assert main(argv) == 0
    ours, theirs = (json.loads((f / "diffusion" / "config.json").read_text())
                    for f in (tmp_path / "b", a))
    assert ours["config"]["guidance_scale"] == theirs["config"]["guidance_scale"]
    calib = theirs["extra"]["guidance_calibration"]
    assert calib == ours["extra"]["guidance_calibration"]
    assert calib["guidance_scale"] in (1.0, 2.0)
    assert report["mappers"]["diffusion"]["guidance_calibration"] == calib


def test_shipped_generative_mapper_is_calibrated():
    """Its default guidance is the grid value whose spread ratio is nearest 1, as recorded."""
    import math

    from v2a_kit.pocket.mappers import CALIBRATION_SEED, GUIDANCE_GRID
    clip, clap = vk.load_clip(device="cpu"), vk.load_clap(device="cpu")
    m = vk.load_mapper("pocket", kind="diffusion", clip_space=clip.space, clap_space=clap.space)
    calib = json.loads((pocket_dir() / "mappers" / "mappers.json").read_text()
                       )["mappers"]["diffusion"]["guidance_calibration"]
    assert calib["world_seed"] == CALIBRATION_SEED and calib["split"] == "seen"
    assert [float(g) for g in calib["spread_ratio"]] == list(GUIDANCE_GRID)
    best = min(calib["spread_ratio"].items(), key=lambda kv: abs(math.log(kv[1])))[0]
    assert m.config.guidance_scale == float(best) == calib["guidance_scale"]
    # more guidance, less spread: the calibration has something to choose from
    ratios = list(calib["spread_ratio"].values())
    assert ratios[0] > ratios[-1]
    x = torch.randn(3, clip.space.dim)
    g = torch.Generator().manual_seed(0)
    default = m.sample(x, num_samples=2, generator=g)
    explicit = m.sample(x, num_samples=2, guidance_scale=m.config.guidance_scale,
                        generator=torch.Generator().manual_seed(0))
    assert torch.equal(default, explicit)


def test_calibration_refuses_what_it_cannot_calibrate():
    from v2a_kit.pocket.mappers import calibrate_prior_guidance
    clip, clap = vk.load_clip(device="cpu"), vk.load_clap(device="cpu")
    reg = vk.load_mapper("pocket", kind="regression", clip_space=clip.space,
                         clap_space=clap.space)
    with pytest.raises(vk.ConfigError, match="diffusion mapper.*'regression'"):
        calibrate_prior_guidance(reg, clip, clap)
    diff = vk.load_mapper("pocket", kind="diffusion", clip_space=clip.space,
                          clap_space=clap.space)
    with pytest.raises(vk.ConfigError, match="grid="):
        calibrate_prior_guidance(diff, clip, clap, grid=(0.5, 2.0))
