"""The pocket evaluators: stand-ins for PANNs and Wav2CLIP, in the same roles.

- :class:`PocketTagger` (the PANNs role): a small CNN on the shared log-mel that reads the five
  audible attributes (the four seen-and-heard ones and the heard-only contour). Its penultimate
  ``features`` feed FD, its per-attribute ``class_probs``
  feed KL/IS, its ``predict`` gives attribute accuracy.
- :class:`PocketAudioToImage` (the Wav2CLIP role): the same trunk design with its own weights,
  trained to regress the pocket-CLIP image embedding of the paired image (cosine loss), so that
  CS compares generated audio with the conditioning image in pocket-CLIP's image space.

Both take raw 16 kHz waveforms, (b, 16000) for the world's 1 s clips, and compute the log-mel
inside. Both are trained on real audio *and* its re-synthesis through the generator's own
decoding (4×4 power pooling → nearest upsampling → :class:`GriffinLim`), because generated audio
is vocoded that way: a tagger trained on clean audio alone read the timbre of vocoded audio at
≈ 51 % (measured when the pocket world was designed). The vocoded copies are made once per
training set.

Seeds: evaluators are trained on world seeds ≥ ``EVALUATOR_SEED`` (10,000) and judge data of
seeds below it (``v2a-kit pocket build`` uses its seed and seed + 1000), so nothing an evaluator
judges was drawn from the data it was trained on. :func:`train_tagger` refuses lower seeds.

Measured on 2026-11-24, ``train_tagger()`` defaults (2,048 clips of seed 10,000 + their 2,048
vocoded copies; 500 steps of batch 64), 1 thread on the 2-core dev VM while another job used both
cores: vocoding 153 s (≈ 75 ms per clip), training 51 s. Held-out, 512 clips of seed 20,000:
shape / colour / count / size / all four = 1.00 / 1.00 / 1.00 / 1.00 / 1.00 on real audio and
1.00 / 1.00 / 1.00 / 1.00 / 1.00 on its pool → upsample → Griffin-Lim re-synthesis.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...checkpoints import CONFIG, EVALUATOR_FORMAT, WEIGHTS, read_config, read_weights, save_module
from ...devices import seeded
from ...errors import ConfigError, EmbeddingError, MediaError
from ..world.scenes import AUDIBLE, sample_world
from .audio import SAMPLING_RATE, GriffinLim, LogMel, log_mel, nearest_upsample, power_pool
from .contrastive import _loop

__all__ = ["EVALUATOR_SEED", "CLIP_SAMPLES", "TaggerConfig", "AudioToImageConfig", "TaggerOutput",
           "PocketTagger", "PocketAudioToImage", "vocode_like_generator", "EvaluatorData",
           "evaluator_data", "train_tagger",
           "train_audio_to_image", "save_evaluator", "load_evaluator"]

EVALUATOR_SEED = 10_000           # evaluators train on world seeds ≥ this; they judge seeds below
CLIP_SAMPLES = SAMPLING_RATE      # the world's 1 s clips: (b, 16000) in, 100 log-mel frames


@dataclass(frozen=True)
class TaggerConfig:
    channels: tuple[int, ...] = (16, 32, 64, 128)  # one 3×3 stride-2 conv + BN + ReLU per width
    feature_dim: int = 128                        # F: the penultimate features (FD's space)


@dataclass(frozen=True)
class AudioToImageConfig(TaggerConfig):
    embed_dim: int = 64                           # d of the target (pocket-CLIP image) space


@dataclass
class TaggerOutput:
    features: Tensor            # (b, F) penultimate features, ≥ 0 (after ReLU)
    logits: dict[str, Tensor]   # attr -> (b, len(AUDIBLE[attr]))


def check_audio(audio, name: str = "audio") -> Tensor:
    """(b, 16000) float Tensor or array, finite → float32 Tensor; anything else → MediaError."""
    if isinstance(audio, np.ndarray):
        audio = torch.from_numpy(audio)
    shape = tuple(audio.shape) if hasattr(audio, "shape") else type(audio).__name__
    if not (isinstance(audio, Tensor) and audio.ndim == 2 and audio.shape[0] >= 1
            and audio.shape[1] == CLIP_SAMPLES and audio.is_floating_point()):
        raise MediaError(f"{name} has shape {shape}; expected float samples (batch, {CLIP_SAMPLES})"
                         f": 1 s clips at {SAMPLING_RATE} Hz")
    if not torch.isfinite(audio).all():
        raise MediaError(f"{name} holds NaN or inf samples; expected finite values in [-1, 1]")
    return audio.float()


class _Trunk(nn.Module):
    """log-mel (b, 64, T) → (b, F): conv blocks, frequency kept as channels, mean+max over time.

    Frequency bins are flattened into channels rather than averaged away, because the register
    (colour) is an *absolute* frequency that a frequency-invariant pooling would lose. Stride-2
    convolutions rather than conv + 2×2 pooling: ≈ 4× faster per step on a CPU core.
    """

    def __init__(self, channels: tuple[int, ...], feature_dim: int, n_mels: int = 64):
        super().__init__()
        if n_mels % 2 ** len(channels):
            raise ConfigError(f"channels={channels}: {len(channels)} halvings do not divide "
                              f"{n_mels} mel bins")
        self.norm = nn.BatchNorm1d(n_mels)  # per-mel-bin standardisation, as PANNs' bn0
        layers, c_in = [], 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(c), nn.ReLU()]
            c_in = c
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(2 * c_in * (n_mels // 2 ** len(channels)), feature_dim)

    def forward(self, mel: Tensor) -> Tensor:
        x = self.conv(self.norm(mel)[:, None])            # (b, C, bins, frames)
        x = x.flatten(1, 2)                               # (b, C·bins, frames)
        return F.relu(self.fc(torch.cat([x.mean(-1), x.amax(-1)], 1)))


class _AudioModel(nn.Module):
    """Shared plumbing: log-mel inside, input checks, batched no-grad inference in eval mode."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.log_mel = LogMel()  # no parameters; its buffers are not saved
        self.trunk = _Trunk(tuple(config.channels), config.feature_dim)

    def forward(self, audio):
        """audio: (b, 16000) float Tensor or array in [-1, 1] → ``forward_mel(log_mel)``."""
        return self.forward_mel(self.log_mel(check_audio(audio).to(self.log_mel.window.device)))

    @torch.no_grad()
    def _infer(self, audio, fn, batch_size: int = 256):
        audio, was_training = check_audio(audio), self.training
        self.eval()
        try:
            return [fn(self(chunk)) for chunk in audio.split(batch_size)]
        finally:
            self.train(was_training)


