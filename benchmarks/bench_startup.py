"""Start-up: how long `import v2a_kit`, `v2a-kit --help` and refusing bad inputs take, as ratios
to a bare `python -c pass` measured in the same run (the machines are shared and noisy).

The package loads torch, open_clip, transformers and diffusers only when first needed (PEP 562
attributes in ``v2a_kit/__init__.py``; imports inside the commands), so the first two should
cost little more than starting Python; a refusal — a bad number, a bad file, an output folder
that cannot be written, a length the generator cannot make — is decided before torch is
imported (``v2a_kit/preflight.py``) and should end within a second. Each refusal is also
checked to leave nothing on disk.

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from v2a_kit.atomic import atomic_write

ROOT = Path(__file__).resolve().parent.parent


def seconds(cmd: list[str], expect_fail: bool = False) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - t
    if (proc.returncode != 0) != expect_fail:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return took


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "broken.png"
        buf = Path(tmp) / "whole.png"
        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(buf)
        bad.write_bytes(buf.read_bytes()[:60])  # a truncated PNG
        (Path(tmp) / "notes.jpg").write_text("not an image")
        (Path(tmp) / "a-file").write_text("not a folder")
        cli = [py, "-m", "v2a_kit.cli", "generate"]
        out = ["-o", str(Path(tmp) / "out")]
        commands = {
            "python -c pass": ([py, "-c", "pass"], False),
            "import v2a_kit": ([py, "-c", "import v2a_kit"], False),
            "v2a-kit --help": ([py, "-m", "v2a_kit.cli", "--help"], False),
            "v2a-kit generate --help": ([*cli, "--help"], False),
            "refuse a truncated PNG": ([*cli, str(bad), *out], True),
            "refuse a text file named .jpg": ([*cli, str(Path(tmp) / "notes.jpg"), *out], True),
            "refuse --steps 0": ([*cli, str(buf), *out, "--steps", "0"], True),
            "refuse --length 30 (pocket: 1 s)": ([*cli, str(buf), *out, "--length", "30"], True),
            "refuse an output under a file": ([*cli, str(buf), "-o",
                                               str(Path(tmp) / "a-file" / "out")], True),
        }
        times = {k: [] for k in commands}
        for _ in range(args.repeats):  # interleaved, so drifts in machine load hit all
            for name, (cmd, fail) in commands.items():
                times[name].append(seconds(cmd, fail))
        left = sorted(p.name for p in Path(tmp).iterdir())
    base = statistics.median(times["python -c pass"])
    res = {name: {"median_s": round(statistics.median(t), 3),
                  "over_python": round(statistics.median(t) / base, 1)}
           for name, t in times.items()}
    res["left_on_disk_after_refusals"] = [n for n in left if n not in ("broken.png", "whole.png",
                                                                        "notes.jpg", "a-file")]
    print(f"start-up, median of {args.repeats} interleaved runs:")
    for name, r in res.items():
        if isinstance(r, dict):
            print(f"  {name:34s} {r['median_s']:7.3f} s   {r['over_python']:6.1f}x python -c pass")
    print(f"  left on disk by the refusals: {res['left_on_disk_after_refusals'] or 'nothing'}")
    out = ROOT / "benchmarks" / "results" / "startup.json"
    atomic_write(out, (json.dumps(res, indent=2) + "\n").encode())
    return res


if __name__ == "__main__":
    main()
