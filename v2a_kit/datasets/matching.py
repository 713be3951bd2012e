"""Generated sounds paired with dataset items by name: :func:`match_generated`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .. import media
from ..errors import MediaError, first_names
from .items import GeneratedMatch, VGGSoundItem, check_folder
from .vggsound import parse_vggsound_name

_SAMPLE = re.compile(r"(?P<base>.+)_s(?P<k>\d+)")


def _item_keys(item) -> list[tuple]:
    ident = getattr(item, "id", None)
    if not isinstance(ident, str) or not ident:
        raise TypeError(f"match_generated: {type(item).__name__} has no string .id; expected "
                        "VGGSoundItem or ImageHearItem")
    keys = [("id", ident)]
    if isinstance(item, VGGSoundItem):
        keys.append(("clip", item.youtube_id, item.start_s))
    return keys


def _owner_lookup(items: list):
    """A function name -> index of the item it names (an id, a VGGSound clip name, or the
    last part of exactly one item's id), or ``None``; :class:`MediaError` on duplicate ids."""
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
    return owner


def _file_owner(p: Path, folder: Path, owner) -> tuple[int, int] | None:
    """(item index, sample k or -1) of the file ``p``, by the rules of :func:`match_generated`;
    ``None`` when it names no item."""
    rel = p.relative_to(folder).with_suffix("").as_posix()
    for name in (rel, p.stem):
        if (i := owner(name)) is not None:
            return (i, -1)
    if m := _SAMPLE.fullmatch(p.stem):
        rel_base = rel[: len(rel) - len(p.stem)] + m["base"]
        for name in (rel_base, m["base"]):
            if (i := owner(name)) is not None:
                return (i, int(m["k"]))
    return None


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
    folder = check_folder(generated_folder, "a folder of generated audio")
    owner = _owner_lookup(items)
    files = [p for p in media.visible_files(folder) if media.media_kind(p) == "audio"]
    if not files:
        raise MediaError(f"{folder}: no audio files found (recursively); expected generated "
                         f"sounds named after the items, e.g. {_example(items)}")
    taken: dict[tuple[int, int], Path] = {}
    unmatched = []
    for p in files:
        hit = _file_owner(p, folder, owner)
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
                         f"({first_names([p.name for p in files], 3)}) matches an item; expected "
                         f"names such as {_example(items)} (the item id, optionally _s<k>)")
    pairs = [(items[i], taken[(i, k)]) for i, k in sorted(taken)]
    done = {i for i, _ in taken}
    return GeneratedMatch(pairs, unmatched, [it for i, it in enumerate(items) if i not in done])


def _example(items: list) -> str:
    return f"{items[0].id}.wav" if items else "<id>.wav"
