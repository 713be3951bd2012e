"""The evaluation's extractor outputs per audio file, through a content-keyed cache, sharded.

:func:`cached_audio_outputs` gives the extractor outputs (FD features and logits, FAD rows, CS
audio embeddings) of audio files as :func:`~v2a_kit.evaluation.scoring.extract` makes them,
keyed by the sha256 of each file's bytes (:func:`~v2a_kit.chunkstore.content_hash`, as the
embedding cache keys its rows), so a rerun extracts only new clips. Under torchrun each rank
computes its chunks of the missing contents (hash order, chunks of ``batch_size``, chunk ``k``
on rank ``k % world_size``: :class:`~v2a_kit.distributed.Shard`), and every rank then reads the
whole set.

Cache layout (a :class:`~v2a_kit.chunkstore.ChunkStore`, the store the embedding cache uses)::

    cache_dir/features-<digest of the settings, 12 hex>/
        settings.json               {"format": "v2a-kit-feature-cache/2", "settings": the
                                    extractors' names and spaces, what is extracted}
        chunk-<uuid>.safetensors    "features" (n, d), ["logits" (n, C)], ["cs" (n, d'')],
                                    ["fad" (m, d') with "fad_count" (n,): each clip's rows]

A folder of another format (``v2a-kit-feature-cache/1``, before the store), of other settings
or with a damaged file is refused naming it (:class:`~v2a_kit.errors.CacheError`): delete it,
and its clips are extracted again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..chunkstore import ChunkStore, StoreKind, content_hash
from ..distributed import DistInfo, RankSync, Shard
from ..errors import CacheError

__all__ = ["FeatureCache", "cached_audio_outputs", "FEATURE_FORMAT"]

FEATURE_FORMAT = "v2a-kit-feature-cache/2"  # /1: the chunks before ChunkStore (refused)
STORE = StoreKind(FEATURE_FORMAT, "settings.json", "feature cache")
_KEYS = ("features", "logits", "fad", "cs")


class FeatureCache:
    """Extractor outputs per audio content (sha256 of the file), in verified chunk files.

    A row holds the ``fd`` features (and logits), the ``fad`` rows of the clip (VGGish makes
    one per 0.96 s, so a clip has ``fad_count`` of them) and the ``cs`` audio embedding, as
    :func:`~v2a_kit.evaluation.scoring.extract` returns them. The folder name is the digest of
    the extractors' names, spaces and what is extracted, so another judge never reads it.
    Call :meth:`open` before the rest.
    """

    def __init__(self, cache_dir, settings: dict):
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        self.folder = Path(cache_dir) / f"features-{digest}"
        self.settings = settings
        self._store: ChunkStore | None = None

    def open(self) -> FeatureCache:
        """Create or check the folder and read every chunk (CacheError: a folder of other
        settings or another format, or a damaged file, named)."""
        self._store = ChunkStore.open(self.folder, STORE, {"settings": self.settings})
        return self

    def _opened(self) -> ChunkStore:
        if self._store is None:
            raise CacheError(f"the feature cache {self.folder} is not open: call open() first")
        return self._store

    @property
    def rows(self) -> Mapping[str, dict[str, np.ndarray]]:
        """Content hash -> {"features", ["logits"], ["fad"], ["cs"]} (read-only)."""
        return self._opened().rows

    def reload(self) -> None:
        """Re-read every chunk (other ranks may have written some)."""
        self._opened().reload()

    def add(self, hashes: list[str], outputs, fad_counts: list[int] | None = None) -> Path:
        """Store the rows of ``hashes`` (``outputs``: AudioOutputs of those clips, in order);
        ``fad_counts``: each clip's number of FAD rows (default: one each)."""
        arrays = {k: np.asarray(getattr(outputs, k), np.float32)
                  for k in _KEYS if getattr(outputs, k) is not None}
        counts = None
        if outputs.fad is not None:
            counts = {"fad": fad_counts if fad_counts is not None else [1] * len(hashes)}
        return self._opened().add(hashes, arrays, counts)


def cached_audio_outputs(paths: list[Path], extractors, read, *, fad_rows: bool, cs: bool,
                         batch_size: int, cache_dir, sync: RankSync, info: DistInfo,
                         what: str, bar=None):
    """The extractor outputs of audio files, through a :class:`FeatureCache` and sharded.

    Args:
        read: path -> waveform at the extractors' rate, checked (the folder evaluator's).
        sync, info: the job's barriers and this rank.
    Returns:
        :class:`~v2a_kit.evaluation.scoring.AudioOutputs`, row i = ``paths[i]``, on every rank.
    """
    from .scoring import AudioOutputs, extract

    roles = {"fd": extractors.fd, **({"fad": extractors.fad} if fad_rows else {}),
             **({"cs": extractors.cs} if cs else {})}
    settings = {"preset": extractors.preset, "sampling_rate": extractors.sampling_rate,
                "roles": {r: {"name": e.name, "space": str(getattr(e, "audio_space", e.space))}
                          for r, e in roles.items()}}
    cache = FeatureCache(cache_dir, settings)
    if info.rank == 0:  # first: it creates the folder and its header
        cache.open()
    sync.barrier()
    if info.rank != 0:
        cache.open()
    hashes = [content_hash(p) for p in paths]
    first = {}
    for p, h in zip(paths, hashes):
        first.setdefault(h, p)
    missing = sorted(h for h in first if h not in cache.rows)
    sync.barrier()  # all have read the cache before anyone writes
    shard = Shard(info.rank, info.world_size, batch_size)
    per_clip = fad_rows and not getattr(extractors.fad, "one_fd_row_per_clip", True)
    for chunk in shard.chunks(len(missing)):
        hs = [missing[k] for k in chunk]
        waves = [read(first[h]) for h in hs]
        out = extract(extractors, waves, fad_rows=fad_rows and not per_clip, cs=cs, what=what)
        counts = None
        if per_clip:  # VGGish: a clip's number of FAD rows depends on its length
            rows = [extractors.fad.fd_features([w]) for w in waves]
            out.fad, counts = np.concatenate(rows), [len(r) for r in rows]
        cache.add(hs, out, counts)
        if bar is not None:
            bar.update(len(hs) * info.world_size)
    sync.barrier()
    cache.reload()
    lost = [str(first[h]) for h in first if h not in cache.rows]
    if lost:
        raise CacheError(f"{len(lost)} feature rows missing after a sharded run (e.g. "
                         f"{lost[0]}); did every rank get the same inputs?")
    rows = [cache.rows[h] for h in hashes]
    stacked = {k: (np.concatenate([r[k] for r in rows]) if k == "fad" else
                   np.stack([r[k] for r in rows])) if k in rows[0] else None for k in _KEYS}
    return AudioOutputs(**stacked)
