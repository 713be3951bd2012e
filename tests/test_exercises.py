"""Every exercise's solution, pasted into a fresh namespace as a notebook cell would hold it,
runs and passes its checker; each checker rejects a table of specific plausible mistakes, each
with a verdict that names what is wrong."""

from __future__ import annotations

import ast
import math
import re

import numpy as np
import pytest

from v2a_kit import ConfigError, exercises

CHECKED = [k for k, e in exercises.EXERCISES.items() if e.solve and e.compare]
# solutions run with the test's small settings where their defaults are a student's recipe
SMALL = {"02.3": dict(n=60), "05.4": dict(n=2, batch_sizes=(1, 2)),
         "06.1": dict(n=2, num_inference_steps=2), "06.3": dict(n=2, num_train=64),
         "07.3": dict(num_pairs=24, num_test=4, epochs=2, steps=2),
         "07.4": dict(prompts=("a dog barks",), steps=3)}
# the checked answers are own-folder measurements: the pocket stand-in with few epochs
SMALL_CHECKED = {"07.1": dict(num_pairs=20, epochs=2), "07.2": dict(num_pairs=20, epochs=2)}


def _scale(d, f):
    return {k: _scale(v, f) if isinstance(v, dict) else v * f for k, v in d.items()}


def _set(d, path, value):
    """A copy of nested dict ``d`` with ``d[path[0]][path[1]]... = value``."""
    out = dict(d)
    out[path[0]] = value if len(path) == 1 else _set(d[path[0]], path[1:], value)
    return out


def _first(d):
    return next(iter(d))


def _swap(d, a, b):
    return {**d, a: d[b], b: d[a]}


def _above_an_attribute(a, n):
    """'all' higher than one attribute (as a mean over attributes can be)."""
    attr = _first(a)
    if a["all"] >= 1 / n:
        return {**a, attr: a["all"] - 1 / n}
    return {**a, "all": 1.0, attr: 1 - 1 / n}


def _accuracy_mistakes(n):
    return [
        (lambda a: _scale(a, 100), "accuracies as percentages", "percentage"),
        (lambda a: {k: v for k, v in a.items() if k != "all"}, "forgot 'all'", "missing"),
        (lambda a: _above_an_attribute(a, n), "'all' above an attribute", "cannot exceed"),
        (lambda a: list(a.values()), "a list, not a dict", "got list"),
        (lambda a: _set(a, [_first(a)], math.nan), "NaN", "not a finite"),
        (lambda a: _set(a, [_first(a)], 1 / 3 + 1e-3), "not a share of the items", "not a share"),
    ]


def _guidance_mistakes(inner):
    first = inner[0]
    says = "percentage" if first == "accuracy" else "reference"   # a share, or a distance
    return [
        (lambda a: _set(a, [_first(a), first], a[_first(a)][first] * 100),
         "a percentage", says),
        (lambda a: {k: v for k, v in list(a.items())[1:]}, "a guidance left out", "missing"),
        (lambda a: {k: {x: v[x] for x in inner[1:]} for k, v in a.items()},
         f"'{first}' left out", "missing"),
        (lambda a: [a[k] for k in a], "a list", "got list"),
        (lambda a: _set(a, [_first(a), inner[1]], math.nan), "NaN", "not a finite"),
        (lambda a: _set(a, [_first(a), inner[1]], -abs(a[_first(a)][inner[1]]) - 1),
         "a negative distance", "negative"),
    ]


def _clap_dim():
    from v2a_kit.pocket import load_models
    return load_models()["clap"].space.dim


def _variety_const(v):
    return lambda waveforms: v


