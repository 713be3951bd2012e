"""CLIP image/text and CLAP audio/text encoders -> L2-normalised float32 (n, d) embeddings.

``load_clip`` (:mod:`v2a_kit.registry`) returns a :class:`ClipEncoder` (an open_clip model and
its preprocessing); ``load_clap`` returns a :class:`ClapEncoder` (a transformers ``ClapModel``
with its feature extractor and tokenizer). Both encode in batches, without gradients, on the best
device, with a progress bar for long inputs, and return :class:`~v2a_kit.spaces.Embeddings` that
carry their space. The module-level ``encode_*`` functions are the same calls in functional form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import media
from .errors import ConfigError, MediaError
from .spaces import Embeddings, Space

__all__ = ["ClipEncoder", "ClapEncoder", "encode_images",
           "encode_video", "encode_audio", "encode_text", "AGGREGATORS"]


def _batches(items: Sequence, batch_size: int, progress: bool | None, desc: str):
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n_batches = math.ceil(len(items) / batch_size)
    show = n_batches > 1 if progress is None else progress
    for i in tqdm(range(0, len(items), batch_size), total=n_batches, desc=desc,
                  disable=not show, leave=False):
        yield items[i:i + batch_size]


def _names(items: Sequence, kind: str) -> list[str]:
    return [str(x) if isinstance(x, (str, Path)) else f"{kind} #{i}" for i, x in enumerate(items)]


def _as_list(x) -> list:
    """One item (a path, a PIL image, an (H, W[, C]) array) -> [item]; a sequence -> list."""
    from PIL import Image
    if isinstance(x, (str, Path, Image.Image)):
        return [x]
    if isinstance(x, np.ndarray):
        return [x] if x.ndim in (2, 3) else list(x)
    return list(x)


def _texts(texts) -> list[str]:
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items or not all(isinstance(t, str) for t in items):
        raise ValueError("texts must be a string or a non-empty list of strings")
    return items


# --- video frame aggregators: (num_frames, d) normalised -> (d,) -----------------------------
def _agg_mean(f: torch.Tensor) -> torch.Tensor:
    return f.mean(0)


def _agg_median(f: torch.Tensor) -> torch.Tensor:
    return f.median(0).values


def _agg_middle(f: torch.Tensor) -> torch.Tensor:
    return f[len(f) // 2]


AGGREGATORS = {
    "mean": _agg_mean,      # the paper's choice: the mean over evenly spaced frames
    "median": _agg_median,  # element-wise median: robust to a few odd frames (cuts, fades)
    "middle": _agg_middle,  # the centre frame alone: what a single-image model sees
}


def check_aggregate(aggregate) -> None:
    if not isinstance(aggregate, str) or aggregate not in AGGREGATORS:
        raise ConfigError(f"aggregate must be one of {sorted(AGGREGATORS)}, got {aggregate!r}")


@dataclass
class ClipEncoder:
    """An open_clip model with its image preprocessing and tokenizer.

    Attributes:
        model: ``open_clip.CLIP`` in eval mode on ``device``.
        preprocess: PIL image -> (3, H, W) tensor (open_clip's validation transform).
        tokenizer: list[str] -> (n, context_length) token ids.
        space: the CLIP space the embeddings live in.
    """

    model: torch.nn.Module
    preprocess: object
    tokenizer: object
    space: Space
    device: torch.device
    dtype: torch.dtype = torch.float32
    batch_size: int = 32
    source: dict = field(default_factory=dict)

    @torch.no_grad()
    def encode_images(self, images, batch_size: int | None = None,
                      progress: bool | None = None) -> Embeddings:
        """Embed images.

        Args:
            images: a path, PIL image or array, or a sequence of them; any PIL mode
                (RGB, RGBA, L, CMYK, P, ...): see :func:`v2a_kit.media.load_image`.
        Returns:
            Embeddings (n, d_clip), sources = paths or "image #i".
        """
        items = _as_list(images)
        if not items:
            raise MediaError("no images to encode (got an empty list)")
        names = _names(items, "image")
        out = []
        for idx in _batches(range(len(items)), batch_size or self.batch_size, progress,
                            "CLIP images"):
            pix = torch.stack([self.preprocess(media.load_image(items[i], name=names[i]))
                               for i in idx])
            out.append(self._image_features(pix))
        return Embeddings(torch.cat(out), self.space, names)

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        feats = self.model.encode_image(pixels.to(self.device, self.dtype))
        return F.normalize(feats.float(), dim=-1).cpu()

    @torch.no_grad()
    def encode_video(self, videos, num_frames: int = 8, aggregate: str = "mean",
                     progress: bool | None = None) -> Embeddings:
        """One embedding per video from ``num_frames`` evenly spaced frames.

        Args:
            videos: a path or a sequence of paths.
            num_frames: frames sampled per video (the paper's follow-up code uses 64).
            aggregate: one of :data:`AGGREGATORS` ('mean', 'median', 'middle'); the result is
                L2-normalised again.
        Returns:
            Embeddings (n_videos, d_clip).
        """
        check_aggregate(aggregate)
        paths = _as_list(videos)
        if not paths:
            raise MediaError("no videos to encode (got an empty list)")
        rows = [self.encode_frame_groups([media.sample_video_frames(p, num_frames)], aggregate,
                                         progress=False).embeds
                for p in tqdm(paths, desc="CLIP video", leave=False,
                              disable=not (len(paths) > 1 if progress is None else progress))]
        return Embeddings(torch.cat(rows), self.space, [str(p) for p in paths])

    @torch.no_grad()
    def encode_frame_groups(self, groups, aggregate: str = "mean", batch_size: int | None = None,
                            progress: bool | None = None,
                            sources: list[str] | None = None) -> Embeddings:
        """One embedding per group of frames (a video, a segment of one, an image alone).

        The frames of all groups are embedded together, ``batch_size`` at a time across group
        boundaries, and each group is reduced by ``aggregate`` and L2-normalised again; a group
        of one frame is that frame's embedding, unchanged.

        Args:
            groups: an iterable of non-empty sequences of frames (PIL images, arrays or paths,
                as :func:`v2a_kit.media.load_image` reads them); read one group at a time, so a
                generator keeps only one group's frames in memory.
            aggregate: one of :data:`AGGREGATORS` ('mean', 'median', 'middle').
            batch_size: frames per forward pass (``None``: the encoder's ``batch_size``).
            progress: a progress bar over the groups (``None``: when there is more than one
                and their number is known).
            sources: a name per group for the result.
        Returns:
            Embeddings (n_groups, d_clip).
        """
        check_aggregate(aggregate)
        batch_size = batch_size or self.batch_size
        total = len(groups) if hasattr(groups, "__len__") else None
        show = (total or 0) > 1 if progress is None else progress
        sizes, pending, feats = [], [], []
        for group in tqdm(groups, total=total, desc="CLIP frames", disable=not show, leave=False):
            frames = list(group)
            if not frames:
                raise MediaError(f"frame group #{len(sizes)} is empty; need at least one frame")
            sizes.append(len(frames))
            for f in frames:
                pending.append(self.preprocess(media.load_image(f, min_size=1)))
                if len(pending) == batch_size:
                    feats.append(self._image_features(torch.stack(pending)))
                    pending = []
        if not sizes:
            raise MediaError("no frames to encode (got no groups)")
        if pending:
            feats.append(self._image_features(torch.stack(pending)))
        rows = [f[0] if len(f) == 1 else F.normalize(AGGREGATORS[aggregate](f), dim=-1)
                for f in torch.cat(feats).split(sizes)]
        return Embeddings(torch.stack(rows), self.space, sources)

    @torch.no_grad()
    def encode_text(self, texts, batch_size: int | None = None,
                    progress: bool | None = None) -> Embeddings:
        """Embed captions/prompts with the CLIP text tower -> (n, d_clip)."""
        items = _texts(texts)
        out = []
        for chunk in _batches(items, batch_size or self.batch_size, progress, "CLIP text"):
            tok = self.tokenizer(list(chunk)).to(self.device)
            out.append(F.normalize(self.model.encode_text(tok).float(), dim=-1).cpu())
        return Embeddings(torch.cat(out), self.space, items)


@dataclass
class ClapEncoder:
    """A transformers ``ClapModel`` with its feature extractor and tokenizer.

    Audio is read at the encoder's ``sampling_rate`` (48 kHz for HTSAT CLAP), mixed to mono,
    cropped to the first ``max_length_s`` seconds (deterministic: the feature extractor would
    otherwise pick a *random* crop) and repeat-padded when shorter, as CLAP was trained.
    """

    model: torch.nn.Module
    feature_extractor: object
    tokenizer: object
    space: Space
    device: torch.device
    dtype: torch.dtype = torch.float32
    batch_size: int = 8
    source: dict = field(default_factory=dict)

    @property
    def sampling_rate(self) -> int:
        return int(self.feature_extractor.sampling_rate)

    @property
    def max_length_s(self) -> float:
        return self.feature_extractor.nb_max_samples / self.sampling_rate

    @torch.no_grad()
    def encode_audio(self, audios, batch_size: int | None = None, progress: bool | None = None,
                     orig_sr: int | None = None) -> Embeddings:
        """Embed audio clips.

        Args:
            audios: a path (wav/flac/ogg/mp3, any rate, mono or stereo), a ``(wave, sr)`` tuple,
                or a sequence of them; bare arrays need ``orig_sr``.
        Returns:
            Embeddings (n, d_clap).
        """
        items = [audios] if isinstance(audios, (str, Path, tuple)) or (
            isinstance(audios, np.ndarray) and audios.ndim == 1) else list(audios)
        if not items:
            raise MediaError("no audio to encode (got an empty list)")
        names = _names(items, "audio")
        out = []
        for idx in _batches(range(len(items)), batch_size or self.batch_size, progress,
                            "CLAP audio"):
            waves = [self._load(items[i], names[i], orig_sr) for i in idx]
            out.append(self.audio_features(waves))
        return Embeddings(torch.cat(out), self.space, names)

    def _load(self, x, name: str, orig_sr: int | None) -> np.ndarray:
        kw = {"orig_sr": orig_sr} if orig_sr is not None and not isinstance(x, (str, Path, tuple))\
            else {}
        wave = media.load_audio(x, sampling_rate=self.sampling_rate, mono=True, name=name, **kw)
        return wave[: self.feature_extractor.nb_max_samples]

    @torch.no_grad()
    def audio_features(self, waves: list[np.ndarray]) -> torch.Tensor:
        """Mono float32 waves at ``sampling_rate`` -> (n, d_clap) normalised, on the CPU."""
        inputs = self.feature_extractor(waves, sampling_rate=self.sampling_rate,
                                        return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        inputs["input_features"] = inputs["input_features"].to(self.dtype)
        out = self.model.get_audio_features(**inputs)
        feats = getattr(out, "pooler_output", out)
        return F.normalize(feats.float(), dim=-1).cpu()

    @torch.no_grad()
    def encode_text(self, texts, batch_size: int | None = None,
                    progress: bool | None = None) -> Embeddings:
        """Embed prompts with the CLAP text tower -> (n, d_clap)."""
        items = _texts(texts)
        out = []
        for chunk in _batches(items, batch_size or 32, progress, "CLAP text"):
            tok = self.tokenizer(list(chunk), padding=True, truncation=True,
                                 max_length=self.tokenizer.model_max_length, return_tensors="pt")
            tok = {k: v.to(self.device) for k, v in tok.items() if k != "token_type_ids"}
            res = self.model.get_text_features(**tok)
            out.append(F.normalize(getattr(res, "pooler_output", res).float(), dim=-1).cpu())
        return Embeddings(torch.cat(out), self.space, items)


# --- functional forms ------------------------------------------------------------------------
def encode_images(encoder: ClipEncoder, images, **kw) -> Embeddings:
    return encoder.encode_images(images, **kw)


def encode_video(encoder: ClipEncoder, videos, **kw) -> Embeddings:
    return encoder.encode_video(videos, **kw)


def encode_audio(encoder: ClapEncoder, audios, **kw) -> Embeddings:
    return encoder.encode_audio(audios, **kw)


def encode_text(encoder: ClipEncoder | ClapEncoder, texts, **kw) -> Embeddings:
    return encoder.encode_text(texts, **kw)
