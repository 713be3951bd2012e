"""Sharded, resumable generation runs under torchrun, into a run folder.

**Generation** (``v2a-kit generate``, one process or ``torchrun -m v2a_kit.cli generate``):

1. :func:`plan_generation` checks everything *before any model is loaded*: the settings, every
   input (opened or probed: :func:`~v2a_kit.pipeline.collect_inputs`), the output names (no
   clashes), that the output folder is writable — without creating it (the nearest existing
   parent is checked) — and, when the folder holds an earlier run, that its settings are these
   (:class:`SettingsMismatchError` names each differing setting). A refused run leaves nothing.
2. :func:`generate_run` shares the inputs out. The inputs, in the order the command lists them
   (a folder's files sorted), are cut into *chunks* of ``batch_size`` consecutive inputs; chunk
   ``k`` goes to rank ``k % world_size``. A chunk is the pipeline's batch, so every batch holds
   the same inputs whatever the world size, and input ``i`` (its index in the whole job) is
   seeded ``seed + i``: the files are byte-identical for any number of processes.
3. Each file is written atomically, then the input's record ``.v2a-run/done/NNNNNN.json`` (the
   settings digest, the input, its files and their sizes) — last, atomically. An input is
   complete only when its record says so and its files are there at those sizes; a rerun skips
   complete chunks and recomputes the others (at most the chunks in flight when it stopped).
4. A rank that fails writes ``.v2a-run/failed-rank<r>.json`` naming the chunk's inputs and the
   error; the other ranks stop before their next chunk; every rank then meets at a barrier and
   the job exits non-zero with the failing input named. Finished outputs stay for the rerun.
5. Rank 0 writes ``generate.json`` once all ranks have finished, and shows the progress bar of
   the whole job (it counts the records of all ranks).

Run folder::

    OUTDIR/
        <name>.wav | <name>_s<k>.wav, <name>_v2a.<suffix>    the outputs (as v2a-kit generate)
        generate.json                                        settings, inputs, files (rank 0)
        .v2a-run/settings.json                               the run's settings and digest
        .v2a-run/done/NNNNNN.json                            one record per finished input
        .v2a-run/failed-rank<r>.json                         only after a failure

The evaluation's feature cache (:class:`~v2a_kit.evaluation.features.FeatureCache`,
:func:`~v2a_kit.evaluation.features.cached_audio_outputs`) lived here and moved to evaluation;
both names still import from here.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from . import media
from .atomic import atomic_write, remove_stale_temps
from .distributed import DistInfo, RankSync, Shard  # Shard: still importable from here
from .errors import V2AError, first_names
from .evaluation.features import FeatureCache, cached_audio_outputs  # re-exported: were here
from .preflight import (  # the checks made before a model is loaded (no torch there)
    RUN_DIR,
    GenerationPlan,
    RunSettings,
    SettingsMismatchError,
    check_outdir,
    mapper_identity,
    plan_generation,
    read_json,
)

__all__ = ["RUN_DIR", "Shard", "RunSettings", "SettingsMismatchError", "RankFailedError",
           "GenerationPlan", "InputRecord", "RunResult", "plan_generation", "generate_run",
           "check_outdir", "mapper_identity", "cached_audio_outputs", "FeatureCache"]

RUN_FORMAT = "v2a-kit-run/1"


class RankFailedError(V2AError, RuntimeError):
    """A rank of a sharded run failed; names the inputs it was working on and why."""


# --- records ---------------------------------------------------------------------------------
@dataclass
class InputRecord:
    """One finished input: written last, so its presence means its files are complete."""

    index: int
    source: str                 # the output stem's path (relative), stable across reruns
    kind: str
    duration_s: float
    segments: list
    files: dict[str, int]       # relative path -> size in bytes
    digest: str                 # the settings' digest

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=1, sort_keys=True) + "\n").encode()


def _record_path(outdir: Path, index: int) -> Path:
    return outdir / RUN_DIR / "done" / f"{index:06d}.json"


def _complete(plan: GenerationPlan, index: int) -> InputRecord | None:
    """The input's record if it and its files say it is finished under these settings."""
    data = read_json(_record_path(plan.outdir, index))
    if data is None:
        return None
    try:
        rec = InputRecord(**data)
    except TypeError:
        return None
    want = {str(rel) for _, rel in plan.files[index]}
    if rec.digest != plan.settings.digest or rec.index != index or set(rec.files) != want:
        return None
    if rec.source != _stem_key(plan, index):
        return None
    for rel, size in rec.files.items():
        f = plan.outdir / rel
        if not f.is_file() or f.stat().st_size != size:
            return None
    return rec


def _stem_key(plan: GenerationPlan, index: int) -> str:
    s = plan.sources[index]
    return str(s.rel) if s.rel is not None else s.name


