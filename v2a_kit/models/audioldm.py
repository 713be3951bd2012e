"""Building AudioLDM generators: AudioLDM-S-full-v2 (a diffusers snapshot, or its architecture at
random init) and the ``tiny`` one; :func:`assemble` makes any set of components a generator.

An AudioLDM is a UNet (``class_embed_type="simple_projection"``, conditioned on a CLAP embedding),
a mel VAE, a vocoder, the text tower of its own CLAP, a tokenizer and a scheduler. The CLAP space
its condition lives in is given by the caller (:mod:`v2a_kit.registry`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..configs import load_config
from ..devices import default_dtype, resolve_device, seeded
from ..errors import ConfigError
from ..generation import AudioLDMGenerator
from ..spaces import Space
from ..tokenizers import byte_level_roberta_tokenizer, check_tokenizer
from ..weights import hub_snapshot
from .clap import build_tiny_clap_model, clap_text_tower

__all__ = ["assemble", "build_tiny_audioldm", "build_paper_audioldm", "PAPER_REPO"]

PAPER_REPO = "cvssp/audioldm-s-full-v2"


def _components(cfg: dict, text_encoder, tokenizer, seed: int) -> dict:
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig
    with seeded(seed):
        unet = UNet2DConditionModel(**cfg["unet"])
        vae = AutoencoderKL(**cfg["vae"])
        vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(**cfg["vocoder"]))
    return dict(unet=unet, vae=vae, vocoder=vocoder, text_encoder=text_encoder,
                tokenizer=tokenizer, scheduler=DDIMScheduler(**cfg["scheduler"]))


def assemble(parts: dict, space: Space, device, dtype, name: str, source: dict,
             length_limit_s: float | None = None) -> AudioLDMGenerator:
    """Components (``unet``, ``vae``, ``vocoder``, ``text_encoder``, ``tokenizer``,
    ``scheduler``) -> an :class:`AudioLDMGenerator` on ``device`` in ``dtype``, checked to take
    ``space``'s embeddings; ``length_limit_s``: the longest sound it makes in one piece, when
    not the length its UNet's ``sample_size`` stands for."""
    dev = resolve_device(device)
    # One dtype for every component, as diffusers runs the pipeline (float16 on CUDA); the
    # pipeline only casts the waveform back to float32, which generate() does too.
    dt = dtype or default_dtype(dev)
    for k in ("unet", "vae", "vocoder", "text_encoder"):
        # nn.Module.to: diffusers' own to(dtype) warns about an empty list of fp32 modules
        parts[k] = torch.nn.Module.to(parts[k], dev, dt).eval().requires_grad_(False)
    unet_dim = parts["unet"].config.projection_class_embeddings_input_dim
    if unet_dim != space.dim or parts["unet"].config.class_embed_type != "simple_projection":
        raise ConfigError(f"{name}: the UNet takes {unet_dim}-d 'simple_projection' class labels, "
                          f"its CLAP space {space} is {space.dim}-d")
    vae_scale_factor = 2 ** (len(parts["vae"].config.block_out_channels) - 1)
    return AudioLDMGenerator(
        parts["unet"], parts["vae"], parts["vocoder"], parts["text_encoder"], parts["tokenizer"],
        parts["scheduler"], space, dev, dt, int(parts["vocoder"].config.sampling_rate),
        vae_scale_factor, name, source, length_limit_s)


def build_tiny_audioldm(name: str, space: Space, *, seed: int = 0, device=None,
                        dtype: torch.dtype | None = None) -> AudioLDMGenerator:
    """The ``tiny`` AudioLDM; its text encoder is the tiny CLAP's own text tower (same weights),
    so it is conditioned in the tiny CLAP's space."""
    clap = build_tiny_clap_model(seed)
    cfg = load_config("audioldm-tiny.json")
    cfg["unet"]["projection_class_embeddings_input_dim"] = clap.config.projection_dim
    parts = _components(cfg, clap_text_tower(clap), byte_level_roberta_tokenizer(), seed)
    return assemble(parts, space, device, dtype, name, {"kind": "random-init", "seed": seed})


