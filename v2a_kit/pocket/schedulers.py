"""Which AudioLDM sampler, how many steps: time and quality side by side on the pocket world.

The paper samples AudioLDM with DDIM for 200 steps. :func:`compare_schedulers` generates the
same held-out images' sounds with each setting in one run — the same mapped CLAP embeddings and
the same initial noise for every setting, so the comparison is paired: differences come from the
sampler alone — and measures for each the wall time per clip and the quality (tagger FD and CS
against the real held-out audio, the pocket stand-ins for the paper's FD and CS, and the
tagger's attribute accuracy). "Noise" is what the same setting gives with other initial noise:
the FD/CS spread between two noise seeds of the reference, and a bootstrap over the images.
:func:`choose_default` picks the fastest setting within that noise of DDIM-200;
:func:`scheduler_table` renders the result for the README (benchmarks/bench_schedulers.py
writes both).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..evaluation.labels import header
from ..generation import peak_warnings_off

__all__ = ["SETTINGS", "compare_schedulers", "choose_default", "scheduler_table"]

# (scheduler, steps): the paper's DDIM-200, DDIM with fewer steps, DPM-Solver++ from 10 to 25
SETTINGS = (("ddim", 200), ("ddim", 50), ("dpmsolver++", 25), ("dpmsolver++", 20),
            ("dpmsolver++", 15), ("dpmsolver++", 10))
REFERENCE = "ddim-200"


def _name(scheduler: str, steps: int) -> str:
    return f"{scheduler}-{steps}"


@dataclass
class _Bench:
    """What every setting is run on: the models, the pocket extractors, and the same held-out
    images' mapped CLAP embeddings, real audio outputs and labels."""
    gen: object
    ex: object              # the pocket evaluators in the roles of the paper's (FD, FAD, CS)
    img: object             # CLIP image embeddings of the held-out images
    clap_embed: torch.Tensor
    real: object            # the extractors' outputs of the real held-out audio
    labels: dict
    batch_size: int
    guidance_scale: float
    num_bootstrap: int


def _prepare_bench(n: int, world_seed: int, mapper_kind: str, batch_size: int,
                   guidance_scale: float, num_bootstrap: int,
                   progress: bool) -> tuple[_Bench, float]:
    """Load the pocket models, embed and map ``n`` held-out images; also the real audio's RMS."""
    from ..evaluation import extract
    from ..registry import load_audioldm, load_clip, load_mapper
    from .models.extractors import build_pocket_extractors
    from .world.scenes import ATTRIBUTES, sample_world

    clip, gen = load_clip("pocket", device="cpu"), load_audioldm("pocket", device="cpu")
    mapper = load_mapper("pocket", kind=mapper_kind, clip_space=clip.space,
                         clap_space=gen.space)
    ex = build_pocket_extractors(device="cpu")
    batch = sample_world(n, world_seed)
    img = clip.encode_images(list(batch.images), progress=progress)
    clap_embed = mapper.map(img, generator=torch.Generator().manual_seed(0)).embeds
    real = extract(ex, batch.audio, cs=False, what="references")
    labels = {a: np.asarray(batch.labels[a]) for a in ATTRIBUTES}
    return _Bench(gen, ex, img, clap_embed, real, labels, batch_size, guidance_scale,
                  num_bootstrap), float(np.mean(real.rms))


def _run_setting(b: _Bench, scheduler: str, steps: int, seed: int) -> dict:
    """Generate every clip with one setting and noise seed (one generator per clip, seeded by
    ``seed`` and the clip's index) and score it against the real audio
    (:func:`v2a_kit.evaluation.score`: FD, CS, the four attributes, loudness)."""
    from ..evaluation import extract, score
    from ..generation import generate

    n = len(b.clap_embed)
    waves = []
    for i in range(0, n, b.batch_size):
        g = [torch.Generator().manual_seed(seed * 1_000_003 + j)
             for j in range(i, min(n, i + b.batch_size))]
        out = generate(b.gen, b.clap_embed[i:i + b.batch_size], scheduler=scheduler,
                       num_inference_steps=steps, guidance_scale=b.guidance_scale,
                       generator=g, progress=False)
        waves.append(out.waveforms)
    gen = extract(b.ex, np.concatenate(waves), what="generated")
    s = score(b.ex, gen, b.real, b.img, labels=b.labels, resamples=b.num_bootstrap,
              fad_inf=False, is_splits=1)
    return {"fd": s.fd, "rms": s.rms, "cs": s.cs, "attributes": s.attributes, "_gen": gen}


def _quality_runs(b: _Bench, settings, noise_seeds, num_bootstrap: int) -> dict:
    """name -> quality of each setting; the reference (the first) with every noise seed, its
    other seeds' fd/cs and its bootstrap standard errors over the images (the kit's one
    bootstrap, :func:`v2a_kit.evaluation.bootstrap`: the images redrawn, each with its real
    sound; FD and CS of each redraw by the metrics :func:`v2a_kit.evaluation.score` uses, on
    the outputs it read)."""
    from ..evaluation import bootstrap, clip_score, frechet_distance

    real, img = b.real.features, b.img.embeds.numpy()
    results = {}
    for k, (scheduler, steps) in enumerate(settings):
        seeds = noise_seeds if k == 0 else noise_seeds[:1]
        runs = [_run_setting(b, scheduler, steps, s) for s in seeds]
        r = runs[0]
        if k == 0:
            r["other_seeds"] = [{"seed": s, "fd": o["fd"], "cs": o["cs"]}
                                for s, o in zip(seeds[1:], runs[1:])]
            gen, n = r["_gen"], len(real)
            fd = bootstrap(lambda i, g=gen: frechet_distance(g.features[i], real[i]), (n,),
                           resamples=num_bootstrap, seed=0, units="images")
            cs = bootstrap(lambda i, g=gen: clip_score(g.cs[i], img[i]), (n,),
                           resamples=num_bootstrap, seed=0, units="images")
            r["bootstrap_se"] = {"fd": fd.se, "cs": cs.se}
        results[_name(scheduler, steps)] = r
    for r in results.values():
        r.pop("_gen")
    return results


