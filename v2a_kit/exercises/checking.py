"""The checkers' machinery: the :class:`Exercise` record, how an answer is read (numbers,
shares, dicts of the keys asked for) and the tolerances that come from a quantity's own noise
(binomial, over seeds, jackknife, per-item standard errors)."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

Z = 3.0   # standard errors a noise-derived tolerance allows
# Reading an answer: numbers, shares, dicts — each problem one line that says what is wrong.
F32_EPS = 2.0 ** -23    # float32's relative rounding step



@dataclass(frozen=True)
class Exercise:
    id: str                              # "NN.k": notebook NN, exercise k
    question: str                        # the exercise, as the notebook asks it
    solve: Callable | None               # the reference solution (None: nothing to run)
    compare: Callable | None             # (answer, reference) -> list of problems; None: none
    expects: str                         # what an answer looks like
    discussion: str                      # how to read the solution's result
    reference: Callable | None = None    # check time: expected value and its noise (None: none)


def is_number(x) -> bool:
    import numbers
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def to_number(x):
    """A Python float from a float, a numpy scalar or a one-element tensor/array; else None."""
    if is_number(x):
        return float(x)
    try:
        import numpy as np
        a = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
        if a.size == 1 and a.dtype.kind in "fiu":
            return float(a.reshape(()))
    except Exception:  # noqa: BLE001 - anything unreadable is "not a number" to the checker
        pass
    return None


def describe(x) -> str:
    shape = getattr(x, "shape", None)
    return f"{type(x).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


class Wrong(Exception):
    """One problem with an answer; the checker prints its message."""


def read_number(x, where, lo=-math.inf, hi=math.inf) -> float:
    v = to_number(x)
    if v is None:
        raise Wrong(f"{where}: expected a number, got {describe(x)}")
    if not math.isfinite(v):
        raise Wrong(f"{where} is {v}: not a finite number")
    if not lo <= v <= hi:
        raise Wrong(f"{where} is {v:.4g}: outside [{lo:g}, {hi:g}], where it must lie")
    return v


def read_share(x, where, n: int | None = None) -> float:
    """A share in [0, 1]; with ``n``, one of k/n (a share of n items)."""
    v = read_number(x, where)
    if 1 < v <= 100:
        raise Wrong(f"{where} is {v:.4g}: that looks like a percentage or a count — pass a "
                     "share in [0, 1]")
    if not 0 <= v <= 1:
        raise Wrong(f"{where} is {v:.4g}: a share must lie in [0, 1]")
    if n is not None and abs(v * n - round(v * n)) > 1e-6:
        raise Wrong(f"{where} is {v:.4g}, not a share of {n} items (k/{n})")
    return v


def binomial_tolerance(p: float, n: int, z: float = Z) -> float:
    """``z`` binomial standard errors of a share ``p`` of ``n`` items (Laplace-smoothed,
    (k + 1) / (n + 2), so that 0 and 1 keep a width): how far another correct measurement of
    the same accuracy may fall."""
    q = (p * n + 1) / (n + 2)
    return z * math.sqrt(q * (1 - q) / n)


def share_close_to(v, ref, n, where):
    tol = binomial_tolerance(ref, n)
    if abs(v - ref) > tol:
        raise Wrong(f"{where} is {v:.3g}; the reference measures {ref:.3g}, and a share of "
                     f"{n} items allows ± {tol:.2g} ({Z:g} binomial standard errors)")


def close_to(v, ref, tol, where, how):
    if not abs(v - ref) <= tol:
        raise Wrong(f"{where} is {v:.4g}; the reference gives {ref:.4g} (± {tol:.2g}: {how})")


def read_dict(answer, keys, where="the answer", key=lambda k: k, shape="") -> dict:
    """The answer as a dict with exactly ``keys`` (its keys normalised by ``key``)."""
    want = sorted(keys, key=str)
    if not isinstance(answer, dict):
        raise Wrong(f"{where}: expected a dict {shape or want}, got {describe(answer)}")
    try:
        got = {key(k): v for k, v in answer.items()}
    except (TypeError, ValueError):
        raise Wrong(f"{where}: its keys {list(answer)} are not of the expected kind "
                     f"({want})") from None
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in keys]
    if missing or extra:
        raise Wrong(f"{where}: expected keys {want}" + (f"; missing {missing}" if missing else "")
                     + (f"; unexpected {extra}" if extra else ""))
    return got


def read_accuracy_dict(answer, ref: dict, n: int, attributes):
    """{attribute: share, 'all': share}: shares of n items, 'all' no higher than its lowest
    attribute, each within the binomial noise of the reference."""
    keys = [*attributes, "all"]
    got = read_dict(answer, keys, shape="{attribute: accuracy, 'all': accuracy}")
    acc = {k: read_share(got[k], f"the answer[{k!r}]", n) for k in keys}
    low = min(acc[a] for a in attributes)
    if acc["all"] > low + 1e-9:
        raise Wrong(f"the answer['all'] is {acc['all']:.3g} but the lowest attribute is "
                     f"{low:.3g}: 'all' counts sounds with every attribute right at once, so it "
                     "cannot exceed any attribute's accuracy")
    for k in keys:
        share_close_to(acc[k], ref[k], n, f"the answer[{k!r}]")


def seed_spread(values) -> float:
    """``Z`` standard deviations of a quantity over seeds (the noise a seed choice adds)."""
    import numpy as np
    return Z * float(np.std(np.asarray(values, dtype=float), ddof=1))


def mean_se(values) -> float:
    import numpy as np
    v = np.asarray(values, dtype=float)
    return float(v.std(ddof=1) / math.sqrt(len(v)))


def default_of(fn, name):
    return inspect.signature(fn).parameters[name].default


def guidance_dict(answer, guidances, inner, shape):
    got = read_dict(answer, guidances, key=float, shape=shape)
    out = {}
    for w in guidances:
        where = f"the answer[{w:g}]"
        out[w] = read_dict(got[w], inner, where=where, shape="{" + ", ".join(
            repr(k) + ": float" for k in inner) + "}")
    return out


def check_accuracy_variety(answer, ref, tolerance, how: str):
    """{guidance: {'accuracy', 'variety'}} against ``ref``: each accuracy a share of the
    reference's n within its binomial noise, each variety non-negative and within
    ``tolerance(r)`` of the reference (``how`` says what that tolerance is)."""
    got = guidance_dict(answer, list(ref["value"]), ["accuracy", "variety"],
                         "{guidance: {'accuracy': float, 'variety': float}}")
    for w, r in ref["value"].items():
        where = f"the answer[{w:g}]"
        acc = read_share(got[w]["accuracy"], f"{where}['accuracy']", ref["n"])
        var = read_number(got[w]["variety"], f"{where}['variety']")
        if var < 0:
            raise Wrong(f"{where}['variety'] is {var:.4g}: a distance cannot be negative")
        share_close_to(acc, r["accuracy"], ref["n"], f"{where}['accuracy']")
        close_to(var, r["variety"], max(tolerance(r), 1e-6 * r["variety"]),
              f"{where}['variety']", how)


def float32_tol(dim: int) -> float:
    """Rounding of a float32 dot product of ``dim`` terms (a generous 10 √dim ulps)."""
    return 10 * math.sqrt(dim) * F32_EPS


def pair_of_shares(answer, ref, names, n, what):
    got = read_dict(answer, names, shape="{" + ", ".join(f"{k!r}: {what}" for k in names) + "}")
    vals = {k: read_share(got[k], f"the answer[{k!r}]", n) for k in names}
    exp = ref["value"]
    a, b = names
    swapped = (abs(vals[a] - exp[b]) <= binomial_tolerance(exp[b], n)
               and abs(vals[b] - exp[a]) <= binomial_tolerance(exp[a], n))
    far = abs(vals[a] - exp[a]) > binomial_tolerance(exp[a], n)
    if swapped and far:
        raise Wrong(f"the answer's {a!r} and {b!r} look swapped: {a} measures {exp[a]:.3g} "
                     f"and {b} {exp[b]:.3g}")
    for k in names:
        share_close_to(vals[k], exp[k], n, f"the answer[{k!r}]")