def _paper_random_init(space: Space, seed: int, device, dtype, limit) -> AudioLDMGenerator:
    from transformers import ClapTextConfig, ClapTextModelWithProjection
    cfg = load_config("audioldm-s.json")
    with seeded(seed):
        text = ClapTextModelWithProjection(ClapTextConfig(**cfg["text_encoder"]))
    parts = _components(cfg, text, byte_level_roberta_tokenizer(), seed)
    return assemble(parts, space.with_checkpoint(f"random-init:seed={seed}"), device, dtype,
                    PAPER_REPO, {"kind": "random-init", "seed": seed}, limit)


def _check_is_audioldm_s(folder) -> None:
    """Refuse another AudioLDM (m, l, v1...) placed where AudioLDM-S-full-v2 was expected."""
    from diffusers import UNet2DConditionModel
    expected = load_config("audioldm-s.json")["unet"]
    got = UNet2DConditionModel.load_config(folder, subfolder="unet")
    diff = {k: got.get(k) for k in ("in_channels", "block_out_channels", "class_embed_type",
                                    "projection_class_embeddings_input_dim")
            if np.atleast_1d(got.get(k)).tolist() != np.atleast_1d(expected[k]).tolist()}
    if diff:
        raise ConfigError(f"the AudioLDM at {folder} is not AudioLDM-S (configs/audioldm-s.json): "
                          f"its UNet differs in {diff}")


def _paper_pretrained(space: Space, weights, device, dtype, limit) -> AudioLDMGenerator:
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import AutoTokenizer, ClapTextModelWithProjection, SpeechT5HifiGan
    folder = hub_snapshot(PAPER_REPO, what="AudioLDM-S-full-v2", local=weights, required=(
        "unet/config.json", "vae/config.json", "vocoder/config.json", "text_encoder/config.json",
        "scheduler/scheduler_config.json", "tokenizer/tokenizer_config.json"))
    _check_is_audioldm_s(folder)
    kw = {"local_files_only": True}
    tok = AutoTokenizer.from_pretrained(folder, subfolder="tokenizer", **kw)
    check_tokenizer(tok, f"tokenizer of {PAPER_REPO}")
    parts = dict(
        unet=UNet2DConditionModel.from_pretrained(folder, subfolder="unet", **kw),
        vae=AutoencoderKL.from_pretrained(folder, subfolder="vae", **kw),
        vocoder=SpeechT5HifiGan.from_pretrained(folder, subfolder="vocoder", **kw),
        text_encoder=ClapTextModelWithProjection.from_pretrained(folder, subfolder="text_encoder",
                                                                 **kw),
        tokenizer=tok, scheduler=DDIMScheduler.from_pretrained(folder, subfolder="scheduler"))
    return assemble(parts, space, device, dtype, PAPER_REPO,
                    {"kind": "pretrained", "folder": str(folder)}, limit)


def build_paper_audioldm(space: Space, *, weights=None, random_init: bool = False, seed: int = 0,
                         length_limit_s: float | None = None, device=None,
                         dtype: torch.dtype | None = None) -> AudioLDMGenerator:
    """AudioLDM-S-full-v2 (``configs/audioldm-s.json``).

    Args:
        space: the CLAP space of the published model (its CLAP's).
        weights: a local copy of the diffusers snapshot (the folder with unet/, vae/, ...).
        random_init: the real architecture built offline at random init from ``seed``: real
            shapes, sizes and code paths, noise out; its space is ``space`` with checkpoint
            ``random-init:seed=N`` (another space).
        length_limit_s: the longest sound it is asked for in one piece.
    """
    if random_init:
        return _paper_random_init(space, seed, device, dtype, length_limit_s)
    return _paper_pretrained(space, weights, device, dtype, length_limit_s)
