"""`make setup` sizes PyTorch for the machine (tools/install_torch.py): without a CUDA device the
CPU build from PyTorch's CPU wheel index, the default wheels when that index does not answer
(as on CI's machine), the default wheels where a CUDA device is present; it says which it chose;
when no source answers it fails in one line that says what it tried.

Real PyTorch wheels are gigabytes: these tests serve stand-ins (tiny wheels named torch and
torchvision, a CPU build ``+cpu`` on one local index and a CUDA build, which requires an
``nvidia-*`` package, on another) to pip, into a fresh environment, with pip's own
configuration switched off."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "requirements" / "ci-constraints.txt"


def _pin(name: str) -> str:
    return next(ln.split("==")[1].strip() for ln in CONSTRAINTS.read_text().splitlines()
                if ln.startswith(f"{name}=="))


def _wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    """A minimal pure-Python wheel, in a PEP 503 index folder: folder/<name>/<wheel>."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {f"{name.replace('-', '_')}/__init__.py": f"__version__ = {version!r}\n",
             f"{dist}.dist-info/METADATA": "Metadata-Version: 2.1\n"
             f"Name: {name}\nVersion: {version}\n"
             + "".join(f"Requires-Dist: {r}\n" for r in requires),
             f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
             "Root-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}.dist-info/RECORD,,")
    project = folder / name
    project.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(project / f"{dist}-py3-none-any.whl", "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
        z.writestr(f"{dist}.dist-info/RECORD", "\n".join(record) + "\n")
    links = "".join(f'<a href="{w.name}">{w.name}</a>\n' for w in sorted(project.glob("*.whl")))
    (project / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")


@pytest.fixture
def install_torch(tool):
    return tool("install_torch")


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """file:// URLs of a CPU index, a default index, and one that does not exist."""
    root = tmp_path_factory.mktemp("indexes")
    torch_v, vision_v = _pin("torch"), _pin("torchvision")
    _wheel(root / "cpu", "torch", f"{torch_v}+cpu")
    _wheel(root / "cpu", "torchvision", f"{vision_v}+cpu", (f"torch=={torch_v}",))
    _wheel(root / "default", "torch", torch_v, ("nvidia-cuda-stand-in",))
    _wheel(root / "default", "torchvision", vision_v, (f"torch=={torch_v}",))
    _wheel(root / "default", "nvidia-cuda-stand-in", "1.0")
    constraints = root / "constraints.txt"  # the pins alone: the stand-ins have no other deps
    constraints.write_text(f"torch=={torch_v}\ntorchvision=={vision_v}\n")
    return {"cpu": (root / "cpu").as_uri(), "default": (root / "default").as_uri(),
            "dead": (root / "absent").as_uri(), "constraints": constraints}


@pytest.fixture
def venv(tmp_path, monkeypatch, indexes):
    """A fresh environment whose pip reads no configuration and knows only our default index."""
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(env)], check=True)
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_INDEX_URL", indexes["default"])
    python = env / "bin" / "python"
    # a pip to run: the base interpreter's (the environment sees its site-packages)
    assert subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True
                          ).returncode == 0
    return python


def _run(tool, python, indexes, capsys, *extra, record=None):
    argv = ["--constraints", str(indexes["constraints"]), "--python", str(python), *extra]
    if record:
        argv += ["--record", str(record)]
    code = tool.main(argv)
    out = capsys.readouterr()
    return code, out.out.strip().splitlines(), out.err.strip().splitlines()


def _installed(python) -> str | None:
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                          "print(m.version('torch'))"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def test_no_cuda_device_gets_the_cpu_build(venv, indexes, capsys, monkeypatch, tmp_path,
                                           install_torch):
    tool = install_torch
    monkeypatch.setattr(tool, "cuda_device", lambda: None)
    monkeypatch.setattr(tool, "PLATFORM", "linux")
    code, out, err = _run(tool, venv, indexes, capsys, "--cpu-index", indexes["cpu"],
                          record=tmp_path / "torch.json")
    assert code == 0 and _installed(venv) == f"{_pin('torch')}+cpu"
    assert len(out) == 1 and "(the CPU build)" in out[0] and indexes["cpu"] in out[0]
    assert "no CUDA device here" in out[0]
    record = json.loads((tmp_path / "torch.json").read_text())
    assert record["cuda"] is False and record["source"] == indexes["cpu"]
    # the kit's own install (`pip install -c constraints -e .[dev]`, step 3) keeps the CPU build
    subprocess.run([str(venv), "-m", "pip", "install", "--quiet", "-c",
                    str(indexes["constraints"]), "torch", "torchvision"], check=True)
    assert _installed(venv) == f"{_pin('torch')}+cpu"


