"""Timing in the pocket world (issue 25): the synchrony measure's validation, on timed videos.

    python benchmarks/bench_timing.py [--seeds 8001 8002 8003] [--num 64]

**Validation of the measure** (:func:`v2a_kit.evaluation.timing.synchrony` on
:func:`v2a_kit.pocket.world.timed.sample_world_videos`, 3-scene videos at 25 fps), per world seed:

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
targets checked on every seed.

**The systems** (:func:`v2a_kit.pocket.timing.timed_systems`, the same videos and seeds; the
shipped diffusion mapper at its calibrated guidance, pocket-AudioLDM with DPM-Solver++ 10 steps,
guidance 2.5; video ``i`` seeded ``i``): real, shuffled, decoded (the ceiling), V2A-Mapper
mean-pooled (one CLIP vector per video), V2A-Mapper per segment (per scene, as the pipeline cuts
a video) and the timing-aware variant (the per-segment sounds, notes placed at the onsets the
shipped onset predictor reads from every frame). Each scored by the synchrony measure (onset
F1, mean |offset|, DeSync), the pocket tagger's attribute accuracy scene by scene, and FD of its
features against the real scenes' (for the systems that are not the real sounds themselves),
with the predictor's own onset scores. Targets for the timing-aware variant, on the seeds'
mean: onset F1 ≥ 0.8, mean |offset| ≤ 40 ms, and each attribute accuracy (and all four at
once) no lower, FD no higher, than the mean-pooled mapper's by more than twice that figure's
standard deviation over the seeds (the mean-pooled mapper's own); the mean-pooled figures are
reported, not targeted.

Writes ``figures/timing.json``. The seeds are neither the detector's tuning seed (7000), the
tests' (77), nor the onset predictor's training and validation seeds (9500, 9501).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from v2a_kit.atomic import atomic_write
from v2a_kit.evaluation.timing import synchrony
from v2a_kit.pocket.world.timed import sample_world_videos

OUT = Path(__file__).resolve().parents[1] / "figures" / "timing.json"
SHIFT_S = 0.2
TARGETS = {"real_f1_min": 0.95, "shift_error_max_s": 0.04}
KEYS = ("f1", "precision", "recall", "mean_abs_offset_s", "mean_offset_s", "desync_s")
SYSTEM_TARGETS = {"variant_f1_min": 0.8, "variant_offset_max_s": 0.04,
                  "no_worse_than_mean_pooled_by_stds": 2.0}
ATTRIBUTE_KEYS = ("acc_shape", "acc_colour", "acc_count", "acc_size", "acc_all")


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
    from v2a_kit.pocket.timing import decoded_tracks
    return decoded_tracks(videos)


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


# ----------------------------------------------------------------------------- the systems

def load_models():
    """The pocket models the systems use (CPU): pocket-CLIP, the diffusion mapper,
    pocket-AudioLDM, the onset predictor and the pocket extractors (the tagger judges)."""
    import v2a_kit as vk
    from v2a_kit.pocket import load_onsets
    from v2a_kit.registry import load_extractors

    clip = vk.load_clip("pocket", device="cpu")
    audioldm = vk.load_audioldm("pocket", device="cpu")
    mapper = vk.load_mapper("pocket", kind="diffusion", clip_space=clip.space,
                            clap_space=audioldm.space)
    return {"clip": clip, "audioldm": audioldm, "mapper": mapper,
            "onsets": load_onsets(clip_space=clip.space),
            "extractors": load_extractors("pocket", device="cpu")}


def systems_seed(seed: int, num: int, models: dict) -> dict:
    """Every system's figures on the timed videos of one world seed."""
    from v2a_kit.evaluation import extract
    from v2a_kit.pocket.models.onsets import embed_frames
    from v2a_kit.pocket.timing import onset_scores, timed_scores, timed_systems

    videos = sample_world_videos(num, seed)
    emb = embed_frames(models["clip"], videos.frames)
    made = timed_systems(videos, clip=models["clip"], mapper=models["mapper"],
                         audioldm=models["audioldm"], onsets=models["onsets"], seed=0,
                         frame_embeds=emb)
    ex = models["extractors"]
    ref = extract(ex, videos.scenes.audio.astype(np.float32), what="real scenes")
    out = {name: timed_scores(videos, tracks, ex, fd=name not in ("real", "shuffled"),
                              references=ref)
           for name, tracks in made.tracks.items()}
    out["predictor"] = onset_scores(made.predicted_onsets_s, videos.visual_onsets_s)
    out["seconds"] = made.seconds
    return out


