"""Notebook 06's exercises (the paper's evaluation): the ordering at the paper's sampler (06.1),
FD's bias with the number of clips (06.2), a larger retrieval pool (06.3), and the paper's run
with real weights (06.4)."""

from __future__ import annotations

import math

from .checking import (
    Exercise,
    Wrong,
    Z,
    close_to,
    default_of,
    read_dict,
    read_number,
    seed_spread,
)


# 06 — reproducing the evaluation
def solve_06_1(n: int = 8, num_inference_steps: int = 200):
    """The systems ordered by FD (best first) with DDIM at ``num_inference_steps`` steps, on
    ``n`` images, one seed."""
    from v2a_kit.pocket.reproduce import reproduce
    report = reproduce(n=n, seeds=(0,), scheduler="ddim", num_inference_steps=num_inference_steps)
    fd = {name: s["metrics"]["fd"]["mean"] for name, s in report["systems"].items()}
    return sorted(fd, key=fd.get)


def solve_06_2(sizes=(32, 64, 128), world_seed: int = 6600, other_seed: int | None = None):
    """FD (pocket tagger features) between the first n real sounds of ``sample_world`` and
    other real sounds of the same scenes (drawn with ``other_seed``, default ``world_seed + 1``),
    for each n: one system, only n changes."""
    from v2a_kit import evaluation, registry
    from v2a_kit.pocket import world as pw
    judges = registry.load_extractors("pocket")
    real = pw.sample_world(max(sizes), seed=world_seed)
    other = pw.sample_audio_for(real, seed=world_seed + 1 if other_seed is None else other_seed)
    fa, fb = judges.fd.fd_features(real.audio), judges.fd.fd_features(other.audio)
    return {k: evaluation.frechet_distance(fa[:k], fb[:k]) for k in sizes}


def solve_06_3(n: int = 8, num_train: int = 2048):
    """The nearest-neighbour baseline with a pool of ``num_train`` and of twice that: its
    metrics' means (one seed), per pool size."""
    from v2a_kit.pocket.reproduce import reproduce
    out = {}
    for pool in (num_train, 2 * num_train):
        report = reproduce(n=n, seeds=(0,), num_train=pool, mappers={},
                           baselines=("nearest neighbour",))
        out[pool] = {k: v["mean"] for k, v in
                     report["systems"]["nearest neighbour"]["metrics"].items()}
    return out


def _ref_06_2():
    runs = [solve_06_2(other_seed=default_of(solve_06_2, "world_seed") + 1 + s) for s in range(5)]
    return {"value": runs[0], "tol": {k: seed_spread([r[k] for r in runs]) for k in runs[0]}}


def _check_06_2(answer, ref):
    sizes = sorted(ref["value"])
    got = read_dict(answer, sizes, key=int, shape="{n: FD}")
    fd = {k: read_number(got[k], f"the answer[{k}]") for k in sizes}
    for k in sizes:
        if fd[k] < 0:
            raise Wrong(f"the answer[{k}] is {fd[k]:.4g}: an FD is a squared distance, never "
                         "negative")
    if all(fd[a] < fd[b] for a, b in zip(sizes, sizes[1:])):
        raise Wrong("your FD grows with n: the bias of FD shrinks as n grows (keys and "
                     "values swapped?)")
    for k in sizes:
        exp, tol = ref["value"][k], ref["tol"][k]
        if fd[k] == 0 < exp - tol:
            raise Wrong(f"the answer[{k}] is 0: the FD of a set against itself — compare the "
                         "real sounds with OTHER draws of the same scenes")
        if abs(fd[k] - math.sqrt(exp)) <= tol < abs(fd[k] - exp):
            raise Wrong(f"the answer[{k}] is {fd[k]:.4g}: that is √FD; the FD is the squared "
                         "distance itself")
        close_to(fd[k], exp, tol, f"the answer[{k}]", f"{Z:g} standard deviations over other "
              "draws of the comparison sounds")


EXERCISES = [
    Exercise("06.1", "Re-run `reproduce` with `num_inference_steps=200, scheduler='ddim'` on "
             "fewer images. Does the ordering of the systems change?", solve_06_1, None,
             "a list of systems, best FD first (no checker: compare with your notebook's table)",
             "Compare the ordering with the notebook's table; notebook 05's sampler table says "
             "how FD moves with the sampler."),
    Exercise("06.2", "Compute FD over 32, 64 and 128 clips of the *same* system (real sounds vs "
             "other draws of the same scenes, world seed 6600): pass {n: FD}. How large is the "
             "bias?", solve_06_2, _check_06_2, "a dict {32: float, "
             "64: float, 128: float}",
             "Nothing but n changes, so the differences are the estimator's bias: FD shrinks as "
             "n grows. A difference in the notebook's table smaller than the bias between two "
             "of these sizes cannot be read at a different n.",
             reference=_ref_06_2),
    Exercise("06.3", "Replace the nearest-neighbour pool with one twice as large (`num_train`). "
             "Which metrics move?", solve_06_3, None,
             "a dict {pool size: {metric: value}} (no checker: read which move)",
             "A larger pool holds closer look-alikes of each test image: the metrics that read "
             "the image's attributes (accuracy, CS) have the most room to move."),
    Exercise("06.4", "With weights and a GPU: `v2a-kit generate` over ImageHear with `--preset "
             "paper`, then `v2a-kit evaluate --imagehear DIR --preset paper --published`.",
             None, None, "commands (no checker)",
             "Run `v2a-kit generate IMAGEHEAR_DIR -o out/ --preset paper --mapper-checkpoint "
             "YOUR_MAPPER` and then `v2a-kit evaluate out/ --imagehear IMAGEHEAR_DIR --preset "
             "paper --published`; notebook 07 walks through the real models."),
]
