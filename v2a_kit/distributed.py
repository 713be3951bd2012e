"""Where this process stands in a torchrun / ``accelerate launch`` job, and barriers between ranks.

Both launchers set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. The kit uses the
caller's ``torch.distributed`` process group when there is one; otherwise :class:`RankSync`
creates a gloo group from the environment for its barriers and destroys it afterwards. Gloo,
also on GPU machines: barriers carry no tensors, and unlike a file-based barrier a failed rank
is noticed (torchrun tears the job down) instead of leaving the others polling a folder.

:class:`Shard` is the one rule by which the kit's sharded steps share work out (embedding
extraction, generation, evaluation's features): consecutive items in chunks, chunk ``k`` on
rank ``k % world_size``, so a batch holds the same items whatever the world size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch

from .errors import ConfigError, V2AError

__all__ = ["DistInfo", "distributed_env", "shard_device", "check_launcher", "RankSync", "Shard"]


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0         # this process among all of the job's, 0 .. world_size - 1
    world_size: int = 1   # processes in the job, over all nodes
    local_rank: int = 0   # this process among its node's: picks the GPU


@dataclass(frozen=True)
class Shard:
    """Chunks of ``chunk_size`` consecutive items; chunk ``k`` belongs to rank
    ``k % world_size``. The chunk is also the batch, so batches do not depend on the world
    size."""

    rank: int
    world_size: int
    chunk_size: int

    def chunks(self, num_items: int) -> list[range]:
        """This rank's chunks of ``range(num_items)``."""
        starts = range(0, num_items, self.chunk_size)
        return [range(a, min(a + self.chunk_size, num_items))
                for k, a in enumerate(starts) if k % self.world_size == self.rank]


def distributed_env(rank: int | None = None, world_size: int | None = None) -> DistInfo:
    """This process's place in the job: the arguments, else RANK / WORLD_SIZE / LOCAL_RANK."""
    env = os.environ
    try:
        ws = int(world_size if world_size is not None else env.get("WORLD_SIZE", 1))
        r = int(rank if rank is not None else env.get("RANK", 0))
        lr = int(env.get("LOCAL_RANK", r))
    except ValueError as e:
        raise ConfigError(f"bad RANK / WORLD_SIZE / LOCAL_RANK: {e}") from None
    if ws < 1 or not 0 <= r < ws:
        raise ConfigError(f"rank must be in [0, world_size), got rank={r}, world_size={ws}")
    return DistInfo(r, ws, lr)


def shard_device(info: DistInfo) -> torch.device:
    """``cuda:LOCAL_RANK`` where CUDA exists, else the CPU."""
    if torch.cuda.is_available():
        return torch.device(f"cuda:{info.local_rank % torch.cuda.device_count()}")
    return torch.device("cpu")


def check_launcher(info: DistInfo) -> None:
    """Refuse ``world_size > 1`` without the rendezvous a launcher sets (ConfigError)."""
    if info.world_size > 1 and not all(k in os.environ for k in ("MASTER_ADDR", "MASTER_PORT")):
        raise ConfigError(f"{info.world_size} ranks need torch.distributed: run under "
                          "torchrun or accelerate launch, or set MASTER_ADDR and MASTER_PORT")


class RankSync:
    """Barriers between the ranks of ``info``; a no-op for a single process.

    Args:
        info: from :func:`distributed_env`.
        timeout: how long a barrier waits for the slowest rank (a gloo group made here).
    """

    def __init__(self, info: DistInfo, timeout: timedelta = timedelta(hours=24)):
        import torch.distributed as dist
        self.dist, self.active, self.own = dist, info.world_size > 1, False
        if self.active and not dist.is_initialized():
            check_launcher(info)
            dist.init_process_group("gloo", rank=info.rank, world_size=info.world_size,
                                    timeout=timeout)
            self.own = True

    def barrier(self) -> None:
        if not self.active:
            return
        try:
            self.dist.barrier()
        except RuntimeError as e:  # gloo: "Connection closed by peer" when a rank has died
            why = str(e).splitlines()[0][:160]
            raise V2AError(f"rank {self.dist.get_rank()}: stopped because another rank failed "
                           f"or timed out (see its error); {why}") from None

    def close(self) -> None:
        """Destroy the group if this object made it; the caller's is left alone."""
        if self.own:
            self.dist.destroy_process_group()
            self.own = False

    def __enter__(self) -> RankSync:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
