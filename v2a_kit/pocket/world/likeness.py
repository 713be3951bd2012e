"""Does an input look like the pocket world? A measured test of its pixels, no model needed.

The pocket preset's models know only the pocket world: 64×64 pictures of one to three objects
of one colour on one of four backgrounds (grey, white, dark, grey stripes). Any other picture
is still mapped to a sound — the one of the pocket scene it is nearest to — so the pipeline,
the command line and the explorer warn when an input does not look like that world
(:class:`~v2a_kit.errors.OutsideWorldWarning`). The test reads the pixels, not the file name:

1. the image is reduced to the world's size (64×64, box filter: a 4× upscaled world frame
   comes back exactly);
2. a pixel is *explained* when it lies within :data:`TOLERANCE` (RGB distance) of a world
   colour or of a blend of the background with an object colour (what resampling, video
   coding and JPEG make of an object's edge). The object colours are the four base colours
   with the hue turns the world draws (``WorldConfig.hue_shift``); the backgrounds are read
   off the renderer. Colours are compared at 5 bits per channel (a table over the colour
   cube, filled as images show its cells), so the tolerance holds to within half a cell;
3. the input is in the world when, for one background, at least :data:`MIN_EXPLAINED` of its
   pixels are explained, at least :data:`MIN_BACKGROUND` are that background (objects cover a
   quarter of a picture at most) and at least :data:`MIN_OBJECT_PIXELS` are not (an object is
   there).

``tests/test_likeness.py`` measures both sides: every image of several world seeds, the
world's videos and JPEG copies pass; photos, gradients, noise and flat colours do not. Only
the world's look is tested: a picture of coloured shapes drawn elsewhere may pass, and passing
says nothing about what the model will make of it.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from ...errors import OutsideWorldWarning
from ...errors import warn as kit_warn
from .render import _RGB, _backgrounds
from .vocab import BACKGROUNDS, WorldConfig

__all__ = ["Likeness", "likeness", "outside_world", "outside_message", "warn_outside",
           "WORLD_NOTE", "POCKET_CLIP_MODEL", "TOLERANCE", "MIN_EXPLAINED", "MIN_BACKGROUND",
           "MIN_OBJECT_PIXELS"]

POCKET_CLIP_MODEL = "open_clip/pocket-clip"   # the space's model of pocket-CLIP: warn for it

TOLERANCE = 20.0        # RGB distance (0-255 per channel) within which a pixel is a world colour
MIN_EXPLAINED = 0.7     # fraction of pixels explained by one background and the object colours
MIN_BACKGROUND = 0.5    # fraction of pixels that are that background
MIN_OBJECT_PIXELS = 3   # explained pixels, at 64×64, that are not the background
_TONES = 11             # hue turns sampled across the world's range (steps of hue_shift / 5)

# What every warning says after naming the inputs.
WORLD_NOTE = ("the pocket preset's models know only the pocket world (64×64 pictures of one to "
              "three coloured circles, squares, triangles or stars on a plain or striped "
              "background), so each sound only tells which pocket scene the input is nearest "
              "to, not what it shows; for real pictures use the paper preset "
              "(notebooks/07_real_models.ipynb)")


@dataclass(frozen=True)
class Likeness:
    """How much an image looks like the pocket world.

    Attributes:
        explained: fraction of its pixels (at 64×64) that are a world colour or a blend of
            ``background`` with an object colour.
        background_fraction: fraction of its pixels that are ``background`` itself.
        object_pixels: explained pixels that are not the background.
        background: the world background that explains it best.
    """

    explained: float
    background_fraction: float
    object_pixels: int
    background: str

    @property
    def in_world(self) -> bool:
        return (self.explained >= MIN_EXPLAINED and self.background_fraction >= MIN_BACKGROUND
                and self.object_pixels >= MIN_OBJECT_PIXELS)


@lru_cache(maxsize=1)
def _palette() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(object colours (k, 3), background name -> its colours (m, 3)), float."""
    cfg = WorldConfig()
    objects = []
    for rgb in _RGB / 255.0:
        h, s, v = colorsys.rgb_to_hsv(*rgb)
        for t in np.linspace(-1.0, 1.0, _TONES):
            objects.append(np.array(colorsys.hsv_to_rgb((h + t * cfg.hue_shift) % 1.0, s, v)))
    backgrounds = {name: np.unique(im.reshape(-1, 3), axis=0).astype(float)
                   for name, im in zip(BACKGROUNDS, _backgrounds(cfg.image_size))}
    return (np.round(np.array(objects) * 255).astype(np.float32),
            {k: v.astype(np.float32) for k, v in backgrounds.items()})


