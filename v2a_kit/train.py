"""Training a V2A-Mapper on embedding pairs: ``fit(mapper, train, val, config) -> History``.

The paper trains its mappers on (CLIP image embedding, CLAP audio embedding) pairs extracted
once from videos (``v2a-kit embed``, cached) — nothing else is trained. ``fit`` is one loop for
every mapper kind (they share ``loss = mapper(clip_embed, clap_embed)``):

- AdamW, linear warm-up then cosine decay of the learning rate (per step);
- per epoch: the mean training loss, the validation loss, and validation retrieval recall@1/5 —
  how often the true CLAP embedding is the nearest (among the validation set's) to the mapped
  one, the measure the paper's retrieval results use;
- the best epoch (lowest validation loss) is kept and restored at the end, optionally written as
  a checkpoint (:func:`v2a_kit.mappers.save_mapper`, atomic); early stopping after
  ``patience`` epochs without improvement;
- seeded: the same seed, data and config give the same mapper on a CPU;
- data-parallel under torchrun / ``accelerate launch`` (:class:`~torch.nn.parallel.
  DistributedDataParallel`; gloo on CPU, NCCL on GPU): every rank draws the same permutation
  and takes rows ``rank::world_size`` of each global batch, gradients are averaged, the
  validation score of rank 0 decides for all, and rank 0 alone writes the checkpoint (the same
  format). At world size 1 none of this runs: the result is the single-process one, bit for bit.
"""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .devices import seeded
from .distributed import DistInfo, check_launcher, shard_device
from .errors import ConfigError, EmbeddingError
from .evaluation import recall_at_k
from .lr_schedule import warmup_cosine
from .mappers import Mapper, save_mapper
from .settings import TRAIN_RULES
from .spaces import Embeddings, check_same_space, validate_embeds

__all__ = ["Pairs", "TrainConfig", "History", "fit", "make_pairs", "train_named"]


@dataclass
class Pairs:
    """Aligned embedding pairs: row i of ``clip`` and row i of ``clap`` come from one clip."""

    clip: Embeddings
    clap: Embeddings

    def __post_init__(self):
        for name, e, fam in (("clip", self.clip, "clip"), ("clap", self.clap, "clap")):
            if not isinstance(e, Embeddings):
                raise EmbeddingError(f"Pairs.{name} must be Embeddings (with their space), got "
                                     f"{type(e).__name__}")
            if e.space.family != fam:
                raise EmbeddingError(f"Pairs.{name} is in a {e.space.family!r} space ({e.space});"
                                     f" expected a {fam!r} one")
        if len(self.clip) != len(self.clap):
            raise EmbeddingError(f"Pairs: {len(self.clip)} CLIP embeddings but {len(self.clap)} "
                                 "CLAP embeddings; need one of each per pair")

    def __len__(self) -> int:
        return len(self.clip)

    def split(self, num_val: int, seed: int = 0) -> tuple[Pairs, Pairs]:
        """A random (train, val) split with ``num_val`` validation pairs."""
        if not 0 < num_val < len(self):
            raise ConfigError(f"num_val={num_val}; need 0 < num_val < {len(self)} pairs")
        perm = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        return self.subset(perm[num_val:]), self.subset(perm[:num_val])

    def subset(self, idx) -> Pairs:
        idx = torch.as_tensor(idx)

        def take(e):
            src = None if e.sources is None else [e.sources[i] for i in idx.tolist()]
            return Embeddings(e.embeds[idx], e.space, src)
        return Pairs(take(self.clip), take(self.clap))


