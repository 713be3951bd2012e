"""The notebooks' exercises: their solutions, and checkers a student can call.

``check("03.3", answer)`` prints a verdict and returns ``True`` or ``False``: what is right, or
precisely what is wrong — for an answer of the wrong type or shape, in one line, what was
expected. A checker never raises for a bad *answer*; an unknown exercise id is a
:class:`ConfigError` that lists the known ones.

A checker accepts any correct answer, not only the reference recipe's digits: it checks the
properties the question is about (shares in [0, 1] of the right number of items, an ``all``
accuracy no higher than its lowest attribute, FD shrinking as n grows, the keys asked for),
asserts the analytic answer where there is one (03.1's ratio of 2, 04.3's step of the cosine
schedule, 05.1's cosine of 1 for a deterministic mapper, 05.3's segment count), and otherwise
compares with the reference within the quantity's own noise, computed at check time: a few
binomial standard errors for an accuracy over n items, the spread over other seeds for a
quantity that depends on one, a bootstrap, jackknife or per-item standard error for a mean.
Expected values come from the kit's current models (the pocket preset), never typed in.

``solution("03.3")`` returns the reference solution (a function with small, fast defaults),
``source("03.3")`` its code — public API only, absolute imports, so it runs pasted into a
notebook cell — and ``EXERCISES`` describes each: its notebook, its question, whether it has a
checker, and a discussion whose conclusions the solution's numbers decide. Exercises whose
answer is an argument, a measurement of this machine (timings) or of your own folder's scores
have a solution and no checker.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ConfigError

__all__ = ["Exercise", "EXERCISES", "check", "verdict", "reference", "solution", "source", "ids",
           "details", "binomial_tolerance"]

Z = 3.0   # standard errors a noise-derived tolerance allows


@dataclass(frozen=True)
class Exercise:
    id: str                              # "NN.k": notebook NN, exercise k
    question: str                        # the exercise, as the notebook asks it
    solve: Callable | None               # the reference solution (None: nothing to run)
    compare: Callable | None             # (answer, reference) -> list of problems; None: none
    expects: str                         # what an answer looks like
    discussion: str                      # how to read the solution's result
    reference: Callable | None = None    # check time: expected value and its noise (None: none)


# ================================================================================================
# The reference solutions: public API only, so each runs pasted into a notebook cell.
# 00 — quickstart
def solve_00_1(n: int = 6, world_seed: int = 11):
    """Accuracy of the tagger's reading of sounds generated (regression mapper, one call to
    ``generate`` with generator seed 0) for ``sample_world(n, world_seed)``."""
    import torch

    from v2a_kit import generation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    from v2a_kit.pocket.gates import attribute_accuracy
    m = load_models()
    scenes = pw.sample_world(n, seed=world_seed)
    clap_embed = m["regression"].map(m["clip"].encode_images(list(scenes.images), progress=False))
    waves = generation.generate(m["audioldm"], clap_embed,
                                generator=torch.Generator().manual_seed(0)).waveforms
    return attribute_accuracy(m["tagger"].predict(waves), scenes.labels)


def solve_00_2(world_seed: int = 7, seeds=(0, 1)):
    """The diffusion mapper's CLAP samples for one image under two mapper seeds: their cosine,
    and whether the tagger hears the same attributes in the two sounds (both generated with
    AudioLDM noise seed 0, so only the mapper's seed differs)."""
    import torch

    from v2a_kit import generation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    m = load_models()
    image = m["clip"].encode_images(list(pw.sample_world(1, seed=world_seed).images),
                                    progress=False)
    a, b = (m["diffusion"].map(image, generator=torch.Generator().manual_seed(s)) for s in seeds)
    cosine = float((a.embeds * b.embeds).sum())
    heard = [m["tagger"].predict(generation.generate(
        m["audioldm"], e, generator=torch.Generator().manual_seed(0)).waveforms) for e in (a, b)]
    same = all(int(heard[0][k][0]) == int(heard[1][k][0]) for k in heard[0])
    return {"cosine": cosine, "same_attributes": same}


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


# 07 — the real models (defaults: the `tiny` preset, offline; the notebook's run passes
# preset="paper" and, without a download, load={"random_init": True})
def solve_07_1(folder=None, preset: str = "tiny", load=None, config: str = "regression-pocket",
               epochs: int | None = 5, num_pairs: int = 24):
    """Validation recall@1 of a mapper trained on ``folder`` (frames and sounds sharing a file
    name; ``None``: ``num_pairs`` pocket-world pairs, as the notebook), beside chance
    (1 / validation pairs). For the paper's models: ``preset="paper"``,
    ``config="regression-paper"``, ``epochs=None`` (the config's own)."""
    import tempfile
    from pathlib import Path

    import v2a_kit as vk
    from v2a_kit.embeddings import extract_embeddings
    from v2a_kit.pocket.world import sample_world, save_examples
    from v2a_kit.train import train_named
    work = Path(tempfile.mkdtemp(prefix="v2a-ex07-"))
    if folder is None:
        folder = work / "pairs"
        save_examples(sample_world(num_pairs, seed=7000), folder, n=num_pairs, lossless=True)
    clip = vk.load_clip(preset, **(load or {}))
    clap = vk.load_clap(preset, **(load or {}))
    pairs = vk.make_pairs(extract_embeddings(clip, folder, work / "cache", kind="image",
                                             progress=False),
                          extract_embeddings(clap, folder, work / "cache", kind="audio",
                                             progress=False), by="stem")
    overrides = {"epochs": epochs} if epochs else {}
    mapper, summary = train_named(pairs, config, num_val=max(2, len(pairs) // 10), seed=0,
                                  progress=False, **overrides)
    return {"recall@1": summary["best"]["recall@1"], "chance": 1 / summary["num_val"],
            "num_val": summary["num_val"]}


def solve_07_2(folder=None, preset: str = "tiny", load=None, config: str = "regression-pocket",
               epochs: int | None = 5, num_pairs: int = 24):
    """Validation recall@1 of ``ridge`` (closed form) and of the regression mapper ``config``,
    trained by ``train_named`` on the same pairs of ``folder`` (as :func:`solve_07_1`) and
    scored on the same validation pairs (the split ``train_named`` holds out, seed 0)."""
    import tempfile
    from pathlib import Path

    import v2a_kit as vk
    from v2a_kit import evaluation
    from v2a_kit.embeddings import extract_embeddings
    from v2a_kit.pocket.world import sample_world, save_examples
    from v2a_kit.train import train_named
    work = Path(tempfile.mkdtemp(prefix="v2a-ex07-"))
    if folder is None:
        folder = work / "pairs"
        save_examples(sample_world(num_pairs, seed=7000), folder, n=num_pairs, lossless=True)
    clip = vk.load_clip(preset, **(load or {}))
    clap = vk.load_clap(preset, **(load or {}))
    pairs = vk.make_pairs(extract_embeddings(clip, folder, work / "cache", kind="image",
                                             progress=False),
                          extract_embeddings(clap, folder, work / "cache", kind="audio",
                                             progress=False), by="stem")
    num_val = max(2, len(pairs) // 10)
    val = pairs.split(num_val, seed=0)[1]              # what train_named holds out
    out = {"num_val": num_val}
    for name, cfg, overrides in (("ridge", "ridge", {}),
                                 ("regression", config, {"epochs": epochs} if epochs else {})):
        mapper = train_named(pairs, cfg, num_val=num_val, seed=0, progress=False, **overrides)[0]
        out[name] = evaluation.recall_at_k(mapper.sample(val.clip.embeds), val.clap.embeds,
                                           ks=(1,))[1]
    return out


def solve_07_3(folder=None, captions=None, preset: str = "tiny", load=None,
               config: str = "regression-pocket", epochs: int | None = 5, num_pairs: int = 24,
               num_test: int = 4, steps: int | None = 3):
    """CS and FD of your mapper and of the text bridge with ``captions`` written for your
    folder (``None``: the pocket world's own audio captions of the stand-in pairs), on the same
    held-out images, with the paper's judges (at random init for the offline ``tiny`` preset:
    then the numbers only exercise the code)."""
    import tempfile
    from pathlib import Path

    import torch

    import v2a_kit as vk
    from v2a_kit.embeddings import extract_embeddings
    from v2a_kit.evaluation import extract, score
    from v2a_kit.pocket.world import sample_world, save_examples
    from v2a_kit.train import train_named
    work = Path(tempfile.mkdtemp(prefix="v2a-ex07-"))
    if folder is None:
        folder = work / "pairs"
        world = sample_world(num_pairs, seed=7000)
        save_examples(world, folder, n=num_pairs, lossless=True)
        captions = captions or sorted(set(world.audio_captions))
    if not captions:
        raise ValueError("captions: give a list of captions written for your folder")
    clip, clap = vk.load_clip(preset, **(load or {})), vk.load_clap(preset, **(load or {}))
    audioldm = vk.load_audioldm(preset, **(load or {}))
    pairs = vk.make_pairs(extract_embeddings(clip, folder, work / "cache", kind="image",
                                             progress=False),
                          extract_embeddings(clap, folder, work / "cache", kind="audio",
                                             progress=False), by="stem")
    train_pairs, test_pairs = pairs.split(num_test, seed=0)
    images, references = list(test_pairs.clip.sources), list(test_pairs.clap.sources)
    overrides = {"epochs": epochs} if epochs else {}
    mapper = train_named(train_pairs, config, num_val=max(2, len(train_pairs) // 10), seed=0,
                         progress=False, **overrides)[0]
    pipe = vk.V2APipeline(clip, mapper, audioldm)
    mine = pipe(images, num_inference_steps=steps, seed=0, progress=False)
    img = clip.encode_images(images, progress=False).embeds
    txt = clip.encode_text([f"a photo of {c}" for c in captions], progress=False).embeds
    picked = [captions[j] for j in (img @ txt.T).argmax(1).tolist()]
    bridge = vk.generate(audioldm, clap.encode_text(picked, progress=False),
                         num_inference_steps=steps, generator=torch.Generator().manual_seed(0))
    random_init = preset == "tiny" or bool((load or {}).get("random_init"))
    judges = vk.load_extractors("paper", random_init=random_init)
    real = extract(judges, references, resampler="soxr_hq")
    generated = {"your mapper": ([it.waveforms[0] for it in mine], mine[0].sampling_rate),
                 "text bridge": (list(bridge.waveforms), bridge.sampling_rate)}
    return {name: {"cs": s.cs, "fd": s.fd}
            for name, s in ((name, score(judges, waves, references=real, images=images,
                                         sampling_rate=sr, resampler="soxr_hq"))
                            for name, (waves, sr) in generated.items())}


def solve_07_4(prompts=("a dog barks twice", "rain falls on a tin roof"), preset: str = "tiny",
               load=None, steps: int = 200):
    """Seconds to generate ``prompts`` with the kit's default sampler and with the paper's
    setting (``num_inference_steps=steps, scheduler="ddim"``), on the same generator."""
    import time

    import torch

    import v2a_kit as vk
    audioldm = vk.load_audioldm(preset, **(load or {}))
    text = vk.encode_prompt(audioldm, list(prompts))
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    out = {}
    for name, settings in (("default", {}),
                           (f"ddim, {steps} steps", {"num_inference_steps": steps,
                                                     "scheduler": "ddim"})):
        t0 = time.perf_counter()
        vk.generate(audioldm, text, generator=torch.Generator().manual_seed(0), progress=False,
                    **settings)
        sync()
        out[name] = time.perf_counter() - t0
    return out


# 08 — timing
def solve_08_1(n: int = 16, world_seed: int = 8500, tolerances_ms=(10, 20, 50)):
    """Onset F1 of the real tracks of ``n`` timed videos against their visual onsets at each
    tolerance (ms), written by hand: the kit's detector, then onsets paired one-to-one in time
    order at most the tolerance apart (two pointers), pooled over the videos."""
    import numpy as np

    from v2a_kit.evaluation.timing import detect_onsets
    from v2a_kit.pocket.world.timed import sample_world_videos
    videos = sample_world_videos(n, world_seed)
    heard = [detect_onsets(a, videos.sampling_rate) for a in videos.audio]
    seen = [np.sort(row[np.isfinite(row)]) for row in videos.visual_onsets_s]
    total = sum(len(h) for h in heard) + sum(len(v) for v in seen)
    out = {}
    for tol_ms in tolerances_ms:
        tol, matched = tol_ms / 1000, 0
        for h, v in zip(heard, seen):
            i = j = 0
            while i < len(h) and j < len(v):
                if abs(h[i] - v[j]) <= tol + 1e-9:
                    matched, i, j = matched + 1, i + 1, j + 1
                elif h[i] < v[j]:
                    i += 1
                else:
                    j += 1
        out[tol_ms] = 2 * matched / total
    return out


def solve_08_2(num_train: int = 32, num_val: int = 16, steps: int = 150, hidden: int = 16,
               seed: int = 0):
    """A small onset predictor (``hidden`` channels) trained on the pocket-CLIP embeddings of
    every frame of ``num_train`` timed videos of world seed 9500 (training seed ``seed``),
    scored on ``num_val`` videos of seed 9501: onset F1 and mean |offset| (seconds)."""
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket.models.onsets import (
        OnsetConfig,
        embed_frames,
        frame_targets,
        train_onset_predictor,
    )
    from v2a_kit.pocket.timing import onset_scores
    from v2a_kit.pocket.world.timed import sample_world_videos
    clip = load_models()["clip"]
    train, val = sample_world_videos(num_train, 9500), sample_world_videos(num_val, 9501)
    x_train, x_val = embed_frames(clip, train.frames), embed_frames(clip, val.frames)
    config = OnsetConfig(clip_dim=x_train.shape[-1], hidden=hidden, fps=train.fps)
    targets = frame_targets(train.visual_onsets_s, train.fps, train.num_frames)
    model, losses = train_onset_predictor(x_train, targets, config=config, steps=steps,
                                          seed=seed)
    scores = onset_scores(model.predict(x_val), val.visual_onsets_s)
    return {"f1": scores["f1"], "mean_abs_offset_s": scores["mean_abs_offset_s"] or 0.0}


# ================================================================================================
# Reading an answer: numbers, shares, dicts — each problem one line that says what is wrong.
F32_EPS = 2.0 ** -23    # float32's relative rounding step


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


class _Wrong(Exception):
    """One problem with an answer; the checker prints its message."""


def _number(x, where, lo=-math.inf, hi=math.inf) -> float:
    v = _num(x)
    if v is None:
        raise _Wrong(f"{where}: expected a number, got {_describe(x)}")
    if not math.isfinite(v):
        raise _Wrong(f"{where} is {v}: not a finite number")
    if not lo <= v <= hi:
        raise _Wrong(f"{where} is {v:.4g}: outside [{lo:g}, {hi:g}], where it must lie")
    return v


def _share(x, where, n: int | None = None) -> float:
    """A share in [0, 1]; with ``n``, one of k/n (a share of n items)."""
    v = _number(x, where)
    if 1 < v <= 100:
        raise _Wrong(f"{where} is {v:.4g}: that looks like a percentage or a count — pass a "
                     "share in [0, 1]")
    if not 0 <= v <= 1:
        raise _Wrong(f"{where} is {v:.4g}: a share must lie in [0, 1]")
    if n is not None and abs(v * n - round(v * n)) > 1e-6:
        raise _Wrong(f"{where} is {v:.4g}, not a share of {n} items (k/{n})")
    return v


def binomial_tolerance(p: float, n: int, z: float = Z) -> float:
    """``z`` binomial standard errors of a share ``p`` of ``n`` items (Laplace-smoothed,
    (k + 1) / (n + 2), so that 0 and 1 keep a width): how far another correct measurement of
    the same accuracy may fall."""
    q = (p * n + 1) / (n + 2)
    return z * math.sqrt(q * (1 - q) / n)


def _near_share(v, ref, n, where):
    tol = binomial_tolerance(ref, n)
    if abs(v - ref) > tol:
        raise _Wrong(f"{where} is {v:.3g}; the reference measures {ref:.3g}, and a share of "
                     f"{n} items allows ± {tol:.2g} ({Z:g} binomial standard errors)")


def _near(v, ref, tol, where, how):
    if not abs(v - ref) <= tol:
        raise _Wrong(f"{where} is {v:.4g}; the reference gives {ref:.4g} (± {tol:.2g}: {how})")


def _dict(answer, keys, where="the answer", key=lambda k: k, shape="") -> dict:
    """The answer as a dict with exactly ``keys`` (its keys normalised by ``key``)."""
    want = sorted(keys, key=str)
    if not isinstance(answer, dict):
        raise _Wrong(f"{where}: expected a dict {shape or want}, got {_describe(answer)}")
    try:
        got = {key(k): v for k, v in answer.items()}
    except (TypeError, ValueError):
        raise _Wrong(f"{where}: its keys {list(answer)} are not of the expected kind "
                     f"({want})") from None
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in keys]
    if missing or extra:
        raise _Wrong(f"{where}: expected keys {want}" + (f"; missing {missing}" if missing else "")
                     + (f"; unexpected {extra}" if extra else ""))
    return got


def _accuracy_dict(answer, ref: dict, n: int, attributes):
    """{attribute: share, 'all': share}: shares of n items, 'all' no higher than its lowest
    attribute, each within the binomial noise of the reference."""
    keys = [*attributes, "all"]
    got = _dict(answer, keys, shape="{attribute: accuracy, 'all': accuracy}")
    acc = {k: _share(got[k], f"the answer[{k!r}]", n) for k in keys}
    low = min(acc[a] for a in attributes)
    if acc["all"] > low + 1e-9:
        raise _Wrong(f"the answer['all'] is {acc['all']:.3g} but the lowest attribute is "
                     f"{low:.3g}: 'all' counts sounds with every attribute right at once, so it "
                     "cannot exceed any attribute's accuracy")
    for k in keys:
        _near_share(acc[k], ref[k], n, f"the answer[{k!r}]")


def _seed_spread(values) -> float:
    """``Z`` standard deviations of a quantity over seeds (the noise a seed choice adds)."""
    import numpy as np
    return Z * float(np.std(np.asarray(values, dtype=float), ddof=1))


def _jackknife_se(stat, n: int) -> float:
    """Jackknife standard error of ``stat(keep)`` (``keep``: a boolean mask of n items)."""
    import numpy as np
    loo = np.array([stat(np.arange(n) != i) for i in range(n)])
    return float(np.sqrt((n - 1) / n * ((loo - loo.mean()) ** 2).sum()))


def _mean_se(values) -> float:
    import numpy as np
    v = np.asarray(values, dtype=float)
    return float(v.std(ddof=1) / math.sqrt(len(v)))


def _default(fn, name):
    return inspect.signature(fn).parameters[name].default


# ================================================================================================
# Check-time references (the expected value and its noise) and the checkers, per exercise.
def _ref_00_1():
    return {"value": solve_00_1(), "n": _default(solve_00_1, "n")}


def _check_00_1(answer, ref):
    from .pocket import world as pw
    _accuracy_dict(answer, ref["value"], ref["n"], pw.ATTRIBUTES)


def _ref_00_2():
    import torch

    from .pocket import load_models
    from .pocket import world as pw
    m = load_models()
    image = m["clip"].encode_images(list(pw.sample_world(1, seed=_default(solve_00_2,
                                                                          "world_seed")).images),
                                    progress=False)

    def cosine(s, t):
        a, b = (m["diffusion"].map(image, generator=torch.Generator().manual_seed(x))
                for x in (s, t))
        return float((a.embeds * b.embeds).sum())
    others = [cosine(2 * k, 2 * k + 1) for k in range(1, 9)]
    return {"value": solve_00_2(), "tol": max(_seed_spread(others), 1e-4)}


def _check_00_2(answer, ref):
    got = _dict(answer, ["cosine", "same_attributes"],
                shape="{'cosine': float, 'same_attributes': bool}")
    c = _number(got["cosine"], "the answer['cosine']", -1.0, 1.0)
    expected, tol = ref["value"]["cosine"], ref["tol"]
    if abs(c - 1) <= 1e-4 < abs(expected - 1) - tol:
        raise _Wrong("the answer['cosine'] is 1: that is a sample's cosine with itself — were "
                     "both samples drawn with the same mapper seed? Use seeds 0 and 1")
    _near(c, expected, tol, "the answer['cosine']", f"{Z:g} standard deviations of the cosine "
          "over other pairs of mapper seeds")
    same = got["same_attributes"]
    if not isinstance(same, bool) and type(same).__name__ != "bool_":
        raise _Wrong(f"the answer['same_attributes']: expected True or False, got "
                     f"{_describe(same)}")
    if bool(same) != ref["value"]["same_attributes"]:
        raise _Wrong(f"the answer['same_attributes'] is {bool(same)}; with mapper seeds 0 and "
                     "1 and AudioLDM noise seed 0 the tagger hears "
                     + ("the same" if ref["value"]["same_attributes"] else "different")
                     + " attributes")


def _ref_01_1():
    return {"value": solve_01_1(), "n": _default(solve_01_1, "n")}


def _check_01_1(answer, ref):
    from .pocket import world as pw
    _accuracy_dict(answer, ref["value"], ref["n"], pw.AUDIBLE)


def _guidance_dict(answer, guidances, inner, shape):
    got = _dict(answer, guidances, key=float, shape=shape)
    out = {}
    for w in guidances:
        where = f"the answer[{w:g}]"
        out[w] = _dict(got[w], inner, where=where, shape="{" + ", ".join(
            repr(k) + ": float" for k in inner) + "}")
    return out


def _ref_01_2():
    """Per guidance: the accuracy over the sounds and the jackknife SE of their variety."""
    import numpy as np
    import torch

    from .evaluation import pairwise_diversity
    from .generation import generate
    from .pocket import load_models
    from .pocket import world as pw
    m = load_models()
    scene = pw.sample_world(1, seed=_default(solve_01_2, "world_seed"))
    k = _default(solve_01_2, "num_sounds")
    text = m["clap"].encode_text(scene.audio_captions, progress=False)
    out = {}
    for w in _default(solve_01_2, "guidances"):
        waves = generate(m["audioldm"], text, guidance_scale=w, num_waveforms_per_prompt=k,
                         generator=torch.Generator().manual_seed(0)).waveforms
        heard = m["tagger"].predict(waves)
        right = np.all([heard[a] == scene.labels[a][0] for a in pw.ATTRIBUTES], axis=0)
        feats = np.asarray(m["tagger"].features(waves))
        out[float(w)] = {"accuracy": float(right.mean()),
                         "variety": pairwise_diversity(feats, k),
                         "variety_se": _jackknife_se(
                             lambda keep, f=feats: pairwise_diversity(f[keep], int(keep.sum())),
                             k)}
    return {"value": out, "n": k}


def _check_accuracy_variety(answer, ref, tolerance, how: str):
    """{guidance: {'accuracy', 'variety'}} against ``ref``: each accuracy a share of the
    reference's n within its binomial noise, each variety non-negative and within
    ``tolerance(r)`` of the reference (``how`` says what that tolerance is)."""
    got = _guidance_dict(answer, list(ref["value"]), ["accuracy", "variety"],
                         "{guidance: {'accuracy': float, 'variety': float}}")
    for w, r in ref["value"].items():
        where = f"the answer[{w:g}]"
        acc = _share(got[w]["accuracy"], f"{where}['accuracy']", ref["n"])
        var = _number(got[w]["variety"], f"{where}['variety']")
        if var < 0:
            raise _Wrong(f"{where}['variety'] is {var:.4g}: a distance cannot be negative")
        _near_share(acc, r["accuracy"], ref["n"], f"{where}['accuracy']")
        _near(var, r["variety"], max(tolerance(r), 1e-6 * r["variety"]),
              f"{where}['variety']", how)


def _check_01_2(answer, ref):
    _check_accuracy_variety(answer, ref, lambda r: Z * r["variety_se"],
                            f"{Z:g} jackknife standard errors over the {ref['n']} sounds")


def _check_01_3(answer, ref):
    """01.3: the student's function must give ~0 for identical sounds and more for the sounds
    of different scenes than for redraws of one scene's sound."""
    import numpy as np

    from .pocket import world as pw
    where = "the answer"
    if not callable(answer):
        raise _Wrong(f"{where}: expected a function waveforms (k, 16000) -> float, got "
                     f"{_describe(answer)}")
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
            raise _Wrong(f"{where} raised {type(e).__name__}: {e} on {name}") from None
        if v is None or not math.isfinite(v):
            raise _Wrong(f"{where} returned {v!r} for {name}; expected a finite number")
        values[name] = v
    scale = max(abs(v) for v in values.values()) or 1.0
    if abs(values["8 copies of one sound"]) > 1e-6 * scale:
        raise _Wrong(f"{where} gives {values['8 copies of one sound']:.4g} for identical "
                     "sounds; a variety measure should give 0")
    if not values["8 different scenes"] > values["8 redraws of one scene"]:
        raise _Wrong(f"{where} gives {values['8 different scenes']:.4g} for 8 different "
                     f"scenes but {values['8 redraws of one scene']:.4g} for 8 redraws of "
                     "one scene; different scenes should vary more")


def _float32_tol(dim: int) -> float:
    """Rounding of a float32 dot product of ``dim`` terms (a generous 10 √dim ulps)."""
    return 10 * math.sqrt(dim) * F32_EPS


def _ref_01_4():
    from .pocket import load_models
    return {"value": solve_01_4(), "tol": _float32_tol(load_models()["clap"].space.dim)}


def _check_01_4(answer, ref):
    v = _num(answer)
    if v is not None and 1 < v <= 180:
        raise _Wrong(f"the answer is {v:.4g}: that looks like an angle in degrees — pass the "
                     "cosine")
    v = _number(answer, "the answer", -1.0, 1.0)
    expected, tol = ref["value"], ref["tol"]
    if abs(v - (1 - expected)) <= tol < abs(v - expected):
        raise _Wrong(f"the answer is {v:.4g}: that is the cosine distance 1 − cos; pass the "
                     "cosine")
    if abs(v - 1) <= tol < abs(expected - 1):
        raise _Wrong("the answer is 1: a caption's cosine with itself — compare 'a loud purple "
                     "hum' with 'a loud hum'")
    _near(v, expected, tol, "the answer", "float32 rounding; the recipe has no randomness")


def _ref_02_1():
    import numpy as np
    import torch.nn.functional as F

    from .pocket import load_models
    from .pocket import world as pw
    clap = load_models()["clap"]
    batch = pw.sample_world(_default(solve_02_1, "n"), seed=_default(solve_02_1, "world_seed"))
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
    v = _number(answer, "the answer", 0.0, 2.0)
    expected, tol = ref["value"], ref["tol"]
    if v <= tol < expected - tol:
        raise _Wrong(f"the answer is {v:.3g}: (almost) no gap — that is a set's centroid against "
                     "itself; compare the TEXT embeddings of the captions with the AUDIO ones")
    if abs(v - expected ** 2) <= tol < abs(v - expected):
        raise _Wrong(f"the answer is {v:.4g}: that is the squared gap ‖mean(x) − mean(y)‖²; "
                     "the gap is the norm itself")
    _near(v, expected, tol, "the answer", f"{Z:g} bootstrap standard errors over the clips")


def _ref_02_2():
    import numpy as np
    import torch.nn.functional as F

    from .pocket import load_models
    from .pocket.mappers import pocket_pairs
    m = load_models()
    n = _default(solve_02_2, "n")
    pairs = pocket_pairs(n, _default(solve_02_2, "world_seed"), m["clip"], m["clap"])
    a = F.normalize(pairs.clip.embeds, dim=-1).double()
    b = F.normalize(pairs.clap.embeds, dim=-1).double()
    out = {}
    for k in _default(solve_02_2, "ks"):
        def knn(e, k=k):
            s = e @ e.T
            s.fill_diagonal_(-np.inf)
            return s.topk(k, dim=1).indices.tolist()
        per_item = [len(set(r) & set(q)) / k for r, q in zip(knn(a), knn(b))]
        out[int(k)] = {"value": float(np.mean(per_item)), "tol": Z * _mean_se(per_item),
                       "chance": k / (n - 1)}
    return {"value": out, "n": n}


def _check_02_2(answer, ref):
    got = _dict(answer, list(ref["value"]), key=int, shape="{k: overlap}")
    for k, r in ref["value"].items():
        where = f"the answer[{k}]"
        v = _num(got[k])
        if v is not None and 1 < v <= k:
            raise _Wrong(f"{where} is {v:.4g}: that looks like a count of shared neighbours — "
                         f"divide by k = {k}")
        v = _share(got[k], where)
        if abs(v - r["chance"]) < 1e-3 < abs(r["value"] - r["chance"]) - r["tol"]:
            raise _Wrong(f"{where} is {v:.3g}: that is the chance overlap k/(n − 1) = "
                         f"{k}/{ref['n'] - 1}, not the measured one")
        _near(v, r["value"], r["tol"], where, f"{Z:g} standard errors of the mean over the "
              f"{ref['n']} items")


def _ref_03_1():
    from .pocket import load_models
    return {"value": 2.0, "dim": load_models()["clap"].space.dim}


def _check_03_1(answer, ref):
    v = _number(answer, "the answer")
    tol = 1e3 * F32_EPS                     # float32 rounding of two means over the pairs
    if abs(v - 0.5) <= tol:
        raise _Wrong("your ratio is 0.5: that is cosine/MSE — the question asks MSE/cosine")
    if abs(v - 2 / ref["dim"]) <= tol * 2 / ref["dim"] * 10:
        raise _Wrong(f"your ratio is {v:.4g} = 2/{ref['dim']}: an MSE averaged over the "
                     f"{ref['dim']} dimensions (F.mse_loss's default) — the mapper's MSE sums "
                     "over them: ‖p − y‖²")
    if abs(v - 1) <= tol:
        raise _Wrong("your ratio is 1: on unit vectors ‖p − y‖² = 2 − 2 cos(p, y), so MSE and "
                     "1 − cos are not equal")
    if abs(v - ref["value"]) > tol * ref["value"]:
        raise _Wrong(f"your ratio is {v:.6g}; on unit vectors ‖p − y‖² = 2 − 2 cos(p, y), so "
                     "MSE / (1 − cos) is exactly 2 (up to float32 rounding)")


def _ref_03_2():
    return {"value": solve_03_2(), "n": 200}


def _pair_of_shares(answer, ref, names, n, what):
    got = _dict(answer, names, shape="{" + ", ".join(f"{k!r}: {what}" for k in names) + "}")
    vals = {k: _share(got[k], f"the answer[{k!r}]", n) for k in names}
    exp = ref["value"]
    a, b = names
    swapped = (abs(vals[a] - exp[b]) <= binomial_tolerance(exp[b], n)
               and abs(vals[b] - exp[a]) <= binomial_tolerance(exp[a], n))
    far = abs(vals[a] - exp[a]) > binomial_tolerance(exp[a], n)
    if swapped and far:
        raise _Wrong(f"the answer's {a!r} and {b!r} look swapped: {a} measures {exp[a]:.3g} "
                     f"and {b} {exp[b]:.3g}")
    for k in names:
        _near_share(vals[k], exp[k], n, f"the answer[{k!r}]")


def _check_03_2(answer, ref):
    _pair_of_shares(answer, ref, ["ridge", "regression"], ref["n"], "recall@1")


def _ref_03_3():
    import torch

    from .pocket import load_models
    from .pocket import world as pw
    from .pocket.mappers import pocket_pairs
    m = load_models()
    n, seed = _default(solve_03_3, "n"), _default(solve_03_3, "world_seed")
    pairs = pocket_pairs(n, seed, m["clip"], m["clap"])
    labels = pw.sample_world(n, seed=seed).labels["count"]
    with torch.no_grad():
        norms = m["regression"].eval().net(pairs.clip.embeds).norm(dim=-1).numpy()
    return {name: {"value": float(norms[labels == i].mean()),
                   "tol": Z * _mean_se(norms[labels == i]), "n": int((labels == i).sum())}
            for i, name in enumerate(pw.ATTRIBUTES["count"]) if (labels == i).sum() > 1}


def _check_03_3(answer, ref):
    names = list(ref)
    if isinstance(answer, dict) and answer and all(_is_number(k) for k in answer):
        raise _Wrong(f"the answer's keys {sorted(answer)} are value indices; key each mean by "
                     f"the count's value name ({names})")
    got = _dict(answer, names, shape="{count value name: mean norm}")
    vals = {k: _number(got[k], f"the answer[{k!r}]", 0.0) for k in names}
    if all(abs(v - 1) < 1e-4 for v in vals.values()) and any(
            abs(r["value"] - 1) > r["tol"] for r in ref.values()):
        raise _Wrong("every norm is 1: you measured after normalisation (mapper.map or "
                     "mapper.sample); the question is about mapper.net(x), before it")
    for k, r in ref.items():
        _near(vals[k], r["value"], r["tol"], f"the answer[{k!r}]",
              f"{Z:g} standard errors of the mean over its {r['n']} images")


def _ref_04_1():
    runs = [solve_04_1(seed=s) for s in range(3)]
    return {"value": runs[0],
            "tol": {w: {k: max(_seed_spread([r[w][k] for r in runs]),
                               1e-6 * abs(runs[0][w][k])) for k in runs[0][w]}
                    for w in runs[0]}}


def _check_04_1(answer, ref):
    got = _guidance_dict(answer, list(ref["value"]), ["diversity", "cs"],
                         "{guidance: {'diversity': float, 'cs': float}}")
    for w, r in ref["value"].items():
        where = f"the answer[{w:g}]"
        div = _number(got[w]["diversity"], f"{where}['diversity']")
        cs = _number(got[w]["cs"], f"{where}['cs']", -100.0, 100.0)
        tol = ref["tol"][w]
        if (abs(div - r["cs"]) <= tol["cs"] and abs(cs - r["diversity"]) <= tol["diversity"]
                and abs(div - r["diversity"]) > tol["diversity"]):
            raise _Wrong(f"{where}: 'diversity' and 'cs' look swapped")
        if div < 0:
            raise _Wrong(f"{where}['diversity'] is {div:.4g}: a distance cannot be negative")
        _near(div, r["diversity"], tol["diversity"], f"{where}['diversity']",
              f"{Z:g} standard deviations over seeds 0, 1, 2")
        _near(cs, r["cs"], tol["cs"], f"{where}['cs']", f"{Z:g} standard deviations over "
              "seeds 0, 1, 2")


def _ref_04_2():
    return {"value": solve_04_2(), "n": _default(solve_04_2, "n")}


def _check_04_2(answer, ref):
    _pair_of_shares(answer, ref, ["ddim", "ddpm"], ref["n"], "recall@1")


def _ref_04_3():
    from .mappers.diffusion import cosine_alphas_cumprod
    timesteps = _default(solve_04_3, "timesteps")
    abar = cosine_alphas_cumprod(timesteps).double()
    return {"value": int((abar < 0.5).nonzero()[0]), "T": timesteps}


def _check_04_3(answer, ref):
    v = _num(answer)
    if v is None or isinstance(answer, float) or v != int(v):
        raise _Wrong(f"the answer: expected an int t, got {_describe(answer)}")
    t, expected = int(v), ref["value"]
    if t == expected - 1:
        raise _Wrong(f"the answer is {t}: the last t with ᾱ_t ≥ 1/2 — the question asks the "
                     "first t with ᾱ_t < 1/2")
    if t == expected + 1:
        raise _Wrong(f"the answer is {t}: one past it — counting t from 1? The schedule's t "
                     f"runs 0..{ref['T'] - 1}")
    if t == ref["T"] // 2 != expected:
        raise _Wrong(f"the answer is {t} = T/2: ᾱ_t is not linear in t — read it from the "
                     "cosine schedule")
    if t != expected:
        raise _Wrong(f"the answer is {t}; the cosine schedule's ᾱ_t first falls below 1/2 at "
                     f"t = {expected}")


def _ref_05_1():
    runs = [solve_05_1(seed=s) for s in range(6)]
    from .pocket import load_models
    return {"value": runs[0], "tol": _seed_spread([r["diffusion"] for r in runs]),
            "flat": _float32_tol(load_models()["clap"].space.dim)}


def _check_05_1(answer, ref):
    got = _dict(answer, ["regression", "diffusion"],
                shape="{'regression': float, 'diffusion': float}")
    reg = _number(got["regression"], "the answer['regression']", -1.0, 1.0)
    dif = _number(got["diffusion"], "the answer['diffusion']", -1.0, 1.0)
    c, tol, k = ref["value"]["diffusion"], ref["tol"], _default(solve_05_1, "num_samples")
    if abs(dif - 1) <= ref["flat"] < 1 - c - tol and abs(reg - c) <= tol:
        raise _Wrong("the answer's 'regression' and 'diffusion' look swapped")
    if abs(reg - 1) > ref["flat"]:
        raise _Wrong(f"the answer['regression'] is {reg:.4g}: a regression mapper is "
                     "deterministic, its samples are one vector (cosine exactly 1)")
    if abs(dif - (1 - c)) <= tol < abs(dif - c):
        raise _Wrong(f"the answer['diffusion'] is {dif:.4g}: that is the cosine distance "
                     "1 − cos; pass the mean cosine")
    if abs(dif - (1 + (k - 1) * c) / k) <= ref["flat"] < abs(dif - c) - tol:
        raise _Wrong(f"the answer['diffusion'] is {dif:.4g}: the mean includes each sample's "
                     "cosine with itself (the diagonal, all 1); leave it out")
    _near(dif, c, tol, "the answer['diffusion']", f"{Z:g} standard deviations over mapper "
          "seeds 0..5")


def _ref_05_2():
    """Per guidance: accuracy over the images; variety and the SE of its per-image mean."""
    import numpy as np

    from .pipeline import V2APipeline
    from .pocket import load_models
    from .pocket import world as pw
    m = load_models()
    n = _default(solve_05_2, "n")
    world = pw.sample_world(n, seed=_default(solve_05_2, "world_seed"))
    pipe = V2APipeline(m["clip"], m["diffusion"], m["audioldm"])
    out = {}
    for w in _default(solve_05_2, "guidances"):
        res = pipe(list(world.images), num_samples=2, mapper_guidance_scale=w, seed=0,
                   progress=False)
        waves = np.concatenate([it.waveforms for it in res])
        heard = m["tagger"].predict(waves[::2])
        right = np.all([heard[a] == world.labels[a] for a in pw.ATTRIBUTES], axis=0)
        f = np.asarray(m["tagger"].features(waves), dtype=float).reshape(n, 2, -1)
        per_image = np.linalg.norm(f[:, 0] - f[:, 1], axis=-1)
        out[float(w)] = {"accuracy": float(right.mean()), "variety": float(per_image.mean()),
                         "variety_tol": Z * _mean_se(per_image)}
    return {"value": out, "n": n}


def _check_05_2(answer, ref):
    _check_accuracy_variety(answer, ref, lambda r: r["variety_tol"],
                            f"{Z:g} standard errors of the mean over the {ref['n']} images")


def _ref_05_3():
    from .pocket import load_models
    scenes, seconds = _default(solve_05_3, "num_scenes"), _default(solve_05_3, "seconds_per_scene")
    max_len = load_models()["audioldm"].max_length_s
    return {"value": max(1, math.ceil(scenes * seconds / max_len - 1e-9)), "scenes": scenes,
            "duration": scenes * seconds, "max_len": max_len}


def _check_05_3(answer, ref):
    v = _num(answer)
    if v is None or isinstance(answer, float) or v != int(v):
        raise _Wrong(f"the answer: expected an int (a number of segments), got "
                     f"{_describe(answer)}")
    v, expected = int(v), ref["value"]
    if v == ref["scenes"] != expected:
        raise _Wrong(f"the answer is {v}, the number of scenes: the pipeline cuts by length, "
                     f"not by scene — equal segments no longer than max_length_s = "
                     f"{ref['max_len']:g} s")
    if v != expected:
        raise _Wrong(f"the answer is {v}; a {ref['duration']:g} s video cut into equal "
                     f"segments of at most {ref['max_len']:g} s makes ⌈"
                     f"{ref['duration']:g} / {ref['max_len']:g}⌉ = {expected}")


def _ref_06_2():
    runs = [solve_06_2(other_seed=_default(solve_06_2, "world_seed") + 1 + s) for s in range(5)]
    return {"value": runs[0], "tol": {k: _seed_spread([r[k] for r in runs]) for k in runs[0]}}


def _check_06_2(answer, ref):
    sizes = sorted(ref["value"])
    got = _dict(answer, sizes, key=int, shape="{n: FD}")
    fd = {k: _number(got[k], f"the answer[{k}]") for k in sizes}
    for k in sizes:
        if fd[k] < 0:
            raise _Wrong(f"the answer[{k}] is {fd[k]:.4g}: an FD is a squared distance, never "
                         "negative")
    if all(fd[a] < fd[b] for a, b in zip(sizes, sizes[1:])):
        raise _Wrong("your FD grows with n: the bias of FD shrinks as n grows (keys and "
                     "values swapped?)")
    for k in sizes:
        exp, tol = ref["value"][k], ref["tol"][k]
        if fd[k] == 0 < exp - tol:
            raise _Wrong(f"the answer[{k}] is 0: the FD of a set against itself — compare the "
                         "real sounds with OTHER draws of the same scenes")
        if abs(fd[k] - math.sqrt(exp)) <= tol < abs(fd[k] - exp):
            raise _Wrong(f"the answer[{k}] is {fd[k]:.4g}: that is √FD; the FD is the squared "
                         "distance itself")
        _near(fd[k], exp, tol, f"the answer[{k}]", f"{Z:g} standard deviations over other "
              "draws of the comparison sounds")


def _check_own_recall(answer, names):
    """07.1/07.2: recalls measured on your own validation pairs: shares of num_val."""
    keys = [*names, "num_val"] + (["chance"] if names == ["recall@1"] else [])
    got = _dict(answer, keys, shape="{" + ", ".join(repr(k) for k in keys) + "}")
    n = _num(got["num_val"])
    if n is None or isinstance(got["num_val"], float) or n != int(n) or n < 1:
        raise _Wrong(f"the answer['num_val']: expected a positive int, got "
                     f"{_describe(got['num_val'])}")
    n = int(n)
    for k in names:
        _share(got[k], f"the answer[{k!r}]", n)
    if "chance" in got:
        chance = _number(got["chance"], "the answer['chance']")
        if abs(chance - 1 / n) > 1e-9:
            raise _Wrong(f"the answer['chance'] is {chance:.4g}: recall@1's chance is one right "
                         f"pair among num_val = {n}, 1/{n} = {1 / n:.4g}")


def _check_07_1(answer, ref):
    _check_own_recall(answer, ["recall@1"])


def _check_07_2(answer, ref):
    _check_own_recall(answer, ["ridge", "regression"])


def _ref_08_1():
    """The synchrony measure's own detector and matching (``synchrony`` itself refuses a
    tolerance under half a frame, which the narrowest one is)."""
    import numpy as np

    from .evaluation.timing import detect_onsets, match_onsets
    from .pocket.world.timed import sample_world_videos
    videos = sample_world_videos(_default(solve_08_1, "n"), _default(solve_08_1, "world_seed"))
    heard = [detect_onsets(a, videos.sampling_rate) for a in videos.audio]
    seen = [np.sort(row[np.isfinite(row)]) for row in videos.visual_onsets_s]
    total = sum(len(h) for h in heard) + sum(len(v) for v in seen)
    return {"value": {t: 2 * sum(len(match_onsets(h, v, t / 1000)) for h, v in zip(heard, seen))
                      / total for t in _default(solve_08_1, "tolerances_ms")},
            "total": total}


def _check_08_1(answer, ref):
    tols = sorted(ref["value"])
    got = _dict(answer, tols, key=lambda k: int(k) if _is_number(k) and k == int(k) else k,
                shape="{tolerance in ms: F1}")
    f1 = {k: _share(got[k], f"the answer[{k}]") for k in tols}
    for a, b in zip(tols, tols[1:]):
        if f1[b] < f1[a] - 1e-9:
            raise _Wrong(f"the answer[{b}] is {f1[b]:.3g}, below the answer[{a}] = {f1[a]:.3g}: "
                         "a wider tolerance keeps every pair a narrower one made, so F1 cannot "
                         "fall as the tolerance widens")
    # the detector is deterministic: a correct matching gives the kit's pairs, up to a pair or
    # two at the window's very edge
    tol = 4 / ref["total"]
    for k in tols:
        _near(f1[k], ref["value"][k], tol, f"the answer[{k}]",
              "two pairs of the pooled onsets, the window's edge")


def _ref_08_2():
    runs = [solve_08_2(seed=s) for s in range(3)]
    import numpy as np

    from .pocket.world.timed import sample_world_videos
    val = sample_world_videos(_default(solve_08_2, "num_val"), 9501)
    n = int(np.isfinite(val.visual_onsets_s).sum())
    return {"value": runs[0], "n": n,
            "tol": {k: _seed_spread([r[k] for r in runs]) for k in runs[0]}}


def _check_08_2(answer, ref):
    from .evaluation.timing import TOLERANCE_S
    got = _dict(answer, ["f1", "mean_abs_offset_s"],
                shape="{'f1': float, 'mean_abs_offset_s': float}")
    f1 = _share(got["f1"], "the answer['f1']")
    offset = _number(got["mean_abs_offset_s"], "the answer['mean_abs_offset_s']")
    if TOLERANCE_S < offset <= 1000 * TOLERANCE_S:
        raise _Wrong(f"the answer['mean_abs_offset_s'] is {offset:.4g}: that looks like "
                     f"milliseconds — pass seconds (a matched pair is at most {TOLERANCE_S:g} s "
                     "apart)")
    if not 0 <= offset <= TOLERANCE_S:
        raise _Wrong(f"the answer['mean_abs_offset_s'] is {offset:.4g}: outside [0, "
                     f"{TOLERANCE_S:g}] s, where a mean over pairs at most the tolerance apart "
                     "must lie")
    ref_f1 = ref["value"]["f1"]
    tol = max(ref["tol"]["f1"], binomial_tolerance(ref_f1, ref["n"]))
    _near(f1, ref_f1, tol, "the answer['f1']", f"{Z:g} standard deviations over training seeds "
          f"0..2, or {Z:g} binomial standard errors over the {ref['n']} visual onsets")
    _near(offset, ref["value"]["mean_abs_offset_s"],
          max(ref["tol"]["mean_abs_offset_s"], 0.005), "the answer['mean_abs_offset_s']",
          f"{Z:g} standard deviations over training seeds 0..2, at least 5 ms")


EXERCISES: dict[str, Exercise] = {e.id: e for e in [
    Exercise("00.1", "Generate for `pw.sample_world(6, seed=11)` (regression mapper, one "
             "`generate` call with generator seed 0) and compare the tagger's reading with "
             "the labels: pass the accuracy dict of `attribute_accuracy`.",
             solve_00_1, _check_00_1, "a dict {attribute: accuracy, 'all': accuracy}",
             "Each attribute's accuracy is the share of the six sounds in which the tagger "
             "hears the image's value; `all` needs every attribute right at once, so it is "
             "never above the lowest of them."),
    Exercise("00.2", "Change the diffusion mapper's generator seed (0, then 1) for the image of "
             "section 2: what changes in the sound, what stays? Pass the cosine of the two CLAP "
             "samples and whether the tagger hears the same attributes.",
             solve_00_2, _check_00_2,
             "a dict {'cosine': float, 'same_attributes': bool}",
             "A cosine near 1 means the mapper's seed hardly moves the CLAP embedding: the "
             "variety one hears then comes from AudioLDM's own noise. A clearly lower cosine "
             "means the prior samples different sounds; the tagger's verdict says whether they "
             "still carry the image's attributes (what the image shows should stay, what it "
             "cannot show may change)."),
    Exercise("01.1", "Zero-shot with a single caption per combination instead of an ensemble "
             "(the first of each combination's captions): pass pocket-CLAP's accuracy dict on "
             "`pw.sample_world(100, seed=2027)`. Which attribute suffers most?",
             solve_01_1, _check_01_1, "a dict {attribute: accuracy, 'all': accuracy}",
             "Compare with the ensemble's accuracy (`zero_shot` in the notebook): the attribute "
             "whose accuracy drops most is the one a single wording describes least reliably."),
    Exercise("01.2", "Generate the audio caption of `pw.sample_world(1, seed=2030)` with "
             "`guidance_scale` of `1`, `2.5` and `5`, eight sounds each "
             "(`num_waveforms_per_prompt=8`, "
             "generator seed 0). Pass {w: {'accuracy', 'variety'}}: the share heard with every "
             "attribute right, and the mean pairwise tagger-feature distance.",
             solve_01_2, _check_01_2, "a dict {guidance: {'accuracy': float, 'variety': float}}",
             "Guidance pushes each sound toward its condition: accuracy usually rises from w = 1 "
             "and variety usually falls as w grows; the numbers say by how much here, and where "
             "more guidance stops paying."),
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
             "the word moves the embedding somewhere the generator was never trained on."),
    Exercise("02.1", "The centroid gap between pocket-CLAP **text** embeddings of the audio "
             "captions and the **audio** embeddings of `pw.sample_world(300, seed=4000)`.",
             solve_02_1, _check_02_1, "a float",
             "Compare it with the gaps notebook 02 prints for the mapper before and after "
             "training. A clearly non-zero gap is a modality gap inside CLAP; AudioLDM still "
             "follows text because it was trained with condition dropout on audio embeddings "
             "and text embeddings of matching captions lie nearest to their sounds' region of "
             "the space, even if offset."),
    Exercise("02.2", "Repeat section 2 with `k=50` (and `k=10`) on 300 pairs of world seed "
             "4000: pass {k: overlap}. How does the overlap scale with k, and why?",
             solve_02_2, _check_02_2, "a dict {10: float, 50: float}",
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
             solve_03_1, _check_03_1, "a float",
             "On unit vectors $\\lVert p - y\\rVert^2 = 2 - 2\\cos(p, y)$, so the MSE is "
             "exactly $2(1 - \\cos)$: the same optimum, gradients scaled by that same constant "
             "(which AdamW largely normalises away), so the training curves differ only by that "
             "factor on the loss axis."),
    Exercise("03.2", "Shrink the training set to 256 pairs: which wins, ridge or the MLP? Pass "
             "{'ridge': recall@1, 'regression': recall@1} for the recipe of `solution('03.2')`.",
             solve_03_2, _check_03_2, "a dict {'ridge': float, 'regression': float}",
             "With few pairs a closed-form linear map has far fewer parameters to fit; repeat "
             "with a larger `num_train` to find where the MLP overtakes it."),
    Exercise("03.3", "Check the conditional-mean argument: the mean norm of `mapper.net(x)` "
             "(before normalisation) per value of `count`, for 300 test images of world seed "
             "6000 and the shipped mapper.",
             solve_03_3, _check_03_3, "a dict {count value: mean norm}",
             "The mean of unit vectors pointing in different directions is shorter than 1: if "
             "the sounds of some images vary more in CLAP space, their conditional mean (what "
             "regression predicts before normalising) is shorter. Compare the norms across "
             "values."),
    Exercise("04.1", "Re-run the trade-off with `mapper_guidance=3.0` (and `1.0` to compare) on 8 "
             "images: pass {w: {'diversity', 'cs'}} of the generative row.",
             solve_04_1, _check_04_1, "a dict {guidance: {'diversity': float, 'cs': float}}",
             "Guidance of the prior sharpens its samples toward the condition: expect diversity "
             "to fall and CS to rise or stay, by an amount 8 images can only roughly measure."),
    Exercise("04.2", "The DDPM sampler on 10 steps: does it lose anything against DDIM, and "
             "why might it? Pass {'ddim': recall@1, 'ddpm': recall@1} on 128 pairs of world "
             "seed 6000 (generator seed 0).",
             solve_04_2, _check_04_2, "a dict {'ddim': float, 'ddpm': float}",
             "DDPM's ancestral step adds fresh noise sized for a small step; on 10 big steps the "
             "noise it adds is not removed again, while DDIM (η = 0) moves deterministically "
             "along the predicted trajectory. How much that costs depends on how firmly the "
             "prior's x0-prediction already pins each sample: read the two recalls against "
             "the binomial noise of 128 pairs (the checker says it), and call a smaller "
             "difference a tie."),
    Exercise("04.3", "Replace x0-prediction with ε-prediction. At which noise levels does each "
             "make its errors? Pass the first t at which ᾱ_t < 1/2 (T = 1000, cosine "
             "schedule): where an ε error and an x0 error cost the same.",
             solve_04_3, _check_04_3, "an int t",
             "From ε̂, x̂0 = (y_t − √(1−ᾱ) ε̂)/√ᾱ: an ε error is scaled by √((1−ᾱ)/ᾱ) in x0, large "
             "at high noise (ᾱ → 0). From x̂0, ε̂ = (y_t − √ᾱ x̂0)/√(1−ᾱ): an x0 error is scaled "
             "by √(ᾱ/(1−ᾱ)) in ε, large at low noise. They cost the same where ᾱ = 1/2."),
    Exercise("05.1", "Eight CLAP embeddings for one image from each mapper kind (mapper "
             "generator seed 0, the image of section 1): pass their mean pairwise cosine per "
             "kind. Is the variety in the CLAP embeddings or in AudioLDM's noise?",
             solve_05_1, _check_05_1,
             "a dict {'regression': float, 'diffusion': float}",
             "Regression gives one embedding (cosine 1). If the diffusion mapper's cosine is "
             "also near 1, the variety you hear is AudioLDM's noise; if it is clearly lower, "
             "the mapper itself samples different sounds. Fix the generator noise to hear "
             "only the mapper's part."),
    Exercise("05.2", "Sweep the mapper's guidance (`mapper_guidance_scale` 1 to 4) with the "
             "generative pipeline on 8 images: pass {w: {'accuracy', 'variety'}}.",
             solve_05_2, _check_05_2, "a dict {guidance: {'accuracy': float, 'variety': float}}",
             "The same trade-off as AudioLDM's guidance, one level up: read whether accuracy "
             "rises and variety falls with w, and whether the changes exceed what 8 images can "
             "resolve (one image is 1/8 of the accuracy)."),
    Exercise("05.3", "Make a video of six half-second scenes. How many segments does the "
             "pipeline cut it into (pass the number)? How short can a scene be before the "
             "soundtrack stops following it, and why?",
             solve_05_3, _check_05_3, "an int",
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
             "bias?", solve_06_2, _check_06_2, "a dict {32: float, "
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
    Exercise("07.1", "Make a folder of a few dozen pairs of your own (a frame and a short "
             "sound from each of a few videos), set `MY_FOLDER`, and rerun. How does the "
             "regression mapper's validation recall@1 (section 4 prints each mapper's) compare "
             "with chance (1 / number of validation pairs), and which held-out images get "
             "sounds that fit? Pass {'recall@1': float, 'chance': float, 'num_val': int}.",
             solve_07_1, _check_07_1, "a dict {'recall@1': float, 'chance': float, "
             "'num_val': int}",
             "The checker cannot recompute your folder: it checks that recall@1 is a share of "
             "your validation pairs and that chance is 1/num_val. A recall@1 a few times chance "
             "on a few dozen pairs is a mapper that learnt something; listen to the held-out "
             "sounds to hear what."),
    Exercise("07.2", "Train `ridge` (a closed-form linear map: add `\"ridge\": \"ridge\"` to "
             "`CONFIGS`) on the same folder and score it next to the regression mapper. On few "
             "pairs, which wins, and why might it? Pass {'ridge': recall@1, 'regression': "
             "recall@1, 'num_val': int} on the same validation pairs.",
             solve_07_2, _check_07_2, "a dict {'ridge': float, 'regression': float, "
             "'num_val': int}",
             "Both recalls are shares of the same few validation pairs, so one pair moves them "
             "by 1/num_val: read a difference smaller than that as a tie. Ridge has one linear "
             "map to fit in closed form, the MLP many more parameters and an early stop on the "
             "same few pairs — on few pairs ridge often wins (Exercise 03.2 of notebook 03 "
             "measures it on the pocket world)."),
    Exercise("07.3", "Give the text bridge a list of captions made for your folder. Does it now "
             "beat your mapper on CS? On FD?", solve_07_3, None,
             "a dict {system: {'cs', 'fd'}} (no checker: your captions and folder decide it)",
             "Captions written for your folder give the bridge the words its sounds need, so "
             "its CS (relevance to the image) can rise; its FD measures how close the sounds "
             "come to your real ones, which words alone rarely match as a mapper trained on "
             "the real sounds can. With random init (FAST, `tiny`) the numbers only exercise "
             "the code."),
    Exercise("07.4", "Generate with `num_inference_steps=200, scheduler=\"ddim\"` (the paper's "
             "setting) and compare the timings in section 6 with the default.", solve_07_4,
             None, "a dict {setting: seconds} (no checker: timings belong to your machine)",
             "Each step runs the UNet once per guidance branch, so the time grows about "
             "linearly with the steps: 200 DDIM steps cost roughly 200 / (the default's "
             "steps) times the default's sampling time, plus the fixed cost of decoding."),
    Exercise("08.1", "Write onset F1 yourself: the real tracks of 16 timed videos (world seed "
             "8500) against their visual onsets, onsets paired one-to-one in time order, at "
             "tolerances of 10, 20 and 50 ms: pass {tolerance_ms: F1}. Why does F1 fall at the "
             "narrowest, though the tracks are the videos' own?",
             solve_08_1, _check_08_1, "a dict {10: float, 20: float, 50: float}",
             "A visual onset is a frame's time, up to half a frame from its note, and the "
             "detector reads the sound on a hop of its own: a tolerance narrower than those two "
             "together misses pairs that are right. The measure's default (MIREX's onset "
             "tolerance) is wider than both, so real pairs score near perfect — and the "
             "tolerance must be chosen against the frame rate: `synchrony` refuses "
             "a tolerance under half a frame (use its detector and `match_onsets` to go below)."),
    Exercise("08.2", "Train a small onset predictor (16 channels, 150 steps) on "
             "32 timed videos of world seed 9500 and score it on 16 of seed 9501: pass "
             "{'f1', 'mean_abs_offset_s'}. How much does it lose against the shipped one "
             "(`load_onsets().facts['train_report']['scores']['val']`)?",
             solve_08_2, _check_08_2, "a dict {'f1': float, 'mean_abs_offset_s': float}",
             "A pop changes one object's pixels on one frame, a scene cut all of them, and the "
             "predictor sees each frame's embedding and its change from the frame before: an "
             "easy task on exact frames, so even a small predictor on a few videos finds most "
             "pops, on the right frame (offsets near 0). Compare its F1 with the shipped "
             "predictor's validation F1: the gap is what its larger width and its larger "
             "training set buy."),
]}


_REFERENCES = {"00.1": _ref_00_1, "00.2": _ref_00_2, "01.1": _ref_01_1, "01.2": _ref_01_2,
               "01.4": _ref_01_4, "02.1": _ref_02_1, "02.2": _ref_02_2, "03.1": _ref_03_1,
               "03.2": _ref_03_2, "03.3": _ref_03_3, "04.1": _ref_04_1, "04.2": _ref_04_2,
               "04.3": _ref_04_3, "05.1": _ref_05_1, "05.2": _ref_05_2, "05.3": _ref_05_3,
               "06.2": _ref_06_2,
               "08.1": _ref_08_1, "08.2": _ref_08_2}
EXERCISES = {k: dataclasses.replace(e, reference=_REFERENCES.get(k))
             for k, e in EXERCISES.items()}


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
    """The code of an exercise's reference solution, as the notebook's folded block shows it
    (public API and absolute imports only: it runs pasted into a cell), or its discussion when
    it has none."""
    ex = _get(exercise_id)
    return textwrap.dedent(inspect.getsource(ex.solve)) if ex.solve else ex.discussion


@functools.cache
def reference(exercise_id: str):
    """What the checker of ``exercise_id`` compares with, computed now on the kit's models
    (once per process): the expected value and the noise that sets its tolerance; ``None`` for
    a checker of properties alone (01.3, 07.1, 07.2)."""
    ex = _get(exercise_id)
    return ex.reference() if ex.reference else None


def verdict(exercise_id: str, answer) -> str | None:
    """``None`` when ``answer`` is right, else the one-line reason it is wrong (what
    :func:`check` prints after "✗")."""
    ex = _get(exercise_id)
    if ex.compare is None:
        raise ConfigError(f"exercise {exercise_id} has no checker ({ex.expects})")
    try:
        ex.compare(answer, reference(exercise_id))
    except _Wrong as wrong:
        return str(wrong)
    return None


def check(exercise_id: str, answer) -> bool:
    """Print whether ``answer`` to exercise ``exercise_id`` is right; return ``True``/``False``.

    The reference is computed now on the kit's models (once per process). A wrong type or
    shape is a printed verdict saying what was expected.
    """
    ex = _get(exercise_id)
    if ex.compare is None:
        print(f"{exercise_id}: no checker — {ex.expects}. Compare your reasoning with the "
              f"solution: {ex.discussion}")
        return False
    problem = verdict(exercise_id, answer)
    if problem:
        print(f"✗ {exercise_id}: {problem}. Expected {ex.expects}; the recipe: {ex.question}")
        return False
    ref = reference(exercise_id)
    shown = "" if ref is None else f" (the reference: {_short(ref.get('value', ref))})"
    print(f"✓ {exercise_id}: right{shown}. {ex.discussion}")
    return True


def _has_value(v) -> bool:
    return isinstance(v, dict) and "value" in v


def _short(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v['value'] if _has_value(v) else v)}"
                               for k, v in x.items()) + "}"
    return repr(x)


def details(exercise_id: str) -> str:
    """The collapsed Markdown solution block the notebooks carry for ``exercise_id``."""
    ex = _get(exercise_id)
    body = [ex.discussion]
    if ex.solve is not None:
        name = ex.solve.__name__
        body += ["", "```python", source(exercise_id).rstrip(), "```", "",
                 f"Run it: `{name}()` after pasting it (or "
                 f"`exercises.solution({exercise_id!r})()`)"
                 + (f"; check yours: `exercises.check({exercise_id!r}, answer)`."
                    if ex.compare else ".")]
    return ("<details><summary>Solution " + exercise_id + "</summary>\n\n" + "\n".join(body)
            + "\n\n</details>")
