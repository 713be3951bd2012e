"""Notebook 02's exercises (the domain gap): the centroid gap between CLAP's text and audio
embeddings (02.1), neighbourhood overlap at other k (02.2), and a UMAP fitted on the true
embeddings alone (02.3)."""

from __future__ import annotations

from .checking import (
    Exercise,
    Wrong,
    Z,
    close_to,
    default_of,
    mean_se,
    read_dict,
    read_number,
    read_share,
    to_number,
)


# 02 — domain gap
def solve_02_1(n: int = 300, world_seed: int = 4000):
    """Centroid gap between pocket-CLAP *text* embeddings of the audio captions and the *audio*
    embeddings of the same clips of ``sample_world(n, world_seed)``."""
    from v2a_kit import evaluation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    clap = load_models()["clap"]
    batch = pw.sample_world(n, seed=world_seed)
    text = clap.encode_text(batch.audio_captions, progress=False).embeds
    audio = clap.encode_audio([(a, 16000) for a in batch.audio], progress=False).embeds
    return evaluation.centroid_gap(text, audio)


def solve_02_2(n: int = 300, world_seed: int = 4000, ks=(10, 50)):
    """k-NN overlap between pocket-CLIP and pocket-CLAP embeddings of the same pairs, per k."""
    from v2a_kit import evaluation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.mappers import pocket_pairs
    m = load_models()
    pairs = pocket_pairs(n, world_seed, m["clip"], m["clap"])
    return {k: evaluation.knn_overlap(pairs.clip.embeds, pairs.clap.embeds, k=k) for k in ks}


def solve_02_3(n: int = 300, world_seed: int = 4000):
    """A reducer fitted on the true CLAP audio embeddings alone; the shipped regression mapper's
    outputs placed with ``transform``. Returns the figure."""
    import numpy as np
    import umap

    from v2a_kit import viz
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.mappers import pocket_pairs
    m = load_models()
    pairs = pocket_pairs(n, world_seed, m["clip"], m["clap"])
    mapped = m["regression"].map(pairs.clip)
    reducer = umap.UMAP(metric="cosine", random_state=0, n_jobs=1)
    xy_true = reducer.fit_transform(np.asarray(pairs.clap.embeds))
    xy_mapped = reducer.transform(np.asarray(mapped.embeds))
    return viz.plot_pair_lines(xy_mapped, xy_true, "mapped CLIP (transformed)",
                               "true CLAP audio (fitted)", title="reducer fitted on CLAP alone")


def _ref_02_1():
    import numpy as np
    import torch.nn.functional as F

    from ..pocket import load_models
    from ..pocket import world as pw
    clap = load_models()["clap"]
    batch = pw.sample_world(default_of(solve_02_1, "n"), seed=default_of(solve_02_1, "world_seed"))
    text = F.normalize(clap.encode_text(batch.audio_captions, progress=False).embeds,
                       dim=-1).double().numpy()
    audio = F.normalize(clap.encode_audio([(a, 16000) for a in batch.audio],
                                          progress=False).embeds, dim=-1).double().numpy()
    gap = float(np.linalg.norm(text.mean(0) - audio.mean(0)))
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(text), (200, len(text)))
    boot = [np.linalg.norm(text[i].mean(0) - audio[i].mean(0)) for i in idx]
    return {"value": gap, "tol": Z * float(np.std(boot, ddof=1))}


def _check_02_1(answer, ref):
    v = read_number(answer, "the answer", 0.0, 2.0)
    expected, tol = ref["value"], ref["tol"]
    if v <= tol < expected - tol:
        raise Wrong(f"the answer is {v:.3g}: (almost) no gap — that is a set's centroid against "
                     "itself; compare the TEXT embeddings of the captions with the AUDIO ones")
    if abs(v - expected ** 2) <= tol < abs(v - expected):
        raise Wrong(f"the answer is {v:.4g}: that is the squared gap ‖mean(x) − mean(y)‖²; "
                     "the gap is the norm itself")
    close_to(v, expected, tol, "the answer", f"{Z:g} bootstrap standard errors over the clips")


def _ref_02_2():
    import numpy as np
    import torch.nn.functional as F

    from ..pocket import load_models
    from ..pocket.mappers import pocket_pairs
    m = load_models()
    n = default_of(solve_02_2, "n")
    pairs = pocket_pairs(n, default_of(solve_02_2, "world_seed"), m["clip"], m["clap"])
    a = F.normalize(pairs.clip.embeds, dim=-1).double()
    b = F.normalize(pairs.clap.embeds, dim=-1).double()
    out = {}
    for k in default_of(solve_02_2, "ks"):
        def knn(e, k=k):
            s = e @ e.T
            s.fill_diagonal_(-np.inf)
            return s.topk(k, dim=1).indices.tolist()
        per_item = [len(set(r) & set(q)) / k for r, q in zip(knn(a), knn(b))]
        out[int(k)] = {"value": float(np.mean(per_item)), "tol": Z * mean_se(per_item),
                       "chance": k / (n - 1)}
    return {"value": out, "n": n}


def _check_02_2(answer, ref):
    got = read_dict(answer, list(ref["value"]), key=int, shape="{k: overlap}")
    for k, r in ref["value"].items():
        where = f"the answer[{k}]"
        v = to_number(got[k])
        if v is not None and 1 < v <= k:
            raise Wrong(f"{where} is {v:.4g}: that looks like a count of shared neighbours — "
                         f"divide by k = {k}")
        v = read_share(got[k], where)
        if abs(v - r["chance"]) < 1e-3 < abs(r["value"] - r["chance"]) - r["tol"]:
            raise Wrong(f"{where} is {v:.3g}: that is the chance overlap k/(n − 1) = "
                         f"{k}/{ref['n'] - 1}, not the measured one")
        close_to(v, r["value"], r["tol"], where, f"{Z:g} standard errors of the mean over the "
              f"{ref['n']} items")


EXERCISES = [
    Exercise("02.1", "The centroid gap between pocket-CLAP **text** embeddings of the audio "
             "captions and the **audio** embeddings of `pw.sample_world(300, seed=4000)`.",
             solve_02_1, _check_02_1, "a float",
             "Compare it with the gaps notebook 02 prints for the mapper before and after "
             "training. A clearly non-zero gap is a modality gap inside CLAP; AudioLDM still "
             "follows text because it was trained with condition dropout on audio embeddings "
             "and text embeddings of matching captions lie nearest to their sounds' region of "
             "the space, even if offset.",
             reference=_ref_02_1),
    Exercise("02.2", "Repeat section 2 with `k=50` (and `k=10`) on 300 pairs of world seed "
             "4000: pass {k: overlap}. How does the overlap scale with k, and why?",
             solve_02_2, _check_02_2, "a dict {10: float, 50: float}",
             "Chance overlap is k/(n − 1): it grows linearly with k. Compare each overlap with "
             "its chance level: a larger k reaches past an item's own attribute cluster into "
             "neighbours both spaces place near only by shared attributes.",
             reference=_ref_02_2),
    Exercise("02.3", "Fit the reducer on the true CLAP embeddings alone and `transform` the "
             "mapped ones. What changes in the picture, and which version is honest about the "
             "gap?", solve_02_3, None, "a figure (no checker: the answer is an argument)",
             "A reducer fitted on one set lays out only that set's structure; the transformed "
             "points are placed among the fitted ones even where they fall off their manifold, "
             "so a gap can look smaller than it is. Fitting one reducer on both (the notebook's "
             "way) lets the layout show the gap."),
]
