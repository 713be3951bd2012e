"""Embedding extraction: the kit vs the bare library call, and a cache hit vs a fresh extraction.

Prints ratios measured in one run (the machines are shared and noisy; absolute times are for
orientation only). Real-size CLIP ViT-B-32 at random init: the cost is the architecture's, not
the weights'.

    python benchmarks/bench_embeddings.py [--model ViT-B-32/openai] [--batch 32] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from v2a_kit import load_clip
from v2a_kit.embeddings import extract_embeddings


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="ViT-B-32/openai")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    clip = load_clip(args.model, random_init=True, device="cpu")
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (256, 320, 3), dtype=np.uint8))
              for _ in range(args.batch)]

    @torch.no_grad()
    def bare():  # what a user writes with open_clip alone
        x = torch.stack([clip.preprocess(im) for im in images])
        return F.normalize(clip.model.encode_image(x), dim=-1)

    def kit():
        return clip.encode_images(images, batch_size=args.batch, progress=False)

    assert torch.allclose(bare(), kit().embeds, atol=1e-5)  # same batch, same numbers
    t_bare, t_kit = [], []
    for _ in range(args.repeats):  # interleaved, so drifts in machine load hit both
        t_bare.append(timed(bare))
        t_kit.append(timed(kit))
    mb, mk = statistics.median(t_bare), statistics.median(t_kit)

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "images"
        folder.mkdir()
        for i, im in enumerate(images):
            im.save(folder / f"{i:03d}.png")
        cache = Path(d) / "cache"
        t_fresh = timed(lambda: extract_embeddings(clip, folder, cache, progress=False))
        t_hit = statistics.median(
            timed(lambda: extract_embeddings(clip, folder, cache, progress=False))
            for _ in range(args.repeats))

    res = {"model": args.model, "batch": args.batch,
           "bare_s": mb, "kit_s": mk, "kit_over_bare": mk / mb,
           "fresh_s": t_fresh, "hit_s": t_hit, "hit_over_fresh": t_hit / t_fresh}
    print(f"encode_images, {args.model} (random init), batch {args.batch}, CPU "
          f"{torch.get_num_threads()} threads, median of {args.repeats}:")
    print(f"  bare open_clip  {mb:7.3f} s   ({args.batch / mb:5.1f} images/s)")
    print(f"  v2a-kit         {mk:7.3f} s   ratio kit/bare = {mk / mb:.3f}  (target ~1.0)")
    print(f"extract_embeddings over {args.batch} PNG files:")
    print(f"  fresh           {t_fresh:7.3f} s")
    print(f"  cache hit       {t_hit:7.3f} s   ratio hit/fresh = {t_hit / t_fresh:.4f}")
    return res


if __name__ == "__main__":
    main()
