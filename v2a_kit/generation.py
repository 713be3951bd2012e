"""AudioLDM conditioned on CLAP embeddings: CLAP embedding -> waveform.

``load_audioldm`` (:mod:`v2a_kit.registry`) returns an :class:`AudioLDMGenerator` (the
diffusers/transformers components of an AudioLDM and the CLAP :class:`~v2a_kit.spaces.Space` its
conditioning lives in); ``generate`` runs a short denoising loop over them. The loop follows
diffusers' ``AudioLDMPipeline`` (``pipelines/deprecated/audioldm/pipeline_audioldm.py``,
deprecated since diffusers 0.33 but equivalent: ``tests/test_generation.py`` checks the two give
the same audio), with CLAP embeddings as the only input: AudioLDM feeds them to the UNet as
``class_labels`` (a "simple_projection" FiLM embedding), not through cross-attention.
``check_space`` tells whether a CLAP encoder and a generator share a space.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .defaults import PEAK_LIMIT, SCHEDULERS
from .errors import ConfigError, EmbeddingError, PeakLimitWarning, SpaceMismatchError
from .errors import warn as kit_warn
from .settings import GENERATE_RULES, check_int, check_real, check_steps
from .spaces import Embeddings, Space, check_same_space, validate_embeds

__all__ = ["AudioLDMGenerator", "GenerationOutput", "SpaceCheck", "generate", "encode_prompt",
           "make_scheduler", "check_space", "limit_peaks", "PeakReport", "peak_warnings_off",
           "SCHEDULERS",
           "DEFAULT_PROMPTS",
           "SPACE_AGREEMENT_THRESHOLD"]

SPACE_AGREEMENT_THRESHOLD = 0.99
DEFAULT_PROMPTS = ("a dog barks", "rain falls on a tin roof", "a man speaks", "a piano melody",
                   "a car engine revs", "birds chirp in a forest", "a bell rings",
                   "applause from a crowd")


@dataclass
class AudioLDMGenerator:
    """The components of an AudioLDM and the CLAP space it is conditioned in.

    Attributes:
        unet: ``UNet2DConditionModel`` with ``class_embed_type="simple_projection"``; its
            ``projection_class_embeddings_input_dim`` is ``space.dim``.
        vae: ``AutoencoderKL`` on log-mel spectrograms (1 channel).
        vocoder: transformers ``SpeechT5HifiGan`` (mel -> waveform).
        text_encoder: ``ClapTextModelWithProjection``, the text tower of the generator's own CLAP.
        tokenizer: its RoBERTa tokenizer.
        scheduler: the scheduler it was trained with (DDIM for the paper); ``generate`` builds
            a fresh one from its config on every call.
        space: the CLAP space of the conditioning embeddings.
        sampling_rate: of the output waveforms (16 kHz for AudioLDM).
        vae_scale_factor: mel frames (and bins) per latent frame.

    Its facts, asked of it rather than recomputed: :attr:`default_length_s`,
    :attr:`min_length_s`, :attr:`max_length_s` and :meth:`default_steps`.
    """

    unet: torch.nn.Module
    vae: torch.nn.Module
    vocoder: torch.nn.Module
    text_encoder: torch.nn.Module
    tokenizer: object
    scheduler: object
    space: Space
    device: torch.device
    dtype: torch.dtype
    sampling_rate: int
    vae_scale_factor: int
    name: str = ""
    source: dict = field(default_factory=dict)
    # The longest sound it is asked for in one go, where that is not default_length_s: the
    # registry's entry says (AudioLDM-S: 10.24 s, the clips it was trained on; the paper
    # generates 10 s). Longer videos are generated in segments (pipeline.py).
    length_limit_s: float | None = None
    # Its default for generate's guidance_rescale (0 = plain guidance, AudioLDM's): the
    # registry's entry says; pocket-AudioLDM's is measured to keep guided sounds as loud as real.
    guidance_rescale: float = 0.0
    _empty_prompt_embed: torch.Tensor | None = field(default=None, repr=False)

    @property
    def seconds_per_frame(self) -> float:
        """Seconds of audio per mel frame (the pipeline's ``vocoder_upsample_factor``)."""
        return np.prod(self.vocoder.config.upsample_rates) / self.vocoder.config.sampling_rate

    @property
    def min_length_s(self) -> float:
        """The shortest sound: one latent frame (``vae_scale_factor`` mel frames)."""
        return self.seconds_per_frame * self.vae_scale_factor

    @property
    def default_length_s(self) -> float:
        """The length its UNet's ``sample_size`` stands for, what it was trained on (5.12 s
        for AudioLDM-S, 1.0 s for pocket-AudioLDM): ``generate``'s default."""
        return self.unet.config.sample_size * self.vae_scale_factor * self.seconds_per_frame

    @property
    def max_length_s(self) -> float:
        """The longest sound it generates in one piece: ``length_limit_s`` where its registry
        entry sets one (10.24 s for AudioLDM-S), else :attr:`default_length_s`."""
        return float(self.length_limit_s or self.default_length_s)

    @staticmethod
    def default_steps(scheduler="dpmsolver++") -> int:
        """Denoising steps when none are given: ``SCHEDULERS[scheduler]`` (10 for DPM-Solver++,
        200 for DDIM, the paper's); 25 for a scheduler instance or a name it does not know
        (which ``generate`` then refuses)."""
        return SCHEDULERS.get(scheduler, 25) if isinstance(scheduler, str) else 25


@dataclass
class GenerationOutput:
    """waveforms: (b * num_waveforms_per_prompt, samples) float32; rows of one prompt adjacent.
    peaks: what the peak limit did to them (:class:`PeakReport`, without its audio)."""

    waveforms: np.ndarray
    sampling_rate: int
    peaks: PeakReport | None = field(default=None, repr=False)


# --- text prompts and schedulers -------------------------------------------------------------
@torch.no_grad()
def encode_prompt(model: AudioLDMGenerator, prompts) -> Embeddings:
    """Prompts -> the generator's own CLAP text embeddings, (n, d) L2-normalised, in its space.

    Tokenised and normalised as ``AudioLDMPipeline._encode_prompt`` does, so that
    ``generate(model, encode_prompt(model, texts))`` is the pipeline's text-to-audio.
    """
    items = [prompts] if isinstance(prompts, str) else list(prompts)
    if not items or not all(isinstance(t, str) for t in items):
        raise ValueError("prompts must be a string or a non-empty list of strings")
    out = []
    for i in range(0, len(items), 32):
        tok = model.tokenizer(items[i:i + 32], padding="max_length", truncation=True,
                              max_length=model.tokenizer.model_max_length, return_tensors="pt")
        res = model.text_encoder(tok.input_ids.to(model.device),
                                 attention_mask=tok.attention_mask.to(model.device))
        out.append(F.normalize(res.text_embeds.float(), dim=-1).cpu())
    return Embeddings(torch.cat(out), model.space, items)


def make_scheduler(name: str, base_config):
    """A fresh scheduler built from ``base_config`` (the generator's ``scheduler.config``).

    ``"ddim"``: the paper's sampler (200 steps). ``"dpmsolver++"``: multistep DPM-Solver++
    (Lu et al. 2022), second order, for few-step sampling with the same noise schedule.
    """
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler
    if name == "ddim":
        return DDIMScheduler.from_config(base_config)
    if name == "dpmsolver++":
        return DPMSolverMultistepScheduler.from_config(base_config, algorithm_type="dpmsolver++")
    raise ConfigError(f"scheduler must be one of {sorted(SCHEDULERS)}, got {name!r}")


def _negative_embed(model: AudioLDMGenerator) -> torch.Tensor:
    # The CLAP text embedding of "" is AudioLDM's unconditional embedding (as in the original).
    if model._empty_prompt_embed is None:
        model._empty_prompt_embed = encode_prompt(model, [""]).embeds
    return model._empty_prompt_embed


# --- generation --------------------------------------------------------------------------------
def check_inputs(model, clap_embed, negative_clap_embed, num_inference_steps, guidance_scale,
                 audio_length_in_s, num_waveforms_per_prompt, eta=0.0, scheduler="ddim",
                 generator=None):
    """Refuse every bad input with an error naming it; return (clap_embed, negative) normalised.

    Un-normalised embeddings are L2-normalised on purpose: AudioLDM was trained on unit-norm CLAP
    embeddings, and the pipeline normalises the text embeddings it computes ("additional L_2
    normalization over each hidden-state" in ``AudioLDMPipeline._encode_prompt``); it passes a
    caller's ``prompt_embeds`` through unchanged, which would condition on an off-sphere vector.
    """
    d = model.space.dim
    for name, x in (("clap_embed", clap_embed), ("negative_clap_embed", negative_clap_embed)):
        if isinstance(x, Embeddings):
            check_same_space(model.space, x.space, name)
    embeds = validate_embeds(clap_embed, d, "clap_embed", normalize=True)
    neg = None
    if negative_clap_embed is not None:
        neg = validate_embeds(negative_clap_embed, d, "negative_clap_embed", normalize=True)
        if len(neg) not in (1, len(embeds)):
            raise EmbeddingError(f"negative_clap_embed has {len(neg)} rows; need 1 or "
                                 f"{len(embeds)} (one per row of clap_embed)")
    GENERATE_RULES["num_inference_steps"].check("num_inference_steps", num_inference_steps)
    check_steps(num_inference_steps, model.scheduler.config.num_train_timesteps)
    check_int("num_waveforms_per_prompt", num_waveforms_per_prompt)
    if isinstance(generator, list) and len(generator) != len(embeds) * num_waveforms_per_prompt:
        raise ValueError(f"generator is a list of {len(generator)}; need one per waveform "
                         f"({len(embeds) * num_waveforms_per_prompt})")
    # Like the pipeline, guidance applies only above 1; below 1 would silently mean 1.
    GENERATE_RULES["guidance_scale"].check("guidance_scale", guidance_scale)
    check_real("eta", eta, 0.0, "DDIM's eta; 0 = deterministic", high=1.0)
    # From one latent frame up, as AudioLDMPipeline: no upper bound here, because the pipeline
    # generates a long video's segments a crossfade longer than the generator's max_length_s
    # (a request's length is checked against it by GenerateSettings.check_generator).
    check_real("audio_length_in_s", audio_length_in_s, model.min_length_s,
               "seconds; the shortest is one latent frame")
    if not (scheduler in SCHEDULERS if isinstance(scheduler, str) else
            hasattr(scheduler, "set_timesteps") and hasattr(scheduler, "step")):
        raise ConfigError(f"scheduler must be one of {sorted(SCHEDULERS)} or a diffusers "
                          f"scheduler instance, got {scheduler!r}")
    if model.vocoder.config.model_in_dim % model.vae_scale_factor:
        raise ConfigError(f"the vocoder's {model.vocoder.config.model_in_dim} mel bins are not "
                          f"divisible by the VAE scale factor {model.vae_scale_factor}")
    return embeds, neg


@torch.no_grad()
def generate(model: AudioLDMGenerator, clap_embed, *, num_inference_steps: int | None = None,
             guidance_scale: float = 2.5, audio_length_in_s: float | None = None,
             num_waveforms_per_prompt: int = 1, generator=None, scheduler="dpmsolver++",
             negative_clap_embed=None, latents: torch.Tensor | None = None, eta: float = 0.0,
             guidance_rescale: float | None = None, peak_limit: float | None = PEAK_LIMIT,
             progress: bool | None = None) -> GenerationOutput:
    """Waveforms from CLAP embeddings (diffusers' argument names and defaults).

    **No clipping**: a waveform whose peak exceeds ``peak_limit`` (0.99 of full scale) is scaled
    down as a whole to peak at ``peak_limit``, and a :class:`~v2a_kit.errors.PeakLimitWarning`
    says how many waveforms and samples would have clipped (``out.peaks`` holds the counts).
    Scaling keeps the sound undistorted (a wav writer or a player would instead flatten every
    sample past full scale, which is heard as clicks); it makes such a sound quieter than asked,
    the lesser harm. Real pocket sounds stay well below full scale, but guided sampling makes
    pocket-AudioLDM's sounds louder than real ones and some of them overshoot; nearly all do
    for a picture the pocket world does not know, such as a photo.

    Args:
        clap_embed: (b, d) in the generator's space (an ``Embeddings`` in another space is
            refused); L2-normalised here if it is not (see ``check_inputs``).
        num_inference_steps: ``None`` = ``SCHEDULERS[scheduler]``: 200 for "ddim" (the paper),
            10 for "dpmsolver++"; 25 for a scheduler instance.
        guidance_scale: classifier-free guidance weight w, eps = eps_u + w (eps_c - eps_u);
            1 = none. The paper uses 2.5.
        audio_length_in_s: ``None`` = the UNet's ``sample_size`` (5.12 s for AudioLDM-S). Rounded
            up to whole latent frames for denoising, then cut back, as the pipeline does.
        generator: ``torch.Generator`` (or a list, one per waveform): the only randomness.
        scheduler: "dpmsolver++" (fast, default), "ddim" (the paper's) or a scheduler instance.
        negative_clap_embed: (1 or b, d) unconditional embedding; ``None`` = the generator's CLAP
            text embedding of "" (what the original AudioLDM uses).
        latents: initial noise (b * num_waveforms_per_prompt, C, frames / f, mels / f).
        eta: DDIM's eta (ignored by other schedulers).
        guidance_rescale: φ in [0, 1] of Lin et al. 2023 ("Common diffusion noise schedules and
            sample steps are flawed", §3.4; diffusers' ``guidance_rescale``): the guided
            prediction is rescaled to the conditional prediction's standard deviation and mixed,
            ``φ · rescaled + (1 − φ) · guided``, which stops guidance from inflating the
            latents (heard as sounds louder than real ones). ``None`` = the generator's own
            default (``model.guidance_rescale``: 0 for AudioLDM-S, as its pipeline).
        peak_limit: the largest absolute sample value returned; ``None`` returns the vocoder's
            output as it is (as ``AudioLDMPipeline`` does).
        progress: show a progress bar; ``None`` = when more than 10 steps.
    Returns:
        GenerationOutput with waveforms (b * num_waveforms_per_prompt, samples) float32.
    """
    steps = model.default_steps(scheduler) if num_inference_steps is None else num_inference_steps
    if guidance_rescale is None:
        guidance_rescale = model.guidance_rescale
    check_real("guidance_rescale", guidance_rescale, 0.0, "0 = plain guidance", high=1.0)
    if audio_length_in_s is None:
        audio_length_in_s = model.default_length_s
    # 1. Check inputs
    embeds, neg = check_inputs(model, clap_embed, negative_clap_embed, steps, guidance_scale,
                               audio_length_in_s, num_waveforms_per_prompt, eta, scheduler,
                               generator)
    # 2. Define call parameters; 3. the conditioning, with the unconditional rows for guidance
    do_classifier_free_guidance = guidance_scale > 1.0
    class_labels = _class_labels(model, embeds, neg, num_waveforms_per_prompt,
                                 do_classifier_free_guidance)
    # 4. Timesteps, on a fresh scheduler unless the caller gave one
    if isinstance(scheduler, str):
        scheduler = make_scheduler(scheduler, model.scheduler.config)
    scheduler.set_timesteps(steps, device=model.device)
    # 5. Latent variables
    latents = _initial_latents(model, scheduler, len(embeds) * num_waveforms_per_prompt,
                               _latent_frames(model, audio_length_in_s), latents, generator)
    # 6.-7. The denoising loop
    show = steps > 10 if progress is None else progress
    latents = _denoise(model, scheduler, latents, class_labels, guidance_scale, eta, generator,
                       show, guidance_rescale)
    # 8. Post-processing: latents -> log-mel (VAE) -> waveform (vocoder), cut to length
    mel = model.vae.decode(latents / model.vae.config.scaling_factor).sample
    audio = model.vocoder(mel.squeeze(1)).cpu().float()
    peaks = limit_peaks(audio[:, :round(audio_length_in_s * model.sampling_rate)], peak_limit)
    peaks.warn()
    return GenerationOutput(peaks.audio.numpy(), model.sampling_rate, peaks)


@contextlib.contextmanager
def peak_warnings_off():
    """No :class:`~v2a_kit.errors.PeakLimitWarning` inside (the limit still applies): for code
    that generates in many batches and reports once, or measures many sounds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PeakLimitWarning)
        yield


def limit_peaks(audio: torch.Tensor, peak_limit: float | None = PEAK_LIMIT) -> PeakReport:
    """``audio`` (n, samples) with every row whose peak exceeds ``peak_limit`` scaled down to peak
    at it (one gain per row: the sound's shape is kept), and what was done."""
    if peak_limit is None:
        return PeakReport(audio, 0, 0, len(audio), 0.0, None)
    check_real("peak_limit", peak_limit, 1e-6, "a fraction of full scale", high=1.0)
    peaks = audio.abs().amax(dim=1)
    over = peaks > peak_limit
    highest = float(peaks.max()) if len(peaks) else 0.0
    if not bool(over.any()):
        return PeakReport(audio, 0, 0, len(audio), highest, peak_limit)
    beyond = int((audio[over].abs() > 1.0).sum())
    scale = torch.where(over, peak_limit / peaks.clamp_min(1e-12), torch.ones_like(peaks))
    return PeakReport(audio * scale.unsqueeze(1), int(over.sum()), beyond, len(audio), highest,
                      peak_limit)


@dataclass
class PeakReport:
    """What :func:`limit_peaks` did: the limited ``audio``, how many of ``total`` sounds it
    scaled down, how many samples were beyond full scale, the highest peak before."""

    audio: torch.Tensor
    num_limited: int
    samples_beyond_full_scale: int
    total: int
    highest_peak: float
    peak_limit: float | None

    def warn(self, stacklevel: int | None = None) -> None:
        """A :class:`~v2a_kit.errors.PeakLimitWarning` saying so, if any sound was scaled;
        attributed to the kit's line the caller's code called (:func:`v2a_kit.errors.warn`;
        ``stacklevel`` is ignored, kept for callers that pass it)."""
        if not self.num_limited:
            return
        hint = (" Most did: sounds this loud usually come from inputs unlike the generator's "
                "training data (the pocket preset knows only the pocket world's pictures; real "
                "photos need the paper preset)." if 2 * self.num_limited > self.total else "")
        kit_warn(
            f"{self.num_limited} of {self.total} generated sounds peaked above "
            f"{self.peak_limit:g} of full scale (highest {self.highest_peak:.2f}; "
            f"{self.samples_beyond_full_scale} samples beyond full scale would have clipped): "
            f"each was scaled down to peak at {self.peak_limit:g}.{hint}", PeakLimitWarning)

    def __add__(self, other: PeakReport) -> PeakReport:
        """The totals of two reports (the audio of neither)."""
        return PeakReport(None, self.num_limited + other.num_limited,
                          self.samples_beyond_full_scale + other.samples_beyond_full_scale,
                          self.total + other.total, max(self.highest_peak, other.highest_peak),
                          self.peak_limit if self.peak_limit is not None else other.peak_limit)


def _latent_frames(model: AudioLDMGenerator, audio_length_in_s: float) -> int:
    """Mel frames to denoise for ``audio_length_in_s``, a whole number of latent frames.

    The pipeline truncates (int(0.29 / 0.01) = 28 frames: 4512 samples for 4640 asked); we
    round up, ignoring float noise, so the audio is never shorter than asked.
    """
    height = math.ceil(audio_length_in_s / model.seconds_per_frame - 1e-6)
    if height % model.vae_scale_factor != 0:
        height = math.ceil(height / model.vae_scale_factor) * model.vae_scale_factor
    return height


def _class_labels(model: AudioLDMGenerator, embeds: torch.Tensor, neg, num_waveforms: int,
                  guided: bool) -> torch.Tensor:
    """Each row repeated ``num_waveforms`` times; with guidance, the negative rows first."""
    labels = embeds.to(model.device, model.dtype).repeat_interleave(num_waveforms, 0)
    if not guided:
        return labels
    neg = _negative_embed(model) if neg is None else neg
    neg = neg.to(model.device, model.dtype).expand(len(embeds), -1)
    return torch.cat([neg.repeat_interleave(num_waveforms, 0), labels])


def _initial_latents(model: AudioLDMGenerator, scheduler, n: int, height: int, latents,
                     generator) -> torch.Tensor:
    """The caller's ``latents`` (checked) or fresh noise, scaled by the scheduler's sigma."""
    from diffusers.utils.torch_utils import randn_tensor
    shape = (n, model.unet.config.in_channels, height // model.vae_scale_factor,
             int(model.vocoder.config.model_in_dim) // model.vae_scale_factor)
    if latents is None:
        latents = randn_tensor(shape, generator=generator, device=model.device,
                               dtype=model.dtype)
    elif tuple(latents.shape) != shape:
        raise ValueError(f"latents must have shape {shape}, got {tuple(latents.shape)}")
    return latents.to(model.device, model.dtype) * scheduler.init_noise_sigma


def _denoise(model: AudioLDMGenerator, scheduler, latents, class_labels, guidance_scale: float,
             eta: float, generator, show: bool, guidance_rescale: float = 0.0) -> torch.Tensor:
    """The denoising loop: eps = eps_u + w (eps_c - eps_u) when guided (rescaled towards eps_c's
    spread by ``guidance_rescale``), then a scheduler step (which takes DDIM's eta and the
    generator where it accepts them)."""
    guided = guidance_scale > 1.0
    accepted = inspect.signature(scheduler.step).parameters
    extra_step_kwargs = {k: v for k, v in (("eta", eta), ("generator", generator)) if k in accepted}
    for t in tqdm(scheduler.timesteps, desc="AudioLDM", disable=not show, leave=False):
        latent_model_input = torch.cat([latents] * 2) if guided else latents
        latent_model_input = scheduler.scale_model_input(latent_model_input, t)
        noise_pred = model.unet(latent_model_input, t, encoder_hidden_states=None,
                                class_labels=class_labels).sample
        if guided:
            noise_pred_uncond, noise_pred_cond = noise_pred.chunk(2)
            noise_pred = noise_pred_uncond + guidance_scale * (noise_pred_cond - noise_pred_uncond)
            if guidance_rescale > 0:
                noise_pred = rescale_guidance(noise_pred, noise_pred_cond, guidance_rescale)
        latents = scheduler.step(noise_pred, t, latents, **extra_step_kwargs).prev_sample
    return latents


def rescale_guidance(guided: torch.Tensor, cond: torch.Tensor, phi: float) -> torch.Tensor:
    """Lin et al. 2023's rescaled guidance (diffusers' ``rescale_noise_cfg``): ``guided`` scaled
    to ``cond``'s per-sample standard deviation, mixed with ``guided`` by ``phi``."""
    dims = list(range(1, guided.ndim))
    rescaled = guided * (cond.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True))
    return phi * rescaled + (1 - phi) * guided


# --- do the CLAP encoder and the generator share a space? -----------------------------------
@dataclass
class SpaceCheck:
    """Cosines between a CLAP encoder's and a generator's text embeddings of the same prompts.

    ``agree`` when every cosine is >= ``threshold`` (0.99): the same text tower gives 1 up to
    rounding (1 - cos ~1e-7 in float32, ~1e-6 in float16, ~1e-4 in bfloat16, measured on `tiny`);
    another checkpoint of the same architecture gives clearly lower values.
    """

    prompts: list[str]
    cosines: np.ndarray
    encoder_space: Space
    generator_space: Space
    threshold: float = SPACE_AGREEMENT_THRESHOLD

    @property
    def mean_cosine(self) -> float:
        return float(self.cosines.mean())

    @property
    def agree(self) -> bool:
        return bool((self.cosines >= self.threshold).all())

    def __str__(self) -> str:
        verdict = "AGREE" if self.agree else "DISAGREE"
        lines = [f"CLAP space check: {verdict} (mean cosine {self.mean_cosine:.4f}, min "
                 f"{self.cosines.min():.4f}, threshold {self.threshold} over {len(self.prompts)} "
                 "prompts)",
                 f"  CLAP encoder: {self.encoder_space}",
                 f"  generator:    {self.generator_space}"]
        lines += [f"  {c:+.4f}  {p!r}" for p, c in zip(self.prompts, self.cosines)]
        return "\n".join(lines)


def check_space(clap_encoder, model: AudioLDMGenerator,
                prompts=DEFAULT_PROMPTS) -> SpaceCheck:
    """Does ``clap_encoder`` embed into the space ``model`` is conditioned in?

    Compares ``clap_encoder.encode_text(prompts)`` with the generator's own text encoder on the
    same prompts (~1.0 when the spaces agree). Run it once for the ``paper`` preset.
    """
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    a = clap_encoder.encode_text(prompts)
    b = encode_prompt(model, prompts)
    if a.space.dim != b.space.dim:
        raise SpaceMismatchError(f"the CLAP encoder's space {a.space} and the generator's "
                                 f"{b.space} have different dimensions: they cannot agree")
    cos = (a.embeds * b.embeds).sum(1).numpy().astype(np.float64)
    return SpaceCheck(prompts, cos, a.space, b.space)
