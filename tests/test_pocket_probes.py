"""The embedding ceiling's pieces: the loudness the world sets and the level a waveform carries
(v2a_kit.pocket.world.loudness_db, v2a_kit.pocket.world.synth.level_db), the probes
(v2a_kit.pocket.models.probes), the per-input spread (evaluation.cosine_spreads) and sibling
groups."""

import numpy as np
import pytest
import torch

from v2a_kit.errors import ConfigError
from v2a_kit.evaluation import cosine_spread, cosine_spreads
from v2a_kit.pocket.models.contrastive import sibling_groups
from v2a_kit.pocket.models.probes import fit_probes, read_probes
from v2a_kit.pocket.world import ATTRIBUTES, AUDIBLE, loudness_db, sample_world
from v2a_kit.pocket.world.synth import level_db


def test_level_db_reads_a_known_level_wherever_the_note_falls():
    sr = 16000
    t = np.arange(sr // 4) / sr
    tone = 0.1 * np.sin(2 * np.pi * 500 * t)   # RMS 0.1 / √2: −23.0 dB; whole periods per 20 ms
    for start in (0, 37, 5000, 11993):                 # on and off the 20-ms grid
        clip = np.zeros(sr, np.float32)
        clip[start:start + len(tone)] = tone
        assert level_db(clip)[0] == pytest.approx(20 * np.log10(0.1 / np.sqrt(2)), abs=0.05)
    # twice the amplitude is +6 dB; silence is far below anything audible
    assert level_db(2 * clip)[0] - level_db(clip)[0] == pytest.approx(6.02, abs=0.01)
    assert level_db(np.zeros((1, sr)))[0] < -200
    with pytest.raises(ValueError, match="20-ms"):
        level_db(np.zeros((2, 100)))


def test_level_of_real_clips_is_the_loudness_the_world_gave_them():
    batch = sample_world(400, 31)
    diff = level_db(batch.audio) - loudness_db(batch)
    # the reading's bias per timbre (docstring): hums +0.6, buzzes +0.1, plucks +1.1, rattles +3
    bound = np.array([0.6, 0.1, 1.1, 3.0])[batch.labels["shape"]]
    assert (diff > -0.15).all() and (diff <= bound).all()
    # size sets it: small and large clips are 12 dB apart, give or take the radius factor
    small, large = (loudness_db(batch)[batch.labels["size"] == s] for s in (0, 1))
    assert large.mean() - small.mean() == pytest.approx(12.0, abs=0.5)
    assert small.max() < large.min()


def test_cosine_spreads_per_input_by_hand():
    e = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    spreads = cosine_spreads(e, 2)
    assert spreads == pytest.approx([0.0, 1.0])
    assert cosine_spread(e, 2) == pytest.approx(0.5)
    # three samples: pairs (0,1), (0,2), (1,2) distances 0, 1, 1
    e3 = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert cosine_spreads(e3, 3) == pytest.approx([2 / 3])


def _toy_embeddings(batch, informative=AUDIBLE, noise=0.05, seed=0):
    """One-hot blocks for the ``informative`` attributes and (with the size) the loudness, plus
    noise."""
    rng = np.random.default_rng(seed)
    parts = [np.eye(len(AUDIBLE[a]))[batch.labels[a]] for a in informative]
    if "size" in informative:
        parts.append((loudness_db(batch) / 10.0)[:, None])
    x = np.concatenate(parts, 1)
    return x + noise * rng.standard_normal(x.shape)


def test_probes_read_what_an_embedding_keeps_and_nothing_else():
    train, test = sample_world(600, 41), sample_world(300, 42)
    probes = fit_probes(_toy_embeddings(train), train)
    read = read_probes(probes, _toy_embeddings(test, seed=1), test)
    assert all(read[a] > 0.97 for a in AUDIBLE) and read["all"] > 0.9
    assert read["level"]["within_db"] > 0.9 and read["level"]["median_abs_db"] < 1.0
    # an embedding without the contour and the size: those fall to chance, the rest stay
    kept = ("shape", "colour", "count")
    blind = fit_probes(_toy_embeddings(train, kept), train)
    read = read_probes(blind, _toy_embeddings(test, kept, seed=1), test)
    assert read["contour"] < 0.5 and read["size"] < 0.7 and read["shape"] > 0.97
    assert read["level"]["within_db"] < 0.7            # 12 dB apart, unknown which


def test_probes_refuse_mismatched_or_bad_input():
    batch = sample_world(20, 43)
    with pytest.raises(ConfigError, match="19 rows but the batch holds 20"):
        fit_probes(np.zeros((19, 4)), batch)
    with pytest.raises(ConfigError, match="finite"):
        fit_probes(np.full((20, 4), np.nan), batch)
    with pytest.raises(ConfigError, match="unknown"):
        fit_probes(np.zeros((20, 4)), batch, attributes=("loudness",))


def test_sibling_groups_share_a_group_exactly_when_they_share_the_attributes():
    batch = sample_world(300, 44)
    keys = ("colour", "count", "size")
    g = sibling_groups(batch.labels, keys)
    same = g[:, None] == g[None, :]
    shared = np.all([batch.labels[a][:, None] == batch.labels[a][None, :] for a in keys], 0)
    assert (same == shared).all()
    assert len(np.unique(sibling_groups(batch.labels, tuple(ATTRIBUTES)))) <= 96
