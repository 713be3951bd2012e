"""The protocol card on every score, intervals, the paired comparison of two systems, and the
refusals around them (another rate without a resampler, silent clips, too few pairs, reports
measured under other protocols) — on pocket-world audio, where the right answers are known."""

import json
import warnings

import numpy as np
import pytest

from v2a_kit.cli import main
from v2a_kit.errors import (
    ConfigError,
    MediaError,
    ProtocolMismatchError,
    ProtocolWarning,
    SilentAudioWarning,
)
from v2a_kit.evaluation import (
    METRIC_KEYS,
    ClipRule,
    check_comparable,
    compare_protocols,
    compare_systems,
    format_card,
    score,
)
from v2a_kit.evaluation.protocol import FIELD_NAMES, NOT_OFFLINE, weights_digest
from v2a_kit.media import RESAMPLERS, load_audio, resample, write_wav
from v2a_kit.pocket.world import WorldConfig, sample_audio_for, sample_world

N, SR = 12, 16000
FAST = dict(resamples=50)


@pytest.fixture(scope="module")
def world():
    batch = sample_world(N, 21)      # a judged seed (< 10,000)
    return batch, sample_audio_for(batch, 22).audio, sample_audio_for(batch, 23).audio


def test_every_metric_has_an_interval_around_it_and_the_card_says_how(pocket, world):
    batch, other, third = world
    s = score(pocket, third, other, batch.images, seeds={"generation": 7}, **FAST)
    for key in METRIC_KEYS:
        iv = s.interval(key)
        assert iv is not None and iv.low <= s.value(key) <= iv.high, key
        assert iv.estimate == pytest.approx(s.value(key)), key
    card = s.protocol
    assert card["format"] == "v2a-kit-protocol-1" and card["preset"] == "pocket"
    assert set(card["extractors"]) == {"fd", "fad", "cs"}
    assert card["extractors"]["fd"]["weights_sha256"] == weights_digest(pocket.fd.model)
    assert card["extractors"]["fd"]["sampling_rate"] == SR
    assert card["audio"]["resampler"] is None and card["audio"]["clip_rule"] is None
    assert card["audio"]["sides"]["references"]["source_rates"] == [SR]
    assert card["counts"]["generated"] == N and card["seeds"] == {"generation": 7}
    assert card["metrics"]["bootstrap"]["resamples"] == 50
    assert card["versions"]["numpy"] == np.__version__
    text = format_card(card)
    assert "weights " + card["extractors"]["fd"]["weights_sha256"] in text
    assert 3 <= len(text.splitlines()) <= 10
    json.dumps(s.to_dict(), allow_nan=False)  # JSON-ready


def test_weights_digest_tells_other_weights_apart(pocket):
    import copy

    import torch
    model = copy.deepcopy(pocket.fd.model)
    before = weights_digest(model)
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-3
    model.__dict__.pop("_v2a_weights_digest", None)
    assert weights_digest(model) != before
    assert weights_digest(pocket.fd.model) == weights_digest(pocket.fd.model)


def test_another_rate_needs_a_named_resampler_which_the_card_records(pocket, world):
    batch, other, _ = world
    wide = WorldConfig(sampling_rate=48000, max_partial_hz=20000.0)
    refs48 = sample_audio_for(batch, 22, config=wide).audio
    with pytest.raises(MediaError, match=r"references #0: audio at 48000 Hz, but 16000 Hz .* "
                                         r"no resampler was chosen"):
        score(pocket, batch.audio, [(r, 48000) for r in refs48], **FAST)
    scores = {}
    for name in ("soxr_hq", "linear"):
        s = score(pocket, batch.audio, [(r, 48000) for r in refs48], resampler=name, **FAST)
        assert s.protocol["audio"]["resampler"] == name
        assert s.protocol["audio"]["sides"]["references"]["source_rates"] == [48000]
        scores[name] = s
    # the resampler moves the numbers (aliasing of the 8-20 kHz partials), and the two cards
    # refuse to be compared
    assert scores["soxr_hq"].fd != pytest.approx(scores["linear"].fd, rel=1e-3)
    with pytest.raises(ProtocolMismatchError, match=r"audio.resampler: A 'soxr_hq' vs B "
                                                    r"'linear'"):
        check_comparable(scores["soxr_hq"].protocol, scores["linear"].protocol)
    with pytest.warns(ProtocolWarning, match="audio.resampler"):
        check_comparable(scores["soxr_hq"].protocol, scores["linear"].protocol,
                         allow_differences=True)
    with pytest.raises(ConfigError, match="resampler='sinc'"):
        score(pocket, batch.audio, other, resampler="sinc", **FAST)


