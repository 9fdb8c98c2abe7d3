"""Audio and mel files: reading with clear one-line errors, writing atomically (temporary file + rename)."""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import stat
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import soundfile as sf
import soxr

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, validate_mel
from vocoder_studio.errors import AudioFileError, MelShapeError

#: WAV sample formats offered for export.
WAV_SUBTYPES = {"pcm16": "PCM_16", "float32": "FLOAT"}

#: The longest mel file (and so document) accepted, in seconds of audio: one hour. Checked from the ``.npy``
#: header before anything is allocated, so a small file that announces a huge shape is refused at once.
MAX_MEL_SECONDS = 3600.0


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C-level notes libsndfile prints to fd 2 (e.g. "Illegal Audio-MPEG-Header") for one call.

    fd 2 belongs to the whole process: calls from several threads share one redirection (counted under a lock),
    so overlapping calls can never leave stderr silenced; keep what runs inside short (one libsndfile call).
    """
    global _quiet_depth, _quiet_saved
    with _quiet_lock:
        if _quiet_depth == 0:
            try:
                saved = os.dup(2)
            except OSError:  # no fd 2 at all
                saved = None
            if saved is not None:
                with open(os.devnull, "w") as devnull:
                    os.dup2(devnull.fileno(), 2)
            _quiet_saved = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, 2)
                os.close(_quiet_saved)
                _quiet_saved = None


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise AudioFileError(path, "no such file")
    if path.is_dir():
        raise AudioFileError(path, "is a folder, not a file")
    if path.stat().st_size == 0:
        raise AudioFileError(path, "the file is empty")
    try:  # libsndfile says only "(System error.)" for a file it may not open
        with open(path, "rb"):
            pass
    except PermissionError:
        raise AudioFileError(path, "permission denied (the file cannot be read)") from None
    except OSError as exc:
        raise AudioFileError(path, f"cannot read ({exc.strerror or exc})") from None


def load_audio(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Read an audio file (WAV, FLAC, OGG/Vorbis, … anything libsndfile reads) as mono at the front-end rate.

    Channels are averaged, the rate is converted with soxr (high quality, as librosa's ``soxr_hq``), samples clipped
    to [-1, 1].

    Returns:
        float32 array ``(samples,)`` at ``config.sample_rate`` Hz.
    Raises:
        AudioFileError: missing, empty, truncated or unreadable file, no samples in it, or longer than
            :data:`MAX_MEL_SECONDS` (checked from the header before reading).
    """
    parts = list(audio_blocks(path, config))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


#: Samples per channel read at a time: a long file never exists whole at its own rate and channel count.
READ_BLOCK = 1 << 18


def audio_info(path: str | os.PathLike[str]) -> sf._SoundFileInfo:
    """The header of an audio file (rate, frames, channels), checked: readable and at most
    :data:`MAX_MEL_SECONDS` long.

    Raises:
        AudioFileError: missing, unreadable, not audio, or too long.
    """
    path = Path(path)
    _check_readable(path)
    try:
        with _quiet_stderr():
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        reason = str(exc).split(":")[-1].strip() or "unreadable"
        raise AudioFileError(path, f"not a readable audio file ({reason})") from None
    if info.samplerate > 0 and info.frames / info.samplerate > MAX_MEL_SECONDS:
        raise AudioFileError(path, f"{info.frames / info.samplerate:.0f} s of audio: longer than a document "
                                   f"may be ({MAX_MEL_SECONDS:.0f} s, {MAX_MEL_SECONDS / 3600:g} hour)")
    return info


