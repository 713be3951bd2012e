"""Every check `v2a-kit generate` makes before a model is loaded, in a module that loads no
torch: a refused run ends within a second (``benchmarks/bench_startup.py`` measures it against
a bare ``python -c pass``) and leaves nothing behind.

- the settings (:func:`generate_settings`): the preset and the mapper exist and go together,
  and each number lies in its range — the command line's parser refuses what lies outside any
  generator's range (``--steps 0``), this module what lies outside the chosen one's
  (:data:`GENERATOR_FACTS`: ``--length 30`` for pocket-AudioLDM, which makes 1 s at most);
- every input (:func:`collect_inputs`): each image is opened and each video probed, a folder's
  files listed (files that are neither are skipped with a warning naming them);
- the outputs (:func:`plan_generation`): no two inputs write one file, the folder can be written
  (without creating it) and an earlier run in it had the same :class:`RunSettings`;
- with the ``pocket`` preset, whether each input looks like the pocket world
  (:func:`warn_outside_pocket`: one warning for the run, naming those that do not).

:mod:`v2a_kit.pipeline` and :mod:`v2a_kit.runs` use the same functions (and re-export them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .checkpoints import FORMAT_HOLDS, MAPPER_FORMAT
from .defaults import MAPPER_KIND_NAMES, TIMING_FPS
from .errors import ConfigError, MediaError
from .presets import default_preset, get_preset
from .settings import GenerateSettings

if TYPE_CHECKING:
    from PIL import Image

# The media readers (numpy, Pillow; PyAV for videos) are imported where inputs are read, so a
# refused option does not wait for them.

__all__ = ["RUN_DIR", "OPTION_NAMES", "RunSettings", "SettingsMismatchError", "GenerationPlan",
           "GeneratorFacts", "GENERATOR_FACTS", "collect_inputs", "source_stem",
           "plan_output_names", "check_outdir", "check_exists", "mapper_identity",
           "plan_generation", "generate_settings", "knows_only_pocket_world", "warn_outside_pocket"]

RUN_DIR = ".v2a-run"
# the command line's names of the settings a generator's range refuses
OPTION_NAMES = {"audio_length_in_s": "--length", "num_inference_steps": "--steps"}


@dataclass(frozen=True)
class GeneratorFacts:
    """What a registered generator allows, known before it is loaded: the shortest and longest
    sound it makes in one piece and its noise schedule's training steps (the most denoising
    steps a sampler can take). ``tests/test_preflight.py`` checks each against the loaded
    generator's own facts (``AudioLDMGenerator.min_length_s``, ``max_length_s``,
    ``scheduler.config.num_train_timesteps``)."""

    min_length_s: float
    max_length_s: float
    train_steps: int


# registered AudioLDM name -> its facts (a generator not listed is checked once loaded)
GENERATOR_FACTS = {
    "pocket-audioldm": GeneratorFacts(0.04, 1.0, 1000),
    "tiny-audioldm": GeneratorFacts(0.02, 1.0, 1000),
    "cvssp/audioldm-s-full-v2": GeneratorFacts(0.04, 10.24, 1000),
}


@dataclass
class Source:
    """One checked input: an opened image, or a probed video (its frames are read later)."""

    kind: str                       # "image" | "video"
    name: str                       # the path, or "image #i"
    image: Image.Image | None = None
    path: Path | None = None
    rel: Path | None = None         # path relative to the folder it was found in (for outputs)
    duration_s: float = 0.0


# --- inputs ------------------------------------------------------------------------------------
def collect_inputs(inputs, *, min_image_size: int = 8) -> list[Source]:
    """Images (PIL, arrays, files), video files and folders -> a list of checked sources.

    ``inputs`` is one of these or a list of them; an ``(n, h, w, c)`` array is ``n`` images.

    Folders are searched recursively; files in them that are not images or videos (audio,
    text, ...) are **skipped with a warning that names them**; hidden files are ignored. A file
    named explicitly must be an image or a video (``MediaError`` otherwise). Every image is
    opened and every video probed here, before any generation, so a corrupt or too-small input
    fails at once with its name and nothing is written.
    """
    import numpy as np

    from . import media
    batch = isinstance(inputs, np.ndarray) and inputs.ndim == 4  # (n, h, w, c), as CLIP takes
    items = list(inputs) if isinstance(inputs, (list, tuple)) or batch else [inputs]
    if not items:
        raise MediaError("no inputs: give images, video files or folders")
    out: list[Source] = []
    for k, x in enumerate(items):
        if isinstance(x, (str, os.PathLike)):
            p = Path(x)
            if p.is_dir():
                out += _from_folder(p, min_image_size)
            elif not p.exists():
                raise MediaError(f"{p}: no such file or directory; expected an image, a video "
                                 "or a folder of them")
            else:
                out.append(_from_file(p, p.name, min_image_size))
        else:
            name = f"image #{k}"
            out.append(Source("image", name, media.load_image(x, name=name,
                                                               min_size=min_image_size)))
    return out


def _from_file(p: Path, rel, min_image_size: int) -> Source:
    from . import media
    kind = media.media_kind(p)
    if kind == "image":
        return Source("image", str(p), media.load_image(p, min_size=min_image_size), p,
                       Path(rel))
    if kind == "video":
        info = media.probe_video(p)
        if info.num_frames < 1 or info.duration_s <= 0:
            raise MediaError(f"{p}: a video without frames (duration {info.duration_s:.3f} s); "
                             "expected at least one frame")
        if info.fps > 0 and info.duration_s < 1.0 / info.fps - 1e-6:
            raise MediaError(f"{p}: {info.duration_s:.3f} s is shorter than one frame interval "
                             f"({1 / info.fps:.3f} s at {info.fps:g} fps)")
        return Source("video", str(p), None, p, Path(rel), info.duration_s)
    raise MediaError(f"{p}: not an image or a video (suffix {p.suffix or 'none'!r}); expected "
                     f"one of {', '.join(sorted(media.IMAGE_EXTS | media.VIDEO_EXTS))}")


def _from_folder(root: Path, min_image_size: int) -> list[Source]:
    from . import media
    files = media.list_media(root, kinds=("image", "video"), warn_skipped=True)
    return [_from_file(f, f.relative_to(root), min_image_size) for f in files]


def source_stem(item, index: int) -> Path:
    """An input's output stem: its path (relative to the folder it was found in) without the
    suffix, or ``image_{index:03d}`` for an in-memory image."""
    if item.rel is not None:
        return item.rel.with_suffix("")
    return Path(f"image_{index:03d}")


def plan_output_names(entries, num_samples: int,
                      mux_videos: bool = True) -> list[tuple[int, int | None, Path]]:
    """:func:`output_names` from ``(name, kind, stem, path)`` per input, before anything is
    generated: what a sharded run plans from its checked sources. Clashes are refused."""
    n, plan = num_samples, []
    for i, (_, kind, stem, path) in enumerate(entries):
        for j in range(n):
            plan.append((i, j, stem.with_name(stem.name + (f"_s{j}" if n > 1 else "") + ".wav")))
        if kind == "video" and mux_videos:
            plan.append((i, None, stem.with_name(stem.name + "_v2a" + path.suffix.lower())))
    seen: dict[Path, int] = {}
    for i, _, rel in plan:
        if seen.setdefault(rel, i) != i:
            raise MediaError(f"inputs {entries[seen[rel]][0]} and {entries[i][0]} would both be "
                             f"written to {rel}; expected inputs with distinct names (rename one "
                             "or generate them in separate runs)")
    return plan


class SettingsMismatchError(ConfigError):
    """A run into a folder that holds a run made with other settings."""


# --- settings --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSettings:
    """Everything that decides a run's files; two runs into one folder must agree on all."""

    preset: str
    mapper: str                 # a preset's kind, or a checkpoint folder's weights digest
    scheduler: str
    num_inference_steps: int
    guidance_scale: float
    mapper_guidance_scale: float | None   # None: the mapper's own default
    seed: int
    num_samples: int
    num_frames: int
    aggregate: str
    audio_length_in_s: float | None  # None: the generator's default
    batch_size: int             # the chunk: batches decide the last bits of the floats
    mux_videos: bool
    timing: str = "none"        # "onsets": the timing-aware variant (pocket.models.onsets)

    def __post_init__(self):
        self.generate  # noqa: B018 -- checks every generation setting, naming a bad one

    @classmethod
    def of(cls, gen: GenerateSettings, *, preset: str, mapper: str,
           mux_videos: bool) -> RunSettings:
        """A run of ``gen`` with its steps resolved (a folder records the number it ran)."""
        fields = gen.to_dict()
        fields["num_inference_steps"] = gen.steps
        return cls(preset=preset, mapper=mapper, mux_videos=mux_videos, **fields)

    @property
    def generate(self) -> GenerateSettings:
        """The generation's own settings (what ``V2APipeline.__call__`` takes)."""
        return GenerateSettings(**{f.name: getattr(self, f.name)
                                   for f in dataclasses.fields(GenerateSettings)})

    def to_dict(self) -> dict:
        """The settings; ``timing`` only when it is not ``"none"``, so that a plain run's
        record (and digest) is what it was before the option existed."""
        out = asdict(self)
        if out["timing"] == "none":
            del out["timing"]
        return out

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def differences(self, other: dict) -> list[str]:
        """``"name: old → new"`` for every setting ``other`` (a recorded run's) has otherwise."""
        mine, unset = self.to_dict(), {"timing": "none"}  # what an absent setting means
        keys = [*mine, *(k for k in other if k not in mine)]
        was = {k: other.get(k, unset.get(k, "<absent>")) for k in keys}
        now = {k: mine.get(k, unset.get(k, "<absent>")) for k in keys}
        return [f"{k}: {was[k]!r} (in the folder) vs {now[k]!r} (now)" for k in keys
                if was[k] != now[k]]


