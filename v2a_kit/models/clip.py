"""Building CLIP encoders with open_clip: published weights, random init, the ``tiny`` config.

Every builder returns a :class:`~v2a_kit.encoders.ClipEncoder` on the requested device and dtype.
Random-init builds draw their weights from their own seed (:func:`~v2a_kit.devices.seeded`), so
they are reproducible and leave the caller's random stream untouched.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch

from ..devices import default_dtype, resolve_device, seeded
from ..encoders import ClipEncoder
from ..errors import ConfigError
from ..quiet import import_open_clip, open_clip_quietly
from ..spaces import Space
from ..weights import hub_file

__all__ = ["register_kit_configs", "open_clip_weights", "build_open_clip", "build_tiny_clip",
           "check_open_clip_name", "TINY_CLIP_ARCH"]

TINY_CLIP_ARCH = "v2a-tiny-ViT"  # configs/open_clip/v2a-tiny-ViT.json


def register_kit_configs() -> None:
    """Make the kit's open_clip model configs (``v2a_kit/configs/open_clip``: the tiny and the
    pocket CLIP) known to open_clip, once."""
    open_clip = import_open_clip()
    if TINY_CLIP_ARCH not in open_clip.list_models():
        open_clip.add_model_config(Path(str(resources.files("v2a_kit") / "configs" / "open_clip")))


def check_open_clip_name(name: str) -> tuple[str, str, dict]:
    """``"ARCH/TAG"`` -> (arch, tag, open_clip's pretrained config), or ConfigError naming what
    open_clip does not know."""
    open_clip = import_open_clip()
    arch, _, tag = name.partition("/")
    if arch not in open_clip.list_models():
        raise ConfigError(f"unknown open_clip architecture {arch!r} in {name!r}")
    cfg = open_clip.get_pretrained_cfg(arch, tag)
    if not cfg:
        raise ConfigError(f"open_clip has no pretrained tag {tag!r} for {arch}; known: "
                          f"{open_clip.list_pretrained_tags_by_model(arch)}")
    return arch, tag, cfg


def open_clip_weights(arch: str, tag: str, cfg: dict, weights) -> Path:
    """The local file of open_clip's ``arch``/``tag`` weights: ``weights`` if given, else the
    hub copy open_clip lists (cached, or downloaded when online)."""
    hub = cfg.get("hf_hub", "")
    what = f"CLIP {arch} ({tag})"
    if not hub:
        raise ConfigError(f"{what}: open_clip lists no hub copy; pass weights= a local file")
    repo_id, filename = hub.rstrip("/"), "open_clip_model.safetensors"
    if hub.count("/") >= 2 and not hub.endswith("/"):
        repo_id, filename = hub.rsplit("/", 1)
    return hub_file(repo_id, filename, what=what, local=weights)


def _encoder(model, preprocess, arch: str, space: Space, source: dict, device,
             dtype) -> ClipEncoder:
    open_clip = import_open_clip()
    dev = resolve_device(device)
    dt = dtype or default_dtype(dev)
    with open_clip_quietly():
        tokenizer = open_clip.get_tokenizer(arch)
    return ClipEncoder(model.to(dev, dt).eval(), preprocess, tokenizer, space, dev, dt,
                       source=source)


def build_open_clip(name: str, space: Space | None, *, weights=None, random_init: bool = False,
                    seed: int = 0, device=None, dtype: torch.dtype | None = None) -> ClipEncoder:
    """An open_clip ``"ARCH/TAG"`` with its published preprocessing.

    Args:
        space: the space of the published weights (``None``: named from arch and tag).
        weights: a local file (or folder holding it) instead of the hub's copy.
        random_init: the architecture with random weights drawn from ``seed``, offline; its
            space is ``space`` with checkpoint ``random-init:seed=N`` (another space).
    """
    open_clip = import_open_clip()
    arch, tag, cfg = check_open_clip_name(name)
    dim = open_clip.get_model_config(arch)["embed_dim"]
    space = space or Space("clip", f"open_clip/{arch}", tag, dim)
    path = None if random_init else open_clip_weights(arch, tag, cfg, weights)
    with seeded(seed), open_clip_quietly():  # a random init's draw; weights overwrite it all
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch, pretrained=str(path) if path else None,
            force_quick_gelu=bool(cfg.get("quick_gelu", False)),
            image_mean=cfg.get("mean"), image_std=cfg.get("std"),
            image_interpolation=cfg.get("interpolation"),
            image_resize_mode=cfg.get("resize_mode"))
    if random_init:
        space = space.with_checkpoint(f"random-init:seed={seed}")
        source = {"kind": "random-init", "seed": seed}
    else:
        source = {"kind": "pretrained", "file": str(path)}
    return _encoder(model, preprocess, arch, space, source, device, dtype)


def build_tiny_clip(space: Space, *, seed: int = 0, device=None,
                    dtype: torch.dtype | None = None) -> ClipEncoder:
    """The ``tiny`` CLIP: the kit's tiny ViT config at random init (real code paths, noise out)."""
    open_clip = import_open_clip()
    register_kit_configs()
    with seeded(seed), open_clip_quietly():
        model, _, preprocess = open_clip.create_model_and_transforms(TINY_CLIP_ARCH,
                                                                     pretrained=None)
    if model.text_projection.shape[1] != space.dim:
        raise ConfigError(f"the tiny CLIP config embeds into {model.text_projection.shape[1]} "
                          f"dimensions, its registered space {space} into {space.dim}")
    return _encoder(model, preprocess, TINY_CLIP_ARCH, space,
                    {"kind": "random-init", "seed": seed}, device, dtype)
