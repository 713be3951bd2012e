"""The one content-keyed chunk store (v2a_kit.chunkstore) and the one sharding rule
(v2a_kit.distributed.Shard) under the kit's caches."""

import random
from pathlib import Path

import pytest

from v2a_kit.distributed import DistInfo, Shard
from v2a_kit.embeddings import ExtractStats, _shard_todo


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
