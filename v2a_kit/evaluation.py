"""Evaluation metrics: pure functions over arrays (DESIGN.md §5).

- :func:`frechet_distance` (FD / FAD on any audio features): the Fréchet distance between two
  Gaussians fitted to two feature sets (Heusel et al. 2017; AudioLDM's FD uses PANNs features,
  FAD VGGish features). The matrix square root is taken of the symmetric PSD matrix
  S1^½ S2 S1^½ by eigendecomposition, which is finite for rank-deficient covariances.
- :func:`clip_score`: CS = 100 × cosine between an audio embedding in the image space and the
  image's embedding (Wav2CLIP + CLIP in the paper; the pocket audio→image evaluator here).
- :func:`recall_at_k`: retrieval of true CLAP embeddings from mapped ones.
- :func:`pairwise_diversity`: variability of several samples for one input.
- The gap between spaces: :func:`linear_cka` and :func:`knn_overlap` (two spaces, same items),
  :func:`centroid_gap` (Liang et al.'s modality gap) and :func:`paired_cosine` (one space).
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import EmbeddingError
from .spaces import validate_embeds

__all__ = ["recall_at_k", "frechet_distance", "gaussian_stats", "clip_score",
           "pairwise_diversity", "linear_cka", "knn_overlap", "centroid_gap", "paired_cosine"]


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


def frechet_distance(features_a, features_b) -> float:
    """FD between Gaussians fitted to (n_a, d) and (n_b, d) features:

    ``||μa − μb||² + Tr(Σa) + Tr(Σb) − 2 Tr((Σa^½ Σb Σa^½)^½)``.

    ``Tr((Σa^½ Σb Σa^½)^½)`` equals the ``Tr(sqrtm(Σa Σb))`` of the usual implementations
    (pytorch-fid, AudioLDM's), without the non-symmetric square root that needs an ε offset when
    a covariance is singular (fewer samples than dimensions). Clipped at 0 (rounding).
    """
    mu_a, cov_a = gaussian_stats(features_a)
    mu_b, cov_b = gaussian_stats(features_b)
    if mu_a.shape != mu_b.shape:
        raise EmbeddingError(f"feature dimensions differ: {mu_a.shape[0]} vs {mu_b.shape[0]}")
    cov_a, cov_b = np.atleast_2d(cov_a), np.atleast_2d(cov_b)
    root_a = _sqrtm_psd(cov_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    fd = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross
    return float(max(fd, 0.0))


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
