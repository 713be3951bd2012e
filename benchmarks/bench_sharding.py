"""Sharded generation on the pocket preset: two processes vs one, the sharded path vs the plain
pipeline, and a run killed at a random point then resumed.

Prints ratios measured in one run and writes them to ``benchmarks/results/sharding.json`` (the
machines are shared and noisy: the load average seen is recorded beside the figures).

1. **overhead** — in one process, on the same loaded pipeline and inputs, interleaved rounds of
   the plain path (``V2APipeline.__call__`` + ``write_outputs``, what ``v2a-kit generate`` ran
   before sharding) and the sharded path at world size 1 (``plan_generation`` +
   ``generate_run``, into a fresh folder each time); ratio = sharded / plain (median times).
2. **throughput** — ``torchrun --nproc_per_node 1`` and ``2`` of ``v2a-kit generate`` on the
   same inputs, one thread per process; throughput = inputs / the generation stage's seconds
   (``generate.json``'s ``generate_s``: after the models are loaded, until the last rank is
   done); the two runs' files are compared byte for byte.
3. **resume** — ``v2a-kit generate`` (one process) killed with SIGKILL once a random number of
   inputs are finished, then rerun; its files are compared with the uninterrupted run's, and
   the inputs the rerun put through the pipeline again although they were finished are counted.

    python benchmarks/bench_sharding.py [--num-inputs 32] [--batch-size 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "sharding.json"


def load() -> float:
    return round(os.getloadavg()[0], 2)


def env() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "OMP_NUM_THREADS": "1"}


def outputs(folder: Path) -> dict[str, bytes]:
    """The run's files, generate.json (timings) and the run's settings record aside."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("generate.json", "settings.json")}


def cli(nproc: int | None, inputs: Path, out: Path, batch_size: int) -> list[str]:
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone",
                 "--nproc_per_node", str(nproc)] if nproc else [sys.executable])
    return [*launcher, "-m", "v2a_kit.cli", "generate", str(inputs), "-o", str(out),
            "--batch-size", str(batch_size), "--no-progress", "--device", "cpu"]


def overhead(inputs: Path, work: Path, batch_size: int, repeats: int) -> dict:
    from v2a_kit.cli import build_parser
    from v2a_kit.distributed import DistInfo
    from v2a_kit.pipeline import V2APipeline, write_outputs
    from v2a_kit.preflight import generate_settings
    from v2a_kit.runs import generate_run, plan_generation
    pipe = V2APipeline.from_preset("pocket", "diffusion", device="cpu")

    def plain(k):
        out = pipe(str(inputs), batch_size=batch_size, progress=False)
        write_outputs(out, work / f"plain{k}")

    def sharded(k):
        args = build_parser().parse_args(["generate", str(inputs), "-o", str(work / f"s{k}"),
                                          "--batch-size", str(batch_size)])
        plan = plan_generation(args.inputs, args.outdir, generate_settings(args))
        generate_run(pipe, plan, DistInfo(0, 1, 0), progress=False)

    plain("warm")
    sharded("warm")
    t_plain, t_sharded = [], []
    for k in range(repeats):  # interleaved, so drifts in the machine's load hit both
        t = time.perf_counter()
        plain(k)
        t_plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        sharded(k)
        t_sharded.append(time.perf_counter() - t)
    mp, ms = statistics.median(t_plain), statistics.median(t_sharded)
    return {"plain_s": [round(t, 3) for t in t_plain],
            "sharded_ws1_s": [round(t, 3) for t in t_sharded],
            "ratio_sharded_over_plain": round(ms / mp, 3)}


