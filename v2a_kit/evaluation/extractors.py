"""Audio feature extractors for the paper's metrics, behind one interface.

Three roles, as in the paper's evaluation (AudioLDM / Im2Wav conventions), gathered in
:class:`Extractors`; :func:`v2a_kit.models.extractors.build_paper_extractors` fills them with
the paper's networks:

====  =====================  ==========================================
role  metric                 the paper's extractor
====  =====================  ==========================================
fd    FD; KL and IS          PANNs CNN14, 16 kHz (``Cnn14_16k``):
                             2048-d features, 527 AudioSet logits
fad   FAD                    VGGish: 128-d per 0.96 s example
cs    CS                     Wav2CLIP audio → CLIP ViT-B/32 image
                             space + open_clip ViT-B-32 (openai)
====  =====================  ==========================================

Other builders fill the same roles with other models (the pocket evaluators:
:func:`v2a_kit.pocket.models.extractors.build_pocket_extractors`);
``v2a_kit.registry.load_extractors`` picks the builder of a preset. An extractor says what clips it
reads: ``min_samples`` (the shortest) and ``clip_samples`` (``None``: any length; else exactly that
many samples).

Every extractor takes waveforms the same way (a (n, samples) array or tensor, a list of clips of
any lengths, paths, or ``(array, sr)`` tuples; other rates are resampled by
:func:`v2a_kit.media.load_audio`) and returns float32 NumPy arrays.

**Why the three `paper` networks are written out** (in :mod:`v2a_kit.evaluation.networks`)
rather than imported: ``panns_inference`` downloads at import (a labels CSV) and at construction
(the 32 kHz CNN14, by ``wget``) and has no 16 kHz model; ``torchvggish``'s ``VGGish`` downloads
its PCA parameters in the constructor even with post-processing off and loads through
``torch.hub`` (unrestricted pickle);
``wav2clip.get_model`` downloads through ``torch.hub`` too and needs torchaudio for one STFT.
None can be pointed at a local file or fail fast offline. So each architecture is written out
with **parameter and buffer names identical to the official checkpoints**, so those load
unchanged with ``strict`` key checking, through :mod:`v2a_kit.weights` (a local copy,
``$V2A_KIT_WEIGHTS``, the kit's cache, then the URL), and only with
``torch.load(weights_only=True)``. CNN14's STFT and mel filterbank are torchlibrosa's, as in
PANNs (their weights are in the checkpoint).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import media
from ..configs import TINY_SEED
from ..devices import resolve_device, seeded
from ..errors import ConfigError, MediaError
from ..spaces import Space
from ..weights import url_file
from .networks import Cnn14, VGGish, Wav2CLIP, vggish_examples

__all__ = ["PublishedWeights", "PANNS_CNN14_16K", "VGGISH", "WAV2CLIP", "CS_IMAGE_CLIP",
           "Cnn14", "VGGish", "Wav2CLIP", "vggish_examples", "prepare_waves", "load_checkpoint",
           "AudioExtractor", "ClipScoreExtractor", "Extractors"]


@dataclass(frozen=True)
class PublishedWeights:
    what: str       # for messages
    url: str        # where the authors publish the file
    filename: str   # its name there, and in caches / $V2A_KIT_WEIGHTS


PANNS_CNN14_16K = PublishedWeights(
    "PANNs CNN14 16 kHz (Cnn14_16k, mAP 0.438)",
    "https://zenodo.org/record/3987831/files/Cnn14_16k_mAP%3D0.438.pth", "Cnn14_16k_mAP=0.438.pth")
VGGISH = PublishedWeights(  # Google's AudioSet VGGish, ported to PyTorch by torchvggish
    "VGGish (torchvggish port)",
    "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
    "vggish-10086976.pth")
WAV2CLIP = PublishedWeights(
    "Wav2CLIP", "https://github.com/descriptinc/lyrebird-wav2clip/releases/download/"
    "v0.1.0-alpha/Wav2CLIP.pt", "Wav2CLIP.pt")
CS_IMAGE_CLIP = "ViT-B-32/openai"  # Im2Wav's CS image encoder, as an open_clip name
RANDOM_INIT = f"random-init:seed={TINY_SEED}"


# ----------------------------------------------------------------------------- checkpoints

def _numpy_globals() -> list:
    """Globals numpy arrays pickle through: they build data, never call user code."""
    core = np.core.multiarray
    dtypes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType")]
    return [core._reconstruct, core.scalar, np.ndarray, np.dtype, *dtypes]


def load_checkpoint(path, what: str) -> dict:
    """A third-party checkpoint as a dict: ``torch.load(weights_only=True)``, or safetensors.

    NumPy arrays are allowed (PANNs' training checkpoints keep sampler state as arrays), through
    numpy's array-reconstruction globals only. Anything else that is not a tensor is refused.

    Raises:
        ConfigError: unreadable, truncated, or holding objects beyond tensors and arrays;
            the message names the file.
    """
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(path))
        with torch.serialization.safe_globals(_numpy_globals()):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        lines = str(e).splitlines()
        why = next((ln.strip() for ln in lines if "Unsupported global" in ln),
                   lines[0] if lines else "")
        raise ConfigError(f"{path} cannot be read as the {what} checkpoint with "
                          f"torch.load(weights_only=True): {type(e).__name__}: {why[:300]}. The "
                          "kit loads no pickled code: re-save a trusted copy's tensors as "
                          ".safetensors and pass that file instead") from None
    if not isinstance(ckpt, dict):
        raise ConfigError(f"{path} holds a {type(ckpt).__name__}; expected the {what} checkpoint "
                          "(a dict of tensors)")
    return ckpt


def load_into(model: nn.Module, state: dict, path, what: str,
               ignore_missing: tuple[str, ...] = ()) -> None:
    if not all(isinstance(v, Tensor) for v in state.values()):
        raise ConfigError(f"{path} is not a {what} state dict (it holds non-tensor values)")
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k not in ignore_missing]
    if missing or unexpected:
        raise ConfigError(f"{path} does not fit the {what} architecture: missing {missing[:8]}, "
                          f"unexpected {unexpected[:8]}")


def locate(spec: PublishedWeights, local) -> Path:
    return url_file(spec.url, spec.filename, what=spec.what, local=local)


def _build(cls: type[nn.Module]) -> nn.Module:
    """``cls()`` at the kit's random-init seed, without touching the global RNG."""
    with seeded(TINY_SEED):
        return cls()


# ----------------------------------------------------------------------------- waveforms

def _is_path(x) -> bool:
    return isinstance(x, (str, os.PathLike))


def _is_pair(x) -> bool:
    return isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], (int, float, np.number))


