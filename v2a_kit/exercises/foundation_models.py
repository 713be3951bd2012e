"""Notebook 01's exercises (the foundation models): zero-shot with one caption instead of an
ensemble (01.1), guidance against variety in text-to-audio (01.2), a measure of variety of
your own (01.3), and what pocket-CLAP makes of a word it never saw (01.4)."""

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
    read_accuracy_dict,
    read_number,
    to_number,
)


# 01 — foundation models
def solve_01_1(n: int = 100, world_seed: int = 2027):
    """Zero-shot audio accuracy of pocket-CLAP with ONE caption per attribute combination (the
    first of the eight the kit averages), on ``sample_world(n, world_seed)``."""
    import torch.nn.functional as F

    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    from v2a_kit.pocket.gates import combo_captions
    from v2a_kit.pocket.models.contrastive import combo_prompts, zero_shot_accuracy
    m = load_models()
    held = pw.sample_world(n, seed=world_seed)
    audio = m["clap"].encode_audio([(a, 16000) for a in held.audio], progress=False).embeds
    combos, prompts = combo_prompts(pw.AUDIBLE, combo_captions("audio"))  # with the contour
    single = F.normalize(m["clap"].encode_text([p[0] for p in prompts], progress=False).embeds,
                         dim=-1)
    return zero_shot_accuracy(audio, held.labels, combos, single)


def solve_01_2(world_seed: int = 2030, guidances=(1.0, 2.5, 5.0), num_sounds: int = 8):
    """For the audio caption of ``sample_world(1, world_seed)``: ``num_sounds`` sounds per
    guidance scale (one ``generate`` call, ``num_waveforms_per_prompt``, generator seed 0);
    the share the tagger hears with all attributes of the caption's scene, and their variety
    (mean pairwise distance of tagger features)."""
    import numpy as np
    import torch

    from v2a_kit import evaluation, generation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    m = load_models()
    scene = pw.sample_world(1, seed=world_seed)
    text = m["clap"].encode_text(scene.audio_captions, progress=False)
    out = {}
    for w in guidances:
        waves = generation.generate(m["audioldm"], text, guidance_scale=w,
                                    num_waveforms_per_prompt=num_sounds,
                                    generator=torch.Generator().manual_seed(0)).waveforms
        heard = m["tagger"].predict(waves)
        right = np.all([heard[a] == scene.labels[a][0] for a in pw.ATTRIBUTES], axis=0)
        out[float(w)] = {"accuracy": float(right.mean()),
                         "variety": evaluation.pairwise_diversity(m["tagger"].features(waves),
                                                                  num_sounds)}
    return out


def solve_01_3():
    """A variety measure: the mean pairwise distance between the tagger's features of the
    sounds (0 for identical sounds; larger when they differ in what the tagger hears)."""
    from v2a_kit import evaluation
    from v2a_kit.pocket import load_models
    tagger = load_models()["tagger"]

    def variety(waveforms) -> float:
        return evaluation.pairwise_diversity(tagger.features(waveforms), len(waveforms))
    return variety


def solve_01_4(caption: str = "a loud purple hum", without: str = "a loud hum"):
    """Cosine between pocket-CLAP's text embeddings of a caption with a word the world never
    uses and of the same caption without it."""
    from v2a_kit.pocket import load_models
    e = load_models()["clap"].encode_text([caption, without], progress=False).embeds
    return float((e[0] * e[1]).sum())


def jackknife_se(stat, n: int) -> float:
    """Jackknife standard error of ``stat(keep)`` (``keep``: a boolean mask of n items)."""
    import numpy as np
    loo = np.array([stat(np.arange(n) != i) for i in range(n)])
    return float(np.sqrt((n - 1) / n * ((loo - loo.mean()) ** 2).sum()))


def _ref_01_1():
    return {"value": solve_01_1(), "n": default_of(solve_01_1, "n")}


def _check_01_1(answer, ref):
    from ..pocket import world as pw
    read_accuracy_dict(answer, ref["value"], ref["n"], pw.AUDIBLE)


def _ref_01_2():
    """Per guidance: the accuracy over the sounds and the jackknife SE of their variety."""
    import numpy as np
    import torch

    from ..evaluation import pairwise_diversity
    from ..generation import generate
    from ..pocket import load_models
    from ..pocket import world as pw
    m = load_models()
    scene = pw.sample_world(1, seed=default_of(solve_01_2, "world_seed"))
    k = default_of(solve_01_2, "num_sounds")
    text = m["clap"].encode_text(scene.audio_captions, progress=False)
    out = {}
    for w in default_of(solve_01_2, "guidances"):
        waves = generate(m["audioldm"], text, guidance_scale=w, num_waveforms_per_prompt=k,
                         generator=torch.Generator().manual_seed(0)).waveforms
        heard = m["tagger"].predict(waves)
        right = np.all([heard[a] == scene.labels[a][0] for a in pw.ATTRIBUTES], axis=0)
        feats = np.asarray(m["tagger"].features(waves))
        out[float(w)] = {"accuracy": float(right.mean()),
                         "variety": pairwise_diversity(feats, k),
                         "variety_se": jackknife_se(
                             lambda keep, f=feats: pairwise_diversity(f[keep], int(keep.sum())),
                             k)}
    return {"value": out, "n": k}


