"""`v2a-kit pocket build` in FAST mode, and its output loaded through the kit's loaders."""

import json
import re

import numpy as np
import pytest
import torch

from v2a_kit import (
    ConfigError,
    WeightsNotFoundError,
    check_space,
    generate,
    load_audioldm,
    load_clap,
    load_clip,
)
from v2a_kit.cli import main
from v2a_kit.pocket.world import ATTRIBUTES, AUDIBLE, WORLD_VERSION, sample_world


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("pocket") / "build"
    assert main(["pocket", "build", "-o", str(out), "--fast", "--no-progress"]) == 0
    return out


def test_build_writes_a_complete_folder(build_dir):
    report = json.loads((build_dir / "build.json").read_text())
    assert report["seed"] == 0 and report["fast"] is True
    assert report["world_version"] == WORLD_VERSION
    gates = report["gates"]
    for key, attrs in (("clip_zero_shot", ATTRIBUTES), ("nearest_image", ATTRIBUTES),
                       ("clap_zero_shot", AUDIBLE), ("tagger_real", AUDIBLE),
                       ("ceiling", AUDIBLE), ("generated_from_audio", AUDIBLE),
                       ("generated_from_text", AUDIBLE)):
        assert set(gates[key]) == {*attrs, "all"}, key
        assert all(0 <= v <= 1 for v in gates[key].values()), key
    assert gates["settings"]["held_out_seed"] == 1000 and gates["settings"]["num_generate"] == 8
    assert gates["loudness"]["ratio"] == pytest.approx(gates["loudness"]["generated_rms"]
                                                      / gates["loudness"]["real_rms"], rel=1e-3)
    assert set(report["timings_s"]) >= {"clip_s", "clap_s", "audioldm_s", "evaluators_s",
                                        "calibration_s", "gates_s"}
    # the calibration kept the candidate with the most sounds right in what they are and in
    # how loud (then the smaller level error, then the RMS ratio), and the generator loads with
    # it as its default
    cal = report["generator"]
    right = {float(k): v for k, v in cal["right"].items()}
    errors = {float(k): v for k, v in cal["level_error_db"].items()}
    ratios = {float(k): v for k, v in cal["rms_ratio"].items()}
    assert set(right) == set(errors) == set(ratios) == set(map(float, cal["level_bias_db"]))
    assert all(0 <= v <= 1 for v in right.values())
    # a median of sizes is never below the size of the median
    assert all(e >= abs(cal["level_bias_db"][str(k)]) - 2e-3 for k, e in errors.items())
    assert cal["guidance_rescale"] == min(ratios, key=lambda phi: (
        -right[phi], errors[phi], abs(np.log(ratios[phi]))))
    assert load_audioldm("pocket", weights=build_dir).guidance_rescale == cal["guidance_rescale"]
    from v2a_kit.pocket.gates import calibrate_guidance_rescale
    with pytest.raises(ConfigError, match="labels hold \\[3\\] values for 4 clips"):
        calibrate_guidance_rescale(build_dir, np.zeros((4, 16000)), labels={"shape": [0] * 3})
    for f in ("clip/model.safetensors", "clap/model.safetensors", "clap/tokenizer.json",
              "audioldm/unet/diffusion_pytorch_model.safetensors", "audioldm/vae/config.json",
              "evaluators/tagger/model.safetensors", "evaluators/audio_to_image/config.json"):
        assert (build_dir / f).is_file(), f
    assert not list(build_dir.parent.glob(".tmp~*"))  # no temporary folder left


def test_pocket_models_load_through_the_kit(build_dir):
    world = sample_world(4, seed=7)
    clip = load_clip("pocket", weights=build_dir, device="cpu")
    clap = load_clap("pocket", weights=build_dir, device="cpu")
    gen = load_audioldm("pocket", weights=build_dir, device="cpu")
    img = clip.encode_images(list(world.images))
    aud = clap.encode_audio([(a, 16000) for a in world.audio])
    assert img.shape == (4, 64) and aud.shape == (4, 48)
    assert clip.space.checkpoint.startswith("pocket-build:") and gen.space == clap.space
    # the generator's text encoder is pocket-CLAP's own text tower: one space
    assert check_space(clap, gen).agree
    out = generate(gen, aud, num_inference_steps=2, generator=torch.Generator().manual_seed(0),
                   progress=False)
    assert out.waveforms.shape == (4, 16000) and np.isfinite(out.waveforms).all()
    again = load_clip("pocket", weights=build_dir, device="cpu").encode_images(list(world.images))
    assert torch.equal(again.embeds, img.embeds)


def test_build_evaluators_load_and_judge(build_dir):
    from v2a_kit.pocket.models.loading import load_audio_to_image, load_tagger
    world = sample_world(3, seed=7)
    tagger, a2i = load_tagger(build_dir), load_audio_to_image(build_dir)
    pred = tagger.predict(world.audio)
    assert set(pred) == set(AUDIBLE) and pred["contour"].shape == (3,)
    clip = load_clip("pocket", weights=build_dir, device="cpu")
    assert a2i.embed(world.audio).shape == (3, clip.space.dim)
    vae = load_audioldm("pocket", weights=build_dir, device="cpu").vae.config
    assert vae.shift < -3 and 1 < vae.scale < 5  # standardised on the training latents


def test_missing_build_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="pocket build"):
        load_clip("pocket", weights=tmp_path)


def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    import v2a_kit.pocket.models.contrastive as contrastive

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(contrastive, "train_clap", boom)
    out = tmp_path / "b"
    assert main(["pocket", "build", "-o", str(out), "--fast", "--no-progress"]) == 130
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_build_of_another_world_version_is_refused(build_dir, tmp_path, capsys):
    import shutil
    old = tmp_path / "old"
    shutil.copytree(build_dir, old)
    report = json.loads((old / "build.json").read_text())
    report["world_version"] = 1
    (old / "build.json").write_text(json.dumps(report))
    both = rf"world version 1.*version {WORLD_VERSION}"
    with pytest.raises(ConfigError, match=both):
        load_clip("pocket", weights=old)
    capsys.readouterr()
    # the mappers run reads the build first; the CLI prints the kit's one-line error
    assert main(["pocket", "mappers", "-o", str(tmp_path / "m"), "--weights", str(old),
                 "--fast", "--no-progress"]) != 0
    assert re.search(both, capsys.readouterr().err)
    before = (old / "build.json").read_text()
    assert main(["pocket", "build", "-o", str(old), "--fast", "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert "refusing to replace" in err and re.search(both, err)
    assert (old / "build.json").read_text() == before and not (tmp_path / "m").exists()
