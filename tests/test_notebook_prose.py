"""Every figure a notebook's prose states is shown by one of its outputs.

A markdown cell may not type a measured number: the notebooks print their figures (or say them
with ``v2a_kit.viz.say``), so the prose follows whatever the weights produce. This test re-reads
each *executed* notebook and fails if a markdown cell states a figure — a number with a decimal
point, a percentage, a count with thousands separators, a number with a unit (``s``, ``M``,
``MB``, ``dB``, ``Hz``, ...) or a multiplier (``3×``) — that no output of the same notebook
shows (to the prose's precision, in the prose's unit or without it).

Not figures: inline code and fenced code (settings the reader types, e.g. ``guidance_scale=2.5``),
HTML comments (``<!-- claim: ... -->`` markers), the References section (years, arXiv ids),
exercise ids (``03.2``) and the citations in ``ALLOWED`` below, each with its reason.

Which notebooks: ``$V2A_PROSE_NOTEBOOKS`` (a folder, or notebook paths joined by the path
separator, e.g. scratch copies executed in FAST mode), else ``notebooks/`` of this checkout.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# figures that are citations, not measurements of the notebook: notebook stem prefix -> texts
ALLOWED = {
    "01": {"400 M": "the published size of CLIP's training set (Radford et al. 2021)"},
}

_UNITS = {"ms": 1e-3, "s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "minute": 60,
          "minutes": 60, "k": 1e3, "M": 1e6, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2 ** 10,
          "MiB": 2 ** 20, "GiB": 2 ** 30, "dB": 1, "Hz": 1, "kHz": 1e3, "px": 1}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_FIGURE = re.compile(
    rf"(?<![\w.])(?P<num>{_NUM})(?:"
    rf"(?P<pct>\s?%)"
    rf"|(?P<mult>\s?×)"
    rf"|[\s-]?(?P<unit>{'|'.join(sorted(_UNITS, key=len, reverse=True))})(?![\w])"
    rf")?")
_OUTPUT_NUM = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _prose(markdown: str) -> str:
    """The cell's prose: without code, comments, HTML tags, references and exercise ids."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"(?ims)^#+\s*references\b.*?(?=^#|\Z)", " ", text)
    text = re.sub(r"\b(?:arXiv\s*)?\d{4}\.\d{4,5}\b", " ", text)          # arXiv ids
    text = re.sub(r"\b(?:Exercises?|Solution)\s+\d{2}\.\d{1,2}\b", " ", text)  # exercise ids
    return text


def figures(markdown: str) -> list[dict]:
    """The figures a markdown cell states: ``{"text", "value", "decimals", "scales"}``."""
    found = []
    for m in _FIGURE.finditer(_prose(markdown)):
        num, unit = m["num"], m["unit"]
        decimals = len(num.split(".")[1]) if "." in num else 0
        if not (decimals or m["pct"] or m["mult"] or unit or "," in num):
            continue  # a bare integer: a count or an index, not a measured figure
        scales = [1.0]
        if unit:
            scales.append(_UNITS[unit])
        if m["pct"]:
            scales.append(0.01)
        found.append({"text": m.group(0).strip(), "value": float(num.replace(",", "")),
                      "decimals": decimals, "scales": scales})
    return found


def _output_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append("".join(out["text"]))
        for kind in ("text/plain", "text/markdown", "text/html", "text/latex"):
            data = out.get("data", {}).get(kind)
            if data is not None:
                parts.append(re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", " ",
                                    "".join(data)))
        if out.get("output_type") == "error":
            parts.append(" ".join(out.get("traceback", [])))
    return "\n".join(parts)


def output_numbers(nb: dict) -> list[float]:
    text = "\n".join(_output_text(c) for c in nb["cells"] if c["cell_type"] == "code")
    nums = []
    for m in _OUTPUT_NUM.finditer(text):
        try:
            nums.append(float(m.group(0).replace(",", "")))
        except ValueError:
            pass
    return nums


def is_shown(fig: dict, numbers: list[float]) -> bool:
    """True when an output number, in the figure's unit or none, rounds to the figure."""
    target, d = fig["value"], fig["decimals"]
    tol = 0.5 * 10 ** -d + 1e-9
    return any(abs(abs(u) / s - target) <= tol for u in numbers for s in fig["scales"])


def check_notebook(nb: dict, stem: str) -> tuple[int, list[str]]:
    """(number of figures checked, problems) for one executed notebook."""
    number = re.search(r"(?:^|_)(\d{2})_", stem)           # "01_…", or a scratch "run_01_…"
    allowed = ALLOWED.get(number.group(1) if number else "", {})
    numbers = output_numbers(nb)
    checked, problems = 0, []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for fig in figures("".join(cell["source"])):
            if fig["text"] in allowed:
                continue
            checked += 1
            if not is_shown(fig, numbers):
                problems.append(f"{stem} cell {i}: {fig['text']!r} is stated in markdown but "
                                "no output shows it (compute it and say it: viz.say)")
    return checked, problems


def _executed(nb: dict) -> bool:
    return any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


def _notebooks() -> list[Path]:
    spec = os.environ.get("V2A_PROSE_NOTEBOOKS")
    if not spec:
        return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    paths = []
    for part in spec.split(os.pathsep):
        p = Path(part)
        paths += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return paths


NOTEBOOKS = _notebooks()
_COUNTS: dict[str, int] = {}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_figures_are_shown(path):
    nb = json.loads(path.read_text())
    if not _executed(nb):
        pytest.skip(f"{path.name} has no outputs (execute it first)")
    checked, problems = check_notebook(nb, path.stem)
    _COUNTS[path.stem] = checked
    print(f"{path.stem}: {checked} figure(s) in markdown checked against the outputs")
    assert not problems, "\n".join(problems)