def mapper_identity(mapper: str | os.PathLike) -> str:
    """A preset's mapper kind as is; a checkpoint folder by its weights' sha256 (config.json)."""
    if isinstance(mapper, str) and mapper in MAPPER_KIND_NAMES:
        return mapper
    cfg = Path(mapper) / "config.json"
    try:
        meta = json.loads(cfg.read_text())
    except (OSError, ValueError) as e:
        kinds = ", ".join(MAPPER_KIND_NAMES)
        raise ConfigError(f"--mapper {mapper}: not a mapper kind ({kinds}) nor a checkpoint "
                          f"folder with a readable config.json ({e})") from None
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt is not None and fmt != MAPPER_FORMAT:  # e.g. a direct baseline: no mapper
        raise ConfigError(f"--mapper {mapper}: {cfg} is a {fmt} checkpoint; expected a "
                          f"{MAPPER_FORMAT} (mapper): it holds "
                          f"{FORMAT_HOLDS.get(fmt, 'another module')}, not "
                          f"{FORMAT_HOLDS[MAPPER_FORMAT]}")
    if not isinstance(meta, dict) or "sha256" not in meta:
        raise ConfigError(f"--mapper {mapper}: {cfg} records no weights digest (sha256); "
                          "expected a checkpoint written by v2a-kit train")
    return f"checkpoint:{meta['sha256'][:16]}"


