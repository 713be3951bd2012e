"""``v2a-kit pocket build``: train the pocket world's foundation models from a seed.

Stages (each a real training run of the same classes the ``paper`` preset uses):

1. pocket-CLIP — open_clip ``CLIP`` (config ``pocket-clip``), contrastive on (image, caption);
2. pocket-CLAP — transformers ``ClapModel`` (``configs/pocket/clap.json``) with a byte-level BPE
   ``RobertaTokenizer`` trained on the audio captions, contrastive on (audio, caption);
3. pocket-AudioLDM — a diffusers ``UNet2DConditionModel`` over power-pooled log-mel latents,
   conditioned on pocket-CLAP **audio** embeddings with dropout to the CLAP text embedding of ""
   (see :mod:`v2a_kit.pocket.generator`).

Output folder layout (safetensors + JSON, nothing pickled)::

    clip/open_clip_model.safetensors   clip/config.json
    clap/model.safetensors             clap/config.json   clap/tokenizer.json
    audioldm/unet/ (diffusers)         audioldm/{vae,vocoder,scheduler}/ (configs)
    build.json                         seed, command, settings, timings and the quality gates

Seeds: training data is world seed ``seed``; the gates are measured on world seed
``seed + HELD_OUT_OFFSET``, which no model is trained on.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..presets import load_config
from .world import ATTRIBUTES, sample_world

__all__ = ["BuildConfig", "get_build_config", "build", "HELD_OUT_OFFSET"]

HELD_OUT_OFFSET = 1000


@dataclass
class BuildConfig:
    num_train: int = 8192        # training pairs (world seed = the build seed)
    num_held_out: int = 1000     # gate pairs (world seed = seed + HELD_OUT_OFFSET)
    clip_steps: int = 1200       # pocket-CLIP optimiser steps, batch clip_batch
    clip_batch: int = 128
    clip_lr: float = 2e-3
    clap_steps: int = 1200
    clap_batch: int = 128
    clap_lr: float = 2e-3
    clap_vocab: int = 1000       # BPE vocabulary cap (the captions need ~400)
    unet_steps: int = 1700       # ~the spike's budget for the 4x4 latent
    unet_batch: int = 64
    unet_lr: float = 1e-3
    cond_dropout: float = 0.1    # probability of the empty-prompt condition (for CFG)


def get_build_config(fast: bool = False) -> BuildConfig:
    """The full build, or FAST: a few steps of everything (tests, CI)."""
    if not fast:
        return BuildConfig()
    return BuildConfig(num_train=256, num_held_out=64, clip_steps=3, clip_batch=32,
                       clap_steps=3, clap_batch=32, unet_steps=3, unet_batch=16)


def _clip_prep(images: np.ndarray) -> torch.Tensor:
    """uint8 (b, 64, 64, 3) -> what open_clip's validation transform gives at 64 px."""
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
    x = torch.as_tensor(images).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(OPENAI_DATASET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def _clap_features(fe, audio: np.ndarray, chunk: int = 512) -> torch.Tensor:
    return torch.cat([fe(list(audio[i:i + chunk]), sampling_rate=fe.sampling_rate,
                         return_tensors="pt")["input_features"]
                      for i in range(0, len(audio), chunk)])


def _combo_captions(kind: str):
    from .world import BACKGROUNDS, _captions

    def fn(combo):
        k = 8
        labels = {a: np.full(k, combo[a]) for a in ATTRIBUTES}
        bg = np.arange(k) % len(BACKGROUNDS) if kind == "image" else None
        return _captions(np.random.default_rng(0), labels, kind, background=bg)
    return fn


def _prompt_embeds(encode_text, prompts: list[list[str]]) -> torch.Tensor:
    return torch.stack([F.normalize(F.normalize(encode_text(p), dim=-1).mean(0), dim=0)
                        for p in prompts])


@torch.no_grad()
def _zero_shot(embeds, labels, encode_text, kind: str) -> dict[str, float]:
    from .contrastive import combo_prompts, zero_shot_accuracy
    combos, prompts = combo_prompts(ATTRIBUTES, _combo_captions(kind))
    return zero_shot_accuracy(embeds, labels, combos, _prompt_embeds(encode_text, prompts))


def build(out_dir, seed: int = 0, fast: bool = False, progress: bool = True) -> dict:
    """Train every pocket model from ``seed`` into ``out_dir`` (written atomically as a whole:
    a temporary folder renamed into place, so an interrupted build leaves nothing half-written).

    Returns:
        the report written to ``build.json``.
    """
    import open_clip
    from diffusers import DDIMScheduler
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    from ..encoders import _register_configs, clap_text_tower
    from ..tokenizers import train_bpe_tokenizer
    from .audio import log_mel
    from .contrastive import train_clap, train_clip
    from .generator import GriffinLimVocoder, PowerPoolAutoencoder, build_unet, train_generator

    cfg = get_build_config(fast)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pocket-build-", dir=out_dir.parent))
    timings, report = {}, {"seed": seed, "fast": fast, "config": asdict(cfg),
                           "command": " ".join(["v2a-kit", "pocket", "build"] + sys.argv[3:])}
    try:
        t0 = time.perf_counter()
        train = sample_world(cfg.num_train, seed)
        held = sample_world(cfg.num_held_out, seed + HELD_OUT_OFFSET)
        timings["data_s"] = time.perf_counter() - t0

        # 1. pocket-CLIP
        t0 = time.perf_counter()
        _register_configs()
        torch.manual_seed(seed)
        clip = open_clip.create_model("pocket-clip")
        clip_tok = open_clip.get_tokenizer("pocket-clip")
        train_clip(clip, _clip_prep, clip_tok, train.images, train.image_captions,
                   steps=cfg.clip_steps, batch_size=cfg.clip_batch, lr=cfg.clip_lr, seed=seed,
                   progress=progress)
        (tmp / "clip").mkdir()
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in clip.state_dict().items()},
                  str(tmp / "clip" / "open_clip_model.safetensors"))
        (tmp / "clip" / "config.json").write_text(json.dumps(
            {"architecture": "pocket-clip", **load_config("open_clip/pocket-clip.json")}))
        timings["clip_s"] = time.perf_counter() - t0
        with torch.no_grad():
            img = F.normalize(clip.encode_image(_clip_prep(held.images)), dim=-1)
        report["clip_zero_shot"] = _zero_shot(
            img, held.labels, lambda p: clip.encode_text(clip_tok(p)), "image")

        # 2. pocket-CLAP
        t0 = time.perf_counter()
        c = load_config("pocket/clap.json")
        tok = train_bpe_tokenizer(train.audio_captions, vocab_size=cfg.clap_vocab)
        c["text_config"]["vocab_size"] = len(tok)
        torch.manual_seed(seed)
        clap = ClapModel(ClapConfig(text_config=c["text_config"], audio_config=c["audio_config"],
                                    projection_dim=c["projection_dim"]))
        fe = ClapFeatureExtractor(**c["feature_extractor"])
        feats = _clap_features(fe, train.audio)
        train_clap(clap, feats, tok, train.audio_captions, steps=cfg.clap_steps,
                   batch_size=cfg.clap_batch, lr=cfg.clap_lr, seed=seed, progress=progress)
        (tmp / "clap").mkdir()
        save_file({k: v.contiguous() for k, v in clap.state_dict().items()},
                  str(tmp / "clap" / "model.safetensors"))
        (tmp / "clap" / "config.json").write_text(json.dumps(c))
        tok.backend_tokenizer.save(str(tmp / "clap" / "tokenizer.json"))
        timings["clap_s"] = time.perf_counter() - t0

        def clap_text(prompts):
            t = tok(prompts, padding=True, return_tensors="pt")
            return clap.get_text_features(input_ids=t["input_ids"],
                                          attention_mask=t["attention_mask"]).pooler_output

        with torch.no_grad():
            held_audio = F.normalize(clap.get_audio_features(
                input_features=_clap_features(fe, held.audio)).pooler_output, dim=-1)
        report["clap_zero_shot"] = _zero_shot(held_audio, held.labels, clap_text, "audio")

        # 3. pocket-AudioLDM, conditioned on pocket-CLAP audio embeddings
        t0 = time.perf_counter()
        with torch.no_grad():
            cond = torch.cat([F.normalize(clap.get_audio_features(
                input_features=feats[i:i + 256]).pooler_output, dim=-1)
                for i in range(0, len(feats), 256)])
            null = F.normalize(clap_text([""])[0], dim=0)
        vae = PowerPoolAutoencoder()
        latents = vae.encode(log_mel(torch.as_tensor(train.audio)).transpose(1, 2)[:, None])
        sched = DDIMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction",
                              clip_sample=False, set_alpha_to_one=False)
        ema, _ = train_generator(build_unet(c["projection_dim"], seed=seed), sched,
                                 latents.latents, cond, null, steps=cfg.unet_steps,
                                 batch_size=cfg.unet_batch, lr=cfg.unet_lr,
                                 cond_dropout=cfg.cond_dropout, seed=seed, progress=progress)
        ldm = tmp / "audioldm"
        ema.save_pretrained(ldm / "unet", safe_serialization=True)
        vae.save_config(ldm / "vae")
        GriffinLimVocoder().save_config(ldm / "vocoder")
        sched.save_config(ldm / "scheduler")
        clap_text_tower(clap)  # the generator's text encoder is this tower: not stored twice
        timings["audioldm_s"] = time.perf_counter() - t0

        report["timings_s"] = timings
        (tmp / "build.json").write_text(json.dumps(report, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return report
