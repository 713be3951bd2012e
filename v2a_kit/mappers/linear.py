"""The simplest mapper: a ridge-regression linear map, in closed form (a baseline).

``W = argmin ||X W + b − Y||² + α ||W||²`` over training pairs, solved exactly
(``torch.linalg.solve`` on the d_clip × d_clip normal equations, intercept unpenalised). It has
the same interface as the trained mappers (``loss = mapper(x, y)``, ``sample``, ``map``) and
checkpoints like them, so it sits in every table beside them; it is *fitted*, not trained:
:func:`fit_ridge`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .common import MAPPER_KINDS, Mapper

__all__ = ["RidgeConfig", "RidgeMapper", "fit_ridge"]


@dataclass(frozen=True)
class RidgeConfig:
    alpha: float = 1e-2   # L2 penalty on W (the embeddings are unit vectors: n·α is the scale)

    def __post_init__(self):
        if not self.alpha >= 0:
            raise ConfigError(f"RidgeConfig.alpha={self.alpha!r}; expected ≥ 0")


class RidgeMapper(Mapper):
    kind = "ridge"
    config_class = RidgeConfig

    def __init__(self, config: RidgeConfig, clip_space, clap_space):
        super().__init__(config, clip_space, clap_space)
        self.linear = nn.Linear(self.clip_dim, self.clap_dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))  # saved with weights

    def forward(self, clip_embed, clap_embed) -> torch.Tensor:
        """MSE of the normalised prediction (as the regression mapper's loss)."""
        x, y = self._check_pair(clip_embed, clap_embed)
        return F.mse_loss(F.normalize(self.linear(x), dim=-1), y, reduction="none").sum(-1).mean()

    @torch.no_grad()
    def sample(self, clip_embed, num_samples: int = 1, **ignored) -> torch.Tensor:
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ConfigError(f"num_samples={num_samples!r}; expected an int ≥ 1")
        if not bool(self.fitted):
            raise ConfigError("this ridge mapper is not fitted: call fit_ridge(mapper, clip_embed,"
                              " clap_embed) first (it is solved in closed form, not trained)")
        x = self._check_clip(clip_embed)
        return F.normalize(self.linear(x), dim=-1).repeat_interleave(num_samples, 0)


@torch.no_grad()
def fit_ridge(mapper: RidgeMapper, clip_embed, clap_embed) -> RidgeMapper:
    """Solve the ridge problem on all pairs at once (float64) and set ``mapper``'s weights."""
    x, y = mapper._check_pair(clip_embed, clap_embed)
    x, y = x.double(), y.double()
    xm, ym = x.mean(0), y.mean(0)
    xc, yc = x - xm, y - ym
    gram = xc.T @ xc + mapper.config.alpha * len(x) * torch.eye(x.shape[1], dtype=x.dtype,
                                                                  device=x.device)
    w = torch.linalg.solve(gram, xc.T @ yc)                # (d_clip, d_clap)
    mapper.linear.weight.copy_(w.T.float())
    mapper.linear.bias.copy_((ym - xm @ w).float())
    mapper.fitted.fill_(True)
    return mapper


MAPPER_KINDS["ridge"] = RidgeMapper
