"""Building CLAP encoders (transformers ``ClapModel``): converted laion_clap checkpoints, random
init, the ``tiny`` CLAP; and the text tower an AudioLDM shares with its CLAP.

Every builder returns a :class:`~v2a_kit.encoders.ClapEncoder` (float32 on every device: CLAP is
small and its audio front end is sensitive to half precision). The space each one embeds into is
given by the caller (:mod:`v2a_kit.registry`).
"""

from __future__ import annotations

import torch

from ..clap_convert import (
    AUDIOLDM_S_FULL_CKPT,
    LAION_630K_AUDIOSET_BEST,
    load_clap_model_from_laion_checkpoint,
    paper_clap_config,
    paper_clap_feature_extractor,
)
from ..configs import load_config
from ..devices import resolve_device, seeded
from ..encoders import ClapEncoder
from ..errors import ConfigError
from ..spaces import Space
from ..tokenizers import byte_level_roberta_tokenizer, check_tokenizer
from ..weights import hub_file, hub_snapshot, url_file

__all__ = ["build_tiny_clap_model", "build_tiny_clap", "build_laion_clap", "clap_text_tower",
           "AUDIOLDM_REPO", "LAION_CLAP_CHECKPOINTS"]

# The diffusers copy of AudioLDM-S-full-v2: its tokenizer is the one AudioLDM's CLAP reads.
AUDIOLDM_REPO = "cvssp/audioldm-s-full-v2"
# registry name -> the laion_clap checkpoint it is converted from
LAION_CLAP_CHECKPOINTS = ("audioldm-s-full-clap", "laion-630k-audioset-best")


def _encoder(model, fe, tok, space: Space, source: dict, device) -> ClapEncoder:
    dev = resolve_device(device)
    return ClapEncoder(model.to(dev).eval(), fe, tok, space, dev, torch.float32, source=source)


def _default_feature_extractor():
    from transformers import ClapFeatureExtractor
    return ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad")


def build_tiny_clap_model(seed: int = 0) -> torch.nn.Module:
    """The ``tiny`` ClapModel (``configs/clap-tiny.json``) at random init from ``seed``."""
    from transformers import ClapConfig, ClapModel
    c = load_config("clap-tiny.json")
    cfg = ClapConfig(text_config=c["text_config"], audio_config=c["audio_config"],
                     projection_dim=c["projection_dim"])
    with seeded(seed):
        return ClapModel(cfg).eval()


def build_tiny_clap(space: Space, *, seed: int = 0, device=None) -> ClapEncoder:
    """The ``tiny`` CLAP encoder: real code paths, noise out; text tokenised byte-wise."""
    model = build_tiny_clap_model(seed)
    if model.config.projection_dim != space.dim:
        raise ConfigError(f"configs/clap-tiny.json embeds into {model.config.projection_dim} "
                          f"dimensions, its registered space {space} into {space.dim}")
    return _encoder(model, _default_feature_extractor(), byte_level_roberta_tokenizer(), space,
                    {"kind": "random-init", "seed": seed}, device)


def _laion_files(name: str, weights):
    """(checkpoint file, tokenizer folder) of a converted laion_clap CLAP."""
    if name == "audioldm-s-full-clap":
        path = url_file(AUDIOLDM_S_FULL_CKPT["url"], "audioldm-s-full.ckpt",
                        what="the CLAP inside AudioLDM-S-full", local=weights)
        # AudioLDM's own RoBERTa tokenizer, from the diffusers copy of the same model
        tok_dir = hub_snapshot(AUDIOLDM_REPO, what="AudioLDM's RoBERTa tokenizer",
                               allow_patterns=["tokenizer/*"],
                               required=("tokenizer/tokenizer_config.json",)) / "tokenizer"
        return path, tok_dir
    path = hub_file(LAION_630K_AUDIOSET_BEST["repo_id"], LAION_630K_AUDIOSET_BEST["filename"],
                    what="LAION CLAP 630k-audioset-best", local=weights)
    tok_dir = hub_snapshot("FacebookAI/roberta-base", what="the RoBERTa tokenizer",
                           allow_patterns=["vocab.json", "merges.txt", "tokenizer*.json"],
                           required=("vocab.json", "merges.txt"))
    return path, tok_dir


def build_laion_clap(name: str, space: Space, *, weights=None, random_init: bool = False,
                     seed: int = 0, device=None) -> ClapEncoder:
    """HTSAT-tiny + RoBERTa CLAPs converted from laion_clap checkpoints (see ``clap_convert``).

    Args:
        name: one of :data:`LAION_CLAP_CHECKPOINTS`.
        weights: a local copy of the checkpoint (file or folder).
        random_init: the architecture at random init from ``seed``, offline; the text is then
            tokenised byte-wise (the real RoBERTa vocabulary is a download too).
    """
    if name not in LAION_CLAP_CHECKPOINTS:
        raise ConfigError(f"no laion_clap checkpoint is named {name!r}; known: "
                          f"{list(LAION_CLAP_CHECKPOINTS)}")
    from transformers import AutoTokenizer, ClapModel
    fe = paper_clap_feature_extractor()
    if random_init:
        with seeded(seed):
            model = ClapModel(paper_clap_config()).eval()
        return _encoder(model, fe, byte_level_roberta_tokenizer(),
                        space.with_checkpoint(f"random-init:seed={seed}"),
                        {"kind": "random-init", "seed": seed}, device)
    path, tok_dir = _laion_files(name, weights)
    model = load_clap_model_from_laion_checkpoint(path)
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    tok.model_max_length = 77  # laion_clap's text length
    check_tokenizer(tok, f"tokenizer at {tok_dir}")
    return _encoder(model, fe, tok, space, {"kind": "pretrained", "file": str(path)}, device)


def clap_text_tower(clap) -> torch.nn.Module:
    """A ``ClapTextModelWithProjection`` holding ``clap``'s text tower (copied weights).

    This is the class of AudioLDM's ``text_encoder`` in diffusers: a generator whose text
    encoder is its CLAP's own tower embeds prompts in that CLAP's space.
    """
    from transformers import ClapTextModelWithProjection
    with seeded(0):  # every weight is overwritten below; the caller's random stream is not used
        text = ClapTextModelWithProjection(clap.config.text_config)
    tower = {k: v for k, v in clap.state_dict().items()
             if k.startswith(("text_model.", "text_projection."))}
    text.load_state_dict(tower, strict=True)
    return text.eval()
