"""The pocket models' shared audio front end and vocoder: log-mel, Griffin-Lim, power pooling.

Framing: STFT with ``n_fft`` 1024 (64 ms periodic Hann), hop 160 (10 ms), centred frames over a
zero-padded clip (``torch.stft(center=True, pad_mode="constant")``, librosa's default), keeping
the first ``N // 160`` frames: frame ``t`` is centred on sample ``160 t``, and 1 s at 16 kHz gives
exactly 100 frames (centring alone gives 101; the dropped one is centred just past the clip's
end). :class:`GriffinLim` inverts the same framing with ``torch.istft``, so 100 frames →
16,000 samples and ``log_mel → vocoder → log_mel`` stays on the same frame grid.

Scale: power spectrum ``|STFT|²`` (unnormalised, as librosa's), 64 Slaney-normalised mel bands
over 0–8 kHz from ``librosa.filters.mel`` (librosa is used for the filterbank only), then the
natural log of ``mel + 1e-5``: digital silence is ``log(1e-5)`` ≈ −11.5, a loud pocket note ≈ 5.
``LogMel`` equals ``log(librosa.feature.melspectrogram(y=clip, ...)[:, :N // 160] + 1e-5)``.

Compression (chosen by a feasibility measurement on 2 CPU cores before the first build: 4×4
power pooling kept all four audible attributes, where a learned VAE could not within the budget):
``power_pool`` averages *power* over ``fh × fw`` tiles
(``log(avgpool(exp(log_mel)))``), ``nearest_upsample`` undoes the shape. pocket-AudioLDM uses
4×4 as its parameter-free "autoencoder": (64, 100) → (16, 25), exactly, for a 1 s clip; sizes that
do not divide are refused rather than padded or cropped.
"""

from __future__ import annotations

import math
from functools import lru_cache

import librosa
import numpy as np
import torch
from torch import Tensor, nn

from ...errors import ConfigError, MediaError

__all__ = ["LogMel", "GriffinLim", "log_mel", "power_pool", "nearest_upsample",
           "SAMPLING_RATE", "N_FFT", "HOP_LENGTH", "N_MELS", "LOG_FLOOR"]

SAMPLING_RATE = 16000
N_FFT = 1024
HOP_LENGTH = 160   # 100 frames per second
N_MELS = 64
LOG_FLOOR = 1e-5   # added to mel power before the log; silence → log(1e-5)


def _mel_basis(sampling_rate: int, n_fft: int, n_mels: int) -> Tensor:
    basis = librosa.filters.mel(sr=sampling_rate, n_fft=n_fft, n_mels=n_mels)  # (n_mels, n_freq)
    return torch.from_numpy(np.ascontiguousarray(basis, dtype=np.float32))