class PocketTagger(_AudioModel):
    """Audio tagger for the five audible attributes (the PANNs role).

    Args:
        config: :class:`TaggerConfig`; defaults give ≈ 230 k parameters.
    """

    def __init__(self, config: TaggerConfig | None = None):
        super().__init__(config or TaggerConfig())
        self.heads = nn.ModuleDict({a: nn.Linear(self.config.feature_dim, len(v))
                                    for a, v in AUDIBLE.items()})

    def forward_mel(self, mel: Tensor) -> TaggerOutput:
        """mel: (b, 64, 100) from :func:`log_mel` → :class:`TaggerOutput`."""
        features = self.trunk(mel)
        return TaggerOutput(features, {a: head(features) for a, head in self.heads.items()})

    def features(self, audio) -> Tensor:
        """audio: (b, 16000) → (b, F) float32 penultimate features (FD's feature space)."""
        return torch.cat(self._infer(audio, lambda out: out.features))

    def class_probs(self, audio) -> dict[str, Tensor]:
        """audio: (b, 16000) → attr -> (b, num_values) softmax probabilities (KL/IS)."""
        parts = self._infer(audio, lambda out: {a: v.softmax(-1) for a, v in out.logits.items()})
        return {a: torch.cat([p[a] for p in parts]) for a in AUDIBLE}

    def predict(self, audio) -> dict[str, np.ndarray]:
        """audio: (b, 16000) → attr -> (b,) int64 value indices into ``AUDIBLE[attr]``."""
        return {a: p.argmax(-1).cpu().numpy() for a, p in self.class_probs(audio).items()}


