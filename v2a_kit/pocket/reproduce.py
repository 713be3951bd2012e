"""The paper's comparison, reproduced on the pocket world (notebook 06).

V2A-Mapper's Table 1 compares image-to-sound systems by fidelity (FD, FAD, KL, IS), relevance
(CS) and variability. :func:`reproduce` runs that comparison on held-out pocket images
(``sample_world(n, world_seed)``), with the pocket evaluators in the roles of PANNs, VGGish and
Wav2CLIP (:func:`v2a_kit.registry.load_extractors`), for these systems:

- ``real audio``: other real sounds of the same images (``sample_audio_for``), the floor set
  by the world's hidden audio factors (FD is not a trivial 0). A seed changes the draw.
- ``regression``, ``generative``, ``ridge``: pocket-CLIP image embedding → the shipped MLP,
  diffusion-prior or ridge mapper → pocket-CLAP embedding → pocket-AudioLDM. A seed changes the
  prior's samples and the generator noise.
- ``nearest neighbour``: the real sound of the training pair whose pocket-CLIP image embedding
  is nearest (no generator; a strong baseline). A seed changes which half of the pool is
  searched (:func:`nearest_neighbours`).
- ``text bridge``: the best caption by pocket-CLIP zero-shot (:func:`pick_captions`) → the same
  attributes as an audio caption → its pocket-CLAP text embedding → pocket-AudioLDM. A seed
  changes the generator noise.
- ``oracle`` (opt-in): the true pocket-CLAP audio embedding → pocket-AudioLDM, the generator's
  ceiling: what a perfect mapper would reach.
- direct baselines (opt-in, ``direct=``): pocket-CLIP image embedding → a generator trained on
  it directly, no mapper and no CLAP (:mod:`v2a_kit.pocket.models.direct`, Im2Wav's idea). A seed
  changes the generator noise. Having no CLAP embedding, its recall, probe accuracies and CLAP
  spread are None; ``diversity`` is its within-image spread.

Each system's ``details`` in the report: a mapper's kind and parameter count; the text bridge's
caption ``caption_accuracy`` (zero-shot picks vs the true labels) and first ``audio_captions``;
the nearest neighbour's per-seed ``label_match`` (retrieved pairs showing all four attributes of
the query) and first neighbours' ``indices`` into ``sample_world(num_train,
details["world_seed"])`` (``MAPPER_SEED``); how real audio is redrawn.

Every generating system of one seed starts from the **same** generator noise (common random
numbers), so their differences are the conditioning's, not the noise's. The held-out images stay
fixed across seeds; the spread over seeds is that of the systems' own randomness.

Metrics, per system and seed, over the ``n · num_samples`` sounds (``num_samples`` per image):
``fd`` (tagger features vs the real audio of the ``n`` images), ``fad`` (the audio→image
evaluator's trunk features, the FAD view), ``kl`` (paired by clip: each sound against its image's
real audio, one softmax per attribute), ``is`` (one split: the convention's ten chunks of a
few dozen clips each could not estimate the marginal over 96 attribute combinations; its spread
is the seeds'), ``cs``
(100 × cosine, audio→image evaluator vs pocket-CLIP image embedding), ``recall@1``/``@5`` (the
true pocket-CLAP audio embedding of each image retrieved among the ``n`` from the system's CLAP
embedding: the mapped one, the caption's text embedding, or the CLAP audio embedding of the
retrieved or redrawn real sound; chance k/n), ``diversity`` (mean pairwise tagger-feature
distance between the sounds of one image) and ``acc_<attribute>`` / ``acc_all`` (the tagger's
attribute accuracy on the sounds, each and all four at once), ``share_contour_<value>`` (the
tagger's share of each contour among the sounds) and ``heard_only_gap`` (the largest difference,
in points, between those shares and real audio's proportions — the world's law, a third each;
real audio's own row shows what the sampling of ``n · num_samples`` sounds alone gives),
``clap_spread`` (mean pairwise cosine distance of one image's CLAP embeddings) and ``rms``.
FD, FAD, KL, IS and CS come from
:func:`v2a_kit.evaluation.score`, each sound paired with its image and that image's real audio.

Cost on 2 CPU cores. Full mode (the defaults): 4 generating systems × 3 seeds × 96 sounds
= 1,152 sounds, each 10 DPM-Solver++ steps × ≈ 20 ms (pocket-AudioLDM with guidance, batch
64) plus ≈ 180 ms of Griffin-Lim vocoding (≈ 9 steps' worth, whatever the step count):
≈ 7.5 min, plus ≈ 1 min to load the models, embed the 2,048-pair pool and score ≈ 1,700
sounds — ≈ 8.5 min at those rates. Measured on 2 cores shared with other jobs: 2.3 min
(≈ 9 s per generating system and seed) to 4.5 min (when the other jobs were busy).
``reproduce(**FAST_SETTINGS)``: ≈ 13–17 s, most of it loading the models.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..atomic import recorded_path
from ..errors import ConfigError
from ..evaluation import (
    AudioOutputs,
    Extractors,
    cosine_spreads,
    extract,
    paired_differences,
    recall_at_k,
    score,
)
from ..evaluation.labels import header
from ..generation import SCHEDULERS, generate, peak_warnings_off
from ..mappers import Mapper, load_mapper_folder
from ..registry import load_audioldm, load_clap, load_extractors
from ..spaces import Embeddings, check_same_space
from .gates import _combo_captions, attribute_accuracy, through_decoder
from .mappers import CALIBRATION_SEED, MAPPER_SEED
from .models.contrastive import combo_prompts
from .models.evaluators import EVALUATOR_SEED
from .models.loading import pocket_dir
from .models.probes import LEVEL_TOLERANCE_DB, PROBE_OFFSET, Probes, clap_probes, read_probes
from .world.scenes import (
    ATTRIBUTES,
    AUDIO_WORDS,
    HEARD_ONLY,
    SPLITS,
    PocketBatch,
    sample_audio_for,
    sample_world,
)
from .world.synth import level_db

__all__ = ["REPRODUCE_SEED", "MAPPER_SYSTEMS", "BASELINES", "ALL_BASELINES", "METRICS",
           "TABLE_COLUMNS", "FAST_SETTINGS", "TrainingPool", "training_pool",
           "nearest_neighbours", "CaptionPick", "audio_caption", "pick_captions", "reproduce",
           "reproduction_table"]

REPRODUCE_SEED = 4000  # held-out world seed: no pocket model is trained, tuned or gated on it
MAPPER_SYSTEMS = {"regression": "regression", "generative": "diffusion", "ridge": "ridge"}
BASELINES = ("nearest neighbour", "text bridge")      # run by default
ALL_BASELINES = (*BASELINES, "oracle", "ceiling")
CEILING = "ceiling"  # real audio through the generator's own decoding: what it could at best give
REAL = "real audio"
SPREAD_RATIO = ("spread_ratio_mean", "spread_ratio_median", "spread_ratio_q1", "spread_ratio_q3")
METRICS = ("fd", "fad", "kad", "fad_inf", "kl", "is", "cs", "recall@1", "recall@5", "diversity",
           "clap_spread", *SPREAD_RATIO,
           *(f"acc_{a}" for a in ATTRIBUTES), "acc_all", "acc_contour", "acc_all5",
           *(f"emb_acc_{a}" for a in ATTRIBUTES), "emb_acc_all",
           *(f"share_{a}_{v}" for a, vs in HEARD_ONLY.items() for v in vs), "heard_only_gap",
           "rms", "level_err_db", "level_within_3db", "level_bias_db", "limited")
# What notebook 06 runs with FAST=1 (seconds): reproduce(**FAST_SETTINGS).
FAST_SETTINGS = dict(n=8, seeds=(0,), num_inference_steps=2, num_samples=2, num_train=128)

# Streams drawn from one seed: mapper sampling, generator noise, the nearest-neighbour half-pool.
_MAPPER_STREAM, _NOISE_STREAM, _POOL_STREAM = 0, 1, 2
TABLE_COLUMNS = ("fd", "fad", "kad", "kl", "is", "cs", "recall@1", "recall@5", "diversity",
                 "acc_all")


# --- the nearest-neighbour baseline -------------------------------------------------------------
@dataclass
class TrainingPool:
    """Training pairs to retrieve from: the first ``len(audio)`` of the mappers' training world.

    Attributes:
        clip_embed: (m, d_clip) pocket-CLIP image embeddings.
        audio: (m, 16000) float32, the paired real sounds.
        labels: attr -> (m,) ints.
        world_seed: the world they come from (``MAPPER_SEED``).
    """

    clip_embed: Embeddings
    audio: np.ndarray
    labels: dict[str, np.ndarray]
    world_seed: int


def training_pool(num_train: int, clip, progress: bool = False) -> TrainingPool:
    """The first ``num_train`` pairs the shipped mappers were trained on (world ``MAPPER_SEED``,
    SEEN combinations only),
    with their images embedded by ``clip``: ≈ 1 ms per pair to draw and 5–15 ms to embed on 2
    cores (``pocket_pairs`` would also CLAP-encode every sound, several times that, unneeded)."""
    batch = sample_world(num_train, MAPPER_SEED, split="seen")
    embeds = clip.encode_images(list(batch.images), progress=progress)
    return TrainingPool(embeds, batch.audio, batch.labels, MAPPER_SEED)


def nearest_neighbours(clip_embed, pool: TrainingPool, num_samples: int = 1,
                       seed: int | None = None) -> np.ndarray:
    """Indices into ``pool`` of the ``num_samples`` training images nearest (cosine) each query.

    Args:
        clip_embed: (n, d_clip) query image embeddings (normalised here).
        seed: ``None`` searches the whole pool; an int searches a random half of it, drawn by
            the seed — the nearest-neighbour system's "other draw" of training data.
    Returns:
        (n, num_samples) int64, nearest first.
    """
    q = F.normalize(torch.as_tensor(clip_embed, dtype=torch.float32), dim=-1)
    keys = pool.clip_embed.embeds
    allowed = np.arange(len(keys))
    if seed is not None:
        rng = np.random.default_rng(np.random.SeedSequence([seed, _POOL_STREAM]))
        allowed = np.sort(rng.permutation(len(keys))[:len(keys) // 2])
    if num_samples > len(allowed):
        raise ConfigError(f"num_samples={num_samples} but the pool searched holds "
                          f"{len(allowed)} pairs")
    sims = q @ keys[torch.from_numpy(allowed)].T
    return allowed[sims.topk(num_samples, dim=1).indices.numpy()]


# --- the text-bridge baseline -------------------------------------------------------------------
@dataclass
class CaptionPick:
    """What pocket-CLIP zero-shot read off each image.

    Attributes:
        labels: attr -> (n,) value indices of the best-scoring caption (an attribute combination).
        audio_captions: n strings: that combination in the audio captions' words.
    """

    labels: dict[str, np.ndarray]
    audio_captions: list[str]


def audio_caption(combo: dict[str, int]) -> str:
    """An attribute combination in the audio captions' first words, e.g. ``"the sound of two
    loud shrill buzzes"`` (the second template of :mod:`~v2a_kit.pocket.world`)."""
    w = {a: AUDIO_WORDS[a][ATTRIBUTES[a][combo[a]]][0] for a in ATTRIBUTES}
    shape = w["shape"][0 if ATTRIBUTES["count"][combo["count"]] == "one" else 1]
    return f"the sound of {w['count']} {w['size']} {w['colour']} {shape}"


