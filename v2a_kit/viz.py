"""Looking and listening: plots that return Figures, inline players, and the notebooks' savefig.

Every plot helper returns its ``matplotlib.figure.Figure`` and never calls ``plt.show()``. The
Figures are made without pyplot, so Jupyter shows each exactly once — when it is the cell's value
or passed to ``display`` — and nothing accumulates in pyplot's figure list; save with
:func:`savefig`.

One style for every figure: :data:`THEME` (an rc dict every plot helper applies while it draws;
:func:`use_theme` applies it to your own plots too) and :func:`label`, which turns the kit's
raw keys (``fd``, ``kl``, ``train_loss``, ``acc_all``, ``recall@1``, ...) into words with the
direction that is better (↑ / ↓) and the unit, from the kit's one table of metric words
(:mod:`v2a_kit.evaluation.labels`; :data:`LABELS` holds its axis words).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from .evaluation.labels import METRIC_LABELS, axis_label, is_fraction

__all__ = ["FIGURES_DIR", "figures_dir", "savefig", "save_numbers", "audio_player",
           "video_player", "image_grid", "mel_image", "plot_mel_grid", "plot_accuracy_bars",
           "umap_2d", "plot_by_attribute",
           "plot_pair_lines", "plot_history", "plot_waveform", "plot_mel", "side_by_side",
           "listen", "plot_knobs", "plot_systems", "plot_seen_unseen",
           "THEME", "LABELS", "label", "use_theme",
           "value_colours", "NAMED_COLOURS"]

_CHECKOUT = Path(__file__).resolve().parent.parent
# figures/ of the source checkout (an editable install, the tutorial's case); else ./figures
FIGURES_DIR = (_CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()) / "figures"


# --- one figure style --------------------------------------------------------------------------
# Sizes read at the notebooks' display size (figure.dpi 90-100): nothing under 8 pt.
THEME = {
    "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 8.5, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "legend.fontsize": 8, "legend.title_fontsize": 8,
    "figure.titlesize": 10.5, "figure.titleweight": "bold",
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlepad": 4.0,
    "image.cmap": "magma", "lines.linewidth": 1.6, "lines.markersize": 5,
    "errorbar.capsize": 3, "savefig.facecolor": "white", "figure.facecolor": "white",
}
_TITLE_PT = 8  # panel captions in grids (images, spectrograms): wrapped, at least 8 pt

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


def _themed(fn):
    """Draw ``fn``'s figure under :data:`THEME` (leaving the caller's rcParams as they were)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib
        with matplotlib.rc_context(THEME):
            return fn(*args, **kwargs)
    return wrapper


def _figure(width: float, height: float):
    """A pyplot-free Figure under constrained layout (titles, colour bars and legends get their
    room instead of overlapping the panels)."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def _value_axis(ax, key, values, axis: str = "y") -> None:
    """Start a value axis at zero (no truncated bars); fractions run to 1."""
    vals = [v for v in np.ravel(np.asarray(values, dtype=float)) if np.isfinite(v)]
    lo = min([0.0, *vals])
    hi = max([0.0, *vals]) if vals else 1.0
    if is_fraction(key):
        hi = max(hi, 1.0)
    hi = hi * 1.08 if hi > 0 else 1.0
    (ax.set_ylim if axis == "y" else ax.set_xlim)(lo * 1.08 if lo < 0 else 0.0, hi)


def figures_dir(fast: bool | None = None) -> Path:
    """Where notebooks write figures: ``figures/`` of the checkout, ``figures/fast/`` for FAST
    runs (ignored by git, so a smoke run never overwrites the committed figures).
    ``$V2A_KIT_FIGURES`` overrides the root. ``fast=None`` reads ``V2A_FAST``."""
    if fast is None:
        fast = os.environ.get("V2A_FAST") == "1"
    root = Path(os.environ.get("V2A_KIT_FIGURES", FIGURES_DIR))
    return root / "fast" if fast else root


def savefig(fig, name: str, fast: bool | None = None, dpi: int = 120) -> Path:
    """Save ``fig`` as ``<figures_dir>/<name>.png`` (atomically) and return the path."""
    from .atomic import atomic_path

    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"figure name {name!r}: expected a plain file stem like '01_world'")
    path = figures_dir(fast) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return path


def save_numbers(numbers: dict, name: str, fast: bool | None = None) -> Path:
    """Write ``numbers`` as ``<figures_dir>/<name>.json`` (atomically): the figures' data."""
    from .atomic import atomic_write
    path = figures_dir(fast) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (json.dumps(numbers, indent=2, sort_keys=True) + "\n").encode())
    return path


# --- players that play in any JupyterLab -------------------------------------------------------
# JupyterLab sanitises the HTML of an untrusted notebook (one opened for the first time): it keeps
# ``src`` on <audio> and <video> but strips it from <source>, the element IPython's Audio and
# Video put their data in. The kit's players carry the embedded sound on the element itself, so
# a committed notebook's players play before it is trusted or run (tests/test_browser.py).
def _media_tag(tag: str, data: bytes, mimetype: str, **attrs) -> str:
    import base64
    from html import escape
    extra = "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items() if v is not None)
    src = f"data:{mimetype};base64,{base64.b64encode(data).decode('ascii')}"
    return f'<{tag} controls preload="metadata"{extra} src="{src}"></{tag}>'