class PocketAudioToImage(_AudioModel):
    """Audio encoder into pocket-CLIP's image space (the Wav2CLIP role, for CS).

    Args:
        config: :class:`AudioToImageConfig`; ``embed_dim`` must be the target space's d.
    """

    def __init__(self, config: AudioToImageConfig | None = None):
        super().__init__(config or AudioToImageConfig())
        self.proj = nn.Linear(self.config.feature_dim, self.config.embed_dim)

    def forward_mel(self, mel: Tensor) -> Tensor:
        """mel: (b, 64, 100) → (b, d) float32, L2-normed."""
        return F.normalize(self.proj(self.trunk(mel)), dim=-1)

    def embed(self, audio) -> Tensor:
        """audio: (b, 16000) → (b, d) L2-normed, in batches, without gradients."""
        return torch.cat(self._infer(audio, lambda e: e))


# ----------------------------------------------------------------------------- training

def vocode_like_generator(mel: Tensor, vocoder: nn.Module | None = None,
                          batch_size: int = 256) -> Tensor:
    """Log-mel of the generator's decoding of ``mel``: pool 4×4 → upsample → vocoder → log-mel.

    Args:
        mel: (n, 64, 100) log-mel of real audio.
        vocoder: log-mel → waveform; ``GriffinLim()`` (what pocket-AudioLDM uses) when None.
    Returns:
        (n, 64, 100) log-mel of the re-synthesised audio.
    """
    vocoder = vocoder or GriffinLim()
    return torch.cat([log_mel(vocoder(nearest_upsample(power_pool(m))))
                      for m in mel.split(batch_size)])


def _train_mels(audio: Tensor, vocoder) -> tuple[Tensor, float]:
    """(n, 16000) → (2n, 64, 100): real log-mels, then their vocoded copies; and seconds spent."""
    mel = torch.cat([log_mel(a) for a in audio.split(256)])
    t0 = time.perf_counter()
    return torch.cat([mel, vocode_like_generator(mel, vocoder)]), time.perf_counter() - t0


@dataclass
class EvaluatorData:
    """An evaluator training set: a world batch and the log-mels both evaluators train on.

    ``mels`` is (2n, 64, 100): the n real clips, then their vocoded copies. Make it once with
    :func:`evaluator_data` and pass it to both trainers (vocoding is most of their cost).
    """

    batch: object      # PocketBatch of world seed ``seed``
    mels: Tensor
    seed: int
    vocode_s: float


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < EVALUATOR_SEED:
        raise ConfigError(f"seed={seed!r}; evaluators train on world seeds ≥ {EVALUATOR_SEED}, "
                          "which no judged data uses")


def evaluator_data(num_clips: int = 2048, seed: int = EVALUATOR_SEED,
                   vocoder: nn.Module | None = None) -> EvaluatorData:
    """``num_clips`` clips of world ``seed`` (≥ ``EVALUATOR_SEED``) and their vocoded copies."""
    _check_seed(seed)
    batch = sample_world(num_clips, seed)
    mels, vocode_s = _train_mels(torch.from_numpy(batch.audio), vocoder)
    return EvaluatorData(batch, mels, seed, vocode_s)


def _fit(model, loss_fn, mels: Tensor, vocode_s: float, seed: int, desc: str, **loop) -> tuple:
    """contrastive's AdamW + warmup/cosine loop over the 2n training mels; (model, history)."""
    t0 = time.perf_counter()
    losses = _loop(model, loss_fn, len(mels), seed=seed, desc=desc, **loop)
    return model, dict(loss=losses, num_real=len(mels) // 2, num_vocoded=len(mels) // 2,
                       seed=seed, vocode_s=vocode_s, train_s=time.perf_counter() - t0)


