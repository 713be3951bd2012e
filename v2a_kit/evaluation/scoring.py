"""Score generated audio held in memory: FD, FAD, KL, IS and CS from one call, :func:`score`.

The one place where the paper's columns are assembled from extractor outputs (the folder
evaluator and the pocket reproduction both end here):

======  ==============================================  =========================================
column  what                                            rows
======  ==============================================  =========================================
FD      Fréchet distance of the ``fd`` features         every generated vs every reference clip
FAD     Fréchet distance of the ``fad`` rows            (as FD; VGGish: one row per 0.96 s)
KL      KL(reference ‖ generated), ``fd`` logits        pairs: generated i ↔ its reference
IS      inception score, ``fd`` logits                  every generated clip (no references)
CS      100 × cos(``cs`` audio, image) embeddings       pairs: generated i ↔ its image
======  ==============================================  =========================================

**Pairing.** By default ``references`` and ``images`` are aligned with ``generated``: row i of
each belongs to generated clip i, so they must have as many rows. When they are not (several
samples per image, a reference without a generated clip, strays), ``reference_pairs`` /
``image_pairs`` list the pairs explicitly as ``(generated_row, reference_row)`` /
``(generated_row, image_row)``: KL and CS are averaged over those pairs, while FD and FAD still
compare all generated clips with all references, and IS reads all generated clips.

Inputs are waveforms (anything :func:`~v2a_kit.evaluation.extractors.prepare_waves` takes) or,
to score large sets in batches or reuse outputs, :class:`AudioOutputs` from :func:`extract`;
images are images (anything the ``cs`` extractor's ``embed_images`` takes) or their
:class:`~v2a_kit.spaces.Embeddings` in the ``cs`` image space.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..errors import ConfigError, EmbeddingError, MediaError
from ..spaces import Embeddings, check_same_space
from .extractors import Extractors
from .metrics import clip_score, fad, frechet_distance, inception_score, kl_divergence

__all__ = ["AudioOutputs", "Scores", "extract", "score", "default_is_splits", "IS_SPLITS",
           "IS_MIN_CHUNK"]

IS_SPLITS = 10     # AudioLDM's and SpecVQGAN's number of IS chunks
IS_MIN_CHUNK = 10  # fewer splits on small sets: a chunk of one clip scores 1 by construction


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
    """

    features: np.ndarray
    logits: np.ndarray | None = None
    fad: np.ndarray | None = None
    cs: np.ndarray | None = None

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
        return cls(*(cat(k) for k in ("features", "logits", "fad", "cs")))