@torch.no_grad()
def pick_captions(clip_embed, clip) -> CaptionPick:
    """Zero-shot caption choice: each of the 96 attribute combinations is one candidate caption,
    represented by the mean pocket-CLIP text embedding of 8 image captions of it (prompt
    ensembling, as the quality gates measure zero-shot accuracy); each image takes the nearest.

    Args:
        clip_embed: (n, d_clip) pocket-CLIP image embeddings; clip: the encoder that made them.
    """
    combos, prompts = combo_prompts(ATTRIBUTES, _combo_captions("image"))
    text = clip.encode_text([p for ps in prompts for p in ps], progress=False).embeds
    candidates = F.normalize(text.view(len(combos), -1, text.shape[1]).mean(1), dim=-1)
    best = (F.normalize(torch.as_tensor(clip_embed), dim=-1) @ candidates.T).argmax(1).numpy()
    labels = {a: np.array([combos[j][a] for j in best], np.int64) for a in ATTRIBUTES}
    return CaptionPick(labels, [audio_caption(combos[j]) for j in best])


# --- the comparison: checks ---------------------------------------------------------------------
def _torch_generator(seed: int, stream: int) -> torch.Generator:
    state = np.random.SeedSequence([seed, stream]).generate_state(1)[0]
    return torch.Generator().manual_seed(int(state))


