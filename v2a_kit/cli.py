"""The ``v2a-kit`` command.

One small function per subcommand (``cmd_<name>(args) -> exit code``) and one parser builder
per subcommand (``_add_<name>(subparsers)``), registered in :func:`build_parser`. Errors the kit
raises on purpose (:class:`~v2a_kit.errors.V2AError`) print one line on stderr and exit with 2.

    v2a-kit embed photos/ --model clip --preset tiny --out photos.safetensors
    torchrun --standalone --nproc_per_node 2 -m v2a_kit.cli embed videos/ --model clip ...
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import V2AError

__all__ = ["main", "build_parser"]

DEFAULT_CACHE = Path(".v2a_cache") / "embeddings"


# --- embed -----------------------------------------------------------------------------------
def _add_embed(sub) -> None:
    from .encoders import AGGREGATORS

    p = sub.add_parser(
        "embed", help="embed images, videos or audio through the on-disk cache",
        description="Embed media files with CLIP (images, videos) or CLAP (audio). Rows are "
                    "cached by file content; a second run computes nothing. Under torchrun the "
                    "files are sharded across processes.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="media files and/or folders")
    p.add_argument("--model", choices=["clip", "clap"], required=True,
                   help="clip: images and videos; clap: audio")
    p.add_argument("--preset", default=None,
                   help="preset or model name (default: $V2A_KIT_PRESET or the kit's default)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                   help=f"cache root (default: {DEFAULT_CACHE})")
    p.add_argument("--out", type=Path, help="write embeddings + sources + space here "
                                            "(.safetensors)")
    p.add_argument("--kind", choices=["image", "video", "audio"],
                   help="accept only this kind of file")
    p.add_argument("--batch-size", type=int, help="files per encoder call")
    p.add_argument("--num-frames", type=int, default=8, help="frames per video (default: 8)")
    p.add_argument("--aggregate", choices=sorted(AGGREGATORS), default="mean",
                   help="how video frames become one embedding (default: mean)")
    p.add_argument("--device", help="e.g. cpu, cuda:1 (default: the best; cuda:LOCAL_RANK "
                                    "under torchrun)")
    p.add_argument("--rebuild", action="store_true", help="discard this model's cache first")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_embed)


def cmd_embed(args) -> int:
    from .distributed import distributed_env, shard_device
    from .embeddings import extract_embeddings, save_embeddings
    from .encoders import load_clap, load_clip

    info = distributed_env()
    device = args.device or (shard_device(info) if info.world_size > 1 else None)
    load = load_clip if args.model == "clip" else load_clap
    encoder = load(args.preset, device=device)
    emb, stats = extract_embeddings(
        encoder, args.inputs, args.cache, kind=args.kind, batch_size=args.batch_size,
        num_frames=args.num_frames, aggregate=args.aggregate,
        progress=False if args.no_progress else None, rebuild=args.rebuild,
        return_stats=True)
    if info.rank != 0:
        return 0
    if args.out is not None:
        save_embeddings(emb, args.out, extra={"model": args.model, "preset": args.preset,
                                              "num_frames": args.num_frames,
                                              "aggregate": args.aggregate})
    distinct = f" ({stats.num_unique} distinct)" if stats.num_unique < stats.num_files else ""
    print(f"embedded {stats.num_files} files{distinct} into "
          f"{encoder.space}: {stats.hits} cached, {stats.computed} computed"
          f"{f' by {info.world_size} processes' if info.world_size > 1 else ''}, "
          f"{stats.seconds:.1f} s; cache {', '.join(stats.cache_dirs)}"
          f"{f'; wrote {args.out}' if args.out else ''}")
    return 0


# --- entry point -----------------------------------------------------------------------------
def _add_pocket(sub) -> None:
    p = sub.add_parser("pocket", help="the pocket world: build its models")
    psub = p.add_subparsers(dest="pocket_command", required=True, metavar="SUBCOMMAND")
    b = psub.add_parser("build", help="train pocket-CLIP, pocket-CLAP and pocket-AudioLDM "
                                      "from a seed (minutes on a CPU)")
    b.add_argument("-o", "--out", required=True, type=Path, help="output folder (replaced)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--fast", action="store_true", help="a few steps of everything (smoke test)")
    b.add_argument("--no-progress", action="store_true")
    b.set_defaults(func=cmd_pocket_build)


def cmd_pocket_build(args) -> int:
    import json

    import torch

    from .pocket.build import build
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    report = build(args.out, seed=args.seed, fast=args.fast, progress=not args.no_progress)
    print(json.dumps({k: report[k] for k in ("clip_zero_shot", "clap_zero_shot", "timings_s")},
                     indent=2))
    print(f"wrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="v2a-kit", description="Vision-to-audio generation by connecting foundation models "
                                    "(CLIP -> V2A-Mapper -> CLAP -> AudioLDM).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_embed(sub)
    _add_pocket(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except V2AError as e:
        print(f"v2a-kit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # disk full, no permission: the environment's, not a kit bug
        print(f"v2a-kit {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"v2a-kit {args.command}: interrupted (finished work is kept; rerun to resume)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