WRONG = {
    "00.1": _accuracy_mistakes(6),
    "00.2": [
        (lambda a: {**a, "cosine": -a["cosine"]}, "the sign flipped", "reference"),
        (lambda a: {**a, "cosine": 1 - a["cosine"] - 0.5}, "far from the seed spread",
         "reference"),
        (lambda a: {**a, "cosine": 57.0}, "an angle, out of range", "outside"),
        (lambda a: {**a, "same_attributes": not a["same_attributes"]}, "the opposite verdict",
         "same_attributes"),
        (lambda a: {**a, "same_attributes": "yes"}, "a string for a bool", "True or False"),
        (lambda a: (a["cosine"], a["same_attributes"]), "a tuple", "got tuple"),
    ],
    "01.1": _accuracy_mistakes(100),
    "01.2": _guidance_mistakes(["accuracy", "variety"]) + [
        (lambda a: {k: {"accuracy": v["accuracy"], "variety": 0.0} for k, v in a.items()},
         "a variety that is always 0", "variety"),
    ],
    "01.3": [
        (lambda a: _variety_const(1.0), "a constant", "identical"),
        (lambda a: _variety_const(0.0), "a constant 0", "different scenes"),
        (lambda a: (lambda w: -a(w)), "larger for more similar sounds", "different scenes"),
        (lambda a: (lambda w: float(np.abs(np.asarray(w)).mean())), "loudness, not variety",
         "identical"),
        (lambda a: (lambda w: math.nan), "NaN", "finite"),
        (lambda a: (lambda w: 1 / 0), "raises", "raised ZeroDivisionError"),
        (lambda a: 0.5, "a number, not a function", "expected a function"),
    ],
    "01.4": [
        (lambda a: 1 - a, "the cosine distance", "1 − cos"),
        (lambda a: 1.0, "the caption with itself", "itself"),
        (lambda a: math.degrees(math.acos(a)), "the angle in degrees", "degrees"),
        (lambda a: a - 0.05, "another caption's cosine", "reference"),
        (lambda a: {"cosine": a}, "a dict", "got dict"),
        (lambda a: np.zeros(3), "an array", "got ndarray of shape (3,)"),
    ],
    "02.1": [
        (lambda a: 0.0, "a set against itself", "itself"),
        (lambda a: a ** 2, "the squared gap", "squared"),
        (lambda a: -a, "negative", "outside"),
        (lambda a: a * 1.5, "another pair of sets", "reference"),
        (lambda a: math.nan, "NaN", "not a finite"),
        (lambda a: {"gap": a}, "a dict", "got dict"),
    ],
    "02.2": [
        (lambda a: {k: k / 299 for k in a}, "the chance level", "chance"),
        (lambda a: {k: v * k for k, v in a.items()}, "counts, not shares", "count"),
        (lambda a: _swap(a, 10, 50), "keys swapped", "reference"),
        (lambda a: {10: a[10]}, "k=50 left out", "missing [50]"),
        (lambda a: {"ten": a[10], "fifty": a[50]}, "keys in words", "not of the expected kind"),
        (lambda a: list(a.values()), "a list", "got list"),
    ],
    "03.1": [
        (lambda a: 1 / a, "cosine/MSE", "cosine/MSE"),
        (lambda a: a / _clap_dim(), "MSE averaged over dimensions", "averaged"),
        (lambda a: 1.0, "the two losses equal", "not equal"),
        (lambda a: a + 0.01, "off the identity", "exactly 2"),
        (lambda a: math.inf, "infinite", "not a finite"),
        (lambda a: "2", "a string", "got str"),
    ],
    "03.2": [
        (lambda a: _scale(a, 100), "percentages", "percentage"),
        (lambda a: {**a, "ridge": 0.503}, "not a share of 200", "not a share"),
        (lambda a: {"ridge": a["ridge"]}, "the MLP left out", "missing"),
        (lambda a: {**a, "mlp": a["regression"]}, "an extra key", "unexpected"),
        (lambda a: {k: min(1.0, v + 0.3) for k, v in a.items()}, "recall on the training set",
         "reference"),
        (lambda a: (a["ridge"], a["regression"]), "a tuple", "got tuple"),
    ],
    "03.3": [
        (lambda a: {k: 1.0 for k in a}, "norms after normalisation", "normalisation"),
        (lambda a: {i: v for i, v in enumerate(a.values())}, "value indices as keys", "indices"),
        (lambda a: {k: v * 2 for k, v in a.items()}, "twice the norms (squared?)", "reference"),
        (lambda a: {k: -v for k, v in a.items()}, "negative norms", "outside"),
        (lambda a: dict(list(a.items())[1:]), "a value left out", "missing"),
        (lambda a: float(np.mean(list(a.values()))), "one mean for all", "got float"),
    ],
    "04.1": _guidance_mistakes(["diversity", "cs"])[:5] + [
        (lambda a: {k: {"diversity": v["cs"], "cs": v["diversity"]} for k, v in a.items()},
         "diversity and cs swapped", "swapped"),
        (lambda a: _set(a, [_first(a), "cs"], 250.0), "CS out of its range", "outside"),
    ],
    "04.2": [
        (lambda a: _scale(a, 100), "percentages", "percentage"),
        (lambda a: {k: 1 - v for k, v in a.items()}, "error rates, not recall", "reference"),
        (lambda a: {"ddim": a["ddim"]}, "DDPM left out", "missing"),
        (lambda a: {**a, "ddim": 0.5 + 1 / 1000}, "not a share of 128", "not a share"),
        (lambda a: {**a, "ddpm": math.nan}, "NaN", "not a finite"),
        (lambda a: [a["ddim"], a["ddpm"]], "a list", "got list"),
    ],
    "04.3": [
        (lambda a: a - 1, "the last t with ᾱ ≥ 1/2", "last t"),
        (lambda a: a + 1, "counted from 1", "counting t from 1"),
        (lambda a: 500, "T/2", "T/2"),
        (lambda a: float(a), "a float", "expected an int"),
        (lambda a: a + 50, "another schedule", "cosine schedule"),
        (lambda a: str(a), "a string", "got str"),
    ],
    "05.1": [
        (lambda a: {"regression": a["diffusion"], "diffusion": a["regression"]},
         "the kinds swapped", "swapped"),
        (lambda a: {**a, "diffusion": -a["diffusion"]}, "the sign flipped", "reference"),
        (lambda a: {**a, "diffusion": 1 - a["diffusion"]}, "cosine distance", "1 − cos"),
        (lambda a: {**a, "regression": 0.9}, "a regression cosine below 1", "deterministic"),
        (lambda a: {**a, "diffusion": 2.0}, "out of range", "outside"),
        (lambda a: a["diffusion"], "only one number", "got float"),
    ],
    "05.2": _guidance_mistakes(["accuracy", "variety"]) + [
        (lambda a: _set(a, [_first(a), "accuracy"], 0.33), "not a share of 8", "not a share"),
    ],
    "05.3": [
        (lambda a: 6, "the number of scenes", "number of scenes"),
        (lambda a: a + 1, "one segment too many", "⌈"),
        (lambda a: float(a), "a float", "expected an int"),
        (lambda a: 3.0 / a, "seconds per segment", "expected an int"),
        (lambda a: [a, a], "a list", "got list"),
    ],
    "06.2": [
        (lambda a: dict(zip(a, reversed(list(a.values())))), "values reversed", "grows with n"),
        (lambda a: {k: math.sqrt(v) for k, v in a.items()}, "√FD", "√FD"),
        (lambda a: {k: -v for k, v in a.items()}, "negative", "never negative"),
        (lambda a: {k: 0.0 for k in a}, "the set against itself", "itself"),
        (lambda a: {32: a[32], 64: a[64]}, "n=128 left out", "missing [128]"),
        (lambda a: list(a.values()), "a list", "got list"),
    ],
    "07.1": [
        (lambda a: {**a, "chance": 1 / (a["num_val"] - 1)}, "chance 1/(n − 1)", "chance"),
        (lambda a: {**a, "recall@1": a["recall@1"] * 100}, "a percentage", "percentage"),
        (lambda a: {**a, "recall@1": 0.5 / a["num_val"]}, "not a share of num_val",
         "not a share"),
        (lambda a: {**a, "num_val": 2.5}, "num_val not an int", "positive int"),
        (lambda a: {k: v for k, v in a.items() if k != "chance"}, "chance left out", "missing"),
        (lambda a: a["recall@1"], "the recall alone", "got float"),
    ],
    "07.2": [
        (lambda a: {**a, "ridge": a["ridge"] * 100 + 5}, "a percentage", "percentage"),
        (lambda a: {**a, "ridge": 0.5 / a["num_val"]}, "not a share of num_val", "not a share"),
        (lambda a: {k: v for k, v in a.items() if k != "num_val"}, "num_val left out",
         "missing"),
        (lambda a: {**a, "num_val": 0}, "no validation pairs", "positive int"),
        (lambda a: {**a, "regression": math.nan}, "NaN", "not a finite"),
        (lambda a: [a["ridge"], a["regression"]], "a list", "got list"),
    ],
    "08.1": [
        (lambda a: _scale(a, 100), "F1 as percentages", "percentage"),
        (lambda a: dict(zip(a, reversed(list(a.values())))), "values reversed", "cannot fall"),
        (lambda a: {k / 1000: v for k, v in a.items()}, "tolerances in seconds", "expected keys"),
        (lambda a: {k: v for k, v in a.items() if k != 50}, "50 ms left out", "missing [50]"),
        (lambda a: {k: max(0.0, v - 0.2) for k, v in a.items()}, "another measure's F1",
         "reference"),
        (lambda a: _set(a, [10], math.nan), "NaN", "not a finite"),
    ],
    "08.2": [
        (lambda a: {**a, "f1": a["f1"] * 100}, "F1 as a percentage", "percentage"),
        (lambda a: {"f1": a["f1"]}, "the offset left out", "missing"),
        (lambda a: {**a, "f1": 0.0}, "an untrained predictor's F1", "reference"),
        (lambda a: {**a, "mean_abs_offset_s": 40.0}, "the offset in ms", "milliseconds"),
        (lambda a: {**a, "mean_abs_offset_s": -0.01}, "a negative offset", "outside"),
        (lambda a: [a["f1"], a["mean_abs_offset_s"]], "a list", "got list"),
        (lambda a: {**a, "f1": math.nan}, "NaN", "not a finite"),
    ],
}


