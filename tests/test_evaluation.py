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
    # cosine spread: groups of 3 — one point thrice (0), and e1, e1, e2 (pairs 0, 1, 1 → 2/3)
    e = torch.tensor([[1.0, 0], [2.0, 0], [3.0, 0], [1.0, 0], [1.0, 0], [0, 5.0]])
    assert ev.cosine_spread(e[:3], 3) == pytest.approx(0.0)
    assert ev.cosine_spread(e[3:], 3) == pytest.approx(2 / 3)
    assert ev.cosine_spread(e, 3) == pytest.approx(1 / 3)
    with pytest.raises(EmbeddingError, match="groups"):
        ev.cosine_spread(e[:4], 3)


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


# --- KL and IS: the conventions of AudioLDM's evaluation toolbox (audioldm_eval) -------------
def reference_kl(gen, ref, act):
    """audioldm_eval's calculate_kl: kl_div(log(act(gen) + 1e-6), act(ref), 'sum') / n."""
    g, r = torch.tensor(gen, dtype=torch.float64), torch.tensor(ref, dtype=torch.float64)
    p_gen, p_ref = (g.softmax(1), r.softmax(1)) if act == "softmax" else (g.sigmoid(), r.sigmoid())
    return float(torch.nn.functional.kl_div((p_gen + 1e-6).log(), p_ref, reduction="sum")
                 / len(g))


def reference_is(logits, splits, seed=2020):
    """audioldm_eval's / SpecVQGAN's calculate_isc with samples_shuffle=True."""
    f = torch.tensor(logits, dtype=torch.float64)
    f = f[np.random.RandomState(seed).permutation(len(f))]
    p, log_p, n, scores = f.softmax(1), f.log_softmax(1), len(f), []
    for i in range(splits):
        chunk = slice(i * n // splits, (i + 1) * n // splits)
        pc, lc = p[chunk], log_p[chunk]
        q = pc.mean(0, keepdim=True)
        scores.append((pc * (lc - q.log())).sum(1).mean().exp().item())
    return float(np.mean(scores)), float(np.std(scores))


def test_kl_by_hand_and_against_the_toolbox_formula():
    # ref p = (.5, .5), gen q = (.9, .1): Σ p log(p / (q + ε)) = 0.5108
    ref, gen = np.zeros((1, 2)), np.array([[np.log(9.0), 0.0]])
    hand = 0.5 * np.log(0.5 / (0.9 + 1e-6)) + 0.5 * np.log(0.5 / (0.1 + 1e-6))
    assert ev.kl_divergence(gen, ref) == pytest.approx(hand, rel=1e-12)
    # direction: KL(ref ‖ gen), not KL(gen ‖ ref) = 0.3681
    other = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
    assert abs(ev.kl_divergence(gen, ref) - other) > 0.1
    assert ev.kl_divergence(ref, ref) == pytest.approx(0.0, abs=1e-5)
    # sigmoid: per class σ(ref) log(σ(ref) / (σ(gen) + ε)), summed, averaged over pairs
    s = 1 / (1 + np.exp(-np.array([2.0, -1.0])))
    hand_sig = (0.5 * np.log(0.5 / (s + 1e-6))).sum()
    assert ev.kl_divergence(np.array([[2.0, -1.0]]), np.zeros((1, 2)), kind="sigmoid") \
        == pytest.approx(hand_sig, rel=1e-12)
    r = np.random.default_rng(2)
    gen, ref = r.normal(size=(12, 527)) * 3, r.normal(size=(12, 527)) * 3
    for kind in ("softmax", "sigmoid"):
        assert ev.kl_divergence(gen, ref, kind=kind) == pytest.approx(
            reference_kl(gen, ref, kind), rel=1e-9)
    assert ev.kl_divergence(torch.tensor(gen), torch.tensor(ref)) == pytest.approx(
        reference_kl(gen, ref, "softmax"), rel=1e-9)


def test_kl_groups_sum_per_head_divergences():
    r = np.random.default_rng(3)
    gen, ref = r.normal(size=(6, 7)), r.normal(size=(6, 7))
    groups = {"a": slice(0, 4), "b": slice(4, 7)}
    split = ev.kl_divergence(gen[:, :4], ref[:, :4]) + ev.kl_divergence(gen[:, 4:], ref[:, 4:])
    assert ev.kl_divergence(gen, ref, groups=groups) == pytest.approx(split, rel=1e-12)
    with pytest.raises(EmbeddingError, match="partition"):
        ev.kl_divergence(gen, ref, groups=[slice(0, 4), slice(3, 7)])
    with pytest.raises(EmbeddingError, match="softmax"):
        ev.kl_divergence(gen, ref, kind="sigmoid", groups=groups)
    with pytest.raises(ValueError, match="kind"):
        ev.kl_divergence(gen, ref, kind="relu")
    with pytest.raises(EmbeddingError, match="pairs"):
        ev.kl_divergence(gen, ref[:5])
    with pytest.raises(EmbeddingError, match="NaN"):
        ev.kl_divergence(np.full((2, 3), np.nan), ref[:2, :3])


def test_inception_score_by_hand_and_against_the_toolbox_formula():
    confident = 60 * np.eye(4)                      # four clips, four classes, one each
    assert ev.inception_score(confident, splits=1) == pytest.approx((4.0, 0.0))
    assert ev.inception_score(np.tile(confident[:1], (5, 1)), splits=1).mean == \
        pytest.approx(1.0)
    # unshuffled chunks: {class 0, class 1} -> IS 2; {class 2, class 2} -> IS 1
    two = np.stack([confident[0], confident[1], confident[2], confident[2]])
    assert tuple(ev.inception_score(two, splits=2, shuffle=False)) == pytest.approx((1.5, 0.5))
    # a class no clip predicts (probability underflows to 0) adds nothing, not nan
    assert ev.inception_score(np.c_[confident, np.full(4, -1e4)], splits=1).mean == \
        pytest.approx(4.0)
    r = np.random.default_rng(4)
    logits = r.normal(size=(95, 527)) * 4
    got = ev.inception_score(logits)                 # splits=10, shuffled with seed 2020
    assert tuple(got) == pytest.approx(reference_is(logits, 10), rel=1e-9)
    # groups: independent heads multiply
    heads = np.c_[confident, 60 * np.eye(2)[[0, 1, 0, 1]]]
    assert ev.inception_score(heads, splits=1, groups=[slice(0, 4), slice(4, 6)]).mean == \
        pytest.approx(8.0)
    with pytest.raises(ValueError, match="splits"):
        ev.inception_score(confident, splits=5)


def test_fad_is_frechet_distance_and_matches_scipy_in_vggish_dimensions():
    r = np.random.default_rng(5)
    a = r.normal(size=(600, 128))
    b = r.normal(size=(500, 128)) * 0.8 + 0.1
    assert ev.fad(a, b) == ev.frechet_distance(a, b)
    assert ev.fad(a, b) == pytest.approx(reference_fd(a, b), abs=1e-6)
