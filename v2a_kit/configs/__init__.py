"""The kit's model configs, as JSON data beside this file.

``audioldm-s.json`` (AudioLDM-S-full-v2's architecture), ``audioldm-tiny.json`` and
``clap-tiny.json`` (the ``tiny`` models), ``open_clip/`` (the tiny and pocket CLIP configs, in
open_clip's format), ``pocket/`` (the pocket CLAP) and ``mappers/`` (the mapper configs of
:func:`v2a_kit.mappers.list_configs`).
"""

from __future__ import annotations

import json
from importlib import resources

from ..errors import ConfigError

__all__ = ["load_config", "mapper_config_names", "TINY_SEED"]

TINY_SEED = 0  # random-init seed of every `tiny` and random-init model: same seed, same weights


def mapper_config_names() -> list[str]:
    """The named mapper configs (``configs/mappers/*.json``), sorted."""
    folder = resources.files("v2a_kit") / "configs" / "mappers"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_config(name: str) -> dict:
    """A JSON config shipped in ``v2a_kit/configs`` (keys starting with '_' are comments)."""
    path = resources.files("v2a_kit") / "configs" / name
    if not path.is_file():
        raise ConfigError(f"no config {name!r} in v2a_kit/configs")
    cfg = json.loads(path.read_text())
    return {k: v for k, v in cfg.items() if not k.startswith("_")}
