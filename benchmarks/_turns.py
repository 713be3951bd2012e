"""Timing two ways of doing one job fairly on a shared machine: :func:`in_turns`.

The kit-vs-bare benchmarks compare two calls that do the same work. Run always in one order,
the first of each pair pays for what the machine was doing before (caches, allocator, a burst of
load), which moved a ratio by up to ±10 % on a 2-core machine; so the two take turns going
first, and each side's median is reported with the spread of the per-repeat ratios.
"""

from __future__ import annotations

import statistics
import time


def in_turns(first, second, repeats: int):
    """``(median seconds of first, median seconds of second, sorted per-repeat ratios
    first/second, last output of first, last output of second)``: ``repeats`` rounds, the two
    callables taking turns going first (an even ``repeats`` gives each the lead as often)."""
    times, outs = ([], []), [None, None]
    for i in range(repeats):
        for k in ((0, 1) if i % 2 == 0 else (1, 0)):
            t = time.perf_counter()
            outs[k] = (first, second)[k]()
            times[k].append(time.perf_counter() - t)
    ratios = sorted(a / b for a, b in zip(*times))
    return (statistics.median(times[0]), statistics.median(times[1]), ratios, outs[0],
            outs[1])
