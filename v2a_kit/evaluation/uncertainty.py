"""How sure is a score? One bootstrap for every metric, and the paired test between two systems.

:func:`bootstrap` is the kit's one resampling routine: it redraws the rows of one or more
groups with replacement (``np.random.default_rng(seed)``, group by group, resample by
resample), evaluates a statistic on each redraw and returns an :class:`Interval`: the estimate
on the data as given, the percentile interval of the redraws at ``level`` and their standard
deviation (the bootstrap standard error). ``v2a_kit.evaluation.score`` uses it for every metric,
the sampler benchmark (``v2a_kit.pocket.schedulers``) for its noise, and :func:`paired` for the
difference between two systems.

**Paired comparison.** Two systems scored *on the same inputs* (the same images, references and
pairs) differ by less noise than their two intervals suggest: the inputs' own difficulty is
common to both. :func:`paired` redraws the inputs once per resample and evaluates both systems
on that same redraw, so the :class:`Difference` it returns holds the difference's own interval
and a two-sided bootstrap p-value; ``Difference.excludes_zero`` says whether one system beats
the other beyond the resampling noise at that level. Resampling noise is not the only noise:
another seed of the generator, another reference set or another protocol (the sensitivity lab,
``benchmarks/bench_protocol.py``) can move a score further.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConfigError

__all__ = ["Interval", "Difference", "bootstrap", "bootstrap_indices", "paired",
           "DEFAULT_RESAMPLES", "DEFAULT_LEVEL"]

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A statistic with its bootstrap interval.

    Attributes:
        estimate: the statistic on the data as given.
        low, high: the percentile interval of the resampled statistics at ``level``, moved by
            (estimate − their median).
        se: their standard deviation (the bootstrap standard error).
        level: e.g. 0.95. resamples, seed: how it was drawn. units: what was resampled.
    """

    estimate: float
    low: float
    high: float
    se: float
    level: float
    resamples: int
    seed: int
    units: str = "rows"

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in asdict(self).items()}

    def __str__(self) -> str:
        return f"{_fmt(self.estimate)} [{_fmt(self.low)}, {_fmt(self.high)}]"


