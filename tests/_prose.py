"""Read a notebook's statements where they stand: every number-like token in a markdown cell is
computed, or shown by the cells it describes, or a listed constant.

A *statement* is a number-like token of a markdown cell's prose:

- a number with a decimal point, a percentage, a count with thousands separators;
- an integer (2 or more) that is not a reference — section, notebook, exercise, cell and list
  numbers, model names (``AudioLDM 2``), years and ids are references, not amounts;
- a number with a unit (``s``, ``min``, ``M``, ``dB``, ``Hz``, ``epochs``, ``steps``, ...);
- a multiplicative factor (``3×``, ``2x``, ``twice``, ``half as``, ``an order of magnitude``);
- a worded amount of time (``half a minute``, ``a few seconds``, ``in seconds``, ``two
  minutes``).

Where it stands: the markdown cell belongs to a *section* (from the heading above it to the next
heading), and a statement is checked against the code cells of that section only — their
outputs (what they printed or said, ``viz.say``) and the numbers in their code (a setting the
reader sees typed, ``epochs=30``) — plus code shown in the section's markdown (a solution's
fenced code, a setting in backticks). A number elsewhere in the notebook is not support. A
statement that describes an earlier section's result must be said by a cell (``viz.say``).

Not statements: inline and fenced code themselves, HTML comments, the References section, arXiv
ids, exercise ids (``03.2``), and the constants of :data:`ALLOWED`, each with its reason (a
paper's published figure, a definition).

    python tests/_prose.py [NOTEBOOK ...]   # list every statement and whether it is supported
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


# statements that are constants, not measurements of the notebook. notebook id ("*": every
# notebook) -> a phrase of the cell's prose holding the statement -> (reason, value): ``value`` is
# a function computing the constant from the kit (the test checks the phrase still states it),
# or None for a published figure the kit cannot compute.
def _split():
    from v2a_kit.pocket import world
    return len(world.UNSEEN), len(world.SEEN) + len(world.UNSEEN)


def _dim(which):
    def value():
        from v2a_kit import registry
        load = registry.load_clip if which == "clip" else registry.load_clap
        return load("pocket", device="cpu").space.dim
    return value


ALLOWED = {
    "*": {},
    "01": {"400 M image": ("the published size of CLIP's training set (Radford et al. 2021)",
                           None),
           "text transformer, 64-d": ("pocket-CLIP's width, a definition of the preset",
                                      _dim("clip")),
           "pocket size, 48-d": ("pocket-CLAP's width, a definition of the preset",
                                 _dim("clap"))},
    "03": {"16 of the 96 combinations": ("the world's compositional split, a definition",
                                         _split)},
    "06": {"16 of the 96,": ("the world's compositional split, a definition", _split),
           "just under a second": ("VGGish's example length, 0.96 s: the published "
                                   "architecture (Hershey et al. 2017)", None)},
}


_TIME = {"ms": 1e-3, "s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "minute": 60,
         "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600}
_UNITS = {**_TIME, "k": 1e3, "M": 1e6, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2 ** 10,
          "MiB": 2 ** 20, "GiB": 2 ** 30, "dB": 1, "Hz": 1, "kHz": 1e3, "px": 1}
# count nouns: an integer before one of these (up to two words between) is an amount
_NOUNS = ("epoch", "step", "image", "pair", "clip", "sound", "sample", "seed", "dimension",
          "layer", "channel", "parameter", "frame", "segment", "caption", "neighbour", "item",
          "draw", "value", "level", "bin", "token", "word", "waveform", "embedding", "batch",
          "scene", "video", "photo", "picture", "point", "run", "iteration", "test", "system",
          "mapper", "model", "attribute", "combination", "class", "shape", "colour", "probe",
          "block", "head", "core", "thread", "worker", "shard", "file", "cell", "row", "column")
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_FIGURE = re.compile(
    rf"(?<![\w.,/@^_-])(?P<num>{_NUM})(?![\w.]*\d)(?:"
    rf"(?P<pct>\s?%)"
    rf"|(?P<mult>\s?[×x](?![\w]))"
    rf"|[\s-]?(?P<unit>{_UNIT_RE})(?![\w])"
    rf"|(?P<noun>(?:[\s-]+[\w-]+){{0,2}}?[\s-]+(?:{'|'.join(_NOUNS)})(?:e?s)?\b)"
    rf")?")
# what precedes an integer that is a reference, not an amount
_REFERENCE_BEFORE = re.compile(
    r"(?:\b(?:section|sections|notebook|notebooks|exercise|exercises|cell|cells|figure|table|"
    r"part|item|stage|step|steps|issue|chapter|version|AudioLDM|CLAP|CLIP|world|seed|seeds|"
    r"ViT-[BL]|layer|level|row|column|index|top|and|or|to|§)\s*$)", re.I)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1, "half a": 0.5, "a few": None,
          "several": None, "a couple of": 2}
_WORDED_TIME = re.compile(
    r"\b(?P<amount>half an?|an?|one|two|three|four|five|six|seven|eight|nine|ten|a few|"
    r"several|a couple of)\s+(?P<unit>seconds?|minutes?|hours?)\b"
    r"|\b(?:in|within|takes?|took|under|about)\s+(?P<bare>seconds|minutes|hours)\b", re.I)
_WORDED_FACTOR = re.compile(
    r"\b(?P<word>twice|double|doubles|doubled|halves|halved|half as|threefold|three times|"
    r"four times|ten times|tenfold|an order of magnitude|orders of magnitude)\b", re.I)
_FACTORS = {"twice": 2, "double": 2, "doubles": 2, "doubled": 2, "halves": 0.5,
            "halved": 0.5, "half as": 0.5, "threefold": 3, "three times": 3, "four times": 4,
            "ten times": 10, "tenfold": 10, "an order of magnitude": 10,
            "orders of magnitude": 100}
_OUTPUT_NUM = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s", re.M)


def _strip(markdown: str) -> str:
    """The cell's prose: without code, comments, HTML tags, references, ids and list markers."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\]\([^)]*\)", "] ", text)                                  # link targets
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)                       # maths
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    text = re.sub(r"\\\[.*?\\\]", " ", text, flags=re.S)
    text = re.sub(r"(?ims)^#+\s*references\b.*?(?=^#|\Z)", " ", text)
    text = re.sub(r"(?m)^(\s*#+\s*)\d+(?:\.\d+)*\.?", r"\1", text)               # "## 2. ..."
    text = re.sub(r"(?m)^(\s*)\d+[.)]\s", r"\1", text)                          # "1. " lists
    text = re.sub(r"\b(?:arXiv\s*)?\d{4}\.\d{4,5}\b", " ", text)               # arXiv ids
    text = re.sub(r"\b(?:Exercises?|Solution)\s+\d{2}\.\d{1,2}\b", " ", text)  # exercise ids
    text = re.sub(r"\b(?:19|20)\d{2}\b", " ", text)                            # years
    text = re.sub(r"\b\d{2}_\w+", " ", text)                                   # notebook names
    text = re.sub(r"(?<![\w.])0\d\b(?:\s*[–-]\s*0\d\b)?", " ", text)        # notebook ids "02–04"
    text = re.sub(r"(?<=\d)[–-](?=\d)", " to ", text)                        # ranges "30–50"
    text = re.sub(r"\b(\d+)-[dD]\b", r"\1-dimensional", text)
    return text