@dataclass
class Scores:
    """What :func:`score` measured; a score is ``None`` when its inputs were not given.

    Attributes:
        fd, fad: Fréchet distances (lower is better), generated vs reference distribution.
        kl: mean KL(reference ‖ generated) over the reference pairs, nats (lower is better).
        is_mean, is_std: inception score over ``counts["is_splits"]`` chunks (higher is better).
        cs: 100 × mean cosine over the image pairs (higher is better).
        counts: ``generated``, ``references`` (clips), ``kl_pairs``, ``cs_pairs``,
            ``is_splits``.
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

    def to_dict(self) -> dict:
        """JSON-ready: every field."""
        return asdict(self)


def default_is_splits(n: int) -> int:
    """The convention's 10 IS chunks, fewer when that leaves under ``IS_MIN_CHUNK`` clips each."""
    return min(IS_SPLITS, max(1, n // IS_MIN_CHUNK))


# ----------------------------------------------------------------------------- extracting

def _check_extractors(extractors) -> Extractors:
    if not isinstance(extractors, Extractors):
        raise ConfigError(f"extractors is a {type(extractors).__name__}; expected "
                          "v2a_kit.evaluation.Extractors (v2a_kit.registry.load_extractors)")
    return extractors


def _prepared(extractors: Extractors, waves, roles, sampling_rate, what: str) -> list:
    """The clips as every extractor of ``roles`` will read them, or a MediaError naming the
    input (``what``) and the clip."""
    if isinstance(waves, (np.ndarray, torch.Tensor)) and waves.ndim not in (1, 2):
        raise MediaError(f"{what} has shape {tuple(waves.shape)}; expected waveforms "
                         "(n, samples), a list of clips, or AudioOutputs (extract)")
    if isinstance(waves, (list, tuple, np.ndarray, torch.Tensor)) and len(waves) == 0:
        raise MediaError(f"{what} is empty; expected at least one clip")
    clips = roles[0].prepare(waves, sampling_rate, label=what)
    for role in roles[1:]:  # at the extractors' rate now: checks only
        clips = role.prepare(clips, label=what)
    return clips


def extract(extractors: Extractors, waves, *, sampling_rate: float | None = None,
            fad_rows: bool = True, cs: bool = True, what: str = "audio") -> AudioOutputs:
    """Run the extractors over clips: ``fd`` features and logits, and optionally the ``fad``
    rows and ``cs`` audio embeddings.

    Args:
        waves: a (n, samples) array or tensor, a list of clips (any lengths, unless the
            extractors read one ``clip_samples``), paths or ``(array, sr)`` tuples.
        sampling_rate: the rate of bare arrays; ``None`` = the extractors' own.
        fad_rows, cs: also extract those (needed for FAD with references, for CS with images).
        what: how messages name the clips (``"generated"`` → ``generated #3``).
    Raises:
        MediaError: naming the clip: NaN/inf, not mono, too short, not ``clip_samples`` long.
    """
    ex = _check_extractors(extractors)
    roles = [ex.fd] + [ex.fad] * fad_rows + [ex.cs] * cs
    clips = _prepared(ex, waves, roles, sampling_rate, what)
    if ex.fd.num_classes:
        features, logits = ex.fd.features_and_logits(clips)
    else:
        features, logits = ex.fd.features(clips), None
    return AudioOutputs(features, logits,
                        fad=ex.fad.fd_features(clips) if fad_rows else None,
                        cs=ex.cs.embed_audio(clips) if cs else None)


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


def _outputs(ex: Extractors, x, what: str, sampling_rate, fad_rows: bool,
             cs: bool) -> AudioOutputs:
    if isinstance(x, AudioOutputs):
        return _check_outputs(ex, x, what, fad_rows, cs)
    return extract(ex, x, sampling_rate=sampling_rate, fad_rows=fad_rows, cs=cs, what=what)


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


def score(extractors: Extractors, generated, references=None, images=None, *,
          reference_pairs=None, image_pairs=None, sampling_rate: float | None = None,
          is_splits: int | None = None) -> Scores:
    """FD, FAD, KL, IS and CS of generated audio, each where its inputs are given.

    Args:
        extractors: from ``v2a_kit.registry.load_extractors(preset)`` (or a builder).
        generated: the generated clips: waveforms (a (n, samples) array or tensor, a list of
            clips, ``(array, sr)`` tuples, paths) or :class:`AudioOutputs` from :func:`extract`.
        references: the real clips, in the same forms. Enables FD and FAD (all generated vs
            all references) and KL (per pair).
        images: the input images (paths, PIL images, (n, H, W, 3) uint8) or their
            :class:`~v2a_kit.spaces.Embeddings` in ``extractors.cs.space``. Enables CS.
        reference_pairs, image_pairs: ``None``: aligned (row i ↔ generated clip i, so as many
            rows as generated clips); else ``(generated_row, reference_row)`` /
            ``(generated_row, image_row)`` pairs.
        sampling_rate: the rate of bare arrays; ``None`` = the extractors' (``extractors.
            sampling_rate``).
        is_splits: IS chunks; ``None``: the convention's 10, fewer for under 100 clips (noted).
    Returns:
        :class:`Scores`; a metric whose inputs were not given is ``None`` (IS: when the ``fd``
        extractor has no classifier).
    Raises:
        MediaError: a bad clip (named: ``generated #3``), an empty input, fewer than 2 clips on
            a side of FD, aligned inputs of different lengths.
        EmbeddingError: precomputed outputs or embeddings of the wrong shape or with NaN/inf
            (``SpaceMismatchError``: image embeddings from another space).
        ConfigError: bad ``extractors``, pairs or ``is_splits``.
    """
    ex = _check_extractors(extractors)
    gen = _outputs(ex, generated, "generated", sampling_rate, fad_rows=references is not None,
                   cs=images is not None)
    ref = kl_pairs = image_embed = cs_pairs = None
    if references is not None:
        ref = _outputs(ex, references, "references", sampling_rate, fad_rows=True, cs=False)
        kl_pairs = _pairs(reference_pairs, len(gen), len(ref), "references", "reference_pairs")
        _check_two_sides(len(gen), len(ref))
    if images is not None:
        image_embed = _image_embeds(ex, images)
        cs_pairs = _pairs(image_pairs, len(gen), len(image_embed), "images", "image_pairs")
    notes = []
    if "random-init" in str(ex.fd.space.checkpoint):
        notes.append("random-init extractors: the numbers exercise the code and measure nothing")
    out = Scores(fd=None, fad=None, kl=None, is_mean=None, is_std=None, cs=None, notes=notes,
                 counts={"generated": len(gen), "references": 0, "kl_pairs": 0, "cs_pairs": 0,
                         "is_splits": 0})
    if gen.logits is not None:
        _score_is(out, ex, gen, is_splits)
    if ref is not None:
        _score_fidelity(out, ex, gen, ref, kl_pairs)
    if image_embed is not None:
        out.cs = clip_score(gen.cs[cs_pairs[:, 0]], image_embed[cs_pairs[:, 1]])
        out.counts["cs_pairs"] = len(cs_pairs)
    return out


def _score_is(out: Scores, ex: Extractors, gen: AudioOutputs, is_splits) -> None:
    splits = _is_splits(len(gen), is_splits, out.notes)
    inception = inception_score(gen.logits, splits=splits, groups=ex.fd.logit_groups)
    out.is_mean, out.is_std, out.counts["is_splits"] = inception.mean, inception.std, splits


def _score_fidelity(out: Scores, ex: Extractors, gen: AudioOutputs, ref: AudioOutputs,
                    kl_pairs: np.ndarray) -> None:
    """FD and FAD (the two distributions), KL (the pairs), and the caveat on small sets."""
    out.fd = frechet_distance(gen.features, ref.features)
    out.fad = fad(gen.fad, ref.fad)
    out.counts["references"] = len(ref)
    if gen.logits is not None:
        out.kl = kl_divergence(gen.logits[kl_pairs[:, 0]], ref.logits[kl_pairs[:, 1]],
                               groups=ex.fd.logit_groups)
        out.counts["kl_pairs"] = len(kl_pairs)
    n, dim = len(gen), ex.fd.feature_dim
    if min(n, len(ref)) <= dim:
        out.notes.append(f"FD from {n} generated and {len(ref)} reference clips in {dim} "
                         "dimensions: the covariances are rank-deficient and FD is biased by n; "
                         "compare FDs at equal n only")
