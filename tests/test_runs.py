"""Sharded, resumable runs (v2a_kit.runs): resume after a kill gives the same bytes and
recomputes only the chunk in flight, a failure names its input and keeps finished outputs, a
rerun with other settings is refused by name, bad inputs are refused before any model is loaded
and leave no folder; the evaluation's feature cache (v2a_kit.evaluation.features, sharded like
generation); data-parallel training under torchrun."""

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from v2a_kit.cli import main
from v2a_kit.distributed import DistInfo
from v2a_kit.errors import CacheError, MediaError
from v2a_kit.runs import (
    RUN_DIR,
    RankFailedError,
    RunSettings,
    SettingsMismatchError,
    Shard,
    generate_run,
    plan_generation,
)

REPO = Path(__file__).resolve().parents[1]
ONE = DistInfo(0, 1, 0)


def settings(**kw) -> RunSettings:
    base = dict(preset="pocket", mapper="regression", scheduler="dpmsolver++",
                num_inference_steps=2, guidance_scale=2.5, mapper_guidance_scale=1.0, seed=0,
                num_samples=1, num_frames=2, aggregate="mean", audio_length_in_s=None,
                batch_size=2, mux_videos=False)
    return RunSettings(**{**base, **kw})


@pytest.fixture(scope="module")
def pipe():
    from v2a_kit.pipeline import V2APipeline
    return V2APipeline.from_preset("pocket", "regression", device="cpu")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    from v2a_kit.pocket.world import sample_world
    folder = tmp_path_factory.mktemp("images")
    for i, im in enumerate(sample_world(7, seed=41).images):
        Image.fromarray(im).save(folder / f"im{i}.png")
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "settings.json"}


def test_chunks_go_round_robin_and_do_not_depend_on_the_world_size():
    assert Shard(0, 1, 3).chunks(7) == [range(0, 3), range(3, 6), range(6, 7)]
    assert Shard(1, 2, 3).chunks(10) == [range(3, 6), range(9, 10)]
    everyone = sorted((c for r in range(3) for c in Shard(r, 3, 3).chunks(10)),
                      key=lambda c: c.start)
    assert everyone == Shard(0, 1, 3).chunks(10)


