"""Which extractors a preset names: :func:`load_extractors`.

The builders live next to their models
(:func:`v2a_kit.evaluation.extractors.build_paper_extractors`,
:func:`v2a_kit.pocket.extractors.build_pocket_extractors`); this module maps a preset name to
one.
"""

from __future__ import annotations

from .errors import ConfigError
from .evaluation.extractors import Extractors, build_paper_extractors
from .pocket.extractors import build_pocket_extractors
from .presets import default_preset

__all__ = ["load_extractors"]


def load_extractors(preset: str | None = None, *, random_init: bool = False, device=None,
                    weights=None) -> Extractors:
    """The FD, FAD and CS extractors of a preset: what evaluation code calls.

    Args:
        preset: ``"pocket"`` (the shipped evaluators, offline) or ``"paper"`` (PANNs CNN14,
            VGGish, Wav2CLIP + CLIP ViT-B/32); ``None`` = the default preset.
        random_init: ``paper`` only: the real architectures at random init, offline.
        device: ``None`` = the best available.
        weights: ``pocket``: a build folder. ``paper``: a folder holding the published files,
            or a mapping with keys ``"panns"``, ``"vggish"``, ``"wav2clip"``, ``"clip"``.
    Raises:
        WeightsNotFoundError: ``paper`` weights absent offline, in seconds, naming every
            missing file, where it was looked for, and what to do.
        ConfigError: an unknown preset; ``random_init`` with ``pocket``.
    """
    preset = preset or default_preset()
    if preset == "pocket":
        if random_init:
            raise ConfigError("random_init=True applies to the paper architectures; the pocket "
                              "evaluators are trained and ship with the package")
        return build_pocket_extractors(weights, device)
    if preset != "paper":
        raise ConfigError(f"no evaluators for preset {preset!r}; expected 'paper' or 'pocket'")
    return build_paper_extractors(weights=weights, random_init=random_init, device=device)
