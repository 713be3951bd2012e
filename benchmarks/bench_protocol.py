"""The sensitivity lab: how far does each metric move when one protocol choice changes?

Generates the sounds of held-out pocket images with every system once, then scores them under
one changed protocol choice at a time — resampler, the band the extractors hear, clip crop,
number of clips, reference set — with the pocket evaluators and with the paper's extractor
architectures at random init (v2a_kit.evaluation.sensitivity). Prints each metric's largest
relative movement per choice, and which of the paper's published differences are larger than
that movement; writes benchmarks/results/protocol.json (notebook 06 and the README read it).
Not a speed benchmark: it measures the metrics' wobble, and its own run time.

    python benchmarks/bench_protocol.py [--n 32] [--num-samples 2] [--paper-n 16]
        [--resamples 200] [--no-paper] [--fast] [--out benchmarks/results/protocol.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from v2a_kit.atomic import atomic_write
from v2a_kit.evaluation.sensitivity import (
    FAST_LAB,
    claims_table,
    protocol_sensitivity,
    sensitivity_table,
)

OUT = Path(__file__).parent / "results" / "protocol.json"
UPDATE_README = Path(__file__).parent.parent / "tools" / "update_readme.py"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=32, help="held-out images (pocket evaluators)")
    ap.add_argument("--num-samples", type=int, default=2, help="sounds per image")
    ap.add_argument("--paper-n", type=int, default=16,
                    help="images scored by the paper's architectures at random init")
    ap.add_argument("--resamples", type=int, default=200, help="bootstrap redraws per score")
    ap.add_argument("--no-paper", action="store_true", help="the pocket evaluators only")
    ap.add_argument("--fast", action="store_true", help="a smoke run (a few images, not saved)")
    ap.add_argument("--out", type=Path, default=None, help=f"the JSON (default: {OUT})")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if args.fast:
        report = protocol_sensitivity(**FAST_LAB)
    else:
        report = protocol_sensitivity(args.n, args.num_samples, paper_n=args.paper_n,
                                      resamples=args.resamples, paper=not args.no_paper,
                                      progress=True)
        report["command"] = "python benchmarks/bench_protocol.py " + " ".join(sys.argv[1:])
        out = args.out or OUT
        atomic_write(out, (json.dumps(report, indent=1, allow_nan=False) + "\n").encode())
        print(f"wrote {out}")
        if out == OUT:
            subprocess.run([sys.executable, str(UPDATE_README)], check=True)
    for part in report["wobble"]:
        print(f"\n{part}: largest relative movement of each metric, one choice at a time")
        print(sensitivity_table(report, part))
    print("\nthe paper's claimed differences beside that movement")
    print(claims_table(report))
    print(f"\n{report['settings']['seconds']['total']:.0f} s")


if __name__ == "__main__":
    main()
