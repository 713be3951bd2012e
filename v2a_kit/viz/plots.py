"""The plots: each returns its ``matplotlib.figure.Figure`` (made without pyplot, so Jupyter shows
it once) and draws under :data:`~v2a_kit.viz.theme.THEME`."""

from __future__ import annotations

import numpy as np

from ..evaluation.labels import is_fraction
from .theme import (
    TITLE_PT,
    caption_lines,
    grid_axes,
    label,
    new_figure,
    themed,
    value_axis,
    value_colours,
    wrap_title,
)

__all__ = ["image_grid", "mel_image", "plot_mel_grid", "plot_accuracy_bars", "umap_2d",
           "plot_by_attribute", "plot_pair_lines", "plot_history", "plot_waveform", "plot_mel",
           "plot_knobs", "plot_systems", "plot_seen_unseen", "plot_efficiency",
           "plot_samples_per_image", "plot_modes"]


@themed
def image_grid(images, titles=None, ncols: int = 6, size: float = 1.6, title: str | None = None):
    """A grid of images (n, h, w, 3) uint8, each with an optional caption above it (wrapped,
    with room of its own: captions never overlap the images); ``title`` over the whole grid.
    Returns the Figure."""
    images = np.asarray(images)
    n = len(images)
    width = max(14, int(size * 13))               # characters per caption line at 8 pt
    lines = caption_lines(None if titles is None else [titles[i] for i in range(n)], width)
    fig, axes = grid_axes(n, ncols, max(size, 1.2), size + 0.16 * lines + 0.1)
    for i, ax in enumerate(axes[:n]):
        ax.axis("off")
        ax.imshow(images[i])
        if titles is not None:
            ax.set_title(wrap_title(titles[i], width), fontsize=TITLE_PT)
    if title:
        fig.suptitle(title)
    return fig


def mel_image(waveform, sampling_rate: int = 16000) -> np.ndarray:
    """The pocket log-mel (64, frames) of one waveform, for display."""
    import torch

    from ..pocket.models.audio import LogMel
    w = torch.as_tensor(np.asarray(waveform, dtype=np.float32).reshape(1, -1))
    return LogMel(sampling_rate=sampling_rate)(w)[0].numpy()


def _time_panel(ax, title: str | None, width: int = 34) -> None:
    """Label one panel of a grid of signals against time: the time axis, a wrapped title."""
    ax.set_xlabel("time (s)")
    if title is not None:
        ax.set_title(wrap_title(title, width), fontsize=TITLE_PT)


MEL_COLOURBAR_LABEL = "log mel power (ln)"


@themed
def plot_mel_grid(waveforms, titles=None, ncols: int = 4, sampling_rate: int = 16000,
                  vmin: float = -11.5, vmax: float = 6.0, title: str | None = None,
                  colorbar: bool = True):
    """Log-mel spectrograms of several waveforms on one colour scale (so loudness compares),
    with one colour bar for all of them and ``title`` over the grid."""
    n = len(waveforms)
    lines = caption_lines(titles, 34)
    fig, axes = grid_axes(n, ncols, 3.0, 2.0 + 0.15 * lines)
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


@themed
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
    fig = new_figure(1.3 * len(attrs) + 3.2, 3.2)
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


@themed
def plot_by_attribute(xy: np.ndarray, labels: dict[str, np.ndarray],
                      names: dict[str, list[str]], title: str = "", size: float = 2.6):
    """One scatter per attribute of ``names`` that ``labels`` holds, of (n, 2) points, coloured
    by that attribute's value (so a labels dict with more attributes than ``names`` is fine).

    Every panel draws the points in one shuffled order, so no value is painted over another
    wholesale (drawn value by value, the last one hides the rest wherever they overlap); an
    attribute whose values are colour names is drawn in those colours."""
    attrs = [a for a in names if a in labels]
    fig = new_figure(size * len(attrs), size + 0.5)
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


@themed
def plot_pair_lines(xy_a: np.ndarray, xy_b: np.ndarray, label_a: str, label_b: str,
                    num_lines: int = 60, title: str = "", seed: int = 0):
    """Two point sets from one reducer, and a line from each of ``num_lines`` random pairs'
    point in ``a`` to its partner in ``b`` (the Modality-Gap figure)."""
    fig = new_figure(4.6, 4.2)
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


@themed
def plot_samples_per_image(xy_real: np.ndarray, xy_generative: np.ndarray,
                           xy_regression: np.ndarray, num_samples: int, title: str = ""):
    """One reducer's points for the same images (image-major rows, ``num_samples`` per image
    for real and generative, one per image for regression): one colour per image; circles =
    real sounds, triangles = the generative mapper's samples, crosses = the regression mapper's
    single answer."""
    fig = new_figure(5.2, 4.4)
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


@themed
def plot_history(histories: dict, keys=("train_loss", "val_loss", "recall@1"),
                 title: str | None = None):
    """Training curves: one panel per key, one line per named :class:`v2a_kit.train.History`
    (or its ``to_dict()``, or a summary's ``history`` dict of columns). Panel titles and axes in
    words (:data:`LABELS`); losses on a log scale, fractions from 0 to 1."""
    fig = new_figure(3.3 * len(keys), 3.0)
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


