"""The sensitivity lab: how far does each metric move when one protocol choice changes?

:func:`protocol_sensitivity` generates the sounds of held-out pocket images with every system
once (:func:`v2a_kit.pocket.reproduce.reproduce`, one seed), then scores them again and again
through :func:`~v2a_kit.evaluation.score`, changing **one** protocol choice at a time from a
baseline, and records every metric of every system under every variant:

- ``resampler``: the references are the same scenes recorded at 48 kHz with partials up to
  20 kHz (``WorldConfig(sampling_rate=48000, max_partial_hz=20000)``), as real references are
  recorded above the extractors' rate; each resampler of :data:`v2a_kit.media.RESAMPLERS`
  brings them to the extractors' 16 kHz (baseline: ``soxr_hq``);
- ``rate``: the band the extractors see — generated and reference audio both pass through a
  lower rate and back (8, 11.025, 12 kHz), as an extractor fed at that rate would hear them;
  for the paper's architectures also PANNs CNN14 at 32 kHz (av-benchmark's rate) instead of the
  16 kHz CNN14 (AudioLDM's), at random init;
- ``clip``: a :class:`~v2a_kit.evaluation.protocol.ClipRule` — the first, middle or last
  0.5 s, or the first 0.75 s, zero-padded to the 1 s the extractors read;
- ``num_clips``: half and a quarter of the images (and their sounds and references);
- ``references``: another draw of real sounds of the same scenes, and real sounds of other
  scenes (another world seed).

It does this on the pocket world (the pocket evaluators, trained) and on the paper's
extractor architectures (PANNs CNN14, VGGish, Wav2CLIP + CLIP ViT-B/32) at random init — real
front ends, filters and sizes; features that measure nothing, so only how far a choice moves a
number transfers, not the number. :func:`wobble` condenses the variants into each metric's
relative movement per axis; :func:`claims_survival` sets the gaps between systems in the
paper's published table (:data:`v2a_kit.datasets.PUBLISHED`) beside that movement and says
which of its claimed differences are larger than the protocol's wobble.
``benchmarks/bench_protocol.py`` runs it and writes ``benchmarks/results/protocol.json``;
notebook 06 reads that file ("How much do the numbers move?").

This module loads models through the registry and the pocket reproduction, so, like
:mod:`~v2a_kit.evaluation.folder`, it sits above them and is imported on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..media import RESAMPLERS, resample
from .protocol import ClipRule
from .scoring import AudioOutputs, extract, paired_differences, score

__all__ = ["AXES", "SCORED", "PAPER_METRICS", "FAST_LAB", "protocol_sensitivity", "wobble",
           "claims_survival", "sensitivity_table", "claims_table", "protocol_summary"]

LAB_SEED = 4000          # the held-out world (the reproduction's REPRODUCE_SEED)
_REF_SEEDS = {"baseline": 4500, "another draw": 4600, "other scenes": 4700}
WIDE_RATE = 48000
SCORED = ("fd", "fad", "kad", "fad_inf", "kl", "is", "cs")
PAPER_METRICS = {"fd": "fd", "fad": "fad", "cs_vggsound": "cs", "cs_imagehear": "cs"}
AXES = ("resampler", "rate", "clip", "num_clips", "references")
_RATES = (8000, 11025, 12000)
_CLIPS = {"first 0.5 s": ClipRule(0.5, "start", pad_to_s=1.0),
          "middle 0.5 s": ClipRule(0.5, "center", pad_to_s=1.0),
          "last 0.5 s": ClipRule(0.5, "end", pad_to_s=1.0),
          "first 0.75 s": ClipRule(0.75, "start", pad_to_s=1.0)}
_NAIVE = ("linear",)     # resamplers no one should use; reported, kept out of "realistic"
# notebook 06's FAST mode: the code path on a few images
FAST_LAB = dict(n=8, num_samples=1, resamples=20, paper_n=4, num_inference_steps=2,
                resamplers=("soxr_hq", "linear"), num_train=64)


@dataclass
class _Sounds:
    """Every system's sounds and what they are scored against."""

    systems: dict[str, np.ndarray]        # name -> (n · k, 16000), image-major
    images: np.ndarray                    # (n, 64, 64, 3)
    refs_wide: dict[str, np.ndarray]      # reference set -> (n, 48000 · 1 s) at 48 kHz
    num_samples: int


