"""The model registry: every model the kit can load, in one table, and the loaders over it.

In the style of open_clip's ``list_models`` / ``create_model``: each :class:`ModelEntry` names a
model, its kind (``clip``, ``clap``, ``audioldm``, ``mapper``, ``extractor``, ``direct``), the
:class:`~v2a_kit.spaces.Space` it embeds into (or conditions on), how it is built (``tiny``,
``pocket``, ``paper``, and whether the paper architecture can be built at random init) and the
builder that makes it. :func:`create_model` is the one factory; :func:`load_clip`,
:func:`load_clap`, :func:`load_audioldm`, :func:`load_mapper` and :func:`load_extractors` resolve
a preset to its model name (:mod:`v2a_kit.presets`) and call it. **Adding a model is adding one
entry** here; the builders (:mod:`v2a_kit.models`, :mod:`v2a_kit.pocket.models.loading`, ...) know
no names and no presets.

Besides the entries, any open_clip ``"ARCH/TAG"`` that open_clip knows loads as a CLIP (with its
published weights, or at random init): ``list_models("clip")`` lists the ones the kit uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .configs import TINY_SEED
from .errors import ConfigError, WeightsNotFoundError
from .mappers.common import MAPPER_KINDS, Mapper, load_mapper_folder
from .models.audioldm import PAPER_REPO, build_paper_audioldm, build_tiny_audioldm
from .models.clap import build_laion_clap, build_tiny_clap
from .models.clip import build_open_clip, build_tiny_clip
from .models.extractors import build_paper_extractors
from .pocket.models.direct import build_pocket_direct
from .pocket.models.extractors import build_pocket_extractors
from .pocket.models.loading import (
    build_pocket_audioldm,
    build_pocket_clap,
    build_pocket_clip,
    pocket_dir,
)
from .presets import default_preset, get_preset, list_presets
from .spaces import Space

__all__ = ["ModelEntry", "KINDS", "list_models", "get_model_entry", "create_model", "load_clip",
           "load_clap", "load_audioldm", "load_mapper", "load_extractors", "load_direct",
           "PAPER_CLAP_SPACE", "PAPER_CLIP_SPACE"]

# direct: a generator conditioned on CLIP image embeddings, trained without a mapper (the
# baseline of the paper's efficiency claim; v2a_kit.pocket.models.direct)
KINDS = ("clip", "clap", "audioldm", "mapper", "extractor", "direct")

# The paper's spaces. AudioLDM-S-full was trained on its own CLAP's embeddings: the CLAP entry
# and the AudioLDM entry share this space, so the paper CLAP's embeddings condition the paper
# generator (check_space verifies it on real weights).
PAPER_CLIP_SPACE = Space("clip", "open_clip/ViT-L-14", "openai", 768)
PAPER_CLAP_SPACE = Space("clap", "audioldm/clap-htsat-tiny", "audioldm-s-full", 512)
TINY_CLIP_SPACE = Space("clip", "open_clip/v2a-tiny-ViT", f"random-init:seed={TINY_SEED}", 32)
TINY_CLAP_SPACE = Space("clap", "transformers/ClapModel-tiny", f"random-init:seed={TINY_SEED}",
                        24)
POCKET_SPACE = "named by the build: pocket-build:<sha256 of its weights>"


@dataclass(frozen=True)
class ModelEntry:
    """One loadable model.

    Attributes:
        name: what ``load_*`` and presets call it.
        kind: one of :data:`KINDS`.
        build: ``"tiny"`` (random init, offline, for tests), ``"pocket"`` (trained by the kit,
            shipped in the package), ``"paper"`` (published weights, from a local copy or a hub).
        space: the space it embeds into (CLIP, CLAP) or is conditioned on (AudioLDM), when it is
            known without building it; ``None`` for pocket models (see ``space_note``).
        builder: ``builder(entry, **options) -> model``.
        random_init: whether ``random_init=True`` builds the architecture without weights.
        about: one line for people.
        options: fixed keyword arguments for the builder (e.g. the longest sound of a generator).
    """

    name: str
    kind: str
    build: str
    space: Space | None
    builder: Callable = field(repr=False)
    random_init: bool = False
    about: str = ""
    options: dict = field(default_factory=dict)

    @property
    def space_note(self) -> str:
        return str(self.space) if self.space is not None else POCKET_SPACE


def _open_clip(e, **kw):
    return build_open_clip(e.name, e.space, seed=TINY_SEED, **kw)


def _no_random_init(e, kw) -> dict:
    if kw.pop("random_init", False):
        raise ConfigError(f"random_init=True applies to the paper architectures; {e.name} is "
                          f"a {e.build} model" + (" (random init already)" if e.build == "tiny"
                                                  else ", trained and shipped with the package"))
    return kw


def _tiny_options(e, kw) -> dict:
    """A tiny model is random init already and has no weights to load."""
    kw = _no_random_init(e, kw)
    kw.pop("weights", None)
    return kw


def _tiny_clip(e, **kw):
    return build_tiny_clip(e.space, seed=TINY_SEED, **_tiny_options(e, kw))


def _tiny_clap(e, **kw):
    return build_tiny_clap(e.space, seed=TINY_SEED, **_tiny_options(e, kw))


def _tiny_audioldm(e, **kw):
    return build_tiny_audioldm(e.name, e.space, seed=TINY_SEED, **_tiny_options(e, kw))


def _pocket_clip(e, **kw):
    return build_pocket_clip(**_no_random_init(e, kw))


def _pocket_clap(e, **kw):
    return build_pocket_clap(**_no_random_init(e, kw))


def _pocket_audioldm(e, **kw):
    return build_pocket_audioldm(e.name, **_no_random_init(e, kw))


def _laion_clap(e, **kw):
    return build_laion_clap(e.name, e.space, seed=TINY_SEED, **kw)


def _paper_audioldm(e, **kw):
    return build_paper_audioldm(e.space, seed=TINY_SEED, **kw)


def _pocket_mapper(e, *, mapper_kind, weights=None, device=None, clip_space=None,
                   clap_space=None, random_init=False):
    _no_random_init(e, {"random_init": random_init})
    return load_mapper_folder(pocket_dir(weights) / "mappers" / mapper_kind, kind=mapper_kind,
                              clip_space=clip_space, clap_space=clap_space, device=device)


def _pocket_direct(e, **kw):
    return build_pocket_direct(e.name, **kw)


def _paper_extractors(e, **kw):
    return build_paper_extractors(**kw)


def _pocket_extractors(e, *, weights=None, device=None, random_init=False):
    if random_init:
        raise ConfigError("random_init=True applies to the paper architectures; the pocket "
                          "evaluators are trained and ship with the package")
    return build_pocket_extractors(weights, device)


_ENTRIES: dict[tuple[str, str], ModelEntry] = {}


def register(entry: ModelEntry) -> ModelEntry:
    """Add ``entry`` to the table (a name is unique within its kind)."""
    if entry.kind not in KINDS:
        raise ConfigError(f"model kind must be one of {KINDS}, got {entry.kind!r}")
    if (entry.kind, entry.name) in _ENTRIES:
        raise ConfigError(f"a {entry.kind} named {entry.name!r} is registered already")
    _ENTRIES[entry.kind, entry.name] = entry
    return entry


for _entry in (
    # --- CLIP: image (and text) -> the mapper's input space
    ModelEntry("tiny-clip", "clip", "tiny", TINY_CLIP_SPACE, _tiny_clip,
               about="open_clip ViT at tiny size (configs/open_clip/v2a-tiny-ViT.json)"),
    ModelEntry("pocket-clip", "clip", "pocket", None, _pocket_clip,
               about="open_clip ModifiedResNet trained on the pocket world"),
    ModelEntry("ViT-L-14/openai", "clip", "paper", PAPER_CLIP_SPACE, _open_clip, True,
               about="the paper's CLIP: open_clip ViT-L-14, OpenAI's weights"),
    ModelEntry("ViT-B-32/openai", "clip", "paper", Space("clip", "open_clip/ViT-B-32", "openai",
                                                         512), _open_clip, True,
               about="the CS judge's image encoder (Wav2CLIP was trained into its space)"),
    # --- CLAP: audio (and text) -> the generator's condition space
    ModelEntry("tiny-clap", "clap", "tiny", TINY_CLAP_SPACE, _tiny_clap,
               about="transformers ClapModel at tiny size (configs/clap-tiny.json)"),
    ModelEntry("pocket-clap", "clap", "pocket", None, _pocket_clap,
               about="transformers ClapModel trained on the pocket world"),
    ModelEntry("audioldm-s-full-clap", "clap", "paper", PAPER_CLAP_SPACE, _laion_clap, True,
               about="the CLAP inside AudioLDM-S-full (HTSAT-tiny + RoBERTa), converted"),
    ModelEntry("laion-630k-audioset-best", "clap", "paper",
               Space("clap", "laion/clap-htsat-tiny", "630k-audioset-best", 512), _laion_clap,
               True, about="LAION's CLAP checkpoint of the same architecture: another space"),
    # --- AudioLDM: CLAP embedding -> waveform
    ModelEntry("tiny-audioldm", "audioldm", "tiny", TINY_CLAP_SPACE, _tiny_audioldm,
               about="diffusers AudioLDM parts at tiny size, the tiny CLAP's text tower"),
    ModelEntry("pocket-audioldm", "audioldm", "pocket", None, _pocket_audioldm,
               about="AudioLDM trained on the pocket world (power-pool latents, Griffin-Lim)"),
    ModelEntry(PAPER_REPO, "audioldm", "paper", PAPER_CLAP_SPACE, _paper_audioldm, True,
               about="AudioLDM-S-full-v2 (diffusers snapshot), trained on 10.24-s clips",
               options={"length_limit_s": 10.24}),
    # --- mappers shipped with a preset (any trained checkpoint folder loads too)
    *(ModelEntry(f"pocket-{k}", "mapper", "pocket", None, _pocket_mapper,
                 about=f"the {k} mapper trained on pocket pairs", options={"mapper_kind": k})
      for k in sorted(MAPPER_KINDS)),
    # --- evaluation extractors (the FD, FAD and CS roles)
    ModelEntry("paper-extractors", "extractor", "paper", None, _paper_extractors, True,
               about="PANNs CNN14 (FD, KL, IS), VGGish (FAD), Wav2CLIP + CLIP ViT-B/32 (CS)"),
    ModelEntry("pocket-extractors", "extractor", "pocket", None, _pocket_extractors,
               about="the pocket tagger (FD, KL, IS) and audio-to-image evaluator (FAD, CS)"),
    # --- direct baselines: a generator trained on CLIP image embeddings (no weights ship:
    # folder= one trained by benchmarks/bench_efficiency.py, or random_init=True)
    ModelEntry("pocket-direct", "direct", "pocket", None, _pocket_direct, True,
               about="the pocket UNet conditioned on pocket-CLIP image embeddings (Im2Wav's "
                     "idea), decoded by the build's autoencoder and vocoder"),
):
    register(_entry)


def list_models(kind: str | None = None) -> list[str]:
    """Names of the registered models of ``kind`` (all kinds when None), sorted."""
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"model kind must be one of {KINDS}, got {kind!r}")
    return sorted(n for k, n in _ENTRIES if kind in (None, k))


def _is_open_clip_name(name: str) -> bool:
    return "/" in name and not name.startswith(("/", ".")) and name.count("/") == 1


def get_model_entry(name: str, kind: str) -> ModelEntry:
    """The entry of ``name``; any other open_clip ``"ARCH/TAG"`` is a CLIP entry made on the fly.

    Raises:
        ConfigError: an unknown name, listing the registered names of that kind.
    """
    if (kind, name) in _ENTRIES:
        return _ENTRIES[kind, name]
    if kind == "clip" and _is_open_clip_name(name):
        return ModelEntry(name, "clip", "paper", None, _open_clip, True, about="open_clip")
    label = {"clip": "CLIP", "clap": "CLAP", "audioldm": "AudioLDM"}.get(kind, kind)
    extra = " or an open_clip 'ARCH/TAG'" if kind == "clip" else ""
    raise ConfigError(f"unknown {label} {name!r}: give a preset ({', '.join(list_presets())}), "
                      f"one of {list_models(kind)}{extra}")


def create_model(name: str, kind: str, **options):
    """Build the registered model ``name`` of ``kind`` — the one factory behind every loader.

    ``options`` go to its builder: ``device``, ``dtype`` (CLIP, AudioLDM), ``weights`` (a local
    copy), ``random_init`` (paper architectures only).
    """
    entry = get_model_entry(name, kind)
    return entry.builder(entry, **entry.options, **options)


def _resolve(preset_or_name: str | None, kind: str) -> str:
    """A preset name -> its model of ``kind``; any other string is a model name."""
    name = preset_or_name or default_preset()
    if name in list_presets():
        return getattr(get_preset(name), kind)
    return name


def load_clip(preset_or_name: str | None = None, *, device=None, dtype=None, weights=None,
              random_init: bool = False):
    """Load a CLIP encoder (:class:`~v2a_kit.encoders.ClipEncoder`).

    Args:
        preset_or_name: a preset (``"pocket"``, ``"paper"``, ``"tiny"``), a registered CLIP
            (:func:`list_models` ``("clip")``) or any open_clip ``"ARCH/TAG"`` (e.g.
            ``"ViT-B-32/openai"``); ``None`` = the default preset.
        device: ``None`` = the best available (CUDA, MPS, CPU).
        dtype: ``None`` = float16 on CUDA, float32 elsewhere.
        weights: a local file (or folder holding it) to load instead of the hub's copy; for
            ``pocket``, a build folder.
        random_init: build the paper architecture with random weights (seed ``TINY_SEED``)
            instead of loading any: real shapes and code paths, offline, for tests and timing.
    """
    return create_model(_resolve(preset_or_name, "clip"), "clip", device=device, dtype=dtype,
                        weights=weights, random_init=random_init)


def load_clap(preset_or_name: str | None = None, *, device=None, weights=None,
              random_init: bool = False):
    """Load a CLAP encoder (:class:`~v2a_kit.encoders.ClapEncoder`, transformers ``ClapModel``),
    float32 on every device.

    Args:
        preset_or_name: a preset, or one of ``"audioldm-s-full-clap"`` (the CLAP AudioLDM-S-full
            was trained with: the ``paper`` preset's), ``"laion-630k-audioset-best"`` (LAION's
            checkpoint of the same architecture: **another space**), ``"tiny-clap"``,
            ``"pocket-clap"``.
        weights: a local copy of the checkpoint (file or folder); for ``pocket``, a build folder.
        random_init: the paper architecture with random weights, offline (the text is then
            tokenised byte-wise: the real RoBERTa vocabulary is a download too).
    """
    return create_model(_resolve(preset_or_name, "clap"), "clap", device=device, weights=weights,
                        random_init=random_init)


def load_audioldm(preset_or_name: str | None = None, *, device=None, dtype=None, weights=None,
                  random_init: bool = False):
    """Load an AudioLDM generator (:class:`~v2a_kit.generation.AudioLDMGenerator`).

    Args:
        preset_or_name: a preset or a registered AudioLDM (``"cvssp/audioldm-s-full-v2"``,
            ``"pocket-audioldm"``, ``"tiny-audioldm"``); ``None`` = the default preset.
        device: ``None`` = the best available (CUDA, MPS, CPU).
        dtype: ``None`` = float16 on CUDA, float32 elsewhere.
        weights: a local copy of the diffusers snapshot (the folder with unet/, vae/, ...); for
            ``pocket``, a build folder.
        random_init: the paper's architecture at random init (its space is then another one).

    Raises:
        WeightsNotFoundError: paper weights neither local, cached nor downloadable (in seconds).
    """
    return create_model(_resolve(preset_or_name, "audioldm"), "audioldm", device=device,
                        dtype=dtype, weights=weights, random_init=random_init)


def load_mapper(folder_or_name, *, kind: str | None = None, clip_space: Space | None = None,
                clap_space: Space | None = None, device=None, weights=None) -> Mapper:
    """Load a mapper, in eval mode.

    Args:
        folder_or_name: a checkpoint folder (``save_mapper``, ``v2a-kit train``), a preset
            (with ``kind``: the mapper of that kind shipped with it), or a registered mapper
            (:func:`list_models` ``("mapper")``, e.g. ``"pocket-diffusion"``).
        kind: insist on ``"regression"``, ``"diffusion"`` or ``"ridge"``.
        clip_space, clap_space: the spaces you will use it with (e.g. ``clip.space`` of your
            encoder); a checkpoint trained for other spaces is refused, naming both.
        weights: for a shipped mapper, the build folder it belongs to (the shipped one if None).
    Raises:
        WeightsNotFoundError: files missing, or no mapper ships with that preset.
        ConfigError: another kind, an unreadable config, or weights that do not match it.
        SpaceMismatchError: other spaces.
    """
    name = folder_or_name
    if isinstance(name, str) and name in list_presets():
        if get_preset(name).mappers is None:
            raise WeightsNotFoundError(
                f"no mapper ships with preset {name!r} (the paper's mapper weights are not "
                "published); train one: `v2a-kit embed` your pairs, then `v2a-kit train`")
        if kind not in MAPPER_KINDS:
            raise ConfigError(f"load_mapper({name!r}) needs kind= one of {sorted(MAPPER_KINDS)}")
        name = f"{get_preset(name).mappers}-{kind}"
    if isinstance(name, str) and ("mapper", name) in _ENTRIES:
        entry = _ENTRIES["mapper", name]
        if kind is not None and kind != entry.options["mapper_kind"]:
            raise ConfigError(f"{name} is a {entry.options['mapper_kind']} mapper; expected {kind}")
        return create_model(name, "mapper", weights=weights, device=device,
                            clip_space=clip_space, clap_space=clap_space)
    if not isinstance(name, (str, os.PathLike)):
        raise ConfigError(f"load_mapper takes a folder, a preset or a registered mapper "
                          f"({list_models('mapper')}), got {type(name).__name__}")
    return load_mapper_folder(Path(name), kind=kind, clip_space=clip_space,
                              clap_space=clap_space, device=device)


def load_extractors(preset_or_name: str | None = None, *, random_init: bool = False, device=None,
                    weights=None):
    """The FD, FAD and CS extractors of a preset: what evaluation code calls.

    Args:
        preset_or_name: ``"pocket"`` (the shipped evaluators, offline), ``"paper"`` (PANNs
            CNN14, VGGish, Wav2CLIP + CLIP ViT-B/32), or a registered extractor set
            (:func:`list_models` ``("extractor")``); ``None`` = the default preset.
        random_init: ``paper`` only: the real architectures at random init, offline.
        device: ``None`` = the best available.
        weights: ``pocket``: a build folder. ``paper``: a folder holding the published files,
            or a mapping with keys ``"panns"``, ``"vggish"``, ``"wav2clip"``, ``"clip"``.
    Raises:
        WeightsNotFoundError: ``paper`` weights absent offline, in seconds, naming every
            missing file, where it was looked for, and what to do.
        ConfigError: a preset without evaluators (``tiny``), an unknown name.
    """
    name = preset_or_name or default_preset()
    if name in list_presets():
        if get_preset(name).extractors is None:
            raise ConfigError(f"no evaluators for preset {name!r}; expected one of "
                              f"{[p for p in list_presets() if get_preset(p).extractors]}")
        name = get_preset(name).extractors
    return create_model(name, "extractor", random_init=random_init, device=device,
                        weights=weights)


def load_direct(folder_or_name="pocket-direct", *, folder=None, clip_space=None, device=None,
                weights=None, random_init: bool = False):
    """Load a direct baseline (an :class:`~v2a_kit.generation.AudioLDMGenerator` conditioned on
    pocket-CLIP image embeddings: ``generate(direct, clip_embed)``).

    Args:
        folder_or_name: a checkpoint folder (``v2a-kit-direct-1``) or a registered direct
            baseline (:func:`list_models` ``("direct")``); ``folder``: its checkpoint then.
        clip_space: the space you will condition it with; another is refused, naming both.
        weights: the pocket build whose autoencoder, vocoder and schedule decode it.
        random_init: the untrained architecture (no folder).
    Raises:
        ConfigError: a mapper's checkpoint (naming both kinds), an unknown name.
    """
    from .spaces import check_same_space
    name = folder_or_name
    if isinstance(name, str) and ("direct", name) in _ENTRIES:
        gen = create_model(name, "direct", folder=folder, weights=weights, device=device,
                           random_init=random_init)
    elif isinstance(name, (str, os.PathLike)) and folder is None and not random_init:
        gen = build_pocket_direct("pocket-direct", folder=Path(name), weights=weights,
                                  device=device)
    else:
        raise ConfigError(f"load_direct takes a checkpoint folder or a registered direct "
                          f"baseline ({list_models('direct')}), got {name!r}")
    if clip_space is not None:
        check_same_space(clip_space, gen.space, "the direct baseline reads CLIP embeddings that")
    return gen
