"""Notebook 05's exercises (generate and listen): each mapper's spread for one image (05.1),
the mapper-guidance sweep (05.2), a video's segments (05.3), and where batching stops paying
(05.4)."""

from __future__ import annotations

import math

from .checking import (
    Exercise,
    Wrong,
    Z,
    check_accuracy_variety,
    close_to,
    default_of,
    describe,
    float32_tol,
    mean_se,
    read_dict,
    read_number,
    seed_spread,
    to_number,
)


# 05 — generate and listen
def solve_05_1(world_seed: int = 6100, num_samples: int = 8, seed: int = 0):
    """Mean cosine between the ``num_samples`` CLAP embeddings each mapper gives for one image
    (mapper generator seed ``seed``), each pair once: 1 means they are all the same vector."""
    import torch

    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    m = load_models()
    image = m["clip"].encode_images(list(pw.sample_world(1, seed=world_seed).images),
                                    progress=False)
    off = ~torch.eye(num_samples, dtype=torch.bool)
    out = {}
    for kind in ("regression", "diffusion"):
        e = m[kind].map(image, num_samples=num_samples,
                        generator=torch.Generator().manual_seed(seed)).embeds
        out[kind] = float((e @ e.T)[off].mean())
    return out


def solve_05_2(n: int = 8, world_seed: int = 6200, guidances=(1.0, 2.0, 3.0, 4.0)):
    """The generative pipeline (``seed=0``, two samples per image) on ``sample_world(n,
    world_seed)`` at each mapper guidance: the share of first samples with all attributes
    heard right, and the variety of the two sounds (mean pairwise tagger-feature distance)."""
    import numpy as np

    from v2a_kit import evaluation
    from v2a_kit.pipeline import V2APipeline
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    m = load_models()
    world = pw.sample_world(n, seed=world_seed)
    pipe = V2APipeline(m["clip"], m["diffusion"], m["audioldm"])
    out = {}
    for w in guidances:
        res = pipe(list(world.images), num_samples=2, mapper_guidance_scale=w, seed=0,
                   progress=False)
        waves = np.concatenate([it.waveforms for it in res])          # (2n, samples)
        heard = m["tagger"].predict(waves[::2])
        right = np.all([heard[a] == world.labels[a] for a in pw.ATTRIBUTES], axis=0)
        out[float(w)] = {"accuracy": float(right.mean()),
                         "variety": evaluation.pairwise_diversity(m["tagger"].features(waves),
                                                                  2)}
    return out


def solve_05_3(num_scenes: int = 6, seconds_per_scene: float = 0.5):
    """How many segments the pipeline cuts a video of ``num_scenes`` scenes of
    ``seconds_per_scene`` into (each segment gets one sound from its frames' mean)."""
    import tempfile
    from pathlib import Path

    from v2a_kit.pipeline import V2APipeline
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.world.video import write_scene_video
    m = load_models()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "scenes.mp4"
        write_scene_video(video, num_scenes=num_scenes, seed=6300,
                          seconds_per_scene=seconds_per_scene)
        pipe = V2APipeline(m["clip"], m["regression"], m["audioldm"])
        out = pipe([str(video)], num_frames=4, seed=0, num_inference_steps=2, progress=False)
    return len(out[0].segments)


def solve_05_4(n: int = 16, batch_sizes=(1, 4, 16)):
    """Seconds for the regression pipeline on ``n`` images at each ``batch_size``."""
    import time

    from v2a_kit.pipeline import V2APipeline
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    m = load_models()
    images = list(pw.sample_world(n, seed=6200).images)
    pipe = V2APipeline(m["clip"], m["regression"], m["audioldm"])
    pipe(images[:1], progress=False)                       # warm-up
    out = {}
    for b in batch_sizes:
        t0 = time.perf_counter()
        pipe(images, batch_size=b, progress=False)
        out[b] = time.perf_counter() - t0
    return out


def _ref_05_1():
    runs = [solve_05_1(seed=s) for s in range(6)]
    from ..pocket import load_models
    return {"value": runs[0], "tol": seed_spread([r["diffusion"] for r in runs]),
            "flat": float32_tol(load_models()["clap"].space.dim)}


def _check_05_1(answer, ref):
    got = read_dict(answer, ["regression", "diffusion"],
                shape="{'regression': float, 'diffusion': float}")
    reg = read_number(got["regression"], "the answer['regression']", -1.0, 1.0)
    dif = read_number(got["diffusion"], "the answer['diffusion']", -1.0, 1.0)
    c, tol, k = ref["value"]["diffusion"], ref["tol"], default_of(solve_05_1, "num_samples")
    if abs(dif - 1) <= ref["flat"] < 1 - c - tol and abs(reg - c) <= tol:
        raise Wrong("the answer's 'regression' and 'diffusion' look swapped")
    if abs(reg - 1) > ref["flat"]:
        raise Wrong(f"the answer['regression'] is {reg:.4g}: a regression mapper is "
                     "deterministic, its samples are one vector (cosine exactly 1)")
    if abs(dif - (1 - c)) <= tol < abs(dif - c):
        raise Wrong(f"the answer['diffusion'] is {dif:.4g}: that is the cosine distance "
                     "1 − cos; pass the mean cosine")
    if abs(dif - (1 + (k - 1) * c) / k) <= ref["flat"] < abs(dif - c) - tol:
        raise Wrong(f"the answer['diffusion'] is {dif:.4g}: the mean includes each sample's "
                     "cosine with itself (the diagonal, all 1); leave it out")
    close_to(dif, c, tol, "the answer['diffusion']", f"{Z:g} standard deviations over mapper "
          "seeds 0..5")