def _sounds(n, num_samples, num_inference_steps, num_train, weights, progress) -> _Sounds:
    from ..pocket.reproduce import reproduce
    from ..pocket.world.scenes import WorldConfig, sample_audio_for, sample_world
    report = reproduce(n=n, seeds=(0,), world_seed=LAB_SEED, num_samples=num_samples,
                       num_inference_steps=num_inference_steps, num_train=num_train,
                       keep_audio=True, weights=weights, progress=progress)
    systems = {name: a.reshape(n * num_samples, -1) for name, a in report["audio"].items()}
    wide = WorldConfig(sampling_rate=WIDE_RATE, max_partial_hz=20000.0)
    batch = sample_world(n, LAB_SEED)
    refs = {"baseline": sample_audio_for(batch, _REF_SEEDS["baseline"], wide).audio,
            "another draw": sample_audio_for(batch, _REF_SEEDS["another draw"], wide).audio,
            "other scenes": sample_world(n, _REF_SEEDS["other scenes"], wide).audio}
    return _Sounds(systems, report["images"], refs, num_samples)


def _through(waves: np.ndarray, rate: int, sr: int = 16000) -> np.ndarray:
    """The audio as an extractor fed at ``rate`` hears it: down to ``rate`` and back."""
    return np.stack([resample(resample(w, sr, rate), rate, sr) for w in waves])


def _values(s) -> dict:
    return {k: s.value(k) for k in SCORED}


class _Judge:
    """One extractor set scoring every variant, with the generated outputs cached."""

    def __init__(self, ex, sounds: _Sounds, resamples: int, seed: int, rows: int):
        self.ex, self.s, self.resamples, self.seed = ex, sounds, resamples, seed
        self.rows = rows                         # images used (the first ``rows``)
        self.k = sounds.num_samples
        self._cache: dict = {}

    def outputs(self, key, waves, **kw) -> AudioOutputs:
        if key not in self._cache:
            self._cache[key] = extract(self.ex, waves, **kw)
        return self._cache[key]

    def refs(self, ref_set="baseline", resampler="soxr_hq", clip=None, through=None):
        wide = self.s.refs_wide[ref_set][:self.rows]
        key = ("ref", ref_set, resampler, None if clip is None else clip, through)
        if through is not None:  # the band first: at 16 kHz (baseline resampler), then through
            waves = _through(np.stack([resample(w, WIDE_RATE, 16000, resampler) for w in wide]),
                             through)
            return self.outputs(key, waves, cs=False, clip=clip)
        return self.outputs(key, [(w, WIDE_RATE) for w in wide], cs=False, resampler=resampler,
                            clip=clip)

    def gen(self, name, clip=None, through=None):
        waves = self.s.systems[name][:self.rows * self.k]
        if through is not None:
            waves = _through(waves, through)
        return self.outputs(("gen", name, clip, through), waves, clip=clip)

    def score_all(self, ref: AudioOutputs, clip=None, through=None, rows=None) -> dict:
        rows = rows or self.rows
        pairs = np.stack([np.arange(rows * self.k), np.repeat(np.arange(rows), self.k)], 1)
        img = self._images(rows)
        out = {}
        for name in self.s.systems:
            g = _head(self.gen(name, clip, through), rows * self.k)
            out[name] = _values(score(self.ex, g, _head(ref, rows), img,
                                      reference_pairs=pairs, image_pairs=pairs, is_splits=1,
                                      resamples=self.resamples, seed=self.seed,
                                      resampler="soxr_hq"))
        return out

    def _images(self, rows):
        import torch

        from ..spaces import Embeddings
        if "images" not in self._cache:
            self._cache["images"] = self.ex.cs.embed_images(list(self.s.images[:self.rows]),
                                                            progress=False)
        return Embeddings(torch.from_numpy(self._cache["images"][:rows]), self.ex.cs.space)


def _head(out: AudioOutputs, rows: int) -> AudioOutputs:
    """The first ``rows`` clips of precomputed outputs (FAD rows by their owners)."""
    return out if rows == len(out) else out.take(np.arange(rows))