def test_a_killed_run_resumes_with_the_same_bytes(pipe, images, tmp_path, monkeypatch):
    whole = generate_run(pipe, plan_generation(images, tmp_path / "a", settings()), ONE,
                         progress=False)
    assert whole.computed_here == 7 and [r.index for r in whole.records] == list(range(7))
    calls = {"n": 0}
    real = pipe.generate

    def killed_on_third_chunk(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as a kill: not caught, nothing of the chunk written
        return real(*a, **k)
    monkeypatch.setattr(pipe, "generate", killed_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        generate_run(pipe, plan_generation(images, tmp_path / "b", settings()), ONE,
                     progress=False)
    monkeypatch.setattr(pipe, "generate", real)
    done = sorted(p.name for p in (tmp_path / "b" / RUN_DIR / "done").iterdir())
    assert done == ["000000.json", "000001.json", "000002.json", "000003.json"]
    # killed between an output and its record: the wav is there, the record is not
    (tmp_path / "b" / RUN_DIR / "done" / "000003.json").unlink()
    (tmp_path / "b" / "im3.wav").write_bytes(b"half")
    stale = tmp_path / "b" / f".tmp~{socket.gethostname()}~4194999~dead.part.wav"  # no such pid
    stale.write_bytes(b"left by a killed writer")
    again = generate_run(pipe, plan_generation(images, tmp_path / "b", settings()), ONE,
                         progress=False)
    assert (again.computed_here, again.skipped_here) == (4, 3)  # im2-3 (the chunk), im4-6
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []


def test_a_failure_names_its_input_and_keeps_finished_outputs(pipe, images, tmp_path,
                                                              monkeypatch):
    real = pipe.embed

    def fails_on_im4(prepared, *a, **k):
        if any(p.source.name.endswith("im4.png") for p in prepared):
            raise RuntimeError("CUDA out of memory (simulated)")
        return real(prepared, *a, **k)
    monkeypatch.setattr(pipe, "embed", fails_on_im4)
    out = tmp_path / "out"
    with pytest.raises(RankFailedError, match=r"im4\.png.*out of memory.*rerun"):
        generate_run(pipe, plan_generation(images, out, settings()), ONE, progress=False)
    assert sorted(p.name for p in out.glob("*.wav")) == ["im0.wav", "im1.wav", "im2.wav",
                                                         "im3.wav"]
    assert json.loads((out / RUN_DIR / "failed-rank0.json").read_text())["rank"] == 0
    monkeypatch.setattr(pipe, "embed", real)
    rerun = generate_run(pipe, plan_generation(images, out, settings()), ONE, progress=False)
    assert rerun.computed_here == 3 and not (out / RUN_DIR / "failed-rank0.json").exists()


def test_a_rerun_with_other_settings_is_refused_by_name(pipe, images, tmp_path):
    out = tmp_path / "out"
    generate_run(pipe, plan_generation(images / "im0.png", out, settings()), ONE,
                 progress=False)
    before = files(out)
    with pytest.raises(SettingsMismatchError) as e:
        plan_generation(images / "im0.png", out, settings(seed=4, num_inference_steps=3))
    assert "seed: 0 (in the folder) vs 4 (now)" in str(e.value)
    assert "num_inference_steps" in str(e.value) and "guidance" not in str(e.value)
    assert files(out) == before


def test_bad_inputs_are_refused_before_any_model_and_leave_nothing(images, tmp_path,
                                                                    monkeypatch, capsys):
    from v2a_kit.pipeline import V2APipeline

    def no_model(*a, **k):
        raise AssertionError("a model was loaded before the inputs were checked")
    monkeypatch.setattr(V2APipeline, "from_preset", no_model)
    broken = tmp_path / "broken.png"
    broken.write_bytes((images / "im0.png").read_bytes()[:60])
    out = tmp_path / "new" / "out"
    assert main(["generate", str(images / "im1.png"), str(broken), "-o", str(out)]) == 2
    assert "broken.png" in capsys.readouterr().err and not (tmp_path / "new").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(MediaError, match="not a folder"):
        plan_generation(images / "im1.png", blocker / "out", settings())
    assert main(["generate", str(images / "im1.png"), "-o", str(out), "--mapper",
                 str(tmp_path / "no-checkpoint")]) == 2
    assert "no-checkpoint" in capsys.readouterr().err and not (tmp_path / "new").exists()


def test_features_are_cached_by_content_and_checked(tmp_path, monkeypatch):
    from v2a_kit.evaluation import folder as folder_mod
    from v2a_kit.evaluation import scoring
    from v2a_kit.pocket.world import sample_world, save_examples
    refs, gen = tmp_path / "refs", tmp_path / "gen"
    save_examples(sample_world(4, seed=7), refs, n=4, lossless=True)
    save_examples(sample_world(4, seed=8), gen, n=4, lossless=True)
    for p in gen.glob("*.png"):
        p.unlink()
    cache = tmp_path / "cache"
    kw = dict(references=refs, images=refs, preset="pocket", progress=False, batch_size=3)
    first = folder_mod.evaluate(gen, **kw)
    cached = folder_mod.evaluate(gen, cache_dir=cache, **kw)
    assert (cached.fd, cached.kl, cached.cs) == pytest.approx((first.fd, first.kl, first.cs))

    def no_extraction(*a, **k):
        raise AssertionError("a cached clip was extracted again")
    monkeypatch.setattr(scoring, "extract", no_extraction)
    hit = folder_mod.evaluate(gen, cache_dir=cache, **kw)
    assert (hit.fd, hit.kl, hit.cs) == (cached.fd, cached.kl, cached.cs)
    chunk = sorted(cache.rglob("chunk-*.safetensors"))[0]
    chunk.write_bytes(chunk.read_bytes()[:-8])
    with pytest.raises(CacheError, match=chunk.name):
        folder_mod.evaluate(gen, cache_dir=cache, **kw)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_training_under_torchrun(tmp_path):
    """One process under torchrun writes the single-process checkpoint, bit for bit; two
    train data-parallel and write one checkpoint of the same format."""
    import torch

    from v2a_kit import load_clap, load_clip
    from v2a_kit.embeddings import save_embeddings
    from v2a_kit.mappers import load_mapper_folder
    from v2a_kit.spaces import Embeddings
    from v2a_kit.train import Pairs, train_named
    clip, clap = load_clip("tiny"), load_clap("tiny")
    g = torch.Generator().manual_seed(1)
    x = torch.nn.functional.normalize(torch.randn(24, clip.space.dim, generator=g), dim=-1)
    y = torch.nn.functional.normalize(torch.randn(24, clap.space.dim, generator=g), dim=-1)
    names = [f"c{i:02d}.x" for i in range(24)]
    save_embeddings(Embeddings(x, clip.space, names), tmp_path / "clip.safetensors")
    save_embeddings(Embeddings(y, clap.space, names), tmp_path / "clap.safetensors")
    pairs = Pairs(Embeddings(x, clip.space, names), Embeddings(y, clap.space, names))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the launched processes (OMP_NUM_THREADS=1): same arithmetic
    try:
        train_named(pairs, "regression-pocket", tmp_path / "single", num_val=4, seed=2,
                    progress=False, epochs=2, batch_size=4)
    finally:
        torch.set_num_threads(threads)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}  # torchrun's log folder goes there
    for n in (1, 2):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
               str(n), "-m", "v2a_kit.cli", "train", "--clip", str(tmp_path / "clip.safetensors"),
               "--clap", str(tmp_path / "clap.safetensors"), "--config", "regression-pocket",
               "-o", str(tmp_path / f"ddp{n}"), "--val", "4", "--seed", "2", "--epochs", "2",
               "--batch-size", "4", "--no-progress"]
        res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
    assert _digest(tmp_path / "ddp1" / "model.safetensors") == \
        _digest(tmp_path / "single" / "model.safetensors")
    two = load_mapper_folder(tmp_path / "ddp2")
    meta = json.loads((tmp_path / "ddp2" / "config.json").read_text())
    assert two.kind == "regression" and meta["extra"]["world_size"] == 2
    assert _digest(tmp_path / "ddp2" / "model.safetensors") != \
        _digest(tmp_path / "single" / "model.safetensors")  # trained, on other arithmetic


