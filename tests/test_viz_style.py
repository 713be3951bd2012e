"""viz's one style: every chart titled, axes labelled in words (↑/↓ from one table), colour bars
on spectrograms, error bars where there is a spread, bars from zero, captions clear of images."""

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from v2a_kit import viz
from v2a_kit.pocket.world import ATTRIBUTES, sample_world

matplotlib.use("Agg")

RAW_KEYS = {"fd", "fad", "kl", "is", "cs", "acc_all", "train_loss", "val_loss", "recall@1",
            "recall@5", "all four", "CS"}


@pytest.fixture(scope="module")
def world():
    return sample_world(6, seed=3)


def _report():
    def stat(mean, std, seeds):
        return {"mean": mean, "std": std, "per_seed": seeds}
    return {"systems": {
        "real audio": {"metrics": {"fd": stat(20.0, 0.0, [20.0, 20.0]),
                                   "acc_all": stat(1.0, 0.0, [1.0, 1.0])}},
        "regression": {"metrics": {"fd": stat(230.0, 10.0, [220.0, 240.0]),
                                   "acc_all": stat(0.84, 0.01, [0.83, 0.85])}}}}


def _figures(world):
    hist = {"train_loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.4], "recall@1": [.1, .3, .5]}
    xy = np.random.default_rng(0).normal(size=(6, 2))
    return {
        "image_grid": viz.image_grid(world.images, world.image_captions, ncols=3),
        "plot_mel_grid": viz.plot_mel_grid(world.audio[:2], world.audio_captions[:2], ncols=2),
        "plot_accuracy_bars": viz.plot_accuracy_bars(
            {"a": {"shape": 0.5, "size": 1.0, "all": 0.5}}, chance={"shape": 0.25}),
        "plot_history": viz.plot_history({"regression": hist}),
        "plot_by_attribute": viz.plot_by_attribute(
            xy, {a: world.labels[a] for a in ATTRIBUTES}, ATTRIBUTES),
        "plot_pair_lines": viz.plot_pair_lines(xy, xy + 1, "mapped", "true"),
        "plot_waveform": viz.plot_waveform(world.audio[:2]),
        "plot_mel": viz.plot_mel(world.audio[0]),
        "plot_knobs": viz.plot_knobs({"guidance w": {1.0: {"all four": 0.6, "CS": 78.0},
                                                     2.5: {"all four": 0.9, "CS": 88.0}}}),
        "plot_systems": viz.plot_systems(_report(), metrics=("fd", "acc_all")),
    }


def _panels(fig):
    """The axes that show data (not colour bars, not switched-off spares)."""
    return [ax for ax in fig.axes if ax.axison and not hasattr(ax, "_colorbar")]


def test_every_chart_has_a_title_and_worded_axes(world):
    for name, fig in _figures(world).items():
        sup = fig._suptitle.get_text() if fig._suptitle is not None else ""
        for ax in _panels(fig):
            title = ax.get_title()
            assert title or sup, f"{name}: a panel without a title"
            assert title not in RAW_KEYS, f"{name}: raw key {title!r} as a title"
            if ax.images:                    # an image shows itself; a spectrogram has axes
                if name in ("plot_mel_grid", "plot_mel"):
                    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel()
                continue
            assert ax.get_xlabel(), f"{name}: x axis without a label"
            shared = not any(t.get_text() for t in ax.get_yticklabels())  # the row's first has it
            assert ax.get_ylabel() or shared, f"{name}: y axis without a label"
            assert ax.get_ylabel() not in RAW_KEYS and ax.get_xlabel() not in RAW_KEYS


def test_text_is_legible_at_display_size(world):
    for name, fig in _figures(world).items():
        FigureCanvasAgg(fig).draw()
        for t in fig.findobj(matplotlib.text.Text):
            if t.get_visible() and t.get_text().strip():
                assert t.get_fontsize() >= 7, f"{name}: {t.get_text()!r} at {t.get_fontsize()} pt"


def test_labels_table_words_raw_keys_with_directions():
    assert viz.label("fd").startswith("FD ↓") and viz.label("cs").startswith("CS ↑")
    assert "↓" in viz.label("train_loss") and "↑" in viz.label("acc_all")
    assert viz.label("recall@1").startswith("recall@1 ↑")
    assert viz.label("something new") == "something new"          # shown as it is


def test_spectrograms_carry_one_colour_bar(world):
    fig = viz.plot_mel_grid(world.audio[:3], ncols=3)
    bars = [ax for ax in fig.axes if hasattr(ax, "_colorbar")]
    assert len(bars) == 1 and bars[0].get_ylabel() == viz.MEL_COLOURBAR_LABEL
    assert not [ax for ax in viz.plot_mel_grid(world.audio[:1], colorbar=False).axes
                if hasattr(ax, "_colorbar")]


def test_image_captions_do_not_overlap_images(world):
    long = [c + " and a long tail of words that wraps over several lines" for c in
            world.image_captions]
    for size in (1.6, 2.4):
        fig = viz.image_grid(world.images, long, ncols=3, size=size)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        boxes = [ax.get_window_extent(renderer) for ax in fig.axes if ax.images]
        for ax in fig.axes:
            if not ax.get_title():
                continue
            tb = ax.title.get_window_extent(renderer)
            for box in boxes:
                assert not tb.overlaps(box), f"caption {ax.get_title()!r} overlaps an image"


def test_bars_start_at_zero_and_show_spread():
    fig = viz.plot_accuracy_bars({"a": {"shape": 0.8, "all": 0.7}, "b": {"shape": 0.9, "all": 0.8}},
                                 spread={"a": {"shape": 0.05, "all": 0.02}},
                                 chance={"shape": 0.25, "all": 0.1})
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0 and ax.get_title()          # titled even without a title=
    errs = [c for c in ax.containers if getattr(c, "errorbar", None) is not None]
    assert len(errs) == 1                                      # only "a" has a spread
    assert "chance" in [t.get_text() for t in ax.get_legend().get_texts()]

    fig = viz.plot_systems(_report(), metrics=("fd", "acc_all"))
    for ax in fig.axes:
        assert ax.get_xlim()[0] == 0
    assert fig.axes[0].get_title() == viz.label("fd")


def test_knobs_titled_untruncated_with_error_bars():
    knobs = {"steps": {5: {"all four": {"mean": 0.7, "std": 0.05}, "CS": {"mean": 83, "std": 1}},
                       10: {"all four": {"mean": 0.9, "std": 0.02}, "CS": {"mean": 88, "std": 1}}}}
    fig = viz.plot_knobs(knobs)
    assert fig._suptitle is not None and fig._suptitle.get_text()
    acc, cs = fig.axes
    assert acc.get_ylim() == (0.0, pytest.approx(1.08)) and cs.get_ylim()[0] == 0
    assert acc.get_ylabel().replace("\n", " ") == viz.label("all four")
    assert all(len(ax.containers) == 1 and ax.containers[0].has_yerr for ax in fig.axes)
    plain = viz.plot_knobs({"w": {1.0: {"all four": 0.5, "CS": 80.0}}}, title="mine",
                           spread={"w": {1.0: {"all four": 0.1, "CS": 2.0}}})
    assert plain._suptitle.get_text() == "mine" and plain.axes[0].containers[0].has_yerr


def test_theme_applies_while_drawing_and_leaves_rcparams_alone(world):
    before = dict(matplotlib.rcParams)
    fig = viz.plot_mel_grid(world.audio[:1])
    assert dict(matplotlib.rcParams) == before
    assert fig.axes[0].spines["top"].get_visible() is False       # THEME's
    with matplotlib.rc_context():
        viz.use_theme()
        assert matplotlib.rcParams["axes.spines.top"] is False
    assert dict(matplotlib.rcParams) == before


def test_attribute_panels_hide_no_value_and_colour_colours_as_themselves():
    import matplotlib.colors as mcolors

    batch = sample_world(200, 8)
    xy = np.zeros((200, 2))            # every point on one spot: the worst case for overdraw
    fig = viz.plot_by_attribute(xy, batch.labels, {"colour": ATTRIBUTES["colour"],
                                                   "shape": ATTRIBUTES["shape"]})
    colour_ax, shape_ax = fig.axes[:2]
    points = colour_ax.collections[0]
    assert len(points.get_offsets()) == 200       # one shuffled draw, not one per value
    drawn = [mcolors.to_hex(c) for c in points.get_facecolors()]
    # the last points drawn are a mix of values, not all the last value's
    assert len(set(drawn[-40:])) > 1
    legend = {t.get_text(): mcolors.to_hex(h.get_facecolor()[0])
              for t, h in zip(colour_ax.get_legend().get_texts(),
                              colour_ax.get_legend().legend_handles)}
    assert legend == {name: mcolors.to_hex(viz.NAMED_COLOURS[name])
                      for name in ATTRIBUTES["colour"]}
    # a value that names no colour gets the theme's cycle
    assert viz.value_colours(["circle", "square"])[0] != viz.value_colours(["red", "blue"])[0]
    assert len({mcolors.to_hex(h.get_facecolor()[0])
                for h in shape_ax.get_legend().legend_handles}) == 4
