"""Loading a pocket build (the folder ``v2a-kit pocket build`` writes) through the kit's loaders.

``load_clip("pocket-clip", weights=DIR)``, ``load_clap("pocket-clap", weights=DIR)`` and
``load_audioldm("pocket-audioldm", weights=DIR)`` end here. ``DIR`` defaults to the weights
shipped inside the package (``v2a_kit/pocket/weights``) once they exist.

A pocket model's space is named by its build: ``pocket-build:<sha256 of its weights file>`` —
two builds are two spaces, so a cache or a mapper from one is never used with the other.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import torch

from ..errors import WeightsNotFoundError
from ..spaces import Space

__all__ = ["pocket_dir", "clip_parts", "clap_parts", "audioldm_parts", "load_tagger",
           "load_audio_to_image"]


def pocket_dir(weights=None) -> Path:
    """The build folder: ``weights`` if given, else the package's shipped weights."""
    folder = Path(weights).expanduser() if weights else Path(
        str(resources.files("v2a_kit") / "pocket" / "weights"))
    if not (folder / "build.json").is_file():
        raise WeightsNotFoundError(
            f"no pocket build in {folder} (build.json missing). Train one with "
            "`v2a-kit pocket build -o DIR` (minutes on a CPU) and pass weights=DIR")
    return folder


def _digest(path: Path) -> str:
    if not path.is_file():
        raise WeightsNotFoundError(f"pocket build file {path} is missing; rebuild the folder")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def clip_parts(weights=None):
    """(model, preprocess, tokenizer, space, source) of pocket-CLIP."""
    import open_clip

    from ..encoders import _register_configs
    _register_configs()
    file = pocket_dir(weights) / "clip" / "open_clip_model.safetensors"
    checkpoint = f"pocket-build:{_digest(file)}"
    model, _, preprocess = open_clip.create_model_and_transforms("pocket-clip",
                                                                 pretrained=str(file))
    space = Space("clip", "open_clip/pocket-clip", checkpoint, model.text_projection.shape[1])
    return model, preprocess, open_clip.get_tokenizer("pocket-clip"), space, {"file": str(file)}


def _clap_tokenizer(folder: Path):
    from transformers import PreTrainedTokenizerFast

    from ..tokenizers import check_tokenizer
    tok = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), bos_token="<s>",
                                  eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
                                  mask_token="<mask>", model_max_length=77)
    check_tokenizer(tok, f"pocket-CLAP tokenizer in {folder}")
    return tok


def clap_parts(weights=None):
    """(model, feature_extractor, tokenizer, space, source) of pocket-CLAP."""
    from safetensors.torch import load_file
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    folder = pocket_dir(weights) / "clap"
    file = folder / "model.safetensors"
    checkpoint = f"pocket-build:{_digest(file)}"
    c = json.loads((folder / "config.json").read_text())
    with torch.device("meta"):
        model = ClapModel(ClapConfig(text_config=c["text_config"], audio_config=c["audio_config"],
                                     projection_dim=c["projection_dim"]))
    model.load_state_dict(load_file(str(file)), strict=True, assign=True)
    model.eval()
    fe = ClapFeatureExtractor(**c["feature_extractor"])
    space = Space("clap", "transformers/ClapModel-pocket", checkpoint, c["projection_dim"])
    return model, fe, _clap_tokenizer(folder), space, {"file": str(file)}


def audioldm_parts(weights=None):
    """(parts dict for generation._assemble, space, source) of pocket-AudioLDM."""
    from diffusers import DDIMScheduler, UNet2DConditionModel

    from ..encoders import clap_text_tower
    from .generator import GriffinLimVocoder, PowerPoolAutoencoder
    folder = pocket_dir(weights) / "audioldm"
    clap, _, tok, space, _ = clap_parts(weights)
    parts = dict(
        unet=UNet2DConditionModel.from_pretrained(folder / "unet"),
        vae=PowerPoolAutoencoder.from_config(PowerPoolAutoencoder.load_config(folder / "vae")),
        vocoder=GriffinLimVocoder.from_config(GriffinLimVocoder.load_config(folder / "vocoder")),
        text_encoder=clap_text_tower(clap), tokenizer=tok,
        scheduler=DDIMScheduler.from_config(DDIMScheduler.load_config(folder / "scheduler")))
    return parts, space, {"folder": str(folder)}


def load_tagger(weights=None):
    """The build's :class:`~v2a_kit.pocket.evaluators.PocketTagger` (the PANNs role), on the CPU,
    from ``evaluators/tagger`` of the build in ``weights`` (the shipped build when None)."""
    from .evaluators import load_evaluator
    return load_evaluator(pocket_dir(weights) / "evaluators" / "tagger", kind="PocketTagger")


def load_audio_to_image(weights=None):
    """The build's :class:`~v2a_kit.pocket.evaluators.PocketAudioToImage` (the Wav2CLIP role:
    audio into pocket-CLIP's image space, for CS), from ``evaluators/audio_to_image``."""
    from .evaluators import load_evaluator
    return load_evaluator(pocket_dir(weights) / "evaluators" / "audio_to_image",
                          kind="PocketAudioToImage")
