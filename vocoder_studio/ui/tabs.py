"""Document tabs: one tab per open document (its canvas, file and the mel it was opened with)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from vocoder_studio.audio.mel import MelConfig
from vocoder_studio.document import Document, Region
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.tools import ToolState

#: What a refused edit of a read-only document says (status bar).
READ_ONLY_MESSAGE = "the original is read-only: edit the document in its own tab"


class ReadOnlyDocument(Document):
    """A document that refuses every change (the split view's untouched original).

    Every edit reaches :meth:`Document.write` (tools, gain, paste …), so refusing there keeps the original as
    it was opened whatever tries to change it; each refusal calls the ``refused`` listeners once per edit.
    """

    read_only = True

    def __init__(self, mel: np.ndarray, source: str | None, vocoder: str | None,
                 config: MelConfig) -> None:
        super().__init__(mel, source=source, vocoder=vocoder, config=config)
        self.refused: list[Callable[[str], None]] = []

    def _refuse(self) -> None:
        for listener in list(self.refused):
            listener(READ_ONLY_MESSAGE)

    def write(self, region: Region, values: np.ndarray) -> None:
        self._refuse()

    def replace(self, mel: np.ndarray, label: str = "Replace") -> None:
        self._refuse()

    def splice_frames(self, *args: Any, **kwargs: Any) -> None:
        """Frame inserts, appends and deletes (where the document offers them) are refused too."""
        self._refuse()

    def undo(self) -> bool:
        return False

    def redo(self) -> bool:
        return False


def is_read_only(doc: Document | None) -> bool:
    """Whether ``doc`` refuses edits (see :class:`ReadOnlyDocument`)."""
    return bool(getattr(doc, "read_only", False))


class DocumentTab(QWidget):
    """One open document: its canvas, file path and the mel it was opened with (the "original")."""

    def __init__(self, doc: Document, tools: ToolState, path: Path | None) -> None:
        super().__init__()
        self.doc = doc
        self.path = path
        self.original = np.array(doc.mel, copy=True)
        self.original_doc: ReadOnlyDocument | None = None
        self.canvas = SpectrogramCanvas(doc, tools)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)

    @property
    def name(self) -> str:
        if self.doc.project_path is not None:
            return self.doc.project_path.name
        return self.path.name if self.path is not None else "untitled"

    def original_document(self) -> ReadOnlyDocument:
        """The mel as opened, as a read-only document (the split view shows it)."""
        if self.original_doc is None:
            self.original_doc = ReadOnlyDocument(self.original, self.doc.source, self.doc.vocoder, self.doc.config)
        return self.original_doc


class DocumentTabs(QTabWidget):
    """The tab widget: opens and closes documents, relays their change notices, titles with ``*`` for unsaved
    changes.

    Signals:
        tabOpened(tab), tabClosing(tab) (before its canvas goes), tabsChanged() (after either),
        documentChanged(doc) (any change of an open document's mel), historyChanged(doc) (its undo stack).
    """

    tabOpened = Signal(object)
    tabClosing = Signal(object)
    tabsChanged = Signal()
    documentChanged = Signal(object)
    historyChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setDocumentMode(True)

    def tab(self, index: int | None = None) -> DocumentTab | None:
        """The tab at ``index`` (the current one by default), or None."""
        widget = self.widget(self.currentIndex() if index is None else index)
        return widget if isinstance(widget, DocumentTab) else None

    def __iter__(self) -> Iterator[DocumentTab]:
        for i in range(self.count()):
            tab = self.tab(i)
            if tab is not None:
                yield tab

    def tab_of(self, doc: Document) -> DocumentTab | None:
        """The tab showing ``doc``, or None."""
        return next((tab for tab in self if tab.doc is doc), None)

    def open(self, doc: Document, tools: ToolState, path: Path | None) -> DocumentTab:
        """Show ``doc`` in a new tab and make it current."""
        tab = DocumentTab(doc, tools, path)
        doc.subscribe(self._on_doc_changed)
        doc.subscribe_history(self._on_history_changed)
        self.tabOpened.emit(tab)
        self.setCurrentIndex(self.addTab(tab, tab.name))
        self.tabsChanged.emit()
        return tab

    def remove(self, tab: DocumentTab) -> None:
        """Close ``tab`` (no questions asked)."""
        self.tabClosing.emit(tab)
        self.release(tab)
        self.removeTab(self.indexOf(tab))
        tab.deleteLater()
        self.tabsChanged.emit()

    def release(self, tab: DocumentTab) -> None:
        """Stop observing ``tab``'s document (on close and at shutdown)."""
        tab.canvas.detach()
        tab.doc.unsubscribe(self._on_doc_changed)
        tab.doc.unsubscribe_history(self._on_history_changed)

    def _on_doc_changed(self, doc: Document, _region: Region) -> None:
        self.documentChanged.emit(doc)

    def _on_history_changed(self, doc: Document) -> None:
        self.historyChanged.emit(doc)

    def refresh_titles(self) -> None:
        for i in range(self.count()):
            tab = self.tab(i)
            if tab is not None:
                self.setTabText(i, tab.name + (" *" if tab.doc.modified else ""))