def test_every_resampler_keeps_a_band_limited_tone(tmp_path):
    t = np.arange(48000) / 48000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    want = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    for name in RESAMPLERS:
        got = resample(tone, 48000, 16000, name)
        assert got.shape == (16000,) and got.dtype == np.float32, name
        assert np.abs(got[500:-500] - want[500:-500]).max() < 0.01, name
    # a tone above the new Nyquist is removed by a filtering resampler, aliased by "linear"
    high = np.sin(2 * np.pi * 11000 * t).astype(np.float32)
    assert np.abs(resample(high, 48000, 16000, "soxr_hq")[500:-500]).max() < 0.01
    assert np.abs(resample(high, 48000, 16000, "linear")[500:-500]).max() > 0.5
    with pytest.raises(MediaError, match="integer rates"):
        resample(tone, 48000.5, 16000, "torchaudio")
    path = write_wav(tmp_path / "t.wav", tone, 48000)
    with pytest.raises(MediaError, match="t.wav: audio at 48000 Hz"):
        load_audio(path, 16000, resampler=None)


def test_the_clip_rule_cuts_every_clip_alike_and_is_recorded(pocket, world):
    batch, other, _ = world
    rule = ClipRule(0.5, "end", pad_to_s=1.0)
    with pytest.warns(SilentAudioWarning):  # some clips' notes all lie in their first half
        s = score(pocket, batch.audio, other, clip=rule, **FAST)
    plain = score(pocket, batch.audio, other, **FAST)
    assert s.protocol["audio"]["clip_rule"] == rule.to_dict()
    assert s.fd != pytest.approx(plain.fd, rel=1e-3)
    with pytest.raises(ProtocolMismatchError, match="audio.clip_rule"):
        check_comparable(s.protocol, plain.protocol)
    # the same as cutting by hand: the last half second, then zeros
    cut = lambda a: np.pad(a[:, 8000:], ((0, 0), (0, 8000)))  # noqa: E731
    with pytest.warns(SilentAudioWarning):
        by_hand = score(pocket, cut(batch.audio), cut(other), **FAST)
    assert s.fd == pytest.approx(by_hand.fd, rel=1e-6)
    with pytest.raises(MediaError, match=r"generated #0 has 1.000 s of audio; the clip rule "
                                         r"keeps 2 s"):
        score(pocket, batch.audio, other, clip=ClipRule(2.0), **FAST)
    with pytest.raises(ConfigError, match="ClipRule.where"):
        ClipRule(0.5, "middle")


def test_silent_generated_clips_are_counted_in_a_warning(pocket, world):
    batch, other, _ = world
    quiet = batch.audio.copy()
    quiet[:3] = 0.0
    quiet[3] *= 1e-4
    with pytest.warns(SilentAudioWarning, match=r"4 of 12 generated clips are silent or "
                                                r"near-silent"):
        s = score(pocket, quiet, other, **FAST)
    assert s.protocol["audio"]["sides"]["generated"]["silent_clips"] == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", SilentAudioWarning)
        score(pocket, batch.audio, other, **FAST)   # loud clips: no warning


def test_paired_comparison_on_the_same_inputs(pocket, world):
    batch, other, third = world
    noise = np.random.default_rng(0).standard_normal(batch.audio.shape).astype(np.float32) * 0.03
    c = compare_systems(pocket, third, noise, other, batch.images, names=("real", "noise"),
                        **FAST)
    for key in ("fd", "fad", "kad", "kl", "cs"):
        d = c.differences[key]
        assert d["estimate"] == pytest.approx(c.a.value(key) - c.b.value(key)), key
        assert d["low"] > 0 or d["high"] < 0, key          # real audio beats noise, clearly
    assert c.differences["fd"]["high"] < 0 and c.differences["cs"]["low"] > 0
    assert "beyond the resampling noise" in c.summary()
    # a system against itself differs by exactly nothing
    same = compare_systems(pocket, third, third, other, batch.images, names=("a", "b"), **FAST)
    assert all(d["estimate"] == d["low"] == d["high"] == 0 for d in same.differences.values())
    with pytest.raises(MediaError, match="real has 12 generated clips but noise 6"):
        compare_systems(pocket, third, noise[:6], names=("real", "noise"), **FAST)