def _is_int(v, low: int) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= low


def _check_inputs(n, seeds, world_seed, num_samples, num_train, mappers, baselines, trained_on,
                  scheduler, steps, direct=None):
    for name, v, low in (("n", n, 2), ("world_seed", world_seed, 0),
                         ("num_samples", num_samples, 1), ("num_train", num_train, 2)):
        if not _is_int(v, low):
            raise ConfigError(f"{name}={v!r}; expected an int ≥ {low}")
    seeds = tuple(seeds) if not isinstance(seeds, (str, bytes)) else seeds
    if not isinstance(seeds, tuple) or not seeds or not all(_is_int(s, 0) for s in seeds) \
            or len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds={seeds!r}; expected distinct ints ≥ 0 (one run each)")
    if world_seed in trained_on:
        raise ConfigError(f"world_seed={world_seed} is what {trained_on[world_seed]} trained on; "
                          f"hold out another (default {REPRODUCE_SEED})")
    if world_seed >= EVALUATOR_SEED:
        raise ConfigError(f"world_seed={world_seed}: the evaluators train on world seeds ≥ "
                          f"{EVALUATOR_SEED}; hold out a lower one (default {REPRODUCE_SEED})")
    if 2 * num_samples > num_train:
        raise ConfigError(f"num_train={num_train}: each seed searches half the pool, which must "
                          f"hold num_samples={num_samples} neighbours")
    _check_systems(mappers, baselines, direct or {})
    if not (scheduler in SCHEDULERS if isinstance(scheduler, str)
            else hasattr(scheduler, "set_timesteps")):
        raise ConfigError(f"scheduler={scheduler!r}; expected one of {sorted(SCHEDULERS)} or a "
                          "diffusers scheduler instance")
    if steps is not None and not _is_int(steps, 1):
        raise ConfigError(f"num_inference_steps={steps!r}; expected None or an int ≥ 1")
    return seeds


def _check_systems(mappers: dict, baselines: tuple, direct: dict | None = None) -> None:
    from .models.direct import is_direct
    direct = direct or {}
    unknown = [b for b in baselines if b not in ALL_BASELINES]
    clash = [m for m in (*mappers, *direct) if m in (REAL, *ALL_BASELINES)]
    clash += [m for m in direct if m in mappers]
    if unknown or clash:
        raise ConfigError(f"baselines {unknown} unknown (expected some of {ALL_BASELINES}); "
                          f"mapper or direct names {clash} clash with other rows")
    swapped = [k for k, m in mappers.items() if is_direct(m)]
    if swapped:
        raise ConfigError(f"mappers {swapped} are direct baselines (generators conditioned on "
                          "CLIP image embeddings), not mappers (CLIP -> CLAP): pass them as "
                          "direct=")
    wrong = {k: type(m).__name__ for k, m in mappers.items() if not isinstance(m, Mapper)}
    if wrong:
        raise ConfigError(f"mappers {wrong} are not v2a_kit Mappers (load_mapper, create_mapper)")
    swapped = [k for k, m in direct.items() if isinstance(m, Mapper)]
    if swapped:
        raise ConfigError(f"direct {swapped} are mappers (CLIP -> CLAP), not direct baselines "
                          "(generators conditioned on CLIP image embeddings): pass them as "
                          "mappers=")
    wrong = {k: type(m).__name__ for k, m in direct.items() if not is_direct(m)}
    if wrong:
        raise ConfigError(f"direct {wrong} are not direct baselines (load_direct, "
                          "v2a_kit.pocket.models.direct.load_direct_folder)")


