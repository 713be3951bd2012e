"""The one content-keyed chunk store (v2a_kit.chunkstore) and the one sharding rule
(v2a_kit.distributed.Shard) under the kit's caches."""

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from v2a_kit.atomic import TEMP_PREFIX
from v2a_kit.chunkstore import ChunkStore, Column, StoreKind
from v2a_kit.distributed import DistInfo, Shard
from v2a_kit.embeddings import EmbeddingCache, ExtractStats, _shard_todo, cache_key
from v2a_kit.errors import CacheError, EmbeddingError
from v2a_kit.spaces import Space


# --- sharding ----------------------------------------------------------------------------------
def _todo_before_shard(groups, caches, rank, world_size, batch_size):
    """_shard_todo's own arithmetic before it used Shard: item i of the missing contents (in
    hash order) on rank (i // batch_size) % world_size."""
    out = {}
    for k, by_hash in groups.items():
        missing = [h for h in sorted(by_hash) if h not in caches[k]]
        out[k] = [(h, by_hash[h]) for i, h in enumerate(missing)
                  if (i // batch_size) % world_size == rank]
    return out


def _groups(n: int, seed: int):
    rng = random.Random(seed)
    groups = {kind: {f"{rng.getrandbits(64):016x}": Path(f"{kind}{i}.x") for i in range(n)}
              for kind in ("image", "video")}
    cached = {kind: set(sorted(by_hash)[::3]) for kind, by_hash in groups.items()}
    return groups, cached


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_shard_todo_gives_every_rank_the_batches_it_had_before(world_size):
    for n in (0, 1, 5, 17):
        for batch_size in (1, 2, 3, 8):
            groups, cached = _groups(n, seed=100 * world_size + n)
            for rank in range(world_size):
                stats = ExtractStats()
                got = _shard_todo(groups, cached, DistInfo(rank, world_size), stats, batch_size)
                assert got == _todo_before_shard(groups, cached, rank, world_size, batch_size)
                missing = sum(len([h for h in g if h not in cached[k]])
                              for k, g in groups.items())
                assert (stats.hits, stats.computed) == (2 * n - missing, missing)


def test_the_shard_comparison_can_fail():
    """Another rule (item i on rank i % world_size) gives other batches: the comparison above
    would see a change of rule."""
    groups, cached = _groups(9, seed=1)
    got = _shard_todo(groups, cached, DistInfo(0, 2), ExtractStats(), 2)
    missing = [h for h in sorted(groups["image"]) if h not in cached["image"]]
    item_round_robin = [(h, groups["image"][h]) for i, h in enumerate(missing) if i % 2 == 0]
    assert got["image"] != item_round_robin


def test_shard_chunks_cover_every_item_once_in_order():
    for world_size in (1, 2, 3, 4):
        for chunk_size in (1, 2, 5):
            everyone = sorted((c for r in range(world_size)
                               for c in Shard(r, world_size, chunk_size).chunks(11)),
                              key=lambda c: c.start)
            assert [i for c in everyone for i in c] == list(range(11))
            assert everyone == Shard(0, 1, chunk_size).chunks(11)


def test_shard_is_still_importable_from_runs():
    from v2a_kit import runs
    assert runs.Shard is Shard and "Shard" in runs.__all__


# --- the store ---------------------------------------------------------------------------------
KIND = StoreKind("test-store/1", "header.json", "test cache", rebuild="rebuild=True")
CONTENTS = {"what": "rows of a test", "dim": 3}


def _rows(n: int, seed: int = 0, counts=None):
    """n rows: "vec" (n, 3) float32 and, with ``counts``, ragged "seq" (sum, 2) float32."""
    rng = np.random.default_rng(seed)
    arrays = {"vec": rng.normal(size=(n, 3)).astype(np.float32)}
    if counts is not None:
        arrays["seq"] = rng.normal(size=(sum(counts), 2)).astype(np.float32)
    return [f"{seed:02d}h{i:03d}" for i in range(n)], arrays


def _temps(folder) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_round_trip_with_ragged_rows(tmp_path):
    folder = tmp_path / "store"
    store = ChunkStore.open(folder, KIND, CONTENTS)
    hashes, arrays = _rows(3, counts=[2, 0, 3])
    path = store.add(hashes, arrays, {"seq": [2, 0, 3]})
    assert path.parent == folder and path.name.startswith("chunk-") and store.chunks == [path]
    assert json.loads((folder / "header.json").read_text()) == {"format": "test-store/1",
                                                                **CONTENTS}
    again = ChunkStore.open(folder, KIND, CONTENTS)
    assert len(again) == 3 and hashes[1] in again and "nope" not in again
    a, b, c = again.lookup(hashes)
    assert np.array_equal(b["vec"], arrays["vec"][1]) and b["seq"].shape == (0, 2)
    assert np.array_equal(a["seq"], arrays["seq"][:2]) and np.array_equal(c["seq"],
                                                                          arrays["seq"][2:])
    assert again.lookup(["nope"]) == [None] and set(again.rows) == set(hashes)
    with pytest.raises(CacheError, match="add up"):
        store.add(["x"], _rows(1, counts=[2])[1], {"seq": [3]})
    with pytest.raises(CacheError, match=r"'vec' of shape \(2, 3\) for 1 rows"):
        store.add(["x"], _rows(2)[1])
    with pytest.raises(CacheError, match="rows of vec: float64"):  # not this store's layout
        store.add(["x"], {"vec": np.zeros((1, 3))})
    assert len(store.chunks) == 1 and len(list(folder.glob("chunk-*"))) == 1


def test_rows_are_the_stores_own(tmp_path):
    """A caller changing its arrays after add changes nothing stored."""
    store = ChunkStore.in_memory(KIND)
    hashes, arrays = _rows(2)
    store.add(hashes, arrays)
    arrays["vec"][:] = 0
    assert store.rows[hashes[0]]["vec"].any()


def _arrays_checksum(arrays) -> str:
    """The rule before the store (runs' _digest): names and bytes of the arrays alone."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("where", ["array", "hash"])
def test_a_flipped_byte_is_refused_naming_the_file(tmp_path, where):
    folder = tmp_path / "store"
    store = ChunkStore.open(folder, KIND, CONTENTS)
    hashes, arrays = _rows(4)
    chunk = store.add(hashes, arrays)
    data = bytearray(chunk.read_bytes())
    if where == "array":
        data[-1] ^= 1
    else:  # a row's key in the metadata: a hex digit made another hex digit
        i = data.index(hashes[2].encode()) + 1
        data[i] = ord("f") if data[i] != ord("f") else ord("e")
    chunk.write_bytes(bytes(data))
    with pytest.raises(CacheError, match=rf"test cache chunk .*{chunk.name} is damaged \(checksum "
                                         r"mismatch\); delete that file \(its rows are "
                                         r"recomputed\) or rebuild"):
        ChunkStore.open(folder, KIND, CONTENTS)
    if where == "hash":  # what a checksum of the arrays alone would have let through
        with safe_open(str(chunk), "np") as f:
            stored = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        assert _arrays_checksum(stored) == _arrays_checksum(arrays)


def test_a_truncated_chunk_and_one_off_the_layout_are_refused(tmp_path):
    folder = tmp_path / "store"
    store = ChunkStore.open(folder, KIND, CONTENTS, layout={"vec": Column("float32", (3,))})
    chunk = store.add(*_rows(2))
    chunk.write_bytes(chunk.read_bytes()[:-5])
    with pytest.raises(CacheError, match=f"{chunk.name} is damaged \\(unreadable"):
        ChunkStore.open(folder, KIND, CONTENTS)
    other = ChunkStore.open(tmp_path / "other", KIND, CONTENTS)
    shutil.copy(other.add(["h"], {"vec": np.zeros((1, 4), np.float32)}), chunk)
    with pytest.raises(CacheError, match=r"rows of vec: float32 \(n, 4\); expected vec: "
                                         r"float32 \(n, 3\)"):
        ChunkStore.open(folder, KIND, CONTENTS, layout={"vec": Column("float32", (3,))})


def test_a_wrong_header_is_refused_naming_the_folder(tmp_path):
    folder = tmp_path / "store"
    ChunkStore.open(folder, KIND, CONTENTS).add(*_rows(1))
    with pytest.raises(CacheError, match=r"store holds other contents \(dim: 3 there, 4 asked\)"
                                         r".*delete .*store or rebuild it \(rebuild=True\)"):
        ChunkStore.open(folder, KIND, {**CONTENTS, "dim": 4})
    other_kind = StoreKind("test-store/2", "header.json", "test cache")
    with pytest.raises(CacheError, match="format 'test-store/1', not 'test-store/2'"):
        ChunkStore.open(folder, other_kind, CONTENTS)
    header = folder / "header.json"
    header.write_text('{"format": "test-st')
    with pytest.raises(CacheError, match="header.json is damaged"):
        ChunkStore.open(folder, KIND, CONTENTS)
    header.unlink()
    with pytest.raises(CacheError, match=r"holds files \(chunk-.*\) but no header.json"):
        ChunkStore.open(folder, KIND, CONTENTS)
    assert len(list(folder.glob("chunk-*"))) == 1  # refused, never deleted


def test_rebuild_replaces_the_folder_by_an_empty_store(tmp_path):
    folder = tmp_path / "store"
    ChunkStore.open(folder, KIND, CONTENTS).add(*_rows(2))
    (folder / "header.json").write_text('{"format": "someone else"}')
    fresh = ChunkStore.open(folder, KIND, CONTENTS, rebuild=True)
    assert len(fresh) == 0 and fresh.chunks == [] and sorted(os.listdir(folder)) == ["header.json"]
    assert not _temps(tmp_path)
    assert len(ChunkStore.open(folder, KIND, CONTENTS)) == 0


def test_consolidate_merges_the_chunks_and_keeps_every_row(tmp_path):
    folder = tmp_path / "store"
    store = ChunkStore.open(folder, KIND, CONTENTS)
    expected = {}
    for seed, counts in enumerate(([1, 2], [0, 3, 1], [2])):
        hashes, arrays = _rows(len(counts), seed, counts)
        store.add(hashes, arrays, {"seq": counts})
        ends = np.cumsum(counts)
        expected.update({h: {"vec": arrays["vec"][i], "seq": arrays["seq"][e - c:e]}
                         for i, (h, c, e) in enumerate(zip(hashes, counts, ends))})
    parts = store.chunks
    merged = store.consolidate()
    assert store.chunks == [merged] and not any(p.exists() for p in parts)
    again = ChunkStore.open(folder, KIND, CONTENTS)
    assert again.chunks == [merged] and set(again.rows) == set(expected)
    for h, row in expected.items():
        assert all(np.array_equal(again.rows[h][k], row[k]) for k in row)
    assert again.consolidate() == merged  # one chunk: nothing to do


def test_reload_reads_again_when_a_part_is_merged_away(tmp_path, monkeypatch):
    """A rank reading while rank 0 merges: a part vanishes under it; it reads the merged one."""
    folder = tmp_path / "store"
    writer = ChunkStore.open(folder, KIND, CONTENTS)
    for seed in range(3):
        writer.add(*_rows(2, seed))
    reader = ChunkStore.open(folder, KIND, CONTENTS)
    real, merged = ChunkStore._read, []

    def merge_first(self, path):
        if self is reader and not merged:  # rank 0 merges before the reader reads a part
            merged.append(writer.consolidate())
        return real(self, path)
    monkeypatch.setattr(ChunkStore, "_read", merge_first)
    reader.reload()
    assert reader.chunks == merged and len(reader) == 6


def test_in_memory_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = ChunkStore.in_memory(KIND)
    hashes, arrays = _rows(3, counts=[1, 0, 2])
    assert store.add(hashes, arrays, {"seq": [1, 0, 2]}) is None
    store.reload()  # nothing to re-read: the rows stay
    assert len(store) == 3 and store.chunks == [] and store.consolidate() is None
    assert np.array_equal(store.lookup([hashes[2]])[0]["seq"], arrays["seq"][1:])
    assert list(tmp_path.iterdir()) == []


def test_a_failed_add_or_merge_leaves_nothing_behind(tmp_path, monkeypatch):
    from v2a_kit import atomic
    folder = tmp_path / "store"
    store = ChunkStore.open(folder, KIND, CONTENTS)
    first = store.add(*_rows(2, 0))
    second = store.add(*_rows(2, 1))
    real = atomic._fsync

    def disk_full(path):
        if Path(path).is_file():
            raise OSError(28, "No space left on device")
        real(path)
    monkeypatch.setattr(atomic, "_fsync", disk_full)
    hashes, arrays = _rows(2, 2)
    with pytest.raises(OSError, match="No space"):
        store.add(hashes, arrays)
    assert not _temps(folder) and store.chunks == [first, second]
    assert hashes[0] not in store and sorted(folder.glob("chunk-*")) == sorted([first, second])
    with pytest.raises(OSError, match="No space"):
        store.consolidate()
    assert not _temps(folder) and first.exists() and second.exists()
    monkeypatch.undo()
    assert len(ChunkStore.open(folder, KIND, CONTENTS)) == 4


# --- the two caches on it ------------------------------------------------------------------------
def test_the_embedding_cache_returns_tensors_and_checks_its_rows(tmp_path):
    space = Space("clip", "m", "c", 4)
    cache = EmbeddingCache.open(tmp_path, space, {"kind": "image"})
    rows = torch.nn.functional.normalize(torch.randn(2, 4), dim=-1)
    cache.add(["a", "b"], rows)
    again = EmbeddingCache.open(tmp_path, space, {"kind": "image"})
    a, missing = again.lookup(["a", "zz"])
    assert isinstance(a, torch.Tensor) and torch.equal(a, rows[0]) and missing is None
    with pytest.raises(EmbeddingError, match=r"must be \(1, 4\), got \(1, 3\)"):
        again.add(["c"], torch.zeros(1, 3))
    memory = EmbeddingCache.in_memory(space)
    memory.add(["a"], rows[:1])
    assert memory.folder is None and torch.equal(memory.lookup(["a"])[0], rows[0])


def test_an_embedding_cache_of_the_first_format_is_refused_not_read(tmp_path):
    """A folder as the kit wrote it before the store (format /1) is refused, naming it and
    how to rebuild, and left as it was; rebuild=True then starts it afresh."""
    from safetensors.torch import save_file
    space, settings = Space("clip", "m", "c", 4), {"kind": "image"}
    folder = tmp_path / cache_key(space, settings)
    folder.mkdir()
    header = json.dumps({"format": "v2a-kit-embedding-cache/1", "space": space.to_dict(),
                         "settings": settings}, indent=1, sort_keys=True)
    (folder / "space.json").write_text(header)
    embeds = torch.ones(1, 4) / 2
    save_file({"embeds": embeds}, str(folder / "chunk-old.safetensors"),
              {"format": "v2a-kit-embedding-cache/1", "hashes": json.dumps(["h"]),
               "checksum": hashlib.sha256(embeds.numpy().tobytes()).hexdigest()})
    with pytest.raises(CacheError) as err:
        EmbeddingCache.open(tmp_path, space, settings)
    msg = str(err.value)
    assert "'v2a-kit-embedding-cache/1', not 'v2a-kit-embedding-cache/2'" in msg
    assert str(folder) in msg and "rebuild it (rebuild=True, --rebuild)" in msg
    assert (folder / "space.json").read_text() == header
    assert (folder / "chunk-old.safetensors").exists()
    fresh = EmbeddingCache.open(tmp_path, space, settings, rebuild=True)
    assert len(fresh) == 0 and not (folder / "chunk-old.safetensors").exists()


def test_a_feature_cache_of_the_first_format_is_refused_not_read(tmp_path):
    from safetensors.torch import save_file

    from v2a_kit.evaluation.features import FeatureCache
    settings = {"roles": "test"}
    folder = FeatureCache(tmp_path, settings).folder
    folder.mkdir()
    header = json.dumps({"format": "v2a-kit-feature-cache/1", "settings": settings})
    (folder / "settings.json").write_text(header)
    features = torch.ones(1, 3)
    digest = hashlib.sha256(b"features" + features.numpy().tobytes()).hexdigest()
    save_file({"features": features}, str(folder / "chunk-old.safetensors"),
              {"format": "v2a-kit-feature-cache/1", "hashes": json.dumps(["h"]),
               "checksum": digest})
    with pytest.raises(CacheError) as err:
        FeatureCache(tmp_path, settings).open()
    msg = str(err.value)
    assert "'v2a-kit-feature-cache/1', not 'v2a-kit-feature-cache/2'" in msg
    assert f"delete {folder}" in msg
    assert (folder / "settings.json").read_text() == header
    assert (folder / "chunk-old.safetensors").exists()
