"""Mappers: one interface, training, checkpoints, bad input (issue: the V2A-Mappers)."""

import dataclasses
import json

import pytest
import torch
import torch.nn.functional as F

from v2a_kit import (
    ConfigError,
    EmbeddingError,
    SpaceMismatchError,
    WeightsNotFoundError,
    load_mapper,
)
from v2a_kit.evaluation import recall_at_k
from v2a_kit.mappers import create_mapper, fit_ridge, list_mappers, save_mapper
from v2a_kit.spaces import Embeddings, Space
from v2a_kit.train import Pairs, TrainConfig, fit, make_pairs

CLIP = Space("clip", "test/clip", "a", 16)
CLAP = Space("clap", "test/clap", "b", 12)
OTHER_CLAP = Space("clap", "test/clap", "other-weights", 12)
SMALL = {"regression": dict(hidden_dim=32, num_blocks=1),
         "diffusion": dict(width=32, depth=2, heads=2, sample_steps=8),
         "ridge": {}}


def make_world(n, seed=0):
    """CLAP = a fixed nonlinear function of CLIP plus a hidden factor (many sounds per image)."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(16, 12, generator=torch.Generator().manual_seed(99))
    x = F.normalize(torch.randn(n, 16, generator=g), dim=-1)
    hidden = torch.randn(n, 12, generator=g) * 0.15
    y = F.normalize(torch.tanh(x @ a) + hidden, dim=-1)
    return Pairs(Embeddings(x, CLIP), Embeddings(y, CLAP))


@pytest.fixture(scope="module")
def data():
    return make_world(1200, seed=0), make_world(300, seed=1)


@pytest.mark.parametrize("kind", ["regression", "diffusion", "ridge"])
def test_one_interface(kind, data):
    torch.manual_seed(0)
    m = create_mapper(kind, CLIP, CLAP, **SMALL[kind])
    train, _ = data
    loss = m(train.clip.embeds[:8], train.clap.embeds[:8])
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)
    if kind == "ridge":  # solved in closed form; sampling before that is refused
        with pytest.raises(ConfigError, match="not fitted"):
            m.sample(train.clip.embeds[:2])
        fit_ridge(m, train.clip.embeds, train.clap.embeds)
    out = m.sample(train.clip.embeds[:5], num_samples=3, generator=torch.Generator().manual_seed(0))
    assert out.shape == (15, 12)
    assert torch.allclose(out.norm(dim=-1), torch.ones(15), atol=1e-5)
    mapped = m.map(Embeddings(train.clip.embeds[:4], CLIP, ["a", "b", "c", "d"]), num_samples=2)
    assert mapped.space == CLAP and mapped.sources == ["a", "a", "b", "b", "c", "c", "d", "d"]
    assert list_mappers() == ["diffusion", "regression", "ridge"]


def test_diffusion_sampling_is_seeded_and_varied(data):
    torch.manual_seed(0)
    m = create_mapper("diffusion", CLIP, CLAP, **SMALL["diffusion"]).eval()
    x = data[0].clip.embeds[:4]
    g = lambda s: torch.Generator().manual_seed(s)  # noqa: E731
    a, b = m.sample(x, generator=g(0)), m.sample(x, generator=g(0))
    assert torch.equal(a, b)                                  # same seed, same samples
    assert not torch.allclose(a, m.sample(x, generator=g(1)))  # another seed, other samples
    many = m.sample(x[:1], num_samples=4, generator=g(0))
    assert (many[0] - many[1]).abs().max() > 1e-4             # several sounds for one image
    for sampler in ("ddim", "ddpm"):
        for w in (1.0, 3.0):
            out = m.sample(x, sampler=sampler, guidance_scale=w, num_inference_steps=5,
                           generator=g(0))
            assert out.shape == (4, 12) and torch.isfinite(out).all()
    assert not torch.allclose(m.sample(x, guidance_scale=1.0, generator=g(0)),
                              m.sample(x, guidance_scale=4.0, generator=g(0)))
    # the condition reaches the sampler: other images, other samples from the same noise
    assert not torch.allclose(m.sample(x[:1], generator=g(0)), m.sample(x[1:2], generator=g(0)))
    # guidance_scale=None is the config's default (what calibration sets)
    m.config = dataclasses.replace(m.config, guidance_scale=3.0)
    assert torch.equal(m.sample(x, generator=g(0)), m.sample(x, guidance_scale=3.0,
                                                             generator=g(0)))
    with pytest.raises(ConfigError, match="guidance_scale=0.5"):
        dataclasses.replace(m.config, guidance_scale=0.5)


def test_regression_learns_and_keeps_the_best_epoch(data, tmp_path):
    train, val = data
    torch.manual_seed(0)
    m = create_mapper("regression", CLIP, CLAP, **SMALL["regression"])
    before = recall_at_k(m.sample(val.clip.embeds), val.clap.embeds)[1]
    hist = fit(m, train, val, TrainConfig(epochs=15, batch_size=64, lr=3e-3, progress=False),
               checkpoint=tmp_path / "best")
    after = recall_at_k(m.sample(val.clip.embeds), val.clap.embeds)
    assert after[1] > max(0.3, 5 * before), (before, after)  # chance is 1/300
    assert hist.column("val_loss").min() == hist.epochs[hist.best_epoch]["val_loss"]
    assert hist.column("train_loss")[-1] < hist.column("train_loss")[0]
    # the checkpoint holds the best epoch, and fit restored it into the mapper
    best = load_mapper(tmp_path / "best", clip_space=CLIP, clap_space=CLAP)
    assert best.extra["epoch"] == hist.best_epoch
    assert torch.equal(best.sample(val.clip.embeds), m.sample(val.clip.embeds))


def test_diffusion_fit_lowers_its_loss_and_is_reproducible(data):
    train, val = data
    cfg = TrainConfig(epochs=4, batch_size=128, lr=2e-3, progress=False,
                      val_sample_kwargs={"num_inference_steps": 4})

    def run():
        torch.manual_seed(0)
        m = create_mapper("diffusion", CLIP, CLAP, **SMALL["diffusion"])
        return m, fit(m, train, val, cfg)
    (m1, h1), (m2, h2) = run(), run()
    assert h1.column("train_loss")[-1] < h1.column("train_loss")[0]
    assert h1.column("train_loss").tolist() == h2.column("train_loss").tolist()
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(),
                                                 m2.state_dict().values()))


def test_ridge_recovers_a_linear_map():
    g = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(500, 16, generator=g), dim=-1)
    w, b = torch.randn(16, 12, generator=g), torch.randn(12, generator=g)
    m = fit_ridge(create_mapper("ridge", CLIP, CLAP, alpha=1e-10), x, x @ w + b)
    assert torch.allclose(m.linear.weight.T, w, atol=1e-3)
    assert torch.allclose(m.linear.bias, b, atol=1e-3)
    assert torch.allclose(m.sample(x), F.normalize(x @ w + b, dim=-1), atol=1e-4)


def test_checkpoint_round_trip_and_refusals(tmp_path, data):
    torch.manual_seed(0)
    m = create_mapper("diffusion", CLIP, CLAP, **SMALL["diffusion"]).eval()
    folder = save_mapper(m, tmp_path / "ckpt", extra={"note": "x"})
    back = load_mapper(folder)
    x, g = data[1].clip.embeds[:3], lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert torch.equal(back.sample(x, generator=g()), m.sample(x, generator=g()))
    assert back.extra == {"note": "x"} and back.config == m.config
    with pytest.raises(SpaceMismatchError, match="other-weights"):
        load_mapper(folder, clap_space=OTHER_CLAP)
    with pytest.raises(ConfigError, match="holds a diffusion mapper; expected regression"):
        load_mapper(folder, kind="regression")
    # a truncated weights file is caught by its recorded digest
    w = folder / "model.safetensors"
    w.write_bytes(w.read_bytes()[:-100])
    with pytest.raises(ConfigError, match="sha256"):
        load_mapper(folder)
    with pytest.raises(WeightsNotFoundError, match="config.json"):
        load_mapper(tmp_path / "nothing")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["clip_space"] == CLIP.to_dict() and cfg["clap_space"] == CLAP.to_dict()


def test_interrupted_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    m = create_mapper("regression", CLIP, CLAP, **SMALL["regression"])
    folder = save_mapper(m, tmp_path / "ckpt")
    before = (folder / "model.safetensors").read_bytes()
    torch.nn.init.ones_(m.net[0].weight)
    import v2a_kit.atomic as atomic

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_mapper(m, folder)
    monkeypatch.undo()
    assert (folder / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no temporary folder left


def test_bad_pairs_and_inputs(data):
    train, _ = data
    m = create_mapper("regression", CLIP, CLAP, **SMALL["regression"])
    with pytest.raises(EmbeddingError, match="1200 CLIP embeddings but 5"):
        Pairs(train.clip, Embeddings(train.clap.embeds[:5], CLAP))
    with pytest.raises(EmbeddingError, match="dimension 12, expected 16"):
        m.sample(torch.randn(3, 12))
    bad = train.clip.embeds[:4].clone()
    bad[2, 0] = float("nan")
    with pytest.raises(EmbeddingError, match="NaN"):
        m(bad, train.clap.embeds[:4])
    with pytest.raises(EmbeddingError, match="4 rows but clap_embed has 3"):
        m(train.clip.embeds[:4], train.clap.embeds[:3])
    with pytest.raises(EmbeddingError, match="empty"):
        m.sample(torch.zeros(0, 16))
    other = Pairs(train.clip, Embeddings(train.clap.embeds, OTHER_CLAP))
    with pytest.raises(SpaceMismatchError, match="other-weights"):
        fit(m, other, config=TrainConfig(epochs=1, progress=False))
    with pytest.raises(ConfigError, match="unknown mapper kind 'mlp'"):
        create_mapper("mlp", CLIP, CLAP)
    with pytest.raises(ConfigError, match="loss"):
        create_mapper("regression", CLIP, CLAP, loss="l1")
    with pytest.raises(ConfigError, match="batch_size=5000"):
        fit(m, train, config=TrainConfig(batch_size=5000, progress=False))


def test_make_pairs_by_stem():
    x = Embeddings(F.normalize(torch.randn(3, 16), dim=-1), CLIP, ["f/b.png", "f/a.png", "f/c.png"])
    y = Embeddings(F.normalize(torch.randn(3, 12), dim=-1), CLAP, ["s/a.wav", "s/c.wav", "s/b.wav"])
    p = make_pairs(x, y, by="stem")
    assert p.clap.sources == ["s/b.wav", "s/a.wav", "s/c.wav"]
    assert torch.equal(p.clap.embeds[0], y.embeds[2])
    y2 = Embeddings(y.embeds, CLAP, ["s/a.wav", "s/c.wav", "s/z.wav"])
    with pytest.raises(EmbeddingError, match="only one set"):
        make_pairs(x, y2, by="stem")


def test_recall_at_k_by_hand():
    t = torch.eye(4)
    q = torch.tensor([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, 0.9, 0.1, 0], [0, 0, 0.5, 0.6]])
    r = recall_at_k(q, t, ks=(1, 2, 4))
    # q0 -> t0 rank 0; q1 (own t1) is orthogonal to t1, nearest t2: rank ≥ 1 (ties with t0,t3);
    # q2 -> t1 nearest, own t2 second: rank 1; q3 -> t3 (0.6) first: rank 0
    assert r[1] == 0.5 and r[2] == 0.75 and r[4] == 1.0
    const = recall_at_k(torch.ones(4, 4), t, ks=(1,))  # a constant prediction is chance, not 1
    assert const[1] == 0.0
