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

Five rooms, every name importable from here as before: :mod:`.theme` (the style, the words,
the colours), :mod:`.plots` (the figures), :mod:`.players` (audio and video players),
:mod:`.files` (where figures and numbers go; measured run times) and :mod:`.prose` (computed
sentences).
"""

from __future__ import annotations

from . import files, players, plots, prose, theme  # noqa: F401 — the rooms, by name too
from .files import FIGURES_DIR, figures_dir, measured_runtime, save_numbers, savefig
from .players import audio_player, listen, side_by_side, video_player
from .plots import (
    MEL_COLOURBAR_LABEL,  # noqa: F401 — the spectrograms' colour-bar words
    image_grid,
    mel_image,
    plot_accuracy_bars,
    plot_by_attribute,
    plot_efficiency,
    plot_history,
    plot_knobs,
    plot_mel,
    plot_mel_grid,
    plot_modes,
    plot_pair_lines,
    plot_samples_per_image,
    plot_seen_unseen,
    plot_systems,
    plot_waveform,
    umap_2d,
)
from .prose import render, runtime_sentence, say, say_runtime
from .theme import LABELS, NAMED_COLOURS, THEME, label, use_theme, value_colours

__all__ = ["FIGURES_DIR", "figures_dir", "savefig", "save_numbers", "audio_player", "video_player",
           "image_grid", "mel_image", "plot_mel_grid", "plot_accuracy_bars", "umap_2d",
           "plot_by_attribute", "plot_pair_lines", "plot_history", "plot_waveform", "plot_mel",
           "side_by_side", "listen", "plot_knobs", "plot_systems", "plot_seen_unseen", "THEME",
           "LABELS", "label", "use_theme", "value_colours", "NAMED_COLOURS", "plot_efficiency",
           "render", "say", "measured_runtime", "runtime_sentence", "say_runtime",
           "plot_samples_per_image", "plot_modes"]
