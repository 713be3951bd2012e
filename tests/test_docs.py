"""Numbers in the README come from files the kit wrote, never typed by hand."""

import json
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


def test_readme_reproduction_table_is_notebook_06s():
    from v2a_kit.pocket.reproduce import reproduction_table
    report = json.loads((ROOT / "figures" / "06_reproduction.json").read_text())
    assert _block((ROOT / "README.md").read_text(), "reproduction") == reproduction_table(report)


def test_readme_lists_every_notebook_with_its_own_title_and_run_time():
    import importlib.util
    spec = importlib.util.spec_from_file_location("update_readme",
                                                  ROOT / "tools" / "update_readme.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    table = _block((ROOT / "README.md").read_text(), "notebooks")
    assert table == tool.notebook_table()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(notebooks) >= 7 and all(f"notebooks/{nb.name}" in table for nb in notebooks)
