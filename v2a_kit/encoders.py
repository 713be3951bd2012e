"""CLIP image/text and CLAP audio/text encoders -> L2-normalised float32 (n, d) embeddings.

``load_clip`` returns a :class:`ClipEncoder` (an open_clip model and its preprocessing);
``load_clap`` returns a :class:`ClapEncoder` (a transformers ``ClapModel`` with its feature
extractor and tokenizer). Both encode in batches, without gradients, on the best device, with a
progress bar for long inputs, and return :class:`~v2a_kit.spaces.Embeddings` that carry their
space. The module-level ``encode_*`` functions are the same calls in functional form.
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
from .devices import default_dtype, resolve_device
from .errors import ConfigError, MediaError
from .presets import TINY_SEED, load_config, resolve_model_name
from .spaces import Embeddings, Space

__all__ = ["ClipEncoder", "ClapEncoder", "load_clip", "load_clap", "encode_images",
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


def _check_aggregate(aggregate) -> None:
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
        _check_aggregate(aggregate)
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
        _check_aggregate(aggregate)
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


# --- loaders ---------------------------------------------------------------------------------
def load_clip(preset_or_name: str | None = None, *, device=None, dtype: torch.dtype | None = None,
              weights=None, random_init: bool = False) -> ClipEncoder:
    """Load a CLIP encoder.

    Args:
        preset_or_name: a preset ('paper', 'tiny', ...) or an open_clip model as
            ``"ARCH/TAG"`` (e.g. ``"ViT-B-32/openai"``); ``None`` = the default preset.
        device: ``None`` = the best available (CUDA, MPS, CPU).
        dtype: ``None`` = float16 on CUDA, float32 elsewhere.
        weights: a local file (or folder holding it) to load instead of the hub's copy.
        random_init: build the named architecture with random weights (seed ``TINY_SEED``)
            instead of loading any: real shapes and code paths, offline, for tests and timing.
    """
    import open_clip

    name = resolve_model_name(preset_or_name, "clip")
    dev = resolve_device(device)
    dt = dtype or default_dtype(dev)
    if name == "pocket-clip":
        from .pocket.loading import clip_parts
        model, preprocess, tok, space, source = clip_parts(weights)
        model = model.to(dev, dt).eval()
        return ClipEncoder(model, preprocess, tok, space, dev, dt, source=source)
    if name == "tiny-clip":
        _register_configs()
        arch = "v2a-tiny-ViT"
        torch.manual_seed(TINY_SEED)
        model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=None)
        space = Space("clip", f"open_clip/{arch}", f"random-init:seed={TINY_SEED}",
                      model.text_projection.shape[1])
        source = {"kind": "random-init", "seed": TINY_SEED}
    elif "/" in name:
        arch, tag = name.split("/", 1)
        if arch not in open_clip.list_models():
            raise ConfigError(f"unknown open_clip architecture {arch!r} in {name!r}")
        cfg = open_clip.get_pretrained_cfg(arch, tag)
        if not cfg:
            raise ConfigError(f"open_clip has no pretrained tag {tag!r} for {arch}; known: "
                              f"{open_clip.list_pretrained_tags_by_model(arch)}")
        if random_init:
            torch.manual_seed(TINY_SEED)
            path, tag = None, f"random-init:seed={TINY_SEED}"
        else:
            path = _open_clip_weights(arch, tag, cfg, weights)
        model, _, preprocess = open_clip.create_model_and_transforms(
            arch, pretrained=str(path) if path else None,
            force_quick_gelu=bool(cfg.get("quick_gelu", False)),
            image_mean=cfg.get("mean"), image_std=cfg.get("std"),
            image_interpolation=cfg.get("interpolation"),
            image_resize_mode=cfg.get("resize_mode"))
        space = Space("clip", f"open_clip/{arch}", tag,
                      open_clip.get_model_config(arch)["embed_dim"])
        source = ({"kind": "random-init", "seed": TINY_SEED} if path is None
                  else {"kind": "pretrained", "file": str(path)})
    else:
        raise ConfigError(f"unknown CLIP {name!r}: give a preset or an open_clip 'ARCH/TAG'")
    model = model.to(dev, dt).eval()
    return ClipEncoder(model, preprocess, open_clip.get_tokenizer(
        "v2a-tiny-ViT" if name == "tiny-clip" else name.split("/")[0]), space, dev, dt,
        source=source)


def _register_configs() -> None:
    from importlib import resources

    import open_clip
    if "v2a-tiny-ViT" not in open_clip.list_models():
        open_clip.add_model_config(Path(str(resources.files("v2a_kit") / "configs" / "open_clip")))


def _open_clip_weights(arch: str, tag: str, cfg: dict, weights) -> Path:
    from .weights import hub_file
    hub = cfg.get("hf_hub", "")
    what = f"CLIP {arch} ({tag})"
    if not hub:
        raise ConfigError(f"{what}: open_clip lists no hub copy; pass weights= a local file")
    repo_id, filename = hub.rstrip("/"), "open_clip_model.safetensors"
    if hub.count("/") >= 2 and not hub.endswith("/"):
        repo_id, filename = hub.rsplit("/", 1)
    return hub_file(repo_id, filename, what=what, local=weights)


def load_clap(preset_or_name: str | None = None, *, device=None, weights=None,
              random_init: bool = False) -> ClapEncoder:
    """Load a CLAP encoder (transformers ``ClapModel``), float32 on every device.

    Args:
        preset_or_name: a preset, or one of ``"audioldm-s-full-clap"`` (the CLAP AudioLDM-S-full
            was trained with: the ``paper`` preset's), ``"laion-630k-audioset-best"`` (LAION's
            checkpoint of the same architecture: **another space**), ``"tiny-clap"``.
        weights: a local copy of the checkpoint (file or folder).
        random_init: build the named architecture with random weights, offline (the text is
            then tokenised byte-wise: the real RoBERTa vocabulary is a download too).
    """
    from transformers import ClapFeatureExtractor

    name = resolve_model_name(preset_or_name, "clap")
    dev = resolve_device(device)
    fe = ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad")
    if name == "tiny-clap":
        model = build_tiny_clap()
        from .tokenizers import byte_level_roberta_tokenizer
        tok = byte_level_roberta_tokenizer()
        space = tiny_clap_space(model)
        source = {"kind": "random-init", "seed": TINY_SEED}
    elif name == "pocket-clap":
        from .pocket.loading import clap_parts
        model, fe, tok, space, source = clap_parts(weights)
    elif name in PRETRAINED_CLAPS:
        from .clap_convert import paper_clap_feature_extractor
        model, tok, space, source = _load_pretrained_clap(name, weights, random_init)
        fe = paper_clap_feature_extractor()
    else:
        raise ConfigError(f"unknown CLAP {name!r}: give a preset or one of "
                          f"{sorted(PRETRAINED_CLAPS)}")
    return ClapEncoder(model.to(dev).eval(), fe, tok, space, dev, torch.float32, source=source)


# name -> (space model, space checkpoint, where the weights are published)
PRETRAINED_CLAPS = {
    "audioldm-s-full-clap": ("audioldm/clap-htsat-tiny", "audioldm-s-full"),
    "laion-630k-audioset-best": ("laion/clap-htsat-tiny", "630k-audioset-best"),
}


def _load_pretrained_clap(name: str, weights, random_init: bool):
    """HTSAT-tiny + RoBERTa CLAPs converted from laion_clap checkpoints (see clap_convert)."""
    from transformers import AutoTokenizer, ClapModel

    from .clap_convert import (
        AUDIOLDM_S_FULL_CKPT,
        LAION_630K_AUDIOSET_BEST,
        load_clap_model_from_laion_checkpoint,
        paper_clap_config,
    )
    from .generation import PAPER_CLAP_SPACE, PAPER_REPO
    from .tokenizers import byte_level_roberta_tokenizer, check_tokenizer
    from .weights import hub_file, hub_snapshot, url_file

    model_id, ckpt = PRETRAINED_CLAPS[name]
    if random_init:
        torch.manual_seed(TINY_SEED)
        model = ClapModel(paper_clap_config()).eval()
        space = Space("clap", model_id, f"random-init:seed={TINY_SEED}", 512)
        return (model, byte_level_roberta_tokenizer(), space,
                {"kind": "random-init", "seed": TINY_SEED})
    if name == "audioldm-s-full-clap":
        path = url_file(AUDIOLDM_S_FULL_CKPT["url"], "audioldm-s-full.ckpt",
                        what="the CLAP inside AudioLDM-S-full", local=weights)
        # AudioLDM's own RoBERTa tokenizer, from the diffusers copy of the same model
        tok_dir = hub_snapshot(PAPER_REPO, what="AudioLDM's RoBERTa tokenizer",
                               allow_patterns=["tokenizer/*"],
                               required=("tokenizer/tokenizer_config.json",)) / "tokenizer"
        space = PAPER_CLAP_SPACE
    else:
        path = hub_file(LAION_630K_AUDIOSET_BEST["repo_id"], LAION_630K_AUDIOSET_BEST["filename"],
                        what="LAION CLAP 630k-audioset-best", local=weights)
        tok_dir = hub_snapshot("FacebookAI/roberta-base", what="the RoBERTa tokenizer",
                               allow_patterns=["vocab.json", "merges.txt", "tokenizer*.json"],
                               required=("vocab.json", "merges.txt"))
        space = Space("clap", model_id, ckpt, 512)
    model = load_clap_model_from_laion_checkpoint(path)
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    tok.model_max_length = 77  # laion_clap's text length
    check_tokenizer(tok, f"tokenizer at {tok_dir}")
    return model, tok, space, {"kind": "pretrained", "file": str(path)}


def tiny_clap_space(model) -> Space:
    """The space of the `tiny` CLAP (shared by the tiny AudioLDM, whose text tower it is)."""
    return Space("clap", "transformers/ClapModel-tiny", f"random-init:seed={TINY_SEED}",
                 model.config.projection_dim)


def clap_text_tower(clap) -> torch.nn.Module:
    """A ``ClapTextModelWithProjection`` holding ``clap``'s text tower (copied weights).

    This is the class of AudioLDM's ``text_encoder`` in diffusers: a generator whose text
    encoder is its CLAP's own tower embeds prompts in that CLAP's space.
    """
    from transformers import ClapTextModelWithProjection
    text = ClapTextModelWithProjection(clap.config.text_config)
    tower = {k: v for k, v in clap.state_dict().items()
             if k.startswith(("text_model.", "text_projection."))}
    text.load_state_dict(tower, strict=True)
    return text.eval()


def build_tiny_clap() -> torch.nn.Module:
    """The `tiny` preset's ClapModel, random init with :data:`TINY_SEED` (deterministic)."""
    from transformers import ClapConfig, ClapModel
    c = load_config("clap-tiny.json")
    cfg = ClapConfig(text_config=c["text_config"], audio_config=c["audio_config"],
                     projection_dim=c["projection_dim"])
    torch.manual_seed(TINY_SEED)
    return ClapModel(cfg).eval()
