"""The protocol card: under which choices a score was measured, and whether two scores compare.

"I cannot reproduce the paper's numbers" is most often a protocol nobody wrote down: which
extractor weights, at which sample rate, through which resampler, on how long a crop of each
clip, over how many clips, paired how, with which package versions. Every :class:`~v2a_kit.
evaluation.scoring.Scores` (and every ``v2a-kit evaluate`` report) carries a card, a plain
JSON-ready dict (:func:`protocol_card`), printed in a few lines by :func:`format_card`.
:func:`compare_protocols` lists what differs between two cards and :func:`check_comparable`
refuses (or, asked to, warns) naming each difference; ``v2a-kit evaluate --compare A.json
B.json`` does the same with two saved reports.

The card's sections:

- ``extractors``: per role (``fd``: FD, KAD, KL, IS; ``fad``: FAD, FAD∞; ``cs``: CS) its name,
  feature space, weights digest (:func:`weights_digest`: sha256 of the module's tensors, so
  other weights — or random init — show), the rate it is fed, the clip length it reads;
- ``audio``: per side the source sample rates seen, the resampler (``None`` when nothing was
  resampled: then none was needed), the clip rule (:class:`ClipRule`: crop, pad) and the
  lengths fed; how many clips are silent or near-silent;
- ``counts`` and ``pairing``: clips per side, pairs, and the rule that made them;
- ``metrics``: each metric's conventions (IS splits and its shuffle seed, KL's softmax and ε,
  KAD's kernel, bandwidth rule and value, FAD∞'s sizes and seed, the bootstrap's resamples,
  level and seed);
- ``seeds``: the caller's (generation) seeds, when given;
- ``versions``: the kit's and the numeric packages' versions.

**Which differences matter.** Everything in ``extractors``, ``audio`` (rates, resampler, clip
rule), ``counts`` (FD is biased by n), ``pairing`` and ``metrics`` changes the numbers: those
differences refuse a comparison. ``versions`` and ``seeds`` are reported as warnings (a newer
librosa or another generation seed can move a score too, but a comparison across them is often
the point).

**Names the field uses.** :data:`FIELD_NAMES` maps the kit's metrics to the names of
av-benchmark's tables (used by MMAudio and later V2A papers), with what differs;
:data:`NOT_OFFLINE` lists the metrics the kit cannot compute offline and what they would need.
"""

from __future__ import annotations

import hashlib
import json
import platform
import warnings
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, MediaError, ProtocolMismatchError, ProtocolWarning

__all__ = ["PROTOCOL_FORMAT", "ClipRule", "weights_digest", "extractor_cards", "space_fields",
           "protocol_card",
           "package_versions", "compare_protocols", "check_comparable", "format_card",
           "load_report", "FIELD_NAMES", "NOT_OFFLINE", "SILENCE_RMS", "count_silent",
           "CRITICAL_SECTIONS"]

PROTOCOL_FORMAT = "v2a-kit-protocol-1"
CRITICAL_SECTIONS = ("extractors", "audio", "counts", "pairing", "metrics")
_DESCRIPTIVE = ("metrics.kad.bandwidth",)
_INFO_SECTIONS = ("versions", "seeds")
SILENCE_RMS = 1e-3  # RMS below -60 dBFS: near-silent
_PACKAGES = ("numpy", "scipy", "torch", "librosa", "soxr", "resampy", "torchaudio", "soundfile",
             "torchlibrosa")


# ----------------------------------------------------------------------------- the clip rule

