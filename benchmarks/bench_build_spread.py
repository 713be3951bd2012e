"""How much a pocket build's quality gates move with the build seed: ``v2a-kit pocket build``
for each seed (the shipped build is seed 0), then each gate's value per seed, its mean and
range, and the build-level targets checked on every seed. Writes ``build_spread.json`` into
``benchmarks/results``: what a rebuild reproduces (bit for bit only on the same CPU, torch build
and thread count; elsewhere within this spread). The README renders it.

    python benchmarks/bench_build_spread.py [--seeds 1 2] [--root ~/.cache/v2a-kit/builds]
        [--note "what a reader should know of this run"]

A build takes about 33 min on 2 CPU cores (``build.json``'s ``timings_s``); builds already in
``--root`` are reused.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from v2a_kit.atomic import atomic_write
from v2a_kit.pocket.build import build
from v2a_kit.pocket.models.loading import pocket_dir

OUT = Path(__file__).parent / "results" / "build_spread.json"
# (gate, key) pairs and the targets the design sets on them
TARGETS = {("embedding_ceiling", "all"): 0.93, ("embedding_ceiling", "level_within_3db"): 0.9,
           ("clip_zero_shot", "min"): 0.9, ("clap_zero_shot", "min"): 0.9,
           ("generated_from_audio", "all"): 0.9, ("loudness", "level_within_3db"): 0.9}
GATES = ("clip_zero_shot", "clap_zero_shot", "embedding_ceiling", "clip_probe", "ceiling",
         "generated_from_audio", "generated_from_text", "loudness", "nearest_image")


def _values(report: dict) -> dict:
    out = {}
    for gate in GATES:
        g = report["gates"].get(gate, {})
        for k, v in g.items():
            if isinstance(v, (int, float)):
                out[f"{gate}.{k}"] = float(v)
        accs = [v for k, v in g.items() if gate.endswith("zero_shot") and k != "all"]
        if accs:
            out[f"{gate}.min"] = float(min(accs))
    out["build_minutes"] = sum(report["timings_s"].values()) / 60
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--root", type=Path,
                    default=Path(os.environ.get("V2A_KIT_CACHE", "~/.cache/v2a-kit")).expanduser()
                    / "builds")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--note", default="", help="what the reader should know of this run (e.g. "
                    "that other work shared the machine): recorded and shown beside the table")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    reports = {0: json.loads((pocket_dir() / "build.json").read_text())}
    for seed in args.seeds:
        folder = args.root / f"seed{seed}"
        if not (folder / "build.json").is_file():
            build(folder, seed=seed, progress=True)
        reports[seed] = json.loads((folder / "build.json").read_text())
    values = {seed: _values(r) for seed, r in reports.items()}
    keys = sorted(set.intersection(*(set(v) for v in values.values())))
    gates = {k: {"per_seed": {str(s): round(values[s][k], 4) for s in values},
                 "mean": round(float(np.mean([values[s][k] for s in values])), 4),
                 "min": round(float(min(values[s][k] for s in values)), 4),
                 "max": round(float(max(values[s][k] for s in values)), 4)} for k in keys}
    targets = []
    for (gate, key), need in TARGETS.items():
        k = f"{gate}.{key}"
        if k in gates:
            targets.append({"gate": k, "target": need, "min_over_seeds": gates[k]["min"],
                            "met_on_every_seed": gates[k]["min"] >= need})
    report = {"seeds": sorted(values), "gates": gates, "targets": targets,
              "machines": {str(s): r.get("machine") for s, r in reports.items()},
              "note": args.note,
              "command": "python benchmarks/bench_build_spread.py --seeds "
                         + " ".join(map(str, args.seeds))}
    atomic_write(args.out, (json.dumps(report, indent=1) + "\n").encode())
    for t in targets:
        print(f"[{'MET ' if t['met_on_every_seed'] else 'MISS'}] {t['gate']} ≥ {t['target']}: "
              f"lowest over seeds {t['min_over_seeds']}")
    for k in keys:
        g = gates[k]
        print(f"{k:45s} mean {g['mean']:.4f}  range {g['min']:.4f} … {g['max']:.4f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
