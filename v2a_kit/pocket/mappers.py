"""The shipped pocket mappers, trained by the kit on pocket pairs (``v2a-kit pocket mappers``).

Pairs are what the paper trains on, in miniature: the pocket-CLIP **image** embedding of a
world sample and the pocket-CLAP **audio** embedding of its sound, from the shipped (or given)
pocket build. World seeds: training ``MAPPER_SEED + seed`` (neither the foundation models' data
nor the gates'), validation (best epoch, early stopping) a held-out slice of it, and the
figures in ``mappers.json`` on world seed ``MAPPER_TEST_SEED``, which nothing is trained on.

Training and validation pairs are drawn from the SEEN split only (``sample_world(...,
split="seen")``): the 16 UNSEEN combinations of :mod:`v2a_kit.pocket.world.vocab` are what the test
figures call compositional generalisation — no mapper ever saw a pair of them.

The generative mapper's guidance is **calibrated** after training
(:func:`calibrate_prior_guidance`, ``v2a-kit pocket calibrate``): among ``GUIDANCE_GRID``, the
classifier-free guidance whose samples spread around each image (mean pairwise cosine distance
in pocket-CLAP space) as much as other real sounds of that image do, on SEEN images of world
seed ``CALIBRATION_SEED + seed`` — neither the training nor any test seed. The value becomes the
mapper's default (``DiffusionConfig.guidance_scale``); ``mappers.json`` records every
candidate's spread ratio (unguided, the prior over-disperses).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..atomic import atomic_write, recorded_path
from ..errors import ConfigError
from ..evaluation import cosine_spread, recall_at_k
from ..generation import peak_warnings_off
from ..mappers import load_mapper_folder, save_mapper
from ..spaces import Embeddings
from ..train import Pairs, train_named
from .world.scenes import sample_world

__all__ = ["MAPPER_SEED", "MAPPER_TEST_SEED", "CALIBRATION_SEED", "GUIDANCE_GRID",
           "pocket_pairs", "train_pocket_mappers", "calibrate_prior_guidance",
           "calibrate_mapper_folder", "SHIPPED"]

MAPPER_SEED, MAPPER_TEST_SEED, CALIBRATION_SEED = 2000, 3000, 2500
GUIDANCE_GRID = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)

SHIPPED = {"regression": "regression-pocket", "diffusion": "diffusion-pocket", "ridge": "ridge"}
FAST_TRAIN = dict(epochs=2, batch_size=64, patience=None)


def pocket_pairs(n: int, world_seed: int, clip, clap, progress: bool = False,
                 split: str = "seen") -> Pairs:
    """(pocket-CLIP image embedding, pocket-CLAP audio embedding) of ``n`` world samples of
    ``split`` (``"seen"``: what the mappers train on; ``"unseen"``; ``"all"``)."""
    batch = sample_world(n, world_seed, split=split)
    src = [f"pocket:{world_seed}:{split}:{i}" for i in range(n)]
    img = clip.encode_images(list(batch.images), progress=progress)
    aud = clap.encode_audio([(a, 16000) for a in batch.audio], progress=progress)
    return Pairs(Embeddings(img.embeds, img.space, src), Embeddings(aud.embeds, aud.space, src))


def calibrate_prior_guidance(mapper, clip, clap, seed: int = 0, n: int = 128,
                             num_samples: int = 4, grid=GUIDANCE_GRID) -> dict:
    """Choose the generative mapper's guidance: the value of ``grid`` whose ``num_samples``
    samples per image spread in pocket-CLAP space as much as ``num_samples`` other real sounds
    of the image do (the smallest |log(spread ratio)|), on ``n`` SEEN images of world seed
    ``CALIBRATION_SEED + seed``. Sets ``mapper.config.guidance_scale`` and returns what was
    measured: the real spread, each candidate's ratio, the choice."""
    if getattr(mapper, "kind", None) != "diffusion":
        raise ConfigError(f"calibrate_prior_guidance takes a diffusion mapper, got "
                          f"{getattr(mapper, 'kind', type(mapper).__name__)!r}")
    if not grid or any(not isinstance(g, (int, float)) or g < 1 for g in grid):
        raise ConfigError(f"grid={grid!r}; expected guidance values ≥ 1")
    world_seed = CALIBRATION_SEED + seed
    batch = sample_world(n, world_seed, split="seen")
    img = clip.encode_images(list(batch.images), progress=False).embeds
    real = _other_real_draws(batch, world_seed, num_samples)
    real_spread = cosine_spread(clap.encode_audio([(a, 16000) for a in real],
                                                  progress=False).embeds, num_samples)
    ratios = {}
    for g in grid:
        pred = mapper.sample(img, num_samples=num_samples, guidance_scale=float(g),
                             generator=torch.Generator().manual_seed(seed))
        ratios[float(g)] = round(cosine_spread(pred, num_samples) / real_spread, 4)
    chosen = min(ratios, key=lambda g: abs(math.log(max(ratios[g], 1e-9))))
    mapper.config = replace(mapper.config, guidance_scale=chosen)
    return {"guidance_scale": chosen, "real_spread": round(real_spread, 4),
            "spread_ratio": {str(g): r for g, r in ratios.items()}, "world_seed": world_seed,
            "split": "seen", "n": n, "num_samples": num_samples}


