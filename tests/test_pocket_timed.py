"""Timed pocket videos (v2a_kit.pocket.world.timed): objects pop on their notes; stills
unchanged."""

import json

import av
import numpy as np
import pytest
import soundfile as sf

from v2a_kit.cli import main
from v2a_kit.errors import ConfigError, MediaError
from v2a_kit.media import probe_video, read_video_audio, write_video
from v2a_kit.pocket.world import WorldConfig, sample_world
from v2a_kit.pocket.world.timed import MIN_FPS, POP_S, sample_world_videos, save_videos

N, SEED, SCENES, FPS = 6, 41, 3, 25


@pytest.fixture(scope="module")
def videos():
    return sample_world_videos(N, SEED, num_scenes=SCENES, fps=FPS)


def _stills(videos, per_scene):
    s = videos.scenes.images.reshape(len(videos), videos.num_scenes, 1, *videos.frames.shape[2:])
    return s.repeat(per_scene, 2).reshape(videos.frames.shape)


def test_scenes_are_the_worlds_samples_and_the_track_its_sounds(videos):
    world = sample_world(N * SCENES, SEED)
    np.testing.assert_array_equal(videos.scenes.images, world.images)
    np.testing.assert_array_equal(videos.audio, world.audio.reshape(N, -1))  # the world's notes
    assert videos.frames.shape == (N, SCENES * FPS, 64, 64, 3) and videos.fps == FPS
    assert videos.duration_s == SCENES and videos.audio.shape[1] == SCENES * 16000
    expected = world.onsets_s.reshape(N, SCENES, 3) + np.arange(SCENES)[:, None]
    np.testing.assert_array_equal(videos.onsets_s, expected.reshape(N, -1))
    assert videos.labels["count"].shape == (N, SCENES)
    np.testing.assert_array_equal(videos.labels["shape"].ravel(), world.labels["shape"])


def test_objects_pop_exactly_on_their_notes_and_nowhere_else(videos):
    changed = (videos.frames != _stills(videos, FPS)).any(axis=(2, 3, 4))   # (n, T)
    length = round(POP_S * FPS)
    for i in range(N):
        onsets = videos.onsets_s[i][~np.isnan(videos.onsets_s[i])]
        seen = videos.visual_onsets_s[i][~np.isnan(videos.visual_onsets_s[i])]
        assert len(seen) == len(onsets) and np.all(np.abs(seen - onsets) <= 0.5 / FPS + 1e-9)
        first = np.round(seen * FPS).astype(int)
        expected = np.zeros(videos.num_frames, bool)
        for f in first:
            expected[f:f + length] = True
        np.testing.assert_array_equal(changed[i], expected)
        # the pop starts big and shrinks back: most changed pixels on its first frame
        area = (videos.frames[i] != _stills(videos, FPS)[i]).any(-1).sum(axis=(1, 2))
        assert all(area[f] > area[f + 1] > 0 for f in first)


def test_pops_are_the_objects_of_their_scene(videos):
    # note k of a scene pops object k: the changed pixels lie around that object's centre
    stills = _stills(videos, FPS)
    row = next(r for r in range(N * SCENES) if videos.scenes.labels["count"][r] == 2)
    i, j = divmod(row, SCENES)
    for k in range(3):
        f = int(round(videos.visual_onsets_s[i, 3 * j + k] * FPS))
        ys, xs = np.nonzero((videos.frames[i, f] != stills[i, f]).any(-1))
        centre = videos.scenes.positions[row, k]
        assert np.hypot(xs.mean() + 0.5 - centre[0], ys.mean() + 0.5 - centre[1]) < 2.0


def test_deterministic_and_prefix_stable(videos):
    again = sample_world_videos(2, SEED, num_scenes=SCENES, fps=FPS)
    np.testing.assert_array_equal(again.frames, videos.frames[:2])
    np.testing.assert_array_equal(again.audio, videos.audio[:2])
    np.testing.assert_array_equal(again.visual_onsets_s, videos.visual_onsets_s[:2])
    other = sample_world_videos(2, SEED + 1, num_scenes=SCENES, fps=FPS)
    assert not np.array_equal(other.audio, again.audio)


def test_save_videos_writes_playable_videos_with_the_exact_track(videos, tmp_path):
    paths = save_videos(videos, tmp_path / "v", n=2, scale=2)
    assert [p.name for p in paths] == ["000.mp4", "000.wav", "001.mp4", "001.wav", "videos.json"]
    info = probe_video(tmp_path / "v" / "001.mp4")
    assert (info.num_frames, info.fps, info.width, info.has_audio) == (SCENES * FPS, FPS, 128, True)
    wav, rate = sf.read(tmp_path / "v" / "001.wav", dtype="float32")
    assert rate == 16000
    np.testing.assert_array_equal(wav, videos.audio[1])            # float: the exact samples
    aac = read_video_audio(tmp_path / "v" / "001.mp4", 16000)
    lag = np.argmax(np.correlate(aac, videos.audio[1][800:-800], "valid")) - 800
    assert lag == 0                                                 # the track is not shifted
    index = json.loads((tmp_path / "v" / "videos.json").read_text())
    assert index["fps"] == FPS and index["num_frames"] == SCENES * FPS
    seen = videos.visual_onsets_s[1]
    np.testing.assert_allclose(index["videos"][1]["visual_onsets_s"], seen[~np.isnan(seen)],
                               atol=1e-6)
    assert index["videos"][1]["scenes"][2]["audio_caption"] == videos.scenes.audio_captions[5]