def train_tagger(config: TaggerConfig | None = None, seed: int = EVALUATOR_SEED, steps: int = 500,
                 batch_size: int = 64, progress: bool = True, *, num_clips: int = 2048,
                 lr: float = 3e-3, vocoder: nn.Module | None = None,
                 data: EvaluatorData | None = None):
    """Train a :class:`PocketTagger` on ``num_clips`` clips of world ``seed`` and their vocoded
    copies (2 × ``num_clips`` examples); cross-entropy summed over the five attributes, AdamW.

    Args:
        seed: world seed ≥ ``EVALUATOR_SEED``; also seeds initialisation and minibatches.
        num_clips: real clips; 2,048 keeps Griffin-Lim at ≈ 2–3 min on one core.
        vocoder: for the training copies; ``GriffinLim()`` when None (tests pass a cheaper one).
        data: a prepared :func:`evaluator_data` set; overrides ``seed``'s world, ``num_clips``
            and ``vocoder`` (``seed`` still seeds initialisation and minibatches).
    Returns:
        (model in eval mode, history dict: ``loss`` per step, ``num_real``, ``num_vocoded``,
        ``seed``, ``vocode_s`` and ``train_s`` in seconds).
    """
    _check_seed(seed)
    data = data or evaluator_data(num_clips, seed, vocoder)
    batch, mels, vocode_s = data.batch, data.mels, data.vocode_s
    labels = {a: torch.from_numpy(np.tile(y, 2)) for a, y in batch.labels.items()}
    with seeded(seed):  # the caller's global random state is left as it was
        model = PocketTagger(config)

        def loss_fn(idx):
            logits = model.forward_mel(mels[idx]).logits
            return sum(F.cross_entropy(logits[a], labels[a][idx]) for a in AUDIBLE)

        return _fit(model, loss_fn, mels, vocode_s, seed, "pocket tagger", steps=steps,
                    batch_size=batch_size, lr=lr, progress=progress)


def train_audio_to_image(clip_image_embeds: Tensor, audio: np.ndarray,
                         config: AudioToImageConfig | None = None, seed: int = EVALUATOR_SEED,
                         steps: int = 500, batch_size: int = 64, progress: bool = True, *,
                         lr: float = 3e-3, vocoder: nn.Module | None = None,
                         mels: Tensor | None = None):
    """Train a :class:`PocketAudioToImage` to map audio to its paired image's embedding.

    Each clip and its vocoded copy regress the same target by cosine loss. Draw the pairs from a
    world seed ≥ ``EVALUATOR_SEED`` (e.g. ``sample_world(n, EVALUATOR_SEED + 1)``).

    Args:
        clip_image_embeds: (n, d) float, L2-normed: pocket-CLIP image embeddings of the images.
        audio: (n, 16000) float32 paired clips.
        config: ``embed_dim`` must equal d; ``AudioToImageConfig(embed_dim=d)`` when None.
        mels: (2n, 64, 100) log-mels of ``audio`` and of its vocoded copies, made already
            (``evaluator_data(...).mels``, shared with the tagger); computed here when None.
    Returns:
        (model in eval mode, history dict as :func:`train_tagger`'s).
    """
    target = clip_image_embeds
    if not (isinstance(target, Tensor) and target.ndim == 2 and target.is_floating_point()):
        shape = tuple(target.shape) if hasattr(target, "shape") else type(target).__name__
        raise EmbeddingError(f"clip_image_embeds has shape {shape}; expected a float tensor (n, d)")
    if not (torch.isfinite(target).all() and (target.norm(dim=-1) - 1).abs().max() < 1e-3):
        raise EmbeddingError("clip_image_embeds must be finite and L2-normed (unit rows)")
    audio = check_audio(audio)
    if len(audio) != len(target):
        raise EmbeddingError(f"clip_image_embeds has {len(target)} rows but audio has "
                             f"{len(audio)} clips; expected one embedding per clip")
    config = config or AudioToImageConfig(embed_dim=target.shape[1])
    if config.embed_dim != target.shape[1]:
        raise ConfigError(f"config.embed_dim={config.embed_dim} but clip_image_embeds has "
                          f"d={target.shape[1]}")
    if mels is None:
        mels, vocode_s = _train_mels(audio, vocoder)
    elif tuple(mels.shape) != (2 * len(audio), *log_mel(audio[:1]).shape[1:]):
        raise EmbeddingError(f"mels has shape {tuple(mels.shape)}; expected the log-mels of the "
                             f"{len(audio)} clips and of their vocoded copies, (2n, 64, 100)")
    else:
        vocode_s = 0.0
    target = torch.cat([target, target]).float()
    with seeded(seed):  # the caller's global random state is left as it was
        model = PocketAudioToImage(config)

        def loss_fn(idx):
            return 1 - (model.forward_mel(mels[idx]) * target[idx]).sum(-1).mean()

        return _fit(model, loss_fn, mels, vocode_s, seed, "pocket audio→image", steps=steps,
                    batch_size=batch_size, lr=lr, progress=progress)


