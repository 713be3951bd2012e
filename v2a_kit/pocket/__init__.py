"""The pocket world: a procedural audio-visual world and the miniature models trained on it.

The models load through the kit's loaders (``load_clip("pocket")``, ``load_clap("pocket")``,
``load_audioldm("pocket")``); the evaluators through :func:`load_tagger` and
:func:`load_audio_to_image`; the timing-aware variant's onset predictor through
:func:`load_onsets`; all of them at once, cached, through :func:`load_models` (what the
notebooks' exercise solutions call). ``v2a-kit pocket build`` retrains all of them from a seed.

Importing a module of this package (``v2a_kit.pocket.world``, ``.likeness``) loads no torch:
the loaders below are attributes that import their module on first use (PEP 562), so the
command line's checks can read the world without loading a model, and the package's facade
imports nothing itself (``tools/import_graph.py`` sees no edge from it).
"""

from __future__ import annotations

import importlib

# public name -> the module of this package that defines it
_LAZY = {"load_tagger": ".loading", "load_audio_to_image": ".loading", "pocket_dir": ".loading",
         "load_onsets": ".loading", "load_models": ".session"}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