def test_an_unreachable_cpu_index_falls_back_to_the_default_wheels(venv, indexes, capsys,
                                                                   monkeypatch, tmp_path,
                                                                   install_torch):
    tool = install_torch
    monkeypatch.setattr(tool, "cuda_device", lambda: None)
    monkeypatch.setattr(tool, "PLATFORM", "linux")
    code, out, err = _run(tool, venv, indexes, capsys, "--cpu-index", indexes["dead"],
                          record=tmp_path / "torch.json")
    assert code == 0 and _installed(venv) == _pin("torch")
    assert len(out) == 1 and "(a CUDA build) from the default wheels" in out[0]
    assert indexes["dead"] in out[0] and "did not answer" in out[0]
    assert json.loads((tmp_path / "torch.json").read_text())["cuda"] is True


def test_a_cuda_device_gets_the_default_wheels(venv, indexes, capsys, monkeypatch, install_torch):
    tool = install_torch
    monkeypatch.setattr(tool, "cuda_device", lambda: "GPU 0: a stand-in")
    monkeypatch.setattr(tool, "PLATFORM", "linux")
    code, out, _ = _run(tool, venv, indexes, capsys, "--cpu-index", indexes["cpu"])
    assert code == 0 and _installed(venv) == _pin("torch")   # the CPU index was not asked
    assert "a CUDA device is present: GPU 0: a stand-in" in out[0]


def test_no_source_answering_fails_in_one_line_naming_both(venv, indexes, capsys, monkeypatch,
                                                           install_torch):
    tool = install_torch
    monkeypatch.setattr(tool, "cuda_device", lambda: None)
    monkeypatch.setattr(tool, "PLATFORM", "linux")
    monkeypatch.setenv("PIP_INDEX_URL", indexes["dead"])
    code, out, err = _run(tool, venv, indexes, capsys, "--cpu-index", indexes["dead"])
    assert code == 1 and out == [] and len(err) == 1, err
    assert err[0].startswith(f"install_torch: could not install torch=={_pin('torch')}")
    assert "the CPU wheel index" in err[0] and "the default wheels" in err[0]
    assert _installed(venv) is None


def test_an_explicit_cpu_build_does_not_fall_back(venv, indexes, capsys, install_torch):
    tool = install_torch
    code, out, err = _run(tool, venv, indexes, capsys, "--build", "cpu", "--cpu-index",
                          indexes["dead"])
    assert code == 1 and len(err) == 1 and "tried the CPU wheel index" in err[0]
    assert "and the default wheels (pip:" not in err[0]                 # not tried for torch
    assert _installed(venv) is None


def test_make_setup_fails_in_one_line_when_no_wheel_source_answers(tmp_path, indexes):
    """The Makefile's own step: a fresh venv, neither index answering. Its output is the step
    lines, our one line, and make's own note of the failed target."""
    # not the pip settings of this machine, and not the make that runs the tests (`make test`
    # exports MAKEFLAGS and MAKELEVEL: the inner make would report as make[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")
           and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=indexes["dead"], PIP_NO_CACHE_DIR="1")
    venv = tmp_path / "venv"
    out = subprocess.run(["make", "-s", "setup", f"VENV={venv}",
                          f"TORCH_CPU_INDEX={indexes['dead']}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode != 0
    err = [ln for ln in out.stderr.splitlines() if not ln.startswith("make: ***")]
    assert len(err) == 1 and err[0].startswith("install_torch: could not install"), out.stderr
    assert indexes["dead"] in err[0] and "the default wheels" in err[0]
    assert [ln[:12] for ln in out.stdout.splitlines()] == ["[setup 1/4] ", "[setup 2/4] "]


def test_this_machine_is_described(install_torch):
    """The live probe runs here and returns a device or None; the CPU index probe returns None
    or a reason (no network needed to get an answer)."""
    tool = install_torch
    device = tool.cuda_device()
    assert device is None or device.startswith(("GPU", "an NVIDIA GPU"))
    assert tool.index_answers((ROOT / "no-such-index").as_uri()) is not None
    assert tool.pins(CONSTRAINTS) == [f"torch=={_pin('torch')}",
                                      f"torchvision=={_pin('torchvision')}"]