def test_the_video_shows_the_pop(videos, tmp_path):
    # frames read back from the mp4 (H.264 at crf 12, 4× upscaled as save_videos writes them,
    # averaged back over 4×4 blocks): each pop frame is far nearer the pop than the still
    path = write_video(tmp_path / "a.mp4", videos.frames[0], FPS, scale=4)
    with av.open(str(path)) as container:
        decoded = np.stack([f.to_ndarray(format="rgb24").astype(np.float64)
                            .reshape(64, 4, 64, 4, 3).mean((1, 3))
                            for f in container.decode(video=0)])
    assert len(decoded) == videos.num_frames
    still = _stills(videos, FPS)[0].astype(np.float64)
    seen = videos.visual_onsets_s[0]
    for f in np.round(seen[~np.isnan(seen)] * FPS).astype(int):
        popped = (videos.frames[0, f] != still[f]).any(-1)          # the pixels the pop changed
        to_pop = np.abs(decoded[f] - videos.frames[0, f])[popped].mean()
        to_still = np.abs(decoded[f] - still[f])[popped].mean()
        assert to_pop < 0.2 * to_still, (f, to_pop, to_still)


def test_export_cli_writes_timed_videos(tmp_path, capsys):
    out = tmp_path / "timed"
    assert main(["pocket", "export", "-o", str(out), "--num", "2", "--seed", "3", "--videos",
                 "--scenes", "2", "--fps", "20"]) == 0
    assert "2 timed videos" in capsys.readouterr().out
    index = json.loads((out / "videos.json").read_text())
    assert index["fps"] == 20 and len(index["videos"]) == 2 and index["num_frames"] == 40
    expected = sample_world_videos(2, 3, num_scenes=2, fps=20)
    np.testing.assert_array_equal(sf.read(out / "001.wav", dtype="float32")[0],
                                  expected.audio[1])


def test_export_cli_refuses_video_options_without_videos(tmp_path, capsys):
    assert main(["pocket", "export", "-o", str(tmp_path / "x"), "--num", "2", "--seed", "3",
                 "--fps", "25"]) != 0
    assert "--videos" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert main(["pocket", "export", "-o", str(tmp_path / "x"), "--num", "2", "--seed", "3",
                 "--videos", "--fps", str(MIN_FPS - 1)]) != 0
    assert f"expected an integer ≥ {MIN_FPS}" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("call, match", [
    (lambda: sample_world_videos(0, 1), "n=0"),
    (lambda: sample_world_videos(2, -1), "seed=-1"),
    (lambda: sample_world_videos(2, 1, num_scenes=0), "num_scenes=0"),
    (lambda: sample_world_videos(2, 1, fps=MIN_FPS - 1), f"fps={MIN_FPS - 1}"),
    (lambda: sample_world_videos(2, 1, fps=24.0), "fps=24.0"),
    (lambda: sample_world_videos(2, 1, fps=30, config=WorldConfig(duration_s=0.95)),
     "tile a scene"),
    (lambda: sample_world_videos(2, 1, split="train"), "split='train'"),
])
def test_bad_video_settings_name_the_argument(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


@pytest.mark.parametrize("frames, kwargs, match", [
    (np.zeros((0, 8, 8, 3), np.uint8), {}, "no frames"),
    (np.zeros((2, 8, 8), np.uint8), {}, "expected \\(H, W, 3\\) uint8"),
    (np.zeros((2, 8, 8, 3), np.float32), {}, "expected \\(H, W, 3\\) uint8"),
    (np.zeros((2, 8, 8, 3), np.uint8), {"fps": 0}, "fps=0"),
    (np.zeros((2, 8, 8, 3), np.uint8), {"wave": np.zeros(100)}, "sampling_rate"),
    (np.zeros((2, 8, 8, 3), np.uint8), {"wave": np.full(100, np.nan), "sampling_rate": 16000},
     "NaN"),
    ([np.zeros((8, 8, 3), np.uint8), np.zeros((6, 8, 3), np.uint8)], {}, "frame 1"),
])
def test_write_video_refuses_bad_input_and_leaves_nothing(tmp_path, frames, kwargs, match):
    kwargs = {"fps": 10, **kwargs}
    with pytest.raises(MediaError, match=match):
        write_video(tmp_path / "out.mp4", frames, **kwargs)
    assert list(tmp_path.iterdir()) == []
