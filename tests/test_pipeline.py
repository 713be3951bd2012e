"""V2APipeline, write_outputs, `v2a-kit generate`, the explorer and the listening views, on the
shipped pocket preset with 2 denoising steps (fast; behaviour, not quality)."""

import datetime
import json
import warnings

import av
import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

import v2a_kit as vk
from v2a_kit import media, pipeline, viz
from v2a_kit.cli import main
from v2a_kit.errors import ConfigError, MediaError, SpaceMismatchError
from v2a_kit.explorer import Explorer
from v2a_kit.media import probe_video, read_video_audio
from v2a_kit.pipeline import (
    EmbeddedInput,
    Job,
    MappedInput,
    PreparedInput,
    V2APipeline,
    output_names,
    write_outputs,
)
from v2a_kit.pocket.world import sample_world
from v2a_kit.pocket.world.video import write_scene_video

FAST = dict(num_inference_steps=2, progress=False)
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def assert_same_sounds(a: np.ndarray, b: np.ndarray, min_snr_db: float = 60.0) -> None:
    """Equal up to the float rounding of batched forwards: on the CPU a batch of another size
    rounds a row differently — a CLIP row by up to ~3e-7 (the frames of all inputs are embedded
    together), an AudioLDM waveform by ~1e-5 — and the sampler turns that into sounds ~70-90 dB
    apart (measured on the pocket preset; max |difference| up to ~4e-4); another seed or input
    gives ~0 dB."""
    assert a.shape == b.shape
    snr = 10 * np.log10((a.astype(np.float64) ** 2).sum()
                        / max(((a.astype(np.float64) - b) ** 2).sum(), 1e-30))
    assert snr > min_snr_db, f"the sounds differ: SNR {snr:.1f} dB"


@pytest.fixture(scope="module")
def parts():
    clip, gen = vk.load_clip("pocket"), vk.load_audioldm("pocket")
    mappers = {k: vk.load_mapper("pocket", kind=k) for k in ("diffusion", "regression")}
    return clip, gen, mappers


@pytest.fixture(scope="module")
def pipe(parts):
    clip, gen, mappers = parts
    return V2APipeline(clip, mappers["diffusion"], gen)


@pytest.fixture(scope="module")
def world():
    return sample_world(4, seed=9100)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "scenes.mp4"
    write_scene_video(path, num_scenes=3, seconds_per_scene=0.8, fps=10)  # 2.4 s: 3 segments
    return path


def test_spaces_are_checked_at_construction(parts):
    clip, gen, mappers = parts
    tiny_gen = vk.load_audioldm("tiny")
    with pytest.raises(SpaceMismatchError, match="writes CLAP"):
        V2APipeline(clip, mappers["diffusion"], tiny_gen)
    with pytest.raises(SpaceMismatchError, match="reads CLIP"):
        V2APipeline(vk.load_clip("tiny"), mappers["regression"], gen)


def test_images_to_sounds_seeded_and_batch_independent(pipe, world):
    out = pipe(list(world.images), num_samples=2, seed=5, batch_size=3, **FAST)
    assert len(out) == 4 and out.settings["seed"] == 5
    for it in out:
        assert it.kind == "image" and it.waveforms.shape == (2, 16000)
        assert it.waveforms.dtype == np.float32 and np.isfinite(it.waveforms).all()
        assert it.pred_clap_embed.shape == (2, 1, 48)
        assert torch.allclose(it.pred_clap_embed.norm(dim=-1), torch.ones(2, 1), atol=1e-5)
    # input i uses seed + i: alone with seed 7 it gives what it gave at position 2 of seed 5
    # (up to CLIP's rounding: alone, its image is a CLIP batch of one, there of four)
    alone = pipe(world.images[2], num_samples=2, seed=7, batch_size=1, **FAST)
    torch.testing.assert_close(alone[0].clip_embed, out[2].clip_embed, atol=1e-6, rtol=0)
    assert_same_sounds(alone[0].waveforms, out[2].waveforms)
    again = pipe(world.images, num_samples=2, seed=5, batch_size=8, **FAST)  # (n, h, w, 3)
    assert [it.source for it in again] == [f"image #{i}" for i in range(4)]
    for a, b in zip(out, again):
        assert torch.equal(a.clip_embed, b.clip_embed)  # the same CLIP batch: the same rows
        assert_same_sounds(a.waveforms, b.waveforms)    # AudioLDM batches of 3 vs one of 8
    other = pipe(world.images[0], num_samples=1, seed=6, **FAST)
    assert np.abs(other[0].waveforms[0] - out[0].waveforms[0]).max() > 1e-3


