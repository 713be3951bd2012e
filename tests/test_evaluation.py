"""Metrics against references and hand-computed values."""

import numpy as np
import pytest
import scipy.linalg
import torch

from v2a_kit import EmbeddingError
from v2a_kit import evaluation as ev


def reference_fd(a, b):
    """pytorch-fid's formula (scipy sqrtm of Σa Σb)."""
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_frechet_distance_matches_reference_and_survives_rank_deficiency():
    r = np.random.default_rng(0)
    a = r.normal(size=(800, 16))
    b = r.normal(size=(600, 16)) @ r.normal(size=(16, 16)) * 0.3 + 0.5
    assert ev.frechet_distance(a, b) == pytest.approx(reference_fd(a, b), abs=1e-6)
    assert ev.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    # 1-d, hand-computed: N(0, 1) vs N(3, 4): 9 + 1 + 4 - 2*2 = 10
    x = np.array([-1.0, 1.0] * 50)[:, None]
    y = 3 + 2 * x
    s = np.var(x, ddof=1)
    assert ev.frechet_distance(x, y) == pytest.approx(9 + s + 4 * s - 2 * 2 * s)
    # fewer samples than dimensions: singular covariances, still finite and non-negative
    fd = ev.frechet_distance(r.normal(size=(5, 64)), r.normal(size=(7, 64)))
    assert np.isfinite(fd) and fd >= 0
    with pytest.raises(EmbeddingError, match="dimensions differ"):
        ev.frechet_distance(a, b[:, :8])
    with pytest.raises(EmbeddingError, match="NaN"):
        ev.frechet_distance(np.full((3, 2), np.nan), a[:, :2])


def test_clip_score_and_diversity_by_hand():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    assert ev.clip_score(a, b) == pytest.approx(100 * (2 ** -0.5 + 1) / 2)
    f = np.array([[0, 0], [3, 4], [1, 1], [1, 1]], dtype=float)  # groups of 2: distances 5, 0
    assert ev.pairwise_diversity(f, 2) == pytest.approx(2.5)
    with pytest.raises(EmbeddingError, match="groups"):
        ev.pairwise_diversity(f[:3], 2)


def test_space_comparisons():
    r = np.random.default_rng(1)
    x = r.normal(size=(200, 12))
    q, _ = np.linalg.qr(r.normal(size=(12, 12)))
    assert ev.linear_cka(x, 3 * x @ q) == pytest.approx(1.0)          # rotation + scale
    assert ev.linear_cka(x, r.normal(size=(200, 7))) < 0.2             # unrelated, other d
    xt = torch.tensor(x, dtype=torch.float32)
    assert ev.knn_overlap(xt, xt @ torch.tensor(q, dtype=torch.float32), k=5) == 1.0
    assert ev.knn_overlap(xt, torch.randn(200, 12), k=5) < 0.2
    e = torch.eye(3)
    assert ev.centroid_gap(e, e) == 0.0
    assert ev.centroid_gap(e[:1], e[1:2]) == pytest.approx(2 ** 0.5)
    assert ev.paired_cosine(e, e).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(EmbeddingError, match="same items"):
        ev.linear_cka(x, x[:10])