def prepare_waves(waves, sampling_rate: int, orig_sr: float | None = None, *,
                  min_samples: int = 1, clip_samples: int | None = None, what: str = "audio",
                  label: str = "clip", resampler: str | None = media.DEFAULT_RESAMPLER,
                  rates: set | None = None, clip_rule=None) -> list[np.ndarray]:
    """Waveforms in any accepted form → a list of float32 mono ``(samples,)`` at the rate.

    Args:
        waves: a (n, samples) array or tensor (one clip per row); one (samples,) clip; a path;
            an ``(array, sr)`` tuple; or a list of any of these (lengths may differ).
        sampling_rate: the model's rate; others are resampled with ``resampler``.
        orig_sr: the rate of bare arrays and tensors; ``None`` = already ``sampling_rate``.
            Paths and ``(array, sr)`` tuples carry their own.
        resampler: a key of :data:`v2a_kit.media.RESAMPLERS` (default: soxr's high quality);
            ``None``: refuse a clip at another rate, naming it (what scoring does unless a
            resampler is chosen).
        rates: a set to which each clip's source rate is added (for the protocol card).
        clip_rule: a :class:`~v2a_kit.evaluation.protocol.ClipRule` applied after resampling,
            before the length checks.
        min_samples: shortest clip the model can take, after resampling.
        clip_samples: the one length the model reads, after resampling (``None``: any).
        what: the model's name, for messages.
        label: how messages name an array clip: ``f"{label} #{i}"`` (paths name themselves).
    Raises:
        MediaError: naming the clip: unreadable, NaN/inf, not mono, empty, too short, not
            ``clip_samples`` long.
    """
    if _is_path(waves) or _is_pair(waves):
        items = [waves]
    elif isinstance(waves, (np.ndarray, Tensor)):
        if waves.ndim not in (1, 2):
            raise MediaError(f"waves has shape {tuple(waves.shape)}; expected (samples,) or "
                             "(n, samples)")
        items = [waves] if waves.ndim == 1 else list(waves)
    else:
        items = list(waves)
    if not items:
        raise MediaError(f"no audio given to {what}")
    clips = []
    for i, x in enumerate(items):
        name = str(x) if _is_path(x) else f"{label} #{i}"
        if _is_path(x) or _is_pair(x):
            if rates is not None:
                rates.add(source_rate(x, name))
            wave = media.load_audio(x, sampling_rate, name=name, allow_silence=True,
                                    resampler=resampler)
        else:
            a = x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)
            if a.ndim != 1:
                raise MediaError(f"{name} has shape {a.shape}; expected mono (samples,)")
            if rates is not None:
                rates.add(orig_sr or sampling_rate)
            wave = media.load_audio(a, sampling_rate, name=name, allow_silence=True,
                                    orig_sr=orig_sr or sampling_rate, resampler=resampler)
        if clip_rule is not None:
            wave = clip_rule.apply([wave], sampling_rate, name)[0]
        if len(wave) < min_samples:
            raise MediaError(f"{name} has {len(wave)} samples at {sampling_rate} Hz; {what} needs "
                             f"at least {min_samples} ({min_samples / sampling_rate:.3f} s)")
        if clip_samples is not None and len(wave) != clip_samples:
            raise MediaError(f"{name} has {len(wave)} samples at {sampling_rate} Hz; {what} reads "
                             f"clips of exactly {clip_samples} ({clip_samples / sampling_rate:g} "
                             "s): cut or pad them (v2a_kit.media.fit_length)")
        clips.append(wave)
    return clips


