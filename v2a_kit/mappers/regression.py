"""The regression V2A-Mapper: an MLP from a CLIP embedding to one CLAP embedding.

The paper trains its regression mapper with an MSE loss between the predicted and the true CLAP
embedding; it has slightly better relevance (CS) than the generative mapper but, predicting one
vector per image, it collapses the many sounds an image admits to their mean. Widths and depth
are not published: ours are residual MLP blocks (pre-LayerNorm, GELU), documented here.

Both vectors are compared on the unit sphere: the prediction is L2-normalised before the loss,
so MSE = 2 − 2·cos; ``loss="cosine"`` uses 1 − cos directly (the same optimum, other weighting
of large errors).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .common import MAPPER_KINDS, Mapper

__all__ = ["RegressionConfig", "RegressionMapper"]


@dataclass(frozen=True)
class RegressionConfig:
    hidden_dim: int = 512    # width of the residual blocks
    num_blocks: int = 2      # residual blocks between the input and output projections
    dropout: float = 0.1     # inside each block
    loss: str = "mse"        # "mse" (the paper's) or "cosine"

    def __post_init__(self):
        if self.loss not in ("mse", "cosine"):
            raise ConfigError(f"RegressionConfig.loss={self.loss!r}; expected 'mse' or 'cosine'")
        if self.hidden_dim < 1 or self.num_blocks < 0 or not 0 <= self.dropout < 1:
            raise ConfigError(f"invalid RegressionConfig {self}")


class _Block(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 2 * width), nn.GELU(),
                                 nn.Dropout(dropout), nn.Linear(2 * width, width))

    def forward(self, x):
        return x + self.net(x)


class RegressionMapper(Mapper):
    """clip_embed (b, d_clip) -> pred_clap_embed (b, d_clap), L2-normed."""

    kind = "regression"
    config_class = RegressionConfig

    def __init__(self, config: RegressionConfig, clip_space, clap_space):
        super().__init__(config, clip_space, clap_space)
        c = config
        self.net = nn.Sequential(nn.Linear(self.clip_dim, c.hidden_dim),
                                 *[_Block(c.hidden_dim, c.dropout) for _ in range(c.num_blocks)],
                                 nn.LayerNorm(c.hidden_dim), nn.Linear(c.hidden_dim, self.clap_dim))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(x), dim=-1)

    def forward(self, clip_embed, clap_embed) -> torch.Tensor:
        """The training loss on a batch of pairs (mean over the batch)."""
        x, y = self._check_pair(clip_embed, clap_embed)
        pred = self.predict(x)
        if self.config.loss == "mse":
            return F.mse_loss(pred, y, reduction="none").sum(-1).mean()
        return (1 - (pred * y).sum(-1)).mean()

    @torch.no_grad()
    def sample(self, clip_embed, num_samples: int = 1, **ignored) -> torch.Tensor:
        """(b, d_clip) -> (b · num_samples, d_clap). Deterministic: the ``num_samples`` rows of
        one input are equal (the regression mapper has one answer per image); generator,
        guidance and step arguments are accepted and ignored, so callers need not branch."""
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ConfigError(f"num_samples={num_samples!r}; expected an int ≥ 1")
        return self.predict(self._check_clip(clip_embed)).repeat_interleave(num_samples, 0)


MAPPER_KINDS["regression"] = RegressionMapper
