"""Why a mapper? The paper's efficiency claim, measured on the pocket world.

V2A-Mapper trains only a mapper between frozen foundation models, and reports better fidelity
and relevance than Im2Wav, which trains a whole generator on visual features, with 86 % fewer
trained parameters (48.83 M vs 360.40 M: ``v2a_kit.datasets.PUBLISHED``). Here both ways are
trained by the kit on the **same SEEN pairs** (world ``MAPPER_SEED + seed``, the first ``size``
of one draw, so the sizes are nested), at several training-set sizes and seeds:

- the **regression** and **generative** mappers (the shipped configs, ``train_named``; a
  ``size // 8`` slice of the pairs is their validation for early stopping), into the frozen
  pocket-CLAP space and the shipped pocket-AudioLDM, whose own training was paid once (the
  build's ``audioldm_s``, reported beside);
- the **direct baseline** (:mod:`v2a_kit.pocket.models.direct`): the pocket UNet conditioned on
  pocket-CLIP image embeddings, trained from scratch by the pocket generator's own training code
  (:func:`~v2a_kit.pocket.models.generator.train_generator`, its batch, learning rate and condition
  dropout) for a stated number of steps (:data:`DIRECT_STEPS`; the shipped generator trained
  2,800): what a 2-core budget affords, stated in the report's settings.

Each system is scored by the science benchmark's scoring path —
:func:`v2a_kit.pocket.reproduce.reproduce`, once per seed and split, with the seed's systems of
every size as rows (``"generative @256"``) — on SEEN and UNSEEN held-out pictures: FD, FAD, KL,
CS, the all-four accuracy, the within-image spread (``diversity``: tagger features, defined for
every system; the CLAP spread where a CLAP embedding exists), beside trained parameters,
training time (wall and CPU) and inference time per sound. :func:`check_efficiency_targets`
states the design's targets against the measured values; ``benchmarks/bench_efficiency.py``
writes ``06_efficiency.json`` into ``figures/``; notebook 06 ("Why a mapper?") reads it.

Cost on 2 CPU cores with the defaults (3 seeds × 3 sizes), *estimated* from rates measured on
a quiet machine — the run records its own ``total_seconds`` and ``cpu_seconds`` with the load:
the direct baselines 9 × 150 steps × ≈ 0.36 s ≈ 8 min (the build's 2,800 steps took 1,016 s);
the mappers ≈ 3 min per seed (the diffusion mapper ≈ 0.22 s per step, ≈ 600 steps over the
three sizes, and its guidance calibration; the regression mapper under a minute) ≈ 9 min;
scoring 6 ``reproduce`` calls × 9 systems × 48 sounds ≈ 2,600 sounds at ≈ 0.12 s ≈ 5 min plus
the models' loading; embedding 3 × 4,096 pairs ≈ 1 min: ≈ 25 min in all, inside the design's
30. On a shared machine each step is slower by the other jobs' share (measured 35× under a
load average of 6–9 with ``nice -n 19``).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from ..atomic import recorded_path
from ..errors import ConfigError
from ..evaluation.labels import header
from .mappers import MAPPER_SEED, SHIPPED, calibrate_prior_guidance
from .science import mean_std_cell, seed_stats

__all__ = ["DIRECT_STEPS", "DIRECT_TRAINING", "EFFICIENCY_SIZES", "EFFICIENCY_METRICS",
           "EFFICIENCY_SYSTEMS", "FAST_EFFICIENCY", "MAPPER_MIN_STEPS", "check_direct_options",
           "train_direct", "measure_efficiency", "check_efficiency_targets", "efficiency_table",
           "system_name"]

# The direct baseline's budget: optimiser steps at the pocket generator's batch (64). The
# shipped pocket-AudioLDM trained 2,800 (build.json: ≈ 17 min on 2 cores); 3 seeds × 3 sizes of
# that would take 2.5 h, so the benchmark gives each direct baseline 150 (≈ 1 min): a budget,
# stated in the report, not what the architecture could reach.
DIRECT_STEPS = 150
DIRECT_TRAINING = dict(batch_size=64, lr=1e-3, cond_dropout=0.1, ema_decay=0.999)
EFFICIENCY_SIZES = (256, 1024, 4096)
# The mappers keep their shipped recipes (epochs, batch, patience), with at least this many
# optimiser steps: at 256 pairs the diffusion mapper's 30 epochs of batch 256 would be 30 steps.
MAPPER_MIN_STEPS = 100
EFFICIENCY_SYSTEMS = {"regression": "regression", "generative": "diffusion", "direct": "direct"}
EFFICIENCY_METRICS = ("fd", "fad", "kl", "cs", "acc_all", "diversity", "clap_spread",
                      "spread_ratio_median", "level_within_3db")
# bench_efficiency.py --fast: the code path in a few minutes, not the science
FAST_EFFICIENCY = dict(seeds=(0,), sizes=(64, 128), direct_steps=3, n=4, num_samples=2,
                       num_inference_steps=2, mapper_min_steps=2, fast_mappers=True)


def system_name(system: str, size: int) -> str:
    """The row name of ``system`` trained on ``size`` pairs in the scoring path's reports."""
    return f"{system} @{size}"


