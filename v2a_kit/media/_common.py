"""What the media readers share: the file-suffix sets, :func:`media_kind`, and the check that an
input path is an existing, non-empty file (:func:`existing_file`)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MediaError

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff",
                        ".ppm", ".pgm", ".pbm", ".pnm"})
AUDIO_EXTS = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                        ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64", ".m4a", ".aac"})
VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})
EXTS = {"image": IMAGE_EXTS, "audio": AUDIO_EXTS, "video": VIDEO_EXTS}


def media_kind(path: str | os.PathLike) -> str | None:
    """``"image"``, ``"audio"``, ``"video"`` or ``None``, from the file suffix alone."""
    suffix = Path(path).suffix.lower()
    return next((kind for kind, exts in EXTS.items() if suffix in exts), None)


def existing_file(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file; expected {what} file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file (0 bytes); expected {what} file")
    return path
