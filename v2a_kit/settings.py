"""Settings records: what a generation accepts, written once, checked in one place.

- :class:`Rule`: what one numeric setting accepts (an integer or a finite number in a range,
  ``None`` where it means "the default"); :meth:`Rule.check` refuses anything else naming the
  setting, :meth:`Rule.parse` reads it from a command line with the same range.
- :class:`GenerateSettings`: a frozen, validated record of everything that decides a
  generation's sounds (``V2APipeline.__call__``'s settings; a sharded run records it);
  :meth:`GenerateSettings.check_generator` adds the ranges of one generator (the loaded one's,
  or a registered one's before it is loaded, ``preflight.GENERATOR_FACTS``).
- :data:`GENERATE_RULES`: the rule of each numeric setting, read by the record, by
  ``generation.generate`` for the settings it shares, and by ``v2a-kit generate``'s options, so
  the three refuse the same values. :data:`TRAIN_RULES`: the same for ``train.TrainConfig``
  (frozen, checked when made) and ``v2a-kit train``'s options.

Plain data and the standard library: ``v2a-kit --help`` and the preflight read it without torch.
The other workflows' records are where their code is: training ``train.TrainConfig``, the pocket
build ``pocket.build.BuildConfig``, evaluation's clip rule ``evaluation.protocol.ClipRule``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from numbers import Integral, Real

from .defaults import AGGREGATE_NAMES, DEFAULT_SCHEDULER, SCHEDULERS, TIMING_MODES
from .errors import ConfigError

__all__ = ["Rule", "GenerateSettings", "GENERATE_RULES", "TRAIN_RULES", "SEED_MAX", "check_int",
           "check_real", "check_choice", "check_steps", "updated"]

SEED_MAX = 2**63 - 1   # seeds go to torch.Generator.manual_seed (input i: seed + i)


@dataclass(frozen=True)
class Rule:
    """What one numeric setting accepts: ``kind`` (``int`` or ``float``) in ``[low, high]``
    (above ``low`` with ``above``, below ``high`` with ``below``), finite; ``None`` too where
    ``optional`` (the default).
    ``what`` says what the number counts, in refusals and ``--help``."""

    kind: type
    low: float
    high: float = math.inf
    above: bool = False
    optional: bool = False
    what: str = ""
    below: bool = False

    def wanted(self) -> str:
        """``"an integer ≥ 1 (denoising steps)"``: what a refusal says was expected."""
        noun = "an integer" if self.kind is int else "a finite number"
        if self.high != math.inf:
            top = "2**63 - 1" if self.high == SEED_MAX else f"{self.high:g}"
            rng = f"in {'(' if self.above else '['}{self.low:g}, {top}{')' if self.below else ']'}"
        else:
            rng = f"{'>' if self.above else '≥'} {self.low:g}"
        return f"{noun} {rng}" + (f" ({self.what})" if self.what else "")

    def accepts(self, v) -> bool:
        if v is None:
            return self.optional
        if isinstance(v, bool) or not isinstance(v, Integral if self.kind is int else Real):
            return False
        return (math.isfinite(v) and self.low <= v <= self.high
                and not (self.above and v == self.low) and not (self.below and v == self.high))

    def check(self, name: str, v):
        """``v`` if this rule accepts it; else a :class:`~v2a_kit.errors.ConfigError` naming
        ``name`` (a ``ValueError``, as the refusals before this record were)."""
        if not self.accepts(v):
            raise ConfigError(f"{name} must be {self.wanted()}, got {v!r}")
        return v

    def parse(self, text: str):
        """``text`` read as this rule's kind and checked: an argparse ``type`` (a refusal is a
        ``ValueError`` naming the expected range, which argparse prefixes with the option)."""
        try:
            v = self.kind(text)
        except ValueError:
            raise ValueError(f"{text!r}: expected {self.wanted()}") from None
        if not self.accepts(v):
            raise ValueError(f"{text}: expected {self.wanted()}")
        return v


def check_int(name: str, v, low: int = 1) -> int:
    """``v`` if it is an integer ≥ ``low`` (not a bool); else a ``ConfigError`` naming it."""
    return Rule(int, low).check(name, v)


def check_real(name: str, v, low: float, what: str = "", high: float = math.inf) -> float:
    """``v`` if it is a finite number in ``[low, high]``; else a ``ConfigError`` naming it."""
    return Rule(float, low, high, what=what).check(name, v)


def check_choice(name: str, v, options) -> str:
    """``v`` if it is one of ``options`` (strings); else a ``ConfigError`` listing them."""
    if not isinstance(v, str) or v not in options:
        raise ConfigError(f"{name} must be one of {sorted(options)}, got {v!r}")
    return v


def check_steps(steps: int, train_steps: int, label: str = "num_inference_steps",
                whose: str = "the") -> None:
    """Refuse more denoising steps than the noise schedule was trained with (a sampler cannot
    take more), naming ``label``."""
    if steps > train_steps:
        raise ConfigError(f"{label} {steps}: expected an integer in [1, {train_steps}] (the "
                          f"training steps of {whose} noise schedule)")


def updated(cls: type, settings, overrides: dict, what: str):
    """The record ``settings`` of dataclass ``cls`` (``None``: ``cls()``, the defaults) with
    the fields named in ``overrides`` replaced, checked again; a name that is not a field, or
    ``settings`` of another type, is refused naming it. What every settings record's ``make``
    does: a function's keyword arguments become a record."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}; expected some of {names}")
    if settings is not None and not isinstance(settings, cls):
        raise ConfigError(f"settings is a {type(settings).__name__}; expected {cls.__name__} "
                          "or None")
    return dataclasses.replace(settings or cls(), **overrides)


