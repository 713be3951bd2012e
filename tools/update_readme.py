"""Rewrite the README's generated tables from the JSON files that hold their numbers.

    python tools/update_readme.py

- ``schedulers``: benchmarks/results/schedulers.json (benchmarks/bench_schedulers.py);
- ``reproduction``: figures/06_reproduction.json (notebook 06);
- ``science`` and ``science-verdicts``: figures/06_pocket_science.json
  (benchmarks/bench_pocket_science.py);
- ``protocol``: benchmarks/results/protocol.json (benchmarks/bench_protocol.py, the sensitivity
  lab);
- ``pocket-build``: the shipped build's ``build.json`` and ``mappers/mappers.json`` (what
  ``v2a-kit pocket build`` and ``v2a-kit pocket mappers`` measured) and the weights' size;
- ``notebooks``: the tutorial's table of contents, from each notebook's title cell (its heading)
  and benchmarks/results/runtimes.json (its measured run times);
- ``runtimes``: how long ``make setup`` and ``make test`` took, from the same file
  (``tools/measure_runtimes.py`` measures and records all of these);
- ``generator-ablation``: benchmarks/results/generator_ablation.json
  (benchmarks/bench_generator.py: each change to pocket-AudioLDM, judged as the oracle);
- ``build-spread``: build_spread.json in benchmarks/results (benchmarks/bench_build_spread.py: the
  build's gates over build seeds);
- ``clone``: the clone command, from the repository's address in pyproject.toml
  (``[project.urls] Repository``, read by ``tools/colab.py``, which makes the notebooks' badges
  from the same setting).

tests/test_docs.py fails when the README and these files disagree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from v2a_kit.atomic import atomic_write
from v2a_kit.evaluation.sensitivity import protocol_summary
from v2a_kit.pocket.ablation import ablation_table
from v2a_kit.pocket.reproduce import reproduction_table
from v2a_kit.pocket.schedulers import scheduler_table
from v2a_kit.pocket.science import science_summary, science_verdicts

ROOT = Path(__file__).resolve().parent.parent


RUNTIMES = ROOT / "benchmarks" / "results" / "runtimes.json"


def duration(seconds: float | None) -> str:
    """42 -> '42 s', 83 -> '1 min 23 s', None -> 'not measured'."""
    if seconds is None:
        return "not measured"
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def _machine(m: dict) -> str:
    return (f"{m['cores']} cores of {m['cpu']}, {m['memory']}, load average "
            f"{m['load_average_at_start']} at the start, {m['date']}")


# Notebooks whose full mode needs the paper's published weights and a GPU (Colab): the CPU
# machines that measure the others cannot run them; their FAST mode is measured like any other.
GPU_NOTEBOOKS = ("07_real_models",)


def notebook_table(folder: Path = ROOT / "notebooks", runtimes: dict | None = None) -> str:
    """| notebook | what it covers | full mode | FAST mode | from each numbered notebook's title
    cell and the measured run times."""
    if runtimes is None:
        runtimes = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
    times = runtimes.get("notebooks", {})
    rows = ["| notebook | what it covers | run time, full mode | FAST mode |",
            "|---|---|---|---|"]
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        # the title cell: the first markdown cell after the Colab badge and install cell
        first = next((c for c in cells if c["cell_type"] == "markdown"
                      and "colab-badge.svg" not in "".join(c["source"])), None)
        heading = first and re.match(r"# \d+ — (.+)",
                                     ("".join(first["source"]).splitlines() or [""])[0])
        if not heading:
            raise SystemExit(f"{path}: its title cell (the first markdown cell after the Colab "
                             "badge) needs a '# NN — title' heading")
        t = times.get(path.stem, {})
        full = duration(t.get("full_s"))
        if t.get("full_s") is None and path.stem in GPU_NOTEBOOKS:
            full = "on a GPU or Colab: the notebook times each step itself"
        elif path.stem in GPU_NOTEBOOKS:
            full += (" at random init on a CPU (no weights there); with the weights, on a GPU "
                     "or Colab, the notebook times each step itself")
        rows.append(f"| [`{path.stem}`](notebooks/{path.name}) | {heading.group(1)} | "
                    f"{full} | {duration(t.get('fast_s'))} |")
    machines = runtimes.get("machines", {})
    for mode in ("full", "fast"):
        for name, t in sorted(times.items()):    # notebooks measured alone, on their own load
            if f"{mode}_machine" in t:
                rows.append("")
                rows.append(f"`{name}` in {'full' if mode == 'full' else 'FAST'} mode was "
                            f"measured alone, on {_machine(t[f'{mode}_machine'])} "
                            f"(`python tools/measure_runtimes.py notebooks"
                            f"{' --fast' if mode == 'fast' else ''} {name}`).")
        if f"notebooks-{mode}" in machines:
            rows.append("")
            rows.append(f"{'Full' if mode == 'full' else 'FAST'} mode measured on "
                        f"{_machine(machines[f'notebooks-{mode}'])} "
                        f"(`python tools/measure_runtimes.py notebooks"
                        f"{' --fast' if mode == 'fast' else ''}`).")
    return "\n".join(rows)


def _cache_note(cache_mb) -> str:
    if not cache_mb:
        return ""
    return (f" (pip's download cache held {cache_mb / 1024:.1f} GB of wheels; on a new machine "
            "the downloads come on top)")


def _gb(mb: float) -> str:
    return f"{mb / 1000:.1f} GB"


def _torch_choice(v: dict) -> str:
    """How install_torch.py chose, in words: '2.14.1 (a CUDA build) from the default wheels:
    no CUDA device there, and the CPU wheel index did not answer'."""
    kind = "a CUDA build" if v["cuda_build"] else "the CPU build"
    source = "PyTorch's CPU wheel index" if v["source"].startswith("http") \
        and "whl/cpu" in v["source"] else v["source"]
    fallback = ", and the CPU wheel index did not answer" if v.get("tried") else ""
    reason = v["reason"].removesuffix(" here")
    return f"PyTorch {v['torch']}, {kind}, from {source}: {reason} on that machine{fallback}"


