"""The paper's findings, measured on the pocket world over mapper seeds, seen and unseen
combinations (``benchmarks/bench_pocket_science.py`` and notebook 06 call it).

V2A-Mapper's claims, as the pocket world can test them:

- **one image, many sounds**: real sounds of one image differ (here: the heard-only pitch
  contour, timing and noise), so their pocket-CLAP embeddings spread; a generative mapper should
  spread as much, a regression mapper (a conditional mean) not at all;
- **the trade-off**: the generative mapper wins on fidelity (FD), the regression mapper holds
  its own on relevance (CS), and only the generative one reproduces how often each heard-only
  value occurs in real audio;
- **mapping beats retrieval** where retrieval cannot copy: on UNSEEN attribute combinations
  (:mod:`v2a_kit.pocket.world.vocab`), which no training pair and no retrieval pool holds;
- **the generator follows its condition**: sound generated from the true CLAP audio embedding
  (the oracle) comes close to the representation ceiling (real audio through the generator's own
  decoding), and is as loud as real audio at the default guidance.

:func:`measure_science` runs :func:`v2a_kit.pocket.reproduce.reproduce` for each mapper seed
(seed 0: the shipped mappers; other seeds: mappers trained by ``v2a-kit pocket mappers --seed
s`` into ``mapper_root/seed{s}``, reused when present) on the SEEN and the UNSEEN split, with
every baseline, and gathers mean ± std over seeds per system, metric and split.
:func:`check_targets` states each target of the pocket world's design with the measured values
beside it; :func:`science_table` prints the table.
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path

import numpy as np

from ..atomic import recorded_path
from ..errors import ConfigError
from ..evaluation.labels import header
from ..mappers import load_mapper_folder
from .models.loading import pocket_dir
from .reproduce import ALL_BASELINES, MAPPER_SYSTEMS, METRICS, REAL, reproduce

__all__ = ["SCIENCE_METRICS", "FAST_SCIENCE", "measure_science", "check_targets", "seed_stats",
           "science_table", "targets_list", "science_summary", "science_verdicts"]

SCIENCE_METRICS = ("fd", "fad", "kad", "cs", "acc_all", "acc_all5", "emb_acc_all",
                   "heard_only_gap", "clap_spread", "spread_ratio_median", "level_within_3db",
                   "rms")
# the metrics its tables can show (their words: v2a_kit.evaluation.labels, the one table)
_TABLE_METRICS = ("fd", "fad", "kad", "kl", "is", "cs", "acc_all", "acc_all5", "emb_acc_all",
                  "heard_only_gap", "clap_spread", "spread_ratio_median", "level_within_3db",
                  "rms")
# notebook 06's FAST mode: one seed, a few images, 2 steps — the code path, not the science
FAST_SCIENCE = dict(seeds=(0,), n=6, num_samples=2, num_inference_steps=2, num_train=64)


def _mappers_for(seed: int, weights, mapper_root, progress: bool, clip_space, clap_space,
                 fast: bool) -> dict:
    """name -> Mapper of seed ``seed``: the build's own mappers for seed 0, else trained (once)
    into ``mapper_root/seed{seed}``; a reused generative mapper trained before its guidance was
    calibrated is calibrated first (``v2a-kit pocket calibrate``), so every seed samples at its
    calibrated guidance."""
    from .mappers import calibrate_mapper_folder, train_pocket_mappers
    folder = pocket_dir(weights) / "mappers"
    if seed != 0:
        if mapper_root is None:
            raise ConfigError(f"seed {seed} needs mappers of that seed: give mapper_root, a "
                              "folder to train them into (or reuse them from)")
        folder = Path(mapper_root) / f"seed{seed}"
        if not (folder / "mappers.json").is_file():
            train_pocket_mappers(folder, weights=weights, seed=seed, fast=fast,
                                 progress=progress)
        elif "guidance_calibration" not in json.loads(
                (folder / "diffusion" / "config.json").read_text()).get("extra", {}):
            calibrate_mapper_folder(folder / "diffusion", weights=weights, seed=seed, fast=fast)
    return {name: load_mapper_folder(folder / kind, kind=kind, device="cpu",
                                     clip_space=clip_space, clap_space=clap_space)
            for name, kind in MAPPER_SYSTEMS.items()}


def measure_science(seeds=(0, 1, 2), n: int = 64, num_samples: int = 4, *, weights=None,
                    mapper_root=None, num_inference_steps: int | None = None,
                    num_train: int = 2048, fast_mappers: bool = False,
                    progress: bool = False) -> dict:
    """Every system on the SEEN and UNSEEN splits, once per mapper seed.

    Args:
        seeds: mapper seeds; each also seeds the mappers' sampling, the generator noise, the
            real audio's redraw and the retrieval pool's half (as in ``reproduce``).
        n: held-out images per split (world seed ``REPRODUCE_SEED``); num_samples: sounds each
            (4 for the variability target: the mean pairwise spread of 4 samples).
        mapper_root: where mappers of seeds other than 0 are trained or found.
        fast_mappers: train those with ``--fast`` settings (tests only).
    Returns:
        JSON-safe: ``splits`` -> split -> system -> metric -> {mean, std, per_seed};
        ``settings``; ``targets`` (:func:`check_targets`).
    """
    from ..registry import load_clap, load_clip
    seeds = tuple(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds={seeds!r}; expected distinct ints ≥ 0")
    t0 = time.perf_counter()
    clip_space = load_clip("pocket", weights=weights, device="cpu").space
    clap_space = load_clap("pocket", weights=weights, device="cpu").space
    per = {split: {} for split in ("seen", "unseen")}
    paired = {split: [] for split in per}       # per seed: "a − b" -> metric -> difference
    settings, guidance, ceilings = None, [], {}
    for seed in seeds:
        mappers = _mappers_for(seed, weights, mapper_root, progress, clip_space, clap_space,
                               fast_mappers)
        for split in per:
            rep = reproduce(n=n, seeds=(seed,), num_samples=num_samples, split=split,
                            num_inference_steps=num_inference_steps, num_train=num_train,
                            mappers=mappers, baselines=ALL_BASELINES, weights=weights)
            settings = rep["settings"]
            ceilings[split] = rep["embedding_ceiling"]  # the same images for every seed
            paired[split] += rep.get("paired", [])
            if split == "seen" and "generative" in rep["systems"]:
                guidance.append(rep["systems"]["generative"]["details"].get("guidance_scale"))
            for name, system in rep["systems"].items():
                for m in METRICS:
                    per[split].setdefault(name, {}).setdefault(m, []).append(
                        system["metrics"][m]["mean"])
    report = {"splits": {split: {name: {m: seed_stats(v) for m, v in metrics.items()}
                                 for name, metrics in systems.items()}
                         for split, systems in per.items()},
              "embedding_ceiling": ceilings,
              "settings": {**{k: v for k, v in settings.items()
                              if k not in ("seeds", "split", "total_seconds")},
                           "seeds": list(seeds),
                           "mapper_root": mapper_root and recorded_path(mapper_root),
                           # each seed's generative mapper guidance: its calibrated default
                           "generative_guidance": guidance,
                           "total_seconds": round(time.perf_counter() - t0, 1)},
              "paired": paired}
    report["targets"] = check_targets(report, weights)
    return report


def seed_stats(values: list) -> dict:
    """Mean, sample standard deviation (None for one seed) and the per-seed values, rounded to
    6 places; all None where a value is missing or there are none."""
    if not values or any(v is None for v in values):
        return {"mean": None, "std": None, "per_seed": values}
    v = np.asarray(values, np.float64)
    return {"mean": round(float(v.mean()), 6),
            "std": round(float(v.std(ddof=1)), 6) if len(v) > 1 else None,
            "per_seed": [round(float(x), 6) for x in v]}


def _m(report, split, system, metric) -> tuple[float | None, float]:
    s = report["splits"][split].get(system, {}).get(metric)
    if s is None or s["mean"] is None:
        return None, 0.0
    return s["mean"], s["std"] or 0.0


def _row(rows: list, target: str, met, **measured) -> None:
    rows.append({"target": target, "met": None if met is None else bool(met),
                 "measured": {k: (round(v, 4) if isinstance(v, float) else v)
                              for k, v in measured.items()}})


def _paired(report: dict, split: str, first: str, second: str, metric: str) -> str | None:
    """The paired difference ``first − second`` on ``metric`` over the seeds (each seed: the
    same images, references and pairs; :func:`v2a_kit.evaluation.paired_differences`), as
    "estimate [low, high]" per seed and how many seeds put it beyond the resampling noise;
    None when the report has none (an older report, or a system not run)."""
    per_seed = [p.get(f"{first} − {second}", {}).get(metric)
                for p in report.get("paired", {}).get(split, [])]
    per_seed = [d for d in per_seed if d is not None]
    if not per_seed:
        return None
    beyond = sum(d["low"] > 0 or d["high"] < 0 for d in per_seed)
    cells = "; ".join(f"{d['estimate']:+.3g} [{d['low']:+.3g}, {d['high']:+.3g}]"
                      for d in per_seed)
    return (f"{first} − {second} {cells}: beyond the resampling noise in {beyond} of "
            f"{len(per_seed)} seed(s)")


def _present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def check_targets(report: dict, weights=None) -> list[dict]:
    """Each target of the pocket world's design (issue "What you hear is what you see"): what it
    asks, the measured values, met or not. Rows whose systems were not run say so (``met``
    None); ``report`` rows state a measured fact the design asks to report, not a threshold."""
    rows = []
    row = partial(_row, rows)
    audible = ("shape", "colour", "count", "size", "contour")
    for split in ("seen", "unseen"):
        ceil = report.get("embedding_ceiling", {}).get(split)
        if ceil is not None:
            lowest = min(ceil[a] for a in audible)
            row(f"embedding ceiling ({split}): a probe on the true pocket-CLAP audio embeddings "
                "reads every audible attribute ≥ 0.97 and all five at once ≥ 0.93",
                lowest >= 0.97 and ceil["all"] >= 0.93,
                **{a: ceil[a] for a in audible}, all=ceil["all"])
            row(f"embedding ceiling ({split}): loudness read within 3 dB for ≥ 90 % of clips",
                ceil["level"]["within_db"] >= 0.9, within_3db=ceil["level"]["within_db"],
                p90_db=ceil["level"]["p90_abs_db"])
        # the oracle: generation from the true CLAP audio embeddings
        acc = {a: _m(report, split, "oracle", "acc_all5" if a == "all" else f"acc_{a}")[0]
               for a in (*audible, "all")}
        ok = None if ceil is None or None in acc.values() else all(
            acc[a] >= ceil[a] - 0.03 for a in audible)
        row(f"oracle ({split}): every audible attribute within 3 points of the embedding "
            "ceiling's", ok, **{a: acc[a] for a in audible},
            **({} if ceil is None else {f"ceiling_{a}": ceil[a] for a in audible}))
        row(f"oracle ({split}): all five attributes right at once ≥ 0.9",
            None if acc["all"] is None else acc["all"] >= 0.9, oracle=acc["all"])
        cs_o, _ = _m(report, split, "oracle", "cs")
        cs_real, _ = _m(report, split, REAL, "cs")
        row(f"oracle ({split}): CS within 3 points of real audio's",
            None if None in (cs_o, cs_real) else cs_o >= cs_real - 3, oracle=cs_o, real=cs_real)
        fd_o, _ = _m(report, split, "oracle", "fd")
        fd_c, _ = _m(report, split, "ceiling", "fd")
        row(f"oracle ({split}): FD ≤ 1.3 × the representation ceiling's FD",
            None if None in (fd_o, fd_c) else fd_o <= 1.3 * fd_c, oracle=fd_o, ceiling=fd_c,
            ratio=None if None in (fd_o, fd_c) else fd_o / fd_c)
        # the generative mapper
        need = 0.9 if split == "seen" else 0.7
        g_all, g_sd = _m(report, split, "generative", "acc_all")
        row(f"generative mapper ({split}): the four seen-and-heard attributes all right "
            f"≥ {need}", None if g_all is None else g_all >= need, generative=g_all, std=g_sd,
            regression=_m(report, split, "regression", "acc_all")[0],
            oracle=_m(report, split, "oracle", "acc_all")[0])
        # spread, image by image
        ratio = {k: _m(report, split, "generative", f"spread_ratio_{k}")[0]
                 for k in ("mean", "median", "q1", "q3")}
        real_ratio = {k: _m(report, split, REAL, f"spread_ratio_{k}")[0]
                      for k in ("mean", "median")}
        reg, _ = _m(report, split, "regression", "clap_spread")
        real_spread, _ = _m(report, split, REAL, "clap_spread")
        ok = None if None in (*ratio.values(), reg, real_spread) else (
            0.7 <= ratio["mean"] <= 1.3 and 0.7 <= ratio["median"] <= 1.3
            and reg <= 0.1 * real_spread)
        row(f"spread ({split}): per-image spread ratio generative / real within 0.7–1.3 in mean "
            "and median; regression's spread near zero (≤ 10 % of real's)", ok,
            **{f"ratio_{k}": v for k, v in ratio.items()},
            **{f"real_vs_real_{k}": v for k, v in real_ratio.items()},
            regression_spread=reg, real_spread=real_spread)
        # the trade-off
        fd_g, sd_g = _m(report, split, "generative", "fd")
        fd_r, sd_r = _m(report, split, "regression", "fd")
        spread = max(sd_g, sd_r)
        row(f"trade-off ({split}): generative FD below regression FD by more than twice the "
            "seeds' spread", None if None in (fd_g, fd_r) else fd_r - fd_g > 2 * spread,
            generative=fd_g, regression=fd_r, spread=spread,
            **_present({"paired_fd": _paired(report, split, "generative", "regression", "fd")}))
        gap_g, _ = _m(report, split, "generative", "heard_only_gap")
        gap_r, _ = _m(report, split, "regression", "heard_only_gap")
        gap_real, _ = _m(report, split, REAL, "heard_only_gap")
        row(f"heard-only proportions ({split}): generative within 10 points of real audio's "
            "law per contour", None if gap_g is None else gap_g <= 10, generative=gap_g,
            regression=gap_r, real_audio_sampling=gap_real)
        cs = {k: _m(report, split, k, "cs")[0] for k in ("generative", "regression", "oracle",
                                                         "nearest neighbour", REAL)}
        if None not in (cs["generative"], cs["regression"]):
            order = sorted((k for k, v in cs.items() if v is not None), key=cs.get,
                           reverse=True)
            row(f"CS ordering ({split}) — reported, not a threshold: "
                + " > ".join(order), None, **{k.replace(" ", "_"): v for k, v in cs.items()},
                **_present({"paired_cs": _paired(report, split, "generative", "regression",
                                                 "cs")}), report=True)
        # loudness
        within, _ = _m(report, split, "oracle", "level_within_3db")
        row(f"loudness ({split}): ≥ 90 % of oracle sounds within ± 3 dB of their real sound's "
            "level", None if within is None else within >= 0.9, oracle=within,
            oracle_median_err_db=_m(report, split, "oracle", "level_err_db")[0])
        limited = {k: _m(report, split, k, "limited")[0] for k in ("oracle", "regression",
                                                                   "generative")}
        row(f"loudness ({split}): in-world generated sounds over full scale before the limiter "
            "≤ 1 %", None if None in limited.values() else max(limited.values()) <= 0.01,
            **limited)
        rms_real, _ = _m(report, split, REAL, "rms")
        rms = {k: _m(report, split, k, "rms")[0] for k in ("oracle", "regression", "generative")}
        ratios = {k: None if None in (v, rms_real) else v / rms_real for k, v in rms.items()}
        row(f"loudness ({split}): mean generated RMS within 20 % of real audio's",
            None if None in ratios.values() else all(abs(r - 1) <= 0.2
                                                      for r in ratios.values()),
            real=rms_real, **{f"{k}_ratio": v for k, v in ratios.items()})
    for metric in ("acc_all", "cs"):
        nn, _ = _m(report, "unseen", "nearest neighbour", metric)
        vals = {k: _m(report, "unseen", k, metric)[0] for k in ("regression", "generative")}
        row(f"mapping beats retrieval (unseen): both mappers above nearest neighbour on "
            f"{metric}", None if None in (nn, *vals.values()) else all(v > nn
                                                                       for v in vals.values()),
            nearest_neighbour=nn, **vals,
            **_present({f"paired_{metric}_{k}": _paired(report, "unseen", k, "nearest neighbour",
                                                        metric)
                        for k in ("regression", "generative")} if metric == "cs" else {}))
    folder = pocket_dir(weights)
    build = json.loads((folder / "build.json").read_text())
    gates = build.get("gates", {})
    for key, what in (("clip_zero_shot", "pocket-CLIP, every visible attribute"),
                      ("clap_zero_shot", "pocket-CLAP, every audible attribute")):
        acc = {a: v for a, v in gates.get(key, {}).items() if a != "all"}
        row(f"zero-shot ≥ 0.9: {what} (the build's gates)",
            None if not acc else min(acc.values()) >= 0.9, **acc)
    build_s = sum(build.get("timings_s", {}).values())
    row("budget: `v2a-kit pocket build` ≤ 25 min (build.json's stage times)",
        None if not build_s else build_s <= 25 * 60, minutes=build_s / 60,
        machine=build.get("machine", {}).get("cpu"))
    mappers_json = folder / "mappers" / "mappers.json"
    if mappers_json.is_file():
        total = json.loads(mappers_json.read_text()).get("total_s")
        row("budget: `v2a-kit pocket mappers` ≤ 10 min", None if total is None
            else total <= 600, minutes=None if total is None else total / 60)
    row("budget: shipped weights ≤ 60 MB", _folder_mb(folder) <= 60, mb=_folder_mb(folder))
    return rows


def mean_std_cell(stat: dict | None) -> str:
    """A table cell of a {mean, std} over seeds: "0.806 ± 0.071" (3 decimals under 1, 2 under
    10, else 1), "—" when there is no mean."""
    if stat is None or stat["mean"] is None:
        return "—"
    mean, std = stat["mean"], stat["std"]
    digits = 3 if abs(mean) < 1 else (2 if abs(mean) < 10 else 1)
    return f"{mean:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def science_table(report: dict, split: str = "unseen", metrics=SCIENCE_METRICS) -> str:
    """A markdown table of one split of :func:`measure_science`: mean ± std over seeds."""
    if split not in report["splits"]:
        raise ConfigError(f"split={split!r}; expected one of {list(report['splits'])}")
    unknown = [m for m in metrics if m not in _TABLE_METRICS]
    if unknown:
        raise ConfigError(f"metrics {unknown} unknown; expected some of {list(_TABLE_METRICS)}")
    systems = report["splits"][split]
    lines = ["| system | " + " | ".join(header(m) for m in metrics) + " |",
             "|---|" + "---:|" * len(metrics)]
    for name, stats in systems.items():
        cells = " | ".join(mean_std_cell(stats.get(m)) for m in metrics)
        lines.append(f"| {name} | {cells} |")
    s = report["settings"]
    lines += ["", f"{split.upper()} combinations; mean ± std over mapper seeds "
                  f"{', '.join(map(str, s['seeds']))}; n = {s['n']} images × "
                  f"{s['num_samples']} sounds; {s['scheduler']} {s['num_inference_steps']} "
                  "steps."]
    return "\n".join(lines)


def targets_list(report: dict) -> str:
    """The targets as a markdown list: met / missed / not run (or reported), with the measured
    values."""
    mark = {True: "**met**", False: "**missed**", None: "not run"}
    lines = []
    for t in report["targets"]:
        if t["measured"].get("report"):
            values = ", ".join(f"{k} {v:.3g}" for k, v in t["measured"].items()
                               if isinstance(v, float))
            lines.append(f"- reported — {t['target']} ({values})")
            continue
        values = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                           for k, v in t["measured"].items() if v is not None)
        lines.append(f"- {mark[t['met']]} — {t['target']} ({values})")
    return "\n".join(lines)


def science_summary(report: dict) -> str:
    """Both splits' tables and the targets: the README's and notebook 06's rendering."""
    return "\n\n".join([science_table(report, "seen"), science_table(report, "unseen"),
                         targets_list(report)])


