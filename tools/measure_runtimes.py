"""Measure how long the README's commands take, on this machine, and record it.

    python tools/measure_runtimes.py setup-test     # `make setup` and `make test` in a fresh clone
    python tools/measure_runtimes.py notebooks      # execute every notebook in place, full mode
    python tools/measure_runtimes.py notebooks --fast   # the same in FAST mode, on copies

Each run merges its figures into ``benchmarks/results/runtimes.json`` with the machine it ran
on (CPU model, cores, memory, the load average when it started; a run of named notebooks records
it beside their figures, as ``full_machine`` / ``fast_machine``, and leaves the machine of the
last run of all notebooks as it was); ``tools/update_readme.py``
renders the README's durations from that file, so the stated times are always a measurement
this script can repeat. ``make notebooks`` runs the ``notebooks`` command.

``setup-test`` also records the virtual environment ``make setup`` made: which PyTorch it chose
(``.venv/.v2a-torch.json``, written by ``tools/install_torch.py``), its size, and how much of it
only a CUDA device can use (``nvidia/``, ``triton/``, ``cuda/`` and torch's CUDA libraries),
under ``venv[<build>]`` — a CPU build measured on a machine that reaches PyTorch's CPU index and
a CUDA build measured elsewhere both stay recorded.

Full-mode notebooks are executed in place (their outputs are what we commit) with their widget
state saved (so the explorer's panel shows before anything is run), cleaned by
``tools/notebook_outputs.py`` (no frozen progress bars; players that play untrusted; every stderr
output listed, for the notebook's text to explain) and stripped of metadata but that widget state;
FAST runs execute temporary copies and change nothing in the repository. A notebook
that needs the paper's weights and a GPU (``update_readme.GPU_NOTEBOOKS``: 07) runs in full mode
only when named (``notebooks 07_real_models``); it times its own steps when it runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from notebook_outputs import NBSTRIPOUT_ARGS, clean_file, stderr_lines  # noqa: E402
from update_readme import GPU_NOTEBOOKS  # noqa: E402  (tools/ is this script's folder)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "runtimes.json"
VENV_PY = ROOT / ".venv" / "bin" / "python"


def machine() -> dict:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        names = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = names[0].strip() if names else cpu
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{mem_kb / 2**20:.0f} GiB"
    except (OSError, AttributeError):
        memory = "unknown"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "load_average_at_start": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "date": datetime.date.today().isoformat()}


def _timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str]:
    """Run ``cmd``; (seconds, its combined output). A failure stops the measurement."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}) after {seconds:.0f} s")
    return seconds, proc.stdout


def _pip_cache_mb() -> int:
    """Size of pip's download cache: with wheels there, ``make setup`` downloads nothing."""
    cache = Path(os.environ.get("PIP_CACHE_DIR", Path.home() / ".cache" / "pip"))
    files = (p for p in cache.rglob("*") if p.is_file()) if cache.is_dir() else ()
    return round(sum(p.stat().st_size for p in files) / 2**20)


def _mb(paths) -> int:
    """Megabytes (10^6 bytes) of the files under ``paths``, links not followed."""
    total = 0
    for p in paths:
        files = [p] if p.is_file() else (f for f in p.rglob("*") if f.is_file())
        total += sum(f.lstat().st_size for f in files if not f.is_symlink())
    return round(total / 1e6)


def cuda_only(site_packages: Path) -> list[Path]:
    """What in an environment only a CUDA device can use: the nvidia, triton and cuda packages
    (and their metadata) and torch's CUDA libraries (none of them in the CPU build)."""
    top = [p for p in site_packages.iterdir()
           if re.match(r"(nvidia|triton|cuda)([-_.]|$)", p.name)]
    lib = site_packages / "torch" / "lib"
    kernels = [p for p in lib.iterdir() if re.search(r"cuda|nvrtc|nvshmem|cudnn", p.name)] \
        if lib.is_dir() else []
    return top + kernels


def venv_record(venv: Path) -> dict:
    """The environment ``make setup`` made: its PyTorch (as install_torch.py recorded it), its
    size and the part of it only a CUDA device uses."""
    torch = json.loads((venv / ".v2a-torch.json").read_text())
    site = next(venv.glob("lib/python*/site-packages"))
    return {"torch": torch["torch"], "cuda_build": torch["cuda"], "source": torch["source"],
            "reason": torch["reason"], "tried": torch.get("tried", []),
            "venv_mb": _mb([venv]), "cuda_only_mb": _mb(cuda_only(site))}


