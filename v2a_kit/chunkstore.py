"""Rows keyed by content hash in verified chunk files: the one store under the kit's caches.

The embedding cache (:class:`~v2a_kit.embeddings.EmbeddingCache`) and the evaluation's feature
cache (:class:`~v2a_kit.evaluation.features.FeatureCache`) both keep rows computed from files,
keyed by the sha256 of each file's bytes (:func:`content_hash`), so that a rerun computes only
what is new and several processes can fill one folder. This module is that store; the caches
say what their rows are and check what only they know (an embedding's space).

Layout (the caller names the header file and says what the folder holds)::

    folder/
        <header>.json               {"format": the caller's tag, **what the caller says the
                                    contents are}; checked on every open
        chunk-<uuid>.safetensors    the rows of one add: per-row arrays (n, ...), ragged arrays
                                    (sum of counts, ...) with their counts "<name>_count" (n,)
                                    int64; metadata "format", "hashes" (JSON list of the n
                                    content hashes), "ragged" (JSON list of the ragged names),
                                    "checksum" (:func:`checksum`)

- A row is a dict of named arrays: ``row["embeds"]`` (d,), or for a ragged name the row's own
  ``k`` rows (``row["fad"]``: VGGish gives one per 0.96 s, so clips of other lengths have other
  ``k``). Every row of a store has the same names, dtypes and trailing shapes (its *layout*:
  declared by the caller, or taken from the first chunk).
- Every file is written atomically (:func:`~v2a_kit.atomic.atomic_write`): a chunk per
  :meth:`ChunkStore.add`, written before the rows count as stored; :meth:`ChunkStore.consolidate`
  writes the merged chunk first and removes the parts after. Temp files a dead writer left are
  removed on open; ``rebuild=True`` replaces the folder by an empty one in one rename
  (:func:`~v2a_kit.atomic.atomic_folder`).
- Nothing is read for another purpose or half-read: a header of another format, with other
  contents, or damaged, and a chunk that is unreadable, fails its checksum or does not fit the
  layout, raise :class:`~v2a_kit.errors.CacheError` naming the folder or file and saying what
  to delete (or how to rebuild). Nothing is deleted or recomputed silently.
- :meth:`ChunkStore.reload` re-reads the folder, where other processes may have added chunks,
  or merged them meanwhile (a part gone while it reads: it reads the folder again).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save as st_save

from .atomic import TEMP_PREFIX, atomic_folder, atomic_write, remove_stale_temps
from .errors import CacheError, MediaError

__all__ = ["ChunkStore", "StoreKind", "Column", "checksum", "content_hash"]

CHUNK_GLOB = "chunk-*.safetensors"
COUNT_SUFFIX = "_count"


def content_hash(path) -> str:
    """sha256 (hex) of a file's bytes: the key of its row in every cache of the kit."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as e:
        raise MediaError(f"cannot read {path}: {e.strerror or e}") from None
    return h.hexdigest()


