"""Embedding spaces and the embeddings that travel with them.

An embedding is float32, shape (n, d), L2-normalised, and always carries the identity of the
model that made it: its :class:`Space`. Two embeddings are comparable only when their spaces are
equal; a mapper reads one space and writes another; a cache written for one space is never read
for another. Everything that checks such a contract goes through :func:`check_same_space`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .errors import EmbeddingError, SpaceMismatchError

__all__ = ["Space", "Embeddings", "validate_embeds", "check_same_space"]


@dataclass(frozen=True)
class Space:
    """Identity of an embedding space.

    Attributes:
        family: ``"clip"`` (image/text, the mapper's input) or ``"clap"`` (audio/text, the
            generator's condition).
        model: architecture name, e.g. ``"open_clip/ViT-L-14"``.
        checkpoint: which weights, e.g. ``"openai"``, a file digest, or ``"random-init:seed=0"``.
            Two models with the same architecture but other weights are other spaces.
        dim: embedding size ``d``.
    """

    family: str
    model: str
    checkpoint: str
    dim: int

    @property
    def key(self) -> str:
        """A short stable identifier, safe for file names (used by caches)."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return f"{self.family}-{hashlib.sha256(blob).hexdigest()[:16]}"

    def to_dict(self) -> dict:
        return asdict(self)

    def with_checkpoint(self, checkpoint: str) -> Space:
        """The same architecture with other weights: another space."""
        return replace(self, checkpoint=checkpoint)

    @classmethod
    def from_dict(cls, d: dict) -> Space:
        try:
            return cls(family=str(d["family"]), model=str(d["model"]),
                       checkpoint=str(d["checkpoint"]), dim=int(d["dim"]))
        except (KeyError, TypeError, ValueError) as e:
            raise EmbeddingError(f"not a space description: {d!r} ({e})") from None

    def __str__(self) -> str:
        return f"{self.family}:{self.model}@{self.checkpoint} (d={self.dim})"


def check_same_space(expected: Space, got: Space, what: str = "embeddings") -> None:
    """Raise :class:`SpaceMismatchError` naming both spaces unless they are equal."""
    if expected != got:
        raise SpaceMismatchError(
            f"{what} are in space {got}, but {expected} was expected; embeddings from "
            "different models are not comparable")


def validate_embeds(x, dim: int | None = None, name: str = "embeds",
                    normalize: bool = False) -> torch.Tensor:
    """Check that ``x`` is a finite (n, d) float matrix and return it as float32 tensor.

    Args:
        x: array-like (n, d).
        dim: the expected ``d``; ``None`` accepts any.
        name: how the argument is called in error messages.
        normalize: L2-normalise the rows (on purpose, documented by the caller). Rows of zero
            norm cannot be normalised and are refused.

    Raises:
        EmbeddingError: naming ``name`` and what was expected.
    """
    if isinstance(x, Embeddings):
        x = x.embeds
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.ndim != 2:
        raise EmbeddingError(f"{name} must have shape (n, d), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise EmbeddingError(f"{name} is empty (shape {tuple(t.shape)}); need at least one row")
    if dim is not None and t.shape[1] != dim:
        raise EmbeddingError(f"{name} has dimension {t.shape[1]}, expected {dim}")
    if not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64)):
        raise EmbeddingError(f"{name} must be floating point, got {t.dtype}")
    t = t.float()
    bad = ~torch.isfinite(t).all(dim=1)
    if bad.any():
        rows = bad.nonzero().flatten().tolist()
        raise EmbeddingError(f"{name} has NaN or inf values in rows {rows[:10]}"
                             + (" ..." if len(rows) > 10 else ""))
    if normalize:
        norms = t.norm(dim=1, keepdim=True)
        if (norms == 0).any():
            rows = (norms.flatten() == 0).nonzero().flatten().tolist()
            raise EmbeddingError(f"{name} has all-zero rows {rows[:10]}; they have no direction")
        t = t / norms
    return t


@dataclass
class Embeddings:
    """L2-normalised float32 embeddings (n, d) on the CPU, with their space.

    Attributes:
        embeds: (n, d) float32 tensor, rows of unit norm.
        space: the :class:`Space` they live in.
        sources: optional names of what each row came from (file paths, prompts), length n.
    """

    embeds: torch.Tensor
    space: Space
    sources: list[str] | None = field(default=None)

    def __post_init__(self):
        self.embeds = validate_embeds(self.embeds, self.space.dim, "embeds").cpu()
        norms = self.embeds.norm(dim=1)
        if not torch.allclose(norms, torch.ones_like(norms), atol=1e-3):
            raise EmbeddingError("Embeddings must be L2-normalised; use validate_embeds(..., "
                                 "normalize=True) if that is what you mean")
        if self.sources is not None and len(self.sources) != len(self.embeds):
            raise EmbeddingError(f"{len(self.sources)} sources for {len(self.embeds)} rows")

    def __len__(self) -> int:
        return self.embeds.shape[0]

    def __array__(self, dtype=None, copy=None):
        a = self.embeds.numpy()
        return a.astype(dtype) if dtype is not None else a

    def numpy(self) -> np.ndarray:
        return self.embeds.numpy()

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.embeds.shape)

    def __getitem__(self, idx) -> Embeddings:
        if isinstance(idx, int):
            idx = [idx]
        sub = self.embeds[idx]
        src = None
        if self.sources is not None:
            src = list(np.asarray(self.sources, dtype=object)[np.arange(len(self))[idx]])
        return Embeddings(sub, self.space, src)

    @staticmethod
    def concat(parts: list[Embeddings]) -> Embeddings:
        if not parts:
            raise EmbeddingError("nothing to concatenate")
        for p in parts[1:]:
            check_same_space(parts[0].space, p.space)
        srcs = None
        if all(p.sources is not None for p in parts):
            srcs = [s for p in parts for s in p.sources]
        return Embeddings(torch.cat([p.embeds for p in parts]), parts[0].space, srcs)

    def __repr__(self) -> str:
        return f"Embeddings(n={len(self)}, space={self.space})"
