"""Module checkpoints: one folder holding ``model.safetensors`` and ``config.json``.

``config.json`` holds what the saver records about the module (its kind, its config, ...),
plus a ``format`` tag and the sha256 of ``model.safetensors``, so that weights that are
truncated, or that come from another save than the config, are refused. The folder is written
as one unit (:func:`v2a_kit.atomic.atomic_folder`): an interrupted save leaves the previous
checkpoint as it was. Nothing is pickled.

Formats, and the config field that names the module's kind in each:

- ``v2a-kit-mapper-1`` (``kind``): V2A-Mappers (:func:`v2a_kit.mappers.save_mapper`);
- ``v2a-kit-evaluator-1`` (``class``): the pocket evaluators
  (:func:`v2a_kit.pocket.models.evaluators.save_evaluator`). Evaluator configs written before the
  format tag existed have no ``format`` field; they are recognised by their ``class`` field;
- ``v2a-kit-onsets-1`` (``class``): the timing-aware variant's onset predictor
  (:func:`v2a_kit.pocket.models.onsets.save_onset_predictor`);
- ``v2a-kit-pocket-clip-1`` (``architecture``) and ``v2a-kit-pocket-clap-1`` (``class``): a
  pocket build's foundation models (``v2a-kit pocket build``; loaded by
  :mod:`v2a_kit.pocket.models.loading`, whose space names hold the weights' sha256);
- ``v2a-kit-direct-1`` (``kind``): the direct baseline, a pocket-AudioLDM UNet conditioned on
  pocket-CLIP image embeddings (:func:`v2a_kit.pocket.models.direct.save_direct`).

A checkpoint of one format given where another is expected is refused, naming both (a direct
baseline is no mapper, and a mapper no direct baseline).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import atomic_folder
from .errors import ConfigError, WeightsNotFoundError

if TYPE_CHECKING:  # the format's facts load no torch: the command line's checks read them
    import torch

__all__ = ["save_module", "load_module", "read_config", "read_weights", "WEIGHTS", "CONFIG",
           "MAPPER_FORMAT", "EVALUATOR_FORMAT", "ONSETS_FORMAT", "POCKET_CLIP_FORMAT",
           "POCKET_CLAP_FORMAT", "DIRECT_FORMAT", "FORMATS", "FORMAT_HOLDS"]

WEIGHTS, CONFIG = "model.safetensors", "config.json"
MAPPER_FORMAT, EVALUATOR_FORMAT = "v2a-kit-mapper-1", "v2a-kit-evaluator-1"
ONSETS_FORMAT = "v2a-kit-onsets-1"  # the timing-aware variant's onset predictor
POCKET_CLIP_FORMAT, POCKET_CLAP_FORMAT = "v2a-kit-pocket-clip-1", "v2a-kit-pocket-clap-1"
DIRECT_FORMAT = "v2a-kit-direct-1"  # the direct baseline: a generator conditioned on CLIP
# format -> its kind field
FORMATS = {MAPPER_FORMAT: "kind", EVALUATOR_FORMAT: "class", ONSETS_FORMAT: "class",
           POCKET_CLIP_FORMAT: "architecture", POCKET_CLAP_FORMAT: "class",
           DIRECT_FORMAT: "kind"}
# format -> what its checkpoints hold, in words (the refusal of one where another is expected)
FORMAT_HOLDS = {MAPPER_FORMAT: "a V2A-Mapper (CLIP image embedding -> CLAP audio embedding)",
                EVALUATOR_FORMAT: "a pocket evaluator",
                ONSETS_FORMAT: "an onset predictor",
                POCKET_CLIP_FORMAT: "a pocket build's pocket-CLIP",
                POCKET_CLAP_FORMAT: "a pocket build's pocket-CLAP",
                DIRECT_FORMAT: "a direct baseline (a generator conditioned on CLIP image "
                               "embeddings, no mapper)"}
_UNTAGGED = {"class": EVALUATOR_FORMAT}  # kind field of a config without a tag -> its format


def save_module(folder, state_dict: dict[str, torch.Tensor], config: dict, *,
                format: str) -> Path:
    """Write ``state_dict`` and ``config`` as a checkpoint folder of ``format``, as one unit.

    Args:
        folder: the checkpoint folder; replaced as a whole if it exists.
        state_dict: the module's tensors (moved to the CPU, made contiguous).
        config: JSON-able facts to keep in ``config.json``; must hold the kind field of
            ``format`` (:data:`FORMATS`). ``format`` and ``sha256`` are added.
    Returns:
        ``folder`` as a Path.
    """
    from safetensors.torch import save

    if format not in FORMATS:
        raise ConfigError(f"format={format!r}; expected one of {sorted(FORMATS)}")
    if FORMATS[format] not in config:
        raise ConfigError(f"a {format} config needs a {FORMATS[format]!r} field; got "
                          f"{sorted(config)}")
    data = save({k: v.detach().cpu().contiguous() for k, v in state_dict.items()})
    meta = {**config, "format": format, "sha256": hashlib.sha256(data).hexdigest()}
    text = json.dumps(meta, indent=2) + "\n"  # before any file is touched: JSON errors here
    folder = Path(folder)
    with atomic_folder(folder) as tmp:
        (tmp / WEIGHTS).write_bytes(data)
        (tmp / CONFIG).write_text(text)
    return folder


def read_config(folder, *, format: str | None = None, what: str = "module") -> dict:
    """The parsed ``config.json`` of a checkpoint folder, its ``format`` filled in.

    Checks that both files exist, that the config is a JSON object, and that its format is
    ``format`` (any known format when None) with that format's kind field.

    Args:
        what: what the checkpoint holds, for messages (``"mapper"``, ``"evaluator"``).
    Raises:
        WeightsNotFoundError: a file is missing (named). ConfigError: the config is not JSON,
        or of another or unknown format (names the file).
    """
    folder = Path(folder)
    cfg_file = folder / CONFIG
    for f in (cfg_file, folder / WEIGHTS):
        if not f.is_file():
            raise WeightsNotFoundError(f"{what} checkpoint file {f} is missing")
    try:
        meta = json.loads(cfg_file.read_text())
    except (ValueError, OSError) as e:
        raise ConfigError(f"{cfg_file} is not a v2a-kit {what} config ({type(e).__name__}: "
                          f"{e})") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{cfg_file} is not a v2a-kit {what} config: it holds a "
                          f"{type(meta).__name__}, expected a JSON object")
    tag = meta.get("format") or next((f for k, f in _UNTAGGED.items() if k in meta), None)
    if tag not in FORMATS:
        raise ConfigError(f"{cfg_file} has format {meta.get('format')!r}; expected "
                          f"{format or ' or '.join(sorted(FORMATS))}")
    if format is not None and tag != format:
        raise ConfigError(f"{cfg_file} is a {tag} checkpoint; expected a {format} ({what}): it "
                          f"holds {FORMAT_HOLDS[tag]}, not {FORMAT_HOLDS[format]}")
    if FORMATS[tag] not in meta:
        raise ConfigError(f"{cfg_file} is not a v2a-kit {what} config: no "
                          f"{FORMATS[tag]!r} field")
    return {**meta, "format": tag}


def read_weights(folder, meta: dict) -> dict[str, torch.Tensor]:
    """The tensors of ``folder/model.safetensors``, checked against ``meta["sha256"]``.

    Raises:
        WeightsNotFoundError: the file is missing. ConfigError: its sha256 differs from the
        config's (truncated, or written by another save), or it is not a safetensors file.
    """
    from safetensors.torch import load

    folder = Path(folder)
    w_file = folder / WEIGHTS
    try:
        data = w_file.read_bytes()
    except FileNotFoundError:
        raise WeightsNotFoundError(f"checkpoint file {w_file} is missing") from None
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        raise ConfigError(f"{w_file} does not match {folder / CONFIG} (sha256 differs): "
                          "truncated, or written by another save")
    try:
        return load(data)
    except Exception as e:  # safetensors' header errors
        raise ConfigError(f"{w_file} is not a readable safetensors file ({e})") from None


def load_module(folder, *, format: str | None = None,
                what: str = "module") -> tuple[dict[str, torch.Tensor], dict]:
    """(state_dict, config) of a checkpoint folder: :func:`read_config` + :func:`read_weights`."""
    meta = read_config(folder, format=format, what=what)
    return read_weights(folder, meta), meta
