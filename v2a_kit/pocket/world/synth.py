"""Synthesising the pocket world's sounds: note envelopes, band-limited wavetables, noise bursts.

``v2a_kit.pocket.world._sounds`` draws the hidden audio factors (pitch, onsets, phase) with the
world's random streams and calls :func:`_synthesise` to write the clips.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .vocab import WorldConfig

_STAR = 3
_TABLE = 4096      # wavetable length (one period)


def clip_len(cfg: WorldConfig) -> int:
    return int(round(cfg.duration_s * cfg.sampling_rate))


def _note_len(cfg: WorldConfig) -> int:
    return int(round(cfg.note_s * cfg.sampling_rate))


@lru_cache(maxsize=4)
def _envelopes(cfg: WorldConfig) -> np.ndarray:
    """(4, L) amplitude envelopes: smooth bell, flat + abrupt end, pluck, percussive burst.

    All have faded by 0.8 of the slot, leaving ≥ 64 ms of silence before the next onset, so
    notes stay apart even in 4×4-pooled log-mels (40 ms frames).
    """
    x = np.arange(_note_len(cfg)) / _note_len(cfg)        # time as a fraction of the note slot
    bell = np.where(x < 0.2, 0.5 - 0.5 * np.cos(np.pi * x / 0.2),
                    0.5 + 0.5 * np.cos(np.pi * np.minimum((x - 0.2) / 0.55, 1.0)))
    flat = np.clip(np.minimum(x / 0.023, (0.68 - x) / 0.04), 0.0, 1.0)
    taper = np.clip((0.8 - x) / 0.15, 0.0, 1.0)
    pluck = np.minimum(x / 0.01, 1.0) * np.exp(-x / 0.3) * taper
    burst = np.minimum(x / 0.005, 1.0) * np.exp(-x / 0.16) * taper
    return np.stack([bell, flat, pluck, burst]).astype(np.float32)


@lru_cache(maxsize=4)
def _wavetables(cfg: WorldConfig) -> np.ndarray:
    """(shapes 0..2, registers, _TABLE + 1) one period each, band-limited per register."""
    theta = 2 * np.pi * np.arange(_TABLE + 1) / _TABLE
    tables = np.zeros((3, len(cfg.registers_hz), _TABLE + 1))
    for r, f in enumerate(cfg.registers_hz):
        highest = f * 2.0 ** (cfg.pitch_jitter_oct + cfg.contour_oct / 2)  # top of any glide
        top = max(1, int(cfg.max_partial_hz // highest))
        for k in range(1, top + 1):
            partial = np.sin(k * theta) / k
            tables[2, r] += partial                    # triangle: sawtooth-like, every harmonic
            if k % 2:
                tables[1, r] += partial                # square: odd harmonics only
        tables[0, r] = np.sin(theta)                   # circle: pure sine
    return tables.astype(np.float32)


def _glide(cfg: WorldConfig, contour: np.ndarray) -> np.ndarray:
    """(k, L) pitch factor over a note slot: 1 (steady), 2^(±contour_oct (x − ½)) (rising,
    falling), so a glide passes the note's pitch half-way through its slot."""
    x = np.arange(_note_len(cfg), dtype=np.float32) / _note_len(cfg) - 0.5
    sign = np.array([0.0, 1.0, -1.0], np.float32)[contour]
    return 2.0 ** (cfg.contour_oct * sign[:, None] * x[None, :])