@functools.cache
def _audio_class():
    from IPython.display import Audio

    class Player(Audio):
        """``IPython.display.Audio`` whose HTML carries the sound on the <audio> element."""

        def _repr_html_(self):
            return _media_tag("audio", self.data, self.mimetype)

        def __repr__(self):  # the plain-text form, where HTML does not show
            import io
            import wave
            with wave.open(io.BytesIO(self.data)) as w:
                rate, frames = w.getframerate(), w.getnframes()
            return f"<audio player: {frames / rate:.2f} s at {rate} Hz>"

    return Player


def audio_player(waveform, sampling_rate: int = 16000, normalize: bool = False):
    """An inline player (an ``IPython.display.Audio``) for one waveform (samples,), whose
    sound plays in JupyterLab whether or not the notebook is trusted.

    ``normalize=False`` keeps loudness audible as loudness (IPython's default rescales every
    clip to full scale, which would hide the pocket world's size ↔ loudness mapping).
    """
    w = np.asarray(waveform, dtype=np.float32).reshape(-1)
    if not normalize:
        w = np.clip(w, -1.0, 1.0)
    return _audio_class()(w, rate=sampling_rate, normalize=normalize)


def video_player(path, width: int | None = None):
    """An inline player for an mp4 file, embedded in the notebook (``IPython.display.HTML``);
    like :func:`audio_player` it plays whether or not the notebook is trusted."""
    from IPython.display import HTML
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"video_player: {path}: expected an .mp4 file")
    return HTML(_media_tag("video", path.read_bytes(), "video/mp4", width=width))