def check_system_targets(spread_: dict) -> dict:
    """The timing-aware variant against its targets, on the seeds' means (see the docstring)."""
    v, m = spread_["timing-aware"], spread_["mean-pooled"]
    k = SYSTEM_TARGETS["no_worse_than_mean_pooled_by_stds"]
    out = {"onset_f1": v["f1"]["mean"] >= SYSTEM_TARGETS["variant_f1_min"],
           "mean_abs_offset": v["mean_abs_offset_s"]["mean"]
           <= SYSTEM_TARGETS["variant_offset_max_s"]}
    for key in ATTRIBUTE_KEYS:
        out[key] = v[key]["mean"] >= m[key]["mean"] - k * m[key]["std"]
    out["fd"] = v["fd"]["mean"] <= m["fd"]["mean"] + k * m["fd"]["std"]
    return out


def systems_table(report: dict) -> str:
    """The systems' table (mean ± standard deviation over the seeds), from the report."""
    s = report["systems"]["spread"]
    cols = [("onset F1", "f1", 1, 3), ("|offset| ms", "mean_abs_offset_s", 1000, 1),
            ("DeSync ms", "desync_s", 1000, 0), ("acc all", "acc_all", 1, 3),
            ("acc count", "acc_count", 1, 3), ("FD", "fd", 1, 2)]
    lines = ["| system | " + " | ".join(c[0] for c in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for name in report["systems"]["order"]:
        cells = []
        for _, key, scale, digits in cols:
            v = s[name].get(key)
            cells.append("—" if v is None else
                         f"{v['mean'] * scale:.{digits}f} ± {v['std'] * scale:.{digits}f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[8001, 8002, 8003])
    ap.add_argument("--num", type=int, default=64, help="videos per seed")
    ap.add_argument("--systems-num", type=int, default=64, help="videos per seed, systems")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    start = time.perf_counter()
    per_seed = {str(seed): one_seed(seed, args.num) for seed in args.seeds}
    targets = check_targets(per_seed)
    models = load_models()
    systems = {str(seed): systems_seed(seed, args.systems_num, models) for seed in args.seeds}
    order = [k for k in systems[str(args.seeds[0])] if k not in ("predictor", "seconds")]
    sys_spread = spread({k: {n: v[n] for n in [*order, "predictor"]}
                         for k, v in systems.items()})
    sys_targets = check_system_targets(sys_spread)
    report = {"about": __doc__.split("\n\n")[0], "seeds": [str(s) for s in args.seeds],
              "shift_s": SHIFT_S, "targets": TARGETS, "per_seed": per_seed,
              "spread": spread(per_seed), "targets_by_seed": targets,
              "targets_met": all(all(t.values()) for t in targets.values()),
              "systems": {"num_videos": args.systems_num, "order": order,
                          "settings": {"mapper": "pocket diffusion (calibrated guidance)",
                                       "scheduler": "dpmsolver++", "steps": 10,
                                       "guidance_scale": 2.5, "seed": 0},
                          "onset_predictor": models["onsets"].facts.get("train_report"),
                          "targets": SYSTEM_TARGETS, "per_seed": systems,
                          "spread": sys_spread, "targets_checked": sys_targets,
                          "targets_met": all(sys_targets.values())},
              "wall_s": round(time.perf_counter() - start, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, (json.dumps(report, indent=1) + "\n").encode())
    print(summary(report))
    print(systems_table(report))
    print(f"  timing-aware variant's targets: {report['systems']['targets_checked']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
