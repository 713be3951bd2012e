"""Evaluation metrics: pure functions over arrays (features, logits, embeddings).

- :func:`frechet_distance` (FD / FAD on any audio features): the Fréchet distance between two
  Gaussians fitted to two feature sets (Heusel et al. 2017; AudioLDM's FD uses PANNs features,
  FAD VGGish features). The matrix square root is taken of the symmetric PSD matrix
  S1^½ S2 S1^½ by eigendecomposition, which is finite for rank-deficient covariances.
  :func:`fad` is the same function under the name the FAD literature uses.
  :func:`fad_infinity`: fadtk's FAD∞ (Gui et al. 2024), FD extrapolated to infinitely many clips
  by a line through FD at several sample sizes against 1/n (FD is biased by n).
- :func:`kernel_audio_distance` (KAD, :func:`kad`; Chung et al. 2025, arXiv 2502.15602): the
  unbiased squared MMD with a Gaussian kernel whose bandwidth is the median pairwise distance;
  distribution-free and unbiased in n, as ``kadtk`` computes it (×100).
- :func:`kl_divergence` and :func:`inception_score`: from a tagger's logits (PANNs CNN14 in the
  paper), in the conventions of AudioLDM's evaluation toolbox (``audioldm_eval``), whose
  inception score is SpecVQGAN's. ``groups=`` lets a multi-head tagger (the pocket tagger: one
  softmax per attribute) count each head as its own distribution.
- The features, logits and embeddings these take come from the extractors of
  :mod:`v2a_kit.evaluation.extractors` (``v2a_kit.registry.load_extractors(preset)``: PANNs,
  VGGish, Wav2CLIP + CLIP for ``paper``; the pocket evaluators for ``pocket``);
  :func:`v2a_kit.evaluation.score` runs them and assembles FD, FAD, KL, IS and CS.
- :func:`clip_score`: CS = 100 × cosine between an audio embedding in the image space and the
  image's embedding (Wav2CLIP + CLIP in the paper; the pocket audio→image evaluator here).
- :func:`recall_at_k`: retrieval of true CLAP embeddings from mapped ones.
- :func:`pairwise_diversity`: variability of several samples for one input.
- The gap between spaces: :func:`linear_cka` and :func:`knn_overlap` (two spaces, same items),
  :func:`centroid_gap` (Liang et al.'s modality gap) and :func:`paired_cosine` (one space).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import expit, log_softmax, xlogy

from ..errors import EmbeddingError
from ..spaces import validate_embeds

__all__ = ["label_accuracy", "check_kad_bandwidth", "recall_at_k", "frechet_distance",
           "frechet_distance_resampled", "fad",
           "gaussian_stats", "clip_score", "fad_infinity", "fad_inf_sizes", "FadInfinity",
           "inception_score_resampled", "kernel_audio_distance", "kad", "KAD_SCALE",
           "median_pairwise_distance", "kad_bandwidth", "cosine_spread",
           "kl_divergence", "inception_score", "InceptionScore", "pairwise_diversity",
           "cosine_spread", "cosine_spreads",
           "linear_cka", "knn_overlap", "centroid_gap", "paired_cosine"]


def _features(x, name: str) -> np.ndarray:
    a = np.asarray(x.numpy() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2:
        raise EmbeddingError(f"{name} must be (n ≥ 2, d) features, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise EmbeddingError(f"{name} holds NaN or inf")
    return a


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and unbiased covariance (d, d) of (n, d) features, in float64."""
    a = _features(features, "features")
    return a.mean(0), np.cov(a, rowvar=False)


def _sqrtm_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _frechet_from_stats(mu_a, cov_a, mu_b, cov_b, root_a=None) -> float:
    if mu_a.shape != mu_b.shape:
        raise EmbeddingError(f"feature dimensions differ: {mu_a.shape[0]} vs {mu_b.shape[0]}")
    cov_a, cov_b = np.atleast_2d(cov_a), np.atleast_2d(cov_b)
    root_a = _sqrtm_psd(cov_a) if root_a is None else root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    fd = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross
    return float(max(fd, 0.0))