def audio_blocks(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> Iterator[np.ndarray]:
    """:func:`load_audio` block by block: the file mixed to mono and resampled to ``config.sample_rate`` as it is
    read (soxr's streaming resampler gives exactly what one call on the whole signal gives), so an hour of
    audio never exists whole.

    Yields:
        float32 ``(samples,)`` blocks in [-1, 1] whose concatenation is :func:`load_audio`'s result (the first
        one non-empty).
    Raises:
        AudioFileError: as :func:`load_audio`; also NaN or infinite samples (raised when that block is reached).
    """
    path = Path(path)
    audio_info(path)
    started = False
    try:
        with _quiet_stderr():  # libsndfile's notes only; never around a yield (the caller may print)
            handle = sf.SoundFile(str(path))
        with handle:
            rate = handle.samplerate
            # soxr directly: what librosa.resample(res_type="soxr_hq") runs, without importing librosa.core.audio,
            # whose numba set-up alone took seconds of the app's start.
            stream = None if rate == config.sample_rate else soxr.ResampleStream(
                rate, config.sample_rate, 1, dtype="float32", quality="HQ")
            while True:
                with _quiet_stderr():
                    block = handle.read(READ_BLOCK, dtype="float32", always_2d=True)
                last = block.shape[0] < READ_BLOCK
                mono = block.mean(axis=1, dtype=np.float32)
                if not np.all(np.isfinite(mono)):
                    raise AudioFileError(path, "the audio holds NaN or infinite samples")
                out = mono if stream is None else stream.resample_chunk(mono, last=last)
                if out.size:
                    started = True
                    yield np.clip(out.astype(np.float32, copy=False), -1.0, 1.0)
                if last:
                    break
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        reason = str(exc).split(":")[-1].strip() or "unreadable"
        raise AudioFileError(path, f"not a readable audio file ({reason})") from None
    if not started:
        raise AudioFileError(path, "the file holds no audio samples")


#: Frames of mel computed at a time by :func:`wav_to_mel_blocks` (47 s at the defaults).
MEL_BLOCK_FRAMES = 4096


class _MelFrames:
    """The ln-mel of frames of a padded signal: torch STFT with ``center=False`` on exactly the frames' samples,
    the shared front-end's filterbank and log floor (the frames :func:`~vocoder_studio.audio.mel.wav_to_mel`
    gives)."""

    def __init__(self, config: MelConfig) -> None:
        import torch

        from vocoder_studio.audio.mel import mel_filterbank

        self.config = config
        self.window = torch.hann_window(config.win_length)
        self.basis = torch.from_numpy(mel_filterbank(config))

    def __call__(self, padded: np.ndarray, frames: int) -> np.ndarray:
        """``frames`` frames from ``padded[: (frames - 1) * hop + n_fft]`` (padded samples), float32
        ``(n_mels, frames)``."""
        import torch

        c = self.config
        segment = torch.from_numpy(np.ascontiguousarray(padded[: (frames - 1) * c.hop_length + c.n_fft]))
        spec = torch.stft(segment, c.n_fft, hop_length=c.hop_length, win_length=c.win_length, window=self.window,
                          center=False, return_complex=True)
        magnitude = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-9)
        return torch.log(torch.clamp(self.basis @ magnitude, min=c.log_floor))[:, :frames].numpy()


def wav_to_mel_blocks(audio: np.ndarray, config: MelConfig = DEFAULT_CONFIG,
                      block_frames: int = MEL_BLOCK_FRAMES) -> np.ndarray:
    """:func:`~vocoder_studio.audio.mel.wav_to_mel` of a long signal, ``block_frames`` frames at a time, so the
    STFT of an hour of audio never exists at once (the same frames; each frame only sees its own samples).

    Args:
        audio: float32 ``(samples,)`` at ``config.sample_rate``.
    Returns:
        float32 ln-mel ``(n_mels, samples // hop_length)``.
    Raises:
        MelShapeError: shorter than one frame.
    """
    from vocoder_studio.audio.mel import wav_to_mel

    frames = audio.shape[-1] // config.hop_length
    if audio.ndim != 1 or frames <= block_frames:
        return wav_to_mel(audio, config)
    padded = np.pad(np.asarray(audio, dtype=np.float32), config.pad, mode="reflect")
    analyse = _MelFrames(config)
    out = np.empty((config.n_mels, frames), np.float32)
    for f0 in range(0, frames, block_frames):
        f1 = min(frames, f0 + block_frames)
        out[:, f0:f1] = analyse(padded[f0 * config.hop_length :], f1 - f0)
    return out


