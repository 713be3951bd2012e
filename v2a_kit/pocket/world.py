"""The pocket world's data: procedural (image, sound, captions, labels), deterministic from a seed.

Every sample shows 1–3 objects of one shape, colour and size; the objects "make" the sound. Four
attributes are both seen and heard, and each modality carries factors the other cannot know, so
one image admits many sounds (DESIGN.md §4):

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
a crude Griffin-Lim vocoder at 64 mel bins erases harmonic structure alone (shared/POCKET_SPIKE.md).

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
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ConfigError

__all__ = ["ATTRIBUTES", "BACKGROUNDS", "VISUAL_ONLY", "AUDIO_ONLY", "IMAGE_WORDS", "AUDIO_WORDS",
           "WORLD_TABLE", "BLOCK", "WorldConfig", "PocketBatch", "PocketSounds", "sample_world",
           "sample_audio_for", "image_prompts", "audio_prompts", "save_examples"]

WORLD_TABLE = __doc__[__doc__.index("| attribute"):__doc__.index("\n\nSources:")]

ATTRIBUTES: dict[str, list[str]] = {
    "shape": ["circle", "square", "triangle", "star"],
    "colour": ["red", "green", "blue", "yellow"],
    "count": ["one", "two", "three"],
    "size": ["small", "large"],
}
BACKGROUNDS = ["grey", "white", "dark", "striped"]
VISUAL_ONLY = ("background", "positions", "radii_px")  # PocketBatch fields that are seen, not heard
AUDIO_ONLY = ("onsets_s", "pitch_hz")                  # PocketBatch fields that are heard, not seen
BLOCK = 256

# Caption vocabularies: value -> synonyms (nouns as (singular, plural)). Audio words never name
# what is only visible; captions pick one synonym per attribute with the caption stream.
IMAGE_WORDS: dict[str, dict[str, list]] = {
    "shape": {s: [(s, s + "s")] for s in ATTRIBUTES["shape"]},
    "colour": {c: [c] for c in ATTRIBUTES["colour"]},
    "count": {"one": ["one", "a single"], "two": ["two", "a pair of"], "three": ["three"]},
    "size": {"small": ["small", "little"], "large": ["large", "big"]},
    "background": {"grey": ["grey", "gray"], "white": ["white"], "dark": ["dark", "black"],
                   "striped": ["striped"]},
}
AUDIO_WORDS: dict[str, dict[str, list]] = {
    "shape": {"circle": [("hum", "hums"), ("humming tone", "humming tones")],
              "square": [("buzz", "buzzes"), ("buzzing tone", "buzzing tones")],
              "triangle": [("pluck", "plucks"), ("twang", "twangs")],
              "star": [("rattle", "rattles"), ("noise burst", "noise bursts")]},
    "colour": {"red": ["low-pitched", "deep"], "green": ["mid-pitched", "medium-pitched"],
               "blue": ["high-pitched", "treble"], "yellow": ["shrill", "piercing"]},
    "count": IMAGE_WORDS["count"],
    "size": {"small": ["quiet", "faint"], "large": ["loud", "strong"]},
}
_IMAGE_TEMPLATES = ("{count} {size} {colour} {shape} on a {bg} background",
                    "a picture of {count} {size} {colour} {shape}",
                    "{count} {size} {colour} {objects} shaped like {like} on a {bg} background",
                    "a {bg} background with {count} {size} {colour} {shape}")
# Audio templates fill the same slots with sound words: size → loudness, colour → pitch,
# shape → source; "objects" → "sound(s)".
_AUDIO_TEMPLATES = ("{count} {size} {colour} {shape}",
                    "the sound of {count} {size} {colour} {shape}",
                    "{count} {size} {colour} {objects} like {like}",
                    "{count} {colour} {shape}, {size}")

_RGB = np.array([[215, 40, 40], [40, 170, 60], [45, 75, 225], [240, 205, 30]], np.uint8)
_EXTENT = np.array([1.0, 1.2, 1.2, 1.25])  # bounding radius / radius, per shape (for placement)
_STAR = 3
_TRIES = 96        # candidate layouts per sample; the first non-overlapping one is kept
_TABLE = 4096      # wavetable length (one period)
_STREAMS = {"labels": 0, "scene": 1, "image_caption": 2, "sound": 3, "audio_caption": 4, "noise": 5}


@dataclass(frozen=True)
class WorldConfig:
    """Knobs of the pocket world. The defaults are what the pocket models are trained on."""

    image_size: int = 64               # pixels per side; radii scale with it
    radius_frac: tuple[float, float] = (0.07, 0.133)  # (small, large) radius / image_size
    radius_jitter: float = 0.08        # ± relative radius per object: visible, not audible
    sampling_rate: int = 16000         # Hz; pocket.audio's log-mel and vocoder assume 16 kHz
    duration_s: float = 1.0            # clip length: 100 log-mel frames
    note_s: float = 0.22               # one note's slot; every envelope has ended inside it
    min_gap_s: float = 0.24            # onset-to-onset minimum; > note_s, so notes never overlap
    edge_s: float = 0.02               # silence kept at both ends of the clip
    registers_hz: tuple[float, ...] = (150.0, 320.0, 680.0, 1450.0)  # red, green, blue, yellow
    pitch_jitter_oct: float = 0.2      # ± octave, one per clip: registers stay ≥ 0.69 oct apart
    loudness_rms: tuple[float, float] = (0.045, 0.18)  # (quiet, loud) peak 20-ms RMS of each note
    noise_band_oct: float = 0.15       # star: σ of the Gaussian band-pass around the pitch, octaves
    max_partial_hz: float = 7000.0     # harmonics above are dropped: no aliasing below 8 kHz

    def check(self) -> None:
        """Raise ConfigError naming the first field that cannot make a valid world."""
        if not (isinstance(self.image_size, int) and self.image_size >= 32):
            raise ConfigError(f"WorldConfig.image_size={self.image_size!r}; expected an int ≥ 32")
        if not (isinstance(self.sampling_rate, int) and self.sampling_rate > 0):
            raise ConfigError(f"WorldConfig.sampling_rate={self.sampling_rate!r}; expected int > 0")
        if not 0 < self.max_partial_hz < self.sampling_rate / 2:
            raise ConfigError(f"WorldConfig.max_partial_hz={self.max_partial_hz}; expected below "
                              f"Nyquist ({self.sampling_rate / 2} Hz)")
        if len(self.registers_hz) != len(ATTRIBUTES["colour"]):
            raise ConfigError(f"WorldConfig.registers_hz has {len(self.registers_hz)} values; "
                              f"expected one per colour ({len(ATTRIBUTES['colour'])})")
        if self.min_gap_s < self.note_s:
            raise ConfigError(f"WorldConfig.min_gap_s={self.min_gap_s} < note_s={self.note_s}: "
                              "notes would overlap")
        if 2 * self.edge_s + 2 * self.min_gap_s + self.note_s > self.duration_s:
            raise ConfigError(f"WorldConfig.duration_s={self.duration_s} cannot hold three notes "
                              f"{self.min_gap_s} s apart with {self.edge_s} s edges")


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


def image_prompts(attribute: str) -> dict[str, str]:
    """Zero-shot prompts in the image captions' words: value -> e.g. ``"a picture of red objects"``.

    ``attribute`` is one of ``ATTRIBUTES`` or ``"background"``.
    """
    words = _vocab(IMAGE_WORDS, attribute, "visible")
    first = {v: w[0] for v, w in words.items()}
    if attribute == "shape":
        return {v: f"a picture of {w[1]}" for v, w in first.items()}
    if attribute == "background":
        return {v: f"a picture of objects on a {w} background" for v, w in first.items()}
    if attribute == "count":
        return {v: f"a picture of {w} object{'' if v == 'one' else 's'}" for v, w in first.items()}
    return {v: f"a picture of {w} objects" for v, w in first.items()}


def audio_prompts(attribute: str) -> dict[str, str]:
    """Zero-shot prompts in the audio captions' words: value -> e.g. ``"a low-pitched sound"``.

    ``attribute`` is one of ``ATTRIBUTES`` (every one is audible).
    """
    words = _vocab(AUDIO_WORDS, attribute, "audible")
    first = {v: w[0] for v, w in words.items()}
    if attribute == "shape":
        return {v: f"the sound of {w[1]}" for v, w in first.items()}
    if attribute == "count":
        return {v: f"{w} sound{'' if v == 'one' else 's'}" for v, w in first.items()}
    return {v: f"a {w} sound" for v, w in first.items()}


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


def _vocab(table: dict, attribute: str, what: str) -> dict[str, list]:
    if attribute not in table:
        raise ConfigError(f"attribute={attribute!r} is not {what}; expected one of {list(table)}")
    return table[attribute]


def _draw_scene(rng: np.random.Generator, labels: dict, cfg: WorldConfig):
    """Background, non-overlapping object centres (rejection over _TRIES layouts) and radii."""
    m, size = len(labels["shape"]), cfg.image_size
    background = rng.integers(0, len(BACKGROUNDS), BLOCK)[:m].astype(np.int64)
    jitter = rng.uniform(-1.0, 1.0, (BLOCK, 3))[:m]
    u = rng.random((BLOCK, _TRIES, 3, 2))[:m]
    active = np.arange(3) < (labels["count"] + 1)[:, None]
    radii = (np.asarray(cfg.radius_frac)[labels["size"]][:, None] * size
             * (1.0 + cfg.radius_jitter * jitter))
    ext = radii * _EXTENT[labels["shape"]][:, None]
    lo = ext + 1.0
    span = (size - 1.0 - ext) - lo
    centres = lo[:, None, :, None] + u * span[:, None, :, None]        # (m, tries, 3, 2)
    ok = np.ones(centres.shape[:2], bool)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        d = np.linalg.norm(centres[:, :, a] - centres[:, :, b], axis=-1)
        ok &= (d >= (ext[:, a] + ext[:, b] + 1.0)[:, None]) | ~active[:, b, None]
    positions = centres[np.arange(m), ok.argmax(1)]
    # When no try fits (≈ 1 sample in 10^5): a diagonal layout that fits three large objects.
    positions[~ok.any(1)] = np.array([0.2, 0.5, 0.8])[:, None] * size
    positions[~active] = np.nan
    radii[~active] = np.nan
    return background, positions, radii


@lru_cache(maxsize=4)
def _backgrounds(size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    stripes = np.where(((xx + yy) // 4 % 2 == 0)[..., None], 175, 95)
    flat = [np.full((size, size, 3), v) for v in ((128, 128, 128), (240, 240, 240), (28, 28, 32))]
    return np.stack([*flat, np.broadcast_to(stripes, (size, size, 3))]).astype(np.uint8)


def _shape_mask(shape: int, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Pixels inside an upright shape of radius ``r`` (k, 1, 1) at offsets dx, dy; y points down."""
    if shape == 0:
        return dx * dx + dy * dy <= r * r
    if shape == 1:
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.85 * r
    if shape == 2:
        rt = 1.2 * r
        return (dy <= rt / 2) & (np.abs(dx) * math.sqrt(3) <= dy + rt)
    # star: 10 sectors alternating outer/inner vertices; inside = origin side of the sector's edge
    step = math.pi / 5
    local = np.mod(np.arctan2(dy, dx) + math.pi / 2, 2 * math.pi)
    sector = np.floor(local / step)
    alpha = local - sector * step
    outer, inner = 1.25 * r, 0.5 * r
    even = sector % 2 == 0
    ra, rb = np.where(even, outer, inner), np.where(even, inner, outer)
    bx, by = rb * math.cos(step), rb * math.sin(step)
    edge = by * ra / (by * np.cos(alpha) - (bx - ra) * np.sin(alpha))
    return np.hypot(dx, dy) <= edge


