"""The timing-aware variant (v2a_kit.pocket.models.onsets): notes placed on a known onset train, an
onset predictor that learns pops and not cuts, the shipped predictor on timed videos, and the
refusals of what it cannot read."""

import numpy as np
import pytest
import torch

from v2a_kit.errors import ConfigError, MediaError, SpaceMismatchError
from v2a_kit.evaluation.timing import detect_onsets, synchrony
from v2a_kit.pocket.models.onsets import (
    OnsetConfig,
    OnsetPredictor,
    frame_targets,
    load_onset_predictor,
    pick_onsets,
    place_notes,
    save_onset_predictor,
    train_onset_predictor,
)
from v2a_kit.pocket.timing import onset_scores
from v2a_kit.pocket.world import sample_world
from v2a_kit.pocket.world.timed import check_timing_video, sample_world_videos

SR = 16000
SEGMENTS = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]


@pytest.fixture(scope="module")
def sounds():
    """Three world sounds (1 s each) standing in for three segments' generated sounds."""
    return list(sample_world(3, 5).audio)


@pytest.mark.parametrize("train", [[0.3, 0.62, 1.25, 1.5, 2.1, 2.45, 2.8],
                                   [0.05, 1.9, 2.5], [0.5, 0.8, 1.1, 1.4, 1.7, 2.0, 2.3, 2.6]])
def test_placed_notes_follow_a_known_onset_train(sounds, train):
    track = place_notes(sounds, SR, train, SEGMENTS, 3.0)
    assert track.shape == (3 * SR,) and track.dtype == np.float32
    heard = detect_onsets(track, SR)
    assert len(heard) == len(train)
    assert np.abs(heard - np.asarray(train)).max() <= 0.015
    s = synchrony(track, np.asarray(train), fps=25, num_frames=75, sampling_rate=SR)
    assert s.f1 == 1.0 and s.mean_abs_offset_s <= 0.015


def test_placed_notes_are_the_segments_own_sounds(sounds):
    """Segment 2's note, placed at 2.4 s, is segment 2's sound's note, sample for sample (up to
    the cut's fade); a segment without a predicted onset keeps its sound as it was."""
    own = detect_onsets(sounds[2], SR)
    assert len(own) >= 2                            # the sound has notes to choose from
    track = place_notes(sounds, SR, [2.4], SEGMENTS, 3.0)
    np.testing.assert_array_equal(track[:2 * SR], np.concatenate(sounds[:2]))
    start = int(round(2.4 * SR)) - int(round(0.03 * SR))
    cuts = [max(0, int(round((t - 0.03) * SR))) for t in own[:2]]
    piece = sounds[2][cuts[0]:cuts[1]]               # its first note, up to the second
    np.testing.assert_array_equal(track[start:start + len(piece)], piece)
    assert not track[2 * SR:start].any()            # nothing before the note in its segment
    assert not track[start + len(piece):].any()     # and nothing after it: one note


def test_a_ripple_inside_a_note_is_heard_but_does_not_cut_the_note(sounds):
    """A generated note can dip and swell (the detector then hears an onset inside it); the
    placed note is the whole note, ripple included, not a fragment from the ripple on."""
    rippled = sounds[0].copy()
    own = detect_onsets(rippled, SR)
    assert len(own) == 1 and own[0] < 0.7
    rippled[int(0.76 * SR):int(0.8 * SR)] *= 0.2                  # a 14-dB dip, 40 ms
    assert len(detect_onsets(rippled, SR)) == 2                     # heard as an onset
    track = place_notes([rippled, sounds[1], sounds[2]], SR, [0.2], SEGMENTS, 3.0)
    start, cut = int(round(0.17 * SR)), int(round((own[0] - 0.03) * SR))
    n = len(rippled) - cut                                        # the note, to its end
    np.testing.assert_array_equal(track[start:start + n], rippled[cut:cut + n])


def test_place_notes_refuses_a_wrong_rate_and_bad_onsets(sounds):
    with pytest.raises(MediaError, match=r"sound 0: 16000 samples at 48000 Hz.*sampling rate"):
        place_notes(sounds, 48000, [0.5], SEGMENTS, 3.0)
    with pytest.raises(MediaError, match=r"onsets_s span.*within the video"):
        place_notes(sounds, SR, [0.5, 3.5], SEGMENTS, 3.0)
    with pytest.raises(MediaError, match=r"2 sounds for 3 segments"):
        place_notes(sounds[:2], SR, [0.5], SEGMENTS, 3.0)


def test_pick_onsets_keeps_local_peaks_above_one_half():
    p = np.array([0.1, 0.9, 0.7, 0.2, 0.4, 0.6, 0.6, 0.1, 0.95, 0.1])
    assert pick_onsets(p).tolist() == [1, 5, 8]
    assert pick_onsets(np.zeros(5)).tolist() == []


