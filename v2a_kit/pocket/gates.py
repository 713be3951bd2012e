"""The pocket world's quality gates, measured on a build folder through the kit's own loaders.

The same function runs at the end of ``v2a-kit pocket build`` (its figures go into
``build.json``) and in the tests on the shipped weights, so what is reported is what users load:

- ``clip_zero_shot`` / ``clap_zero_shot``: zero-shot accuracy of pocket-CLIP on the four
  seen-and-heard attributes and pocket-CLAP on the five audible ones (with the heard-only
  contour), by caption ensembles over every attribute combination
  (:func:`v2a_kit.pocket.models.contrastive.zero_shot_accuracy`);
- ``tagger_real``: the pocket tagger on real held-out audio;
- ``ceiling``: the tagger on the same audio passed through pocket-AudioLDM's own decoding
  (power pooling → upsampling → Griffin-Lim): the representation ceiling of the next two;
- ``generated_from_audio``: the tagger on audio that pocket-AudioLDM generates from the
  ground-truth pocket-CLAP **audio** embeddings of held-out clips (how AudioLDM was trained);
- ``generated_from_text``: the same from pocket-CLAP **text** embeddings of the clips' audio
  captions (how AudioLDM is used for text-to-audio);
- ``loudness``: mean clip RMS of the real held-out audio and of the sound generated from its
  CLAP audio embedding at the gates' guidance, and their ratio (1 = as loud as real); sound by
  sound, the level error in dB of each generated sound against its real sound
  (:func:`v2a_kit.pocket.world.synth.level_db`: median and 90th percentile of |error|, the share
  within ± 3 dB) and the share of sounds the peak limiter had to scale down;
- ``embedding_ceiling``: what probes (:mod:`v2a_kit.pocket.models.probes`, trained on the true
  pocket-CLAP audio embeddings of world seed ``probe_seed``) read from the held-out clips' true
  embeddings: each audible attribute, all five, and the loudness (``level_within_3db``, its
  median and 90th-percentile error in dB) — the most any generator conditioned on them can get
  right; ``clip_probe`` the same for pocket-CLIP's image embeddings on the four seen-and-heard
  attributes and the loudness the picture's size sets — the most a mapper reading them can get
  right;
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

from ..errors import ConfigError
from ..evaluation.metrics import label_accuracy
from ..generation import peak_warnings_off
from .models.probes import PROBE_CLIPS, PROBE_OFFSET, fit_probes, read_probes
from .world.scenes import ATTRIBUTES, AUDIBLE, BACKGROUNDS, PocketBatch, _captions, sample_world
from .world.synth import level_db

__all__ = ["attribute_accuracy", "combo_captions", "zero_shot", "measure_gates",
           "calibrate_guidance_rescale"]


def attribute_accuracy(pred: dict[str, np.ndarray], labels: dict[str, np.ndarray],
                       attributes=ATTRIBUTES) -> dict:
    """Per-attribute accuracy of predicted value indices, and ``all`` of ``attributes`` right
    at once. The default judges the four seen-and-heard attributes (what an image determines);
    pass ``AUDIBLE`` to judge the heard-only contour too (e.g. sound made from a sound's own
    CLAP embedding). :func:`v2a_kit.evaluation.metrics.label_accuracy` with the pocket
    world's default."""
    return label_accuracy(pred, labels, attributes)


def combo_captions(kind: str):
    """The captions the zero-shot gates use per attribute combination: a function ``combo``
    (attribute -> value index) -> eight captions of that combination (templates and synonyms
    drawn with a fixed seed), in pocket-CLIP's style (``kind="image"``, backgrounds varied) or
    pocket-CLAP's (``"audio"``). The gates average the eight; its first is one plain wording."""
    def fn(combo):
        k = 8  # captions per combination (templates × synonyms drawn with a fixed seed)
        labels = {a: np.full(k, v) for a, v in combo.items()}
        bg = np.arange(k) % len(BACKGROUNDS) if kind == "image" else None
        return _captions(np.random.default_rng(0), labels, kind, background=bg)
    return fn


_combo_captions = combo_captions  # the name the kit's own modules import


@torch.no_grad()
def zero_shot(media_embeds: torch.Tensor, labels: dict[str, np.ndarray], encode_text,
              kind: str) -> dict[str, float]:
    """Zero-shot attribute accuracy of normalised ``media_embeds`` (n, d).

    Args:
        encode_text: list of captions -> (m, d) text embeddings (normalised here).
        kind: "image" (pocket-CLIP's caption style) or "audio" (pocket-CLAP's).
    """
    from .models.contrastive import combo_prompts, zero_shot_accuracy
    combos, prompts = combo_prompts(ATTRIBUTES if kind == "image" else AUDIBLE,
                                    combo_captions(kind))
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