def _render(labels: dict, positions, radii, cfg: WorldConfig, images: np.ndarray) -> None:
    """Paint the objects into ``images`` (m, S, S, 3), in place, one window per object."""
    size = cfg.image_size
    # Each object is drawn in a square window just larger than its bounding circle.
    win = min(size, int(math.ceil(2 * max(cfg.radius_frac) * size * (1 + cfg.radius_jitter)
                                  * _EXTENT.max())) + 2)
    offsets = np.arange(win)
    for slot in range(3):
        for shape in range(len(ATTRIBUTES["shape"])):
            rows = np.flatnonzero((labels["count"] >= slot) & (labels["shape"] == shape))
            if len(rows) == 0:
                continue
            centre = positions[rows, slot]                                    # (k, 2) x, y
            origin = np.clip(np.floor(centre - win / 2).astype(np.int64), 0, size - win)
            xs = origin[:, 0, None] + offsets                                 # (k, win)
            ys = origin[:, 1, None] + offsets
            dx = (xs + 0.5 - centre[:, 0, None])[:, None, :]
            dy = (ys + 0.5 - centre[:, 1, None])[:, :, None]
            mask = _shape_mask(shape, dx, dy, radii[rows, slot, None, None])
            index = (rows[:, None, None], ys[:, :, None], xs[:, None, :])
            colour = _RGB[labels["colour"][rows]][:, None, None, :]
            images[index] = np.where(mask[..., None], colour, images[index])


