"""The direct baseline: pocket-AudioLDM conditioned on pocket-CLIP image embeddings, no mapper.

Im2Wav (Sheffer & Adi 2023) trains a whole generator on visual features; V2A-Mapper trains only
a mapper between frozen foundation models. This is Im2Wav's idea at pocket size: the pocket UNet
(``UNET_CONFIG``, :func:`v2a_kit.pocket.models.generator.build_unet`), its class embedding taking
the ``d_clip``-d pocket-CLIP **image** embedding where pocket-AudioLDM's takes the pocket-CLAP audio
one, trained from scratch by the same code
(:func:`~v2a_kit.pocket.models.generator.train_generator`;
:func:`v2a_kit.pocket.efficiency.train_direct`). Its null condition for classifier-free guidance
is pocket-CLIP's text embedding of "" (AudioLDM's is its CLAP's). The parameter-free parts —
the power-pool autoencoder, the Griffin-Lim vocoder and the noise schedule — are the pocket
build's, so its sounds are decoded exactly as pocket-AudioLDM's are, and it samples with the
build's guidance rescale, as pocket-AudioLDM does.

A trained one is a checkpoint folder of format ``v2a-kit-direct-1`` (:mod:`v2a_kit.checkpoints`):
the UNet's weights, its config, the CLIP space it reads and the null embedding.
:func:`load_direct_folder` returns an :class:`~v2a_kit.generation.AudioLDMGenerator` whose
``space`` is that CLIP space, so ``generate(direct, clip_embed)`` runs it, and a CLAP embedding
(or a mapper checkpoint) given to it is refused naming both. The registry's ``pocket-direct``
(kind ``direct``) ends here.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ...checkpoints import DIRECT_FORMAT, WEIGHTS, read_config, read_weights, save_module
from ...devices import seeded
from ...errors import ConfigError
from ...generation import AudioLDMGenerator
from ...spaces import Space, check_same_space
from .generator import UNET_CONFIG, GriffinLimVocoder, PowerPoolAutoencoder, build_unet

__all__ = ["DIRECT_KIND", "build_direct_unet", "save_direct", "load_direct_folder",
           "build_pocket_direct", "is_direct"]

DIRECT_KIND = "direct"


class _NoText(torch.nn.Module):
    """The text-encoder slot of a generator that has no text condition: refuses, saying why."""

    def forward(self, *args, **kwargs):
        raise ConfigError("the direct baseline is conditioned on pocket-CLIP image embeddings; "
                          "it has no text encoder (give it clip_embed, not a prompt)")


def _no_tokenizer(*args, **kwargs):
    _NoText()()


_no_tokenizer.model_max_length = 77


def build_direct_unet(clip_dim: int, seed: int = 0, latent_frames: int = 25):
    """The pocket UNet at random init, its condition a ``clip_dim``-d image embedding."""
    if isinstance(clip_dim, bool) or not isinstance(clip_dim, int) or clip_dim < 1:
        raise ConfigError(f"clip_dim={clip_dim!r}; expected an int ≥ 1 (the CLIP space's dim)")
    return build_unet(clip_dim, latent_frames=latent_frames, seed=seed)


def save_direct(unet, folder, clip_space: Space, null_embed: torch.Tensor,
                extra: dict | None = None) -> Path:
    """Write a trained direct baseline (``unet``: its weights, the EMA the training returns) as
    a ``v2a-kit-direct-1`` checkpoint folder, as one unit."""
    null = torch.as_tensor(null_embed, dtype=torch.float32).reshape(-1)
    if len(null) != clip_space.dim:
        raise ConfigError(f"null_embed has {len(null)} values; the CLIP space {clip_space} is "
                          f"{clip_space.dim}-d")
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in dict(unet.config).items()
              if not k.startswith("_")}
    return save_module(folder, unet.state_dict(),
                       {"kind": DIRECT_KIND, "unet": config, "clip_space": clip_space.to_dict(),
                        "null_embed": [round(float(x), 7) for x in null],
                        "extra": extra or {}}, format=DIRECT_FORMAT)


def is_direct(model) -> bool:
    """Whether ``model`` is a loaded direct baseline (a generator conditioned on CLIP)."""
    return isinstance(model, AudioLDMGenerator) and model.space.family == "clip"


def _assemble(unet, clip_space: Space, null: torch.Tensor, weights, device, name: str,
              source: dict) -> AudioLDMGenerator:
    from diffusers import DDIMScheduler

    from ...models.audioldm import assemble
    from .loading import pocket_dir
    folder = pocket_dir(weights) / "audioldm"
    parts = dict(
        unet=unet,
        vae=PowerPoolAutoencoder.from_config(PowerPoolAutoencoder.load_config(folder / "vae")),
        vocoder=GriffinLimVocoder.from_config(GriffinLimVocoder.load_config(folder / "vocoder")),
        text_encoder=_NoText(), tokenizer=_no_tokenizer,
        scheduler=DDIMScheduler.from_config(DDIMScheduler.load_config(folder / "scheduler")))
    gen = assemble(parts, clip_space, device, torch.float32, name, source)
    gen._empty_prompt_embed = torch.nn.functional.normalize(null.float(), dim=0)[None]
    # the same sampling recipe as pocket-AudioLDM: the build's calibrated guidance rescale
    build = json.loads((pocket_dir(weights) / "build.json").read_text())
    gen.guidance_rescale = float(build.get("generator", {}).get("guidance_rescale", 0.0))
    return gen


def load_direct_folder(folder, *, clip_space: Space | None = None, weights=None, device=None,
                       name: str = "pocket-direct") -> AudioLDMGenerator:
    """Load a direct-baseline checkpoint (:func:`save_direct`) as a generator in its CLIP space.

    Args:
        clip_space: the space you will condition it with (``clip.space``); another is refused,
            naming both.
        weights: the pocket build whose autoencoder, vocoder and schedule decode it (the shipped
            one when None).
    Raises:
        WeightsNotFoundError: files missing. ConfigError: a mapper's (or another) checkpoint,
        naming both kinds; a config that is not a direct baseline's; weights that do not fit.
        SpaceMismatchError: another CLIP space.
    """
    from diffusers import UNet2DConditionModel

    folder = Path(folder)
    meta = read_config(folder, format=DIRECT_FORMAT, what="direct baseline")
    try:
        if meta["kind"] != DIRECT_KIND:
            raise ValueError(f"kind {meta['kind']!r}")
        space = Space.from_dict(meta["clip_space"])
        null = torch.tensor(meta["null_embed"], dtype=torch.float32)
        unet_config = dict(meta["unet"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{folder / 'config.json'} is not a v2a-kit direct-baseline config "
                          f"({type(e).__name__}: {e})") from None
    if space.family != "clip":
        raise ConfigError(f"{folder} reads a {space.family!r} space ({space}); a direct baseline "
                          "reads CLIP image embeddings")
    if clip_space is not None:
        check_same_space(clip_space, space, f"direct baseline {folder} reads CLIP embeddings "
                                            "that")
    state = read_weights(folder, meta)
    try:
        with seeded(0):  # the random init, overwritten next, leaves the caller's RNG alone
            unet = UNet2DConditionModel.from_config(unet_config)
        unet.load_state_dict(state, strict=True)
    except Exception as e:
        raise ConfigError(f"{folder / WEIGHTS} does not fit the direct baseline's UNet: "
                          f"{str(e).splitlines()[0]}") from None
    return _assemble(unet.eval(), space, null, weights, device, name,
                     {"folder": str(folder), "extra": json.dumps(meta.get("extra", {}))[:200]})


def build_pocket_direct(name: str, *, folder=None, weights=None, device=None,
                        random_init: bool = False, seed: int = 0) -> AudioLDMGenerator:
    """The registry's builder: a trained direct baseline from ``folder``, or with
    ``random_init=True`` the untrained architecture (seed ``seed``) conditioned on the build's
    pocket-CLIP space and its text embedding of "" (for shapes, parameter counts and tests).
    No direct baseline ships with the kit: ``benchmarks/bench_efficiency.py`` trains them."""
    if folder is not None and random_init:
        raise ConfigError("give folder= (a trained direct baseline) or random_init=True, not both")
    if folder is not None:
        return load_direct_folder(folder, weights=weights, device=device, name=name)
    if not random_init:
        raise ConfigError(f"{name}: no direct baseline ships with the kit; give folder= (one "
                          "trained by benchmarks/bench_efficiency.py or train_direct) or "
                          "random_init=True")
    from .loading import build_pocket_clip
    clip = build_pocket_clip(weights=weights, device="cpu")
    null = clip.encode_text([""], progress=False).embeds[0]
    unet = build_direct_unet(clip.space.dim, seed=seed)
    return _assemble(unet, clip.space, null, weights, device, name,
                     {"kind": "random-init", "seed": seed, "unet": sorted(UNET_CONFIG)})