def calibrate_mapper_folder(folder, weights=None, seed: int = 0, fast: bool = False) -> dict:
    """:func:`calibrate_prior_guidance` on the diffusion mapper saved in ``folder``, written
    back (atomically) with the calibration in its config's ``extra``; what ``v2a-kit pocket
    calibrate`` runs. Returns the calibration."""
    from ..registry import load_clap, load_clip

    clip = load_clip("pocket", weights=weights, device="cpu")
    clap = load_clap("pocket", weights=weights, device="cpu")
    mapper = load_mapper_folder(folder, kind="diffusion", device="cpu",
                                clip_space=clip.space, clap_space=clap.space)
    result = calibrate_prior_guidance(mapper, clip, clap, seed=seed, **_calibration_size(fast))
    extra = json.loads((Path(folder) / "config.json").read_text()).get("extra", {})
    save_mapper(mapper, folder, extra={**extra, "guidance_calibration": result})
    return result


def _calibration_size(fast: bool) -> dict:
    return dict(n=16, grid=(1.0, 2.0)) if fast else {}


def train_pocket_mappers(out_dir, weights=None, seed: int = 0, fast: bool = False,
                         num_train: int = 8192, num_val: int = 1000, num_test: int = 1000,
                         kinds=("regression", "diffusion", "ridge"),
                         progress: bool = True) -> dict:
    """Train one mapper of each kind (configs ``SHIPPED``) on pocket pairs into
    ``out_dir/<kind>/`` and write ``out_dir/mappers.json``: the command, seeds, the equivalent
    ``v2a-kit`` command lines, each mapper's training summary and its recall@1/5 on the test
    world seed, on SEEN and UNSEEN combinations. Returns that report."""
    from ..registry import load_clap, load_clip

    if fast:
        num_train, num_val, num_test = 256, 64, 64
    out_dir = Path(out_dir)
    clip = load_clip("pocket", weights=weights, device="cpu")
    clap = load_clap("pocket", weights=weights, device="cpu")
    t0 = time.perf_counter()
    pairs = pocket_pairs(num_train + num_val, MAPPER_SEED + seed, clip, clap, progress)
    tests = {split: pocket_pairs(num_test, MAPPER_TEST_SEED, clip, clap, progress, split=split)
             for split in ("seen", "unseen")}
    n = num_train + num_val
    w = f" --weights {weights}" if weights else ""
    report = {"command": f"v2a-kit pocket mappers -o {recorded_path(out_dir)} --seed {seed}"
                         + (" --fast" if fast else "") + w,
              "seed": seed, "fast": fast, "train_world_seed": MAPPER_SEED + seed,
              "test_world_seed": MAPPER_TEST_SEED, "num_test": num_test,
              "clip_space": clip.space.to_dict(), "clap_space": clap.space.to_dict(),
              "embed_s": time.perf_counter() - t0,
              "chance": {"recall@1": 1 / num_test, "recall@5": 5 / num_test},
              "cli_equivalent": [
                  f"v2a-kit pocket export -o pairs --num {n} --seed {MAPPER_SEED + seed} "
                  "--split seen",
                  "v2a-kit embed pairs --kind image --model clip --preset pocket "
                  "--out clip.safetensors",
                  "v2a-kit embed pairs --kind audio --model clap --preset pocket "
                  "--out clap.safetensors",
                  *[f"v2a-kit train --clip clip.safetensors --clap clap.safetensors "
                    f"--config {SHIPPED[k]} --val {num_val} --seed {seed} -o {k}"
                    + (" --epochs 2 --batch-size 64 --patience 0" if fast else "")
                    for k in kinds],
                  *([f"v2a-kit pocket calibrate diffusion --seed {seed}"
                     + (" --fast" if fast else "") + w] if "diffusion" in kinds else [])],
              "mappers": {}}
    for kind in kinds:
        mapper, summary = train_named(pairs, SHIPPED[kind], num_val=num_val, seed=seed,
                                      progress=progress, **(FAST_TRAIN if fast else {}))
        if kind == "diffusion":
            summary["guidance_calibration"] = calibrate_prior_guidance(
                mapper, clip, clap, seed=seed, **_calibration_size(fast))
        for split, test in tests.items():
            pred = mapper.sample(test.clip.embeds, generator=torch.Generator().manual_seed(seed))
            r = recall_at_k(pred, test.clap.embeds, ks=(1, 5))
            summary.update({f"test_{split}_recall@1": r[1], f"test_{split}_recall@5": r[5]})
        save_mapper(mapper, out_dir / kind, extra={**summary, "command": report["command"]})
        report["mappers"][kind] = summary
    report["total_s"] = round(time.perf_counter() - t0, 1)
    atomic_write(out_dir / "mappers.json", (json.dumps(report, indent=2) + "\n").encode())
    return report