def _captions(rng: np.random.Generator, labels: dict, kind: str, background=None) -> list[str]:
    words, templates = ((IMAGE_WORDS, _IMAGE_TEMPLATES) if kind == "image"
                        else (AUDIO_WORDS, _AUDIO_TEMPLATES))
    m = len(labels["shape"])
    picks = rng.integers(0, 1 << 30, (BLOCK, 6))[:m]
    noun = "object" if kind == "image" else "sound"
    out = []
    for i in range(m):
        v = {a: ATTRIBUTES[a][labels[a][i]] for a in ATTRIBUTES}
        synonyms = {a: words[a][v[a]] for a in ATTRIBUTES}
        pick = {a: synonyms[a][picks[i, k] % len(synonyms[a])] for k, a in enumerate(ATTRIBUTES)}
        one = v["count"] == "one"
        singular, plural = pick["shape"]
        bg = None
        if background is not None:
            bg_words = IMAGE_WORDS["background"][BACKGROUNDS[background[i]]]
            bg = bg_words[picks[i, 5] % len(bg_words)]
        out.append(templates[picks[i, 4] % len(templates)].format(
            count=pick["count"], size=pick["size"], colour=pick["colour"],
            shape=singular if one else plural, bg=bg, objects=noun if one else noun + "s",
            like=f"a {singular}" if one else plural))
    return out


