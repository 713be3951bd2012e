"""The pocket world's vocabulary: its attributes and their values, the backgrounds, the words
its captions are made of, the caption templates, and the zero-shot prompts built from them.

``BLOCK`` lives here too: every random draw of the world is made ``BLOCK`` rows at a time, so a
sample never depends on how many are drawn with it (see :mod:`v2a_kit.pocket.world`).
"""

from __future__ import annotations

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