def test_compare_reports_from_the_cli(world, tmp_path, capsys):
    batch, other, third = world
    names = [f"c{i:02d}" for i in range(N)]
    for folder, waves in (("gen", third), ("ref", other)):
        for w, n in zip(waves, names):
            write_wav(tmp_path / folder / f"{n}.wav", w, SR)
    wide = WorldConfig(sampling_rate=48000, max_partial_hz=20000.0)
    for w, n in zip(sample_audio_for(batch, 22, config=wide).audio, names):
        write_wav(tmp_path / "ref48" / f"{n}.wav", w, 48000)
    base = ["evaluate", str(tmp_path / "gen"), "--no-progress", "--device", "cpu",
            "--resamples", "50"]
    # a file at 48 kHz without --resampler: refused, naming the file, nothing written
    code = main(base + ["--references", str(tmp_path / "ref48"), "--json",
                        str(tmp_path / "refused.json")])
    err = capsys.readouterr().err
    assert code == 2 and "c00.wav: audio at 48000 Hz" in err and "--resampler" in err
    assert not (tmp_path / "refused.json").exists()
    assert main(base + ["--references", str(tmp_path / "ref"), "--json",
                        str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert "KAD ↓" in out and "FAD∞ ↓" in out and "weights " in out and "resampler none" in out
    assert main(base + ["--references", str(tmp_path / "ref48"), "--resampler", "soxr_hq",
                        "--json", str(tmp_path / "b.json")]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "a.json")]) == 0
    assert "protocols: the same" in capsys.readouterr().out
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err
    assert "audio.resampler: a.json None vs b.json 'soxr_hq'" in err
    assert "audio.sides.references.source_rates" in err
    assert "audio.sides.references.features_sha256" in err
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                 "--allow-differences"]) == 0
    captured = capsys.readouterr()
    assert "warning: protocol differs" in captured.err and "| a.json |" in captured.out
    (tmp_path / "bare.json").write_text("{}")
    assert main(["evaluate", "--compare", str(tmp_path / "a.json"),
                 str(tmp_path / "bare.json")]) == 2
    assert "no protocol card" in capsys.readouterr().err


def test_compare_protocols_names_each_difference_and_ranks_it():
    a = {"format": "v2a-kit-protocol-1", "extractors": {"fd": {"weights_sha256": "x"}},
         "versions": {"numpy": "1"}, "counts": {"generated": 5}}
    b = {"format": "v2a-kit-protocol-1", "extractors": {"fd": {"weights_sha256": "y"}},
         "versions": {"numpy": "2"}, "counts": {"generated": 5}}
    diffs = {d["field"]: d["critical"] for d in compare_protocols(a, b)}
    assert diffs == {"extractors.fd.weights_sha256": True, "versions.numpy": False}
    with pytest.warns(ProtocolWarning, match="setting differs .* versions.numpy"):
        check_comparable({**a, "extractors": b["extractors"]}, b)
    with pytest.raises(ConfigError, match="not a v2a-kit-protocol-1"):
        compare_protocols({}, b)


def test_field_names_and_what_cannot_be_computed_offline():
    assert FIELD_NAMES["fd"]["field"] == "FD_PANNs" and FIELD_NAMES["fad"]["field"] == "FD_VGG"
    assert {"kl", "is", "kad", "cs"} <= set(FIELD_NAMES)
    assert any("PaSST" in k for k in NOT_OFFLINE) and "IB-score" in NOT_OFFLINE
    assert "DeSync" in NOT_OFFLINE and all(len(v) > 40 for v in NOT_OFFLINE.values())


def test_the_reproduction_carries_intervals_paired_differences_and_the_card():
    from v2a_kit.pocket.reproduce import PAIRED_COMPARISONS, reproduce
    report = reproduce(n=4, seeds=(0, 1), num_inference_steps=2, num_samples=2, num_train=64,
                       baselines=("nearest neighbour",))
    json.dumps(report, allow_nan=False)
    systems = report["systems"]
    for name in systems:
        for k, per_seed in enumerate(report["intervals"][name]):
            for key in ("fd", "kad", "kl", "cs"):
                assert per_seed[key]["estimate"] == pytest.approx(
                    systems[name]["metrics"][key]["per_seed"][k], abs=1e-5), (name, key)
    present = [f"{a} − {b}" for a, b in PAIRED_COMPARISONS if a in systems and b in systems]
    assert present == ["generative − regression", "generative − nearest neighbour",
                       "regression − nearest neighbour", "generative − ridge"]
    for k, per_seed in enumerate(report["paired"]):
        assert list(per_seed) == present
        d = per_seed["generative − regression"]["fd"]
        gen, reg = (systems[s]["metrics"]["fd"]["per_seed"][k] for s in ("generative",
                                                                          "regression"))
        assert d["estimate"] == pytest.approx(gen - reg, abs=1e-4)
        assert d["low"] <= d["estimate"] <= d["high"]
    assert report["protocol"]["format"] == "v2a-kit-protocol-1"
    assert report["protocol"]["pairing"]["rule"] == "explicit (reference_pairs, image_pairs)"
    assert "kad" in report["systems"]["generative"]["metrics"]
