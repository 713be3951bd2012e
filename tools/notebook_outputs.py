"""What a committed notebook's outputs may hold, and the cleaning that makes them so.

    python tools/notebook_outputs.py notebooks/*.ipynb            # clean in place
    python tools/notebook_outputs.py --check notebooks/*.ipynb    # say what is wrong; exit 1

``make notebooks`` (``tools/measure_runtimes.py``) executes each notebook with its widget state
saved, then cleans it here, then strips its metadata with :data:`NBSTRIPOUT_ARGS` (the same
options as the git filter ``make setup`` installs and ``make lint`` verifies: outputs and the
saved widget state stay, everything else goes). Cleaning changes only outputs:

- **Progress bars go.** A tqdm bar in a notebook run headless is saved as whatever nbconvert
  last saw, often "0%| | 0/7" — a run that seems never to have finished. Outputs that are
  progress bars (tqdm's notebook widget, or its text form on stderr) are removed.
- **The saved widget state holds what the notebook shows**: the models reachable from the
  widget views that remain (a closed or removed bar's models go with it).
- **Players play unrun.** An <audio> or <video> whose data sits in a <source> child (what
  ``IPython.display.Audio`` and ``Video`` write) is rewritten with the data on the element, as
  ``v2a_kit.viz`` writes it: JupyterLab strips ``src`` from <source> in an untrusted notebook
  and keeps it on <audio>/<video>.

``--check`` also refuses a widget view whose model the notebook does not carry (it would show
as text until the notebook is run). Output on stderr is listed, not removed: a committed
notebook should keep only what its text explains.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# nbstripout's options for committed notebooks: keep outputs, counts and the saved widget state.
NBSTRIPOUT_ARGS = ("--keep-output", "--keep-count", "--keep-metadata-keys", "metadata.widgets")

# tqdm's meter: "desc:  45%|████▌     | 45/100 [00:01<00:02, 30.0it/s]", or "45it [00:01, ...]"
_METER = re.compile(r"(\d+%\|.*\|\s*\S+/\S+|\d[\d.]*[a-zA-Z/]*) \[\d+:\d\d(:\d\d)?[<,\]]")
_MEDIA = re.compile(r"<(audio|video)\b([^>]*)>(.*?)</\1\s*>", re.S | re.I)
_SOURCE_SRC = re.compile(r"<source\b[^>]*?\ssrc=\"([^\"]+)\"", re.I)
_MODEL_REF = re.compile(r"IPY_MODEL_([\w-]+)")
_TQDM_PARTS = ["HTMLModel", "FloatProgressModel", "HTMLModel"]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def widget_state(nb) -> dict:
    """model id -> saved model (``model_name``, ``state``, ...); empty when none is saved."""
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def is_progress_bar(output, state: dict) -> bool:
    """Whether ``output`` is a tqdm progress bar: its notebook widget (an HBox of label, bar,
    label) or, saved without its model, the widget's text form."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return False
    model = state.get(data[WIDGET_VIEW].get("model_id"))
    if model is not None:
        children = _MODEL_REF.findall(str(model.get("state", {}).get("children", [])))
        names = [state.get(c, {}).get("model_name") for c in children]
        return model.get("model_name") == "HBoxModel" and names == _TQDM_PARTS
    return bool(_METER.search(_text(data.get("text/plain"))))


def _is_meter(line: str) -> bool:
    """Whether a line of terminal text ends as a progress meter (tqdm redraws with \\r)."""
    shown = [part for part in line.split("\r") if part.strip()]
    return bool(shown) and bool(_METER.search(shown[-1]))


def _strip_meter_lines(text: str) -> str:
    """A stderr text without the lines a terminal would show as a progress meter."""
    return "\n".join(line for line in text.split("\n") if not _is_meter(line))


def playable_html(html: str) -> str:
    """``html`` with every <audio>/<video> that has no ``src`` of its own but a <source> with
    one rewritten to carry that ``src`` itself (its other attributes kept)."""
    def fix(m: re.Match) -> str:
        tag, attrs, inner = m.group(1), m.group(2), m.group(3)
        source = _SOURCE_SRC.search(inner)
        if re.search(r"\ssrc=", attrs, re.I) or source is None:
            return m.group(0)
        attrs = "".join(f" {a}" for a in attrs.split())
        return f'<{tag}{attrs} src="{source.group(1)}"></{tag}>'
    return _MEDIA.sub(fix, html)


