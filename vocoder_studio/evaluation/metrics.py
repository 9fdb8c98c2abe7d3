"""Listening with numbers: alignment, PESQ (ITU-T P.862.2 wide-band), STOI, log-mel and multi-resolution STFT
distances, F0 error and voicing agreement (pYIN).

PESQ and STOI come from the ``pesq`` and ``pystoi`` packages (the ``eval`` extra); they are imported when used,
and :func:`missing_packages` says which are absent (the one place that asks).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

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


#: The packages the intelligibility and quality scores need.
SCORERS = ("pesq", "pystoi")


def missing_packages(names: Iterable[str] = SCORERS) -> list[str]:
    """Those of the packages ``names`` that are not installed (found without importing them)."""
    return [name for name in names if importlib.util.find_spec(name) is None]


def pesq_wb(reference: np.ndarray, test: np.ndarray, sample_rate: int = DEFAULT_CONFIG.sample_rate) -> float:
    """Wide-band PESQ (MOS-LQO, 1.0–4.64) of ``test`` against ``reference`` after alignment (16 kHz inside)."""
    from pesq import pesq

    ref, deg, _ = align(reference, test, sample_rate)
    ref16 = librosa.resample(ref, orig_sr=sample_rate, target_sr=16000)
    deg16 = librosa.resample(deg, orig_sr=sample_rate, target_sr=16000)
    return float(pesq(16000, ref16, deg16, "wb"))


def pesq_wb_or_none(reference: np.ndarray, test: np.ndarray,
                    sample_rate: int = DEFAULT_CONFIG.sample_rate) -> float | None:
    """:func:`pesq_wb`, or None where the ``pesq`` package refuses the input (no utterance found: silence-like
    or too short audio). Any other error is raised."""
    try:
        return pesq_wb(reference, test, sample_rate)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] != "pesq":
            raise
        return None


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


#: (n_fft, hop_length, win_length) of the multi-resolution STFT distances, in samples: Parallel WaveGAN's three
#: resolutions (Yamamoto et al. 2020), the ones the vocoders train with (``training/losses.py``).
STFT_RESOLUTIONS: tuple[tuple[int, int, int], ...] = ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))


def mrstft_distances(reference: np.ndarray, test: np.ndarray) -> tuple[float, float]:
    """Multi-resolution STFT spectral convergence and log-magnitude distance after alignment.

    Spectral convergence is ‖|Y| − |Ŷ|‖_F / ‖|Y|‖_F (0 = identical, about 1 or more for unrelated signals);
    the log-magnitude distance is mean |ln|Y| − ln|Ŷ|| (nepers). Both are averaged over
    :data:`STFT_RESOLUTIONS` (Hann windows, centred frames, squared magnitudes floored at 1e-7).

    Args:
        reference, test: waveforms ``(samples,)`` at the front-end rate, any float dtype.
    Returns:
        ``(spectral_convergence, log_magnitude_distance)``.
    """
    import torch

    ref, deg, _ = align(reference, test)
    y = torch.from_numpy(ref)
    y_hat = torch.from_numpy(deg)
    sc, mag = [], []
    for n_fft, hop, win in STFT_RESOLUTIONS:
        window = torch.hann_window(win, dtype=y.dtype)

        def magnitude(x: torch.Tensor, n_fft: int = n_fft, hop: int = hop, win: int = win,
                      window: torch.Tensor = window) -> torch.Tensor:
            spec = torch.stft(x, n_fft, hop, win, window, center=True, pad_mode="constant", return_complex=True)
            return torch.sqrt((spec.real.square() + spec.imag.square()).clamp_min(1e-7))

        a, b = magnitude(y), magnitude(y_hat)
        sc.append(float(torch.linalg.norm(a - b) / torch.linalg.norm(a)))
        mag.append(float(torch.mean(torch.abs(torch.log(a) - torch.log(b)))))
    return float(np.mean(sc)), float(np.mean(mag))


#: pYIN's search range (Hz): C2–C6 covers speaking and singing voices.
F0_RANGE_HZ = (65.4, 1046.5)


def _localmin(x: np.ndarray, *, axis: int = 0) -> np.ndarray:
    """``librosa.util.localmin`` in numpy: ``x[i] < x[i-1] and x[i] <= x[i+1]``; the first element is never a
    minimum, the last one is when below its neighbour (librosa's stencil and edge rule)."""
    xi = np.moveaxis(x, axis, -1)
    out = np.zeros(xi.shape, bool)
    out[..., 1:-1] = (xi[..., 1:-1] < xi[..., :-2]) & (xi[..., 1:-1] <= xi[..., 2:])
    out[..., -1] = xi[..., -1] < xi[..., -2]
    return np.moveaxis(out, -1, axis)


def f0_track(audio: np.ndarray, sample_rate: int = DEFAULT_CONFIG.sample_rate,
             hop_length: int = DEFAULT_CONFIG.hop_length,
             f0_range: tuple[float, float] = F0_RANGE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """Fundamental frequency by probabilistic YIN (``librosa.pyin``, Mauch & Dixon 2014), one value a hop.

    librosa's numba ``localmin`` kernel crashes the interpreter (SIGSEGV) with numba 0.68 / numpy 2.4, so the
    call runs with the numpy equivalent above in its place (same result, restored afterwards).

    Args:
        audio: ``(samples,)`` at ``sample_rate`` Hz.
        f0_range: pYIN's search range ``(fmin, fmax)`` in Hz.
    Returns:
        ``(f0, voiced)``: float64 Hz (NaN where unvoiced) and bool, both ``(frames,)``.
    """
    import librosa.util

    saved = librosa.util.localmin
    librosa.util.localmin = _localmin
    try:
        f0, voiced, _ = librosa.pyin(np.asarray(audio, np.float64), fmin=f0_range[0], fmax=f0_range[1],
                                     sr=sample_rate, frame_length=4 * hop_length, hop_length=hop_length)
    finally:
        librosa.util.localmin = saved
    return f0, np.asarray(voiced, bool)


#: The speaking-voice range (Hz) of :func:`voicing`: pYIN's default C2–C6 lets it call noise "voiced" at 1 kHz.
SPEECH_F0_HZ = (60.0, 400.0)


def voicing(audio: np.ndarray, sample_rate: int = DEFAULT_CONFIG.sample_rate, window_s: float = 2.0,
            f0_range: tuple[float, float] = SPEECH_F0_HZ) -> tuple[float, float]:
    """Is there a voice with a pitch? pYIN (:func:`f0_track`, Mauch & Dixon 2014) over ``window_s`` windows of
    ``audio`` (a last window shorter than half of that joins the one before), pooled.

    Args:
        audio: ``(samples,)`` at ``sample_rate`` Hz.
    Returns:
        ``(voiced_fraction, median_f0)``: the fraction of hops pYIN calls voiced (0…1) and the median F0 in Hz of
        those hops (NaN when none is voiced).
    """
    audio = np.asarray(audio, np.float64).reshape(-1)
    step = max(1, round(window_s * sample_rate))
    starts = list(range(0, max(1, audio.size), step))
    if len(starts) > 1 and audio.size - starts[-1] < step // 2:
        starts.pop()
    bounds = [*starts[1:], audio.size]
    f0s, flags = [], []
    for a, b in zip(starts, bounds, strict=True):
        f0, voiced = f0_track(audio[a:b], sample_rate, f0_range=f0_range)
        f0s.append(f0)
        flags.append(voiced)
    f0_all, voiced_all = np.concatenate(f0s), np.concatenate(flags)
    if not voiced_all.size:
        return 0.0, float("nan")
    median = float(np.nanmedian(f0_all[voiced_all])) if voiced_all.any() else float("nan")
    return float(voiced_all.mean()), median


def f0_scores(reference: np.ndarray, test: np.ndarray,
              sample_rate: int = DEFAULT_CONFIG.sample_rate) -> tuple[float, float]:
    """F0 RMSE in cents and voiced/unvoiced F1 of ``test`` against ``reference``, after alignment.

    The RMSE is over frames voiced in both (``1200 · log2(f_test / f_ref)``; NaN when there is none); the F1
    takes the reference's voiced frames as the truth (1.0 when neither has a voiced frame).

    Returns:
        ``(f0_rmse_cents, vuv_f1)``.
    """
    ref, deg, _ = align(reference, test, sample_rate)
    f_ref, v_ref = f0_track(ref, sample_rate)
    f_deg, v_deg = f0_track(deg, sample_rate)
    both = v_ref & v_deg & np.isfinite(f_ref) & np.isfinite(f_deg)
    cents = 1200 * np.log2(f_deg[both] / f_ref[both])
    rmse = float(np.sqrt(np.mean(cents**2))) if both.any() else float("nan")
    tp = int(np.sum(v_ref & v_deg))
    wrong = int(np.sum(v_ref ^ v_deg))
    f1 = 1.0 if tp + wrong == 0 else 2 * tp / (2 * tp + wrong)
    return rmse, float(f1)