def check_exists(paths, what: str) -> None:
    """Refuse the first of ``paths`` that does not exist, naming it and ``what`` was expected
    (the other commands' quick check, before they load a model)."""
    for p in map(Path, paths):
        if not p.exists():
            raise MediaError(f"{p}: no such file or directory; expected {what}")


# --- the output folder -----------------------------------------------------------------------
def check_outdir(outdir) -> Path:
    """Prove ``outdir`` can be written without creating it: an existing folder must be one and
    writable, else its nearest existing parent must be a writable folder. MediaError otherwise."""
    outdir = Path(outdir)
    probe = outdir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    why = None
    if not probe.is_dir():
        why = f"{probe} is not a folder"
    elif not os.access(probe, os.W_OK | os.X_OK):
        why = f"{probe} is not writable"
    if why:
        raise MediaError(f"{outdir}: cannot write there ({why}); expected a writable directory")
    return outdir


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _check_settings(outdir: Path, settings: RunSettings) -> None:
    have = read_json(outdir / RUN_DIR / "settings.json")
    if have is None or have.get("digest") == settings.digest:
        return
    diff = settings.differences(have.get("settings", {}))
    raise SettingsMismatchError(
        f"{outdir} holds a run made with other settings ({'; '.join(diff) or 'unreadable'}); "
        "expected the folder's settings (rerun with them to resume it) or another folder")


# --- planning (no model) ---------------------------------------------------------------------
@dataclass
class GenerationPlan:
    """What :func:`plan_generation` checked: the sources, each one's output files
    ``[(sample or None for a muxed video, relative path)]``, the settings and the folder."""

    sources: list
    files: list[list[tuple[int | None, Path]]]
    settings: RunSettings
    outdir: Path


