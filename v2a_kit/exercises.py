"""The notebooks' exercises: their solutions, and checkers a student can call.

``check("03.3", answer)`` prints a verdict and returns ``True`` or ``False``: what is right, or
precisely what is wrong — including, for an answer of the wrong type or shape, what was expected.
A checker never raises for a bad *answer*; an unknown exercise id is a :class:`ConfigError` that
lists the known ones. Expected answers are computed at check time by the reference solution on
the kit's current models (the pocket preset), never typed in, so they follow the weights.

``solution("03.3")`` returns the reference solution (a function with small, fast defaults;
``inspect.getsource`` shows it), ``source("03.3")`` its code, and ``EXERCISES`` describes each:
its notebook, its question, whether it has a checker, and a discussion whose conclusions the
solution's numbers decide. Exercises whose answer is an argument or a measurement of this
machine (timings) have a solution and no checker.
"""

from __future__ import annotations

import functools
import inspect
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ConfigError

__all__ = ["Exercise", "EXERCISES", "check", "solution", "source", "ids", "details"]

PRESET = "pocket"


@dataclass(frozen=True)
class Exercise:
    id: str                              # "NN.k": notebook NN, exercise k
    question: str                        # the exercise, as the notebook asks it
    solve: Callable | None               # the reference solution (None: nothing to run)
    compare: Callable | None             # (answer, expected) -> list of problems; None: no checker
    expects: str                         # what an answer looks like
    discussion: str                      # how to read the solution's result


# --- the pocket models, loaded once per process -------------------------------------------------
@functools.cache
def _models():
    from . import registry
    from .pocket import load_audio_to_image, load_tagger
    return {"clip": registry.load_clip(PRESET, device="cpu"),
            "clap": registry.load_clap(PRESET, device="cpu"),
            "audioldm": registry.load_audioldm(PRESET, device="cpu"),
            "regression": registry.load_mapper(PRESET, kind="regression", device="cpu"),
            "diffusion": registry.load_mapper(PRESET, kind="diffusion", device="cpu"),
            "tagger": load_tagger(), "a2i": load_audio_to_image()}


def _gen(seed: int):
    import torch
    return torch.Generator().manual_seed(seed)


# --- comparing an answer with the expected one --------------------------------------------------
def _is_number(x) -> bool:
    import numbers
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _num(x):
    """A Python float from a float, a numpy scalar or a one-element tensor/array; else None."""
    if _is_number(x):
        return float(x)
    try:
        import numpy as np
        a = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
        if a.size == 1 and a.dtype.kind in "fiu":
            return float(a.reshape(()))
    except Exception:  # noqa: BLE001 - anything unreadable is "not a number" to the checker
        pass
    return None


def _describe(x) -> str:
    shape = getattr(x, "shape", None)
    return f"{type(x).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def _number(tol: float):
    def compare(answer, expected, where="the answer"):
        got = _num(answer)
        if got is None:
            return [f"{where}: expected a number, got {_describe(answer)}"]
        if not math.isfinite(got) or abs(got - expected) > tol:
            return [f"{where} is {got:.6g}; the reference gives {expected:.6g} "
                    f"(tolerance {tol:g})"]
        return []
    return compare


def _integer(tol: int = 0):
    def compare(answer, expected, where="the answer"):
        got = _num(answer)
        if got is None or got != int(got):
            return [f"{where}: expected an integer, got {_describe(answer)}"]
        if abs(int(got) - expected) > tol:
            return [f"{where} is {int(got)}; the reference gives {expected}"
                    + (f" (± {tol})" if tol else "")]
        return []
    return compare