# ----------------------------------------------------------------------------- sound

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


def _clip_len(cfg: WorldConfig) -> int:
    return int(round(cfg.duration_s * cfg.sampling_rate))


def _note_len(cfg: WorldConfig) -> int:
    return int(round(cfg.note_s * cfg.sampling_rate))


@lru_cache(maxsize=4)
def _envelopes(cfg: WorldConfig) -> np.ndarray:
    """(4, L) amplitude envelopes: smooth bell, flat + abrupt end, pluck, percussive burst.

    All have faded by 0.8 of the slot, leaving ≥ 64 ms of silence before the next onset, so
    notes stay apart even in 4×4-pooled log-mels (40 ms frames).
    """
    x = np.arange(_note_len(cfg)) / _note_len(cfg)        # time as a fraction of the note slot
    bell = np.where(x < 0.2, 0.5 - 0.5 * np.cos(np.pi * x / 0.2),
                    0.5 + 0.5 * np.cos(np.pi * np.minimum((x - 0.2) / 0.55, 1.0)))
    flat = np.clip(np.minimum(x / 0.023, (0.68 - x) / 0.04), 0.0, 1.0)
    taper = np.clip((0.8 - x) / 0.15, 0.0, 1.0)
    pluck = np.minimum(x / 0.01, 1.0) * np.exp(-x / 0.2) * taper
    burst = np.minimum(x / 0.005, 1.0) * np.exp(-x / 0.09) * taper
    return np.stack([bell, flat, pluck, burst]).astype(np.float32)


