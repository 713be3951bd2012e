"""Install the pinned PyTorch into a virtual environment, sized for the machine: `make setup`'s
step 2. Standard library only (it runs before anything else is installed).

    python tools/install_torch.py --constraints requirements/ci-constraints.txt \\
        [--build auto|cpu|default] [--cpu-index URL] [--record FILE] [--python PY]

- ``auto`` (the default): on Linux without a CUDA device (no ``nvidia-smi -L`` GPU, nothing in
  ``/proc/driver/nvidia/gpus``), the CPU build from PyTorch's CPU wheel index — about 4 GB
  smaller, none of it CUDA libraries that could never run there; if that index does not answer
  (a machine that reaches only the package registries, like CI's), the default wheels, as
  before. With a CUDA device, and on macOS and Windows (whose default wheels carry no CUDA),
  the default wheels.
- ``cpu``: the CPU wheel index only (fails if it does not answer); ``default``: the default
  wheels only (pip's configured index: PyPI or a mirror).

First it brings the environment's pip up to ``pip>=24`` (if that fails, it goes on with the
pip it has). It says in one line which build it installed, from where and why (read back from
what pip installed, not assumed), and records the same in ``--record`` (JSON) for
``tools/measure_runtimes.py``. When no source answers it fails with one line that says what
it tried, and exit status 1; pip's own log is shown only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PLATFORM = sys.platform
PACKAGES = ("torch", "torchvision")
PROBE_TIMEOUT_S = 10


def pins(constraints: Path) -> list[str]:
    """``torch==X``, ``torchvision==Y`` from the constraints file."""
    text = constraints.read_text()
    found = [m.group(0) for name in PACKAGES
             for m in [re.search(rf"^{name}==\S+", text, re.M)] if m]
    if len(found) != len(PACKAGES):
        raise SystemExit(f"install_torch: {constraints} pins no {' or '.join(PACKAGES)} "
                         "(expected lines like torch==2.14.1)")
    return found


def cuda_device() -> str | None:
    """What shows a CUDA device here (a line for the message), or None."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
            gpus = [ln for ln in out.stdout.splitlines() if ln.startswith("GPU ")]
            if out.returncode == 0 and gpus:
                return gpus[0].split(" (UUID")[0]
        except (OSError, subprocess.SubprocessError):
            pass
    if glob.glob("/proc/driver/nvidia/gpus/*"):
        return "an NVIDIA GPU (/proc/driver/nvidia/gpus)"
    return None


def index_answers(url: str) -> str | None:
    """None if ``url``'s torch page answers, else why not (one short phrase)."""
    page = url.rstrip("/") + "/torch/"
    if page.startswith("file:"):  # a local index (a mirror, or the tests'): its torch folder
        folder = Path(urllib.request.url2pathname(urllib.parse.urlparse(page).path))
        return None if folder.is_dir() else f"no folder {folder}"
    try:
        with urllib.request.urlopen(page, timeout=PROBE_TIMEOUT_S) as r:
            r.read(1)
        return None
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except (urllib.error.URLError, OSError, ValueError) as e:
        return str(getattr(e, "reason", e)) or type(e).__name__


def pip_install(python: str, args: list[str], verbose: bool) -> str | None:
    """Run ``python -m pip install``; None on success, else pip's last error line."""
    cmd = [python, "-m", "pip", "install", "--disable-pip-version-check",
           *([] if verbose else ["--quiet"]), *args]
    proc = subprocess.run(cmd, stdout=None if verbose else subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode == 0:
        return None
    lines = [ln.strip() for ln in (proc.stdout or "").splitlines()
             if ln.strip().startswith("ERROR")]
    return lines[-1].removeprefix("ERROR: ") if lines else f"pip exited {proc.returncode}"


def installed(python: str) -> dict:
    """What pip installed: torch's version and whether it is a CUDA build (its requirements
    name nvidia-* packages, or its version a +cu local label)."""
    code = ("import importlib.metadata as m, json\n"
            "reqs = m.requires('torch') or []\n"
            "v = m.version('torch')\n"
            "print(json.dumps({'torch': v, 'torchvision': m.version('torchvision'),\n"
            "  'cuda': '+cu' in v or any(r.startswith('nvidia') for r in reqs)}))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def choose(build: str) -> tuple[str, str]:
    """(``cpu`` or ``default``, why) for ``--build``."""
    if build != "auto":
        return build, f"--build {build}"
    if not PLATFORM.startswith("linux"):
        return "default", f"{PLATFORM}: its default wheels carry no CUDA libraries"
    device = cuda_device()
    if device:
        return "default", f"a CUDA device is present: {device}"
    return "cpu", "no CUDA device here"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--constraints", type=Path, required=True)
    ap.add_argument("--build", choices=("auto", "cpu", "default"), default="auto")
    ap.add_argument("--cpu-index", default=CPU_INDEX)
    ap.add_argument("--python", default=sys.executable, help="the environment's python")
    ap.add_argument("--record", type=Path, help="write what was installed here (JSON)")
    ap.add_argument("--verbose", action="store_true", help="show pip's output")
    args = ap.parse_args(argv)
    wanted = pins(args.constraints)
    build, why = choose(args.build)
    old_pip = pip_install(args.python, ["--upgrade", "pip>=24"], args.verbose)
    tried = []
    source = None
    if build == "cpu":
        unreachable = index_answers(args.cpu_index)
        if unreachable is None:
            # X+cpu by name: offered X (default index) and X+cpu (CPU index), pip takes X.
            # `torch==X` in the constraints admits X+cpu (a local version label), so the kit's
            # own install (`-c constraints`) keeps it; the other packages come from the
            # default index as usual
            cpu = [f"{pin}+cpu" for pin in wanted]
            err = pip_install(args.python, ["-c", str(args.constraints), "--extra-index-url",
                                            args.cpu_index, *cpu], args.verbose)
            if err is None:
                source = args.cpu_index
            else:
                tried.append(f"the CPU wheel index {args.cpu_index} (pip: {err})")
        else:
            tried.append(f"the CPU wheel index {args.cpu_index} (it did not answer: "
                         f"{unreachable})")
    if source is None and (build == "default" or args.build == "auto"):
        err = pip_install(args.python, ["-c", str(args.constraints), *wanted], args.verbose)
        if err is None:
            source = "the default wheels"
        else:
            tried.append(f"the default wheels (pip: {err})")
    if source is None:
        pip_note = f" (and pip>=24 from the default wheels: {old_pip})" if old_pip else ""
        print(f"install_torch: could not install {' '.join(wanted)}: tried "
              f"{' and '.join(tried)}{pip_note}", file=sys.stderr)
        return 1
    got = installed(args.python)
    kind = "a CUDA build" if got["cuda"] else "the CPU build"
    note = f"; tried first {tried[0]}" if tried else ""
    unused = "; its CUDA libraries cannot run without a CUDA device" \
        if got["cuda"] and build == "cpu" else ""
    print(f"PyTorch {got['torch']} ({kind}) from {source} ({why}{note}{unused})")
    if args.record:
        args.record.write_text(json.dumps({**got, "source": source, "reason": why,
                                           "requested": args.build, "tried": tried},
                                          indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
