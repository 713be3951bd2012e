"""The embedding cache and `v2a-kit embed`: hits are bit-equal and compute nothing, keys follow
file content, interrupted runs resume, damaged or foreign caches are refused, and a torchrun
run over 2 processes equals a single-process run."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image
from safetensors import safe_open

from v2a_kit import CacheError, ConfigError, MediaError, Space
from v2a_kit.cli import main
from v2a_kit.embeddings import (
    EmbeddingCache,
    extract_embeddings,
    extraction_settings,
    load_embeddings,
)

REPO = Path(__file__).resolve().parents[1]


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _image(path, seed):
    rgb = np.random.default_rng(seed).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture
def images(tmp_path):
    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    for i in range(5):
        _image(d / ("sub" if i == 4 else "") / f"im{i}.png", i)
    return d


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def _spy(monkeypatch, encoder, method="encode_images", fail_on=None):
    """Count the files each call to ``encoder.<method>`` embeds; raise on call ``fail_on``."""
    calls = []
    real = getattr(encoder, method)

    def spy(paths, *a, **kw):
        if fail_on is not None and len(calls) + 1 == fail_on:
            raise RuntimeError("simulated crash")
        calls.append(len(paths))
        return real(paths, *a, **kw)
    monkeypatch.setattr(encoder, method, spy)
    return calls


def _folder(cache) -> Path:
    (folder,) = [p for p in Path(cache).iterdir() if p.is_dir()]
    return folder


def _chunks(cache) -> list[Path]:
    return sorted(_folder(cache).glob("chunk-*.safetensors"))


def _stored_hashes(cache) -> list[str]:
    out = []
    for c in _chunks(cache):
        with safe_open(str(c), "pt") as f:
            out += json.loads(f.metadata()["hashes"])
    return out


def _temps(cache) -> list[Path]:
    return [p for p in Path(cache).rglob("*") if p.name.startswith(".tmp")]


def test_hit_is_bit_equal_and_computes_nothing(tiny_clip, images, cache, monkeypatch):
    calls = _spy(monkeypatch, tiny_clip)
    fresh, st = extract_embeddings(tiny_clip, images, cache, return_stats=True)
    files = sorted(images.rglob("*.png"))
    assert fresh.sources == [str(p) for p in files] and fresh.space == tiny_clip.space
    assert sum(calls) == 5 and (st.hits, st.computed) == (0, 5)
    # the same numbers as the bare encoder (up to batch composition)
    assert torch.allclose(fresh.embeds, tiny_clip.encode_images(files).embeds, atol=1e-6)
    # layout: one folder per model + settings, space.json, chunks keyed by file content
    meta = json.loads((_folder(cache) / "space.json").read_text())
    assert Space.from_dict(meta["space"]) == tiny_clip.space
    assert meta["settings"]["kind"] == "image"
    assert sorted(_stored_hashes(cache)) == sorted(_sha(p) for p in files)

    calls.clear()
    again, st = extract_embeddings(tiny_clip, images, cache, return_stats=True)
    assert calls == [] and (st.hits, st.computed) == (5, 0)
    assert torch.equal(again.embeds, fresh.embeds) and again.sources == fresh.sources


def test_renamed_file_hits_edited_file_misses(tiny_clip, images, cache, monkeypatch):
    before = extract_embeddings(tiny_clip, images, cache)
    row = dict(zip(before.sources, before.embeds))
    moved = images / "elsewhere" / "renamed.png"
    moved.parent.mkdir()
    shutil.move(images / "im1.png", moved)
    _image(images / "im2.png", seed=99)  # same name, new content
    calls = _spy(monkeypatch, tiny_clip)
    after = extract_embeddings(tiny_clip, images, cache)
    assert sum(calls) == 1
    new = dict(zip(after.sources, after.embeds))
    assert torch.equal(new[str(moved)], row[str(images / "im1.png")])
    assert not torch.allclose(new[str(images / "im2.png")], row[str(images / "im2.png")])


def test_duplicates_and_order(tiny_clip, images, tmp_path, monkeypatch):
    files = [images / "im3.png", images / "im0.png", images / "im3.png"]
    shutil.copy(images / "im0.png", tmp_path / "copy.png")
    files.append(tmp_path / "copy.png")
    calls = _spy(monkeypatch, tiny_clip)
    e = extract_embeddings(tiny_clip, files)  # no cache: still computed once per content
    assert sum(calls) == 2 and e.sources == [str(p) for p in files]
    assert torch.equal(e.embeds[0], e.embeds[2]) and torch.equal(e.embeds[1], e.embeds[3])


def test_audio_through_the_cache(tiny_clap, tmp_path, cache, monkeypatch):
    d = tmp_path / "sounds"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        sf.write(d / f"s{i}.wav", 0.1 * rng.standard_normal(8000).astype(np.float32), 16000)
    (d / "not-audio.png").write_bytes(b"ignored: CLAP reads audio only")
    e = extract_embeddings(tiny_clap, d, cache)
    assert e.shape == (3, tiny_clap.space.dim)
    calls = _spy(monkeypatch, tiny_clap, "encode_audio")
    assert torch.equal(extract_embeddings(tiny_clap, d, cache).embeds, e.embeds) and not calls
    with pytest.raises(MediaError, match="im.png.*ClapEncoder reads audio"):
        extract_embeddings(tiny_clap, [d / "s0.wav", _image(tmp_path / "im.png", 0)], cache)
    with pytest.raises(ConfigError, match="kind='image'"):
        extract_embeddings(tiny_clap, d, cache, kind="image")


def test_video_settings_are_part_of_the_key(tiny_clip, images, cache):
    import av
    with av.open(str(images / "clip.mp4"), "w") as out:
        st = out.add_stream("mpeg4", rate=6)
        st.width = st.height = 32
        st.pix_fmt = "yuv420p"
        for i in range(6):
            frame = np.full((32, 32, 3), 40 * i, np.uint8)
            out.mux(st.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(st.encode(None))
    a = extract_embeddings(tiny_clip, images, cache, num_frames=2)
    b = extract_embeddings(tiny_clip, images, cache, num_frames=4)
    assert a.sources[0].endswith("clip.mp4") and len(a) == 6
    assert not torch.allclose(a.embeds[0], b.embeds[0])   # the video differs
    assert torch.equal(a.embeds[1:], b.embeds[1:])         # images ignore num_frames
    assert len([p for p in cache.iterdir() if "-video-" in p.name]) == 2
    assert torch.equal(extract_embeddings(tiny_clip, images, cache, num_frames=2).embeds,
                       a.embeds)


def test_interrupted_run_resumes(tiny_clip, images, cache, monkeypatch):
    _spy(monkeypatch, tiny_clip, fail_on=4)  # 3 batches of 1 file succeed, the 4th crashes
    with pytest.raises(RuntimeError, match="simulated"):
        extract_embeddings(tiny_clip, images, cache, batch_size=1, chunk_size=2)
    assert len(_chunks(cache)) == 2  # the full chunk of 2, then the finished batch before the crash
    assert len(_stored_hashes(cache)) == 3 and not _temps(cache)
    # a temp file of a writer that died (hard kill) is ignored and removed on the next open
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = _folder(cache) / f".tmp~{socket.gethostname()}~{dead.pid}~x.part"
    leftover.write_bytes(b"half a chunk")

    monkeypatch.undo()
    calls = _spy(monkeypatch, tiny_clip)
    resumed = extract_embeddings(tiny_clip, images, cache, batch_size=1, chunk_size=2)
    assert sum(calls) == 2 and not leftover.exists()
    clean = extract_embeddings(tiny_clip, images, None, batch_size=1)
    assert torch.equal(resumed.embeds, clean.embeds)


def test_cache_of_another_model_is_refused(tiny_clip, images, cache):
    extract_embeddings(tiny_clip, images, cache)
    sj = _folder(cache) / "space.json"
    meta = json.loads(sj.read_text())
    meta["space"]["checkpoint"] = "someone-elses-weights"
    sj.write_text(json.dumps(meta))
    with pytest.raises(CacheError) as err:
        extract_embeddings(tiny_clip, images, cache)
    msg = str(err.value)
    assert "someone-elses-weights" in msg and repr(tiny_clip.space.checkpoint) in msg
    assert sj.parent.name in msg and "rebuild=True, --rebuild" in msg
    # other settings (e.g. an extractor configured differently) are another model too
    meta["space"] = tiny_clip.space.to_dict()
    meta["settings"]["preprocess"] = "Resize(999)"
    sj.write_text(json.dumps(meta))
    with pytest.raises(CacheError, match="Resize\\(999\\)"):
        EmbeddingCache.open(cache, tiny_clip.space, extraction_settings(tiny_clip, "image"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "dim"])
def test_damaged_chunk_is_refused_then_rebuilt(tiny_clip, images, cache, tmp_path, monkeypatch,
                                               damage):
    fresh = extract_embeddings(tiny_clip, images, cache)
    (chunk,) = _chunks(cache)
    data = chunk.read_bytes()
    if damage == "truncate":
        chunk.write_bytes(data[: len(data) - 7])
    elif damage == "flip":
        chunk.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    else:  # a well-formed chunk of another dimension in its place
        other = EmbeddingCache.open(tmp_path / "other", Space("clip", "m", "c", 5), {})
        shutil.copy(other.add(["h"], torch.ones(1, 5) / 5 ** 0.5), chunk)
    why = {"truncate": "unreadable", "flip": "checksum",
           "dim": rf"embeds: float32 \(n, 5\); expected embeds: float32 "
                  rf"\(n, {tiny_clip.space.dim}\)"}[damage]
    with pytest.raises(CacheError, match=f"{chunk.name}.*{why}.*delete"):
        extract_embeddings(tiny_clip, images, cache)
    calls = _spy(monkeypatch, tiny_clip)
    rebuilt = extract_embeddings(tiny_clip, images, cache, rebuild=True)
    assert sum(calls) == 5 and torch.equal(rebuilt.embeds, fresh.embeds)
    assert not chunk.exists()


def test_cli_embed(images, cache, tmp_path, capsys):
    out = tmp_path / "out" / "imgs.safetensors"
    args = ["embed", str(images), "--model", "clip", "--preset", "tiny", "--cache", str(cache),
            "--no-progress"]
    assert main(args + ["--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert "5 files" in line and "0 cached, 5 computed" in line and str(cache) in line
    e = load_embeddings(out)
    assert e.shape[0] == 5 and e.sources == [str(p) for p in sorted(images.rglob("*.png"))]
    assert main(args) == 0 and "5 cached, 0 computed" in capsys.readouterr().out
    from v2a_kit import load_clip
    assert torch.equal(extract_embeddings(load_clip("tiny", device="cpu"), images, cache).embeds,
                       e.embeds)
    assert main(args + ["--rebuild"]) == 0 and "0 cached, 5 computed" in capsys.readouterr().out


def test_cli_bad_inputs(images, cache, tmp_path, capsys):
    base = ["--model", "clip", "--preset", "tiny", "--cache", str(cache), "--no-progress"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["embed", str(empty)] + base) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1

    sf.write(tmp_path / "a.wav", np.ones(100, np.float32), 16000)
    assert main(["embed", str(tmp_path / "a.wav")] + base) == 2
    assert "a.wav" in capsys.readouterr().err

    broken = images / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main(["embed", str(images), "--batch-size", "2"] + base) == 2
    err = capsys.readouterr().err
    assert "broken.png" in err and "Traceback" not in err
    # stored: exactly the batches before the failing one, never a part of the failed batch
    order = sorted({_sha(p) for p in images.rglob("*.png")})
    failed = order.index(_sha(broken)) // 2
    assert sorted(_stored_hashes(cache)) == order[: 2 * failed] and not _temps(cache)


def test_sharding_needs_a_process_group(tiny_clip, images, cache, monkeypatch):
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(ConfigError, match="torchrun"):
        extract_embeddings(tiny_clip, images, cache, rank=0, world_size=2)
    with pytest.raises(ConfigError, match="cache_dir"):
        extract_embeddings(tiny_clip, images, None, rank=0, world_size=2)


def test_torchrun_two_processes_equal_one(tiny_clip, images, tmp_path):
    shutil.copy(images / "im0.png", images / "sub" / "dup.png")  # computed once, by one rank
    out, cache = tmp_path / "sharded.safetensors", tmp_path / "shared-cache"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO),
           "TMPDIR": str(tmp_path)}  # torchrun's log folder goes there, not to the temp dir
    # --batch-size 1: each file is then the same computation in every process; larger batches
    # may differ in the last bit (GEMM blocking depends on the batch), which is not sharding's doing
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "v2a_kit.cli", "embed", str(images), "--model", "clip", "--preset", "tiny",
           "--cache", str(cache), "--out", str(out), "--batch-size", "1", "--no-progress"]
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "6 files (5 distinct)" in res.stdout and "by 2 processes" in res.stdout
    sharded = load_embeddings(out)
    single = extract_embeddings(tiny_clip, images, tmp_path / "single-cache", batch_size=1)
    assert sharded.sources == single.sources
    assert torch.equal(sharded.embeds, single.embeds)
    assert len(_chunks(cache)) == 1 and len(_stored_hashes(cache)) == 5 and not _temps(cache)


def test_load_embeddings_checks_its_format_tag(tmp_path):
    """A safetensors file of another format (another tag, or none) is refused naming the file
    and the tag expected, not read as embeddings."""
    from safetensors.torch import save_file

    from v2a_kit.embeddings import OUT_FORMAT, save_embeddings
    from v2a_kit.errors import EmbeddingError
    from v2a_kit.spaces import Embeddings, Space
    emb = Embeddings(torch.nn.functional.normalize(torch.randn(3, 4), dim=-1),
                     Space("clip", "t/x", "c", 4), ["a", "b", "c"])
    good = save_embeddings(emb, tmp_path / "good.safetensors")
    assert torch.equal(load_embeddings(good).embeds, emb.embeds)
    meta = {"space": json.dumps(emb.space.to_dict()), "sources": json.dumps(emb.sources)}
    for name, tag in (("other.safetensors", "v2a-kit-mapper-1"), ("none.safetensors", None)):
        path = tmp_path / name
        save_file({"embeds": emb.embeds}, str(path),
                  {**meta, **({"format": tag} if tag else {})})
        with pytest.raises(EmbeddingError, match=rf"{name}: format tag .*expected "
                                                 rf"'{OUT_FORMAT}'"):
            load_embeddings(path)
