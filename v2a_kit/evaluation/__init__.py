"""Evaluation: the paper's metrics, the networks and extractors behind them, and scoring.

- :mod:`~v2a_kit.evaluation.metrics`: pure metric functions over arrays (FD/FAD, KL, IS, CS,
  recall, diversity, and the gap between spaces: CKA, k-NN overlap, centroid gap, cosines).
- :mod:`~v2a_kit.evaluation.networks`: the paper's PANNs CNN14, VGGish and Wav2CLIP, written
  out with their checkpoints' names.
- :mod:`~v2a_kit.evaluation.extractors`: one interface over audio models in the FD, FAD and CS
  roles (:class:`Extractors`), and the paper's (:func:`build_paper_extractors`).
- :mod:`~v2a_kit.evaluation.scoring`: :func:`score`, FD, FAD, KL, IS and CS of waveforms (or
  extractor outputs) in memory, with an explicit pairing rule.
- :mod:`~v2a_kit.evaluation.folder`: ``evaluate``, the same over folders of files paired by
  name (``v2a-kit evaluate``). It loads a preset's extractors through the registry, which sits
  above this package, so it is imported on its own: ``from v2a_kit.evaluation.folder import
  evaluate``.

A preset's extractors: ``v2a_kit.registry.load_extractors(preset)``.
"""

from .extractors import (
    AudioExtractor,
    ClipScoreExtractor,
    Extractors,
    build_paper_extractors,
    prepare_waves,
)
from .metrics import (
    InceptionScore,
    centroid_gap,
    clip_score,
    cosine_spread,
    cosine_spreads,
    fad,
    frechet_distance,
    gaussian_stats,
    inception_score,
    kl_divergence,
    knn_overlap,
    linear_cka,
    paired_cosine,
    pairwise_diversity,
    recall_at_k,
)
from .scoring import IS_MIN_CHUNK, IS_SPLITS, AudioOutputs, Scores, extract, score

__all__ = [
    "frechet_distance", "fad", "gaussian_stats", "kl_divergence", "inception_score",
    "InceptionScore", "clip_score", "recall_at_k", "pairwise_diversity", "cosine_spread",
    "cosine_spreads",
    "linear_cka", "knn_overlap", "centroid_gap", "paired_cosine",
    "score", "Scores", "extract", "AudioOutputs", "IS_SPLITS", "IS_MIN_CHUNK",
    "AudioExtractor", "ClipScoreExtractor", "Extractors", "prepare_waves",
    "build_paper_extractors",
]
