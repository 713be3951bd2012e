"""From images and videos to sounds in one call: :class:`V2APipeline`.

    image / video frames ──CLIP──▶ clip_embed ──mapper──▶ pred_clap_embed ──AudioLDM──▶ waveform

The pipeline holds the three parts of one preset, checks at construction that they share their
spaces (the mapper reads the CLIP encoder's space and writes the generator's), and runs them in
batches, seeded so that a result does not depend on the batch size or on what else was in the
call: input ``i``'s sounds come from the generator seeded with ``seed + i`` — up to the float
rounding of batched forward passes (CLIP embeds the frames of all inputs together; a batch of
another size can round a CLIP row differently by ~1e-7, far below anything audible).

A call runs named steps, as diffusers' pipelines do: :meth:`~V2APipeline.check_settings`
(a :class:`~v2a_kit.settings.GenerateSettings` against this generator),
:meth:`~V2APipeline.prepare_inputs` (open every input: :class:`PreparedInput`),
:meth:`~V2APipeline.embed` (CLIP: :class:`EmbeddedInput`), :meth:`~V2APipeline.map` (the
mapper: :class:`MappedInput` and its :class:`Job` s), :meth:`~V2APipeline.generate` (AudioLDM:
a waveform per job) and :meth:`~V2APipeline.assemble` (one :class:`V2AItem` per input).

Videos: ``num_frames`` evenly spaced frames per segment are embedded and reduced to one
embedding by an aggregator of ``encoders.AGGREGATORS`` (the mean by default; the paper's
follow-up code uses 64 frames over a 10 s clip). A video no longer than the generator's limit
(``AudioLDMGenerator.max_length_s``: 10.24 s for AudioLDM-S, the trained 1.0 s for
pocket-AudioLDM) is one segment and gets one sound of its own length; a longer one is cut into
equal segments, each mapped from its own frames, generated, and joined with short crossfades —
so the soundtrack follows what is on screen. :func:`write_outputs` writes wav files for
everything and, for each video, a copy with the generated soundtrack muxed in.

Timing (``timing="onsets"``, the timing-aware variant, :mod:`v2a_kit.pocket.models.onsets`): the
same steps make the same sounds, and then a video's notes are moved to the onsets an onset predictor
reads from the CLIP embeddings of *every* frame (:meth:`~V2APipeline.time_onsets`, read at the
predictor's frame rate; a video it cannot read is refused before any frame is embedded). The
plain path (``timing="none"``, the default) does not change. Images have no time: they get
their plain sound either way.
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from . import media
from .defaults import DEFAULT_SCHEDULER, TIMING_MODES
from .devices import resolve_device
from .errors import ConfigError, MediaError, SpaceMismatchError
from .generation import (
    AudioLDMGenerator,
    PeakReport,
    generate,
    peak_warnings_off,
)
from .mappers.common import MAPPER_KINDS
from .pocket.world.likeness import POCKET_CLIP_MODEL, outside_world, warn_outside
from .preflight import Source, collect_inputs, plan_output_names, source_stem
from .presets import default_preset, get_preset
from .registry import load_audioldm, load_clip, load_mapper
from .settings import GenerateSettings, check_choice
from .spaces import Embeddings, check_same_space

__all__ = ["V2APipeline", "V2AItem", "V2AOutput", "collect_inputs", "write_outputs",
           "output_names", "plan_output_names", "check_writable", "source_stem",
           "PreparedInput", "EmbeddedInput", "MappedInput", "Job", "DEFAULT_SCHEDULER",
           "CROSSFADE_S"]

CROSSFADE_S = 0.05                  # overlap between the sounds of consecutive video segments


@dataclass
class V2AItem:
    """The sounds generated for one input.

    Attributes:
        source: the input's path, or ``"image #i"`` for an in-memory image.
        kind: ``"image"`` or ``"video"``.
        image: the image, or the middle frame of a video (for display).
        clip_embed: (num_segments, d_clip) — one row for an image.
        pred_clap_embed: (num_samples, num_segments, d_clap) what the mapper predicted.
        waveforms: (num_samples, samples) float32 at ``sampling_rate``.
        duration_s: the sound's length (the video's, for a video).
        segments: [(start_s, end_s)] of the video each row of ``clip_embed`` was taken from.
    """

    source: str
    kind: str
    image: Image.Image
    clip_embed: torch.Tensor
    pred_clap_embed: torch.Tensor
    waveforms: np.ndarray
    sampling_rate: int
    duration_s: float
    segments: list[tuple[float, float]] = field(default_factory=list)
    path: Path | None = None
    rel: Path | None = None
    onsets_s: np.ndarray | None = None    # timing="onsets": the predicted onsets the notes follow


@dataclass
class V2AOutput:
    """What :meth:`V2APipeline.__call__` returns: one :class:`V2AItem` per input, in order,
    and the settings that made them (everything needed to reproduce them)."""

    items: list[V2AItem]
    settings: dict

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i) -> V2AItem:
        return self.items[i]

    def __iter__(self):
        return iter(self.items)


def _segments(duration_s: float, max_len: float) -> list[tuple[float, float]]:
    n = max(1, math.ceil(duration_s / max_len - 1e-9))
    return [(duration_s * i / n, duration_s * (i + 1) / n) for i in range(n)]


def _join(waves: list[np.ndarray], hop: int, total: int, fade: int) -> np.ndarray:
    """Overlap-add segment sounds that start ``hop`` samples apart, with linear crossfades of
    ``fade`` samples (each segment was generated ``fade`` samples longer than ``hop``)."""
    out = np.zeros(hop * (len(waves) - 1) + len(waves[-1]), np.float32)
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
    for i, w in enumerate(waves):
        w = w.copy()
        if fade and i > 0:
            w[:fade] *= ramp
        if fade and i < len(waves) - 1:
            w[hop:hop + fade] *= 1.0 - ramp
        out[i * hop:i * hop + len(w)] += w
    return out[:total]


# --- the records passed between the pipeline's steps ------------------------------------------
@dataclass
class PreparedInput:
    """An input after :meth:`V2APipeline.prepare_inputs`: opened, and cut into the stretches
    that get a CLIP embedding and a sound each (one for an image)."""

    index: int                            # its position in the call; its seed is seed + index
    source: Source
    segments: list[tuple[float, float]]   # [(start_s, end_s)]; [(0, length)] for an image
    duration_s: float                     # its sound's length (a video's own length)
    piece_s: float                        # the length each segment's sound is generated at

    @property
    def kind(self) -> str:
        return self.source.kind


@dataclass
class EmbeddedInput:
    """An input after :meth:`V2APipeline.embed`."""

    clip: Embeddings                      # (num_segments, d_clip) in the CLIP encoder's space
    image: Image.Image                    # the image, or the video's middle sampled frame


@dataclass(frozen=True)
class Job:
    """One waveform to generate: sample ``sample`` of segment ``segment`` of input ``input``."""

    input: int
    sample: int
    segment: int
    length_s: float                       # jobs of one length are generated together
    noise_seed: int                       # seeds the generator of its initial noise


@dataclass
class MappedInput:
    """An input after :meth:`V2APipeline.map`: the mapper's CLAP embeddings and its jobs."""

    clap: Embeddings                      # (num_segments * num_samples, d_clap), by segment
    num_samples: int
    jobs: list[Job]                       # sample by sample, segment by segment

    @property
    def pred(self) -> torch.Tensor:
        """(num_samples, num_segments, d_clap)."""
        return self.clap.embeds.view(-1, self.num_samples, self.clap.shape[1]).transpose(0, 1)

    def condition(self, job: Job) -> torch.Tensor:
        """The CLAP embedding ``job`` is generated from."""
        return self.clap.embeds[job.segment * self.num_samples + job.sample]


