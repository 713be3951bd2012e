"""A 2-D example with several right answers per input: the regression mapper lands between
them, the diffusion prior samples them (notebook 04 shows it before the pocket world's CLAP).

The kit normalises every embedding to the unit sphere; in two dimensions the sphere is the
circle, so an embedding is a direction, an angle. Here an **input** (the "CLIP" side) is a
direction θ drawn uniformly, and each of its **targets** (the "CLAP" side) is θ turned by one of
K offsets ``spec.offsets_deg``, chosen with the known proportions ``spec.weights``, plus a small
Gaussian jitter of ``spec.noise_deg`` in angle. One input thus has K well-separated modes.

- A regression mapper trained with the kit's loss (MSE between unit vectors) learns the
  conditional mean direction ``normalize(Σ_k w_k · e^{i o_k})`` turned by θ
  (``spec.mean_offset_deg``): between the modes, on none of them.
- A diffusion prior learns p(target | input) and samples its modes in their proportions.

:func:`sample_modes` draws the pairs (deterministic from a seed); :func:`train_mappers` trains
both mappers from their named configs (``regression-2d``, ``diffusion-2d``) with the kit's own
:func:`v2a_kit.train.fit`; :func:`draw` maps held-out inputs through both and draws fresh
data targets for them; :func:`measure` turns those draws into numbers; :func:`run_example` does
all four. ``v2a_kit.viz.plot_modes`` draws the figure. This module is imported on its own
(``from v2a_kit.datasets import modes``): it trains models, the rest of ``datasets`` only reads
files.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import ConfigError
from ..spaces import Embeddings, Space, check_same_space
from ..train import Pairs

__all__ = ["ModeSpec", "ModeData", "TrainedMappers", "ModeDraws", "ModeExample", "CLIP_SPACE",
           "CLAP_SPACE", "CONFIGS", "SIZES", "sample_modes", "directions", "angles_of",
           "wrap_deg", "train_mappers", "draw", "measure", "run_example"]

# Both sides are exact directions, not a model's output: the spaces name the example.
CLIP_SPACE = Space("clip", "2d-example/input-direction", "exact", 2)
CLAP_SPACE = Space("clap", "2d-example/target-direction", "exact", 2)
CONFIGS = {"regression": "regression-2d", "diffusion": "diffusion-2d"}   # named mapper configs
# training pairs drawn and the epochs that run (None: the config's); FAST, the notebooks' smoke
# mode, trains on fewer for fewer.
SIZES = {"full": {"num_pairs": 8192, "epochs": None},
         "fast": {"num_pairs": 4096, "epochs": 16}}
MIN_SEPARATION_NOISE = 6.0   # modes at least this many noise widths apart ("well separated")
ON_MODE_NOISE = 3.0          # a direction within this many noise widths of a mode is on it
MIN_MEAN_LENGTH = 0.05       # |Σ w_k e^{i o_k}| below this: the mean has no direction


def wrap_deg(a) -> np.ndarray:
    """Angles in degrees wrapped to [−180, 180)."""
    return (np.asarray(a, dtype=np.float64) + 180.0) % 360.0 - 180.0


def directions(angles_deg, space: Space) -> Embeddings:
    """Unit 2-D vectors (cos, sin) of ``angles_deg`` as :class:`Embeddings` of ``space``."""
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64).reshape(-1))
    if not np.isfinite(a).all():
        raise ConfigError("angles_deg has NaN or inf values; expected finite angles in degrees")
    return Embeddings(torch.tensor(np.stack([np.cos(a), np.sin(a)], 1), dtype=torch.float32),
                      space)


def angles_of(embeds) -> np.ndarray:
    """The angles (degrees, [−180, 180)) of 2-D vectors: (n, 2) array, tensor or Embeddings."""
    x = embeds.embeds if isinstance(embeds, Embeddings) else embeds
    x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ConfigError(f"embeds has shape {x.shape}; expected (n, 2) directions in the plane")
    return wrap_deg(np.rad2deg(np.arctan2(x[:, 1], x[:, 0])))


@dataclass(frozen=True)
class ModeSpec:
    """Where the modes of one input lie and how often each is drawn.

    Attributes:
        offsets_deg: K ≥ 2 turns (degrees) from the input's direction, one per mode.
        weights: K proportions > 0 summing to 1: how often each mode is drawn.
        noise_deg: the standard deviation (degrees) of the Gaussian jitter around a mode; > 0.
            Modes must lie at least ``MIN_SEPARATION_NOISE`` noise widths apart.
    """

    offsets_deg: tuple = (-60.0, 60.0)
    weights: tuple = (0.6, 0.4)
    noise_deg: float = 6.0

    def __post_init__(self):
        offsets = _floats(self.offsets_deg, "offsets_deg")
        weights = _floats(self.weights, "weights")
        object.__setattr__(self, "offsets_deg", offsets)
        object.__setattr__(self, "weights", weights)
        if len(offsets) < 2:
            raise ConfigError(f"ModeSpec.offsets_deg={offsets}: need K ≥ 2 modes per input")
        if len(weights) != len(offsets):
            raise ConfigError(f"ModeSpec.weights has {len(weights)} entries for "
                              f"{len(offsets)} offsets_deg; need one proportion per mode")
        if min(weights) <= 0 or abs(sum(weights) - 1) > 1e-6:
            raise ConfigError(f"ModeSpec.weights={weights}: need proportions > 0 summing to 1")
        if not (isinstance(self.noise_deg, (int, float)) and math.isfinite(self.noise_deg)
                and self.noise_deg > 0):
            raise ConfigError(f"ModeSpec.noise_deg={self.noise_deg!r}: need a finite number "
                              "of degrees > 0")
        if self.separation_deg < MIN_SEPARATION_NOISE * self.noise_deg:
            raise ConfigError(
                f"ModeSpec.offsets_deg={offsets}: modes {self.separation_deg:.1f}° apart are not "
                f"well separated for noise_deg={self.noise_deg}; need ≥ "
                f"{MIN_SEPARATION_NOISE:g} × noise_deg")
        if abs(self._mean()) < MIN_MEAN_LENGTH:
            raise ConfigError(
                f"ModeSpec offsets_deg={offsets}, weights={weights}: the weighted mean of the "
                "modes' directions is (nearly) zero, so the regression target has no direction")

    @property
    def num_modes(self) -> int:
        return len(self.offsets_deg)

    @property
    def separation_deg(self) -> float:
        """The smallest angle between two modes (degrees)."""
        o = np.asarray(self.offsets_deg)
        d = np.abs(wrap_deg(o[:, None] - o[None, :]))
        return float(d[~np.eye(len(o), dtype=bool)].min())

    @property
    def on_mode_deg(self) -> float:
        """How near a mode (degrees) a direction must be to count as on it."""
        return ON_MODE_NOISE * self.noise_deg

    def _mean(self) -> complex:
        return complex(sum(w * np.exp(1j * np.deg2rad(o))
                           for w, o in zip(self.weights, self.offsets_deg)))

    @property
    def mean_offset_deg(self) -> float:
        """The conditional mean direction's turn from the input: what regression learns (the
        Gaussian jitter, symmetric, shortens the mean but does not turn it)."""
        return float(wrap_deg(np.rad2deg(np.angle(self._mean()))))

    def nearest_mode(self, offset_deg) -> tuple[np.ndarray, np.ndarray]:
        """For turns from the input (degrees): the nearest mode's index and the angle to it."""
        d = np.abs(wrap_deg(np.asarray(offset_deg)[..., None] - np.asarray(self.offsets_deg)))
        return d.argmin(-1), d.min(-1)

    def to_dict(self) -> dict:
        return {"offsets_deg": list(self.offsets_deg), "weights": list(self.weights),
                "noise_deg": float(self.noise_deg)}