def _check_01_2(answer, ref):
    check_accuracy_variety(answer, ref, lambda r: Z * r["variety_se"],
                            f"{Z:g} jackknife standard errors over the {ref['n']} sounds")


def _check_01_3(answer, ref):
    """01.3: the student's function must give ~0 for identical sounds and more for the sounds
    of different scenes than for redraws of one scene's sound."""
    import numpy as np

    from ..pocket import world as pw
    where = "the answer"
    if not callable(answer):
        raise Wrong(f"{where}: expected a function waveforms (k, 16000) -> float, got "
                     f"{describe(answer)}")
    scenes = pw.sample_world(8, seed=2031)
    one = pw.sample_audio_for({a: np.repeat(scenes.labels[a][:1], 8) for a in pw.ATTRIBUTES},
                              seed=2032).audio
    same = np.repeat(scenes.audio[:1], 8, axis=0)
    values = {}
    for name, waves in (("8 copies of one sound", same), ("8 redraws of one scene", one),
                        ("8 different scenes", scenes.audio)):
        try:
            v = to_number(answer(waves))
        except Exception as e:  # noqa: BLE001 - report the student's error, do not raise it
            raise Wrong(f"{where} raised {type(e).__name__}: {e} on {name}") from None
        if v is None or not math.isfinite(v):
            raise Wrong(f"{where} returned {v!r} for {name}; expected a finite number")
        values[name] = v
    scale = max(abs(v) for v in values.values()) or 1.0
    if abs(values["8 copies of one sound"]) > 1e-6 * scale:
        raise Wrong(f"{where} gives {values['8 copies of one sound']:.4g} for identical "
                     "sounds; a variety measure should give 0")
    if not values["8 different scenes"] > values["8 redraws of one scene"]:
        raise Wrong(f"{where} gives {values['8 different scenes']:.4g} for 8 different "
                     f"scenes but {values['8 redraws of one scene']:.4g} for 8 redraws of "
                     "one scene; different scenes should vary more")


def _ref_01_4():
    from ..pocket import load_models
    return {"value": solve_01_4(), "tol": float32_tol(load_models()["clap"].space.dim)}


def _check_01_4(answer, ref):
    v = to_number(answer)
    if v is not None and 1 < v <= 180:
        raise Wrong(f"the answer is {v:.4g}: that looks like an angle in degrees — pass the "
                     "cosine")
    v = read_number(answer, "the answer", -1.0, 1.0)
    expected, tol = ref["value"], ref["tol"]
    if abs(v - (1 - expected)) <= tol < abs(v - expected):
        raise Wrong(f"the answer is {v:.4g}: that is the cosine distance 1 − cos; pass the "
                     "cosine")
    if abs(v - 1) <= tol < abs(expected - 1):
        raise Wrong("the answer is 1: a caption's cosine with itself — compare 'a loud purple "
                     "hum' with 'a loud hum'")
    close_to(v, expected, tol, "the answer", "float32 rounding; the recipe has no randomness")


EXERCISES = [
    Exercise("01.1", "Zero-shot with a single caption per combination instead of an ensemble "
             "(the first of each combination's captions): pass pocket-CLAP's accuracy dict on "
             "`pw.sample_world(100, seed=2027)`. Which attribute suffers most?",
             solve_01_1, _check_01_1, "a dict {attribute: accuracy, 'all': accuracy}",
             "Compare with the ensemble's accuracy (`zero_shot` in the notebook): the attribute "
             "whose accuracy drops most is the one a single wording describes least reliably.",
             reference=_ref_01_1),
    Exercise("01.2", "Generate the audio caption of `pw.sample_world(1, seed=2030)` with "
             "`guidance_scale` of `1`, `2.5` and `5`, eight sounds each "
             "(`num_waveforms_per_prompt=8`, "
             "generator seed 0). Pass {w: {'accuracy', 'variety'}}: the share heard with every "
             "attribute right, and the mean pairwise tagger-feature distance.",
             solve_01_2, _check_01_2, "a dict {guidance: {'accuracy': float, 'variety': float}}",
             "Guidance pushes each sound toward its condition: accuracy usually rises from w = 1 "
             "and variety usually falls as w grows; the numbers say by how much here, and where "
             "more guidance stops paying.",
             reference=_ref_01_2),
    Exercise("01.3", "Design a measure of variety for several sounds of one caption using "
             "`tagger.features`: pass a function `variety(waveforms) -> float`.",
             solve_01_3, _check_01_3, "a function (k, 16000) waveforms -> float",
             "The checker asks two properties of any variety measure: identical sounds score 0, "
             "and sounds of different scenes score higher than redraws of one scene. Mean "
             "pairwise distance of features (`ev.pairwise_diversity`, as notebook 06 uses) has "
             "both."),
    Exercise("01.4", "Write a caption the world never produces ('a loud purple hum'). What does "
             "pocket-CLAP do with the unknown word? Pass the cosine of its text embedding with "
             "that of 'a loud hum'.",
             solve_01_4, _check_01_4, "a float",
             "pocket-CLAP's tokenizer was trained on the world's captions, so an unknown word "
             "becomes sub-word pieces it has never seen in context. A cosine near 1 says the "
             "model all but ignores it (and AudioLDM will make a loud hum); a lower one says "
             "the word moves the embedding somewhere the generator was never trained on.",
             reference=_ref_01_4),
]
