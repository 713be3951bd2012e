"""The paper's three evaluator networks, written out with the official checkpoints' names.

PANNs CNN14 at 16 kHz (Kong et al. 2020; ``Cnn14_16k``), VGGish (Hershey et al. 2017; the
torchvggish port of Google's model) and Wav2CLIP (Wu et al. 2022). Parameter and buffer names
are identical to the published checkpoints, so those load with strict key checking
(:mod:`v2a_kit.evaluation.extractors` says why they are not imported from their packages, and
loads them).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Cnn14", "VGGish", "Wav2CLIP", "vggish_examples"]


class _ConvBlock(nn.Module):
    """PANNs' ConvBlock: two 3×3 conv + BN + ReLU, then average pooling."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn1, self.bn2 = nn.BatchNorm2d(c_out), nn.BatchNorm2d(c_out)

    def forward(self, x: Tensor, pool: tuple[int, int]) -> Tensor:
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return F.avg_pool2d(x, pool)


class Cnn14(nn.Module):
    """PANNs CNN14 (Kong et al. 2020), the 16 kHz variant ``Cnn14_16k`` AudioLDM's FD uses.

    Front end as in PANNs: torchlibrosa STFT (window 512, hop 160, Hann, centred, reflect) →
    64 log-mel bands 50–8000 Hz (10·log10, ref 1, amin 1e-10) → ``bn0`` per mel band. Six conv
    blocks (64 … 2048 channels, 2×2 average pooling after the first five), mean over frequency,
    max + mean over time, ``fc1`` + ReLU = the 2048-d ``embedding`` ("2048" in AudioLDM's
    toolbox), ``fc_audioset`` = 527 logits (pre-sigmoid, the toolbox's "logits"). Inference
    only: dropout and SpecAugment act in training alone and are left out.
    """

    MIN_SAMPLES = 31 * 160  # 32 STFT frames survive five 2× poolings in time

    def __init__(self, sample_rate: int = 16000, window_size: int = 512, hop_size: int = 160,
                 mel_bins: int = 64, fmin: float = 50, fmax: float = 8000,
                 classes_num: int = 527):
        super().__init__()
        from torchlibrosa.stft import LogmelFilterBank, Spectrogram
        self.spectrogram_extractor = Spectrogram(
            n_fft=window_size, hop_length=hop_size, win_length=window_size, window="hann",
            center=True, pad_mode="reflect", freeze_parameters=True)
        self.logmel_extractor = LogmelFilterBank(
            sr=sample_rate, n_fft=window_size, n_mels=mel_bins, fmin=fmin, fmax=fmax, ref=1.0,
            amin=1e-10, top_db=None, freeze_parameters=True)
        self.bn0 = nn.BatchNorm2d(mel_bins)
        widths = (1, 64, 128, 256, 512, 1024, 2048)
        for i in range(1, 7):
            setattr(self, f"conv_block{i}", _ConvBlock(widths[i - 1], widths[i]))
        self.fc1 = nn.Linear(2048, 2048)
        self.fc_audioset = nn.Linear(2048, classes_num)
        for m in self.modules():  # PANNs' init_layer / init_bn
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, wave: Tensor) -> tuple[Tensor, Tensor]:
        """wave: (b, samples) at 16 kHz → (embedding (b, 2048) ≥ 0, logits (b, 527))."""
        x = self.logmel_extractor(self.spectrogram_extractor(wave))  # (b, 1, frames, mels)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
        for i in range(1, 7):
            x = getattr(self, f"conv_block{i}")(x, (2, 2) if i < 6 else (1, 1))
        x = x.mean(dim=3)                                             # (b, 2048, frames')
        embedding = F.relu(self.fc1(x.amax(dim=2) + x.mean(dim=2)))
        return embedding, self.fc_audioset(embedding)