def test_an_inputs_sounds_do_not_depend_on_the_other_inputs(pipe, world, video):
    a = pipe([world.images[0], world.images[1]], num_samples=2, seed=3, **FAST)
    b = pipe([world.images[3], world.images[1], str(video)], num_samples=2, seed=3,
             num_frames=2, batch_size=2, **FAST)
    torch.testing.assert_close(a[1].clip_embed, b[1].clip_embed, atol=1e-6, rtol=0)
    torch.testing.assert_close(a[1].pred_clap_embed, b[1].pred_clap_embed, atol=1e-5, rtol=0)
    assert_same_sounds(a[1].waveforms, b[1].waveforms)
    assert np.abs(a[0].waveforms - b[0].waveforms).max() > 1e-3  # another image: other sounds


def test_the_steps_pass_typed_records_and_make_what_a_call_makes(pipe, world, video):
    kw = dict(num_inference_steps=2, guidance_scale=2.5, scheduler="dpmsolver++",
              batch_size=16, progress=False)
    prepared = pipe.prepare_inputs([world.images[0], str(video)], 1.0)
    assert all(isinstance(p, PreparedInput) for p in prepared)
    image, vid = prepared
    assert (image.index, image.kind, image.segments, image.duration_s, image.piece_s) == \
        (0, "image", [(0.0, 1.0)], 1.0, 1.0)
    assert (vid.index, vid.kind, len(vid.segments)) == (1, "video", 3)
    assert vid.piece_s == pytest.approx(vid.duration_s / 3 + pipeline.CROSSFADE_S, abs=1e-6)

    embedded = pipe.embed(prepared, num_frames=2, aggregate="mean")
    assert all(isinstance(e, EmbeddedInput) for e in embedded)
    assert [e.clip.shape for e in embedded] == [(1, 64), (3, 64)]
    assert all(e.clip.space == pipe.clip.space for e in embedded)  # the Space is kept
    assert embedded[1].clip.sources[0].startswith(str(video))

    mapped = pipe.map(prepared, embedded, num_samples=2, seed=4)   # the mapper's own guidance
    assert all(isinstance(m, MappedInput) for m in mapped)
    assert [m.clap.shape for m in mapped] == [(2, 48), (6, 48)]
    assert all(m.clap.space == pipe.audioldm.space for m in mapped)
    assert [m.pred.shape for m in mapped] == [(2, 1, 48), (2, 3, 48)]
    jobs = mapped[1].jobs
    assert all(isinstance(j, Job) for j in jobs)
    assert [(j.input, j.sample, j.segment) for j in jobs] == \
        [(1, s, k) for s in range(2) for k in range(3)]
    assert {j.length_s for j in jobs} == {vid.piece_s}
    assert len({j.noise_seed for m in mapped for j in m.jobs}) == 8
    torch.testing.assert_close(mapped[1].condition(jobs[4]), mapped[1].pred[1, 1])

    waves = pipe.generate(mapped, **kw)
    assert set(waves) == {j for m in mapped for j in m.jobs}
    assert waves[jobs[0]].shape == (round(vid.piece_s * 16000),)
    items = pipe.assemble(prepared, embedded, mapped, waves)
    out = pipe([world.images[0], str(video)], num_samples=2, seed=4, num_frames=2,
               audio_length_in_s=1.0, **kw)
    for mine, theirs in zip(items, out):
        assert np.array_equal(mine.waveforms, theirs.waveforms)
        assert torch.equal(mine.pred_clap_embed, theirs.pred_clap_embed)
        assert mine.segments == theirs.segments and mine.duration_s == theirs.duration_s


def test_the_aggregate_of_video_frames_is_honoured(pipe, tmp_path):
    path = tmp_path / "cuts.mp4"  # three scenes in one segment: its frames differ
    write_scene_video(path, num_scenes=3, seconds_per_scene=0.3, fps=10, with_audio=False)
    median = pipe([str(path)], num_frames=5, aggregate="median", **FAST)
    assert median.settings["aggregate"] == "median"
    assert median[0].clip_embed.shape == (1, 64)
    mean = pipe.embed(pipe.prepare_inputs([str(path)], 1.0), num_frames=5, aggregate="mean")
    assert (median[0].clip_embed - mean[0].clip.embeds).abs().max() > 1e-3
    for agg, row in (("median", median[0].clip_embed), ("mean", mean[0].clip.embeds)):
        torch.testing.assert_close(row, pipe.clip.encode_video(path, 5, agg).embeds,
                                   atol=1e-6, rtol=0)  # the encoder's own aggregator
    with pytest.raises(ConfigError, match=r"aggregate must be one of .*'max-pool'"):
        pipe([str(path)], aggregate="max-pool", **FAST)