def _time_settings(b: _Bench, settings, timing_rounds: int) -> dict[str, float]:
    """name -> median seconds per clip over ``timing_rounds`` interleaved rounds of one batch.

    Timed apart from the quality runs, in interleaved rounds (median per setting), so that a
    burst of load on a shared machine does not land on one setting only."""
    from ..generation import generate

    rounds: dict[str, list[float]] = {_name(*s): [] for s in settings}
    for _ in range(timing_rounds):
        for scheduler, steps in settings:
            t0 = time.perf_counter()
            generate(b.gen, b.clap_embed[:b.batch_size], scheduler=scheduler,
                     num_inference_steps=steps, guidance_scale=b.guidance_scale,
                     progress=False, generator=torch.Generator().manual_seed(0))
            rounds[_name(scheduler, steps)].append((time.perf_counter() - t0) / b.batch_size)
    return {k: float(np.median(v)) for k, v in rounds.items()}


@peak_warnings_off()  # it measures many sounds: the limit applies, unannounced
def compare_schedulers(n: int = 96, settings=SETTINGS, world_seed: int = 7000,
                       mapper_kind: str = "diffusion", guidance_scale: float = 2.5,
                       batch_size: int = 16, noise_seeds=(0, 1), num_bootstrap: int = 200,
                       timing_rounds: int = 3, progress: bool = False) -> dict:
    """Generate sounds for ``n`` held-out images with each (scheduler, steps) and score them.

    The reference (the first setting, DDIM-200) runs with every seed in ``noise_seeds``; the
    others with the first. Returns a dict: ``settings`` (what was run), ``results`` (name ->
    seconds_per_clip, fd, cs, attributes, and for the reference the other seeds' fd/cs),
    ``noise`` (fd/cs: the larger of the seed-to-seed difference and 2 bootstrap standard errors
    of the reference), ``default`` (:func:`choose_default`).
    """
    from ..generation import generate

    b, real_rms = _prepare_bench(n, world_seed, mapper_kind, batch_size, guidance_scale,
                                 num_bootstrap, progress)
    # warm-up: the first call pays one-off costs (oneDNN kernels, the "" negative embedding)
    generate(b.gen, b.clap_embed[:2], num_inference_steps=2, progress=False)
    results = _quality_runs(b, settings, noise_seeds, num_bootstrap)
    for k, seconds in _time_settings(b, settings, timing_rounds).items():
        results[k]["seconds_per_clip"] = seconds
    ref = results[_name(*settings[0])]
    noise = {m: max([2 * ref["bootstrap_se"][m]] +
                    [abs(o[m] - ref[m]) for o in ref["other_seeds"]]) for m in ("fd", "cs")}
    report = {"settings": dict(n=n, world_seed=world_seed, mapper=mapper_kind,
                               guidance_scale=guidance_scale, batch_size=batch_size,
                               noise_seeds=list(noise_seeds), num_bootstrap=num_bootstrap,
                               timing_rounds=timing_rounds, real_rms=real_rms,
                               device="cpu", torch_threads=torch.get_num_threads()),
              "reference": _name(*settings[0]), "results": results, "noise": noise}
    report["default"] = choose_default(report)
    return report


def choose_default(report: dict) -> str:
    """The fastest setting whose FD is at most the reference's + noise and whose CS is at
    least the reference's − noise (the reference itself if none is)."""
    res, ref, noise = report["results"], report["results"][report["reference"]], report["noise"]
    ok = [k for k, r in res.items()
          if r["fd"] <= ref["fd"] + noise["fd"] and r["cs"] >= ref["cs"] - noise["cs"]]
    return min(ok or [report["reference"]], key=lambda k: res[k]["seconds_per_clip"])


def scheduler_table(report: dict) -> str:
    """The README's markdown table of :func:`compare_schedulers`' report."""
    res, ref = report["results"], report["results"][report["reference"]]
    s = report["settings"]
    words = " | ".join(header(k) for k in ("fd", "cs", "acc_all", "rms"))
    lines = [f"| sampler | steps | s / clip | speed-up | {words} |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in res.items():
        scheduler, steps = name.rsplit("-", 1)
        mark = " **(default)**" if name == report["default"] else ""
        mark += " (paper)" if name == report["reference"] else ""
        lines.append(f"| {scheduler}{mark} | {steps} | {r['seconds_per_clip']:.3f} | "
                     f"{ref['seconds_per_clip'] / r['seconds_per_clip']:.1f}× | {r['fd']:.1f} | "
                     f"{r['cs']:.2f} | {r['attributes']['all']:.3f} | {r['rms']:.3f} |")
    nz = report["noise"]
    lines.append("")
    lines.append(f"{s['n']} held-out pocket images (world seed {s['world_seed']}), "
                 f"{s['mapper']} mapper, guidance {s['guidance_scale']:g}, batches of "
                 f"{s['batch_size']} on {s['torch_threads']} CPU threads; the same mapped "
                 f"embeddings and initial noise for every row; time = median of "
                 f"{s['timing_rounds']} interleaved rounds. Noise (another noise seed of the "
                 f"reference, or 2 bootstrap SE): FD ± {nz['fd']:.1f}, CS ± {nz['cs']:.2f}. "
                 f"Real audio's loudness: RMS {s['real_rms']:.3f}.")
    return "\n".join(lines)

