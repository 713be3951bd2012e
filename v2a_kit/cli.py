"""The ``v2a-kit`` command.

One small function per subcommand (``cmd_<name>(args) -> exit code``) and one parser builder
per subcommand (``_add_<name>(subparsers)``), registered in :func:`build_parser`. Errors the kit
raises on purpose (:class:`~v2a_kit.errors.V2AError`) print one line on stderr and exit with 2;
so does a bad option: every number is parsed with its range (:func:`number`) and refused with
it, never replaced by a default. Each command checks its inputs and outputs before importing
torch (:mod:`v2a_kit.preflight`), so a refused run ends within a second and leaves nothing.

    v2a-kit embed photos/ --model clip --preset tiny --out photos.safetensors
    torchrun --standalone --nproc_per_node 2 -m v2a_kit.cli embed videos/ --model clip ...
    torchrun --standalone --nproc_per_node 2 -m v2a_kit.cli generate videos/ -o sounds/ ...
    v2a-kit train --clip frames.safetensors --clap audio.safetensors --kind diffusion -o ckpt/
    v2a-kit generate photo.png clip.mp4 photos/ -o sounds/ --num-samples 3
    v2a-kit evaluate sounds/ --references real/ --images photos/ --published
    v2a-kit evaluate --compare run_a.json run_b.json
    v2a-kit pocket build -o DIR        v2a-kit pocket mappers -o DIR/mappers
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from pathlib import Path

from .configs import mapper_config_names
from .defaults import AGGREGATE_NAMES, DEFAULT_SCHEDULER, SCHEDULERS, TIMED_MIN_FPS, TIMING_MODES
from .errors import ConfigError, V2AError
from .settings import GENERATE_RULES, TRAIN_RULES, Rule

__all__ = ["main", "build_parser", "number", "SEED"]

DEFAULT_CACHE = Path(".v2a_cache") / "embeddings"


class _UsageError(Exception):
    """A command line the parser refuses; ``main`` prints it as one line, exit status 2."""

    def __init__(self, prog: str, message: str):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse, with its refusals as one line (``v2a-kit CMD: error: ...``) instead of a usage
    block and an exit: ``main`` prints them like the kit's own errors."""

    def error(self, message):
        raise _UsageError(self.prog, f"{message} (see {self.prog} --help)")


def rule_type(rule: Rule):
    """An argparse ``type`` from a :class:`~v2a_kit.settings.Rule`: the option accepts what
    the setting accepts, and a refusal names the range, e.g. ``argument --steps: 0: expected an
    integer ≥ 1 (denoising steps)``."""
    def parse(text: str):
        try:
            return rule.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    parse.__name__ = rule.kind.__name__
    return parse


def number(kind: type, low: float, high: float | None = None, *, above: bool = False,
           what: str = ""):
    """An argparse ``type``: ``kind`` (int or float) in [low, high] (or > low with ``above``),
    finite (:func:`rule_type` of that rule)."""
    return rule_type(Rule(kind, low, math.inf if high is None else high, above, what=what))


def _fraction_or_count(text: str) -> float:
    """``--val``: a fraction in (0, 1) or a whole count ≥ 1."""
    wanted = "a fraction in (0, 1) or a whole count ≥ 1 (validation pairs)"
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected {wanted}") from None
    if not (0 < v < 1 or (v >= 1 and v == int(v) and math.isfinite(v))):
        raise argparse.ArgumentTypeError(f"{text}: expected {wanted}")
    return v


SEED = rule_type(GENERATE_RULES["seed"])
_COUNT = number(int, 1)


# --- embed -----------------------------------------------------------------------------------
def _add_embed(sub) -> None:
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
    p.add_argument("--batch-size", type=number(int, 1, what="files per encoder call"),
                   help="files per encoder call")
    p.add_argument("--num-frames", type=number(int, 1, what="frames per video"), default=8,
                   help="frames per video (default: 8)")
    p.add_argument("--aggregate", choices=sorted(AGGREGATE_NAMES), default="mean",
                   help="how video frames become one embedding (default: mean)")
    p.add_argument("--device", help="e.g. cpu, cuda:1 (default: the best; cuda:LOCAL_RANK "
                                    "under torchrun)")
    p.add_argument("--rebuild", action="store_true", help="discard this model's cache first")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_embed)