def _trained_on(folder) -> dict[int, str]:
    """World seed -> which shipped models trained on it (refused as held-out worlds)."""
    build = json.loads((folder / "build.json").read_text())
    return {int(build.get("seed", 0)): "the pocket foundation models",
            int(build.get("seed", 0)) + PROBE_OFFSET: "the embedding ceiling's probes",
            MAPPER_SEED: "the shipped mappers",
            CALIBRATION_SEED: "the shipped generative mapper's guidance calibration"}


def _summary(values: list) -> dict:
    if values[0] is None:
        return {"mean": None, "std": None, "per_seed": values}
    v = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(v.mean()), 6),
            "std": round(float(v.std(ddof=1)), 6) if len(v) > 1 else None,
            "per_seed": [round(float(x), 6) for x in v]}


# --- the comparison: what every system shares ----------------------------------------------------
@dataclass
class _Run:
    """The models, the held-out images and what every system is scored against, for one call.

    ``pairs`` pairs each sound (row ``i`` of a system's ``n · num_samples``) with its image and
    that image's real audio (row ``i // num_samples``), for KL and CS.
    """

    ex: Extractors
    clip: object                     # pocket-CLIP ClipEncoder (also ``ex.cs.image_encoder``)
    clap: object                     # pocket-CLAP ClapEncoder
    audioldm: object                 # pocket-AudioLDM
    batch: PocketBatch               # the held-out images, their labels and real audio
    img: Embeddings                  # their pocket-CLIP embeddings
    true_clap: torch.Tensor          # (n, d) pocket-CLAP embeddings of their real audio
    references: AudioOutputs         # the extractors' outputs on their real audio
    pairs: np.ndarray                # (n · num_samples, 2): sound row -> image row
    world_seed: int
    num_samples: int
    steps: int
    scheduler: object
    guidance_scale: float
    mapper_guidance: float | None    # None: each mapper's own default
    real_levels: np.ndarray          # (n,) each image's real loudness as read off its audio (dB)
    probes: Probes                   # the embedding ceiling's probes (pocket-CLAP space)
    details: dict = field(default_factory=dict)      # system -> details for the report
    reference_spreads: np.ndarray | None = None      # (n,) spread of a second real draw set
    bridge_clap: torch.Tensor | None = None          # text bridge: caption CLAP embeddings
    pool: TrainingPool | None = None                 # nearest neighbour: the training pairs
    pool_clap: dict = field(default_factory=dict)    # pool index -> CLAP audio embedding

    @property
    def n(self) -> int:
        return len(self.batch.audio)


def _load_run(n, world_seed, weights, steps, scheduler, guidance_scale, mapper_guidance,
              num_samples, progress, split="all") -> _Run:
    """Load the models (one pocket-CLIP serves the mappers, the text bridge and CS), draw the
    held-out images and score their real audio once."""
    ex = load_extractors("pocket", device="cpu", weights=weights)
    clip = ex.cs.image_encoder
    clap = load_clap("pocket", weights=weights, device="cpu")
    audioldm = load_audioldm("pocket", weights=weights, device="cpu")
    batch = sample_world(n, world_seed, split=split)
    img = clip.encode_images(list(batch.images), progress=progress)
    true_clap = clap.encode_audio([(a, 16000) for a in batch.audio], progress=progress).embeds
    references = extract(ex, batch.audio, fad_rows=True, cs=False, what="real audio")
    rep = np.repeat(np.arange(n), num_samples)  # sound row -> its image
    return _Run(ex, clip, clap, audioldm, batch, img, true_clap, references,
                np.stack([np.arange(len(rep)), rep], 1), world_seed, num_samples, steps, scheduler,
                guidance_scale, mapper_guidance, level_db(batch.audio),
                clap_probes(clap, int(json.loads((pocket_dir(weights) / "build.json")
                                          .read_text()).get("seed", 0))),
                details={REAL: {"draws": "sample_audio_for(batch, world_seed + 1 + "
                                         "2 · seed · num_samples + k), k < num_samples; the "
                                         "spread reference: the next num_samples seeds"}})


def _prepare_baselines(run: _Run, baselines: tuple, num_train: int, progress: bool) -> None:
    """What does not depend on the seed: the bridge's captions, the nearest-neighbour pool."""
    if "text bridge" in baselines:
        pick = pick_captions(run.img.embeds, run.clip)
        run.bridge_clap = run.clap.encode_text(pick.audio_captions, progress=False).embeds
        run.details["text bridge"] = {
            "caption_accuracy": attribute_accuracy(pick.labels, run.batch.labels),
            "audio_captions": pick.audio_captions[:8]}
    if "nearest neighbour" in baselines:
        run.pool = training_pool(num_train, run.clip, progress=progress)
        run.details["nearest neighbour"] = {"num_train": num_train,
                                            "world_seed": run.pool.world_seed,
                                            "label_match": [], "indices": []}