def venv_text(runtimes: dict) -> str:
    """The environment's size for each PyTorch build: measured where recorded; the CPU build's,
    where only a CUDA build was measured, as that venv less what only a CUDA device uses."""
    venvs = runtimes.get("venv", {})
    parts = []
    if "cuda" in venvs:
        v = venvs["cuda"]
        parts.append(f"with a CUDA build of PyTorch (the default wheels on Linux) the venv "
                     f"takes **{_gb(v['venv_mb'])}**, of which {_gb(v['cuda_only_mb'])} only a "
                     f"CUDA device uses (`nvidia/`, `triton/`, `cuda/` and torch's CUDA "
                     f"libraries)")
    if "cpu" in venvs:
        v = venvs["cpu"]
        parts.append(f"with the CPU build it takes **{_gb(v['venv_mb'])}** (measured on "
                     f"{_machine(v['measured_on'])})")
    elif "cuda" in venvs:
        v = venvs["cuda"]
        why = ("the machine measured does not reach PyTorch's CPU wheel index" if v.get("tried")
               else "not measured yet")
        parts.append(f"with the CPU build about **{_gb(v['venv_mb'] - v['cuda_only_mb'])}** "
                     f"(that venv less those libraries; {why})")
    if not parts:
        return ""
    return " The virtual environment: " + "; ".join(parts) + "."


def runtimes_text(runtimes: dict) -> str:
    """The two commands' measured durations, where they were measured, and the venv's size for
    each PyTorch build (tools/measure_runtimes.py setup-test records all of it)."""
    if "setup_s" not in runtimes:
        return "Not measured yet: `python tools/measure_runtimes.py setup-test`."
    m = runtimes["machines"]["setup-test"]
    chosen = runtimes.get("venv", {}).get(runtimes.get("setup_torch", ""))
    choice = f" ({_torch_choice(chosen)})" if chosen else ""
    return (f"Measured from a fresh clone on {_machine(m)} "
            f"(`python tools/measure_runtimes.py setup-test`): the first `make setup` took "
            f"**{duration(runtimes['setup_s'])}**{_cache_note(runtimes.get('pip_cache_mb'))}"
            f"{choice}; `make test` took "
            f"**{duration(runtimes['test_s'])}** ({runtimes.get('test_summary', '')})."
            f"{venv_text(runtimes)}")


WEIGHTS = ROOT / "v2a_kit" / "pocket" / "weights"