def _mapping(value_compare, key=lambda k: k):
    """Compare a dict key by key (keys normalised by ``key``; values by ``value_compare``)."""
    def compare(answer, expected, where="the answer"):
        if not isinstance(answer, dict):
            return [f"{where}: expected a dict with keys {sorted(expected, key=str)}, "
                    f"got {_describe(answer)}"]
        try:
            got = {key(k): v for k, v in answer.items()}
        except (TypeError, ValueError):
            return [f"{where}: its keys {list(answer)} are not of the expected kind "
                    f"({sorted(expected, key=str)})"]
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            return [f"{where}: expected keys {sorted(expected, key=str)}"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; unexpected {extra}" if extra else "")]
        problems = []
        for k in expected:
            problems += value_compare(got[k], expected[k], f"{where}[{k!r}]")
        return problems
    return compare


def _boolean(answer, expected, where="the answer"):
    if not isinstance(answer, bool) and type(answer).__name__ != "bool_":
        return [f"{where}: expected True or False, got {_describe(answer)}"]
    return [] if bool(answer) == expected else [f"{where} is {bool(answer)}; the reference "
                                                f"gives {expected}"]


_ACC = _mapping(_number(1e-6))  # accuracies of one fixed recipe: exact up to rounding


# ================================================================================================
# 00 — quickstart
def solve_00_1(n: int = 6, world_seed: int = 11):
    """Accuracy of the tagger's reading of sounds generated (regression mapper, one call to
    ``generate`` with generator seed 0) for ``sample_world(n, world_seed)``."""
    from .generation import generate
    from .pocket import world as pw
    from .pocket.gates import attribute_accuracy
    m = _models()
    scenes = pw.sample_world(n, seed=world_seed)
    clap_embed = m["regression"].map(m["clip"].encode_images(list(scenes.images), progress=False))
    waves = generate(m["audioldm"], clap_embed, generator=_gen(0)).waveforms
    return attribute_accuracy(m["tagger"].predict(waves), scenes.labels)


def solve_00_2(world_seed: int = 7):
    """The diffusion mapper's CLAP samples for one image under mapper seeds 0 and 1: their
    cosine, and whether the tagger hears the same attributes in the two sounds (both generated
    with AudioLDM noise seed 0, so only the mapper's seed differs)."""
    from .generation import generate
    from .pocket import world as pw
    m = _models()
    image = m["clip"].encode_images(list(pw.sample_world(1, seed=world_seed).images),
                                    progress=False)
    a, b = (m["diffusion"].map(image, generator=_gen(s)) for s in (0, 1))
    cosine = float((a.embeds * b.embeds).sum())
    heard = [m["tagger"].predict(generate(m["audioldm"], e, generator=_gen(0)).waveforms)
             for e in (a, b)]
    same = all(int(heard[0][k][0]) == int(heard[1][k][0]) for k in heard[0])
    return {"cosine": cosine, "same_attributes": same}


# 01 — foundation models
def _combo_captions(kind: str):
    from .pocket.gates import _combo_captions as captions
    return captions(kind)


def solve_01_1(n: int = 100, world_seed: int = 2027):
    """Zero-shot audio accuracy of pocket-CLAP with ONE caption per attribute combination (the
    first of the ensemble the kit averages), on ``sample_world(n, world_seed)``."""
    import torch.nn.functional as F

    from .pocket import world as pw
    from .pocket.contrastive import combo_prompts, zero_shot_accuracy
    m = _models()
    held = pw.sample_world(n, seed=world_seed)
    audio = m["clap"].encode_audio([(a, 16000) for a in held.audio], progress=False).embeds
    combos, prompts = combo_prompts(pw.AUDIBLE, _combo_captions("audio"))  # with the contour
    single = F.normalize(m["clap"].encode_text([p[0] for p in prompts], progress=False).embeds,
                         dim=-1)
    return zero_shot_accuracy(audio, held.labels, combos, single)


def solve_01_2(world_seed: int = 2030, guidances=(1.0, 2.5, 5.0), num_sounds: int = 8):
    """For the audio caption of ``sample_world(1, world_seed)``: ``num_sounds`` sounds per
    guidance scale (one ``generate`` call, ``num_waveforms_per_prompt``, generator seed 0);
    the share the tagger hears with all attributes of the caption's scene, and their variety
    (mean pairwise distance of tagger features)."""
    import numpy as np

    from .evaluation import pairwise_diversity
    from .generation import generate
    from .pocket import world as pw
    m = _models()
    scene = pw.sample_world(1, seed=world_seed)
    text = m["clap"].encode_text(scene.audio_captions, progress=False)
    out = {}
    for w in guidances:
        waves = generate(m["audioldm"], text, guidance_scale=w, num_waveforms_per_prompt=num_sounds,
                         generator=_gen(0)).waveforms
        heard = m["tagger"].predict(waves)
        right = np.all([heard[a] == scene.labels[a][0] for a in pw.ATTRIBUTES], axis=0)
        out[float(w)] = {"accuracy": float(right.mean()),
                         "variety": pairwise_diversity(m["tagger"].features(waves), num_sounds)}
    return out


def solve_01_3():
    """A variety measure: the mean pairwise distance between the tagger's features of the
    sounds (0 for identical sounds; larger when they differ in what the tagger hears)."""
    from .evaluation import pairwise_diversity

    def variety(waveforms) -> float:
        return pairwise_diversity(_models()["tagger"].features(waveforms), len(waveforms))
    return variety


def solve_01_4(caption: str = "a loud purple hum", without: str = "a loud hum"):
    """Cosine between pocket-CLAP's text embeddings of a caption with a word the world never
    uses and of the same caption without it."""
    e = _models()["clap"].encode_text([caption, without], progress=False).embeds
    return float((e[0] * e[1]).sum())


# 02 — domain gap
@functools.cache
def _held_pairs(n: int, world_seed: int):
    """pocket-CLIP / pocket-CLAP embeddings of ``sample_world(n, world_seed)`` (cached)."""
    from .pocket.mappers import pocket_pairs
    m = _models()
    return pocket_pairs(n, world_seed, m["clip"], m["clap"])


def solve_02_1(n: int = 300, world_seed: int = 4000):
    """Centroid gap between pocket-CLAP *text* embeddings of the audio captions and the *audio*
    embeddings of the same clips of ``sample_world(n, world_seed)``."""
    from .evaluation import centroid_gap
    from .pocket import world as pw
    m = _models()
    batch = pw.sample_world(n, seed=world_seed)
    text = m["clap"].encode_text(batch.audio_captions, progress=False).embeds
    audio = m["clap"].encode_audio([(a, 16000) for a in batch.audio], progress=False).embeds
    return centroid_gap(text, audio)


def solve_02_2(n: int = 300, world_seed: int = 4000, ks=(10, 50)):
    """k-NN overlap between pocket-CLIP and pocket-CLAP embeddings of the same pairs, per k."""
    from .evaluation import knn_overlap
    pairs = _held_pairs(n, world_seed)
    return {k: knn_overlap(pairs.clip.embeds, pairs.clap.embeds, k=k) for k in ks}


def solve_02_3(n: int = 300, world_seed: int = 4000):
    """A reducer fitted on the true CLAP audio embeddings alone; the shipped regression mapper's
    outputs placed with ``transform``. Returns the figure."""
    import numpy as np
    import umap

    from .viz import plot_pair_lines
    pairs = _held_pairs(n, world_seed)
    mapped = _models()["regression"].map(pairs.clip)
    reducer = umap.UMAP(metric="cosine", random_state=0, n_jobs=1)
    xy_true = reducer.fit_transform(np.asarray(pairs.clap.embeds))
    xy_mapped = reducer.transform(np.asarray(mapped.embeds))
    return plot_pair_lines(xy_mapped, xy_true, "mapped CLIP (transformed)",
                           "true CLAP audio (fitted)", title="reducer fitted on CLAP alone")


# 03 — regression mapper
def solve_03_1(n: int = 256, world_seed: int = 6000):
    """Ratio of the MSE loss to the cosine loss of the shipped regression mapper on the same
    pairs (both on normalised predictions)."""
    import dataclasses

    import torch
    m = _models()["regression"]
    cos = type(m)(dataclasses.replace(m.config, loss="cosine"), m.clip_space, m.clap_space)
    cos.load_state_dict(m.state_dict())
    pairs = _held_pairs(n, world_seed)
    with torch.no_grad():
        mse_loss = m.eval()(pairs.clip.embeds, pairs.clap.embeds)
        cos_loss = cos.eval()(pairs.clip.embeds, pairs.clap.embeds)
    return float(mse_loss / cos_loss)


def solve_03_2(num_train: int = 256, epochs: int = 30):
    """Test recall@1 of ridge and of the pocket regression MLP (``torch.manual_seed(0)`` before
    ``create_mapper``; the shipped config's training settings with ``epochs``), both trained on
    the first ``num_train`` pairs of the mappers' world seed; 64 validation pairs after them;
    tested on 200 pairs of world seed 6000."""
    import torch

    from .evaluation import recall_at_k
    from .mappers import create_mapper, fit_ridge, get_config
    from .pocket.mappers import MAPPER_SEED
    from .train import TrainConfig, fit
    pairs = _held_pairs(num_train + 64, MAPPER_SEED)
    train, val = pairs.subset(range(num_train)), pairs.subset(range(num_train, num_train + 64))
    test = _held_pairs(200, 6000)
    clip_space, clap_space = pairs.clip.space, pairs.clap.space
    ridge = fit_ridge(create_mapper("ridge", clip_space, clap_space), train.clip.embeds,
                      train.clap.embeds)
    torch.manual_seed(0)
    mlp = create_mapper("regression-pocket", clip_space, clap_space)
    cfg = TrainConfig(**{**get_config("regression-pocket")["train"], "epochs": epochs,
                         "progress": False})
    fit(mlp, train, val, cfg)
    return {name: recall_at_k(mapper.sample(test.clip.embeds), test.clap.embeds, ks=(1,))[1]
            for name, mapper in (("ridge", ridge), ("regression", mlp))}


def solve_03_3(n: int = 300, world_seed: int = 6000):
    """Mean norm of the shipped regression mapper's output *before* normalisation
    (``mapper.net(x)``), grouped by the images' ``count`` attribute (keyed by its value name)."""
    import torch

    from .pocket import world as pw
    m = _models()
    pairs = _held_pairs(n, world_seed)
    labels = pw.sample_world(n, seed=world_seed).labels["count"]
    with torch.no_grad():
        norms = m["regression"].eval().net(pairs.clip.embeds).norm(dim=-1).numpy()
    return {name: float(norms[labels == i].mean())
            for i, name in enumerate(pw.ATTRIBUTES["count"]) if (labels == i).any()}


# 04 — generative mapper
def solve_04_1(n: int = 8, guidances=(1.0, 3.0)):
    """``measure_tradeoff`` of the shipped generative mapper on ``n`` images with three samples
    each, at each mapper guidance: its diversity and CS."""
    from .pocket.mappers import measure_tradeoff
    gen = _models()["diffusion"]
    out = {}
    for w in guidances:
        row = measure_tradeoff({"generative": gen}, n=n, num_samples=3,
                               mapper_guidance=w)["generative"]
        out[float(w)] = {"diversity": row["diversity"], "cs": row["cs"]}
    return out


def solve_04_2(n: int = 128, world_seed: int = 6000, steps: int = 10):
    """Recall@1 of the shipped generative mapper's samples with DDIM and with DDPM on ``steps``
    steps (generator seed 0), on ``n`` held-out pairs."""
    from .evaluation import recall_at_k
    gen = _models()["diffusion"]
    pairs = _held_pairs(n, world_seed)
    return {s: recall_at_k(gen.sample(pairs.clip.embeds, sampler=s, num_inference_steps=steps,
                                      generator=_gen(0)), pairs.clap.embeds, ks=(1,))[1]
            for s in ("ddim", "ddpm")}


def solve_04_3(timesteps: int = 1000):
    """The first noise level t at which ᾱ_t < 1/2 (cosine schedule): below it an error of
    ε-prediction costs less in x0 than the same error of x0-prediction, above it more."""
    from .mappers.diffusion import cosine_alphas_cumprod
    abar = cosine_alphas_cumprod(timesteps)
    return int((abar < 0.5).nonzero()[0])


# 05 — generate and listen
def solve_05_1(world_seed: int = 6100, num_samples: int = 8):
    """Mean cosine between the ``num_samples`` CLAP embeddings each mapper gives for one image
    (mapper generator seed 0): 1 means they are all the same vector."""
    import torch

    from .pocket import world as pw
    m = _models()
    image = m["clip"].encode_images(list(pw.sample_world(1, seed=world_seed).images),
                                    progress=False)
    off = ~torch.eye(num_samples, dtype=torch.bool)
    out = {}
    for kind in ("regression", "diffusion"):
        e = m[kind].map(image, num_samples=num_samples, generator=_gen(0)).embeds
        out[kind] = float((e @ e.T)[off].mean())
    return out


def solve_05_2(n: int = 8, world_seed: int = 6200, guidances=(1.0, 2.0, 3.0, 4.0)):
    """The generative pipeline (``seed=0``, two samples per image) on ``sample_world(n,
    world_seed)`` at each mapper guidance: the share of first samples with all attributes
    heard right, and the variety of the two sounds (mean pairwise tagger-feature distance)."""
    import numpy as np

    from .evaluation import pairwise_diversity
    from .pipeline import V2APipeline
    from .pocket import world as pw
    m = _models()
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
                         "variety": pairwise_diversity(m["tagger"].features(waves), 2)}
    return out


