"""One figure style: :data:`THEME` (the rc settings every plot helper draws under; :func:`use_theme`
applies them to your own plots), :func:`label` (a metric key in words, from the kit's one table
:mod:`v2a_kit.evaluation.labels`) and the colours that match the world's colour names."""

from __future__ import annotations

import functools

import numpy as np

from ..evaluation.labels import METRIC_LABELS, axis_label, is_fraction

__all__ = ["THEME", "LABELS", "label", "use_theme", "value_colours", "NAMED_COLOURS"]


# Sizes read at the notebooks' display size (figure.dpi 90-100): nothing under 8 pt.
THEME = {
    "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 8.5, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "legend.fontsize": 8, "legend.title_fontsize": 8,
    "figure.titlesize": 10.5, "figure.titleweight": "bold",
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlepad": 4.0,
    "image.cmap": "magma", "lines.linewidth": 1.6, "lines.markersize": 5,
    "errorbar.capsize": 3, "savefig.facecolor": "white", "figure.facecolor": "white",
}


TITLE_PT = 8  # panel captions in grids (images, spectrograms): wrapped, at least 8 pt


# Raw keys -> words for axes and titles (↑ = higher is better, ↓ = lower is better): the kit's
# one table of metric words, v2a_kit.evaluation.labels, whose column headers the tables use.
LABELS = {k: entry.axis for k, entry in METRIC_LABELS.items()}


def label(key) -> str:
    """The words for a raw key (the kit's one table, :mod:`v2a_kit.evaluation.labels`, with its
    per-attribute families such as ``acc_<attribute>``); a key it lacks is shown as it is."""
    return axis_label(key)


def use_theme() -> None:
    """Apply :data:`THEME` to matplotlib's global settings, for figures you make yourself (the
    kit's plot helpers apply it on their own while they draw)."""
    import matplotlib
    matplotlib.rcParams.update(THEME)


def themed(fn):
    """Draw ``fn``'s figure under :data:`THEME` (leaving the caller's rcParams as they were)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib
        with matplotlib.rc_context(THEME):
            return fn(*args, **kwargs)
    return wrapper


def new_figure(width: float, height: float):
    """A pyplot-free Figure under constrained layout (titles, colour bars and legends get their
    room instead of overlapping the panels)."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def value_axis(ax, key, values, axis: str = "y") -> None:
    """Start a value axis at zero (no truncated bars); fractions run to 1."""
    vals = [v for v in np.ravel(np.asarray(values, dtype=float)) if np.isfinite(v)]
    lo = min([0.0, *vals])
    hi = max([0.0, *vals]) if vals else 1.0
    if is_fraction(key):
        hi = max(hi, 1.0)
    hi = hi * 1.08 if hi > 0 else 1.0
    (ax.set_ylim if axis == "y" else ax.set_xlim)(lo * 1.08 if lo < 0 else 0.0, hi)


def grid_axes(n: int, ncols: int, width: float, height: float):
    """A Figure with ``n`` panels in rows of ``ncols`` (``width`` × ``height`` inches each);
    returns it and the flat list of axes, the unused ones switched off."""
    ncols = max(1, min(ncols, n)) if n else max(1, ncols)
    nrows = max(1, -(-n // ncols))
    fig = new_figure(width * ncols, height * nrows)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).flat)
    for ax in axes[n:]:
        ax.axis("off")
    return fig, axes


def caption_lines(titles, width: int) -> int:
    """The most lines any of ``titles`` wraps to at ``width`` characters (0 without titles)."""
    if titles is None:
        return 0
    return max([wrap_title(t, width).count("\n") + 1 for t in titles] or [0])


def wrap_title(text: str, width: int) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


# Colour names the pocket world uses, drawn as themselves (muted enough to read on white).
NAMED_COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f5fbf", "yellow": "#e6b800"}


def value_colours(values: list[str]) -> list:
    """A colour per value: the colours themselves when every value names one
    (``NAMED_COLOURS``), else the theme's cycle (tab10, whose hues carry no meaning here)."""
    import matplotlib
    if all(v in NAMED_COLOURS for v in values):
        return [NAMED_COLOURS[v] for v in values]
    cycle = matplotlib.colormaps["tab10"].colors
    return [cycle[i % len(cycle)] for i in range(len(values))]