def _tradeoff_scorer(ex, img, real, labels, num_samples: int):
    """A function (audio of ``num_samples`` sounds per image, the rows of each image's first
    sound) -> fd, diversity, cs and attributes, as :func:`measure_tradeoff` defines them, all
    from :func:`v2a_kit.evaluation.score` (``ex``: the pocket extractors; ``real``: their
    outputs of the real audio)."""
    from ..evaluation import extract, score

    def score_sounds(audio: np.ndarray, first: np.ndarray) -> dict:
        gen = extract(ex, audio, what="generated")
        one = score(ex, gen.take(first), real, img, labels=labels, fad_inf=False, is_splits=1)
        spread = score(ex, gen, num_samples=num_samples, resamples=10, is_splits=1)
        return {"fd": one.fd, "diversity": spread.diversity, "cs": one.cs,
                "attributes": one.attributes}
    return score_sounds


def _other_real_draws(batch, world_seed: int, num_samples: int) -> np.ndarray:
    """``num_samples`` other real sounds of each image of ``batch`` (new contours, onsets,
    noise; world seeds ``world_seed + 1 + k``), image-major: (n * num_samples, samples)."""
    from .world.scenes import sample_audio_for

    others = [sample_audio_for(batch, world_seed + 1 + k).audio for k in range(num_samples)]
    return np.stack(others, 1).reshape(len(others[0]) * num_samples, -1)


@peak_warnings_off()  # it measures many sounds: the limit applies, unannounced
def measure_tradeoff(mappers: dict, n: int = 200, num_samples: int = 3, world_seed: int = 5000,
                     guidance_scale: float = 2.5, mapper_guidance: float | None = None,
                     num_inference_steps: int | None = None, seed: int = 0, weights=None,
                     progress: bool = False) -> dict:
    """The paper's trade-off on held-out pocket images, for each mapper in ``mappers``
    (name -> Mapper), beside the real audio and the oracle (generation from the true CLAP
    audio embeddings):

    - ``recall@1`` / ``recall@5``: retrieval of the true CLAP audio embedding among the ``n``
      from the first mapped sample (chance 1/n, 5/n);
    - ``fd``: Fréchet distance of tagger features, audio generated from each image's first
      sample vs the real audio of the ``n`` images (lower = closer to real; the FD role);
    - ``diversity``: mean pairwise tagger-feature distance between the ``num_samples`` sounds
      generated for one image (each from its own mapper sample and generator noise); for real
      audio, between ``num_samples`` other real sounds of the same image (``sample_audio_for``),
      whose FD against the reference is the floor the hidden audio factors set;
    - ``cs``: 100 × cosine of the audio→image evaluator's embedding of the generated audio with
      the pocket-CLIP embedding of the image (the CS role; higher = more relevant);
    - ``attributes``: the tagger's accuracy on the image's four attributes (first sample).
    """
    from ..evaluation import extract
    from ..generation import SCHEDULERS, generate
    from ..registry import load_audioldm, load_clap, load_clip
    from .models.extractors import build_pocket_extractors
    from .world.scenes import ATTRIBUTES

    clip = load_clip("pocket", weights=weights, device="cpu")
    clap = load_clap("pocket", weights=weights, device="cpu")
    gen = load_audioldm("pocket", weights=weights, device="cpu")
    ex = build_pocket_extractors(weights, device="cpu")
    batch = sample_world(n, world_seed)
    img = clip.encode_images(list(batch.images), progress=progress)
    true_clap = clap.encode_audio([(a, 16000) for a in batch.audio], progress=progress)
    real = extract(ex, batch.audio, cs=False, what="references")

    score = _tradeoff_scorer(ex, img, real, {a: np.asarray(batch.labels[a]) for a in ATTRIBUTES},
                             num_samples)
    first = np.arange(n) * num_samples
    # real audio's row: other real sounds of the same images (new onsets, pitch, noise), so its
    # FD is the floor set by the hidden audio factors, not a trivial 0
    report = {"real audio (other draws)": score(_other_real_draws(batch, world_seed,
                                                                 num_samples), first)}

    def generated(clap_embed) -> np.ndarray:
        return generate(gen, clap_embed, guidance_scale=guidance_scale,
                        num_inference_steps=num_inference_steps, progress=progress,
                        generator=torch.Generator().manual_seed(seed)).waveforms
    oracle = true_clap.embeds.repeat_interleave(num_samples, 0)
    report["oracle (true CLAP audio)"] = {"recall@1": 1.0, "recall@5": 1.0,
                                          **score(generated(oracle), first)}
    for name, m in mappers.items():
        pred = m.map(img, num_samples=num_samples, guidance_scale=mapper_guidance,
                     generator=torch.Generator().manual_seed(seed))
        r = recall_at_k(pred.embeds[first], true_clap.embeds, ks=(1, 5))
        report[name] = {"recall@1": r[1], "recall@5": r[5], **score(generated(pred), first)}
    report["settings"] = dict(n=n, num_samples=num_samples, world_seed=world_seed,
                              guidance_scale=guidance_scale, mapper_guidance=mapper_guidance,
                              num_inference_steps=num_inference_steps or SCHEDULERS["dpmsolver++"],
                              seed=seed,
                              chance_recall_at_1=1 / n, chance_recall_at_5=5 / n)
    return report
