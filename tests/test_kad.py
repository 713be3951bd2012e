"""KAD, FAD∞, the batched FD / IS the bootstrap uses, and the bootstrap itself, against
independent answers: kadtk's own code (kept verbatim in tests/_kadtk_reference.py), the
closed-form MMD between two Gaussians, the known FD of shifted Gaussians, and loops over the
unbatched functions. Each check also meets a wrong answer it must reject."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from v2a_kit.errors import ConfigError, EmbeddingError
from v2a_kit.evaluation import bootstrap, paired
from v2a_kit.evaluation.metrics import (
    fad_infinity,
    frechet_distance,
    frechet_distance_resampled,
    inception_score,
    inception_score_resampled,
    kernel_audio_distance,
    median_pairwise_distance,
)
from v2a_kit.evaluation.uncertainty import bootstrap_indices


def _kadtk():
    path = Path(__file__).parent / "_kadtk_reference.py"
    spec = importlib.util.spec_from_file_location("kadtk_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kadtk():
    return _kadtk()


def _gauss(rng, n, d, mean=0.0, scale=1.0):
    return rng.normal(mean, scale, size=(n, d))


def test_kad_is_kadtks_on_the_same_embeddings(kadtk, rng):
    gen, ref = _gauss(rng, 301, 32), _gauss(rng, 200, 32, 0.3, 1.1)
    # kadtk's KernelAudioDistance.score(baseline, eval) calls calc(x=baseline, y=eval) and takes
    # sigma from y, the evaluated set: the kit's bandwidth="generated"
    theirs = kadtk.calc_kernel_audio_distance(torch.tensor(ref), torch.tensor(gen), (None, None),
                                              "cpu", precision=torch.float64).item()
    ours = kernel_audio_distance(gen, ref, bandwidth="generated")
    assert ours == pytest.approx(theirs, rel=1e-6)
    # with one sigma given, every bandwidth rule agrees with kadtk's
    sigma = 5.0
    theirs = kadtk.calc_kernel_audio_distance(torch.tensor(ref), torch.tensor(gen), (None, None),
                                              "cpu", bandwidth=sigma,
                                              precision=torch.float64).item()
    assert kernel_audio_distance(gen, ref, bandwidth=sigma) == pytest.approx(theirs, rel=1e-9)
    assert median_pairwise_distance(gen) == pytest.approx(kadtk.median_pairwise_distance(gen),
                                                          rel=1e-6)
    # the kit's default (sigma from the references) is another kernel: another number
    assert abs(kernel_audio_distance(gen, ref) - ours) > 1e-3
    # a V-statistic (the diagonal kept) is a wrong answer the check would catch
    g, r = torch.tensor(gen), torch.tensor(ref)
    s = kadtk.median_pairwise_distance(gen)
    gamma = 1 / (2 * s ** 2 + 1e-8)
    k = lambda a, b: torch.exp(-gamma * torch.cdist(a, b) ** 2)  # noqa: E731
    v_stat = 100 * float(k(g, g).mean() + k(r, r).mean() - 2 * k(g, r).mean())
    assert abs(v_stat - ours) > 1e-3 * abs(ours)


def test_kad_converges_to_the_closed_form_mmd_of_two_gaussians(rng):
    """Population MMD² between N(μ1, s1² I) and N(μ2, s2² I) in d dimensions under
    exp(−‖x−y‖² / 2σ²): E k(X,X') = (σ²/(σ²+2s²))^{d/2}, and
    E k(X,Y) = (σ²/(σ²+s1²+s2²))^{d/2} exp(−‖μ1−μ2‖² / 2(σ²+s1²+s2²))."""
    d, sigma, s1, s2 = 4, 2.0, 1.0, 1.3
    shift = np.r_[0.8, np.zeros(d - 1)]
    exx = (sigma ** 2 / (sigma ** 2 + 2 * s1 ** 2)) ** (d / 2)
    eyy = (sigma ** 2 / (sigma ** 2 + 2 * s2 ** 2)) ** (d / 2)
    var = sigma ** 2 + s1 ** 2 + s2 ** 2
    exy = (sigma ** 2 / var) ** (d / 2) * np.exp(-(shift ** 2).sum() / (2 * var))
    expected = 100 * (exx + eyy - 2 * exy)
    estimates = [kernel_audio_distance(_gauss(rng, 1500, d, 0, s1), _gauss(rng, 1500, d, shift, s2),
                                       bandwidth=sigma) for _ in range(3)]
    assert np.mean(estimates) == pytest.approx(expected, rel=0.05)
    # unbiased: two samples of one distribution average ≈ 0 even at small n (FD would not)
    same = [kernel_audio_distance(_gauss(rng, 20, d), _gauss(rng, 20, d), bandwidth=sigma)
            for _ in range(300)]
    fds = [frechet_distance(_gauss(rng, 20, d), _gauss(rng, 20, d)) for _ in range(50)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))
    assert np.mean(fds) > 10 * np.std(fds) / np.sqrt(len(fds))   # FD's bias at n = 20


def test_kad_weights_are_the_resampled_sets_without_copies_paired(rng):
    gen, ref = _gauss(rng, 40, 6), _gauss(rng, 30, 6, 0.2)
    draws = bootstrap_indices((40, 30), 12, seed=3)
    wg = np.stack([np.bincount(a, minlength=40) for a, _ in draws])
    wr = np.stack([np.bincount(b, minlength=30) for _, b in draws])
    batched = kernel_audio_distance(gen, ref, bandwidth=2.0, weights=(wg, wr))

    def loop(a, b):  # the U-statistics over the redrawn rows, pairs of copies of one row left out
        g, r = gen[a], ref[b]
        k = lambda x, y: np.exp(-((x[:, None] - y[None]) ** 2).sum(-1) / (2 * 4 + 1e-8))  # noqa
        same_g, same_r = a[:, None] != a[None], b[:, None] != b[None]
        return 100 * ((k(g, g) * same_g).sum() / same_g.sum() + (k(r, r) * same_r).sum()
                      / same_r.sum() - 2 * k(g, r).mean())
    np.testing.assert_allclose(batched, [loop(a, b) for a, b in draws], rtol=1e-9)


def test_fad_infinity_extrapolates_fd_to_its_unbiased_value(rng):
    d = 8
    reference = _gauss(rng, 20000, d)
    shift = np.r_[0.5, np.zeros(d - 1)]
    generated = _gauss(rng, 3000, d, shift)
    result = fad_infinity(generated, reference, seed=0)
    # equal covariances: the unbiased FD is the squared distance of the means (of these samples)
    expected = ((generated.mean(0) - reference.mean(0)) ** 2).sum()
    assert result.score == pytest.approx(expected, abs=3 * result.se)
    # FD at a finite n is biased upwards, the more so the smaller n: wrong answers here
    for n in (50, 500):
        assert frechet_distance(generated[:n], reference) - expected > 3 * result.se
    assert result.slope > 0 and 0 <= result.r2 <= 1 and result.se > 0
    assert [n for n, _ in result.points][0] == 500 and len(result.points) == 25  # fadtk's sizes
    assert fad_infinity(generated, reference, seed=0) == result                   # seeded
    with pytest.raises(EmbeddingError, match="at least 4 rows"):
        fad_infinity(generated[:3], reference)


def test_batched_fd_and_is_equal_their_loops(rng):
    for m, n, d in ((30, 20, 50), (60, 40, 5)):   # fewer rows than dimensions, and more
        a, b = _gauss(rng, m, d), _gauss(rng, n, d, 0.3)
        draws = bootstrap_indices((m, n), 15, seed=1)
        got = frechet_distance_resampled(a, b, np.stack([x for x, _ in draws]),
                                         np.stack([y for _, y in draws]))
        want = [frechet_distance(a[x], b[y]) for x, y in draws]
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-8)
        assert not np.allclose(got, frechet_distance(a, b))    # the redraws differ from the whole
    logits = rng.normal(size=(40, 7)) * 3
    groups = {"a": slice(0, 3), "b": slice(3, 7)}
    draws = bootstrap_indices((40,), 15, seed=2)
    got = inception_score_resampled(logits, np.stack([x[0] for x in draws]), splits=4,
                                    groups=groups)
    want = [inception_score(logits[x[0]], splits=4, groups=groups).mean for x in draws]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_fd_in_the_rows_space_equals_the_eigendecomposition_and_scipy(rng):
    """With fewer rows than dimensions FD takes its trace in the rows' space: the same number
    as the d × d eigendecomposition and as scipy's sqrtm (well within their rounding)."""
    import scipy.linalg

    from v2a_kit.evaluation.metrics import _frechet_from_stats, gaussian_stats
    a, b = _gauss(rng, 20, 64), _gauss(rng, 30, 64, 0.2, 1.3)
    eig = _frechet_from_stats(*gaussian_stats(a), *gaussian_stats(b))
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = (((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca) + np.trace(cb)
           - 2 * np.trace(scipy.linalg.sqrtm(ca @ cb).real))
    assert frechet_distance(a, b) == pytest.approx(eig, rel=1e-7)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-4)
    # a wrong answer: dropping the cross term's normalisation
    wrong = (((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca) + np.trace(cb)
             - 2 * np.linalg.svd((a - a.mean(0)) @ (b - b.mean(0)).T, compute_uv=False).sum())
    assert abs(wrong - eig) > 1


def test_the_sampler_benchmarks_noise_is_the_one_bootstrap(rng):
    """pocket.schedulers draws its bootstrap SE through evaluation.bootstrap: the same redraws
    (np.random.default_rng(0).integers(0, n, n), one per resample) as it drew by hand before."""
    feats, real, cs = _gauss(rng, 40, 6), _gauss(rng, 40, 6), rng.normal(size=40)
    hand = np.random.default_rng(0)
    redraws = [hand.integers(0, 40, 40) for _ in range(30)]
    by_hand = np.std([frechet_distance(feats[i], real[i]) for i in redraws])
    one = bootstrap(lambda i: frechet_distance(feats[i], real[i]), (40,), resamples=30, seed=0)
    assert one.se == pytest.approx(by_hand, rel=1e-12)
    assert bootstrap(lambda i: float(cs[i].mean()), (40,), resamples=30, seed=0).se == \
        pytest.approx(np.std([cs[i].mean() for i in redraws]), rel=1e-12)


def test_bootstrap_interval_of_a_mean_matches_the_normal_theory(rng):
    x = rng.normal(3.0, 2.0, size=400)
    iv = bootstrap(lambda i: float(x[i].mean()), (400,), resamples=2000, seed=0)
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert iv.estimate == pytest.approx(x.mean())
    assert iv.se == pytest.approx(se, rel=0.1)
    assert iv.low == pytest.approx(x.mean() - 1.96 * se, abs=0.3 * se)
    assert iv.high == pytest.approx(x.mean() + 1.96 * se, abs=0.3 * se)
    assert bootstrap(lambda i: float(x[i].mean()), (400,), seed=0) == \
        bootstrap(lambda i: float(x[i].mean()), (400,), seed=0)
    # a biased statistic's interval is centred on its estimate, not on the redraws
    a, b = _gauss(rng, 30, 20), _gauss(rng, 30, 20)
    fd = bootstrap(lambda i, j: frechet_distance(a[i], b[j]), (30, 30), resamples=200)
    assert fd.low <= fd.estimate <= fd.high


def test_paired_difference_cancels_what_the_inputs_share(rng):
    difficulty = rng.normal(0, 5, size=200)              # shared by both systems, per input
    a = difficulty + rng.normal(0, 0.3, size=200)
    b = difficulty + 0.2 + rng.normal(0, 0.3, size=200)
    d = paired(lambda i: float(a[i].mean()), lambda i: float(b[i].mean()), (200,), seed=0)
    assert d.estimate == pytest.approx(a.mean() - b.mean())
    assert d.excludes_zero and d.high < 0 and d.p_value < 0.01
    # unpaired intervals overlap: the two would look level
    ia = bootstrap(lambda i: float(a[i].mean()), (200,))
    ib = bootstrap(lambda i: float(b[i].mean()), (200,))
    assert ia.high > ib.low and ib.high > ia.low
    # a system against itself: exactly 0, never "different"
    same = paired(lambda i: float(a[i].mean()), lambda i: float(a[i].mean()), (200,))
    assert same.estimate == same.low == same.high == 0 and not same.excludes_zero


@pytest.mark.parametrize("kwargs, match", [
    (dict(sizes=(1,)), "≥ 2 rows"), (dict(sizes=(5,), resamples=3), "resamples"),
    (dict(sizes=(5,), level=1.5), "level"), (dict(sizes=(5,), seed=-1), "seed")])
def test_bootstrap_refuses_bad_settings(kwargs, match):
    sizes = kwargs.pop("sizes")
    with pytest.raises(ConfigError, match=match):
        bootstrap(lambda i: 0.0, sizes, **kwargs)


def test_kad_refuses_bad_input(rng):
    with pytest.raises(EmbeddingError, match="NaN"):
        kernel_audio_distance(np.full((4, 3), np.nan), _gauss(rng, 4, 3))
    with pytest.raises(EmbeddingError, match="dimensions differ"):
        kernel_audio_distance(_gauss(rng, 4, 3), _gauss(rng, 4, 5))
    with pytest.raises(EmbeddingError, match="n ≥ 2"):
        kernel_audio_distance(_gauss(rng, 1, 3), _gauss(rng, 4, 3))
    with pytest.raises(ValueError, match="bandwidth"):
        kernel_audio_distance(_gauss(rng, 4, 3), _gauss(rng, 4, 3), bandwidth=-1.0)
