"""A quick start: `import v2a_kit` and `v2a-kit --help` load no heavy library (PEP 562)."""

import subprocess
import sys

import pytest

import v2a_kit as vk

HEAVY = ("torch", "open_clip", "transformers", "diffusers", "librosa", "umap")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def test_import_loads_no_heavy_library():
    assert _loaded_after("import v2a_kit") == []


def test_help_loads_no_heavy_library():
    code = ("import contextlib, io\nfrom v2a_kit.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "for cmd in ('embed', 'train', 'generate', 'evaluate', 'pocket'):\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "        main([cmd, '--help'])")
    assert _loaded_after(code) == []


def test_every_public_name_resolves():
    for name in vk.__all__:
        assert getattr(vk, name) is not None, name
    assert set(vk.__all__) <= set(dir(vk))
    assert vk.generation.SCHEDULERS == vk.defaults.SCHEDULERS  # submodules as attributes
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vk.nope  # noqa: B018


def test_the_cli_lists_the_kits_own_choices():
    from v2a_kit.defaults import AGGREGATE_NAMES, DEFAULT_SCHEDULER, SCHEDULERS
    from v2a_kit.encoders import AGGREGATORS
    from v2a_kit.pipeline import DEFAULT_SCHEDULER as PIPELINE_DEFAULT
    assert tuple(AGGREGATORS) == AGGREGATE_NAMES
    assert PIPELINE_DEFAULT == DEFAULT_SCHEDULER and DEFAULT_SCHEDULER in SCHEDULERS
