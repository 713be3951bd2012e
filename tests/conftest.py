"""Shared fixtures. Every test runs offline: no model hub is reachable on our machines."""

import importlib.util
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture(scope="session")
def tool():
    """``tool("update_readme")``: a script of ``tools/`` as a fresh module (they are scripts,
    not a package)."""
    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load


@pytest.fixture(scope="session")
def tiny_clip():
    from v2a_kit import load_clip
    return load_clip("tiny", device="cpu")


@pytest.fixture(scope="session")
def tiny_clap():
    from v2a_kit import load_clap
    return load_clap("tiny", device="cpu")


@pytest.fixture(scope="session")
def pocket():
    """The pocket preset's extractors (the judges of every pocket score), loaded once."""
    from v2a_kit.registry import load_extractors
    return load_extractors("pocket", device="cpu")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch):
    """Point every weights lookup at empty folders, so nothing cached by hand can hide a miss."""
    from huggingface_hub import constants
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("V2A_KIT_WEIGHTS", raising=False)
    _forbid_downloads(monkeypatch)
    return cache


def _forbid_downloads(monkeypatch):
    """Fail the test if the kit enters a download client: missing weights must be reported from
    the local look-up and the reachability probe alone (that is what makes the failure fast)."""
    import huggingface_hub
    import torch.hub

    def forbidden(name):
        def call(*args, **kwargs):
            if kwargs.get("local_files_only"):
                return real[name](*args, **kwargs)
            raise AssertionError(f"{name} was called: the kit tried to download")
        return call

    real = {n: getattr(huggingface_hub, n) for n in ("hf_hub_download", "snapshot_download")}
    for n in real:
        monkeypatch.setattr(huggingface_hub, n, forbidden(n))
    monkeypatch.setattr(torch.hub, "download_url_to_file", forbidden("download_url_to_file"))
