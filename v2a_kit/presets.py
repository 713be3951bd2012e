"""Presets and the model registry (DESIGN.md §2).

A *preset* names one CLIP, one CLAP and one AudioLDM that belong together. Every loader takes a
preset name **or** a model name and returns the same kinds of objects, so notebooks, the CLI and
tests never branch on where the weights came from.

=========  ==========================  =================================  ==========================
preset     CLIP                        CLAP                               AudioLDM
=========  ==========================  =================================  ==========================
paper      open_clip ViT-L-14 openai   AudioLDM-S-full's own CLAP         cvssp/audioldm-s-full-v2
tiny       open_clip, tiny config      transformers ClapModel, tiny       diffusers parts, tiny
=========  ==========================  =================================  ==========================

``paper`` weights come from the hubs on first use (cached) or from a local copy; ``tiny`` is built
offline from the JSON configs in ``v2a_kit/configs`` at random init (fixed seed), for tests.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources

from .errors import ConfigError

__all__ = ["Preset", "list_presets", "get_preset", "default_preset", "resolve_model_name",
           "load_config", "TINY_SEED"]

TINY_SEED = 0  # random-init seed of every `tiny` model: same seed, same weights, same space


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    clip: str       # model name understood by load_clip
    clap: str       # model name understood by load_clap
    audioldm: str   # model name understood by load_audioldm


_PRESETS = {
    "paper": Preset(
        "paper",
        "The paper's models: CLIP ViT-L/14 (OpenAI), the CLAP inside AudioLDM-S-full, and "
        "AudioLDM-S-full-v2. Weights from the hubs on first use (~3 GB); a GPU is advised.",
        clip="ViT-L-14/openai", clap="audioldm-s-full-clap", audioldm="cvssp/audioldm-s-full-v2"),
    "pocket": Preset(
        "pocket",
        "The pocket world's models, trained by the kit on a CPU in minutes (`v2a-kit pocket "
        "build`): open_clip CLIP, transformers ClapModel and a diffusers AudioLDM at pocket size.",
        clip="pocket-clip", clap="pocket-clap", audioldm="pocket-audioldm"),
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
        raise ConfigError(f"unknown preset {name!r}; available: {', '.join(list_presets())}")\
            from None


def resolve_model_name(preset_or_name: str | None, kind: str) -> str:
    """A preset name -> that preset's model of ``kind`` ('clip', 'clap', 'audioldm');
    any other string is taken as a model name and returned unchanged."""
    if preset_or_name is None:
        preset_or_name = default_preset()
    if preset_or_name in _PRESETS:
        return getattr(_PRESETS[preset_or_name], kind)
    return preset_or_name


def load_config(name: str) -> dict:
    """A JSON config shipped in ``v2a_kit/configs`` (keys starting with '_' are comments)."""
    path = resources.files("v2a_kit") / "configs" / name
    if not path.is_file():
        raise ConfigError(f"no config {name!r} in v2a_kit/configs")
    cfg = json.loads(path.read_text())
    return {k: v for k, v in cfg.items() if not k.startswith("_")}