GENERATE_RULES = {
    "num_samples": Rule(int, 1, what="sounds per input"),
    "num_inference_steps": Rule(int, 1, optional=True, what="denoising steps"),
    "guidance_scale": Rule(float, 1, what="AudioLDM's classifier-free guidance_scale; 1 = none"),
    "mapper_guidance_scale": Rule(float, 1, optional=True,
                                  what="the mapper's guidance_scale; 1 = none"),
    "num_frames": Rule(int, 1, what="video frames per segment"),
    "seed": Rule(int, 0, SEED_MAX, what="a seed"),
    "audio_length_in_s": Rule(float, 0, above=True, optional=True, what="seconds"),
    "batch_size": Rule(int, 1, what="waveforms per AudioLDM call"),
}
# train.TrainConfig's numbers (the record is in train.py, beside fit)
TRAIN_RULES = {
    "epochs": Rule(int, 1, what="an upper bound; early stopping usually ends sooner"),
    "batch_size": Rule(int, 1, what="pairs per batch"),
    "lr": Rule(float, 0, above=True, what="the peak learning rate"),
    "weight_decay": Rule(float, 0, what="AdamW's"),
    "warmup_frac": Rule(float, 0, 1, below=True, what="the fraction of steps warming up"),
    "patience": Rule(int, 1, optional=True, what="epochs; None: no early stopping"),
    "seed": Rule(int, 0, SEED_MAX, what="a seed"),
}
_CHOICES = {"scheduler": tuple(SCHEDULERS), "aggregate": AGGREGATE_NAMES, "timing": TIMING_MODES}


@dataclass(frozen=True)
class GenerateSettings:
    """Everything that decides a generation's sounds, checked when made: a value out of range
    is refused naming its field (:class:`~v2a_kit.errors.ConfigError`), never replaced.

    Attributes:
        num_samples: sounds per input. The generative mapper draws ``num_samples`` CLAP
            embeddings; the regression mapper has one, and AudioLDM's noise varies.
        num_inference_steps: AudioLDM steps; ``None`` = the scheduler's default
            (``SCHEDULERS``: 10 for DPM-Solver++, 200 for DDIM).
        guidance_scale: AudioLDM's classifier-free guidance (the paper: 2.5; 1 = none).
        scheduler: ``"dpmsolver++"`` (default, fast) or ``"ddim"`` (the paper's).
        mapper_guidance_scale: the generative mapper's guidance (ignored by regression);
            ``None``: the mapper's own default (a pocket build's is calibrated).
        num_frames: frames per video segment, reduced to one CLIP embedding by ``aggregate``
            (one of ``defaults.AGGREGATE_NAMES``; "mean" is the paper's).
        seed: input ``i`` uses ``torch.Generator().manual_seed(seed + i)``.
        audio_length_in_s: for images; ``None`` = the generator's default length. A video's
            sound always has the video's length. The generator's range is checked by
            :meth:`check_generator`.
        batch_size: waveforms denoised together.
        timing: ``"none"`` (V2A-Mapper's sound as it is) or ``"onsets"`` (each video's notes
            moved to the onsets its predictor reads from every frame).
    """

    num_samples: int = 1
    num_inference_steps: int | None = None
    guidance_scale: float = 2.5
    scheduler: str = DEFAULT_SCHEDULER
    mapper_guidance_scale: float | None = None
    num_frames: int = 8
    aggregate: str = "mean"
    seed: int = 0
    audio_length_in_s: float | None = None
    batch_size: int = 16
    timing: str = "none"

    def __post_init__(self):
        for name, rule in GENERATE_RULES.items():
            rule.check(name, getattr(self, name))
        for name, options in _CHOICES.items():
            check_choice(name, getattr(self, name), options)

    @classmethod
    def make(cls, settings: GenerateSettings | None = None, **overrides) -> GenerateSettings:
        """``settings`` (default: the defaults) with ``overrides`` replaced; a name that is not
        a setting is refused, listing the settings."""
        return updated(cls, settings, overrides, "generation")

    @property
    def steps(self) -> int:
        """The denoising steps this generation takes (the scheduler's default for ``None``)."""
        return SCHEDULERS[self.scheduler] if self.num_inference_steps is None \
            else self.num_inference_steps

    def check_generator(self, min_length_s: float, max_length_s: float,
                        train_steps: int | None = None, *, name: str = "the generator",
                        options: dict[str, str] | None = None) -> None:
        """Refuse what this generator cannot do: ``audio_length_in_s`` outside
        ``[min_length_s, max_length_s]`` (what it makes in one piece; videos are cut into
        such pieces), more steps than its noise schedule's ``train_steps``. ``options`` renames
        the fields in the messages (the command line's ``--length``, ``--steps``)."""
        say = {"audio_length_in_s": "audio_length_in_s", "num_inference_steps":
               "num_inference_steps", **(options or {})}
        if train_steps is not None:
            check_steps(self.steps, train_steps, say["num_inference_steps"], f"{name}'s")
        length = self.audio_length_in_s
        if length is not None and not min_length_s <= length <= max_length_s:
            raise ConfigError(f"{say['audio_length_in_s']} {length:g}: expected seconds in "
                              f"[{min_length_s:g}, {max_length_s:g}] (what {name} makes in one "
                              "piece; videos get their own length)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
