"""ImageHear: its 101 images in 30 classes (:data:`IMAGEHEAR_CLASSES`,
:func:`imagehear_ids`) and :func:`load_imagehear`. The accepted layouts are described in the
:mod:`v2a_kit.datasets` package docstring."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from .. import media
from ..errors import MediaError, first_names
from ..errors import warn as kit_warn
from .items import (
    MEDIA_EXTS,
    EvalSet,
    ImageHearItem,
    IncompleteDatasetWarning,
    check_folder,
    read_text_rows,
)

# ImageHear as shipped by Im2Wav (Data/ImageHear/{class}{1..n}.jpg) and listed by V2A-Mapper.
IMAGEHEAR_CLASSES = MappingProxyType({
    "accordion": 3, "bass": 3, "bells": 3, "bird": 3, "bongo": 4, "car": 4, "cat": 3,
    "chicken": 3, "cow": 3, "cricket": 3, "dog": 3, "drums": 4, "duck": 4, "flute": 3, "frog": 2,
    "guitar": 8, "gun": 3, "harmonica": 2, "horse": 4, "lion": 3, "motorcycle": 4, "people": 4,
    "piano": 3, "police": 2, "rain": 4, "saxophone": 4, "sheep": 3, "train": 3, "trumpet": 3,
    "waterfall": 3})
IMAGEHEAR_NUM_IMAGES = 101
IMAGEHEAR_NUM_CLASSES = 30


def imagehear_ids() -> list[str]:
    """The 101 ImageHear image stems (``accordion1`` ... ``waterfall3``), by class."""
    return [f"{c}{i}" for c, n in IMAGEHEAR_CLASSES.items() for i in range(1, n + 1)]


def _natural(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _imagehear_images(folder: Path) -> tuple[list[Path], bool]:
    """The images under ``folder`` and whether they lie flat in it (else in class subfolders);
    :class:`MediaError` on no image, a mixed layout, or a single class subfolder."""
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
    return images, bool(loose)


def _imagehear_items(folder: Path, images: list[Path], flat: bool
                     ) -> tuple[list[ImageHearItem], dict[str, Path]]:
    """One item per image, labelled by its name (flat) or subfolder, sorted by class then
    number; also id -> file. :class:`MediaError` on a name without a class or a repeated id."""
    items, seen = [], {}
    for p in images:
        if flat:
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
    return items, seen


def _imagehear_expected(ids) -> tuple[list[str], Path | None]:
    """The expected image stems (the 101 by default, an id file's first column, or a list)
    and the id file they came from, if any."""
    if ids is None:
        return imagehear_ids(), None
    if isinstance(ids, (str, os.PathLike)):
        source = Path(ids)
        rows = read_text_rows(source, "one image id per line")
        return [_strip_suffix(fields[0]) for _, fields in rows], source
    return [_strip_suffix(str(i)) for i in ids], None


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
    folder = check_folder(folder, "the ImageHear folder (Im2Wav's Data/ImageHear)")
    images, flat = _imagehear_images(folder)
    items, seen = _imagehear_items(folder, images, flat)
    expected, source = _imagehear_expected(ids)
    stems = {PurePosixPath(it.id).name for it in items}
    missing = [e for e in expected if e not in stems and e not in seen]
    wanted = set(expected)
    unlisted = [it.id for it in items if it.id not in wanted
                and PurePosixPath(it.id).name not in wanted]
    notes = []
    if unlisted and ids is None:
        notes.append(f"{len(unlisted):,} images not in the list kept: {first_names(unlisted)}")
    elif unlisted:
        notes.append(f"{len(unlisted):,} images not in the list left out")
        items = [it for it in items if it.id not in set(unlisted)]
    result = EvalSet("ImageHear", folder, items, missing, source, notes, len(expected))
    if validate:
        for it in items:
            it.load_image()
    num_classes = len(result.labels)
    if missing or len(items) != IMAGEHEAR_NUM_IMAGES or num_classes != IMAGEHEAR_NUM_CLASSES:
        kit_warn(f"{result.summary()}; the paper's ImageHear has {IMAGEHEAR_NUM_IMAGES} "
                 f"images in {IMAGEHEAR_NUM_CLASSES} classes, this folder gives "
                 f"{len(items)} in {num_classes}", IncompleteDatasetWarning)
    return result


def _strip_suffix(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return name[: -len(suffix)] if suffix.lower() in MEDIA_EXTS else name