def _pasted(exercise_id):
    """The solution as the notebook shows it, run in a fresh namespace (a notebook cell)."""
    ns = {"__name__": "__main__"}
    exec(compile(exercises.source(exercise_id), f"<solution {exercise_id}>", "exec"), ns)
    (fn,) = [v for k, v in ns.items() if k.startswith("solve_")]
    return fn


def test_ids_cover_every_notebook_exercise():
    assert [exercises.ids(f"{k:02d}") != [] for k in range(9)] == [True] * 9
    assert all(re.fullmatch(r"0[0-8]\.\d", k) for k in exercises.EXERCISES)


def test_every_checker_has_a_table_of_mistakes():
    assert sorted(WRONG) == sorted(CHECKED)
    assert all(len(WRONG[k]) >= 5 for k in CHECKED), {k: len(WRONG[k]) for k in CHECKED}


@pytest.mark.parametrize("exercise_id", [k for k, e in exercises.EXERCISES.items() if e.solve])
def test_solutions_use_only_the_public_api(exercise_id):
    tree = ast.parse(exercises.source(exercise_id))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{exercise_id}: relative import from {node.module}"
        names = ([a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom))
                 else [node.id] if isinstance(node, ast.Name)
                 else [node.attr] if isinstance(node, ast.Attribute) else [])
        private = [n for n in names if n.split(".")[-1].startswith("_")]
        assert not private, f"{exercise_id} uses private names {private}"


