"""A folder of one's own image-sound pairs, checked whole before anything is embedded.

A training folder holds frames and sounds that share a file stem (``dog_01.jpg`` with
``dog_01.wav``; ``frames/0001.png`` with ``audio/0001.wav`` — the stem is the name without
folder or suffix, what :func:`v2a_kit.train.make_pairs` pairs by). :func:`paired_files` lists
it with :func:`v2a_kit.media.list_media`, opens every file with the kit's own readers
(:func:`~v2a_kit.media.load_image`, :func:`~v2a_kit.media.load_audio`) and returns the pairs'
paths in stem order — or refuses the folder as a whole with one
:class:`~v2a_kit.errors.MediaError` that names every file at fault: a frame without a sound or a
sound without a frame, two files of one kind for a stem, a file that cannot be read, a video
(a pair is one frame and one sound; take a frame and the soundtrack out of it). Nothing is
embedded before the whole folder passes, so a bad file never leaves a half-built set.

The paths then go to :func:`v2a_kit.embeddings.extract_embeddings` (the CLIP side and the CLAP
side) and :func:`v2a_kit.train.make_pairs` with ``by="stem"``, as notebook 07 does.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MediaError

__all__ = ["PairedFiles", "paired_files"]

_SHOW = 20   # files named per kind of problem in the refusal


@dataclass(frozen=True)
class PairedFiles:
    """The checked pairs of a folder: ``images[i]`` and ``audio[i]`` share a stem."""

    folder: Path
    images: list[Path]
    audio: list[Path]
    skipped: list[Path] = field(default_factory=list)   # neither media kind (e.g. notes.txt)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def stems(self) -> list[str]:
        return [p.stem for p in self.images]

    def summary(self) -> str:
        skipped = ""
        if self.skipped:
            names = ", ".join(str(p.relative_to(self.folder)) for p in self.skipped[:5])
            more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            skipped = (f"; skipped {len(self.skipped)} file(s) that are neither images nor "
                       f"sounds: {names}{more}")
        return (f"{self.folder}: {len(self)} pairs of an image and a sound, every file "
                f"read{skipped}")


def _named(paths, root: Path) -> str:
    paths = list(paths)
    names = ", ".join(str(Path(p).relative_to(root)) for p in paths[:_SHOW])
    return names + (f" and {len(paths) - _SHOW} more" if len(paths) > _SHOW else "")


def paired_files(folder: str | os.PathLike, *, min_image_size: int = 8,
                 check_rate: int = 16000) -> PairedFiles:
    """List and check a folder of image-sound pairs (searched recursively, hidden files skipped).

    Args:
        folder: the folder of frames (png, jpg, webp, ...) and sounds (wav, flac, mp3, ...).
        min_image_size: the smallest short side an image may have, in pixels.
        check_rate: the rate each sound is decoded at to check it (any rate is accepted).

    Returns:
        :class:`PairedFiles`, the pairs in stem order.

    Raises:
        MediaError: no such folder; no images or no sounds in it; or, all named in one message,
            files without a partner, stems with two files of one kind, unreadable files
            (the reader's reason for each) and videos.
    """
    from .. import media

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise MediaError(f"{root}: no such folder; expected a folder of frames and sounds "
                         "paired by file name (dog_01.jpg with dog_01.wav)")
    visible = media.visible_files(root)
    kinds = {p: media.media_kind(p) for p in visible}
    by_kind: dict[str, dict[str, list[Path]]] = {"image": defaultdict(list),
                                                 "audio": defaultdict(list)}
    for p, k in kinds.items():
        if k in by_kind:
            by_kind[k][p.stem].append(p)
    problems = []
    videos = [p for p, k in kinds.items() if k == "video"]
    if videos:
        problems.append(f"videos, which a pair does not take (a pair is one frame and one "
                        f"sound: save a frame and the soundtrack under one name): "
                        f"{_named(videos, root)}")
    for kind in ("image", "audio"):
        if not by_kind[kind]:
            problems.append(f"no {'images' if kind == 'image' else 'sounds'} at all")
        twice = [p for files in by_kind[kind].values() if len(files) > 1 for p in files]
        if twice:
            problems.append(f"two {kind} files for one name (which one pairs?): "
                            f"{_named(twice, root)}")
    images, sounds = by_kind["image"], by_kind["audio"]
    for kind, mine, other in (("images", images, sounds), ("sounds", sounds, images)):
        alone = [p for stem in sorted(set(mine) - set(other)) for p in mine[stem]]
        if alone:
            partner = "a sound" if kind == "images" else "an image"
            problems.append(f"{kind} without {partner} of the same name: "
                            f"{_named(alone, root)}")
    unreadable = []
    for p, k in kinds.items():
        try:
            if k == "image":
                media.load_image(p, min_size=min_image_size)
            elif k == "audio":
                media.load_audio(p, check_rate)
        except MediaError as e:
            unreadable.append(f"  {e}")
    if unreadable:
        problems.append(f"{len(unreadable)} file(s) that cannot be used:\n" +
                        "\n".join(unreadable[:_SHOW]) +
                        (f"\n  and {len(unreadable) - _SHOW} more" if len(unreadable) > _SHOW
                         else ""))
    if problems:
        raise MediaError(f"{root}: refused as a folder of pairs, nothing was loaded:\n- " +
                         "\n- ".join(problems))
    stems = sorted(images)
    return PairedFiles(root, [images[s][0] for s in stems], [sounds[s][0] for s in stems],
                       [p for p, k in kinds.items() if k not in ("image", "audio")])
