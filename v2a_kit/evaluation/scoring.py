"""Score generated audio held in memory: FD, FAD, KAD, FAD∞, KL, IS and CS from one call,
:func:`score`, each with its bootstrap interval and the protocol card it was measured under;
and :func:`compare_systems`, the paired comparison of two systems on the same inputs.

The one place where the paper's columns are assembled from extractor outputs (the folder
evaluator and the pocket reproduction both end here):

======  ==============================================  =========================================
column  what                                            rows
======  ==============================================  =========================================
FD      Fréchet distance of the ``fd`` features         every generated vs every reference clip
FAD     Fréchet distance of the ``fad`` rows            (as FD; VGGish: one row per 0.96 s)
KAD     kernel audio distance of the ``fd`` features    (as FD)
FAD∞    FAD extrapolated to n → ∞ (fadtk)               (as FAD)
KL      KL(reference ‖ generated), ``fd`` logits        pairs: generated i ↔ its reference
IS      inception score, ``fd`` logits                  every generated clip (no references)
CS      100 × cos(``cs`` audio, image) embeddings       pairs: generated i ↔ its image
======  ==============================================  =========================================

Beside the paper's columns, on request: **attribute accuracy** (``labels``: the ``fd``
classifier's pick in each logit group against the value each clip should carry), **diversity**
(``num_samples``: the mean pairwise ``fd``-feature distance between one input's samples) and
**loudness** (``Scores.rms``, always, from waveforms). The pocket benchmarks — the sampler
comparison, the mappers' trade-off, the generator ablation, the reproduction — read these
rather than computing them again.

**Pairing.** By default ``references`` and ``images`` are aligned with ``generated``: row i of
each belongs to generated clip i, so they must have as many rows. When they are not (several
samples per image, a reference without a generated clip, strays), ``reference_pairs`` /
``image_pairs`` list the pairs explicitly as ``(generated_row, reference_row)`` /
``(generated_row, image_row)``: KL and CS are averaged over those pairs, while FD and FAD still
compare all generated clips with all references, and IS reads all generated clips.

**Intervals.** Every metric comes with a percentile bootstrap interval
(:func:`~v2a_kit.evaluation.uncertainty.bootstrap`): FD, FAD and KAD redraw the generated and
the reference clips (each side on its own; VGGish's rows by clip), KL and CS their pairs, IS the
generated clips; FAD∞'s interval is its line's standard error. ``Scores.intervals`` holds them.

**Protocol.** ``Scores.protocol`` is the card of :mod:`~v2a_kit.evaluation.protocol`. Audio at
another rate than the extractors' is refused unless a ``resampler`` is named (which the card
records); ``clip`` (a :class:`~v2a_kit.evaluation.protocol.ClipRule`) cuts each clip the same
way before the extractors read it. Generated clips that are silent or near-silent raise a
:class:`~v2a_kit.errors.SilentAudioWarning` that counts them.

Inputs are waveforms (anything :func:`~v2a_kit.evaluation.extractors.prepare_waves` takes) or,
to score large sets in batches or reuse outputs, :class:`AudioOutputs` from :func:`extract`;
images are images (anything the ``cs`` extractor's ``embed_images`` takes) or their
:class:`~v2a_kit.spaces.Embeddings` in the ``cs`` image space.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..errors import ConfigError, EmbeddingError, MediaError, SilentAudioWarning
from ..settings import updated
from ..spaces import Embeddings, check_same_space
from .extractors import Extractors
from .metrics import (
    FAD_INF_STEPS,
    KAD_SCALE,
    KL_EPS,
    check_kad_bandwidth,
    fad,
    fad_inf_sizes,
    fad_infinity,
    frechet_distance,
    frechet_distance_resampled,
    inception_score,
    inception_score_resampled,
    kad_bandwidth,
    kernel_audio_distance,
    kl_divergence,
    label_accuracy,
    pairwise_diversity,
)
from .protocol import SILENCE_RMS, ClipRule, count_silent, protocol_card
from .uncertainty import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Interval, bootstrap, paired

__all__ = ["AudioOutputs", "Scores", "ScoreSettings", "Comparison", "extract", "score",
           "compare_systems", "paired_differences", "attribute_accuracy",
           "default_is_splits", "IS_SPLITS", "IS_MIN_CHUNK", "METRIC_KEYS"]

IS_SPLITS = 10     # AudioLDM's and SpecVQGAN's number of IS chunks
IS_MIN_CHUNK = 10  # fewer splits on small sets: a chunk of one clip scores 1 by construction
IS_SEED = 2020     # the convention's shuffle seed (SpecVQGAN's, AudioLDM's)
# the scores, in the order reports show them; "is" is Scores.is_mean
METRIC_KEYS = ("fd", "fad", "kad", "fad_inf", "kl", "is", "cs")


@dataclass
class AudioOutputs:
    """What the extractors make of a set of clips.

    Attributes:
        features: (n, d) ``fd`` features, row i = clip i (FD, and diversity).
        logits: (n, C) ``fd`` logits, row i = clip i (KL, IS); ``None`` without a classifier.
        fad: (m, d') the ``fad`` extractor's Fréchet rows (one per clip, or VGGish's one per
            0.96 s example); ``None``: not extracted.
        cs: (n, d'') ``cs`` audio embeddings in the image space, row i = clip i; ``None``: not
            extracted.
        fad_owner: (m,) the clip each ``fad`` row belongs to (the bootstrap redraws clips, not
            VGGish's examples); ``None``: unknown (then one row per clip is assumed when the
            counts agree).
        info: what :func:`extract` saw of the audio, for the protocol card: ``source_rates``,
            ``resampler``, ``clip_rule``, ``seconds_fed`` ([shortest, longest]), ``silent``.
        rms: (n,) each clip's RMS as the extractors read it (loudness); ``None``: unknown.
    """

    features: np.ndarray
    logits: np.ndarray | None = None
    fad: np.ndarray | None = None
    cs: np.ndarray | None = None
    fad_owner: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    rms: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.features)

    @classmethod
    def concat(cls, parts: list[AudioOutputs]) -> AudioOutputs:
        """The outputs of consecutive batches as one."""
        if not parts:
            raise MediaError("no audio outputs to concatenate")

        def cat(key):
            arrays = [getattr(p, key) for p in parts]
            return None if any(a is None for a in arrays) else np.concatenate(arrays)
        owners, offset = [], 0
        for p in parts:
            owners.append(None if p.fad_owner is None else p.fad_owner + offset)
            offset += len(p)
        owner = None if any(o is None for o in owners) else np.concatenate(owners)
        return cls(*(cat(k) for k in ("features", "logits", "fad", "cs")), fad_owner=owner,
                   info=_merge_info([p.info for p in parts]), rms=cat("rms"))

    def take(self, rows) -> AudioOutputs:
        """The outputs of some clips (``rows``: their indices, in the order wanted), e.g. the
        first sound of each image when there are several."""
        idx = np.asarray(rows, dtype=np.int64)
        if idx.ndim != 1 or len(idx) == 0 or idx.min() < 0 or idx.max() >= len(self):
            raise ConfigError(f"rows must be a non-empty list of clip indices in "
                              f"0..{len(self) - 1}")

        def pick(a):
            return None if a is None else np.asarray(a)[idx]
        fad, owner = self.fad, self.fad_owner
        if fad is not None:
            if owner is None and len(fad) == len(self):
                fad = fad[idx]
            elif owner is not None:  # each clip's rows (VGGish: several), renumbered
                keep = [np.flatnonzero(owner == i) for i in idx]
                fad = np.concatenate([fad[k] for k in keep])
                owner = np.concatenate([np.full(len(k), j) for j, k in enumerate(keep)])
            else:
                raise ConfigError("these outputs' FAD rows belong to no known clip; extract "
                                  "the clips wanted instead")
        return AudioOutputs(pick(self.features), pick(self.logits), fad, pick(self.cs),
                            owner, dict(self.info), pick(self.rms))


def _merge_info(infos: list[dict]) -> dict:
    """The info of consecutive batches as one (rates united, lengths spanned, silent summed)."""
    infos = [i for i in infos if i]
    if not infos:
        return {}
    fed = [i["seconds_fed"] for i in infos]
    return {"source_rates": sorted({r for i in infos for r in i["source_rates"]}),
            "resampler": infos[0]["resampler"], "clip_rule": infos[0]["clip_rule"],
            "seconds_fed": [min(f[0] for f in fed), max(f[1] for f in fed)],
            "silent": sum(i["silent"] for i in infos)}


@dataclass
class Scores:
    """What :func:`score` measured; a score is ``None`` when its inputs were not given.

    Attributes:
        fd, fad: Fréchet distances (lower is better), generated vs reference distribution.
        kad: kernel audio distance of the ``fd`` features (lower is better; unbiased in n).
        fad_inf: FAD∞, FAD extrapolated to infinitely many clips (lower is better).
        kl: mean KL(reference ‖ generated) over the reference pairs, nats (lower is better).
        is_mean, is_std: inception score over ``counts["is_splits"]`` chunks (higher is better).
        cs: 100 × mean cosine over the image pairs (higher is better).
        attributes: with ``labels``: attribute -> the share of generated clips whose ``fd``
            classifier's pick in that attribute's logit group is the label, and ``all``: the
            share with every given attribute right at once (higher is better).
        diversity: with ``num_samples``: mean pairwise distance of ``fd`` features between the
            samples of one input (:func:`~v2a_kit.evaluation.metrics.pairwise_diversity`).
        rms: the mean over generated clips of each clip's RMS (loudness; waveforms only).
        counts: ``generated``, ``references`` (clips), ``kl_pairs``, ``cs_pairs``,
            ``is_splits``, ``fad_rows`` (generated, reference).
        intervals: metric key (:data:`METRIC_KEYS`) -> its interval as a dict
            (:class:`~v2a_kit.evaluation.uncertainty.Interval`); a metric not computed has none.
        protocol: the protocol card (:mod:`v2a_kit.evaluation.protocol`).
        notes: caveats worth reading next to the numbers.
    """

    fd: float | None
    fad: float | None
    kl: float | None
    is_mean: float | None
    is_std: float | None
    cs: float | None
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)
    kad: float | None = None
    fad_inf: float | None = None
    intervals: dict[str, dict] = field(default_factory=dict)
    protocol: dict = field(default_factory=dict)
    attributes: dict[str, float] | None = None
    diversity: float | None = None
    rms: float | None = None

    def value(self, key: str) -> float | None:
        """A metric by its key in :data:`METRIC_KEYS` (``"is"``: the mean)."""
        return self.is_mean if key == "is" else getattr(self, key)

    def interval(self, key: str) -> Interval | None:
        """The metric's :class:`~v2a_kit.evaluation.uncertainty.Interval`, or None."""
        d = self.intervals.get(key)
        return None if d is None else Interval(**{k: (float("nan") if v is None else v)
                                                  for k, v in d.items()})

    def to_dict(self) -> dict:
        """JSON-ready: every field."""
        return asdict(self)

    def summary(self) -> str:
        """One line per metric computed, with its interval, then the protocol card."""
        from .protocol import format_card
        lines = [f"{key.upper().replace('_INF', '∞'):4s} {self.interval(key)}"
                 for key in METRIC_KEYS if self.value(key) is not None and key in self.intervals]
        if self.attributes is not None:
            lines.append("attributes right: " + ", ".join(f"{k} {v:.3f}"
                                                          for k, v in self.attributes.items()))
        lines += [f"{k} {v:.4g}" for k, v in (("diversity", self.diversity), ("RMS", self.rms))
                  if v is not None]
        return "\n".join(lines + [format_card(self.protocol)] + [f"note: {n}" for n in self.notes])


def default_is_splits(n: int) -> int:
    """The convention's 10 IS chunks, fewer when that leaves under ``IS_MIN_CHUNK`` clips each."""
    return min(IS_SPLITS, max(1, n // IS_MIN_CHUNK))


# ----------------------------------------------------------------------------- extracting

def _check_extractors(extractors) -> Extractors:
    if not isinstance(extractors, Extractors):
        raise ConfigError(f"extractors is a {type(extractors).__name__}; expected "
                          "v2a_kit.evaluation.Extractors (v2a_kit.registry.load_extractors)")
    return extractors


def _prepared(extractors: Extractors, waves, roles, sampling_rate, what: str, resampler=None,
              clip: ClipRule | None = None, rates: set | None = None) -> list:
    """The clips as every extractor of ``roles`` will read them, or a MediaError naming the
    input (``what``) and the clip. ``rates`` collects the clips' source rates."""
    if isinstance(waves, (np.ndarray, torch.Tensor)) and waves.ndim not in (1, 2):
        raise MediaError(f"{what} has shape {tuple(waves.shape)}; expected waveforms "
                         "(n, samples), a list of clips, or AudioOutputs (extract)")
    if isinstance(waves, (list, tuple, np.ndarray, torch.Tensor)) and len(waves) == 0:
        raise MediaError(f"{what} is empty; expected at least one clip")
    if clip is not None and not isinstance(clip, ClipRule):
        raise ConfigError(f"clip is a {type(clip).__name__}; expected a ClipRule or None")
    clips = roles[0].prepare(waves, sampling_rate, label=what, resampler=resampler,
                             rates=rates, clip_rule=clip)
    for role in roles[1:]:  # at the extractors' rate now: checks only
        clips = role.prepare(clips, label=what)
    return clips


def _audio_info(clips: list, rates: set, sampling_rate: int, resampler, clip) -> dict:
    return {"source_rates": sorted(float(r) if not float(r).is_integer() else int(r)
                                   for r in rates),
            "resampler": resampler if any(r != sampling_rate for r in rates) else None,
            "clip_rule": None if clip is None else clip.to_dict(),
            "seconds_fed": [round(min(map(len, clips)) / sampling_rate, 6),
                            round(max(map(len, clips)) / sampling_rate, 6)],
            "silent": count_silent(clips)}


def extract(extractors: Extractors, waves, *, sampling_rate: float | None = None,
            fad_rows: bool = True, cs: bool = True, what: str = "audio",
            resampler: str | None = None, clip: ClipRule | None = None) -> AudioOutputs:
    """Run the extractors over clips: ``fd`` features and logits, and optionally the ``fad``
    rows and ``cs`` audio embeddings.

    Args:
        waves: a (n, samples) array or tensor, a list of clips (any lengths, unless the
            extractors read one ``clip_samples``), paths or ``(array, sr)`` tuples.
        sampling_rate: the rate of bare arrays; ``None`` = the extractors' own.
        fad_rows, cs: also extract those (needed for FAD with references, for CS with images).
        what: how messages name the clips (``"generated"`` → ``generated #3``).
        resampler: how clips at another rate are brought to the extractors' (a key of
            :data:`v2a_kit.media.RESAMPLERS`); ``None``: such a clip is refused, named.
        clip: a :class:`~v2a_kit.evaluation.protocol.ClipRule` cutting every clip alike.
    Raises:
        MediaError: naming the clip: NaN/inf, not mono, too short, not ``clip_samples`` long,
            at another rate without a resampler.
    """
    ex = _check_extractors(extractors)
    roles = [ex.fd] + [ex.fad] * fad_rows + [ex.cs] * cs
    rates: set = set()
    clips = _prepared(ex, waves, roles, sampling_rate, what, resampler, clip, rates)
    if ex.fd.num_classes:
        features, logits = ex.fd.features_and_logits(clips)
    else:
        features, logits = ex.fd.features(clips), None
    fad, owner = ex.fad.fd_rows(clips) if fad_rows else (None, None)
    rms = np.array([np.sqrt(np.mean(np.asarray(c, np.float64) ** 2)) for c in clips])
    return AudioOutputs(features, logits, fad=fad,
                        cs=ex.cs.embed_audio(clips) if cs else None, fad_owner=owner,
                        info=_audio_info(clips, rates, ex.sampling_rate, resampler, clip),
                        rms=rms)


def _rows(a, dim: int, what: str) -> None:
    if a.ndim != 2 or (dim and a.shape[1] != dim):
        raise EmbeddingError(f"{what} has shape {a.shape}; expected (rows, {dim})")
    if not np.isfinite(a).all():
        raise EmbeddingError(f"{what} holds NaN or inf")


def _check_outputs(ex: Extractors, out: AudioOutputs, what: str, fad_rows: bool,
                   cs: bool) -> AudioOutputs:
    """Precomputed outputs: present where needed, of the extractors' shapes, finite."""
    needs = [("logits", ex.fd.num_classes > 0, ex.fd.num_classes),
             ("fad", fad_rows, ex.fad.feature_dim), ("cs", cs, ex.cs.space.dim)]
    _rows(np.asarray(out.features), ex.fd.feature_dim, f"{what}.features")
    for key, needed, dim in needs:
        a = getattr(out, key)
        if a is None:
            if needed:
                raise EmbeddingError(f"{what} has no {key} outputs; extract them "
                                     f"(extract(..., fad_rows=True, cs=True))")
            continue
        _rows(np.asarray(a), dim, f"{what}.{key}")
        if key != "fad" and len(a) != len(out):
            raise EmbeddingError(f"{what}.{key} has {len(a)} rows but {what}.features "
                                 f"{len(out)}; one row per clip in both")
    return out


def _outputs(ex: Extractors, x, what: str, sampling_rate, fad_rows: bool, cs: bool,
             resampler=None, clip=None) -> AudioOutputs:
    if isinstance(x, AudioOutputs):
        return _check_outputs(ex, x, what, fad_rows, cs)
    return extract(ex, x, sampling_rate=sampling_rate, fad_rows=fad_rows, cs=cs, what=what,
                   resampler=resampler, clip=clip)


def _image_embeds(ex: Extractors, images) -> np.ndarray:
    if isinstance(images, Embeddings):
        check_same_space(ex.cs.space, images.space, "images")
        return images.numpy()
    if isinstance(images, (list, tuple, np.ndarray)) and len(images) == 0:
        raise MediaError("images is empty; expected at least one image")
    return ex.cs.embed_images(images, progress=False)


# ----------------------------------------------------------------------------- pairing

def _pairs(spec, n_gen: int, n_other: int, other: str, argument: str) -> np.ndarray:
    """(k, 2) int64 (generated row, ``other`` row) pairs; ``None``: row i ↔ row i."""
    if spec is None:
        if n_gen != n_other:
            raise MediaError(f"generated has {n_gen} clips but {other} has {n_other} rows; "
                             f"without {argument}, row i of {other} belongs to generated clip i. "
                             f"Give as many, or {argument}=[(generated_row, {other}_row), ...]")
        return np.stack([np.arange(n_gen)] * 2, 1)
    try:
        pairs = np.asarray(spec)
        ok = pairs.dtype.kind in "iu" and pairs.ndim == 2 and pairs.shape[1] == 2
    except ValueError:  # ragged
        ok = False
    if not ok or len(pairs) == 0:
        raise ConfigError(f"{argument} must be a non-empty list of (generated_row, {other}_row) "
                          "int pairs")
    for col, (side, n) in enumerate((("generated", n_gen), (other, n_other))):
        bad = (pairs[:, col] < 0) | (pairs[:, col] >= n)
        if bad.any():
            raise ConfigError(f"{argument} pairs {pairs[bad][:3].tolist()} point outside {side} "
                              f"(rows 0 to {n - 1})")
    return pairs.astype(np.int64)


# ----------------------------------------------------------------------------- scoring

def _check_two_sides(n_gen: int, n_ref: int) -> None:
    for side, count in (("generated", n_gen), ("references", n_ref)):
        if count < 2:
            raise MediaError(f"{side} has {count} clip(s); FD and FAD fit a Gaussian to each "
                             "side and need at least 2 clips")


def _is_splits(n: int, splits, notes: list[str]) -> int:
    if splits is None:
        splits = default_is_splits(n)
        if splits < IS_SPLITS:
            notes.append(f"IS over {splits} chunk(s) of {n // splits}+ clips, not the "
                         f"convention's {IS_SPLITS} (that needs ≥ {IS_SPLITS * IS_MIN_CHUNK} "
                         "clips); compare IS at equal n only")
    elif isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= n:
        raise ConfigError(f"is_splits={splits!r}; expected None or an int from 1 to the number "
                          f"of generated clips ({n})")
    return splits


@dataclass(frozen=True)
class ScoreSettings:
    """How a score is measured: the protocol choices a caller makes, which the card records.
    Checked when made; a value out of range is refused naming it (``ConfigError``).

    Attributes:
        resampler: how audio at another rate reaches the extractors' rate (a key of
            :data:`v2a_kit.media.RESAMPLERS`); ``None``: such audio is refused, named.
        clip: a :class:`~v2a_kit.evaluation.protocol.ClipRule` (crop, pad) applied to every
            clip before the extractors; ``None``: clips as given.
        resamples, level, seed: the bootstrap's redraws (≥ 10), coverage (in (0, 1)) and
            stream; ``seed`` also draws FAD∞'s subsets.
        kad_bandwidth: KAD's σ rule, ``"reference"`` or ``"generated"``, or a positive number
            (:func:`~v2a_kit.evaluation.metrics.kad_bandwidth`).
        fad_inf: also compute FAD∞ (``None``, noted, when there are too few FAD rows for a
            line).
        is_splits: IS chunks; ``None``: the convention's 10, fewer for under 100 clips (noted).
    """

    resampler: str | None = None
    clip: ClipRule | None = None
    resamples: int = DEFAULT_RESAMPLES
    level: float = DEFAULT_LEVEL
    seed: int = 0
    kad_bandwidth: str | float = "reference"
    fad_inf: bool = True
    is_splits: int | None = None

    def __post_init__(self):
        from ..media import RESAMPLERS
        r, lv, seed = self.resamples, self.level, self.seed
        if isinstance(r, bool) or not isinstance(r, int) or r < 10:
            raise ConfigError(f"resamples={r!r}; expected an int ≥ 10 (bootstrap redraws)")
        if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not 0 < lv < 1:
            raise ConfigError(f"level={lv!r}; expected a number between 0 and 1")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed={seed!r}; expected an int ≥ 0")
        if not isinstance(self.fad_inf, bool):
            raise ConfigError(f"fad_inf={self.fad_inf!r}; expected True or False")
        if self.resampler is not None and self.resampler not in RESAMPLERS:
            raise ConfigError(f"resampler={self.resampler!r}; expected None or one of "
                              f"{', '.join(RESAMPLERS)}")
        if self.clip is not None and not isinstance(self.clip, ClipRule):
            raise ConfigError(f"clip is a {type(self.clip).__name__}; expected a ClipRule or "
                              "None")
        try:
            check_kad_bandwidth(self.kad_bandwidth)
        except ValueError as e:
            raise ConfigError(f"kad_{e}") from None
        sp = self.is_splits
        if sp is not None and (isinstance(sp, bool) or not isinstance(sp, int) or sp < 1):
            raise ConfigError(f"is_splits={sp!r}; expected None or an int from 1 to the number "
                              "of generated clips")

    @classmethod
    def make(cls, settings: ScoreSettings | None = None, **overrides) -> ScoreSettings:
        """``settings`` (default: the defaults) with ``overrides`` replaced by name (a name
        that is not a setting is refused, listing them)."""
        return updated(cls, settings, overrides, "scoring")


@dataclass
class _Inputs:
    """Everything :func:`score` and :func:`compare_systems` compute from: outputs and pairs."""

    gen: AudioOutputs
    ref: AudioOutputs | None
    kl_pairs: np.ndarray | None
    image_embed: np.ndarray | None
    cs_pairs: np.ndarray | None


def _inputs(ex, generated, references, images, reference_pairs, image_pairs, sampling_rate,
            resampler, clip) -> _Inputs:
    gen = _outputs(ex, generated, "generated", sampling_rate, fad_rows=references is not None,
                   cs=images is not None, resampler=resampler, clip=clip)
    ref = kl_pairs = image_embed = cs_pairs = None
    if references is not None:
        ref = _outputs(ex, references, "references", sampling_rate, fad_rows=True, cs=False,
                       resampler=resampler, clip=clip)
        kl_pairs = _pairs(reference_pairs, len(gen), len(ref), "references", "reference_pairs")
        _check_two_sides(len(gen), len(ref))
    if images is not None:
        image_embed = _image_embeds(ex, images)
        cs_pairs = _pairs(image_pairs, len(gen), len(image_embed), "images", "image_pairs")
    for what, pairs in (("reference_pairs", kl_pairs), ("image_pairs", cs_pairs)):
        if pairs is not None and len(pairs) < 2:
            raise MediaError(f"{what} holds {len(pairs)} pair; KL and CS average over pairs "
                             "and their intervals need at least 2")
    return _Inputs(gen, ref, kl_pairs, image_embed, cs_pairs)


def _fad_units(out: AudioOutputs) -> tuple[list[np.ndarray], str]:
    """The FAD rows of each bootstrap unit: each clip's (VGGish: several), else each row."""
    if out.fad_owner is not None:
        order = np.argsort(out.fad_owner, kind="stable")
        bounds = np.searchsorted(out.fad_owner[order], np.arange(len(out) + 1))
        return [order[bounds[i]:bounds[i + 1]] for i in range(len(out))], "clips"
    if len(out.fad) == len(out):
        return [np.array([i]) for i in range(len(out))], "clips"
    return [np.array([i]) for i in range(len(out.fad))], "rows"


def _rows_of(units: list[np.ndarray], idx) -> np.ndarray:
    return np.concatenate([units[i] for i in idx])


class _Metrics:
    """One system's metrics as functions of bootstrap index arrays (``None``: as given), so
    :func:`score` (one system) and :func:`compare_systems` (two, on common redraws) share them.
    """

    def __init__(self, ex: Extractors, x: _Inputs, splits: int, sigma: float | None):
        self.ex, self.x, self.splits, self.sigma = ex, x, splits, sigma
        g, r = x.gen, x.ref
        if r is not None:
            self.gen_units, self.gen_unit_kind = _fad_units(g)
            self.ref_units, self.ref_unit_kind = _fad_units(r)
        if x.cs_pairs is not None:
            a = torch.nn.functional.normalize(torch.as_tensor(g.cs[x.cs_pairs[:, 0]]).double(),
                                              dim=-1)
            b = torch.nn.functional.normalize(
                torch.as_tensor(x.image_embed[x.cs_pairs[:, 1]]).double(), dim=-1)
            self.cos = (100 * (a * b).sum(-1)).numpy()

    def fd(self, draws=None):
        g, r = self.x.gen.features, self.x.ref.features
        if draws is None:
            return frechet_distance(g, r)
        return frechet_distance_resampled(g, r, np.stack([d[0] for d in draws]),
                                          np.stack([d[1] for d in draws]))

    def fad(self, draws=None):
        g, r = self.x.gen.fad, self.x.ref.fad
        if draws is None:
            return fad(g, r)
        rows = [(_rows_of(self.gen_units, ig), _rows_of(self.ref_units, ir)) for ig, ir in draws]
        if len({len(a) for a, _ in rows}) == 1 and len({len(b) for _, b in rows}) == 1:
            return frechet_distance_resampled(g, r, np.stack([a for a, _ in rows]),
                                              np.stack([b for _, b in rows]))
        return np.array([fad(g[a], r[b]) for a, b in rows])

    def kad(self, draws=None):
        g, r = self.x.gen.features, self.x.ref.features
        if draws is None:
            return kernel_audio_distance(g, r, bandwidth=self.sigma)
        wg = np.stack([np.bincount(ig, minlength=len(g)) for ig, _ in draws])
        wr = np.stack([np.bincount(ir, minlength=len(r)) for _, ir in draws])
        return kernel_audio_distance(g, r, bandwidth=self.sigma, weights=(wg, wr))

    def kl(self, ip=None) -> float:
        pairs = self.x.kl_pairs if ip is None else self.x.kl_pairs[ip]
        return kl_divergence(self.x.gen.logits[pairs[:, 0]], self.x.ref.logits[pairs[:, 1]],
                             groups=self.ex.fd.logit_groups)

    def inception(self, draws=None):
        if draws is None:
            return inception_score(self.x.gen.logits, splits=self.splits, seed=IS_SEED,
                                   groups=self.ex.fd.logit_groups).mean
        return inception_score_resampled(self.x.gen.logits, np.stack([d[0] for d in draws]),
                                         splits=self.splits, seed=IS_SEED,
                                         groups=self.ex.fd.logit_groups)

    def cs(self, ip=None) -> float:
        return float(self.cos.mean() if ip is None else self.cos[ip].mean())

    def plan(self) -> dict:
        """metric -> (statistic, group sizes, units, batched): what the bootstrap redraws."""
        x, out = self.x, {}
        if x.ref is not None:
            two = (len(x.gen), len(x.ref))
            out["fd"] = (self.fd, two, "generated and reference clips", True)
            out["fad"] = (self.fad, (len(self.gen_units), len(self.ref_units)),
                          f"generated and reference {self.gen_unit_kind} (FAD rows by "
                          f"{self.gen_unit_kind})", True)
            out["kad"] = (self.kad, two, "generated and reference clips", True)
            if x.gen.logits is not None:
                out["kl"] = (self.kl, (len(x.kl_pairs),), "reference pairs", False)
        if x.gen.logits is not None:
            out["is"] = (self.inception, (len(x.gen),), "generated clips", True)
        if x.cs_pairs is not None:
            out["cs"] = (self.cs, (len(x.cs_pairs),), "image pairs", False)
        return out


def _silence(gen: AudioOutputs, notes: list[str]) -> None:
    silent = gen.info.get("silent", 0) if gen.info else 0
    if silent:
        msg = (f"{silent} of {len(gen)} generated clips are silent or near-silent (RMS below "
               f"{20 * np.log10(SILENCE_RMS):.0f} dBFS): silence can score deceptively well on "
               "some metrics")
        notes.append(msg)
        warnings.warn(msg, SilentAudioWarning, stacklevel=3)


def _side_info(out: AudioOutputs, given: dict | None, sampling_rate: int) -> dict:
    info = dict(out.info or {})
    info.update(given or {})
    return {"source_rates": info.get("source_rates", []),
            "seconds_fed": info.get("seconds_fed"), "silent_clips": info.get("silent")}


def score(extractors: Extractors, generated, references=None, images=None,
          settings: ScoreSettings | None = None, *, reference_pairs=None, image_pairs=None,
          sampling_rate: float | None = None, seeds: dict | None = None,
          audio_info: dict | None = None, pairing: str | None = None,
          labels: dict | None = None, num_samples: int | None = None, **overrides) -> Scores:
    """FD, FAD, KAD, FAD∞, KL, IS and CS of generated audio, each where its inputs are given,
    each with its bootstrap interval, under a protocol card.

    Args:
        extractors: from ``v2a_kit.registry.load_extractors(preset)`` (or a builder).
        generated: the generated clips: waveforms (a (n, samples) array or tensor, a list of
            clips, ``(array, sr)`` tuples, paths) or :class:`AudioOutputs` from :func:`extract`.
        references: the real clips, in the same forms. Enables FD, FAD, KAD and FAD∞ (all
            generated vs all references) and KL (per pair).
        images: the input images (paths, PIL images, (n, H, W, 3) uint8) or their
            :class:`~v2a_kit.spaces.Embeddings` in ``extractors.cs.space``. Enables CS.
        reference_pairs, image_pairs: ``None``: aligned (row i ↔ generated clip i, so as many
            rows as generated clips); else ``(generated_row, reference_row)`` /
            ``(generated_row, image_row)`` pairs.
        sampling_rate: the rate of bare arrays; ``None`` = the extractors' (``extractors.
            sampling_rate``).
        settings: a :class:`ScoreSettings`: the protocol's choices (resampler, clip rule,
            bootstrap, KAD's bandwidth, FAD∞, IS splits); ``None``: the defaults.
        seeds: the caller's seeds (generation, mapper, ...) to record on the card.
        audio_info: what the caller knows of precomputed outputs' audio, per side
            (``{"generated": {"source_rates": [...]}, ...}``; the folder evaluator's headers).
        pairing: how the pairs were made, for the card (default: aligned or explicit).
        labels: attribute -> the value index each generated clip should carry, one per clip
            (attributes named as the ``fd`` extractor's ``logit_groups``). Enables
            ``attributes``: the classifier's pick per group against the label.
        num_samples: the generated clips are groups of ``num_samples`` consecutive samples of
            one input. Enables ``diversity``; every other metric still reads every clip.
        overrides: settings by name, replacing those of ``settings`` (e.g. ``resamples=200,
            seed=1``; the fields of :class:`ScoreSettings`).
    Returns:
        :class:`Scores`; a metric whose inputs were not given is ``None`` (IS: when the ``fd``
        extractor has no classifier), and has no interval.
    Raises:
        MediaError: a bad clip (named: ``generated #3``), an empty input, fewer than 2 clips on
            a side of FD (or 2 pairs for KL / CS), aligned inputs of different lengths, audio at
            another rate without a resampler.
        EmbeddingError: precomputed outputs or embeddings of the wrong shape or with NaN/inf
            (``SpaceMismatchError``: image embeddings from another space).
        ConfigError: bad ``extractors``, pairs, settings (named), ``labels``
            (an attribute the classifier has no group for, a value out of its range, not one
            per clip) or ``num_samples``.
    """
    ex = _check_extractors(extractors)
    s = ScoreSettings.make(settings, **overrides)
    resampler, clip, resamples, level, seed = s.resampler, s.clip, s.resamples, s.level, s.seed
    x = _inputs(ex, generated, references, images, reference_pairs, image_pairs,
                sampling_rate, resampler, clip)
    notes: list[str] = []
    if "random-init" in str(ex.fd.space.checkpoint):
        notes.append("random-init extractors: the numbers exercise the code and measure nothing")
    _silence(x.gen, notes)
    out = Scores(fd=None, fad=None, kl=None, is_mean=None, is_std=None, cs=None, notes=notes,
                 counts={"generated": len(x.gen), "references": 0, "kl_pairs": 0, "cs_pairs": 0,
                         "is_splits": 0})
    splits = _is_splits(len(x.gen), s.is_splits, notes) if x.gen.logits is not None else 0
    sigma = (kad_bandwidth_value(x, s.kad_bandwidth) if x.ref is not None else None)
    m = _Metrics(ex, x, splits, sigma)
    metric_settings = {"bootstrap": {"resamples": resamples, "level": level, "seed": seed,
                                     "method": "percentile"}}
    _heard(out, ex, x.gen, labels, num_samples, metric_settings)
    for key, (stat, sizes, units, batched) in m.plan().items():
        iv = bootstrap(stat, sizes, resamples=resamples, level=level, seed=seed, units=units,
                       batched=batched)
        out.intervals[key] = iv.to_dict()
        if key == "is":
            inception = inception_score(x.gen.logits, splits=splits, seed=IS_SEED,
                                        groups=ex.fd.logit_groups)
            out.is_mean, out.is_std = inception.mean, inception.std
            out.counts["is_splits"] = splits
            metric_settings["is"] = {"splits": splits, "seed": IS_SEED, "shuffle": True,
                                     "groups": _groups_card(ex)}
        else:
            setattr(out, key, iv.estimate)
    if x.ref is not None:
        _fidelity_extras(out, ex, x, sigma, s.kad_bandwidth, s.fad_inf, seed, level, notes,
                         metric_settings)
    if x.cs_pairs is not None:
        out.counts["cs_pairs"] = len(x.cs_pairs)
    out.protocol = _card(ex, x, out.counts, metric_settings, resampler, clip, seeds, audio_info,
                         pairing, reference_pairs, image_pairs)
    return out


def attribute_accuracy(ex: Extractors, outputs: AudioOutputs, labels: dict) -> dict[str, float]:
    """attribute -> share of clips whose ``fd`` classifier's pick within the attribute's logit
    group is its label, and ``all``: every given attribute right at once. ``labels``:
    attribute -> (n,) value indices, one per clip of ``outputs``."""
    groups = ex.fd.logit_groups or {}
    if not isinstance(labels, dict) or not labels:
        raise ConfigError("labels must be a non-empty dict attribute -> value index per clip")
    if outputs.logits is None:
        raise ConfigError(f"labels given but the fd extractor {ex.fd.name!r} has no classifier")
    picks = {}
    for attr, values in labels.items():
        if attr not in groups:
            raise ConfigError(f"labels[{attr!r}]: the fd extractor {ex.fd.name!r} has no logit "
                              f"group {attr!r}; it has {sorted(groups) or 'none'}")
        y = np.asarray(values)
        size = groups[attr].stop - groups[attr].start
        if y.shape != (len(outputs),) or y.dtype.kind not in "iu":
            raise ConfigError(f"labels[{attr!r}] has shape {y.shape} ({y.dtype}); expected "
                              f"({len(outputs)},) int value indices, one per generated clip")
        if y.min() < 0 or y.max() >= size:
            raise ConfigError(f"labels[{attr!r}] holds values outside 0..{size - 1}")
        picks[attr] = outputs.logits[:, groups[attr]].argmax(1)
    return label_accuracy(picks, labels)


def _heard(out: Scores, ex: Extractors, gen: AudioOutputs, labels, num_samples,
           settings: dict) -> None:
    """The scores read from the generated clips alone: loudness, attributes, diversity."""
    if gen.rms is not None:
        out.rms = float(np.mean(gen.rms))
    if labels is not None:
        out.attributes = attribute_accuracy(ex, gen, labels)
        settings["attributes"] = {"attributes": list(labels), "pick": "argmax per logit group"}
    if num_samples is not None:
        if not (isinstance(num_samples, int) and not isinstance(num_samples, bool)
                and num_samples >= 2 and len(gen) % num_samples == 0):
            raise ConfigError(f"num_samples={num_samples!r}; expected an int ≥ 2 dividing the "
                              f"{len(gen)} generated clips into groups of one input each")
        out.diversity = pairwise_diversity(gen.features, num_samples)
        settings["diversity"] = {"num_samples": num_samples, "features": "fd",
                                 "distance": "euclidean"}


def kad_bandwidth_value(x: _Inputs, rule) -> float:
    try:
        return kad_bandwidth(x.gen.features, x.ref.features, rule)
    except ValueError as e:
        raise ConfigError(f"kad_{e}") from None


def _groups_card(ex: Extractors):
    groups = ex.fd.logit_groups
    return None if groups is None else {k: [v.start, v.stop] for k, v in groups.items()}


def _fidelity_extras(out: Scores, ex, x: _Inputs, sigma, rule, want_fad_inf: bool, seed: int,
                     level: float, notes: list[str], settings: dict) -> None:
    """The counts, KL's settings, KAD's kernel, FAD∞ and the caveat on small sets."""
    out.counts["references"] = len(x.ref)
    out.counts["fad_rows"] = [len(x.gen.fad), len(x.ref.fad)]
    if x.gen.logits is not None:
        out.counts["kl_pairs"] = len(x.kl_pairs)
        settings["kl"] = {"kind": "softmax", "eps": KL_EPS, "groups": _groups_card(ex)}
    settings["kad"] = {"kernel": "gaussian", "bandwidth": sigma,
                       "bandwidth_rule": rule if isinstance(rule, str) else "given",
                       "scale": KAD_SCALE, "features": "fd"}
    if want_fad_inf:
        try:
            sizes = fad_inf_sizes(len(x.gen.fad))
        except EmbeddingError:
            sizes = None
            notes.append(f"FAD∞ not computed: {len(x.gen.fad)} generated FAD rows are too few "
                         "for a line through FD at ≥ 3 sample sizes")
        if sizes is not None:
            fi = fad_infinity(x.gen.fad, x.ref.fad, seed=seed)
            out.fad_inf = fi.score
            z = float(np.sqrt(2) * _erfinv(level))
            out.intervals["fad_inf"] = Interval(
                fi.score, fi.score - z * fi.se, fi.score + z * fi.se, fi.se, level, 0, seed,
                f"the line's standard error (normal, r² {fi.r2:.3f})").to_dict()
            settings["fad_inf"] = {"steps": FAD_INF_STEPS, "min_n": sizes[0],
                                   "max_n": sizes[-1], "seed": seed, "draw": "with replacement"}
    n, dim = len(x.gen), ex.fd.feature_dim
    if min(n, len(x.ref)) <= dim:
        notes.append(f"FD from {n} generated and {len(x.ref)} reference clips in {dim} "
                     "dimensions: the covariances are rank-deficient and FD is biased by n; "
                     "compare FDs at equal n only (FAD∞ and KAD are less so)")


def _erfinv(level: float) -> float:
    from scipy.special import erfinv
    return float(erfinv(level))


def _card(ex, x: _Inputs, counts, metric_settings, resampler, clip, seeds, audio_info, pairing,
          reference_pairs, image_pairs) -> dict:
    sides = {"generated": _side_info(x.gen, (audio_info or {}).get("generated"),
                                     ex.sampling_rate)}
    if x.ref is not None:
        sides["references"] = _side_info(x.ref, (audio_info or {}).get("references"),
                                         ex.sampling_rate)
        # which reference set, as the extractor sees it: another set, another digest
        sides["references"]["features_sha256"] = hashlib.sha256(
            np.ascontiguousarray(x.ref.features, np.float32).tobytes()).hexdigest()[:16]
    used = any(r != ex.sampling_rate for side in sides.values() for r in side["source_rates"])
    if pairing is None:
        explicit = [a for a, v in (("reference_pairs", reference_pairs),
                                   ("image_pairs", image_pairs)) if v is not None]
        pairing = (f"explicit ({', '.join(explicit)})" if explicit
                   else "aligned: generated row i with reference / image row i")
    roles = ["fd"] + ["fad"] * (x.ref is not None) + ["cs"] * (x.cs_pairs is not None)
    return protocol_card(
        extractors=ex, roles=roles,
        audio={"sides": sides, "resampler": resampler if used else None,
               "clip_rule": None if clip is None else clip.to_dict()},
        counts=dict(counts), pairing={"rule": pairing}, metrics=metric_settings, seeds=seeds)


# ----------------------------------------------------------------------------- two systems

@dataclass
class Comparison:
    """Two systems scored on the same inputs, and their paired differences.

    Attributes:
        names: the two systems' names; differences are ``names[0] − names[1]``.
        a, b: each system's :class:`Scores`.
        differences: metric key -> :class:`~v2a_kit.evaluation.uncertainty.Difference` as a
            dict (``excludes_zero``: beyond the resampling noise at the level).
    """

    names: tuple[str, str]
    a: Scores
    b: Scores
    differences: dict[str, dict]

    def to_dict(self) -> dict:
        return {"names": list(self.names), "a": self.a.to_dict(), "b": self.b.to_dict(),
                "differences": self.differences}

    def summary(self) -> str:
        """One line per metric: both values, the difference, its interval, and whether it
        excludes 0."""
        lines = []
        for key, d in self.differences.items():
            better = "lower" if key in ("fd", "fad", "kad", "fad_inf", "kl") else "higher"
            verdict = ("beyond the resampling noise" if d["low"] > 0 or d["high"] < 0
                       else "within the resampling noise")
            lines.append(f"{key}: {self.names[0]} {self.a.value(key):.4g} vs {self.names[1]} "
                         f"{self.b.value(key):.4g}; difference {d['estimate']:+.4g} "
                         f"[{d['low']:+.4g}, {d['high']:+.4g}] ({better} is better; "
                         f"{verdict}, p {d['p_value']:.3g})")
        return "\n".join(lines)


def compare_systems(extractors: Extractors, generated_a, generated_b, references=None,
                    images=None, settings: ScoreSettings | None = None, *, names=("A", "B"),
                    reference_pairs=None, image_pairs=None, sampling_rate: float | None = None,
                    seeds: dict | None = None, **overrides) -> Comparison:
    """The paired comparison of two systems scored on the same inputs: row i of
    ``generated_a`` and of ``generated_b`` answer the same input (image, reference).

    Each metric's difference (a − b) is bootstrapped on common redraws of the inputs
    (:func:`~v2a_kit.evaluation.uncertainty.paired`): the generated rows of both systems are
    redrawn together, and the references (FD, FAD, KAD) or pairs (KL, CS) are the same redraw
    for both. Arguments as :func:`score`; both systems share the references, images, pairs
    and protocol (with KAD's default bandwidth rule, the references': one kernel for both).

    Raises:
        MediaError: the two systems have different numbers of clips (not the same inputs),
            and everything :func:`score` refuses.
    """
    ex = _check_extractors(extractors)
    s = ScoreSettings.make(settings, **overrides)
    if not (isinstance(names, (tuple, list)) and len(names) == 2 and names[0] != names[1]):
        raise ConfigError(f"names={names!r}; expected two different names")
    kw = dict(reference_pairs=reference_pairs, image_pairs=image_pairs,
              sampling_rate=sampling_rate, seeds=seeds)
    resampler, clip = s.resampler, s.clip
    xa = _inputs(ex, generated_a, references, images, reference_pairs, image_pairs,
                 sampling_rate, resampler, clip)
    xb = _inputs(ex, generated_b, xa.ref if references is not None else None,
                 (Embeddings(torch.from_numpy(xa.image_embed), ex.cs.space)
                  if images is not None else None),
                 reference_pairs, image_pairs, sampling_rate, resampler, clip)
    if len(xa.gen) != len(xb.gen):
        raise MediaError(f"{names[0]} has {len(xa.gen)} generated clips but {names[1]} "
                         f"{len(xb.gen)}; a paired comparison needs both scored on the same "
                         "inputs (row i of each for input i)")
    a = score(ex, xa.gen, xa.ref, _embeds(ex, xa), s, **kw)
    b = score(ex, xb.gen, xb.ref, _embeds(ex, xb), s, **kw)
    differences = _differences(ex, xa, xb, a.counts["is_splits"], s.kad_bandwidth, s.resamples,
                               s.level, s.seed)
    return Comparison((str(names[0]), str(names[1])), a, b, differences)


def _differences(ex, xa: _Inputs, xb: _Inputs, splits: int, kad_rule, resamples: int,
                 level: float, seed: int) -> dict[str, dict]:
    """metric -> the paired Difference (a − b) as a dict, on common redraws."""
    ma, mb = (_Metrics(ex, x, splits, kad_bandwidth_value(x, kad_rule)
                       if x.ref is not None else None) for x in (xa, xb))
    plan_b, out = mb.plan(), {}
    for key, (stat_a, sizes, units, batched) in ma.plan().items():
        d = paired(stat_a, plan_b[key][0], sizes, resamples=resamples, level=level, seed=seed,
                   units=units, batched=batched)
        out[key] = d.to_dict()
    return out


def paired_differences(extractors: Extractors, systems: dict, comparisons, references=None,
                       images=None, settings: ScoreSettings | None = None, *,
                       reference_pairs=None, image_pairs=None, **overrides) -> dict[str, dict]:
    """Paired differences between several systems scored on the same inputs, from their
    outputs: what a comparison table needs beside its columns.

    Args:
        systems: name -> generated clips or :class:`AudioOutputs` (row i of every system
            answers input i).
        comparisons: ``(first, second)`` name pairs; those naming a system not in ``systems``
            are skipped.
        references, images, pairs, settings, overrides: as :func:`compare_systems`
            (shared by all; the outputs are already extracted, so ``resampler`` and ``clip``
            play no part).
    Returns:
        ``"first − second"`` -> metric -> :class:`~v2a_kit.evaluation.uncertainty.Difference`
        as a dict (``estimate``, ``low``, ``high``, ``p_value``, ...).
    """
    ex = _check_extractors(extractors)
    s = ScoreSettings.make(settings, **overrides)
    refs, embeds, inputs, out = references, images, {}, {}
    for first, second in comparisons:
        if first not in systems or second not in systems:
            continue
        for name in (first, second):
            if name not in inputs:
                x = _inputs(ex, systems[name], refs, embeds, reference_pairs, image_pairs,
                            None, None, None)
                inputs[name] = x
                refs = x.ref if references is not None else None    # extracted once
                embeds = _embeds(ex, x) if images is not None else None
        xa, xb = inputs[first], inputs[second]
        if len(xa.gen) != len(xb.gen):
            raise MediaError(f"{first} has {len(xa.gen)} generated clips but {second} "
                             f"{len(xb.gen)}; a paired comparison needs both scored on the "
                             "same inputs")
        splits = _is_splits(len(xa.gen), s.is_splits, []) if xa.gen.logits is not None else 0
        out[f"{first} − {second}"] = _differences(ex, xa, xb, splits, s.kad_bandwidth,
                                                  s.resamples, s.level, s.seed)
    return out


def _embeds(ex: Extractors, x: _Inputs):
    if x.image_embed is None:
        return None
    return Embeddings(torch.from_numpy(np.ascontiguousarray(x.image_embed)), ex.cs.space)
