"""Batched embedding extraction with an on-disk cache: resumable, verified, shardable.

:func:`extract_embeddings` embeds a folder or a list of media files with a CLIP (images, videos)
or CLAP (audio) encoder and keeps every row in a cache, so a second run computes nothing.

Cache layout (one folder per model *and* extraction settings; the folder name is the key), a
:class:`~v2a_kit.chunkstore.ChunkStore` (the store the evaluation's feature cache uses too)::

    cache_dir/<space.key>-<kind>-<settings digest>/
        space.json                  {"format": "v2a-kit-embedding-cache/2", "space": Space,
                                    "settings": {kind, dtype, preprocess, [num_frames,
                                    aggregate]}}, verified on open
        chunk-<uuid>.safetensors    "embeds": (n, d) float32; metadata "format", "hashes": JSON
                                    list of the n source files' sha256 (hex), "ragged": [],
                                    "checksum": :func:`~v2a_kit.chunkstore.checksum`

- A row is found by the sha256 of its file's bytes: a renamed or moved file is a hit, an edited
  file a miss; identical files are computed once. A hit is bit-equal to what was computed.
- Every file is written to a temp file in the same folder, fsynced, then ``os.replace``d. A run
  writes a chunk every ``chunk_size`` rows (and the finished batches when it fails), so an
  interrupted run loses at most one chunk and the next run resumes. Temp files left by a dead
  process are ignored and removed on open.
- A cache is never read for another model: ``space.json`` must match the encoder's space and
  settings, and a damaged chunk (truncated, bad checksum, wrong dim) raises :class:`CacheError`
  naming the file. A folder of the first format (``v2a-kit-embedding-cache/1``, before the
  store) is refused the same way, never read. Nothing is recomputed silently; ``rebuild=True``
  (``--rebuild``) replaces the folder by an empty one.

Sharding, under torchrun or ``accelerate launch`` (the cache on a filesystem every node sees)::

    torchrun --standalone --nproc_per_node 4 -m v2a_kit.cli embed videos/ --model clip \\
        --preset paper --cache /data/v2a_cache
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_id embed1 --rdzv_backend c10d \\
        --rdzv_endpoint node0:29500 -m v2a_kit.cli embed /data/videos --model clip \\
        --preset paper --cache /mnt/v2a_cache          # the same line on each node

The distinct contents missing from the cache, sorted by hash, are cut into batches of
``batch_size``; rank r computes batches k with k % world_size == r (every batch holds the same
files whatever the world size, so the rows are the same bits as one process's), on
``cuda:LOCAL_RANK`` (the CLI places it there), writing its own chunks into the shared folder; at
a barrier (:class:`~v2a_kit.distributed.RankSync`: torch.distributed, gloo unless the caller has
a group) rank 0 merges the chunks into one, and every rank returns the full result.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save as st_save
from tqdm.auto import tqdm

from . import media
from .atomic import atomic_write
from .chunkstore import ChunkStore, Column, StoreKind, content_hash
from .distributed import RankSync, Shard, distributed_env
from .encoders import AGGREGATORS
from .errors import CacheError, ConfigError, EmbeddingError, MediaError
from .spaces import Embeddings, Space

__all__ = ["EmbeddingCache", "extract_embeddings", "ExtractStats", "content_hash",
           "extraction_settings", "save_embeddings", "load_embeddings", "CHUNK_SIZE"]

CHUNK_SIZE = 256          # rows per chunk file: the most work an interruption can lose
CACHE_FORMAT = "v2a-kit-embedding-cache/2"  # /1: the chunks before ChunkStore (refused)
OUT_FORMAT = "v2a-kit-embeddings/1"
STORE = StoreKind(CACHE_FORMAT, "space.json", "embedding cache", rebuild="rebuild=True, --rebuild")


# --- the cache -------------------------------------------------------------------------------
def extraction_settings(encoder, kind: str, num_frames: int = 8, aggregate: str = "mean") -> dict:
    """What besides the model changes a row: kind, dtype, preprocessing, frame sampling."""
    if hasattr(encoder, "feature_extractor"):
        fe = {k: v for k, v in encoder.feature_extractor.to_dict().items()
              if isinstance(v, (str, int, float, bool)) or v is None}
        prep = json.dumps(fe, sort_keys=True)
    else:  # open_clip's transform; function reprs carry an address that changes every run
        prep = re.sub(r" at 0x[0-9a-fA-F]+", "", repr(getattr(encoder, "preprocess", None)))
    s = {"kind": kind, "dtype": str(getattr(encoder, "dtype", torch.float32)), "preprocess": prep}
    if kind == "video":
        s.update(num_frames=int(num_frames), aggregate=aggregate)
    return s


def cache_key(space: Space, settings: dict) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return f"{space.key}-{settings.get('kind', 'any')}-{digest}"


class EmbeddingCache:
    """Rows of one space + settings, keyed by content hash, stored as verified chunk files.

    Create with :meth:`open` (a folder under ``cache_dir``) or :meth:`in_memory`. All rows are
    read and verified on open (n × d × 4 bytes of memory). The files are a
    :class:`~v2a_kit.chunkstore.ChunkStore`'s; this class says what a row is (one float32
    ``(space.dim,)`` embedding) and returns rows as tensors.

    Args:
        folder: the cache's folder (its ``space.json`` is checked), ``None`` in memory.
        rebuild: replace the folder by an empty cache first.
    """

    def __init__(self, folder: Path | None, space: Space, settings: dict, *,
                 rebuild: bool = False):
        self.space, self.settings = space, settings
        layout = {"embeds": Column("float32", (space.dim,))}
        self._store = (ChunkStore.in_memory(STORE, layout) if folder is None else
                       ChunkStore.open(folder, STORE, {"space": space.to_dict(),
                                                       "settings": settings},
                                       rebuild=rebuild, layout=layout))
        self.folder = self._store.folder

    @classmethod
    def in_memory(cls, space: Space, settings: dict | None = None) -> EmbeddingCache:
        return cls(None, space, settings or {})

    @classmethod
    def open(cls, cache_dir, space: Space, settings: dict | None = None, *,
             rebuild: bool = False) -> EmbeddingCache:
        """Open (creating if needed) the folder of ``space`` + ``settings`` under ``cache_dir``.

        Raises:
            CacheError: the folder's ``space.json`` names another space or other settings, is
                damaged or of another format (an older kit's cache: rebuild it), or a chunk is
                damaged.
        """
        settings = settings or {}
        return cls(Path(cache_dir) / cache_key(space, settings), space, settings,
                   rebuild=rebuild)

    def reload(self) -> None:
        """Re-read every chunk (others may have written some, or merged them meanwhile)."""
        self._store.reload()

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, h: str) -> bool:
        return h in self._store

    @property
    def chunks(self) -> list[Path]:
        return self._store.chunks

    def lookup(self, hashes: list[str]) -> list[torch.Tensor | None]:
        """The cached (d,) row of each content hash, or ``None`` where there is none."""
        return [None if row is None else torch.from_numpy(row["embeds"])
                for row in self._store.lookup(hashes)]

    def add(self, hashes: list[str], embeds: torch.Tensor) -> Path | None:
        """Store rows (n, d) float32 for ``hashes``: one new chunk, written atomically."""
        embeds = embeds.detach().to("cpu", torch.float32)
        if embeds.ndim != 2 or embeds.shape != (len(hashes), self.space.dim):
            raise EmbeddingError(f"cache rows must be ({len(hashes)}, {self.space.dim}), got "
                                 f"{tuple(embeds.shape)}")
        return self._store.add(hashes, {"embeds": embeds.numpy()})

    def consolidate(self) -> Path | None:
        """Merge every chunk into one: the merged file is written first, then the parts go."""
        return self._store.consolidate()


# --- extraction ------------------------------------------------------------------------------
@dataclass
class ExtractStats:
    """What one :func:`extract_embeddings` call did (counts are of distinct file contents)."""

    num_files: int = 0
    num_unique: int = 0
    hits: int = 0           # found in the cache when the run started
    computed: int = 0       # computed by all ranks together
    computed_here: int = 0  # computed by this process
    seconds: float = 0.0
    cache_dirs: list[str] = field(default_factory=list)


def _resolve_inputs(encoder, inputs, kind: str | None) -> tuple[list[Path], list[str]]:
    if hasattr(encoder, "encode_audio"):
        allowed = ("audio",)
    elif hasattr(encoder, "encode_images"):
        allowed = ("image", "video")
    else:
        raise ConfigError(f"{type(encoder).__name__} is not a ClipEncoder or ClapEncoder")
    if kind is not None:
        if kind not in allowed:
            raise ConfigError(f"kind={kind!r} does not fit {type(encoder).__name__}, which reads "
                              f"{' and '.join(allowed)}")
        allowed = (kind,)
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    if not items:
        raise MediaError("no inputs given (an empty list)")
    paths, kinds = [], []
    for item in items:
        p = Path(item)
        found = media.list_media(p, kinds=allowed) if p.is_dir() else [p]
        for f in found:
            if not f.is_file():
                raise MediaError(f"{f}: no such file")
            k = media.media_kind(f)
            if k not in allowed:
                raise MediaError(f"{f}: a file of kind {k or 'unknown'} ({f.suffix or 'no suffix'})"
                                 f", but {type(encoder).__name__} reads {' and '.join(allowed)}")
            paths.append(f)
            kinds.append(k)
    return paths, kinds


def _compute_into(cache: EmbeddingCache, encoder, kind: str, items: list[tuple[str, Path]],
                  batch_size: int, chunk_size: int, bar, **video) -> int:
    """Embed ``items`` (hash, path) batch by batch into ``cache``; returns how many.

    Rows go to disk every ``chunk_size`` rows and, when a batch fails, the batches finished
    before it: an interruption loses at most one chunk, and a failed batch writes nothing.
    """
    pending_h, pending_e = [], []
    try:
        for i in range(0, len(items), batch_size):
            batch = items[i:i + batch_size]
            paths = [p for _, p in batch]
            if kind == "image":
                e = encoder.encode_images(paths, batch_size=len(paths), progress=False)
            elif kind == "video":
                e = encoder.encode_video(paths, progress=False, **video)
            else:
                e = encoder.encode_audio(paths, batch_size=len(paths), progress=False)
            pending_e.append(e.embeds)
            pending_h += [h for h, _ in batch]
            bar.update(len(batch))
            if len(pending_h) >= chunk_size:
                (h_, e_), pending_h, pending_e = (pending_h, pending_e), [], []
                cache.add(h_, torch.cat(e_))
    finally:
        if pending_h:
            cache.add(pending_h, torch.cat(pending_e))
    return len(items)


def _check_extract_args(batch_size, num_frames, chunk_size, aggregate: str) -> None:
    """Raise :class:`ConfigError` on a non-positive count or an unknown aggregator."""
    for name, v in (("batch_size", batch_size), ("num_frames", num_frames),
                    ("chunk_size", chunk_size)):
        if not isinstance(v, int) or v < 1:
            raise ConfigError(f"{name} must be a positive integer, got {v!r}")
    if aggregate not in AGGREGATORS:
        raise ConfigError(f"aggregate must be one of {sorted(AGGREGATORS)}, got {aggregate!r}")


def _hash_inputs(paths: list[Path], kinds: list[str], show: bool
                 ) -> tuple[list[str], dict[str, dict[str, Path]]]:
    """Each file's content hash, and kind -> content hash -> first file with it."""
    hashes = [content_hash(p) for p in tqdm(  # reads every byte: worth a bar on big inputs
        paths, desc="hashing", unit="file", leave=False, disable=not show)]
    groups: dict[str, dict[str, Path]] = {}
    for p, k, h in zip(paths, kinds, hashes):
        groups.setdefault(k, {}).setdefault(h, p)
    return hashes, groups


def _open_caches(encoder, kinds, cache_dir, num_frames: int, aggregate: str,
                 rebuild: bool) -> dict[str, EmbeddingCache]:
    """One cache per kind (in memory without a ``cache_dir``)."""
    caches = {}
    for k in kinds:
        st = extraction_settings(encoder, k, num_frames, aggregate)
        caches[k] = (EmbeddingCache.in_memory(encoder.space, st) if cache_dir is None
                     else EmbeddingCache.open(cache_dir, encoder.space, st, rebuild=rebuild))
    return caches


def _open_caches_in_turn(sync: RankSync, info, encoder, kinds, cache_dir, num_frames: int,
                         aggregate: str, rebuild: bool) -> dict[str, EmbeddingCache]:
    """:func:`_open_caches` on rank 0 first (it may rebuild, and writes space.json), then on
    the others; returns after every rank has read the cache, so that the counts agree."""
    caches = (_open_caches(encoder, kinds, cache_dir, num_frames, aggregate, rebuild)
              if info.rank == 0 else {})
    sync.barrier()
    caches = caches or _open_caches(encoder, kinds, cache_dir, num_frames, aggregate, False)
    sync.barrier()  # all have read the cache before anyone writes: the counts agree
    return caches


def _compute_share(caches: dict[str, EmbeddingCache], encoder,
                   todo: dict[str, list[tuple[str, Path]]], batch_size: int, chunk_size: int,
                   progress: bool | None, main_rank: bool, **video) -> int:
    """Compute this rank's rows into the caches (a bar on the main rank: when asked, or by
    default when there is more than one batch); the number of rows computed."""
    total = sum(map(len, todo.values()))
    show = (total > batch_size if progress is None else progress) and main_rank
    done = 0
    with tqdm(total=total, desc="embedding", unit="file", disable=not show) as bar:
        for k, items in todo.items():
            done += _compute_into(caches[k], encoder, k, items, batch_size, chunk_size, bar,
                                  **video)
    return done


def _shard_todo(groups: dict[str, dict[str, Path]], caches: dict[str, EmbeddingCache], info,
                stats: ExtractStats, batch_size: int) -> dict[str, list[tuple[str, Path]]]:
    """This rank's share of what the caches lack: the missing contents in hash order, cut into
    batches of ``batch_size``, batch k on rank k % world_size (:class:`~v2a_kit.distributed.Shard`,
    as generation and evaluation share theirs) — so every batch, and so every row's bits, is the
    same for any world size. Counts hits and misses (over all ranks) into ``stats``."""
    shard = Shard(info.rank, info.world_size, batch_size)
    todo: dict[str, list[tuple[str, Path]]] = {}
    for k, by_hash in groups.items():
        order = sorted(by_hash)
        missing = [h for h in order if h not in caches[k]]
        stats.hits += len(order) - len(missing)
        stats.computed += len(missing)
        todo[k] = [(missing[i], by_hash[missing[i]])
                   for batch in shard.chunks(len(missing)) for i in batch]
    return todo


def _merge_shards(sync: RankSync, info, caches: dict[str, EmbeddingCache]) -> None:
    """Sharded: wait for all ranks, rank 0 merges their chunks, everyone reads the result."""
    sync.barrier()
    if info.rank == 0:
        for c in caches.values():
            c.consolidate()
    sync.barrier()
    for c in caches.values():
        c.reload()


def _assemble(caches: dict[str, EmbeddingCache], encoder, paths: list[Path], kinds: list[str],
              hashes: list[str]) -> Embeddings:
    """The rows in input order; :class:`CacheError` if any is missing."""
    rows = [caches[k].lookup([h])[0] for k, h in zip(kinds, hashes)]
    lost = [str(p) for p, r in zip(paths, rows) if r is None]
    if lost:
        raise CacheError(f"{len(lost)} rows missing after a sharded run (e.g. {lost[0]}); did "
                         "every rank get the same inputs?")
    return Embeddings(torch.stack(rows), encoder.space, [str(p) for p in paths])


def extract_embeddings(encoder, inputs, cache_dir=None, *, kind: str | None = None,
                       batch_size: int | None = None, num_frames: int = 8,
                       aggregate: str = "mean", progress: bool | None = None,
                       rank: int | None = None, world_size: int | None = None,
                       rebuild: bool = False, chunk_size: int = CHUNK_SIZE,
                       return_stats: bool = False):
    """Embed media files through the cache, computing only what it lacks.

    Args:
        encoder: a ``ClipEncoder`` (images and/or videos) or a ``ClapEncoder`` (audio).
        inputs: a folder (all its media of the encoder's kinds, recursively) or a list of files
            and folders.
        cache_dir: root of the cache (a folder per model + settings is made in it); ``None``
            computes without one (identical files still once). Required when sharded.
        kind: ``"image"``, ``"video"`` or ``"audio"`` to accept only that kind; ``None`` takes
            what the encoder reads.
        batch_size: files per encoder call (default: the encoder's).
        num_frames, aggregate: video frame sampling (see ``ClipEncoder.encode_video``).
        progress: a progress bar (``None``: when there is more than one batch to compute).
        rank, world_size: this process's shard; default from RANK / WORLD_SIZE.
        rebuild: discard this model's cache folder first (rank 0 does it when sharded).
        chunk_size: rows per chunk file.
        return_stats: also return an :class:`ExtractStats`.

    Returns:
        Embeddings (n_files, d), float32 L2-normed, sources = the file paths in input order;
        with ``return_stats``, ``(embeddings, stats)``.
    """
    t0 = time.perf_counter()
    # 1. Check inputs, list the files, hash their contents
    batch_size = batch_size or getattr(encoder, "batch_size", 8)
    _check_extract_args(batch_size, num_frames, chunk_size, aggregate)
    info = distributed_env(rank, world_size)
    if info.world_size > 1 and cache_dir is None:
        raise ConfigError("sharded extraction needs a cache_dir: the ranks exchange rows there")
    paths, kinds = _resolve_inputs(encoder, inputs, kind)
    hashes, groups = _hash_inputs(
        paths, kinds, (len(paths) > 1000 if progress is None else progress) and info.rank == 0)
    stats = ExtractStats(num_files=len(paths), num_unique=sum(map(len, groups.values())))

    with RankSync(info) as sync:
        # 2. Open one cache per kind; rank 0 first, as it may rebuild and writes space.json
        caches = _open_caches_in_turn(sync, info, encoder, groups, cache_dir, num_frames,
                                      aggregate, rebuild)
        stats.cache_dirs = [str(c.folder) for c in caches.values() if c.folder is not None]
        # 3. This rank's share: the missing contents in hash order, cut into batches; batch k
        #    on rank k % world_size (so the batches are the same for any world size)
        todo = _shard_todo(groups, caches, info, stats, batch_size)
        # 4. Compute in batches, writing a chunk every chunk_size rows
        stats.computed_here += _compute_share(caches, encoder, todo, batch_size, chunk_size,
                                              progress, info.rank == 0, num_frames=num_frames,
                                              aggregate=aggregate)
        # 5. Sharded: wait for all ranks, rank 0 merges their chunks, everyone reads the result
        if info.world_size > 1:
            _merge_shards(sync, info, caches)

    # 6. Assemble in input order
    out = _assemble(caches, encoder, paths, kinds, hashes)
    stats.seconds = time.perf_counter() - t0
    return (out, stats) if return_stats else out


def save_embeddings(emb: Embeddings, path, extra: dict | None = None) -> Path:
    """Write embeddings + space + sources to one safetensors file, atomically."""
    meta = {"format": OUT_FORMAT, "space": json.dumps(emb.space.to_dict()),
            "sources": json.dumps(emb.sources), "extra": json.dumps(extra or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, st_save({"embeds": emb.embeds.contiguous()}, meta))


def load_embeddings(path) -> Embeddings:
    """Read a file written by :func:`save_embeddings` (or ``v2a-kit embed --out``)."""
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            embeds = f.get_tensor("embeds")
        space = Space.from_dict(json.loads(meta["space"]))
        sources = json.loads(meta["sources"])
    except Exception as e:
        raise EmbeddingError(f"{path} is not a v2a-kit embeddings file ({e})") from None
    if meta.get("format") != OUT_FORMAT:
        raise EmbeddingError(f"{path}: format tag {meta.get('format')!r}; expected "
                             f"{OUT_FORMAT!r} (a file written by save_embeddings or "
                             "`v2a-kit embed --out`)")
    return Embeddings(embeds, space, sources)
