"""The edited mel-spectrogram: array, version counter, selection, undo/redo of region diffs, project files.

No Qt here. Widgets observe a :class:`Document` through :meth:`Document.subscribe` and change it only through
its methods, so every change is one undo step and every observer hears of it (napari's model/view split).
"""

from __future__ import annotations

import itertools
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np

from vocoder_studio import __version__
from vocoder_studio.audio.io import atomic_path
from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, validate_mel
from vocoder_studio.errors import AudioFileError, MelShapeError, VocoderStudioError

PROJECT_SUFFIX = ".vsproj"
_UIDS = itertools.count(1)


@dataclass(frozen=True)
class Region:
    """A rectangle of cells: frames ``[frame0, frame1)`` × mel bands ``[band0, band1)``."""

    frame0: int
    frame1: int
    band0: int
    band1: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index for ``mel[band, frame]`` arrays."""
        return slice(self.band0, self.band1), slice(self.frame0, self.frame1)

    @property
    def empty(self) -> bool:
        return self.frame1 <= self.frame0 or self.band1 <= self.band0

    @property
    def cells(self) -> int:
        return 0 if self.empty else (self.frame1 - self.frame0) * (self.band1 - self.band0)

    def union(self, other: Region) -> Region:
        if self.empty:
            return other
        if other.empty:
            return self
        return Region(min(self.frame0, other.frame0), max(self.frame1, other.frame1),
                      min(self.band0, other.band0), max(self.band1, other.band1))

    def clip(self, n_mels: int, frames: int) -> Region:
        return Region(max(0, self.frame0), min(frames, self.frame1), max(0, self.band0), min(n_mels, self.band1))

    @classmethod
    def from_corners(cls, frame_a: float, band_a: float, frame_b: float, band_b: float) -> Region:
        """The cells covered by a rectangle dragged between two points (in cell coordinates)."""
        f0, f1 = sorted((frame_a, frame_b))
        b0, b1 = sorted((band_a, band_b))
        return cls(int(np.floor(f0)), int(np.floor(f1)) + 1, int(np.floor(b0)), int(np.floor(b1)) + 1)


@dataclass
class EditCommand:
    """One undo step: the rectangle and its values before and after."""

    label: str
    region: Region
    before: np.ndarray
    after: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes


Listener = Callable[["Document", Region], None]


class Document:
    """An editable mel-spectrogram.

    Args:
        mel: float32 ln-mel ``(n_mels, frames)``.
        source: the file it came from (for titles and the project file), or None.
        vocoder: the vocoder name last chosen for it, or None (the app's default).
    Attributes:
        version: increases by one with every change (edits, undo, redo); caches key on it.
        selection: the selected :class:`Region`, or None.
        modified: changed since the last save / load.
    """

    def __init__(
        self,
        mel: np.ndarray,
        source: str | None = None,
        vocoder: str | None = None,
        config: MelConfig = DEFAULT_CONFIG,
    ) -> None:
        self.config = config
        #: unique for the life of the process (unlike ``id()``, never reused): caches key on it
        self.uid = next(_UIDS)
        self._mel = validate_mel(mel, config).copy()
        self.source = source
        self.vocoder = vocoder
        self.version = 0
        self.selection: Region | None = None
        self.modified = False
        self.project_path: Path | None = None
        self._undo: list[EditCommand] = []
        self._redo: list[EditCommand] = []
        self._listeners: list[Listener] = []
        self._history_listeners: list[Callable[[Document], None]] = []
        self._edit_label: str | None = None
        self._edit_region = Region(0, 0, 0, 0)
        self._edit_before: np.ndarray | None = None

    # ----- reading -------------------------------------------------------------------------------------
    @property
    def mel(self) -> np.ndarray:
        """The current ln-mel ``(n_mels, frames)``, read-only view (change it through the edit methods)."""
        view = self._mel.view()
        view.flags.writeable = False
        return view

    @property
    def n_mels(self) -> int:
        return int(self._mel.shape[0])

    @property
    def frames(self) -> int:
        return int(self._mel.shape[1])

    @property
    def duration(self) -> float:
        """Length of the audio it stands for, in seconds."""
        return self.frames * self.config.frame_seconds

    @property
    def full_region(self) -> Region:
        return Region(0, self.frames, 0, self.n_mels)

    # ----- observers -----------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(document, changed_region)`` after every change of the mel."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def subscribe_history(self, listener: Callable[[Document], None]) -> None:
        """Call ``listener(document)`` after the undo history changed (a step pushed, undone or redone); the
        change notices of :meth:`subscribe` come earlier, while a stroke is still being written."""
        self._history_listeners.append(listener)

    def unsubscribe_history(self, listener: Callable[[Document], None]) -> None:
        if listener in self._history_listeners:
            self._history_listeners.remove(listener)

    def _history_changed(self) -> None:
        for listener in list(self._history_listeners):
            listener(self)

    def _changed(self, region: Region) -> None:
        self.version += 1
        self.modified = True
        for listener in list(self._listeners):
            listener(self, region)

    # ----- editing ---------------------------------------------------------------------------------------
    @contextmanager
    def edit(self, label: str) -> Iterator[Document]:
        """Group every :meth:`write` inside the block into one undo step named ``label``.

        A brush stroke opens one edit and writes many dabs; Ctrl+Z then undoes the whole stroke.
        """
        self.begin_edit(label)
        try:
            yield self
        finally:
            self.end_edit()

    def begin_edit(self, label: str) -> None:
        if self._edit_label is not None:
            self.end_edit()
        self._edit_label = label
        self._edit_region = Region(0, 0, 0, 0)
        self._edit_before = None

    def write(self, region: Region, values: np.ndarray) -> None:
        """Set the cells of ``region`` to ``values`` (shape ``(bands, frames)`` of the region).

        Outside an :meth:`edit` block each call is its own undo step.

        Raises:
            MelShapeError: values of the wrong shape or not finite.
        """
        region = region.clip(self.n_mels, self.frames)
        if region.empty:
            return
        values = np.asarray(values, dtype=np.float32)
        expected = (region.band1 - region.band0, region.frame1 - region.frame0)
        if values.shape != expected:
            raise MelShapeError(f"values of shape {values.shape} do not fit region {expected}")
        if not np.all(np.isfinite(values)):
            raise MelShapeError("edit values hold NaN or infinite numbers")
        own_step = self._edit_label is None
        if own_step:
            self.begin_edit("Edit")
        self._grow_edit(region)
        self._mel[region.slices] = np.maximum(values, self.config.floor_ln)
        self._changed(region)
        if own_step:
            self.end_edit()

    def _grow_edit(self, region: Region) -> None:
        grown = self._edit_region.union(region)
        if grown == self._edit_region:
            return
        before = self._mel[grown.slices].copy()
        if self._edit_before is not None:
            old = self._edit_region
            before[old.band0 - grown.band0 : old.band1 - grown.band0,
                   old.frame0 - grown.frame0 : old.frame1 - grown.frame0] = self._edit_before
        self._edit_region, self._edit_before = grown, before

    def end_edit(self) -> None:
        """Close the current edit and push it on the undo stack (nothing if nothing was written)."""
        label, region, before = self._edit_label, self._edit_region, self._edit_before
        self._edit_label, self._edit_before = None, None
        if label is None or before is None or region.empty:
            return
        after = self._mel[region.slices].copy()
        if np.array_equal(before, after):
            return
        self._undo.append(EditCommand(label, region, before, after))
        self._redo.clear()
        self._history_changed()

    def replace(self, mel: np.ndarray, label: str = "Replace") -> None:
        """Replace the whole mel (same shape: one undo step; new shape: clears the history)."""
        mel = validate_mel(mel, self.config)
        if mel.shape == self._mel.shape:
            if self._edit_label is not None:
                self.write(self.full_region, mel)
            else:
                with self.edit(label):
                    self.write(self.full_region, mel)
            return
        self._mel = mel.copy()
        self._undo.clear()
        self._redo.clear()
        self.selection = None
        self._changed(self.full_region)
        self._history_changed()

    # ----- undo ------------------------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None

    @property
    def history_bytes(self) -> int:
        """Memory held by the undo and redo stacks, in bytes (grows with the edited area)."""
        return sum(c.nbytes for c in self._undo) + sum(c.nbytes for c in self._redo)

    def undo(self) -> bool:
        """Undo the last step; False if there is none."""
        if self._edit_label is not None:
            self.end_edit()
        if not self._undo:
            return False
        command = self._undo.pop()
        self._mel[command.region.slices] = command.before
        self._redo.append(command)
        self._changed(command.region)
        self._history_changed()
        return True

    def redo(self) -> bool:
        """Redo the last undone step; False if there is none."""
        if not self._redo:
            return False
        command = self._redo.pop()
        self._mel[command.region.slices] = command.after
        self._undo.append(command)
        self._changed(command.region)
        self._history_changed()
        return True

    # ----- files -----------------------------------------------------------------------------------------
    def to_project_bytes(self) -> bytes:
        """The project file's content: a zip of ``mel.npy`` and ``meta.json``."""
        buffer = BytesIO()
        mel_bytes = BytesIO()
        np.save(mel_bytes, self._mel, allow_pickle=False)
        meta = {
            "format": "vocoder-studio-project",
            "format_version": 1,
            "app_version": __version__,
            "source": self.source,
            "vocoder": self.vocoder,
            "sample_rate": self.config.sample_rate,
            "hop_length": self.config.hop_length,
            "n_mels": self.config.n_mels,
            "selection": None if self.selection is None else list(vars(self.selection).values()),
        }
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("mel.npy", mel_bytes.getvalue())
            archive.writestr("meta.json", json.dumps(meta, indent=2))
        return buffer.getvalue()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the project atomically (temporary file + rename); marks the document unmodified."""
        path = Path(path)
        data = self.to_project_bytes()
        try:
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
        except OSError as exc:
            raise AudioFileError(path, f"cannot write ({exc.strerror or exc})") from None
        self.project_path = path
        self.modified = False
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> Document:
        """Open a project file written by :meth:`save`.

        Raises:
            AudioFileError: not a project zip, missing members, or a bad mel inside.
        """
        path = Path(path)
        if not path.is_file():
            raise AudioFileError(path, "no such file")
        try:
            with zipfile.ZipFile(path) as archive:
                meta = json.loads(archive.read("meta.json"))
                mel = np.load(BytesIO(archive.read("mel.npy")), allow_pickle=False)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise AudioFileError(path, f"not a Vocoder Studio project ({exc})") from None
        if meta.get("sample_rate", config.sample_rate) != config.sample_rate:
            raise AudioFileError(path, f"project sample rate {meta['sample_rate']} Hz is not {config.sample_rate}")
        try:
            doc = cls(mel, source=meta.get("source"), vocoder=meta.get("vocoder"), config=config)
        except VocoderStudioError as exc:
            raise AudioFileError(path, str(exc)) from None
        if meta.get("selection"):
            doc.selection = Region(*meta["selection"])
        doc.project_path = path
        return doc


def open_document(path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> Document:
    """A document from an audio file (through the mel front-end), a ``.npy`` mel, or a project file.

    Args:
        path: ``.vsproj`` project, ``.npy`` float32 ln-mel ``(n_mels, frames)``, or any audio file soundfile
            reads (any sample rate or channel count; resampled to ``config.sample_rate`` and mixed to mono).
    Returns:
        A new, unmodified :class:`Document` whose ``source`` is ``path``.
    Raises:
        AudioFileError: the file is missing, unreadable, too short (less than one frame), or not a mel.
    """
    from vocoder_studio.audio.io import load_audio, load_mel
    from vocoder_studio.audio.mel import wav_to_mel

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == PROJECT_SUFFIX:
        return Document.load(path, config)
    if suffix == ".npy":
        return Document(load_mel(path, config), source=str(path), config=config)
    audio = load_audio(path, config)
    if audio.size < config.hop_length:
        raise AudioFileError(path, f"too short: less than one {1000 * config.hop_length / config.sample_rate:.1f} ms "
                                   "frame of audio")
    return Document(wav_to_mel(audio, config), source=str(path), config=config)
