"""pocket-AudioLDM: AudioLDM's parts at pocket size, trained as AudioLDM was.

AudioLDM (Liu et al. 2023) is a latent diffusion model over mel spectrograms: an autoencoder
compresses the log-mel, a UNet denoises the latent conditioned on a CLAP **audio** embedding
(a "simple_projection" class embedding), and a vocoder turns the decoded mel into a waveform.
It is trained with the condition replaced, with probability ``cond_dropout``, by the CLAP text
embedding of the empty prompt, which is what sampling uses as the negative condition for
classifier-free guidance. pocket-AudioLDM keeps that recipe and the diffusers classes
(``UNet2DConditionModel``, diffusers schedulers), and swaps two parts for cheaper ones behind
the same interfaces:

- :class:`PowerPoolAutoencoder` — AudioLDM's VAE role without parameters: average the mel's
  *power* over 4×4 tiles and take the log (``log(avgpool(exp(logmel)))``), decode by
  nearest-neighbour upsampling. When the pocket world was designed, this kept all four audible
  attributes on 83 % of clips after vocoding, against 26 % for a small AutoencoderKL after the
  same training budget. A learned VAE is worth its cost only if trained long enough to keep the
  attributes; on a 2-core budget it is not.
- :class:`GriffinLimVocoder` — the vocoder role without parameters (HiFi-GAN needs hours).

Both are diffusers ``ModelMixin``/``ConfigMixin`` classes, so the assembled generator saves and
loads with ``save_pretrained``/``from_pretrained`` and runs in :func:`v2a_kit.generate` and in
diffusers' ``AudioLDMPipeline`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.models.autoencoders.vae import DecoderOutput
from tqdm.auto import tqdm

from ...devices import seeded
from .audio import GriffinLim, nearest_upsample, power_pool

__all__ = ["PowerPoolAutoencoder", "GriffinLimVocoder", "EncoderOutput", "build_unet",
           "train_generator", "UNET_CONFIG"]

# The pocket UNet (diffusers UNet2DConditionModel). The CLAP condition enters as a class
# embedding concatenated to the time embedding, as in AudioLDM, and from there every ResNet
# block as a scale and a shift of its normalised features (FiLM: ``scale_shift``); three levels
# (25×16 → 13×8 → 7×4 latent cells) and a self-attention mid block at the coarsest, where one
# cell sees the whole clip (how many notes it holds is a whole-clip fact). Measured against the
# first world-v2 build's UNet (32/64 channels, two levels, no mid block, the condition added as
# a bias) in benchmarks/bench_generator.py (``GENERATOR_VARIANTS``).
UNET_CONFIG = dict(
    # the one-channel latent (the pooled log-mel): the gain channel of PowerPoolAutoencoder
    # (latent_channels=2) scored lower (oracle all five 0.65 vs 0.83, level no closer; see
    # GENERATOR_VARIANTS)
    in_channels=1, out_channels=1,
    down_block_types=("DownBlock2D",) * 3, up_block_types=("UpBlock2D",) * 3,
    mid_block_type="UNetMidBlock2D", attention_head_dim=32,
    block_out_channels=(32, 64, 128), layers_per_block=1,
    class_embed_type="simple_projection", class_embeddings_concat=True, norm_num_groups=8,
    resnet_time_scale_shift="scale_shift",
)


@dataclass
class EncoderOutput:
    latents: torch.Tensor  # (b, latent_channels, frames / 4, mel_bins / 4)


class PowerPoolAutoencoder(ModelMixin, ConfigMixin):
    """A fixed mel compression behind the autoencoder's interface (see the module docstring).

    Latents are standardised: ``(pooled_log_mel - shift) / scale``, so diffusion sees values of
    about unit spread; ``scaling_factor`` stays 1 (the standardisation is already inside).

    With ``latent_channels=2`` the clip's **gain** has a channel of its own: channel 0 holds the
    pooled log-mel relative to the clip's loudest frame (what is heard: timbre, register, notes,
    glides), channel 1 that loudest frame's log power (how loud), the same value in every cell,
    standardised by ``gain_shift`` / ``gain_scale``. The decoder adds back the mean of channel 1,
    so the code is exactly as lossless as one channel, while the UNet sets the loudness as one
    number read from its condition instead of in every cell of every note (measured in
    ``benchmarks/bench_generator.py``: the oracle's level sound by sound).
    """

    @register_to_config
    def __init__(self, pool: tuple[int, int] = (4, 4), shift: float = -6.0, scale: float = 3.0,
                 block_out_channels: tuple[int, ...] = (1, 1, 1), latent_channels: int = 1,
                 scaling_factor: float = 1.0, gain_shift: float = 0.0, gain_scale: float = 1.0):
        # block_out_channels only states the down-sampling (2 ** (len - 1) = 4), which is how
        # diffusers' AudioLDM code reads a VAE's scale factor; pool must agree with it.
        super().__init__()
        if 2 ** (len(block_out_channels) - 1) != pool[0] or pool[0] != pool[1]:
            raise ValueError(f"pool {pool} must be square and equal 2**(len(block_out_channels)-1)")
        if latent_channels not in (1, 2):
            raise ValueError(f"latent_channels={latent_channels}; expected 1 (log-mel) or 2 "
                             "(log-mel relative to the gain, and the gain)")
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)  # carries device/dtype

    @staticmethod
    def gain(pooled: torch.Tensor) -> torch.Tensor:
        """(b, 1, frames, bins) pooled log power -> (b, 1, 1, 1): the log of the loudest
        frame's total power."""
        return torch.logsumexp(pooled, dim=-1, keepdim=True).amax(dim=-2, keepdim=True)

    def encode(self, mel: torch.Tensor) -> EncoderOutput:
        """Log-mel (b, 1, frames, mel_bins) -> latents (b, latent_channels, frames/4, bins/4)."""
        c = self.config
        pooled = power_pool(mel, tuple(c.pool))
        if c.latent_channels == 1:
            return EncoderOutput((pooled - c.shift) / c.scale)
        gain = self.gain(pooled)
        return EncoderOutput(torch.cat([(pooled - gain - c.shift) / c.scale,
                                        ((gain - c.gain_shift) / c.gain_scale).expand_as(pooled)],
                                       dim=1))

    def decode(self, latents: torch.Tensor, return_dict: bool = True):
        """Latents -> log-mel (b, 1, frames, mel_bins), as ``AutoencoderKL.decode``."""
        c = self.config
        pooled = latents[:, :1] * c.scale + c.shift
        if c.latent_channels == 2:
            pooled = pooled + (latents[:, 1:2].mean(dim=(-2, -1), keepdim=True) * c.gain_scale
                               + c.gain_shift)
        mel = nearest_upsample(pooled, tuple(c.pool))
        return DecoderOutput(sample=mel) if return_dict else (mel,)


class GriffinLimVocoder(ModelMixin, ConfigMixin):
    """Griffin-Lim behind the vocoder's interface: log-mel (b, frames, mel_bins) -> (b, samples).

    ``upsample_rates``' product is the hop (samples per mel frame), as for HiFi-GAN.
    """

    @register_to_config
    def __init__(self, sampling_rate: int = 16000, upsample_rates: tuple[int, ...] = (160,),
                 model_in_dim: int = 64, n_iter: int = 32):
        super().__init__()
        self.griffin_lim = GriffinLim(n_iter=n_iter)
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)

    def forward(self, spectrogram: torch.Tensor) -> torch.Tensor:
        if spectrogram.dim() == 2:
            spectrogram = spectrogram[None]
        return self.griffin_lim(spectrogram.float().transpose(1, 2))


