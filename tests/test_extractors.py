"""Audio feature extractors: the paper's networks at random init, their checkpoint layouts, the
offline failure, and the pocket evaluators behind the same interface."""


import numpy as np
import pytest
import torch

from v2a_kit import evaluation as ev
from v2a_kit.errors import ConfigError, MediaError, WeightsNotFoundError
from v2a_kit.evaluation import extractors as X
from v2a_kit.media import load_audio, write_wav
from v2a_kit.models import extractors as L
from v2a_kit.pocket.world import ATTRIBUTES, AUDIBLE, sample_audio_for, sample_world
from v2a_kit.registry import load_extractors

SR = 16000


@pytest.fixture(scope="module")
def paper():
    return load_extractors("paper", random_init=True, device="cpu")


@pytest.fixture(scope="module")
def world():
    return sample_world(24, seed=321)  # a judged seed (< 10,000): no evaluator trained on it


def _noise(seconds, seed=0, scale=0.1):
    return (np.random.default_rng(seed).normal(size=int(seconds * SR)) * scale).astype(np.float32)


def _tone(seconds, sr, hz=440.0):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


# ----------------------------------------------------------------------------- paper, random init

def test_paper_architectures_take_clips_of_any_length(paper):
    clips = [_noise(0.4, 0), _noise(0.7, 1), _noise(1.0, 2)]
    feats, logits = paper.fd.features_and_logits(clips)
    assert feats.shape == (3, 2048) and logits.shape == (3, 527)
    assert feats.dtype == logits.dtype == np.float32
    assert np.isfinite(feats).all() and np.isfinite(logits).all() and (feats >= 0).all()
    assert paper.fd.num_classes == 527 and paper.fd.logit_groups is None
    np.testing.assert_allclose(paper.fd.logits(clips[:1]), logits[:1], rtol=1e-5, atol=1e-6)

    long = [_noise(1.0, 3), _noise(2.0, 4)]       # 1 and 2 VGGish examples of 0.96 s
    assert paper.fad.features(long).shape == (2, 128)
    rows = paper.fad.fd_features(long)
    assert rows.shape == (3, 128) and np.isfinite(rows).all()
    np.testing.assert_allclose(paper.fad.features(long[1:]), rows[1:].mean(0, keepdims=True),
                               rtol=1e-5, atol=1e-6)

    audio = paper.cs.embed_audio(clips)
    images = paper.cs.embed_images(np.random.default_rng(0).integers(0, 255, (2, 64, 64, 3),
                                                                     dtype=np.uint8))
    assert audio.shape == (3, 512) and images.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(audio, axis=1), 1, atol=1e-5)
    assert paper.cs.space.model == "open_clip/ViT-B-32" and paper.cs.audio_space.dim == 512
    assert paper.fd.space.checkpoint == "random-init:seed=0"


