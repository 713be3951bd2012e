"""Embedding extraction: the kit vs the bare library call (open_clip for images, transformers'
``ClapModel`` for audio), and a cache hit vs a fresh extraction.

Prints ratios measured in one run (the machines are shared and noisy; absolute times are for
orientation only). Real-size CLIP ViT-B-32 and the paper's CLAP (HTSAT-tiny, 10-s clips at
48 kHz) at random init: the cost is the architecture's, not the weights'.

    python benchmarks/bench_embeddings.py [--model ViT-B-32/openai] [--batch 32] [--repeats 4]
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
from _turns import in_turns
from PIL import Image

from v2a_kit import load_clap, load_clip
from v2a_kit.embeddings import extract_embeddings


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="ViT-B-32/openai")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=4, help="even: each goes first as often")
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
    mk, mb, each, _, _ = in_turns(kit, bare, args.repeats)

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

    clap_ratio, clap_bare = _clap_vs_bare(args.repeats)
    res = {"model": args.model, "batch": args.batch, "clap_kit_over_bare": clap_ratio,
           "bare_s": mb, "kit_s": mk, "kit_over_bare": mk / mb,
           "fresh_s": t_fresh, "hit_s": t_hit, "hit_over_fresh": t_hit / t_fresh}
    print(f"encode_images, {args.model} (random init), batch {args.batch}, CPU "
          f"{torch.get_num_threads()} threads, median of {args.repeats}:")
    print(f"  bare open_clip  {mb:7.3f} s   ({args.batch / mb:5.1f} images/s)")
    print(f"  v2a-kit         {mk:7.3f} s   ratio kit/bare = {mk / mb:.3f}  (target ~1.0; per "
          f"repeat {each[0]:.3f}–{each[-1]:.3f}, taking turns going first)")
    print("encode_audio, paper CLAP (random init), 4 clips of 10 s at 48 kHz:")
    print(f"  bare ClapModel  {clap_bare:7.3f} s   ratio kit/bare = {clap_ratio:.3f}"
          "  (target ~1.0)")
    print(f"extract_embeddings over {args.batch} PNG files:")
    print(f"  fresh           {t_fresh:7.3f} s")
    print(f"  cache hit       {t_hit:7.3f} s   ratio hit/fresh = {t_hit / t_fresh:.4f}")
    return res


def _clap_vs_bare(repeats: int) -> tuple[float, float]:
    """(kit / bare time ratio, bare seconds) of the paper CLAP on four 10-s clips at 48 kHz."""
    clap = load_clap("paper", random_init=True, device="cpu")
    rng = np.random.default_rng(1)
    waves = [(0.1 * rng.standard_normal(480_000)).astype(np.float32) for _ in range(4)]

    @torch.no_grad()
    def bare():  # what a user writes with transformers alone
        inputs = clap.feature_extractor(waves, sampling_rate=48_000, return_tensors="pt")
        feats = clap.model.get_audio_features(**inputs)
        return F.normalize(getattr(feats, "pooler_output", feats), dim=-1)

    def kit():
        return clap.encode_audio([(w, 48_000) for w in waves], batch_size=4, progress=False)

    assert torch.allclose(bare(), kit().embeds, atol=1e-5)
    mk, mb, _, _, _ = in_turns(kit, bare, repeats)
    return mk / mb, mb


if __name__ == "__main__":
    main()