FAILING_RANK = '''
import sys
from v2a_kit.distributed import distributed_env
from v2a_kit.pipeline import V2APipeline
from v2a_kit.runs import RunSettings, generate_run, plan_generation
settings = RunSettings(**{**SETTINGS, "batch_size": 1})
info = distributed_env()
pipe = V2APipeline.from_preset("pocket", "regression", device="cpu")
real = pipe.embed
def embed(prepared, *a, **k):
    if FAIL and any(p.source.name.endswith("im3.png") for p in prepared):
        raise RuntimeError("out of memory (simulated)")
    return real(prepared, *a, **k)
pipe.embed = embed
generate_run(pipe, plan_generation(sys.argv[1], sys.argv[2], settings), info, progress=False)
'''


def test_a_failing_rank_stops_every_rank_and_names_its_input(images, tmp_path):
    """Two processes, chunks of one input: rank 1 fails on im3; both exit non-zero naming it,
    the other inputs finished before stay, and a rerun completes the run."""
    from dataclasses import asdict
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}  # torchrun's log folder goes there
    out = tmp_path / "out"
    for fail in (True, False):
        script = tmp_path / f"rank{fail}.py"
        script.write_text(f"SETTINGS = {asdict(settings())!r}\nFAIL = {fail}\n" + FAILING_RANK)
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", str(script), str(images), str(out)]
        res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
        if fail:
            assert res.returncode != 0
            assert res.stderr.count("RankFailedError: rank 1 failed on") >= 2  # both ranks
            assert "im3.png" in res.stderr and "out of memory" in res.stderr
            assert (out / "im0.wav").exists() and (out / "im1.wav").exists()
            assert not (out / "im3.wav").exists()
        else:
            assert res.returncode == 0, res.stderr[-3000:]
    assert sorted(p.name for p in out.glob("*.wav")) == [f"im{i}.wav" for i in range(7)]
    assert not list((out / RUN_DIR).glob("failed-rank*.json"))


def test_the_feature_cache_keeps_each_clips_own_fad_rows(tmp_path):
    """VGGish gives one FAD row per 0.96 s: clips of other lengths have other counts."""
    import numpy as np

    from v2a_kit.evaluation.features import FEATURE_FORMAT, FeatureCache
    from v2a_kit.evaluation.scoring import AudioOutputs
    rng = np.random.default_rng(0)
    out = AudioOutputs(rng.normal(size=(3, 4)).astype("float32"), None,
                       fad=rng.normal(size=(6, 2)).astype("float32"),
                       cs=rng.normal(size=(3, 5)).astype("float32"))
    cache = FeatureCache(tmp_path, {"roles": "test"}).open()
    cache.add(["a", "b", "c"], out, [1, 3, 2])
    with pytest.raises(CacheError, match="add up"):
        cache.add(["d"], AudioOutputs(out.features[:1], fad=out.fad), [2])
    again = FeatureCache(tmp_path, {"roles": "test"}).open()
    assert again.rows["b"]["fad"].tolist() == out.fad[1:4].tolist()
    assert again.rows["c"]["cs"].tolist() == out.cs[2].tolist() and "logits" not in again.rows["a"]
    header = tmp_path / again.folder.name / "settings.json"
    header.write_text(json.dumps({"format": FEATURE_FORMAT, "settings": {"roles": "other"}}))
    with pytest.raises(CacheError, match="other contents.*'other'.*copied or renamed"):
        FeatureCache(tmp_path, {"roles": "test"}).open()
    header.write_text('{"format": "x"}')
    with pytest.raises(CacheError, match=f"format 'x', not '{FEATURE_FORMAT}'.*delete"):
        FeatureCache(tmp_path, {"roles": "test"}).open()


def test_the_feature_cache_moved_to_evaluation_and_still_imports_from_runs():
    from v2a_kit import runs
    from v2a_kit.evaluation import features
    assert runs.FeatureCache is features.FeatureCache
    assert runs.cached_audio_outputs is features.cached_audio_outputs
