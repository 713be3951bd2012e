"""Device and precision choice: the best available unless the caller names one."""

from __future__ import annotations

import contextlib

import torch

__all__ = ["best_device", "resolve_device", "default_dtype", "seeded"]


def best_device() -> torch.device:
    """CUDA if available, then Apple MPS, then CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` or ``"auto"`` -> :func:`best_device`; anything else as ``torch.device``."""
    if device is None or device == "auto":
        return best_device()
    return torch.device(device)


def default_dtype(device: torch.device, half_safe: bool = True) -> torch.dtype:
    """float16 on CUDA for models where half precision is safe, float32 elsewhere.

    CPU and MPS stay in float32: CPU half kernels are slow or missing, and MPS fp16 has known
    numerical trouble in attention/GroupNorm for diffusion models.
    """
    if half_safe and device.type == "cuda":
        return torch.float16
    return torch.float32


@contextlib.contextmanager
def seeded(seed: int):
    """Run a block with torch's CPU RNG seeded to ``seed``, then give the caller's RNG back.

    Models built at random init use it, so that the same seed gives the same weights and
    building one never reseeds (or advances) the caller's global random stream.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