def _variants(judge: _Judge, resamplers, rates=_RATES, clips=_CLIPS) -> dict:
    """axis -> variant -> system -> metric -> value; and the baseline."""
    base_ref = judge.refs()
    out = {"baseline": judge.score_all(base_ref)}
    out["resampler"] = {r: judge.score_all(judge.refs(resampler=r)) for r in resamplers
                        if r != "soxr_hq"}
    out["rate"] = {f"{r / 1000:g} kHz": judge.score_all(judge.refs(through=r), through=r)
                   for r in rates}
    out["clip"] = {name: judge.score_all(judge.refs(clip=rule), clip=rule)
                   for name, rule in clips.items()}
    out["num_clips"] = {f"{judge.rows // d} images": judge.score_all(base_ref, rows=judge.rows // d)
                        for d in (2, 4) if judge.rows // d >= 4}
    out["references"] = {name: judge.score_all(judge.refs(ref_set=name))
                         for name in ("another draw", "other scenes")}
    return out


def _cnn14_32k(device):
    """PANNs CNN14 at 32 kHz (the architecture of ``Cnn14_mAP=0.431``: window 1024, hop 320,
    64 mels, 50–14,000 Hz), at the kit's random-init seed."""
    from ..configs import TINY_SEED
    from ..devices import seeded
    from ..spaces import Space
    from .extractors import AudioExtractor
    from .networks import Cnn14
    with seeded(TINY_SEED):
        model = Cnn14(sample_rate=32000, window_size=1024, hop_size=320, fmax=14000)
    return AudioExtractor("panns-cnn14-32k", model,
                          Space("audio-features", "panns/Cnn14_32k", "random-init", 2048), 32000,
                          forward=model, num_classes=527, min_samples=31 * 320, device=device,
                          source={"kind": "random-init"})


def _feats(extractor, waves):
    """Features and logits of 16 kHz clips, upsampled (soxr_hq) to the extractor's rate."""
    return extractor.features_and_logits([(w, 16000) for w in waves])


def _cnn14_rate(paper, sounds: _Sounds, rows: int) -> dict:
    """FD, KAD, KL and IS from CNN14 at 16 kHz (the kit's) and at 32 kHz (av-benchmark's),
    both at random init, on the same clips (upsampled to 32 kHz with soxr_hq)."""
    from .metrics import frechet_distance, inception_score, kernel_audio_distance, kl_divergence
    k = sounds.num_samples
    refs16 = np.stack([resample(w, WIDE_RATE, 16000) for w in
                       sounds.refs_wide["baseline"][:rows]])
    out = {}
    for label, ex32 in (("CNN14 16 kHz", None), ("CNN14 32 kHz", _cnn14_32k(paper.fd.device))):
        fd_ex = paper.fd if ex32 is None else ex32
        rf, rl = _feats(fd_ex, refs16)
        out[label] = {}
        for name, waves in sounds.systems.items():
            gf, gl = _feats(fd_ex, waves[:rows * k])
            out[label][name] = {
                "fd": frechet_distance(gf, rf),
                "kad": kernel_audio_distance(gf, rf),
                "kl": kl_divergence(gl, np.repeat(rl, k, 0)),
                "is": inception_score(gl, splits=1).mean}
    return out


def protocol_sensitivity(n: int = 48, num_samples: int = 2, *, paper_n: int = 24,
                         resamples: int = 200, seed: int = 0, resamplers=tuple(RESAMPLERS),
                         num_inference_steps: int | None = None, num_train: int = 2048,
                         weights=None, paper: bool = True, progress: bool = False) -> dict:
    """Every system scored under every single-choice protocol variant (module docstring).

    Args:
        n: held-out pocket images; ``num_samples`` sounds each (pocket evaluators).
        paper_n: images scored with the paper's architectures at random init (their
            ``num_samples`` sounds each); ``paper=False`` skips that part.
        resamples, seed: the bootstrap's, for every score.
        resamplers: which of :data:`v2a_kit.media.RESAMPLERS` to compare (``soxr_hq`` is the
            baseline, always run).
        num_inference_steps, num_train, weights: the reproduction's (sounds come from
            :func:`~v2a_kit.pocket.reproduce.reproduce`, one seed).
    Returns:
        JSON-safe: ``pocket`` and ``paper`` (each ``{"baseline": system -> metric -> value,
        axis -> variant -> system -> metric -> value}``), ``paper_rate`` (CNN14 16 vs 32 kHz),
        ``paired`` (the baseline's paired differences between systems), ``wobble`` and
        ``claims`` (:func:`wobble`, :func:`claims_survival`), ``settings``.
    """
    from ..registry import load_extractors
    unknown = [r for r in resamplers if r not in RESAMPLERS]
    if unknown:
        raise ConfigError(f"resamplers {unknown} unknown; expected some of {list(RESAMPLERS)}")
    if not 4 <= paper_n <= n and paper:
        raise ConfigError(f"paper_n={paper_n}; expected 4 ≤ paper_n ≤ n ({n})")
    t0 = time.perf_counter()
    sounds = _sounds(n, num_samples, num_inference_steps, num_train, weights, progress)
    t_sounds = time.perf_counter() - t0
    pocket_ex = load_extractors("pocket", device="cpu", weights=weights)
    judge = _Judge(pocket_ex, sounds, resamples, seed, n)
    report = {"pocket": _variants(judge, resamplers)}
    pairs = np.stack([np.arange(n * num_samples), np.repeat(np.arange(n), num_samples)], 1)
    report["paired"] = paired_differences(
        pocket_ex, {name: judge.gen(name) for name in sounds.systems},
        [(a, b) for a in sounds.systems for b in sounds.systems if a < b],
        judge.refs(), judge._images(n), reference_pairs=pairs, image_pairs=pairs, is_splits=1,
        resamples=max(resamples, 1000), seed=seed)
    t_pocket = time.perf_counter() - t0 - t_sounds
    if paper:
        paper_ex = load_extractors("paper", random_init=True, device="cpu")
        pj = _Judge(paper_ex, sounds, resamples, seed, paper_n)
        real = [r for r in ("soxr_hq", "kaiser_best", "torchaudio", "linear") if r in resamplers]
        report["paper"] = _variants(pj, real, rates=(8000,),
                                    clips={"middle 0.75 s": ClipRule(0.75, "center",
                                                                     pad_to_s=1.0)})
        report["paper_rate"] = _cnn14_rate(paper_ex, sounds, paper_n)
    report["settings"] = dict(
        n=n, num_samples=num_samples, paper_n=paper_n if paper else None, resamples=resamples,
        seed=seed, resamplers=list(resamplers), world_seed=LAB_SEED,
        reference_seeds=dict(_REF_SEEDS), reference_rate=WIDE_RATE,
        systems=list(sounds.systems), seconds={"sounds": round(t_sounds, 1),
                                               "pocket": round(t_pocket, 1),
                                               "total": round(time.perf_counter() - t0, 1)})
    report["wobble"] = {part: wobble(report[part]) for part in ("pocket", "paper")
                        if part in report}
    report["claims"] = claims_survival(report["wobble"])
    return report


def _spread(values) -> float | None:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(max(values) - min(values)) if len(values) > 1 else None


def _rel(v, base) -> float | None:
    if v is None or base is None or not np.isfinite(v) or abs(base) < 1e-12:
        return None
    return abs(v - base) / abs(base)


def wobble(part: dict, exclude_systems=("real audio",)) -> dict:
    """axis -> metric -> the largest relative change (|variant − baseline| / |baseline|) over
    the axis's variants and the systems (real audio left out: several of its scores sit near
    0, where a relative change says little), with the variant and system that gave it, and
    that change as a share of the baseline's spread between the systems (``of_spread``: KAD
    sits near 0 for good systems, where only this reading is meaningful); the resampler axis
    also without the naive resamplers (``"resampler (realistic)"``)."""
    base, out = part["baseline"], {}
    axes = [a for a in AXES if a in part]
    spread = {m: _spread([v.get(m) for k, v in base.items() if k not in exclude_systems])
              for m in SCORED}
    for axis in axes + ["resampler (realistic)"] * ("resampler" in part):
        variants = part["resampler" if axis.startswith("resampler") else axis]
        if axis == "resampler (realistic)":
            variants = {k: v for k, v in variants.items() if k not in _NAIVE}
        out[axis] = {}
        for metric in SCORED:
            best = None
            for variant, systems in variants.items():
                for name, values in systems.items():
                    if name in exclude_systems:
                        continue
                    r = _rel(values.get(metric), base[name].get(metric))
                    if r is not None and (best is None or r > best["relative"]):
                        change = abs(values[metric] - base[name][metric])
                        best = {"relative": r, "variant": variant, "system": name,
                                "baseline": base[name][metric], "value": values[metric],
                                "of_spread": (None if not spread[metric] else
                                              change / spread[metric])}
            if best is not None:
                out[axis][metric] = best
    return out


def claims_survival(wobbles: dict) -> list[dict]:
    """Each difference the paper's table claims (V2A-Mapper against each other row, per
    metric), its relative gap (|a − b| / the larger), and whether it exceeds the largest
    relative movement of that metric under each single protocol choice (the naive resamplers
    left out), measured on the pocket world and on the paper's architectures at random init.

    The reading: a row of a published table is often measured by other hands than the row it
    is compared with (Im2Wav's and CLIPSonic's numbers by their own toolkits), so one undeclared
    protocol choice can move one row and not the other; a gap smaller than what one choice
    moves a score by could be the protocol's. ``survives``: larger than every axis's wobble of
    that part; ``beaten_by``: the axes whose wobble is as large as the gap."""
    from ..datasets import PUBLISHED
    ours = PUBLISHED["V2A-Mapper"]
    rows = []
    for other, values in PUBLISHED.items():
        if other == "V2A-Mapper":
            continue
        for col, metric in PAPER_METRICS.items():
            a, b = ours.get(col), values.get(col)
            if a is None or b is None:
                continue
            lower_better = col in ("fd", "fad")
            better = a < b if lower_better else a > b
            gap = abs(a - b) / max(abs(a), abs(b))   # relative to the larger of the two
            row = {"claim": f"V2A-Mapper {'<' if a < b else '>'} {other} on {col}",
                   "v2a_mapper": a, "other": b, "relative_gap": gap, "holds_as_published": better,
                   "parts": {}}
            for part, w in wobbles.items():
                axes = {ax: v[metric]["relative"] for ax, v in w.items()
                        if ax != "resampler" and metric in v}
                if not axes:
                    continue
                worst = max(axes, key=axes.get)
                row["parts"][part] = {"survives": all(gap > x for x in axes.values()),
                                      "largest_axis": worst, "largest_wobble": axes[worst],
                                      "beaten_by": sorted(ax for ax, x in axes.items()
                                                          if x >= gap)}
            rows.append(row)
    return rows


def sensitivity_table(report: dict, part: str = "pocket", measure: str = "relative") -> str:
    """Markdown: for each axis, each metric's largest movement (in %): ``measure="relative"``
    to the score itself, ``"of_spread"`` to the spread between the systems (:func:`wobble`,
    computed from the report's variants)."""
    if measure not in ("relative", "of_spread"):
        raise ConfigError(f"measure={measure!r}; expected 'relative' or 'of_spread'")
    w = wobble(report[part])
    axes = list(w)
    lines = ["| metric | " + " | ".join(axes) + " |", "|---|" + "---:|" * len(axes)]
    for metric in SCORED:
        cells = [f"{100 * w[a][metric][measure]:.1f} %"
                 if metric in w[a] and w[a][metric][measure] is not None else "—"
                 for a in axes]
        lines.append(f"| {metric.upper().replace('_INF', '∞')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def claims_table(report: dict) -> str:
    """Markdown: each claimed difference of the paper, its relative gap, and per part the
    protocol choices whose wobble is as large as the gap (``none``: it survives every one)."""
    parts = sorted({p for c in report["claims"] for p in c["parts"]})
    lines = ["| claim (published values) | relative gap | " + " | ".join(
        f"{p}: choices that move a score as far" for p in parts) + " |",
        "|---|---:|" + "---|" * len(parts)]
    for c in report["claims"]:
        cells = []
        for p in parts:
            info = c["parts"].get(p)
            cells.append("—" if info is None else ", ".join(info["beaten_by"]) or "none")
        lines.append(f"| {c['claim']} ({c['v2a_mapper']:g} vs {c['other']:g}) | "
                     f"{100 * c['relative_gap']:.1f} % | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def protocol_summary(report: dict) -> str:
    """The README's rendering of a :func:`protocol_sensitivity` report: each part's table of
    movements (relative to the score), the claims table, and what was run."""
    st = report["settings"]
    parts = []
    for part, what in (("pocket", "pocket evaluators"),
                       ("paper", "the paper's architectures at random init")):
        if part in report:
            parts.append(f"**{what}** — largest movement of each metric, relative to the score, "
                         f"when one protocol choice changes:\n\n{sensitivity_table(report, part)}")
    parts.append(claims_table(report))
    paper = (f"; the paper's architectures on {st['paper_n']} of them" if st.get("paper_n")
             else "")
    parts.append(f"{st['n']} held-out pocket images (world seed {st['world_seed']}) × "
                 f"{st['num_samples']} sounds per system, {len(st['systems'])} systems{paper}; "
                 f"references recorded at {st['reference_rate']} Hz; {st['resamples']} bootstrap "
                 f"redraws per score; {st['seconds']['total']:.0f} s on this machine "
                 "(`python benchmarks/bench_protocol.py`).")
    return "\n\n".join(parts)
