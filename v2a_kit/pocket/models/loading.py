"""Building the pocket models from a pocket build (the folder ``v2a-kit pocket build`` writes).

``load_clip("pocket-clip", weights=DIR)``, ``load_clap("pocket-clap", weights=DIR)`` and
``load_audioldm("pocket-audioldm", weights=DIR)`` end here, through :mod:`v2a_kit.registry`.
``DIR`` defaults to the weights shipped inside the package (``v2a_kit/pocket/weights``).

A pocket model's space is named by its build: ``pocket-build:<sha256 of its weights file>`` —
two builds are two spaces, so a cache or a mapper from one is never used with the other.
pocket-CLIP and pocket-CLAP are checkpoint folders of :mod:`v2a_kit.checkpoints`
(``v2a-kit-pocket-clip-1`` / ``v2a-kit-pocket-clap-1``): their weights are checked against the
sha256 in their ``config.json`` before they load.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import torch

from ...devices import default_dtype, resolve_device, seeded
from ...encoders import ClapEncoder, ClipEncoder
from ...errors import WeightsNotFoundError
from ...generation import AudioLDMGenerator
from ...models.audioldm import assemble
from ...models.clap import clap_text_tower
from ...models.clip import register_kit_configs
from ...quiet import import_open_clip, open_clip_quietly
from ...spaces import Space
from ...tokenizers import check_tokenizer
from .generator import GriffinLimVocoder, PowerPoolAutoencoder

__all__ = ["pocket_dir", "check_world_version", "build_pocket_clip", "build_pocket_clap",
           "build_pocket_audioldm", "load_tagger", "load_audio_to_image", "load_onsets"]


def pocket_dir(weights=None) -> Path:
    """The build folder: ``weights`` if given, else the package's shipped weights."""
    folder = Path(weights).expanduser() if weights else Path(
        str(resources.files("v2a_kit") / "pocket" / "weights"))
    if not (folder / "build.json").is_file():
        raise WeightsNotFoundError(
            f"no pocket build in {folder} (build.json missing). Train one with "
            "`v2a-kit pocket build -o DIR` (minutes on a CPU) and pass weights=DIR")
    check_world_version(folder)
    return folder


def check_world_version(folder) -> None:
    """Refuse a build folder made for another version of the pocket world (its models would
    know other attributes and sounds). Builds before versions were recorded are version 1."""
    import json

    from ...errors import ConfigError
    from ..world.vocab import WORLD_VERSION
    path = Path(folder) / "build.json"
    try:
        version = json.loads(path.read_text()).get("world_version", 1)
    except (OSError, ValueError, AttributeError) as e:
        raise ConfigError(f"{path} is not a readable pocket build report ({e})") from None
    if version != WORLD_VERSION:
        raise ConfigError(
            f"{path.parent} is a pocket build of world version {version}, but this kit's pocket "
            f"world is version {WORLD_VERSION}: rebuild it with `v2a-kit pocket build -o DIR` "
            "(and `v2a-kit pocket mappers`)")


def _foundation_checkpoint(folder: Path, format: str, what: str):
    """(state dict, config) of a pocket build's pocket-CLIP or pocket-CLAP folder, its weights
    checked against the config's sha256; a folder of the layout before checkpoints were tagged
    (no ``format``) is refused with the command that rebuilds it."""
    from ...checkpoints import CONFIG, load_module
    from ...errors import ConfigError
    try:
        untagged = "format" not in json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError, TypeError):
        untagged = False  # load_module names what is wrong
    if untagged:
        raise ConfigError(
            f"{folder / CONFIG} is a {what} checkpoint written before checkpoints carried a "
            f"format tag; expected {format}: rebuild the folder with `v2a-kit pocket build -o "
            "DIR`")
    return load_module(folder, format=format, what=what)


def build_pocket_clip(*, weights=None, device=None, dtype=None) -> ClipEncoder:
    """pocket-CLIP (open_clip, ``configs/open_clip/pocket-clip.json``) of the build in
    ``weights`` (the shipped build when None)."""
    from ...checkpoints import POCKET_CLIP_FORMAT, WEIGHTS
    open_clip = import_open_clip()
    register_kit_configs()
    folder = pocket_dir(weights) / "clip"
    state, meta = _foundation_checkpoint(folder, POCKET_CLIP_FORMAT, "pocket-CLIP")
    checkpoint = f"pocket-build:{meta['sha256'][:16]}"
    # the random init is overwritten by the checkpoint; the caller's RNG is untouched
    with seeded(0), open_clip_quietly():
        model, _, preprocess = open_clip.create_model_and_transforms("pocket-clip")
    model.load_state_dict(state, strict=True)
    space = Space("clip", "open_clip/pocket-clip", checkpoint, model.text_projection.shape[1])
    dev = resolve_device(device)
    dt = dtype or default_dtype(dev)
    with open_clip_quietly():
        tokenizer = open_clip.get_tokenizer("pocket-clip")
    return ClipEncoder(model.to(dev, dt).eval(), preprocess, tokenizer, space, dev, dt,
                       source={"file": str(folder / WEIGHTS)})


