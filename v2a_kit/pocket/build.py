"""``v2a-kit pocket build``: train the pocket world's foundation models from a seed.

Stages (each a real training run of the same classes the ``paper`` preset uses):

1. pocket-CLIP — open_clip ``CLIP`` (config ``pocket-clip``), contrastive on (image, caption);
2. pocket-CLAP — transformers ``ClapModel`` (``configs/pocket/clap.json``) with a byte-level BPE
   ``RobertaTokenizer`` trained on the audio captions, contrastive on (audio, caption);
3. pocket-AudioLDM — a diffusers ``UNet2DConditionModel`` over power-pooled log-mel latents,
   conditioned on pocket-CLAP **audio** embeddings with dropout to the CLAP text embedding of ""
   (see :mod:`v2a_kit.pocket.models.generator`);
4. the pocket evaluators — the tagger and the audio → pocket-CLIP-image encoder
   (:mod:`v2a_kit.pocket.models.evaluators`), on world seed ``EVALUATOR_SEED + seed``;
5. loudness calibration: pocket-AudioLDM's default ``guidance_rescale`` (Lin et al. 2023) is the
   candidate whose guided sounds, generated from training clips' CLAP audio embeddings, are
   most often right sound by sound — all five audible attributes heard by the tagger and the
   level within 3 dB of the clip's (``build.json``'s ``generator``, with every candidate's
   share right, level error, bias and RMS ratio);
6. the quality gates (:mod:`v2a_kit.pocket.gates`), measured on the written folder through the
   kit's loaders, so the figures are those of exactly what is shipped.

Output folder layout (safetensors + JSON, nothing pickled)::

    clip/model.safetensors             clip/config.json   (v2a-kit-pocket-clip-1)
    clap/model.safetensors             clap/config.json   clap/tokenizer.json
    audioldm/unet/ (diffusers)         audioldm/{vae,vocoder,scheduler}/ (configs)
    evaluators/tagger/                 evaluators/audio_to_image/  (safetensors + config.json)
    build.json                         seed, command, settings, timings and the quality gates

Seeds: training data is world seed ``seed``; the evaluators train on ``EVALUATOR_SEED + seed``;
the gates are measured on world seed ``seed + HELD_OUT_OFFSET``, which no model is trained on.
"""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..atomic import atomic_folder, recorded_path
from ..checkpoints import POCKET_CLAP_FORMAT, POCKET_CLIP_FORMAT, save_module
from ..configs import load_config
from ..devices import seeded
from ..errors import ConfigError
from ..settings import Rule
from .world.scenes import WORLD_VERSION, sample_world

__all__ = ["BuildConfig", "get_build_config", "build", "describe_build", "machine",
           "HELD_OUT_OFFSET"]

HELD_OUT_OFFSET = 1000


@dataclass(frozen=True)
class BuildConfig:
    """The build's settings, checked when made (a count or step number below 1, a learning
    rate not above 0, a share outside [0, 1) is refused naming it). The full build is sized to
    train in about 20 min on 2 CPU cores (``build.json``'s ``timings_s`` records each stage)."""

    num_train: int = 8192        # training pairs (world seed = the build seed)
    num_held_out: int = 1000     # gate pairs (world seed = seed + HELD_OUT_OFFSET)
    # pocket-CLIP: 1600 steps with shape siblings read shape 0.995 zero-shot (0.901 at 800;
    # the build before: 0.915 at 800 without siblings), held-out, one seed
    clip_steps: int = 1600       # pocket-CLIP optimiser steps, batch clip_batch
    clip_batch: int = 128
    clip_lr: float = 2e-3
    clip_siblings: float = 0.5   # batch share of sibling pairs (hard negatives), see below
    # siblings share these attributes and differ in the rest: shape, the one a picture shows in
    # the fewest pixels, becomes a hard negative
    clip_sibling_keys: tuple = (("colour", "count", "size"),)
    # pocket-CLAP: 2800 steps of the 16×16-patch audio tower (the cost of 1600 with 8×8 patches)
    # read size 0.988 and contour 0.996 zero-shot (0.907 / 0.916 before), one seed
    clap_steps: int = 2800
    clap_batch: int = 128
    clap_lr: float = 2e-3
    clap_siblings: float = 0.5
    # taken in turn, one per step: siblings that differ in the heard-only contour (same seen
    # attributes), then siblings that differ in size, i.e. loudness (same all else)
    clap_sibling_keys: tuple = (("shape", "colour", "count", "size"),
                                ("shape", "colour", "count", "contour"))
    clap_vocab: int = 1000       # BPE vocabulary cap (the captions need ~400)
    # 2800: from true CLAP audio embeddings, all five attributes right 0.55 vs 0.42 at 1700
    # steps (150 held-out clips, the build's gates; contour 0.86 vs 0.77, size 0.70 vs 0.61)
    unet_steps: int = 2800
    unet_batch: int = 64
    unet_lr: float = 1e-3
    cond_dropout: float = 0.1    # probability of the empty-prompt condition (for CFG)
    rescale_grid: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)  # φ candidates, calibrated
    calibration_clips: int = 96  # training clips generated per φ to calibrate loudness
    eval_clips: int = 1536       # evaluator training clips (+ as many vocoded copies)
    tagger_steps: int = 400
    a2i_steps: int = 400
    gate_generate: int = 150     # held-out clips generated for, from audio and from text

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v, name = getattr(self, f.name), f"BuildConfig.{f.name}"
            if f.name.endswith("_lr"):
                Rule(float, 0, above=True, what="a learning rate").check(name, v)
            elif f.name in ("clip_siblings", "clap_siblings", "cond_dropout"):
                Rule(float, 0, 1, below=True, what="a share of each batch").check(name, v)
            elif f.name == "rescale_grid":
                if not v:
                    raise ConfigError(f"{name} is empty; expected guidance rescales in [0, 1]")
                for x in v:
                    Rule(float, 0, 1, what="a guidance rescale").check(name, x)
            elif f.type in ("int", int):
                Rule(int, 1).check(name, v)


