"""The pieces the dataset loaders share: the item and result types (:class:`VGGSoundItem`,
:class:`ImageHearItem`, :class:`EvalSet`, :class:`GeneratedMatch`), the
:class:`IncompleteDatasetWarning`, and the small readers and checks used by more than one loader."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .. import media
from ..errors import MediaError, first_names

MEDIA_EXTS = media.IMAGE_EXTS | media.AUDIO_EXTS | media.VIDEO_EXTS


class IncompleteDatasetWarning(UserWarning):
    """Some listed clips or images are missing, or the counts differ from the paper's."""


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
            parts.append(f"{len(self.missing):,} missing: {first_names(self.missing)}")
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
            text += f"; items without sound: {first_names([it.id for it in self.missing])}"
        if self.unmatched:
            text += (f"; {len(self.unmatched):,} files matched no item: "
                     f"{first_names([p.name for p in self.unmatched])}")
        return text


def read_text_rows(path: Path, what: str, header: bool = False) -> list[tuple[int, list[str]]]:
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


def check_folder(folder, what: str) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise MediaError(f"{folder}: no such directory; expected {what}")
    return folder
