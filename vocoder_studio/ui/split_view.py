"""The split view: a second canvas beside the tabs, showing a tab's untouched original (read-only) or another
open document."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from vocoder_studio.document import Document
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.tabs import DocumentTabs, is_read_only
from vocoder_studio.ui.theme import WARNING_STYLE
from vocoder_studio.ui.tools import ToolState


def split_choices(tabs: DocumentTabs) -> list[tuple[str, Document]]:
    """What the split view can show: each tab's original (the current tab's first), then each open document."""
    current = tabs.tab()
    order = ([current] if current else []) + [t for t in tabs if t is not current]
    return ([(f"Original: {t.name}", t.original_document()) for t in order]
            + [(t.name, t.doc) for t in tabs])


class SplitView(QWidget):
    """The second pane: a "Compare with" chooser, a read-only mark, and the canvas.

    Signals:
        canvasCreated(canvas): a new canvas is shown (connect its signals).
        canvasRemoved(canvas): the canvas is about to go (stop using it).
    """

    canvasCreated = Signal(object)
    canvasRemoved = Signal(object)

    def __init__(self, tabs: DocumentTabs, tools: ToolState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tabs, self.tools = tabs, tools
        self.canvas: SpectrogramCanvas | None = None
        self._docs: list[Document] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("Compare with"))
        self.combo = QComboBox()
        self.combo.currentIndexChanged.connect(self._on_choice)
        head.addWidget(self.combo, 1)
        self.read_only_label = QLabel("read-only")
        self.read_only_label.setToolTip("The original as opened: it cannot be edited (copy from it instead)")
        self.read_only_label.setStyleSheet(WARNING_STYLE)
        self.read_only_label.setVisible(False)
        head.addWidget(self.read_only_label)
        layout.addLayout(head)
        self.holder = QVBoxLayout()
        layout.addLayout(self.holder, 1)
        self.on = False
        self.setVisible(False)
        tabs.tabsChanged.connect(self.refresh)

    @property
    def doc(self) -> Document | None:
        return self.canvas.doc if self.canvas is not None else None

    def set_on(self, on: bool) -> None:
        """Show (with the current tab's original unless something else was chosen) or hide the pane."""
        self.on = bool(on)
        self.setVisible(self.on)
        if self.on:
            self.refresh()
            if self.canvas is None:
                self._on_choice(self.combo.currentIndex())
            splitter = self.parentWidget()
            if isinstance(splitter, QSplitter):  # half and half
                half = max(splitter.width() // 2, 200)
                splitter.setSizes([half, half])
        else:
            self.drop_canvas()

    def refresh(self) -> None:
        """Rebuild the choices after tabs opened or closed (keeps the shown document if it is still open)."""
        if not self.on:
            return
        choices = split_choices(self.tabs)
        docs = [doc for _, doc in choices]
        keep = self.doc
        self._docs = docs
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems([label for label, _ in choices])
        if keep is not None and keep in docs:
            self.combo.setCurrentIndex(docs.index(keep))
        self.combo.blockSignals(False)
        if keep is not None and keep not in docs:
            self._on_choice(self.combo.currentIndex())

    def drop_canvas(self) -> None:
        canvas, self.canvas = self.canvas, None
        self.read_only_label.setVisible(False)
        if canvas is not None:
            self.canvasRemoved.emit(canvas)
            canvas.detach()
            canvas.setParent(None)
            canvas.deleteLater()

    def _on_choice(self, index: int) -> None:
        if not self.on:
            return
        self.drop_canvas()
        if 0 <= index < len(self._docs):
            doc = self._docs[index]
            self.canvas = SpectrogramCanvas(doc, self.tools)
            read_only = is_read_only(doc)
            set_read_only = getattr(self.canvas, "set_read_only", None)  # where the canvas offers one
            if callable(set_read_only):
                set_read_only(read_only)
            self.read_only_label.setVisible(read_only)
            self.holder.addWidget(self.canvas)
            self.canvasCreated.emit(self.canvas)
