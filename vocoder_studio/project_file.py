"""The project file (``.vsproj``): a zip of ``mel.npy`` (float32 ln-mel, ``(n_mels, frames)``) and
``meta.json`` (format, version, app version, source, vocoder, the front-end's sample rate / hop length / n_mels,
the selection), written atomically and read as untrusted input (size caps, no unpickling, a checked schema).

No Qt, and no :class:`~vocoder_studio.document.Document`: this module turns arrays and fields into bytes and
back; ``Document.save`` and ``Document.load`` use it. Tested in ``tests/test_hostile_projects.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np

from vocoder_studio import __version__
from vocoder_studio.audio.io import atomic_path, max_mel_frames, read_mel_npy
from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.display import Display
from vocoder_studio.errors import AudioFileError, VocoderStudioError

PROJECT_SUFFIX = ".vsproj"
#: The largest ``meta.json`` a project may hold (ours are under 1 kB).
MAX_META_BYTES = 64 * 1024
#: The value :func:`project_bytes` writes in ``format``; ``format_version`` is at most this.
PROJECT_FORMAT = "vocoder-studio-project"
PROJECT_FORMAT_VERSION = 1
#: What a vocoder name in ``meta.json`` may look like (registry names are short lowercase words).
_VOCODER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _max_npy_bytes(config: MelConfig) -> int:
    """The largest ``mel.npy`` member accepted: a float64 mel of :func:`max_mel_frames` frames and its header."""
    return 65536 + 8 * config.n_mels * max_mel_frames(config)


def _member(archive: zipfile.ZipFile, path: Path, name: str, cap: int) -> zipfile.ZipInfo:
    """The directory entry of member ``name``, refused when it is missing or announces more than ``cap`` bytes
    (zipfile never decompresses past the announced size, so this caps the memory a zip bomb can take)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise AudioFileError(path, f"not a Vocoder Studio project (no {name} in it)") from None
    if info.file_size > cap:
        raise AudioFileError(path, f"{name} announces {info.file_size} bytes, more than a project's "
                                   f"{name} may hold ({cap} bytes)")
    return info


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ProjectMeta:
    """A project's ``meta.json`` after :func:`check_meta`: every field of the right type."""

    format_version: int
    app_version: str | None
    source: str | None
    vocoder: str | None
    #: ``[frame0, frame1, band0, band1]`` integers (not yet checked against the mel), or None
    selection: list[int] | None
    #: the colour map and range (defaults for a project written before they were kept)
    display: Display = dataclasses.field(default_factory=Display)


