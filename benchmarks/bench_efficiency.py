"""Why a mapper? The regression and generative mappers (into the frozen pocket-CLAP and
pocket-AudioLDM) against a direct baseline (the pocket UNet trained from scratch on pocket-CLIP
image embeddings: Im2Wav's idea), trained on the same SEEN pairs at several training-set sizes
and seeds, scored by the science benchmark's path (``reproduce``) on SEEN and UNSEEN pictures,
beside trained parameters, training time and inference time per sound
(:mod:`v2a_kit.pocket.efficiency`). Writes ``06_efficiency.json`` into ``figures/``.

    python benchmarks/bench_efficiency.py [--seeds 0 1 2] [--sizes 256 1024 4096]
        [--direct-steps 150] [--n 24] [--num-samples 2] [--out OUT.json]
    python benchmarks/bench_efficiency.py --fast     # the code path in minutes; nothing saved
                                                     # (unless --out: a smoke run's JSON)

The direct baseline's budget is ``--direct-steps`` optimiser steps of batch 64 (the shipped
pocket-AudioLDM trained 2,800: see ``shipped`` in the JSON). The run's own wall and CPU time and
the machine's load are in ``settings``. Its design budget is 30 min on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from v2a_kit.atomic import atomic_write
from v2a_kit.pocket.efficiency import (
    DIRECT_STEPS,
    EFFICIENCY_SIZES,
    FAST_EFFICIENCY,
    MAPPER_MIN_STEPS,
    efficiency_table,
    measure_efficiency,
)
from v2a_kit.viz import figures_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(EFFICIENCY_SIZES),
                    help="training-set sizes (pairs), increasing")
    ap.add_argument("--direct-steps", type=int, default=DIRECT_STEPS,
                    help="the direct baseline's optimiser steps (its budget)")
    ap.add_argument("--mapper-min-steps", type=int, default=MAPPER_MIN_STEPS)
    ap.add_argument("--n", type=int, default=24, help="held-out pictures per split")
    ap.add_argument("--num-samples", type=int, default=2, help="sounds per picture")
    ap.add_argument("--steps", type=int, default=None, help="generator steps (default: 10)")
    ap.add_argument("--weights", type=Path, default=None, help="a pocket build (default: shipped)")
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("V2A_KIT_CACHE", "~/.cache/v2a-kit")).expanduser()
                    / "efficiency", help="where the direct baselines' checkpoints are written")
    ap.add_argument("--out", type=Path, default=None,
                    help="the JSON (default: 06_efficiency.json in figures/)")
    ap.add_argument("--fast", action="store_true",
                    help="tiny sizes and steps: checks the code path; writes no JSON unless "
                         "--out")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if args.fast:
        kw = dict(FAST_EFFICIENCY)
    else:
        kw = dict(seeds=args.seeds, sizes=args.sizes, direct_steps=args.direct_steps,
                  mapper_min_steps=args.mapper_min_steps, n=args.n,
                  num_samples=args.num_samples, num_inference_steps=args.steps)
    report = measure_efficiency(**kw, weights=args.weights,
                                out_dir=None if args.fast else args.cache, progress=True)
    report["command"] = "python benchmarks/bench_efficiency.py" + (" --fast" if args.fast else (
        f" --seeds {' '.join(map(str, args.seeds))} --sizes {' '.join(map(str, args.sizes))}"
        f" --direct-steps {args.direct_steps} --n {args.n} --num-samples {args.num_samples}"))
    for split in ("seen", "unseen"):
        print(efficiency_table(report, split), "\n")
    for t in report["targets"]:
        mark = {True: "MET ", False: "MISS", None: "n/a "}[t["met"]]
        print(f"[{mark}] {t['target']}: {t['measured']}")
    s = report["settings"]
    print(f"{s['total_seconds']:.0f} s wall, {s['cpu_seconds']:.0f} s CPU; load "
          f"{s['load_average_at_start']} -> {s['load_average_at_end']}")
    if args.fast and args.out is None:
        print("--fast: nothing written (give --out to keep the smoke run's JSON elsewhere)")
        return
    out = args.out or figures_dir(fast=False) / "06_efficiency.json"
    atomic_write(out, (json.dumps(report, indent=1, allow_nan=False) + "\n").encode())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