def get_build_config(fast: bool = False) -> BuildConfig:
    """The full build, or FAST: a few steps of everything (tests, CI)."""
    if not fast:
        return BuildConfig()
    return BuildConfig(num_train=256, num_held_out=64, clip_steps=3, clip_batch=32,
                       clap_steps=3, clap_batch=32, unet_steps=3, unet_batch=16,
                       eval_clips=64, tagger_steps=3, a2i_steps=3, gate_generate=8,
                       calibration_clips=8)


def _clip_prep(images: np.ndarray) -> torch.Tensor:
    """uint8 (b, 64, 64, 3) -> what open_clip's validation transform gives at 64 px."""
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
    x = torch.as_tensor(images).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(OPENAI_DATASET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def clap_features(fe, audio: np.ndarray, chunk: int = 512) -> torch.Tensor:
    return torch.cat([fe(list(audio[i:i + chunk]), sampling_rate=fe.sampling_rate,
                         return_tensors="pt")["input_features"]
                      for i in range(0, len(audio), chunk)])


@contextmanager
def _timed(timings: dict, key: str):
    """Record the wall time of the ``with`` body in ``timings[key]`` (seconds)."""
    t0 = time.perf_counter()
    yield
    timings[key] = time.perf_counter() - t0


def _build_clip(tmp: Path, train, cfg: BuildConfig, seed: int, progress: bool):
    """Stage 1: train pocket-CLIP on (image, caption) and write ``clip/``."""
    import open_clip

    from ..models.clip import register_kit_configs
    from .models.contrastive import train_clip

    register_kit_configs()
    with seeded(seed):
        clip = open_clip.create_model("pocket-clip")
    clip_tok = open_clip.get_tokenizer("pocket-clip")
    train_clip(clip, _clip_prep, clip_tok, train.images, train.image_captions,
               steps=cfg.clip_steps, batch_size=cfg.clip_batch, lr=cfg.clip_lr, seed=seed,
               progress=progress, groups=_sibling_groups(train, cfg.clip_sibling_keys,
                                                         cfg.clip_siblings),
               sibling_fraction=cfg.clip_siblings)
    save_module(tmp / "clip", clip.state_dict(),
                {"architecture": "pocket-clip", **load_config("open_clip/pocket-clip.json")},
                format=POCKET_CLIP_FORMAT)
    return clip


def _build_clap(tmp: Path, train, cfg: BuildConfig, seed: int, progress: bool):
    """Stage 2: train a BPE tokenizer and pocket-CLAP on (audio, caption); write ``clap/``.

    Returns the model, its tokenizer, the training audio's CLAP input features and the config.
    """
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    from ..tokenizers import train_bpe_tokenizer
    from .models.contrastive import train_clap

    c = load_config("pocket/clap.json")
    tok = train_bpe_tokenizer(train.audio_captions, vocab_size=cfg.clap_vocab)
    c["text_config"]["vocab_size"] = len(tok)
    with seeded(seed):
        clap = ClapModel(ClapConfig(text_config=c["text_config"],
                                    audio_config=c["audio_config"],
                                    projection_dim=c["projection_dim"]))
    fe = ClapFeatureExtractor(**c["feature_extractor"])
    feats = clap_features(fe, train.audio)
    # Siblings (pairs that share every seen attribute) make the heard-only contour a hard
    # negative: in a random batch two sounds of one seen combination rarely meet, and pocket-CLAP
    # then learns the contour last, if at all (measured on world v2's first build: contour
    # zero-shot 0.56 with random batches, 0.70 with half the batch siblings, after 900 steps);
    # siblings that differ only in size do the same for loudness
    train_clap(clap, feats, tok, train.audio_captions, steps=cfg.clap_steps,
               batch_size=cfg.clap_batch, lr=cfg.clap_lr, seed=seed, progress=progress,
               groups=_sibling_groups(train, cfg.clap_sibling_keys, cfg.clap_siblings),
               sibling_fraction=cfg.clap_siblings)
    save_module(tmp / "clap", clap.state_dict(), {"class": "ClapModel", **c},
                format=POCKET_CLAP_FORMAT)
    tok.backend_tokenizer.save(str(tmp / "clap" / "tokenizer.json"))
    return clap, tok, feats, c


def _sibling_groups(train, keys, share: float):
    """The sibling groups of each key set (in turn, one per step), or None when ``share`` is 0."""
    from .models.contrastive import sibling_groups
    return [sibling_groups(train.labels, k) for k in keys] if share > 0 and keys else None


def clap_conditions(clap, tok, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The generator's conditions: unit CLAP audio embeddings of the training clips, and the
    unit CLAP text embedding of "" (the null condition for classifier-free guidance)."""
    with torch.no_grad():
        cond = torch.cat([F.normalize(clap.get_audio_features(
            input_features=feats[i:i + 256]).pooler_output, dim=-1)
            for i in range(0, len(feats), 256)])
        empty = tok([""], return_tensors="pt")
        null = F.normalize(clap.get_text_features(
            input_ids=empty["input_ids"], attention_mask=empty["attention_mask"]
        ).pooler_output[0], dim=0)
    return cond, null


def standardised_latents(audio: np.ndarray, latent_channels: int = 1):
    """The power-pooled log-mel autoencoder fitted to ``audio``, and the audio's latents."""
    from .models.audio import log_mel
    from .models.generator import PowerPoolAutoencoder

    mel = torch.cat([log_mel(a) for a in torch.as_tensor(audio).split(512)])
    raw = PowerPoolAutoencoder(shift=0.0, scale=1.0, latent_channels=latent_channels)
    z = raw.encode(mel.transpose(1, 2)[:, None]).latents
    # standardise the latents over the training set (AudioLDM's VAE scaling factor plays
    # this role): unit spread is what the noise schedule assumes
    stats = dict(shift=round(float(z[:, 0].mean()), 4), scale=round(float(z[:, 0].std()), 4))
    if latent_channels == 2:
        gain = z[:, 1, 0, 0]
        stats.update(gain_shift=round(float(gain.mean()), 4),
                     gain_scale=round(float(gain.std()), 4))
    vae = PowerPoolAutoencoder(latent_channels=latent_channels, **stats)
    return vae, vae.encode(mel.transpose(1, 2)[:, None])


def _build_audioldm(tmp: Path, train, clap, tok, feats, projection_dim: int,
                    cfg: BuildConfig, seed: int, progress: bool) -> None:
    """Stage 3: train pocket-AudioLDM on pocket-CLAP audio embeddings; write ``audioldm/``."""
    from diffusers import DDIMScheduler

    from ..models.clap import clap_text_tower
    from .models.generator import GriffinLimVocoder, build_unet, train_generator

    cond, null = clap_conditions(clap, tok, feats)
    vae, latents = standardised_latents(train.audio)
    sched = DDIMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction",
                          clip_sample=False, set_alpha_to_one=False)
    ema, _ = train_generator(build_unet(projection_dim, seed=seed), sched,
                             latents.latents, cond, null, steps=cfg.unet_steps,
                             batch_size=cfg.unet_batch, lr=cfg.unet_lr,
                             cond_dropout=cfg.cond_dropout, seed=seed, progress=progress)
    ldm = tmp / "audioldm"
    ema.save_pretrained(ldm / "unet", safe_serialization=True)
    vae.save_config(ldm / "vae")
    GriffinLimVocoder().save_config(ldm / "vocoder")
    sched.save_config(ldm / "scheduler")
    clap_text_tower(clap)  # the generator's text encoder is this tower: not stored twice


def _build_evaluators(tmp: Path, clip, cfg: BuildConfig, seed: int, progress: bool) -> None:
    """Stage 4: train the tagger and the audio → pocket-CLIP-image encoder on world seed
    ``EVALUATOR_SEED + seed`` (nothing they judge is drawn from it); write ``evaluators/``."""
    from .models.evaluators import (
        EVALUATOR_SEED,
        evaluator_data,
        save_evaluator,
        train_audio_to_image,
        train_tagger,
    )

    data = evaluator_data(cfg.eval_clips, EVALUATOR_SEED + seed)
    tagger, _ = train_tagger(seed=data.seed, steps=cfg.tagger_steps, data=data,
                             progress=progress)
    save_evaluator(tagger, tmp / "evaluators" / "tagger")
    with torch.no_grad():
        pair_img = F.normalize(clip.encode_image(_clip_prep(data.batch.images)), dim=-1)
    a2i, _ = train_audio_to_image(pair_img, data.batch.audio, seed=data.seed,
                                  steps=cfg.a2i_steps, mels=data.mels, progress=progress)
    save_evaluator(a2i, tmp / "evaluators" / "audio_to_image")


def machine() -> dict:
    """What a build ran on — the CPU model, its cores, torch's version and build, the threads
    torch used, numpy, Python and the platform: what decides whether a rebuild reproduces the
    shipped weights bit for bit (the same seed on another CPU or torch build gives other
    weights; see the README's "Rebuilding the pocket models")."""
    import os
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_cuda": torch.version.cuda, "torch_threads": torch.get_num_threads(),
            "numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform()}


def _refuse_other_world(out_dir: Path) -> None:
    """A build replaces ``out_dir`` whole; refuse when it holds a build of another world version
    (its mappers and notebooks' figures belong to that world: remove it on purpose)."""
    from .models.loading import check_world_version
    if (out_dir / "build.json").is_file():
        try:
            check_world_version(out_dir)
        except ConfigError as e:
            raise ConfigError(f"refusing to replace {out_dir}: {e}. Remove the folder first, or "
                              "choose another -o") from None


def build(out_dir, seed: int = 0, fast: bool = False, progress: bool = True) -> dict:
    """Train every pocket model from ``seed`` into ``out_dir`` (written atomically as a whole:
    a temporary folder renamed into place, so an interrupted build leaves nothing half-written).

    Returns:
        the report written to ``build.json``.
    """
    from .gates import calibrate_guidance_rescale, measure_gates

    cfg = get_build_config(fast)
    out_dir = Path(out_dir)
    _refuse_other_world(out_dir)
    timings, report = {}, {"seed": seed, "fast": fast, "world_version": WORLD_VERSION,
                           "machine": machine(), "config": asdict(cfg),
                           "command": f"v2a-kit pocket build -o {recorded_path(out_dir)} "
                                      f"--seed {seed}" + (" --fast" if fast else "")}
    with atomic_folder(out_dir) as tmp:
        with _timed(timings, "data_s"):
            train = sample_world(cfg.num_train, seed)
            held = sample_world(cfg.num_held_out, seed + HELD_OUT_OFFSET)
        with _timed(timings, "clip_s"):
            clip = _build_clip(tmp, train, cfg, seed, progress)
        with _timed(timings, "clap_s"):
            clap, tok, feats, clap_config = _build_clap(tmp, train, cfg, seed, progress)
        with _timed(timings, "audioldm_s"):
            _build_audioldm(tmp, train, clap, tok, feats, clap_config["projection_dim"],
                            cfg, seed, progress)
        with _timed(timings, "evaluators_s"):
            _build_evaluators(tmp, clip, cfg, seed, progress)

        # 5. loudness calibration, then the gates, on what was written, through the kit's
        # loaders (which need build.json)
        with _timed(timings, "calibration_s"):
            (tmp / "build.json").write_text(json.dumps(report, indent=2))
            report["generator"] = calibrate_guidance_rescale(
                tmp, train.audio[:cfg.calibration_clips], cfg.rescale_grid,
                labels={a: y[:cfg.calibration_clips] for a, y in train.labels.items()})
        with _timed(timings, "gates_s"):
            (tmp / "build.json").write_text(json.dumps(report, indent=2))
            report["gates"] = measure_gates(tmp, held_out=held, num_generate=cfg.gate_generate)
            report["gates"]["settings"]["held_out_seed"] = seed + HELD_OUT_OFFSET

        report["timings_s"] = timings
        (tmp / "build.json").write_text(json.dumps(report, indent=2))
        (tmp / "README.md").write_text(describe_build(report))
    return report


_GATE_ROWS = (("clip_zero_shot", "pocket-CLIP zero-shot, held-out images"),
              ("clap_zero_shot", "pocket-CLAP zero-shot, held-out audio"),
              ("tagger_real", "tagger on real held-out audio"),
              ("embedding_ceiling", "probes on the true pocket-CLAP audio embeddings (embedding "
                                    "ceiling)"),
              ("clip_probe", "probes on the pocket-CLIP image embeddings"),
              ("ceiling", "tagger on real audio through the generator's decoding "
                          "(representation ceiling)"),
              ("generated_from_audio", "tagger on audio generated from CLAP audio embeddings"),
              ("generated_from_text", "tagger on audio generated from CLAP text embeddings"),
              ("nearest_image", "audio→image evaluator: nearest held-out image's attributes"))


def _loudness_line(g: dict, s: dict) -> list[str]:
    loud = g["loudness"]
    lines = [f"Loudness at guidance {s['guidance_scale']} (rescale "
             f"{s.get('guidance_rescale', 0.0)}): generated RMS {loud['generated_rms']:.4f} vs "
             f"real {loud['real_rms']:.4f} (ratio {loud['ratio']:.2f})."]
    if "level_within_3db" in loud:
        lines.append(f"Sound by sound, generated from each clip's CLAP audio embedding: "
                     f"{loud['level_within_3db']:.0%} within ± 3 dB of the real clip's level "
                     f"(median error {loud['level_median_abs_db']:.1f} dB, 90th percentile "
                     f"{loud['level_p90_abs_db']:.1f} dB); the peak limiter scaled down "
                     f"{loud['limited']:.0%}.")
    emb = g.get("embedding_ceiling", {})
    if "level_within_3db" in emb:
        lines.append(f"The loudness a probe reads from the true embeddings: "
                     f"{emb['level_within_3db']:.0%} within ± 3 dB.")
    return [*lines, ""]


def describe_build(report: dict) -> str:
    """The build folder's README.md: seed, command, gates and timings, from ``build.json``."""
    g, s = report["gates"], report["gates"]["settings"]
    # null: a build of world v1 made while the kit's default was the gates' 25 steps
    steps = s["num_inference_steps"] or 25
    attrs = [a for a in g["clap_zero_shot"] if a != "all"] + ["all"]
    fast = " (FAST: a few steps of everything)" if report["fast"] else ""
    lines = ["# A pocket build", "",
             "Written by `v2a-kit pocket build` from `build.json` (never edited by hand).", "",
             f"- seed: {report['seed']}{fast}",
             f"- command: `{report['command']}`",
             f"- gates measured on {s['num_held_out']} held-out pairs of world seed "
             f"{s['held_out_seed']}; generation on the first {s['num_generate']} of them, "
             f"{s['scheduler']} {steps} steps, guidance "
             f"{s['guidance_scale']}, noise seed {s['generation_seed']}", "",
             f"World version {report.get('world_version', 1)}. pocket-CLIP is judged on the "
             "four seen-and-heard attributes (contour: —); the rest on all five audible ones, "
             "except the nearest image, which shows only the seen ones.", "",
             "| gate | " + " | ".join(attrs) + " |", "|---" * (len(attrs) + 1) + "|"]
    for key, label in _GATE_ROWS:
        if key in g:  # "ceiling" is absent from builds that predate it
            lines.append(f"| {label} | " + " | ".join(
                f"{g[key][a]:.3f}" if a in g[key] else "—" for a in attrs) + " |")
    a2i = g["audio_to_image"]
    lines += ["", f"Audio→image evaluator (CS role): mean cosine to the paired image "
                  f"{a2i['paired_cosine']:.3f}, to other images {a2i['unpaired_cosine']:.3f}.", "",
              *(_loudness_line(g, s) if "loudness" in g else []),
              "Timings (s): " + ", ".join(f"{k[:-2]} {v:.0f}"
                                         for k, v in report["timings_s"].items()) + "."]
    return "\n".join(lines) + "\n"