def _probe_gates(clip, clap, held: PocketBatch, image_embeds, audio_embeds, probe_seed: int,
                 probe_clips: int) -> dict:
    """``embedding_ceiling`` (probes on pocket-CLAP audio embeddings, five attributes and the
    loudness) and ``clip_probe`` (on pocket-CLIP image embeddings, the four seen ones), trained
    on ``probe_clips`` samples of world seed ``probe_seed``, read on ``held``."""
    train = sample_world(probe_clips, probe_seed)
    clap_probes = fit_probes(clap.encode_audio([(a, 16000) for a in train.audio],
                                               progress=False).embeds, train)
    clip_probes = fit_probes(clip.encode_images(list(train.images), progress=False).embeds,
                             train, attributes=tuple(ATTRIBUTES))
    out = {}
    for key, probes, embeds in (("embedding_ceiling", clap_probes, audio_embeds),
                                ("clip_probe", clip_probes, image_embeds)):
        read = read_probes(probes, embeds, held)
        level = read.pop("level")
        out[key] = {**read, "level_within_3db": level["within_db"],
                    "level_median_abs_db": level["median_abs_db"],
                    "level_p90_abs_db": level["p90_abs_db"]}
    return out


def _rms(audio) -> float:
    """Mean over clips of each clip's RMS."""
    return float(np.sqrt((np.asarray(audio, np.float64) ** 2).mean(1)).mean())


def through_decoder(gen, audio: np.ndarray) -> np.ndarray:
    """Real audio through the generator's own decoding (its autoencoder's pooling, upsampling and
    the vocoder): the representation ceiling of every generated sound."""
    from .models.audio import log_mel
    mel = log_mel(torch.from_numpy(np.ascontiguousarray(audio))).transpose(1, 2)[:, None]
    with torch.no_grad():
        latents = gen.vae.encode(mel).latents
        decoded = gen.vae.decode(latents).sample
        return gen.vocoder(decoded.squeeze(1)).numpy()


@peak_warnings_off()
def calibrate_guidance_rescale(weights, audio: np.ndarray, grid=(0.0, 0.25, 0.5, 0.75), *,
                               labels: dict | None = None, guidance_scale: float = 2.5,
                               seed: int = 0) -> dict:
    """The ``guidance_rescale`` of ``grid`` whose guided sounds are right, sound by sound:
    generate from the pocket-CLAP audio embeddings of ``audio`` (real clips) with each φ, at
    ``guidance_scale`` and the kit's default scheduler and steps, and keep the φ with the most
    sounds that are right both in what they are and in how loud — all five audible attributes
    heard by the build's tagger as ``labels`` says (when given) and the level
    (:func:`v2a_kit.pocket.world.synth.level_db`) within ± ``LEVEL_TOLERANCE_DB`` of its own clip's.
    Ties go to the smaller median level error, then to the mean RMS nearer the clips'. A mean
    over clips would let loud sounds offset quiet ones, and rescaling that helps the level can
    cost what the sound says: each sound is judged on both.

    Returns:
        ``{"guidance_rescale": φ, "guidance_scale": ..., "right": {φ: share right on both}
        (with ``labels``), "level_error_db": {φ: median |error|}, "level_bias_db": {φ: median
        signed error}, "rms_ratio": {φ: generated / real}, "num_clips": ...}``.
    """
    from ..generation import generate
    from ..registry import load_audioldm, load_clap
    from .models.loading import load_tagger
    from .models.probes import LEVEL_TOLERANCE_DB
    if labels is not None and any(len(v) != len(audio) for v in labels.values()):
        raise ConfigError(f"labels hold {[len(v) for v in labels.values()]} values for "
                          f"{len(audio)} clips; expected one per clip")
    clap = load_clap("pocket", weights=weights, device="cpu")
    gen = load_audioldm("pocket", weights=weights, device="cpu")
    tagger = None if labels is None else load_tagger(weights)
    cond = clap.encode_audio([(a, 16000) for a in audio], progress=False).embeds
    real, real_db = _rms(audio), level_db(audio)
    ratios, errors, biases, right = {}, {}, {}, {}
    for phi in grid:
        out = generate(gen, cond, guidance_scale=guidance_scale, guidance_rescale=phi,
                       num_inference_steps=GATE_STEPS,
                       generator=torch.Generator().manual_seed(seed), progress=False)
        diff = level_db(out.waveforms) - real_db
        ok = np.abs(diff) <= LEVEL_TOLERANCE_DB
        if tagger is not None:
            heard = tagger.predict(out.waveforms)
            for a, y in labels.items():
                ok &= np.asarray(heard[a]) == np.asarray(y)
            right[float(phi)] = round(float(ok.mean()), 4)
        ratios[float(phi)] = round(_rms(out.waveforms) / real, 4)
        errors[float(phi)] = round(float(np.median(np.abs(diff))), 3)
        biases[float(phi)] = round(float(np.median(diff)), 3)
    best = min(ratios, key=lambda phi: (-right.get(phi, 0.0), errors[phi],
                                        abs(np.log(ratios[phi]))))
    return {"guidance_rescale": best, "guidance_scale": guidance_scale,
            **({"right": {str(k): v for k, v in right.items()}} if right else {}),
            "level_error_db": {str(k): v for k, v in errors.items()},
            "level_bias_db": {str(k): v for k, v in biases.items()},
            "rms_ratio": {str(k): v for k, v in ratios.items()}, "num_clips": len(audio)}


