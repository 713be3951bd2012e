"""The pocket world's science measured over mapper seeds, seen and unseen (v2a_kit.pocket.science),
on a small run of the shipped build: the structure, the targets' bookkeeping and bad input. The
figures themselves come from ``benchmarks/bench_pocket_science.py`` (into figures/).
"""

import copy
import json

import pytest

import v2a_kit as vk
from v2a_kit.errors import ConfigError
from v2a_kit.pocket.reproduce import METRICS
from v2a_kit.pocket.science import (
    FAST_SCIENCE,
    SCIENCE_METRICS,
    check_targets,
    measure_science,
    science_table,
)

SYSTEMS = {"real audio", "regression", "generative", "ridge", "nearest neighbour", "text bridge",
           "oracle", "ceiling"}


@pytest.fixture(scope="module")
def science_root(tmp_path_factory):
    return tmp_path_factory.mktemp("science")


@pytest.fixture(scope="module")
def report(science_root):
    # seed 1 trains its own (FAST) mappers into mapper_root: two seeds give a spread
    return measure_science(**{**FAST_SCIENCE, "seeds": (0, 1)}, mapper_root=science_root,
                           fast_mappers=True)


def test_every_system_on_both_splits_with_a_spread(report):
    json.dumps(report, allow_nan=False)
    assert set(report["splits"]) == {"seen", "unseen"}
    for split, systems in report["splits"].items():
        assert set(systems) == SYSTEMS, split
        for name, metrics in systems.items():
            assert set(metrics) == set(METRICS)
            fd = metrics["fd"]
            assert len(fd["per_seed"]) == 2 and fd["std"] is not None, (split, name)
    unseen = report["splits"]["unseen"]
    # a mapper samples per image; the oracle and the text bridge repeat one embedding
    assert unseen["oracle"]["clap_spread"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert unseen["text bridge"]["clap_spread"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert unseen["real audio"]["clap_spread"]["mean"] > 0
    assert unseen["ceiling"]["recall@1"]["mean"] is None   # no CLAP embedding of its own
    shares = [unseen["real audio"][f"share_contour_{v}"]["mean"]
              for v in ("steady", "rising", "falling")]
    assert sum(shares) == pytest.approx(1.0, abs=1e-5)   # each rounded to 6 digits


def test_targets_state_what_they_ask_and_what_was_measured(report):
    rows = report["targets"]
    assert rows == check_targets(report)
    for row in rows:
        assert row["met"] in (True, False, None) and row["measured"], row["target"]
    names = [r["target"] for r in rows]
    for split in ("seen", "unseen"):     # every target of the design, on both splits
        for head in ("embedding ceiling", "oracle", "generative mapper", "spread", "trade-off",
                     "heard-only proportions", "CS ordering", "loudness"):
            assert any(n.startswith(f"{head} ({split})") for n in names), (head, split)
    assert sum(n.startswith("budget:") for n in names) == 3
    zero_shot = [r for r in rows if r["target"].startswith("zero-shot")]
    assert {"shape", "colour", "count", "size", "contour"} <= set(zero_shot[1]["measured"])
    # the CS ordering is reported, not judged
    assert all(r["met"] is None for r in rows if r["target"].startswith("CS ordering"))
    # a target whose systems did not run says so instead of passing
    thin = {**report, "splits": {s: {k: v for k, v in sys.items() if k != "oracle"}
                                 for s, sys in report["splits"].items()}}
    oracle_rows = [r for r in check_targets(thin) if "oracle" in r["target"]]
    assert len(oracle_rows) == 10 and all(r["met"] is None for r in oracle_rows)


def test_table_and_bad_input(report):
    table = science_table(report, "unseen")
    assert table.splitlines()[0].count("|") == len(SCIENCE_METRICS) + 2
    assert "UNSEEN" in table and "nearest neighbour" in table
    with pytest.raises(ConfigError, match="split='train'"):
        science_table(report, "train")
    with pytest.raises(ConfigError, match="metrics"):
        science_table(report, "seen", metrics=("loudness",))
    with pytest.raises(ConfigError, match="mapper_root"):
        measure_science(seeds=(3,), n=2, num_samples=2)
    with pytest.raises(ConfigError, match="seeds"):
        measure_science(seeds=(0, 0))


def test_reused_mappers_from_before_calibration_are_calibrated(report, science_root):
    """A seed folder trained before the prior's guidance was calibrated (no calibration in its
    config) is calibrated when the benchmark reuses it, not sampled unguided."""
    from pathlib import Path

    from v2a_kit.pocket.science import _mappers_for
    # the report records the folder without the machine's path ("…/science0")
    assert report["settings"]["mapper_root"] == f"…/{science_root.name}"
    cfg_file = Path(science_root) / "seed1" / "diffusion" / "config.json"
    calibrated = json.loads(cfg_file.read_text())
    old = {**calibrated, "config": {**calibrated["config"], "guidance_scale": 1.0},
           "extra": {k: v for k, v in calibrated["extra"].items()
                     if k != "guidance_calibration"}}
    cfg_file.write_text(json.dumps(old))
    clip, clap = vk.load_clip(device="cpu"), vk.load_clap(device="cpu")
    mappers = _mappers_for(1, None, cfg_file.parents[1].parent, False, clip.space, clap.space,
                           True)
    again = json.loads(cfg_file.read_text())
    assert again["extra"]["guidance_calibration"] == calibrated["extra"]["guidance_calibration"]
    assert mappers["generative"].config.guidance_scale == calibrated["config"]["guidance_scale"]


def _stat(mean, std=0.0):
    return {"mean": mean, "std": std, "per_seed": [mean]}


def _synthetic(fd_gen=100.0, fd_reg=200.0, cs_gen=70.0, cs_reg=72.0, acc_gen=0.8, acc_reg=0.9):
    """A science report with chosen values (every other metric None)."""
    def system(**metrics):
        return {m: _stat(metrics.get(m)) if metrics.get(m) is not None
                else {"mean": None, "std": None, "per_seed": [None]} for m in METRICS}
    split = {"generative": system(fd=fd_gen, cs=cs_gen, acc_all=acc_gen, emb_acc_all=0.85,
                                  spread_ratio_median=0.9, spread_ratio_q1=0.6,
                                  spread_ratio_q3=1.2, spread_ratio_mean=1.1),
             "regression": system(fd=fd_reg, cs=cs_reg, acc_all=acc_reg, clap_spread=0.0),
             "oracle": system(acc_all=0.95, acc_all5=0.93, level_within_3db=0.91,
                              level_err_db=1.2, level_bias_db=-0.4, limited=0.0),
             "ceiling": system(acc_all5=0.99),
             "real audio": system(spread_ratio_median=1.02, spread_ratio_mean=2.5),
             "nearest neighbour": system(acc_all=0.0, cs=80.0)}
    return {"splits": {"seen": split, "unseen": copy.deepcopy(split)},
            "embedding_ceiling": {"seen": {"all": 0.96}, "unseen": {"all": 0.95}},
            "settings": {"seeds": [0], "generative_guidance": [1.5]}, "targets": []}


def test_verdicts_are_computed_from_the_report_and_follow_it():
    from v2a_kit.pocket.science import science_verdicts
    text = science_verdicts(_synthetic())
    for figure in ("0.930", "0.960", "0.990", "0.850", "100.0 vs 200.0", "0.90", "1.02",
                   "1.5", "91%", "80.0"):
        assert figure in text, figure
    assert "lower, by more than twice the seeds' spread" in text
    assert "CS favours the regression mapper" in text and "favours the regression mapper too" \
        in text
    assert "zero *by construction*" in text and "UNSEEN pictures took no part" in text
    assert "On SEEN and UNSEEN a *mean* of per-picture ratios is far above 1" in text
    calm = _synthetic()
    calm["splits"]["seen"]["real audio"]["spread_ratio_mean"] = _stat(1.1)
    assert "On UNSEEN a *mean*" in science_verdicts(calm)   # only where it is so
    # a report that says otherwise reads otherwise: no sentence is fixed
    other = science_verdicts(_synthetic(fd_gen=250.0, cs_gen=75.0))
    assert "FD is not lower" in other and "CS favours the generative mapper" in other
    assert "favours the regression mapper instead" in other
    near = science_verdicts(_synthetic(fd_gen=190.0))
    assert "lower, but within twice" not in near      # no spread given: 10 apart is beyond 0
    wobbly = _synthetic(fd_gen=190.0)
    wobbly["splits"]["seen"]["generative"]["fd"] = _stat(190.0, 20.0)
    assert "lower, but within twice the seeds' spread" in science_verdicts(wobbly)
    # a metric the report lacks reads as a dash, not as a number
    bare = _synthetic()
    bare["splits"]["seen"]["oracle"]["acc_all5"] = {"mean": None, "std": None, "per_seed": []}
    assert "— of sounds on SEEN" in science_verdicts(bare)


def test_seen_unseen_figure_draws_both_splits_for_each_system():
    from v2a_kit import viz
    fig = viz.plot_seen_unseen(_synthetic(), metrics=("acc_all", "fd"),
                               systems=["generative", "regression", "nearest neighbour"])
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_height() < 0.5]
    assert len(bars) == 6                     # 3 systems × 2 splits
    assert sorted(round(b.get_width(), 3) for b in bars) == [0.0, 0.0, 0.8, 0.8, 0.9, 0.9]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["generative", "regression",
                                                           "nearest neighbour"]
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {"SEEN combinations",
                                                                "UNSEEN combinations"}
