"""Pocket-world videos: a few scenes one after another, with their real sounds as the track.

What the video examples of notebook 05, the CLI's tests and the benchmarks feed to the
pipeline: a real mp4 (H.264 + AAC, through PyAV) whose scenes change every
``seconds_per_scene``, so a generated soundtrack can be checked scene by scene against the
world's own sounds.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

from ..atomic import atomic_path
from ..errors import ConfigError, MediaError
from .world import PocketBatch, sample_world

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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, av.open(str(tmp), "w") as c:
            v = c.add_stream("libx264", rate=fps)
            v.width = v.height = batch.images.shape[1] * scale
            v.pix_fmt = "yuv420p"
            v.options = {"crf": "12"}
            a = c.add_stream("aac", rate=sr) if with_audio else None
            if a is not None:
                a.layout = "mono"
            for im in batch.images:
                big = np.ascontiguousarray(im.repeat(scale, 0).repeat(scale, 1))
                for _ in range(frames_per_scene):
                    c.mux(v.encode(av.VideoFrame.from_ndarray(big, format="rgb24")))
            c.mux(v.encode(None))
            if a is not None:
                for k in range(0, len(track), 1024):
                    f = av.AudioFrame.from_ndarray(track[None, k:k + 1024], format="fltp",
                                                   layout="mono")
                    f.sample_rate, f.pts = sr, k
                    c.mux(a.encode(f))
                c.mux(a.encode(None))
    except OSError as e:
        raise MediaError(f"{path.parent}: cannot write {path.name} ({e})") from e
    return batch
