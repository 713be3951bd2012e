"""The pocket evaluators (v2a_kit.pocket.models.evaluators): the tagger and the audio → image
encoder.

Training here is FAST (a few dozen steps on 256 clips, a cheap Griffin-Lim for the vocoded
copies): it checks that learning happens and reaches held-out data of a judged seed, not the
full run's quality, which the module docstring reports.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from v2a_kit.errors import ConfigError, EmbeddingError, MediaError, WeightsNotFoundError
from v2a_kit.pocket.models.audio import GriffinLim, log_mel, nearest_upsample, power_pool
from v2a_kit.pocket.models.evaluators import (
    EVALUATOR_SEED,
    AudioToImageConfig,
    PocketAudioToImage,
    PocketTagger,
    TaggerConfig,
    load_evaluator,
    save_evaluator,
    train_audio_to_image,
    train_tagger,
    vocode_like_generator,
)
from v2a_kit.pocket.world import AUDIBLE as ATTRIBUTES  # the tagger hears all five
from v2a_kit.pocket.world import sample_world

N_TRAIN, STEPS, JUDGED_SEED = 256, 80, 1


class SpyVocoder(GriffinLim):
    """A cheap Griffin-Lim that records the log-mels it is asked to vocode."""

    def __init__(self):
        super().__init__(n_iter=2, nnls_iter=5)
        self.inputs = []

    def forward(self, log_mel):
        self.inputs.append(log_mel.clone())
        return super().forward(log_mel)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: tiny convolutions gain nothing from two, and lose much on busy cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tagger_run():
    spy = SpyVocoder()
    model, history = train_tagger(seed=EVALUATOR_SEED, steps=STEPS, batch_size=32,
                                  num_clips=N_TRAIN, vocoder=spy, progress=False)
    return model, history, spy


@pytest.fixture(scope="module")
def held():
    return sample_world(256, JUDGED_SEED)


def _targets(labels: dict, d: int = 32) -> torch.Tensor:
    """Stand-in pocket-CLIP image embeddings: a fixed random projection of the one-hot labels."""
    onehot = torch.cat([F.one_hot(torch.as_tensor(labels[a]), len(v)).float()
                        for a, v in ATTRIBUTES.items()], 1)
    w = torch.randn(onehot.shape[1], d, generator=torch.Generator().manual_seed(0))
    return F.normalize(onehot @ w, dim=-1)


@pytest.fixture(scope="module")
def a2i_run():
    train = sample_world(N_TRAIN, EVALUATOR_SEED + 1)
    return train_audio_to_image(_targets(train.labels), train.audio, seed=EVALUATOR_SEED,
                                steps=STEPS, batch_size=32, vocoder=SpyVocoder(), progress=False)


def test_shapes_and_size():
    audio = sample_world(3, JUDGED_SEED).audio
    tagger = PocketTagger(TaggerConfig(feature_dim=96)).eval()
    out = tagger(torch.from_numpy(audio))
    assert out.features.shape == (3, 96) and (out.features >= 0).all()
    assert {a: v.shape for a, v in out.logits.items()} == {a: (3, len(v))
                                                          for a, v in ATTRIBUTES.items()}
    assert tagger.features(audio).shape == (3, 96)
    probs = tagger.class_probs(audio)
    for a, p in probs.items():
        assert p.shape == (3, len(ATTRIBUTES[a]))
        torch.testing.assert_close(p.sum(-1), torch.ones(3))
    pred = tagger.predict(audio)
    assert all(p.dtype == np.int64 and p.shape == (3,) for p in pred.values())
    assert 100_000 <= sum(p.numel() for p in PocketTagger().parameters()) <= 300_000

    a2i = PocketAudioToImage(AudioToImageConfig(embed_dim=24)).eval()
    e = a2i(torch.from_numpy(audio))
    assert e.shape == (3, 24)
    torch.testing.assert_close(e.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(a2i.embed(audio), e)


def test_log_mel_is_computed_inside():
    audio = torch.from_numpy(sample_world(4, JUDGED_SEED).audio)
    tagger = PocketTagger().eval()
    with torch.no_grad():
        torch.testing.assert_close(tagger(audio).features,
                                   tagger.forward_mel(log_mel(audio)).features)
    with pytest.raises(MediaError, match="audio has shape"):
        tagger(log_mel(audio))  # a log-mel is not a waveform


def test_fast_training_beats_chance_on_another_seed(tagger_run, held):
    model, history, _ = tagger_run
    assert not model.training and np.mean(history["loss"][-5:]) < history["loss"][0]
    pred = model.predict(held.audio)
    acc = {a: float((pred[a] == held.labels[a]).mean()) for a in ATTRIBUTES}
    assert acc["count"] > 1 / 3 + 0.15, acc
    assert acc["size"] > 1 / 2 + 0.2, acc


def test_vocoded_copies_are_in_the_training_set(tagger_run):
    _, history, spy = tagger_run
    assert history["num_real"] == history["num_vocoded"] == N_TRAIN
    seen = torch.cat(spy.inputs)
    assert seen.shape == (N_TRAIN, 64, 100)
    mel = log_mel(sample_world(N_TRAIN, EVALUATOR_SEED).audio)
    torch.testing.assert_close(seen, nearest_upsample(power_pool(mel)))


def test_vocode_like_generator_is_pool_upsample_vocode():
    mel = log_mel(sample_world(2, JUDGED_SEED).audio)
    vocoder = GriffinLim(n_iter=2, nnls_iter=5)
    torch.testing.assert_close(vocode_like_generator(mel, vocoder),
                               log_mel(vocoder(nearest_upsample(power_pool(mel)))))


def test_evaluators_refuse_judged_seeds():
    with pytest.raises(ConfigError, match="seed=0"):
        train_tagger(seed=0, steps=1, num_clips=2, progress=False)


def test_audio_to_image_learns_the_target_space(a2i_run, held):
    model, history = a2i_run
    target = _targets(held.labels)
    cos = model.embed(held.audio) @ target.T                          # (n, n)
    same = torch.stack([torch.as_tensor(held.labels[a]) for a in ATTRIBUTES], 1)
    other = (same[:, None] != same[None]).any(-1)                     # different combination
    right, wrong = cos.diagonal().mean(), cos[other].mean()
    assert right > wrong + 0.2, (right, wrong)
    assert history["num_vocoded"] == N_TRAIN


@pytest.mark.parametrize("which", ["tagger", "a2i"])
def test_save_load_round_trip_is_exact(which, tagger_run, a2i_run, held, tmp_path):
    model = tagger_run[0] if which == "tagger" else a2i_run[0]
    loaded = load_evaluator(save_evaluator(model, tmp_path / which))
    assert type(loaded) is type(model) and loaded.config == model.config
    audio = held.audio[:32]
    if which == "tagger":
        a, b = model._infer(audio, lambda o: o)[0], loaded._infer(audio, lambda o: o)[0]
        assert torch.equal(a.features, b.features)
        assert all(torch.equal(a.logits[k], b.logits[k]) for k in ATTRIBUTES)
    else:
        assert torch.equal(model.embed(audio), loaded.embed(audio))


def test_load_refuses_broken_or_foreign_folders(tagger_run, a2i_run, tmp_path):
    tag, a2i = save_evaluator(tagger_run[0], tmp_path / "t"), save_evaluator(a2i_run[0],
                                                                             tmp_path / "a")
    with pytest.raises(ConfigError, match="config.json holds a PocketTagger"):
        load_evaluator(tag, kind="PocketAudioToImage")
    (a2i / "config.json").write_bytes((tag / "config.json").read_bytes())  # the other kind
    with pytest.raises(ConfigError, match="model.safetensors does not match"):
        load_evaluator(a2i)
    data = (tag / "model.safetensors").read_bytes()
    (tag / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError, match="model.safetensors"):
        load_evaluator(tag)
    (tag / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="config.json"):
        load_evaluator(tag)
    with pytest.raises(WeightsNotFoundError, match="config.json"):
        load_evaluator(tmp_path / "nowhere")


@pytest.mark.parametrize("audio", [np.zeros(16000, np.float32), np.zeros((2, 8000), np.float32),
                                   np.zeros((2, 16000), np.int16),
                                   np.full((2, 16000), np.nan, np.float32)],
                         ids=["1d", "short", "int", "nan"])
def test_bad_audio_is_refused_by_name(audio):
    with pytest.raises(MediaError, match="^audio"):
        PocketTagger().predict(audio)
    with pytest.raises(MediaError, match="^audio"):
        train_audio_to_image(torch.eye(2), audio, steps=1, progress=False)


def test_bad_targets_are_refused_by_name():
    audio = np.zeros((2, 16000), np.float32)
    with pytest.raises(EmbeddingError, match="clip_image_embeds"):
        train_audio_to_image(2 * torch.eye(2), audio, steps=1, progress=False)
    with pytest.raises(EmbeddingError, match="clip_image_embeds has 3 rows"):
        train_audio_to_image(torch.eye(3), audio, steps=1, progress=False)
