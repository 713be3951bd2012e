"""What pocket-AudioLDM needs to follow its condition: an ablation of the generator.

Each variant of ``GENERATOR_VARIANTS`` trains the UNet the way ``v2a-kit pocket build`` does
(:func:`v2a_kit.pocket.models.generator.train_generator`, on the build's training clips and the
build's
own pocket-CLAP audio embeddings), changing one thing at a time, and is judged as the **oracle**:
sound generated from the true CLAP audio embeddings of held-out clips, beside the two ceilings —
the **representation ceiling** (real audio through the generator's own decoding) and the
**embedding ceiling** (what probes read from those embeddings, :mod:`v2a_kit.pocket.models.probes`).
Per variant and weights (the exponential moving average the build ships, and the raw last
weights): the tagger's accuracy on each audible attribute and all five at once, CS (the
audio→image evaluator against the image's pocket-CLIP embedding, × 100), FD of tagger features
against the clips' real audio (beside real audio's and the ceiling's, from other real sounds
of the same images), the level error sound by sound, the share the peak limiter touched, and
the training time. ``benchmarks/bench_generator.py`` runs it and writes
``generator_ablation.json`` into ``benchmarks/results``; :func:`ablation_table` renders it.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from ..atomic import recorded_path
from ..errors import ConfigError
from ..evaluation import extract, score
from ..evaluation.labels import header
from ..generation import generate, peak_warnings_off
from .gates import through_decoder
from .models.probes import LEVEL_TOLERANCE_DB, clap_probes, read_probes
from .world.scenes import AUDIBLE, sample_audio_for, sample_world
from .world.synth import level_db

__all__ = ["GENERATOR_VARIANTS", "FIRST_V2_UNET", "generator_ablation", "ablation_table"]

# The UNet of the first world-v2 build: two levels of 32 / 64 channels, no mid block, the
# condition added to every ResNet block as a bias (diffusers' "default" time embedding use), on
# the one-channel latent (the pooled log-mel alone).
ONE_CHANNEL = dict(in_channels=1, out_channels=1)
FIRST_V2_UNET = dict(**ONE_CHANNEL, down_block_types=("DownBlock2D",) * 2,
                     up_block_types=("UpBlock2D",) * 2, mid_block_type=None,
                     block_out_channels=(32, 64), resnet_time_scale_shift="default")
# name -> overrides of UNET_CONFIG ("unet"), the latent's channels ("latent_channels", 1 unless
# given) and the training ("steps", "min_snr_gamma"): each row changes one thing against the
# row before it.
GENERATOR_VARIANTS = {
    "first world-v2 UNet": dict(unet=FIRST_V2_UNET, latent_channels=1),
    "+ FiLM: the condition scales and shifts every block": dict(
        unet={**FIRST_V2_UNET, "resnet_time_scale_shift": "scale_shift"}, latent_channels=1),
    "+ a third level and a self-attention mid block (shipped)": dict(unet={}),
    "+ the gain in a latent channel of its own": dict(
        unet=dict(in_channels=2, out_channels=2), latent_channels=2),
}


def _judged(ex, waves, real, image_embeds, held, contour=None) -> dict:
    """Sounds for ``held``'s images, by :func:`v2a_kit.evaluation.score`: the tagger's accuracy
    on each audible attribute and all five, CS, FD against the real audio's outputs ``real``.
    ``contour``: the contour each sound carries when it is not its held clip's (the heard-only
    attribute is drawn anew with every other real sound of an image)."""
    labels = {a: np.asarray(held.labels[a]) for a in AUDIBLE}
    if contour is not None:
        labels["contour"] = np.asarray(contour)
    s = score(ex, waves, real, image_embeds, labels=labels, fad_inf=False, is_splits=1)
    return {**{a: s.attributes[a] for a in AUDIBLE}, "all": s.attributes["all"], "cs": s.cs,
            "fd": s.fd, "rms": s.rms}


def _ceilings(ex, shipped, held, other, real, image_embeds) -> dict:
    """What no generator can beat, from ``other`` real sounds of ``held``'s images (its
    :class:`~v2a_kit.pocket.world.PocketSounds`: new onsets, pitch and contour): ``real audio``
    (their FD — the floor the hidden factors set — and CS) and ``representation`` (the same
    sounds through the shipped generator's own decoding, judged against their own contours)."""
    out = {}
    for key, waves in (("real audio", other.audio),
                       ("representation", through_decoder(shipped, other.audio))):
        judged = _judged(ex, waves, real, image_embeds, held, contour=other.contour)
        judged.pop("rms")
        out[key] = {"fd": judged["fd"], "cs": judged["cs"]} if key == "real audio" else judged
    return out


def _judge(gen, conds, held, ex, image_embeds, real, steps: int, guidance_scale: float) -> dict:
    """The oracle of one generator: its sounds from ``conds`` (the held-out clips' true CLAP
    audio embeddings), judged."""
    with peak_warnings_off():
        out = generate(gen, conds, num_inference_steps=steps, guidance_scale=guidance_scale,
                       guidance_rescale=0.0, generator=torch.Generator().manual_seed(0),
                       progress=False)
    waves = out.waveforms
    judged = _judged(ex, waves, real, image_embeds, held)
    err = level_db(waves) - level_db(held.audio)
    return {**judged, "level_within_3db": float((np.abs(err) <= LEVEL_TOLERANCE_DB).mean()),
            "level_bias_db": float(np.median(err)),
            "limited": out.peaks.num_limited / len(waves),
            "rms_ratio": judged.pop("rms") / float(np.mean(real.rms))}


def generator_ablation(weights=None, variants=None, n: int = 150, steps: int | None = None,
                       guidance_scale: float = 2.5, progress: bool = True) -> dict:
    """Train each of ``variants`` (names of ``GENERATOR_VARIANTS``; all when None) and judge
    it on the first ``n`` held-out clips of the build (world seed build seed + 1000) with the
    kit's default sampler (DPM-Solver++, 10 steps unless ``steps``) at ``guidance_scale`` and no
    guidance rescale.

    Returns:
        JSON-safe: ``variants`` -> name -> {"settings", "parameters", "train_s", "ema": judged,
        "raw": judged}; ``ceilings`` -> ``representation`` (the decoded other real sounds),
        ``real audio`` (other real sounds: FD's floor) and ``embedding`` (probes);
        ``settings``.
    """
    from diffusers import DDIMScheduler

    from ..models.audioldm import assemble
    from ..registry import load_audioldm, load_clap, load_clip
    from .build import (
        HELD_OUT_OFFSET,
        clap_conditions,
        clap_features,
        get_build_config,
        standardised_latents,
    )
    from .models.extractors import build_pocket_extractors
    from .models.generator import build_unet, train_generator
    from .models.loading import clap_parts, pocket_dir

    names = list(GENERATOR_VARIANTS) if variants is None else list(variants)
    unknown = [v for v in names if v not in GENERATOR_VARIANTS]
    if unknown or not names:
        raise ConfigError(f"variants {unknown or names} unknown; expected some of "
                          f"{list(GENERATOR_VARIANTS)}")
    if not (isinstance(n, int) and n >= 8):
        raise ConfigError(f"n={n!r}; expected an int ≥ 8 (held-out clips)")
    import json
    folder = pocket_dir(weights)
    seed = int(json.loads((folder / "build.json").read_text()).get("seed", 0))
    cfg = get_build_config()
    t0 = time.perf_counter()
    train = sample_world(cfg.num_train, seed)
    held = sample_world(n, seed + HELD_OUT_OFFSET)
    model, fe, tok, space, _ = clap_parts(weights)
    cond, null = clap_conditions(model, tok, clap_features(fe, train.audio))
    codes = {k: standardised_latents(train.audio, k) for k in (1, 2)}  # the autoencoder, latents
    clap = load_clap("pocket", weights=weights, device="cpu")
    clip = load_clip("pocket", weights=weights, device="cpu")
    shipped = load_audioldm("pocket", weights=weights, device="cpu")
    ex = build_pocket_extractors(weights, device="cpu")
    conds = clap.encode_audio([(a, 16000) for a in held.audio], progress=False).embeds
    image_embeds = clip.encode_images(list(held.images), progress=False)
    real = extract(ex, held.audio, cs=False, what="references")
    ceilings = _ceilings(ex, shipped, held, sample_audio_for(held, seed + HELD_OUT_OFFSET + 1),
                         real, image_embeds)
    probe = read_probes(clap_probes(clap, seed), conds, held)
    ceilings["embedding"] = {**{a: probe[a] for a in AUDIBLE}, "all": probe["all"],
                             "level_within_3db": probe["level"]["within_db"]}
    report = {"variants": {}, "ceilings": ceilings}
    sched = DDIMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction",
                          clip_sample=False, set_alpha_to_one=False)
    for name in names:
        v = GENERATOR_VARIANTS[name]
        vae, latents = codes[v.get("latent_channels", 1)]
        settings = {"unet": {k: list(x) if isinstance(x, tuple) else x
                             for k, x in v["unet"].items()},
                    "latent_channels": v.get("latent_channels", 1),
                    "steps": v.get("steps", cfg.unet_steps), "batch_size": cfg.unet_batch,
                    "lr": cfg.unet_lr, "min_snr_gamma": v.get("min_snr_gamma")}
        unet = build_unet(len(null), seed=seed, **v["unet"])
        start, cpu_start = time.perf_counter(), time.process_time()
        ema, _ = train_generator(unet, sched, latents.latents, cond, null,
                                 steps=settings["steps"], batch_size=cfg.unet_batch,
                                 lr=cfg.unet_lr, cond_dropout=cfg.cond_dropout,
                                 min_snr_gamma=settings["min_snr_gamma"], seed=seed,
                                 progress=progress)
        # wall time, and CPU time of all threads (steadier when the machine is shared)
        row = {"settings": settings, "train_s": round(time.perf_counter() - start, 1),
               "train_cpu_s": round(time.process_time() - cpu_start, 1),
               "parameters": int(sum(p.numel() for p in unet.parameters()))}
        for which, weights_ in (("ema", ema), ("raw", unet)):
            parts = dict(unet=copy.deepcopy(weights_), vae=vae, vocoder=shipped.vocoder,
                         text_encoder=shipped.text_encoder, tokenizer=shipped.tokenizer,
                         scheduler=DDIMScheduler.from_config(sched.config))
            gen = assemble(parts, space, "cpu", torch.float32, f"ablation: {name}", {})
            row[which] = _judge(gen, conds, held, ex, image_embeds, real, steps or 10,
                                guidance_scale)
        report["variants"][name] = row
    report["settings"] = {"weights": recorded_path(folder), "build_seed": seed, "n": n,
                          "held_out_seed": seed + HELD_OUT_OFFSET, "scheduler": "dpmsolver++",
                          "num_inference_steps": steps or 10, "guidance_scale": guidance_scale,
                          "guidance_rescale": 0.0,
                          "total_seconds": round(time.perf_counter() - t0, 1)}
    return _rounded(report)


