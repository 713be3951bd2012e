"""The paper's evaluation data — VGGSound test and ImageHear — from files the user supplies,
the generated sounds paired with them, and the published results as data (DESIGN.md §1, §5).

Nothing here downloads anything: VGGSound clips come from YouTube and cannot be shipped, and
ImageHear is one ``git clone`` away. The loaders say exactly what they found, what is missing
(a count and the first few ids) and refuse with a :class:`~v2a_kit.errors.MediaError` that names
the file, line or folder at fault.

**VGGSound** (Chen et al. 2020, https://www.robots.ox.ac.uk/~vgg/data/vggsound/,
github.com/hche11/VGGSound). Accepted lists, told apart by their number of columns:

- the official ``vggsound.csv``: no header, rows ``youtube_id,start_seconds,label,split`` with
  ``split`` "train" or "test" (labels with commas are quoted). It has 15,496 test rows;
- ``clip,label`` rows, as the VGGSound repo's ``data/test.csv`` (``glLQrEijrKg_000300.mp4,...``);
- one clip id per line, as V2A-Mapper's ``meta_data/vggsound_test_id.txt``
  (github.com/heng-hw/V2A-Mapper): the **15,446** test clips the paper evaluates, of the CSV's
  15,496 (the others could not be obtained). This is the list to reproduce the paper with.

Blank lines and ``#`` comments are skipped, and so is a header row (a first row without digits).
``split`` filters the 4-column CSV only; the other two formats are taken as given.

Clip files are found anywhere under ``folder`` (recursively, hidden entries skipped) by their
stem, whatever the suffix (video: mp4, mkv, webm, ...; audio: wav, flac, ...). A YouTube id is
11 characters of ``[A-Za-z0-9_-]`` (it may itself contain ``_``), so these names are
unambiguous and all recognised:

- ``{id}_{start:06d}``, e.g. ``glLQrEijrKg_000300.mp4``: the VGGSound repo, V2A-Mapper's ids;
- ``{id}_{start}``, e.g. ``glLQrEijrKg_300.mp4``: some download scripts;
- ``{id}_{start*1000}_{end*1000}`` (milliseconds), e.g. ``0nYltlo90Zc_147000_157000.mp4``:
  Im2Wav (``Data/examples/``) and SpecVQGAN (``data/vggsound/``);
- ``{id}_{start}_{end}`` (seconds), e.g. ``glLQrEijrKg_300_310.mp4``.

Two numbers are milliseconds when they span 1000 or more, seconds otherwise. A clip may have a
video, an audio file (e.g. ``.wav``/``.flac`` beside or below the videos), or both; it counts as
found when it has either. Two videos (or two audio files) for one clip are refused, not
guessed between. Items are named ``{id}_{start:06d}`` (the official form) whatever the files are
called.

**ImageHear** (Sheffer & Adi, "I Hear Your True Colors", arXiv 2211.03089): 101 web images in
30 classes, 2-8 per class, with no reference audio. Im2Wav ships it as ``Data/ImageHear/`` in
github.com/RoySheffer/im2wav: one flat folder of ``{class}{n}.jpg`` (``dog1.jpg`` ...
``guitar8.jpg``; the class is the stem without its trailing number). V2A-Mapper's
``meta_data/imagehear_id.txt`` lists the same 101 stems, and :data:`IMAGEHEAR_CLASSES` holds
them. Class-named subfolders (``dog/dog1.jpg``, torchvision's ImageFolder) are accepted too.
Images are checked for existence when listed, and decoded with :func:`v2a_kit.media.load_image`
on request (``validate=True``) or lazily (:meth:`ImageHearItem.load_image`).

**Generated sounds** are paired with items by name (:func:`match_generated`): a generated audio
file belongs to an item when its stem is the item's id (``glLQrEijrKg_000300.wav``, ``dog1.wav``)
or, for VGGSound, any naming variant above of the same clip; ``{name}_s{k}`` is sample ``k`` of
several (what :func:`v2a_kit.pipeline.write_outputs` writes); for class subfolders the relative
path (``dog/dog1.wav``) or a stem that is unique among the items both work.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from PIL import Image

from . import media
from .errors import ConfigError, MediaError

__all__ = ["VGGSOUND_TEST_CLIPS", "VGGSOUND_CSV_TEST_ROWS", "IMAGEHEAR_CLASSES",
           "IMAGEHEAR_NUM_IMAGES", "IMAGEHEAR_NUM_CLASSES", "IncompleteDatasetWarning",
           "VGGSoundItem", "ImageHearItem", "EvalSet", "GeneratedMatch", "parse_vggsound_name",
           "imagehear_ids", "load_vggsound", "load_imagehear", "match_generated", "PUBLISHED",
           "published_table"]

VGGSOUND_TEST_CLIPS = 15_446     # what the paper (and Im2Wav) evaluate
VGGSOUND_CSV_TEST_ROWS = 15_496  # test rows of the official vggsound.csv
# ImageHear as shipped by Im2Wav (Data/ImageHear/{class}{1..n}.jpg) and listed by V2A-Mapper.
IMAGEHEAR_CLASSES = MappingProxyType({
    "accordion": 3, "bass": 3, "bells": 3, "bird": 3, "bongo": 4, "car": 4, "cat": 3,
    "chicken": 3, "cow": 3, "cricket": 3, "dog": 3, "drums": 4, "duck": 4, "flute": 3, "frog": 2,
    "guitar": 8, "gun": 3, "harmonica": 2, "horse": 4, "lion": 3, "motorcycle": 4, "people": 4,
    "piano": 3, "police": 2, "rain": 4, "saxophone": 4, "sheep": 3, "train": 3, "trumpet": 3,
    "waterfall": 3})
IMAGEHEAR_NUM_IMAGES = 101
IMAGEHEAR_NUM_CLASSES = 30

_YT_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_CLIP_NAME = re.compile(r"(?P<yid>[A-Za-z0-9_-]{11})_(?P<a>\d+)(?:_(?P<b>\d+))?")
_SAMPLE = re.compile(r"(?P<base>.+)_s(?P<k>\d+)")
_SHOW = 5  # ids shown in reports
_MEDIA_EXTS = media.IMAGE_EXTS | media.AUDIO_EXTS | media.VIDEO_EXTS


class IncompleteDatasetWarning(UserWarning):
    """Some listed clips or images are missing, or the counts differ from the paper's."""


