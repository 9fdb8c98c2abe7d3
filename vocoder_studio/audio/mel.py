"""The mel front-end of HiFi-GAN V1 (Kong et al. 2020, ``meldataset.py``), shared by every part.

A mel-spectrogram here is always a float32 array of shape ``(n_mels, frames)`` = ``(80, frames)`` holding the
natural log of the mel-projected STFT magnitude, clamped at ``ln(1e-5)``. ``frames = floor(samples / 256)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import overload

import numpy as np
import torch

from vocoder_studio.errors import AudioFileError, MelShapeError
from vocoder_studio.paths import cache_dir

#: Converts a natural-log magnitude to dB: 20 * log10(e).
DB_PER_NEPER = 20.0 / math.log(10.0)


@dataclass(frozen=True)
class MelConfig:
    """Settings of the mel front-end (HiFi-GAN V1's, so its pretrained weights apply unchanged).

    Attributes:
        sample_rate: Hz; audio of any other rate is resampled on load.
        n_fft: FFT size in samples (also the Hann window length).
        win_length: window length in samples.
        hop_length: samples between frames (256 → 11.6 ms).
        n_mels: mel bands (Slaney scale and normalisation, librosa's default).
        fmin, fmax: band edges of the filterbank in Hz.
        log_floor: magnitudes are clamped to at least this before the natural log.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    log_floor: float = 1e-5

    @property
    def pad(self) -> int:
        """Reflect padding on each side in samples: ``(n_fft - hop_length) // 2`` = 384."""
        return (self.n_fft - self.hop_length) // 2

    @property
    def floor_ln(self) -> float:
        """The lowest value a mel cell can hold: ``ln(log_floor)`` ≈ −11.51."""
        return math.log(self.log_floor)

    @property
    def frame_seconds(self) -> float:
        """Duration of one frame in seconds (hop_length / sample_rate)."""
        return self.hop_length / self.sample_rate


DEFAULT_CONFIG = MelConfig()


@functools.lru_cache(maxsize=8)
def _librosa_tables(config: MelConfig) -> dict[str, np.ndarray]:
    """librosa's mel filterbank and band edges for ``config``, cached on disk.

    Importing ``librosa.filters`` sets up numba and took over 3 s of the app's start; the tables it gives are
    stored once under the user cache folder and read back (a few ms) on later starts.
    """
    key = f"{config.sample_rate}-{config.n_fft}-{config.n_mels}-{config.fmin:g}-{config.fmax:g}"
    path = cache_dir() / f"mel-{key}-librosa{_librosa_version()}.npz"
    try:
        with np.load(path) as data:
            return {name: data[name] for name in ("filterbank", "edges")}
    except (OSError, ValueError, KeyError):
        pass
    import librosa

    tables = {
        "filterbank": librosa.filters.mel(sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels,
                                          fmin=config.fmin, fmax=config.fmax).astype(np.float32),
        "edges": np.asarray(librosa.mel_frequencies(n_mels=config.n_mels + 2, fmin=config.fmin, fmax=config.fmax)),
    }
    from vocoder_studio.audio.atomic import atomic_path

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, filterbank=tables["filterbank"], edges=tables["edges"])
    except (OSError, AudioFileError):  # a read-only cache folder only costs the next start its time
        pass
    return tables


def _librosa_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("librosa")
    except PackageNotFoundError:
        return "unknown"


def mel_filterbank(config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """The Slaney mel filterbank, float32 array ``(n_mels, n_fft // 2 + 1)`` (``librosa.filters.mel``)."""
    return _librosa_tables(config)["filterbank"]


@functools.lru_cache(maxsize=8)
def mel_pseudo_inverse(config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Pseudo-inverse of the filterbank, float32 ``(n_fft // 2 + 1, n_mels)``, used by :func:`mel_to_linear`."""
    return np.linalg.pinv(mel_filterbank(config)).astype(np.float32)


def mel_frequencies(config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Centre frequency in Hz of each mel band, float64 array ``(n_mels,)`` (Slaney scale, librosa's)."""
    return _librosa_tables(config)["edges"][1:-1]


def ln_to_db(mel: np.ndarray) -> np.ndarray:
    """Natural-log magnitude → dB (``20 * log10(e) * mel``); same shape and dtype."""
    return mel * np.asarray(DB_PER_NEPER, dtype=mel.dtype)


def db_to_ln(db: np.ndarray | float) -> np.ndarray | float:
    """dB → natural-log magnitude (inverse of :func:`ln_to_db`)."""
    return db / DB_PER_NEPER


@overload
def wav_to_mel(audio: np.ndarray, config: MelConfig = ...) -> np.ndarray: ...


@overload
def wav_to_mel(audio: torch.Tensor, config: MelConfig = ...) -> torch.Tensor: ...


def wav_to_mel(
    audio: np.ndarray | torch.Tensor, config: MelConfig = DEFAULT_CONFIG
) -> np.ndarray | torch.Tensor:
    """Mel-spectrogram of a waveform, exactly as HiFi-GAN V1's ``mel_spectrogram``.

    Args:
        audio: float waveform at ``config.sample_rate`` in [-1, 1], shape ``(samples,)`` or
            ``(batch, samples)``; a numpy array or a torch tensor (any device).
    Returns:
        float32 natural-log mel magnitude, shape ``(n_mels, frames)`` or ``(batch, n_mels, frames)`` with
        ``frames = samples // hop_length``; the same kind (numpy / torch) as the input.
    Raises:
        MelShapeError: the input is not 1-D/2-D, or shorter than one hop.
    """
    as_numpy = isinstance(audio, np.ndarray)
    if isinstance(audio, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    else:
        x = audio.float()
    if x.ndim not in (1, 2):
        raise MelShapeError(f"audio must be 1-D or 2-D, got shape {tuple(x.shape)}")
    if x.shape[-1] < config.hop_length:
        raise MelShapeError(
            f"audio of {x.shape[-1]} samples is shorter than one frame ({config.hop_length} samples)"
        )
    squeeze = x.ndim == 1
    if squeeze:
        x = x.unsqueeze(0)
    mel = spectrum_to_mel(front_end_stft(x, config), config)
    if squeeze:
        mel = mel.squeeze(0)
    return mel.cpu().numpy() if as_numpy else mel


def front_end_stft(audio: torch.Tensor, config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """The STFT :func:`wav_to_mel` takes: ``(B, samples)`` float32 → complex ``(B, n_fft // 2 + 1, frames)`` with
    ``frames = samples // hop_length`` (reflect padding of ``config.pad`` samples at each side, constant for a
    signal too short to reflect, ``center=False``, Hann window). Frame ``k`` covers samples
    ``[hop k - pad, hop k - pad + n_fft)``."""
    frames = audio.shape[-1] // config.hop_length
    pad_mode = "reflect" if audio.shape[-1] > config.pad else "constant"
    x = torch.nn.functional.pad(audio.unsqueeze(1), (config.pad, config.pad), mode=pad_mode).squeeze(1)
    window = torch.hann_window(config.win_length, device=x.device)
    spec = torch.stft(x, config.n_fft, hop_length=config.hop_length, win_length=config.win_length, window=window,
                      center=False, return_complex=True)
    return spec[..., :frames]


def spectrum_to_mel(spec: torch.Tensor, config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """ln-mel ``(B, n_mels, frames)`` float32 of a complex STFT ``(B, n_fft // 2 + 1, frames)``
    (:func:`front_end_stft`): the natural log of the mel-projected magnitude, clamped at ``config.log_floor``."""
    magnitude = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-9)
    basis = torch.from_numpy(mel_filterbank(config)).to(spec.device)
    return torch.log(torch.clamp(basis @ magnitude, min=config.log_floor))


def mel_to_linear(mel: torch.Tensor, config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """Approximate linear STFT magnitude from a ln-mel, by a clipped pseudo-inverse of the filterbank.

    Much faster than librosa's NNLS inversion (1.5 s for 11 s of audio) and as good for Griffin-Lim.

    Args:
        mel: float ln-mel tensor ``(..., n_mels, frames)``.
    Returns:
        float32 magnitude ``(..., n_fft // 2 + 1, frames)``, non-negative.
    """
    inverse = torch.from_numpy(mel_pseudo_inverse(config)).to(mel.device)
    return torch.clamp(inverse @ torch.exp(mel.float()), min=config.log_floor)


def validate_mel(mel: np.ndarray, config: MelConfig = DEFAULT_CONFIG, source: str = "mel") -> np.ndarray:
    """Check a mel array and return it as contiguous float32 ``(n_mels, frames)``.

    A leading batch axis of size 1 is dropped.

    Raises:
        MelShapeError: wrong number of dimensions or bands, no frames, non-float dtype, or NaN/inf values.
    """
    arr = np.asarray(mel)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise MelShapeError(f"{source}: expected shape ({config.n_mels}, frames), got {arr.shape}")
    if arr.shape[0] != config.n_mels:
        raise MelShapeError(f"{source}: expected {config.n_mels} mel bands, got shape {arr.shape}")
    if arr.shape[1] < 1:
        raise MelShapeError(f"{source}: the mel-spectrogram has no frames")
    if not np.issubdtype(arr.dtype, np.floating):
        raise MelShapeError(f"{source}: expected a float array, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise MelShapeError(f"{source}: the mel-spectrogram holds NaN or infinite values")
    return np.ascontiguousarray(arr, dtype=np.float32)