# --- the comparison: the systems, (run, seed) -> their sounds ----------------------------------
@dataclass
class _Sounds:
    """One system's sounds for one seed (row i: image ``i // num_samples``).

    Attributes:
        waves: (n · num_samples, samples) float32.
        clap: their CLAP embeddings where the system has them (what conditioned the generator,
            or the real sounds' own), else None.
        contour: (n · num_samples,) the heard-only contour each sound should carry where one is
            determined (real draws: their own; the oracle: its real sound's), else None.
        limited: how many the peak limiter scaled down (generated systems), else None.
    """

    waves: np.ndarray
    clap: torch.Tensor | None = None
    contour: np.ndarray | None = None
    limited: int | None = None


def _clap_of(run: _Run, audio: np.ndarray) -> torch.Tensor:
    return run.clap.encode_audio([(a, 16000) for a in audio], progress=False).embeds


def _generated(run: _Run, clap_embed, seed: int, model=None) -> tuple[np.ndarray, int]:
    """(n · num_samples, d) CLAP embeddings (CLIP ones for a direct baseline ``model``) ->
    (waveforms, how many the peak limiter scaled down), from the seed's generator noise."""
    g, waves, limited = _torch_generator(seed, _NOISE_STREAM), [], 0
    for chunk in torch.as_tensor(clap_embed).split(64):
        out = generate(model or run.audioldm, chunk, num_inference_steps=run.steps,
                       scheduler=run.scheduler, guidance_scale=run.guidance_scale,
                       generator=g, progress=False)
        waves.append(out.waveforms)
        limited += out.peaks.num_limited
    return np.concatenate(waves), limited


def _real_draws(run: _Run, seed: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n · num_samples, samples) other real sounds of each image, image-major, and their
    contours. ``offset`` 1 gives an independent second set (the spread reference)."""
    base = run.world_seed + 1 + (2 * seed + offset) * run.num_samples
    draws = [sample_audio_for(run.batch, base + k) for k in range(run.num_samples)]
    audio = np.stack([d.audio for d in draws], 1).reshape(run.n * run.num_samples, -1)
    contour = np.stack([d.contour for d in draws], 1).reshape(-1)
    return audio, contour


def _run_real(run: _Run, seed: int) -> _Sounds:
    waves, contour = _real_draws(run, seed)
    # the within-image spread every system's is compared with: an independent set of real
    # draws, so that real audio's own ratio shows what the measurement's noise alone gives
    reference, _ = _real_draws(run, seed, offset=1)
    run.reference_spreads = cosine_spreads(_clap_of(run, reference), run.num_samples) \
        if run.num_samples > 1 else None
    return _Sounds(waves, _clap_of(run, waves), contour)


def _run_ceiling(run: _Run, seed: int) -> _Sounds:
    """The real draws through the generator's own decoding (its autoencoder's pooling and
    upsampling, its vocoder): the representation ceiling, what a perfect latent could give."""
    waves, contour = _real_draws(run, seed)
    return _Sounds(through_decoder(run.audioldm, waves), None, contour)


def _run_nearest(run: _Run, seed: int) -> _Sounds:
    pool, num_samples = run.pool, run.num_samples
    idx = nearest_neighbours(run.img.embeds, pool, num_samples, seed)
    new = sorted({int(i) for i in idx.ravel()} - set(run.pool_clap))
    if new:
        run.pool_clap.update(zip(new, _clap_of(run, pool.audio[new])))
    same = np.all([pool.labels[a][idx] == run.batch.labels[a][:, None] for a in ATTRIBUTES], 0)
    details = run.details["nearest neighbour"]
    details["label_match"].append(round(float(same.mean()), 6))
    details["indices"].append(idx[:, 0].tolist())
    return _Sounds(pool.audio[idx.ravel()],
                   torch.stack([run.pool_clap[int(i)] for i in idx.ravel()]))


def _from_clap(run: _Run, clap, seed: int, contour=None) -> _Sounds:
    waves, limited = _generated(run, clap, seed)
    return _Sounds(waves, clap, contour, limited)


def _run_mapper(mapper, run: _Run, seed: int) -> _Sounds:
    pred = mapper.map(run.img, num_samples=run.num_samples, guidance_scale=run.mapper_guidance,
                      generator=_torch_generator(seed, _MAPPER_STREAM)).embeds
    return _from_clap(run, pred, seed)


def _run_direct(model, run: _Run, seed: int) -> _Sounds:
    """A direct baseline: the images' pocket-CLIP embeddings straight into its generator (the
    same generator noise as every other generating system of the seed)."""
    check_same_space(model.space, run.img.space, "the held-out images' CLIP embeddings")
    waves, limited = _generated(run, run.img.embeds.repeat_interleave(run.num_samples, 0), seed,
                                model)
    return _Sounds(waves, None, None, limited)


def _run_bridge(run: _Run, seed: int) -> _Sounds:
    return _from_clap(run, run.bridge_clap.repeat_interleave(run.num_samples, 0), seed)


def _run_oracle(run: _Run, seed: int) -> _Sounds:
    """Generation from the true CLAP audio embedding of each image's own real sound: it should
    carry that sound's contour and loudness too."""
    return _from_clap(run, run.true_clap.repeat_interleave(run.num_samples, 0), seed,
                      np.repeat(run.batch.labels["contour"], run.num_samples))