def cmd_embed(args) -> int:
    from .preflight import check_exists, check_outdir
    check_exists(args.inputs, "a media file or a folder of them")
    if args.out is not None:
        check_outdir(args.out.parent)

    from .distributed import distributed_env, shard_device
    from .embeddings import extract_embeddings, save_embeddings
    from .registry import load_clap, load_clip

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


# --- train -----------------------------------------------------------------------------------
def _add_train(sub) -> None:
    p = sub.add_parser(
        "train", help="train a V2A-Mapper on embedding pairs",
        description="Train a mapper from CLIP embeddings to CLAP embeddings (files written by "
                    "`v2a-kit embed --out`), keeping the epoch with the best validation loss. "
                    "Configs: " + ", ".join(mapper_config_names()) + ".")
    p.add_argument("--clip", type=Path, required=True, help="CLIP embeddings (.safetensors)")
    p.add_argument("--clap", type=Path, required=True, help="CLAP embeddings (.safetensors)")
    p.add_argument("--config", choices=mapper_config_names(), required=True,
                   help="named mapper config (kind, sizes, training settings)")
    p.add_argument("-o", "--out", type=Path, required=True, help="checkpoint folder")
    p.add_argument("--pair-by", choices=["order", "stem"], default="stem",
                   help="pair rows by file stem (default) or by order")
    p.add_argument("--val", type=_fraction_or_count, default=0.1,
                   help="validation pairs: a fraction (< 1) or a count (default 0.1)")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--epochs", type=rule_type(TRAIN_RULES["epochs"]),
                   help="override the config's")
    p.add_argument("--batch-size", type=rule_type(TRAIN_RULES["batch_size"]),
                   help="override the config's")
    p.add_argument("--lr", type=rule_type(TRAIN_RULES["lr"]), help="override the config's")
    p.add_argument("--patience", type=number(int, 0, what="epochs; 0: no early stopping"),
                   help="override the config's (0: no early stopping)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from .preflight import check_exists, check_outdir
    check_exists([args.clip, args.clap], "an embeddings file written by v2a-kit embed --out")
    check_outdir(args.out)

    from .distributed import distributed_env
    from .embeddings import load_embeddings
    from .train import make_pairs, train_named

    pairs = make_pairs(load_embeddings(args.clip), load_embeddings(args.clap), by=args.pair_by)
    num_val = int(args.val) if args.val >= 1 else max(1, round(args.val * len(pairs)))
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                   ("lr", args.lr)) if v is not None}
    if args.patience is not None:
        overrides["patience"] = args.patience or None
    info = distributed_env()
    _, summary = train_named(pairs, args.config, args.out, num_val=num_val, seed=args.seed,
                             progress=not args.no_progress,
                             dist_info=info if info.world_size > 1 else None, **overrides)
    if info.rank != 0:
        return 0
    done = f"{summary['kind']} ({args.config}, {summary['parameters']:,} parameters) on " \
           f"{summary['num_train']} pairs ({summary['num_val']} validation)"
    if "best" in summary:
        b = summary["best"]
        done += (f", {summary['epochs_run']} epochs in {summary['train_s']:.0f} s; best epoch "
                 f"{summary['best_epoch']}: val loss {b['val_loss']:.4f}, recall@1 "
                 f"{b['recall@1']:.3f}, recall@5 {b['recall@5']:.3f}")
    procs = f" on {info.world_size} processes" if info.world_size > 1 else ""
    print(f"trained {done}{procs}; wrote {args.out}")
    return 0


