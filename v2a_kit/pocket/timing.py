"""Timing on timed pocket videos: the onset predictor's training, V2A-Mapper's systems side by side.

- :func:`train_pocket_onsets` (``v2a-kit pocket timing -o DIR``) trains the timing-aware
  variant's :class:`~v2a_kit.pocket.models.onsets.OnsetPredictor` on the frozen pocket-CLIP
  embeddings of every frame of timed videos (world seed ``TRAIN_SEED``), scores it on others
  (``VAL_SEED``) and writes the checkpoint with its training time and scores in config.json.
  The shipped one is ``v2a_kit/pocket/weights/onsets``.
- :func:`timed_systems` makes the soundtracks of timed videos that the timing benchmark
  compares (``benchmarks/bench_timing.py``), one scene per segment:

  - ``real``: the videos' own tracks; ``shuffled``: each video gets the next one's;
  - ``decoded``: the real tracks through pocket-AudioLDM's own decoding (the ceiling);
  - ``mean-pooled``: V2A-Mapper on one CLIP vector per video (the mean over all its frames),
    one CLAP embedding conditioning each of the video's 1-s pieces (each its own noise);
  - ``per-segment``: V2A-Mapper per scene (the mean of the scene's frames), as
    :class:`~v2a_kit.pipeline.V2APipeline` does on a video longer than the generator's piece;
  - ``timing-aware``: the per-segment sounds with their notes placed at the onsets the
    predictor reads from the frames (:func:`~v2a_kit.pocket.models.onsets.place_notes`).

  Input ``i`` draws from ``torch.Generator().manual_seed(seed + i)``, mapping first and then
  its pieces' noise seeds, as the pipeline does. The pieces are 1 s, joined end to end (the
  pipeline generates 50 ms more per piece and crossfades; in these videos a scene cut is
  seen, not heard).
- :func:`timed_scores`: the synchrony measure, and through the one scoring path
  (:func:`~v2a_kit.evaluation.score`) the pocket tagger's attribute accuracy scene by scene and
  FD of its features against the real scenes' sounds.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..defaults import DEFAULT_SCHEDULER, TIMING_FPS
from ..errors import SilentAudioWarning
from ..evaluation.timing import TOLERANCE_S, match_onsets, synchrony
from ..spaces import Embeddings
from .models.onsets import (
    OnsetConfig,
    embed_frames,
    frame_targets,
    place_notes,
    save_onset_predictor,
    train_onset_predictor,
)
from .world.timed import PocketVideos, sample_world_videos
from .world.vocab import ATTRIBUTES

__all__ = ["train_pocket_onsets", "onset_scores", "timed_systems", "timed_scores",
           "decoded_tracks", "TimedSystems", "SYSTEMS", "TRAIN_SEED", "VAL_SEED"]

TRAIN_SEED, VAL_SEED = 9500, 9501   # world seeds of the predictor's training and validation videos
SYSTEMS = ("real", "shuffled", "decoded", "mean-pooled", "per-segment", "timing-aware")


def onset_scores(predicted, visual_onsets_s, tolerance_s: float = TOLERANCE_S) -> dict:
    """Predicted onset times against the visual onsets (lists or NaN-padded rows, one per video):
    F1, precision, recall within ± ``tolerance_s`` and the matched pairs' mean |offset|."""
    tp = num_pred = num_true = 0
    offsets = []
    for pred, true in zip(predicted, visual_onsets_s):
        true = np.sort(np.asarray(true, np.float64)[np.isfinite(true)])
        pred = np.sort(np.asarray(pred, np.float64))
        pairs = match_onsets(pred, true, tolerance_s)
        tp, num_pred, num_true = tp + len(pairs), num_pred + len(pred), num_true + len(true)
        offsets += [pred[i] - true[j] for i, j in pairs]
    return {"f1": 2 * tp / (num_pred + num_true) if num_pred + num_true else 0.0,
            "precision": tp / num_pred if num_pred else 0.0,
            "recall": tp / num_true if num_true else 0.0,
            "mean_abs_offset_s": float(np.mean(np.abs(offsets))) if offsets else None,
            "num_predicted": num_pred, "num_visual": num_true}