def _write_item(plan: GenerationPlan, index: int, item) -> InputRecord:
    files = {}
    for j, rel in plan.files[index]:
        target = plan.outdir / rel
        if j is None:
            target.parent.mkdir(parents=True, exist_ok=True)
            media.mux_audio_into_video(item.path, item.waveforms[0], item.sampling_rate, target)
        else:
            media.write_wav(target, item.waveforms[j], item.sampling_rate)
        files[str(rel)] = target.stat().st_size
    rec = InputRecord(index, _stem_key(plan, index), item.kind, round(item.duration_s, 4),
                      [[round(v, 4) for v in seg] for seg in item.segments], files,
                      plan.settings.digest)
    path = _record_path(plan.outdir, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, rec.to_json())
    return rec


# --- generation ------------------------------------------------------------------------------
@dataclass
class RunResult:
    """What :func:`generate_run` did; ``records`` only on rank 0 (all inputs, in order)."""

    records: list[InputRecord]
    computed_here: int          # inputs this rank generated and wrote
    skipped_here: int           # inputs of this rank's chunks found complete
    regenerated_here: int       # inputs run through the pipeline (whole chunks; >= computed)
    seconds: float
    world_size: int


def _failures(outdir: Path) -> list[dict]:
    return [d for p in sorted((outdir / RUN_DIR).glob("failed-rank*.json"))
            if (d := read_json(p)) is not None]


def _run_chunk(pipe, plan: GenerationPlan, chunk: range, image_length_s: float) -> int:
    """Generate one chunk (the pipeline's steps over all its inputs: the batch must be the
    same as an uninterrupted run's) and write the inputs that are not complete."""
    s = plan.settings
    todo = [i for i in chunk if _complete(plan, i) is None]
    if not todo:
        return 0
    prepared = pipe.prepare_sources([plan.sources[i] for i in chunk], image_length_s, chunk)
    items = pipe.run_steps(prepared, s.generate, progress=False, warn_outside=False)
    for i, item in zip(chunk, items):
        if i in todo:
            _write_item(plan, i, item)
    return len(todo)


def _count_done(outdir: Path) -> int:
    return sum(1 for _ in (outdir / RUN_DIR / "done").glob("*.json"))


def generate_run(pipe, plan: GenerationPlan, info: DistInfo, *,
                 progress: bool = True) -> RunResult:
    """Generate this rank's share of ``plan`` into its folder, resuming what exists.

    Args:
        pipe: a :class:`~v2a_kit.pipeline.V2APipeline` (on this rank's device).
        plan: from :func:`plan_generation` (every rank makes the same plan).
        info: this process's place in the job (:func:`~v2a_kit.distributed.distributed_env`).
        progress: rank 0's bar over all inputs of the job.
    Raises:
        RankFailedError: on every rank, when any rank failed (naming its inputs and error).
    """
    t0 = time.perf_counter()
    s, outdir = plan.settings, plan.outdir
    image_length_s = float(s.audio_length_in_s or pipe.audioldm.default_length_s)
    run = outdir / RUN_DIR
    shard = Shard(info.rank, info.world_size, s.batch_size)
    computed = skipped = regenerated = 0
    with RankSync(info) as sync:
        if info.rank == 0:  # the folder and its settings, and no stale failure from before
            (run / "done").mkdir(parents=True, exist_ok=True)
            for f in run.glob("failed-rank*.json"):
                f.unlink()
            remove_stale_temps(outdir)
            atomic_write(run / "settings.json", json.dumps(
                {"format": RUN_FORMAT, "digest": s.digest, "settings": s.to_dict()},
                indent=1, sort_keys=True).encode())
        sync.barrier()
        total = len(plan.sources)
        bar = tqdm(total=total, desc="generate", unit="input",
                   disable=not progress or info.rank != 0, initial=0)
        bar.update(_count_done(outdir))
        for chunk in shard.chunks(total):
            if _failures(outdir):
                break
            try:
                n = _run_chunk(pipe, plan, chunk, image_length_s)
            except Exception as e:  # any failure: name the inputs, keep what is finished
                names = [plan.sources[i].name for i in chunk]
                atomic_write(run / f"failed-rank{info.rank}.json", json.dumps(
                    {"rank": info.rank, "inputs": names, "error": f"{type(e).__name__}: {e}"},
                    indent=1).encode())
                break
            computed += n
            skipped += len(chunk) - n
            regenerated += len(chunk) if n else 0
            bar.n = _count_done(outdir)
            bar.refresh()
        sync.barrier()  # every rank has finished (or stopped)
        bar.n = _count_done(outdir)
        bar.close()
        failures = _failures(outdir)
        if failures:
            f = failures[0]
            inputs = first_names(f["inputs"], 3, more="more in its batch")
            raise RankFailedError(
                f"rank {f['rank']} failed on {inputs}: {f['error']}; the finished "
                f"outputs in {outdir} are kept: rerun the same command to resume")
        records = []
        if info.rank == 0:
            records = [_complete(plan, i) for i in range(total)]
            lost = [plan.sources[i].name for i, r in enumerate(records) if r is None]
            if lost:
                raise RankFailedError(f"{len(lost)} inputs have no finished record after the "
                                      f"run, e.g. {lost[0]}; did every rank get the same inputs?")
        sync.barrier()
    return RunResult(records, computed, skipped, regenerated, time.perf_counter() - t0,
                     info.world_size)
