"""The pocket world's data and audio front end (v2a_kit.pocket.world, v2a_kit.pocket.models.audio).

Measured on the 2-core dev VM when nothing else ran (``pytest -s`` prints fresh figures; another
busy process on the same cores makes Griffin-Lim ≈ 3× slower):
    - sample_world: ≈ 1,800 (image, audio, captions) pairs/s (images alone ≈ 7,500/s, audio alone
      ≈ 2,900/s);
    - log_mel: ≈ 1 ms per 1 s clip, batched;
    - GriffinLim, chunks of 16 clips: ≈ 27 ms per clip at 32 iterations (≈ 18 ms at 16), of which
      ≈ 7 ms is the NNLS mel inversion. Round trip log-mel → vocoder → log-mel: spectral
      convergence ‖|STFT(y)| − target‖ / ‖target‖ ≈ 0.17, mean log-mel error ≈ 0.15 (nats);
    - separability after 4×4 power pooling, upsampling and Griffin-Lim, logistic regression on 46
      hand features (600 clips, 400 train / 200 held out; 16 or 32 iterations alike): shape 0.98,
      colour 0.99, count 0.99, size 1.0 (chance 0.25 / 0.25 / 0.33 / 0.5). The same classifier
      trained on clean audio reads vocoded shape at only ≈ 0.72: evaluators must see vocoded audio
      in training (the feasibility measurement before the first build: a tagger trained on clean
      audio read vocoded timbre at 51 %).
"""


import json
import re
import time

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from v2a_kit.errors import ConfigError, MediaError
from v2a_kit.pocket.models.audio import GriffinLim, LogMel, log_mel, nearest_upsample, power_pool
from v2a_kit.pocket.world import (
    ATTRIBUTES,
    AUDIBLE,
    AUDIO_ONLY,
    AUDIO_WORDS,
    BACKGROUNDS,
    BLOCK,
    HEARD_ONLY,
    IMAGE_WORDS,
    SEEN,
    UNSEEN,
    VISUAL_ONLY,
    WORLD_TABLE,
    WORLD_VERSION,
    PocketBatch,
    WorldConfig,
    audio_prompts,
    image_prompts,
    is_unseen,
    sample_audio_for,
    sample_world,
    save_examples,
)
from v2a_kit.pocket.world.render import _colours

REGISTERS = np.array(WorldConfig().registers_hz)


@pytest.fixture(scope="module")
def batch() -> PocketBatch:
    return sample_world(BLOCK + 44, seed=11)  # crosses a block boundary


@pytest.fixture(scope="module")
def vocoder() -> GriffinLim:
    return GriffinLim()


# ----------------------------------------------------------------------------- helpers

def onset_counts(audio) -> np.ndarray:
    """Notes per clip: rising crossings of −10 dB (re. the clip's loudest log-mel frame), re-armed
    below −20 dB; hysteresis keeps a decaying or vocoded note from counting twice."""
    energy_db = torch.logsumexp(log_mel(torch.as_tensor(audio)), dim=1).numpy() * 10 / np.log(10)
    energy_db -= energy_db.max(axis=1, keepdims=True)
    counts = []
    for row in energy_db:
        n, on = 0, False
        for v in row:
            if not on and v > -10:
                n, on = n + 1, True
            elif on and v < -20:
                on = False
        counts.append(n)
    return np.array(counts)


def dominant_register(audio, sampling_rate=16000) -> np.ndarray:
    """Index of the register nearest (in octaves) to the strongest FFT bin of each clip."""
    spectrum = np.abs(np.fft.rfft(np.asarray(audio), axis=-1))
    freqs = np.fft.rfftfreq(np.asarray(audio).shape[-1], 1 / sampling_rate)
    peak = freqs[spectrum.argmax(-1)]
    return np.abs(np.log2(peak[:, None] / REGISTERS)).argmin(1)


