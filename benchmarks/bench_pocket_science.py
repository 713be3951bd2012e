"""The pocket world's science: does it show the paper's findings? Over 3 mapper seeds, on SEEN
and UNSEEN attribute combinations, every system (real audio, the representation ceiling, the
oracle, the regression, generative and ridge mappers, nearest-neighbour retrieval and the text
bridge) on FD, FAD, KL, IS, CS, all-attribute accuracy, the heard-only contour's proportions,
the within-image spread in CLAP space and loudness; then each design target beside the measured
values (:mod:`v2a_kit.pocket.science`). Writes ``figures/06_pocket_science.json``.

    python benchmarks/bench_pocket_science.py [--seeds 0 1 2] [--n 64] [--num-samples 4]
        [--mapper-root ~/.cache/v2a-kit/science] [--out figures/06_pocket_science.json]

Seed 0 uses the shipped mappers; seeds 1 and 2 train theirs with ``v2a-kit pocket mappers``
into ``--mapper-root`` the first time (a few minutes each) and reuse them afterwards. Full run on
2 CPU cores: see ``settings.total_seconds`` in the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from v2a_kit.atomic import atomic_write
from v2a_kit.pocket.science import measure_science, science_table
from v2a_kit.viz import figures_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--n", type=int, default=64, help="held-out images per split")
    ap.add_argument("--num-samples", type=int, default=4, help="sounds per image")
    ap.add_argument("--steps", type=int, default=None, help="generator steps (default: 10)")
    ap.add_argument("--mapper-root", type=Path,
                    default=Path(os.environ.get("V2A_KIT_CACHE", "~/.cache/v2a-kit")).expanduser()
                    / "science", help="where mappers of seeds other than 0 are trained")
    ap.add_argument("--weights", type=Path, default=None, help="a pocket build (default: shipped)")
    ap.add_argument("--out", type=Path, default=None,
                    help="the JSON (default: figures/06_pocket_science.json)")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    report = measure_science(args.seeds, args.n, args.num_samples, weights=args.weights,
                             mapper_root=args.mapper_root, num_inference_steps=args.steps,
                             progress=True)
    report["command"] = "python benchmarks/bench_pocket_science.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in (("seeds", args.seeds), ("n", args.n), ("num_samples", args.num_samples))
    )
    out = args.out or figures_dir(fast=False) / "06_pocket_science.json"
    atomic_write(out, (json.dumps(report, indent=1, allow_nan=False) + "\n").encode())
    for split in ("seen", "unseen"):
        print(science_table(report, split), "\n")
    for t in report["targets"]:
        mark = {True: "MET ", False: "MISS", None: "n/a "}[t["met"]]
        print(f"[{mark}] {t['target']}: {t['measured']}")
    print(f"wrote {out} ({report['settings']['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