@themed
def plot_waveform(waveforms, titles=None, sampling_rate: int = 16000, ncols: int = 4,
                  title: str | None = None):
    """Waveforms ((samples,) or (n, samples)) against time, on one amplitude scale [-1, 1]."""
    w = np.asarray(waveforms, dtype=np.float32)
    w = w[None] if w.ndim == 1 else w
    n = len(w)
    fig, axes = grid_axes(n, min(ncols, n), 3.0, 1.9 + 0.15 * caption_lines(titles, 34))
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


def _mean_std(v) -> tuple[float, float]:
    """A value, or a ``{"mean": ..., "std": ...}`` record of one over seeds."""
    if isinstance(v, dict):
        return float(v["mean"]), float(v.get("std") or 0.0)
    return float(v), 0.0


@themed
def plot_knobs(knobs: dict[str, dict], metrics=("all four", "CS"), title: str | None = None,
               spread: dict[str, dict] | None = None):
    """How metrics move with a generation knob: ``knobs`` = knob name -> {setting -> {metric:
    value}}; one column per knob, one row per metric. A value may be ``{"mean", "std"}`` over
    seeds, or give ``spread`` (same nesting, the std): both draw error bars. Value axes start at
    0 (fractions run to 1), so a small change looks small. Returns the Figure."""
    fig = new_figure(3.4 * len(knobs), 2.4 * len(metrics) + 0.4)
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
            ax.set_ylabel(wrap_title(label(m), 24))
            value_axis(ax, m, np.add(ys, errs))
            if r == 0:
                ax.set_title(f"varying {knob}")
            ax.set_xlabel(knob)
    fig.suptitle(title or "what the generation knobs change (higher is better)")
    return fig


@themed
def plot_systems(report: dict, metrics=("fd", "kl", "cs", "acc_all"), title: str | None = None):
    """One panel per metric: each system's mean over seeds with the seeds' spread (± std) and
    the per-seed values as dots. ``report``: :func:`v2a_kit.pocket.reproduce.reproduce`'s.
    Panels are titled in words with the better direction (:data:`LABELS`); bars start at 0."""
    systems = report["systems"]
    names = list(systems)
    ref = "real audio" if "real audio" in names else (names[0] if names else None)
    fig = new_figure(3.4 * len(metrics), 0.42 * len(names) + 1.5)
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
        ax.set_title(wrap_title(label(m), 26))
        ax.set_xlabel(label(m).split(" (")[0].replace(" ↑", "").replace(" ↓", "")
                      + (" (fraction)" if is_fraction(m) else ""))
        value_axis(ax, m, tops, axis="x")
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
    fig = new_figure(3.4 * len(metrics), 0.5 * len(names) + 1.7)
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
        ax.set_title(wrap_title(label(m), 26))
        ax.set_xlabel(label(m).split(" (")[0].replace(" ↑", "").replace(" ↓", "")
                      + (" (fraction)" if is_fraction(m) else ""))
        value_axis(ax, m, tops, axis="x")
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


@themed
def plot_efficiency(report: dict, metrics=("fd", "acc_all"), split: str = "unseen",
                    title: str | None = None):
    """Why a mapper? (:func:`v2a_kit.pocket.efficiency.measure_efficiency`'s report): one panel
    per metric against the training-set size (pairs, log scale; SEEN solid, UNSEEN dashed), then
    ``metrics[0]`` on ``split`` against the *trained* parameters (from zero; a marker per
    system and size, larger for more pairs). Each point: the mean over seeds, bars ± std; real
    audio's value is the grey line."""
    systems = report["systems"]
    colours = {"regression": "#4c72b0", "generative": "#dd8452", "direct": "#55a868"}
    fig = new_figure(3.6 * (len(metrics) + 1), 3.4)
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
        ax.set_title(wrap_title(f"{label(m)} vs training pairs", 34))
        value_axis(ax, m, tops)
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
    ax.set_title(wrap_title(f"{label(m)} ({split.upper()}) vs trained parameters; larger = more "
                       "pairs", 34))
    value_axis(ax, m, tops)
    ax.legend(frameon=False, fontsize="small")
    handles, labels_ = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels_, loc="outside lower center", ncol=4, frameon=False,
               fontsize="small")
    nseeds = len(report.get("settings", {}).get("seeds", [])) or "?"
    fig.suptitle(title or f"Mappers into frozen models vs a generator trained on image "
                          f"embeddings: mean ± std over {nseeds} seed(s)")
    return fig


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

    from ..datasets.modes import ModeDraws, measure
    from ..errors import ConfigError

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
    for source, name in (("data", "data: targets drawn for the input"),
                          ("diffusion", "diffusion prior: its samples")):
        ax.scatter(np.repeat(x, s), draws.offsets(source).ravel(), s=3, alpha=0.35,
                   color=_MODE_COLOURS[source], label=name, rasterized=True)
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
    for source, radius, name in (("data", 1.15, "data targets (outer ring)"),
                                  ("diffusion", 1.0, "diffusion samples")):
        a = np.deg2rad(draws.data_deg[i] if source == "data" else draws.diffusion_deg[i])
        ax.scatter(radius * np.cos(a), radius * np.sin(a), s=10, alpha=0.5,
                   color=_MODE_COLOURS[source], label=name)
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