def train_pocket_onsets(out, *, num_videos: int = 256, num_val: int = 64, steps: int = 400,
                        seed: int = 0, weights=None, command: str | None = None,
                        progress: bool = True) -> dict:
    """Train the onset predictor on ``num_videos`` timed videos of world seed ``TRAIN_SEED`` (3
    scenes, ``defaults.TIMING_FPS`` = 25 fps), score it on ``num_val`` of ``VAL_SEED``, write it
    to ``out`` (replaced as a whole) and return the report also kept in its config.json: the
    stages' seconds, the validation scores, the parameter count and the weights' bytes."""
    from ..registry import load_clip

    t0 = time.perf_counter()
    clip = load_clip("pocket", weights=weights, device="cpu")
    t_load = time.perf_counter()
    train = sample_world_videos(num_videos, TRAIN_SEED, fps=TIMING_FPS)
    val = sample_world_videos(num_val, VAL_SEED, fps=TIMING_FPS)
    x_train, x_val = embed_frames(clip, train.frames), embed_frames(clip, val.frames)
    t_embed = time.perf_counter()
    config = OnsetConfig(clip_dim=x_train.shape[-1], fps=train.fps, clip_space=str(clip.space))
    model, losses = train_onset_predictor(
        x_train, frame_targets(train.visual_onsets_s, train.fps, train.num_frames),
        config=config, steps=steps, seed=seed)
    t_train = time.perf_counter()
    scores = {"train": onset_scores(model.predict(x_train), train.visual_onsets_s),
              "val": onset_scores(model.predict(x_val), val.visual_onsets_s)}
    report = {
        "command": command, "seed": int(seed), "steps": int(steps),
        "data": {"train": {"world_seed": TRAIN_SEED, "num_videos": num_videos},
                 "val": {"world_seed": VAL_SEED, "num_videos": num_val},
                 "num_scenes": train.num_scenes, "fps": train.fps},
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "final_loss": round(float(np.mean(losses[-20:])), 5),
        "scores": scores,
        "seconds": {"load": round(t_load - t0, 1), "embed": round(t_embed - t_load, 1),
                    "train": round(t_train - t_embed, 1),
                    "total": round(time.perf_counter() - t0, 1)},
        "torch_threads": torch.get_num_threads()}
    folder = save_onset_predictor(model, out, train_report=report)
    report["weights_bytes"] = (Path(folder) / "model.safetensors").stat().st_size
    return report


# ----------------------------------------------------------------------------- the systems

@dataclass
class TimedSystems:
    """Each system's soundtracks for ``n`` timed videos.

    Attributes:
        tracks: system -> (n, samples) float32 at ``sampling_rate``.
        predicted_onsets_s: the predictor's onset times per video (what ``timing-aware`` used).
        seconds: system -> seconds it took (generation included).
    """

    tracks: dict[str, np.ndarray]
    sampling_rate: int
    predicted_onsets_s: list[np.ndarray]
    seconds: dict[str, float] = field(default_factory=dict)


def decoded_tracks(videos: PocketVideos) -> np.ndarray:
    """The videos' tracks, scene by scene, through pocket-AudioLDM's decoding (log-mel, 4×4
    power pooling, Griffin-Lim): the timing a generated pocket sound can at best keep."""
    from .models.audio import GriffinLim, log_mel, nearest_upsample, power_pool

    clips = torch.from_numpy(videos.scenes.audio)
    with torch.no_grad():
        mel = nearest_upsample(power_pool(log_mel(clips)[:, None]))[:, 0]
        vocoder = GriffinLim()
        waves = torch.cat([vocoder(mel[k:k + 32]) for k in range(0, len(mel), 32)])
    return waves.numpy().reshape(len(videos), -1)


def _generate_pieces(audioldm, conditions: torch.Tensor, noise_seeds: list[int], *, steps,
                     guidance_scale, scheduler, batch_size: int) -> np.ndarray:
    from ..generation import generate

    waves = []
    for k in range(0, len(conditions), batch_size):
        out = generate(audioldm, Embeddings(conditions[k:k + batch_size], audioldm.space),
                       num_inference_steps=steps, guidance_scale=guidance_scale,
                       scheduler=scheduler, audio_length_in_s=1.0, progress=False,
                       generator=[torch.Generator().manual_seed(s)
                                  for s in noise_seeds[k:k + batch_size]])
        waves.append(out.waveforms)
    return np.concatenate(waves)


