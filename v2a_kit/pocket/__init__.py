"""The pocket world: a procedural audio-visual world and the miniature models trained on it.

The models load through the kit's loaders (``load_clip("pocket")``, ``load_clap("pocket")``,
``load_audioldm("pocket")``); the evaluators through :func:`load_tagger` and
:func:`load_audio_to_image`; the timing-aware variant's onset predictor through
:func:`load_onsets`. ``v2a-kit pocket build`` retrains all of them from a seed.

Importing a module of this package (``v2a_kit.pocket.world``, ``.likeness``) loads no torch:
the loaders below are attributes that import :mod:`.loading` on first use (PEP 562), so the
command line's checks can read the world without loading a model.
"""

from __future__ import annotations

__all__ = ["load_tagger", "load_audio_to_image", "load_onsets", "pocket_dir"]


def __getattr__(name: str):
    if name in __all__:
        from . import loading
        return getattr(loading, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
