"""Notebook 03's exercises (the regression mapper): the cosine loss's optimum (03.1), ridge
against the MLP on a small training set (03.2), and the conditional-mean argument read from the
network's output norms (03.3)."""

from __future__ import annotations

from .checking import (
    F32_EPS,
    Exercise,
    Wrong,
    Z,
    close_to,
    default_of,
    is_number,
    mean_se,
    pair_of_shares,
    read_dict,
    read_number,
)


# 03 — regression mapper
def solve_03_1(n: int = 256, world_seed: int = 6000):
    """Ratio of the MSE loss to the cosine loss of the shipped regression mapper on the same
    pairs (both on normalised predictions)."""
    import dataclasses

    import torch

    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.mappers import pocket_pairs
    m = load_models()
    mse = m["regression"]
    cos = type(mse)(dataclasses.replace(mse.config, loss="cosine"), mse.clip_space,
                    mse.clap_space)
    cos.load_state_dict(mse.state_dict())
    pairs = pocket_pairs(n, world_seed, m["clip"], m["clap"])
    with torch.no_grad():
        mse_loss = mse.eval()(pairs.clip.embeds, pairs.clap.embeds)
        cos_loss = cos.eval()(pairs.clip.embeds, pairs.clap.embeds)
    return float(mse_loss / cos_loss)


def solve_03_2(num_train: int = 256, epochs: int = 30):
    """Test recall@1 of ridge and of the pocket regression MLP (created and trained under
    ``devices.seeded(0)``; the shipped config's training settings with ``epochs``), both trained on
    the first ``num_train`` pairs of the mappers' world seed; 64 validation pairs after them;
    tested on 200 pairs of world seed 6000."""
    from v2a_kit import evaluation, mappers, train
    from v2a_kit.devices import seeded
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.mappers import MAPPER_SEED, pocket_pairs
    m = load_models()
    pairs = pocket_pairs(num_train + 64, MAPPER_SEED, m["clip"], m["clap"])
    fit_on = pairs.subset(range(num_train))
    val = pairs.subset(range(num_train, num_train + 64))
    test = pocket_pairs(200, 6000, m["clip"], m["clap"])
    clip_space, clap_space = pairs.clip.space, pairs.clap.space
    with seeded(0):                  # building a model draws from torch's random stream
        ridge = mappers.fit_ridge(mappers.create_mapper("ridge", clip_space, clap_space),
                                  fit_on.clip.embeds, fit_on.clap.embeds)
    cfg = train.TrainConfig(**{**mappers.get_config("regression-pocket")["train"],
                               "epochs": epochs, "progress": False})
    with seeded(0):                  # the same start every run; your own random stream untouched
        mlp = mappers.create_mapper("regression-pocket", clip_space, clap_space)
        train.fit(mlp, fit_on, val, cfg)
    return {name: evaluation.recall_at_k(mapper.sample(test.clip.embeds), test.clap.embeds,
                                         ks=(1,))[1]
            for name, mapper in (("ridge", ridge), ("regression", mlp))}


def solve_03_3(n: int = 300, world_seed: int = 6000):
    """Mean norm of the shipped regression mapper's output *before* normalisation
    (``mapper.net(x)``), grouped by the images' ``count`` attribute (keyed by its value name)."""
    import torch

    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    from v2a_kit.pocket.mappers import pocket_pairs
    m = load_models()
    pairs = pocket_pairs(n, world_seed, m["clip"], m["clap"])
    labels = pw.sample_world(n, seed=world_seed).labels["count"]
    with torch.no_grad():
        norms = m["regression"].eval().net(pairs.clip.embeds).norm(dim=-1).numpy()
    return {name: float(norms[labels == i].mean())
            for i, name in enumerate(pw.ATTRIBUTES["count"]) if (labels == i).any()}


def _ref_03_1():
    from ..pocket import load_models
    return {"value": 2.0, "dim": load_models()["clap"].space.dim}