def _stft(audio: Tensor, n_fft: int, hop: int, window: Tensor) -> Tensor:
    """(b, N) → complex (b, n_fft // 2 + 1, N // hop), with the module's framing."""
    spec = torch.stft(audio, n_fft, hop, window=window, center=True, pad_mode="constant",
                      return_complex=True)
    return spec[..., : audio.shape[-1] // hop]


def _istft(spec: Tensor, n_fft: int, hop: int, window: Tensor) -> Tensor:
    """complex (b, n_fft // 2 + 1, T) → (b, T * hop): the inverse of :func:`_stft`."""
    return torch.istft(spec, n_fft, hop, window=window, center=True, length=spec.shape[-1] * hop)


class LogMel(nn.Module):
    """Log-mel front end shared by every pocket model. No parameters; buffers are not saved.

    Args:
        sampling_rate, n_fft, hop_length, n_mels, floor: see the module docstring.
    """

    def __init__(self, sampling_rate: int = SAMPLING_RATE, n_fft: int = N_FFT,
                 hop_length: int = HOP_LENGTH, n_mels: int = N_MELS, floor: float = LOG_FLOOR):
        super().__init__()
        self.sampling_rate, self.n_fft, self.hop_length = sampling_rate, n_fft, hop_length
        self.n_mels, self.floor = n_mels, floor
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("mel_basis", _mel_basis(sampling_rate, n_fft, n_mels),
                             persistent=False)

    def num_frames(self, num_samples: int) -> int:
        """Frames for a clip of ``num_samples``: ``num_samples // hop_length``."""
        return num_samples // self.hop_length

    def forward(self, audio: Tensor) -> Tensor:
        """audio: (b, samples) float in [-1, 1] → (b, n_mels, samples // hop) float32 log-mel."""
        audio = _check_audio(audio, self.hop_length)
        power = _stft(audio, self.n_fft, self.hop_length, self.window).abs().square()
        return torch.log(torch.matmul(self.mel_basis, power) + self.floor)


@lru_cache(maxsize=8)
def _default_log_mel(device: str) -> LogMel:
    return LogMel().to(device)


def log_mel(audio: Tensor | np.ndarray) -> Tensor:
    """The default 16 kHz :class:`LogMel`: (b, samples) → (b, 64, samples // 160) float32.

    NumPy input is accepted and converted; the result lives on the input's device.
    """
    if isinstance(audio, np.ndarray):
        audio = torch.from_numpy(audio)
    return _default_log_mel(str(audio.device))(audio)


class GriffinLim(nn.Module):
    """Log-mel → waveform by fast Griffin-Lim (Perraudin et al. 2013), batched, deterministic.

    The mel power is mapped to linear power by non-negative least squares (the filterbank's
    pseudo-inverse, clamped at zero, then ``nnls_iter`` multiplicative updates; the clamped
    pseudo-inverse alone leaves 3× the log-mel error after vocoding), then ``n_iter`` momentum
    iterations alternate between consistent STFTs and the target magnitude, as
    ``torchaudio.transforms.GriffinLim`` does. The first phase estimate is pseudo-random from a
    fixed ``seed`` and the same for every clip, so each clip's output depends on that clip alone
    (no global RNG is touched). No parameters.

    Args:
        sampling_rate, n_fft, hop_length, n_mels, floor: must match the :class:`LogMel` used.
        n_iter: iterations; 32 by default (cost and quality in tests/test_pocket_world.py).
        momentum: fast Griffin-Lim's α (0 = classic Griffin-Lim).
        nnls_iter: multiplicative updates of the mel → linear inversion.
        seed: seed of the initial phase.
    """

    def __init__(self, sampling_rate: int = SAMPLING_RATE, n_fft: int = N_FFT,
                 hop_length: int = HOP_LENGTH, n_mels: int = N_MELS, floor: float = LOG_FLOOR,
                 n_iter: int = 32, momentum: float = 0.99, nnls_iter: int = 30, seed: int = 0):
        super().__init__()
        if not (isinstance(n_iter, int) and n_iter >= 1):
            raise ConfigError(f"n_iter={n_iter!r}; expected an int ≥ 1")
        if not (isinstance(nnls_iter, int) and nnls_iter >= 0):
            raise ConfigError(f"nnls_iter={nnls_iter!r}; expected an int ≥ 0")
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"momentum={momentum!r}; expected 0 ≤ momentum < 1")
        self.sampling_rate, self.n_fft, self.hop_length = sampling_rate, n_fft, hop_length
        self.n_mels, self.floor, self.n_iter, self.momentum = n_mels, floor, n_iter, momentum
        self.nnls_iter, self.seed = nnls_iter, seed
        basis = _mel_basis(sampling_rate, n_fft, n_mels)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("mel_basis", basis, persistent=False)
        self.register_buffer("mel_pinv", torch.linalg.pinv(basis.double()).float(),
                             persistent=False)

    def magnitude(self, log_mel: Tensor) -> Tensor:
        """(b, n_mels, frames) log-mel → (b, n_fft // 2 + 1, frames) linear STFT magnitude."""
        mel = (log_mel.exp() - self.floor).clamp_min(0.0)
        power = torch.matmul(self.mel_pinv, mel).clamp_min(0.0) + 1e-6   # > 0: updates can move it
        target = torch.matmul(self.mel_basis.T, mel)
        for _ in range(self.nnls_iter):  # Lee & Seung's multiplicative rule for min ‖M p − mel‖²
            power = power * target / (self.mel_basis.T @ (self.mel_basis @ power) + 1e-10)
            # Silent bins shrink geometrically into subnormal floats, which are ~10× slower to
            # compute with on x86 (here and in every Griffin-Lim iteration): zero them instead.
            power = power.masked_fill(power < 1e-20, 0.0)
        return power.sqrt()

    @torch.no_grad()
    def forward(self, log_mel: Tensor) -> Tensor:
        """log_mel: (b, n_mels, frames) as :class:`LogMel` makes → (b, frames * hop) float32."""
        if not (isinstance(log_mel, Tensor) and log_mel.ndim == 3
                and log_mel.shape[1] == self.n_mels and log_mel.is_floating_point()):
            shape = tuple(log_mel.shape) if hasattr(log_mel, "shape") else type(log_mel).__name__
            raise MediaError(f"log_mel has shape {shape}; expected a float tensor "
                             f"(batch, {self.n_mels}, frames)")
        # Chunks keep the working set in cache; each clip's result does not depend on the batch.
        return torch.cat([self._vocode(chunk) for chunk in log_mel.float().split(16)])

    def _vocode(self, log_mel: Tensor) -> Tensor:
        magnitude = self.magnitude(log_mel)                                  # (b, F, T)
        generator = torch.Generator().manual_seed(self.seed)
        phase = torch.rand(magnitude.shape[-2:], generator=generator) * (2 * math.pi)
        spec = magnitude * torch.polar(torch.ones_like(phase), phase).to(magnitude.device)
        args = (self.n_fft, self.hop_length, self.window)
        alpha = self.momentum / (1 + self.momentum)
        previous = None
        for _ in range(self.n_iter):
            # Work on real views: complex division and abs() are several times slower here.
            rebuilt = torch.view_as_real(_stft(_istft(spec, *args), *args))  # (b, F, T, 2)
            angles = rebuilt if previous is None else torch.add(rebuilt, previous, alpha=-alpha)
            scale = magnitude / torch.linalg.vector_norm(angles, dim=-1).add_(1e-16)
            spec = torch.view_as_complex(angles * scale[..., None])
            previous = rebuilt
        return _istft(spec, *args)


