"""The timing-aware variant's parts: a learned onset predictor and note placement.

V2A-Mapper conditions AudioLDM on one CLAP embedding per clip (or per segment), so *what* a
sound is follows the picture and *when* its notes start is the generator's own draw. The
timing-aware variant keeps that path, frozen and unchanged, and adds two steps:

1. **When** (learned): :class:`OnsetPredictor`, a small temporal convolution over the frozen
   CLIP embeddings of *every* frame (and their frame-to-frame differences), gives each frame
   the probability that something starts on it; :func:`pick_onsets` keeps the local maxima
   above one half. It is trained on timed pocket videos' visual onsets
   (:func:`~v2a_kit.pocket.world.timed.sample_world_videos`), where objects pop when their notes
   start and scene cuts change every pixel without starting a note.
2. **Where the notes go** (signal processing, no learning): :func:`place_notes` detects the
   notes of each segment's generated sound with the synchrony measure's own detector
   (:func:`~v2a_kit.evaluation.timing.detect_onsets`), cuts the sound into one piece per note
   (from ``PRE_S`` before each onset to the next) and lays the pieces down at the predicted
   onsets, each cut short (with a ``FADE_S`` fade) where the next one starts. A segment gets
   as many notes as onsets were predicted in it (reusing the generated notes in turn when it
   has fewer); a segment without a predicted onset keeps its generated sound as it is.

So the *timing* and the *number* of notes come from the predictor, the notes' sound (timbre,
register, loudness, contour) from V2A-Mapper and AudioLDM, and the splice from signal
processing. :func:`embed_frames` embeds frames with a CLIP encoder once per distinct frame
(a still scene repeats the same pixels for most of a second).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ...checkpoints import ONSETS_FORMAT, load_module, save_module
from ...errors import ConfigError, MediaError, SpaceMismatchError

__all__ = ["OnsetConfig", "OnsetPredictor", "embed_frames", "frame_targets", "pick_onsets",
           "train_onset_predictor", "save_onset_predictor", "load_onset_predictor",
           "place_notes", "THRESHOLD", "PRE_S", "FADE_S", "MIN_GAP_FRAMES", "NOTE_RISE_DB"]

THRESHOLD = 0.5       # a frame is an onset where its probability peaks above this
MIN_GAP_FRAMES = 2    # peaks closer than this (frames) are one onset (pocket notes: ≥ 6 apart)
PRE_S = 0.03          # a note's piece starts this long before its detected onset (its attack)
FADE_S = 0.01         # fade-out where a piece is cut short by the next note or the segment's end
NOTE_RISE_DB = 15.0   # a detected onset starts a note when its sound rises by this much ...
RISE_BEFORE_S = 0.035  # ... from the quietest of this long before it
RISE_AFTER_S = 0.08   # ... to the loudest of this long after it


@dataclass
class OnsetConfig:
    """The predictor's shape and the frames it reads.

    Attributes:
        clip_dim: the CLIP embedding's size.
        hidden: channels of the temporal convolutions.
        kernel: frames each convolution sees (odd).
        num_layers: convolutions before the per-frame output.
        fps: the frame rate it was trained at; it reads videos at that rate only.
        clip_space: the CLIP space it reads (``str(Space)``), checked against the encoder's.
    """

    clip_dim: int = 64
    hidden: int = 64
    kernel: int = 5
    num_layers: int = 3
    fps: int = 25
    clip_space: str = ""


class OnsetPredictor(nn.Module):
    """Per-frame onset logits from per-frame CLIP embeddings: (b, T, d) -> (b, T).

    Each frame's input is its embedding and its difference to the previous frame (zero for the
    first); ``num_layers`` convolutions over time (``kernel`` frames, edges replicated, GELU)
    and a linear read-out per frame.
    """

    def __init__(self, config: OnsetConfig | None = None):
        super().__init__()
        self.config = config = config or OnsetConfig()
        if config.kernel % 2 != 1 or config.kernel < 1 or config.num_layers < 1:
            raise ConfigError(f"OnsetConfig kernel={config.kernel}, num_layers="
                              f"{config.num_layers}; expected an odd kernel ≥ 1 and ≥ 1 layer")
        layers, width = [], 2 * config.clip_dim
        for _ in range(config.num_layers):
            layers += [nn.Conv1d(width, config.hidden, config.kernel, padding=config.kernel // 2,
                                 padding_mode="replicate"), nn.GELU()]
            width = config.hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv1d(width, 1, 1)

    def forward(self, clip_embed: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(clip_embed, dtype=torch.float32)
        if x.ndim != 3 or x.shape[-1] != self.config.clip_dim or x.shape[1] < 1:
            raise MediaError(f"clip_embed has shape {tuple(x.shape)}; expected (videos, frames "
                             f"≥ 1, {self.config.clip_dim})")
        dx = torch.diff(x, dim=1, prepend=x[:, :1])
        h = self.body(torch.cat([x, dx], -1).transpose(1, 2))
        return self.head(h)[:, 0]

    @torch.no_grad()
    def predict(self, clip_embed, threshold: float = THRESHOLD) -> list[np.ndarray]:
        """Each video's predicted onset times, seconds (its frames' times, ``frame / fps``)."""
        self.eval()
        probs = torch.sigmoid(self(clip_embed)).cpu().numpy()
        return [pick_onsets(p, threshold) / self.config.fps for p in probs]


def pick_onsets(probs, threshold: float = THRESHOLD, min_gap: int = MIN_GAP_FRAMES) -> np.ndarray:
    """Frames (int64, ascending) where ``probs`` (T,) is ≥ ``threshold`` and the largest within
    ± ``min_gap`` frames (the earliest of equal values)."""
    p = np.asarray(probs, np.float64).reshape(-1)
    out = []
    for t in np.nonzero(p >= threshold)[0]:
        lo, hi = max(0, t - min_gap), min(len(p), t + min_gap + 1)
        window = p[lo:hi]
        if p[t] == window.max() and int(np.argmax(window)) + lo == t:
            out.append(t)
    return np.asarray(out, np.int64)


def frame_targets(visual_onsets_s, fps: int, num_frames: int) -> np.ndarray:
    """(n, T) float32, 1 on each visual onset's frame (``round(t · fps)``), else 0."""
    rows = np.atleast_2d(np.asarray(visual_onsets_s, np.float64))
    out = np.zeros((len(rows), num_frames), np.float32)
    for i, row in enumerate(rows):
        f = np.round(row[np.isfinite(row)] * fps).astype(int)
        out[i, f[(f >= 0) & (f < num_frames)]] = 1.0
    return out