def _synthetic(n, seed, frames_per_scene=25, num_scenes=2, dim=8):
    """Embeddings of pocket-like videos: a still vector per scene, a pop (a fixed direction,
    fading over 3 frames) on the onset frames, a cut between scenes that starts nothing."""
    pop = np.random.default_rng(1234).normal(size=dim)   # one look for every pop
    rng = np.random.default_rng(seed)
    x = np.empty((n, num_scenes * frames_per_scene, dim), np.float32)
    onsets = np.full((n, num_scenes * 3), np.nan)
    for i in range(n):
        for j in range(num_scenes):
            still = rng.normal(size=dim)
            a = j * frames_per_scene
            x[i, a:a + frames_per_scene] = still
            frames = np.sort(rng.choice(np.arange(0, frames_per_scene - 3, 6),
                                        rng.integers(1, 4), replace=False))
            for k, f in enumerate(frames):
                onsets[i, 3 * j + k] = (a + f) / 25
                for step in range(3):
                    x[i, a + f + step] += (1 - step / 3) * pop
    return torch.from_numpy(x), onsets


def test_a_tiny_predictor_learns_pops_and_not_cuts():
    x, onsets = _synthetic(64, 0)
    cfg = OnsetConfig(clip_dim=8, hidden=32, num_layers=2, fps=25, clip_space="synthetic")
    model, losses = train_onset_predictor(x, frame_targets(onsets, 25, x.shape[1]), config=cfg,
                                          steps=200, seed=0)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    x_new, onsets_new = _synthetic(16, 1)
    scores = onset_scores(model.predict(x_new), onsets_new)
    assert scores["f1"] >= 0.95 and scores["precision"] == 1.0
    assert scores["mean_abs_offset_s"] < 1e-9                # on the pop's own frame
    # the same videos without their pops: cuts only, and nothing starts
    stills = x_new.clone()
    for i in range(len(stills)):
        for j in range(2):
            stills[i, 25 * j:25 * j + 25] = stills[i, 25 * j + 24]
    assert sum(len(p) for p in model.predict(stills)) == 0


def test_save_load_round_trip_and_space_check(tmp_path):
    model = OnsetPredictor(OnsetConfig(clip_dim=8, hidden=4, clip_space="space-a"))
    folder = save_onset_predictor(model, tmp_path / "onsets", note="a test")
    back = load_onset_predictor(folder, clip_space="space-a")
    x = torch.randn(2, 10, 8)
    torch.testing.assert_close(back(x), model(x))
    assert back.facts["note"] == "a test"
    with pytest.raises(SpaceMismatchError, match="space-a.*space-b"):
        load_onset_predictor(folder, clip_space="space-b")
    with pytest.raises(MediaError, match=r"clip_embed has shape \(2, 10, 5\)"):
        model(torch.randn(2, 10, 5))
    with pytest.raises(ConfigError, match="odd kernel"):
        OnsetPredictor(OnsetConfig(kernel=4))


@pytest.mark.parametrize("fps, seconds, frames, match", [
    (25, 0.0, 0, r"clip\.mp4: a video without frames"),
    (10, 3.0, 30, r"clip\.mp4: 10 fps; expected 25 fps or a whole multiple"),
    (30, 3.0, 90, r"clip\.mp4: 30 fps; expected 25 fps"),
    (29.97, 3.0, 90, r"clip\.mp4: 29.97 fps"),
    (25, 0.16, 4, r"clip\.mp4: 0\.160 s long; expected at least one note"),
])
def test_videos_the_variant_cannot_read_are_refused_naming_them(fps, seconds, frames, match):
    with pytest.raises(MediaError, match=match):
        check_timing_video("clip.mp4", fps, seconds, frames, 25)


def test_whole_multiples_of_the_rate_are_read_every_kth_frame():
    assert check_timing_video("a.mp4", 25.0, 3.0, 75, 25) == 1
    assert check_timing_video("b.mp4", 50.0, 3.0, 150, 25) == 2


@pytest.fixture(scope="module")
def shipped():
    import v2a_kit as vk
    from v2a_kit.pocket import load_onsets
    clip = vk.load_clip("pocket", device="cpu")
    return clip, load_onsets(clip_space=clip.space)


def test_the_shipped_predictor_finds_the_pops_of_unseen_videos(shipped):
    from v2a_kit.defaults import TIMING_FPS
    from v2a_kit.pocket.models.onsets import embed_frames
    clip, onsets = shipped
    assert onsets.config.fps == TIMING_FPS                 # what the CLI's preflight assumes
    videos = sample_world_videos(6, 77)                    # not its training or validation seed
    predicted = onsets.predict(embed_frames(clip, videos.frames))
    scores = onset_scores(predicted, videos.visual_onsets_s)
    assert scores["f1"] >= 0.9 and scores["mean_abs_offset_s"] <= 0.01
    # still frames alone (no pops, the same cuts): nothing starts
    stills = videos.scenes.images.reshape(6, 3, 1, 64, 64, 3).repeat(25, 2).reshape(
        videos.frames.shape)
    assert sum(len(p) for p in onsets.predict(embed_frames(clip, stills))) <= 1