def _grid(n: int, ncols: int, width: float, height: float):
    """A Figure with ``n`` panels in rows of ``ncols`` (``width`` × ``height`` inches each);
    returns it and the flat list of axes, the unused ones switched off."""
    ncols = max(1, min(ncols, n)) if n else max(1, ncols)
    nrows = max(1, -(-n // ncols))
    fig = _figure(width * ncols, height * nrows)
    axes = list(fig.subplots(nrows, ncols, squeeze=False).flat)
    for ax in axes[n:]:
        ax.axis("off")
    return fig, axes


def _caption_lines(titles, width: int) -> int:
    """The most lines any of ``titles`` wraps to at ``width`` characters (0 without titles)."""
    if titles is None:
        return 0
    return max([_wrap(t, width).count("\n") + 1 for t in titles] or [0])


@_themed
def image_grid(images, titles=None, ncols: int = 6, size: float = 1.6, title: str | None = None):
    """A grid of images (n, h, w, 3) uint8, each with an optional caption above it (wrapped,
    with room of its own: captions never overlap the images); ``title`` over the whole grid.
    Returns the Figure."""
    images = np.asarray(images)
    n = len(images)
    width = max(14, int(size * 13))               # characters per caption line at 8 pt
    lines = _caption_lines(None if titles is None else [titles[i] for i in range(n)], width)
    fig, axes = _grid(n, ncols, max(size, 1.2), size + 0.16 * lines + 0.1)
    for i, ax in enumerate(axes[:n]):
        ax.axis("off")
        ax.imshow(images[i])
        if titles is not None:
            ax.set_title(_wrap(titles[i], width), fontsize=_TITLE_PT)
    if title:
        fig.suptitle(title)
    return fig


def mel_image(waveform, sampling_rate: int = 16000) -> np.ndarray:
    """The pocket log-mel (64, frames) of one waveform, for display."""
    import torch

    from .pocket.models.audio import LogMel
    w = torch.as_tensor(np.asarray(waveform, dtype=np.float32).reshape(1, -1))
    return LogMel(sampling_rate=sampling_rate)(w)[0].numpy()


def _time_panel(ax, title: str | None, width: int = 34) -> None:
    """Label one panel of a grid of signals against time: the time axis, a wrapped title."""
    ax.set_xlabel("time (s)")
    if title is not None:
        ax.set_title(_wrap(title, width), fontsize=_TITLE_PT)


MEL_COLOURBAR_LABEL = "log mel power (ln)"


@_themed
def plot_mel_grid(waveforms, titles=None, ncols: int = 4, sampling_rate: int = 16000,
                  vmin: float = -11.5, vmax: float = 6.0, title: str | None = None,
                  colorbar: bool = True):
    """Log-mel spectrograms of several waveforms on one colour scale (so loudness compares),
    with one colour bar for all of them and ``title`` over the grid."""
    n = len(waveforms)
    lines = _caption_lines(titles, 34)
    fig, axes = _grid(n, ncols, 3.0, 2.0 + 0.15 * lines)
    im = None
    for i, ax in enumerate(axes[:n]):
        mel = mel_image(waveforms[i], sampling_rate)
        seconds = mel.shape[1] / 100
        im = ax.imshow(mel, origin="lower", aspect="auto", vmin=vmin, vmax=vmax, cmap="magma",
                       extent=(0, seconds, 0, mel.shape[0]))
        ax.set_ylabel("mel band (low → high)")
        _time_panel(ax, None if titles is None else titles[i])
    if colorbar and im is not None:
        fig.colorbar(im, ax=axes[:n], label=MEL_COLOURBAR_LABEL, shrink=0.9, pad=0.02)
    if title or titles is None:      # panels without captions still get a title
        fig.suptitle(title or "log-mel spectrogram" + ("s" if n > 1 else ""))
    return fig


@_themed
def plot_accuracy_bars(results: dict[str, dict[str, float]], title: str = "",
                       chance: dict[str, float] | None = None,
                       spread: dict[str, dict[str, float]] | None = None):
    """Grouped bars: one group per attribute, one bar per entry of ``results``
    (name -> {attribute: accuracy}); optional chance level per attribute as dotted ticks, and
    ``spread`` (name -> {attribute: std over seeds}) as error bars. The axis runs from 0 to 1."""
    names = list(results)
    attrs = [a for a in next(iter(results.values())) if a != "all"] + ["all"]
    x = np.arange(len(attrs))
    width = 0.8 / len(names)
    fig = _figure(1.3 * len(attrs) + 3.2, 3.2)
    ax = fig.subplots()
    for i, name in enumerate(names):
        vals = [results[name].get(a, np.nan) for a in attrs]
        err = None if not spread or name not in spread else \
            [spread[name].get(a, 0.0) for a in attrs]
        bars = ax.bar(x + (i - (len(names) - 1) / 2) * width, vals, width, label=name, yerr=err)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    if chance:
        for j, a in enumerate(attrs):
            if a in chance:
                ax.hlines(chance[a], j - 0.45, j + 0.45, colors="k", linestyles="dotted",
                          label="chance" if j == min(k for k, b in enumerate(attrs)
                                                     if b in chance) else None)
    ax.set_xticks(x, ["all four" if a == "all" else a for a in attrs])
    ax.set_xlabel("attribute")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(label("accuracy"))
    ax.set_title(title or "accuracy per attribute")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def umap_2d(*embeds, seed: int = 0, n_neighbors: int = 15, min_dist: float = 0.1):
    """Fit **one** UMAP on the rows of all ``embeds`` together (one space, equal d) and return
    one (n_i, 2) array per input — the Modality-Gap recipe: a shared reducer, so distances
    between the sets are comparable. Seeded (``random_state``), hence single-threaded."""
    import umap

    arrays = [np.asarray(e.embeds if hasattr(e, "embeds") else e, dtype=np.float32)
              for e in embeds]
    if len({a.shape[1] for a in arrays}) != 1:
        raise ValueError("one reducer needs one space: the inputs have dimensions "
                         f"{[a.shape[1] for a in arrays]}")
    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric="cosine",
                        random_state=seed, n_jobs=1)  # seeded UMAP is single-threaded
    xy = reducer.fit_transform(np.concatenate(arrays))
    return np.split(xy, np.cumsum([len(a) for a in arrays])[:-1])


def _umap_axes(ax) -> None:
    """UMAP's coordinates have no unit: label the axes, hide the ticks."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("UMAP 1 (no unit)")
    ax.set_ylabel("UMAP 2 (no unit)")


@_themed
def plot_by_attribute(xy: np.ndarray, labels: dict[str, np.ndarray],
                      names: dict[str, list[str]], title: str = "", size: float = 2.6):
    """One scatter per attribute of ``names`` that ``labels`` holds, of (n, 2) points, coloured
    by that attribute's value (so a labels dict with more attributes than ``names`` is fine).

    Every panel draws the points in one shuffled order, so no value is painted over another
    wholesale (drawn value by value, the last one hides the rest wherever they overlap); an
    attribute whose values are colour names is drawn in those colours."""
    attrs = [a for a in names if a in labels]
    fig = _figure(size * len(attrs), size + 0.5)
    axes = fig.subplots(1, len(attrs), squeeze=False)
    order = np.random.default_rng(0).permutation(len(xy))
    for ax, a in zip(axes[0], attrs):
        palette = value_colours(names[a])
        values = np.asarray(labels[a])[order]
        ax.scatter(xy[order, 0], xy[order, 1], s=4, alpha=0.7,
                   c=[palette[v] for v in values], rasterized=True)
        for v, name in enumerate(names[a]):  # the legend's markers, one per value
            ax.scatter([], [], s=12, color=palette[v], label=name)
        ax.set_title(f"coloured by {a}")
        _umap_axes(ax)
        ax.legend(fontsize=7, markerscale=2, loc="best")
    fig.suptitle(title or "UMAP of the embeddings, by attribute")
    return fig


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


@_themed
def plot_pair_lines(xy_a: np.ndarray, xy_b: np.ndarray, label_a: str, label_b: str,
                    num_lines: int = 60, title: str = "", seed: int = 0):
    """Two point sets from one reducer, and a line from each of ``num_lines`` random pairs'
    point in ``a`` to its partner in ``b`` (the Modality-Gap figure)."""
    fig = _figure(4.6, 4.2)
    ax = fig.subplots()
    ax.scatter(xy_a[:, 0], xy_a[:, 1], s=4, alpha=0.6, label=label_a)
    ax.scatter(xy_b[:, 0], xy_b[:, 1], s=4, alpha=0.6, label=label_b)
    idx = np.random.default_rng(seed).choice(len(xy_a), min(num_lines, len(xy_a)), False)
    for k, i in enumerate(idx):
        ax.plot([xy_a[i, 0], xy_b[i, 0]], [xy_a[i, 1], xy_b[i, 1]], c="k", lw=0.4, alpha=0.4,
                label="a pair (same clip)" if k == 0 else None)
    _umap_axes(ax)
    ax.legend(markerscale=2)
    ax.set_title(title or f"{label_a} vs {label_b}: lines join pairs")
    return fig


@_themed
def plot_samples_per_image(xy_real: np.ndarray, xy_generative: np.ndarray,
                           xy_regression: np.ndarray, num_samples: int, title: str = ""):
    """One reducer's points for the same images (image-major rows, ``num_samples`` per image
    for real and generative, one per image for regression): one colour per image; circles =
    real sounds, triangles = the generative mapper's samples, crosses = the regression mapper's
    single answer."""
    fig = _figure(5.2, 4.4)
    ax = fig.subplots()
    n = len(xy_regression)
    colours = [f"C{i % 10}" for i in range(n)]
    for i in range(n):
        rows = slice(i * num_samples, (i + 1) * num_samples)
        first = i == 0
        ax.scatter(*xy_real[rows].T, s=22, c=colours[i], marker="o", alpha=0.75,
                   label="real sounds" if first else None)
        ax.scatter(*xy_generative[rows].T, s=30, c=colours[i], marker="^", alpha=0.75,
                   edgecolors="k", linewidths=0.4, label="generative samples" if first else None)
        ax.scatter(*xy_regression[i], s=90, c=colours[i], marker="X", edgecolors="k",
                   linewidths=0.8, label="regression (one answer)" if first else None)
    _umap_axes(ax)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or "CLAP embeddings of one image's sounds (one colour per image)")
    return fig


@_themed
def plot_history(histories: dict, keys=("train_loss", "val_loss", "recall@1"),
                 title: str | None = None):
    """Training curves: one panel per key, one line per named :class:`v2a_kit.train.History`
    (or its ``to_dict()``, or a summary's ``history`` dict of columns). Panel titles and axes in
    words (:data:`LABELS`); losses on a log scale, fractions from 0 to 1."""
    fig = _figure(3.3 * len(keys), 3.0)
    axes = fig.subplots(1, len(keys), squeeze=False)
    for name, h in histories.items():
        cols = _history_columns(h)
        for ax, k in zip(axes[0], keys):
            if k in cols:
                ax.plot(np.arange(len(cols[k])), cols[k], label=name)
    for ax, k in zip(axes[0], keys):
        ax.set_title(label(k))
        ax.set_xlabel("epoch")
        if "loss" in k:
            ax.set_yscale("log")
            ax.set_ylabel("loss (log scale)")
        else:
            ax.set_ylabel(label(k).split(" (")[0])
            if is_fraction(k):
                ax.set_ylim(0, 1.02)
    axes[0][0].legend()
    fig.suptitle(title or "training curves")
    return fig


def _history_columns(h) -> dict:
    if hasattr(h, "epochs"):
        h = h.to_dict()
    if "epochs" in h:
        return {k: [e[k] for e in h["epochs"] if k in e] for k in h["epochs"][0]}
    return h


# --- listening: waveforms, spectrograms, players side by side ---------------------------------
@_themed
def plot_waveform(waveforms, titles=None, sampling_rate: int = 16000, ncols: int = 4,
                  title: str | None = None):
    """Waveforms ((samples,) or (n, samples)) against time, on one amplitude scale [-1, 1]."""
    w = np.asarray(waveforms, dtype=np.float32)
    w = w[None] if w.ndim == 1 else w
    n = len(w)
    fig, axes = _grid(n, min(ncols, n), 3.0, 1.9 + 0.15 * _caption_lines(titles, 34))
    for i, ax in enumerate(axes[:n]):
        ax.plot(np.arange(w.shape[1]) / sampling_rate, w[i], lw=0.4, color="#33547a")
        ax.set_ylim(-1, 1)
        ax.set_ylabel("amplitude (full scale ±1)")
        _time_panel(ax, None if titles is None else titles[i])
    fig.suptitle(title or "waveform" + ("s" if n > 1 else ""))
    return fig


def plot_mel(waveform, title: str = "", sampling_rate: int = 16000):
    """One log-mel spectrogram (the pocket front end: 64 mel bins, 10 ms hop); a Figure."""
    return plot_mel_grid([waveform], [title] if title else None, ncols=1,
                         sampling_rate=sampling_rate)


def _png_data_uri(fig_or_image, dpi: int = 80) -> str:
    import base64
    import io
    buf = io.BytesIO()
    if hasattr(fig_or_image, "savefig"):
        fig_or_image.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    else:
        from PIL import Image
        im = fig_or_image if isinstance(fig_or_image, Image.Image) else \
            Image.fromarray(np.asarray(fig_or_image, dtype=np.uint8))
        im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def side_by_side(images, waveforms, titles=None, sampling_rate: int = 16000,
                 image_px: int = 96):
    """A table, one row per input: image | spectrogram and player for each of its sounds.

    Args:
        images: n images (PIL or (h, w, 3) uint8).
        waveforms: n rows, each (samples,) or (num_samples, samples).
        titles: n strings (optional).
    Returns:
        ``IPython.display.HTML`` — the value of a cell shows it; it embeds every sound (a 1 s
        16 kHz clip is ~43 KB of notebook), so keep batches small.
    """
    from html import escape

    from IPython.display import HTML

    if len(images) != len(waveforms):
        raise ValueError(f"side_by_side: {len(images)} images but {len(waveforms)} rows of "
                         "waveforms; need one row per image")
    rows = []
    for i, (im, w) in enumerate(zip(images, waveforms)):
        w = np.asarray(w, dtype=np.float32)
        w = w[None] if w.ndim == 1 else w
        cells = [f'<td style="text-align:center"><img src="{_png_data_uri(im)}" '
                 f'width="{image_px}" style="image-rendering:pixelated"/><br/>'
                 f'<small>{escape(titles[i]) if titles is not None else ""}</small></td>']
        for j, wave in enumerate(w):
            fig = plot_mel_grid([wave], [f"sound {j}"], ncols=1, sampling_rate=sampling_rate)
            fig.set_size_inches(3.2, 1.8)
            player = audio_player(wave, sampling_rate)._repr_html_()
            cells.append(f'<td style="text-align:center"><img src="{_png_data_uri(fig)}"/>'
                         f"<br/>{player}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return HTML('<table class="v2a-side-by-side">' + "".join(rows) + "</table>")


def listen(output, max_items: int = 8):
    """:func:`side_by_side` for a :class:`~v2a_kit.pipeline.V2AOutput` (its first
    ``max_items`` inputs; video rows show the middle frame)."""
    items = list(output)[:max_items]
    return side_by_side([it.image for it in items], [it.waveforms for it in items],
                        [f"{Path(it.source).name} ({it.duration_s:.2f} s)" for it in items],
                        sampling_rate=items[0].sampling_rate if items else 16000)


def _mean_std(v) -> tuple[float, float]:
    """A value, or a ``{"mean": ..., "std": ...}`` record of one over seeds."""
    if isinstance(v, dict):
        return float(v["mean"]), float(v.get("std") or 0.0)
    return float(v), 0.0


@_themed
def plot_knobs(knobs: dict[str, dict], metrics=("all four", "CS"), title: str | None = None,
               spread: dict[str, dict] | None = None):
    """How metrics move with a generation knob: ``knobs`` = knob name -> {setting -> {metric:
    value}}; one column per knob, one row per metric. A value may be ``{"mean", "std"}`` over
    seeds, or give ``spread`` (same nesting, the std): both draw error bars. Value axes start at
    0 (fractions run to 1), so a small change looks small. Returns the Figure."""
    fig = _figure(3.4 * len(knobs), 2.4 * len(metrics) + 0.4)
    axes = fig.subplots(len(metrics), len(knobs), squeeze=False)
    for c, (knob, by_setting) in enumerate(knobs.items()):
        xs = list(by_setting)
        for r, m in enumerate(metrics):
            ax = axes[r, c]
            stats = [_mean_std(by_setting[x][m]) for x in xs]
            ys = [s[0] for s in stats]
            errs = [s[1] for s in stats]
            if spread and knob in spread:
                errs = [float(spread[knob].get(x, {}).get(m, 0.0)) for x in xs]
            ax.errorbar(range(len(xs)), ys, yerr=errs if any(errs) else None, fmt="o-",
                        color="#33547a")
            ax.set_xticks(range(len(xs)), [f"{x:g}" if isinstance(x, float) else str(x)
                                           for x in xs])
            ax.set_ylabel(_wrap(label(m), 24))
            _value_axis(ax, m, np.add(ys, errs))
            if r == 0:
                ax.set_title(f"varying {knob}")
            ax.set_xlabel(knob)
    fig.suptitle(title or "what the generation knobs change (higher is better)")
    return fig


@_themed
def plot_systems(report: dict, metrics=("fd", "kl", "cs", "acc_all"), title: str | None = None):
    """One panel per metric: each system's mean over seeds with the seeds' spread (± std) and
    the per-seed values as dots. ``report``: :func:`v2a_kit.pocket.reproduce.reproduce`'s.
    Panels are titled in words with the better direction (:data:`LABELS`); bars start at 0."""
    systems = report["systems"]
    names = list(systems)
    ref = "real audio" if "real audio" in names else (names[0] if names else None)
    fig = _figure(3.4 * len(metrics), 0.42 * len(names) + 1.5)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, m in zip(axes, metrics):
        tops = []
        for k, name in enumerate(names):
            stat = systems[name]["metrics"][m]
            if stat["mean"] is None:
                continue
            ax.barh(k, stat["mean"], xerr=stat["std"] or 0,
                    color="#c8b39f" if name == ref else "#9fb3c8",
                    edgecolor="#33547a")
            seeds = [v for v in stat.get("per_seed", []) if v is not None]
            ax.plot(seeds, [k] * len(seeds), "o", ms=2.5, color="#33547a")
            tops += [stat["mean"] + (stat["std"] or 0), *seeds]
        ax.set_yticks(range(len(names)), names if ax is axes[0] else [""] * len(names))
        if ax is axes[0]:
            ax.set_ylabel("system")
        ax.invert_yaxis()
        ax.set_title(_wrap(label(m), 26))
        ax.set_xlabel(label(m).split(" (")[0].replace(" ↑", "").replace(" ↓", "")
                      + (" (fraction)" if is_fraction(m) else ""))
        _value_axis(ax, m, tops, axis="x")
    nseeds = max((len(s["metrics"][metrics[0]].get("per_seed", []))
                  for s in systems.values()), default=0)
    if not title:
        title = f"each system: mean ± std over {nseeds} seed(s), dots = seeds"
        title += f"; tan bar: {ref}" if ref else ""
    fig.suptitle(title)
    return fig


def plot_seen_unseen(report: dict, metrics=("acc_all", "cs", "fd", "spread_ratio_median"),
                     systems=None, title: str | None = None):
    """SEEN beside UNSEEN, one panel per metric: for each system a pair of bars (seen, unseen),
    each the mean over mapper seeds with their spread (± std) and the seeds as dots.
    ``report``: :func:`v2a_kit.pocket.science.measure_science`'s (``splits`` -> split -> system
    -> metric -> {mean, std, per_seed}). Systems missing a metric (a spread ratio for a system
    with one sound per image) leave their bars out."""
    splits = report["splits"]
    names = list(systems or splits["seen"])
    colours = {"seen": "#9fb3c8", "unseen": "#d9a66c"}
    fig = _figure(3.4 * len(metrics), 0.5 * len(names) + 1.7)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, m in zip(axes, metrics):
        tops, labelled = [], set()
        for k, name in enumerate(names):
            for j, split in enumerate(("seen", "unseen")):
                stat = splits[split].get(name, {}).get(m)
                if stat is None or stat["mean"] is None:
                    continue
                y = k + (j - 0.5) * 0.38
                ax.barh(y, stat["mean"], height=0.36, xerr=stat["std"] or 0,
                        color=colours[split], edgecolor="#33547a",
                        label=None if split in labelled else split)
                labelled.add(split)
                seeds = [v for v in stat.get("per_seed", []) if v is not None]
                ax.plot(seeds, [y] * len(seeds), "o", ms=2.2, color="#33547a")
                tops += [stat["mean"] + (stat["std"] or 0), *seeds]
        ax.set_yticks(range(len(names)), names if ax is axes[0] else [""] * len(names))
        ax.invert_yaxis()
        ax.set_title(_wrap(label(m), 26))
        ax.set_xlabel(label(m).split(" (")[0].replace(" ↑", "").replace(" ↓", "")
                      + (" (fraction)" if is_fraction(m) else ""))
        _value_axis(ax, m, tops, axis="x")
        if m.startswith("spread_ratio"):
            ax.axvline(1.0, color="#555555", lw=0.8, ls="--")
    handles, labels_ = axes[0].get_legend_handles_labels()
    seen_once = dict(zip(labels_, handles))
    fig.legend([seen_once[k] for k in ("seen", "unseen") if k in seen_once],
               [f"{k.upper()} combinations" for k in ("seen", "unseen") if k in seen_once],
               loc="outside lower center", ncol=2, frameon=False)
    nseeds = len(report.get("settings", {}).get("seeds", [])) or "?"
    fig.suptitle(title or f"SEEN vs UNSEEN combinations: mean ± std over {nseeds} mapper "
                          "seed(s), dots = seeds")
    return fig


@_themed
def plot_efficiency(report: dict, metrics=("fd", "acc_all"), split: str = "unseen",
                    title: str | None = None):
    """Why a mapper? (:func:`v2a_kit.pocket.efficiency.measure_efficiency`'s report): one panel
    per metric against the training-set size (pairs, log scale; SEEN solid, UNSEEN dashed), then
    ``metrics[0]`` on ``split`` against the *trained* parameters (from zero; a marker per
    system and size, larger for more pairs). Each point: the mean over seeds, bars ± std; real
    audio's value is the grey line."""
    systems = report["systems"]
    colours = {"regression": "#4c72b0", "generative": "#dd8452", "direct": "#55a868"}
    fig = _figure(3.6 * (len(metrics) + 1), 3.4)
    axes = fig.subplots(1, len(metrics) + 1, squeeze=False)[0]
    for ax, m in zip(axes, metrics):
        tops = []
        for k, (name, by_size) in enumerate(systems.items()):
            sizes = sorted(by_size, key=int)
            for split_, ls in (("seen", "-"), ("unseen", "--")):
                stats = [by_size[s][split_][m] for s in sizes]
                if any(st["mean"] is None for st in stats):
                    continue
                y = [st["mean"] for st in stats]
                err = [st["std"] or 0 for st in stats]
                ax.errorbar([int(s) for s in sizes], y, yerr=err, ls=ls, marker="o", ms=3.5,
                            capsize=2, color=colours.get(name, f"C{k}"),
                            label=f"{name} ({split_.upper()})")
                tops += [a + b for a, b in zip(y, err)]
        real = report.get("real audio", {}).get(split, {}).get(m)
        if real and real["mean"] is not None:
            ax.axhline(real["mean"], color="#888888", lw=0.8, ls=":", label=f"real audio "
                                                                              f"({split.upper()})")
            tops.append(real["mean"])
        ax.set_xscale("log")
        all_sizes = sorted({int(s) for by_size in systems.values() for s in by_size})
        ax.set_xticks(all_sizes, [f"{s:,}" for s in all_sizes])
        ax.minorticks_off()
        ax.set_xlabel("training pairs")
        ax.set_ylabel(label(m))
        ax.set_title(_wrap(f"{label(m)} vs training pairs", 34))
        _value_axis(ax, m, tops)
    ax, m = axes[-1], metrics[0]
    tops = []
    for k, (name, by_size) in enumerate(systems.items()):
        for j, size in enumerate(sorted(by_size, key=int)):
            st = by_size[size][split][m]
            if st["mean"] is None:
                continue
            ax.errorbar(by_size[size]["parameters"], st["mean"], yerr=st["std"] or 0,
                        marker="o", ms=3 + 2.5 * j, capsize=2, color=colours.get(name, f"C{k}"),
                        label=name if j == 0 else None)
            tops.append(st["mean"] + (st["std"] or 0))
    from matplotlib.ticker import FuncFormatter
    params = [row["parameters"] for by_size in systems.values() for row in by_size.values()]
    ax.set_xlim(0, 1.15 * max(params))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:.3g} M"))
    ax.set_xlabel("trained parameters")
    ax.set_ylabel(label(m))
    ax.set_title(_wrap(f"{label(m)} ({split.upper()}) vs trained parameters; larger = more "
                       "pairs", 34))
    _value_axis(ax, m, tops)
    ax.legend(frameon=False, fontsize="small")
    handles, labels_ = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels_, loc="outside lower center", ncol=4, frameon=False,
               fontsize="small")
    nseeds = len(report.get("settings", {}).get("seeds", [])) or "?"
    fig.suptitle(title or f"Mappers into frozen models vs a generator trained on image "
                          f"embeddings: mean ± std over {nseeds} seed(s)")
    return fig