@dataclass(frozen=True)
class Difference(Interval):
    """A difference between two systems (first minus second) on the same redraws.

    Attributes:
        p_value: two-sided bootstrap p-value of "no difference": twice the smaller share of
            redraws on either side of 0 (at least 1 / resamples).
    """

    p_value: float = 1.0

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of 0: a difference beyond the
        resampling noise at ``level``."""
        return self.low > 0 or self.high < 0


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "nan"
    mag = abs(x)
    return f"{x:.3g}" if mag < 100 else f"{x:.1f}"


def _check(sizes, resamples, level, seed) -> tuple[int, ...]:
    sizes = tuple(sizes)
    if not sizes or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2
                        for n in sizes):
        raise ConfigError(f"bootstrap group sizes {sizes}: each group needs ≥ 2 rows to resample")
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) \
            or resamples < 10:
        raise ConfigError(f"resamples={resamples!r}; expected an int ≥ 10")
    if isinstance(level, bool) or not isinstance(level, (float, int)) or not 0 < level < 1:
        raise ConfigError(f"level={level!r}; expected a number between 0 and 1")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r}; expected an int ≥ 0")
    return tuple(int(n) for n in sizes)


def bootstrap_indices(sizes: Sequence[int], resamples: int = DEFAULT_RESAMPLES, seed: int = 0
                      ) -> list[tuple[np.ndarray, ...]]:
    """The redraws :func:`bootstrap` evaluates: for each resample, one index array per group
    (``rng.integers(0, n, n)``, groups in order), from ``np.random.default_rng(seed)``."""
    sizes = _check(sizes, resamples, DEFAULT_LEVEL, seed)
    rng = np.random.default_rng(seed)
    return [tuple(rng.integers(0, n, n) for n in sizes) for _ in range(resamples)]


def _summary(estimate: float, values: np.ndarray, level: float, resamples: int, seed: int,
             units: str, cls=Interval, **extra):
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    if len(finite) < len(values) / 2:
        raise ConfigError(f"the statistic was undefined on {len(values) - len(finite)} of "
                          f"{len(values)} redraws of the {units}: too few to bootstrap")
    alpha = (1 - level) / 2
    low, mid, high = np.quantile(finite, [alpha, 0.5, 1 - alpha])
    # centred on the estimate: the redraws' percentiles around their own median, moved to the
    # estimate. A distance like FD is biased by the number of distinct rows, and a redraw holds
    # fewer (about 63 %), so its redraws sit above the estimate; the spread still measures the
    # noise. For an unbiased statistic the shift is about zero.
    shift = float(estimate) - mid
    return cls(float(estimate), float(low + shift), float(high + shift), float(np.std(finite)),
               float(level), int(resamples), int(seed), units, **extra)


def bootstrap(statistic: Callable[..., float], sizes: Sequence[int], *,
              resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL, seed: int = 0,
              units: str = "rows", batched: bool = False) -> Interval:
    """The bootstrap interval of ``statistic`` over groups of ``sizes`` rows.

    Args:
        statistic: ``statistic(idx_1, ..., idx_k) -> float``, one index array per group
            (``np.arange(n)`` for the data as given). With ``batched=True`` it takes the list of
            all redraws (:func:`bootstrap_indices`) and returns one value per redraw instead,
            and ``statistic(None)`` gives the estimate — for statistics that share work between
            redraws (KAD's kernel matrices).
        sizes: the number of rows of each group, each redrawn on its own (generated clips and
            reference clips for FD; the pairs for KL and CS).
        resamples, level, seed: how many redraws, the interval's coverage, the stream.
        units: what a row is, for the record (``"generated and reference clips"``).
    Raises:
        ConfigError: a group of fewer than 2 rows, bad ``resamples`` / ``level`` / ``seed``.
    """
    sizes = _check(sizes, resamples, level, seed)
    draws = bootstrap_indices(sizes, resamples, seed)
    if batched:
        estimate, values = statistic(None), statistic(draws)
    else:
        estimate = statistic(*(np.arange(n) for n in sizes))
        values = [statistic(*idx) for idx in draws]
    return _summary(estimate, values, level, resamples, seed, units)


def paired(statistic_a: Callable[..., float], statistic_b: Callable[..., float],
           sizes: Sequence[int], *, resamples: int = DEFAULT_RESAMPLES,
           level: float = DEFAULT_LEVEL, seed: int = 0, units: str = "inputs",
           batched: bool = False) -> Difference:
    """The difference ``statistic_a − statistic_b`` of two systems on the same inputs, with its
    bootstrap interval: both statistics are evaluated on the same redraw of the groups each
    time (:func:`bootstrap`'s redraws), so what the inputs share cancels. ``batched`` as in
    :func:`bootstrap`.

    Returns:
        :class:`Difference` (``excludes_zero``: the two differ beyond the resampling noise).
    """
    sizes = _check(sizes, resamples, level, seed)
    draws = bootstrap_indices(sizes, resamples, seed)
    if batched:
        estimate = statistic_a(None) - statistic_b(None)
        values = np.asarray(statistic_a(draws), np.float64) - np.asarray(statistic_b(draws))
    else:
        full = [np.arange(n) for n in sizes]
        estimate = statistic_a(*full) - statistic_b(*full)
        values = np.array([statistic_a(*idx) - statistic_b(*idx) for idx in draws], np.float64)
    finite = values[np.isfinite(values)]
    share = min((finite <= 0).mean(), (finite >= 0).mean()) if len(finite) else 0.5
    p_value = float(min(1.0, max(2 * share, 1 / resamples)))
    return _summary(estimate, values, level, resamples, seed, units, Difference,
                    p_value=p_value)
