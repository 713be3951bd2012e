"""Add issue 22's cells to notebook 06 (run once; idempotent): KAD from scratch after the other
metrics' from-scratch cell, and section 8, "How much do the numbers move?", before the
exercises. Existing cells and their outputs are kept as they are; the new cells have no outputs
until the notebook is executed.

    python tools/nb06_protocol_cells.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NB = Path(__file__).resolve().parent.parent / "notebooks" / "06_reproduce_evaluation.ipynb"
MARK = "kad_scratch"  # a new cell's source contains it: the cells are in already

KAD_MD = """### KAD, from scratch

FD fits a Gaussian to each side, and is biased by the number of clips. The **kernel audio
distance** (KAD; Chung et al. 2025) assumes no distribution: it is the squared *maximum mean
discrepancy* between the two sets of features under a Gaussian kernel
$k(x, y) = \\exp(-\\lVert x-y\\rVert^2 / 2\\sigma^2)$, estimated without bias — each set's
within-set average leaves out the pairs of a clip with itself:
$$\\mathrm{KAD} = 100\\Big[\\tfrac{1}{m(m-1)}\\sum_{i\\ne j}k(g_i,g_j) +
\\tfrac{1}{n(n-1)}\\sum_{i\\ne j}k(r_i,r_j) - \\tfrac{2}{mn}\\sum_{i,j}k(g_i,r_j)\\Big].$$
The bandwidth $\\sigma$ is the median distance between two reference clips (`kadtk`, the
authors' toolkit, takes it from the evaluated set; the kit from the references, so that every
system scored against them meets the same kernel; `bandwidth="generated"` gives kadtk's
choice, and a test checks the kit against kadtk's own code). Ten lines, against the kit, and
then FD and KAD of the *same* two sources at three sizes:"""

KAD_CODE = """def kad_scratch(g, r, scale=100):
    pairs = np.triu_indices(len(r), 1)
    dist = np.linalg.norm(r[:, None] - r[None], axis=-1)[pairs]
    sigma = np.sort(dist)[(len(dist) - 1) // 2]          # median reference distance (lower median)
    k = lambda a, b: np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * sigma ** 2 + 1e-8))
    kgg, krr, m, n = k(g, g), k(r, r), len(g), len(r)
    return scale * ((kgg.sum() - np.trace(kgg)) / (m * (m - 1))
                    + (krr.sum() - np.trace(krr)) / (n * (n - 1)) - 2 * k(g, r).mean())

fa64, fb64 = fa.astype(np.float64), fb.astype(np.float64)
print(f"KAD: from scratch {kad_scratch(fb64, fa64):.6f} | kit {ev.kernel_audio_distance(fb64, fa64):.6f}")
for n in (20, 50, 200):   # other draws of the same scenes: the true distance does not change with n
    print(f"n = {n:3d}: FD {ev.frechet_distance(fb64[:n], fa64[:n]):8.2f} | "
          f"KAD {ev.kernel_audio_distance(fb64[:n], fa64[:n]):7.3f}")"""

KAD_AFTER = """FD shrinks as n grows although only n changed — its bias; KAD stays near one value and can
dip below zero when the two sides come from one distribution (an unbiased estimate of a
distance that is nearly zero). FAD∞ (fadtk) corrects FD the other way: it measures FD at
several sizes and extrapolates the line against 1/n to infinitely many clips. The kit reports
both beside FD and FAD (`Scores.kad`, `Scores.fad_inf`)."""

S8_MD = """## 8. How much do the numbers move?

"I cannot reproduce the paper's numbers" is the commonest complaint about V2A evaluation, and
its usual cause is a protocol choice nobody wrote down: which extractor weights, at which sample
rate, through which resampler, on how long a crop, over how many clips, against which
references. So every score the kit makes carries a **protocol card** and an **interval**:
`score()` records the extractors (names, spaces, a digest of their weights), the rate each is
fed and the resampler (audio at another rate is refused unless one is named), the clip rule,
the counts, the pairing rule, every metric's settings and the package versions; and each metric
gets a bootstrap interval (clips or pairs redrawn with replacement; FAD∞'s is its line's
standard error). Here the score of other real sounds of a few scenes against their real
sounds, with its card:"""

S8_CARD = """lab_scenes = sample_world(8 if FAST else 48, seed=6800)
lab_other = sample_audio_for(lab_scenes, seed=6801).audio
card_scores = ev.score(ex, lab_other, lab_scenes.audio, lab_scenes.images,
                       resamples=100 if FAST else 1000)
