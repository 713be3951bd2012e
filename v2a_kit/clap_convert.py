"""laion_clap / AudioLDM CLAP checkpoints -> transformers ``ClapModel`` (HTSAT-tiny + RoBERTa).

The ``paper`` preset's CLAP is the one stored inside the original AudioLDM-S-full Lightning
checkpoint (keys ``cond_stage_model.model.*``: a laion_clap ``CLAP`` module, unfused HTSAT-tiny
audio + roberta-base text, 512-d joint space). LAION's own ``630k-audioset-best.pt`` has the same
architecture (another space). Both run here as transformers' ``ClapModel``, so laion_clap is not
needed at run time (offline, its import stalls and its tokenizers come out empty).

Sources:
- key mapping: transformers ``src/transformers/models/clap/convert_clap_original_pytorch_to_hf.py``
  (``KEYS_TO_MODIFY_MAPPING``, the ``_projection`` regex, the qkv split; its ``sequential``
  rule renames the ``*_transform`` MLPs, which ClapModel does not have: dropped here);
- keys that have no place in ``ClapModel``: diffusers
  ``scripts/convert_original_audioldm2_to_diffusers.py`` (``CLAP_KEYS_TO_IGNORE``), and laion_clap
  ``clap_module/factory.py::load_state_dict`` (deletes ``text_branch.embeddings.position_ids``);
- architecture: laion_clap ``clap_module/htsat.py::create_htsat_model`` ("tiny") and
  ``model_configs/HTSAT-tiny.json``; roberta-base's hub ``config.json``.

Loading: ``torch.load(weights_only=True)`` only. A Lightning checkpoint may also pickle non-tensor
objects (callback state, hyper-parameters) that the weights-only unpickler refuses. The real
``audioldm-s-full`` file could not be inspected here (no network), and neither AudioLDM's loader
(``torch.load(path)["state_dict"]``) nor diffusers' converter tells which classes it holds. So on
such a refusal the loader lists the file's globals with
``torch.serialization.get_unsafe_globals_in_checkpoint`` and allowlists exactly those names, via
``torch.serialization.safe_globals``, bound to an inert stand-in (:class:`_Opaque`) rather than
the real classes. No code from the file runs, modules torch blocks (``os``, ``sys``, ...) stay
blocked, and a stand-in that reaches the state dict is refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .errors import WeightsNotFoundError

if TYPE_CHECKING:
    import transformers

__all__ = ["AUDIOLDM_S_FULL_CKPT", "LAION_630K_AUDIOSET_BEST", "paper_clap_config",
           "paper_clap_feature_extractor", "extract_clap_state_dict",
           "convert_laion_clap_state_dict", "load_clap_model_from_laion_checkpoint"]

logger = logging.getLogger(__name__)

# Published copies (nothing here downloads them).
# audioldm pip package, audioldm/utils.py::get_metadata()["audioldm-s-full"]["url"]:
AUDIOLDM_S_FULL_CKPT = {"url": "https://zenodo.org/record/7600541/files/audioldm-s-full?download=1"}
# laion_clap/hook.py::CLAP_Module.load_ckpt (download_link + download_names[1]):
LAION_630K_AUDIOSET_BEST = {"repo_id": "lukewys/laion_clap", "filename": "630k-audioset-best.pt"}

CHECKPOINT_PREFIXES = ("cond_stage_model.model.", "module.")  # AudioLDM Lightning, DDP-saved LAION

# transformers' convert_clap_original_pytorch_to_hf.py: substring replacements, applied in order.
KEYS_TO_MODIFY_MAPPING = (
    ("text_branch", "text_model"), ("audio_branch", "audio_model.audio_encoder"),
    ("attn", "attention.self"), ("self.proj", "output.dense"),
    ("attention.self_mask", "attn_mask"), ("mlp.fc1", "intermediate.dense"),
    ("mlp.fc2", "output.dense"), ("norm1", "layernorm_before"), ("norm2", "layernorm_after"),
    ("bn0", "batch_norm"),
)

# laion keys with no counterpart in ClapModel, none on the embedding path:
IGNORED_KEYS = re.compile(
    r"audio_branch\.(spectrogram_extractor|logmel_extractor)\."  # STFT/mel kernels (frozen);
    # ClapFeatureExtractor computes the mel outside the model
    r"|audio_branch\.layers\.\d+\.blocks\.\d+\.attn_mask$"  # Swin shift mask: ClapModel recomputes
    # the same values (tests/test_clap_convert.py checks)
    r"|audio_branch\.(tscam_conv|head)\."  # AudioSet tagging head
    r"|(audio|text)_transform\."  # MLPs used only inside the training loss
    r"|text_branch\.embeddings\.position_ids$"  # buffer (arange); laion deletes it too
)


def paper_clap_config() -> transformers.ClapConfig:
    """``ClapConfig`` of laion_clap's unfused HTSAT-tiny + roberta CLAP (laion/clap-htsat-unfused).

    The audio values are laion_clap's ``create_htsat_model`` "tiny" (also ClapAudioConfig's
    defaults, spelled out). Text: roberta-base's config; ``layer_norm_eps=1e-5`` differs from
    ClapTextConfig's default 1e-12, which transformers' conversion script keeps (it sets only
    ``hidden_size``) — laion's RobertaModel uses 1e-5.
    """
    from transformers import ClapConfig
    text = dict(vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                intermediate_size=3072, hidden_act="gelu", max_position_embeddings=514,
                type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
                eos_token_id=2)
    audio = dict(spec_size=256, num_mel_bins=64, window_size=8, patch_size=4, patch_stride=[4, 4],
                 patch_embeds_hidden_size=96, depths=[2, 2, 6, 2],
                 num_attention_heads=[4, 8, 16, 32], hidden_size=768, mlp_ratio=4.0,
                 qkv_bias=True, layer_norm_eps=1e-5, enable_fusion=False)
    return ClapConfig(text_config=text, audio_config=audio, projection_dim=512,
                      projection_hidden_act="relu")


def paper_clap_feature_extractor(**kwargs) -> transformers.ClapFeatureExtractor:
    """``ClapFeatureExtractor`` matching laion's unfused front end (HTSAT-tiny.json: 48 kHz, 1024-pt
    FFT, hop 480, 64 mels, fmin 50, fmax 14000). Note ``frequency_min`` defaults to 0 there."""
    from transformers import ClapFeatureExtractor
    kw = dict(feature_size=64, sampling_rate=48_000, hop_length=480, fft_window_size=1024,
              max_length_s=10, frequency_min=50, frequency_max=14_000, truncation="rand_trunc",
              padding="repeatpad")
    return ClapFeatureExtractor(**(kw | kwargs))


def extract_clap_state_dict(checkpoint_obj) -> dict[str, torch.Tensor]:
    """The laion ``CLAP`` module's state dict inside a loaded checkpoint.

    Accepts a bare state dict or ``{"state_dict": ...}``; keys may carry ``cond_stage_model.model.``
    (AudioLDM Lightning checkpoint: every other key, UNet, VAE, EMA..., is ignored) or ``module.``
    (DDP-saved LAION checkpoint). Raises ``ValueError`` when no CLAP keys are found.
    """
    sd = checkpoint_obj.get("state_dict", checkpoint_obj) \
        if isinstance(checkpoint_obj, Mapping) else None
    if not isinstance(sd, Mapping):
        raise ValueError(f"expected a state dict or {{'state_dict': ...}}, got "
                         f"{type(checkpoint_obj).__name__}")
    for prefix in (*CHECKPOINT_PREFIXES, ""):
        sub = {k[len(prefix):]: v for k, v in sd.items()
               if isinstance(k, str) and k.startswith(prefix)}
        if any(k.startswith(("audio_branch.", "text_branch.")) for k in sub):
            bad = [k for k, v in sub.items() if not isinstance(v, torch.Tensor)]
            if bad:
                raise ValueError(f"CLAP entries that are not tensors: {bad[:5]}")
            return sub
    raise ValueError("no laion_clap CLAP weights found: expected keys 'audio_branch.*' and "
                     f"'text_branch.*', bare or under one of {CHECKPOINT_PREFIXES}")


def _rename(key: str) -> str:
    for old, new in KEYS_TO_MODIFY_MAPPING:
        key = key.replace(old, new)
    if m := re.match(r".*_projection\.(\d+)\.", key):  # nn.Sequential(Linear, ReLU, Linear)
        return key.replace(f"_projection.{m[1]}.", f"_projection.linear{1 if m[1] == '0' else 2}.")
    return key


def convert_laion_clap_state_dict(sd: dict[str, torch.Tensor], config=None
                                  ) -> dict[str, torch.Tensor]:
    """Rename a laion ``CLAP`` state dict (unprefixed, see :func:`extract_clap_state_dict`) to
    ``ClapModel``'s, split the audio ``qkv`` projections, and check it against ``config``.

    Raises ``ValueError`` listing keys that are unknown (neither mapped nor in
    :data:`IGNORED_KEYS`), missing, or of the wrong shape (e.g. a fused or HTSAT-base checkpoint).
    """
    from transformers import ClapModel
    config = config or paper_clap_config()
    with torch.device("meta"):  # the expected keys and shapes, without allocating weights
        expected = ClapModel(config).state_dict()
    out, source = {}, {}
    for key, value in sd.items():
        if IGNORED_KEYS.match(key):
            continue
        new = _rename(key)
        if ".qkv." in new:  # one Linear(dim, 3 * dim) in laion's WindowAttention: q, k, v rows
            for part, chunk in zip(("query", "key", "value"), value.chunk(3, dim=0)):
                out[new.replace("qkv", part)], source[new.replace("qkv", part)] = chunk, key
        else:
            out[new], source[new] = value, key
    # Deterministic buffers that recent laion/transformers no longer save.
    n_pos = config.text_config.max_position_embeddings
    out["text_model.embeddings.position_ids"] = torch.arange(n_pos).unsqueeze(0)
    out["text_model.embeddings.token_type_ids"] = torch.zeros(1, n_pos, dtype=torch.long)
    unknown = sorted(source[k] for k in out if k not in expected)
    missing = sorted(k for k in expected if k not in out)
    shapes = [f"{source[k]}: {tuple(v.shape)} (ClapModel wants {tuple(expected[k].shape)})"
              for k, v in out.items() if k in expected and v.shape != expected[k].shape]
    problems = [f"{what} ({len(ks)}): {', '.join(ks[:20])}{' ...' if len(ks) > 20 else ''}"
                for what, ks in (("unknown keys", unknown), ("missing keys", missing),
                                 ("wrong shapes", shapes)) if ks]
    if problems:
        raise ValueError("not an unfused HTSAT-tiny + roberta laion_clap state dict; "
                         + "; ".join(problems))
    return out


class _Opaque:
    """Inert stand-in for a non-tensor object a checkpoint pickles (see the module docstring)."""

    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = state


def _torch_load(path: Path):
    def unreadable(e: Exception) -> ValueError:
        return ValueError(f"{path} could not be read as a PyTorch checkpoint ({type(e).__name__}: "
                          f"{e}); is it truncated (an interrupted download?) or another format?")

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # zip/pickle/EOF errors: all mean "not a usable checkpoint"
        first = e
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:
        names = []
    if not names:
        raise unreadable(first) from None
    logger.info("%s: non-tensor objects %s read as inert stand-ins", path, names)
    try:
        with torch.serialization.safe_globals([(_Opaque, n) for n in names]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise unreadable(e) from None


def load_clap_model_from_laion_checkpoint(path, config=None) -> transformers.ClapModel:
    """A ``ClapModel`` (eval mode, float32, CPU) holding the CLAP of a laion_clap or AudioLDM file.

    Args:
        path: ``630k-audioset-best.pt`` (or another unfused HTSAT-tiny laion_clap checkpoint) or the
            original AudioLDM Lightning checkpoint (e.g. ``audioldm-s-full``).
        config: defaults to :func:`paper_clap_config`.

    Raises:
        WeightsNotFoundError: ``path`` does not exist.
        ValueError: the file is unreadable (truncated, not a checkpoint) or holds no compatible
            CLAP; the message names the file.
    """
    from transformers import ClapModel
    path, config = Path(path).expanduser(), config or paper_clap_config()
    if not path.is_file():
        raise WeightsNotFoundError(
            f"CLAP checkpoint {path} does not exist. Download it once (LAION: "
            f"{LAION_630K_AUDIOSET_BEST['filename']} from the hub repo "
            f"{LAION_630K_AUDIOSET_BEST['repo_id']}; AudioLDM-S-full: "
            f"{AUDIOLDM_S_FULL_CKPT['url']}) and pass its path; or use preset='pocket', which "
            "needs no download.")
    try:
        sd = convert_laion_clap_state_dict(extract_clap_state_dict(_torch_load(path)), config)
    except ValueError as e:
        raise ValueError(f"{path}: {e}" if str(path) not in str(e) else str(e)) from None
    with torch.device("meta"):
        model = ClapModel(config)
    sd = {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}
    model.load_state_dict(sd, strict=True, assign=True)
    return model.eval()