# ----------------------------------------------------------------------------- save / load

_CLASSES = {"PocketTagger": (PocketTagger, TaggerConfig),
            "PocketAudioToImage": (PocketAudioToImage, AudioToImageConfig)}


def save_evaluator(model: PocketTagger | PocketAudioToImage, folder) -> Path:
    """Write ``folder/model.safetensors`` + ``folder/config.json`` as a whole (atomically), in
    the ``v2a-kit-evaluator-1`` format of :mod:`v2a_kit.checkpoints`: the config records the
    class, its config, the attributes and the weights' sha256, so a mismatched pair is caught.
    """
    name = type(model).__name__
    if name not in _CLASSES:
        raise ConfigError(f"model is a {name}; expected one of {list(_CLASSES)}")
    return save_module(folder, model.state_dict(), {
        "class": name, "config": asdict(model.config), "attributes": AUDIBLE},
        format=EVALUATOR_FORMAT)


def load_evaluator(folder, kind: str | None = None) -> PocketTagger | PocketAudioToImage:
    """Load what :func:`save_evaluator` wrote, in eval mode on the CPU.

    Args:
        kind: ``"PocketTagger"`` or ``"PocketAudioToImage"`` to insist on one; any when None.
    Raises:
        WeightsNotFoundError: a file is missing. ConfigError: a config of another kind or an
        unreadable one, or weights that are truncated or do not match it (names the file).
    """
    if kind is not None and kind not in _CLASSES:
        raise ConfigError(f"kind={kind!r}; expected one of {list(_CLASSES)} or None")
    folder = Path(folder)
    meta = read_config(folder, format=EVALUATOR_FORMAT, what="evaluator")
    config_file = folder / CONFIG
    try:
        cls, config_cls = _CLASSES[meta["class"]]
        config = config_cls(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in meta["config"].items()})
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"{config_file} is not a pocket evaluator config ({type(e).__name__}: "
                          f"{e})") from None
    if kind is not None and meta["class"] != kind:
        raise ConfigError(f"{config_file} holds a {meta['class']}; expected a {kind}")
    if meta.get("attributes") not in (None, AUDIBLE):
        raise ConfigError(f"{config_file} was trained on other attributes: {meta['attributes']}")
    state = read_weights(folder, meta)
    with seeded(0):  # the random initial weights, overwritten next, leave the caller's RNG alone
        model = cls(config)
    try:
        model.load_state_dict(state, strict=True)
    except Exception as e:  # missing or mis-shaped tensors
        raise ConfigError(f"{folder / WEIGHTS} does not fit a {meta['class']} with {config}: "
                          f"{e}") from None
    return model.eval()
