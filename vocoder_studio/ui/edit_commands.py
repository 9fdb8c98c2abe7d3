"""Edit commands on the active canvas: undo/redo, copy/paste, gain, clear, fade, select none.

A read-only document (the split view's original) refuses every command with a status message; copying from
it is allowed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog

from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain, clear_region, copy_region, fade_region, paste
from vocoder_studio.ui.tabs import READ_ONLY_MESSAGE, is_read_only

if TYPE_CHECKING:
    from vocoder_studio.ui.main_window import MainWindow


class EditCommands(QObject):
    """The Edit menu's commands for ``window``; holds the clipboard (cells copied, ``(bands, frames)``)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.clipboard: np.ndarray | None = None
        self.clip_band0 = 0

    def _editable(self) -> Document | None:
        doc = self.window.active_document()
        if doc is not None and is_read_only(doc):
            self.window.show_status(READ_ONLY_MESSAGE)
            return None
        return doc

    def _selection(self, editing: bool = True) -> tuple[Document, Region] | None:
        doc = self._editable() if editing else self.window.active_document()
        if doc is None:
            return None
        if doc.selection is None or doc.selection.empty:
            self.window.show_status("select a region first (Select tool, S)")
            return None
        return doc, doc.selection

    def _done(self) -> None:
        self.window.update_actions()

    def undo(self) -> None:
        self._history_step(redo=False)

    def redo(self) -> None:
        self._history_step(redo=True)

    def _history_step(self, redo: bool) -> None:
        doc = self._editable()
        if doc is None:
            return
        label = doc.redo_label if redo else doc.undo_label
        if doc.redo() if redo else doc.undo():
            self.window.show_status(f"{'redid' if redo else 'undid'} {label}")
        self._done()  # also for a split-view document, which has no history listener here

    def copy(self) -> None:
        sel = self._selection(editing=False)
        if sel is not None:
            doc, region = sel
            self.clipboard = copy_region(doc, region)
            self.clip_band0 = region.band0
            self.window.show_status(f"copied {self.clipboard.shape[1]} frames × {self.clipboard.shape[0]} bands")
            self._done()

    def paste(self) -> None:
        canvas = self.window.active_canvas()
        if canvas is None or self.clipboard is None or self._editable() is None:
            return
        doc = canvas.doc
        if doc.selection is not None:
            frame0, band0 = doc.selection.frame0, doc.selection.band0
        else:
            frame0, band0 = canvas.cursor_frame, self.clip_band0
        region = paste(doc, self.clipboard, frame0, band0)
        self._done()
        self.window.show_status(f"pasted at {frame0 * doc.config.frame_seconds:.3f} s ({region.cells} cells)")

    def apply_gain_db(self, gain_db: float) -> None:
        sel = self._selection()
        if sel is not None:
            apply_gain(sel[0], sel[1], gain_db)
            self._done()

    def gain_dialog(self) -> None:
        if self.window.show_dialogs and self._selection() is not None:
            value, ok = QInputDialog.getDouble(self.window, "Selection gain", "Gain (dB):", 6.0, -80.0, 80.0, 1)
            if ok:
                self.apply_gain_db(value)

    def clear_selection(self) -> None:
        sel = self._selection()
        if sel is not None:
            clear_region(*sel)
            self._done()

    def fade(self, fade_in: bool) -> None:
        sel = self._selection()
        if sel is not None:
            fade_region(sel[0], sel[1], fade_in)
            self._done()

    def deselect(self) -> None:
        canvas = self.window.active_canvas()
        if canvas is not None:
            canvas.set_selection(None)