def frechet_distance_resampled(features_a, features_b, index_a, index_b,
                               chunk: int = 64) -> np.ndarray:
    """:func:`frechet_distance` of many resamples at once: ``index_a`` (B, m) and ``index_b``
    (B, n) row indices -> (B,) FDs, the same numbers as a loop over
    ``frechet_distance(features_a[index_a[k]], features_b[index_b[k]])`` (the bootstrap's).

    With fewer rows than dimensions the trace term is taken in the rows' space:
    ``Tr((Σa^½ Σb Σa^½)^½)`` = the sum of the singular values of ``Xa Xb^T / √((m−1)(n−1))``
    (centred rows; the nonzero eigenvalues of Σa Σb are their squares), an m × n problem
    instead of d × d; otherwise as :func:`frechet_distance`, batched.
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    ia, ib = np.asarray(index_a), np.asarray(index_b)
    if a.shape[1] != b.shape[1]:
        raise EmbeddingError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    out = np.empty(len(ia))
    with _one_blas_thread():  # many small problems: threads only contend
        for s in range(0, len(ia), chunk):
            out[s:s + chunk] = _fd_chunk(a, b, ia[s:s + chunk], ib[s:s + chunk])
    return out


def _one_blas_thread():
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def _fd_chunk(a, b, ia, ib) -> np.ndarray:
    """(k,) FDs of the k resamples ``a[ia[j]]`` vs ``b[ib[j]]``."""
    xa, xb = a[ia], b[ib]                                     # (k, m, d), (k, n, d)
    m, n, d = xa.shape[1], xb.shape[1], a.shape[1]
    mu = ((xa.mean(1) - xb.mean(1)) ** 2).sum(1)
    ca, cb = xa - xa.mean(1, keepdims=True), xb - xb.mean(1, keepdims=True)
    tr = (ca ** 2).sum((1, 2)) / (m - 1) + (cb ** 2).sum((1, 2)) / (n - 1)
    if min(m, n) <= d:
        cross = np.linalg.svd(ca @ cb.transpose(0, 2, 1), compute_uv=False).sum(1)
        cross = cross / np.sqrt((m - 1) * (n - 1))
    else:
        cov_a = ca.transpose(0, 2, 1) @ ca / (m - 1)
        cov_b = cb.transpose(0, 2, 1) @ cb / (n - 1)
        w, v = np.linalg.eigh(cov_a)
        root = (v * np.sqrt(np.clip(w, 0, None))[:, None, :]) @ v.transpose(0, 2, 1)
        inner = root @ cov_b @ root
        cross = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.transpose(0, 2, 1)) / 2),
                                0, None)).sum(1)
    return np.maximum(mu + tr - 2 * cross, 0.0)


def frechet_distance(features_a, features_b) -> float:
    """FD between Gaussians fitted to (n_a, d) and (n_b, d) features:

    ``||μa − μb||² + Tr(Σa) + Tr(Σb) − 2 Tr((Σa^½ Σb Σa^½)^½)``.

    ``Tr((Σa^½ Σb Σa^½)^½)`` equals the ``Tr(sqrtm(Σa Σb))`` of the usual implementations
    (pytorch-fid, AudioLDM's), without the non-symmetric square root that needs an ε offset when
    a covariance is singular (fewer samples than dimensions). With no more rows than dimensions
    (m, n ≤ d) the same trace is the sum of the singular values of ``Xa Xb^T / √((m−1)(n−1))``
    (centred rows), an m × n problem instead of d × d (:func:`frechet_distance_resampled`):
    exact, and far cheaper for 2048-d PANNs features of a few hundred clips. Clipped at 0
    (rounding).
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise EmbeddingError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    if min(len(a), len(b)) <= a.shape[1]:  # fewer rows than dimensions: the rows' space
        idx = (np.arange(len(a))[None], np.arange(len(b))[None])
        return float(frechet_distance_resampled(a, b, *idx)[0])
    mu_a, cov_a = gaussian_stats(a)
    mu_b, cov_b = gaussian_stats(b)
    return _frechet_from_stats(mu_a, cov_a, mu_b, cov_b)


def fad(features_a, features_b) -> float:
    """Fréchet Audio Distance (Kilgour et al. 2019): :func:`frechet_distance` under FAD's name.

    What makes it FAD is the rows. In Google's reference and in AudioLDM's toolbox every 0.96 s
    VGGish example of every clip is one row (not one row per clip), taken from the 128-d layer
    *before* its final ReLU and without the PCA/quantisation post-processing: the `paper`
    preset's FAD extractor returns exactly those rows from ``fd_features(waves)``.
    """
    return frechet_distance(features_a, features_b)


class FadInfinity(NamedTuple):
    """FAD∞: ``score`` (the intercept at 1/n = 0), ``slope`` and ``r2`` of the line, ``se`` (the
    intercept's standard error from the fit's covariance), ``points`` ((n, FD) pairs)."""

    score: float
    slope: float
    r2: float
    se: float
    points: list[tuple[int, float]]


FAD_INF_STEPS, FAD_INF_MIN_N = 25, 500  # fadtk's defaults (score_inf: steps=25, min_n=500)


def fad_inf_sizes(num_rows: int, steps: int = FAD_INF_STEPS, min_n: int | None = None
                  ) -> list[int]:
    """The sample sizes FAD∞ measures FD at: ``int`` of ``linspace(min_n, num_rows, steps)``,
    as fadtk. ``min_n=None``: fadtk's 500 where there are at least 1,000 rows, else a quarter of
    the rows (at least 2), so that small sets still span a range of 1/n."""
    if min_n is None:
        min_n = FAD_INF_MIN_N if num_rows >= 2 * FAD_INF_MIN_N else max(2, num_rows // 4)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 3:
        raise EmbeddingError(f"steps={steps!r}; FAD∞ fits a line through ≥ 3 sample sizes")
    sizes = [int(n) for n in np.linspace(min_n, num_rows, steps)] if min_n >= 2 else []
    if len(set(sizes)) < 3:
        raise EmbeddingError(f"FAD∞ fits a line through FD at ≥ 3 sample sizes between min_n="
                             f"{min_n} (≥ 2) and the {num_rows} rows given; it needs at least "
                             f"{max(min_n, 2) + 2} rows")
    return sizes


def fad_infinity(generated, reference, *, steps: int = FAD_INF_STEPS, min_n: int | None = None,
                 seed: int = 0) -> FadInfinity:
    """FAD∞ (Gui et al. 2024, fadtk's ``score_inf``): FD between ``reference`` (all its rows)
    and ``n`` rows of ``generated`` drawn with replacement, for each n of :func:`fad_inf_sizes`,
    then the least-squares line FD = slope / n + FAD∞ (``np.polyfit`` on 1/n, as fadtk).

    FD's bias shrinks like 1/n, so FAD∞ is the FD an infinite generated set would score: two
    systems scored on different numbers of clips compare by FAD∞, not by FD. The draws come from
    ``np.random.default_rng(seed)`` (fadtk draws from NumPy's global stream, unseeded).

    Raises:
        EmbeddingError: too few rows (fewer than 3 sizes between ``min_n`` and n), bad features.
    """
    g, r = _features(generated, "generated"), _features(reference, "reference")
    sizes = fad_inf_sizes(len(g), steps, min_n)
    mu_r, cov_r = r.mean(0), np.atleast_2d(np.cov(r, rowvar=False))
    root_r = _sqrtm_psd(cov_r)
    rng = np.random.default_rng(seed)
    points = []
    for n in sizes:
        x = g[rng.choice(len(g), size=n, replace=True)]
        points.append((n, _frechet_from_stats(mu_r, cov_r, x.mean(0),
                                              np.atleast_2d(np.cov(x, rowvar=False)), root_r)))
    xs, ys = 1 / np.array(sizes, np.float64), np.array([v for _, v in points])
    (slope, intercept), cov = np.polyfit(xs, ys, 1, cov="unscaled")
    resid = ys - (slope * xs + intercept)
    se = float(np.sqrt(cov[1, 1] * (resid ** 2).sum() / (len(xs) - 2)))
    total = ((ys - ys.mean()) ** 2).sum()
    r2 = float(1 - (resid ** 2).sum() / total) if total > 0 else 1.0
    return FadInfinity(float(intercept), float(slope), r2, se, points)


# --- KAD: the kernel audio distance -----------------------------------------------------------
KAD_SCALE = 100     # kadtk 1.1.0 multiplies the squared MMD by 100 (its SCALE_FACTOR)
_KAD_EPS = 1e-8     # kadtk's eps in gamma = 1 / (2 σ² + eps)
_KAD_BLOCK = 2048   # rows per block: kernel matrices are never held whole


def median_pairwise_distance(features) -> float:
    """The median Euclidean distance over all pairs of rows — the *lower* median of an even
    count, as ``torch.median`` (which kadtk's heuristic calls) takes it."""
    a = _features(features, "features")
    d = _pdist(a)
    return float(np.partition(d, (len(d) - 1) // 2)[(len(d) - 1) // 2])


def _pdist(a: np.ndarray) -> np.ndarray:
    from scipy.spatial.distance import pdist
    return pdist(a)


def kad_bandwidth(generated, reference, bandwidth="reference") -> float:
    """The Gaussian kernel's σ for :func:`kernel_audio_distance`: ``"reference"`` (the median
    pairwise distance of the reference rows: one kernel for every system scored against the
    same references; the kit's default), ``"generated"`` (of the generated rows: what kadtk
    1.1.0's ``KernelAudioDistance.score`` does), or a positive number."""
    check_kad_bandwidth(bandwidth)
    if isinstance(bandwidth, str):
        return median_pairwise_distance(reference if bandwidth == "reference" else generated)
    return float(bandwidth)


def check_kad_bandwidth(bandwidth) -> None:
    """ValueError unless ``bandwidth`` is ``"reference"``, ``"generated"`` or a positive
    finite number (what :func:`kad_bandwidth` takes)."""
    ok = (bandwidth in ("reference", "generated") if isinstance(bandwidth, str) else
          not isinstance(bandwidth, bool) and isinstance(bandwidth, (int, float, np.number))
          and bool(np.isfinite(bandwidth)) and bandwidth > 0)
    if not ok:
        raise ValueError(f"bandwidth={bandwidth!r}; expected 'reference', 'generated' or a "
                         "positive number")


def _kernel_sums(a: np.ndarray, b: np.ndarray, gamma: float, weights_a=None,
                 weights_b=None) -> np.ndarray:
    """Σ_ij w_a[k, i] exp(−γ ‖a_i − b_j‖²) w_b[k, j] for each weight row k (one row of ones
    when no weights): the kernel matrix is computed block by block, never held whole."""
    wa = np.ones((1, len(a))) if weights_a is None else weights_a
    wb = np.ones((1, len(b))) if weights_b is None else weights_b
    sq_a, sq_b = (a ** 2).sum(1), (b ** 2).sum(1)
    total = np.zeros(len(wa))
    for i in range(0, len(a), _KAD_BLOCK):
        d2 = sq_a[i:i + _KAD_BLOCK, None] + sq_b[None] - 2 * a[i:i + _KAD_BLOCK] @ b.T
        k = np.exp(-gamma * np.clip(d2, 0, None))
        total += np.einsum("ki,ij,kj->k", wa[:, i:i + _KAD_BLOCK], k, wb, optimize=True)
    return total


def kernel_audio_distance(generated, reference, *, bandwidth="reference",
                          scale: float = KAD_SCALE, weights=None) -> float | np.ndarray:
    """KAD (Chung et al. 2025): the unbiased squared maximum mean discrepancy between the two
    sets of features under a Gaussian kernel k(x, y) = exp(−‖x − y‖² / (2σ² + 1e-8)), times
    ``scale`` (kadtk's 100):

        ``KAD = scale · [ Σ_{i≠j} k(g_i, g_j) / (m(m−1)) + Σ_{i≠j} k(r_i, r_j) / (n(n−1))
        − 2 Σ_ij k(g_i, r_j) / (mn) ]``

    Unlike FD it assumes no Gaussian and has no bias in the number of clips (its expectation is
    the population MMD² whatever m and n), so it can be slightly negative when the two sets come
    from one distribution. Float64, block by block (no m × m matrix is held).

    Args:
        generated, reference: (m, d) and (n, d) features, m, n ≥ 2.
        bandwidth: σ, or how to set it (:func:`kad_bandwidth`; default: the reference rows'
            median pairwise distance). Pass a number to keep one kernel across runs.
        weights: ``(w_g, w_r)``, (B, m) and (B, n) non-negative integer counts: the KAD of B
            resamples that repeat row i w[·, i] times (a bootstrap), returned as a (B,) array.
            Pairs of copies of one row are left out of the within-set sums, as the pair of a
            row with itself is (else copies would bias the resampled KAD upwards).
    """
    g, r = _features(generated, "generated"), _features(reference, "reference")
    if g.shape[1] != r.shape[1]:
        raise EmbeddingError(f"feature dimensions differ: {g.shape[1]} vs {r.shape[1]}")
    sigma = kad_bandwidth(g, r, bandwidth)
    gamma = 1.0 / (2 * sigma ** 2 + _KAD_EPS)
    wg, wr = (None, None) if weights is None else (np.asarray(weights[0], np.float64),
                                                   np.asarray(weights[1], np.float64))
    m = len(g) if wg is None else wg.sum(1)
    n = len(r) if wr is None else wr.sum(1)
    # k(x, x) = 1: a row paired with itself — or, in a resample, with a copy of itself — is
    # dropped from the U-statistics (copies would count as perfectly similar distinct rows)
    ties_g = m if wg is None else (wg ** 2).sum(1)
    ties_r = n if wr is None else (wr ** 2).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a redraw of one row repeated: nan
        xx = (_kernel_sums(g, g, gamma, wg, wg) - ties_g) / (m * m - ties_g)
        yy = (_kernel_sums(r, r, gamma, wr, wr) - ties_r) / (n * n - ties_r)
    xy = _kernel_sums(g, r, gamma, wg, wr) / (m * n)
    out = scale * (xx + yy - 2 * xy)
    return float(out[0]) if weights is None else out


kad = kernel_audio_distance


# --- from a tagger's logits: KL and IS ---------------------------------------------------------
KL_EPS = 1e-6  # audioldm_eval's EPS: added to the generated clip's probabilities before the log


def _logits(x, name: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x,
                   dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise EmbeddingError(f"{name} must be (n ≥ 1, num_classes) logits, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise EmbeddingError(f"{name} holds NaN or inf")
    return a


def _groups(groups, num_classes: int) -> list[slice]:
    """``groups`` (None, a mapping name -> slice, or a sequence of slices) -> slices that
    partition the ``num_classes`` columns; anything else is refused."""
    if groups is None:
        return [slice(0, num_classes)]
    items = list(groups.values()) if isinstance(groups, Mapping) else list(groups)
    covered = np.zeros(num_classes, dtype=int)
    for g in items:
        if not (isinstance(g, slice) and g.step in (None, 1) and g.start is not None
                and g.stop is not None and 0 <= g.start < g.stop <= num_classes):
            raise EmbeddingError(f"groups holds {g!r}; expected slices (start, stop) of the "
                                 f"{num_classes} logit columns")
        covered[g] += 1
    if not items or (covered != 1).any():
        raise EmbeddingError(f"groups {items} do not partition the {num_classes} logit columns "
                             "(each column in exactly one group)")
    return items


def kl_divergence(gen_logits, ref_logits, kind: str = "softmax", groups=None) -> float:
    """Mean KL(ref_i ‖ gen_i) over row-paired clips, from tagger logits (AudioLDM's KL).

    This is ``calculate_kl`` of AudioLDM's evaluation toolbox (``audioldm_eval/metrics/kl.py``),
    followed exactly, in float64: with ``p = act(ref_logits_i)`` and ``q = act(gen_logits_i)``,

        ``KL = (1/n) Σ_i Σ_c p_ic · (log p_ic − log(q_ic + 1e-6))``

    (``torch.nn.functional.kl_div(log(q + EPS), p, reduction="sum") / n``). The reference clip
    is the "pseudo target"; the ε is added to the generated side only.

    - ``kind="softmax"`` (AudioLDM's reported "KL", which AudioGen uses too): ``act`` = softmax
      over all classes, although AudioSet tags are multi-label.
    - ``kind="sigmoid"`` (the toolbox's ``KL_Sigmoid``): ``act`` = per-class sigmoid, summed
      with the same formula. Note: that keeps only the positive-class term of each class's
      Bernoulli KL, so it is not a true divergence and can be slightly negative.

    Args:
        gen_logits: (n, C) logits of generated clips (e.g. PANNs CNN14, C = 527).
        ref_logits: (n, C) logits of their references; row i pairs with row i (the toolbox
            pairs by file name). For k samples per reference, repeat its row k times.
        kind: ``"softmax"`` or ``"sigmoid"``.
        groups: softmax only: slices partitioning the C columns, each a categorical
            distribution of its own (a multi-head tagger, e.g. the pocket tagger's attributes);
            the KL is summed over groups (the KL of the product distribution). ``None`` = one
            softmax over all columns, the toolbox's convention.
    Returns:
        KL in nats (0 when every pair agrees, up to the ε).
    """
    g, r = _logits(gen_logits, "gen_logits"), _logits(ref_logits, "ref_logits")
    if g.shape != r.shape:
        raise EmbeddingError(f"gen_logits has shape {g.shape} but ref_logits {r.shape}; KL pairs "
                             "row i of one with row i of the other")
    if kind == "softmax":
        parts = [(np.exp(log_softmax(r[:, s], axis=1)), np.exp(log_softmax(g[:, s], axis=1)))
                 for s in _groups(groups, g.shape[1])]
    elif kind == "sigmoid":
        if groups is not None:
            raise EmbeddingError("groups apply to kind='softmax'; kind='sigmoid' treats every "
                                 "class on its own")
        parts = [(expit(r), expit(g))]
    else:
        raise ValueError(f"kind={kind!r}; expected 'softmax' or 'sigmoid'")
    # xlogy: 0 · log 0 = 0, as in torch's kl_div
    total = sum((xlogy(p, p) - p * np.log(q + KL_EPS)).sum() for p, q in parts)
    return float(total / len(g))


class InceptionScore(NamedTuple):
    """Inception score over ``splits`` chunks: their mean and (population) standard deviation."""

    mean: float
    std: float


def inception_score(logits, splits: int = 10, shuffle: bool = True, seed: int = 2020,
                    groups=None) -> InceptionScore:
    """IS = exp(E_x KL(p(y|x) ‖ p(y))) from tagger logits, mean and std over ``splits`` chunks.

    The SpecVQGAN convention, which AudioLDM's toolbox copies (``calculate_isc``; both call it
    with ``splits=10, samples_shuffle=True, rng_seed=2020``): rows are permuted by
    ``np.random.RandomState(seed)``, cut into ``splits`` chunks (``i·n//splits`` boundaries);
    in each chunk ``p(y|x)`` = softmax of the logits, ``p(y)`` = its mean over the chunk, and
    the chunk's score is ``exp(mean_x Σ_y p(y|x) (log p(y|x) − log p(y)))``. Float64.

    IS is 1 when every clip gets the same prediction and reaches the number of classes when the
    predictions are confident and spread evenly over all classes.

    Args:
        logits: (n, C) logits of the clips judged (e.g. PANNs CNN14's 527), n ≥ ``splits``.
        splits: number of chunks.
        shuffle, seed: permute the rows first (the convention), with this seed.
        groups: as in :func:`kl_divergence`: each group is its own categorical head with its
            own marginal; KLs add up over groups, so the score is the product of the per-group
            scores (e.g. at most 4·4·3·2 = 96 for the pocket tagger). ``None`` = one softmax.
    Returns:
        :class:`InceptionScore` ``(mean, std)``.
    """
    a = _logits(logits, "logits")
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= len(a):
        raise ValueError(f"splits={splits!r}; expected an int between 1 and the number of rows "
                         f"({len(a)})")
    slices = _groups(groups, a.shape[1])
    if shuffle:
        a = a[np.random.RandomState(seed).permutation(len(a))]
    n, scores = len(a), []
    for i in range(splits):
        chunk = a[i * n // splits:(i + 1) * n // splits]
        kl = 0.0
        for s in slices:
            p = np.exp(log_softmax(chunk[:, s], axis=1))
            # xlogy: a class no clip of the chunk predicts adds 0, not 0 · log 0 = nan
            kl = kl + (xlogy(p, p) - xlogy(p, p.mean(0, keepdims=True))).sum(1)
        scores.append(float(np.exp(np.mean(kl))))
    return InceptionScore(float(np.mean(scores)), float(np.std(scores)))


def inception_score_resampled(logits, index, splits: int = 10, shuffle: bool = True,
                              seed: int = 2020, groups=None) -> np.ndarray:
    """The IS mean of :func:`inception_score` over many resamples at once: ``index`` (B, n)
    row indices -> (B,) scores, the same numbers as a loop over
    ``inception_score(logits[index[k]], splits, shuffle, seed, groups).mean`` (the bootstrap's),
    vectorised: each row's softmax is computed once."""
    a = _logits(logits, "logits")
    idx = np.asarray(index)
    n = idx.shape[1]
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= n:
        raise ValueError(f"splits={splits!r}; expected an int between 1 and the number of rows "
                         f"({n})")
    if shuffle:
        idx = idx[:, np.random.RandomState(seed).permutation(n)]
    heads = [np.exp(log_softmax(a[:, s], axis=1)) for s in _groups(groups, a.shape[1])]
    self_terms = sum(xlogy(p, p).sum(1) for p in heads)              # Σ_y p log p, per row
    scores = np.zeros((len(idx), splits))
    for i in range(splits):
        chunk = idx[:, i * n // splits:(i + 1) * n // splits]        # (B, k)
        kl = self_terms[chunk]
        for p in heads:
            pc = p[chunk]                                            # (B, k, C)
            kl = kl - xlogy(pc, pc.mean(1, keepdims=True)).sum(2)
        scores[:, i] = np.exp(kl.mean(1))
    return scores.mean(1)


def clip_score(audio_in_image_space, image_embed) -> float:
    """CS = 100 × mean cosine of row-paired (n, d) embeddings (both normalised here)."""
    a = validate_embeds(audio_in_image_space, None, "audio_in_image_space", normalize=True)
    b = validate_embeds(image_embed, a.shape[1], "image_embed", normalize=True)
    if len(a) != len(b):
        raise EmbeddingError(f"{len(a)} audio rows but {len(b)} image rows; CS pairs row i")
    return float(100 * (a * b).sum(-1).mean())


def pairwise_diversity(features, num_samples: int) -> float:
    """Mean Euclidean distance between the ``num_samples`` samples of each input, averaged over
    inputs. ``features``: (b · num_samples, d), rows of one input consecutive (as
    ``mapper.sample`` and ``generate(num_waveforms_per_prompt=...)`` order them)."""
    a = _features(features, "features")
    if num_samples < 2 or len(a) % num_samples:
        raise EmbeddingError(f"{len(a)} rows are not groups of num_samples={num_samples} ≥ 2")
    g = a.reshape(-1, num_samples, a.shape[1])
    d = np.sqrt(((g[:, :, None] - g[:, None]) ** 2).sum(-1))
    return float(d.sum((1, 2)).mean() / (num_samples * (num_samples - 1)))


def cosine_spreads(embeds, num_samples: int) -> np.ndarray:
    """Per input: the mean pairwise cosine distance (1 − cos) between its ``num_samples``
    embeddings (rows of one input consecutive, as :func:`pairwise_diversity`), shape
    (inputs,): how far apart one image's sounds lie in an embedding space (0 = one point)."""
    e = validate_embeds(embeds, None, "embeds", normalize=True)
    if num_samples < 2 or len(e) % num_samples:
        raise EmbeddingError(f"{len(e)} rows are not groups of num_samples={num_samples} ≥ 2")
    e = e.view(-1, num_samples, e.shape[-1])
    off = ~torch.eye(num_samples, dtype=torch.bool, device=e.device)
    return (1 - e @ e.transpose(1, 2))[:, off].mean(1).clamp_min(0).double().cpu().numpy()


def cosine_spread(embeds, num_samples: int) -> float:
    """:func:`cosine_spreads` averaged over inputs: the mean within-input spread."""
    return float(cosine_spreads(embeds, num_samples).mean())


def label_accuracy(predicted: dict, labels: dict, attributes=None) -> dict[str, float]:
    """attribute -> the share of clips whose predicted value index is its label, and ``all``:
    the share with every judged attribute right at once. ``predicted`` and ``labels``:
    attribute -> (n,) value indices; ``attributes``: those judged (default: every label's).
    The one definition of attribute accuracy: :func:`~v2a_kit.evaluation.score` (the ``fd``
    classifier's picks) and the pocket build's gates (the tagger's) both call it."""
    names = list(labels) if attributes is None else list(attributes)
    if not names:
        raise ValueError("attribute accuracy needs at least one attribute")
    right = {}
    for a in names:
        p, y = np.asarray(predicted[a]), np.asarray(labels[a])
        if p.shape != y.shape or p.ndim != 1:
            raise ValueError(f"{a}: {p.shape} predictions for {y.shape} labels; expected one "
                             "value index per clip on both sides")
        right[a] = p == y
    out = {a: float(r.mean()) for a, r in right.items()}
    out["all"] = float(np.all(list(right.values()), axis=0).mean())
    return out


def recall_at_k(queries, targets, ks=(1, 5)) -> dict[int, float]:
    """Fraction of queries whose own target (the same row) is among the ``k`` most similar
    targets by cosine. ``queries`` (n, d) and ``targets`` (n, d) are normalised here. Ties
    count against the query: a target tied with the true one ranks ahead of it (so a constant
    prediction scores chance, not 1). Chance is k / n.

    Returns:
        {k: recall in [0, 1]} for each k in ``ks``.
    """
    q = validate_embeds(queries, None, "queries", normalize=True)
    t = validate_embeds(targets, q.shape[1], "targets", normalize=True)
    if len(q) != len(t):
        raise EmbeddingError(f"queries has {len(q)} rows but targets has {len(t)}; recall pairs "
                             "row i of one with row i of the other")
    if any(not isinstance(k, int) or k < 1 for k in ks):
        raise ValueError(f"ks={ks!r}; expected positive ints")
    sims = q.double() @ t.double().T
    own = sims.diagonal()[:, None]
    rank = (sims > own).sum(1) + ((sims == own).sum(1) - 1)  # others tied with the own count
    return {k: float((rank < k).double().mean()) for k in ks}


# --- comparing two spaces (the domain gap, notebook 02) ---------------------------------------
def linear_cka(x, y) -> float:
    """Linear centred kernel alignment (Kornblith et al. 2019) between (n, d1) and (n, d2)
    representations of the same n items: 1 = the same geometry up to rotation and isotropic
    scale, 0 = unrelated. Works across dimensions (CLIP 64-d vs CLAP 48-d)."""
    a, b = _features(x, "x"), _features(y, "y")
    if len(a) != len(b):
        raise EmbeddingError(f"x has {len(a)} rows but y has {len(b)}; CKA compares the same items")
    a, b = a - a.mean(0), b - b.mean(0)
    cross = np.linalg.norm(a.T @ b) ** 2
    return float(cross / (np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)))


def knn_overlap(x, y, k: int = 10) -> float:
    """Mean fraction of each item's k nearest neighbours (by cosine, itself excluded) that are
    shared between the two spaces. Chance ≈ k / (n − 1)."""
    a = validate_embeds(x, None, "x", normalize=True).double()
    b = validate_embeds(y, None, "y", normalize=True).double()
    if len(a) != len(b) or not 1 <= k < len(a):
        raise EmbeddingError(f"need the same n in both (got {len(a)}, {len(b)}) and 1 ≤ k < n")

    def knn(e):
        s = e @ e.T
        s.fill_diagonal_(-np.inf)
        return s.topk(k, dim=1).indices
    na, nb = knn(a), knn(b)
    shared = [len(set(r.tolist()) & set(q.tolist())) for r, q in zip(na, nb)]
    return float(np.mean(shared) / k)


def centroid_gap(x, y) -> float:
    """The modality gap of Liang et al. (2022): ‖mean(x) − mean(y)‖ of two sets of normalised
    embeddings in one space (0 when their centroids coincide)."""
    a = validate_embeds(x, None, "x", normalize=True)
    b = validate_embeds(y, a.shape[1], "y", normalize=True)
    return float((a.double().mean(0) - b.double().mean(0)).norm())


def paired_cosine(x, y) -> np.ndarray:
    """(n,) cosines of row-paired embeddings in one space."""
    a = validate_embeds(x, None, "x", normalize=True)
    b = validate_embeds(y, a.shape[1], "y", normalize=True)
    if len(a) != len(b):
        raise EmbeddingError(f"x has {len(a)} rows but y has {len(b)}; rows are paired")
    return (a * b).sum(-1).numpy()