def throughput(inputs: Path, work: Path, n: int, batch_size: int) -> dict:
    res = {}
    for nproc in (1, 2):
        out = work / f"torchrun{nproc}"
        t = time.perf_counter()
        r = subprocess.run(cli(nproc, inputs, out, batch_size), env=env(), cwd=REPO,
                           capture_output=True, text=True)
        wall = time.perf_counter() - t
        if r.returncode:
            raise SystemExit(r.stderr[-3000:])
        gen_s = json.loads((out / "generate.json").read_text())["generate_s"]
        res[nproc] = {"wall_s": round(wall, 2), "generate_s": gen_s,
                      "inputs_per_s": round(n / gen_s, 3), "load_after": load()}
    one, two = outputs(work / "torchrun1"), outputs(work / "torchrun2")
    return {"one_process": res[1], "two_processes": res[2],
            "throughput_ratio": round(res[2]["inputs_per_s"] / res[1]["inputs_per_s"], 3),
            "wall_ratio": round(res[1]["wall_s"] / res[2]["wall_s"], 3),
            "identical_files": one == two, "num_files": len(one)}


def resume(inputs: Path, work: Path, n: int, batch_size: int, reference: Path,
           seed: int) -> dict:
    out, done = work / "killed", work / "killed" / ".v2a-run" / "done"
    target = random.Random(seed).randint(1, n - 1)
    proc = subprocess.Popen(cli(None, inputs, out, batch_size), env=env(), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    while proc.poll() is None:
        if done.is_dir() and len(list(done.glob("*.json"))) >= target:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    finished = len(list(done.glob("*.json")))
    wavs = len(list(out.glob("*.wav")))
    r = subprocess.run(cli(None, inputs, out, batch_size), env=env(), cwd=REPO,
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr[-3000:])
    rank0 = json.loads((out / "generate.json").read_text())["rank0"]
    a, b = outputs(reference), outputs(out)
    return {"kill_after_records": target, "records_at_kill": finished, "wavs_at_kill": wavs,
            "rerun_wrote": rank0["computed"], "rerun_regenerated": rank0["regenerated"],
            "recomputed_finished_inputs": rank0["regenerated"] - rank0["computed"],
            "chunk_size": batch_size, "identical_to_uninterrupted": a == b}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--num-inputs", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 1000)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # as each launched process (OMP_NUM_THREADS=1)
    from v2a_kit.pocket.world import sample_world
    work = Path(tempfile.mkdtemp(prefix="bench-sharding-"))
    try:
        inputs = work / "inputs"
        inputs.mkdir()
        for i, im in enumerate(sample_world(args.num_inputs, seed=4242).images):
            Image.fromarray(im).save(inputs / f"im{i:03d}.png")
        report = {"preset": "pocket", "mapper": "diffusion", "num_inputs": args.num_inputs,
                  "batch_size": args.batch_size, "threads_per_process": 1,
                  "cpu_count": os.cpu_count(), "load_before": load()}
        report["overhead"] = overhead(inputs, work, args.batch_size, args.repeats)
        print(f"sharded path at world size 1 / plain pipeline: "
              f"{report['overhead']['ratio_sharded_over_plain']:.3f}x", flush=True)
        report["throughput"] = throughput(inputs, work, args.num_inputs, args.batch_size)
        tp = report["throughput"]
        print(f"2 processes vs 1: throughput {tp['throughput_ratio']:.2f}x (wall clock "
              f"{tp['wall_ratio']:.2f}x), identical files: {tp['identical_files']}", flush=True)
        report["resume"] = resume(inputs, work, args.num_inputs, args.batch_size,
                                  work / "torchrun1", args.seed)
        rs = report["resume"]
        print(f"killed after {rs['records_at_kill']} of {args.num_inputs} inputs; the rerun "
              f"wrote {rs['rerun_wrote']} and recomputed {rs['recomputed_finished_inputs']} "
              f"finished input(s) (chunk {args.batch_size}); identical to an uninterrupted run: "
              f"{rs['identical_to_uninterrupted']}", flush=True)
        report["load_after"] = load()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    from v2a_kit.atomic import atomic_write
    atomic_write(RESULTS, (json.dumps(report, indent=2) + "\n").encode())
    print(f"wrote {RESULTS}")
    return report


if __name__ == "__main__":
    main()