def setup_and_test(measured_on: dict) -> dict:
    """``make setup`` then ``make test`` in a fresh clone of this repository's HEAD."""
    cache_mb = _pip_cache_mb()
    with tempfile.TemporaryDirectory(prefix="v2a-runtimes-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        setup_s, _ = _timed(["make", "setup"], clone)
        venv = venv_record(clone / ".venv")
        test_s, out = _timed(["make", "test"], clone)
    summary = re.findall(r"^=+ (.*(?:passed|failed).*) =+$", out, re.M)
    build = "cuda" if venv["cuda_build"] else "cpu"
    return {"setup_s": round(setup_s), "test_s": round(test_s), "pip_cache_mb": cache_mb,
            "test_summary": summary[-1] if summary else "", "setup_torch": build,
            "venv": {build: {**venv, "setup_s": round(setup_s), "measured_on": measured_on}}}


def _execute(notebook: Path, fast: bool) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("V2A_FAST", None)
    if fast:
        env["V2A_FAST"] = "1"
    jupyter = VENV_PY.parent / "jupyter"
    seconds, _ = _timed([str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--inplace",
                         "--ExecutePreprocessor.timeout=1800",
                         "--ExecutePreprocessor.store_widget_state=True",
                         "--ExecutePreprocessor.kernel_name=v2a-kit", str(notebook)],
                        notebook.parent, env)
    for line in clean_file(notebook):
        print(f"  cleaned: {line}", flush=True)
    for line in stderr_lines(nbformat.read(notebook, as_version=4)):
        print(f"  stderr kept (explain it in the notebook or remove its cause): {line}",
              flush=True)
    return seconds


def notebooks(fast: bool, only: list[str] | None = None) -> dict:
    """Execute each numbered notebook (in place in full mode; a copy in FAST mode) and time it."""
    key = "fast_s" if fast else "full_s"
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    times = {}
    for nb in found:
        if only and nb.stem not in only:
            continue
        if not fast and nb.stem in GPU_NOTEBOOKS and not (only and nb.stem in only):
            print(f"skipping {nb.name} in full mode: it needs the paper's weights and a GPU "
                  f"(name it to run it: notebooks {nb.stem})", flush=True)
            continue
        print(f"executing {nb.name} ({'FAST' if fast else 'full'} mode)", flush=True)
        if fast:
            with tempfile.TemporaryDirectory(prefix="v2a-nb-") as tmp:
                copy = Path(tmp) / nb.name
                shutil.copy(nb, copy)
                times[nb.stem] = {key: round(_execute(copy, fast), 1)}
        else:
            times[nb.stem] = {key: round(_execute(nb, fast), 1)}
            subprocess.run([str(VENV_PY.parent / "nbstripout"), *NBSTRIPOUT_ARGS, str(nb)],
                           check=True)
        print(f"  {times[nb.stem][key]:.0f} s", flush=True)
    return {"notebooks": times, "only": bool(only)}


_SAY_RUNTIME = re.compile(r"viz\.say_runtime\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)", re.S)


def refresh_runtime_lines(paths) -> list[str]:
    """Rewrite the output of each notebook's ``viz.say_runtime(...)`` call from the record just
    written, so a notebook states the run time the README renders — including the run that
    produced these very outputs (which could not know its own duration while it ran)."""
    from v2a_kit import viz  # measured_runtime reads the record at call time
    done = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell in nb.cells:
            m = _SAY_RUNTIME.search(cell.source) if cell.cell_type == "code" else None
            if not m:
                continue
            text = eval(f"viz.runtime_sentence({m['args']})", {"viz": viz})  # noqa: S307
            for out in cell.outputs:
                if "text/markdown" in out.get("data", {}) and "Run time" in \
                        "".join(out["data"]["text/markdown"]):
                    changed |= out["data"]["text/markdown"] != text
                    out["data"]["text/markdown"] = text
        if changed:
            nbformat.write(nb, path)
            subprocess.run([str(VENV_PY.parent / "nbstripout"), *NBSTRIPOUT_ARGS, str(path)],
                           check=True)
            done.append(Path(path).name)
    return done


def merge(new: dict, what: str, measured_on: dict) -> dict:
    """Fold ``new`` into the results file, recording the machine of this measurement."""
    from v2a_kit.atomic import atomic_write
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    only = new.pop("only", None)
    mode = what.removeprefix("notebooks-")
    for name, figures in new.pop("notebooks", {}).items():
        entry = data.setdefault("notebooks", {}).setdefault(name, {})
        entry.update(figures)
        # a run of named notebooks keeps its own machine beside its figures, so the machine
        # recorded for the run of all of them still describes theirs; a run of all clears it
        entry.pop(f"{mode}_machine", None)
        if only:
            entry[f"{mode}_machine"] = measured_on
    data.setdefault("venv", {}).update(new.pop("venv", {}))
    data.update(new)
    if not only:
        data.setdefault("machines", {})[what] = measured_on
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(RESULTS, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
    return data


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    sub.add_parser("setup-test", help="make setup and make test in a fresh clone")
    sub.add_parser("refresh", help="rewrite every notebook's run-time line from the record")
    nb = sub.add_parser("notebooks", help="execute and time every notebook")
    nb.add_argument("--fast", action="store_true", help="FAST mode, on temporary copies")
    nb.add_argument("names", nargs="*", help="only these notebooks (e.g. 03_regression_mapper)")
    args = ap.parse_args(argv)
    notebooks_dir = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.what == "refresh":
        print("run-time lines rewritten:", refresh_runtime_lines(notebooks_dir) or "none")
        return
    start = machine()  # the load average before this run adds its own
    if args.what == "setup-test":
        new = setup_and_test(start)
    else:
        new = notebooks(args.fast, args.names)
    mode = "fast" if getattr(args, "fast", False) else "full"
    what = args.what if args.what == "setup-test" else f"notebooks-{mode}"
    executed = [] if what != "notebooks-full" else \
        [p for p in notebooks_dir if p.stem in new.get("notebooks", {})]
    merge(new, what, start)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")
    if executed:
        print("run-time lines rewritten:", refresh_runtime_lines(executed) or "none")


if __name__ == "__main__":
    main()