def make_pairs(clip: Embeddings, clap: Embeddings, by: str = "order") -> Pairs:
    """Pair two embedding sets: ``by="order"`` (row i with row i) or ``by="stem"`` (sources with
    the same file stem, e.g. ``frames/0001.png`` with ``audio/0001.wav``; every stem must be in
    both sets, once)."""
    if by == "order":
        return Pairs(clip, clap)
    if by != "stem":
        raise ConfigError(f"by={by!r}; expected 'order' or 'stem'")
    if clip.sources is None or clap.sources is None:
        raise EmbeddingError("pairing by stem needs the sources of both embedding sets")
    stems = [[Path(s).stem for s in e.sources] for e in (clip, clap)]
    for st, name in ((stems[0], "clip"), (stems[1], "clap")):
        if len(set(st)) != len(st):
            dup = sorted(s for s, c in Counter(st).items() if c > 1)[:5]
            raise EmbeddingError(f"{name} embeddings have repeated file stems {dup}")
    missing = sorted(set(stems[0]) ^ set(stems[1]))
    if missing:
        raise EmbeddingError(f"{len(missing)} file stems are in only one set, e.g. {missing[:5]}")
    where = {s: i for i, s in enumerate(stems[1])}
    idx = torch.tensor([where[s] for s in stems[0]])
    return Pairs(clip, Embeddings(clap.embeds[idx], clap.space,
                                  [clap.sources[i] for i in idx.tolist()]))


@dataclass(frozen=True)
class TrainConfig:
    """How :func:`fit` trains, checked when made: a value out of range is refused naming it
    (:class:`~v2a_kit.errors.ConfigError`; the rules are ``settings.TRAIN_RULES``, which
    ``v2a-kit train``'s options read too)."""

    epochs: int = 100            # upper bound; early stopping usually ends sooner
    batch_size: int = 256
    lr: float = 1e-3             # peak learning rate (AdamW)
    weight_decay: float = 1e-2
    warmup_frac: float = 0.05    # fraction of all steps spent warming up linearly
    patience: int | None = 15    # epochs without a better validation loss before stopping
    seed: int = 0                # initialisation (if the mapper is created after seeding),
                                 # batches and noise
    val_sample_kwargs: dict = field(default_factory=dict)  # passed to mapper.sample for recall
    progress: bool = True

    def __post_init__(self):
        for name, rule in TRAIN_RULES.items():
            rule.check(f"TrainConfig.{name}", getattr(self, name))
        if not isinstance(self.val_sample_kwargs, dict):
            raise ConfigError(f"TrainConfig.val_sample_kwargs must be a dict, got "
                              f"{self.val_sample_kwargs!r}")


@dataclass
class History:
    """Per-epoch records (train_loss, val_loss, recall@1, recall@5, lr, seconds) and the best."""

    epochs: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    def column(self, key: str) -> np.ndarray:
        return np.array([e[key] for e in self.epochs], dtype=float)

    def to_dict(self) -> dict:
        return asdict(self)


def _val_metrics(mapper: Mapper, val: Pairs, gen: torch.Generator, sample_kwargs) -> dict:
    mapper.eval()
    with torch.no_grad():
        losses = [float(_loss(mapper, c, a, gen)) * len(c) for c, a in
                  zip(val.clip.embeds.split(1024), val.clap.embeds.split(1024))]
        pred = torch.cat([mapper.sample(c, generator=gen, **sample_kwargs).cpu()
                          for c in val.clip.embeds.split(1024)])
    r = recall_at_k(pred, val.clap.embeds, ks=(1, 5))
    return {"val_loss": sum(losses) / len(val), "recall@1": r[1], "recall@5": r[5]}


def _loss(mapper, clip_embed, clap_embed, gen, model=None):
    """``model``: the module to call (a DDP wrapper of ``mapper``), ``mapper`` by default."""
    model = mapper if model is None else model
    if mapper.kind == "diffusion":
        return model(clip_embed, clap_embed, generator=gen)
    return model(clip_embed, clap_embed)


