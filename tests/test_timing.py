"""The synchrony measure (v2a_kit.evaluation.timing) on timed pocket videos: real pairs score
near perfect, pairs shuffled across videos do not, a shifted track is measured as shifted."""

import math

import numpy as np
import pytest

from v2a_kit.errors import ConfigError, MediaError
from v2a_kit.evaluation import detect_onsets, estimate_offset, match_onsets, synchrony
from v2a_kit.evaluation.timing import MIN_DURATION_S, TOLERANCE_S
from v2a_kit.pocket.world.timed import sample_world_videos

SR = 16000


@pytest.fixture(scope="module")
def videos():
    return sample_world_videos(8, 77)   # not a seed the benchmark reports


def _kw(v):
    return dict(fps=v.fps, num_frames=v.num_frames, sampling_rate=v.sampling_rate)


def _shift(audio, seconds):
    d, out = int(round(seconds * SR)), np.zeros_like(audio)
    if d >= 0:
        out[:, d:] = audio[:, :audio.shape[1] - d]
    else:
        out[:, :d] = audio[:, -d:]
    return out


def test_onsets_of_every_timbre_are_heard(videos):
    # each note's shape (hum, buzz, pluck, rattle): its scene's, columns 3j..3j+2 of scene j
    shape = np.repeat(videos.labels["shape"], 3, axis=1)
    found, total = np.zeros(4), np.zeros(4)
    for audio, onsets, shapes in zip(videos.audio, videos.onsets_s, shape):
        keep = ~np.isnan(onsets)
        heard = detect_onsets(audio, SR)
        pairs = match_onsets(heard, onsets[keep])
        assert len(heard) <= keep.sum() + 1                 # no spurious onsets within notes
        np.add.at(total, shapes[keep], 1)
        np.add.at(found, shapes[keep][[j for _, j in pairs]], 1)
    assert total.min() > 0 and (found / total).min() >= 0.9, (found, total)


def test_real_pairs_score_near_perfect(videos):
    s = synchrony(videos.audio, videos.visual_onsets_s, **_kw(videos))
    assert s.f1 >= 0.95 and s.num_visual == np.isfinite(videos.visual_onsets_s).sum()
    assert s.mean_abs_offset_s <= 0.5 / videos.fps      # the frame's rounding, no more
    assert s.desync_s < 0.02 and np.all(np.abs(s.offsets_s) < 0.04)
    assert s.clip_f1.shape == (8,) and s.as_dict()["settings"]["tolerance_s"] == TOLERANCE_S


def test_shuffled_pairs_do_not_score_well(videos):
    real = synchrony(videos.audio, videos.visual_onsets_s, **_kw(videos))
    shuffled = synchrony(np.roll(videos.audio, 1, axis=0), videos.visual_onsets_s,
                         **_kw(videos))
    assert shuffled.f1 < 0.6 < real.f1 and shuffled.desync_s > 5 * real.desync_s + 0.05


@pytest.mark.parametrize("seconds", [0.2, -0.2, 0.5])
def test_a_shifted_track_is_measured_as_shifted(videos, seconds):
    s = synchrony(_shift(videos.audio, seconds), videos.visual_onsets_s, **_kw(videos))
    assert s.f1 < 0.6                                   # the onsets no longer meet the pops
    assert np.median(s.offsets_s) == pytest.approx(seconds, abs=0.04)
    assert np.mean(np.abs(s.offsets_s - seconds) <= 0.04) >= 0.75


def test_silence_scores_zero_and_no_offset(videos):
    s = synchrony(np.zeros_like(videos.audio), videos.visual_onsets_s, **_kw(videos))
    assert s.f1 == 0 and s.num_detected == 0 and math.isnan(s.desync_s)
    assert s.as_dict()["desync_s"] is None


def test_match_onsets_is_one_to_one_and_takes_the_most_pairs():
    assert match_onsets([0.10, 0.12], [0.11]) == [(0, 0)]
    assert match_onsets([0.10, 0.30], [0.14, 0.26]) == [(0, 0), (1, 1)]
    assert match_onsets([0.0], [0.051]) == []
    # a greedy nearest-first rule would pair 0.10 with 0.12 and leave 0.06 alone
    assert len(match_onsets([0.06, 0.10], [0.08, 0.12], tolerance_s=0.03)) == 2