def check_meta(meta: object, path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> ProjectMeta:
    """Check a project's ``meta.json`` against the schema :func:`project_bytes` writes.

    Fields: ``format`` (``"vocoder-studio-project"``), ``format_version`` (integer 1 …
    :data:`PROJECT_FORMAT_VERSION`), ``app_version`` (string), ``source`` and ``vocoder`` (string or null),
    ``sample_rate`` / ``hop_length`` / ``n_mels`` (integers equal to ``config``'s: the front-end the mel was
    made with), ``selection`` (null or four integers, checked against the mel by :func:`read_project`),
    ``display`` (optional, null or ``{"colormap": name, "levels": null or [low, high] dB}``, see
    :meth:`~vocoder_studio.display.Display.from_json`).
    Missing optional fields take their defaults; unknown fields are ignored.

    Returns:
        the fields a document needs, typed.
    Raises:
        AudioFileError: ``meta`` is not a JSON object, or a field has the wrong type or value; the message
            names the field.
    """
    where = Path(f"{path}/meta.json") if not str(path).endswith("meta.json") else Path(path)

    def bad(field: str, why: str) -> AudioFileError:
        return AudioFileError(where, f"{field} {why}")

    if not isinstance(meta, dict):
        raise AudioFileError(where, f"expected a JSON object, got {_type_name(meta)}")
    fmt = meta.get("format", PROJECT_FORMAT)
    if fmt != PROJECT_FORMAT:
        raise bad("format", f"is {fmt!r:.60}, not {PROJECT_FORMAT!r}: not a Vocoder Studio project")
    version = meta.get("format_version", PROJECT_FORMAT_VERSION)
    if not _is_int(version) or version < 1:
        raise bad("format_version", f"is {version!r:.60} ({_type_name(version)}), expected an integer ≥ 1")
    if version > PROJECT_FORMAT_VERSION:
        raise bad("format_version", f"is {version}: the project was made by a newer Vocoder Studio (this one "
                                    f"reads version {PROJECT_FORMAT_VERSION}); update the app")
    for field in ("app_version", "source", "vocoder"):
        value = meta.get(field)
        if value is not None and not isinstance(value, str):
            raise bad(field, f"is {_type_name(value)}, expected a string or null")
        if isinstance(value, str) and (len(value) > 4096 or "\x00" in value):
            raise bad(field, "is not a usable name (too long, or holds a NUL character)")
    vocoder = meta.get("vocoder")
    if isinstance(vocoder, str) and not _VOCODER_NAME.fullmatch(vocoder):
        raise bad("vocoder", f"{vocoder!r:.60} is not a vocoder name")
    for field, expected in (("sample_rate", config.sample_rate), ("hop_length", config.hop_length),
                            ("n_mels", config.n_mels)):
        value = meta.get(field, expected)
        if not _is_int(value):
            raise bad(field, f"is {value!r:.60} ({_type_name(value)}), expected the integer {expected}")
        if value != expected:
            raise bad(field, f"is {value}: the mel was made with another front-end (this app uses {expected})")
    selection = meta.get("selection")
    if selection is not None:
        if not isinstance(selection, list) or len(selection) != 4 or not all(_is_int(v) for v in selection):
            raise bad("selection", f"is {selection!r:.60}, expected null or four integers "
                                   "[frame0, frame1, band0, band1]")
    try:
        display = Display.from_json(meta.get("display") if meta.get("display") is not None else {})
    except ValueError as exc:
        raise AudioFileError(where, str(exc)) from None
    return ProjectMeta(version, meta.get("app_version"), meta.get("source"), vocoder, selection, display)


def _check_selection(selection: list[int], path: Path, n_mels: int, frames: int) -> None:
    frame0, frame1, band0, band1 = selection
    if not (0 <= frame0 < frame1 <= frames and 0 <= band0 < band1 <= n_mels):
        raise AudioFileError(Path(f"{path}/meta.json"),
                             f"selection {selection} is outside the mel's {frames} frames × {n_mels} bands "
                             "or empty")


def project_bytes(mel: np.ndarray, config: MelConfig, source: str | None, vocoder: str | None,
                  selection: list[int] | None, display: Display | None = None) -> bytes:
    """A project file's content: a zip of ``mel`` as ``mel.npy`` and the fields as ``meta.json``.

    Args:
        mel: float32 ln-mel ``(n_mels, frames)``.
        config: the front-end the mel was made with (its sample rate, hop length and n_mels are recorded).
        source, vocoder: the file the mel came from and the vocoder chosen for it (or None).
        selection: ``[frame0, frame1, band0, band1]`` or None.
        display: the colour map and range (default: :class:`~vocoder_studio.display.Display`'s defaults).
    """
    buffer = BytesIO()
    mel_bytes = BytesIO()
    np.save(mel_bytes, mel, allow_pickle=False)
    meta = {
        "format": PROJECT_FORMAT,
        "format_version": PROJECT_FORMAT_VERSION,
        "app_version": __version__,
        "source": source,
        "vocoder": vocoder,
        "sample_rate": config.sample_rate,
        "hop_length": config.hop_length,
        "n_mels": config.n_mels,
        "selection": selection,
        "display": (display or Display()).to_json(),
    }
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mel.npy", mel_bytes.getvalue())
        archive.writestr("meta.json", json.dumps(meta, indent=2))
    return buffer.getvalue()


def write_project(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write :func:`project_bytes` output to ``path`` atomically (temporary file + rename); returns the path.

    Raises:
        AudioFileError: the file cannot be written.
    """
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise AudioFileError(path, f"cannot write ({exc.strerror or exc})") from None
    return path


def read_project(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> tuple[np.ndarray, ProjectMeta]:
    """Read a project file, treating it as untrusted input.

    Members are read with size caps checked from the zip directory before anything is decompressed
    (``meta.json`` at most :data:`MAX_META_BYTES`, ``mel.npy`` at most a mel of
    :func:`~vocoder_studio.audio.io.max_mel_frames` frames), the mel's shape is checked from its ``.npy`` header
    before anything is allocated, nothing is unpickled or extracted, ``meta.json`` is checked against the
    project schema (see :func:`check_meta`) and the selection against the mel.

    Returns:
        the float32 ln-mel ``(config.n_mels, frames)`` and the checked fields.
    Raises:
        AudioFileError: not a project zip (damaged, encrypted, an unknown compression method), missing or
            oversized members, a bad mel inside, or a ``meta.json`` field of the wrong type or value (the
            message names the field).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(path, "no such file" if not path.exists() else "is a folder, not a file")
    try:
        with zipfile.ZipFile(path) as archive:
            meta_info = _member(archive, path, "meta.json", MAX_META_BYTES)
            mel_info = _member(archive, path, "mel.npy", _max_npy_bytes(config))
            meta = check_meta(json.loads(archive.read(meta_info).decode("utf-8")), path, config)
            with archive.open(mel_info) as handle:
                mel = read_mel_npy(handle, f"{path}/mel.npy", config, size=mel_info.file_size)
    except VocoderStudioError:
        raise
    except PermissionError:
        raise AudioFileError(path, "permission denied (the file cannot be read)") from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted member, unknown compression method
        raise AudioFileError(path, f"not a readable Vocoder Studio project ({_first_line(exc)})") from None
    except MemoryError:
        raise AudioFileError(path, "not a readable Vocoder Studio project (out of memory)") from None
    except RecursionError:
        raise AudioFileError(path, "not a Vocoder Studio project (meta.json is nested too deeply)") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, EOFError, OSError,
            zlib.error) as exc:
        raise AudioFileError(path, f"not a Vocoder Studio project ({_first_line(exc)})") from None
    if meta.selection is not None:
        _check_selection(meta.selection, path, config.n_mels, mel.shape[1])
    return mel, meta