# --------------------------------------------------------------------------------- items


@dataclass(frozen=True)
class VGGSoundItem:
    """One VGGSound clip: 10 s from ``start_s`` of YouTube video ``youtube_id``.

    ``video_path`` or ``audio_path`` may be ``None`` (not both): without an audio file, the
    reference sound is the video's own track (:func:`v2a_kit.media.read_video_audio`).
    """

    youtube_id: str
    start_s: int
    label: str | None = None       # None for a bare id list
    video_path: Path | None = None
    audio_path: Path | None = None
    split: str | None = None       # "train" / "test" from vggsound.csv, else None

    @property
    def id(self) -> str:
        """``{youtube_id}_{start:06d}``, the official clip name."""
        return f"{self.youtube_id}_{self.start_s:06d}"


@dataclass(frozen=True)
class ImageHearItem:
    """One ImageHear image. ``id`` is its stem (``dog1``), or ``class/stem`` in a folder of
    class subfolders."""

    id: str
    label: str
    image_path: Path

    def load_image(self, *, min_size: int = 8) -> Image.Image:
        """The image as RGB (:func:`v2a_kit.media.load_image`); MediaError if unreadable."""
        return media.load_image(self.image_path, min_size=min_size)


@dataclass
class EvalSet(Sequence):
    """What a loader found: the items (in list order), the listed ids it did not find, and
    notes (duplicates, unlisted files). Indexes and iterates like a list of items."""

    name: str
    folder: Path
    items: list
    missing: list[str] = field(default_factory=list)
    source: Path | None = None       # the list read (vggsound.csv, an id file), if any
    notes: list[str] = field(default_factory=list)
    num_listed: int | None = None    # ids expected; default: found + missing

    def __post_init__(self):
        if self.num_listed is None:
            self.num_listed = len(self.items) + len(self.missing)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    @property
    def labels(self) -> list[str]:
        """The distinct labels of the found items, sorted."""
        return sorted({it.label for it in self.items if it.label is not None})

    def summary(self) -> str:
        """One paragraph: counts, the first few missing ids, notes."""
        what = "images" if self.items and isinstance(self.items[0], ImageHearItem) else "clips"
        num_found = self.num_listed - len(self.missing)
        head = f"{self.name}: {num_found:,} of {self.num_listed:,} listed {what} found"
        if self.labels:
            head += f" ({len(self.labels)} classes)"
        head += f" in {self.folder}"
        if self.source is not None:
            head += f" (list: {self.source})"
        parts = [head]
        if self.missing:
            parts.append(f"{len(self.missing):,} missing: {_first(self.missing)}")
        return "; ".join(parts + self.notes)


