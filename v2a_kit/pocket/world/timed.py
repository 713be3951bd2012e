"""Timed pocket videos: scenes of the world in which every object visibly acts when its note starts.

A still pocket image cannot show *when* its notes sound (``onsets_s`` is heard, never seen). A
timed video can: video ``i`` shows ``num_scenes`` world samples one after another, each for the
world's clip length (1 s), at ``fps`` frames per second, with the scenes' own sounds end to end
as its track. Object ``k`` of a scene **pops** when the scene's note ``k`` starts: on the frame
nearest the onset it is drawn ``POP_GROWTH`` larger and ``POP_FLASH`` of the way to white, and
it shrinks back over ``POP_S`` (linearly, frame by frame). Every other frame is the scene's still
image, pixel for pixel, so the pictures the pocket models were trained on are unchanged.

What a timed video holds and why:

- **The sound is the world's.** Scene ``j`` of video ``i`` is sample ``i · num_scenes + j`` of
  ``sample_world(n · num_scenes, seed)``; the track is those samples' audio concatenated, so
  every note is exactly the world's synthesis (no second synth; the world's 20-ms silent edges
  keep notes of consecutive scenes ≥ 40 ms apart).
- **Visual onsets are frame times.** A note's pop starts on frame ``round(onset · fps)``, and
  the video's visual onset is that frame's time; it is ≤ ½ frame from the audio onset (20 ms at
  25 fps), inside the timing measure's default ±50-ms tolerance
  (:func:`v2a_kit.evaluation.timing.synchrony`). Hence ``fps ≥ MIN_FPS`` = 10.
- **Scene cuts are seen and not heard.** A cut changes every pixel and starts no note: what a
  timing model must not mistake for an onset.
- **Determinism** is the world's: video ``i`` depends on ``seed``, ``i``, ``num_scenes``,
  ``split`` and ``config`` only, never on ``n`` (prefix-stable), and the pops draw nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...defaults import TIMED_MIN_FPS as MIN_FPS
from ...defaults import TIMED_NOTE_S
from ...errors import ConfigError, MediaError
from .render import _colours, shape_mask
from .scenes import PocketBatch, check_n, check_seed, sample_world
from .vocab import AUDIBLE, BACKGROUNDS, WorldConfig

__all__ = ["PocketVideos", "sample_world_videos", "save_videos", "MIN_FPS", "POP_S",
           "POP_GROWTH", "POP_FLASH", "check_timing_video"]

POP_S = 0.12        # a pop's length: 3 frames at 25 fps, half the world's shortest note gap
POP_GROWTH = 0.4    # radius × (1 + POP_GROWTH) on the pop's first frame
POP_FLASH = 0.5     # fill colour this far towards white on the pop's first frame


@dataclass
class PocketVideos:
    """``n`` timed videos (see the module's docstring).

    Attributes:
        frames: (n, T, S, S, 3) uint8, ``T = num_scenes · fps · duration``.
        fps: frames per second (int).
        audio: (n, num_scenes · samples per clip) float32: the scenes' sounds end to end.
        sampling_rate: Hz of ``audio``.
        onsets_s: (n, num_scenes · 3) float64, each note's audio onset in the video, seconds;
            scene ``j``'s notes in columns ``3j .. 3j + 2``, NaN past the scene's count.
        visual_onsets_s: same shape: the time of the frame on which each note's object pops.
        scene_starts_s: (num_scenes,) float64, when each scene begins.
        scenes: the :class:`PocketBatch` of the ``n · num_scenes`` scenes (row
            ``i · num_scenes + j`` is scene ``j`` of video ``i``): images, captions, labels.
    """

    frames: np.ndarray
    fps: int
    audio: np.ndarray
    sampling_rate: int
    onsets_s: np.ndarray
    visual_onsets_s: np.ndarray
    scene_starts_s: np.ndarray
    scenes: PocketBatch

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def num_scenes(self) -> int:
        return len(self.scene_starts_s)

    @property
    def num_frames(self) -> int:
        return self.frames.shape[1]

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    @property
    def labels(self) -> dict[str, np.ndarray]:
        """attr -> (n, num_scenes) int64: each scene's labels (``AUDIBLE`` indices)."""
        return {a: v.reshape(len(self), self.num_scenes) for a, v in self.scenes.labels.items()}


def _check_fps(fps) -> None:
    if isinstance(fps, bool) or not isinstance(fps, (int, np.integer)) or fps < MIN_FPS:
        raise ConfigError(f"fps={fps!r}; expected an int ≥ {MIN_FPS} (a frame of at most 100 "
                          "ms, so that each visual onset is within 50 ms of its note)")


def sample_world_videos(n: int, seed: int, *, num_scenes: int = 3, fps: int = 25,
                        config: WorldConfig | None = None, split: str = "all") -> PocketVideos:
    """Draw ``n`` timed pocket videos of ``num_scenes`` scenes each.

    Args:
        n: number of videos, ≥ 1.
        seed: world seed, int ≥ 0. Video ``i`` depends on (seed, i, num_scenes, split, config)
            only: the same for every ``n``.
        num_scenes: scenes per video, ≥ 1; each lasts ``config.duration_s`` (1 s).
        fps: frame rate, an int ≥ ``MIN_FPS`` (10) whose frames tile a scene exactly.
        config: world knobs; ``WorldConfig()`` when None.
        split: ``"all"``, ``"seen"`` or ``"unseen"``, as :func:`~v2a_kit.pocket.world.sample_world`.

    Returns:
        :class:`PocketVideos`.

    Raises:
        ConfigError (a ValueError): bad ``n``, ``seed``, ``num_scenes``, ``fps``, ``config`` or
            ``split``, naming it.
    """
    check_n(n)
    check_seed(seed)
    if isinstance(num_scenes, bool) or not isinstance(num_scenes, (int, np.integer)) \
            or num_scenes < 1:
        raise ConfigError(f"num_scenes={num_scenes!r}; expected an int ≥ 1")
    _check_fps(fps)
    config = config or WorldConfig()
    config.check()
    per_scene = config.duration_s * fps
    if abs(per_scene - round(per_scene)) > 1e-9:
        raise ConfigError(f"fps={fps}: a {config.duration_s}-s scene would last {per_scene:g} "
                          "frames; expected an fps whose frames tile a scene exactly")
    per_scene = int(round(per_scene))
    scenes = sample_world(n * num_scenes, seed, config, split)
    size = config.image_size
    frames = np.empty((n, num_scenes * per_scene, size, size, 3), np.uint8)
    frames[:] = scenes.images.reshape(n, num_scenes, 1, size, size, 3).repeat(per_scene, 2) \
        .reshape(frames.shape)
    starts = np.arange(num_scenes) * config.duration_s
    onsets = (scenes.onsets_s.reshape(n, num_scenes, 3) + starts[:, None]).reshape(n, -1)
    first = np.round(scenes.onsets_s * fps)               # (n · num_scenes, 3) frame in scene
    visual = ((first + np.arange(n * num_scenes)[:, None] % num_scenes * per_scene) / fps)
    _pop(frames, scenes, first, per_scene, fps, config)
    return PocketVideos(frames=frames, fps=int(fps),
                        audio=scenes.audio.reshape(n, -1).copy(),
                        sampling_rate=scenes.sampling_rate, onsets_s=onsets,
                        visual_onsets_s=visual.reshape(n, -1), scene_starts_s=starts,
                        scenes=scenes)


def _pop(frames: np.ndarray, scenes: PocketBatch, first: np.ndarray, per_scene: int, fps: int,
         cfg: WorldConfig) -> None:
    """Draw every note's pop into ``frames`` (n, T, S, S, 3), in place: object ``k`` of a
    scene, on the frames from its note's onset frame ``first`` for ``POP_S``, grown and
    lightened by a strength falling linearly from 1."""
    num_scenes = frames.shape[1] // per_scene
    size = frames.shape[2]
    length = max(1, int(round(POP_S * fps)))
    rgb = _colours(scenes.labels["colour"], scenes.tone, cfg).astype(np.float64)
    grid = np.arange(size) + 0.5
    rows, slots = np.nonzero(~np.isnan(first))
    for row, slot in zip(rows, slots):
        video, scene = divmod(int(row), num_scenes)
        shape = int(scenes.labels["shape"][row])
        (x, y), r = scenes.positions[row, slot], scenes.radii_px[row, slot]
        dx, dy = (grid - x)[None, None, :], (grid - y)[None, :, None]
        start = int(first[row, slot])
        for step in range(min(length, per_scene - start)):
            strength = 1.0 - step / length
            mask = shape_mask(shape, dx, dy, np.array(r * (1 + POP_GROWTH * strength))
                               .reshape(1, 1, 1))[0]
            colour = np.round(rgb[row] + (255.0 - rgb[row]) * POP_FLASH * strength)
            frames[video, scene * per_scene + start + step][mask] = colour.astype(np.uint8)


def save_videos(videos: PocketVideos, folder, n: int | None = None, scale: int = 4) -> list[Path]:
    """Write the first ``n`` (default all) videos as ``NNN.mp4`` (H.264 + AAC, frames upscaled
    ``scale``× for viewing) + ``NNN.wav`` (the exact track, 32-bit float) and ``videos.json``
    (fps, frames, each note's audio and visual onset, each scene's captions and labels).

    The wav is the reference for timing: an AAC track is lossy. Each file is written atomically
    (:mod:`v2a_kit.atomic`). Returns the written paths.
    """
    from ...atomic import atomic_write
    from ...media import write_video, write_wav

    n = len(videos) if n is None else n
    check_n(n)
    if n > len(videos):
        raise ConfigError(f"n={n} but there are {len(videos)} videos")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digits = max(3, len(str(n - 1)))
    paths, index = [], []
    s = videos.scenes
    for i in range(n):
        mp4, wav = folder / f"{i:0{digits}d}.mp4", folder / f"{i:0{digits}d}.wav"
        write_video(mp4, videos.frames[i], videos.fps, videos.audio[i], videos.sampling_rate,
                    scale=scale)
        write_wav(wav, videos.audio[i], videos.sampling_rate, subtype="FLOAT")
        paths += [mp4, wav]
        rows = range(i * videos.num_scenes, (i + 1) * videos.num_scenes)
        index.append({
            "video": mp4.name, "audio": wav.name,
            "onsets_s": _finite(videos.onsets_s[i]),
            "visual_onsets_s": _finite(videos.visual_onsets_s[i]),
            "scenes": [{"start_s": float(videos.scene_starts_s[j]),
                        "image_caption": s.image_captions[r],
                        "audio_caption": s.audio_captions[r],
                        **{a: AUDIBLE[a][int(s.labels[a][r])] for a in AUDIBLE},
                        "tone": round(float(s.tone[r]), 4),
                        "background": BACKGROUNDS[int(s.background[r])]}
                       for j, r in enumerate(rows)]})
    meta = folder / "videos.json"
    atomic_write(meta, json.dumps({"fps": videos.fps, "num_frames": videos.num_frames,
                                   "sampling_rate": videos.sampling_rate, "videos": index},
                                  indent=1).encode())
    return [*paths, meta]


def _finite(row: np.ndarray) -> list[float]:
    return [round(float(t), 6) for t in row if math.isfinite(t)]


def check_timing_video(name: str, fps: float, duration_s: float, num_frames: int,
                       predictor_fps: int) -> int:
    """Refuse a video the timing-aware variant cannot read, with one line naming it: no frames,
    a frame rate other than the predictor's or a whole multiple of it, or shorter than one note
    (:data:`~v2a_kit.defaults.TIMED_NOTE_S`). Returns the frame step (fps /
    predictor_fps) at which its frames are read."""
    if num_frames < 1 or not duration_s > 0:
        raise MediaError(f"{name}: a video without frames; expected at least one note's worth "
                         f"({TIMED_NOTE_S} s) of frames for timing 'onsets'")
    step = fps / predictor_fps if fps and math.isfinite(fps) else 0.0
    if step < 1 - 1e-3 or abs(step - round(step)) > 1e-3 * round(step):
        raise MediaError(f"{name}: {fps:g} fps; expected {predictor_fps} fps or a whole "
                         f"multiple of it (the onset predictor reads frames at {predictor_fps} "
                         "fps)")
    if duration_s < TIMED_NOTE_S:
        raise MediaError(f"{name}: {duration_s:.3f} s long; expected at least one note "
                         f"({TIMED_NOTE_S} s) for timing 'onsets'")
    return int(round(step))
