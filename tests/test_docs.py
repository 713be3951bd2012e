"""Numbers in the README come from files the kit wrote, never typed by hand."""

import json
import re
import subprocess
from pathlib import Path

from v2a_kit.generation import SCHEDULERS
from v2a_kit.pipeline import DEFAULT_SCHEDULER
from v2a_kit.pocket.schedulers import choose_default, scheduler_table

ROOT = Path(__file__).resolve().parent.parent
SCHEDULER_REPORT = ROOT / "benchmarks" / "results" / "schedulers.json"


def test_readme_scheduler_table_is_the_benchmarks_report():
    report = json.loads(SCHEDULER_REPORT.read_text())
    assert _block((ROOT / "README.md").read_text(), "schedulers") == scheduler_table(report)


def test_the_default_sampler_is_the_one_the_measurement_chose():
    report = json.loads(SCHEDULER_REPORT.read_text())
    assert choose_default(report) == report["default"]
    scheduler, steps = report["default"].rsplit("-", 1)
    assert (DEFAULT_SCHEDULER, SCHEDULERS[DEFAULT_SCHEDULER]) == (scheduler, int(steps))


def _block(text: str, name: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    assert begin in text and end in text, f"README lacks the {name} block"
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def test_readme_pocket_build_block_is_the_shipped_builds(tool):
    text = tool("update_readme").pocket_build_text()
    assert _block((ROOT / "README.md").read_text(), "pocket-build") == text


def test_readme_science_block_is_the_benchmarks_report():
    from v2a_kit.pocket.science import science_summary
    report = json.loads((ROOT / "figures" / "06_pocket_science.json").read_text())
    assert _block((ROOT / "README.md").read_text(), "science") == science_summary(report)


def test_readme_science_verdicts_are_the_benchmarks_report():
    from v2a_kit.pocket.science import science_verdicts
    report = json.loads((ROOT / "figures" / "06_pocket_science.json").read_text())
    assert _block((ROOT / "README.md").read_text(), "science-verdicts") == \
        science_verdicts(report)


def test_readme_protocol_block_is_the_sensitivity_labs_report():
    from v2a_kit.evaluation.sensitivity import claims_survival, protocol_summary, wobble
    report = json.loads((ROOT / "benchmarks" / "results" / "protocol.json").read_text())
    assert _block((ROOT / "README.md").read_text(), "protocol") == protocol_summary(report)
    # the stored condensation is what the stored variants give
    assert report["claims"] == claims_survival({p: wobble(report[p]) for p in report["wobble"]})


def test_readme_reproduction_table_is_notebook_06s():
    from v2a_kit.pocket.reproduce import reproduction_table
    report = json.loads((ROOT / "figures" / "06_reproduction.json").read_text())
    assert _block((ROOT / "README.md").read_text(), "reproduction") == reproduction_table(report)


def test_readme_lists_every_notebook_with_its_own_title_and_run_time(tool):
    table = _block((ROOT / "README.md").read_text(), "notebooks")
    assert table == tool("update_readme").notebook_table()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 7 and all(f"notebooks/{nb.name}" in table for nb in notebooks)


def test_readme_setup_and_test_figures_are_the_measured_ones(tool):
    tool = tool("update_readme")
    record = json.loads((ROOT / "benchmarks" / "results" / "runtimes.json").read_text())
    text = _block((ROOT / "README.md").read_text(), "runtimes")
    assert text == tool.runtimes_text(record)
    if record.get("venv"):   # the venv's size is stated for both builds of PyTorch
        assert "with a CUDA build" in text or "with the CPU build" in text


def test_the_venv_sizes_say_what_was_measured_and_what_was_derived(tool):
    tool = tool("update_readme")
    machine = {"cores": 2, "cpu": "a CPU", "memory": "8 GiB", "load_average_at_start": 0.1,
               "date": "2026-01-01"}
    cuda = {"torch": "2.14.1", "cuda_build": True, "source": "the default wheels",
            "reason": "no CUDA device here", "tried": ["the CPU wheel index ..."],
            "venv_mb": 6800, "cuda_only_mb": 4500, "setup_s": 100, "measured_on": machine}
    record = {"setup_s": 100, "test_s": 400, "test_summary": "9 passed", "setup_torch": "cuda",
              "machines": {"setup-test": machine}, "venv": {"cuda": cuda}}
    text = tool.runtimes_text(record)
    assert "a CUDA build, from the default wheels: no CUDA device on that machine, and the " \
           "CPU wheel index did not answer" in text
    assert "**6.8 GB**, of which 4.5 GB only a CUDA device uses" in text
    assert "with the CPU build about **2.3 GB** (that venv less those libraries; the machine " \
           "measured does not reach PyTorch's CPU wheel index)" in text
    cpu = {**cuda, "torch": "2.14.1+cpu", "cuda_build": False, "venv_mb": 2100,
           "cuda_only_mb": 0, "tried": [], "source": "https://download.pytorch.org/whl/cpu"}
    text = tool.runtimes_text({**record, "venv": {"cuda": cuda, "cpu": cpu}})
    assert "with the CPU build it takes **2.1 GB** (measured on 2 cores of a CPU" in text
    assert "about" not in text.split("The virtual environment")[1]
    text = tool.runtimes_text({**record, "setup_torch": "cpu", "venv": {"cpu": cpu}})
    assert "PyTorch 2.14.1+cpu, the CPU build, from PyTorch's CPU wheel index" in text


# --- the repo stands on its own: every cited file is in it, none is outside it --------------
# The steering project's notes, which a clone of this repository does not contain: the kit's own
# design lives in docs/design.md, and measured facts are stated where they are used.
STEERING_NOTES = ("DESIGN", "STYLE", "POCKET_SPIKE", "OFFLINE_NOTES")
OUTSIDE = re.compile(r"\b(?:" + "|".join(STEERING_NOTES) + r")\.md\b|\.\./shared|\bshared/")
CITED = re.compile(r"(?<![\w./-])((?:v2a_kit|tests|notebooks|benchmarks|tools|docs|figures|configs"
                   r"|requirements|recipes)/[\w./-]*\w\.(?:py|md|json|ipynb|png|txt|toml|yml|sh))")


def _texts():
    """Every tracked text the project writes: code, tests, notebooks, docs, README, Makefile."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in files:
        path = ROOT / name
        if (path.suffix in {".py", ".md", ".ipynb", ".toml", ".yml", ".txt", ".cfg"}
                or path.name in {"Makefile", "run"}) and "pocket/weights" not in name \
                and path.is_file():
            yield name, path.read_text(errors="replace")


def test_nothing_cites_a_file_outside_the_repo():
    found = [f"{name}: {m.group(0)}" for name, text in _texts() for m in OUTSIDE.finditer(text)
             if name != "tests/test_docs.py"]
    assert not found, found


def test_every_cited_repo_file_exists():
    missing, checked = [], 0
    for name, text in _texts():
        for m in CITED.finditer(text):
            cited = m.group(1)
            if cited.startswith("figures/fast/") or "github.com/" in text[m.start() - 80:m.start()]:
                continue  # written by FAST runs, never committed; or a file of another repo
            candidates = [ROOT / cited, ROOT / "v2a_kit" / cited]
            checked += 1
            if not any(c.exists() for c in candidates):
                missing.append(f"{name} cites {cited}")
    assert checked > 50 and not missing, missing


def test_the_design_docs_module_map_is_the_tree():
    text = (ROOT / "docs" / "design.md").read_text()
    mapped = set(re.findall(r"^\| `(v2a_kit/[\w/]+\.py)` \|", text, flags=re.M))
    tree = {str(p.relative_to(ROOT)) for p in (ROOT / "v2a_kit").rglob("*.py")}
    assert mapped == tree, {"not in the map": sorted(tree - mapped),
                            "not in the tree": sorted(mapped - tree)}


def test_readme_measurement_blocks_are_their_reports(tool):
    """The generator ablation and the build spread are rendered from the JSON their benchmarks
    wrote (or say they were not run); a missed target is said as missed."""
    t = tool("update_readme")
    text = (ROOT / "README.md").read_text()
    for name in ("generator-ablation", "build-spread"):
        assert _block(text, name) == t.BLOCKS[name](), name
    report = {"seeds": [0, 1], "command": "python benchmarks/bench_build_spread.py --seeds 1",
              "gates": {"ceiling.all": {"per_seed": {"0": 0.99, "1": 0.97}, "mean": 0.98,
                                        "min": 0.97, "max": 0.99},
                        "build_minutes": {"per_seed": {"0": 31.9, "1": 35.0}, "mean": 33.45,
                                          "min": 31.9, "max": 35.0}},
              "targets": [{"gate": "ceiling.all", "target": 0.9, "min_over_seeds": 0.97,
                           "met_on_every_seed": True},
                          {"gate": "loudness.level_within_3db", "target": 0.9,
                           "min_over_seeds": 0.44, "met_on_every_seed": False}]}
    table = t.build_spread_text(report)
    assert "| representation ceiling, all five | 0.990 | 0.970 | 0.980 | 0.020 |" in table
    assert "| build time (min, wall) | 31.9 | 35.0 | 33.5 | 3.1 |" in table
    assert "met on every seed: ceiling.all ≥ 0.9;" in table
    assert "missed on some seed: loudness.level_within_3db ≥ 0.9 (lowest 0.440)." in table