@dataclass
class GeneratedMatch:
    """Generated sounds paired with dataset items by name (:func:`match_generated`).

    Attributes:
        pairs: (item, audio path), in item order; several per item when several samples each.
        unmatched: generated audio files whose names belong to no item.
        missing: items without any generated file.
    """

    pairs: list[tuple[object, Path]]
    unmatched: list[Path]
    missing: list

    def summary(self) -> str:
        num_items = len({item.id for item, _ in self.pairs})
        text = (f"{len(self.pairs):,} generated files matched {num_items:,} of "
                f"{num_items + len(self.missing):,} items")
        if self.missing:
            text += f"; items without sound: {_first([it.id for it in self.missing])}"
        if self.unmatched:
            text += (f"; {len(self.unmatched):,} files matched no item: "
                     f"{_first([p.name for p in self.unmatched])}")
        return text


def _first(names: Sequence[str], n: int = _SHOW) -> str:
    more = f" (+{len(names) - n:,} more)" if len(names) > n else ""
    return ", ".join(names[:n]) + more


# ------------------------------------------------------------------------------ VGGSound


def parse_vggsound_name(name: str) -> tuple[str, int] | None:
    """``(youtube_id, start_seconds)`` from a clip name or file name in any naming variant of
    the module docstring (a media suffix is ignored), or ``None`` if it is not one.

    >>> parse_vggsound_name("0nYltlo90Zc_147000_157000.mp4")
    ('0nYltlo90Zc', 147)
    """
    name = PurePosixPath(str(name)).name
    if PurePosixPath(name).suffix.lower() in _MEDIA_EXTS:
        name = name[: -len(PurePosixPath(name).suffix)]
    m = _CLIP_NAME.fullmatch(name)
    if m is None:
        return None
    a = int(m["a"])
    if m["b"] is None:
        return m["yid"], a
    b = int(m["b"])
    if b - a >= 1000:  # milliseconds; a clip spans 10 s
        return (m["yid"], a // 1000) if a % 1000 == 0 else None
    return (m["yid"], a) if b > a else None


def _read_text_rows(path: Path, what: str, header: bool = False) -> list[tuple[int, list[str]]]:
    """(line number, stripped fields) of a CSV / id list, skipping blanks and # comments, and
    with ``header``, a first row without digits."""
    if not path.is_file():
        raise MediaError(f"{path}: no such file; expected {what}")
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            for fields in reader:
                fields = [x.strip() for x in fields]
                if not any(fields) or fields[0].startswith("#"):
                    continue
                rows.append((reader.line_num, fields))
    except (UnicodeDecodeError, csv.Error) as e:
        raise MediaError(f"{path}: cannot read it as text ({e}); expected {what}") from e
    if header and rows and not any(ch.isdigit() for ch in ",".join(rows[0][1])):
        rows = rows[1:]  # e.g. "YouTube ID,start seconds,label,split"
    if not rows:
        raise MediaError(f"{path}: no rows; expected {what}")
    return rows


_VGG_LIST = ("vggsound.csv (youtube_id,start_seconds,label,split), clip,label rows, or one clip "
             "id per line")
_NAME_HINT = ("expected a VGGSound clip name such as 'glLQrEijrKg_000300' "
              "({youtube_id}_{start:06d}) or '0nYltlo90Zc_147000_157000' "
              "({id}_{start_ms}_{end_ms})")


def _read_vggsound_list(path: Path, split: str | None) -> tuple[list[VGGSoundItem], list[str]]:
    """The listed clips (no paths yet), deduplicated, and notes."""
    rows = _read_text_rows(path, _VGG_LIST, header=True)
    num_cols = len(rows[0][1])
    if num_cols not in (1, 2, 4):
        raise MediaError(f"{path}, line {rows[0][0]}: {num_cols} columns; expected {_VGG_LIST}")
    clips, splits_seen = [], set()
    for line, fields in rows:
        where = f"{path}, line {line}"
        if len(fields) != num_cols:
            raise MediaError(f"{where}: {len(fields)} columns, but line {rows[0][0]} has "
                             f"{num_cols}; expected {_VGG_LIST}")
        if num_cols == 4:
            yid, start, label, row_split = fields
            if not _YT_ID.fullmatch(yid):
                raise MediaError(f"{where}: youtube id {yid!r} is not 11 characters of "
                                 "A-Z a-z 0-9 _ -")
            if not start.isdigit():
                raise MediaError(f"{where}: start_seconds {start!r} is not a whole number of "
                                 "seconds")
            if row_split not in ("train", "test"):
                raise MediaError(f"{where}: split {row_split!r}; expected 'train' or 'test'")
            splits_seen.add(row_split)
            if split is not None and row_split != split:
                continue
            key, label = (yid, int(start)), label
        else:
            key = parse_vggsound_name(fields[0])
            if key is None:
                raise MediaError(f"{where}: {fields[0]!r} is not a clip name; {_NAME_HINT}")
            label, row_split = (fields[1] if num_cols == 2 else None), None
        if num_cols > 1 and not label:
            raise MediaError(f"{where}: empty label")
        clips.append(VGGSoundItem(key[0], key[1], label, split=row_split))
    if not clips:
        raise MediaError(f"{path}: no rows with split {split!r} (it has "
                         f"{', '.join(sorted(splits_seen)) or 'none'})")
    unique = list({(c.youtube_id, c.start_s): c for c in reversed(clips)}.values())[::-1]
    notes = []
    if len(unique) < len(clips):
        notes.append(f"{len(clips) - len(unique):,} duplicate rows ignored (first kept)")
    return unique, notes


def _check_folder(folder, what: str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise MediaError(f"{folder}: no such directory; expected {what}")
    return folder


def load_vggsound(csv_or_ids: str | os.PathLike, folder: str | os.PathLike,
                  split: str | None = "test", require_all: bool = False, *,
                  validate: bool = False) -> EvalSet:
    """The VGGSound clips of a list that are present in ``folder``.

    Args:
        csv_or_ids: ``vggsound.csv``, a ``clip,label`` CSV, or an id list such as V2A-Mapper's
            ``vggsound_test_id.txt`` (formats in the module docstring).
        folder: searched recursively for clip videos and/or audio, named as in the module
            docstring.
        split: "test", "train", or ``None`` for every row (4-column CSV only).
        require_all: raise instead of warning when listed clips are missing.
        validate: open every found video's header (:func:`v2a_kit.media.probe_video`) now, so a
            truncated download fails here rather than halfway through an evaluation.

    Returns:
        :class:`EvalSet` of :class:`VGGSoundItem` in list order; ``.missing`` holds the ids of
        listed clips with neither video nor audio.

    Raises:
        MediaError: a missing or malformed list (naming the line), a missing folder, no listed
            clip found, two files for one clip, ``require_all`` with clips missing, or (with
            ``validate``) an unreadable video.
        ConfigError: an unknown ``split``.

    Warns:
        IncompleteDatasetWarning: some listed clips are missing (counts and the first ids).
    """
    if split not in ("test", "train", None):
        raise ConfigError(f"load_vggsound: split={split!r}; expected 'test', 'train' or None")
    source = Path(csv_or_ids)
    folder = _check_folder(folder, "the folder holding the VGGSound clips")
    clips, notes = _read_vggsound_list(source, split)

    found: dict[tuple[str, int], dict[str, list[Path]]] = {}
    num_other = 0
    for p in media.visible_files(folder):
        kind = media.media_kind(p)
        if kind not in ("video", "audio"):
            continue
        key = parse_vggsound_name(p.name)
        if key is None:
            num_other += 1
            continue
        found.setdefault(key, {"video": [], "audio": []})[kind].append(p)

    items, missing, clashes = [], [], []
    for clip in clips:
        files = found.pop((clip.youtube_id, clip.start_s), None)
        if files is None:
            missing.append(clip.id)
            continue
        clashes += [paths for paths in files.values() if len(paths) > 1]
        items.append(VGGSoundItem(clip.youtube_id, clip.start_s, clip.label,
                                  (files["video"] or [None])[0], (files["audio"] or [None])[0],
                                  clip.split))
    if clashes:
        shown = "; ".join(" and ".join(str(p.relative_to(folder)) for p in paths)
                          for paths in clashes[:3])
        raise MediaError(f"{folder}: {len(clashes)} clip(s) with two files of one kind: {shown}"
                         f"{' ...' if len(clashes) > 3 else ''}; expected at most one video and "
                         "one audio file per clip — remove or move the extra copies")
    desc = f"VGGSound {split}" if clips[0].split is not None else "VGGSound"
    num_unlisted = num_other + sum(len(paths) for f in found.values() for paths in f.values())
    if num_unlisted:
        notes.append(f"{num_unlisted:,} media files there are not in the list")
    result = EvalSet(desc, folder, items, missing, source, notes)
    if not items:
        ex = clips[0]
        raise MediaError(
            f"{folder}: none of the {len(clips):,} clips listed in {source} were found; looked "
            f"(recursively) for video or audio files named like {ex.id}.mp4, "
            f"{ex.youtube_id}_{ex.start_s}.mp4 or "
            f"{ex.youtube_id}_{ex.start_s * 1000}_{(ex.start_s + 10) * 1000}.mp4 (or .wav, "
            f".flac, ...); found {num_unlisted:,} other media files")
    if validate:
        for it in items:
            if it.video_path is not None:
                media.probe_video(it.video_path)
    if missing:
        message = result.summary()
        if clips[0].split in (None, "test"):
            message += (f". The paper evaluated {VGGSOUND_TEST_CLIPS:,} test clips "
                        "(github.com/heng-hw/V2A-Mapper meta_data/vggsound_test_id.txt); scores "
                        "on another subset are not comparable to its numbers")
        if require_all:
            raise MediaError(message)
        warnings.warn(message, IncompleteDatasetWarning, stacklevel=2)
    return result


# ------------------------------------------------------------------------------ ImageHear


def imagehear_ids() -> list[str]:
    """The 101 ImageHear image stems (``accordion1`` ... ``waterfall3``), by class."""
    return [f"{c}{i}" for c, n in IMAGEHEAR_CLASSES.items() for i in range(1, n + 1)]


def _natural(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def load_imagehear(folder: str | os.PathLike, ids: str | os.PathLike | Iterable[str] | None = None,
                   *, validate: bool = False) -> EvalSet:
    """The ImageHear images in ``folder``, labelled by class.

    Args:
        folder: Im2Wav's ``Data/ImageHear`` (flat ``{class}{n}.jpg``; the class is the stem
            without its trailing number), or a folder of class-named subfolders of images.
        ids: the image stems to expect (an id file such as V2A-Mapper's ``imagehear_id.txt``,
            or a list); ``None`` expects the 101 of :func:`imagehear_ids` and keeps any other
            image found too. Given ids restrict the result to them.
        validate: decode every image now (:func:`v2a_kit.media.load_image`); otherwise they
            are decoded when used (:meth:`ImageHearItem.load_image`).

    Returns:
        :class:`EvalSet` of :class:`ImageHearItem`, sorted by class then number; ``.missing``
        holds the expected stems not found.

    Raises:
        MediaError: a missing or image-less folder, a layout mixing loose images and class
            subfolders, an image name without a class, two images with one id, and (with
            ``validate``) an unreadable image naming its file.

    Warns:
        IncompleteDatasetWarning: not 101 images in 30 classes, or expected ids missing.
    """
    folder = _check_folder(folder, "the ImageHear folder (Im2Wav's Data/ImageHear)")
    images = [p for p in media.visible_files(folder) if media.media_kind(p) == "image"]
    if not images:
        raise MediaError(f"{folder}: no images found (recursively); expected the ImageHear "
                         f"folder ({IMAGEHEAR_NUM_IMAGES} images such as dog1.jpg, from "
                         "github.com/RoySheffer/im2wav Data/ImageHear)")
    loose = [p for p in images if p.parent == folder]
    nested = [p for p in images if p.parent != folder]
    if loose and nested:
        raise MediaError(f"{folder}: has both images ({loose[0].name}, ...) and subfolders of "
                         f"images ({nested[0].relative_to(folder).parent}/, ...); expected one "
                         "layout: flat {class}{n}.jpg files, or class-named subfolders")
    subfolders = sorted({p.relative_to(folder).parts[0] for p in nested})
    if nested and len(subfolders) == 1:
        raise MediaError(f"{folder}: all images are inside {subfolders[0]}/, which would make a "
                         f"single class; did you mean {folder / subfolders[0]}?")

    items, seen = [], {}
    for p in images:
        if loose:
            m = re.fullmatch(r"(?P<label>.*?)[ _-]?\d+", p.stem)
            label, ident = (m["label"] if m else p.stem), p.stem
            if not label:
                raise MediaError(f"{p}: no class name in {p.name!r}; expected {{class}}{{n}} "
                                 "names such as dog1.jpg")
        else:
            rel = p.relative_to(folder)
            label, ident = rel.parts[0], rel.with_suffix("").as_posix()
        if ident in seen:
            raise MediaError(f"{folder}: two images named {ident}: {seen[ident].name} and "
                             f"{p.name}; expected one image per name")
        seen[ident] = p
        items.append(ImageHearItem(ident, label, p))
    items.sort(key=lambda it: (it.label, _natural(it.id)))

    if ids is None:
        expected, source = imagehear_ids(), None
    elif isinstance(ids, (str, os.PathLike)):
        source = Path(ids)
        rows = _read_text_rows(source, "one image id per line")
        expected = [_strip_suffix(fields[0]) for _, fields in rows]
    else:
        expected, source = [_strip_suffix(str(i)) for i in ids], None
    stems = {PurePosixPath(it.id).name for it in items}
    missing = [e for e in expected if e not in stems and e not in seen]
    wanted = set(expected)
    unlisted = [it.id for it in items if it.id not in wanted
                and PurePosixPath(it.id).name not in wanted]
    notes = []
    if unlisted and ids is None:
        notes.append(f"{len(unlisted):,} images not in the list kept: {_first(unlisted)}")
    elif unlisted:
        notes.append(f"{len(unlisted):,} images not in the list left out")
        items = [it for it in items if it.id not in set(unlisted)]
    result = EvalSet("ImageHear", folder, items, missing, source, notes, len(expected))
    if validate:
        for it in items:
            it.load_image()
    num_classes = len(result.labels)
    if missing or len(items) != IMAGEHEAR_NUM_IMAGES or num_classes != IMAGEHEAR_NUM_CLASSES:
        warnings.warn(f"{result.summary()}; the paper's ImageHear has {IMAGEHEAR_NUM_IMAGES} "
                      f"images in {IMAGEHEAR_NUM_CLASSES} classes, this folder gives "
                      f"{len(items)} in {num_classes}", IncompleteDatasetWarning, stacklevel=2)
    return result


def _strip_suffix(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return name[: -len(suffix)] if suffix.lower() in _MEDIA_EXTS else name


# ----------------------------------------------------------------------------- matching


def _item_keys(item) -> list[tuple]:
    ident = getattr(item, "id", None)
    if not isinstance(ident, str) or not ident:
        raise TypeError(f"match_generated: {type(item).__name__} has no string .id; expected "
                        "VGGSoundItem or ImageHearItem")
    keys = [("id", ident)]
    if isinstance(item, VGGSoundItem):
        keys.append(("clip", item.youtube_id, item.start_s))
    return keys


def match_generated(items: Iterable, generated_folder: str | os.PathLike) -> GeneratedMatch:
    """Pair the audio files under ``generated_folder`` with dataset items, by name.

    A file belongs to an item when (first rule that applies):

    1. its path relative to the folder, without suffix, or its stem, is the item's ``id``
       (``glLQrEijrKg_000300.wav``, ``dog1.wav``, ``dog/dog1.wav``);
    2. for VGGSound, its stem is any recognised name of the same clip
       (``glLQrEijrKg_300000_310000.flac``);
    3. its stem is the last part of exactly one item's id (``dog1.wav`` for ``dog/dog1``);
    4. the same, after removing a sample suffix ``_s{k}`` (``dog1_s0.wav``, ``dog1_s1.wav``).

    Args:
        items: an :class:`EvalSet` or items with an ``id`` (VGGSound or ImageHear).
        generated_folder: searched recursively for audio files (hidden entries skipped).

    Returns:
        :class:`GeneratedMatch`.

    Raises:
        MediaError: a missing folder or one without audio, two files for the same item and
            sample, duplicate item ids, or no file matching any item.
    """
    items = list(items)
    folder = _check_folder(generated_folder, "a folder of generated audio")
    lookup: dict[tuple, int] = {}
    for i, item in enumerate(items):
        for key in _item_keys(item):
            if lookup.setdefault(key, i) != i:
                raise MediaError(f"match_generated: items #{lookup[key]} and #{i} share the id "
                                 f"{item.id!r}; expected unique ids")
    stem_owner: dict[str, int | None] = {}
    for i, item in enumerate(items):
        stem = PurePosixPath(item.id).name
        stem_owner[stem] = i if stem not in stem_owner else None  # None: ambiguous

    def owner(name: str) -> int | None:
        if ("id", name) in lookup:
            return lookup[("id", name)]
        clip = parse_vggsound_name(name)
        if clip is not None and ("clip", *clip) in lookup:
            return lookup[("clip", *clip)]
        return stem_owner.get(name)

    files = [p for p in media.visible_files(folder) if media.media_kind(p) == "audio"]
    if not files:
        raise MediaError(f"{folder}: no audio files found (recursively); expected generated "
                         f"sounds named after the items, e.g. {_example(items)}")
    taken: dict[tuple[int, int], Path] = {}
    unmatched = []
    for p in files:
        rel = p.relative_to(folder).with_suffix("").as_posix()
        hit = None
        for name in (rel, p.stem):
            if (i := owner(name)) is not None:
                hit = (i, -1)
                break
        if hit is None and (m := _SAMPLE.fullmatch(p.stem)):
            rel_base = rel[: len(rel) - len(p.stem)] + m["base"]
            for name in (rel_base, m["base"]):
                if (i := owner(name)) is not None:
                    hit = (i, int(m["k"]))
                    break
        if hit is None:
            unmatched.append(p)
        elif hit in taken:
            raise MediaError(f"{folder}: {taken[hit].relative_to(folder)} and "
                             f"{p.relative_to(folder)} are both the sound of {items[hit[0]].id}"
                             f"{'' if hit[1] < 0 else f' (sample {hit[1]})'}; expected one file "
                             "per item and sample")
        else:
            taken[hit] = p
    if not taken:
        raise MediaError(f"{folder}: none of its {len(files):,} audio files "
                         f"({_first([p.name for p in files], 3)}) matches an item; expected "
                         f"names such as {_example(items)} (the item id, optionally _s<k>)")
    pairs = [(items[i], taken[(i, k)]) for i, k in sorted(taken)]
    done = {i for i, _ in taken}
    return GeneratedMatch(pairs, unmatched, [it for i, it in enumerate(items) if i not in done])


def _example(items: list) -> str:
    return f"{items[0].id}.wav" if items else "<id>.wav"


# ------------------------------------------------------------------------ published table

_SOURCE = ("V2A-Mapper (Wang et al., AAAI 2024, arXiv 2308.09300), main results table as "
           "published in the official repository github.com/heng-hw/V2A-Mapper (docs/table.png)")


def _row(fd, fad, cs_vggsound, cs_imagehear, params_m, inference_s):
    return MappingProxyType({"fd": fd, "fad": fad, "cs_vggsound": cs_vggsound,
                             "cs_imagehear": cs_imagehear, "params_m": params_m,
                             "inference_s": inference_s, "source": _SOURCE})


# FD: PANNs CNN14 features, FAD: VGGish, CS: 100 x cosine(Wav2CLIP audio, CLIP ViT-B/32 image);
# FD/FAD on VGGSound test (15,446 clips). params_m: trainable parameters in millions;
# inference_s: the paper's reported inference time in seconds, on its own hardware and setting.
# None: not given in our source for that method (rendered "–").
PUBLISHED = MappingProxyType({
    "V2A-Mapper": _row(24.168, 0.841, 9.720, 11.950, 48.83, 35.45),
    "Im2Wav": _row(51.500, 6.005, 7.827, 9.843, 360.40, 864.12),
    "CLIPSonic-IQ": _row(27.124, 3.495, 7.251, 11.392, None, None),
})

_COLUMNS = (("fd", "FD ↓", ".3f"), ("fad", "FAD ↓", ".3f"), ("cs_vggsound", "CS VGGSound ↑", ".3f"),
            ("cs_imagehear", "CS ImageHear ↑", ".3f"), ("params_m", "Params (M) ↓", ".2f"),
            ("inference_s", "Inference (s) ↓", ".2f"))


def published_table(extra: dict[str, dict] | None = None, *, with_source: bool = True) -> str:
    """The published results as a markdown table, with optional rows of your own below.

    Args:
        extra: ``{name: {"fd": ..., "cs_vggsound": ..., ...}}`` with any of the keys of
            :data:`PUBLISHED`'s rows (absent or ``None`` shows "–"), e.g. a reproduction's scores.
        with_source: append a line citing where the published numbers come from.
    """
    rows = dict(PUBLISHED)
    for name, values in (extra or {}).items():
        unknown = set(values) - {k for k, _, _ in _COLUMNS} - {"source"}
        if unknown:
            raise ConfigError(f"published_table: row {name!r} has unknown keys {sorted(unknown)}; "
                              f"expected some of {[k for k, _, _ in _COLUMNS]}")
        rows[name] = values
    lines = ["| Method | " + " | ".join(title for _, title, _ in _COLUMNS) + " |",
             "|---|" + "---:|" * len(_COLUMNS)]
    for name, values in rows.items():
        cells = [("–" if values.get(k) is None else format(values[k], fmt))
                 for k, _, fmt in _COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if with_source:
        lines += ["", f"Published rows: {_SOURCE}."]
    return "\n".join(lines) + "\n"
