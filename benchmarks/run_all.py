"""Run the speed benchmarks of this folder — the kit against the bare library call, measured as
ratios in one run — one after the other (``make benchmark``); ``--all`` runs every
``bench_*.py``, the measurements too (the science, the ablations, the build spread: hours on 2
CPU cores).

    python benchmarks/run_all.py [--all]
"""

import argparse
import runpy
import sys
from pathlib import Path

here = Path(__file__).parent
# kit vs bare: each prints its ratios (target ≈ 1.0) measured in one run
SPEED = ("bench_startup.py", "bench_embeddings.py", "bench_mappers.py", "bench_generation.py",
         "bench_sharding.py")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="every bench_*.py, measurements too")
    args = ap.parse_args()
    scripts = (sorted(here.glob("bench_*.py")) if args.all
               else [here / name for name in SPEED])
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        sys.argv = [str(script)]
        runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
