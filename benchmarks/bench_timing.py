"""Timing in the pocket world (issue 25): the synchrony measure's validation, on timed videos.

    python benchmarks/bench_timing.py [--seeds 8001 8002 8003] [--num 64]

**Validation of the measure** (:func:`v2a_kit.evaluation.timing.synchrony` on
:func:`v2a_kit.pocket.timed.sample_world_videos`, 3-scene videos at 25 fps), per world seed:

- *real*: each video's own track against its visual onsets — should be near perfect (target
  onset F1 ≥ 0.95);
- *shuffled*: each track against the next video's visual onsets (a derangement) — chance;
- *shifted*: each track delayed (+) or advanced (−) by 200 ms — the estimated offset should
  recover the shift (target: the median within ±40 ms; the share of videos within ±40 ms is
  reported too) and F1 should fall;
- *decoded*: the real sounds through pocket-AudioLDM's own decoding (log-mel, 4×4 power
  pooling, Griffin-Lim; the representation ceiling of every generated sound) — the timing a
  generated pocket sound could at best keep.

Then the figures' mean and spread (min, max, standard deviation) over the seeds, and the
targets checked on every seed. Writes ``figures/timing.json``. The seeds are neither the
detector's tuning seed (7000) nor the tests' (77).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from v2a_kit.atomic import atomic_write
from v2a_kit.evaluation.timing import synchrony
from v2a_kit.pocket.timed import sample_world_videos

OUT = Path(__file__).resolve().parents[1] / "figures" / "timing.json"
SHIFT_S = 0.2
TARGETS = {"real_f1_min": 0.95, "shift_error_max_s": 0.04}
KEYS = ("f1", "precision", "recall", "mean_abs_offset_s", "mean_offset_s", "desync_s")


def shifted(audio: np.ndarray, seconds: float, sampling_rate: int) -> np.ndarray:
    """Each track delayed (seconds > 0) or advanced, zero-filled, same length."""
    d, out = int(round(seconds * sampling_rate)), np.zeros_like(audio)
    if d >= 0:
        out[:, d:] = audio[:, :audio.shape[1] - d]
    else:
        out[:, :d] = audio[:, -d:]
    return out


def decoded(videos) -> np.ndarray:
    """The videos' tracks, scene by scene, through pocket-AudioLDM's decoding."""
    import torch

    from v2a_kit.pocket.audio import GriffinLim, log_mel, nearest_upsample, power_pool

    clips = torch.from_numpy(videos.scenes.audio)
    with torch.no_grad():
        mel = nearest_upsample(power_pool(log_mel(clips)[:, None]))[:, 0]
        vocoder = GriffinLim()
        waves = torch.cat([vocoder(mel[k:k + 32]) for k in range(0, len(mel), 32)])
    return waves.numpy().reshape(len(videos), -1)


def one_seed(seed: int, num: int) -> dict:
    videos = sample_world_videos(num, seed)
    kw = dict(fps=videos.fps, num_frames=videos.num_frames, sampling_rate=videos.sampling_rate)
    seen, sr = videos.visual_onsets_s, videos.sampling_rate

    def measure(audio, shift=None):
        s = synchrony(audio, seen, **kw)
        out = {k: getattr(s, k) for k in KEYS}
        if shift is not None:
            error = s.offsets_s - shift
            out.update(shift_s=shift, median_offset_s=float(np.median(s.offsets_s)),
                       median_error_s=float(np.median(s.offsets_s) - shift),
                       share_within_40ms=float(np.mean(np.abs(error) <= 0.04)))
        return out

    report = {"num_videos": num, "num_notes": int(np.isfinite(seen).sum()),
              "real": measure(videos.audio),
              "shuffled": measure(np.roll(videos.audio, 1, axis=0)),
              "shifted_late": measure(shifted(videos.audio, SHIFT_S, sr), SHIFT_S),
              "shifted_early": measure(shifted(videos.audio, -SHIFT_S, sr), -SHIFT_S)}
    voc = decoded(videos)
    report["decoded"] = measure(voc)
    report["decoded_shifted_late"] = measure(shifted(voc, SHIFT_S, sr), SHIFT_S)
    return report


def spread(per_seed: dict) -> dict:
    """For each condition and figure: mean, min, max and standard deviation over the seeds."""
    out = {}
    first = next(iter(per_seed.values()))
    for cond, figures in first.items():
        if not isinstance(figures, dict):
            continue
        out[cond] = {}
        for key, value in figures.items():
            if not isinstance(value, float):
                continue
            v = np.array([r[cond][key] for r in per_seed.values()], np.float64)
            out[cond][key] = {"mean": float(v.mean()), "min": float(v.min()),
                              "max": float(v.max()), "std": float(v.std(ddof=1))
                              if len(v) > 1 else 0.0}
    return out


def check_targets(per_seed: dict) -> dict:
    """Each target on every seed: real F1 ≥ 0.95; each shift's median recovered within 40 ms."""
    out = {}
    for seed, r in per_seed.items():
        out[seed] = {
            "real_f1": r["real"]["f1"] >= TARGETS["real_f1_min"],
            "shift_late_recovered": abs(r["shifted_late"]["median_error_s"])
            <= TARGETS["shift_error_max_s"],
            "shift_early_recovered": abs(r["shifted_early"]["median_error_s"])
            <= TARGETS["shift_error_max_s"],
            "shuffled_below_real": r["shuffled"]["f1"] < r["real"]["f1"]}
    return out