def checksum(meta: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> str:
    """The one checksum of a chunk: sha256 over its metadata (all but the checksum) and, for
    each array in name order, its name, dtype, shape and bytes — so a flipped bit anywhere in
    what is read back, also in a row's hash or an array's shape, is found."""
    h = hashlib.sha256(json.dumps({k: v for k, v in meta.items() if k != "checksum"},
                                  sort_keys=True).encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(json.dumps([k, a.dtype.str, list(a.shape)]).encode())
        h.update(a.data)
    return h.hexdigest()


@dataclass(frozen=True)
class StoreKind:
    """What a store is to its user: the format tag of its header and chunks, the header's file
    name, what to call it in messages, and how its user rebuilds it (``None``: only by deleting
    its folder)."""

    format: str
    header: str
    what: str                   # "embedding cache": "... chunk X of the embedding cache"
    rebuild: str | None = None  # "rebuild=True, --rebuild"


@dataclass(frozen=True)
class Column:
    """One named array of every row: its dtype, its shape per row (without the row axis) and
    whether a row holds a variable number ``k`` of such arrays (ragged)."""

    dtype: str
    shape: tuple[int, ...]
    ragged: bool = False

    @classmethod
    def of(cls, array: np.ndarray, ragged: bool = False) -> Column:
        return cls(array.dtype.name, tuple(int(s) for s in array.shape[1:]), ragged)

    def __str__(self) -> str:
        dims = ["k per row" if self.ragged else "n"] + [str(s) for s in self.shape]
        return f"{self.dtype} ({', '.join(dims)})"


def _layout_str(layout: Mapping[str, Column]) -> str:
    return "; ".join(f"{k}: {c}" for k, c in sorted(layout.items()))


class ChunkStore:
    """Rows (dicts of named arrays) keyed by content hash, in verified chunk files.

    Create with :meth:`open` (a folder) or :meth:`in_memory`. Every chunk is read and verified
    on open and on :meth:`reload` (the rows stay in memory: views of the chunks' arrays).

    Args:
        kind: what the store is to its user (:class:`StoreKind`).
        folder: its folder, ``None`` in memory (use :meth:`open`, which checks the header).
        layout: every row's arrays, when the user knows them; ``None``: the first chunk's.
    """

    def __init__(self, kind: StoreKind, folder: Path | None = None,
                 layout: Mapping[str, Column] | None = None):
        self.kind, self.folder, self._declared = kind, folder, dict(layout or {})
        self._layout = dict(self._declared)
        self._rows: dict[str, dict[str, np.ndarray]] = {}
        self._chunks: list[Path] = []
        self.reload()

    @classmethod
    def in_memory(cls, kind: StoreKind, layout: Mapping[str, Column] | None = None
                  ) -> ChunkStore:
        """A store without a folder: rows live as long as the object."""
        return cls(kind, None, layout)

    @classmethod
    def open(cls, folder, kind: StoreKind, contents: Mapping, *, rebuild: bool = False,
             layout: Mapping[str, Column] | None = None) -> ChunkStore:
        """Open (creating if needed) the store in ``folder``, whose header must say ``contents``.

        Args:
            contents: what the folder holds, as the header records it (JSON-able), e.g. the
                model's space and the extraction settings.
            rebuild: replace the folder by an empty store first (in one rename).
        Raises:
            CacheError: the folder cannot be made, its header is damaged, of another format
                (another version of the kit wrote it) or says other contents, it has files
                but no header, or a chunk is damaged.
        """
        folder = Path(folder)
        want = json.loads(json.dumps({"format": kind.format, **contents}, sort_keys=True))
        header = json.dumps(want, indent=1, sort_keys=True).encode()
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(folder.parent)  # what a killed rebuild left beside the folder
            if rebuild:
                with atomic_folder(folder) as fresh:
                    atomic_write(fresh / kind.header, header)
            folder.mkdir(exist_ok=True)
            remove_stale_temps(folder)
        except OSError as e:
            raise CacheError(f"cannot use {folder} as the {kind.what}: {e}") from None
        _check_header(folder, kind, want, header)
        return cls(kind, folder, layout)

    def _damaged(self, path: Path, why: str) -> CacheError:
        how = (f"rebuild the {self.kind.what} ({self.kind.rebuild})" if self.kind.rebuild
               else f"delete {self.folder}")
        return CacheError(f"{self.kind.what} chunk {path} is damaged ({why}); delete that file "
                          f"(its rows are recomputed) or {how}")

    def _where(self) -> str:
        return str(self.folder) if self.folder is not None else f"the in-memory {self.kind.what}"

    # --- reading -----------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read every chunk of the folder (others may have written or merged some); in
        memory, nothing to read."""
        if self.folder is None:
            return
        vanished = True
        while vanished:  # a part merged away meanwhile: its merged file is there, look again
            self._rows, self._chunks, vanished = {}, [], False
            self._layout = dict(self._declared)
            for path in sorted(self.folder.glob(CHUNK_GLOB)):
                try:
                    hashes, arrays, ragged = self._read(path)
                except FileNotFoundError:
                    vanished = True
                    continue
                layout = _layout_of(arrays, ragged)
                why = self._misfit(layout)
                if why:
                    raise self._damaged(path, why)
                self._keep(hashes, arrays, ragged, layout)
                self._chunks.append(path)

    def _read(self, path: Path) -> tuple[list[str], dict[str, np.ndarray], set[str]]:
        """A chunk's hashes, arrays and ragged names, verified; FileNotFoundError if it went."""
        try:
            with safe_open(str(path), framework="np") as f:
                meta = f.metadata() or {}
                arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        except Exception as e:  # safetensors raises its own types; all mean "unreadable"
            if not path.exists():
                raise FileNotFoundError(path) from None
            raise self._damaged(path, f"unreadable: {e}") from None
        if meta.get("format") != self.kind.format:
            raise self._damaged(path, f"format {meta.get('format')!r}, expected "
                                      f"{self.kind.format!r}")
        if checksum(meta, arrays) != meta.get("checksum"):
            raise self._damaged(path, "checksum mismatch")
        try:
            hashes, ragged = json.loads(meta["hashes"]), json.loads(meta["ragged"])
            ragged = {str(r) for r in ragged}
        except (KeyError, TypeError, ValueError) as e:
            raise self._damaged(path, f"unreadable metadata: {e!r}") from None
        problem = _shape_problem(hashes, arrays, sorted(ragged))
        if problem:
            raise self._damaged(path, problem)
        return hashes, arrays, ragged

    def _keep(self, hashes: list[str], arrays: dict[str, np.ndarray], ragged: set[str],
              layout: dict[str, Column]) -> None:
        """Keep the rows (views of ``arrays``) of a chunk that fits the layout."""
        self._layout = layout
        counts = {r: arrays[r + COUNT_SUFFIX] for r in ragged}
        ends = {r: np.cumsum(c) for r, c in counts.items()}
        for i, h in enumerate(hashes):
            self._rows[h] = {k: (arrays[k][ends[k][i] - counts[k][i]:ends[k][i]] if k in ragged
                                 else arrays[k][i]) for k in layout}

    def _misfit(self, layout: dict[str, Column]) -> str | None:
        """Why rows of ``layout`` do not belong here (``None``: they do)."""
        if self._layout and layout != self._layout:
            return f"rows of {_layout_str(layout)}; expected {_layout_str(self._layout)}"
        return None

    # --- the rows ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, h: str) -> bool:
        return h in self._rows

    @property
    def rows(self) -> Mapping[str, dict[str, np.ndarray]]:
        """Content hash -> row (read-only)."""
        return MappingProxyType(self._rows)

    @property
    def chunks(self) -> list[Path]:
        """The chunk files read or written (none in memory)."""
        return list(self._chunks)

    def lookup(self, hashes: Sequence[str]) -> list[dict[str, np.ndarray] | None]:
        """The row of each content hash, or ``None`` where there is none."""
        return [self._rows.get(h) for h in hashes]

    # --- writing -----------------------------------------------------------------------------
    def add(self, hashes: Sequence[str], arrays: Mapping[str, np.ndarray],
            counts: Mapping[str, Sequence[int]] | None = None) -> Path | None:
        """Store the rows of ``hashes``: one new chunk, written atomically before the rows
        count as stored (nothing is kept of a failed write).

        Args:
            arrays: name -> (n, ...) with row i for ``hashes[i]``; for a name in ``counts``,
                (sum of its counts, ...): the rows of ``hashes[0]``, then of ``hashes[1]``...
            counts: ragged name -> each row's number of rows (the names ``<name>_count`` are
                the store's).
        Returns:
            The new chunk (``None`` in memory, or when there are no rows).
        Raises:
            CacheError: the arrays do not fit ``hashes`` or the store's layout.
        """
        hashes = list(hashes)
        arrays = {k: np.array(a, order="C") for k, a in arrays.items()}  # a copy: ours alone
        ragged = set(counts or {})
        for r in sorted(ragged):
            if r not in arrays or r + COUNT_SUFFIX in arrays:
                raise CacheError(f"counts for {r!r} need an array {r!r} and no array "
                                 f"{r + COUNT_SUFFIX!r} (the store's), got {sorted(arrays)}")
            arrays[r + COUNT_SUFFIX] = np.asarray(counts[r], np.int64)
        problem = _shape_problem(hashes, arrays, sorted(ragged))
        layout = _layout_of(arrays, ragged)
        problem = problem or self._misfit(layout)
        if problem:
            raise CacheError(f"cannot add to {self._where()}: {problem}")
        if not hashes:
            return None
        path = self._write(hashes, arrays, ragged) if self.folder is not None else None
        self._keep(hashes, arrays, ragged, layout)
        if path is not None:
            self._chunks.append(path)
        return path

    def _write(self, hashes: list[str], arrays: dict[str, np.ndarray], ragged: set[str]) -> Path:
        """One new chunk file, written atomically."""
        meta = {"format": self.kind.format, "hashes": json.dumps(hashes),
                "ragged": json.dumps(sorted(ragged))}
        meta["checksum"] = checksum(meta, arrays)
        return atomic_write(self.folder / f"chunk-{uuid.uuid4().hex}.safetensors",
                            st_save(arrays, meta))

    def consolidate(self) -> Path | None:
        """Merge every chunk into one: the merged file is written first, then the parts go.

        Returns the one chunk left (``None`` when there is none, or in memory)."""
        self.reload()
        if self.folder is None or len(self._chunks) <= 1 or not self._rows:
            return self._chunks[0] if self._chunks else None
        parts, hashes = self._chunks, sorted(self._rows)
        rows = [self._rows[h] for h in hashes]
        arrays, ragged = {}, set()
        for k, col in self._layout.items():
            if col.ragged:
                ragged.add(k)
                arrays[k] = np.concatenate([r[k] for r in rows])
                arrays[k + COUNT_SUFFIX] = np.array([len(r[k]) for r in rows], np.int64)
            else:
                arrays[k] = np.stack([r[k] for r in rows])
        merged = self._write(hashes, arrays, ragged)
        for p in parts:
            p.unlink(missing_ok=True)
        self._chunks = [merged]
        return merged


def _start_over(folder: Path, kind: StoreKind) -> str:
    """How to get past a refused folder."""
    how = f" or rebuild it ({kind.rebuild})" if kind.rebuild else ""
    return f"delete {folder}{how}"


def _check_header(folder: Path, kind: StoreKind, want: dict, header: bytes) -> None:
    """Write the header into a new (empty) folder; refuse a folder whose header is not
    ``want``, or that has files but no header."""
    path = folder / kind.header
    try:
        have = json.loads(path.read_text())
    except FileNotFoundError:
        others = sorted(p.name for p in folder.iterdir() if not p.name.startswith(TEMP_PREFIX))
        if others:
            raise CacheError(
                f"{folder} holds files ({', '.join(others[:3])}) but no {kind.header}: the kit "
                f"did not write it, or it is damaged: {_start_over(folder, kind)}") from None
        try:
            atomic_write(path, header)
        except OSError as e:
            raise CacheError(f"cannot use {folder} as the {kind.what}: {e}") from None
        return
    except (OSError, ValueError) as e:
        raise CacheError(f"{path} is damaged ({e}); {_start_over(folder, kind)}") from None
    if not isinstance(have, dict):
        raise CacheError(f"{path} is damaged (a JSON {type(have).__name__}, not an object); "
                         f"{_start_over(folder, kind)}")
    if have.get("format") != want["format"]:
        raise CacheError(
            f"{folder} is a cache of format {have.get('format')!r}, not "
            f"{want['format']!r} (another version of the kit wrote it, or another tool): "
            f"{_start_over(folder, kind)}")
    if have != want:
        diff = "; ".join(f"{k}: {have.get(k)!r} there, {want.get(k)!r} asked"
                         for k in sorted(set(have) | set(want)) if have.get(k) != want.get(k))
        raise CacheError(f"the {kind.what} folder {folder} holds other contents ({diff}); it was "
                         f"copied or renamed by hand: {_start_over(folder, kind)}")


def _layout_of(arrays: Mapping[str, np.ndarray], ragged: set[str]) -> dict[str, Column]:
    """The columns of a chunk's arrays (its counts are not columns)."""
    counts = {r + COUNT_SUFFIX for r in ragged}
    return {k: Column.of(a, k in ragged) for k, a in arrays.items() if k not in counts}


def _shape_problem(hashes, arrays: Mapping[str, np.ndarray], ragged: Sequence[str]) -> str | None:
    """What makes ``arrays`` not the rows of ``hashes`` (``None``: nothing)."""
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        return "its hashes are not a list of strings"
    n = len(hashes)
    count_names = {r + COUNT_SUFFIX for r in ragged}
    for r in ragged:
        c = arrays.get(r + COUNT_SUFFIX)
        if r not in arrays or c is None:
            return f"ragged {r!r} without its array or its counts"
        if c.ndim != 1 or len(c) != n or c.dtype != np.int64 or (c < 0).any():
            return f"{r!r} counts {c.dtype} {tuple(c.shape)}, expected {n} counts ≥ 0"
        if arrays[r].ndim < 1:
            return f"ragged {r!r} of shape (), expected (sum of its counts, ...)"
        if int(c.sum()) != len(arrays[r]):
            return (f"{len(arrays[r])} {r!r} rows for {n} rows with counts "
                    f"{c.tolist()[:5]}{'...' if n > 5 else ''}; expected the counts to add up")
    for k, a in arrays.items():
        if k not in ragged and k not in count_names and (a.ndim < 1 or len(a) != n):
            return f"{k!r} of shape {tuple(a.shape)} for {n} rows; expected ({n}, ...)"
    return None