def power_pool(log_mel: Tensor, factor: tuple[int, int] = (4, 4)) -> Tensor:
    """``log(avgpool(exp(log_mel)))`` over the last two dims: average power, then log.

    Args:
        log_mel: (..., n_mels, frames) float; both sizes must divide by ``factor``.
        factor: (fh, fw) pooling over (mel bins, frames).

    Returns:
        (..., n_mels // fh, frames // fw), same dtype.
    """
    fh, fw = _check_factor(factor)
    *lead, h, w = _check_2d(log_mel, "log_mel")
    if h % fh or w % fw:
        raise ConfigError(f"log_mel of shape {tuple(log_mel.shape)} does not tile by "
                          f"factor={factor}: the last two sizes must be multiples of it")
    tiles = log_mel.reshape(*lead, h // fh, fh, w // fw, fw)
    return torch.logsumexp(tiles, dim=(-3, -1)) - math.log(fh * fw)


def nearest_upsample(x: Tensor, factor: tuple[int, int] = (4, 4)) -> Tensor:
    """Repeat entries along the last two dims: (..., h, w) → (..., h·fh, w·fw)."""
    fh, fw = _check_factor(factor)
    _check_2d(x, "x")
    return x.repeat_interleave(fh, dim=-2).repeat_interleave(fw, dim=-1)


def _check_factor(factor) -> tuple[int, int]:
    if (not isinstance(factor, (tuple, list)) or len(factor) != 2
            or not all(isinstance(f, int) and f >= 1 for f in factor)):
        raise ConfigError(f"factor={factor!r}; expected two ints ≥ 1 (fh, fw)")
    return factor[0], factor[1]


def _check_2d(x, name: str) -> torch.Size:
    if not isinstance(x, Tensor) or x.ndim < 2:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise MediaError(f"{name} has shape {shape}; expected a tensor (..., height, width)")
    return x.shape


def _check_audio(audio, hop: int) -> Tensor:
    if not isinstance(audio, Tensor) or audio.ndim != 2 or audio.shape[1] < hop:
        shape = tuple(audio.shape) if hasattr(audio, "shape") else type(audio).__name__
        raise MediaError(f"audio has shape {shape}; expected a tensor (batch, samples) with at "
                         f"least {hop} samples")
    if not audio.is_floating_point():
        raise MediaError(f"audio has dtype {audio.dtype}; expected float samples in [-1, 1]")
    return audio.float()