def _floats(values, name: str) -> tuple:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ConfigError(f"ModeSpec.{name}={values!r}: expected a sequence of numbers") from None
    if not all(math.isfinite(v) for v in out):
        raise ConfigError(f"ModeSpec.{name}={values!r}: expected finite numbers")
    return out


def _check_count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name}={value!r}; expected an int ≥ {minimum}")
    return int(value)


@dataclass
class ModeData:
    """Pairs of the example: ``pairs.clip`` the inputs' directions, ``pairs.clap`` the targets'.

    Attributes:
        input_deg, target_deg: (n,) angles in degrees; ``mode``: (n,) the mode each target was
        drawn from; ``spec``: the :class:`ModeSpec`; ``pairs``: the :class:`~v2a_kit.train.Pairs`.
    """

    input_deg: np.ndarray
    mode: np.ndarray
    target_deg: np.ndarray
    spec: ModeSpec
    pairs: Pairs

    def __len__(self) -> int:
        return len(self.input_deg)


def sample_modes(num_pairs: int, spec: ModeSpec | None = None, seed: int = 0,
                 input_deg=None) -> ModeData:
    """Draw ``num_pairs`` (input, target) pairs; the same seed gives the same pairs.

    Args:
        spec: the modes (default :class:`ModeSpec`).
        input_deg: the inputs' angles (degrees), one per pair; ``None`` draws them uniformly.
    """
    spec = ModeSpec() if spec is None else spec
    if not isinstance(spec, ModeSpec):
        raise ConfigError(f"spec must be a ModeSpec, got {type(spec).__name__}")
    num_pairs = _check_count(num_pairs, "num_pairs")
    seed = _check_count(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    if input_deg is None:
        inputs = rng.uniform(-180.0, 180.0, num_pairs)
    else:
        inputs = wrap_deg(np.asarray(input_deg, dtype=np.float64).reshape(-1))
        if len(inputs) != num_pairs:
            raise ConfigError(f"input_deg has {len(inputs)} angles for num_pairs={num_pairs}")
    mode = rng.choice(spec.num_modes, size=num_pairs, p=np.asarray(spec.weights))
    target = wrap_deg(inputs + np.asarray(spec.offsets_deg)[mode]
                      + rng.normal(0.0, spec.noise_deg, num_pairs))
    pairs = Pairs(directions(inputs, CLIP_SPACE), directions(target, CLAP_SPACE))
    return ModeData(inputs, mode, target, spec, pairs)


@dataclass
class TrainedMappers:
    """Both mappers, trained on one :class:`ModeData`, and how their training went
    (``summaries[kind]``: config, parameters, pairs, epochs, last training loss, wall-clock
    ``train_s`` and process CPU ``cpu_s`` seconds)."""

    regression: object
    diffusion: object
    summaries: dict = field(default_factory=dict)


def train_mappers(data: ModeData, *, fast: bool = False, seed: int = 0,
                  progress: bool = False) -> TrainedMappers:
    """Train the kit's regression mapper and diffusion prior on all of ``data`` with the kit's
    :func:`~v2a_kit.train.fit`, each created from its named config (:data:`CONFIGS`) under
    ``seeded(seed)`` as :func:`~v2a_kit.train.train_named` does; ``SIZES["fast"]["epochs"]``
    epochs in FAST mode.

    Unlike ``train_named`` it holds out no validation pairs and keeps the last epoch: with
    several right answers per input the validation loss is dominated by the answers' own spread
    (regression cannot do better than the conditional mean, the prior's loss mixes all noise
    levels), so its minimum falls on a random early epoch, while the last epoch is the one the
    cosine schedule has annealed. The held-out check is :func:`draw` on fresh inputs.
    """
    from ..devices import seeded
    from ..mappers import create_mapper, get_config
    from ..train import TrainConfig, fit

    if not isinstance(data, ModeData):
        raise ConfigError(f"data must be the ModeData of sample_modes, got {type(data).__name__}")
    seed = _check_count(seed, "seed", 0)
    epochs = SIZES["fast" if fast else "full"]["epochs"]
    mappers, summaries = {}, {}
    for kind, name in CONFIGS.items():
        settings = {**get_config(name)["train"], "seed": seed, "progress": progress}
        if epochs is not None:
            settings["epochs"] = epochs
        settings["batch_size"] = min(settings["batch_size"], len(data))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with seeded(seed):  # initialisation and batches; the caller's random state is left alone
            mapper = create_mapper(name, CLIP_SPACE, CLAP_SPACE)
            history = fit(mapper, data.pairs, None, TrainConfig(**settings))
        mappers[kind] = mapper
        summaries[kind] = {"config": name, "parameters": mapper.num_parameters(),
                           "num_train": len(data), "epochs_run": len(history.epochs),
                           "last_train_loss": history.epochs[-1]["train_loss"],
                           "train_s": time.perf_counter() - wall0,
                           "cpu_s": time.process_time() - cpu0}
    return TrainedMappers(mappers["regression"], mappers["diffusion"], summaries)


@dataclass
class ModeDraws:
    """Held-out inputs and what each source gives for them, as angles in degrees.

    Attributes:
        input_deg: (n,) the inputs. data_deg: (n, s) fresh targets drawn from the true modes.
        regression_deg: (n,) the regression mapper's answer. diffusion_deg: (n, s) the diffusion
        prior's samples. spec: the :class:`ModeSpec` the data came from.
    """

    input_deg: np.ndarray
    data_deg: np.ndarray
    regression_deg: np.ndarray
    diffusion_deg: np.ndarray
    spec: ModeSpec

    def offsets(self, source: str) -> np.ndarray:
        """The turns from the input (degrees) of ``"data"``, ``"regression"`` or ``"diffusion"``,
        shape (n, s) (regression: s = 1)."""
        values = {"data": self.data_deg, "regression": self.regression_deg[:, None],
                  "diffusion": self.diffusion_deg}
        if source not in values:
            raise ConfigError(f"source={source!r}; expected one of {sorted(values)}")
        return wrap_deg(values[source] - self.input_deg[:, None])


def _check_mapper(mapper, kind: str) -> None:
    from ..mappers import Mapper

    if not isinstance(mapper, Mapper) or mapper.kind != kind:
        got = getattr(mapper, "kind", None) or type(mapper).__name__
        raise ConfigError(f"{kind} must be a {kind} mapper, got {got}")
    check_same_space(CLIP_SPACE, mapper.clip_space, f"{kind} mapper reads embeddings that")
    check_same_space(CLAP_SPACE, mapper.clap_space, f"{kind} mapper writes embeddings that")


def draw(regression, diffusion, spec: ModeSpec | None = None, *, num_inputs: int = 120,
         num_samples: int = 32, seed: int = 1, **sample_kwargs) -> ModeDraws:
    """Map ``num_inputs`` held-out inputs (an evenly spaced ring of angles, not the training
    draws) through both mappers: ``num_samples`` diffusion samples per input, from
    ``torch.Generator().manual_seed(seed)``, and as many fresh data targets (seed ``seed``).

    ``sample_kwargs`` go to the diffusion prior's ``sample`` (e.g. ``num_inference_steps``;
    the default guidance is 1, sampling p(target | input) itself).
    """
    spec = ModeSpec() if spec is None else spec
    _check_mapper(regression, "regression")
    _check_mapper(diffusion, "diffusion")
    n = _check_count(num_inputs, "num_inputs")
    s = _check_count(num_samples, "num_samples")
    seed = _check_count(seed, "seed", 0)
    inputs = wrap_deg((np.arange(n) + 0.5) * 360.0 / n)
    clip = directions(inputs, CLIP_SPACE)
    reg = angles_of(regression.map(clip))
    dif = angles_of(diffusion.map(clip, num_samples=s,
                                  generator=torch.Generator().manual_seed(seed),
                                  **sample_kwargs)).reshape(n, s)
    data = sample_modes(n * s, spec, seed=seed, input_deg=np.repeat(inputs, s))
    return ModeDraws(inputs, data.target_deg.reshape(n, s), reg, dif, spec)


def _spread_deg(offsets: np.ndarray) -> float:
    """Mean angle (degrees) between two different samples of one input, averaged over inputs."""
    s = offsets.shape[1]
    if s < 2:
        return 0.0
    d = np.abs(wrap_deg(offsets[:, :, None] - offsets[:, None, :]))
    return float(d.sum((1, 2)).mean() / (s * (s - 1)))


def _source_numbers(offsets: np.ndarray, spec: ModeSpec) -> dict:
    idx, dist = spec.nearest_mode(offsets)
    on = dist <= spec.on_mode_deg
    counts = np.stack([(idx == k) & on for k in range(spec.num_modes)]).sum((1, 2))
    props = counts / max(1, on.sum())
    covered = np.stack([((idx == k) & on).any(1) for k in range(spec.num_modes)]).sum(0)
    return {
        "dist_to_nearest_mode_deg": float(dist.mean()),
        "on_mode_fraction": float(on.mean()),
        "mode_proportions": [float(p) for p in props],
        "proportion_error": float(np.abs(props - np.asarray(spec.weights)).max()),
        "inputs_with_2_modes_fraction": float((covered >= 2).mean()),
        "spread_deg": _spread_deg(offsets),
        "within_mode_spread_deg": float(np.sqrt((dist[on] ** 2).mean())) if on.any() else None,
    }


def measure(draws: ModeDraws) -> dict:
    """The example's numbers, computed from ``draws``; JSON-able.

    - ``mode_separation_deg``: the angle between the closest two modes; ``on_mode_deg``: how
      near a mode counts as on it (``ON_MODE_NOISE`` noise widths);
      ``conditional_mean_offset_deg``: where the conditional mean points (turn from the input).
    - per source (``data``, ``regression``, ``diffusion``): the mean angle to the nearest mode,
      the fraction of answers on a mode, the proportions of the on-mode answers per mode and
      their largest error against ``spec.weights`` (compare with the data's own, a sampling
      error of the same count), the fraction of inputs with answers on ≥ 2 modes, and the
      within-input spread (mean angle between two answers for one input; 0 for regression)
      and the within-mode spread (root mean square angle of the on-mode answers to their mode,
      ``None`` without any; the data's is about ``spec.noise_deg``).
    - ``regression_to_conditional_mean_deg``: mean angle between the regression answer and the
      conditional mean direction; ``regression_between_modes_fraction``: inputs whose
      regression answer is on no mode.
    """
    if not isinstance(draws, ModeDraws):
        raise ConfigError(f"draws must be the ModeDraws of draw(), got {type(draws).__name__}")
    spec = draws.spec
    out = {"spec": spec.to_dict(), "num_inputs": len(draws.input_deg),
           "num_samples": int(draws.diffusion_deg.shape[1]),
           "mode_separation_deg": spec.separation_deg, "on_mode_deg": spec.on_mode_deg,
           "conditional_mean_offset_deg": spec.mean_offset_deg}
    for source in ("data", "regression", "diffusion"):
        out[source] = _source_numbers(draws.offsets(source), spec)
    reg = draws.offsets("regression")[:, 0]
    out["regression_to_conditional_mean_deg"] = float(
        np.abs(wrap_deg(reg - spec.mean_offset_deg)).mean())
    out["regression_between_modes_fraction"] = float(
        (spec.nearest_mode(reg)[1] > spec.on_mode_deg).mean())
    return out


@dataclass
class ModeExample:
    """Everything :func:`run_example` made: data, mappers (with ``summaries``), draws, numbers."""

    data: ModeData
    mappers: TrainedMappers
    draws: ModeDraws
    numbers: dict


def run_example(fast: bool = False, seed: int = 0, spec: ModeSpec | None = None,
                progress: bool = False) -> ModeExample:
    """Draw the pairs (seed ``seed``), train both mappers, draw held-out answers (seed
    ``seed + 1``) and measure them; ``numbers["train"]`` holds the training times."""
    size = SIZES["fast" if fast else "full"]
    data = sample_modes(size["num_pairs"], spec, seed=seed)
    mappers = train_mappers(data, fast=fast, seed=seed, progress=progress)
    draws = draw(mappers.regression, mappers.diffusion, data.spec, seed=seed + 1)
    numbers = measure(draws)
    numbers["train"] = {kind: {k: mappers.summaries[kind][k] for k in
                               ("config", "parameters", "num_train", "epochs_run",
                                "last_train_loss", "train_s", "cpu_s")}
                        for kind in CONFIGS}
    numbers["fast"] = bool(fast)
    return ModeExample(data, mappers, draws, numbers)
