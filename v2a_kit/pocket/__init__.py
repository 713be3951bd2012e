"""The pocket world: a procedural audio-visual world and the miniature models trained on it.

The models load through the kit's loaders (``load_clip("pocket")``, ``load_clap("pocket")``,
``load_audioldm("pocket")``); the evaluators through :func:`load_tagger` and
:func:`load_audio_to_image`; the timing-aware variant's onset predictor through
:func:`load_onsets`; all of them at once, cached, through :func:`load_models` (what the
notebooks' exercise solutions call). ``v2a-kit pocket build`` retrains all of them from a seed.

Three rooms:

- :mod:`v2a_kit.pocket.world` — the world's data: scenes, words, pictures, sounds, videos;
- :mod:`v2a_kit.pocket.models` — the world's miniature models, their training and loaders;
- the experiments on them, in this package itself: ``build`` and ``gates`` (``v2a-kit pocket
  build``), ``mappers``, ``schedulers``, ``reproduce``, ``science``, ``efficiency``,
  ``ablation``, ``timing`` and ``session``.

Importing a module of this package (``v2a_kit.pocket.world``, ``.world.likeness``) loads no
torch: the loaders below are attributes that import their module on first use (PEP 562), so
the command line's checks can read the world without loading a model, and the package's facade
imports nothing itself (``tools/import_graph.py`` sees no edge from it). The modules' flat
names from before the two sub-packages (``v2a_kit.pocket`` + ``.vocab``, ``.loading``, ...) still
import: they are the moved modules themselves (:data:`MOVED`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

# public name -> the module of this package that defines it
_LAZY = {"load_tagger": ".models.loading", "load_audio_to_image": ".models.loading",
         "pocket_dir": ".models.loading", "load_onsets": ".models.loading",
         "load_models": ".session"}
__all__ = sorted(_LAZY)
# a module's name before the world and models sub-packages -> its name now
MOVED = {**{m: f"world.{m}" for m in ("vocab", "render", "synth", "video", "timed", "likeness")},
         **{m: f"models.{m}" for m in ("audio", "generator", "contrastive", "evaluators",
                                       "loading", "extractors", "direct", "onsets", "probes")}}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Importing a flat name (``v2a_kit.pocket`` + ``.loading``) gives the moved module itself (one
    module object, so its state and its names are the same whichever name imported it)."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, tail = fullname.rpartition(".")
        if head == __name__ and tail in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(f"{__name__}.{MOVED[spec.name.rpartition('.')[2]]}")

    def exec_module(self, module) -> None:
        pass  # the moved module ran when it was imported under its own name


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    if name in MOVED:
        return importlib.import_module(f"{__name__}.{MOVED[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