# --- the pipeline ------------------------------------------------------------------------------
class V2APipeline:
    """CLIP encoder + V2A-Mapper + AudioLDM generator of one preset.

    Args:
        clip: a :class:`~v2a_kit.encoders.ClipEncoder`.
        mapper: a trained mapper (any kind) reading ``clip.space`` and writing ``audioldm.space``.
        audioldm: an :class:`~v2a_kit.generation.AudioLDMGenerator`.
        device: where the mapper runs (``None``: the generator's device).
        onsets: an :class:`~v2a_kit.pocket.models.onsets.OnsetPredictor` reading ``clip``'s space,
        for
            ``timing="onsets"`` (``None``: only the plain path).

    Raises:
        SpaceMismatchError: the mapper (or the onset predictor) reads or writes another space,
            naming both.
    """

    def __init__(self, clip, mapper, audioldm: AudioLDMGenerator, device=None, onsets=None):
        check_same_space(clip.space, mapper.clip_space,
                         "the mapper reads CLIP embeddings that")
        check_same_space(audioldm.space, mapper.clap_space,
                         "the mapper writes CLAP embeddings that")
        if onsets is not None and onsets.config.clip_space != str(clip.space):
            raise SpaceMismatchError(f"the onset predictor reads CLIP embeddings of "
                                     f"{onsets.config.clip_space}; the CLIP encoder writes "
                                     f"{clip.space}")
        self.clip, self.audioldm, self.onsets = clip, audioldm, onsets
        self.mapper = mapper.to(resolve_device(device) if device is not None
                                else audioldm.device).eval()

    @classmethod
    def from_preset(cls, preset: str | None = None, mapper: str | os.PathLike = "diffusion", *,
                    device=None, dtype: torch.dtype | None = None,
                    timing: str = "none") -> V2APipeline:
        """Load the preset's CLIP and AudioLDM and a mapper: a kind (``"diffusion"``,
        ``"regression"``: the mapper shipped with the preset) or a checkpoint folder; with
        ``timing="onsets"``, the preset's onset predictor too (the pocket preset ships one).

        ``device=None``: the best available; ``dtype=None``: float16 on CUDA for CLIP and
        AudioLDM (the mapper stays float32: it is small and its sampler sums many steps).
        """
        preset = preset or default_preset()
        check_choice("timing", timing, TIMING_MODES)
        if timing == "onsets" and get_preset(preset).clip != "pocket-clip":
            raise ConfigError(f"timing='onsets' with the {preset} preset: only the pocket "
                              "preset ships an onset predictor (`v2a-kit pocket timing`); "
                              "expected preset 'pocket' or timing='none'")
        clip = load_clip(preset, device=device, dtype=dtype)
        audioldm = load_audioldm(preset, device=device, dtype=dtype)
        if isinstance(mapper, str) and mapper in MAPPER_KINDS:
            m = load_mapper(preset, kind=mapper, clip_space=clip.space,
                            clap_space=audioldm.space)
        else:
            m = load_mapper(mapper, clip_space=clip.space, clap_space=audioldm.space)
        onsets = None
        if timing == "onsets":
            from .pocket.models.loading import load_onsets
            onsets = load_onsets(clip_space=clip.space)
        return cls(clip, m, audioldm, onsets=onsets)

    @property
    def knows_only_pocket_world(self) -> bool:
        """Whether its CLIP is pocket-CLIP, trained on the pocket world and nothing else: then a
        call warns about inputs that do not look like that world (one warning per call)."""
        return getattr(self.clip.space, "model", None) == POCKET_CLIP_MODEL

    @property
    def sampling_rate(self) -> int:
        return self.audioldm.sampling_rate

    @property
    def max_audio_length_s(self) -> float:
        """The longest sound generated in one piece (the generator's ``max_length_s``)."""
        return self.audioldm.max_length_s

    def describe(self) -> dict:
        return {"clip": str(self.clip.space), "mapper": self.mapper.kind,
                "clap": str(self.audioldm.space), "generator": self.audioldm.name,
                "device": str(self.audioldm.device), "dtype": str(self.audioldm.dtype)}

    # ------------------------------------------------------------------------------------------
    def check_settings(self, settings: GenerateSettings) -> None:
        """Refuse what this pipeline cannot do with ``settings`` (already checked on their own
        when made): a length outside the generator's range, more steps than its noise schedule
        has, ``timing="onsets"`` without an onset predictor. Each error names the setting."""
        if settings.timing == "onsets" and self.onsets is None:
            raise ConfigError("timing='onsets' needs an onset predictor; expected a pipeline "
                              "made with onsets= (from_preset(..., timing='onsets'))")
        gen = self.audioldm
        settings.check_generator(gen.min_length_s, gen.max_length_s,
                                 gen.scheduler.config.num_train_timesteps, name=gen.name)

    @torch.no_grad()
    def __call__(self, inputs, settings: GenerateSettings | None = None, *,
                 progress: bool | None = None, **overrides) -> V2AOutput:
        """Sounds for images, image files, video files and folders of them.

        Args:
            inputs: one input or a list: PIL images, arrays, paths; an (n, h, w, c) array is
                n images (see :func:`collect_inputs`).
            settings: a :class:`~v2a_kit.settings.GenerateSettings` (``None``: the defaults).
            progress: progress bars (``None``: when there is more than one input or batch).
            overrides: settings by name, replacing those of ``settings``: ``num_samples``,
                ``num_inference_steps``, ``guidance_scale``, ``scheduler``,
                ``mapper_guidance_scale``, ``num_frames``, ``aggregate``, ``seed``,
                ``audio_length_in_s``, ``batch_size``, ``timing`` (each described there; e.g.
                ``pipe(images, num_samples=4, seed=1)``). A name that is not a setting, or a
                value out of its range, is refused naming it before any input is read.
        Returns:
            :class:`V2AOutput`: one :class:`V2AItem` per input, in input order.
        """
        s = GenerateSettings.make(settings, **overrides)
        self.check_settings(s)
        image_length_s = float(s.audio_length_in_s or self.audioldm.default_length_s)
        prepared = self.prepare_inputs(inputs, image_length_s)
        items = self.run_steps(prepared, s, progress=progress, warn_outside=True)
        settings_used = dict(num_samples=s.num_samples, num_inference_steps=s.steps,
                             guidance_scale=s.guidance_scale, scheduler=s.scheduler,
                             mapper_guidance_scale=s.mapper_guidance_scale,
                             num_frames=s.num_frames, aggregate=s.aggregate, seed=int(s.seed),
                             audio_length_in_s=image_length_s, **self.describe())
        if s.timing == "onsets":
            settings_used["timing"] = s.timing
        return V2AOutput(items, settings_used)

    def run_steps(self, prepared: list[PreparedInput], s: GenerateSettings, *,
                  progress: bool | None = None, warn_outside: bool = True) -> list[V2AItem]:
        """The steps after :meth:`prepare_inputs`, in order: :meth:`check_timing` (with
        ``timing="onsets"``), :meth:`embed`, :meth:`warn_outside_world` (``warn_outside``),
        :meth:`map`, :meth:`generate`, :meth:`time_onsets` and :meth:`assemble`. A sharded run
        (:func:`v2a_kit.runs.generate_run`) calls it on each of its chunks."""
        steps = self.check_timing(prepared) if s.timing == "onsets" else None
        embedded = self.embed(prepared, s.num_frames, s.aggregate,
                              progress=len(prepared) > 1 if progress is None else progress)
        if warn_outside:
            self.warn_outside_world(prepared, embedded)
        mapped = self.map(prepared, embedded, s.num_samples, s.seed, s.mapper_guidance_scale)
        waves = self.generate(mapped, num_inference_steps=s.num_inference_steps,
                              guidance_scale=s.guidance_scale, scheduler=s.scheduler,
                              batch_size=s.batch_size, progress=progress)
        onsets = self.time_onsets(prepared, steps) if s.timing == "onsets" else None
        return self.assemble(prepared, embedded, mapped, waves, onsets)

    def prepare_inputs(self, inputs, image_length_s: float) -> list[PreparedInput]:
        """Collect and open every input (:func:`collect_inputs`: nothing is generated if one is
        bad) and cut each video no longer than the generator's ``max_length_s`` into equal
        segments; a sound of ``image_length_s`` for each image."""
        sources = collect_inputs(inputs)
        return self.prepare_sources(sources, image_length_s, range(len(sources)))

    def prepare_sources(self, sources: list[Source], image_length_s: float,
                        indices) -> list[PreparedInput]:
        """:meth:`prepare_inputs` for sources already collected (and checked), each with its
        index in the whole job (its seed is ``seed + index``): a sharded run prepares its
        share of the inputs this way."""
        gen, out = self.audioldm, []
        for i, s in zip(indices, sources):
            if s.kind == "image":
                duration, segments = image_length_s, [(0.0, image_length_s)]
            else:
                duration, segments = s.duration_s, _segments(s.duration_s, gen.max_length_s)
            piece = segments[0][1] - segments[0][0] + (CROSSFADE_S if len(segments) > 1 else 0.0)
            piece = max(piece, gen.min_length_s)  # a one-frame video: the shortest sound, cut
            out.append(PreparedInput(i, s, segments, duration, round(piece, 6)))
        return out

    def embed(self, prepared: list[PreparedInput], num_frames: int = 8, aggregate: str = "mean",
              progress: bool = False) -> list[EmbeddedInput]:
        """One CLIP embedding per image and per video segment (``num_frames`` evenly spaced
        frames reduced by ``aggregate``), all frames of all inputs embedded together in batches
        of the encoder's ``batch_size`` (:meth:`~v2a_kit.encoders.ClipEncoder.encode_frame_groups`).
        """
        shown: dict[int, Image.Image] = {}

        def groups():  # one input's frames at a time
            for p in tqdm(prepared, desc="CLIP", disable=not progress, leave=False):
                if p.kind == "image":
                    shown[p.index] = p.source.image
                    yield [p.source.image]
                    continue
                frames = media.sample_video_frames(p.source.path, num_frames * len(p.segments))
                shown[p.index] = frames[len(frames) // 2]
                for k in range(len(p.segments)):
                    yield frames[k * num_frames:(k + 1) * num_frames]

        names = [p.source.name if p.kind == "image" else f"{p.source.name} [{a:g}, {b:g}] s"
                 for p in prepared for a, b in p.segments]
        clip = self.clip.encode_frame_groups(groups(), aggregate, progress=False, sources=names)
        rows = clip.embeds.split([len(p.segments) for p in prepared])
        starts = np.cumsum([0] + [len(p.segments) for p in prepared])
        return [EmbeddedInput(Embeddings(x, clip.space, names[a:a + len(x)]), shown[p.index])
                for p, x, a in zip(prepared, rows, starts)]

    def warn_outside_world(self, prepared: list[PreparedInput],
                           embedded: list[EmbeddedInput]) -> list[str]:
        """With pocket-CLIP, one :class:`~v2a_kit.errors.OutsideWorldWarning` naming the inputs
        that do not look like the pocket world (:mod:`v2a_kit.pocket.world.likeness`; a video is
        judged by the frame shown for it, its middle sampled frame). Returns their names."""
        if not self.knows_only_pocket_world:
            return []
        names = outside_world((p.source.name, e.image) for p, e in zip(prepared, embedded))
        warn_outside(names)
        return names

    def map(self, prepared: list[PreparedInput], embedded: list[EmbeddedInput],
            num_samples: int = 1, seed: int = 0,
            guidance_scale: float | None = None) -> list[MappedInput]:
        """``num_samples`` CLAP embeddings per CLIP row (``mapper.map``, in the generator's
        space) and the input's jobs. Input ``i``'s draws come from the generator seeded with
        ``seed + i``, which then gives the seeds of its waveforms' initial noise — so no other
        input of the call changes an input's draws."""
        out = []
        for p, e in zip(prepared, embedded):
            g = torch.Generator().manual_seed(int(seed) + p.index)
            # batch_size: all the input's rows in one sample() call, one draw from its generator
            clap = self.mapper.map(e.clip, batch_size=len(e.clip), num_samples=num_samples,
                                   generator=g, guidance_scale=guidance_scale)
            jobs = [Job(p.index, j, k, p.piece_s,
                        int(torch.randint(0, 2**62, (1,), generator=g)))
                    for j in range(num_samples) for k in range(len(p.segments))]
            out.append(MappedInput(clap, num_samples, jobs))
        return out

    def generate(self, mapped: list[MappedInput], *, num_inference_steps: int | None = None,
                 guidance_scale: float = 2.5, scheduler: str = DEFAULT_SCHEDULER,
                 batch_size: int = 16, progress: bool | None = None) -> dict[Job, np.ndarray]:
        """Every job's waveform: jobs of one length in batches of ``batch_size``, each with the
        initial noise of its own seed (so a result does not depend on its batch, up to float
        rounding)."""
        by_input = {m.jobs[0].input: m for m in mapped}  # job.input: the index in the job
        by_length: dict[float, list[Job]] = {}
        for job in (job for m in mapped for job in m.jobs):
            by_length.setdefault(job.length_s, []).append(job)
        num_jobs = sum(len(v) for v in by_length.values())
        num_batches = sum(math.ceil(len(v) / batch_size) for v in by_length.values())
        show = num_batches > 1 if progress is None else progress
        waves: dict[Job, np.ndarray] = {}
        peaks = PeakReport(None, 0, 0, 0, 0.0, None)
        with tqdm(total=num_jobs, desc="AudioLDM", disable=not show, leave=False) as bar, \
                peak_warnings_off():  # one warning for the whole call, below
            for length, group in by_length.items():
                for b in range(0, len(group), batch_size):
                    batch = group[b:b + batch_size]
                    cond = Embeddings(torch.stack([by_input[j.input].condition(j) for j in batch]),
                                      self.mapper.clap_space)
                    out = generate(self.audioldm, cond, num_inference_steps=num_inference_steps,
                                   guidance_scale=guidance_scale, scheduler=scheduler,
                                   audio_length_in_s=length, progress=False, generator=[
                                       torch.Generator().manual_seed(j.noise_seed) for j in batch])
                    waves.update(zip(batch, out.waveforms))
                    peaks = peaks + out.peaks
                    bar.update(len(batch))
        peaks.warn()
        return waves

    def check_timing(self, prepared: list[PreparedInput]) -> dict[int, int]:
        """Every video checked for the onset predictor (``pocket.world.timed.check_timing_video``:
        frames, a frame rate it reads, at least one note long), before any is embedded: input
        index -> the frame step at which its frames are read."""
        from .pocket.world.timed import check_timing_video

        out = {}
        for p in prepared:
            if p.kind == "video":
                info = media.probe_video(p.source.path)
                out[p.index] = check_timing_video(p.source.name, info.fps, info.duration_s,
                                                  info.num_frames, self.onsets.config.fps)
        return out

    @torch.no_grad()
    def time_onsets(self, prepared: list[PreparedInput],
                    steps: dict[int, int] | None = None) -> dict[int, np.ndarray]:
        """Each video's predicted onset times (seconds): every frame (every ``steps[index]``-th,
        at the predictor's rate) through the CLIP encoder, then the onset predictor."""
        from .pocket.models.onsets import embed_frames

        steps = self.check_timing(prepared) if steps is None else steps
        out = {}
        for p in prepared:
            if p.kind == "video":
                frames, _ = media.read_video_frames(p.source.path, steps[p.index])
                emb = embed_frames(self.clip, frames[None])
                t = self.onsets.predict(emb)[0]
                out[p.index] = t[t <= p.duration_s]
        return out

    def assemble(self, prepared: list[PreparedInput], embedded: list[EmbeddedInput],
                 mapped: list[MappedInput], waves: dict[Job, np.ndarray],
                 onsets: dict[int, np.ndarray] | None = None) -> list[V2AItem]:
        """One :class:`V2AItem` per input, one waveform per sample; a video's segments joined
        with crossfades of ``CROSSFADE_S`` — or, with ``onsets`` (input index -> predicted onset
        times), its segments' notes placed at those onsets
        (``pocket.models.onsets.place_notes``)."""
        sr, items = self.sampling_rate, []
        for p, e, m in zip(prepared, embedded, mapped):
            pieces = [[waves[job] for job in m.jobs if job.sample == j]
                      for j in range(m.num_samples)]
            timed = onsets.get(p.index) if onsets is not None else None
            if p.kind == "image":
                rows = [w[0] for w in pieces]
            elif timed is not None:
                from .pocket.models.onsets import place_notes
                rows = [place_notes(w, sr, timed, p.segments, p.duration_s) for w in pieces]
            else:
                hop = round((p.segments[0][1] - p.segments[0][0]) * sr)
                fade = round(CROSSFADE_S * sr) if len(p.segments) > 1 else 0
                rows = [_join(w, hop, round(p.duration_s * sr), fade) for w in pieces]
            s = p.source
            items.append(V2AItem(s.name, s.kind, e.image, e.clip.embeds, m.pred,
                                 np.stack(rows).astype(np.float32), sr, p.duration_s,
                                 p.segments if s.kind == "video" else [], s.path, s.rel, timed))
        return items


# --- writing -----------------------------------------------------------------------------------
def output_names(output: V2AOutput, mux_videos: bool = True) -> list[tuple[int, int | None, Path]]:
    """[(item, sample or None for a muxed video, relative path)] that :func:`write_outputs`
    writes. ``name.wav`` for one sample, ``name_s0.wav``, ``name_s1.wav``... for several; a
    video also gets ``name_v2a.<its suffix>`` (sample 0's soundtrack)."""
    entries = [(item.source, item.kind, source_stem(item, i), item.path) for i, item in
               enumerate(output.items)]
    return plan_output_names(entries, output.settings["num_samples"], mux_videos)


def check_writable(outdir: str | os.PathLike) -> Path:
    """Create ``outdir`` if needed and prove it writable (a probe file, removed), or raise
    MediaError naming it — so a run fails before its generation, not after."""
    outdir = Path(outdir)
    probe = outdir / f".v2a-write-check-{uuid.uuid4().hex[:8]}"
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise MediaError(f"{outdir}: cannot write there ({e}); expected a writable "
                         "directory") from e
    return outdir


def write_outputs(output: V2AOutput, outdir: str | os.PathLike,
                  mux_videos: bool = True) -> list[Path]:
    """Write every waveform as 16-bit wav, and each video's copy with sample 0's soundtrack.

    Each file is written atomically; names as :func:`output_names` (name clashes are refused
    before anything is written). Returns the written paths, in input order.
    """
    plan = output_names(output, mux_videos)
    outdir = check_writable(outdir)
    written = []
    for i, j, rel in plan:
        item = output.items[i]
        if j is None:
            written.append(media.mux_audio_into_video(item.path, item.waveforms[0],
                                                      item.sampling_rate, outdir / rel))
        else:
            written.append(media.write_wav(outdir / rel, item.waveforms[j], item.sampling_rate))
    return written