print(card_scores.summary())"""

S8_PAIRED_MD = """**Does one system beat another?** Two systems scored on the *same* images and references
share those inputs' difficulty; a **paired** test redraws the inputs once and scores both
systems on the same redraw, so the difference gets an interval of its own, usually far
narrower than the two systems' intervals suggest (`ev.compare_systems`,
`ev.paired_differences`). Section 5's `reproduce()` did this for the comparisons the paper's
argument rests on; per seed, each difference (first − second) with its interval, and whether it
lies beyond the resampling noise:"""

S8_PAIRED = """def paired_line(seed, name, metric, d):
    beyond = d["low"] > 0 or d["high"] < 0
    return (f"seed {seed}: {name:33s} {metric.upper():3s} {d['estimate']:+9.3f} "
            f"[{d['low']:+9.3f}, {d['high']:+9.3f}] {'beyond' if beyond else 'within'} the noise")

seeds_run = report["settings"]["seeds"]
for seed, diffs in zip(seeds_run, report["paired"]):
    for name, by_metric in diffs.items():
        for metric in ("fd", "kad", "cs"):
            print(paired_line(seed, name, metric, by_metric[metric]))
gen_reg = [d["generative − regression"] for d in report["paired"] if "generative − regression" in d]
fd_beyond = sum(d["fd"]["high"] < 0 or d["fd"]["low"] > 0 for d in gen_reg)
cs_beyond = sum(d["cs"]["high"] < 0 or d["cs"]["low"] > 0 for d in gen_reg)
viz.say("Generative − regression, paired: FD beyond the resampling noise in **{f}** of {n} "
        "seed(s), CS in **{c}** of {n}.", f=fd_beyond, c=cs_beyond, n=len(gen_reg))"""

S8_RESAMPLER_MD = """**One protocol choice: the resampler.** Real references are recorded above the extractors'
rate (VGGSound's clips are) and must be resampled to it. Below, the same scenes' references
"recorded" at a higher rate with partials above the extractors' band (printed), brought to the
extractors' rate by four resamplers; nothing else changes. The cards differ in the resampler
(and so in the reference features' digest), and comparing them is refused, naming it:"""

S8_RESAMPLER = """from v2a_kit.errors import ProtocolMismatchError
from v2a_kit.pocket.world import WorldConfig

refs48 = sample_audio_for(lab_scenes, seed=6802,
                          config=WorldConfig(sampling_rate=48000, max_partial_hz=20000.0)).audio
print(f"references: {len(refs48)} clips at {48000} Hz with partials up to {20000} Hz; "
      f"the extractors read {ex.sampling_rate} Hz")
by_resampler = {}
for name in ("soxr_hq", "kaiser_best", "torchaudio", "linear"):
    s = ev.score(ex, lab_other, [(w, 48000) for w in refs48], resampler=name,
                 resamples=50 if FAST else 200)
    by_resampler[name] = s
    print(f"{name:12s} FD {s.fd:8.2f} | FAD {s.fad:7.3f} | KAD {s.kad:7.3f} | KL {s.kl:6.3f}")
try:
    ev.check_comparable(by_resampler["soxr_hq"].protocol, by_resampler["kaiser_best"].protocol)
except ProtocolMismatchError as e:
    print(str(e)[:300], "...")"""

S8_LAB_MD = """**The sensitivity lab.** `benchmarks/bench_protocol.py` does this for every protocol choice,
one at a time — the resampler, the band the extractors hear (the audio passed through a lower
rate), the crop of each clip, the number of clips and the reference set — for every system of
section 5, with the pocket evaluators and with the paper's extractor architectures at random
init (PANNs CNN14 at AudioLDM's rate and, as av-benchmark feeds it, at twice that; VGGish;
Wav2CLIP): their judgements measure nothing, but how far a front end, a filter or a crop moves
a number is a property of the pipeline. It takes longer than a notebook should and writes
`benchmarks/results/protocol.json`; below, each metric's largest movement under each choice
(systems other than real audio) relative to the score itself, and — for the pocket world,
where KAD sits near zero for good systems — relative to the spread between the systems; then
CNN14 at the two rates; then each difference the paper's table claims, its relative size, and
whether it is larger than every single choice's movement:"""

S8_LAB = """from v2a_kit.evaluation.sensitivity import claims_table, sensitivity_table

lab = json.loads((viz.FIGURES_DIR.parent / "benchmarks" / "results" / "protocol.json").read_text())
for part in lab["wobble"]:
    display(Markdown(f"**{part}** (largest movement relative to the score, one choice at a "
                     "time)\\n\\n" + sensitivity_table(lab, part)))
display(Markdown("**pocket** (largest movement relative to the spread between the systems)"
                 "\\n\\n" + sensitivity_table(lab, "pocket", "of_spread")))
for label, systems in lab.get("paper_rate", {}).items():   # CNN14 at random init, two rates
    print(label + ": " + "; ".join(f"{name} FD {m['fd']:.3g}, KAD {m['kad']:.3g}"
                                   for name, m in systems.items()))
display(Markdown(claims_table(lab)))
claims, parts = lab["claims"], list(lab["wobble"])
survive_all = {p: sum(c["parts"][p]["survives"] for c in claims if p in c["parts"]) for p in parts}
by_axis = {p: {ax: sum(ax not in c["parts"][p]["beaten_by"] for c in claims if p in c["parts"])
               for ax in lab["wobble"][p] if ax != "resampler"} for p in parts}
fd_axis = {p: max(by_axis[p], key=lambda ax: lab["wobble"][p][ax]["fd"]["relative"]) for p in parts}
viz.say("Of the paper's **{n}** claimed differences, larger than *every* single choice's wobble: "
        "**{sp}** on the pocket world, **{sr}** with the paper's architectures at random init. "
        "Choice by choice, with the paper's architectures: {axes}. FD moves most under *{fp}* "
        "on the pocket world and under *{fr}* with the paper's architectures.",
        n=len(claims), sp=survive_all["pocket"], sr=survive_all.get("paper", 0),
        axes="; ".join(f"{ax}: {k} of {len(claims)}" for ax, k in by_axis.get("paper", {}).items()),
        fp=fd_axis["pocket"], fr=fd_axis.get("paper", "—"))"""

S8_READ_MD = """How to read it:

- A **relative gap** is the published difference divided by the larger of the two values; a
  **wobble** is how far one protocol choice moved one system's score, relative to that score.
  A row of a published table is often measured with another toolkit than the row it is
  compared with, so a gap smaller than what one undeclared choice moves a score by may be the
  protocol's, not the system's.
- *Number of clips* here means halving and quartering a few dozen clips, where FD's bias and
  every metric's noise are large; a published table scores every system on one large test set,
  where this axis matters far less. The *references* axis includes real sounds of other scenes:
  another reference distribution, not only another draw. The naive resampler (``linear``, no
  anti-aliasing filter) is kept out of the claims; the card records which one was used.
- The paper's architectures here are at random init: their movements are those of their front
  ends (mel filterbanks, windows, rates) and sizes, not of their trained judgements. With the
  published weights (notebook 07, `load_extractors("paper")`), rerun the benchmark to measure
  the real ones."""


def _exists(nb) -> bool:
    return any(MARK in "".join(c["source"]) for c in nb.cells)


def main() -> None:
    nb = nbformat.read(NB, as_version=4)
    if _exists(nb):
        print(f"{NB.name}: the cells are in already")
        return
    src = ["".join(c["source"]) for c in nb.cells]
    after_scratch = next(i for i, s in enumerate(src) if "def kl_scratch" in s) + 1
    new_kad = [nbformat.v4.new_markdown_cell(KAD_MD), nbformat.v4.new_code_cell(KAD_CODE),
               nbformat.v4.new_markdown_cell(KAD_AFTER)]
    nb.cells[after_scratch:after_scratch] = new_kad
    src = ["".join(c["source"]) for c in nb.cells]
    before_exercises = next(i for i, s in enumerate(src) if s.startswith("## Exercises"))
    section = [nbformat.v4.new_markdown_cell(S8_MD), nbformat.v4.new_code_cell(S8_CARD),
               nbformat.v4.new_markdown_cell(S8_PAIRED_MD), nbformat.v4.new_code_cell(S8_PAIRED),
               nbformat.v4.new_markdown_cell(S8_RESAMPLER_MD),
               nbformat.v4.new_code_cell(S8_RESAMPLER),
               nbformat.v4.new_markdown_cell(S8_LAB_MD), nbformat.v4.new_code_cell(S8_LAB),
               nbformat.v4.new_markdown_cell(S8_READ_MD)]
    nb.cells[before_exercises:before_exercises] = section
    for cell in new_kad + section:   # no metadata, as the committed notebooks keep none
        cell.metadata = {}
    nbformat.validate(nb)
    nbformat.write(nb, NB)
    print(f"{NB.name}: added {len(new_kad) + len(section)} cells")


if __name__ == "__main__":
    main()