# DPM-Solver++ steps of every gate measurement: the kit's default, what a user's generate() runs
# (builds before world v2's second one measured at 25; their build.json says so)
GATE_STEPS = 10


@peak_warnings_off()  # it measures many sounds: the limit applies, unannounced
def measure_gates(weights=None, *, held_out: PocketBatch | None = None, num_held_out: int = 1000,
                  held_out_seed: int = 1000, num_generate: int = 200, guidance_scale: float = 2.5,
                  probe_seed: int = PROBE_OFFSET, probe_clips: int = PROBE_CLIPS,
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
            gates are measured with DPM-Solver++ 10 steps (``GATE_STEPS``), the kit's default,
            so they describe what a user's generate() gives; ``build.json`` records the value.
        generation_seed: seeds the generator's noise.
        probe_seed, probe_clips: the world seed and size the probes of ``embedding_ceiling`` and
            ``clip_probe`` train on (the build's seed + ``PROBE_OFFSET``; no model trains on it).
    Returns:
        a dict of gate name -> {attribute: accuracy, "all": ...} (see the module docstring),
        plus ``settings``: what was measured and how.
    """
    from ..generation import generate
    from ..registry import load_audioldm, load_clap, load_clip
    from .models.loading import load_audio_to_image, load_tagger

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
        "tagger_real": attribute_accuracy(tagger.predict(held.audio), held.labels, AUDIBLE),
    }
    first = {a: y[:n_gen] for a, y in held.labels.items()}
    decoded = through_decoder(gen, held.audio[:n_gen])
    report["ceiling"] = attribute_accuracy(tagger.predict(decoded), first, AUDIBLE)
    report.update(_probe_gates(clip, clap, held, image_embeds.embeds, audio_embeds.embeds,
                               probe_seed, probe_clips))
    conditions = {"generated_from_audio": audio_embeds.embeds[:n_gen],
                  "generated_from_text": clap.encode_text(held.audio_captions[:n_gen],
                                                          progress=False).embeds}
    for name, cond in conditions.items():
        out = generate(gen, cond, guidance_scale=guidance_scale, scheduler=scheduler,
                       num_inference_steps=num_inference_steps, progress=progress,
                       generator=torch.Generator().manual_seed(generation_seed))
        report[name] = attribute_accuracy(tagger.predict(out.waveforms), first, AUDIBLE)
        if name == "generated_from_audio":
            real, made = _rms(held.audio[:n_gen]), _rms(out.waveforms)
            err = np.abs(level_db(out.waveforms) - level_db(held.audio[:n_gen]))
            report["loudness"] = {"real_rms": real, "generated_rms": made, "ratio": made / real,
                                  "level_median_abs_db": float(np.median(err)),
                                  "level_p90_abs_db": float(np.percentile(err, 90)),
                                  "level_within_3db": float((err <= 3.0).mean()),
                                  "limited": out.peaks.num_limited / n_gen}

    report.update(_audio_to_image_gates(a2i, held, image_embeds.embeds))
    report["settings"] = dict(num_held_out=len(held.audio), held_out_seed=held_out_seed
                              if held_out is None else None, num_generate=n_gen,
                              guidance_scale=guidance_scale, guidance_rescale=gen.guidance_rescale,
                              scheduler=scheduler,
                              num_inference_steps=num_inference_steps,
                              generation_seed=generation_seed, probe_seed=probe_seed,
                              probe_clips=probe_clips)
    return {k: ({m: round(v, 4) for m, v in r.items()} if k != "settings" else r)
            for k, r in report.items()}