def summary(report: dict) -> str:
    """The validation in a few lines, from the report."""
    s = report["spread"]

    def fig(cond, key, scale=1.0, digits=3):
        v = s[cond][key]
        return (f"{v['mean'] * scale:.{digits}f} (range {v['min'] * scale:.{digits}f}–"
                f"{v['max'] * scale:.{digits}f})")

    n, num = len(report["seeds"]), report["per_seed"][report["seeds"][0]]["num_videos"]
    return "\n".join([
        f"timing measure over {n} world seeds ({num} videos each):",
        f"  real pairs:      F1 {fig('real', 'f1')}, mean |offset| "
        f"{fig('real', 'mean_abs_offset_s', 1000, 1)} ms, DeSync {fig('real', 'desync_s', 1000, 1)}"
        " ms",
        f"  shuffled pairs:  F1 {fig('shuffled', 'f1')}, DeSync "
        f"{fig('shuffled', 'desync_s', 1000, 0)} ms",
        f"  shifted +200 ms: median offset {fig('shifted_late', 'median_offset_s', 1000, 1)} ms, "
        f"F1 {fig('shifted_late', 'f1')}",
        f"  shifted −200 ms: median offset {fig('shifted_early', 'median_offset_s', 1000, 1)} ms, "
        f"F1 {fig('shifted_early', 'f1')}",
        f"  decoded (pocket-AudioLDM's decoding): F1 {fig('decoded', 'f1')}, mean offset "
        f"{fig('decoded', 'mean_offset_s', 1000, 1)} ms",
        f"  targets met on every seed: {report['targets_met']}"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[8001, 8002, 8003])
    ap.add_argument("--num", type=int, default=64, help="videos per seed")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    start = time.perf_counter()
    per_seed = {str(seed): one_seed(seed, args.num) for seed in args.seeds}
    targets = check_targets(per_seed)
    report = {"about": __doc__.split("\n\n")[0], "seeds": [str(s) for s in args.seeds],
              "shift_s": SHIFT_S, "targets": TARGETS, "per_seed": per_seed,
              "spread": spread(per_seed), "targets_by_seed": targets,
              "targets_met": all(all(t.values()) for t in targets.values()),
              "wall_s": round(time.perf_counter() - start, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, (json.dumps(report, indent=1) + "\n").encode())
    print(summary(report))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
