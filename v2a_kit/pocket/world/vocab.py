"""The pocket world's vocabulary: its attributes and their values, the backgrounds, the words
its captions are made of, the caption templates, the zero-shot prompts built from them, the
compositional split (which attribute combinations the mappers never train on), and the world's
knobs (:class:`WorldConfig`), which the drawing and the synthesis read.

``BLOCK`` lives here too: every random draw of the world is made ``BLOCK`` rows at a time, so a
sample never depends on how many are drawn with it (see :mod:`v2a_kit.pocket.world`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ...errors import ConfigError

# The world's version: it changes whenever the same seed would give other data. A build records
# it, and the loaders, the mappers run and a rebuild refuse weights made for another version.
WORLD_VERSION = 2

# Seen and heard: the image determines these, and so does the sound.
ATTRIBUTES: dict[str, list[str]] = {
    "shape": ["circle", "square", "triangle", "star"],
    "colour": ["red", "green", "blue", "yellow"],
    "count": ["one", "two", "three"],
    "size": ["small", "large"],
}
# Heard, never seen: the audio captions name them, the image says nothing about them. Each image
# admits every value with equal probability, so the sounds of one image form several modes.
HEARD_ONLY: dict[str, list[str]] = {"contour": ["steady", "rising", "falling"]}
AUDIBLE: dict[str, list[str]] = {**ATTRIBUTES, **HEARD_ONLY}

# The compositional split: 16 of the 96 combinations of the seen-and-heard attributes (those
# whose value indices sum to a multiple of 6) are UNSEEN — no mapper training pair and no
# retrieval pool holds them, while every single value and every pair of values of two
# attributes still occurs in the SEEN ones. The foundation models (pocket-CLIP, -CLAP,
# -AudioLDM) are trained on the whole world, as the real ones were trained on the web.
COMBOS: list[tuple[int, ...]] = list(itertools.product(*(range(len(v))
                                                         for v in ATTRIBUTES.values())))
UNSEEN: list[tuple[int, ...]] = [c for c in COMBOS if sum(c) % 6 == 0]
SEEN: list[tuple[int, ...]] = [c for c in COMBOS if sum(c) % 6 != 0]
SPLITS = ("all", "seen", "unseen")


def is_unseen(labels: dict) -> np.ndarray:
    """(n,) bool: which rows of ``labels`` (attr -> (n,) ints) hold an UNSEEN combination."""
    return sum(np.asarray(labels[a]) for a in ATTRIBUTES) % 6 == 0
BACKGROUNDS = ["grey", "white", "dark", "striped"]
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
    "contour": {"steady": ["steady", "level"], "rising": ["rising", "upward-gliding"],
                "falling": ["falling", "downward-gliding"]},
}
_IMAGE_TEMPLATES = ("{count} {size} {colour} {shape} on a {bg} background",
                    "a picture of {count} {size} {colour} {shape}",
                    "{count} {size} {colour} {objects} shaped like {like} on a {bg} background",
                    "a {bg} background with {count} {size} {colour} {shape}")
# Audio templates fill the same slots with sound words: size → loudness, colour → pitch,
# shape → source, contour → pitch glide; "objects" → "sound(s)".
_AUDIO_TEMPLATES = ("{count} {size} {contour} {colour} {shape}",
                    "the sound of {count} {size} {colour} {shape}, {contour}",
                    "{count} {size} {contour} {colour} {objects} like {like}",
                    "{count} {colour} {shape}, {size} and {contour}")


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

    ``attribute`` is one of ``AUDIBLE`` (the seen-and-heard ones and the heard-only contour).
    """
    words = _vocab(AUDIO_WORDS, attribute, "audible")
    first = {v: w[0] for v, w in words.items()}
    if attribute == "shape":
        return {v: f"the sound of {w[1]}" for v, w in first.items()}
    if attribute == "count":
        return {v: f"{w} sound{'' if v == 'one' else 's'}" for v, w in first.items()}
    return {v: f"a {w} sound" for v, w in first.items()}



def _vocab(table: dict, attribute: str, what: str) -> dict[str, list]:
    if attribute not in table:
        raise ConfigError(f"attribute={attribute!r} is not {what}; expected one of {list(table)}")
    return table[attribute]



def _captions(rng: np.random.Generator, labels: dict, kind: str, background=None) -> list[str]:
    """One caption per row. Columns of ``picks``: one synonym per attribute of ``AUDIBLE`` (the
    image captions leave the contour's unused), the template, the background's synonym."""
    words, templates = ((IMAGE_WORDS, _IMAGE_TEMPLATES) if kind == "image"
                        else (AUDIO_WORDS, _AUDIO_TEMPLATES))
    named = ATTRIBUTES if kind == "image" else AUDIBLE
    m = len(labels["shape"])
    picks = rng.integers(0, 1 << 30, (BLOCK, len(AUDIBLE) + 2))[:m]
    t_col, bg_col = len(AUDIBLE), len(AUDIBLE) + 1
    noun = "object" if kind == "image" else "sound"
    out = []
    for i in range(m):
        v = {a: named[a][labels[a][i]] for a in named}
        synonyms = {a: words[a][v[a]] for a in named}
        pick = {a: synonyms[a][picks[i, k] % len(synonyms[a])] for k, a in enumerate(named)}
        one = v["count"] == "one"
        singular, plural = pick["shape"]
        bg = None
        if background is not None:
            bg_words = IMAGE_WORDS["background"][BACKGROUNDS[background[i]]]
            bg = bg_words[picks[i, bg_col] % len(bg_words)]
        out.append(templates[picks[i, t_col] % len(templates)].format(
            count=pick["count"], size=pick["size"], colour=pick["colour"],
            contour=pick.get("contour"),
            shape=singular if one else plural, bg=bg, objects=noun if one else noun + "s",
            like=f"a {singular}" if one else plural))
    return out


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
    pitch_jitter_oct: float = 0.2      # ± octave of exact pitch, seen as the hue's ± hue_shift
    hue_shift: float = 0.035           # ± hue (turns) of a colour: the visible side of the pitch
    contour_oct: float = 0.8           # octaves a rising / falling note glides over its slot
    loudness_rms: tuple[float, float] = (0.045, 0.18)  # (quiet, loud) peak 20-ms RMS of each note
    loudness_exponent: float = 2.0     # loudness × (mean radius / nominal radius) ** this
    noise_band_oct: float = 0.25       # star: σ of the noise band around the pitch, octaves
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
        for name in ("pitch_jitter_oct", "hue_shift", "contour_oct", "loudness_exponent",
                     "noise_band_oct"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 2):
                raise ConfigError(f"WorldConfig.{name}={value!r}; expected a number in [0, 2]")
        if self.min_gap_s < self.note_s:
            raise ConfigError(f"WorldConfig.min_gap_s={self.min_gap_s} < note_s={self.note_s}: "
                              "notes would overlap")
        if 2 * self.edge_s + 2 * self.min_gap_s + self.note_s > self.duration_s:
            raise ConfigError(f"WorldConfig.duration_s={self.duration_s} cannot hold three notes "
                              f"{self.min_gap_s} s apart with {self.edge_s} s edges")