def _f(value, spec: str = ".3f") -> str:
    return "—" if value is None else format(value, spec)


def _beyond(report: dict, split: str, first: str, second: str, metric: str) -> str:
    """How the paired test on the same inputs reads ``first − second``, in words."""
    per_seed = [p.get(f"{first} − {second}", {}).get(metric)
                for p in report.get("paired", {}).get(split, [])]
    per_seed = [d for d in per_seed if d is not None]
    if not per_seed:
        return "no paired test in this report"
    beyond = sum(d["low"] > 0 or d["high"] < 0 for d in per_seed)
    return (f"the paired test on the same inputs puts the difference beyond the resampling "
            f"noise in {beyond} of {len(per_seed)} seed(s)")


def science_verdicts(report: dict) -> str:
    """The science report's findings as computed sentences (markdown bullets): where the
    generator and the mappers lose what the picture shows (both ceilings beside), the trade-off
    on each split with what decides it, the spread with what was calibrated and what was not,
    retrieval on UNSEEN combinations (zero by construction) and loudness sound by sound.
    Every figure comes from ``report``; a system or metric the report lacks reads "—"."""
    def m(split, system, metric):
        return _m(report, split, system, metric)[0]

    ceil = report.get("embedding_ceiling", {})
    lines = []
    lines.append(
        "**The generator.** From the *true* pocket-CLAP audio embeddings (the oracle), "
        "pocket-AudioLDM's sounds have all five audible attributes right in "
        f"{_f(m('seen', 'oracle', 'acc_all5'))} of sounds on SEEN and "
        f"{_f(m('unseen', 'oracle', 'acc_all5'))} on UNSEEN pictures"
        + (f" ({report['settings']['n']} held-out pictures per split)"
           if report.get("settings", {}).get("n") else "")
        + ". A probe reads all five "
        f"from those embeddings in {_f(ceil.get('seen', {}).get('all'))} / "
        f"{_f(ceil.get('unseen', {}).get('all'))} of clips (the embedding ceiling), and real "
        "audio through the generator's own decoder keeps them in "
        f"{_f(m('seen', 'ceiling', 'acc_all5'))} / {_f(m('unseen', 'ceiling', 'acc_all5'))} "
        "(the representation ceiling): the gap between the oracle and the embedding ceiling "
        "is what the UNet loses.")
    for split in ("seen", "unseen"):
        g, r = m(split, "generative", "acc_all"), m(split, "regression", "acc_all")
        ge, re_ = m(split, "generative", "emb_acc_all"), m(split, "regression", "emb_acc_all")
        o = m(split, "oracle", "acc_all")
        lines.append(
            f"**The mappers, {split.upper()} pictures.** All four seen-and-heard attributes "
            f"right: generative {_f(g)}, regression {_f(r)}, oracle {_f(o)}. Read from the CLAP "
            f"embeddings the mappers wrote, before any sound (the probes): generative "
            f"{_f(ge)}, regression {_f(re_)}. "
            + ("" if None in (g, ge) else
               f"Of the generative mapper's {_f(1 - g)} of wrong sounds, "
               f"{_f(max(0.0, 1 - ge))} is already in its embedding (the mapper's share); the "
               "rest is lost in generation."))
    for split in ("seen", "unseen"):
        fg, sg = _m(report, split, "generative", "fd")
        fr, sr = _m(report, split, "regression", "fd")
        cg, cr = m(split, "generative", "cs"), m(split, "regression", "cs")
        if None in (fg, fr, cg, cr):
            continue
        spread = max(sg, sr)
        fd_word = ("lower, by more than twice the seeds' spread" if fr - fg > 2 * spread
                   else "lower, but within twice the seeds' spread" if fg < fr
                   else "not lower")
        cs_winner = "generative" if cg > cr else "regression"
        ag, ar = m(split, "generative", "acc_all"), m(split, "regression", "acc_all")
        acc_winner = None if None in (ag, ar) else "generative" if ag > ar else "regression"
        why = ("its samples spread like real sounds, where the regression mapper's one "
               "conditional mean per picture does not" if fg < fr else
               "spreading like real sounds does not buy fidelity when the sounds themselves "
               "are further from real ones")
        lines.append(
            f"**The trade-off, {split.upper()}.** The generative mapper's FD is {fd_word} "
            f"({fg:.1f} vs {fr:.1f}; seeds' spread {spread:.1f}): {why}. CS favours the "
            f"{cs_winner} mapper ({cg:.1f} vs {cr:.1f}); "
            + _beyond(report, split, "generative", "regression", "cs") + ". "
            + ("" if acc_winner is None else
               f"The all-four accuracy favours the {acc_winner} mapper too: CS, a sound's "
               "cosine to its picture, follows what the sound gets right."
               if acc_winner == cs_winner else
               f"The all-four accuracy favours the {acc_winner} mapper instead: the two "
               "judge differently (CS is one cosine in the audio → image evaluator's space, "
               "the accuracy four yes-or-no answers of the tagger)."))
    guidance = report.get("settings", {}).get("generative_guidance") or []
    parts, skewed = [], []
    for split in ("seen", "unseen"):
        q = {k: m(split, "generative", f"spread_ratio_{k}") for k in ("median", "q1", "q3",
                                                                      "mean")}
        rr = m(split, REAL, "spread_ratio_median")
        rm = m(split, REAL, "spread_ratio_mean")
        parts.append(f"on {split.upper()} held-out pictures the median image's ratio is "
                     f"{_f(q['median'], '.2f')} (interquartile {_f(q['q1'], '.2f')}–"
                     f"{_f(q['q3'], '.2f')}, mean {_f(q['mean'], '.2f')}; another set of real "
                     f"sounds against the first: median {_f(rr, '.2f')}, mean "
                     f"{_f(rm, '.2f')})")
        if rm is not None and rm > 1.3:
            skewed.append(split.upper())
    lines.append(
        "**The spread, image by image.** *Calibrated, not learned:* each seed's generative "
        "mapper samples at the guidance scale chosen on SEEN training pictures so that its "
        "samples spread as much as real sounds do ("
        + (", ".join(_f(g, 'g') for g in guidance) if guidance else "—") + " over the seeds); "
        + "; ".join(parts) + ". "
        + (f"On {' and '.join(skewed)} a *mean* of per-picture ratios is far above 1 even for "
           "real sounds against real sounds: it is dominated by the few pictures whose real "
           "sounds barely differ (a small denominator), so the median and the quartiles are "
           "the measure to read. " if skewed else "")
        + "UNSEEN pictures took no part in the calibration. The "
        f"regression mapper's spread is {_f(m('unseen', 'regression', 'clap_spread'))} by "
        "construction (one embedding per picture).")
    nn_s, nn_u = m("seen", "nearest neighbour", "acc_all"), m("unseen", "nearest neighbour",
                                                               "acc_all")
    lines.append(
        "**Retrieval.** Nearest-neighbour retrieval of a real training sound has all four right "
        f"in {_f(nn_s)} of SEEN pictures and {_f(nn_u)} of UNSEEN ones. The UNSEEN figure is "
        "zero *by construction*, not a finding: the retrieval pool holds only SEEN "
        "combinations, so the sound it returns differs from an UNSEEN picture in at least one "
        "seen-and-heard attribute (anything above zero is the tagger mishearing). On UNSEEN CS "
        f"it scores {_f(m('unseen', 'nearest neighbour', 'cs'), '.1f')} against the mappers' "
        f"{_f(m('unseen', 'generative', 'cs'), '.1f')} (generative) and "
        f"{_f(m('unseen', 'regression', 'cs'), '.1f')} (regression).")
    lo = {split: (m(split, "oracle", "level_within_3db"), m(split, "oracle", "level_err_db"),
                  m(split, "oracle", "level_bias_db"), m(split, "oracle", "limited"))
          for split in ("seen", "unseen")}
    lines.append(
        "**Loudness, sound by sound.** Oracle sounds within ± 3 dB of their real sound's level: "
        + "; ".join(f"{split.upper()} {_f(w, '.0%') if w is not None else '—'} (median error "
                    f"{_f(e, '.1f')} dB, median bias {_f(b, '+.1f')} dB, limiter touched "
                    f"{_f(lim, '.1%') if lim is not None else '—'})"
                    for split, (w, e, b, lim) in lo.items()) + ".")
    targets = report.get("targets", [])
    met = sum(t["met"] is True for t in targets)
    judged = sum(t["met"] is not None for t in targets)
    lines.append(f"**Targets.** {met} of {judged} judged targets met (the list above says "
                 "which, with the measured values).")
    return "\n".join(f"- {line}" for line in lines)