def _code_in(markdown: str) -> str:
    """Code shown in a markdown cell: fenced blocks and inline spans (settings the reader types
    or reads as code)."""
    return " ".join(re.findall(r"```.*?```", markdown, flags=re.S)
                    + re.findall(r"`[^`]*`", re.sub(r"```.*?```", " ", markdown, flags=re.S)))


def statements(markdown: str) -> list[dict]:
    """The statements of a markdown cell: ``{"text", "value", "low", "high", "scales"}`` — a
    statement is supported by a number ``u`` of its section when, for one of ``scales``,
    ``low <= |u| / scale <= high``."""
    prose = _strip(markdown)
    found = []
    for m in _FIGURE.finditer(prose):
        num, unit = m["num"], m["unit"]
        value = float(num.replace(",", ""))
        decimals = len(num.split(".")[1]) if "." in num else 0
        integer = not (decimals or m["pct"] or m["mult"] or unit or "," in num)
        if integer and (value < 2 or _REFERENCE_BEFORE.search(prose[:m.start()])):
            continue                     # "1 image", "section 7", "seed 4000": not an amount
        scales = [1.0]
        if unit:
            scales.append(_UNITS[unit])
        if m["pct"]:
            scales.append(0.01)
        tol = 0.5 * 10 ** -decimals + 1e-9
        found.append({"text": m.group(0).strip(), "value": value, "low": value - tol,
                      "high": value + tol, "scales": scales})
    for m in _WORDED_TIME.finditer(prose):
        unit = (m["unit"] or m["bare"]).lower()
        scale = _TIME[unit]
        amount = (m["amount"] or "").lower()
        if m["bare"] or amount in ("a few", "several"):
            low, high = 1.0, 59.0 if scale < 60 else 9.0           # "seconds": under a minute
            if m["bare"] and unit == "seconds":
                low, high = 0.5, 20.0                              # "in seconds": a few
        else:
            v = 0.5 if amount.startswith("half") else _WORDS.get(amount, 1)
            low, high = 0.6 * v, 1.5 * v
        found.append({"text": m.group(0).strip(), "value": None, "low": low, "high": high,
                      "scales": [scale]})
    for m in _WORDED_FACTOR.finditer(prose):
        f = _FACTORS[m["word"].lower()]
        found.append({"text": m.group(0).strip(), "value": f, "low": f * 0.8, "high": f * 1.25,
                      "scales": [1.0]})
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