def source_rate(x, name: str) -> float:
    """The sample rate of a path (read from its header) or an ``(array, sr)`` tuple."""
    if _is_pair(x):
        return x[1]
    try:
        import soundfile as sf
        return sf.info(str(x)).samplerate
    except Exception:  # not a libsndfile format (m4a, a video's track): PyAV's header
        import av
        try:
            with av.open(str(x)) as c:
                return c.streams.audio[0].rate
        except (av.FFmpegError, OSError, IndexError) as e:
            raise MediaError(f"{name}: cannot read its audio header ({e})") from None


# ----------------------------------------------------------------------------- extractors

class _Runner:
    """Batched, gradient-free inference of one audio model on clips of any lengths, or of
    exactly ``clip_samples`` samples when the model reads only that length."""

    def __init__(self, name: str, model: nn.Module, sampling_rate: int, device,
                 min_samples: int = 1, batch_size: int = 16, source: dict | None = None,
                 clip_samples: int | None = None):
        if clip_samples is not None and clip_samples < min_samples:
            raise ConfigError(f"{name}: clip_samples={clip_samples} < min_samples={min_samples}")
        self.name, self.sampling_rate, self.min_samples = name, sampling_rate, min_samples
        self.clip_samples = clip_samples
        self.device = resolve_device(device)
        self.model = model.to(self.device).float().eval()
        self.batch_size, self.source = batch_size, source or {}

    def prepare(self, waves, orig_sr: float | None = None, label: str = "clip", *,
                resampler: str | None = media.DEFAULT_RESAMPLER, rates: set | None = None,
                clip_rule=None) -> list[np.ndarray]:
        """:func:`prepare_waves` with this model's rate, ``min_samples`` and ``clip_samples``:
        the clips as the model will read them, or a :class:`MediaError` naming the bad one."""
        return prepare_waves(waves, self.sampling_rate, orig_sr, min_samples=self.min_samples,
                             clip_samples=self.clip_samples, what=self.name, label=label,
                             resampler=resampler, rates=rates, clip_rule=clip_rule)

    @torch.no_grad()
    def _map(self, waves, orig_sr, fn: Callable[[Tensor], Tensor]) -> list[Tensor]:
        """fn((b, samples) on the device) → (b, ...); one CPU result per clip, in input order.
        Clips of equal length are batched together."""
        clips = self.prepare(waves, orig_sr)
        by_len: dict[int, list[int]] = {}
        for i, c in enumerate(clips):
            by_len.setdefault(len(c), []).append(i)
        out: list[Tensor | None] = [None] * len(clips)
        for idx in by_len.values():
            for s in range(0, len(idx), self.batch_size):
                chunk = idx[s:s + self.batch_size]
                x = torch.from_numpy(np.stack([clips[i] for i in chunk])).to(self.device)
                for i, y in zip(chunk, fn(x).float().cpu()):
                    out[i] = y
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.sampling_rate} Hz)"