# --- entry point -----------------------------------------------------------------------------
def _add_pocket(sub) -> None:
    p = sub.add_parser("pocket", help="the pocket world: build its models")
    psub = p.add_subparsers(dest="pocket_command", required=True, metavar="SUBCOMMAND")
    b = psub.add_parser("build", help="train pocket-CLIP, pocket-CLAP and pocket-AudioLDM "
                                      "from a seed (minutes on a CPU)")
    b.add_argument("-o", "--out", required=True, type=Path, help="output folder (replaced)")
    b.add_argument("--seed", type=SEED, default=0)
    b.add_argument("--fast", action="store_true", help="a few steps of everything (smoke test)")
    b.add_argument("--no-progress", action="store_true")
    b.set_defaults(func=cmd_pocket_build)
    e = psub.add_parser("export", help="write world samples as NNNNN.png + NNNNN.wav (float) + "
                                       "examples.json, for `v2a-kit embed`; with --videos, "
                                       "timed videos as NNN.mp4 + NNN.wav (float) + videos.json")
    e.add_argument("-o", "--out", required=True, type=Path, help="output folder")
    e.add_argument("--num", type=number(int, 1, what="samples"), required=True,
                   help="number of samples")
    e.add_argument("--seed", type=SEED, required=True, help="world seed")
    e.add_argument("--split", default="all", choices=("all", "seen", "unseen"),
                   help="the compositional split to draw from (default: all)")
    e.add_argument("--videos", action="store_true",
                   help="write --num timed videos instead: scenes of the world in which each "
                        "object pops when its note starts (videos.json: each note's audio and "
                        "visual onset, each scene's labels)")
    e.add_argument("--scenes", type=number(int, 1, what="scenes per video"), default=None,
                   help="with --videos: scenes per video, 1 s each (default: 3)")
    e.add_argument("--fps", type=number(int, TIMED_MIN_FPS, what="frames per second"),
                   default=None, help="with --videos: frame rate (default: 25)")
    e.set_defaults(func=cmd_pocket_export)
    m = psub.add_parser("mappers", help="train the pocket mappers (one of each kind) on "
                                        "pocket-world pairs")
    m.add_argument("-o", "--out", required=True, type=Path, help="output folder")
    m.add_argument("--weights", type=Path, help="a pocket build (default: the shipped one)")
    m.add_argument("--seed", type=SEED, default=0)
    m.add_argument("--fast", action="store_true", help="a few steps (smoke test)")
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(func=cmd_pocket_mappers)
    c = psub.add_parser("calibrate", help="set a trained diffusion mapper's default guidance: "
                                          "the value whose samples spread like real audio")
    c.add_argument("folder", type=Path, help="the diffusion mapper's folder (rewritten)")
    c.add_argument("--weights", type=Path, help="a pocket build (default: the shipped one)")
    c.add_argument("--seed", type=SEED, default=0, help="the mappers' seed (calibration world "
                                                       "seed = 2500 + seed)")
    c.add_argument("--fast", action="store_true", help="a few images (smoke test)")
    c.set_defaults(func=cmd_pocket_calibrate)
    t = psub.add_parser("timing", help="train the timing-aware variant's onset predictor on "
                                       "timed videos (frozen pocket-CLIP, every frame; a "
                                       "minute or two on a CPU)")
    t.add_argument("-o", "--out", required=True, type=Path,
                   help="output folder (replaced; the shipped one is "
                        "v2a_kit/pocket/weights/onsets)")
    t.add_argument("--weights", type=Path, help="a pocket build (default: the shipped one)")
    t.add_argument("--seed", type=SEED, default=0)
    t.add_argument("--num", type=number(int, 1, what="training videos"), default=256,
                   help="training videos (default: 256)")
    t.add_argument("--steps", type=number(int, 1, what="training steps"), default=400,
                   help="training steps (default: 400)")
    t.set_defaults(func=cmd_pocket_timing)


