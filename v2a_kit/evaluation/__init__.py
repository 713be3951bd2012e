"""Evaluation: the paper's metrics, the networks and extractors behind them, and scoring.

- :mod:`~v2a_kit.evaluation.metrics`: pure metric functions over arrays (FD/FAD, KL, IS, CS,
  recall, diversity, and the gap between spaces: CKA, k-NN overlap, centroid gap, cosines).
- :mod:`~v2a_kit.evaluation.networks`: the paper's PANNs CNN14, VGGish and Wav2CLIP, written
  out with their checkpoints' names.
- :mod:`~v2a_kit.evaluation.extractors`: one interface over audio models in the FD, FAD and CS
  roles (:class:`Extractors`), and the paper's (:func:`build_paper_extractors`).
- :mod:`~v2a_kit.evaluation.scoring`: :func:`score`, FD, FAD, KAD, FAD∞, KL, IS and CS of
  waveforms (or extractor outputs) in memory, with an explicit pairing rule, an interval for
  every metric and the protocol card; :func:`compare_systems`, two systems on the same inputs.
- :mod:`~v2a_kit.evaluation.timing`: synchrony of a sound with its video (:func:`synchrony`):
  onset F1 against the video's visual onsets, the matched onsets' mean offset and a DeSync-like
  offset estimate. :func:`score` does not report it: it takes no videos.
- :mod:`~v2a_kit.evaluation.uncertainty`: the one bootstrap (:func:`bootstrap`) and the paired
  difference (:func:`paired`).
- :mod:`~v2a_kit.evaluation.protocol`: the protocol card, :class:`ClipRule`, comparing cards
  (:func:`check_comparable`), the field's metric names (``FIELD_NAMES``, ``NOT_OFFLINE``).
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
    KAD_SCALE,
    FadInfinity,
    InceptionScore,
    centroid_gap,
    clip_score,
    cosine_spread,
    cosine_spreads,
    fad,
    fad_infinity,
    frechet_distance,
    gaussian_stats,
    inception_score,
    kad,
    kernel_audio_distance,
    kl_divergence,
    knn_overlap,
    linear_cka,
    paired_cosine,
    pairwise_diversity,
    recall_at_k,
)
from .protocol import (
    FIELD_NAMES,
    NOT_OFFLINE,
    ClipRule,
    check_comparable,
    compare_protocols,
    format_card,
    load_report,
)
from .scoring import (
    IS_MIN_CHUNK,
    IS_SPLITS,
    METRIC_KEYS,
    AudioOutputs,
    Comparison,
    Scores,
    compare_systems,
    extract,
    paired_differences,
    score,
)
from .timing import Synchrony, detect_onsets, estimate_offset, match_onsets, synchrony
from .uncertainty import Difference, Interval, bootstrap, paired

__all__ = [
    "frechet_distance", "fad", "gaussian_stats", "kl_divergence", "inception_score",
    "InceptionScore", "clip_score", "recall_at_k", "pairwise_diversity", "cosine_spread",
    "cosine_spreads",
    "kernel_audio_distance", "kad", "KAD_SCALE", "fad_infinity", "FadInfinity",
    "bootstrap", "paired", "Interval", "Difference", "compare_systems", "Comparison",
    "paired_differences",
    "METRIC_KEYS", "ClipRule", "check_comparable", "compare_protocols", "format_card",
    "load_report", "FIELD_NAMES", "NOT_OFFLINE",
    "linear_cka", "knn_overlap", "centroid_gap", "paired_cosine",
    "score", "Scores", "extract", "AudioOutputs", "IS_SPLITS", "IS_MIN_CHUNK",
    "AudioExtractor", "ClipScoreExtractor", "Extractors", "prepare_waves",
    "build_paper_extractors",
    "synchrony", "Synchrony", "detect_onsets", "match_onsets", "estimate_offset",
]
