"""What every V2A-Mapper shares: spaces, the one interface, checkpoints.

Both mapper kinds are ``nn.Module`` subclasses of :class:`Mapper`:

- ``loss = mapper(clip_embed, clap_embed)`` — the training loss on a batch of pairs;
- ``pred_clap_embed = mapper.sample(clip_embed, ...)`` — (b · num_samples, d_clap), L2-normed,
  rows grouped by input (``num_samples`` rows for input 0, then input 1, ...);
- ``mapper.map(clip: Embeddings, ...) -> Embeddings`` in the mapper's CLAP space, refusing
  embeddings of any other CLIP space.

A mapper records the CLIP space it reads and the CLAP space it writes. Checkpoints are
:mod:`v2a_kit.checkpoints` folders of format ``v2a-kit-mapper-1``: ``model.safetensors`` +
``config.json`` (kind, config, both spaces, extra facts, the weights' sha256), written as a whole:
an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

import torch
from torch import nn

from ..checkpoints import CONFIG, MAPPER_FORMAT, WEIGHTS, read_config, read_weights, save_module
from ..devices import seeded
from ..errors import ConfigError, EmbeddingError
from ..spaces import Embeddings, Space, check_same_space, validate_embeds

__all__ = ["Mapper", "save_mapper", "load_mapper_folder", "MAPPER_KINDS"]

MAPPER_KINDS: dict[str, type] = {}   # kind -> class, filled by the modules that define them


class Mapper(nn.Module):
    """Base class: holds ``config`` (a dataclass), ``clip_space`` and ``clap_space``."""

    kind: str = ""
    config_class: type = object

    def __init__(self, config, clip_space: Space, clap_space: Space):
        super().__init__()
        for name, sp, family in (("clip_space", clip_space, "clip"),
                                 ("clap_space", clap_space, "clap")):
            if not isinstance(sp, Space) or sp.family != family:
                raise ConfigError(f"{name} must be a {family!r} Space, got {sp!r}")
        if not isinstance(config, self.config_class):
            raise ConfigError(f"config must be a {self.config_class.__name__}, got "
                              f"{type(config).__name__}")
        self.config, self.clip_space, self.clap_space = config, clip_space, clap_space

    @property
    def clip_dim(self) -> int:
        return self.clip_space.dim

    @property
    def clap_dim(self) -> int:
        return self.clap_space.dim

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _check_pair(self, clip_embed, clap_embed) -> tuple[torch.Tensor, torch.Tensor]:
        x = self._check_clip(clip_embed)
        if isinstance(clap_embed, Embeddings):
            check_same_space(self.clap_space, clap_embed.space, "clap_embed")
        y = validate_embeds(clap_embed, self.clap_dim, "clap_embed").to(x.device)
        if len(x) != len(y):
            raise EmbeddingError(f"clip_embed has {len(x)} rows but clap_embed has {len(y)}; "
                                 "need one CLAP embedding per CLIP embedding")
        return x, y

    def _check_clip(self, clip_embed) -> torch.Tensor:
        if isinstance(clip_embed, Embeddings):
            check_same_space(self.clip_space, clip_embed.space, "clip_embed")
        return validate_embeds(clip_embed, self.clip_dim, "clip_embed").to(self.device)

    def forward(self, clip_embed, clap_embed) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, clip_embed, **kwargs) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @torch.no_grad()
    def map(self, clip: Embeddings, batch_size: int = 1024, **kwargs) -> Embeddings:
        """CLIP embeddings -> predicted CLAP embeddings in ``clap_space`` (sources kept, each
        repeated ``num_samples`` times when sampling several)."""
        if not isinstance(clip, Embeddings):
            raise EmbeddingError(f"map() takes Embeddings (with their space), got "
                                 f"{type(clip).__name__}; use sample() for raw tensors")
        check_same_space(self.clip_space, clip.space, "clip embeddings")
        was = self.training
        self.eval()
        try:
            out = torch.cat([self.sample(chunk, **kwargs).cpu()
                             for chunk in clip.embeds.split(batch_size)])
        finally:
            self.train(was)
        k = len(out) // len(clip)
        sources = None if clip.sources is None else [s for s in clip.sources for _ in range(k)]
        return Embeddings(out, self.clap_space, sources)

    def describe(self) -> dict:
        return {"kind": self.kind, "config": asdict(self.config),
                "clip_space": self.clip_space.to_dict(), "clap_space": self.clap_space.to_dict()}


def _config_from_dict(cls, d: dict, where) -> object:
    known = {f.name for f in fields(cls)}
    unknown = set(d) - known
    if unknown:
        raise ConfigError(f"{where}: unknown {cls.__name__} fields {sorted(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def save_mapper(mapper: Mapper, folder, extra: dict | None = None) -> Path:
    """Write ``folder/model.safetensors`` + ``folder/config.json`` as a whole (atomically).

    Args:
        extra: JSON-able facts to keep beside the config (training history, command, data).
    """
    if not isinstance(mapper, Mapper):
        raise ConfigError(f"save_mapper takes a Mapper, got {type(mapper).__name__}")
    return save_module(folder, mapper.state_dict(), {**mapper.describe(), "extra": extra or {}},
                       format=MAPPER_FORMAT)


def load_mapper_folder(folder, *, kind: str | None = None, clip_space: Space | None = None,
                       clap_space: Space | None = None, device=None) -> Mapper:
    """Load the mapper checkpoint in ``folder``, in eval mode. (Presets and the shipped mappers
    are resolved by ``v2a_kit.registry.load_mapper``, which ends here.)

    Args:
        folder: a checkpoint folder (:func:`save_mapper`, ``v2a-kit train``).
        kind: insist on ``"regression"``, ``"diffusion"`` or ``"ridge"``.
        clip_space, clap_space: the spaces you will use it with (e.g. ``clip.space`` of your
            encoder); a checkpoint trained for other spaces is refused, naming both.
    Raises:
        WeightsNotFoundError: files missing. ConfigError: another kind, an unreadable config,
        or weights that are truncated or do not match it. SpaceMismatchError: other spaces.
    """
    folder = Path(folder)
    meta = read_config(folder, format=MAPPER_FORMAT, what="mapper")
    cfg_file = folder / CONFIG
    try:
        cls = MAPPER_KINDS[meta["kind"]]
        config = _config_from_dict(cls.config_class, meta["config"], cfg_file)
        spaces = Space.from_dict(meta["clip_space"]), Space.from_dict(meta["clap_space"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{cfg_file} is not a v2a-kit mapper config ({type(e).__name__}: "
                          f"{e})") from None
    if kind is not None and meta["kind"] != kind:
        raise ConfigError(f"{folder} holds a {meta['kind']} mapper; expected {kind}")
    if clip_space is not None:
        check_same_space(clip_space, spaces[0], f"mapper {folder} reads CLIP embeddings that")
    if clap_space is not None:
        check_same_space(clap_space, spaces[1], f"mapper {folder} writes CLAP embeddings that")
    state = read_weights(folder, meta)
    with seeded(0):  # the random initial weights, overwritten next, leave the caller's RNG alone
        mapper = cls(config, *spaces)
    try:
        mapper.load_state_dict(state, strict=True)
    except Exception as e:
        raise ConfigError(f"{folder / WEIGHTS} does not fit a {meta['kind']} mapper with "
                          f"{config}: {e}") from None
    mapper.extra = meta.get("extra", {})
    if device is not None:
        mapper.to(device)
    return mapper.eval()