def _mb(paths) -> float:
    return sum(f.stat().st_size for f in paths if f.is_file()) / 1e6


def pocket_build_text(weights: Path = WEIGHTS) -> str:
    """The shipped build in a paragraph: how long each command took, the weights' size, the
    gates (from build.json and mappers.json; sizes from the files)."""
    build = json.loads((weights / "build.json").read_text())
    mappers = json.loads((weights / "mappers" / "mappers.json").read_text())
    t, g = build["timings_s"], build["gates"]
    names = {"clip": "pocket-CLIP", "clap": "pocket-CLAP", "audioldm": "pocket-AudioLDM"}
    stages = ", ".join(f"{names.get(k[:-2], k[:-2])} {v:.0f} s" for k, v in t.items())
    total = _mb(weights.rglob("*"))
    maps = _mb((weights / "mappers").rglob("*"))
    onsets = _mb((weights / "onsets").rglob("*"))
    timing = ""
    if (weights / "onsets" / "config.json").is_file():
        report = json.loads((weights / "onsets" / "config.json").read_text())["train_report"]
        timing = (f"; `v2a-kit pocket timing --seed {report['seed']}` (the onset predictor) "
                  f"took **{report['seconds']['total'] / 60:.1f} min**")
    predictor = f", {onsets:.1f} MB of onset predictor" if onsets else ""

    def worst(key):
        acc = {a: v for a, v in g[key].items() if a != "all"}
        a = min(acc, key=acc.get)
        return f"{min(acc.values()):.3f} (its lowest, {a})"
    return (f"`v2a-kit pocket build --seed 0` took **{sum(t.values()) / 60:.1f} min** on 2 CPU "
            f"cores ({stages}); `v2a-kit pocket mappers --seed 0` took "
            f"**{mappers['total_s'] / 60:.1f} min**{timing}. The shipped weights are "
            f"**{total:.0f} MB** ({total - maps - onsets:.0f} MB of foundation models and "
            f"evaluators, {maps:.0f} MB of mappers{predictor}). Gates on "
            f"{g['settings']['num_held_out']:,} held-out pairs: zero-shot "
            f"pocket-CLIP {worst('clip_zero_shot')}, pocket-CLAP {worst('clap_zero_shot')}; "
            f"all five audible attributes heard right by the tagger in real audio "
            f"{g['tagger_real']['all']:.3f}, in real audio through pocket-AudioLDM's own "
            f"decoding (the representation ceiling) {g['ceiling']['all']:.3f}, in sound "
            f"generated from the true CLAP audio embedding {g['generated_from_audio']['all']:.3f} "
            f"(size {g['generated_from_audio']['size']:.2f}, count "
            f"{g['generated_from_audio']['count']:.2f}, contour "
            f"{g['generated_from_audio']['contour']:.2f}), which a probe reads from those "
            f"embeddings in {g['embedding_ceiling']['all']:.3f} (the embedding ceiling); "
            f"sound by sound {g['loudness']['level_within_3db']:.0%} of those sounds within "
            f"± 3 dB of their clip's level (median error "
            f"{g['loudness']['level_median_abs_db']:.1f} dB) at "
            f"{g['settings']['num_inference_steps']} steps, calibrated guidance rescale "
            f"{build['generator']['guidance_rescale']}, guided RMS "
            f"{g['loudness']['ratio']:.2f} × real. " + _build_machine(build.get("machine")))


def _build_machine(m: dict | None) -> str:
    """Where a build ran (build.json's ``machine``): a rebuild reproduces it bit for bit only on
    the same CPU, torch build and thread count."""
    if not m:
        return "The build did not record its machine."
    return (f"Built on {m['cores']} cores of {m['cpu']} with torch {m['torch']} "
            f"({m['torch_threads']} threads); a rebuild is bit for bit the same only on the same "
            "CPU, torch build and thread count.")