def test_regression_mapper_gives_one_embedding_and_varied_noise(parts, world):
    clip, gen, mappers = parts
    out = V2APipeline(clip, mappers["regression"], gen)(world.images[0], num_samples=2, **FAST)
    e = out[0].pred_clap_embed
    assert torch.allclose(e[0], e[1])
    assert np.abs(out[0].waveforms[0] - out[0].waveforms[1]).max() > 1e-3


def test_video_gets_a_soundtrack_of_its_length_in_segments(pipe, video, tmp_path):
    out = pipe([str(video)], num_samples=1, num_frames=2, **FAST)
    it = out[0]
    assert it.kind == "video" and it.duration_s == pytest.approx(2.4, abs=0.05)
    assert len(it.segments) == 3 and it.segments[-1][1] == pytest.approx(it.duration_s)
    assert it.waveforms.shape == (1, round(it.duration_s * 16000))
    assert it.clip_embed.shape == (3, 64) and it.pred_clap_embed.shape == (1, 3, 48)
    # each segment is mapped from its own scene: three different CLIP embeddings
    assert (it.clip_embed @ it.clip_embed.T).triu(1).max() < 0.99
    written = write_outputs(out, tmp_path)
    assert [p.name for p in written] == ["scenes.wav", "scenes_v2a.mp4"]
    info = probe_video(written[1])
    assert info.has_audio and info.num_frames == probe_video(video).num_frames
    track = read_video_audio(written[1], 16000)
    n = min(len(track), it.waveforms.shape[1]) - 2048
    assert np.corrcoef(track[1024:n], it.waveforms[0, 1024:n])[0, 1] > 0.95


def test_folder_skips_non_media_with_a_warning(pipe, world, tmp_path):
    Image.fromarray(world.images[0]).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("hello")
    media.write_wav(tmp_path / "sound.wav", world.audio[0], 16000)
    (tmp_path / ".hidden.png").write_bytes(b"junk")
    with pytest.warns(UserWarning, match=r"skipping 2 file\(s\).*notes.txt.*sound.wav"):
        out = pipe(str(tmp_path), **FAST)
    assert [it.source for it in out] == [str(tmp_path / "a.png")]


@pytest.mark.parametrize("bad, match", [
    ("corrupt.mp4", "cannot open video"),
    ("audio_only.mp4", "no video stream"),
    ("tiny.png", "is 4x4; expected at least 8 px"),
    ("notes.txt", "not an image or a video"),
    ("missing.png", "no such file"),
])
def test_bad_inputs_fail_before_anything_is_generated(pipe, world, tmp_path, bad, match,
                                                      monkeypatch):
    path = tmp_path / bad
    if bad == "corrupt.mp4":
        path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    elif bad == "audio_only.mp4":
        with av.open(str(path), "w") as c:
            a = c.add_stream("aac", rate=16000)
            a.layout = "mono"
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
            f.sample_rate = 16000
            c.mux(a.encode(f))
            c.mux(a.encode(None))
    elif bad == "tiny.png":
        Image.new("RGB", (4, 4)).save(path)
    elif bad == "notes.txt":
        path.write_text("not media")
    calls = []
    monkeypatch.setattr(pipeline, "generate", lambda *a, **k: calls.append(1))
    with pytest.raises(MediaError, match=match):
        pipe([world.images[0], str(path)], **FAST)
    assert not calls


def test_a_video_shorter_than_one_frame_interval_is_refused(pipe, tmp_path):
    path = tmp_path / "one.mp4"
    write_scene_video(path, num_scenes=1, seconds_per_scene=0.1, fps=10, with_audio=False)
    out = pipe([str(path)], **FAST)  # exactly one frame: accepted, the shortest sound, cut
    assert out[0].waveforms.shape[1] == round(out[0].duration_s * 16000)


@pytest.mark.parametrize("kw, match", [
    (dict(guidance_scale=0.5), "guidance_scale"),
    (dict(num_samples=0), "num_samples"),
    (dict(num_frames=0), "num_frames"),
    (dict(seed=-1), "seed"),
    (dict(scheduler="euler"), "scheduler"),
    (dict(audio_length_in_s=30.0), "audio_length_in_s"),
    (dict(mapper_guidance_scale=0.0), "mapper_guidance_scale"),
    (dict(aggregate="max"), "aggregate must be one of .*'max'"),
])
def test_bad_settings_name_the_argument(pipe, world, kw, match):
    with pytest.raises(ValueError, match=match):
        pipe(world.images[0], **{**FAST, **kw})