def numbers_in(text: str) -> list[float]:
    nums = []
    for m in _OUTPUT_NUM.finditer(text):
        try:
            nums.append(float(m.group(0).replace(",", "")))
        except ValueError:
            pass
    return nums


def supported(statement: dict, numbers: list[float]) -> bool:
    """True when a number of the section, in the statement's unit or none, matches it."""
    lo, hi = statement["low"], statement["high"]
    return any(lo <= abs(u) / s <= hi for u in numbers for s in statement["scales"])


def sections(nb: dict) -> list[list[int]]:
    """Cell indices grouped by section: a markdown cell with a heading starts a new one."""
    groups: list[list[int]] = [[]]
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown" and _HEADING.search("".join(cell["source"])) \
                and groups[-1]:
            groups.append([])
        groups[-1].append(i)
    return groups


def _notebook_id(stem: str) -> str:
    number = re.search(r"(?:^|_)(\d{2})_", stem + "_")        # "01_…", or a scratch "run_01_…"
    return number.group(1) if number else ""


def check_notebook(nb: dict, stem: str) -> tuple[int, list[str]]:
    """(number of statements checked, problems) for one executed notebook."""
    nb_id = _notebook_id(stem)
    allowed = [" ".join(k.split()) for k in {**ALLOWED["*"], **ALLOWED.get(nb_id, {})}]
    checked, problems = 0, []
    for group in sections(nb):
        cells = [nb["cells"][i] for i in group]
        evidence = " ".join(_output_text(c) + "\n" + "".join(c["source"])
                            if c["cell_type"] == "code" else _code_in("".join(c["source"]))
                            for c in cells)
        numbers = numbers_in(evidence)
        for i in group:
            cell = nb["cells"][i]
            if cell["cell_type"] != "markdown":
                continue
            prose = " ".join(_strip("".join(cell["source"])).split())
            for st in statements("".join(cell["source"])):
                text = " ".join(st["text"].split())
                if any(text in phrase and phrase in prose for phrase in allowed):
                    continue
                checked += 1
                if not supported(st, numbers):
                    problems.append(f"{stem} cell {i}: {text!r} is stated in markdown but "
                                    "no cell of its section shows it (compute it and say it: "
                                    "viz.say, or show it in the section's outputs)")
    return checked, problems


def computed_statements(nb: dict) -> int:
    """How many statements the cells *say* (Markdown outputs, ``viz.say``): computed, so true
    of the run that wrote them by construction."""
    n = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            md = out.get("data", {}).get("text/markdown")
            if md is not None:
                n += len(statements("".join(md)))
    return n


def executed(nb: dict) -> bool:
    return any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    paths = [Path(p) for p in sys.argv[1:]] or sorted((root / "notebooks").glob("[0-9]*.ipynb"))
    total = 0
    for path in paths:
        n, probs = check_notebook(json.loads(path.read_text()), path.stem)
        total += len(probs)
        print(f"{path.stem}: {n} statements, {len(probs)} unsupported")
        for p in probs:
            print("  ", p)
    sys.exit(1 if total else 0)
