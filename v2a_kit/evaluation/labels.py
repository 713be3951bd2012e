"""The one table of words for the kit's metric keys: every table header and figure axis says a
metric the same way.

Each key (``fd``, ``acc_all``, ``level_within_3db``, ...) has a short **header** for table
columns and a longer **axis** label for figures, both with the direction that is better (↑
higher, ↓ lower), and whether its values are fractions in [0, 1] (their axes run from 0 to 1).
:func:`header` and :func:`axis_label` read it; a key not in the table is shown as it is.
``viz.label``, the pocket benchmarks' tables, the reproduction's and the folder evaluator's
reports all read from here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Label", "METRIC_LABELS", "header", "axis_label", "is_fraction"]



@dataclass(frozen=True)
class Label:
    """How one metric key is shown: ``header`` in tables, ``axis`` on figures; ``fraction``:
    its values lie in [0, 1]."""

    header: str
    axis: str
    fraction: bool = False


def _build() -> dict[str, Label]:
    t = {
        "fd": Label("FD ↓", "FD ↓ (closer to real)"),
        "fad": Label("FAD ↓", "FAD ↓ (closer to real)"),
        "kad": Label("KAD ↓", "KAD ↓ (closer to real)"),
        "fad_inf": Label("FAD∞ ↓", "FAD∞ ↓ (closer to real, any n)"),
        "kl": Label("KL ↓", "KL ↓ (nats; closer to the paired real sound)"),
        "is": Label("IS ↑", "IS ↑ (confident, varied sounds)"),
        "cs": Label("CS ↑", "CS ↑ (100 × cosine, sound ↔ image)"),
        "recall@1": Label("R@1 ↑", "recall@1 ↑ (fraction retrieved)", True),
        "recall@5": Label("R@5 ↑", "recall@5 ↑ (fraction retrieved)", True),
        "chance_recall@1": Label("R@1 by chance", "recall@1 by chance", True),
        "diversity": Label("diversity", "diversity (mean distance between one image's sounds)"),
        "acc_all": Label("all 4 right ↑", "all four attributes heard ↑ (fraction)", True),
        "acc_all5": Label("all 5 right ↑", "all five attributes heard ↑ (fraction)", True),
        "emb_acc_all": Label("all 4 in CLAP emb ↑",
                             "all four attributes in the CLAP embedding ↑ (fraction)", True),
        "heard_only_gap": Label("contour gap ↓ (points)",
                                "contour gap ↓ (points from the world's equal shares)"),
        "clap_spread": Label("CLAP spread", "CLAP spread (1 − cosine between one image's samples)"),
        "spread_ratio_mean": Label("spread ratio (mean)", "spread ratio, mean over images"),
        "spread_ratio_median": Label("spread ratio (median)",
                                     "spread ratio, median image (1 = as varied as real)"),
        "spread_ratio_q1": Label("spread ratio Q1", "spread ratio, first quartile of images"),
        "spread_ratio_q3": Label("spread ratio Q3", "spread ratio, third quartile of images"),
        "rms": Label("RMS", "loudness (RMS)"),
        "level_err_db": Label("level err (dB) ↓", "level error ↓ (dB, median sound)"),
        "level_within_3db": Label("level ± 3 dB ↑", "level within ± 3 dB ↑ (fraction)", True),
        "level_bias_db": Label("level bias (dB)", "level bias (dB, median sound)"),
        "limited": Label("limited share ↓", "share of sounds the peak limiter touched ↓", True),
        "accuracy": Label("accuracy ↑", "accuracy ↑ (fraction correct)", True),
        "train_loss": Label("training loss ↓", "training loss ↓"),
        "val_loss": Label("validation loss ↓", "validation loss ↓"),
        "lr": Label("learning rate", "learning rate"),
        "centroid_gap": Label("centroid gap ↓", "centroid gap ↓"),
        "pair_cosine_mean": Label("mean paired cosine ↑", "mean paired cosine ↑"),
    }
    # other names of the same metrics
    t["is_mean"], t["CS"], t["all four"] = t["is"], t["cs"], t["acc_all"]
    return t


METRIC_LABELS: dict[str, Label] = _build()


def _entry(key) -> Label | None:
    """The table's entry, else the per-attribute families: ``acc_<attribute>`` (one
    attribute heard right), ``emb_acc_<attribute>`` (read from the CLAP embedding),
    ``share_<attribute>_<value>`` (the share of sounds heard with that value)."""
    key = str(key)
    if key in METRIC_LABELS:
        return METRIC_LABELS[key]
    if key.startswith("emb_acc_"):
        a = key[len("emb_acc_"):]
        return Label(f"{a} in CLAP emb ↑", f"{a} in the CLAP embedding ↑ (fraction)", True)
    if key.startswith("acc_"):
        a = key[len("acc_"):]
        return Label(f"{a} acc ↑", f"{a} heard ↑ (fraction)", True)
    if key.startswith("share_") and key.count("_") >= 2:
        value = key.rsplit("_", 1)[1]
        return Label(f"{value} share", f"share heard as {value}", True)
    return None


def header(key) -> str:
    """A table column's header for ``key`` (the key itself when no entry or family fits)."""
    entry = _entry(key)
    return str(key) if entry is None else entry.header


def axis_label(key) -> str:
    """A figure axis's words for ``key`` (the key itself when no entry or family fits)."""
    entry = _entry(key)
    return str(key) if entry is None else entry.axis


def is_fraction(key) -> bool:
    """Whether ``key``'s values are fractions in [0, 1]."""
    entry = _entry(key)
    return bool(entry and entry.fraction)