class AudioExtractor(_Runner):
    """Features (and logits, where the model has them) of waveforms: the FD and FAD roles.

    Attributes:
        name: e.g. ``"panns-cnn14-16k"``.
        sampling_rate: Hz the model reads; other rates are resampled.
        space: identity of the feature space (family ``"audio-features"``): two extractors with
            other weights give incomparable features.
        min_samples: the shortest clip it reads, in samples at ``sampling_rate``.
        clip_samples: ``None`` = clips of any length (from ``min_samples``); else the model
            reads clips of exactly this many samples and refuses others, naming them.
        num_classes: logit columns (0 when the model has no classifier).
        logit_groups: ``None`` = one softmax over all classes (PANNs); else name → slice, one
            categorical head each (pass to :func:`~v2a_kit.evaluation.kl_divergence`).
        source: where the weights came from.
    """

    def __init__(self, name: str, model: nn.Module, space: Space, sampling_rate: int, *,
                 forward: Callable[[Tensor], tuple[Tensor, Tensor | None]],
                 frames: Callable[[Tensor], Tensor] | None = None, num_classes: int = 0,
                 logit_groups: dict[str, slice] | None = None, **kw):
        super().__init__(name, model, sampling_rate, **kw)
        self.space, self.num_classes, self.logit_groups = space, num_classes, logit_groups
        self._forward, self._frames = forward, frames

    @property
    def feature_dim(self) -> int:
        return self.space.dim

    @property
    def one_fd_row_per_clip(self) -> bool:
        """Whether :meth:`fd_features` gives one row per clip (not VGGish's one per example)."""
        return self._frames is None

    def _check_logits(self) -> None:
        if not self.num_classes:
            raise ConfigError(f"{self.name} has no classifier: take logits from the `fd` extractor")

    def features(self, waves, orig_sr: float | None = None) -> np.ndarray:
        """(n, d) float32: one row per clip (VGGish: the mean of its 0.96 s examples)."""
        return torch.stack(self._map(waves, orig_sr, lambda x: self._forward(x)[0])).numpy()

    def fd_features(self, waves, orig_sr: float | None = None) -> np.ndarray:
        """(m, d) float32: the rows the metric's Fréchet distance is taken over. One per clip,
        except VGGish: one per 0.96 s example of every clip, as FAD counts them."""
        if self._frames is None:
            return self.features(waves, orig_sr)
        return torch.cat(self._map(waves, orig_sr, self._frames)).numpy()

    def fd_rows(self, waves, orig_sr: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(fd_features(waves), owner)``: the rows and, for each, the index of its clip."""
        if self._frames is None:
            rows = self.features(waves, orig_sr)
            return rows, np.arange(len(rows))
        per_clip = self._map(waves, orig_sr, self._frames)
        owner = np.repeat(np.arange(len(per_clip)), [len(r) for r in per_clip])
        return torch.cat(per_clip).numpy(), owner

    def logits(self, waves, orig_sr: float | None = None) -> np.ndarray:
        """(n, num_classes) float32 logits (before sigmoid or softmax), for KL and IS."""
        self._check_logits()
        return torch.stack(self._map(waves, orig_sr, lambda x: self._forward(x)[1])).numpy()

    def features_and_logits(self, waves, orig_sr: float | None = None):
        """``(features(waves), logits(waves))`` from one pass of the model."""
        self._check_logits()
        both = torch.stack(self._map(waves, orig_sr, lambda x: torch.cat(self._forward(x), 1)))
        return both[:, :self.feature_dim].numpy(), both[:, self.feature_dim:].numpy()


class ClipScoreExtractor(_Runner):
    """Both sides of CS: audio into an image space, and that space's image encoder.

    Attributes:
        space: the image space both embeddings live in (the image encoder's).
        audio_space: identity of the audio model that maps into it.
        image_encoder: a :class:`~v2a_kit.encoders.ClipEncoder`.
    """

    def __init__(self, name: str, model: nn.Module, audio_space: Space, image_encoder,
                 sampling_rate: int, audio_fn: Callable[[Tensor], Tensor], **kw):
        super().__init__(name, model, sampling_rate, **kw)
        self.audio_space, self.image_encoder = audio_space, image_encoder
        self.space = image_encoder.space
        if audio_space.dim != self.space.dim:
            raise ConfigError(f"{name} maps audio to d={audio_space.dim} but the image space "
                              f"{self.space} has d={self.space.dim}")
        self._audio_fn = audio_fn

    def embed_audio(self, waves, orig_sr: float | None = None) -> np.ndarray:
        """(n, d) float32, L2-normed, in the image space."""
        e = torch.stack(self._map(waves, orig_sr, self._audio_fn))
        return F.normalize(e, dim=-1).numpy()

    def embed_images(self, images, progress: bool | None = None) -> np.ndarray:
        """(n, d) float32, L2-normed: paths, PIL images or (n, H, W, 3) uint8 arrays."""
        return self.image_encoder.encode_images(images, progress=progress).numpy()


# ----------------------------------------------------------------------------- loaders

@dataclass
class Extractors:
    """The three evaluation roles, filled by one builder.

    Attributes:
        fd: features for FD (``fd_features``) and logits for KL / IS (``logits``,
            ``logit_groups``).
        fad: features for FAD (``fd_features``).
        cs: ``embed_audio`` and ``embed_images`` for CS.
        preset: a name for reports and messages (``"paper"``, ``"pocket"``); nothing
            depends on it.
    """

    fd: AudioExtractor
    fad: AudioExtractor
    cs: ClipScoreExtractor
    preset: str

    def __post_init__(self):
        rates = {e.sampling_rate for e in self}
        lengths = {e.clip_samples for e in self} - {None}
        if len(rates) > 1 or len(lengths) > 1:
            raise ConfigError(f"the {self.preset} extractors read audio at {sorted(rates)} Hz in "
                              f"clips of {sorted(lengths)} samples; the three roles must agree")

    def __iter__(self):
        return iter((self.fd, self.fad, self.cs))

    @property
    def sampling_rate(self) -> int:
        """The rate all three roles read (other rates are resampled)."""
        return self.fd.sampling_rate

    @property
    def clip_samples(self) -> int | None:
        """The one clip length the roles read, or ``None`` (any length)."""
        return next((e.clip_samples for e in self if e.clip_samples is not None), None)
