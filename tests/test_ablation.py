"""The generator ablation (v2a_kit.pocket.ablation): its refusals and its table."""

import pytest

from v2a_kit.errors import ConfigError
from v2a_kit.pocket.ablation import GENERATOR_VARIANTS, ablation_table, generator_ablation
from v2a_kit.pocket.world import AUDIBLE


@pytest.mark.parametrize("kwargs, match", [
    (dict(variants=["a bigger UNet"]), r"variants \['a bigger UNet'\] unknown; expected some of"),
    (dict(variants=[]), r"variants \[\] unknown"),
    (dict(n=4), r"n=4; expected an int ≥ 8"),
    (dict(n=16.0), r"n=16.0; expected an int ≥ 8"),
])
def test_bad_settings_are_refused_before_any_training(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        generator_ablation(**kwargs)


def _judged(acc: float) -> dict:
    return {**{a: acc for a in AUDIBLE}, "all": acc - 0.1, "cs": 80.0 + acc, "fd": 100 - acc,
            "level_within_3db": 0.5, "limited": 0.05}


def test_table_shows_each_variant_its_weights_and_cpu_minutes():
    names = list(GENERATOR_VARIANTS)[:2]
    report = {
        "variants": {name: {"train_s": 3000.0, "train_cpu_s": 1200.0 * (k + 1),
                            "ema": _judged(0.9), "raw": _judged(0.5)}
                     for k, name in enumerate(names)},
        "ceilings": {"embedding": {**{a: 0.99 for a in AUDIBLE}, "all": 0.98,
                                   "level_within_3db": 0.9},
                     "representation": {**{a: 1.0 for a in AUDIBLE}, "all": 0.99, "cs": 90.0,
                                        "fd": 10.0},
                     "real audio": {"cs": 91.0, "fd": 5.0}},
        "settings": {"n": 150, "held_out_seed": 1000, "scheduler": "dpmsolver++",
                     "num_inference_steps": 10, "guidance_scale": 2.5},
    }
    ema, raw = ablation_table(report), ablation_table(report, weights="raw")
    lines = ema.splitlines()
    assert lines[0].endswith("| train (CPU) |")
    # each variant's row: its EMA figures and its CPU minutes (not the wall time's 50)
    assert lines[2].startswith(f"| {names[0]} | 0.90 |") and lines[2].endswith("| 20.0 min |")
    assert lines[3].endswith("| 40.0 min |") and "| 80.9 | 99.1 |" in lines[3]
    assert f"| {names[0]} | 0.50 |" in raw and "raw last weights" in raw
    assert "EMA weights" in ema
    # ceilings: what a ceiling does not measure is a dash
    assert "| real audio (other sounds of the same images) | — |" in ema
    assert "| embedding ceiling (probes on the true embeddings) | 0.99 |" in ema