__all__ += ["plot_efficiency"]


# --- computed prose: sentences whose figures come from the notebook's variables ----------------
def render(template: str, **values) -> str:
    """``template.format(**values)``, refusing a field that no value fills (a ``ConfigError``
    naming it) instead of leaving a hole in the sentence."""
    import string

    from .errors import ConfigError
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    missing = sorted({f.split(".")[0].split("[")[0] for f in fields} - set(values))
    if missing:
        raise ConfigError(f"say(): the template names {missing} but no value was given for "
                          f"{'it' if len(missing) == 1 else 'them'}; pass {missing[0]}=...")
    return template.format(**values)


def say(template: str, **values) -> None:
    """Show a Markdown sentence whose figures come from variables: ``say("recall@1 is
    {r:.3f}", r=recall)``. The notebooks state measured numbers this way, never typed into a
    markdown cell, so the prose follows whatever the models produce (``tests/
    test_notebook_prose.py`` checks that every figure in a markdown cell is shown by an output).
    """
    from IPython.display import Markdown, display
    display(Markdown(render(template, **values)))


def measured_runtime(notebook: str) -> dict | None:
    """The last measured run time of ``notebook`` (e.g. ``"03_regression_mapper"``) from
    ``benchmarks/results/runtimes.json`` (``tools/measure_runtimes.py``): ``{"full_s",
    "fast_s", "cores", "date", "load"}`` (the full-mode run's machine: the notebook's own where
    it was measured alone, else the run of all notebooks'; ``load``: the load average when it
    started; ``fast_date`` / ``fast_load``: the same of the FAST run), or ``None`` outside a
    source checkout or if not measured."""
    path = _CHECKOUT / "benchmarks" / "results" / "runtimes.json"
    try:
        data = json.loads(path.read_text())
        times = data["notebooks"][notebook]
        machine = times.get("full_machine") or data.get("machines", {}).get("notebooks-full", {})
        fast = times.get("fast_machine") or data.get("machines", {}).get("notebooks-fast", {})
        return {"full_s": float(times["full_s"]), "fast_s": float(times["fast_s"]),
                "cores": machine.get("cores"), "date": machine.get("date"),
                "load": machine.get("load_average_at_start"), "fast_date": fast.get("date"),
                "fast_load": fast.get("load_average_at_start")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def runtime_sentence(notebook: str, note: str = "") -> str:
    """The Markdown line stating a notebook's measured run time (:func:`measured_runtime`): on
    which machine, at what load and when it was measured; ``note`` is added after it (what that
    machine lacked, for instance)."""
    t = measured_runtime(notebook)
    if t is None:
        text = ("**Run time**: not measured in this installation (`python "
                f"tools/measure_runtimes.py notebooks {notebook}` measures it).")
    else:
        def when(date, load):
            return date + ("" if load is None else f", load average {load:.1f} at the start")
        fast_when = ("" if t["fast_date"] is None or
                     (t["fast_date"], t["fast_load"]) == (t["date"], t["load"]) else
                     f", measured in another run ({when(t['fast_date'], t['fast_load'])})")
        text = render("**Run time**, as last measured by `tools/measure_runtimes.py` on {cores} "
                      "CPU cores ({when}): {full:.0f} s in full mode; {fast:.0f} s in FAST mode "
                      "(`V2A_FAST=1`){fast_when}.", cores=t["cores"],
                      when=when(t["date"], t["load"]), full=t["full_s"], fast=t["fast_s"],
                      fast_when=fast_when)
    return text + (f" {note}" if note else "")


def say_runtime(notebook: str, note: str = "") -> None:
    """State a notebook's measured run time as a Markdown line (:func:`runtime_sentence`).
    ``tools/measure_runtimes.py`` rewrites this line's output after it records a run, so a
    committed notebook states the same figure as the README's table."""
    say(runtime_sentence(notebook, note))


__all__ += ["render", "say", "measured_runtime", "runtime_sentence", "say_runtime",
            "plot_samples_per_image"]


# --- the 2-D example of notebook 04 (v2a_kit.datasets.modes) ---------------------------------
__all__ += ["plot_modes"]

_MODE_COLOURS = {"data": "0.55", "diffusion": "#1f77b4", "regression": "#d62728"}


def plot_modes(draws, num_panels: int = 3, size: float = 2.8):
    """The 2-D example of :mod:`v2a_kit.datasets.modes`: where each mapper's answers fall.

    Left: every held-out input of ``draws`` (x: its direction) with each answer's turn from it
    (y): fresh data targets, the diffusion prior's samples and the regression mapper's one
    answer, against the true modes and the conditional mean. Right: ``num_panels`` of the inputs
    on the unit circle (the 2-D sphere the embeddings live on): the input's direction as an
    arrow, the diffusion samples and the regression answer on the circle, the data targets on a
    ring just outside it (so the two do not hide each other). The title's numbers are
    :func:`v2a_kit.datasets.modes.measure` of ``draws``.
    """
    from matplotlib.figure import Figure

    from .datasets.modes import ModeDraws, measure
    from .errors import ConfigError

    if not isinstance(draws, ModeDraws):
        raise ConfigError(f"draws must be the ModeDraws of v2a_kit.datasets.modes.draw, got "
                          f"{type(draws).__name__}")
    n = len(draws.input_deg)
    if isinstance(num_panels, bool) or not isinstance(num_panels, int) \
            or not 1 <= num_panels <= n:
        raise ConfigError(f"num_panels={num_panels!r}; expected an int in 1..{n}")
    spec, numbers = draws.spec, measure(draws)
    fig = Figure(figsize=(size * (2 + num_panels), size * 1.25), layout="constrained")
    grid = fig.add_gridspec(1, 2 + num_panels)
    ax = fig.add_subplot(grid[0, :2])
    x, s = draws.input_deg, draws.data_deg.shape[1]
    for source, label in (("data", "data: targets drawn for the input"),
                          ("diffusion", "diffusion prior: its samples")):
        ax.scatter(np.repeat(x, s), draws.offsets(source).ravel(), s=3, alpha=0.35,
                   color=_MODE_COLOURS[source], label=label, rasterized=True)
    ax.plot(x, draws.offsets("regression")[:, 0], ".", ms=4, color=_MODE_COLOURS["regression"],
            label="regression mapper: its one answer")
    for k, (offset, weight) in enumerate(zip(spec.offsets_deg, spec.weights)):
        ax.axhline(offset, ls=":", lw=0.8, color="k")
        ax.text(x.max(), offset + 4, f"mode {k + 1}: {weight:.0%} of targets", ha="right",
                fontsize=7)
    ax.axhline(spec.mean_offset_deg, ls="--", lw=0.8, color=_MODE_COLOURS["regression"])
    ax.text(x.min(), spec.mean_offset_deg + 4, "conditional mean", fontsize=7,
            color=_MODE_COLOURS["regression"])
    ax.set(xlim=(-180, 180), ylim=(-180, 180), xlabel="input direction (degrees)",
           ylabel="answer's turn from the input (degrees)",
           title="Held-out inputs: the answers' turns from the input")
    ax.legend(loc="lower left", fontsize=7, markerscale=3)
    for p, i in enumerate(np.linspace(0, n - 1, num_panels + 2)[1:-1].round().astype(int)):
        _mode_circle(fig.add_subplot(grid[0, 2 + p]), draws, int(i), legend=p == 0)
    reg, dif = numbers["regression"], numbers["diffusion"]
    fig.suptitle(
        f"{spec.num_modes} right answers per input ({numbers['mode_separation_deg']:.0f}° "
        f"apart): the regression answer lies {reg['dist_to_nearest_mode_deg']:.0f}° from the "
        f"nearest mode; {dif['on_mode_fraction']:.0%} of the diffusion samples lie on a mode, in "
        "proportions " + " / ".join(f"{p:.2f}" for p in dif["mode_proportions"])
        + " (true " + " / ".join(f"{w:.2f}" for w in spec.weights) + ")", fontsize=9)
    return fig


def _mode_circle(ax, draws, i: int, legend: bool) -> None:
    """One input of :func:`plot_modes` on the unit circle."""
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(t), np.sin(t), lw=0.6, color="0.8")
    for source, radius, label in (("data", 1.15, "data targets (outer ring)"),
                                  ("diffusion", 1.0, "diffusion samples")):
        a = np.deg2rad(draws.data_deg[i] if source == "data" else draws.diffusion_deg[i])
        ax.scatter(radius * np.cos(a), radius * np.sin(a), s=10, alpha=0.5,
                   color=_MODE_COLOURS[source], label=label)
    r = np.deg2rad(draws.regression_deg[i])
    ax.plot(np.cos(r), np.sin(r), "*", ms=12, color=_MODE_COLOURS["regression"],
            label="regression answer")
    a = np.deg2rad(draws.input_deg[i])
    ax.annotate("", (0.8 * np.cos(a), 0.8 * np.sin(a)), (0, 0),
                arrowprops={"arrowstyle": "->", "color": "k"})
    ax.text(0.4 * np.cos(a), 0.4 * np.sin(a) + 0.1, "input", fontsize=7, ha="center")
    ax.set(xlim=(-1.35, 1.35), ylim=(-1.35, 1.35), aspect="equal", xticks=[], yticks=[],
           title=f"input at {draws.input_deg[i]:.0f}°")
    if legend:
        ax.legend(loc="upper left", fontsize=6, bbox_to_anchor=(0.0, -0.02), frameon=False)
