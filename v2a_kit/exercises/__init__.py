"""The notebooks' exercises: their solutions, and checkers a student can call.

``check("03.3", answer)`` prints a verdict and returns ``True`` or ``False``: what is right, or
precisely what is wrong — for an answer of the wrong type or shape, in one line, what was
expected. A checker never raises for a bad *answer*; an unknown exercise id is a
:class:`ConfigError` that lists the known ones.

A checker accepts any correct answer, not only the reference recipe's digits: it checks the
properties the question is about (shares in [0, 1] of the right number of items, an ``all``
accuracy no higher than its lowest attribute, FD shrinking as n grows, the keys asked for),
asserts the analytic answer where there is one (03.1's ratio of 2, 04.3's step of the cosine
schedule, 05.1's cosine of 1 for a deterministic mapper, 05.3's segment count), and otherwise
compares with the reference within the quantity's own noise, computed at check time: a few
binomial standard errors for an accuracy over n items, the spread over other seeds for a
quantity that depends on one, a bootstrap, jackknife or per-item standard error for a mean.
Expected values come from the kit's current models (the pocket preset), never typed in.

``solution("03.3")`` returns the reference solution (a function with small, fast defaults),
``source("03.3")`` its code — public API only, absolute imports, so it runs pasted into a
notebook cell — and ``EXERCISES`` describes each: its notebook, its question, whether it has a
checker, and a discussion whose conclusions the solution's numbers decide. Exercises whose
answer is an argument, a measurement of this machine (timings) or of your own folder's scores
have a solution and no checker.

One module per notebook holds that notebook's exercises — solutions, references, checkers,
questions and discussions (``quickstart`` for 00 … ``timing`` for 08, :data:`CHAPTERS`) — and
:mod:`.checking` the machinery they share (:class:`Exercise`, reading an answer, tolerances
from a quantity's noise).
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable

from ..errors import ConfigError
from . import (
    domain_gap,
    foundation_models,
    generate_and_listen,
    generative_mapper,
    quickstart,
    real_models,
    regression_mapper,
    reproduce_evaluation,
    timing,
)
from .checking import Exercise, Wrong, binomial_tolerance

__all__ = ["Exercise", "EXERCISES", "check", "verdict", "reference", "solution", "source", "ids",
           "details", "binomial_tolerance"]

# one module per notebook (chapter), in the notebooks' order
CHAPTERS = (quickstart, foundation_models, domain_gap, regression_mapper, generative_mapper,
            generate_and_listen, reproduce_evaluation, real_models, timing)
EXERCISES: dict[str, Exercise] = {e.id: e for chapter in CHAPTERS for e in chapter.EXERCISES}


def ids(notebook: str | None = None) -> list[str]:
    """Exercise ids, all or those of one notebook (``"03"``)."""
    return [k for k in EXERCISES if notebook is None or k.split(".")[0] == notebook]


def _get(exercise_id) -> Exercise:
    if exercise_id not in EXERCISES:
        raise ConfigError(f"unknown exercise {exercise_id!r}; known: {', '.join(EXERCISES)}")
    return EXERCISES[exercise_id]


def solution(exercise_id: str) -> Callable | None:
    """The reference solution of an exercise (a function; ``None`` for 06.4's commands)."""
    return _get(exercise_id).solve


def source(exercise_id: str) -> str:
    """The code of an exercise's reference solution, as the notebook's folded block shows it
    (public API and absolute imports only: it runs pasted into a cell), or its discussion when
    it has none."""
    ex = _get(exercise_id)
    return textwrap.dedent(inspect.getsource(ex.solve)) if ex.solve else ex.discussion


@functools.cache
def reference(exercise_id: str):
    """What the checker of ``exercise_id`` compares with, computed now on the kit's models
    (once per process): the expected value and the noise that sets its tolerance; ``None`` for
    a checker of properties alone (01.3, 07.1, 07.2)."""
    ex = _get(exercise_id)
    return ex.reference() if ex.reference else None


def verdict(exercise_id: str, answer) -> str | None:
    """``None`` when ``answer`` is right, else the one-line reason it is wrong (what
    :func:`check` prints after "✗")."""
    ex = _get(exercise_id)
    if ex.compare is None:
        raise ConfigError(f"exercise {exercise_id} has no checker ({ex.expects})")
    try:
        ex.compare(answer, reference(exercise_id))
    except Wrong as wrong:
        return str(wrong)
    return None


def check(exercise_id: str, answer) -> bool:
    """Print whether ``answer`` to exercise ``exercise_id`` is right; return ``True``/``False``.

    The reference is computed now on the kit's models (once per process). A wrong type or
    shape is a printed verdict saying what was expected.
    """
    ex = _get(exercise_id)
    if ex.compare is None:
        print(f"{exercise_id}: no checker — {ex.expects}. Compare your reasoning with the "
              f"solution: {ex.discussion}")
        return False
    problem = verdict(exercise_id, answer)
    if problem:
        print(f"✗ {exercise_id}: {problem}. Expected {ex.expects}; the recipe: {ex.question}")
        return False
    ref = reference(exercise_id)
    shown = "" if ref is None else f" (the reference: {_short(ref.get('value', ref))})"
    print(f"✓ {exercise_id}: right{shown}. {ex.discussion}")
    return True


def _has_value(v) -> bool:
    return isinstance(v, dict) and "value" in v


def _short(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v['value'] if _has_value(v) else v)}"
                               for k, v in x.items()) + "}"
    return repr(x)


def details(exercise_id: str) -> str:
    """The collapsed Markdown solution block the notebooks carry for ``exercise_id``."""
    ex = _get(exercise_id)
    body = [ex.discussion]
    if ex.solve is not None:
        name = ex.solve.__name__
        body += ["", "```python", source(exercise_id).rstrip(), "```", "",
                 f"Run it: `{name}()` after pasting it (or "
                 f"`exercises.solution({exercise_id!r})()`)"
                 + (f"; check yours: `exercises.check({exercise_id!r}, answer)`."
                    if ex.compare else ".")]
    return ("<details><summary>Solution " + exercise_id + "</summary>\n\n" + "\n".join(body)
            + "\n\n</details>")