def _ref_05_2():
    """Per guidance: accuracy over the images; variety and the SE of its per-image mean."""
    import numpy as np

    from ..pipeline import V2APipeline
    from ..pocket import load_models
    from ..pocket import world as pw
    m = load_models()
    n = default_of(solve_05_2, "n")
    world = pw.sample_world(n, seed=default_of(solve_05_2, "world_seed"))
    pipe = V2APipeline(m["clip"], m["diffusion"], m["audioldm"])
    out = {}
    for w in default_of(solve_05_2, "guidances"):
        res = pipe(list(world.images), num_samples=2, mapper_guidance_scale=w, seed=0,
                   progress=False)
        waves = np.concatenate([it.waveforms for it in res])
        heard = m["tagger"].predict(waves[::2])
        right = np.all([heard[a] == world.labels[a] for a in pw.ATTRIBUTES], axis=0)
        f = np.asarray(m["tagger"].features(waves), dtype=float).reshape(n, 2, -1)
        per_image = np.linalg.norm(f[:, 0] - f[:, 1], axis=-1)
        out[float(w)] = {"accuracy": float(right.mean()), "variety": float(per_image.mean()),
                         "variety_tol": Z * mean_se(per_image)}
    return {"value": out, "n": n}


def _check_05_2(answer, ref):
    check_accuracy_variety(answer, ref, lambda r: r["variety_tol"],
                            f"{Z:g} standard errors of the mean over the {ref['n']} images")


def _ref_05_3():
    from ..pocket import load_models
    scenes = default_of(solve_05_3, "num_scenes")
    seconds = default_of(solve_05_3, "seconds_per_scene")
    max_len = load_models()["audioldm"].max_length_s
    return {"value": max(1, math.ceil(scenes * seconds / max_len - 1e-9)), "scenes": scenes,
            "duration": scenes * seconds, "max_len": max_len}


def _check_05_3(answer, ref):
    v = to_number(answer)
    if v is None or isinstance(answer, float) or v != int(v):
        raise Wrong(f"the answer: expected an int (a number of segments), got "
                     f"{describe(answer)}")
    v, expected = int(v), ref["value"]
    if v == ref["scenes"] != expected:
        raise Wrong(f"the answer is {v}, the number of scenes: the pipeline cuts by length, "
                     f"not by scene — equal segments no longer than max_length_s = "
                     f"{ref['max_len']:g} s")
    if v != expected:
        raise Wrong(f"the answer is {v}; a {ref['duration']:g} s video cut into equal "
                     f"segments of at most {ref['max_len']:g} s makes ⌈"
                     f"{ref['duration']:g} / {ref['max_len']:g}⌉ = {expected}")


EXERCISES = [
    Exercise("05.1", "Eight CLAP embeddings for one image from each mapper kind (mapper "
             "generator seed 0, the image of section 1): pass their mean pairwise cosine per "
             "kind. Is the variety in the CLAP embeddings or in AudioLDM's noise?",
             solve_05_1, _check_05_1,
             "a dict {'regression': float, 'diffusion': float}",
             "Regression gives one embedding (cosine 1). If the diffusion mapper's cosine is "
             "also near 1, the variety you hear is AudioLDM's noise; if it is clearly lower, "
             "the mapper itself samples different sounds. Fix the generator noise to hear "
             "only the mapper's part.",
             reference=_ref_05_1),
    Exercise("05.2", "Sweep the mapper's guidance (`mapper_guidance_scale` 1 to 4) with the "
             "generative pipeline on 8 images: pass {w: {'accuracy', 'variety'}}.",
             solve_05_2, _check_05_2, "a dict {guidance: {'accuracy': float, 'variety': float}}",
             "The same trade-off as AudioLDM's guidance, one level up: read whether accuracy "
             "rises and variety falls with w, and whether the changes exceed what 8 images can "
             "resolve (one image is 1/8 of the accuracy).",
             reference=_ref_05_2),
    Exercise("05.3", "Make a video of six half-second scenes. How many segments does the "
             "pipeline cut it into (pass the number)? How short can a scene be before the "
             "soundtrack stops following it, and why?",
             solve_05_3, _check_05_3, "an int",
             "The pipeline cuts a video into equal segments no longer than the generator's "
             "`max_length_s` and averages each segment's frames into one CLIP embedding. When "
             "a scene is shorter than a segment, one sound stands for several scenes: the "
             "soundtrack follows scenes only down to the segment length.",
             reference=_ref_05_3),
    Exercise("05.4", "Time `pipe(images)` with `batch_size` 1, 4 and 16. Where does batching "
             "stop paying on 2 cores?", solve_05_4, None,
             "a dict {batch_size: seconds} (no checker: timings belong to your machine)",
             "Batching pays while per-call overhead dominates; once the cores are busy with the "
             "arithmetic itself, larger batches stop helping."),
]
