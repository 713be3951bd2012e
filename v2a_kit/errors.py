"""The kit's exceptions and warnings. Each names the input at fault and what was expected.

They derive from ``ValueError`` (bad input) or ``RuntimeError`` (missing weights), so callers
that catch the builtin kinds keep working.
"""

__all__ = ["V2AError", "MediaError", "EmbeddingError", "SpaceMismatchError",
           "WeightsNotFoundError", "CacheError", "ConfigError", "ProtocolMismatchError",
           "PeakLimitWarning", "ProtocolWarning", "SilentAudioWarning"]


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
