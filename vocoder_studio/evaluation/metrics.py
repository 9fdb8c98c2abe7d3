"""Listening with numbers: alignment, PESQ (ITU-T P.862.2 wide-band), STOI and log-mel distance.

PESQ and STOI come from the ``pesq`` and ``pystoi`` packages (the ``dev`` extra); they are imported when used.
"""

from __future__ import annotations

import librosa
import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel


def _lag(reference: np.ndarray, test: np.ndarray, max_lag: int) -> tuple[int, float]:
    """Lag (samples, test later = positive) maximising the normalised cross-correlation, and that peak."""
    n = len(reference) + len(test)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(test, size) * np.conj(np.fft.rfft(reference, size)), size)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    values = corr[lags % size]
    best = int(np.argmax(values))
    norm = np.sqrt(np.sum(reference**2) * np.sum(test**2)) + 1e-12
    return int(lags[best]), float(values[best] / norm)


def align(reference: np.ndarray, test: np.ndarray, sample_rate: int = DEFAULT_CONFIG.sample_rate,
          max_shift_s: float = 0.1) -> tuple[np.ndarray, np.ndarray, int]:
    """Align ``test`` to ``reference`` and cut both to the common length.

    Coarse lag from 23 ms energy envelopes (raw waveform correlation locks onto pitch periods for vocoded
    speech), refined by the waveform lag when that correlation is high (> 0.5).

    Returns:
        ``(reference_cut, test_cut, lag)`` with lag in samples (positive: ``test`` was late).
    """
    reference = np.asarray(reference, np.float64)
    test = np.asarray(test, np.float64)
    hop = max(1, int(0.023 * sample_rate))
    def envelope(x: np.ndarray) -> np.ndarray:
        frames = len(x) // hop
        return np.sqrt(np.mean(x[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    env_lag, _ = _lag(envelope(reference) - envelope(reference).mean(),
                      envelope(test) - envelope(test).mean(), max(1, int(max_shift_s * sample_rate / hop)))
    lag = env_lag * hop
    wave_lag, peak = _lag(reference, test, int(max_shift_s * sample_rate))
    if peak > 0.5 and abs(wave_lag - lag) <= 2 * hop:
        lag = wave_lag
    if lag > 0:
        test = test[lag:]
    elif lag < 0:
        reference = reference[-lag:]
    n = min(len(reference), len(test))
    return reference[:n], test[:n], lag


def pesq_wb(reference: np.ndarray, test: np.ndarray, sample_rate: int = DEFAULT_CONFIG.sample_rate) -> float:
    """Wide-band PESQ (MOS-LQO, 1.0–4.64) of ``test`` against ``reference`` after alignment (16 kHz inside)."""
    from pesq import pesq

    ref, deg, _ = align(reference, test, sample_rate)
    ref16 = librosa.resample(ref, orig_sr=sample_rate, target_sr=16000)
    deg16 = librosa.resample(deg, orig_sr=sample_rate, target_sr=16000)
    return float(pesq(16000, ref16, deg16, "wb"))


def stoi(reference: np.ndarray, test: np.ndarray, sample_rate: int = DEFAULT_CONFIG.sample_rate) -> float:
    """Short-time objective intelligibility (0–1) after alignment."""
    from pystoi import stoi as _stoi

    ref, deg, _ = align(reference, test, sample_rate)
    return float(_stoi(ref, deg, sample_rate, extended=False))


def log_mel_l1(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean absolute difference of the two signals' ln-mels (natural-log units), after alignment."""
    ref, deg, _ = align(reference, test)
    a = wav_to_mel(ref.astype(np.float32))
    b = wav_to_mel(deg.astype(np.float32))
    return float(np.mean(np.abs(a - b)))


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-noise ratio of ``test`` against ``reference`` (same length, no alignment), in dB."""
    reference = np.asarray(reference, np.float64)
    noise = reference - np.asarray(test, np.float64)
    return float(10 * np.log10(np.sum(reference**2) / max(np.sum(noise**2), 1e-30)))
