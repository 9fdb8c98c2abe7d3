"""The edited mel-spectrogram: array, version counter, selection, undo/redo of region diffs and of frames
inserted or deleted. The project file format and its checks are :mod:`vocoder_studio.project_file`.

No Qt here. Widgets observe a :class:`Document` through :meth:`Document.subscribe` (and
:meth:`Document.subscribe_frames` for changes of the frame count) and change it only through its methods, so
every change is one undo step and every observer hears of it (napari's model/view split).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, validate_mel
from vocoder_studio.display import Display
from vocoder_studio.errors import MelShapeError
from vocoder_studio.project_file import PROJECT_SUFFIX, project_bytes, read_project, write_project

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
    """A change of values in a rectangle: its cells before and after (one part of an undo step)."""

    label: str
    region: Region
    before: np.ndarray
    after: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes


@dataclass(frozen=True)
class FrameShift:
    """Frames inserted, deleted or replaced: the ``removed`` frames from ``at`` on became ``inserted`` new ones
    (the frame count changes unless both are equal).

    Frame indices before ``at`` keep their meaning; frames from ``at + removed`` on (old numbering) moved by
    :attr:`delta` frames; ``frames`` is the new frame count. An insert has ``removed == 0``, a delete
    ``inserted == 0``, an append ``at`` equal to the old frame count.
    """

    at: int
    removed: int
    inserted: int
    frames: int

    @property
    def delta(self) -> int:
        """Change of the frame count (negative when frames were deleted)."""
        return self.inserted - self.removed

    @property
    def old_frames(self) -> int:
        return self.frames - self.delta

    def map_frame(self, frame: int) -> int:
        """Where old frame ``frame`` is now: unchanged before ``at``, moved by :attr:`delta` from
        ``at + removed`` on (a frame at the insertion point moves with the content after it); a deleted frame
        maps to ``at``."""
        if frame < self.at:
            return frame
        if frame >= self.at + self.removed:
            return frame + self.delta
        return self.at

    def map_end(self, end: int) -> int:
        """Where an exclusive range end ``end`` (old numbering) is now: unchanged up to ``at`` (frames
        inserted at a range's end stay outside it), moved by :attr:`delta` from ``at + removed`` on, ``at``
        when it falls inside the removed frames."""
        if end <= self.at:
            return end
        if end >= self.at + self.removed:
            return end + self.delta
        return self.at

    def map_region(self, region: Region) -> Region | None:
        """Where the cells of ``region`` are now: frames inserted inside it join it, deleted ones leave it;
        None if none of its frames remain."""
        moved = Region(self.map_frame(region.frame0), self.map_end(region.frame1), region.band0, region.band1)
        return None if moved.empty else moved


@dataclass
class FrameSplice:
    """Frames replaced as one part of an undo step: at ``at``, ``removed`` (``(n_mels, k)``) became
    ``inserted_frames`` frames.

    The inserted values are not kept while the step is on the undo stack (they are in the mel); undoing the
    step copies them into ``inserted`` for redo, and redo drops them again, so the history holds only the
    frames that are not in the document (an insert costs nothing on the undo stack, a delete its frames).
    """

    label: str
    at: int
    removed: np.ndarray
    inserted_frames: int
    inserted: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return self.removed.nbytes + (0 if self.inserted is None else self.inserted.nbytes)


@dataclass
class HistoryStep:
    """One undo step: the changes of one edit (a stroke, an insert, a whole generation), in order."""

    label: str
    parts: list[EditCommand | FrameSplice]

    @property
    def nbytes(self) -> int:
        return sum(part.nbytes for part in self.parts)


Listener = Callable[["Document", Region], None]
FrameListener = Callable[["Document", FrameShift], None]


class Document:
    """An editable mel-spectrogram.

    Args:
        mel: float32 ln-mel ``(n_mels, frames)``.
        source: the file it came from (for titles and the project file), or None.
        vocoder: the vocoder name last chosen for it, or None (the app's default).
    Attributes:
        version: increases by one with every change (edits, inserts, deletes, undo, redo); caches key on it.
        selection: the selected :class:`Region`, or None. Inserting or deleting frames moves it with its
            cells (see :meth:`FrameShift.map_region`); None once all its frames are deleted.
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
        #: the frames live in ``_buffer[:, :frames]``; appends grow the buffer geometrically (amortised O(1)
        #: per frame), so ``_mel`` is a view that may not be contiguous
        self._buffer = validate_mel(mel, config).copy()
        self._mel = self._buffer
        self.source = source
        self.vocoder = vocoder
        self.version = 0
        self.selection: Region | None = None
        #: the colour map and range it is shown with (kept in the project file; changing it is no edit)
        self.display = Display()
        self.modified = False
        self.project_path: Path | None = None
        self._undo: list[HistoryStep] = []
        self._redo: list[HistoryStep] = []
        self._listeners: list[Listener] = []
        self._frame_listeners: list[FrameListener] = []
        self._history_listeners: list[Callable[[Document], None]] = []
        self._edit_label: str | None = None
        self._edit_parts: list[EditCommand | FrameSplice] = []
        self._edit_region = Region(0, 0, 0, 0)
        self._edit_before: np.ndarray | None = None

    # ----- reading -------------------------------------------------------------------------------------
    @property
    def mel(self) -> np.ndarray:
        """The current ln-mel ``(n_mels, frames)``, read-only view (change it through the edit methods).

        The view may not be contiguous (after appends); copy it (``doc.mel.copy()``) to keep it.
        """
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
        """Call ``listener(document, changed_region)`` after every change of the mel.

        After frames were inserted or deleted (the frame count may have changed) the region covers all bands
        from the first changed frame to the end of the document, in the new numbering (empty when frames were
        deleted at the end); re-read ``document.frames``. :meth:`subscribe_frames` says exactly what moved.
        """
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def subscribe_frames(self, listener: FrameListener) -> None:
        """Call ``listener(document, shift)`` after frames were inserted, appended, deleted or replaced (also
        by undo and redo), before the :meth:`subscribe` listeners hear the same change; ``shift`` is a
        :class:`FrameShift`. Observers that keep per-frame state (an image, cached audio, a cursor) move it
        with :meth:`FrameShift.map_frame`."""
        self._frame_listeners.append(listener)

    def unsubscribe_frames(self, listener: FrameListener) -> None:
        if listener in self._frame_listeners:
            self._frame_listeners.remove(listener)

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
        """Group every change inside the block (:meth:`write`, :meth:`insert_frames`, :meth:`append_frames`,
        :meth:`delete_frames`, :meth:`splice_frames`) into one undo step named ``label``.

        A brush stroke opens one edit and writes many dabs; Ctrl+Z then undoes the whole stroke. A generation
        that appends frames block by block inside one edit is one step too.
        """
        self.begin_edit(label)
        try:
            yield self
        finally:
            self.end_edit()

    def begin_edit(self, label: str) -> None:
        """Open an undo step named ``label`` (closing one still open); :meth:`end_edit` pushes it."""
        if self._edit_label is not None:
            self.end_edit()
        self._edit_label = label
        self._edit_parts = []
        self._edit_region = Region(0, 0, 0, 0)
        self._edit_before = None

    @property
    def editing(self) -> bool:
        """Whether an undo step is open (between :meth:`begin_edit` and :meth:`end_edit`)."""
        return self._edit_label is not None

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

    def _close_rectangle(self) -> None:
        """Turn the cells written since the last structural change of the open step into one part."""
        region, before = self._edit_region, self._edit_before
        self._edit_region, self._edit_before = Region(0, 0, 0, 0), None
        if self._edit_label is None or before is None or region.empty:
            return
        after = self._mel[region.slices].copy()
        if not np.array_equal(before, after):
            self._edit_parts.append(EditCommand(self._edit_label, region, before, after))

    def end_edit(self) -> None:
        """Close the current edit and push it on the undo stack (nothing if nothing changed)."""
        self._close_rectangle()
        label, parts = self._edit_label, self._edit_parts
        self._edit_label, self._edit_parts = None, []
        if label is None or not parts:
            return
        self._undo.append(HistoryStep(label, parts))
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
        if self._edit_label is not None:
            self._edit_label, self._edit_parts, self._edit_before = None, [], None
            self._edit_region = Region(0, 0, 0, 0)
        self._buffer = mel.copy()
        self._mel = self._buffer
        self._undo.clear()
        self._redo.clear()
        self.selection = None
        self._changed(self.full_region)
        self._history_changed()

    # ----- frames: insert, append, delete ----------------------------------------------------------------
    def _check_block(self, block: np.ndarray | None) -> np.ndarray:
        if block is None:
            return np.zeros((self.n_mels, 0), np.float32)
        arr = np.asarray(block)
        if arr.ndim != 2 or arr.shape[0] != self.n_mels:
            raise MelShapeError(f"frames to insert must have shape ({self.n_mels}, frames), got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.floating):
            raise MelShapeError(f"frames to insert must be float, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise MelShapeError("frames to insert hold NaN or infinite numbers")
        return np.maximum(arr.astype(np.float32, copy=False), self.config.floor_ln)

    def splice_frames(self, start: int, end: int, block: np.ndarray | None, label: str = "Replace frames",
                      extend: bool = False) -> FrameShift | None:
        """Replace frames ``[start, end)`` with ``block`` as one undo step (or part of the open :meth:`edit`).

        Inserting (``start == end``), appending (``start == end == frames``), deleting (``block`` None or with
        no frames) and inpainting (a block of ``end - start`` frames) are all this operation. Values are raised
        to the config's floor like :meth:`write`'s. Undo and redo restore the mel and the frame count exactly;
        the history keeps only the removed frames (and, after an undo, the inserted ones for redo).

        Args:
            start, end: the frames replaced, ``0 <= start <= end <= frames``.
            block: float ln-mel ``(n_mels, k)``, ``k >= 0``, or None for no frames.
            label: the undo step's name.
            extend: join the newest undo step instead of pushing a new one when that step is named ``label``,
                nothing was undone since, and its last change was a splice whose inserted frames end exactly at
                ``start``. A generation that appends (or inpaints, replacing the frames after the last block)
                block by block passes False for its first block and True for the rest: one undo step, and an
                edit by the user between two blocks starts a new one. Inside an open :meth:`edit`, blocks that
                follow each other join the same part anyway.
        Returns:
            The :class:`FrameShift` observers heard, or None if nothing changed.
        Raises:
            MelShapeError: a range outside the mel, a block of the wrong shape, dtype or with NaN/inf, or a
                change that would leave the document without frames.
        """
        frames = self.frames
        if not 0 <= start <= end <= frames:
            raise MelShapeError(f"frame range [{start}, {end}) is outside the document's {frames} frames")
        values = self._check_block(block)
        inserted = int(values.shape[1])
        if inserted == 0 and start == end:
            return None
        if frames - (end - start) + inserted < 1:
            raise MelShapeError(f"deleting frames [{start}, {end}) would leave the document without frames")
        if extend and self._extend_newest(label, start, end, values):
            return self._apply_splice(start, end - start, values)
        own_step = self._edit_label is None
        if own_step:
            self.begin_edit(label)
        self._close_rectangle()
        last = self._edit_parts[-1] if self._edit_parts else None
        if isinstance(last, FrameSplice) and last.at + last.inserted_frames == start:
            self._grow_splice(last, start, end, inserted)  # a block straight after the last one
        else:
            removed = self._mel[:, start:end].copy()
            self._edit_parts.append(FrameSplice(self._edit_label or label, start, removed, inserted))
        shift = self._apply_splice(start, end - start, values)
        if own_step:
            self.end_edit()
        return shift

    def _extend_newest(self, label: str, start: int, end: int, values: np.ndarray) -> bool:
        """Grow the newest undo step's last splice by this one if ``extend`` allows it (see
        :meth:`splice_frames`)."""
        if self._edit_label is not None or self._redo or not self._undo:
            return False
        step = self._undo[-1]
        last = step.parts[-1]
        if step.label != label or not isinstance(last, FrameSplice) or last.at + last.inserted_frames != start:
            return False
        self._grow_splice(last, start, end, int(values.shape[1]))
        return True

    def _grow_splice(self, part: FrameSplice, start: int, end: int, inserted: int) -> None:
        """Make ``part`` also cover replacing frames ``[start, end)`` (right after its inserted frames) with
        ``inserted`` frames; call before the frames change."""
        if end > start:
            part.removed = np.concatenate([part.removed, self._mel[:, start:end]], axis=1)
        part.inserted_frames += inserted

    def insert_frames(self, at: int, block: np.ndarray, label: str = "Insert frames") -> FrameShift | None:
        """Insert ``block`` (float ln-mel ``(n_mels, k)``) before frame ``at`` (``0 <= at <= frames``) as one
        undo step; frames from ``at`` on move ``k`` frames later. See :meth:`splice_frames`."""
        return self.splice_frames(at, at, block, label)

    def append_frames(self, block: np.ndarray, label: str = "Append frames",
                      extend: bool = False) -> FrameShift | None:
        """Add ``block`` (float ln-mel ``(n_mels, k)``) after the last frame as one undo step.

        Cheap: the storage grows geometrically, so appending one frame at a time costs amortised O(k), and the
        history stores nothing for the appended frames. A generation makes one undo step either inside
        ``with doc.edit(label):`` or with ``extend=True`` for every block after the first (see
        :meth:`splice_frames`).
        """
        return self.splice_frames(self.frames, self.frames, block, label, extend)

    def delete_frames(self, start: int, end: int, label: str = "Delete frames") -> FrameShift | None:
        """Delete frames ``[start, end)`` as one undo step; later frames move ``end - start`` frames earlier.
        The history keeps the deleted frames. See :meth:`splice_frames`."""
        return self.splice_frames(start, end, None, label)

    def _apply_splice(self, at: int, removed: int, values: np.ndarray) -> FrameShift:
        """Put ``values`` in place of frames ``[at, at + removed)`` and tell the observers."""
        frames = self.frames
        inserted = int(values.shape[1])
        new_frames = frames - removed + inserted
        if at + removed == frames and new_frames <= self._buffer.shape[1]:
            self._buffer[:, at:new_frames] = values  # at the end, with room: nothing else moves
        elif at + removed == frames:
            capacity = max(new_frames, int(self._buffer.shape[1] * 1.5) + 16)
            buffer = np.empty((self.n_mels, capacity), np.float32)
            buffer[:, :at] = self._mel[:, :at]
            buffer[:, at:new_frames] = values
            self._buffer = buffer
        else:
            self._buffer = np.concatenate([self._mel[:, :at], values, self._mel[:, at + removed :]], axis=1)
        self._mel = self._buffer[:, :new_frames]
        shift = FrameShift(at, removed, inserted, new_frames)
        if self.selection is not None:
            self.selection = shift.map_region(self.selection)
        self.version += 1
        self.modified = True
        for listener in list(self._frame_listeners):
            listener(self, shift)
        end = at + inserted if inserted == removed else new_frames
        self._changed_without_version(Region(at, end, 0, self.n_mels))
        return shift

    def _changed_without_version(self, region: Region) -> None:
        for listener in list(self._listeners):
            listener(self, region)

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
        """Memory held by the undo and redo stacks, in bytes (grows with the edited area and the frames
        deleted, not with the document)."""
        return sum(c.nbytes for c in self._undo) + sum(c.nbytes for c in self._redo)

    def undo(self) -> bool:
        """Undo the last step; False if there is none."""
        if self._edit_label is not None:
            self.end_edit()
        if not self._undo:
            return False
        step = self._undo.pop()
        for part in reversed(step.parts):
            if isinstance(part, EditCommand):
                self._mel[part.region.slices] = part.before
                self._changed(part.region)
            else:
                part.inserted = self._mel[:, part.at : part.at + part.inserted_frames].copy()
                self._apply_splice(part.at, part.inserted_frames, part.removed)
        self._redo.append(step)
        self._history_changed()
        return True

    def redo(self) -> bool:
        """Redo the last undone step; False if there is none."""
        if not self._redo:
            return False
        step = self._redo.pop()
        for part in step.parts:
            if isinstance(part, EditCommand):
                self._mel[part.region.slices] = part.after
                self._changed(part.region)
            else:
                assert part.inserted is not None
                self._apply_splice(part.at, part.removed.shape[1], part.inserted)
                part.inserted = None
        self._undo.append(step)
        self._history_changed()
        return True

    # ----- project files (the format: :mod:`vocoder_studio.project_file`) ------------------------------------
    def to_project_bytes(self) -> bytes:
        """The project file's content: a zip of ``mel.npy`` and ``meta.json``."""
        selection = None if self.selection is None else list(vars(self.selection).values())
        return project_bytes(self._mel, self.config, self.source, self.vocoder, selection, self.display)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the project atomically (temporary file + rename); marks the document unmodified.

        Raises:
            AudioFileError: the file cannot be written.
        """
        path = write_project(path, self.to_project_bytes())
        self.project_path = path
        self.modified = False
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: MelConfig = DEFAULT_CONFIG) -> Document:
        """Open a project file written by :meth:`save`, treating it as untrusted input
        (:func:`~vocoder_studio.project_file.read_project`).

        Raises:
            AudioFileError: as ``read_project``.
        """
        mel, meta = read_project(path, config)
        doc = cls(mel, source=meta.source, vocoder=meta.vocoder, config=config)
        if meta.selection is not None:
            doc.selection = Region(*meta.selection)
        doc.display = meta.display
        doc.project_path = Path(path)
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
    from vocoder_studio.audio.io import load_mel, mel_blocks

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == PROJECT_SUFFIX:
        return Document.load(path, config)
    if suffix == ".npy":
        return Document(load_mel(path, config), source=str(path), config=config)
    blocks = list(mel_blocks(path, config))  # analysed as read: the audio never exists whole
    return Document(blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1), source=str(path),
                    config=config)