def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


def check_direct_options(steps, batch_size, lr, cond_dropout, ema_decay) -> None:
    """Refuse a bad training option of the direct baseline in one line naming it and its
    range (before anything is loaded or trained)."""
    for name, v in (("steps", steps), ("batch_size", batch_size)):
        if not _is_int(v) or v < 1:
            raise ConfigError(f"{name}={v!r}; expected an int ≥ 1")
    for name, v, low, high, closed in (("lr", lr, 0.0, 1.0, False),
                                       ("cond_dropout", cond_dropout, 0.0, 1.0, True),
                                       ("ema_decay", ema_decay, 0.0, 1.0, False)):
        ok = (not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
              and (low <= v < high if closed else low < v < high))
        if not ok:
            rng = f"in [{low:g}, {high:g})" if closed else f"in ({low:g}, {high:g})"
            raise ConfigError(f"{name}={v!r}; expected a number {rng}")


def train_direct(clip_embed, audio: np.ndarray, null_embed, *, steps: int = DIRECT_STEPS,
                 batch_size: int = 64, lr: float = 1e-3, cond_dropout: float = 0.1,
                 ema_decay: float = 0.999, seed: int = 0, weights=None, out=None,
                 progress: bool = False):
    """Train a direct baseline from scratch on (image embedding, sound) pairs.

    The sounds are encoded by the build's own autoencoder (pocket-AudioLDM's latents), and the
    UNet is trained by :func:`~v2a_kit.pocket.models.generator.train_generator` with the build's
    noise schedule, conditioned on ``clip_embed`` and dropping to ``null_embed`` (pocket-CLIP's text
    embedding of "") with probability ``cond_dropout``.

    Args:
        clip_embed: (n, d_clip) ``Embeddings`` of the pairs' images (their space is recorded).
        audio: (n, samples) float32, the paired sounds.
        out: a folder to save the checkpoint into (``v2a-kit-direct-1``), or None.
    Returns:
        (generator, info): the EMA weights as a generator in the CLIP space, and JSON-safe
        facts: ``parameters``, ``train_s``, ``train_cpu_s``, the settings, the final loss.
    """
    from diffusers import DDIMScheduler

    from ..spaces import Embeddings
    from .models.audio import log_mel
    from .models.direct import _assemble, build_direct_unet, load_direct_folder, save_direct
    from .models.generator import PowerPoolAutoencoder, train_generator
    from .models.loading import pocket_dir

    check_direct_options(steps, batch_size, lr, cond_dropout, ema_decay)
    if not isinstance(clip_embed, Embeddings) or clip_embed.space.family != "clip":
        space = getattr(clip_embed, "space", None)
        got = f"a {space.family!r} space ({space})" if space is not None else \
            type(clip_embed).__name__
        raise ConfigError(f"clip_embed must be CLIP Embeddings (with their space), got {got}")
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 2 or len(audio) != len(clip_embed):
        raise ConfigError(f"audio has shape {audio.shape}; expected ({len(clip_embed)}, samples): "
                          "one sound per image embedding")
    folder = pocket_dir(weights) / "audioldm"
    vae = PowerPoolAutoencoder.from_config(PowerPoolAutoencoder.load_config(folder / "vae"))
    sched = DDIMScheduler.from_config(DDIMScheduler.load_config(folder / "scheduler"))
    mel = torch.cat([log_mel(a) for a in torch.as_tensor(audio).split(512)])
    latents = vae.encode(mel.transpose(1, 2)[:, None]).latents
    null = torch.nn.functional.normalize(torch.as_tensor(null_embed, dtype=torch.float32)
                                         .reshape(-1), dim=0)
    unet = build_direct_unet(clip_embed.space.dim, seed=seed)
    start, cpu = time.perf_counter(), time.process_time()
    ema, losses = train_generator(unet, sched, latents, clip_embed.embeds.float(), null,
                                  steps=steps, batch_size=batch_size, lr=lr,
                                  cond_dropout=cond_dropout, ema_decay=ema_decay, seed=seed,
                                  progress=progress)
    info = {"parameters": int(sum(p.numel() for p in unet.parameters())),
            "train_s": round(time.perf_counter() - start, 2),
            "train_cpu_s": round(time.process_time() - cpu, 2),
            "num_train": len(audio), "steps": steps, "batch_size": batch_size, "lr": lr,
            "cond_dropout": cond_dropout, "ema_decay": ema_decay, "seed": seed,
            "final_loss": round(float(np.mean(losses[-20:])), 5)}
    if out is not None:
        save_direct(ema, out, clip_embed.space, null, extra=info)
        return load_direct_folder(out, clip_space=clip_embed.space, weights=weights), info
    return _assemble(ema, clip_embed.space, null, weights, "cpu", "pocket-direct",
                     {"kind": "trained", **info}), info


