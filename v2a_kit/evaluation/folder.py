"""Score a folder of generated sounds as the paper's table does: behind ``v2a-kit evaluate``.

:func:`evaluate` reads the generated audio, the real audio it should resemble and the images it
was made from, pairs them by name, runs the extractors over them in batches
(:func:`~v2a_kit.evaluation.scoring.extract`) and hands the outputs and the pairs to
:func:`~v2a_kit.evaluation.scoring.score`; it returns an :class:`EvalReport` with the paper's
columns:

======  =============================================  ====================  ==================
column  what                                           needs                 rows
======  =============================================  ====================  ==================
FD      Fréchet distance, PANNs CNN14 features         references            every generated
                                                                             clip vs every
                                                                             reference clip
FAD     Fréchet distance, VGGish 0.96 s examples       references            (as FD)
KAD     kernel audio distance, PANNs features          references            (as FD)
FAD∞    FAD extrapolated to n → ∞ (fadtk)              references            (as FD)
KL      KL(reference ‖ generated), PANNs logits        references            pairs, by name
IS      inception score, PANNs logits                  generated only        every generated
CS      100 × cos(Wav2CLIP(audio), CLIP(image))        images                pairs, by name
======  =============================================  ====================  ==================

The paper reports FD, FAD and CS; KL and IS are AudioLDM's and come free with the same logits.
FD and FAD treat the two folders as two distributions (AudioLDM's toolbox does the same), so
every generated and every reference clip counts; KL and CS are per clip and need pairs. With
the ``pocket`` preset the pocket tagger and the pocket audio→image evaluator play those roles.
The extractors come from ``v2a_kit.registry.load_extractors(preset)``, or are passed in.

Pairing: a generated file belongs to a reference or image when its name does (the rules of
:func:`v2a_kit.datasets.match_generated`: the same relative path or stem, ignoring a ``_s{k}``
sample suffix as :func:`v2a_kit.pipeline.write_outputs` writes it). References may be audio
files or videos (their soundtrack); images may be images or videos (their middle frame).
Instead of folders, a dataset (VGGSound or ImageHear, :mod:`v2a_kit.datasets`) supplies both.

Every score has its bootstrap interval and the report its protocol card
(:mod:`v2a_kit.evaluation.protocol`), with the source rates read from the files' headers.
A file at another rate than the extractors' is refused unless ``resampler=`` names how to
resample it; ``clip=`` (a :class:`~v2a_kit.evaluation.protocol.ClipRule`) cuts every clip alike.

Nothing is written; nothing is repaired: an unreadable file, a clip too short for an extractor
(or not the length it reads: the pocket evaluators' 1 s), a folder without audio or without a
single match is an error naming it.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import media
from ..datasets import (
    EvalSet,
    ImageHearItem,
    VGGSoundItem,
    load_imagehear,
    load_vggsound,
    match_generated,
)
from ..distributed import RankSync, distributed_env
from ..errors import ConfigError, MediaError, first_names
from ..registry import load_extractors
from ..spaces import Embeddings
from .extractors import Extractors, source_rate
from .labels import header
from .protocol import ClipRule, format_card, space_fields
from .scoring import AudioOutputs, Scores, ScoreSettings, extract, score
from .uncertainty import DEFAULT_LEVEL

__all__ = ["EvalReport", "evaluate", "load_dataset"]



@dataclass
class EvalReport:
    """What :func:`evaluate` measured: the :class:`~v2a_kit.evaluation.scoring.Scores` of
    :func:`~v2a_kit.evaluation.scoring.score` (the one place the numbers are computed) and what
    the folders held. A score is ``None`` when its input was not given.

    Attributes:
        scores: FD, FAD, KAD, FAD∞, KL, IS and CS with their intervals, the protocol card and
            the notes; each is also readable here (``report.fd``, ``report.intervals``, ...).
        n: generated clips scored.
        counts: ``references`` (clips in the reference distribution), ``kl_pairs``,
            ``cs_pairs``, ``is_splits``.
        extractors: role (``fd``: FD/KL/IS, ``fad``, ``cs``) -> name, space(s) and source.
        preset: ``"pocket"`` or ``"paper"``.
        generated, references, images: where each came from (``None``: not given).
        unmatched: generated files (relative paths) that belong to no reference or image.
        missing_references, missing_images: ids of references / images without a generated
            sound.
    """

    scores: Scores
    n: int
    counts: dict[str, int]
    extractors: dict[str, dict]
    preset: str
    generated: str
    references: str | None = None
    images: str | None = None
    dataset: str | None = None
    unmatched: list[str] = field(default_factory=list)
    missing_references: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)

    # the scores, read through (one copy of each number: the Scores')
    fd = property(lambda self: self.scores.fd, doc="FD (lower is better)")
    fad = property(lambda self: self.scores.fad, doc="FAD (lower is better)")
    kad = property(lambda self: self.scores.kad, doc="KAD (lower is better)")
    fad_inf = property(lambda self: self.scores.fad_inf, doc="FAD∞ (lower is better)")
    kl = property(lambda self: self.scores.kl, doc="KL over name-paired clips, nats")
    is_mean = property(lambda self: self.scores.is_mean, doc="IS (higher is better)")
    is_std = property(lambda self: self.scores.is_std, doc="IS's spread over its chunks")
    cs = property(lambda self: self.scores.cs, doc="CS, 100 × mean cosine (higher is better)")
    intervals = property(lambda self: self.scores.intervals, doc="metric -> its interval")
    protocol = property(lambda self: self.scores.protocol, doc="the protocol card")
    notes = property(lambda self: self.scores.notes, doc="caveats worth reading")

    COLUMNS = tuple((k, header(k)) for k in ("fd", "fad", "kad", "fad_inf", "kl", "is", "cs"))

    def _cell(self, key: str) -> str:
        value = self.is_mean if key == "is" else getattr(self, key)
        if value is None:
            return "–"
        iv = self.intervals.get(key)
        return f"{value:.3f}" + ("" if iv is None else f" [{iv['low']:.3f}, {iv['high']:.3f}]")

    def table(self, name: str | None = None) -> str:
        """One markdown row (``name``: default the generated folder's name) under the columns
        n, FD, FAD, KAD, FAD∞, KL, IS, CS, each value with its interval in brackets; "–"
        where a score was not computed."""
        name = name or Path(self.generated).name or self.generated
        head = "| Generated | n | " + " | ".join(t for _, t in self.COLUMNS) + " |"
        rule = "|---|---:|" + "---:|" * len(self.COLUMNS)
        row = f"| {name} | {self.n} | " + " | ".join(self._cell(k) for k, _ in self.COLUMNS) + " |"
        return "\n".join([head, rule, row]) + "\n"

    def details(self) -> str:
        """Which extractors made which column, what was paired, and the notes; one per line."""
        ex = self.extractors
        lines = [f"preset {self.preset}"]
        if "fd" in ex:
            lines.append(f"FD, KL, IS: {ex['fd']['name']} ({ex['fd']['space']})")
        if "fad" in ex:
            lines.append(f"FAD: {ex['fad']['name']} ({ex['fad']['space']})")
        if "cs" in ex:
            lines.append(f"CS: {ex['cs']['name']} ({ex['cs']['audio_space']}) vs images in "
                         f"{ex['cs']['image_space']}")
        lines.append(f"generated: {self.n} clips in {self.generated}")
        if self.dataset:
            lines.append(f"dataset: {self.dataset}")
        if self.references:
            lines.append(f"references: {self.counts['references']} clips in {self.references}; "
                         f"KL over {self.counts['kl_pairs']} name-paired clips")
        if self.images:
            lines.append(f"images: {self.images}; CS over {self.counts['cs_pairs']} pairs")
        if self.unmatched:
            lines.append(f"{len(self.unmatched)} generated files match no reference or image: "
                         f"{first_names(self.unmatched)}")
        for what, ids in (("references", self.missing_references),
                          ("images", self.missing_images)):
            if ids:
                lines.append(f"{len(ids)} {what} without a generated sound: {first_names(ids)}")
        if self.protocol:
            level = self.protocol["metrics"].get("bootstrap", {}).get("level", DEFAULT_LEVEL)
            lines.append(f"[brackets]: {level:.0%} intervals (bootstrap; FAD∞: its line's "
                         "standard error). Protocol card:")
            lines.append(format_card(self.protocol))
        return "\n".join(lines + [f"note: {n}" for n in self.notes]) + "\n"

    def __str__(self) -> str:
        return self.table() + "\n" + self.details()

    def published_row(self) -> dict:
        """The scores under :func:`v2a_kit.datasets.published_table`'s keys (CS goes to the
        ImageHear column for ImageHear, else to VGGSound's)."""
        cs_key = "cs_imagehear" if (self.dataset or "").startswith("ImageHear") else "cs_vggsound"
        return {"fd": self.fd, "fad": self.fad, cs_key: self.cs}

    def to_dict(self) -> dict:
        """JSON-ready: the scores' paper columns, intervals, card and notes beside the folders'
        fields, in one flat record (``COLUMNS`` aside)."""
        sc = self.scores
        out = {k: getattr(sc, k) for k in ("fd", "fad", "kl", "is_mean", "is_std", "cs")}
        out.update({f.name: getattr(self, f.name) for f in fields(self) if f.name != "scores"})
        out.update(notes=list(sc.notes), kad=sc.kad, fad_inf=sc.fad_inf,
                   intervals=sc.intervals, protocol=sc.protocol)
        return copy.deepcopy(out)


# --------------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class _FolderItem:
    """A name shared by files in the references and/or images folders."""

    id: str                    # path relative to its folder, without suffix (posix)
    audio: Path | None = None  # audio file or video (its soundtrack)
    image: Path | None = None  # image file or video (its middle frame)


def _reference_of(item) -> Path | None:
    if isinstance(item, VGGSoundItem):
        return item.audio_path or item.video_path
    return getattr(item, "audio", None)


def _image_of(item) -> Path | None:
    if isinstance(item, ImageHearItem):
        return item.image_path
    if isinstance(item, VGGSoundItem):
        return item.video_path
    return getattr(item, "image", None)


def _media_files(folder: Path, kinds: tuple[str, ...]) -> list[Path]:
    """Files of these kinds under ``folder``, recursively, hidden entries skipped, sorted."""
    return [p for p in media.visible_files(folder) if media.media_kind(p) in kinds]


def _folder(path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise MediaError(f"{path}: no such directory; expected {what}")
    return path


def _index(folder: Path, kinds: tuple[str, ...], what: str) -> dict[str, Path]:
    """id -> file for a references or images folder; two files with one name are refused."""
    files = _media_files(folder, kinds)
    if not files:
        raise MediaError(f"{folder}: no {' or '.join(kinds)} files found (recursively); "
                         f"expected {what}")
    found: dict[str, Path] = {}
    for p in files:
        ident = p.relative_to(folder).with_suffix("").as_posix()
        if ident in found:
            raise MediaError(f"{folder}: {found[ident].name} and {p.name} are both {ident!r}; "
                             f"expected one file per name among the {what}")
        found[ident] = p
    return found


def load_dataset(spec: str) -> EvalSet:
    """``"vggsound:LIST:FOLDER"`` or ``"imagehear:FOLDER"`` -> the dataset's
    :class:`~v2a_kit.datasets.EvalSet` (:func:`~v2a_kit.datasets.load_vggsound`,
    :func:`~v2a_kit.datasets.load_imagehear`)."""
    kind, _, rest = str(spec).partition(":")
    if kind == "vggsound" and rest.count(":") >= 1:
        listing, _, folder = rest.partition(":")
        return load_vggsound(listing, folder)
    if kind == "imagehear" and rest:
        return load_imagehear(rest)
    raise ConfigError(f"dataset={spec!r}; expected 'vggsound:LIST:FOLDER' (vggsound.csv or an id "
                      "list, and the folder of clips) or 'imagehear:FOLDER'")


def _check_inputs(generated, references, images, dataset, preset, extractors, random_init):
    """Every bad combination, refused before anything is read or loaded."""
    generated = _folder(generated, "a folder of generated audio")
    if dataset is not None and (references is not None or images is not None):
        raise ConfigError("dataset= gives the references and images; pass either dataset= or "
                          "references= / images=, not both")
    if extractors is not None:
        if not isinstance(extractors, Extractors):
            raise ConfigError(f"extractors is a {type(extractors).__name__}; expected "
                              "v2a_kit.evaluation.Extractors (load_extractors(preset))")
        if preset is not None and preset != extractors.preset:
            raise ConfigError(f"preset={preset!r} but extractors are the {extractors.preset!r} "
                              "preset's; pass one of them")
        if random_init:
            raise ConfigError("random_init applies when evaluate() loads the extractors; the "
                              "extractors given are already built")
    if dataset is not None and not isinstance(dataset, (str, EvalSet)):
        raise ConfigError(f"dataset is a {type(dataset).__name__}; expected an EvalSet "
                          "(load_vggsound / load_imagehear) or 'vggsound:LIST:FOLDER' / "
                          "'imagehear:FOLDER'")
    references = None if references is None else _folder(
        references, "a folder of reference audio (or videos with their soundtrack)")
    images = None if images is None else _folder(images, "a folder of input images (or videos)")
    return generated, references, images


@dataclass
class _Sources:
    """Where the references and images come from: name-keyed items, and their descriptions."""

    items: list | None         # dataset items or _FolderItems; None: no pairing (IS only)
    want_refs: bool = False
    want_images: bool = False
    where: str = ""            # for messages
    references: str | None = None
    images: str | None = None
    dataset: str | None = None


def _sources(references: Path | None, images: Path | None, dataset) -> _Sources:
    """Index the references / images folders, or read the dataset (checked already)."""
    if dataset is not None:
        if isinstance(dataset, str):
            dataset = load_dataset(dataset)
        items = list(dataset)
        want_refs = any(_reference_of(it) is not None for it in items)
        want_images = any(_image_of(it) is not None for it in items)
        folder = str(dataset.folder)
        return _Sources(items, want_refs, want_images,
                        f"the {dataset.name} items in {dataset.folder}",
                        folder if want_refs else None, folder if want_images else None,
                        dataset.summary())
    if references is None and images is None:
        return _Sources(None)
    ref_files = {} if references is None else _index(
        references, ("audio", "video"), "reference sounds (audio, or videos)")
    image_files = {} if images is None else _index(
        images, ("image", "video"), "input images (or videos)")
    items = [_FolderItem(i, ref_files.get(i), image_files.get(i))
             for i in sorted(ref_files.keys() | image_files.keys())]
    return _Sources(items, references is not None, images is not None,
                    " and ".join(str(f) for f in (references, images) if f is not None),
                    None if references is None else str(references),
                    None if images is None else str(images))


@dataclass
class _Plan:
    """What to read: generated files, reference files, (generated, image) pairs, KL pairs."""

    generated: list[Path]
    references: list[Path] = field(default_factory=list)
    kl_pairs: list[tuple[int, int]] = field(default_factory=list)   # (generated, reference)
    cs_pairs: list[tuple[int, Path]] = field(default_factory=list)  # (generated, image file)
    unmatched: list[str] = field(default_factory=list)
    missing_references: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)


def _plan(generated: Path, items: list | None, where: str, want_refs: bool,
          want_images: bool) -> _Plan:
    """Pair the generated files with ``items`` (None: no pairing, IS only)."""
    if items is None:
        files = _media_files(generated, ("audio",))
        if not files:
            raise MediaError(f"{generated}: no audio files found (recursively); expected the "
                             "generated sounds (.wav, .flac, ...)")
        return _Plan(files)
    try:
        match = match_generated(items, generated)
    except MediaError as e:
        raise MediaError(f"{e} (names from {where})") from None
    files = sorted({p for _, p in match.pairs} | set(match.unmatched))
    index = {p: i for i, p in enumerate(files)}
    plan = _Plan(files, unmatched=[p.relative_to(generated).as_posix() for p in match.unmatched])
    ref_index: dict[str, int] = {}
    if want_refs:
        for item in items:
            if (path := _reference_of(item)) is not None:
                ref_index[item.id] = len(plan.references)
                plan.references.append(path)
    for item, path in match.pairs:
        if want_refs and item.id in ref_index:
            plan.kl_pairs.append((index[path], ref_index[item.id]))
        if want_images and (image := _image_of(item)) is not None:
            plan.cs_pairs.append((index[path], image))
    paired = {item.id for item, _ in match.pairs}
    plan.missing_references = [it.id for it in items if want_refs and it.id not in paired
                               and _reference_of(it) is not None]
    plan.missing_images = [it.id for it in items if want_images and it.id not in paired
                           and _image_of(it) is not None]
    if want_refs and not plan.kl_pairs:
        raise MediaError(f"{generated}: none of its audio files matches a reference by name "
                         f"(references: {where}); expected names such as "
                         f"{PurePosixPath(next(iter(ref_index), '<id>')).name}.wav")
    if want_images and not plan.cs_pairs:
        raise MediaError(f"{generated}: none of its audio files matches an image by name "
                         f"(images: {where})")
    return plan


# --------------------------------------------------------------------------------- reading

def _read_audio(path: Path, extractors: Extractors, used, resampler: str | None = None,
                clip: ClipRule | None = None) -> np.ndarray:
    """Mono float32 at the extractors' rate (resampled with ``resampler``; refused at another
    rate without one): an audio file, or a video's soundtrack, cut by the ``clip`` rule,
    checked against what the ``used`` extractors read (``clip_samples``, ``min_samples``)."""
    sampling_rate, clip_samples = extractors.sampling_rate, extractors.clip_samples
    if media.media_kind(path) == "video":
        wave = media.read_video_audio(path, sampling_rate, allow_silence=True,
                                      resampler=resampler)
        if wave is None:
            raise MediaError(f"{path}: the video has no audio stream; expected a reference "
                             "video with its soundtrack (or an audio file)")
    else:  # a silent generated clip is a result to score, not an input error
        wave = media.load_audio(path, sampling_rate, name=str(path), allow_silence=True,
                                resampler=resampler)
    if clip is not None:
        wave = clip.apply([wave], sampling_rate, str(path))[0]
    if clip_samples is not None and len(wave) != clip_samples:
        raise MediaError(f"{path}: {len(wave) / sampling_rate:.3f} s of audio; the "
                         f"{extractors.preset} evaluators read clips of exactly "
                         f"{clip_samples / sampling_rate:g} s ({clip_samples} samples at "
                         f"{sampling_rate} Hz). Cut or pad the clips (v2a_kit.media.fit_length), "
                         "move longer ones (a video's soundtrack) out of the folder, or use "
                         "extractors that read any length (preset='paper')")
    for ex in used:
        if len(wave) < ex.min_samples:
            raise MediaError(f"{path}: {len(wave) / sampling_rate:.3f} s of audio; {ex.name} "
                             f"needs at least {ex.min_samples / sampling_rate:.3f} s")
    return wave


def _read_image(path: Path):
    if media.media_kind(path) == "video":
        return media.sample_video_frames(path, 1)[0]  # the middle frame
    return media.load_image(path)


def _audio_outputs(paths: list[Path], ex: Extractors, *, fad_rows: bool, cs: bool,
                   batch_size: int, bar, resampler=None, clip=None) -> AudioOutputs:
    """Extractor outputs of audio files, read ``batch_size`` at a time (never all at once:
    the VGGSound test set is 40 h of audio)."""
    used = [ex.fd] + [ex.fad] * fad_rows + [ex.cs] * cs
    parts = []
    for s in range(0, len(paths), batch_size):
        chunk = paths[s:s + batch_size]
        waves = [_read_audio(p, ex, used, resampler, clip) for p in chunk]
        parts.append(extract(ex, waves, fad_rows=fad_rows, cs=cs))
        bar.update(len(chunk))
    return AudioOutputs.concat(parts)


def _image_embeds(paths: list[Path], ex: Extractors, batch_size: int) -> Embeddings:
    """The ``cs`` image embeddings of image files (or videos' middle frames), in batches."""
    chunks = []
    for s in range(0, len(paths), batch_size):
        chunk = [_read_image(p) for p in paths[s:s + batch_size]]
        chunks.append(ex.cs.embed_images(chunk, progress=False))
    return Embeddings(torch.from_numpy(np.concatenate(chunks)), ex.cs.space)


def _run_extractors(plan: _Plan, ex: Extractors, want_refs: bool, want_images: bool,
                    batch_size: int, progress: bool | None, shared=None, resampler=None,
                    clip=None):
    """(generated outputs, reference outputs or None, image embeddings or None).

    ``shared``: ``(cache_dir, sync, info)`` to take the audio features through the content
    cache, sharded over the job's ranks
    (:func:`~v2a_kit.evaluation.features.cached_audio_outputs`); the images are then embedded
    by rank 0 alone (``None`` elsewhere)."""
    total = len(plan.generated) + len(plan.references)
    rank = 0 if shared is None else shared[2].rank
    show = (total > batch_size if progress is None else progress) and rank == 0
    with tqdm(total=total, desc="scoring audio", unit="clip", disable=not show) as bar:
        def outputs(paths, what, fad_rows, cs):
            if shared is None:
                return _audio_outputs(paths, ex, fad_rows=fad_rows, cs=cs,
                                      batch_size=batch_size, bar=bar, resampler=resampler,
                                      clip=clip)
            from .features import cached_audio_outputs
            cache_dir, sync, info = shared
            used = [ex.fd] + [ex.fad] * fad_rows + [ex.cs] * cs
            return cached_audio_outputs(
                paths, ex, lambda p: _read_audio(p, ex, used, resampler, clip),
                fad_rows=fad_rows, cs=cs,
                batch_size=batch_size, cache_dir=cache_dir, sync=sync, info=info, what=what,
                bar=bar)
        gen = outputs(plan.generated, "generated", want_refs, want_images)
        ref = outputs(plan.references, "references", True, False) if want_refs else None
    images = (_image_embeds([p for _, p in plan.cs_pairs], ex, batch_size)
              if want_images and rank == 0 else None)
    return gen, ref, images


def _extractor_info(ex: Extractors, roles: list[str]) -> dict[str, dict]:
    info = {}
    for role in roles:
        e = getattr(ex, role)
        info[role] = {"name": e.name, "source": dict(e.source), **space_fields(role, e)}
    return info


# --------------------------------------------------------------------------------- evaluate

def _check_fd_sides(plan, generated, src) -> None:
    """FD and FAD fit a Gaussian to each side: :class:`MediaError` under 2 clips on either."""
    for side, count, folder in (("generated", len(plan.generated), generated),
                                ("reference", len(plan.references), src.references)):
        if count < 2:
            raise MediaError(f"{folder}: {count} {side} clip(s); FD and FAD fit a Gaussian "
                             "to each side and need at least 2 clips")


def _report(scores, plan, extractors, generated, src) -> EvalReport:
    """The :class:`EvalReport` of the scores, the name plan and the extractors used."""
    roles = ["fd"] + ["fad"] * src.want_refs + ["cs"] * src.want_images
    return EvalReport(
        scores=scores, n=len(plan.generated),
        counts={k: scores.counts[k] for k in ("references", "kl_pairs", "cs_pairs", "is_splits")},
        extractors=_extractor_info(extractors, roles), preset=extractors.preset,
        generated=str(generated), references=src.references, images=src.images,
        dataset=src.dataset, unmatched=plan.unmatched,
        missing_references=plan.missing_references, missing_images=plan.missing_images)


def _check_and_plan(generated, references, images, dataset, preset, extractors, random_init,
                    batch_size):
    """(generated folder, sources, pairing plan), every argument checked before any model."""
    generated, references, images = _check_inputs(generated, references, images, dataset,
                                                  preset, extractors, random_init)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size={batch_size!r}; expected an int ≥ 1")
    src = _sources(references, images, dataset)
    plan = _plan(generated, src.items, src.where, src.want_refs, src.want_images)
    if src.want_refs:
        _check_fd_sides(plan, generated, src)
    return generated, src, plan


def _extract(plan, extractors, src, batch_size, progress, cache_dir, info, resampler=None,
             clip=None):
    """The extractors over the planned audio and images; through the feature cache, sharded
    by rank, when ``cache_dir`` is given (then ``None`` on ranks other than 0)."""
    if cache_dir is None:
        return _run_extractors(plan, extractors, src.want_refs, src.want_images, batch_size,
                               progress, resampler=resampler, clip=clip)
    with RankSync(info) as sync:
        outputs = _run_extractors(plan, extractors, src.want_refs, src.want_images, batch_size,
                                  progress, (cache_dir, sync, info), resampler, clip)
    return outputs if info.rank == 0 else None


def evaluate(generated: str | os.PathLike, *, references: str | os.PathLike | None = None,
             images: str | os.PathLike | None = None, dataset: EvalSet | str | None = None,
             preset: str | None = None, extractors: Extractors | None = None,
             random_init: bool = False, weights=None, device=None, batch_size: int = 32,
             progress: bool | None = None, cache_dir=None, rank: int | None = None,
             world_size: int | None = None, settings: ScoreSettings | None = None,
             seeds: dict | None = None, **overrides) -> EvalReport | None:
    """Score the generated sounds in a folder: FD, FAD, KL, IS and CS where their inputs exist.

    Args:
        generated: a folder of generated audio (searched recursively; videos and other files
            are ignored), e.g. the output of ``v2a-kit generate``.
        references: a folder of the real sounds (audio files, or videos whose soundtrack is the
            reference), paired with generated files by name. Enables FD, FAD (every clip of
            both folders) and KL (name-paired clips).
        images: a folder of the input images (or videos: their middle frame), paired by name.
            Enables CS.
        dataset: instead of the two folders, an :class:`~v2a_kit.datasets.EvalSet` (VGGSound:
            references = the clips' audio, images = the middle frame of their videos;
            ImageHear: images only) or a spec for :func:`load_dataset`.
        preset: ``"pocket"`` or ``"paper"`` extractors (``None``: the default preset).
        extractors: already loaded extractors (e.g. to score several folders); then ``preset``,
            ``random_init``, ``weights`` and ``device`` are not used.
        random_init: ``paper`` extractors at random init (offline; the numbers mean nothing).
        weights: passed to :func:`~v2a_kit.registry.load_extractors`.
        device: where the extractors run (``None``: the best available).
        batch_size: files read and scored at a time.
        progress: a progress bar (``None``: when there is more than one batch).
        cache_dir: keep every clip's extractor outputs in a content-keyed cache under this
            folder (:class:`v2a_kit.evaluation.features.FeatureCache`): a rerun computes only
            new clips. Required when sharded.
        rank, world_size: this process's shard (default: RANK / WORLD_SIZE, as torchrun sets
            them). Each rank extracts its share of the audio features; rank 0 gathers them
            from the cache, embeds the images and computes the metrics once.
        settings: a :class:`~v2a_kit.evaluation.scoring.ScoreSettings`, the protocol's
            choices: ``resampler`` (how files at another rate than the extractors' are
            resampled; ``None``: such a file is refused, named), ``clip`` (a
            :class:`~v2a_kit.evaluation.protocol.ClipRule` cutting every clip alike), the
            bootstrap's ``resamples``, ``level`` and ``seed``, ``kad_bandwidth``, ...;
            ``None``: the defaults. ``overrides``: its fields by name (``resamples=200``).
        seeds: as :func:`~v2a_kit.evaluation.score`.

    Returns:
        :class:`EvalReport` (on rank 0; ``None`` on the other ranks of a sharded run).

    Raises:
        MediaError: a missing or empty folder, no generated file matching a reference or image,
            fewer than 2 clips on a side of FD, an unreadable or too-short file, a file at
            another rate without a resampler (named).
        ConfigError: inconsistent arguments, an unknown preset or dataset spec.
        WeightsNotFoundError: ``paper`` weights absent offline.
    """
    # 1. Check inputs and pair names, before loading any model
    generated, src, plan = _check_and_plan(generated, references, images, dataset, preset,
                                           extractors, random_init, batch_size)
    s = ScoreSettings.make(settings, **overrides)
    resampler, clip = s.resampler, s.clip
    rates = {"generated": sorted({source_rate(p, str(p)) for p in plan.generated})}
    if src.want_refs:
        rates["references"] = sorted({source_rate(p, str(p)) for p in plan.references})
    info = distributed_env(rank, world_size)
    if info.world_size > 1 and cache_dir is None:
        raise ConfigError("a sharded evaluation needs a cache_dir (--cache): the ranks exchange "
                          "their features there")
    # 2. Load the extractors
    if extractors is None:
        extractors = load_extractors(preset, random_init=random_init, device=device,
                                     weights=weights)
    # 3. Run them over the generated and reference audio, then the paired images
    outputs = _extract(plan, extractors, src, batch_size, progress, cache_dir, info, resampler,
                       clip)
    if outputs is None:
        return None  # a rank other than 0 of a sharded run: rank 0 scores
    gen, ref, images_embed = outputs
    # 4. The metrics, over the name pairs (the images were read in cs_pairs order)
    scores = score(extractors, gen, ref, images_embed,
                   reference_pairs=plan.kl_pairs if src.want_refs else None,
                   image_pairs=([(g, j) for j, (g, _) in enumerate(plan.cs_pairs)]
                                if src.want_images else None),
                   settings=s, seeds=seeds, pairing="by file name "
                   "(same relative path or stem; a _s<k> sample suffix ignored)",
                   audio_info={side: {"source_rates": r} for side, r in rates.items()})
    return _report(scores, plan, extractors, generated, src)
