"""The pocket world's data: procedural (image, sound, captions, labels), deterministic from a seed.

Every sample shows 1–3 objects of one shape, colour and size; the objects "make" the sound. Four
attributes are both seen and heard; one, the pitch **contour**, is heard and never seen; and each
modality carries factors the other cannot know. So one image admits several distinct sounds —
a steady, a rising and a falling version, each with its own timing — and the CLAP audio
embeddings of one image's sounds form several modes, as real sounds of one photo do:

| attribute | values | seen as | heard as |
|---|---|---|---|
| `shape` | circle, square, triangle, star | outline | source: hum, buzz, pluck, rattle |
| `colour` | red, green, blue, yellow | fill colour | register ≈ 150, 320, 680, 1450 Hz |
| `count` | one, two, three | objects | notes (onsets) |
| `size` | small, large | radius ≈ 4.5, 8.5 px | loudness: note RMS 0.045, 0.18 (12 dB) |
| `contour` | steady, rising, falling | — not visible | each note glides 0.8 octave up or down |
| `tone` | −1 … 1 (continuous) | hue turned ± 0.035 | exact pitch: register × 2^(0.2 tone) |
| `radii_px` | ± 8 % radius per object | exact size | loudness × (mean radius / nominal)² |
| `background` | grey, white, dark, striped | background | — not audible |
| `positions` | centres | placement, no overlap | — not audible |
| `onsets_s` | notes 0.22 s, ≥ 0.24 s apart | — not visible | when notes start |

Sources: circle = *hum* (pure sine, soft attack, smooth decay); square = *buzz* (odd harmonics,
flat sustain, abrupt end); triangle = *pluck* (all harmonics 1/k, exponential decay); star =
*rattle* (a noise band around the pitch, percussive). Registers are ≈ 1.1 octave apart and
shifted at most ± 0.2 octave by the tone, so their centres never meet; loudness is each note's
loudest 20-ms RMS. Onsets are uniform over the layouts that fit in the 1 s clip with 20 ms
edges. Combinations: 4 × 4 × 3 × 2 = 96 of the seen-and-heard attributes, × 3 contours = 288
audible ones, × 4 backgrounds = 1,152 (image, sound) categories, and tone and radius are
continuous. 16 of the 96 seen-and-heard combinations form the UNSEEN split (see
:mod:`v2a_kit.pocket.world.vocab`): the mappers never train on them.

The timbres differ in spectral width *and* envelope (narrow/wide × sustained/percussive), because
a crude Griffin-Lim vocoder at 64 mel bins erases harmonic structure alone (measured before the
first build: a tagger trained on clean audio read vocoded, harmonics-only timbre at 51 %).

Determinism: sample ``i`` of ``sample_world(n, seed)`` depends on ``seed`` and ``i`` only, never on
``n`` (prefix-stable). Samples are made in blocks of ``BLOCK`` = 256; block ``b`` draws from
``SeedSequence(seed, spawn_key=(b, stream))`` with one stream each for labels (and tone), scene,
image captions, sound (contour, onsets, phase), audio captions and noise. Each stream draws a
full block's worth (noise: one clip per star note, in row order), so a prefix of a block never
depends on what follows. As sound has its own streams, ``sample_audio_for(batch, seed)``
re-creates ``batch``'s audio and audio captions, and any other seed gives new contours, onsets
and noise for the same images.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ...atomic import atomic_path, atomic_write
from ...errors import ConfigError
from .render import _backgrounds, _render, draw_scene
from .synth import _synthesise, clip_len
from .vocab import (
    ATTRIBUTES,
    AUDIBLE,
    AUDIO_WORDS,
    BACKGROUNDS,
    BLOCK,
    HEARD_ONLY,
    IMAGE_WORDS,
    SEEN,
    SPLITS,
    UNSEEN,
    WORLD_VERSION,
    WorldConfig,
    _captions,
    audio_prompts,
    image_prompts,
    is_unseen,
)

__all__ = ["ATTRIBUTES", "HEARD_ONLY", "AUDIBLE", "BACKGROUNDS", "VISUAL_ONLY", "AUDIO_ONLY",
           "IMAGE_WORDS", "AUDIO_WORDS", "WORLD_TABLE", "WORLD_VERSION", "BLOCK", "SEEN", "UNSEEN",
           "SPLITS", "is_unseen", "WorldConfig", "PocketBatch", "PocketSounds", "sample_world",
           "sample_audio_for", "loudness_db", "image_prompts", "audio_prompts", "save_examples"]

WORLD_TABLE = __doc__[__doc__.index("| attribute"):__doc__.index("\n\nSources:")]

# The vocabulary (ATTRIBUTES, BACKGROUNDS, the caption words and prompts) is in .vocab, the
# drawing in .render, the synthesis in .synth; this module draws the random factors and holds
# the public API.
VISUAL_ONLY = ("background", "positions")  # PocketBatch fields that are seen, not heard
AUDIO_ONLY = ("onsets_s",)                  # fields heard, not seen (and labels["contour"])


_STREAMS = {"labels": 0, "scene": 1, "image_caption": 2, "sound": 3, "audio_caption": 4, "noise": 5}


@dataclass
class PocketBatch:
    """``n`` paired samples. Labels index ``AUDIBLE[attr]``; per-object factors are NaN-padded.

    Attributes:
        images: (n, S, S, 3) uint8.
        audio: (n, samples) float32 in [-1, 1].
        image_captions, audio_captions: n strings each.
        labels: attr -> (n,) int64 for the four ``ATTRIBUTES`` and the heard-only ``contour``.
        onsets_s: (n, 3) float64, seconds, ascending; NaN past ``count``.  (audio only)
        pitch_hz: (n,) float64 pitch at the middle of each note (star: the noise band's
            centre); set by colour and tone, so seen and heard.
        tone: (n,) float64 in [-1, 1]: the hue's turn and the pitch's offset (seen and heard).
        background: (n,) int64 index into ``BACKGROUNDS``.  (image only)
        positions: (n, 3, 2) float64 (x, y) object centres in pixels; NaN past ``count``.
        radii_px: (n, 3) float64 object radii; NaN past ``count``. (seen; heard as loudness)
        sampling_rate: Hz of ``audio``.
    """

    images: np.ndarray
    audio: np.ndarray
    image_captions: list[str]
    audio_captions: list[str]
    labels: dict[str, np.ndarray]
    onsets_s: np.ndarray
    pitch_hz: np.ndarray
    tone: np.ndarray
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
    contour: np.ndarray
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

def check_n(n) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n={n!r}; expected an int ≥ 1")


def check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r}; expected an int ≥ 0")


def _check_labels(labels) -> dict[str, np.ndarray]:
    """The four ``ATTRIBUTES`` (required) and ``contour`` (optional), checked, as int64."""
    if not isinstance(labels, Mapping):
        raise ConfigError(f"labels is a {type(labels).__name__}; expected a dict attr -> (n,) ints")
    unknown = set(labels) - set(AUDIBLE)
    missing = [a for a in ATTRIBUTES if a not in labels]
    if unknown or missing:
        raise ConfigError(f"labels: unknown {sorted(unknown)}, missing {missing}; expected "
                          f"{list(ATTRIBUTES)} and optionally {list(HEARD_ONLY)}")
    out = {}
    for attr, values in AUDIBLE.items():
        if attr not in labels:
            continue
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


def _check_split(split) -> None:
    if split not in SPLITS:
        raise ConfigError(f"split={split!r}; expected one of {list(SPLITS)}")


def _rng(seed: int, block: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed),
                                                        spawn_key=(block, _STREAMS[stream])))


# ----------------------------------------------------------------------------- public API

def sample_world(n: int, seed: int, config: WorldConfig | None = None,
                 split: str = "all") -> PocketBatch:
    """Draw ``n`` pocket samples: images, audio, captions, labels and hidden factors.

    Args:
        n: number of samples, ≥ 1.
        seed: int ≥ 0. The same (seed, i, split) gives the same sample i for every ``n``.
        config: world knobs; ``WorldConfig()`` when None.
        split: ``"all"`` (each attribute drawn uniformly), ``"seen"`` or ``"unseen"`` (a
            combination drawn uniformly from ``SEEN`` or ``UNSEEN``: the compositional split).

    Returns:
        A :class:`PocketBatch` of length ``n``.

    Raises:
        ConfigError (a ValueError): bad ``n``, ``seed``, ``config`` or ``split``.
    """
    check_n(n)
    check_seed(seed)
    _check_split(split)
    config = config or WorldConfig()
    config.check()
    size = config.image_size
    images = np.empty((n, size, size, 3), np.uint8)
    audio = np.empty((n, clip_len(config)), np.float32)  # filled block by block: no concatenation
    parts = []
    for b in range(math.ceil(n / BLOCK)):
        block = slice(b * BLOCK, min(n, (b + 1) * BLOCK))
        m = block.stop - block.start
        labels, tone = _draw_labels(_rng(seed, b, "labels"), m, split)
        background, positions, radii = draw_scene(_rng(seed, b, "scene"), labels, config)
        images[block] = _backgrounds(size)[background]
        _render(labels, tone, positions, radii, config, images[block])
        audio_captions, onsets, pitch, contour = _sounds(labels, tone, radii, seed, b, config,
                                                         audio[block])
        labels["contour"] = contour
        image_captions = _captions(_rng(seed, b, "image_caption"), labels, "image", background)
        parts.append(dict(image_captions=image_captions, audio_captions=audio_captions,
                          labels=labels, onsets_s=onsets, pitch_hz=pitch, tone=tone,
                          background=background, positions=positions, radii_px=radii))
    merged = {k: _concat([p[k] for p in parts]) for k in parts[0]}
    return PocketBatch(images=images, audio=audio, sampling_rate=config.sampling_rate, **merged)


def sample_audio_for(images, seed: int, config: WorldConfig | None = None) -> PocketSounds:
    """New sounds for given images: other contours, onsets and noise; the same pitch and loudness.

    ``images`` is a :class:`PocketBatch` (its labels, tone and radii set each sound's register,
    exact pitch and loudness; its contours are drawn anew) or a labels dict attr -> (n,) ints
    (tone 0 and nominal radii; a ``"contour"`` entry, if given, fixes the contours).
    ``sample_audio_for(batch, seed)`` with ``batch = sample_world(n, seed)`` returns ``batch``'s
    own audio; any other seed gives other sounds that fit the same images.

    Returns:
        :class:`PocketSounds` with ``audio`` (n, samples) float32, captions and hidden factors.
    """
    if isinstance(images, PocketBatch):
        labels = {a: images.labels[a] for a in ATTRIBUTES}
        tone, radii = images.tone, images.radii_px
    else:
        labels = _check_labels(images)
        tone, radii = np.zeros(len(labels["shape"])), None
    check_seed(seed)
    config = config or WorldConfig()
    config.check()
    n = len(labels["shape"])
    audio = np.empty((n, clip_len(config)), np.float32)
    parts = [_sounds({a: v[s:s + BLOCK] for a, v in labels.items()}, tone[s:s + BLOCK],
                     None if radii is None else radii[s:s + BLOCK], seed, s // BLOCK, config,
                     audio[s:s + BLOCK]) for s in range(0, n, BLOCK)]
    captions, onsets, pitch, contour = (_concat(list(column)) for column in zip(*parts))
    return PocketSounds(audio, captions, onsets, pitch, contour, config.sampling_rate)


def loudness_db(batch: PocketBatch, config: WorldConfig | None = None) -> np.ndarray:
    """(n,) the loudness the world gave each sample's notes, in dB re full scale: the size's
    level × (mean radius / nominal) ** loudness_exponent (every note of a clip has it; each
    note's loudest 20-ms block RMS). What the picture's size sets and the sound should carry;
    :func:`v2a_kit.pocket.world.synth.level_db` reads the same quantity off any waveform."""
    config = config or WorldConfig()
    labels = {a: batch.labels[a] for a in ATTRIBUTES}
    return 20 * np.log10(_loudness(labels, batch.radii_px, config).astype(np.float64))


def save_examples(batch: PocketBatch, folder, n: int = 8, lossless: bool = False) -> list[Path]:
    """Write the first ``n`` samples as ``NNN.png`` + ``NNN.wav``, and ``examples.json``.

    ``examples.json`` lists each sample's captions and attribute values. Returns the written paths.
    Names have as many digits as ``n - 1`` needs (at least 3). WAVs are 16-bit PCM, or 32-bit
    float with ``lossless`` (the exact samples: embeddings of the files then equal those of the
    in-memory batch, which ``v2a-kit pocket export`` relies on).
    """
    import soundfile as sf
    from PIL import Image

    check_n(n)
    if n > len(batch):
        raise ConfigError(f"n={n} but the batch holds {len(batch)} samples")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths, index = [], []
    digits = max(3, len(str(n - 1)))
    for i in range(n):
        png, wav = folder / f"{i:0{digits}d}.png", folder / f"{i:0{digits}d}.wav"
        with atomic_path(png) as tmp:          # each file whole or not at all
            Image.fromarray(batch.images[i]).save(tmp, format="PNG")
        with atomic_path(wav) as tmp:
            sf.write(tmp, batch.audio[i], batch.sampling_rate,
                     subtype="FLOAT" if lossless else "PCM_16", format="WAV")
        paths += [png, wav]
        index.append({"image": png.name, "audio": wav.name,
                      "image_caption": batch.image_captions[i],
                      "audio_caption": batch.audio_captions[i],
                      **{a: AUDIBLE[a][int(batch.labels[a][i])] for a in AUDIBLE},
                      "tone": round(float(batch.tone[i]), 4),
                      "background": BACKGROUNDS[int(batch.background[i])]})
    meta = atomic_write(folder / "examples.json", json.dumps(index, indent=1).encode())
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

def _draw_labels(rng: np.random.Generator, m: int, split: str):
    """One block's seen-and-heard labels (per attribute, or a combination of the split) and
    tone, from the labels stream."""
    if split == "all":
        labels = {a: rng.integers(0, len(v), BLOCK)[:m].astype(np.int64)
                  for a, v in ATTRIBUTES.items()}
    else:
        combos = np.asarray(SEEN if split == "seen" else UNSEEN, np.int64)
        picked = combos[rng.integers(0, len(combos), BLOCK)[:m]]
        labels = {a: picked[:, k].copy() for k, a in enumerate(ATTRIBUTES)}
    tone = rng.uniform(-1.0, 1.0, BLOCK)[:m]
    return labels, tone


def _loudness(labels: dict, radii, cfg: WorldConfig) -> np.ndarray:
    """(m,) note loudness: the size's level × (mean radius / nominal) ** loudness_exponent."""
    level = np.asarray(cfg.loudness_rms, np.float64)[labels["size"]]
    if radii is None:
        return level.astype(np.float32)
    nominal = np.asarray(cfg.radius_frac)[labels["size"]] * cfg.image_size
    ratio = np.nanmean(radii, axis=1) / nominal
    return (level * ratio ** cfg.loudness_exponent).astype(np.float32)


def _sounds(labels: dict, tone, radii, seed: int, block: int, cfg: WorldConfig,
            audio: np.ndarray):
    """Draw one block's hidden audio factors and synthesise its clips into ``audio`` (m, N).

    ``labels["contour"]``, when present, fixes the contours (they are drawn all the same, so the
    other draws do not move). Returns (audio captions, onsets_s (m, 3), pitch_hz (m,),
    contour (m,)).
    """
    rng = _rng(seed, block, "sound")
    m, sr = len(labels["shape"]), cfg.sampling_rate
    contour = rng.integers(0, len(HEARD_ONLY["contour"]), BLOCK)[:m].astype(np.int64)
    if "contour" in labels:
        contour = np.asarray(labels["contour"], np.int64)
    u_onset = rng.random((BLOCK, 3))[:m]
    phase = rng.random(BLOCK)[:m]
    count = labels["count"] + 1
    active = np.arange(3) < count[:, None]
    pitch = (np.asarray(cfg.registers_hz)[labels["colour"]]
             * 2.0 ** (cfg.pitch_jitter_oct * np.asarray(tone)))
    # Sorted uniforms in the slack left after the minimum gaps: uniform over all valid layouts.
    slack = cfg.duration_s - cfg.note_s - 2 * cfg.edge_s - (count - 1) * cfg.min_gap_s
    u = np.sort(np.where(active, u_onset, np.inf), axis=1)
    onsets = cfg.edge_s + np.where(active, u, 0.0) * slack[:, None] + np.arange(3) * cfg.min_gap_s
    onsets = np.where(active, np.round(onsets * sr) / sr, np.nan)
    full = {**{a: labels[a] for a in ATTRIBUTES}, "contour": contour}
    _synthesise(full, pitch, _loudness(labels, radii, cfg), onsets, phase,
                _rng(seed, block, "noise"), cfg, audio)
    captions = _captions(_rng(seed, block, "audio_caption"), full, "audio")
    return captions, onsets, pitch, contour
