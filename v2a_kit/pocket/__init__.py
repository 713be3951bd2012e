"""The pocket world: a procedural audio-visual world and the miniature models trained on it.

The models load through the kit's loaders (``load_clip("pocket")``, ``load_clap("pocket")``,
``load_audioldm("pocket")``); the evaluators through :func:`load_tagger` and
:func:`load_audio_to_image`. ``v2a-kit pocket build`` retrains all of them from a seed.
"""

from .loading import load_audio_to_image, load_tagger, pocket_dir

__all__ = ["load_tagger", "load_audio_to_image", "pocket_dir"]
