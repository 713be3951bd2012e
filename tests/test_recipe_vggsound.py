"""The VGGSound recipe end to end on the tiny preset: a miniature VGGSound folder (pocket videos
named as VGGSound clips, an official-format vggsound.csv), run under torchrun with 1 and 2
processes on the CPU; every output must be the same bytes."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "vggsound" / "run.py"
NUM_TRAIN, NUM_TEST = 10, 5


def make_mini_vggsound(root: Path) -> tuple[Path, Path]:
    """``root/clips/<id>_<start:06d>.mp4`` (1-s pocket videos with their sounds) and
    ``root/vggsound.csv`` listing them as train and test rows."""
    from v2a_kit.pocket.world.video import write_scene_video
    folder, rows = root / "clips", []
    for i in range(NUM_TRAIN + NUM_TEST):
        yid = f"pocketvid{i:02d}"  # 11 characters, as a YouTube id
        write_scene_video(folder / f"{yid}_{10 * i:06d}.mp4", num_scenes=1, seed=900 + i,
                          scale=1)
        rows.append(f"{yid},{10 * i},pocket scene,{'train' if i < NUM_TRAIN else 'test'}")
    csv = root / "vggsound.csv"
    csv.write_text("\n".join(rows) + "\n")
    return folder, csv


def run_recipe(folder: Path, csv: Path, work: Path, nproc: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(RECIPE), "--nproc", str(nproc), "--vggsound", str(folder),
           "--splits", str(csv), "--work", str(work), "--preset", "tiny", "--config", "ridge",
           "--steps", "2", "--scheduler", "dpmsolver++", "--num-frames", "2", "--batch-size",
           "2", "--num-samples", "2", "--eval-preset", "pocket", "--no-progress"]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def outputs(work: Path) -> dict[str, bytes]:
    """Every file the run made, as bytes, but for those holding timings or the run's folder
    (the checkpoint's config, the report: compared by their numbers) and the embeddings files
    (safetensors writes its metadata in a random order: compared by their contents)."""
    files = {}
    for p in sorted(work.rglob("*")):
        rel = p.relative_to(work).as_posix()
        if p.is_file() and not rel.startswith("cache/") and rel not in (
                "mapper/config.json", "report.json", "table.md", "clip.safetensors",
                "clap.safetensors"):
            files[rel] = p.read_bytes()
    return files


def embeddings(work: Path) -> list:
    from v2a_kit.embeddings import load_embeddings
    out = []
    for name in ("clip", "clap"):
        e = load_embeddings(work / f"{name}.safetensors")
        out += [e.embeds.numpy().tobytes(), e.space,
                [str(Path(s).relative_to(work)) if s.startswith(str(work)) else s
                 for s in e.sources]]
    return out


def test_recipe_gives_the_same_files_on_one_and_two_processes(tmp_path):
    folder, csv = make_mini_vggsound(tmp_path / "vggsound")
    runs = {}
    for nproc in (1, 2):
        res = run_recipe(folder, csv, tmp_path / f"work{nproc}", nproc)
        assert res.returncode == 0, res.stderr[-4000:]
        runs[nproc] = res
    assert f"{NUM_TRAIN} train and {NUM_TEST} test clips, 2 process(es)" in runs[2].stdout
    assert "| V2A-Mapper |" in runs[2].stdout and "| this run (tiny" in runs[2].stdout
    one, two = outputs(tmp_path / "work1"), outputs(tmp_path / "work2")
    wavs = [k for k in one if k.startswith("generated/") and k.endswith(".wav")]
    assert len(wavs) == 2 * NUM_TEST and len([k for k in one if "/done/" in k]) == NUM_TEST
    assert one.keys() == two.keys()
    assert [k for k in one if one[k] != two[k]] == []
    assert embeddings(tmp_path / "work1") == embeddings(tmp_path / "work2")
    reports = [json.loads((tmp_path / f"work{n}" / "report.json").read_text()) for n in (1, 2)]
    for key in ("fd", "fad", "kl", "is_mean", "cs", "n", "counts"):
        assert reports[0][key] == reports[1][key], key
    assert reports[0]["n"] == 2 * NUM_TEST and reports[0]["fd"] is not None
    # a rerun resumes: everything is found, nothing is generated again
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "work2" / "generated").glob("*.wav")}
    res = run_recipe(folder, csv, tmp_path / "work2", 2)
    assert res.returncode == 0, res.stderr[-4000:]
    assert before == {p: p.stat().st_mtime_ns
                      for p in (tmp_path / "work2" / "generated").glob("*.wav")}
