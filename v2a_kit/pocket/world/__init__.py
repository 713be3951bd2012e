"""The pocket world's data: what a scene is and how it looks and sounds.

- :mod:`.scenes`: the world's law and its public API — :func:`sample_world`,
  :func:`sample_audio_for`, :class:`PocketBatch`, the SEEN / UNSEEN split, the world table;
- :mod:`.vocab`: the attributes, their words and the captions' templates;
- :mod:`.render`: the 64×64 pictures; :mod:`.synth`: the 1-s sounds;
- :mod:`.video` and :mod:`.timed`: videos of scenes, still and timed (objects act on their
  notes); :mod:`.likeness`: does an input look like this world at all.

``from v2a_kit.pocket.world import sample_world`` reads the scenes' API from here. Nothing in
this package loads torch.
"""

from .scenes import *  # noqa: F403 — the world's public API, as before the package existed
from .scenes import __all__  # noqa: F401


def __getattr__(name: str):
    """The scenes' other names (``v2a_kit.pocket.world._STREAMS``), for code that imported
    them when the world was one module."""
    from . import scenes
    try:
        return getattr(scenes, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
