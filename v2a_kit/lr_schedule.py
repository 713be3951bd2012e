"""The kit's one learning-rate schedule: a linear warm-up, then a cosine decay to zero.

Used by every training loop that warms up (the V2A-Mappers, :mod:`v2a_kit.train`; pocket-CLIP,
pocket-CLAP and the pocket evaluators, :mod:`v2a_kit.pocket.models.contrastive`). It is
``torch.optim.lr_scheduler.LambdaLR`` over the factor

    (step + 1) / warmup                                     while step < warmup,
    ½ · (1 + cos(π · (step − warmup) / (total − warmup)))   after,

so the first step already trains (transformers' ``get_cosine_schedule_with_warmup`` starts at
a factor of 0 and would change every shipped model's weights). Call ``scheduler.step()`` after
each ``optimizer.step()``.
"""

from __future__ import annotations

import math

import torch

from .errors import ConfigError

__all__ = ["warmup_cosine"]


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int,
                  warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The schedule above on ``optimizer`` (its learning rates are the peak values).

    Raises:
        ConfigError: ``warmup_steps`` is not in [1, total_steps] or ``total_steps`` < 1.
    """
    if total_steps < 1:
        raise ConfigError(f"total_steps={total_steps}; expected at least 1")
    if not 1 <= warmup_steps <= total_steps:
        raise ConfigError(f"warmup_steps={warmup_steps}; expected 1 to total_steps "
                          f"({total_steps})")

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps)
                                   / max(1, total_steps - warmup_steps)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
