"""AudioLDM samplers on the pocket world: DDIM-200 (the paper's) vs fewer steps and DPM-Solver++.

Generates the sounds of the same held-out images with every setting in one run (paired: the
same mapped CLAP embeddings and initial noise) and prints seconds per clip, the speed-up over
DDIM-200, tagger FD and CS against the real audio, and the default chosen by the rule "the
fastest setting within noise of DDIM-200" (v2a_kit.pocket.schedulers). Writes the report to
benchmarks/results/schedulers.json, from which the README's table is rendered
and rewrites that table in README.md (tools/update_readme.py)
(tests/test_docs.py checks that they agree).

    python benchmarks/bench_schedulers.py [--n 96] [--fast]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from v2a_kit.atomic import atomic_write
from v2a_kit.pocket.schedulers import compare_schedulers, scheduler_table

OUT = Path(__file__).parent / "results" / "schedulers.json"
UPDATE_README = Path(__file__).parent.parent / "tools" / "update_readme.py"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=96, help="held-out images")
    ap.add_argument("--fast", action="store_true", help="a smoke run (8 images, not saved)")
    args = ap.parse_args()
    if args.fast:
        report = compare_schedulers(n=8, settings=(("ddim", 20), ("dpmsolver++", 5)),
                                    batch_size=8, num_bootstrap=20)
    else:
        report = compare_schedulers(n=args.n, progress=True)
        atomic_write(OUT, (json.dumps(report, indent=2) + "\n").encode())
        print(f"wrote {OUT}")
        subprocess.run([sys.executable, str(UPDATE_README)], check=True)
    print(scheduler_table(report))
    print(f"default: {report['default']}")


if __name__ == "__main__":
    main()
