"""The generative V2A-Mapper: a diffusion prior over CLAP embeddings, conditioned on CLIP.

After DALL·E 2's prior (Ramesh et al. 2022; structure as in lucidrains' DALLE2-pytorch): a
transformer denoises a noised CLAP embedding given the CLIP embedding. Two classes, as there:

- :class:`PriorNetwork` — the denoiser. Its input is a sequence of four tokens,
  ``[time, CLIP condition, noised CLAP embedding, learned query]``; the output at the query token
  is the prediction of the clean embedding (**x0-prediction**, as DALL·E 2's prior).
- :class:`DiffusionMapper` — the diffusion around it: a **cosine noise schedule** (Nichol &
  Dhariwal 2021), the training loss (MSE on x0), **classifier-free guidance** by replacing the
  condition with a learned null embedding with probability ``cond_drop``, and two samplers:
  ancestral **DDPM** and deterministic **DDIM** (Song et al. 2021), each on any number of steps.

Scale: a unit-norm CLAP embedding has components of size ≈ 1/√d; the prior works on
``clap_embed · √d`` (DALL·E 2's ``image_embed_scale``) so the data has the unit per-component
scale the noise schedule assumes. Samples are L2-normalised at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .common import MAPPER_KINDS, Mapper

__all__ = ["DiffusionConfig", "PriorNetwork", "DiffusionMapper", "cosine_alphas_cumprod"]

SAMPLERS = ("ddim", "ddpm")


@dataclass(frozen=True)
class DiffusionConfig:
    width: int = 256            # token width of the transformer
    depth: int = 4              # transformer layers
    heads: int = 4              # attention heads
    dropout: float = 0.0        # inside the transformer
    timesteps: int = 1000       # training noise levels T
    cond_drop: float = 0.1      # probability of the null condition in training (for guidance)
    sample_steps: int = 50      # default sampling steps
    sampler: str = "ddim"       # default sampler: "ddim" (deterministic) or "ddpm"
    # default classifier-free guidance of sample() (1 = none); `v2a-kit pocket mappers` sets it
    # by calibration: the value whose samples spread as much as real audio's embeddings do
    guidance_scale: float = 1.0

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"DiffusionConfig.sampler={self.sampler!r}; expected {SAMPLERS}")
        if self.width % self.heads or min(self.width, self.depth, self.heads) < 1:
            raise ConfigError(f"DiffusionConfig width={self.width} must be a positive multiple "
                              f"of heads={self.heads}, depth ≥ 1")
        if not 0 <= self.cond_drop < 1 or not 1 <= self.sample_steps <= self.timesteps:
            raise ConfigError(f"invalid DiffusionConfig {self}")
        if not (isinstance(self.guidance_scale, (int, float)) and self.guidance_scale >= 1.0):
            raise ConfigError(f"DiffusionConfig.guidance_scale={self.guidance_scale!r}; "
                              "expected ≥ 1 (1 = no guidance)")


def cosine_alphas_cumprod(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """ᾱ_t for t = 0..T−1 of the cosine schedule, betas clipped at 0.999 (Nichol & Dhariwal)."""
    t = torch.linspace(0, timesteps, timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0).float()


def _timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.cos(), args.sin()], -1)


class PriorNetwork(nn.Module):
    """The denoiser: (noised clap x_t, t, clip condition or null) -> predicted clean x0."""

    def __init__(self, clip_dim: int, clap_dim: int, config: DiffusionConfig):
        super().__init__()
        w = config.width
        self.width = w
        self.time_mlp = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.cond_in = nn.Linear(clip_dim, w)
        self.x_in = nn.Linear(clap_dim, w)
        self.query = nn.Parameter(torch.randn(w) * 0.02)
        self.null_cond = nn.Parameter(torch.zeros(w))      # the dropped condition
        self.pos = nn.Parameter(torch.randn(4, w) * 0.02)
        layer = nn.TransformerEncoderLayer(w, config.heads, 4 * w, config.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, config.depth, enable_nested_tensor=False)
        self.out = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, clap_dim))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, clip_embed: torch.Tensor,
                drop_cond: torch.Tensor | None = None) -> torch.Tensor:
        """x_t: (b, d_clap); t: (b,) int; clip_embed: (b, d_clip); drop_cond: (b,) bool."""
        cond = self.cond_in(clip_embed)
        if drop_cond is not None:
            cond = torch.where(drop_cond[:, None], self.null_cond.expand_as(cond), cond)
        tokens = torch.stack([self.time_mlp(_timestep_embedding(t, self.width)), cond,
                              self.x_in(x_t), self.query.expand_as(cond)], 1) + self.pos
        return self.out(self.transformer(tokens)[:, -1])


class DiffusionMapper(Mapper):
    """clip_embed (b, d_clip) -> samples of pred_clap_embed (b · num_samples, d_clap)."""

    kind = "diffusion"
    config_class = DiffusionConfig

    def __init__(self, config: DiffusionConfig, clip_space, clap_space):
        super().__init__(config, clip_space, clap_space)
        self.net = PriorNetwork(self.clip_dim, self.clap_dim, config)
        self.register_buffer("alphas_cumprod", cosine_alphas_cumprod(config.timesteps),
                             persistent=False)
        self.scale = math.sqrt(self.clap_dim)

    def forward(self, clip_embed, clap_embed, generator: torch.Generator | None = None):
        """The training loss: MSE between the predicted and the true (scaled) clean embedding,
        at a uniformly drawn noise level, with the condition dropped at rate ``cond_drop``."""
        x, y = self._check_pair(clip_embed, clap_embed)
        b, dev = len(x), x.device
        x0 = y * self.scale
        t = torch.randint(0, self.config.timesteps, (b,), device=dev, generator=generator)
        noise = torch.randn(x0.shape, device=dev, generator=generator)
        a = self.alphas_cumprod[t][:, None]
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
        drop = torch.rand(b, device=dev, generator=generator) < self.config.cond_drop
        return F.mse_loss(self.net(x_t, t, x, drop), x0)

    def _x0(self, x_t, t, cond, guidance_scale: float) -> torch.Tensor:
        tt = torch.full((len(x_t),), int(t), device=x_t.device, dtype=torch.long)
        if guidance_scale == 1.0:
            return self.net(x_t, tt, cond)
        both = self.net(torch.cat([x_t, x_t]), torch.cat([tt, tt]), torch.cat([cond, cond]),
                        torch.cat([torch.zeros(len(x_t), dtype=torch.bool, device=x_t.device),
                                   torch.ones(len(x_t), dtype=torch.bool, device=x_t.device)]))
        cond_x0, uncond_x0 = both.chunk(2)
        # guidance on x0 is guidance on eps: both are affine in the prediction at fixed x_t
        return uncond_x0 + guidance_scale * (cond_x0 - uncond_x0)

    @torch.no_grad()
    def sample(self, clip_embed, num_samples: int = 1, guidance_scale: float | None = None,
               num_inference_steps: int | None = None, sampler: str | None = None,
               generator: torch.Generator | None = None, eta: float | None = None) -> torch.Tensor:
        """Draw ``num_samples`` CLAP embeddings per CLIP embedding.

        Args:
            clip_embed: (b, d_clip).
            guidance_scale: w in x0 = x0_uncond + w (x0_cond − x0_uncond); 1 = no guidance;
                ``None`` = ``config.guidance_scale`` (the calibrated default of a pocket build).
            num_inference_steps: ``None`` = ``config.sample_steps``; evenly spaced over T.
            sampler: "ddim" (deterministic given the initial noise) or "ddpm" (ancestral, adds
                noise at every step; on all T steps it is the DDPM sampler of Ho et al.).
            generator: the only randomness (initial noise and, for DDPM, each step's noise).
            eta: DDIM's η (0 = deterministic); ignored by "ddpm" (which is η = 1).
        Returns:
            (b · num_samples, d_clap) float32, L2-normed; rows of one input are consecutive.
        """
        sampler = sampler or self.config.sampler
        steps = num_inference_steps or self.config.sample_steps
        guidance_scale = self.config.guidance_scale if guidance_scale is None else guidance_scale
        if sampler not in SAMPLERS:
            raise ConfigError(f"sampler={sampler!r}; expected one of {SAMPLERS}")
        if not isinstance(steps, int) or not 1 <= steps <= self.config.timesteps:
            raise ConfigError(f"num_inference_steps={steps!r}; expected 1..{self.config.timesteps}")
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ConfigError(f"num_samples={num_samples!r}; expected an int ≥ 1")
        if not (isinstance(guidance_scale, (int, float)) and guidance_scale >= 1.0):
            raise ConfigError(f"guidance_scale={guidance_scale!r}; expected ≥ 1 (1 = none)")
        eta = 1.0 if sampler == "ddpm" else (0.0 if eta is None else float(eta))
        cond = self._check_clip(clip_embed).repeat_interleave(num_samples, 0)
        dev = cond.device
        x = torch.randn((len(cond), self.clap_dim), generator=generator,
                        device="cpu" if generator is None else generator.device).to(dev)
        ts = torch.linspace(self.config.timesteps - 1, 0, steps).round().long().tolist()
        ac = self.alphas_cumprod
        for i, t in enumerate(ts):
            a_t = ac[t]
            a_prev = ac[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, device=dev)
            x0 = self._x0(x, t, cond, float(guidance_scale))
            eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
            sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).clamp(min=0).sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps
            if eta > 0 and i + 1 < len(ts):
                x = x + sigma * torch.randn(x.shape, generator=generator,
                                            device="cpu" if generator is None
                                            else generator.device).to(dev)
        return F.normalize(x, dim=-1)


MAPPER_KINDS["diffusion"] = DiffusionMapper