def _synthesise(labels, pitch, level, onsets, phase, noise_rng, cfg: WorldConfig,
                audio: np.ndarray) -> None:
    """Write the clips into ``audio`` (m, N). Every note of a clip has the clip's pitch, glide
    (``labels["contour"]``) and loudness ``level`` (m,). Tonal notes repeat one waveform per clip
    (same phase); each star note gets fresh noise, drawn in row order so blocks stay
    prefix-stable: Gaussian low-passed noise ring-modulated by the gliding pitch, a band of
    σ = pitch × (2^noise_band_oct − 1) Hz that follows the glide."""
    sr, length = cfg.sampling_rate, _note_len(cfg)
    shape = labels["shape"]
    envelopes = _envelopes(cfg)
    rows, slots = np.nonzero(~np.isnan(onsets))
    notes = np.empty((len(rows), length), np.float32)
    # cycles of the (gliding) fundamental since the note's start, per clip: (m, L)
    freq = pitch[:, None].astype(np.float32) * _glide(cfg, labels["contour"])
    cycles = np.cumsum(freq, axis=1, dtype=np.float64) / sr - freq[:, :1] / sr

    tonal = np.flatnonzero(shape != _STAR)
    if len(tonal):
        pos = (np.mod(cycles[tonal] + phase[tonal, None], 1.0) * _TABLE).astype(np.float32)
        # float32 may round a phase just below 1 up to _TABLE: keep k inside the table (the
        # interpolation then lands on the wrap sample, the same value)
        k = np.minimum(pos.astype(np.int64), _TABLE - 1)
        frac = pos - k
        tables = _wavetables(cfg).reshape(-1)
        base = ((shape[tonal] * len(cfg.registers_hz) + labels["colour"][tonal])
                * (_TABLE + 1))[:, None]
        wave = tables[base + k] * (1 - frac) + tables[base + k + 1] * frac
        wave *= envelopes[shape[tonal]]
        wave *= (level[tonal] / _peak_rms(wave, sr))[:, None]
        which = np.full(len(shape), -1)
        which[tonal] = np.arange(len(tonal))
        is_tonal = shape[rows] != _STAR
        notes[is_tonal] = wave[which[rows[is_tonal]]]

    star = np.flatnonzero(shape[rows] == _STAR)
    if len(star):
        clip = rows[star]
        noise = noise_rng.standard_normal((len(star), length), np.float32)
        freqs = np.fft.rfftfreq(length, 1 / sr)
        sigma = pitch[clip, None] * (2.0 ** cfg.noise_band_oct - 1.0)
        gain = np.exp(-0.5 * (freqs[None, :] / sigma) ** 2)
        base = np.fft.irfft(np.fft.rfft(noise, axis=-1) * gain, n=length, axis=-1)
        wave = (base * np.cos(2 * np.pi * cycles[clip])).astype(np.float32) * envelopes[_STAR]
        notes[star] = wave * (level[clip] / _peak_rms(wave, sr))[:, None]

    audio[:] = 0.0
    start = np.round(onsets[rows, slots] * sr).astype(np.int64)
    audio[rows[:, None], start[:, None] + np.arange(length)] = np.clip(notes, -1.0, 1.0)


def level_db(audio, sampling_rate: int = 16000) -> np.ndarray:
    """Each clip's level in dB re full scale: the RMS of its loudest 20-ms window (windows every
    millisecond, so the reading does not depend on where the notes fall), the measure by which
    the world sets each note's loudness (:func:`_peak_rms`, on blocks aligned with the note).
    On real pocket clips it reads the notes' loudness (the size's level × the radius factor,
    :func:`v2a_kit.pocket.world.loudness_db`) from −0.15 dB to +0.6 dB for hums, +0.1 dB for
    buzzes, +1.1 dB for plucks and +3 dB for rattles (their noise peaks; measured on 6,000
    clips), whatever the count, contour or timing; it reads any waveform the same way
    (generated ones too). Silence is −240 dB.

    Args:
        audio: (n, samples) float array or tensor, or one clip (samples,).
    Returns:
        (n,) float64.
    """
    a = np.asarray(audio, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    window, hop = sampling_rate // 50, max(1, sampling_rate // 1000)
    if a.ndim != 2 or a.shape[1] < window:
        raise ValueError(f"audio has shape {a.shape}; expected (clips, samples) with at least "
                         f"{window} samples (one 20-ms window)")
    energy = np.concatenate([np.zeros((len(a), 1)), np.cumsum(a ** 2, axis=1)], axis=1)
    starts = np.arange(0, a.shape[1] - window + 1, hop)
    rms = np.sqrt(np.maximum(energy[:, starts + window] - energy[:, starts], 0.0) / window)
    return 20 * np.log10(rms.max(axis=1) + 1e-12)


def _peak_rms(notes: np.ndarray, sr: int) -> np.ndarray:
    """Loudness of each note: its loudest 20-ms block RMS (same meaning for every timbre)."""
    hop = sr // 50
    blocks = notes[:, : notes.shape[1] // hop * hop].reshape(len(notes), -1, hop)
    return np.sqrt((blocks ** 2).mean(-1)).max(-1)