class _DataParallel:
    """What :func:`fit` does differently on ``world_size > 1`` ranks; inert on one."""

    def __init__(self, mapper: Mapper, info: DistInfo | None):
        self.info = info or DistInfo()
        self.on = self.info.world_size > 1
        self.model, self.own_group = mapper, False
        if not self.on:
            return
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel
        self.dist = dist
        if not dist.is_initialized():
            check_launcher(self.info)
            dist.init_process_group("nccl" if mapper.device.type == "cuda" else "gloo",
                                    rank=self.info.rank, world_size=self.info.world_size)
            self.own_group = True
        ids = [mapper.device] if mapper.device.type == "cuda" else None
        self.model = DistributedDataParallel(mapper, device_ids=ids,
                                             find_unused_parameters=False)

    def rows(self, idx: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a global batch."""
        return idx[self.info.rank::self.info.world_size] if self.on else idx

    def mean(self, value: float) -> float:
        """The mean over ranks (a training loss)."""
        if not self.on:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        self.dist.all_reduce(t)
        return float(t) / self.info.world_size

    def from_rank0(self, value: float) -> float:
        """Rank 0's value on every rank (the score that decides best epoch and stopping)."""
        if not self.on:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        self.dist.broadcast(t, 0)
        return float(t)

    def close(self) -> None:
        if self.own_group:
            self.dist.destroy_process_group()
            self.own_group = False


def _check_fit_inputs(mapper: Mapper, train: Pairs, val: Pairs | None,
                     config: TrainConfig) -> None:
    """Pairs of the mapper's spaces, and a batch no larger than the training set."""
    for name, p in (("train", train), ("val", val)):
        if p is None:
            continue
        if not isinstance(p, Pairs):
            raise EmbeddingError(f"{name} must be Pairs, got {type(p).__name__}")
        check_same_space(mapper.clip_space, p.clip.space, f"{name} CLIP embeddings")
        check_same_space(mapper.clap_space, p.clap.space, f"{name} CLAP embeddings")
    if config.batch_size > len(train):
        raise ConfigError(f"batch_size={config.batch_size} exceeds the {len(train)} training pairs")


def _optimiser(mapper: Mapper, config: TrainConfig, total: int):
    """AdamW with a linear warm-up over ``warmup_frac`` of the ``total`` steps, then cosine
    (:func:`v2a_kit.lr_schedule.warmup_cosine`)."""
    warm = max(1, int(config.warmup_frac * total))
    opt = torch.optim.AdamW(mapper.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return opt, warmup_cosine(opt, total, warm)


def _train_epoch(mapper: Mapper, x_all, y_all, opt, sched, gen, batch_size: int,
                 steps: int, par: _DataParallel) -> float:
    """One epoch over a fresh permutation (drawn from ``gen``, the same on every rank); each
    rank takes its rows of every batch (``par``). This rank's mean training loss."""
    mapper.train()
    perm = torch.randperm(len(x_all), generator=gen).to(x_all.device)
    total_loss = 0.0
    for s in range(steps):
        idx = par.rows(perm[s * batch_size:(s + 1) * batch_size])
        loss = _loss(mapper, x_all[idx], y_all[idx], gen, par.model)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total_loss += loss.item()
    return total_loss / steps


def fit(mapper: Mapper, train: Pairs, val: Pairs | None = None,
        config: TrainConfig | None = None, checkpoint=None, *,
        dist_info: DistInfo | None = None) -> History:
    """Train ``mapper`` on ``train``; keep and restore the epoch with the best validation loss.

    Args:
        val: validation pairs (needed for early stopping and best-epoch keeping; without them
            every epoch runs and the last is kept).
        checkpoint: a folder to write the best mapper to (atomically) whenever it improves
            (rank 0 writes it).
        dist_info: this process's place in a torchrun job (``None``: a single process):
            data-parallel training over its ranks (module docstring).
    Returns:
        :class:`History`; ``mapper`` holds the best weights, in eval mode.
    Raises:
        SpaceMismatchError: pairs in other spaces than the mapper's. EmbeddingError: bad pairs.
    """
    config = config or TrainConfig()
    _check_fit_inputs(mapper, train, val, config)
    dev = mapper.device
    x_all = validate_embeds(train.clip.embeds, mapper.clip_dim, "train CLIP").to(dev)
    y_all = validate_embeds(train.clap.embeds, mapper.clap_dim, "train CLAP").to(dev)
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    steps_per_epoch = len(train) // config.batch_size   # drop the ragged last batch
    total = steps_per_epoch * config.epochs
    opt, sched = _optimiser(mapper, config, total)
    par = _DataParallel(mapper, dist_info)
    if par.on and config.batch_size < par.info.world_size:
        par.close()
        raise ConfigError(f"batch_size={config.batch_size} is smaller than the "
                          f"{par.info.world_size} ranks: each rank needs rows of every batch")
    hist, best, best_state, bad = History(), math.inf, None, 0
    t_start = time.perf_counter()
    bar = tqdm(range(config.epochs), desc=f"fit {mapper.kind}",
               disable=not config.progress or par.info.rank != 0)
    for epoch in bar:
        t0 = time.perf_counter()
        train_loss = _train_epoch(mapper, x_all, y_all, opt, sched, gen, config.batch_size,
                                  steps_per_epoch, par)
        rec = {"epoch": epoch, "train_loss": par.mean(train_loss), "lr": opt.param_groups[0]["lr"]}
        if val is not None:
            rec.update(_val_metrics(mapper, val, gen, config.val_sample_kwargs))
        rec["seconds"] = time.perf_counter() - t0
        hist.epochs.append(rec)
        score = par.from_rank0(rec.get("val_loss", rec["train_loss"]))
        if score < best:
            best, bad, hist.best_epoch = score, 0, epoch
            if val is not None:  # restored at the end; without validation the last is kept
                best_state = copy.deepcopy(mapper.state_dict())
            if checkpoint is not None and par.info.rank == 0:
                save_mapper(mapper, checkpoint, extra={"epoch": epoch, **{
                    k: v for k, v in rec.items() if k != "epoch"}})
        else:
            bad += 1
        bar.set_postfix({k: f"{v:.4f}" for k, v in rec.items()
                         if k in ("train_loss", "val_loss", "recall@1")})
        if val is not None and config.patience is not None and bad >= config.patience:
            hist.stopped_early = True
            break
    par.close()
    if val is not None and best_state is not None:
        mapper.load_state_dict(best_state)
    hist.seconds = time.perf_counter() - t_start
    mapper.eval()
    return hist


def train_named(pairs: Pairs, config: str, out=None, *, num_val: int, seed: int = 0,
                progress: bool = True, dist_info: DistInfo | None = None, **train_overrides):
    """Train a mapper of a named config (:func:`v2a_kit.mappers.list_configs`) on ``pairs``:
    what ``v2a-kit train`` and ``v2a-kit pocket mappers`` both run, so either reproduces the other.

    ``num_val`` pairs (a seeded random split) are held out for validation; the mapper is seeded
    with ``seed`` before creation; ridge configs are solved in closed form on the training part.
    ``train_overrides`` adjust the config's training settings (e.g. ``epochs=2``).
    ``dist_info``: a torchrun job's rank (``distributed_env()``): data-parallel training on
    ``shard_device`` (see :func:`fit`); only rank 0 writes ``out``. ``None``: one process.

    Returns:
        (mapper, summary dict), and the mapper is saved to ``out`` (atomically) if given.
    """
    from .mappers import create_mapper, fit_ridge, get_config

    named = get_config(config)
    train, val = pairs.split(num_val, seed=seed)
    with seeded(seed):  # initialisation and dropout; the caller's random state is left alone
        mapper = create_mapper(config, pairs.clip.space, pairs.clap.space)
        if dist_info is not None and dist_info.world_size > 1:
            mapper = mapper.to(shard_device(dist_info))
        t0 = time.perf_counter()
        summary = {"config": config, "kind": named["kind"], "mapper": named["mapper"],
                   "parameters": mapper.num_parameters(), "num_train": len(train),
                   "num_val": len(val), "seed": seed}
        if named["train"] is None:
            fit_ridge(mapper, train.clip.embeds, train.clap.embeds)
        else:
            tc = TrainConfig(**{**named["train"], **train_overrides, "seed": seed,
                                "progress": progress})
            tc = replace(tc, batch_size=min(tc.batch_size, len(train)))
            hist = fit(mapper, train, val, tc, dist_info=dist_info)
            summary.update(
                epochs_run=len(hist.epochs), best_epoch=hist.best_epoch,
                stopped_early=hist.stopped_early, best=hist.epochs[hist.best_epoch],
                train_config={k: v for k, v in asdict(tc).items() if k != "progress"},
                history={k: hist.column(k).round(5).tolist()
                         for k in ("train_loss", "val_loss", "recall@1", "recall@5")})
    summary["train_s"] = time.perf_counter() - t0
    if dist_info is not None and dist_info.world_size > 1:
        summary["world_size"] = dist_info.world_size
    if out is not None and (dist_info is None or dist_info.rank == 0):
        from .mappers import save_mapper
        save_mapper(mapper, out, extra=summary)
    return mapper, summary
