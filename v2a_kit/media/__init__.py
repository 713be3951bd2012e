"""Reading images, video frames and audio; resampling; frame sampling.

Everything here turns a user's file or array into what the encoders expect, or refuses it with
a :class:`~v2a_kit.errors.MediaError` that names the input (its path, or ``"image #3"``) and says
what was expected. Nothing is quietly repaired: a truncated file, a silent clip or NaN samples
are errors, not zeros.

Conventions:
    - images come back as ``PIL.Image.Image`` in mode ``"RGB"`` (what CLIP preprocessing takes);
    - audio comes back as float32 ``(samples,)`` mono, or ``(channels, samples)`` with
      ``mono=False``. Arrays given *to* this module are ``(samples,)`` or ``(channels, samples)``
      too; soundfile's ``(samples, channels)`` must be transposed (``.T``) first;
    - video is read with PyAV, audio with soundfile (PyAV for what libsndfile cannot read, e.g.
      m4a/aac or the audio track of a video), resampling with soxr through librosa.

The package is split by medium; every public name is importable from ``v2a_kit.media`` itself:
    - :mod:`v2a_kit.media.images`: :func:`load_image`, :func:`load_images`;
    - :mod:`v2a_kit.media.audio`: :func:`load_audio`, :func:`resample` (``RESAMPLERS``,
      ``DEFAULT_RESAMPLER``), :func:`fit_length`, :func:`write_wav`;
    - :mod:`v2a_kit.media.video`: :class:`VideoInfo`, :func:`probe_video`,
      :func:`sample_video_frames`, :func:`read_video_frames`, :func:`read_video_audio`,
      :func:`mux_audio_into_video`, :func:`write_video`;
    - :mod:`v2a_kit.media._common`: the extension sets (``IMAGE_EXTS``, ``AUDIO_EXTS``,
      ``VIDEO_EXTS``), :func:`media_kind` and the existence check the readers share;
    - this package's ``__init__``: listing folders, :func:`visible_files` and :func:`list_media`.
      The audio and video readers are imported on first use (they load PyAV and soundfile).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import MediaError
from ..errors import warn as kit_warn
from ._common import AUDIO_EXTS, EXTS, IMAGE_EXTS, VIDEO_EXTS, media_kind
from .images import load_image, load_images

__all__ = ["IMAGE_EXTS", "AUDIO_EXTS", "VIDEO_EXTS", "media_kind", "load_image", "load_images",
           "load_audio", "resample", "RESAMPLERS", "DEFAULT_RESAMPLER", "fit_length",
           "VideoInfo", "probe_video", "sample_video_frames", "read_video_frames",
           "read_video_audio", "write_wav", "mux_audio_into_video", "write_video", "visible_files",
           "list_media"]

# The audio and video readers import PyAV and soundfile: loaded on first use (PEP 562), so that
# checking an image (the command line's refusals) does not wait for them.
_AUDIO = ("load_audio", "fit_length", "write_wav", "resample", "RESAMPLERS", "DEFAULT_RESAMPLER")
_VIDEO = ("VideoInfo", "probe_video", "sample_video_frames", "read_video_frames",
          "read_video_audio", "mux_audio_into_video", "write_video")


def __getattr__(name: str):
    if name in _AUDIO:
        from . import audio as module
    elif name in _VIDEO:
        from . import video as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# ---------------------------------------------------------------------------------- listing


def visible_files(root: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """The files under ``root``, sorted, without hidden files and folders (``.git``,
    ``.ipynb_checkpoints``, macOS ``._x.jpg``): what every folder input of the kit reads."""
    root = Path(root)
    return sorted(p for p in (root.rglob("*") if recursive else root.iterdir())
                  if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def list_media(folder_or_files: str | os.PathLike | Sequence[str | os.PathLike],
               kinds: Sequence[str] = ("image", "audio", "video"),
               recursive: bool = True, warn_skipped: bool = False) -> list[Path]:
    """Media files of the given kinds.

    A folder is searched (recursively by default) by suffix, case-insensitively, skipping
    hidden files and folders (``.ipynb_checkpoints``, macOS ``._x.jpg``); the result is sorted.
    With ``warn_skipped``, the other (non-hidden) files of the folder are named in a warning.
    A single file, or a list of files, passes through as given (each must exist).

    Returns:
        list of ``Path``.

    Raises:
        MediaError: a path that does not exist, an unknown kind, a folder with no media.
    """
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in EXTS]
    if unknown:
        raise MediaError(f"list_media: unknown kinds {unknown}; expected some of {list(EXTS)}")
    exts = frozenset().union(*(EXTS[k] for k in kinds))
    if not isinstance(folder_or_files, (str, os.PathLike)):
        files = [Path(p) for p in folder_or_files]
        if not files:
            raise MediaError("list_media: empty list of files")
        for p in files:
            if not p.is_file():
                raise MediaError(f"{p}: no such file")
        return files
    root = Path(folder_or_files)
    if not root.exists():
        raise MediaError(f"{root}: no such file or directory")
    if root.is_file():
        return [root]
    visible = visible_files(root, recursive)
    found = [p for p in visible if p.suffix.lower() in exts]
    skipped = [p for p in visible if p.suffix.lower() not in exts]
    if not found:  # refused in one line: no warning about the files it skipped first
        raise MediaError(f"{root}: no {'/'.join(kinds)} files found "
                         f"{'(recursively) ' if recursive else ''}with extensions "
                         f"{', '.join(sorted(exts))}")
    if warn_skipped and skipped:
        names = ", ".join(str(p.relative_to(root)) for p in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        kit_warn(f"{root}: skipping {len(skipped)} file(s) that are not "
                 f"{'/'.join(kinds)} files: {names}{more}")
    return found