@pytest.mark.parametrize("exercise_id", CHECKED)
def test_pasted_solution_passes_and_mistakes_fail(exercise_id, capsys):
    answer = _pasted(exercise_id)(**SMALL_CHECKED.get(exercise_id, {}))
    assert exercises.check(exercise_id, answer) is True, capsys.readouterr().out
    assert capsys.readouterr().out.startswith(f"✓ {exercise_id}")
    for build, reason, says in WRONG[exercise_id]:
        wrong = build(answer)
        assert exercises.check(exercise_id, wrong) is False, f"{exercise_id} accepted: {reason}"
        out = capsys.readouterr().out
        assert out.startswith(f"✗ {exercise_id}") and says in out, (reason, out)
    # the wrong type: a string where a number, dict or function belongs — one line
    assert exercises.check(exercise_id, "forty-two") is False
    out = capsys.readouterr().out
    assert "expected" in out and "got str" in out, out


def test_analytic_answers():
    """03.1, 04.3, 05.1, 05.3, 08.1: the answers analysis (or the kit's own measure) gives,
    independently of the checkers."""
    assert exercises.solution("03.1")() == pytest.approx(2.0, rel=1e-4)  # ‖p−y‖² = 2 − 2cos
    t = exercises.solution("04.3")()
    f = [math.cos((s / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 for s in range(1001)]
    abar = np.cumprod([1 - min(1 - f[s + 1] / f[s], 0.999) for s in range(1000)])
    assert abar[t] < 0.5 <= abar[t - 1]
    assert exercises.solution("05.1")()["regression"] == pytest.approx(1.0, abs=1e-5)
    from v2a_kit.pocket import load_models
    max_len = load_models()["audioldm"].max_length_s
    assert exercises.solution("05.3")() == math.ceil(6 * 0.5 / max_len - 1e-9)
    # 08.1: the hand-written F1 is the synchrony measure's own matching, at each tolerance
    assert exercises.solution("08.1")() == pytest.approx(
        exercises.reference("08.1")["value"], abs=1e-12)


def test_mistake_counts_report(capsys):
    """How many specific mistakes each checker rejects (the table above, plus a string)."""
    with capsys.disabled():
        print("\nwrong answers each checker rejects:")
        for k in CHECKED:
            print(f"  {k}: {len(WRONG[k]) + 1}")
        print("  without a checker: " + ", ".join(
            k for k, e in exercises.EXERCISES.items() if not e.compare))
    assert sum(len(v) for v in WRONG.values()) >= 5 * len(CHECKED)


@pytest.mark.parametrize("exercise_id", sorted(SMALL))
def test_pasted_solutions_without_checker_run(exercise_id, capsys):
    ex = exercises.EXERCISES[exercise_id]
    assert ex.compare is None
    result = _pasted(exercise_id)(**SMALL[exercise_id])
    assert result is not None
    if isinstance(result, dict):
        assert result and all(v is not None for v in result.values())
    assert exercises.check(exercise_id, result) is False       # no checker: it says so
    assert "no checker" in capsys.readouterr().out


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown exercise '9\.9'; known: 00\.1, 00\.2"):
        exercises.check("9.9", 1.0)
    with pytest.raises(ConfigError, match="known"):
        exercises.solution("03.9")


def test_notebooks_carry_each_solution():
    """Each notebook shows the collapsed solution of each of its exercises, as the module has
    it (``tools/sync_exercises.py`` regenerates the blocks when a solution changes)."""
    import json
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "notebooks"
    for nb_id in {k.split(".")[0] for k in exercises.EXERCISES}:
        (path,) = root.glob(f"{nb_id}_*.ipynb")
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                         if c["cell_type"] == "markdown")
        for ex_id in exercises.ids(nb_id):
            assert exercises.details(ex_id) in text, f"{path.name} lacks the solution of {ex_id}"