def _rounded(x):
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    return x


def ablation_table(report: dict, weights: str = "ema") -> str:
    """A markdown table of :func:`generator_ablation`: one row per variant (its ``weights``,
    "ema" or "raw"), then the ceilings."""
    cols = (*AUDIBLE, "all", "cs", "fd", "level_within_3db", "limited")
    head = {**{a: header(f"acc_{a}") for a in AUDIBLE}, "all": header("acc_all5"),
            **{c: header(c) for c in ("cs", "fd", "level_within_3db", "limited")}}
    lines = ["| generator | " + " | ".join(head[c] for c in cols) + " | train (CPU) |",
             "|---|" + "---:|" * (len(cols) + 1)]

    def cell(v, c):
        if v is None:
            return "—"
        return f"{v:.1f}" if c in ("cs", "fd") else f"{v:.2f}"

    for name, row in report["variants"].items():
        judged = row[weights]
        lines.append(f"| {name} | " + " | ".join(cell(judged.get(c), c) for c in cols)
                     + f" | {row['train_cpu_s'] / 60:.1f} min |")
    ceil = report["ceilings"]
    for key, label in (("embedding", "embedding ceiling (probes on the true embeddings)"),
                       ("representation", "representation ceiling (decoded real audio)"),
                       ("real audio", "real audio (other sounds of the same images)")):
        lines.append(f"| {label} | " + " | ".join(cell(ceil[key].get(c), c) for c in cols)
                     + " | |")
    s = report["settings"]
    which = "EMA" if weights == "ema" else "raw last"
    lines += ["", f"The oracle of each generator ({which} weights): {s['n']} held-out clips "
                  f"(world seed {s['held_out_seed']}), "
                  f"{s['scheduler']} {s['num_inference_steps']} steps, guidance "
                  f"{s['guidance_scale']}, no rescale; trained on the build's clips and "
                  "pocket-CLAP (`python benchmarks/bench_generator.py`). Training time is "
                  "the process's CPU time (all threads), which other work on the machine "
                  "does not inflate; wall time is in the JSON (`train_s`)."]
    return "\n".join(lines)
