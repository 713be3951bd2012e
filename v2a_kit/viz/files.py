"""Where the notebooks' files go: :data:`FIGURES_DIR` / :func:`figures_dir`, :func:`savefig`,
:func:`save_numbers`; and :func:`measured_runtime`, a notebook's last measured run time."""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["FIGURES_DIR", "figures_dir", "savefig", "save_numbers", "measured_runtime"]


_CHECKOUT = Path(__file__).resolve().parents[2]


# figures/ of the source checkout (an editable install, the tutorial's case); else ./figures
FIGURES_DIR = (_CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()) / "figures"


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
    from ..atomic import atomic_path

    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"figure name {name!r}: expected a plain file stem like '01_world'")
    path = figures_dir(fast) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return path


def save_numbers(numbers: dict, name: str, fast: bool | None = None) -> Path:
    """Write ``numbers`` as ``<figures_dir>/<name>.json`` (atomically): the figures' data."""
    from ..atomic import atomic_write
    path = figures_dir(fast) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, (json.dumps(numbers, indent=2, sort_keys=True) + "\n").encode())
    return path


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
