"""Seeded blocks that leave the caller's global random state as it was.

Building or loading a model draws random initial weights from torch's global generator, and the
kit's trainers seed it so that a seed reproduces a model. :func:`seeded` runs such a block on a
fork of the global state and restores it afterwards, so that calling a trainer or a loader does
not reseed (or advance) the random numbers of the code around it. Within the block everything
happens as after ``torch.manual_seed(seed)``, so results are those of the seeded code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["seeded"]


@contextlib.contextmanager
def seeded(seed: int | None = None) -> Iterator[None]:
    """Run the block with torch's global generators seeded with ``seed`` (as they are when
    None), and give the caller's generator states back when it ends, however it ends.

    Covers the CPU generator, and the CUDA ones when CUDA is initialised already (forking them
    would initialise it otherwise).
    """
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    devices = list(range(torch.cuda.device_count())) if cuda else []
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            torch.random.default_generator.manual_seed(seed)
            if cuda:
                torch.cuda.manual_seed_all(seed)
        yield