def _pocket_training(args, train, summary) -> int:
    """Run ``train()`` with at most 2 torch threads, then print ``summary(report)`` as JSON
    and the folder written (``args.out``)."""
    import json

    import torch
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    report = train()
    print(json.dumps(summary(report), indent=2))
    print(f"wrote {args.out}")
    return 0


def cmd_pocket_build(args) -> int:
    from .pocket.build import build
    return _pocket_training(
        args, lambda: build(args.out, seed=args.seed, fast=args.fast,
                            progress=not args.no_progress),
        lambda report: {k: report[k] for k in ("gates", "timings_s")})


def cmd_pocket_export(args) -> int:
    if not args.videos and (args.scenes is not None or args.fps is not None):
        raise ConfigError("--scenes and --fps describe timed videos; expected them with --videos")
    if args.videos:
        from .pocket.world.timed import sample_world_videos, save_videos
        videos = sample_world_videos(args.num, args.seed, num_scenes=args.scenes or 3,
                                     fps=args.fps or 25, split=args.split)
        paths = save_videos(videos, args.out)
        print(f"wrote {args.num} timed videos of world seed {args.seed} ({args.split}; "
              f"{videos.num_scenes} scenes, {videos.num_frames} frames at {videos.fps} fps) to "
              f"{args.out} ({len(paths)} files)")
        return 0
    from .pocket.world.scenes import sample_world, save_examples
    batch = sample_world(args.num, args.seed, split=args.split)
    paths = save_examples(batch, args.out, n=args.num, lossless=True)
    print(f"wrote {args.num} pairs of world seed {args.seed} ({args.split}) to {args.out} "
          f"({len(paths)} files)")
    return 0


def cmd_pocket_mappers(args) -> int:
    from .pocket.mappers import train_pocket_mappers
    return _pocket_training(
        args, lambda: train_pocket_mappers(args.out, weights=args.weights, seed=args.seed,
                                           fast=args.fast, progress=not args.no_progress),
        lambda report: {k: {m: v[m] for m in v if m.startswith("test_") or m == "train_s"}
                        for k, v in report["mappers"].items()})


def cmd_pocket_timing(args) -> int:
    from .pocket.timing import train_pocket_onsets
    command = (f"v2a-kit pocket timing -o {args.out} --seed {args.seed} --num {args.num} "
               f"--steps {args.steps}" + (f" --weights {args.weights}" if args.weights else ""))
    return _pocket_training(
        args, lambda: train_pocket_onsets(args.out, num_videos=args.num, steps=args.steps,
                                          seed=args.seed, weights=args.weights,
                                          command=command),
        lambda report: {k: report[k] for k in ("scores", "seconds", "num_parameters",
                                               "weights_bytes")})


def cmd_pocket_calibrate(args) -> int:
    import json

    from .pocket.mappers import calibrate_mapper_folder
    result = calibrate_mapper_folder(args.folder, weights=args.weights, seed=args.seed,
                                     fast=args.fast)
    print(json.dumps(result, indent=2))
    print(f"wrote {args.folder}")
    return 0

