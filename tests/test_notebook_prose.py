"""Every statement a notebook's prose makes is checked where it stands (``tests/_prose.py``).

A markdown cell may not type a measured number: the notebooks print their figures (or say them
with ``v2a_kit.viz.say``), so the prose follows whatever the weights produce. Each number-like
token of a markdown cell — decimals, percentages, integers that are amounts, numbers with units,
multiplicative factors, worded amounts of time — must be shown by the code cells of its own
section (outputs, or a setting typed in their code), or be a constant on ``_prose.ALLOWED``
with its reason (and, where the kit can compute it, a check that it still holds).

Which notebooks: ``$V2A_PROSE_NOTEBOOKS`` (a folder, or notebook paths joined by the path
separator, e.g. scratch copies executed in FAST mode), else ``notebooks/`` of this checkout.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from _prose import ALLOWED, _strip, check_notebook, computed_statements, executed, statements

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_statements_are_shown_where_they_stand(path):
    nb = json.loads(path.read_text())
    if not executed(nb):
        pytest.skip(f"{path.name} has no outputs (execute it first)")
    checked, problems = check_notebook(nb, path.stem)
    print(f"{path.stem}: {checked} statement(s) in markdown checked against their sections")
    assert not problems, "\n".join(problems)


def test_prose_report_counts(capsys):
    """Report how many statements were checked per notebook."""
    total, said = {}, {}
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        if executed(nb):
            total[path.stem] = check_notebook(nb, path.stem)[0]
            said[path.stem] = computed_statements(nb)
    with capsys.disabled():
        print(f"\nprose statements typed in markdown and checked: {sum(total.values())} in "
              f"{len(total)} notebook(s) {total}\nstatements said by cells (viz.say, computed): "
              f"{sum(said.values())} {said}")
    assert NOTEBOOKS, "no notebooks found to check"


@pytest.mark.parametrize("nb_id,phrase", [(k, p) for k, v in ALLOWED.items() for p in v])
def test_each_allowed_constant_has_a_reason_stands_in_its_notebook_and_holds(nb_id, phrase):
    reason, value = ALLOWED[nb_id][phrase]
    assert len(reason) > 20, f"{phrase!r}: say why it is a constant"
    if nb_id != "*":
        (path,) = (ROOT / "notebooks").glob(f"{nb_id}_*.ipynb")
        prose = " ".join(" ".join(_strip("".join(c["source"])).split())
                         for c in json.loads(path.read_text())["cells"]
                         if c["cell_type"] == "markdown")
        assert phrase in prose, f"{path.name} no longer says {phrase!r}: drop it from ALLOWED"
    if value is not None:
        values = value()
        for v in values if isinstance(values, tuple) else (values,):
            assert re.search(rf"(?<!\d){v}(?!\d)", phrase), \
                f"{phrase!r} no longer states the kit's value {v}"


# --- the checker itself ----------------------------------------------------------------------
def _nb(markdown: str, output: str, source: str = "") -> dict:
    return {"cells": [{"cell_type": "markdown", "source": [markdown]},
                      {"cell_type": "code", "source": [source],
                       "outputs": [{"output_type": "stream", "name": "stdout",
                                    "text": [output]}]}]}


@pytest.mark.parametrize("markdown", [
    "The UNet has 0.6 M parameters.", "It takes 3 minutes.", "accuracy falls to 83 %.",
    "a pool of 2,048 pairs", "about 4× faster", "CS 8.925 for real audio", "a 12 dB step",
    "at 16 kHz", "validation uses 25 DDIM steps", "trained for 47 epochs",
    "it runs in about half a minute", "every cell runs in seconds", "twice as fast",
    "an order of magnitude slower", "about 2x the cost", "on 300 held-out pairs",
    "the sounds of 64 images"])
def test_a_statement_no_output_shows_is_caught(markdown):
    checked, problems = check_notebook(_nb(markdown, "nothing relevant: 777"), "99_test")
    assert checked == 1 and len(problems) == 1, (markdown, checked, problems)


@pytest.mark.parametrize("markdown,output,source", [
    ("a 0.51 M-parameter UNet", "UNet: 510,912 parameters", ""),
    ("recall 0.99", "pair cosine 0.9903", ""),
    ("takes 65 s", "best epoch 48 of 60, 65 s", ""),
    ("83.3 % right", "accuracy 0.833", ""),
    ("at 16 kHz", "(4, 16000) 16000", ""),
    ("a 2.1× speed-up", "speed-up 2.13", ""),
    ("validation uses 10 DDIM steps", "{'num_inference_steps': 10}", ""),
    ("it runs in about half a minute", "[run: 31.4 s]", ""),
    ("every cell runs in seconds", "[embed: 1.2 s]", ""),
    ("trained for 30 epochs", "", "fit(mapper, epochs=30)"),
])
def test_a_statement_its_section_shows_passes(markdown, output, source):
    checked, problems = check_notebook(_nb(markdown, output, source), "99_test")
    assert checked == 1 and not problems, problems


def test_a_number_in_another_section_is_no_support():
    """The old check counted a number anywhere in the notebook's outputs; a statement is now
    read against its own section only."""
    nb = {"cells": [
        {"cell_type": "markdown", "source": ["## 1. First\nThe mapper trained 47 epochs."]},
        {"cell_type": "code", "source": [""], "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["best epoch 12 of 39"]}]},
        {"cell_type": "markdown", "source": ["## 2. Second"]},
        {"cell_type": "code", "source": [""], "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["47"]}]}]}
    checked, problems = check_notebook(nb, "99_test")
    assert checked == 1 and len(problems) == 1 and "'47 epochs'" in problems[0]
    nb["cells"][1]["outputs"][0]["text"] = ["best epoch 12 of 47"]
    assert check_notebook(nb, "99_test") == (1, [])


@pytest.mark.parametrize("markdown", [
    "Exercise 03.2 asks for `guidance_scale=2.5`.", "**Exercise 03.2.** Solution 03.2",
    "see arXiv 2308.09300", "## 2. Section two", "<!-- claim: 0.99 -->",
    "```python\nx = 0.5\n```", "## References\nSmith, 2021, vol. 3.5",
    "notebooks 02–04 build the mapper", "section 7 separates them", "world seed 4000",
    "1. first item\n2. second item", "the loss $\\lVert y \\rVert^2$", "AudioLDM 2 and CLIP",
    "one image", "(01: the models, 02: the gap)"])
def test_structure_and_code_are_not_statements(markdown):
    assert check_notebook(_nb(markdown, ""), "99_test") == (0, [])


def test_statements_are_what_a_reader_reads_as_amounts():
    texts = [s["text"] for s in statements("We draw 8 samples at 2.5 guidance, 3× faster, "
                                           "in a few seconds, for section 3.")]
    assert texts == ["8 samples", "2.5", "3×", "a few seconds"], texts


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
    monkeypatch.setattr(viz.files, "_CHECKOUT", tmp_path)
    assert viz.measured_runtime("b")["load"] == 5.9 and viz.measured_runtime("a")["load"] == 0.1
    table = tool("update_readme").notebook_table(ROOT / "notebooks", data)
    assert "measured alone, on 2 cores of X, 1 GiB, load average 5.9 at the start, 2000-02-02" \
        in table
    runtimes.merge({"notebooks": {"b": {"full_s": 25.0}}, "only": False}, "notebooks-full",
                   everyone)     # a run of all of them: b's own machine is gone
    assert "full_machine" not in json.loads(record.read_text())["notebooks"]["b"]


def test_run_time_lines_are_rewritten_from_the_record(tmp_path, monkeypatch, tool):
    """After a run is recorded, each notebook's `viz.say_runtime(...)` output states the record's
    figure — the one the README renders — not the one the kernel read before the run ended."""
    import nbformat

    from v2a_kit import viz
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    runtimes = tool("measure_runtimes")
    monkeypatch.setattr(runtimes, "RESULTS", tmp_path / "benchmarks" / "results" / "runtimes.json")
    monkeypatch.setattr(runtimes.subprocess, "run", lambda *a, **k: None)   # no nbstripout here
    monkeypatch.setattr(viz.files, "_CHECKOUT", tmp_path)
    machine = {"cores": 2, "cpu": "X", "memory": "1 GiB", "load_average_at_start": 1.5,
               "date": "2000-01-01"}
    runtimes.merge({"notebooks": {"01_x": {"full_s": 42.0, "fast_s": 7.0}}, "only": False},
                   "notebooks-full", machine)
    stale = "**Run time**, as last measured ...: 99 s in full mode"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('import x\nviz.say_runtime("01_x",\n    note="No GPU.")',
                                  outputs=[nbformat.v4.new_output(
                                      "display_data", data={"text/markdown": stale,
                                                            "text/plain": "<Markdown>"})]),
        nbformat.v4.new_code_cell("print(1)")])
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    assert runtimes.refresh_runtime_lines([path]) == ["01_x.ipynb"]
    said = nbformat.read(path, as_version=4).cells[0].outputs[0]["data"]["text/markdown"]
    assert said == viz.runtime_sentence("01_x", note="No GPU.")
    assert "42 s in full mode; 7 s in FAST mode" in said and "load average 1.5" in said
    assert said.endswith("No GPU.") and "99 s" not in said and "another run" not in said
    assert runtimes.refresh_runtime_lines([path]) == []          # nothing left to change
    # a FAST figure from another run says which
    runtimes.merge({"notebooks": {"01_x": {"fast_s": 8.0}}, "only": False}, "notebooks-fast",
                   {**machine, "date": "2000-02-02", "load_average_at_start": 0.2})
    assert runtimes.refresh_runtime_lines([path]) == ["01_x.ipynb"]
    said = nbformat.read(path, as_version=4).cells[0].outputs[0]["data"]["text/markdown"]
    assert "8 s in FAST mode (`V2A_FAST=1`), measured in another run (2000-02-02, load " \
        "average 0.2 at the start)" in said