@lru_cache(maxsize=4)
def _wavetables(cfg: WorldConfig) -> np.ndarray:
    """(shapes 0..2, registers, _TABLE + 1) one period each, band-limited per register."""
    theta = 2 * np.pi * np.arange(_TABLE + 1) / _TABLE
    tables = np.zeros((3, len(cfg.registers_hz), _TABLE + 1))
    for r, f in enumerate(cfg.registers_hz):
        top = max(1, int(cfg.max_partial_hz // (f * 2.0 ** cfg.pitch_jitter_oct)))
        for k in range(1, top + 1):
            partial = np.sin(k * theta) / k
            tables[2, r] += partial                    # triangle: sawtooth-like, every harmonic
            if k % 2:
                tables[1, r] += partial                # square: odd harmonics only
        tables[0, r] = np.sin(theta)                   # circle: pure sine
    return tables.astype(np.float32)


def _synthesise(labels, pitch, onsets, phase, noise_rng, cfg: WorldConfig,
                audio: np.ndarray) -> None:
    """Write the clips into ``audio`` (m, N). Tonal notes repeat one waveform per clip (same
    phase); each star note gets fresh noise, drawn in row order so blocks stay prefix-stable."""
    sr, length = cfg.sampling_rate, _note_len(cfg)
    shape = labels["shape"]
    level = np.asarray(cfg.loudness_rms, np.float32)[labels["size"]]
    envelopes = _envelopes(cfg)
    rows, slots = np.nonzero(~np.isnan(onsets))
    notes = np.empty((len(rows), length), np.float32)
    t = np.arange(length, dtype=np.float32) / sr

    tonal = np.flatnonzero(shape != _STAR)
    if len(tonal):
        pos = np.mod(pitch[tonal, None].astype(np.float32) * t
                     + phase[tonal, None].astype(np.float32), 1.0) * _TABLE
        k = pos.astype(np.int64)
        frac = pos - k
        tables = _wavetables(cfg).reshape(-1)
        base = ((shape[tonal] * len(cfg.registers_hz) + labels["colour"][tonal])
                * (_TABLE + 1))[:, None]
        wave = tables[base + k] * (1 - frac) + tables[base + k + 1] * frac
        wave *= envelopes[shape[tonal]]
        wave *= (level[tonal] / _peak_rms(wave, sr))[:, None]
        which = np.full(len(shape), -1)
        which[tonal] = np.arange(len(tonal))
        is_tonal = shape[rows] != _STAR
        notes[is_tonal] = wave[which[rows[is_tonal]]]

    star = np.flatnonzero(shape[rows] == _STAR)
    if len(star):
        noise = noise_rng.standard_normal((len(star), length), np.float32)
        freqs = np.fft.rfftfreq(length, 1 / sr)
        octaves = np.log2(np.maximum(freqs, 1.0) / pitch[rows[star], None])
        gain = np.exp(-0.5 * (octaves / cfg.noise_band_oct) ** 2)
        wave = np.fft.irfft(np.fft.rfft(noise, axis=-1) * gain, n=length, axis=-1)
        wave = wave.astype(np.float32) * envelopes[_STAR]
        notes[star] = wave * (level[rows[star]] / _peak_rms(wave, sr))[:, None]

    audio[:] = 0.0
    start = np.round(onsets[rows, slots] * sr).astype(np.int64)
    audio[rows[:, None], start[:, None] + np.arange(length)] = np.clip(notes, -1.0, 1.0)


def _peak_rms(notes: np.ndarray, sr: int) -> np.ndarray:
    """Loudness of each note: its loudest 20-ms block RMS (same meaning for every timbre)."""
    hop = sr // 50
    blocks = notes[:, : notes.shape[1] // hop * hop].reshape(len(notes), -1, hop)
    return np.sqrt((blocks ** 2).mean(-1)).max(-1)