@torch.no_grad()
def embed_frames(clip, frames, batch_size: int = 256) -> torch.Tensor:
    """(n, T, d) CLIP embeddings of (n, T, H, W, 3) uint8 frames, each distinct frame embedded
    once (equal pixels give equal embeddings)."""
    arr = np.asarray(frames)
    if arr.ndim != 5 or arr.shape[-1] != 3 or arr.shape[1] < 1:
        raise MediaError(f"frames have shape {arr.shape}; expected (videos, frames ≥ 1, height, "
                         "width, 3)")
    flat = np.ascontiguousarray(arr.reshape(-1, *arr.shape[2:]))
    index, unique, rows = {}, [], np.empty(len(flat), np.int64)
    for k, f in enumerate(flat):
        key = f.tobytes()
        if key not in index:
            index[key] = len(unique)
            unique.append(f)
        rows[k] = index[key]
    emb = clip.encode_images(unique, batch_size=batch_size, progress=False).embeds
    return emb[torch.from_numpy(rows)].reshape(arr.shape[0], arr.shape[1], -1)


def train_onset_predictor(clip_embed, targets, *, config: OnsetConfig, steps: int = 400,
                          batch_size: int = 32, lr: float = 3e-3, pos_weight: float = 4.0,
                          seed: int = 0) -> tuple[OnsetPredictor, list[float]]:
    """Fit an :class:`OnsetPredictor` to (n, T, d) embeddings and (n, T) 0/1 frame targets by
    weighted binary cross-entropy (onset frames ``pos_weight`` ×), AdamW, videos drawn from a
    generator seeded ``seed``. Returns the model (eval mode) and the loss per step."""
    x = torch.as_tensor(clip_embed, dtype=torch.float32)
    y = torch.as_tensor(targets, dtype=torch.float32)
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise ConfigError(f"clip_embed {tuple(x.shape)} and targets {tuple(y.shape)}; expected "
                          "(n, T, d) and (n, T)")
    g = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = OnsetPredictor(config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    weight = torch.tensor(float(pos_weight))
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (min(batch_size, len(x)),), generator=g)
        loss = nn.functional.binary_cross_entropy_with_logits(model(x[idx]), y[idx],
                                                              pos_weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    return model.eval(), losses


def save_onset_predictor(model: OnsetPredictor, folder, **facts):
    """Write the predictor as a checkpoint folder (``v2a-kit-onsets-1``); ``facts`` (how it was
    trained, what it scored) go into its config.json beside its shape."""
    return save_module(folder, model.state_dict(),
                       {"class": "OnsetPredictor", "config": asdict(model.config), **facts},
                       format=ONSETS_FORMAT)


def load_onset_predictor(folder, clip_space=None) -> OnsetPredictor:
    """The predictor in ``folder`` (eval mode, CPU); with ``clip_space``, refused unless it reads
    that space (``SpaceMismatchError`` naming both)."""
    state, meta = load_module(folder, format=ONSETS_FORMAT, what="onset predictor")
    model = OnsetPredictor(OnsetConfig(**meta["config"]))
    model.load_state_dict(state)
    model.facts = {k: v for k, v in meta.items() if k not in ("config", "sha256")}
    if clip_space is not None and model.config.clip_space != str(clip_space):
        raise SpaceMismatchError(f"the onset predictor in {folder} reads CLIP embeddings of "
                                 f"{model.config.clip_space}; the CLIP encoder writes {clip_space}")
    return model.eval()


# ----------------------------------------------------------------------------- checks, placing

def _rises(note: np.ndarray, onsets: np.ndarray, sampling_rate: int) -> np.ndarray:
    """How far (dB) each onset's sound rises: the loudest of the ``RISE_AFTER_S`` after it
    above the quietest of the ``RISE_BEFORE_S`` before it (RMS over 20 ms every 5 ms)."""
    import librosa

    hop = max(1, int(round(0.005 * sampling_rate)))
    rms = librosa.feature.rms(y=note, frame_length=4 * hop, hop_length=hop, center=True)[0]
    db = librosa.amplitude_to_db(rms, ref=np.max, top_db=60.0)
    before, after = int(round(RISE_BEFORE_S / 0.005)), int(round(RISE_AFTER_S / 0.005))
    out = []
    for t in onsets:
        k = int(round(t * sampling_rate / hop))
        pre = db[max(0, k - before):max(0, k - 1)]
        out.append(db[k:k + after].max(initial=-60.0) - (pre.min() if len(pre) else -60.0))
    return np.asarray(out)


def _pieces(note: np.ndarray, sampling_rate: int) -> list[np.ndarray]:
    """One generated sound cut into its notes: from ``PRE_S`` before each note's onset to
    ``PRE_S`` before the next (the last to the end); the whole sound when none is detected.

    A note's onset is an onset the synchrony measure's detector hears whose sound rises by at
    least ``NOTE_RISE_DB`` (a pocket note starts from near silence); the detector's other
    onsets, ripples inside a generated note, do not cut it (the loudest rise is kept if none
    qualifies)."""
    from ...evaluation.timing import detect_onsets

    heard = detect_onsets(note, sampling_rate) if np.abs(note).max() > 0 else np.zeros(0)
    if len(heard) == 0:
        return [note]
    rises = _rises(note, heard, sampling_rate)
    keep = rises >= NOTE_RISE_DB
    heard = heard[keep] if keep.any() else heard[[int(np.argmax(rises))]]
    cuts = [max(0, int(round((t - PRE_S) * sampling_rate))) for t in heard] + [len(note)]
    return [note[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def place_notes(notes, sampling_rate: int, onsets_s, segments, duration_s: float) -> np.ndarray:
    """A soundtrack whose notes start at ``onsets_s``, made of the notes of each segment's sound.

    Args:
        notes: one generated sound (1-D float) per segment, each at least its segment long.
        sampling_rate: Hz of ``notes`` and of the result.
        onsets_s: predicted onset times in the video, seconds (any order).
        segments: [(start_s, end_s)] covering the video, one per sound.
        duration_s: the video's length; the result has ``round(duration_s · rate)`` samples.

    Returns:
        (samples,) float32. In each segment, the sound's notes (:func:`_pieces`) in order,
        reused in turn, each placed so that its detected onset falls on the next predicted onset
        of the segment and cut (faded over ``FADE_S``) where the following one starts or the
        segment ends; a segment without a predicted onset keeps its sound as it is.

    Raises:
        MediaError: a sound shorter than its segment at ``sampling_rate`` (a wrong rate), not
            one per segment, non-finite samples, or onsets outside the video.
    """
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, np.integer)) \
            or sampling_rate < 1000:
        raise MediaError(f"sampling_rate={sampling_rate!r}; expected an int ≥ 1000 Hz")
    notes = [np.asarray(n, np.float32).reshape(-1) for n in notes]
    if len(notes) != len(segments):
        raise MediaError(f"{len(notes)} sounds for {len(segments)} segments; expected one each")
    total = int(round(duration_s * sampling_rate))
    onsets = np.sort(np.asarray(onsets_s, np.float64).reshape(-1))
    if len(onsets) and (not np.isfinite(onsets).all() or onsets[0] < 0
                        or onsets[-1] > duration_s):
        raise MediaError(f"onsets_s span {onsets[0]:.3f}..{onsets[-1]:.3f} s; expected times "
                         f"within the video (0..{duration_s:.3f} s)")
    out = np.zeros(total, np.float32)
    pre, fade = int(round(PRE_S * sampling_rate)), max(1, int(round(FADE_S * sampling_rate)))
    ramp = np.linspace(1.0, 0.0, fade, dtype=np.float32)
    for k, ((a, b), note) in enumerate(zip(segments, notes)):
        lo, hi = int(round(a * sampling_rate)), min(total, int(round(b * sampling_rate)))
        if len(note) < hi - lo - 1:
            raise MediaError(f"sound {k}: {len(note)} samples at {sampling_rate} Hz = "
                             f"{len(note) / sampling_rate:.3f} s; expected at least its segment's "
                             f"{b - a:.3f} s (is the sampling rate right?)")
        if not np.isfinite(note).all():
            raise MediaError(f"sound {k} holds NaN or inf; expected finite samples")
        last = k == len(segments) - 1
        mine = onsets[(onsets >= a) & ((onsets < b) | (last & (onsets <= b)))]
        if len(mine) == 0:
            out[lo:hi] += note[:hi - lo]
            continue
        pieces = _pieces(note, sampling_rate)
        starts = [max(0, int(round(t * sampling_rate)) - pre) for t in mine] + [hi]
        for j in range(len(mine)):
            piece = pieces[j % len(pieces)]
            s, end = starts[j], max(starts[j], min(starts[j + 1], hi))
            piece = piece[:end - s].copy()
            if len(piece) == end - s and len(piece) >= fade:  # cut short: fade it out
                piece[-fade:] *= ramp
            out[s:s + len(piece)] += piece
    return out
