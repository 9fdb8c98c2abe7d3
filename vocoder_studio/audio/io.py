"""Audio and mel files: reading with clear one-line errors, writing atomically (temporary file + rename)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, validate_mel
from vocoder_studio.errors import AudioFileError, MelShapeError

#: WAV sample formats offered for export.
WAV_SUBTYPES = {"pcm16": "PCM_16", "float32": "FLOAT"}


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C-level notes libsndfile prints to fd 2 (e.g. "Illegal Audio-MPEG-Header") for one call."""
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise AudioFileError(path, "no such file")
    if path.is_dir():
        raise AudioFileError(path, "is a folder, not a file")
    if path.stat().st_size == 0:
        raise AudioFileError(path, "the file is empty")


def load_audio(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Read an audio file (WAV, FLAC, OGG/Vorbis, … anything libsndfile reads) as mono at the front-end rate.

    Channels are averaged, the rate is converted with soxr (high quality, as librosa's ``soxr_hq``), samples clipped
    to [-1, 1].

    Returns:
        float32 array ``(samples,)`` at ``config.sample_rate`` Hz.
    Raises:
        AudioFileError: missing, empty, truncated or unreadable file, or no samples in it.
    """
    path = Path(path)
    _check_readable(path)
    try:
        with _quiet_stderr():
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        reason = str(exc).split(":")[-1].strip() or "unreadable"
        raise AudioFileError(path, f"not a readable audio file ({reason})") from None
    if data.shape[0] == 0:
        raise AudioFileError(path, "the file holds no audio samples")
    mono = data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise AudioFileError(path, "the audio holds NaN or infinite samples")
    if rate != config.sample_rate:
        # soxr directly: what librosa.resample(res_type="soxr_hq") runs, without importing librosa.core.audio,
        # whose numba set-up alone took seconds of the app's start.
        mono = soxr.resample(mono, rate, config.sample_rate, quality="HQ")
    return np.clip(mono, -1.0, 1.0).astype(np.float32)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` is left as it was (no partial output).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_wav(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sample_rate: int = DEFAULT_CONFIG.sample_rate,
    sample_format: str = "pcm16",
) -> Path:
    """Write mono audio as a WAV file atomically.

    Args:
        audio: float array ``(samples,)`` in [-1, 1] (clipped on write).
        sample_format: ``"pcm16"`` (16-bit PCM) or ``"float32"`` (32-bit IEEE float).
    Raises:
        AudioFileError: unknown format, empty audio, or the file cannot be written.
    """
    path = Path(path)
    if sample_format not in WAV_SUBTYPES:
        raise AudioFileError(path, f"unknown WAV format {sample_format!r}; use one of {sorted(WAV_SUBTYPES)}")
    data = np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
    if data.size == 0:
        raise AudioFileError(path, "there is no audio to write")
    try:
        with atomic_path(path) as tmp:
            sf.write(str(tmp), data, sample_rate, subtype=WAV_SUBTYPES[sample_format], format="WAV")
    except OSError as exc:
        raise AudioFileError(path, f"cannot write ({exc.strerror or exc})") from None
    return path


def load_mel(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Read a mel-spectrogram ``.npy`` file (natural-log magnitude).

    Returns:
        float32 array ``(n_mels, frames)``.
    Raises:
        AudioFileError: missing, empty or not a ``.npy`` file, or wrong shape / dtype / NaN values.
    """
    path = Path(path)
    _check_readable(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise AudioFileError(path, f"not a readable .npy array ({exc})") from None
    try:
        return validate_mel(arr, config, source="mel")
    except MelShapeError as exc:
        raise AudioFileError(path, str(exc).removeprefix("mel: ")) from None


def save_mel(path: str | os.PathLike[str], mel: np.ndarray, config: MelConfig = DEFAULT_CONFIG) -> Path:
    """Write a mel-spectrogram as float32 ``.npy`` ``(n_mels, frames)`` atomically."""
    path = Path(path)
    arr = validate_mel(mel, config)
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, arr, allow_pickle=False)
    except OSError as exc:
        raise AudioFileError(path, f"cannot write ({exc.strerror or exc})") from None
    return path
