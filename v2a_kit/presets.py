"""Presets: which CLIP, CLAP, AudioLDM, mappers and evaluators belong together.

A *preset* names one model of each kind, by its name in :mod:`v2a_kit.registry`. Every loader
takes a preset name **or** a model name and returns the same kinds of objects, so notebooks, the
CLI and tests never branch on where the weights came from.

=========  ==========================  =================================  ==========================
preset     CLIP                        CLAP                               AudioLDM
=========  ==========================  =================================  ==========================
pocket     pocket-clip (shipped)       pocket-clap (shipped)              pocket-audioldm (shipped)
paper      open_clip ViT-L-14 openai   AudioLDM-S-full's own CLAP         cvssp/audioldm-s-full-v2
tiny       open_clip, tiny config      transformers ClapModel, tiny       diffusers parts, tiny
=========  ==========================  =================================  ==========================

``pocket`` (the default) ships its weights, mappers and evaluators in the package; ``paper``
weights come from the hubs on first use (cached) or from a local copy; ``tiny`` is built offline
from the JSON configs in ``v2a_kit/configs`` at random init (fixed seed), for tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ConfigError

__all__ = ["Preset", "list_presets", "get_preset", "default_preset"]


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    clip: str                # registered CLIP (load_clip)
    clap: str                # registered CLAP (load_clap)
    audioldm: str            # registered AudioLDM (load_audioldm)
    mappers: str | None = None     # prefix of its shipped mappers: "<mappers>-<kind>"
    extractors: str | None = None  # registered extractor set (load_extractors)


_PRESETS = {
    "paper": Preset(
        "paper",
        "The paper's models: CLIP ViT-L/14 (OpenAI), the CLAP inside AudioLDM-S-full, and "
        "AudioLDM-S-full-v2. Weights from the hubs on first use (~3 GB); a GPU is advised.",
        clip="ViT-L-14/openai", clap="audioldm-s-full-clap", audioldm="cvssp/audioldm-s-full-v2",
        extractors="paper-extractors"),
    "pocket": Preset(
        "pocket",
        "The pocket world's models, trained by the kit on a CPU in minutes (`v2a-kit pocket "
        "build`): open_clip CLIP, transformers ClapModel and a diffusers AudioLDM at pocket size.",
        clip="pocket-clip", clap="pocket-clap", audioldm="pocket-audioldm", mappers="pocket",
        extractors="pocket-extractors"),
    "tiny": Preset(
        "tiny",
        "The paper's classes at tiny sizes and random init, built offline in a second. For tests: "
        "the shapes and code paths are real, the outputs are noise.",
        clip="tiny-clip", clap="tiny-clap", audioldm="tiny-audioldm"),
}

# The preset used when none is named: the pocket world's models ship with the package, so the
# kit runs offline on a CPU out of the box; `paper` needs the published weights (and a GPU).
_DEFAULT = "pocket"


def list_presets() -> list[str]:
    """Names of the available presets."""
    return sorted(_PRESETS)


def default_preset() -> str:
    """``$V2A_KIT_PRESET`` if set, else the kit's default."""
    name = os.environ.get("V2A_KIT_PRESET", _DEFAULT)
    get_preset(name)
    return name


def get_preset(name: str) -> Preset:
    try:
        return _PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; expected one of {', '.join(list_presets())}")\
            from None
