"""What a probe reads from an embedding: the **embedding ceiling**.

pocket-AudioLDM is conditioned on a pocket-CLAP audio embedding, so no sound it makes can carry
more of what is audible than that embedding does. A *probe* — a small classifier (here a
one-hidden-layer MLP, sklearn's) trained on the true embeddings of real sounds of one world seed
and tested on another's — measures what the embedding keeps: each audible attribute, all five at
once, and the loudness in dB (a regressor). That reading bounds every generated system (the
oracle, generation from the true embedding, included); the other bound is the **representation
ceiling**, real audio through the generator's own decoding (:mod:`v2a_kit.pocket.gates`).

The same probes read any embedding of that space: a mapper's predicted CLAP embeddings, for
example, which says attribute by attribute what a mapper gets wrong before any sound is made
(notebook 03).

Loudness is the world's own (:func:`v2a_kit.pocket.world.loudness_db`: the size's level × the
radius factor, in dB), not a reading of the waveform, so the probe is not charged for the
hidden onsets and noise that move a reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ConfigError
from ..world.scenes import AUDIBLE, PocketBatch, loudness_db

__all__ = ["Probes", "fit_probes", "read_probes", "clap_probes", "PROBE_OFFSET", "PROBE_CLIPS",
           "LEVEL_TOLERANCE_DB"]

PROBE_OFFSET = 1500       # probes train on world seed build seed + 1500 (no model trains on it)
PROBE_CLIPS = 2048        # probe training clips
LEVEL_TOLERANCE_DB = 3.0  # a loudness reading within ± this counts as right


@dataclass
class Probes:
    """Fitted probes: ``attributes`` (name -> classifier), ``level`` (regressor of dB)."""

    attributes: dict
    level: object
    level_mean: float
    level_std: float

    def predict(self, embeds) -> dict[str, np.ndarray]:
        """(n, d) embeddings -> attribute -> (n,) value indices, and ``"level_db"`` (n,)."""
        x = _as_array(embeds)
        out = {a: m.predict(x) for a, m in self.attributes.items()}
        out["level_db"] = self.level.predict(x) * self.level_std + self.level_mean
        return out


def _as_array(embeds) -> np.ndarray:
    x = np.asarray(getattr(embeds, "embeds", embeds), dtype=np.float64)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise ConfigError(f"embeds has shape {x.shape}; expected finite (n, d) embeddings")
    return x


def fit_probes(embeds, batch: PocketBatch, attributes=tuple(AUDIBLE), seed: int = 0) -> Probes:
    """Train one MLP classifier per attribute and an MLP regressor of the loudness (dB) on
    ``embeds`` (n, d), the embeddings of ``batch``'s sounds (or images). Deterministic in
    ``seed``."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = _as_array(embeds)
    if len(x) != len(batch):
        raise ConfigError(f"embeds has {len(x)} rows but the batch holds {len(batch)} samples")
    unknown = [a for a in attributes if a not in AUDIBLE]
    if unknown:
        raise ConfigError(f"attributes {unknown} unknown; expected some of {list(AUDIBLE)}")

    def mlp(cls, **kw):
        return make_pipeline(StandardScaler(), cls(hidden_layer_sizes=(256,), max_iter=1000,
                                                   random_state=seed, **kw))

    models = {a: mlp(MLPClassifier).fit(x, batch.labels[a]) for a in attributes}
    y = loudness_db(batch)
    mean, std = float(y.mean()), float(y.std()) or 1.0
    level = mlp(MLPRegressor).fit(x, (y - mean) / std)
    return Probes(models, level, mean, std)


def read_probes(probes: Probes, embeds, batch: PocketBatch) -> dict:
    """What ``probes`` read from ``embeds`` of ``batch``'s sounds: per attribute the accuracy,
    ``all`` (every probed attribute right at once) and ``level``: the median and 90th percentile
    of |error| in dB and the share within ± ``LEVEL_TOLERANCE_DB``."""
    x = _as_array(embeds)
    if len(x) != len(batch):
        raise ConfigError(f"embeds has {len(x)} rows but the batch holds {len(batch)} samples")
    pred = probes.predict(x)
    right = {a: pred[a] == batch.labels[a] for a in probes.attributes}
    out = {a: float(r.mean()) for a, r in right.items()}
    out["all"] = float(np.all(list(right.values()), axis=0).mean())
    err = np.abs(pred["level_db"] - loudness_db(batch))
    out["level"] = {"median_abs_db": float(np.median(err)),
                    "p90_abs_db": float(np.percentile(err, 90)),
                    "within_db": float((err <= LEVEL_TOLERANCE_DB).mean())}
    return out


_CACHE: dict = {}


def clap_probes(clap, build_seed: int = 0, clips: int = PROBE_CLIPS) -> Probes:
    """The embedding ceiling's probes for ``clap`` (a pocket-CLAP ``ClapEncoder``): fitted on the
    true audio embeddings of ``clips`` samples of world seed ``build_seed + PROBE_OFFSET``, once
    per CLAP checkpoint in a process (≈ 30 s on 2 cores)."""
    key = (clap.space.checkpoint, build_seed, clips)
    if key not in _CACHE:
        from ..world.scenes import sample_world
        train = sample_world(clips, build_seed + PROBE_OFFSET)
        embeds = clap.encode_audio([(a, 16000) for a in train.audio], progress=False).embeds
        _CACHE[key] = fit_probes(embeds, train)
    return _CACHE[key]
