"""VGGSound: clip names in every naming variant (:func:`parse_vggsound_name`), the accepted
lists (``vggsound.csv``, ``clip,label`` rows, id lists) and :func:`load_vggsound`. The formats
are described in the :mod:`v2a_kit.datasets` package docstring."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from .. import media
from ..errors import ConfigError, MediaError
from ..errors import warn as kit_warn
from .items import (
    MEDIA_EXTS,
    EvalSet,
    IncompleteDatasetWarning,
    VGGSoundItem,
    check_folder,
    read_text_rows,
)

VGGSOUND_TEST_CLIPS = 15_446     # what the paper (and Im2Wav) evaluate
VGGSOUND_CSV_TEST_ROWS = 15_496  # test rows of the official vggsound.csv
_YT_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_CLIP_NAME = re.compile(r"(?P<yid>[A-Za-z0-9_-]{11})_(?P<a>\d+)(?:_(?P<b>\d+))?")


def parse_vggsound_name(name: str) -> tuple[str, int] | None:
    """``(youtube_id, start_seconds)`` from a clip name or file name in any naming variant of
    the module docstring (a media suffix is ignored), or ``None`` if it is not one.

    >>> parse_vggsound_name("0nYltlo90Zc_147000_157000.mp4")
    ('0nYltlo90Zc', 147)
    """
    name = PurePosixPath(str(name)).name
    if PurePosixPath(name).suffix.lower() in MEDIA_EXTS:
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


_VGG_LIST = ("vggsound.csv (youtube_id,start_seconds,label,split), clip,label rows, or one clip "
             "id per line")
_NAME_HINT = ("expected a VGGSound clip name such as 'glLQrEijrKg_000300' "
              "({youtube_id}_{start:06d}) or '0nYltlo90Zc_147000_157000' "
              "({id}_{start_ms}_{end_ms})")


def _read_vggsound_list(path: Path, split: str | None) -> tuple[list[VGGSoundItem], list[str]]:
    """The listed clips (no paths yet), deduplicated, and notes."""
    rows = read_text_rows(path, _VGG_LIST, header=True)
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


def _index_clip_files(folder: Path) -> tuple[dict[tuple[str, int], dict[str, list[Path]]], int]:
    """(youtube id, start s) -> {"video": [...], "audio": [...]} for the media files under
    ``folder`` named like a VGGSound clip, and the number of other media files."""
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
    return found, num_other


def _match_clips(folder: Path, clips: list, found: dict) -> tuple[list[VGGSoundItem], list[str]]:
    """The listed clips found (popped from ``found``) as items, and the ids of those not;
    :class:`MediaError` if a clip has two files of one kind."""
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
    return items, missing


def _none_found(folder: Path, source: Path, clips: list, num_unlisted: int) -> MediaError:
    """The error for a folder holding none of the listed clips: the names looked for."""
    ex = clips[0]
    return MediaError(
        f"{folder}: none of the {len(clips):,} clips listed in {source} were found; looked "
        f"(recursively) for video or audio files named like {ex.id}.mp4, "
        f"{ex.youtube_id}_{ex.start_s}.mp4 or "
        f"{ex.youtube_id}_{ex.start_s * 1000}_{(ex.start_s + 10) * 1000}.mp4 (or .wav, "
        f".flac, ...); found {num_unlisted:,} other media files")


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
    folder = check_folder(folder, "the folder holding the VGGSound clips")
    clips, notes = _read_vggsound_list(source, split)

    found, num_other = _index_clip_files(folder)
    items, missing = _match_clips(folder, clips, found)
    desc = f"VGGSound {split}" if clips[0].split is not None else "VGGSound"
    num_unlisted = num_other + sum(len(paths) for f in found.values() for paths in f.values())
    if num_unlisted:
        notes.append(f"{num_unlisted:,} media files there are not in the list")
    result = EvalSet(desc, folder, items, missing, source, notes)
    if not items:
        raise _none_found(folder, source, clips, num_unlisted)
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
        kit_warn(message, IncompleteDatasetWarning)
    return result
