"""What pocket-AudioLDM needs to follow its condition: each change to the generator, trained on
the build's own clips and pocket-CLAP and judged as the oracle beside both ceilings
(:mod:`v2a_kit.pocket.ablation`). Writes ``generator_ablation.json`` into ``benchmarks/results``
(``ablation_table`` renders it; the README shows the EMA table).

    python benchmarks/bench_generator.py [--weights DIR] [--n 150] [--variants NAME ...]

Cost on 2 CPU cores: one UNet training per variant (34 to 44 CPU minutes each, the build's
generator stage) plus the oracle's sounds: the committed run took 95 minutes for the four, on a
shared machine (``settings.total_seconds`` in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from v2a_kit.atomic import atomic_write
from v2a_kit.pocket.ablation import GENERATOR_VARIANTS, ablation_table, generator_ablation

OUT = Path(__file__).parent / "results" / "generator_ablation.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=None, help="a pocket build (default: shipped)")
    ap.add_argument("--n", type=int, default=150, help="held-out clips judged")
    ap.add_argument("--variants", nargs="+", default=None, choices=list(GENERATOR_VARIANTS))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    report = generator_ablation(args.weights, args.variants, n=args.n)
    report["command"] = "python benchmarks/bench_generator.py" + (
        f" --n {args.n}" if args.n != 150 else "")
    atomic_write(args.out, (json.dumps(report, indent=1, allow_nan=False) + "\n").encode())
    print(ablation_table(report), "\n")
    print(ablation_table(report, "raw"))
    print(f"wrote {args.out} ({report['settings']['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