def _mapped(mapper, rows: torch.Tensor, space, generators, num_pieces: int,
            mapper_guidance) -> tuple[torch.Tensor, list[int]]:
    """Each input's rows through the mapper from its own generator, then its pieces' noise
    seeds from the same generator (the pipeline's order)."""
    conds, seeds = [], []
    for x, g in zip(rows, generators):
        clap = mapper.map(Embeddings(x, space), batch_size=len(x), num_samples=1, generator=g,
                          guidance_scale=mapper_guidance).embeds
        conds.append(clap.repeat(num_pieces // len(clap), 1))
        seeds += [int(torch.randint(0, 2**62, (1,), generator=g)) for _ in range(num_pieces)]
    return torch.cat(conds), seeds


@torch.no_grad()
def timed_systems(videos: PocketVideos, *, clip, mapper, audioldm, onsets, seed: int = 0,
                  num_inference_steps: int | None = None, guidance_scale: float = 2.5,
                  scheduler: str = DEFAULT_SCHEDULER, mapper_guidance_scale: float | None = None,
                  batch_size: int = 64, frame_embeds: torch.Tensor | None = None,
                  systems=SYSTEMS) -> TimedSystems:
    """The soundtracks of ``systems`` (``SYSTEMS`` by default) for timed videos (see the
    module's docstring); ``frame_embeds`` (n, T, d), if given, are the frames' CLIP
    embeddings (computed with ``clip`` otherwise)."""
    sr, n, ns = videos.sampling_rate, len(videos), videos.num_scenes
    tracks, seconds, predicted = {}, {}, []
    t = time.perf_counter()
    emb = embed_frames(clip, videos.frames) if frame_embeds is None else frame_embeds
    seconds["clip"] = time.perf_counter() - t
    kw = dict(steps=num_inference_steps, guidance_scale=guidance_scale, scheduler=scheduler,
              batch_size=batch_size)
    if "real" in systems:
        tracks["real"] = videos.audio.copy()
    if "shuffled" in systems:
        tracks["shuffled"] = np.roll(videos.audio, 1, axis=0)
    if "decoded" in systems:
        t = time.perf_counter()
        tracks["decoded"] = decoded_tracks(videos)
        seconds["decoded"] = time.perf_counter() - t
    per_scene = emb.reshape(n, ns, -1, emb.shape[-1])
    if "mean-pooled" in systems:
        t = time.perf_counter()
        rows = torch.nn.functional.normalize(emb.mean(1), dim=-1)[:, None]
        gens = [torch.Generator().manual_seed(int(seed) + i) for i in range(n)]
        conds, noise = _mapped(mapper, rows, clip.space, gens, ns, mapper_guidance_scale)
        tracks["mean-pooled"] = _generate_pieces(audioldm, conds, noise, **kw).reshape(n, -1)
        seconds["mean-pooled"] = time.perf_counter() - t
    if "per-segment" in systems or "timing-aware" in systems:
        t = time.perf_counter()
        rows = torch.nn.functional.normalize(per_scene.mean(2), dim=-1)
        gens = [torch.Generator().manual_seed(int(seed) + i) for i in range(n)]
        conds, noise = _mapped(mapper, rows, clip.space, gens, ns, mapper_guidance_scale)
        pieces = _generate_pieces(audioldm, conds, noise, **kw).reshape(n, ns, -1)
        seconds["per-segment"] = time.perf_counter() - t
        if "per-segment" in systems:
            tracks["per-segment"] = pieces.reshape(n, -1)
        if "timing-aware" in systems:
            t = time.perf_counter()
            predicted = onsets.predict(emb)
            starts = videos.scene_starts_s
            segments = [(float(a), float(a) + 1.0) for a in starts]
            tracks["timing-aware"] = np.stack([
                place_notes(list(pieces[i]), sr, predicted[i], segments, videos.duration_s)
                for i in range(n)])
            seconds["timing-aware"] = seconds["per-segment"] + time.perf_counter() - t
    return TimedSystems({k: tracks[k] for k in systems if k in tracks}, sr, predicted,
                        {k: round(v, 2) for k, v in seconds.items()})


def timed_scores(videos: PocketVideos, tracks: np.ndarray, extractors, *, fd: bool = True,
                 references=None) -> dict:
    """One system's soundtracks against the videos: the synchrony figures (onset F1, precision,
    recall, mean |offset|, DeSync) and, through :func:`~v2a_kit.evaluation.score` on the scenes'
    1-s clips, the ``fd`` classifier's accuracy per attribute and for all four at once scene by
    scene and (``fd``) FD of its features against the real scenes' sounds; ``silent_scenes``:
    how many of the scenes' clips are silent (RMS below -60 dBFS).

    Args:
        extractors: the pocket preset's (``registry.load_extractors("pocket")``: the tagger
            reads FD and the attributes).
        references: the real scenes' :class:`~v2a_kit.evaluation.AudioOutputs`
            (``extract(extractors, videos.scenes.audio)``), to extract them once for several
            systems; ``None``: extracted here when ``fd``.
    """
    from ..evaluation.scoring import extract, score

    s = synchrony(tracks, videos.visual_onsets_s, fps=videos.fps, num_frames=videos.num_frames,
                  sampling_rate=videos.sampling_rate)
    out = {k: getattr(s, k) for k in ("f1", "precision", "recall", "mean_abs_offset_s",
                                      "mean_offset_s", "desync_s")}
    clips = np.ascontiguousarray(tracks.reshape(len(videos) * videos.num_scenes, -1),
                                 dtype=np.float32)
    if fd and references is None:
        references = extract(extractors, videos.scenes.audio.astype(np.float32),
                             what="real scenes")
    # FD's interval is not reported here (the benchmark's spread is over world seeds): the
    # fewest bootstrap redraws the scoring allows. A scene can be silent (the timing-aware
    # variant moves notes to where its predictor sees onsets): counted, not warned per system.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SilentAudioWarning)
        scores = score(extractors, clips, references if fd else None,
                       labels={a: videos.scenes.labels[a] for a in ATTRIBUTES},
                       resamples=10, fad_inf=False, is_splits=1)
    out.update({f"acc_{k}": float(v) for k, v in scores.attributes.items()})
    out["silent_scenes"] = int(scores.protocol["audio"]["sides"]["generated"]["silent_clips"] or 0)
    if fd:
        out["fd"] = float(scores.fd)
    return out