def solve_05_3(num_scenes: int = 6, seconds_per_scene: float = 0.5):
    """How many segments the pipeline cuts a video of ``num_scenes`` scenes of
    ``seconds_per_scene`` into (each segment gets one sound from its frames' mean)."""
    import tempfile
    from pathlib import Path

    from .pipeline import V2APipeline
    from .pocket.video import write_scene_video
    m = _models()
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

    from .pipeline import V2APipeline
    from .pocket import world as pw
    m = _models()
    images = list(pw.sample_world(n, seed=6200).images)
    pipe = V2APipeline(m["clip"], m["regression"], m["audioldm"])
    pipe(images[:1], progress=False)                       # warm-up
    out = {}
    for b in batch_sizes:
        t0 = time.perf_counter()
        pipe(images, batch_size=b, progress=False)
        out[b] = time.perf_counter() - t0
    return out


# 06 — reproducing the evaluation
def solve_06_1(n: int = 8, num_inference_steps: int = 200):
    """The systems ordered by FD (best first) with DDIM at ``num_inference_steps`` steps, on
    ``n`` images, one seed."""
    from .pocket.reproduce import reproduce
    report = reproduce(n=n, seeds=(0,), scheduler="ddim", num_inference_steps=num_inference_steps)
    fd = {name: s["metrics"]["fd"]["mean"] for name, s in report["systems"].items()}
    return sorted(fd, key=fd.get)