def peak_rms(audio, block=320) -> np.ndarray:
    """Loudest 20-ms block RMS of each clip."""
    audio = np.asarray(audio)
    frames = audio[:, : audio.shape[1] // block * block].reshape(len(audio), -1, block)
    return np.sqrt((frames ** 2).mean(-1)).max(-1)


def names(caption: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", caption) is not None


def named_values(caption: str, words: dict) -> set[str]:
    """Values of one attribute whose synonyms (either number, for nouns) the caption contains."""
    found = set()
    for value, synonyms in words.items():
        forms = [f for s in synonyms for f in (s if isinstance(s, tuple) else (s,))]
        if any(names(caption, f) for f in forms):
            found.add(value)
    return found


def hand_features(mels: torch.Tensor) -> np.ndarray:
    """Shift-invariant features of (b, 64, 100) log-mels: per-band max and mean of the 4×4 power
    pool, frame energies sorted (envelope shape and note count), peak energy."""
    pooled = power_pool(mels, (4, 4))                       # (b, 16, 25)
    energy = torch.logsumexp(pooled, dim=1)                 # (b, 25)
    return torch.cat([pooled.amax(2), pooled.mean(2), energy.sort(1, descending=True).values,
                      energy.amax(1, keepdim=True)], 1).numpy()


# ----------------------------------------------------------------------------- world

def test_shapes_dtypes_and_ranges(batch):
    n = len(batch)
    assert batch.images.shape == (n, 64, 64, 3) and batch.images.dtype == np.uint8
    assert batch.audio.shape == (n, 16000) and batch.audio.dtype == np.float32
    assert np.isfinite(batch.audio).all() and np.abs(batch.audio).max() < 0.95  # no clipping
    assert len(batch.image_captions) == len(batch.audio_captions) == n
    for attr, values in ATTRIBUTES.items():
        labels = batch.labels[attr]
        assert labels.dtype == np.int64 and labels.shape == (n,)
        assert set(np.unique(labels)) == set(range(len(values)))   # every value occurs
    count = batch.labels["count"] + 1
    active = np.arange(3) < count[:, None]
    assert (np.isnan(batch.onsets_s) == ~active).all()
    assert (np.isnan(batch.radii_px) == ~active).all()
    assert (np.isnan(batch.positions).any(-1) == ~active).all()
    gaps = np.diff(batch.onsets_s, axis=1)
    assert (gaps[~np.isnan(gaps)] >= 0.24 - 1e-4).all()   # onsets sit on samples
    assert np.nanmin(batch.onsets_s) >= 0.02 and np.nanmax(batch.onsets_s) + 0.22 <= 0.98 + 1e-4
    octaves = np.log2(batch.pitch_hz / REGISTERS[batch.labels["colour"]])
    assert np.abs(octaves).max() <= 0.2 and octaves.std() > 0.05
    assert set(np.unique(batch.background)) == set(range(len(BACKGROUNDS)))
    # Non-overlapping objects, inside the image.
    for a, b in ((0, 1), (0, 2), (1, 2)):
        d = np.linalg.norm(batch.positions[:, a] - batch.positions[:, b], axis=-1)
        both = ~np.isnan(d)
        assert (d[both] > batch.radii_px[both, a] + batch.radii_px[both, b]).all()
    assert np.nanmin(batch.positions - batch.radii_px[..., None]) >= 0
    assert np.nanmax(batch.positions + batch.radii_px[..., None]) <= 64


def test_images_show_the_labels(batch):
    """Object pixels have the label's colour, turned by the tone (the visible side of the exact
    pitch); large objects cover more pixels than small ones."""
    base = np.array([[215, 40, 40], [40, 170, 60], [45, 75, 225], [240, 205, 30]])
    fills = _colours(batch.labels["colour"], batch.tone, WorldConfig())
    pixels = batch.images.reshape(len(batch), -1, 3)
    covered = (pixels == fills[:, None, :]).all(-1).sum(1)                 # (n,)
    assert (covered > 0).all()
    nearest = np.abs(fills[:, None, :].astype(int) - base[None]).sum(-1).argmin(1)
    np.testing.assert_array_equal(nearest, batch.labels["colour"])          # still that colour
    assert len({tuple(f) for f in fills}) > len(batch) // 2                 # shades vary
    area = covered / (batch.labels["count"] + 1)
    small, large = batch.labels["size"] == 0, batch.labels["size"] == 1
    assert area[small].max() < area[large].min()


def test_tone_sets_the_exact_pitch_and_radius_the_loudness(batch):
    cfg = WorldConfig()
    np.testing.assert_allclose(
        batch.pitch_hz, REGISTERS[batch.labels["colour"]] * 2 ** (cfg.pitch_jitter_oct
                                                                  * batch.tone))
    nominal = np.asarray(cfg.radius_frac)[batch.labels["size"]] * cfg.image_size
    expected = (np.asarray(cfg.loudness_rms)[batch.labels["size"]]
                * (np.nanmean(batch.radii_px, 1) / nominal) ** cfg.loudness_exponent)
    ratio = peak_rms(batch.audio) / expected    # clip-level blocks: ≈ 5 % measurement noise
    assert np.median(ratio) == pytest.approx(1.0, abs=0.05)
    level = np.asarray(cfg.loudness_rms)[batch.labels["size"]]
    assert np.corrcoef(peak_rms(batch.audio) / level, expected / level)[0, 1] > 0.8


def test_deterministic_and_prefix_stable(batch):
    again = sample_world(len(batch), seed=11)
    prefix = sample_world(7, seed=11)
    other = sample_world(7, seed=12)
    for name in ("images", "audio", "onsets_s", "pitch_hz", "tone", "background", "positions",
                 "radii_px"):
        np.testing.assert_array_equal(getattr(again, name), getattr(batch, name))
        np.testing.assert_array_equal(getattr(prefix, name), getattr(batch, name)[:7])
    assert again.image_captions == batch.image_captions
    assert prefix.audio_captions == batch.audio_captions[:7]
    assert not np.array_equal(other.images, prefix.images)
    assert not np.array_equal(other.audio, prefix.audio)


def test_len_and_slicing(batch):
    part = batch[3:9]
    assert isinstance(part, PocketBatch) and len(part) == 6
    np.testing.assert_array_equal(part.audio, batch.audio[3:9])
    assert part.image_captions == batch.image_captions[3:9]
    assert part.labels["shape"].tolist() == batch.labels["shape"][3:9].tolist()
    one = batch[-1]
    assert len(one) == 1 and one.audio_captions == batch.audio_captions[-1:]
    picked = batch[np.array([5, 0])]
    assert picked.image_captions == [batch.image_captions[5], batch.image_captions[0]]


def test_splits_hold_their_combinations_and_every_pair_stays_seen():
    assert len(SEEN) == 80 and len(UNSEEN) == 16 and not set(SEEN) & set(UNSEEN)
    names = list(ATTRIBUTES)
    for i, a in enumerate(names):            # every pair of values of two attributes is SEEN
        for b in names[i + 1:]:
            j = names.index(b)
            pairs = {(c[i], c[j]) for c in SEEN}
            assert len(pairs) == len(ATTRIBUTES[a]) * len(ATTRIBUTES[b])
    seen, unseen = sample_world(300, 5, split="seen"), sample_world(300, 5, split="unseen")
    assert not is_unseen(seen.labels).any() and is_unseen(unseen.labels).all()
    assert len({tuple(unseen.labels[a][k] for a in names) for k in range(300)}) == 16
    np.testing.assert_array_equal(sample_world(40, 5, split="unseen").images, unseen.images[:40])
    assert WORLD_VERSION == 2


def test_contour_is_the_pitch_glide(batch):
    """Early vs late in each clip's first note, the log-frequency centroid rises, falls or
    holds as the (heard-only) contour says; every contour occurs about equally often."""
    assert batch.labels["contour"].dtype == np.int64
    shares = np.bincount(batch.labels["contour"], minlength=3) / len(batch)
    assert np.abs(shares - 1 / 3).max() < 0.08
    sr, glide = 16000, []
    for clip, onset in zip(batch.audio, batch.onsets_s[:, 0]):
        start = int(round(onset * sr))
        cents = []
        for a, b in ((0.01, 0.07), (0.11, 0.17)):
            seg = clip[start + int(a * sr):start + int(b * sr)] * np.hanning(int(b * sr)
                                                                             - int(a * sr))
            spec = np.abs(np.fft.rfft(seg, 4096)) ** 2
            f = np.fft.rfftfreq(4096, 1 / sr)
            band = (f > 60) & (f < 6000)
            cents.append((spec[band] * np.log2(f[band])).sum() / spec[band].sum())
        glide.append(cents[1] - cents[0])
    glide = np.array(glide)
    contour = batch.labels["contour"]
    assert (glide[contour == 1] > 0.1).mean() > 0.95      # rising
    assert (glide[contour == 2] < -0.1).mean() > 0.95     # falling
    assert (np.abs(glide[contour == 0]) < 0.1).mean() > 0.9


def test_captions_name_their_values_and_nothing_else(batch):
    visual_words = {f for words in (IMAGE_WORDS["shape"], IMAGE_WORDS["colour"],
                                    IMAGE_WORDS["size"], IMAGE_WORDS["background"])
                    for synonyms in words.values() for s in synonyms
                    for f in (s if isinstance(s, tuple) else (s,))}
    for i in range(len(batch)):
        for attr, values in ATTRIBUTES.items():
            value = values[batch.labels[attr][i]]
            assert named_values(batch.image_captions[i], IMAGE_WORDS[attr]) == {value}
            assert named_values(batch.audio_captions[i], AUDIO_WORDS[attr]) == {value}
        contour = HEARD_ONLY["contour"][batch.labels["contour"][i]]
        assert named_values(batch.audio_captions[i], AUDIO_WORDS["contour"]) == {contour}
        assert not named_values(batch.image_captions[i], AUDIO_WORDS["contour"])  # never seen
        background = BACKGROUNDS[batch.background[i]]
        if "background" in batch.image_captions[i]:
            assert named_values(batch.image_captions[i], IMAGE_WORDS["background"]) == {background}
        assert not [w for w in visual_words if names(batch.audio_captions[i], w)]
    assert len(set(batch.image_captions)) > len(batch) // 2   # paraphrases vary
    assert len(set(batch.audio_captions)) > len(batch) // 3


def test_zero_shot_prompts():
    for attr, values in AUDIBLE.items():
        kinds = [(audio_prompts(attr), AUDIO_WORDS)]
        if attr in ATTRIBUTES:                        # seen as well as heard
            kinds.append((image_prompts(attr), IMAGE_WORDS))
        for prompts, words in kinds:
            assert list(prompts) == values and len(set(prompts.values())) == len(values)
            for value, prompt in prompts.items():
                assert named_values(prompt, words[attr]) == {value}
    assert list(image_prompts("background")) == BACKGROUNDS
    assert audio_prompts("contour")["rising"] == "a rising sound"
    assert audio_prompts("colour")["red"] == "a low-pitched sound"
    assert set(VISUAL_ONLY).isdisjoint(AUDIO_ONLY)


def test_world_table_documents_every_factor():
    lines = WORLD_TABLE.splitlines()
    assert lines[0].startswith("| attribute") and all(line.startswith("|") for line in lines)
    for name in [*AUDIBLE, *VISUAL_ONLY, *AUDIO_ONLY, "tone", "radii_px"]:
        assert f"`{name}`" in WORLD_TABLE


def test_count_is_the_number_of_onsets(batch):
    np.testing.assert_array_equal(onset_counts(batch.audio), batch.labels["count"] + 1)


def test_size_is_loudness(batch):
    loudness = peak_rms(batch.audio)
    quiet, loud = batch.labels["size"] == 0, batch.labels["size"] == 1
    assert loudness[quiet].max() * 2 < loudness[loud].min()     # ≥ 6 dB apart, every timbre


def test_colour_is_the_pitch_register(batch):
    steady = batch.labels["contour"] == 0   # a glide may pass half-way to the next register
    np.testing.assert_array_equal(dominant_register(batch.audio[steady]),
                                  batch.labels["colour"][steady])


def test_sample_audio_for_keeps_what_the_image_shows_and_redraws_the_rest(batch):
    own = sample_audio_for(batch, seed=11)
    np.testing.assert_array_equal(own.audio, batch.audio)
    assert own.audio_captions == batch.audio_captions
    new = sample_audio_for(batch, seed=99)
    assert new.audio.shape == batch.audio.shape
    np.testing.assert_allclose(new.pitch_hz, batch.pitch_hz)          # the tone is seen
    assert 0.5 < (new.contour != batch.labels["contour"]).mean() < 0.8  # heard-only: redrawn
    assert (np.abs(new.onsets_s[:, 0] - batch.onsets_s[:, 0]) > 0.005).mean() > 0.9
    np.testing.assert_array_equal(onset_counts(new.audio), batch.labels["count"] + 1)
    assert np.corrcoef(peak_rms(new.audio), peak_rms(batch.audio))[0, 1] > 0.95  # radius → loud
    for i in range(0, len(batch), 17):
        for attr, values in ATTRIBUTES.items():
            value = values[batch.labels[attr][i]]
            assert named_values(new.audio_captions[i], AUDIO_WORDS[attr]) == {value}
    # a labels dict: nominal tone and radii; a given contour is kept
    fixed = {**{a: batch.labels[a][:20] for a in ATTRIBUTES}, "contour": np.full(20, 2)}
    sounds = sample_audio_for(fixed, seed=3)
    assert (sounds.contour == 2).all()
    np.testing.assert_allclose(sounds.pitch_hz, REGISTERS[batch.labels["colour"][:20]])


def test_save_examples(batch, tmp_path):
    paths = save_examples(batch, tmp_path / "examples", n=3)
    assert len(paths) == 7
    image = np.asarray(Image.open(tmp_path / "examples" / "001.png"))
    np.testing.assert_array_equal(image, batch.images[1])
    audio, rate = sf.read(tmp_path / "examples" / "001.wav", dtype="float32")
    assert rate == 16000 and np.abs(audio - batch.audio[1]).max() < 1e-4
    index = json.loads((tmp_path / "examples" / "examples.json").read_text())
    assert index[1]["audio_caption"] == batch.audio_captions[1]
    assert index[1]["shape"] == ATTRIBUTES["shape"][batch.labels["shape"][1]]


@pytest.mark.parametrize("call, match", [
    (lambda: sample_world(0, 1), "n=0"),
    (lambda: sample_world(2.0, 1), "n=2.0"),
    (lambda: sample_world(2, "1"), "seed='1'"),
    (lambda: sample_world(2, -1), "seed=-1"),
    (lambda: sample_world(2, 1, WorldConfig(min_gap_s=0.1)), "min_gap_s"),
    (lambda: image_prompts("smell"), "attribute='smell'"),
    (lambda: audio_prompts("background"), "attribute='background'"),
    (lambda: sample_audio_for({"shape": [0]}, 1), "labels: unknown"),
    (lambda: sample_audio_for({"shape": [4], "colour": [0], "count": [0], "size": [0]}, 1),
     r"labels\['shape'\]"),
    (lambda: save_examples(sample_world(2, 0), "unused-folder", n=3), "n=3"),
    (lambda: sample_world(2, 0, split="train"), "split='train'"),
    (lambda: sample_world(2, 0, WorldConfig(contour_oct=3.0)), "contour_oct"),
    (lambda: sample_audio_for({"shape": [0], "colour": [0], "count": [0], "size": [0],
                               "contour": [3]}, 1), r"labels\['contour'\]"),
])
def test_bad_world_inputs_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- audio front end

def test_log_mel_shape_and_scale(batch):
    import librosa

    mels = log_mel(torch.from_numpy(batch.audio[:8]))
    assert mels.shape == (8, 64, 100) and mels.dtype == torch.float32
    assert LogMel().num_frames(16000) == 100 and log_mel(torch.zeros(1, 32000)).shape[-1] == 200
    reference = librosa.feature.melspectrogram(y=batch.audio[2], sr=16000, n_fft=1024,
                                               hop_length=160, n_mels=64)[:, :100]
    np.testing.assert_allclose(mels[2].numpy(), np.log(reference + 1e-5), atol=1e-3)
    assert mels.min() == pytest.approx(np.log(1e-5), abs=1e-3)     # silent edges
    assert list(LogMel().state_dict()) == []                       # nothing to ship


def test_griffin_lim_round_trip_keeps_register_and_onsets(batch, vocoder):
    clips = batch[:32]
    mels = log_mel(torch.from_numpy(clips.audio))
    start = time.perf_counter()
    audio = vocoder(mels)
    elapsed = time.perf_counter() - start
    assert audio.shape == (32, 16000) and audio.dtype == torch.float32
    assert torch.isfinite(audio).all()
    torch.testing.assert_close(vocoder(mels[:3]), audio[:3])          # deterministic, per clip
    steady = clips.labels["contour"] == 0   # a glide may pass half-way to the next register
    np.testing.assert_array_equal(dominant_register(audio[steady]),
                                  clips.labels["colour"][steady])
    np.testing.assert_array_equal(onset_counts(audio), clips.labels["count"] + 1)
    error = (log_mel(audio) - mels).abs().mean().item()
    target = vocoder.magnitude(mels)
    rebuilt = torch.stft(audio, 1024, 160, window=torch.hann_window(1024), center=True,
                         pad_mode="constant", return_complex=True)[..., :100].abs()
    convergence = ((rebuilt - target).norm() / target.norm()).item()
    print(f"\nGriffin-Lim: {elapsed / 32 * 1e3:.1f} ms/clip, log-mel L1 {error:.3f}, "
          f"spectral convergence {convergence:.3f}")
    assert error < 0.4 and convergence < 0.3


def test_power_pool_and_upsample():
    x = torch.randn(2, 1, 64, 100)
    pooled = power_pool(x, (4, 4))
    assert pooled.shape == (2, 1, 16, 25)
    assert power_pool(x[:, 0], (2, 4)).shape == (2, 32, 25)
    up = nearest_upsample(pooled, (4, 4))
    assert up.shape == x.shape
    torch.testing.assert_close(power_pool(up, (4, 4)), pooled)     # pool ∘ upsample = identity
    tile = x[0, 0, :4, :4]
    torch.testing.assert_close(pooled[0, 0, 0, 0], tile.exp().mean().log())
    assert (pooled >= x.reshape(2, 1, 16, 4, 25, 4).mean((3, 5)) - 1e-5).all()  # power ≥ log mean


@pytest.mark.parametrize("call, match", [
    (lambda: log_mel(torch.zeros(16000)), "audio has shape"),
    (lambda: log_mel(torch.zeros(2, 16000, dtype=torch.int16)), "audio has dtype"),
    (lambda: GriffinLim()(torch.zeros(1, 80, 100)), "log_mel has shape"),
    (lambda: GriffinLim(n_iter=0), "n_iter=0"),
    (lambda: power_pool(torch.zeros(1, 64, 100), (3, 3)), "factor"),
    (lambda: nearest_upsample(torch.zeros(1, 16, 25), (0, 4)), "factor"),
])
def test_bad_audio_inputs_name_the_argument(call, match):
    with pytest.raises((MediaError, ConfigError), match=match):
        call()


# ----------------------------------------------------------------------------- separability

def test_attributes_survive_pooling_and_the_vocoder():
    """The world's timbres must not collapse after 4×4 power pooling + Griffin-Lim: a logistic
    regression on simple features of held-out vocoded clips reads every attribute (see the module
    docstring for the measured figures). 16 iterations: half the cost, and the harder case."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = sample_world(384, seed=2024)
    mels = log_mel(torch.from_numpy(data.audio))
    start = time.perf_counter()
    vocoded = GriffinLim(n_iter=16)(nearest_upsample(power_pool(mels, (4, 4)), (4, 4)))
    seconds = time.perf_counter() - start
    features, clean = hand_features(log_mel(vocoded)), hand_features(mels)
    train, test = slice(0, 256), slice(256, None)
    accuracy, from_clean = {}, {}
    for attr in ATTRIBUTES:
        y = data.labels[attr]
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
        accuracy[attr] = model.fit(features[train], y[train]).score(features[test], y[test])
        from_clean[attr] = model.fit(clean[train], y[train]).score(features[test], y[test])
    print(f"\nvocoded 384 clips in {seconds:.1f} s; held-out accuracy {accuracy}; "
          f"trained on clean audio instead: {from_clean}")
    assert accuracy["shape"] >= 0.9
    assert min(accuracy.values()) >= 0.9


def test_save_examples_leaves_no_half_written_file(tmp_path, monkeypatch):
    """A write that fails part-way leaves the files before it whole and no partial file or
    temporary behind (each file goes through atomic_path)."""
    import soundfile as sf

    from v2a_kit.pocket.world import sample_world, save_examples
    batch = sample_world(3, seed=5)
    real_write, calls = sf.write, []

    def flaky(path, *a, **k):
        calls.append(path)
        real_write(path, *a, **k)
        if len(calls) == 2:
            raise OSError("disk full")
    monkeypatch.setattr(sf, "write", flaky)
    with pytest.raises(OSError, match="disk full"):
        save_examples(batch, tmp_path, n=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["000.png", "000.wav", "001.png"], names


def test_the_flat_module_names_are_the_moved_modules():
    """pocket/ is three rooms (world/, models/, the experiments); the modules' names from before
    the rooms import the moved modules themselves, and nothing else does."""
    import importlib

    from v2a_kit.pocket import MOVED
    for old, new in MOVED.items():
        assert importlib.import_module(f"v2a_kit.pocket.{old}") is \
            importlib.import_module(f"v2a_kit.pocket.{new}"), old
    from v2a_kit.pocket.loading import load_tagger as flat

    from v2a_kit.pocket.models.loading import load_tagger
    assert flat is load_tagger
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("v2a_kit.pocket.no_such_module")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("v2a_kit.pocket.models.scenes")  # a room's own names only
