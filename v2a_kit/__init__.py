"""v2a-kit: learn and study vision-to-audio generation by connecting foundation models.

CLIP image embedding --V2A-Mapper--> CLAP audio embedding --AudioLDM--> waveform
(after Wang et al., "V2A-Mapper", arXiv 2308.09300). See README.md, docs/design.md and notebooks/.

``import v2a_kit`` is quick: the public names below are attributes that import their module
(and torch, open_clip, transformers, diffusers behind it) the first time they are used
(PEP 562). ``from v2a_kit import load_clip`` works as usual.
"""

from __future__ import annotations

import importlib

from .errors import (
    CacheError,
    ConfigError,
    EmbeddingError,
    MediaError,
    PeakLimitWarning,
    SpaceMismatchError,
    V2AError,
    WeightsNotFoundError,
)

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY = {
    "best_device": "devices",
    "list_presets": "presets", "get_preset": "presets", "default_preset": "presets",
    "list_models": "registry", "create_model": "registry", "load_clip": "registry",
    "load_clap": "registry", "load_audioldm": "registry", "load_mapper": "registry",
    "load_extractors": "registry",
    "AudioLDMGenerator": "generation", "GenerationOutput": "generation", "generate": "generation",
    "encode_prompt": "generation", "check_space": "generation", "SpaceCheck": "generation",
    "ClipEncoder": "encoders", "ClapEncoder": "encoders", "encode_images": "encoders",
    "encode_video": "encoders", "encode_audio": "encoders", "encode_text": "encoders",
    "Embeddings": "spaces", "Space": "spaces",
    "create_mapper": "mappers", "save_mapper": "mappers", "list_mappers": "mappers",
    "fit_ridge": "mappers",
    "fit": "train", "TrainConfig": "train", "Pairs": "train", "History": "train",
    "make_pairs": "train",
    "V2APipeline": "pipeline", "V2AOutput": "pipeline", "V2AItem": "pipeline",
    "write_outputs": "pipeline",
}
# submodules reachable as attributes (``vk.generation.SCHEDULERS``), imported on first use
_SUBMODULES = {"atomic", "checkpoints", "cli", "configs", "datasets", "defaults", "devices",
               "distributed", "embeddings", "encoders", "evaluation", "exercises", "explorer",
               "generation",
               "mappers", "media", "models", "pipeline", "pocket", "presets", "registry",
               "spaces", "tokenizers", "train", "viz", "weights"}

__all__ = sorted(_LAZY) + ["V2AError", "MediaError", "EmbeddingError", "SpaceMismatchError",
                           "WeightsNotFoundError", "CacheError", "ConfigError",
                           "PeakLimitWarning"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