def clone_text() -> str:
    """The README's clone command, made from the one repository setting (tools/colab.py)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("colab_tool", ROOT / "tools" / "colab.py")
    colab = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(colab)
    return f"```bash\ngit clone {colab.clone_url()} && cd {colab.GITHUB_REPO.split('/')[1]}\n```"


def _from_json(path: Path, render):
    return lambda: render(json.loads(path.read_text()))


def _if_measured(path: Path, render, command: str):
    """``render`` of the JSON at ``path``, or a line saying the measurement has not been run."""
    def text() -> str:
        if not path.is_file():
            return (f"Not measured in this checkout: `{command}` measures it and writes "
                    f"{path.name}, which this block is rendered from.")
        return render(json.loads(path.read_text()))
    return text


# the gates the build-spread table shows: (key in the report, words)
SPREAD_ROWS = (("clip_zero_shot.min", "pocket-CLIP zero-shot, lowest attribute"),
               ("clap_zero_shot.min", "pocket-CLAP zero-shot, lowest attribute"),
               ("ceiling.all", "representation ceiling, all five"),
               ("embedding_ceiling.all", "embedding ceiling, all five"),
               ("embedding_ceiling.level_within_3db", "embedding ceiling, level ± 3 dB"),
               ("generated_from_audio.all", "oracle sounds, all five right"),
               ("generated_from_text.all", "sounds from text, all five right"),
               ("loudness.level_within_3db", "oracle sounds, level ± 3 dB"),
               ("loudness.ratio", "oracle loudness, × real"),
               ("build_minutes", "build time (min, wall)"))


def build_spread_text(report: dict) -> str:
    """The README's table of ``bench_build_spread.py``: each gate per build seed, its mean and
    range, then each target and whether every seed met it."""
    seeds = [str(s) for s in report["seeds"]]
    gates = report["gates"]
    lines = ["| gate | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | range |",
             "|---|" + "---:|" * (len(seeds) + 2)]
    for key, words in SPREAD_ROWS:
        if key not in gates:
            continue
        g = gates[key]
        fmt = ".1f" if key == "build_minutes" else ".3f"
        lines.append(f"| {words} | " + " | ".join(f"{g['per_seed'][s]:{fmt}}" for s in seeds)
                     + f" | {g['mean']:{fmt}} | {g['max'] - g['min']:{fmt}} |")
    met = [t for t in report["targets"] if t["met_on_every_seed"]]
    missed = [t for t in report["targets"] if not t["met_on_every_seed"]]
    lines += ["", f"Build seeds {', '.join(seeds)} (`{report['command']}`; seed 0 is the shipped "
              f"build). Targets met on every seed: "
              + (", ".join(f"{t['gate']} ≥ {t['target']:g}" for t in met) or "none")
              + "; missed on some seed: "
              + (", ".join(f"{t['gate']} ≥ {t['target']:g} (lowest {t['min_over_seeds']:.3f})"
                           for t in missed) or "none") + "."
              + (f" {report['note']}" if report.get("note") else "")]
    return "\n".join(lines)


BLOCKS = {  # block name -> what renders its text
    "schedulers": _from_json(ROOT / "benchmarks" / "results" / "schedulers.json", scheduler_table),
    "reproduction": _from_json(ROOT / "figures" / "06_reproduction.json", reproduction_table),
    "science": _from_json(ROOT / "figures" / "06_pocket_science.json", science_summary),
    "science-verdicts": _from_json(ROOT / "figures" / "06_pocket_science.json",
                                   science_verdicts),
    "protocol": _from_json(ROOT / "benchmarks" / "results" / "protocol.json", protocol_summary),
    "pocket-build": pocket_build_text,
    "notebooks": notebook_table,
    "runtimes": lambda: runtimes_text(json.loads(RUNTIMES.read_text()) if RUNTIMES.exists()
                                      else {}),
    "generator-ablation": _if_measured(
        ROOT / "benchmarks" / "results" / "generator_ablation.json", ablation_table,
        "python benchmarks/bench_generator.py"),
    "build-spread": _if_measured(ROOT / "benchmarks" / "results" / "build_spread.json",
                                 build_spread_text, "python benchmarks/bench_build_spread.py"),
    "clone": clone_text,
}


def replace_block(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, sep, rest = text.partition(begin)
    _, sep2, tail = rest.partition(end)
    if not (sep and sep2):
        raise SystemExit(f"README.md has no {begin} ... {end} block")
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    for name, render in BLOCKS.items():
        text = replace_block(text, name, render())
    atomic_write(readme, text.encode())
    print(f"updated {', '.join(BLOCKS)} in {readme}")


if __name__ == "__main__":
    main()
