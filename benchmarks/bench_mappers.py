"""Mapper training: the kit's ``fit()`` vs a minimal hand-written PyTorch loop, same model and data.

Both train the same pocket-size mapper (regression and diffusion) from the same initial weights
on the same pairs for the same number of epochs, with AdamW at the same learning rate; the
hand-written loop has no validation, no schedule, no checkpoints. ``fit()`` runs with
validation switched off as well, so the ratio is the cost of its loop. Prints
pairs-per-second of each and their ratio (target ≈ 1.0), measured in one run.

    python benchmarks/bench_mappers.py [--pairs 8192] [--epochs 3]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn.functional as F

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=8192)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(2)
    data = pairs(args.pairs)
    n = args.epochs * (args.pairs // args.batch) * args.batch
    for config in ("regression-pocket", "diffusion-pocket"):
        torch.manual_seed(0)
        m0 = vk.create_mapper(config, data.clip.space, data.clap.space)
        a, b = copy.deepcopy(m0), copy.deepcopy(m0)
        hand = hand_loop(a, data, args.epochs, args.batch, 1e-3)
        hist = vk.fit(b, data, None, vk.TrainConfig(epochs=args.epochs, batch_size=args.batch,
                                                    lr=1e-3, warmup_frac=0.0, patience=None,
                                                    progress=False))
        kit = hist.seconds
        print(f"{config}: hand-written loop {n / hand:,.0f} pairs/s, fit() {n / kit:,.0f} pairs/s;"
              f" time ratio fit / hand = {kit / hand:.3f}")


if __name__ == "__main__":
    main()