# --- generate --------------------------------------------------------------------------------
def _add_generate(sub) -> None:

    p = sub.add_parser(
        "generate", help="images / videos / folders -> sounds (wav) and sound-tracked videos",
        description="Generate sounds for images and videos: CLIP -> V2A-Mapper -> AudioLDM. "
                    "Writes OUTDIR/<name>.wav per input (<name>_s0.wav, _s1.wav... with "
                    "--num-samples > 1), a copy of each video with the generated soundtrack "
                    "(<name>_v2a.<suffix>), and OUTDIR/generate.json with the settings. "
                    "Files in a folder that are not images or videos are skipped with a warning. "
                    "Every input is checked before a model is loaded. A rerun into the same "
                    "folder skips finished inputs (other settings are refused); under torchrun "
                    "the inputs are shared among the processes, with the same files.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image or video files, folders")
    p.add_argument("-o", "--outdir", type=Path, required=True, help="output folder")
    p.add_argument("--preset", default=None, help="pocket (default), paper, ...")
    p.add_argument("--mapper", default="diffusion",
                   help="the preset's mapper kind (diffusion, regression) or a checkpoint folder "
                        "from `v2a-kit train` (default: diffusion)")
    p.add_argument("--scheduler", choices=sorted(SCHEDULERS), default=DEFAULT_SCHEDULER,
                   help=f"AudioLDM's sampler (default: {DEFAULT_SCHEDULER}; ddim = the paper's)")
    p.add_argument("--steps", type=rule_type(GENERATE_RULES["num_inference_steps"]),
                   default=None,
                   help="denoising steps (default: " + ", ".join(
                       f"{k} {v}" for k, v in SCHEDULERS.items()) + ")")
    p.add_argument("--guidance", default=2.5, type=rule_type(GENERATE_RULES["guidance_scale"]),
                   help="AudioLDM's classifier-free guidance (default: 2.5, the paper's)")
    p.add_argument("--mapper-guidance", default=None,
                   type=rule_type(GENERATE_RULES["mapper_guidance_scale"]),
                   help="the generative mapper's guidance (default: the mapper's own, which "
                        "`v2a-kit pocket calibrate` sets; 1 = none)")
    p.add_argument("--num-samples", type=rule_type(GENERATE_RULES["num_samples"]), default=1,
                   help="sounds per input (default: 1)")
    p.add_argument("--num-frames", type=rule_type(GENERATE_RULES["num_frames"]),
                   default=8,
                   help="video frames averaged per segment (default: 8)")
    p.add_argument("--seed", type=SEED, default=0, help="input i uses seed + i (default: 0)")
    p.add_argument("--length", type=rule_type(GENERATE_RULES["audio_length_in_s"]), default=None,
                   help="seconds of sound per image (default: the generator's); videos get "
                        "their own length")
    p.add_argument("--batch-size", type=rule_type(GENERATE_RULES["batch_size"]), default=16,
                   help="inputs per chunk (the unit a rank takes and a rerun resumes) and "
                        "waveforms per AudioLDM call (default: 16)")
    p.add_argument("--timing", choices=TIMING_MODES, default="none",
                   help="none (default): V2A-Mapper's sound as it is; onsets: the timing-aware "
                        "variant, each video's notes placed where its onset predictor sees "
                        "something start (pocket preset; videos at 25 fps or a multiple)")
    p.add_argument("--no-video", action="store_true", help="write wav only, no muxed videos")
    p.add_argument("--device", help="e.g. cpu, cuda (default: the best; cuda:LOCAL_RANK under "
                                    "torchrun)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_generate)


def cmd_generate(args) -> int:
    """Checks everything before importing torch (:mod:`v2a_kit.preflight`: settings, inputs,
    output folder; with the pocket preset, one warning for inputs outside its world), then
    generates this rank's share into the run folder (runs.generate_run); rank 0 writes
    generate.json."""
    import time

    from .preflight import (
        OPTION_NAMES,
        generate_settings,
        plan_generation,
        warn_outside_pocket,
    )

    t0 = time.perf_counter()
    settings = generate_settings(args)
    plan = plan_generation(args.inputs, args.outdir, settings)  # no model, no torch yet
    warn_outside_pocket(plan.sources, settings.preset)

    import json

    from .atomic import atomic_write
    from .distributed import distributed_env, shard_device
    from .pipeline import V2APipeline
    from .runs import generate_run

    info = distributed_env()
    device = args.device or (shard_device(info) if info.world_size > 1 else None)
    pipe = V2APipeline.from_preset(settings.preset, args.mapper, device=device,
                                   timing=settings.timing)
    # the generator's own ranges (checked before it was loaded for a registered one)
    gen = pipe.audioldm
    settings.generate.check_generator(gen.min_length_s, gen.max_length_s,
                                      gen.scheduler.config.num_train_timesteps, name=gen.name,
                                      options=OPTION_NAMES)
    result = generate_run(pipe, plan, info, progress=not args.no_progress)
    if info.rank != 0:
        return 0
    seconds = time.perf_counter() - t0
    written = [f for r in result.records for f in r.files]
    manifest = {"settings": {**settings.to_dict(), **pipe.describe(),
                             "audio_length_in_s": float(args.length or
                                                        pipe.audioldm.default_length_s)},
                "run_settings": settings.to_dict(),  # as .v2a-run/settings.json: what a
                # rerun into this folder must match (mapper: a kind or a checkpoint's digest)
                "seconds": round(seconds, 2), "generate_s": round(result.seconds, 2),
                "world_size": info.world_size,
                "rank0": {"computed": result.computed_here, "skipped": result.skipped_here,
                          "regenerated": result.regenerated_here},
                "inputs": [{"source": s.name, "kind": r.kind, "duration_s": r.duration_s,
                            "segments": r.segments}
                           for s, r in zip(plan.sources, result.records)],
                "written": written}
    atomic_write(args.outdir / "generate.json", (json.dumps(manifest, indent=2) + "\n").encode())
    n_img = sum(r.kind == "image" for r in result.records)
    n_vid = len(result.records) - n_img
    resumed = (f"; {result.skipped_here} input(s) already done" if result.skipped_here else "")
    procs = f" by {info.world_size} processes" if info.world_size > 1 else ""
    print(f"v2a-kit generate: {n_img} image(s), {n_vid} video(s) -> {len(written)} file(s) in "
          f"{args.outdir}{procs} ({seconds:.1f} s; {settings.mapper} mapper, "
          f"{settings.scheduler} {settings.num_inference_steps} steps, guidance "
          f"{settings.guidance_scale:g}, seed {settings.seed}"
          f"{', timing onsets' if settings.timing == 'onsets' else ''}{resumed})")
    for name in written:
        print(f"  {name}")
    print("  generate.json (settings)")
    return 0


# --- evaluate --------------------------------------------------------------------------------
def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="score generated sounds: FD, FAD, KAD, FAD∞, KL, IS, CS (the paper's "
                         "table), with intervals and the protocol card",
        description="Score a folder of generated audio against real sounds and the input "
                    "images, paired by file name (<name>.wav or <name>_s<k>.wav): FD, FAD, KAD, "
                    "FAD∞ and KL need references, CS needs images, IS needs only the generated "
                    "sounds. Prints a markdown table (each score with its bootstrap interval) "
                    "and the protocol card; writes nothing unless --json. With --compare A.json "
                    "B.json: compares two saved reports, refusing when their protocols differ.")
    p.add_argument("generated", type=Path, metavar="GENERATED", nargs="?",
                   help="folder of generated audio (searched recursively)")
    p.add_argument("--references", type=Path, metavar="DIR",
                   help="real sounds: audio files, or videos whose soundtrack is the reference")
    p.add_argument("--images", type=Path, metavar="DIR",
                   help="input images, or videos (their middle frame)")
    p.add_argument("--vggsound", type=Path, metavar="CSV",
                   help="VGGSound list (vggsound.csv, clip,label rows or an id list); with "
                        "--folder: references and frames from its clips")
    p.add_argument("--folder", type=Path, metavar="DIR",
                   help="the VGGSound clips (with --vggsound)")
    p.add_argument("--imagehear", type=Path, metavar="DIR",
                   help="ImageHear images (Im2Wav's Data/ImageHear): CS and IS")
    p.add_argument("--preset", default=None, help="pocket (default) or paper: the extractors")
    p.add_argument("--random-init", action="store_true",
                   help="paper extractors at random init, offline (tests the code, measures "
                        "nothing)")
    p.add_argument("--weights", type=Path,
                   help="extractor weights: a pocket build folder, or a folder holding the "
                        "paper's files")
    p.add_argument("--resampler", default=None, metavar="NAME",
                   help="how files at another rate than the extractors' are resampled: "
                        "soxr_hq, soxr_vhq, soxr_lq, kaiser_best, kaiser_fast, polyphase, fft, "
                        "torchaudio, torchaudio_kaiser, linear (v2a_kit.media.RESAMPLERS). "
                        "Without it, such a file is refused")
    p.add_argument("--clip-seconds", type=number(float, 0, above=True, what="seconds"),
                   default=None, metavar="S",
                   help="cut every clip to S seconds (see --crop, --short, --pad-to)")
    p.add_argument("--crop", choices=("start", "center", "end"), default="start",
                   help="which part of each clip --clip-seconds keeps (default: start)")
    p.add_argument("--short", choices=("refuse", "pad", "repeat"), default="refuse",
                   help="a clip shorter than --clip-seconds: refuse it (default), pad it with "
                        "zeros or repeat it")
    p.add_argument("--pad-to", type=number(float, 0, above=True, what="seconds"),
                   default=None, metavar="S",
                   help="after cutting, zero-pad every clip to S seconds")
    p.add_argument("--resamples", type=number(int, 1, what="bootstrap redraws"),
                   default=1000,
                   help="bootstrap redraws for the intervals (default: 1000)")
    p.add_argument("--level", type=number(float, 0, 1, what="interval coverage"),
                   default=0.95, help="interval coverage (default 0.95)")
    p.add_argument("--seed", type=SEED, default=0,
                   help="the bootstrap's (and FAD∞'s draws') seed (default: 0)")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the report as JSON")
    p.add_argument("--published", action="store_true",
                   help="also print the paper's published rows with this run's below")
    p.add_argument("--compare", type=Path, nargs=2, metavar=("A.json", "B.json"),
                   help="compare two saved reports (--json): refused, naming each difference, "
                        "when their protocols differ")
    p.add_argument("--allow-differences", action="store_true",
                   help="with --compare: compare anyway, warning about each difference")
    p.add_argument("--batch-size", type=number(int, 1, what="files scored at a time"),
                   default=32, help="files scored at a time")
    p.add_argument("--cache", type=Path, metavar="DIR",
                   help="keep each clip's features in a content-keyed cache here (a rerun "
                        "computes only new clips); under torchrun the ranks share it (default "
                        f"there: {DEFAULT_CACHE.parent})")
    p.add_argument("--device", help="e.g. cpu, cuda (default: the best; cuda:LOCAL_RANK under "
                                    "torchrun)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_evaluate)


def _compare_reports(args) -> int:
    """``--compare A.json B.json``: protocol check, then the two rows side by side."""
    from .evaluation.protocol import check_comparable, load_report
    if args.generated is not None:
        raise ConfigError("--compare A.json B.json takes no GENERATED folder: it compares two "
                          "saved reports")
    a_path, b_path = args.compare
    a, b = load_report(a_path), load_report(b_path)
    names = (a_path.name, b_path.name) if a_path.name != b_path.name else (str(a_path),
                                                                           str(b_path))
    diffs = check_comparable(a["protocol"], b["protocol"],
                             allow_differences=args.allow_differences, names=names)
    print(f"protocols: {'the same' if not diffs else f'{len(diffs)} difference(s), warned above'}")
    print("| report | " + " | ".join(k.upper().replace("_INF", "∞") for k in _KEYS) + " |")
    print("|---|" + "---:|" * len(_KEYS))
    for name, r in zip(names, (a, b)):
        cells = []
        for key in _KEYS:
            value = r.get("is_mean") if key == "is" else r.get(key)
            iv = r.get("intervals", {}).get(key)
            cells.append("–" if value is None else f"{value:.3f}" + (
                "" if iv is None else f" [{iv['low']:.3f}, {iv['high']:.3f}]"))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("Intervals that do not overlap separate the two; overlapping ones may still differ "
          "in a paired test on the same inputs (v2a_kit.evaluation.compare_systems).")
    return 0


_KEYS = ("fd", "fad", "kad", "fad_inf", "kl", "is", "cs")


def cmd_evaluate(args) -> int:
    if args.compare is not None:
        return _compare_reports(args)
    if args.generated is None:
        raise ConfigError("give a GENERATED folder to score, or --compare A.json B.json")
    from .preflight import check_exists
    if (args.vggsound is None) != (args.folder is None):
        raise ConfigError("--vggsound CSV and --folder DIR go together")
    sources = [s for s, on in (("--references/--images", args.references or args.images),
                               ("--vggsound", args.vggsound), ("--imagehear", args.imagehear))
               if on]
    if len(sources) > 1:
        raise ConfigError(f"{' and '.join(sources)}: pick one source of references and images")
    if args.json is not None and not args.json.parent.is_dir():
        raise ConfigError(f"--json {args.json}: folder {args.json.parent} does not exist")
    if args.clip_seconds is None and (args.pad_to is not None or args.short != "refuse"
                                      or args.crop != "start"):
        raise ConfigError("--crop, --short and --pad-to shape --clip-seconds: give it too")
    check_exists([args.generated], "a folder of generated sounds")
    for option, path in (("--references", args.references), ("--images", args.images),
                         ("--vggsound", args.vggsound), ("--folder", args.folder),
                         ("--imagehear", args.imagehear)):
        if path is not None:
            check_exists([path], f"the {option} file or folder")

    import json

    from .atomic import atomic_write
    from .datasets import load_imagehear, load_vggsound, published_table
    from .distributed import distributed_env, shard_device
    from .evaluation.folder import evaluate
    from .evaluation.protocol import ClipRule

    clip = None if args.clip_seconds is None else ClipRule(args.clip_seconds, args.crop,
                                                           args.short, args.pad_to)
    dataset = (load_vggsound(args.vggsound, args.folder) if args.vggsound
               else load_imagehear(args.imagehear) if args.imagehear else None)
    info = distributed_env()
    cache = args.cache or (DEFAULT_CACHE.parent if info.world_size > 1 else None)
    device = args.device or (shard_device(info) if info.world_size > 1 else None)
    report = evaluate(args.generated, references=args.references, images=args.images,
                      dataset=dataset, preset=args.preset, random_init=args.random_init,
                      weights=args.weights, device=device, batch_size=args.batch_size,
                      progress=False if args.no_progress else None, cache_dir=cache,
                      resampler=args.resampler, clip=clip, resamples=args.resamples,
                      level=args.level, seed=args.seed)
    if report is None:  # a rank other than 0: its share is in the cache, rank 0 reports
        return 0
    print(report)
    if args.published:
        name = f"this run ({report.preset}: {args.generated.name or args.generated})"
        print(published_table(extra={name: report.published_row()}), end="")
        if report.preset != "paper" or "random-init" in report.extractors["fd"]["space"]:
            print(f"note: this run's extractors ({report.extractors['fd']['name']}, ...) are not "
                  "the paper's trained ones: its row is not comparable to the published rows")
    if args.json is not None:
        atomic_write(args.json, (json.dumps(report.to_dict(), indent=2) + "\n").encode())
        print(f"wrote {args.json}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="v2a-kit", description="Vision-to-audio generation by connecting foundation models "
                                    "(CLIP -> V2A-Mapper -> CLAP -> AudioLDM).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_embed(sub)
    _add_train(sub)
    _add_generate(sub)
    _add_evaluate(sub)
    _add_pocket(sub)
    return parser


def _kit_warnings_as_lines(command: str):
    """showwarning for the command line: the kit's own warnings (a skipped file, an incomplete
    dataset) as one ``v2a-kit CMD: warning: ...`` line, as errors are shown; other libraries'
    warnings keep Python's format, which names their source."""
    package = str(Path(__file__).resolve().parent)
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if str(Path(filename).resolve()).startswith(package):
            print(f"v2a-kit {command}: warning: {message}", file=file or sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)
    return show


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as e:
        print(f"{e.prog}: error: {e}", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _kit_warnings_as_lines(args.command)
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
