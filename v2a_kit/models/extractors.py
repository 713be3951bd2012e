"""The paper's audio judges, built from their published weights or at random init: PANNs
CNN14 (FD, KL, IS), VGGish (FAD) and Wav2CLIP with CLIP ViT-B/32 (CS).

Builders (layer 2): they know where each network's weights live and how to build an open_clip
image encoder; the interface the metrics use, :class:`~v2a_kit.evaluation.extractors.Extractors`,
sits below them in :mod:`v2a_kit.evaluation.extractors`. ``load_extractors("paper")`` of the
registry calls :func:`build_paper_extractors`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..configs import TINY_SEED
from ..errors import ConfigError, WeightsNotFoundError
from ..evaluation.extractors import (
    CS_IMAGE_CLIP,
    PANNS_CNN14_16K,
    RANDOM_INIT,
    VGGISH,
    WAV2CLIP,
    AudioExtractor,
    ClipScoreExtractor,
    Extractors,
    PublishedWeights,
    _build,
    load_checkpoint,
    load_into,
    locate,
)
from ..evaluation.networks import Cnn14, VGGish, Wav2CLIP, vggish_examples
from ..quiet import import_open_clip
from ..spaces import Space
from .clip import build_open_clip, open_clip_weights

__all__ = ["load_panns_cnn14", "load_vggish", "load_wav2clip", "build_paper_extractors"]


def _model_or_weights(cls, spec: PublishedWeights, weights, random_init: bool):
    """(model, checkpoint id, source, path or None): random init, or the published file."""
    if random_init:
        return _build(cls), RANDOM_INIT, {"kind": "random-init", "seed": TINY_SEED}, None
    path = locate(spec, weights)
    return _build(cls), path.name, {"kind": "pretrained", "file": str(path)}, path


def load_panns_cnn14(*, weights=None, random_init: bool = False, device=None,
                     batch_size: int = 16) -> AudioExtractor:
    """PANNs CNN14 16 kHz (FD features, KL/IS logits) from ``Cnn14_16k_mAP=0.438.pth``.

    Args:
        weights: the file, or a folder holding it; else ``$V2A_KIT_WEIGHTS``, the kit's cache,
            then Zenodo (when online).
        random_init: the real architecture at the kit's seed, offline (tests, timing).
    """
    model, ckpt_id, source, path = _model_or_weights(Cnn14, PANNS_CNN14_16K, weights, random_init)
    if path is not None:
        ckpt = load_checkpoint(path, PANNS_CNN14_16K.what)
        load_into(model, ckpt.get("model", ckpt), path, PANNS_CNN14_16K.what)
    space = Space("audio-features", "panns/Cnn14_16k", ckpt_id, 2048)
    return AudioExtractor("panns-cnn14-16k", model, space, 16000, forward=model, num_classes=527,
                          min_samples=Cnn14.MIN_SAMPLES, device=device, batch_size=batch_size,
                          source=source)


def load_vggish(*, weights=None, random_init: bool = False, device=None,
                batch_size: int = 16) -> AudioExtractor:
    """VGGish (FAD) from torchvggish's ``vggish-10086976.pth``; arguments as
    :func:`load_panns_cnn14`. ``fd_features`` gives one row per 0.96 s example."""
    model, ckpt_id, source, path = _model_or_weights(VGGish, VGGISH, weights, random_init)
    if path is not None:
        load_into(model, load_checkpoint(path, VGGISH.what), path, VGGISH.what)

    def frames(x):  # (b, samples) -> (b, k, 128)
        ex = vggish_examples(x)
        return model(ex.flatten(0, 1)).unflatten(0, ex.shape[:2])

    space = Space("audio-features", "vggish/embedding-prerelu", ckpt_id, 128)
    return AudioExtractor("vggish", model, space, 16000,
                          forward=lambda x: (frames(x).mean(1), None), frames=frames,
                          min_samples=VGGish.MIN_SAMPLES, device=device, batch_size=batch_size,
                          source=source)


def load_wav2clip(*, weights=None, clip_weights=None, image_encoder=None,
                  random_init: bool = False, device=None,
                  batch_size: int = 16) -> ClipScoreExtractor:
    """Wav2CLIP + open_clip ViT-B-32 (openai): CS as Im2Wav and V2A-Mapper compute it.

    Args:
        weights: ``Wav2CLIP.pt`` or a folder holding it.
        clip_weights: the ViT-B-32 openai weights (``open_clip_model.safetensors``) or a folder.
        image_encoder: a loaded :class:`~v2a_kit.encoders.ClipEncoder` to use instead (it must
            be ViT-B-32; ``clip_weights`` is then unused).
        random_init: both models at random init, offline.
    """
    model, ckpt_id, source, path = _model_or_weights(Wav2CLIP, WAV2CLIP, weights, random_init)
    if path is not None:
        state = load_checkpoint(path, WAV2CLIP.what)
        state = {k: v for k, v in state.get("state_dict", state).items()
                 if k.startswith(("audio_encoder.", "audio_transform."))
                 and not k.startswith("audio_encoder.fc.")}
        load_into(model, state, path, WAV2CLIP.what,
                   ignore_missing=("audio_encoder.spectrogram.window",))
    image = image_encoder or build_open_clip(CS_IMAGE_CLIP, None, device=device,
                                             dtype=torch.float32, weights=clip_weights,
                                             random_init=random_init, seed=TINY_SEED)
    if image.space.model != f"open_clip/{CS_IMAGE_CLIP.split('/')[0]}":
        raise ConfigError(f"image_encoder is {image.space}; Wav2CLIP maps audio into CLIP "
                          f"ViT-B-32's image space")
    audio_space = Space("audio-to-clip", "wav2clip/resnet18", ckpt_id, 512)
    return ClipScoreExtractor("wav2clip", model, audio_space, image, 16000, audio_fn=model,
                              min_samples=Wav2CLIP.MIN_SAMPLES, device=device,
                              batch_size=batch_size, source=source)


def _paper_weights(weights) -> dict:
    """``weights`` (None, a folder, or a mapping role -> path) -> per-model local paths, all
    looked up first, so one error names every missing file."""
    open_clip = import_open_clip()
    names = ("panns", "vggish", "wav2clip", "clip")
    if isinstance(weights, Mapping):
        unknown = set(weights) - set(names)
        if unknown:
            raise ConfigError(f"weights has keys {sorted(unknown)}; expected some of {names}")
        local = {n: weights.get(n) for n in names}
    else:
        local = dict.fromkeys(names, weights)
    found, errors = {}, []
    arch, tag = CS_IMAGE_CLIP.split("/")
    lookups = {"panns": lambda: locate(PANNS_CNN14_16K, local["panns"]),
               "vggish": lambda: locate(VGGISH, local["vggish"]),
               "wav2clip": lambda: locate(WAV2CLIP, local["wav2clip"]),
               "clip": lambda: open_clip_weights(
                   arch, tag, open_clip.get_pretrained_cfg(arch, tag), local["clip"])}
    for name, find in lookups.items():
        try:
            found[name] = find()
        except WeightsNotFoundError as e:
            errors.append(str(e))
    if errors:
        what_to_do = errors[0].partition("\nWhat to do:")[2]
        parts = "\n".join(f"- {e.partition(chr(10) + 'What to do:')[0]}" for e in errors)
        raise WeightsNotFoundError(f"the paper preset's evaluators need {len(errors)} weights "
                                   f"file(s) that are missing:\n{parts}\nWhat to do:{what_to_do}")
    return found


def build_paper_extractors(*, weights=None, random_init: bool = False,
                           device=None) -> Extractors:
    """The paper's evaluators in the three roles: PANNs CNN14 (``fd``), VGGish (``fad``),
    Wav2CLIP + CLIP ViT-B/32 (``cs``).

    Args:
        weights: a folder holding the published files, or a mapping with keys ``"panns"``,
            ``"vggish"``, ``"wav2clip"``, ``"clip"``; ``None``: ``$V2A_KIT_WEIGHTS``, the kit's
            cache, then the authors' URLs (when online).
        random_init: the real architectures at random init, offline (``weights`` unused).
        device: ``None`` = the best available.
    Raises:
        WeightsNotFoundError: weights absent offline, in seconds, naming every missing file,
            where it was looked for, and what to do.
    """
    paths = {} if random_init else _paper_weights(weights)
    kw = dict(random_init=random_init, device=device)
    return Extractors(fd=load_panns_cnn14(weights=paths.get("panns"), **kw),
                      fad=load_vggish(weights=paths.get("vggish"), **kw),
                      cs=load_wav2clip(weights=paths.get("wav2clip"),
                                       clip_weights=paths.get("clip"), **kw),
                      preset="paper")