def test_same_seed_same_weights_and_outputs_per_clip(paper):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b = X._build(X.Wav2CLIP), X._build(X.Wav2CLIP)
    assert torch.equal(torch.rand(3), expected)  # building did not consume the global RNG
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    clip, other = _noise(0.5, 5), _noise(0.5, 6, scale=0.5)
    # a clip's output does not depend on its batch-mates (Wav2CLIP standardises per clip here)
    np.testing.assert_allclose(paper.cs.embed_audio([clip, other])[0],
                               paper.cs.embed_audio([clip])[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(paper.fd.features([clip]), paper.fd.features([clip]))


def test_other_rates_and_files_are_resampled_by_load_audio(paper, tmp_path):
    tone = _tone(1.2, 22050)
    at_16k = load_audio((tone, 22050), SR)
    expected = paper.fad.features([at_16k])
    path = write_wav(tmp_path / "tone.wav", tone, 22050)
    for given in (paper.fad.features(tone[None], orig_sr=22050),
                  paper.fad.features([(tone, 22050)]),
                  paper.fad.features([path])):
        np.testing.assert_allclose(given, expected, rtol=1e-3, atol=1e-4)


def test_vggish_examples_follow_googles_front_end():
    silence = X.vggish_examples(torch.zeros(1, 3 * SR))
    assert silence.shape == (1, 3, 96, 64)            # 298 frames -> 3 examples of 96
    assert torch.allclose(silence, torch.tensor(np.log(0.01), dtype=torch.float32))
    # a 1 kHz tone peaks in the band whose HTK-mel centre is nearest 1 kHz
    mel = 1127 * np.log1p(np.array([125.0, 7500.0, 1000.0]) / 700)
    centres = np.linspace(mel[0], mel[1], 66)[1:-1]
    tone = torch.from_numpy(_tone(1.0, SR, 1000.0))[None]
    assert X.vggish_examples(tone)[0, 0].mean(0).argmax() == np.abs(centres - mel[2]).argmin()


# ----------------------------------------------------------------------------- checkpoint layouts

def test_state_dict_keys_are_the_official_checkpoints(paper):
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    cnn14 = {"spectrogram_extractor.stft.conv_real.weight",
             "spectrogram_extractor.stft.conv_imag.weight", "logmel_extractor.melW",
             *(f"bn0.{k}" for k in bn), "fc1.weight", "fc1.bias", "fc_audioset.weight",
             "fc_audioset.bias"}
    for i in range(1, 7):
        cnn14 |= {f"conv_block{i}.conv1.weight", f"conv_block{i}.conv2.weight"}
        cnn14 |= {f"conv_block{i}.bn{j}.{k}" for j in (1, 2) for k in bn}
    sd = paper.fd.model.state_dict()
    assert set(sd) == cnn14
    assert sd["conv_block6.conv2.weight"].shape == (2048, 2048, 3, 3)
    assert sd["fc_audioset.weight"].shape == (527, 2048)
    assert sd["logmel_extractor.melW"].shape == (257, 64)  # n_fft 512, 64 mels

    vggish = {f"{m}.{i}.{p}" for m, idx in (("features", (0, 3, 6, 8, 11, 13)),
                                            ("embeddings", (0, 2, 4))) for i in idx
              for p in ("weight", "bias")}
    sd = paper.fad.model.state_dict()
    assert set(sd) == vggish
    assert sd["embeddings.0.weight"].shape == (4096, 512 * 4 * 6)
    assert sd["embeddings.4.weight"].shape == (128, 4096)

    sd = paper.cs.model.state_dict()
    for key, shape in {"audio_encoder.conv1.weight": (64, 1, 7, 7),
                       "audio_encoder.spectrogram.window": (512,),
                       "audio_encoder.layer2.0.downsample.0.weight": (128, 64, 1, 1),
                       "audio_encoder.layer4.1.bn2.running_var": (512,),
                       "audio_transform.sequential.0.weight": (512, 512),
                       "audio_transform.sequential.3.bias": (512,)}.items():
        assert sd[key].shape == shape, key
    assert not any(k.startswith("audio_encoder.fc.") for k in sd)


def test_checkpoints_in_the_published_layouts_load(paper, tmp_path):
    clips = [_noise(0.4, 7)]
    # PANNs: a training checkpoint, {"model": ..., "sampler": numpy state}, loads weights-only
    sd = {k: v.clone() for k, v in paper.fd.model.state_dict().items()}
    sd["fc_audioset.bias"] += 1.0
    torch.save({"iteration": 5, "model": sd,
                "sampler": {"indexes_per_class": [np.arange(4)], "queue": [3, 1],
                            "pointers_of_classes": np.zeros(527, dtype=np.int64)}},
               tmp_path / X.PANNS_CNN14_16K.filename)
    loaded = L.load_panns_cnn14(weights=tmp_path, device="cpu")
    np.testing.assert_allclose(loaded.logits(clips), paper.fd.logits(clips) + 1, atol=1e-4)
    assert loaded.space.checkpoint == X.PANNS_CNN14_16K.filename
    # VGGish: a bare state dict; the last layer has no ReLU, so a bias shift passes through
    sd = {k: v.clone() for k, v in paper.fad.model.state_dict().items()}
    sd["embeddings.4.bias"] -= 100.0
    torch.save(sd, tmp_path / X.VGGISH.filename)
    loaded = L.load_vggish(weights=tmp_path / X.VGGISH.filename, device="cpu")
    clip = [_noise(1.0, 8)]
    np.testing.assert_allclose(loaded.features(clip), paper.fad.features(clip) - 100, atol=1e-3)
    # Wav2CLIP: the release is a flat state dict (with an unused head); Lightning's nests it
    sd = {k: v.clone() for k, v in paper.cs.model.state_dict().items()}
    sd["audio_transform.sequential.3.bias"] += 5.0
    sd |= {"audio_encoder.fc.weight": torch.zeros(1000, 512), "audio_encoder.fc.bias":
           torch.zeros(1000), "image_transform.sequential.0.weight": torch.zeros(512, 512)}
    before = paper.cs._map(clips, None, paper.cs.model)[0]
    for layout in (sd, {"epoch": 3, "state_dict": sd}):
        torch.save(layout, tmp_path / X.WAV2CLIP.filename)
        loaded = L.load_wav2clip(weights=tmp_path, image_encoder=paper.cs.image_encoder,
                                 device="cpu")
        after = loaded._map(clips, None, loaded.model)[0]
        np.testing.assert_allclose((after - before).numpy(), 5.0, atol=1e-3)


class _NotData:
    pass


def test_foreign_or_broken_checkpoints_are_refused_by_name(tmp_path):
    code = tmp_path / "code.pth"
    torch.save({"model": {}, "obj": _NotData()}, code)
    with pytest.raises(ConfigError, match="weights_only=True") as info:
        X.load_checkpoint(code, "test")
    assert str(code) in str(info.value)
    cut = tmp_path / "cut.pth"
    torch.save({"w": torch.zeros(1000)}, cut)
    cut.write_bytes(cut.read_bytes()[:200])
    with pytest.raises(ConfigError, match="cut.pth"):
        X.load_checkpoint(cut, "test")
    other = tmp_path / X.VGGISH.filename
    torch.save({"fc.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(ConfigError, match="does not fit"):
        L.load_vggish(weights=other, device="cpu")


def test_paper_offline_fails_without_touching_the_network_naming_every_file(
        empty_hf_cache, monkeypatch, tmp_path):
    import socket

    import torch.hub

    from v2a_kit import weights
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("V2A_KIT_CACHE", str(tmp_path / "kit-cache"))
    calls = []  # fails fast = never waits on a probe, a socket or a download

    def refuse(name):
        def fn(*a, **k):
            calls.append(name)
            raise OSError(f"{name} called")
        return fn
    monkeypatch.setattr(weights, "hub_reachable", refuse("hub_reachable"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse("download"))
    with pytest.raises(WeightsNotFoundError) as info:
        load_extractors("paper", device="cpu")
    assert calls == []
    msg = str(info.value)
    for name in (X.PANNS_CNN14_16K.filename, X.VGGISH.filename, X.WAV2CLIP.filename,
                 "open_clip_model.safetensors", str(tmp_path / "kit-cache")):
        assert name in msg, name
    assert msg.count("What to do") == 1 and "V2A_KIT_WEIGHTS" in msg and "pocket" in msg
    with pytest.raises(WeightsNotFoundError, match="Cnn14_16k"):
        L.load_panns_cnn14(device="cpu")


# ----------------------------------------------------------------------------- pocket

def test_pocket_tagger_logits_read_the_attributes_of_real_clips(pocket, world):
    feats, logits = pocket.fd.features_and_logits(world.audio)
    assert feats.shape == (len(world), pocket.fd.feature_dim) and np.isfinite(feats).all()
    assert logits.shape == (len(world), sum(len(v) for v in AUDIBLE.values()))
    for attr, cols in pocket.fd.logit_groups.items():
        assert (logits[:, cols].argmax(1) == world.labels[attr]).mean() >= 0.95, attr
    # other sounds for the same images agree far better than sounds of other images, on what
    # the image determines (the heard-only contour is redrawn with the sound)
    same = pocket.fd.logits(sample_audio_for(world, seed=999).audio)
    shuffled = logits[np.roll(np.arange(len(world)), 5)]
    groups = {a: g for a, g in pocket.fd.logit_groups.items() if a in ATTRIBUTES}
    seen = max(g.stop for g in groups.values())        # their columns come first
    assert ev.kl_divergence(same[:, :seen], logits[:, :seen], groups=groups) < 0.2 \
        < ev.kl_divergence(shuffled[:, :seen], logits[:, :seen], groups=groups)
    assert ev.inception_score(logits, splits=2, groups=pocket.fd.logit_groups).mean > 5
    assert pocket.fd.space.checkpoint.startswith("pocket-build:")


def test_pocket_fad_view_and_clip_score(pocket, world):
    fad = pocket.fad.fd_features(world.audio)
    assert fad.shape == (len(world), 128) and pocket.fad.space != pocket.fd.space
    noise = pocket.fad.fd_features(np.stack([_noise(1.0, s) for s in range(len(world))]))
    again = pocket.fad.fd_features(sample_audio_for(world, seed=999).audio)
    assert ev.fad(fad, again) < ev.fad(fad, noise)

    audio = pocket.cs.embed_audio(world.audio)
    images = pocket.cs.embed_images(world.images)
    assert audio.shape == images.shape == (len(world), pocket.cs.space.dim)
    matched = ev.clip_score(audio, images)
    assert matched > ev.clip_score(audio, np.roll(images, 5, axis=0)) + 20
    with pytest.raises(MediaError, match="16000"):
        pocket.fd.features([_noise(0.5)])


# ----------------------------------------------------------------------------- bad input

def test_bad_input_is_refused_by_name(paper):
    with pytest.raises(MediaError, match=r"clip #1 has 1600 samples.*at least 4960"):
        paper.fd.features([_noise(1.0), _noise(0.1)])
    with pytest.raises(MediaError, match="NaN"):
        paper.fd.features([np.full(8000, np.nan, np.float32)])
    with pytest.raises(MediaError, match="mono"):
        paper.fad.features([np.zeros((2, 16000), np.float32)])
    with pytest.raises(MediaError, match="shape"):
        paper.fad.features(np.zeros((1, 2, 16000), np.float32))
    with pytest.raises(ConfigError, match="no classifier"):
        paper.fad.logits([_noise(1.0)])
    with pytest.raises(ConfigError, match="preset"):
        load_extractors("tiny")
    with pytest.raises(ConfigError, match="random_init"):
        load_extractors("pocket", random_init=True)