def _clap_tokenizer(folder: Path):
    from transformers import PreTrainedTokenizerFast
    tok = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), bos_token="<s>",
                                  eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
                                  mask_token="<mask>", model_max_length=77)
    check_tokenizer(tok, f"pocket-CLAP tokenizer in {folder}")
    return tok


def clap_parts(weights):
    """(ClapModel, feature extractor, tokenizer, space, source) of pocket-CLAP."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    from ...checkpoints import POCKET_CLAP_FORMAT, WEIGHTS
    folder = pocket_dir(weights) / "clap"
    state, c = _foundation_checkpoint(folder, POCKET_CLAP_FORMAT, "pocket-CLAP")
    checkpoint = f"pocket-build:{c['sha256'][:16]}"
    with torch.device("meta"):
        model = ClapModel(ClapConfig(text_config=c["text_config"], audio_config=c["audio_config"],
                                     projection_dim=c["projection_dim"]))
    model.load_state_dict(state, strict=True, assign=True)
    model.eval()
    fe = ClapFeatureExtractor(**c["feature_extractor"])
    space = Space("clap", "transformers/ClapModel-pocket", checkpoint, c["projection_dim"])
    return model, fe, _clap_tokenizer(folder), space, {"file": str(folder / WEIGHTS)}


def build_pocket_clap(*, weights=None, device=None) -> ClapEncoder:
    """pocket-CLAP (transformers ``ClapModel``) of the build in ``weights``, float32."""
    model, fe, tok, space, source = clap_parts(weights)
    dev = resolve_device(device)
    return ClapEncoder(model.to(dev).eval(), fe, tok, space, dev, torch.float32, source=source)


def build_pocket_audioldm(name: str, *, weights=None, device=None,
                          dtype=None) -> AudioLDMGenerator:
    """pocket-AudioLDM of the build in ``weights``: its UNet, the power-pool autoencoder and the
    Griffin-Lim vocoder, with pocket-CLAP's text tower as its text encoder (so it is conditioned
    in pocket-CLAP's space). Its default ``guidance_rescale`` is the one the build calibrated
    (``build.json``'s ``generator``; 0 while a build is being calibrated)."""
    from diffusers import DDIMScheduler, UNet2DConditionModel
    build = json.loads((pocket_dir(weights) / "build.json").read_text())
    folder = pocket_dir(weights) / "audioldm"
    clap, _, tok, space, _ = clap_parts(weights)
    parts = dict(
        unet=UNet2DConditionModel.from_pretrained(folder / "unet"),
        vae=PowerPoolAutoencoder.from_config(PowerPoolAutoencoder.load_config(folder / "vae")),
        vocoder=GriffinLimVocoder.from_config(GriffinLimVocoder.load_config(folder / "vocoder")),
        text_encoder=clap_text_tower(clap), tokenizer=tok,
        scheduler=DDIMScheduler.from_config(DDIMScheduler.load_config(folder / "scheduler")))
    gen = assemble(parts, space, device, dtype, name, {"folder": str(folder)})
    gen.guidance_rescale = float(build.get("generator", {}).get("guidance_rescale", 0.0))
    return gen


def load_tagger(weights=None):
    """The build's :class:`~v2a_kit.pocket.models.evaluators.PocketTagger` (the PANNs role), on the
    CPU, from ``evaluators/tagger`` of the build in ``weights`` (the shipped build when None)."""
    from .evaluators import load_evaluator
    return load_evaluator(pocket_dir(weights) / "evaluators" / "tagger", kind="PocketTagger")


def load_audio_to_image(weights=None):
    """The build's :class:`~v2a_kit.pocket.models.evaluators.PocketAudioToImage` (the Wav2CLIP role:
    audio into pocket-CLIP's image space, for CS), from ``evaluators/audio_to_image``."""
    from .evaluators import load_evaluator
    return load_evaluator(pocket_dir(weights) / "evaluators" / "audio_to_image",
                          kind="PocketAudioToImage")


def load_onsets(weights=None, clip_space=None):
    """The timing-aware variant's :class:`~v2a_kit.pocket.models.onsets.OnsetPredictor` (CPU), from
    ``onsets`` of the build in ``weights`` (the shipped build when None), written by
    ``v2a-kit pocket timing``; with ``clip_space``, refused unless it reads that space."""
    from .onsets import load_onset_predictor
    return load_onset_predictor(pocket_dir(weights) / "onsets", clip_space=clip_space)