def solve_06_2(sizes=(32, 64, 128), world_seed: int = 6600):
    """FD (pocket tagger features) between the first n real sounds of ``sample_world`` and
    other real sounds of the same scenes, for each n: one system, only n changes."""
    from .evaluation import frechet_distance
    from .pocket import world as pw
    from .registry import load_extractors
    ex = load_extractors(PRESET)
    real = pw.sample_world(max(sizes), seed=world_seed)
    other = pw.sample_audio_for(real, seed=world_seed + 1)
    fa, fb = ex.fd.fd_features(real.audio), ex.fd.fd_features(other.audio)
    return {k: frechet_distance(fa[:k], fb[:k]) for k in sizes}


def solve_06_3(n: int = 8, num_train: int = 2048):
    """The nearest-neighbour baseline with a pool of ``num_train`` and of twice that: its
    metrics' means (one seed), per pool size."""
    from .pocket.reproduce import reproduce
    out = {}
    for pool in (num_train, 2 * num_train):
        report = reproduce(n=n, seeds=(0,), num_train=pool, mappers={},
                           baselines=("nearest neighbour",))
        out[pool] = {k: v["mean"] for k, v in
                     report["systems"]["nearest neighbour"]["metrics"].items()}
    return out


def _compare_variety(answer, expected, where="the answer"):
    """01.3: the student's function must give ~0 for identical sounds and more for the sounds
    of different scenes than for redraws of one scene's sound."""
    import numpy as np

    from .pocket import world as pw
    if not callable(answer):
        return [f"{where}: expected a function waveforms (k, 16000) -> float, got "
                f"{_describe(answer)}"]
    scenes = pw.sample_world(8, seed=2031)
    one = pw.sample_audio_for({a: np.repeat(scenes.labels[a][:1], 8) for a in pw.ATTRIBUTES},
                              seed=2032).audio
    same = np.repeat(scenes.audio[:1], 8, axis=0)
    values = {}
    for name, waves in (("8 copies of one sound", same), ("8 redraws of one scene", one),
                        ("8 different scenes", scenes.audio)):
        try:
            v = _num(answer(waves))
        except Exception as e:  # noqa: BLE001 - report the student's error, do not raise it
            return [f"{where} raised {type(e).__name__}: {e} on {name}"]
        if v is None or not math.isfinite(v):
            return [f"{where} returned {v!r} for {name}; expected a finite number"]
        values[name] = v
    problems = []
    scale = max(abs(v) for v in values.values()) or 1.0
    if abs(values["8 copies of one sound"]) > 1e-6 * scale:
        problems.append(f"{where} gives {values['8 copies of one sound']:.4g} for identical "
                        "sounds; a variety measure should give 0")
    if not values["8 different scenes"] > values["8 redraws of one scene"]:
        problems.append(f"{where} gives {values['8 different scenes']:.4g} for 8 different "
                        f"scenes but {values['8 redraws of one scene']:.4g} for 8 redraws of "
                        "one scene; different scenes should vary more")
    return problems


