"""Evaluation: the paper's metrics, the networks and extractors behind them, and scoring.

- :mod:`~v2a_kit.evaluation.metrics`: pure metric functions over arrays (FD/FAD, KL, IS, CS,
  recall, diversity, and the gap between spaces: CKA, k-NN overlap, centroid gap, cosines).
- :mod:`~v2a_kit.evaluation.networks`: the paper's PANNs CNN14, VGGish and Wav2CLIP, written
  out with their checkpoints' names.
- :mod:`~v2a_kit.evaluation.extractors`: one interface over audio models in the FD, FAD and CS
  roles (:class:`Extractors`); the paper's are built by :mod:`v2a_kit.models.extractors`
  (:func:`build_paper_extractors`, also reachable here).
- :mod:`~v2a_kit.evaluation.scoring`: :func:`score`, FD, FAD, KAD, FAD∞, KL, IS and CS of
  waveforms (or extractor outputs) in memory, with an explicit pairing rule, an interval for
  every metric and the protocol card, and on request what the sounds carry (attribute
  accuracy, diversity between samples, loudness); :func:`compare_systems`, two systems on the
  same inputs. Every number the kit reports about generated audio is computed here.
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
- :mod:`~v2a_kit.evaluation.features`: the extractor outputs of audio files through a
  content-keyed cache (:class:`FeatureCache`), sharded over a torchrun job
  (:func:`cached_audio_outputs`); ``evaluate(..., cache_dir=)`` uses it. Like ``folder``,
  imported on its own: ``from v2a_kit.evaluation.features import FeatureCache``.

A preset's extractors: ``v2a_kit.registry.load_extractors(preset)``.
"""

from __future__ import annotations

import importlib

# public name -> the module (of this package, or the kit's builders) that defines it. The names
# are attributes imported on first use (PEP 562), so importing one module of this package
# (``v2a_kit.evaluation.metrics``) runs no other: the package's facade imports nothing itself.
_LAZY = {
    "AudioExtractor": ".extractors",
    "ClipScoreExtractor": ".extractors",
    "Extractors": ".extractors",
    "prepare_waves": ".extractors",
    "KAD_SCALE": ".metrics",
    "FadInfinity": ".metrics",
    "InceptionScore": ".metrics",
    "centroid_gap": ".metrics",
    "clip_score": ".metrics",
    "cosine_spread": ".metrics",
    "cosine_spreads": ".metrics",
    "fad": ".metrics",
    "fad_infinity": ".metrics",
    "frechet_distance": ".metrics",
    "gaussian_stats": ".metrics",
    "inception_score": ".metrics",
    "kad": ".metrics",
    "kernel_audio_distance": ".metrics",
    "kl_divergence": ".metrics",
    "label_accuracy": ".metrics",
    "knn_overlap": ".metrics",
    "linear_cka": ".metrics",
    "paired_cosine": ".metrics",
    "pairwise_diversity": ".metrics",
    "recall_at_k": ".metrics",
    "FIELD_NAMES": ".protocol",
    "NOT_OFFLINE": ".protocol",
    "ClipRule": ".protocol",
    "check_comparable": ".protocol",
    "compare_protocols": ".protocol",
    "format_card": ".protocol",
    "load_report": ".protocol",
    "IS_MIN_CHUNK": ".scoring",
    "IS_SPLITS": ".scoring",
    "METRIC_KEYS": ".scoring",
    "AudioOutputs": ".scoring",
    "Comparison": ".scoring",
    "Scores": ".scoring",
    "attribute_accuracy": ".scoring",
    "compare_systems": ".scoring",
    "extract": ".scoring",
    "paired_differences": ".scoring",
    "score": ".scoring",
    "ScoreSettings": ".scoring",
    "Synchrony": ".timing",
    "detect_onsets": ".timing",
    "estimate_offset": ".timing",
    "match_onsets": ".timing",
    "synchrony": ".timing",
    "Difference": ".uncertainty",
    "Interval": ".uncertainty",
    "bootstrap": ".uncertainty",
    "paired": ".uncertainty",
    "build_paper_extractors": "..models.extractors",   # a builder: it sits above this package
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
