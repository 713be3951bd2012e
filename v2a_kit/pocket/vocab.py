"""The pocket world's vocabulary: its attributes and their values, the backgrounds, the words
its captions are made of, the caption templates, the zero-shot prompts built from them, and the
world's knobs (:class:`WorldConfig`), which the drawing and the synthesis read.

``BLOCK`` lives here too: every random draw of the world is made ``BLOCK`` rows at a time, so a
sample never depends on how many are drawn with it (see :mod:`v2a_kit.pocket.world`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

ATTRIBUTES: dict[str, list[str]] = {
    "shape": ["circle", "square", "triangle", "star"],
    "colour": ["red", "green", "blue", "yellow"],
    "count": ["one", "two", "three"],
    "size": ["small", "large"],
}
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



def _vocab(table: dict, attribute: str, what: str) -> dict[str, list]:
    if attribute not in table:
        raise ConfigError(f"attribute={attribute!r} is not {what}; expected one of {list(table)}")
    return table[attribute]



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