def _outputs(nb):
    """(where, holder) for every output list: the cells' and those saved in Output widgets."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            yield f"cell {i}", cell
    for mid, model in widget_state(nb).items():
        if model.get("model_name") == "OutputModel":
            yield f"widget {mid[:8]}", model["state"]


def clean(nb) -> list[str]:
    """Clean ``nb`` in place (see the module's text); returns what was changed, one line each."""
    said: list[str] = []
    state = widget_state(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.outputs:
            if is_progress_bar(out, state):
                said.append(f"cell {i}: removed a progress bar "
                            f"({_text(out['data'].get('text/plain')).strip()[:60]})")
                continue
            if out.output_type == "stream" and out.name == "stderr":
                text = _strip_meter_lines(_text(out.text))
                if text != _text(out.text):
                    said.append(f"cell {i}: removed progress meters from stderr")
                    if not text.strip():
                        continue
                    out.text = text
            kept.append(out)
        cell.outputs = kept
    players = 0
    for _, holder in _outputs(nb):
        for out in holder.get("outputs", []):
            html = out.get("data", {}).get("text/html")
            if html is None:
                continue
            fixed = playable_html(_text(html))
            if fixed != _text(html):
                out["data"]["text/html"] = fixed
                players += 1
    if players:
        said.append(f"{players} output(s): players now carry their data on the element")
    if state:
        removed = _collect_widget_state(nb)
        if removed:
            said.append(f"dropped {removed} widget model(s) that no output shows")
    return said


def _shown_models(nb) -> set[str]:
    return {out["data"][WIDGET_VIEW]["model_id"]
            for _, holder in _outputs(nb) for out in holder.get("outputs", [])
            if WIDGET_VIEW in out.get("data", {})}


def _collect_widget_state(nb) -> int:
    """Keep only the models reachable from the widget views the notebook shows."""
    state = widget_state(nb)
    reachable, todo = set(), list(_shown_models(nb) & set(state))
    while todo:
        mid = todo.pop()
        if mid in reachable or mid not in state:
            continue
        reachable.add(mid)
        todo.extend(_MODEL_REF.findall(str(state[mid].get("state", {}))))
    dead = [mid for mid in state if mid not in reachable]
    for mid in dead:
        del state[mid]
    if not state:
        del nb.metadata["widgets"]
    return len(dead)


def problems(nb) -> list[str]:
    """What a committed notebook must not hold: progress bars, players that need trust, widget
    views without their saved model. Empty when clean."""
    found: list[str] = []
    state = widget_state(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if is_progress_bar(out, state) or (
                    out.output_type == "stream" and out.name == "stderr"
                    and _strip_meter_lines(_text(out.text)) != _text(out.text)):
                found.append(f"cell {i}: a progress bar")
            elif WIDGET_VIEW in out.get("data", {}) and \
                    out["data"][WIDGET_VIEW].get("model_id") not in state:
                found.append(f"cell {i}: a widget saved without its state (shows as text)")
    for where, holder in _outputs(nb):
        for out in holder.get("outputs", []):
            html = _text(out.get("data", {}).get("text/html"))
            if html and playable_html(html) != html:
                found.append(f"{where}: a player whose data sits in <source> (silent until "
                             "trusted)")
    return found


def stderr_lines(nb) -> list[str]:
    """The first line of every stderr output, by cell: what the notebook's text must explain."""
    return [f"cell {i}: {_text(out.text).strip().splitlines()[0][:160]}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.outputs
            if out.output_type == "stream" and out.name == "stderr" and _text(out.text).strip()]


def clean_file(path: Path) -> list[str]:
    """Clean one notebook file in place (rewritten only if something changed)."""
    nb = nbformat.read(path, as_version=4)
    said = clean(nb)
    if said:
        nbformat.write(nb, path)
    return said


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only say what is wrong (exit 1 if any)")
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        if not path.is_file():
            print(f"{path}: no such notebook", file=sys.stderr)
            return 2
        if args.check:
            found = problems(nbformat.read(path, as_version=4))
            bad += len(found)
            for line in found:
                print(f"{path}: {line}")
        else:
            for line in clean_file(path):
                print(f"{path}: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
