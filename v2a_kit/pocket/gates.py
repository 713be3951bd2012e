"""The pocket world's quality gates, measured on a build folder through the kit's own loaders.

The same function runs at the end of ``v2a-kit pocket build`` (its figures go into
``build.json``) and in the tests on the shipped weights, so what is reported is what users load:

- ``clip_zero_shot`` / ``clap_zero_shot``: zero-shot accuracy of pocket-CLIP on the visible and
  pocket-CLAP on the audible attributes, by caption ensembles over every attribute combination
  (:func:`v2a_kit.pocket.contrastive.zero_shot_accuracy`);
- ``tagger_real``: the pocket tagger on real held-out audio — the ceiling for the next two;
- ``generated_from_audio``: the tagger on audio that pocket-AudioLDM generates from the
  ground-truth pocket-CLAP **audio** embeddings of held-out clips (how AudioLDM was trained);
- ``generated_from_text``: the same from pocket-CLAP **text** embeddings of the clips' audio
  captions (how AudioLDM is used for text-to-audio);
- ``audio_to_image``: the CS evaluator on real held-out pairs: the mean cosine of each clip's
  embedding with its paired image's pocket-CLIP embedding (``paired_cosine``, CS / 100) and with
  the other images' (``unpaired_cosine``), and how often the held-out image nearest to the clip
  shows the clip's attributes (``nearest_image``; the pair itself is one of many look-alikes).

Each accuracy is per attribute, plus ``all`` (every attribute right at once).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..generation import peak_warnings_off
from .world import ATTRIBUTES, BACKGROUNDS, PocketBatch, _captions, sample_world

__all__ = ["attribute_accuracy", "zero_shot", "measure_gates"]


def attribute_accuracy(pred: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> dict:
    """Per-attribute accuracy of predicted value indices, and ``all`` four right at once."""
    right = {a: np.asarray(pred[a]) == np.asarray(labels[a]) for a in ATTRIBUTES}
    out = {a: float(r.mean()) for a, r in right.items()}
    out["all"] = float(np.all(list(right.values()), axis=0).mean())
    return out


def _combo_captions(kind: str):
    def fn(combo):
        k = 8  # captions per combination (templates × synonyms drawn with a fixed seed)
        labels = {a: np.full(k, combo[a]) for a in ATTRIBUTES}
        bg = np.arange(k) % len(BACKGROUNDS) if kind == "image" else None
        return _captions(np.random.default_rng(0), labels, kind, background=bg)
    return fn


@torch.no_grad()
def zero_shot(media_embeds: torch.Tensor, labels: dict[str, np.ndarray], encode_text,
              kind: str) -> dict[str, float]:
    """Zero-shot attribute accuracy of normalised ``media_embeds`` (n, d).

    Args:
        encode_text: list of captions -> (m, d) text embeddings (normalised here).
        kind: "image" (pocket-CLIP's caption style) or "audio" (pocket-CLAP's).
    """
    from .contrastive import combo_prompts, zero_shot_accuracy
    combos, prompts = combo_prompts(ATTRIBUTES, _combo_captions(kind))
    prompt_embeds = torch.stack([F.normalize(F.normalize(encode_text(p), dim=-1).mean(0), dim=0)
                                 for p in prompts])
    return zero_shot_accuracy(media_embeds, labels, combos, prompt_embeds)


def _audio_to_image_gates(a2i, held: PocketBatch, image_embeds: torch.Tensor) -> dict:
    """``audio_to_image`` (paired and unpaired mean cosine of the evaluator's audio embeddings
    with the images') and ``nearest_image`` (the attributes of each clip's nearest image)."""
    sims = a2i.embed(held.audio) @ image_embeds.T
    n = len(sims)
    nearest = sims.argmax(1).numpy()
    return {"audio_to_image": {"paired_cosine": float(sims.diagonal().mean()),
                               "unpaired_cosine": float((sims.sum() - sims.diagonal().sum())
                                                        / (n * (n - 1)))},
            "nearest_image": attribute_accuracy({a: y[nearest] for a, y in held.labels.items()},
                                                held.labels)}


GATE_STEPS = 25  # DPM-Solver++ steps of every gate measurement (the build's at the time)


@peak_warnings_off()  # it measures many sounds: the limit applies, unannounced
def measure_gates(weights=None, *, held_out: PocketBatch | None = None, num_held_out: int = 1000,
                  held_out_seed: int = 1000, num_generate: int = 200, guidance_scale: float = 2.5,
                  scheduler: str = "dpmsolver++", num_inference_steps: int | None = GATE_STEPS,
                  generation_seed: int = 0, progress: bool = False) -> dict:
    """Measure every gate on the build in ``weights`` (the shipped build when None).

    Args:
        held_out: the judged pairs; ``sample_world(num_held_out, held_out_seed)`` when None. Use
            a world seed no model of the build was trained on (the build's seed + 1000 or any
            other unused seed; the evaluators' seeds are ≥ 10,000).
        num_generate: how many of the held-out clips to generate for (each from its audio
            embedding and from its caption); the costly part, ≈ 0.1–0.2 s per clip on 2 cores.
        guidance_scale, scheduler, num_inference_steps: as in :func:`v2a_kit.generate`; the
            gates are measured with DPM-Solver++ 25 steps (``GATE_STEPS``), what the shipped
            build's ``build.json`` records as its default, whatever the kit's default becomes.
        generation_seed: seeds the generator's noise.
    Returns:
        a dict of gate name -> {attribute: accuracy, "all": ...} (see the module docstring),
        plus ``settings``: what was measured and how.
    """
    from ..generation import generate
    from ..registry import load_audioldm, load_clap, load_clip
    from .loading import load_audio_to_image, load_tagger

    held = held_out if held_out is not None else sample_world(num_held_out, held_out_seed)
    n_gen = min(num_generate, len(held.audio))
    clip = load_clip("pocket", weights=weights, device="cpu")
    clap = load_clap("pocket", weights=weights, device="cpu")
    gen = load_audioldm("pocket", weights=weights, device="cpu")
    tagger, a2i = load_tagger(weights), load_audio_to_image(weights)

    image_embeds = clip.encode_images(list(held.images), progress=progress)
    audio_embeds = clap.encode_audio([(a, 16000) for a in held.audio], progress=progress)
    report = {
        "clip_zero_shot": zero_shot(image_embeds.embeds, held.labels,
                                    lambda p: clip.encode_text(p, progress=False).embeds, "image"),
        "clap_zero_shot": zero_shot(audio_embeds.embeds, held.labels,
                                    lambda p: clap.encode_text(p, progress=False).embeds, "audio"),
        "tagger_real": attribute_accuracy(tagger.predict(held.audio), held.labels),
    }
    first = {a: y[:n_gen] for a, y in held.labels.items()}
    conditions = {"generated_from_audio": audio_embeds.embeds[:n_gen],
                  "generated_from_text": clap.encode_text(held.audio_captions[:n_gen],
                                                          progress=False).embeds}
    for name, cond in conditions.items():
        out = generate(gen, cond, guidance_scale=guidance_scale, scheduler=scheduler,
                       num_inference_steps=num_inference_steps, progress=progress,
                       generator=torch.Generator().manual_seed(generation_seed))
        report[name] = attribute_accuracy(tagger.predict(out.waveforms), first)

    report.update(_audio_to_image_gates(a2i, held, image_embeds.embeds))
    report["settings"] = dict(num_held_out=len(held.audio), held_out_seed=held_out_seed
                              if held_out is None else None, num_generate=n_gen,
                              guidance_scale=guidance_scale, scheduler=scheduler,
                              num_inference_steps=num_inference_steps,
                              generation_seed=generation_seed)
    return {k: ({m: round(v, 4) for m, v in r.items()} if k != "settings" else r)
            for k, r in report.items()}