def _compare_ordering(answer, expected, where="the answer"):
    if not isinstance(answer, (list, tuple)) or not all(isinstance(x, str) for x in answer):
        return [f"{where}: expected a list of system names, got {_describe(answer)}"]
    return [] if list(answer) == list(expected) else [f"{where} is {list(answer)}; the "
                                                      f"reference gives {list(expected)}"]


_PAIR = _mapping(_mapping(_number(1e-4)), key=float)

EXERCISES: dict[str, Exercise] = {e.id: e for e in [
    Exercise("00.1", "Generate for `pw.sample_world(6, seed=11)` (regression mapper, one "
             "`generate` call with generator seed 0) and compare the tagger's reading with "
             "the labels: pass the accuracy dict of `attribute_accuracy`.",
             solve_00_1, _ACC, "a dict {attribute: accuracy, 'all': accuracy}",
             "Each attribute's accuracy is the share of the six sounds in which the tagger "
             "hears the image's value; `all` needs every attribute right at once, so it is "
             "never above the lowest of them."),
    Exercise("00.2", "Change the diffusion mapper's generator seed (0, then 1) for the image of "
             "section 2: what changes in the sound, what stays? Pass the cosine of the two CLAP "
             "samples and whether the tagger hears the same attributes.",
             solve_00_2, _mapping(lambda a, e, w: (_number(1e-4)(a, e, w) if _is_number(e)
                                                   else _boolean(a, e, w))),
             "a dict {'cosine': float, 'same_attributes': bool}",
             "A cosine near 1 means the mapper's seed hardly moves the CLAP embedding: the "
             "variety one hears then comes from AudioLDM's own noise. A clearly lower cosine "
             "means the prior samples different sounds; the tagger's verdict says whether they "
             "still carry the image's attributes (what the image shows should stay, what it "
             "cannot show may change)."),
    Exercise("01.1", "Zero-shot with a single caption per combination instead of an ensemble "
             "(the first of each combination's captions): pass pocket-CLAP's accuracy dict on "
             "`pw.sample_world(100, seed=2027)`. Which attribute suffers most?",
             solve_01_1, _ACC, "a dict {attribute: accuracy, 'all': accuracy}",
             "Compare with the ensemble's accuracy (`zero_shot` in the notebook): the attribute "
             "whose accuracy drops most is the one a single wording describes least reliably."),
    Exercise("01.2", "Generate the audio caption of `pw.sample_world(1, seed=2030)` with "
             "`guidance_scale` of `1`, `2.5` and `5`, eight sounds each "
             "(`num_waveforms_per_prompt=8`, "
             "generator seed 0). Pass {w: {'accuracy', 'variety'}}: the share heard with every "
             "attribute right, and the mean pairwise tagger-feature distance.",
             solve_01_2, _PAIR, "a dict {guidance: {'accuracy': float, 'variety': float}}",
             "Guidance pushes each sound toward its condition: accuracy usually rises from w = 1 "
             "and variety usually falls as w grows; the numbers say by how much here, and where "
             "more guidance stops paying."),
    Exercise("01.3", "Design a measure of variety for several sounds of one caption using "
             "`tagger.features`: pass a function `variety(waveforms) -> float`.",
             solve_01_3, _compare_variety, "a function (k, 16000) waveforms -> float",
             "The checker asks two properties of any variety measure: identical sounds score 0, "
             "and sounds of different scenes score higher than redraws of one scene. Mean "
             "pairwise distance of features (`ev.pairwise_diversity`, as notebook 06 uses) has "
             "both."),
    Exercise("01.4", "Write a caption the world never produces ('a loud purple hum'). What does "
             "pocket-CLAP do with the unknown word? Pass the cosine of its text embedding with "
             "that of 'a loud hum'.",
             solve_01_4, _number(1e-4), "a float",
             "pocket-CLAP's tokenizer was trained on the world's captions, so an unknown word "
             "becomes sub-word pieces it has never seen in context. A cosine near 1 says the "
             "model all but ignores it (and AudioLDM will make a loud hum); a lower one says "
             "the word moves the embedding somewhere the generator was never trained on."),
    Exercise("02.1", "The centroid gap between pocket-CLAP **text** embeddings of the audio "
             "captions and the **audio** embeddings of `pw.sample_world(300, seed=4000)`.",
             solve_02_1, _number(1e-4), "a float",
             "Compare it with the gaps notebook 02 prints for the mapper before and after "
             "training. A clearly non-zero gap is a modality gap inside CLAP; AudioLDM still "
             "follows text because it was trained with condition dropout on audio embeddings "
             "and text embeddings of matching captions lie nearest to their sounds' region of "
             "the space, even if offset."),
    Exercise("02.2", "Repeat section 2 with `k=50` (and `k=10`) on 300 pairs of world seed "
             "4000: pass {k: overlap}. How does the overlap scale with k, and why?",
             solve_02_2, _mapping(_number(1e-6), key=int), "a dict {10: float, 50: float}",
             "Chance overlap is k/(n − 1): it grows linearly with k. Compare each overlap with "
             "its chance level: a larger k reaches past an item's own attribute cluster into "
             "neighbours both spaces place near only by shared attributes."),
    Exercise("02.3", "Fit the reducer on the true CLAP embeddings alone and `transform` the "
             "mapped ones. What changes in the picture, and which version is honest about the "
             "gap?", solve_02_3, None, "a figure (no checker: the answer is an argument)",
             "A reducer fitted on one set lays out only that set's structure; the transformed "
             "points are placed among the fitted ones even where they fall off their manifold, "
             "so a gap can look smaller than it is. Fitting one reducer on both (the notebook's "
             "way) lets the layout show the gap."),
    Exercise("03.1", "Train with `loss='cosine'`. Does the optimum change? Pass the ratio of the "
             "MSE loss to the cosine loss on the same predictions (the shipped mapper, 256 "
             "pairs of world seed 6000).",
             solve_03_1, _number(1e-4), "a float",
             "On unit vectors ‖p − y‖² = 2 − 2 cos(p, y), so the MSE is exactly twice 1 − cos: "
             "the same optimum, gradients twice as large (which AdamW largely normalises away), "
             "so the training curves differ by a factor of 2 in the loss axis."),
    Exercise("03.2", "Shrink the training set to 256 pairs: which wins, ridge or the MLP? Pass "
             "{'ridge': recall@1, 'regression': recall@1} for the recipe of `solution('03.2')`.",
             solve_03_2, _mapping(_number(1e-6)), "a dict {'ridge': float, 'regression': float}",
             "With few pairs a closed-form linear map has far fewer parameters to fit; repeat "
             "at 512, 1024, ... to find where the MLP overtakes it."),
    Exercise("03.3", "Check the conditional-mean argument: the mean norm of `mapper.net(x)` "
             "(before normalisation) per value of `count`, for 300 test images of world seed "
             "6000 and the shipped mapper.",
             solve_03_3, _mapping(_number(1e-4)), "a dict {count value: mean norm}",
             "The mean of unit vectors pointing in different directions is shorter than 1: if "
             "the sounds of some images vary more in CLAP space, their conditional mean (what "
             "regression predicts before normalising) is shorter. Compare the norms across "
             "values."),
    Exercise("04.1", "Re-run the trade-off with `mapper_guidance=3.0` (and `1.0` to compare) on 8 "
             "images: pass {w: {'diversity', 'cs'}} of the generative row.",
             solve_04_1, _PAIR, "a dict {guidance: {'diversity': float, 'cs': float}}",
             "Guidance of the prior sharpens its samples toward the condition: expect diversity "
             "to fall and CS to rise or stay, by an amount 8 images can only roughly measure."),
    Exercise("04.2", "The DDPM sampler on 10 steps: what goes wrong, and why does DDIM not "
             "suffer it? Pass {'ddim': recall@1, 'ddpm': recall@1} on 128 pairs of world seed "
             "6000 (generator seed 0).",
             solve_04_2, _mapping(_number(1e-6)), "a dict {'ddim': float, 'ddpm': float}",
             "DDPM's ancestral step adds fresh noise sized for a small step; on 10 big steps the "
             "noise it adds is not removed again, while DDIM (η = 0) moves deterministically "
             "along the predicted trajectory. A lower DDPM recall shows it."),
    Exercise("04.3", "Replace x0-prediction with ε-prediction. At which noise levels does each "
             "make its errors? Pass the first t at which ᾱ_t < 1/2 (T = 1000, cosine "
             "schedule): where an ε error and an x0 error cost the same.",
             solve_04_3, _integer(1), "an int t",
             "From ε̂, x̂0 = (y_t − √(1−ᾱ) ε̂)/√ᾱ: an ε error is scaled by √((1−ᾱ)/ᾱ) in x0, large "
             "at high noise (ᾱ → 0). From x̂0, ε̂ = (y_t − √ᾱ x̂0)/√(1−ᾱ): an x0 error is scaled "
             "by √(ᾱ/(1−ᾱ)) in ε, large at low noise. They cost the same where ᾱ = 1/2."),
    Exercise("05.1", "Eight CLAP embeddings for one image from each mapper kind (mapper "
             "generator seed 0, the image of section 1): pass their mean pairwise cosine per "
             "kind. Is the variety in the CLAP embeddings or in AudioLDM's noise?",
             solve_05_1, _mapping(_number(1e-4)),
             "a dict {'regression': float, 'diffusion': float}",
             "Regression gives one embedding (cosine 1). If the diffusion mapper's cosine is "
             "also near 1, the variety you hear is AudioLDM's noise; if it is clearly lower, "
             "the mapper itself samples different sounds. Fix the generator noise to hear "
             "only the mapper's part."),
    Exercise("05.2", "Sweep the mapper's guidance (`mapper_guidance_scale` 1 to 4) with the "
             "generative pipeline on 8 images: pass {w: {'accuracy', 'variety'}}.",
             solve_05_2, _PAIR, "a dict {guidance: {'accuracy': float, 'variety': float}}",
             "The same trade-off as AudioLDM's guidance, one level up: read whether accuracy "
             "rises and variety falls with w, and whether the changes exceed what 8 images can "
             "resolve (one image is 1/8 of the accuracy)."),
    Exercise("05.3", "Make a video of six half-second scenes. How many segments does the "
             "pipeline cut it into (pass the number)? How short can a scene be before the "
             "soundtrack stops following it, and why?",
             solve_05_3, _integer(), "an int",
             "The pipeline cuts a video into equal segments no longer than the generator's "
             "`max_length_s` and averages each segment's frames into one CLIP embedding. When "
             "a scene is shorter than a segment, one sound stands for several scenes: the "
             "soundtrack follows scenes only down to the segment length."),
    Exercise("05.4", "Time `pipe(images)` with `batch_size` 1, 4 and 16. Where does batching "
             "stop paying on 2 cores?", solve_05_4, None,
             "a dict {batch_size: seconds} (no checker: timings belong to your machine)",
             "Batching pays while per-call overhead dominates; once the cores are busy with the "
             "arithmetic itself, larger batches stop helping."),
    Exercise("06.1", "Re-run `reproduce` with `num_inference_steps=200, scheduler='ddim'` on "
             "fewer images. Does the ordering of the systems change?", solve_06_1, None,
             "a list of systems, best FD first (no checker: compare with your notebook's table)",
             "Compare the ordering with the notebook's table; notebook 05's sampler table says "
             "how FD moves with the sampler."),
    Exercise("06.2", "Compute FD over 32, 64 and 128 clips of the *same* system (real sounds vs "
             "other draws of the same scenes, world seed 6600): pass {n: FD}. How large is the "
             "bias?", solve_06_2, _mapping(_number(1e-3), key=int), "a dict {32: float, "
             "64: float, 128: float}",
             "Nothing but n changes, so the differences are the estimator's bias: FD shrinks as "
             "n grows. A difference in the notebook's table smaller than the bias between two "
             "of these sizes cannot be read at a different n."),
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
]}


