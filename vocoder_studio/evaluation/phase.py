"""The phase made visible: what the Phase view draws, computed without Qt.

A magnitude spectrogram hides the phase; its time derivative does not. For each STFT bin the phase advances
between frames by ``2π · hop · f / sample_rate`` for a sinusoid of frequency ``f``; what remains after the bin's
own centre frequency is taken away is the *instantaneous frequency deviation*: a partial's offset from the bin
centre, in Hz (Boashash 1992, "Estimating and interpreting the instantaneous frequency of a signal"). On real
speech it is smooth along each harmonic; a phase that no signal could have (Griffin-Lim after too few
iterations, a vocoder that guesses its phase) shows as speckle where the original is smooth: the "phasey" sound.
"""

from __future__ import annotations

import numpy as np
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, front_end_stft

#: Bins quieter than this many dB below the loudest coefficient are left blank (their phase is noise).
FLOOR_DB = 60.0


def instantaneous_frequency(audio: np.ndarray, config: MelConfig = DEFAULT_CONFIG,
                            floor_db: float = FLOOR_DB) -> np.ndarray:
    """Instantaneous frequency deviation of each STFT bin from its centre frequency, from the phase advance
    between consecutive frames of the front-end's STFT.

    Args:
        audio: float mono waveform ``(samples,)`` at ``config.sample_rate``.
        floor_db: coefficients this far below the loudest are NaN.
    Returns:
        float32 ``(n_fft // 2 + 1, frames)`` in Hz, within ``±sample_rate / (2 hop_length)`` (±43 Hz at the
        defaults); the first frame and quiet coefficients are NaN.
    Raises:
        ValueError: ``audio`` is not one-dimensional.
    """
    samples = np.asarray(audio, np.float32)
    if samples.ndim != 1:
        raise ValueError(f"instantaneous_frequency takes mono audio (samples,), got shape {samples.shape}")
    spec = front_end_stft(torch.from_numpy(samples.copy())[None], config)[0].numpy()  # (bins, frames)
    bins, frames = spec.shape
    out = np.full((bins, frames), np.nan, np.float32)
    if frames < 2:
        return out
    expected = 2 * np.pi * config.hop_length * np.arange(bins)[:, None] / config.n_fft
    advance = np.angle(spec[:, 1:]) - np.angle(spec[:, :-1]) - expected
    wrapped = np.angle(np.exp(1j * advance))  # (-π, π]
    deviation = wrapped * config.sample_rate / (2 * np.pi * config.hop_length)
    magnitude = np.abs(spec)
    loud = magnitude > magnitude.max() * 10 ** (-floor_db / 20) if magnitude.max() > 0 else magnitude > 0
    out[:, 1:] = np.where(loud[:, 1:] & loud[:, :-1], deviation, np.nan)
    return out


def phase_coherence(deviation: np.ndarray, reference: np.ndarray) -> float:
    """Mean absolute difference in Hz between two :func:`instantaneous_frequency` maps where both are defined
    (0: the same phase motion; NaN when they share no coefficient)."""
    both = np.isfinite(deviation) & np.isfinite(reference)
    return float(np.abs(deviation[both] - reference[both]).mean()) if both.any() else float("nan")
