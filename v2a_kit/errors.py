"""The kit's exceptions and warnings. Each names the input at fault and what was expected.

They derive from ``ValueError`` (bad input) or ``RuntimeError`` (missing weights), so callers
that catch the builtin kinds keep working.
"""

__all__ = ["V2AError", "MediaError", "EmbeddingError", "SpaceMismatchError",
           "WeightsNotFoundError", "CacheError", "ConfigError", "ProtocolMismatchError",
           "PeakLimitWarning", "ProtocolWarning", "SilentAudioWarning", "OutsideWorldWarning",
           "warn", "first_names"]


class V2AError(Exception):
    """Base class of every error the kit raises on purpose."""


class MediaError(V2AError, ValueError):
    """An image, audio or video input that cannot be used (unreadable, empty, truncated...)."""


class EmbeddingError(V2AError, ValueError):
    """An embedding of the wrong shape, dimension, dtype, or with NaN/inf values."""


class SpaceMismatchError(EmbeddingError):
    """Embeddings, a mapper, a cache or a generator from different embedding spaces."""


class WeightsNotFoundError(V2AError, RuntimeError):
    """Pretrained weights that are neither cached nor reachable."""


class CacheError(V2AError, RuntimeError):
    """An embedding cache that belongs to another model, or is truncated or corrupt."""


class ConfigError(V2AError, ValueError):
    """An unknown preset, model name or config value."""


class ProtocolMismatchError(ConfigError):
    """Two scores measured under different protocols (extractors, rates, resampler, clip rule,
    counts, pairing, metric settings), refused as a comparison; the message names each."""


class ProtocolWarning(UserWarning):
    """Two scores compared although their protocols or settings differ; names the difference."""


class SilentAudioWarning(UserWarning):
    """Scored clips that are all-silent or near-silent (silence can score deceptively well)."""


class PeakLimitWarning(UserWarning):
    """Generated sounds that would have exceeded full scale were scaled down (``generate``)."""


class OutsideWorldWarning(UserWarning):
    """Inputs given to the ``pocket`` preset that do not look like the pocket world (a measured
    test of their pixels: :mod:`v2a_kit.pocket.world.likeness`): their sounds say little about
    them."""


# Frames that only wrap a call (decorators, context managers): a warning's attribution looks
# through them to the kit's line on the far side (torch.no_grad wraps in torch/utils/_contextlib).
_WRAPPER_FILES = ("contextlib.py", "_contextlib.py", "functools.py")


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue a warning attributed to the kit's own line nearest the caller's code.

    ``warnings.warn(stacklevel=k)`` counts frames, so a decorator between the kit's functions
    (``torch.no_grad`` adds one) makes it name a library file instead (``torch/utils/
    _contextlib.py``). This walks out from the caller through the kit's frames (and wrapper
    frames between them) and names the outermost kit line: the kit call that the user's code
    made. Filters, ``catch_warnings`` and the CLI's one-line display apply as usual.
    """
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = chosen = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if os.path.abspath(name).startswith(package):
            chosen = frame
        elif os.path.basename(name) not in _WRAPPER_FILES:
            break
        frame = frame.f_back
    globs = chosen.f_globals
    name = globs.get("__name__", "v2a_kit")
    # A kit module run as a script (`python -m v2a_kit.cli`, `torchrun -m v2a_kit.cli`) is
    # named "__main__" while its loader is v2a_kit.cli's: handed those globals, warnings would
    # ask the loader for "__main__"'s source and raise ImportError instead of warning. The
    # source line is then read from the file itself.
    warnings.warn_explicit(message, category, chosen.f_code.co_filename, chosen.f_lineno,
                           module=name, registry=globs.setdefault("__warningregistry__", {}),
                           module_globals=None if name == "__main__" else globs)


def first_names(names, n: int = 5, more: str = "more") -> str:
    """The first ``n`` of ``names`` for a message, then how many were left out:
    ``"a.wav, b.wav (+3 more)"`` — how every refusal and report of the kit lists many inputs."""
    names = [str(x) for x in names]
    rest = len(names) - n
    return ", ".join(names[:n]) + (f" (+{rest:,} {more})" if rest > 0 else "")