_BASELINE_RUNNERS = {"nearest neighbour": _run_nearest, "text bridge": _run_bridge,
                     "oracle": _run_oracle, CEILING: _run_ceiling}


def _systems(run: _Run, mappers: dict, baselines: tuple, direct: dict | None = None) -> dict:
    """name -> runner(run, seed), in the report's order: real audio, mappers, direct baselines,
    baselines."""
    direct = direct or {}
    systems = {REAL: _run_real, **{k: partial(_run_mapper, m) for k, m in mappers.items()},
               **{k: partial(_run_direct, g) for k, g in direct.items()}}
    for name, m in mappers.items():
        run.details[name] = {"kind": m.kind,
                             "guidance_scale": None if m.kind != "diffusion"
                             else run.mapper_guidance or m.config.guidance_scale,
                             "parameters": int(sum(p.numel() for p in m.parameters()))}
    for name, g in direct.items():
        run.details[name] = {"kind": "direct", "conditioned_on": g.space.to_dict(),
                             "parameters": int(sum(p.numel() for p in g.unet.parameters()))}
    systems.update({b: _BASELINE_RUNNERS[b] for b in ALL_BASELINES if b in baselines})
    return systems


# --- the comparison: scoring --------------------------------------------------------------------
def _shares(pred: np.ndarray, attr: str) -> np.ndarray:
    return np.bincount(np.asarray(pred), minlength=len(HEARD_ONLY[attr])) / len(pred)


def _quartiles(values: np.ndarray) -> dict:
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"mean": float(values.mean()), "median": float(median), "q1": float(q1),
            "q3": float(q3)}


def _score(run: _Run, sounds: _Sounds) -> dict:
    """Every metric of ``METRICS`` for one system's sounds (row i: image ``i // num_samples``)."""
    waves, clap_all = sounds.waves, sounds.clap
    gen = extract(run.ex, waves, what="generated")
    # one IS split: the convention's ten chunks of a few dozen clips each could not estimate the
    # marginal over 96 attribute combinations
    several = run.num_samples > 1
    image = run.pairs[:, 1]
    labels = {a: y[image] for a, y in run.batch.labels.items()}
    paper = score(run.ex, gen, run.references, run.img, reference_pairs=run.pairs,
                  image_pairs=run.pairs, is_splits=1,
                  labels={a: labels[a] for a in ATTRIBUTES},
                  num_samples=run.num_samples if several else None)
    out = {m: None for m in METRICS}
    out.update({"fd": paper.fd, "fad": paper.fad, "kad": paper.kad, "fad_inf": paper.fad_inf,
                "_outputs": gen, "_intervals": paper.intervals, "_protocol": paper.protocol,
                "kl": paper.kl, "is": paper.is_mean, "cs": paper.cs,
                "diversity": paper.diversity, "rms": paper.rms})
    if clap_all is not None:
        r = recall_at_k(clap_all[::run.num_samples], run.true_clap, ks=(1, 5))
        out["recall@1"], out["recall@5"] = r[1], r[5]
        # what the CLAP embeddings that conditioned the sounds carry, read by the probes of
        # the embedding ceiling (before any generator: the mapper's own errors)
        read = run.probes.predict(clap_all)
        right = [read[a] == run.batch.labels[a][image] for a in ATTRIBUTES]
        out.update({f"emb_acc_{a}": float(r.mean()) for a, r in zip(ATTRIBUTES, right)})
        out["emb_acc_all"] = float(np.all(right, axis=0).mean())
        if several:
            spreads = cosine_spreads(clap_all, run.num_samples)
            out["clap_spread"] = float(spreads.mean())
            if run.reference_spreads is not None:
                ratio = spreads / np.maximum(run.reference_spreads, 1e-9)
                out.update({f"spread_ratio_{k}": v for k, v in _quartiles(ratio).items()})
    groups = run.ex.fd.logit_groups
    pred = {a: gen.logits[:, s].argmax(1) for a, s in groups.items()}
    out.update({f"acc_{a}": v for a, v in paper.attributes.items()})
    if sounds.contour is not None:  # the sound's own heard-only value is known: all five
        contour_right = pred["contour"] == sounds.contour
        seen_right = np.all([pred[a] == labels[a] for a in ATTRIBUTES], axis=0)
        out["acc_contour"] = float(contour_right.mean())
        out["acc_all5"] = float((contour_right & seen_right).mean())
    gaps = []
    for attr, values in HEARD_ONLY.items():
        share = _shares(pred[attr], attr)
        # real audio's proportions: the world's law, each heard-only value drawn with equal
        # probability (world._sounds), not the n reference sounds' own few-dozen-draw estimate,
        # whose sampling noise alone would be several points
        real = np.full(len(values), 1 / len(values))
        out.update({f"share_{attr}_{v}": float(x) for v, x in zip(values, share)})
        gaps.append(100 * float(np.abs(share - real).max()))
    out["heard_only_gap"] = max(gaps)
    # loudness, sound by sound: the level each sound carries against its image's real sound's
    # (every real sound of an image has the same loudness: the size's)
    err = level_db(waves) - run.real_levels[image]
    out["level_err_db"] = float(np.median(np.abs(err)))
    out["level_within_3db"] = float((np.abs(err) <= LEVEL_TOLERANCE_DB).mean())
    out["level_bias_db"] = float(np.median(err))
    if sounds.limited is not None:
        out["limited"] = sounds.limited / len(waves)
    return out