@dataclass(frozen=True)
class ClipRule:
    """How each clip is cut before the extractors read it (after resampling).

    Attributes:
        seconds: audio kept from each clip.
        where: ``"start"``, ``"center"`` or ``"end"``: which part is kept.
        short: a clip shorter than ``seconds``: ``"refuse"`` (default), ``"pad"`` (zeros after
            it) or ``"repeat"`` (CLAP's repeat-pad).
        pad_to_s: after cutting, zero-pad to this length (an extractor that reads one fixed
            length longer than what is kept, e.g. the pocket evaluators' 1 s); ``None``: no pad.
    """

    seconds: float
    where: str = "start"
    short: str = "refuse"
    pad_to_s: float | None = None

    def __post_init__(self):
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float)) \
                or not (np.isfinite(self.seconds) and self.seconds > 0):
            raise ConfigError(f"ClipRule.seconds={self.seconds!r}; expected a positive number")
        if self.where not in ("start", "center", "end"):
            raise ConfigError(f"ClipRule.where={self.where!r}; expected 'start', 'center' or "
                              "'end'")
        if self.short not in ("refuse", "pad", "repeat"):
            raise ConfigError(f"ClipRule.short={self.short!r}; expected 'refuse', 'pad' or "
                              "'repeat'")
        if self.pad_to_s is not None and not (isinstance(self.pad_to_s, (int, float))
                                              and self.pad_to_s >= self.seconds):
            raise ConfigError(f"ClipRule.pad_to_s={self.pad_to_s!r}; expected None or a length "
                              f"≥ seconds ({self.seconds})")

    def apply(self, clips: list[np.ndarray], sampling_rate: int, label: str) -> list[np.ndarray]:
        """The clips cut (and padded) by the rule; a clip too short is refused, named by
        ``label`` (with ``#i`` appended when there are several clips)."""
        from ..media import fit_length
        keep = int(round(self.seconds * sampling_rate))
        out = []
        for i, c in enumerate(clips):
            if len(c) < keep:
                if self.short == "refuse":
                    name = label if len(clips) == 1 else f"{label} #{i}"
                    raise MediaError(f"{name} has {len(c) / sampling_rate:.3f} s of "
                                     f"audio; the clip rule keeps {self.seconds:g} s (ClipRule."
                                     "short='pad' or 'repeat' to fill it)")
                c = fit_length(c, keep, "repeat" if self.short == "repeat" else "pad")
            start = {"start": 0, "center": (len(c) - keep) // 2, "end": len(c) - keep}[self.where]
            c = c[start:start + keep]
            if self.pad_to_s is not None:
                c = fit_length(c, int(round(self.pad_to_s * sampling_rate)))
            out.append(np.ascontiguousarray(c, np.float32))
        return out

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- the card

def weights_digest(*modules: torch.nn.Module) -> str:
    """sha256 (first 16 hex digits) over every tensor of the modules' state dicts — names,
    dtypes, shapes and bytes, in order: the same weights give the same digest wherever they
    were loaded from; other weights, or random init, another. Cached on each module."""
    h = hashlib.sha256()
    for module in modules:
        cached = getattr(module, "_v2a_weights_digest", None)
        if cached is None:
            m = hashlib.sha256()
            for name, t in module.state_dict().items():
                t = t.detach().cpu().contiguous()
                m.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
                m.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
            cached = m.hexdigest()
            try:
                module._v2a_weights_digest = cached
            except AttributeError:  # a module that refuses attributes: recompute next time
                pass
        h.update(cached.encode())
    return h.hexdigest()[:16]


def extractor_cards(extractors, roles=("fd", "fad", "cs")) -> dict[str, dict]:
    """Role -> name, space, weights digest, rate fed, clip length read, weights source."""
    cards = {}
    for role in roles:
        e = getattr(extractors, role)
        modules = [e.model] + ([e.image_encoder.model] if role == "cs" else [])
        card = {"name": e.name, "weights_sha256": weights_digest(*modules),
                "sampling_rate": int(e.sampling_rate),
                "clip_samples": None if e.clip_samples is None else int(e.clip_samples),
                "min_samples": int(e.min_samples),
                "source": e.source.get("kind", "unknown"), **space_fields(role, e)}
        cards[role] = card
    return cards


def space_fields(role: str, extractor) -> dict[str, str]:
    """An extractor's spaces as report fields: ``space``, or for ``cs`` ``audio_space`` and
    ``image_space``."""
    if role == "cs":
        return {"audio_space": str(extractor.audio_space), "image_space": str(extractor.space)}
    return {"space": str(extractor.space)}


def package_versions() -> dict[str, str | None]:
    """The kit's, Python's and the numeric packages' versions (None: not installed)."""
    from .. import __version__
    out = {"v2a-kit": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def count_silent(clips: list[np.ndarray], threshold: float = SILENCE_RMS) -> int:
    """How many clips are all-silent or near-silent (RMS below ``threshold``, −60 dBFS)."""
    return int(sum(float(np.sqrt(np.mean(np.square(c, dtype=np.float64)))) < threshold
                   for c in clips))


def protocol_card(*, extractors, roles, audio: dict, counts: dict, pairing: dict,
                  metrics: dict, seeds: dict | None = None) -> dict:
    """Assemble a card (see the module docstring for its sections). Callers: ``score`` and the
    folder evaluator; the dict is JSON-ready."""
    return {"format": PROTOCOL_FORMAT, "preset": extractors.preset,
            "extractors": extractor_cards(extractors, roles), "audio": audio,
            "counts": counts, "pairing": pairing, "metrics": metrics,
            "seeds": dict(seeds or {}), "versions": package_versions()}


# ----------------------------------------------------------------------------- comparing

def _flatten(d, prefix="") -> dict[str, object]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def compare_protocols(a: dict, b: dict) -> list[dict]:
    """What differs between two cards: ``{"field", "a", "b", "critical"}`` per difference,
    field as a dotted path (``extractors.fd.weights_sha256``, ``audio.resampler``). Critical
    differences change the numbers (see the module docstring); the rest are informational.
    What describes the clips rather than the protocol is left out: the count of silent clips,
    and KAD's bandwidth value (it follows from its rule and the references, both compared)."""
    for side, card in (("first", a), ("second", b)):
        fmt = card.get("format") if isinstance(card, dict) else None
        if fmt != PROTOCOL_FORMAT:
            raise ConfigError(f"the {side} card is not a {PROTOCOL_FORMAT} protocol card "
                              f"(format {fmt!r})")
    fa, fb = _flatten(a), _flatten(b)
    diffs = []
    for key in sorted(set(fa) | set(fb)):
        if key == "format" or key in _DESCRIPTIVE or key.endswith(".silent_clips"):
            continue
        va, vb = fa.get(key, "—"), fb.get(key, "—")
        if va != vb:
            section = key.split(".", 1)[0]
            diffs.append({"field": key, "a": va, "b": vb,
                          "critical": section in CRITICAL_SECTIONS or section == "preset"})
    return diffs


def check_comparable(a: dict, b: dict, *, allow_differences: bool = False,
                     names=("A", "B")) -> list[dict]:
    """Refuse to compare scores measured under different protocols.

    Critical differences raise :class:`~v2a_kit.errors.ProtocolMismatchError` naming each
    (``allow_differences=True``: a :class:`~v2a_kit.errors.ProtocolWarning` naming each
    instead); informational ones (versions, seeds) always warn. Returns the differences.
    """
    diffs = compare_protocols(a, b)
    critical = [d for d in diffs if d["critical"]]
    text = "; ".join(f"{d['field']}: {names[0]} {d['a']!r} vs {names[1]} {d['b']!r}"
                     for d in critical)
    if critical and not allow_differences:
        raise ProtocolMismatchError(f"{len(critical)} protocol difference(s) between "
                                    f"{names[0]} and {names[1]}: {text}; their scores do not "
                                    "compare (allow_differences=True / --allow-differences "
                                    "to compare anyway, with warnings)")
    for d in diffs:
        kind = "protocol" if d["critical"] else "setting"
        warnings.warn(f"{kind} differs between {names[0]} and {names[1]}: {d['field']}: "
                      f"{d['a']!r} vs {d['b']!r}", ProtocolWarning, stacklevel=2)
    return diffs


def load_report(path) -> dict:
    """A saved score report (``v2a-kit evaluate --json``, or ``Scores.to_dict()`` as JSON) with
    its protocol card, or a ConfigError naming the file."""
    path = Path(path)
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; expected a JSON report (v2a-kit evaluate "
                          "--json)") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a JSON report ({e})") from None
    if not isinstance(report, dict) or not isinstance(report.get("protocol"), dict):
        raise ConfigError(f"{path}: no protocol card in it; expected a report written by "
                          "v2a-kit evaluate --json (or Scores.to_dict())")
    return report


def format_card(card: dict) -> str:
    """The card in a few lines, for people."""
    ex, au, m = card["extractors"], card["audio"], card["metrics"]
    lines = []
    for role, e in ex.items():
        where = e.get("space") or e.get("audio_space")
        read = (f"{e['clip_samples'] / e['sampling_rate']:g} s clips" if e["clip_samples"]
                else "any length")
        lines.append(f"{role}: {e['name']} [{where}; weights {e['weights_sha256']}; "
                     f"{e['source']}] fed {e['sampling_rate']} Hz, {read}")
    rates = ", ".join(f"{side} {'/'.join(map(str, v['source_rates'])) or '—'} Hz"
                      for side, v in au["sides"].items())
    lines.append(f"audio: {rates}; resampler {au['resampler'] or 'none (none needed)'}; "
                 f"clip rule {au['clip_rule'] or 'none (as given)'}; fed "
                 + ", ".join(f"{side} {v['seconds_fed']} s" for side, v in au["sides"].items()))
    c = card["counts"]
    lines.append("clips: " + ", ".join(f"{k} {v}" for k, v in c.items())
                 + f"; pairing: {card['pairing']['rule']}")
    parts = []
    if "is" in m:
        parts.append(f"IS {m['is']['splits']} split(s), shuffle seed {m['is']['seed']}")
    if "kad" in m:
        parts.append(f"KAD σ={m['kad']['bandwidth']:.4g} ({m['kad']['bandwidth_rule']}), "
                     f"×{m['kad']['scale']:g}")
    if "fad_inf" in m:
        parts.append(f"FAD∞ {m['fad_inf']['steps']} sizes from {m['fad_inf']['min_n']}, seed "
                     f"{m['fad_inf']['seed']}")
    b = m.get("bootstrap", {})
    if b:
        parts.append(f"intervals {b['level']:.0%} percentile bootstrap, {b['resamples']} "
                     f"resamples, seed {b['seed']}")
    lines.append("metrics: " + "; ".join(parts))
    if card.get("seeds"):
        lines.append("seeds: " + ", ".join(f"{k} {v}" for k, v in card["seeds"].items()))
    v = card["versions"]
    lines.append("versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- field names

# The kit's metric -> the name av-benchmark's tables give the metric it matches (MMAudio and
# later V2A papers report these), and what differs. "paper" preset extractors.
FIELD_NAMES = {
    "fd": {"field": "FD_PANNs", "kit": "Fréchet distance of PANNs CNN14 2048-d embeddings "
           "(AudioLDM's FD)", "differs": "the kit's CNN14 is the 16 kHz model (AudioLDM's); "
           "av-benchmark's FD_PANNs feeds the 32 kHz CNN14 at 32 kHz: other weights, another "
           "number"},
    "fad": {"field": "FD_VGG", "kit": "Fréchet distance of VGGish 128-d embeddings at 16 kHz, "
            "one row per 0.96 s example (Google's FAD)", "differs": "a Fréchet distance of "
            "VGGish features like FD_VGG; check how the other toolkit forms its rows (per "
            "example or per clip) and crops clips before comparing values"},
    "kl": {"field": "KL_PANNs", "kit": "KL(reference ‖ generated) of PANNs softmax, paired by "
           "clip (AudioLDM's)", "differs": "16 kHz CNN14 here, 32 kHz in av-benchmark"},
    "is": {"field": "ISc_PANNs", "kit": "inception score of PANNs logits (SpecVQGAN's, "
           "10 splits)", "differs": "16 kHz CNN14 here, 32 kHz in av-benchmark"},
    "kad": {"field": "KAD_PANNs", "kit": "kernel audio distance (kadtk's, ×100) of the FD "
            "features", "differs": "kadtk takes σ from the evaluated set; the kit from the "
            "references unless told (bandwidth='generated')"},
    "fad_inf": {"field": "FAD∞ (fadtk)", "kit": "FD of the FAD rows extrapolated to n → ∞ "
                "(fadtk's score_inf)", "differs": "fadtk draws unseeded; the kit records its "
                "seed"},
    "cs": {"field": "CS (Im2Wav / V2A-Mapper)", "kit": "100 × cos(Wav2CLIP audio, CLIP "
           "ViT-B/32 image)", "differs": "not av-benchmark's IB-score (ImageBind)"},
}

# What the kit cannot compute offline, and what it would take.
NOT_OFFLINE = {
    "FD_PaSST, KL_PaSST": "PaSST (Koutini et al. 2022), the 32 kHz AudioSet transformer: its "
                          "checkpoint (hear21passt's release files) and the hear21passt "
                          "package; a third extractor role at 32 kHz",
    "IB-score": "ImageBind (Girdhar et al. 2023) huge: its ~4.5 GB checkpoint and the "
                "imagebind package; cosine of its audio and image (video frame) embeddings",
    "DeSync": "Synchformer (Iashin et al. 2024) trained for audio-visual offset: its "
              "checkpoint, and videos (frames at 25 fps with their audio), not still images",
    "FD_PANNs at 32 kHz": "the 32 kHz CNN14 checkpoint (Cnn14_mAP=0.431.pth); the kit builds "
                          "the architecture (the sensitivity lab at random init) but ships no "
                          "loader for those weights",
}
