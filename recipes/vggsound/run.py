"""Reproduce the paper's VGGSound row: embed -> train -> generate -> evaluate, sharded.

    python recipes/vggsound/run.py --nproc 8 --vggsound /data/vggsound --splits vggsound.csv \\
        --work runs/paper --preset paper --config diffusion-paper --scheduler ddim --steps 200

With ``--nproc N`` the script relaunches itself under ``torchrun --standalone`` with N processes
(torchrun's own logs go to ``WORK/torchrun-logs/``, not the temp folder); under a launcher of
your own (``torchrun --nnodes ...``, ``accelerate launch``) leave it out.
Every stage resumes: a rerun with the same arguments computes only what is missing.

1. **audio** — each listed clip's soundtrack as ``WORK/audio/<id>.wav`` (the CLAP's rate, for
   training) and, for test clips, ``WORK/reference/<id>.wav`` (the generator's rate, cut or
   padded to the clip's length: the reference of FD, FAD and KL). Rank r writes clip i with
   i % world_size == r; files are written atomically and skipped when present.
2. **embed** — CLIP embeddings of the train videos (``--num-frames`` frames, mean) and CLAP
   embeddings of their audio, through the sharded cache ``WORK/cache``
   (:func:`v2a_kit.embeddings.extract_embeddings`) -> ``WORK/clip.safetensors``,
   ``WORK/clap.safetensors``.
3. **train** — :func:`v2a_kit.train.train_named` with ``--config`` on the pairs (by clip id),
   data-parallel over the ranks; rank 0 writes ``WORK/mapper/``.
4. **generate** — the test videos through :func:`v2a_kit.runs.generate_run` into
   ``WORK/generated/`` (one ``<id>.wav``, or ``<id>_s<k>.wav`` per sample).
5. **evaluate** — :func:`v2a_kit.evaluation.evaluate` (features sharded through
   ``WORK/cache``) -> ``WORK/report.json``, and the paper's table with this run's row beside
   the published ones -> ``WORK/table.md`` (printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from v2a_kit.cli import SEED, number
from v2a_kit.defaults import SCHEDULERS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vggsound", type=Path, required=True, help="folder of VGGSound clips")
    p.add_argument("--splits", type=Path, required=True,
                   help="vggsound.csv (youtube_id,start_seconds,label,split)")
    p.add_argument("--test-ids", type=Path,
                   help="the test clips to generate (e.g. V2A-Mapper's vggsound_test_id.txt); "
                        "default: the csv's test split")
    p.add_argument("--work", type=Path, required=True, help="the run's folder")
    p.add_argument("--nproc", type=number(int, 1, what="processes"),
                   help="relaunch under torchrun with this many processes")
    p.add_argument("--preset", default="paper", help="models: paper, pocket or tiny")
    p.add_argument("--random-init", action="store_true",
                   help="the paper's models at random init (tests the plumbing offline)")
    p.add_argument("--config", default="diffusion-paper", help="mapper config (v2a-kit train)")
    p.add_argument("--epochs", type=number(int, 1, what="epochs"), help="override the config's")
    p.add_argument("--batch-size", type=number(int, 1, what="clips per batch"), default=16,
                   help="clips per batch in every stage (default 16)")
    p.add_argument("--num-frames", type=number(int, 1, what="frames per clip"), default=8,
                   help="frames per clip (default 8)")
    p.add_argument("--scheduler", default="ddim", choices=sorted(SCHEDULERS),
                   help="ddim (the paper's) or dpmsolver++")
    p.add_argument("--steps", type=number(int, 1, what="denoising steps"), default=None,
                   help="denoising steps (ddim: 200)")
    p.add_argument("--guidance", type=number(float, 1, what="classifier-free guidance"),
                   default=2.5)
    p.add_argument("--num-samples", type=number(int, 1, what="sounds per clip"), default=1,
                   help="sounds per test clip")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--eval-preset", default="paper", help="the judges: paper or pocket")
    p.add_argument("--limit", type=number(int, 1, what="clips"),
                   help="the first N train and N test clips (a try run)")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def relaunch(args, argv) -> int:
    """Run this script under ``torchrun --standalone`` with ``--nproc`` processes."""
    rest = [a for i, a in enumerate(argv) if a != "--nproc" and
            (i == 0 or argv[i - 1] != "--nproc") and not a.startswith("--nproc=")]
    logs = Path(args.work) / "torchrun-logs"   # torchrun's own logs: in the run, not in /tmp
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           str(args.nproc), "--log-dir", str(logs), str(Path(__file__).resolve()), *rest]
    return subprocess.call(cmd)


# --- stages ----------------------------------------------------------------------------------
def clips(args, split: str):
    from v2a_kit.datasets import load_vggsound
    listing = args.test_ids if split == "test" and args.test_ids else args.splits
    items = [it for it in load_vggsound(listing, args.vggsound, split=split)
             if it.video_path is not None]
    return sorted(items, key=lambda it: it.id)[:args.limit]


def stage_audio(args, info, train, test, clap_rate: int, gen_rate: int) -> None:
    from v2a_kit import media
    jobs = [(it, args.work / "audio" / f"{it.id}.wav", clap_rate, False) for it in train]
    jobs += [(it, args.work / "reference" / f"{it.id}.wav", gen_rate, True) for it in test]
    for i, (it, out, rate, exact) in enumerate(jobs):
        if i % info.world_size != info.rank or out.exists():
            continue
        wave = media.read_video_audio(it.video_path, rate, allow_silence=True)
        if wave is None:
            raise SystemExit(f"{it.video_path}: no audio track; a VGGSound clip needs one")
        if exact:  # the clip's own length, as the generated sound has
            wave = media.fit_length(wave, round(media.probe_video(it.video_path).duration_s
                                                * rate))
        media.write_wav(out, wave, rate)


def stage_embed(args, info, clip, clap, train):
    from v2a_kit.embeddings import extract_embeddings, save_embeddings
    cache, show = args.work / "cache", not args.no_progress
    kw = {"batch_size": args.batch_size, "progress": show}
    ce = extract_embeddings(clip, [it.video_path for it in train], cache, kind="video",
                            num_frames=args.num_frames, **kw)
    ae = extract_embeddings(clap, [args.work / "audio" / f"{it.id}.wav" for it in train], cache,
                            **kw)
    if info.rank == 0:
        save_embeddings(ce, args.work / "clip.safetensors")
        save_embeddings(ae, args.work / "clap.safetensors")
    return ce, ae


def stage_train(args, info, ce, ae):
    from v2a_kit.train import make_pairs, train_named
    pairs = make_pairs(ce, ae, by="order")
    num_val = max(1, round(0.1 * len(pairs)))
    overrides = {"epochs": args.epochs} if args.epochs else {}
    train_named(pairs, args.config, args.work / "mapper", num_val=num_val, seed=args.seed,
                progress=not args.no_progress,
                dist_info=info if info.world_size > 1 else None, **overrides)


def stage_generate(args, info, clip, audioldm, test):
    from v2a_kit.pipeline import V2APipeline
    from v2a_kit.registry import load_mapper
    from v2a_kit.runs import RunSettings, generate_run, mapper_identity, plan_generation
    mapper_dir = args.work / "mapper"
    settings = RunSettings(
        preset=args.preset, mapper=mapper_identity(mapper_dir), scheduler=args.scheduler,
        num_inference_steps=(audioldm.default_steps(args.scheduler) if args.steps is None
                             else args.steps),
        guidance_scale=args.guidance, mapper_guidance_scale=1.0, seed=args.seed,
        num_samples=args.num_samples, num_frames=args.num_frames, aggregate="mean",
        audio_length_in_s=None, batch_size=args.batch_size, mux_videos=False)
    plan = plan_generation([it.video_path for it in test], args.work / "generated", settings)
    mapper = load_mapper(mapper_dir, clip_space=clip.space, clap_space=audioldm.space)
    pipe = V2APipeline(clip, mapper, audioldm)
    generate_run(pipe, plan, info, progress=not args.no_progress)


def stage_evaluate(args, test):
    from v2a_kit.datasets import EvalSet, VGGSoundItem
    from v2a_kit.evaluation.folder import evaluate
    items = [VGGSoundItem(it.youtube_id, it.start_s, it.label, it.video_path,
                          args.work / "reference" / f"{it.id}.wav", it.split) for it in test]
    dataset = EvalSet(f"VGGSound test ({len(items)} clips)", args.vggsound, items)
    return evaluate(args.work / "generated", dataset=dataset, preset=args.eval_preset,
                    random_init=args.random_init and args.eval_preset == "paper",
                    batch_size=args.batch_size, cache_dir=args.work / "cache",
                    progress=False if args.no_progress else None)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.nproc and "RANK" not in os.environ:
        return relaunch(args, argv)
    from v2a_kit.atomic import atomic_write
    from v2a_kit.datasets import published_table
    from v2a_kit.distributed import RankSync, distributed_env, shard_device
    from v2a_kit.registry import load_audioldm, load_clap, load_clip

    info = distributed_env()
    say = print if info.rank == 0 else (lambda *a, **k: None)
    device = shard_device(info) if info.world_size > 1 else None
    train, test = clips(args, "train"), clips(args, "test")
    say(f"recipe: {len(train)} train and {len(test)} test clips, {info.world_size} process(es)")
    opts = {"device": device, "random_init": args.random_init}
    clip, clap = load_clip(args.preset, **opts), load_clap(args.preset, **opts)
    audioldm = load_audioldm(args.preset, **opts)
    with RankSync(info) as sync:
        stage_audio(args, info, train, test, getattr(clap, "sampling_rate", 48000),
                    audioldm.sampling_rate)
        sync.barrier()
        say("recipe: audio done")
        ce, ae = stage_embed(args, info, clip, clap, train)
        say(f"recipe: embedded {len(ce)} clips")
        stage_train(args, info, ce, ae)
        sync.barrier()  # rank 0 has written the mapper
        say(f"recipe: trained {args.config} -> {args.work / 'mapper'}")
        stage_generate(args, info, clip, audioldm, test)
        say(f"recipe: generated -> {args.work / 'generated'}")
        report = stage_evaluate(args, test)
    if report is None:
        return 0
    atomic_write(args.work / "report.json", (json.dumps(report.to_dict(), indent=2)
                                             + "\n").encode())
    name = f"this run ({args.preset}, {len(test)} test clips, {info.world_size} proc)"
    table = published_table(extra={name: report.published_row()})
    atomic_write(args.work / "table.md", table.encode())
    print(report)
    print(table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
