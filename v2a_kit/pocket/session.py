"""Every pocket model at once, loaded once per process: what the notebooks' exercise solutions
call (``v2a_kit.pocket.load_models()``).

An application (layer 4): it loads through the registry, which sits above the pocket loaders
(:mod:`v2a_kit.pocket.models.loading`, layer 2).
"""

from __future__ import annotations

import functools

from .models.loading import load_audio_to_image, load_tagger

__all__ = ["load_models"]


@functools.cache
def load_models(weights=None) -> dict:
    """Every pocket model of a build, on the CPU, loaded once per process (later calls return the
    same objects: use them, do not train them in place).

    Returns a dict: ``clip``, ``clap``, ``audioldm`` (``load_clip/clap/audioldm("pocket")``),
    ``regression`` and ``diffusion`` (the shipped mappers, ``load_mapper("pocket", kind=...)``),
    ``tagger`` (:func:`load_tagger`) and ``a2i`` (:func:`load_audio_to_image`). ``weights``: a
    build folder (the shipped build when None), as each loader takes it.
    """
    from .. import registry
    return {"clip": registry.load_clip("pocket", device="cpu", weights=weights),
            "clap": registry.load_clap("pocket", device="cpu", weights=weights),
            "audioldm": registry.load_audioldm("pocket", device="cpu", weights=weights),
            "regression": registry.load_mapper("pocket", kind="regression", device="cpu",
                                               weights=weights),
            "diffusion": registry.load_mapper("pocket", kind="diffusion", device="cpu",
                                              weights=weights),
            "tagger": load_tagger(weights), "a2i": load_audio_to_image(weights)}
