"""Images: :func:`load_image` and :func:`load_images` turn a path, a PIL image or an array into
an RGB ``PIL.Image.Image``, or refuse it with a :class:`~v2a_kit.errors.MediaError`."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import MediaError
from ._common import existing_file

# What Pillow raises for broken files: OSError ("image file is truncated", UnidentifiedImageError),
# SyntaxError ("broken PNG file"), and a few lower-level ones from its decoders.
_IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
                 Image.DecompressionBombError)


def load_image(x, name: str | None = None, *, min_size: int = 8) -> Image.Image:
    """Load one image as RGB.

    Transparent images (RGBA, LA, PA, P or L with a transparent colour) are composited on white:
    CLIP was trained on opaque web images, and dropping alpha instead would expose whatever
    colour the transparent pixels happen to store (often black). CMYK uses Pillow's conversion
    (embedded ICC profiles are ignored, as CLIP preprocessing does). 16-bit images (``I;16``)
    are scaled to 8 bits (``/257``), not clipped. Files read from a path are turned upright by
    their EXIF orientation, as image viewers show them.

    Args:
        x: a path; a PIL image in any mode; or a numpy array (h, w), (h, w, 1), (h, w, 3) or
            (h, w, 4), uint8 or float in [0, 1].
        name: how error messages name the input (default: the path, or a description).
        min_size: smallest accepted short side, in pixels.

    Returns:
        ``PIL.Image.Image`` in mode ``"RGB"``, size (w, h) with ``min(w, h) >= min_size``.

    Raises:
        MediaError: unreadable, truncated, empty or zero-size image; a bad array; too small.
    """
    if isinstance(x, (str, os.PathLike)):
        label = str(name or x)
        im = _open_image_file(existing_file(x, "an image"), label)
    elif isinstance(x, Image.Image):
        label = name or f"PIL image ({x.mode}, {x.width}x{x.height})"
        try:
            x.load()  # a lazily opened image may still turn out truncated
        except _IMAGE_ERRORS as e:
            raise MediaError(f"{label}: cannot decode image ({e})") from e
        im = x
    elif isinstance(x, np.ndarray):
        label = name or f"image array of shape {x.shape}"
        im = _array_to_image(x, label)
    else:
        raise MediaError(f"{name or 'image'}: got {type(x).__name__}; expected a path, "
                         "a PIL image or a numpy array")
    if im.width == 0 or im.height == 0:
        raise MediaError(f"{label}: zero-size image ({im.width}x{im.height})")
    if min(im.size) < min_size:
        raise MediaError(f"{label}: image is {im.width}x{im.height}; expected at least "
                         f"{min_size} px on the short side")
    return _to_rgb(im, label)


def load_images(items: Iterable, *, min_size: int = 8) -> list[Image.Image]:
    """:func:`load_image` over paths, PIL images or arrays; errors name ``"image #i"`` (0-based)
    unless the item is a path. Returns a list of RGB images."""
    return [load_image(x, None if isinstance(x, (str, os.PathLike)) else f"image #{i}",
                       min_size=min_size) for i, x in enumerate(items)]


def _open_image_file(path: Path, label: str) -> Image.Image:
    # Pillow's ImageFile.LOAD_TRUNCATED_IMAGES must stay False (its default) for load() to
    # raise on truncated data instead of filling the rest with grey.
    try:
        with Image.open(path) as f:
            f.load()
            return ImageOps.exif_transpose(f)  # a copy, detached from the file
    except _IMAGE_ERRORS as e:
        raise MediaError(f"{label}: cannot read image ({e}); expected a complete image file "
                         "(PNG, JPEG, WebP, TIFF, ...)") from e


def _array_to_image(a: np.ndarray, label: str) -> Image.Image:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise MediaError(f"{label}: array of shape {a.shape}; expected (h, w), (h, w, 1), "
                         "(h, w, 3) or (h, w, 4)")
    if a.size == 0:
        raise MediaError(f"{label}: zero-size image array of shape {a.shape}")
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise MediaError(f"{label}: array contains NaN or inf; expected floats in [0, 1]")
        lo, hi = float(a.min()), float(a.max())
        if lo < 0 or hi > 1:
            raise MediaError(f"{label}: float values in [{lo:g}, {hi:g}]; expected [0, 1] "
                             "(divide 0-255 data by 255, or pass uint8)")
        a = np.round(a * 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise MediaError(f"{label}: array of dtype {a.dtype}; expected uint8 or float in [0, 1]")
    return Image.fromarray(np.ascontiguousarray(a))


def _to_rgb(im: Image.Image, label: str) -> Image.Image:
    mode = im.mode
    if mode == "RGB":
        return im
    if mode.startswith("I;16"):
        return _gray_to_rgb(np.asarray(im).astype(np.float32) / 257.0)
    if mode == "I":
        # Pillow's 32-bit integer mode: 8-bit data converted up, or 16-bit data (older Pillow
        # opened 16-bit PNGs as "I"). Decide by range; anything else has no agreed meaning.
        a = np.asarray(im)
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 65535:
            raise MediaError(f"{label}: mode I values in [{lo}, {hi}]; expected 0..255 or "
                             "0..65535")
        return _gray_to_rgb(a / 257.0 if hi > 255 else a)
    if mode == "F":
        a = np.asarray(im)
        lo, hi = float(a.min()), float(a.max())
        if not np.isfinite([lo, hi]).all() or lo < 0 or hi > 255:
            raise MediaError(f"{label}: mode F values in [{lo:g}, {hi:g}]; expected [0, 1] "
                             "or [0, 255]")
        return _gray_to_rgb(a * 255.0 if hi <= 1 else a)
    if "A" in mode or mode.endswith("a") or "transparency" in im.info:
        try:
            rgba = im.convert("RGBA")
        except ValueError as e:
            raise MediaError(f"{label}: unsupported image mode {mode} ({e})") from e
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return im.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV
    except ValueError as e:
        raise MediaError(f"{label}: unsupported image mode {mode} ({e})") from e


def _gray_to_rgb(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8)).convert("RGB")
