"""Drawing the pocket world's images: scene layout (background, object centres, radii) and shapes.

The labels index :data:`v2a_kit.pocket.world.vocab.ATTRIBUTES`; :mod:`v2a_kit.pocket.world` calls
this.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .vocab import ATTRIBUTES, BACKGROUNDS, BLOCK, WorldConfig

_RGB = np.array([[215, 40, 40], [40, 170, 60], [45, 75, 225], [240, 205, 30]], np.uint8)
_EXTENT = np.array([1.0, 1.2, 1.2, 1.25])  # bounding radius / radius, per shape (for placement)
_TRIES = 96        # candidate layouts per sample; the first non-overlapping one is kept


def draw_scene(rng: np.random.Generator, labels: dict, cfg: WorldConfig):
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


def shape_mask(shape: int, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
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


def _colours(colour: np.ndarray, tone: np.ndarray, cfg: WorldConfig) -> np.ndarray:
    """(m, 3) uint8 fill colours: each colour's base RGB with its hue turned by
    ``tone × cfg.hue_shift`` (tone in [-1, 1] is also the exact pitch's offset: what the eye
    sees as a redder or bluer shade, the ear hears as a lower or higher note)."""
    import colorsys
    out = np.empty((len(colour), 3), np.uint8)
    for i, (c, t) in enumerate(zip(colour, tone)):
        h, s, v = colorsys.rgb_to_hsv(*(_RGB[c] / 255.0))
        out[i] = np.round(np.array(colorsys.hsv_to_rgb((h + t * cfg.hue_shift) % 1.0, s, v))
                          * 255)
    return out


def _render(labels: dict, tone, positions, radii, cfg: WorldConfig, images: np.ndarray) -> None:
    """Paint the objects into ``images`` (m, S, S, 3), in place, one window per object."""
    size = cfg.image_size
    # Each object is drawn in a square window just larger than its bounding circle.
    win = min(size, int(math.ceil(2 * max(cfg.radius_frac) * size * (1 + cfg.radius_jitter)
                                  * _EXTENT.max())) + 2)
    offsets = np.arange(win)
    rgb = _colours(labels["colour"], tone, cfg)
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
            mask = shape_mask(shape, dx, dy, radii[rows, slot, None, None])
            index = (rows[:, None, None], ys[:, :, None], xs[:, None, :])
            colour = rgb[rows][:, None, None, :]
            images[index] = np.where(mask[..., None], colour, images[index])