def _vggish_mel_matrix(num_bins: int = 257, sr: int = 16000, num_mels: int = 64,
                       lo_hz: float = 125.0, hi_hz: float = 7500.0) -> np.ndarray:
    """(257, 64) triangular HTK-mel weights of Google's ``mel_features.spectrogram_to_mel_matrix``
    (edges equally spaced in mel = 1127 ln(1 + f/700); the DC bin gets no weight)."""
    def mel(f):
        return 1127.0 * np.log1p(np.asarray(f) / 700.0)
    bins_mel = mel(np.linspace(0.0, sr / 2, num_bins))
    edges = np.linspace(mel(lo_hz), mel(hi_hz), num_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    w = np.maximum(0.0, np.minimum((bins_mel[:, None] - lower) / (center - lower),
                                   (upper - bins_mel[:, None]) / (upper - center)))
    w[0] = 0.0
    return w


def vggish_examples(wave: Tensor) -> Tensor:
    """VGGish's input, as Google's ``vggish_input.waveform_to_examples`` at 16 kHz.

    25 ms periodic-Hann frames every 10 ms without padding, |rfft| over 512 points (magnitude,
    not power), 64 HTK-mel bands 125–7500 Hz, ``log(mel + 0.01)``, cut into non-overlapping
    0.96 s examples of 96 frames (a remainder shorter than one example is dropped). Checked
    against torchvggish 0.2's copy of ``mel_features``: max |Δ| 1.8e-6 in float32, 2e-14 in
    float64.

    Args:
        wave: (b, samples) float at 16 kHz, samples ≥ 15,600 (one example).
    Returns:
        (b, k, 96, 64) log-mel examples, k = 1 + (frames − 96) // 96.
    """
    window = torch.hann_window(400, periodic=True, dtype=wave.dtype, device=wave.device)
    mel_w = torch.as_tensor(_vggish_mel_matrix(), dtype=wave.dtype, device=wave.device)
    spec = torch.fft.rfft(wave.unfold(-1, 400, 160) * window, n=512).abs()  # (b, frames, 257)
    log_mel = torch.log(spec @ mel_w + 0.01)                               # (b, frames, 64)
    return log_mel.unfold(1, 96, 96).transpose(-1, -2)                     # (b, k, 96, 64)


class VGGish(nn.Module):
    """VGGish (Hershey et al. 2017) as torchvggish lays it out (``features.*``, ``embeddings.*``).

    ``embeddings`` stops at the 128-d linear layer, *without* torchvggish's final ReLU and
    without the PCA/quantisation post-processor: the FAD convention of Google's reference and
    of AudioLDM's toolbox (``use_activation=False, use_pca=False``). Parameter names are
    unchanged, so torchvggish's ``vggish-10086976.pth`` loads strict.
    """

    MIN_SAMPLES = 400 + 95 * 160  # 96 frames: one 0.96 s example

    def __init__(self):
        super().__init__()
        layers, c_in = [], 1
        for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.ReLU()]
                c_in = v
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(nn.Linear(512 * 4 * 6, 4096), nn.ReLU(),
                                        nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 128))

    def forward(self, examples: Tensor) -> Tensor:
        """examples: (m, 96, 64) log-mel → (m, 128)."""
        x = self.features(examples[:, None])           # (m, 512, 6, 4)
        return self.embeddings(x.permute(0, 2, 3, 1).flatten(1))  # TF's (time, freq, channel)


class _Spectrogram(nn.Module):
    """``torchaudio.transforms.Spectrogram(n_fft=512, hop_length=353)``: power, periodic Hann,
    centred, reflect padding. Its window is a saved buffer there, so it is here too."""

    def __init__(self, n_fft: int = 512, hop_length: int = 353):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        self.register_buffer("window", torch.hann_window(n_fft))

    def forward(self, wave: Tensor) -> Tensor:
        spec = torch.stft(wave, self.n_fft, self.hop_length, window=self.window, center=True,
                          pad_mode="reflect", return_complex=True)
        return spec.abs().square()[:, None]           # (b, 1, 257, frames)


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                         nn.BatchNorm2d(c_out))
                           if stride != 1 or c_in != c_out else None)

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class _Wav2ClipResNet(nn.Module):
    """Wav2CLIP's audio encoder: a ResNet-18 on the log power spectrogram, 512-d out."""

    def __init__(self):
        super().__init__()
        self.spectrogram = _Spectrogram()
        self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        widths = (64, 64, 128, 256, 512)
        for i in range(1, 5):
            stride = 1 if i == 1 else 2
            setattr(self, f"layer{i}", nn.Sequential(_BasicBlock(widths[i - 1], widths[i], stride),
                                                     _BasicBlock(widths[i], widths[i], 1)))
        for m in self.modules():  # Wav2CLIP's (torchvision's) init
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, wave: Tensor) -> Tensor:
        x = torch.log(self.spectrogram(wave) + 1e-7)
        # Wav2CLIP standardises with the mean/std of the whole batch; per clip here, so that a
        # clip's embedding does not depend on its batch-mates (identical at batch size 1).
        flat = x.flatten(1)
        x = (x - flat.mean(1)[:, None, None, None]) / (flat.std(1)[:, None, None, None] + 1e-9)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return x.mean(dim=(2, 3))


class _MLP(nn.Module):
    """Wav2CLIP's ``MLPLayers([512, 512, 512])``: Linear, ReLU, Dropout, Linear."""

    def __init__(self, dim: int = 512, dropout: float = 0.1):
        super().__init__()
        self.sequential = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout),
                                        nn.Linear(dim, dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.sequential(x)


class Wav2CLIP(nn.Module):
    """Wav2CLIP (Wu et al. 2022): audio (16 kHz) → CLIP ViT-B/32's 512-d image space.

    ``audio_encoder`` + ``audio_transform`` are named as in the released ``Wav2CLIP.pt`` (a flat
    state dict; a Lightning checkpoint's ``state_dict`` works too), which loads unchanged except
    ``audio_encoder.fc.*``: a classification head the forward pass never uses (1,000 outputs in
    the released inference code, VGGSound's 309 in training), so it is not built here.
    """

    MIN_SAMPLES = 512

    def __init__(self):
        super().__init__()
        self.audio_encoder = _Wav2ClipResNet()
        self.audio_transform = _MLP()

    def forward(self, wave: Tensor) -> Tensor:
        """wave: (b, samples) → (b, 512), not normalised."""
        return self.audio_transform(self.audio_encoder(wave))
