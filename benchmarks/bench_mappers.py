"""Mapper training: the kit's ``fit()`` vs a minimal hand-written PyTorch loop, same model and data.

Both train the same pocket-size mapper (regression and diffusion) from the same initial weights
on the same pairs for the same number of epochs, with AdamW at the same learning rate; the
hand-written loop has no validation, no schedule, no checkpoints. ``fit()`` runs with
validation switched off as well, so the ratio is the cost of its loop. Prints
pairs-per-second of each and their ratio (target ≈ 1.0), measured in one run: medians of
repeats in which the two take turns going first (one run each, always in one order, moved the
ratio by ±10 % on a 2-core machine).

    python benchmarks/bench_mappers.py [--pairs 8192] [--epochs 3] [--repeats 4]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from _turns import in_turns

import v2a_kit as vk
from v2a_kit.spaces import Embeddings, Space


def pairs(n: int, seed: int = 0) -> vk.Pairs:
    g = torch.Generator().manual_seed(seed)
    x = F.normalize(torch.randn(n, 64, generator=g), dim=-1)
    y = F.normalize(torch.tanh(x @ torch.randn(64, 48, generator=g)), dim=-1)
    return vk.Pairs(Embeddings(x, Space("clip", "bench", "x", 64)),
                    Embeddings(y, Space("clap", "bench", "y", 48)))


def hand_loop(mapper, data: vk.Pairs, epochs: int, batch: int, lr: float) -> float:
    opt = torch.optim.AdamW(mapper.parameters(), lr=lr, weight_decay=1e-2)
    x, y = data.clip.embeds, data.clap.embeds
    mapper.train()
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for s in range(len(x) // batch):
            idx = perm[s * batch:(s + 1) * batch]
            loss = mapper(x[idx], y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return time.perf_counter() - t


def fit_vs_hand(m0, data: vk.Pairs, config: vk.TrainConfig, repeats: int):
    """(median fit seconds, median hand-loop seconds, sorted per-repeat ratios): each from
    ``m0``'s weights, taking turns going first; each loop's own time (no copy, no setup)."""
    t_fit, t_hand = [], []
    in_turns(lambda: t_fit.append(vk.fit(copy.deepcopy(m0), data, None, config).seconds),
             lambda: t_hand.append(hand_loop(copy.deepcopy(m0), data, config.epochs,
                                             config.batch_size, config.lr)), repeats)
    return (statistics.median(t_fit), statistics.median(t_hand),
            sorted(k / h for k, h in zip(t_fit, t_hand)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=8192)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=4, help="even: each goes first as often")
    args = ap.parse_args()
    torch.set_num_threads(2)
    data = pairs(args.pairs)
    n = args.epochs * (args.pairs // args.batch) * args.batch
    config_fit = vk.TrainConfig(epochs=args.epochs, batch_size=args.batch, lr=1e-3,
                                warmup_frac=0.0, patience=None, progress=False)
    for config in ("regression-pocket", "diffusion-pocket"):
        torch.manual_seed(0)
        m0 = vk.create_mapper(config, data.clip.space, data.clap.space)
        kit, hand, each = fit_vs_hand(m0, data, config_fit, args.repeats)
        print(f"{config}: hand-written loop {n / hand:,.0f} pairs/s, fit() {n / kit:,.0f} pairs/s;"
              f" time ratio fit / hand = {kit / hand:.3f} (medians of {args.repeats} repeats, "
              f"each going first in turn; per repeat {each[0]:.3f}–{each[-1]:.3f})")


if __name__ == "__main__":
    main()