def _check_03_1(answer, ref):
    v = read_number(answer, "the answer")
    tol = 1e3 * F32_EPS                     # float32 rounding of two means over the pairs
    if abs(v - 0.5) <= tol:
        raise Wrong("your ratio is 0.5: that is cosine/MSE — the question asks MSE/cosine")
    if abs(v - 2 / ref["dim"]) <= tol * 2 / ref["dim"] * 10:
        raise Wrong(f"your ratio is {v:.4g} = 2/{ref['dim']}: an MSE averaged over the "
                     f"{ref['dim']} dimensions (F.mse_loss's default) — the mapper's MSE sums "
                     "over them: ‖p − y‖²")
    if abs(v - 1) <= tol:
        raise Wrong("your ratio is 1: on unit vectors ‖p − y‖² = 2 − 2 cos(p, y), so MSE and "
                     "1 − cos are not equal")
    if abs(v - ref["value"]) > tol * ref["value"]:
        raise Wrong(f"your ratio is {v:.6g}; on unit vectors ‖p − y‖² = 2 − 2 cos(p, y), so "
                     "MSE / (1 − cos) is exactly 2 (up to float32 rounding)")


def _ref_03_2():
    return {"value": solve_03_2(), "n": 200}


def _check_03_2(answer, ref):
    pair_of_shares(answer, ref, ["ridge", "regression"], ref["n"], "recall@1")


def _ref_03_3():
    import torch

    from ..pocket import load_models
    from ..pocket import world as pw
    from ..pocket.mappers import pocket_pairs
    m = load_models()
    n, seed = default_of(solve_03_3, "n"), default_of(solve_03_3, "world_seed")
    pairs = pocket_pairs(n, seed, m["clip"], m["clap"])
    labels = pw.sample_world(n, seed=seed).labels["count"]
    with torch.no_grad():
        norms = m["regression"].eval().net(pairs.clip.embeds).norm(dim=-1).numpy()
    return {name: {"value": float(norms[labels == i].mean()),
                   "tol": Z * mean_se(norms[labels == i]), "n": int((labels == i).sum())}
            for i, name in enumerate(pw.ATTRIBUTES["count"]) if (labels == i).sum() > 1}


def _check_03_3(answer, ref):
    names = list(ref)
    if isinstance(answer, dict) and answer and all(is_number(k) for k in answer):
        raise Wrong(f"the answer's keys {sorted(answer)} are value indices; key each mean by "
                     f"the count's value name ({names})")
    got = read_dict(answer, names, shape="{count value name: mean norm}")
    vals = {k: read_number(got[k], f"the answer[{k!r}]", 0.0) for k in names}
    if all(abs(v - 1) < 1e-4 for v in vals.values()) and any(
            abs(r["value"] - 1) > r["tol"] for r in ref.values()):
        raise Wrong("every norm is 1: you measured after normalisation (mapper.map or "
                     "mapper.sample); the question is about mapper.net(x), before it")
    for k, r in ref.items():
        close_to(vals[k], r["value"], r["tol"], f"the answer[{k!r}]",
              f"{Z:g} standard errors of the mean over its {r['n']} images")


EXERCISES = [
    Exercise("03.1", "Train with `loss='cosine'`. Does the optimum change? Pass the ratio of the "
             "MSE loss to the cosine loss on the same predictions (the shipped mapper, 256 "
             "pairs of world seed 6000).",
             solve_03_1, _check_03_1, "a float",
             "On unit vectors $\\lVert p - y\\rVert^2 = 2 - 2\\cos(p, y)$, so the MSE is "
             "exactly $2(1 - \\cos)$: the same optimum, gradients scaled by that same constant "
             "(which AdamW largely normalises away), so the training curves differ only by that "
             "factor on the loss axis.",
             reference=_ref_03_1),
    Exercise("03.2", "Shrink the training set to 256 pairs: which wins, ridge or the MLP? Pass "
             "{'ridge': recall@1, 'regression': recall@1} for the recipe of `solution('03.2')`.",
             solve_03_2, _check_03_2, "a dict {'ridge': float, 'regression': float}",
             "With few pairs a closed-form linear map has far fewer parameters to fit; repeat "
             "with a larger `num_train` to find where the MLP overtakes it.",
             reference=_ref_03_2),
    Exercise("03.3", "Check the conditional-mean argument: the mean norm of `mapper.net(x)` "
             "(before normalisation) per value of `count`, for 300 test images of world seed "
             "6000 and the shipped mapper.",
             solve_03_3, _check_03_3, "a dict {count value: mean norm}",
             "The mean of unit vectors pointing in different directions is shorter than 1: if "
             "the sounds of some images vary more in CLAP space, their conditional mean (what "
             "regression predicts before normalising) is shorter. Compare the norms across "
             "values.",
             reference=_ref_03_3),
]