def mel_blocks(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG,
               block_frames: int = MEL_BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """The mel of an audio file, analysed as it is read: peak memory stays flat whatever the file's length.

    The same frames as ``wav_to_mel_blocks(load_audio(path))`` (reflect padding of ``config.pad`` samples at both
    ends, ``samples // hop_length`` frames): the signal is kept only from the oldest sample a frame still needs.

    Yields:
        float32 ln-mel blocks ``(n_mels, k)``, in order, ``k ≤ block_frames``.
    Raises:
        AudioFileError: as :func:`load_audio`, or less than one frame of audio.
    """
    path = Path(path)
    hop, pad = config.hop_length, config.pad
    need = (block_frames - 1) * hop + config.n_fft  # padded samples behind one block
    analyse: _MelFrames | None = None
    pending: list[np.ndarray] = []
    queue = _SampleQueue()
    total = done = 0
    for chunk in audio_blocks(path, config):
        total += chunk.size
        if analyse is None:  # the start: gather more than a block, then reflect its first samples
            pending.append(chunk)
            if total <= need + pad:
                continue
            head = np.concatenate(pending)
            pending = []
            queue.append(head[pad:0:-1])
            chunk = head
            analyse = _MelFrames(config)
        queue.append(chunk)
        while queue.size >= need:  # every sample of these frames is real (or the start's reflection)
            yield analyse(queue.view(), block_frames)
            done += block_frames
            queue.drop(block_frames * hop)
    if analyse is None:  # short: less than one block, analysed whole
        signal = np.concatenate(pending)
        if signal.size < hop:
            raise AudioFileError(path, f"too short: less than one {1000 * hop / config.sample_rate:.1f} ms "
                                       "frame of audio")
        yield wav_to_mel_blocks(signal, config)
        return
    tail = queue.view()
    queue.append(tail[-2 : -pad - 2 : -1].copy())  # the end's reflection (≥ n_fft - hop samples are kept)
    frames = total // hop
    while done < frames:
        k = min(block_frames, frames - done)
        yield analyse(queue.view(), k)
        done += k
        queue.drop(k * hop)


class _SampleQueue:
    """A FIFO of float32 samples in one buffer reused for the whole file (appending moves what is left to the
    front; the buffer only grows when a chunk does not fit): allocating a new array per chunk let glibc's heap
    fragment, and the process grew by about 2 MB a minute of audio."""

    def __init__(self) -> None:
        self._data = np.empty(0, np.float32)
        self._start = self._end = 0

    @property
    def size(self) -> int:
        return self._end - self._start

    def view(self) -> np.ndarray:
        """The queued samples (a view, valid until the next append or drop)."""
        return self._data[self._start : self._end]

    def append(self, samples: np.ndarray) -> None:
        n, size = samples.size, self.size
        if self._end + n > self._data.size:
            if size + n > self._data.size:  # grow (rare: the first chunks, or a longer chunk)
                grown = np.empty(max(2 * self._data.size, size + n), np.float32)
                grown[:size] = self.view()
                self._data = grown
            else:
                self._data[:size] = self.view()  # memmove within the buffer
            self._start, self._end = 0, size
        self._data[self._end : self._end + n] = samples
        self._end += n

    def drop(self, n: int) -> None:
        self._start = min(self._end, self._start + n)


def _create_exclusive(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new, empty temporary file beside ``name`` in ``folder``, as ``open(..., "x")`` would.

    Unlike ``tempfile.mkstemp`` (always mode 0600) the file gets the process umask's default permissions
    (``0o666 & ~umask``), applied by the kernel: no global ``os.umask`` call, so it is thread-safe.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def _still_linked(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (a cleaner may have removed it in between)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except OSError:
        return False


def _create_locked(folder: Path, name: str) -> tuple[int, Path]:
    """:func:`_create_exclusive`, then lock the new file for the whole write (see :func:`clean_stale_parts`).

    Between creating the file and locking it, another process's cleaner can find it unlocked and remove it; the
    lock is then held on a file no longer in the folder, so a new one is made (the usual lock-file protocol: lock,
    then check that the path still names the locked file)."""
    while True:
        fd, tmp = _create_exclusive(folder, name)
        _lock(fd, blocking=True)  # held until the rename: a live write is never taken for a stale one
        if _still_linked(fd, tmp):
            return fd, tmp
        os.close(fd)  # pragma: no cover - a cleaner won the race of a few microseconds


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` is left as it was (no partial output). A write that
    cannot clean up (killed by ``kill -9``, a power cut) leaves its temporary ``.<name>.<12 hex digits>.part``
    file: the next write into the same folder, by any process, removes it (:func:`clean_stale_parts`), and never
    the temporary file of a write still running.

    Permissions: a new file gets the umask's default, as any program's ``open(path, "w")`` would (0644 under
    umask 022, 0600 under 077). Overwriting an existing file keeps that file's permission bits, as writing it in
    place would: a file its owner made private stays private, a shared one stays shared.

    Raises:
        AudioFileError: the folder of ``path`` does not exist or is not a folder (it is never created: a typo in
            an output path is an error, not a new folder tree).
        OSError: the file cannot be created, written or renamed (callers turn it into an AudioFileError).
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        if folder.exists():
            raise AudioFileError(target, f"{folder} is not a folder")
        raise AudioFileError(target, f"folder {folder} does not exist")
    clean_stale_parts(folder)
    fd, tmp = _create_locked(folder, target.name)
    try:
        if target.is_file():
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


#: What :func:`atomic_path`'s temporary files are called: ``.<name>.<12 hex digits>.part``.
_PART_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.part")


def _lock(fd: int, blocking: bool) -> bool:
    """An exclusive OS lock (``flock``) on ``fd``; released when the process dies. True if taken (always True
    where the OS has no ``flock``: Windows keeps an open file from being deleted anyway)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks: treat as held by someone, never delete
        return False
    return True


def clean_stale_parts(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove :func:`atomic_path` temporary files in ``folder`` that a killed write left behind.

    A write holds an exclusive ``flock`` on its temporary file from the moment it exists until the rename, and
    the kernel releases it when the writer dies, however it dies: a temporary file whose lock can be taken has
    no writer and is removed. A live writer's file — another thread's, or another process's on this machine or
    (on a file system with shared locks, e.g. NFSv4) elsewhere — stays locked and is never touched. Where
    locks are not supported nothing is removed. Other errors are ignored (a read-only folder keeps its files).

    Returns:
        the files removed.
    """
    removed: list[Path] = []
    try:
        candidates = [p for p in Path(folder).glob(".*.part") if _PART_NAME.fullmatch(p.name)]
    except OSError:
        return removed
    for path in candidates:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError:  # renamed into place or removed meanwhile, a link, or unreadable
            continue
        try:
            # the lock is ours and the path still names the file we locked (not renamed into place meanwhile)
            if _lock(fd, blocking=False) and _still_linked(fd, path):
                path.unlink()
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


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


def write_wav_blocks(
    path: str | os.PathLike[str],
    blocks: Iterable[np.ndarray],
    sample_rate: int = DEFAULT_CONFIG.sample_rate,
    sample_format: str = "pcm16",
) -> int:
    """Write mono audio to a WAV file block by block as the blocks come (memory stays flat however long the
    audio), atomically: nothing appears at ``path`` unless every block was written.

    Args:
        blocks: float arrays ``(samples,)`` in [-1, 1]; clipped, and NaN written as 0 (±inf as ±1).
        sample_format: ``"pcm16"`` or ``"float32"`` (see :data:`WAV_SUBTYPES`).
    Returns:
        the number of samples written.
    Raises:
        AudioFileError: unknown format, no samples at all, or the file cannot be written.
    """
    path = Path(path)
    if sample_format not in WAV_SUBTYPES:
        raise AudioFileError(path, f"unknown WAV format {sample_format!r}; use one of {sorted(WAV_SUBTYPES)}")
    total = 0
    try:
        with atomic_path(path) as tmp:
            with sf.SoundFile(str(tmp), "w", samplerate=sample_rate, channels=1,
                              subtype=WAV_SUBTYPES[sample_format], format="WAV") as out:
                for block in blocks:
                    data = np.asarray(block, dtype=np.float32).reshape(-1)
                    out.write(np.clip(np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0))
                    total += data.size
            if total == 0:
                raise AudioFileError(path, "there is no audio to write")
    except (OSError, sf.LibsndfileError) as exc:
        raise AudioFileError(path, f"cannot write ({getattr(exc, 'strerror', None) or exc})") from None
    return total


def max_mel_frames(config: MelConfig = DEFAULT_CONFIG) -> int:
    """The most frames a mel file may hold: :data:`MAX_MEL_SECONDS` of audio (310 079 frames, 99 MB as
    float32, at the default 22050 Hz and hop 256)."""
    return math.ceil(MAX_MEL_SECONDS / config.frame_seconds)


def _not_npy(path: Path, why: str, config: MelConfig) -> AudioFileError:
    return AudioFileError(path, f"not a NumPy .npy array ({why}); a mel file is a float32 array "
                                f"({config.n_mels}, frames) written by numpy.save")


def _read_npy_header(handle: IO[bytes], path: Path, config: MelConfig,
                     size: int | None) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Check a ``.npy`` header for a mel before anything is allocated.

    Returns:
        ``(shape, fortran_order, dtype, nbytes)`` of the data that follows the header (``handle`` is left there).
    Raises:
        AudioFileError: as :func:`read_mel_npy` (all but the checks of the values themselves).
    """
    start = handle.tell()
    try:
        version = np.lib.format.read_magic(handle)
    except (ValueError, OSError, EOFError):
        raise _not_npy(path, "it does not start with the .npy signature", config) from None
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise _not_npy(path, f"unsupported .npy format version {version[0]}.{version[1]}", config)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shape, fortran_order, dtype = readers[version](handle)
    except Exception:  # noqa: BLE001 - numpy parses the header text with ast; any failure means a damaged header
        raise _not_npy(path, "its header is damaged", config) from None
    if any(dim < 0 for dim in shape):
        raise _not_npy(path, f"its header gives the impossible shape {shape}", config)
    if dtype.hasobject:
        raise AudioFileError(path, "not a mel array: it holds Python objects, not numbers "
                                   "(such files are never loaded)")
    if not np.issubdtype(dtype, np.floating):
        raise AudioFileError(path, f"expected a float array, got dtype {dtype}")
    limit = max_mel_frames(config)
    cells = math.prod(shape)
    if cells > config.n_mels * limit:
        raise AudioFileError(path, f"shape {shape} is larger than a document may be ({config.n_mels} × {limit} "
                                   f"frames, {MAX_MEL_SECONDS / 3600:g} hour of audio)")
    nbytes = cells * dtype.itemsize
    left = None if size is None else size - (handle.tell() - start)
    if left is not None and left < nbytes:
        raise AudioFileError(path, f"truncated: the header announces shape {shape} ({nbytes} bytes of data), "
                                   f"the file holds {max(0, left)}")
    return shape, fortran_order, dtype, nbytes


def read_mel_npy(handle: IO[bytes], path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG,
                 size: int | None = None) -> np.ndarray:
    """Read a mel-spectrogram from an open ``.npy`` stream, checking its header before allocating anything.

    Never unpickles: an array of Python objects is refused, whatever the file says.

    Args:
        handle: binary stream positioned at the start of the ``.npy`` data.
        path: the name used in error messages (the file, or ``project.vsproj/mel.npy``).
        size: the length of the ``.npy`` data in bytes, if known (a header that announces more data is "truncated").
    Returns:
        float32 array ``(n_mels, frames)``.
    Raises:
        AudioFileError: not a ``.npy`` array, a damaged header, an array of objects, a non-float dtype, more
            than :func:`max_mel_frames` frames, truncated data, or a wrong shape / NaN values.
    """
    path = Path(path)
    shape, fortran_order, dtype, nbytes = _read_npy_header(handle, path, config, size)
    buffer = bytearray(nbytes)
    got = 0
    while got < nbytes:
        chunk = handle.read(min(nbytes - got, 1 << 24))
        if not chunk:
            raise AudioFileError(path, f"truncated: the header announces shape {shape} ({nbytes} bytes of data), "
                                       f"the file holds {got}")
        buffer[got : got + len(chunk)] = chunk
        got += len(chunk)
    arr = np.frombuffer(buffer, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    try:
        return validate_mel(arr, config, source="mel")
    except MelShapeError as exc:
        raise AudioFileError(path, str(exc).removeprefix("mel: ")) from None


class MelFile:
    """A mel ``.npy`` file read a range of frames at a time: vocoding an hour-long mel from disk holds only the
    frames of the chunk being vocoded. The header is checked on opening as :func:`load_mel` checks it; the
    values (NaN, infinities) are checked as each range is read.

    Attributes:
        path: the file; ``shape``: ``(n_mels, frames)``.
    Raises:
        AudioFileError: on opening, what :func:`load_mel` refuses from the header (also a shape that is not
            ``(n_mels, frames)``); on reading, NaN or infinite values or a file that changed under us.
    """

    def __init__(self, path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> None:
        self.path = Path(path)
        self.config = config
        _check_readable(self.path)
        try:
            with open(self.path, "rb") as handle:
                shape, self._fortran, self._dtype, _ = _read_npy_header(
                    handle, self.path, config, os.fstat(handle.fileno()).st_size)
                self._offset = handle.tell()
        except OSError as exc:
            raise AudioFileError(self.path, f"cannot read ({exc.strerror or exc})") from None
        if len(shape) == 3 and shape[0] == 1:
            shape = shape[1:]
        if len(shape) != 2 or shape[0] != config.n_mels or shape[1] < 1:
            raise AudioFileError(self.path, f"expected shape ({config.n_mels}, frames), got {shape}")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))

    @property
    def frames(self) -> int:
        return self.shape[1]

    ndim = 2

    def __getitem__(self, key: tuple[Any, slice]) -> np.ndarray:
        """``mel_file[..., a:b]`` (or ``[:, a:b]``): :meth:`read` of those frames, so code that slices a mel
        array (:meth:`Vocoder.vocode_range`) reads only the slice it needs."""
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] in (Ellipsis, slice(None))
                and isinstance(key[1], slice) and key[1].step in (None, 1)):
            raise TypeError(f"MelFile supports [..., start:end] only, got {key!r}")
        start, end, _ = key[1].indices(self.frames)
        return self.read(start, end)

    def read(self, start: int, end: int) -> np.ndarray:
        """Frames ``[start, end)`` as float32 ``(n_mels, end - start)``.

        Raises:
            AudioFileError: NaN or infinite values in the range, or the file cannot be read.
        """
        n_mels, frames = self.shape
        start, end = max(0, start), min(frames, end)
        size = self._dtype.itemsize
        count = end - start
        out = np.empty((n_mels, count), self._dtype)
        try:
            with open(self.path, "rb") as handle:
                if self._fortran:  # frame after frame: one read
                    handle.seek(self._offset + start * n_mels * size)
                    out[:] = np.fromfile(handle, self._dtype, count * n_mels).reshape(count, n_mels).T
                else:  # band after band: one read per band
                    for band in range(n_mels):
                        handle.seek(self._offset + (band * frames + start) * size)
                        out[band] = np.fromfile(handle, self._dtype, count)
        except (OSError, ValueError) as exc:
            raise AudioFileError(self.path, f"cannot read frames {start}–{end} ({exc})") from None
        try:
            return validate_mel(out, self.config, source="mel")
        except MelShapeError as exc:
            raise AudioFileError(self.path, str(exc).removeprefix("mel: ")) from None


def load_mel(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Read a mel-spectrogram ``.npy`` file (natural-log magnitude); see :func:`read_mel_npy` for the checks.

    Returns:
        float32 array ``(n_mels, frames)``, at most :func:`max_mel_frames` frames.
    Raises:
        AudioFileError: missing, empty or not a ``.npy`` array (never unpickled), too large, truncated, or wrong
            shape / dtype / NaN values.
    """
    path = Path(path)
    _check_readable(path)
    try:
        with open(path, "rb") as handle:
            return read_mel_npy(handle, path, config, size=os.fstat(handle.fileno()).st_size)
    except OSError as exc:
        raise AudioFileError(path, f"cannot read ({exc.strerror or exc})") from None


def write_mel_blocks(path: str | os.PathLike[str], blocks: Iterable[np.ndarray],
                     config: MelConfig = DEFAULT_CONFIG) -> tuple[int, int]:
    """Write a mel that arrives block by block as one ``.npy`` file, atomically, without holding it whole.

    The array is stored in Fortran (column) order, frame after frame, so each block is appended as it comes;
    ``numpy.load`` and :func:`load_mel` read it as the usual ``(n_mels, frames)`` array. The header is written
    first with a provisional shape and rewritten at the end (its padded length does not depend on the number).

    Args:
        blocks: float32 ln-mel blocks ``(n_mels, k)``, in order (e.g. :func:`mel_blocks`).
    Returns:
        the shape written, ``(n_mels, frames)``.
    Raises:
        AudioFileError: the file cannot be written, or no frames came (nothing is left behind).
        MelShapeError: a block of the wrong band count or with NaN values.
    """
    path = Path(path)

    def header(frames: int) -> dict[str, object]:
        return {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": True,
                "shape": (config.n_mels, frames)}

    frames = 0
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header(max_mel_frames(config)))
            data_start = handle.tell()
            for block in blocks:
                block = validate_mel(block, config)
                handle.write(np.ascontiguousarray(block.T).tobytes())
                frames += block.shape[1]
            if frames == 0:
                raise AudioFileError(path, "no mel frames to write")
            handle.seek(0)
            np.lib.format.write_array_header_1_0(handle, header(frames))
            if handle.tell() != data_start:  # pragma: no cover - the header's padding absorbs any frame count
                raise AudioFileError(path, "internal error: the .npy header changed length")
    except OSError as exc:
        raise AudioFileError(path, f"cannot write ({exc.strerror or exc})") from None
    return config.n_mels, frames


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