# --- the pipeline and the command line ------------------------------------------------------
@pytest.fixture(scope="module")
def timed_video(tmp_path_factory):
    from v2a_kit.pocket.world.timed import save_videos
    videos = sample_world_videos(1, 78)
    folder = tmp_path_factory.mktemp("timed")
    save_videos(videos, folder)
    return folder / "000.mp4", videos


@pytest.fixture(scope="module")
def timing_pipe():
    from v2a_kit.pipeline import V2APipeline
    return V2APipeline.from_preset("pocket", "regression", device="cpu", timing="onsets")


def test_the_pipeline_puts_notes_where_the_video_shows_something_start(timed_video,
                                                                        timing_pipe):
    path, videos = timed_video
    plain = timing_pipe(path, seed=1)
    timed = timing_pipe(path, seed=1, timing="onsets")
    item, sr = timed[0], timing_pipe.sampling_rate
    assert "timing" not in plain.settings and timed.settings["timing"] == "onsets"
    assert plain[0].onsets_s is None and item.waveforms.shape == plain[0].waveforms.shape
    # the predictor, on the decoded mp4's frames, sees the pops
    assert onset_scores([item.onsets_s], videos.visual_onsets_s)["f1"] >= 0.9
    # a note starts at every onset the predictor said (the notes are whole, so a dip inside a
    # generated note can be heard as one more onset: precision is the generator's)
    kw = dict(fps=videos.fps, num_frames=videos.num_frames, sampling_rate=sr)
    followed = synchrony(item.waveforms, [item.onsets_s], **kw)
    assert followed.recall == 1.0 and followed.mean_abs_offset_s <= 0.015
    assert synchrony(item.waveforms, videos.visual_onsets_s, **kw).f1 > \
        synchrony(plain[0].waveforms, videos.visual_onsets_s, **kw).f1
    # an image has no time: its sound is the plain one
    image = videos.scenes.images[0]
    np.testing.assert_array_equal(timing_pipe(image, seed=2, timing="onsets")[0].waveforms,
                                  timing_pipe(image, seed=2)[0].waveforms)


def test_the_pipeline_refuses_what_the_predictor_cannot_read(timing_pipe, tmp_path):
    from v2a_kit.media import write_video
    from v2a_kit.pipeline import V2APipeline
    frames = sample_world_videos(1, 79, fps=10).frames[0]
    write_video(tmp_path / "slow.mp4", frames, 10)
    with pytest.raises(MediaError, match=r"slow\.mp4: 10 fps; expected 25 fps"):
        timing_pipe(tmp_path / "slow.mp4", timing="onsets")
    write_video(tmp_path / "blink.mp4", frames[:2].repeat(2, 0), 25)
    with pytest.raises(MediaError, match=r"blink\.mp4: 0\.160 s long"):
        timing_pipe(tmp_path / "blink.mp4", timing="onsets")
    with pytest.raises(ConfigError,
                       match=r"timing must be one of \['none', 'onsets'\], got 'beats'"):
        timing_pipe(tmp_path / "slow.mp4", timing="beats")
    plain = V2APipeline(timing_pipe.clip, timing_pipe.mapper, timing_pipe.audioldm)
    with pytest.raises(ConfigError, match="needs an onset predictor"):
        plain(tmp_path / "slow.mp4", timing="onsets")


def test_cli_generate_with_timing_onsets_writes_a_timed_soundtrack(timed_video, tmp_path,
                                                                   capsys):
    import json

    from v2a_kit.cli import main
    from v2a_kit.media import read_video_audio
    path, videos = timed_video
    out = tmp_path / "out"
    assert main(["generate", str(path), "-o", str(out), "--timing", "onsets", "--mapper",
                 "regression", "--no-progress"]) == 0
    assert "timing onsets" in capsys.readouterr().out
    manifest = json.loads((out / "generate.json").read_text())
    assert manifest["settings"]["timing"] == "onsets"
    assert sorted(manifest["written"]) == ["000.wav", "000_v2a.mp4"]
    kw = dict(fps=videos.fps, num_frames=videos.num_frames, sampling_rate=SR)
    muxed = read_video_audio(out / "000_v2a.mp4", SR)[:3 * SR]
    heard = synchrony(muxed, videos.visual_onsets_s[0], **kw)     # through AAC
    assert heard.recall >= 0.8 and heard.mean_abs_offset_s <= 0.02
    # a rerun into the folder without the option is another run: refused, naming the setting
    assert main(["generate", str(path), "-o", str(out), "--mapper", "regression",
                 "--no-progress"]) == 2
    assert "timing: 'onsets' (in the folder)" in capsys.readouterr().err
