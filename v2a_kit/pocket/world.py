"""The pocket world's data: procedural (image, sound, captions, labels), deterministic from a seed.

Every sample shows 1–3 objects of one shape, colour and size; the objects "make" the sound. Four
attributes are both seen and heard, and each modality carries factors the other cannot know, so
one image admits many sounds:

| attribute | values | seen as | heard as |
|---|---|---|---|
| `shape` | circle, square, triangle, star | outline | source: hum, buzz, pluck, rattle |
| `colour` | red, green, blue, yellow | fill colour | register ≈ 150, 320, 680, 1450 Hz |
| `count` | one, two, three | objects | notes (onsets) |
| `size` | small, large | radius ≈ 4.5, 8.5 px | loudness: note RMS 0.045, 0.18 (12 dB) |
| `background` | grey, white, dark, striped | background | — not audible |
| `positions`, `radii_px` | centres, ±8 % radius | placement, no overlap | — not audible |
| `onsets_s` | notes 0.22 s, ≥ 0.24 s apart | — not visible | when notes start |
| `pitch_hz` | register × 2^u, −0.2 ≤ u ≤ 0.2 | — not visible | exact pitch, one per clip |

Sources: circle = *hum* (pure sine, soft attack, smooth decay); square = *buzz* (odd harmonics,
flat sustain, abrupt end); triangle = *pluck* (all harmonics 1/k, fast exponential decay); star =
*rattle* (noise band-passed around the pitch, percussive). Registers are ≈ 1.1 octave apart and
jittered ±0.2 octave, so they never meet; loudness is each note's loudest 20-ms RMS. Onsets are
uniform over the layouts that fit in the 1 s clip with 20 ms edges.

The timbres differ in spectral width *and* envelope (narrow/wide × sustained/percussive), because
a crude Griffin-Lim vocoder at 64 mel bins erases harmonic structure alone (measured before the
first build: a tagger trained on clean audio read vocoded, harmonics-only timbre at 51 %).

Determinism: sample ``i`` of ``sample_world(n, seed)`` depends on ``seed`` and ``i`` only, never on
``n`` (prefix-stable). Samples are made in blocks of ``BLOCK`` = 256; block ``b`` draws from
``SeedSequence(seed, spawn_key=(b, stream))`` with one stream each for labels, scene, image
captions, sound, audio captions and noise. Each stream draws a full block's worth (noise: one
clip per star note, in row order), so a prefix of a block never depends on what follows. As sound
has its own streams, ``sample_audio_for(batch.labels, seed)`` re-creates ``batch``'s audio and
audio captions, and any other seed gives new onsets, pitches and noise for the same labels.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .render import _backgrounds, _draw_scene, _render
from .synth import _clip_len, _synthesise
from .vocab import (
    ATTRIBUTES,
    AUDIO_WORDS,
    BACKGROUNDS,
    BLOCK,
    IMAGE_WORDS,
    WorldConfig,
    _captions,
    audio_prompts,
    image_prompts,
)

__all__ = ["ATTRIBUTES", "BACKGROUNDS", "VISUAL_ONLY", "AUDIO_ONLY", "IMAGE_WORDS", "AUDIO_WORDS",
           "WORLD_TABLE", "BLOCK", "WorldConfig", "PocketBatch", "PocketSounds", "sample_world",
           "sample_audio_for", "image_prompts", "audio_prompts", "save_examples"]

WORLD_TABLE = __doc__[__doc__.index("| attribute"):__doc__.index("\n\nSources:")]

# The vocabulary (ATTRIBUTES, BACKGROUNDS, the caption words and prompts) is in .vocab, the
# drawing in .render, the synthesis in .synth; this module draws the random factors and holds
# the public API.
VISUAL_ONLY = ("background", "positions", "radii_px")  # PocketBatch fields that are seen, not heard
AUDIO_ONLY = ("onsets_s", "pitch_hz")                  # PocketBatch fields that are heard, not seen


_STREAMS = {"labels": 0, "scene": 1, "image_caption": 2, "sound": 3, "audio_caption": 4, "noise": 5}


@dataclass
class PocketBatch:
    """``n`` paired samples. Labels index ``ATTRIBUTES[attr]``; hidden factors are NaN-padded.

    Attributes:
        images: (n, S, S, 3) uint8.
        audio: (n, samples) float32 in [-1, 1].
        image_captions, audio_captions: n strings each.
        labels: attr -> (n,) int64 for the four ``ATTRIBUTES``.
        onsets_s: (n, 3) float64, seconds, ascending; NaN past ``count``.  (audio only)
        pitch_hz: (n,) float64 fundamental (star: centre of the noise band).  (audio only)
        background: (n,) int64 index into ``BACKGROUNDS``.  (image only)
        positions: (n, 3, 2) float64 (x, y) object centres in pixels; NaN past ``count``.
        radii_px: (n, 3) float64 object radii; NaN past ``count``.  (image only)
        sampling_rate: Hz of ``audio``.
    """

    images: np.ndarray
    audio: np.ndarray
    image_captions: list[str]
    audio_captions: list[str]
    labels: dict[str, np.ndarray]
    onsets_s: np.ndarray
    pitch_hz: np.ndarray
    background: np.ndarray
    positions: np.ndarray
    radii_px: np.ndarray
    sampling_rate: int = 16000

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index) -> PocketBatch:
        """A sub-batch: ``batch[3]``, ``batch[i:j]``, ``batch[index_array]`` (always a batch)."""
        return PocketBatch(**{f.name: _take(getattr(self, f.name), index, len(self))
                              for f in fields(self)})


@dataclass
class PocketSounds:
    """New sounds for given labels (``sample_audio_for``); fields as in :class:`PocketBatch`."""

    audio: np.ndarray
    audio_captions: list[str]
    onsets_s: np.ndarray
    pitch_hz: np.ndarray
    sampling_rate: int = 16000

    def __len__(self) -> int:
        return len(self.audio)


def _take(value, index, n: int):
    if isinstance(value, int):  # sampling_rate
        return value
    if isinstance(index, (int, np.integer)):
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for a batch of {n}")
        index = slice(index % n, index % n + 1)
    if isinstance(value, dict):
        return {k: v[index] for k, v in value.items()}
    if isinstance(value, list):
        return [value[k] for k in np.arange(n)[index]]
    return value[index]


# ----------------------------------------------------------------------------- input checks

def _check_n(n) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n={n!r}; expected an int ≥ 1")


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r}; expected an int ≥ 0")


def _check_labels(labels) -> dict[str, np.ndarray]:
    if not isinstance(labels, Mapping):
        raise ConfigError(f"labels is a {type(labels).__name__}; expected a dict attr -> (n,) ints")
    unknown = set(labels) - set(ATTRIBUTES)
    missing = [a for a in ATTRIBUTES if a not in labels]
    if unknown or missing:
        raise ConfigError(f"labels: unknown {sorted(unknown)}, missing {missing}; expected "
                          f"exactly {list(ATTRIBUTES)}")
    out = {}
    for attr, values in ATTRIBUTES.items():
        v = np.asarray(labels[attr])
        if v.ndim != 1 or len(v) == 0 or not np.issubdtype(v.dtype, np.integer):
            raise ConfigError(f"labels[{attr!r}] has shape {v.shape}, dtype {v.dtype}; expected "
                              "non-empty (n,) integers")
        if v.min() < 0 or v.max() >= len(values):
            raise ConfigError(f"labels[{attr!r}] holds {int(v.min())}..{int(v.max())}; expected "
                              f"0..{len(values) - 1} (indices into {values})")
        out[attr] = v.astype(np.int64)
    if len({len(v) for v in out.values()}) != 1:
        raise ConfigError(f"labels have different lengths: { {a: len(v) for a, v in out.items()} }")
    return out


def _rng(seed: int, block: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed),
                                                        spawn_key=(block, _STREAMS[stream])))


# ----------------------------------------------------------------------------- public API

def sample_world(n: int, seed: int, config: WorldConfig | None = None) -> PocketBatch:
    """Draw ``n`` pocket samples: images, audio, captions, labels and hidden factors.

    Args:
        n: number of samples, ≥ 1.
        seed: int ≥ 0. The same (seed, i) gives the same sample i for every ``n``.
        config: world knobs; ``WorldConfig()`` when None.

    Returns:
        A :class:`PocketBatch` of length ``n``.

    Raises:
        ConfigError (a ValueError): bad ``n``, ``seed`` or ``config``.
    """
    _check_n(n)
    _check_seed(seed)
    config = config or WorldConfig()
    config.check()
    size = config.image_size
    images = np.empty((n, size, size, 3), np.uint8)
    audio = np.empty((n, _clip_len(config)), np.float32)  # filled block by block: no concatenation
    parts = []
    for b in range(math.ceil(n / BLOCK)):
        block = slice(b * BLOCK, min(n, (b + 1) * BLOCK))
        m = block.stop - block.start
        r = _rng(seed, b, "labels")
        labels = {a: r.integers(0, len(v), BLOCK)[:m].astype(np.int64)
                  for a, v in ATTRIBUTES.items()}
        background, positions, radii = _draw_scene(_rng(seed, b, "scene"), labels, config)
        images[block] = _backgrounds(size)[background]
        _render(labels, positions, radii, config, images[block])
        audio_captions, onsets, pitch = _sounds(labels, seed, b, config, audio[block])
        image_captions = _captions(_rng(seed, b, "image_caption"), labels, "image", background)
        parts.append(dict(image_captions=image_captions, audio_captions=audio_captions,
                          labels=labels, onsets_s=onsets, pitch_hz=pitch, background=background,
                          positions=positions, radii_px=radii))
    merged = {k: _concat([p[k] for p in parts]) for k in parts[0]}
    return PocketBatch(images=images, audio=audio, sampling_rate=config.sampling_rate, **merged)


def sample_audio_for(labels: Mapping[str, np.ndarray], seed: int,
                     config: WorldConfig | None = None) -> PocketSounds:
    """New sounds for given labels: other onsets, pitches within the register, noise.

    ``sample_audio_for(batch.labels, seed)`` with ``batch = sample_world(n, seed)`` returns
    ``batch``'s own audio; any other seed gives other sounds that fit the same images.

    Args:
        labels: attr -> (n,) ints for the four ``ATTRIBUTES`` (e.g. ``batch.labels``).
        seed: int ≥ 0.
        config: world knobs; ``WorldConfig()`` when None.

    Returns:
        :class:`PocketSounds` with ``audio`` (n, samples) float32, captions and hidden factors.
    """
    labels = _check_labels(labels)
    _check_seed(seed)
    config = config or WorldConfig()
    config.check()
    n = len(labels["shape"])
    audio = np.empty((n, _clip_len(config)), np.float32)
    parts = [_sounds({a: v[s:s + BLOCK] for a, v in labels.items()}, seed, s // BLOCK, config,
                     audio[s:s + BLOCK]) for s in range(0, n, BLOCK)]
    captions, onsets, pitch = (_concat(list(column)) for column in zip(*parts))
    return PocketSounds(audio, captions, onsets, pitch, config.sampling_rate)


def save_examples(batch: PocketBatch, folder, n: int = 8, lossless: bool = False) -> list[Path]:
    """Write the first ``n`` samples as ``NNN.png`` + ``NNN.wav``, and ``examples.json``.

    ``examples.json`` lists each sample's captions and attribute values. Returns the written paths.
    Names have as many digits as ``n - 1`` needs (at least 3). WAVs are 16-bit PCM, or 32-bit
    float with ``lossless`` (the exact samples: embeddings of the files then equal those of the
    in-memory batch, which ``v2a-kit pocket export`` relies on).
    """
    import soundfile as sf
    from PIL import Image

    _check_n(n)
    if n > len(batch):
        raise ConfigError(f"n={n} but the batch holds {len(batch)} samples")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths, index = [], []
    digits = max(3, len(str(n - 1)))
    for i in range(n):
        png, wav = folder / f"{i:0{digits}d}.png", folder / f"{i:0{digits}d}.wav"
        Image.fromarray(batch.images[i]).save(png)
        sf.write(wav, batch.audio[i], batch.sampling_rate,
                 subtype="FLOAT" if lossless else "PCM_16")
        paths += [png, wav]
        index.append({"image": png.name, "audio": wav.name,
                      "image_caption": batch.image_captions[i],
                      "audio_caption": batch.audio_captions[i],
                      **{a: ATTRIBUTES[a][int(batch.labels[a][i])] for a in ATTRIBUTES},
                      "background": BACKGROUNDS[int(batch.background[i])]})
    meta = folder / "examples.json"
    meta.write_text(json.dumps(index, indent=1))
    return [*paths, meta]


# ----------------------------------------------------------------------------- internals

def _concat(values: list):
    first = values[0]
    if isinstance(first, dict):
        return {k: np.concatenate([v[k] for v in values]) for k in first}
    if isinstance(first, list):
        return [x for v in values for x in v]
    return np.concatenate(values)


# ----------------------------------------------------------------------------- sound
# The draws stay here (they use _rng and _captions); the synthesis is in .synth.

def _sounds(labels: dict, seed: int, block: int, cfg: WorldConfig, audio: np.ndarray):
    """Draw one block's hidden audio factors and synthesise its clips into ``audio`` (m, N).

    Returns (audio captions, onsets_s (m, 3), pitch_hz (m,)).
    """
    rng = _rng(seed, block, "sound")
    m, sr = len(labels["shape"]), cfg.sampling_rate
    u_pitch = rng.uniform(-1.0, 1.0, BLOCK)[:m]
    u_onset = rng.random((BLOCK, 3))[:m]
    phase = rng.random(BLOCK)[:m]
    count = labels["count"] + 1
    active = np.arange(3) < count[:, None]
    pitch = np.asarray(cfg.registers_hz)[labels["colour"]] * 2.0 ** (cfg.pitch_jitter_oct * u_pitch)
    # Sorted uniforms in the slack left after the minimum gaps: uniform over all valid layouts.
    slack = cfg.duration_s - cfg.note_s - 2 * cfg.edge_s - (count - 1) * cfg.min_gap_s
    u = np.sort(np.where(active, u_onset, np.inf), axis=1)
    onsets = cfg.edge_s + np.where(active, u, 0.0) * slack[:, None] + np.arange(3) * cfg.min_gap_s
    onsets = np.where(active, np.round(onsets * sr) / sr, np.nan)
    _synthesise(labels, pitch, onsets, phase, _rng(seed, block, "noise"), cfg, audio)
    captions = _captions(_rng(seed, block, "audio_caption"), labels, "audio")
    return captions, onsets, pitch