def test_estimate_offset_reads_a_single_click():
    audio = np.zeros(SR * 2, np.float32)
    audio[int(1.13 * SR):int(1.23 * SR)] = 0.3 * np.sin(np.arange(int(0.1 * SR)) * 0.3)
    assert estimate_offset(audio, [1.0], SR, fps=25) == pytest.approx(0.13, abs=0.01)
    assert estimate_offset(audio, [1.3], SR, fps=25) == pytest.approx(-0.17, abs=0.01)


@pytest.mark.parametrize("change, error, match", [
    ({"num_frames": 0}, MediaError, "num_frames=0.*≥ 1 frame"),
    ({"fps": 0}, MediaError, "fps=0"),
    ({"fps": float("nan")}, MediaError, "fps=nan"),
    ({"fps": 5, "num_frames": 15}, MediaError, "fps=5.*wider than the tolerance"),
    ({"num_frames": 5}, MediaError, f"5 frames at 25 fps = 0.200 s.*{MIN_DURATION_S}"),
    ({"sampling_rate": 44100}, MediaError, "44100 Hz.*video's 3.000 s.*sampling rate"),
    ({"sampling_rate": 16000.0}, MediaError, "sampling_rate=16000.0"),
    ({"tolerance_s": 0}, ConfigError, "tolerance_s=0"),
    ({"max_lag_s": 5.0}, ConfigError, "max_lag_s=5.0"),
])
def test_bad_inputs_are_refused_naming_them(videos, change, error, match):
    kw = {**_kw(videos), **change}
    with pytest.raises(error, match=match):
        synchrony(videos.audio, videos.visual_onsets_s, **kw)


def test_bad_audio_and_onsets_are_refused_naming_them(videos):
    kw = _kw(videos)
    bad = videos.audio.copy()
    bad[0, 5] = np.nan
    with pytest.raises(MediaError, match="audio holds NaN"):
        synchrony(bad, videos.visual_onsets_s, **kw)
    with pytest.raises(MediaError, match="7 rows; expected one per clip \\(8\\)"):
        synchrony(videos.audio, videos.visual_onsets_s[:7], **kw)
    late = videos.visual_onsets_s.copy()
    late[2, 0] = 3.5
    with pytest.raises(MediaError, match=r"visual_onsets_s\[2\].*within the video"):
        synchrony(videos.audio, late, **kw)


def test_the_benchmarks_report_holds_its_targets_and_its_spread_is_its_seeds():
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_timing",
                                                  root / "benchmarks" / "bench_timing.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = json.loads((root / "figures" / "timing.json").read_text())
    assert len(report["seeds"]) == 3 and report["spread"] == bench.spread(report["per_seed"])
    assert report["targets_by_seed"] == bench.check_targets(report["per_seed"])
    assert report["targets_met"] and 77 not in map(int, report["seeds"])
    for r in report["per_seed"].values():
        assert r["shuffled"]["f1"] < 0.5 < r["real"]["f1"]
    # the shift's sign: a late track reads positive, an early one negative
    assert bench.shifted(np.arange(1.0, 5.0)[None], 0.25, 4).tolist() == [[0.0, 1.0, 2.0, 3.0]]


def test_the_benchmarks_systems_table_is_its_seeds_and_its_targets_are_checked_on_it():
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_timing",
                                                  root / "benchmarks" / "bench_timing.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    systems = json.loads((root / "figures" / "timing.json").read_text())["systems"]
    assert systems["order"] == ["real", "shuffled", "decoded", "mean-pooled", "per-segment",
                                "timing-aware"]
    assert len(systems["per_seed"]) == 3
    assert systems["spread"] == bench.spread(
        {k: {n: v[n] for n in [*systems["order"], "predictor"]}
         for k, v in systems["per_seed"].items()})
    assert systems["targets_checked"] == bench.check_system_targets(systems["spread"])
    assert systems["targets_met"] == all(systems["targets_checked"].values())
    for seed in systems["per_seed"].values():
        # FD where it applies: not for the real sounds against themselves
        assert seed["real"].get("fd") is None and seed["mean-pooled"]["fd"] > 0
        assert seed["shuffled"]["f1"] < seed["real"]["f1"]