def _run_systems(run: _Run, systems: dict, seeds: tuple, keep_audio: bool, progress: bool):
    """Each seed, each system: its sounds, scored. Returns (scores, seconds, audio): name ->
    per-seed metric dicts, per-seed seconds, and (keep_audio) the first seed's sounds."""
    runs = {k: [] for k in systems}
    seconds = {k: [] for k in systems}
    audio = {}
    bar = tqdm(total=len(seeds) * len(systems), desc="reproduce", disable=not progress)
    for seed in seeds:
        for name, runner in systems.items():
            bar.set_postfix_str(f"seed {seed}: {name}")
            t0 = time.perf_counter()
            sounds = runner(run, seed)
            seconds[name].append(round(time.perf_counter() - t0, 3))
            runs[name].append(_score(run, sounds))
            if keep_audio and seed == seeds[0]:
                audio[name] = sounds.waves.reshape(run.n, run.num_samples, -1)
            bar.update()
    bar.close()
    return runs, seconds, audio


def _settings(run: _Run, seeds: tuple, num_train: int, folder, t_start: float,
              split: str) -> dict:
    scheduler = run.scheduler
    return dict(
        n=run.n, seeds=list(seeds), world_seed=run.world_seed, split=split,
        num_inference_steps=run.steps,
        scheduler=scheduler if isinstance(scheduler, str) else type(scheduler).__name__,
        guidance_scale=run.guidance_scale, mapper_guidance=run.mapper_guidance,
        num_samples=run.num_samples, num_train=num_train if run.pool is not None else None,
        is_splits=1, chance_recall_at_1=1 / run.n, chance_recall_at_5=min(1.0, 5 / run.n),
        clip_space=run.clip.space.to_dict(), clap_space=run.clap.space.to_dict(),
        weights=recorded_path(folder), total_seconds=round(time.perf_counter() - t_start, 1))


@peak_warnings_off()  # it measures many sounds: the limit applies, unannounced
def reproduce(n: int = 48, seeds=(0, 1, 2), world_seed: int = REPRODUCE_SEED,
              num_inference_steps: int | None = None, scheduler: str = "dpmsolver++",
              num_samples: int = 2, progress: bool = False, *, num_train: int = 2048,
              guidance_scale: float = 2.5, mapper_guidance: float | None = None,
              mappers: dict | None = None, baselines=BASELINES, keep_audio: bool = False,
              weights=None, split: str = "all", direct: dict | None = None) -> dict:
    """Compare the systems of the module docstring on ``n`` held-out pocket images (its cost:
    there too).

    Args:
        n: held-out images (``sample_world(n, world_seed)``), ≥ 2; fixed across seeds.
        seeds: one run per seed: mapper sampling, generator noise, the real audio's redraw and
            the nearest-neighbour pool's half (see :func:`nearest_neighbours`).
        world_seed: the held-out world; seeds a pocket model trained on are refused.
        num_inference_steps, scheduler, guidance_scale: pocket-AudioLDM's (``v2a_kit.generate``);
            ``None`` steps = the scheduler's default (10 for DPM-Solver++).
        num_samples: sounds per image (≥ 2 for ``diversity``, else it is None).
        progress: a progress bar over seeds × systems.
        num_train: pairs in the nearest-neighbour pool (each seed searches a random half).
        mapper_guidance: the diffusion prior's classifier-free guidance (1 = none; ``None``:
            the mapper's own default, which ``v2a-kit pocket mappers`` calibrates; each mapper's
            row of ``details`` records the value used).
        mappers: name -> :class:`~v2a_kit.mappers.Mapper` for the mapper rows; ``None`` = the
            shipped ``regression``, ``generative`` (diffusion) and ``ridge``.
        baselines: which of ``ALL_BASELINES`` to run (``"oracle"`` costs one more generating
            system: +25 % time).
        keep_audio: also return the sounds of the first seed (for listening), under ``"audio"``.
        weights: a pocket build folder (``None`` = the shipped build).
        split: the held-out images' combinations: ``"all"``, ``"seen"`` (those the mappers and
            the nearest-neighbour pool hold) or ``"unseen"`` (the compositional test: none of
            their combinations is in any training pair).
        direct: name -> direct baseline (:func:`v2a_kit.pocket.models.direct.load_direct_folder`): a
            generator conditioned on pocket-CLIP image embeddings, run after the mappers; a
            mapper given here, or a direct baseline in ``mappers``, is refused naming both.
    Returns:
        A JSON-safe dict (``json.dumps(report, allow_nan=False)``; with ``keep_audio``, pop
        ``"audio"`` and ``"images"`` first):

        - ``systems``: name -> ``{"metrics": metric -> {"mean", "std" (over seeds, ddof 1; None
          for one seed), "per_seed"}, "seconds": per seed, to make the sounds from the
          precomputed embeddings, "details"}``, ``real audio`` first. A metric a system lacks is
          None (``diversity`` for one sample). ``details``: see the module docstring.
        - ``settings``: every argument that shaped the numbers, the spaces, the chance recall
          and ``total_seconds``.
        - ``audio`` (``keep_audio`` only): name -> (n, num_samples, samples) float32, seed
          ``seeds[0]``; ``images``: (n, 64, 64, 3) uint8.
    """
    t_start = time.perf_counter()
    # 1. Check inputs (before anything is loaded)
    folder, baselines = pocket_dir(weights), tuple(baselines)
    if split not in SPLITS:
        raise ConfigError(f"split={split!r}; expected one of {list(SPLITS)}")
    seeds = _check_inputs(n, seeds, world_seed, num_samples, num_train, mappers or {},
                          baselines, _trained_on(folder), scheduler, num_inference_steps,
                          direct)
    steps = num_inference_steps or SCHEDULERS.get(scheduler, 25)
    # 2. The models, the held-out images and their real audio; what the baselines precompute
    run = _load_run(n, world_seed, weights, steps, scheduler, guidance_scale, mapper_guidance,
                    num_samples, progress, split)
    if mappers is None:
        mappers = {name: load_mapper_folder(folder / "mappers" / kind, kind=kind, device="cpu",
                                     clip_space=run.clip.space, clap_space=run.clap.space)
                   for name, kind in MAPPER_SYSTEMS.items()}
    _prepare_baselines(run, baselines, num_train, progress)
    # 3. Each seed, each system: its sounds, scored; then mean, spread and per-seed values
    systems = _systems(run, mappers, baselines, direct)
    runs, seconds, audio = _run_systems(run, systems, seeds, keep_audio, progress)
    uncertainty = _uncertainty(run, runs, seeds)
    report = {"systems": {name: {"metrics": {m: _summary([r[m] for r in runs[name]])
                                             for m in METRICS},
                                 "seconds": seconds[name], "details": run.details.get(name, {})}
                          for name in systems},
              # what the true CLAP audio embeddings of these images' real sounds carry, as the
              # probes read it: the most a generator conditioned on them can get right
              "embedding_ceiling": read_probes(run.probes, run.true_clap, run.batch),
              "settings": _settings(run, seeds, num_train, folder, t_start, split),
              **uncertainty}
    if keep_audio:
        report["audio"], report["images"] = audio, run.batch.images
    return report


