"""The pocket evaluators in the roles of the paper's evaluation networks.

:func:`build_pocket_extractors` fills the three roles of
:class:`~v2a_kit.evaluation.extractors.Extractors` from a pocket build, offline:

====  =====================  ==============================================================
role  metric                 pocket extractor (paper's in brackets)
====  =====================  ==============================================================
fd    FD; KL and IS          pocket tagger: 128-d features, 13 logits in one softmax per
                             attribute (PANNs CNN14: 2048-d, 527 logits)
fad   FAD                    the pocket audio→image evaluator's 128-d trunk (VGGish)
cs    CS                     pocket audio→image evaluator + pocket-CLIP (Wav2CLIP + CLIP)
====  =====================  ==============================================================

They read the pocket world's clips: exactly 1 s at 16 kHz (``clip_samples`` = 16000), and
refuse other lengths, naming the clip.

**The pocket FAD view.** VGGish is a second network, trained apart from PANNs on another task.
The pocket analogue is the audio→image evaluator's trunk: another network than the tagger,
trained on the evaluator seeds with another objective (regressing pocket-CLIP image embeddings).
pocket-CLAP was rejected for this role: the mapper is trained to predict its embeddings and the
generator is conditioned on them, so it would be judge and party.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from ...evaluation.extractors import AudioExtractor, ClipScoreExtractor, Extractors
from ...spaces import Space
from ..world.scenes import AUDIBLE
from .audio import SAMPLING_RATE
from .evaluators import CLIP_SAMPLES, check_audio
from .loading import build_pocket_clip, load_audio_to_image, load_tagger, pocket_dir

__all__ = ["build_pocket_extractors"]


def _build_id(folder: Path, kind: str) -> str:
    """The checkpoint id of an evaluator's space: the digest of its weights file."""
    data = (folder / kind / "model.safetensors").read_bytes()
    return f"pocket-build:{hashlib.sha256(data).hexdigest()[:16]}"


def _logit_groups() -> dict[str, slice]:
    """attribute -> its columns of the tagger's concatenated logits (one softmax each)."""
    sizes = np.cumsum([0] + [len(v) for v in AUDIBLE.values()])
    return {a: slice(int(sizes[i]), int(sizes[i + 1])) for i, a in enumerate(AUDIBLE)}


def build_pocket_extractors(weights=None, device=None) -> Extractors:
    """The pocket evaluators in the three roles, from a pocket build folder (``weights``; the
    build shipped with the package when None). ``device``: ``None`` = the best available."""
    folder = pocket_dir(weights) / "evaluators"
    tagger, a2i = load_tagger(weights), load_audio_to_image(weights)

    def tagger_forward(x):
        out = tagger(x)
        return out.features, torch.cat([out.logits[a] for a in AUDIBLE], dim=1)

    def a2i_trunk(x):  # the audio→image evaluator's features, before its projection
        return a2i.trunk(a2i.log_mel(check_audio(x))), None

    groups = _logit_groups()
    kw = dict(device=device, source={"kind": "pocket-build", "folder": str(folder)},
              clip_samples=CLIP_SAMPLES)
    a2i_id = _build_id(folder, "audio_to_image")
    fd = AudioExtractor(
        "pocket-tagger", tagger,
        Space("audio-features", "pocket/tagger", _build_id(folder, "tagger"),
              tagger.config.feature_dim),
        SAMPLING_RATE, forward=tagger_forward, num_classes=sum(s.stop - s.start
                                                               for s in groups.values()),
        logit_groups=groups, **kw)
    fad = AudioExtractor(
        "pocket-audio-to-image-trunk", a2i,
        Space("audio-features", "pocket/audio_to_image-trunk", a2i_id, a2i.config.feature_dim),
        SAMPLING_RATE, forward=a2i_trunk, **kw)
    image = build_pocket_clip(weights=weights, device=device, dtype=torch.float32)
    cs = ClipScoreExtractor(
        "pocket-audio-to-image", a2i,
        Space("audio-to-clip", "pocket/audio_to_image", a2i_id, a2i.config.embed_dim),
        image, SAMPLING_RATE, audio_fn=a2i, **kw)
    return Extractors(fd=fd, fad=fad, cs=cs, preset="pocket")
