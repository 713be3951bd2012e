"""Notebook 04's exercises (the generative mapper): the trade-off at another mapper guidance
(04.1), DDPM against DDIM on few steps (04.2), and where x0- and ε-prediction make their errors
(04.3)."""

from __future__ import annotations

from .checking import (
    Exercise,
    Wrong,
    Z,
    close_to,
    default_of,
    describe,
    guidance_dict,
    pair_of_shares,
    read_number,
    seed_spread,
    to_number,
)


# 04 — generative mapper
def solve_04_1(n: int = 8, guidances=(1.0, 3.0), seed: int = 0):
    """``measure_tradeoff`` of the shipped generative mapper on ``n`` images with three samples
    each, at each mapper guidance: its diversity and CS."""
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.mappers import measure_tradeoff
    gen = load_models()["diffusion"]
    out = {}
    for w in guidances:
        row = measure_tradeoff({"generative": gen}, n=n, num_samples=3, mapper_guidance=w,
                               seed=seed)["generative"]
        out[float(w)] = {"diversity": row["diversity"], "cs": row["cs"]}
    return out


def solve_04_2(n: int = 128, world_seed: int = 6000, steps: int = 10):
    """Recall@1 of the shipped generative mapper's samples with DDIM and with DDPM on ``steps``
    steps (generator seed 0), on ``n`` held-out pairs."""
    import torch

    from v2a_kit import evaluation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.mappers import pocket_pairs
    m = load_models()
    pairs = pocket_pairs(n, world_seed, m["clip"], m["clap"])
    out = {}
    for sampler in ("ddim", "ddpm"):
        sample = m["diffusion"].sample(pairs.clip.embeds, sampler=sampler,
                                       num_inference_steps=steps,
                                       generator=torch.Generator().manual_seed(0))
        out[sampler] = evaluation.recall_at_k(sample, pairs.clap.embeds, ks=(1,))[1]
    return out


def solve_04_3(timesteps: int = 1000):
    """The first noise level t at which ᾱ_t < 1/2 (cosine schedule): below it an error of
    ε-prediction costs less in x0 than the same error of x0-prediction, above it more."""
    from v2a_kit.mappers.diffusion import cosine_alphas_cumprod
    abar = cosine_alphas_cumprod(timesteps)
    return int((abar < 0.5).nonzero()[0])


def _ref_04_1():
    runs = [solve_04_1(seed=s) for s in range(3)]
    return {"value": runs[0],
            "tol": {w: {k: max(seed_spread([r[w][k] for r in runs]),
                               1e-6 * abs(runs[0][w][k])) for k in runs[0][w]}
                    for w in runs[0]}}


def _check_04_1(answer, ref):
    got = guidance_dict(answer, list(ref["value"]), ["diversity", "cs"],
                         "{guidance: {'diversity': float, 'cs': float}}")
    for w, r in ref["value"].items():
        where = f"the answer[{w:g}]"
        div = read_number(got[w]["diversity"], f"{where}['diversity']")
        cs = read_number(got[w]["cs"], f"{where}['cs']", -100.0, 100.0)
        tol = ref["tol"][w]
        if (abs(div - r["cs"]) <= tol["cs"] and abs(cs - r["diversity"]) <= tol["diversity"]
                and abs(div - r["diversity"]) > tol["diversity"]):
            raise Wrong(f"{where}: 'diversity' and 'cs' look swapped")
        if div < 0:
            raise Wrong(f"{where}['diversity'] is {div:.4g}: a distance cannot be negative")
        close_to(div, r["diversity"], tol["diversity"], f"{where}['diversity']",
              f"{Z:g} standard deviations over seeds 0, 1, 2")
        close_to(cs, r["cs"], tol["cs"], f"{where}['cs']", f"{Z:g} standard deviations over "
              "seeds 0, 1, 2")


def _ref_04_2():
    return {"value": solve_04_2(), "n": default_of(solve_04_2, "n")}


def _check_04_2(answer, ref):
    pair_of_shares(answer, ref, ["ddim", "ddpm"], ref["n"], "recall@1")


def _ref_04_3():
    from ..mappers.diffusion import cosine_alphas_cumprod
    timesteps = default_of(solve_04_3, "timesteps")
    abar = cosine_alphas_cumprod(timesteps).double()
    return {"value": int((abar < 0.5).nonzero()[0]), "T": timesteps}


def _check_04_3(answer, ref):
    v = to_number(answer)
    if v is None or isinstance(answer, float) or v != int(v):
        raise Wrong(f"the answer: expected an int t, got {describe(answer)}")
    t, expected = int(v), ref["value"]
    if t == expected - 1:
        raise Wrong(f"the answer is {t}: the last t with ᾱ_t ≥ 1/2 — the question asks the "
                     "first t with ᾱ_t < 1/2")
    if t == expected + 1:
        raise Wrong(f"the answer is {t}: one past it — counting t from 1? The schedule's t "
                     f"runs 0..{ref['T'] - 1}")
    if t == ref["T"] // 2 != expected:
        raise Wrong(f"the answer is {t} = T/2: ᾱ_t is not linear in t — read it from the "
                     "cosine schedule")
    if t != expected:
        raise Wrong(f"the answer is {t}; the cosine schedule's ᾱ_t first falls below 1/2 at "
                     f"t = {expected}")


EXERCISES = [
    Exercise("04.1", "Re-run the trade-off with `mapper_guidance=3.0` (and `1.0` to compare) on 8 "
             "images: pass {w: {'diversity', 'cs'}} of the generative row.",
             solve_04_1, _check_04_1, "a dict {guidance: {'diversity': float, 'cs': float}}",
             "Guidance of the prior sharpens its samples toward the condition: expect diversity "
             "to fall and CS to rise or stay, by an amount 8 images can only roughly measure.",
             reference=_ref_04_1),
    Exercise("04.2", "The DDPM sampler on 10 steps: does it lose anything against DDIM, and "
             "why might it? Pass {'ddim': recall@1, 'ddpm': recall@1} on 128 pairs of world "
             "seed 6000 (generator seed 0).",
             solve_04_2, _check_04_2, "a dict {'ddim': float, 'ddpm': float}",
             "DDPM's ancestral step adds fresh noise sized for a small step; on 10 big steps the "
             "noise it adds is not removed again, while DDIM (η = 0) moves deterministically "
             "along the predicted trajectory. How much that costs depends on how firmly the "
             "prior's x0-prediction already pins each sample: read the two recalls against "
             "the binomial noise of 128 pairs (the checker says it), and call a smaller "
             "difference a tie.",
             reference=_ref_04_2),
    Exercise("04.3", "Replace x0-prediction with ε-prediction. At which noise levels does each "
             "make its errors? Pass the first t at which ᾱ_t < 1/2 (T = 1000, cosine "
             "schedule): where an ε error and an x0 error cost the same.",
             solve_04_3, _check_04_3, "an int t",
             "From ε̂, x̂0 = (y_t − √(1−ᾱ) ε̂)/√ᾱ: an ε error is scaled by √((1−ᾱ)/ᾱ) in x0, large "
             "at high noise (ᾱ → 0). From x̂0, ε̂ = (y_t − √ᾱ x̂0)/√(1−ᾱ): an x0 error is scaled "
             "by √(ᾱ/(1−ᾱ)) in ε, large at low noise. They cost the same where ᾱ = 1/2.",
             reference=_ref_04_3),
]