# --- intervals, paired differences, the protocol card (v2a_kit.evaluation) ---------------------
# Which systems are compared pairwise, on the same images, references and pairs: the paper's
# claims (generative vs regression) and the baselines they are read against.
PAIRED_COMPARISONS = (("generative", "regression"), ("generative", "nearest neighbour"),
                      ("regression", "nearest neighbour"), ("generative", "ridge"),
                      ("generative", "text bridge"), ("oracle", "ceiling"))


def _uncertainty(run: _Run, runs: dict, seeds: tuple) -> dict:
    """``intervals`` (system -> per seed, metric -> bootstrap interval), ``paired`` (per seed,
    ``"a − b"`` -> metric -> the paired difference and its interval, for the
    ``PAIRED_COMPARISONS`` present) and ``protocol`` (the card of the scores), taking the
    private entries ``_score`` left in each run."""
    out = {"intervals": {}, "paired": [], "protocol": None}
    for k, seed in enumerate(seeds):
        outputs = {}
        for name, per_seed in runs.items():
            entry = per_seed[k]
            outputs[name] = entry.pop("_outputs")
            out["intervals"].setdefault(name, []).append(entry.pop("_intervals"))
            out["protocol"] = out["protocol"] or entry.pop("_protocol")
            entry.pop("_protocol", None)
        out["paired"].append(paired_differences(
            run.ex, outputs, PAIRED_COMPARISONS, run.references, run.img,
            reference_pairs=run.pairs, image_pairs=run.pairs, is_splits=1, seed=seed))
    return out


# --- the table -----------------------------------------------------------------------------------
def _cell(stat: dict) -> str:
    mean, std = stat["mean"], stat["std"]
    if mean is None:
        return "—"
    # three significant digits for the mean; the std to the same decimal place
    mag = math.floor(math.log10(abs(mean))) if mean else 0
    digits = int(min(3, max(0, 2 - mag)))
    return f"{mean:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def reproduction_table(report: dict, columns=TABLE_COLUMNS) -> str:
    """A markdown table of a :func:`reproduce` report: mean ± std over seeds, real audio first.

    Args:
        columns: metric names (``METRICS``); the default leaves out the per-attribute accuracies.
    """
    unknown = [c for c in columns if c not in METRICS]
    if unknown:
        raise ConfigError(f"columns {unknown} unknown; expected some of {METRICS}")
    systems = report["systems"]
    order = [REAL] * (REAL in systems) + [s for s in systems if s != REAL]
    lines = ["| system | " + " | ".join(header(c) for c in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for name in order:
        cells = [_cell(systems[name]["metrics"].get(c, {"mean": None, "std": None}))
                 for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    s = report["settings"]
    lines.append("")
    seeds = ", ".join(str(x) for x in s["seeds"])
    spread = f"mean ± std over seeds {seeds}" if len(s["seeds"]) > 1 else f"one seed ({seeds})"
    lines.append(f"{spread}; n = {s['n']} held-out images "
                 f"(world seed {s['world_seed']}), {s['num_samples']} sounds each, "
                 f"{s['scheduler']} {s['num_inference_steps']} steps; recall chance "
                 f"{s['chance_recall_at_1']:.3f} / {s['chance_recall_at_5']:.3f}.")
    return "\n".join(lines)