def plan_generation(inputs, outdir, settings: RunSettings) -> GenerationPlan:
    """Every check of a run's inputs and outputs that needs no model: each input opened or
    probed (:func:`collect_inputs`), the output names (no clashes), the folder writable without
    creating it, an earlier run in it made with these settings.

    Raises:
        MediaError: an unreadable input or name clash (named), an unwritable folder.
        SettingsMismatchError: the folder holds a run with other settings (each one named).
    """
    outdir = check_outdir(outdir)
    _check_settings(outdir, settings)
    sources = collect_inputs(inputs)
    if settings.timing == "onsets":
        check_timing_inputs(sources)
    entries = [(s.name, s.kind, source_stem(s, i), s.path) for i, s in enumerate(sources)]
    files: list[list] = [[] for _ in sources]
    for i, j, rel in plan_output_names(entries, settings.num_samples, settings.mux_videos):
        files[i].append((j, rel))
    return GenerationPlan(sources, files, settings, outdir)




def check_timing_inputs(sources: list[Source], predictor_fps: int = TIMING_FPS) -> None:
    """``--timing onsets``: refuse, naming it, a video the onset predictor cannot read (no
    frames, a frame rate other than ``predictor_fps`` or a whole multiple, shorter than one
    note: ``pocket.world.timed.check_timing_video``), from its header, before any model is
    loaded."""
    from . import media
    from .pocket.world.timed import check_timing_video
    for s in sources:
        if s.kind == "video":
            info = media.probe_video(s.path)
            check_timing_video(s.name, info.fps, info.duration_s, info.num_frames,
                               predictor_fps)


# --- settings from the command line --------------------------------------------------------
def generate_settings(args) -> RunSettings:
    """``v2a-kit generate``'s settings, each checked against the chosen preset before any model
    is loaded (the parser has already refused numbers outside every generator's range).

    Raises:
        ConfigError: an unknown preset; a mapper kind the preset does not ship, or a folder
            that is not a checkpoint; ``--steps`` above the generator's training steps;
            ``--length`` outside the lengths it makes in one piece; ``--timing onsets`` with a
            preset that ships no onset predictor. Each names the option.
    """
    preset = get_preset(args.preset or default_preset())
    timing = getattr(args, "timing", "none")
    if timing == "onsets" and preset.clip != "pocket-clip":
        raise ConfigError(f"--timing onsets: the {preset.name} preset ships no onset predictor; "
                          "expected --preset pocket (its predictor reads pocket-CLIP) or "
                          "--timing none")
    if isinstance(args.mapper, str) and args.mapper in MAPPER_KIND_NAMES and not preset.mappers:
        raise ConfigError(f"--mapper {args.mapper}: the {preset.name} preset ships no mappers; "
                          "expected a checkpoint folder written by v2a-kit train")
    mapper = mapper_identity(args.mapper)
    gen = GenerateSettings(
        num_samples=args.num_samples, num_inference_steps=args.steps,
        guidance_scale=float(args.guidance), scheduler=args.scheduler,
        mapper_guidance_scale=None if args.mapper_guidance is None else float(args.mapper_guidance),
        num_frames=args.num_frames, seed=int(args.seed), audio_length_in_s=args.length,
        batch_size=args.batch_size, timing=timing)
    facts = GENERATOR_FACTS.get(preset.audioldm)
    if facts is not None:
        gen.check_generator(facts.min_length_s, facts.max_length_s, facts.train_steps,
                            name=preset.audioldm, options=OPTION_NAMES)
    return RunSettings.of(gen, preset=preset.name, mapper=mapper, mux_videos=not args.no_video)


# --- the pocket world's warning ------------------------------------------------------------
def knows_only_pocket_world(preset: str) -> bool:
    """Whether the preset's CLIP is pocket-CLIP, trained on the pocket world and nothing else."""
    return get_preset(preset).clip == "pocket-clip"


def _looked_at(source: Source) -> Image.Image:
    """What the likeness test reads of an input: the image, or a video's middle frame (the
    frame the pipeline shows for it)."""
    from . import media
    if source.kind == "image":
        return source.image
    return media.sample_video_frames(source.path, 1)[0]


def warn_outside_pocket(sources: list[Source], preset: str) -> list[str]:
    """With a preset whose CLIP knows only the pocket world, one
    :class:`~v2a_kit.errors.OutsideWorldWarning` naming the inputs that do not look like it
    (:mod:`v2a_kit.pocket.world.likeness`); returns their names (none for other presets)."""
    if not knows_only_pocket_world(preset):
        return []
    from .pocket.world.likeness import outside_world, warn_outside
    names = outside_world((s.name, _looked_at(s)) for s in sources)
    warn_outside(names)
    return names