def test_prose_report_counts(capsys):
    """Report how many stated figures were checked (after the per-notebook tests)."""
    total = {}
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        if _executed(nb):
            total[path.stem] = check_notebook(nb, path.stem)[0]
    with capsys.disabled():
        print(f"\nprose figures checked: {sum(total.values())} in {len(total)} notebook(s) "
              f"{total}")
    assert NOTEBOOKS, "no notebooks found to check"


# --- the checker itself ----------------------------------------------------------------------
def _nb(markdown: str, output: str) -> dict:
    return {"cells": [{"cell_type": "markdown", "source": [markdown]},
                      {"cell_type": "code", "source": [""],
                       "outputs": [{"output_type": "stream", "name": "stdout",
                                    "text": [output]}]}]}


@pytest.mark.parametrize("markdown", [
    "The UNet has 0.6 M parameters.", "It takes 3 minutes.", "accuracy falls to 83 %.",
    "a pool of 2,048 pairs", "about 4× faster", "CS 8.925 for real audio", "a 12 dB step",
    "at 16 kHz"])
def test_a_figure_no_output_shows_is_caught(markdown):
    checked, problems = check_notebook(_nb(markdown, "nothing relevant: 7"), "99_test")
    assert checked == 1 and len(problems) == 1, (markdown, problems)


@pytest.mark.parametrize("markdown,output", [
    ("a 0.51 M-parameter UNet", "UNet: 510,912 parameters"),
    ("recall 0.99", "pair cosine 0.9903"),
    ("takes 65 s", "best epoch 48 of 60, 65 s"),
    ("83.3 % right", "accuracy 0.833"),
    ("at 16 kHz", "(4, 16000) 16000"),
    ("a 2.1× speed-up", "speed-up 2.13"),
])
def test_a_figure_an_output_shows_passes(markdown, output):
    checked, problems = check_notebook(_nb(markdown, output), "99_test")
    assert checked == 1 and not problems, problems


@pytest.mark.parametrize("markdown", [
    "Exercise 03.2 asks for `guidance_scale=2.5`.", "**Exercise 03.2.** Solution 03.2",
    "see arXiv 2308.09300",
    "## 2. Section two has 3 sounds", "<!-- claim: 0.99 -->", "```python\nx = 0.5\n```",
    "## References\nSmith, 2021, vol. 3.5"])
def test_structure_and_code_are_not_figures(markdown):
    assert check_notebook(_nb(markdown, ""), "99_test") == (0, [])


# --- the helpers the notebooks say their figures with ----------------------------------------
def test_render_fills_the_template_and_refuses_a_missing_value():
    from v2a_kit import ConfigError
    from v2a_kit.viz import render
    assert render("recall@1 {r:.3f} of {n:,} pairs", r=0.12345, n=1500) == \
        "recall@1 0.123 of 1,500 pairs"
    with pytest.raises(ConfigError, match=r"names \['n'\] but no value"):
        render("recall@1 {r:.3f} of {n:,} pairs", r=0.5)


def test_measured_runtime_reads_the_runtimes_record():
    from v2a_kit.viz import measured_runtime
    record = json.loads((ROOT / "benchmarks" / "results" / "runtimes.json").read_text())
    name = next(iter(record["notebooks"]))
    t = measured_runtime(name)
    assert t["full_s"] == record["notebooks"][name]["full_s"]
    assert t["fast_s"] == record["notebooks"][name]["fast_s"]
    assert measured_runtime("no_such_notebook") is None


def test_a_notebook_measured_alone_keeps_its_own_machine(tmp_path, monkeypatch, tool):
    """`measure_runtimes.py notebooks 07_real_models` records its machine beside 07's figures,
    leaves the machine of the run of all notebooks alone, and both the notebook's sentence
    (viz.measured_runtime) and the README's table name the run's own machine."""
    import sys

    from v2a_kit import viz
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    runtimes = tool("measure_runtimes")
    record = tmp_path / "benchmarks" / "results" / "runtimes.json"
    monkeypatch.setattr(runtimes, "RESULTS", record)
    everyone = {"cores": 2, "cpu": "X", "memory": "1 GiB", "load_average_at_start": 0.1,
                "date": "2000-01-01", "python": sys.version.split()[0]}
    alone = {**everyone, "load_average_at_start": 5.9, "date": "2000-02-02"}
    runtimes.merge({"notebooks": {"a": {"full_s": 10.0}, "b": {"full_s": 20.0}}, "only": False},
                   "notebooks-full", everyone)
    runtimes.merge({"notebooks": {"b": {"full_s": 30.0}}, "only": True}, "notebooks-full", alone)
    runtimes.merge({"notebooks": {"a": {"fast_s": 1.0}, "b": {"fast_s": 2.0}}, "only": False},
                   "notebooks-fast", everyone)
    data = json.loads(record.read_text())
    assert data["machines"]["notebooks-full"] == everyone
    assert data["notebooks"]["b"] == {"full_s": 30.0, "full_machine": alone, "fast_s": 2.0}
    monkeypatch.setattr(viz, "_CHECKOUT", tmp_path)
    assert viz.measured_runtime("b")["load"] == 5.9 and viz.measured_runtime("a")["load"] == 0.1
    table = tool("update_readme").notebook_table(ROOT / "notebooks", data)
    assert "measured alone, on 2 cores of X, 1 GiB, load average 5.9 at the start, 2000-02-02" \
        in table
    runtimes.merge({"notebooks": {"b": {"full_s": 25.0}}, "only": False}, "notebooks-full",
                   everyone)     # a run of all of them: b's own machine is gone
    assert "full_machine" not in json.loads(record.read_text())["notebooks"]["b"]
