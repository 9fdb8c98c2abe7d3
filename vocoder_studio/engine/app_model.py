"""The application model: what the window shows and the commands act on, without Qt.

The open documents (in tab order), the current one (the current tab's), the active one (the canvas last clicked:
the current tab's or the split view's), the vocoder choice with every vocoder's parameter values, whether the
transport plays, the clipboard, and the messages for the user. Each change is announced by an :class:`Event`;
widgets and command modules receive this model (and the few Qt objects they draw on) instead of the main window,
as napari's widgets receive its evented ``ViewerModel``. Tested without a display (``tests/engine/test_app_model.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vocoder_studio.document import Document
from vocoder_studio.engine.events import Event
from vocoder_studio.vocoders.choice import VocoderChoice


@dataclass
class AppEvents:
    """The model's events; each callback receives the arguments listed.

    Attributes:
        added: (document, path or None) a document was opened (the window shows it in a new tab).
        removed: (document,) a document was closed.
        current: (document or None,) the current document changed.
        active: (document or None,) the document commands act on changed.
        edited: (document,) an open document's mel changed.
        saved: (document, path) a document was saved as a project.
        exported: (path,) an export was written.
        vocoder: (choice,) the vocoder, its device or a parameter value changed.
        playing: (bool,) the transport started or stopped.
        commands: () something the enabled commands depend on changed (the clipboard, an undo step).
        status: (message,) a one-line message for the status bar.
        error: (message,) an error for the user (status bar and a message box).
    """

    added: Event[Document, Path | None] = field(default_factory=Event)
    removed: Event[Document] = field(default_factory=Event)
    current: Event[Document | None] = field(default_factory=Event)
    active: Event[Document | None] = field(default_factory=Event)
    edited: Event[Document] = field(default_factory=Event)
    saved: Event[Document, Path] = field(default_factory=Event)
    exported: Event[Path] = field(default_factory=Event)
    vocoder: Event[VocoderChoice] = field(default_factory=Event)
    playing: Event[bool] = field(default_factory=Event)
    commands: Event[()] = field(default_factory=Event[()])
    status: Event[str] = field(default_factory=Event)
    error: Event[str] = field(default_factory=Event)


@dataclass(frozen=True)
class Clip:
    """Cells copied from a document: ``cells`` (bands, frames) float32 ln-mel, from band ``band0`` up."""

    cells: np.ndarray
    band0: int


class AppModel:
    """The open documents, the current and the active one, the vocoder choice, the transport state, the clipboard.

    Args:
        interactive: whether commands may ask the user (dialogs); False in tests and scripted runs.
    Attributes:
        events: :class:`AppEvents`.
        documents: the open documents in tab order (read-only; :meth:`add` and :meth:`remove` change it).
    """

    def __init__(self, interactive: bool = True) -> None:
        self.interactive = interactive
        self.events = AppEvents()
        self.documents: list[Document] = []
        self._current: Document | None = None
        self._active: Document | None = None
        self._vocoder = VocoderChoice()
        self._params: dict[str, dict[str, Any]] = {}
        self._playing = False
        self._clip: Clip | None = None

    # ----- documents -----
    def add(self, doc: Document, path: Path | None = None) -> None:
        """Open ``doc`` (read from ``path``, if any); a document already open is left as it is."""
        if any(d is doc for d in self.documents):
            return
        self.documents.append(doc)
        doc.subscribe(self._on_edited)
        self.events.added.emit(doc, path)

    def remove(self, doc: Document) -> None:
        """Close ``doc``; it stops being current or active. No error if it is not open."""
        if not any(d is doc for d in self.documents):
            return
        self.documents = [d for d in self.documents if d is not doc]
        doc.unsubscribe(self._on_edited)
        self.events.removed.emit(doc)
        if self._current is doc:
            self.current = None
        if self._active is doc:
            self.active = None

    def document(self, uid: int) -> Document | None:
        """The open document whose :attr:`Document.uid` is ``uid``, or None."""
        return next((d for d in self.documents if d.uid == uid), None)

    def _on_edited(self, doc: Document, _region: object) -> None:
        self.events.edited.emit(doc)

    @property
    def current(self) -> Document | None:
        """The current tab's document (None without documents)."""
        return self._current

    @current.setter
    def current(self, doc: Document | None) -> None:
        if doc is not self._current:
            self._current = doc
            self.events.current.emit(doc)

    @property
    def active(self) -> Document | None:
        """The document commands and Play act on: the current one's, or the split view's when it was clicked last
        (that one may be read-only)."""
        return self._active

    @active.setter
    def active(self, doc: Document | None) -> None:
        if doc is not self._active:
            self._active = doc
            self.events.active.emit(doc)

    def saved(self, doc: Document, path: Path) -> None:
        """Announce that ``doc`` was saved as ``path``."""
        self.events.saved.emit(doc, path)

    def exported(self, path: Path) -> None:
        """Announce that an export wrote ``path``."""
        self.events.exported.emit(path)

    # ----- vocoder, transport, clipboard -----
    @property
    def vocoder(self) -> VocoderChoice:
        """The chosen vocoder with its device preference and parameters."""
        return self._vocoder

    def set_vocoder(self, choice: VocoderChoice, params: dict[str, dict[str, Any]] | None = None) -> None:
        """Choose ``choice``; ``params`` gives every vocoder's parameter values (as its panel shows them)."""
        if params is not None:
            self._params = {name: dict(values) for name, values in params.items()}
        self._params[choice.name] = dict(choice.params)
        if choice != self._vocoder or params is not None:
            self._vocoder = choice
            self.events.vocoder.emit(choice)

    def choice_for(self, name: str) -> VocoderChoice:
        """Vocoder ``name`` with the chosen device and its own parameter values (the defaults where none were set)."""
        return VocoderChoice.make(name, self._vocoder.device, **self._params.get(name, {}))

    @property
    def playing(self) -> bool:
        """Whether the transport plays."""
        return self._playing

    @playing.setter
    def playing(self, on: bool) -> None:
        if bool(on) != self._playing:
            self._playing = bool(on)
            self.events.playing.emit(self._playing)

    @property
    def clipboard(self) -> Clip | None:
        """The cells last copied, or None."""
        return self._clip

    @clipboard.setter
    def clipboard(self, clip: Clip | None) -> None:
        self._clip = clip
        self.events.commands.emit()

    def commands_changed(self) -> None:
        """Announce that what the enabled commands depend on may have changed (an undo step, say)."""
        self.events.commands.emit()

    # ----- messages -----
    def say(self, message: str) -> None:
        """A one-line message for the status bar."""
        self.events.status.emit(message)

    def fail(self, message: str) -> None:
        """An error for the user."""
        self.events.error.emit(message)