def _mapper_epochs(kind: str, num_train: int, min_steps: int) -> dict:
    """The shipped recipe's epochs, raised to at least ``min_steps`` optimiser steps."""
    from ..mappers import get_config
    train = get_config(SHIPPED[kind])["train"]
    per_epoch = max(1, math.ceil(num_train / min(train["batch_size"], num_train)))
    return {"epochs": max(train["epochs"], math.ceil(min_steps / per_epoch))}


def _check_sizes(seeds, sizes, n, num_samples, direct_steps, mapper_min_steps):
    seeds, sizes = tuple(seeds), tuple(sizes)
    if not seeds or not all(_is_int(s) and s >= 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds={seeds!r}; expected distinct ints ≥ 0")
    if not sizes or not all(_is_int(s) and s >= 16 for s in sizes) \
            or list(sizes) != sorted(set(sizes)):
        raise ConfigError(f"sizes={sizes!r}; expected increasing ints ≥ 16 (training pairs)")
    for name, v, low in (("n", n, 2), ("num_samples", num_samples, 2),
                         ("direct_steps", direct_steps, 1),
                         ("mapper_min_steps", mapper_min_steps, 1)):
        if not _is_int(v) or v < low:
            raise ConfigError(f"{name}={v!r}; expected an int ≥ {low}")
    return seeds, sizes


def measure_efficiency(seeds=(0, 1, 2), sizes=EFFICIENCY_SIZES, *, n: int = 24,
                       num_samples: int = 2, direct_steps: int = DIRECT_STEPS,
                       mapper_min_steps: int = MAPPER_MIN_STEPS,
                       num_inference_steps: int | None = None, weights=None, out_dir=None,
                       fast_mappers: bool = False, progress: bool = False) -> dict:
    """Train every system at every size and seed, and score them (see the module docstring).

    Args:
        n: held-out pictures per split; num_samples: sounds each (≥ 2: the within-image spread).
        direct_steps: the direct baseline's optimiser steps (its budget).
        out_dir: where the direct baselines' checkpoints go (``seed{s}/direct-{size}``; they
            are loaded back through the registry, ``load_direct``); None: not saved.
        fast_mappers: a few epochs of mapper training and a small guidance calibration
            (smoke runs and tests only).
    Returns:
        JSON-safe: ``systems`` -> system -> size -> {``seen``/``unseen``: metric -> stats over
        seeds, ``parameters``, ``train_s``, ``train_cpu_s``, ``infer_s_per_sound`` (stats)},
        ``real audio`` -> split -> metric -> stats, ``shipped`` (what the mappers reuse, and
        its cost), ``settings`` (including ``total_seconds``, ``cpu_seconds``, the load) and
        ``targets`` (:func:`check_efficiency_targets`).
    """
    from ..registry import load_audioldm, load_clap, load_clip, load_direct
    from ..spaces import Embeddings
    from ..train import Pairs, train_named
    from .models.loading import pocket_dir
    from .reproduce import REAL, reproduce
    from .world.scenes import sample_world

    seeds, sizes = _check_sizes(seeds, sizes, n, num_samples, direct_steps, mapper_min_steps)
    check_direct_options(direct_steps, **{k: v for k, v in DIRECT_TRAINING.items()})
    t0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()
    folder = pocket_dir(weights)
    clip = load_clip("pocket", weights=weights, device="cpu")
    clap = load_clap("pocket", weights=weights, device="cpu")
    null = clip.encode_text([""], progress=False).embeds[0]
    split_names = ("seen", "unseen")
    per = {}       # (system, size) -> {"seen"/"unseen": metric -> [per seed], facts -> [..]}
    real = {s: {} for s in split_names}
    for seed in seeds:
        # the mappers' pairs (pocket_pairs), keeping the sounds for the direct baseline
        batch = sample_world(max(sizes), MAPPER_SEED + seed, split="seen")
        src = [f"pocket:{MAPPER_SEED + seed}:seen:{i}" for i in range(len(batch.audio))]
        img = clip.encode_images(list(batch.images), progress=progress)
        aud = clap.encode_audio([(a, 16000) for a in batch.audio], progress=progress)
        pairs = Pairs(Embeddings(img.embeds, img.space, src),
                      Embeddings(aud.embeds, aud.space, src))
        audio = batch.audio
        mappers, direct = {}, {}
        for size in sizes:
            sub = pairs.subset(torch.arange(size))
            for system, kind in EFFICIENCY_SYSTEMS.items():
                name, row = system_name(system, size), per.setdefault((system, size), {})
                if kind == "direct":
                    out = None if out_dir is None else Path(out_dir) / f"seed{seed}" / \
                        f"direct-{size}"
                    gen, info = train_direct(sub.clip, audio[:size], null, steps=direct_steps,
                                             seed=seed, weights=weights, out=out,
                                             progress=progress, **DIRECT_TRAINING)
                    if out is not None:  # through the registry, as any user loads one
                        gen = load_direct(out, clip_space=clip.space, weights=weights)
                    direct[name] = gen
                    train_s, train_cpu = info["train_s"], info["train_cpu_s"]
                    row["settings"] = {k: info[k] for k in ("steps", "batch_size", "lr",
                                                            "cond_dropout", "ema_decay")}
                else:
                    cpu = time.process_time()
                    overrides = (dict(epochs=1, patience=None) if fast_mappers else
                                 _mapper_epochs(kind, size - size // 8, mapper_min_steps))
                    mapper, summary = train_named(sub, SHIPPED[kind], num_val=max(2, size // 8),
                                                  seed=seed, progress=progress, **overrides)
                    if kind == "diffusion":  # the mapper's recipe: calibrated guidance
                        calibrate_prior_guidance(mapper, clip, clap, seed=seed,
                                                 **(dict(n=8, grid=(1.0, 2.0)) if fast_mappers
                                                    else dict(n=64)))
                    mappers[name] = mapper.eval()
                    train_s = summary["train_s"]
                    train_cpu = time.process_time() - cpu
                    row["settings"] = {"config": SHIPPED[kind], **overrides,
                                       "num_val": max(2, size // 8),
                                       "epochs_run": summary.get("epochs_run")}
                row.setdefault("train_s", []).append(round(train_s, 2))
                row.setdefault("train_cpu_s", []).append(round(train_cpu, 2))
        for split in split_names:
            rep = reproduce(n=n, seeds=(seed,), num_samples=num_samples, split=split,
                            num_inference_steps=num_inference_steps, mappers=mappers,
                            direct=direct, baselines=(), weights=weights)
            settings = rep["settings"]
            for m in EFFICIENCY_METRICS:
                real[split].setdefault(m, []).append(rep["systems"][REAL]["metrics"][m]["mean"])
            for (system, size), row in per.items():
                got = rep["systems"][system_name(system, size)]
                for m in EFFICIENCY_METRICS:
                    row.setdefault(split, {}).setdefault(m, []).append(got["metrics"][m]["mean"])
                row["parameters"] = got["details"]["parameters"]
                row.setdefault("infer_s_per_sound", []).append(
                    got["seconds"][0] / (n * num_samples))
    shipped = load_audioldm("pocket", weights=weights, device="cpu")
    build = json.loads((folder / "build.json").read_text())
    systems = {}
    for (system, size), row in per.items():
        systems.setdefault(system, {})[str(size)] = {
            **{s: {m: seed_stats(v) for m, v in row[s].items()} for s in split_names},
            "parameters": row["parameters"], "settings": row["settings"],
            **{k: seed_stats(row[k]) for k in ("train_s", "train_cpu_s", "infer_s_per_sound")}}
    report = {
        "systems": systems,
        REAL: {s: {m: seed_stats(v) for m, v in real[s].items()} for s in split_names},
        "shipped": {
            "generator": {"parameters": int(sum(p.numel() for p in shipped.unet.parameters())),
                          "train_s": build.get("timings_s", {}).get("audioldm_s"),
                          "steps": build.get("config", {}).get("unet_steps"),
                          "batch_size": build.get("config", {}).get("unet_batch"),
                          "num_train": build.get("config", {}).get("num_train"),
                          "machine": build.get("machine", {})},
            "clip_parameters": int(sum(p.numel() for p in clip.model.parameters())),
            "clap_parameters": int(sum(p.numel() for p in clap.model.parameters()))},
        "settings": {"seeds": list(seeds), "sizes": list(sizes), "n": n,
                     "num_samples": num_samples, "direct_steps": direct_steps,
                     "direct_training": DIRECT_TRAINING, "mapper_min_steps": mapper_min_steps,
                     "fast_mappers": fast_mappers, "train_world_seed": f"{MAPPER_SEED} + seed",
                     "split_of_training_pairs": "seen",
                     "num_inference_steps": settings["num_inference_steps"],
                     "scheduler": settings["scheduler"],
                     "guidance_scale": settings["guidance_scale"],
                     "held_out_world_seed": settings["world_seed"],
                     "weights": recorded_path(folder),
                     "out_dir": out_dir and recorded_path(out_dir),
                     "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
                     "load_average_at_start": [round(x, 2) for x in load0],
                     "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                     "total_seconds": round(time.perf_counter() - t0, 1),
                     "cpu_seconds": round(time.process_time() - cpu0, 1)}}
    report["targets"] = check_efficiency_targets(report)
    return report


def _get(report, system, size, key, split=None):
    row = report["systems"].get(system, {}).get(str(size))
    if row is None:
        return None, 0.0
    stat = row[split][key] if split else row[key]
    if isinstance(stat, dict):
        return stat["mean"], stat["std"] or 0.0
    return stat, 0.0


def check_efficiency_targets(report: dict) -> list[dict]:
    """The design's targets beside the measured values: ``{"target", "met", "measured"}``
    (``met`` None where a system was not run, or where a spread over seeds is asked of one
    seed)."""
    rows = []
    sizes = report["settings"]["sizes"]
    direct_p = _get(report, "direct", sizes[0], "parameters")[0]
    mapper_p = {k: _get(report, k, sizes[0], "parameters")[0] for k in ("regression",
                                                                        "generative")}
    ratio = None if direct_p is None or None in mapper_p.values() else \
        max(mapper_p.values()) / direct_p
    rows.append({"target": "the mappers train ≤ 10 % of the direct baseline's parameters",
                 "met": None if ratio is None else ratio <= 0.10,
                 "measured": {**mapper_p, "direct": direct_p, "ratio": ratio and round(ratio, 4)}})
    for basis in ("benchmark", "full recipe"):
        ratios = {}
        for size in sizes:
            d = _get(report, "direct", size, "train_s")[0]
            if basis == "full recipe":
                d = report["shipped"]["generator"].get("train_s")
            for k in ("regression", "generative"):
                m = _get(report, k, size, "train_s")[0]
                if None not in (m, d):
                    ratios[f"{k} @{size}"] = round(m / d, 4)
        worst = max(ratios.values()) if ratios else None
        what = ("the direct baseline's training time in this benchmark (its stated budget)"
                if basis == "benchmark" else
                "the direct baseline's full recipe (the shipped generator's 2,800 steps, "
                "build.json's audioldm_s)")
        rows.append({"target": f"the mappers train in ≤ 25 % of {what}",
                     "met": None if worst is None else worst <= 0.25,
                     "measured": {"worst_ratio": worst, **ratios}})
    small = sizes[0]
    one_seed = len(report["settings"].get("seeds", [])) < 2  # no spread to judge against
    for split in ("seen", "unseen"):
        for metric, better in (("fd", -1), ("acc_all", 1)):
            g, sg = _get(report, "generative", small, metric, split)
            d, sd = _get(report, "direct", small, metric, split)
            spread = max(sg, sd)
            met = None if None in (g, d) or one_seed else better * (g - d) > 2 * spread
            rows.append({"target": f"at {small} pairs ({split}) the generative mapper's "
                                   f"{metric} beats the direct baseline's by more than twice "
                                   "the seeds' spread",
                         "met": met, "measured": {"generative": g, "direct": d,
                                                  "spread": None if one_seed
                                                  else round(spread, 6)}})
    return rows


# the metrics its tables can show (their words: v2a_kit.evaluation.labels, the one table)
_TABLE_METRICS = ("fd", "fad", "kl", "cs", "acc_all", "diversity", "clap_spread",
                  "spread_ratio_median", "level_within_3db")


def efficiency_table(report: dict, split: str = "seen",
                     metrics=("fd", "fad", "kl", "cs", "acc_all", "diversity")) -> str:
    """A markdown table of :func:`measure_efficiency` on one split: a row per system and size,
    the metrics (mean ± std over seeds), trained parameters, training and inference time."""
    if split not in ("seen", "unseen"):
        raise ConfigError(f"split={split!r}; expected 'seen' or 'unseen'")
    unknown = [m for m in metrics if m not in _TABLE_METRICS]
    if unknown:
        raise ConfigError(f"metrics {unknown} unknown; expected some of {list(_TABLE_METRICS)}")
    lines = ["| system | pairs | " + " | ".join(header(m) for m in metrics)
             + " | trained params | train (s) | ms / sound |",
             "|---|---:|" + "---:|" * (len(metrics) + 3)]
    real = report.get("real audio", {}).get(split, {})
    lines.append("| real audio | — | " + " | ".join(mean_std_cell(real.get(m)) for m in metrics)
                 + " | — | — | — |")
    for system, by_size in report["systems"].items():
        for size, row in by_size.items():
            infer = row["infer_s_per_sound"]["mean"]
            lines.append(f"| {system} | {int(size):,} | "
                         + " | ".join(mean_std_cell(row[split].get(m)) for m in metrics)
                         + f" | {row['parameters'] / 1e6:.2f} M | "
                         + f"{mean_std_cell(row['train_s'])} | "
                         + ("—" if infer is None else f"{1000 * infer:.0f}") + " |")
    s = report["settings"]
    lines += ["", f"{split.upper()} held-out pictures; mean ± std over seeds "
                  f"{', '.join(map(str, s['seeds']))}; n = {s['n']} pictures × "
                  f"{s['num_samples']} sounds; {s['scheduler']} {s['num_inference_steps']} "
                  f"steps. The direct baseline trained {s['direct_steps']} steps of batch "
                  f"{s['direct_training']['batch_size']}; the mappers reuse pocket-AudioLDM "
                  f"({report['shipped']['generator']['parameters'] / 1e6:.2f} M parameters, "
                  f"trained once in {report['shipped']['generator']['train_s'] or 0:.0f} s)."]
    return "\n".join(lines)
