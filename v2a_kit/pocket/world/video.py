"""Pocket-world videos: a few scenes one after another, with their real sounds as the track.

(The timed videos, whose objects act on their notes, are :mod:`v2a_kit.pocket.world.timed`'s; both
are written by the kit's one video writer, :func:`v2a_kit.media.write_video`.)

What the video examples of notebook 05, the CLI's tests and the benchmarks feed to the
pipeline: a real mp4 (H.264 + AAC, through PyAV) whose scenes change every
``seconds_per_scene``, so a generated soundtrack can be checked scene by scene against the
world's own sounds.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import ConfigError, MediaError
from ...media.video import write_video
from .scenes import PocketBatch, sample_world

__all__ = ["write_scene_video"]


def write_scene_video(path: str | os.PathLike, num_scenes: int = 3, seed: int = 6000, *,
                      seconds_per_scene: float = 1.0, fps: int = 12, scale: int = 4,
                      with_audio: bool = True) -> PocketBatch:
    """Write an mp4 of ``num_scenes`` pocket images shown in turn, each for
    ``seconds_per_scene``, with the scenes' real pocket sounds as its audio track.

    Args:
        path: the ``.mp4`` to write (atomically).
        num_scenes: how many world samples (of world ``seed``) to show.
        seconds_per_scene: each scene's duration; its sound is cut or zero-padded to it.
        fps: frame rate. scale: nearest-neighbour upscaling of the 64-px images (for viewing).
        with_audio: include the real sounds (AAC) as the track.
    Returns:
        The :class:`PocketBatch` of the scenes (images, audio, captions, labels).
    """
    if not isinstance(num_scenes, int) or num_scenes < 1:
        raise ConfigError(f"num_scenes={num_scenes!r}; expected an int ≥ 1")
    if not seconds_per_scene > 0 or not isinstance(fps, int) or fps < 1:
        raise ConfigError(f"seconds_per_scene={seconds_per_scene!r}, fps={fps!r}; expected "
                          "positive values")
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise MediaError(f"{path}: write_scene_video writes .mp4 files")
    batch = sample_world(num_scenes, seed=seed)
    sr = batch.sampling_rate
    per = round(seconds_per_scene * sr)
    track = np.zeros(per * num_scenes, np.float32)
    for i, a in enumerate(batch.audio):
        track[i * per:i * per + min(per, len(a))] = a[:per]
    frames_per_scene = max(1, round(seconds_per_scene * fps))
    frames = (im for im in batch.images for _ in range(frames_per_scene))
    write_video(path, frames, fps, track if with_audio else None, sr, scale=scale)
    return batch