def build_unet(clap_dim: int, latent_frames: int = 25, seed: int = 0, **overrides):
    """The pocket UNet at random init, conditioned on ``clap_dim``-d CLAP embeddings
    (``UNET_CONFIG``, with ``overrides`` of its keys: the ablation's variants).

    ``sample_size`` is the latent's length in frames: AudioLDM reads the default clip length
    from it (25 latent frames × 4 × 10 ms = 1 s).
    """
    from diffusers import UNet2DConditionModel
    unknown = set(overrides) - set(UNET_CONFIG)
    if unknown:
        raise ValueError(f"unknown UNet settings {sorted(unknown)}; expected some of "
                         f"{sorted(UNET_CONFIG)}")
    with seeded(seed):  # the caller's global random state is left as it was
        return UNet2DConditionModel(sample_size=latent_frames,
                                    projection_class_embeddings_input_dim=clap_dim,
                                    **{**UNET_CONFIG, **overrides})


def train_generator(unet, scheduler, latents: torch.Tensor, clap_embeds: torch.Tensor,
                    null_embed: torch.Tensor, *, steps: int, batch_size: int = 64,
                    lr: float = 1e-3, cond_dropout: float = 0.1, ema_decay: float = 0.999,
                    min_snr_gamma: float | None = None, seed: int = 0, progress: bool = True):
    """Train the UNet as AudioLDM was: denoise latents conditioned on CLAP audio embeddings.

    Args:
        latents: (n, 1, h, w) from :meth:`PowerPoolAutoencoder.encode`.
        clap_embeds: (n, d) normalised CLAP **audio** embeddings of the same clips.
        null_embed: (d,) the CLAP text embedding of "" — the condition dropped to, with
            probability ``cond_dropout``, so that classifier-free guidance works at sampling.
        scheduler: a diffusers scheduler; its ``prediction_type`` ("epsilon" / "v_prediction")
            sets the target.
        min_snr_gamma: Min-SNR-γ loss weighting (Hang et al. 2023): each example's loss is
            weighted by min(SNR, γ) / SNR for ε-prediction, min(SNR, γ) / (SNR + 1) for
            v-prediction, so the low-noise steps stop dominating; None = uniform.
    Returns:
        (ema_unet, losses): the exponential moving average of the weights (what is shipped) and
        the loss per step.
    """
    import copy

    gen = torch.Generator().manual_seed(seed)
    ema = copy.deepcopy(unet).eval().requires_grad_(False)
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    n, losses = len(latents), []
    unet.train()
    bar = tqdm(range(steps), desc="pocket-AudioLDM", disable=not progress, leave=False)
    for step in bar:
        idx = torch.randint(0, n, (min(batch_size, n),), generator=gen)
        x0, cond = latents[idx], clap_embeds[idx].clone()
        drop = torch.rand(len(idx), generator=gen) < cond_dropout
        cond[drop] = null_embed
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (len(idx),), generator=gen)
        noisy = scheduler.add_noise(x0, noise, t)
        target = (scheduler.get_velocity(x0, noise, t)
                  if scheduler.config.prediction_type == "v_prediction" else noise)
        pred = unet(noisy, t, encoder_hidden_states=None, class_labels=cond).sample
        if min_snr_gamma is None:
            loss = F.mse_loss(pred, target)
        else:
            snr = scheduler.alphas_cumprod[t] / (1 - scheduler.alphas_cumprod[t])
            weight = snr.clamp(max=min_snr_gamma) / (
                snr + 1 if scheduler.config.prediction_type == "v_prediction" else snr)
            loss = (weight * ((pred - target) ** 2).mean((1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            d = min(ema_decay, (1 + step) / (10 + step))  # warm-up of the average
            for pe, p in zip(ema.parameters(), unet.parameters()):
                pe.lerp_(p, 1 - d)
        losses.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    unet.eval()
    return ema, losses
