"""Loading the kit's models is quiet and clean: no wandb import (timm's optional hook, which
leaves temp folders behind), no handler added to the root logger (open_clip logs through it),
no "No pretrained weights loaded" line for a random init made on purpose; and the kit's
warnings name the kit's own line, not a library's wrapper."""

import getpass
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from v2a_kit.errors import PeakLimitWarning
from v2a_kit.generation import limit_peaks

CHILD = textwrap.dedent("""
    import json, logging, os, sys, tempfile
    import numpy as np
    import v2a_kit as vk
    from v2a_kit.registry import load_extractors
    pipe = vk.V2APipeline.from_preset("pocket", mapper="regression", device="cpu")
    pipe(np.zeros((64, 64, 3), np.uint8), num_inference_steps=2, progress=False)
    load_extractors("pocket")
    vk.load_clip("tiny")
    vk.load_clip("paper", random_init=True, device="cpu")      # open_clip at random init
    state = {"wandb": "wandb" in sys.modules, "root_handlers": len(logging.getLogger().handlers),
             "temp": sorted(os.listdir(tempfile.gettempdir()))}
    try:                         # a user's own `import wandb` still works afterwards
        import wandb  # noqa: F401
        state["wandb_importable"] = True
    except ImportError as e:
        state["wandb_importable"] = "No module named" in str(e) and "absent"
    print(json.dumps(state))
""")


@pytest.mark.slow
def test_loading_models_imports_no_wandb_and_leaves_the_root_logger_alone(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    import json
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["wandb"] is False and state["root_handlers"] == 0
    # torch's own compile cache (one fixed folder per user, made by `import diffusers` through
    # torch._dynamo and reused by every torch process) is a cache, not something left behind
    assert [n for n in state["temp"] if n != f"torchinductor_{getpass.getuser()}"] == []
    assert state["wandb_importable"] in (True, "absent")
    assert "No pretrained weights loaded" not in out.stderr
    assert "WARNING:root:" not in out.stderr


def test_open_clips_own_warnings_still_show(caplog):
    """Only the random-init line is dropped: open_clip's other warnings reach the handlers."""
    import logging

    from v2a_kit.quiet import open_clip_quietly
    with caplog.at_level(logging.WARNING), open_clip_quietly():
        logging.warning("No pretrained weights loaded for model 'X'. Model initialized randomly.")
        logging.warning("Model X initialized partially.")
    assert [r.getMessage() for r in caplog.records] == ["Model X initialized partially."]


def test_a_kit_warning_names_the_kits_line():
    loud = torch.full((2, 100), 3.0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        limit_peaks(loud).warn()
    w = next(w for w in record if issubclass(w.category, PeakLimitWarning))
    assert Path(w.filename).parts[-2:] == ("v2a_kit", "generation.py")


def test_a_kit_warning_looks_through_torch_no_grad(monkeypatch):
    """torch.no_grad wraps V2APipeline.__call__: the PeakLimitWarning of a call names
    pipeline.py (the kit's line the caller called), not torch/utils/_contextlib.py."""
    import v2a_kit as vk
    from v2a_kit import pipeline as pl
    from v2a_kit.generation import GenerationOutput

    def loud(model, cond, **kw):  # what AudioLDM returns for an input unlike its world
        peaks = limit_peaks(torch.full((len(cond.embeds), 16000), 3.0))
        return GenerationOutput(peaks.audio.numpy(), 16000, peaks)
    pipe = vk.V2APipeline.from_preset("pocket", mapper="regression", device="cpu")
    monkeypatch.setattr(pl, "generate", loud)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pipe(np.zeros((64, 64, 3), np.uint8), progress=False)
    w = next(w for w in record if issubclass(w.category, PeakLimitWarning))
    assert Path(w.filename).parts[-2:] == ("v2a_kit", "pipeline.py"), w.filename


def test_a_kit_warning_from_a_kit_module_run_as_main_warns():
    """``python -m v2a_kit.cli`` (and ``torchrun -m v2a_kit.cli``) runs the CLI as "__main__"
    with v2a_kit.cli's loader: a kit warning whose outermost kit frame is there must warn, not
    fail with "ImportError: loader for v2a_kit.cli cannot handle __main__" (a sharded run died
    so on its first limited sound)."""
    import importlib.machinery

    import v2a_kit.cli as cli

    path = cli.__file__
    globs = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__,
             "__loader__": importlib.machinery.SourceFileLoader("v2a_kit.cli", path),
             "limit_peaks": limit_peaks, "torch": torch}
    code = compile("limit_peaks(torch.full((2, 10), 3.0)).warn()", path, "exec")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        exec(code, globs)  # a frame of cli.py named "__main__", as under python -m
    w = next(w for w in record if issubclass(w.category, PeakLimitWarning))
    assert Path(w.filename).name == "cli.py"
