"""Every exercise's reference solution passes its checker; a wrong answer, or one of the wrong
type, fails it with a message that says what was expected."""

from __future__ import annotations

import re

import pytest

from v2a_kit import ConfigError, exercises

CHECKED = [k for k, e in exercises.EXERCISES.items() if e.solve and e.compare]
# exercises without a checker: their solutions still run (small settings: the test's, not a
# student's), so a broken solution fails here
UNCHECKED_RUNS = {
    "02.3": dict(n=60),
    "05.4": dict(n=2, batch_sizes=(1, 2)),
    "06.1": dict(n=2, num_inference_steps=2),
    "06.3": dict(n=2, num_train=64),
}


def _wrong(answer):
    """A plausible wrong answer of the right type and shape."""
    if isinstance(answer, bool):
        return not answer
    if isinstance(answer, int):
        return answer + 7
    if isinstance(answer, float):
        return answer + 0.25 + abs(answer) * 0.1
    if isinstance(answer, dict):
        k = next(iter(answer))
        return {**answer, k: _wrong(answer[k])}
    if isinstance(answer, list):
        return list(reversed(answer)) + ["extra"]
    if callable(answer):
        return lambda waveforms: 1.0          # not 0 for identical sounds
    raise TypeError(type(answer))


def test_ids_cover_every_notebook_exercise():
    assert [exercises.ids(f"{k:02d}") != [] for k in range(7)] == [True] * 7
    assert all(re.fullmatch(r"0[0-6]\.\d", k) for k in exercises.EXERCISES)


@pytest.mark.parametrize("exercise_id", CHECKED)
def test_solution_passes_and_wrong_answers_fail(exercise_id, capsys):
    answer = exercises.solution(exercise_id)()
    assert exercises.check(exercise_id, answer) is True
    assert capsys.readouterr().out.startswith(f"✓ {exercise_id}")
    assert exercises.check(exercise_id, _wrong(answer)) is False
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {exercise_id}") and ("reference" in out or "should" in out), out
    # the wrong type: a string where a number, dict or function belongs
    assert exercises.check(exercise_id, "forty-two") is False
    out = capsys.readouterr().out
    assert "expected" in out and "got str" in out, out


@pytest.mark.parametrize("exercise_id", sorted(UNCHECKED_RUNS))
def test_solutions_without_checker_run(exercise_id, capsys):
    ex = exercises.EXERCISES[exercise_id]
    assert ex.compare is None
    result = ex.solve(**UNCHECKED_RUNS[exercise_id])
    assert result is not None
    if isinstance(result, dict):
        assert result and all(v is not None for v in result.values())
    assert exercises.check(exercise_id, result) is False       # no checker: it says so
    assert "no checker" in capsys.readouterr().out


def test_checker_reports_missing_keys_and_shapes(capsys):
    assert exercises.check("02.2", {10: 0.5}) is False
    out = capsys.readouterr().out
    assert "missing [50]" in out
    import numpy as np
    assert exercises.check("01.4", np.zeros(3)) is False
    assert "expected a number, got ndarray of shape (3,)" in capsys.readouterr().out


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown exercise '9\.9'; known: 00\.1, 00\.2"):
        exercises.check("9.9", 1.0)
    with pytest.raises(ConfigError, match="known"):
        exercises.solution("03.9")


def test_notebooks_carry_each_solution():
    """Each notebook shows the collapsed solution of each of its exercises, as the module has
    it (regenerate the block with ``exercises.details(id)`` when a solution changes)."""
    import json
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "notebooks"
    for nb_id in {k.split(".")[0] for k in exercises.EXERCISES}:
        (path,) = root.glob(f"{nb_id}_*.ipynb")
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                         if c["cell_type"] == "markdown")
        for ex_id in exercises.ids(nb_id):
            assert exercises.details(ex_id) in text, f"{path.name} lacks the solution of {ex_id}"
