"""`evaluate()` and `v2a-kit evaluate`: the paper's columns over folders, on pocket-world sounds.

Generated sounds are stood in for by real pocket-world audio, so the metrics' direction can be
checked where the answer is known: other draws of the same scenes are close to the references
(low FD, low KL) and to their images (high CS); noise is far; mismatched names score worse.
"""

import json

import av
import numpy as np
import pytest
from PIL import Image

from v2a_kit.cli import main
from v2a_kit.datasets import IncompleteDatasetWarning
from v2a_kit.errors import ConfigError, MediaError
from v2a_kit.evaluation.folder import EvalReport, evaluate
from v2a_kit.media import write_wav
from v2a_kit.pocket.world import sample_audio_for, sample_world

N, SR = 16, 16000
COLUMNS = ("FD ↓", "FAD ↓", "KL ↓", "IS ↑", "CS ↑")


def _write(folder, waves, names):
    folder.mkdir(parents=True, exist_ok=True)
    for w, name in zip(waves, names):
        write_wav(folder / f"{name}.wav", w, SR)
    return folder


def _write_images(folder, images, names):
    folder.mkdir(parents=True, exist_ok=True)
    for im, name in zip(images, names):
        Image.fromarray(im).save(folder / f"{name}.png")
    return folder


def _write_video(path, image, wave, fps=10):
    """A still image with ``wave`` as its soundtrack: AAC in .mp4 (as VGGSound's clips are),
    PCM otherwise. The pocket evaluators read exactly 1 s, so the AAC track must read back at
    its true length, not padded to whole 1024-sample frames."""
    aac = path.suffix == ".mp4"
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
        a = c.add_stream("aac" if aac else "pcm_s16le", rate=SR)
        a.layout = "mono"
        for _ in range(round(len(wave) / SR * fps)):
            c.mux(v.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        c.mux(v.encode(None))
        data = np.clip(wave, -1, 1).astype(np.float32)
        fmt, step = ("fltp", 1024) if aac else ("s16", 1600)
        if not aac:
            data = np.round(data * 32767).astype(np.int16)
        for k in range(0, len(data), step):
            f = av.AudioFrame.from_ndarray(data[None, k:k + step], format=fmt, layout="mono")
            f.sample_rate, f.pts = SR, k
            c.mux(a.encode(f))
        c.mux(a.encode(None))
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Folders: gen (seed-3 audio, as `generate` names it: c00_s0.wav), ref (other draws of
    the same scenes), own (the generated audio itself, as references), noise, img, img_shuffled
    (the same images under permuted names), ref_shuffled."""
    root = tmp_path_factory.mktemp("eval")
    batch = sample_world(N, 3)
    other = sample_audio_for(batch, 99).audio
    names = [f"c{i:02d}" for i in range(N)]
    perm = np.random.default_rng(0).permutation(N)
    perm = np.roll(np.arange(N), 1) if (perm == np.arange(N)).any() else perm
    rms = np.sqrt((batch.audio ** 2).mean(1, keepdims=True))
    noise = np.random.default_rng(1).standard_normal(batch.audio.shape).astype(np.float32) * rms
    return {
        "root": root, "batch": batch, "names": names,
        "gen": _write(root / "gen", batch.audio, [f"{n}_s0" for n in names]),
        "ref": _write(root / "ref", other, names),
        "own": _write(root / "own", batch.audio, names),
        "noise": _write(root / "noise", noise, names),
        "ref_shuffled": _write(root / "ref_shuffled", other[perm], names),
        "img": _write_images(root / "img", batch.images, names),
        "img_shuffled": _write_images(root / "img_shuffled", batch.images[perm], names),
    }


def test_metrics_point_the_right_way_on_known_answers(pocket, world):
    real = evaluate(world["gen"], references=world["ref"], images=world["img"],
                    extractors=pocket)
    assert isinstance(real, EvalReport) and real.n == N and real.preset == "pocket"
    assert real.counts == {"references": N, "kl_pairs": N, "cs_pairs": N, "is_splits": 1}
    assert not (real.unmatched or real.missing_references or real.missing_images)
    assert set(real.extractors) == {"fd", "fad", "cs"}
    assert "pocket/tagger" in real.extractors["fd"]["space"]

    noise = evaluate(world["noise"], references=world["ref"], extractors=pocket)
    assert real.fd * 20 < noise.fd and real.fad * 20 < noise.fad  # ≈ 70 vs 13,000
    shuffled = evaluate(world["gen"], references=world["ref_shuffled"],
                        images=world["img_shuffled"], extractors=pocket)
    assert real.cs > shuffled.cs + 30  # pocket CS: ≈ 90 matched, ≈ 10 mismatched
    # paired by clip, KL sees what differs between a clip and its reference: for other draws of
    # the same scenes only the heard-only contour (redrawn) — ≈ 9 vs 38 nats for other scenes
    assert real.kl * 3 < shuffled.kl
    assert shuffled.fd == pytest.approx(real.fd)  # FD compares distributions, not pairs

    own = evaluate(world["gen"], references=world["own"], extractors=pocket)
    assert own.kl == pytest.approx(0, abs=1e-4) and own.fd == pytest.approx(0, abs=1e-3)
    assert own.cs is None and real.is_mean > 1 and noise.is_mean >= 1


def test_only_generated_gives_is_and_leaves_the_rest_out(pocket, world):
    report = evaluate(world["gen"], extractors=pocket)
    assert report.fd is report.fad is report.kl is report.cs is None
    assert report.is_mean > 1 and report.counts["is_splits"] == 1
    iv = report.intervals["is"]  # the bootstrap interval beside the value, not a split spread
    assert f"| {report.is_mean:.3f} [{iv['low']:.3f}, {iv['high']:.3f}] |" in report.table()
    assert set(report.intervals) == {"is"}
    row = report.table().splitlines()[2]
    assert row.startswith(f"| gen | {N} | – | – | – |") and row.endswith("| – |")


def test_pairing_reports_strays_and_missing_and_videos_stand_in(pocket, world, tmp_path):
    batch, names = world["batch"], world["names"][:6]
    gen = _write(tmp_path / "gen", batch.audio[:6], [f"{n}_s{k}" for n in names[:3]
                                                    for k in (0, 1)])
    write_wav(gen / "stray.wav", batch.audio[7], SR)
    videos = tmp_path / "videos"
    videos.mkdir()
    for i, name in enumerate(names[:4]):  # PCM in mkv, and AAC in mp4
        _write_video(videos / f"{name}.{'mkv' if i < 2 else 'mp4'}", batch.images[i],
                     batch.audio[i])
    report = evaluate(gen, references=videos, images=videos, extractors=pocket)
    assert report.n == 7 and report.unmatched == ["stray.wav"]
    assert report.counts["kl_pairs"] == report.counts["cs_pairs"] == 6
    assert report.missing_references == ["c03"] == report.missing_images
    assert np.isfinite([report.fd, report.fad, report.kl, report.cs]).all()
    assert "1 generated files match no reference or image: stray.wav" in str(report)


def test_datasets_supply_references_and_images(pocket, world, tmp_path):
    batch = world["batch"]
    ids = [f"abcdefghij{k}_000010" for k in range(4)]  # 11-character YouTube ids
    clips = _write(tmp_path / "clips", batch.audio[:4], ids)
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    gen = _write(tmp_path / "gen", batch.audio[:4], ids)
    vgg = evaluate(gen, dataset=f"vggsound:{tmp_path / 'ids.txt'}:{clips}", extractors=pocket)
    assert vgg.kl == pytest.approx(0, abs=1e-4) and vgg.cs is None
    assert vgg.dataset.startswith("VGGSound: 4 of 4")

    hear = _write_images(tmp_path / "hear", batch.images[:4], ["dog1", "dog2", "cat1", "cat2"])
    sounds = _write(tmp_path / "sounds", batch.audio[:4], ["dog1", "dog2_s0", "cat1", "cat2"])
    with pytest.warns(IncompleteDatasetWarning):
        report = evaluate(sounds, dataset=f"imagehear:{hear}", extractors=pocket)
    assert report.fd is None and report.counts["cs_pairs"] == 4
    assert set(report.published_row()) == {"fd", "fad", "cs_imagehear"}


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(dataset="imagehear:X", references="ref"), ConfigError, "not both"),
    (dict(dataset="vimeo:X"), ConfigError, "vggsound:LIST:FOLDER"),
    (dict(preset="paper"), ConfigError, "extractors are the 'pocket'"),
    (dict(references="nowhere"), MediaError, "nowhere: no such directory"),
])
def test_bad_arguments_are_refused_before_anything_runs(pocket, world, kwargs, error, match):
    kwargs = {k: (world[v] if v in world else world["root"] / v) if k == "references" else v
              for k, v in kwargs.items()}
    with pytest.raises(error, match=match):
        evaluate(world["gen"], extractors=pocket, **kwargs)


def test_cli_prints_the_table_and_writes_only_the_json(world, tmp_path, capsys):
    before = sorted(p.name for p in world["root"].rglob("*"))
    out = tmp_path / "scores.json"
    code = main(["evaluate", str(world["gen"]), "--references", str(world["ref"]), "--images",
                 str(world["img"]), "--json", str(out), "--published", "--no-progress",
                 "--device", "cpu"])
    text = capsys.readouterr().out
    assert code == 0
    assert all(c in text for c in COLUMNS) and f"| gen | {N} |" in text
    assert "V2A-Mapper | 24.168" in text and "this run (pocket: gen)" in text
    assert "not comparable" in text
    saved = json.loads(out.read_text())
    assert saved["n"] == N and all(np.isfinite(saved[k]) for k in ("fd", "fad", "kl", "cs"))
    assert sorted(p.name for p in world["root"].rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["scores.json"]  # no temp file left


def _bad(world, tmp_path, case):
    """(argv, the text the error must contain) for each bad input."""
    gen, ref = str(world["gen"]), str(world["ref"])
    if case == "empty":
        (tmp_path / "empty").mkdir()
        return ["evaluate", str(tmp_path / "empty")], "empty: no audio files"
    if case == "corrupt":
        bad = _write(tmp_path / "gen", world["batch"].audio[:3], ["c00", "c01", "c02"])
        (bad / "c02.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40))
        return ["evaluate", str(bad), "--references", ref], "c02.wav"
    if case == "no_match":
        other = _write(tmp_path / "other", world["batch"].audio[:3], ["x", "y", "z"])
        return ["evaluate", str(other), "--references", ref], "matches an item"
    if case == "one_clip":
        one = _write(tmp_path / "one", world["batch"].audio[:1], ["c00"])
        return ["evaluate", str(one), "--references", ref], "at least 2 clips"
    if case == "short":
        short = _write(tmp_path / "short", [np.ones(400, np.float32) * 0.1] * 2, ["c00", "c01"])
        return ["evaluate", str(short), "--references", ref, "--preset", "paper",
                "--random-init"], "c00.wav: 0.025 s of audio"
    if case == "not_one_second":  # the pocket evaluators read the pocket world's 1 s clips
        two = _write(tmp_path / "two", [np.tile(world["batch"].audio[0], 2)] * 2, ["c00", "c01"])
        return ["evaluate", str(two)], "c00.wav: 2.000 s of audio; the pocket evaluators"
    if case == "vggsound_alone":
        return ["evaluate", gen, "--vggsound", "list.csv"], "go together"
    if case == "two_sources":
        return ["evaluate", gen, "--references", ref, "--imagehear", ref], "pick one"
    if case == "no_json_folder":
        return ["evaluate", gen, "--json", str(tmp_path / "no" / "x.json")], "does not exist"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["empty", "corrupt", "no_match", "one_clip", "short",
                                  "not_one_second",
                                  "vggsound_alone", "two_sources", "no_json_folder"])
def test_cli_bad_inputs_exit_2_naming_the_file(world, tmp_path, capsys, case):
    argv, expected = _bad(world, tmp_path, case)
    assert main(argv + ["--no-progress", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("v2a-kit evaluate: error:") and expected in err, err


@pytest.mark.slow
def test_cli_paper_preset_at_random_init_gives_finite_numbers(world, tmp_path, capsys):
    batch, names = world["batch"], world["names"][:3]
    gen = _write(tmp_path / "gen", batch.audio[:3], names)
    ref = _write(tmp_path / "ref", sample_audio_for(
        {k: v[:3] for k, v in batch.labels.items()}, 5).audio, names)
    img = _write_images(tmp_path / "img", batch.images[:3], names)
    out = tmp_path / "paper.json"
    assert main(["evaluate", str(gen), "--references", str(ref), "--images", str(img),
                 "--preset", "paper", "--random-init", "--json", str(out), "--no-progress",
                 "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "panns-cnn14-16k" in text and "vggish" in text and "wav2clip" in text
    assert "measure nothing" in text
    saved = json.loads(out.read_text())
    assert saved["preset"] == "paper" and saved["counts"]["kl_pairs"] == 3
    assert all(np.isfinite(saved[k]) for k in ("fd", "fad", "kl", "is_mean", "cs"))
