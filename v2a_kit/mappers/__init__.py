"""V2A-Mappers: CLIP embedding -> CLAP embedding.

``create_mapper("regression" | "diffusion" | "ridge", clip_space, clap_space, **config)``;
all share one interface (:class:`Mapper`): ``loss = mapper(clip_embed, clap_embed)``,
``mapper.sample(clip_embed, ...)``, ``mapper.map(embeddings)``; checkpoints through
:func:`save_mapper` / :func:`load_mapper_folder` (``v2a_kit.load_mapper`` also resolves
presets and the shipped mappers).
"""

from __future__ import annotations

from ..configs import load_config, mapper_config_names
from ..errors import ConfigError
from .common import MAPPER_KINDS, Mapper, load_mapper_folder, save_mapper
from .diffusion import DiffusionConfig, DiffusionMapper, PriorNetwork
from .linear import RidgeConfig, RidgeMapper, fit_ridge
from .regression import RegressionConfig, RegressionMapper

__all__ = ["list_configs", "get_config", "Mapper", "RegressionMapper", "RegressionConfig",
           "DiffusionMapper", "DiffusionConfig",
           "PriorNetwork", "RidgeMapper", "RidgeConfig", "fit_ridge", "create_mapper",
           "list_mappers", "save_mapper", "load_mapper_folder", "MAPPER_KINDS"]


def list_configs() -> list[str]:
    """Named mapper configs (``configs/mappers/*.json``): ``<kind>-pocket`` (what ships with the
    pocket preset), ``<kind>-paper`` (sized to the paper's 48.83 M trainable parameters), ridge."""
    return mapper_config_names()


def get_config(name: str) -> dict:
    """A named config: ``{"kind", "about", "mapper": {...}, "train": {...} | None}``."""
    if name not in list_configs():
        raise ConfigError(f"unknown mapper config {name!r}; available: "
                          f"{', '.join(list_configs())}")
    return load_config(f"mappers/{name}.json")


def list_mappers() -> list[str]:
    """The mapper kinds: ``["diffusion", "regression", "ridge"]``."""
    return sorted(MAPPER_KINDS)


def create_mapper(kind: str, clip_space, clap_space, config=None, **overrides) -> Mapper:
    """A new mapper of ``kind`` at random init (ridge: zeros until :func:`fit_ridge`).

    Args:
        kind: "regression", "diffusion", "ridge", or a named config from :func:`list_configs`
            (e.g. "diffusion-paper"), whose settings ``**overrides`` then adjust.
        clip_space, clap_space: the spaces it reads and writes (e.g. ``clip.space``,
            ``clap.space`` of the encoders, or of the training embeddings).
        config: a config dataclass of that kind; or ``**overrides`` of its defaults.
    """
    if kind in list_configs() and kind not in MAPPER_KINDS:
        named = get_config(kind)
        if config is not None:
            raise ConfigError("pass either a named config or config=, not both")
        return create_mapper(named["kind"], clip_space, clap_space,
                             **{**named["mapper"], **overrides})
    if kind not in MAPPER_KINDS:
        raise ConfigError(f"unknown mapper kind {kind!r}; available: {', '.join(list_mappers())}")
    cls = MAPPER_KINDS[kind]
    if config is None:
        try:
            config = cls.config_class(**overrides)
        except TypeError as e:
            raise ConfigError(f"{kind} mapper: {e}") from None
    elif overrides:
        raise ConfigError("pass either config or keyword overrides, not both")
    return cls(config, clip_space, clap_space)