def test_write_outputs_refuses_clashes_and_unwritable_dirs(pipe, world, tmp_path):
    for sub in ("x", "y"):
        (tmp_path / "in" / sub).mkdir(parents=True)
    Image.fromarray(world.images[0]).save(tmp_path / "in" / "x" / "a.png")
    Image.fromarray(world.images[1]).save(tmp_path / "in" / "y" / "a.png")
    out = pipe([str(tmp_path / "in" / "x"), str(tmp_path / "in" / "y")], **FAST)
    with pytest.raises(MediaError, match="would both be written to a.wav"):
        output_names(out)
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(MediaError, match="cannot write there"):
        write_outputs(pipe(world.images[0], **FAST), blocker / "out")
    nested = pipe(str(tmp_path / "in"), num_samples=2, **FAST)  # one folder: x/a, y/a
    names = [str(p.relative_to(tmp_path / "o")) for p in write_outputs(nested, tmp_path / "o")]
    assert names == ["x/a_s0.wav", "x/a_s1.wav", "y/a_s0.wav", "y/a_s1.wav"]


# --- the command ---------------------------------------------------------------------------------
def test_cli_generate_writes_sounds_videos_and_a_manifest(world, video, tmp_path, capsys):
    Image.fromarray(world.images[0]).save(tmp_path / "dog.png")
    out = tmp_path / "out"
    rc = main(["generate", str(tmp_path / "dog.png"), str(video), "-o", str(out), "--steps",
               "2", "--num-samples", "2", "--seed", "3", "--mapper", "regression",
               "--no-progress", "--num-frames", "2"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "1 image(s), 1 video(s) -> 5 file(s)" in text and "scenes_v2a.mp4" in text
    manifest = json.loads((out / "generate.json").read_text())
    assert manifest["settings"]["mapper"] == "regression"
    assert manifest["settings"]["num_inference_steps"] == 2
    assert sorted(manifest["written"]) == sorted(
        ["dog_s0.wav", "dog_s1.wav", "scenes_s0.wav", "scenes_s1.wav", "scenes_v2a.mp4"])
    for name in manifest["written"]:
        assert (out / name).stat().st_size > 1000


def test_cli_shows_a_skipped_file_as_one_warning_line(world, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(world.images[0]).save(folder / "dog.png")
    (folder / "notes.txt").write_text("not media")
    rc = main(["generate", str(folder), "-o", str(tmp_path / "out"), "--steps", "2",
               "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 0 and sorted(p.name for p in (tmp_path / "out").iterdir()
                              if not p.name.startswith(".")) == ["dog.wav", "generate.json"]
    assert "v2a-kit generate: warning: " in err and "notes.txt" in err
    assert "UserWarning" not in err and "list_media(" not in err  # no source line, no class


def test_cli_generate_bad_input_writes_nothing(world, tmp_path, capsys):
    Image.fromarray(world.images[0]).save(tmp_path / "ok.png")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    out = tmp_path / "out"
    rc = main(["generate", str(tmp_path / "ok.png"), str(tmp_path / "bad.jpg"), "-o", str(out),
               "--steps", "2", "--no-progress"])
    assert rc == 2
    assert "bad.jpg" in capsys.readouterr().err
    assert not out.exists()  # refused before anything is created
    rc = main(["generate", str(tmp_path / "ok.png"), "-o", str(out), "--guidance", "0.2"])
    assert rc == 2 and "guidance_scale" in capsys.readouterr().err


# --- explorer and views ---------------------------------------------------------------------
def test_explorer_logic_and_widget(parts):
    clip, gen, mappers = parts
    gallery = {f"scene {k}": Image.fromarray(im)
               for k, im in enumerate(sample_world(2, seed=9200).images)}
    ex = Explorer(clip, gen, {"diffusion": mappers["diffusion"],
                              "regression": lambda: mappers["regression"]}, gallery)
    out = ex.generate("scene 1", kind="regression", num_inference_steps=2, num_samples=2, seed=4)
    assert out[0].waveforms.shape == (2, 16000) and ex.last is out
    with pytest.raises(ConfigError, match="mapper kind 'ridge'"):
        ex.generate("scene 0", kind="ridge")

    box = ex.widget()
    ui = ex._ui
    assert box.children and ui["image"].options[:2] == ("scene 0", "scene 1")
    ui["scheduler"].value = "ddim"
    assert ui["steps"].value == 200          # the scheduler's default steps follow the choice
    ui["steps"].value = 2
    ui["kind"].value, ui["num_samples"].value, ui["seed"].value = "diffusion", 2, 11
    ui["button"].click()
    assert ui["status"].value.startswith("done: 2 sound(s) with the diffusion mapper, seed 11")
    assert ex.last.settings["scheduler"] == "ddim" and ex.last.settings["seed"] == 11
    direct = ex.generate("scene 0", kind="diffusion", num_inference_steps=2, scheduler="ddim",
                         seed=11, num_samples=2)
    np.testing.assert_allclose(direct[0].waveforms, ex.last[0].waveforms, atol=1e-5)

    # an upload: a real PNG works, garbage reports an error in the status line
    import io
    buf = io.BytesIO()
    gallery["scene 0"].save(buf, format="PNG")
    ui["upload"].value = ({"name": "mine.png", "type": "image/png", "size": len(buf.getvalue()),
                           "content": memoryview(buf.getvalue()), "last_modified": NOW},)
    assert ui["image"].value == "(uploaded image)"
    ui["button"].click()
    assert ui["status"].value.startswith("done")
    ui["upload"].value = ({"name": "junk.png", "type": "image/png", "size": 4,
                           "content": memoryview(b"junk"), "last_modified": NOW},)
    ui["button"].click()
    assert "error" in ui["status"].value and "junk.png" in ui["status"].value


def test_side_by_side_and_plots(pipe, world):
    from matplotlib.figure import Figure
    out = pipe(list(world.images[:2]), num_samples=2, **FAST)
    html = viz.listen(out).data
    assert html.count("<tr>") == 2 and html.count("<audio") == 4
    assert html.count("data:image/png;base64,") == 2 + 4
    assert isinstance(viz.plot_waveform(out[0].waveforms, ["a", "b"]), Figure)
    assert isinstance(viz.plot_mel(out[0].waveforms[0], "x"), Figure)
    with pytest.raises(ValueError, match="one row per image"):
        viz.side_by_side([out[0].image], [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pyplot figures accumulate
        viz.plot_waveform(np.zeros(100))


# --- the paper's sizes ---------------------------------------------------------------------------
@pytest.mark.slow
def test_the_papers_parts_fit_together_at_random_init():
    """The paper's three parts at their real sizes, random init (no download): CLIP ViT-L/14
    (768-d) -> the paper-size generative mapper -> AudioLDM-S (512-d) make one image's sounds."""
    from v2a_kit.mappers import create_mapper
    clip = vk.load_clip("paper", random_init=True, device="cpu")
    gen = vk.load_audioldm("paper", random_init=True, device="cpu")
    pipe = V2APipeline(clip, create_mapper("diffusion-paper", clip.space, gen.space), gen)
    assert pipe.max_audio_length_s == pytest.approx(10.24)
    out = pipe(sample_world(1, seed=9300).images[0], num_samples=2, audio_length_in_s=1.28,
               **FAST)[0]
    assert out.clip_embed.shape == (1, 768) and out.pred_clap_embed.shape == (2, 1, 512)
    assert out.waveforms.shape == (2, 20480) and np.isfinite(out.waveforms).all()
    assert not np.allclose(out.waveforms[0], out.waveforms[1])  # two samples, two sounds


def test_a_photo_outside_the_pocket_world_never_clips(pipe, tmp_path):
    """A 256×256 red circle on blue is no pocket-world picture: its sounds may come out loud,
    but never past full scale, and the wav files hold them unclipped."""
    from PIL import Image, ImageDraw
    photo = Image.new("RGB", (256, 256), (0, 0, 255))
    ImageDraw.Draw(photo).ellipse((64, 64, 192, 192), fill=(255, 0, 0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = pipe(photo, num_samples=4, seed=0, progress=False)
    assert np.abs(out[0].waveforms).max() <= 0.99 + 1e-6
    said = [str(w.message) for w in caught if issubclass(w.category, vk.errors.PeakLimitWarning)]
    assert len(said) <= 1  # one warning for the call, not one per batch
    assert all("of 4 generated sounds" in s for s in said)
    for path in write_outputs(out, tmp_path):
        wave, _ = sf.read(path, dtype="float32")
        assert np.abs(wave).max() < 1.0