_LEVELS = 32            # colours are compared at 5 bits per channel: cells of 8 levels


class _Table:
    """Per background: whether each cell of the colour cube (5 bits per channel) is explained
    (its centre within TOLERANCE of the background's colours, of a blend of them with an object
    colour, or — stripes — of their own blend) and whether it is the background itself. Cells
    are computed when an image first shows them, then looked up."""

    def __init__(self):
        objects, backgrounds = _palette()
        self.names = list(backgrounds)
        self.segments = []
        for bg in backgrounds.values():
            own = (bg[:1], bg[1:]) if len(bg) == 2 else (bg, bg)   # stripes: their edge
            mixes = (np.repeat(bg, len(objects), axis=0), np.tile(objects, (len(bg), 1)))
            self.segments.append((own, mixes))
        size = _LEVELS ** 3
        self.known = np.zeros(size, bool)
        self.explained = np.zeros((len(self.names), size), bool)
        self.background = np.zeros((len(self.names), size), bool)

    def lookup(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(explained, background), each (backgrounds, len(cells)) bool."""
        new = np.unique(cells[~self.known[cells]])
        if len(new):
            step = 256 // _LEVELS
            q = np.stack([new // _LEVELS ** 2, new // _LEVELS % _LEVELS, new % _LEVELS], 1)
            centres = q * step + (step - 1) / 2
            for k, (own, mixes) in enumerate(self.segments):
                near = _to_segments(centres, *own) <= TOLERANCE
                self.background[k, new] = near
                self.explained[k, new] = near | (_to_segments(centres, *mixes) <= TOLERANCE)
            self.known[new] = True
        return self.explained[:, cells], self.background[:, cells]


@lru_cache(maxsize=1)
def _table() -> _Table:
    return _Table()


def _to_segments(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(n,) distance from each point to the nearest segment ``starts[j]``–``ends[j]``, through
    (n, m) products only: |p − s − t d|² = |p − s|² − 2 t (p − s)·d + t² |d|²."""
    p, s, d = (x.astype(np.float64) for x in (points, starts, ends - starts))
    rel_d = p @ d.T - (s * d).sum(1)                                     # (p − s)·d
    rel2 = (p * p).sum(1)[:, None] - 2 * p @ s.T + (s * s).sum(1)        # |p − s|²
    dd = (d * d).sum(1)
    t = np.clip(rel_d / np.maximum(dd, 1e-9), 0.0, 1.0)
    return np.sqrt(np.maximum(rel2 - 2 * t * rel_d + t * t * dd, 0.0)).min(1)


def _cells(image) -> np.ndarray:
    """The image at the world's size, each pixel as its cell of the colour cube."""
    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image, dtype=np.uint8))
    size = WorldConfig().image_size
    q = np.asarray(image.convert("RGB").resize((size, size), Image.BOX)).reshape(-1, 3)
    q = q.astype(np.int64) // (256 // _LEVELS)
    return (q[:, 0] * _LEVELS + q[:, 1]) * _LEVELS + q[:, 2]


def likeness(image) -> Likeness:
    """The measured likeness of ``image`` (a PIL image, or a uint8 (h, w, 3) array) to the
    pocket world (see the module docstring)."""
    table = _table()
    explained, background = table.lookup(_cells(image))
    best = None
    for name, ok, bg in zip(table.names, explained, background):
        found = Likeness(float(ok.mean()), float(bg.mean()), int((ok & ~bg).sum()), name)
        if best is None or (found.in_world, found.explained) > (best.in_world, best.explained):
            best = found
    return best


def outside_world(named_images: Iterable[tuple[str, object]]) -> list[str]:
    """The names of the ``(name, image)`` pairs that do not look like the pocket world."""
    return [name for name, image in named_images if not likeness(image).in_world]


def outside_message(names: list[str], show: int = 3) -> str:
    """One line: which inputs, and what the pocket preset can and cannot do with them."""
    listed = ", ".join(names[:show]) + (f" and {len(names) - show} more"
                                        if len(names) > show else "")
    verb = "does" if len(names) == 1 else "do"
    return (f"{listed} {verb} not look like the pocket world (a test of the pixels: "
            f"v2a_kit.pocket.world.likeness): {WORLD_NOTE}")


def warn_outside(names: list[str]) -> None:
    """One :class:`~v2a_kit.errors.OutsideWorldWarning` naming ``names`` (none if empty)."""
    if names:
        kit_warn(outside_message(list(names)), OutsideWorldWarning)