def ids(notebook: str | None = None) -> list[str]:
    """Exercise ids, all or those of one notebook (``"03"``)."""
    return [k for k in EXERCISES if notebook is None or k.split(".")[0] == notebook]


def _get(exercise_id) -> Exercise:
    if exercise_id not in EXERCISES:
        raise ConfigError(f"unknown exercise {exercise_id!r}; known: {', '.join(EXERCISES)}")
    return EXERCISES[exercise_id]


def solution(exercise_id: str) -> Callable | None:
    """The reference solution of an exercise (a function; ``None`` for 06.4's commands)."""
    return _get(exercise_id).solve


def source(exercise_id: str) -> str:
    """The code of an exercise's reference solution (or its discussion when it has none)."""
    ex = _get(exercise_id)
    return inspect.getsource(ex.solve) if ex.solve else ex.discussion


@functools.cache
def _expected(exercise_id: str):
    return EXERCISES[exercise_id].solve()


def check(exercise_id: str, answer) -> bool:
    """Print whether ``answer`` to exercise ``exercise_id`` is right; return ``True``/``False``.

    The expected answer is computed now by the reference solution on the kit's models (once
    per process). A wrong type or shape is a printed verdict saying what was expected.
    """
    ex = _get(exercise_id)
    if ex.compare is None:
        print(f"{exercise_id}: no checker — {ex.expects}. Compare your reasoning with the "
              f"solution: {ex.discussion}")
        return False
    expected = None if ex.compare is _compare_variety else _expected(exercise_id)
    problems = ex.compare(answer, expected)
    if problems:
        print(f"✗ {exercise_id}: " + "; ".join(problems)
              + f". Expected {ex.expects}; the recipe: {ex.question}")
        return False
    shown = "" if expected is None else f" ({_short(expected)})"
    print(f"✓ {exercise_id}: right{shown}. {ex.discussion}")
    return True


def _short(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v)}" for k, v in x.items()) + "}"
    return repr(x)


def details(exercise_id: str) -> str:
    """The collapsed Markdown solution block the notebooks carry for ``exercise_id``."""
    ex = _get(exercise_id)
    body = [ex.discussion]
    if ex.solve is not None:
        code = textwrap.dedent(inspect.getsource(ex.solve))
        body += ["", "```python", code.rstrip(), "```", "",
                 f"Run it: `exercises.solution({exercise_id!r})()`"
                 + (f"; check yours: `exercises.check({exercise_id!r}, answer)`."
                    if ex.compare else ".")]
    return ("<details><summary>Solution " + exercise_id + "</summary>\n\n" + "\n".join(body)
            + "\n\n</details>")
