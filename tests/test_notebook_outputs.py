"""tools/notebook_outputs.py: executed notebooks lose their frozen progress bars (and the bars'
widget models), keep the widgets they show with their saved state, and get players that play in
an untrusted notebook; every committed notebook is so."""

import base64
import io
import sys
import wave
from pathlib import Path

import nbformat
import pytest
from IPython.display import Audio, Video

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebook_outputs as no  # noqa: E402

VIEW, STATE = no.WIDGET_VIEW, no.WIDGET_STATE


def _model(name: str, **state) -> dict:
    return {"model_name": name, "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0", "state": state}


def _view(model_id: str, text: str) -> dict:
    return nbformat.v4.new_output("display_data", data={
        VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0}, "text/plain": text})


def _wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 800)
    return buf.getvalue()


def _notebook():
    """A notebook as nbconvert saves one: a tqdm bar kept (with its models), one closed (text
    only), tqdm's text form on stderr beside a warning, a button, IPython's own players."""
    ipython_audio = Audio(_wav(), rate=8000)._repr_html_()
    state = {
        "bar": _model("HBoxModel", children=["IPY_MODEL_b1", "IPY_MODEL_b2", "IPY_MODEL_b3"],
                      layout="IPY_MODEL_blay"),
        "b1": _model("HTMLModel", value="fit: "), "b2": _model("FloatProgressModel", value=3),
        "b3": _model("HTMLModel", value=" 3/3"), "blay": _model("LayoutModel"),
        "button": _model("ButtonModel", description="kept", layout="IPY_MODEL_lay"),
        "lay": _model("LayoutModel", width="99px"),
        "out": _model("OutputModel", outputs=[{"output_type": "display_data", "metadata": {},
                                               "data": {"text/html": ipython_audio}}]),
        "orphan": _model("FloatProgressModel", value=1),
    }
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    cells = [
        [_view("bar", "fit: 100%|##########| 3/3 [00:01<00:00,  2.9it/s]")],
        [_view("gone", "CLIP images:   0%|          | 0/7 [00:00<?, ?it/s]")],
        [nbformat.v4.new_output("stream", name="stderr", text=(
            "\rgen:  50%|#####     | 1/2 [00:00<00:00,  9.1it/s]"
            "\rgen: 100%|##########| 2/2 [00:00<00:00,  9.0it/s]\n"
            "model.py:3: PeakLimitWarning: 1 of 2 sounds peaked above 0.99\n"))],
        [_view("button", "Button(description='kept')"), _view("out", "Output()")],
        [nbformat.v4.new_output("display_data", data={"text/html": ipython_audio,
                                                      "text/plain": "<Audio>"})],
    ]
    for outs in cells:
        cell = nbformat.v4.new_code_cell("pass")
        cell.outputs = outs
        nb.cells.append(cell)
    return nbformat.from_dict(nb)


def test_clean_removes_frozen_bars_and_keeps_what_the_notebook_shows():
    nb = _notebook()
    found = no.problems(nb)
    assert "cell 0: a progress bar" in found and "cell 1: a progress bar" in found
    assert "cell 2: a progress bar" in found
    assert sum("sits in <source>" in f for f in found) == 2  # the cell's and the Output's
    said = no.clean(nb)
    assert said and no.problems(nb) == []
    assert [len(c.outputs) for c in nb.cells] == [0, 0, 1, 2, 1]
    stderr = nb.cells[2].outputs[0].text
    assert stderr == "model.py:3: PeakLimitWarning: 1 of 2 sounds peaked above 0.99\n"
    assert no.stderr_lines(nb) == ["cell 2: model.py:3: PeakLimitWarning: 1 of 2 sounds "
                                   "peaked above 0.99"]
    # the saved state holds what is shown, and what that reaches: no bar, no orphan
    assert sorted(no.widget_state(nb)) == ["button", "lay", "out"]
    assert no.clean(nb) == []                                    # cleaning twice changes nothing


def test_players_get_their_data_on_the_element():
    wav = _wav()
    html = Audio(wav, rate=8000)._repr_html_()
    assert "<source" in html
    fixed = no.playable_html(f"<p>before</p>{html}<p>after</p>")
    data = base64.b64encode(wav).decode()
    assert f'<audio controls="controls" src="data:audio/wav;base64,{data}"></audio>' in fixed
    assert fixed.startswith("<p>before</p>") and fixed.endswith("<p>after</p>")
    assert "<source" not in fixed and "does not support" not in fixed
    video = Video(data=b"\x00\x00\x00\x20ftypisom", embed=True, mimetype="video/mp4",
                  width=256)._repr_html_()
    fixed = no.playable_html(video)
    assert fixed.startswith('<video controls width="256" src="data:video/mp4;base64,')
    for untouched in ('<audio controls src="a.wav"><source src="b.wav"></audio>',
                      "<audio controls></audio>", "<p>no player</p>"):
        assert no.playable_html(untouched) == untouched


def test_a_widget_without_its_saved_state_is_a_problem():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("panel")
    cell.outputs = [_view("panel", "VBox(children=(...))")]
    nb.cells.append(cell)
    nb = nbformat.from_dict(nb)
    assert no.problems(nb) == ["cell 0: a widget saved without its state (shows as text)"]


def test_the_command_line(tmp_path, capsys):
    path = tmp_path / "x.ipynb"
    nbformat.write(_notebook(), path)
    assert no.main(["--check", str(path)]) == 1
    assert "x.ipynb: cell 0: a progress bar" in capsys.readouterr().out
    assert no.main([str(path)]) == 0 and no.main(["--check", str(path)]) == 0
    assert no.main(["--check", str(tmp_path / "missing.ipynb")]) == 2
    assert "missing.ipynb: no such notebook" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")),
                         ids=lambda p: p.stem)
def test_committed_notebooks_are_clean(path):
    """No frozen progress bar, no player that needs trust, no widget shown without its state:
    `make notebooks` cleans what it executes; `python tools/notebook_outputs.py` cleans the
    rest."""
    assert no.problems(nbformat.read(path, as_version=4)) == []


def test_executing_saves_widget_state_and_clears_progress_bars(tmp_path):
    """What `make notebooks` does to each notebook (tools/measure_runtimes.py), on a small one
    run in the kit's kernel: tqdm bars (kept and closed ones) are gone, a widget keeps its
    saved state, stderr is listed."""
    import measure_runtimes
    if not (measure_runtimes.VENV_PY.parent / "jupyter").exists():
        pytest.skip("needs the Makefile's .venv (make setup): it executes with its kernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "from tqdm.auto import tqdm\nfor _ in tqdm(range(3), desc='kept bar'): pass",
        "for _ in tqdm(range(3), desc='closed bar', leave=False): pass",
        "import ipywidgets as w\nw.Button(description='a button')",
        "import sys\nprint('said on stderr', file=sys.stderr)")]
    path = tmp_path / "small.ipynb"
    nbformat.write(nb, path)
    measure_runtimes._execute(path, fast=False)
    done = nbformat.read(path, as_version=4)
    assert no.problems(done) == []
    assert [len(c.outputs) for c in done.cells] == [0, 0, 1, 1]
    models = no.widget_state(done).values()
    assert any(m["state"].get("description") == "a button" for m in models)
    assert not any(m["model_name"] == "FloatProgressModel" for m in models)
    assert no.stderr_lines(done) == ["cell 3: said on stderr"]
